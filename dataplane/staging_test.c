/* SPDX-License-Identifier: MIT */
/*
 * Staging queues on a real DPDK EAL (no hugepages): scripted scenarios of
 * pushes, flushes and purges on a few peers sharing small pools, checking
 * after each step what the worker relies on: FIFO order, the oldest dropped
 * when a queue is full, no queue taken while nothing waits, a queue given
 * back to the pool it came from as soon as it is empty (also after the peer
 * moved to a worker with another pool), the pool-empty drop, and that every
 * mbuf is freed exactly once. Plus the pool sizing rule.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/staging.h"
#include "tests/harness.h"

#define N_PEERS 3
#define N_POOLS 2
#define MAX_OPS 24
#define MBUFS 1023 /* more than all peers can stage at once */

static struct rte_mempool *mbufs;
static int eal_ok;

enum op_kind {
	END,
	PUSH,    /* push id a on peer; expect ret, and drop (id freed by the caller, 0 none) */
	PUSHN,   /* push ids a..b on peer, each must return 0 */
	POPN,    /* peek and pop: the ids a..b in this order */
	PURGE,   /* purge peer: expect ret packets freed */
	MOVE,    /* peer now belongs to the worker of pool a (migration: keeps its queue) */
	EXPECT,  /* peer holds count packets, head id head (0: no queue); pool a has free_q queues */
};

struct op {
	enum op_kind kind;
	unsigned peer, a, b;
	int ret;
	unsigned drop, count, head, free_q;
};

struct scenario {
	const char *name;
	unsigned pool_size[N_POOLS];
	struct op ops[MAX_OPS];
};

#define OP_PUSH(p, id, r, d) { .kind = PUSH, .peer = (p), .a = (id), .ret = (r), .drop = (d) }
#define OP_PUSHN(p, x, y) { .kind = PUSHN, .peer = (p), .a = (x), .b = (y) }
#define OP_POPN(p, x, y) { .kind = POPN, .peer = (p), .a = (x), .b = (y) }
#define OP_PURGE(p, n) { .kind = PURGE, .peer = (p), .ret = (n) }
#define OP_MOVE(p, pool) { .kind = MOVE, .peer = (p), .a = (pool) }
#define OP_EXPECT(p, n, h, pool, fq) { .kind = EXPECT, .peer = (p), .count = (n), .head = (h), .a = (pool), .free_q = (fq) }

static const struct scenario scenarios[] = {
	{ "nothing staged holds no queue", { 4, 4 }, {
		OP_EXPECT(0, 0, 0, 0, 4),
		OP_PURGE(0, 0),
		OP_EXPECT(0, 0, 0, 0, 4),
	} },
	{ "first packet takes a queue, last pop gives it back", { 4, 4 }, {
		OP_PUSH(0, 1, 0, 0),
		OP_EXPECT(0, 1, 1, 0, 3),
		OP_PUSHN(0, 2, 5),
		OP_EXPECT(0, 5, 1, 0, 3),
		OP_POPN(0, 1, 4),
		OP_EXPECT(0, 1, 5, 0, 3),
		OP_POPN(0, 5, 5),
		OP_EXPECT(0, 0, 0, 0, 4),
	} },
	{ "full queue drops the oldest and keeps the newest", { 4, 4 }, {
		OP_PUSHN(0, 1, WG_STAGED_MAX),
		OP_EXPECT(0, WG_STAGED_MAX, 1, 0, 3),
		OP_PUSH(0, 1000, -ENOBUFS, 1),
		OP_PUSH(0, 1001, -ENOBUFS, 2),
		OP_EXPECT(0, WG_STAGED_MAX, 3, 0, 3),
		OP_POPN(0, 3, WG_STAGED_MAX),
		OP_POPN(0, 1000, 1001),
		OP_EXPECT(0, 0, 0, 0, 4),
	} },
	{ "ring wraps around in order", { 4, 4 }, {
		OP_PUSHN(0, 1, 100),
		OP_POPN(0, 1, 90),
		OP_PUSHN(0, 101, 218),   /* 10 + 118 = 128: full, wrapped */
		OP_EXPECT(0, WG_STAGED_MAX, 91, 0, 3),
		OP_PUSH(0, 219, -ENOBUFS, 91),
		OP_POPN(0, 92, 219),
		OP_EXPECT(0, 0, 0, 0, 4),
	} },
	{ "purge frees every packet and gives the queue back", { 4, 4 }, {
		OP_PUSHN(0, 1, 7),
		OP_PUSHN(1, 8, 9),
		OP_EXPECT(1, 2, 8, 0, 2),
		OP_PURGE(0, 7),
		OP_EXPECT(0, 0, 0, 0, 3),
		OP_EXPECT(1, 2, 8, 0, 3),
		OP_PURGE(1, 2),
		OP_EXPECT(1, 0, 0, 0, 4),
	} },
	{ "purge of a full wrapped queue", { 4, 4 }, {
		OP_PUSHN(0, 1, 200), /* 72 dropped on the way: checked by the mbuf count */
		OP_PURGE(0, WG_STAGED_MAX),
		OP_EXPECT(0, 0, 0, 0, 4),
	} },
	{ "empty pool: packet dropped, not staged, others unaffected", { 2, 2 }, {
		OP_PUSH(0, 1, 0, 0),
		OP_PUSH(1, 10, 0, 0),
		OP_EXPECT(0, 1, 1, 0, 0),
		OP_PUSH(2, 20, -ENOMEM, 20),
		OP_EXPECT(2, 0, 0, 0, 0),
		OP_PUSH(0, 2, 0, 0),      /* a peer with a queue still stages */
		OP_POPN(0, 1, 2),         /* flushed: its queue goes back... */
		OP_PUSH(2, 21, 0, 0),     /* ...and the next peer gets it */
		OP_EXPECT(2, 1, 21, 0, 0),
		OP_PURGE(1, 1),
		OP_PURGE(2, 1),
		OP_EXPECT(2, 0, 0, 0, 2),
	} },
	{ "a migrated peer keeps its queue; it goes back to its own pool", { 2, 2 }, {
		OP_PUSHN(0, 1, 3),
		OP_EXPECT(0, 3, 1, 0, 1),
		OP_MOVE(0, 1),
		OP_PUSHN(0, 4, 5),        /* the new owner appends to the same queue */
		OP_EXPECT(0, 5, 1, 1, 2), /* pool 1 untouched */
		OP_POPN(0, 1, 5),
		OP_EXPECT(0, 0, 0, 0, 2), /* back in pool 0 */
		OP_EXPECT(0, 0, 0, 1, 2),
		OP_PUSH(0, 6, 0, 0),      /* the next one comes from the new worker's pool */
		OP_EXPECT(0, 1, 6, 1, 1),
		OP_EXPECT(0, 1, 6, 0, 2),
		OP_PURGE(0, 1),
		OP_EXPECT(0, 0, 0, 1, 2),
	} },
};

static struct rte_mbuf *mbuf_with_id(unsigned id)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mbufs);

	if (m)
		m->hash.usr = id;
	return m;
}

static unsigned id_of(const struct rte_mbuf *m)
{
	return m ? m->hash.usr : 0;
}

/* one step; false when it failed (reported) */
static bool step(const struct scenario *sc, unsigned i, struct wg_staging_queue **q, struct rte_mempool **pools,
		 unsigned *pool_of)
{
	const struct op *op = &sc->ops[i];
	struct wg_staging_queue **pq = &q[op->peer];
	struct rte_mbuf *m, *drop;
	int ret;

	switch (op->kind) {
	case PUSH:
		m = mbuf_with_id(op->a);
		drop = NULL;
		ret = wg_staging_push(pq, pools[pool_of[op->peer]], m, &drop);
		CHECK_MSG(ret == op->ret && id_of(ret ? drop : NULL) == op->drop,
			  "%s, step %u: push %u gave %d, drop %u; want %d, drop %u", sc->name, i, op->a, ret,
			  id_of(ret ? drop : NULL), op->ret, op->drop);
		if (ret)
			rte_pktmbuf_free(drop);
		return ret == op->ret;
	case PUSHN:
		for (unsigned id = op->a; id <= op->b; id++) {
			m = mbuf_with_id(id);
			ret = wg_staging_push(pq, pools[pool_of[op->peer]], m, &drop);
			if (ret == -ENOBUFS) { /* only the "purge of a full" row overflows on purpose */
				rte_pktmbuf_free(drop);
				continue;
			}
			CHECK_MSG(ret == 0, "%s, step %u: push %u gave %d", sc->name, i, id, ret);
			if (ret)
				return false;
		}
		return true;
	case POPN:
		for (unsigned id = op->a; id <= op->b; id++) {
			m = wg_staging_peek(*pq);
			CHECK_MSG(id_of(m) == id, "%s, step %u: head %u, want %u", sc->name, i, id_of(m), id);
			if (id_of(m) != id)
				return false;
			wg_staging_pop(pq);
			rte_pktmbuf_free(m);
		}
		return true;
	case PURGE:
		ret = (int)wg_staging_purge(pq);
		CHECK_MSG(ret == op->ret && *pq == NULL, "%s, step %u: purge freed %d, want %d", sc->name, i, ret,
			  op->ret);
		return ret == op->ret;
	case MOVE:
		pool_of[op->peer] = op->a;
		return true;
	case EXPECT: {
		unsigned n = wg_staging_count(*pq), head = id_of(wg_staging_peek(*pq));
		unsigned fq = rte_mempool_avail_count(pools[op->a]);
		bool ok = n == op->count && head == op->head && fq == op->free_q && (n == 0) == (*pq == NULL);

		CHECK_MSG(ok, "%s, step %u: %u staged, head %u, pool %u has %u free; want %u, %u, %u", sc->name, i,
			  n, head, op->a, fq, op->count, op->head, op->free_q);
		return ok;
	}
	case END:
		break;
	}
	return true;
}

static void test_scenarios(void)
{
	REQUIRE_MSG(eal_ok, "EAL did not initialise");
	for (size_t s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]); s++) {
		const struct scenario *sc = &scenarios[s];
		struct wg_staging_queue *q[N_PEERS] = { 0 };
		struct rte_mempool *pools[N_POOLS] = { 0 };
		unsigned pool_of[N_PEERS] = { 0 };
		unsigned mbufs_before = rte_mempool_avail_count(mbufs);
		char name[RTE_MEMPOOL_NAMESIZE];
		bool ok = true;

		for (unsigned p = 0; p < N_POOLS; p++) {
			snprintf(name, sizeof(name), "stg%zu_%u", s, p);
			CHECK(wg_staging_pool_create(&pools[p], name, sc->pool_size[p], SOCKET_ID_ANY) == 0);
		}
		if (!pools[0] || !pools[1])
			return;
		for (unsigned i = 0; ok && i < MAX_OPS && sc->ops[i].kind != END; i++)
			ok = step(sc, i, q, pools, pool_of);
		for (unsigned p = 0; p < N_PEERS; p++)
			wg_staging_purge(&q[p]);
		/* every queue back where it came from, every mbuf freed once */
		for (unsigned p = 0; p < N_POOLS; p++)
			CHECK_MSG(rte_mempool_avail_count(pools[p]) == sc->pool_size[p], "%s: pool %u lost queues",
				  sc->name, p);
		CHECK_MSG(rte_mempool_avail_count(mbufs) == mbufs_before, "%s: %u mbufs before, %u after", sc->name,
			  mbufs_before, rte_mempool_avail_count(mbufs));
		for (unsigned p = 0; p < N_POOLS; p++)
			wg_staging_pool_destroy(pools[p]);
	}
}

static void test_pool_size(void)
{
	static const struct {
		uint32_t max_peers;
		unsigned workers, want;
	} rows[] = {
		{ 1, 1, WG_STAGING_QUEUES_MIN },
		{ 100, 1, 100 },
		{ 4096, 1, 4096 },
		{ 1000000, 1, WG_STAGING_QUEUES_MAX },
		{ 1048576, 3, (WG_STAGING_QUEUES_MAX + 2) / 3 },
		{ 1000, 4, 250 },
		{ 10, 4, WG_STAGING_QUEUES_MIN },
		{ 100, 0, 100 }, /* no workers counted as one */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned got = wg_staging_pool_size(rows[i].max_peers, rows[i].workers);

		CHECK_MSG(got == rows[i].want, "MaxPeers %u, %u workers: %u queues, want %u", rows[i].max_peers,
			  rows[i].workers, got, rows[i].want);
	}
}

static void test_pool_args(void)
{
	struct rte_mempool *a = NULL, *b = NULL;

	if (!eal_ok)
		SKIP_TEST("no EAL");
	CHECK(wg_staging_pool_create(&a, "stg_args", 0, SOCKET_ID_ANY) == -EINVAL);
	CHECK(wg_staging_pool_create(&a, NULL, 4, SOCKET_ID_ANY) == -EINVAL);
	CHECK(wg_staging_pool_create(&a, "stg_args", 4, SOCKET_ID_ANY) == 0);
	CHECK(wg_staging_pool_create(&b, "stg_args", 4, SOCKET_ID_ANY) == -EEXIST);
	CHECK(b == NULL);
	wg_staging_pool_destroy(a);
	wg_staging_pool_destroy(NULL);
}

int main(void)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "--file-prefix=wgstg%d", getpid());
	char *argv[] = { "staging_test", "-l", "0", "--no-huge", "-m", "128", "--no-pci", "--no-shconf", prefix,
			 "--log-level=lib.*:error", NULL };
	TEST_BEGIN("dataplane/staging_test");
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) >= 0) {
		mbufs = rte_pktmbuf_pool_create("stg_mbufs", MBUFS, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		eal_ok = mbufs != NULL;
	}
	RUN_TEST(test_scenarios);
	RUN_TEST(test_pool_size);
	RUN_TEST(test_pool_args);
	if (eal_ok) {
		rte_mempool_free(mbufs);
		rte_eal_cleanup();
	}
	return TEST_END();
}
