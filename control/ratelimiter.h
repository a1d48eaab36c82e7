/* SPDX-License-Identifier: MIT */
/*
 * Per-source token bucket for handshake messages when the control plane is
 * under load: 20 packets per second with a burst of 5, keyed on the IPv4 /32
 * or the IPv6 /64 of the sender. A fixed-size open-addressing table with a
 * random hash key; entries idle for over a second are reclaimed by
 * wg_ratelimiter_gc(). Time is an argument. Owned by one thread.
 */
#ifndef WG_RATELIMITER_H
#define WG_RATELIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

struct wg_ratelimiter;

/* max_entries: sources tracked at once (rounded up to a power of two). 0 or -errno. */
int wg_ratelimiter_create(struct wg_ratelimiter **out, size_t max_entries);
void wg_ratelimiter_destroy(struct wg_ratelimiter *rl);
/* true when a handshake message from src may be processed now. When the table is full, false. */
bool wg_ratelimiter_allow(struct wg_ratelimiter *rl, const struct wg_endpoint *src, uint64_t now_ns);
/* drop entries idle for over one second. */
void wg_ratelimiter_gc(struct wg_ratelimiter *rl, uint64_t now_ns);
/* number of sources currently tracked */
size_t wg_ratelimiter_count(const struct wg_ratelimiter *rl);

#endif
