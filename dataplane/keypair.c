/* SPDX-License-Identifier: MIT */
/*
 * Transport keypair lifetime rules (WireGuard paper section 6.2): a keypair
 * may send while younger than REJECT_AFTER_TIME and below
 * REJECT_AFTER_MESSAGES messages, and receive while younger than
 * REJECT_AFTER_TIME. The counter limit keeps the 64-bit nonce from ever
 * wrapping: reusing a ChaCha20-Poly1305 nonce under one key would expose the
 * keystream and the Poly1305 key.
 */
#include "dataplane/keypair.h"

#include "crypto/secure.h"

void wg_keypair_wipe(struct wg_keypair *kp)
{
	wg_secure_wipe(kp, sizeof(*kp));
	kp->valid = false;
}

/* now < birth + REJECT_AFTER_TIME, written so that it cannot overflow */
static bool young_enough(const struct wg_keypair *kp, uint64_t now_ns)
{
	return now_ns < kp->birth_ns || now_ns - kp->birth_ns < WG_REJECT_AFTER_TIME;
}

bool wg_keypair_can_send(const struct wg_keypair *kp, uint64_t now_ns)
{
	return kp->valid && young_enough(kp, now_ns) && kp->send_counter < WG_REJECT_AFTER_MESSAGES;
}

bool wg_keypair_can_receive(const struct wg_keypair *kp, uint64_t now_ns)
{
	return kp->valid && young_enough(kp, now_ns);
}
