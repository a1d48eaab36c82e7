/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the UAPI codec (conf/uapi.c). Any input either fails
 * with -EINVAL or -EPROTO and a one-line "line N: ..." message, leaving the
 * output untouched, or parses; what parses must
 *   - be written by wg_uapi_write_set as a request that frames to its own
 *     length and parses back to an equal delta, and
 *   - be written as a get reply (device, peers, errno) that, with its
 *     read-only lines dropped, parses as a set to the same keys, endpoints,
 *     keepalives and allowed IPs (removals and removed peers left out).
 * The framing helpers run on the raw input as well.
 *
 * The first input byte picks a prefix put before the rest (bits 0-1: none,
 * "set=1\n", "set=1\npublic_key=K\n", "set=1\nprivate_key=K\n") and whether
 * "\n\n" is appended (bit 2), so the fuzzer reaches peer lines quickly.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/uapi.h"
#include "crypto/secure.h"

#define KEY "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"

static const char *const prefixes[] = {
	"",
	"set=1\n",
	"set=1\npublic_key=" KEY "\n",
	"set=1\nprivate_key=" KEY "\n",
};


static void check_framing(const char *buf, size_t len)
{
	size_t n = wg_uapi_request_len(buf, len);

	if (n > len || (n && buf[n - 1] != '\n'))
		abort();
	if (wg_uapi_parse_get(buf, len) == 0 && wg_uapi_op(buf, len) != WG_UAPI_GET)
		abort();
}

/* the get reply for d, as a set request without the read-only lines */
static char *get_as_set(const struct wg_conf_device *d, size_t *len)
{
	static const char *const drop[] = { "last_handshake_time_sec=", "last_handshake_time_nsec=",
					    "tx_bytes=", "rx_bytes=", "errno=" };
	struct wg_uapi_peer_stats st = { 1, 2, 3, 4 };
	char *get = NULL, *set = NULL;
	size_t glen;
	FILE *f = open_memstream(&get, &glen);

	if (!f || wg_uapi_write_device(f, d))
		abort();
	for (size_t i = 0; i < d->n_peers; i++)
		if (!(d->peers[i].flags & WG_CONF_PEER_REMOVE_ME) &&
		    wg_uapi_write_peer(f, &d->peers[i], &st))
			abort();
	if (wg_uapi_write_errno(f, 0))
		abort();
	fclose(f);
	if (glen < 9 || memcmp(get + glen - 9, "errno=0\n\n", 9) || memchr(get, '\0', glen))
		abort();
	f = open_memstream(&set, len);
	if (!f)
		abort();
	fputs("set=1\n", f);
	for (const char *l = get; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = (size_t)(nl - l) + 1;
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
	free(get);
	return set;
}

static bool same_prefix(const struct wg_conf_prefix *a, const struct wg_conf_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr && !memcmp(a->addr, b->addr, 16);
}

/* back (from the get reply) holds what d would leave in a device */
static void check_get(const struct wg_conf_device *d, const struct wg_conf_device *back)
{
	size_t j = 0;

	if ((d->flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY) && !wg_secure_is_zero(d->private_key, WG_KEY_LEN)) {
		if (!(back->flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY) ||
		    memcmp(back->private_key, d->private_key, WG_KEY_LEN))
			abort();
	} else if (back->flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY) {
		abort();
	}
	if (back->listen_port != d->listen_port || back->fwmark != d->fwmark)
		abort();
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct wg_conf_peer *a = &d->peers[i], *b;
		size_t k = 0;

		if (a->flags & WG_CONF_PEER_REMOVE_ME)
			continue;
		if (j >= back->n_peers)
			abort();
		b = &back->peers[j++];
		if (memcmp(a->public_key, b->public_key, WG_KEY_LEN) ||
		    memcmp(a->preshared_key, b->preshared_key, WG_KEY_LEN) ||
		    !wg_endpoint_equal(&a->endpoint, &b->endpoint) ||
		    a->persistent_keepalive != b->persistent_keepalive)
			abort();
		for (size_t m = 0; m < a->allowedips.n; m++) {
			if (a->allowedips.v[m].flags & WG_CONF_PREFIX_REMOVE_ME)
				continue;
			if (k >= b->allowedips.n || !same_prefix(&a->allowedips.v[m], &b->allowedips.v[k]))
				abort();
			k++;
		}
		if (k != b->allowedips.n)
			abort();
	}
	if (j != back->n_peers)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_conf_device d, back;
	char err[512], *text, *out = NULL;
	size_t plen, len, olen;
	const char *prefix;
	FILE *f;
	int ret;

	if (!size)
		return 0;
	check_framing((const char *)data, size);
	prefix = prefixes[data[0] & 3];
	plen = strlen(prefix);
	text = malloc(plen + size + 2);
	if (!text)
		return 0;
	memcpy(text, prefix, plen);
	memcpy(text + plen, data + 1, size - 1);
	len = plen + size - 1;
	if (data[0] & 4) {
		memcpy(text + len, "\n\n", 2);
		len += 2;
	}
	check_framing(text, len);

	memset(&d, 0, sizeof(d));
	ret = wg_uapi_parse_set(text, len, &d, err, sizeof(err));
	free(text);
	if (ret) {
		if ((ret != -EINVAL && ret != -EPROTO) || strncmp(err, "line ", 5) ||
		    strchr(err, '\n') || !wg_secure_is_zero(&d, sizeof(d)))
			abort();
		return 0;
	}
	if (d.flags & ~(uint32_t)(WG_CONF_DEVICE_HAS_PRIVATE_KEY | WG_CONF_DEVICE_HAS_LISTEN_PORT |
				  WG_CONF_DEVICE_HAS_FWMARK | WG_CONF_DEVICE_REPLACE_PEERS))
		abort();
	for (size_t i = 0; i < d.n_peers; i++)
		if (d.peers[i].flags >= WG_CONF_PEER_HAS_NAME)
			abort();

	/* as a set request */
	f = open_memstream(&out, &olen);
	if (!f || wg_uapi_write_set(f, &d))
		abort();
	fclose(f);
	if (wg_uapi_request_len(out, olen) != olen || wg_uapi_op(out, olen) != WG_UAPI_SET)
		abort();
	memset(&back, 0, sizeof(back));
	if (wg_uapi_parse_set(out, olen, &back, err, sizeof(err))) {
		fprintf(stderr, "written set does not parse: %s\n%s", err, out);
		abort();
	}
	if (!wg_conf_device_equal(&d, &back)) {
		fprintf(stderr, "written set parses to something else:\n%s", out);
		abort();
	}
	free(out);
	wg_conf_device_free(&back);

	/* as a get reply */
	out = get_as_set(&d, &olen);
	memset(&back, 0, sizeof(back));
	if (wg_uapi_parse_set(out, olen, &back, err, sizeof(err))) {
		fprintf(stderr, "get reply does not parse as a set: %s\n%s", err, out);
		abort();
	}
	check_get(&d, &back);
	free(out);
	wg_conf_device_free(&back);
	wg_conf_device_free(&d);
	return 0;
}
