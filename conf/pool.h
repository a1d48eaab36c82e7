/* SPDX-License-Identifier: MIT */
/*
 * Address pools: the prefixes (AddressPool) from which the REST API hands
 * out client tunnel addresses, one host address (/32 or /128) at a time.
 * A pure data structure for the control thread: no I/O, no locks, no DPDK.
 *
 * Never handed out (wg_pool_reserve says -EDOM, wg_pool_is_taken false):
 *  - IPv4 shorter than /31: the network and the broadcast address. A /31
 *    hands out both of its addresses (RFC 3021), a /32 its one address.
 *  - IPv6 shorter than /127: the subnet-router anycast address (all host
 *    bits zero). A /127 hands out both (RFC 6164), a /128 its one address.
 *
 * Addresses are 16 bytes as in struct wg_conf_prefix: an IPv4 address in the
 * first 4, the other 12 zero. An address with any of those 12 bytes set is
 * not IPv4 and so never inside an IPv4 pool; the bytes alone cannot tell an
 * IPv6 address such as 0a08:1:: from 10.8.0.1, so callers check the family
 * against wg_pool_prefix(p)->family first.
 *
 * Allocation hands out the lowest free address. What the pool does depends
 * only on its set of taken addresses, never on the history that built it,
 * so a change can be applied in two phases: wg_pool_alloc / wg_pool_reserve
 * now, and on rollback wg_pool_release of what was taken, which restores the
 * pool exactly (the same addresses free, the same next allocations) and
 * cannot fail for an address that is taken. Memory grown on the way is kept.
 *
 * Single-threaded: every call, reads included, from the control thread.
 */
#ifndef WG_CONF_POOL_H
#define WG_CONF_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

struct wg_pool;

/*
 * A pool over prefix: AF_INET with cidr 0..32 or AF_INET6 with 0..128, host
 * bits zero (flags are ignored). 0, -EINVAL (bad prefix) or -ENOMEM.
 */
int wg_pool_create(struct wg_pool **out, const struct wg_conf_prefix *prefix);
/* NULL is fine */
void wg_pool_destroy(struct wg_pool *p);

/*
 * Take addr (an address given to a peer, the interface's own address).
 * 0, -EDOM (outside the pool or never handed out), -EADDRINUSE (taken) or
 * -ENOMEM.
 */
int wg_pool_reserve(struct wg_pool *p, const uint8_t addr[16]);
/*
 * Take the lowest free address: 0 with addr filled (4 or 16 bytes, the rest
 * zero), -ENOSPC when every address is taken or -ENOMEM; on an error
 * nothing changes, addr included. Amortized O(log n).
 */
int wg_pool_alloc(struct wg_pool *p, uint8_t addr[16]);
/*
 * Give back a taken address (allocated or reserved): 0, -ENOENT (not taken)
 * or -EDOM (outside the pool or never handed out). Never allocates.
 */
int wg_pool_release(struct wg_pool *p, const uint8_t addr[16]);

/* addr lies inside the prefix (the never-handed-out addresses included) */
bool wg_pool_contains(const struct wg_pool *p, const uint8_t addr[16]);
/* addr is inside and taken */
bool wg_pool_is_taken(const struct wg_pool *p, const uint8_t addr[16]);

/* addresses that can be handed out in all, saturating at UINT64_MAX */
uint64_t wg_pool_capacity(const struct wg_pool *p);
/* addresses taken (allocated plus reserved) */
uint64_t wg_pool_used(const struct wg_pool *p);
/* the prefix, as given (flags cleared) */
const struct wg_conf_prefix *wg_pool_prefix(const struct wg_pool *p);
/* bytes of memory held, the struct included */
size_t wg_pool_memory(const struct wg_pool *p);

#endif
