/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wgprobe's parser of decrypted tunnel packets
 * (tools/probe_icmp.c): any input either fails with one of the documented
 * errors or yields an echo reply whose payload lies inside the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "tools/probe_icmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_probe_echo e;
	int ret = wg_probe_icmp_parse_reply(data, size, &e);

	if (ret == 0) {
		if (e.family != AF_INET && e.family != AF_INET6)
			abort();
		if (e.payload_len && (e.payload < data || e.payload + e.payload_len > data + size))
			abort();
		(void)wg_probe_icmp_matches(&e, &e);
	} else if (ret != -EINVAL && ret != -EBADMSG && ret != -ENOMSG) {
		abort();
	}
	return 0;
}
