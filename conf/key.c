/* SPDX-License-Identifier: MIT */
/*
 * Base64 WireGuard keys. 32 bytes are 256 bits: 42 full symbols (252 bits),
 * a 43rd symbol carrying the last 4 bits in its high bits (its 2 low bits
 * must be zero to be canonical), then one '=' of padding.
 */
#include "conf/key.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secure.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* value of one symbol, or -1 */
static int symbol(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool wg_key_from_base64(uint8_t out[WG_KEY_LEN], const char *s, size_t len)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;

	memset(out, 0, WG_KEY_LEN);
	if (len != WG_KEY_B64_LEN || s[WG_KEY_B64_LEN - 1] != '=')
		return false;
	for (size_t i = 0; i < WG_KEY_B64_LEN - 1; i++) {
		int v = symbol(s[i]);

		if (v < 0)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* 43 symbols: 32 bytes and 2 bits left over, which must be zero */
	if (n != WG_KEY_LEN || bits != 2 || acc != 0)
		goto bad;
	return true;
bad:
	wg_secure_wipe(out, WG_KEY_LEN);
	return false;
}

void wg_key_to_base64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN])
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < WG_KEY_LEN; i++) {
		acc = acc << 8 | key[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[n++] = alphabet[(acc >> bits) & 63];
		}
		acc &= (1u << bits) - 1;
	}
	out[n++] = alphabet[(acc << (6 - bits)) & 63]; /* bits == 4 here */
	out[n++] = '=';
	out[n] = '\0';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int wg_key_read_file(uint8_t out[WG_KEY_LEN], const char *path)
{
	char buf[4097];
	size_t len = 0;
	int fd, ret = 0;

	memset(out, 0, WG_KEY_LEN);
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf)) {
			ret = -EFBIG;
			goto out;
		}
	}
	while (len && is_space(buf[len - 1]))
		len--;
	if (!wg_key_from_base64(out, buf, len))
		ret = -EINVAL;
out:
	wg_secure_wipe(buf, sizeof(buf));
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}
