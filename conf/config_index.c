/* SPDX-License-Identifier: MIT */
/*
 * Open-addressing hash tables (linear probing, at most half full) whose
 * slots point into the device delta instead of copying keys; each slot keeps
 * its hash so growing needs no rehash of the data.
 */
#include "conf/config_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t h, uint64_t w)
{
	/* splitmix64 finalizer over the running state */
	h += w + 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static uint32_t hash_bytes(uint64_t seed, const uint8_t *b, size_t n)
{
	uint64_t h = seed;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t w = 0;

		memcpy(&w, b + i, n - i < 8 ? n - i : 8);
		h = mix(h, w);
	}
	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t hash_prefix(const struct wg_conf_prefix *p)
{
	return hash_bytes((uint64_t)p->family << 8 | p->cidr, p->addr, 16);
}

static bool same_prefix(const struct wg_conf_prefix *a, const struct wg_conf_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr && !memcmp(a->addr, b->addr, 16);
}

/* make room for one more entry; 0 or -ENOMEM */
static int reserve(struct wg_conf_index_slot **tab, size_t *cap, size_t n)
{
	struct wg_conf_index_slot *nt;
	size_t ncap;

	if ((n + 1) * 2 <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < *cap; i++) {
		const struct wg_conf_index_slot *s = &(*tab)[i];
		size_t j;

		if (!s->peer)
			continue;
		for (j = s->hash & (ncap - 1); nt[j].peer; j = (j + 1) & (ncap - 1))
			;
		nt[j] = *s;
	}
	free(*tab);
	*tab = nt;
	*cap = ncap;
	return 0;
}

int wg_conf_index_add_key(struct wg_conf_index *ix, const struct wg_conf_device *dev,
			  size_t peer, size_t *other)
{
	const uint8_t *key = dev->peers[peer].public_key;
	uint32_t h = hash_bytes(0, key, WG_KEY_LEN);
	size_t j;

	if (reserve(&ix->keys, &ix->keys_cap, ix->n_keys))
		return -ENOMEM;
	for (j = h & (ix->keys_cap - 1); ix->keys[j].peer; j = (j + 1) & (ix->keys_cap - 1)) {
		const struct wg_conf_index_slot *s = &ix->keys[j];

		if (s->hash == h && !memcmp(dev->peers[s->peer - 1].public_key, key, WG_KEY_LEN)) {
			*other = s->peer - 1;
			return -EEXIST;
		}
	}
	ix->keys[j] = (struct wg_conf_index_slot){ h, (uint32_t)peer + 1, 0 };
	ix->n_keys++;
	return 0;
}

int wg_conf_index_add_ip(struct wg_conf_index *ix, struct wg_conf_device *dev, size_t peer,
			 const struct wg_conf_prefix *pfx, size_t *prev_peer)
{
	struct wg_conf_prefixes *list = &dev->peers[peer].allowedips;
	uint32_t h = hash_prefix(pfx);
	struct wg_conf_index_slot *s;
	size_t j;

	if (reserve(&ix->ips, &ix->ips_cap, ix->n_ips))
		return -ENOMEM;
	for (j = h & (ix->ips_cap - 1); ix->ips[j].peer; j = (j + 1) & (ix->ips_cap - 1)) {
		struct wg_conf_prefix *old;

		s = &ix->ips[j];
		if (s->hash != h)
			continue;
		old = &dev->peers[s->peer - 1].allowedips.v[s->entry];
		if (!same_prefix(old, pfx))
			continue;
		if (s->peer - 1 == peer)
			return -EEXIST;
		if (wg_conf_prefixes_add(list, pfx))
			return -ENOMEM;
		*prev_peer = s->peer - 1;
		old->family = 0;
		ix->dead++;
		s->peer = (uint32_t)peer + 1;
		s->entry = (uint32_t)(list->n - 1);
		return -EADDRINUSE;
	}
	if (wg_conf_prefixes_add(list, pfx))
		return -ENOMEM;
	ix->ips[j] = (struct wg_conf_index_slot){ h, (uint32_t)peer + 1, (uint32_t)(list->n - 1) };
	ix->n_ips++;
	return 0;
}

void wg_conf_index_compact(struct wg_conf_index *ix, struct wg_conf_device *dev)
{
	if (!ix->dead)
		return;
	for (size_t i = 0; i < dev->n_peers; i++) {
		struct wg_conf_prefixes *l = &dev->peers[i].allowedips;
		size_t o = 0;

		for (size_t k = 0; k < l->n; k++)
			if (l->v[k].family)
				l->v[o++] = l->v[k];
		l->n = o;
	}
	ix->dead = 0;
}

void wg_conf_index_free(struct wg_conf_index *ix)
{
	free(ix->keys);
	free(ix->ips);
	memset(ix, 0, sizeof(*ix));
}
