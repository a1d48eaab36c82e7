/* SPDX-License-Identifier: MIT */
/*
 * Keypair slot rotation (see keypairs.h). Every pointer store that workers can
 * observe is a release store, so a worker that loads a keypair pointer sees
 * the keypair's contents as they were when it was published.
 */
#include "control/keypairs.h"

#include <stddef.h>

static void publish(struct wg_keypair **slot, struct wg_keypair *kp)
{
	__atomic_store_n(slot, kp, __ATOMIC_RELEASE);
}

static void retire(struct wg_keypair *kp, struct wg_keypair **retired, unsigned *n)
{
	if (kp)
		retired[(*n)++] = kp;
}

unsigned wg_keypairs_add(struct wg_keypairs *k, struct wg_keypair *kp,
			 struct wg_keypair *retired[WG_KEYPAIRS_RETIRE_MAX])
{
	struct wg_keypair *previous = k->previous, *next = k->next, *current = k->current;
	unsigned n = 0;

	if (kp->is_initiator) {
		if (next) {
			/*
			 * A responder keypair was still waiting for confirmation:
			 * keep it as previous (the peer may yet send on it) and let
			 * the current one go.
			 */
			publish(&k->next, NULL);
			publish(&k->previous, next);
			retire(current, retired, &n);
		} else {
			publish(&k->previous, current);
		}
		retire(previous, retired, &n);
		publish(&k->current, kp);
	} else {
		/* unusable for sending until the initiator sends data on it */
		publish(&k->next, kp);
		retire(next, retired, &n);
		publish(&k->previous, NULL);
		retire(previous, retired, &n);
	}
	return n;
}

bool wg_keypairs_confirm(struct wg_keypairs *k, const struct wg_keypair *kp, struct wg_keypair **retired)
{
	struct wg_keypair *next = k->next;

	*retired = NULL;
	if (!kp || next != kp)
		return false;
	*retired = k->previous;
	publish(&k->previous, k->current);
	publish(&k->current, next);
	publish(&k->next, NULL);
	return true;
}

unsigned wg_keypairs_clear(struct wg_keypairs *k, struct wg_keypair *retired[WG_KEYPAIRS_RETIRE_MAX])
{
	unsigned n = 0;

	retire(k->current, retired, &n);
	retire(k->previous, retired, &n);
	retire(k->next, retired, &n);
	publish(&k->current, NULL);
	publish(&k->previous, NULL);
	publish(&k->next, NULL);
	return n;
}
