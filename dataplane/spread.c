/* SPDX-License-Identifier: MIT */
/*
 * Spreading a worker's crypto over a helper worker, so that one heavy peer
 * (a site-to-site tunnel: one bucket, one owner) is not capped at one core.
 *
 * The owner keeps everything that touches the peer's state (routing, replay
 * window, counters, staging, delivery): only the AEAD jobs of a burst are
 * split. The owner posts the second half of its jobs (an array on its own
 * stack) to the helper's request ring, seals or opens the first
 * half itself, then waits for the helper to finish before it delivers the
 * whole burst in order. Nothing crosses a quiescent state: the jobs point at
 * keys and mbufs the owner holds within this round, and the owner does not
 * leave before the helper is done with them, so order and RCU safety come
 * for free.
 *
 * While it waits, a worker serves the requests posted to it, so two workers
 * helping each other never wait on each other. A helper that does not take
 * a request within SPREAD_TIMEOUT_NS (busy, parking, stopping) loses it:
 * the owner claims it back with a compare-and-swap and runs it itself.
 */
#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "dataplane/worker_internal.h"

#define SPREAD_MIN_JOBS 8u          /* smaller bursts are not worth a round trip */
#define SPREAD_TIMEOUT_US 200u

enum { REQ_POSTED, REQ_TAKEN, REQ_DONE };

/*
 * A worker has one request out at a time (it waits for it), in
 * w->spread_slot. The helper's ring carries (generation << 8 | owner): an
 * entry whose request was claimed back, and the slot reused since, no
 * longer matches the slot's word and is skipped.
 */
static inline uint64_t word(uint64_t gen, unsigned st)
{
	return gen << 2 | st;
}

unsigned wg_spread_serve(struct wg_worker *w)
{
	struct wgdp *dev = w->dev;
	void *ents[WG_BURST];
	unsigned n, total = 0;

	if (!w->crypt)
		return 0;
	while ((n = rte_ring_dequeue_burst(w->crypt, ents, WG_BURST, NULL)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			uintptr_t e = (uintptr_t)ents[i];
			struct wg_spread_slot *r = &dev->workers[e & 0xff].spread_slot;
			uint64_t gen = e >> 8, expect = word(gen, REQ_POSTED);

			/* the owner may have claimed it back after a timeout */
			if (!__atomic_compare_exchange_n(&r->word, &expect, word(gen, REQ_TAKEN), false,
							 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				continue;
			wg_batch_aead_run(w->aead, (enum wg_batch_dir)r->dir, r->jobs, r->n);
			w->spread_served += r->n;
			__atomic_store_n(&r->word, word(gen, REQ_DONE), __ATOMIC_RELEASE);
		}
		total += n;
	}
	return total;
}

void wg_spread_run(struct wg_worker *w, enum wg_batch_dir dir, struct wg_aead_job *jobs, unsigned n)
{
	struct wgdp *dev = w->dev;
	uint16_t h = __atomic_load_n(&w->helper, __ATOMIC_RELAXED);
	struct wg_spread_slot *r = &w->spread_slot;
	unsigned mine = n / 2;
	uint64_t deadline, gen;

	if (likely(h == WG_NO_WORKER) || n < SPREAD_MIN_JOBS || h >= dev->n_workers || h == w->id ||
	    !dev->workers[h].crypt) {
		wg_batch_aead_run(w->aead, dir, jobs, n);
		return;
	}
	gen = ++r->gen;
	r->jobs = jobs + mine;
	r->n = n - mine;
	r->dir = dir;
	__atomic_store_n(&r->word, word(gen, REQ_POSTED), __ATOMIC_RELEASE);
	if (rte_ring_mp_enqueue(dev->workers[h].crypt, (void *)(uintptr_t)(gen << 8 | w->id))) {
		wg_batch_aead_run(w->aead, dir, jobs, n);
		return;
	}
	wg_batch_aead_run(w->aead, dir, jobs, mine);
	deadline = rte_rdtsc() + rte_get_tsc_hz() / 1000000 * SPREAD_TIMEOUT_US;
	for (;;) {
		uint64_t st = __atomic_load_n(&r->word, __ATOMIC_ACQUIRE), expect = word(gen, REQ_POSTED);

		if (st == word(gen, REQ_DONE)) {
			w->spread_sent += n - mine;
			return;
		}
		if (st == expect && rte_rdtsc() > deadline &&
		    __atomic_compare_exchange_n(&r->word, &expect, word(gen, REQ_TAKEN), false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			/* the helper never took it: ours again */
			wg_batch_aead_run(w->aead, dir, r->jobs, r->n);
			w->spread_reclaimed += r->n;
			return;
		}
		if (!wg_spread_serve(w))
			rte_pause();
	}
}
