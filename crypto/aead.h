/* SPDX-License-Identifier: MIT */
/*
 * ChaCha20-Poly1305 (RFC 8439) and XChaCha20-Poly1305 on libsodium, one
 * message at a time, for handshake and cookie messages. The 96-bit nonce of
 * the IETF construction is 4 zero bytes followed by the 64-bit little-endian
 * counter, as WireGuard uses it.
 */
#ifndef WG_AEAD_H
#define WG_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define WG_AEAD_KEY_LEN 32u
#define WG_AEAD_TAG_BYTES 16u
#define WG_XAEAD_NONCE_LEN 24u

/* dst (len + 16 bytes) = seal(src, ad). dst may equal src. */
void wg_aead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		     uint64_t counter, const uint8_t key[WG_AEAD_KEY_LEN]);
/*
 * dst (srclen - 16 bytes) = open(src, ad) where srclen includes the tag.
 * Returns 0, or -EBADMSG (bad tag or srclen < 16) with dst untouched.
 */
int wg_aead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad, size_t adlen,
		    uint64_t counter, const uint8_t key[WG_AEAD_KEY_LEN]);
void wg_xaead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		      const uint8_t nonce[WG_XAEAD_NONCE_LEN], const uint8_t key[WG_AEAD_KEY_LEN]);
int wg_xaead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad, size_t adlen,
		     const uint8_t nonce[WG_XAEAD_NONCE_LEN], const uint8_t key[WG_AEAD_KEY_LEN]);

#endif
