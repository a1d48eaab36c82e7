/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the allowed-IPs table (dataplane/allowedips.c).
 *
 * The input is a program: each operation is an opcode byte and its
 * arguments (insert, remove, remove_by_owner, lookup, exact-prefix owner_of,
 * move or remove a known prefix, reserve or unreserve nodes) over four
 * owners, with addresses given in full or in a compact form that makes long
 * shared prefixes and deep tries likely. A naive list of prefixes is the
 * model: every return value, every lookup (single and bulk), every owner_of
 * (the prefix and one bit shorter or longer), the counts, each owner's walk
 * and the structure check must agree with it; every insert links at most
 * two nodes, takes them from the reserve while it lasts, and takes none from
 * the heap while a reserve call still guarantees it. After all owners are
 * removed (and the reserve freed) the table must be empty with every node
 * handed to defer_free exactly once (here freed at once, so ASan sees any
 * later use and any second free). Any difference aborts. The table is
 * created once (creating one costs milliseconds under ASan) and must be
 * provably empty at the end of every input, so each input starts from the
 * same state.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dataplane/allowedips.h"

#define OWNERS 4
#define MAX_PREFIXES 512

#define ASSERT(cond)                                                                               \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

struct mprefix {
	int fam;
	unsigned int cidr;
	uint8_t key[16];
	int owner;
};

struct state {
	struct wg_allowedips *t;
	struct wg_allowedips_owner own[OWNERS];
	struct wg_allowedips_owner *ptrs[OWNERS];
	struct mprefix m[MAX_PREFIXES];
	size_t n;
	uint64_t deferred;
	size_t guaranteed; /* inserts the last reserve calls still make failure-free */
	size_t guaranteed4; /* v4 inserts the last reserve4 calls still make failure-free */
	const uint8_t *in;
	size_t left;
};

static void defer_free(void *ctx, void *node)
{
	struct state *s = ctx;

	s->deferred++;
	wg_allowedips_node_free(node);
}

static uint8_t next(struct state *s)
{
	if (!s->left)
		return 0;
	s->left--;
	return *s->in++;
}

static unsigned int fam_len(int fam)
{
	return fam == AF_INET ? 4 : 16;
}

static void mask(uint8_t *a, unsigned int len, unsigned int cidr)
{
	for (unsigned int i = 0; i < len; i++) {
		unsigned int keep = cidr >= 8 * (i + 1) ? 8 : cidr > 8 * i ? cidr - 8 * i : 0;

		a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

static long model_find(const struct state *s, int fam, const uint8_t *key, unsigned int cidr)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].fam == fam && s->m[i].cidr == cidr && !memcmp(s->m[i].key, key, 16))
			return (long)i;
	return -1;
}

static int model_lookup(const struct state *s, int fam, const uint8_t *addr)
{
	int best = -1, best_cidr = -1;
	uint8_t k[16];

	for (size_t i = 0; i < s->n; i++) {
		if (s->m[i].fam != fam || (int)s->m[i].cidr <= best_cidr)
			continue;
		memset(k, 0, 16);
		memcpy(k, addr, fam_len(fam));
		mask(k, fam_len(fam), s->m[i].cidr);
		if (!memcmp(k, s->m[i].key, 16)) {
			best = s->m[i].owner;
			best_cidr = (int)s->m[i].cidr;
		}
	}
	return best;
}

static void model_del(struct state *s, size_t i)
{
	s->m[i] = s->m[--s->n];
}

static int owner_index(const struct state *s, const struct wg_allowedips_owner *o)
{
	if (!o)
		return -1;
	ASSERT(o >= s->own && o < s->own + OWNERS);
	return (int)(o - s->own);
}

static void check_lookup(struct state *s, int fam, const uint8_t *addr)
{
	struct wg_allowedips_owner *bulk[3];
	const uint8_t *ptrs[3] = { addr, addr, addr };
	int want = model_lookup(s, fam, addr);

	ASSERT(owner_index(s, wg_allowedips_lookup(s->t, fam, addr)) == want);
	wg_allowedips_lookup_bulk(s->t, fam, ptrs, bulk, 3);
	for (int i = 0; i < 3; i++)
		ASSERT(owner_index(s, bulk[i]) == want);
}

/* owner_of addr/cidr is the model's exact entry, or NULL (also for a cidr too long) */
static void check_owner_of(struct state *s, int fam, const uint8_t *addr, unsigned int cidr)
{
	struct wg_allowedips_owner *got = wg_allowedips_owner_of(s->t, fam, addr, cidr);
	uint8_t key[16] = { 0 };
	long i;

	if (cidr > 8 * fam_len(fam)) {
		ASSERT(got == NULL);
		return;
	}
	memcpy(key, addr, fam_len(fam));
	mask(key, fam_len(fam), cidr);
	i = model_find(s, fam, key, cidr);
	ASSERT(owner_index(s, got) == (i < 0 ? -1 : s->m[i].owner));
}

/* insert, checking where its nodes came from: the v4 reserve (v4 only), the wide one, the heap */
static int insert(struct state *s, int fam, const uint8_t *addr, unsigned int cidr, int o)
{
	struct wg_allowedips_stats a, b;
	uint64_t linked;
	size_t taken, taken4;
	int ret;

	wg_allowedips_get_stats(s->t, &a);
	ASSERT(a.reserved >= 2 * s->guaranteed && a.reserved4 >= 2 * s->guaranteed4);
	ret = wg_allowedips_insert(s->t, fam, addr, cidr, &s->own[o]);
	wg_allowedips_get_stats(s->t, &b);
	linked = b.nodes_allocated - a.nodes_allocated;
	taken = a.reserved - b.reserved;
	taken4 = a.reserved4 - b.reserved4;
	ASSERT(linked <= 2);
	if (fam == AF_INET)
		ASSERT(taken4 == (linked < a.reserved4 ? linked : a.reserved4) &&
		       taken == (linked - taken4 < a.reserved ? linked - taken4 : a.reserved));
	else
		ASSERT(taken4 == 0 && taken == (linked < a.reserved ? linked : a.reserved));
	ASSERT(!ret || (linked == 0 && taken == 0 && taken4 == 0));
	if (fam == AF_INET && s->guaranteed4) {
		ASSERT(ret != -ENOMEM && taken4 == linked); /* nothing from the heap */
		s->guaranteed4--;
	} else if (s->guaranteed) {
		ASSERT(ret != -ENOMEM && taken + taken4 == linked);
		s->guaranteed--;
	}
	return ret;
}

static void op_reserve(struct state *s, uint8_t op)
{
	size_t n = next(s) % 48;
	struct wg_allowedips_stats a, b;

	wg_allowedips_get_stats(s->t, &a);
	if (op & 0x08) {
		wg_allowedips_unreserve(s->t);
		s->guaranteed = s->guaranteed4 = 0;
	} else if (op & 0x10) {
		ASSERT(wg_allowedips_reserve4(s->t, n) == 0);
		if (n > s->guaranteed4)
			s->guaranteed4 = n;
	} else {
		ASSERT(wg_allowedips_reserve(s->t, n) == 0);
		if (n > s->guaranteed)
			s->guaranteed = n;
	}
	wg_allowedips_get_stats(s->t, &b);
	if (op & 0x08)
		ASSERT(b.reserved == 0 && b.reserved4 == 0);
	else if (op & 0x10)
		ASSERT(b.reserved == a.reserved && b.reserved4 == (a.reserved4 > 2 * n ? a.reserved4 : 2 * n));
	else
		ASSERT(b.reserved4 == a.reserved4 && b.reserved == (a.reserved > 2 * n ? a.reserved : 2 * n));
	ASSERT(b.bytes == a.bytes && b.nodes == a.nodes && b.nodes_allocated == a.nodes_allocated);
}

/*
 * lookups around addr/cidr: the address, the prefix's edges, a bit flipped
 * near cidr; owner_of the prefix and one bit shorter and longer
 */
static void check_around(struct state *s, int fam, const uint8_t *addr, unsigned int cidr)
{
	unsigned int len = fam_len(fam), bits = 8 * len;
	uint8_t a[16];

	for (unsigned int c = cidr ? cidr - 1 : 0; c <= cidr + 1; c++)
		check_owner_of(s, fam, addr, c);
	check_lookup(s, fam, addr);
	memcpy(a, addr, len);
	mask(a, len, cidr > bits ? bits : cidr);
	check_lookup(s, fam, a);
	for (unsigned int i = 0; i < len; i++)
		a[i] |= (uint8_t) ~(0xff00u >> (cidr >= 8 * (i + 1) ? 8
						: cidr > 8 * i	    ? cidr - 8 * i
								    : 0));
	check_lookup(s, fam, a);
	for (int d = -1; d <= 1; d++) {
		int pos = (int)cidr + d;

		if (pos < 0 || pos >= (int)bits)
			continue;
		memcpy(a, addr, len);
		a[pos / 8] ^= (uint8_t)(0x80 >> (pos % 8));
		check_lookup(s, fam, a);
	}
}

static void check_counts(struct state *s)
{
	size_t n4 = 0, n6 = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (s->m[i].fam == AF_INET)
			n4++;
		else
			n6++;
	}
	ASSERT(wg_allowedips_count(s->t, AF_INET) == n4);
	ASSERT(wg_allowedips_count(s->t, AF_INET6) == n6);
}

struct walk {
	const struct state *s;
	int owner;
	size_t n;
};

static int walk_cb(void *ctx, int family, const uint8_t *addr, unsigned int cidr)
{
	struct walk *w = ctx;
	uint8_t k[16] = { 0 };
	long i;

	memcpy(k, addr, fam_len(family));
	i = model_find(w->s, family, k, cidr);
	ASSERT(i >= 0 && w->s->m[i].owner == w->owner);
	w->n++;
	return 0;
}

static void check_full(struct state *s)
{
	ASSERT(wg_allowedips_check(s->t, s->ptrs, OWNERS, NULL));
	check_counts(s);
	for (int o = 0; o < OWNERS; o++) {
		struct walk w = { s, o, 0 };
		size_t want = 0;

		ASSERT(wg_allowedips_walk_owner(s->t, &s->own[o], walk_cb, &w) == 0);
		for (size_t i = 0; i < s->n; i++)
			want += s->m[i].owner == o;
		ASSERT(w.n == want && s->own[o].count == want);
	}
}

/* an address: 0 = v4 raw, 1 = v6 raw, 2 = v6 compact (one byte set), 3 = v4 compact */
static int read_addr(struct state *s, uint8_t kind, uint8_t addr[16])
{
	uint8_t pos, val;

	memset(addr, 0, 16);
	switch (kind & 3) {
	case 0:
		for (int i = 0; i < 4; i++)
			addr[i] = next(s);
		return AF_INET;
	case 1:
		for (int i = 0; i < 16; i++)
			addr[i] = next(s);
		return AF_INET6;
	case 2:
		pos = next(s);
		val = next(s);
		addr[pos % 16] = val;
		if (pos & 0x80)
			addr[0] = 0xfd;
		return AF_INET6;
	default:
		pos = next(s);
		val = next(s);
		addr[0] = 10;
		addr[1 + pos % 3] = val;
		return AF_INET;
	}
}

static void op_insert(struct state *s, uint8_t op)
{
	int o = next(s) % OWNERS, fam, ret;
	uint8_t addr[16], key[16];
	unsigned int cidr, bits;
	long i;

	fam = read_addr(s, op >> 3, addr);
	bits = 8 * fam_len(fam);
	cidr = next(s) % (bits + 9); /* sometimes too long */
	if (cidr <= bits) {
		memcpy(key, addr, 16);
		mask(key, fam_len(fam), cidr);
		i = model_find(s, fam, key, cidr);
		if (i < 0 && s->n == MAX_PREFIXES)
			return;
	}
	ret = insert(s, fam, addr, cidr, o);
	if (cidr > bits) {
		ASSERT(ret == -EINVAL);
		return;
	}
	ASSERT(ret == 0);
	i = model_find(s, fam, key, cidr);
	if (i < 0) {
		i = (long)s->n++;
		s->m[i].fam = fam;
		s->m[i].cidr = cidr;
		memcpy(s->m[i].key, key, 16);
	}
	s->m[i].owner = o;
	check_around(s, fam, addr, cidr);
}

static void op_remove(struct state *s, uint8_t op)
{
	int o = next(s) % OWNERS, fam, ret;
	uint8_t addr[16], key[16];
	unsigned int cidr, bits;
	long i;

	fam = read_addr(s, op >> 3, addr);
	bits = 8 * fam_len(fam);
	cidr = next(s) % (bits + 9);
	ret = wg_allowedips_remove(s->t, fam, addr, cidr, &s->own[o]);
	if (cidr > bits) {
		ASSERT(ret == -EINVAL);
		return;
	}
	memcpy(key, addr, 16);
	mask(key, fam_len(fam), cidr);
	i = model_find(s, fam, key, cidr);
	if (i >= 0 && s->m[i].owner == o) {
		ASSERT(ret == 0);
		model_del(s, (size_t)i);
	} else {
		ASSERT(ret == -ENOENT);
	}
	check_around(s, fam, addr, cidr);
}

static void op_known(struct state *s, uint8_t op)
{
	uint8_t idx = next(s), arg = next(s);
	struct mprefix p;
	int o = arg % OWNERS, ret;

	if (!s->n)
		return;
	p = s->m[idx % s->n];
	if (op & 0x08) { /* move to owner o */
		ASSERT(insert(s, p.fam, p.key, p.cidr, o) == 0);
		s->m[idx % s->n].owner = o;
	} else { /* remove, by its owner or another */
		ret = wg_allowedips_remove(s->t, p.fam, p.key, p.cidr, &s->own[o]);
		if (o == p.owner) {
			ASSERT(ret == 0);
			model_del(s, idx % s->n);
		} else {
			ASSERT(ret == -ENOENT);
		}
	}
	check_around(s, p.fam, p.key, p.cidr);
}

static void op_remove_owner(struct state *s)
{
	int o = next(s) % OWNERS;
	size_t want = 0;

	for (size_t i = 0; i < s->n;) {
		if (s->m[i].owner == o) {
			model_del(s, i);
			want++;
		} else {
			i++;
		}
	}
	ASSERT(wg_allowedips_remove_by_owner(s->t, &s->own[o]) == want);
	ASSERT(s->own[o].head == NULL && s->own[o].count == 0);
}

static struct state st;
static size_t empty;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	st.t = wg_allowedips_create(defer_free, &st);
	ASSERT(st.t);
	empty = wg_allowedips_memory(st.t);
	for (int i = 0; i < OWNERS; i++)
		st.ptrs[i] = &st.own[i];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state *s = &st;
	struct wg_allowedips_stats stats, stats0;
	size_t ops = 0;

	/* the previous input left the table empty and every owner unlinked */
	ASSERT(s->t && wg_allowedips_memory(s->t) == empty &&
	       wg_allowedips_count(s->t, AF_UNSPEC) == 0);
	wg_allowedips_get_stats(s->t, &stats0);
	ASSERT(stats0.reserved == 0 && stats0.reserved4 == 0);
	s->n = 0;
	s->deferred = 0;
	s->guaranteed = 0;
	s->guaranteed4 = 0;
	s->in = data;
	s->left = size;

	while (s->left) {
		uint8_t op = next(s), addr[16];
		int fam;

		switch (op % 8) {
		case 0:
		case 1:
			op_insert(s, op);
			break;
		case 2:
			op_remove(s, op);
			break;
		case 3:
			op_known(s, op);
			break;
		case 4:
			op_remove_owner(s);
			break;
		case 5:
			fam = read_addr(s, op >> 3, addr);
			check_lookup(s, fam, addr);
			break;
		case 6:
			fam = read_addr(s, op >> 3, addr);
			check_owner_of(s, fam, addr, next(s) % (8 * fam_len(fam) + 9));
			break;
		default:
			op_reserve(s, op);
			break;
		}
		check_counts(s);
		if (++ops % 32 == 0)
			check_full(s);
	}
	check_full(s);
	for (size_t i = 0; i < s->n; i++) { /* every prefix answers for itself */
		uint8_t a[16];

		memcpy(a, s->m[i].key, 16);
		check_lookup(s, s->m[i].fam, a);
		ASSERT(wg_allowedips_owner_of(s->t, s->m[i].fam, a, s->m[i].cidr) ==
		       &s->own[s->m[i].owner]);
	}

	for (int o = 0; o < OWNERS; o++)
		wg_allowedips_remove_by_owner(s->t, &s->own[o]);
	wg_allowedips_unreserve(s->t);
	wg_allowedips_get_stats(s->t, &stats);
	ASSERT(stats.prefixes4 == 0 && stats.prefixes6 == 0 && stats.nodes == 0 && !stats.reserved);
	ASSERT(stats.bytes == empty && wg_allowedips_memory(s->t) == empty);
	ASSERT(stats.nodes_allocated == stats.nodes_deferred);
	ASSERT(stats.nodes_deferred - stats0.nodes_deferred + stats.tables_deferred -
		       stats0.tables_deferred ==
	       s->deferred);
	return 0;
}
