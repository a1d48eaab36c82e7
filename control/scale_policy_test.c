/* SPDX-License-Identifier: MIT */
/*
 * Autoscaler policy tests: scripts of (time, loads) -> decision for
 * wg_scale_policy_decide, and owner maps before/after for
 * wg_scale_policy_assign (balance, fewest moves, inactive workers emptied).
 */
#include <stdint.h>
#include <string.h>

#include "control/scale_policy.h"
#include "tests/harness.h"

static const struct wg_scale_params P = {
	.min_workers = 1, .max_workers = 4, .up_permille = 800, .down_permille = 300, .up_ms = 100, .down_ms = 1000,
};

struct step {
	uint64_t t_ms;
	unsigned n_active;
	uint32_t loads[4];
	int want;
};

struct script {
	const char *name;
	struct wg_scale_params p;
	unsigned n_workers;
	struct step steps[8];
	unsigned n;
};

static const struct script scripts[] = {
	{ "busy worker, sustained: one more", P, 4,
	  { { 0, 1, { 900 }, 0 }, { 50, 1, { 900 }, 0 }, { 100, 1, { 950 }, +1 }, { 110, 2, { 500, 500 }, 0 } }, 4 },
	{ "busy spike shorter than up_ms: nothing", P, 4,
	  { { 0, 1, { 900 }, 0 }, { 60, 1, { 500 }, 0 }, { 120, 1, { 900 }, 0 }, { 200, 1, { 900 }, 0 } }, 4 },
	{ "two quiet workers: one fewer after down_ms", P, 4,
	  { { 0, 2, { 100, 100 }, 0 }, { 500, 2, { 100, 150 }, 0 }, { 1000, 2, { 100, 100 }, -1 } }, 3 },
	{ "sum would not fit one fewer: stay", P, 4,
	  { { 0, 2, { 200, 200 }, 0 }, { 2000, 2, { 200, 200 }, 0 } }, 2 },
	{ "at max: no more however busy", { 1, 2, 800, 300, 100, 1000 }, 4,
	  { { 0, 2, { 1000, 1000 }, 0 }, { 500, 2, { 1000, 1000 }, 0 } }, 2 },
	{ "max above the workers there are", { 1, 8, 800, 300, 100, 1000 }, 2,
	  { { 0, 2, { 1000, 1000 }, 0 }, { 500, 2, { 1000, 1000 }, 0 } }, 2 },
	{ "at min: never fewer", { 2, 4, 800, 300, 100, 1000 }, 4,
	  { { 0, 2, { 0, 0 }, 0 }, { 5000, 2, { 0, 0 }, 0 } }, 2 },
	{ "below min: one more at once", { 3, 4, 800, 300, 100, 1000 }, 4,
	  { { 0, 1, { 0 }, +1 }, { 1, 2, { 0, 0 }, +1 }, { 2, 3, { 0, 0, 0 }, 0 } }, 3 },
	{ "above max: one fewer at once", { 1, 1, 800, 300, 100, 1000 }, 4,
	  { { 0, 3, { 900, 900, 900 }, -1 }, { 1, 2, { 900, 900 }, -1 }, { 2, 1, { 900 }, 0 } }, 3 },
	{ "interrupted quiet period starts over", P, 4,
	  { { 0, 2, { 50, 50 }, 0 }, { 900, 2, { 400, 50 }, 0 }, { 1500, 2, { 50, 50 }, 0 },
	    { 2400, 2, { 50, 50 }, 0 }, { 2500, 2, { 50, 50 }, -1 } }, 5 },
	{ "one worker: idle never parks the last", P, 4, { { 0, 1, { 0 }, 0 }, { 10000, 1, { 0 }, 0 } }, 2 },
};

static void test_decide_scripts(void)
{
	for (size_t s = 0; s < sizeof(scripts) / sizeof(scripts[0]); s++) {
		const struct script *sc = &scripts[s];
		struct wg_scale_hyst h;

		wg_scale_hyst_reset(&h);
		for (unsigned i = 0; i < sc->n; i++) {
			const struct step *st = &sc->steps[i];
			int got = wg_scale_policy_decide(&sc->p, &h, st->loads, st->n_active, sc->n_workers, st->t_ms);

			CHECK_MSG(got == st->want, "%s: step %u (t=%llu): got %d, want %d", sc->name, i,
				  (unsigned long long)st->t_ms, got, st->want);
		}
	}
}

static unsigned count(const uint16_t *o, unsigned n, uint16_t w)
{
	unsigned c = 0;

	for (unsigned i = 0; i < n; i++)
		c += o[i] == w;
	return c;
}

struct assign_case {
	const char *name;
	unsigned n_workers;
	bool before[8], after[8];
	unsigned want_moved;
};

static const struct assign_case assign_cases[] = {
	{ "1 -> 2 workers: half moves", 2, { 1, 0 }, { 1, 1 }, 512 },
	{ "2 -> 1 worker: the parked one's half moves", 2, { 1, 1 }, { 1, 0 }, 512 },
	{ "2 -> 3 workers: a third moves", 3, { 1, 1, 0 }, { 1, 1, 1 }, 341 },
	{ "4 -> 3: only the parked one's buckets move", 4, { 1, 1, 1, 1 }, { 1, 1, 1, 0 }, 256 },
	{ "no change: nothing moves", 4, { 1, 1, 1, 1 }, { 1, 1, 1, 1 }, 0 },
	{ "3 of 8 active -> another 3", 8, { 1, 1, 1, 0, 0, 0, 0, 0 }, { 1, 0, 0, 1, 1, 0, 0, 0 }, 682 },
};

static void test_assign(void)
{
	enum { N = 1024 };

	for (size_t c = 0; c < sizeof(assign_cases) / sizeof(assign_cases[0]); c++) {
		const struct assign_case *ac = &assign_cases[c];
		uint16_t owner[N], before[N];
		unsigned moved, changed = 0, n_active = 0;

		for (unsigned b = 0; b < N; b++)
			owner[b] = 0;
		wg_scale_policy_assign(owner, N, ac->before, ac->n_workers);
		memcpy(before, owner, sizeof(owner));
		moved = wg_scale_policy_assign(owner, N, ac->after, ac->n_workers);
		for (unsigned b = 0; b < N; b++)
			changed += owner[b] != before[b];
		CHECK_MSG(moved == changed, "%s: reported %u moves, %u changed", ac->name, moved, changed);
		CHECK_MSG(moved == ac->want_moved, "%s: %u moved, want %u", ac->name, moved, ac->want_moved);
		for (unsigned w = 0; w < ac->n_workers; w++)
			n_active += ac->after[w];
		for (unsigned w = 0; w < ac->n_workers; w++) {
			unsigned have = count(owner, N, (uint16_t)w);

			if (!ac->after[w])
				CHECK_MSG(have == 0, "%s: inactive worker %u keeps %u buckets", ac->name, w, have);
			else
				CHECK_MSG(have == N / n_active || have == N / n_active + 1, "%s: worker %u has %u",
					  ac->name, w, have);
		}
	}
}

static void test_assign_from_garbage(void)
{
	/* owners out of range (a smaller restart, say) are reassigned too */
	uint16_t owner[16];
	bool active[2] = { 1, 1 };

	for (unsigned b = 0; b < 16; b++)
		owner[b] = (uint16_t)(b % 2 ? 7 : 1);
	CHECK(wg_scale_policy_assign(owner, 16, active, 2) == 8);
	CHECK(count(owner, 16, 0) == 8 && count(owner, 16, 1) == 8);
	bool none[2] = { 0, 0 };
	CHECK(wg_scale_policy_assign(owner, 16, none, 2) == 0);
}

static void test_queue(void)
{
	bool active[4] = { 1, 0, 1, 1 };
	static const unsigned want[] = { 0, 2, 3, 0, 2, 3 };

	for (unsigned i = 0; i < 6; i++)
		CHECK_MSG(wg_scale_policy_queue(i, active, NULL, 4, -1) == want[i], "queue %u -> %u, want %u", i,
			  wg_scale_policy_queue(i, active, NULL, 4, -1), want[i]);
	bool one[4] = { 1, 0, 0, 0 };
	for (unsigned i = 0; i < 4; i++)
		CHECK(wg_scale_policy_queue(i, one, NULL, 4, 0) == 0);
	/* NUMA: workers 0, 1 on node 0, 2, 3 on node 1; a port on node 1 is served by 2 and 3 */
	static const int sock[4] = { 0, 0, 1, 1 };
	bool all[4] = { 1, 1, 1, 1 };
	static const unsigned want1[] = { 2, 3, 2, 3 }, want0[] = { 0, 1, 0, 1 }, wantany[] = { 0, 1, 2, 3 };
	for (unsigned i = 0; i < 4; i++) {
		CHECK(wg_scale_policy_queue(i, all, sock, 4, 1) == want1[i]);
		CHECK(wg_scale_policy_queue(i, all, sock, 4, 0) == want0[i]);
		CHECK(wg_scale_policy_queue(i, all, sock, 4, -1) == wantany[i]);
	}
	/* node 1's workers parked: node 0's take its port rather than nobody */
	bool node0[4] = { 1, 1, 0, 0 };
	for (unsigned i = 0; i < 4; i++)
		CHECK(wg_scale_policy_queue(i, node0, sock, 4, 1) == want0[i]);
}

int main(void)
{
	TEST_BEGIN("scale_policy_test");
	RUN_TEST(test_decide_scripts);
	RUN_TEST(test_assign);
	RUN_TEST(test_assign_from_garbage);
	RUN_TEST(test_queue);
	return TEST_END();
}
