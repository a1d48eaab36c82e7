/* SPDX-License-Identifier: MIT */
/* Staging queues taken from per-worker pools while a handshake is pending (staging.h). */
#include "dataplane/staging.h"

#include <errno.h>

#include <rte_errno.h>

unsigned wg_staging_pool_size(uint32_t max_peers, unsigned n_workers)
{
	uint32_t total = max_peers < WG_STAGING_QUEUES_MAX ? max_peers : WG_STAGING_QUEUES_MAX;
	unsigned per;

	if (!n_workers)
		n_workers = 1;
	per = (total + n_workers - 1) / n_workers;
	return per < WG_STAGING_QUEUES_MIN ? WG_STAGING_QUEUES_MIN : per;
}

int wg_staging_pool_create(struct rte_mempool **out, const char *name, unsigned n, int socket_id)
{
	struct rte_mempool *mp;

	if (!out || !name || !n)
		return -EINVAL;
	/*
	 * No per-lcore cache: queues are taken and given back once per
	 * handshake, not per packet, and a cache would strand queues on the
	 * lcores that free them (the control thread, at peer removal). No
	 * spreading over memory channels either: a queue is 1,032 bytes and
	 * touched a few pointers at a time, so the padding (64 bytes each)
	 * would buy nothing.
	 */
	mp = rte_mempool_create(name, n, sizeof(struct wg_staging_queue), 0, 0, NULL, NULL, NULL, NULL,
				socket_id, RTE_MEMPOOL_F_NO_SPREAD);
	if (!mp)
		return rte_errno ? -rte_errno : -ENOMEM;
	*out = mp;
	return 0;
}

void wg_staging_pool_destroy(struct rte_mempool *pool)
{
	rte_mempool_free(pool);
}

int wg_staging_push(struct wg_staging_queue **q, struct rte_mempool *pool, struct rte_mbuf *m,
		    struct rte_mbuf **drop)
{
	struct wg_staging_queue *s = *q;
	int ret = 0;

	if (!s) {
		void *obj;

		if (!pool || rte_mempool_get(pool, &obj)) {
			*drop = m;
			return -ENOMEM;
		}
		s = obj;
		s->head = s->n = 0;
		*q = s;
	}
	if (s->n == WG_STAGED_MAX) {
		/* as the kernel: the oldest goes, the newest is kept */
		*drop = s->m[s->head];
		s->head = (uint16_t)((s->head + 1) % WG_STAGED_MAX);
		s->n--;
		ret = -ENOBUFS;
	}
	s->m[(s->head + s->n) % WG_STAGED_MAX] = m;
	s->n++;
	return ret;
}

static void give_back(struct wg_staging_queue **q)
{
	struct wg_staging_queue *s = *q;

	*q = NULL;
	rte_mempool_put(rte_mempool_from_obj(s), s);
}

void wg_staging_pop(struct wg_staging_queue **q)
{
	struct wg_staging_queue *s = *q;

	s->m[s->head] = NULL;
	s->head = (uint16_t)((s->head + 1) % WG_STAGED_MAX);
	if (--s->n == 0)
		give_back(q);
}

unsigned wg_staging_purge(struct wg_staging_queue **q)
{
	struct wg_staging_queue *s = *q;
	unsigned n;

	if (!s)
		return 0;
	n = s->n;
	for (unsigned i = 0; i < n; i++) {
		rte_pktmbuf_free(s->m[s->head]);
		s->m[s->head] = NULL;
		s->head = (uint16_t)((s->head + 1) % WG_STAGED_MAX);
	}
	s->n = 0;
	give_back(q);
	return n;
}
