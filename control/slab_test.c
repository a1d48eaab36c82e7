/* SPDX-License-Identifier: MIT */
/*
 * The slab (control/slab.h) on a real DPDK EAL (no hugepages, in memory):
 * argument checks; alloc/free patterns from a table, each op followed by a
 * full check (live objects distinct, aligned, inside their chunk, contents
 * intact, counters right); zeroing on alloc and wiping on free; alignment
 * and sizes from a table; chunks going back to the heap when empty and the
 * heap's bytes in use back to where they were; growth of chunks; many
 * objects; failures (a chunk limit, a socket with no memory) that leave the
 * slab unchanged; destroy with objects left; and, under AddressSanitizer,
 * poisoning: a use after free and a double free are reported.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "control/slab.h"
#include "crypto/secure.h"
#include "tests/harness.h"

#if WG_SLAB_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define MAX_LIVE 4096

static int eal_ok;

#define NEED_EAL() REQUIRE_MSG(eal_ok, "EAL did not initialise")

/* bytes in use in the DPDK heap, every socket */
static uint64_t heap_in_use(void)
{
	struct rte_malloc_socket_stats st;
	uint64_t n = 0;

	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats(s, &st) == 0)
			n += st.heap_allocsz_bytes;
	return n;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd_below(uint32_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((((rng * 2685821657736338717ull) >> 32) * n) >> 32);
}

/* ---- a model of the live objects, checked after every op ---- */

struct live {
	uint8_t *obj[MAX_LIVE];
	uint32_t tag[MAX_LIVE];
	unsigned n;
	uint32_t next_tag;
	size_t size; /* as asked */
};

static void fill(uint8_t *p, size_t size, uint32_t tag)
{
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(tag * 131u + i * 7u + 1u);
}

static bool intact(const uint8_t *p, size_t size, uint32_t tag)
{
	for (size_t i = 0; i < size; i++)
		if (p[i] != (uint8_t)(tag * 131u + i * 7u + 1u))
			return false;
	return true;
}

static bool all_zero(const uint8_t *p, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (p[i])
			return false;
	return true;
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* everything that must hold between ops; false (and says what) on the first violation */
static bool consistent(const struct wg_slab *s, const struct live *l)
{
	static uintptr_t sorted[MAX_LIVE];
	struct wg_slab_stats st;
	uint64_t chunks_seen = 0;

	wg_slab_stats(s, &st);
	if (st.objects != l->n) {
		fprintf(stderr, "objects %" PRIu64 ", live %u\n", st.objects, l->n);
		return false;
	}
	if (st.objects > st.capacity || (st.objects && !st.chunks) || (!st.objects && st.chunks)) {
		fprintf(stderr, "objects %" PRIu64 ", capacity %" PRIu64 ", chunks %" PRIu64 "\n", st.objects,
			st.capacity, st.chunks);
		return false;
	}
	if (st.bytes > st.chunks * WG_SLAB_CHUNK_MAX || st.chunk_allocs - st.chunk_frees != st.chunks) {
		fprintf(stderr, "bytes %" PRIu64 " for %" PRIu64 " chunks\n", st.bytes, st.chunks);
		return false;
	}
	for (unsigned i = 0; i < l->n; i++) {
		uintptr_t a = (uintptr_t)l->obj[i];

		if (a % s->align || (a & (WG_SLAB_CHUNK_MAX - 1)) < s->first ||
		    (a & (WG_SLAB_CHUNK_MAX - 1)) + l->size > WG_SLAB_CHUNK_MAX || !intact(l->obj[i], l->size, l->tag[i])) {
			fprintf(stderr, "object %u at %p: misplaced or overwritten\n", i, (void *)l->obj[i]);
			return false;
		}
		sorted[i] = a;
	}
	qsort(sorted, l->n, sizeof(sorted[0]), ptr_cmp);
	for (unsigned i = 1; i < l->n; i++) {
		if (sorted[i] - sorted[i - 1] < s->size) {
			fprintf(stderr, "objects at %p and %p overlap\n", (void *)sorted[i - 1], (void *)sorted[i]);
			return false;
		}
		if ((sorted[i] & ~(uintptr_t)(WG_SLAB_CHUNK_MAX - 1)) !=
		    (sorted[i - 1] & ~(uintptr_t)(WG_SLAB_CHUNK_MAX - 1)))
			chunks_seen++;
	}
	if (l->n && chunks_seen + 1 > st.chunks) {
		fprintf(stderr, "objects in %" PRIu64 " chunks, %" PRIu64 " held\n", chunks_seen + 1, st.chunks);
		return false;
	}
	return true;
}

static bool do_alloc(struct wg_slab *s, struct live *l)
{
	uint8_t *p = wg_slab_alloc(s);

	if (!p || l->n == MAX_LIVE)
		return false;
	if (!all_zero(p, s->size)) {
		fprintf(stderr, "object at %p not zeroed\n", (void *)p);
		return false;
	}
	l->obj[l->n] = p;
	l->tag[l->n] = l->next_tag++;
	fill(p, l->size, l->tag[l->n]);
	l->n++;
	return true;
}

static void do_free(struct wg_slab *s, struct live *l, unsigned i)
{
	wg_slab_free(s, l->obj[i]);
	l->n--;
	l->obj[i] = l->obj[l->n];
	l->tag[i] = l->tag[l->n];
}

/*
 * Patterns: a string of ops, each a letter and a count.
 *   a N  allocate N                 f N  free the N oldest live (in order)
 *   r N  free the N newest          x N  free N at random
 *   i N  N times: allocate 2, free one at random
 *   e    every object freed, newest first; the slab must hold no chunk
 */
struct pattern {
	const char *name;
	const char *ops;
	size_t size;
	unsigned chunks_at_end;
};

static const struct pattern patterns[] = {
	{ "one", "a1 f1 e", 1152, 0 },
	{ "fifo", "a300 f300 e", 1088, 0 },
	{ "lifo", "a300 r300 e", 1088, 0 },
	{ "random", "a1000 x1000 e", 1152, 0 },
	{ "refill", "a500 x250 a250 x400 a100 e", 1152, 0 },
	{ "interleaved", "i800 x100 i300 e", 1088, 0 },
	{ "exactly one chunk", "a56 f56 a56 e", 1152, 0 },   /* 56 fit in the 64 KiB chunk */
	{ "one past a chunk", "a57 f1 r56 e", 1152, 0 },
	{ "keep some", "a700 x350", 1152, 1 },              /* chunks_at_end: at least */
	{ "small objects", "a3000 x2000 a1000 e", 24, 0 },
	{ "tiny objects", "a4000 r1000 x2000 e", 1, 0 },
};

static void run_pattern(const struct pattern *pt)
{
	static struct live l;
	struct wg_slab s;
	struct wg_slab_stats st;
	uint64_t heap0 = heap_in_use();
	const char *op = pt->ops;
	unsigned ops = 0;
	bool ok = true;

	memset(&l, 0, sizeof(l));
	l.size = pt->size;
	CHECK(wg_slab_init(&s, "slab_test", pt->size, 64, SOCKET_ID_ANY, 0) == 0);
	while (ok && *op) {
		char c = *op++;
		unsigned n = (unsigned)strtoul(op, (char **)&op, 10);

		for (unsigned k = 0; ok && k < n; k++) {
			switch (c) {
			case 'a':
				ok = do_alloc(&s, &l);
				break;
			case 'f':
				/* the oldest: the lowest tag */
				if (l.n) {
					unsigned m = 0;

					for (unsigned j = 1; j < l.n; j++)
						if (l.tag[j] < l.tag[m])
							m = j;
					do_free(&s, &l, m);
				}
				break;
			case 'r':
				if (l.n) {
					unsigned m = 0;

					for (unsigned j = 1; j < l.n; j++)
						if (l.tag[j] > l.tag[m])
							m = j;
					do_free(&s, &l, m);
				}
				break;
			case 'x':
				if (l.n)
					do_free(&s, &l, rnd_below(l.n));
				break;
			case 'i':
				ok = do_alloc(&s, &l) && do_alloc(&s, &l);
				if (ok)
					do_free(&s, &l, rnd_below(l.n));
				break;
			}
			/* the full check is O(n log n + n * size): after every op while small, then now and then */
			if (ok && (l.n < 300 || ++ops % 61 == 0 || k + 1 == n))
				ok = consistent(&s, &l);
		}
		if (c == 'e') {
			while (l.n)
				do_free(&s, &l, l.n - 1);
			wg_slab_stats(&s, &st);
			CHECK_MSG(st.chunks == 0 && st.bytes == 0 && st.objects == 0,
				  "%s: %" PRIu64 " chunks, %" PRIu64 " bytes left", pt->name, st.chunks, st.bytes);
			CHECK_MSG(heap_in_use() == heap0, "%s: heap %" PRIu64 " bytes, was %" PRIu64, pt->name,
				  heap_in_use(), heap0);
		}
		while (*op == ' ')
			op++;
	}
	CHECK_MSG(ok, "pattern %s failed at `%s'", pt->name, op);
	wg_slab_stats(&s, &st);
	CHECK_MSG(st.chunks >= pt->chunks_at_end && (pt->chunks_at_end || st.chunks == 0), "%s: %" PRIu64 " chunks",
		  pt->name, st.chunks);
	CHECK(wg_slab_destroy(&s) == l.n);
	CHECK(heap_in_use() == heap0);
}

static void test_patterns(void)
{
	NEED_EAL();
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		run_pattern(&patterns[i]);
}

static void test_init_args(void)
{
	static const struct {
		size_t size, align;
		int ret;
	} cases[] = {
		{ 0, 64, -EINVAL },    { 1, 64, 0 },         { 1088, 64, 0 },     { 1152, 64, 0 },
		{ 8192, 64, 0 },       { 8193, 64, -EINVAL }, { 100, 48, -EINVAL }, { 100, 4, -EINVAL },
		{ 100, 0, -EINVAL },   { 100, 8, 0 },        { 100, 4096, 0 },    { 100, 8192, -EINVAL },
		{ SIZE_MAX, 64, -EINVAL },
	};
	struct wg_slab s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = wg_slab_init(&s, "slab_test", cases[i].size, cases[i].align, SOCKET_ID_ANY, 0);

		CHECK_MSG(ret == cases[i].ret, "size %zu align %zu: %d", cases[i].size, cases[i].align, ret);
		if (!ret) {
			CHECK(s.size >= cases[i].size && s.size % cases[i].align == 0);
			CHECK(s.size - cases[i].size < cases[i].align);
		}
	}
	CHECK(wg_slab_init(&s, NULL, 64, 64, SOCKET_ID_ANY, 0) == -EINVAL);
	/* a zeroed slab is empty: destroy is fine */
	memset(&s, 0, sizeof(s));
	CHECK(wg_slab_destroy(&s) == 0);
}

/* sizes and alignments: every object aligned, in bounds, slots exactly the rounded size apart */
static void test_alignment(void)
{
	static const struct {
		size_t size, align;
	} cases[] = {
		{ 8, 8 }, { 24, 8 }, { 24, 16 }, { 1088, 64 }, { 1152, 64 }, { 1000, 128 }, { 4000, 4096 }, { 8192, 4096 },
	};

	NEED_EAL();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static uint8_t *objs[2000];
		struct wg_slab s;
		unsigned bad = 0;

		CHECK(wg_slab_init(&s, "slab_test", cases[i].size, cases[i].align, SOCKET_ID_ANY, 0) == 0);
		for (unsigned k = 0; k < 2000; k++) {
			uintptr_t a;

			objs[k] = wg_slab_alloc(&s);
			a = (uintptr_t)objs[k];
			if (!objs[k] || a % cases[i].align || (a & (WG_SLAB_CHUNK_MAX - 1)) < s.first ||
			    (a & (WG_SLAB_CHUNK_MAX - 1)) + cases[i].size > WG_SLAB_CHUNK_MAX)
				bad++;
			else
				memset(objs[k], 0xee, cases[i].size); /* all of it is ours (ASan would say) */
			/* fresh slots are handed out in order within a chunk */
			if (k && objs[k] && objs[k - 1] &&
			    (a & ~(uintptr_t)(WG_SLAB_CHUNK_MAX - 1)) ==
				    ((uintptr_t)objs[k - 1] & ~(uintptr_t)(WG_SLAB_CHUNK_MAX - 1)) &&
			    a - (uintptr_t)objs[k - 1] != s.size)
				bad++;
		}
		CHECK_MSG(bad == 0, "size %zu align %zu: %u bad", cases[i].size, cases[i].align, bad);
		for (unsigned k = 0; k < 2000; k++)
			wg_slab_free(&s, objs[k]);
		CHECK(wg_slab_destroy(&s) == 0);
	}
}

/* alloc zeroes even a slot that was dirtied; free wipes (all but the free-list word) */
static void test_zero_and_wipe(void)
{
	static uint8_t *objs[200];
	struct wg_slab s;
	uint8_t *keep, *victim;
	unsigned dirty = 0;

	NEED_EAL();
	CHECK(wg_slab_init(&s, "slab_test", 1152, 64, SOCKET_ID_ANY, 0) == 0);
	keep = wg_slab_alloc(&s); /* so the chunk stays */
	victim = wg_slab_alloc(&s);
	memset(victim, 0xa5, 1152);
	wg_slab_free(&s, victim);
#if WG_SLAB_ASAN
	CHECK(__asan_address_is_poisoned(victim));
	CHECK(__asan_region_is_poisoned(victim, 1152) == victim);
	ASAN_UNPOISON_MEMORY_REGION(victim, 1152);
#endif
	/* its first word links the free list (NULL: the only one); the rest is wiped */
	CHECK(all_zero(victim, 1152));
#if WG_SLAB_ASAN
	ASAN_POISON_MEMORY_REGION(victim, 1152);
#endif
	/* the victim comes back only after every never-used slot: take them all */
	for (unsigned k = 0; k < 200; k++) {
		objs[k] = wg_slab_alloc(&s);
		if (!objs[k] || !all_zero(objs[k], 1152))
			dirty++;
		if (objs[k]) {
			memset(objs[k], 0x5a, 1152);
#if WG_SLAB_ASAN
			CHECK(__asan_region_is_poisoned(objs[k], 1152) == NULL);
#endif
		}
	}
	CHECK(dirty == 0);
	{
		bool reused = false;

		for (unsigned k = 0; k < 200; k++)
			reused |= objs[k] == victim;
		CHECK(reused); /* the first chunk holds 56: the victim was handed out again, zeroed */
	}
	/* slots freed in the full first chunk wait: the chunk being filled (the newest) goes first */
	wg_slab_free(&s, objs[10]);
	wg_slab_free(&s, objs[20]);
	{
		uint8_t *a = wg_slab_alloc(&s), *b;

		b = wg_slab_alloc(&s);
		CHECK(a && b && a != objs[10] && a != objs[20] && b != objs[10] && b != objs[20]);
		CHECK(a && b && all_zero(a, 1152) && all_zero(b, 1152));
		wg_slab_free(&s, a);
		wg_slab_free(&s, b);
	}
	for (unsigned k = 0; k < 200; k++)
		if (k != 10 && k != 20)
			wg_slab_free(&s, objs[k]);
	wg_slab_free(&s, keep);
	CHECK(s.st.chunks == 0);
	CHECK(wg_slab_destroy(&s) == 0);
}

/* FIFO within a chunk: the slot freed longest ago is the next reused once the fresh ones are gone */
static void test_reuse_order(void)
{
	static uint8_t *objs[56];
	struct wg_slab s;

	NEED_EAL();
	CHECK(wg_slab_init(&s, "slab_test", 1152, 64, SOCKET_ID_ANY, 0) == 0);
	for (unsigned k = 0; k < 56; k++) /* exactly the first chunk */
		objs[k] = wg_slab_alloc(&s);
	CHECK(s.st.chunks == 1 && s.st.capacity == 56);
	wg_slab_free(&s, objs[7]);
	wg_slab_free(&s, objs[3]);
	wg_slab_free(&s, objs[40]);
	CHECK(wg_slab_alloc(&s) == objs[7]);
	CHECK(wg_slab_alloc(&s) == objs[3]);
	CHECK(wg_slab_alloc(&s) == objs[40]);
	CHECK(s.st.chunks == 1);
	for (unsigned k = 0; k < 56; k++)
		wg_slab_free(&s, objs[k]);
	CHECK(s.st.chunks == 0);
	CHECK(wg_slab_destroy(&s) == 0);
}

/* chunks grow 64 KiB .. 1 MiB; an empty one goes back at once, the heap's bytes with it */
static void test_chunk_release(void)
{
	static uint8_t *objs[3000];
	struct wg_slab s;
	static const uint64_t want[6] = { 64, 128, 256, 512, 1024, 1024 }; /* KiB */
	uint64_t heap0 = heap_in_use(), held = 0, heap_full;
	unsigned n = 0, first_of[7] = { 0 }, c = 0;

	NEED_EAL();
	CHECK(wg_slab_init(&s, "slab_test", 1152, 64, SOCKET_ID_ANY, 0) == 0);
	/* fill six chunks exactly, noting where each starts: a chunk is filled before the next is taken */
	while (!(s.st.chunks == 6 && s.st.objects == s.st.capacity)) {
		uint64_t before = s.st.chunks;

		objs[n] = wg_slab_alloc(&s);
		if (!objs[n] || n + 1 == sizeof(objs) / sizeof(objs[0])) {
			CHECK_MSG(0, "alloc %u", n);
			return;
		}
		if (s.st.chunks != before) {
			first_of[c] = n;
			CHECK_MSG(s.st.bytes - held == want[c] * 1024 - 256, "chunk %u: %" PRIu64 " bytes", c,
				  s.st.bytes - held);
			c++;
		}
		held = s.st.bytes;
		n++;
	}
	first_of[6] = n;
	CHECK(n == 56 + 113 + 227 + 454 + 909 + 909);
	CHECK(s.st.bytes == (64 + 128 + 256 + 512 + 1024 + 1024) * 1024ull - 6 * 256);
	heap_full = heap_in_use();
	/* the heap spends no more than its header (and the slack) on a chunk */
	CHECK_MSG(heap_full - heap0 <= s.st.bytes + 6 * 512, "heap grew %" PRIu64 " for %" PRIu64,
		  heap_full - heap0, s.st.bytes);
	/* empty the third chunk (256 KiB): exactly it goes back */
	for (unsigned k = first_of[2]; k < first_of[3]; k++)
		wg_slab_free(&s, objs[k]);
	CHECK(s.st.chunks == 5);
	CHECK(s.st.bytes == (64 + 128 + 512 + 1024 + 1024) * 1024ull - 5 * 256);
	CHECK(heap_full - heap_in_use() >= 256 * 1024 - 256);
	/* all but one object of the last chunk: it stays */
	for (unsigned k = first_of[5] + 1; k < first_of[6]; k++)
		wg_slab_free(&s, objs[k]);
	CHECK(s.st.chunks == 5);
	/* allocations go to chunks with room: the last chunk refills before a new one is taken */
	for (unsigned k = first_of[5] + 1; k < first_of[6]; k++)
		objs[k] = wg_slab_alloc(&s);
	CHECK(s.st.chunks == 5);
	/* everything: nothing held, the heap as it was */
	for (unsigned k = 0; k < n; k++)
		if (k < first_of[2] || k >= first_of[3])
			wg_slab_free(&s, objs[k]);
	CHECK(s.st.chunks == 0 && s.st.bytes == 0 && s.st.objects == 0 && s.st.capacity == 0);
	CHECK(s.st.chunk_allocs == 6 && s.st.chunk_frees == 6);
	CHECK(heap_in_use() == heap0);
	CHECK(wg_slab_destroy(&s) == 0);
}

/* min_chunks: a slab that empties and fills again keeps its chunk; beyond it chunks go back */
static void test_min_chunks(void)
{
	static void *objs[600];
	struct wg_slab s;
	uint64_t heap0 = heap_in_use();
	unsigned n = 0;

	NEED_EAL();
	CHECK(wg_slab_init(&s, "slab_test", 128, 64, SOCKET_ID_ANY, 0) == 0);
	s.min_chunks = 1;
	for (int k = 0; k < 1000; k++) {
		void *o = wg_slab_alloc(&s);

		CHECK(o && s.st.objects == 1);
		wg_slab_free(&s, o);
		CHECK(s.st.objects == 0 && s.st.chunks == 1);
	}
	CHECK(s.st.chunk_allocs == 1 && s.st.chunk_frees == 0);
	/* a second chunk, once emptied, goes back; the first stays */
	while (s.st.chunks < 2 && n < sizeof(objs) / sizeof(objs[0]))
		objs[n++] = wg_slab_alloc(&s);
	CHECK(s.st.chunks == 2);
	while (n)
		wg_slab_free(&s, objs[--n]);
	CHECK(s.st.chunks == 1 && s.st.objects == 0 && s.st.chunk_frees == 1);
	CHECK(wg_slab_destroy(&s) == 0);
	CHECK(s.st.chunks == 0 && heap_in_use() == heap0);
}

/* 100,000 peers' worth: the slab's overhead, then random frees down to nothing */
static void test_many(void)
{
	enum { N = 100000 };
	static uint8_t *objs[N];
	struct wg_slab s;
	uint64_t heap0 = heap_in_use(), bad = 0;
	double per_obj;

	NEED_EAL();
	CHECK(wg_slab_init(&s, "slab_test", 1152, 64, SOCKET_ID_ANY, 0) == 0);
	for (unsigned k = 0; k < N; k++) {
		objs[k] = wg_slab_alloc(&s);
		if (!objs[k]) {
			CHECK_MSG(objs[k], "alloc %u failed", k);
			return;
		}
		memcpy(objs[k], &k, sizeof(k));
		memcpy(objs[k] + 1148, &k, sizeof(k));
	}
	per_obj = (double)(heap_in_use() - heap0) / N;
	printf("# slab: %u objects of 1152 bytes in %" PRIu64 " chunks (room for %" PRIu64 "): %.1f heap bytes each, "
	       "%.1f per slot\n", N, s.st.chunks, s.st.capacity, per_obj, (double)s.st.bytes / (double)s.st.capacity);
	/* the slots cost their size and 0.2% more; the heap adds at most 512 bytes per chunk */
	CHECK((double)s.st.bytes / (double)s.st.capacity < 1152 * 1.002);
	CHECK(heap_in_use() - heap0 <= s.st.bytes + 512 * s.st.chunks);
	CHECK(s.st.objects == N && s.st.capacity - N < 909);
	for (unsigned k = 0; k < N; k++) {
		unsigned a, b;

		memcpy(&a, objs[k], sizeof(a));
		memcpy(&b, objs[k] + 1148, sizeof(b));
		bad += a != k || b != k;
	}
	CHECK(bad == 0);
	/* free in random order (Fisher-Yates over the array) */
	for (unsigned k = N; k > 0; k--) {
		unsigned j = rnd_below(k);
		uint8_t *t = objs[j];

		objs[j] = objs[k - 1];
		objs[k - 1] = t;
		wg_slab_free(&s, t);
		if (k == N / 2)
			CHECK(s.st.chunks > 0 && s.st.objects == k - 1);
	}
	CHECK(s.st.chunks == 0 && s.st.objects == 0);
	CHECK(heap_in_use() == heap0);
	CHECK(wg_slab_destroy(&s) == 0);
}

static bool same(const struct wg_slab *a, const struct wg_slab *b)
{
	return a->name == b->name && a->size == b->size && a->align == b->align && a->first == b->first &&
	       a->socket == b->socket && a->max_chunks == b->max_chunks && a->partial.head == b->partial.head &&
	       a->partial.tail == b->partial.tail && a->full.head == b->full.head && a->full.tail == b->full.tail &&
	       memcmp(&a->st, &b->st, sizeof(a->st)) == 0;
}

/*
 * Take every free block of the DPDK heap that could hold a chunk, so that
 * rte_zmalloc_socket fails for real. Returns how many blocks it took.
 */
static unsigned hog_heap(void **hogs, unsigned max)
{
	unsigned n = 0;

	while (n < max) {
		struct rte_malloc_socket_stats st;
		size_t big = 0;

		for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
			if (rte_malloc_get_socket_stats(s, &st) == 0 && st.greatest_free_size > big)
				big = st.greatest_free_size;
		if (big < 16384)
			break;
		for (big -= 1024; big >= 16384 && !(hogs[n] = rte_malloc("slab_test_hog", big, 0)); big /= 2)
			;
		if (big < 16384)
			break;
		n++;
	}
	return n;
}

/* no chunk to be had: NULL, and the slab is as it was but for the failure count */
static void test_failure(void)
{
	static const struct {
		const char *name;
		uint32_t max_chunks;
		unsigned hog_after;    /* objects allocated before the heap is exhausted; UINT32_MAX: never */
		unsigned fits;         /* objects of 1152 before the first NULL */
	} cases[] = {
		{ "limit 1", 1, UINT32_MAX, 56 },
		{ "limit 2", 2, UINT32_MAX, 56 + 113 },
		{ "limit 3", 3, UINT32_MAX, 56 + 113 + 227 },
		{ "heap exhausted", 0, 0, 0 },
		{ "heap exhausted, one chunk held", 0, 30, 56 },
		{ "heap exhausted, two chunks held", 0, 100, 56 + 113 },
	};

	NEED_EAL();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct live l;
		static void *hogs[256];
		struct wg_slab s, before;
		uint64_t heap0 = heap_in_use(), heap1;
		unsigned got = 0, n_hogs = 0;

		memset(&l, 0, sizeof(l));
		l.size = 1152;
		CHECK(wg_slab_init(&s, "slab_test", 1152, 64, SOCKET_ID_ANY, cases[i].max_chunks) == 0);
		for (;;) {
			if (got == cases[i].hog_after)
				n_hogs = hog_heap(hogs, 256);
			if (got == 1000 || !do_alloc(&s, &l))
				break;
			got++;
		}
		CHECK_MSG(got == cases[i].fits, "%s: %u fit", cases[i].name, got);
		CHECK(cases[i].hog_after == UINT32_MAX || n_hogs > 0);
		/* l.obj holds the got objects; the failed allocs leave nothing behind */
		before = s;
		heap1 = heap_in_use();
		CHECK(wg_slab_alloc(&s) == NULL);
		CHECK(wg_slab_alloc(&s) == NULL);
		before.st.failures += 2;
		CHECK_MSG(same(&before, &s), "%s: a failed alloc changed the slab", cases[i].name);
		CHECK(heap_in_use() == heap1);
		CHECK(consistent(&s, &l));
		if (got) {
			/* one freed: room again, the same slot */
			uint8_t *p = l.obj[got / 2];

			do_free(&s, &l, got / 2);
			CHECK(wg_slab_alloc(&s) == p);
			CHECK(wg_slab_alloc(&s) == NULL);
			wg_slab_free(&s, p);
		}
		while (n_hogs)
			rte_free(hogs[--n_hogs]);
		/* and with memory back, it grows again */
		CHECK(cases[i].max_chunks || do_alloc(&s, &l));
		while (l.n)
			do_free(&s, &l, 0);
		/* the one that ended the loop, the two above, and (with room before) the one after the free */
		CHECK(s.st.chunks == 0 && s.st.failures == (got ? 4u : 3u));
		CHECK(heap_in_use() == heap0);
		CHECK(wg_slab_destroy(&s) == 0);
	}
}

/* destroy gives back chunks with objects left in them, and says how many */
static void test_destroy_with_objects(void)
{
	struct wg_slab s;
	uint64_t heap0 = heap_in_use();

	NEED_EAL();
	CHECK(wg_slab_init(&s, "slab_test", 1088, 64, SOCKET_ID_ANY, 0) == 0);
	for (unsigned k = 0; k < 500; k++)
		memset(wg_slab_alloc(&s), 0x77, 1088);
	CHECK(s.st.chunks > 1);
	CHECK(wg_slab_destroy(&s) == 500);
	CHECK(s.st.chunks == 0 && s.st.objects == 0 && s.st.bytes == 0);
	CHECK(heap_in_use() == heap0);
	/* and the slab is usable again */
	{
		void *p = wg_slab_alloc(&s);

		CHECK(p != NULL && all_zero(p, 1088));
		wg_slab_free(&s, p);
	}
	CHECK(wg_slab_destroy(&s) == 0);
}

#if WG_SLAB_ASAN
/* run fn in a child; true when it died with ASan's report naming `what' */
static bool child_reports(void (*fn)(struct wg_slab *s), const char *what)
{
	char buf[16384];
	size_t got = 0;
	int fds[2], status;
	ssize_t r;
	pid_t pid;

	if (pipe(fds))
		return false;
	pid = fork();
	if (pid == 0) {
		struct wg_slab s;

		dup2(fds[1], 2);
		close(fds[0]);
		wg_slab_init(&s, "slab_test", 1152, 64, SOCKET_ID_ANY, 0);
		fn(&s);
		_exit(0); /* not reported */
	}
	close(fds[1]);
	while (got < sizeof(buf) - 1 && (r = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return false;
	return strstr(buf, what) != NULL;
}

static void use_after_free(struct wg_slab *s)
{
	volatile uint8_t *p = wg_slab_alloc(s), *keep = wg_slab_alloc(s);

	(void)keep;
	wg_slab_free(s, (void *)p);
	p[100] = 1;
}

static void read_after_free(struct wg_slab *s)
{
	uint64_t *p = wg_slab_alloc(s), *keep = wg_slab_alloc(s);
	volatile uint64_t v;

	(void)keep;
	wg_slab_free(s, p);
	v = p[3];
	(void)v;
}

static void double_free(struct wg_slab *s)
{
	void *p = wg_slab_alloc(s), *keep = wg_slab_alloc(s);

	(void)keep;
	wg_slab_free(s, p);
	wg_slab_free(s, p);
}

/* the control: alloc, free, alloc again and use it */
static void no_bug(struct wg_slab *s)
{
	uint8_t *p = wg_slab_alloc(s);

	wg_slab_free(s, p);
	p = wg_slab_alloc(s);
	((volatile uint8_t *)p)[100] = 1;
	wg_slab_free(s, p);
}

static void never_used(struct wg_slab *s)
{
	uint8_t *p = wg_slab_alloc(s);

	((volatile uint8_t *)p)[1152 + 8] = 1; /* the next slot, not handed out */
}
#endif

static void test_asan(void)
{
#if WG_SLAB_ASAN
	NEED_EAL();
	CHECK(!child_reports(no_bug, "AddressSanitizer"));
	CHECK(child_reports(use_after_free, "use-after-poison"));
	CHECK(child_reports(read_after_free, "use-after-poison"));
	CHECK(child_reports(double_free, "double free"));
	CHECK(child_reports(never_used, "use-after-poison"));
#else
	SKIP_TEST("not built with AddressSanitizer");
#endif
}

int main(void)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "--file-prefix=wgslab%d", getpid());
	char *argv[] = { "slab_test", "-l", "0", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
			 prefix, "--log-level=lib.*:error", NULL };
	TEST_BEGIN("control/slab_test");
	wg_crypto_init();
	eal_ok = rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) >= 0;
	RUN_TEST(test_init_args);
	RUN_TEST(test_patterns);
	RUN_TEST(test_alignment);
	RUN_TEST(test_zero_and_wipe);
	RUN_TEST(test_reuse_order);
	RUN_TEST(test_chunk_release);
	RUN_TEST(test_min_chunks);
	RUN_TEST(test_many);
	RUN_TEST(test_failure);
	RUN_TEST(test_destroy_with_objects);
	RUN_TEST(test_asan);
	if (eal_ok)
		rte_eal_cleanup();
	return TEST_END();
}
