/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the JSON codec of the REST bodies and the state file
 * records (conf/model_json.c). The input is loaded as the REST layer loads
 * a body (duplicate members refused) and handed to wg_json_to_peer and
 * wg_json_to_interface in every mode (CREATE, PATCH, STATE). Each call
 * either fails with -EINVAL, -ENOENT, -EROFS or -ENOMEM, a one-line
 * message in UTF-8 (the API sends it in JSON) and all outputs zero, or
 * parses; what parses must
 *   - hold only allowed IPs with the host bits zero, and
 *   - be written by wg_json_from_peer / wg_json_from_interface with
 *     WG_JSON_SECRETS (what the state file holds) and parse back in STATE
 *     mode to the same keys, endpoint, keepalive, name, enabled flag,
 *     allowed IPs and addresses (lists in order: the writer keeps it), or
 *     the same device fields, addresses and pools.
 * A peer without a public key (CREATE lets the caller generate one, PATCH
 * names it in the URL) is refused in STATE mode as "public_key: missing";
 * it is checked with a fixed key put in, as the caller would.
 *
 * The first input byte picks a prefix put before the rest (bits 0-2), so
 * the fuzzer starts from the objects the API and the state file use
 * instead of rediscovering the field names and value syntax: none, "{",
 * a public key, allowed IPs, a complete state peer record (without its
 * closing brace), a complete state interface record, an endpoint and a
 * name opened. fuzz.sh runs every target from an empty corpus; these are
 * the seeds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "conf/model_json.h"
#include "conf/parse_util.h"

#define MAX_INPUT (64u << 10) /* REST bodies are smaller: no use in feeding megabytes */
#define ERRLEN 512

#define KEY "SYD6N7dcEh1AHJRF6lwfK5Vl3hYR5Rb+k+KAm5ErSVI="
#define KEY2 "8B3P4I0Zm/DXDUXKZGqhSm0w6pFKjKJF43bSUhBNwl0="

static const char *const prefixes[] = {
	"",
	"{",
	"{\"public_key\":\"" KEY "\",",
	"{\"allowed_ips\":[\"10.0.0.0/8\",\"fd00::/8\",",
	"{\"public_key\":\"" KEY "\",\"name\":\"laptop\",\"enabled\":true,"
	"\"endpoint\":\"[2001:db8::1]:51820\",\"persistent_keepalive\":25,"
	"\"allowed_ips\":[\"10.7.0.2/32\",\"fd00:7::2/128\",\"192.168.0.0/16\"],"
	"\"addresses\":[\"10.7.0.2/32\",\"fd00:7::2/128\"],\"preshared_key\":\"" KEY2 "\","
	"\"client_private_key\":\"" KEY2 "\"",
	"{\"listen_port\":51820,\"fwmark\":0,\"addresses\":[\"10.7.0.1/16\",\"fd00:7::1/64\"],"
	"\"address_pools\":[\"10.7.0.0/16\",\"fd00:7::/64\"],\"private_key\":\"" KEY2 "\"",
	"{\"endpoint\":\"",
	"{\"name\":\"",
};

static const enum wg_json_mode modes[] = { WG_JSON_CREATE, WG_JSON_PATCH, WG_JSON_STATE };

static bool is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* a failed parse: a known error, a one-line message (in the buffer) */
static void check_error(int ret, const char *err)
{
	json_t *msg;

	if (ret != -EINVAL && ret != -ENOENT && ret != -EROFS && ret != -ENOMEM) {
		fprintf(stderr, "unexpected return %d (%s)\n", ret, err);
		abort();
	}
	if (!memchr(err, '\0', ERRLEN) || !err[0] || strchr(err, '\n')) {
		fprintf(stderr, "bad error message for %d: `%.*s'\n", ret, ERRLEN, err);
		abort();
	}
	/* the API sends it as a JSON string (wg_api_error): must be UTF-8 */
	msg = json_string(err);
	if (!msg) {
		fprintf(stderr, "error message for %d is not UTF-8: `%s'\n", ret, err);
		abort();
	}
	json_decref(msg);
}

static bool same_prefixes(const struct wg_conf_prefixes *a, const struct wg_conf_prefixes *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].family != b->v[i].family || a->v[i].cidr != b->v[i].cidr ||
		    memcmp(a->v[i].addr, b->v[i].addr, 16) || b->v[i].flags)
			return false;
	return true;
}

/* every prefix a network (host bits zero) of a known family */
static void check_networks(const struct wg_conf_prefixes *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct wg_conf_prefix m = l->v[i];

		if ((m.family != AF_INET && m.family != AF_INET6) ||
		    m.cidr > (m.family == AF_INET ? 32 : 128) || wg_conf_prefix_mask(&m) ||
		    (m.family == AF_INET && !is_zero(m.addr + 4, 12)))
			abort();
	}
}

static void dump_fail(const char *what, json_t *o, const char *err)
{
	char *s = json_dumps(o, JSON_COMPACT);

	fprintf(stderr, "%s: %s\n%s\n", what, err ? err : "", s ? s : "(null)");
	free(s);
	abort();
}

/* written with secrets, p parses in STATE mode to the same peer */
static void roundtrip_peer(const struct wg_conf_peer *p)
{
	struct wg_conf_peer back;
	bool ep = (p->flags & WG_CONF_PEER_HAS_ENDPOINT) && p->endpoint.family;
	char err[ERRLEN];
	json_t *o = wg_json_from_peer(p, WG_JSON_SECRETS);
	int ret;

	if (!o)
		abort(); /* no ENOMEM here: what parsed must be writable */
	memset(&back, 0, sizeof(back));
	ret = wg_json_to_peer(o, WG_JSON_STATE, &back, NULL, err, sizeof(err));
	if (is_zero(p->public_key, WG_KEY_LEN)) {
		if (ret != -EINVAL || strcmp(err, "public_key: missing") || !is_zero(&back, sizeof(back)))
			dump_fail("a peer without a public key is not refused as such", o, err);
		json_decref(o);
		return;
	}
	if (ret)
		dump_fail("written peer does not parse in STATE mode", o, err);
	if (memcmp(p->public_key, back.public_key, WG_KEY_LEN) ||
	    memcmp(p->preshared_key, back.preshared_key, WG_KEY_LEN) ||
	    memcmp(p->client_private_key, back.client_private_key, WG_KEY_LEN) ||
	    (ep ? !(back.flags & WG_CONF_PEER_HAS_ENDPOINT) || !wg_endpoint_equal(&p->endpoint, &back.endpoint)
		: (back.flags & WG_CONF_PEER_HAS_ENDPOINT) || back.endpoint.family) ||
	    p->persistent_keepalive != back.persistent_keepalive || strcmp(p->name, back.name) ||
	    p->disabled != back.disabled || !same_prefixes(&p->allowedips, &back.allowedips) ||
	    !same_prefixes(&p->addresses, &back.addresses))
		dump_fail("written peer parses to something else", o, NULL);
	json_decref(o);
	wg_conf_peer_free(&back);
}

static void check_peer(const json_t *j, enum wg_json_mode mode)
{
	struct wg_conf_peer p;
	char err[ERRLEN];
	bool gen = true;
	int ret;

	memset(&p, 0, sizeof(p));
	memset(err, 'x', sizeof(err));
	ret = wg_json_to_peer(j, mode, &p, &gen, err, sizeof(err));
	if (ret) {
		check_error(ret, err);
		if (gen || !is_zero(&p, sizeof(p)))
			abort();
		return;
	}
	if (!memchr(err, '\0', sizeof(err)) || err[0])
		abort();
	if (gen && mode == WG_JSON_STATE)
		abort();
	if (mode == WG_JSON_PATCH && !is_zero(p.public_key, WG_KEY_LEN))
		abort();
	if (mode != WG_JSON_STATE && !is_zero(p.client_private_key, WG_KEY_LEN))
		abort();
	check_networks(&p.allowedips);
	for (size_t i = 0; i < p.addresses.n; i++)
		if (p.addresses.v[i].cidr != (p.addresses.v[i].family == AF_INET ? 32 : 128))
			abort();
	roundtrip_peer(&p);
	if (is_zero(p.public_key, WG_KEY_LEN)) {
		/* as the API does: it names or generates the key */
		memset(p.public_key, 0x5a, WG_KEY_LEN);
		roundtrip_peer(&p);
	}
	/* a NULL generate_psk: "generate" is then just a bad key */
	wg_conf_peer_free(&p);
	ret = wg_json_to_peer(j, mode, &p, NULL, err, sizeof(err));
	if (ret)
		check_error(ret, err);
	wg_conf_peer_free(&p);
}

static void free_inside(struct wg_conf_inside *in)
{
	free(in->addresses.v);
	free(in->pools.v);
	memset(in, 0, sizeof(*in));
}

/* written with secrets, (d, in) parses in STATE mode to the same interface */
static void roundtrip_interface(const struct wg_conf_device *d, const struct wg_conf_inside *in)
{
	struct wg_conf_device bd;
	struct wg_conf_inside bi;
	char err[ERRLEN];
	json_t *o = wg_json_from_interface(d, in, WG_JSON_SECRETS);
	bool key = d->flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY;

	if (!o)
		abort();
	memset(&bd, 0, sizeof(bd));
	memset(&bi, 0, sizeof(bi));
	if (wg_json_to_interface(o, WG_JSON_STATE, &bd, &bi, NULL, err, sizeof(err)))
		dump_fail("written interface does not parse in STATE mode", o, err);
	if (bd.listen_port != d->listen_port || bd.fwmark != d->fwmark ||
	    !!(bd.flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY) != key ||
	    (key && memcmp(bd.private_key, d->private_key, WG_KEY_LEN)) ||
	    !same_prefixes(&bi.addresses, &in->addresses) || !same_prefixes(&bi.pools, &in->pools))
		dump_fail("written interface parses to something else", o, NULL);
	json_decref(o);
	wg_conf_device_free(&bd);
	free_inside(&bi);
}

static void check_interface(const json_t *j, enum wg_json_mode mode)
{
	struct wg_conf_device d;
	struct wg_conf_inside in;
	char err[ERRLEN];
	bool gen = true;
	int ret;

	memset(&d, 0, sizeof(d));
	memset(&in, 0, sizeof(in));
	memset(err, 'x', sizeof(err));
	ret = wg_json_to_interface(j, mode, &d, &in, &gen, err, sizeof(err));
	if (ret) {
		check_error(ret, err);
		if (gen || !is_zero(&d, sizeof(d)) || !is_zero(&in, sizeof(in)))
			abort();
		return;
	}
	if (!memchr(err, '\0', sizeof(err)) || err[0])
		abort();
	if ((gen && mode == WG_JSON_STATE) || d.n_peers || d.peers)
		abort();
	if (mode != WG_JSON_STATE && (d.flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY) && !gen &&
	    is_zero(d.private_key, WG_KEY_LEN))
		abort();
	check_networks(&in.pools);
	if (in.pools.n > 2 || (in.pools.n == 2 && in.pools.v[0].family == in.pools.v[1].family))
		abort();
	roundtrip_interface(&d, &in);
	wg_conf_device_free(&d);
	free_inside(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	size_t plen, len;
	const char *prefix;
	char *text;
	json_t *j;

	if (!size || size > MAX_INPUT)
		return 0;
	prefix = prefixes[data[0] % (sizeof(prefixes) / sizeof(prefixes[0]))];
	plen = strlen(prefix);
	len = plen + size - 1;
	text = malloc(len ? len : 1);
	if (!text)
		return 0;
	memcpy(text, prefix, plen);
	memcpy(text + plen, data + 1, size - 1);
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!j)
		return 0;
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		check_peer(j, modes[m]);
		check_interface(j, modes[m]);
	}
	json_decref(j);
	return 0;
}
