/* SPDX-License-Identifier: MIT */
/*
 * Neighbour table tests, on a driven clock.
 *
 * Most tests are step tables: at time t (ms), resolve a packet, learn a
 * MAC, or tick; then the result, the entry's state (and MAC), and the
 * callbacks the step caused (as a string, e.g. "send:1@0a free:2
 * sol:192.0.2.1@0a") must be exactly as listed. Packets are small integers
 * cast to pointers, and every packet's fate is counted, so a packet sent
 * or freed twice, or lost, fails the test. The random test runs the table
 * against these rules for many steps and compares the exported snapshot
 * with the table after each one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dataplane/neigh.h"
#include "tests/harness.h"

#define MS 1000000ull
#define MAX_PKT 100000

/* ---- callbacks that record -------------------------------------------- */

static char events[4096];
static unsigned sent[MAX_PKT], freed[MAX_PKT];
static uint8_t sent_mac[MAX_PKT];
static unsigned n_solicits;

static void ev(const char *fmt, ...)
{
	size_t n = strlen(events);
	va_list ap;

	if (n)
		events[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(events + n, sizeof(events) - n, fmt, ap);
	va_end(ap);
}

static unsigned pkt_id(void *pkt)
{
	return (unsigned)(uintptr_t)pkt;
}

static void cb_send(void *ctx, void *pkt, const uint8_t mac[6])
{
	(void)ctx;
	sent[pkt_id(pkt)]++;
	sent_mac[pkt_id(pkt)] = mac[5];
	ev("send:%u@%02x", pkt_id(pkt), mac[5]);
}

static void cb_free(void *ctx, void *pkt)
{
	(void)ctx;
	freed[pkt_id(pkt)]++;
	ev("free:%u", pkt_id(pkt));
}

static void cb_solicit(void *ctx, int family, const uint8_t *ip, const uint8_t *mac)
{
	char s[INET6_ADDRSTRLEN];

	(void)ctx;
	n_solicits++;
	inet_ntop(family, ip, s, sizeof(s));
	if (mac)
		ev("sol:%s@%02x", s, mac[5]);
	else
		ev("sol:%s", s);
}

static const struct wg_neigh_callbacks cbs = { NULL, cb_send, cb_free, cb_solicit };

static void reset_log(void)
{
	events[0] = 0;
	memset(sent, 0, sizeof(sent));
	memset(freed, 0, sizeof(freed));
	n_solicits = 0;
}

/* ---- step tables ---------------------------------------------------------- */

enum { RES, LRN, TICK, GET };
#define ABSENT -1
#define ANY -2

struct step {
	uint64_t ms;
	int op;
	const char *ip;
	int arg;          /* RES: packet id (0 = none); LRN: enum wg_neigh_learn */
	uint8_t mac;      /* LRN: learned 02:00:00:00:00:mac; else expected MAC (0: unchecked) */
	int want;         /* RES: enum wg_neigh_result; LRN: return value */
	int state;        /* of ip afterwards: enum wg_neigh_state, ABSENT or ANY */
	const char *events;
};

static int family_of(const char *ip, uint8_t out[16])
{
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;

	memset(out, 0, 16);
	if (inet_pton(family, ip, out) != 1) {
		fprintf(stderr, "bad address in test: %s\n", ip);
		abort();
	}
	return family;
}

static void mac_of(uint8_t mac[6], uint8_t last)
{
	memcpy(mac, (const uint8_t[]){ 2, 0, 0, 0, 0, last }, 6);
}

static void run_steps(struct wg_neigh_table *t, const char *name, const struct step *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t ip[16], mac[6] = { 0 };
		int family = s[i].ip ? family_of(s[i].ip, ip) : 0;
		uint64_t now = s[i].ms * MS;
		int got = 0;

		events[0] = 0;
		switch (s[i].op) {
		case RES:
			got = wg_neigh_resolve(t, family, ip, now, mac, (void *)(uintptr_t)s[i].arg);
			if ((got == WG_NEIGH_HIT || got == WG_NEIGH_HIT_SOLICIT) && s[i].mac)
				CHECK_MSG(mac[5] == s[i].mac && mac[0] == 2, "%s step %zu: resolved to %02x",
					  name, i + 1, mac[5]);
			break;
		case LRN:
			mac_of(mac, s[i].mac);
			got = wg_neigh_learn(t, family, ip, mac, (enum wg_neigh_learn)s[i].arg, now);
			break;
		case TICK:
			wg_neigh_tick(t, now);
			break;
		}
		if (s[i].op == RES || s[i].op == LRN)
			CHECK_MSG(got == s[i].want, "%s step %zu: result %d, want %d", name, i + 1, got,
				  s[i].want);
		CHECK_MSG(strcmp(events, s[i].events ? s[i].events : "") == 0,
			  "%s step %zu: events \"%s\", want \"%s\"", name, i + 1, events,
			  s[i].events ? s[i].events : "");
		if (s[i].ip && s[i].state != ANY) {
			struct wg_neigh_info info;
			int rc = wg_neigh_get(t, family, ip, &info);
			if (s[i].state == ABSENT) {
				CHECK_MSG(rc == -ENOENT, "%s step %zu: entry present", name, i + 1);
			} else {
				CHECK_MSG(rc == 0 && info.state == s[i].state,
					  "%s step %zu: state %s, want %s", name, i + 1,
					  rc ? "absent" : wg_neigh_state_name(info.state),
					  wg_neigh_state_name(s[i].state));
				if (rc == 0 && s[i].mac &&
				    (info.state == WG_NEIGH_REACHABLE || info.state == WG_NEIGH_STALE))
					CHECK_MSG(info.mac[5] == s[i].mac, "%s step %zu: entry MAC %02x",
						  name, i + 1, info.mac[5]);
			}
		}
	}
}

static struct wg_neigh_table *make(size_t capacity, size_t qlen)
{
	struct wg_neigh_table *t = NULL;

	reset_log();
	CHECK(wg_neigh_create(&t, capacity, qlen, &cbs, NULL) == 0);
	if (!t)
		abort();
	return t;
}

#define RUN(t, steps) run_steps((t), #steps, (steps), sizeof(steps) / sizeof((steps)[0]))

#define X4 "192.0.2.1"
#define Y4 "192.0.2.7"
#define Z4 "192.0.2.9"
#define W4 "192.0.2.10"
#define X6 "2001:db8::1"

enum {
	INC = WG_NEIGH_INCOMPLETE,
	REA = WG_NEIGH_REACHABLE,
	STA = WG_NEIGH_STALE,
	FAI = WG_NEIGH_FAILED,
	HIT = WG_NEIGH_HIT,
	HITS = WG_NEIGH_HIT_SOLICIT,
	Q = WG_NEIGH_QUEUED,
	QS = WG_NEIGH_QUEUED_SOLICIT,
	DROP = WG_NEIGH_DROPPED,
};
#define REPLY WG_NEIGH_LEARN_REPLY
#define UNSOL WG_NEIGH_LEARN_UNSOLICITED
#define REQ WG_NEIGH_LEARN_REQUEST

/* INCOMPLETE -> REACHABLE -> STALE -> re-confirmed -> aged by use */
static void test_resolve_and_age(void)
{
	static const struct step steps[] = {
		{ 0, RES, X4, 1, 0, QS, INC, "" },
		{ 500, RES, X4, 2, 0, Q, INC, "" },
		{ 999, TICK, X4, 0, 0, 0, INC, "" },
		{ 1000, TICK, X4, 0, 0, 0, INC, "sol:192.0.2.1" },
		{ 1500, LRN, X4, REPLY, 0x0a, 0, REA, "send:1@0a send:2@0a" },
		{ 1600, RES, X4, 3, 0x0a, HIT, REA, "" },
		{ 31499, TICK, X4, 0, 0x0a, 0, REA, "" },
		{ 31500, TICK, X4, 0, 0x0a, 0, STA, "" },
		{ 40000, RES, X4, 4, 0x0a, HITS, STA, "" }, /* caller sends a unicast probe */
		{ 40500, RES, X4, 5, 0x0a, HIT, STA, "" },  /* already probing */
		{ 41000, TICK, X4, 0, 0x0a, 0, STA, "sol:192.0.2.1@0a" },
		{ 41200, LRN, X4, REPLY, 0x0a, 0, REA, "" },
		{ 71199, RES, X4, 6, 0x0a, HIT, REA, "" },
		{ 71200, RES, X4, 7, 0x0a, HITS, STA, "" }, /* aged by the lookup itself */
	};
	struct wg_neigh_table *t = make(16, 4);
	struct wg_neigh_stats st;

	RUN(t, steps);
	for (unsigned i = 3; i <= 7; i++)
		CHECK(sent[i] == 0 && freed[i] == 0); /* hits stay with the caller */
	CHECK(sent[1] == 1 && sent[2] == 1 && freed[1] == 0 && freed[2] == 0);
	wg_neigh_get_stats(t, &st);
	CHECK(st.hits == 5 && st.misses == 1 && st.queued == 2 && st.confirmed == 2);
	CHECK(st.solicits == 5); /* 2 broadcast (result + tick), 3 unicast (2 results + tick) */
	CHECK(st.entries == 1 && st.by_state[WG_NEIGH_STALE] == 1);
	wg_neigh_destroy(t);
	CHECK(freed[1] + freed[2] == 0);
}

/* three solicitations, FAILED, every queued packet freed once, holddown, retry */
static void test_resolution_fails(void)
{
	static const struct step steps[] = {
		{ 0, RES, X4, 1, 0, QS, INC, "" },
		{ 100, RES, X4, 2, 0, Q, INC, "" },
		{ 1000, TICK, X4, 0, 0, 0, INC, "sol:192.0.2.1" },
		{ 1500, RES, X4, 3, 0, Q, INC, "" },
		{ 2000, TICK, X4, 0, 0, 0, INC, "sol:192.0.2.1" },
		{ 2999, TICK, X4, 0, 0, 0, INC, "" },
		{ 3000, TICK, X4, 0, 0, 0, FAI, "free:1 free:2 free:3" },
		{ 3001, TICK, X4, 0, 0, 0, FAI, "" },
		{ 4000, RES, X4, 4, 0, DROP, FAI, "" },
		{ 7999, RES, X4, 5, 0, DROP, FAI, "" },
		{ 8000, RES, X4, 6, 0, QS, INC, "" }, /* holddown over: a new round */
		{ 9000, TICK, X4, 0, 0, 0, INC, "sol:192.0.2.1" },
		{ 10000, TICK, X4, 0, 0, 0, INC, "sol:192.0.2.1" },
		{ 10500, LRN, X4, REPLY, 0x0b, 0, REA, "send:6@0b" },
		{ 10600, RES, X4, 7, 0x0b, HIT, REA, "" },
	};
	struct wg_neigh_table *t = make(16, 4);
	struct wg_neigh_stats st;

	RUN(t, steps);
	CHECK(freed[1] == 1 && freed[2] == 1 && freed[3] == 1 && sent[1] + sent[2] + sent[3] == 0);
	CHECK(freed[4] + sent[4] + freed[5] + sent[5] == 0); /* DROPPED: still the caller's */
	CHECK(sent[6] == 1 && freed[6] == 0);
	wg_neigh_get_stats(t, &st);
	CHECK(st.failed == 1 && st.failed_freed == 3 && st.dropped == 2 && st.misses == 2);
	wg_neigh_destroy(t);
}

/* a STALE entry whose unicast probes go unanswered fails */
static void test_stale_probe_fails(void)
{
	static const struct step steps[] = {
		{ 0, RES, X6, 1, 0, QS, INC, "" },
		{ 10, LRN, X6, REPLY, 0x0a, 0, REA, "send:1@0a" },
		{ 30010, TICK, X6, 0, 0x0a, 0, STA, "" },
		{ 35000, RES, X6, 2, 0x0a, HITS, STA, "" },
		{ 35999, TICK, X6, 0, 0x0a, 0, STA, "" },
		{ 36000, TICK, X6, 0, 0x0a, 0, STA, "sol:2001:db8::1@0a" },
		{ 37000, TICK, X6, 0, 0x0a, 0, STA, "sol:2001:db8::1@0a" },
		{ 38000, TICK, X6, 0, 0, 0, FAI, "" },
		{ 38001, RES, X6, 3, 0, DROP, FAI, "" },
		{ 43000, RES, X6, 4, 0, QS, INC, "" },
	};
	struct wg_neigh_table *t = make(16, 4);

	RUN(t, steps);
	wg_neigh_destroy(t);
	CHECK(freed[4] == 1 && freed[3] == 0 && freed[2] == 0);
}

/*
 * The learning rule: replies and announcements never create; requests
 * aimed at us create STALE; announcements move a waiting or failed entry to
 * STALE and change a known MAC, but the same MAC leaves REACHABLE alone.
 */
static void test_learning_rule(void)
{
	static const struct step steps[] = {
		{ 0, LRN, X4, UNSOL, 0x0a, -ENOENT, ABSENT, "" },
		{ 0, LRN, X4, REPLY, 0x0a, -ENOENT, ABSENT, "" }, /* unsolicited reply */
		{ 0, LRN, X4, REQ, 0x0a, 0, STA, "" },
		{ 10, RES, X4, 1, 0x0a, HITS, STA, "" },
		{ 20, LRN, X4, REPLY, 0x0a, 0, REA, "" },
		{ 30, LRN, X4, UNSOL, 0x0a, 0, REA, "" },
		{ 40, LRN, X4, REQ, 0x0a, 0, REA, "" },
		{ 50, LRN, X4, UNSOL, 0x0b, 0, STA, "" }, /* moved: news, not proof */
		{ 60, RES, X4, 2, 0x0b, HITS, STA, "" },
		{ 70, LRN, X4, REQ, 0x0c, 0, STA, "" },
		{ 80, RES, X4, 3, 0x0c, HITS, STA, "" }, /* MAC change restarts probing */
		/* a waiting entry takes an announcement and sends its queue */
		{ 100, RES, Y4, 4, 0, QS, INC, "" },
		{ 110, LRN, Y4, UNSOL, 0x0d, 0, STA, "send:4@0d" },
		/* a failed entry takes a request */
		{ 200, RES, Z4, 5, 0, QS, INC, "" },
		/* (X, probing since 80, is asked again meanwhile and fails too) */
		{ 1200, TICK, Z4, 0, 0, 0, INC, "sol:192.0.2.1@0c sol:192.0.2.9" },
		{ 2200, TICK, Z4, 0, 0, 0, INC, "sol:192.0.2.1@0c sol:192.0.2.9" },
		{ 3200, TICK, Z4, 0, 0, 0, FAI, "free:5" },
		{ 3200, GET, X4, 0, 0, 0, FAI, "" },
		{ 3300, LRN, Z4, REQ, 0x0e, 0, STA, "" },
		{ 3400, RES, Z4, 6, 0x0e, HITS, STA, "" },
	};
	struct wg_neigh_table *t = make(16, 4);
	struct wg_neigh_stats st;
	uint8_t ip[16], mac[6];

	RUN(t, steps);
	wg_neigh_get_stats(t, &st);
	CHECK(st.learn_ignored == 2 && st.created == 3);
	/* bad input */
	family_of(W4, ip);
	mac_of(mac, 0x0a);
	mac[0] = 1;
	CHECK(wg_neigh_learn(t, AF_INET, ip, mac, REQ, 0) == -EINVAL); /* multicast MAC */
	memset(mac, 0, 6);
	CHECK(wg_neigh_learn(t, AF_INET, ip, mac, REQ, 0) == -EINVAL); /* zero MAC */
	mac_of(mac, 0x0a);
	CHECK(wg_neigh_learn(t, AF_UNIX, ip, mac, REQ, 0) == -EINVAL);
	CHECK(wg_neigh_learn(t, AF_INET, ip, mac, (enum wg_neigh_learn)7, 0) == -EINVAL);
	CHECK(wg_neigh_resolve(t, AF_UNIX, ip, 0, mac, NULL) == WG_NEIGH_DROPPED);
	CHECK(wg_neigh_get(t, AF_INET, ip, &(struct wg_neigh_info){ 0 }) == -ENOENT);
	wg_neigh_destroy(t);
}

/* queue_len packets wait; the oldest beyond are freed; order is kept */
static void test_queue_limit(void)
{
	static const struct step q4[] = {
		{ 0, RES, X4, 1, 0, QS, INC, "" },
		{ 1, RES, X4, 2, 0, Q, INC, "" },
		{ 2, RES, X4, 0, 0, Q, INC, "" }, /* no packet: nothing queued */
		{ 3, RES, X4, 3, 0, Q, INC, "" },
		{ 4, RES, X4, 4, 0, Q, INC, "" },
		{ 5, RES, X4, 5, 0, Q, INC, "free:1" },
		{ 6, RES, X4, 6, 0, Q, INC, "free:2" },
		{ 7, LRN, X4, REPLY, 0x0a, 0, REA, "send:3@0a send:4@0a send:5@0a send:6@0a" },
	};
	static const struct step q1[] = {
		{ 0, RES, X4, 1, 0, QS, INC, "" },
		{ 1, RES, X4, 2, 0, Q, INC, "free:1" },
		{ 7, LRN, X4, REPLY, 0x0a, 0, REA, "send:2@0a" },
	};
	static const struct step q0[] = {
		{ 0, RES, X4, 1, 0, QS, INC, "free:1" },
		{ 1, RES, X4, 2, 0, Q, INC, "free:2" },
		{ 7, LRN, X4, REPLY, 0x0a, 0, REA, "" },
	};
	struct wg_neigh_table *t = make(16, 4);
	struct wg_neigh_stats st;

	RUN(t, q4);
	wg_neigh_get_stats(t, &st);
	CHECK(st.queued == 6 && st.queue_overflow == 2);
	wg_neigh_destroy(t);
	t = make(16, 1);
	RUN(t, q1);
	wg_neigh_destroy(t);
	t = make(16, 0);
	RUN(t, q0);
	wg_neigh_destroy(t);

	/* the ring wraps many times without losing order */
	t = make(4, 3);
	uint8_t ip[16], mac[6];
	family_of(X4, ip);
	for (unsigned i = 1; i <= 100; i++)
		wg_neigh_resolve(t, AF_INET, ip, 0, mac, (void *)(uintptr_t)i);
	events[0] = 0;
	mac_of(mac, 0x0a);
	wg_neigh_learn(t, AF_INET, ip, mac, REPLY, 1);
	CHECK(strcmp(events, "send:98@0a send:99@0a send:100@0a") == 0);
	for (unsigned i = 1; i <= 97; i++)
		CHECK(freed[i] == 1 && sent[i] == 0);
	wg_neigh_destroy(t);
}

/* failure and destroy free every queued packet exactly once */
static void test_free_exactly_once(void)
{
	struct wg_neigh_table *t = make(64, 4);
	uint8_t ip[16], mac[6];
	unsigned id = 1;

	/* 40 entries with 1..6 packets each (overflow included) */
	for (unsigned e = 0; e < 40; e++) {
		memset(ip, 0, sizeof(ip));
		ip[0] = 10, ip[3] = (uint8_t)e;
		for (unsigned k = 0; k <= e % 6; k++, id++)
			wg_neigh_resolve(t, AF_INET, ip, 0, mac, (void *)(uintptr_t)id);
	}
	/* 20 of them fail, the other 20 are still waiting at destroy */
	for (unsigned s = 1; s <= 3; s++)
		wg_neigh_tick(t, s * 1000 * MS);
	for (unsigned e = 40; e < 60; e++) {
		memset(ip, 0, sizeof(ip));
		ip[0] = 10, ip[3] = (uint8_t)e;
		for (unsigned k = 0; k <= e % 6; k++, id++)
			wg_neigh_resolve(t, AF_INET6, ip, 3000 * MS, mac, (void *)(uintptr_t)id);
	}
	struct wg_neigh_stats st;
	wg_neigh_get_stats(t, &st);
	CHECK(st.failed == 40 && st.by_state[WG_NEIGH_FAILED] == 40 &&
	      st.by_state[WG_NEIGH_INCOMPLETE] == 20);
	wg_neigh_destroy(t);
	for (unsigned i = 1; i < id; i++)
		CHECK_MSG(freed[i] == 1 && sent[i] == 0, "packet %u: freed %u sent %u", i, freed[i],
			  sent[i]);
}

/* unused STALE and FAILED entries are collected after gc_idle; use defers it */
static void test_gc(void)
{
	static const struct step steps[] = {
		{ 0, LRN, X4, REQ, 0x0a, 0, STA, "" }, /* X: last used 0 */
		{ 100, RES, Y4, 1, 0, QS, INC, "" },   /* Y: last used 100 */
		{ 1100, TICK, Y4, 0, 0, 0, INC, "sol:192.0.2.7" },
		{ 2100, TICK, Y4, 0, 0, 0, INC, "sol:192.0.2.7" },
		{ 3100, TICK, Y4, 0, 0, 0, FAI, "free:1" },
		{ 59999, TICK, X4, 0, 0, 0, STA, "" },
		{ 60000, TICK, X4, 0, 0, 0, ABSENT, "" },
		{ 60099, TICK, Y4, 0, 0, 0, FAI, "" },
		{ 60100, TICK, Y4, 0, 0, 0, ABSENT, "" },
		/* Z: used at 70000, re-confirmed, STALE again at 100500, collected at 130000 */
		{ 60200, LRN, Z4, REQ, 0x0c, 0, STA, "" },
		{ 70000, RES, Z4, 0, 0x0c, HITS, STA, "" },
		{ 70500, LRN, Z4, REPLY, 0x0c, 0, REA, "" },
		{ 100499, TICK, Z4, 0, 0, 0, REA, "" },
		{ 100500, TICK, Z4, 0, 0, 0, STA, "" },
		{ 129999, TICK, Z4, 0, 0, 0, STA, "" },
		{ 130000, TICK, Z4, 0, 0, 0, ABSENT, "" },
	};
	struct wg_neigh_table *t = make(16, 4);
	struct wg_neigh_stats st;

	RUN(t, steps);
	wg_neigh_get_stats(t, &st);
	CHECK(st.gc == 3 && st.entries == 0);
	wg_neigh_destroy(t);
}

/*
 * Capacity: resolving may evict the least recently used STALE/FAILED
 * entry, never a waiting or reachable one; requests never evict.
 */
static void test_capacity(void)
{
	static const struct step steps[] = {
		{ 0, RES, X4, 1, 0, QS, INC, "" },
		{ 0, RES, Y4, 2, 0, QS, INC, "" },
		{ 0, RES, Z4, 3, 0, DROP, ABSENT, "" }, /* both waiting: nothing to evict */
		{ 0, LRN, Z4, REQ, 0x0c, -ENOSPC, ABSENT, "" },
		{ 10, LRN, X4, REPLY, 0x0a, 0, REA, "send:1@0a" },
		{ 20, LRN, Y4, REPLY, 0x0b, 0, REA, "send:2@0b" },
		{ 30010, TICK, X4, 0, 0, 0, STA, "" },
		{ 30010, TICK, Y4, 0, 0, 0, REA, "" },
		{ 30015, RES, Z4, 4, 0, QS, INC, "" }, /* evicts X, the only STALE one */
		{ 30015, RES, X4, 0, 0, DROP, ABSENT, "" },
		{ 30020, TICK, Y4, 0, 0, 0, STA, "" },
		{ 30030, LRN, W4, REQ, 0x0d, -ENOSPC, ABSENT, "" }, /* Y stays */
		{ 30030, TICK, Y4, 0, 0x0b, 0, STA, "" },
	};
	struct wg_neigh_table *t = make(2, 4);
	struct wg_neigh_stats st;

	RUN(t, steps);
	wg_neigh_get_stats(t, &st);
	CHECK(st.entries == 2 && st.evicted == 1 && st.table_full == 4);
	wg_neigh_destroy(t);

	/* a full table of spoofed requests: new resolutions evict them, oldest first */
	t = make(8, 4);
	uint8_t ip[16], mac[6];
	mac_of(mac, 0x0a);
	for (unsigned i = 0; i < 20; i++) {
		memset(ip, 0, sizeof(ip));
		ip[0] = 198, ip[1] = 51, ip[2] = 100, ip[3] = (uint8_t)i;
		int rc = wg_neigh_learn(t, AF_INET, ip, mac, REQ, i * MS);
		CHECK(rc == (i < 8 ? 0 : -ENOSPC));
	}
	family_of(X4, ip);
	CHECK(wg_neigh_resolve(t, AF_INET, ip, 100 * MS, mac, NULL) == WG_NEIGH_QUEUED_SOLICIT);
	memset(ip, 0, sizeof(ip));
	ip[0] = 198, ip[1] = 51, ip[2] = 100, ip[3] = 0;
	CHECK(wg_neigh_get(t, AF_INET, ip, &(struct wg_neigh_info){ 0 }) == -ENOENT);
	ip[3] = 1;
	CHECK(wg_neigh_get(t, AF_INET, ip, &(struct wg_neigh_info){ 0 }) == 0);
	wg_neigh_get_stats(t, &st);
	CHECK(st.entries == 8);
	wg_neigh_destroy(t);
}

/* 192.0.2.1 and c000:201:: share their first bytes but are different entries */
static void test_families_distinct(void)
{
	static const struct step steps[] = {
		{ 0, RES, X4, 1, 0, QS, INC, "" },
		{ 0, RES, "c000:201::", 2, 0, QS, INC, "" },
		{ 10, LRN, X4, REPLY, 0x0a, 0, REA, "send:1@0a" },
		{ 10, GET, "c000:201::", 0, 0, 0, INC, "" },
		{ 20, LRN, "c000:201::", REPLY, 0x0b, 0, REA, "send:2@0b" },
		{ 30, RES, X4, 3, 0x0a, HIT, REA, "" },
		{ 30, RES, "c000:201::", 4, 0x0b, HIT, REA, "" },
		{ 40, LRN, "::ffff:192.0.2.1", REPLY, 0x0c, -ENOENT, ABSENT, "" },
		{ 50, LRN, "192.0.2.1", UNSOL, 0x0d, 0, STA, "" },
		{ 50, GET, "c000:201::", 0, 0x0b, 0, REA, "" },
	};
	struct wg_neigh_table *t = make(16, 4);

	RUN(t, steps);
	CHECK(wg_neigh_resolved_count(t) == 2);
	wg_neigh_destroy(t);
}

static void test_create_args(void)
{
	struct wg_neigh_table *t = NULL;
	struct wg_neigh_callbacks no_free = { NULL, cb_send, NULL, NULL };
	struct wg_neigh_timers bad = { .max_solicit = 256 };

	CHECK(wg_neigh_create(&t, 0, 4, &cbs, NULL) == -EINVAL);
	CHECK(wg_neigh_create(&t, WG_NEIGH_CAPACITY_MAX + 1, 4, &cbs, NULL) == -EINVAL);
	CHECK(wg_neigh_create(&t, 8, WG_NEIGH_QUEUE_LEN_MAX + 1, &cbs, NULL) == -EINVAL);
	CHECK(wg_neigh_create(&t, 8, 4, NULL, NULL) == -EINVAL);
	CHECK(wg_neigh_create(&t, 8, 4, &no_free, NULL) == -EINVAL);
	CHECK(wg_neigh_create(&t, 8, 4, &cbs, &bad) == -EINVAL);
	CHECK(t == NULL);
	wg_neigh_destroy(NULL);

	/* custom timers: 2 solicitations 100 ms apart, 1 s reachable */
	struct wg_neigh_timers fast = { .retrans = 100 * MS, .reachable = 1000 * MS,
					.holddown = 500 * MS, .max_solicit = 2 };
	static const struct step steps[] = {
		{ 0, RES, X4, 1, 0, QS, INC, "" },
		{ 100, TICK, X4, 0, 0, 0, INC, "sol:192.0.2.1" },
		{ 200, TICK, X4, 0, 0, 0, FAI, "free:1" },
		{ 699, RES, X4, 0, 0, DROP, FAI, "" },
		{ 700, RES, X4, 0, 0, QS, INC, "" },
		{ 710, LRN, X4, REPLY, 0x0a, 0, REA, "" },
		{ 1709, TICK, X4, 0, 0, 0, REA, "" },
		{ 1710, TICK, X4, 0, 0, 0, STA, "" },
	};
	reset_log();
	CHECK(wg_neigh_create(&t, 8, 4, &cbs, &fast) == 0);
	if (t) {
		RUN(t, steps);
		wg_neigh_destroy(t);
	}
	/* without a solicit callback the table still counts and runs */
	struct wg_neigh_callbacks quiet = { NULL, cb_send, cb_free, NULL };
	reset_log();
	CHECK(wg_neigh_create(&t, 8, 4, &quiet, NULL) == 0);
	if (t) {
		uint8_t ip[16], mac[6];
		struct wg_neigh_stats st;
		family_of(X4, ip);
		wg_neigh_resolve(t, AF_INET, ip, 0, mac, NULL);
		wg_neigh_tick(t, 1000 * MS);
		wg_neigh_get_stats(t, &st);
		CHECK(st.solicits == 2 && n_solicits == 0);
		wg_neigh_destroy(t);
	}
}

static void test_names(void)
{
	size_t n;
	const char *const *names = wg_neigh_stat_names(&n);

	CHECK(n == 14 && strcmp(names[0], "hits") == 0 && strcmp(names[n - 1], "gc") == 0);
	CHECK(strcmp(wg_neigh_state_name(WG_NEIGH_INCOMPLETE), "incomplete") == 0);
	CHECK(strcmp(wg_neigh_state_name(WG_NEIGH_FAILED), "failed") == 0);
	CHECK(strcmp(wg_neigh_state_name((enum wg_neigh_state)9), "?") == 0);
}

/* ---- snapshot and random walk ------------------------------------------- */

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

#define POOL 24

static void pool_addr(unsigned i, int *family, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (i < POOL / 2) {
		*family = AF_INET;
		ip[0] = 192, ip[1] = 0, ip[2] = 2, ip[3] = (uint8_t)i;
	} else {
		*family = AF_INET6; /* same leading bytes as the IPv4 ones */
		ip[0] = 192, ip[1] = 0, ip[2] = 2, ip[3] = (uint8_t)(i - POOL / 2);
	}
}

/* snapshot sorted, and it agrees with wg_neigh_get for every pool address */
static void check_snapshot(struct wg_neigh_table *t, size_t step)
{
	struct wg_neigh_snap_entry snap[POOL];
	size_t want = wg_neigh_resolved_count(t);
	ssize_t n = wg_neigh_export(t, snap, POOL);

	CHECK_MSG(n >= 0 && (size_t)n == want, "step %zu: exported %zd, want %zu", step, n, want);
	if (n < 0)
		return;
	if (n > 0)
		CHECK(wg_neigh_export(t, snap, (size_t)n - 1) == -ENOSPC);
	for (ssize_t i = 1; i < n; i++)
		CHECK_MSG(snap[i - 1].family < snap[i].family ||
				  (snap[i - 1].family == snap[i].family &&
				   memcmp(snap[i - 1].ip, snap[i].ip, 16) < 0),
			  "step %zu: snapshot not sorted at %zd", step, i);
	for (unsigned i = 0; i < POOL; i++) {
		int family;
		uint8_t ip[16];
		struct wg_neigh_info info;
		pool_addr(i, &family, ip);
		const struct wg_neigh_snap_entry *e = wg_neigh_snap_lookup(snap, (size_t)n, family, ip);
		bool resolved = wg_neigh_get(t, family, ip, &info) == 0 &&
				(info.state == WG_NEIGH_REACHABLE || info.state == WG_NEIGH_STALE);
		CHECK_MSG(!!e == resolved, "step %zu addr %u: snapshot %s, table %s", step, i,
			  e ? "has it" : "has not", resolved ? "resolved" : "not");
		if (e && resolved) {
			CHECK(memcmp(e->mac, info.mac, 6) == 0 && e->family == family);
			CHECK(!!(e->flags & WG_NEIGH_SNAP_STALE) == (info.state == WG_NEIGH_STALE));
		}
	}
	CHECK(wg_neigh_snap_lookup(snap, (size_t)n, AF_UNIX, snap[0].ip) == NULL);
}

static void test_snapshot_and_random_walk(void)
{
	static uint8_t returned[MAX_PKT]; /* HIT or DROPPED: the caller kept it */
	struct wg_neigh_table *t = make(10, 3);
	uint64_t now = 0;
	unsigned id = 1;
	size_t steps = 60000;

	memset(returned, 0, sizeof(returned));
	for (size_t s = 0; s < steps && id < MAX_PKT - 1; s++) {
		int family;
		uint8_t ip[16], mac[6];
		unsigned a = rnd() % POOL, r = rnd() % 100;
		pool_addr(a, &family, ip);
		now += (rnd() % 4 == 0) ? (rnd() % 5000) * MS : (rnd() % 300) * MS;
		events[0] = 0;
		if (r < 45) {
			void *pkt = rnd() % 8 ? (void *)(uintptr_t)id : NULL;
			enum wg_neigh_result res = wg_neigh_resolve(t, family, ip, now, mac, pkt);
			if (pkt && (res == WG_NEIGH_HIT || res == WG_NEIGH_HIT_SOLICIT ||
				    res == WG_NEIGH_DROPPED))
				returned[id] = 1;
			if (pkt)
				id++;
		} else if (r < 75) {
			mac_of(mac, (uint8_t)(0x10 + a));
			if (rnd() % 16 == 0)
				mac[5] ^= 0x80; /* the neighbour moved */
			wg_neigh_learn(t, family, ip, mac, (enum wg_neigh_learn)(rnd() % 3), now);
		} else {
			wg_neigh_tick(t, now);
		}
		struct wg_neigh_stats st;
		wg_neigh_get_stats(t, &st);
		CHECK(st.entries <= 10 && st.by_state[0] + st.by_state[1] + st.by_state[2] +
							  st.by_state[3] ==
						  st.entries);
		if (s % 7 == 0 || s < 2000)
			check_snapshot(t, s);
		if (wg_test_failed_now)
			break;
	}
	wg_neigh_destroy(t);
	for (unsigned i = 1; i < id; i++) {
		unsigned fates = returned[i] + sent[i] + freed[i];
		CHECK_MSG(fates == 1, "packet %u: returned %u sent %u freed %u", i, returned[i], sent[i],
			  freed[i]);
		if (sent[i])
			CHECK(sent_mac[i] >= 0x10 && (sent_mac[i] & 0x7f) < 0x10 + POOL);
		if (wg_test_failed_now)
			break;
	}
	struct wg_neigh_snap_entry one;
	CHECK(wg_neigh_snap_lookup(&one, 0, AF_INET, (const uint8_t[16]){ 0 }) == NULL);
}

int main(void)
{
	TEST_BEGIN("dataplane_neigh_test");
	RUN_TEST(test_resolve_and_age);
	RUN_TEST(test_resolution_fails);
	RUN_TEST(test_stale_probe_fails);
	RUN_TEST(test_learning_rule);
	RUN_TEST(test_queue_limit);
	RUN_TEST(test_free_exactly_once);
	RUN_TEST(test_gc);
	RUN_TEST(test_capacity);
	RUN_TEST(test_families_distinct);
	RUN_TEST(test_create_args);
	RUN_TEST(test_names);
	RUN_TEST(test_snapshot_and_random_walk);
	return TEST_END();
}
