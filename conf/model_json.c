/* SPDX-License-Identifier: MIT */
/*
 * The configuration model as JSON (see model_json.h). Writers build Jansson
 * objects; parsers walk every member of the object once, dispatching on a
 * table of fields, so an unknown or misspelt field is always reported.
 * Strings holding keys are wiped once decoded (Jansson's own copies are
 * freed by the caller's json_decref; the REST layer wipes the request body).
 */
#include "conf/model_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/key.h"
#include "conf/parse_util.h"
#include "crypto/secure.h"

/* ---- writers ---- */

static json_t *key_json(const uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_B64_LEN + 1];
	json_t *j;

	wg_key_to_base64(b64, key);
	j = json_string(b64);
	wg_secure_wipe(b64, sizeof(b64));
	return j;
}

static json_t *prefixes_json(const struct wg_conf_prefixes *l)
{
	char text[WG_CONF_PREFIX_STR];
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++) {
		if (l->v[i].flags & WG_CONF_PREFIX_REMOVE_ME)
			continue;
		wg_conf_format_prefix(text, &l->v[i]);
		if (json_array_append_new(a, json_string(text))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* set o[name] = v (taking v); false when v is NULL or on ENOMEM */
static bool put(json_t *o, const char *name, json_t *v)
{
	return v && json_object_set_new(o, name, v) == 0;
}

json_t *wg_json_from_peer(const struct wg_conf_peer *p, unsigned flags)
{
	bool secrets = flags & WG_JSON_SECRETS;
	bool has_psk = !wg_secure_is_zero(p->preshared_key, WG_KEY_LEN);
	bool has_client = !wg_secure_is_zero(p->client_private_key, WG_KEY_LEN);
	char ep[WG_CONF_ENDPOINT_STR];
	json_t *o = json_object();
	bool ok;

	if (!o)
		return NULL;
	ok = put(o, "public_key", key_json(p->public_key)) && put(o, "name", json_string(p->name)) &&
	     put(o, "enabled", json_boolean(!p->disabled));
	if ((p->flags & WG_CONF_PEER_HAS_ENDPOINT) && p->endpoint.family) {
		wg_conf_format_endpoint(ep, &p->endpoint);
		ok = ok && put(o, "endpoint", json_string(ep));
	} else {
		ok = ok && put(o, "endpoint", json_null());
	}
	ok = ok && put(o, "persistent_keepalive", json_integer(p->persistent_keepalive)) &&
	     put(o, "allowed_ips", prefixes_json(&p->allowedips)) &&
	     put(o, "addresses", prefixes_json(&p->addresses));
	if (secrets) {
		if (has_psk)
			ok = ok && put(o, "preshared_key", key_json(p->preshared_key));
		if (has_client)
			ok = ok && put(o, "client_private_key", key_json(p->client_private_key));
	} else {
		ok = ok && put(o, "has_preshared_key", json_boolean(has_psk)) &&
		     put(o, "server_generated_key", json_boolean(has_client));
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *wg_json_from_interface(const struct wg_conf_device *d, const struct wg_conf_inside *in, unsigned flags)
{
	json_t *o = json_object();
	bool ok;

	if (!o)
		return NULL;
	ok = put(o, "listen_port", json_integer(d->listen_port)) && put(o, "fwmark", json_integer(d->fwmark)) &&
	     put(o, "addresses", prefixes_json(&in->addresses)) &&
	     put(o, "address_pools", prefixes_json(&in->pools));
	if ((flags & WG_JSON_SECRETS) && (d->flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY))
		ok = ok && put(o, "private_key", key_json(d->private_key));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- parsers ---- */

struct jp {
	enum wg_json_mode mode;
	char *err;
	size_t errlen;
	const char *field;
	int ret;
};

static bool vfail(struct jp *j, int ret, const char *fmt, va_list ap)
{
	int n;

	if (j->ret)
		return false;
	j->ret = ret;
	if (!j->errlen)
		return false;
	n = snprintf(j->err, j->errlen, "%s: ", j->field);
	if (n < 0 || (size_t)n >= j->errlen)
		return false;
	vsnprintf(j->err + n, j->errlen - (size_t)n, fmt, ap);
	return false;
}

/* a bad value: -EINVAL */
static bool jfail(struct jp *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool jfail(struct jp *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(j, -EINVAL, fmt, ap);
	va_end(ap);
	return false;
}

/* an unknown field (-ENOENT) or one that may not be written (-EROFS) */
static bool jfail_kind(struct jp *j, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool jfail_kind(struct jp *j, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(j, ret, fmt, ap);
	va_end(ap);
	return false;
}

static bool jnomem(struct jp *j)
{
	if (!j->ret) {
		j->ret = -ENOMEM;
		if (j->errlen)
			snprintf(j->err, j->errlen, "out of memory");
	}
	return false;
}

/* a short printable excerpt of a string value, for messages; s is UTF-8
 * (Jansson checked it) and is cut only between characters, so the
 * message stays UTF-8 for the API's JSON answer */
static const char *excerpt(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; s[i];) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		size_t out = c < 0x20 || c == 0x7f ? 4 : n;

		if (i + n > 60 || o + out + 4 > len) {
			snprintf(buf + o, len - o, "...");
			return buf;
		}
		if (out == 4 && n == 1) {
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
			i++;
			continue;
		}
		for (size_t k = 0; k < n && s[i]; k++)
			buf[o++] = s[i++];
	}
	buf[o] = '\0';
	return buf;
}

static bool want_string(struct jp *j, const json_t *v, const char **s)
{
	if (!json_is_string(v))
		return jfail(j, "must be a string");
	*s = json_string_value(v);
	if (strlen(*s) != json_string_length(v))
		return jfail(j, "holds a NUL character");
	return true;
}

/* a key: base64; secret keys are never echoed */
static bool parse_key(struct jp *j, const json_t *v, uint8_t key[WG_KEY_LEN], bool secret)
{
	char q[80];
	const char *s = "";

	if (!want_string(j, v, &s))
		return false;
	if (wg_key_from_base64(key, s, strlen(s)))
		return true;
	if (secret)
		return jfail(j, "not a key (32 bytes in base64, 44 characters)");
	return jfail(j, "`%s' is not a key (32 bytes in base64, 44 characters)", excerpt(s, q, sizeof(q)));
}

static bool parse_int(struct jp *j, const json_t *v, long long lo, long long hi, long long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return jfail(j, "must be an integer %lld-%lld", lo, hi);
	*out = json_integer_value(v);
	return true;
}

bool wg_json_parse_cidr(const char *s, struct wg_conf_prefix *out, const char **why)
{
	struct wg_conf_prefix masked;

	if (!wg_conf_parse_prefix(s, false, out, why))
		return false;
	masked = *out;
	if (wg_conf_prefix_mask(&masked)) {
		*why = "has host bits set";
		return false;
	}
	return true;
}

/* what the prefixes of a list are */
enum pfx_kind {
	PFX_NET,    /* networks: host bits zero (allowed IPs, pools) */
	PFX_HOST,   /* single unicast addresses, /32 or /128 (a peer's addresses) */
	PFX_IFADDR, /* interface addresses as the config file keeps them: unicast, host bits kept */
};

static int prefix_cmp(const void *a, const void *b)
{
	const struct wg_conf_prefix *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	if (x->cidr != y->cidr)
		return x->cidr - y->cidr;
	return memcmp(x->addr, y->addr, 16);
}

/* a list given twice the same prefix is refused: sorted copy, O(n log n) */
static bool no_duplicates(struct jp *j, const struct wg_conf_prefixes *l)
{
	struct wg_conf_prefix *c;
	char text[WG_CONF_PREFIX_STR];

	if (l->n < 2)
		return true;
	c = malloc(l->n * sizeof(*c));
	if (!c)
		return jnomem(j);
	memcpy(c, l->v, l->n * sizeof(*c));
	qsort(c, l->n, sizeof(*c), prefix_cmp);
	for (size_t i = 1; i < l->n; i++)
		if (!prefix_cmp(&c[i - 1], &c[i])) {
			wg_conf_format_prefix(text, &c[i]);
			free(c);
			return jfail(j, "`%s' is listed twice", text);
		}
	free(c);
	return true;
}

/* an array of CIDRs of the given kind */
static bool parse_prefixes(struct jp *j, const json_t *v, struct wg_conf_prefixes *out, enum pfx_kind kind,
			   size_t max)
{
	bool host = kind == PFX_HOST;
	char q[80];
	size_t i;
	json_t *item;

	if (!json_is_array(v))
		return jfail(j, "must be an array of strings");
	if (json_array_size(v) > max)
		return jfail(j, "more than %zu entries", max);
	json_array_foreach(v, i, item) {
		struct wg_conf_prefix pfx;
		const char *s, *why;

		if (!json_is_string(item))
			return jfail(j, "entry %zu must be a string", i);
		s = json_string_value(item);
		if (kind == PFX_IFADDR ? !wg_conf_parse_prefix(s, false, &pfx, &why)
				       : !wg_json_parse_cidr(s, &pfx, &why))
			return jfail(j, "entry %zu `%s' %s%s", i, excerpt(s, q, sizeof(q)),
				     strncmp(why, "has ", 4) ? "is bad: " : "", why);
		if (kind == PFX_IFADDR && !wg_conf_addr_is_unicast(pfx.family, pfx.addr))
			return jfail(j, "entry %zu `%s' is not a unicast address", i, excerpt(s, q, sizeof(q)));
		if (host && pfx.cidr != (pfx.family == AF_INET ? 32 : 128))
			return jfail(j, "entry %zu `%s' is not a single address (/32 or /128)", i,
				     excerpt(s, q, sizeof(q)));
		if (host && !wg_conf_addr_is_unicast(pfx.family, pfx.addr))
			return jfail(j, "entry %zu `%s' is not a unicast address", i, excerpt(s, q, sizeof(q)));
		pfx.flags = 0;
		if (wg_conf_prefixes_add(out, &pfx))
			return jnomem(j);
	}
	return kind == PFX_IFADDR || no_duplicates(j, out); /* Address may repeat one */
}

/* fields reported but never written */
static const char *const peer_readonly[] = {
	"latest_handshake", "rx_bytes",	 "tx_bytes",	      "rx_packets", "tx_packets",
	"has_preshared_key", "server_generated_key", "current_endpoint", "config_url",
};
static const char *const interface_readonly[] = { "public_key", "mtu", "peers", "address_pool_usage" };

static bool is_readonly(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

static bool peer_field(struct jp *j, const char *name, const json_t *v, struct wg_conf_peer *out,
		       bool *generate_psk)
{
	bool state = j->mode == WG_JSON_STATE;
	char q[80];
	const char *s = "", *why;
	long long n = 0;

	j->field = name;
	if (!strcmp(name, "public_key")) {
		if (j->mode == WG_JSON_PATCH)
			return jfail_kind(j, -EROFS, "cannot be changed (delete the peer and create another)");
		return parse_key(j, v, out->public_key, false);
	}
	if (!strcmp(name, "preshared_key")) {
		out->flags |= WG_CONF_PEER_HAS_PRESHARED_KEY;
		if (json_is_null(v))
			return true;
		if (!want_string(j, v, &s))
			return false;
		if (!*s)
			return true;
		if (!state && !strcmp(s, "generate") && generate_psk) {
			*generate_psk = true;
			return true;
		}
		return parse_key(j, v, out->preshared_key, true);
	}
	if (!strcmp(name, "client_private_key") && state) {
		out->flags |= WG_CONF_PEER_HAS_CLIENT_KEY;
		return parse_key(j, v, out->client_private_key, true);
	}
	if (!strcmp(name, "name")) {
		if (!want_string(j, v, &s))
			return false;
		if (strlen(s) >= WG_CONF_PEER_NAME_MAX)
			return jfail(j, "longer than %u bytes", WG_CONF_PEER_NAME_MAX - 1);
		for (const char *c = s; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return jfail(j, "holds a control character");
		memcpy(out->name, s, strlen(s) + 1);
		out->flags |= WG_CONF_PEER_HAS_NAME;
		return true;
	}
	if (!strcmp(name, "enabled")) {
		if (!json_is_boolean(v))
			return jfail(j, "must be true or false");
		out->disabled = !json_is_true(v);
		out->flags |= WG_CONF_PEER_HAS_ENABLED;
		return true;
	}
	if (!strcmp(name, "endpoint")) {
		if (json_is_null(v)) {
			if (j->mode == WG_JSON_PATCH)
				return jfail(j, "cannot be cleared (WireGuard forgets no endpoint)");
			return true;
		}
		if (!want_string(j, v, &s))
			return false;
		if (!wg_conf_parse_endpoint(s, true, &out->endpoint, &why))
			return jfail(j, "`%s' is bad: %s", excerpt(s, q, sizeof(q)), why);
		out->flags |= WG_CONF_PEER_HAS_ENDPOINT;
		return true;
	}
	if (!strcmp(name, "persistent_keepalive")) {
		if (!parse_int(j, v, 0, 65535, &n))
			return false;
		out->persistent_keepalive = (uint16_t)n;
		out->flags |= WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE;
		return true;
	}
	if (!strcmp(name, "allowed_ips")) {
		out->flags |= WG_CONF_PEER_REPLACE_ALLOWEDIPS;
		return parse_prefixes(j, v, &out->allowedips, PFX_NET, WG_CONF_MAX_ALLOWEDIPS);
	}
	if (!strcmp(name, "addresses")) {
		out->flags |= WG_CONF_PEER_HAS_ADDRESSES;
		return parse_prefixes(j, v, &out->addresses, PFX_HOST, WG_CONF_MAX_ADDRESSES);
	}
	if (!state && is_readonly(name, peer_readonly, sizeof(peer_readonly) / sizeof(peer_readonly[0])))
		return jfail_kind(j, -EROFS, "is read-only");
	j->field = excerpt(name, q, sizeof(q)); /* the client's text */
	return jfail_kind(j, -ENOENT, "unknown field");
}

int wg_json_to_peer(const json_t *o, enum wg_json_mode mode, struct wg_conf_peer *out, bool *generate_psk,
		    char *err, size_t errlen)
{
	struct jp j = { .mode = mode, .err = err, .errlen = errlen, .field = "peer" };
	const char *name;
	json_t *v;

	if (errlen)
		err[0] = '\0';
	if (generate_psk)
		*generate_psk = false;
	if (!json_is_object(o)) {
		jfail(&j, "must be a JSON object");
		return j.ret;
	}
	json_object_foreach((json_t *)o, name, v) {
		if (!peer_field(&j, name, v, out, generate_psk))
			break;
	}
	if (!j.ret && mode == WG_JSON_STATE && wg_secure_is_zero(out->public_key, WG_KEY_LEN)) {
		j.field = "public_key";
		jfail(&j, "missing");
	}
	if (!j.ret && mode == WG_JSON_STATE)
		out->flags |= WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE |
			      WG_CONF_PEER_REPLACE_ALLOWEDIPS | WG_CONF_PEER_HAS_NAME | WG_CONF_PEER_HAS_ENABLED |
			      WG_CONF_PEER_HAS_ADDRESSES;
	if (j.ret) {
		wg_conf_peer_free(out);
		if (generate_psk)
			*generate_psk = false;
	}
	return j.ret;
}

static bool interface_field(struct jp *j, const char *name, const json_t *v, struct wg_conf_device *d,
			    struct wg_conf_inside *in, bool *generate_key)
{
	char q[80];
	const char *s = "";
	long long n = 0;

	j->field = name;
	if (!strcmp(name, "private_key")) {
		if (!want_string(j, v, &s))
			return false;
		d->flags |= WG_CONF_DEVICE_HAS_PRIVATE_KEY;
		if (j->mode != WG_JSON_STATE && !strcmp(s, "generate") && generate_key) {
			*generate_key = true;
			return true;
		}
		if (!parse_key(j, v, d->private_key, true))
			return false;
		if (j->mode != WG_JSON_STATE && wg_secure_is_zero(d->private_key, WG_KEY_LEN))
			return jfail(j, "all zero: that would leave the interface without a key");
		return true;
	}
	if (!strcmp(name, "listen_port")) {
		if (!parse_int(j, v, 0, 65535, &n))
			return false;
		d->listen_port = (uint16_t)n;
		d->flags |= WG_CONF_DEVICE_HAS_LISTEN_PORT;
		return true;
	}
	if (!strcmp(name, "fwmark")) {
		if (!parse_int(j, v, 0, UINT32_MAX, &n))
			return false;
		d->fwmark = (uint32_t)n;
		d->flags |= WG_CONF_DEVICE_HAS_FWMARK;
		return true;
	}
	if (!strcmp(name, "address_pools")) {
		in->flags |= WG_CONF_INSIDE_HAS_POOLS;
		if (!parse_prefixes(j, v, &in->pools, PFX_NET, 2))
			return false;
		for (size_t i = 0; i < in->pools.n; i++) {
			const struct wg_conf_prefix *p = &in->pools.v[i];

			if (p->cidr == 0 || p->cidr > (p->family == AF_INET ? 30 : 126))
				return jfail(j, "entry %zu is not a usable pool (IPv4 /1-/30, IPv6 /1-/126)", i);
			if (p->family == AF_INET ? p->addr[0] >= 224 : p->addr[0] == 0xff)
				return jfail(j, "entry %zu is multicast, not a usable pool", i);
			if (i && in->pools.v[0].family == p->family)
				return jfail(j, "at most one pool per family");
		}
		return true;
	}
	if (!strcmp(name, "addresses")) {
		in->flags |= WG_CONF_INSIDE_REPLACE_ADDRESSES;
		return parse_prefixes(j, v, &in->addresses, PFX_IFADDR, WG_CONF_MAX_ADDRESSES);
	}
	if (j->mode != WG_JSON_STATE &&
	    is_readonly(name, interface_readonly, sizeof(interface_readonly) / sizeof(interface_readonly[0])))
		return jfail_kind(j, -EROFS, "is read-only");
	j->field = excerpt(name, q, sizeof(q)); /* the client's text */
	return jfail_kind(j, -ENOENT, "unknown field");
}

int wg_json_to_interface(const json_t *o, enum wg_json_mode mode, struct wg_conf_device *d,
			 struct wg_conf_inside *in, bool *generate_key, char *err, size_t errlen)
{
	struct jp j = { .mode = mode, .err = err, .errlen = errlen, .field = "interface" };
	const char *name;
	json_t *v;

	if (errlen)
		err[0] = '\0';
	if (generate_key)
		*generate_key = false;
	if (!json_is_object(o)) {
		jfail(&j, "must be a JSON object");
		return j.ret;
	}
	json_object_foreach((json_t *)o, name, v) {
		if (!interface_field(&j, name, v, d, in, generate_key))
			break;
	}
	if (j.ret) {
		if (generate_key)
			*generate_key = false;
		wg_conf_device_free(d);
		free(in->addresses.v);
		free(in->pools.v);
		memset(in, 0, sizeof(*in));
	}
	return j.ret;
}
