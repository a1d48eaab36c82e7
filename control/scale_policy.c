/* SPDX-License-Identifier: MIT */
/*
 * The autoscaler's decisions (see scale_policy.h).
 *
 * Thresholds with a gap and a delay on each side keep it from flapping: one
 * worker more when the busiest one stays above up_permille for up_ms, one
 * fewer when the summed load would stay under down_permille of one fewer
 * workers for down_ms (so 2 workers at 10% each become 1 at about 20%).
 */
#include "control/scale_policy.h"

#include <string.h>

void wg_scale_hyst_reset(struct wg_scale_hyst *h)
{
	h->above_since_ms = h->below_since_ms = UINT64_MAX;
}

/* true when cond has held for delay_ms (since is the start, UINT64_MAX when not) */
static bool sustained(bool cond, uint64_t *since, uint64_t now_ms, unsigned delay_ms)
{
	if (!cond) {
		*since = UINT64_MAX;
		return false;
	}
	if (*since == UINT64_MAX)
		*since = now_ms;
	return now_ms - *since >= delay_ms;
}

int wg_scale_policy_decide(const struct wg_scale_params *p, struct wg_scale_hyst *h, const uint32_t *loads,
			   unsigned n_active, unsigned n_workers, uint64_t now_ms)
{
	unsigned max = p->max_workers < n_workers ? p->max_workers : n_workers;
	unsigned min = p->min_workers < max ? p->min_workers : max;
	uint64_t sum = 0;
	uint32_t peak = 0;
	bool up, down;

	if (n_active < min) {
		wg_scale_hyst_reset(h);
		return +1;
	}
	if (n_active > max) {
		wg_scale_hyst_reset(h);
		return -1;
	}
	for (unsigned i = 0; i < n_active; i++) {
		sum += loads[i];
		if (loads[i] > peak)
			peak = loads[i];
	}
	up = sustained(n_active < max && peak > p->up_permille, &h->above_since_ms, now_ms, p->up_ms);
	down = sustained(n_active > min && sum < (uint64_t)p->down_permille * (n_active - 1), &h->below_since_ms,
			 now_ms, p->down_ms);
	if (up) {
		wg_scale_hyst_reset(h);
		return +1;
	}
	if (down) {
		wg_scale_hyst_reset(h);
		return -1;
	}
	return 0;
}

unsigned wg_scale_policy_assign(uint16_t *owner, unsigned n_buckets, const bool *active, unsigned n_workers)
{
	unsigned quota[64], have[64] = { 0 }, n_active = 0, extra, moved = 0;

	for (unsigned w = 0; w < n_workers && w < 64; w++)
		n_active += active[w];
	if (!n_active)
		return 0;
	/* the first n % n_active active workers take one more */
	extra = n_buckets % n_active;
	for (unsigned w = 0; w < n_workers && w < 64; w++) {
		quota[w] = active[w] ? n_buckets / n_active + (extra ? 1 : 0) : 0;
		if (active[w] && extra)
			extra--;
	}
	/* keep what fits the quota, in bucket order; mark the rest (UINT16_MAX) */
	for (unsigned b = 0; b < n_buckets; b++) {
		unsigned o = owner[b];

		if (o < n_workers && o < 64 && have[o] < quota[o])
			have[o]++;
		else
			owner[b] = UINT16_MAX;
	}
	/* the marked ones to whoever is under quota, lowest id first */
	for (unsigned b = 0, w = 0; b < n_buckets; b++) {
		if (owner[b] != UINT16_MAX)
			continue;
		while (w < n_workers && have[w] >= quota[w])
			w++;
		if (w == n_workers)
			break; /* cannot happen: quotas sum to n_buckets */
		owner[b] = (uint16_t)w;
		have[w]++;
		moved++;
	}
	return moved;
}

unsigned wg_scale_policy_queue(unsigned i, const bool *active, const int *socket, unsigned n_workers,
			       int port_socket)
{
	bool local = socket && port_socket >= 0;
	unsigned n = 0, k;

	if (local) {
		for (unsigned w = 0; w < n_workers; w++)
			n += active[w] && socket[w] == port_socket;
		local = n != 0;
	}
	if (!local)
		for (unsigned w = 0; w < n_workers; w++)
			n += active[w];
	if (!n)
		return 0;
	k = i % n;
	for (unsigned w = 0; w < n_workers; w++)
		if (active[w] && (!local || socket[w] == port_socket) && k-- == 0)
			return w;
	return 0;
}
