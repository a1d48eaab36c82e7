// SPDX-License-Identifier: MIT
/*
 * Constant-time comparison, secure wiping and randomness, all on libsodium.
 *
 * The comparisons never branch on the data: their running time depends on
 * len only, so comparing a received MAC or tag against the expected one
 * leaks nothing about where the first difference is.
 */
#include "crypto/secure.h"

#include <errno.h>
#include <sodium.h>

bool wg_secure_equal(const void *a, const void *b, size_t len)
{
	/* sodium_memcmp is constant time and returns 0 when equal, -1 otherwise */
	return len == 0 || sodium_memcmp(a, b, len) == 0;
}

bool wg_secure_is_zero(const void *p, size_t len)
{
	return len == 0 || sodium_is_zero(p, len) == 1;
}

void wg_secure_wipe(void *p, size_t len)
{
	if (len)
		sodium_memzero(p, len);
}

void wg_secure_random(void *p, size_t len)
{
	wg_crypto_init();
	randombytes_buf(p, len);
}

uint32_t wg_secure_random_u32(void)
{
	wg_crypto_init();
	return randombytes_random();
}

/*
 * sodium_init() returns 0 on first success, 1 when already initialised and
 * -1 on failure; it is itself thread safe and idempotent, so this may be
 * called lazily from anywhere.
 */
int wg_crypto_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}
