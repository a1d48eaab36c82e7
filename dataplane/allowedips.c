/* SPDX-License-Identifier: MIT */
/*
 * Allowed IPs: a path-compressed binary trie per family, the design of the
 * Linux kernel's drivers/net/wireguard/allowedips.c (this is our own code),
 * with a 16-bit first level for IPv4.
 *
 * Shape. Every node holds a prefix (key, cidr; host bits always zero) and
 * two children; a child's prefix is longer than its parent's and lies
 * inside it, on the side given by the child's bit at position parent->cidr
 * (bit 0 = most significant bit of the address). A node with an owner is a
 * prefix of the table; a node without one is a branch node, created where
 * two prefixes diverge, and always has exactly two children. A node of cidr
 * 32 (128) has no children. So a path has strictly growing cidr: at most
 * 33 (129) nodes, and a table of n prefixes has fewer than 2n nodes.
 *
 * Roots. IPv6 has one root. IPv4 prefixes of /16 or longer hang from one of
 * 65536 slots indexed by their first 16 bits; shorter ones from a separate
 * short root. A v4 lookup walks its slot and, only when that finds nothing,
 * the short root (any match in the slot is longer than any short prefix).
 *
 * Lookup. From the root: stop at the first node whose prefix does not match
 * the address; otherwise remember its owner if it has one and descend on the
 * address's bit at node->cidr. The last owner seen is the longest match.
 *
 * Owners. Each owner links its nodes (owner_next/owner_pprev), and each
 * node knows the slot that points to it (parent_slot, parent_kind), so
 * removing a prefix costs O(1) after it is found, and removal by owner costs
 * O(the owner's prefixes): never a walk of the table.
 *
 * Concurrency rule. One writer, lock-free readers:
 * - a node is fully built (key, cidr, children, owner) before the release
 *   store that links it; readers load child and owner pointers with acquire
 *   loads; key and cidr never change once the node is linked;
 * - the writer changes a linked node only by atomic stores of single
 *   pointers (a child slot, the owner), each of which leaves every prefix
 *   that is not being changed reachable on the path of every address it
 *   covers, whether a reader sees the old or the new pointer: splicing a
 *   new node in above "down" (it points to down before it is published),
 *   splicing a node out (its slot gets its only child, whose subtree is also
 *   still reachable through the unlinked node), collapsing a branch node
 *   whose other child went away (its slot gets the surviving child);
 * - an unlinked node is never written again and goes to defer_free exactly
 *   once, after the store that unlinked it, so a reader that still stands
 *   on it finds valid, consistent memory until its grace period ends;
 * - parent_slot, parent_kind and the owner links are the writer's alone;
 *   readers never touch them.
 * A lookup concurrent with a change returns the state before or after it.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dataplane/allowedips.h"

#define V4_STRIDE 16u
#define V4_SLOTS (1u << V4_STRIDE)
#define PARENT_ROOT 2u
#define MAX_DEPTH 129u /* cidr 0..128, strictly growing along a path */
#define BULK_LANES 16u

struct wg_allowedips_node {
	/* read by lookups */
	struct wg_allowedips_node *child[2];
	struct wg_allowedips_owner *owner; /* NULL: branch node */
	uint8_t cidr;			   /* immutable */
	uint8_t bits;			   /* 32 or 128, immutable */
	uint8_t parent_kind;		   /* writer: 0/1 = parent->child[i]; root slot */
	uint8_t unused;
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
	struct wg_allowedips_node *slot4[V4_SLOTS]; /* v4 prefixes /16 or longer */
};

/* an address or prefix as two host-order words; v4 in the top of w[0] */
struct key {
	uint64_t w[2];
};

static inline uint32_t mask32(unsigned int cidr) /* 0..32 */
{
	return (uint32_t)(~0ULL << (32 - cidr));
}

static inline uint64_t mask64(unsigned int cidr) /* 0..64 */
{
	return cidr ? ~0ULL << (64 - cidr) : 0;
}

static inline unsigned int family_bits(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

static inline uint32_t load_addr4(const uint8_t *addr)
{
	uint32_t v;

	memcpy(&v, addr, 4);
	return be32toh(v);
}

static inline void load_addr6(const uint8_t *addr, uint64_t *hi, uint64_t *lo)
{
	uint64_t v[2];

	memcpy(v, addr, 16);
	*hi = be64toh(v[0]);
	*lo = be64toh(v[1]);
}

static void load_key(struct key *k, unsigned int bits, const uint8_t *addr)
{
	if (bits == 32) {
		k->w[0] = (uint64_t)load_addr4(addr) << 32;
		k->w[1] = 0;
	} else {
		load_addr6(addr, &k->w[0], &k->w[1]);
	}
}

static void mask_key(struct key *k, unsigned int cidr)
{
	k->w[0] &= mask64(cidr < 64 ? cidr : 64);
	k->w[1] &= mask64(cidr > 64 ? cidr - 64 : 0);
}

static void node_key(const struct wg_allowedips_node *n, struct key *k)
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
static bool key_matches(const struct wg_allowedips_node *n, const struct key *k)
{
	struct key nk, x;

	node_key(n, &nk);
	x.w[0] = nk.w[0] ^ k->w[0];
	x.w[1] = nk.w[1] ^ k->w[1];
	mask_key(&x, n->cidr);
	return !x.w[0] && !x.w[1];
}

/* number of leading bits n's key and k share, at most n->bits */
static unsigned int common_bits(const struct wg_allowedips_node *n, const struct key *k)
{
	struct key nk;
	uint64_t x;

	node_key(n, &nk);
	x = nk.w[0] ^ k->w[0];
	if (x)
		return (unsigned int)__builtin_clzll(x);
	x = nk.w[1] ^ k->w[1];
	if (x)
		return 64 + (unsigned int)__builtin_clzll(x);
	return n->bits;
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

static inline struct links *links(const struct wg_allowedips_node *n)
{
	return (struct links *)((char *)(uintptr_t)n + sizeof(*n) + key_size(n->bits));
}

static struct wg_allowedips_node *node_new(const struct key *k, unsigned int cidr,
					   unsigned int bits)
{
	struct wg_allowedips_node *n = calloc(1, node_size(bits));

	if (!n)
		return NULL;
	n->cidr = (uint8_t)cidr;
	n->bits = (uint8_t)bits;
	if (bits == 32) {
		n->key4 = (uint32_t)(k->w[0] >> 32);
	} else {
		n->key6[0] = k->w[0];
		n->key6[1] = k->w[1];
	}
	return n;
}

static inline struct wg_allowedips_node *load_node(struct wg_allowedips_node *const *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline struct wg_allowedips_owner *load_owner(struct wg_allowedips_owner *const *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* make n (fully built, or a node already linked elsewhere on this path) visible at slot */
static inline void publish(struct wg_allowedips_node **slot, struct wg_allowedips_node *n)
{
	__atomic_store_n(slot, n, __ATOMIC_RELEASE);
}

static inline void set_parent(struct wg_allowedips_node *n, struct wg_allowedips_node **slot,
			      unsigned int kind)
{
	links(n)->parent_slot = slot;
	n->parent_kind = (uint8_t)kind;
}

static inline struct wg_allowedips_node *parent_of(const struct wg_allowedips_node *n)
{
	/* parent_slot is &parent->child[parent_kind] */
	return (struct wg_allowedips_node *)((char *)(links(n)->parent_slot - n->parent_kind) -
					     offsetof(struct wg_allowedips_node, child));
}

static struct wg_allowedips_node **root_slot(struct wg_allowedips *t, unsigned int bits,
					     const struct key *k, unsigned int cidr)
{
	if (bits == 128)
		return &t->root6;
	return cidr >= V4_STRIDE ? &t->slot4[k->w[0] >> (64 - V4_STRIDE)] : &t->short4;
}

static void count_prefix(struct wg_allowedips *t, unsigned int bits, int delta)
{
	if (bits == 32)
		t->prefixes4 += (size_t)(ptrdiff_t)delta;
	else
		t->prefixes6 += (size_t)(ptrdiff_t)delta;
}

static void account_linked(struct wg_allowedips *t, const struct wg_allowedips_node *n)
{
	t->nodes++;
	t->bytes += node_size(n->bits);
	t->allocated++;
}

/* n is unlinked: hand it to defer_free; never touch it again */
static void retire(struct wg_allowedips *t, struct wg_allowedips_node *n)
{
	t->nodes--;
	t->bytes -= node_size(n->bits);
	t->deferred++;
	if (t->defer_free)
		t->defer_free(t->ctx, n);
	else
		free(n);
}

static void owner_link(struct wg_allowedips_owner *o, struct wg_allowedips_node *n)
{
	struct links *l = links(n);

	l->owner_next = o->head;
	if (o->head)
		links(o->head)->owner_pprev = &l->owner_next;
	o->head = n;
	l->owner_pprev = &o->head;
	o->count++;
}

static void owner_unlink(struct wg_allowedips_node *n)
{
	struct links *l = links(n);

	*l->owner_pprev = l->owner_next;
	if (l->owner_next)
		links(l->owner_next)->owner_pprev = l->owner_pprev;
	l->owner_next = NULL;
	l->owner_pprev = NULL;
	n->owner->count--;
}

/* give a linked node (a prefix or a branch node) to owner */
static void set_owner(struct wg_allowedips *t, struct wg_allowedips_node *n,
		      struct wg_allowedips_owner *owner)
{
	if (n->owner == owner)
		return;
	if (n->owner)
		owner_unlink(n);
	else
		count_prefix(t, n->bits, +1);
	owner_link(owner, n);
	__atomic_store_n(&n->owner, owner, __ATOMIC_RELEASE);
}

struct wg_allowedips *wg_allowedips_create(wg_allowedips_defer_free_fn defer_free, void *ctx)
{
	struct wg_allowedips *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->defer_free = defer_free;
	t->ctx = ctx;
	t->bytes = sizeof(*t);
	return t;
}

static void free_subtree(struct wg_allowedips_node *n)
{
	if (!n)
		return;
	free_subtree(n->child[0]); /* depth bounded by MAX_DEPTH */
	free_subtree(n->child[1]);
	if (n->owner) {
		n->owner->head = NULL;
		n->owner->count = 0;
	}
	free(n);
}

void wg_allowedips_destroy(struct wg_allowedips *t)
{
	if (!t)
		return;
	free_subtree(t->root6);
	free_subtree(t->short4);
	for (unsigned int i = 0; i < V4_SLOTS; i++)
		free_subtree(t->slot4[i]);
	free(t);
}

void wg_allowedips_node_free(void *node)
{
	free(node);
}

/*
 * Insert: find where the prefix belongs (the deepest node whose prefix
 * contains it), then either give an existing node of the same prefix to
 * owner, hang a new leaf on an empty slot, splice the new node in above the
 * subtree it contains ("down"), or splice in a branch node with down and
 * the new node as children. All allocation happens before the first change.
 */
int wg_allowedips_insert(struct wg_allowedips *t, int family, const uint8_t *addr,
			 unsigned int cidr, struct wg_allowedips_owner *owner)
{
	struct wg_allowedips_node **where, *node, *n, *mid = NULL;
	unsigned int bits = family_bits(family), kind = PARENT_ROOT, common = 0, b;
	struct key k, dk;

	if (!t || !addr || !owner || !bits || cidr > bits)
		return -EINVAL;
	load_key(&k, bits, addr);
	mask_key(&k, cidr);

	where = root_slot(t, bits, &k, cidr);
	node = *where;
	while (node && node->cidr <= cidr && key_matches(node, &k)) {
		if (node->cidr == cidr) {
			set_owner(t, node, owner);
			return 0;
		}
		kind = bit_at(&k, node->cidr); /* node->cidr < cidr <= bits */
		where = &node->child[kind];
		node = *where;
	}

	n = node_new(&k, cidr, bits);
	if (!n)
		return -ENOMEM;
	if (node) {
		/* node is "down"; it does not contain k, or is longer than cidr */
		common = common_bits(node, &k);
		if (common > cidr)
			common = cidr;
		if (common < cidr) {
			struct key mk = k;

			mask_key(&mk, common);
			mid = node_new(&mk, common, bits);
			if (!mid) {
				free(n);
				return -ENOMEM;
			}
		}
	}

	n->owner = owner;
	owner_link(owner, n);
	count_prefix(t, bits, +1);
	account_linked(t, n);
	if (!node) {
		set_parent(n, where, kind);
		publish(where, n);
		return 0;
	}
	node_key(node, &dk);
	if (!mid) {
		/* n contains down: cidr < down->cidr <= bits */
		b = bit_at(&dk, cidr);
		n->child[b] = node;
		set_parent(n, where, kind);
		set_parent(node, &n->child[b], b);
		publish(where, n);
		return 0;
	}
	/* first difference at bit common: common < cidr and common < down->cidr */
	b = bit_at(&dk, common);
	mid->child[b] = node;
	mid->child[!b] = n;
	set_parent(mid, where, kind);
	set_parent(node, &mid->child[b], b);
	set_parent(n, &mid->child[!b], !b);
	account_linked(t, mid);
	publish(where, mid);
	return 0;
}

/*
 * Take n's prefix out of the table. n stays as a branch node when it has
 * two children; otherwise its slot gets its only child (or NULL), and when
 * n was a leaf under a branch node, that branch node is spliced out too.
 * Touches at most two nodes; see the concurrency rule at the top.
 */
static void remove_node(struct wg_allowedips *t, struct wg_allowedips_node *n)
{
	struct wg_allowedips_node *child, *parent, *sibling;

	owner_unlink(n);
	count_prefix(t, n->bits, -1);
	__atomic_store_n(&n->owner, NULL, __ATOMIC_RELEASE);
	t->visits++;
	if (n->child[0] && n->child[1])
		return;
	child = n->child[0] ? n->child[0] : n->child[1];
	if (!child && n->parent_kind != PARENT_ROOT) {
		parent = parent_of(n);
		if (!parent->owner) {
			/* a branch node has two children: collapse it onto the other */
			sibling = parent->child[!n->parent_kind];
			set_parent(sibling, links(parent)->parent_slot, parent->parent_kind);
			publish(links(parent)->parent_slot, sibling);
			t->visits++;
			retire(t, n);
			retire(t, parent);
			return;
		}
	}
	if (child)
		set_parent(child, links(n)->parent_slot, n->parent_kind);
	publish(links(n)->parent_slot, child);
	retire(t, n);
}

/* the linked node of exactly k/cidr, or NULL */
static struct wg_allowedips_node *find_exact(const struct wg_allowedips *t, unsigned int bits,
					     const struct key *k, unsigned int cidr)
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

int wg_allowedips_remove(struct wg_allowedips *t, int family, const uint8_t *addr,
			 unsigned int cidr, struct wg_allowedips_owner *owner)
{
	unsigned int bits = family_bits(family);
	struct wg_allowedips_node *n;
	struct key k;

	if (!t || !addr || !owner || !bits || cidr > bits)
		return -EINVAL;
	load_key(&k, bits, addr);
	mask_key(&k, cidr);
	n = find_exact(t, bits, &k, cidr);
	if (!n || n->owner != owner)
		return -ENOENT;
	remove_node(t, n);
	return 0;
}

size_t wg_allowedips_remove_by_owner(struct wg_allowedips *t, struct wg_allowedips_owner *owner)
{
	size_t removed = 0;

	if (!t || !owner)
		return 0;
	while (owner->head) {
		remove_node(t, owner->head); /* unlinks the head */
		removed++;
	}
	return removed;
}

/* lookups: specialised per family, immutable fields read plainly, pointers acquired */

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

static inline bool matches6(const struct wg_allowedips_node *n, uint64_t hi, uint64_t lo)
{
	unsigned int c = n->cidr;

	return !(((hi ^ n->key6[0]) & mask64(c < 64 ? c : 64)) |
		 ((lo ^ n->key6[1]) & mask64(c > 64 ? c - 64 : 0)));
}

static inline unsigned int bit6(uint64_t hi, uint64_t lo, unsigned int c) /* c < 128 */
{
	return (unsigned int)((c < 64 ? hi >> (63 - c) : lo >> (127 - c)) & 1);
}

static inline struct wg_allowedips_owner *walk6(const struct wg_allowedips_node *n, uint64_t hi,
						uint64_t lo)
{
	struct wg_allowedips_owner *best = NULL, *o;

	while (n && matches6(n, hi, lo)) {
		o = load_owner(&n->owner);
		if (o)
			best = o;
		if (n->cidr == 128)
			break;
		n = load_node(&n->child[bit6(hi, lo, n->cidr)]);
	}
	return best;
}

struct wg_allowedips_owner *wg_allowedips_lookup(const struct wg_allowedips *t, int family,
						 const uint8_t *addr)
{
	struct wg_allowedips_owner *best;
	uint64_t hi, lo;
	uint32_t k;

	if (family == AF_INET) {
		k = load_addr4(addr);
		best = walk4(load_node(&t->slot4[k >> (32 - V4_STRIDE)]), k);
		return best ? best : walk4(load_node(&t->short4), k);
	}
	if (family == AF_INET6) {
		load_addr6(addr, &hi, &lo);
		return walk6(load_node(&t->root6), hi, lo);
	}
	return NULL;
}

/*
 * Bulk lookups walk up to BULK_LANES tries in lock step, one level per
 * round, prefetching each lane's next node: the cache misses of a burst
 * overlap instead of adding up.
 */
static void bulk4(const struct wg_allowedips *t, const uint8_t *const *addrs,
		  struct wg_allowedips_owner **owners, unsigned int m)
{
	const struct wg_allowedips_node *cur[BULK_LANES], *n;
	struct wg_allowedips_owner *best[BULK_LANES], *o;
	uint32_t k[BULK_LANES];
	unsigned int i, live, c;

	for (i = 0; i < m; i++) {
		k[i] = load_addr4(addrs[i]);
		__builtin_prefetch(&t->slot4[k[i] >> (32 - V4_STRIDE)]);
	}
	for (i = 0; i < m; i++) {
		cur[i] = load_node(&t->slot4[k[i] >> (32 - V4_STRIDE)]);
		__builtin_prefetch(cur[i]);
		best[i] = NULL;
	}
	do {
		live = 0;
		for (i = 0; i < m; i++) {
			n = cur[i];
			if (!n)
				continue;
			c = n->cidr;
			if ((k[i] ^ n->key4) & mask32(c)) {
				cur[i] = NULL;
				continue;
			}
			o = load_owner(&n->owner);
			if (o)
				best[i] = o;
			if (c == 32) {
				cur[i] = NULL;
				continue;
			}
			n = load_node(&n->child[(k[i] >> (31 - c)) & 1]);
			cur[i] = n;
			if (n) {
				__builtin_prefetch(n);
				live++;
			}
		}
	} while (live);
	n = load_node(&t->short4);
	for (i = 0; i < m; i++)
		owners[i] = best[i] ? best[i] : walk4(n, k[i]);
}

static void bulk6(const struct wg_allowedips *t, const uint8_t *const *addrs,
		  struct wg_allowedips_owner **owners, unsigned int m)
{
	const struct wg_allowedips_node *cur[BULK_LANES], *n, *root = load_node(&t->root6);
	struct wg_allowedips_owner *best[BULK_LANES], *o;
	uint64_t hi[BULK_LANES], lo[BULK_LANES];
	unsigned int i, live;

	for (i = 0; i < m; i++) {
		load_addr6(addrs[i], &hi[i], &lo[i]);
		cur[i] = root;
		best[i] = NULL;
	}
	do {
		live = 0;
		for (i = 0; i < m; i++) {
			n = cur[i];
			if (!n)
				continue;
			if (!matches6(n, hi[i], lo[i])) {
				cur[i] = NULL;
				continue;
			}
			o = load_owner(&n->owner);
			if (o)
				best[i] = o;
			if (n->cidr == 128) {
				cur[i] = NULL;
				continue;
			}
			n = load_node(&n->child[bit6(hi[i], lo[i], n->cidr)]);
			cur[i] = n;
			if (n) {
				__builtin_prefetch(n);
				__builtin_prefetch(
					&n->key6[1]); /* the key may sit on the next line */
				live++;
			}
		}
	} while (live);
	for (i = 0; i < m; i++)
		owners[i] = best[i];
}

void wg_allowedips_lookup_bulk(const struct wg_allowedips *t, int family,
			       const uint8_t *const *addrs, struct wg_allowedips_owner **owners,
			       unsigned int n)
{
	for (unsigned int done = 0; done < n;) {
		unsigned int m = n - done < BULK_LANES ? n - done : BULK_LANES;

		if (family == AF_INET)
			bulk4(t, addrs + done, owners + done, m);
		else if (family == AF_INET6)
			bulk6(t, addrs + done, owners + done, m);
		else
			memset(owners + done, 0, m * sizeof(*owners));
		done += m;
	}
}

static void key_to_addr(const struct wg_allowedips_node *n, uint8_t addr[16])
{
	if (n->bits == 32) {
		uint32_t v = htobe32(n->key4);

		memcpy(addr, &v, 4);
	} else {
		uint64_t v[2] = { htobe64(n->key6[0]), htobe64(n->key6[1]) };

		memcpy(addr, v, 16);
	}
}

int wg_allowedips_walk_owner(const struct wg_allowedips *t, const struct wg_allowedips_owner *owner,
			     wg_allowedips_walk_fn cb, void *ctx)
{
	const struct wg_allowedips_node *n;
	uint8_t addr[16];
	int ret;

	if (!t || !owner || !cb)
		return 0;
	for (n = owner->head; n; n = links(n)->owner_next) {
		key_to_addr(n, addr);
		ret = cb(ctx, n->bits == 32 ? AF_INET : AF_INET6, addr, n->cidr);
		if (ret)
			return ret;
	}
	return 0;
}

size_t wg_allowedips_count(const struct wg_allowedips *t, int family)
{
	if (family == AF_INET)
		return t->prefixes4;
	if (family == AF_INET6)
		return t->prefixes6;
	return family == AF_UNSPEC ? t->prefixes4 + t->prefixes6 : 0;
}

size_t wg_allowedips_memory(const struct wg_allowedips *t)
{
	return t->bytes;
}

void wg_allowedips_get_stats(const struct wg_allowedips *t, struct wg_allowedips_stats *st)
{
	st->prefixes4 = t->prefixes4;
	st->prefixes6 = t->prefixes6;
	st->nodes = t->nodes;
	st->bytes = t->bytes;
	st->nodes_allocated = t->allocated;
	st->nodes_deferred = t->deferred;
	st->visits = t->visits;
}

/* consistency check */

struct check {
	const char *why;
	size_t prefixes4, prefixes6, nodes, bytes;
};

static bool fail(struct check *c, const char *why)
{
	if (!c->why)
		c->why = why;
	return false;
}

/*
 * n hangs from slot (kind: which child of parent, or PARENT_ROOT); slot_lo
 * and slot_hi bound the cidr of the nodes allowed under this root, and for
 * v4 slots top16 is the slot index (-1: no constraint).
 */
static bool check_node(struct check *c, const struct wg_allowedips_node *n,
		       const struct wg_allowedips_node *parent,
		       struct wg_allowedips_node *const *slot, unsigned int kind, unsigned int bits,
		       unsigned int cidr_lo, unsigned int cidr_hi, long top16, unsigned int depth)
{
	struct key k, mk;

	if (depth > MAX_DEPTH)
		return fail(c, "path longer than the address");
	if (n->bits != bits)
		return fail(c, "node of the wrong family");
	if (n->cidr > bits || n->cidr < cidr_lo || n->cidr > cidr_hi)
		return fail(c, "cidr out of range for its root");
	node_key(n, &k);
	mk = k;
	mask_key(&mk, n->cidr);
	if (memcmp(&mk, &k, sizeof(k)))
		return fail(c, "host bits set in a key");
	if (top16 >= 0 && (long)(n->key4 >> (32 - V4_STRIDE)) != top16)
		return fail(c, "v4 node in the wrong first-level slot");
	if (links(n)->parent_slot != slot || n->parent_kind != kind)
		return fail(c, "wrong parent link");
	if (parent) {
		if (n->cidr <= parent->cidr)
			return fail(c, "child not longer than its parent");
		if (!key_matches(parent, &k))
			return fail(c, "child outside its parent's prefix");
		if (bit_at(&k, parent->cidr) != kind)
			return fail(c, "child on the wrong side");
	}
	if (n->cidr == bits && (n->child[0] || n->child[1]))
		return fail(c, "full-length node with children");
	if (!n->owner && !(n->child[0] && n->child[1]))
		return fail(c, "branch node without two children");
	if (n->owner) {
		if (!links(n)->owner_pprev || *links(n)->owner_pprev != n)
			return fail(c, "broken owner link");
		if (bits == 32)
			c->prefixes4++;
		else
			c->prefixes6++;
	}
	c->nodes++;
	c->bytes += node_size(bits);
	for (unsigned int i = 0; i < 2; i++)
		if (n->child[i] && !check_node(c, n->child[i], n, &n->child[i], i, bits, cidr_lo,
					       cidr_hi, top16, depth + 1))
			return false;
	return true;
}

static bool check_owner(struct check *c, const struct wg_allowedips *t,
			const struct wg_allowedips_owner *o)
{
	struct wg_allowedips_node *const *prev = &o->head;
	const struct wg_allowedips_node *n;
	size_t count = 0;
	struct key k;

	for (n = o->head; n; prev = &links(n)->owner_next, n = links(n)->owner_next) {
		if (++count > o->count)
			return fail(c, "owner list longer than its count");
		if (n->owner != o)
			return fail(c, "node on the list of another owner");
		if (links(n)->owner_pprev != prev)
			return fail(c, "broken owner back link");
		node_key(n, &k);
		if (find_exact(t, n->bits, &k, n->cidr) != n)
			return fail(c, "owned node not in the trie");
	}
	if (count != o->count)
		return fail(c, "owner count differs from its list");
	return true;
}

/*
 * The next non-empty v4 slot from i on (V4_SLOTS: none). The fuzzer checks
 * the table after every input: keep coverage tracing out of this scan.
 */
#if defined(__clang__)
__attribute__((no_sanitize("coverage")))
#endif
__attribute__((noinline))
static unsigned int next_slot(const struct wg_allowedips *t, unsigned int i)
{
	while (i < V4_SLOTS && !t->slot4[i])
		i++;
	return i;
}

bool wg_allowedips_check(const struct wg_allowedips *t, struct wg_allowedips_owner *const *owners,
			 size_t n_owners, const char **why)
{
	struct check c = { 0 };
	bool ok = true;

	c.bytes = sizeof(*t);
	if (t->root6)
		ok = check_node(&c, t->root6, NULL, &t->root6, PARENT_ROOT, 128, 0, 128, -1, 1);
	if (ok && t->short4)
		ok = check_node(&c, t->short4, NULL, &t->short4, PARENT_ROOT, 32, 0, V4_STRIDE - 1,
				-1, 1);
	for (unsigned int i = next_slot(t, 0); ok && i < V4_SLOTS; i = next_slot(t, i + 1))
		ok = check_node(&c, t->slot4[i], NULL, &t->slot4[i], PARENT_ROOT, 32, V4_STRIDE, 32,
				(long)i, 1);
	if (ok && (c.prefixes4 != t->prefixes4 || c.prefixes6 != t->prefixes6))
		ok = fail(&c, "prefix counts differ from the trie");
	if (ok && (c.nodes != t->nodes || c.bytes != t->bytes))
		ok = fail(&c, "node count or memory figure differs from the trie");
	if (ok && t->allocated - t->deferred != t->nodes)
		ok = fail(&c, "allocated - deferred differs from the linked nodes");
	for (size_t i = 0; ok && i < n_owners; i++)
		if (owners[i])
			ok = check_owner(&c, t, owners[i]);
	if (!ok && why)
		*why = c.why;
	return ok;
}
