/* SPDX-License-Identifier: MIT */
/*
 * The index table as an array addressed by the index itself (index.h).
 *
 * There are 2^k slots, k the least with 2^k >= capacity. An index names the
 * slot of its low k bits; its high 32 - k bits are random, and the slot
 * keeps the whole index, so a lookup is one load of one 16-byte slot: the
 * index must match, then the object word gives the object and its kind.
 * Indices come from the CSPRNG: a new one is a random 32-bit value whose
 * slot is free (a few tries; in a crowded table a scan from a random slot,
 * keeping the random high bits), so a peer cannot guess the indices of
 * others, even though the low bits of its own tell which slots are in use.
 *
 * Slot states (the writer's view; readers see only obj and index):
 *
 *   free         obj 0, index = slot ^ 1, link 0
 *   live         obj = pointer | kind, index = the index
 *   quarantined  obj 0, index = slot ^ 1, link != 0 (in the FIFO below)
 *
 * slot ^ 1 has other low bits than the slot, so no index that is looked up
 * in the slot equals it: a slot that holds no index matches none.
 *
 * Ordering. A reader loads the slot's index (acquire), compares, then loads
 * the object word (acquire). The writer, on add, stores the object word and
 * then the index (release): a reader that sees the index sees the object.
 * On replace it stores only the object word (release): readers see the old
 * object or the new one. On del it clears the object word, then the index,
 * and puts the slot in quarantine: a reader already past the index compare
 * may still return the old object, which is why the caller frees objects
 * after a grace period. The slot is free again, for another index, only
 * after a grace period of the RCU variable too. Without that, a reader that
 * loaded the old index could load the next index's object word and return
 * it for the old index. Clearing the index on del (and not only the object)
 * means that once the grace period is over, no reader can see the old index
 * any more, so the add's two stores cannot be misread.
 *
 * Quarantine. Deleted slots go, in order, into a FIFO linked through the
 * slots' link fields (no memory of its own). Deletions since the last token
 * form an open batch; the next add closes it with rte_rcu_qsbr_start() and
 * then frees, from the head, every batch whose token rte_rcu_qsbr_check()
 * says is over. Only when no slot is free though fewer than capacity
 * indices live (the free ones all await a grace period) does an add wait
 * for one. Without an RCU variable (qsbr NULL) deleted slots are free at
 * once: then no reader may run concurrently with the writer.
 */
#include "dataplane/index.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "crypto/secure.h"

#define KIND_MASK ((uintptr_t)3)
#define MIN_SLOTS 64u
#define MAX_SLOTS (1u << 31) /* slot numbers and link + 1 fit in 32 bits */
#define MAX_TRIES 32         /* then scan: at 75% load, 32 misses in a row are 1e-4 */
#define MAX_BULK 64
#define N_BATCHES 64         /* open grace periods; more merge into the newest */
#define RANDOM_WORDS 64      /* CSPRNG words drawn at once: one getrandom, not 64 */
#define LINK_END UINT32_MAX  /* link of the FIFO's tail */
#define NIL UINT32_MAX       /* no slot */

struct slot {
	uintptr_t obj;  /* object | kind, 0 when the slot holds no index */
	uint32_t index; /* the index, or slot ^ 1 when none */
	uint32_t link;  /* writer only. 0: not quarantined; next slot + 1 or LINK_END */
};
_Static_assert(sizeof(struct slot) <= 16, "a slot is at most 16 bytes");

/* slots deleted before token, oldest first in the FIFO */
struct batch {
	uint64_t token;
	uint32_t count;
};

struct wg_index {
	/* read by every lookup */
	struct slot *slots;
	uint32_t mask;

	/* the writer's (the control thread), in a cache line of its own */
	uint32_t capacity __rte_cache_aligned;
	uint32_t live; /* indices added and not deleted */
	struct rte_rcu_qsbr *qsbr;
	uint32_t q_head, q_tail; /* quarantine FIFO of slots, NIL when empty */
	uint32_t queued;         /* slots in it */
	uint32_t open;           /* of them, deleted since the last token */
	struct batch batches[N_BATCHES];
	unsigned b_first, b_n;
	uint32_t random[RANDOM_WORDS];
	unsigned random_left;
};

static uint32_t no_index(uint32_t slot)
{
	return slot ^ 1;
}

static uint32_t random_u32(struct wg_index *t)
{
	if (!t->random_left) {
		wg_secure_random(t->random, sizeof(t->random));
		t->random_left = RANDOM_WORDS;
	}
	return t->random[--t->random_left];
}

static bool valid(const void *obj, enum wg_index_kind kind)
{
	return obj && !((uintptr_t)obj & KIND_MASK) && kind && !((uintptr_t)kind & ~KIND_MASK);
}

int wg_index_create(struct wg_index **out, const char *name, uint32_t capacity, int socket_id,
		    struct rte_rcu_qsbr *qsbr)
{
	struct wg_index *t;
	uint32_t n;
	int ret;

	if (!name || !capacity || capacity > MAX_SLOTS)
		return -EINVAL;
	n = RTE_MAX(rte_align32pow2(capacity), MIN_SLOTS);
	t = rte_zmalloc_socket("wg_index", sizeof(*t), RTE_CACHE_LINE_SIZE, socket_id);
	if (!t)
		return -ENOMEM;
	t->slots = rte_zmalloc_socket("wg_index_slots", (size_t)n * sizeof(*t->slots), RTE_CACHE_LINE_SIZE,
				      socket_id);
	if (!t->slots) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (uint32_t i = 0; i < n; i++)
		t->slots[i].index = no_index(i);
	t->mask = n - 1;
	t->capacity = capacity;
	t->qsbr = qsbr;
	t->q_head = t->q_tail = NIL;
	*out = t;
	return 0;

err_free:
	rte_free(t);
	return ret;
}

void wg_index_destroy(struct wg_index *t)
{
	if (!t)
		return;
	wg_secure_wipe(t->random, sizeof(t->random));
	rte_free(t->slots);
	rte_free(t);
}

/* ---- quarantine ---- */

static void quarantine(struct wg_index *t, uint32_t n)
{
	t->slots[n].link = LINK_END;
	if (t->q_tail == NIL)
		t->q_head = n;
	else
		t->slots[t->q_tail].link = n + 1;
	t->q_tail = n;
	t->queued++;
	t->open++;
}

/* the oldest quarantined slot is free */
static void release_head(struct wg_index *t)
{
	struct slot *s = &t->slots[t->q_head];
	uint32_t next = s->link;

	s->link = 0;
	t->q_head = next == LINK_END ? NIL : next - 1;
	if (t->q_head == NIL)
		t->q_tail = NIL;
	t->queued--;
}

/*
 * The deletions of the open batch get a grace period that starts now. With
 * every batch in use the newest takes them and the new token: a later token
 * is over only after the earlier one, so its slots just wait a little longer.
 */
static void close_batch(struct wg_index *t)
{
	struct batch *b;

	if (!t->open)
		return;
	if (t->b_n < N_BATCHES) {
		b = &t->batches[(t->b_first + t->b_n++) % N_BATCHES];
		b->count = 0;
	} else {
		b = &t->batches[(t->b_first + N_BATCHES - 1) % N_BATCHES];
	}
	b->token = rte_rcu_qsbr_start(t->qsbr);
	b->count += t->open;
	t->open = 0;
}

/* Free the slots whose grace period is over; wait: for the oldest batch. */
static void reclaim(struct wg_index *t, bool wait)
{
	close_batch(t);
	while (t->b_n) {
		struct batch *b = &t->batches[t->b_first];

		if (rte_rcu_qsbr_check(t->qsbr, b->token, wait) != 1)
			break;
		for (uint32_t i = 0; i < b->count; i++)
			release_head(t);
		t->b_first = (t->b_first + 1) % N_BATCHES;
		t->b_n--;
		wait = false;
	}
}

/* ---- the writer ---- */

static bool slot_free(const struct slot *s)
{
	return !s->obj && !s->link;
}

/* a random index whose slot is free; false when no slot is */
static bool draw(struct wg_index *t, uint32_t *index)
{
	uint32_t r;

	for (int i = 0; i < MAX_TRIES; i++) {
		r = random_u32(t);
		if (slot_free(&t->slots[r & t->mask])) {
			*index = r;
			return true;
		}
	}
	/* crowded: the first free slot from a random one, with random high bits */
	r = random_u32(t);
	for (uint64_t i = 0; i <= t->mask; i++) {
		uint32_t n = (uint32_t)(r + i) & t->mask;

		if (slot_free(&t->slots[n])) {
			*index = (r & ~t->mask) | n;
			return true;
		}
	}
	return false;
}

int wg_index_add(struct wg_index *t, void *obj, enum wg_index_kind kind, uint32_t *index_out)
{
	struct slot *s;
	uint32_t index;

	if (!valid(obj, kind))
		return -EINVAL;
	if (t->live >= t->capacity)
		return -ENOSPC;
	if (t->queued)
		reclaim(t, false);
	if (!draw(t, &index)) {
		/*
		 * Fewer than capacity live, so every slot that is not live
		 * awaits a grace period: a reader is slow to report. Wait.
		 */
		if (!t->queued)
			return -ENOSPC;
		reclaim(t, true);
		if (!draw(t, &index))
			return -ENOSPC;
	}
	s = &t->slots[index & t->mask];
	__atomic_store_n(&s->obj, (uintptr_t)obj | kind, __ATOMIC_RELAXED);
	__atomic_store_n(&s->index, index, __ATOMIC_RELEASE);
	t->live++;
	*index_out = index;
	return 0;
}

/* the slot of a live index, or NULL */
static struct slot *live_slot(struct wg_index *t, uint32_t index)
{
	struct slot *s = &t->slots[index & t->mask];

	return s->index == index && s->obj ? s : NULL;
}

int wg_index_replace(struct wg_index *t, uint32_t index, void *obj, enum wg_index_kind kind)
{
	struct slot *s;

	if (!valid(obj, kind))
		return -EINVAL;
	s = live_slot(t, index);
	if (!s)
		return -ENOENT;
	/* one store: readers see the old word or the new one */
	__atomic_store_n(&s->obj, (uintptr_t)obj | kind, __ATOMIC_RELEASE);
	return 0;
}

int wg_index_del(struct wg_index *t, uint32_t index)
{
	struct slot *s = live_slot(t, index);
	uint32_t n = index & t->mask;

	if (!s)
		return -ENOENT;
	__atomic_store_n(&s->obj, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->index, no_index(n), __ATOMIC_RELEASE);
	t->live--;
	if (t->qsbr)
		quarantine(t, n);
	return 0;
}

uint32_t wg_index_count(const struct wg_index *t)
{
	return t->live;
}

/* ---- readers ---- */

static inline void *resolve(const struct slot *s, uint32_t index, enum wg_index_kind kind)
{
	uintptr_t w;

	if (__atomic_load_n(&s->index, __ATOMIC_ACQUIRE) != index)
		return NULL;
	w = __atomic_load_n(&s->obj, __ATOMIC_ACQUIRE);
	/* a cleared word (0) has kind 0, which no valid kind is */
	return (w & KIND_MASK) == (uintptr_t)kind ? (void *)(w & ~KIND_MASK) : NULL;
}

void *wg_index_lookup(const struct wg_index *t, uint32_t index, enum wg_index_kind kind)
{
	return resolve(&t->slots[index & t->mask], index, kind);
}

/* every slot's line requested first, so that the misses of a burst overlap */
void wg_index_lookup_bulk(const struct wg_index *t, const uint32_t *indices, unsigned n,
			  enum wg_index_kind kind, void **objs)
{
	const struct slot *slots = t->slots;
	const uint32_t mask = t->mask;
	const struct slot *s[MAX_BULK];

	if (n > MAX_BULK)
		n = MAX_BULK;
	for (unsigned i = 0; i < n; i++) {
		s[i] = &slots[indices[i] & mask];
		rte_prefetch0(s[i]);
	}
	for (unsigned i = 0; i < n; i++)
		objs[i] = resolve(s[i], indices[i], kind);
}
