/* SPDX-License-Identifier: MIT */
/*
 * The worker loop: poll the RX queues this worker is given (handing a queue
 * over when the control thread names another poller), take what other
 * workers handed over, serve the control thread's requests, report a
 * quiescent state, measure its load, and doze or park when there is nothing
 * to do (autoscaling, docs/dataplane.md).
 *
 * Concurrency: keypair, peer and neighbour pointers are read with acquire
 * loads and stay valid until this lcore reports a quiescent state, which it
 * does once per loop after it has dropped every pointer it loaded in that
 * round, and before it sleeps (offline). Requests name peers: the control
 * thread keeps a peer allocated while a request for it is in flight
 * (req_inflight), so one may be taken in a later round.
 */
#include "dataplane/worker.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include "dataplane/worker_internal.h"

#define LOAD_WINDOWS_PER_S 100u    /* load is published every 10 ms */
#define DOZE_AFTER_US 1000u        /* idle this long (autoscaling on): start napping */
#define NAP_MIN_NS 50000ull
#define NAP_MAX_NS 1000000ull      /* a packet after a long idle waits at most this */

void wg_worker_post_event(struct wg_worker *w, void *tagged)
{
	if (rte_ring_enqueue(w->dev->events, tagged))
		WG_DROP(w, RING_FULL);
}

/* ask the control thread for a handshake once until it has acted on it */
void wg_worker_want_handshake(struct wg_worker *w, struct wg_peer *p, unsigned code)
{
	if (!__atomic_exchange_n(&p->handshake_wanted, 1, __ATOMIC_RELAXED))
		wg_worker_post_event(w, wg_tag(p, code));
}

void wg_worker_to_control(struct wg_worker *w, struct rte_mbuf *m, uint32_t mark)
{
	m->hash.usr = mark;
	if (rte_ring_enqueue(w->dev->to_control, m)) {
		WG_DROP(w, RING_FULL);
		rte_pktmbuf_free(m);
	}
}

void wg_worker_wake(struct wg_worker *w)
{
	uint64_t one = 1;

	if (w->wake_fd >= 0 && write(w->wake_fd, &one, sizeof(one)) != sizeof(one))
		w->cnt.drops[WG_DROP_RING_FULL]++; /* cannot happen below 2^64 - 2 wakes */
}

/* ---------------------------------------------------------------------------
 * requests from the control thread
 */

/* no queue and no bucket is left: give back what is on its way, then sleep until woken */
static void park(struct wg_worker *w, uint64_t now)
{
	struct wgdp *dev = w->dev;
	uint64_t v;

	wg_handoff_drain(w, now);
	while (!wg_handoff_retry(w) && !__atomic_load_n(&dev->stop, __ATOMIC_RELAXED))
		rte_pause();
	wg_spread_serve(w); /* later requests are claimed back by their owners */
	w->parks++;
	__atomic_store_n(&w->load, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&w->state, WG_WORKER_PARKED, __ATOMIC_RELEASE);
	rte_rcu_qsbr_thread_offline(dev->qsbr, w->lcore_id);
	while (!__atomic_load_n(&dev->stop, __ATOMIC_RELAXED)) {
		ssize_t r = read(w->wake_fd, &v, sizeof(v));

		if (r == sizeof(v) || (r < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
	rte_rcu_qsbr_thread_online(dev->qsbr, w->lcore_id);
	w->wakeups++;
	__atomic_store_n(&w->state, WG_WORKER_ACTIVE, __ATOMIC_RELEASE);
}

/* a peer request is handled: the control thread may free the peer after a grace period */
static void request_done(struct wgdp *dev, struct wg_peer *p)
{
	uint16_t b = p->bucket;

	__atomic_fetch_sub(&dev->bucket_inflight[b], 1, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&p->req_inflight, 1, __ATOMIC_RELEASE); /* the last touch of p */
}

static unsigned requests(struct wg_worker *w, uint64_t now)
{
	struct wgdp *dev = w->dev;
	void *reqs[WG_BURST];
	unsigned n, total = 0, code;
	bool drained;

	while ((n = rte_ring_dequeue_burst(w->requests, reqs, WG_BURST, NULL)) > 0) {
		total += n;
		drained = false; /* a drain covers what was posted before it: this burst */
		for (unsigned i = 0; i < n; i++) {
			struct wg_peer *p = wg_untag(reqs[i], &code);

			switch (code) {
			case WG_REQ_FLUSH_STAGED:
				wg_tx_flush_staged(w, p, now, false);
				request_done(dev, p);
				break;
			case WG_REQ_KEEPALIVE:
				wg_tx_flush_staged(w, p, now, true);
				request_done(dev, p);
				break;
			case WG_REQ_PURGE_STAGED:
				wg_tx_purge_staged(w, p);
				request_done(dev, p);
				break;
			case WG_REQ_MIGRATE_OUT:
				/* posted after the grace period that followed the switch: once
				 * the inbound rings are taken, nothing old is on its way */
				if (!drained) {
					wg_handoff_drain(w, now);
					drained = true;
				}
				wg_handoff_done(w, (uint16_t)((uintptr_t)reqs[i] >> 3));
				break;
			case WG_REQ_PARK:
				park(w, now);
				break;
			}
		}
	}
	return total;
}

/* ---------------------------------------------------------------------------
 * the loop
 */

/* the RX queues this worker polls; a queue another worker should poll is handed over */
static unsigned poll_queues(struct wg_worker *w, uint64_t now)
{
	struct wgdp *dev = w->dev;
	struct rte_mbuf *pkts[WG_BURST];
	unsigned total = 0;

	for (unsigned i = 0; i < dev->n_rxqs; i++) {
		struct wg_rxq *q = &dev->rxqs[i];
		uint16_t want, n;

		if (__atomic_load_n(&q->poller, __ATOMIC_ACQUIRE) != w->id)
			continue;
		want = __atomic_load_n(&q->want, __ATOMIC_RELAXED);
		if (want != w->id) {
			/* everything taken from it is processed and flushed: hand it over */
			__atomic_store_n(&q->poller, want, __ATOMIC_RELEASE);
			continue;
		}
		n = rte_eth_rx_burst(q->port_id, q->queue, pkts, WG_BURST);
		if (!n)
			continue;
		w->src = WG_SRC_QUEUE;
		w->ho.out = q->to;
		if (q->outside)
			wg_rx_outside(w, pkts, n, now);
		else
			wg_tx_inside(w, pkts, n, now);
		wg_handoff_flush(w);
		total += n;
	}
	return total;
}

/* the control thread's frames, when a port has no TX queue for it (worker 0) */
static unsigned control_tx(struct wg_worker *w)
{
	struct wgdp *dev = w->dev;
	struct rte_mbuf *pkts[WG_BURST];
	unsigned total = 0, c;

	if (dev->out.ctl_tx) {
		c = rte_ring_dequeue_burst(dev->out.ctl_tx, (void **)pkts, WG_BURST, NULL);
		wg_worker_send(w, true, pkts, (uint16_t)c);
		total += c;
	}
	if (dev->in.ctl_tx) {
		c = rte_ring_dequeue_burst(dev->in.ctl_tx, (void **)pkts, WG_BURST, NULL);
		wg_worker_send(w, false, pkts, (uint16_t)c);
		total += c;
	}
	return total;
}

struct loop_state {
	uint64_t window_tsc, win_busy, win_total, win_start;
	uint64_t last_work, doze_after;
	uint64_t nap_ns;
};

static void account(struct wg_worker *w, struct loop_state *s, uint64_t t0, uint64_t t1, bool busy)
{
	uint64_t dt = t1 - t0;

	s->win_total += dt;
	w->total_tsc += dt;
	if (busy) {
		s->win_busy += dt;
		w->busy_tsc += dt;
	}
	if (t1 - s->win_start >= s->window_tsc) {
		uint64_t load = s->win_total ? s->win_busy * 1000 / s->win_total : 0;

		__atomic_store_n(&w->load, (uint32_t)load, __ATOMIC_RELAXED);
		s->win_busy = s->win_total = 0;
		s->win_start = t1;
	}
}

/* idle for a while with autoscaling on: nap, longer each time, offline for RCU */
static void doze(struct wg_worker *w, struct loop_state *s)
{
	struct wgdp *dev = w->dev;
	struct timespec ts = { 0, (long)s->nap_ns };

	if (w->state != WG_WORKER_DOZING)
		__atomic_store_n(&w->state, WG_WORKER_DOZING, __ATOMIC_RELAXED);
	rte_rcu_qsbr_thread_offline(dev->qsbr, w->lcore_id);
	nanosleep(&ts, NULL);
	rte_rcu_qsbr_thread_online(dev->qsbr, w->lcore_id);
	s->nap_ns = RTE_MIN(s->nap_ns * 2, NAP_MAX_NS);
}

int wg_worker_main(void *arg)
{
	struct wg_worker *w = arg;
	struct wgdp *dev = w->dev;
	uint64_t hz = rte_get_tsc_hz();
	struct loop_state s = {
		.window_tsc = hz / LOAD_WINDOWS_PER_S,
		.doze_after = hz / 1000000 * DOZE_AFTER_US,
		.nap_ns = NAP_MIN_NS,
	};
	bool autoscale = dev->conf.appliance.autoscale;

	/* naps of tens of microseconds: the default 50 us timer slack would double them */
	prctl(PR_SET_TIMERSLACK, 1000ul, 0, 0, 0);
	rte_rcu_qsbr_thread_register(dev->qsbr, w->lcore_id);
	rte_rcu_qsbr_thread_online(dev->qsbr, w->lcore_id);
	s.win_start = s.last_work = rte_rdtsc();
	while (!__atomic_load_n(&dev->stop, __ATOMIC_RELAXED)) {
		uint64_t t0 = rte_rdtsc(), t1, now = wg_now_ns();
		unsigned work;

		work = wg_spread_serve(w);
		work += poll_queues(w, now);
		work += wg_handoff_poll(w, now);
		work += requests(w, now);
		if (w->id == 0)
			work += control_tx(w);
		if (unlikely(w->ho.n_done))
			wg_handoff_retry(w);
		rte_rcu_qsbr_quiescent(dev->qsbr, w->lcore_id);

		t1 = rte_rdtsc();
		account(w, &s, t0, t1, work != 0);
		if (work) {
			s.last_work = t1;
			s.nap_ns = NAP_MIN_NS;
			if (w->state == WG_WORKER_DOZING)
				__atomic_store_n(&w->state, WG_WORKER_ACTIVE, __ATOMIC_RELAXED);
		} else if (autoscale && t1 - s.last_work > s.doze_after) {
			doze(w, &s);
			account(w, &s, t1, rte_rdtsc(), false);
		}
	}
	wg_spread_serve(w); /* nobody waits on a worker that left */
	rte_rcu_qsbr_thread_offline(dev->qsbr, w->lcore_id);
	rte_rcu_qsbr_thread_unregister(dev->qsbr, w->lcore_id);
	return 0;
}
