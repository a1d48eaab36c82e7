/* SPDX-License-Identifier: MIT */
/*
 * Staging: the packets a peer holds while a handshake is under way (the
 * kernel's staged_packet_queue, at most MAX_STAGED_PACKETS = 128, the oldest
 * dropped when full), without 1 KiB of ring in every peer.
 *
 * A peer holds a pointer, NULL while nothing waits. Its first staged packet
 * takes a queue (a fixed ring of WG_STAGED_MAX mbuf pointers) from its
 * worker's pool; the queue goes back to the pool it came from as soon as it
 * is empty again (flushed or purged). Handshakes are pending for few peers
 * at once, so the pools are small: wg_staging_pool_size() queues per worker,
 * min(MaxPeers, WG_STAGING_QUEUES_MAX) over all workers, allocated on the
 * worker's NUMA socket. When a pool is empty the packet is not staged (the
 * worker counts it as no_staging_queue) but the handshake is still asked for.
 *
 * Locking rule: a peer's queue has one writer, the peer's owning worker (or,
 * once no worker can reach the peer, whoever frees it). The pools are
 * multi-producer/multi-consumer rte_mempools, so a queue may go back to its
 * pool from any thread: a peer that migrates to another worker keeps its
 * queue, and the new owner returns it (to the pool it came from).
 */
#ifndef WG_STAGING_H
#define WG_STAGING_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

/* packets held while a handshake is under way (the kernel's MAX_STAGED_PACKETS) */
#define WG_STAGED_MAX 128u
/* staging queues over all workers, at most (fewer when MaxPeers is smaller) */
#define WG_STAGING_QUEUES_MAX 4096u
/* and at least, per worker */
#define WG_STAGING_QUEUES_MIN 16u

/* a FIFO of staged packets, oldest at head */
struct wg_staging_queue {
	uint16_t head, n;
	struct rte_mbuf *m[WG_STAGED_MAX];
};

/* Queues in each worker's pool for max_peers peers and n_workers workers. */
unsigned wg_staging_pool_size(uint32_t max_peers, unsigned n_workers);
/* A pool of n queues on socket_id. 0 or -errno (-EINVAL, -ENOMEM, -EEXIST: name in use). */
int wg_staging_pool_create(struct rte_mempool **out, const char *name, unsigned n, int socket_id);
/* Every queue must be back. NULL is fine. */
void wg_staging_pool_destroy(struct rte_mempool *pool);

/*
 * Append m to *q, taking a queue from pool when *q is NULL. Returns 0 (m
 * staged, nothing to free), -ENOBUFS (m staged, the queue was full: *drop is
 * its oldest packet, unlinked, to be freed and counted as no_session) or
 * -ENOMEM (the pool has no queue: m is not staged, *drop is m).
 */
int wg_staging_push(struct wg_staging_queue **q, struct rte_mempool *pool, struct rte_mbuf *m,
		    struct rte_mbuf **drop);

/* The oldest staged packet, left in place; NULL when none. */
static inline struct rte_mbuf *wg_staging_peek(const struct wg_staging_queue *q)
{
	return q ? q->m[q->head] : NULL;
}

/* Unlink the oldest (there must be one); an emptied queue goes back to its pool, *q = NULL. */
void wg_staging_pop(struct wg_staging_queue **q);

/* Free every staged packet and give the queue back (*q = NULL). Returns how many were freed. */
unsigned wg_staging_purge(struct wg_staging_queue **q);

/* packets staged */
static inline unsigned wg_staging_count(const struct wg_staging_queue *q)
{
	return q ? q->n : 0;
}

#endif
