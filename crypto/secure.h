/* SPDX-License-Identifier: MIT */
/* Constant-time comparison, secure wiping and randomness. */
#ifndef WG_SECURE_H
#define WG_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* true when a and b are equal; time depends only on len. */
bool wg_secure_equal(const void *a, const void *b, size_t len);
/* true when every byte of p is zero; time depends only on len. */
bool wg_secure_is_zero(const void *p, size_t len);
/* zero p in a way the compiler may not elide. */
void wg_secure_wipe(void *p, size_t len);
/* fill p with len bytes from the system CSPRNG (libsodium). */
void wg_secure_random(void *p, size_t len);
/* a uniformly random 32-bit value (index allocation, jitter). */
uint32_t wg_secure_random_u32(void);
/* call once before any other crypto function; 0 or -errno. Safe to call twice. */
int wg_crypto_init(void);

#endif
