/* SPDX-License-Identifier: MIT */
/*
 * WireGuard keys as wg(8) writes them: 32 bytes in standard base64 (RFC 4648
 * section 4), 44 characters ending in one '='. Decoding is strict: exactly
 * that form, canonical (the unused low bits of the last symbol are zero), no
 * whitespace inside.
 */
#ifndef WG_CONF_KEY_H
#define WG_CONF_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/messages.h"

#define WG_KEY_B64_LEN 44u

/* Decode s[0..len) into out. false (out zeroed) unless it is a valid key. */
bool wg_key_from_base64(uint8_t out[WG_KEY_LEN], const char *s, size_t len);
/* Encode key as 44 characters plus a NUL into out. */
void wg_key_to_base64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN]);

/*
 * Read a key file (path, or "-" for standard input): at most 4 KiB, the key
 * optionally followed by whitespace (wg genkey ends it with a newline).
 * 0, -EINVAL (not a key), -EFBIG (too long) or -errno of open/read. The read
 * buffer is wiped.
 */
int wg_key_read_file(uint8_t out[WG_KEY_LEN], const char *path);

#endif
