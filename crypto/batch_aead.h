/* SPDX-License-Identifier: MIT */
/*
 * Batch ChaCha20-Poly1305 for the data path, through intel-ipsec-mb on the
 * best instruction set the CPU offers (AVX-512, AVX2, SSE). Each job is an
 * independent message with its own key and 64-bit counter (nonce = 4 zero
 * bytes || le64 counter) and no associated data, as WireGuard transport
 * messages are.
 *
 * Decryption verifies every tag in constant time. A job whose tag does not
 * match gets -EBADMSG and its output buffer is wiped: forged plaintext is
 * never released, and the other jobs of the batch are unaffected.
 *
 * A struct wg_batch_aead holds one intel-ipsec-mb manager: use one per thread.
 */
#ifndef WG_BATCH_AEAD_H
#define WG_BATCH_AEAD_H

#include <stdint.h>

enum wg_batch_dir {
	WG_BATCH_ENCRYPT,
	WG_BATCH_DECRYPT,
};

struct wg_aead_job {
	const uint8_t *key; /* 32 bytes */
	uint64_t counter;
	const uint8_t *src; /* encrypt: plaintext; decrypt: ciphertext || tag */
	uint8_t *dst;       /* encrypt: ciphertext || tag; decrypt: plaintext. May equal src. */
	uint32_t len;       /* plaintext length, tag excluded */
	int status;         /* out: 0, -EBADMSG (forged), -EINVAL (bad job) */
};

struct wg_batch_aead;

/* arch: NULL or "auto" for the best available, or "avx512", "avx2", "sse". 0 or -errno. */
int wg_batch_aead_create(struct wg_batch_aead **out, const char *arch);
void wg_batch_aead_destroy(struct wg_batch_aead *ba);
/* name of the instruction set in use, e.g. "avx512" */
const char *wg_batch_aead_arch(const struct wg_batch_aead *ba);
/* Runs all n jobs; sets each job's status. Returns how many succeeded. */
unsigned wg_batch_aead_run(struct wg_batch_aead *ba, enum wg_batch_dir dir, struct wg_aead_job *jobs,
			   unsigned n);

#endif
