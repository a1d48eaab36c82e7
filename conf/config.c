/* SPDX-License-Identifier: MIT */
/*
 * The config file parser: lines, sections and keys as wg(8) setconf and
 * wg-quick(8) read them, plus wgdp's [Appliance] section.
 *
 * A line is "[Section]" or "Key = Value"; '#' starts a comment anywhere;
 * keys and section names are case-insensitive; whitespace inside a value is
 * dropped before parsing, as wg drops it (so "AllowedIPs = a, b" works), but
 * messages quote the value as written (devargs and interface names keep
 * their spaces, and fail on them). Each key has an entry in keys[] (or in
 * wg_conf_appliance_keys[], config_appliance.c): its section, whether it may
 * repeat, whether its value is a secret (never echoed) and its handler.
 * Checks that need the whole file (a peer naming our own key, gateways
 * against addresses, the MTU against IPv6) run in finish().
 *
 * Cost is linear in the file: duplicate public keys and allowed IPs given to
 * two peers are found through hash tables (config_index.c), not by
 * comparing every pair.
 *
 * Nothing is half-applied: the result is built in a private struct wg_conf
 * and copied out only when the whole file is good; on failure it is freed
 * (keys wiped). Private and preshared keys are wiped from every buffer that
 * held their text.
 */
#include "conf/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/config_parser.h"
#include "conf/key.h"
#include "conf/parse_util.h"
#include "crypto/secure.h"
#include "crypto/x25519.h"

static const char *const section_names[] = { "", "Interface", "Peer", "Appliance" };

/* ---- messages ---- */

/* s as a quoted, printable excerpt: control bytes as \xNN, at most ~120 characters */
void wg_conf_quote(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	for (size_t i = 0; s[i] && o + 6 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= 120) {
			o += (size_t)snprintf(out + o, outlen - o, "...");
			break;
		}
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

bool wg_conf_fail_at(struct wg_conf_parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->ret)
		return false;
	p->ret = -EINVAL;
	if (!p->errlen)
		return false;
	n = line ? snprintf(p->err, p->errlen, "%s:%u: ", p->name, line)
		 : snprintf(p->err, p->errlen, "%s: ", p->name);
	if (n < 0 || (size_t)n >= p->errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

bool wg_conf_fail_nomem(struct wg_conf_parser *p)
{
	if (!p->ret) {
		p->ret = -ENOMEM;
		if (p->errlen)
			snprintf(p->err, p->errlen, "%s:%u: out of memory", p->name, p->line);
	}
	return false;
}

/* "Unable to parse Key: `elem' (why)", the value redacted for secret keys */
bool wg_conf_fail_value(struct wg_conf_parser *p, const char *elem, const char *why)
{
	char q[400];

	if (p->key->flags & WG_CONF_K_SECRET)
		return wg_conf_fail(p, "Unable to parse %s: <redacted> (%s)", p->key->name, why);
	wg_conf_quote(q, sizeof(q), elem);
	return wg_conf_fail(p, "Unable to parse %s: `%s' (%s)", p->key->name, q, why);
}

void wg_conf_warn_at(struct wg_conf_parser *p, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	if (!p->opts || !p->opts->warn)
		return;
	n = snprintf(msg, sizeof(msg), "%s:%u: ", p->name, line);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	p->opts->warn(p->opts->warn_arg, msg);
}

void wg_conf_defer(struct wg_conf_deferred *d, unsigned line, const char *text)
{
	d->line = line;
	wg_conf_quote(d->text, sizeof(d->text), text);
}

/* ---- helpers shared by handlers ---- */

static bool parse_key_value(struct wg_conf_parser *p, const char *v, uint8_t key[WG_KEY_LEN])
{
	size_t len = strlen(v);

	if (wg_key_from_base64(key, v, len))
		return true;
	if (len != WG_KEY_B64_LEN)
		return wg_conf_fail_value(p, v,
					  "a key is 44 base64 characters, as wg genkey prints");
	return wg_conf_fail_value(p, v, "not a base64 encoded 32-byte key");
}

bool wg_conf_number(struct wg_conf_parser *p, const char *v, uint64_t lo, uint64_t hi,
		    uint64_t *out)
{
	const char *why;
	char range[64];

	if (!wg_conf_parse_uint(v, hi, out, &why) || *out < lo) {
		snprintf(range, sizeof(range), "must be %llu-%llu", (unsigned long long)lo,
			 (unsigned long long)hi);
		return wg_conf_fail_value(p, p->raw, range);
	}
	return true;
}

bool wg_conf_pow2(struct wg_conf_parser *p, const char *v, uint64_t lo, uint64_t hi, uint32_t *out)
{
	uint64_t n;
	char why[80];

	if (!wg_conf_parse_uint(v, hi, &n, &(const char *){ NULL }) || n < lo || (n & (n - 1))) {
		snprintf(why, sizeof(why), "must be a power of two %llu-%llu",
			 (unsigned long long)lo, (unsigned long long)hi);
		return wg_conf_fail_value(p, p->raw, why);
	}
	*out = (uint32_t)n;
	return true;
}

/* Split v at commas and call one() on each element; empty elements are errors. */
bool wg_conf_each_item(struct wg_conf_parser *p, char *v,
		       bool (*one)(struct wg_conf_parser *p, char *item))
{
	char *item = v;

	for (;;) {
		char *comma = strchr(item, ',');

		if (comma)
			*comma = '\0';
		if (!*item)
			return wg_conf_fail_value(p, p->raw, "empty list element");
		if (!one(p, item))
			return false;
		if (!comma)
			return true;
		item = comma + 1;
	}
}

/* ---- [Interface] ---- */

static bool parse_private_key(struct wg_conf_parser *p, char *v)
{
	uint8_t *key = p->conf.device.private_key;

	if (!parse_key_value(p, v, key))
		return false;
	if (wg_secure_is_zero(key, WG_KEY_LEN))
		return wg_conf_fail_value(p, v, "all-zero key: wgdp needs a private key");
	p->private_key_line = p->line;
	return true;
}

static bool parse_listen_port(struct wg_conf_parser *p, char *v)
{
	uint64_t n;

	if (!wg_conf_number(p, v, 0, 65535, &n))
		return false;
	p->conf.device.listen_port = (uint16_t)n;
	return true;
}

static bool parse_fwmark(struct wg_conf_parser *p, char *v)
{
	uint64_t n = 0;
	const char *why;

	if (strcasecmp(v, "off")) {
		if (strlen(v) > 2 && v[0] == '0' && v[1] == 'x') {
			char *end;

			for (const char *c = v + 2; *c; c++)
				if (!strchr("0123456789abcdefABCDEF", *c))
					return wg_conf_fail_value(p, p->raw,
								  "neither off nor 0-0xffffffff");
			errno = 0;
			n = strtoull(v + 2, &end, 16);
			if (errno || n > UINT32_MAX)
				return wg_conf_fail_value(p, p->raw,
							  "neither off nor 0-0xffffffff");
		} else if (!wg_conf_parse_uint(v, UINT32_MAX, &n, &why)) {
			return wg_conf_fail_value(p, p->raw, "neither off nor 0-0xffffffff");
		}
	}
	p->conf.device.fwmark = (uint32_t)n;
	wg_conf_warn_at(p, p->line, "%s", p->key->note);
	return true;
}

static bool address_one(struct wg_conf_parser *p, char *item)
{
	struct wg_conf_prefix pfx;
	const char *why;

	if (!wg_conf_parse_prefix(item, false, &pfx, &why))
		return wg_conf_fail_value(p, item, why);
	if (!wg_conf_addr_is_unicast(pfx.family, pfx.addr))
		return wg_conf_fail_value(p, item, "not a unicast address");
	if (p->conf.inside.addresses.n >= WG_CONF_MAX_ADDRESSES)
		return wg_conf_fail(p, "More than %u Address entries", WG_CONF_MAX_ADDRESSES);
	if (pfx.family == AF_INET6)
		p->any_v6 = true;
	if (wg_conf_prefixes_add(&p->conf.inside.addresses, &pfx))
		return wg_conf_fail_nomem(p);
	return true;
}

static bool parse_address(struct wg_conf_parser *p, char *v)
{
	return wg_conf_each_item(p, v, address_one);
}

/*
 * AddressPool: where the REST API takes peers' tunnel addresses from. A
 * network (host bits zero), at most one per family, large enough to hand
 * out something (IPv4 up to /30, IPv6 up to /126).
 */
static bool pool_one(struct wg_conf_parser *p, char *item)
{
	struct wg_conf_prefixes *l = &p->conf.inside.pools;
	struct wg_conf_prefix pfx, masked;
	const char *why;

	if (!wg_conf_parse_prefix(item, true, &pfx, &why))
		return wg_conf_fail_value(p, item, why);
	masked = pfx;
	if (wg_conf_prefix_mask(&masked))
		return wg_conf_fail_value(p, item, "host bits set: give the network");
	if (pfx.cidr == 0)
		return wg_conf_fail_value(p, item, "prefix length 0 is not a pool");
	if (pfx.family == AF_INET ? pfx.addr[0] >= 224 : pfx.addr[0] == 0xff)
		return wg_conf_fail_value(p, item, "multicast, not unicast");
	if (pfx.cidr > (pfx.family == AF_INET ? 30 : 126))
		return wg_conf_fail_value(p, item, "too small to hand out addresses");
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].family == pfx.family)
			return wg_conf_fail_value(p, item, "second pool of that family");
	if (pfx.family == AF_INET6)
		p->any_v6 = true;
	if (wg_conf_prefixes_add(l, &pfx))
		return wg_conf_fail_nomem(p);
	return true;
}

static bool parse_pool(struct wg_conf_parser *p, char *v)
{
	return wg_conf_each_item(p, v, pool_one);
}

static bool parse_mtu(struct wg_conf_parser *p, char *v)
{
	uint64_t n;

	if (!wg_conf_number(p, v, 576, 9000, &n))
		return false;
	p->conf.inside.mtu = (uint16_t)n;
	wg_conf_defer(&p->mtu, p->line, p->raw);
	return true;
}

static bool parse_ignored(struct wg_conf_parser *p, char *v)
{
	(void)v;
	wg_conf_warn_at(p, p->line, "ignoring wg-quick key %s: %s", p->key->name, p->key->note);
	return true;
}

/* ---- [Peer] ---- */

static struct wg_conf_peer *cur_peer(struct wg_conf_parser *p)
{
	return &p->conf.device.peers[p->conf.device.n_peers - 1];
}

static bool parse_public_key(struct wg_conf_parser *p, char *v)
{
	size_t idx = p->conf.device.n_peers - 1;
	size_t other;
	int ret;

	if (!parse_key_value(p, v, cur_peer(p)->public_key))
		return false;
	ret = wg_conf_index_add_key(&p->index, &p->conf.device, idx, &other);
	if (ret == -EEXIST)
		return wg_conf_fail(p, "Duplicate PublicKey `%s' (first on line %u)", v,
				    p->plines[other].pubkey);
	if (ret)
		return wg_conf_fail_nomem(p);
	p->plines[idx].pubkey = p->line;
	return true;
}

static bool parse_preshared_key(struct wg_conf_parser *p, char *v)
{
	return parse_key_value(p, v, cur_peer(p)->preshared_key);
}

static bool allowedip_one(struct wg_conf_parser *p, char *item)
{
	size_t idx = p->conf.device.n_peers - 1;
	struct wg_conf_prefix pfx;
	char text[WG_CONF_PREFIX_STR];
	const char *why;
	size_t prev_peer;
	int ret;

	if (!wg_conf_parse_prefix(item, false, &pfx, &why))
		return wg_conf_fail_value(p, item, why);
	if (wg_conf_prefix_mask(&pfx)) {
		wg_conf_format_prefix(text, &pfx);
		wg_conf_warn_at(p, p->line, "AllowedIPs `%s' has host bits set; using %s", item,
				text);
	}
	if (pfx.family == AF_INET6)
		p->any_v6 = true;
	if (p->index.n_ips >= WG_CONF_MAX_ALLOWEDIPS)
		return wg_conf_fail(p, "More than %u AllowedIPs in all", WG_CONF_MAX_ALLOWEDIPS);
	ret = wg_conf_index_add_ip(&p->index, &p->conf.device, idx, &pfx, &prev_peer);
	if (ret == -EEXIST)
		return true; /* the same peer lists it twice: once is enough */
	if (ret == -EADDRINUSE) {
		wg_conf_format_prefix(text, &pfx);
		wg_conf_warn_at(
			p, p->line,
			"AllowedIPs %s was also given to the peer on line %u; the later peer gets it, as with wg",
			text, p->plines[prev_peer].section);
	} else if (ret) {
		return wg_conf_fail_nomem(p);
	}
	return true;
}

static bool parse_allowedips(struct wg_conf_parser *p, char *v)
{
	if (!*v)
		return true; /* "AllowedIPs =" is an empty list */
	return wg_conf_each_item(p, v, allowedip_one);
}

static bool parse_endpoint(struct wg_conf_parser *p, char *v)
{
	struct wg_conf_peer *peer = cur_peer(p);
	bool numeric = p->opts && p->opts->numeric_endpoints;
	const char *why;

	if (!wg_conf_parse_endpoint(v, numeric, &peer->endpoint, &why))
		return wg_conf_fail_value(p, p->raw, why);
	peer->flags |= WG_CONF_PEER_HAS_ENDPOINT;
	return true;
}

static bool parse_keepalive(struct wg_conf_parser *p, char *v)
{
	uint64_t n = 0;

	if (strcasecmp(v, "off") && !wg_conf_number(p, v, 0, 65535, &n))
		return false;
	cur_peer(p)->persistent_keepalive = (uint16_t)n;
	return true;
}

static const struct wg_conf_key keys[] = {
	{ "PrivateKey", WG_CONF_SEC_INTERFACE, WG_CONF_K_SECRET, parse_private_key, NULL },
	{ "ListenPort", WG_CONF_SEC_INTERFACE, 0, parse_listen_port, NULL },
	{ "FwMark", WG_CONF_SEC_INTERFACE, 0, parse_fwmark,
	  "FwMark is accepted but ignored: wgdp sends no packets through the kernel" },
	{ "Address", WG_CONF_SEC_INTERFACE, WG_CONF_K_REPEAT, parse_address, NULL },
	{ "MTU", WG_CONF_SEC_INTERFACE, 0, parse_mtu, NULL },
	{ "AddressPool", WG_CONF_SEC_INTERFACE, WG_CONF_K_REPEAT, parse_pool, NULL },
	{ "DNS", WG_CONF_SEC_INTERFACE, WG_CONF_K_REPEAT | WG_CONF_K_IGNORED, parse_ignored,
	  "wgdp sets no resolvers" },
	{ "Table", WG_CONF_SEC_INTERFACE, WG_CONF_K_IGNORED, parse_ignored,
	  "wgdp adds no kernel routes" },
	{ "PreUp", WG_CONF_SEC_INTERFACE, WG_CONF_K_REPEAT | WG_CONF_K_IGNORED, parse_ignored,
	  "wgdp runs no hooks" },
	{ "PostUp", WG_CONF_SEC_INTERFACE, WG_CONF_K_REPEAT | WG_CONF_K_IGNORED, parse_ignored,
	  "wgdp runs no hooks" },
	{ "PreDown", WG_CONF_SEC_INTERFACE, WG_CONF_K_REPEAT | WG_CONF_K_IGNORED, parse_ignored,
	  "wgdp runs no hooks" },
	{ "PostDown", WG_CONF_SEC_INTERFACE, WG_CONF_K_REPEAT | WG_CONF_K_IGNORED, parse_ignored,
	  "wgdp runs no hooks" },
	{ "SaveConfig", WG_CONF_SEC_INTERFACE, WG_CONF_K_IGNORED, parse_ignored,
	  "wgdp does not rewrite its config" },
	{ "PublicKey", WG_CONF_SEC_PEER, 0, parse_public_key, NULL },
	{ "PresharedKey", WG_CONF_SEC_PEER, WG_CONF_K_SECRET, parse_preshared_key, NULL },
	{ "AllowedIPs", WG_CONF_SEC_PEER, WG_CONF_K_REPEAT, parse_allowedips, NULL },
	{ "Endpoint", WG_CONF_SEC_PEER, 0, parse_endpoint, NULL },
	{ "PersistentKeepalive", WG_CONF_SEC_PEER, 0, parse_keepalive, NULL },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(N_KEYS <= WG_CONF_MAX_WG_KEYS, "seen[] too small");

/* ---- lines and sections ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char *trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* copy s to out without any whitespace */
static void squeeze(char *out, const char *s)
{
	for (; *s; s++)
		if (!is_space(*s))
			*out++ = *s;
	*out = '\0';
}

/* a run of 40+ base64 characters: probably a key, so never echo it */
static bool looks_secret(const char *s)
{
	size_t run = 0;

	for (; *s; s++) {
		bool b64 = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			   (*s >= '0' && *s <= '9') || *s == '+' || *s == '/' || *s == '=';

		run = b64 ? run + 1 : 0;
		if (run >= 40)
			return true;
	}
	return false;
}

static bool grow_plines(struct wg_conf_parser *p, size_t need)
{
	struct wg_conf_peer_lines *n;
	size_t cap;

	if (need <= p->cap_plines)
		return true;
	cap = p->cap_plines ? p->cap_plines * 2 : 16;
	n = realloc(p->plines, cap * sizeof(*n));
	if (!n)
		return false;
	p->plines = n;
	p->cap_plines = cap;
	return true;
}

/* close the current section: a [Peer] needs its PublicKey */
static bool end_section(struct wg_conf_parser *p)
{
	if (p->sec == WG_CONF_SEC_PEER && !p->plines[p->conf.device.n_peers - 1].pubkey)
		return wg_conf_fail_at(p, p->plines[p->conf.device.n_peers - 1].section,
				       "[Peer] section has no PublicKey");
	return true;
}

static bool start_section(struct wg_conf_parser *p, char *line, char *name)
{
	char q[200];
	size_t n;
	struct wg_conf_peer *peer;

	squeeze(name, line);
	n = strlen(name);
	wg_conf_quote(q, sizeof(q), line);
	if (n < 2 || name[n - 1] != ']')
		return wg_conf_fail(p, "Unable to parse section header `%s'", q);
	name[n - 1] = '\0';
	if (!end_section(p))
		return false;
	if (!strcasecmp(name + 1, "Interface")) {
		if (p->interface_line)
			return wg_conf_fail(p, "Second [Interface] section (first on line %u)",
					    p->interface_line);
		p->interface_line = p->line;
		p->sec = WG_CONF_SEC_INTERFACE;
	} else if (!strcasecmp(name + 1, "Appliance")) {
		if (p->appliance_line)
			return wg_conf_fail(p, "Second [Appliance] section (first on line %u)",
					    p->appliance_line);
		p->appliance_line = p->line;
		p->sec = WG_CONF_SEC_APPLIANCE;
	} else if (!strcasecmp(name + 1, "Peer")) {
		if (p->conf.device.n_peers >= WG_CONF_MAX_PEERS)
			return wg_conf_fail(p, "More than %u [Peer] sections", WG_CONF_MAX_PEERS);
		if (!grow_plines(p, p->conf.device.n_peers + 1))
			return wg_conf_fail_nomem(p);
		peer = wg_conf_device_add_peer(&p->conf.device);
		if (!peer)
			return wg_conf_fail_nomem(p);
		peer->flags = WG_CONF_PEER_HAS_PRESHARED_KEY |
			      WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE |
			      WG_CONF_PEER_REPLACE_ALLOWEDIPS;
		p->plines[p->conf.device.n_peers - 1] = (struct wg_conf_peer_lines){ p->line, 0 };
		p->sec = WG_CONF_SEC_PEER;
	} else {
		return wg_conf_fail(p, "Unknown section `%s'", q);
	}
	memset(p->seen, 0, sizeof(p->seen));
	return true;
}

/* key and value are scratch buffers of WG_CONF_MAX_LINE + 1 bytes, wiped by the caller */
static bool process_line(struct wg_conf_parser *p, char *line, char *key, char *value)
{
	char *hash = strchr(line, '#'), *eq, *raw;
	char q[200];
	const struct wg_conf_key *k = NULL;
	size_t kid = 0;

	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return true;
	if (line[0] == '[')
		return start_section(p, line, key);
	eq = strchr(line, '=');
	if (eq)
		*eq = '\0';
	squeeze(key, line);
	if (!eq || !*key) {
		if (eq)
			*eq = '=';
		if (looks_secret(line))
			return wg_conf_fail(
				p,
				"Line unrecognized (expected `Key = Value' or `[Section]'): <redacted>");
		wg_conf_quote(q, sizeof(q), line);
		return wg_conf_fail(
			p, "Line unrecognized (expected `Key = Value' or `[Section]'): `%s'", q);
	}
	wg_conf_quote(q, sizeof(q), looks_secret(key) ? "<redacted>" : key);
	for (size_t i = 0; i < N_KEYS; i++)
		if (!strcasecmp(key, keys[i].name))
			k = &keys[i], kid = i;
	for (size_t i = 0; !k && i < wg_conf_appliance_n_keys; i++)
		if (!strcasecmp(key, wg_conf_appliance_keys[i].name))
			k = &wg_conf_appliance_keys[i], kid = N_KEYS + i;
	if (!k) {
		if (p->sec == WG_CONF_SEC_NONE)
			return wg_conf_fail(p, "Unknown key `%s' outside of any section", q);
		return wg_conf_fail(p, "Unknown key `%s' in [%s]", q, section_names[p->sec]);
	}
	if (p->sec == WG_CONF_SEC_NONE)
		return wg_conf_fail(p, "Key `%s' before any section: it belongs in [%s]", k->name,
				    section_names[k->sec]);
	if (k->sec != p->sec)
		return wg_conf_fail(p, "Key `%s' belongs in [%s], not in [%s]", k->name,
				    section_names[k->sec], section_names[p->sec]);
	if (!(k->flags & WG_CONF_K_REPEAT)) {
		unsigned *seen = &p->seen[kid];

		if (*seen)
			return wg_conf_fail(p, "Duplicate %s in this section (first on line %u)",
					    k->name, *seen);
		*seen = p->line;
	}
	raw = trim(eq + 1);
	if (k->flags & WG_CONF_K_RAW)
		memcpy(value, raw, strlen(raw) + 1);
	else
		squeeze(value, raw);
	p->key = k;
	p->raw = raw;
	return k->parse(p, value);
}

/* ---- checks over the whole file ---- */

static bool finish(struct wg_conf_parser *p)
{
	struct wg_conf_device *dev = &p->conf.device;
	uint8_t pub[WG_KEY_LEN];

	if (!end_section(p))
		return false;
	if (!p->interface_line)
		return wg_conf_fail_at(p, 0, "No [Interface] section");
	if (!p->private_key_line)
		return wg_conf_fail_at(p, p->interface_line, "[Interface] has no PrivateKey");
	if (wg_x25519_public(pub, dev->private_key))
		return wg_conf_fail_at(
			p, p->private_key_line,
			"Unable to parse PrivateKey: <redacted> (gives no public key)");
	for (size_t i = 0; i < dev->n_peers; i++) {
		if (wg_secure_equal(dev->peers[i].public_key, pub, WG_KEY_LEN)) {
			char b64[WG_KEY_B64_LEN + 1];

			wg_key_to_base64(b64, pub);
			return wg_conf_fail_at(
				p, p->plines[i].pubkey,
				"PublicKey `%s' is this interface's own public key (of the PrivateKey on line %u)",
				b64, p->private_key_line);
		}
	}
	if (p->mtu.line && p->any_v6 && p->conf.inside.mtu < 1280)
		return wg_conf_fail_at(
			p, p->mtu.line,
			"Unable to parse MTU: `%s' (IPv6 addresses or allowed IPs need 1280-9000)",
			p->mtu.text);
	if (!wg_conf_appliance_check(p))
		return false;
	wg_conf_index_compact(&p->index, dev);
	return true;
}

/* ---- entry points ---- */

int wg_conf_parse_buffer_opts(const char *name, const char *text, size_t len,
			      const struct wg_conf_parse_opts *opts, struct wg_conf *out, char *err,
			      size_t errlen)
{
	struct wg_conf_parser *p;
	const char *pos = text, *end = text + len;
	char *line, *key, *value;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (len > WG_CONF_MAX_FILE) {
		if (errlen)
			snprintf(err, errlen, "%s: larger than %u MiB", name,
				 WG_CONF_MAX_FILE >> 20);
		return -EFBIG;
	}
	p = calloc(1, sizeof(*p));
	line = malloc(3 * (WG_CONF_MAX_LINE + 1)); /* line, key, value */
	if (!p || !line || wg_crypto_init()) {
		free(p);
		free(line);
		if (errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	*p = (struct wg_conf_parser){ .name = name, .opts = opts, .err = err, .errlen = errlen };
	wg_conf_init(&p->conf);
	p->conf.appliance.inside_interface[0] = '\0'; /* the default is set in finish() */
	p->conf.device.flags = WG_CONF_DEVICE_HAS_PRIVATE_KEY | WG_CONF_DEVICE_HAS_LISTEN_PORT |
			       WG_CONF_DEVICE_HAS_FWMARK | WG_CONF_DEVICE_REPLACE_PEERS;
	p->conf.inside.flags = WG_CONF_INSIDE_HAS_MTU | WG_CONF_INSIDE_REPLACE_ADDRESSES |
			       WG_CONF_INSIDE_HAS_POOLS;
	if (len >= 3 && !memcmp(pos, "\xef\xbb\xbf", 3))
		pos += 3; /* a UTF-8 byte order mark, as some editors write */
	while (pos < end && !p->ret) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = nl ? (size_t)(nl - pos) : (size_t)(end - pos);

		p->line++;
		if (n > WG_CONF_MAX_LINE) {
			wg_conf_fail(p, "Line is longer than %u bytes", WG_CONF_MAX_LINE);
			break;
		}
		if (memchr(pos, '\0', n)) {
			wg_conf_fail(p, "Line holds a NUL byte");
			break;
		}
		memcpy(line, pos, n);
		line[n] = '\0';
		key = line + WG_CONF_MAX_LINE + 1;
		value = key + WG_CONF_MAX_LINE + 1;
		process_line(p, line, key, value);
		/* the line may hold a key: wipe it and what was made of it */
		wg_secure_wipe(line, n);
		wg_secure_wipe(key, n + 1);
		wg_secure_wipe(value, n + 1);
		pos = nl ? nl + 1 : end;
	}
	if (!p->ret)
		finish(p);
	ret = p->ret;
	if (ret)
		wg_conf_free(&p->conf);
	else
		*out = p->conf;
	wg_conf_index_free(&p->index);
	free(p->plines);
	wg_secure_wipe(p, sizeof(*p));
	free(p);
	free(line);
	return ret;
}

int wg_conf_parse_buffer(const char *name, const char *text, size_t len, struct wg_conf *out,
			 char *err, size_t errlen)
{
	return wg_conf_parse_buffer_opts(name, text, len, NULL, out, err, errlen);
}
