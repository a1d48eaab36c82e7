/* SPDX-License-Identifier: MIT */
/*
 * A transport keypair: what one completed handshake yields. The sending half
 * (key, counter) and the receiving half (key, replay window) are each used by
 * one lcore. Keys are wiped with wg_keypair_wipe() when the keypair is retired.
 */
#ifndef WG_KEYPAIR_H
#define WG_KEYPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "messages.h"
#include "replay.h"

struct wg_keypair {
	uint8_t send_key[WG_KEY_LEN];
	uint8_t recv_key[WG_KEY_LEN];
	uint64_t send_counter; /* next counter to use */
	struct wg_replay replay;
	uint64_t birth_ns;      /* monotonic time the handshake completed */
	uint32_t local_index;   /* host order: the index peers address us by */
	uint32_t remote_index;  /* host order: the index we address them by */
	bool is_initiator;
	bool valid;             /* false once wiped */
};

void wg_keypair_wipe(struct wg_keypair *kp);

/* true when the keypair may still send at now_ns (age and counter limits). */
bool wg_keypair_can_send(const struct wg_keypair *kp, uint64_t now_ns);
/* true when the keypair may still receive at now_ns (age limit). */
bool wg_keypair_can_receive(const struct wg_keypair *kp, uint64_t now_ns);

#endif
