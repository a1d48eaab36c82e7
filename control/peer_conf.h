/* SPDX-License-Identifier: MIT */
/*
 * A peer's configuration as applied, compact (issue 5: a million peers under
 * 1 KiB each). The full model, struct wg_conf_peer, is 248 bytes; most of it
 * the peer holds elsewhere or rarely has, so the peer keeps only this:
 *
 *   field of wg_conf_peer   where it lives in the peer
 *   public_key              hs.remote_static
 *   preshared_key           hs.preshared_key (zero: none)
 *   disabled                disabled (the workers' copy)
 *   flags                   conf.flags (HAS_PRESHARED_KEY, HAS_PERSISTENT_KEEPALIVE, HAS_ENDPOINT)
 *   persistent_keepalive    conf.persistent_keepalive (seconds; the timers
 *                           hold it as an interval in ns)
 *   allowedips, addresses   conf.allowedips, conf.addresses (the lists, at their length)
 *   endpoint                conf.extras->endpoint: the configured one, kept
 *                           apart from the peer's live endpoint, which roams
 *   name                    conf.extras->name
 *   client_private_key      conf.extras->client_private_key
 *
 * The extras block is NULL when the peer has no configured endpoint, no
 * name and no server-generated key: the common case of a concentrator's
 * clients. It is on the C heap (malloc), like the lists: only the control
 * thread reads it, never a worker, so it needs no hugepage and no NUMA
 * placement, and a DPDK allocation would add a 64-byte-plus header to a
 * 116-byte block. It is wiped when freed (it may hold the client's private
 * key).
 *
 * wg_peer_conf_view and wg_peer_conf_copy rebuild the full struct
 * wg_conf_peer from these places. Control thread only.
 */
#ifndef WG_PEER_CONF_H
#define WG_PEER_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/config.h"
#include "control/endpoint.h"

struct wg_peer;

/* what few peers have: allocated only when one of them is set */
struct wg_peer_extras {
	struct wg_endpoint endpoint;               /* configured; flags has HAS_ENDPOINT */
	char name[WG_CONF_PEER_NAME_MAX];          /* "" = none */
	uint8_t client_private_key[WG_KEY_LEN];    /* zero = none */
};

/* the part of a peer's configuration it holds nowhere else (struct wg_peer's conf) */
struct wg_peer_conf {
	struct wg_conf_prefixes allowedips;        /* AllowedIPs, host bits masked off */
	struct wg_conf_prefixes addresses;         /* tunnel addresses, among the allowed IPs too */
	struct wg_peer_extras *extras;             /* NULL: no endpoint, no name, no client key */
	uint32_t flags;                            /* WG_CONF_PEER_* as applied */
	uint16_t persistent_keepalive;             /* seconds; 0 = off */
};

/* a million peers: 64 bytes each here, the 248 of struct wg_conf_peer before */
_Static_assert(sizeof(struct wg_peer_conf) <= 64, "struct wg_peer_conf outgrew 64 bytes");

/* conf has something that goes into an extras block */
bool wg_peer_conf_needs_extras(const struct wg_conf_peer *conf);
/*
 * The extras block for conf, in *out (NULL when conf needs none). 0 or
 * -ENOMEM. Allocate it before the first visible change (control/change.c
 * plans it), so that setting it cannot fail.
 */
int wg_peer_conf_extras_new(const struct wg_conf_peer *conf, struct wg_peer_extras **out);
/* Wipe and free an extras block (NULL is fine). */
void wg_peer_conf_extras_free(struct wg_peer_extras *x);
/*
 * Replace p's compact configuration by conf's (taking its lists, which are
 * shrunk to their length; conf is left zeroed) and x (taken; from
 * wg_peer_conf_extras_new(conf)). The old lists and extras are freed. The
 * fields held elsewhere (hs, disabled) are the caller's to set. Cannot fail.
 */
void wg_peer_conf_set(struct wg_peer *p, struct wg_conf_peer *conf, struct wg_peer_extras *x);
/*
 * p's full configuration in *out, each field from where it lives. The lists
 * are p's own (do not free or change them; they live until p's next
 * wg_peer_conf_set). *out holds the preshared key and maybe the client's
 * private key: wipe it after use.
 */
void wg_peer_conf_view(const struct wg_peer *p, struct wg_conf_peer *out);
/* The same as a deep copy (wg_conf_peer_free it). 0 or -ENOMEM (*out zeroed). */
int wg_peer_conf_copy(const struct wg_peer *p, struct wg_conf_peer *out);
/* Free p's lists and extras (wiped), leaving p->conf zeroed. */
void wg_peer_conf_free(struct wg_peer *p);

#endif
