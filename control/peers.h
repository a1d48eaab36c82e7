/* SPDX-License-Identifier: MIT */
/*
 * The peer table of the appliance: peers by public key (control thread only)
 * and their creation from, and removal to, the configuration model. Workers
 * never look peers up here; they reach them through the index table and the
 * allowed-IP table, and the control thread frees a removed peer only after an
 * RCU grace period.
 *
 * Peers and sessions come from two slabs of the device (control/slab.h),
 * not one rte_zmalloc each: no 128-byte heap header per object, chunks that
 * go back to the heap when their objects are all freed. Only the control
 * thread allocates and frees them (the deferred frees run in its RCU
 * reclaim).
 */
#ifndef WG_PEERS_H
#define WG_PEERS_H

#include "conf/config.h"
#include "control/peer_conf.h"
#include "dataplane/wgdp.h"

/* set up the peer and session slabs (no memory yet) and size the hash for up to max_peers. 0 or -errno. */
int wg_peers_init(struct wgdp *dev, uint32_t max_peers);
/* remove every peer and free the hash (at teardown, lcores stopped); their memory goes back as their deferred frees run */
void wg_peers_destroy(struct wgdp *dev);
/*
 * After the deferred frees ran (teardown, after the RCU defer queue is
 * deleted): give back what the slabs still hold, wiped. Nothing, unless a
 * peer or session leaked (then said on stderr). A zeroed device is fine.
 */
void wg_peers_slabs_destroy(struct wgdp *dev);

struct wg_peer *wg_peers_lookup(struct wgdp *dev, const uint8_t public_key[WG_KEY_LEN]);

/* A zeroed peer from the peer slab (hugepage memory), or NULL; not yet in any table. */
struct wg_peer *wg_peers_alloc(struct wgdp *dev);
/* Free a peer from wg_peers_alloc that was never inserted. */
void wg_peers_free_unused(struct wgdp *dev, struct wg_peer *p);
/*
 * A zeroed session from the session slab, or NULL. Once its keypair is in
 * the index table it goes through wg_peers_retire_keypair; before that,
 * wg_peers_session_free_unused frees it (wiped).
 */
struct wg_session *wg_peers_session_alloc(struct wgdp *dev);
void wg_peers_session_free_unused(struct wgdp *dev, struct wg_session *s);
/*
 * Make p (from wg_peers_alloc) a peer of the device with configuration conf
 * (a full state: key, psk, endpoint, keepalive, allowed IPs, enabled...),
 * taking conf's lists (conf is left zeroed) and the extras block x made for
 * it (wg_peer_conf_extras_new(conf); NULL when it needs none). Cannot fail:
 * the caller checked that the key is new, allocated x and reserved trie
 * nodes for the allowed IPs (control/change.c does all three).
 */
void wg_peers_insert(struct wgdp *dev, struct wg_peer *p, struct wg_conf_peer *conf, struct wg_peer_extras *x);
/*
 * A peer's allowed IPs change from p->conf.allowedips to next in two steps,
 * so that a prefix moving between peers is always routed: aip_add inserts
 * every prefix of next (moving those other peers hold; cannot fail once trie
 * nodes are reserved for the new ones), aip_drop removes those of the old
 * list that next lacks and p still holds. The caller then replaces p->conf
 * (wg_peer_conf_set).
 */
void wg_peers_aip_add(struct wgdp *dev, struct wg_peer *p, const struct wg_conf_prefixes *next);
void wg_peers_aip_drop(struct wgdp *dev, struct wg_peer *p, const struct wg_conf_prefixes *next);
/*
 * p's handshake state, its static-static DH computed now if it was not yet
 * (peers are created without it: one X25519 each would make adding 100,000
 * peers take seconds). Use it before every Noise call on p->hs.
 */
struct wg_noise_handshake *wg_peers_handshake(struct wgdp *dev, struct wg_peer *p);
/*
 * The ephemeral state of p's handshake (control/noise.h, "Ephemeral
 * state"), from dev->ephemeral_slab: only while a handshake is in flight.
 * get attaches a zeroed object unless p->hs has one (before
 * wg_noise_create_initiation, and in the lookup of
 * wg_noise_consume_initiation); 0 or -ENOMEM (the caller counts
 * HANDSHAKE_NO_MEMORY and does not start or answer the handshake). put
 * gives it back, wiped, unless the handshake is pending: call it after
 * every Noise call that may have ended one or left fresh storage unused
 * (derive_keypair, clear, a failed consume or create).
 */
int wg_peers_ephemeral_get(struct wgdp *dev, struct wg_peer *p);
void wg_peers_ephemeral_put(struct wgdp *dev, struct wg_peer *p);
/* End the handshake in progress: drop its index, clear it, give back its ephemeral state. */
void wg_peers_handshake_end(struct wgdp *dev, struct wg_peer *p);
/* Forget every session and the handshake in progress (keys retired after a grace period). */
void wg_peers_zero_keys(struct wgdp *dev, struct wg_peer *p);
/* Unlink a peer from every table and free it after a grace period. */
void wg_peers_remove(struct wgdp *dev, struct wg_peer *p);
/* Free removed peers no request names any more (force: all; the workers are stopped). */
void wg_peers_reap(struct wgdp *dev, bool force);

/* Retire a keypair: drop its index, then wipe and free it after a grace period. */
void wg_peers_retire_keypair(struct wgdp *dev, struct wg_keypair *kp);

#endif
