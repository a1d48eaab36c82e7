/* SPDX-License-Identifier: MIT */
/*
 * Ethernet, ARP, IPv4, IPv6, UDP, ICMP and ICMPv6 neighbour discovery around
 * the tunnel, on plain byte buffers: the DPDK side passes rte_pktmbuf_mtod()
 * pointers and lengths, the tests pass arrays. Nothing here allocates, reads
 * a clock or links DPDK; every read is bounds-checked against the length.
 *
 * Outside port, inbound: wg_l3_classify() sorts a frame into a verdict
 * (WireGuard payload, ARP request for us, ND solicitation for us, neighbour
 * information to learn, ICMP echo request to us) or a named drop reason.
 * Replies are built by wg_l3_arp_reply(), wg_l3_nd_advert() and
 * wg_l3_echo_reply(), in place or into another buffer. Outbound:
 * wg_l3_encap() prepends Ethernet + IP + UDP to a WireGuard message, and
 * wg_l3_arp_request() / wg_l3_nd_solicit() build resolution requests.
 * Inside direction: wg_l3_inner_parse() reads a decrypted inner packet.
 *
 * Addresses are byte arrays in network order; ports are in network byte
 * order, as in struct wg_endpoint. See docs/l3.md.
 */
#ifndef WG_L3_H
#define WG_L3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/endpoint.h"
#include "dataplane/neigh.h"

/* ---- wire headers ------------------------------------------------------- */
/* Multi-byte integers are big-endian on the wire; addresses are byte arrays. */

#define WG_ETH_ALEN 6u
#define WG_ETHERTYPE_IPV4 0x0800u
#define WG_ETHERTYPE_ARP  0x0806u
#define WG_ETHERTYPE_IPV6 0x86ddu
#define WG_ETHERTYPE_VLAN 0x8100u
#define WG_ETHERTYPE_QINQ 0x88a8u

struct wg_eth_hdr {
	uint8_t dst[WG_ETH_ALEN];
	uint8_t src[WG_ETH_ALEN];
	uint16_t type;
} __attribute__((packed));

struct wg_arp_hdr {
	uint16_t htype; /* 1: Ethernet */
	uint16_t ptype; /* 0x0800: IPv4 */
	uint8_t hlen;   /* 6 */
	uint8_t plen;   /* 4 */
	uint16_t op;    /* 1 request, 2 reply */
	uint8_t sha[WG_ETH_ALEN];
	uint8_t spa[4];
	uint8_t tha[WG_ETH_ALEN];
	uint8_t tpa[4];
} __attribute__((packed));

struct wg_ipv4_hdr {
	uint8_t ver_ihl;
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off; /* flags (reserved, DF, MF) and 13-bit offset */
	uint8_t ttl;
	uint8_t proto;
	uint16_t check;
	uint8_t src[4];
	uint8_t dst[4];
} __attribute__((packed));

struct wg_ipv6_hdr {
	uint32_t ver_tc_flow;
	uint16_t payload_len;
	uint8_t next;
	uint8_t hop_limit;
	uint8_t src[16];
	uint8_t dst[16];
} __attribute__((packed));

struct wg_udp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint16_t len;
	uint16_t check;
} __attribute__((packed));

/* ICMP and ICMPv6 echo request/reply */
struct wg_icmp_echo {
	uint8_t type;
	uint8_t code;
	uint16_t check;
	uint16_t id;
	uint16_t seq;
} __attribute__((packed));

/* ICMPv6 neighbour solicitation (135) and advertisement (136) */
struct wg_nd_msg {
	uint8_t type;
	uint8_t code;
	uint16_t check;
	uint32_t flags; /* NA: R 0x80000000, S 0x40000000, O 0x20000000; NS: reserved */
	uint8_t target[16];
} __attribute__((packed));

/* source (1) / target (2) link-layer address option, Ethernet */
struct wg_nd_opt_lla {
	uint8_t type;
	uint8_t len; /* in units of 8 bytes: 1 */
	uint8_t mac[WG_ETH_ALEN];
} __attribute__((packed));

_Static_assert(sizeof(struct wg_eth_hdr) == 14, "Ethernet header");
_Static_assert(sizeof(struct wg_arp_hdr) == 28, "ARP for IPv4 over Ethernet");
_Static_assert(sizeof(struct wg_ipv4_hdr) == 20, "IPv4 header without options");
_Static_assert(sizeof(struct wg_ipv6_hdr) == 40, "IPv6 header");
_Static_assert(sizeof(struct wg_udp_hdr) == 8, "UDP header");
_Static_assert(sizeof(struct wg_icmp_echo) == 8, "ICMP echo header");
_Static_assert(sizeof(struct wg_nd_msg) == 24, "NS/NA without options");
_Static_assert(sizeof(struct wg_nd_opt_lla) == 8, "link-layer address option");

#define WG_IPPROTO_ICMP   1u
#define WG_IPPROTO_UDP    17u
#define WG_IPPROTO_ICMPV6 58u
#define WG_ICMP_ECHO_REPLY     0u
#define WG_ICMP_ECHO_REQUEST   8u
#define WG_ICMP6_ECHO_REQUEST  128u
#define WG_ICMP6_ECHO_REPLY    129u
#define WG_ICMP6_ND_SOLICIT    135u
#define WG_ICMP6_ND_ADVERT     136u
#define WG_ND_OPT_SOURCE_LLA   1u
#define WG_ND_OPT_TARGET_LLA   2u
#define WG_ND_FLAG_ROUTER      0x80000000u
#define WG_ND_FLAG_SOLICITED   0x40000000u
#define WG_ND_FLAG_OVERRIDE    0x20000000u

#define WG_L3_TTL 64u /* TTL / hop limit of everything we originate but ND */

/* frame sizes of what we build (no Ethernet padding, no FCS) */
#define WG_L3_ARP_LEN    (14u + 28u)
#define WG_L3_ND_LEN     (14u + 40u + 24u + 8u)
#define WG_L3_ENCAP4_LEN (14u + 20u + 8u) /* headers before a WireGuard message */
#define WG_L3_ENCAP6_LEN (14u + 40u + 8u)

/* ---- our side of the outside link --------------------------------------- */

#define WG_L3_MAX_IPV6 4u

struct wg_l3_local {
	uint8_t mac[WG_ETH_ALEN];
	bool has_ipv4;
	uint8_t ipv4[4];
	uint8_t n_ipv6; /* global and/or link-local, at most WG_L3_MAX_IPV6 */
	uint8_t ipv6[WG_L3_MAX_IPV6][16];
	uint16_t port; /* WireGuard listen port, network byte order */
};

/* ---- classification ----------------------------------------------------- */

enum wg_l3_verdict {
	WG_L3_DROP = 0,     /* res->drop says why; count it and free the frame */
	WG_L3_WIREGUARD,    /* UDP to our address and port: payload_off/len, src, dst */
	WG_L3_ARP_REQUEST,  /* for our IPv4: answer with wg_l3_arp_reply(); learn */
	WG_L3_ND_SOLICIT,   /* for one of our IPv6: answer with wg_l3_nd_advert(); learn */
	WG_L3_NEIGH_LEARN,  /* ARP reply, gratuitous ARP, NA: only res->learn matters */
	WG_L3_ECHO_REQUEST, /* ICMP/ICMPv6 echo to us: answer with wg_l3_echo_reply() */
};

/*
 * Every reason for dropping an outside frame, in the order classify checks
 * them (per protocol). One list yields the enum, the names shown by the API
 * and the index of the per-lcore counter.
 */
#define WG_L3_DROP_REASONS(X)                                                                    \
	X(TRUNCATED, "truncated")                 /* frame ends inside a header or IP length */  \
	X(ETH_NOT_FOR_US, "eth_not_for_us")       /* unicast to another MAC */                   \
	X(ETH_BAD_SOURCE, "eth_bad_source")       /* multicast/broadcast source MAC */           \
	X(VLAN, "vlan")                           /* 802.1Q / 802.1ad tagged */                  \
	X(ETHERTYPE, "unsupported_ethertype")     /* not ARP, IPv4 or IPv6 */                    \
	X(ARP_MALFORMED, "arp_malformed")         /* not Ethernet/IPv4, or opcode not 1/2 */     \
	X(ARP_BAD_SENDER, "arp_bad_sender")       /* multicast MAC; our, martian or 0 IP */      \
	X(ARP_NOT_FOR_US, "arp_not_for_us")       /* for another IP, not gratuitous */           \
	X(IP_BAD_HEADER, "ip_bad_header")         /* version, IHL, total length, jumbogram */    \
	X(IPV4_BAD_CHECKSUM, "ipv4_bad_checksum")                                                \
	X(IPV4_OPTIONS, "ipv4_options")           /* IHL > 5: not supported */                   \
	X(IP_FRAGMENT, "ip_fragment")             /* IPv4 MF/offset, IPv6 fragment header */     \
	X(IP_MARTIAN_SOURCE, "ip_martian_source") /* ours, multicast, loopback, unspecified */   \
	X(IP_NOT_FOR_US, "ip_not_for_us")         /* destination not ours (or wrong kind) */     \
	X(IPV6_EXT_HEADER, "ipv6_extension_header") /* routing, misplaced or too many */         \
	X(IP_PROTOCOL, "ip_unsupported_protocol") /* not UDP, ICMP or ICMPv6 */                  \
	X(UDP_BAD_LENGTH, "udp_bad_length")       /* UDP length < 8 or beyond the IP payload */  \
	X(UDP_PORT, "udp_other_port")             /* not our listen port */                      \
	X(UDP_ZERO_CHECKSUM, "udp6_zero_checksum") /* mandatory over IPv6 */                     \
	X(UDP_BAD_CHECKSUM, "udp_bad_checksum")                                                  \
	X(ICMP_TYPE, "icmp_unsupported_type")     /* anything but echo request, NS, NA */        \
	X(ICMP_BAD_CHECKSUM, "icmp_bad_checksum") /* ICMP or ICMPv6 */                           \
	X(ND_BAD_HOP_LIMIT, "nd_bad_hop_limit")   /* NS/NA not sent with hop limit 255 */        \
	X(ND_MALFORMED, "nd_malformed")           /* length, code, target, options, addresses */ \
	X(ND_NOT_FOR_US, "nd_not_for_us")         /* NS for an address that is not ours */

enum wg_l3_drop {
#define WG_L3_X_ENUM(e, name) WG_L3_DROP_##e,
	WG_L3_DROP_REASONS(WG_L3_X_ENUM)
#undef WG_L3_X_ENUM
	WG_L3_DROP_MAX
};

extern const char *const wg_l3_drop_names[WG_L3_DROP_MAX];

/* name of a drop reason ("truncated", ...), "?" when out of range */
const char *wg_l3_drop_name(unsigned reason);

/* neighbour information carried by a frame, for wg_neigh_learn() */
struct wg_l3_learn {
	uint8_t family; /* AF_INET or AF_INET6; 0: nothing to learn */
	uint8_t how;    /* enum wg_neigh_learn */
	uint8_t mac[WG_ETH_ALEN];
	uint8_t ip[16]; /* IPv4 in the first 4 bytes, rest zero */
};

struct wg_l3_result {
	uint8_t verdict; /* enum wg_l3_verdict */
	uint8_t drop;    /* enum wg_l3_drop, when verdict is WG_L3_DROP */
	uint8_t family;  /* AF_INET / AF_INET6 of the IP frames, 0 for ARP */
	uint32_t l3_off; /* ARP or IP header */
	uint32_t l3_len; /* IP datagram length (Ethernet padding excluded) */
	uint32_t l4_off; /* UDP or ICMP header, after any skipped extension headers */
	uint32_t l4_len; /* from l4_off to the end of the datagram */
	uint32_t payload_off, payload_len; /* WIREGUARD: the UDP payload */
	struct wg_endpoint src; /* WIREGUARD: the peer's address and port */
	struct wg_endpoint dst; /* WIREGUARD: our address and port it was sent to */
	struct wg_l3_learn learn;
};

/*
 * Classify one inbound frame of the outside port. Returns the verdict (also
 * in res->verdict); res is filled as the verdict documents. Never reads
 * frame[len] or beyond, never writes to the frame.
 */
enum wg_l3_verdict wg_l3_classify(const struct wg_l3_local *local, const uint8_t *frame, size_t len,
				  struct wg_l3_result *res);

/* ---- replies to what classify found ------------------------------------- */
/*
 * Each takes the request frame and the result classify gave for it, writes
 * the reply into out (cap bytes), and returns its length, or -EINVAL (res is
 * not the matching verdict or does not fit the frame) or -ENOSPC (cap too
 * small). out may be the request buffer itself (in place); any other overlap
 * is not allowed. Frames are not padded to 60 bytes; NICs do that.
 */
/* ARP reply from our MAC and IPv4 to the requester (42 bytes) */
ssize_t wg_l3_arp_reply(uint8_t *out, size_t cap, const uint8_t *req, size_t len,
			const struct wg_l3_result *res, const struct wg_l3_local *local);
/*
 * Neighbour advertisement for the solicited target (86 bytes): flags S|O
 * to the solicitor (to all-nodes with O only when it was a DAD probe from
 * ::), target link-layer option with our MAC, hop limit 255.
 */
ssize_t wg_l3_nd_advert(uint8_t *out, size_t cap, const uint8_t *req, size_t len,
			const struct wg_l3_result *res, const struct wg_l3_local *local);
/*
 * Echo reply with the request's identifier, sequence and data, from the
 * address it was sent to, TTL/hop limit 64. IPv4 keeps the request's TOS
 * and IP id and sets no DF; IPv6 keeps the traffic class, flow label 0,
 * and leaves out any extension headers the request had.
 */
ssize_t wg_l3_echo_reply(uint8_t *out, size_t cap, const uint8_t *req, size_t len,
			 const struct wg_l3_result *res, const struct wg_l3_local *local);

/* ---- resolution requests ------------------------------------------------ */
/*
 * ARP request for target (42 bytes): broadcast when dst_mac is NULL, else
 * unicast to dst_mac (re-confirming a STALE entry). Needs local->has_ipv4.
 */
ssize_t wg_l3_arp_request(uint8_t *out, size_t cap, const struct wg_l3_local *local,
			  const uint8_t target[4], const uint8_t *dst_mac);
/*
 * Neighbour solicitation for target (86 bytes) with our source link-layer
 * option, hop limit 255: to the target's solicited-node group
 * ff02::1:ffXX:XXXX at 33:33:ff:XX:XX:XX when dst_mac is NULL, else unicast
 * to target at dst_mac. The source is our link-local address when the
 * target is link-local and we have one, else our first address. Needs
 * local->n_ipv6 > 0.
 */
ssize_t wg_l3_nd_solicit(uint8_t *out, size_t cap, const struct wg_l3_local *local,
			 const uint8_t target[16], const uint8_t *dst_mac);

/* ---- outbound WireGuard messages ---------------------------------------- */

#define WG_L3_ENCAP_IP_CSUM_OFFLOAD  0x1u /* leave the IPv4 header checksum 0 */
#define WG_L3_ENCAP_UDP_CSUM_OFFLOAD 0x2u /* put only the pseudo-header sum in UDP */

struct wg_l3_encap_params {
	uint8_t src_mac[WG_ETH_ALEN];
	uint8_t dst_mac[WG_ETH_ALEN]; /* the resolved next hop */
	struct wg_endpoint src;       /* our address and port */
	struct wg_endpoint dst;       /* the peer's endpoint, same family */
	uint16_t ip_id;               /* IPv4 identification, host order; caller increments */
	unsigned flags;               /* WG_L3_ENCAP_* */
};

/* bytes of headers wg_l3_encap() puts before a message: 42, 62, 0 if unknown */
size_t wg_l3_encap_len(int family);

/*
 * Write Ethernet + IPv4/IPv6 + UDP headers at frame, in front of the
 * msg_len-byte WireGuard message that already sits at frame +
 * wg_l3_encap_len(family) (cap counts from frame). TTL/hop limit 64, no DF,
 * traffic class and flow label 0. The IPv4 header checksum and the UDP
 * checksum are computed, unless the offload flags say the NIC will: then
 * the IPv4 checksum is 0 and the UDP field holds the folded pseudo-header
 * sum, not complemented (what rte_ipv4_phdr_cksum/rte_ipv6_phdr_cksum
 * return). A computed UDP checksum of 0 is sent as 0xffff. Returns the
 * frame length, -EINVAL (families), -EMSGSIZE (message too big for one
 * datagram) or -ENOSPC (cap).
 */
ssize_t wg_l3_encap(uint8_t *frame, size_t cap, size_t msg_len, const struct wg_l3_encap_params *p);

/* ---- inside direction ---------------------------------------------------- */

struct wg_l3_inner {
	uint8_t family;  /* AF_INET or AF_INET6 */
	uint32_t len;    /* IP total length: bytes beyond it are WireGuard padding */
	uint8_t src[16]; /* IPv4 in the first 4 bytes, rest zero */
	uint8_t dst[16];
};

/*
 * Parse the IP header of a decrypted inner packet (no Ethernet): version 4
 * with IHL >= 5 and IHL*4 <= total length <= len, or version 6 with a
 * non-zero payload length and 40 + payload length <= len. The IPv4 header
 * checksum is not verified (the packet is authenticated; the receiving host
 * checks it). A keepalive (len 0) is the caller's case. 0 or -EBADMSG.
 */
int wg_l3_inner_parse(const uint8_t *pkt, size_t len, struct wg_l3_inner *out);

#endif
