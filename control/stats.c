/* SPDX-License-Identifier: MIT */
/* Live figures for the operator (see stats.h). */
#include "control/stats.h"

#include "dataplane/wgdp.h"

void wg_stats_peer(const struct wg_peer *p, struct wg_peer_stats *st)
{
	const struct wg_peer_activity *a = &p->act;

	st->rx_packets = __atomic_load_n(&a->rx_packets, __ATOMIC_RELAXED);
	st->tx_packets = __atomic_load_n(&a->tx_packets, __ATOMIC_RELAXED);
	st->rx_bytes = __atomic_load_n(&a->rx_bytes, __ATOMIC_RELAXED) + p->handshake_rx_bytes;
	st->tx_bytes = __atomic_load_n(&a->tx_bytes, __ATOMIC_RELAXED) + p->handshake_tx_bytes;
	st->last_handshake_ns = p->last_handshake_realtime_ns;
	wg_peer_get_endpoint((struct wg_peer *)p, &st->endpoint);
}

void wg_stats_add(struct wg_lcore_counters *a, const struct wg_lcore_counters *b)
{
	a->rx_packets += b->rx_packets;
	a->rx_bytes += b->rx_bytes;
	a->tx_packets += b->tx_packets;
	a->tx_bytes += b->tx_bytes;
	a->keepalives_rx += b->keepalives_rx;
	a->keepalives_tx += b->keepalives_tx;
	a->handshakes_rx += b->handshakes_rx;
	a->handshakes_tx += b->handshakes_tx;
	a->cookies_tx += b->cookies_tx;
	a->arp_nd_replies += b->arp_nd_replies;
	a->echo_replies += b->echo_replies;
	for (unsigned d = 0; d < WG_DROP_MAX; d++)
		a->drops[d] += b->drops[d];
	for (unsigned d = 0; d < WG_L3_DROP_MAX; d++)
		a->l3_drops[d] += b->l3_drops[d];
}

void wg_stats_sum(const struct wgdp *dev, struct wg_lcore_counters *sum)
{
	*sum = dev->control_cnt;
	for (unsigned i = 0; i < dev->n_workers; i++)
		wg_stats_add(sum, &dev->workers[i].cnt);
}
