// SPDX-License-Identifier: MIT
/*
 * BLAKE2s and WireGuard's constructions on it (whitepaper section 5.4):
 *
 *   HASH(x)      = BLAKE2s-256(x)
 *   MAC(k, x)    = BLAKE2s-128 keyed with k (mac1, mac2, cookies)
 *   HMAC(k, x)   = RFC 2104 over BLAKE2s-256 with a 64-byte block
 *   KDFn(k, x)   = T0 = HMAC(k, x), T1 = HMAC(T0, 0x1),
 *                  Ti = HMAC(T0, Ti-1 || i) for i = 2, 3
 *
 * Every intermediate that depends on a key (the padded key, the inner hash,
 * T0, the hash states) is wiped before returning. All outputs are written
 * only after every input has been consumed, so outputs may alias inputs.
 */
#include "crypto/blake2s.h"

#include <blake2.h>
#include <string.h>

#include "crypto/secure.h"

_Static_assert(WG_BLAKE2S_HASH_LEN == BLAKE2S_OUTBYTES, "BLAKE2s output length");
_Static_assert(WG_BLAKE2S_BLOCK_LEN == BLAKE2S_BLOCKBYTES, "BLAKE2s block length");

/* libb2 rejects NULL with a non-zero length only; skip empty updates anyway */
static void update(blake2s_state *s, const void *in, size_t len)
{
	if (len)
		blake2s_update(s, in, len);
}

void wg_blake2s_hash(uint8_t out[WG_BLAKE2S_HASH_LEN], const void *in, size_t len)
{
	blake2s_state s;

	blake2s_init(&s, WG_BLAKE2S_HASH_LEN);
	update(&s, in, len);
	blake2s_final(&s, out, WG_BLAKE2S_HASH_LEN);
	wg_secure_wipe(&s, sizeof(s));
}

void wg_blake2s_hash2(uint8_t out[WG_BLAKE2S_HASH_LEN], const void *a, size_t alen,
		      const void *b, size_t blen)
{
	blake2s_state s;

	blake2s_init(&s, WG_BLAKE2S_HASH_LEN);
	update(&s, a, alen);
	update(&s, b, blen);
	blake2s_final(&s, out, WG_BLAKE2S_HASH_LEN);
	wg_secure_wipe(&s, sizeof(s));
}

void wg_blake2s_mac(uint8_t out[WG_BLAKE2S_MAC_LEN], const uint8_t *key, size_t keylen,
		    const void *in, size_t len)
{
	blake2s_state s;

	blake2s_init_key(&s, WG_BLAKE2S_MAC_LEN, key, keylen);
	update(&s, in, len);
	blake2s_final(&s, out, WG_BLAKE2S_MAC_LEN);
	wg_secure_wipe(&s, sizeof(s));
}

void wg_blake2s_hmac(uint8_t out[WG_BLAKE2S_HASH_LEN], const uint8_t *key, size_t keylen,
		     const void *in, size_t len)
{
	uint8_t pad[WG_BLAKE2S_BLOCK_LEN] = { 0 };
	uint8_t ihash[WG_BLAKE2S_HASH_LEN];
	blake2s_state s;
	size_t i;

	/* keys longer than a block are replaced by their hash (RFC 2104 section 2) */
	if (keylen > WG_BLAKE2S_BLOCK_LEN)
		wg_blake2s_hash(pad, key, keylen);
	else if (keylen)
		memcpy(pad, key, keylen);

	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36;
	blake2s_init(&s, WG_BLAKE2S_HASH_LEN);
	update(&s, pad, sizeof(pad));
	update(&s, in, len);
	blake2s_final(&s, ihash, sizeof(ihash));

	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	blake2s_init(&s, WG_BLAKE2S_HASH_LEN);
	update(&s, pad, sizeof(pad));
	update(&s, ihash, sizeof(ihash));
	blake2s_final(&s, out, WG_BLAKE2S_HASH_LEN);

	wg_secure_wipe(&s, sizeof(s));
	wg_secure_wipe(pad, sizeof(pad));
	wg_secure_wipe(ihash, sizeof(ihash));
}

void wg_blake2s_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t key[WG_BLAKE2S_HASH_LEN],
		    const void *in, size_t len)
{
	uint8_t t0[WG_BLAKE2S_HASH_LEN];
	/* Ti followed by the counter byte i + 1: the input of the next round */
	uint8_t t[WG_BLAKE2S_HASH_LEN + 1];

	wg_blake2s_hmac(t0, key, WG_BLAKE2S_HASH_LEN, in, len);

	t[0] = 0x1;
	wg_blake2s_hmac(t, t0, sizeof(t0), t, 1);
	memcpy(t1, t, WG_BLAKE2S_HASH_LEN);

	if (t2 || t3) {
		t[WG_BLAKE2S_HASH_LEN] = 0x2;
		wg_blake2s_hmac(t, t0, sizeof(t0), t, sizeof(t));
		if (t2)
			memcpy(t2, t, WG_BLAKE2S_HASH_LEN);
	}
	if (t3) {
		t[WG_BLAKE2S_HASH_LEN] = 0x3;
		wg_blake2s_hmac(t, t0, sizeof(t0), t, sizeof(t));
		memcpy(t3, t, WG_BLAKE2S_HASH_LEN);
	}

	wg_secure_wipe(t0, sizeof(t0));
	wg_secure_wipe(t, sizeof(t));
}
