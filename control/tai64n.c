/* SPDX-License-Identifier: MIT */
/*
 * TAI64N timestamps (https://cr.yp.to/libtai/tai64.html) as WireGuard puts
 * them in handshake initiations: 8 bytes big-endian 2^62 + 10 + seconds (the
 * label of a TAI second, with the 10 s TAI-UTC offset of 1970), then 4 bytes
 * big-endian nanoseconds.
 *
 * The kernel rounds the nanoseconds down to rounddown_pow_of_two(NSEC_PER_SEC /
 * INITIATIONS_PER_SECOND) = 2^24 ns so the timestamp does not leak a precise
 * clock; 2^24 ns is below the 1/50 s a responder waits between initiations
 * anyway, so two initiations it accepts still carry distinct timestamps.
 */
#include "control/tai64n.h"

#include <string.h>

#define TAI64_LABEL_EPOCH 0x400000000000000aull /* 2^62 + 10 */
#define TAI64N_NSEC_ROUND (1u << 24)

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

void wg_tai64n_encode(uint8_t out[WG_TAI64N_LEN], uint64_t realtime_ns)
{
	uint64_t sec = realtime_ns / 1000000000ull;
	uint32_t nsec = (uint32_t)(realtime_ns % 1000000000ull);

	nsec &= ~(TAI64N_NSEC_ROUND - 1);
	put_be64(out, TAI64_LABEL_EPOCH + sec);
	put_be32(out + 8, nsec);
}

/*
 * Big-endian fields compare like numbers under memcmp. Timestamps are not
 * secret to the peer that sent them, so an ordinary memcmp is fine.
 */
bool wg_tai64n_after(const uint8_t a[WG_TAI64N_LEN], const uint8_t b[WG_TAI64N_LEN])
{
	return memcmp(a, b, WG_TAI64N_LEN) > 0;
}
