/* SPDX-License-Identifier: MIT */
/*
 * A slab: objects of one size and alignment carved from chunks of the DPDK
 * heap, for what the appliance holds up to a million of (peers, sessions),
 * which would otherwise carry the heap's 128-byte element header each.
 *
 * - Chunks grow: the slab's n-th chunk (n from 0, counting those it holds
 *   now) is 64 KiB << n, at most 1 MiB, less a little so that the heap's
 *   element of a 1 MiB chunk fits in 1 MiB. Taken with rte_zmalloc_socket()
 *   on the slab's socket, every chunk aligned to 1 MiB: an object's chunk is
 *   its address rounded down, so there is no header per object and free is
 *   O(1). The chunk's own header takes its first slot(s).
 * - A chunk whose objects are all free goes back to the heap at once, so a
 *   shrinking set gives memory back (as far as its survivors leave chunks
 *   empty: nothing moves); but a slab keeps min_chunks chunks (0 unless the
 *   owner sets it after wg_slab_init), so one that often empties and fills
 *   again (handshake states) does not take a chunk from the heap each time.
 * - alloc takes the chunk being filled (the first with room; a chunk that
 *   gets room again queues behind it) and there a never-used slot, else the
 *   slot freed longest ago (FIFO), so a freed object is reused as late as
 *   the chunk allows. It is returned zeroed.
 * - free wipes the whole slot (wg_secure_wipe: sessions hold keys). Built
 *   with AddressSanitizer, free slots are poisoned until handed out again:
 *   a use after free reads as use-after-poison, and so does a double free,
 *   at wg_slab_free. Chunks are unpoisoned before they go back to the heap.
 *
 * Locking: none. One thread allocates and frees (for peers and sessions the
 * control thread: the RCU callbacks that free them run from its defer-queue
 * reclaim, and setup and teardown are on the same thread).
 */
#ifndef WG_SLAB_H
#define WG_SLAB_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define WG_SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WG_SLAB_ASAN 1
#endif
#endif
#ifndef WG_SLAB_ASAN
#define WG_SLAB_ASAN 0
#endif

#define WG_SLAB_CHUNK_MIN (64u << 10)        /* the first chunk */
#define WG_SLAB_CHUNK_MAX (1u << 20)         /* the largest, and every chunk's alignment */
#define WG_SLAB_SIZE_MAX (WG_SLAB_CHUNK_MIN / 8) /* objects up to 8 KiB: at most 1/8 lost at a chunk's end */

struct wg_slab_chunk;

/* a list of chunks: zeroed is empty */
struct wg_slab_list {
	struct wg_slab_chunk *head, *tail;
};

struct wg_slab_stats {
	uint64_t objects;                  /* handed out */
	uint64_t chunks;                   /* held from the heap */
	uint64_t bytes;                    /* of those chunks, as asked of the heap */
	uint64_t capacity;                 /* objects those chunks have room for */
	uint64_t chunk_allocs, chunk_frees; /* since wg_slab_init */
	uint64_t failures;                 /* allocs refused: no chunk to be had */
};

/* Zeroed, it is an empty slab that wg_slab_destroy accepts; wg_slab_init makes it usable. */
struct wg_slab {
	const char *name;                  /* the chunks' rte_malloc type: a string that lives on */
	uint32_t size;                     /* slot: the object size rounded up to the alignment */
	uint32_t align;
	uint32_t first;                    /* offset of a chunk's first slot (after its header) */
	int socket;                        /* rte_malloc socket: SOCKET_ID_ANY as rte_zmalloc */
	uint32_t max_chunks;               /* 0: as many as the heap gives */
	uint32_t min_chunks;               /* kept even when empty (set after wg_slab_init; 0: none) */
	struct wg_slab_list partial;       /* chunks with a free slot: allocs take the head */
	struct wg_slab_list full;          /* the others */
	struct wg_slab_stats st;
};

/*
 * Make s a slab of objects of size bytes aligned to align (a power of two,
 * 8 to 4096; size 1 to WG_SLAB_SIZE_MAX) from chunks on socket; max_chunks
 * bounds the chunks it holds at once (0: none). Takes no memory yet.
 * 0 or -EINVAL.
 */
int wg_slab_init(struct wg_slab *s, const char *name, size_t size, size_t align, int socket,
		 uint32_t max_chunks);
/* A zeroed object, or NULL when no chunk can be had (limit, or heap); NULL leaves s as it was but for st.failures. */
void *wg_slab_alloc(struct wg_slab *s);
/* Wipe obj (from wg_slab_alloc on s; NULL: nothing) and take it back; its chunk goes back to the heap when it was the last. */
void wg_slab_free(struct wg_slab *s, void *obj);
void wg_slab_stats(const struct wg_slab *s, struct wg_slab_stats *st);
/*
 * Give every chunk back to the heap, wiped, objects still handed out
 * included (none should be). Returns how many there were. s stays a usable,
 * empty slab.
 */
uint64_t wg_slab_destroy(struct wg_slab *s);

#endif
