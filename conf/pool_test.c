/* SPDX-License-Identifier: MIT */
/*
 * Tests of conf/pool.c: small pools enumerated address by address, the
 * never-handed-out addresses, reserve/release semantics, huge IPv6 pools,
 * exact rollback, randomized comparisons against naive references (a /20
 * against a byte map, a /48 with far-away reservations against a byte map
 * plus a list) and a timing run over a /14.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "tests/harness.h"
#include "conf/parse_util.h"
#include "conf/pool.h"

static struct wg_pool *make(const char *prefix)
{
	struct wg_conf_prefix pfx;
	struct wg_pool *p = NULL;
	const char *why;
	int rc;

	if (!wg_conf_parse_prefix(prefix, true, &pfx, &why)) {
		fprintf(stderr, "bad prefix in test: %s (%s)\n", prefix, why);
		abort();
	}
	rc = wg_pool_create(&p, &pfx);
	CHECK_MSG(rc == 0, "create %s: %d", prefix, rc);
	return rc ? NULL : p;
}

/* an address from text; aborts on a test bug */
static void A(uint8_t addr[16], const char *s)
{
	uint8_t family;
	const char *why;

	if (!wg_conf_parse_addr(s, &family, addr, &why)) {
		fprintf(stderr, "bad address in test: %s\n", s);
		abort();
	}
}

static const char *fmt(const struct wg_pool *p, const uint8_t addr[16])
{
	static char buf[4][WG_CONF_PREFIX_STR];
	static unsigned n;
	char *b = buf[n++ % 4];

	wg_conf_format_addr(b, wg_pool_prefix(p)->family, addr);
	return b;
}

static int reserve_s(struct wg_pool *p, const char *s)
{
	uint8_t a[16];

	A(a, s);
	return wg_pool_reserve(p, a);
}

static int release_s(struct wg_pool *p, const char *s)
{
	uint8_t a[16];

	A(a, s);
	return wg_pool_release(p, a);
}

static bool taken_s(const struct wg_pool *p, const char *s)
{
	uint8_t a[16];

	A(a, s);
	return wg_pool_is_taken(p, a);
}

/* alloc and compare with the expected text */
static bool alloc_is(struct wg_pool *p, const char *want)
{
	uint8_t a[16];
	int rc = wg_pool_alloc(p, a);

	CHECK_MSG(rc == 0, "alloc: %d, want %s", rc, want);
	if (rc)
		return false;
	CHECK_MSG(!strcmp(fmt(p, a), want), "alloc gave %s, want %s", fmt(p, a), want);
	return !strcmp(fmt(p, a), want);
}

/* a + i in the low 64 bits (test helper, no carry into the high half needed) */
static void add_offset(uint8_t out[16], const uint8_t a[16], uint64_t i, bool v4)
{
	memcpy(out, a, 16);
	for (int k = v4 ? 3 : 15; k >= 0 && i; k--) {
		uint64_t s = out[k] + (i & 0xff);

		out[k] = (uint8_t)s;
		i = (i >> 8) + (s >> 8);
	}
}

static const struct {
	const char *prefix;
	uint64_t capacity;
	const char *addrs; /* every address in allocation order */
} listed[] = {
	{ "10.8.0.0/30", 2, "10.8.0.1 10.8.0.2" },
	{ "10.8.0.4/31", 2, "10.8.0.4 10.8.0.5" },
	{ "10.8.0.7/32", 1, "10.8.0.7" },
	{ "10.8.0.8/29", 6, "10.8.0.9 10.8.0.10 10.8.0.11 10.8.0.12 10.8.0.13 10.8.0.14" },
	{ "255.255.255.252/30", 2, "255.255.255.253 255.255.255.254" },
	{ "0.0.0.0/31", 2, "0.0.0.0 0.0.0.1" },
	{ "255.255.255.255/32", 1, "255.255.255.255" },
	{ "fd00:8::/126", 3, "fd00:8::1 fd00:8::2 fd00:8::3" },
	{ "fd00:8::2/127", 2, "fd00:8::2 fd00:8::3" },
	{ "fd00:8::5/128", 1, "fd00:8::5" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff8/125", 7,
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff9 ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffa "
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffb ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc "
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe "
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ "::/127", 2, ":: ::1" },
};

/* pools across the bitmap's 64-bit word and level boundaries: first .. last in order */
static const struct {
	const char *prefix, *first, *last;
	uint64_t capacity;
} ranged[] = {
	{ "10.8.1.0/26", "10.8.1.1", "10.8.1.62", 62 },
	{ "10.8.1.0/25", "10.8.1.1", "10.8.1.126", 126 },
	{ "192.168.0.0/24", "192.168.0.1", "192.168.0.254", 254 },
	{ "10.8.0.0/20", "10.8.0.1", "10.8.15.254", 4094 },
	{ "10.8.0.0/18", "10.8.0.1", "10.8.63.254", 16382 },
	{ "fd00:8::/122", "fd00:8::1", "fd00:8::3f", 63 },
	{ "fd00:8::/120", "fd00:8::1", "fd00:8::ff", 255 },
	{ "fd00:8::/115", "fd00:8::1", "fd00:8::1fff", 8191 },
};

/* alloc until -ENOSPC, expecting want[0..n); then nothing changes */
static void enumerate(struct wg_pool *p, const uint8_t (*want)[16], size_t n, const char *name)
{
	uint8_t a[16], keep[16];
	size_t mem;
	int rc;

	for (size_t i = 0; i < n; i++) {
		rc = wg_pool_alloc(p, a);
		CHECK_MSG(rc == 0, "%s: alloc %zu: %d", name, i, rc);
		if (rc)
			return;
		CHECK_MSG(!memcmp(a, want[i], 16), "%s: alloc %zu gave %s, want %s", name, i,
			  fmt(p, a), fmt(p, want[i]));
		CHECK(wg_pool_is_taken(p, a));
		CHECK(wg_pool_used(p) == i + 1);
	}
	CHECK(wg_pool_used(p) == wg_pool_capacity(p));
	mem = wg_pool_memory(p);
	for (int k = 0; k < 3; k++) {
		memset(a, 0xa5, 16);
		memcpy(keep, a, 16);
		CHECK_MSG(wg_pool_alloc(p, a) == -ENOSPC, "%s: not exhausted", name);
		CHECK_MEM(a, keep, 16);
		CHECK(wg_pool_used(p) == n);
		CHECK(wg_pool_memory(p) == mem);
	}
	for (size_t i = 0; i < n; i++)
		CHECK(wg_pool_is_taken(p, want[i]));
}

static void test_small_pools(void)
{
	static uint8_t want[256][16];

	for (size_t r = 0; r < sizeof(listed) / sizeof(listed[0]); r++) {
		struct wg_pool *p = make(listed[r].prefix);
		char list[512], *tok, *save;
		size_t n = 0;

		if (!p)
			continue;
		snprintf(list, sizeof(list), "%s", listed[r].addrs);
		for (tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			A(want[n++], tok);
		CHECK_MSG(wg_pool_capacity(p) == listed[r].capacity, "%s: capacity %llu",
			  listed[r].prefix, (unsigned long long)wg_pool_capacity(p));
		CHECK(n == listed[r].capacity);
		enumerate(p, (const uint8_t(*)[16])want, n, listed[r].prefix);
		/* all back, in reverse, and the same sequence again */
		for (size_t i = n; i-- > 0;)
			CHECK(wg_pool_release(p, want[i]) == 0);
		CHECK(wg_pool_used(p) == 0);
		enumerate(p, (const uint8_t(*)[16])want, n, listed[r].prefix);
		wg_pool_destroy(p);
	}
}

static void test_ranged_pools(void)
{
	static uint8_t want[16384][16];

	for (size_t r = 0; r < sizeof(ranged) / sizeof(ranged[0]); r++) {
		struct wg_pool *p = make(ranged[r].prefix);
		bool v4 = !strchr(ranged[r].prefix, ':');
		uint8_t first[16], last[16];
		uint64_t n = ranged[r].capacity;

		if (!p)
			continue;
		A(first, ranged[r].first);
		A(last, ranged[r].last);
		CHECK(wg_pool_capacity(p) == n);
		for (uint64_t i = 0; i < n; i++)
			add_offset(want[i], first, i, v4);
		CHECK_MEM(want[n - 1], last, 16);
		enumerate(p, (const uint8_t(*)[16])want, n, ranged[r].prefix);
		/* every other one back: they come out again lowest first */
		for (uint64_t i = 0; i < n; i += 2)
			CHECK(wg_pool_release(p, want[i]) == 0);
		for (uint64_t i = 0; i < n; i += 2) {
			uint8_t a[16];

			CHECK(wg_pool_alloc(p, a) == 0);
			CHECK_MSG(!memcmp(a, want[i], 16), "%s: realloc gave %s, want %s",
				  ranged[r].prefix, fmt(p, a), fmt(p, want[i]));
		}
		CHECK(wg_pool_alloc(p, first) == -ENOSPC);
		wg_pool_destroy(p);
	}
}

static void test_create_errors(void)
{
	static const struct {
		uint8_t family, cidr;
		const char *addr;
		int want;
	} rows[] = {
		{ AF_INET, 16, "10.8.0.0", 0 },
		{ AF_INET, 0, "0.0.0.0", 0 },
		{ AF_INET6, 0, "::", 0 },
		{ AF_INET6, 128, "fd00::1", 0 },
		{ AF_INET, 33, "10.8.0.0", -EINVAL },
		{ AF_INET6, 129, "fd00::", -EINVAL },
		{ AF_INET, 16, "10.8.0.1", -EINVAL },   /* host bits set */
		{ AF_INET, 0, "10.0.0.0", -EINVAL },
		{ AF_INET6, 64, "fd00::1", -EINVAL },
		{ AF_INET6, 127, "fd00::1", -EINVAL },
		{ AF_INET6, 1, "8000::", 0 },
		{ AF_INET6, 1, "4000::", -EINVAL },
		{ 0, 16, "10.8.0.0", -EINVAL },
		{ AF_UNIX, 16, "10.8.0.0", -EINVAL },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct wg_conf_prefix pfx = { .family = rows[i].family, .cidr = rows[i].cidr };
		struct wg_pool *p = NULL;
		int rc;

		A(pfx.addr, rows[i].addr);
		rc = wg_pool_create(&p, &pfx);
		CHECK_MSG(rc == rows[i].want, "row %zu: %d", i, rc);
		if (!rc) {
			CHECK(wg_pool_prefix(p)->family == rows[i].family);
			CHECK(wg_pool_prefix(p)->cidr == rows[i].cidr);
			CHECK_MEM(wg_pool_prefix(p)->addr, pfx.addr, 16);
			CHECK(wg_pool_used(p) == 0);
		}
		wg_pool_destroy(p);
	}
	/* an IPv4 prefix with bytes beyond the fourth set */
	{
		struct wg_conf_prefix pfx = { .family = AF_INET, .cidr = 16 };
		struct wg_pool *p = NULL;

		A(pfx.addr, "10.8.0.0");
		pfx.addr[9] = 1;
		CHECK(wg_pool_create(&p, &pfx) == -EINVAL);
	}
	/* flags are not kept */
	{
		struct wg_conf_prefix pfx = { .family = AF_INET, .cidr = 24,
					      .flags = WG_CONF_PREFIX_REMOVE_ME };
		struct wg_pool *p = NULL;

		A(pfx.addr, "10.8.0.0");
		CHECK(wg_pool_create(&p, &pfx) == 0);
		CHECK(p && wg_pool_prefix(p)->flags == 0);
		wg_pool_destroy(p);
	}
	wg_pool_destroy(NULL);
}

/* never handed out, outside, wrong family: each call on its own */
static const struct {
	const char *prefix, *addr;
	bool contains;
} refused[] = {
	{ "10.8.0.0/16", "10.8.0.0", true },          /* network */
	{ "10.8.0.0/16", "10.8.255.255", true },      /* broadcast */
	{ "10.8.0.0/30", "10.8.0.0", true },
	{ "10.8.0.0/30", "10.8.0.3", true },
	{ "10.8.0.0/16", "10.9.0.1", false },
	{ "10.8.0.0/16", "10.7.255.255", false },
	{ "10.8.0.0/16", "0.0.0.0", false },
	{ "10.8.0.0/16", "fd00:8::1", false },
	{ "10.8.0.0/16", "a08:1::1", false },         /* 10.8.0.1 with more bytes set */
	{ "10.8.0.4/31", "10.8.0.6", false },
	{ "10.8.0.7/32", "10.8.0.6", false },
	{ "10.8.0.7/32", "10.8.0.8", false },
	{ "fd00:8::/64", "fd00:8::", true },          /* subnet-router anycast */
	{ "fd00:8::/126", "fd00:8::", true },
	{ "fd00:8::/64", "fd00:9::1", false },
	{ "fd00:8::/64", "fd00:8:0:1::", false },
	{ "fd00:8::/64", "10.8.0.1", false },
	{ "fd00:8::/48", "fd00:8::", true },
	{ "fd00:8::/48", "fd00:7:ffff:ffff:ffff:ffff:ffff:ffff", false },
	{ "fd00:8::/48", "fd00:9::", false },
	{ "fd00:8::2/127", "fd00:8::4", false },
	{ "fd00:8::5/128", "fd00:8::4", false },
	{ "::/0", "::", true },
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "0.0.0.0/0", "0.0.0.0", true },
};

static void test_refused_addresses(void)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct wg_pool *p = make(refused[i].prefix);
		uint8_t a[16];

		if (!p)
			continue;
		A(a, refused[i].addr);
		CHECK_MSG(wg_pool_contains(p, a) == refused[i].contains, "row %zu", i);
		CHECK_MSG(wg_pool_reserve(p, a) == -EDOM, "row %zu", i);
		CHECK_MSG(wg_pool_release(p, a) == -EDOM, "row %zu", i);
		CHECK_MSG(!wg_pool_is_taken(p, a), "row %zu", i);
		CHECK(wg_pool_used(p) == 0);
		/* and it is never handed out: the first alloc is something else */
		if (wg_pool_alloc(p, a) == 0) {
			uint8_t r[16];

			A(r, refused[i].addr);
			CHECK_MSG(memcmp(a, r, 16), "row %zu handed out %s", i, fmt(p, a));
		}
		wg_pool_destroy(p);
	}
}

static void test_reserve_release(void)
{
	struct wg_pool *p = make("10.8.0.0/16"), *q = make("fd00:8::/64");

	if (!p || !q)
		return;
	CHECK(reserve_s(p, "10.8.0.1") == 0);        /* the interface's own address */
	CHECK(reserve_s(p, "10.8.0.1") == -EADDRINUSE);
	CHECK(taken_s(p, "10.8.0.1"));
	CHECK(!taken_s(p, "10.8.0.2"));
	CHECK(wg_pool_used(p) == 1);
	CHECK(reserve_s(p, "10.8.200.7") == 0);      /* far up: the sparse set */
	CHECK(reserve_s(p, "10.8.200.7") == -EADDRINUSE);
	CHECK(reserve_s(p, "10.8.255.254") == 0);    /* the last usable */
	CHECK(wg_pool_used(p) == 3);
	CHECK(alloc_is(p, "10.8.0.2"));
	CHECK(alloc_is(p, "10.8.0.3"));
	CHECK(reserve_s(p, "10.8.0.3") == -EADDRINUSE);
	CHECK(release_s(p, "10.8.0.4") == -ENOENT);
	CHECK(release_s(p, "10.8.200.8") == -ENOENT);
	CHECK(release_s(p, "10.8.0.2") == 0);
	CHECK(release_s(p, "10.8.0.2") == -ENOENT);
	CHECK(release_s(p, "10.8.200.7") == 0);
	CHECK(release_s(p, "10.8.200.7") == -ENOENT);
	CHECK(!taken_s(p, "10.8.200.7"));
	CHECK(wg_pool_used(p) == 3);
	CHECK(alloc_is(p, "10.8.0.2"));
	CHECK(alloc_is(p, "10.8.0.4"));
	CHECK(release_s(p, "10.9.0.1") == -EDOM);
	CHECK(reserve_s(p, "fd00:8::1") == -EDOM);

	CHECK(reserve_s(q, "fd00:8::1") == 0);
	CHECK(reserve_s(q, "fd00:8::ffff:ffff:ffff:ffff") == 0);
	CHECK(reserve_s(q, "fd00:8::8000:0:0:0") == 0);
	CHECK(reserve_s(q, "fd00:8::8000:0:0:0") == -EADDRINUSE);
	CHECK(alloc_is(q, "fd00:8::2"));
	CHECK(wg_pool_used(q) == 4);
	CHECK(release_s(q, "fd00:8::ffff:ffff:ffff:ffff") == 0);
	CHECK(release_s(q, "fd00:8::ffff:ffff:ffff:ffff") == -ENOENT);
	CHECK(reserve_s(q, "10.8.0.1") == -EDOM);
	CHECK(wg_pool_used(q) == 3);
	wg_pool_destroy(p);
	wg_pool_destroy(q);
}

/* reserved addresses, near and far, are never handed out by alloc */
static void test_reserve_then_alloc(void)
{
	static const char *const res[] = {
		"10.8.0.1", "10.8.0.2", "10.8.0.64", "10.8.0.65", "10.8.1.0", "10.8.3.255",
		"10.8.7.7", "10.8.12.34", "10.8.15.253", "10.8.15.254",
	};
	struct wg_pool *p = make("10.8.0.0/20");
	uint8_t r[10][16], a[16];
	uint64_t n = 0;

	if (!p)
		return;
	for (size_t i = 0; i < 10; i++) {
		A(r[i], res[i]);
		CHECK(wg_pool_reserve(p, r[i]) == 0);
	}
	CHECK(alloc_is(p, "10.8.0.3"));
	n++;
	while (wg_pool_alloc(p, a) == 0) {
		n++;
		for (size_t i = 0; i < 10; i++)
			CHECK_MSG(memcmp(a, r[i], 16), "alloc returned reserved %s", res[i]);
	}
	CHECK(n == 4094 - 10);
	CHECK(wg_pool_used(p) == 4094);
	CHECK(wg_pool_alloc(p, a) == -ENOSPC);
	/* one reserved given back comes out next */
	CHECK(wg_pool_release(p, r[6]) == 0);
	CHECK(alloc_is(p, "10.8.7.7"));
	wg_pool_destroy(p);
}

static void test_reuse_lowest_first(void)
{
	struct wg_pool *p = make("10.8.0.0/16");
	char s[32];

	if (!p)
		return;
	for (int i = 1; i <= 10; i++) {
		snprintf(s, sizeof(s), "10.8.0.%d", i);
		CHECK(alloc_is(p, s));
	}
	CHECK(release_s(p, "10.8.0.7") == 0);
	CHECK(release_s(p, "10.8.0.3") == 0);
	CHECK(release_s(p, "10.8.0.5") == 0);
	CHECK(alloc_is(p, "10.8.0.3"));
	CHECK(alloc_is(p, "10.8.0.5"));
	CHECK(alloc_is(p, "10.8.0.7"));
	CHECK(alloc_is(p, "10.8.0.11"));
	/* across the growth of the bitmap: 300 out, one low one back */
	for (int i = 12; i <= 300; i++) {
		snprintf(s, sizeof(s), "10.8.%d.%d", i / 256, i % 256);
		CHECK(alloc_is(p, s));
	}
	CHECK(release_s(p, "10.8.0.200") == 0);
	CHECK(release_s(p, "10.8.0.64") == 0);
	CHECK(alloc_is(p, "10.8.0.64"));
	CHECK(alloc_is(p, "10.8.0.200"));
	CHECK(alloc_is(p, "10.8.1.45"));
	wg_pool_destroy(p);
}

static void test_huge_pools(void)
{
	static const struct {
		const char *prefix;
		uint64_t capacity;
		const char *first[3];
		const char *last; /* highest usable: reserve and release it */
	} rows[] = {
		{ "fd00:8::/64", UINT64_MAX, { "fd00:8::1", "fd00:8::2", "fd00:8::3" },
		  "fd00:8::ffff:ffff:ffff:ffff" },
		{ "fd00:8::/48", UINT64_MAX, { "fd00:8::1", "fd00:8::2", "fd00:8::3" },
		  "fd00:8:0:ffff:ffff:ffff:ffff:ffff" },
		{ "fd00:8::/65", (1ull << 63) - 1, { "fd00:8::1", "fd00:8::2", "fd00:8::3" },
		  "fd00:8::7fff:ffff:ffff:ffff" },
		{ "::/0", UINT64_MAX, { "::1", "::2", "::3" }, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ "10.0.0.0/8", (1ull << 24) - 2, { "10.0.0.1", "10.0.0.2", "10.0.0.3" },
		  "10.255.255.254" },
		{ "0.0.0.0/0", (1ull << 32) - 2, { "0.0.0.1", "0.0.0.2", "0.0.0.3" },
		  "255.255.255.254" },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct wg_pool *p = make(rows[r].prefix);
		size_t mem0;

		if (!p)
			continue;
		mem0 = wg_pool_memory(p);
		CHECK_MSG(wg_pool_capacity(p) == rows[r].capacity, "%s: %llu", rows[r].prefix,
			  (unsigned long long)wg_pool_capacity(p));
		CHECK(mem0 < 256);
		CHECK(reserve_s(p, rows[r].last) == 0);
		CHECK(taken_s(p, rows[r].last));
		for (int i = 0; i < 3; i++)
			CHECK(alloc_is(p, rows[r].first[i]));
		CHECK(release_s(p, rows[r].last) == 0);
		CHECK(!taken_s(p, rows[r].last));
		CHECK(wg_pool_used(p) == 3);
		/* a huge pool costs nothing up front */
		CHECK_MSG(wg_pool_memory(p) < 512, "%s: %zu bytes", rows[r].prefix,
			  wg_pool_memory(p));
		wg_pool_destroy(p);
	}
	/* a /48: far reservations with the high word set, then 10,000 in order */
	{
		struct wg_pool *p = make("fd00:8::/48");
		uint8_t a[16], base[16];

		if (!p)
			return;
		CHECK(reserve_s(p, "fd00:8:0:1::") == 0);
		CHECK(reserve_s(p, "fd00:8:0:8000::1") == 0);
		CHECK(reserve_s(p, "fd00:8:0:1::") == -EADDRINUSE);
		A(base, "fd00:8::");
		for (uint64_t i = 1; i <= 10000; i++) {
			uint8_t w[16];

			add_offset(w, base, i, false);
			CHECK(wg_pool_alloc(p, a) == 0);
			CHECK(!memcmp(a, w, 16));
		}
		CHECK(taken_s(p, "fd00:8:0:1::"));
		CHECK(release_s(p, "fd00:8:0:1::") == 0);
		CHECK(release_s(p, "fd00:8:0:8000::1") == 0);
		CHECK(release_s(p, "fd00:8:0:8000::1") == -ENOENT);
		CHECK(wg_pool_used(p) == 10000);
		wg_pool_destroy(p);
	}
}

/* ---- randomized ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

/*
 * Two pools through the same operations, one of them with an alloc or
 * reserve rolled back by release before each step: their answers never
 * differ.
 */
static void test_rollback_exact(void)
{
	static const char *const prefixes[] = { "10.8.0.0/20", "fd00:8::/64", "10.8.0.0/26" };

	for (size_t r = 0; r < 3; r++) {
		struct wg_pool *a = make(prefixes[r]), *b = make(prefixes[r]);
		uint8_t base[16];
		bool v4 = !strchr(prefixes[r], ':');
		uint64_t span = v4 ? (r == 2 ? 64 : 4096) : 1u << 20;

		if (!a || !b)
			goto out;
		memcpy(base, wg_pool_prefix(a)->addr, 16);
		rng_state = 0x1234567 + r;
		for (int step = 0; step < 20000; step++) {
			uint8_t x[16], y[16], t[16];
			int op = (int)rnd_below(10), ra, rb;

			/* the rolled-back change on a */
			if (rnd_below(2)) {
				if (wg_pool_alloc(a, t) == 0)
					CHECK(wg_pool_release(a, t) == 0);
			} else {
				add_offset(t, base, rnd_below(span), v4);
				if (wg_pool_reserve(a, t) == 0)
					CHECK(wg_pool_release(a, t) == 0);
			}
			if (op < 5) {
				memset(x, 0, 16);
				memset(y, 0, 16);
				ra = wg_pool_alloc(a, x);
				rb = wg_pool_alloc(b, y);
				CHECK(ra == rb);
				CHECK(!memcmp(x, y, 16));
			} else {
				add_offset(x, base, rnd_below(op < 7 ? span : span / 8), v4);
				ra = op < 7 ? wg_pool_reserve(a, x) : wg_pool_release(a, x);
				rb = op < 7 ? wg_pool_reserve(b, x) : wg_pool_release(b, x);
				CHECK(ra == rb);
			}
			CHECK(wg_pool_used(a) == wg_pool_used(b));
		}
out:
		wg_pool_destroy(a);
		wg_pool_destroy(b);
	}
}

#define V4_BITS 12 /* a /20 */
#define V4_N (1u << V4_BITS)

/* the lowest free offset of the reference, or -1 */
static long naive_lowest(const uint8_t *taken, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!taken[i])
			return (long)i;
	return -1;
}

static void compare_all_v4(struct wg_pool *p, const uint8_t *taken, uint64_t used,
			   const uint8_t base[16])
{
	for (uint32_t o = 0; o < V4_N; o++) {
		uint8_t a[16];

		add_offset(a, base, o, true);
		if (wg_pool_is_taken(p, a) != (taken[o] == 1)) {
			CHECK_MSG(0, "offset %u: is_taken differs", o);
			break;
		}
	}
	CHECK(wg_pool_used(p) == used);
}

/*
 * 100,000 random operations over a /20 in 5 rounds of fresh pools, compared
 * with a byte map (0 free, 1 taken, 2 never handed out). Each round starts
 * with scattered reservations (the sparse set) and swings between filling
 * the pool up to -ENOSPC and emptying it.
 */
static void test_random_vs_naive_v4(void)
{
	static uint8_t taken[V4_N];
	uint64_t ops = 0, allocs = 0, nospc = 0;

	rng_state = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 5; round++) {
		struct wg_pool *p = make("10.8.0.0/20");
		uint8_t base[16];
		uint64_t used = 0;

		if (!p)
			return;
		memcpy(base, wg_pool_prefix(p)->addr, 16);
		memset(taken, 0, sizeof(taken));
		taken[0] = taken[V4_N - 1] = 2;
		for (int i = 0; i < 20000; i++, ops++) {
			/* phases of 2,500: scattered reserves, then fill, drain, fill... */
			int phase = i / 2500;
			uint64_t r = rnd_below(100);
			uint8_t a[16];
			long o;
			int rc, want;

			if (phase == 0 ? r < 5 : phase % 2 ? r < 80 : r < 10) {
				long lo = naive_lowest(taken, V4_N);

				memset(a, 0x5a, 16);
				rc = wg_pool_alloc(p, a);
				if (lo < 0) {
					CHECK(rc == -ENOSPC);
					nospc++;
					continue;
				}
				CHECK_MSG(rc == 0, "op %llu: alloc %d", (unsigned long long)ops, rc);
				if (rc)
					continue;
				{
					uint8_t w[16];

					add_offset(w, base, (uint64_t)lo, true);
					CHECK_MSG(!memcmp(a, w, 16), "op %llu: alloc %s, want %s",
						  (unsigned long long)ops, fmt(p, a), fmt(p, w));
				}
				taken[lo] = 1;
				used++;
				allocs++;
				continue;
			}
			if (r < 90) {
				/* release, or reserve: an offset anywhere, or outside */
				bool rel = phase == 0 ? r < 30 : phase % 2 ? r < 85 : r < 80;

				o = (long)rnd_below(V4_N);
				add_offset(a, base, (uint64_t)o, true);
				if (rnd_below(50) == 0) {
					a[2] ^= 0x40; /* another /20 */
					o = -1;
				} else if (rnd_below(100) == 0) {
					a[4 + rnd_below(12)] = 1; /* not IPv4 */
					o = -1;
				}
				rc = rel ? wg_pool_release(p, a) : wg_pool_reserve(p, a);
				if (o < 0 || taken[o] == 2)
					want = -EDOM;
				else if (rel)
					want = taken[o] ? 0 : -ENOENT;
				else
					want = taken[o] ? -EADDRINUSE : 0;
				CHECK_MSG(rc == want, "op %llu: %s %s: %d, want %d",
					  (unsigned long long)ops, rel ? "release" : "reserve",
					  fmt(p, a), rc, want);
				if (rc == 0 && want == 0) {
					taken[o] = rel ? 0 : 1;
					used += rel ? -1ull : 1;
				}
				continue;
			}
			o = (long)rnd_below(V4_N);
			add_offset(a, base, (uint64_t)o, true);
			CHECK(wg_pool_is_taken(p, a) == (taken[o] == 1));
			CHECK(wg_pool_contains(p, a));
			if (i % 1000 == 999)
				compare_all_v4(p, taken, used, base);
		}
		compare_all_v4(p, taken, used, base);
		wg_pool_destroy(p);
	}
	CHECK(ops == 100000);
	CHECK(nospc > 0);
	printf("  /20: %llu operations, %llu allocations, %llu exhausted\n",
	       (unsigned long long)ops, (unsigned long long)allocs, (unsigned long long)nospc);
}

#define V6_SMALL 16384u
#define V6_FAR_MAX 4096u

struct far {
	uint64_t hi, lo; /* offset in the /48: hi holds the top 16 of 80 bits */
};

static void far_addr(uint8_t a[16], const uint8_t base[16], struct far f)
{
	memcpy(a, base, 16);
	a[6] = (uint8_t)(f.hi >> 8);
	a[7] = (uint8_t)f.hi;
	for (int k = 0; k < 8; k++)
		a[8 + k] = (uint8_t)(f.lo >> (56 - 8 * k));
}

static long far_find(const struct far *v, size_t n, struct far f)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].hi == f.hi && v[i].lo == f.lo)
			return (long)i;
	return -1;
}

/*
 * A /48 (80 host bits): allocations and reserves near the bottom compared
 * with a byte map, reserves and releases of far offsets (the high word set
 * or above 2^40) compared with a list.
 */
static void test_random_vs_naive_v6(void)
{
	static uint8_t small[V6_SMALL];
	static struct far far[V6_FAR_MAX];
	size_t nfar = 0;
	uint64_t used = 0;
	struct wg_pool *p = make("fd00:8::/48");
	uint8_t base[16];

	if (!p)
		return;
	memcpy(base, wg_pool_prefix(p)->addr, 16);
	rng_state = 0xfeedface;
	memset(small, 0, sizeof(small));
	small[0] = 2;
	for (int i = 0; i < 30000; i++) {
		uint64_t r = rnd_below(100);
		uint8_t a[16], w[16];
		int rc, want;

		if (r < 30) {
			long lo = naive_lowest(small, V6_SMALL);

			rc = wg_pool_alloc(p, a);
			CHECK(rc == 0);
			add_offset(w, base, (uint64_t)lo, false);
			CHECK_MSG(!memcmp(a, w, 16), "op %d: alloc %s, want %s", i, fmt(p, a),
				  fmt(p, w));
			small[lo] = 1;
			used++;
		} else if (r < 55) {
			uint64_t o = rnd_below(r < 40 ? V6_SMALL : 2048);
			bool rel = r >= 45;

			add_offset(a, base, o, false);
			rc = rel ? wg_pool_release(p, a) : wg_pool_reserve(p, a);
			want = small[o] == 2 ? -EDOM : rel ? (small[o] ? 0 : -ENOENT)
							   : (small[o] ? -EADDRINUSE : 0);
			CHECK_MSG(rc == want, "op %d: %d, want %d", i, rc, want);
			if (!rc && !want) {
				small[o] = rel ? 0 : 1;
				used += rel ? -1ull : 1;
			}
		} else if (r < 95) {
			struct far f;
			bool rel = r >= 75;
			long at;

			if (rel && nfar && rnd_below(2)) {
				f = far[rnd_below(nfar)];
			} else {
				f.hi = rnd_below(4) ? rnd() & 0xffff : 0;
				f.lo = rnd();
				if (!f.hi && f.lo < (1ull << 40))
					f.lo |= 1ull << 40;
				if (rnd_below(4) == 0)
					f.lo &= ~0xffffffull; /* a few collide in the low bits */
			}
			if (!rel && nfar == V6_FAR_MAX)
				continue;
			far_addr(a, base, f);
			at = far_find(far, nfar, f);
			rc = rel ? wg_pool_release(p, a) : wg_pool_reserve(p, a);
			want = rel ? (at >= 0 ? 0 : -ENOENT) : (at >= 0 ? -EADDRINUSE : 0);
			CHECK_MSG(rc == want, "op %d: far %s: %d, want %d", i, fmt(p, a), rc, want);
			if (!rc && !want) {
				if (rel)
					far[at] = far[--nfar];
				else
					far[nfar++] = f;
				used += rel ? -1ull : 1;
			}
		} else {
			for (size_t k = 0; k < nfar; k += 1 + nfar / 16) {
				far_addr(a, base, far[k]);
				CHECK(wg_pool_is_taken(p, a));
			}
			uint64_t o = rnd_below(V6_SMALL);

			add_offset(a, base, o, false);
			CHECK(wg_pool_is_taken(p, a) == (small[o] == 1));
		}
		CHECK(wg_pool_used(p) == used);
	}
	for (size_t k = 0; k < nfar; k++) {
		uint8_t a[16];

		far_addr(a, base, far[k]);
		CHECK(wg_pool_is_taken(p, a));
		CHECK(wg_pool_release(p, a) == 0);
	}
	for (uint32_t o = 1; o < V6_SMALL; o++) {
		uint8_t a[16];

		add_offset(a, base, o, false);
		CHECK(wg_pool_is_taken(p, a) == (small[o] == 1));
	}
	printf("  /48: %zu far reservations at the end, %llu taken\n", nfar,
	       (unsigned long long)used);
	wg_pool_destroy(p);
}

/* ---- scale ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void shuffle(uint32_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rnd_below(i);
		uint32_t t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/*
 * A /14 (262,142 usable): 200,000 allocated in order, all released in random
 * order, 200,000 allocated again, then 100,000 random release + alloc pairs
 * (each alloc must return the lowest free, which the test knows: the one
 * just released when it is the only hole). Timed, not failed on time.
 */
static void test_scale_v4(void)
{
	enum { N = 200000 };
	static uint32_t order[N];
	struct wg_pool *p = make("10.64.0.0/14");
	uint8_t base[16], a[16], w[16];
	double t0, t1;
	uint64_t ops = 0;
	size_t mem;

	if (!p)
		return;
	memcpy(base, wg_pool_prefix(p)->addr, 16);
	rng_state = 42;
	t0 = now_s();
	for (uint32_t i = 1; i <= N; i++, ops++) {
		add_offset(w, base, i, true);
		if (wg_pool_alloc(p, a) || memcmp(a, w, 16)) {
			CHECK_MSG(0, "alloc %u gave %s", i, fmt(p, a));
			break;
		}
	}
	t1 = now_s();
	mem = wg_pool_memory(p);
	printf("  /14: %d allocations in %.1f ms, %zu bytes (%.2f per address)\n", N,
	       (t1 - t0) * 1e3, mem, (double)mem / N);
	CHECK(mem < 32 * N);
	for (uint32_t i = 0; i < N; i++)
		order[i] = i + 1;
	shuffle(order, N);
	for (uint32_t i = 0; i < N; i++, ops++) {
		add_offset(w, base, order[i], true);
		if (wg_pool_release(p, w)) {
			CHECK_MSG(0, "release %s", fmt(p, w));
			break;
		}
	}
	CHECK(wg_pool_used(p) == 0);
	for (uint32_t i = 1; i <= N; i++, ops++) {
		add_offset(w, base, i, true);
		if (wg_pool_alloc(p, a) || memcmp(a, w, 16)) {
			CHECK_MSG(0, "re-alloc %u gave %s", i, fmt(p, a));
			break;
		}
	}
	for (uint32_t i = 0; i < 100000; i++, ops += 2) {
		add_offset(w, base, 1 + rnd_below(N), true);
		if (wg_pool_release(p, w) || wg_pool_alloc(p, a) || memcmp(a, w, 16)) {
			CHECK_MSG(0, "release + alloc of %s gave %s", fmt(p, w), fmt(p, a));
			break;
		}
	}
	/* the rest of the pool, then exhaustion */
	while (wg_pool_alloc(p, a) == 0)
		ops++;
	t1 = now_s();
	CHECK(wg_pool_used(p) == (1u << 18) - 2);
	printf("  /14: %llu operations in %.1f ms (%.0f ns each)\n", (unsigned long long)ops,
	       (t1 - t0) * 1e3, (t1 - t0) * 1e9 / (double)ops);
	wg_pool_destroy(p);
}

/*
 * Memory per taken address: a state file reloaded in random order into a
 * /14 (100,000 reserves), and 100,000 scattered reserves in a /64 and a /48
 * (all in the sparse set, the worst case).
 */
static void test_memory(void)
{
	static const struct {
		const char *prefix;
		bool v4, scattered;
		uint64_t hi_mask; /* of the 16 bits above the low 64 that are host bits */
		double max_per_addr;
	} rows[] = {
		{ "10.64.0.0/14", true, false, 0, 4 },
		{ "fd00:8::/64", false, false, 0, 4 },
		{ "fd00:8::/64", false, true, 0, 32 },
		{ "fd00:8::/48", false, true, 0xffff, 64 },
	};
	enum { N = 100000 };
	static uint32_t order[N];

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct wg_pool *p = make(rows[r].prefix);
		uint8_t base[16], a[16];
		double t0 = now_s(), per;

		if (!p)
			continue;
		memcpy(base, wg_pool_prefix(p)->addr, 16);
		rng_state = 77 + r;
		for (uint32_t i = 0; i < N; i++)
			order[i] = i + 1;
		shuffle(order, N);
		for (uint32_t i = 0; i < N; i++) {
			if (rows[r].scattered) {
				struct far f = { rnd() & rows[r].hi_mask, rnd() | 1ull << 63 };

				far_addr(a, base, f);
			} else {
				add_offset(a, base, order[i], rows[r].v4);
			}
			CHECK(wg_pool_reserve(p, a) == 0);
		}
		CHECK(wg_pool_used(p) == N);
		per = (double)wg_pool_memory(p) / N;
		printf("  %s %s: %d reserves in %.1f ms, %.2f bytes per address\n", rows[r].prefix,
		       rows[r].scattered ? "scattered" : "random order", N, (now_s() - t0) * 1e3,
		       per);
		CHECK_MSG(per <= rows[r].max_per_addr, "%s: %.2f bytes per address",
			  rows[r].prefix, per);
		if (!rows[r].scattered) {
			/* then the next allocation is right above them */
			CHECK(wg_pool_alloc(p, a) == 0);
			add_offset(base, base, N + 1, rows[r].v4);
			CHECK_MEM(a, base, 16);
		}
		wg_pool_destroy(p);
	}
}

int main(void)
{
	TEST_BEGIN("conf/pool_test");
	RUN_TEST(test_create_errors);
	RUN_TEST(test_small_pools);
	RUN_TEST(test_ranged_pools);
	RUN_TEST(test_refused_addresses);
	RUN_TEST(test_reserve_release);
	RUN_TEST(test_reserve_then_alloc);
	RUN_TEST(test_reuse_lowest_first);
	RUN_TEST(test_huge_pools);
	RUN_TEST(test_rollback_exact);
	RUN_TEST(test_random_vs_naive_v4);
	RUN_TEST(test_random_vs_naive_v6);
	RUN_TEST(test_scale_v4);
	RUN_TEST(test_memory);
	return TEST_END();
}
