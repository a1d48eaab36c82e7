/* SPDX-License-Identifier: MIT */
/*
 * Replay window tests.
 *
 * The first two tests reproduce the kernel's selftest
 * (drivers/net/wireguard/selftest/counter.c, also used by wireguard-go's
 * replay_test.go): the 34-step table and the six bulk runs, in the same
 * order and with the same expectations. Each expectation is derived in the
 * comments from the RFC 6479 rule implemented in replay.c:
 *
 *   accept c  iff  c < REJECT_AFTER_MESSAGES
 *             and  (nothing accepted yet, or c > last, or last - c <= W)
 *             and  c not accepted before,
 *
 * where last is the highest accepted counter and W = 8128. The remaining
 * tests pin the window size, the fresh state, the ring clearing on jumps,
 * the limit, and a randomized comparison with a naive model of that rule.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dataplane/messages.h"
#include "dataplane/replay.h"
#include "tests/harness.h"

#define W WG_REPLAY_WINDOW
#define T_LIM (W + 1)
#define R WG_REJECT_AFTER_MESSAGES

struct step {
	uint64_t counter;
	bool accept;
};

/* run steps on r, reporting the 1-based number of every step that differs */
static void run_steps(struct wg_replay *r, const char *what, const struct step *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool got = wg_replay_check(r, s[i].counter);
		CHECK_MSG(got == s[i].accept, "%s step %zu: counter %llu: got %s, want %s", what,
			  i + 1, (unsigned long long)s[i].counter, got ? "accept" : "reject",
			  s[i].accept ? "accept" : "reject");
	}
}

/* The kernel's 34 steps; "last" is the highest accepted counter so far. */
static const struct step kernel_steps[] = {
	/*  1 */ { 0, true },                 /* fresh window: accepted, last = 0 */
	/*  2 */ { 1, true },                 /* new highest, last = 1 */
	/*  3 */ { 1, false },                /* replay */
	/*  4 */ { 9, true },                 /* new highest (skips 2..8), last = 9 */
	/*  5 */ { 8, true },                 /* 1 behind, unseen */
	/*  6 */ { 7, true },                 /* 2 behind, unseen */
	/*  7 */ { 7, false },                /* replay */
	/*  8 */ { T_LIM, true },             /* new highest, last = 8129; ring words 1..127 zeroed */
	/*  9 */ { T_LIM - 1, true },         /* 1 behind */
	/* 10 */ { T_LIM - 1, false },        /* replay */
	/* 11 */ { T_LIM - 2, true },         /* 2 behind */
	/* 12 */ { 2, true },                 /* last - 2 = 8127 <= W, unseen (word 0 kept) */
	/* 13 */ { 2, false },                /* replay */
	/* 14 */ { T_LIM + 16, true },        /* new highest, last = 8145 */
	/* 15 */ { 3, false },                /* last - 3 = 8142 > W: too old */
	/* 16 */ { T_LIM + 16, false },       /* replay of the highest */
	/* 17 */ { T_LIM * 4, true },         /* jump, last = 32516 */
	/* 18 */ { T_LIM * 4 - (T_LIM - 1), true }, /* last - c = 8128 = W: oldest inside */
	/* 19 */ { 10, false },               /* far too old */
	/* 20 */ { T_LIM * 4 - T_LIM, false }, /* last - c = 8129 > W */
	/* 21 */ { T_LIM * 4 - (T_LIM + 1), false }, /* last - c = 8130 > W */
	/* 22 */ { T_LIM * 4 - (T_LIM - 2), true }, /* last - c = 8127, unseen */
	/* 23 */ { T_LIM * 4 + 1 - T_LIM, false }, /* same counter as step 18: replay */
	/* 24 */ { 0, false },                /* far too old */
	/* 25 */ { R, false },                /* at the limit: never */
	/* 26 */ { R - 1, true },             /* highest usable counter, last = R - 1 */
	/* 27 */ { R, false },                /* at the limit */
	/* 28 */ { R - 1, false },            /* replay */
	/* 29 */ { R - 2, true },             /* 1 behind */
	/* 30 */ { R + 1, false },            /* above the limit */
	/* 31 */ { R + 2, false },            /* above the limit */
	/* 32 */ { R - 2, false },            /* replay */
	/* 33 */ { R - 3, true },             /* 2 behind */
	/* 34 */ { 0, false },                /* far too old */
};

static void test_kernel_steps(void)
{
	struct wg_replay r;

	CHECK(sizeof(kernel_steps) / sizeof(kernel_steps[0]) == 34);
	wg_replay_init(&r);
	run_steps(&r, "kernel", kernel_steps, sizeof(kernel_steps) / sizeof(kernel_steps[0]));
}

/*
 * The kernel's six bulk runs, each on a fresh window: every counter from
 * `from` to `to` (inclusive, ascending or descending) is accepted, then the
 * tail steps run.
 */
static const struct bulk_run {
	const char *name;
	uint64_t from, to;
	struct step tail[2];
	size_t ntail;
} bulk_runs[] = {
	/* last = W; 0 is exactly W behind: accepted once */
	{ "1..W then 0", 1, W, { { 0, true }, { 0, false } }, 2 },
	/* last = W + 1; 1 is W behind (in), 0 is W + 1 behind (out) */
	{ "2..W+1 then 1, 0", 2, W + 1, { { 1, true }, { 0, false } }, 2 },
	/* first step sets last = W; every later one is at most W behind */
	{ "W down to 0", W, 0, { { 0 } }, 0 },
	/* last = W + 1; 0 is W + 1 behind */
	{ "W+1 down to 1 then 0", W + 1, 1, { { 0, false } }, 1 },
	/* last = W, then W + 1 is new; 0 is then W + 1 behind */
	{ "W down to 1 then W+1, 0", W, 1, { { W + 1, true }, { 0, false } }, 2 },
	/* last = W: 0 is W behind (in); then W + 1 is new */
	{ "W down to 1 then 0, W+1", W, 1, { { 0, true }, { W + 1, true } }, 2 },
};

static void test_kernel_bulk(void)
{
	struct wg_replay r;

	for (size_t b = 0; b < sizeof(bulk_runs) / sizeof(bulk_runs[0]); b++) {
		const struct bulk_run *br = &bulk_runs[b];
		uint64_t c = br->from;
		size_t bad = 0;

		wg_replay_init(&r);
		for (;;) {
			if (!wg_replay_check(&r, c) && bad++ < 5)
				CHECK_MSG(0, "bulk \"%s\": counter %llu rejected", br->name,
					  (unsigned long long)c);
			if (c == br->to)
				break;
			c = br->from < br->to ? c + 1 : c - 1;
		}
		CHECK_MSG(bad == 0, "bulk \"%s\": %zu counters rejected", br->name, bad);
		run_steps(&r, br->name, br->tail, br->ntail);
	}
}

static void test_fresh_accepts_zero(void)
{
	struct wg_replay r;

	wg_replay_init(&r);
	CHECK(r.counter == 0);
	CHECK(wg_replay_check(&r, 0));
	CHECK(r.counter == 1);
	CHECK(!wg_replay_check(&r, 0));

	/* a fresh window also takes any first counter below the limit */
	wg_replay_init(&r);
	CHECK(wg_replay_check(&r, 123456789));
	CHECK(wg_replay_check(&r, 123456789 - W));
	CHECK(!wg_replay_check(&r, 123456789 - W - 1));
}

/*
 * The window is 8128: with highest accepted counter h, h - 8128 is accepted
 * and h - 8129 is not, wherever h sits relative to word boundaries.
 */
static void test_window_size(void)
{
	static const uint64_t highest[] = {
		W, W + 1, 8191, 8192, 8193, 100000, 100031, 100032, 100033, 100063,
		(1ull << 40) + 17, R - 1,
	};
	struct wg_replay r;

	CHECK(WG_REPLAY_WINDOW == 8128);
	CHECK(WG_REPLAY_BITS_TOTAL == 8192 && WG_REPLAY_BITS_PER_WORD == 64);
	for (size_t i = 0; i < sizeof(highest) / sizeof(highest[0]); i++) {
		uint64_t h = highest[i];

		wg_replay_init(&r);
		CHECK(wg_replay_check(&r, h));
		CHECK_MSG(!wg_replay_check(&r, h - W - 1), "h=%llu: h-8129 accepted",
			  (unsigned long long)h);
		CHECK_MSG(wg_replay_check(&r, h - W), "h=%llu: h-8128 rejected",
			  (unsigned long long)h);
		/* every counter in between is still fresh and accepted once */
		for (uint64_t c = h - W + 1; c < h; c++)
			if (!wg_replay_check(&r, c)) {
				CHECK_MSG(0, "h=%llu: %llu rejected", (unsigned long long)h,
					  (unsigned long long)c);
				break;
			}
		for (uint64_t c = h - W; c <= h; c++)
			if (wg_replay_check(&r, c)) {
				CHECK_MSG(0, "h=%llu: replay of %llu accepted",
					  (unsigned long long)h, (unsigned long long)c);
				break;
			}
	}
}

/*
 * Moving the window zeroes the ring words it passes: a counter whose bit
 * aliases an old accepted counter (same position modulo 8192) must be
 * accepted after jumps of one word, one ring, several rings. Positions are
 * counter + 1; ring word = (position / 64) % 128.
 */
static const struct step jumps[] = {
	{ 5, true },                   /* last = 5, position 6 in word 0 */
	{ 5 + 64, true },              /* next word, last = 69 */
	{ 6, true },                   /* 63 behind, unseen */
	{ 5, false },                  /* replay */
	{ 5 + 8192, true },            /* word 128 = ring slot 0, same bit as 5: zeroed */
	{ 5 + 64, false },             /* exactly W behind, accepted before: replay */
	{ 4 + 64, false },             /* W + 1 behind: too old */
	{ 5 + 8192 - 1, true },        /* 1 behind, unseen */
	{ 5 + 8192 * 4, true },        /* jump of several rings: every word zeroed */
	{ 5 + 8192 * 4 - W, true },    /* W behind; its bit aliases 69's: zeroed */
	{ 5 + 8192 * 4 - W - 1, false }, /* too old */
	{ 5 + 8192 * 5, true },        /* jump of exactly one ring */
	{ 5 + 8192 * 5 - 1, true },    /* same word as the old top: zeroed */
	{ 5 + 8192 * 5 - 64, true },   /* previous word: zeroed */
	{ 5 + 8192 * 4, false },       /* 8192 behind: too old */
};

static void test_jumps_clear_ring(void)
{
	struct wg_replay r;

	wg_replay_init(&r);
	run_steps(&r, "jumps", jumps, sizeof(jumps) / sizeof(jumps[0]));
}

static void test_reject_after_messages(void)
{
	static const struct step limit[] = {
		{ UINT64_MAX, false },
		{ R, false },
		{ R + 1, false },
		{ R - 1, true },
		{ R - 1 - W, true },
		{ R - 2 - W, false },
		{ UINT64_MAX, false },
	};
	struct wg_replay r;

	CHECK(R == UINT64_MAX - 8192);
	wg_replay_init(&r);
	run_steps(&r, "limit", limit, sizeof(limit) / sizeof(limit[0]));
}

/* xorshift64*: deterministic, so a failure reproduces */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/*
 * Random walks of counters compared with a naive model of the rule: a bit
 * per counter for "accepted", plus the highest accepted. One walk near 0 and
 * one that ends up above WG_REJECT_AFTER_MESSAGES.
 */
static void test_random_vs_model(void)
{
	enum { SPAN_BITS = 26, STEPS = 200000 };
	const uint64_t span = 1ull << SPAN_BITS;
	const uint64_t bases[] = { 0, R - span / 16 };
	uint64_t *seen = malloc(span / 8);
	struct wg_replay r;

	CHECK(seen != NULL);
	if (!seen)
		return;
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		uint64_t seed = 0x9e3779b97f4a7c15ull + b, s = seed, off = 0, last = 0;
		size_t mismatches = 0, accepted = 0, rejected = 0, over = 0;
		/* stay inside the bitmap and below 2^64 */
		const uint64_t lim = span < UINT64_MAX - bases[b] ? span : UINT64_MAX - bases[b];
		bool any = false;

		memset(seen, 0, span / 8);
		wg_replay_init(&r);
		for (int i = 0; i < STEPS; i++) {
			uint64_t x = rng_next(&s), c, rel;
			bool want, got, was_seen;
			int64_t d;

			/*
			 * Mostly small steps around the walker with an upward
			 * drift (it follows them), sometimes probes around
			 * the window edge or anywhere within a window or two
			 * (it stays), rarely jumps by whole rings (it follows).
			 */
			switch (x & 7) {
			case 0:
				d = (int64_t)((x >> 8) % (3 * 8192)) - 2 * 8192;
				break;
			case 1:
				d = -(int64_t)W + (int64_t)((x >> 8) % 5) - 2;
				break;
			case 2:
				d = (x >> 8) % 8 ? 0 : ((int64_t)((x >> 11) % 4) - 1) * 8192;
				break;
			default:
				d = (int64_t)((x >> 8) % 256) - 96;
				break;
			}
			if ((int64_t)off + d < 0 || (int64_t)off + d >= (int64_t)lim)
				d = 0;
			rel = (uint64_t)((int64_t)off + d);
			c = bases[b] + rel;
			if ((x & 7) >= 2)
				off = rel;

			was_seen = seen[rel / 64] >> (rel % 64) & 1;
			want = c < R && !was_seen && (!any || c > last || last - c <= W);
			got = wg_replay_check(&r, c);
			if (want) {
				seen[rel / 64] |= 1ull << (rel % 64);
				if (!any || c > last)
					last = c;
				any = true;
				accepted++;
			} else {
				over += c >= R;
				rejected++;
			}
			if (got != want && mismatches++ < 5)
				CHECK_MSG(0, "walk %zu (seed %llx) step %d: counter %llu: got %d want %d",
					  b, (unsigned long long)seed, i, (unsigned long long)c, got,
					  want);
		}
		CHECK_MSG(mismatches == 0, "walk %zu: %zu mismatches", b, mismatches);
		/* the walk must exercise both outcomes */
		CHECK_MSG(accepted > STEPS / 10 && rejected > STEPS / 10,
			  "walk %zu: %zu accepted, %zu rejected", b, accepted, rejected);
		/* the second walk must have reached the limit */
		if (b == 1)
			CHECK_MSG(over > 0 && last > R - 1000, "walk 1: %zu tries over the limit, last %llu",
				  over, (unsigned long long)last);
	}
	free(seen);
}

int main(void)
{
	TEST_BEGIN("replay_test");
	RUN_TEST(test_kernel_steps);
	RUN_TEST(test_kernel_bulk);
	RUN_TEST(test_fresh_accepts_zero);
	RUN_TEST(test_window_size);
	RUN_TEST(test_jumps_clear_ring);
	RUN_TEST(test_reject_after_messages);
	RUN_TEST(test_random_vs_model);
	return TEST_END();
}
