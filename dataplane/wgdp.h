/* SPDX-License-Identifier: MIT */
/*
 * The appliance: one struct that ties the ports, tables, rings, workers and
 * control state together. Built by wg_device_setup() on the main thread before
 * any lcore runs, torn down by wg_device_teardown() after they all stopped.
 */
#ifndef WG_WGDP_H
#define WG_WGDP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "conf/config.h"
#include "control/call.h"
#include "control/cookie.h"
#include "control/noise.h"
#include "control/ratelimiter.h"
#include "crypto/batch_aead.h"
#include "dataplane/allowedips.h"
#include "dataplane/counters.h"
#include "dataplane/index.h"
#include "dataplane/l3.h"
#include "dataplane/neigh.h"
#include "dataplane/peer.h"
#include "dataplane/port.h"

#define WG_MAX_WORKERS 64u

struct wgdp;
struct wg_pool;
struct wg_statefile;

struct wg_worker {
	struct wgdp *dev;
	unsigned id;                  /* 0..n_workers-1 */
	unsigned lcore_id;
	uint16_t queue;               /* its RX and TX queue on both ports */
	struct wg_batch_aead *aead;
	struct rte_ring *requests;    /* control -> worker: tagged peer pointers */
	struct rte_mempool *staging;  /* staging queues for its peers (dataplane/staging.h) */
	uint16_t ip_id;
	struct wg_lcore_counters cnt __rte_cache_aligned;
};

/* an immutable copy of the resolved next hops, for workers */
struct wg_neigh_snapshot {
	size_t n;
	struct wg_neigh_snap_entry e[];
};

/*
 * One port and what we are on its link: our MAC and addresses, the
 * neighbour table the control thread keeps for it (and publishes to the
 * workers), and how the control thread transmits there. The outside always;
 * the inside when it is a DPDK port rather than a TAP interface.
 */
struct wg_side {
	struct wgdp *dev;
	struct wg_port port;
	struct wg_l3_local local;
	struct wg_conf_prefix own4, own6;      /* our addresses with their prefixes */
	struct wg_conf_prefix gw4, gw6;        /* gateways; family 0 = none */
	struct wg_neigh_table *neigh;
	struct wg_neigh_snapshot *snap;        /* RCU-published, read by workers */
	uint16_t control_queue;                /* control thread's TX queue */
	struct rte_ring *ctl_tx;               /* or, with too few queues, via worker 0 */
	uint16_t ip_id;                        /* control thread's IPv4 ids here */
};

/* an element of the RCU defer queue: free obj with fn after a grace period */
struct wg_deferred {
	void (*fn)(struct wgdp *dev, void *obj);
	void *obj;
};

struct wgdp {
	struct wg_conf conf;

	/* identity and handshake-side state (control thread) */
	struct wg_noise_identity identity;
	struct wg_cookie_checker cookie_checker;
	struct wg_ratelimiter *ratelimiter;
	uint64_t last_under_load_ns;        /* control ring last seen deep (cookies) */
	bool lookup_refused;                /* the last handshake named a disabled peer (counted) */
	uint16_t listen_port;               /* host order */

	/* ports */
	struct rte_mempool *pool;
	struct wg_side out, in;
	bool inside_is_tap;
	struct rte_ether_addr inside_dst_mac; /* TAP: the kernel interface's MAC */
	struct rte_ether_addr inside_src_mac; /* TAP: what we answer ARP/ND with */

	/* tables */
	struct wg_index *index;
	struct wg_allowedips *aip;
	struct wg_peer *peers;              /* list of all peers */
	struct wg_peer **peer_hash;         /* by public key */
	uint32_t peer_hash_mask;
	uint32_t n_peers;
	struct wg_peer *tick_cursor;        /* where the next timer tick starts (control.c) */
	struct wg_pool *pools[2];           /* address pools, IPv4 and IPv6 (control thread) */

	/* RCU: workers report quiescent once per loop */
	struct rte_rcu_qsbr *qsbr;
	struct rte_rcu_qsbr_dq *dq;

	/* worker -> control */
	struct rte_ring *to_control;        /* mbufs: handshake, ARP/ND, unresolved */
	struct rte_ring *events;            /* tagged peer pointers (enum wg_peer_event) */

	/* workers */
	struct wg_worker workers[WG_MAX_WORKERS];
	unsigned n_workers;

	/* persistent state (control/state.c); NULL without a StateFile */
	struct wg_statefile *state;
	uint64_t state_changes;             /* journal records written since start */

	/* other threads (REST, UAPI, telemetry) run functions here (control/call.h) */
	struct wg_call call;
	uint64_t start_realtime_ns, start_ns;

	struct wg_lcore_counters control_cnt;
	volatile int stop;
};

/* mbuf marks on the control ring (mbuf->hash.usr) */
#define WG_MBUF_RECEIVED 0u    /* a frame from the outside port, to classify */
#define WG_MBUF_RESOLVE 1u     /* an outside frame waiting for its next hop's MAC */
#define WG_MBUF_IN_RECEIVED 2u /* ARP/ND/echo from the inside port (not TAP) */
#define WG_MBUF_IN_RESOLVE 3u  /* an inside frame waiting for its next hop's MAC */

/*
 * The next hop towards dst (family AF_INET/AF_INET6) on a side: dst itself
 * when it is inside our prefix there, else that side's gateway. false when
 * there is none (no address or gateway of that family).
 */
bool wg_device_nexthop(const struct wg_side *side, int family, const uint8_t *dst, uint8_t nh[16]);

/* Build everything from dev->conf. 0 or -errno with a message in err; on error nothing is left. */
int wg_device_setup(struct wgdp *dev, char *err, size_t errlen);
/* Undo wg_device_setup: ports stopped, tables freed, every secret wiped. */
void wg_device_teardown(struct wgdp *dev);
/* Hand obj to fn after every worker passed a quiescent state. */
void wg_device_defer(struct wgdp *dev, void (*fn)(struct wgdp *dev, void *obj), void *obj);

/* monotonic time in ns (vDSO: no syscall); read once per burst */
static inline uint64_t wg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* tagged pointer helpers for the event and request rings */
static inline void *wg_tag(struct wg_peer *p, unsigned code)
{
	return (void *)((uintptr_t)p | code);
}

static inline struct wg_peer *wg_untag(void *v, unsigned *code)
{
	*code = (unsigned)((uintptr_t)v & 7u);
	return (struct wg_peer *)((uintptr_t)v & ~(uintptr_t)7u);
}

#endif
