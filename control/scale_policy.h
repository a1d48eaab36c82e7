/* SPDX-License-Identifier: MIT */
/*
 * The autoscaler's decisions, as pure functions (no DPDK, no clock): when to
 * bring a worker back or park one, and which worker owns which bucket and
 * polls which queue. control/scale.c carries them out.
 */
#ifndef WG_SCALE_POLICY_H
#define WG_SCALE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

struct wg_scale_params {
	unsigned min_workers, max_workers; /* 1 <= min <= max <= workers */
	unsigned up_permille;   /* a worker busier than this for up_ms: one more */
	unsigned down_permille; /* the load fits in one fewer at this for down_ms: one less */
	unsigned up_ms, down_ms;
};

/* how long the load has been above / below the thresholds (UINT64_MAX: it is not) */
struct wg_scale_hyst {
	uint64_t above_since_ms, below_since_ms;
};

void wg_scale_hyst_reset(struct wg_scale_hyst *h);

/*
 * +1 (bring one back), -1 (park one) or 0, from the load of each active
 * worker (per mille of its time busy) at now_ms. n_workers: how many exist.
 * Outside [min, max] it moves towards the range at once.
 */
int wg_scale_policy_decide(const struct wg_scale_params *p, struct wg_scale_hyst *h, const uint32_t *loads,
			   unsigned n_active, unsigned n_workers, uint64_t now_ms);

/*
 * Rebalance owner[0..n_buckets) over the active workers with the fewest
 * moves: every active worker ends with n/active or one more, a bucket
 * stays where it is when it can, buckets of inactive workers move. Returns
 * the number of buckets whose owner changed.
 */
unsigned wg_scale_policy_assign(uint16_t *owner, unsigned n_buckets, const bool *active, unsigned n_workers);

/*
 * The worker that polls queue i of a port: the (i mod n)-th of the n active
 * workers on the port's NUMA node, or of all active ones when none is there
 * (socket NULL or port_socket < 0: any node).
 */
unsigned wg_scale_policy_queue(unsigned i, const bool *active, const int *socket, unsigned n_workers,
			       int port_socket);

#endif
