/* SPDX-License-Identifier: MIT */
/*
 * Rate limiter tests, all with a driven clock. Most are scripts: a list of
 * (time, operation, source, expected result) run against a fresh limiter.
 * Token arithmetic: a message costs 50 ms of credit, a bucket holds 250 ms,
 * a new source starts at 250 ms and pays for its first message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "control/ratelimiter.h"
#include "crypto/secure.h"
#include "dataplane/messages.h"
#include "tests/harness.h"

#define MS WG_NSEC_PER_MSEC
#define SEC WG_NSEC_PER_SEC
#define T0 (1000 * SEC) /* the driven clock starts here */

static struct wg_endpoint ep(const char *addr, uint16_t port)
{
	struct wg_endpoint e = { 0 };

	if (inet_pton(AF_INET, addr, e.addr) == 1) {
		e.family = AF_INET;
	} else if (inet_pton(AF_INET6, addr, e.addr) == 1) {
		e.family = AF_INET6;
	} else {
		fprintf(stderr, "bad address in test: %s\n", addr);
		abort();
	}
	e.port = htons(port);
	return e;
}

enum op {
	ALLOW, /* want: allowed? */
	GC,    /* want: sources tracked after the gc */
	COUNT, /* want: sources tracked */
};

struct step {
	uint64_t t; /* ns after T0 */
	enum op op;
	int src;    /* index into the script's sources (ALLOW) */
	size_t want;
};

struct script {
	const char *name;
	size_t max_entries;
	const char *src[4];
	uint16_t port[4];
	struct step steps[40];
	size_t nsteps;
};

#define A(t, s, w) { (t), ALLOW, (s), (w) }
#define G(t, n) { (t), GC, 0, (n) }
#define N(n) { 0, COUNT, 0, (n) }
#define STEPS(...) { __VA_ARGS__ }, sizeof((struct step[]){ __VA_ARGS__ }) / sizeof(struct step)

static const struct script scripts[] = {
	{ "kernel selftest sequence", 16, { "192.0.2.1" }, { 1 },
	  STEPS(/* burst of 5, then one per 50 ms (the kernel's expected_results) */
		A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true),
		A(0, 0, false),
		A(50 * MS, 0, true), A(50 * MS, 0, false),
		A(150 * MS, 0, true), A(150 * MS, 0, true), A(150 * MS, 0, false)) },
	{ "refill boundary: 49 ms no, 50 ms yes", 16, { "192.0.2.1" }, { 1 },
	  STEPS(A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true),
		A(0, 0, false),
		A(49 * MS, 0, false),          /* 49 ms of credit: short by 1 ms */
		A(50 * MS - 1, 0, false),      /* short by 1 ns; refusals keep credit */
		A(50 * MS, 0, true),           /* 50 ms: exactly one message */
		A(50 * MS, 0, false),
		A(100 * MS - 1, 0, false),
		A(100 * MS, 0, true),
		A(100 * MS, 0, false),
		A(175 * MS, 0, true),          /* 75 ms: one, 25 ms left over */
		A(175 * MS, 0, false),
		A(200 * MS, 0, true),          /* 25 + 25 ms */
		A(200 * MS, 0, false)) },
	{ "two IPv4 /32s are independent; the port is ignored", 16,
	  { "192.0.2.1", "192.0.2.2", "192.0.2.1" }, { 1, 1, 2 },
	  STEPS(A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true),
		A(0, 0, false),
		A(0, 2, false),                /* same address, other port: same bucket */
		A(0, 1, true), A(0, 1, true), A(0, 1, true), A(0, 1, true), A(0, 1, true),
		A(0, 1, false),
		N(2)) },
	{ "one IPv6 /64 shares a bucket, another /64 does not", 16,
	  { "2001:db8:1:2::1", "2001:db8:1:2:ffff:eeee:dddd:cccc", "2001:db8:1:3::1",
	    "2001:db8:1:2::1" },
	  { 1, 2, 1, 9 },
	  STEPS(A(0, 0, true), A(0, 1, true), A(0, 0, true), A(0, 1, true), A(0, 3, true),
		A(0, 1, false), A(0, 0, false), A(0, 3, false),
		A(0, 2, true), A(0, 2, true), A(0, 2, true), A(0, 2, true), A(0, 2, true),
		A(0, 2, false),
		N(2)) },
	{ "IPv4 and IPv6 with the same leading bytes never share", 16,
	  { "192.0.2.1", "c000:201::" }, { 1, 1 },
	  STEPS(A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true),
		A(0, 0, false),
		A(0, 1, true), A(0, 1, true), A(0, 1, true), A(0, 1, true), A(0, 1, true),
		A(0, 1, false),
		N(2)) },
	{ "tokens cap at the burst after a long idle", 16, { "192.0.2.1" }, { 1 },
	  STEPS(A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true),
		A(0, 0, false),
		A(10 * SEC, 0, true), A(10 * SEC, 0, true), A(10 * SEC, 0, true),
		A(10 * SEC, 0, true), A(10 * SEC, 0, true), A(10 * SEC, 0, false),
		/* a gap far beyond any counter: no overflow, still capped at 5 */
		A(UINT64_MAX - T0 - 1, 0, true), A(UINT64_MAX - T0 - 1, 0, true),
		A(UINT64_MAX - T0 - 1, 0, true), A(UINT64_MAX - T0 - 1, 0, true),
		A(UINT64_MAX - T0 - 1, 0, true), A(UINT64_MAX - T0 - 1, 0, false)) },
	{ "a clock going backwards earns nothing", 16, { "192.0.2.1" }, { 1 },
	  STEPS(A(SEC, 0, true), A(SEC, 0, true), A(SEC, 0, true), A(SEC, 0, true),
		A(SEC, 0, true), A(SEC, 0, false),
		A(0, 0, false),                /* 1 s in the past */
		A(SEC + 49 * MS, 0, false),
		A(SEC + 50 * MS, 0, true),
		A(SEC + 50 * MS, 0, false)) },
	{ "gc drops sources idle for over 1 s and keeps the others", 16,
	  { "192.0.2.1", "192.0.2.2", "2001:db8::1" }, { 1, 1, 1 },
	  STEPS(A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true), A(0, 0, true),
		A(0, 0, false),
		A(0, 1, true),
		A(990 * MS, 2, true), A(990 * MS, 2, true), A(990 * MS, 2, true),
		A(990 * MS, 2, true), A(990 * MS, 2, true), A(990 * MS, 2, false),
		N(3),
		G(SEC, 3),                     /* 0 and 1 idle exactly 1 s: kept */
		G(SEC + 1, 1),                 /* 0 and 1 idle 1 s + 1 ns: dropped; 2 kept */
		A(SEC + 1, 2, false),          /* 2 kept its bucket: 10 ms of credit */
		A(SEC + 1, 0, true),           /* 0 is new again: a fresh burst */
		A(SEC + 1, 0, true), A(SEC + 1, 0, true), A(SEC + 1, 0, true),
		A(SEC + 1, 0, true), A(SEC + 1, 0, false),
		N(2),
		G(2 * SEC + 1, 2),             /* a refused message counts as activity */
		G(2 * SEC + 2, 0),
		A(2 * SEC + 2, 1, true),
		N(1)) },
};

static void run_script(const struct script *sc)
{
	struct wg_ratelimiter *rl = NULL;
	struct wg_endpoint src[4];
	int ret;

	for (size_t i = 0; i < 4 && sc->src[i]; i++)
		src[i] = ep(sc->src[i], sc->port[i]);
	ret = wg_ratelimiter_create(&rl, sc->max_entries);
	CHECK(ret == 0);
	if (ret)
		return;
	for (size_t i = 0; i < sc->nsteps; i++) {
		const struct step *s = &sc->steps[i];
		size_t got;

		switch (s->op) {
		case ALLOW:
			got = wg_ratelimiter_allow(rl, &src[s->src], T0 + s->t);
			break;
		case GC:
			wg_ratelimiter_gc(rl, T0 + s->t);
			got = wg_ratelimiter_count(rl);
			break;
		default:
			got = wg_ratelimiter_count(rl);
			break;
		}
		CHECK_MSG(got == s->want, "\"%s\" step %zu (%s at +%llu ns, source %d): got %zu, want %zu",
			  sc->name, i + 1, s->op == ALLOW ? "allow" : s->op == GC ? "gc" : "count",
			  (unsigned long long)s->t, s->src, got, s->want);
	}
	wg_ratelimiter_destroy(rl);
}

static void test_scripts(void)
{
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		run_script(&scripts[i]);
}

static void test_create(void)
{
	static const struct {
		size_t max_entries;
		int ret;
		size_t sources; /* new sources accepted before refusal */
	} cases[] = {
		{ 0, -EINVAL, 0 },
		{ SIZE_MAX, -ENOMEM, 0 },
		{ SIZE_MAX / 2, -ENOMEM, 0 },
		{ 1, 0, 1 },
		{ 2, 0, 2 },
		{ 5, 0, 8 },
		{ 16, 0, 16 },
		{ 17, 0, 32 },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct wg_ratelimiter *rl = (void *)1;
		int ret = wg_ratelimiter_create(&rl, cases[c].max_entries);
		size_t n = 0;

		CHECK_MSG(ret == cases[c].ret, "create(%zu) = %d, want %d", cases[c].max_entries, ret,
			  cases[c].ret);
		if (ret) {
			CHECK(rl == NULL);
			continue;
		}
		for (uint32_t i = 0; i < 100; i++) {
			struct wg_endpoint e = { .family = AF_INET };

			memcpy(e.addr, &i, 4);
			if (!wg_ratelimiter_allow(rl, &e, T0))
				break;
			n++;
		}
		CHECK_MSG(n == cases[c].sources, "create(%zu): %zu sources tracked, want %zu",
			  cases[c].max_entries, n, cases[c].sources);
		CHECK(wg_ratelimiter_count(rl) == cases[c].sources);
		wg_ratelimiter_destroy(rl);
	}
	wg_ratelimiter_destroy(NULL);
}

static void test_no_address(void)
{
	struct wg_ratelimiter *rl;
	struct wg_endpoint none = { 0 }, other = { .family = 99 };

	CHECK(wg_ratelimiter_create(&rl, 4) == 0);
	CHECK(!wg_ratelimiter_allow(rl, &none, T0));
	CHECK(!wg_ratelimiter_allow(rl, &other, T0));
	CHECK(wg_ratelimiter_count(rl) == 0);
	wg_ratelimiter_destroy(rl);
}

/*
 * An IPv4 address and an IPv6 /64 with the same leading bytes have the same
 * prefix word; only the family tells them apart. In a 4-slot table the IPv6
 * source lands on its IPv4 twin's slot one time in four, so 64 fresh
 * limiters (fresh hash keys) make sure the family is compared, not just
 * hashed.
 */
static void test_families_tiny_table(void)
{
	struct wg_endpoint v4 = ep("192.0.2.1", 1), v6 = ep("c000:201::", 1);
	size_t bad = 0;

	for (int round = 0; round < 64; round++) {
		struct wg_ratelimiter *rl;
		unsigned n = 0;

		CHECK(wg_ratelimiter_create(&rl, 2) == 0);
		for (int k = 0; k < 6; k++)
			n += wg_ratelimiter_allow(rl, &v4, T0);
		for (int k = 0; k < 6; k++)
			n += wg_ratelimiter_allow(rl, &v6, T0);
		bad += n != 10;
		bad += wg_ratelimiter_count(rl) != 2;
		wg_ratelimiter_destroy(rl);
	}
	CHECK_MSG(bad == 0, "%zu rounds shared a bucket across families", bad);
}

/* Clock values at both ends of the range: no overflow, credit still capped. */
static void test_extreme_times(void)
{
	struct wg_ratelimiter *rl;
	struct wg_endpoint e = ep("192.0.2.1", 1);
	unsigned n = 0;

	CHECK(wg_ratelimiter_create(&rl, 4) == 0);
	CHECK(wg_ratelimiter_allow(rl, &e, 0));
	for (int k = 0; k < 6; k++)
		n += wg_ratelimiter_allow(rl, &e, UINT64_MAX);
	CHECK_MSG(n == 5, "%u allowed after a 2^64 ns gap, want 5", n);
	wg_ratelimiter_gc(rl, UINT64_MAX);
	CHECK(wg_ratelimiter_count(rl) == 1);
	wg_ratelimiter_destroy(rl);
}

/* source i: IPv4 198.51.x.y for even i, IPv6 2001:db8:i::/64 for odd i */
static struct wg_endpoint nth_source(uint32_t i)
{
	struct wg_endpoint e = { .port = htons(51820) };

	if (i % 2 == 0) {
		e.family = AF_INET;
		e.addr[0] = 198;
		e.addr[1] = 51;
		e.addr[2] = (uint8_t)(i >> 9);
		e.addr[3] = (uint8_t)(i >> 1);
	} else {
		e.family = AF_INET6;
		e.addr[0] = 0x20;
		e.addr[1] = 0x01;
		e.addr[2] = 0x0d;
		e.addr[3] = 0xb8;
		e.addr[4] = (uint8_t)(i >> 24);
		e.addr[5] = (uint8_t)(i >> 16);
		e.addr[6] = (uint8_t)(i >> 8);
		e.addr[7] = (uint8_t)i;
		e.addr[15] = 1;
	}
	return e;
}

/* allowed count of `tries` messages from source i at time t */
static unsigned burst(struct wg_ratelimiter *rl, uint32_t i, uint64_t t, unsigned tries)
{
	struct wg_endpoint e = nth_source(i);
	unsigned n = 0;

	for (unsigned k = 0; k < tries; k++)
		n += wg_ratelimiter_allow(rl, &e, t);
	return n;
}

/* A full table refuses new sources, keeps serving old ones, and gc frees slots. */
static void test_full_table(void)
{
	struct wg_ratelimiter *rl;
	size_t bad = 0;

	CHECK(wg_ratelimiter_create(&rl, 16) == 0);
	for (uint32_t i = 0; i < 16; i++)
		bad += burst(rl, i, T0, 1) != 1;
	CHECK(wg_ratelimiter_count(rl) == 16);
	for (uint32_t i = 16; i < 40; i++)
		bad += burst(rl, i, T0, 1) != 0; /* new: refused */
	CHECK(wg_ratelimiter_count(rl) == 16);
	for (uint32_t i = 0; i < 16; i++)
		bad += burst(rl, i, T0, 6) != 4; /* old: the rest of their burst */
	CHECK_MSG(bad == 0, "%zu sources misbehaved while full", bad);

	/* even sources active at +600 ms, odd ones idle */
	for (uint32_t i = 0; i < 16; i += 2)
		CHECK(burst(rl, i, T0 + 600 * MS, 1) == 1);
	wg_ratelimiter_gc(rl, T0 + SEC + 1);
	CHECK(wg_ratelimiter_count(rl) == 8);
	/* the freed slots take new sources, exactly 8 of them */
	for (uint32_t i = 100; i < 108; i++)
		CHECK(burst(rl, i, T0 + SEC + 1, 1) == 1);
	CHECK(burst(rl, 108, T0 + SEC + 1, 1) == 0);
	CHECK(wg_ratelimiter_count(rl) == 16);
	/* and the kept ones are still served: 200 ms + 400 ms, capped: 5 */
	CHECK(burst(rl, 0, T0 + SEC + 1, 6) == 5);
	wg_ratelimiter_destroy(rl);
}

/* 10,000 sources in a 16384-entry table are all tracked independently. */
static void test_many_sources(void)
{
	enum { SOURCES = 10000 };
	struct wg_ratelimiter *rl;
	size_t bad = 0;

	CHECK(wg_ratelimiter_create(&rl, 16384) == 0);
	for (uint32_t i = 0; i < SOURCES; i++)
		bad += burst(rl, i, T0, 1) != 1;
	for (uint32_t i = 0; i < SOURCES; i++)
		bad += burst(rl, i, T0, 5) != 4;
	CHECK(wg_ratelimiter_count(rl) == SOURCES);
	for (uint32_t i = 0; i < SOURCES; i++)
		bad += burst(rl, i, T0 + 50 * MS, 2) != 1;
	CHECK_MSG(bad == 0, "%zu sources misbehaved", bad);
	wg_ratelimiter_gc(rl, T0 + SEC);
	CHECK(wg_ratelimiter_count(rl) == SOURCES);
	wg_ratelimiter_gc(rl, T0 + 50 * MS + SEC + 1);
	CHECK(wg_ratelimiter_count(rl) == 0);
	wg_ratelimiter_destroy(rl);
}

/*
 * Deletion by backward shift must keep every surviving entry findable: fill
 * a table to its limit, let a pseudo-random third go idle, gc, then check
 * that every survivor still has its exhausted bucket (a lost entry would
 * come back as a new source and be allowed) and that every dropped one is
 * gone (allowed again as new). Repeated with fresh limiters (fresh hash
 * keys, so fresh layouts).
 */
static void test_gc_backward_shift(void)
{
	enum { LIMIT = 4096, ROUNDS = 8 };

	for (int round = 0; round < ROUNDS; round++) {
		struct wg_ratelimiter *rl;
		const uint64_t t1 = T0 + SEC, t2 = t1 + 1;
		uint64_t s = 0x243f6a8885a308d3ull + (uint64_t)round;
		uint8_t keep[LIMIT];
		size_t kept = 0, bad = 0;

		CHECK(wg_ratelimiter_create(&rl, LIMIT) == 0);
		for (uint32_t i = 0; i < LIMIT; i++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			keep[i] = (s >> 33) % 3 != 0; /* about two thirds kept */
			kept += keep[i];
			/* every source exhausted; kept ones at t1, dropped ones at T0 */
			bad += burst(rl, i, keep[i] ? t1 : T0, 6) != 5;
		}
		CHECK(wg_ratelimiter_count(rl) == LIMIT);
		wg_ratelimiter_gc(rl, t2);
		CHECK_MSG(wg_ratelimiter_count(rl) == kept, "round %d: %zu tracked, want %zu", round,
			  wg_ratelimiter_count(rl), kept);
		/*
		 * Survivors first: re-adding a dropped source could refill the
		 * very gap that hides a survivor and mask the bug.
		 */
		for (uint32_t i = 0; i < LIMIT; i++)
			if (keep[i])
				bad += burst(rl, i, t2, 1) != 0;
		CHECK_MSG(bad == 0, "round %d: %zu survivors lost their bucket", round, bad);
		CHECK(wg_ratelimiter_count(rl) == kept);
		for (uint32_t i = 0; i < LIMIT; i++)
			if (!keep[i])
				bad += burst(rl, i, t2, 1) != 1;
		CHECK_MSG(bad == 0, "round %d: %zu sources misbehaved", round, bad);
		CHECK(wg_ratelimiter_count(rl) == LIMIT);
		wg_ratelimiter_destroy(rl);
	}
}

int main(void)
{
	TEST_BEGIN("ratelimiter_test");
	if (wg_crypto_init()) {
		fprintf(stderr, "wg_crypto_init failed\n");
		return 1;
	}
	RUN_TEST(test_scripts);
	RUN_TEST(test_create);
	RUN_TEST(test_no_address);
	RUN_TEST(test_families_tiny_table);
	RUN_TEST(test_extreme_times);
	RUN_TEST(test_full_table);
	RUN_TEST(test_many_sources);
	RUN_TEST(test_gc_backward_shift);
	return TEST_END();
}
