/* SPDX-License-Identifier: MIT */
/*
 * Objects of one size from chunks of the DPDK heap (see slab.h).
 *
 * A chunk: its header, then capacity slots of s->size bytes from offset
 * s->first. Slots [0, carved) have been handed out at least once; each of
 * them is either in use or on the chunk's free list (FIFO, linked through a
 * slot's first word, which is the only non-zero byte of a free slot). Slots
 * [carved, capacity) were never used. A chunk is on s->full when all its
 * slots are in use, else on s->partial; it has at least one slot in use, or
 * it would have gone back to the heap (a new one is about to get its first).
 *
 * Every chunk starts at a multiple of WG_SLAB_CHUNK_MAX and is at most that
 * long, so chunk_of() finds it from any of its objects.
 */
#include "control/slab.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "crypto/secure.h"

#if WG_SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/*
 * What a chunk leaves the heap for its own element header (128 bytes in
 * DPDK 22.11, more with RTE_MALLOC_DEBUG's trailer): a 1 MiB chunk then
 * takes 1 MiB of the heap, and chunks taken one after another lie back to
 * back instead of every other MiB going to alignment.
 */
#define CHUNK_SLACK 256u
#define CHUNK_GROWTH 4u /* WG_SLAB_CHUNK_MAX == WG_SLAB_CHUNK_MIN << CHUNK_GROWTH */

_Static_assert(WG_SLAB_CHUNK_MAX == WG_SLAB_CHUNK_MIN << CHUNK_GROWTH, "chunk sizes");

struct wg_slab_chunk {
	struct wg_slab *slab;
	struct wg_slab_chunk *prev, *next; /* on s->partial or s->full */
	void *free_head, *free_tail;       /* freed slots, oldest first */
	uint32_t used;                     /* slots in use */
	uint32_t carved;                   /* slots ever handed out */
	uint32_t capacity;
	uint32_t bytes;                    /* the chunk's size */
};

static inline struct wg_slab_chunk *chunk_of(const void *obj)
{
	return (struct wg_slab_chunk *)RTE_ALIGN_FLOOR((uintptr_t)obj, (uintptr_t)WG_SLAB_CHUNK_MAX);
}

static inline void *slot(const struct wg_slab *s, struct wg_slab_chunk *c, uint32_t i)
{
	return (uint8_t *)c + s->first + (size_t)i * s->size;
}

static void list_del(struct wg_slab_list *l, struct wg_slab_chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
}

static void list_add_head(struct wg_slab_list *l, struct wg_slab_chunk *c)
{
	c->prev = NULL;
	c->next = l->head;
	if (l->head)
		l->head->prev = c;
	else
		l->tail = c;
	l->head = c;
}

static void list_add_tail(struct wg_slab_list *l, struct wg_slab_chunk *c)
{
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

int wg_slab_init(struct wg_slab *s, const char *name, size_t size, size_t align, int socket,
		 uint32_t max_chunks)
{
	if (!name || !size || size > WG_SLAB_SIZE_MAX || align < sizeof(void *) || align > 4096 ||
	    !rte_is_power_of_2((uint32_t)align))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->align = (uint32_t)align;
	s->size = (uint32_t)RTE_ALIGN_CEIL(size, align);
	s->first = (uint32_t)RTE_ALIGN_CEIL(sizeof(struct wg_slab_chunk), align);
	s->socket = socket;
	s->max_chunks = max_chunks;
	return 0;
}

/* a chunk, empty, at the head of s->partial; NULL (s unchanged) when there is none to be had */
static struct wg_slab_chunk *chunk_new(struct wg_slab *s)
{
	uint64_t n = s->st.chunks < CHUNK_GROWTH ? s->st.chunks : CHUNK_GROWTH;
	uint32_t bytes = (WG_SLAB_CHUNK_MIN << n) - CHUNK_SLACK;
	struct wg_slab_chunk *c;

	if (s->max_chunks && s->st.chunks >= s->max_chunks)
		return NULL;
	c = rte_zmalloc_socket(s->name, bytes, WG_SLAB_CHUNK_MAX, s->socket);
	if (!c)
		return NULL;
	c->slab = s;
	c->bytes = bytes;
	c->capacity = (bytes - s->first) / s->size;
	POISON(slot(s, c, 0), (size_t)c->capacity * s->size);
	list_add_head(&s->partial, c);
	s->st.chunks++;
	s->st.bytes += bytes;
	s->st.capacity += c->capacity;
	s->st.chunk_allocs++;
	return c;
}

static void chunk_free(struct wg_slab *s, struct wg_slab_chunk *c, bool wipe)
{
	s->st.chunks--;
	s->st.bytes -= c->bytes;
	s->st.capacity -= c->capacity;
	s->st.chunk_frees++;
	/* the heap reuses it for anything: no poison may stay behind */
	UNPOISON(c, c->bytes);
	if (wipe)
		wg_secure_wipe(c, c->bytes);
	rte_free(c);
}

void *wg_slab_alloc(struct wg_slab *s)
{
	struct wg_slab_chunk *c = s->partial.head;
	void *obj;

	if (!c && !(c = chunk_new(s))) {
		s->st.failures++;
		return NULL;
	}
	if (c->carved < c->capacity) {
		obj = slot(s, c, c->carved++);
		UNPOISON(obj, s->size);
	} else {
		obj = c->free_head;
		UNPOISON(obj, s->size);
		c->free_head = *(void **)obj;
		if (!c->free_head)
			c->free_tail = NULL;
	}
	memset(obj, 0, s->size);
	if (++c->used == c->capacity) {
		list_del(&s->partial, c);
		list_add_tail(&s->full, c);
	}
	s->st.objects++;
	return obj;
}

#if WG_SLAB_ASAN
/* a free slot, or not one of s's: say so, then let ASan report the access with its stack */
static void check_in_use(const struct wg_slab *s, const struct wg_slab_chunk *c, const void *obj)
{
	uintptr_t off = (uintptr_t)obj - (uintptr_t)c;

	if (c->slab != s || off < s->first || (off - s->first) % s->size ||
	    (off - s->first) / s->size >= c->carved) {
		fprintf(stderr, "wg_slab_free(%s): %p is not an object of this slab\n", s->name, obj);
		abort();
	}
	if (__asan_address_is_poisoned(obj)) {
		fprintf(stderr, "wg_slab_free(%s): double free of %p\n", s->name, obj);
		(void)*(const volatile uint8_t *)obj;
		abort();
	}
}
#endif

void wg_slab_free(struct wg_slab *s, void *obj)
{
	struct wg_slab_chunk *c;
	bool was_full;

	if (!obj)
		return;
	c = chunk_of(obj);
#if WG_SLAB_ASAN
	check_in_use(s, c, obj);
#endif
	was_full = c->used == c->capacity;
	s->st.objects--;
	if (--c->used == 0 && s->st.chunks > s->min_chunks) {
		list_del(was_full ? &s->full : &s->partial, c);
		wg_secure_wipe(obj, s->size);
		chunk_free(s, c, false);
		return;
	}
	wg_secure_wipe(obj, s->size); /* the link below is NULL: it goes last */
	if (c->free_tail) {
		UNPOISON(c->free_tail, sizeof(void *));
		*(void **)c->free_tail = obj;
		POISON(c->free_tail, sizeof(void *));
	} else {
		c->free_head = obj;
	}
	c->free_tail = obj;
	POISON(obj, s->size);
	if (was_full) {
		list_del(&s->full, c);
		list_add_tail(&s->partial, c);
	}
}

void wg_slab_stats(const struct wg_slab *s, struct wg_slab_stats *st)
{
	*st = s->st;
}

uint64_t wg_slab_destroy(struct wg_slab *s)
{
	uint64_t live = s->st.objects;
	struct wg_slab_list *lists[2] = { &s->partial, &s->full };

	for (unsigned i = 0; i < 2; i++)
		while (lists[i]->head) {
			struct wg_slab_chunk *c = lists[i]->head;

			list_del(lists[i], c);
			chunk_free(s, c, true);
		}
	s->st.objects = 0;
	return live;
}
