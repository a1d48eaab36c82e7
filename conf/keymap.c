/* SPDX-License-Identifier: MIT */
/* The control plane's 32-byte-key map (see keymap.h). */
#include "conf/keymap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure.h"

/* four 64-bit words mixed with the seed (multiply-xorshift) */
static uint64_t hash(const struct wg_keymap *m, const uint8_t key[32])
{
	uint64_t h = m->seed, w;

	for (int i = 0; i < 4; i++) {
		memcpy(&w, key + 8 * i, 8);
		h ^= w + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	return h;
}

static int grow(struct wg_keymap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	struct wg_keymap_slot *s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (!m->seed)
		m->seed = ((uint64_t)wg_secure_random_u32() << 32 | wg_secure_random_u32()) | 1;
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->s[i].val)
			continue;
		for (j = hash(m, m->s[i].key) & (cap - 1); s[j].val; j = (j + 1) & (cap - 1))
			;
		s[j] = m->s[i];
	}
	free(m->s);
	m->s = s;
	m->cap = cap;
	return 0;
}

/* key's slot, or the empty slot where it would go */
static struct wg_keymap_slot *slot(const struct wg_keymap *m, const uint8_t key[32])
{
	size_t j;

	for (j = hash(m, key) & (m->cap - 1); m->s[j].val; j = (j + 1) & (m->cap - 1))
		if (!memcmp(m->s[j].key, key, 32))
			break;
	return &m->s[j];
}

uint32_t wg_keymap_get(const struct wg_keymap *m, const uint8_t key[32])
{
	return m->cap ? slot(m, key)->val : 0;
}

int wg_keymap_put(struct wg_keymap *m, const uint8_t key[32], uint32_t val)
{
	struct wg_keymap_slot *s;

	if ((m->n + 1) * 2 > m->cap && grow(m))
		return -ENOMEM;
	s = slot(m, key);
	if (!s->val) {
		memcpy(s->key, key, 32);
		m->n++;
	}
	s->val = val;
	return 0;
}

void wg_keymap_free(struct wg_keymap *m)
{
	free(m->s);
	memset(m, 0, sizeof(*m));
}
