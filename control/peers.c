/* SPDX-License-Identifier: MIT */
/* The appliance's peer table (see peers.h). Control thread only. */
#include "control/peers.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_jhash.h>
#include <rte_malloc.h>

#include "control/scale.h"
#include "crypto/secure.h"

static uint32_t bucket(const struct wgdp *dev, const uint8_t key[WG_KEY_LEN])
{
	/* public keys are public but attacker-chosen: a seeded hash */
	static uint32_t seed;

	if (!seed)
		seed = wg_secure_random_u32() | 1;
	return rte_jhash(key, WG_KEY_LEN, seed) & dev->peer_hash_mask;
}

int wg_peers_init(struct wgdp *dev, uint32_t max_peers)
{
	uint32_t size = 64;
	int ret;

	/* on the heap's default socket, as rte_zmalloc put them (the caller's first) */
	ret = wg_slab_init(&dev->peer_slab, "wg_peer", sizeof(struct wg_peer), RTE_CACHE_LINE_SIZE,
			   SOCKET_ID_ANY, 0);
	if (!ret)
		ret = wg_slab_init(&dev->session_slab, "wg_session", sizeof(struct wg_session),
				   RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY, 0);
	if (!ret)
		ret = wg_slab_init(&dev->ephemeral_slab, "wg_noise_eph", sizeof(struct wg_noise_ephemeral),
				   RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY, 0);
	/* handshakes come and go one at a time: keep a chunk, not a heap call per handshake */
	dev->ephemeral_slab.min_chunks = 1;
	if (ret)
		return ret;
	while (size < max_peers && size < (1u << 22))
		size <<= 1;
	dev->peer_hash = rte_zmalloc("wg_peer_hash", size * sizeof(*dev->peer_hash), 0);
	if (!dev->peer_hash)
		return -ENOMEM;
	dev->peer_hash_mask = size - 1;
	return 0;
}

struct wg_peer *wg_peers_lookup(struct wgdp *dev, const uint8_t public_key[WG_KEY_LEN])
{
	struct wg_peer *p;

	for (p = dev->peer_hash[bucket(dev, public_key)]; p; p = p->hash_next)
		if (memcmp(wg_peer_public_key(p), public_key, WG_KEY_LEN) == 0)
			return p;
	return NULL;
}

struct wg_peer *wg_peers_alloc(struct wgdp *dev)
{
	return wg_slab_alloc(&dev->peer_slab);
}

void wg_peers_free_unused(struct wgdp *dev, struct wg_peer *p)
{
	wg_slab_free(&dev->peer_slab, p);
}

struct wg_session *wg_peers_session_alloc(struct wgdp *dev)
{
	return wg_slab_alloc(&dev->session_slab);
}

void wg_peers_session_free_unused(struct wgdp *dev, struct wg_session *s)
{
	wg_slab_free(&dev->session_slab, s); /* wiped: a failed derivation may have left keys */
}

void wg_peers_aip_add(struct wgdp *dev, struct wg_peer *p, const struct wg_conf_prefixes *next)
{
	for (size_t i = 0; i < next->n; i++)
		wg_allowedips_insert(dev->aip, next->v[i].family, next->v[i].addr, next->v[i].cidr, &p->aip);
}

static int prefix_cmp(const void *a, const void *b)
{
	return memcmp(a, b, offsetof(struct wg_conf_prefix, flags)) ?: memcmp(
		((const struct wg_conf_prefix *)a)->addr, ((const struct wg_conf_prefix *)b)->addr, 16);
}

void wg_peers_aip_drop(struct wgdp *dev, struct wg_peer *p, const struct wg_conf_prefixes *next)
{
	const struct wg_conf_prefixes *old = &p->conf.allowedips;
	struct wg_conf_prefix *sorted = NULL;
	struct wg_conf_prefix key;

	if (!old->n)
		return;
	/* sorted copy of next: O((n + m) log m), not a pairwise comparison */
	if (next->n && (sorted = malloc(next->n * sizeof(*sorted)))) {
		for (size_t i = 0; i < next->n; i++) {
			sorted[i] = next->v[i];
			sorted[i].flags = 0;
		}
		qsort(sorted, next->n, sizeof(*sorted), prefix_cmp);
	}
	for (size_t i = 0; i < old->n; i++) {
		bool kept = false;

		key = old->v[i];
		key.flags = 0;
		if (sorted)
			kept = bsearch(&key, sorted, next->n, sizeof(*sorted), prefix_cmp) != NULL;
		else
			for (size_t j = 0; j < next->n && !kept; j++)
				kept = !prefix_cmp(&key, &next->v[j]);
		if (!kept) /* -ENOENT when it moved to another peer: fine */
			wg_allowedips_remove(dev->aip, key.family, key.addr, key.cidr, &p->aip);
	}
	free(sorted);
}

void wg_peers_insert(struct wgdp *dev, struct wg_peer *p, struct wg_conf_peer *conf, struct wg_peer_extras *x)
{
	uint32_t b;

	/* the peer's key is its handshake's remote_static (wg_peer_public_key); the
	 * static-static DH waits for the first handshake (wg_peers_handshake) */
	wg_noise_handshake_init(&p->hs, NULL, conf->public_key,
				wg_secure_is_zero(conf->preshared_key, WG_KEY_LEN) ? NULL : conf->preshared_key);
	p->hs_precomputed = false;
	wg_cookie_maker_init(&p->cookie);
	wg_timers_init(&p->timers, (uint64_t)conf->persistent_keepalive * WG_NSEC_PER_SEC);
	wg_allowedips_owner_init(&p->aip);
	rte_seqlock_init(&p->ep_lock);
	if (conf->flags & WG_CONF_PEER_HAS_ENDPOINT)
		p->endpoint = conf->endpoint;
	p->mtu = dev->conf.inside.mtu;
	p->disabled = conf->disabled;
	/* in turn, so peers spread evenly over buckets and so over workers */
	p->bucket = (uint16_t)(dev->next_bucket++ % WG_BUCKETS);
	for (size_t i = 0; i < conf->allowedips.n; i++)
		wg_allowedips_insert(dev->aip, conf->allowedips.v[i].family, conf->allowedips.v[i].addr,
				     conf->allowedips.v[i].cidr, &p->aip);
	wg_peer_conf_set(p, conf, x); /* takes the lists and x; conf is left zeroed */
	b = bucket(dev, wg_peer_public_key(p));
	p->hash_next = dev->peer_hash[b];
	dev->peer_hash[b] = p;
	p->list_next = dev->peers;
	p->list_pprev = &dev->peers;
	if (dev->peers)
		dev->peers->list_pprev = &p->list_next;
	dev->peers = p;
	dev->n_peers++;
}

struct wg_noise_handshake *wg_peers_handshake(struct wgdp *dev, struct wg_peer *p)
{
	if (!p->hs_precomputed) {
		wg_noise_handshake_precompute(&p->hs, &dev->identity);
		p->hs_precomputed = true;
	}
	return &p->hs;
}

int wg_peers_ephemeral_get(struct wgdp *dev, struct wg_peer *p)
{
	if (!p->hs.eph)
		p->hs.eph = wg_slab_alloc(&dev->ephemeral_slab); /* zeroed */
	return p->hs.eph ? 0 : -ENOMEM;
}

void wg_peers_ephemeral_put(struct wgdp *dev, struct wg_peer *p)
{
	if (!p->hs.eph || wg_noise_handshake_pending(&p->hs))
		return;
	wg_slab_free(&dev->ephemeral_slab, p->hs.eph); /* wiped there */
	p->hs.eph = NULL;
}

void wg_peers_handshake_end(struct wgdp *dev, struct wg_peer *p)
{
	if (p->hs_indexed)
		wg_index_del(dev->index, p->hs_index);
	p->hs_indexed = false;
	wg_noise_handshake_clear(&p->hs);
	wg_peers_ephemeral_put(dev, p);
}

void wg_peers_zero_keys(struct wgdp *dev, struct wg_peer *p)
{
	struct wg_keypair *retired[WG_KEYPAIRS_RETIRE_MAX];
	unsigned n = wg_keypairs_clear(&p->keypairs, retired);

	for (unsigned i = 0; i < n; i++)
		wg_peers_retire_keypair(dev, retired[i]);
	wg_peers_handshake_end(dev, p);
}

static void free_session(struct wgdp *dev, void *obj)
{
	struct wg_session *s = obj;

	wg_keypair_wipe(&s->kp);
	wg_slab_free(&dev->session_slab, s); /* wipes the rest */
}

void wg_peers_retire_keypair(struct wgdp *dev, struct wg_keypair *kp)
{
	wg_index_del(dev->index, kp->local_index);
	wg_device_defer(dev, free_session, wg_session_of(kp));
}

static void free_peer(struct wgdp *dev, void *obj)
{
	struct wg_peer *p = obj;

	/* no worker can reach p any more: its staged packets (and their queue) are ours */
	wg_staging_purge(&p->staged);
	wg_slab_free(&dev->ephemeral_slab, p->hs.eph); /* NULL: wg_peers_remove ended the handshake */
	wg_noise_handshake_wipe(&p->hs);
	wg_cookie_maker_wipe(&p->cookie);
	wg_peer_conf_free(p); /* wiped */
	wg_slab_free(&dev->peer_slab, p); /* wiped there */
}

void wg_peers_remove(struct wgdp *dev, struct wg_peer *p)
{
	struct wg_peer **pp;

	for (pp = &dev->peer_hash[bucket(dev, wg_peer_public_key(p))]; *pp; pp = &(*pp)->hash_next)
		if (*pp == p) {
			*pp = p->hash_next;
			break;
		}
	if (dev->tick_cursor == p)
		dev->tick_cursor = p->list_next;
	*p->list_pprev = p->list_next;
	if (p->list_next)
		p->list_next->list_pprev = p->list_pprev;
	dev->n_peers--;
	wg_allowedips_remove_by_owner(dev->aip, &p->aip);
	wg_peers_zero_keys(dev, p);
	wg_timers_stop(&p->timers);
	wg_scale_forget(dev, p);
	if (__atomic_load_n(&p->req_inflight, __ATOMIC_ACQUIRE)) {
		/* a request still names it: freed once its worker took them (wg_peers_reap) */
		p->zombie = true;
		p->defer_next = dev->zombies;
		dev->zombies = p;
		return;
	}
	wg_device_defer(dev, free_peer, p);
}

void wg_peers_reap(struct wgdp *dev, bool force)
{
	struct wg_peer **pp = &dev->zombies;

	while (*pp) {
		struct wg_peer *p = *pp;

		if (!force && __atomic_load_n(&p->req_inflight, __ATOMIC_ACQUIRE)) {
			pp = &p->defer_next;
			continue;
		}
		*pp = p->defer_next;
		if (force)
			free_peer(dev, p); /* the workers are stopped */
		else
			wg_device_defer(dev, free_peer, p);
	}
}

void wg_peers_destroy(struct wgdp *dev)
{
	while (dev->peers)
		wg_peers_remove(dev, dev->peers);
	wg_peers_reap(dev, true);
	rte_free(dev->peer_hash);
	dev->peer_hash = NULL;
}

void wg_peers_slabs_destroy(struct wgdp *dev)
{
	uint64_t peers = wg_slab_destroy(&dev->peer_slab);
	uint64_t sessions = wg_slab_destroy(&dev->session_slab);
	uint64_t eph = wg_slab_destroy(&dev->ephemeral_slab);

	if (peers || sessions || eph)
		fprintf(stderr,
			"wgdp: %" PRIu64 " peers, %" PRIu64 " sessions and %" PRIu64
			" handshake states were never freed (wiped now)\n",
			peers, sessions, eph);
}
