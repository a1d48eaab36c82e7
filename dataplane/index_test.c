/* SPDX-License-Identifier: MIT */
/*
 * Index table on a real DPDK EAL (no hugepages, in memory): uniqueness,
 * kinds, bulk lookups, capacity, deletion, and a reader lcore that must keep
 * resolving a stable set of indices while the writer adds and deletes others.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "crypto/secure.h"
#include "dataplane/index.h"
#include "tests/harness.h"

#define N_OBJS 10000

static uint64_t objs[N_OBJS]; /* 8-byte aligned stand-ins for keypairs */
static struct rte_rcu_qsbr *qsbr;
static int eal_ok;

static struct wg_index *make(uint32_t capacity)
{
	static int seq;
	char name[32];
	struct wg_index *t = NULL;

	snprintf(name, sizeof(name), "idx%d", seq++);
	if (wg_index_create(&t, name, capacity, SOCKET_ID_ANY, qsbr))
		return NULL;
	return t;
}

static void test_add_lookup_unique(void)
{
	static uint32_t idx[N_OBJS];
	struct wg_index *t;
	unsigned dup = 0, wrong = 0;

	if (!eal_ok)
		{
		CHECK_MSG(eal_ok, "EAL did not initialise");
		return;
	}
	t = make(N_OBJS);
	CHECK(t != NULL);
	if (!t)
		return;
	for (unsigned i = 0; i < N_OBJS; i++)
		CHECK(wg_index_add(t, &objs[i], i & 1 ? WG_INDEX_KEYPAIR : WG_INDEX_HANDSHAKE, &idx[i]) == 0);
	CHECK(wg_index_count(t) == N_OBJS);
	for (unsigned i = 0; i < N_OBJS; i++) {
		enum wg_index_kind k = i & 1 ? WG_INDEX_KEYPAIR : WG_INDEX_HANDSHAKE;
		enum wg_index_kind other = i & 1 ? WG_INDEX_HANDSHAKE : WG_INDEX_KEYPAIR;
		if (wg_index_lookup(t, idx[i], k) != &objs[i] || wg_index_lookup(t, idx[i], other))
			wrong++;
		if (i && idx[i] == idx[i - 1])
			dup++;
	}
	CHECK(wrong == 0);
	CHECK(dup == 0);
	/* replacement keeps the index, changes object and kind */
	CHECK(wg_index_replace(t, idx[2], &objs[3], WG_INDEX_KEYPAIR) == 0);
	CHECK(wg_index_lookup(t, idx[2], WG_INDEX_KEYPAIR) == &objs[3]);
	CHECK(wg_index_lookup(t, idx[2], WG_INDEX_HANDSHAKE) == NULL);
	CHECK(wg_index_count(t) == N_OBJS);
	CHECK(wg_index_replace(t, idx[0] ^ 0x5a5a5a5a, &objs[3], WG_INDEX_KEYPAIR) == -ENOENT ||
	      wg_index_lookup(t, idx[0] ^ 0x5a5a5a5a, WG_INDEX_KEYPAIR) != NULL);
	/* deletion */
	CHECK(wg_index_del(t, idx[0]) == 0);
	CHECK(wg_index_lookup(t, idx[0], WG_INDEX_HANDSHAKE) == NULL);
	CHECK(wg_index_del(t, idx[0]) == -ENOENT);
	CHECK(wg_index_count(t) == N_OBJS - 1);
	wg_index_destroy(t);
}

static void test_bulk(void)
{
	uint32_t idx[64], q[64];
	void *out[64];
	struct wg_index *t;

	if (!eal_ok)
		{
		CHECK_MSG(eal_ok, "EAL did not initialise");
		return;
	}
	t = make(128);
	CHECK(t != NULL);
	if (!t)
		return;
	for (unsigned i = 0; i < 64; i++)
		CHECK(wg_index_add(t, &objs[i], WG_INDEX_KEYPAIR, &idx[i]) == 0);
	/* every other query misses (an index we deleted) */
	CHECK(wg_index_del(t, idx[63]) == 0);
	for (unsigned i = 0; i < 64; i++)
		q[i] = i & 1 ? idx[63] : idx[i];
	wg_index_lookup_bulk(t, q, 64, WG_INDEX_KEYPAIR, out);
	for (unsigned i = 0; i < 64; i++)
		CHECK(out[i] == (i & 1 ? NULL : (void *)&objs[i]));
	wg_index_lookup_bulk(t, q, 64, WG_INDEX_HANDSHAKE, out);
	for (unsigned i = 0; i < 64; i++)
		CHECK(out[i] == NULL);
	wg_index_destroy(t);
}

static void test_capacity_and_args(void)
{
	uint32_t idx[101], x;
	struct wg_index *t;

	if (!eal_ok)
		{
		CHECK_MSG(eal_ok, "EAL did not initialise");
		return;
	}
	t = make(100);
	CHECK(t != NULL);
	if (!t)
		return;
	for (unsigned i = 0; i < 100; i++)
		CHECK(wg_index_add(t, &objs[i], WG_INDEX_KEYPAIR, &idx[i]) == 0);
	CHECK(wg_index_add(t, &objs[100], WG_INDEX_KEYPAIR, &idx[100]) == -ENOSPC);
	CHECK(wg_index_del(t, idx[5]) == 0);
	CHECK(wg_index_add(t, &objs[100], WG_INDEX_KEYPAIR, &idx[100]) == 0);
	CHECK(wg_index_add(t, NULL, WG_INDEX_KEYPAIR, &x) == -EINVAL);
	CHECK(wg_index_add(t, (char *)&objs[0] + 1, WG_INDEX_KEYPAIR, &x) == -EINVAL);
	CHECK(wg_index_add(t, &objs[0], 0, &x) == -EINVAL);
	wg_index_destroy(t);
	CHECK(wg_index_create(&t, "bad", 0, SOCKET_ID_ANY, qsbr) == -EINVAL);
}

/* ---- a reader lcore against the writer ---- */
#define STABLE 256
static struct wg_index *shared;
static uint32_t stable_idx[STABLE];
static volatile int stop_reader;
static uint64_t reader_lookups, reader_errors;

static int reader(void *arg)
{
	unsigned tid = rte_lcore_id();
	(void)arg;

	rte_rcu_qsbr_thread_register(qsbr, tid);
	rte_rcu_qsbr_thread_online(qsbr, tid);
	while (!stop_reader) {
		void *out[32];
		for (unsigned b = 0; b < STABLE; b += 32) {
			wg_index_lookup_bulk(shared, stable_idx + b, 32, WG_INDEX_KEYPAIR, out);
			for (unsigned i = 0; i < 32; i++)
				if (out[i] != &objs[b + i])
					reader_errors++;
			reader_lookups += 32;
		}
		rte_rcu_qsbr_quiescent(qsbr, tid);
	}
	rte_rcu_qsbr_thread_offline(qsbr, tid);
	rte_rcu_qsbr_thread_unregister(qsbr, tid);
	return 0;
}

static void test_concurrent_reader(void)
{
	static uint32_t churn[1024];
	unsigned worker = rte_get_next_lcore(-1, 1, 0);
	uint64_t rounds = 0, t_end;

	if (!eal_ok)
		{
		CHECK_MSG(eal_ok, "EAL did not initialise");
		return;
	}
	if (worker >= RTE_MAX_LCORE)
		SKIP_TEST("needs a second lcore");
	shared = make(4096);
	CHECK(shared != NULL);
	if (!shared)
		return;
	for (unsigned i = 0; i < STABLE; i++)
		CHECK(wg_index_add(shared, &objs[i], WG_INDEX_KEYPAIR, &stable_idx[i]) == 0);
	stop_reader = 0;
	rte_eal_remote_launch(reader, NULL, worker);
	t_end = rte_get_timer_cycles() + rte_get_timer_hz();
	while (rte_get_timer_cycles() < t_end) {
		for (unsigned i = 0; i < 1024; i++)
			CHECK(wg_index_add(shared, &objs[STABLE + i], WG_INDEX_KEYPAIR, &churn[i]) == 0);
		for (unsigned i = 0; i < 1024; i++)
			CHECK(wg_index_del(shared, churn[i]) == 0);
		rounds++;
	}
	stop_reader = 1;
	rte_eal_wait_lcore(worker);
	printf("# index: %" PRIu64 " add/del rounds of 1024, %" PRIu64 " reader lookups\n", rounds,
	       reader_lookups);
	CHECK(reader_errors == 0);
	CHECK(reader_lookups > 0);
	CHECK(wg_index_count(shared) == STABLE);
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
	RUN_TEST(test_add_lookup_unique);
	RUN_TEST(test_bulk);
	RUN_TEST(test_capacity_and_args);
	RUN_TEST(test_concurrent_reader);
	if (eal_ok) {
		rte_free(qsbr);
		rte_eal_cleanup();
	}
	return TEST_END();
}
