/* SPDX-License-Identifier: MIT */
/*
 * An outer UDP endpoint as the protocol code sees it: family, address and
 * port, no sockaddr and no mbuf. Cookies are bound to it and the rate limiter
 * keys on its address.
 */
#ifndef WG_ENDPOINT_H
#define WG_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

struct wg_endpoint {
	uint8_t family;   /* AF_INET or AF_INET6; 0 = none */
	uint16_t port;    /* network byte order */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
};

/* bytes of address that identify the endpoint (4 or 16), 0 when unset */
static inline size_t wg_endpoint_addr_len(const struct wg_endpoint *ep)
{
	return ep->family == AF_INET ? 4 : ep->family == AF_INET6 ? 16 : 0;
}

/*
 * The bytes the cookie MAC covers: address then port (network order), as the
 * kernel feeds them (4 + 2 or 16 + 2 bytes). Returns the length written.
 */
static inline size_t wg_endpoint_cookie_bytes(const struct wg_endpoint *ep, uint8_t out[18])
{
	size_t n = wg_endpoint_addr_len(ep);
	memcpy(out, ep->addr, n);
	memcpy(out + n, &ep->port, 2);
	return n + 2;
}

static inline bool wg_endpoint_equal(const struct wg_endpoint *a, const struct wg_endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->addr, b->addr, wg_endpoint_addr_len(a)) == 0;
}

#endif
