/* SPDX-License-Identifier: MIT */
/*
 * Internals of the allowed-IPs table, shared by allowedips.c (the table)
 * and allowedips_check.c (its consistency checker) and included by those
 * two files only: everyone else sees the opaque types of allowedips.h.
 * The shape of the trie and its concurrency rule are described at the top
 * of allowedips.c.
 */
#ifndef WG_ALLOWEDIPS_INTERNAL_H
#define WG_ALLOWEDIPS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/allowedips.h"

#define V4_STRIDE 16u
#define V4_SLOTS (1u << V4_STRIDE)
#define PARENT_ROOT 2u
#define MAX_DEPTH 129u /* cidr 0..128, strictly growing along a path */

struct wg_allowedips_node {
	/* read by lookups */
	struct wg_allowedips_node *child[2]; /* in the reserve: child[0] is the next one */
	struct wg_allowedips_owner *owner;   /* NULL: branch node */
	uint8_t cidr;			     /* immutable */
	uint8_t bits;			     /* 32 or 128, immutable */
	uint8_t parent_kind;		     /* writer: 0/1 = parent->child[i]; root slot */
	uint8_t wide;			     /* writer: node_size(128) block (reserve) */
	uint32_t key4;	 /* v4 prefix, host order, immutable */
	uint64_t key6[]; /* v6 prefix, two host-order words, immutable; none for v4 */
			 /* then struct links, after the key: lookups touch only the bytes above */
};

/* writer only: where the node hangs, and its owner's list */
struct links {
	struct wg_allowedips_node **parent_slot;
	struct wg_allowedips_node *owner_next;
	struct wg_allowedips_node **owner_pprev;
};

struct wg_allowedips {
	struct wg_allowedips_node *root6;
	struct wg_allowedips_node *short4; /* v4 prefixes shorter than /16 */
	wg_allowedips_defer_free_fn defer_free;
	void *ctx;
	size_t prefixes4, prefixes6, nodes, bytes;
	uint64_t allocated, deferred, visits;
	struct wg_allowedips_node *reserve; /* writer: unused wide nodes, through child[0] */
	size_t reserved;		    /* their number */
	struct wg_allowedips_node *slot4[V4_SLOTS]; /* v4 prefixes /16 or longer */
};

/* an address or prefix as two host-order words; v4 in the top of w[0] */
struct key {
	uint64_t w[2];
};

static inline uint64_t mask64(unsigned int cidr) /* 0..64 */
{
	return cidr ? ~0ULL << (64 - cidr) : 0;
}

static inline void mask_key(struct key *k, unsigned int cidr)
{
	k->w[0] &= mask64(cidr < 64 ? cidr : 64);
	k->w[1] &= mask64(cidr > 64 ? cidr - 64 : 0);
}

static inline void node_key(const struct wg_allowedips_node *n, struct key *k)
{
	if (n->bits == 32) {
		k->w[0] = (uint64_t)n->key4 << 32;
		k->w[1] = 0;
	} else {
		k->w[0] = n->key6[0];
		k->w[1] = n->key6[1];
	}
}

/* bit pos (0 = most significant) of k; pos < bits, never pos == bits */
static inline unsigned int bit_at(const struct key *k, unsigned int pos)
{
	return (k->w[pos >> 6] >> (63 - (pos & 63))) & 1;
}

/* k lies inside n's prefix */
static inline bool key_matches(const struct wg_allowedips_node *n, const struct key *k)
{
	struct key nk, x;

	node_key(n, &nk);
	x.w[0] = nk.w[0] ^ k->w[0];
	x.w[1] = nk.w[1] ^ k->w[1];
	mask_key(&x, n->cidr);
	return !x.w[0] && !x.w[1];
}

static inline size_t key_size(unsigned int bits)
{
	return bits == 128 ? 2 * sizeof(uint64_t) : 0;
}

/* v4: 56 bytes, v6: 72 */
static inline size_t node_size(unsigned int bits)
{
	return sizeof(struct wg_allowedips_node) + key_size(bits) + sizeof(struct links);
}

/* the size of n's heap block: what it adds to the memory figure while linked */
static inline size_t node_bytes(const struct wg_allowedips_node *n)
{
	return node_size(n->wide ? 128 : n->bits);
}

static inline struct links *links(const struct wg_allowedips_node *n)
{
	return (struct links *)((char *)(uintptr_t)n + sizeof(*n) + key_size(n->bits));
}

/* the linked node of exactly k/cidr (host bits zero), or NULL; writer only */
static inline struct wg_allowedips_node *find_exact(const struct wg_allowedips *t,
						    unsigned int bits, const struct key *k,
						    unsigned int cidr)
{
	struct wg_allowedips_node *node;

	if (bits == 128)
		node = t->root6;
	else
		node = cidr >= V4_STRIDE ? t->slot4[k->w[0] >> (64 - V4_STRIDE)] : t->short4;

	while (node && node->cidr <= cidr && key_matches(node, k)) {
		if (node->cidr == cidr)
			return node;
		node = node->child[bit_at(k, node->cidr)];
	}
	return NULL;
}

#endif
