/* SPDX-License-Identifier: MIT */
/*
 * handshake_bench: responder handshakes per second on one core against the
 * X25519 rate of the same core, side by side in one run (issue 5,
 * benchmark 4). Cases:
 *
 *   x25519            wg_x25519 (crypto_scalarmult, variable base)
 *   x25519-base       wg_x25519_public (crypto_scalarmult_base, fixed base)
 *   handshake         what wgdp's control thread does with one initiation
 *                     when not under load (control.c: handshake_frame ->
 *                     admit -> consume_initiation -> install): classify,
 *                     mac1, wg_noise_consume_initiation (peer lookup by
 *                     static key, DH es; ss precomputed), timers,
 *                     wg_noise_create_response (ephemeral keygen, DH ee, se),
 *                     the response's mac1, wg_noise_derive_keypair, the
 *                     keypair allocated and installed (wg_keypairs_add), the
 *                     one it replaces wiped and freed
 *   handshake-cookie  the same under load: mac1 and mac2 (the cookie for
 *                     the source address) and the per-source rate limiter
 *   handshake-cold    the first handshake of each peer since wgdp started:
 *                     the static-static DH is computed then (peers.c:
 *                     wg_peers_handshake), one more X25519
 *
 * Not in it (it needs DPDK, or is not the handshake's): the ring dequeue,
 * wg_l3_classify, the index table (dataplane/index.c, needs EAL: the
 * control thread deletes the peer's old handshake index, adds a new one and
 * points it at the keypair; here a counter stands in), the session's
 * rte_zmalloc (calloc here), the response's mbuf, UDP/IP encapsulation and
 * neighbour lookup, and the RCU-deferred free of the retired keypair (freed
 * at once here).
 *
 * The initiations are made before any timing by N simulated clients (each
 * its own static key and source address, a fresh ephemeral per initiation,
 * R rounds each), so the initiator's work is not measured. They carry mac1
 * and a valid mac2 (each client got a cookie reply for its address first).
 * The responder has the N peers configured and their static-static DH
 * precomputed (the steady state). Initiations go round robin over the
 * clients, so every handshake touches another peer, as in a storm. When the
 * prepared initiations run out, each peer's replay timestamp and flood clock
 * are reset and the same messages are used again (that reset costs one
 * memset per peer per N*R handshakes). Time is virtual: each handshake
 * advances the clock by 100 ms / N, so a client comes back every 100 ms,
 * within the 1/50 s flood rule and the 20/s rate limit; the cookie checker
 * gets a fixed time so its secret never rotates during the run.
 *
 * X25519 operations per handshake are counted at run time, not assumed:
 * the program is linked with -Wl,--wrap for libsodium's crypto_scalarmult,
 * crypto_scalarmult_base, the BLAKE2s functions of libb2, the
 * ChaCha20-Poly1305 calls, randombytes_buf, sodium_memzero and the
 * constant-time compares (bench/hs_profile.c), so every such call from
 * libwgcrypto passes through a counter. Two more runs per repeat, of
 * handshake and handshake-cookie, have the wrappers also read the TSC
 * around each call: where a handshake's time goes. The table says what the
 * profiling itself cost (its rate against the unprofiled one).
 *
 * Each repeat gives every case `duration` seconds in all, in slices of
 * 20 ms taken in turn (x25519, x25519-base, the handshakes, the profiled
 * runs, again), so that another tenant's burst on a shared machine hits
 * all cases alike and the ratios between them hold.
 *
 * The fraction of the X25519 limit is handshakes/s over (x25519 ops/s / k),
 * k = X25519 operations per handshake (fixed-base counted as one, as the
 * issue does); the second ideal weighs the fixed-base operation by
 * its own measured cost. Ratios are taken per repeat (both cases ran in the
 * same repeat), then min/median/max.
 *
 *   handshake_bench [--clients 1000] [--rounds 2] [--repeats 7]
 *                   [--duration 0.3] [--cpu N] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "bench/bench_util.h"
#include "bench/hs_profile.h"
#include "control/cookie.h"
#include "control/keypairs.h"
#include "control/noise.h"
#include "control/ratelimiter.h"
#include "control/tai64n.h"
#include "control/timers.h"
#include "crypto/secure.h"
#include "crypto/x25519.h"

#define MAX_REPEATS 101
#define X_POOL 64                  /* scalars and points cycled through by the x25519 cases */
#define CLIENT_PERIOD_NS (100ull * WG_NSEC_PER_MSEC) /* virtual time between a client's initiations */
#define TAI64N_STEP_NS (1ull << 25) /* two TAI64N ticks: strictly newer per round */

#define container_of_bpeer(hs) ((struct bpeer *)((char *)(hs) - offsetof(struct bpeer, hs)))

/* ---------------------------------------------------------------------------
 * the responder and its peers, the clients and their initiations
 */

/* what wgdp's struct wg_peer holds for the handshake (dataplane/peer.h) */
struct bpeer {
	uint8_t public_key[WG_KEY_LEN];
	struct bpeer *hash_next;
	struct wg_noise_handshake hs;
	struct wg_noise_ephemeral eph; /* stands for the ephemeral slab's object (peers.c) */
	bool hs_precomputed;
	struct wg_cookie_maker cookie; /* macs of our messages to the peer */
	struct wg_timers timers;
	struct wg_keypairs keypairs;
	struct wg_endpoint endpoint;
	uint64_t last_handshake_realtime_ns;
	uint64_t handshake_rx_bytes, handshake_tx_bytes;
};

struct client {
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	struct wg_endpoint ep;
};

enum hs_mode { HS_PLAIN, HS_COOKIE, HS_COLD };

struct bench {
	struct wg_noise_identity id;
	struct wg_cookie_checker checker;
	struct wg_ratelimiter *rl;
	uint32_t n;                   /* peers = clients */
	struct bpeer *peers;
	struct bpeer **hash;
	uint32_t hash_mask, hash_seed;
	struct client *clients;
	struct wg_msg_initiation *msgs; /* n * rounds, round-major */
	size_t n_msgs, next;
	uint64_t clock_ns, step_ns, cookie_now_ns;
	uint32_t next_index;          /* stands in for the index table */
	bool cold;
	uint64_t handshakes;
};

struct opts {
	uint32_t clients;
	unsigned rounds;
	unsigned repeats;
	double duration;
	int cpu;
	bool json;
};

/* the timed cases, then the profiled runs of the first N_PROFILED handshake cases */
enum bcase { C_X25519, C_X25519_BASE, C_HS, C_HS_COOKIE, C_HS_COLD, N_CASES };
#define N_PROFILED 2
#define N_RUNS (N_CASES + N_PROFILED)
static const char *const case_names[N_CASES] = { "x25519", "x25519-base", "handshake", "handshake-cookie",
						 "handshake-cold" };
static const enum hs_mode run_mode[N_RUNS] = { 0, 0, HS_PLAIN, HS_COOKIE, HS_COLD, HS_PLAIN, HS_COOKIE };

struct stat3 {
	double v[MAX_REPEATS];
	double min, med, max;
};

struct results {
	struct stat3 rate[N_CASES];        /* ops or handshakes per second */
	struct stat3 frac[N_CASES];        /* fraction of x25519 / k */
	struct stat3 frac_weighted[N_CASES];
	struct stat3 prof_rate[N_PROFILED];
	struct stat3 prof_us[N_PROFILED][HS_PROF_N + 1]; /* per handshake; [HS_PROF_N] = the rest */
	double prof_calls[N_PROFILED][HS_PROF_N];      /* per handshake */
	double k_var[N_CASES], k_base[N_CASES];     /* X25519 calls per handshake, counted */
};

static uint64_t checksum;

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "handshake_bench: %s failed (%d)\n", what, err);
	exit(1);
}

/* wgdp hashes peers' static keys with a seeded jhash (peers.c); any seeded mix will do here */
static uint32_t bucket(const struct bench *b, const uint8_t key[WG_KEY_LEN])
{
	uint32_t h = b->hash_seed;

	for (unsigned i = 0; i < WG_KEY_LEN; i += 4) {
		uint32_t w;

		memcpy(&w, key + i, 4);
		h = (h ^ w) * 0x9e3779b1u;
		h ^= h >> 15;
	}
	return h & b->hash_mask;
}

/* control.c lookup_static + peers.c wg_peers_lookup, wg_peers_handshake */
static struct wg_noise_handshake *lookup_static(void *ctx, const uint8_t pub[WG_KEY_LEN])
{
	struct bench *b = ctx;
	struct bpeer *p;

	for (p = b->hash[bucket(b, pub)]; p; p = p->hash_next)
		if (memcmp(p->public_key, pub, WG_KEY_LEN) == 0)
			break;
	if (!p)
		return NULL;
	if (!p->hs_precomputed || b->cold) {
		wg_noise_handshake_precompute(&p->hs, &b->id);
		p->hs_precomputed = true;
	}
	p->hs.eph = &p->eph; /* wgdp: wg_peers_ephemeral_get, a slab alloc (zeroed) */
	return &p->hs;
}

static void retire(struct wg_keypair *kp)
{
	/* wgdp: index removed, wiped and freed after an RCU grace period */
	wg_keypair_wipe(kp);
	free(kp);
}

/* control.c install(): derive the keypair, make it the peer's next one */
static int install(struct bench *b, struct bpeer *p, uint64_t now_ns)
{
	struct wg_keypair *retired[WG_KEYPAIRS_RETIRE_MAX];
	struct wg_keypair *kp = calloc(1, sizeof(*kp));
	unsigned n;
	int ret;

	(void)b;
	if (!kp)
		return -ENOMEM;
	ret = wg_noise_derive_keypair(&p->hs, kp, now_ns);
	if (ret) {
		free(kp);
		return ret;
	}
	wg_secure_wipe(p->hs.eph, sizeof(*p->hs.eph)); /* wgdp: wg_peers_ephemeral_put, a slab free (wipes) */
	p->hs.eph = NULL;
	/* wgdp: wg_index_replace(index, kp->local_index, kp) */
	n = wg_keypairs_add(&p->keypairs, kp, retired);
	for (unsigned i = 0; i < n; i++)
		retire(retired[i]);
	wg_timers_session_derived(&p->timers, now_ns);
	p->last_handshake_realtime_ns = realtime_ns();
	return 0;
}

/*
 * One initiation from src, as control.c handshake_frame() takes it; on
 * success *resp_out (when not NULL) gets the response that would be sent.
 */
static int respond(struct bench *b, const struct wg_msg_initiation *msg, const struct wg_endpoint *src,
		   bool loaded, struct wg_msg_response *resp_out)
{
	struct wg_noise_handshake *hs;
	struct wg_msg_response resp;
	struct bpeer *p;
	uint64_t now_ns = b->clock_ns += b->step_ns;
	uint32_t idx;
	int ret;

	if (wg_msg_classify(msg, sizeof(*msg)) != WG_MSG_HANDSHAKE_INITIATION)
		return -EBADMSG;
	/* admit(): mac1; under load mac2 and the rate limiter */
	switch (wg_cookie_validate(&b->checker, (const uint8_t *)msg, sizeof(*msg), src, loaded, b->cookie_now_ns)) {
	case WG_COOKIE_INVALID_MAC:
		return -EBADMSG;
	case WG_COOKIE_VALID_MAC_BUT_NO_COOKIE:
		if (loaded)
			return -EPERM; /* wgdp would send a cookie reply */
		break;
	case WG_COOKIE_VALID_MAC_WITH_COOKIE:
		if (!wg_ratelimiter_allow(b->rl, src, now_ns))
			return -EBUSY;
		break;
	}
	/* consume_initiation() */
	ret = wg_noise_consume_initiation(&b->id, msg, lookup_static, b, now_ns, &hs);
	if (ret)
		return ret; /* wgdp: the peer's fresh ephemeral storage goes back */
	p = container_of_bpeer(hs);
	p->handshake_rx_bytes += sizeof(*msg);
	p->endpoint = *src; /* wgdp: under the peer's seqlock */
	wg_timers_any_authenticated_packet_received(&p->timers, now_ns);
	wg_timers_any_authenticated_packet_traversal(&p->timers, now_ns);
	idx = ++b->next_index; /* wgdp: index_handshake(), wg_index_del + wg_index_add */
	ret = wg_noise_create_response(&b->id, &p->hs, &resp, idx);
	if (ret) {
		wg_noise_handshake_clear(&p->hs);
		return ret;
	}
	wg_cookie_add_macs(&p->cookie, p->public_key, (uint8_t *)&resp, sizeof(resp), now_ns);
	ret = install(b, p, now_ns);
	if (ret)
		return ret;
	wg_timers_any_authenticated_packet_traversal(&p->timers, now_ns);
	wg_timers_any_authenticated_packet_sent(&p->timers, now_ns);
	wg_timers_response_sent(&p->timers, now_ns);
	p->handshake_tx_bytes += sizeof(resp);
	/* wgdp: send_msg(): mbuf, UDP/IP, neighbour, tx */
	checksum += resp.unencrypted_ephemeral[idx & 31] ^ resp.macs.mac1[idx & 15];
	if (resp_out)
		*resp_out = resp;
	wg_secure_wipe(&resp, sizeof(resp));
	b->handshakes++;
	return 0;
}

/* forget what the responder remembers of the prepared initiations, so they can come again */
static void replay_reset(struct bench *b)
{
	for (uint32_t i = 0; i < b->n; i++) {
		memset(b->peers[i].hs.latest_timestamp, 0, WG_TIMESTAMP_LEN);
		b->peers[i].hs.has_consumed_initiation = false;
	}
	b->next = 0;
}

static void client_identity(const struct client *c, struct wg_noise_identity *id)
{
	memcpy(id->private_key, c->priv, WG_KEY_LEN);
	memcpy(id->public_key, c->pub, WG_KEY_LEN);
	id->has_identity = true;
}

/*
 * Client c's initiation of round r into dst: its own handshake state, a
 * fresh ephemeral, a timestamp newer than its previous round's, mac1 and
 * mac2 from its cookie maker. hs is the client's state (for a check).
 */
static void make_initiation(struct bench *b, uint32_t c, unsigned r, uint64_t base_realtime,
			    struct wg_cookie_maker *maker, struct wg_noise_handshake *hs,
			    struct wg_msg_initiation *dst)
{
	struct wg_noise_identity id;
	uint8_t ts[WG_TIMESTAMP_LEN];
	int ret;

	client_identity(&b->clients[c], &id);
	wg_tai64n_encode(ts, base_realtime + r * TAI64N_STEP_NS);
	ret = wg_noise_create_initiation(&id, hs, dst, (c << 8) | (r & 0xff), ts);
	if (ret)
		fail("wg_noise_create_initiation", ret);
	wg_cookie_add_macs(maker, b->id.public_key, (uint8_t *)dst, sizeof(*dst), b->cookie_now_ns);
	wg_secure_wipe(&id, sizeof(id));
}

/* the client's maker gets a cookie for its address: one cookie reply from the responder */
static void get_cookie(struct bench *b, uint32_t c, struct wg_cookie_maker *maker, struct wg_msg_initiation *msg)
{
	struct wg_msg_cookie reply;
	int ret;

	wg_cookie_add_macs(maker, b->id.public_key, (uint8_t *)msg, sizeof(*msg), b->cookie_now_ns);
	ret = wg_cookie_create_reply(&b->checker, &reply, (const uint8_t *)msg, sizeof(*msg),
				     wg_le32_read(&msg->sender_index), &b->clients[c].ep, b->cookie_now_ns);
	if (!ret)
		ret = wg_cookie_consume_reply(maker, b->id.public_key, &reply, b->cookie_now_ns);
	if (ret)
		fail("cookie exchange", ret);
}

static void bench_init(struct bench *b, uint32_t n, unsigned rounds)
{
	uint8_t priv[WG_KEY_LEN];
	uint64_t base_realtime = realtime_ns();
	uint32_t size = 64;
	int ret;

	memset(b, 0, sizeof(*b));
	wg_x25519_generate(priv);
	if (wg_noise_identity_set(&b->id, priv))
		fail("wg_noise_identity_set", -EINVAL);
	wg_secure_wipe(priv, sizeof(priv));
	wg_cookie_checker_init(&b->checker, b->id.public_key);
	ret = wg_ratelimiter_create(&b->rl, n);
	if (ret)
		fail("wg_ratelimiter_create", ret);
	b->n = n;
	b->step_ns = CLIENT_PERIOD_NS / n ? CLIENT_PERIOD_NS / n : 1;
	b->clock_ns = 1000 * WG_NSEC_PER_SEC;
	b->cookie_now_ns = b->clock_ns;
	while (size < n)
		size <<= 1;
	b->hash = wg_bench_xcalloc("handshake_bench", size, sizeof(*b->hash));
	b->hash_mask = size - 1;
	b->hash_seed = wg_secure_random_u32() | 1;
	b->peers = wg_bench_xcalloc("handshake_bench", n, sizeof(*b->peers));
	b->clients = wg_bench_xcalloc("handshake_bench", n, sizeof(*b->clients));
	b->n_msgs = (size_t)n * rounds;
	b->msgs = wg_bench_xcalloc("handshake_bench", b->n_msgs, sizeof(*b->msgs));

	for (uint32_t c = 0; c < n; c++) {
		struct client *cl = &b->clients[c];
		struct bpeer *p = &b->peers[c];
		uint32_t h;

		do
			wg_x25519_generate(cl->priv);
		while (wg_x25519_public(cl->pub, cl->priv));
		cl->ep.family = AF_INET;
		cl->ep.port = htons(51820);
		cl->ep.addr[0] = 10;
		cl->ep.addr[1] = (uint8_t)(c >> 16);
		cl->ep.addr[2] = (uint8_t)(c >> 8);
		cl->ep.addr[3] = (uint8_t)c;

		/* the responder's peer: as peers.c adds it, the static-static DH left for later */
		memcpy(p->public_key, cl->pub, WG_KEY_LEN);
		wg_noise_handshake_init(&p->hs, NULL, cl->pub, NULL);
		wg_cookie_maker_init(&p->cookie);
		wg_timers_init(&p->timers, 0);
		h = bucket(b, cl->pub);
		p->hash_next = b->hash[h];
		b->hash[h] = p;
	}
	/* the clients' initiations, round-major */
	for (uint32_t c = 0; c < n; c++) {
		struct wg_cookie_maker maker;
		struct wg_noise_handshake hs;
		struct wg_noise_ephemeral eph;
		struct wg_noise_identity id;

		client_identity(&b->clients[c], &id);
		wg_noise_handshake_init(&hs, &id, b->id.public_key, NULL);
		hs.eph = &eph;
		wg_secure_wipe(&id, sizeof(id));
		wg_cookie_maker_init(&maker);
		for (unsigned r = 0; r < rounds; r++) {
			struct wg_msg_initiation *m = &b->msgs[(size_t)r * n + c];

			make_initiation(b, c, r, base_realtime, &maker, &hs, m);
			if (r == 0) {
				get_cookie(b, c, &maker, m);
				wg_cookie_add_macs(&maker, b->id.public_key, (uint8_t *)m, sizeof(*m), b->cookie_now_ns);
			}
		}
		wg_noise_handshake_wipe(&hs);
		wg_cookie_maker_wipe(&maker);
	}

	/*
	 * Check the responder once end to end: client 0's newest initiation,
	 * under load, answered; the client takes the response (mac1, Noise)
	 * and derives the same keys as the responder installed.
	 */
	{
		struct wg_cookie_maker maker;
		struct wg_cookie_checker cchk;
		struct wg_noise_handshake hs;
		struct wg_noise_ephemeral eph;
		struct wg_noise_identity id;
		struct wg_msg_initiation msg;
		struct wg_msg_response resp;
		struct wg_keypair kp, *rkp;

		client_identity(&b->clients[0], &id);
		wg_noise_handshake_init(&hs, &id, b->id.public_key, NULL);
		hs.eph = &eph;
		wg_cookie_maker_init(&maker);
		make_initiation(b, 0, rounds, base_realtime, &maker, &hs, &msg);
		get_cookie(b, 0, &maker, &msg);
		wg_cookie_add_macs(&maker, b->id.public_key, (uint8_t *)&msg, sizeof(msg), b->cookie_now_ns);
		ret = respond(b, &msg, &b->clients[0].ep, true, &resp);
		if (ret)
			fail("responding to a check initiation", ret);
		wg_cookie_checker_init(&cchk, b->clients[0].pub);
		if (wg_cookie_validate(&cchk, (const uint8_t *)&resp, sizeof(resp), NULL, false, 0) ==
		    WG_COOKIE_INVALID_MAC)
			fail("the response's mac1", -EBADMSG);
		ret = wg_noise_consume_response(&id, &hs, &resp);
		if (!ret)
			ret = wg_noise_derive_keypair(&hs, &kp, 0);
		if (ret)
			fail("the client taking the response", ret);
		rkp = b->peers[0].keypairs.next;
		if (!rkp || memcmp(rkp->recv_key, kp.send_key, WG_KEY_LEN) ||
		    memcmp(rkp->send_key, kp.recv_key, WG_KEY_LEN))
			fail("the keys agreeing", -EINVAL);
		wg_keypair_wipe(&kp);
		wg_noise_handshake_wipe(&hs);
		wg_secure_wipe(&id, sizeof(id));
	}
	/* the steady state: every peer has handshaken once (static-static DH done) */
	for (uint32_t c = 0; c < n; c++)
		lookup_static(b, b->clients[c].pub);
	replay_reset(b);
}

static void bench_free(struct bench *b)
{
	for (uint32_t i = 0; i < b->n; i++) {
		struct wg_keypair *retired[WG_KEYPAIRS_RETIRE_MAX];
		unsigned n = wg_keypairs_clear(&b->peers[i].keypairs, retired);

		for (unsigned k = 0; k < n; k++)
			retire(retired[k]);
		wg_noise_handshake_wipe(&b->peers[i].hs);
	}
	wg_secure_wipe(b->clients, b->n * sizeof(*b->clients));
	wg_noise_identity_wipe(&b->id);
	wg_ratelimiter_destroy(b->rl);
	free(b->msgs);
	free(b->clients);
	free(b->peers);
	free(b->hash);
}

/* ---------------------------------------------------------------------------
 * measurement
 */

struct xpool {
	uint8_t scalar[X_POOL][WG_KEY_LEN];
	uint8_t point[X_POOL][WG_KEY_LEN];
};

static void xpool_init(struct xpool *x)
{
	for (unsigned i = 0; i < X_POOL; i++) {
		uint8_t priv[WG_KEY_LEN];

		wg_x25519_generate(x->scalar[i]);
		do
			wg_x25519_generate(priv);
		while (wg_x25519_public(x->point[i], priv));
	}
}

/*
 * What one run of a case accumulates over a repeat. Each repeat runs every
 * case for `duration` in all, but in slices of SLICE_S taken in turn, so
 * that a neighbour's burst on this shared machine hits all cases alike and
 * the ratios between them stay meaningful.
 */
struct acc {
	uint64_t ops;
	double secs;
	uint64_t tsc;        /* profiled runs: TSC ticks over the slices */
	struct hs_prof prof; /* profiled runs: per library item */
};

#define SLICE_S 0.02

static void run_x25519(const struct xpool *x, bool base, double duration, struct acc *a)
{
	uint8_t out[WG_KEY_LEN];
	unsigned i = 0;
	double t0 = wg_bench_now(), t;

	do {
		for (int k = 0; k < 8; k++) {
			int r = base ? wg_x25519_public(out, x->scalar[i]) : wg_x25519(out, x->scalar[i], x->point[i]);

			if (r)
				fail("wg_x25519", r);
			checksum += out[i & 31];
			i = (i + 1) % X_POOL;
			a->ops++;
		}
		t = wg_bench_now();
	} while (t - t0 < duration);
	a->secs += t - t0;
}

static void run_hs(struct bench *b, enum hs_mode mode, double duration, struct acc *a)
{
	bool loaded = mode == HS_COOKIE;
	double t0 = wg_bench_now(), t;

	b->cold = mode == HS_COLD;
	do {
		for (int k = 0; k < 4; k++) {
			int ret;

			if (b->next == b->n_msgs)
				replay_reset(b);
			ret = respond(b, &b->msgs[b->next], &b->clients[b->next % b->n].ep, loaded, NULL);
			if (ret)
				fail(mode == HS_COOKIE ? "a handshake under load" : "a handshake", ret);
			b->next++;
			a->ops++;
		}
		t = wg_bench_now();
	} while (t - t0 < duration);
	a->secs += t - t0;
	b->cold = false;
}

/* run_hs with the wrappers counting and timing every library call */
static void run_profiled(struct bench *b, enum hs_mode mode, double duration, struct acc *a)
{
	uint64_t tsc0 = hs_prof_tsc();

	hs_prof_start();
	run_hs(b, mode, duration, a);
	hs_prof_stop(&a->prof);
	a->tsc += hs_prof_tsc() - tsc0;
}

/* per handshake: calls and us of each item, and the rest of the time (us[HS_PROF_N]) */
static void profile_of(const struct acc *a, double calls[HS_PROF_N], double us[HS_PROF_N + 1])
{
	double us_per_tick = a->secs * 1e6 / (double)a->tsc, n = (double)a->ops;
	uint64_t items = 0;

	for (int i = 0; i < HS_PROF_N; i++) {
		calls[i] = (double)a->prof.calls[i] / n;
		us[i] = (double)a->prof.ticks[i] * us_per_tick / n;
		items += a->prof.ticks[i];
	}
	us[HS_PROF_N] = (double)(a->tsc - items) * us_per_tick / n;
}

/* X25519 calls (variable, fixed base) per handshake of a mode, counted on a few handshakes */
static void count_x25519(struct bench *b, enum hs_mode mode, double *k_var, double *k_base)
{
	double calls[HS_PROF_N], us[HS_PROF_N + 1];
	struct acc a = { 0 };

	run_profiled(b, mode, 0.01, &a);
	profile_of(&a, calls, us);
	*k_var = calls[HS_PROF_X25519];
	*k_base = calls[HS_PROF_X25519_BASE];
}

static void summarise(struct stat3 *s, unsigned repeats)
{
	wg_bench_min_med_max(s->v, repeats, &s->min, &s->med, &s->max);
}

/* ---------------------------------------------------------------------------
 * options, output
 */

static void usage(FILE *f)
{
	fprintf(f, "usage: handshake_bench [--clients 1000] [--rounds 2] [--repeats 7] [--duration 0.3]\n"
		   "                       [--cpu N] [--json]\n");
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "clients", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "repeats", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .clients = 1000, .rounds = 2, .repeats = 7, .duration = 0.3, .cpu = -1 };
	while ((c = getopt_long(argc, argv, "n:R:r:d:c:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			long v = atol(optarg);

			if (v < 1 || v > 1000000) {
				fprintf(stderr, "handshake_bench: --clients 1..1000000\n");
				return -EINVAL;
			}
			o->clients = (uint32_t)v;
			break;
		}
		case 'R':
			o->rounds = (unsigned)atoi(optarg);
			if (o->rounds < 1 || o->rounds > 64) {
				fprintf(stderr, "handshake_bench: --rounds 1..64\n");
				return -EINVAL;
			}
			break;
		case 'r':
			o->repeats = (unsigned)atoi(optarg);
			if (o->repeats < 1 || o->repeats > MAX_REPEATS) {
				fprintf(stderr, "handshake_bench: --repeats 1..%d\n", MAX_REPEATS);
				return -EINVAL;
			}
			break;
		case 'd':
			o->duration = atof(optarg);
			if (!(o->duration > 0 && o->duration <= 60)) {
				fprintf(stderr, "handshake_bench: --duration in (0, 60] seconds\n");
				return -EINVAL;
			}
			break;
		case 'c':
			if (wg_bench_parse_cpu("handshake_bench", optarg, &o->cpu))
				return -EINVAL;
			break;
		case 'j':
			o->json = true;
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

static double k_of(const struct results *r, int c)
{
	return r->k_var[c] + r->k_base[c];
}

static void print_table(const struct opts *o, const struct results *r)
{
	const struct stat3 *xv = &r->rate[C_X25519], *xb = &r->rate[C_X25519_BASE];

	printf("handshake_bench: %u clients, %u initiations prepared, %u repeats of %.2f s, cpu %d\n", o->clients,
	       o->clients * o->rounds, o->repeats, o->duration, o->cpu >= 0 ? o->cpu : sched_getcpu());
	printf("%-17s  %9s %9s %9s  %8s\n", "case", "ops/s min", "med", "max", "us/op med");
	for (int c = 0; c < N_CASES; c++)
		printf("%-17s  %9.0f %9.0f %9.0f  %8.1f\n", case_names[c], r->rate[c].min, r->rate[c].med,
		       r->rate[c].max, 1e6 / r->rate[c].med);
	printf("X25519 per handshake, counted: ");
	for (int c = C_HS; c < N_CASES; c++)
		printf("%s%s %.0f variable + %.0f fixed-base = k %.0f", c == C_HS ? "" : "; ", case_names[c],
		       r->k_var[c], r->k_base[c], k_of(r, c));
	printf("\n%-17s  %9s %10s  %8s %6s %6s  %10s %6s\n", "fraction of limit", "hs/s med", "x25519/k",
	       "frac min", "med", "max", "weighted", "med");
	for (int c = C_HS; c < N_CASES; c++)
		printf("%-17s  %9.0f %10.0f  %8.3f %6.3f %6.3f  %10.0f %6.3f\n", case_names[c], r->rate[c].med,
		       xv->med / k_of(r, c), r->frac[c].min, r->frac[c].med, r->frac[c].max,
		       1.0 / (r->k_var[c] / xv->med + r->k_base[c] / xb->med), r->frac_weighted[c].med);
	printf("where a handshake's time goes (profiled runs; medians, us per handshake; calls per handshake):\n");
	printf("%-36s  %6s %8s %6s  %6s %8s %6s\n", "", "calls", "handshake", "share", "calls", "cookie", "share");
	for (int i = 0; i <= HS_PROF_N; i++) {
		if (i < HS_PROF_N && !r->prof_calls[0][i] && !r->prof_calls[1][i])
			continue;
		printf("%-36s", i < HS_PROF_N ? hs_prof_names[i] : "rest (lookup, timers, alloc, copies)");
		for (int p = 0; p < N_PROFILED; p++) {
			double total = 1e6 / r->prof_rate[p].med;

			if (i < HS_PROF_N)
				printf("  %6.2f", r->prof_calls[p][i]);
			else
				printf("  %6s", "");
			printf(" %8.2f %5.1f%%", r->prof_us[p][i].med, 100.0 * r->prof_us[p][i].med / total);
		}
		printf("\n");
	}
	printf("%-36s  %6s %8.2f %6s  %6s %8.2f\n", "profiled total (1 / rate)", "", 1e6 / r->prof_rate[0].med, "",
	       "", 1e6 / r->prof_rate[1].med);
	printf("profiling cost: profiled rate %.0f vs %.0f hs/s, %.0f vs %.0f under load\n", r->prof_rate[0].med,
	       r->rate[C_HS].med, r->prof_rate[1].med, r->rate[C_HS_COOKIE].med);
	printf("checksum %016llx\n", (unsigned long long)checksum);
}

static void json_stat(const char *name, const struct stat3 *s, const char *fmt_sep)
{
	printf("\"%s\": {\"min\": %.4f, \"median\": %.4f, \"max\": %.4f}%s", name, s->min, s->med, s->max, fmt_sep);
}

static void print_json(const struct opts *o, const struct results *r)
{
	const struct stat3 *xv = &r->rate[C_X25519], *xb = &r->rate[C_X25519_BASE];

	printf("{\n  \"clients\": %u,\n  \"initiations\": %u,\n  \"repeats\": %u,\n  \"duration_s\": %.3f,\n"
	       "  \"cpu\": %d,\n  \"checksum\": \"%016llx\",\n  \"results\": [",
	       o->clients, o->clients * o->rounds, o->repeats, o->duration, o->cpu >= 0 ? o->cpu : sched_getcpu(),
	       (unsigned long long)checksum);
	for (int c = 0; c < N_CASES; c++) {
		printf("%s\n    {\"case\": \"%s\", ", c ? "," : "", case_names[c]);
		json_stat("ops_per_s", &r->rate[c], c >= C_HS ? ", " : "}");
		if (c >= C_HS) {
			printf("\"x25519_variable\": %.0f, \"x25519_fixed_base\": %.0f, \"k\": %.0f, "
			       "\"ideal_per_s\": %.1f, \"ideal_weighted_per_s\": %.1f, ",
			       r->k_var[c], r->k_base[c], k_of(r, c), xv->med / k_of(r, c),
			       1.0 / (r->k_var[c] / xv->med + r->k_base[c] / xb->med));
			json_stat("fraction_of_x25519_limit", &r->frac[c], ", ");
			json_stat("fraction_of_weighted_limit", &r->frac_weighted[c], "}");
		}
	}
	printf("\n  ],\n  \"profile\": [");
	for (int p = 0; p < N_PROFILED; p++) {
		printf("%s\n    {\"case\": \"%s\", ", p ? "," : "", case_names[C_HS + p]);
		json_stat("profiled_hs_per_s", &r->prof_rate[p], ", ");
		printf("\"components\": [");
		for (int i = 0; i <= HS_PROF_N; i++) {
			printf("%s{\"name\": \"%s\", \"calls_per_hs\": %.3f, ", i ? ", " : "",
			       i < HS_PROF_N ? hs_prof_names[i] : "rest", i < HS_PROF_N ? r->prof_calls[p][i] : 0.0);
			json_stat("us_per_hs", &r->prof_us[p][i], "}");
		}
		printf("]}");
	}
	printf("\n  ]\n}\n");
}

int main(int argc, char **argv)
{
	struct results *r;
	struct xpool xp;
	struct bench b;
	struct opts o;
	unsigned slices;

	if (parse_opts(&o, argc, argv))
		return 2;
	if (o.cpu >= 0 && wg_bench_pin("handshake_bench", o.cpu))
		return 1;
	if (wg_crypto_init()) {
		fprintf(stderr, "handshake_bench: sodium_init failed\n");
		return 1;
	}
	r = wg_bench_xcalloc("handshake_bench", 1, sizeof(*r));
	xpool_init(&xp);
	bench_init(&b, o.clients, o.rounds);
	for (int c = C_HS; c < N_CASES; c++)
		count_x25519(&b, run_mode[c], &r->k_var[c], &r->k_base[c]);

	slices = (unsigned)(o.duration / SLICE_S + 0.5);
	if (!slices)
		slices = 1;
	for (unsigned rep = 0; rep < o.repeats; rep++) {
		struct acc a[N_RUNS];

		memset(a, 0, sizeof(a));
		for (unsigned s = 0; s < slices; s++) {
			for (int c = 0; c < N_RUNS; c++) {
				if (c == C_X25519 || c == C_X25519_BASE)
					run_x25519(&xp, c == C_X25519_BASE, o.duration / slices, &a[c]);
				else if (c < N_CASES)
					run_hs(&b, run_mode[c], o.duration / slices, &a[c]);
				else
					run_profiled(&b, run_mode[c], o.duration / slices, &a[c]);
			}
		}
		for (int c = 0; c < N_CASES; c++)
			r->rate[c].v[rep] = (double)a[c].ops / a[c].secs;
		for (int c = C_HS; c < N_CASES; c++) {
			double xv = r->rate[C_X25519].v[rep], xb = r->rate[C_X25519_BASE].v[rep];

			r->frac[c].v[rep] = r->rate[c].v[rep] / (xv / k_of(r, c));
			r->frac_weighted[c].v[rep] = r->rate[c].v[rep] * (r->k_var[c] / xv + r->k_base[c] / xb);
		}
		for (int p = 0; p < N_PROFILED; p++) {
			double us[HS_PROF_N + 1];

			r->prof_rate[p].v[rep] = (double)a[N_CASES + p].ops / a[N_CASES + p].secs;
			profile_of(&a[N_CASES + p], r->prof_calls[p], us);
			for (int i = 0; i <= HS_PROF_N; i++)
				r->prof_us[p][i].v[rep] = us[i];
		}
	}
	for (int c = 0; c < N_CASES; c++) {
		summarise(&r->rate[c], o.repeats);
		summarise(&r->frac[c], o.repeats);
		summarise(&r->frac_weighted[c], o.repeats);
	}
	for (int p = 0; p < N_PROFILED; p++) {
		summarise(&r->prof_rate[p], o.repeats);
		for (int i = 0; i <= HS_PROF_N; i++)
			summarise(&r->prof_us[p][i], o.repeats);
	}

	if (o.json)
		print_json(&o, r);
	else
		print_table(&o, r);
	bench_free(&b);
	free(r);
	return 0;
}
