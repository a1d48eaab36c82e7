/* SPDX-License-Identifier: MIT */
/*
 * ICMP/ICMPv6 echo packets for wgprobe: build a request, parse and validate a
 * reply. All multi-byte header fields are big-endian (network order) and are
 * written and read byte by byte, so the buffers need no alignment.
 */
#include "tools/probe_icmp.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define IPPROTO_ICMP_NUM 1u
#define IPPROTO_ICMPV6_NUM 58u
#define ICMP4_ECHO_REPLY 0u
#define ICMP4_ECHO_REQUEST 8u
#define ICMP6_ECHO_REQUEST 128u
#define ICMP6_ECHO_REPLY 129u
#define IP_MAX_LEN 65535u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* unfolded one's-complement sum of big-endian 16-bit words (odd tail padded) */
static uint64_t sum16(const uint8_t *p, size_t len, uint64_t sum)
{
	while (len > 1) {
		sum += get16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t wg_probe_icmp_checksum(const void *data, size_t len, uint32_t initial)
{
	return fold(sum16(data, len, initial));
}

/* sum of the IPv6 pseudo-header (RFC 8200 section 8.1) for ICMPv6 */
static uint64_t pseudo6(const uint8_t *src, const uint8_t *dst, size_t upper_len)
{
	uint8_t ph[40];

	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	ph[32] = (uint8_t)(upper_len >> 24);
	ph[33] = (uint8_t)(upper_len >> 16);
	ph[34] = (uint8_t)(upper_len >> 8);
	ph[35] = (uint8_t)upper_len;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = IPPROTO_ICMPV6_NUM;
	return sum16(ph, sizeof(ph), 0);
}

static void build_icmp(uint8_t *icmp, uint8_t type, const struct wg_probe_echo *e)
{
	icmp[0] = type;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, e->id);
	put16(icmp + 6, e->seq);
	if (e->payload_len)
		memcpy(icmp + WG_PROBE_ICMP_HDR_LEN, e->payload, e->payload_len);
}

ssize_t wg_probe_icmp_build_echo(uint8_t *buf, size_t cap, const struct wg_probe_echo *e)
{
	size_t icmp_len = WG_PROBE_ICMP_HDR_LEN + e->payload_len;
	uint8_t *icmp;
	size_t total;

	if (e->payload_len && !e->payload)
		return -EINVAL;
	if (e->family == AF_INET) {
		if (e->payload_len > IP_MAX_LEN - WG_PROBE_IPV4_HDR_LEN - WG_PROBE_ICMP_HDR_LEN)
			return -EINVAL;
		total = WG_PROBE_IPV4_HDR_LEN + icmp_len;
		if (cap < total)
			return -ENOSPC;
		buf[0] = 0x45; /* version 4, 5 words of header */
		buf[1] = 0;    /* DSCP/ECN */
		put16(buf + 2, (uint16_t)total);
		put16(buf + 4, 0);      /* identification: unused with DF (RFC 6864) */
		put16(buf + 6, 0x4000); /* DF, offset 0 */
		buf[8] = WG_PROBE_TTL;
		buf[9] = IPPROTO_ICMP_NUM;
		put16(buf + 10, 0);
		memcpy(buf + 12, e->src, 4);
		memcpy(buf + 16, e->dst, 4);
		put16(buf + 10, wg_probe_icmp_checksum(buf, WG_PROBE_IPV4_HDR_LEN, 0));
		icmp = buf + WG_PROBE_IPV4_HDR_LEN;
		build_icmp(icmp, ICMP4_ECHO_REQUEST, e);
		put16(icmp + 2, wg_probe_icmp_checksum(icmp, icmp_len, 0));
		return (ssize_t)total;
	}
	if (e->family == AF_INET6) {
		if (icmp_len > IP_MAX_LEN)
			return -EINVAL;
		total = WG_PROBE_IPV6_HDR_LEN + icmp_len;
		if (cap < total)
			return -ENOSPC;
		buf[0] = 0x60; /* version 6, traffic class 0, flow label 0 */
		buf[1] = buf[2] = buf[3] = 0;
		put16(buf + 4, (uint16_t)icmp_len);
		buf[6] = IPPROTO_ICMPV6_NUM;
		buf[7] = WG_PROBE_TTL;
		memcpy(buf + 8, e->src, 16);
		memcpy(buf + 24, e->dst, 16);
		icmp = buf + WG_PROBE_IPV6_HDR_LEN;
		build_icmp(icmp, ICMP6_ECHO_REQUEST, e);
		put16(icmp + 2, fold(sum16(icmp, icmp_len, pseudo6(e->src, e->dst, icmp_len))));
		return (ssize_t)total;
	}
	return -EINVAL;
}

static void read_echo(const uint8_t *icmp, size_t icmp_len, struct wg_probe_echo *out)
{
	out->id = get16(icmp + 4);
	out->seq = get16(icmp + 6);
	out->payload = icmp + WG_PROBE_ICMP_HDR_LEN;
	out->payload_len = icmp_len - WG_PROBE_ICMP_HDR_LEN;
}

static int parse4(const uint8_t *pkt, size_t len, struct wg_probe_echo *out)
{
	size_t ihl, total, icmp_len;
	const uint8_t *icmp;

	if (len < WG_PROBE_IPV4_HDR_LEN)
		return -EINVAL;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	total = get16(pkt + 2);
	if (ihl < WG_PROBE_IPV4_HDR_LEN || total < ihl || total > len)
		return -EINVAL;
	if (wg_probe_icmp_checksum(pkt, ihl, 0) != 0)
		return -EBADMSG;
	if (get16(pkt + 6) & 0x3fff) /* MF or a fragment offset */
		return -EINVAL;
	if (pkt[9] != IPPROTO_ICMP_NUM)
		return -ENOMSG;
	icmp = pkt + ihl;
	icmp_len = total - ihl;
	if (icmp_len < WG_PROBE_ICMP_HDR_LEN)
		return -EINVAL;
	if (wg_probe_icmp_checksum(icmp, icmp_len, 0) != 0)
		return -EBADMSG;
	if (icmp[0] != ICMP4_ECHO_REPLY || icmp[1] != 0)
		return -ENOMSG;
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	memcpy(out->src, pkt + 12, 4);
	memcpy(out->dst, pkt + 16, 4);
	read_echo(icmp, icmp_len, out);
	return 0;
}

static int parse6(const uint8_t *pkt, size_t len, struct wg_probe_echo *out)
{
	size_t icmp_len;
	const uint8_t *icmp;

	if (len < WG_PROBE_IPV6_HDR_LEN)
		return -EINVAL;
	icmp_len = get16(pkt + 4);
	if (icmp_len > len - WG_PROBE_IPV6_HDR_LEN)
		return -EINVAL;
	/* anything else, extension headers included, is not our reply */
	if (pkt[6] != IPPROTO_ICMPV6_NUM)
		return -ENOMSG;
	if (icmp_len < WG_PROBE_ICMP_HDR_LEN)
		return -EINVAL;
	icmp = pkt + WG_PROBE_IPV6_HDR_LEN;
	if (fold(sum16(icmp, icmp_len, pseudo6(pkt + 8, pkt + 24, icmp_len))) != 0)
		return -EBADMSG;
	if (icmp[0] != ICMP6_ECHO_REPLY || icmp[1] != 0)
		return -ENOMSG;
	memset(out, 0, sizeof(*out));
	out->family = AF_INET6;
	memcpy(out->src, pkt + 8, 16);
	memcpy(out->dst, pkt + 24, 16);
	read_echo(icmp, icmp_len, out);
	return 0;
}

int wg_probe_icmp_parse_reply(const uint8_t *pkt, size_t len, struct wg_probe_echo *out)
{
	if (!len)
		return -EINVAL;
	switch (pkt[0] >> 4) {
	case 4:
		return parse4(pkt, len, out);
	case 6:
		return parse6(pkt, len, out);
	default:
		return -EINVAL;
	}
}

bool wg_probe_icmp_matches(const struct wg_probe_echo *q, const struct wg_probe_echo *r)
{
	size_t alen = q->family == AF_INET ? 4 : 16;

	return q->family == r->family && memcmp(r->src, q->dst, alen) == 0 &&
	       memcmp(r->dst, q->src, alen) == 0 && r->id == q->id && r->seq == q->seq &&
	       r->payload_len == q->payload_len &&
	       (!q->payload_len || memcmp(r->payload, q->payload, q->payload_len) == 0);
}
