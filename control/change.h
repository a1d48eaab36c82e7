/* SPDX-License-Identifier: MIT */
/*
 * Changing the running device: the one path through which the config file
 * (at start), the wg UAPI (set=1) and the REST API add, change and remove
 * peers and change the interface. A change is a delta in the model of
 * conf/config.h (struct wg_conf_device with its HAS_/REPLACE_ flags, plus an
 * optional struct wg_conf_inside for the address pools).
 *
 * A change is applied whole or not at all. wg_change_apply() first plans
 * it without touching the device: it works out every touched peer's new
 * configuration, who holds each allowed IP afterwards, which pool addresses
 * are taken, allocates the peers it creates and reserves trie nodes for every
 * insert. Any error there (a bad value, a conflict, an exhausted pool, no
 * memory) undoes the plan and leaves the device as it was. Then the change is
 * written to the state file (control/state.c) and only then committed, by
 * steps that cannot fail: single-pointer RCU publications that workers see
 * one at a time, so peers the change does not name never lose a packet.
 *
 * Semantics are wg(8)'s, with these choices:
 * - REPLACE_PEERS keeps the sessions and learned endpoints of peers that stay
 *   (the kernel recreates them); their preshared key, keepalive and allowed
 *   IPs become what the change gives (none when it gives none), as for a new
 *   peer.
 * - An allowed IP named for one peer moves from the peer that held it, as
 *   wg(8) moves it, unless the delta has WG_CONF_DEVICE_NO_STEAL (REST), which
 *   makes it an error.
 * - A private key whose public key is a peer's is refused (the kernel would
 *   drop that peer).
 * - A disabled peer keeps its allowed IPs (traffic to them is dropped and
 *   counted), its sessions are forgotten and its handshakes refused.
 * Control thread only (or before the workers start).
 */
#ifndef WG_CHANGE_H
#define WG_CHANGE_H

#include <stddef.h>

#include "conf/config.h"
#include "dataplane/wgdp.h"

/* REST POST: fail with -EEXIST instead of changing an existing peer */
#define WG_CONF_PEER_CREATE_ONLY (1u << 20)

struct wg_change_stats {
	size_t created, updated, removed;
};

/*
 * What a planned change leaves behind, for the journal (state.c): the
 * interface after it (when it changes), every created or changed peer's
 * full configuration and every removed peer's key.
 */
struct wg_change_log {
	bool interface;                       /* dev/inside below are set */
	const struct wg_conf_device *dev;     /* device fields after the change (no peers) */
	const struct wg_conf_inside *inside;  /* inside fields after the change */
	size_t n_put;
	const struct wg_conf_peer **put;
	size_t n_removed;
	const uint8_t (*removed)[WG_KEY_LEN];
};

/*
 * Apply d (and in, when not NULL: pools) to the device. 0 or:
 * -EINVAL (a value the device cannot take: err says which), -EEXIST (a
 * CREATE_ONLY peer exists), -EADDRINUSE (an allowed IP or address held by
 * another peer, with NO_STEAL), -ENOSPC (an address pool is exhausted, or
 * there is none of the family asked for), -EDQUOT (MaxPeers reached),
 * -ENOMEM, or -EIO when the state file cannot take it (nothing applied). err names the
 * peer (public key) and the value. st may be NULL.
 */
int wg_change_apply(struct wgdp *dev, const struct wg_conf_device *d, const struct wg_conf_inside *in,
		    struct wg_change_stats *st, char *err, size_t errlen);

/* Build the device's address pools from dev->conf.inside.pools (at set-up). 0 or -errno. */
int wg_change_pools_init(struct wgdp *dev, char *err, size_t errlen);
void wg_change_pools_free(struct wgdp *dev);

#endif
