/* SPDX-License-Identifier: MIT */
/*
 * Address pools (see pool.h for the rules).
 *
 * An address is kept as its offset in the pool: the host bits, a number
 * below 2^h where h = 32 - cidr or 128 - cidr (up to 128 bits, so two
 * 64-bit words). The taken set lives in two structures:
 *
 *  - dense: a bitmap over the offsets [0, B), B a power of two (at least
 *    64), with summary levels above it in the manner of a 64-ary tree:
 *    bit i of level k+1 is set when word i of level k is all ones (full).
 *    The topmost level is one word. The lowest zero bit is found by walking
 *    down from the top word with one count-trailing-zeros per level, and a
 *    set or a clear walks up only while a word becomes or stops being full:
 *    O(log64 B), at most 7 steps for B = 2^42.
 *  - sparse: the taken offsets at or above B, in an open-addressing hash
 *    set (linear probing, at most 3/4 full, backward-shift deletion so no
 *    tombstones). A key is one word for pools up to 64 host bits and two
 *    above; offset 0 is always below B, so all-zero marks an empty slot.
 *
 * Allocation takes the lowest zero of the dense bitmap. When the bitmap is
 * full, B doubles (up to the size of the pool), the sparse offsets below the
 * new B move into the bitmap and the search repeats; since everything below
 * B is in the bitmap, its lowest zero is the lowest free address overall.
 * A reserve below B sets a bit; above B it doubles B as far as needed when
 * the bitmap would then cost at most DENSE_BITS_PER_TAKEN bits per taken
 * address (a state file reloaded in any order lands in the bitmap after
 * its first 1/64th) and otherwise goes to the sparse set (an address far
 * up a /64 costs one hash slot, not a bitmap up to it).
 *
 * Costs: alloc, reserve, release and is_taken are O(log64 B) plus the
 * expected O(1) of a hash probe; growth copies the bitmap and rescans the
 * sparse set, which B doubling makes amortized O(1) per taken address.
 * Memory: the bitmap and its summaries hold 1.02 bits per offset below B.
 * Handed out in order, B is under twice the number taken: at most 2.1 bits
 * (0.26 bytes) per address, 0.17 bytes for 200,000 in a /14. A reserve
 * grows B only while that costs at most 8 bytes per taken address. A sparse
 * entry is an 8- or 16-byte slot at a load of 3/8 to 3/4: 11 to 21 bytes
 * per address, 21 to 43 in pools larger than a /64. The bitmap never
 * shrinks (after mass releases the cost is that of the peak), so release
 * never allocates and cannot fail.
 *
 * The never-handed-out addresses (offset 0, and for IPv4 the broadcast) and
 * the padding of a pool smaller than 64 addresses are set in the bitmap so
 * the search skips them; they are not counted in used and every entry point
 * turns them away before looking at the bitmap.
 */
#include "conf/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define DENSE_MIN_BITS 64u
#define DENSE_MAX_BITS (1ull << 42) /* 512 GiB of bitmap: memory runs out first */
#define DENSE_MAX_LEVELS 7           /* levels for DENSE_MAX_BITS: 2^42 .. 2^6 */
#define DENSE_BITS_PER_TAKEN 64u     /* a reserve grows the bitmap up to 8 bytes per taken */
#define SPARSE_MIN_SLOTS 16u

struct off {
	uint64_t hi, lo;
};

struct wg_pool {
	struct wg_conf_prefix prefix;
	unsigned host_bits;        /* h: 0..32 or 0..128 */
	unsigned key_words;        /* words per sparse key: 1 when h <= 64, else 2 */
	struct off net, mask;      /* the network and the host mask as numbers */
	uint64_t capacity;         /* saturated */
	uint64_t used;
	uint64_t dense_max;        /* min(2^h, DENSE_MAX_BITS), at least DENSE_MIN_BITS */
	uint64_t dense_bits;       /* B */
	unsigned levels;
	uint64_t *level[DENSE_MAX_LEVELS];
	uint64_t *sparse;          /* sparse_cap * key_words words */
	size_t sparse_cap, sparse_n;
};

/* ---- addresses and offsets ---- */

static uint64_t load_be64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static void store_be64(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static struct off addr_to_num(uint8_t family, const uint8_t addr[16])
{
	struct off n;

	if (family == AF_INET) {
		n.hi = 0;
		n.lo = (uint64_t)addr[0] << 24 | (uint64_t)addr[1] << 16 | (uint64_t)addr[2] << 8 |
		       addr[3];
	} else {
		n.hi = load_be64(addr);
		n.lo = load_be64(addr + 8);
	}
	return n;
}

/* the low h bits set */
static struct off host_mask(unsigned h)
{
	struct off m;

	if (h >= 64) {
		m.lo = ~0ull;
		m.hi = h >= 128 ? ~0ull : (1ull << (h - 64)) - 1;
	} else {
		m.hi = 0;
		m.lo = h ? (1ull << h) - 1 : 0;
	}
	return m;
}

/* offset of addr in p; false when addr is not inside (wrong family included) */
static bool to_offset(const struct wg_pool *p, const uint8_t addr[16], struct off *o)
{
	struct off n;

	if (p->prefix.family == AF_INET) {
		for (int i = 4; i < 16; i++)
			if (addr[i])
				return false;
	}
	n = addr_to_num(p->prefix.family, addr);
	if (((n.hi ^ p->net.hi) & ~p->mask.hi) || ((n.lo ^ p->net.lo) & ~p->mask.lo))
		return false;
	o->hi = n.hi & p->mask.hi;
	o->lo = n.lo & p->mask.lo;
	return true;
}

static void from_offset(const struct wg_pool *p, struct off o, uint8_t addr[16])
{
	uint64_t hi = p->net.hi | o.hi, lo = p->net.lo | o.lo;

	memset(addr, 0, 16);
	if (p->prefix.family == AF_INET) {
		addr[0] = (uint8_t)(lo >> 24);
		addr[1] = (uint8_t)(lo >> 16);
		addr[2] = (uint8_t)(lo >> 8);
		addr[3] = (uint8_t)lo;
	} else {
		store_be64(addr, hi);
		store_be64(addr + 8, lo);
	}
}

/* offset 0 from /30 and /126 on, and the IPv4 broadcast: never handed out */
static bool excluded(const struct wg_pool *p, struct off o)
{
	if (p->host_bits < 2)
		return false;
	if (!o.hi && !o.lo)
		return true;
	return p->prefix.family == AF_INET && o.lo == p->mask.lo;
}

/* offset of an address that may be taken: inside and not excluded */
static bool usable_offset(const struct wg_pool *p, const uint8_t addr[16], struct off *o)
{
	return to_offset(p, addr, o) && !excluded(p, *o);
}

/* ---- dense: the bitmap and its summary levels ---- */

static unsigned levels_for(uint64_t bits)
{
	unsigned n = 1;

	while (bits > 64) {
		bits >>= 6;
		n++;
	}
	return n;
}

static size_t level_words(uint64_t bits, unsigned k)
{
	uint64_t b = bits >> (6 * k);

	return b > 64 ? (size_t)(b / 64) : 1;
}

static bool in_dense(const struct wg_pool *p, struct off o)
{
	return !o.hi && o.lo < p->dense_bits;
}

static bool dense_test(const struct wg_pool *p, uint64_t o)
{
	return p->level[0][o >> 6] >> (o & 63) & 1;
}

static void dense_set(struct wg_pool *p, uint64_t o)
{
	for (unsigned k = 0; k < p->levels; k++, o >>= 6) {
		uint64_t *w = &p->level[k][o >> 6];

		*w |= 1ull << (o & 63);
		if (*w != ~0ull)
			break;
	}
}

static void dense_clear(struct wg_pool *p, uint64_t o)
{
	for (unsigned k = 0; k < p->levels; k++, o >>= 6) {
		uint64_t *w = &p->level[k][o >> 6];
		bool was_full = *w == ~0ull;

		*w &= ~(1ull << (o & 63));
		if (!was_full)
			break;
	}
}

/* lowest clear bit of the bitmap; false when it is full */
static bool dense_find(const struct wg_pool *p, uint64_t *o)
{
	unsigned k = p->levels - 1;
	uint64_t top_bits = p->dense_bits >> (6 * k);
	uint64_t valid = top_bits >= 64 ? ~0ull : (1ull << top_bits) - 1;
	uint64_t free_bits = ~p->level[k][0] & valid;
	uint64_t i;

	if (!free_bits)
		return false;
	i = (uint64_t)__builtin_ctzll(free_bits);
	while (k-- > 0)
		i = i << 6 | (uint64_t)__builtin_ctzll(~p->level[k][i]);
	*o = i;
	return true;
}

/* recompute levels 1.. of lv from level 0 */
static void dense_summarize(uint64_t **lv, unsigned levels, uint64_t bits)
{
	for (unsigned k = 1; k < levels; k++) {
		size_t below = level_words(bits, k - 1);

		memset(lv[k], 0, level_words(bits, k) * sizeof(uint64_t));
		for (size_t i = 0; i < below; i++)
			if (lv[k - 1][i] == ~0ull)
				lv[k][i >> 6] |= 1ull << (i & 63);
	}
}

/* ---- sparse: a hash set of offsets at or above B ---- */

static uint64_t mix(uint64_t h)
{
	/* splitmix64 finalizer */
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static size_t slot_home(struct off o, size_t cap)
{
	return (size_t)mix(o.lo ^ mix(o.hi + 0x9e3779b97f4a7c15ull)) & (cap - 1);
}

static struct off slot_get(const struct wg_pool *p, const uint64_t *tab, size_t i)
{
	struct off o;

	if (p->key_words == 2) {
		o.hi = tab[2 * i];
		o.lo = tab[2 * i + 1];
	} else {
		o.hi = 0;
		o.lo = tab[i];
	}
	return o;
}

static void slot_put(const struct wg_pool *p, uint64_t *tab, size_t i, struct off o)
{
	if (p->key_words == 2) {
		tab[2 * i] = o.hi;
		tab[2 * i + 1] = o.lo;
	} else {
		tab[i] = o.lo;
	}
}

static bool slot_empty(struct off o)
{
	return !o.hi && !o.lo;
}

static bool same_off(struct off a, struct off b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

/* slot of o, or of the empty slot where it would go */
static size_t sparse_probe(const struct wg_pool *p, struct off o)
{
	size_t m = p->sparse_cap - 1, i = slot_home(o, p->sparse_cap);

	for (;;) {
		struct off s = slot_get(p, p->sparse, i);

		if (slot_empty(s) || same_off(s, o))
			return i;
		i = (i + 1) & m;
	}
}

static bool sparse_has(const struct wg_pool *p, struct off o)
{
	return p->sparse_cap && !slot_empty(slot_get(p, p->sparse, sparse_probe(p, o)));
}

/* put o (not present) into tab of cap slots, which has room */
static void sparse_place(const struct wg_pool *p, uint64_t *tab, size_t cap, struct off o)
{
	size_t i = slot_home(o, cap);

	while (!slot_empty(slot_get(p, tab, i)))
		i = (i + 1) & (cap - 1);
	slot_put(p, tab, i, o);
}

/* a table of cap slots holding p's sparse offsets at or above below; NULL on ENOMEM */
static uint64_t *sparse_rebuild(const struct wg_pool *p, size_t cap, uint64_t below)
{
	uint64_t *tab = calloc(cap, p->key_words * sizeof(uint64_t));

	if (!tab)
		return NULL;
	for (size_t i = 0; i < p->sparse_cap; i++) {
		struct off s = slot_get(p, p->sparse, i);

		if (!slot_empty(s) && (s.hi || s.lo >= below))
			sparse_place(p, tab, cap, s);
	}
	return tab;
}

static int sparse_add(struct wg_pool *p, struct off o)
{
	if ((p->sparse_n + 1) * 4 > p->sparse_cap * 3) {
		size_t cap = p->sparse_cap ? p->sparse_cap * 2 : SPARSE_MIN_SLOTS;
		uint64_t *tab = sparse_rebuild(p, cap, 0);

		if (!tab)
			return -ENOMEM;
		free(p->sparse);
		p->sparse = tab;
		p->sparse_cap = cap;
	}
	slot_put(p, p->sparse, sparse_probe(p, o), o);
	p->sparse_n++;
	return 0;
}

/* remove o; false when absent. Backward shift: no tombstones, no allocation. */
static bool sparse_del(struct wg_pool *p, struct off o)
{
	size_t m, i, j;

	if (!p->sparse_cap)
		return false;
	m = p->sparse_cap - 1;
	i = sparse_probe(p, o);
	if (slot_empty(slot_get(p, p->sparse, i)))
		return false;
	for (j = i;;) {
		struct off s;
		size_t home;

		j = (j + 1) & m;
		s = slot_get(p, p->sparse, j);
		if (slot_empty(s))
			break;
		home = slot_home(s, p->sparse_cap);
		/* s may stay when its home lies cyclically in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		slot_put(p, p->sparse, i, s);
		i = j;
	}
	slot_put(p, p->sparse, i, (struct off){ 0, 0 });
	p->sparse_n--;
	return true;
}

/* ---- growth ---- */

/*
 * Make the bitmap cover [0, bits) (a power of two above B, at most
 * dense_max): new levels, the old bitmap copied in, the sparse offsets below
 * bits moved over, the broadcast marked once it is covered. Everything is
 * allocated before anything changes: on -ENOMEM the pool is as it was.
 */
static int dense_grow(struct wg_pool *p, uint64_t bits)
{
	uint64_t *lv[DENSE_MAX_LEVELS] = { 0 };
	unsigned levels = levels_for(bits);
	size_t moved = 0, cap = 0;
	uint64_t *tab = NULL;

	for (unsigned k = 0; k < levels; k++) {
		lv[k] = calloc(level_words(bits, k), sizeof(uint64_t));
		if (!lv[k])
			goto err_free;
	}
	for (size_t i = 0; i < p->sparse_cap; i++) {
		struct off s = slot_get(p, p->sparse, i);

		if (!slot_empty(s) && !s.hi && s.lo < bits)
			moved++;
	}
	if (moved) {
		size_t left = p->sparse_n - moved;

		cap = SPARSE_MIN_SLOTS;
		while (left * 4 > cap * 3)
			cap *= 2;
		if (!left)
			cap = 0;
		if (cap && !(tab = sparse_rebuild(p, cap, bits)))
			goto err_free;
	}

	memcpy(lv[0], p->level[0], level_words(p->dense_bits, 0) * sizeof(uint64_t));
	for (size_t i = 0; moved && i < p->sparse_cap; i++) {
		struct off s = slot_get(p, p->sparse, i);

		if (!slot_empty(s) && !s.hi && s.lo < bits)
			lv[0][s.lo >> 6] |= 1ull << (s.lo & 63);
	}
	if (p->prefix.family == AF_INET && p->host_bits >= 2 && p->mask.lo < bits)
		lv[0][p->mask.lo >> 6] |= 1ull << (p->mask.lo & 63); /* broadcast */
	dense_summarize(lv, levels, bits);

	for (unsigned k = 0; k < p->levels; k++)
		free(p->level[k]);
	memcpy(p->level, lv, sizeof(lv));
	p->levels = levels;
	p->dense_bits = bits;
	if (moved) {
		free(p->sparse);
		p->sparse = tab;
		p->sparse_cap = cap;
		p->sparse_n -= moved;
	}
	return 0;

err_free:
	for (unsigned k = 0; k < levels; k++)
		free(lv[k]);
	return -ENOMEM;
}

/* ---- the API ---- */

int wg_pool_create(struct wg_pool **out, const struct wg_conf_prefix *prefix)
{
	struct wg_pool *p;
	unsigned width;
	struct off n;

	if (prefix->family != AF_INET && prefix->family != AF_INET6)
		return -EINVAL;
	width = prefix->family == AF_INET ? 32 : 128;
	if (prefix->cidr > width)
		return -EINVAL;
	if (prefix->family == AF_INET)
		for (int i = 4; i < 16; i++)
			if (prefix->addr[i])
				return -EINVAL;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->prefix = *prefix;
	p->prefix.flags = 0;
	p->host_bits = width - prefix->cidr;
	p->key_words = p->host_bits > 64 ? 2 : 1;
	p->mask = host_mask(p->host_bits);
	n = addr_to_num(prefix->family, prefix->addr);
	if ((n.hi & p->mask.hi) || (n.lo & p->mask.lo))
		goto err_inval; /* host bits set */
	p->net = n;

	if (p->host_bits >= 64)
		p->capacity = UINT64_MAX; /* 2^64 - 1 exactly for an IPv6 /64 */
	else
		p->capacity = (1ull << p->host_bits) -
			      (p->host_bits < 2 ? 0 : prefix->family == AF_INET ? 2 : 1);
	p->dense_max = p->host_bits >= 42 ? DENSE_MAX_BITS : 1ull << p->host_bits;
	if (p->dense_max < DENSE_MIN_BITS)
		p->dense_max = DENSE_MIN_BITS;

	p->dense_bits = DENSE_MIN_BITS;
	p->levels = 1;
	p->level[0] = calloc(1, sizeof(uint64_t));
	if (!p->level[0])
		goto err_free;
	/* padding beyond a pool of fewer than 64 addresses */
	if (p->host_bits < 6)
		p->level[0][0] = ~0ull << (1u << p->host_bits);
	if (p->host_bits >= 2) {
		p->level[0][0] |= 1; /* network / subnet-router anycast */
		if (prefix->family == AF_INET && p->host_bits <= 6)
			p->level[0][0] |= 1ull << p->mask.lo; /* broadcast */
	}
	*out = p;
	return 0;

err_free:
	free(p);
	return -ENOMEM;
err_inval:
	free(p);
	return -EINVAL;
}

void wg_pool_destroy(struct wg_pool *p)
{
	if (!p)
		return;
	for (unsigned k = 0; k < p->levels; k++)
		free(p->level[k]);
	free(p->sparse);
	free(p);
}

/* the smallest power of two >= v (v <= 2^63) */
static uint64_t pow2_ceil(uint64_t v)
{
	return v <= 1 ? 1 : 1ull << (64 - __builtin_clzll(v - 1));
}

int wg_pool_reserve(struct wg_pool *p, const uint8_t addr[16])
{
	struct off o;

	if (!usable_offset(p, addr, &o))
		return -EDOM;
	if (!in_dense(p, o)) {
		uint64_t want;

		if (sparse_has(p, o))
			return -EADDRINUSE;
		want = !o.hi && o.lo < p->dense_max ? pow2_ceil(o.lo + 1) : 0;
		/* cover o with the bitmap when that is cheap; else (or on
		 * -ENOMEM: the sparse set needs less) one hash slot */
		if (!want || want / DENSE_BITS_PER_TAKEN > p->used + 1 || dense_grow(p, want)) {
			int rc = sparse_add(p, o);

			if (rc)
				return rc;
			p->used++;
			return 0;
		}
	}
	if (dense_test(p, o.lo))
		return -EADDRINUSE;
	dense_set(p, o.lo);
	p->used++;
	return 0;
}

int wg_pool_alloc(struct wg_pool *p, uint8_t addr[16])
{
	struct off o = { 0, 0 };

	if (p->used >= p->capacity)
		return -ENOSPC;
	while (!dense_find(p, &o.lo)) {
		int rc;

		if (p->dense_bits >= p->dense_max) {
			/*
			 * 2^42 taken in a pool larger than that: the lowest
			 * free is above the bitmap; walk up past the sparse
			 * entries. Not reached with any real memory size.
			 */
			o.lo = p->dense_bits;
			while (sparse_has(p, o))
				if (!++o.lo)
					o.hi++;
			rc = sparse_add(p, o);
			if (rc)
				return rc;
			goto done;
		}
		rc = dense_grow(p, p->dense_bits * 2);
		if (rc)
			return rc;
	}
	dense_set(p, o.lo);
done:
	p->used++;
	from_offset(p, o, addr);
	return 0;
}

int wg_pool_release(struct wg_pool *p, const uint8_t addr[16])
{
	struct off o;

	if (!usable_offset(p, addr, &o))
		return -EDOM;
	if (in_dense(p, o)) {
		if (!dense_test(p, o.lo))
			return -ENOENT;
		dense_clear(p, o.lo);
	} else if (!sparse_del(p, o)) {
		return -ENOENT;
	}
	p->used--;
	return 0;
}

bool wg_pool_contains(const struct wg_pool *p, const uint8_t addr[16])
{
	struct off o;

	return to_offset(p, addr, &o);
}

bool wg_pool_is_taken(const struct wg_pool *p, const uint8_t addr[16])
{
	struct off o;

	if (!usable_offset(p, addr, &o))
		return false;
	return in_dense(p, o) ? dense_test(p, o.lo) : sparse_has(p, o);
}

uint64_t wg_pool_capacity(const struct wg_pool *p)
{
	return p->capacity;
}

uint64_t wg_pool_used(const struct wg_pool *p)
{
	return p->used;
}

const struct wg_conf_prefix *wg_pool_prefix(const struct wg_pool *p)
{
	return &p->prefix;
}

size_t wg_pool_memory(const struct wg_pool *p)
{
	size_t bytes = sizeof(*p) + p->sparse_cap * p->key_words * sizeof(uint64_t);

	for (unsigned k = 0; k < p->levels; k++)
		bytes += level_words(p->dense_bits, k) * sizeof(uint64_t);
	return bytes;
}
