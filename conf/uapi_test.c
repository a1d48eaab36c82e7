/* SPDX-License-Identifier: MIT */
/*
 * Tests of conf/uapi.c. The expected get responses are byte for byte what
 * wireguard-go v0.0.20220316 (Debian's) sent on its UAPI socket after the
 * same configuration was set (peer order aside: Go iterates a map), and
 * the errno values are what it answered to the same bad requests; the
 * merging cases follow what it did with a public key named twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "tests/harness.h"
#include "conf/parse_util.h"
#include "conf/uapi.h"
#include "crypto/secure.h"

/* RFC 7748 section 6.1 keys (used here as any 32 bytes) */
#define PRIV "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define PRIV_UP "77076D0A7318A57D3C16C17251B26645DF4C2F87EBC0992AB177FBA51DB92C2A"
#define PRIV_CLAMPED "70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a"
#define K1 "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define K1_UP "DE9EDB7D7B7DC1B4D35B61C2ECE435373F8343C85B78674DADFC7E146F882B4F"
#define K2 "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define PSK "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define ZERO "0000000000000000000000000000000000000000000000000000000000000000"

static void hex(char out[65], const uint8_t k[32])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", k[i]);
}

/*
 * The delta as one text, every field shown only under its flag, and any
 * value without its flag, or any other flag, shown as "STRAY".
 */
static void describe(char *out, size_t cap, const struct wg_conf_device *d)
{
	static const uint8_t zero[32];
	static const struct wg_endpoint no_ep;
	char h[65], t[WG_CONF_ENDPOINT_STR];
	FILE *f = fmemopen(out, cap, "w");

	fputs("device", f);
	if (d->flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY) {
		hex(h, d->private_key);
		fprintf(f, " private_key=%s", h);
	} else if (memcmp(d->private_key, zero, 32)) {
		fputs(" STRAY", f);
	}
	if (d->flags & WG_CONF_DEVICE_HAS_LISTEN_PORT)
		fprintf(f, " listen_port=%u", d->listen_port);
	else if (d->listen_port)
		fputs(" STRAY", f);
	if (d->flags & WG_CONF_DEVICE_HAS_FWMARK)
		fprintf(f, " fwmark=%u", d->fwmark);
	else if (d->fwmark)
		fputs(" STRAY", f);
	if (d->flags & WG_CONF_DEVICE_REPLACE_PEERS)
		fputs(" replace_peers", f);
	if (d->flags & ~(uint32_t)0xf)
		fputs(" STRAY", f);
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct wg_conf_peer *p = &d->peers[i];

		hex(h, p->public_key);
		fprintf(f, "\npeer %s", h);
		if (p->flags & WG_CONF_PEER_REMOVE_ME)
			fputs(" remove", f);
		if (p->flags & WG_CONF_PEER_UPDATE_ONLY)
			fputs(" update_only", f);
		if (p->flags & WG_CONF_PEER_HAS_PRESHARED_KEY) {
			hex(h, p->preshared_key);
			fprintf(f, " psk=%s", h);
		} else if (memcmp(p->preshared_key, zero, 32)) {
			fputs(" STRAY", f);
		}
		if (p->flags & WG_CONF_PEER_HAS_ENDPOINT) {
			wg_conf_format_endpoint(t, &p->endpoint);
			fprintf(f, " endpoint=%s", t);
		} else if (memcmp(&p->endpoint, &no_ep, sizeof(no_ep))) {
			fputs(" STRAY", f);
		}
		if (p->flags & WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE)
			fprintf(f, " keepalive=%u", p->persistent_keepalive);
		else if (p->persistent_keepalive)
			fputs(" STRAY", f);
		if (p->flags & WG_CONF_PEER_REPLACE_ALLOWEDIPS)
			fputs(" replace_ips", f);
		if (p->flags & ~(uint32_t)0x3f || p->name[0] || p->disabled || p->addresses.n)
			fputs(" STRAY", f);
		for (size_t k = 0; k < p->allowedips.n; k++) {
			wg_conf_format_prefix(t, &p->allowedips.v[k]);
			fprintf(f, "%s%s%s", k ? "," : " ips=",
				p->allowedips.v[k].flags & WG_CONF_PREFIX_REMOVE_ME ? "-" : "", t);
		}
	}
	fclose(f);
}


static int parse(const char *s, struct wg_conf_device *d, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	return wg_uapi_parse_set(s, strlen(s), d, err, errlen);
}

#define SET "set=1\n"

static const struct {
	const char *name, *req, *want;
} good[] = {
	{ "empty", SET "\n", "device" },
	{ "device keys",
	  SET "private_key=" PRIV "\nlisten_port=51820\nfwmark=4660\nreplace_peers=true\n\n",
	  "device private_key=" PRIV " listen_port=51820 fwmark=4660 replace_peers" },
	{ "upper-case hex", SET "private_key=" PRIV_UP "\npublic_key=" K1_UP "\n\n",
	  "device private_key=" PRIV "\npeer " K1 },
	{ "zero private key removes", SET "private_key=" ZERO "\n\n", "device private_key=" ZERO },
	{ "port 0 and fwmark 0", SET "listen_port=0\nfwmark=0\n\n", "device listen_port=0 fwmark=0" },
	{ "largest numbers, leading zeros",
	  SET "listen_port=065535\nfwmark=4294967295\npublic_key=" K1
	      "\npersistent_keepalive_interval=65535\n\n",
	  "device listen_port=65535 fwmark=4294967295\npeer " K1 " keepalive=65535" },
	{ "later device values win", SET "listen_port=1\nlisten_port=2\n\n", "device listen_port=2" },
	{ "every peer key",
	  SET "public_key=" K1 "\nprotocol_version=1\npreshared_key=" PSK
	      "\nendpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n"
	      "replace_allowed_ips=true\nallowed_ip=10.0.0.1/32\nallowed_ip=10.1.0.0/16\n\n",
	  "device\npeer " K1 " psk=" PSK " endpoint=192.0.2.1:51820 keepalive=25 replace_ips "
	  "ips=10.0.0.1/32,10.1.0.0/16" },
	{ "two peers, IPv6",
	  SET "public_key=" K1 "\nendpoint=[2001:db8::1]:443\nallowed_ip=2001:db8:1::/48\n"
	      "public_key=" K2 "\npreshared_key=" ZERO "\nallowed_ip=::/0\nallowed_ip=0.0.0.0/0\n\n",
	  "device\npeer " K1 " endpoint=[2001:db8::1]:443 ips=2001:db8:1::/48\npeer " K2
	  " psk=" ZERO " ips=::/0,0.0.0.0/0" },
	{ "host bits masked",
	  SET "public_key=" K1 "\nallowed_ip=10.9.9.9/24\nallowed_ip=2001:db8::1/32\n"
	      "allowed_ip=192.0.2.255/31\n\n",
	  "device\npeer " K1 " ips=10.9.9.0/24,2001:db8::/32,192.0.2.254/31" },
	{ "allowed IP removal",
	  SET "public_key=" K1 "\nallowed_ip=-10.9.9.9/24\nallowed_ip=10.1.0.0/16\n"
	      "allowed_ip=-2001:db8::/64\n\n",
	  "device\npeer " K1 " ips=-10.9.9.0/24,10.1.0.0/16,-2001:db8::/64" },
	{ "remove", SET "replace_peers=true\npublic_key=" K1 "\nremove=true\n\n",
	  "device replace_peers\npeer " K1 " remove" },
	{ "update_only", SET "public_key=" K1 "\nupdate_only=true\nendpoint=192.0.2.7:7\n\n",
	  "device\npeer " K1 " update_only endpoint=192.0.2.7:7" },
	{ "CRLF lines", SET "listen_port=51820\r\npublic_key=" K1 "\r\n\r\n",
	  "device listen_port=51820\npeer " K1 },
	{ "lines after remove are checked, not applied",
	  SET "public_key=" K1 "\nallowed_ip=10.0.0.0/8\nremove=true\nendpoint=192.0.2.1:1\n"
	      "allowed_ip=10.1.0.0/16\nupdate_only=true\npublic_key=" K2 "\n\n",
	  "device\npeer " K1 " remove\npeer " K2 },
	{ "replace_allowed_ips drops the block's earlier ones",
	  SET "public_key=" K1 "\nallowed_ip=10.0.0.0/8\nreplace_allowed_ips=true\n"
	      "allowed_ip=10.1.0.0/16\n\n",
	  "device\npeer " K1 " replace_ips ips=10.1.0.0/16" },
	/* a public key named twice: merged into its first entry */
	{ "repeat: later scalars win, IPs appended",
	  SET "public_key=" K1 "\nendpoint=192.0.2.1:1\npersistent_keepalive_interval=5\n"
	      "allowed_ip=10.0.0.0/8\npublic_key=" K2 "\npublic_key=" K1
	      "\nendpoint=192.0.2.2:2\npreshared_key=" PSK "\nallowed_ip=10.1.0.0/16\n"
	      "allowed_ip=-10.0.0.0/8\n\n",
	  "device\npeer " K1 " psk=" PSK " endpoint=192.0.2.2:2 keepalive=5 "
	  "ips=10.0.0.0/8,10.1.0.0/16,-10.0.0.0/8\npeer " K2 },
	{ "repeat: later replace drops earlier IPs",
	  SET "public_key=" K1 "\nallowed_ip=10.0.0.0/8\npublic_key=" K1
	      "\nreplace_allowed_ips=true\nallowed_ip=10.1.0.0/16\n\n",
	  "device\npeer " K1 " replace_ips ips=10.1.0.0/16" },
	{ "repeat: later remove wins",
	  SET "public_key=" K1 "\nendpoint=192.0.2.1:1\nallowed_ip=10.0.0.0/8\npublic_key=" K1
	      "\nremove=true\n\n",
	  "device\npeer " K1 " remove" },
	{ "repeat: removed, then created afresh",
	  SET "public_key=" K1 "\nremove=true\npublic_key=" K1 "\nallowed_ip=10.5.0.0/16\n\n",
	  "device\npeer " K1 " psk=" ZERO " keepalive=0 replace_ips ips=10.5.0.0/16" },
	{ "repeat: removed, then update_only: stays removed",
	  SET "public_key=" K1 "\nremove=true\npublic_key=" K1
	      "\nupdate_only=true\nallowed_ip=10.6.0.0/16\n\n",
	  "device\npeer " K1 " remove" },
	{ "repeat: update_only after a creating block is dropped",
	  SET "public_key=" K1 "\nallowed_ip=10.7.0.0/16\npublic_key=" K1
	      "\nupdate_only=true\nreplace_allowed_ips=true\nallowed_ip=10.8.0.0/16\n\n",
	  "device\npeer " K1 " replace_ips ips=10.8.0.0/16" },
	{ "repeat: update_only in both blocks stays",
	  SET "public_key=" K1 "\nupdate_only=true\nallowed_ip=10.7.0.0/16\npublic_key=" K1
	      "\nupdate_only=true\nallowed_ip=10.8.0.0/16\n\n",
	  "device\npeer " K1 " update_only ips=10.7.0.0/16,10.8.0.0/16" },
	{ "repeat: upper and lower case are one key",
	  SET "public_key=" K1 "\nallowed_ip=10.0.0.0/8\npublic_key=" K1_UP
	      "\nallowed_ip=10.1.0.0/16\n\n",
	  "device\npeer " K1 " ips=10.0.0.0/8,10.1.0.0/16" },
};

static void test_good(void)
{
	struct wg_conf_device d, back;
	char err[256], got[2048], *text;
	size_t tlen;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int ret = parse(good[i].req, &d, err, sizeof(err));

		CHECK_MSG(ret == 0, "%s: %d %s", good[i].name, ret, err);
		if (ret)
			continue;
		CHECK_MSG(err[0] == '\0', "%s", good[i].name);
		describe(got, sizeof(got), &d);
		CHECK_MSG(!strcmp(got, good[i].want), "%s:\n got  %s\n want %s", good[i].name, got,
			  good[i].want);

		/* as wg(8) would send it: parses back to the same delta */
		text = NULL;
		FILE *f = open_memstream(&text, &tlen);
		CHECK(wg_uapi_write_set(f, &d) == 0);
		fclose(f);
		CHECK(wg_uapi_request_len(text, tlen) == tlen);
		memset(&back, 0, sizeof(back));
		ret = wg_uapi_parse_set(text, tlen, &back, err, sizeof(err));
		CHECK_MSG(ret == 0 && wg_conf_device_equal(&d, &back), "%s: written back:\n%s", good[i].name,
			  text);
		free(text);
		wg_conf_device_free(&back);
		wg_conf_device_free(&d);
		CHECK(wg_secure_is_zero(&d, sizeof(d)));
	}
}

static const struct {
	const char *name, *req;
	int ret;
	unsigned line;
	const char *says; /* in the message */
} bad[] = {
	{ "a get", "get=1\n\n", -EPROTO, 1, "set=1" },
	{ "empty", "", -EPROTO, 1, "set=1" },
	{ "op with CR", "set=1\r\n\n", -EPROTO, 1, "set=1" },
	{ "upper-case op", "SET=1\n\n", -EPROTO, 1, "set=1" },
	{ "no empty line", SET, -EPROTO, 2, "empty line" },
	{ "no empty line after a key", SET "listen_port=1\n", -EPROTO, 3, "empty line" },
	{ "no newline", SET "listen_port=1", -EPROTO, 2, "empty line" },
	{ "bytes after the end", SET "\nget=1\n\n", -EPROTO, 2, "after the empty line" },
	{ "no =", SET "listen_port\n\n", -EPROTO, 2, "'='" },
	{ "a key without =", SET PRIV "\n\n", -EPROTO, 2, "'='" },
	{ "peer key first", SET "endpoint=192.0.2.1:1\n\n", -EINVAL, 2, "endpoint" },
	{ "allowed_ip first", SET "listen_port=1\nallowed_ip=10.0.0.0/8\n\n", -EINVAL, 3,
	  "allowed_ip" },
	{ "device key after a peer", SET "public_key=" K1 "\nlisten_port=1\n\n", -EINVAL, 3,
	  "listen_port" },
	{ "unknown device key", SET "foo=1\n\n", -EINVAL, 2, "foo" },
	{ "unknown peer key", SET "public_key=" K1 "\nallowed_ips=10.0.0.0/8\n\n", -EINVAL, 3,
	  "allowed_ips" },
	{ "upper-case key", SET "LISTEN_PORT=1\n\n", -EINVAL, 2, "device key" },
	{ "get key in a set", SET "public_key=" K1 "\ntx_bytes=1\n\n", -EINVAL, 3, "tx_bytes" },
	{ "empty key", SET "=1\n\n", -EINVAL, 2, "device key" },
	{ "secret as a key name", SET PRIV "=1\n\n", -EINVAL, 2, "not shown" },
	{ "protocol_version=2", SET "public_key=" K1 "\nprotocol_version=2\n\n", -EINVAL, 3,
	  "protocol_version" },
	{ "protocol_version=01", SET "public_key=" K1 "\nprotocol_version=01\n\n", -EINVAL, 3,
	  "protocol_version" },
	{ "listen_port 65536", SET "listen_port=65536\n\n", -EINVAL, 2, "`65536'" },
	{ "listen_port -1", SET "listen_port=-1\n\n", -EINVAL, 2, "listen_port" },
	{ "listen_port +1", SET "listen_port=+1\n\n", -EINVAL, 2, "listen_port" },
	{ "listen_port space", SET "listen_port= 1\n\n", -EINVAL, 2, "listen_port" },
	{ "listen_port empty", SET "listen_port=\n\n", -EINVAL, 2, "listen_port" },
	{ "listen_port huge", SET "listen_port=99999999999999999999999\n\n", -EINVAL, 2,
	  "listen_port" },
	{ "fwmark 2^32", SET "fwmark=4294967296\n\n", -EINVAL, 2, "fwmark" },
	{ "fwmark hex", SET "fwmark=0x10\n\n", -EINVAL, 2, "fwmark" },
	{ "keepalive 65536", SET "public_key=" K1 "\npersistent_keepalive_interval=65536\n\n",
	  -EINVAL, 3, "persistent_keepalive_interval" },
	{ "replace_peers=false", SET "replace_peers=false\n\n", -EINVAL, 2, "replace_peers" },
	{ "replace_peers=TRUE", SET "replace_peers=TRUE\n\n", -EINVAL, 2, "replace_peers" },
	{ "remove=1", SET "public_key=" K1 "\nremove=1\n\n", -EINVAL, 3, "remove" },
	{ "update_only=false", SET "public_key=" K1 "\nupdate_only=false\n\n", -EINVAL, 3,
	  "update_only" },
	{ "replace_allowed_ips=yes", SET "public_key=" K1 "\nreplace_allowed_ips=yes\n\n", -EINVAL,
	  3, "replace_allowed_ips" },
	{ "private key bad digit", SET "private_key=7707x" PRIV "\n\n", -EINVAL, 2, "private_key" },
	{ "private key too long", SET "private_key=" PRIV "00\n\n", -EINVAL, 2, "private_key" },
	{ "private key base64",
	  SET "private_key=dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n\n", -EINVAL, 2,
	  "private_key" },
	{ "private key empty", SET "private_key=\n\n", -EINVAL, 2, "private_key" },
	{ "preshared key bad", SET "public_key=" K1 "\npreshared_key=" PSK "0\n\n", -EINVAL, 3,
	  "preshared_key" },
	{ "preshared key space", SET "public_key=" K1 "\npreshared_key= " PSK "\n\n", -EINVAL, 3,
	  "preshared_key" },
	{ "public key short", SET "public_key=" PRIV "\npublic_key=abc\n\n", -EINVAL, 3,
	  "public_key" },
	{ "public key prefix", SET "public_key=0x" PRIV "\n\n", -EINVAL, 2, "public_key" },
	{ "/33", SET "public_key=" K1 "\nallowed_ip=10.0.0.0/33\n\n", -EINVAL, 3, "10.0.0.0/33" },
	{ "/129", SET "public_key=" K1 "\nallowed_ip=2001:db8::/129\n\n", -EINVAL, 3, "/129" },
	{ "no cidr", SET "public_key=" K1 "\nallowed_ip=10.9.9.9\n\n", -EINVAL, 3, "10.9.9.9" },
	{ "bare -", SET "public_key=" K1 "\nallowed_ip=-\n\n", -EINVAL, 3, "allowed_ip" },
	{ "double -", SET "public_key=" K1 "\nallowed_ip=--10.0.0.0/8\n\n", -EINVAL, 3,
	  "allowed_ip" },
	{ "cidr twice", SET "public_key=" K1 "\nallowed_ip=10.0.0.0/8/8\n\n", -EINVAL, 3,
	  "allowed_ip" },
	{ "zone", SET "public_key=" K1 "\nallowed_ip=fe80::1%eth0/64\n\n", -EINVAL, 3,
	  "allowed_ip" },
	{ "five octets", SET "public_key=" K1 "\nallowed_ip=1.2.3.4.5/32\n\n", -EINVAL, 3,
	  "allowed_ip" },
	{ "endpoint without port", SET "public_key=" K1 "\nendpoint=192.0.2.1\n\n", -EINVAL, 3,
	  "endpoint" },
	{ "endpoint v6 unbracketed", SET "public_key=" K1 "\nendpoint=2001:db8::1:51820\n\n",
	  -EINVAL, 3, "endpoint" },
	{ "endpoint v6 no port", SET "public_key=" K1 "\nendpoint=[2001:db8::1]\n\n", -EINVAL, 3,
	  "endpoint" },
	{ "endpoint name", SET "public_key=" K1 "\nendpoint=localhost:51820\n\n", -EINVAL, 3,
	  "localhost" },
	{ "endpoint port 0", SET "public_key=" K1 "\nendpoint=192.0.2.1:0\n\n", -EINVAL, 3,
	  "endpoint" },
	{ "endpoint port 65536", SET "public_key=" K1 "\nendpoint=192.0.2.1:65536\n\n", -EINVAL,
	  3, "endpoint" },
	{ "error after remove is still an error",
	  SET "public_key=" K1 "\nremove=true\nendpoint=nonsense\n\n", -EINVAL, 4, "endpoint" },
	{ "error on a later line keeps secrets",
	  SET "private_key=" PRIV "\npublic_key=" K1 "\npreshared_key=" PSK "\nfwmark=x\n\n",
	  -EINVAL, 5, "fwmark" },
};

static void check_no_secret(const char *err, const char *name)
{
	static const char *const secrets[] = { PRIV, PRIV_UP, PSK };

	for (size_t s = 0; s < sizeof(secrets) / sizeof(secrets[0]); s++) {
		/* no 16-digit run of a secret, anywhere */
		for (size_t o = 0; o + 16 <= 64; o += 8) {
			char run[17];

			memcpy(run, secrets[s] + o, 16);
			run[16] = '\0';
			CHECK_MSG(!strstr(err, run), "%s: message shows key material: %s", name, err);
		}
	}
}

static void check_bad(const char *name, const char *req, size_t len, int want, unsigned line,
		      const char *says)
{
	struct wg_conf_device d;
	char err[512], prefix[32];
	int ret;

	memset(&d, 0, sizeof(d));
	ret = wg_uapi_parse_set(req, len, &d, err, sizeof(err));
	CHECK_MSG(ret == want, "%s: got %d, want %d (%s)", name, ret, want, err);
	CHECK_MSG(wg_secure_is_zero(&d, sizeof(d)), "%s: *out was touched", name);
	snprintf(prefix, sizeof(prefix), "line %u: ", line);
	CHECK_MSG(!strncmp(err, prefix, strlen(prefix)), "%s: `%s' does not start with `%s'", name,
		  err, prefix);
	CHECK_MSG(!says || strstr(err, says), "%s: `%s' does not name `%s'", name, err, says);
	CHECK_MSG(!strchr(err, '\n'), "%s: more than one line", name);
	check_no_secret(err, name);
	if (ret == 0)
		wg_conf_device_free(&d);
}

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_bad(bad[i].name, bad[i].req, strlen(bad[i].req), bad[i].ret, bad[i].line,
			  bad[i].says);
}

static void test_bad_keys_never_shown(void)
{
	char req[256];
	const char *keys[] = { "private_key", "preshared_key", "public_key" };

	/* every key, cut, lengthened or with one bad digit: never echoed */
	for (size_t k = 0; k < 3; k++) {
		for (int form = 0; form < 3; form++) {
			char v[80];

			snprintf(v, sizeof(v), "%s", form == 2 ? PRIV "f" : PRIV);
			if (form == 0)
				v[63] = '\0';
			if (form == 1)
				v[10] = 'g';
			snprintf(req, sizeof(req), SET "%s%s=%s\n\n",
				 k == 1 ? "public_key=" K1 "\n" : "", keys[k], v);
			check_bad(keys[k], req, strlen(req), -EINVAL, k == 1 ? 3 : 2, keys[k]);
		}
	}
}

static void test_garbage(void)
{
	char *big;
	size_t n;
	struct wg_conf_device d;
	char err[128];

	/* NUL bytes: in a value, in a key, in the first line */
	check_bad("NUL in value", SET "listen_port=1\0" "2\n\n", sizeof(SET "listen_port=1\0" "2\n\n") - 1,
		  -EINVAL, 2, "NUL");
	check_bad("NUL in key", SET "listen\0port=1\n\n", sizeof(SET "listen\0port=1\n\n") - 1,
		  -EINVAL, 2, "NUL");
	check_bad("NUL line", SET "\0\n\n", sizeof(SET "\0\n\n") - 1, -EINVAL, 2, "NUL");
	check_bad("NUL in op", "set=1\0\n\n", 8, -EPROTO, 1, "set=1");
	check_bad("only NULs", "\0\0\0\0\0\0\0\0", 8, -EPROTO, 1, NULL);

	/* a line of 4096 bytes is read (and rejected for its value), 4097 is too long */
	big = malloc(8192);
	if (!big) {
		CHECK(0);
		return;
	}
	for (size_t extra = 0; extra < 2; extra++) {
		n = (size_t)sprintf(big, SET "public_key=" K1 "\nallowed_ip=");
		memset(big + n, '1', 4096 - strlen("allowed_ip=") + extra);
		n += 4096 - strlen("allowed_ip=") + extra;
		memcpy(big + n, "\n\n", 2);
		check_bad(extra ? "4097 bytes" : "4096 bytes", big, n + 2, -EINVAL, 3,
			  extra ? "longer than 4096" : "Unable to parse allowed_ip");
	}
	/* bytes 1..255 everywhere: never a crash, never success without the end */
	for (int c = 1; c < 256; c++) {
		n = (size_t)sprintf(big, SET);
		for (int i = 0; i < 300; i++)
			big[n++] = (char)(i % 7 == 3 ? '\n' : c);
		memset(&d, 0, sizeof(d));
		if (wg_uapi_parse_set(big, n, &d, err, sizeof(err)) == 0)
			wg_conf_device_free(&d);
		CHECK(wg_uapi_request_len(big, n) <= n);
	}
	free(big);

	/* tiny or no error buffer */
	memset(&d, 0, sizeof(d));
	CHECK(wg_uapi_parse_set(SET "foo=1\n\n", 12, &d, NULL, 0) == -EINVAL);
	CHECK(wg_uapi_parse_set(SET "foo=1\n\n", 12, &d, err, 5) == -EINVAL);
	CHECK(strlen(err) == 4);
	CHECK(wg_uapi_parse_set("x", 1, &d, err, 1) == -EPROTO && err[0] == '\0');
}

static void test_request_framing(void)
{
	static const struct {
		const char *buf;
		size_t len; /* 0: strlen */
		size_t want;
		enum wg_uapi_op op;
	} cases[] = {
		{ "get=1\n\n", 0, 7, WG_UAPI_GET },
		{ "get=1\n", 0, 0, WG_UAPI_GET },
		{ "get=1\n\nget=1\n\n", 0, 7, WG_UAPI_GET },
		{ "set=1\nlisten_port=1\n\nget=1\n\n", 0, 21, WG_UAPI_SET },
		{ "set=1\nlisten_port=1\n", 0, 0, WG_UAPI_SET },
		{ "set=1\r\n\r\n", 0, 9, WG_UAPI_INVALID },
		{ "\n", 0, 1, WG_UAPI_INVALID },
		{ "", 0, 0, WG_UAPI_INVALID },
		{ "get=1", 0, 0, WG_UAPI_INVALID },
		{ "get=2\n\n", 0, 7, WG_UAPI_INVALID },
		{ "GET=1\n\n", 0, 7, WG_UAPI_INVALID },
		{ "get=1 \n\n", 0, 8, WG_UAPI_INVALID },
		{ "x\0y\n\n", 5, 5, WG_UAPI_INVALID },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].buf);

		CHECK_MSG(wg_uapi_request_len(cases[i].buf, len) == cases[i].want, "case %zu", i);
		CHECK_MSG(wg_uapi_op(cases[i].buf, len) == cases[i].op, "case %zu", i);
	}
	CHECK(wg_uapi_parse_get("get=1\n\n", 7) == 0);
	CHECK(wg_uapi_parse_get("get=1\nx\n\n", 9) == -EINVAL);
	CHECK(wg_uapi_parse_get("get=1\n\r\n", 8) == -EINVAL);
	CHECK(wg_uapi_parse_get("get=1\n", 6) == -EINVAL);
	CHECK(wg_uapi_parse_get("set=1\n\n", 7) == -EINVAL);
}

/* wireguard-go v0.0.20220316's reply to get=1 after the set in test_writers */
static const char wgo_get[] =
	"private_key=" PRIV_CLAMPED "\n"
	"listen_port=51820\n"
	"fwmark=4660\n"
	"public_key=" K1 "\n"
	"preshared_key=" PSK "\n"
	"protocol_version=1\n"
	"endpoint=192.0.2.1:51820\n"
	"last_handshake_time_sec=0\n"
	"last_handshake_time_nsec=0\n"
	"tx_bytes=0\n"
	"rx_bytes=0\n"
	"persistent_keepalive_interval=25\n"
	"allowed_ip=10.0.0.1/32\n"
	"allowed_ip=10.1.0.0/16\n"
	"public_key=" K2 "\n"
	"preshared_key=" ZERO "\n"
	"protocol_version=1\n"
	"endpoint=[2001:db8::1]:443\n"
	"last_handshake_time_sec=0\n"
	"last_handshake_time_nsec=0\n"
	"tx_bytes=0\n"
	"rx_bytes=0\n"
	"persistent_keepalive_interval=0\n"
	"allowed_ip=2001:db8:1::/48\n"
	"allowed_ip=10.2.0.0/15\n"
	"errno=0\n"
	"\n";

/* the set request that configured wireguard-go for wgo_get */
static const char wgo_set[] = SET "private_key=" PRIV "\nlisten_port=51820\nfwmark=4660\n"
				  "public_key=" K1 "\npreshared_key=" PSK "\n"
				  "endpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n"
				  "allowed_ip=10.0.0.1/32\nallowed_ip=10.1.0.0/16\n"
				  "public_key=" K2 "\nendpoint=[2001:db8::1]:443\n"
				  "allowed_ip=2001:db8:1::/48\nallowed_ip=10.2.0.0/15\n\n";

/* what a device holds after wgo_set: the private key clamped as noise.c stores it */
static int state_from_set(struct wg_conf_device *d)
{
	int ret = parse(wgo_set, d, NULL, 0);

	if (!ret)
		wg_test_unhex(d->private_key, 32, PRIV_CLAMPED);
	return ret;
}

static char *get_text(const struct wg_conf_device *d, const struct wg_uapi_peer_stats *st,
		      size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	CHECK(wg_uapi_write_device(f, d) == 0);
	for (size_t i = 0; i < d->n_peers; i++)
		CHECK(wg_uapi_write_peer(f, &d->peers[i], st ? &st[i] : NULL) == 0);
	CHECK(wg_uapi_write_errno(f, 0) == 0);
	fclose(f);
	return text;
}

static void test_writers(void)
{
	struct wg_conf_device d;
	struct wg_conf_prefix extra = { .family = AF_INET, .cidr = 8, .flags = WG_CONF_PREFIX_REMOVE_ME,
					.addr = { 10 } };
	struct wg_uapi_peer_stats st[2] = {
		{ 1700000000, 123456789, 5678, 1234 },
		{ UINT64_MAX, 999999999, 0, UINT64_MAX },
	};
	char *text, *p;
	size_t len;

	CHECK(state_from_set(&d) == 0);
	text = get_text(&d, NULL, &len);
	CHECK_MSG(len == strlen(wgo_get) && !strcmp(text, wgo_get), "got:\n%s", text);
	free(text);

	/* the stats lines, in wireguard-go's order (tx before rx) */
	text = get_text(&d, st, &len);
	p = strstr(text, "last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=123456789\n"
			 "tx_bytes=1234\nrx_bytes=5678\npersistent_keepalive_interval=25\n");
	CHECK(p != NULL);
	CHECK(strstr(text, "last_handshake_time_sec=18446744073709551615\n"
			   "last_handshake_time_nsec=999999999\ntx_bytes=18446744073709551615\n"
			   "rx_bytes=0\n"));
	free(text);

	/* what is left out: zero key or no HAS_PRIVATE_KEY, port 0, fwmark 0, no
	 * endpoint, allowed IP removals; the preshared key is always there */
	d.listen_port = 0;
	d.fwmark = 0;
	d.flags &= ~(uint32_t)WG_CONF_DEVICE_HAS_PRIVATE_KEY;
	memset(&d.peers[0].endpoint, 0, sizeof(d.peers[0].endpoint));
	CHECK(wg_conf_prefixes_add(&d.peers[0].allowedips, &extra) == 0);
	d.n_peers = 1;
	text = get_text(&d, NULL, &len);
	CHECK_MSG(!strcmp(text, "public_key=" K1 "\npreshared_key=" PSK "\nprotocol_version=1\n"
				"last_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\n"
				"rx_bytes=0\npersistent_keepalive_interval=25\n"
				"allowed_ip=10.0.0.1/32\nallowed_ip=10.1.0.0/16\nerrno=0\n\n"),
		  "got:\n%s", text);
	free(text);
	d.flags |= WG_CONF_DEVICE_HAS_PRIVATE_KEY;
	memset(d.private_key, 0, 32);
	d.n_peers = 0;
	text = get_text(&d, NULL, &len);
	CHECK(!strcmp(text, "errno=0\n\n"));
	free(text);
	d.n_peers = 2;
	wg_conf_device_free(&d);
}

static void test_write_errno(void)
{
	static const struct {
		int err;
		const char *want;
	} cases[] = {
		{ 0, "errno=0\n\n" },
		{ -EINVAL, "errno=-22\n\n" },  /* ipc.IpcErrorInvalid */
		{ -EPROTO, "errno=-71\n\n" },  /* ipc.IpcErrorProtocol */
		{ -EADDRINUSE, "errno=-98\n\n" }, /* ipc.IpcErrorPortInUse */
		{ -EIO, "errno=-5\n\n" },      /* ipc.IpcErrorIO */
		{ EINVAL, "errno=-22\n\n" },   /* positive: negated */
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fmemopen(buf, sizeof(buf), "w");

		CHECK(wg_uapi_write_errno(f, cases[i].err) == 0);
		fclose(f);
		CHECK_MSG(!strcmp(buf, cases[i].want), "%d: %s", cases[i].err, buf);
	}
	/* a stream that fails */
	FILE *f = fmemopen(buf, 4, "w");
	setvbuf(f, NULL, _IONBF, 0);
	CHECK(wg_uapi_write_errno(f, -EINVAL) == -EIO);
	fclose(f);
}

/* a get reply as a set request: drop the read-only lines and the errno */
static char *get_to_set(const char *get, size_t *len)
{
	static const char *const drop[] = { "last_handshake_time_sec=", "last_handshake_time_nsec=",
					    "tx_bytes=", "rx_bytes=", "errno=" };
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	fputs(SET, f);
	for (const char *l = get; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) + 1 : strlen(l);
		bool keep = n > 1;

		for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
			if (!strncmp(l, drop[i], strlen(drop[i])))
				keep = false;
		if (keep)
			fwrite(l, 1, n, f);
		l += n;
	}
	fputc('\n', f);
	fclose(f);
	return out;
}

static void test_roundtrip(void)
{
	struct wg_conf_device d, back;
	char err[256], *get, *set;
	size_t glen, slen;
	int ret;

	CHECK(state_from_set(&d) == 0);
	get = get_text(&d, NULL, &glen);
	set = get_to_set(get, &slen);
	memset(&back, 0, sizeof(back));
	ret = wg_uapi_parse_set(set, slen, &back, err, sizeof(err));
	CHECK_MSG(ret == 0, "%s\n%s", err, set);
	CHECK_MEM(back.private_key, d.private_key, 32);
	CHECK(back.listen_port == d.listen_port && back.fwmark == d.fwmark);
	CHECK(back.n_peers == d.n_peers);
	for (size_t i = 0; i < d.n_peers && i < back.n_peers; i++) {
		const struct wg_conf_peer *a = &d.peers[i], *b = &back.peers[i];

		CHECK_MEM(a->public_key, b->public_key, 32);
		CHECK_MEM(a->preshared_key, b->preshared_key, 32);
		CHECK(wg_endpoint_equal(&a->endpoint, &b->endpoint));
		CHECK(a->persistent_keepalive == b->persistent_keepalive);
		CHECK(a->allowedips.n == b->allowedips.n);
		CHECK(a->allowedips.n == b->allowedips.n &&
		      !memcmp(a->allowedips.v, b->allowedips.v, a->allowedips.n * sizeof(*a->allowedips.v)));
	}
	free(get);
	free(set);
	wg_conf_device_free(&back);
	wg_conf_device_free(&d);
}

static void test_device_free(void)
{
	struct wg_conf_device d;

	wg_conf_device_free(NULL);
	CHECK(parse(wgo_set, &d, NULL, 0) == 0);
	CHECK(d.n_peers == 2);
	wg_conf_device_free(&d);
	CHECK(wg_secure_is_zero(&d, sizeof(d)));
	wg_conf_device_free(&d); /* twice is fine: it is empty */
}

int main(void)
{
	TEST_BEGIN("conf/uapi_test");
	RUN_TEST(test_good);
	RUN_TEST(test_bad);
	RUN_TEST(test_bad_keys_never_shown);
	RUN_TEST(test_garbage);
	RUN_TEST(test_request_framing);
	RUN_TEST(test_writers);
	RUN_TEST(test_write_errno);
	RUN_TEST(test_roundtrip);
	RUN_TEST(test_device_free);
	return TEST_END();
}
