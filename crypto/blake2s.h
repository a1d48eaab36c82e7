/* SPDX-License-Identifier: MIT */
/*
 * BLAKE2s (RFC 7693) and the constructions WireGuard builds on it:
 * HASH, MAC (keyed BLAKE2s-128), HMAC-BLAKE2s and the HKDF-style KDF1/2/3.
 * Pure functions on buffers (libb2 underneath).
 */
#ifndef WG_BLAKE2S_H
#define WG_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define WG_BLAKE2S_HASH_LEN 32u
#define WG_BLAKE2S_BLOCK_LEN 64u
#define WG_BLAKE2S_MAC_LEN 16u

/* out = BLAKE2s-256(in) */
void wg_blake2s_hash(uint8_t out[WG_BLAKE2S_HASH_LEN], const void *in, size_t len);
/* out = BLAKE2s-256(a || b); out may alias a or b. */
void wg_blake2s_hash2(uint8_t out[WG_BLAKE2S_HASH_LEN], const void *a, size_t alen,
		      const void *b, size_t blen);
/* out = BLAKE2s-128 keyed with key (1..32 bytes) over in. WireGuard's MAC(). */
void wg_blake2s_mac(uint8_t out[WG_BLAKE2S_MAC_LEN], const uint8_t *key, size_t keylen,
		    const void *in, size_t len);
/* out = HMAC-BLAKE2s(key, in), 32 bytes (RFC 2104 with a 64-byte block). */
void wg_blake2s_hmac(uint8_t out[WG_BLAKE2S_HASH_LEN], const uint8_t *key, size_t keylen,
		     const void *in, size_t len);
/*
 * WireGuard's KDFn(key, input): T0 = HMAC(key, input); T1 = HMAC(T0, 0x1);
 * T2 = HMAC(T0, T1 || 0x2); T3 = HMAC(T0, T2 || 0x3). Writes T1 to t1 and,
 * when non-NULL, T2 to t2 and T3 to t3 (32 bytes each). t3 requires t2.
 * Intermediate values are wiped. Outputs may alias key.
 */
void wg_blake2s_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t key[WG_BLAKE2S_HASH_LEN],
		    const void *in, size_t len);

#endif
