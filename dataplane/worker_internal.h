/* SPDX-License-Identifier: MIT */
/*
 * What the worker's modules share: the outside path (rx.c), the inside path
 * (tx.c), the handoff between workers (handoff.c) and the loop (worker.c).
 * Not for the control side.
 *
 * Ownership (docs/dataplane.md, "Several workers"): a peer belongs to a
 * bucket and a bucket to one worker, which alone decrypts, encrypts, checks
 * the replay window and keeps the staging queue of the peers in it. A worker
 * that receives a packet of a peer it does not own hands it to the owner; a
 * worker that owns a bucket still migrating in from another worker holds the
 * bucket's packets until the old owner's DONE marker arrives.
 */
#ifndef WG_WORKER_INTERNAL_H
#define WG_WORKER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include "dataplane/wgdp.h"

#define WG_DROP(w, reason) ((w)->cnt.drops[WG_DROP_##reason]++)
#define WG_PREFETCH 4u /* frames ahead whose first line is fetched while this one is parsed */

/* handoff ring entries: tagged mbuf pointers (mbufs are cache-line aligned) and markers */
#define WG_HO_OUTSIDE 0u /* a frame from the outside port, still sealed */
#define WG_HO_INSIDE 1u  /* a frame from the inside port, plaintext */
#define WG_HO_DONE 2u    /* marker: (bucket << 3 | WG_HO_DONE), the old owner is done with it */
#define WG_HO_TAG_MASK 7u

/* where the burst being processed came from (w->src); >= 0: the fwd ring of that worker */
#define WG_SRC_QUEUE (-1)            /* an RX queue this worker polls */
#define WG_SRC_RING (-2)             /* an RX queue's ring: another worker polled it for us */
#define WG_SRC_RELEASE 100000        /* + bucket: held packets released by the DONE of bucket */

enum wg_route {
	WG_ROUTE_LOCAL,   /* ours: process now */
	WG_ROUTE_HOLD,    /* ours, but the bucket is still migrating in: hold */
	WG_ROUTE_FORWARD, /* another worker's */
};

/*
 * Who processes a packet of a peer in bucket b. A packet from the old owner
 * of a migrating bucket (its fwd ring) is older than anything held, so it
 * goes first; everything else waits for the DONE marker.
 */
static inline enum wg_route wg_route(const struct wg_worker *w, uint16_t b, uint16_t *owner)
{
	const struct wgdp *dev = w->dev;
	uint16_t o = __atomic_load_n(&dev->bucket_owner[b], __ATOMIC_ACQUIRE);
	uint16_t from;

	if (o != w->id) {
		*owner = o;
		return WG_ROUTE_FORWARD;
	}
	from = __atomic_load_n(&dev->bucket_from[b], __ATOMIC_ACQUIRE);
	if (likely(from == WG_NO_WORKER) || w->src == (int)from || w->src == WG_SRC_RELEASE + (int)b)
		return WG_ROUTE_LOCAL;
	return WG_ROUTE_HOLD;
}

/* transmit on this worker's queue of a side; what the port refuses is dropped (counted) */
static inline void wg_worker_send(struct wg_worker *w, bool outside, struct rte_mbuf **pkts, uint16_t n)
{
	struct wgdp *dev = w->dev;
	uint16_t port = outside ? dev->out.port.port_id : dev->in.port.port_id;
	uint16_t q = outside ? w->txq_out : w->txq_in;
	rte_spinlock_t *lock = outside ? w->txlock_out : w->txlock_in;
	uint16_t sent;

	if (!n)
		return;
	if (lock)
		rte_spinlock_lock(lock);
	sent = rte_eth_tx_burst(port, q, pkts, n);
	if (lock)
		rte_spinlock_unlock(lock);
	for (uint16_t i = sent; i < n; i++) {
		WG_DROP(w, TX_FULL);
		rte_pktmbuf_free(pkts[i]);
	}
}

/* a frame for the control thread (mark: WG_MBUF_*) */
void wg_worker_to_control(struct wg_worker *w, struct rte_mbuf *m, uint32_t mark);
/* a peer event for the control thread, once until it acted (code: enum wg_peer_event) */
void wg_worker_want_handshake(struct wg_worker *w, struct wg_peer *p, unsigned code);
void wg_worker_post_event(struct wg_worker *w, void *tagged);

/* outside -> inside: n <= WG_BURST frames from the outside port (rx.c) */
void wg_rx_outside(struct wg_worker *w, struct rte_mbuf **pkts, unsigned n, uint64_t now);
/* inside -> outside: n <= WG_BURST frames from the inside port (tx.c) */
void wg_tx_inside(struct wg_worker *w, struct rte_mbuf **pkts, unsigned n, uint64_t now);
/* requests about one peer (tx.c): flush staged, keepalive, purge */
void wg_tx_flush_staged(struct wg_worker *w, struct wg_peer *p, uint64_t now, bool keepalive_if_empty);
void wg_tx_purge_staged(struct wg_worker *w, struct wg_peer *p);

/* crypto of a burst, half of it on the helper worker when there is one (spread.c) */
void wg_spread_run(struct wg_worker *w, enum wg_batch_dir dir, struct wg_aead_job *jobs, unsigned n);
/* run what other workers asked this one to seal or open; requests taken */
unsigned wg_spread_serve(struct wg_worker *w);

/* handoff (handoff.c) */
/* buffer v for owner dst; sent by wg_handoff_flush (never before: see handoff.c) */
void wg_handoff_push(struct wg_worker *w, uint16_t dst, uintptr_t v);
void wg_handoff_flush(struct wg_worker *w);
/* keep v until bucket b's DONE marker */
void wg_handoff_hold(struct wg_worker *w, uint16_t b, uintptr_t v);
/* take what other workers handed over (every inbound ring once); entries taken */
unsigned wg_handoff_poll(struct wg_worker *w, uint64_t now);
/* take at least what every inbound ring holds now (before a DONE or parking) */
void wg_handoff_drain(struct wg_worker *w, uint64_t now);
/* tell bucket b's new owner that this worker is done with it (retried when refused) */
void wg_handoff_done(struct wg_worker *w, uint16_t b);
/* retry refused DONE markers; true when none is left */
bool wg_handoff_retry(struct wg_worker *w);

#endif
