/* SPDX-License-Identifier: MIT */
/*
 * The --wrap'ed library calls of handshake_bench (hs_profile.h). A
 * BLAKE2s computation is init (or init_key), updates and a final: its time
 * goes to the item its init chose, and it is counted once, at the final.
 * wg_aead_decrypt is a verify (decrypt_detached without output) and then a
 * stream xor: both timed, counted once.
 */
#include "bench/hs_profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <blake2.h>
#include <sodium.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "dataplane/messages.h"

const char *const hs_prof_names[HS_PROF_N] = {
	"X25519 variable base (DH)", "X25519 fixed base (E_r public)", "BLAKE2s (HASH, HMAC/KDF)",
	"BLAKE2s keyed (mac1, mac2, cookie)", "AEAD open static (32 B)", "AEAD open timestamp (12 B)",
	"AEAD seal empty (0 B)", "AEAD other", "randombytes (E_r private)", "wipes (sodium_memzero)",
	"constant-time compares",
};

static uint64_t prof_calls[HS_PROF_N], prof_ticks[HS_PROF_N];
static bool prof_on;
static enum hs_prof_item blake_item = HS_PROF_BLAKE2S;

uint64_t hs_prof_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

static inline uint64_t prof_begin(void)
{
	return prof_on ? hs_prof_tsc() : 0;
}

/* count is false for the parts of one logical operation after its first call */
static inline void prof_end(enum hs_prof_item item, uint64_t t0, bool count)
{
	if (!prof_on)
		return;
	prof_ticks[item] += hs_prof_tsc() - t0;
	prof_calls[item] += count;
}

static enum hs_prof_item aead_item(unsigned long long len, bool seal)
{
	if (seal)
		return len == 0 ? HS_PROF_AEAD_EMPTY : HS_PROF_AEAD_OTHER;
	return len == WG_KEY_LEN ? HS_PROF_AEAD_STATIC : len == WG_TIMESTAMP_LEN ? HS_PROF_AEAD_TS : HS_PROF_AEAD_OTHER;
}

int __real_crypto_scalarmult(unsigned char *q, const unsigned char *n, const unsigned char *p);
int __real_crypto_scalarmult_base(unsigned char *q, const unsigned char *n);
int __real_blake2s_init(blake2s_state *S, size_t outlen);
int __real_blake2s_init_key(blake2s_state *S, size_t outlen, const void *key, size_t keylen);
int __real_blake2s_update(blake2s_state *S, const uint8_t *in, size_t inlen);
int __real_blake2s_final(blake2s_state *S, uint8_t *out, size_t outlen);
int __real_crypto_aead_chacha20poly1305_ietf_encrypt_detached(
	unsigned char *c, unsigned char *mac, unsigned long long *maclen_p, const unsigned char *m,
	unsigned long long mlen, const unsigned char *ad, unsigned long long adlen, const unsigned char *nsec,
	const unsigned char *npub, const unsigned char *k);
int __real_crypto_aead_chacha20poly1305_ietf_decrypt_detached(
	unsigned char *m, unsigned char *nsec, const unsigned char *c, unsigned long long clen,
	const unsigned char *mac, const unsigned char *ad, unsigned long long adlen, const unsigned char *npub,
	const unsigned char *k);
int __real_crypto_stream_chacha20_ietf_xor_ic(unsigned char *c, const unsigned char *m, unsigned long long mlen,
					      const unsigned char *n, uint32_t ic, const unsigned char *k);
void __real_randombytes_buf(void *buf, size_t size);
int __real_sodium_init(void);
void __real_sodium_memzero(void *pnt, size_t len);
int __real_sodium_memcmp(const void *b1, const void *b2, size_t len);
int __real_sodium_is_zero(const unsigned char *n, size_t nlen);

int __wrap_crypto_scalarmult(unsigned char *q, const unsigned char *n, const unsigned char *p);
int __wrap_crypto_scalarmult_base(unsigned char *q, const unsigned char *n);
int __wrap_blake2s_init(blake2s_state *S, size_t outlen);
int __wrap_blake2s_init_key(blake2s_state *S, size_t outlen, const void *key, size_t keylen);
int __wrap_blake2s_update(blake2s_state *S, const uint8_t *in, size_t inlen);
int __wrap_blake2s_final(blake2s_state *S, uint8_t *out, size_t outlen);
int __wrap_crypto_aead_chacha20poly1305_ietf_encrypt_detached(
	unsigned char *c, unsigned char *mac, unsigned long long *maclen_p, const unsigned char *m,
	unsigned long long mlen, const unsigned char *ad, unsigned long long adlen, const unsigned char *nsec,
	const unsigned char *npub, const unsigned char *k);
int __wrap_crypto_aead_chacha20poly1305_ietf_decrypt_detached(
	unsigned char *m, unsigned char *nsec, const unsigned char *c, unsigned long long clen,
	const unsigned char *mac, const unsigned char *ad, unsigned long long adlen, const unsigned char *npub,
	const unsigned char *k);
int __wrap_crypto_stream_chacha20_ietf_xor_ic(unsigned char *c, const unsigned char *m, unsigned long long mlen,
					      const unsigned char *n, uint32_t ic, const unsigned char *k);
void __wrap_randombytes_buf(void *buf, size_t size);
int __wrap_sodium_init(void);
void __wrap_sodium_memzero(void *pnt, size_t len);
int __wrap_sodium_memcmp(const void *b1, const void *b2, size_t len);
int __wrap_sodium_is_zero(const unsigned char *n, size_t nlen);

int __wrap_crypto_scalarmult(unsigned char *q, const unsigned char *n, const unsigned char *p)
{
	uint64_t t = prof_begin();
	int r = __real_crypto_scalarmult(q, n, p);

	prof_end(HS_PROF_X25519, t, true);
	return r;
}

int __wrap_crypto_scalarmult_base(unsigned char *q, const unsigned char *n)
{
	uint64_t t = prof_begin();
	int r = __real_crypto_scalarmult_base(q, n);

	prof_end(HS_PROF_X25519_BASE, t, true);
	return r;
}

/* a BLAKE2s computation is init(_key), updates, final: counted at its final */
int __wrap_blake2s_init(blake2s_state *S, size_t outlen)
{
	uint64_t t = prof_begin();
	int r = __real_blake2s_init(S, outlen);

	blake_item = HS_PROF_BLAKE2S;
	prof_end(blake_item, t, false);
	return r;
}

int __wrap_blake2s_init_key(blake2s_state *S, size_t outlen, const void *key, size_t keylen)
{
	uint64_t t = prof_begin();
	int r = __real_blake2s_init_key(S, outlen, key, keylen);

	blake_item = HS_PROF_BLAKE2S_KEY;
	prof_end(blake_item, t, false);
	return r;
}

int __wrap_blake2s_update(blake2s_state *S, const uint8_t *in, size_t inlen)
{
	uint64_t t = prof_begin();
	int r = __real_blake2s_update(S, in, inlen);

	prof_end(blake_item, t, false);
	return r;
}

int __wrap_blake2s_final(blake2s_state *S, uint8_t *out, size_t outlen)
{
	uint64_t t = prof_begin();
	int r = __real_blake2s_final(S, out, outlen);

	prof_end(blake_item, t, true);
	return r;
}

int __wrap_crypto_aead_chacha20poly1305_ietf_encrypt_detached(
	unsigned char *c, unsigned char *mac, unsigned long long *maclen_p, const unsigned char *m,
	unsigned long long mlen, const unsigned char *ad, unsigned long long adlen, const unsigned char *nsec,
	const unsigned char *npub, const unsigned char *k)
{
	uint64_t t = prof_begin();
	int r = __real_crypto_aead_chacha20poly1305_ietf_encrypt_detached(c, mac, maclen_p, m, mlen, ad, adlen,
									   nsec, npub, k);

	prof_end(aead_item(mlen, true), t, true);
	return r;
}

/* wg_aead_decrypt verifies first (this call), then decrypts (the stream xor below) */
int __wrap_crypto_aead_chacha20poly1305_ietf_decrypt_detached(
	unsigned char *m, unsigned char *nsec, const unsigned char *c, unsigned long long clen,
	const unsigned char *mac, const unsigned char *ad, unsigned long long adlen, const unsigned char *npub,
	const unsigned char *k)
{
	uint64_t t = prof_begin();
	int r = __real_crypto_aead_chacha20poly1305_ietf_decrypt_detached(m, nsec, c, clen, mac, ad, adlen, npub, k);

	prof_end(aead_item(clen, false), t, true);
	return r;
}

int __wrap_crypto_stream_chacha20_ietf_xor_ic(unsigned char *c, const unsigned char *m, unsigned long long mlen,
					      const unsigned char *n, uint32_t ic, const unsigned char *k)
{
	uint64_t t = prof_begin();
	int r = __real_crypto_stream_chacha20_ietf_xor_ic(c, m, mlen, n, ic, k);

	prof_end(aead_item(mlen, false), t, false);
	return r;
}

void __wrap_randombytes_buf(void *buf, size_t size)
{
	uint64_t t = prof_begin();

	__real_randombytes_buf(buf, size);
	prof_end(HS_PROF_RANDOM, t, true);
}

int __wrap_sodium_init(void)
{
	uint64_t t = prof_begin();
	int r = __real_sodium_init();

	prof_end(HS_PROF_RANDOM, t, false);
	return r;
}

void __wrap_sodium_memzero(void *pnt, size_t len)
{
	uint64_t t = prof_begin();

	__real_sodium_memzero(pnt, len);
	prof_end(HS_PROF_WIPE, t, true);
}

int __wrap_sodium_memcmp(const void *b1, const void *b2, size_t len)
{
	uint64_t t = prof_begin();
	int r = __real_sodium_memcmp(b1, b2, len);

	prof_end(HS_PROF_COMPARE, t, true);
	return r;
}

int __wrap_sodium_is_zero(const unsigned char *n, size_t nlen)
{
	uint64_t t = prof_begin();
	int r = __real_sodium_is_zero(n, nlen);

	prof_end(HS_PROF_COMPARE, t, true);
	return r;
}

void hs_prof_start(void)
{
	for (int i = 0; i < HS_PROF_N; i++)
		prof_calls[i] = prof_ticks[i] = 0;
	prof_on = true;
}

void hs_prof_stop(struct hs_prof *sum)
{
	prof_on = false;
	for (int i = 0; i < HS_PROF_N; i++) {
		sum->calls[i] += prof_calls[i];
		sum->ticks[i] += prof_ticks[i];
	}
}
