/* SPDX-License-Identifier: MIT */
/*
 * Index table on a real DPDK EAL (no hugepages, in memory): a table of
 * add/lookup/replace/del steps with kinds and bad arguments (with and
 * without an RCU variable), uniqueness and spread of the indices, capacity
 * and recovery, indices whose slot matches but high bits differ, bulk
 * lookups against single ones, quarantine of deleted slots while a reader
 * has not reported (and an add that waits for it), and a reader lcore that
 * checks every object it gets against the index it asked for while the
 * writer adds, deletes and replaces.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include "crypto/secure.h"
#include "dataplane/index.h"
#include "tests/harness.h"

#define N_OBJS 10000
#define KP WG_INDEX_KEYPAIR
#define HS WG_INDEX_HANDSHAKE
#define FAKE_READER (RTE_MAX_LCORE - 1) /* a qsbr thread id no lcore uses */

static uint64_t objs[N_OBJS]; /* 8-byte aligned stand-ins for keypairs */
static struct rte_rcu_qsbr *qsbr;
static int eal_ok;

#define NEED_EAL() REQUIRE_MSG(eal_ok, "EAL did not initialise")

static struct wg_index *make_with(uint32_t capacity, struct rte_rcu_qsbr *v)
{
	struct wg_index *t = NULL;

	if (wg_index_create(&t, "idx", capacity, SOCKET_ID_ANY, v))
		return NULL;
	return t;
}

static struct wg_index *make(uint32_t capacity)
{
	return make_with(capacity, qsbr);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* ---- the table of steps ---- */

enum op { ADD, DEL, REPLACE, LOOKUP, COUNT };
#define NONE (-1)       /* obj: NULL; want of LOOKUP: NULL */
#define MISALIGNED (-2) /* obj: not 4-byte aligned */

struct step {
	enum op op;
	int h;    /* which remembered index (ADD remembers it) */
	int obj;  /* objs[obj], NONE or MISALIGNED */
	int kind;
	int want; /* return value; LOOKUP: the object's number or NONE; COUNT: the count */
};

static const struct step steps[] = {
	{ ADD, 0, 0, KP, 0 },
	{ ADD, 1, 1, HS, 0 },
	{ LOOKUP, 0, 0, KP, 0 },
	{ LOOKUP, 0, 0, HS, NONE },     /* wrong kind */
	{ LOOKUP, 1, 0, HS, 1 },
	{ LOOKUP, 1, 0, KP, NONE },
	{ COUNT, 0, 0, 0, 2 },
	{ REPLACE, 1, 2, KP, 0 },       /* the handshake's index names its keypair */
	{ LOOKUP, 1, 0, KP, 2 },
	{ LOOKUP, 1, 0, HS, NONE },
	{ REPLACE, 0, 0, HS, 0 },       /* same object, other kind */
	{ LOOKUP, 0, 0, HS, 0 },
	{ LOOKUP, 0, 0, KP, NONE },
	{ COUNT, 0, 0, 0, 2 },
	{ DEL, 0, 0, 0, 0 },
	{ LOOKUP, 0, 0, HS, NONE },
	{ LOOKUP, 0, 0, KP, NONE },
	{ DEL, 0, 0, 0, -ENOENT },
	{ REPLACE, 0, 3, KP, -ENOENT },
	{ LOOKUP, 0, 0, KP, NONE },     /* a failed replace adds nothing */
	{ COUNT, 0, 0, 0, 1 },
	{ ADD, 2, 3, KP, 0 },
	{ LOOKUP, 2, 0, KP, 3 },
	{ LOOKUP, 1, 0, KP, 2 },
	{ DEL, 1, 0, 0, 0 },
	{ DEL, 2, 0, 0, 0 },
	{ COUNT, 0, 0, 0, 0 },
	{ LOOKUP, 1, 0, KP, NONE },
	{ LOOKUP, 2, 0, KP, NONE },
	{ REPLACE, 1, 4, KP, -ENOENT },
	/* bad arguments change nothing */
	{ ADD, 3, NONE, KP, -EINVAL },
	{ ADD, 3, MISALIGNED, KP, -EINVAL },
	{ ADD, 3, 4, 0, -EINVAL },
	{ ADD, 3, 4, 4, -EINVAL },
	{ COUNT, 0, 0, 0, 0 },
	{ ADD, 3, 4, KP, 0 },
	{ REPLACE, 3, NONE, KP, -EINVAL },
	{ REPLACE, 3, MISALIGNED, HS, -EINVAL },
	{ REPLACE, 3, 5, 0, -EINVAL },
	{ REPLACE, 3, 5, 8, -EINVAL },
	{ LOOKUP, 3, 0, KP, 4 },
	{ LOOKUP, 3, 0, 0, NONE },      /* kind 0 never matches */
	{ COUNT, 0, 0, 0, 1 },
};

static void *obj_of(int obj)
{
	if (obj == NONE)
		return NULL;
	if (obj == MISALIGNED)
		return (char *)&objs[0] + 2;
	return &objs[obj];
}

static void run_steps(struct rte_rcu_qsbr *v)
{
	uint32_t h[4] = { 0 };
	struct wg_index *t = make_with(64, v);

	CHECK(t != NULL);
	if (!t)
		return;
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct step *s = &steps[i];
		enum wg_index_kind kind = (enum wg_index_kind)s->kind;
		void *got;
		int ret = 0;

		switch (s->op) {
		case ADD:
			ret = wg_index_add(t, obj_of(s->obj), kind, &h[s->h]);
			break;
		case DEL:
			ret = wg_index_del(t, h[s->h]);
			break;
		case REPLACE:
			ret = wg_index_replace(t, h[s->h], obj_of(s->obj), kind);
			break;
		case LOOKUP:
			got = wg_index_lookup(t, h[s->h], kind);
			CHECK_MSG(got == obj_of(s->want), "step %u (qsbr %s): lookup %p, want %p", i,
				  v ? "on" : "NULL", got, obj_of(s->want));
			wg_index_lookup_bulk(t, &h[s->h], 1, kind, &got);
			CHECK_MSG(got == obj_of(s->want), "step %u: bulk lookup %p", i, got);
			continue;
		case COUNT:
			ret = (int)wg_index_count(t);
			break;
		}
		CHECK_MSG(ret == s->want, "step %u (qsbr %s): %d, want %d", i, v ? "on" : "NULL", ret, s->want);
	}
	wg_index_destroy(t);
}

static void test_steps(void)
{
	NEED_EAL();
	run_steps(qsbr);
	run_steps(NULL);
}

static void test_create_args(void)
{
	static const struct {
		const char *name;
		uint32_t capacity;
		int want;
	} cases[] = {
		{ NULL, 16, -EINVAL },
		{ "idx", 0, -EINVAL },
		{ "idx", (1u << 31) + 1, -EINVAL },
		{ "idx", UINT32_MAX, -EINVAL },
		{ "idx", 1, 0 },
	};
	NEED_EAL();
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wg_index *t = NULL;
		int ret = wg_index_create(&t, cases[i].name, cases[i].capacity, SOCKET_ID_ANY, qsbr);

		CHECK_MSG(ret == cases[i].want, "case %u: %d", i, ret);
		if (!ret)
			wg_index_destroy(t);
	}
	wg_index_destroy(NULL);
}

/* ---- uniqueness and spread ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void test_unique_spread(void)
{
	static uint32_t idx[N_OBJS], sorted[N_OBJS];
	unsigned wrong = 0, dup = 0, top[256] = { 0 }, tops = 0, highs = 0;
	struct wg_index *t;

	NEED_EAL();
	t = make(N_OBJS); /* 16384 slots: 14 low bits address, 18 high bits random */
	CHECK(t != NULL);
	if (!t)
		return;
	for (unsigned i = 0; i < N_OBJS; i++)
		CHECK(wg_index_add(t, &objs[i], i & 1 ? KP : HS, &idx[i]) == 0);
	CHECK(wg_index_count(t) == N_OBJS);
	for (unsigned i = 0; i < N_OBJS; i++) {
		enum wg_index_kind k = i & 1 ? KP : HS, other = i & 1 ? HS : KP;

		if (wg_index_lookup(t, idx[i], k) != &objs[i] || wg_index_lookup(t, idx[i], other))
			wrong++;
	}
	CHECK(wrong == 0);
	memcpy(sorted, idx, sizeof(idx));
	qsort(sorted, N_OBJS, sizeof(sorted[0]), cmp_u32);
	for (unsigned i = 1; i < N_OBJS; i++) {
		dup += sorted[i] == sorted[i - 1];
		/* distinct high parts: random 18 bits, about 190 pairs alike in 10,000 */
		highs += sorted[i] >> 14 != sorted[i - 1] >> 14;
	}
	CHECK(dup == 0);
	CHECK_MSG(highs > 9500, "%u distinct high parts", highs + 1);
	/* every bit of the 32 is set in about half of them */
	for (int b = 0; b < 32; b++) {
		unsigned ones = 0;

		for (unsigned i = 0; i < N_OBJS; i++)
			ones += idx[i] >> b & 1;
		CHECK_MSG(ones > N_OBJS * 2 / 5 && ones < N_OBJS * 3 / 5, "bit %d set in %u of %u", b, ones,
			  N_OBJS);
	}
	for (unsigned i = 0; i < N_OBJS; i++)
		tops += !top[idx[i] >> 24]++;
	CHECK_MSG(tops >= 250, "%u of 256 top bytes", tops);
	wg_index_destroy(t);
}

/* ---- capacity ---- */

static void test_capacity(void)
{
	/* a power of two fills every slot; the others leave some free */
	static const uint32_t caps[] = { 1, 63, 64, 100, 128, 4096, 5000 };
	static uint32_t idx[5001];

	NEED_EAL();
	for (unsigned c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		uint32_t cap = caps[c], x;
		struct wg_index *t = make(cap);

		CHECK(t != NULL);
		if (!t)
			continue;
		for (unsigned round = 0; round < 2; round++) {
			unsigned fails = 0;

			for (uint32_t i = 0; i < cap; i++)
				fails += wg_index_add(t, &objs[i], KP, &idx[i]) != 0;
			CHECK_MSG(fails == 0, "capacity %u round %u: %u adds failed", cap, round, fails);
			CHECK(wg_index_count(t) == cap);
			CHECK_MSG(wg_index_add(t, &objs[cap], KP, &x) == -ENOSPC, "capacity %u", cap);
			/* one deleted: its grace period is over at once (no reader), so room again */
			CHECK(wg_index_del(t, idx[cap / 2]) == 0);
			CHECK(wg_index_add(t, &objs[cap], KP, &idx[cap / 2]) == 0);
			CHECK(wg_index_add(t, &objs[cap], KP, &x) == -ENOSPC);
			for (uint32_t i = 0; i < cap; i++)
				fails += wg_index_lookup(t, idx[i], KP) != (i == cap / 2 ? &objs[cap] : &objs[i]);
			for (uint32_t i = 0; i < cap; i++)
				fails += wg_index_del(t, idx[i]) != 0;
			CHECK_MSG(fails == 0, "capacity %u round %u: %u lookups or deletes wrong", cap, round, fails);
			CHECK(wg_index_count(t) == 0);
		}
		wg_index_destroy(t);
	}
}

/* without an RCU variable a deleted slot is free at once */
static void test_no_qsbr(void)
{
	uint32_t idx[64], x;
	struct wg_index *t;

	NEED_EAL();
	t = make_with(64, NULL);
	CHECK(t != NULL);
	if (!t)
		return;
	for (unsigned i = 0; i < 64; i++)
		CHECK(wg_index_add(t, &objs[i], KP, &idx[i]) == 0);
	for (unsigned k = 0; k < 200; k++) {
		unsigned i = rnd() % 64;

		CHECK(wg_index_del(t, idx[i]) == 0);
		CHECK(wg_index_add(t, &objs[i], HS, &x) == 0);
		CHECK((x & 63) == (idx[i] & 63)); /* the only free slot */
		idx[i] = x;
	}
	CHECK(wg_index_count(t) == 64);
	wg_index_destroy(t);
}

/* ---- the slot's index, not only the slot ---- */

static void test_high_bits(void)
{
	/* xor masks that keep the low 7 bits (the slot of a 128-slot table) */
	static const uint32_t flips[] = { 0x80, 0x100, 0x4000, 0x10000, 0x800000, 0x80000000u, 0xffffff80u };
	uint32_t idx[100], x;
	struct wg_index *t;
	void *out[1];

	NEED_EAL();
	t = make(100);
	CHECK(t != NULL);
	if (!t)
		return;
	/* a slot that holds no index matches none, index 0 and kind 0 included */
	for (x = 0; x < 1024; x++)
		CHECK(!wg_index_lookup(t, x, KP) && !wg_index_lookup(t, x, HS) &&
		      !wg_index_lookup(t, x, (enum wg_index_kind)0));
	for (unsigned i = 0; i < 100; i++)
		CHECK(wg_index_add(t, &objs[i], i & 1 ? HS : KP, &idx[i]) == 0);
	for (unsigned i = 0; i < 100; i++) {
		enum wg_index_kind k = i & 1 ? HS : KP;

		for (unsigned f = 0; f < sizeof(flips) / sizeof(flips[0]); f++) {
			uint32_t v = idx[i] ^ flips[f];
			bool taken = false;

			for (unsigned j = 0; j < 100; j++)
				taken |= idx[j] == v;
			if (taken)
				continue; /* by chance an index in use */
			CHECK(wg_index_lookup(t, v, k) == NULL);
			wg_index_lookup_bulk(t, &v, 1, k, out);
			CHECK(out[0] == NULL);
			CHECK(wg_index_replace(t, v, &objs[100], k) == -ENOENT);
			CHECK(wg_index_del(t, v) == -ENOENT);
		}
		CHECK(wg_index_lookup(t, idx[i], k) == &objs[i]);
	}
	CHECK(wg_index_count(t) == 100);
	wg_index_destroy(t);
}

/* ---- bulk = single ---- */

enum query { Q_HIT, Q_OTHER_KIND, Q_DELETED, Q_RANDOM, Q_HIGH_BITS, N_QUERIES };

static void test_bulk(void)
{
	static const unsigned sizes[] = { 0, 1, 2, 7, 31, 32, 33, 63, 64 };
	uint32_t idx[192], q[64];
	void *out[65];
	unsigned mismatch = 0, wrong = 0, seen[N_QUERIES] = { 0 };
	struct wg_index *t;

	NEED_EAL();
	t = make(256);
	CHECK(t != NULL);
	if (!t)
		return;
	/* 0..127 keypairs, 128..159 handshakes, 160..191 deleted keypairs */
	for (unsigned i = 0; i < 192; i++)
		CHECK(wg_index_add(t, &objs[i], i >= 128 && i < 160 ? HS : KP, &idx[i]) == 0);
	for (unsigned i = 160; i < 192; i++)
		CHECK(wg_index_del(t, idx[i]) == 0);
	for (unsigned round = 0; round < 200; round++) {
		unsigned n = sizes[round % (sizeof(sizes) / sizeof(sizes[0]))];
		void *want[64];

		for (unsigned i = 0; i < n; i++) {
			enum query kind = (enum query)(rnd() % N_QUERIES);
			unsigned j;

			seen[kind]++;
			want[i] = NULL;
			switch (kind) {
			case Q_HIT:
				j = rnd() % 128;
				q[i] = idx[j];
				want[i] = &objs[j];
				break;
			case Q_OTHER_KIND:
				q[i] = idx[128 + rnd() % 32];
				break;
			case Q_DELETED:
				q[i] = idx[160 + rnd() % 32];
				break;
			case Q_RANDOM:
				q[i] = rnd();
				for (j = 0; j < 160; j++)
					if (idx[j] == q[i])
						want[i] = j < 128 ? &objs[j] : NULL;
				break;
			default:
				q[i] = idx[rnd() % 128] ^ (1u << (8 + rnd() % 24));
				for (j = 0; j < 160; j++)
					if (idx[j] == q[i])
						want[i] = j < 128 ? &objs[j] : NULL;
				break;
			}
		}
		out[n] = (void *)&out; /* must stay */
		wg_index_lookup_bulk(t, q, n, KP, out);
		CHECK(out[n] == (void *)&out);
		for (unsigned i = 0; i < n; i++) {
			mismatch += out[i] != wg_index_lookup(t, q[i], KP);
			wrong += out[i] != want[i];
		}
		/* the other kind: only the handshakes */
		wg_index_lookup_bulk(t, q, n, HS, out);
		for (unsigned i = 0; i < n; i++)
			mismatch += out[i] != wg_index_lookup(t, q[i], HS);
	}
	CHECK(mismatch == 0);
	CHECK(wrong == 0);
	for (int k = 0; k < N_QUERIES; k++)
		CHECK(seen[k] > 0);
	wg_index_destroy(t);
}

/* ---- quarantine ---- */

/*
 * A reader that went online and has not reported: no deleted slot may be
 * reused, until it reports. 96 of 128 slots: 32 deleted must be skipped by
 * the next 32 adds; after those are deleted too, nothing is free; the
 * report frees all 64 at once.
 */
static void test_quarantine(void)
{
	uint32_t idx[96], fresh[32];
	bool held[128] = { false };
	struct wg_index *t;
	unsigned reused = 0;

	NEED_EAL();
	t = make(96);
	CHECK(t != NULL);
	if (!t)
		return;
	CHECK(rte_rcu_qsbr_thread_register(qsbr, FAKE_READER) == 0);
	rte_rcu_qsbr_thread_online(qsbr, FAKE_READER);
	for (unsigned i = 0; i < 96; i++)
		CHECK(wg_index_add(t, &objs[i], KP, &idx[i]) == 0);
	for (unsigned i = 0; i < 32; i++) {
		CHECK(wg_index_del(t, idx[i]) == 0);
		held[idx[i] & 127] = true;
	}
	for (unsigned i = 0; i < 32; i++) {
		CHECK(wg_index_add(t, &objs[96 + i], KP, &fresh[i]) == 0);
		reused += held[fresh[i] & 127];
		for (unsigned j = 0; j < 32; j++)
			CHECK(fresh[i] != idx[j]);
	}
	CHECK_MSG(reused == 0, "%u slots reused before the grace period", reused);
	CHECK(wg_index_count(t) == 96);
	CHECK(wg_index_add(t, &objs[200], KP, &fresh[0]) == -ENOSPC);
	for (unsigned i = 0; i < 32; i++) {
		CHECK(wg_index_del(t, fresh[i]) == 0);
		held[fresh[i] & 127] = true;
	}
	for (unsigned i = 0; i < 32; i++)
		CHECK(wg_index_lookup(t, idx[i], KP) == NULL && wg_index_lookup(t, fresh[i], KP) == NULL);
	/* 64 live, 64 quarantined, none free: the report frees them */
	rte_rcu_qsbr_quiescent(qsbr, FAKE_READER);
	reused = 0;
	for (unsigned i = 0; i < 32; i++) {
		uint32_t x;

		CHECK(wg_index_add(t, &objs[300 + i], HS, &x) == 0);
		reused += held[x & 127];
		CHECK(wg_index_lookup(t, x, HS) == &objs[300 + i]);
	}
	CHECK(reused == 32);
	CHECK(wg_index_count(t) == 96);
	rte_rcu_qsbr_thread_offline(qsbr, FAKE_READER);
	rte_rcu_qsbr_thread_unregister(qsbr, FAKE_READER);
	wg_index_destroy(t);
}

/* every slot live or awaiting a grace period: the add waits for the reader */
static volatile int wait_phase; /* 1: reader online, 2: go, 3: reported */

static int slow_reader(void *arg)
{
	unsigned tid = rte_lcore_id();

	(void)arg;
	rte_rcu_qsbr_thread_register(qsbr, tid);
	rte_rcu_qsbr_thread_online(qsbr, tid);
	__atomic_store_n(&wait_phase, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&wait_phase, __ATOMIC_ACQUIRE) != 2)
		rte_pause();
	rte_delay_ms(50);
	__atomic_store_n(&wait_phase, 3, __ATOMIC_RELEASE);
	rte_rcu_qsbr_quiescent(qsbr, tid);
	rte_rcu_qsbr_thread_offline(qsbr, tid);
	rte_rcu_qsbr_thread_unregister(qsbr, tid);
	return 0;
}

static void test_add_waits_for_grace(void)
{
	unsigned worker = rte_get_next_lcore(-1, 1, 0);
	uint32_t idx[64], x;
	struct wg_index *t;

	NEED_EAL();
	if (worker >= RTE_MAX_LCORE)
		SKIP_TEST("needs a second lcore");
	t = make(64);
	CHECK(t != NULL);
	if (!t)
		return;
	for (unsigned i = 0; i < 64; i++)
		CHECK(wg_index_add(t, &objs[i], KP, &idx[i]) == 0);
	wait_phase = 0;
	rte_eal_remote_launch(slow_reader, NULL, worker);
	while (__atomic_load_n(&wait_phase, __ATOMIC_ACQUIRE) != 1)
		rte_pause();
	CHECK(wg_index_del(t, idx[9]) == 0);
	__atomic_store_n(&wait_phase, 2, __ATOMIC_RELEASE);
	CHECK(wg_index_add(t, &objs[64], HS, &x) == 0);
	CHECK_MSG(__atomic_load_n(&wait_phase, __ATOMIC_ACQUIRE) == 3, "the add did not wait for the reader");
	CHECK((x & 63) == (idx[9] & 63));
	CHECK(wg_index_lookup(t, x, HS) == &objs[64]);
	rte_eal_wait_lcore(worker);
	wg_index_destroy(t);
}

/* ---- a reader lcore against the writer ---- */

/*
 * Objects carry the index they are under. The writer adds a handshake
 * object (its index written into it just after the add), replaces
 * handshakes by keypairs (index written before), deletes, and flips a
 * stable set of indices between two keypairs each; an object is reused
 * only after a grace period. The reader looks up recent indices (live and
 * deleted), random ones and the stable ones, in bulk and singly: whatever
 * it gets must carry the index it asked for and the kind, and a stable
 * index must never give NULL. A small table, so that slots change hands
 * all the time.
 */
#define C_CAP 48 /* 64 slots */
#define C_STABLE 8
#define C_POOL 512
#define C_RECENT 256

struct tobj {
	uint32_t index;
	uint32_t kind;
	uint32_t ready; /* index written */
	uint32_t busy;  /* writer only */
	uint64_t token; /* writer only: retired at */
};

static struct wg_index *shared;
static struct tobj pool[C_POOL], stable_objs[C_STABLE][2];
static uint32_t stable_idx[C_STABLE], recent[C_RECENT];
static volatile int stop_reader;
static uint64_t reader_lookups, reader_hits, reader_errors;

static bool obj_ok(const struct tobj *o, uint32_t index, uint32_t kind)
{
	if (__atomic_load_n(&o->kind, __ATOMIC_ACQUIRE) != kind)
		return false;
	/* a handshake just added: the writer is about to write its index */
	while (!__atomic_load_n(&o->ready, __ATOMIC_ACQUIRE))
		rte_pause();
	return __atomic_load_n(&o->index, __ATOMIC_RELAXED) == index;
}

static int reader(void *arg)
{
	unsigned tid = rte_lcore_id();
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)arg;
	rte_rcu_qsbr_thread_register(qsbr, tid);
	rte_rcu_qsbr_thread_online(qsbr, tid);
	while (!stop_reader) {
		uint32_t q[32];
		void *out[32];

		for (unsigned i = 0; i < 32; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (i < C_STABLE)
				q[i] = stable_idx[i];
			else if (i < 28)
				q[i] = __atomic_load_n(&recent[(x >> 8) % C_RECENT], __ATOMIC_RELAXED);
			else
				q[i] = (uint32_t)(x >> 32);
		}
		wg_index_lookup_bulk(shared, q, 32, KP, out);
		for (unsigned i = 0; i < 32; i++) {
			struct tobj *hs = wg_index_lookup(shared, q[i], HS);

			if (i < C_STABLE && !out[i])
				reader_errors++; /* neither the old keypair nor the new */
			if (out[i] && !obj_ok(out[i], q[i], KP))
				reader_errors++;
			if (hs && !obj_ok(hs, q[i], HS))
				reader_errors++;
			reader_hits += !!out[i] + !!hs;
		}
		reader_lookups += 64;
		rte_rcu_qsbr_quiescent(qsbr, tid);
	}
	rte_rcu_qsbr_thread_offline(qsbr, tid);
	rte_rcu_qsbr_thread_unregister(qsbr, tid);
	return 0;
}

/* an object no reader can still hold */
static struct tobj *take(unsigned *next)
{
	for (;;) {
		struct tobj *o = &pool[(*next)++ % C_POOL];

		if (o->busy)
			continue;
		rte_rcu_qsbr_check(qsbr, o->token, true);
		o->busy = 1;
		__atomic_store_n(&o->ready, 0, __ATOMIC_RELAXED);
		return o;
	}
}

static void retire(struct tobj *o)
{
	o->token = rte_rcu_qsbr_start(qsbr);
	o->busy = 0;
}

static void test_concurrent_reader(void)
{
	struct { uint32_t index; struct tobj *o; } live[C_CAP];
	unsigned worker = rte_get_next_lcore(-1, 1, 0), n_live = 0, next = 0, r_pos = 0;
	uint64_t ops[4] = { 0 }, t_end;
	unsigned fails = 0;

	NEED_EAL();
	if (worker >= RTE_MAX_LCORE)
		SKIP_TEST("needs a second lcore");
	shared = make(C_CAP);
	CHECK(shared != NULL);
	if (!shared)
		return;
	for (unsigned i = 0; i < C_STABLE; i++) {
		CHECK(wg_index_add(shared, &stable_objs[i][0], KP, &stable_idx[i]) == 0);
		for (int k = 0; k < 2; k++)
			stable_objs[i][k] = (struct tobj){ .index = stable_idx[i], .kind = KP, .ready = 1 };
	}
	stop_reader = 0;
	rte_eal_remote_launch(reader, NULL, worker);
	t_end = rte_get_timer_cycles() + rte_get_timer_hz();
	while (rte_get_timer_cycles() < t_end) {
		unsigned op = rnd() % 8, i = n_live ? rnd() % n_live : 0;
		struct tobj *o;

		if (n_live < C_CAP - C_STABLE && (op < 3 || !n_live)) {
			o = take(&next);
			o->kind = HS;
			fails += wg_index_add(shared, o, HS, &live[n_live].index) != 0;
			__atomic_store_n(&o->index, live[n_live].index, __ATOMIC_RELAXED);
			__atomic_store_n(&o->ready, 1, __ATOMIC_RELEASE);
			live[n_live].o = o;
			__atomic_store_n(&recent[r_pos++ % C_RECENT], live[n_live++].index, __ATOMIC_RELAXED);
			ops[0]++;
		} else if (op < 5 && live[i].o->kind == HS) {
			o = take(&next);
			*o = (struct tobj){ .index = live[i].index, .kind = KP, .ready = 1, .busy = 1 };
			fails += wg_index_replace(shared, live[i].index, o, KP) != 0;
			retire(live[i].o);
			live[i].o = o;
			ops[1]++;
		} else if (op < 7 && n_live) {
			fails += wg_index_del(shared, live[i].index) != 0;
			retire(live[i].o);
			live[i] = live[--n_live];
			ops[2]++;
		} else {
			unsigned s = rnd() % C_STABLE;
			struct tobj *cur = wg_index_lookup(shared, stable_idx[s], KP);

			fails += wg_index_replace(shared, stable_idx[s],
						  cur == &stable_objs[s][0] ? &stable_objs[s][1] : &stable_objs[s][0],
						  KP) != 0;
			ops[3]++;
		}
	}
	stop_reader = 1;
	rte_eal_wait_lcore(worker);
	printf("# index: %" PRIu64 " adds, %" PRIu64 " replaces, %" PRIu64 " deletes, %" PRIu64
	       " stable flips; %" PRIu64 " reader lookups, %" PRIu64 " hits\n",
	       ops[0], ops[1], ops[2], ops[3], reader_lookups, reader_hits);
	CHECK(fails == 0);
	CHECK(reader_errors == 0);
	CHECK(reader_lookups > 0);
	CHECK(wg_index_count(shared) == C_STABLE + n_live);
	wg_index_destroy(shared);
}

int main(void)
{
	char prefix[64];
	size_t sz;

	snprintf(prefix, sizeof(prefix), "--file-prefix=wgidx%d", getpid());
	char *argv[] = { "index_test", "-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf", prefix, "--log-level=lib.*:error", NULL };
	TEST_BEGIN("dataplane/index_test");
	wg_crypto_init();
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) >= 0) {
		sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
		qsbr = rte_zmalloc("qsbr", sz, RTE_CACHE_LINE_SIZE);
		eal_ok = qsbr && rte_rcu_qsbr_init(qsbr, RTE_MAX_LCORE) == 0;
	}
	RUN_TEST(test_steps);
	RUN_TEST(test_create_args);
	RUN_TEST(test_unique_spread);
	RUN_TEST(test_capacity);
	RUN_TEST(test_no_qsbr);
	RUN_TEST(test_high_bits);
	RUN_TEST(test_bulk);
	RUN_TEST(test_quarantine);
	RUN_TEST(test_add_waits_for_grace);
	RUN_TEST(test_concurrent_reader);
	if (eal_ok) {
		rte_free(qsbr);
		rte_eal_cleanup();
	}
	return TEST_END();
}
