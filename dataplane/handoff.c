/* SPDX-License-Identifier: MIT */
/*
 * Packets between workers (see worker_internal.h and docs/dataplane.md,
 * "Several workers").
 *
 * Rings: every RX queue has one ring to each worker (its poller produces,
 * the owner consumes), and every pair of workers has one (fwd[from][to]),
 * for packets that reached a worker which no longer owns their peer and for
 * DONE markers. All are single-producer/single-consumer and carry tagged
 * pointers (WG_HO_*), in bursts.
 *
 * Why a packet is never reordered within its peer and queue:
 * - a queue's packets for one owner go through one FIFO whichever worker
 *   polls the queue (the poller hands over with a release store);
 * - buffered entries are flushed after the burst they came from is done, so
 *   a bucket's new owner, which takes the old owner's forwards at once, sees
 *   everything the old owner did to the peer before it (replay window,
 *   counters: one writer at a time);
 * - the new owner holds whatever else arrives for a migrating bucket until
 *   the old owner's DONE marker, which the old owner sends after the grace
 *   period that followed the switch and after taking everything its inbound
 *   rings held then: nothing routed with the old owner is still on its way.
 */
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "dataplane/worker_internal.h"

#define HELD_MAX 8192u
#define HANDOFF_RING_MIN 4096u

void wg_handoff_push(struct wg_worker *w, uint16_t dst, uintptr_t v)
{
	struct wg_handoff *h = &w->ho;

	/* a burst is at most WG_BURST entries, so this never fills before the flush */
	h->buf[dst][h->n[dst]++] = v;
	h->dirty |= 1ull << dst;
}

static void drop_entries(const uintptr_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if ((v[i] & WG_HO_TAG_MASK) != WG_HO_DONE)
			rte_pktmbuf_free((struct rte_mbuf *)(v[i] & ~(uintptr_t)WG_HO_TAG_MASK));
}

void wg_handoff_flush(struct wg_worker *w)
{
	struct wg_handoff *h = &w->ho;

	while (h->dirty) {
		unsigned dst = (unsigned)__builtin_ctzll(h->dirty);
		unsigned n = h->n[dst], sent;

		h->dirty &= h->dirty - 1;
		sent = rte_ring_enqueue_burst(h->out[dst], (void *const *)h->buf[dst], n, NULL);
		w->handed_off += sent;
		if (sent < n) {
			w->cnt.drops[WG_DROP_HANDOFF_FULL] += n - sent;
			drop_entries(h->buf[dst] + sent, n - sent);
		}
		h->n[dst] = 0;
	}
}

void wg_handoff_hold(struct wg_worker *w, uint16_t b, uintptr_t v)
{
	struct wg_handoff *h = &w->ho;

	if (h->n_held == h->cap_held) {
		WG_DROP(w, HOLD_FULL);
		drop_entries(&v, 1);
		return;
	}
	h->held[h->n_held++] = (struct wg_held){ .v = v, .bucket = b };
	w->held++;
}

/* process a run of entries of one kind, in order */
static void process_run(struct wg_worker *w, uintptr_t *v, unsigned n, uint64_t now)
{
	struct rte_mbuf *pkts[WG_BURST];
	unsigned kind = v[0] & WG_HO_TAG_MASK;

	for (unsigned i = 0; i < n; i++)
		pkts[i] = (struct rte_mbuf *)(v[i] & ~(uintptr_t)WG_HO_TAG_MASK);
	if (kind == WG_HO_OUTSIDE)
		wg_rx_outside(w, pkts, n, now);
	else
		wg_tx_inside(w, pkts, n, now);
	wg_handoff_flush(w);
}

/* bucket b's old owner is done: what was held for b goes now, then b is settled */
static void release(struct wg_worker *w, uint16_t b, uint64_t now)
{
	struct wg_handoff *h = &w->ho;
	uintptr_t run[WG_BURST];
	unsigned n = 0, keep = 0;
	int src = w->src;

	w->src = WG_SRC_RELEASE + b;
	for (unsigned i = 0; i < h->n_held; i++) {
		struct wg_held e = h->held[i];

		if (e.bucket != b) {
			h->held[keep++] = e;
			continue;
		}
		if (n && ((run[0] ^ e.v) & WG_HO_TAG_MASK || n == WG_BURST)) {
			process_run(w, run, n, now);
			n = 0;
		}
		run[n++] = e.v;
	}
	/* what the run above holds again (a table change moved it to another
	 * migrating bucket) lands behind the kept entries: compact first */
	h->n_held = keep;
	if (n)
		process_run(w, run, n, now);
	w->src = src;
	__atomic_store_n(&w->dev->bucket_from[b], WG_NO_WORKER, __ATOMIC_RELEASE);
}

/* one burst from an inbound ring: runs of packets, and markers where they are */
static unsigned take(struct wg_worker *w, struct rte_ring *r, unsigned max, uint64_t now)
{
	uintptr_t v[WG_BURST];
	unsigned n = rte_ring_dequeue_burst(r, (void **)v, RTE_MIN(max, WG_BURST), NULL), start = 0;

	for (unsigned i = 0; i <= n; i++) {
		bool marker = i < n && (v[i] & WG_HO_TAG_MASK) == WG_HO_DONE;

		if (i < n && !marker && (i == start || !((v[i] ^ v[start]) & WG_HO_TAG_MASK)))
			continue;
		if (i > start && (v[start] & WG_HO_TAG_MASK) != WG_HO_DONE)
			process_run(w, v + start, i - start, now);
		if (marker) {
			release(w, (uint16_t)(v[i] >> 3), now);
			start = i + 1;
		} else {
			start = i;
		}
	}
	return n;
}

/* every inbound ring once: one burst each, or (drain) at least what each holds now */
static unsigned poll_rings(struct wg_worker *w, uint64_t now, bool drain)
{
	struct wgdp *dev = w->dev;
	unsigned total = 0;
	int src = w->src;

	w->ho.out = dev->fwd[w->id];
	for (unsigned i = 0; i < dev->n_rxqs + dev->n_workers; i++) {
		struct rte_ring *r;
		unsigned left;

		if (i < dev->n_rxqs) {
			r = dev->rxqs[i].to[w->id];
			w->src = WG_SRC_RING;
		} else {
			unsigned from = i - dev->n_rxqs;

			if (from == w->id)
				continue;
			r = dev->fwd[from][w->id];
			w->src = (int)from;
		}
		if (!r)
			continue;
		left = drain ? rte_ring_count(r) : WG_BURST;
		while (left) {
			unsigned got = take(w, r, left, now);

			if (!got)
				break;
			total += got;
			left -= got < left ? got : left;
		}
	}
	w->src = src;
	return total;
}

unsigned wg_handoff_poll(struct wg_worker *w, uint64_t now)
{
	return poll_rings(w, now, false);
}

void wg_handoff_drain(struct wg_worker *w, uint64_t now)
{
	poll_rings(w, now, true);
}

void wg_handoff_done(struct wg_worker *w, uint16_t b)
{
	struct wg_handoff *h = &w->ho;

	h->done[h->n_done++] = b; /* a bucket is in transit once: WG_BUCKETS entries suffice */
	wg_handoff_retry(w);
}

bool wg_handoff_retry(struct wg_worker *w)
{
	struct wg_handoff *h = &w->ho;
	struct wgdp *dev = w->dev;
	unsigned keep = 0;

	for (unsigned i = 0; i < h->n_done; i++) {
		uint16_t b = h->done[i];
		uint16_t to = __atomic_load_n(&dev->bucket_owner[b], __ATOMIC_ACQUIRE);
		uintptr_t v = ((uintptr_t)b << 3) | WG_HO_DONE;

		if (rte_ring_enqueue(dev->fwd[w->id][to], (void *)v))
			h->done[keep++] = b;
	}
	h->n_done = keep;
	return keep == 0;
}

/* ---------------------------------------------------------------------------
 * set-up and teardown (main thread, lcores stopped)
 */

static struct rte_ring *ring(const char *fmt, unsigned a, unsigned b, unsigned size, int socket)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), fmt, a, b);
	return rte_ring_create(name, size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
}

int wg_handoff_setup(struct wgdp *dev, unsigned ring_size)
{
	/* room for a consumer descheduled for a while (shared CPUs): 4096 at least */
	if (ring_size < HANDOFF_RING_MIN)
		ring_size = HANDOFF_RING_MIN;
	for (unsigned i = 0; i < dev->n_rxqs; i++)
		for (unsigned d = 0; d < dev->n_workers && dev->n_workers > 1; d++) {
			dev->rxqs[i].to[d] = ring("wgdp_q%u_w%u", i, d, ring_size, dev->workers[d].socket_id);
			if (!dev->rxqs[i].to[d])
				return -rte_errno;
		}
	for (unsigned a = 0; a < dev->n_workers; a++) {
		struct wg_worker *w = &dev->workers[a];

		for (unsigned b = 0; b < dev->n_workers; b++) {
			if (a == b)
				continue;
			dev->fwd[a][b] = ring("wgdp_fwd%u_%u", a, b, ring_size, dev->workers[b].socket_id);
			if (!dev->fwd[a][b])
				return -rte_errno;
		}
		if (dev->n_workers > 1) {
			char name[RTE_RING_NAMESIZE];

			snprintf(name, sizeof(name), "wgdp_crypt%u", a);
			w->crypt = rte_ring_create(name, 256, w->socket_id, RING_F_SC_DEQ);
			if (!w->crypt)
				return -rte_errno;
		}
		w->helper = WG_NO_WORKER;
		w->ho.held = rte_zmalloc_socket("wgdp_held", HELD_MAX * sizeof(w->ho.held[0]), 0, w->socket_id);
		w->ho.done = rte_zmalloc_socket("wgdp_done", WG_BUCKETS * sizeof(w->ho.done[0]), 0, w->socket_id);
		if (!w->ho.held || !w->ho.done)
			return -ENOMEM;
		w->ho.cap_held = HELD_MAX;
	}
	return 0;
}

static void ring_free(struct rte_ring **r)
{
	uintptr_t v;

	if (!*r)
		return;
	while (rte_ring_dequeue(*r, (void **)&v) == 0)
		drop_entries(&v, 1);
	rte_ring_free(*r);
	*r = NULL;
}

void wg_handoff_teardown(struct wgdp *dev)
{
	for (unsigned i = 0; i < dev->n_rxqs; i++)
		for (unsigned d = 0; d < WG_MAX_WORKERS; d++)
			ring_free(&dev->rxqs[i].to[d]);
	for (unsigned a = 0; a < dev->n_workers; a++) {
		struct wg_worker *w = &dev->workers[a];

		for (unsigned b = 0; b < dev->n_workers; b++)
			ring_free(&dev->fwd[a][b]);
		rte_ring_free(w->crypt); /* entries are (generation, owner) numbers, nothing to free */
		w->crypt = NULL;
		for (unsigned i = 0; i < w->ho.n_held; i++)
			drop_entries(&w->ho.held[i].v, 1);
		w->ho.n_held = 0;
		rte_free(w->ho.held);
		rte_free(w->ho.done);
		w->ho.held = NULL;
		w->ho.done = NULL;
	}
}
