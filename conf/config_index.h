/* SPDX-License-Identifier: MIT */
/*
 * Hash indexes over a device delta being built: public key -> peer, and
 * allowed IP -> (peer, entry). They keep parsing linear in the number of
 * peers and allowed IPs (a pairwise check of 1,000,000 peers would be 10^12
 * comparisons). The UAPI and REST parsers will use them the same way.
 *
 * An allowed IP given to two peers goes to the later one, as wg(8) setconf
 * does it (the kernel's insert moves the node): the earlier entry is marked
 * dead (family 0) and wg_conf_index_compact removes dead entries at the end.
 */
#ifndef WG_CONF_CONFIG_INDEX_H
#define WG_CONF_CONFIG_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

struct wg_conf_index_slot {
	uint32_t hash;
	uint32_t peer;  /* peer index + 1; 0 = empty slot */
	uint32_t entry; /* allowed IP index within the peer */
};

struct wg_conf_index {
	struct wg_conf_index_slot *keys, *ips;
	size_t keys_cap, ips_cap; /* powers of two, at most half full */
	size_t n_keys, n_ips;     /* n_ips: distinct allowed IPs */
	size_t dead;              /* entries marked dead */
};

/*
 * Index dev->peers[peer].public_key. 0, -EEXIST (*other = the peer that has
 * it) or -ENOMEM.
 */
int wg_conf_index_add_key(struct wg_conf_index *ix, const struct wg_conf_device *dev,
			  size_t peer, size_t *other);
/*
 * Append pfx to dev->peers[peer].allowedips and index it. 0 (new),
 * -EEXIST (this peer has it already; nothing appended), -EADDRINUSE
 * (appended, taken from *prev_peer whose entry is now dead) or -ENOMEM.
 */
int wg_conf_index_add_ip(struct wg_conf_index *ix, struct wg_conf_device *dev, size_t peer,
			 const struct wg_conf_prefix *pfx, size_t *prev_peer);
/* Drop the dead entries; the index must not be used for adding afterwards. */
void wg_conf_index_compact(struct wg_conf_index *ix, struct wg_conf_device *dev);
void wg_conf_index_free(struct wg_conf_index *ix);

#endif
