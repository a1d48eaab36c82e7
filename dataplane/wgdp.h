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
#include <rte_spinlock.h>

#include "conf/config.h"
#include "control/call.h"
#include "control/cookie.h"
#include "control/noise.h"
#include "control/ratelimiter.h"
#include "control/slab.h"
#include "crypto/batch_aead.h"
#include "dataplane/allowedips.h"
#include "dataplane/counters.h"
#include "dataplane/index.h"
#include "dataplane/l3.h"
#include "dataplane/neigh.h"
#include "dataplane/peer.h"
#include "dataplane/port.h"

#define WG_MAX_WORKERS 64u
#define WG_MAX_RXQS 64u            /* RX queues polled, both ports together */
#define WG_BUCKETS 1024u           /* peers are owned through buckets: a migration moves buckets */
#define WG_NO_WORKER 0xffffu
#define WG_BURST 32u

struct wgdp;
struct wg_pool;
struct wg_statefile;
struct wg_scale;

/* a worker's life, as it publishes it (control asks through the request ring) */
enum wg_worker_state {
	WG_WORKER_ACTIVE = 0,  /* polling */
	WG_WORKER_DOZING = 1,  /* active, idle: naps between polls (autoscaling on) */
	WG_WORKER_PARKED = 2,  /* no queues, no peers: blocked on its eventfd */
};

/*
 * One RX queue of a port. Exactly one worker polls it at a time: the control
 * thread names the next poller in `want`, the current poller stops and hands
 * over with a release store to `poller`. Packets of peers the poller does not
 * own go to the owner through to[owner]: single producer (whoever polls the
 * queue, handed over with `poller`), single consumer (the owner), so a
 * queue's packets reach each owner in the order the queue delivered them,
 * whichever worker polls it.
 */
struct wg_rxq {
	struct wg_side *side;
	uint16_t port_id, queue;
	bool outside;
	uint16_t poller;                       /* written by the previous poller (release) */
	uint16_t want;                         /* written by control */
	struct rte_ring *to[WG_MAX_WORKERS];
};

/* a worker's outbound handoff buffers and its held packets (dataplane/handoff.c) */
struct wg_held {
	uintptr_t v;                           /* tagged mbuf (WG_HO_*) */
	uint16_t bucket;
};

struct wg_handoff {
	struct rte_ring **out;                 /* rings of the source being processed, by owner */
	uint64_t dirty;                        /* owners with buffered entries (bit per worker) */
	uint16_t n[WG_MAX_WORKERS];
	uintptr_t buf[WG_MAX_WORKERS][WG_BURST];
	struct wg_held *held;                  /* packets of buckets migrating in, in arrival order */
	unsigned n_held, cap_held;
	uint16_t *done;                        /* DONE markers the ring refused: retried */
	unsigned n_done;
};

/* a worker's one request for crypto help (dataplane/spread.c) */
struct wg_spread_slot {
	uint64_t word;                /* generation << 2 | state */
	uint64_t gen;
	struct wg_aead_job *jobs;
	unsigned n;
	int dir;
} __rte_cache_aligned;

struct wg_worker {
	struct wgdp *dev;
	unsigned id;                  /* 0..n_workers-1 */
	unsigned lcore_id;
	int socket_id;
	uint16_t txq_out, txq_in;     /* its TX queue on each port */
	struct rte_mempool *pool;     /* mbufs of its NUMA node */
	rte_spinlock_t *txlock_out, *txlock_in; /* set when the queue is shared with another worker */
	struct wg_batch_aead *aead;
	struct rte_ring *requests;    /* control -> worker: tagged peer pointers, bucket requests */
	int wake_fd;                  /* eventfd a parked worker blocks on */
	uint32_t state;               /* enum wg_worker_state, written by the worker */
	uint32_t load;                /* busy per mille over the last window, written by the worker */
	uint64_t busy_tsc, total_tsc; /* since start, written by the worker */
	uint64_t parks, wakeups;      /* times parked, times woken */
	uint64_t handed_off, held;    /* packets given to their owner, held for a migration */
	uint16_t helper;              /* worker that takes half of its crypto; WG_NO_WORKER: none (control) */
	struct rte_ring *crypt;       /* crypto requests from workers it helps (MP/SC) */
	uint64_t spread_sent, spread_served, spread_reclaimed; /* AEAD jobs given, done for others, taken back */
	struct wg_spread_slot spread_slot;
	struct rte_mempool *staging;  /* staging queues for its peers (dataplane/staging.h) */
	uint16_t ip_id;
	/* worker-private */
	int src;                      /* source of the burst being processed (WG_SRC_*) */
	struct wg_handoff ho;
	struct wg_lcore_counters cnt __rte_cache_aligned;
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
	struct wg_neigh_snapshot *snap;        /* RCU-published, read by workers (neigh.h) */
	uint64_t snap_version;                 /* the table's version when snap was built */
	uint16_t control_queue;                /* control thread's TX queue */
	struct rte_ring *ctl_tx;               /* or, with too few queues, via worker 0 */
	uint16_t ip_id;                        /* control thread's IPv4 ids here */
	bool gateways_kept;                    /* its gateways are resolved and kept (link came up) */
	uint64_t link_up_ns;                   /* when the link was first seen up; 0: not yet */
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
	bool lookup_refused;                /* the last handshake's peer was refused (counted) */
	struct wg_peer *lookup_peer;        /* the peer the last handshake's lookup found */
	uint16_t listen_port;               /* host order */

	/* ports */
	struct rte_mempool *pool;           /* the outside port's node's (control thread) */
	struct rte_mempool *socket_pool[RTE_MAX_NUMA_NODES]; /* one per NUMA node in use */
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
	struct wg_slab peer_slab;           /* struct wg_peer (control thread, control/peers.c) */
	struct wg_slab session_slab;        /* struct wg_session (control thread) */
	struct wg_slab ephemeral_slab;      /* struct wg_noise_ephemeral of handshakes in flight (control thread) */

	/* RCU: workers report quiescent once per loop */
	struct rte_rcu_qsbr *qsbr;
	struct rte_rcu_qsbr_dq *dq;

	/* worker -> control */
	struct rte_ring *to_control;        /* mbufs: handshake, ARP/ND, unresolved */
	struct rte_ring *events;            /* tagged peer pointers (enum wg_peer_event) */

	/* workers */
	struct wg_worker workers[WG_MAX_WORKERS];
	unsigned n_workers;
	struct wg_rxq rxqs[WG_MAX_RXQS];
	unsigned n_rxqs;
	struct rte_ring *fwd[WG_MAX_WORKERS][WG_MAX_WORKERS]; /* [from][to]: packets, DONE markers */
	rte_spinlock_t txlocks[2][WG_MAX_WORKERS]; /* shared TX queues: [outside, inside][queue] */
	/* ownership: a peer belongs to bucket p->bucket, a bucket to a worker */
	uint16_t bucket_owner[WG_BUCKETS];  /* control writes (release), workers read (acquire) */
	uint16_t bucket_from[WG_BUCKETS];   /* migrating in from this worker; WG_NO_WORKER when settled */
	uint32_t bucket_inflight[WG_BUCKETS]; /* requests posted to the owner, not handled yet */
	struct wg_scale *scale;             /* the autoscaler (control/scale.c) */
	uint8_t doze;                       /* idle workers nap (autoscaling on) */
	uint32_t next_bucket;               /* buckets are given to new peers in turn */
	struct wg_peer *zombies;            /* removed peers a request still names */

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
