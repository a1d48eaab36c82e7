/* SPDX-License-Identifier: MIT */
/*
 * Anti-replay window: RFC 6479, with the exact semantics of the Linux
 * kernel's counter_validate() (drivers/net/wireguard/receive.c) and of
 * wireguard-go's replay filter.
 *
 * The window is a ring of WG_REPLAY_BITS_TOTAL bits kept in 64-bit words.
 * Bit position p (p = their counter + 1, see below) lives in word
 * (p / 64) % 128, bit p % 64. Moving the window forward never shifts bits:
 * it zeroes the whole words between the old top word and the new one (at
 * most the whole ring) and records the new top. Because the top word is
 * only partly in use, one word of the ring is always being recycled and
 * the usable window is WG_REPLAY_BITS_TOTAL - 64 = 8128 counters.
 *
 * Like the kernel, r->counter holds the highest accepted counter plus one
 * (0 in a fresh window, so counter 0 is accepted first time), and the bit
 * for counter c sits at position c + 1. A counter c is accepted iff
 *   c < WG_REJECT_AFTER_MESSAGES, and
 *   c + 1 + WG_REPLAY_WINDOW >= r->counter, i.e. last - c <= 8128 where
 *     last is the highest accepted counter (a counter exactly 8128 behind
 *     the highest is still inside), and
 *   its bit was clear (it is then set).
 *
 * No overflow: c < 2^64 - 2^13 - 1, so c + 1 + 8128 < 2^64.
 *
 * Invariant: for every counter c with last - 8128 <= c <= last, the bit at
 * position c + 1 is set iff c was accepted. Those positions span
 * [r->counter - 8128, r->counter]; as 8128 = 127 * 64 they fall in the words
 * (r->counter >> 6) - 127 .. (r->counter >> 6): 128 distinct ring slots, so
 * they never alias, and each of those words was zeroed when the top first
 * moved into it. Older counters are refused before their bit is read.
 *
 * Call only after the packet authenticated (otherwise a forged counter
 * would move the window). Owned by the one lcore that receives for the
 * peer: no locking, no atomics.
 */
#include "dataplane/replay.h"

#include <string.h>

#include "dataplane/messages.h"

#define RING_WORDS (WG_REPLAY_BITS_TOTAL / WG_REPLAY_BITS_PER_WORD)
#define WORD_SHIFT 6 /* log2(WG_REPLAY_BITS_PER_WORD) */

_Static_assert(WG_REPLAY_BITS_PER_WORD == 1u << WORD_SHIFT, "word shift");
_Static_assert((RING_WORDS & (RING_WORDS - 1)) == 0, "ring is a power of two");
_Static_assert(WG_REPLAY_WINDOW == 8128, "window is 8192 bits minus one word");

void wg_replay_init(struct wg_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool wg_replay_check(struct wg_replay *r, uint64_t counter)
{
	uint64_t pos, index, index_current, top, i, bit;

	/* r->counter > WG_REJECT_AFTER_MESSAGES cannot happen through this
	 * function (see above); the kernel checks it anyway, so do we. */
	if (r->counter >= WG_REJECT_AFTER_MESSAGES + 1 || counter >= WG_REJECT_AFTER_MESSAGES)
		return false;

	pos = counter + 1;

	/* too old: more than WG_REPLAY_WINDOW below the highest accepted */
	if (WG_REPLAY_WINDOW + pos < r->counter)
		return false;

	index = pos >> WORD_SHIFT;
	if (pos > r->counter) {
		/*
		 * New highest: zero the words after the current top word up to
		 * and including the new one. A jump of a whole ring or more
		 * clears every word.
		 */
		index_current = r->counter >> WORD_SHIFT;
		top = index - index_current;
		if (top > RING_WORDS)
			top = RING_WORDS;
		for (i = 1; i <= top; i++)
			r->backtrack[(index_current + i) & (RING_WORDS - 1)] = 0;
		r->counter = pos;
	}

	index &= RING_WORDS - 1;
	bit = 1ull << (pos & (WG_REPLAY_BITS_PER_WORD - 1));
	if (r->backtrack[index] & bit)
		return false;
	r->backtrack[index] |= bit;
	return true;
}
