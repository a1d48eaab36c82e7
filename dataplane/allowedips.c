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
 * Reserve. Nodes pre-allocated by wg_allowedips_reserve wait on a private
 * list and are taken by insert before the heap; they are "wide" (the v6
 * size, so they fit either family) and count at that size in the memory
 * figure once linked. Readers never see the list.
 * wg_allowedips_reserve4 keeps v4-sized nodes on a second list, which v4
 * inserts take from first.
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

#include "dataplane/allowedips_internal.h"

#define BULK_LANES 16u

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

/*
 * A zeroed node for k/cidr, as calloc gives it: from the reserve while it
 * has one (a wide block, node_size(128), so it fits either family),
 * otherwise from the heap.
 */
static struct wg_allowedips_node *node_new(struct wg_allowedips *t, const struct key *k,
					   unsigned int cidr, unsigned int bits)
{
	struct wg_allowedips_node *n = t->reserve;

	if (bits == 32 && t->reserve4) {
		n = t->reserve4;
		t->reserve4 = n->child[0];
		t->reserved4--;
		memset(n, 0, node_size(32));
	} else if (n) {
		t->reserve = n->child[0];
		t->reserved--;
		memset(n, 0, node_size(128));
		n->wide = 1;
	} else {
		n = calloc(1, node_size(bits));
		if (!n)
			return NULL;
	}
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

/* give back a node from node_new that was never linked */
static void node_unused(struct wg_allowedips *t, struct wg_allowedips_node *n)
{
	if (n->wide) {
		n->child[0] = t->reserve;
		t->reserve = n;
		t->reserved++;
	} else if (n->bits == 32) {
		n->child[0] = t->reserve4; /* it may have come from there */
		t->reserve4 = n;
		t->reserved4++;
	} else {
		free(n);
	}
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
	t->bytes += node_bytes(n);
	t->allocated++;
}

/* n is unlinked: hand it to defer_free; never touch it again */
static void retire(struct wg_allowedips *t, struct wg_allowedips_node *n)
{
	t->nodes--;
	t->bytes -= node_bytes(n);
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
	wg_allowedips_dir_destroy(t);
	wg_allowedips_unreserve(t);
	free(t);
}

void wg_allowedips_node_free(void *node)
{
	free(node);
}

/*
 * The reserve: wide nodes on a private list (through child[0]), never
 * reachable by readers. Insert needs at most two nodes (the prefix and a
 * branch node) and takes them from here first, so 2n reserved nodes make
 * the next n inserts unable to fail. Tops up to 2n, all or nothing.
 */
static int reserve_list(struct wg_allowedips_node **head, size_t *count, size_t n_inserts,
			unsigned int bits)
{
	struct wg_allowedips_node *list = NULL, *last = NULL, *n;
	size_t want;

	if (n_inserts > SIZE_MAX / 2)
		return -ENOMEM;
	want = 2 * n_inserts;
	for (size_t have = *count; have < want; have++) {
		n = calloc(1, node_size(bits));
		if (!n)
			goto err_free;
		n->wide = bits == 128;
		n->bits = (uint8_t)bits;
		n->child[0] = list;
		list = n;
		if (!last)
			last = n;
	}
	if (list) {
		last->child[0] = *head;
		*head = list;
		*count = want;
	}
	return 0;

err_free:
	while ((n = list)) {
		list = n->child[0];
		free(n);
	}
	return -ENOMEM;
}

int wg_allowedips_reserve(struct wg_allowedips *t, size_t n_inserts)
{
	return t ? reserve_list(&t->reserve, &t->reserved, n_inserts, 128) : -EINVAL;
}

int wg_allowedips_reserve4(struct wg_allowedips *t, size_t n_inserts)
{
	return t ? reserve_list(&t->reserve4, &t->reserved4, n_inserts, 32) : -EINVAL;
}

void wg_allowedips_unreserve(struct wg_allowedips *t)
{
	struct wg_allowedips_node *n;

	if (!t)
		return;
	while ((n = t->reserve)) {
		t->reserve = n->child[0];
		free(n);
	}
	t->reserved = 0;
	while ((n = t->reserve4)) {
		t->reserve4 = n->child[0];
		free(n);
	}
	t->reserved4 = 0;
}

/*
 * Insert: find where the prefix belongs (the deepest node whose prefix
 * contains it), then either give an existing node of the same prefix to
 * owner, hang a new leaf on an empty slot, splice the new node in above the
 * subtree it contains ("down"), or splice in a branch node with down and
 * the new node as children. All allocation happens before the first change.
 */
static int trie_insert(struct wg_allowedips *t, int family, const uint8_t *addr,
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

	n = node_new(t, &k, cidr, bits);
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
			mid = node_new(t, &mk, common, bits);
			if (!mid) {
				node_unused(t, n);
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

/* the trie first, then the v4 lookup table from it */
int wg_allowedips_insert(struct wg_allowedips *t, int family, const uint8_t *addr,
			 unsigned int cidr, struct wg_allowedips_owner *owner)
{
	size_t before = t ? t->prefixes4 : 0;
	int ret = trie_insert(t, family, addr, cidr, owner);

	if (!ret && family == AF_INET)
		wg_allowedips_dir_insert(t, load_addr4(addr) & mask32(cidr), cidr, owner,
					 t->prefixes4 != before);
	return ret;
}

/*
 * Take n's prefix out of the trie. n stays as a branch node when it has
 * two children; otherwise its slot gets its only child (or NULL), and when
 * n was a leaf under a branch node, that branch node is spliced out too.
 * Touches at most two nodes; see the concurrency rule at the top.
 */
static void trie_remove(struct wg_allowedips *t, struct wg_allowedips_node *n)
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

/* n's prefix out of the trie, then out of the v4 lookup table (n may be gone by then) */
static void remove_node(struct wg_allowedips *t, struct wg_allowedips_node *n)
{
	uint32_t key = n->key4;
	unsigned int cidr = n->cidr, bits = n->bits;

	trie_remove(t, n);
	if (bits == 32)
		wg_allowedips_dir_remove(t, key, cidr);
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

struct wg_allowedips_owner *wg_allowedips_owner_of(const struct wg_allowedips *t, int family,
						   const uint8_t *addr, unsigned int cidr)
{
	unsigned int bits = family_bits(family);
	const struct wg_allowedips_node *n;
	struct key k;

	if (!t || !addr || !bits || cidr > bits)
		return NULL;
	load_key(&k, bits, addr);
	mask_key(&k, cidr);
	n = find_exact(t, bits, &k, cidr);
	return n ? n->owner : NULL; /* a branch node has none */
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
	uint64_t hi, lo;
	uint32_t k;

	if (family == AF_INET) {
		k = load_addr4(addr);
		return dir_lookup4(t, k);
	}
	if (family == AF_INET6) {
		load_addr6(addr, &hi, &lo);
		return walk6(load_node(&t->root6), hi, lo);
	}
	return NULL;
}

/*
 * Bulk lookups in the trie walk up to BULK_LANES tries in lock step, one
 * level per round, prefetching each lane's next node: the cache misses of a
 * burst overlap instead of adding up. For v4 only the addresses of /16s
 * without a lookup table come here (wg_allowedips_dir_bulk4); m <= BULK_LANES.
 */
void wg_allowedips_trie_bulk4(const struct wg_allowedips *t, const uint32_t *k,
			      struct wg_allowedips_owner **owners, unsigned int m)
{
	const struct wg_allowedips_node *cur[BULK_LANES], *n;
	struct wg_allowedips_owner *best[BULK_LANES], *o;
	unsigned int i, live, c;

	for (i = 0; i < m; i++)
		__builtin_prefetch(&t->slot4[k[i] >> (32 - V4_STRIDE)]);
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
	if (family == AF_INET) {
		wg_allowedips_dir_bulk4(t, addrs, owners, n);
		return;
	}
	for (unsigned int done = 0; done < n;) {
		unsigned int m = n - done < BULK_LANES ? n - done : BULK_LANES;

		if (family == AF_INET6)
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
	st->reserved = t->reserved;
	st->reserved4 = t->reserved4;
	st->v4_tables = t->dir_tables;
	st->v4_table_bytes = t->dir_bytes;
	st->v4_trie_slots = t->dir_trie_slots;
	st->tables_deferred = t->tables_deferred;
}
