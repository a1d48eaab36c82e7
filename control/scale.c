/* SPDX-License-Identifier: MIT */
/*
 * The autoscaler (see scale.h). One operation at a time: bring a worker
 * back, or park one. Either changes the set of active workers, and with it
 * the bucket owners (wg_scale_policy_assign) and the RX queue pollers.
 *
 * A bucket b moves from worker A to worker B in four steps, each visible to
 * the workers through one store:
 *   1. when no request for b's peers is in flight: bucket_from[b] = A, then
 *      bucket_owner[b] = B (release). From now on every worker routes b's
 *      packets to B; B holds those that do not come from A.
 *   2. an RCU grace period: every worker has finished routing with the old
 *      owner, and what it routed to A is in A's inbound rings.
 *   3. MIGRATE_OUT(b) to A: A takes its inbound rings (forwarding b's packets
 *      to B) and sends DONE(b) to B on the ring they went through.
 *   4. B processes what it held for b, then bucket_from[b] = NONE: settled.
 * Requests for b's peers wait (req_deferred) from step 1 until then.
 * A worker whose buckets and queues are all gone gets PARK and blocks on its
 * eventfd; waking is a write to it, and buckets come back once it runs.
 */
#include "control/scale.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

#include "dataplane/worker.h"

#define EVAL_NS (20ull * 1000000ull) /* decisions every 20 ms */

enum { SETTLED, TO_START, SWITCHED, DONE_AWAITED };

static void assign_helpers(struct wgdp *dev);

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *wg_scale_state_name(uint32_t state)
{
	switch (state) {
	case WG_WORKER_ACTIVE:
		return "active";
	case WG_WORKER_DOZING:
		return "dozing";
	case WG_WORKER_PARKED:
		return "parked";
	}
	return "?";
}

bool wg_scale_busy(const struct wgdp *dev)
{
	return dev->scale && (dev->scale->op || dev->scale->n_moving);
}

unsigned wg_scale_owner(const struct wgdp *dev, const struct wg_peer *p)
{
	return __atomic_load_n(&dev->bucket_owner[p->bucket], __ATOMIC_ACQUIRE);
}

static void record(struct wg_scale *s, const char *what, int worker, uint64_t duration_ns)
{
	struct wg_scale_event *e = &s->hist[s->n_hist++ % WG_SCALE_HISTORY];

	*e = (struct wg_scale_event){
		.realtime_ns = realtime_ns(),
		.what = what,
		.worker = worker,
		.active = s->n_active,
		.buckets_moved = s->op_moved,
		.duration_ns = duration_ns,
		.peak = s->op_peak,
		.sum = s->op_sum,
	};
}

/* queue i of each port to the (i mod n)-th of the n active workers on the port's node (all when none) */
static unsigned queue_worker(const struct wgdp *dev, const struct wg_rxq *q)
{
	int socket[WG_MAX_WORKERS];

	for (unsigned w = 0; w < dev->n_workers; w++)
		socket[w] = dev->workers[w].socket_id;
	return wg_scale_policy_queue(q->queue, dev->scale->active, socket, dev->n_workers, q->side->port.socket_id);
}

static void assign_queues(struct wgdp *dev)
{
	for (unsigned i = 0; i < dev->n_rxqs; i++) {
		struct wg_rxq *q = &dev->rxqs[i];
		unsigned w = queue_worker(dev, q);

		__atomic_store_n(&q->want, (uint16_t)w, __ATOMIC_RELEASE);
	}
}

/* new owners for the new active set: the buckets that change go in transit */
static void plan(struct wgdp *dev)
{
	struct wg_scale *s = dev->scale;

	for (unsigned b = 0; b < WG_BUCKETS; b++)
		s->target[b] = dev->bucket_owner[b];
	wg_scale_policy_assign(s->target, WG_BUCKETS, s->active, dev->n_workers);
	s->op_moved = 0;
	for (unsigned b = 0; b < WG_BUCKETS; b++)
		if (s->target[b] != dev->bucket_owner[b]) {
			s->transit[b] = TO_START;
			s->n_moving++;
			s->op_moved++;
		}
	assign_queues(dev);
}

static void begin(struct wgdp *dev, const char *what, int worker, uint64_t now)
{
	struct wg_scale *s = dev->scale;

	s->op = what;
	s->op_worker = worker;
	s->op_start_ns = now;
	s->park_posted = false;
	s->op_moved = 0;
}

static void scale_down(struct wgdp *dev, int w, uint64_t now)
{
	struct wg_scale *s = dev->scale;

	begin(dev, "down", w, now);
	s->active[w] = false;
	s->n_active--;
	assign_helpers(dev); /* nobody asks it for help any more */
	plan(dev);
}

/* waking first: buckets go to a worker that runs (see poll_op) */
static void scale_up(struct wgdp *dev, int w, uint64_t now)
{
	begin(dev, "up", w, now);
	wg_worker_wake(&dev->workers[w]);
}

static int post(struct wgdp *dev, unsigned w, void *v)
{
	return rte_ring_enqueue(dev->workers[w].requests, v) ? -ENOBUFS : 0;
}

/* requests held for peers whose bucket settled go out now */
static void flush_deferred(struct wgdp *dev)
{
	struct wg_scale *s = dev->scale;
	struct wg_peer **pp = &s->deferred;

	while (*pp) {
		struct wg_peer *p = *pp;
		uint8_t bits = p->req_deferred;

		if (s->transit[p->bucket] != SETTLED) {
			pp = &p->defer_next;
			continue;
		}
		*pp = p->defer_next;
		p->deferred_listed = false;
		p->req_deferred = 0;
		for (unsigned code = 1; code < 8; code++)
			if (bits & (1u << code))
				wg_scale_request(dev, p, code);
	}
}

static void migrate(struct wgdp *dev)
{
	struct wg_scale *s = dev->scale;
	bool settled = false;

	if (!s->grace) {
		s->n_batch = 0;
		for (unsigned b = 0; b < WG_BUCKETS; b++) {
			if (s->transit[b] != TO_START || __atomic_load_n(&dev->bucket_inflight[b], __ATOMIC_ACQUIRE))
				continue;
			__atomic_store_n(&dev->bucket_from[b], dev->bucket_owner[b], __ATOMIC_RELAXED);
			__atomic_store_n(&dev->bucket_owner[b], s->target[b], __ATOMIC_RELEASE);
			s->transit[b] = SWITCHED;
			s->batch[s->n_batch++] = (uint16_t)b;
		}
		if (s->n_batch) {
			s->token = rte_rcu_qsbr_start(dev->qsbr);
			s->grace = true;
		}
	} else if (rte_rcu_qsbr_check(dev->qsbr, s->token, false) == 1) {
		unsigned keep = 0;

		for (unsigned i = 0; i < s->n_batch; i++) {
			uint16_t b = s->batch[i];
			uint16_t from = dev->bucket_from[b];

			if (post(dev, from, (void *)(((uintptr_t)b << 3) | WG_REQ_MIGRATE_OUT)))
				s->batch[keep++] = b; /* ring full: next round */
			else
				s->transit[b] = DONE_AWAITED;
		}
		s->n_batch = keep;
		s->grace = keep != 0;
	}
	for (unsigned b = 0; b < WG_BUCKETS; b++)
		if (s->transit[b] == DONE_AWAITED &&
		    __atomic_load_n(&dev->bucket_from[b], __ATOMIC_ACQUIRE) == WG_NO_WORKER) {
			s->transit[b] = SETTLED;
			s->n_moving--;
			s->buckets_moved++;
			settled = true;
		}
	if (settled)
		flush_deferred(dev);
}

/* the operation under way: true while it is not finished */
static bool poll_op(struct wgdp *dev, uint64_t now)
{
	struct wg_scale *s = dev->scale;
	struct wg_worker *w = s->op ? &dev->workers[s->op_worker] : NULL;

	if (!s->op)
		return false;
	if (!strcmp(s->op, "up") && !s->active[s->op_worker]) {
		if (__atomic_load_n(&w->state, __ATOMIC_ACQUIRE) == WG_WORKER_PARKED)
			return true; /* not running yet */
		s->active[s->op_worker] = true;
		s->n_active++;
		plan(dev);
	}
	if (s->n_moving)
		return true;
	if (!strcmp(s->op, "down")) {
		for (unsigned i = 0; i < dev->n_rxqs; i++)
			if (__atomic_load_n(&dev->rxqs[i].poller, __ATOMIC_ACQUIRE) == s->op_worker)
				return true; /* still handing a queue over */
		if (!s->park_posted)
			s->park_posted = post(dev, (unsigned)s->op_worker, (void *)(uintptr_t)WG_REQ_PARK) == 0;
		if (!s->park_posted || __atomic_load_n(&w->state, __ATOMIC_ACQUIRE) != WG_WORKER_PARKED)
			return true;
		s->downs++;
	} else {
		s->ups++;
	}
	record(s, s->op, s->op_worker, now - s->op_start_ns);
	s->op = NULL;
	return false;
}

const char *wg_scale_spread_name(unsigned spread)
{
	return spread == WG_CONF_SPREAD_ON ? "on" : spread == WG_CONF_SPREAD_OFF ? "off" : "auto";
}

/*
 * Who helps whom with crypto (dataplane/spread.c). on: every active worker
 * the next active one. auto: a worker above ScaleUpLoad gets the least busy
 * other active worker below it, and keeps it until it falls under
 * ScaleDownLoad (it stays busy while helped: it waits for its helper).
 */
static void assign_helpers(struct wgdp *dev)
{
	struct wg_scale *s = dev->scale;

	for (unsigned i = 0; i < dev->n_workers; i++) {
		struct wg_worker *w = &dev->workers[i];
		uint16_t cur = w->helper, want = WG_NO_WORKER;
		uint32_t load = __atomic_load_n(&w->load, __ATOMIC_RELAXED), best = UINT32_MAX;

		if (!s->active[i] || s->n_active < 2 || s->spread == WG_CONF_SPREAD_OFF) {
			want = WG_NO_WORKER;
		} else if (s->spread == WG_CONF_SPREAD_ON) {
			for (unsigned k = 1; k < dev->n_workers && want == WG_NO_WORKER; k++)
				if (s->active[(i + k) % dev->n_workers])
					want = (uint16_t)((i + k) % dev->n_workers);
		} else if (cur != WG_NO_WORKER && s->active[cur] && load >= s->p.down_permille) {
			want = cur;
		} else if (load > s->p.up_permille) {
			for (unsigned j = 0; j < dev->n_workers; j++) {
				uint32_t lj = __atomic_load_n(&dev->workers[j].load, __ATOMIC_RELAXED);

				if (j != i && s->active[j] && lj < s->p.up_permille && lj < best) {
					best = lj;
					want = (uint16_t)j;
				}
			}
		}
		if (want != cur)
			__atomic_store_n(&w->helper, want, __ATOMIC_RELAXED);
	}
}

static void decide(struct wgdp *dev, uint64_t now)
{
	struct wg_scale *s = dev->scale;
	struct wg_scale_params p = s->p;
	uint32_t loads[WG_MAX_WORKERS] = { 0 };
	unsigned n = 0;
	int d, w;

	assign_helpers(dev);
	if (!s->autoscale)
		p.min_workers = p.max_workers; /* all the configured ones, always */
	for (unsigned i = 0; i < dev->n_workers; i++)
		if (s->active[i])
			loads[n++] = __atomic_load_n(&dev->workers[i].load, __ATOMIC_RELAXED);
	d = wg_scale_policy_decide(&p, &s->h, loads, s->n_active, dev->n_workers, now / 1000000ull);
	if (!d)
		return;
	s->op_peak = s->op_sum = 0;
	for (unsigned i = 0; i < n; i++) {
		s->op_sum += loads[i];
		if (loads[i] > s->op_peak)
			s->op_peak = loads[i];
	}
	if (d > 0) {
		for (w = 0; w < (int)dev->n_workers && s->active[w]; w++)
			;
		if (w < (int)dev->n_workers)
			scale_up(dev, w, now);
	} else {
		/* the highest active one; worker 0 stays (it carries the control thread's frames) */
		for (w = (int)dev->n_workers - 1; w > 0 && !s->active[w]; w--)
			;
		if (w > 0)
			scale_down(dev, w, now);
	}
}

void wg_scale_poll(struct wgdp *dev, uint64_t now)
{
	struct wg_scale *s = dev->scale;

	if (!s)
		return;
	if (s->n_moving)
		migrate(dev);
	if (poll_op(dev, now))
		return;
	if (now >= s->next_eval_ns) {
		s->next_eval_ns = now + EVAL_NS;
		decide(dev, now);
	}
}

int wg_scale_request(struct wgdp *dev, struct wg_peer *p, unsigned code)
{
	struct wg_scale *s = dev->scale;
	uint16_t b = p->bucket, w;

	if (s && s->transit[b] != SETTLED) {
		p->req_deferred |= (uint8_t)(1u << code);
		if (!p->deferred_listed) {
			p->deferred_listed = true;
			p->defer_next = s->deferred;
			s->deferred = p;
		}
		return 0;
	}
	w = dev->bucket_owner[b];
	__atomic_fetch_add(&p->req_inflight, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&dev->bucket_inflight[b], 1, __ATOMIC_RELAXED);
	if (post(dev, w, wg_tag(p, code))) {
		__atomic_fetch_sub(&dev->bucket_inflight[b], 1, __ATOMIC_RELAXED);
		__atomic_fetch_sub(&p->req_inflight, 1, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	return 0;
}

void wg_scale_forget(struct wgdp *dev, struct wg_peer *p)
{
	struct wg_scale *s = dev->scale;

	if (!s || !p->deferred_listed)
		return;
	for (struct wg_peer **pp = &s->deferred; *pp; pp = &(*pp)->defer_next)
		if (*pp == p) {
			*pp = p->defer_next;
			break;
		}
	p->deferred_listed = false;
	p->req_deferred = 0;
}

int wg_scale_set(struct wgdp *dev, unsigned min_workers, unsigned max_workers, int autoscale, int spread,
		 char *err, size_t errlen)
{
	struct wg_scale *s = dev->scale;

	if (!min_workers || min_workers > max_workers || max_workers > dev->n_workers) {
		snprintf(err, errlen, "need 1 <= min_workers (%u) <= max_workers (%u) <= workers (%u)", min_workers,
			 max_workers, dev->n_workers);
		return -EINVAL;
	}
	s->p.min_workers = min_workers;
	s->p.max_workers = max_workers;
	if (autoscale >= 0) {
		s->autoscale = autoscale;
		__atomic_store_n(&dev->doze, (uint8_t)autoscale, __ATOMIC_RELAXED);
	}
	if (spread >= 0)
		s->spread = (unsigned)spread;
	wg_scale_hyst_reset(&s->h);
	s->next_eval_ns = 0; /* decide at the next turn */
	return 0;
}

int wg_scale_setup(struct wgdp *dev, char *err, size_t errlen)
{
	const struct wg_conf_appliance *a = &dev->conf.appliance;
	struct wg_scale *s = calloc(1, sizeof(*s));
	unsigned max = a->max_workers ? a->max_workers : dev->n_workers;
	unsigned min = a->min_workers ? a->min_workers : 1;

	if (!s)
		return -ENOMEM;
	if (max > dev->n_workers || min > max) {
		snprintf(err, errlen, "MinWorkers %u / MaxWorkers %u: need 1 <= MinWorkers <= MaxWorkers <= %u (Workers)",
			 min, max, dev->n_workers);
		free(s);
		return -EINVAL;
	}
	s->p = (struct wg_scale_params){
		.min_workers = min,
		.max_workers = max,
		.up_permille = a->scale_up_load * 10,
		.down_permille = a->scale_down_load * 10,
		.up_ms = a->scale_up_delay_ms,
		.down_ms = a->scale_down_delay_ms,
	};
	s->autoscale = a->autoscale;
	s->spread = a->spread_crypto;
	dev->doze = a->autoscale;
	wg_scale_hyst_reset(&s->h);
	dev->scale = s;
	for (unsigned w = 0; w < dev->n_workers; w++)
		s->active[w] = true;
	s->n_active = dev->n_workers;
	for (unsigned b = 0; b < WG_BUCKETS; b++) {
		dev->bucket_owner[b] = (uint16_t)(b % dev->n_workers);
		dev->bucket_from[b] = WG_NO_WORKER;
	}
	for (unsigned i = 0; i < dev->n_rxqs; i++) {
		struct wg_rxq *q = &dev->rxqs[i];

		q->want = q->poller = (uint16_t)queue_worker(dev, q);
	}
	s->op_moved = 0;
	record(s, "start", -1, 0);
	return 0;
}

void wg_scale_teardown(struct wgdp *dev)
{
	free(dev->scale);
	dev->scale = NULL;
}
