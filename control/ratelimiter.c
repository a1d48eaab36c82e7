/* SPDX-License-Identifier: MIT */
/*
 * Handshake rate limiter: one token bucket per source, as the kernel's
 * ratelimiter.c does it, in a fixed-size table.
 *
 * Buckets. Time is the currency: a message costs PACKET_COST = 1 s / 20 of
 * credit and a bucket holds at most TOKEN_MAX = 5 * PACKET_COST, so a
 * source gets a burst of 5 and then 20 messages per second. A new source
 * starts full and pays for its first message (TOKEN_MAX - PACKET_COST
 * left). On every message the bucket gains the time elapsed since the
 * previous one (capped at TOKEN_MAX); the message is allowed when the
 * bucket holds at least PACKET_COST, which is then taken. A refused message
 * takes nothing, so the credit it found is kept for the next one.
 *
 * Sources. IPv4 senders are keyed on the /32, IPv6 senders on the /64
 * (one host usually owns a whole /64), plus the family, so an IPv4 address
 * and an IPv6 prefix with the same leading bytes never share a bucket. The
 * port is ignored.
 *
 * Table. Open addressing with linear probing over 2 * limit slots, where
 * limit is max_entries rounded up to a power of two: at most half the
 * slots are ever used, so probe sequences stay short and every scan finds
 * an empty slot. Slots are allocated once, in wg_ratelimiter_create(); allow
 * and gc never allocate. The slot index is a SipHash-2-4 of the key under a
 * random per-limiter key, so remote senders cannot aim at one probe chain.
 * Deletion is by backward shift (no tombstones): after a slot is emptied,
 * later members of its cluster that may live there move back into it.
 *
 * When limit sources are tracked, a new source is refused (false) until gc
 * frees a slot; sources already tracked keep being served. The limiter is
 * only consulted under load and after mac2 (the cookie) verified, so every
 * entry belongs to a sender that proved it owns its address: filling the
 * table takes that many real addresses, and their excess is dropped for at
 * most the second it takes gc to reclaim idle entries.
 *
 * gc drops a source once its last message is more than 1 s old (the kernel
 * drops it at exactly 1 s; the header's contract says "over one second").
 *
 * Owned by the control thread: no locking.
 */
#include "control/ratelimiter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure.h"
#include "dataplane/messages.h"

#define PACKET_COST (WG_NSEC_PER_SEC / WG_RATELIMIT_PACKETS_PER_SECOND)
#define TOKEN_MAX (PACKET_COST * WG_RATELIMIT_PACKETS_BURST)
#define IDLE_EXPIRY WG_NSEC_PER_SEC

_Static_assert(TOKEN_MAX <= UINT32_MAX, "tokens fit in 32 bits");

struct slot {
	uint64_t prefix;  /* IPv4 address or IPv6 /64, in memory order */
	uint64_t last_ns; /* time of the last message */
	uint32_t tokens;  /* credit in ns, <= TOKEN_MAX */
	uint8_t family;   /* AF_INET or AF_INET6; 0 = empty slot */
};

struct wg_ratelimiter {
	struct slot *slots;
	size_t mask;  /* number of slots - 1 */
	size_t limit; /* most sources tracked at once: half the slots */
	size_t count;
	uint64_t k0, k1; /* SipHash key */
};

/* ---- SipHash-2-4 of a 16-byte message (two little-endian words) --------- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                               \
	do {                                                                                   \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                      \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                         \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                         \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                      \
	} while (0)

/*
 * SipHash-2-4 (Aumasson and Bernstein) specialised to a 16-byte input whose
 * two little-endian 64-bit words are m0 and m1: two compression blocks, then
 * the length block (16 << 56), then finalisation.
 */
static uint64_t siphash_2u64(uint64_t k0, uint64_t k1, uint64_t m0, uint64_t m1)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k1 ^ 0x7465646279746573ull;
	const uint64_t m[3] = { m0, m1, 16ull << 56 };

	for (int i = 0; i < 3; i++) {
		v3 ^= m[i];
		SIPROUND;
		SIPROUND;
		v0 ^= m[i];
	}
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

#undef SIPROUND

/* ---- table -------------------------------------------------------------- */

/* the bucket key of src; false when src has no address */
static bool key_of(const struct wg_endpoint *src, uint64_t *prefix, uint8_t *family)
{
	*prefix = 0;
	*family = src->family;
	if (src->family == AF_INET)
		memcpy(prefix, src->addr, 4);
	else if (src->family == AF_INET6)
		memcpy(prefix, src->addr, 8);
	else
		return false;
	return true;
}

static size_t home_of(const struct wg_ratelimiter *rl, uint64_t prefix, uint8_t family)
{
	return (size_t)siphash_2u64(rl->k0, rl->k1, prefix, family) & rl->mask;
}

/*
 * Empty slot i and close the gap: walk the rest of the cluster and move
 * back into the hole every entry whose home slot does not lie cyclically in
 * (hole, j], i.e. that would no longer be found past the hole. Stops at the
 * first empty slot. Every remaining entry stays reachable from its home
 * without gaps, so lookups need no tombstones.
 */
static void remove_at(struct wg_ratelimiter *rl, size_t i)
{
	size_t hole = i, j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & rl->mask;
		if (!rl->slots[j].family)
			break;
		home = home_of(rl, rl->slots[j].prefix, rl->slots[j].family);
		/* distance from home to j versus from the hole to j */
		if (((j - home) & rl->mask) >= ((j - hole) & rl->mask)) {
			rl->slots[hole] = rl->slots[j];
			hole = j;
		}
	}
	memset(&rl->slots[hole], 0, sizeof(rl->slots[hole]));
	rl->count--;
}

int wg_ratelimiter_create(struct wg_ratelimiter **out, size_t max_entries)
{
	struct wg_ratelimiter *rl;
	size_t limit = 1;

	*out = NULL;
	if (!max_entries)
		return -EINVAL;
	while (limit < max_entries) {
		if (limit > SIZE_MAX / 4 / sizeof(struct slot))
			return -ENOMEM;
		limit <<= 1;
	}
	if (limit > SIZE_MAX / 2 / sizeof(struct slot))
		return -ENOMEM;

	rl = calloc(1, sizeof(*rl));
	if (!rl)
		goto err_rl;
	rl->slots = calloc(limit * 2, sizeof(struct slot));
	if (!rl->slots)
		goto err_slots;
	rl->mask = limit * 2 - 1;
	rl->limit = limit;
	wg_secure_random(&rl->k0, sizeof(rl->k0));
	wg_secure_random(&rl->k1, sizeof(rl->k1));
	*out = rl;
	return 0;

err_slots:
	free(rl);
err_rl:
	return -ENOMEM;
}

void wg_ratelimiter_destroy(struct wg_ratelimiter *rl)
{
	if (!rl)
		return;
	free(rl->slots);
	wg_secure_wipe(rl, sizeof(*rl));
	free(rl);
}

bool wg_ratelimiter_allow(struct wg_ratelimiter *rl, const struct wg_endpoint *src, uint64_t now_ns)
{
	uint64_t prefix, tokens, elapsed;
	uint8_t family;
	struct slot *s;
	size_t i;

	if (!key_of(src, &prefix, &family))
		return false;

	for (i = home_of(rl, prefix, family);; i = (i + 1) & rl->mask) {
		s = &rl->slots[i];
		if (!s->family)
			break;
		if (s->prefix != prefix || s->family != family)
			continue;
		/*
		 * Credit for the time since the last message. A clock that
		 * went backwards earns nothing and does not move last_ns back,
		 * so it cannot be used to earn the same time twice.
		 */
		elapsed = now_ns > s->last_ns ? now_ns - s->last_ns : 0;
		tokens = elapsed >= TOKEN_MAX ? TOKEN_MAX : s->tokens + elapsed;
		if (tokens > TOKEN_MAX)
			tokens = TOKEN_MAX;
		if (now_ns > s->last_ns)
			s->last_ns = now_ns;
		if (tokens < PACKET_COST) {
			s->tokens = (uint32_t)tokens;
			return false;
		}
		s->tokens = (uint32_t)(tokens - PACKET_COST);
		return true;
	}

	/* new source: slot i is the empty slot that ends its probe chain */
	if (rl->count >= rl->limit)
		return false;
	s->prefix = prefix;
	s->family = family;
	s->last_ns = now_ns;
	s->tokens = TOKEN_MAX - PACKET_COST;
	rl->count++;
	return true;
}

/*
 * Drop every source whose last message is more than IDLE_EXPIRY old, in
 * one pass over the slots. After a removal the same index is looked at
 * again, since backward shift may have moved a not yet visited entry into
 * it. Nothing is skipped: a shift moves entries only backwards, from a slot
 * after the hole to the hole, and the hole starts at the current index, so
 * a not yet visited entry lands at or after the current index. Only when
 * the shift wraps past the end of the table does an entry from the start
 * (already visited and kept) come back into view; looking at it twice is
 * harmless.
 */
void wg_ratelimiter_gc(struct wg_ratelimiter *rl, uint64_t now_ns)
{
	size_t i = 0;

	while (i <= rl->mask && rl->count) {
		const struct slot *s = &rl->slots[i];

		if (s->family && now_ns > s->last_ns && now_ns - s->last_ns > IDLE_EXPIRY)
			remove_at(rl, i);
		else
			i++;
	}
}

size_t wg_ratelimiter_count(const struct wg_ratelimiter *rl)
{
	return rl->count;
}
