/* SPDX-License-Identifier: MIT */
/*
 * Allowed-IPs table tests.
 *
 * The test_kernel_* tests reproduce the fixed cases of the Linux kernel's
 * selftest (drivers/net/wireguard/selftest/allowedips.c): its insert table
 * and lookup table (peers a..h), the remove-by-peer cases, the 128 /128
 * prefixes that each differ from all-ones in one bit, and the walk of one
 * peer's prefixes with their host bits masked off.
 *
 * The rest pin our API and promises: argument errors, masking, moves to a
 * new owner, single-prefix removal, both default routes and the v4 first
 * level, a randomized comparison with a naive model (interleaved removals,
 * single and bulk lookups, boundaries), removals that leave no trace,
 * defer_free seeing every unlinked node exactly once, the O(k) cost of
 * removal by owner in a table of a million prefixes, a million prefixes of
 * both families, and readers running lock-free against the writer.
 *
 * Nodes handed to defer_free are poisoned at once and freed at the next
 * quiescent point of the test, so a node unlinked while still reachable
 * makes a later lookup crash or fail. Random tests print their seed;
 * WG_TEST_SEED=n replays one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dataplane/allowedips.h"
#include "tests/harness.h"

/* ---- helpers ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd64(struct rng *r) /* splitmix64 */
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rndn(struct rng *r, uint32_t n) /* 0..n-1 */
{
	return (uint32_t)(((rnd64(r) >> 32) * n) >> 32);
}

static void rnd_bytes(struct rng *r, uint8_t *a, size_t len)
{
	for (size_t i = 0; i < len; i++)
		a[i] = (uint8_t)rnd64(r);
}

static uint64_t test_seed(void)
{
	const char *env = getenv("WG_TEST_SEED");
	uint64_t s = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);

	printf("# %s: seed %" PRIu64 "\n", wg_test_name, s);
	return s;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void set4(uint8_t *a, unsigned int b0, unsigned int b1, unsigned int b2, unsigned int b3)
{
	a[0] = (uint8_t)b0;
	a[1] = (uint8_t)b1;
	a[2] = (uint8_t)b2;
	a[3] = (uint8_t)b3;
}

static void set6(uint8_t *a, uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3)
{
	uint32_t w[4] = { w0, w1, w2, w3 };

	for (int i = 0; i < 4; i++) {
		a[4 * i] = (uint8_t)(w[i] >> 24);
		a[4 * i + 1] = (uint8_t)(w[i] >> 16);
		a[4 * i + 2] = (uint8_t)(w[i] >> 8);
		a[4 * i + 3] = (uint8_t)w[i];
	}
}

static unsigned int fam_len(int fam)
{
	return fam == AF_INET ? 4 : 16;
}

/* zero the bits of a[0..len) beyond cidr */
static void mask_bytes(uint8_t *a, unsigned int len, unsigned int cidr)
{
	for (unsigned int i = 0; i < len; i++) {
		unsigned int keep = cidr >= 8 * (i + 1) ? 8 : cidr > 8 * i ? cidr - 8 * i : 0;

		a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* big-endian a += 1 (inc) or a -= 1, wrapping */
static void step_addr(uint8_t *a, unsigned int len, bool inc)
{
	for (unsigned int i = len; i-- > 0;) {
		a[i] = (uint8_t)(a[i] + (inc ? 1 : -1));
		if (a[i] != (inc ? 0x00 : 0xff))
			break;
	}
}

/*
 * Test side of the defer-free contract: every node is poisoned when handed
 * over and freed at the next flush (a quiescent point); flush reports
 * pointers handed over twice.
 */
struct dfree {
	void **p;
	size_t n, cap;
	uint64_t total, dups;
};

static void dfree_cb(void *ctx, void *node)
{
	struct dfree *d = ctx;

	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 1024;
		d->p = realloc(d->p, d->cap * sizeof(*d->p));
		if (!d->p)
			abort();
	}
	d->p[d->n++] = node;
	d->total++;
	memset(node, 0x5a, malloc_usable_size(node));
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;

	return x < y ? -1 : x > y;
}

static void dfree_flush(struct dfree *d)
{
	if (d->n)
		qsort(d->p, d->n, sizeof(*d->p), cmp_ptr);
	for (size_t i = 0; i < d->n; i++) {
		if (i && d->p[i] == d->p[i - 1]) {
			d->dups++;
			continue;
		}
		wg_allowedips_node_free(d->p[i]);
	}
	d->n = 0;
}

static void dfree_done(struct dfree *d)
{
	dfree_flush(d);
	CHECK_MSG(d->dups == 0, "%" PRIu64 " nodes handed to defer_free twice", d->dups);
	free(d->p);
	memset(d, 0, sizeof(*d));
}

#define CHECK_TABLE(t, owners, n)                                                                  \
	do {                                                                                       \
		const char *why_ = "?";                                                            \
		CHECK_MSG(wg_allowedips_check((t), (owners), (n), &why_), "check: %s", why_);      \
	} while (0)

static struct wg_allowedips_owner **owner_ptrs(struct wg_allowedips_owner *o, size_t n)
{
	struct wg_allowedips_owner **p = malloc(n * sizeof(*p));

	if (!p)
		abort();
	for (size_t i = 0; i < n; i++)
		p[i] = &o[i];
	return p;
}

/* ---- the kernel selftest's fixed cases ---- */

/* v4: w[] are the four bytes; v6: w[] are the four big-endian 32-bit words */
struct kcase {
	int v;
	char who; /* 'a'..'h' */
	uint32_t w[4];
	unsigned int cidr;
};

static const struct kcase kernel_inserts[] = {
	{ 4, 'a', { 192, 168, 4, 0 }, 24 },
	{ 4, 'b', { 192, 168, 4, 4 }, 32 },
	{ 4, 'c', { 192, 168, 0, 0 }, 16 },
	{ 4, 'd', { 192, 95, 5, 64 }, 27 },
	{ 4, 'c', { 192, 95, 5, 65 }, 27 }, /* replaces the previous entry; host bit set */
	{ 6, 'd', { 0x26075300, 0x60006b00, 0, 0xc05f0543 }, 128 },
	{ 6, 'c', { 0x26075300, 0x60006b00, 0, 0 }, 64 },
	{ 4, 'e', { 0, 0, 0, 0 }, 0 },
	{ 6, 'e', { 0, 0, 0, 0 }, 0 },
	{ 6, 'f', { 0, 0, 0, 0 }, 0 }, /* replaces the previous entry */
	{ 6, 'g', { 0x24046800, 0, 0, 0 }, 32 },
	{ 6, 'h', { 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef }, 64 }, /* host bits set */
	{ 6, 'a', { 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef }, 128 },
	{ 6, 'c', { 0x24446800, 0x40e40800, 0xdeaebeef, 0xdefbeef }, 128 },
	{ 6, 'b', { 0x24446800, 0xf0e40800, 0xeeaebeef, 0 }, 98 },
	{ 4, 'g', { 64, 15, 112, 0 }, 20 },
	{ 4, 'h', { 64, 15, 123, 211 }, 25 }, /* host bits set */
	{ 4, 'a', { 10, 0, 0, 0 }, 25 },
	{ 4, 'b', { 10, 0, 0, 128 }, 25 },
	{ 4, 'a', { 10, 1, 0, 0 }, 30 },
	{ 4, 'b', { 10, 1, 0, 4 }, 30 },
	{ 4, 'c', { 10, 1, 0, 8 }, 29 },
	{ 4, 'd', { 10, 1, 0, 16 }, 29 },
};

static const struct kcase kernel_lookups[] = {
	{ 4, 'a', { 192, 168, 4, 20 }, 0 },
	{ 4, 'a', { 192, 168, 4, 0 }, 0 },
	{ 4, 'b', { 192, 168, 4, 4 }, 0 },
	{ 4, 'c', { 192, 168, 200, 182 }, 0 },
	{ 4, 'c', { 192, 95, 5, 68 }, 0 },
	{ 4, 'e', { 192, 95, 5, 96 }, 0 },
	{ 6, 'd', { 0x26075300, 0x60006b00, 0, 0xc05f0543 }, 0 },
	{ 6, 'c', { 0x26075300, 0x60006b00, 0, 0xc02e01ee }, 0 },
	{ 6, 'f', { 0x26075300, 0x60006b01, 0, 0 }, 0 },
	{ 6, 'g', { 0x24046800, 0x40040806, 0, 0x1006 }, 0 },
	{ 6, 'g', { 0x24046800, 0x40040806, 0x1234, 0x5678 }, 0 },
	{ 6, 'f', { 0x240467ff, 0x40040806, 0x1234, 0x5678 }, 0 },
	{ 6, 'f', { 0x24046801, 0x40040806, 0x1234, 0x5678 }, 0 },
	{ 6, 'h', { 0x24046800, 0x40040800, 0x1234, 0x5678 }, 0 },
	{ 6, 'h', { 0x24046800, 0x40040800, 0, 0 }, 0 },
	{ 6, 'h', { 0x24046800, 0x40040800, 0x10101010, 0x10101010 }, 0 },
	{ 6, 'a', { 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef }, 0 },
	{ 4, 'g', { 64, 15, 116, 26 }, 0 },
	{ 4, 'g', { 64, 15, 127, 3 }, 0 },
	{ 4, 'g', { 64, 15, 123, 1 }, 0 },
	{ 4, 'h', { 64, 15, 123, 128 }, 0 },
	{ 4, 'h', { 64, 15, 123, 129 }, 0 },
	{ 4, 'a', { 10, 0, 0, 52 }, 0 },
	{ 4, 'b', { 10, 0, 0, 220 }, 0 },
	{ 4, 'a', { 10, 1, 0, 2 }, 0 },
	{ 4, 'b', { 10, 1, 0, 6 }, 0 },
	{ 4, 'c', { 10, 1, 0, 10 }, 0 },
	{ 4, 'd', { 10, 1, 0, 20 }, 0 },
};

static int kfam(const struct kcase *k)
{
	return k->v == 4 ? AF_INET : AF_INET6;
}

static void kaddr(const struct kcase *k, uint8_t a[16])
{
	if (k->v == 4)
		set4(a, k->w[0], k->w[1], k->w[2], k->w[3]);
	else
		set6(a, k->w[0], k->w[1], k->w[2], k->w[3]);
}

static void test_kernel_lookups(void)
{
	struct wg_allowedips_owner peers[8] = { 0 }, *pp[8];
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	uint8_t a[16];

	CHECK(t != NULL);
	if (!t)
		return;
	for (int i = 0; i < 8; i++)
		pp[i] = &peers[i];
	for (size_t i = 0; i < sizeof(kernel_inserts) / sizeof(kernel_inserts[0]); i++) {
		const struct kcase *k = &kernel_inserts[i];

		kaddr(k, a);
		CHECK_MSG(wg_allowedips_insert(t, kfam(k), a, k->cidr, &peers[k->who - 'a']) == 0,
			  "insert %zu", i);
	}
	CHECK_TABLE(t, pp, 8);
	for (size_t i = 0; i < sizeof(kernel_lookups) / sizeof(kernel_lookups[0]); i++) {
		const struct kcase *k = &kernel_lookups[i];
		struct wg_allowedips_owner *got;

		kaddr(k, a);
		got = wg_allowedips_lookup(t, kfam(k), a);
		CHECK_MSG(got == &peers[k->who - 'a'], "lookup %zu: got %c, want %c", i + 1,
			  got ? (char)('a' + (got - peers)) : '-', k->who);
	}
	/* 23 inserts, 2 of them replacements */
	CHECK(wg_allowedips_count(t, AF_INET) == 13);
	CHECK(wg_allowedips_count(t, AF_INET6) == 8);
	CHECK(wg_allowedips_count(t, AF_UNSPEC) == 21);
	wg_allowedips_destroy(t);
	for (int i = 0; i < 8; i++)
		CHECK(peers[i].head == NULL && peers[i].count == 0);
	dfree_done(&d);
}

static void test_kernel_remove_by_owner(void)
{
	struct wg_allowedips_owner a = { 0 }, b = { 0 }, *pp[2] = { &a, &b };
	static const uint8_t firsts[] = { 1, 64, 128, 192, 255 };
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	uint8_t ip[4];

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	/* the kernel's peer b: an unrelated prefix that must survive */
	set4(ip, 10, 0, 0, 0);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 8, &b) == 0);
	for (size_t i = 0; i < sizeof(firsts); i++) {
		set4(ip, firsts[i], 0, 0, 0);
		CHECK(wg_allowedips_insert(t, AF_INET, ip, 32, &a) == 0);
	}
	CHECK(wg_allowedips_remove_by_owner(t, &a) == 5);
	CHECK_TABLE(t, pp, 2);
	for (size_t i = 0; i < sizeof(firsts); i++) {
		set4(ip, firsts[i], 0, 0, 0);
		CHECK(wg_allowedips_lookup(t, AF_INET, ip) != &a);
	}
	set4(ip, 10, 9, 9, 9);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == &b);
	wg_allowedips_destroy(t);
	dfree_flush(&d);

	t = wg_allowedips_create(dfree_cb, &d);
	if (!t) {
		CHECK(t != NULL);
		return;
	}
	set4(ip, 192, 168, 0, 0);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 16, &a) == 0);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 24, &a) == 0);
	CHECK(wg_allowedips_remove_by_owner(t, &a) == 2);
	set4(ip, 192, 168, 0, 1);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == NULL);
	CHECK(wg_allowedips_count(t, AF_UNSPEC) == 0);
	CHECK(a.head == NULL && a.count == 0);
	CHECK_TABLE(t, pp, 2);
	wg_allowedips_destroy(t);
	dfree_done(&d);
}

/* all-ones with bit i (counted from the least significant of each half) cleared, as the kernel */
static void kernel_deep_addr(uint8_t ip[16], unsigned int i)
{
	uint64_t part = ~(1ULL << (i % 64));

	memset(ip, 0xff, 16);
	for (int j = 0; j < 8; j++)
		ip[(i < 64) * 8 + j] = (uint8_t)(part >> (56 - 8 * j));
}

static void test_kernel_deep_v6(void)
{
	struct wg_allowedips_owner a = { 0 }, *pp[1] = { &a };
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	uint8_t ip[16];

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	/* the kernel's trap for a bounded stack in the free path: a 128-deep trie */
	for (unsigned int i = 0; i < 128; i++) {
		kernel_deep_addr(ip, i);
		CHECK(wg_allowedips_insert(t, AF_INET6, ip, 128, &a) == 0);
	}
	CHECK(wg_allowedips_count(t, AF_INET6) == 128);
	CHECK_TABLE(t, pp, 1);
	for (unsigned int i = 0; i < 128; i++) {
		kernel_deep_addr(ip, i);
		CHECK(wg_allowedips_lookup(t, AF_INET6, ip) == &a);
	}
	memset(ip, 0xff, 16);
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip) == NULL);
	/* the kernel frees the whole table here; we also remove one by one, deepest first */
	for (unsigned int i = 0; i < 64; i++) {
		kernel_deep_addr(ip, 64 + i);
		CHECK(wg_allowedips_remove(t, AF_INET6, ip, 128, &a) == 0);
		kernel_deep_addr(ip, i);
		CHECK(wg_allowedips_remove(t, AF_INET6, ip, 128, &a) == 0);
	}
	CHECK(wg_allowedips_count(t, AF_UNSPEC) == 0);
	CHECK(a.count == 0 && a.head == NULL);
	{
		struct wg_allowedips_stats st;

		wg_allowedips_get_stats(t, &st);
		CHECK(st.nodes == 0 && st.nodes_deferred == d.total && d.total >= 128);
	}
	CHECK_TABLE(t, pp, 1);
	for (unsigned int i = 0; i < 128; i++) {
		kernel_deep_addr(ip, i);
		CHECK(wg_allowedips_insert(t, AF_INET6, ip, 128, &a) == 0);
	}
	wg_allowedips_destroy(t);
	CHECK(a.head == NULL && a.count == 0);
	dfree_done(&d);
}

struct found {
	int n, a, b, c, d, e, other;
};

static int walk_kernel(void *ctx, int family, const uint8_t *ip, unsigned int cidr)
{
	struct found *f = ctx;
	uint8_t w[16];

	f->n++;
	set4(w, 192, 95, 5, 64);
	if (cidr == 27 && family == AF_INET && !memcmp(ip, w, 4)) {
		f->a++;
		return 0;
	}
	set6(w, 0x26075300, 0x60006b00, 0, 0xc05f0543);
	if (cidr == 128 && family == AF_INET6 && !memcmp(ip, w, 16)) {
		f->b++;
		return 0;
	}
	set4(w, 10, 1, 0, 16);
	if (cidr == 29 && family == AF_INET && !memcmp(ip, w, 4)) {
		f->c++;
		return 0;
	}
	set6(w, 0x26075300, 0x6d8a6bf8, 0xdab1e000, 0);
	if (cidr == 83 && family == AF_INET6 && !memcmp(ip, w, 16)) {
		f->d++;
		return 0;
	}
	set6(w, 0x26075000, 0, 0, 0);
	if (cidr == 21 && family == AF_INET6 && !memcmp(ip, w, 16)) {
		f->e++;
		return 0;
	}
	f->other++;
	return 0;
}

static void test_kernel_walk(void)
{
	struct wg_allowedips_owner a = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(NULL, NULL);
	struct found f = { 0 };
	uint8_t ip[16];

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	set4(ip, 192, 95, 5, 93);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 27, &a) == 0);
	set6(ip, 0x26075300, 0x60006b00, 0, 0xc05f0543);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 128, &a) == 0);
	set4(ip, 10, 1, 0, 20);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 29, &a) == 0);
	set6(ip, 0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 83, &a) == 0);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 21, &a) == 0);
	CHECK(wg_allowedips_walk_owner(t, &a, walk_kernel, &f) == 0);
	CHECK(f.n == 5 && a.count == 5);
	CHECK(f.a == 1 && f.b == 1 && f.c == 1 && f.d == 1 && f.e == 1);
	CHECK(f.other == 0);
	wg_allowedips_destroy(t);
}

/* ---- our API ---- */

static void test_bad_arguments(void)
{
	struct wg_allowedips_owner a = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(NULL, NULL);
	uint8_t ip[16] = { 10 };
	struct wg_allowedips_owner *out[3] = { &a, &a, &a };
	const uint8_t *addrs[3] = { ip, ip, ip };

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 33, &a) == -EINVAL);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 255, &a) == -EINVAL);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 129, &a) == -EINVAL);
	CHECK(wg_allowedips_insert(t, AF_UNSPEC, ip, 8, &a) == -EINVAL);
	CHECK(wg_allowedips_insert(t, 12345, ip, 8, &a) == -EINVAL);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 8, NULL) == -EINVAL);
	CHECK(wg_allowedips_insert(t, AF_INET, NULL, 8, &a) == -EINVAL);
	CHECK(wg_allowedips_remove(t, AF_INET, ip, 33, &a) == -EINVAL);
	CHECK(wg_allowedips_remove(t, AF_INET6, ip, 129, &a) == -EINVAL);
	CHECK(wg_allowedips_remove(t, AF_UNSPEC, ip, 0, &a) == -EINVAL);
	CHECK(wg_allowedips_count(t, AF_UNSPEC) == 0 && a.count == 0);
	/* the limits themselves are fine */
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 32, &a) == 0);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 128, &a) == 0);
	CHECK(wg_allowedips_lookup(t, AF_UNSPEC, ip) == NULL);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == &a);
	wg_allowedips_lookup_bulk(t, AF_UNSPEC, addrs, out, 3);
	CHECK(!out[0] && !out[1] && !out[2]);
	out[0] = NULL;
	wg_allowedips_lookup_bulk(t, AF_INET, addrs, out, 0);
	CHECK(out[0] == NULL);
	wg_allowedips_destroy(t);
}

static int walk_collect(void *ctx, int family, const uint8_t *ip, unsigned int cidr)
{
	uint8_t *out = ctx;

	out[0] = (uint8_t)family;
	out[1] = (uint8_t)cidr;
	memcpy(out + 2, ip, fam_len(family));
	return 0;
}

static void test_host_bits_masked(void)
{
	struct wg_allowedips_owner a = { 0 }, b = { 0 }, *pp[2] = { &a, &b };
	struct wg_allowedips *t = wg_allowedips_create(NULL, NULL);
	uint8_t ip[16], got[18], want[16];

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	set4(ip, 192, 0, 2, 77);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 25, &a) == 0);
	CHECK(wg_allowedips_walk_owner(t, &a, walk_collect, got) == 0);
	set4(want, 192, 0, 2, 0);
	CHECK(got[0] == AF_INET && got[1] == 25 && !memcmp(got + 2, want, 4));
	/* the same prefix written with other host bits is the same prefix */
	set4(ip, 192, 0, 2, 127);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 25, &b) == 0);
	CHECK(a.count == 0 && b.count == 1 && wg_allowedips_count(t, AF_INET) == 1);
	set4(ip, 192, 0, 2, 1);
	CHECK(wg_allowedips_remove(t, AF_INET, ip, 25, &b) == 0);
	CHECK(wg_allowedips_count(t, AF_INET) == 0);

	set6(ip, 0x20010db8, 0x12345678, 0x9abcdef0, 0xffffffff);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 67, &a) == 0);
	CHECK(wg_allowedips_walk_owner(t, &a, walk_collect, got) == 0);
	set6(want, 0x20010db8, 0x12345678, 0x80000000, 0);
	CHECK(got[0] == AF_INET6 && got[1] == 67 && !memcmp(got + 2, want, 16));
	set6(ip, 0x20010db8, 0x12345678, 0x9fff0000, 1);
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip) == &a);
	set6(ip, 0x20010db8, 0x12345678, 0x60000000, 1);
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip) == NULL);
	/* /0 keeps nothing */
	set4(ip, 255, 255, 255, 255);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 0, &b) == 0);
	CHECK(wg_allowedips_walk_owner(t, &b, walk_collect, got) == 0);
	CHECK(got[1] == 0 && got[2] == 0 && got[3] == 0 && got[4] == 0 && got[5] == 0);
	CHECK_TABLE(t, pp, 2);
	wg_allowedips_destroy(t);
}

static void test_move_to_new_owner(void)
{
	struct wg_allowedips_owner o[3] = { 0 }, *pp[3] = { &o[0], &o[1], &o[2] };
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	uint8_t ip[16], got[18];
	size_t mem;

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	set4(ip, 10, 0, 0, 0);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 8, &o[0]) == 0);
	set4(ip, 10, 1, 0, 0);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 16, &o[0]) == 0);
	set4(ip, 10, 2, 0, 0);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 16, &o[1]) == 0);
	mem = wg_allowedips_memory(t);
	/* re-inserting for the same owner changes nothing */
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 16, &o[1]) == 0);
	CHECK(o[1].count == 1 && wg_allowedips_memory(t) == mem);
	/* moving: same node, new owner, on the new owner's list only */
	set4(ip, 10, 1, 0, 0);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 16, &o[2]) == 0);
	CHECK(wg_allowedips_memory(t) == mem && d.total == 0);
	CHECK(o[0].count == 1 && o[2].count == 1);
	CHECK(wg_allowedips_count(t, AF_INET) == 3);
	set4(ip, 10, 1, 2, 3);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == &o[2]);
	CHECK(wg_allowedips_walk_owner(t, &o[2], walk_collect, got) == 0);
	CHECK(got[1] == 16 && got[3] == 1);
	/* the old owner may not remove it any more */
	CHECK(wg_allowedips_remove(t, AF_INET, ip, 16, &o[0]) == -ENOENT);
	CHECK_TABLE(t, pp, 3);
	CHECK(wg_allowedips_remove_by_owner(t, &o[0]) == 1);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == &o[2]);
	set4(ip, 10, 3, 0, 0);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == NULL);
	CHECK_TABLE(t, pp, 3);
	wg_allowedips_destroy(t);
	dfree_done(&d);
}

static void test_remove_single(void)
{
	struct wg_allowedips_owner o[2] = { 0 }, *pp[2] = { &o[0], &o[1] };
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	uint8_t ip[16];

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	set6(ip, 0x20010db8, 0, 0, 0);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 32, &o[0]) == 0);
	set6(ip, 0x20010db8, 0x00010000, 0, 0);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 48, &o[1]) == 0);
	set6(ip, 0x20010db8, 0x00010000, 0, 5);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 128, &o[0]) == 0);
	set6(ip, 0x20010db8, 0x00020000, 0, 5);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 128, &o[1]) == 0);

	/* absent prefixes, a branch node's prefix, other owners: -ENOENT, nothing changes */
	set6(ip, 0x20010db8, 0x00010000, 0, 0);
	CHECK(wg_allowedips_remove(t, AF_INET6, ip, 49, &o[1]) == -ENOENT);
	CHECK(wg_allowedips_remove(t, AF_INET6, ip, 48, &o[0]) == -ENOENT);
	CHECK(wg_allowedips_remove(t, AF_INET, ip, 32, &o[0]) == -ENOENT);
	set6(ip, 0x20010db8, 0, 0, 0);
	CHECK(wg_allowedips_remove(t, AF_INET6, ip, 34, &o[0]) == -ENOENT); /* a branch node */
	CHECK(wg_allowedips_count(t, AF_INET6) == 4 && d.total == 0);

	/* removing the /48 between the /32 and a /128 keeps both */
	set6(ip, 0x20010db8, 0x00010000, 0, 0);
	CHECK(wg_allowedips_remove(t, AF_INET6, ip, 48, &o[1]) == 0);
	CHECK(wg_allowedips_remove(t, AF_INET6, ip, 48, &o[1]) == -ENOENT);
	set6(ip, 0x20010db8, 0x00010000, 0, 6);
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip) == &o[0]); /* now from the /32 */
	set6(ip, 0x20010db8, 0x00010000, 0, 5);
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip) == &o[0]);
	set6(ip, 0x20010db8, 0x00020000, 0, 5);
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip) == &o[1]);
	CHECK(o[0].count == 2 && o[1].count == 1);
	CHECK_TABLE(t, pp, 2);
	/* removing the /32 above the others */
	set6(ip, 0x20010db8, 0xffff0000, 0, 0);
	CHECK(wg_allowedips_remove(t, AF_INET6, ip, 32, &o[0]) == 0);
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip) == NULL);
	set6(ip, 0x20010db8, 0x00020000, 0, 5);
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip) == &o[1]);
	CHECK_TABLE(t, pp, 2);
	/* the leaves; the table is empty again */
	CHECK(wg_allowedips_remove(t, AF_INET6, ip, 128, &o[1]) == 0);
	set6(ip, 0x20010db8, 0x00010000, 0, 5);
	CHECK(wg_allowedips_remove(t, AF_INET6, ip, 128, &o[0]) == 0);
	CHECK(wg_allowedips_count(t, AF_UNSPEC) == 0 && !o[0].head && !o[1].head);
	{
		struct wg_allowedips_stats st;

		wg_allowedips_get_stats(t, &st);
		CHECK(st.nodes == 0 && st.nodes_allocated == st.nodes_deferred);
		CHECK(st.nodes_deferred + st.tables_deferred == d.total);
	}
	CHECK_TABLE(t, pp, 2);
	wg_allowedips_destroy(t);
	dfree_done(&d);
}

/* /0 of each family, the short v4 root and the v4 first level together */
static void test_default_routes_and_levels(void)
{
	static const struct {
		uint8_t a[4];
		unsigned int cidr;
		int who;
	} ins[] = {
		{ { 0, 0, 0, 0 }, 0, 0 },	{ { 10, 0, 0, 0 }, 8, 1 },
		{ { 10, 1, 0, 0 }, 15, 2 },	{ { 10, 1, 0, 0 }, 16, 3 },
		{ { 10, 1, 2, 0 }, 24, 4 },	{ { 10, 1, 2, 3 }, 32, 5 },
		{ { 10, 0, 255, 255 }, 32, 6 }, { { 128, 0, 0, 0 }, 1, 7 },
	};
	static const struct {
		uint8_t a[4];
		int who;
	} q[] = {
		{ { 10, 1, 2, 3 }, 5 },	       { { 10, 1, 2, 4 }, 4 },
		{ { 10, 1, 3, 0 }, 3 },	       { { 10, 0, 0, 1 }, 2 },
		{ { 10, 0, 255, 255 }, 6 },    { { 10, 0, 255, 254 }, 2 },
		{ { 10, 2, 0, 0 }, 1 },	       { { 11, 0, 0, 0 }, 0 },
		{ { 127, 255, 255, 255 }, 0 }, { { 128, 0, 0, 0 }, 7 },
		{ { 255, 255, 255, 255 }, 7 },
	};
	struct wg_allowedips_owner o[8] = { 0 }, **pp = owner_ptrs(o, 8);
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	uint8_t ip6[16] = { 0 };

	if (!t) {
		CHECK(t != NULL);
		free(pp);
		return;
	}
	for (size_t i = 0; i < sizeof(ins) / sizeof(ins[0]); i++)
		CHECK(wg_allowedips_insert(t, AF_INET, ins[i].a, ins[i].cidr, &o[ins[i].who]) == 0);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip6, 0, &o[0]) == 0);
	ip6[15] = 1;
	CHECK(wg_allowedips_insert(t, AF_INET6, ip6, 128, &o[1]) == 0);
	CHECK_TABLE(t, pp, 8);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		struct wg_allowedips_owner *got = wg_allowedips_lookup(t, AF_INET, q[i].a);

		CHECK_MSG(got == &o[q[i].who], "query %zu: got %td want %d", i, got ? got - o : -1,
			  q[i].who);
	}
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip6) == &o[1]);
	ip6[15] = 2;
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip6) == &o[0]);
	ip6[0] = 0xff;
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip6) == &o[0]);
	/* without the defaults, misses */
	CHECK(wg_allowedips_remove(t, AF_INET, ins[0].a, 0, &o[0]) == 0);
	CHECK(wg_allowedips_remove(t, AF_INET6, ip6, 0, &o[0]) == 0);
	CHECK(wg_allowedips_lookup(t, AF_INET, q[7].a) == NULL);
	CHECK(wg_allowedips_lookup(t, AF_INET6, ip6) == NULL);
	CHECK(wg_allowedips_lookup(t, AF_INET, q[9].a) == &o[7]);
	/* without the /16 (first level), the /15 (short root) answers */
	CHECK(wg_allowedips_remove(t, AF_INET, ins[3].a, 16, &o[3]) == 0);
	CHECK(wg_allowedips_lookup(t, AF_INET, q[2].a) == &o[2]);
	CHECK(wg_allowedips_lookup(t, AF_INET, q[0].a) == &o[5]);
	CHECK_TABLE(t, pp, 8);
	for (int i = 0; i < 8; i++)
		wg_allowedips_remove_by_owner(t, &o[i]);
	CHECK(wg_allowedips_count(t, AF_UNSPEC) == 0);
	CHECK_TABLE(t, pp, 8);
	wg_allowedips_destroy(t);
	dfree_done(&d);
	free(pp);
}

/*
 * The v4 reserve: nodes of the v4 size (56 bytes), taken by v4 inserts
 * before the wide reserve and the heap, never by v6 ones; tops up, frees.
 */
static void test_reserve4(void)
{
	struct wg_allowedips_owner o[2] = { 0 }, *pp[2] = { &o[0], &o[1] };
	struct wg_allowedips_stats st0, st1, st;
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	const unsigned int n4 = 16;
	uint8_t ip[16];

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	set4(ip, 10, 0, 255, 255);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 32, &o[0]) == 0);
	wg_allowedips_get_stats(t, &st0);
	CHECK(wg_allowedips_reserve4(t, n4) == 0 && wg_allowedips_reserve4(t, n4 / 2) == 0);
	CHECK(wg_allowedips_reserve4(t, SIZE_MAX) == -ENOMEM && wg_allowedips_reserve4(NULL, 1) == -EINVAL);
	wg_allowedips_get_stats(t, &st1);
	CHECK(st1.reserved4 == 2 * n4 && st1.reserved == 0 && st1.bytes == st0.bytes && st1.nodes == st0.nodes);
	CHECK_TABLE(t, pp, 2);
	/* a v6 insert leaves them */
	memset(ip, 0xff, 16);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 128, &o[0]) == 0);
	wg_allowedips_get_stats(t, &st);
	CHECK(st.reserved4 == 2 * n4 && st.bytes == st0.bytes + 72);
	st0 = st;
	/* n4 v4 inserts of two nodes each (one bit off 10.0.255.255): all from the v4 reserve */
	for (unsigned int i = 0; i < n4; i++) {
		unsigned int b = 16 + i;

		set4(ip, 10, 0, 255, 255);
		ip[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
		CHECK(wg_allowedips_insert(t, AF_INET, ip, 32, &o[1]) == 0);
		wg_allowedips_get_stats(t, &st);
		CHECK(st.nodes_allocated - st0.nodes_allocated == 2 * n4 - st.reserved4);
	}
	wg_allowedips_get_stats(t, &st);
	CHECK_MSG(st.reserved4 == 0 && st.bytes - st.v4_table_bytes == st0.bytes - st0.v4_table_bytes + 2 * n4 * 56,
		  "reserved4 %zu, bytes %zu, want %zu", st.reserved4, st.bytes - st.v4_table_bytes,
		  st0.bytes - st0.v4_table_bytes + 2 * n4 * 56);
	CHECK_TABLE(t, pp, 2);
	for (unsigned int i = 0; i < n4; i++) {
		unsigned int b = 16 + i;

		set4(ip, 10, 0, 255, 255);
		ip[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
		CHECK(wg_allowedips_lookup(t, AF_INET, ip) == &o[1]);
	}
	/* the nodes go through defer_free like any other; unreserve and destroy free the rest */
	CHECK(wg_allowedips_remove_by_owner(t, &o[1]) == n4);
	CHECK(wg_allowedips_reserve4(t, 3) == 0);
	wg_allowedips_get_stats(t, &st);
	CHECK(st.nodes == st0.nodes && st.reserved4 == 6 && st.nodes_deferred + st.tables_deferred == d.total);
	CHECK_TABLE(t, pp, 2);
	wg_allowedips_unreserve(t);
	wg_allowedips_get_stats(t, &st);
	CHECK(st.reserved4 == 0 && st.reserved == 0);
	CHECK(wg_allowedips_reserve4(t, 2) == 0); /* destroy with a v4 reserve left: ASan sees a leak */
	wg_allowedips_destroy(t);
	dfree_done(&d);
}

/*
 * The trie is canonical (a node per prefix plus one per divergence point),
 * so removing an owner returns the node count and the memory figure exactly
 * to what they were before its prefixes went in.
 */
static void test_removal_leaves_no_trace(void)
{
	struct wg_allowedips_owner o[3] = { 0 }, *pp[3] = { &o[0], &o[1], &o[2] };
	struct wg_allowedips_stats st0, st1, st2;
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	struct rng r = { test_seed() };
	size_t empty;
	uint8_t ip[16];

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	empty = wg_allowedips_memory(t);
	CHECK(empty > 0);
	wg_allowedips_get_stats(t, &st0);
	for (int i = 0; i < 3000; i++) {
		int fam = i & 1 ? AF_INET6 : AF_INET;
		unsigned int bits = fam == AF_INET ? 32 : 128;

		rnd_bytes(&r, ip, 16);
		ip[0] = 10;
		CHECK(wg_allowedips_insert(t, fam, ip, bits - rndn(&r, bits / 2), &o[i % 2]) == 0);
	}
	wg_allowedips_get_stats(t, &st1);
	/* owner 2 interleaves with the others: same ranges, some equal prefixes moved away */
	for (int i = 0; i < 3000; i++) {
		int fam = i & 1 ? AF_INET6 : AF_INET;
		unsigned int bits = fam == AF_INET ? 32 : 128;

		rnd_bytes(&r, ip, 16);
		ip[0] = 10;
		CHECK(wg_allowedips_insert(t, fam, ip, bits - rndn(&r, bits / 2), &o[2]) == 0);
	}
	CHECK(o[2].count > 0);
	CHECK_TABLE(t, pp, 3);
	if (o[0].count + o[1].count == st1.prefixes4 + st1.prefixes6) {
		/* nothing moved: removing owner 2 restores st1 exactly */
		CHECK(wg_allowedips_remove_by_owner(t, &o[2]) == 3000);
		wg_allowedips_get_stats(t, &st2);
		CHECK(st2.nodes == st1.nodes && st2.bytes == st1.bytes);
		CHECK(st2.prefixes4 == st1.prefixes4 && st2.prefixes6 == st1.prefixes6);
	} else {
		wg_allowedips_remove_by_owner(t, &o[2]);
	}
	CHECK_TABLE(t, pp, 3);
	wg_allowedips_remove_by_owner(t, &o[0]);
	wg_allowedips_remove_by_owner(t, &o[1]);
	wg_allowedips_get_stats(t, &st2);
	CHECK(st2.nodes == 0 && st2.prefixes4 == 0 && st2.prefixes6 == 0);
	CHECK(st2.bytes == st0.bytes && wg_allowedips_memory(t) == empty);
	CHECK(st2.nodes_allocated == st2.nodes_deferred &&
	      st2.nodes_deferred + st2.tables_deferred == d.total);
	CHECK(!o[0].head && !o[1].head && !o[2].head);
	CHECK_TABLE(t, pp, 3);
	wg_allowedips_destroy(t);
	dfree_done(&d);
}

/* defer_free sees each unlinked node once; destroy frees the rest itself */
static void test_defer_free_once(void)
{
	struct wg_allowedips_owner o[16] = { 0 }, **pp = owner_ptrs(o, 16);
	struct wg_allowedips_stats st;
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	struct rng r = { test_seed() };
	uint8_t ip[16];

	if (!t) {
		CHECK(t != NULL);
		free(pp);
		return;
	}
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 2000; i++) {
			int fam = rndn(&r, 2) ? AF_INET6 : AF_INET;
			unsigned int bits = fam == AF_INET ? 32 : 128;

			rnd_bytes(&r, ip, 16);
			ip[0] = (uint8_t)rndn(&r, 4);
			CHECK(wg_allowedips_insert(t, fam, ip, rndn(&r, bits + 1),
						   &o[rndn(&r, 16)]) == 0);
			if (rndn(&r, 4) == 0)
				CHECK(wg_allowedips_remove(t, fam, ip, rndn(&r, bits + 1),
							   &o[rndn(&r, 16)]) != -EINVAL);
		}
		for (int i = 0; i < 8; i++)
			wg_allowedips_remove_by_owner(t, &o[rndn(&r, 16)]);
		CHECK_TABLE(t, pp, 16);
		/* nothing freed yet: a node handed over twice shows up as a duplicate */
		qsort(d.p, d.n, sizeof(*d.p), cmp_ptr);
		for (size_t i = 1; i < d.n; i++)
			CHECK(d.p[i] != d.p[i - 1]);
		wg_allowedips_get_stats(t, &st);
		CHECK(st.nodes_deferred + st.tables_deferred == d.total);
		CHECK(st.nodes_allocated - st.nodes_deferred == st.nodes);
	}
	for (int i = 0; i < 16; i++)
		wg_allowedips_remove_by_owner(t, &o[i]);
	wg_allowedips_get_stats(t, &st);
	CHECK(st.nodes == 0 && st.v4_tables == 0 && st.nodes_allocated + st.tables_deferred == d.total &&
	      d.total > 10000);
	printf("# %" PRIu64 " nodes allocated, %" PRIu64 " handed to defer_free\n",
	       st.nodes_allocated, d.total);
	wg_allowedips_destroy(t);
	dfree_done(&d);
	free(pp);
}

/* ---- exact-prefix lookup and the node reserve ---- */

struct pfx {
	const char *addr;
	unsigned int cidr;
	int who; /* owner index; -1: NULL */
};

static int pfx_parse(const struct pfx *p, uint8_t a[16])
{
	int fam = strchr(p->addr, ':') ? AF_INET6 : AF_INET;

	memset(a, 0, 16);
	if (inet_pton(fam, p->addr, a) != 1)
		abort(); /* test bug */
	return fam;
}

static void check_owner_of(struct wg_allowedips *t, struct wg_allowedips_owner *o,
			   const struct pfx *q, size_t n, const char *phase)
{
	uint8_t a[16];

	for (size_t i = 0; i < n; i++) {
		int fam = pfx_parse(&q[i], a);
		struct wg_allowedips_owner *got = wg_allowedips_owner_of(t, fam, a, q[i].cidr);

		CHECK_MSG(got == (q[i].who < 0 ? NULL : &o[q[i].who]),
			  "%s: owner_of %s/%u: got %td want %d", phase, q[i].addr, q[i].cidr,
			  got ? got - o : -1, q[i].who);
	}
}

/* owner_of answers for exactly one prefix: never a covering or a more specific one */
static void test_owner_of(void)
{
	static const struct pfx ins[] = {
		{ "10.0.0.0", 8, 0 },
		{ "10.1.0.0", 16, 1 },
		{ "10.1.2.0", 24, 2 },
		{ "10.1.2.3", 32, 3 },
		{ "10.2.0.0", 16, 1 }, /* and a branch node 10.0.0.0/14 */
		{ "128.0.0.0", 1, 3 },
		{ "::", 0, 2 },
		{ "2001:db8::", 32, 0 },
		{ "2001:db8:1::", 48, 1 },
		{ "2001:db8:2::", 48, 2 }, /* and a branch node 2001:db8::/46 */
		{ "2001:db8:1::5", 128, 3 },
	};
	static const struct pfx q[] = {
		/* exact */
		{ "10.0.0.0", 8, 0 },
		{ "10.1.0.0", 16, 1 },
		{ "10.1.2.0", 24, 2 },
		{ "10.1.2.3", 32, 3 },
		{ "10.2.0.0", 16, 1 },
		{ "128.0.0.0", 1, 3 },
		{ "::", 0, 2 },
		{ "2001:db8::", 32, 0 },
		{ "2001:db8:1::", 48, 1 },
		{ "2001:db8:1::5", 128, 3 },
		/* host bits set in the query */
		{ "10.255.1.1", 8, 0 },
		{ "10.1.255.255", 16, 1 },
		{ "10.1.2.77", 24, 2 },
		{ "255.1.2.3", 1, 3 },
		{ "2001:db8:ffff::1", 32, 0 },
		{ "2001:db8:1:ffff::", 48, 1 },
		{ "fe80::1", 0, 2 },
		/* covered only */
		{ "10.1.2.0", 25, -1 },
		{ "10.1.3.0", 24, -1 },
		{ "10.3.0.0", 16, -1 },
		{ "10.1.2.4", 32, -1 },
		{ "200.0.0.0", 8, -1 },
		{ "2001:db8:1::", 64, -1 },
		{ "2001:db8:1::4", 128, -1 },
		{ "2001:db9::", 32, -1 },
		/* more specific only (some also covered) */
		{ "10.0.0.0", 7, -1 },
		{ "10.1.0.0", 15, -1 },
		{ "10.1.2.2", 31, -1 },
		{ "0.0.0.0", 0, -1 },
		{ "2001:db8::", 31, -1 },
		{ "2001:db8:1::4", 126, -1 },
		/* branch nodes are no prefixes */
		{ "10.0.0.0", 14, -1 },
		{ "2001:db8::", 46, -1 },
		/* not nearby: nothing at all */
		{ "11.0.0.0", 8, -1 },
		{ "127.0.0.0", 1, -1 },
	};
	static const struct pfx after_remove[] = {
		{ "10.1.0.0", 16, -1 }, { "10.1.2.0", 24, 2 }, { "10.0.0.0", 8, 0 },
		{ "10.2.0.0", 16, 1 }, { "10.1.2.3", 32, 3 }, { "2001:db8:1::", 48, -1 },
		{ "2001:db8::", 32, 0 }, { "2001:db8:1::5", 128, 3 },
	};
	static const struct pfx after_move[] = {
		{ "10.1.2.0", 24, 1 }, { "::", 0, 0 }, { "10.1.2.3", 32, 0 }, { "10.2.0.0", 16, 1 },
		{ "2001:db8:2::", 48, 2 }, { "2001:db8:1::5", 128, 0 },
	};
	static const struct pfx after_owner_gone[] = {
		{ "10.1.2.3", 32, -1 }, { "2001:db8:1::5", 128, -1 }, { "128.0.0.0", 1, 3 },
		{ "10.0.0.0", 8, -1 }, { "2001:db8::", 32, -1 }, { "::", 0, -1 },
		{ "10.1.2.0", 24, 1 }, { "2001:db8:2::", 48, 2 },
	};
	struct wg_allowedips_owner o[4] = { 0 }, *pp[4] = { &o[0], &o[1], &o[2], &o[3] };
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	struct wg_allowedips_stats st0, st1;
	uint8_t a[16];

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	for (size_t i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
		int fam = pfx_parse(&ins[i], a);

		CHECK(wg_allowedips_owner_of(t, fam, a, ins[i].cidr) == NULL); /* not there yet */
		CHECK(wg_allowedips_insert(t, fam, a, ins[i].cidr, &o[ins[i].who]) == 0);
	}
	CHECK_TABLE(t, pp, 4);
	wg_allowedips_get_stats(t, &st0);
	check_owner_of(t, o, q, sizeof(q) / sizeof(q[0]), "full");
	/* a query changes nothing, and bad arguments are just NULL */
	wg_allowedips_get_stats(t, &st1);
	CHECK(!memcmp(&st0, &st1, sizeof(st0)));
	set4(a, 10, 0, 0, 0);
	CHECK(wg_allowedips_owner_of(t, AF_INET, a, 33) == NULL);
	CHECK(wg_allowedips_owner_of(t, AF_INET6, a, 129) == NULL);
	CHECK(wg_allowedips_owner_of(t, AF_UNSPEC, a, 8) == NULL);
	CHECK(wg_allowedips_owner_of(t, AF_INET, NULL, 8) == NULL);
	CHECK(wg_allowedips_owner_of(NULL, AF_INET, a, 8) == NULL);
	/* the other family's bytes are another prefix */
	CHECK(wg_allowedips_owner_of(t, AF_INET6, a, 8) == NULL);

	set4(a, 10, 1, 0, 0);
	CHECK(wg_allowedips_remove(t, AF_INET, a, 16, &o[1]) == 0);
	set6(a, 0x20010db8, 0x00010000, 0, 0);
	CHECK(wg_allowedips_remove(t, AF_INET6, a, 48, &o[1]) == 0);
	check_owner_of(t, o, after_remove, sizeof(after_remove) / sizeof(after_remove[0]),
		       "after removal");
	/* moves: the same prefix answers its new owner */
	set4(a, 10, 1, 2, 0);
	CHECK(wg_allowedips_insert(t, AF_INET, a, 24, &o[1]) == 0);
	set4(a, 10, 1, 2, 3);
	CHECK(wg_allowedips_insert(t, AF_INET, a, 32, &o[0]) == 0);
	CHECK(wg_allowedips_insert(t, AF_INET6, a, 0, &o[0]) == 0);
	set6(a, 0x20010db8, 0x00010000, 0, 5);
	CHECK(wg_allowedips_insert(t, AF_INET6, a, 128, &o[0]) == 0);
	check_owner_of(t, o, after_move, sizeof(after_move) / sizeof(after_move[0]), "after move");
	CHECK_TABLE(t, pp, 4);
	CHECK(wg_allowedips_remove_by_owner(t, &o[0]) == 5);
	check_owner_of(t, o, after_owner_gone,
		       sizeof(after_owner_gone) / sizeof(after_owner_gone[0]), "owner gone");
	CHECK_TABLE(t, pp, 4);
	wg_allowedips_destroy(t);
	dfree_done(&d);
}

/* tops up to 2 nodes per insert, never down, all or nothing */
static void test_reserve_sizes(void)
{
	static const struct {
		size_t n;
		int ret;
		size_t reserved;
	} steps[] = {
		{ 0, 0, 0 },	    /* a no-op */
		{ 3, 0, 6 },	    /* two nodes per insert */
		{ 1, 0, 6 },	    /* never shrinks */
		{ 3, 0, 6 },	    /* tops up: does not add */
		{ 5, 0, 10 },
		{ 0, 0, 10 },
		{ SIZE_MAX, -ENOMEM, 10 }, /* reserve as before */
		{ SIZE_MAX / 2 + 1, -ENOMEM, 10 },
		{ 6, 0, 12 },
	};
	struct wg_allowedips *t = wg_allowedips_create(NULL, NULL);
	struct wg_allowedips_stats st, st0;

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	wg_allowedips_get_stats(t, &st0);
	CHECK(st0.reserved == 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int ret = wg_allowedips_reserve(t, steps[i].n);

		wg_allowedips_get_stats(t, &st);
		CHECK_MSG(ret == steps[i].ret && st.reserved == steps[i].reserved,
			  "step %zu: reserve(%zu) = %d, %zu reserved", i, steps[i].n, ret,
			  st.reserved);
		/* reserved nodes are in neither the node count nor the memory figure */
		CHECK(st.nodes == 0 && st.bytes == st0.bytes && st.nodes_allocated == 0);
		CHECK(wg_allowedips_memory(t) == st0.bytes);
		CHECK_TABLE(t, NULL, 0);
	}
	CHECK(wg_allowedips_reserve(NULL, 1) == -EINVAL);
	wg_allowedips_unreserve(t);
	wg_allowedips_get_stats(t, &st);
	CHECK(st.reserved == 0 && st.bytes == st0.bytes);
	CHECK_TABLE(t, NULL, 0);
	wg_allowedips_unreserve(t); /* twice is fine */
	wg_allowedips_unreserve(NULL);
	CHECK(wg_allowedips_reserve(t, 0) == 0);
	wg_allowedips_get_stats(t, &st);
	CHECK(st.reserved == 0);
	/* destroy frees what is left (ASan's leak check sees it otherwise) */
	CHECK(wg_allowedips_reserve(t, 100) == 0);
	wg_allowedips_destroy(t);
}

/*
 * After reserve(n), n inserts take every node from the reserve: the nodes
 * linked (nodes_allocated) grow exactly by the nodes the reserve lost, so
 * none came from the heap. Each insert here needs two nodes (the kernel's
 * one-bit-off addresses, in increasing bit order, each split off a new
 * branch node). A node from the reserve counts at the v6 size, also for v4.
 */
static void test_reserve_inserts(void)
{
	struct wg_allowedips_owner o[2] = { 0 }, *pp[2] = { &o[0], &o[1] };
	struct wg_allowedips_stats st0, st1, st;
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	const unsigned int n6 = 40, n4 = 16;
	const size_t wide = 2 * (n6 + n4); /* nodes the inserts need */
	uint8_t ip[16];

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	memset(ip, 0xff, 16);
	CHECK(wg_allowedips_insert(t, AF_INET6, ip, 128, &o[0]) == 0);
	set4(ip, 10, 0, 255, 255);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 32, &o[0]) == 0);
	wg_allowedips_get_stats(t, &st0);
	CHECK(wg_allowedips_reserve(t, n6 + n4) == 0);
	wg_allowedips_get_stats(t, &st1);
	CHECK(st1.reserved == 2 * (n6 + n4));
	CHECK(st1.bytes == st0.bytes && st1.nodes_allocated == st0.nodes_allocated);

	for (unsigned int i = 0; i < n6 + n4; i++) {
		int fam = i < n6 ? AF_INET6 : AF_INET;

		if (i < n6) {
			memset(ip, 0xff, 16);
			ip[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
		} else {
			unsigned int b = 16 + (i - n6); /* bits 16..31: inside the 10.0 slot */

			set4(ip, 10, 0, 255, 255);
			ip[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
		}
		CHECK(wg_allowedips_insert(t, fam, ip, fam == AF_INET ? 32 : 128, &o[1]) == 0);
		wg_allowedips_get_stats(t, &st);
		CHECK_MSG(st.nodes_allocated - st0.nodes_allocated == st1.reserved - st.reserved,
			  "insert %u: %" PRIu64 " nodes linked, %zu taken from the reserve", i,
			  st.nodes_allocated - st0.nodes_allocated, st1.reserved - st.reserved);
		CHECK(st.reserved == st1.reserved - 2 * (i + 1));
	}
	wg_allowedips_get_stats(t, &st);
	CHECK(st.reserved == 0 && st.nodes == st0.nodes + 2 * (n6 + n4));
	/* every new node is a wide block: 72 bytes, v4 or v6 */
	CHECK_MSG(st.bytes - st.v4_table_bytes == st0.bytes - st0.v4_table_bytes + wide * 72,
		  "bytes %zu, want %zu", st.bytes - st.v4_table_bytes,
		  st0.bytes - st0.v4_table_bytes + wide * 72);
	CHECK_TABLE(t, pp, 2);
	for (unsigned int i = 0; i < n6; i++) {
		memset(ip, 0xff, 16);
		ip[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
		CHECK(wg_allowedips_lookup(t, AF_INET6, ip) == &o[1]);
		CHECK(wg_allowedips_owner_of(t, AF_INET6, ip, 128) == &o[1]);
	}
	/* the reserve is empty: the heap again */
	set4(ip, 192, 0, 2, 0);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 24, &o[0]) == 0);
	wg_allowedips_get_stats(t, &st1);
	CHECK(st1.reserved == 0 && st1.nodes_allocated == st.nodes_allocated + 1);
	CHECK(st1.bytes - st1.v4_table_bytes == st.bytes - st.v4_table_bytes + 56);
	/* moves and bad arguments take nothing from the reserve */
	CHECK(wg_allowedips_reserve(t, 1) == 0);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 24, &o[1]) == 0);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 33, &o[1]) == -EINVAL);
	wg_allowedips_get_stats(t, &st);
	CHECK(st.reserved == 2 && st.nodes_allocated == st1.nodes_allocated);
	CHECK_TABLE(t, pp, 2);
	/* nodes from the reserve go through defer_free and node_free like any other */
	CHECK(wg_allowedips_remove_by_owner(t, &o[1]) == n6 + n4 + 1);
	wg_allowedips_get_stats(t, &st);
	CHECK(st.nodes == st0.nodes && st.bytes == st0.bytes);
	CHECK(st.nodes_allocated - st.nodes_deferred == st.nodes &&
	      st.nodes_deferred + st.tables_deferred == d.total);
	CHECK_TABLE(t, pp, 2);
	dfree_flush(&d);
	/* destroy with a reserve and linked nodes left */
	CHECK(wg_allowedips_reserve(t, 10) == 0);
	wg_allowedips_destroy(t);
	CHECK(!o[0].head && !o[0].count);
	dfree_done(&d);
}

/* ---- randomized comparison with a naive model ---- */

#define R_OWNERS 64
#define R_PREFIXES 4000 /* per family, first fill */
#define R_BATCHES 20
#define R_LOOKUPS 5000 /* random lookups per family per batch */
#define M_HCAP (1u << 17)

struct mentry {
	uint8_t fam, cidr;
	uint8_t key[16];
	int owner; /* -1: absent */
};

/* every prefix ever inserted, hashed on (family, cidr, key); lookups try each cidr */
struct model {
	struct mentry *e;
	size_t n, cap;
	uint32_t *h; /* entry index + 1; 0 = empty */
};

static uint32_t mhash(int fam, unsigned int cidr, const uint8_t *key)
{
	uint32_t h = 2166136261u;

	h = (h ^ (uint32_t)fam) * 16777619u;
	h = (h ^ cidr) * 16777619u;
	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h ^ (h >> 15);
}

static long model_find(const struct model *m, int fam, unsigned int cidr, const uint8_t *key)
{
	for (uint32_t i = mhash(fam, cidr, key) & (M_HCAP - 1); m->h[i];
	     i = (i + 1) & (M_HCAP - 1)) {
		const struct mentry *e = &m->e[m->h[i] - 1];

		if (e->fam == fam && e->cidr == cidr && !memcmp(e->key, key, 16))
			return (long)m->h[i] - 1;
	}
	return -1;
}

/* the prefix addr/cidr (any host bits) in the model's form */
static void model_key(uint8_t key[16], int fam, const uint8_t *addr, unsigned int cidr)
{
	memset(key, 0, 16);
	memcpy(key, addr, fam_len(fam));
	mask_bytes(key, fam_len(fam), cidr);
}

static void model_set(struct model *m, int fam, const uint8_t *addr, unsigned int cidr, int owner)
{
	uint8_t key[16];
	long i;

	model_key(key, fam, addr, cidr);
	i = model_find(m, fam, cidr, key);
	if (i < 0) {
		uint32_t h;

		if (m->n == m->cap || m->n >= M_HCAP / 2)
			abort(); /* test sizing */
		i = (long)m->n++;
		m->e[i].fam = (uint8_t)fam;
		m->e[i].cidr = (uint8_t)cidr;
		memcpy(m->e[i].key, key, 16);
		for (h = mhash(fam, cidr, key) & (M_HCAP - 1); m->h[h]; h = (h + 1) & (M_HCAP - 1))
			;
		m->h[h] = (uint32_t)i + 1;
	}
	m->e[i].owner = owner;
}

static int model_lookup(const struct model *m, int fam, const uint8_t *addr)
{
	unsigned int bits = fam == AF_INET ? 32 : 128;
	uint8_t key[16];

	for (int c = (int)bits; c >= 0; c--) {
		long i;

		model_key(key, fam, addr, (unsigned int)c);
		i = model_find(m, fam, (unsigned int)c, key);
		if (i >= 0 && m->e[i].owner >= 0)
			return m->e[i].owner;
	}
	return -1;
}

/* the most literal model: scan every prefix */
static int model_lookup_linear(const struct model *m, int fam, const uint8_t *addr)
{
	int best = -1, best_cidr = -1;
	uint8_t key[16];

	for (size_t i = 0; i < m->n; i++) {
		const struct mentry *e = &m->e[i];

		if (e->owner < 0 || e->fam != fam || (int)e->cidr <= best_cidr)
			continue;
		model_key(key, fam, addr, e->cidr);
		if (!memcmp(key, e->key, 16)) {
			best = e->owner;
			best_cidr = e->cidr;
		}
	}
	return best;
}

static size_t model_count(const struct model *m, int fam, int owner)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].owner >= 0 && (!fam || m->e[i].fam == fam) &&
		    (owner < 0 || m->e[i].owner == owner))
			n++;
	return n;
}

/* a live entry of fam, or -1 */
static long model_pick(const struct model *m, struct rng *r, int fam)
{
	for (int tries = 0; tries < 64 && m->n; tries++) {
		long i = (long)rndn(r, (uint32_t)m->n);

		if (m->e[i].owner >= 0 && m->e[i].fam == fam)
			return i;
	}
	return -1;
}

/*
 * A random prefix, often related to one already there (same leading bits,
 * longer or shorter), host bits left random.
 */
static unsigned int gen_prefix(const struct model *m, struct rng *r, int fam, uint8_t *addr)
{
	unsigned int bits = fam == AF_INET ? 32 : 128, len = fam_len(fam), keep, cidr;
	long base;

	rnd_bytes(r, addr, len);
	switch (rndn(r, 4)) {
	case 0:
		return rndn(r, bits + 1);
	case 1:
		return bits - rndn(r, 4);
	default:
		base = model_pick(m, r, fam);
		if (base < 0)
			return rndn(r, bits + 1);
		keep = rndn(r, (unsigned int)m->e[base].cidr + 1);
		for (unsigned int i = 0; i < len; i++) {
			uint8_t km = 0;

			for (unsigned int b = 0; b < 8; b++)
				if (8 * i + b < keep)
					km |= (uint8_t)(0x80 >> b);
			addr[i] = (uint8_t)((m->e[base].key[i] & km) | (addr[i] & ~km));
		}
		cidr = keep + rndn(r, 17);
		if (rndn(r, 3) == 0)
			cidr = keep > 8 ? keep - rndn(r, 8) : keep;
		return cidr > bits ? bits : cidr;
	}
}

struct rstate {
	struct wg_allowedips *t;
	struct wg_allowedips_owner own[R_OWNERS];
	struct model m;
	struct rng r;
	uint64_t lookups, mismatches;
};

static int owner_index(const struct rstate *s, const struct wg_allowedips_owner *o)
{
	if (!o)
		return -1;
	if (o < s->own || o >= s->own + R_OWNERS)
		return -2; /* garbage */
	return (int)(o - s->own);
}

/* compare single and bulk lookups of n addresses with the model */
static void compare_lookups(struct rstate *s, int fam, uint8_t (*addrs)[16], size_t n, bool linear)
{
	struct wg_allowedips_owner *bulk[64];
	const uint8_t *ptrs[64];

	for (size_t base = 0; base < n;) {
		unsigned int m = (unsigned int)(n - base < 64 ? n - base : 64);

		m = m > 1 ? 1 + rndn(&s->r, m) : m; /* bursts of every size */
		for (unsigned int i = 0; i < m; i++)
			ptrs[i] = addrs[base + i];
		wg_allowedips_lookup_bulk(s->t, fam, ptrs, bulk, m);
		for (unsigned int i = 0; i < m; i++) {
			const uint8_t *a = addrs[base + i];
			int want = model_lookup(&s->m, fam, a);
			int got = owner_index(s, wg_allowedips_lookup(s->t, fam, a));
			int gotb = owner_index(s, bulk[i]);

			s->lookups++;
			if (linear && i < 4)
				CHECK(model_lookup_linear(&s->m, fam, a) == want);
			if (got != want || gotb != want) {
				if (s->mismatches++ < 10)
					CHECK_MSG(0, "fam %d lookup: got %d (bulk %d), want %d",
						  fam, got, gotb, want);
			}
		}
		base += m;
	}
}

struct walk_cmp {
	const struct model *m;
	int owner;
	size_t n, bad;
};

static int walk_cmp_cb(void *ctx, int family, const uint8_t *addr, unsigned int cidr)
{
	struct walk_cmp *w = ctx;
	uint8_t key[16];
	long i;

	model_key(key, family, addr, cidr);
	i = model_find(w->m, family, cidr, key);
	w->n++;
	if (i < 0 || w->m->e[i].owner != w->owner || memcmp(key, addr, fam_len(family)))
		w->bad++;
	return 0;
}

/*
 * owner_of of every prefix ever inserted (live or removed), and of
 * neighbours of some (one bit shorter or longer, random host bits), against
 * the model's exact entries
 */
static void compare_owner_of(struct rstate *s)
{
	uint8_t key[16], a[16], mk[16];
	size_t bad = 0;

	for (size_t i = 0; i < s->m.n; i++) {
		const struct mentry *e = &s->m.e[i];
		unsigned int bits = e->fam == AF_INET ? 32 : 128, cidr = e->cidr;
		long j;

		if (owner_index(s, wg_allowedips_owner_of(s->t, e->fam, e->key, cidr)) != e->owner)
			bad++;
		if (i % 4)
			continue;
		cidr = rndn(&s->r, 2) ? (cidr < bits ? cidr + 1 : cidr) : (cidr ? cidr - 1 : 0);
		rnd_bytes(&s->r, a, 16);
		memset(mk, 0xff, 16);
		mask_bytes(mk, fam_len(e->fam), cidr);
		for (unsigned int b = 0; b < 16; b++) /* cidr bits of the key, random host bits */
			a[b] = (uint8_t)((e->key[b] & mk[b]) | (a[b] & ~mk[b]));
		model_key(key, e->fam, a, cidr);
		j = model_find(&s->m, e->fam, cidr, key);
		if (owner_index(s, wg_allowedips_owner_of(s->t, e->fam, a, cidr)) !=
		    (j < 0 ? -1 : s->m.e[j].owner))
			bad++;
	}
	CHECK_MSG(bad == 0, "%zu owner_of answers differ from the model", bad);
}

static void compare_all(struct rstate *s, struct wg_allowedips_owner **pp, bool linear)
{
	static uint8_t addrs[R_LOOKUPS + 4 * 600][16];

	CHECK_TABLE(s->t, pp, R_OWNERS);
	compare_owner_of(s);
	CHECK(wg_allowedips_count(s->t, AF_INET) == model_count(&s->m, AF_INET, -1));
	CHECK(wg_allowedips_count(s->t, AF_INET6) == model_count(&s->m, AF_INET6, -1));
	for (int o = 0; o < R_OWNERS; o++) {
		struct walk_cmp w = { &s->m, o, 0, 0 };

		CHECK(wg_allowedips_walk_owner(s->t, &s->own[o], walk_cmp_cb, &w) == 0);
		CHECK_MSG(w.n == model_count(&s->m, 0, o) && w.bad == 0,
			  "owner %d: walked %zu (%zu bad), model %zu", o, w.n, w.bad,
			  model_count(&s->m, 0, o));
	}
	for (int f = 0; f < 2; f++) {
		int fam = f ? AF_INET6 : AF_INET;
		unsigned int len = fam_len(fam);
		size_t n = 0;

		for (int i = 0; i < R_LOOKUPS; i++) {
			long e = rndn(&s->r, 2) ? model_pick(&s->m, &s->r, fam) : -1;

			rnd_bytes(&s->r, addrs[n], 16);
			if (e >= 0) { /* inside a live prefix: its key, random host bits */
				uint8_t mk[16];

				memset(mk, 0xff, 16);
				mask_bytes(mk, len, s->m.e[e].cidr);
				for (unsigned int j = 0; j < len; j++)
					addrs[n][j] = (uint8_t)((s->m.e[e].key[j] & mk[j]) |
								(addrs[n][j] & ~mk[j]));
			}
			n++;
		}
		/* boundaries of 600 live prefixes: first, last, and one outside each */
		for (int i = 0; i < 600; i++) {
			long e = model_pick(&s->m, &s->r, fam);
			uint8_t last[16];

			if (e < 0)
				continue;
			memcpy(addrs[n], s->m.e[e].key, len);
			memcpy(addrs[n + 1], s->m.e[e].key, len);
			step_addr(addrs[n + 1], len, false);
			memset(last, 0xff, 16);
			mask_bytes(last, len, s->m.e[e].cidr);
			for (unsigned int j = 0; j < len; j++)
				addrs[n + 2][j] = (uint8_t)(s->m.e[e].key[j] | (uint8_t)~last[j]);
			memcpy(addrs[n + 3], addrs[n + 2], len);
			step_addr(addrs[n + 3], len, true);
			n += 4;
		}
		compare_lookups(s, fam, addrs, n, linear);
	}
}

static void test_random_vs_model(void)
{
	struct rstate *s = calloc(1, sizeof(*s));
	struct wg_allowedips_owner **pp;
	struct dfree d = { 0 };
	struct wg_allowedips_stats st;
	size_t empty;
	uint8_t ip[16];
	int ret;

	if (!s) {
		CHECK(s != NULL);
		return;
	}
	pp = owner_ptrs(s->own, R_OWNERS);
	s->r.s = test_seed();
	s->m.cap = M_HCAP / 2;
	s->m.e = calloc(s->m.cap, sizeof(*s->m.e));
	s->m.h = calloc(M_HCAP, sizeof(*s->m.h));
	s->t = wg_allowedips_create(dfree_cb, &d);
	if (!s->m.e || !s->m.h || !s->t) {
		CHECK(0);
		goto out;
	}
	empty = wg_allowedips_memory(s->t);

	for (int i = 0; i < 2 * R_PREFIXES; i++) {
		int fam = i & 1 ? AF_INET6 : AF_INET, o = (int)rndn(&s->r, R_OWNERS);
		unsigned int cidr = gen_prefix(&s->m, &s->r, fam, ip);

		CHECK(wg_allowedips_insert(s->t, fam, ip, cidr, &s->own[o]) == 0);
		model_set(&s->m, fam, ip, cidr, o);
	}
	compare_all(s, pp, true);
	dfree_flush(&d);

	for (int batch = 0; batch < R_BATCHES; batch++) {
		/* one owner goes away entirely */
		int gone = (int)rndn(&s->r, R_OWNERS);
		size_t want = rndn(&s->r, 500);

		/* some of the batch's nodes come from a reserve (wide v4 nodes mixed in) */
		CHECK(wg_allowedips_reserve(s->t, want) == 0);
		wg_allowedips_get_stats(s->t, &st);
		CHECK(st.reserved >= 2 * want);
		if (batch % 3 == 2)
			wg_allowedips_unreserve(s->t);

		wg_allowedips_remove_by_owner(s->t, &s->own[gone]);
		for (size_t i = 0; i < s->m.n; i++)
			if (s->m.e[i].owner == gone)
				s->m.e[i].owner = -1;
		for (int i = 0; i < 400; i++) {
			int fam = rndn(&s->r, 2) ? AF_INET6 : AF_INET,
			    o = (int)rndn(&s->r, R_OWNERS);
			unsigned int r = rndn(&s->r, 10), cidr;
			long e = model_pick(&s->m, &s->r, fam);

			if (r < 3 && e >= 0) { /* single removal by its owner, host bits random */
				memcpy(ip, s->m.e[e].key, 16);
				ip[15] ^= (uint8_t)(s->m.e[e].cidr == 128 ? 0 : 1);
				if (fam == AF_INET && s->m.e[e].cidr < 32)
					ip[3] ^= 1;
				ret = wg_allowedips_remove(s->t, fam, ip, s->m.e[e].cidr,
							   &s->own[s->m.e[e].owner]);
				CHECK(ret == 0);
				s->m.e[e].owner = -1;
			} else if (r < 4 && e >= 0) { /* removal by another owner fails */
				int other = (s->m.e[e].owner + 1 + (int)rndn(&s->r, R_OWNERS - 1)) %
					    R_OWNERS;

				ret = wg_allowedips_remove(s->t, fam, s->m.e[e].key, s->m.e[e].cidr,
							   &s->own[other]);
				CHECK(ret == -ENOENT);
			} else if (r < 6 && e >= 0) { /* move to another owner */
				CHECK(wg_allowedips_insert(s->t, fam, s->m.e[e].key, s->m.e[e].cidr,
							   &s->own[o]) == 0);
				s->m.e[e].owner = o;
			} else if (r < 7 && s->m.n) { /* re-insert something removed earlier */
				long j = (long)rndn(&s->r, (uint32_t)s->m.n);

				CHECK(wg_allowedips_insert(s->t, s->m.e[j].fam, s->m.e[j].key,
							   s->m.e[j].cidr, &s->own[o]) == 0);
				s->m.e[j].owner = o;
			} else {
				cidr = gen_prefix(&s->m, &s->r, fam, ip);
				CHECK(wg_allowedips_insert(s->t, fam, ip, cidr, &s->own[o]) == 0);
				model_set(&s->m, fam, ip, cidr, o);
			}
		}
		compare_all(s, pp, batch == 0);
		dfree_flush(&d); /* quiescent point: nothing unlinked may be reachable */
	}
	wg_allowedips_get_stats(s->t, &st);
	CHECK(st.reserved <= 2 * 500);
	wg_allowedips_unreserve(s->t);
	printf("# random: %" PRIu64 " lookups compared, %zu prefixes known, %zu in the table\n",
	       s->lookups, s->m.n, wg_allowedips_count(s->t, AF_UNSPEC));

	for (int o = 0; o < R_OWNERS; o++)
		wg_allowedips_remove_by_owner(s->t, &s->own[o]);
	wg_allowedips_get_stats(s->t, &st);
	CHECK(st.prefixes4 == 0 && st.prefixes6 == 0 && st.nodes == 0);
	CHECK(wg_allowedips_memory(s->t) == empty);
	CHECK(st.nodes_allocated == st.nodes_deferred &&
	      st.nodes_deferred + st.tables_deferred == d.total);
	CHECK_TABLE(s->t, pp, R_OWNERS);
out:
	wg_allowedips_destroy(s->t);
	dfree_done(&d);
	free(s->m.e);
	free(s->m.h);
	free(pp);
	free(s);
}

/* ---- scale ---- */

/* an odd-multiplier bijection on 24 bits: spreads 0..n over the space */
static uint32_t scramble24(uint32_t i)
{
	return (i * 0x9e3779u + 0x5bd1e9u) & 0xffffffu;
}

/*
 * Removing an owner costs O(its prefixes): in a table of a million
 * prefixes, an owner with one prefix touches at most 2 nodes, an owner with
 * 1,000 prefixes at most 2,000 (each removal touches the node and perhaps
 * the branch node above it).
 */
static void test_remove_by_owner_cost(void)
{
	struct wg_allowedips_owner filler = { 0 }, one = { 0 }, many = { 0 },
				   *pp[3] = { &filler, &one, &many };
	struct wg_allowedips_stats st0, st1;
	struct wg_allowedips *t = wg_allowedips_create(NULL, NULL);
	uint8_t ip[16];
	double t0, dt1, dtn;

	if (!t) {
		CHECK(t != NULL);
		return;
	}
	for (uint32_t i = 0; i < 1000000; i++) {
		uint32_t v = scramble24(i);

		set4(ip, 10, v >> 16, v >> 8, v);
		if (wg_allowedips_insert(t, AF_INET, ip, 32, &filler)) {
			CHECK(0);
			break;
		}
	}
	set4(ip, 10, 7, 7, 4);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 30, &one) == 0); /* above filler /32s */
	for (uint32_t i = 0; i < 1000; i++) {
		set6(ip, 0x20010db8, 0, i, 1);
		CHECK(wg_allowedips_insert(t, AF_INET6, ip, 128, &many) == 0);
		set4(ip, 10, 200, (2 * i) >> 8, 2 * i);
		CHECK(wg_allowedips_insert(t, AF_INET, ip, 31, &many) == 0);
	}
	CHECK(wg_allowedips_count(t, AF_UNSPEC) >= 1000000);

	/* five times, the fastest counts: a preempted run says nothing */
	dt1 = 1;
	for (int round = 0; round < 5; round++) {
		if (round) {
			set4(ip, 10, 7, 7, 4);
			CHECK(wg_allowedips_insert(t, AF_INET, ip, 30, &one) == 0);
		}
		wg_allowedips_get_stats(t, &st0);
		t0 = now_s();
		CHECK(wg_allowedips_remove_by_owner(t, &one) == 1);
		t0 = now_s() - t0;
		dt1 = t0 < dt1 ? t0 : dt1;
		wg_allowedips_get_stats(t, &st1);
		CHECK_MSG(st1.visits - st0.visits <= 2,
			  "removing 1 prefix visited %" PRIu64 " nodes", st1.visits - st0.visits);
	}

	t0 = now_s();
	CHECK(wg_allowedips_remove_by_owner(t, &many) == 2000);
	dtn = now_s() - t0;
	wg_allowedips_get_stats(t, &st0);
	CHECK_MSG(st0.visits - st1.visits <= 4000,
		  "removing 2000 prefixes visited %" PRIu64 " nodes", st0.visits - st1.visits);
	/* loose: a walk of the table would take tens of milliseconds */
	CHECK_MSG(dt1 < 0.020, "removing 1 prefix took %.3f ms", dt1 * 1e3);
	printf("# remove_by_owner among %zu prefixes: 1 prefix %.0f ns, 2000 prefixes %.0f us\n",
	       wg_allowedips_count(t, AF_UNSPEC) + 2001, dt1 * 1e9, dtn * 1e6);
	set4(ip, 10, 7, 7, 5);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) != &one);
	set4(ip, 10, scramble24(77) >> 16, scramble24(77) >> 8, scramble24(77));
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == &filler);
	CHECK(wg_allowedips_count(t, AF_INET) == 1000000 && wg_allowedips_count(t, AF_INET6) == 0);
	CHECK_TABLE(t, pp, 3);
	wg_allowedips_destroy(t);
	CHECK(filler.head == NULL && filler.count == 0);
}

#define M_OWNERS 250000 /* x 4 prefixes = 1,000,000 */

static void million_addr(uint32_t i, int kind, uint8_t *ip, int *fam, unsigned int *cidr)
{
	uint32_t v = scramble24(i);

	switch (kind) {
	case 0: /* a host in 10/8 */
		set4(ip, 10, v >> 16, v >> 8, v);
		*fam = AF_INET;
		*cidr = 32;
		break;
	case 1: /* a /29 in 100.64/10 (an odd multiplier is a bijection on 19 bits) */
		v = ((i * 0x9e37bu + 0x1234u) & 0x7ffffu) << 3;
		set4(ip, 100, 64 | (v >> 16), v >> 8, v);
		*fam = AF_INET;
		*cidr = 29;
		break;
	case 2: /* a host in fd00:1::/64 */
		set6(ip, 0xfd000001, 0, v * 2654435761u, i);
		*fam = AF_INET6;
		*cidr = 128;
		break;
	default: /* a /64 in 2001:db8::/32 */
		set6(ip, 0x20010db8, v << 8 | 0x5a, 0, 0);
		*fam = AF_INET6;
		*cidr = 64;
		break;
	}
}

static void test_million_prefixes(void)
{
	struct wg_allowedips_owner *own = calloc(M_OWNERS, sizeof(*own));
	uint8_t(*q)[16] = malloc((size_t)M_OWNERS * 16);
	const uint8_t **ptrs = malloc(M_OWNERS * sizeof(*ptrs));
	struct wg_allowedips_owner **res = malloc(M_OWNERS * sizeof(*res));
	struct wg_allowedips *t = wg_allowedips_create(NULL, NULL);
	struct wg_allowedips_stats st;
	size_t empty, bad = 0, heap0, heap1;
	double t0, dt;
	int fam;
	unsigned int cidr;

	if (!own || !q || !ptrs || !res || !t) {
		CHECK(0);
		goto out;
	}
	empty = wg_allowedips_memory(t);
	heap0 = mallinfo2().uordblks;
	t0 = now_s();
	for (uint32_t i = 0; i < M_OWNERS; i++)
		for (int k = 0; k < 4; k++) {
			uint8_t ip[16];

			million_addr(i, k, ip, &fam, &cidr);
			if (wg_allowedips_insert(t, fam, ip, cidr, &own[i]) && bad++ < 5)
				CHECK_MSG(0, "insert %u/%d failed", i, k);
		}
	dt = now_s() - t0;
	wg_allowedips_get_stats(t, &st);
	CHECK(st.prefixes4 == 2 * M_OWNERS && st.prefixes6 == 2 * M_OWNERS);
	printf("# 1,000,000 prefixes: insert %.0f ns each; %zu nodes, %zu bytes, %.1f bytes/prefix"
	       " (+ malloc overhead)\n",
	       dt * 1e9 / 1e6, st.nodes, st.bytes, (double)(st.bytes - empty) / 1e6);
	heap1 = mallinfo2().uordblks;
	if (heap1 > heap0) /* not under ASan, whose allocator mallinfo2 does not see */
		printf("# heap in use (glibc, with chunk overhead): %.1f bytes per prefix\n",
		       (double)(heap1 - heap0) / 1e6);

	for (int k = 0; k < 4; k++) {
		for (uint32_t i = 0; i < M_OWNERS; i++) {
			uint32_t j =
				(uint32_t)(((uint64_t)i * 7919 + 13) % M_OWNERS); /* scattered */

			million_addr(j, k, q[i], &fam, &cidr);
			q[i][fam == AF_INET ? 3 : 15] |=
				(uint8_t)(cidr == 29 || cidr == 64 ? 5 : 0);
			ptrs[i] = q[i];
		}
		t0 = now_s();
		for (uint32_t i = 0; i < M_OWNERS; i++)
			res[i] = wg_allowedips_lookup(t, fam, q[i]);
		dt = now_s() - t0;
		for (uint32_t i = 0; i < M_OWNERS; i++)
			if (res[i] != &own[((uint64_t)i * 7919 + 13) % M_OWNERS])
				bad++;
		t0 = now_s();
		for (uint32_t i = 0; i < M_OWNERS; i += 32)
			wg_allowedips_lookup_bulk(t, fam, ptrs + i, res + i,
						  M_OWNERS - i < 32 ? M_OWNERS - i : 32);
		printf("# lookup /%u %s, 250,000 scattered: %.0f ns single, %.0f ns bulk(32)\n",
		       cidr, fam == AF_INET ? "v4" : "v6", dt * 1e9 / M_OWNERS,
		       (now_s() - t0) * 1e9 / M_OWNERS);
		for (uint32_t i = 0; i < M_OWNERS; i++)
			if (res[i] != &own[((uint64_t)i * 7919 + 13) % M_OWNERS])
				bad++;
	}
	CHECK_MSG(bad == 0, "%zu wrong answers", bad);

	t0 = now_s();
	for (uint32_t i = 0; i < M_OWNERS; i++)
		if (wg_allowedips_remove_by_owner(t, &own[i]) != 4)
			bad++;
	dt = now_s() - t0;
	printf("# remove_by_owner: %.0f ns per owner of 4 prefixes\n", dt * 1e9 / M_OWNERS);
	CHECK(bad == 0);
	wg_allowedips_get_stats(t, &st);
	CHECK(st.nodes == 0 && st.prefixes4 == 0 && st.prefixes6 == 0);
	CHECK(wg_allowedips_memory(t) == empty);
	CHECK_TABLE(t, NULL, 0);
out:
	wg_allowedips_destroy(t);
	free(own);
	free(q);
	free(ptrs);
	free(res);
}

/*
 * The v4 lookup table (allowedips_dir.c) against the trie: tables made and
 * given back with the prefixes longer than /16 and /24, a short prefix over
 * tables, the table budget (sparse /32s: their /16s walk the trie) and a
 * /16 built again once its prefixes have doubled.
 */
static void test_v4_table(void)
{
	struct wg_allowedips_owner o[4] = { 0 }, **pp = owner_ptrs(o, 4);
	struct wg_allowedips_stats st;
	struct dfree d = { 0 };
	struct wg_allowedips *t = wg_allowedips_create(dfree_cb, &d);
	const uint32_t dense = 70000, sparse = 2000;
	size_t bad = 0, trie, before;
	uint32_t on_trie = 0; /* a /16 that went to the trie */
	uint8_t ip[4];

	if (!t) {
		CHECK(t != NULL);
		free(pp);
		return;
	}
	/* dense /32s from 10.0.0.0: two /16s, one table per /16 and per /24 */
	for (uint32_t i = 0; i < dense; i++) {
		set4(ip, 10, i >> 16, (i >> 8) & 0xff, i & 0xff);
		CHECK(wg_allowedips_insert(t, AF_INET, ip, 32, &o[i % 3]) == 0);
	}
	wg_allowedips_get_stats(t, &st);
	CHECK_MSG(st.v4_tables == 2 + (dense + 255) / 256 && st.v4_trie_slots == 0,
		  "%zu tables, %zu /16s on the trie", st.v4_tables, st.v4_trie_slots);
	CHECK(st.v4_table_bytes == 2 * (2304 + 512) + (dense + 255) / 256 * 2304);
	for (uint32_t i = 0; i < dense + 10; i++) {
		set4(ip, 10, i >> 16, (i >> 8) & 0xff, i & 0xff);
		bad += wg_allowedips_lookup(t, AF_INET, ip) != (i < dense ? &o[i % 3] : NULL);
	}
	CHECK_MSG(bad == 0, "%zu wrong answers", bad);
	CHECK_TABLE(t, pp, 4);
	/* a /8 over the tables: answers where no /32 is, and goes away cleanly */
	set4(ip, 10, 0, 0, 0);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 8, &o[3]) == 0);
	set4(ip, 10, 1, 200, 1);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == &o[3]);
	set4(ip, 10, 0, 0, 5);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == &o[2]);
	set4(ip, 10, 9, 0, 5);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == &o[3]);
	CHECK_TABLE(t, pp, 4);
	set4(ip, 10, 0, 0, 0);
	CHECK(wg_allowedips_remove(t, AF_INET, ip, 8, &o[3]) == 0);
	set4(ip, 10, 1, 200, 1);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == NULL);
	CHECK_TABLE(t, pp, 4);
	for (int i = 0; i < 3; i++)
		wg_allowedips_remove_by_owner(t, &o[i]);
	wg_allowedips_get_stats(t, &st);
	CHECK(st.v4_tables == 0 && st.v4_table_bytes == 0 && st.prefixes4 == 0);
	CHECK_TABLE(t, pp, 4);

	/* one /32 per /16: two tables each, over the budget of 1,024 + prefixes / 8 */
	for (uint32_t i = 0; i < sparse; i++) {
		set4(ip, 20 + i / 256, i % 256, 1, 1);
		wg_allowedips_get_stats(t, &st);
		before = st.v4_trie_slots;
		CHECK(wg_allowedips_insert(t, AF_INET, ip, 32, &o[i % 2]) == 0);
		wg_allowedips_get_stats(t, &st);
		if (st.v4_trie_slots > before)
			on_trie = i;
	}
	wg_allowedips_get_stats(t, &st);
	trie = st.v4_trie_slots;
	CHECK_MSG(trie > 0 && st.v4_tables <= 1024 + sparse / 8 + 1 &&
			  st.v4_tables / 2 + trie == sparse,
		  "%zu tables, %zu /16s on the trie", st.v4_tables, trie);
	for (uint32_t i = 0; i < sparse; i++) {
		set4(ip, 20 + i / 256, i % 256, 1, 1);
		bad += wg_allowedips_lookup(t, AF_INET, ip) != &o[i % 2];
		ip[3] = 2;
		bad += wg_allowedips_lookup(t, AF_INET, ip) != NULL;
	}
	CHECK_MSG(bad == 0, "%zu wrong answers", bad);
	CHECK_TABLE(t, pp, 4);
	/* room again: a /16 on the trie gets its tables at its second /32 */
	CHECK(on_trie >= sparse / 2);
	for (uint32_t i = 0; i < sparse / 2; i++) {
		set4(ip, 20 + i / 256, i % 256, 1, 1);
		CHECK(wg_allowedips_remove(t, AF_INET, ip, 32, &o[i % 2]) == 0);
	}
	wg_allowedips_get_stats(t, &st);
	CHECK(st.v4_trie_slots < trie && st.v4_tables / 2 + st.v4_trie_slots == sparse / 2);
	trie = st.v4_trie_slots;
	set4(ip, 20 + on_trie / 256, on_trie % 256, 1, 2);
	CHECK(wg_allowedips_insert(t, AF_INET, ip, 32, &o[3]) == 0);
	wg_allowedips_get_stats(t, &st);
	CHECK_MSG(st.v4_trie_slots == trie - 1, "%zu /16s on the trie, want %zu", st.v4_trie_slots,
		  trie - 1);
	CHECK(wg_allowedips_lookup(t, AF_INET, ip) == &o[3]);
	CHECK_TABLE(t, pp, 4);
	for (int i = 0; i < 4; i++)
		wg_allowedips_remove_by_owner(t, &o[i]);
	wg_allowedips_get_stats(t, &st);
	CHECK(st.v4_tables == 0 && st.v4_trie_slots == 0 && st.prefixes4 == 0);
	CHECK(st.nodes_deferred + st.tables_deferred == d.total);
	CHECK_TABLE(t, pp, 4);
	wg_allowedips_destroy(t);
	dfree_done(&d);
	free(pp);
}

/* ---- lock-free readers against the writer ---- */

#define C_READERS 3
#define C_STABLE 64
#define C_CHURN 32
#define C_QUERIES 4096
#define C_KNOWN 4096
#define C_SECONDS 2.0

struct conc_prefix {
	int fam;
	uint8_t a[16];
	unsigned int cidr;
	int owner;
};

struct conc {
	struct wg_allowedips *t;
	struct wg_allowedips_owner stable[C_STABLE], churn[C_CHURN];
	/* stable queries: inside prefixes the writer never touches, answer known */
	int qfam[C_QUERIES];
	uint8_t q[C_QUERIES][16];
	int want[C_QUERIES];
	/* churn queries: any owner of ours or NULL */
	int cfam[C_QUERIES];
	uint8_t cq[C_QUERIES][16];
	int stop;
	struct {
		uint64_t qs; /* quiescent count: bumped between lookups, with no node held */
		uint64_t lookups, wrong, garbage;
		char pad[32];
	} rd[C_READERS];
	void **pend; /* unlinked nodes waiting for a grace period (writer only) */
	size_t npend, cap;
};

static void conc_defer(void *ctx, void *node)
{
	struct conc *c = ctx;

	if (c->npend == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 4096;
		c->pend = realloc(c->pend, c->cap * sizeof(*c->pend));
		if (!c->pend)
			abort();
	}
	c->pend[c->npend++] = node;
}

/* wait until every reader passed a quiescent point, then free what was unlinked before */
static void conc_synchronize(struct conc *c)
{
	uint64_t snap[C_READERS];

	for (int i = 0; i < C_READERS; i++)
		snap[i] = __atomic_load_n(&c->rd[i].qs, __ATOMIC_ACQUIRE);
	for (int i = 0; i < C_READERS; i++)
		while (__atomic_load_n(&c->rd[i].qs, __ATOMIC_ACQUIRE) == snap[i])
			sched_yield();
	for (size_t i = 0; i < c->npend; i++) {
		memset(c->pend[i], 0x5a, malloc_usable_size(c->pend[i]));
		wg_allowedips_node_free(c->pend[i]);
	}
	c->npend = 0;
}

struct reader_arg {
	struct conc *c;
	int id;
};

static bool conc_valid(const struct conc *c, const struct wg_allowedips_owner *o)
{
	return !o || (o >= c->stable && o < c->stable + C_STABLE) ||
	       (o >= c->churn && o < c->churn + C_CHURN);
}

static void *reader(void *p)
{
	struct reader_arg *ra = p;
	struct conc *c = ra->c;
	struct rng r = { (uint64_t)ra->id * 7777 + 1 };
	struct wg_allowedips_owner *res[32];
	const uint8_t *ptrs[32];
	uint64_t n = 0, wrong = 0, garbage = 0, round = 0;

	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		for (int j = 0; j < 64; j++) {
			uint32_t i = rndn(&r, C_QUERIES);
			struct wg_allowedips_owner *o =
				wg_allowedips_lookup(c->t, c->qfam[i], c->q[i]);

			if (o != &c->stable[c->want[i]])
				wrong++;
			o = wg_allowedips_lookup(c->t, c->cfam[i], c->cq[i]);
			if (!conc_valid(c, o))
				garbage++;
			n += 2;
		}
		if (++round % 4 == 0) {
			uint32_t base = rndn(&r, C_QUERIES - 32);
			int fam = c->qfam[base];
			unsigned int m = 0;

			for (uint32_t i = base; i < base + 32; i++)
				if (c->qfam[i] == fam)
					ptrs[m++] = c->q[i];
			wg_allowedips_lookup_bulk(c->t, fam, ptrs, res, m);
			for (uint32_t i = base, k = 0; i < base + 32; i++)
				if (c->qfam[i] == fam && res[k++] != &c->stable[c->want[i]])
					wrong++;
			n += m;
		}
		/* quiescent: no pointer into the table is held here */
		__atomic_store_n(&c->rd[ra->id].qs, c->rd[ra->id].qs + 1, __ATOMIC_RELEASE);
	}
	c->rd[ra->id].lookups = n;
	c->rd[ra->id].wrong = wrong;
	c->rd[ra->id].garbage = garbage;
	return NULL;
}

/*
 * Stable set: v4 10.i/16, and in its lower half (10.i.0-127) five or six of
 * the eight /20s, each with a /24 and a /32 inside; v6 alike: fd00:i::/32,
 * /36s in its lower half, each with a /64 and a /128 inside. Queries fall
 * inside the /20s (/36s), so churn prefixes of /17-/19 (/33-/35) in the
 * lower half sit above the answers without changing them.
 */
static void conc_add(struct conc_prefix *p, int fam, unsigned int cidr, uint32_t owner, uint32_t w0,
		     uint32_t w1, uint32_t w2, uint32_t w3)
{
	p->fam = fam;
	p->cidr = cidr;
	p->owner = (int)(owner % C_STABLE);
	memset(p->a, 0, sizeof(p->a));
	if (fam == AF_INET)
		set4(p->a, w0, w1, w2, w3);
	else
		set6(p->a, w0, w1, w2, w3);
}

static int conc_stable(struct conc_prefix *sp)
{
	int n = 0;

	for (uint32_t i = 0; i < C_STABLE; i++) {
		uint32_t v6 = 0xfd000000 + i;

		conc_add(&sp[n++], AF_INET, 16, i, 10, i, 0, 0);
		conc_add(&sp[n++], AF_INET6, 32, i, v6, 0, 0, 0);
		for (uint32_t j = 0; j < 8; j++) {
			if ((i + j) % 3 == 0)
				continue; /* gaps, so churn above them restructures */
			conc_add(&sp[n++], AF_INET, 20, i + j + 1, 10, i, j * 16, 0);
			conc_add(&sp[n++], AF_INET, 24, i * 7 + j, 10, i, j * 16 + 3, 0);
			conc_add(&sp[n++], AF_INET, 32, i + 3 * j, 10, i, j * 16 + 3, 7);
			conc_add(&sp[n++], AF_INET6, 36, i + j + 1, v6, j << 28, 0, 0);
			conc_add(&sp[n++], AF_INET6, 64, i * 7 + j, v6, (j << 28) | 3, 0, 0);
			conc_add(&sp[n++], AF_INET6, 128, i + 3 * j, v6, (j << 28) | 3, 0, 7);
		}
	}
	return n;
}

static int conc_linear(const struct conc_prefix *sp, int n, int fam, const uint8_t *a)
{
	int best = -1, best_cidr = -1;
	uint8_t k[16];

	for (int i = 0; i < n; i++) {
		if (sp[i].fam != fam || (int)sp[i].cidr <= best_cidr)
			continue;
		memcpy(k, a, 16);
		mask_bytes(k, fam_len(fam), sp[i].cidr);
		if (!memcmp(k, sp[i].a, fam_len(fam))) {
			best = sp[i].owner;
			best_cidr = (int)sp[i].cidr;
		}
	}
	return best;
}

/*
 * A churn prefix: never equal to a stable prefix, and never more specific
 * than the stable prefix that answers a stable query.
 */
static void conc_churn_prefix(struct rng *r, struct conc_prefix *p)
{
	uint32_t i = rndn(r, C_STABLE);

	p->fam = rndn(r, 2) ? AF_INET6 : AF_INET;
	p->owner = (int)rndn(r, C_CHURN);
	rnd_bytes(r, p->a, 16);
	switch (rndn(r, 6)) {
	case 3:
	case 4:
	case 5: /* between a stable /16 (/32) and its /20s (/36s): restructures above them */
		if (p->fam == AF_INET) {
			p->a[0] = 10;
			p->a[1] = (uint8_t)i;
			p->a[2] &= 0x7f;
			p->cidr = 17 + rndn(r, 3);
		} else {
			p->a[0] = 0xfd;
			p->a[1] = 0;
			p->a[2] = 0;
			p->a[3] = (uint8_t)i;
			p->a[4] &= 0x7f;
			p->cidr = 33 + rndn(r, 3);
		}
		break;
	case 0: /* inside the upper half of a stable /16 (/32), more specific */
		if (p->fam == AF_INET) {
			p->a[0] = 10;
			p->a[1] = (uint8_t)i;
			p->a[2] |= 0x80;
			p->cidr = 17 + rndn(r, 16);
		} else {
			p->a[0] = 0xfd;
			p->a[1] = 0;
			p->a[2] = 0;
			p->a[3] = (uint8_t)i;
			p->a[4] |= 0x80;
			p->cidr = 33 + rndn(r, 96);
		}
		break;
	case 1: /* shorter than any stable prefix */
		p->cidr = rndn(r, p->fam == AF_INET ? 16 : 32);
		break;
	default: /* elsewhere */
		if (p->fam == AF_INET) {
			p->a[0] = (uint8_t)(11 + rndn(r, 200));
			p->cidr = 8 + rndn(r, 25);
		} else {
			p->a[0] = 0x20;
			p->cidr = 8 + rndn(r, 121);
		}
		break;
	}
	mask_bytes(p->a, fam_len(p->fam), p->cidr);
}

static void test_concurrent_readers(void)
{
	static struct conc_prefix sp[C_STABLE * 50];
	struct conc *c = calloc(1, sizeof(*c));
	struct conc_prefix *known = calloc(C_KNOWN, sizeof(*known));
	struct wg_allowedips_owner **pp = malloc((C_STABLE + C_CHURN) * sizeof(*pp));
	struct reader_arg ra[C_READERS];
	pthread_t th[C_READERS];
	struct rng r = { test_seed() };
	uint64_t ops = 0, graces = 0, lookups = 0, wrong = 0, garbage = 0;
	int nsp, started = 0;
	double t0;

	if (!c || !known || !pp) {
		CHECK(0);
		goto out;
	}
	c->t = wg_allowedips_create(conc_defer, c);
	if (!c->t) {
		CHECK(0);
		goto out;
	}
	for (int i = 0; i < C_STABLE; i++)
		pp[i] = &c->stable[i];
	for (int i = 0; i < C_CHURN; i++)
		pp[C_STABLE + i] = &c->churn[i];
	nsp = conc_stable(sp);
	for (int i = 0; i < nsp; i++)
		CHECK(wg_allowedips_insert(c->t, sp[i].fam, sp[i].a, sp[i].cidr,
					   &c->stable[sp[i].owner]) == 0);
	CHECK(wg_allowedips_count(c->t, AF_UNSPEC) == (size_t)nsp); /* all distinct */
	for (int i = 0; i < C_QUERIES; i++) {
		const struct conc_prefix *tgt;
		struct conc_prefix cp;
		uint8_t mk[16];

		do /* a /20 (/36) or longer: random host bits */
			tgt = &sp[rndn(&r, (uint32_t)nsp)];
		while (tgt->cidr <= (tgt->fam == AF_INET ? 16u : 32u));
		c->qfam[i] = tgt->fam;
		rnd_bytes(&r, c->q[i], 16);
		memset(mk, 0xff, 16);
		mask_bytes(mk, 16, tgt->cidr);
		for (int j = 0; j < 16; j++)
			c->q[i][j] = (uint8_t)((tgt->a[j] & mk[j]) | (c->q[i][j] & ~mk[j]));
		c->want[i] = conc_linear(sp, nsp, tgt->fam, c->q[i]);
		CHECK(c->want[i] >= 0);
		if (c->want[i] < 0)
			c->want[i] = 0;
		conc_churn_prefix(&r, &cp);
		c->cfam[i] = cp.fam;
		memcpy(c->cq[i], cp.a, 16);
		c->cq[i][15] ^= (uint8_t)rnd64(&r);
	}
	/* the answers hold before anything runs */
	for (int i = 0, bad = 0; i < C_QUERIES; i++) {
		struct wg_allowedips_owner *o = wg_allowedips_lookup(c->t, c->qfam[i], c->q[i]);

		if (o != &c->stable[c->want[i]] && bad++ < 5)
			CHECK_MSG(0,
				  "query %d (fam %d, %02x%02x%02x%02x%02x%02x): got %td, want %d",
				  i, c->qfam[i], c->q[i][0], c->q[i][1], c->q[i][2], c->q[i][3],
				  c->q[i][4], c->q[i][5], o ? o - c->stable : -1, c->want[i]);
	}

	for (int i = 0; i < C_READERS; i++) {
		ra[i] = (struct reader_arg){ c, i };
		if (pthread_create(&th[i], NULL, reader, &ra[i])) {
			CHECK(0);
			break;
		}
		started++;
	}
	t0 = now_s();
	while (started == C_READERS && now_s() - t0 < C_SECONDS) {
		for (int k = 0; k < 256; k++, ops++) {
			uint32_t r100 = rndn(&r, 100);
			struct conc_prefix *kp = &known[rndn(&r, C_KNOWN)];
			int ret;

			if (r100 < 55 || !kp->cidr) {
				conc_churn_prefix(&r, kp);
				CHECK(wg_allowedips_insert(c->t, kp->fam, kp->a, kp->cidr,
							   &c->churn[kp->owner]) == 0);
			} else if (r100 < 80) {
				ret = wg_allowedips_remove(c->t, kp->fam, kp->a, kp->cidr,
							   &c->churn[kp->owner]);
				CHECK(ret == 0 || ret == -ENOENT);
			} else if (r100 < 97) {
				kp->owner = (int)rndn(&r, C_CHURN);
				CHECK(wg_allowedips_insert(c->t, kp->fam, kp->a, kp->cidr,
							   &c->churn[kp->owner]) == 0);
			} else {
				wg_allowedips_remove_by_owner(c->t, &c->churn[rndn(&r, C_CHURN)]);
			}
		}
		conc_synchronize(c);
		graces++;
	}
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < c->npend; i++)
		wg_allowedips_node_free(c->pend[i]);
	c->npend = 0;
	for (int i = 0; i < started; i++) {
		lookups += c->rd[i].lookups;
		wrong += c->rd[i].wrong;
		garbage += c->rd[i].garbage;
	}
	CHECK_MSG(wrong == 0, "%" PRIu64 " stable lookups answered wrongly", wrong);
	CHECK_MSG(garbage == 0, "%" PRIu64 " lookups returned garbage", garbage);
	CHECK(ops > 1000 && lookups > 10000);
	CHECK_TABLE(c->t, pp, C_STABLE + C_CHURN);
	CHECK(wg_allowedips_count(c->t, AF_UNSPEC) >= (size_t)nsp);
	printf("# concurrent: %d readers, %" PRIu64 " lookups, %" PRIu64 " writer ops, %" PRIu64
	       " grace periods in %.1f s\n",
	       C_READERS, lookups, ops, graces, C_SECONDS);
out:
	if (c) {
		wg_allowedips_destroy(c->t);
		free(c->pend);
	}
	free(c);
	free(known);
	free(pp);
}

int main(void)
{
	TEST_BEGIN("dataplane/allowedips_test");
	RUN_TEST(test_kernel_lookups);
	RUN_TEST(test_kernel_remove_by_owner);
	RUN_TEST(test_kernel_deep_v6);
	RUN_TEST(test_kernel_walk);
	RUN_TEST(test_bad_arguments);
	RUN_TEST(test_host_bits_masked);
	RUN_TEST(test_move_to_new_owner);
	RUN_TEST(test_remove_single);
	RUN_TEST(test_default_routes_and_levels);
	RUN_TEST(test_owner_of);
	RUN_TEST(test_reserve_sizes);
	RUN_TEST(test_reserve_inserts);
	RUN_TEST(test_reserve4);
	RUN_TEST(test_removal_leaves_no_trace);
	RUN_TEST(test_defer_free_once);
	RUN_TEST(test_random_vs_model);
	RUN_TEST(test_remove_by_owner_cost);
	RUN_TEST(test_v4_table);
	RUN_TEST(test_million_prefixes);
	RUN_TEST(test_concurrent_readers);
	return TEST_END();
}
