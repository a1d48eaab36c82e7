/* SPDX-License-Identifier: MIT */
/*
 * What the operator reads: a peer's live figures and the device's counters
 * summed over lcores, shared by the REST API, /metrics, the wg UAPI and
 * rte_telemetry. Control thread (or after the lcores stopped): the figures
 * are read from counters their owners write without locks (64-bit loads,
 * each value consistent on its own).
 */
#ifndef WG_STATS_H
#define WG_STATS_H

#include <stdint.h>

#include "control/endpoint.h"
#include "dataplane/counters.h"

struct wgdp;
struct wg_peer;

struct wg_peer_stats {
	uint64_t rx_bytes, tx_bytes;       /* as wg(8) counts them: transport and handshake messages */
	uint64_t rx_packets, tx_packets;   /* transport messages */
	uint64_t last_handshake_ns;        /* CLOCK_REALTIME of the latest handshake; 0: never */
	struct wg_endpoint endpoint;       /* where it is now (roaming), family 0: unknown */
};

void wg_stats_peer(const struct wg_peer *p, struct wg_peer_stats *st);
/* every lcore's counters (workers and control) added up */
void wg_stats_sum(const struct wgdp *dev, struct wg_lcore_counters *sum);
/* a + b into a */
void wg_stats_add(struct wg_lcore_counters *a, const struct wg_lcore_counters *b);

#endif
