/* SPDX-License-Identifier: MIT */
/*
 * L2/L3 helper tests.
 *
 * The K_* frames were captured with tcpdump -xx on a veth pair between two
 * network namespaces (transmit checksum offload off, so every checksum is
 * the kernel's own): host A (02:00:00:00:00:0a, 192.0.2.1, 2001:db8::1)
 * talking to host B (02:00:00:00:00:0b, 192.0.2.2, 2001:db8::2), which
 * plays us. A pinged B over IPv4 and IPv6 (ARP, NS/NA, echo), sent a
 * 32-byte UDP datagram from port 40000 to B's port 51820 over both, and
 * then B resolved A itself (its ARP request and NS). B's kernel answers
 * are the expected bytes for our replies where Linux and we agree on every
 * field; where we differ on purpose (IPv4 id, DF, flow label) the test
 * says so and patches those fields only.
 *
 * Variants of those frames are made by patching and inserting bytes, and
 * their lengths and checksums are repaired by the reference checksum
 * below: a plain big-endian RFC 1071 loop, independent of l3.c, which
 * reproduces every checksum in the captured frames (test_ref_checksum).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dataplane/l3.h"
#include "tests/harness.h"

/* ---- captured frames ---------------------------------------------------- */

/* B joins ff02::1:ff00:2 (MLDv2 report from ::, hop-by-hop router alert) */
static const char K_MLD[] =
	"33330000001602000000000b86dd600000000024000100000000000000000000000000000000ff02000000"
	"00000000000000000000163a000502000001008f006f880000000104000000ff0200000000000000000001"
	"ff000002";
/* A: who-has 192.0.2.2 */
static const char K_ARP_REQ[] =
	"ffffffffffff02000000000a0806000108000604000102000000000ac0000201000000000000c0000202";
/* B's kernel: 192.0.2.2 is-at 02:00:00:00:00:0b */
static const char K_ARP_REPLY_B[] =
	"02000000000a02000000000b0806000108000604000202000000000bc000020202000000000ac0000201";
/* A -> B echo request, 24 bytes of data */
static const char K_ECHO4_REQ[] =
	"02000000000b02000000000a08004500003455bd400040016108c0000201c00002020800e8b7455d00019f"
	"7b026b000000008e6c030000000000a5a5a5a5a5a5a5a5";
/* B's kernel echo reply (IP id 0xc698, no DF) */
static const char K_ECHO4_REPLY_B[] =
	"02000000000a02000000000b080045000034c69800004001302dc0000202c00002010000f0b7455d00019f"
	"7b026b000000008e6c030000000000a5a5a5a5a5a5a5a5";
/* A: NS for 2001:db8::2 to ff02::1:ff00:2 with source link-layer option */
static const char K_NS_A[] =
	"3333ff00000202000000000a86dd6000000000203aff20010db8000000000000000000000001ff02000000"
	"00000000000001ff00000287001c1e0000000020010db8000000000000000000000002010102000000000a";
/* B's kernel NA: S|O, target link-layer option */
static const char K_NA_B[] =
	"02000000000a02000000000b86dd6000000000203aff20010db800000000000000000000000220010db800"
	"000000000000000000000188008a686000000020010db8000000000000000000000002020102000000000b";
/* A -> B ICMPv6 echo request (flow label 0xb1f00) */
static const char K_ECHO6_REQ[] =
	"02000000000b02000000000a86dd600b1f0000203a4020010db800000000000000000000000120010db800"
	"000000000000000000000280002c41455f00019f7b026b000000009f3e0800000000005a5a5a5a5a5a5a5a";
/* B's kernel echo reply (flow label 0x1eba0) */
static const char K_ECHO6_REPLY_B[] =
	"02000000000a02000000000b86dd6001eba000203a4020010db800000000000000000000000220010db800"
	"000000000000000000000181002b41455f00019f7b026b000000009f3e0800000000005a5a5a5a5a5a5a5a";
/* A:40000 -> B:51820, 32 bytes (a fake type-4 message), DF set by Linux */
static const char K_UDP4[] =
	"02000000000b02000000000a08004500003c108a40004011a623c0000201c00002029c40ca6c00284c1a04"
	"0000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c";
/* B's kernel: port unreachable back to A */
static const char K_ICMP4_UNREACH_B[] =
	"02000000000a02000000000b080045c00058c6da000040012f07c0000202c00002010303813a0000000045"
	"00003c108a40004011a623c0000201c00002029c40ca6c00284c1a040000000102030405060708090a0b0c"
	"0d0e0f101112131415161718191a1b1c";
/* [2001:db8::1]:40000 -> [2001:db8::2]:51820, flow label 0x8aa4a */
static const char K_UDP6[] =
	"02000000000b02000000000a86dd6008aa4a0028114020010db800000000000000000000000120010db800"
	"00000000000000000000029c40ca6c002874a9040000000102030405060708090a0b0c0d0e0f1011121314"
	"15161718191a1b1c";
static const char K_ICMP6_UNREACH_B[] =
	"02000000000a02000000000b86dd600c650300583a4020010db800000000000000000000000220010db800"
	"000000000000000000000101048772000000006008aa4a0028114020010db8000000000000000000000001"
	"20010db80000000000000000000000029c40ca6c002874a9040000000102030405060708090a0b0c0d0e0f"
	"101112131415161718191a1b1c";
/* B's kernel resolving A: ARP request, then A's reply */
static const char K_ARP_REQ_B[] =
	"ffffffffffff02000000000b0806000108000604000102000000000bc0000202000000000000c0000201";
static const char K_ARP_REPLY_A[] =
	"02000000000b02000000000a0806000108000604000202000000000ac000020102000000000bc0000202";
/* B pings A: A's echo reply */
static const char K_ECHO4_REPLY_A[] =
	"02000000000b02000000000a08004500005455d800004001a0cdc0000201c0000202000083dc458e0001a0"
	"7b026b00000000c9da0b0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b"
	"2c2d2e2f3031323334353637";
/* B's kernel NS for 2001:db8::1, then A's NA */
static const char K_NS_B[] =
	"3333ff00000102000000000b86dd6000000000203aff20010db8000000000000000000000002ff02000000"
	"00000000000001ff00000187001c1e0000000020010db8000000000000000000000001010102000000000b";
static const char K_NA_A[] =
	"02000000000b02000000000a86dd6000000000203aff20010db800000000000000000000000120010db800"
	"000000000000000000000288008a6a6000000020010db8000000000000000000000001020102000000000a";
static const char K_ECHO6_REPLY_A[] =
	"02000000000b02000000000a86dd6001eba000403a4020010db800000000000000000000000120010db800"
	"00000000000000000000028100ce6145900001a17b026b00000000ab63010000000000101112131415161718"
	"191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";

/* addresses as hex, for patches */
#define Z4 "0000"
#define A6 "20010db8" Z4 Z4 Z4 Z4 Z4 "0001"
#define B6 "20010db8" Z4 Z4 Z4 Z4 Z4 "0002"
#define C6 "20010db8" Z4 Z4 Z4 Z4 Z4 "0003"
#define BLL "fe80" Z4 Z4 Z4 Z4 Z4 "000b" "0002" /* fe80::b:2, B's link-local */
#define ALL "fe80" Z4 Z4 Z4 Z4 Z4 Z4 "0001"    /* fe80::1 */
#define UNSPEC Z4 Z4 Z4 Z4 Z4 Z4 Z4 Z4
#define ALLNODES "ff02" Z4 Z4 Z4 Z4 Z4 Z4 "0001"
#define SOLNODE_B "ff02" Z4 Z4 Z4 Z4 "0001" "ff00" "0002"
#define MAC_A "02000000000a"
#define MAC_B "02000000000b"
#define MAC_C "02000000000c"

/* ---- locals ------------------------------------------------------------- */

enum { LOCAL_B, LOCAL_A, LOCAL_B_NO_V4, LOCAL_B_NO_V6 };

static struct wg_l3_local local_of(int which)
{
	struct wg_l3_local l = { 0 };
	bool a = which == LOCAL_A;

	memcpy(l.mac, (const uint8_t[]){ 2, 0, 0, 0, 0, a ? 0x0a : 0x0b }, 6);
	l.has_ipv4 = which != LOCAL_B_NO_V4;
	inet_pton(AF_INET, a ? "192.0.2.1" : "192.0.2.2", l.ipv4);
	if (which != LOCAL_B_NO_V6) {
		l.n_ipv6 = a ? 1 : 2;
		inet_pton(AF_INET6, a ? "2001:db8::1" : "2001:db8::2", l.ipv6[0]);
		inet_pton(AF_INET6, "fe80::b:2", l.ipv6[1]);
	}
	l.port = htons(a ? 40000 : 51820);
	return l;
}

/* ---- reference checksums and frame surgery ------------------------------ */

struct frame {
	uint8_t b[2048];
	size_t len;
};

static uint32_t ref_add(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 2)
		acc += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	return acc;
}

/* complemented folded sum, as a host-order value */
static uint16_t ref_cksum(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void set16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* offset of the L4 header (test's own walk), its protocol and the datagram end */
static size_t ref_l4(const struct frame *f, uint8_t *proto, size_t *end)
{
	if (get16(f->b + 12) == 0x0800) {
		*proto = f->b[23];
		*end = 14 + get16(f->b + 16);
		return 14 + (size_t)(f->b[14] & 0xf) * 4;
	}
	size_t off = 54;
	uint8_t nh = f->b[20];
	while (nh == 0 || nh == 43 || nh == 60 || nh == 44) {
		size_t hl = nh == 44 ? 8 : ((size_t)f->b[off + 1] + 1) * 8;
		nh = f->b[off];
		off += hl;
	}
	*proto = nh;
	*end = 54 + get16(f->b + 18);
	return off;
}

/* the reference L4 checksum over the datagram as it stands (field zeroed) */
static uint16_t ref_l4_cksum(const struct frame *f)
{
	uint8_t proto, tmp[2048];
	size_t end, off = ref_l4(f, &proto, &end), n = end - off;
	bool v6 = get16(f->b + 12) == 0x86dd;
	uint32_t acc = 0;
	size_t csum_at = proto == 17 ? 6 : 2;

	if (proto == 17)
		n = get16(f->b + off + 4);
	memcpy(tmp, f->b + off, n);
	tmp[csum_at] = tmp[csum_at + 1] = 0;
	if (v6) {
		uint8_t ph[8] = { 0 };
		ph[2] = (uint8_t)(n >> 8);
		ph[3] = (uint8_t)n;
		ph[7] = proto;
		acc = ref_add(ref_add(acc, f->b + 22, 32), ph, 8);
	} else if (proto == 17) {
		uint8_t ph[4] = { 0, proto, (uint8_t)(n >> 8), (uint8_t)n };
		acc = ref_add(ref_add(acc, f->b + 26, 8), ph, 4);
	}
	uint16_t c = ref_cksum(ref_add(acc, tmp, n));
	return proto == 17 && c == 0 ? 0xffff : c;
}

static uint16_t ref_ip4_cksum(const struct frame *f)
{
	uint8_t h[60];
	size_t ihl = (size_t)(f->b[14] & 0xf) * 4;

	memcpy(h, f->b + 14, ihl);
	h[10] = h[11] = 0;
	return ref_cksum(ref_add(0, h, ihl));
}

enum { FIX_LEN = 1, FIX_UDPLEN = 2, FIX_L4 = 4, FIX_IP4 = 8 };

static void fix(struct frame *f, unsigned what)
{
	bool v4 = get16(f->b + 12) == 0x0800;
	uint8_t proto;
	size_t end, off;

	if (what & FIX_LEN) {
		if (v4)
			set16(f->b + 16, (unsigned)(f->len - 14));
		else
			set16(f->b + 18, (unsigned)(f->len - 54));
	}
	off = ref_l4(f, &proto, &end);
	if ((what & FIX_UDPLEN) && proto == 17)
		set16(f->b + off + 4, (unsigned)(end - off));
	if (what & FIX_L4)
		set16(f->b + off + (proto == 17 ? 6 : 2), ref_l4_cksum(f));
	if ((what & FIX_IP4) && v4)
		set16(f->b + 24, ref_ip4_cksum(f));
}

static void load(struct frame *f, const char *hex)
{
	f->len = wg_test_unhex(f->b, sizeof(f->b), hex);
}

struct op {
	char kind; /* p: patch at off, i: insert at off, t: cut to off, a: append */
	unsigned off;
	const char *hex;
};
#define P(o, h) { 'p', (o), (h) }
#define I(o, h) { 'i', (o), (h) }
#define T(n) { 't', (n), NULL }
#define APP(h) { 'a', 0, (h) }

static void apply(struct frame *f, const struct op *ops, size_t n)
{
	uint8_t tmp[1024];

	for (size_t i = 0; i < n && ops[i].kind; i++) {
		const struct op *o = &ops[i];
		size_t k;
		switch (o->kind) {
		case 'p':
			k = wg_test_unhex(tmp, sizeof(tmp), o->hex);
			memcpy(f->b + o->off, tmp, k);
			if (o->off + k > f->len)
				f->len = o->off + k;
			break;
		case 'i':
			k = wg_test_unhex(tmp, sizeof(tmp), o->hex);
			memmove(f->b + o->off + k, f->b + o->off, f->len - o->off);
			memcpy(f->b + o->off, tmp, k);
			f->len += k;
			break;
		case 't':
			f->len = o->off;
			break;
		case 'a':
			k = wg_test_unhex(tmp, sizeof(tmp), o->hex);
			memcpy(f->b + f->len, tmp, k);
			f->len += k;
			break;
		}
	}
}

/* classify exactly len bytes in a heap block of that size (ASan sees overreads) */
static enum wg_l3_verdict classify_exact(const struct wg_l3_local *l, const uint8_t *b, size_t len,
					 struct wg_l3_result *res)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum wg_l3_verdict v;

	memcpy(copy, b, len);
	v = wg_l3_classify(l, copy, len, res);
	free(copy);
	return v;
}

static void hexdump_diff(const char *what, const uint8_t *got, size_t glen, const uint8_t *want,
			 size_t wlen)
{
	fprintf(stderr, "%s: got %zu bytes, want %zu\n  got  ", what, glen, wlen);
	for (size_t i = 0; i < glen; i++)
		fprintf(stderr, "%02x", got[i]);
	fprintf(stderr, "\n  want ");
	for (size_t i = 0; i < wlen; i++)
		fprintf(stderr, "%02x", want[i]);
	fputc('\n', stderr);
}

#define CHECK_FRAME(what, got, glen, want, wlen)                                                \
	do {                                                                                   \
		bool same_ = (size_t)(glen) == (size_t)(wlen) && memcmp(got, want, wlen) == 0; \
		CHECK_MSG(same_, "%s differs", what);                                          \
		if (!same_)                                                                    \
			hexdump_diff(what, got, (size_t)(glen), want, (size_t)(wlen));         \
	} while (0)

/* ---- the classification table ------------------------------------------- */

#define NOLEARN -1

struct ccase {
	const char *name;
	const char *base;
	struct op ops[8];
	unsigned fix;
	int local;
	enum wg_l3_verdict verdict;
	enum wg_l3_drop drop;
	const char *learn_ip; /* NULL: nothing to learn */
	const char *learn_mac;
	int learn_how;
};

#define OK(v) .verdict = (v)
#define DROP(d) .verdict = WG_L3_DROP, .drop = WG_L3_DROP_##d
#define LEARN(ip, mac, how) .learn_ip = (ip), .learn_mac = (mac), .learn_how = WG_NEIGH_LEARN_##how

static const struct ccase cases[] = {
	/* ---- accepted ---- */
	{ "arp_request", K_ARP_REQ, {}, 0, 0, OK(WG_L3_ARP_REQUEST), LEARN("192.0.2.1", MAC_A, REQUEST) },
	{ "arp_request_padded", K_ARP_REQ, { APP("000000000000000000000000000000000000") }, 0, 0,
	  OK(WG_L3_ARP_REQUEST), LEARN("192.0.2.1", MAC_A, REQUEST) },
	{ "arp_probe", K_ARP_REQ, { P(28, "00000000") }, 0, 0, OK(WG_L3_ARP_REQUEST) },
	{ "arp_reply", K_ARP_REPLY_A, {}, 0, 0, OK(WG_L3_NEIGH_LEARN), LEARN("192.0.2.1", MAC_A, REPLY) },
	{ "arp_gratuitous_request", K_ARP_REQ, { P(38, "c0000201") }, 0, 0, OK(WG_L3_NEIGH_LEARN),
	  LEARN("192.0.2.1", MAC_A, UNSOLICITED) },
	{ "arp_gratuitous_reply", K_ARP_REPLY_A, { P(0, "ffffffffffff"), P(32, "ffffffffffff"), P(38, "c0000201") },
	  0, 0, OK(WG_L3_NEIGH_LEARN), LEARN("192.0.2.1", MAC_A, UNSOLICITED) },
	{ "udp4", K_UDP4, {}, 0, 0, OK(WG_L3_WIREGUARD) },
	{ "udp4_no_checksum", K_UDP4, { P(40, "0000") }, 0, 0, OK(WG_L3_WIREGUARD) },
	{ "udp4_padded", K_UDP4, { APP("00000000") }, 0, 0, OK(WG_L3_WIREGUARD) },
	{ "udp4_short_udp_length", K_UDP4, { P(38, "0018") }, FIX_L4, 0, OK(WG_L3_WIREGUARD) },
	{ "udp4_broadcast_mac", K_UDP4, { P(0, "ffffffffffff") }, 0, 0, OK(WG_L3_WIREGUARD) },
	{ "udp6", K_UDP6, {}, 0, 0, OK(WG_L3_WIREGUARD) },
	{ "udp6_hop_by_hop", K_UDP6, { I(54, "1100010400000000"), P(20, "00") }, FIX_LEN, 0,
	  OK(WG_L3_WIREGUARD) },
	{ "udp6_dstopts_routing", K_UDP6, { I(54, "2b00010400000000" "1100040000000000"), P(20, "3c") },
	  FIX_LEN, 0, OK(WG_L3_WIREGUARD) },
	{ "echo4", K_ECHO4_REQ, {}, 0, 0, OK(WG_L3_ECHO_REQUEST) },
	{ "echo6", K_ECHO6_REQ, {}, 0, 0, OK(WG_L3_ECHO_REQUEST) },
	{ "echo6_hop_by_hop", K_ECHO6_REQ, { I(54, "3a00010400000000"), P(20, "00") }, FIX_LEN, 0,
	  OK(WG_L3_ECHO_REQUEST) },
	{ "ns_multicast", K_NS_A, {}, 0, 0, OK(WG_L3_ND_SOLICIT), LEARN(A6, MAC_A, REQUEST) },
	{ "ns_unicast", K_NS_A, { P(0, MAC_B), P(38, B6) }, FIX_L4, 0, OK(WG_L3_ND_SOLICIT),
	  LEARN(A6, MAC_A, REQUEST) },
	{ "ns_unicast_no_slla", K_NS_A, { P(0, MAC_B), P(38, B6), T(78) }, FIX_LEN | FIX_L4, 0,
	  OK(WG_L3_ND_SOLICIT) },
	{ "ns_dad", K_NS_A, { P(22, UNSPEC), T(78) }, FIX_LEN | FIX_L4, 0, OK(WG_L3_ND_SOLICIT) },
	{ "ns_link_local", K_NS_A,
	  { P(0, "3333ff0b0002"), P(22, ALL), P(38, "ff02" Z4 Z4 Z4 Z4 "0001" "ff0b" "0002"), P(62, BLL) },
	  FIX_L4, 0, OK(WG_L3_ND_SOLICIT), LEARN(ALL, MAC_A, REQUEST) },
	{ "na_solicited", K_NA_A, {}, 0, 0, OK(WG_L3_NEIGH_LEARN), LEARN(A6, MAC_A, REPLY) },
	{ "na_unsolicited", K_NA_A, { P(0, "333300000001"), P(38, ALLNODES), P(58, "20000000") }, FIX_L4, 0,
	  OK(WG_L3_NEIGH_LEARN), LEARN(A6, MAC_A, UNSOLICITED) },
	{ "na_no_tlla", K_NA_A, { P(6, MAC_C), T(78) }, FIX_LEN | FIX_L4, 0, OK(WG_L3_NEIGH_LEARN),
	  LEARN(A6, MAC_C, REPLY) },

	/* ---- truncated ---- */
	{ "runt", K_UDP4, { T(13) }, 0, 0, DROP(TRUNCATED) },
	{ "arp_truncated", K_ARP_REQ, { T(41) }, 0, 0, DROP(TRUNCATED) },
	{ "ipv4_short_header", K_UDP4, { T(33) }, 0, 0, DROP(TRUNCATED) },
	{ "ipv4_truncated", K_UDP4, { T(73) }, 0, 0, DROP(TRUNCATED) },
	{ "ipv6_short_header", K_UDP6, { T(53) }, 0, 0, DROP(TRUNCATED) },
	{ "ipv6_truncated", K_UDP6, { T(93) }, 0, 0, DROP(TRUNCATED) },
	{ "ipv6_ext_beyond_datagram", K_UDP6, { I(54, "110a010400000000"), P(20, "00") }, FIX_LEN, 0,
	  DROP(TRUNCATED) },
	{ "udp_in_short_datagram", K_UDP4, { P(16, "0018") }, FIX_IP4, 0, DROP(TRUNCATED) },
	{ "icmp_in_short_datagram", K_ECHO4_REQ, { P(16, "0018") }, FIX_IP4, 0, DROP(TRUNCATED) },
	{ "icmp6_in_short_datagram", K_ECHO6_REQ, { P(18, "0004") }, 0, 0, DROP(TRUNCATED) },

	/* ---- Ethernet ---- */
	{ "eth_other_host", K_UDP4, { P(0, MAC_C) }, 0, 0, DROP(ETH_NOT_FOR_US) },
	{ "eth_multicast_source", K_UDP4, { P(6, "030000000000") }, 0, 0, DROP(ETH_BAD_SOURCE) },
	{ "vlan", K_UDP4, { I(12, "81000005") }, 0, 0, DROP(VLAN) },
	{ "qinq", K_UDP4, { I(12, "88a80005") }, 0, 0, DROP(VLAN) },
	{ "lldp", K_UDP4, { P(12, "88cc") }, 0, 0, DROP(ETHERTYPE) },

	/* ---- ARP ---- */
	{ "arp_htype", K_ARP_REQ, { P(14, "0006") }, 0, 0, DROP(ARP_MALFORMED) },
	{ "arp_ptype", K_ARP_REQ, { P(16, "86dd") }, 0, 0, DROP(ARP_MALFORMED) },
	{ "arp_op3", K_ARP_REQ, { P(20, "0003") }, 0, 0, DROP(ARP_MALFORMED) },
	{ "arp_sender_multicast_mac", K_ARP_REQ, { P(22, "010000000000") }, 0, 0, DROP(ARP_BAD_SENDER) },
	{ "arp_sender_zero_mac", K_ARP_REQ, { P(22, "000000000000") }, 0, 0, DROP(ARP_BAD_SENDER) },
	{ "arp_sender_is_us", K_ARP_REQ, { P(28, "c0000202") }, 0, 0, DROP(ARP_BAD_SENDER) },
	{ "arp_sender_multicast_ip", K_ARP_REQ, { P(28, "e0000001") }, 0, 0, DROP(ARP_BAD_SENDER) },
	{ "arp_reply_from_zero", K_ARP_REPLY_A, { P(28, "00000000") }, 0, 0, DROP(ARP_BAD_SENDER) },
	{ "arp_other_target", K_ARP_REQ, { P(38, "c0000203") }, 0, 0, DROP(ARP_NOT_FOR_US) },
	{ "arp_reply_other_target", K_ARP_REPLY_A, { P(38, "c0000203") }, 0, 0, DROP(ARP_NOT_FOR_US) },
	{ "arp_no_ipv4", K_ARP_REQ, {}, 0, LOCAL_B_NO_V4, DROP(ARP_NOT_FOR_US) },

	/* ---- IP headers ---- */
	{ "ipv4_version", K_UDP4, { P(14, "55") }, FIX_IP4, 0, DROP(IP_BAD_HEADER) },
	{ "ipv4_ihl4", K_UDP4, { P(14, "44") }, 0, 0, DROP(IP_BAD_HEADER) },
	{ "ipv4_total_below_header", K_UDP4, { P(16, "0010") }, 0, 0, DROP(IP_BAD_HEADER) },
	{ "ipv6_version", K_UDP6, { P(14, "40") }, 0, 0, DROP(IP_BAD_HEADER) },
	{ "ipv6_jumbogram", K_UDP6, { P(18, "0000") }, 0, 0, DROP(IP_BAD_HEADER) },
	{ "ipv4_bad_checksum", K_UDP4, { P(24, "a624") }, 0, 0, DROP(IPV4_BAD_CHECKSUM) },
	{ "ipv4_options", K_UDP4, { I(34, "01010100"), P(14, "46") }, FIX_LEN | FIX_IP4, 0,
	  DROP(IPV4_OPTIONS) },
	{ "ipv4_more_fragments", K_UDP4, { P(20, "2000") }, FIX_IP4, 0, DROP(IP_FRAGMENT) },
	{ "ipv4_fragment_offset", K_UDP4, { P(20, "0001") }, FIX_IP4, 0, DROP(IP_FRAGMENT) },
	{ "ipv6_fragment", K_UDP6, { I(54, "1100000100000001"), P(20, "2c") }, FIX_LEN, 0, DROP(IP_FRAGMENT) },
	{ "ipv4_from_loopback", K_UDP4, { P(26, "7f000001") }, FIX_IP4 | FIX_L4, 0, DROP(IP_MARTIAN_SOURCE) },
	{ "ipv4_from_us", K_UDP4, { P(26, "c0000202") }, FIX_IP4 | FIX_L4, 0, DROP(IP_MARTIAN_SOURCE) },
	{ "ipv4_from_zero", K_UDP4, { P(26, "00000000") }, FIX_IP4 | FIX_L4, 0, DROP(IP_MARTIAN_SOURCE) },
	{ "ipv4_from_multicast", K_UDP4, { P(26, "e0000001") }, FIX_IP4 | FIX_L4, 0, DROP(IP_MARTIAN_SOURCE) },
	{ "ipv4_from_broadcast", K_UDP4, { P(26, "ffffffff") }, FIX_IP4 | FIX_L4, 0, DROP(IP_MARTIAN_SOURCE) },
	{ "ipv6_from_multicast", K_UDP6, { P(22, ALLNODES) }, FIX_L4, 0, DROP(IP_MARTIAN_SOURCE) },
	{ "ipv6_from_loopback", K_UDP6, { P(22, Z4 Z4 Z4 Z4 Z4 Z4 Z4 "0001") }, FIX_L4, 0,
	  DROP(IP_MARTIAN_SOURCE) },
	{ "ipv6_from_v4_mapped", K_UDP6, { P(22, Z4 Z4 Z4 Z4 Z4 "ffff" "c0000201") }, FIX_L4, 0,
	  DROP(IP_MARTIAN_SOURCE) },
	{ "ipv6_from_us", K_UDP6, { P(22, B6) }, FIX_L4, 0, DROP(IP_MARTIAN_SOURCE) },
	{ "udp6_from_unspecified", K_UDP6, { P(22, UNSPEC) }, FIX_L4, 0, DROP(IP_MARTIAN_SOURCE) },
	{ "echo6_from_unspecified", K_ECHO6_REQ, { P(22, UNSPEC) }, FIX_L4, 0, DROP(IP_MARTIAN_SOURCE) },
	{ "ipv4_to_other", K_UDP4, { P(30, "c0000203") }, FIX_IP4 | FIX_L4, 0, DROP(IP_NOT_FOR_US) },
	{ "ipv4_to_broadcast", K_UDP4, { P(30, "c00002ff") }, FIX_IP4 | FIX_L4, 0, DROP(IP_NOT_FOR_US) },
	{ "ipv4_no_address", K_UDP4, {}, 0, LOCAL_B_NO_V4, DROP(IP_NOT_FOR_US) },
	{ "ipv6_to_other", K_UDP6, { P(38, C6) }, FIX_L4, 0, DROP(IP_NOT_FOR_US) },
	{ "udp6_to_solicited_node", K_UDP6, { P(0, "3333ff000002"), P(38, SOLNODE_B) }, FIX_L4, 0,
	  DROP(IP_NOT_FOR_US) },
	{ "echo6_to_all_nodes", K_ECHO6_REQ, { P(0, "333300000001"), P(38, ALLNODES) }, FIX_L4, 0,
	  DROP(IP_NOT_FOR_US) },
	{ "mld_report", K_MLD, {}, 0, 0, DROP(IP_NOT_FOR_US) },
	{ "ipv6_no_address", K_UDP6, {}, 0, LOCAL_B_NO_V6, DROP(IP_NOT_FOR_US) },
	{ "ipv6_routing_segments_left", K_UDP6, { I(54, "1100040100000000"), P(20, "2b") }, FIX_LEN, 0,
	  DROP(IPV6_EXT_HEADER) },
	{ "ipv6_hop_by_hop_not_first", K_UDP6, { I(54, "0000010400000000" "1100010400000000"), P(20, "3c") },
	  FIX_LEN, 0, DROP(IPV6_EXT_HEADER) },
	{ "ipv6_five_ext_headers", K_UDP6,
	  { I(54, "3c00010400000000" "3c00010400000000" "3c00010400000000" "3c00010400000000"
		  "1100010400000000"),
	    P(20, "3c") },
	  FIX_LEN, 0, DROP(IPV6_EXT_HEADER) },
	{ "ipv4_tcp", K_UDP4, { P(23, "06") }, FIX_IP4, 0, DROP(IP_PROTOCOL) },
	{ "ipv6_tcp", K_UDP6, { P(20, "06") }, 0, 0, DROP(IP_PROTOCOL) },
	{ "ipv6_no_next_header", K_UDP6, { P(20, "3b") }, 0, 0, DROP(IP_PROTOCOL) },

	/* ---- UDP ---- */
	{ "udp_length_7", K_UDP4, { P(38, "0007") }, 0, 0, DROP(UDP_BAD_LENGTH) },
	{ "udp_length_beyond_datagram", K_UDP4, { P(38, "0029") }, 0, 0, DROP(UDP_BAD_LENGTH) },
	{ "udp4_other_port", K_UDP4, { P(36, "ca6d") }, FIX_L4, 0, DROP(UDP_PORT) },
	{ "udp6_other_port", K_UDP6, { P(56, "ca6d") }, FIX_L4, 0, DROP(UDP_PORT) },
	{ "udp6_zero_checksum", K_UDP6, { P(60, "0000") }, 0, 0, DROP(UDP_ZERO_CHECKSUM) },
	{ "udp4_bad_checksum", K_UDP4, { P(50, "ff") }, 0, 0, DROP(UDP_BAD_CHECKSUM) },
	{ "udp6_bad_checksum", K_UDP6, { P(70, "ff") }, 0, 0, DROP(UDP_BAD_CHECKSUM) },

	/* ---- ICMP ---- */
	{ "icmp4_port_unreachable", K_ICMP4_UNREACH_B, {}, 0, LOCAL_A, DROP(ICMP_TYPE) },
	{ "icmp4_echo_reply", K_ECHO4_REPLY_A, {}, 0, 0, DROP(ICMP_TYPE) },
	{ "icmp6_port_unreachable", K_ICMP6_UNREACH_B, {}, 0, LOCAL_A, DROP(ICMP_TYPE) },
	{ "icmp6_echo_reply", K_ECHO6_REPLY_A, {}, 0, 0, DROP(ICMP_TYPE) },
	{ "icmp6_router_advert", K_NA_A, { P(54, "86") }, FIX_L4, 0, DROP(ICMP_TYPE) },
	{ "icmp4_bad_checksum", K_ECHO4_REQ, { P(65, "00") }, 0, 0, DROP(ICMP_BAD_CHECKSUM) },
	{ "icmp6_bad_checksum", K_ECHO6_REQ, { P(85, "00") }, 0, 0, DROP(ICMP_BAD_CHECKSUM) },
	{ "ns_bad_checksum", K_NS_A, { P(56, "0000") }, 0, 0, DROP(ICMP_BAD_CHECKSUM) },
	{ "na_bad_checksum", K_NA_A, { P(85, "0b") }, 0, 0, DROP(ICMP_BAD_CHECKSUM) },

	/* ---- neighbour discovery ---- */
	{ "ns_hop_limit", K_NS_A, { P(21, "40") }, 0, 0, DROP(ND_BAD_HOP_LIMIT) },
	{ "na_hop_limit", K_NA_A, { P(21, "fe") }, 0, 0, DROP(ND_BAD_HOP_LIMIT) },
	{ "ns_code", K_NS_A, { P(55, "01") }, FIX_L4, 0, DROP(ND_MALFORMED) },
	{ "ns_short", K_NS_A, { T(70) }, FIX_LEN | FIX_L4, 0, DROP(ND_MALFORMED) },
	{ "ns_multicast_target", K_NS_A, { P(62, ALLNODES) }, FIX_L4, 0, DROP(ND_MALFORMED) },
	{ "ns_option_length_0", K_NS_A, { P(79, "00") }, FIX_L4, 0, DROP(ND_MALFORMED) },
	{ "ns_option_beyond", K_NS_A, { P(79, "02") }, FIX_L4, 0, DROP(ND_MALFORMED) },
	{ "ns_option_cut", K_NS_A, { APP("01") }, FIX_LEN | FIX_L4, 0, DROP(ND_MALFORMED) },
	{ "ns_slla_multicast", K_NS_A, { P(80, "333300000001") }, FIX_L4, 0, DROP(ND_MALFORMED) },
	{ "ns_dad_with_slla", K_NS_A, { P(22, UNSPEC) }, FIX_L4, 0, DROP(ND_MALFORMED) },
	{ "ns_dad_unicast", K_NS_A, { P(0, MAC_B), P(22, UNSPEC), P(38, B6), T(78) }, FIX_LEN | FIX_L4, 0,
	  DROP(ND_MALFORMED) },
	{ "ns_to_all_nodes", K_NS_A, { P(0, "333300000001"), P(38, ALLNODES) }, FIX_L4, 0,
	  DROP(ND_MALFORMED) },
	{ "ns_other_solicited_node", K_NS_A, { P(62, BLL) }, FIX_L4, 0, DROP(ND_MALFORMED) },
	{ "na_target_is_ours", K_NA_A, { P(62, B6) }, FIX_L4, 0, DROP(ND_MALFORMED) },
	{ "na_solicited_to_all_nodes", K_NA_A, { P(0, "333300000001"), P(38, ALLNODES) }, FIX_L4, 0,
	  DROP(ND_MALFORMED) },
	{ "na_to_solicited_node", K_NA_A, { P(0, "3333ff000002"), P(38, SOLNODE_B) }, FIX_L4, 0,
	  DROP(ND_MALFORMED) },
	{ "ns_other_target", K_NS_A, { P(0, MAC_B), P(38, B6), P(62, C6) }, FIX_L4, 0, DROP(ND_NOT_FOR_US) },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void build_case(const struct ccase *c, struct frame *f)
{
	load(f, c->base);
	apply(f, c->ops, sizeof(c->ops) / sizeof(c->ops[0]));
	fix(f, c->fix);
}

static void check_learn(const struct ccase *c, const struct wg_l3_result *res)
{
	uint8_t ip[16] = { 0 }, mac[6];
	int family;

	if (!c->learn_ip) {
		CHECK_MSG(res->learn.family == 0, "%s: learns something", c->name);
		return;
	}
	if (strchr(c->learn_ip, '.')) {
		family = AF_INET;
		inet_pton(AF_INET, c->learn_ip, ip);
	} else {
		family = AF_INET6;
		wg_test_unhex(ip, 16, c->learn_ip);
	}
	wg_test_unhex(mac, 6, c->learn_mac);
	CHECK_MSG(res->learn.family == family, "%s: learn family %u", c->name, res->learn.family);
	CHECK_MSG(memcmp(res->learn.ip, ip, 16) == 0, "%s: learn ip", c->name);
	CHECK_MSG(memcmp(res->learn.mac, mac, 6) == 0, "%s: learn mac", c->name);
	CHECK_MSG(res->learn.how == c->learn_how, "%s: learn how %u", c->name, res->learn.how);
}

static void test_classify_table(void)
{
	for (size_t i = 0; i < N_CASES; i++) {
		const struct ccase *c = &cases[i];
		struct wg_l3_local l = local_of(c->local);
		struct wg_l3_result res;
		struct frame f;

		build_case(c, &f);
		enum wg_l3_verdict v = classify_exact(&l, f.b, f.len, &res);
		CHECK_MSG(v == c->verdict && res.verdict == c->verdict, "%s: verdict %d, want %d", c->name,
			  v, c->verdict);
		if (c->verdict == WG_L3_DROP)
			CHECK_MSG(res.drop == c->drop, "%s: drop %s, want %s", c->name,
				  wg_l3_drop_name(res.drop), wg_l3_drop_name(c->drop));
		check_learn(c, &res);
	}
}

/* every verdict and every drop reason has at least one case */
static void test_table_covers_everything(void)
{
	bool seen_drop[WG_L3_DROP_MAX] = { 0 }, seen_verdict[WG_L3_ECHO_REQUEST + 1] = { 0 };

	for (size_t i = 0; i < N_CASES; i++) {
		seen_verdict[cases[i].verdict] = true;
		if (cases[i].verdict == WG_L3_DROP)
			seen_drop[cases[i].drop] = true;
	}
	for (unsigned v = 0; v <= WG_L3_ECHO_REQUEST; v++)
		CHECK_MSG(seen_verdict[v], "no case for verdict %u", v);
	for (unsigned d = 0; d < WG_L3_DROP_MAX; d++)
		CHECK_MSG(seen_drop[d], "no case for drop reason %s", wg_l3_drop_name(d));
}

/* the base frames pass the reference checksums unchanged: ref_* agrees with Linux */
static void test_ref_checksum(void)
{
	static const char *const k[] = { K_ECHO4_REQ, K_ECHO4_REPLY_B, K_NS_A, K_NA_B, K_ECHO6_REQ,
					 K_ECHO6_REPLY_B, K_UDP4, K_ICMP4_UNREACH_B, K_UDP6,
					 K_ICMP6_UNREACH_B, K_ECHO4_REPLY_A, K_NS_B, K_NA_A,
					 K_ECHO6_REPLY_A };
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		struct frame f, g;
		load(&f, k[i]);
		g = f;
		fix(&g, FIX_L4 | FIX_IP4);
		CHECK_MSG(memcmp(f.b, g.b, f.len) == 0, "captured frame %zu: reference checksum differs", i);
	}
}

/* drop names: one per reason, non-empty, distinct */
static void test_drop_names(void)
{
	for (unsigned i = 0; i < WG_L3_DROP_MAX; i++) {
		CHECK(wg_l3_drop_names[i] && wg_l3_drop_names[i][0]);
		for (unsigned j = 0; j < i; j++)
			CHECK_MSG(strcmp(wg_l3_drop_names[i], wg_l3_drop_names[j]) != 0, "duplicate %s",
				  wg_l3_drop_names[i]);
	}
	CHECK(strcmp(wg_l3_drop_name(WG_L3_DROP_TRUNCATED), "truncated") == 0);
	CHECK(strcmp(wg_l3_drop_name(WG_L3_DROP_MAX), "?") == 0);
}

/*
 * Every prefix of every table frame: an accepted frame stays accepted as
 * long as its datagram (ARP: 42 bytes) is complete and is "truncated"
 * below that; a dropped frame stays dropped. Run under ASan, each prefix
 * lives in a heap block of its exact size.
 */
static void test_truncation_everywhere(void)
{
	for (size_t i = 0; i < N_CASES; i++) {
		const struct ccase *c = &cases[i];
		struct wg_l3_local l = local_of(c->local);
		struct wg_l3_result full, res;
		struct frame f;
		size_t need;

		build_case(c, &f);
		wg_l3_classify(&l, f.b, f.len, &full);
		need = full.verdict == WG_L3_DROP ? f.len
		       : full.family		   ? 14 + full.l3_len
						   : WG_L3_ARP_LEN;
		for (size_t n = 0; n < f.len; n++) {
			enum wg_l3_verdict v = classify_exact(&l, f.b, n, &res);
			if (full.verdict == WG_L3_DROP) {
				CHECK_MSG(v == WG_L3_DROP, "%s cut to %zu: accepted", c->name, n);
			} else if (n < need) {
				CHECK_MSG(v == WG_L3_DROP && res.drop == WG_L3_DROP_TRUNCATED,
					  "%s cut to %zu: %d/%s", c->name, n, v, wg_l3_drop_name(res.drop));
			} else {
				CHECK_MSG(v == full.verdict, "%s cut to %zu (padding): %d", c->name, n, v);
			}
		}
	}
}

static void test_wireguard_fields(void)
{
	struct wg_l3_local l = local_of(LOCAL_B);
	struct wg_l3_result res;
	struct frame f;
	uint8_t a4[4], b4[4], a6[16], b6[16];

	inet_pton(AF_INET, "192.0.2.1", a4);
	inet_pton(AF_INET, "192.0.2.2", b4);
	inet_pton(AF_INET6, "2001:db8::1", a6);
	inet_pton(AF_INET6, "2001:db8::2", b6);

	load(&f, K_UDP4);
	CHECK(wg_l3_classify(&l, f.b, f.len, &res) == WG_L3_WIREGUARD);
	CHECK(res.family == AF_INET && res.l3_off == 14 && res.l3_len == 60);
	CHECK(res.l4_off == 34 && res.l4_len == 40);
	CHECK(res.payload_off == 42 && res.payload_len == 32);
	CHECK(f.b[res.payload_off] == 4 && f.b[res.payload_off + 31] == 0x1c);
	CHECK(res.src.family == AF_INET && res.src.port == htons(40000) && !memcmp(res.src.addr, a4, 4));
	CHECK(res.dst.family == AF_INET && res.dst.port == htons(51820) && !memcmp(res.dst.addr, b4, 4));

	load(&f, K_UDP6);
	CHECK(wg_l3_classify(&l, f.b, f.len, &res) == WG_L3_WIREGUARD);
	CHECK(res.family == AF_INET6 && res.l3_len == 80 && res.l4_off == 54);
	CHECK(res.payload_off == 62 && res.payload_len == 32);
	CHECK(res.src.family == AF_INET6 && res.src.port == htons(40000) && !memcmp(res.src.addr, a6, 16));
	CHECK(res.dst.family == AF_INET6 && res.dst.port == htons(51820) && !memcmp(res.dst.addr, b6, 16));

	/* after skipped extension headers; padding after the datagram ignored */
	const struct op hbh[] = { I(54, "1100010400000000"), P(20, "00"), APP("0000") };
	load(&f, K_UDP6);
	apply(&f, hbh, 2);
	fix(&f, FIX_LEN);
	apply(&f, hbh + 2, 1);
	CHECK(wg_l3_classify(&l, f.b, f.len, &res) == WG_L3_WIREGUARD);
	CHECK(res.l4_off == 62 && res.payload_off == 70 && res.payload_len == 32 && res.l3_len == 88);

	/* UDP length below the IP payload: the payload ends at the UDP length */
	const struct op shortu[] = { P(38, "0018") };
	load(&f, K_UDP4);
	apply(&f, shortu, 1);
	fix(&f, FIX_L4);
	CHECK(wg_l3_classify(&l, f.b, f.len, &res) == WG_L3_WIREGUARD);
	CHECK(res.payload_off == 42 && res.payload_len == 16);
}

/* ---- replies ------------------------------------------------------------ */

/* build with fn out of place and in place; both must equal want */
typedef ssize_t (*reply_fn)(uint8_t *, size_t, const uint8_t *, size_t, const struct wg_l3_result *,
			    const struct wg_l3_local *);

static void check_reply(const char *what, reply_fn fn, const struct wg_l3_local *l,
			const struct frame *req, enum wg_l3_verdict verdict, const struct frame *want)
{
	struct wg_l3_result res;
	struct frame inplace = *req;
	uint8_t out[2048];
	ssize_t n;

	CHECK_MSG(wg_l3_classify(l, req->b, req->len, &res) == verdict, "%s: verdict", what);
	memset(out, 0xee, sizeof(out));
	n = fn(out, sizeof(out), req->b, req->len, &res, l);
	CHECK_MSG(n > 0, "%s: %zd", what, n);
	if (n > 0)
		CHECK_FRAME(what, out, n, want->b, want->len);
	n = fn(inplace.b, sizeof(inplace.b), inplace.b, inplace.len, &res, l);
	CHECK_MSG(n > 0, "%s in place: %zd", what, n);
	if (n > 0)
		CHECK_FRAME(what, inplace.b, n, want->b, want->len);
	/* exactly the reply's size fits; one byte less does not */
	if (want->len) {
		CHECK(fn(out, want->len, req->b, req->len, &res, l) == (ssize_t)want->len);
		CHECK(fn(out, want->len - 1, req->b, req->len, &res, l) == -ENOSPC);
	}
}

static void test_arp_reply_matches_linux(void)
{
	struct wg_l3_local l = local_of(LOCAL_B);
	struct frame req, want;
	const struct op pad[] = { APP("000000000000000000000000000000000000") };
	const struct op probe[] = { P(28, "00000000") };

	load(&req, K_ARP_REQ);
	load(&want, K_ARP_REPLY_B);
	check_reply("arp reply", wg_l3_arp_reply, &l, &req, WG_L3_ARP_REQUEST, &want);
	/* padded request: same 42-byte reply */
	apply(&req, pad, 1);
	check_reply("arp reply to padded request", wg_l3_arp_reply, &l, &req, WG_L3_ARP_REQUEST, &want);
	/* RFC 5227 probe: answered to its sender MAC, target IP 0.0.0.0 (as Linux) */
	load(&req, K_ARP_REQ);
	apply(&req, probe, 1);
	const struct op pw[] = { P(38, "00000000") };
	apply(&want, pw, 1);
	check_reply("arp reply to probe", wg_l3_arp_reply, &l, &req, WG_L3_ARP_REQUEST, &want);
}

static void test_nd_advert_matches_linux(void)
{
	struct wg_l3_local l = local_of(LOCAL_B);
	struct frame req, want;

	load(&req, K_NS_A);
	load(&want, K_NA_B);
	check_reply("na", wg_l3_nd_advert, &l, &req, WG_L3_ND_SOLICIT, &want);

	/* DAD probe from ::: to all-nodes, O only (RFC 4861 7.2.4) */
	const struct op dad[] = { P(22, UNSPEC), T(78) };
	const struct op dad_na[] = { P(0, "333300000001"), P(38, ALLNODES), P(58, "20000000") };
	load(&req, K_NS_A);
	apply(&req, dad, 2);
	fix(&req, FIX_LEN | FIX_L4);
	load(&want, K_NA_B);
	apply(&want, dad_na, 3);
	fix(&want, FIX_L4);
	check_reply("na to dad", wg_l3_nd_advert, &l, &req, WG_L3_ND_SOLICIT, &want);

	/* unicast NS without source option: to the Ethernet source */
	const struct op uni[] = { P(0, MAC_B), P(6, MAC_C), P(38, B6), T(78) };
	const struct op uni_na[] = { P(0, MAC_C) };
	load(&req, K_NS_A);
	apply(&req, uni, 4);
	fix(&req, FIX_LEN | FIX_L4);
	load(&want, K_NA_B);
	apply(&want, uni_na, 1);
	check_reply("na to unicast ns", wg_l3_nd_advert, &l, &req, WG_L3_ND_SOLICIT, &want);

	/* for our link-local address: from it, target it */
	const struct op ll[] = { P(0, "3333ff0b0002"), P(22, ALL),
				 P(38, "ff02" Z4 Z4 Z4 Z4 "0001" "ff0b" "0002"), P(62, BLL) };
	const struct op ll_na[] = { P(22, BLL), P(38, ALL), P(62, BLL) };
	load(&req, K_NS_A);
	apply(&req, ll, 4);
	fix(&req, FIX_L4);
	load(&want, K_NA_B);
	apply(&want, ll_na, 3);
	fix(&want, FIX_L4);
	check_reply("na for link-local", wg_l3_nd_advert, &l, &req, WG_L3_ND_SOLICIT, &want);
}

static void test_echo_reply(void)
{
	struct wg_l3_local l = local_of(LOCAL_B);
	struct frame req, want;

	/* Linux picks its own IP id; we keep the request's (0x55bd). Nothing else differs. */
	const struct op id4[] = { P(18, "55bd") };
	load(&req, K_ECHO4_REQ);
	load(&want, K_ECHO4_REPLY_B);
	apply(&want, id4, 1);
	fix(&want, FIX_IP4);
	check_reply("echo4 reply", wg_l3_echo_reply, &l, &req, WG_L3_ECHO_REQUEST, &want);

	/* the request's TOS is kept */
	const struct op tos[] = { P(15, "b8") };
	apply(&req, tos, 1);
	fix(&req, FIX_IP4);
	apply(&want, tos, 1);
	fix(&want, FIX_IP4);
	check_reply("echo4 reply tos", wg_l3_echo_reply, &l, &req, WG_L3_ECHO_REQUEST, &want);

	/* Linux sets an automatic flow label; we send 0. Same ICMPv6 checksum. */
	const struct op fl6[] = { P(14, "60000000") };
	load(&req, K_ECHO6_REQ);
	load(&want, K_ECHO6_REPLY_B);
	apply(&want, fl6, 1);
	check_reply("echo6 reply", wg_l3_echo_reply, &l, &req, WG_L3_ECHO_REQUEST, &want);

	/* a request with a hop-by-hop header: the reply has none */
	const struct op hbh[] = { I(54, "3a00010400000000"), P(20, "00") };
	apply(&req, hbh, 2);
	fix(&req, FIX_LEN);
	check_reply("echo6 reply without ext header", wg_l3_echo_reply, &l, &req, WG_L3_ECHO_REQUEST, &want);

	/* traffic class kept */
	const struct op tc[] = { P(14, "6b800000") };
	load(&req, K_ECHO6_REQ);
	apply(&req, tc, 1);
	apply(&want, tc, 1);
	check_reply("echo6 reply traffic class", wg_l3_echo_reply, &l, &req, WG_L3_ECHO_REQUEST, &want);
}

static void test_reply_misuse(void)
{
	struct wg_l3_local l = local_of(LOCAL_B);
	struct wg_l3_result res;
	struct frame f;
	uint8_t out[256];

	load(&f, K_UDP4);
	wg_l3_classify(&l, f.b, f.len, &res);
	CHECK(wg_l3_arp_reply(out, sizeof(out), f.b, f.len, &res, &l) == -EINVAL);
	CHECK(wg_l3_nd_advert(out, sizeof(out), f.b, f.len, &res, &l) == -EINVAL);
	CHECK(wg_l3_echo_reply(out, sizeof(out), f.b, f.len, &res, &l) == -EINVAL);
	/* a result that does not fit the frame it is used with */
	load(&f, K_ECHO6_REQ);
	wg_l3_classify(&l, f.b, f.len, &res);
	CHECK(wg_l3_echo_reply(out, sizeof(out), f.b, f.len - 1, &res, &l) == -EINVAL);
	load(&f, K_NS_A);
	wg_l3_classify(&l, f.b, f.len, &res);
	CHECK(wg_l3_nd_advert(out, sizeof(out), f.b, 60, &res, &l) == -EINVAL);
	load(&f, K_ARP_REQ);
	wg_l3_classify(&l, f.b, f.len, &res);
	CHECK(wg_l3_arp_reply(out, sizeof(out), f.b, 41, &res, &l) == -EINVAL);
}

static void test_solicitations_match_linux(void)
{
	struct wg_l3_local l = local_of(LOCAL_B);
	struct frame want;
	uint8_t out[256], a4[4], a6[16], a_ll[16], mac_a[6];
	ssize_t n;

	inet_pton(AF_INET, "192.0.2.1", a4);
	inet_pton(AF_INET6, "2001:db8::1", a6);
	inet_pton(AF_INET6, "fe80::1", a_ll);
	wg_test_unhex(mac_a, 6, MAC_A);

	load(&want, K_ARP_REQ_B);
	n = wg_l3_arp_request(out, sizeof(out), &l, a4, NULL);
	CHECK_FRAME("arp request", out, n, want.b, want.len);
	/* unicast re-confirmation: same, to A's MAC (target MAC still zero, as Linux) */
	const struct op uni[] = { P(0, MAC_A) };
	apply(&want, uni, 1);
	n = wg_l3_arp_request(out, sizeof(out), &l, a4, mac_a);
	CHECK_FRAME("unicast arp request", out, n, want.b, want.len);
	CHECK(wg_l3_arp_request(out, WG_L3_ARP_LEN - 1, &l, a4, NULL) == -ENOSPC);

	load(&want, K_NS_B);
	n = wg_l3_nd_solicit(out, sizeof(out), &l, a6, NULL);
	CHECK_FRAME("ns", out, n, want.b, want.len);
	/* unicast: to the target itself at its MAC */
	const struct op uni6[] = { P(0, MAC_A), P(38, A6) };
	apply(&want, uni6, 2);
	fix(&want, FIX_L4);
	n = wg_l3_nd_solicit(out, sizeof(out), &l, a6, mac_a);
	CHECK_FRAME("unicast ns", out, n, want.b, want.len);
	/* a link-local target is asked from our link-local address */
	const struct op ll[] = { P(0, "3333ff000001"), P(22, BLL),
				 P(38, "ff02" Z4 Z4 Z4 Z4 "0001" "ff00" "0001"), P(62, ALL) };
	load(&want, K_NS_B);
	apply(&want, ll, 4);
	fix(&want, FIX_L4);
	n = wg_l3_nd_solicit(out, sizeof(out), &l, a_ll, NULL);
	CHECK_FRAME("link-local ns", out, n, want.b, want.len);
	CHECK(wg_l3_nd_solicit(out, WG_L3_ND_LEN - 1, &l, a6, NULL) == -ENOSPC);
	/* no address of the target's scope: our first address */
	struct wg_l3_local ll_only = l;
	memcpy(ll_only.ipv6[0], l.ipv6[1], 16);
	ll_only.n_ipv6 = 1;
	n = wg_l3_nd_solicit(out, sizeof(out), &ll_only, a6, NULL);
	CHECK(n == WG_L3_ND_LEN && memcmp(out + 22, l.ipv6[1], 16) == 0);

	struct wg_l3_local none = local_of(LOCAL_B_NO_V4);
	CHECK(wg_l3_arp_request(out, sizeof(out), &none, a4, NULL) == -EINVAL);
	none = local_of(LOCAL_B_NO_V6);
	CHECK(wg_l3_nd_solicit(out, sizeof(out), &none, a6, NULL) == -EINVAL);
	uint8_t mc[16];
	inet_pton(AF_INET6, "ff02::1", mc);
	CHECK(wg_l3_nd_solicit(out, sizeof(out), &l, mc, NULL) == -EINVAL);

	/* what we send, the peer (A) classifies as a request for it */
	struct wg_l3_local la = local_of(LOCAL_A);
	struct wg_l3_result res;
	n = wg_l3_nd_solicit(out, sizeof(out), &l, a6, NULL);
	CHECK(wg_l3_classify(&la, out, (size_t)n, &res) == WG_L3_ND_SOLICIT);
	n = wg_l3_arp_request(out, sizeof(out), &l, a4, NULL);
	CHECK(wg_l3_classify(&la, out, (size_t)n, &res) == WG_L3_ARP_REQUEST);
}

/* ---- encapsulation ------------------------------------------------------ */

static struct wg_l3_encap_params params_a_to_b(int family)
{
	struct wg_l3_encap_params p = { 0 };

	wg_test_unhex(p.src_mac, 6, MAC_A);
	wg_test_unhex(p.dst_mac, 6, MAC_B);
	p.src.family = p.dst.family = (uint8_t)family;
	p.src.port = htons(40000);
	p.dst.port = htons(51820);
	inet_pton(family, family == AF_INET ? "192.0.2.1" : "2001:db8::1", p.src.addr);
	inet_pton(family, family == AF_INET ? "192.0.2.2" : "2001:db8::2", p.dst.addr);
	p.ip_id = 0x108a;
	return p;
}

static void test_encap_matches_linux(void)
{
	struct frame want, f;
	ssize_t n;

	/* IPv4: Linux set DF on its datagram; WireGuard does not */
	struct wg_l3_encap_params p = params_a_to_b(AF_INET);
	const struct op nodf[] = { P(20, "0000") };
	load(&want, K_UDP4);
	apply(&want, nodf, 1);
	fix(&want, FIX_IP4);
	memset(f.b, 0xee, sizeof(f.b));
	memcpy(f.b + 42, want.b + 42, 32);
	n = wg_l3_encap(f.b, sizeof(f.b), 32, &p);
	CHECK_FRAME("encap4", f.b, n, want.b, want.len);
	CHECK(wg_l3_encap(f.b, 42 + 32, 32, &p) == 74);
	CHECK(wg_l3_encap(f.b, 42 + 31, 32, &p) == -ENOSPC);

	/* IPv6: Linux set a flow label; we send 0 (not in the UDP checksum) */
	p = params_a_to_b(AF_INET6);
	const struct op fl[] = { P(14, "60000000") };
	load(&want, K_UDP6);
	apply(&want, fl, 1);
	memset(f.b, 0xee, sizeof(f.b));
	memcpy(f.b + 62, want.b + 62, 32);
	n = wg_l3_encap(f.b, sizeof(f.b), 32, &p);
	CHECK_FRAME("encap6", f.b, n, want.b, want.len);

	/* the receiver classifies it as WireGuard from us */
	struct wg_l3_local b = local_of(LOCAL_B);
	struct wg_l3_result res;
	CHECK(wg_l3_classify(&b, f.b, (size_t)n, &res) == WG_L3_WIREGUARD);
	CHECK(res.payload_off == 62 && res.payload_len == 32 && wg_endpoint_equal(&res.src, &p.src));
}

static void test_encap_offload_and_zero(void)
{
	struct frame f, ref;
	ssize_t n;

	/* offload: IPv4 checksum 0, UDP holds the uncomplemented pseudo-header sum */
	for (int v6 = 0; v6 < 2; v6++) {
		struct wg_l3_encap_params p = params_a_to_b(v6 ? AF_INET6 : AF_INET);
		size_t h = wg_l3_encap_len(p.dst.family);
		p.flags = WG_L3_ENCAP_IP_CSUM_OFFLOAD | WG_L3_ENCAP_UDP_CSUM_OFFLOAD;
		memset(f.b, 0x5a, sizeof(f.b));
		n = wg_l3_encap(f.b, sizeof(f.b), 100, &p);
		CHECK(n == (ssize_t)(h + 100));
		f.len = (size_t)n;
		uint32_t acc;
		if (v6) {
			uint8_t ph[8] = { 0, 0, 0, 108, 0, 0, 0, 17 };
			acc = ref_add(ref_add(0, f.b + 22, 32), ph, 8);
		} else {
			uint8_t ph[4] = { 0, 17, 0, 108 };
			acc = ref_add(ref_add(0, f.b + 26, 8), ph, 4);
			CHECK(f.b[24] == 0 && f.b[25] == 0);
		}
		uint16_t phsum = (uint16_t)~ref_cksum(acc);
		CHECK_MSG(get16(f.b + h - 2) == phsum, "v6=%d: pseudo-header sum %04x, want %04x", v6,
			  get16(f.b + h - 2), phsum);
		/* what the NIC would then write */
		ref = f;
		fix(&ref, FIX_L4 | FIX_IP4);
		p.flags = 0;
		n = wg_l3_encap(f.b, sizeof(f.b), 100, &p);
		CHECK_FRAME("software checksums", f.b, n, ref.b, ref.len);
	}

	/* a datagram whose checksum computes to 0 carries 0xffff (RFC 768) */
	struct wg_l3_encap_params p = params_a_to_b(AF_INET);
	memset(f.b, 0, sizeof(f.b));
	n = wg_l3_encap(f.b, sizeof(f.b), 32, &p);
	uint16_t c = get16(f.b + 40);
	/* add c to the first payload word (one's complement): the sum becomes all ones */
	uint32_t w = (uint32_t)get16(f.b + 42) + c;
	w = (w & 0xffff) + (w >> 16);
	set16(f.b + 42, w);
	n = wg_l3_encap(f.b, sizeof(f.b), 32, &p);
	CHECK(n == 74 && get16(f.b + 40) == 0xffff);
	struct wg_l3_local b = local_of(LOCAL_B);
	struct wg_l3_result res;
	CHECK(wg_l3_classify(&b, f.b, (size_t)n, &res) == WG_L3_WIREGUARD);
}

static void test_encap_errors(void)
{
	static uint8_t big[70000];
	struct wg_l3_encap_params p = params_a_to_b(AF_INET);

	CHECK(wg_l3_encap_len(AF_INET) == 42 && wg_l3_encap_len(AF_INET6) == 62 && wg_l3_encap_len(0) == 0);
	p.dst.family = AF_INET6;
	CHECK(wg_l3_encap(big, sizeof(big), 32, &p) == -EINVAL);
	p.src.family = p.dst.family = 0;
	CHECK(wg_l3_encap(big, sizeof(big), 32, &p) == -EINVAL);
	p = params_a_to_b(AF_INET);
	CHECK(wg_l3_encap(big, sizeof(big), 65535 - 28, &p) == 65535 + 14);
	CHECK(wg_l3_encap(big, sizeof(big), 65535 - 27, &p) == -EMSGSIZE);
	p = params_a_to_b(AF_INET6);
	CHECK(wg_l3_encap(big, sizeof(big), 65535 - 8, &p) == 65535 + 54);
	CHECK(wg_l3_encap(big, sizeof(big), 65535 - 7, &p) == -EMSGSIZE);
	CHECK(wg_l3_encap(big, 61, 0, &p) == -ENOSPC);
}

/* ---- inner packets ------------------------------------------------------ */

static void test_inner_parse(void)
{
	struct wg_l3_inner in;
	struct frame f;
	uint8_t a4[4], b4[4], a6[16], b6[16];

	inet_pton(AF_INET, "192.0.2.1", a4);
	inet_pton(AF_INET, "192.0.2.2", b4);
	inet_pton(AF_INET6, "2001:db8::1", a6);
	inet_pton(AF_INET6, "2001:db8::2", b6);

	/* as after decryption: the IP packet, then zero padding to 16 */
	load(&f, K_ECHO4_REQ);
	uint8_t *p = f.b + 14;
	size_t n = f.len - 14; /* 52 */
	memset(p + n, 0, 12);
	CHECK(wg_l3_inner_parse(p, 64, &in) == 0);
	CHECK(in.family == AF_INET && in.len == 52 && !memcmp(in.src, a4, 4) && !memcmp(in.dst, b4, 4));
	CHECK(in.src[4] == 0 && memcmp(in.src + 4, in.src + 5, 11) == 0);
	CHECK(wg_l3_inner_parse(p, 52, &in) == 0 && in.len == 52);
	CHECK(wg_l3_inner_parse(p, 51, &in) == -EBADMSG);

	load(&f, K_UDP6);
	p = f.b + 14;
	CHECK(wg_l3_inner_parse(p, 80, &in) == 0);
	CHECK(in.family == AF_INET6 && in.len == 80 && !memcmp(in.src, a6, 16) && !memcmp(in.dst, b6, 16));
	CHECK(wg_l3_inner_parse(p, 79, &in) == -EBADMSG);

	/* malformed headers */
	static const struct {
		const char *name, *base;
		struct op ops[2];
	} bad[] = {
		{ "version 5", K_ECHO4_REQ, { P(14, "55") } },
		{ "version 0", K_ECHO4_REQ, { P(14, "05") } },
		{ "ihl 4", K_ECHO4_REQ, { P(14, "44") } },
		{ "total below header", K_ECHO4_REQ, { P(16, "0013") } },
		{ "ihl beyond total", K_ECHO4_REQ, { P(14, "4f") } },
		{ "ipv6 jumbo", K_UDP6, { P(18, "0000") } },
		{ "ipv6 beyond buffer", K_UDP6, { P(18, "0029") } },
		{ "ipv6 version 7", K_UDP6, { P(14, "70") } },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		load(&f, bad[i].base);
		apply(&f, bad[i].ops, 2);
		CHECK_MSG(wg_l3_inner_parse(f.b + 14, f.len - 14, &in) == -EBADMSG, "%s", bad[i].name);
	}
	/* every prefix of the minimal headers, in exact-size heap blocks */
	for (int v6 = 0; v6 < 2; v6++) {
		load(&f, v6 ? K_UDP6 : K_ECHO4_REQ);
		size_t hl = v6 ? 40 : 20;
		for (size_t k = 0; k < hl; k++) {
			uint8_t *c = malloc(k ? k : 1);
			memcpy(c, f.b + 14, k);
			CHECK_MSG(wg_l3_inner_parse(c, k, &in) == -EBADMSG, "v6=%d cut to %zu", v6, k);
			free(c);
		}
	}
	/* a header-only IPv4 packet (total length 20) is fine; fragments are too */
	uint8_t h[20] = { 0x45, 0, 0, 20, 0, 0, 0x20, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };
	CHECK(wg_l3_inner_parse(h, sizeof(h), &in) == 0 && in.len == 20);
}

int main(void)
{
	TEST_BEGIN("dataplane_l3_test");
	RUN_TEST(test_ref_checksum);
	RUN_TEST(test_drop_names);
	RUN_TEST(test_classify_table);
	RUN_TEST(test_table_covers_everything);
	RUN_TEST(test_truncation_everywhere);
	RUN_TEST(test_wireguard_fields);
	RUN_TEST(test_arp_reply_matches_linux);
	RUN_TEST(test_nd_advert_matches_linux);
	RUN_TEST(test_echo_reply);
	RUN_TEST(test_reply_misuse);
	RUN_TEST(test_solicitations_match_linux);
	RUN_TEST(test_encap_matches_linux);
	RUN_TEST(test_encap_offload_and_zero);
	RUN_TEST(test_encap_errors);
	RUN_TEST(test_inner_parse);
	return TEST_END();
}
