/* SPDX-License-Identifier: MIT */
/*
 * Consistency check of the allowed-IPs table (allowedips.c), for tests and
 * the fuzzer: walks the whole trie and verifies every invariant listed at
 * the top of allowedips.c, the owners' lists, the counters, the memory
 * figure, the node reserve and the v4 lookup table against the trie. Writer only; O(table).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "dataplane/allowedips_internal.h"

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
	if (n->wide > 1)
		return fail(c, "bad block size flag");
	c->nodes++;
	c->bytes += node_bytes(n);
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

/* the reserve: t->reserved wide nodes, linked through child[0] */
static bool check_reserve(struct check *c, const struct wg_allowedips *t)
{
	const struct wg_allowedips_node *n;
	size_t count = 0;

	for (n = t->reserve; n; n = n->child[0]) {
		if (++count > t->reserved)
			return fail(c, "reserve longer than its count");
		if (!n->wide)
			return fail(c, "narrow node in the reserve");
	}
	if (count != t->reserved)
		return fail(c, "reserve count differs from its list");
	count = 0;
	for (n = t->reserve4; n; n = n->child[0]) {
		if (++count > t->reserved4)
			return fail(c, "v4 reserve longer than its count");
		if (n->wide || n->bits != 32)
			return fail(c, "a node of the wrong size in the v4 reserve");
	}
	if (count != t->reserved4)
		return fail(c, "v4 reserve count differs from its list");
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

	c.bytes = sizeof(*t) + t->dir_bytes; /* the v4 lookup table's own check verifies dir_bytes */
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
	if (ok)
		ok = check_reserve(&c, t);
	if (ok && !wg_allowedips_dir_check(t, &c.why))
		ok = false;
	for (size_t i = 0; ok && i < n_owners; i++)
		if (owners[i])
			ok = check_owner(&c, t, owners[i]);
	if (!ok && why)
		*why = c.why;
	return ok;
}
