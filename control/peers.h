/* SPDX-License-Identifier: MIT */
/*
 * The peer table of the appliance: peers by public key (control thread only)
 * and their creation from, and removal to, the configuration model. Workers
 * never look peers up here; they reach them through the index table and the
 * allowed-IP table, and the control thread frees a removed peer only after an
 * RCU grace period.
 */
#ifndef WG_PEERS_H
#define WG_PEERS_H

#include "conf/config.h"
#include "dataplane/wgdp.h"

/* size the hash for up to max_peers. 0 or -ENOMEM. */
int wg_peers_init(struct wgdp *dev, uint32_t max_peers);
/* remove every peer and free the hash (at teardown, lcores stopped) */
void wg_peers_destroy(struct wgdp *dev);

struct wg_peer *wg_peers_lookup(struct wgdp *dev, const uint8_t public_key[WG_KEY_LEN]);

/*
 * Create a peer from its configuration (key, psk, endpoint, keepalive,
 * allowed IPs). 0, -EEXIST, -EINVAL (our own key) or -ENOMEM; on error
 * nothing is left behind.
 */
int wg_peers_add(struct wgdp *dev, const struct wg_conf_peer *cp, struct wg_peer **out);
/* Unlink a peer from every table and free it after a grace period. */
void wg_peers_remove(struct wgdp *dev, struct wg_peer *p);

/* Retire a keypair: drop its index, then wipe and free it after a grace period. */
void wg_peers_retire_keypair(struct wgdp *dev, struct wg_keypair *kp);

#endif
