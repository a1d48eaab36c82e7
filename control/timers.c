/* SPDX-License-Identifier: MIT */
/*
 * The five timers of a peer, as in the kernel's drivers/net/wireguard/timers.c:
 *
 * - retransmit_handshake: if we sent an initiation and heard no response
 *   after REKEY_TIMEOUT + jitter, send it again; after MAX_TIMER_HANDSHAKES
 *   (REKEY_ATTEMPT_TIME / REKEY_TIMEOUT = 18) retries, give up: drop the
 *   staged packets and schedule the zeroing of whatever is left.
 *
 * - send_keepalive: if we received data and have sent nothing (not even a
 *   handshake) for KEEPALIVE_TIMEOUT, send an empty authenticated packet so
 *   the other side learns its data arrived.
 *
 * - new_handshake: if we sent data and have received nothing (not even a
 *   keepalive) for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter, the session is
 *   presumed dead: initiate a new handshake.
 *
 * - zero_key_material: 3 * REJECT_AFTER_TIME after the last session was
 *   derived, wipe every keypair and the handshake state.
 *
 * - persistent_keepalive: if configured, send an empty authenticated packet
 *   when no authenticated packet went either way for the interval (keeps NAT
 *   mappings open).
 *
 * Time: a timer fires at its deadline. Every entry point first expires what
 * is due at or before its event time (advance()), so an event reported late
 * is applied in its place in time, after the expiries that preceded it. An
 * operation on a timer older than the timer's last change (changed_ns) is
 * stale: it neither re-arms nor cancels, so a late report never undoes a
 * newer decision (a packet sent before a handshake cannot cancel the timer
 * that handshake armed).
 */
#include "control/timers.h"

#include <string.h>

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* wg_birthdate_has_expired(): at least ttl has passed since birth; a birth in the future is young. */
static bool expired(uint64_t birth_ns, uint64_t ttl_ns, uint64_t now_ns)
{
	return now_ns >= birth_ns && now_ns - birth_ns >= ttl_ns;
}

uint64_t wg_timers_jitter(uint32_t random)
{
	return ((uint64_t)random * WG_REKEY_TIMEOUT_JITTER_MAX) >> 32;
}

/* mod_timer(): (re-)arm at at_ns + dur_ns, unless the peer is dead or the request is stale. */
static void mod(struct wg_timers *t, enum wg_timer_id id, uint64_t at_ns, uint64_t dur_ns)
{
	struct wg_timer *tm = &t->timer[id];

	if (t->dead || at_ns < tm->changed_ns)
		return;
	t->armed |= (uint8_t)(1u << id);
	tm->deadline_ns = add_sat(at_ns, dur_ns);
	tm->changed_ns = at_ns;
}

/* del_timer(): a cancel is recorded even when idle, so an older arming reported later stays dead. */
static void del(struct wg_timers *t, enum wg_timer_id id, uint64_t at_ns)
{
	struct wg_timer *tm = &t->timer[id];

	if (at_ns < tm->changed_ns)
		return;
	t->armed &= (uint8_t)~(1u << id);
	tm->changed_ns = at_ns;
}

/* if (!timer_pending()) mod_timer(); returns whether it was pending. */
static bool arm_if_idle(struct wg_timers *t, enum wg_timer_id id, uint64_t at_ns, uint64_t dur_ns)
{
	if (wg_timers_armed(t, id))
		return true;
	mod(t, id, at_ns, dur_ns);
	return false;
}

static void emit(struct wg_timers *t, uint32_t action, uint64_t at_ns)
{
	if (!t->due || at_ns < t->due_since_ns)
		t->due_since_ns = at_ns;
	t->due |= action;
}

bool wg_timers_can_initiate(const struct wg_timers *t, uint64_t now_ns)
{
	return !t->has_sent_handshake || expired(t->last_sent_handshake_ns, WG_REKEY_TIMEOUT, now_ns);
}

static void record_handshake_sent(struct wg_timers *t, uint64_t at_ns)
{
	if (!t->has_sent_handshake || at_ns > t->last_sent_handshake_ns)
		t->last_sent_handshake_ns = at_ns;
	t->has_sent_handshake = true;
}

/*
 * wg_packet_send_queued_handshake_initiation() after the attempt count has
 * been handled: initiations are rate limited to one per REKEY_TIMEOUT, for
 * retries too (a retry is due REKEY_TIMEOUT + jitter after the initiation it
 * repeats, so it passes unless a response went out in between). The time is
 * recorded when the decision is taken, as the kernel does before it builds
 * the message.
 */
static void initiate(struct wg_timers *t, uint64_t at_ns, uint32_t action)
{
	if (wg_timers_can_initiate(t, at_ns)) {
		record_handshake_sent(t, at_ns);
		emit(t, action, at_ns);
	} else {
		emit(t, WG_TIMERS_INITIATION_RATE_LIMITED, at_ns);
	}
}

/*
 * The expiry handlers, run at the timer's deadline d. retransmit_handshake
 * gives up once the attempt count exceeds MAX_TIMER_HANDSHAKES: with the
 * first initiation and 19 retries that is the 20th expiry, about 100 s after
 * the first initiation; the zero-key timer is then armed unless pending.
 * send_keepalive re-arms once if data arrived while it was pending.
 * new_handshake starts over (attempts = 0). persistent_keepalive does nothing
 * once the interval is 0.
 */
static void expire(struct wg_timers *t, enum wg_timer_id id, uint64_t d)
{
	t->armed &= (uint8_t)~(1u << id);
	t->timer[id].changed_ns = d;

	switch (id) {
	case WG_TIMER_RETRANSMIT_HANDSHAKE:
		if (t->handshake_attempts > WG_MAX_TIMER_HANDSHAKES) {
			del(t, WG_TIMER_SEND_KEEPALIVE, d);
			emit(t, WG_TIMERS_GIVE_UP, d);
			arm_if_idle(t, WG_TIMER_ZERO_KEY_MATERIAL, d, WG_ZERO_KEYS_AFTER);
		} else {
			t->handshake_attempts++;
			initiate(t, d, WG_TIMERS_SEND_INITIATION_RETRY);
		}
		break;
	case WG_TIMER_SEND_KEEPALIVE:
		emit(t, WG_TIMERS_SEND_KEEPALIVE, d);
		if (t->need_another_keepalive) {
			t->need_another_keepalive = false;
			mod(t, WG_TIMER_SEND_KEEPALIVE, d, WG_KEEPALIVE_TIMEOUT);
		}
		break;
	case WG_TIMER_NEW_HANDSHAKE:
		t->handshake_attempts = 0;
		initiate(t, d, WG_TIMERS_SEND_INITIATION_NEW);
		break;
	case WG_TIMER_ZERO_KEY_MATERIAL:
		emit(t, WG_TIMERS_ZERO_KEYS, d);
		break;
	case WG_TIMER_PERSISTENT_KEEPALIVE:
		if (t->persistent_keepalive_interval_ns)
			emit(t, WG_TIMERS_SEND_PERSISTENT_KEEPALIVE, d);
		break;
	default:
		break;
	}
}

/*
 * Expire, earliest first, every timer due at or before to_ns. Terminates:
 * only send_keepalive re-arms itself, at most once, and the zero-key timer
 * armed on give-up does not re-arm.
 */
static void advance(struct wg_timers *t, uint64_t to_ns)
{
	for (;;) {
		uint64_t best = UINT64_MAX;
		int id = -1;

		for (int i = 0; i < WG_TIMER_COUNT; i++) {
			const struct wg_timer *tm = &t->timer[i];

			if (wg_timers_armed(t, (enum wg_timer_id)i) && tm->deadline_ns <= to_ns && (id < 0 || tm->deadline_ns < best)) {
				best = tm->deadline_ns;
				id = i;
			}
		}
		if (id < 0)
			break;
		expire(t, (enum wg_timer_id)id, best);
	}
	if (to_ns > t->clock_ns)
		t->clock_ns = to_ns;
}

void wg_timers_init(struct wg_timers *t, uint64_t persistent_keepalive_interval_ns)
{
	memset(t, 0, sizeof(*t));
	t->persistent_keepalive_interval_ns = persistent_keepalive_interval_ns;
}

/* wg_timers_stop() of a peer being removed (is_dead set first): nothing can re-arm. */
void wg_timers_stop(struct wg_timers *t)
{
	t->armed = 0;
	t->due = 0;
	t->need_another_keepalive = false;
	t->dead = true;
}

/*
 * Device down (the kernel's wg_stop: wg_timers_stop and
 * wg_noise_reset_last_sent_handshake per peer): every timer disarmed, the
 * next initiation allowed at once. Events older than now_ns are ignored.
 * Not for ZERO_KEYS: the kernel keeps the timers running after zeroing keys.
 */
void wg_timers_reset(struct wg_timers *t, uint64_t now_ns)
{
	if (now_ns > t->clock_ns)
		t->clock_ns = now_ns;
	t->armed = 0;
	for (int i = 0; i < WG_TIMER_COUNT; i++)
		t->timer[i].changed_ns = t->clock_ns;
	t->due = 0;
	t->handshake_attempts = 0;
	t->need_another_keepalive = false;
	t->sent_lastminute_handshake = false;
	t->has_sent_handshake = false;
}

/*
 * Setting the interval from 0 to non-zero sends a keepalive at once (the
 * kernel's set_peer, device up); its traversal then arms the timer. Setting
 * it to 0 disarms the timer (the kernel lets it fire and do nothing). Other
 * changes take effect at the next traversal.
 */
uint32_t wg_timers_set_persistent_keepalive(struct wg_timers *t, uint64_t interval_ns, uint64_t now_ns)
{
	uint64_t was = t->persistent_keepalive_interval_ns;

	t->persistent_keepalive_interval_ns = interval_ns;
	if (t->dead)
		return 0;
	advance(t, now_ns);
	if (!interval_ns) {
		struct wg_timer *tm = &t->timer[WG_TIMER_PERSISTENT_KEEPALIVE];

		t->armed &= (uint8_t)~(1u << WG_TIMER_PERSISTENT_KEEPALIVE);
		if (now_ns > tm->changed_ns)
			tm->changed_ns = now_ns;
	}
	return !was && interval_ns ? WG_TIMERS_SEND_PERSISTENT_KEEPALIVE : 0;
}

/* After an authenticated data packet (not a keepalive) was sent. */
void wg_timers_data_sent(struct wg_timers *t, uint64_t now_ns, uint32_t random)
{
	if (t->dead)
		return;
	advance(t, now_ns);
	arm_if_idle(t, WG_TIMER_NEW_HANDSHAKE, now_ns,
		    WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT + wg_timers_jitter(random));
}

/* After an authenticated data packet (not a keepalive) was received. */
void wg_timers_data_received(struct wg_timers *t, uint64_t now_ns)
{
	if (t->dead)
		return;
	advance(t, now_ns);
	if (arm_if_idle(t, WG_TIMER_SEND_KEEPALIVE, now_ns, WG_KEEPALIVE_TIMEOUT))
		t->need_another_keepalive = true;
}

/* After any authenticated packet was sent: keepalive, data or handshake. */
void wg_timers_any_authenticated_packet_sent(struct wg_timers *t, uint64_t now_ns)
{
	if (t->dead)
		return;
	advance(t, now_ns);
	del(t, WG_TIMER_SEND_KEEPALIVE, now_ns);
}

/* After any authenticated packet was received: keepalive, data or handshake. */
void wg_timers_any_authenticated_packet_received(struct wg_timers *t, uint64_t now_ns)
{
	if (t->dead)
		return;
	advance(t, now_ns);
	del(t, WG_TIMER_NEW_HANDSHAKE, now_ns);
}

/* Before any authenticated packet is sent, or after one is received. */
void wg_timers_any_authenticated_packet_traversal(struct wg_timers *t, uint64_t now_ns)
{
	if (t->dead)
		return;
	advance(t, now_ns);
	if (t->persistent_keepalive_interval_ns)
		mod(t, WG_TIMER_PERSISTENT_KEEPALIVE, now_ns, t->persistent_keepalive_interval_ns);
}

/* After an initiation was sent: retransmit if no response after REKEY_TIMEOUT + jitter. */
void wg_timers_handshake_initiated(struct wg_timers *t, uint64_t now_ns, uint32_t random)
{
	if (t->dead)
		return;
	advance(t, now_ns);
	record_handshake_sent(t, now_ns);
	mod(t, WG_TIMER_RETRANSMIT_HANDSHAKE, now_ns, WG_REKEY_TIMEOUT + wg_timers_jitter(random));
}

/*
 * After a response was consumed (initiator) or the first data message
 * arrived on the new keypair (responder's key confirmation): stop
 * retransmitting, start counting attempts afresh, allow a new last-minute
 * rekey, record the handshake time.
 */
void wg_timers_handshake_complete(struct wg_timers *t, uint64_t now_ns)
{
	if (t->dead)
		return;
	advance(t, now_ns);
	del(t, WG_TIMER_RETRANSMIT_HANDSHAKE, now_ns);
	t->handshake_attempts = 0;
	t->sent_lastminute_handshake = false;
	if (!t->has_handshake || now_ns > t->last_handshake_ns)
		t->last_handshake_ns = now_ns;
	t->has_handshake = true;
}

/* After a keypair was derived (before sending a response, after consuming one). */
void wg_timers_session_derived(struct wg_timers *t, uint64_t now_ns)
{
	if (t->dead)
		return;
	advance(t, now_ns);
	mod(t, WG_TIMER_ZERO_KEY_MATERIAL, now_ns, WG_ZERO_KEYS_AFTER);
}

/* wg_packet_send_handshake_response() also stamps last_sent_handshake. */
void wg_timers_response_sent(struct wg_timers *t, uint64_t now_ns)
{
	if (t->dead)
		return;
	advance(t, now_ns);
	record_handshake_sent(t, now_ns);
}

/* wg_packet_send_queued_handshake_initiation(peer, false). */
bool wg_timers_queue_initiation(struct wg_timers *t, uint64_t now_ns)
{
	if (t->dead)
		return false;
	advance(t, now_ns);
	t->handshake_attempts = 0;
	if (!wg_timers_can_initiate(t, now_ns))
		return false;
	record_handshake_sent(t, now_ns);
	return true;
}

/*
 * The receive path's keep_key_fresh(): an initiator whose current keypair is
 * older than REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT (165 s)
 * when data arrives asks for a handshake, once until the next
 * handshake_complete. True: send an initiation now.
 */
bool wg_timers_lastminute_rekey(struct wg_timers *t, uint64_t birth_ns, bool is_initiator, uint64_t now_ns)
{
	if (t->dead)
		return false;
	advance(t, now_ns);
	if (t->sent_lastminute_handshake || !wg_timers_rekey_on_receive(birth_ns, is_initiator, now_ns))
		return false;
	t->sent_lastminute_handshake = true;
	return wg_timers_queue_initiation(t, now_ns);
}

uint32_t wg_timers_tick(struct wg_timers *t, uint64_t now_ns)
{
	uint32_t actions;

	if (t->dead)
		return 0;
	advance(t, now_ns);
	actions = t->due;
	t->due = 0;
	return actions;
}

uint64_t wg_timers_next_deadline(const struct wg_timers *t)
{
	uint64_t next = t->due ? t->due_since_ns : UINT64_MAX;

	for (int i = 0; i < WG_TIMER_COUNT; i++)
		if (wg_timers_armed(t, (enum wg_timer_id)i) && t->timer[i].deadline_ns < next)
			next = t->timer[i].deadline_ns;
	return next;
}

uint64_t wg_timers_deadline(const struct wg_timers *t, enum wg_timer_id id)
{
	if ((unsigned int)id >= WG_TIMER_COUNT || !wg_timers_armed(t, id))
		return UINT64_MAX;
	return t->timer[id].deadline_ns;
}

/*
 * The send path's keep_key_fresh(): after sending, start a new handshake
 * when the current keypair has sent more than REKEY_AFTER_MESSAGES messages
 * (the kernel's strict '>' on the count of nonces used), or when we
 * initiated it and it is REKEY_AFTER_TIME old. Only the initiator rekeys on
 * age, so both sides do not start handshakes at the same moment.
 */
bool wg_timers_rekey_on_send(uint64_t birth_ns, bool is_initiator, uint64_t send_counter, uint64_t now_ns)
{
	return send_counter > WG_REKEY_AFTER_MESSAGES ||
	       (is_initiator && expired(birth_ns, WG_REKEY_AFTER_TIME, now_ns));
}

/*
 * The receive path's rule (see wg_timers_lastminute_rekey): an initiator
 * whose keypair is 165 s old rekeys on receipt, so that a new session exists
 * before the old one is rejected at 180 s even if it sends nothing.
 */
bool wg_timers_rekey_on_receive(uint64_t birth_ns, bool is_initiator, uint64_t now_ns)
{
	return is_initiator && expired(birth_ns, WG_REKEY_AFTER_TIME_RECV, now_ns);
}

/*
 * A keypair is unusable from REJECT_AFTER_TIME after its birth, and once its
 * counter (the next nonce to send, or the highest received + 1) reaches
 * REJECT_AFTER_MESSAGES. The opposite of wg_keypair_can_send().
 */
bool wg_timers_keypair_expired(uint64_t birth_ns, uint64_t counter, uint64_t now_ns)
{
	return expired(birth_ns, WG_REJECT_AFTER_TIME, now_ns) || counter >= WG_REJECT_AFTER_MESSAGES;
}
