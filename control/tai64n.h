/* SPDX-License-Identifier: MIT */
/*
 * TAI64N timestamps carried in handshake initiations. Responders accept an
 * initiation only if its timestamp is strictly greater than the last one seen
 * from that peer, which defeats replay of captured initiations.
 */
#ifndef WG_TAI64N_H
#define WG_TAI64N_H

#include <stdbool.h>
#include <stdint.h>

#define WG_TAI64N_LEN 12u

/*
 * Encode wall-clock time (ns since the Unix epoch) as TAI64N: big-endian
 * 2^62 + 10 + seconds, then big-endian nanoseconds rounded down to a multiple
 * of 2^24 ns (~16.7 ms, below 1/50 s) so the timestamp leaks no fine timing.
 */
void wg_tai64n_encode(uint8_t out[WG_TAI64N_LEN], uint64_t realtime_ns);
/* true when a is strictly later than b (big-endian byte comparison). */
bool wg_tai64n_after(const uint8_t a[WG_TAI64N_LEN], const uint8_t b[WG_TAI64N_LEN]);

#endif
