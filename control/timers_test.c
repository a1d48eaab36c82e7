/* SPDX-License-Identifier: MIT */
/*
 * Timer state machine tests, all with a driven clock. Most are scripts: a
 * list of (time, event or tick, expected result) run against a fresh
 * struct wg_timers. Times are ns after T0; expected deadlines likewise.
 * Jitter: random 0 gives none, UINT32_MAX the largest, 333,333,332 ns.
 */
#include <stdint.h>
#include <string.h>

#include "control/timers.h"
#include "dataplane/keypair.h"
#include "dataplane/messages.h"
#include "tests/harness.h"

#define MS WG_NSEC_PER_MSEC
#define S WG_NSEC_PER_SEC
#define T0 (1000 * S)
#define NONE UINT64_MAX
#define JMAX 333333332ull /* wg_timers_jitter(UINT32_MAX) */

#define RETRY WG_TIMERS_SEND_INITIATION_RETRY
#define NEW WG_TIMERS_SEND_INITIATION_NEW
#define KA WG_TIMERS_SEND_KEEPALIVE
#define PKA WG_TIMERS_SEND_PERSISTENT_KEEPALIVE
#define GIVE WG_TIMERS_GIVE_UP
#define ZERO WG_TIMERS_ZERO_KEYS
#define RL WG_TIMERS_INITIATION_RATE_LIMITED

enum op {
	TICK,     /* want: action mask */
	NEXT,     /* arg: expected next_deadline */
	DEADLINE, /* id, arg: expected deadline of one timer */
	ATTEMPTS, /* want: handshake attempts */
	DSENT,    /* arg: random */
	DRECV,
	ASENT,
	ARECV,
	TRAV,
	INIT,     /* arg: random */
	COMPLETE,
	DERIVED,
	RSENT,
	QUEUE,    /* want: send now? */
	SETPKA,   /* arg: interval; want: actions */
	STOP,
	RESET,
};

static const char *const op_names[] = {
	"tick", "next_deadline", "deadline", "attempts", "data_sent", "data_received",
	"any_sent", "any_received", "traversal", "handshake_initiated", "handshake_complete",
	"session_derived", "response_sent", "queue_initiation", "set_persistent_keepalive",
	"stop", "reset",
};

struct step {
	uint64_t t;   /* ns after T0 */
	enum op op;
	uint64_t arg;
	uint32_t want;
	enum wg_timer_id id;
};

struct script {
	const char *name;
	uint64_t pka; /* persistent keepalive interval at init */
	struct step steps[40];
	size_t nsteps;
};

#define TK(t, w) { (t), TICK, 0, (w), 0 }
#define NX(d) { 0, NEXT, (d), 0, 0 }
#define DL(id, d) { 0, DEADLINE, (d), 0, (id) }
#define AT(n) { 0, ATTEMPTS, 0, (n), 0 }
#define DS(t, r) { (t), DSENT, (r), 0, 0 }
#define DR(t) { (t), DRECV, 0, 0, 0 }
#define AS(t) { (t), ASENT, 0, 0, 0 }
#define AR(t) { (t), ARECV, 0, 0, 0 }
#define TR(t) { (t), TRAV, 0, 0, 0 }
#define IN(t, r) { (t), INIT, (r), 0, 0 }
#define HC(t) { (t), COMPLETE, 0, 0, 0 }
#define SD(t) { (t), DERIVED, 0, 0, 0 }
#define RS(t) { (t), RSENT, 0, 0, 0 }
#define Q(t, w) { (t), QUEUE, 0, (w), 0 }
#define PK(t, iv, w) { (t), SETPKA, (iv), (w), 0 }
#define ST(t) { (t), STOP, 0, 0, 0 }
#define RE(t) { (t), RESET, 0, 0, 0 }
#define STEPS(...) { __VA_ARGS__ }, sizeof((struct step[]){ __VA_ARGS__ }) / sizeof(struct step)

#define RT WG_TIMER_RETRANSMIT_HANDSHAKE
#define KT WG_TIMER_SEND_KEEPALIVE
#define NT WG_TIMER_NEW_HANDSHAKE
#define ZT WG_TIMER_ZERO_KEY_MATERIAL
#define PT WG_TIMER_PERSISTENT_KEEPALIVE

static const struct script scripts[] = {
	{ "send_keepalive: 10 s after data received, once", 0,
	  STEPS(DR(0), DL(KT, 10 * S), NX(10 * S),
		TK(10 * S - 1, 0), TK(10 * S, KA), NX(NONE), TK(30 * S, 0)) },
	{ "no keepalive when we sent anything since", 0,
	  STEPS(DR(0), AS(3 * S), NX(NONE), TK(10 * S, 0),
		DR(20 * S), DS(21 * S, 0), AS(21 * S), DL(KT, NONE), TK(30 * S, 0),
		DR(40 * S), IN(41 * S, 0), AS(41 * S),
		TK(50 * S, NEW | RETRY)) },          /* the handshakes, but no keepalive */
	{ "need_another_keepalive: data while pending re-arms once", 0,
	  STEPS(DR(0), DR(4 * S), DL(KT, 10 * S), TK(10 * S, KA), DL(KT, 20 * S),
		TK(20 * S - 1, 0), TK(20 * S, KA), NX(NONE), TK(40 * S, 0)) },
	{ "the keepalive's own transmission cancels its re-arm (as in the kernel)", 0,
	  STEPS(DR(0), DR(4 * S), TK(10 * S, KA), DL(KT, 20 * S), AS(10 * S), NX(NONE),
		TK(20 * S, 0)) },
	{ "new_handshake: 15 s after unanswered data", 0,
	  STEPS(DS(0, 0), DL(NT, 15 * S), DS(5 * S, UINT32_MAX), DL(NT, 15 * S),
		TK(15 * S - 1, 0), TK(15 * S, NEW), NX(NONE), AT(0)) },
	{ "new_handshake: jitter up to 1/3 s", 0,
	  STEPS(DS(0, UINT32_MAX), DL(NT, 15 * S + JMAX),
		TK(15 * S + JMAX - 1, 0), TK(15 * S + JMAX, NEW)) },
	{ "new_handshake: cancelled by any authenticated packet received", 0,
	  STEPS(DS(0, 0), AR(14 * S), NX(NONE), TK(15 * S, 0),
		DS(20 * S, 0), DR(20 * S), DL(NT, 35 * S), AR(34 * S), DL(NT, NONE),
		TK(40 * S, KA)) },
	{ "retransmit_handshake: REKEY_TIMEOUT + jitter, cleared by handshake_complete", 0,
	  STEPS(Q(0, 1), IN(0, 0), AS(0), DL(RT, 5 * S), TK(5 * S - 1, 0), TK(5 * S, RETRY),
		AT(1), IN(5 * S, UINT32_MAX), DL(RT, 10 * S + JMAX), TK(10 * S + JMAX - 1, 0),
		HC(7 * S), NX(NONE), AT(0), TK(11 * S, 0)) },
	{ "retransmit: attempts count up, a non-retry initiation resets them", 0,
	  STEPS(Q(0, 1), IN(0, 0), TK(5 * S, RETRY), AT(1), IN(5 * S, 0),
		TK(10 * S, RETRY), AT(2), IN(10 * S, 0),
		Q(12 * S, 0), AT(0), TK(15 * S, RETRY), AT(1)) },
	{ "new_handshake restarts the attempt count", 0,
	  STEPS(Q(0, 1), IN(0, 0), DS(1 * S, 0), TK(5 * S, RETRY), IN(5 * S, 0),
		TK(10 * S, RETRY), IN(10 * S, 0), TK(15 * S, RETRY), AT(3), IN(15 * S, 0),
		TK(16 * S, RL), AT(0)) },
	{ "a late tick: expiries happen at their deadlines", 0,
	  STEPS(DR(0), DR(4 * S), TK(12 * S, KA), DL(KT, 20 * S), TK(20 * S, KA)) },
	{ "a late tick: expiries run in deadline order", 0,
	  STEPS(Q(0, 1), IN(0, 0), DS(0, 0), TK(5 * S, RETRY), AT(1),
		IN(11 * S, 0),                    /* retransmit at 16 s, after new_handshake at 15 s */
		TK(20 * S, RL | RETRY),           /* 15 s: attempts 0, rate limited; 16 s: retry */
		AT(1)) },
	{ "persistent keepalive: interval, off and on again", 0,
	  STEPS(TR(0), NX(NONE),                  /* off: traversal arms nothing */
		PK(0, 25 * S, PKA),               /* off -> on: keepalive now */
		PK(0, 25 * S, 0),                 /* on -> on: nothing */
		TR(1 * S), DL(PT, 26 * S), TK(26 * S - 1, 0), TK(26 * S, PKA),
		TR(26 * S), DL(PT, 51 * S),
		TR(30 * S), DL(PT, 55 * S),       /* any traversal pushes it back */
		PK(31 * S, 60 * S, 0), DL(PT, 55 * S), /* new interval from the next traversal */
		TK(55 * S, PKA), TR(55 * S), DL(PT, 115 * S),
		PK(60 * S, 0, 0), NX(NONE), TK(200 * S, 0),
		TR(201 * S), NX(NONE),
		PK(210 * S, 25 * S, PKA), TR(210 * S), DL(PT, 235 * S)) },
	{ "persistent keepalive from init", 25 * S,
	  STEPS(TR(0), DL(PT, 25 * S), AR(10 * S), TR(10 * S), TK(25 * S, 0), TK(35 * S, PKA)) },
	{ "zero_key_material: 540 s after the last session derived", 0,
	  STEPS(SD(0), DL(ZT, 540 * S), SD(100 * S), DL(ZT, 640 * S),
		TK(540 * S, 0), TK(640 * S - 1, 0), TK(640 * S, ZERO), NX(NONE),
		TK(2000 * S, 0)) },
	{ "initiations: at most one per REKEY_TIMEOUT; responses count", 0,
	  STEPS(Q(0, 1), Q(1 * S, 0), Q(5 * S - 1, 0), Q(5 * S, 1),
		RS(8 * S), Q(13 * S - 1, 0), Q(13 * S, 1),
		IN(20 * S, 0), Q(25 * S - 1, 0), HC(21 * S), Q(25 * S, 1)) },
	{ "new_handshake expiry within REKEY_TIMEOUT of an initiation is rate limited", 0,
	  STEPS(DS(0, 0), Q(12 * S, 1), IN(12 * S, 0), TK(15 * S, RL), AT(0),
		TK(17 * S, RETRY)) },
	{ "retransmit after a response we sent is rate limited and not re-armed (kernel)", 0,
	  STEPS(Q(0, 1), IN(0, 0), RS(3 * S), TK(5 * S, RL), AT(1), NX(NONE)) },
	{ "late reports: timers run from the event time", 0,
	  STEPS(TK(9 * S, 0), DR(0), DL(KT, 10 * S), DS(2 * S, 0), DL(NT, 17 * S),
		TK(9 * S + 500 * MS, 0), TK(17 * S + 50 * MS, KA | NEW)) },
	{ "late reports: applied after the expiries that came before them", 0,
	  STEPS(DR(0), DR(10 * S + 40 * MS), TK(10 * S + 50 * MS, KA), DL(KT, 20 * S + 40 * MS),
		DR(21 * S), TK(21 * S, KA), DL(KT, 31 * S)) },
	{ "late reports: an older event never undoes a newer decision", 25 * S,
	  STEPS(DS(190 * S, 0), TR(190 * S), DL(NT, 205 * S), DL(PT, 215 * S),
		AS(200 * S), AR(200 * S), TR(200 * S),  /* handshake sent/received at 200 s */
		DR(199 * S + 950 * MS),                 /* stale: does not arm keepalive */
		DS(199 * S + 950 * MS, 0),              /* stale: does not re-arm new_handshake */
		TR(199 * S + 950 * MS),                 /* stale: does not pull persistent back */
		DL(KT, NONE), DL(NT, NONE), DL(PT, 225 * S), NX(225 * S),
		AS(199 * S), DR(201 * S), AS(200 * S + 500 * MS), DL(KT, 211 * S)) },
	{ "stop: nothing arms any more", 25 * S,
	  STEPS(DR(0), DS(0, 0), SD(0), IN(0, 0), TR(0), ST(1 * S), NX(NONE),
		DR(2 * S), DS(2 * S, 0), IN(2 * S, 0), SD(2 * S), TR(2 * S), Q(2 * S, 0),
		PK(3 * S, 0, 0), PK(3 * S, 5 * S, 0), NX(NONE), TK(1000 * S, 0)) },
	{ "reset (device down): all disarmed, next initiation at once, interval kept", 25 * S,
	  STEPS(Q(0, 1), IN(0, 0), DR(0), SD(0), TR(0), RE(1 * S), NX(NONE),
		DR(500 * MS), NX(NONE),                 /* older than the reset: ignored */
		Q(1 * S, 1), TR(2 * S), DL(PT, 27 * S), TK(600 * S, PKA), NX(NONE)) },
	{ "an initiator's session, start to finish", 0,
	  STEPS(Q(0, 1),                          /* data staged, no keypair */
		TR(0), AS(0), IN(0, 0),           /* initiation out */
		SD(100 * MS), HC(100 * MS), AR(100 * MS), TR(100 * MS), /* response in */
		TR(100 * MS), AS(100 * MS), DS(100 * MS, 0),  /* staged data out */
		DR(150 * MS), AR(150 * MS), TR(150 * MS),     /* reply */
		NX(10 * S + 150 * MS), TK(10 * S + 150 * MS, KA),
		TR(10 * S + 150 * MS), AS(10 * S + 150 * MS),
		DL(ZT, 540 * S + 100 * MS), TK(540 * S + 100 * MS, ZERO), NX(NONE)) },
};

static uint32_t run_op(struct wg_timers *t, const struct step *s, bool *checked)
{
	uint64_t now = T0 + s->t;

	*checked = true;
	switch (s->op) {
	case TICK:
		return wg_timers_tick(t, now);
	case QUEUE:
		return wg_timers_queue_initiation(t, now);
	case SETPKA:
		return wg_timers_set_persistent_keepalive(t, s->arg, now);
	case ATTEMPTS:
		return t->handshake_attempts;
	default:
		break;
	}
	*checked = false;
	switch (s->op) {
	case DSENT:
		wg_timers_data_sent(t, now, (uint32_t)s->arg);
		break;
	case DRECV:
		wg_timers_data_received(t, now);
		break;
	case ASENT:
		wg_timers_any_authenticated_packet_sent(t, now);
		break;
	case ARECV:
		wg_timers_any_authenticated_packet_received(t, now);
		break;
	case TRAV:
		wg_timers_any_authenticated_packet_traversal(t, now);
		break;
	case INIT:
		wg_timers_handshake_initiated(t, now, (uint32_t)s->arg);
		break;
	case COMPLETE:
		wg_timers_handshake_complete(t, now);
		break;
	case DERIVED:
		wg_timers_session_derived(t, now);
		break;
	case RSENT:
		wg_timers_response_sent(t, now);
		break;
	case STOP:
		wg_timers_stop(t);
		break;
	case RESET:
		wg_timers_reset(t, now);
		break;
	default:
		break;
	}
	return 0;
}

static uint64_t rel(uint64_t abs)
{
	return abs == NONE ? NONE : abs - T0;
}

static void run_script(const struct script *sc)
{
	struct wg_timers t;

	wg_timers_init(&t, sc->pka);
	for (size_t i = 0; i < sc->nsteps; i++) {
		const struct step *s = &sc->steps[i];
		uint64_t got, want;
		bool checked;

		if (s->op == NEXT || s->op == DEADLINE) {
			got = rel(s->op == NEXT ? wg_timers_next_deadline(&t) : wg_timers_deadline(&t, s->id));
			want = s->arg;
		} else {
			got = run_op(&t, s, &checked);
			want = s->want;
			if (!checked)
				continue;
		}
		CHECK_MSG(got == want, "\"%s\" step %zu (%s at +%llu ns): got %#llx, want %#llx", sc->name,
			  i + 1, op_names[s->op], (unsigned long long)s->t, (unsigned long long)got,
			  (unsigned long long)want);
	}
}

static void test_scripts(void)
{
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		run_script(&scripts[i]);
}

static void test_constants(void)
{
	CHECK(WG_MAX_TIMER_HANDSHAKES == 18);
	CHECK(WG_REKEY_AFTER_TIME_RECV == 165 * S);
	CHECK(WG_ZERO_KEYS_AFTER == 540 * S);
	CHECK(wg_timers_jitter(0) == 0);
	CHECK(wg_timers_jitter(UINT32_MAX) == JMAX);
	CHECK(wg_timers_jitter(1u << 31) == WG_REKEY_TIMEOUT_JITTER_MAX / 2);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Every random value puts the retransmit in [5 s, 5 s + 1/3 s), monotonically. */
static void test_retransmit_jitter_bounds(void)
{
	uint64_t prev = 0;
	uint32_t r[1000 + 4] = { 0, 1, 1u << 31, UINT32_MAX };

	for (size_t i = 4; i < sizeof(r) / sizeof(r[0]); i++)
		r[i] = (uint32_t)rnd();
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		struct wg_timers t;
		uint64_t d;

		wg_timers_init(&t, 0);
		wg_timers_handshake_initiated(&t, T0, r[i]);
		d = wg_timers_deadline(&t, WG_TIMER_RETRANSMIT_HANDSHAKE) - T0;
		CHECK_MSG(d >= 5 * S && d < 5 * S + S / 3, "random %u: retransmit after %llu ns", r[i],
			  (unsigned long long)d);
		CHECK(wg_timers_tick(&t, T0 + d - 1) == 0);
		CHECK(wg_timers_tick(&t, T0 + d) == RETRY);
		if (i == 1)
			CHECK(d == prev); /* 1/2^32 of 1/3 s rounds to 0 */
		if (i == 2 || i == 3)
			CHECK(d > prev);
		prev = d;
	}
}

/*
 * Run the retransmit chain from an initiation at T0 until give-up; the caller
 * answers every RETRY with a new initiation. Returns the give-up time (0 if
 * none within 1000 s); *sent counts initiations, including the first.
 */
static uint64_t run_until_give_up(struct wg_timers *t, uint32_t random, uint64_t queue_at, unsigned int *sent)
{
	uint64_t now = T0;
	bool queued = false;

	*sent = 0;
	CHECK(wg_timers_queue_initiation(t, now));
	wg_timers_handshake_initiated(t, now, random);
	++*sent;
	while (now < T0 + 1000 * S) {
		uint64_t d = wg_timers_deadline(t, WG_TIMER_RETRANSMIT_HANDSHAKE);
		uint32_t a;

		if (d == NONE)
			return 0;
		if (queue_at && !queued && d > T0 + queue_at) {
			/* data staged with no key: a non-retry initiation request */
			wg_timers_queue_initiation(t, T0 + queue_at);
			queued = true;
		}
		CHECK(wg_timers_tick(t, d - 1) == 0);
		a = wg_timers_tick(t, d);
		now = d;
		if (a & GIVE) {
			CHECK(!(a & WG_TIMERS_SEND_INITIATION));
			CHECK(wg_timers_deadline(t, WG_TIMER_RETRANSMIT_HANDSHAKE) == NONE);
			return d;
		}
		CHECK_MSG(a == RETRY, "expiry at +%llu ns: actions %#x", (unsigned long long)(d - T0), a);
		CHECK(t->handshake_attempts <= WG_MAX_TIMER_HANDSHAKES + 1);
		wg_timers_handshake_initiated(t, d, random);
		++*sent;
	}
	return 0;
}

static void test_give_up(void)
{
	struct wg_timers t;
	unsigned int sent;
	uint64_t g;

	/* no jitter: 20 initiations 5 s apart, the 20th expiry gives up at 100 s */
	wg_timers_init(&t, 0);
	wg_timers_data_received(&t, T0 + 95 * S); /* a keepalive pending at give-up is dropped */
	g = run_until_give_up(&t, 0, 0, &sent);
	CHECK_MSG(g == T0 + 100 * S, "gave up at +%llu ns", (unsigned long long)(g - T0));
	CHECK(sent == WG_MAX_TIMER_HANDSHAKES + 2);
	CHECK(wg_timers_deadline(&t, WG_TIMER_SEND_KEEPALIVE) == NONE);
	/* what is left of the partial exchange is zeroed 540 s later */
	CHECK(wg_timers_deadline(&t, WG_TIMER_ZERO_KEY_MATERIAL) == g + 540 * S);
	CHECK(wg_timers_next_deadline(&t) == g + 540 * S);
	CHECK(wg_timers_tick(&t, g + 540 * S - 1) == 0);
	CHECK(wg_timers_tick(&t, g + 540 * S) == ZERO);
	CHECK(wg_timers_next_deadline(&t) == NONE);

	/* most jitter: still 20 initiations, 20 * (5 s + 1/3 s) at most */
	wg_timers_init(&t, 0);
	g = run_until_give_up(&t, UINT32_MAX, 0, &sent);
	CHECK(g == T0 + 20 * (5 * S + JMAX));
	CHECK(sent == 20);

	/* a zero-key timer already pending is not moved by the give-up */
	wg_timers_init(&t, 0);
	wg_timers_session_derived(&t, T0);
	g = run_until_give_up(&t, 0, 0, &sent);
	CHECK(g == T0 + 100 * S);
	CHECK(wg_timers_deadline(&t, WG_TIMER_ZERO_KEY_MATERIAL) == T0 + 540 * S);

	/* data staged at 52 s restarts the count: 20 more expiries from there */
	wg_timers_init(&t, 0);
	g = run_until_give_up(&t, 0, 52 * S, &sent);
	CHECK_MSG(g == T0 + 150 * S, "gave up at +%llu ns", (unsigned long long)(g - T0));
	CHECK(sent == 30);

	/* a handshake that completes stops the chain for good */
	wg_timers_init(&t, 0);
	wg_timers_queue_initiation(&t, T0);
	wg_timers_handshake_initiated(&t, T0, 0);
	CHECK(wg_timers_tick(&t, T0 + 5 * S) == RETRY);
	wg_timers_handshake_initiated(&t, T0 + 5 * S, 0);
	wg_timers_handshake_complete(&t, T0 + 6 * S);
	CHECK(wg_timers_tick(&t, T0 + 1000 * S) == 0);
	CHECK(t.handshake_attempts == 0);
	CHECK(t.has_handshake && t.last_handshake_ns == T0 + 6 * S);
}

enum pred { SEND, RECV, EXPIRED };

static void test_predicates(void)
{
	static const struct {
		enum pred p;
		bool initiator;
		uint64_t counter;
		int64_t age; /* now - birth, ns */
		bool want;
	} cases[] = {
		{ SEND, true, 0, 120 * S - 1, false },
		{ SEND, true, 0, 120 * S, true },
		{ SEND, false, 0, 120 * S, false },      /* only the initiator rekeys on age */
		{ SEND, false, 0, 179 * S, false },
		{ SEND, true, 0, -1 * (int64_t)S, false }, /* birth in the future */
		{ SEND, false, WG_REKEY_AFTER_MESSAGES, 0, false },
		{ SEND, false, WG_REKEY_AFTER_MESSAGES + 1, 0, true }, /* kernel: counter > limit */
		{ SEND, true, WG_REKEY_AFTER_MESSAGES + 1, 1, true },
		{ SEND, false, UINT64_MAX, 0, true },
		{ RECV, true, 0, 165 * S - 1, false },
		{ RECV, true, 0, 165 * S, true },
		{ RECV, true, 0, 120 * S, false },
		{ RECV, false, 0, 165 * S, false },
		{ RECV, false, 0, 179 * S, false },
		{ RECV, true, 0, -1, false },
		{ EXPIRED, true, 0, 180 * S - 1, false },
		{ EXPIRED, true, 0, 180 * S, true },
		{ EXPIRED, false, 0, 180 * S, true },
		{ EXPIRED, false, 0, 0, false },
		{ EXPIRED, false, 0, -5 * (int64_t)S, false },
		{ EXPIRED, false, WG_REJECT_AFTER_MESSAGES - 1, 0, false },
		{ EXPIRED, false, WG_REJECT_AFTER_MESSAGES, 0, true },
		{ EXPIRED, false, UINT64_MAX, 0, true },
	};
	static const uint64_t births[] = { 0, T0, 10 * S, UINT64_MAX - 200 * S };

	for (size_t b = 0; b < sizeof(births) / sizeof(births[0]); b++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			uint64_t birth = births[b], now;
			bool got;

			if (cases[i].age < 0 && birth < (uint64_t)-cases[i].age)
				continue;
			now = birth + (uint64_t)cases[i].age;
			switch (cases[i].p) {
			case SEND:
				got = wg_timers_rekey_on_send(birth, cases[i].initiator, cases[i].counter, now);
				break;
			case RECV:
				got = wg_timers_rekey_on_receive(birth, cases[i].initiator, now);
				break;
			default: {
				struct wg_keypair kp;

				got = wg_timers_keypair_expired(birth, cases[i].counter, now);
				/* the same rule as the keypair's own can_send / can_receive */
				memset(&kp, 0, sizeof(kp));
				kp.valid = true;
				kp.birth_ns = birth;
				kp.send_counter = cases[i].counter;
				kp.is_initiator = cases[i].initiator;
				CHECK_MSG(wg_keypair_can_send(&kp, now) == !got, "case %zu birth %zu", i, b);
				if (!cases[i].counter)
					CHECK_MSG(wg_keypair_can_receive(&kp, now) == !got, "case %zu birth %zu", i, b);
				break;
			}
			}
			CHECK_MSG(got == cases[i].want, "case %zu (birth %zu): got %d", i, b, got);
		}
	}
}

static void test_lastminute_rekey(void)
{
	struct wg_timers t;
	uint64_t birth = T0;

	wg_timers_init(&t, 0);
	CHECK(!wg_timers_lastminute_rekey(&t, birth, true, T0 + 165 * S - 1));
	CHECK(!wg_timers_lastminute_rekey(&t, birth, false, T0 + 170 * S));
	CHECK(!t.sent_lastminute_handshake);
	CHECK(wg_timers_lastminute_rekey(&t, birth, true, T0 + 165 * S));
	CHECK(!wg_timers_lastminute_rekey(&t, birth, true, T0 + 171 * S)); /* once */
	CHECK(!wg_timers_lastminute_rekey(&t, birth, true, T0 + 179 * S));
	wg_timers_handshake_complete(&t, T0 + 179 * S);
	CHECK(wg_timers_lastminute_rekey(&t, birth, true, T0 + 179 * S + 1));

	/* rate limited: the flag is still spent, as in the kernel */
	wg_timers_init(&t, 0);
	CHECK(wg_timers_queue_initiation(&t, T0 + 164 * S));
	CHECK(!wg_timers_lastminute_rekey(&t, birth, true, T0 + 165 * S));
	CHECK(t.sent_lastminute_handshake);
	CHECK(!wg_timers_lastminute_rekey(&t, birth, true, T0 + 170 * S));
}

static uint64_t brute_next(const struct wg_timers *t)
{
	uint64_t m = t->due ? t->due_since_ns : NONE;

	for (int i = 0; i < WG_TIMER_COUNT; i++)
		if (wg_timers_armed(t, (enum wg_timer_id)i) && t->timer[i].deadline_ns < m)
			m = t->timer[i].deadline_ns;
	return m;
}

struct ev {
	uint64_t now;
	uint32_t random;
	unsigned int kind; /* 0..16: see apply_event; 13..16 tick */
};

/*
 * A random event at a random time near *clock (sometimes before it, when
 * allow_stale); ticks and resets only when allow_tick (a reset drops the
 * actions not yet collected, so it is not neutral to when ticks happen).
 */
static struct ev gen_event(uint64_t *clock, bool allow_stale, bool allow_tick)
{
	uint64_t r = rnd();
	struct ev e;

	switch ((r >> 8) % 8) {
	case 0: e.now = *clock; break;
	case 1: e.now = *clock + (r >> 12) % (30 * S); break;
	case 2: e.now = *clock + (r >> 12) % (600 * S); break;
	case 3: e.now = allow_stale && *clock > T0 + S ? *clock - (r >> 12) % S : *clock; break;
	default: e.now = *clock + (r >> 12) % (3 * S); break;
	}
	if (e.now > *clock)
		*clock = e.now;
	e.random = (uint32_t)(r >> 32);
	e.kind = (unsigned int)(r % (allow_tick ? 17 : 12));
	return e;
}

/* Apply one event; returns queue's answer, set_persistent_keepalive's or tick's actions. */
static uint32_t apply_event(struct wg_timers *t, const struct ev *e)
{
	switch (e->kind) {
	case 0: wg_timers_data_sent(t, e->now, e->random); break;
	case 1: wg_timers_data_received(t, e->now); break;
	case 2: wg_timers_any_authenticated_packet_sent(t, e->now); break;
	case 3: wg_timers_any_authenticated_packet_received(t, e->now); break;
	case 4: wg_timers_any_authenticated_packet_traversal(t, e->now); break;
	case 5: wg_timers_handshake_initiated(t, e->now, e->random); break;
	case 6: wg_timers_handshake_complete(t, e->now); break;
	case 7: wg_timers_session_derived(t, e->now); break;
	case 8: wg_timers_response_sent(t, e->now); break;
	case 9: return wg_timers_queue_initiation(t, e->now);
	case 10: return wg_timers_lastminute_rekey(t, e->now - 166 * S, true, e->now);
	case 11:
		return wg_timers_set_persistent_keepalive(t, (e->random & 3) ? (1 + e->random % 60) * S : 0,
							  e->now);
	case 12:
		if ((e->random & 63) == 0)
			wg_timers_reset(t, e->now);
		break;
	default:
		return wg_timers_tick(t, e->now);
	}
	return 0;
}

/*
 * next_deadline always equals the earliest armed timer (or the expiry time of
 * actions not yet collected), and probing agrees: a tick 1 ns before it
 * returns nothing, a tick at it returns something.
 */
static void test_next_deadline_random(void)
{
	for (int run = 0; run < 50; run++) {
		struct wg_timers t;
		uint64_t clock = T0;

		wg_timers_init(&t, (run & 1) ? 25 * S : 0);
		for (int i = 0; i < 2000; i++) {
			struct ev e = gen_event(&clock, true, true);
			struct wg_timers probe;
			uint64_t next;

			apply_event(&t, &e);
			next = wg_timers_next_deadline(&t);
			CHECK_MSG(next == brute_next(&t), "run %d step %d: %llu vs %llu", run, i,
				  (unsigned long long)next, (unsigned long long)brute_next(&t));
			if (e.kind >= 13)
				CHECK(next > t.clock_ns);
			if (next == NONE)
				continue;
			if (next > t.clock_ns) {
				probe = t;
				CHECK_MSG(wg_timers_tick(&probe, next - 1) == 0, "run %d step %d", run, i);
				CHECK(wg_timers_next_deadline(&probe) == next);
				probe = t;
				CHECK_MSG(wg_timers_tick(&probe, next) != 0, "run %d step %d", run, i);
			} else {
				probe = t;
				CHECK_MSG(wg_timers_tick(&probe, t.clock_ns) != 0, "run %d step %d", run, i);
			}
			if (wg_test_failed_now)
				return;
		}
	}
}

static bool same_state(const struct wg_timers *a, const struct wg_timers *b)
{
	for (int i = 0; i < WG_TIMER_COUNT; i++) {
		if (wg_timers_armed(a, (enum wg_timer_id)i) != wg_timers_armed(b, (enum wg_timer_id)i) ||
		    a->timer[i].changed_ns != b->timer[i].changed_ns ||
		    (wg_timers_armed(a, (enum wg_timer_id)i) && a->timer[i].deadline_ns != b->timer[i].deadline_ns))
			return false;
	}
	return a->persistent_keepalive_interval_ns == b->persistent_keepalive_interval_ns &&
	       a->clock_ns == b->clock_ns && a->has_sent_handshake == b->has_sent_handshake &&
	       a->last_sent_handshake_ns == b->last_sent_handshake_ns &&
	       a->has_handshake == b->has_handshake && a->last_handshake_ns == b->last_handshake_ns &&
	       a->handshake_attempts == b->handshake_attempts &&
	       a->need_another_keepalive == b->need_another_keepalive &&
	       a->sent_lastminute_handshake == b->sent_lastminute_handshake && a->dead == b->dead;
}

/*
 * Reporting events late changes nothing: the same events, in time order, give
 * the same answers, the same final state and the same actions whether the
 * control thread ticked at the time of every event or only once at the end.
 */
static void test_late_reports_equivalent(void)
{
	static struct ev evs[400];

	for (int run = 0; run < 100; run++) {
		struct wg_timers a, b;
		uint64_t clock = T0;
		uint32_t acts_a = 0, acts_b;
		bool answers_match = true;

		for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
			evs[i] = gen_event(&clock, false, false);
		wg_timers_init(&a, (run & 1) ? 25 * S : 0);
		wg_timers_init(&b, (run & 1) ? 25 * S : 0);
		for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
			acts_a |= wg_timers_tick(&a, evs[i].now);
			if (apply_event(&a, &evs[i]) != apply_event(&b, &evs[i]))
				answers_match = false;
		}
		acts_a |= wg_timers_tick(&a, clock + 1000 * S);
		acts_b = wg_timers_tick(&b, clock + 1000 * S);
		CHECK_MSG(answers_match, "run %d", run);
		CHECK_MSG(acts_a == acts_b, "run %d: %#x vs %#x", run, acts_a, acts_b);
		CHECK_MSG(same_state(&a, &b), "run %d", run);
		if (wg_test_failed_now)
			return;
	}
}

int main(void)
{
	TEST_BEGIN("control/timers_test");
	RUN_TEST(test_constants);
	RUN_TEST(test_scripts);
	RUN_TEST(test_retransmit_jitter_bounds);
	RUN_TEST(test_give_up);
	RUN_TEST(test_predicates);
	RUN_TEST(test_lastminute_rekey);
	RUN_TEST(test_next_deadline_random);
	RUN_TEST(test_late_reports_equivalent);
	return TEST_END();
}
