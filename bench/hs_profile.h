/* SPDX-License-Identifier: MIT */
/*
 * Counted and timed library calls for handshake_bench. The bench is linked
 * with -Wl,--wrap=SYMBOL for the libsodium and libb2 functions libwgcrypto
 * calls (bench/meson.build lists them), so every such call from the crypto
 * library passes through a wrapper in hs_profile.c. Between
 * hs_prof_start() and hs_prof_stop() the wrappers count the calls and read
 * the TSC around each; otherwise they cost one branch.
 */
#ifndef WG_BENCH_HS_PROFILE_H
#define WG_BENCH_HS_PROFILE_H

#include <stdint.h>

enum hs_prof_item {
	HS_PROF_X25519,      /* crypto_scalarmult: a DH */
	HS_PROF_X25519_BASE, /* crypto_scalarmult_base: a public key */
	HS_PROF_BLAKE2S,     /* unkeyed BLAKE2s: HASH, HMAC (so KDF1/2/3) */
	HS_PROF_BLAKE2S_KEY, /* keyed BLAKE2s-128: mac1, mac2, the cookie */
	HS_PROF_AEAD_STATIC, /* open of an initiation's encrypted static (32 B) */
	HS_PROF_AEAD_TS,     /* open of its encrypted timestamp (12 B) */
	HS_PROF_AEAD_EMPTY,  /* seal of a response's empty payload */
	HS_PROF_AEAD_OTHER,
	HS_PROF_RANDOM,      /* randombytes_buf and sodium_init: a private key */
	HS_PROF_WIPE,        /* sodium_memzero */
	HS_PROF_COMPARE,     /* sodium_memcmp, sodium_is_zero */
	HS_PROF_N,
};

extern const char *const hs_prof_names[HS_PROF_N];

/* calls (a BLAKE2s computation counts once, at its final) and TSC ticks per item */
struct hs_prof {
	uint64_t calls[HS_PROF_N];
	uint64_t ticks[HS_PROF_N];
};

uint64_t hs_prof_tsc(void);
/* start counting and timing (from zero) */
void hs_prof_start(void);
/* stop, and add what was counted since hs_prof_start() to *sum */
void hs_prof_stop(struct hs_prof *sum);

#endif
