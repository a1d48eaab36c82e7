/* SPDX-License-Identifier: MIT */
/*
 * The UAPI codec. The behaviour is wireguard-go's (device/uapi.go,
 * device/noise-types.go, ipc/uapi_unix.go) as wg(8) (wireguard-tools'
 * ipc-uapi.h) sees it:
 *
 * Requests. The operation line is "get=1\n" or "set=1\n" exactly (IpcHandle
 * compares the whole line); a get must be followed by one '\n' and nothing
 * else. A set is read line by line (bufio.ScanLines: a '\r' before the '\n'
 * is dropped) up to an empty line; each line is cut at its first '=' (no
 * '=': IpcErrorProtocol). Keys are lower case and matched exactly. Lines
 * before the first public_key are device lines, after it peer lines; a key
 * of the other kind is "invalid UAPI device/peer key", IpcErrorInvalid.
 *   private_key, public_key, preshared_key: hex.DecodeString of exactly 32
 *     bytes (either case); an all-zero private key is allowed
 *     (FromMaybeZeroHex) and means "no key"; zero preshared key: none.
 *     wireguard-go clamps the private key when it stores it; we keep the
 *     bytes as given and control/noise.c clamps.
 *   listen_port, persistent_keepalive_interval: strconv.ParseUint(v, 10, 16),
 *     so 0..65535, digits only; fwmark: ParseUint(v, 10, 32).
 *   replace_peers, update_only, remove, replace_allowed_ips: the value must
 *     be "true"; anything else ("false" too) is IpcErrorInvalid.
 *   protocol_version: "1", anything else IpcErrorInvalid.
 *   allowed_ip: netip.ParsePrefix, so the "/cidr" is required; a leading
 *     '-' removes that prefix (newer wireguard-go); the trie masks host bits.
 *   endpoint: a literal ip:port or [ipv6]:port. We are stricter than
 *     netip.ParseAddrPort: port 1..65535, unicast, no zone (parse_util.c).
 * After remove=true the rest of that peer's lines are checked but have no
 * effect (wireguard-go makes the peer a "dummy"). wireguard-go also ignores
 * a peer whose public key is the device's own; the codec does not know that
 * key, so the applier must do it. Errors are the negative
 * errnos of ipc/uapi_unix.go: IpcErrorInvalid -EINVAL, IpcErrorProtocol
 * -EPROTO; a status line is "errno=%d\n\n" and userspace_set_device takes
 * that value as its return, so wg(8) prints strerror(EINVAL).
 *
 * Unlike wireguard-go, which applies each line as it reads it and stops at
 * the first error, the whole request is parsed first: a bad request changes
 * nothing. A request without its empty line is an error here (wireguard-go
 * accepts EOF; wg(8) always sends the empty line).
 *
 * A public key named twice. wireguard-go applies the blocks one after the
 * other; the delta has one entry per key, so the later block is merged into
 * the first entry:
 *   - later scalars (preshared key, endpoint, keepalive) win;
 *   - allowed IPs (and removals) are appended in order; a later
 *     replace_allowed_ips drops the entry's earlier ones and sets
 *     REPLACE_ALLOWEDIPS;
 *   - a later remove=true turns the entry into a removal;
 *   - a block after a removal re-creates the peer: the entry gets the
 *     later block's values over a fresh peer (HAS_PRESHARED_KEY zero,
 *     HAS_PERSISTENT_KEEPALIVE 0, REPLACE_ALLOWEDIPS), unless that block has
 *     update_only (the peer is gone: the entry stays a removal). Not exact:
 *     an endpoint the peer had is kept unless the block names one;
 *   - update_only in a later block is dropped when the entry creates the
 *     peer anyway; update_only in the first block only is dropped too, so
 *     when the peer did not exist the first block's values apply as well.
 */
#include "conf/uapi.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/config_index.h"
#include "conf/parse_util.h"
#include "crypto/secure.h"

#define HEX_KEY_LEN (2 * WG_KEY_LEN)

size_t wg_uapi_request_len(const char *buf, size_t len)
{
	size_t start = 0;

	while (start < len) {
		const char *nl = memchr(buf + start, '\n', len - start);
		size_t end;

		if (!nl)
			return 0;
		end = (size_t)(nl - buf);
		if (end == start || (end == start + 1 && buf[start] == '\r'))
			return end + 1;
		start = end + 1;
	}
	return 0;
}

enum wg_uapi_op wg_uapi_op(const char *req, size_t len)
{
	if (len >= 6 && !memcmp(req, "get=1\n", 6))
		return WG_UAPI_GET;
	if (len >= 6 && !memcmp(req, "set=1\n", 6))
		return WG_UAPI_SET;
	return WG_UAPI_INVALID;
}

int wg_uapi_parse_get(const char *req, size_t len)
{
	return len == 7 && !memcmp(req, "get=1\n\n", 7) ? 0 : -EINVAL;
}

/* ---- keys in hex ---- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* exactly 64 hex digits; false leaves out zeroed */
static bool key_from_hex(uint8_t out[WG_KEY_LEN], const char *s)
{
	if (strlen(s) != HEX_KEY_LEN)
		goto bad;
	for (size_t i = 0; i < WG_KEY_LEN; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto bad;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
bad:
	wg_secure_wipe(out, WG_KEY_LEN);
	return false;
}

static void key_to_hex(char out[HEX_KEY_LEN + 1], const uint8_t key[WG_KEY_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < WG_KEY_LEN; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 0xf];
	}
	out[HEX_KEY_LEN] = '\0';
}

/* ---- the set parser ---- */

struct parser {
	unsigned line;
	char *err;
	size_t errlen;
	struct wg_conf_device dev;
	struct wg_conf_index index; /* public key -> entry in dev */
	size_t n_ips;               /* prefixes in dev and cur together */
	/* the public_key block being read */
	bool in_peer;
	bool dup;      /* its key has an entry from an earlier block */
	bool dummy;    /* after remove=true: lines are checked, not recorded */
	size_t target; /* its entry in dev.peers */
	struct wg_conf_peer cur;
};

static int fail(struct parser *p, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->errlen)
		return ret;
	n = snprintf(p->err, p->errlen, "line %u: ", p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return ret;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return ret;
}

/* s as a printable excerpt: control bytes as \xNN, at most 64 characters */
static void quote(char out[300], const char *s)
{
	size_t o = 0;

	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= 64) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, 300 - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

static int bad_value(struct parser *p, const char *key, const char *v, const char *why)
{
	char q[300];

	quote(q, v);
	return fail(p, -EINVAL, "Unable to parse %s: `%s' (%s)", key, q, why);
}

/* for keys: the value is never shown */
static int bad_key(struct parser *p, const char *key)
{
	return fail(p, -EINVAL, "Unable to parse %s: <redacted> (not 64 hex digits)", key);
}

static bool is_device_key(const char *k)
{
	return !strcmp(k, "private_key") || !strcmp(k, "listen_port") || !strcmp(k, "fwmark") ||
	       !strcmp(k, "replace_peers");
}

static bool is_peer_key(const char *k)
{
	static const char *const keys[] = { "update_only", "remove", "preshared_key", "endpoint",
					    "persistent_keepalive_interval", "replace_allowed_ips",
					    "allowed_ip", "protocol_version" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

static int unknown_key(struct parser *p, const char *kind, const char *k)
{
	size_t n = strlen(k);

	/* shown only when it looks like a key name, never hex that may be a secret */
	if (n && n <= 40 && strspn(k, "abcdefghijklmnopqrstuvwxyz_") == n)
		return fail(p, -EINVAL, "Unknown %s key `%s'", kind, k);
	return fail(p, -EINVAL, "Unknown %s key (not shown: not a key name)", kind);
}

static int nomem(struct parser *p)
{
	return fail(p, -ENOMEM, "out of memory");
}

static int parse_uint(struct parser *p, const char *k, const char *v, uint64_t max,
		      uint64_t *out)
{
	const char *why;

	if (!wg_conf_parse_uint(v, max, out, &why))
		return bad_value(p, k, v, why);
	return 0;
}

static int parse_true(struct parser *p, const char *k, const char *v)
{
	return strcmp(v, "true") ? bad_value(p, k, v, "the only value is true") : 0;
}

static int device_line(struct parser *p, const char *k, const char *v)
{
	struct wg_conf_device *d = &p->dev;
	uint64_t n;
	int ret;

	if (!strcmp(k, "private_key")) {
		if (!key_from_hex(d->private_key, v))
			return bad_key(p, k);
		d->flags |= WG_CONF_DEVICE_HAS_PRIVATE_KEY;
	} else if (!strcmp(k, "listen_port")) {
		if ((ret = parse_uint(p, k, v, UINT16_MAX, &n)))
			return ret;
		d->listen_port = (uint16_t)n;
		d->flags |= WG_CONF_DEVICE_HAS_LISTEN_PORT;
	} else if (!strcmp(k, "fwmark")) {
		if ((ret = parse_uint(p, k, v, UINT32_MAX, &n)))
			return ret;
		d->fwmark = (uint32_t)n;
		d->flags |= WG_CONF_DEVICE_HAS_FWMARK;
	} else if (!strcmp(k, "replace_peers")) {
		if ((ret = parse_true(p, k, v)))
			return ret;
		d->flags |= WG_CONF_DEVICE_REPLACE_PEERS;
	} else if (is_peer_key(k)) {
		return fail(p, -EINVAL, "%s before any public_key", k);
	} else {
		return unknown_key(p, "device", k);
	}
	return 0;
}

/* forget a peer's prefixes, keeping the count of all of them right */
static void drop_ips(struct parser *p, struct wg_conf_peer *peer)
{
	p->n_ips -= peer->allowedips.n;
	peer->allowedips.n = 0;
}

/* peer becomes "remove this public key" and nothing else */
static void make_removal(struct parser *p, struct wg_conf_peer *peer)
{
	uint8_t key[WG_KEY_LEN];

	drop_ips(p, peer);
	memcpy(key, peer->public_key, WG_KEY_LEN);
	wg_conf_peer_free(peer);
	memcpy(peer->public_key, key, WG_KEY_LEN);
	peer->flags = WG_CONF_PEER_REMOVE_ME;
}

static int add_ip(struct parser *p, const char *k, const char *v)
{
	bool remove = v[0] == '-';
	struct wg_conf_prefix pfx;
	const char *why;

	if (!wg_conf_parse_prefix(v + remove, true, &pfx, &why))
		return bad_value(p, k, v, why);
	wg_conf_prefix_mask(&pfx);
	if (remove)
		pfx.flags = WG_CONF_PREFIX_REMOVE_ME;
	if (p->dummy)
		return 0;
	if (p->n_ips >= WG_CONF_MAX_ALLOWEDIPS)
		return fail(p, -EINVAL, "more than %u allowed IPs in all", WG_CONF_MAX_ALLOWEDIPS);
	if (wg_conf_prefixes_add(&p->cur.allowedips, &pfx))
		return nomem(p);
	p->n_ips++;
	return 0;
}

static int peer_line(struct parser *p, const char *k, const char *v)
{
	struct wg_conf_peer *c = &p->cur;
	struct wg_endpoint ep;
	uint8_t psk[WG_KEY_LEN];
	const char *why;
	uint64_t n;
	int ret;

	if (!strcmp(k, "update_only")) {
		if ((ret = parse_true(p, k, v)))
			return ret;
		if (!p->dummy)
			c->flags |= WG_CONF_PEER_UPDATE_ONLY;
	} else if (!strcmp(k, "remove")) {
		if ((ret = parse_true(p, k, v)))
			return ret;
		if (!p->dummy)
			make_removal(p, c);
		p->dummy = true;
	} else if (!strcmp(k, "preshared_key")) {
		if (!key_from_hex(psk, v))
			return bad_key(p, k);
		if (!p->dummy) {
			memcpy(c->preshared_key, psk, WG_KEY_LEN);
			c->flags |= WG_CONF_PEER_HAS_PRESHARED_KEY;
		}
		wg_secure_wipe(psk, sizeof(psk));
	} else if (!strcmp(k, "endpoint")) {
		if (!wg_conf_parse_endpoint(v, true, &ep, &why))
			return bad_value(p, k, v, why);
		if (!p->dummy) {
			c->endpoint = ep;
			c->flags |= WG_CONF_PEER_HAS_ENDPOINT;
		}
	} else if (!strcmp(k, "persistent_keepalive_interval")) {
		if ((ret = parse_uint(p, k, v, UINT16_MAX, &n)))
			return ret;
		if (!p->dummy) {
			c->persistent_keepalive = (uint16_t)n;
			c->flags |= WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE;
		}
	} else if (!strcmp(k, "replace_allowed_ips")) {
		if ((ret = parse_true(p, k, v)))
			return ret;
		if (!p->dummy) {
			drop_ips(p, c);
			c->flags |= WG_CONF_PEER_REPLACE_ALLOWEDIPS;
		}
	} else if (!strcmp(k, "allowed_ip")) {
		return add_ip(p, k, v);
	} else if (!strcmp(k, "protocol_version")) {
		if (strcmp(v, "1"))
			return bad_value(p, k, v, "only protocol version 1 exists");
	} else if (is_device_key(k)) {
		return fail(p, -EINVAL, "device key %s after a public_key", k);
	} else {
		return unknown_key(p, "peer", k);
	}
	return 0;
}

/* fold block t into the entry e of the same key from an earlier block */
static int merge(struct parser *p, struct wg_conf_peer *e, struct wg_conf_peer *t)
{
	struct wg_conf_prefixes *l = &t->allowedips;

	if (t->flags & WG_CONF_PEER_REMOVE_ME) {
		make_removal(p, e);
		return 0;
	}
	if (e->flags & WG_CONF_PEER_REMOVE_ME) {
		if (t->flags & WG_CONF_PEER_UPDATE_ONLY) {
			drop_ips(p, t); /* it updates a peer that is gone by then */
			return 0;
		}
		/* created again: a fresh peer (make_removal zeroed the values) */
		e->flags = WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE |
			   WG_CONF_PEER_REPLACE_ALLOWEDIPS;
	} else if (!(t->flags & WG_CONF_PEER_UPDATE_ONLY)) {
		e->flags &= ~(uint32_t)WG_CONF_PEER_UPDATE_ONLY;
	}
	if (t->flags & WG_CONF_PEER_HAS_PRESHARED_KEY)
		memcpy(e->preshared_key, t->preshared_key, WG_KEY_LEN);
	if (t->flags & WG_CONF_PEER_HAS_ENDPOINT)
		e->endpoint = t->endpoint;
	if (t->flags & WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE)
		e->persistent_keepalive = t->persistent_keepalive;
	if (t->flags & WG_CONF_PEER_REPLACE_ALLOWEDIPS)
		drop_ips(p, e);
	e->flags |= t->flags & (WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_ENDPOINT |
				WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE |
				WG_CONF_PEER_REPLACE_ALLOWEDIPS);
	if (!e->allowedips.n) {
		/* take t's list as it is */
		struct wg_conf_prefixes old = e->allowedips;

		e->allowedips = *l;
		*l = old;
		return 0;
	}
	for (size_t i = 0; i < l->n; i++)
		if (wg_conf_prefixes_add(&e->allowedips, &l->v[i]))
			return nomem(p);
	l->n = 0; /* they moved to e, and so did their count */
	return 0;
}

/* the end of a public_key block: its values go to its entry */
static int end_peer(struct parser *p)
{
	struct wg_conf_peer *e;
	int ret = 0;

	if (!p->in_peer)
		return 0;
	p->in_peer = false;
	e = &p->dev.peers[p->target];
	if (!p->dup) {
		*e = p->cur; /* the list moves with it */
		memset(&p->cur, 0, sizeof(p->cur));
		return 0;
	}
	ret = merge(p, e, &p->cur);
	wg_conf_peer_free(&p->cur);
	return ret;
}

static int begin_peer(struct parser *p, const char *v)
{
	uint8_t key[WG_KEY_LEN];
	struct wg_conf_peer *np;
	size_t other;
	int ret = end_peer(p);

	if (ret)
		return ret;
	if (!key_from_hex(key, v))
		return bad_key(p, "public_key");
	/* a slot in the index needs the key in dev: add, and take back a repeat */
	if (p->dev.n_peers >= WG_CONF_MAX_PEERS)
		return fail(p, -EINVAL, "more than %u peers", WG_CONF_MAX_PEERS);
	np = wg_conf_device_add_peer(&p->dev);
	if (!np)
		return nomem(p);
	memcpy(np->public_key, key, WG_KEY_LEN);
	ret = wg_conf_index_add_key(&p->index, &p->dev, p->dev.n_peers - 1, &other);
	if (ret == 0) {
		p->target = p->dev.n_peers - 1;
		p->dup = false;
	} else {
		p->dev.n_peers--;
		memset(np, 0, sizeof(*np));
		if (ret != -EEXIST)
			return nomem(p);
		p->target = other;
		p->dup = true;
	}
	memset(&p->cur, 0, sizeof(p->cur));
	memcpy(p->cur.public_key, key, WG_KEY_LEN);
	p->in_peer = true;
	p->dummy = false;
	return 0;
}

static int parse_line(struct parser *p, char *line, size_t n)
{
	char *eq;

	if (memchr(line, '\0', n))
		return fail(p, -EINVAL, "NUL byte in the line");
	eq = strchr(line, '=');
	if (!eq)
		return fail(p, -EPROTO, "no '=' in the line (lines are key=value)");
	*eq = '\0';
	if (!strcmp(line, "public_key"))
		return begin_peer(p, eq + 1);
	if (p->in_peer)
		return peer_line(p, line, eq + 1);
	return device_line(p, line, eq + 1);
}

int wg_uapi_parse_set(const char *req, size_t len, struct wg_conf_device *out, char *err,
		      size_t errlen)
{
	struct parser p = { .line = 1, .err = err, .errlen = errlen };
	char line[WG_CONF_MAX_LINE + 1];
	size_t pos = 6;
	int ret;

	if (errlen)
		err[0] = '\0';
	if (wg_uapi_op(req, len) != WG_UAPI_SET)
		return fail(&p, -EPROTO, "not a set=1 request");
	for (;;) {
		const char *nl;
		size_t n;

		p.line++;
		nl = pos < len ? memchr(req + pos, '\n', len - pos) : NULL;
		if (!nl) {
			ret = fail(&p, -EPROTO, "the request ends without an empty line");
			break;
		}
		n = (size_t)(nl - (req + pos));
		if (n && req[pos + n - 1] == '\r')
			n--; /* as Go's bufio.ScanLines */
		if (!n) {
			ret = (size_t)(nl - req) + 1 == len
				      ? end_peer(&p)
				      : fail(&p, -EPROTO, "bytes after the empty line that ends the request");
			break;
		}
		if (n > WG_CONF_MAX_LINE) {
			ret = fail(&p, -EINVAL, "longer than %u bytes", WG_CONF_MAX_LINE);
			break;
		}
		memcpy(line, req + pos, n);
		line[n] = '\0';
		pos = (size_t)(nl - req) + 1;
		if ((ret = parse_line(&p, line, n)))
			break;
	}
	wg_secure_wipe(line, sizeof(line));
	wg_conf_index_free(&p.index);
	if (ret) {
		wg_conf_peer_free(&p.cur);
		wg_conf_device_free(&p.dev);
		return ret;
	}
	*out = p.dev;
	return 0;
}

/* ---- writers ---- */

static void put_key(FILE *f, const char *name, const uint8_t key[WG_KEY_LEN])
{
	char hex[HEX_KEY_LEN + 1];

	key_to_hex(hex, key);
	fprintf(f, "%s=%s\n", name, hex);
	wg_secure_wipe(hex, sizeof(hex));
}

static bool has_family(uint8_t family)
{
	return family == AF_INET || family == AF_INET6;
}

static int done(FILE *f)
{
	return ferror(f) ? -EIO : 0;
}

int wg_uapi_write_device(FILE *f, const struct wg_conf_device *dev)
{
	if ((dev->flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY) &&
	    !wg_secure_is_zero(dev->private_key, WG_KEY_LEN))
		put_key(f, "private_key", dev->private_key);
	if (dev->listen_port)
		fprintf(f, "listen_port=%u\n", (unsigned)dev->listen_port);
	if (dev->fwmark)
		fprintf(f, "fwmark=%" PRIu32 "\n", dev->fwmark);
	return done(f);
}

static void put_prefixes(FILE *f, const struct wg_conf_prefixes *l, bool removals)
{
	char text[WG_CONF_PREFIX_STR];

	for (size_t i = 0; i < l->n; i++) {
		const struct wg_conf_prefix *x = &l->v[i];
		bool remove = x->flags & WG_CONF_PREFIX_REMOVE_ME;

		if (!has_family(x->family) || (remove && !removals))
			continue;
		wg_conf_format_prefix(text, x);
		fprintf(f, "allowed_ip=%s%s\n", remove ? "-" : "", text);
	}
}

static void put_endpoint(FILE *f, const struct wg_endpoint *ep)
{
	char text[WG_CONF_ENDPOINT_STR];

	wg_conf_format_endpoint(text, ep);
	fprintf(f, "endpoint=%s\n", text);
}

int wg_uapi_write_peer(FILE *f, const struct wg_conf_peer *p, const struct wg_uapi_peer_stats *st)
{
	static const struct wg_uapi_peer_stats none;

	if (!st)
		st = &none;
	put_key(f, "public_key", p->public_key);
	put_key(f, "preshared_key", p->preshared_key);
	fputs("protocol_version=1\n", f);
	if (has_family(p->endpoint.family))
		put_endpoint(f, &p->endpoint);
	fprintf(f,
		"last_handshake_time_sec=%" PRIu64 "\nlast_handshake_time_nsec=%" PRIu64
		"\ntx_bytes=%" PRIu64 "\nrx_bytes=%" PRIu64 "\npersistent_keepalive_interval=%u\n",
		st->last_handshake_sec, st->last_handshake_nsec, st->tx_bytes, st->rx_bytes,
		(unsigned)p->persistent_keepalive);
	put_prefixes(f, &p->allowedips, false);
	return done(f);
}

int wg_uapi_write_errno(FILE *f, int err)
{
	if (err > 0)
		err = -err;
	fprintf(f, "errno=%d\n\n", err);
	return done(f);
}

int wg_uapi_write_set(FILE *f, const struct wg_conf_device *dev)
{
	fputs("set=1\n", f);
	if (dev->flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY)
		put_key(f, "private_key", dev->private_key);
	if (dev->flags & WG_CONF_DEVICE_HAS_LISTEN_PORT)
		fprintf(f, "listen_port=%u\n", (unsigned)dev->listen_port);
	if (dev->flags & WG_CONF_DEVICE_HAS_FWMARK)
		fprintf(f, "fwmark=%" PRIu32 "\n", dev->fwmark);
	if (dev->flags & WG_CONF_DEVICE_REPLACE_PEERS)
		fputs("replace_peers=true\n", f);
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wg_conf_peer *p = &dev->peers[i];

		put_key(f, "public_key", p->public_key);
		if (p->flags & WG_CONF_PEER_REMOVE_ME) {
			fputs("remove=true\n", f);
			continue;
		}
		if (p->flags & WG_CONF_PEER_UPDATE_ONLY)
			fputs("update_only=true\n", f);
		if (p->flags & WG_CONF_PEER_HAS_PRESHARED_KEY)
			put_key(f, "preshared_key", p->preshared_key);
		if ((p->flags & WG_CONF_PEER_HAS_ENDPOINT) && has_family(p->endpoint.family))
			put_endpoint(f, &p->endpoint);
		if (p->flags & WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE)
			fprintf(f, "persistent_keepalive_interval=%u\n",
				(unsigned)p->persistent_keepalive);
		if (p->flags & WG_CONF_PEER_REPLACE_ALLOWEDIPS)
			fputs("replace_allowed_ips=true\n", f);
		put_prefixes(f, &p->allowedips, true);
	}
	fputc('\n', f);
	return done(f);
}
