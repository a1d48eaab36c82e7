/* SPDX-License-Identifier: MIT */
/*
 * peer_scale_bench: what a peer costs at 1, 10,000 and 1,000,000 peers, in
 * memory and in lookup time, with the appliance's own tables built by its own
 * code (issue 5: under 1 KiB per peer, lookups within 1.5x of one peer).
 *
 * For each peer count N, in one process (by default EAL with --no-huge, so
 * no hugepage is taken from others on the machine; see --huge):
 *
 *   tables    the device's tables sized for MaxPeers = N as wg_device_setup
 *             sizes them: index table, allowed-IP trie, public-key hash,
 *             one worker's staging pool;
 *   peers     N peers through wg_change_apply (the path of the config file,
 *             the wg UAPI and the REST API), each with one /32 allowed IP
 *             (10.0.0.1 up), a random public key, no name, no preshared key;
 *   sessions  one session per peer as a completed handshake installs it
 *             (from the session slab like control.c's install(), indexed,
 *             made current).
 *
 * Memory is measured, not computed: bytes in use in the DPDK heap
 * (rte_malloc_get_socket_stats) plus the C heap (mallinfo2), before and
 * after each step, divided by N; and what the peer and session slabs hold
 * (control/slab.h: objects, chunks, bytes). Then, for R repeats of about the given
 * duration each, the cost of
 *
 *   index     wg_index_lookup_bulk, bursts of --burst receiver indices of
 *             random existing sessions (what every outside burst does);
 *   aip       wg_allowedips_lookup of random existing peers' addresses, one
 *             at a time (what the inside path does per packet);
 *   aip-bulk  the same addresses through wg_allowedips_lookup_bulk, bursts of
 *             --burst (walks interleaved, misses overlapped);
 *   floor     no table: one random 16-byte read per lookup from a buffer as
 *             large as the index table, in the DPDK heap like it, bursts of
 *             --burst prefetched first (the index table's own pattern),
 *             allocated just before the tables and not counted in them. What
 *             any lookup costs that needs one memory access outside the
 *             caches: the stand-in limit for the ratio against one peer.
 *
 * in ns per lookup, min/median/max over the repeats, and the ratio of the
 * median to the first N's median. All tables are built first and the counts
 * interleaved in every repeat, so that noise from a shared machine spreads
 * over all of them. The random picks are drawn beforehand
 * into one stream of the same length for every N, read sequentially, so
 * that only the tables' size differs between the rows. A checksum of the
 * results is printed so the lookups cannot be optimised away; every lookup
 * is checked once before timing.
 *
 *   peer_scale_bench [--peers 1,10000,1000000] [--repeats 7] [--duration 0.3]
 *                    [--burst 32] [--cpu N] [--huge] [--json]
 *
 * --huge puts the DPDK heap on hugepages, as in the appliance (the run must
 * fit in the free ones; 1,000,000 peers with sessions take about 3 GB).
 * Without it every random access to a big table also misses the TLB, so
 * the lookup figures of the big counts are pessimistic.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_prefetch.h>

#include "bench/bench_util.h"
#include "control/change.h"
#include "control/peers.h"
#include "dataplane/wgdp.h"

#define MAX_COUNTS 8
#define MAX_REPEATS 101
#define MAX_BURST 64
#define MAX_PEERS (1u << 20) /* MaxPeers' limit */
#define STREAM (1u << 20)    /* random picks per stream, the same for every N */

enum { L_INDEX, L_AIP, L_AIP_BULK, L_FLOOR, N_LOOKUPS };
static const char *const lookup_names[N_LOOKUPS] = { "index", "aip", "aip-bulk", "floor" };

struct opts {
	uint32_t counts[MAX_COUNTS];
	unsigned ncounts;
	unsigned repeats;
	double duration;
	unsigned burst;
	int cpu;
	bool json;
	bool huge;
};

struct stat3 {
	double v[MAX_REPEATS];
	double min, med, max;
};

/* bytes in use: DPDK heap (every socket), C heap */
struct mem {
	int64_t dpdk, libc;
};

/* what one peer count gave */
struct row {
	uint32_t n;
	int64_t tables, peers, sessions;  /* bytes in use added by each step */
	int64_t index;                    /* of tables: the index table */
	int64_t peers_dpdk, peers_libc;   /* of peers: DPDK heap (struct wg_peer), C heap */
	int64_t trie;                     /* of peers: the trie's own figure (wg_allowedips_memory) */
	double build_s;                   /* wg_change_apply of the N peers */
	struct wg_slab_stats peer_slab, session_slab; /* with every peer and session in */
	struct stat3 ns[N_LOOKUPS];       /* ns per lookup */
	struct wgdp *dev;
	uint32_t *idx_stream;             /* receiver indices of random sessions */
	uint8_t (*aip_stream)[4];         /* addresses of random peers */
	uint64_t *floor;                  /* the floor's buffer: 16-byte slots */
	uint32_t floor_mask;              /* slots - 1 */
};

static uint64_t checksum;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: fast, and the same picks on every run */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

/* DPDK heap (every socket) and C heap (small chunks and mmapped ones) */
static struct mem mem_in_use(void)
{
	struct rte_malloc_socket_stats st;
	struct mallinfo2 mi = mallinfo2();
	struct mem m = { .libc = (int64_t)mi.uordblks + (int64_t)mi.hblkhd };

	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats(s, &st) == 0)
			m.dpdk += (int64_t)st.heap_allocsz_bytes;
	return m;
}

static int64_t bytes_in_use(void)
{
	struct mem m = mem_in_use();

	return m.dpdk + m.libc;
}

/* ---- the device's tables, as wg_device_setup builds them ---- */

static void free_aip_node(struct wgdp *dev, void *node)
{
	(void)dev;
	wg_allowedips_node_free(node);
}

static void aip_defer(void *ctx, void *node)
{
	wg_device_defer(ctx, free_aip_node, node);
}

static struct wgdp *tables_create(uint32_t max_peers, int64_t *index_bytes)
{
	static unsigned seq;
	struct wgdp *dev = wg_bench_xcalloc("peer_scale_bench", 1, sizeof(*dev));
	size_t sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	char err[256], name[32];
	int ret;

	wg_conf_init(&dev->conf);
	dev->conf.appliance.max_peers = max_peers;
	dev->n_workers = 1;
	dev->workers[0].dev = dev;
	/* no reader registers: every grace period is over at once, frees are immediate */
	dev->qsbr = rte_zmalloc("bench_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (!dev->qsbr || rte_rcu_qsbr_init(dev->qsbr, RTE_MAX_LCORE)) {
		fprintf(stderr, "peer_scale_bench: RCU: out of memory\n");
		exit(1);
	}
	snprintf(name, sizeof(name), "bench_index%u", seq++);
	*index_bytes = bytes_in_use();
	ret = wg_index_create(&dev->index, name, wg_index_capacity_for(max_peers), SOCKET_ID_ANY,
			      dev->qsbr);
	if (ret) {
		fprintf(stderr, "peer_scale_bench: index table: %s\n", strerror(-ret));
		exit(1);
	}
	*index_bytes = bytes_in_use() - *index_bytes;
	snprintf(name, sizeof(name), "bench_staging%u", seq - 1);
	ret = wg_staging_pool_create(&dev->workers[0].staging, name, wg_staging_pool_size(max_peers, 1),
				     SOCKET_ID_ANY);
	if (ret) {
		fprintf(stderr, "peer_scale_bench: staging pool: %s\n", strerror(-ret));
		exit(1);
	}
	dev->aip = wg_allowedips_create(aip_defer, dev);
	ret = dev->aip ? wg_peers_init(dev, max_peers) : -ENOMEM;
	if (!ret)
		ret = wg_change_pools_init(dev, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "peer_scale_bench: tables: %s\n", strerror(-ret));
		exit(1);
	}
	return dev;
}

static void tables_destroy(struct wgdp *dev)
{
	wg_peers_destroy(dev); /* no defer queue: the frees are done on return */
	wg_peers_slabs_destroy(dev);
	wg_change_pools_free(dev);
	wg_allowedips_destroy(dev->aip);
	wg_index_destroy(dev->index);
	wg_staging_pool_destroy(dev->workers[0].staging);
	rte_free(dev->qsbr);
	wg_conf_free(&dev->conf);
	free(dev);
}

static void peer_addr(uint32_t i, uint8_t addr[4])
{
	uint32_t a = (10u << 24) + 1 + i; /* 10.0.0.1 up */

	addr[0] = (uint8_t)(a >> 24);
	addr[1] = (uint8_t)(a >> 16);
	addr[2] = (uint8_t)(a >> 8);
	addr[3] = (uint8_t)a;
}

static void peer_key(uint32_t i, uint8_t key[WG_KEY_LEN])
{
	for (unsigned k = 0; k < WG_KEY_LEN; k += 8) {
		uint64_t r = rnd();

		memcpy(key + k, &r, 8);
	}
	memcpy(key, &i, sizeof(i)); /* unique */
}

/* N peers in one change, as a wg setconf of N peers would give them */
static void add_peers(struct wgdp *dev, uint32_t n, struct wg_peer **peers)
{
	struct wg_conf_device d = { 0 };
	char err[256];
	int ret;

	d.peers = wg_bench_xcalloc("peer_scale_bench", n, sizeof(*d.peers));
	d.n_peers = d.cap_peers = n;
	for (uint32_t i = 0; i < n; i++) {
		struct wg_conf_peer *cp = &d.peers[i];
		struct wg_conf_prefix pfx = { .family = AF_INET, .cidr = 32 };

		peer_key(i, cp->public_key);
		peer_addr(i, pfx.addr);
		if (wg_conf_prefixes_add(&cp->allowedips, &pfx)) {
			fprintf(stderr, "peer_scale_bench: out of memory\n");
			exit(1);
		}
	}
	ret = wg_change_apply(dev, &d, NULL, NULL, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "peer_scale_bench: adding %u peers: %s (%s)\n", n, err, strerror(-ret));
		exit(1);
	}
	for (uint32_t i = 0; i < n; i++) {
		peers[i] = wg_peers_lookup(dev, d.peers[i].public_key);
		if (!peers[i]) {
			fprintf(stderr, "peer_scale_bench: peer %u missing after the change\n", i);
			exit(1);
		}
	}
	wg_conf_device_free(&d);
}

/* one current session per peer, as control.c's install() leaves it */
static void add_sessions(struct wgdp *dev, uint32_t n, struct wg_peer **peers, uint32_t *indices)
{
	for (uint32_t i = 0; i < n; i++) {
		struct wg_keypair *retired[WG_KEYPAIRS_RETIRE_MAX];
		struct wg_session *s = wg_peers_session_alloc(dev);
		int ret;

		if (!s) {
			fprintf(stderr, "peer_scale_bench: sessions: out of memory\n");
			exit(1);
		}
		s->peer = peers[i];
		s->kp.valid = true;
		s->kp.is_initiator = true;
		wg_replay_init(&s->kp.replay);
		ret = wg_index_add(dev->index, &s->kp, WG_INDEX_KEYPAIR, &s->kp.local_index);
		if (ret) {
			fprintf(stderr, "peer_scale_bench: index: %s\n", strerror(-ret));
			exit(1);
		}
		s->kp.remote_index = (uint32_t)rnd();
		if (wg_keypairs_add(&peers[i]->keypairs, &s->kp, retired)) {
			fprintf(stderr, "peer_scale_bench: a fresh peer had a keypair\n");
			exit(1);
		}
		indices[i] = s->kp.local_index;
	}
}

/* ---- lookups ---- */

static double run_index(const struct wgdp *dev, const uint32_t *stream, unsigned burst, double duration,
			uint64_t *lookups)
{
	void *objs[MAX_BURST];
	uint64_t n = 0, sum = 0;
	unsigned pos = 0;
	double t0 = wg_bench_now(), t;

	do {
		for (int k = 0; k < 64; k++) {
			wg_index_lookup_bulk(dev->index, stream + pos, burst, WG_INDEX_KEYPAIR, objs);
			sum += (uintptr_t)objs[0] ^ (uintptr_t)objs[burst - 1];
			pos += burst;
			if (pos + burst > STREAM)
				pos = 0;
			n += burst;
		}
		t = wg_bench_now();
	} while (t - t0 < duration);
	checksum += sum;
	*lookups = n;
	return t - t0;
}

static double run_aip_bulk(const struct wgdp *dev, const uint8_t (*stream)[4], unsigned burst, double duration,
			   uint64_t *lookups)
{
	struct wg_allowedips_owner *owners[MAX_BURST];
	const uint8_t *addrs[MAX_BURST];
	uint64_t n = 0, sum = 0;
	unsigned pos = 0;
	double t0 = wg_bench_now(), t;

	do {
		for (int k = 0; k < 64; k++) {
			for (unsigned b = 0; b < burst; b++)
				addrs[b] = stream[pos + b];
			wg_allowedips_lookup_bulk(dev->aip, AF_INET, addrs, owners, burst);
			sum += (uintptr_t)owners[0] ^ (uintptr_t)owners[burst - 1];
			pos += burst;
			if (pos + burst > STREAM)
				pos = 0;
			n += burst;
		}
		t = wg_bench_now();
	} while (t - t0 < duration);
	checksum += sum;
	*lookups = n;
	return t - t0;
}

static double run_aip(const struct wgdp *dev, const uint8_t (*stream)[4], double duration, uint64_t *lookups)
{
	uint64_t n = 0, sum = 0;
	unsigned pos = 0;
	double t0 = wg_bench_now(), t;

	do {
		for (int k = 0; k < 2048; k++) {
			sum += (uintptr_t)wg_allowedips_lookup(dev->aip, AF_INET, stream[pos]);
			pos = (pos + 1) & (STREAM - 1);
		}
		n += 2048;
		t = wg_bench_now();
	} while (t - t0 < duration);
	checksum += sum;
	*lookups = n;
	return t - t0;
}

static double run_floor(const struct row *row, unsigned burst, double duration, uint64_t *lookups)
{
	const uint32_t *stream = row->idx_stream;
	const uint64_t *buf = row->floor;
	uint32_t mask = row->floor_mask;
	uint64_t n = 0, sum = 0;
	unsigned pos = 0;
	double t0 = wg_bench_now(), t;

	do {
		for (int k = 0; k < 64; k++) {
			for (unsigned b = 0; b < burst; b++)
				rte_prefetch0(&buf[2 * (stream[pos + b] & mask)]);
			for (unsigned b = 0; b < burst; b++)
				sum += buf[2 * (stream[pos + b] & mask)];
			pos += burst;
			if (pos + burst > STREAM)
				pos = 0;
			n += burst;
		}
		t = wg_bench_now();
	} while (t - t0 < duration);
	checksum += sum;
	*lookups = n;
	return t - t0;
}

static void summarise(struct stat3 *s, unsigned repeats)
{
	wg_bench_min_med_max(s->v, repeats, &s->min, &s->med, &s->max);
}

/* the tables of row->n peers, their memory, and the lookup streams */
static void build(const struct opts *o, struct row *row)
{
	uint32_t n = row->n;
	struct wg_peer **peers = wg_bench_xcalloc("peer_scale_bench", n, sizeof(*peers));
	uint32_t *indices = wg_bench_xcalloc("peer_scale_bench", n, sizeof(*indices));
	uint32_t *picks = wg_bench_xcalloc("peer_scale_bench", STREAM, sizeof(*picks));
	int64_t m0, m1, m3;
	struct mem p0, p1;
	double t0;

	row->idx_stream = wg_bench_xcalloc("peer_scale_bench", STREAM, sizeof(*row->idx_stream));
	row->aip_stream = wg_bench_xcalloc("peer_scale_bench", STREAM, sizeof(*row->aip_stream));
	/*
	 * the floor's buffer: the index table's size, random words, allocated
	 * just before it (where it lies matters: the same buffer allocated after
	 * the peers and sessions measured 7 ns per read against 10 here)
	 */
	row->floor_mask = (uint32_t)(rte_align32pow2(wg_index_capacity_for(n)) - 1);
	row->floor = rte_malloc("peer_scale_floor", ((size_t)row->floor_mask + 1) * 16, RTE_CACHE_LINE_SIZE);
	if (!row->floor) {
		fprintf(stderr, "peer_scale_bench: no memory for the floor's buffer\n");
		exit(1);
	}
	for (size_t j = 0; j < 2 * ((size_t)row->floor_mask + 1); j++)
		row->floor[j] = rnd();
	/* the bench's own arrays are allocated before m0: not counted */
	m0 = bytes_in_use();
	row->dev = tables_create(n, &row->index);
	m1 = bytes_in_use();
	p0 = mem_in_use();
	t0 = wg_bench_now();
	add_peers(row->dev, n, peers);
	row->build_s = wg_bench_now() - t0;
	p1 = mem_in_use();
	row->trie = (int64_t)wg_allowedips_memory(row->dev->aip);
	add_sessions(row->dev, n, peers, indices);
	m3 = bytes_in_use();
	wg_slab_stats(&row->dev->peer_slab, &row->peer_slab);
	wg_slab_stats(&row->dev->session_slab, &row->session_slab);
	row->tables = m1 - m0;
	row->peers_dpdk = p1.dpdk - p0.dpdk;
	row->peers_libc = p1.libc - p0.libc;
	row->peers = row->peers_dpdk + row->peers_libc;
	row->sessions = m3 - (p1.dpdk + p1.libc);

	for (uint32_t j = 0; j < STREAM; j++) {
		picks[j] = rnd_below(n);
		row->idx_stream[j] = indices[picks[j]];
		peer_addr(picks[j], row->aip_stream[j]);
	}
	/* every lookup right once, untimed */
	for (uint32_t j = 0; j + o->burst <= STREAM; j += o->burst) {
		void *objs[MAX_BURST];

		wg_index_lookup_bulk(row->dev->index, row->idx_stream + j, o->burst, WG_INDEX_KEYPAIR, objs);
		for (unsigned b = 0; b < o->burst; b++)
			if (!objs[b] || wg_session_of(objs[b])->peer != peers[picks[j + b]]) {
				fprintf(stderr, "peer_scale_bench: index lookup %u wrong\n", j + b);
				exit(1);
			}
	}
	for (uint32_t j = 0; j < STREAM; j++)
		if (wg_allowedips_lookup(row->dev->aip, AF_INET, row->aip_stream[j]) != &peers[picks[j]]->aip) {
			fprintf(stderr, "peer_scale_bench: allowed-IP lookup %u wrong\n", j);
			exit(1);
		}
	free(peers);
	free(indices);
	free(picks);
}

static void measure(const struct opts *o, struct row *row, unsigned r)
{
	uint64_t lookups;
	double t;

	t = run_index(row->dev, row->idx_stream, o->burst, o->duration, &lookups);
	row->ns[L_INDEX].v[r] = t * 1e9 / (double)lookups;
	t = run_aip(row->dev, (const uint8_t(*)[4])row->aip_stream, o->duration, &lookups);
	row->ns[L_AIP].v[r] = t * 1e9 / (double)lookups;
	t = run_aip_bulk(row->dev, (const uint8_t(*)[4])row->aip_stream, o->burst, o->duration, &lookups);
	row->ns[L_AIP_BULK].v[r] = t * 1e9 / (double)lookups;
	t = run_floor(row, o->burst, o->duration, &lookups);
	row->ns[L_FLOOR].v[r] = t * 1e9 / (double)lookups;
}

static void destroy(struct row *row)
{
	tables_destroy(row->dev);
	rte_free(row->floor);
	free(row->idx_stream);
	free(row->aip_stream);
}

/* ---- options and output ---- */

static int parse_counts(struct opts *o, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	o->ncounts = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v = strtoul(tok, &end, 10);

		if (*end || v < 1 || v > MAX_PEERS || o->ncounts == MAX_COUNTS) {
			fprintf(stderr, "peer_scale_bench: bad peer count `%s' (1..%u, at most %d counts)\n", tok,
				MAX_PEERS, MAX_COUNTS);
			ret = -EINVAL;
			break;
		}
		o->counts[o->ncounts++] = (uint32_t)v;
	}
	if (!ret && !o->ncounts)
		ret = -EINVAL;
	free(copy);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: peer_scale_bench [--peers 1,10000,1000000] [--repeats 7] [--duration 0.3]\n"
		   "                        [--burst 32] [--cpu N] [--huge] [--json]\n");
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "peers", required_argument, NULL, 'p' },
		{ "repeats", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "burst", required_argument, NULL, 'b' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "huge", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .counts = { 1, 10000, 1000000 }, .ncounts = 3, .repeats = 7,
			    .duration = 0.3, .burst = 32, .cpu = -1 };
	while ((c = getopt_long(argc, argv, "p:r:d:b:c:jHh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_counts(o, optarg))
				return -EINVAL;
			break;
		case 'r':
			o->repeats = (unsigned)atoi(optarg);
			if (o->repeats < 1 || o->repeats > MAX_REPEATS) {
				fprintf(stderr, "peer_scale_bench: --repeats 1..%d\n", MAX_REPEATS);
				return -EINVAL;
			}
			break;
		case 'd':
			o->duration = atof(optarg);
			if (!(o->duration > 0 && o->duration <= 60)) {
				fprintf(stderr, "peer_scale_bench: --duration in (0, 60] seconds\n");
				return -EINVAL;
			}
			break;
		case 'b':
			o->burst = (unsigned)atoi(optarg);
			if (o->burst < 1 || o->burst > MAX_BURST) {
				fprintf(stderr, "peer_scale_bench: --burst 1..%d\n", MAX_BURST);
				return -EINVAL;
			}
			break;
		case 'c':
			if (wg_bench_parse_cpu("peer_scale_bench", optarg, &o->cpu))
				return -EINVAL;
			break;
		case 'j':
			o->json = true;
			break;
		case 'H':
			o->huge = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* the EAL on one lcore, by default without hugepages (the machine is shared) */
static int eal_init(const struct opts *o)
{
	uint32_t max = 0;
	char lcores[16], mem[16], prefix[32];
	char *argv[20];
	int argc = 0;

	for (unsigned i = 0; i < o->ncounts; i++)
		if (o->counts[i] > max)
			max = o->counts[i];
	/* room for the biggest run: peers and sessions, index, headroom */
	snprintf(mem, sizeof(mem), "%u", 512 + (unsigned)((uint64_t)max * 6144 / (1u << 20)));
	snprintf(lcores, sizeof(lcores), "%d", o->cpu >= 0 ? o->cpu : sched_getcpu());
	snprintf(prefix, sizeof(prefix), "peer_scale_%d", (int)getpid());
	argv[argc++] = "peer_scale_bench";
	if (o->huge) {
		argv[argc++] = "--in-memory";
	} else {
		argv[argc++] = "--no-huge";
		argv[argc++] = "--no-shconf";
		argv[argc++] = "-m";
		argv[argc++] = mem;
	}
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-telemetry";
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "-l";
	argv[argc++] = lcores;
	argv[argc++] = "--log-level";
	argv[argc++] = "lib.eal:error";
	argv[argc] = NULL;
	return rte_eal_init(argc, argv) < 0 ? -1 : 0;
}

static double ratio(const struct row *rows, unsigned i, int l)
{
	return rows[i].ns[l].med / rows[0].ns[l].med;
}

static void print_table(const struct opts *o, const struct row *rows)
{
	printf("peer_scale_bench: %u repeats of %.2f s, burst %u, cpu %u, %s; sizeof wg_peer %zu, wg_session %zu\n",
	       o->repeats, o->duration, o->burst, rte_lcore_id(), o->huge ? "hugepages" : "no hugepages",
	       sizeof(struct wg_peer), sizeof(struct wg_session));
	printf("%8s  %7s %7s %7s  %-8s %7s %7s %7s  %7s\n", "peers", "B/peer", "+sess", "add s", "lookup",
	       "ns min", "med", "max", "x first");
	for (unsigned i = 0; i < o->ncounts; i++) {
		const struct row *r = &rows[i];
		double n = r->n;

		for (int l = 0; l < N_LOOKUPS; l++) {
			if (l == 0)
				printf("%8u  %7.0f %7.0f %7.2f  ", r->n, (r->tables + r->peers) / n,
				       (r->tables + r->peers + r->sessions) / n, r->build_s);
			else
				printf("%8s  %7s %7s %7s  ", "", "", "", "");
			printf("%-8s %7.1f %7.1f %7.1f  %7.2f\n", lookup_names[l], r->ns[l].min, r->ns[l].med,
			       r->ns[l].max, ratio(rows, i, l));
		}
	}
	printf("bytes per peer, measured (B/peer = tables + peer, without sessions; +sess: with one each):\n");
	printf("%8s  %7s %7s %7s  %7s %7s %7s  %7s\n", "peers", "tables", "index", "other", "peer", "DPDK", "C heap",
	       "session");
	for (unsigned i = 0; i < o->ncounts; i++) {
		const struct row *r = &rows[i];
		double n = r->n;

		printf("%8u  %7.0f %7.0f %7.0f  %7.0f %7.0f %7.0f  %7.0f\n", r->n, r->tables / n, r->index / n,
		       (r->tables - r->index) / n, r->peers / n, r->peers_dpdk / n, r->peers_libc / n,
		       r->sessions / n);
	}
	printf("slabs (control/slab.h): objects, chunks, MiB held, bytes per object:\n");
	printf("%8s  %9s %6s %8s %7s  %9s %6s %8s %7s\n", "peers", "peers", "chunks", "MiB", "B/obj", "sessions",
	       "chunks", "MiB", "B/obj");
	for (unsigned i = 0; i < o->ncounts; i++) {
		const struct wg_slab_stats *a = &rows[i].peer_slab, *b = &rows[i].session_slab;

		printf("%8u  %9llu %6llu %8.2f %7.0f  %9llu %6llu %8.2f %7.0f\n", rows[i].n,
		       (unsigned long long)a->objects, (unsigned long long)a->chunks, a->bytes / 1048576.0,
		       a->objects ? (double)a->bytes / (double)a->objects : 0.0, (unsigned long long)b->objects,
		       (unsigned long long)b->chunks, b->bytes / 1048576.0,
		       b->objects ? (double)b->bytes / (double)b->objects : 0.0);
	}
	printf("checksum %016llx\n", (unsigned long long)checksum);
}

static void print_json(const struct opts *o, const struct row *rows)
{
	printf("{\n  \"repeats\": %u,\n  \"duration_s\": %.3f,\n  \"burst\": %u,\n  \"cpu\": %u,\n"
	       "  \"hugepages\": %s,\n  \"sizeof_wg_peer\": %zu,\n  \"sizeof_wg_session\": %zu,\n"
	       "  \"checksum\": \"%016llx\",\n  \"results\": [",
	       o->repeats, o->duration, o->burst, rte_lcore_id(), o->huge ? "true" : "false",
	       sizeof(struct wg_peer), sizeof(struct wg_session), (unsigned long long)checksum);
	for (unsigned i = 0; i < o->ncounts; i++) {
		const struct row *r = &rows[i];
		double n = r->n;

		printf("%s\n    {\"peers\": %u, \"add_s\": %.3f, \"bytes_per_peer\": {\"total\": %.1f, "
		       "\"total_with_session\": %.1f, \"tables\": %.1f, \"index\": %.1f, \"peer\": %.1f, "
		       "\"peer_dpdk_heap\": %.1f, \"peer_c_heap\": %.1f, \"trie\": %.1f, \"session\": %.1f}",
		       i ? "," : "", r->n, r->build_s, (r->tables + r->peers) / n,
		       (r->tables + r->peers + r->sessions) / n, r->tables / n, r->index / n, r->peers / n,
		       r->peers_dpdk / n, r->peers_libc / n, r->trie / n, r->sessions / n);
		printf(", \"slabs\": {\"peer\": {\"objects\": %llu, \"chunks\": %llu, \"bytes\": %llu}, "
		       "\"session\": {\"objects\": %llu, \"chunks\": %llu, \"bytes\": %llu}}",
		       (unsigned long long)r->peer_slab.objects, (unsigned long long)r->peer_slab.chunks,
		       (unsigned long long)r->peer_slab.bytes, (unsigned long long)r->session_slab.objects,
		       (unsigned long long)r->session_slab.chunks, (unsigned long long)r->session_slab.bytes);
		for (int l = 0; l < N_LOOKUPS; l++)
			printf(", \"%s_ns\": {\"min\": %.2f, \"median\": %.2f, \"max\": %.2f, \"ratio_vs_first\": %.3f}",
			       lookup_names[l], r->ns[l].min, r->ns[l].med, r->ns[l].max, ratio(rows, i, l));
		printf("}");
	}
	printf("\n  ]\n}\n");
}

int main(int argc, char **argv)
{
	struct row *rows;
	struct opts o;

	if (parse_opts(&o, argc, argv))
		return 2;
	if (eal_init(&o)) {
		fprintf(stderr, "peer_scale_bench: EAL init failed\n");
		return 1;
	}
	rows = wg_bench_xcalloc("peer_scale_bench", o.ncounts, sizeof(*rows));
	for (unsigned i = 0; i < o.ncounts; i++) {
		rows[i].n = o.counts[i];
		build(&o, &rows[i]);
	}
	/* the counts interleaved in every repeat: noise from a shared machine spreads over all */
	for (unsigned r = 0; r < o.repeats; r++)
		for (unsigned i = 0; i < o.ncounts; i++)
			measure(&o, &rows[i], r);
	for (unsigned i = 0; i < o.ncounts; i++)
		for (int l = 0; l < N_LOOKUPS; l++)
			summarise(&rows[i].ns[l], o.repeats);
	if (o.json)
		print_json(&o, rows);
	else
		print_table(&o, rows);
	for (unsigned i = 0; i < o.ncounts; i++)
		destroy(&rows[i]);
	free(rows);
	rte_eal_cleanup();
	return 0;
}
