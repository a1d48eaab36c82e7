// SPDX-License-Identifier: MIT
/*
 * ChaCha20-Poly1305 (RFC 8439) and XChaCha20-Poly1305
 * (draft-irtf-cfrg-xchacha) on libsodium, one message at a time.
 *
 * WireGuard's 96-bit nonce is 4 zero bytes followed by the 64-bit
 * little-endian counter. XChaCha20-Poly1305 (cookie replies) derives a
 * subkey with HChaCha20 over the first 16 nonce bytes and then runs the
 * IETF construction with the nonce 4 zero bytes || the last 8 nonce bytes.
 *
 * Decryption verifies the tag before writing a single byte of output:
 * libsodium's _decrypt_detached clears the output buffer on a bad tag, which
 * would destroy the caller's buffer (and its ciphertext when decrypting in
 * place). We therefore ask libsodium to only verify (m == NULL), then run
 * the ChaCha20 stream from block counter 1 exactly as libsodium would.
 */
#include "crypto/aead.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "crypto/secure.h"

#define IETF_NONCE_LEN 12u

_Static_assert(WG_AEAD_KEY_LEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES, "key length");
_Static_assert(WG_AEAD_TAG_BYTES == crypto_aead_chacha20poly1305_ietf_ABYTES, "tag length");
_Static_assert(IETF_NONCE_LEN == crypto_aead_chacha20poly1305_ietf_NPUBBYTES, "nonce length");
_Static_assert(WG_XAEAD_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "xnonce length");

static void counter_nonce(uint8_t nonce[IETF_NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (unsigned i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

static void seal(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		 const uint8_t nonce[IETF_NONCE_LEN], const uint8_t key[WG_AEAD_KEY_LEN])
{
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(dst, dst + len, NULL, src, len, ad, adlen,
							   NULL, nonce, key);
}

static int open_(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad, size_t adlen,
		 const uint8_t nonce[IETF_NONCE_LEN], const uint8_t key[WG_AEAD_KEY_LEN])
{
	size_t len;

	if (srclen < WG_AEAD_TAG_BYTES)
		return -EBADMSG;
	len = srclen - WG_AEAD_TAG_BYTES;
	/* verify only: with m == NULL libsodium writes nothing */
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(NULL, NULL, src, len, src + len, ad,
							       adlen, nonce, key) != 0)
		return -EBADMSG;
	/* block 0 keyed Poly1305; the payload starts at block counter 1 */
	crypto_stream_chacha20_ietf_xor_ic(dst, src, len, nonce, 1, key);
	return 0;
}

void wg_aead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		     uint64_t counter, const uint8_t key[WG_AEAD_KEY_LEN])
{
	uint8_t nonce[IETF_NONCE_LEN];

	counter_nonce(nonce, counter);
	seal(dst, src, len, ad, adlen, nonce, key);
}

int wg_aead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad, size_t adlen,
		    uint64_t counter, const uint8_t key[WG_AEAD_KEY_LEN])
{
	uint8_t nonce[IETF_NONCE_LEN];

	counter_nonce(nonce, counter);
	return open_(dst, src, srclen, ad, adlen, nonce, key);
}

/* subkey = HChaCha20(key, nonce[0..16)); inner nonce = 0^4 || nonce[16..24) */
static void xderive(uint8_t subkey[WG_AEAD_KEY_LEN], uint8_t inner[IETF_NONCE_LEN],
		    const uint8_t nonce[WG_XAEAD_NONCE_LEN], const uint8_t key[WG_AEAD_KEY_LEN])
{
	crypto_core_hchacha20(subkey, nonce, key, NULL);
	memset(inner, 0, 4);
	memcpy(inner + 4, nonce + 16, 8);
}

void wg_xaead_encrypt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t *ad, size_t adlen,
		      const uint8_t nonce[WG_XAEAD_NONCE_LEN], const uint8_t key[WG_AEAD_KEY_LEN])
{
	uint8_t subkey[WG_AEAD_KEY_LEN], inner[IETF_NONCE_LEN];

	xderive(subkey, inner, nonce, key);
	seal(dst, src, len, ad, adlen, inner, subkey);
	wg_secure_wipe(subkey, sizeof(subkey));
}

int wg_xaead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad, size_t adlen,
		     const uint8_t nonce[WG_XAEAD_NONCE_LEN], const uint8_t key[WG_AEAD_KEY_LEN])
{
	uint8_t subkey[WG_AEAD_KEY_LEN], inner[IETF_NONCE_LEN];
	int ret;

	xderive(subkey, inner, nonce, key);
	ret = open_(dst, src, srclen, ad, adlen, inner, subkey);
	wg_secure_wipe(subkey, sizeof(subkey));
	return ret;
}
