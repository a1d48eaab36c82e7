/* SPDX-License-Identifier: MIT */
/*
 * A peer as the appliance holds it, and who may touch which part of it
 * (docs/dataplane.md, "Ownership of a peer's state"):
 *
 * - keypairs, allowed-IP owner: written by the control thread (RCU publish),
 *   read by workers;
 * - endpoint: written under a seqlock (owning worker on roaming, control on
 *   configuration), read lock-free by anyone;
 * - activity and staged packets: written by the owning worker only;
 * - everything under "control only": the control thread.
 */
#ifndef WG_PEER_H
#define WG_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_seqlock.h>

#include "control/cookie.h"
#include "control/endpoint.h"
#include "control/keypairs.h"
#include "control/noise.h"
#include "conf/config.h"
#include "control/peer_conf.h"
#include "control/timers.h"
#include "dataplane/allowedips.h"
#include "dataplane/keypair.h"
#include "dataplane/staging.h"

struct wg_peer;

/* what the index table points at for a data message: a keypair and its peer */
struct wg_session {
	struct wg_keypair kp;
	struct wg_peer *peer;
	bool confirm_posted; /* receiving worker: CONFIRMED event sent */
} __rte_cache_aligned;

/* written by the owning worker, read by the control thread and the API */
struct wg_peer_activity {
	uint64_t rx_bytes, tx_bytes;     /* UDP payload bytes of transport messages */
	uint64_t rx_packets, tx_packets;
	uint64_t last_rx_ns;             /* any authenticated packet received */
	uint64_t last_rx_data_ns;        /* non-keepalive received */
	uint64_t last_tx_ns;             /* any authenticated packet sent */
	uint64_t last_tx_data_ns;        /* non-keepalive sent */
};

/* the activity timestamps the control thread has already fed to the timers */
struct wg_peer_seen {
	uint64_t last_rx_ns, last_rx_data_ns, last_tx_ns, last_tx_data_ns;
};

/* events a worker posts to the control thread about a peer */
enum wg_peer_event {
	WG_EV_NEED_HANDSHAKE = 1, /* no usable session: staged packets wait */
	WG_EV_REKEY = 2,          /* session old or worn: start a new one */
	WG_EV_CONFIRMED = 3,      /* data arrived on the pending next keypair */
};

/* requests the control thread posts to a peer's worker (control/scale.c: wg_scale_request) */
enum wg_worker_request {
	WG_REQ_FLUSH_STAGED = 1,  /* a session is up: send what waited */
	WG_REQ_KEEPALIVE = 2,     /* send an empty data message */
	WG_REQ_PURGE_STAGED = 3,  /* handshake gave up: drop what waited */
	/* requests to a worker, not about a peer: the value is (argument << 3 | code) */
	WG_REQ_MIGRATE_OUT = 4,   /* bucket (argument) has a new owner: drain, then send DONE */
	WG_REQ_PARK = 5,          /* no queues and no buckets left: block until woken */
};

struct wg_peer {
	/* ---- read by workers ---- */
	struct wg_keypairs keypairs;
	struct wg_allowedips_owner aip;
	rte_seqlock_t ep_lock;
	struct wg_endpoint endpoint;      /* family 0: unknown */
	uint16_t bucket;                  /* owned by dev->bucket_owner[bucket] (fixed for life) */
	uint16_t req_inflight;            /* requests posted, not handled yet (atomic) */
	uint16_t mtu;                     /* inner MTU for padding */
	uint8_t handshake_wanted;         /* a NEED_HANDSHAKE/REKEY event is in flight */
	bool disabled;                    /* keeps its allowed IPs; its traffic is dropped */
	/* owning worker only, but read with the fields above on every inside
	 * packet and written once per handshake: packets waiting for a session,
	 * NULL when none (a queue from the worker's pool, dataplane/staging.h) */
	struct wg_staging_queue *staged;
	/* control thread only, in the spare bytes of the lines above: written
	 * only when this peer or a neighbour in the lists is added or removed */
	struct wg_peer *hash_next;        /* public-key hash chain */
	struct wg_peer *list_next;        /* all peers */
	struct wg_peer **list_pprev;      /* O(1) unlink */

	/* ---- owning worker ---- */
	struct wg_peer_activity act __rte_cache_aligned;

	/* ---- control thread only ---- */
	struct wg_noise_handshake hs __rte_cache_aligned; /* hs.remote_static: the peer's public key */
	uint32_t hs_index;                /* index of hs in the index table, when hs_indexed */
	bool hs_indexed;
	bool hs_precomputed;              /* hs's static-static DH is computed (lazily) */
	struct wg_cookie_maker cookie;
	struct wg_timers timers;
	/* its configuration as applied: what is held nowhere else, the rest
	 * in hs and disabled (control/peer_conf.h; wg_peer_conf_view rebuilds it) */
	struct wg_peer_conf conf;
	struct wg_peer_seen seen;         /* activity already fed to the timers */
	uint64_t handshake_rx_bytes, handshake_tx_bytes;
	uint64_t last_handshake_realtime_ns; /* for `wg show`: latest handshake */
	uint8_t req_deferred;             /* requests held while its bucket migrates (bit per code) */
	bool deferred_listed;             /* on dev's deferred-request list */
	bool zombie;                      /* removed, freed once req_inflight is 0 */
	struct wg_peer *defer_next;       /* deferred requests, or zombies */
};

/*
 * The peer's static public key: its handshake's remote_static, set when the
 * peer is inserted and never changed (a peer is its key). Control thread,
 * and whoever reads a peer the control thread keeps alive (API, metrics).
 */
static inline const uint8_t *wg_peer_public_key(const struct wg_peer *p)
{
	return p->hs.remote_static;
}

/* read the endpoint without locking (any thread) */
static inline void wg_peer_get_endpoint(struct wg_peer *p, struct wg_endpoint *out)
{
	uint32_t sn;

	do {
		sn = rte_seqlock_read_begin(&p->ep_lock);
		*out = p->endpoint;
	} while (rte_seqlock_read_retry(&p->ep_lock, sn));
}

static inline void wg_peer_set_endpoint(struct wg_peer *p, const struct wg_endpoint *ep)
{
	rte_seqlock_write_lock(&p->ep_lock);
	p->endpoint = *ep;
	rte_seqlock_write_unlock(&p->ep_lock);
}

static inline struct wg_session *wg_session_of(struct wg_keypair *kp)
{
	return container_of(kp, struct wg_session, kp);
}

/* what workers read of a peer on every packet stays in 128 bytes (two 64-byte lines) */
_Static_assert(offsetof(struct wg_peer, list_pprev) + sizeof(void *) <= 128, "the workers' part outgrew 128 bytes");

#endif
