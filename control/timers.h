/* SPDX-License-Identifier: MIT */
/*
 * The per-peer WireGuard timer state machine (the kernel's timers.c, the
 * WireGuard paper section 6), pure: no clock, no thread, no I/O. Every entry
 * point takes the time (monotonic ns) at which its event happened; that time
 * may lie a little in the past, because the control thread learns about data
 * packets from timestamps that worker lcores record. A timer fires at its
 * deadline: before an event at time e is applied, every timer due at or
 * before e is expired first, exactly as if the control thread had ticked at
 * that deadline, and the actions of those expiries wait in the state until
 * the next wg_timers_tick(). docs/timers.md has the tables and the lifecycle.
 *
 * Owned by the control thread: no locking.
 */
#ifndef WG_TIMERS_H
#define WG_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "../dataplane/messages.h"

enum wg_timer_id {
	WG_TIMER_RETRANSMIT_HANDSHAKE, /* REKEY_TIMEOUT + jitter after an initiation */
	WG_TIMER_SEND_KEEPALIVE,       /* KEEPALIVE_TIMEOUT after data received, unless we sent */
	WG_TIMER_NEW_HANDSHAKE,        /* KEEPALIVE + REKEY_TIMEOUT + jitter after data sent, unless we heard back */
	WG_TIMER_ZERO_KEY_MATERIAL,    /* 3 * REJECT_AFTER_TIME after the last session derived */
	WG_TIMER_PERSISTENT_KEEPALIVE, /* the configured interval after any authenticated packet */
	WG_TIMER_COUNT
};

/* What the expiries ask the caller to do, returned by wg_timers_tick(). */
enum wg_timers_action {
	WG_TIMERS_SEND_INITIATION_RETRY = 1u << 0,   /* retransmit_handshake: send initiation again */
	WG_TIMERS_SEND_INITIATION_NEW = 1u << 1,     /* new_handshake: sent data, heard nothing */
	WG_TIMERS_SEND_KEEPALIVE = 1u << 2,          /* send_keepalive: received data, sent nothing */
	WG_TIMERS_SEND_PERSISTENT_KEEPALIVE = 1u << 3,
	WG_TIMERS_GIVE_UP = 1u << 4,                 /* handshake attempts exhausted: purge staged packets */
	WG_TIMERS_ZERO_KEYS = 1u << 5,               /* wipe keypairs and handshake state */
	WG_TIMERS_INITIATION_RATE_LIMITED = 1u << 6, /* an expiry wanted an initiation; one went out < REKEY_TIMEOUT ago: nothing to do */
};
#define WG_TIMERS_SEND_INITIATION (WG_TIMERS_SEND_INITIATION_RETRY | WG_TIMERS_SEND_INITIATION_NEW)
#define WG_TIMERS_SEND_ANY_KEEPALIVE (WG_TIMERS_SEND_KEEPALIVE | WG_TIMERS_SEND_PERSISTENT_KEEPALIVE)

struct wg_timer {
	uint64_t deadline_ns; /* meaningful while armed */
	uint64_t changed_ns;  /* time of the last arm, re-arm, cancel or expiry */
};

struct wg_timers {
	struct wg_timer timer[WG_TIMER_COUNT];
	uint64_t persistent_keepalive_interval_ns; /* 0: off */
	uint64_t clock_ns;               /* latest time processed */
	uint64_t last_sent_handshake_ns; /* meaningful when has_sent_handshake */
	uint64_t last_handshake_ns;      /* last handshake_complete, when has_handshake */
	uint64_t due_since_ns;           /* earliest expiry among the pending actions */
	uint32_t due;                    /* actions expired but not yet returned by tick */
	uint32_t handshake_attempts;     /* retransmits since the last non-retry initiation */
	uint8_t armed;                   /* bit (1 << id) per armed timer */
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
	bool has_sent_handshake;
	bool has_handshake;
	bool dead;                       /* stopped: nothing arms any more */
};

_Static_assert(WG_TIMER_COUNT <= 8, "armed is one bit per timer in a byte");

/* timer id is armed */
static inline bool wg_timers_armed(const struct wg_timers *t, enum wg_timer_id id)
{
	return t->armed >> id & 1;
}

void wg_timers_init(struct wg_timers *t, uint64_t persistent_keepalive_interval_ns);
/* Peer removed: disarm everything; later events arm nothing, tick returns 0. */
void wg_timers_stop(struct wg_timers *t);
/*
 * Device down (the kernel's wg_stop): disarm, forget attempts and the last
 * initiation, keep the interval; events older than now_ns are then ignored.
 * Not on ZERO_KEYS: the timers keep running after keys are zeroed.
 */
void wg_timers_reset(struct wg_timers *t, uint64_t now_ns);
/* Returns WG_TIMERS_SEND_PERSISTENT_KEEPALIVE when it goes from off to on; 0 disarms the timer. */
uint32_t wg_timers_set_persistent_keepalive(struct wg_timers *t, uint64_t interval_ns, uint64_t now_ns);

/* The kernel's hooks; now_ns is when the event happened; random is a uniform 32-bit value (jitter). */
void wg_timers_data_sent(struct wg_timers *t, uint64_t now_ns, uint32_t random);
void wg_timers_data_received(struct wg_timers *t, uint64_t now_ns);
void wg_timers_any_authenticated_packet_sent(struct wg_timers *t, uint64_t now_ns);
void wg_timers_any_authenticated_packet_received(struct wg_timers *t, uint64_t now_ns);
void wg_timers_any_authenticated_packet_traversal(struct wg_timers *t, uint64_t now_ns);
void wg_timers_handshake_initiated(struct wg_timers *t, uint64_t now_ns, uint32_t random);
void wg_timers_handshake_complete(struct wg_timers *t, uint64_t now_ns);
void wg_timers_session_derived(struct wg_timers *t, uint64_t now_ns);
/* A handshake response went out (counts for the initiation rate limit). */
void wg_timers_response_sent(struct wg_timers *t, uint64_t now_ns);

/* No initiation or response was sent in the last REKEY_TIMEOUT (pure query). */
bool wg_timers_can_initiate(const struct wg_timers *t, uint64_t now_ns);
/*
 * A non-timer path wants a handshake (no usable keypair, or a rekey rule):
 * resets the attempt count; true when the caller should send an initiation
 * now (recorded as sent at now_ns), false when rate limited. Not for the
 * SEND_INITIATION_* bits of tick: those are already checked and recorded.
 */
bool wg_timers_queue_initiation(struct wg_timers *t, uint64_t now_ns);
/*
 * On data received: the receive-side rekey (wg_timers_rekey_on_receive), at
 * most once until the next handshake_complete, through queue_initiation.
 * True: send an initiation now.
 */
bool wg_timers_lastminute_rekey(struct wg_timers *t, uint64_t birth_ns, bool is_initiator, uint64_t now_ns);

/*
 * Expire what is due at now_ns and return the actions (bitmask) since the
 * last tick. Act in this order: ZERO_KEYS and GIVE_UP, then an initiation for
 * SEND_INITIATION_* (send it; no queue_initiation), then one keepalive.
 */
uint32_t wg_timers_tick(struct wg_timers *t, uint64_t now_ns);
/* Earliest armed deadline, or when pending actions are waiting their expiry time; UINT64_MAX if none. */
uint64_t wg_timers_next_deadline(const struct wg_timers *t);
/* Deadline of one timer, UINT64_MAX when not armed. */
uint64_t wg_timers_deadline(const struct wg_timers *t, enum wg_timer_id id);

/* Rekey and expiry rules of a keypair (pure; times in ns; counters as in struct wg_keypair). */
bool wg_timers_rekey_on_send(uint64_t birth_ns, bool is_initiator, uint64_t send_counter, uint64_t now_ns);
bool wg_timers_rekey_on_receive(uint64_t birth_ns, bool is_initiator, uint64_t now_ns);
bool wg_timers_keypair_expired(uint64_t birth_ns, uint64_t counter, uint64_t now_ns);

/* The retransmit jitter for a random value: uniform in [0, REKEY_TIMEOUT_JITTER_MAX). */
uint64_t wg_timers_jitter(uint32_t random);

#endif
