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

/*
 * The IPv4 lookup table (allowedips_dir.c): the trie's v4 prefixes
 * expanded into three levels of 16, 8 and 8 bits. An entry is a word: an
 * owner pointer (DIR_LEAF; NULL = no match), a next-level table
 * (DIR_TABLE), or, in the first level only, DIR_TRIE: walk the trie for
 * this /16 (its tables could not be allocated or are over budget).
 */
/* loops over whole levels: kept out of the fuzzer's coverage tracing, which would dominate */
#if defined(__clang__)
#define DIR_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define DIR_NO_COVERAGE
#endif

#define DIR_LEAF 0u
#define DIR_TABLE 1u
#define DIR_TRIE 2u
#define DIR_TAG 3u
#define DIR_SPAN 256u

struct dir_table {
	uint64_t e[DIR_SPAN];	  /* read by lookups */
	uint8_t depth[DIR_SPAN];  /* writer: cidr + 1 of the prefix behind a leaf; 0: none */
	uint16_t longer[];	  /* second level only: prefixes longer than /24 per entry */
};

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
	struct wg_allowedips_node *reserve4; /* writer: unused v4 nodes (56 bytes), through child[0] */
	size_t reserved4;		     /* their number */
	size_t dir_tables, dir_trie_slots, dir_bytes; /* v4 lookup table: tables, DIR_TRIE slots */
	uint64_t tables_allocated, tables_deferred;
	struct wg_allowedips_node *slot4[V4_SLOTS]; /* v4 prefixes /16 or longer */
	uint64_t dir16[V4_SLOTS];		    /* v4 lookup table, first level (readers) */
	uint8_t depth16[V4_SLOTS];		    /* writer: as dir_table.depth */
	uint32_t longer16[V4_SLOTS];		    /* writer: prefixes longer than /16 per slot */
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

static inline uint32_t mask32(unsigned int cidr) /* 0..32 */
{
	return (uint32_t)(~0ULL << (32 - cidr));
}

static inline struct wg_allowedips_node *load_node(struct wg_allowedips_node *const *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline struct wg_allowedips_owner *load_owner(struct wg_allowedips_owner *const *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline struct wg_allowedips_owner *walk4(const struct wg_allowedips_node *n, uint32_t k)
{
	struct wg_allowedips_owner *best = NULL, *o;

	while (n) {
		unsigned int c = n->cidr;

		if ((k ^ n->key4) & mask32(c))
			break;
		o = load_owner(&n->owner);
		if (o)
			best = o;
		if (c == 32)
			break;
		n = load_node(&n->child[(k >> (31 - c)) & 1]);
	}
	return best;
}

/* the trie's answer for k (host order): the slot first, then the short prefixes */
static inline struct wg_allowedips_owner *trie_lookup4(const struct wg_allowedips *t, uint32_t k)
{
	struct wg_allowedips_owner *best = walk4(load_node(&t->slot4[k >> (32 - V4_STRIDE)]), k);

	return best ? best : walk4(load_node(&t->short4), k);
}

static inline struct dir_table *dir_ptr(uint64_t e)
{
	return (struct dir_table *)(uintptr_t)(e & ~(uint64_t)DIR_TAG);
}

static inline uint64_t dir_load(const uint64_t *e)
{
	return __atomic_load_n(e, __ATOMIC_ACQUIRE);
}

/* the leaf for k (host order), at most three dependent loads; or DIR_TRIE: ask the trie */
static inline uint64_t dir_leaf4(const struct wg_allowedips *t, uint32_t k)
{
	uint64_t e = dir_load(&t->dir16[k >> 16]);

	if ((e & DIR_TAG) == DIR_TABLE) {
		e = dir_load(&dir_ptr(e)->e[(k >> 8) & 0xff]);
		if ((e & DIR_TAG) == DIR_TABLE)
			e = dir_load(&dir_ptr(e)->e[k & 0xff]);
	}
	return e;
}

/* longest-prefix match of k (host order) */
static inline struct wg_allowedips_owner *dir_lookup4(const struct wg_allowedips *t, uint32_t k)
{
	uint64_t e = dir_leaf4(t, k);

	return e & DIR_TRIE ? trie_lookup4(t, k) : (struct wg_allowedips_owner *)(uintptr_t)e;
}

/* allowedips_dir.c: keep the v4 table in step with the trie (writer only) */
void wg_allowedips_dir_insert(struct wg_allowedips *t, uint32_t key, unsigned int cidr,
			      struct wg_allowedips_owner *owner, bool is_new);
void wg_allowedips_dir_remove(struct wg_allowedips *t, uint32_t key, unsigned int cidr);
void wg_allowedips_dir_destroy(struct wg_allowedips *t);
void wg_allowedips_dir_bulk4(const struct wg_allowedips *t, const uint8_t *const *addrs,
			     struct wg_allowedips_owner **owners, unsigned int n);
/* allowedips.c: the trie's interleaved walks, for k[0..m) (host order), m <= 16 */
void wg_allowedips_trie_bulk4(const struct wg_allowedips *t, const uint32_t *k,
			      struct wg_allowedips_owner **owners, unsigned int m);
bool wg_allowedips_dir_check(const struct wg_allowedips *t, const char **why);

#endif
