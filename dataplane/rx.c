/* SPDX-License-Identifier: MIT */
/*
 * Outside -> inside, in bursts: classify, receiver-index lookup (bulk), route
 * to the peer's owner, batch decrypt, replay window, roaming, allowed IPs,
 * forward to the inside. No locks, syscalls, allocation or logging per
 * packet; every drop is a counter.
 *
 * Only the owner of a peer's bucket gets past the routing step, so the
 * replay window and the peer's activity have one writer. Packets for other
 * owners are buffered and handed over after this burst is done (the caller
 * flushes): a migrating bucket's new owner takes packets from the old one
 * as soon as they arrive, so everything the old owner did to the peer must
 * come before them.
 */
#include <string.h>
#include <sys/socket.h>

#include "control/timers.h"
#include "dataplane/l3.h"
#include "dataplane/messages.h"
#include <rte_prefetch.h>

#include "dataplane/worker_internal.h"

struct rx_item {
	struct rte_mbuf *m;
	struct wg_session *s;
	uint8_t *msg;            /* the WireGuard message inside the frame */
	uint32_t msg_len;
	uint64_t counter;
	struct wg_endpoint src;
	/* after decryption */
	int parsed;              /* 1: inner parsed, 0: keepalive, -1: not an IP packet */
	struct wg_l3_inner inner;
	struct wg_allowedips_owner *src_owner; /* who may send from inner.src */
};

/* the inside next hop's MAC for a DPDK inside port; false when m went to control (or was dropped) */
static bool inside_next_hop(struct wg_worker *w, struct rte_mbuf *m, struct wg_eth_hdr *eth,
			    const struct wg_l3_inner *inner, bool *consumed)
{
	struct wgdp *dev = w->dev;
	const struct wg_neigh_snapshot *snap = __atomic_load_n(&dev->in.snap, __ATOMIC_ACQUIRE);
	uint8_t nh[16];

	*consumed = false;
	if (!wg_device_nexthop(&dev->in, inner->family, inner->dst, nh)) {
		WG_DROP(w, NO_NEIGHBOUR);
		return false;
	}
	memcpy(eth->src, dev->in.port.mac.addr_bytes, 6);
	memset(eth->dst, 0, 6);
	/* a STALE entry is used (and noted for the control thread to re-confirm) */
	if (!wg_neigh_snap_use(snap, inner->family, nh, eth->dst)) {
		wg_worker_to_control(w, m, WG_MBUF_IN_RESOLVE);
		*consumed = true;
		return false;
	}
	return true;
}

/* after authentication: replay, roaming, confirmation, allowed IPs, forward */
static bool deliver(struct wg_worker *w, struct rx_item *it, uint64_t now, struct rte_mbuf **out,
		    uint16_t *n_out)
{
	struct wgdp *dev = w->dev;
	struct wg_keypair *kp = &it->s->kp;
	struct wg_peer *p = it->s->peer;
	uint8_t *plain = it->msg + WG_DATA_HEADER_LEN;
	const struct wg_l3_inner *inner = &it->inner;
	struct wg_endpoint ep;
	struct rte_mbuf *m = it->m;
	struct wg_eth_hdr *eth;
	bool consumed;

	if (!wg_replay_check(&kp->replay, it->counter)) {
		WG_DROP(w, REPLAY);
		return false;
	}
	/* roaming: the latest authenticated source is the endpoint */
	wg_peer_get_endpoint(p, &ep);
	if (!wg_endpoint_equal(&ep, &it->src))
		wg_peer_set_endpoint(p, &it->src);
	if (!it->s->confirm_posted && wg_keypairs_next(&p->keypairs) == kp) {
		it->s->confirm_posted = true;
		wg_worker_post_event(w, wg_tag((struct wg_peer *)it->s, WG_EV_CONFIRMED));
	}

	p->act.rx_packets++;
	p->act.rx_bytes += it->msg_len;
	__atomic_store_n(&p->act.last_rx_ns, now, __ATOMIC_RELAXED);
	if (!it->parsed) {
		w->cnt.keepalives_rx++;
		return false;
	}
	if (it->parsed < 0) {
		WG_DROP(w, INNER_MALFORMED);
		return false;
	}
	if (it->src_owner != &p->aip) {
		WG_DROP(w, ALLOWEDIPS_MISMATCH);
		return false;
	}
	__atomic_store_n(&p->act.last_rx_data_ns, now, __ATOMIC_RELAXED);
	if (wg_timers_rekey_on_receive(kp->birth_ns, kp->is_initiator, now))
		wg_worker_want_handshake(w, p, WG_EV_REKEY);

	/* the inner packet, without padding, behind a fresh Ethernet header */
	rte_pktmbuf_adj(m, (uint16_t)(plain - rte_pktmbuf_mtod(m, uint8_t *)));
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - inner->len));
	eth = (struct wg_eth_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (!eth) {
		WG_DROP(w, MALFORMED);
		return false;
	}
	eth->type = rte_cpu_to_be_16(inner->family == AF_INET ? WG_ETHERTYPE_IPV4 : WG_ETHERTYPE_IPV6);
	w->cnt.rx_packets++;
	w->cnt.rx_bytes += inner->len;
	if (dev->inside_is_tap) {
		memcpy(eth->dst, dev->inside_dst_mac.addr_bytes, 6);
		memcpy(eth->src, dev->inside_src_mac.addr_bytes, 6);
	} else if (!inside_next_hop(w, m, eth, inner, &consumed)) {
		return consumed;
	}
	out[(*n_out)++] = m;
	return true;
}

/* parse the authenticated inner packets and look their sources up, interleaved */
static void lookup_sources(struct wg_worker *w, struct rx_item *items, const struct wg_aead_job *jobs, unsigned n)
{
	const uint8_t *a4[WG_BURST], *a6[WG_BURST];
	struct wg_allowedips_owner *o4[WG_BURST], *o6[WG_BURST];
	uint8_t i4[WG_BURST], i6[WG_BURST];
	unsigned n4 = 0, n6 = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rx_item *it = &items[i];
		uint32_t plain_len = it->msg_len - WG_DATA_MIN_LEN;

		it->parsed = 0;
		it->src_owner = NULL;
		if (jobs[i].status || !plain_len)
			continue;
		if (wg_l3_inner_parse(it->msg + WG_DATA_HEADER_LEN, plain_len, &it->inner)) {
			it->parsed = -1;
			continue;
		}
		it->parsed = 1;
		if (it->inner.family == AF_INET) {
			a4[n4] = it->inner.src;
			i4[n4++] = (uint8_t)i;
		} else {
			a6[n6] = it->inner.src;
			i6[n6++] = (uint8_t)i;
		}
	}
	if (n4)
		wg_allowedips_lookup_bulk(w->dev->aip, AF_INET, a4, o4, n4);
	if (n6)
		wg_allowedips_lookup_bulk(w->dev->aip, AF_INET6, a6, o6, n6);
	for (unsigned i = 0; i < n4; i++)
		items[i4[i]].src_owner = o4[i];
	for (unsigned i = 0; i < n6; i++)
		items[i6[i]].src_owner = o6[i];
}

static void decrypt_burst(struct wg_worker *w, struct rx_item *items, unsigned n, uint64_t now)
{
	struct wgdp *dev = w->dev;
	struct wg_aead_job jobs[WG_BURST];
	uint32_t indices[WG_BURST];
	void *objs[WG_BURST];
	struct rte_mbuf *out[WG_BURST];
	uint16_t n_out = 0, owner;
	unsigned i, k = 0;

	for (i = 0; i < n; i++)
		indices[i] = wg_le32_read(items[i].msg + 4);
	wg_index_lookup_bulk(dev->index, indices, n, WG_INDEX_KEYPAIR, objs);
	for (i = 0; i < n; i++)
		if (objs[i])
			rte_prefetch0(objs[i]); /* the session: keypair, replay window head, peer */

	/* route, then compact to the messages worth decrypting here */
	for (i = 0; i < n; i++) {
		struct rx_item *it = &items[i];
		struct wg_peer *p;

		it->s = objs[i];
		if (!it->s) {
			WG_DROP(w, UNKNOWN_INDEX);
			rte_pktmbuf_free(it->m);
			continue;
		}
		p = it->s->peer;
		switch (wg_route(w, p->bucket, &owner)) {
		case WG_ROUTE_FORWARD:
			wg_handoff_push(w, owner, (uintptr_t)it->m | WG_HO_OUTSIDE);
			continue;
		case WG_ROUTE_HOLD:
			wg_handoff_hold(w, p->bucket, (uintptr_t)it->m | WG_HO_OUTSIDE);
			continue;
		case WG_ROUTE_LOCAL:
			break;
		}
		it->counter = wg_le64_read(it->msg + 8);
		if (!wg_keypair_can_receive(&it->s->kp, now)) {
			WG_DROP(w, KEYPAIR_EXPIRED);
			rte_pktmbuf_free(it->m);
			continue;
		}
		if (it->counter >= WG_REJECT_AFTER_MESSAGES) {
			WG_DROP(w, REPLAY);
			rte_pktmbuf_free(it->m);
			continue;
		}
		jobs[k] = (struct wg_aead_job){
			.key = it->s->kp.recv_key,
			.counter = it->counter,
			.src = it->msg + WG_DATA_HEADER_LEN,
			.dst = it->msg + WG_DATA_HEADER_LEN,
			.len = it->msg_len - WG_DATA_MIN_LEN,
		};
		items[k++] = *it;
	}
	if (!k)
		return;
	wg_spread_run(w, WG_BATCH_DECRYPT, jobs, k);
	lookup_sources(w, items, jobs, k);
	/* in arrival order, so each peer's packets keep their order */
	for (i = 0; i < k; i++) {
		if (jobs[i].status) {
			WG_DROP(w, BAD_TAG);
			rte_pktmbuf_free(items[i].m);
		} else if (!deliver(w, &items[i], now, out, &n_out)) {
			rte_pktmbuf_free(items[i].m);
		}
	}
	wg_worker_send(w, false, out, n_out);
}

void wg_rx_outside(struct wg_worker *w, struct rte_mbuf **pkts, unsigned n, uint64_t now)
{
	struct wgdp *dev = w->dev;
	struct rx_item items[WG_BURST];
	struct wg_l3_result res;
	unsigned k = 0;

	for (unsigned i = 0; i < WG_PREFETCH && i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

		if (i + WG_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + WG_PREFETCH], void *));
		if (m->nb_segs > 1) { /* we never enable scatter; be safe anyway */
			w->cnt.l3_drops[WG_L3_DROP_TRUNCATED]++;
			rte_pktmbuf_free(m);
			continue;
		}
		switch (wg_l3_classify(&dev->out.local, frame, rte_pktmbuf_data_len(m), &res)) {
		case WG_L3_WIREGUARD: {
			uint8_t *msg = frame + res.payload_off;

			switch (wg_msg_classify(msg, res.payload_len)) {
			case WG_MSG_DATA:
				items[k++] = (struct rx_item){ .m = m, .msg = msg, .msg_len = res.payload_len,
							       .src = res.src };
				break;
			case WG_MSG_HANDSHAKE_INITIATION:
			case WG_MSG_HANDSHAKE_RESPONSE:
			case WG_MSG_HANDSHAKE_COOKIE:
				wg_worker_to_control(w, m, WG_MBUF_RECEIVED);
				break;
			default:
				WG_DROP(w, MALFORMED);
				rte_pktmbuf_free(m);
			}
			break;
		}
		case WG_L3_ARP_REQUEST:
		case WG_L3_ND_SOLICIT:
		case WG_L3_NEIGH_LEARN:
		case WG_L3_ECHO_REQUEST:
			/* rare, and they touch the neighbour table: the control thread's */
			wg_worker_to_control(w, m, WG_MBUF_RECEIVED);
			break;
		default:
			w->cnt.l3_drops[res.drop < WG_L3_DROP_MAX ? res.drop : WG_L3_DROP_TRUNCATED]++;
			rte_pktmbuf_free(m);
		}
	}
	if (k)
		decrypt_burst(w, items, k, now);
}
