/* SPDX-License-Identifier: MIT */
/*
 * Allowed IPs: WireGuard's cryptokey-routing table. Outbound, the
 * longest-prefix match of an inner destination picks the peer to encrypt
 * to; inbound, the inner source of a decrypted packet must map to the peer
 * that sent it. IPv4 and IPv6, in one table per interface.
 *
 * Concurrency rule: one writer (the control thread) calls everything that
 * changes the table, the reserve, owner_of, the stats and walk_owner; any number of readers call
 * wg_allowedips_lookup{,_bulk}() at the same time, without locks, and are
 * never blocked. A node the writer unlinks is handed to the defer_free
 * callback given at create, exactly once; its memory stays readable until
 * the callback's owner calls wg_allowedips_node_free() after a grace period
 * (in wgdp: rte_rcu_qsbr, every worker quiescent once per loop). The owner
 * pointers a lookup returns follow the same rule: after remove_by_owner a
 * reader may still return that owner until a grace period has passed.
 *
 * Addresses are network byte order byte arrays (4 or 16 bytes). Prefix
 * host bits are masked off on insert and remove. Returns are 0 or -errno.
 */
#ifndef WG_ALLOWEDIPS_H
#define WG_ALLOWEDIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_allowedips;	   /* opaque table */
struct wg_allowedips_node; /* opaque trie node */

/*
 * Embedded by the caller in its peer struct (lookups return a pointer to it;
 * use container_of). Links the owner's nodes so that removal by owner costs
 * O(its prefixes). Writer only; zero it (or wg_allowedips_owner_init) before
 * first use, and keep it alive while it owns prefixes.
 */
struct wg_allowedips_owner {
	struct wg_allowedips_node *head;
	uint32_t count; /* prefixes owned, both families */
};

/*
 * Called by the writer, inside insert/remove/remove_by_owner, for every node
 * it unlinked. The node may still be read by lookups that started before;
 * call wg_allowedips_node_free(node) once none can hold it any more. NULL at
 * create means "free at once" (single-threaded use only).
 */
typedef void (*wg_allowedips_defer_free_fn)(void *ctx, void *node);

struct wg_allowedips_stats {
	size_t prefixes4, prefixes6; /* prefixes in the table */
	size_t nodes;		     /* linked nodes: prefixes + branch nodes */
	size_t bytes;		     /* table struct + linked nodes (requested sizes; */
				     /* a node from the reserve counts at the v6 size) */
	size_t reserved;	     /* in the reserve, not in nodes or bytes: 72 bytes each */
	size_t reserved4;	     /* in the v4 reserve, likewise: 56 bytes each */
	uint64_t nodes_allocated;    /* linked since create (from the heap or the reserve) */
	uint64_t nodes_deferred;     /* handed to defer_free since create */
	uint64_t visits;	     /* nodes touched by removals since create */
	size_t v4_tables;	     /* v4 lookup tables of 256 entries */
	size_t v4_table_bytes;	     /* their bytes (included in bytes) */
	size_t v4_trie_slots;	     /* /16s whose v4 lookups walk the trie (no table) */
	uint64_t tables_deferred;    /* v4 lookup tables handed to defer_free since create */
};

/* NULL on -ENOMEM. */
struct wg_allowedips *wg_allowedips_create(wg_allowedips_defer_free_fn defer_free, void *ctx);
/*
 * Frees the table and every node at once (no defer_free): no reader may use
 * the table any more. Owners still holding prefixes are reset to empty, so
 * they must still be alive (or removed first).
 */
void wg_allowedips_destroy(struct wg_allowedips *t);
/* Release a node handed to defer_free, after its grace period. */
void wg_allowedips_node_free(void *node);

static inline void wg_allowedips_owner_init(struct wg_allowedips_owner *o)
{
	o->head = NULL;
	o->count = 0;
}

/*
 * Map family (AF_INET, AF_INET6) addr/cidr to owner. An existing identical
 * prefix moves to owner. -EINVAL (family, cidr above 32/128, NULL owner),
 * -ENOMEM (the table is unchanged).
 */
int wg_allowedips_insert(struct wg_allowedips *t, int family, const uint8_t *addr,
			 unsigned int cidr, struct wg_allowedips_owner *owner);
/* Remove addr/cidr if owner owns it: 0, -ENOENT (absent or owned by another), -EINVAL. */
int wg_allowedips_remove(struct wg_allowedips *t, int family, const uint8_t *addr,
			 unsigned int cidr, struct wg_allowedips_owner *owner);
/* Remove all of owner's prefixes in O(their number); returns how many. */
size_t wg_allowedips_remove_by_owner(struct wg_allowedips *t, struct wg_allowedips_owner *owner);

/*
 * The owner of exactly addr/cidr (host bits masked off), NULL when that
 * prefix is not in the table (a covering or a more specific prefix does not
 * count) or the arguments are invalid. One walk, O(depth). Writer only.
 */
struct wg_allowedips_owner *wg_allowedips_owner_of(const struct wg_allowedips *t, int family,
						   const uint8_t *addr, unsigned int cidr);

/*
 * Node reserve, to apply a change of several steps without a failure half
 * way: after wg_allowedips_reserve(t, n) returns 0, the next n calls of
 * wg_allowedips_insert cannot fail with -ENOMEM (each needs at most two
 * new nodes: the prefix and possibly a branch node; a move or an -EINVAL
 * needs none). It tops the reserve up to 2n nodes (it does not add to what
 * is there); -ENOMEM leaves the reserve as it was; -EINVAL for a NULL
 * table. Insert takes nodes from the reserve before the heap; they are
 * plain heap blocks and go through defer_free and wg_allowedips_node_free
 * like any other. unreserve frees what is left, and so does destroy.
 * Writer only.
 */
int wg_allowedips_reserve(struct wg_allowedips *t, size_t n_inserts);
/*
 * The same for n_inserts IPv4 prefixes, with nodes of the v4 size (56 bytes
 * instead of 72): a v4 insert takes from this reserve first, then from the
 * one above, then the heap. A caller that knows its families reserves
 * reserve4(v4 inserts) and reserve(v6 inserts). unreserve frees both.
 */
int wg_allowedips_reserve4(struct wg_allowedips *t, size_t n_inserts);
void wg_allowedips_unreserve(struct wg_allowedips *t);

/* Longest-prefix match; NULL when nothing matches or family is unknown. Lock-free. */
struct wg_allowedips_owner *wg_allowedips_lookup(const struct wg_allowedips *t, int family,
						 const uint8_t *addr);
/*
 * owners[i] = wg_allowedips_lookup(t, family, addrs[i]) for i < n, with the
 * trie walks of a burst interleaved so their cache misses overlap. Lock-free.
 */
void wg_allowedips_lookup_bulk(const struct wg_allowedips *t, int family,
			       const uint8_t *const *addrs, struct wg_allowedips_owner **owners,
			       unsigned int n);

/*
 * Call cb for each prefix of owner (most recently added first); addr holds
 * 4 or 16 bytes, host bits zero. Stops at, and returns, the first non-zero
 * return of cb; 0 otherwise. Writer only; cb must not change the table.
 */
typedef int (*wg_allowedips_walk_fn)(void *ctx, int family, const uint8_t *addr, unsigned int cidr);
int wg_allowedips_walk_owner(const struct wg_allowedips *t, const struct wg_allowedips_owner *owner,
			     wg_allowedips_walk_fn cb, void *ctx);

/* Prefixes of family (AF_INET, AF_INET6; AF_UNSPEC: both). Writer only. */
size_t wg_allowedips_count(const struct wg_allowedips *t, int family);
/* Bytes the table uses now (see wg_allowedips_stats.bytes). Writer only. */
size_t wg_allowedips_memory(const struct wg_allowedips *t);
void wg_allowedips_get_stats(const struct wg_allowedips *t, struct wg_allowedips_stats *st);

/*
 * Full consistency check of the trie (keys, bit order, parent links, branch
 * nodes, counts, memory figure, the reserve's length) and of the listed owners' lists; for tests
 * and the fuzzer. Writer only; O(table). On failure *why (if why) names the
 * broken invariant.
 */
bool wg_allowedips_check(const struct wg_allowedips *t, struct wg_allowedips_owner *const *owners,
			 size_t n_owners, const char **why);

#endif
