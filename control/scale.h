/* SPDX-License-Identifier: MIT */
/*
 * The autoscaler and the owner of the workers' layout (control thread):
 * which worker owns which bucket of peers and polls which RX queue, bucket
 * migrations between workers ("switch, grace period, drain, DONE"), parking
 * and waking workers with the load, and every request to a peer's worker
 * (wg_scale_request), which waits while the peer's bucket migrates.
 * docs/dataplane.md, "Several workers" and "Autoscaling".
 */
#ifndef WG_SCALE_H
#define WG_SCALE_H

#include <stdbool.h>
#include <stdint.h>

#include "control/scale_policy.h"
#include "dataplane/wgdp.h"

#define WG_SCALE_HISTORY 64u

struct wg_scale_event {
	uint64_t realtime_ns;
	const char *what;         /* "start", "up", "down" */
	int worker;               /* brought back or parked; -1 for "start" */
	unsigned active;          /* active workers after it */
	unsigned buckets_moved;
	uint64_t duration_ns;     /* from the decision to the last bucket settled (and parked) */
	uint32_t peak, sum;       /* the loads (per mille) that decided it */
};

struct wg_scale {
	struct wg_scale_params p;
	struct wg_scale_hyst h;
	bool autoscale;
	unsigned spread;                   /* WG_CONF_SPREAD_* */
	bool active[WG_MAX_WORKERS];       /* intent: owns buckets and polls queues */
	unsigned n_active;
	/* migrations: 0 settled, 1 to start, 2 switched (grace period), 3 DONE awaited */
	uint8_t transit[WG_BUCKETS];
	uint16_t target[WG_BUCKETS];
	uint16_t batch[WG_BUCKETS];        /* switched, waiting for the grace period */
	unsigned n_batch, n_moving;
	uint64_t token;
	bool grace;
	/* the operation under way */
	const char *op;                    /* NULL: none */
	int op_worker;
	bool park_posted;
	uint64_t op_start_ns;
	unsigned op_moved;
	uint32_t op_peak, op_sum;
	uint64_t next_eval_ns;
	struct wg_peer *deferred;          /* peers with requests held by a migration */
	/* history and totals */
	struct wg_scale_event hist[WG_SCALE_HISTORY];
	unsigned n_hist;                   /* events ever; the last WG_SCALE_HISTORY are kept */
	uint64_t ups, downs, buckets_moved;
};

/* the first layout: every worker active, buckets and queues spread. 0 or -errno. */
int wg_scale_setup(struct wgdp *dev, char *err, size_t errlen);
void wg_scale_teardown(struct wgdp *dev);
/* the control loop's turn: migrations, parking, waking, decisions */
void wg_scale_poll(struct wgdp *dev, uint64_t now);
/* post a request (enum wg_worker_request, peer codes) to p's worker; 0 or -ENOBUFS */
int wg_scale_request(struct wgdp *dev, struct wg_peer *p, unsigned code);
/* p is being removed: drop its held requests */
void wg_scale_forget(struct wgdp *dev, struct wg_peer *p);
/* new limits from the API; 0 or -EINVAL with a message (nothing changed then) */
int wg_scale_set(struct wgdp *dev, unsigned min_workers, unsigned max_workers, int autoscale, int spread,
		 char *err, size_t errlen);
/* "auto", "on", "off" */
const char *wg_scale_spread_name(unsigned spread);
/* a scaling operation or a migration is under way (the control loop should not nap long) */
bool wg_scale_busy(const struct wgdp *dev);
/* the worker that owns p now */
unsigned wg_scale_owner(const struct wgdp *dev, const struct wg_peer *p);
const char *wg_scale_state_name(uint32_t state);

#endif
