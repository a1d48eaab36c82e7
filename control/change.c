/* SPDX-License-Identifier: MIT */
/*
 * Applying a change to the running device (see change.h).
 *
 * The plan. Every peer the change touches gets an entry holding its
 * configuration after the change (a deep copy: the device keeps the old one
 * until commit). Entries are found by public key through a hash map, so a
 * change naming 100,000 peers costs linear time. Who holds an allowed IP
 * after the change is the question every insert asks; the answer is the
 * "overlay" map (prefix -> entry that holds it, or nobody) when the change
 * already decided it, else the trie as it is (wg_allowedips_owner_of). So
 * conflicts, moves (an allowed IP one peer takes from another, which then
 * becomes an entry too) and releases (a replaced or removed list) are all
 * decided before anything is touched.
 *
 * Pool addresses are taken during planning (they are the only shared
 * resource the plan takes) and given back if the plan fails; the addresses of
 * removed peers go back at commit.
 *
 * The commit. The peers created (from the peer slab), the extras blocks of
 * the peers created and updated (name, configured endpoint, client key:
 * control/peer_conf.h) and trie nodes for every insert are allocated first,
 * at the end of planning; the journal record is written; then: interface
 * fields, removals, updates (inserts before removes, so an allowed IP that
 * moves is never unrouted), creations. None of these steps can fail.
 */
#include "control/change.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/key.h"
#include "conf/keymap.h"
#include "conf/parse_util.h"
#include "conf/pool.h"
#include "control/peer_conf.h"
#include "control/peers.h"
#include "control/scale.h"
#include "control/state.h"
#include "crypto/secure.h"
#include "dataplane/tapif.h"

enum { OP_CREATE = 1, OP_UPDATE, OP_REMOVE };

struct entry {
	struct wg_peer *p;        /* the peer as it is; NULL for a creation */
	struct wg_peer *fresh;    /* allocated for a creation */
	struct wg_conf_peer next; /* its configuration after the change */
	struct wg_peer_extras *extras; /* next's extras block, allocated last in planning */
	uint8_t op;
};

/* a pool address taken while planning: given back if the plan fails */
struct taken {
	struct wg_pool *pool;
	uint8_t addr[16];
};

struct plan {
	struct wgdp *dev;
	const struct wg_conf_device *d;
	char *err;
	size_t errlen;

	struct entry *e;
	size_t n, cap;
	struct wg_keymap keys;    /* public key -> entry index + 1 */
	struct wg_keymap overlay; /* prefix -> entry index + 1, or NOBODY */

	struct taken *taken;
	size_t n_taken, cap_taken;
	struct wg_pool *pools[2];  /* the pools after the change */
	bool new_pools;            /* pools[] are new: installed at commit */
	struct wg_conf_prefixes pool_prefixes; /* their prefixes, for dev->conf */
	struct wg_conf_prefixes addr_next;     /* the inside addresses after the change */
	bool addrs_changed, tap_done;          /* tap_done: the kernel has addr_next */

	/* interface after the change */
	struct wg_conf_device dev_next; /* no peers */
	struct wg_conf_inside inside_next;
	struct wg_noise_identity id;
	bool if_changed, id_changed;
	size_t inserts, inserts4, created, removed; /* inserts4: of them IPv4 */
};

#define NOBODY UINT32_MAX

/* ---- maps and prefixes ---- */

static void prefix_key(uint8_t key[32], const struct wg_conf_prefix *pfx)
{
	memset(key, 0, 32);
	key[0] = pfx->family;
	key[1] = pfx->cidr;
	memcpy(key + 2, pfx->addr, 16);
}

static bool prefix_same(const struct wg_conf_prefix *a, const struct wg_conf_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr && !memcmp(a->addr, b->addr, 16);
}

/* ---- errors ---- */

static int failf(struct plan *pl, int ret, const uint8_t *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int failf(struct plan *pl, int ret, const uint8_t *key, const char *fmt, ...)
{
	char b64[WG_KEY_B64_LEN + 1];
	va_list ap;
	int n = 0;

	if (!pl->errlen)
		return ret;
	if (key) {
		wg_key_to_base64(b64, key);
		n = snprintf(pl->err, pl->errlen, "peer %s: ", b64);
		if (n < 0 || (size_t)n >= pl->errlen)
			return ret;
	}
	va_start(ap, fmt);
	vsnprintf(pl->err + n, pl->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return ret;
}

/* ---- entries ---- */

/* the entry of a public key, made from the peer's current state when new; NULL on ENOMEM */
static struct entry *entry_for(struct plan *pl, const uint8_t key[WG_KEY_LEN], struct wg_peer *p, size_t *idx)
{
	uint8_t k[32];
	uint32_t v;
	struct entry *e;

	memcpy(k, key, 32);
	v = wg_keymap_get(&pl->keys, k);
	if (v) {
		*idx = v - 1;
		return &pl->e[v - 1];
	}
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 16;
		struct entry *ne = realloc(pl->e, cap * sizeof(*ne));

		if (!ne)
			return NULL;
		pl->e = ne;
		pl->cap = cap;
	}
	e = &pl->e[pl->n];
	memset(e, 0, sizeof(*e));
	if (wg_keymap_put(&pl->keys, k, (uint32_t)pl->n + 1))
		return NULL;
	e->p = p;
	if (p) {
		if (wg_peer_conf_copy(p, &e->next))
			return NULL;
		e->op = OP_UPDATE;
	} else {
		memcpy(e->next.public_key, key, WG_KEY_LEN);
		e->next.flags = WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE;
		e->op = OP_CREATE;
	}
	*idx = pl->n++;
	return e;
}

/* who holds pfx once the plan is done so far: entry index + 1, NOBODY, or via *peer the trie's owner */
static uint32_t holder(struct plan *pl, const struct wg_conf_prefix *pfx, struct wg_peer **peer)
{
	struct wg_allowedips_owner *o;
	uint8_t k[32];
	uint32_t v;

	*peer = NULL;
	prefix_key(k, pfx);
	v = wg_keymap_get(&pl->overlay, k);
	if (v)
		return v;
	o = wg_allowedips_owner_of(pl->dev->aip, pfx->family, pfx->addr, pfx->cidr);
	if (!o)
		return NOBODY;
	*peer = container_of(o, struct wg_peer, aip);
	return 0;
}

/* drop pfx from entry e's list (it moved away or was removed) */
static void list_drop(struct wg_conf_prefixes *l, const struct wg_conf_prefix *pfx)
{
	for (size_t i = 0; i < l->n; i++)
		if (prefix_same(&l->v[i], pfx)) {
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
			l->n--;
			return;
		}
}

static bool list_has(const struct wg_conf_prefixes *l, const struct wg_conf_prefix *pfx)
{
	for (size_t i = 0; i < l->n; i++)
		if (prefix_same(&l->v[i], pfx))
			return true;
	return false;
}

/* entry idx no longer holds pfx */
static int release_prefix(struct plan *pl, size_t idx, const struct wg_conf_prefix *pfx)
{
	struct wg_peer *peer;
	uint32_t v = holder(pl, pfx, &peer);
	uint8_t k[32];

	if (v == idx + 1 || (v == 0 && peer == pl->e[idx].p)) {
		prefix_key(k, pfx);
		return wg_keymap_put(&pl->overlay, k, NOBODY);
	}
	return 0;
}

/*
 * Entry idx takes pfx: from nobody, or moved from its holder (an error with
 * NO_STEAL). Appends it to the entry's list unless it holds it already.
 */
static int claim(struct plan *pl, size_t idx, const struct wg_conf_prefix *pfx)
{
	char text[WG_CONF_PREFIX_STR];
	struct wg_peer *peer;
	struct entry *from;
	uint32_t v = holder(pl, pfx, &peer);
	size_t fidx;
	uint8_t k[32];

	if (v == idx + 1 || (v == 0 && peer == pl->e[idx].p && list_has(&pl->e[idx].next.allowedips, pfx)))
		return 0; /* holds it already */
	if (v != NOBODY) {
		if (v)
			from = &pl->e[v - 1];
		else if (!(from = entry_for(pl, wg_peer_public_key(peer), peer, &fidx)))
			return failf(pl, -ENOMEM, NULL, "out of memory");
		if (pl->d->flags & WG_CONF_DEVICE_NO_STEAL) {
			char b64[WG_KEY_B64_LEN + 1];

			wg_conf_format_prefix(text, pfx);
			wg_key_to_base64(b64, from->next.public_key);
			return failf(pl, -EADDRINUSE, pl->e[idx].next.public_key, "%s is held by peer %s", text,
				     b64);
		}
		list_drop(&from->next.allowedips, pfx);
		list_drop(&from->next.addresses, pfx);
	}
	prefix_key(k, pfx);
	if (wg_keymap_put(&pl->overlay, k, (uint32_t)idx + 1) ||
	    wg_conf_prefixes_add(&pl->e[idx].next.allowedips, pfx))
		return failf(pl, -ENOMEM, NULL, "out of memory");
	pl->inserts++;
	pl->inserts4 += pfx->family == AF_INET;
	return 0;
}

/* ---- pools ---- */

static int pool_index(uint8_t family)
{
	return family == AF_INET6;
}

static int take(struct plan *pl, struct wg_pool *pool, const uint8_t addr[16])
{
	if (pl->n_taken == pl->cap_taken) {
		size_t cap = pl->cap_taken ? pl->cap_taken * 2 : 16;
		struct taken *t = realloc(pl->taken, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		pl->taken = t;
		pl->cap_taken = cap;
	}
	pl->taken[pl->n_taken].pool = pool;
	memcpy(pl->taken[pl->n_taken].addr, addr, 16);
	pl->n_taken++;
	return 0;
}

/* an explicit address for entry idx: reserved in its pool when it lies in one */
static int reserve_address(struct plan *pl, size_t idx, const struct wg_conf_prefix *a)
{
	struct wg_pool *pool = pl->pools[pool_index(a->family)];
	char text[WG_CONF_PREFIX_STR];
	int ret;

	if (!pool || !wg_pool_contains(pool, a->addr))
		return 0;
	ret = wg_pool_reserve(pool, a->addr);
	if (ret == -EDOM) {
		wg_conf_format_prefix(text, a);
		return failf(pl, -EINVAL, pl->e[idx].next.public_key,
			     "address %s is not one a pool hands out (network or broadcast address)", text);
	}
	if (ret == -EADDRINUSE) {
		wg_conf_format_prefix(text, a);
		return failf(pl, -EADDRINUSE, pl->e[idx].next.public_key, "address %s is taken", text);
	}
	if (ret || take(pl, pool, a->addr))
		return failf(pl, -ENOMEM, NULL, "out of memory");
	return 0;
}

/* one address of family from its pool for entry idx, free in the trie too */
static int allocate_address(struct plan *pl, size_t idx, uint8_t family)
{
	struct wg_pool *pool = pl->pools[pool_index(family)];
	struct wg_conf_prefix a = { .family = family, .cidr = family == AF_INET ? 32 : 128 };
	char text[WG_CONF_PREFIX_STR];
	uint8_t skipped[256][16];
	unsigned n_skipped = 0;
	struct wg_peer *peer;
	int ret;

	if (!pool)
		return failf(pl, -ENOSPC, pl->e[idx].next.public_key, "no %s address pool to allocate from",
			     family == AF_INET ? "IPv4" : "IPv6");
	for (;;) {
		ret = wg_pool_alloc(pool, a.addr);
		if (ret)
			break;
		if (holder(pl, &a, &peer) == NOBODY)
			break;
		/* someone has it as an allowed IP (set through wg, say): skip it */
		if (n_skipped == 256) {
			wg_pool_release(pool, a.addr);
			ret = -ENOSPC;
			break;
		}
		memcpy(skipped[n_skipped++], a.addr, 16);
	}
	for (unsigned i = 0; i < n_skipped; i++)
		wg_pool_release(pool, skipped[i]);
	if (ret) {
		wg_conf_format_prefix(text, wg_pool_prefix(pool));
		return failf(pl, -ENOSPC, pl->e[idx].next.public_key, "address pool %s is exhausted", text);
	}
	if (take(pl, pool, a.addr)) {
		wg_pool_release(pool, a.addr);
		return failf(pl, -ENOMEM, NULL, "out of memory");
	}
	if (wg_conf_prefixes_add(&pl->e[idx].next.addresses, &a))
		return failf(pl, -ENOMEM, NULL, "out of memory");
	return claim(pl, idx, &a);
}

/* the interface's own inside addresses are never handed out */
static void reserve_own(struct wgdp *dev, struct wg_pool *pools[2])
{
	const struct wg_conf_prefixes *own = &dev->conf.inside.addresses;

	for (size_t i = 0; i < own->n; i++) {
		struct wg_pool *pool = pools[pool_index(own->v[i].family)];

		if (pool && wg_pool_contains(pool, own->v[i].addr))
			wg_pool_reserve(pool, own->v[i].addr); /* -EDOM (network address): fine */
	}
}

/* new pools from in->pools, holding every address peers have now */
static int plan_pools(struct plan *pl, const struct wg_conf_prefixes *prefixes)
{
	struct wgdp *dev = pl->dev;
	char text[WG_CONF_PREFIX_STR];

	for (size_t i = 0; i < prefixes->n; i++) {
		int fi = pool_index(prefixes->v[i].family);

		if (pl->pools[fi]) {
			wg_conf_format_prefix(text, &prefixes->v[i]);
			return failf(pl, -EINVAL, NULL, "address pool %s: a second pool of that family", text);
		}
		if (wg_pool_create(&pl->pools[fi], &prefixes->v[i])) {
			wg_conf_format_prefix(text, &prefixes->v[i]);
			return failf(pl, -EINVAL, NULL, "address pool %s: not a usable pool", text);
		}
	}
	pl->new_pools = true;
	reserve_own(dev, pl->pools);
	for (struct wg_peer *p = dev->peers; p; p = p->list_next)
		for (size_t i = 0; i < p->conf.addresses.n; i++) {
			const struct wg_conf_prefix *a = &p->conf.addresses.v[i];
			struct wg_pool *pool = pl->pools[pool_index(a->family)];

			if (pool && wg_pool_contains(pool, a->addr))
				wg_pool_reserve(pool, a->addr); /* -EDOM: kept, not pool-managed */
		}
	return 0;
}

/* ---- planning ---- */

/*
 * New inside addresses (REST PATCH /interface): on a TAP inside only, where
 * the kernel holds them. Added ones that lie in a pool are taken from it
 * (refused when a peer has them); removed ones go back at commit.
 */
static int plan_addresses(struct plan *pl, const struct wg_conf_prefixes *next)
{
	const struct wg_conf_prefixes *old = &pl->dev->conf.inside.addresses;
	char text[WG_CONF_PREFIX_STR];
	bool v6 = false;

	if (!pl->dev->inside_is_tap)
		return failf(pl, -EINVAL, NULL,
			     "the inside addresses are fixed at start with InsideDevice (restart with a new Address)");
	if (next->n > WG_CONF_MAX_ADDRESSES)
		return failf(pl, -EINVAL, NULL, "more than %u addresses", WG_CONF_MAX_ADDRESSES);
	for (size_t i = 0; i < next->n; i++) {
		const struct wg_conf_prefix *a = &next->v[i];
		struct wg_pool *pool = pl->pools[pool_index(a->family)];

		v6 |= a->family == AF_INET6;
		for (size_t k = 0; k < i; k++)
			if (next->v[k].family == a->family && !memcmp(next->v[k].addr, a->addr, 16)) {
				wg_conf_format_addr(text, a->family, a->addr);
				return failf(pl, -EINVAL, NULL, "address %s is listed twice", text);
			}
		if (list_has(old, a) || !pool || !wg_pool_contains(pool, a->addr))
			continue;
		if (wg_pool_reserve(pool, a->addr) == -EADDRINUSE) {
			wg_conf_format_prefix(text, a);
			return failf(pl, -EADDRINUSE, NULL, "address %s is taken from the pool by a peer", text);
		}
		if (take(pl, pool, a->addr))
			return failf(pl, -ENOMEM, NULL, "out of memory");
	}
	if (v6 && pl->dev->conf.inside.mtu < 1280)
		return failf(pl, -EINVAL, NULL, "an IPv6 address needs MTU 1280 or more (the MTU is %u)",
			     pl->dev->conf.inside.mtu);
	if (wg_conf_prefixes_copy(&pl->addr_next, next))
		return failf(pl, -ENOMEM, NULL, "out of memory");
	pl->inside_next.addresses = pl->addr_next;
	pl->addrs_changed = pl->if_changed = true;
	return 0;
}

/* the kernel side of an address change; undo: the reverse, best effort */
static int tap_addresses(struct plan *pl, bool undo)
{
	const struct wg_conf_prefixes *old = &pl->dev->conf.inside.addresses, *next = &pl->addr_next;
	const char *ifname = pl->dev->conf.appliance.inside_interface;
	char text[WG_CONF_PREFIX_STR];
	int ret = 0;

	for (int pass = 0; pass < 2 && !ret; pass++) {
		/* pass 0 adds what is new (undo: removes it), pass 1 removes what went (undo: adds it back) */
		const struct wg_conf_prefixes *from = pass ? old : next, *other = pass ? next : old;

		for (size_t i = 0; i < from->n && !ret; i++) {
			struct wg_tapif_addr a = { .family = from->v[i].family, .prefixlen = from->v[i].cidr };

			if (list_has(other, &from->v[i]))
				continue;
			memcpy(a.addr, from->v[i].addr, 16);
			ret = (pass == 0) != undo ? wg_tapif_addr_add(ifname, &a) : wg_tapif_addr_del(ifname, &a);
			if (ret && undo)
				ret = 0; /* go on undoing */
			if (ret) {
				wg_conf_format_prefix(text, &from->v[i]);
				failf(pl, ret, NULL, "%s: %s address %s: %s", ifname, pass ? "removing" : "adding", text,
				      strerror(-ret));
			}
		}
	}
	if (ret && !undo)
		tap_addresses(pl, true);
	return ret;
}

static int plan_interface(struct plan *pl, const struct wg_conf_inside *in)
{
	const struct wg_conf_device *d = pl->d;
	struct wgdp *dev = pl->dev;
	int ret;

	pl->dev_next = dev->conf.device;
	pl->dev_next.peers = NULL;
	pl->dev_next.n_peers = pl->dev_next.cap_peers = 0;
	pl->dev_next.flags = WG_CONF_DEVICE_HAS_PRIVATE_KEY | WG_CONF_DEVICE_HAS_LISTEN_PORT |
			     WG_CONF_DEVICE_HAS_FWMARK;
	pl->inside_next = dev->conf.inside;
	pl->id = dev->identity;
	if ((d->flags & WG_CONF_DEVICE_HAS_PRIVATE_KEY) &&
	    !wg_secure_equal(d->private_key, dev->conf.device.private_key, WG_KEY_LEN)) {
		if (wg_secure_is_zero(d->private_key, WG_KEY_LEN))
			wg_noise_identity_wipe(&pl->id);
		else if (wg_noise_identity_set(&pl->id, d->private_key))
			return failf(pl, -EINVAL, NULL, "the private key gives no public key");
		memcpy(pl->dev_next.private_key, d->private_key, WG_KEY_LEN);
		pl->id_changed = pl->if_changed = true;
	}
	if ((d->flags & WG_CONF_DEVICE_HAS_LISTEN_PORT) && d->listen_port != dev->listen_port) {
		pl->dev_next.listen_port = d->listen_port;
		if (!pl->dev_next.listen_port) /* like wg: a random port when none is given */
			pl->dev_next.listen_port = (uint16_t)(49152 + wg_secure_random_u32() % 16384);
		pl->if_changed = true;
	} else {
		pl->dev_next.listen_port = dev->listen_port;
	}
	if ((d->flags & WG_CONF_DEVICE_HAS_FWMARK) && d->fwmark != dev->conf.device.fwmark) {
		pl->dev_next.fwmark = d->fwmark;
		pl->if_changed = true;
	}
	pl->pools[0] = dev->pools[0];
	pl->pools[1] = dev->pools[1];
	if (in && (in->flags & WG_CONF_INSIDE_HAS_POOLS)) {
		pl->pools[0] = pl->pools[1] = NULL;
		if (wg_conf_prefixes_copy(&pl->pool_prefixes, &in->pools))
			return failf(pl, -ENOMEM, NULL, "out of memory");
		pl->inside_next.pools = pl->pool_prefixes;
		pl->if_changed = true;
		if ((ret = plan_pools(pl, &in->pools)))
			return ret;
	}
	if (in && (in->flags & WG_CONF_INSIDE_REPLACE_ADDRESSES))
		return plan_addresses(pl, &in->addresses);
	return 0;
}

/* the entry being planned: re-read after every call that may add entries */
#define E (&pl->e[idx])

static int plan_peer(struct plan *pl, const struct wg_conf_peer *cp)
{
	struct wg_peer *p = NULL;
	size_t idx;
	uint32_t v;
	uint8_t k[32];
	int ret = 0;

	memcpy(k, cp->public_key, 32);
	v = wg_keymap_get(&pl->keys, k);
	if (!v)
		p = wg_peers_lookup(pl->dev, cp->public_key);
	if (cp->flags & WG_CONF_PEER_REMOVE_ME) {
		if ((!v && !p) || (v && !pl->e[v - 1].op))
			return 0;
		if (!entry_for(pl, cp->public_key, p, &idx))
			return failf(pl, -ENOMEM, NULL, "out of memory");
		for (size_t i = 0; i < E->next.allowedips.n; i++)
			if ((ret = release_prefix(pl, idx, &E->next.allowedips.v[i])))
				return failf(pl, ret, NULL, "out of memory");
		E->op = E->p ? OP_REMOVE : 0; /* 0: created and removed in one change: nothing */
		E->next.allowedips.n = 0;
		return 0;
	}
	if ((!v && !p) || (v && !pl->e[v - 1].op)) {
		if (cp->flags & WG_CONF_PEER_UPDATE_ONLY)
			return 0;
	} else if ((cp->flags & WG_CONF_PEER_CREATE_ONLY) && !(v && pl->e[v - 1].op == OP_REMOVE)) {
		return failf(pl, -EEXIST, cp->public_key, "exists already");
	}
	if (!entry_for(pl, cp->public_key, p, &idx))
		return failf(pl, -ENOMEM, NULL, "out of memory");
	if (!E->op)
		E->op = OP_CREATE; /* created and removed earlier in this change, named again */
	else if (E->op == OP_REMOVE)
		E->op = OP_UPDATE; /* removed earlier in this change, named again: it stays */
	if (cp->flags & WG_CONF_PEER_HAS_PRESHARED_KEY)
		memcpy(E->next.preshared_key, cp->preshared_key, WG_KEY_LEN);
	if (cp->flags & WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE)
		E->next.persistent_keepalive = cp->persistent_keepalive;
	if (cp->flags & WG_CONF_PEER_HAS_ENDPOINT) {
		E->next.endpoint = cp->endpoint;
		E->next.flags |= WG_CONF_PEER_HAS_ENDPOINT;
	}
	if (cp->flags & WG_CONF_PEER_HAS_NAME)
		memcpy(E->next.name, cp->name, sizeof(E->next.name));
	if (cp->flags & WG_CONF_PEER_HAS_ENABLED)
		E->next.disabled = cp->disabled;
	if (cp->flags & WG_CONF_PEER_HAS_CLIENT_KEY)
		memcpy(E->next.client_private_key, cp->client_private_key, WG_KEY_LEN);
	if (cp->flags & WG_CONF_PEER_REPLACE_ALLOWEDIPS) {
		for (size_t i = 0; i < E->next.allowedips.n; i++)
			if ((ret = release_prefix(pl, idx, &E->next.allowedips.v[i])))
				return failf(pl, ret, NULL, "out of memory");
		E->next.allowedips.n = 0;
	}
	for (size_t i = 0; i < cp->allowedips.n; i++) {
		const struct wg_conf_prefix *pfx = &cp->allowedips.v[i];

		if (pfx->flags & WG_CONF_PREFIX_REMOVE_ME) {
			list_drop(&E->next.allowedips, pfx);
			ret = release_prefix(pl, idx, pfx);
		} else {
			ret = claim(pl, idx, pfx);
		}
		if (ret)
			return ret;
	}
	/* after the allowed IPs: a list that holds the addresses keeps its order */
	if (cp->flags & WG_CONF_PEER_HAS_ADDRESSES) {
		struct wg_conf_prefixes old = E->next.addresses;

		for (size_t i = 0; i < old.n; i++)
			if (!list_has(&cp->addresses, &old.v[i])) {
				list_drop(&E->next.allowedips, &old.v[i]);
				if ((ret = release_prefix(pl, idx, &old.v[i]))) {
					free(old.v);
					memset(&E->next.addresses, 0, sizeof(E->next.addresses));
					return failf(pl, ret, NULL, "out of memory");
				}
			}
		if (wg_conf_prefixes_copy(&E->next.addresses, &cp->addresses)) {
			E->next.addresses = old;
			return failf(pl, -ENOMEM, NULL, "out of memory");
		}
		for (size_t i = 0; i < cp->addresses.n && !ret; i++) {
			if (!list_has(&old, &cp->addresses.v[i]))
				ret = reserve_address(pl, idx, &cp->addresses.v[i]);
			if (!ret)
				ret = claim(pl, idx, &cp->addresses.v[i]);
		}
		free(old.v);
		if (ret)
			return ret;
	}
	if (cp->flags & WG_CONF_PEER_REPLACE_ALLOWEDIPS) {
		/* the tunnel addresses stay routed to the peer, after the list given */
		for (size_t i = 0; i < E->next.addresses.n; i++)
			if ((ret = claim(pl, idx, &E->next.addresses.v[i])))
				return ret;
	}
	if ((cp->flags & WG_CONF_PEER_ALLOCATE_IPV4) && (ret = allocate_address(pl, idx, AF_INET)))
		return ret;
	if ((cp->flags & WG_CONF_PEER_ALLOCATE_IPV6) && (ret = allocate_address(pl, idx, AF_INET6)))
		return ret;
	return 0;
}

#undef E

/* REPLACE_PEERS: what the change does not name goes; what it names starts from defaults */
static int plan_replace(struct plan *pl)
{
	struct wg_conf_peer reset;
	int ret;

	for (struct wg_peer *p = pl->dev->peers; p; p = p->list_next) {
		uint8_t k[32];

		memcpy(k, wg_peer_public_key(p), 32);
		if (wg_keymap_get(&pl->keys, k))
			continue;
		memset(&reset, 0, sizeof(reset));
		memcpy(reset.public_key, wg_peer_public_key(p), WG_KEY_LEN);
		reset.flags = WG_CONF_PEER_REMOVE_ME;
		if ((ret = plan_peer(pl, &reset)))
			return ret;
	}
	return 0;
}

static int plan_build(struct plan *pl, const struct wg_conf_inside *in)
{
	const struct wg_conf_device *d = pl->d;
	struct wg_conf_peer first;
	int ret;

	if ((ret = plan_interface(pl, in)))
		return ret;
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct wg_conf_peer *cp = &d->peers[i];

		if ((d->flags & WG_CONF_DEVICE_REPLACE_PEERS) && !(cp->flags & WG_CONF_PEER_REMOVE_ME)) {
			/* as for a new peer: psk, keepalive and allowed IPs are what is given */
			uint8_t k[32];

			memcpy(k, cp->public_key, 32);
			if (!wg_keymap_get(&pl->keys, k) && wg_peers_lookup(pl->dev, cp->public_key)) {
				memset(&first, 0, sizeof(first));
				memcpy(first.public_key, cp->public_key, WG_KEY_LEN);
				first.flags = WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE |
					      WG_CONF_PEER_REPLACE_ALLOWEDIPS;
				if ((ret = plan_peer(pl, &first)))
					return ret;
			}
		}
		if ((ret = plan_peer(pl, cp)))
			return ret;
	}
	if ((d->flags & WG_CONF_DEVICE_REPLACE_PEERS) && (ret = plan_replace(pl)))
		return ret;
	for (size_t i = 0; i < pl->n; i++) {
		struct entry *e = &pl->e[i];

		if (e->op == OP_CREATE)
			pl->created++;
		else if (e->op == OP_REMOVE)
			pl->removed++;
		if ((e->op == OP_CREATE || e->op == OP_UPDATE) && pl->id.has_identity &&
		    !memcmp(e->next.public_key, pl->id.public_key, WG_KEY_LEN))
			return failf(pl, -EINVAL, e->next.public_key, "is the interface's own public key");
	}
	if (pl->id_changed && pl->id.has_identity) {
		struct wg_peer *p = wg_peers_lookup(pl->dev, pl->id.public_key);
		uint8_t k[32];

		memcpy(k, pl->id.public_key, 32);
		if (p && !wg_keymap_get(&pl->keys, k))
			return failf(pl, -EINVAL, wg_peer_public_key(p), "has the public key of the new private key");
	}
	if (pl->dev->n_peers + pl->created - pl->removed > pl->dev->conf.appliance.max_peers)
		return failf(pl, -EDQUOT, NULL, "more than MaxPeers = %u peers",
			     pl->dev->conf.appliance.max_peers);
	for (size_t i = 0; i < pl->n; i++) {
		struct entry *e = &pl->e[i];

		if (e->op == OP_CREATE && !(e->fresh = wg_peers_alloc(pl->dev)))
			return failf(pl, -ENOMEM, NULL, "out of memory");
		/* the peers' name/endpoint/client key blocks: setting them at commit cannot fail */
		if ((e->op == OP_CREATE || e->op == OP_UPDATE) && wg_peer_conf_extras_new(&e->next, &e->extras))
			return failf(pl, -ENOMEM, NULL, "out of memory");
	}
	/* v4 nodes of the v4 size (56 bytes, not 72: 32 bytes less per /32 peer) */
	if (wg_allowedips_reserve4(pl->dev->aip, pl->inserts4) ||
	    wg_allowedips_reserve(pl->dev->aip, pl->inserts - pl->inserts4))
		return failf(pl, -ENOMEM, NULL, "out of memory");
	return 0;
}

/* ---- commit ---- */

static void commit_identity(struct plan *pl)
{
	struct wgdp *dev = pl->dev;

	dev->identity = pl->id;
	wg_cookie_checker_init(&dev->cookie_checker, dev->identity.public_key);
	for (struct wg_peer *p = dev->peers; p; p = p->list_next) {
		uint8_t ts[WG_TIMESTAMP_LEN], psk[WG_KEY_LEN], pub[WG_KEY_LEN];

		/* a new static DH for every peer (lazily); sessions of the old key end */
		wg_peers_zero_keys(dev, p);
		memcpy(ts, p->hs.latest_timestamp, sizeof(ts));
		memcpy(pub, wg_peer_public_key(p), sizeof(pub)); /* init wipes hs, remote_static included */
		memcpy(psk, p->hs.preshared_key, sizeof(psk));   /* the peer's only copy: the same */
		wg_noise_handshake_init(&p->hs, NULL, pub, wg_secure_is_zero(psk, WG_KEY_LEN) ? NULL : psk);
		wg_secure_wipe(psk, sizeof(psk));
		p->hs_precomputed = false; /* with the new key, at the next handshake */
		memcpy(p->hs.latest_timestamp, ts, sizeof(ts));
	}
}

static void release_addresses(struct plan *pl, const struct wg_conf_prefixes *old, const struct wg_conf_prefixes *next)
{
	for (size_t i = 0; i < old->n; i++) {
		struct wg_pool *pool = pl->pools[pool_index(old->v[i].family)];

		if (pool && (!next || !list_has(next, &old->v[i])) && wg_pool_contains(pool, old->v[i].addr))
			wg_pool_release(pool, old->v[i].addr);
	}
}

/* everything of an update but the allowed IPs (see commit) */
static void commit_update(struct plan *pl, struct entry *e, uint64_t now)
{
	struct wgdp *dev = pl->dev;
	struct wg_peer *p = e->p;
	struct wg_conf_peer old;

	wg_peer_conf_view(p, &old); /* before the psk and disabled change; its lists go at wg_peer_conf_set */

	if (e->next.flags & WG_CONF_PEER_HAS_ENDPOINT &&
	    !wg_endpoint_equal(&e->next.endpoint, &old.endpoint))
		wg_peer_set_endpoint(p, &e->next.endpoint);
	if (!wg_secure_equal(e->next.preshared_key, old.preshared_key, WG_KEY_LEN))
		memcpy(p->hs.preshared_key, e->next.preshared_key, WG_KEY_LEN);
	if (e->next.disabled && !old.disabled) {
		__atomic_store_n(&p->disabled, true, __ATOMIC_RELEASE);
		wg_peers_zero_keys(dev, p);
		if (wg_scale_request(dev, p, WG_REQ_PURGE_STAGED))
			dev->control_cnt.drops[WG_DROP_RING_FULL]++;
	} else if (!e->next.disabled && old.disabled) {
		__atomic_store_n(&p->disabled, false, __ATOMIC_RELEASE);
	}
	if (e->next.persistent_keepalive != old.persistent_keepalive &&
	    wg_timers_set_persistent_keepalive(&p->timers, (uint64_t)e->next.persistent_keepalive * WG_NSEC_PER_SEC,
					       now) &&
	    !p->disabled && wg_scale_request(dev, p, WG_REQ_KEEPALIVE))
		dev->control_cnt.drops[WG_DROP_RING_FULL]++;
	release_addresses(pl, &old.addresses, &e->next.addresses);
	wg_peer_conf_set(p, &e->next, e->extras); /* frees the old lists and extras; e->next left zeroed */
	e->extras = NULL;
	wg_secure_wipe(&old, sizeof(old));
}

/*
 * Order: every insert before any removal, so an allowed IP that moves from
 * one peer to another is routed to one of them at every instant: created
 * peers (with their prefixes), the new prefixes of updated peers, then the
 * prefixes updated peers drop (those that moved are not theirs any more:
 * the removal skips them), then the removed peers (likewise).
 */
static void commit(struct plan *pl)
{
	struct wgdp *dev = pl->dev;
	uint64_t now = wg_now_ns();

	if (pl->id_changed)
		commit_identity(pl);
	dev->conf.device.flags |= WG_CONF_DEVICE_HAS_PRIVATE_KEY;
	memcpy(dev->conf.device.private_key, pl->dev_next.private_key, WG_KEY_LEN);
	dev->conf.device.fwmark = pl->dev_next.fwmark;
	if (pl->dev_next.listen_port != dev->listen_port) {
		dev->listen_port = pl->dev_next.listen_port;
		dev->conf.device.listen_port = dev->listen_port;
		__atomic_store_n(&dev->out.local.port, rte_cpu_to_be_16(dev->listen_port), __ATOMIC_RELEASE);
	}
	if (pl->addrs_changed) {
		release_addresses(pl, &dev->conf.inside.addresses, &pl->addr_next);
		free(dev->conf.inside.addresses.v);
		dev->conf.inside.addresses = pl->addr_next;
		memset(&pl->addr_next, 0, sizeof(pl->addr_next));
	}
	if (pl->new_pools) {
		wg_change_pools_free(dev);
		dev->pools[0] = pl->pools[0];
		dev->pools[1] = pl->pools[1];
		pl->new_pools = false;
		free(dev->conf.inside.pools.v);
		dev->conf.inside.pools = pl->pool_prefixes;
		memset(&pl->pool_prefixes, 0, sizeof(pl->pool_prefixes));
	}
	for (size_t i = 0; i < pl->n; i++) {
		struct entry *e = &pl->e[i];

		if (e->op == OP_CREATE) {
			e->next.flags |= WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE;
			wg_peers_insert(dev, e->fresh, &e->next, e->extras);
			e->p = e->fresh;
			e->fresh = NULL;
			e->extras = NULL;
		} else if (e->op == OP_UPDATE) {
			wg_peers_aip_add(dev, e->p, &e->next.allowedips);
		}
	}
	for (size_t i = 0; i < pl->n; i++) {
		struct entry *e = &pl->e[i];

		if (e->op == OP_UPDATE) {
			wg_peers_aip_drop(dev, e->p, &e->next.allowedips);
			commit_update(pl, e, now);
		}
	}
	for (size_t i = 0; i < pl->n; i++) {
		struct entry *e = &pl->e[i];

		if (e->op == OP_REMOVE) {
			release_addresses(pl, &e->p->conf.addresses, NULL);
			wg_peers_remove(dev, e->p);
		}
	}
	pl->n_taken = 0; /* the pool addresses are the peers' now */
	wg_allowedips_unreserve(dev->aip);
}

/* ---- the plan's lifetime ---- */

static void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n_taken; i++)
		wg_pool_release(pl->taken[i].pool, pl->taken[i].addr);
	free(pl->taken);
	free(pl->pool_prefixes.v);
	free(pl->addr_next.v);
	if (pl->new_pools) {
		wg_pool_destroy(pl->pools[0]);
		wg_pool_destroy(pl->pools[1]);
	}
	for (size_t i = 0; i < pl->n; i++) {
		wg_conf_peer_free(&pl->e[i].next);
		wg_peer_conf_extras_free(pl->e[i].extras);
		if (pl->e[i].fresh)
			wg_peers_free_unused(pl->dev, pl->e[i].fresh);
	}
	free(pl->e);
	wg_keymap_free(&pl->keys);
	wg_keymap_free(&pl->overlay);
	wg_allowedips_unreserve(pl->dev->aip);
	wg_secure_wipe(pl, sizeof(*pl));
}

static int log_change(struct plan *pl)
{
	struct wg_change_log log = {
		.interface = pl->if_changed,
		.dev = &pl->dev_next,
		.inside = &pl->inside_next,
	};
	const struct wg_conf_peer **put = calloc(pl->n + 1, sizeof(*put));
	uint8_t(*removed)[WG_KEY_LEN] = calloc(pl->n + 1, WG_KEY_LEN);
	int ret;

	if (!put || !removed) {
		free(put);
		free(removed);
		return failf(pl, -ENOMEM, NULL, "out of memory");
	}
	for (size_t i = 0; i < pl->n; i++) {
		if (pl->e[i].op == OP_CREATE || pl->e[i].op == OP_UPDATE)
			put[log.n_put++] = &pl->e[i].next;
		else if (pl->e[i].op == OP_REMOVE)
			memcpy(removed[log.n_removed++], pl->e[i].next.public_key, WG_KEY_LEN);
	}
	log.put = put;
	log.removed = (const uint8_t(*)[WG_KEY_LEN])removed;
	ret = wg_state_log(pl->dev, &log, pl->err, pl->errlen);
	free(put);
	free(removed);
	return ret ? -EIO : 0; /* whatever the disk said: the change is refused */
}

int wg_change_apply(struct wgdp *dev, const struct wg_conf_device *d, const struct wg_conf_inside *in,
		    struct wg_change_stats *st, char *err, size_t errlen)
{
	struct plan *pl = calloc(1, sizeof(*pl));
	int ret;

	if (errlen)
		err[0] = '\0';
	if (!pl) {
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*pl = (struct plan){ .dev = dev, .d = d, .err = err, .errlen = errlen };
	ret = plan_build(pl, in);
	if (!ret && pl->addrs_changed && !(ret = tap_addresses(pl, false)))
		pl->tap_done = true;
	if (!ret && (pl->if_changed || pl->n))
		ret = log_change(pl);
	if (ret && pl->tap_done)
		tap_addresses(pl, true);
	if (!ret) {
		size_t updated = 0;

		for (size_t i = 0; i < pl->n; i++)
			updated += pl->e[i].op == OP_UPDATE;
		commit(pl);
		wg_state_maybe_compact(dev);
		if (st)
			*st = (struct wg_change_stats){ .created = pl->created, .updated = updated,
							.removed = pl->removed };
	}
	plan_free(pl);
	free(pl);
	return ret;
}

int wg_change_pools_init(struct wgdp *dev, char *err, size_t errlen)
{
	const struct wg_conf_prefixes *l = &dev->conf.inside.pools;
	char text[WG_CONF_PREFIX_STR];

	for (size_t i = 0; i < l->n; i++) {
		int fi = pool_index(l->v[i].family);

		if (dev->pools[fi] || wg_pool_create(&dev->pools[fi], &l->v[i])) {
			wg_conf_format_prefix(text, &l->v[i]);
			snprintf(err, errlen, "AddressPool %s: not a usable pool", text);
			wg_change_pools_free(dev);
			return -EINVAL;
		}
	}
	reserve_own(dev, dev->pools);
	return 0;
}

void wg_change_pools_free(struct wgdp *dev)
{
	for (int i = 0; i < 2; i++) {
		wg_pool_destroy(dev->pools[i]);
		dev->pools[i] = NULL;
	}
}
