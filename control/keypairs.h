/* SPDX-License-Identifier: MIT */
/*
 * A peer's three keypair slots and the rules that rotate them (the kernel's
 * add_new_keypair and wg_noise_received_with_keypair):
 *
 *   current   sends, receives
 *   previous  receives only: packets still in flight under the old session
 *   next      responder only: derived, but not usable for sending until the
 *             initiator proves it has it by sending data on it
 *
 * One writer (the control thread) changes the slots with release stores;
 * workers read them with acquire loads (wg_keypairs_current() etc.) and never
 * write. A keypair that leaves every slot is handed back to the caller as
 * "retired": the caller removes its index and frees (and wipes) it after an
 * RCU grace period, since a worker may still be using it.
 */
#ifndef WG_KEYPAIRS_H
#define WG_KEYPAIRS_H

#include <stdbool.h>

#include "dataplane/keypair.h"

struct wg_keypairs {
	struct wg_keypair *current;
	struct wg_keypair *previous;
	struct wg_keypair *next;
};

/* at most this many keypairs retire in one call */
#define WG_KEYPAIRS_RETIRE_MAX 3

/* reader side (any lcore) */
static inline struct wg_keypair *wg_keypairs_current(const struct wg_keypairs *k)
{
	return __atomic_load_n(&k->current, __ATOMIC_ACQUIRE);
}

static inline struct wg_keypair *wg_keypairs_next(const struct wg_keypairs *k)
{
	return __atomic_load_n(&k->next, __ATOMIC_ACQUIRE);
}

/*
 * Install a keypair fresh from a handshake. As initiator it becomes current
 * at once (the response proved the responder has it); as responder it waits
 * in next. Returns the number of keypairs written to retired[].
 */
unsigned wg_keypairs_add(struct wg_keypairs *k, struct wg_keypair *kp,
			 struct wg_keypair *retired[WG_KEYPAIRS_RETIRE_MAX]);

/*
 * Data arrived on kp. When kp is the pending next keypair, it is confirmed:
 * next -> current -> previous, and the old previous retires (*retired, or
 * NULL). Returns true when a rotation happened.
 */
bool wg_keypairs_confirm(struct wg_keypairs *k, const struct wg_keypair *kp, struct wg_keypair **retired);

/* Empty every slot (keys zeroed, peer removed). Returns the number retired. */
unsigned wg_keypairs_clear(struct wg_keypairs *k, struct wg_keypair *retired[WG_KEYPAIRS_RETIRE_MAX]);

#endif
