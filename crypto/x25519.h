/* SPDX-License-Identifier: MIT */
/* X25519 (RFC 7748) on libsodium. */
#ifndef WG_X25519_H
#define WG_X25519_H

#include <stdint.h>

#define WG_X25519_LEN 32u

/*
 * out = X25519(scalar, point). Returns 0, or -EINVAL when the result is all
 * zeros (the point has small order); out is then zeroed and must not be used.
 */
int wg_x25519(uint8_t out[WG_X25519_LEN], const uint8_t scalar[WG_X25519_LEN],
	      const uint8_t point[WG_X25519_LEN]);
/* pub = X25519(priv, 9). 0, or -EINVAL for a private key giving a zero public key. */
int wg_x25519_public(uint8_t pub[WG_X25519_LEN], const uint8_t priv[WG_X25519_LEN]);
/* fresh random private key, clamped as wg(8) genkey does. */
void wg_x25519_generate(uint8_t priv[WG_X25519_LEN]);
/* clamp a private key in place (RFC 7748 decodeScalar25519). */
void wg_x25519_clamp(uint8_t priv[WG_X25519_LEN]);

#endif
