/* SPDX-License-Identifier: MIT */
/*
 * Anti-replay sliding window (RFC 6479), as the kernel and wireguard-go do it:
 * a ring of 8192 bits of which one machine word is always being recycled, so
 * the usable window is 8192 - 64 = 8128 counters on 64-bit machines.
 *
 * Check a counter only after its packet has been authenticated. Counters at or
 * above WG_REJECT_AFTER_MESSAGES are always rejected. Owned by one lcore: no
 * locking.
 */
#ifndef WG_REPLAY_H
#define WG_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define WG_REPLAY_BITS_TOTAL 8192u
#define WG_REPLAY_BITS_PER_WORD 64u
#define WG_REPLAY_WINDOW (WG_REPLAY_BITS_TOTAL - WG_REPLAY_BITS_PER_WORD)

struct wg_replay {
	uint64_t counter; /* highest accepted counter + 1 */
	uint64_t backtrack[WG_REPLAY_BITS_TOTAL / WG_REPLAY_BITS_PER_WORD];
};

void wg_replay_init(struct wg_replay *r);
/* true when counter is new and inside the window; it is then recorded. */
bool wg_replay_check(struct wg_replay *r, uint64_t counter);

#endif
