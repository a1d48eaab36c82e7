/* SPDX-License-Identifier: MIT */
/* Index table on rte_hash, lock-free readers, RCU slot reclamation (index.h). */
#include "dataplane/index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "crypto/secure.h"

#define KIND_MASK 3u
#define MAX_TRIES 64 /* random collisions in a table that is not full are rare */

struct wg_index {
	struct rte_hash *h;
	uint32_t capacity;
	uint32_t live; /* indices added and not deleted (slots may still await reclaim) */
	struct rte_rcu_qsbr *qsbr;
};

static uint32_t hash_index(const void *key, uint32_t len, uint32_t init)
{
	(void)len;
	/* indices are random already; still mix, so a peer cannot aim at a bucket */
	return rte_jhash_1word(*(const uint32_t *)key, init);
}

int wg_index_create(struct wg_index **out, const char *name, uint32_t capacity, int socket_id,
		    struct rte_rcu_qsbr *qsbr)
{
	struct rte_hash_parameters params = {
		.name = name,
		/* headroom: a cuckoo table cannot always use its last slots */
		.entries = capacity + capacity / 8 + 64,
		.key_len = sizeof(uint32_t),
		.hash_func = hash_index,
		.hash_func_init_val = wg_secure_random_u32(),
		.socket_id = socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct rte_hash_rcu_config rcu = { .v = qsbr, .mode = RTE_HASH_QSBR_MODE_DQ };
	struct wg_index *t;
	int ret;

	if (!capacity || !name)
		return -EINVAL;
	t = rte_zmalloc_socket("wg_index", sizeof(*t), 0, socket_id);
	if (!t)
		return -ENOMEM;
	t->capacity = capacity;
	t->qsbr = qsbr;
	t->h = rte_hash_create(&params);
	if (!t->h) {
		ret = -rte_errno;
		goto err_free;
	}
	if (qsbr) {
		ret = rte_hash_rcu_qsbr_add(t->h, &rcu);
		if (ret) {
			ret = -rte_errno;
			goto err_hash;
		}
	}
	*out = t;
	return 0;

err_hash:
	rte_hash_free(t->h);
err_free:
	rte_free(t);
	return ret ? ret : -ENOMEM;
}

void wg_index_destroy(struct wg_index *t)
{
	if (!t)
		return;
	rte_hash_free(t->h);
	rte_free(t);
}

int wg_index_add(struct wg_index *t, void *obj, enum wg_index_kind kind, uint32_t *index_out)
{
	uintptr_t data = (uintptr_t)obj;

	if (!obj || (data & KIND_MASK) || (kind & ~KIND_MASK) || !kind)
		return -EINVAL;
	if (t->live >= t->capacity)
		return -ENOSPC;
	data |= kind;
	for (int i = 0; i < MAX_TRIES; i++) {
		uint32_t index = wg_secure_random_u32();
		void *old;

		if (rte_hash_lookup_data(t->h, &index, &old) >= 0)
			continue; /* in use */
		int ret = rte_hash_add_key_data(t->h, &index, (void *)data);
		if (ret == -ENOSPC && t->qsbr) {
			/*
			 * Not full (live < capacity): deleted slots await a
			 * grace period because a reader is slow to report.
			 * Wait for it; the add reclaims them on retry.
			 */
			rte_rcu_qsbr_synchronize(t->qsbr, RTE_QSBR_THRID_INVALID);
			ret = rte_hash_add_key_data(t->h, &index, (void *)data);
		}
		if (ret == -ENOSPC)
			return -ENOSPC;
		if (ret)
			return ret;
		*index_out = index;
		t->live++;
		return 0;
	}
	return -ENOSPC;
}

int wg_index_replace(struct wg_index *t, uint32_t index, void *obj, enum wg_index_kind kind)
{
	uintptr_t data = (uintptr_t)obj;
	void *old;

	if (!obj || (data & KIND_MASK) || (kind & ~KIND_MASK) || !kind)
		return -EINVAL;
	if (rte_hash_lookup_data(t->h, &index, &old) < 0)
		return -ENOENT;
	/* an add on an existing key swaps its data atomically */
	return rte_hash_add_key_data(t->h, &index, (void *)(data | kind));
}

int wg_index_del(struct wg_index *t, uint32_t index)
{
	if (rte_hash_del_key(t->h, &index) < 0)
		return -ENOENT;
	t->live--;
	return 0;
}

static void *untag(uintptr_t data, enum wg_index_kind kind)
{
	return (data & KIND_MASK) == (uintptr_t)kind ? (void *)(data & ~(uintptr_t)KIND_MASK) : NULL;
}

void *wg_index_lookup(const struct wg_index *t, uint32_t index, enum wg_index_kind kind)
{
	void *data;

	if (rte_hash_lookup_data(t->h, &index, &data) < 0)
		return NULL;
	return untag((uintptr_t)data, kind);
}

void wg_index_lookup_bulk(const struct wg_index *t, const uint32_t *indices, unsigned n,
			  enum wg_index_kind kind, void **objs)
{
	const void *keys[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t hits = 0;
	unsigned i;

	if (n > RTE_HASH_LOOKUP_BULK_MAX)
		n = RTE_HASH_LOOKUP_BULK_MAX;
	for (i = 0; i < n; i++)
		keys[i] = &indices[i];
	if (n && rte_hash_lookup_bulk_data(t->h, keys, n, &hits, objs) < 0)
		hits = 0;
	for (i = 0; i < n; i++)
		objs[i] = (hits >> i) & 1 ? untag((uintptr_t)objs[i], kind) : NULL;
}

uint32_t wg_index_count(const struct wg_index *t)
{
	return t->live;
}
