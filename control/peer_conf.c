/* SPDX-License-Identifier: MIT */
/* A peer's configuration as applied, compact (see peer_conf.h). Control thread only. */
#include "control/peer_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure.h"
#include "dataplane/peer.h"

bool wg_peer_conf_needs_extras(const struct wg_conf_peer *conf)
{
	return (conf->flags & WG_CONF_PEER_HAS_ENDPOINT) || conf->name[0] ||
	       !wg_secure_is_zero(conf->client_private_key, WG_KEY_LEN);
}

int wg_peer_conf_extras_new(const struct wg_conf_peer *conf, struct wg_peer_extras **out)
{
	struct wg_peer_extras *x;

	*out = NULL;
	if (!wg_peer_conf_needs_extras(conf))
		return 0;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	if (conf->flags & WG_CONF_PEER_HAS_ENDPOINT)
		x->endpoint = conf->endpoint;
	memcpy(x->name, conf->name, sizeof(x->name));
	x->name[sizeof(x->name) - 1] = '\0';
	memcpy(x->client_private_key, conf->client_private_key, WG_KEY_LEN);
	*out = x;
	return 0;
}

void wg_peer_conf_extras_free(struct wg_peer_extras *x)
{
	if (!x)
		return;
	wg_secure_wipe(x, sizeof(*x));
	free(x);
}

void wg_peer_conf_free(struct wg_peer *p)
{
	struct wg_peer_conf *c = &p->conf;

	free(c->allowedips.v);
	free(c->addresses.v);
	wg_peer_conf_extras_free(c->extras);
	wg_secure_wipe(c, sizeof(*c));
}

void wg_peer_conf_set(struct wg_peer *p, struct wg_conf_peer *conf, struct wg_peer_extras *x)
{
	struct wg_peer_conf *c = &p->conf;

	wg_peer_conf_free(p);
	c->allowedips = conf->allowedips;
	c->addresses = conf->addresses;
	c->extras = x;
	c->flags = conf->flags;
	c->persistent_keepalive = conf->persistent_keepalive;
	/* the lists are kept for long: at their length */
	wg_conf_prefixes_shrink(&c->allowedips);
	wg_conf_prefixes_shrink(&c->addresses);
	wg_secure_wipe(conf, sizeof(*conf)); /* the keys in it are the peer's now (hs) */
}

void wg_peer_conf_view(const struct wg_peer *p, struct wg_conf_peer *out)
{
	const struct wg_peer_conf *c = &p->conf;
	const struct wg_peer_extras *x = c->extras;

	memset(out, 0, sizeof(*out));
	out->flags = c->flags;
	memcpy(out->public_key, p->hs.remote_static, WG_KEY_LEN);
	memcpy(out->preshared_key, p->hs.preshared_key, WG_KEY_LEN);
	out->persistent_keepalive = c->persistent_keepalive;
	out->allowedips = c->allowedips;
	out->addresses = c->addresses;
	out->disabled = __atomic_load_n(&p->disabled, __ATOMIC_RELAXED);
	if (x) {
		if (c->flags & WG_CONF_PEER_HAS_ENDPOINT)
			out->endpoint = x->endpoint;
		memcpy(out->name, x->name, sizeof(out->name));
		memcpy(out->client_private_key, x->client_private_key, WG_KEY_LEN);
	}
}

int wg_peer_conf_copy(const struct wg_peer *p, struct wg_conf_peer *out)
{
	struct wg_conf_peer view;
	int ret;

	wg_peer_conf_view(p, &view);
	ret = wg_conf_peer_copy(out, &view);
	if (ret)
		memset(out, 0, sizeof(*out)); /* wg_conf_peer_copy wiped it */
	wg_secure_wipe(&view, sizeof(view));
	return ret;
}
