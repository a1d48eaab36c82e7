/* SPDX-License-Identifier: MIT */
/*
 * Neighbour table tests, on a driven clock.
 *
 * Most tests are step tables: at time t (ms), resolve a packet, learn a
 * MAC, or tick; then the result, the entry's state (and MAC), and the
 * callbacks the step caused (as a string, e.g. "send:1@0a free:2
 * sol:192.0.2.1@0a") must be exactly as listed. Packets are small integers
 * cast to pointers, and every packet's fate is counted, so a packet sent
 * or freed twice, or lost, fails the test. Steps also publish a snapshot
 * as the control thread does, use it as a worker does (MAC, note) and take
 * its notes. The random test runs the table against these rules for many
 * steps and compares the exported snapshot with the table after each one.
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
static uint8_t freed_why[MAX_PKT]; /* enum wg_neigh_free_reason of the last free */
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

static void cb_free(void *ctx, void *pkt, enum wg_neigh_free_reason why)
{
	(void)ctx;
	freed[pkt_id(pkt)]++;
	freed_why[pkt_id(pkt)] = (uint8_t)why;
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
	memset(freed_why, 0xff, sizeof(freed_why));
	n_solicits = 0;
}

/* ---- step tables ---------------------------------------------------------- */

/*
 * KEEP: wg_neigh_keep (want: the result). PUB: publish as the control
 * thread does (a new snapshot only when the version moved and the export
 * differs; want 1 when one was published). USE: a worker's
 * wg_neigh_snap_use on the published snapshot (want 1 for a MAC, checked
 * against mac; arg: the entry's note afterwards, or ANY). TAKE:
 * wg_neigh_snap_take_notes (want: notes taken).
 */
enum { RES, LRN, TICK, GET, KEEP, PUB, USE, TAKE };
#define ABSENT -1
#define ANY -2

struct step {
	uint64_t ms;
	int op;
	const char *ip;
	int arg;          /* RES: packet id (0 = none); LRN: enum wg_neigh_learn; USE: note */
	uint8_t mac;      /* LRN: learned 02:00:00:00:00:mac; else expected MAC (0: unchecked) */
	int want;         /* RES, KEEP: enum wg_neigh_result; LRN: return value; see above */
	int state;        /* of ip afterwards: enum wg_neigh_state, ABSENT or ANY */
	const char *events;
};

/* the snapshot the steps published, as the control thread keeps it */
static struct wg_neigh_snapshot *published;
static uint64_t published_version;

static struct wg_neigh_snapshot *snapshot_new(const struct wg_neigh_table *t)
{
	size_t cap = wg_neigh_resolved_count(t);
	struct wg_neigh_snapshot *s = aligned_alloc(64, wg_neigh_snapshot_size(cap));

	if (!s)
		abort();
	CHECK(wg_neigh_snapshot_fill(t, s, cap) == 0);
	return s;
}

/* 1 when a new snapshot replaced the published one */
static int publish(const struct wg_neigh_table *t)
{
	struct wg_neigh_snapshot *s;

	if (published && wg_neigh_version(t) == published_version)
		return 0;
	published_version = wg_neigh_version(t);
	s = snapshot_new(t);
	if (wg_neigh_snapshot_equal(s, published)) {
		free(s);
		return 0;
	}
	wg_neigh_snapshot_carry_notes(s, published);
	free(published);
	published = s;
	return 1;
}

static void unpublish(void)
{
	free(published);
	published = NULL;
}

/* the note of ip's entry in the published snapshot, or ABSENT */
static int note_of(int family, const uint8_t *ip)
{
	const struct wg_neigh_snap_entry *e =
		published ? wg_neigh_snap_lookup(published->e, published->n, family, ip) : NULL;

	return e ? published->note[e - published->e] : ABSENT;
}

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
		case KEEP:
			got = wg_neigh_keep(t, family, ip, now, mac);
			break;
		case PUB:
			got = publish(t);
			break;
		case USE:
			got = wg_neigh_snap_use(published, family, ip, mac);
			if (got && s[i].mac)
				CHECK_MSG(mac[5] == s[i].mac && mac[0] == 2, "%s step %zu: used MAC %02x",
					  name, i + 1, mac[5]);
			if (s[i].arg != ANY)
				CHECK_MSG(note_of(family, ip) == s[i].arg, "%s step %zu: note %d, want %d",
					  name, i + 1, note_of(family, ip), s[i].arg);
			break;
		case TAKE:
			got = (int)wg_neigh_snap_take_notes(t, published, now);
			break;
		}
		if (s[i].op != TICK && s[i].op != GET)
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

static struct wg_neigh_table *make_limits(size_t capacity, size_t qlen, size_t qtotal)
{
	struct wg_neigh_limits lim = { capacity, qlen, qtotal };
	struct wg_neigh_table *t = NULL;

	reset_log();
	CHECK(wg_neigh_create(&t, &lim, &cbs, NULL) == 0);
	if (!t)
		abort();
	return t;
}

static struct wg_neigh_table *make(size_t capacity, size_t qlen)
{
	return make_limits(capacity, qlen, 0);
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
	static const struct wg_neigh_limits bad_limits[] = {
		{ 0, 4, 0 },
		{ WG_NEIGH_CAPACITY_MAX + 1, 4, 0 },
		{ 8, WG_NEIGH_QUEUE_LEN_MAX + 1, 0 },
		{ 8, 4, WG_NEIGH_QUEUE_TOTAL_MAX + 1 },
	};
	const struct wg_neigh_limits ok = { 8, 4, 0 };

	for (size_t i = 0; i < sizeof(bad_limits) / sizeof(bad_limits[0]); i++)
		CHECK_MSG(wg_neigh_create(&t, &bad_limits[i], &cbs, NULL) == -EINVAL, "limits %zu", i);
	CHECK(wg_neigh_create(&t, NULL, &cbs, NULL) == -EINVAL);
	CHECK(wg_neigh_create(&t, &ok, NULL, NULL) == -EINVAL);
	CHECK(wg_neigh_create(&t, &ok, &no_free, NULL) == -EINVAL);
	CHECK(wg_neigh_create(&t, &ok, &cbs, &bad) == -EINVAL);
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
	CHECK(wg_neigh_create(&t, &ok, &cbs, &fast) == 0);
	if (t) {
		RUN(t, steps);
		wg_neigh_destroy(t);
	}
	/* without a solicit callback the table still counts and runs */
	struct wg_neigh_callbacks quiet = { NULL, cb_send, cb_free, NULL };
	reset_log();
	CHECK(wg_neigh_create(&t, &ok, &quiet, NULL) == 0);
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

	CHECK(n == 15 && strcmp(names[0], "hits") == 0 && strcmp(names[n - 2], "gc") == 0 &&
	      strcmp(names[n - 1], "noted") == 0);
	CHECK(strcmp(wg_neigh_state_name(WG_NEIGH_INCOMPLETE), "incomplete") == 0);
	CHECK(strcmp(wg_neigh_state_name(WG_NEIGH_FAILED), "failed") == 0);
	CHECK(strcmp(wg_neigh_state_name((enum wg_neigh_state)9), "?") == 0);
}


enum { NONE = WG_NEIGH_NOTE_NONE, USED = WG_NEIGH_NOTE_USED, TAKEN = WG_NEIGH_NOTE_TAKEN };

/*
 * The data path uses a STALE entry directly and leaves one note per
 * entry and snapshot; the control thread takes it once and re-confirms
 * (unicast); only a missing, INCOMPLETE or FAILED entry is the control
 * thread's to resolve.
 */
static void test_stale_use(void)
{
	static const struct step steps[] = {
		{ 0, PUB, NULL, 0, 0, 1, ANY, "" },
		{ 0, USE, X4, ABSENT, 0, 0, ABSENT, "" }, /* unknown: to the control thread */
		{ 0, RES, X4, 1, 0, QS, INC, "" },
		{ 0, PUB, NULL, 0, 0, 0, ANY, "" },       /* nothing resolved yet: same snapshot */
		{ 0, USE, X4, ABSENT, 0, 0, INC, "" },    /* INCOMPLETE: to the control thread */
		{ 0, LRN, Y4, REQ, 0x0b, 0, STA, "" },
		{ 10, LRN, X4, REPLY, 0x0a, 0, REA, "send:1@0a" },
		{ 10, PUB, NULL, 0, 0, 1, ANY, "" },
		{ 20, USE, X4, NONE, 0x0a, 1, REA, "" },  /* REACHABLE: no note */
		{ 20, TAKE, NULL, 0, 0, 0, ANY, "" },
		{ 30009, TICK, X4, 0, 0, 0, REA, "" },
		{ 30009, PUB, NULL, 0, 0, 0, ANY, "" },   /* version unchanged: nothing to do */
		{ 30010, TICK, X4, 0, 0, 0, STA, "" },
		{ 30010, PUB, NULL, 0, 0, 1, ANY, "" },
		/* STALE: the MAC is used at once, and noted once */
		{ 30020, USE, X4, USED, 0x0a, 1, STA, "" },
		{ 30021, USE, X4, USED, 0x0a, 1, STA, "" },
		{ 30022, USE, Y4, USED, 0x0b, 1, STA, "" },
		{ 30030, TAKE, NULL, 0, 0, 2, ANY, "sol:192.0.2.1@0a sol:192.0.2.7@0b" },
		{ 30031, USE, X4, TAKEN, 0x0a, 1, STA, "" }, /* taken: no second note */
		{ 30040, TAKE, NULL, 0, 0, 0, ANY, "" },
		{ 30040, PUB, NULL, 0, 0, 0, ANY, "" },      /* probing shows nowhere: note kept */
		{ 30041, USE, X4, TAKEN, 0x0a, 1, STA, "" },
		{ 30050, LRN, X4, REPLY, 0x0a, 0, REA, "" },
		{ 30050, PUB, NULL, 0, 0, 1, ANY, "" },
		{ 30060, USE, X4, NONE, 0x0a, 1, REA, "" },
		/* Y's re-confirmation goes unanswered: FAILED, back to the control thread */
		{ 31030, TICK, Y4, 0, 0, 0, STA, "sol:192.0.2.7@0b" },
		{ 32030, TICK, Y4, 0, 0, 0, STA, "sol:192.0.2.7@0b" },
		{ 32040, USE, Y4, TAKEN, 0x0b, 1, STA, "" }, /* note carried over by the new snapshot */
		{ 33030, TICK, Y4, 0, 0, 0, FAI, "" },
		{ 33030, PUB, NULL, 0, 0, 1, ANY, "" },
		{ 33040, USE, Y4, ABSENT, 0, 0, FAI, "" },
		/* the next staleness period is noted again */
		{ 60050, TICK, X4, 0, 0, 0, STA, "" },
		{ 60050, PUB, NULL, 0, 0, 1, ANY, "" },
		{ 60060, USE, X4, USED, 0x0a, 1, STA, "" },
		/* another entry changes before the note is taken: the note carries over */
		{ 60065, LRN, Z4, REQ, 0x0c, 0, STA, "" },
		{ 60065, PUB, NULL, 0, 0, 1, ANY, "" },
		{ 60070, TAKE, X4, 0, 0x0a, 1, STA, "sol:192.0.2.1@0a" },
		{ 60070, USE, X4, TAKEN, 0x0a, 1, STA, "" },
		/* and X's goes unanswered too */
		{ 61070, TICK, X4, 0, 0, 0, STA, "sol:192.0.2.1@0a" },
		{ 62070, TICK, X4, 0, 0, 0, STA, "sol:192.0.2.1@0a" },
		{ 62080, USE, X4, TAKEN, 0x0a, 1, STA, "" },
		{ 63070, TICK, X4, 0, 0, 0, FAI, "" },
		{ 63070, PUB, NULL, 0, 0, 1, ANY, "" },
		{ 63080, USE, X4, ABSENT, 0, 0, FAI, "" },
		{ 63090, TAKE, NULL, 0, 0, 0, ANY, "" },
	};
	struct wg_neigh_table *t = make(16, 4);
	struct wg_neigh_stats st;

	RUN(t, steps);
	wg_neigh_get_stats(t, &st);
	CHECK(st.noted == 3);
	unpublish();
	wg_neigh_destroy(t);
}

/*
 * The default queue holds 128 packets per entry, oldest freed first; all
 * queues share a pool: an empty pool costs the entry its own oldest packet,
 * or the new one when it has none. Every free says why.
 */
static void test_queue_default_and_shared(void)
{
	static const struct step shared[] = {
		{ 0, RES, X4, 1, 0, QS, INC, "" },
		{ 0, RES, X4, 2, 0, Q, INC, "" },
		{ 0, RES, X4, 3, 0, Q, INC, "" },
		{ 0, RES, X4, 4, 0, Q, INC, "" },
		{ 0, RES, X4, 5, 0, Q, INC, "free:1" },   /* X's own limit: 4 */
		{ 1, RES, Y4, 6, 0, QS, INC, "" },
		{ 1, RES, Y4, 7, 0, Q, INC, "" },         /* the pool (6) is full now */
		{ 1, RES, Y4, 8, 0, Q, INC, "free:6" },   /* Y gives its own oldest */
		{ 2, RES, Z4, 9, 0, QS, INC, "free:9" },  /* Z has none to give: the new one goes */
		{ 3, LRN, X4, REPLY, 0x0a, 0, REA, "send:2@0a send:3@0a send:4@0a send:5@0a" },
		{ 4, RES, Z4, 10, 0, Q, INC, "" },        /* room again */
		{ 5, LRN, Z4, REPLY, 0x0c, 0, REA, "send:10@0c" },
		{ 6, LRN, Y4, REPLY, 0x0b, 0, REA, "send:7@0b send:8@0b" },
	};
	struct wg_neigh_table *t = make(16, WG_NEIGH_QUEUE_LEN_DEFAULT);
	struct wg_neigh_stats st;
	struct wg_neigh_info info;
	uint8_t ip[16], mac[6];

	CHECK(WG_NEIGH_QUEUE_LEN_DEFAULT >= 100);
	family_of(X4, ip);
	for (unsigned i = 1; i <= 200; i++)
		wg_neigh_resolve(t, AF_INET, ip, i * MS, mac, (void *)(uintptr_t)i);
	CHECK(wg_neigh_get(t, AF_INET, ip, &info) == 0 && info.queued == WG_NEIGH_QUEUE_LEN_DEFAULT);
	wg_neigh_get_stats(t, &st);
	CHECK(st.queued == 200 && st.queue_overflow == 200 - WG_NEIGH_QUEUE_LEN_DEFAULT);
	mac_of(mac, 0x0a);
	wg_neigh_learn(t, AF_INET, ip, mac, REPLY, 300 * MS);
	for (unsigned i = 1; i <= 200; i++) {
		bool kept = i > 200 - WG_NEIGH_QUEUE_LEN_DEFAULT;
		CHECK_MSG(sent[i] == kept && freed[i] == !kept, "packet %u: sent %u freed %u", i, sent[i],
			  freed[i]);
		if (!kept)
			CHECK(freed_why[i] == WG_NEIGH_FREE_OVERFLOW);
	}
	wg_neigh_destroy(t);

	t = make_limits(8, 4, 6);
	RUN(t, shared);
	CHECK(freed_why[1] == WG_NEIGH_FREE_OVERFLOW && freed_why[6] == WG_NEIGH_FREE_OVERFLOW &&
	      freed_why[9] == WG_NEIGH_FREE_OVERFLOW);
	wg_neigh_get_stats(t, &st);
	CHECK(st.queue_overflow == 3 && st.queued == 9);
	wg_neigh_destroy(t);

	/* failure and removal say so */
	t = make(16, 4);
	family_of(X4, ip);
	wg_neigh_resolve(t, AF_INET, ip, 0, mac, (void *)(uintptr_t)1);
	for (unsigned s = 1; s <= 3; s++)
		wg_neigh_tick(t, s * 1000 * MS);
	family_of(Y4, ip);
	wg_neigh_resolve(t, AF_INET, ip, 3000 * MS, mac, (void *)(uintptr_t)2);
	wg_neigh_destroy(t);
	CHECK(freed[1] == 1 && freed_why[1] == WG_NEIGH_FREE_FAILED);
	CHECK(freed[2] == 1 && freed_why[2] == WG_NEIGH_FREE_REMOVED);
}

/*
 * A kept entry (a configured gateway) is never collected or evicted: it is
 * re-probed when it goes STALE and retried after a failure's holddown.
 */
static void test_kept_gateway(void)
{
	static const struct step steps[] = {
		{ 0, KEEP, X4, 0, 0, QS, INC, "" },      /* the caller solicits */
		{ 10, LRN, X4, REPLY, 0x0a, 0, REA, "" },
		{ 20, KEEP, X4, 0, 0x0a, HIT, REA, "" }, /* again: a hit, still kept */
		{ 30009, TICK, X4, 0, 0, 0, REA, "" },
		{ 30010, TICK, X4, 0, 0x0a, 0, STA, "sol:192.0.2.1@0a" }, /* aged, re-probed at once */
		{ 30020, LRN, X4, REPLY, 0x0a, 0, REA, "" },
		{ 60020, TICK, X4, 0, 0, 0, STA, "sol:192.0.2.1@0a" },
		/* unanswered: FAILED, and a new round when the holddown ends */
		{ 61020, TICK, X4, 0, 0, 0, STA, "sol:192.0.2.1@0a" },
		{ 62020, TICK, X4, 0, 0, 0, STA, "sol:192.0.2.1@0a" },
		{ 63020, TICK, X4, 0, 0, 0, FAI, "" },
		/* full (X failed and kept, Y waiting): Z finds nothing to evict */
		{ 63100, RES, Y4, 1, 0, QS, INC, "" },
		{ 63200, RES, Z4, 2, 0, DROP, ABSENT, "" },
		{ 63300, LRN, Y4, REPLY, 0x0b, 0, REA, "send:1@0b" },
		{ 63400, RES, Z4, 3, 0, DROP, ABSENT, "" }, /* Y is REACHABLE, X kept */
		{ 68019, TICK, X4, 0, 0, 0, FAI, "" },
		{ 68020, TICK, X4, 0, 0, 0, INC, "sol:192.0.2.1" },
		{ 69020, TICK, X4, 0, 0, 0, INC, "sol:192.0.2.1" },
		{ 69500, LRN, X4, REPLY, 0x0c, 0, REA, "" }, /* back, with another MAC */
		/* Y, not kept, goes STALE and is collected 60 s after its last use */
		{ 93300, TICK, Y4, 0, 0, 0, STA, "" },
		{ 99500, TICK, X4, 0, 0x0c, 0, STA, "sol:192.0.2.1@0c" },
		{ 99600, LRN, X4, REPLY, 0x0c, 0, REA, "" },
		{ 123100, TICK, Y4, 0, 0, 0, ABSENT, "" },
		/* X, last used at 20, is still there long after */
		{ 129599, GET, X4, 0, 0x0c, 0, REA, "" },
		{ 200000, TICK, X4, 0, 0, 0, STA, "sol:192.0.2.1@0c" },
		{ 200001, LRN, X4, REPLY, 0x0c, 0, REA, "" },
	};
	struct wg_neigh_table *t = make(2, 4);
	struct wg_neigh_stats st;
	struct wg_neigh_info info;
	uint8_t ip[16], mac[6];

	RUN(t, steps);
	family_of(X4, ip);
	CHECK(wg_neigh_get(t, AF_INET, ip, &info) == 0 && info.kept);
	family_of(Y4, ip);
	CHECK(wg_neigh_get(t, AF_INET, ip, &info) == -ENOENT);
	wg_neigh_get_stats(t, &st);
	CHECK(st.gc == 1 && st.evicted == 0 && st.table_full == 2);
	CHECK(wg_neigh_keep(t, AF_UNIX, ip, 0, mac) == WG_NEIGH_DROPPED);
	wg_neigh_destroy(t);
	CHECK(freed[2] + freed[3] + sent[2] + sent[3] == 0); /* DROPPED: still the caller's */
}

/*
 * A snapshot far beyond the old 4096-entry limit: every entry exported,
 * sorted, found by the binary search with its MAC, absent addresses not
 * found; then all STALE and one note taken.
 */
#define BIG 50000u

static void big_addr(unsigned i, int *family, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (i % 2) {
		*family = AF_INET;
		ip[0] = 10, ip[1] = (uint8_t)(i >> 16), ip[2] = (uint8_t)(i >> 8), ip[3] = (uint8_t)i;
	} else {
		*family = AF_INET6;
		ip[0] = 0x20, ip[1] = 0x01, ip[2] = 0x0d, ip[3] = 0xb8;
		ip[13] = (uint8_t)(i >> 16), ip[14] = (uint8_t)(i >> 8), ip[15] = (uint8_t)i;
	}
}

static void big_mac(unsigned i, uint8_t mac[6])
{
	memcpy(mac, (const uint8_t[]){ 2, 0, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i }, 6);
}

static void test_snapshot_large(void)
{
	struct wg_neigh_limits lim = { BIG, 0, 0 };
	struct wg_neigh_table *t = NULL;
	struct wg_neigh_snapshot *snap, *small;
	uint8_t ip[16], mac[6], want[6];
	unsigned wrong = 0, stale = 0;
	uint64_t v;
	int family;

	reset_log();
	CHECK(wg_neigh_create(&t, &lim, &cbs, NULL) == 0);
	if (!t)
		return;
	for (unsigned i = 0; i < BIG; i++) {
		big_addr(i, &family, ip);
		big_mac(i, mac);
		CHECK(wg_neigh_resolve(t, family, ip, 0, want, NULL) == WG_NEIGH_QUEUED_SOLICIT);
		CHECK(wg_neigh_learn(t, family, ip, mac, REPLY, MS) == 0);
		if (wg_test_failed_now)
			break;
	}
	CHECK(wg_neigh_resolved_count(t) == BIG);
	small = aligned_alloc(64, wg_neigh_snapshot_size(BIG - 1));
	CHECK(small && wg_neigh_snapshot_fill(t, small, BIG - 1) == -ENOSPC);
	free(small);
	snap = snapshot_new(t);
	CHECK(snap->n == BIG);
	for (size_t i = 1; i < snap->n; i++)
		if (snap[0].e[i - 1].family > snap->e[i].family ||
		    (snap->e[i - 1].family == snap->e[i].family &&
		     memcmp(snap->e[i - 1].ip, snap->e[i].ip, 16) >= 0))
			wrong++;
	for (unsigned i = 0; i < BIG; i++) {
		big_addr(i, &family, ip);
		big_mac(i, want);
		if (!wg_neigh_snap_use(snap, family, ip, mac) || memcmp(mac, want, 6))
			wrong++;
		big_addr(i + BIG, &family, ip); /* not in the table */
		if (wg_neigh_snap_use(snap, family, ip, mac))
			wrong++;
	}
	CHECK_MSG(wrong == 0, "%u wrong", wrong);
	CHECK(*snap->noted == 0 && wg_neigh_snap_take_notes(t, snap, 2 * MS) == 0);
	free(snap);

	/* all STALE: a new version, every entry flagged; one used, one note taken */
	v = wg_neigh_version(t);
	wg_neigh_tick(t, 30001 * MS);
	CHECK(wg_neigh_version(t) != v);
	snap = snapshot_new(t);
	for (size_t i = 0; i < snap->n; i++)
		stale += !!(snap->e[i].flags & WG_NEIGH_SNAP_STALE);
	CHECK(stale == BIG);
	big_addr(BIG / 2, &family, ip);
	CHECK(wg_neigh_snap_use(snap, family, ip, mac));
	CHECK(wg_neigh_snap_use(snap, family, ip, mac));
	n_solicits = 0;
	CHECK(wg_neigh_snap_take_notes(t, snap, 30002 * MS) == 1 && n_solicits == 1);
	CHECK(wg_neigh_snap_take_notes(t, snap, 30003 * MS) == 0 && n_solicits == 1);
	free(snap);
	wg_neigh_destroy(t);
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
	/* two kept entries (gateways): once created they never go */
	for (unsigned k = 0; k < 2; k++) {
		int family;
		uint8_t ip[16], mac[6];
		pool_addr(k * (POOL / 2), &family, ip);
		CHECK(wg_neigh_keep(t, family, ip, 0, mac) == WG_NEIGH_QUEUED_SOLICIT);
	}
	for (size_t s = 0; s < steps && id < MAX_PKT - 1; s++) {
		int family;
		uint8_t ip[16], mac[6];
		unsigned a = rnd() % POOL, r = rnd() % 100;
		pool_addr(a, &family, ip);
		now += (rnd() % 4 == 0) ? (rnd() % 5000) * MS : (rnd() % 300) * MS;
		events[0] = 0;
		if (r < 8) {
			/* a worker's use of the published snapshot, the control thread's round */
			struct wg_neigh_info info;
			publish(t);
			bool usable = wg_neigh_snap_use(published, family, ip, mac);
			bool resolved = wg_neigh_get(t, family, ip, &info) == 0 &&
					(info.state == WG_NEIGH_REACHABLE || info.state == WG_NEIGH_STALE);
			CHECK_MSG(usable == resolved, "step %zu: snapshot %d, table %d", s, usable, resolved);
			if (usable && resolved)
				CHECK(memcmp(mac, info.mac, 6) == 0);
			wg_neigh_snap_take_notes(t, published, now);
		} else if (r < 45) {
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
		for (unsigned k = 0; k < 2; k++) {
			int kf;
			uint8_t kip[16];
			struct wg_neigh_info info;
			pool_addr(k * (POOL / 2), &kf, kip);
			CHECK_MSG(wg_neigh_get(t, kf, kip, &info) == 0 && info.kept, "step %zu: kept %u gone", s, k);
		}
		if (wg_test_failed_now)
			break;
	}
	unpublish();
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
	RUN_TEST(test_stale_use);
	RUN_TEST(test_queue_default_and_shared);
	RUN_TEST(test_kept_gateway);
	RUN_TEST(test_snapshot_large);
	RUN_TEST(test_snapshot_and_random_walk);
	return TEST_END();
}
