/* SPDX-License-Identifier: MIT */
/*
 * ICMP echo packets for wgprobe, as whole IP packets (what travels inside a
 * WireGuard tunnel): IPv4 + ICMP echo (RFC 792) or IPv6 + ICMPv6 echo
 * (RFC 4443, checksum over the RFC 8200 pseudo-header). Pure functions on
 * buffers, no I/O.
 */
#ifndef WG_PROBE_ICMP_H
#define WG_PROBE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WG_PROBE_IPV4_HDR_LEN 20u
#define WG_PROBE_IPV6_HDR_LEN 40u
#define WG_PROBE_ICMP_HDR_LEN 8u
#define WG_PROBE_TTL 64u

/* an echo request to build, or the echo reply found in a packet */
struct wg_probe_echo {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t src[16];   /* IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint16_t id;       /* host order */
	uint16_t seq;      /* host order */
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Internet checksum (RFC 1071) of data[0..len), folded with the 32-bit
 * partial sum initial (0 to start); returns the complemented 16-bit result in
 * host order, ready to store big-endian.
 */
uint16_t wg_probe_icmp_checksum(const void *data, size_t len, uint32_t initial);

/*
 * Write an echo request IP packet from e->src to e->dst into buf: IPv4 header
 * (TTL 64, DF, id 0, header checksum) + ICMP type 8, or IPv6 header (hop
 * limit 64) + ICMPv6 type 128. Returns the packet length, -EINVAL (unknown
 * family, payload too large for one IP packet) or -ENOSPC (cap too small).
 */
ssize_t wg_probe_icmp_build_echo(uint8_t *buf, size_t cap, const struct wg_probe_echo *e);

/*
 * Parse pkt[0..len) (trailing bytes after the IP packet, such as WireGuard's
 * padding, are ignored) as an echo reply: IPv4 with a valid header checksum,
 * unfragmented, protocol ICMP, type 0 code 0; or IPv6 with next header
 * ICMPv6, type 129 code 0; the ICMP checksum must verify in both. On success
 * fills *out (payload points into pkt) and returns 0. Errors: -EINVAL
 * (truncated or malformed: bad version, header length, total length beyond
 * len, ICMP header cut short, IPv4 fragments), -EBADMSG (a checksum does not
 * verify), -ENOMSG (well formed, but not an echo reply: another protocol,
 * IPv6 extension headers, another ICMP type or code).
 */
int wg_probe_icmp_parse_reply(const uint8_t *pkt, size_t len, struct wg_probe_echo *out);

/*
 * true when the reply r answers the request q: same family, r comes from
 * q->dst to q->src, same id, seq and payload.
 */
bool wg_probe_icmp_matches(const struct wg_probe_echo *q, const struct wg_probe_echo *r);

#endif
