/* SPDX-License-Identifier: MIT */
/*
 * L2/L3 packet helpers of the outside port and the inner-packet parser.
 *
 * Classification checks, in this order, and stops at the first failure
 * (the drop reason named in brackets):
 *
 *   Ethernet  14 bytes [truncated]; destination our MAC, broadcast or
 *             multicast [eth_not_for_us]; source not multicast
 *             [eth_bad_source]; ethertype: 802.1Q/802.1ad [vlan], ARP,
 *             IPv4, IPv6, else [unsupported_ethertype].
 *   ARP       28 bytes [truncated]; Ethernet/IPv4 sizes, opcode 1 or 2
 *             [arp_malformed]; sender MAC unicast and non-zero, sender IP
 *             not ours and not martian, 0.0.0.0 only in a request (an
 *             RFC 5227 probe) [arp_bad_sender]; we have an IPv4 address,
 *             and the target is it (request: reply + learn REQUEST; reply:
 *             learn REPLY) or the frame is gratuitous, sender IP = target
 *             IP (learn UNSOLICITED) [arp_not_for_us].
 *   IPv4      20 bytes [truncated]; version 4, IHL >= 5, total length >=
 *             header [ip_bad_header]; total length within the frame
 *             [truncated] (bytes after it are Ethernet padding, ignored);
 *             header checksum [ipv4_bad_checksum]; IHL 5: options are not
 *             supported [ipv4_options]; MF clear and offset 0: fragments
 *             are dropped, never reassembled [ip_fragment]; source not
 *             0/8, 127/8, 224/3 or ours [ip_martian_source]; destination
 *             our address [ip_not_for_us]; then UDP or ICMP
 *             [ip_unsupported_protocol].
 *   IPv6      40 bytes [truncated]; version 6, payload length not 0 (no
 *             jumbograms) [ip_bad_header]; within the frame [truncated];
 *             source not multicast, ::1, ::ffff:0:0/96 or ours
 *             [ip_martian_source]; destination one of ours, the
 *             solicited-node group of one of ours, or ff02::1
 *             [ip_not_for_us]; extension headers: hop-by-hop (first only),
 *             destination options and routing headers with no segments
 *             left are skipped, at most 4 [ipv6_extension_header], each
 *             within the datagram [truncated]; a fragment header
 *             [ip_fragment]; source :: only for a neighbour solicitation
 *             [ip_martian_source]; then UDP or ICMPv6
 *             [ip_unsupported_protocol].
 *   UDP       8 bytes [truncated]; 8 <= UDP length <= IP payload
 *             [udp_bad_length]; unicast destination [ip_not_for_us];
 *             our port [udp_other_port]; IPv6: checksum not 0
 *             [udp6_zero_checksum]; checksum verifies (IPv4: unless 0)
 *             [udp_bad_checksum]. -> WIREGUARD.
 *   ICMP      echo request only [icmp_unsupported_type]; 8 bytes
 *             [truncated]; checksum [icmp_bad_checksum]. -> ECHO_REQUEST.
 *   ICMPv6    echo request (unicast destination [ip_not_for_us]; 8 bytes
 *             [truncated]; checksum) -> ECHO_REQUEST; NS and NA below;
 *             every other type, including RA, MLD and errors such as
 *             packet too big [icmp_unsupported_type].
 *   NS / NA   (RFC 4861 7.1) hop limit 255 [nd_bad_hop_limit]; 24 bytes,
 *             [nd_malformed]; checksum [icmp_bad_checksum]; code 0, target
 *             not multicast, options of non-zero length within the
 *             message, link-layer addresses unicast [nd_malformed].
 *             NS: from :: only to a solicited-node group and without a
 *             source link-layer option, never to ff02::1, to the target's
 *             own group when multicast [nd_malformed]; target one of ours
 *             [nd_not_for_us]. -> ND_SOLICIT, learning the sender (REQUEST)
 *             when it is not :: and gave its link-layer address.
 *             NA: target not ours (an address conflict), not to a
 *             solicited-node group, S clear when multicast [nd_malformed].
 *             -> NEIGH_LEARN the target at the target link-layer option
 *             (the Ethernet source when absent: unicast NUD answers may
 *             omit it), REPLY when S is set, else UNSOLICITED. The O flag
 *             is not modelled: every NA may update.
 *
 * Checksums: RFC 1071 sums are byte-order independent, so they are added
 * in native order over memcpy'd words and stored as they fall in memory.
 * The pseudo-headers are built as bytes in network order. Only the last
 * region summed may have an odd length.
 */
#include "dataplane/l3.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

const char *const wg_l3_drop_names[WG_L3_DROP_MAX] = {
#define WG_L3_X_NAME(e, name) [WG_L3_DROP_##e] = name,
	WG_L3_DROP_REASONS(WG_L3_X_NAME)
#undef WG_L3_X_NAME
};

const char *wg_l3_drop_name(unsigned reason)
{
	return reason < WG_L3_DROP_MAX ? wg_l3_drop_names[reason] : "?";
}

/* ---- bytes -------------------------------------------------------------- */

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool mac_unicast(const uint8_t *mac)
{
	return !(mac[0] & 1) && !is_zero(mac, 6);
}

/* ---- checksums ---------------------------------------------------------- */

static uint64_t sum(const uint8_t *p, size_t n, uint64_t s)
{
	uint32_t w32;
	uint16_t w16 = 0;

	for (; n >= 4; p += 4, n -= 4) {
		memcpy(&w32, p, 4);
		s += w32;
	}
	if (n >= 2) {
		memcpy(&w16, p, 2);
		s += w16;
		p += 2;
		n -= 2;
	}
	if (n) {
		w16 = 0;
		memcpy(&w16, p, 1); /* the odd byte, padded with a zero after it */
		s += w16;
	}
	return s;
}

static uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static bool sum_ok(uint64_t s)
{
	return fold(s) == 0xffff;
}

static void put_cksum(uint8_t *field, uint64_t s)
{
	uint16_t c = (uint16_t)~fold(s);

	memcpy(field, &c, 2);
}

static uint64_t pseudo4(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t len)
{
	uint8_t ph[12];

	memcpy(ph, src, 4);
	memcpy(ph + 4, dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	wr16(ph + 10, len);
	return sum(ph, sizeof(ph), 0);
}

static uint64_t pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t len)
{
	uint8_t ph[40];

	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	wr32(ph + 32, len);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = proto;
	return sum(ph, sizeof(ph), 0);
}

/* ---- addresses ---------------------------------------------------------- */

static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };

static bool v4_martian(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

static bool v4_ours(const struct wg_l3_local *l, const uint8_t *a)
{
	return l->has_ipv4 && memcmp(a, l->ipv4, 4) == 0;
}

static int v6_ours(const struct wg_l3_local *l, const uint8_t *a)
{
	for (unsigned i = 0; i < l->n_ipv6 && i < WG_L3_MAX_IPV6; i++)
		if (memcmp(a, l->ipv6[i], 16) == 0)
			return (int)i;
	return -1;
}

static bool v6_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static bool v6_link_local(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* ff02::1:ffXX:XXXX of target */
static void solicited_node(uint8_t out[16], const uint8_t *target)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	memcpy(out, prefix, 13);
	memcpy(out + 13, target + 13, 3);
}

static bool is_solicited_node_of(const uint8_t *dst, const uint8_t *target)
{
	uint8_t sn[16];

	solicited_node(sn, target);
	return memcmp(dst, sn, 16) == 0;
}

static bool v6_martian(const struct wg_l3_local *l, const uint8_t *a)
{
	static const uint8_t loopback[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	return v6_multicast(a) || memcmp(a, loopback, 16) == 0 || memcmp(a, mapped, 12) == 0 ||
	       v6_ours(l, a) >= 0;
}

/* ---- classification ----------------------------------------------------- */

static enum wg_l3_verdict drop(struct wg_l3_result *res, enum wg_l3_drop why)
{
	res->verdict = WG_L3_DROP;
	res->drop = (uint8_t)why;
	return WG_L3_DROP;
}

static enum wg_l3_verdict verdict(struct wg_l3_result *res, enum wg_l3_verdict v)
{
	res->verdict = (uint8_t)v;
	return v;
}

static void set_learn(struct wg_l3_result *res, int family, const uint8_t *ip, const uint8_t *mac,
		      enum wg_neigh_learn how)
{
	res->learn.family = (uint8_t)family;
	res->learn.how = (uint8_t)how;
	memcpy(res->learn.mac, mac, 6);
	memset(res->learn.ip, 0, 16);
	memcpy(res->learn.ip, ip, family == AF_INET ? 4 : 16);
}

static enum wg_l3_verdict classify_arp(const struct wg_l3_local *l, const uint8_t *f, size_t len,
				       struct wg_l3_result *res)
{
	const uint8_t *a = f + 14, *sha = a + 8, *spa = a + 14, *tpa = a + 24;
	uint16_t op;

	res->l3_off = 14;
	if (len - 14 < sizeof(struct wg_arp_hdr))
		return drop(res, WG_L3_DROP_TRUNCATED);
	op = rd16(a + 6);
	if (rd16(a) != 1 || rd16(a + 2) != WG_ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 ||
	    (op != 1 && op != 2))
		return drop(res, WG_L3_DROP_ARP_MALFORMED);
	if (!mac_unicast(sha))
		return drop(res, WG_L3_DROP_ARP_BAD_SENDER);
	if (is_zero(spa, 4) ? op != 1 : v4_martian(spa) || v4_ours(l, spa))
		return drop(res, WG_L3_DROP_ARP_BAD_SENDER);
	if (!l->has_ipv4)
		return drop(res, WG_L3_DROP_ARP_NOT_FOR_US);
	if (v4_ours(l, tpa)) {
		if (op == 1) {
			if (!is_zero(spa, 4))
				set_learn(res, AF_INET, spa, sha, WG_NEIGH_LEARN_REQUEST);
			return verdict(res, WG_L3_ARP_REQUEST);
		}
		set_learn(res, AF_INET, spa, sha, WG_NEIGH_LEARN_REPLY);
		return verdict(res, WG_L3_NEIGH_LEARN);
	}
	if (!is_zero(spa, 4) && memcmp(spa, tpa, 4) == 0) {
		set_learn(res, AF_INET, spa, sha, WG_NEIGH_LEARN_UNSOLICITED);
		return verdict(res, WG_L3_NEIGH_LEARN);
	}
	return drop(res, WG_L3_DROP_ARP_NOT_FOR_US);
}

/*
 * UDP at f[off..off+n): the common part of IPv4 and IPv6; ph is the
 * pseudo-header sum without the length (added here from the UDP length).
 */
static enum wg_l3_verdict classify_udp(const struct wg_l3_local *l, const uint8_t *f, size_t off,
				       size_t n, bool v6, const uint8_t *src, const uint8_t *dst,
				       struct wg_l3_result *res)
{
	const uint8_t *u = f + off;
	uint16_t ulen;
	uint64_t s;

	if (n < sizeof(struct wg_udp_hdr))
		return drop(res, WG_L3_DROP_TRUNCATED);
	ulen = rd16(u + 4);
	if (ulen < sizeof(struct wg_udp_hdr) || ulen > n)
		return drop(res, WG_L3_DROP_UDP_BAD_LENGTH);
	if (memcmp(u + 2, &l->port, 2) != 0)
		return drop(res, WG_L3_DROP_UDP_PORT);
	if (v6 && rd16(u + 6) == 0)
		return drop(res, WG_L3_DROP_UDP_ZERO_CHECKSUM);
	if (rd16(u + 6) != 0) {
		s = v6 ? pseudo6(src, dst, WG_IPPROTO_UDP, ulen) : pseudo4(src, dst, WG_IPPROTO_UDP, ulen);
		if (!sum_ok(sum(u, ulen, s)))
			return drop(res, WG_L3_DROP_UDP_BAD_CHECKSUM);
	}
	res->payload_off = (uint32_t)off + 8;
	res->payload_len = ulen - 8u;
	res->src.family = res->dst.family = v6 ? AF_INET6 : AF_INET;
	memcpy(&res->src.port, u, 2);
	memcpy(&res->dst.port, u + 2, 2);
	memcpy(res->src.addr, src, v6 ? 16 : 4);
	memcpy(res->dst.addr, dst, v6 ? 16 : 4);
	return verdict(res, WG_L3_WIREGUARD);
}

static enum wg_l3_verdict classify_ipv4(const struct wg_l3_local *l, const uint8_t *f, size_t len,
					struct wg_l3_result *res)
{
	const uint8_t *ip = f + 14, *src = ip + 12, *dst = ip + 16;
	size_t avail = len - 14, ihl, tot;

	res->l3_off = 14;
	if (avail < sizeof(struct wg_ipv4_hdr))
		return drop(res, WG_L3_DROP_TRUNCATED);
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = rd16(ip + 2);
	if (ip[0] >> 4 != 4 || ihl < sizeof(struct wg_ipv4_hdr) || tot < ihl)
		return drop(res, WG_L3_DROP_IP_BAD_HEADER);
	if (tot > avail)
		return drop(res, WG_L3_DROP_TRUNCATED);
	if (!sum_ok(sum(ip, ihl, 0)))
		return drop(res, WG_L3_DROP_IPV4_BAD_CHECKSUM);
	if (ihl != sizeof(struct wg_ipv4_hdr))
		return drop(res, WG_L3_DROP_IPV4_OPTIONS);
	if (rd16(ip + 6) & 0x3fff)
		return drop(res, WG_L3_DROP_IP_FRAGMENT);
	if (v4_martian(src) || v4_ours(l, src))
		return drop(res, WG_L3_DROP_IP_MARTIAN_SOURCE);
	if (!v4_ours(l, dst))
		return drop(res, WG_L3_DROP_IP_NOT_FOR_US);

	res->family = AF_INET;
	res->l3_len = (uint32_t)tot;
	res->l4_off = (uint32_t)(14 + ihl);
	res->l4_len = (uint32_t)(tot - ihl);
	switch (ip[9]) {
	case WG_IPPROTO_UDP:
		return classify_udp(l, f, res->l4_off, res->l4_len, false, src, dst, res);
	case WG_IPPROTO_ICMP:
		if (res->l4_len < sizeof(struct wg_icmp_echo))
			return drop(res, WG_L3_DROP_TRUNCATED);
		if (f[res->l4_off] != WG_ICMP_ECHO_REQUEST)
			return drop(res, WG_L3_DROP_ICMP_TYPE);
		if (!sum_ok(sum(f + res->l4_off, res->l4_len, 0)))
			return drop(res, WG_L3_DROP_ICMP_BAD_CHECKSUM);
		return verdict(res, WG_L3_ECHO_REQUEST);
	default:
		return drop(res, WG_L3_DROP_IP_PROTOCOL);
	}
}

/* the link-layer address option of type want in ND options o[0..n), via *mac */
static bool nd_options(const uint8_t *o, size_t n, uint8_t want, const uint8_t **mac)
{
	*mac = NULL;
	while (n) {
		size_t olen;
		if (n < 2)
			return false;
		olen = (size_t)o[1] * 8;
		if (olen == 0 || olen > n)
			return false;
		if (o[0] == WG_ND_OPT_SOURCE_LLA || o[0] == WG_ND_OPT_TARGET_LLA) {
			if (!mac_unicast(o + 2))
				return false;
			if (o[0] == want)
				*mac = o + 2;
		}
		o += olen;
		n -= olen;
	}
	return true;
}

enum dst_kind { DST_UNICAST, DST_SOLICITED_NODE, DST_ALL_NODES };

static enum wg_l3_verdict classify_nd(const struct wg_l3_local *l, const uint8_t *f,
				      enum dst_kind kind, struct wg_l3_result *res)
{
	const uint8_t *ip = f + 14, *src = ip + 8, *dst = ip + 24;
	const uint8_t *m = f + res->l4_off, *target = m + 8, *lla;
	size_t n = res->l4_len;
	bool ns = m[0] == WG_ICMP6_ND_SOLICIT;

	if (ip[7] != 255)
		return drop(res, WG_L3_DROP_ND_BAD_HOP_LIMIT);
	if (n < sizeof(struct wg_nd_msg))
		return drop(res, WG_L3_DROP_ND_MALFORMED);
	if (!sum_ok(sum(m, n, pseudo6(src, dst, WG_IPPROTO_ICMPV6, (uint32_t)n))))
		return drop(res, WG_L3_DROP_ICMP_BAD_CHECKSUM);
	if (m[1] != 0 || v6_multicast(target) ||
	    !nd_options(m + 24, n - 24, ns ? WG_ND_OPT_SOURCE_LLA : WG_ND_OPT_TARGET_LLA, &lla))
		return drop(res, WG_L3_DROP_ND_MALFORMED);
	if (ns) {
		bool unspec = is_zero(src, 16);
		if (kind == DST_ALL_NODES || (unspec && (kind != DST_SOLICITED_NODE || lla)))
			return drop(res, WG_L3_DROP_ND_MALFORMED);
		if (v6_ours(l, target) < 0)
			return drop(res, WG_L3_DROP_ND_NOT_FOR_US);
		if (kind == DST_SOLICITED_NODE && !is_solicited_node_of(dst, target))
			return drop(res, WG_L3_DROP_ND_MALFORMED);
		if (!unspec && lla)
			set_learn(res, AF_INET6, src, lla, WG_NEIGH_LEARN_REQUEST);
		return verdict(res, WG_L3_ND_SOLICIT);
	}
	uint32_t flags = rd32(m + 4);
	if (v6_ours(l, target) >= 0 || kind == DST_SOLICITED_NODE ||
	    (kind == DST_ALL_NODES && (flags & WG_ND_FLAG_SOLICITED)))
		return drop(res, WG_L3_DROP_ND_MALFORMED);
	set_learn(res, AF_INET6, target, lla ? lla : f + 6,
		  flags & WG_ND_FLAG_SOLICITED ? WG_NEIGH_LEARN_REPLY : WG_NEIGH_LEARN_UNSOLICITED);
	return verdict(res, WG_L3_NEIGH_LEARN);
}

static enum wg_l3_verdict classify_ipv6(const struct wg_l3_local *l, const uint8_t *f, size_t len,
					struct wg_l3_result *res)
{
	const uint8_t *ip = f + 14, *src = ip + 8, *dst = ip + 24;
	size_t avail = len - 14, plen, off, end;
	enum dst_kind kind;
	uint8_t next;

	res->l3_off = 14;
	if (avail < sizeof(struct wg_ipv6_hdr))
		return drop(res, WG_L3_DROP_TRUNCATED);
	plen = rd16(ip + 4);
	if (ip[0] >> 4 != 6 || plen == 0)
		return drop(res, WG_L3_DROP_IP_BAD_HEADER);
	end = sizeof(struct wg_ipv6_hdr) + plen;
	if (end > avail)
		return drop(res, WG_L3_DROP_TRUNCATED);
	if (v6_martian(l, src))
		return drop(res, WG_L3_DROP_IP_MARTIAN_SOURCE);
	if (v6_ours(l, dst) >= 0) {
		kind = DST_UNICAST;
	} else if (l->n_ipv6 && memcmp(dst, all_nodes, 16) == 0) {
		kind = DST_ALL_NODES;
	} else {
		kind = DST_SOLICITED_NODE;
		unsigned i;
		for (i = 0; i < l->n_ipv6 && i < WG_L3_MAX_IPV6; i++)
			if (is_solicited_node_of(dst, l->ipv6[i]))
				break;
		if (i == l->n_ipv6 || i == WG_L3_MAX_IPV6)
			return drop(res, WG_L3_DROP_IP_NOT_FOR_US);
	}

	next = ip[6];
	off = sizeof(struct wg_ipv6_hdr);
	for (unsigned n_ext = 0;; n_ext++) {
		if (next == 0 || next == 43 || next == 60) {
			size_t hl;
			if ((next == 0 && n_ext) || n_ext >= 4)
				return drop(res, WG_L3_DROP_IPV6_EXT_HEADER);
			if (end - off < 8)
				return drop(res, WG_L3_DROP_TRUNCATED);
			hl = ((size_t)ip[off + 1] + 1) * 8;
			if (next == 43 && ip[off + 3] != 0)
				return drop(res, WG_L3_DROP_IPV6_EXT_HEADER);
			if (hl > end - off)
				return drop(res, WG_L3_DROP_TRUNCATED);
			next = ip[off];
			off += hl;
			continue;
		}
		if (next == 44)
			return drop(res, WG_L3_DROP_IP_FRAGMENT);
		break;
	}

	res->family = AF_INET6;
	res->l3_len = (uint32_t)end;
	res->l4_off = (uint32_t)(14 + off);
	res->l4_len = (uint32_t)(end - off);
	const uint8_t *m = f + res->l4_off;
	if (is_zero(src, 16) && !(next == WG_IPPROTO_ICMPV6 && res->l4_len >= 1 &&
				  m[0] == WG_ICMP6_ND_SOLICIT))
		return drop(res, WG_L3_DROP_IP_MARTIAN_SOURCE);

	switch (next) {
	case WG_IPPROTO_UDP:
		if (kind != DST_UNICAST)
			return drop(res, WG_L3_DROP_IP_NOT_FOR_US);
		return classify_udp(l, f, res->l4_off, res->l4_len, true, src, dst, res);
	case WG_IPPROTO_ICMPV6:
		if (res->l4_len < sizeof(struct wg_icmp_echo))
			return drop(res, WG_L3_DROP_TRUNCATED);
		switch (m[0]) {
		case WG_ICMP6_ECHO_REQUEST:
			if (kind != DST_UNICAST)
				return drop(res, WG_L3_DROP_IP_NOT_FOR_US);
			if (!sum_ok(sum(m, res->l4_len,
					pseudo6(src, dst, WG_IPPROTO_ICMPV6, res->l4_len))))
				return drop(res, WG_L3_DROP_ICMP_BAD_CHECKSUM);
			return verdict(res, WG_L3_ECHO_REQUEST);
		case WG_ICMP6_ND_SOLICIT:
		case WG_ICMP6_ND_ADVERT:
			return classify_nd(l, f, kind, res);
		default:
			return drop(res, WG_L3_DROP_ICMP_TYPE);
		}
	default:
		return drop(res, WG_L3_DROP_IP_PROTOCOL);
	}
}

enum wg_l3_verdict wg_l3_classify(const struct wg_l3_local *local, const uint8_t *frame, size_t len,
				  struct wg_l3_result *res)
{
	uint16_t type;

	memset(res, 0, sizeof(*res));
	if (len < sizeof(struct wg_eth_hdr))
		return drop(res, WG_L3_DROP_TRUNCATED);
	if (memcmp(frame, local->mac, 6) != 0 && !(frame[0] & 1))
		return drop(res, WG_L3_DROP_ETH_NOT_FOR_US);
	if (frame[6] & 1)
		return drop(res, WG_L3_DROP_ETH_BAD_SOURCE);
	type = rd16(frame + 12);
	switch (type) {
	case WG_ETHERTYPE_ARP:
		return classify_arp(local, frame, len, res);
	case WG_ETHERTYPE_IPV4:
		return classify_ipv4(local, frame, len, res);
	case WG_ETHERTYPE_IPV6:
		return classify_ipv6(local, frame, len, res);
	case WG_ETHERTYPE_VLAN:
	case WG_ETHERTYPE_QINQ:
	case 0x9100: /* pre-standard QinQ */
		return drop(res, WG_L3_DROP_VLAN);
	default:
		return drop(res, WG_L3_DROP_ETHERTYPE);
	}
}

/* ---- replies ------------------------------------------------------------ */

static void put_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memmove(f, dst, 6);
	memmove(f + 6, src, 6);
	wr16(f + 12, type);
}

static void put_ipv6(uint8_t *ip, uint32_t ver_tc_flow, uint32_t plen, uint8_t next, uint8_t hop,
		     const uint8_t *src, const uint8_t *dst)
{
	wr32(ip, ver_tc_flow);
	wr16(ip + 4, plen);
	ip[6] = next;
	ip[7] = hop;
	memmove(ip + 8, src, 16);
	memmove(ip + 24, dst, 16);
}

static void put_arp(uint8_t *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha,
		    const uint8_t *spa, const uint8_t *tha, const uint8_t *tpa)
{
	uint8_t *a = f + 14;

	put_eth(f, eth_dst, sha, WG_ETHERTYPE_ARP);
	wr16(a, 1);
	wr16(a + 2, WG_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memmove(a + 8, sha, 6);
	memmove(a + 14, spa, 4);
	memmove(a + 18, tha, 6);
	memmove(a + 24, tpa, 4);
}

ssize_t wg_l3_arp_reply(uint8_t *out, size_t cap, const uint8_t *req, size_t len,
			const struct wg_l3_result *res, const struct wg_l3_local *local)
{
	uint8_t sha[6], spa[4];

	if (!res || res->verdict != WG_L3_ARP_REQUEST || res->l3_off != 14 || len < WG_L3_ARP_LEN ||
	    !local->has_ipv4)
		return -EINVAL;
	if (cap < WG_L3_ARP_LEN)
		return -ENOSPC;
	memcpy(sha, req + 22, 6);
	memcpy(spa, req + 28, 4);
	put_arp(out, sha, 2, local->mac, local->ipv4, sha, spa);
	return WG_L3_ARP_LEN;
}

/* NS/NA with one link-layer address option, checksummed, at f */
static void put_nd(uint8_t *f, const uint8_t *eth_dst, const uint8_t *mac, const uint8_t *src,
		   const uint8_t *dst, uint8_t type, uint32_t flags, const uint8_t *target,
		   uint8_t opt)
{
	uint8_t *ip = f + 14, *m = ip + 40;

	put_eth(f, eth_dst, mac, WG_ETHERTYPE_IPV6);
	put_ipv6(ip, 0x60000000u, 32, WG_IPPROTO_ICMPV6, 255, src, dst);
	m[0] = type;
	m[1] = 0;
	m[2] = m[3] = 0;
	wr32(m + 4, flags);
	memmove(m + 8, target, 16);
	m[24] = opt;
	m[25] = 1;
	memcpy(m + 26, mac, 6);
	put_cksum(m + 2, sum(m, 32, pseudo6(src, dst, WG_IPPROTO_ICMPV6, 32)));
}

ssize_t wg_l3_nd_advert(uint8_t *out, size_t cap, const uint8_t *req, size_t len,
			const struct wg_l3_result *res, const struct wg_l3_local *local)
{
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint8_t dst[16], target[16], eth_dst[6];
	bool unspec;

	if (!res || res->verdict != WG_L3_ND_SOLICIT || res->l3_off != 14 ||
	    res->l4_off < 54 || res->l4_len < 24 || res->l4_off > len || len - res->l4_off < 24)
		return -EINVAL;
	if (cap < WG_L3_ND_LEN)
		return -ENOSPC;
	memcpy(target, req + res->l4_off + 8, 16);
	if (v6_ours(local, target) < 0)
		return -EINVAL;
	unspec = is_zero(req + 22, 16);
	if (unspec) {
		memcpy(dst, all_nodes, 16);
		memcpy(eth_dst, all_nodes_mac, 6);
	} else {
		memcpy(dst, req + 22, 16);
		memcpy(eth_dst, res->learn.family ? res->learn.mac : req + 6, 6);
	}
	put_nd(out, eth_dst, local->mac, target, dst, WG_ICMP6_ND_ADVERT,
	       unspec ? WG_ND_FLAG_OVERRIDE : WG_ND_FLAG_SOLICITED | WG_ND_FLAG_OVERRIDE, target,
	       WG_ND_OPT_TARGET_LLA);
	return WG_L3_ND_LEN;
}

ssize_t wg_l3_echo_reply(uint8_t *out, size_t cap, const uint8_t *req, size_t len,
			 const struct wg_l3_result *res, const struct wg_l3_local *local)
{
	uint8_t eth_dst[6], src[16], dst[16];
	size_t hlen, n;
	uint8_t *m;

	if (!res || res->verdict != WG_L3_ECHO_REQUEST || res->l3_off != 14 ||
	    res->l4_len < sizeof(struct wg_icmp_echo) || res->l4_off > len ||
	    len - res->l4_off < res->l4_len)
		return -EINVAL;
	n = res->l4_len;
	memcpy(eth_dst, req + 6, 6);
	if (res->family == AF_INET) {
		uint8_t tos = req[15], id[2];
		hlen = 14 + sizeof(struct wg_ipv4_hdr);
		if (res->l4_off != hlen || n > 0xffff - 20)
			return -EINVAL;
		if (cap < hlen || cap - hlen < n)
			return -ENOSPC;
		memcpy(id, req + 18, 2);
		memcpy(src, req + 30, 4); /* the request's destination: ours */
		memcpy(dst, req + 26, 4);
		memmove(out + hlen, req + res->l4_off, n);
		put_eth(out, eth_dst, local->mac, WG_ETHERTYPE_IPV4);
		uint8_t *ip = out + 14;
		ip[0] = 0x45;
		ip[1] = tos;
		wr16(ip + 2, (uint32_t)(20 + n));
		memcpy(ip + 4, id, 2);
		wr16(ip + 6, 0);
		ip[8] = WG_L3_TTL;
		ip[9] = WG_IPPROTO_ICMP;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		put_cksum(ip + 10, sum(ip, 20, 0));
		m = out + hlen;
		m[0] = WG_ICMP_ECHO_REPLY;
		m[1] = 0;
		m[2] = m[3] = 0;
		put_cksum(m + 2, sum(m, n, 0));
		return (ssize_t)(hlen + n);
	}
	if (res->family != AF_INET6)
		return -EINVAL;
	hlen = 14 + sizeof(struct wg_ipv6_hdr);
	if (res->l4_off < hlen || n > 0xffff)
		return -EINVAL;
	if (cap < hlen || cap - hlen < n)
		return -ENOSPC;
	uint32_t tc = (rd32(req + 14) >> 20) & 0xff;
	memcpy(src, req + 38, 16);
	memcpy(dst, req + 22, 16);
	memmove(out + hlen, req + res->l4_off, n);
	put_eth(out, eth_dst, local->mac, WG_ETHERTYPE_IPV6);
	put_ipv6(out + 14, 0x60000000u | tc << 20, (uint32_t)n, WG_IPPROTO_ICMPV6, WG_L3_TTL, src, dst);
	m = out + hlen;
	m[0] = WG_ICMP6_ECHO_REPLY;
	m[1] = 0;
	m[2] = m[3] = 0;
	put_cksum(m + 2, sum(m, n, pseudo6(src, dst, WG_IPPROTO_ICMPV6, (uint32_t)n)));
	return (ssize_t)(hlen + n);
}

/* ---- resolution requests ------------------------------------------------ */

ssize_t wg_l3_arp_request(uint8_t *out, size_t cap, const struct wg_l3_local *local,
			  const uint8_t target[4], const uint8_t *dst_mac)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6];

	if (!local->has_ipv4)
		return -EINVAL;
	if (cap < WG_L3_ARP_LEN)
		return -ENOSPC;
	put_arp(out, dst_mac ? dst_mac : bcast, 1, local->mac, local->ipv4, zero, target);
	return WG_L3_ARP_LEN;
}

ssize_t wg_l3_nd_solicit(uint8_t *out, size_t cap, const struct wg_l3_local *local,
			 const uint8_t target[16], const uint8_t *dst_mac)
{
	uint8_t dst[16], eth_dst[6], tgt[16];
	const uint8_t *src = NULL;
	unsigned n = local->n_ipv6 < WG_L3_MAX_IPV6 ? local->n_ipv6 : WG_L3_MAX_IPV6;

	if (!n || v6_multicast(target))
		return -EINVAL;
	if (cap < WG_L3_ND_LEN)
		return -ENOSPC;
	for (unsigned i = 0; i < n && !src; i++)
		if (v6_link_local(local->ipv6[i]) == v6_link_local(target))
			src = local->ipv6[i];
	if (!src)
		src = local->ipv6[0];
	memcpy(tgt, target, 16);
	if (dst_mac) {
		memcpy(dst, tgt, 16);
		memcpy(eth_dst, dst_mac, 6);
	} else {
		solicited_node(dst, tgt);
		eth_dst[0] = eth_dst[1] = 0x33;
		memcpy(eth_dst + 2, dst + 12, 4);
	}
	put_nd(out, eth_dst, local->mac, src, dst, WG_ICMP6_ND_SOLICIT, 0, tgt, WG_ND_OPT_SOURCE_LLA);
	return WG_L3_ND_LEN;
}

/* ---- encapsulation ------------------------------------------------------ */

size_t wg_l3_encap_len(int family)
{
	return family == AF_INET ? WG_L3_ENCAP4_LEN : family == AF_INET6 ? WG_L3_ENCAP6_LEN : 0;
}

ssize_t wg_l3_encap(uint8_t *frame, size_t cap, size_t msg_len, const struct wg_l3_encap_params *p)
{
	size_t hlen = wg_l3_encap_len(p->dst.family);
	bool v6 = p->dst.family == AF_INET6;
	uint8_t *u;
	uint64_t s;

	if (!hlen || p->src.family != p->dst.family)
		return -EINVAL;
	if (msg_len > 0xffffu - 8 - (v6 ? 0 : 20))
		return -EMSGSIZE;
	if (cap < hlen || cap - hlen < msg_len)
		return -ENOSPC;
	uint32_t ulen = (uint32_t)(8 + msg_len);
	put_eth(frame, p->dst_mac, p->src_mac, v6 ? WG_ETHERTYPE_IPV6 : WG_ETHERTYPE_IPV4);
	if (v6) {
		put_ipv6(frame + 14, 0x60000000u, ulen, WG_IPPROTO_UDP, WG_L3_TTL, p->src.addr,
			 p->dst.addr);
		s = pseudo6(p->src.addr, p->dst.addr, WG_IPPROTO_UDP, ulen);
	} else {
		uint8_t *ip = frame + 14;
		ip[0] = 0x45;
		ip[1] = 0;
		wr16(ip + 2, 20 + ulen);
		wr16(ip + 4, p->ip_id);
		wr16(ip + 6, 0); /* no DF: WireGuard leaves fragmentation to the path */
		ip[8] = WG_L3_TTL;
		ip[9] = WG_IPPROTO_UDP;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, p->src.addr, 4);
		memcpy(ip + 16, p->dst.addr, 4);
		if (!(p->flags & WG_L3_ENCAP_IP_CSUM_OFFLOAD))
			put_cksum(ip + 10, sum(ip, 20, 0));
		s = pseudo4(p->src.addr, p->dst.addr, WG_IPPROTO_UDP, ulen);
	}
	u = frame + hlen - 8;
	memcpy(u, &p->src.port, 2);
	memcpy(u + 2, &p->dst.port, 2);
	wr16(u + 4, ulen);
	if (p->flags & WG_L3_ENCAP_UDP_CSUM_OFFLOAD) {
		uint16_t c = fold(s);
		memcpy(u + 6, &c, 2);
	} else {
		u[6] = u[7] = 0;
		uint16_t c = (uint16_t)~fold(sum(u, ulen, s));
		if (c == 0)
			c = 0xffff;
		memcpy(u + 6, &c, 2);
	}
	return (ssize_t)(hlen + msg_len);
}

/* ---- inside direction --------------------------------------------------- */

int wg_l3_inner_parse(const uint8_t *pkt, size_t len, struct wg_l3_inner *out)
{
	if (len < 1)
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	switch (pkt[0] >> 4) {
	case 4: {
		size_t ihl = (size_t)(pkt[0] & 0xf) * 4, tot;
		if (len < sizeof(struct wg_ipv4_hdr))
			return -EBADMSG;
		tot = rd16(pkt + 2);
		if (ihl < sizeof(struct wg_ipv4_hdr) || tot < ihl || tot > len)
			return -EBADMSG;
		out->family = AF_INET;
		out->len = (uint32_t)tot;
		memcpy(out->src, pkt + 12, 4);
		memcpy(out->dst, pkt + 16, 4);
		return 0;
	}
	case 6: {
		size_t plen;
		if (len < sizeof(struct wg_ipv6_hdr))
			return -EBADMSG;
		plen = rd16(pkt + 4);
		if (plen == 0 || plen > len - sizeof(struct wg_ipv6_hdr))
			return -EBADMSG;
		out->family = AF_INET6;
		out->len = (uint32_t)(sizeof(struct wg_ipv6_hdr) + plen);
		memcpy(out->src, pkt + 8, 16);
		memcpy(out->dst, pkt + 24, 16);
		return 0;
	}
	default:
		return -EBADMSG;
	}
}
