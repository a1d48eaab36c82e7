/* SPDX-License-Identifier: MIT */
/*
 * Every packet the appliance does not forward is counted under a name, never
 * logged. One X-macro list yields the enum, the name the API and metrics show,
 * and the per-lcore counter array; adding a reason is one line here.
 *
 * Counters are per lcore (each lcore writes only its own, no atomics on the
 * fast path); readers sum them.
 */
#ifndef WG_COUNTERS_H
#define WG_COUNTERS_H

#include <stdint.h>

#include "dataplane/l3.h"

#define WG_DROP_REASONS(X)                                                                       \
	/* outside, before decryption */                                                        \
	X(MALFORMED, "malformed")             /* not a well-formed WireGuard message */           \
	X(UNKNOWN_INDEX, "unknown_index")     /* receiver index matches no keypair */             \
	X(KEYPAIR_EXPIRED, "keypair_expired") /* older than REJECT_AFTER_TIME */                 \
	X(BAD_TAG, "bad_tag")                 /* Poly1305 tag does not verify */                  \
	X(REPLAY, "replay")                   /* counter seen before or left of the window */     \
	/* outside, after decryption */                                                         \
	X(INNER_MALFORMED, "inner_malformed") /* plaintext is not an IPv4/IPv6 packet */         \
	X(ALLOWEDIPS_MISMATCH, "allowedips_mismatch") /* inner source not the sender's */       \
	/* inside -> outside */                                                                 \
	X(NO_ROUTE, "no_route")               /* destination in no peer's allowed IPs */          \
	X(PEER_DISABLED, "peer_disabled")     /* the peer is disabled (REST API enabled=false) */  \
	X(NO_ENDPOINT, "no_endpoint")         /* peer has never been seen and has no Endpoint */   \
	X(NO_SESSION, "no_session")           /* staging queue full while handshaking */          \
	X(NO_STAGING_QUEUE, "no_staging_queue") /* every staging queue of the worker in use */   \
	X(TOO_BIG, "too_big")                 /* inner packet above the tunnel MTU */             \
	X(NO_NEIGHBOUR, "no_neighbour")       /* next hop did not resolve */                      \
	X(NEIGH_QUEUE_FULL, "neigh_queue_full") /* next hop resolving, its queue full */          \
	/* handoff and transmit */                                                              \
	X(RING_FULL, "ring_full")             /* a ring to or from the control thread full */     \
	X(HANDOFF_FULL, "handoff_full")       /* ring to the owning worker full */                \
	X(HOLD_FULL, "hold_full")             /* too many packets held for migrating peers */     \
	X(TX_FULL, "tx_full")                 /* port refused the packet */                       \
	X(NO_MBUF, "no_mbuf")                 /* pool empty when a copy was needed */             \
	X(NO_SESSION_MEMORY, "no_session_memory") /* handshake done, no memory for its session */ \
	X(HANDSHAKE_NO_MEMORY, "handshake_no_memory") /* no memory for a handshake's ephemeral state */ \
	/* handshake path (control thread) */                                                   \
	X(HANDSHAKE_MAC1, "handshake_bad_mac1")                                                 \
	X(HANDSHAKE_RATELIMITED, "handshake_ratelimited")                                       \
	X(HANDSHAKE_INVALID, "handshake_invalid") /* failed to consume */                       \
	X(HANDSHAKE_UNKNOWN_PEER, "handshake_unknown_peer")                                     \
	X(HANDSHAKE_PEER_DISABLED, "handshake_peer_disabled")                                   \
	X(HANDSHAKE_REPLAY, "handshake_replay")   /* timestamp not newer */                     \
	X(HANDSHAKE_FLOOD, "handshake_flood")     /* within 1/50 s of the last */               \
	X(COOKIE_INVALID, "cookie_invalid")                                                     \
	/* inside port (outside-port L2/L3 drops have their own list in l3.h) */                \
	X(INSIDE_UNSUPPORTED, "inside_unsupported") /* non-IP frame from the inside */

enum wg_drop_reason {
#define WG_X_ENUM(e, name) WG_DROP_##e,
	WG_DROP_REASONS(WG_X_ENUM)
#undef WG_X_ENUM
	WG_DROP_MAX
};

extern const char *const wg_drop_names[WG_DROP_MAX];

/* what one lcore did; cache-line aligned by its owner */
struct wg_lcore_counters {
	uint64_t rx_packets, rx_bytes;         /* outside -> inside, forwarded */
	uint64_t tx_packets, tx_bytes;         /* inside -> outside, forwarded */
	uint64_t keepalives_rx, keepalives_tx;
	uint64_t handshakes_rx;                /* messages of types 1-3 */
	uint64_t handshakes_tx;                /* initiations and responses */
	uint64_t cookies_tx;                   /* cookie replies (under load) */
	uint64_t arp_nd_replies, echo_replies;
	uint64_t drops[WG_DROP_MAX];
	uint64_t l3_drops[WG_L3_DROP_MAX];   /* outside frames, by wg_l3_drop */
};

#endif
