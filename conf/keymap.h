/* SPDX-License-Identifier: MIT */
/*
 * A map from 32-byte keys (public keys, encoded prefixes) to non-zero 32-bit
 * values, for the control plane's bulk work: planning a change of 100,000
 * peers (control/change.c) and replaying the state file (control/state.c)
 * in linear time. Open addressing, linear probing, at most half full,
 * grows by doubling; no removal (callers overwrite the value instead).
 * The hash is seeded at random per map: keys are attacker-chosen.
 */
#ifndef WG_CONF_KEYMAP_H
#define WG_CONF_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

struct wg_keymap_slot {
	uint8_t key[32];
	uint32_t val; /* 0: empty */
};

struct wg_keymap {
	struct wg_keymap_slot *s;
	size_t cap, n;
	uint64_t seed;
};

/* the value of key, 0 when absent */
uint32_t wg_keymap_get(const struct wg_keymap *m, const uint8_t key[32]);
/* set key's value (val != 0). 0 or -ENOMEM (map unchanged). */
int wg_keymap_put(struct wg_keymap *m, const uint8_t key[32], uint32_t val);
/* free the slots; the map is empty and usable again */
void wg_keymap_free(struct wg_keymap *m);

#endif
