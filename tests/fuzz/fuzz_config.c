/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the config file parser (conf/config.c and the files
 * it uses). Any input either fails with -EINVAL and a one-line message that
 * names the input, or parses; what parses must be written by wg_conf_write
 * and read back to an equal configuration. Names in Endpoint are never
 * resolved (no DNS from a fuzzer).
 *
 * The first input byte picks a prefix put before the rest, so the fuzzer
 * need not rediscover a valid [Interface] and [Appliance] to reach the
 * [Peer] and cross-section checks: 0 none, 1 [Interface], 2 [Interface] and
 * [Appliance], 3 both and an open [Peer].
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"

static const char *const prefixes[] = {
	"",
	"[Interface]\nPrivateKey = 8B3P4I0Zm/DXDUXKZGqhSm0w6pFKjKJF43bSUhBNwl0=\n",
	"[Interface]\nPrivateKey = 8B3P4I0Zm/DXDUXKZGqhSm0w6pFKjKJF43bSUhBNwl0=\n"
	"[Appliance]\nOutsideDevice = net_tap0\nOutsideAddress = 192.0.2.1/24\n",
	"[Interface]\nPrivateKey = 8B3P4I0Zm/DXDUXKZGqhSm0w6pFKjKJF43bSUhBNwl0=\n"
	"[Appliance]\nOutsideDevice = net_tap0\nOutsideAddress = 192.0.2.1/24\n"
	"[Peer]\nPublicKey = SYD6N7dcEh1AHJRF6lwfK5Vl3hYR5Rb+k+KAm5ErSVI=\n",
};

static void count(void *arg, const char *msg)
{
	if (!*msg)
		abort();
	++*(unsigned *)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned warnings = 0;
	struct wg_conf_parse_opts opts = { .numeric_endpoints = true, .warn = count,
					   .warn_arg = &warnings };
	struct wg_conf c, back;
	char err[512], *text, *out = NULL;
	size_t plen, olen = 0;
	const char *prefix;
	FILE *f;
	int ret;

	if (!size)
		return 0;
	prefix = prefixes[data[0] % 4];
	plen = strlen(prefix);
	text = malloc(plen + size);
	if (!text)
		return 0;
	memcpy(text, prefix, plen);
	memcpy(text + plen, data + 1, size - 1);
	ret = wg_conf_parse_buffer_opts("f.conf", text, plen + size - 1, &opts, &c, err, sizeof(err));
	free(text);
	if (ret) {
		if (ret != -EINVAL || strncmp(err, "f.conf:", 7) || strchr(err, '\n'))
			abort();
		return 0;
	}

	f = open_memstream(&out, &olen);
	if (!f || wg_conf_write(f, &c, true))
		abort();
	fclose(f);
	ret = wg_conf_parse_buffer_opts("written.conf", out, olen, &opts, &back, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "written config does not parse: %s\n%s", err, out);
		abort();
	}
	if (!wg_conf_equal(&c, &back)) {
		fprintf(stderr, "written config parses to something else:\n%s", out);
		abort();
	}
	free(out);
	wg_conf_free(&back);

	/* without secrets: still writes, with no key line for a secret (the key's
	 * text may appear elsewhere: the fuzzer copies it into devargs) */
	out = NULL;
	f = open_memstream(&out, &olen);
	if (!f || wg_conf_write(f, &c, false))
		abort();
	fclose(f);
	if (strstr(out, "\nPrivateKey =") || strstr(out, "\nPresharedKey ="))
		abort();
	free(out);
	wg_conf_free(&c);
	return 0;
}
