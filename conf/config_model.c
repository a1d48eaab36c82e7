/* SPDX-License-Identifier: MIT */
/*
 * The configuration model's lifetime: defaults, builders, comparison and
 * freeing. Memory that held keys is wiped before it is released, including
 * the old peer array when it grows (hence no realloc for it).
 */
#include "conf/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "crypto/secure.h"

void wg_conf_init(struct wg_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->inside.mtu = WG_CONF_DEFAULT_MTU;
	memcpy(c->appliance.inside_interface, WG_CONF_DEFAULT_INSIDE_IFACE,
	       sizeof(WG_CONF_DEFAULT_INSIDE_IFACE));
	c->appliance.ring_size = WG_CONF_DEFAULT_RING_SIZE;
	c->appliance.mempool_size = WG_CONF_DEFAULT_MEMPOOL_SIZE;
	c->appliance.burst_size = WG_CONF_DEFAULT_BURST_SIZE;
	c->appliance.handshake_queue = WG_CONF_DEFAULT_HANDSHAKE_QUEUE;
	c->appliance.max_peers = WG_CONF_DEFAULT_MAX_PEERS;
	c->appliance.neigh_reachable = WG_CONF_DEFAULT_NEIGH_REACHABLE;
	c->appliance.api_listen.family = AF_INET;
	c->appliance.api_listen.port = htons(WG_CONF_DEFAULT_API_PORT);
	c->appliance.api_listen.addr[0] = 127;
	c->appliance.api_listen.addr[3] = 1;
	c->appliance.metrics_per_peer = true;
	c->appliance.autoscale = true;
	c->appliance.scale_up_load = WG_CONF_DEFAULT_SCALE_UP_LOAD;
	c->appliance.scale_down_load = WG_CONF_DEFAULT_SCALE_DOWN_LOAD;
	c->appliance.scale_up_delay_ms = WG_CONF_DEFAULT_SCALE_UP_DELAY_MS;
	c->appliance.scale_down_delay_ms = WG_CONF_DEFAULT_SCALE_DOWN_DELAY_MS;
}

void wg_conf_device_free(struct wg_conf_device *dev)
{
	if (!dev)
		return;
	for (size_t i = 0; i < dev->n_peers; i++)
		wg_conf_peer_free(&dev->peers[i]);
	if (dev->peers)
		wg_secure_wipe(dev->peers, dev->cap_peers * sizeof(*dev->peers));
	free(dev->peers);
	wg_secure_wipe(dev, sizeof(*dev));
}

void wg_conf_free(struct wg_conf *c)
{
	if (!c)
		return;
	wg_conf_device_free(&c->device);
	free(c->inside.addresses.v);
	free(c->inside.pools.v);
	wg_secure_wipe(c, sizeof(*c));
}

void wg_conf_peer_free(struct wg_conf_peer *p)
{
	free(p->allowedips.v);
	free(p->addresses.v);
	wg_secure_wipe(p, sizeof(*p));
}

int wg_conf_prefixes_copy(struct wg_conf_prefixes *dst, const struct wg_conf_prefixes *src)
{
	struct wg_conf_prefix *v = NULL;

	if (src->n) {
		v = malloc(src->n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memcpy(v, src->v, src->n * sizeof(*v));
	}
	dst->v = v;
	dst->n = dst->cap = src->n;
	return 0;
}

int wg_conf_peer_copy(struct wg_conf_peer *dst, const struct wg_conf_peer *src)
{
	*dst = *src;
	dst->allowedips.v = dst->addresses.v = NULL;
	dst->allowedips.n = dst->allowedips.cap = dst->addresses.n = dst->addresses.cap = 0;
	if (wg_conf_prefixes_copy(&dst->allowedips, &src->allowedips) ||
	    wg_conf_prefixes_copy(&dst->addresses, &src->addresses)) {
		wg_conf_peer_free(dst);
		return -ENOMEM;
	}
	return 0;
}

struct wg_conf_peer *wg_conf_device_add_peer(struct wg_conf_device *dev)
{
	struct wg_conf_peer *peer;

	if (dev->n_peers >= WG_CONF_MAX_PEERS)
		return NULL;
	if (dev->n_peers == dev->cap_peers) {
		size_t cap = dev->cap_peers ? dev->cap_peers * 2 : 8;
		struct wg_conf_peer *n = calloc(cap, sizeof(*n));

		if (!n)
			return NULL;
		if (dev->peers) {
			memcpy(n, dev->peers, dev->n_peers * sizeof(*n));
			wg_secure_wipe(dev->peers, dev->cap_peers * sizeof(*n));
			free(dev->peers);
		}
		dev->peers = n;
		dev->cap_peers = cap;
	}
	peer = &dev->peers[dev->n_peers++];
	memset(peer, 0, sizeof(*peer));
	return peer;
}

void wg_conf_prefixes_shrink(struct wg_conf_prefixes *l)
{
	struct wg_conf_prefix *v;

	if (l->n == l->cap)
		return;
	if (!l->n) {
		free(l->v);
		l->v = NULL;
		l->cap = 0;
		return;
	}
	v = realloc(l->v, l->n * sizeof(*v));
	if (v) { /* else the longer block stays: still correct */
		l->v = v;
		l->cap = l->n;
	}
}

int wg_conf_prefixes_add(struct wg_conf_prefixes *l, const struct wg_conf_prefix *p)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		struct wg_conf_prefix *n = realloc(l->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->v = n;
		l->cap = cap;
	}
	l->v[l->n++] = *p;
	return 0;
}

static bool prefix_equal(const struct wg_conf_prefix *a, const struct wg_conf_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr && a->flags == b->flags &&
	       !memcmp(a->addr, b->addr, 16);
}

static bool prefixes_equal(const struct wg_conf_prefixes *a, const struct wg_conf_prefixes *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!prefix_equal(&a->v[i], &b->v[i]))
			return false;
	return true;
}

static bool peer_equal(const struct wg_conf_peer *a, const struct wg_conf_peer *b)
{
	return a->flags == b->flags && !memcmp(a->public_key, b->public_key, WG_KEY_LEN) &&
	       wg_secure_equal(a->preshared_key, b->preshared_key, WG_KEY_LEN) &&
	       wg_endpoint_equal(&a->endpoint, &b->endpoint) &&
	       a->persistent_keepalive == b->persistent_keepalive &&
	       prefixes_equal(&a->allowedips, &b->allowedips) && !strcmp(a->name, b->name) &&
	       a->disabled == b->disabled && prefixes_equal(&a->addresses, &b->addresses) &&
	       wg_secure_equal(a->client_private_key, b->client_private_key, WG_KEY_LEN);
}

static bool appliance_equal(const struct wg_conf_appliance *a, const struct wg_conf_appliance *b)
{
	return !strcmp(a->outside_device, b->outside_device) &&
	       !strcmp(a->inside_device, b->inside_device) &&
	       !strcmp(a->inside_interface, b->inside_interface) &&
	       prefix_equal(&a->outside_addr4, &b->outside_addr4) &&
	       prefix_equal(&a->outside_addr6, &b->outside_addr6) &&
	       prefix_equal(&a->outside_gw4, &b->outside_gw4) &&
	       prefix_equal(&a->outside_gw6, &b->outside_gw6) &&
	       prefix_equal(&a->inside_gw4, &b->inside_gw4) &&
	       prefix_equal(&a->inside_gw6, &b->inside_gw6) && a->n_workers == b->n_workers &&
	       !memcmp(a->workers, b->workers, a->n_workers * sizeof(a->workers[0])) &&
	       a->has_control_lcore == b->has_control_lcore &&
	       (!a->has_control_lcore || a->control_lcore == b->control_lcore) &&
	       a->ring_size == b->ring_size && a->mempool_size == b->mempool_size &&
	       a->burst_size == b->burst_size && a->handshake_queue == b->handshake_queue &&
	       a->max_peers == b->max_peers && a->neigh_reachable == b->neigh_reachable &&
	       !strcmp(a->state_file, b->state_file) &&
	       !strcmp(a->api_token_file, b->api_token_file) &&
	       wg_endpoint_equal(&a->api_listen, &b->api_listen) &&
	       !strcmp(a->api_tls_cert, b->api_tls_cert) && !strcmp(a->api_tls_key, b->api_tls_key) &&
	       a->metrics_per_peer == b->metrics_per_peer && !strcmp(a->uapi_name, b->uapi_name) &&
	       a->autoscale == b->autoscale && a->min_workers == b->min_workers && a->max_workers == b->max_workers &&
	       a->scale_up_load == b->scale_up_load && a->scale_down_load == b->scale_down_load &&
	       a->scale_up_delay_ms == b->scale_up_delay_ms && a->scale_down_delay_ms == b->scale_down_delay_ms &&
	       a->spread_crypto == b->spread_crypto;
}

bool wg_conf_device_equal(const struct wg_conf_device *da, const struct wg_conf_device *db)
{
	if (da->flags != db->flags ||
	    !wg_secure_equal(da->private_key, db->private_key, WG_KEY_LEN) ||
	    da->listen_port != db->listen_port || da->fwmark != db->fwmark ||
	    da->n_peers != db->n_peers)
		return false;
	for (size_t i = 0; i < da->n_peers; i++)
		if (!peer_equal(&da->peers[i], &db->peers[i]))
			return false;
	return true;
}

bool wg_conf_equal(const struct wg_conf *a, const struct wg_conf *b)
{
	if (!wg_conf_device_equal(&a->device, &b->device))
		return false;
	return a->inside.flags == b->inside.flags && a->inside.mtu == b->inside.mtu &&
	       prefixes_equal(&a->inside.addresses, &b->inside.addresses) &&
	       prefixes_equal(&a->inside.pools, &b->inside.pools) &&
	       appliance_equal(&a->appliance, &b->appliance);
}
