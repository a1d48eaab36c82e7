/* SPDX-License-Identifier: MIT */
/*
 * The index table: the 32-bit indices that WireGuard messages address us by
 * (sender index of our handshake messages, receiver index of the messages
 * sent to us) mapped to the object they name: a keypair (data messages, looked
 * up by workers on every burst) or a handshake in progress (responses and
 * cookie replies, looked up by the control thread).
 *
 * Indices are random and unique; their low bits address a slot of a table
 * of 2^k >= capacity slots (k = 22 for 1,000,000 peers), their high bits are
 * checked, so a lookup is one memory access (index.c). One writer (the
 * control thread); readers on any lcore are lock-free, and the lookups of a
 * burst overlap their cache misses. A deleted index is not reused (nor its
 * slot given to another) before every reader has gone through a quiescent
 * state of the RCU variable given at creation; the object itself stays the
 * caller's to free after a grace period. With no RCU variable (NULL) a
 * deleted slot is free at once, and no reader may run alongside the writer.
 */
#ifndef WG_INDEX_H
#define WG_INDEX_H

#include <stdint.h>

#include <rte_rcu_qsbr.h>

enum wg_index_kind {
	WG_INDEX_KEYPAIR = 1,
	WG_INDEX_HANDSHAKE = 2,
};

struct wg_index;

/*
 * The capacity the device gives its table for max_peers: a peer holds up to
 * three keypairs and a handshake, so 3 x MaxPeers covers a full rekey wave.
 */
static inline uint32_t wg_index_capacity_for(uint32_t max_peers)
{
	return 3 * max_peers + 4096;
}

/* capacity: indices live at once (1..2^31). 0 or -errno. */
int wg_index_create(struct wg_index **out, const char *name, uint32_t capacity, int socket_id,
		    struct rte_rcu_qsbr *qsbr);
void wg_index_destroy(struct wg_index *t);
/*
 * A new random index for obj (4-byte aligned). 0, -ENOSPC (capacity indices
 * live) or -EINVAL. Waits for a grace period only when no slot is free but
 * deleted ones awaiting theirs (a reader slow to report, a full table).
 */
int wg_index_add(struct wg_index *t, void *obj, enum wg_index_kind kind, uint32_t *index_out);
/*
 * Point an existing index at another object (the handshake's index becomes
 * its keypair's, as in the kernel). Readers see the old or the new object,
 * never neither. 0, -ENOENT or -EINVAL.
 */
int wg_index_replace(struct wg_index *t, uint32_t index, void *obj, enum wg_index_kind kind);
/* 0 or -ENOENT. */
int wg_index_del(struct wg_index *t, uint32_t index);
/* The object of index when it is of kind, else NULL. */
void *wg_index_lookup(const struct wg_index *t, uint32_t index, enum wg_index_kind kind);
/* objs[i] = lookup(indices[i], kind) for a burst; n <= 64. */
void wg_index_lookup_bulk(const struct wg_index *t, const uint32_t *indices, unsigned n,
			  enum wg_index_kind kind, void **objs);
/* indices in use */
uint32_t wg_index_count(const struct wg_index *t);

#endif
