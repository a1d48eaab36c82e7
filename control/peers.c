/* SPDX-License-Identifier: MIT */
/* The appliance's peer table (see peers.h). Control thread only. */
#include "control/peers.h"

#include <errno.h>
#include <string.h>

#include <rte_jhash.h>
#include <rte_malloc.h>

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
		if (memcmp(p->public_key, public_key, WG_KEY_LEN) == 0)
			return p;
	return NULL;
}

static int add_allowedips(struct wgdp *dev, struct wg_peer *p, const struct wg_conf_prefixes *l)
{
	for (size_t i = 0; i < l->n; i++) {
		int ret = wg_allowedips_insert(dev->aip, l->v[i].family, l->v[i].addr, l->v[i].cidr, &p->aip);
		if (ret)
			return ret;
	}
	return 0;
}

int wg_peers_add(struct wgdp *dev, const struct wg_conf_peer *cp, struct wg_peer **out)
{
	struct wg_peer *p;
	uint32_t b;
	int ret;

	if (wg_peers_lookup(dev, cp->public_key))
		return -EEXIST;
	if (dev->identity.has_identity && memcmp(cp->public_key, dev->identity.public_key, WG_KEY_LEN) == 0)
		return -EINVAL;
	p = rte_zmalloc("wg_peer", sizeof(*p), RTE_CACHE_LINE_SIZE);
	if (!p)
		return -ENOMEM;
	memcpy(p->public_key, cp->public_key, WG_KEY_LEN);
	wg_noise_handshake_init(&p->hs, &dev->identity, cp->public_key,
				(cp->flags & WG_CONF_PEER_HAS_PRESHARED_KEY) ? cp->preshared_key : NULL);
	wg_cookie_maker_init(&p->cookie, cp->public_key);
	p->persistent_keepalive = cp->persistent_keepalive;
	wg_timers_init(&p->timers, (uint64_t)cp->persistent_keepalive * WG_NSEC_PER_SEC);
	wg_allowedips_owner_init(&p->aip);
	rte_seqlock_init(&p->ep_lock);
	if (cp->flags & WG_CONF_PEER_HAS_ENDPOINT)
		p->endpoint = cp->endpoint;
	p->mtu = dev->conf.inside.mtu;
	/* one worker for now: packet-CPU locality across several comes with scaling */
	p->worker = 0;
	ret = add_allowedips(dev, p, &cp->allowedips);
	if (ret) {
		wg_allowedips_remove_by_owner(dev->aip, &p->aip);
		wg_noise_handshake_wipe(&p->hs);
		rte_free(p);
		return ret;
	}
	b = bucket(dev, p->public_key);
	p->hash_next = dev->peer_hash[b];
	dev->peer_hash[b] = p;
	p->list_next = dev->peers;
	p->list_pprev = &dev->peers;
	if (dev->peers)
		dev->peers->list_pprev = &p->list_next;
	dev->peers = p;
	dev->n_peers++;
	if (out)
		*out = p;
	return 0;
}

static void free_session(struct wgdp *dev, void *obj)
{
	struct wg_session *s = obj;

	(void)dev;
	wg_keypair_wipe(&s->kp);
	rte_free(s);
}

void wg_peers_retire_keypair(struct wgdp *dev, struct wg_keypair *kp)
{
	wg_index_del(dev->index, kp->local_index);
	wg_device_defer(dev, free_session, wg_session_of(kp));
}

static void free_peer(struct wgdp *dev, void *obj)
{
	struct wg_peer *p = obj;

	(void)dev;
	/* no worker can reach p any more: its staged packets are ours */
	for (uint16_t i = 0; i < p->n_staged; i++)
		rte_pktmbuf_free(p->staged[(p->staged_head + i) % WG_STAGED_MAX]);
	wg_noise_handshake_wipe(&p->hs);
	wg_cookie_maker_wipe(&p->cookie);
	wg_secure_wipe(p, sizeof(*p));
	rte_free(p);
}

void wg_peers_remove(struct wgdp *dev, struct wg_peer *p)
{
	struct wg_keypair *retired[WG_KEYPAIRS_RETIRE_MAX];
	struct wg_peer **pp;
	unsigned n;

	for (pp = &dev->peer_hash[bucket(dev, p->public_key)]; *pp; pp = &(*pp)->hash_next)
		if (*pp == p) {
			*pp = p->hash_next;
			break;
		}
	*p->list_pprev = p->list_next;
	if (p->list_next)
		p->list_next->list_pprev = p->list_pprev;
	dev->n_peers--;
	wg_allowedips_remove_by_owner(dev->aip, &p->aip);
	n = wg_keypairs_clear(&p->keypairs, retired);
	for (unsigned i = 0; i < n; i++)
		wg_peers_retire_keypair(dev, retired[i]);
	if (p->hs_indexed)
		wg_index_del(dev->index, p->hs_index);
	p->hs_indexed = false;
	wg_timers_stop(&p->timers);
	wg_device_defer(dev, free_peer, p);
}

void wg_peers_destroy(struct wgdp *dev)
{
	while (dev->peers)
		wg_peers_remove(dev, dev->peers);
	rte_free(dev->peer_hash);
	dev->peer_hash = NULL;
}
