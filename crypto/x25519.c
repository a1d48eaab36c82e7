// SPDX-License-Identifier: MIT
/*
 * X25519 (RFC 7748) on libsodium.
 *
 * Invariant: a zero shared secret is never returned as success. libsodium
 * refuses the known small-order points (0, 1, the two points of order 8,
 * p - 1, p, p + 1, with or without the ignored top bit) and also refuses any
 * all-zero result; we additionally check the output ourselves so the
 * guarantee does not depend on the libsodium version. On failure the output
 * is zeroed, so a caller that ignores the return value still holds no key
 * material derived from an attacker-chosen point.
 */
#include "crypto/x25519.h"

#include <errno.h>
#include <sodium.h>

#include "crypto/secure.h"

_Static_assert(WG_X25519_LEN == crypto_scalarmult_BYTES, "X25519 point length");
_Static_assert(WG_X25519_LEN == crypto_scalarmult_SCALARBYTES, "X25519 scalar length");

int wg_x25519(uint8_t out[WG_X25519_LEN], const uint8_t scalar[WG_X25519_LEN],
	      const uint8_t point[WG_X25519_LEN])
{
	/* libsodium clamps a copy of the scalar and masks the point's top bit */
	if (crypto_scalarmult(out, scalar, point) != 0 || wg_secure_is_zero(out, WG_X25519_LEN)) {
		wg_secure_wipe(out, WG_X25519_LEN);
		return -EINVAL;
	}
	return 0;
}

int wg_x25519_public(uint8_t pub[WG_X25519_LEN], const uint8_t priv[WG_X25519_LEN])
{
	if (crypto_scalarmult_base(pub, priv) != 0 || wg_secure_is_zero(pub, WG_X25519_LEN)) {
		wg_secure_wipe(pub, WG_X25519_LEN);
		return -EINVAL;
	}
	return 0;
}

void wg_x25519_clamp(uint8_t priv[WG_X25519_LEN])
{
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
}

void wg_x25519_generate(uint8_t priv[WG_X25519_LEN])
{
	wg_secure_random(priv, WG_X25519_LEN);
	wg_x25519_clamp(priv);
}
