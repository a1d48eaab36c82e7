/* SPDX-License-Identifier: MIT */
/*
 * Value syntax of the config file. The forms follow wg(8) and wg-quick(8):
 * addresses are what inet_pton accepts, prefixes are addr[/cidr], endpoints
 * host:port with IPv6 in brackets. Where wg is looser we are stricter and
 * say why: numeric ports only (no service names), an IPv6 endpoint must be
 * bracketed (2001:db8::1:51820 is ambiguous), no zone ids.
 */
#include "conf/parse_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool wg_conf_parse_uint(const char *s, uint64_t max, uint64_t *out, const char **why)
{
	uint64_t v = 0;
	size_t i;

	if (!*s) {
		*why = "empty";
		return false;
	}
	for (i = 0; s[i]; i++) {
		if (!is_digit(s[i])) {
			*why = "not a decimal number";
			return false;
		}
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10) {
			*why = "number too large";
			return false;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max) {
		*why = "number too large";
		return false;
	}
	*out = v;
	return true;
}

bool wg_conf_parse_addr(const char *s, uint8_t *family, uint8_t addr[16], const char **why)
{
	memset(addr, 0, 16);
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, addr) == 1) {
			*family = AF_INET6;
			return true;
		}
	} else if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	memset(addr, 0, 16);
	*family = 0;
	*why = "not an IPv4 or IPv6 address";
	return false;
}

bool wg_conf_parse_prefix(const char *s, bool cidr_required, struct wg_conf_prefix *p,
			  const char **why)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t cidr;

	memset(p, 0, sizeof(*p));
	if (hlen >= sizeof(host)) {
		*why = "not an IPv4 or IPv6 address";
		return false;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (!wg_conf_parse_addr(host, &p->family, p->addr, why))
		return false;
	if (!slash) {
		if (cidr_required) {
			*why = "needs a prefix length, as in 192.0.2.1/24";
			goto bad;
		}
		p->cidr = p->family == AF_INET ? 32 : 128;
		return true;
	}
	if (!wg_conf_parse_uint(slash + 1, p->family == AF_INET ? 32 : 128, &cidr, why)) {
		*why = p->family == AF_INET ? "prefix length must be 0-32"
					    : "prefix length must be 0-128";
		goto bad;
	}
	p->cidr = (uint8_t)cidr;
	return true;
bad:
	memset(p, 0, sizeof(*p));
	return false;
}

bool wg_conf_prefix_mask(struct wg_conf_prefix *p)
{
	unsigned bytes = p->family == AF_INET ? 4 : 16;
	bool had = false;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned lo = i * 8;
		uint8_t keep;

		if (p->cidr >= lo + 8)
			continue;
		keep = p->cidr <= lo ? 0 : (uint8_t)(0xff << (8 - (p->cidr - lo)));
		if (p->addr[i] & (uint8_t)~keep)
			had = true;
		p->addr[i] &= keep;
	}
	return had;
}

bool wg_conf_prefix_contains(const struct wg_conf_prefix *net, const uint8_t addr[16])
{
	unsigned full = net->cidr / 8, rest = net->cidr % 8;

	if (memcmp(net->addr, addr, full))
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));

		return ((net->addr[full] ^ addr[full]) & m) == 0;
	}
	return true;
}

bool wg_conf_addr_is_unicast(uint8_t family, const uint8_t addr[16])
{
	static const uint8_t zero[16];

	if (family == AF_INET) {
		if (!memcmp(addr, zero, 4) || (addr[0] & 0xf0) == 0xe0)
			return false;
		return !(addr[0] == 255 && addr[1] == 255 && addr[2] == 255 && addr[3] == 255);
	}
	if (family == AF_INET6)
		return memcmp(addr, zero, 16) && addr[0] != 0xff;
	return false;
}

bool wg_conf_addr_is_link_local(uint8_t family, const uint8_t addr[16])
{
	return family == AF_INET6 && addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80;
}

/* letters, digits, '-', '.', '_' ; at most 253 characters */
static bool valid_hostname(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
		      c == '.' || c == '_'))
			return false;
	}
	return true;
}

static bool resolve(const char *host, struct wg_endpoint *ep, const char **why)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_protocol = IPPROTO_UDP,
	};
	struct addrinfo *res, *ai;
	int ret = getaddrinfo(host, NULL, &hints, &res);

	if (ret) {
		*why = ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret);
		return false;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET && ai->ai_addrlen == sizeof(struct sockaddr_in)) {
			const struct sockaddr_in *sin = (const void *)ai->ai_addr;

			ep->family = AF_INET;
			memcpy(ep->addr, &sin->sin_addr, 4);
			break;
		}
		if (ai->ai_family == AF_INET6 && ai->ai_addrlen == sizeof(struct sockaddr_in6)) {
			const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;

			ep->family = AF_INET6;
			memcpy(ep->addr, &sin6->sin6_addr, 16);
			break;
		}
	}
	freeaddrinfo(res);
	if (!ai) {
		*why = "name has neither an IPv4 nor an IPv6 address";
		return false;
	}
	return true;
}

bool wg_conf_parse_endpoint(const char *s, bool numeric_only, struct wg_endpoint *ep,
			    const char **why)
{
	char host[256];
	const char *port, *close;
	size_t hlen;
	uint64_t v;

	memset(ep, 0, sizeof(*ep));
	if (!*s) {
		*why = "empty";
		return false;
	}
	if (s[0] == '[') {
		close = strchr(s, ']');
		if (!close) {
			*why = "no closing bracket";
			return false;
		}
		if (close[1] != ':' || !close[2]) {
			*why = "no port after the bracketed address, as in [2001:db8::1]:51820";
			return false;
		}
		hlen = (size_t)(close - s - 1);
		port = close + 2;
		if (hlen >= sizeof(host) || !memchr(s + 1, ':', hlen)) {
			*why = "not an IPv6 address in the brackets";
			return false;
		}
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, ep->addr) != 1) {
			*why = "not an IPv6 address in the brackets";
			return false;
		}
		ep->family = AF_INET6;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon || !colon[1]) {
			*why = "no port, as in 192.0.2.1:51820";
			return false;
		}
		hlen = (size_t)(colon - s);
		port = colon + 1;
		if (memchr(s, ':', hlen)) {
			*why = "an IPv6 address needs brackets, as in [2001:db8::1]:51820";
			return false;
		}
		if (!hlen) {
			*why = "no host";
			return false;
		}
		if (hlen >= sizeof(host)) {
			*why = "host name longer than 253 characters";
			return false;
		}
		memcpy(host, s, hlen);
		host[hlen] = '\0';
	}
	if (!wg_conf_parse_uint(port, 65535, &v, why) || v == 0) {
		*why = "port must be 1-65535";
		goto bad;
	}
	if (ep->family == 0) {
		if (inet_pton(AF_INET, host, ep->addr) == 1) {
			ep->family = AF_INET;
		} else if (!valid_hostname(host)) {
			*why = "not an address or host name";
			goto bad;
		} else if (numeric_only) {
			*why = "not a numeric address (name resolution is off)";
			goto bad;
		} else if (!resolve(host, ep, why)) {
			goto bad;
		}
	}
	if (!wg_conf_addr_is_unicast(ep->family, ep->addr)) {
		*why = "not a unicast address";
		goto bad;
	}
	ep->port = htons((uint16_t)v);
	return true;
bad:
	memset(ep, 0, sizeof(*ep));
	return false;
}

bool wg_conf_parse_lcores(const char *s, uint16_t out[WG_CONF_MAX_LCORES], unsigned *n,
			  const char **why)
{
	uint8_t seen[WG_CONF_MAX_LCORES] = { 0 };
	const char *p = s;

	*n = 0;
	if (!*s) {
		*why = "empty";
		return false;
	}
	for (;;) {
		char item[32];
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char *dash;
		uint64_t lo, hi;

		if (!len || len >= sizeof(item)) {
			*why = "not a list of lcore ids and ranges, as in 1-3,5";
			return false;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		dash = strchr(item, '-');
		if (dash)
			*dash = '\0';
		if (!wg_conf_parse_uint(item, UINT16_MAX, &lo, why) ||
		    (dash && !wg_conf_parse_uint(dash + 1, UINT16_MAX, &hi, why))) {
			*why = "not a list of lcore ids and ranges, as in 1-3,5";
			return false;
		}
		if (!dash)
			hi = lo;
		if (hi < lo) {
			*why = "range runs backwards";
			return false;
		}
		if (hi >= WG_CONF_MAX_LCORES) {
			*why = "lcore ids must be 0-127";
			return false;
		}
		for (uint64_t id = lo; id <= hi; id++) {
			if (seen[id]) {
				*why = "an lcore is listed twice";
				return false;
			}
			seen[id] = 1;
			out[(*n)++] = (uint16_t)id; /* unique ids < 128: never overflows */
		}
		if (!comma)
			return true;
		p = comma + 1;
	}
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* DDDD:BB:DD.F or BB:DD.F, hex digits; the function is 0-7 */
static bool is_pci_addr(const char *s, size_t len)
{
	static const char long_form[] = "xxxx:xx:xx.f", short_form[] = "xx:xx.f";
	const char *form = len == sizeof(long_form) - 1 ? long_form : short_form;

	if (len != strlen(form))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (form[i] == 'x' && !is_hex(s[i]))
			return false;
		if (form[i] == 'f' && !(s[i] >= '0' && s[i] <= '7'))
			return false;
		if ((form[i] == ':' || form[i] == '.') && s[i] != form[i])
			return false;
	}
	return true;
}

bool wg_conf_check_devargs(const char *s, const char **why)
{
	size_t len = strlen(s), nlen = strcspn(s, ",");

	if (!len) {
		*why = "empty";
		return false;
	}
	if (len >= WG_CONF_DEVARGS_MAX) {
		*why = "longer than 255 characters";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] > '~') {
			*why = "contains a space or a non-printable character";
			return false;
		}
	}
	if (is_digit(s[0])) {
		if (!is_pci_addr(s, nlen)) {
			*why = "not a PCI address (0000:3b:00.0) or a device name (net_tap0)";
			return false;
		}
	} else {
		if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
			*why = "not a PCI address (0000:3b:00.0) or a device name (net_tap0)";
			return false;
		}
		for (size_t i = 0; i < nlen; i++) {
			char c = s[i];

			if (!(is_hex(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      c == '_' || c == '.' || c == ':' || c == '-')) {
				*why = "device name may hold letters, digits, '_', '.', ':' and '-'";
				return false;
			}
		}
	}
	/* arguments: non-empty key=value items */
	for (const char *p = s + nlen; *p;) {
		size_t ilen;

		p++; /* the comma */
		ilen = strcspn(p, ",");
		if (!ilen || !memchr(p, '=', ilen) || p[0] == '=') {
			*why = "arguments must be key=value items separated by commas";
			return false;
		}
		p += ilen;
	}
	return true;
}

bool wg_conf_check_ifname(const char *s, const char **why)
{
	size_t len = strlen(s);

	if (!len || len >= WG_CONF_IFNAME_MAX) {
		*why = "an interface name has 1-15 characters";
		return false;
	}
	if (!strcmp(s, ".") || !strcmp(s, "..")) {
		*why = "not a valid interface name";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '/' || s[i] == ':') {
			*why = "an interface name may not hold '/', ':', spaces or control characters";
			return false;
		}
	}
	return true;
}

void wg_conf_format_addr(char out[WG_CONF_PREFIX_STR], uint8_t family, const uint8_t addr[16])
{
	if (!inet_ntop(family == AF_INET ? AF_INET : AF_INET6, addr, out, WG_CONF_PREFIX_STR))
		snprintf(out, WG_CONF_PREFIX_STR, "?");
}

void wg_conf_format_prefix(char out[WG_CONF_PREFIX_STR], const struct wg_conf_prefix *p)
{
	size_t n;

	wg_conf_format_addr(out, p->family, p->addr);
	n = strlen(out);
	snprintf(out + n, WG_CONF_PREFIX_STR - n, "/%u", (unsigned)p->cidr);
}

void wg_conf_format_endpoint(char out[WG_CONF_ENDPOINT_STR], const struct wg_endpoint *ep)
{
	char a[WG_CONF_PREFIX_STR];

	wg_conf_format_addr(a, ep->family, ep->addr);
	snprintf(out, WG_CONF_ENDPOINT_STR, ep->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
		 (unsigned)ntohs(ep->port));
}

void wg_conf_format_lcores(char *out, size_t outlen, const uint16_t *ids, unsigned n)
{
	size_t pos = 0;

	if (outlen)
		out[0] = '\0';
	for (unsigned i = 0; i < n;) {
		unsigned j = i;
		int w;

		while (j + 1 < n && ids[j + 1] == ids[j] + 1)
			j++;
		if (j - i >= 2) {
			w = snprintf(out + pos, outlen - pos, "%s%u-%u", i ? "," : "", ids[i],
				     ids[j]);
			i = j + 1;
		} else {
			w = snprintf(out + pos, outlen - pos, "%s%u", i ? "," : "", ids[i]);
			i++;
		}
		if (w < 0 || (size_t)w >= outlen - pos)
			return; /* truncated: caller's buffer too small */
		pos += (size_t)w;
	}
}
