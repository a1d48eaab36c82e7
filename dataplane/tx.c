/* SPDX-License-Identifier: MIT */
/*
 * Inside -> outside, in bursts: proxy ARP/ND (TAP inside) or host duties (a
 * DPDK inside port), allowed-IP lookup, route to the peer's owner, then at
 * the owner: keypair, counter, padding, batch encrypt, outer headers, next
 * hop, transmit. Packets wait in the peer's staging queue while a handshake
 * is under way; the owner alone touches that queue.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "control/timers.h"
#include "dataplane/l3.h"
#include "dataplane/messages.h"
#include <rte_prefetch.h>

#include "dataplane/worker_internal.h"

struct tx_item {
	struct rte_mbuf *m;
	struct wg_peer *peer;
	struct wg_keypair *kp;
	uint32_t inner_len;      /* the inner packet, before padding; 0 for a keepalive */
};

/* hold a packet while a handshake is under way; the oldest goes when full */
static void stage(struct wg_worker *w, struct wg_peer *p, struct rte_mbuf *m)
{
	struct rte_mbuf *drop;

	switch (wg_staging_push(&p->staged, w->staging, m, &drop)) {
	case -ENOBUFS:
		WG_DROP(w, NO_SESSION);
		rte_pktmbuf_free(drop);
		break;
	case -ENOMEM: /* every queue of the pool is in use: not staged, still handshake */
		WG_DROP(w, NO_STAGING_QUEUE);
		rte_pktmbuf_free(drop);
		break;
	}
	wg_worker_want_handshake(w, p, WG_EV_NEED_HANDSHAKE);
}

/*
 * Turn m (an inner IP packet of inner_len bytes at its data start, or an
 * empty mbuf for a keepalive) into a plaintext ready for sealing: padded,
 * with room for the tag, behind the 16-byte data header. Reserves the
 * counter. 0; -ENOKEY when the peer has no usable keypair (m untouched: stage
 * it); -ENOSPC when m has no room (drop it).
 */
static int prepare(struct wg_worker *w, struct wg_peer *p, struct rte_mbuf *m, uint32_t inner_len,
		    uint64_t now, struct tx_item *it, struct wg_aead_job *job)
{
	struct wg_keypair *kp = wg_keypairs_current(&p->keypairs);
	uint32_t padded = (uint32_t)wg_data_padded_len(inner_len, p->mtu);
	struct wg_msg_data *hdr;
	uint64_t counter;
	uint8_t *tail;

	if (!kp || !wg_keypair_can_send(kp, now))
		return -ENOKEY;
	if (rte_pktmbuf_tailroom(m) < padded - inner_len + WG_AEAD_TAG_LEN ||
	    rte_pktmbuf_headroom(m) < WG_DATA_HEADER_LEN + WG_L3_ENCAP6_LEN)
		return -ENOSPC;
	counter = __atomic_fetch_add(&kp->send_counter, 1, __ATOMIC_RELAXED);
	if (counter >= WG_REJECT_AFTER_MESSAGES)
		return -ENOKEY;
	if (wg_timers_rekey_on_send(kp->birth_ns, kp->is_initiator, counter, now))
		wg_worker_want_handshake(w, p, WG_EV_REKEY);
	tail = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(padded - inner_len + WG_AEAD_TAG_LEN));
	hdr = (struct wg_msg_data *)rte_pktmbuf_prepend(m, WG_DATA_HEADER_LEN);
	memset(tail, 0, padded - inner_len);
	hdr->header = (struct wg_msg_header){ .type = WG_MSG_DATA };
	wg_le32_write(&hdr->key_idx, kp->remote_index);
	wg_le64_write(&hdr->counter, counter);
	*it = (struct tx_item){ .m = m, .peer = p, .kp = kp, .inner_len = inner_len };
	*job = (struct wg_aead_job){
		.key = kp->send_key,
		.counter = counter,
		.src = (uint8_t *)(hdr + 1),
		.dst = (uint8_t *)(hdr + 1),
		.len = padded,
	};
	return 0;
}

/* outer headers and next hop for a sealed message; false when m was consumed elsewhere */
static bool encapsulate(struct wg_worker *w, struct tx_item *it, const struct wg_neigh_snapshot *snap)
{
	struct wgdp *dev = w->dev;
	struct wg_l3_encap_params ep = { 0 };
	bool resolved;
	uint8_t nh[16];
	uint16_t msg_len = rte_pktmbuf_data_len(it->m);
	uint8_t *frame;
	size_t hl;
	ssize_t ret;

	wg_peer_get_endpoint(it->peer, &ep.dst);
	hl = wg_l3_encap_len(ep.dst.family);
	if (!hl) {
		WG_DROP(w, NO_ENDPOINT);
		return false;
	}
	ep.src.family = ep.dst.family;
	ep.src.port = dev->out.local.port;
	if (ep.dst.family == AF_INET)
		memcpy(ep.src.addr, dev->out.local.ipv4, 4);
	else
		memcpy(ep.src.addr, dev->out.local.ipv6[0], 16);
	memcpy(ep.src_mac, dev->out.local.mac, 6);
	ep.ip_id = w->ip_id++;
	frame = (uint8_t *)rte_pktmbuf_prepend(it->m, (uint16_t)hl);
	if (!frame || !wg_device_nexthop(&dev->out, ep.dst.family, ep.dst.addr, nh)) {
		WG_DROP(w, NO_ENDPOINT);
		return false;
	}
	/* a STALE entry is used (and noted for the control thread to re-confirm) */
	resolved = wg_neigh_snap_use(snap, ep.dst.family, nh, ep.dst_mac);
	ret = wg_l3_encap(frame, rte_pktmbuf_data_len(it->m), msg_len, &ep);
	if (ret < 0) {
		WG_DROP(w, MALFORMED);
		return false;
	}
	if (!resolved) {
		/* the control thread resolves it and sends it */
		wg_worker_to_control(w, it->m, WG_MBUF_RESOLVE);
		it->m = NULL;
	}
	return true;
}

static void encrypt_burst(struct wg_worker *w, struct tx_item *items, struct wg_aead_job *jobs, unsigned n,
			  uint64_t now)
{
	struct wgdp *dev = w->dev;
	const struct wg_neigh_snapshot *snap = __atomic_load_n(&dev->out.snap, __ATOMIC_ACQUIRE);
	struct rte_mbuf *out[WG_BURST];
	uint16_t n_out = 0;

	wg_spread_run(w, WG_BATCH_ENCRYPT, jobs, n);
	for (unsigned i = 0; i < n; i++) {
		struct tx_item *it = &items[i];
		uint32_t len = rte_pktmbuf_data_len(it->m);

		if (jobs[i].status || !encapsulate(w, it, snap)) {
			rte_pktmbuf_free(it->m);
			continue;
		}
		it->peer->act.tx_packets++;
		it->peer->act.tx_bytes += len;
		__atomic_store_n(&it->peer->act.last_tx_ns, now, __ATOMIC_RELAXED);
		if (it->inner_len) {
			__atomic_store_n(&it->peer->act.last_tx_data_ns, now, __ATOMIC_RELAXED);
			w->cnt.tx_packets++;
			w->cnt.tx_bytes += it->inner_len; /* as rx: inner packets, without padding */
		} else {
			w->cnt.keepalives_tx++;
		}
		if (it->m)
			out[n_out++] = it->m;
	}
	wg_worker_send(w, true, out, n_out);
}

/* proxy ARP / ND on the inside: we are the router for every tunnel address */
static bool inside_neighbour(struct wg_worker *w, struct rte_mbuf *m, uint8_t *frame, uint16_t len)
{
	struct wgdp *dev = w->dev;
	struct wg_l3_local local = { 0 };
	struct wg_l3_result res;
	const struct wg_eth_hdr *eth = (const void *)frame;
	ssize_t r;

	memcpy(local.mac, dev->inside_src_mac.addr_bytes, 6);
	if (len >= WG_L3_ARP_LEN && eth->type == rte_cpu_to_be_16(WG_ETHERTYPE_ARP)) {
		const struct wg_arp_hdr *arp = (const void *)(frame + sizeof(*eth));

		local.has_ipv4 = true;
		memcpy(local.ipv4, arp->tpa, 4);
		if (memcmp(arp->tpa, arp->spa, 4) == 0) /* gratuitous: the kernel's own */
			return false;
		if (wg_l3_classify(&local, frame, len, &res) != WG_L3_ARP_REQUEST)
			return false;
		r = wg_l3_arp_reply(frame, rte_pktmbuf_data_len(m), frame, len, &res, &local);
	} else if (len >= WG_L3_ND_LEN && eth->type == rte_cpu_to_be_16(WG_ETHERTYPE_IPV6) &&
		   frame[14 + 6] == WG_IPPROTO_ICMPV6 && frame[14 + 40] == WG_ICMP6_ND_SOLICIT) {
		local.n_ipv6 = 1;
		memcpy(local.ipv6[0], frame + 14 + 40 + 8, 16); /* the NS target */
		if (wg_l3_classify(&local, frame, len, &res) != WG_L3_ND_SOLICIT)
			return false;
		r = wg_l3_nd_advert(frame, rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m), frame, len, &res,
				    &local);
	} else {
		return false;
	}
	if (r <= 0)
		return false;
	rte_pktmbuf_data_len(m) = (uint16_t)r;
	rte_pktmbuf_pkt_len(m) = (uint32_t)r;
	wg_worker_send(w, false, &m, 1);
	return true;
}

/*
 * A DPDK inside port: we are a host on that network. ARP, neighbour
 * discovery and anything addressed to our own inside addresses go to the
 * control thread; frames for another MAC are dropped. true when m was taken.
 */
static bool inside_port_local(struct wg_worker *w, struct rte_mbuf *m, const uint8_t *frame, uint16_t len)
{
	struct wgdp *dev = w->dev;
	const struct wg_eth_hdr *eth = (const void *)frame;
	const struct wg_l3_local *l = &dev->in.local;
	bool to_us = false;

	if (eth->type == rte_cpu_to_be_16(WG_ETHERTYPE_ARP)) {
		to_us = true;
	} else if (eth->type == rte_cpu_to_be_16(WG_ETHERTYPE_IPV4)) {
		to_us = len >= 14 + 20 && l->has_ipv4 && memcmp(frame + 14 + 16, l->ipv4, 4) == 0;
	} else if (eth->type == rte_cpu_to_be_16(WG_ETHERTYPE_IPV6)) {
		if (len >= 14 + 40 + 1 && frame[14 + 6] == WG_IPPROTO_ICMPV6 &&
		    (frame[14 + 40] == WG_ICMP6_ND_SOLICIT || frame[14 + 40] == WG_ICMP6_ND_ADVERT))
			to_us = true;
		for (unsigned i = 0; !to_us && i < l->n_ipv6 && len >= 14 + 40; i++)
			to_us = memcmp(frame + 14 + 24, l->ipv6[i], 16) == 0;
	} else {
		WG_DROP(w, INSIDE_UNSUPPORTED);
		rte_pktmbuf_free(m);
		return true;
	}
	if (to_us) {
		wg_worker_to_control(w, m, WG_MBUF_IN_RECEIVED);
		return true;
	}
	if (!(eth->dst[0] & 1) && memcmp(eth->dst, l->mac, 6)) {
		WG_DROP(w, INSIDE_UNSUPPORTED); /* unicast to someone else */
		rte_pktmbuf_free(m);
		return true;
	}
	return false;
}

void wg_tx_inside(struct wg_worker *w, struct rte_mbuf **pkts, unsigned n, uint64_t now)
{
	struct wgdp *dev = w->dev;
	struct tx_item items[WG_BURST];
	struct wg_aead_job jobs[WG_BURST];
	struct wg_l3_inner inners[WG_BURST];
	struct rte_mbuf *ms[WG_BURST];
	struct wg_allowedips_owner *owners[WG_BURST], *o4[WG_BURST], *o6[WG_BURST];
	const uint8_t *a4[WG_BURST], *a6[WG_BURST];
	uint8_t i4[WG_BURST], i6[WG_BURST];
	unsigned k = 0, np = 0, n4 = 0, n6 = 0;

	/* pass 1: local duties, and the inner packets to route */
	for (unsigned i = 0; i < WG_PREFETCH && i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
		uint16_t len = rte_pktmbuf_data_len(m);
		const struct wg_eth_hdr *eth = (const void *)frame;
		struct wg_l3_inner *inner = &inners[np];

		if (i + WG_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + WG_PREFETCH], void *));
		if (m->nb_segs > 1 || len < sizeof(*eth)) {
			WG_DROP(w, INSIDE_UNSUPPORTED);
			rte_pktmbuf_free(m);
			continue;
		}
		if (!dev->inside_is_tap) {
			if (inside_port_local(w, m, frame, len))
				continue;
		} else if (eth->type != rte_cpu_to_be_16(WG_ETHERTYPE_IPV4) &&
			   eth->type != rte_cpu_to_be_16(WG_ETHERTYPE_IPV6)) {
			if (!inside_neighbour(w, m, frame, len)) {
				WG_DROP(w, INSIDE_UNSUPPORTED);
				rte_pktmbuf_free(m);
			}
			continue;
		} else if (eth->type == rte_cpu_to_be_16(WG_ETHERTYPE_IPV6) && inside_neighbour(w, m, frame, len)) {
			continue;
		}
		if (wg_l3_inner_parse(frame + sizeof(*eth), len - sizeof(*eth), inner)) {
			WG_DROP(w, INSIDE_UNSUPPORTED);
			rte_pktmbuf_free(m);
			continue;
		}
		ms[np] = m;
		if (inner->family == AF_INET) {
			a4[n4] = inner->dst;
			i4[n4++] = (uint8_t)np;
		} else {
			a6[n6] = inner->dst;
			i6[n6++] = (uint8_t)np;
		}
		np++;
	}
	/* the allowed-IP walks of the burst, interleaved */
	if (n4)
		wg_allowedips_lookup_bulk(dev->aip, AF_INET, a4, o4, n4);
	if (n6)
		wg_allowedips_lookup_bulk(dev->aip, AF_INET6, a6, o6, n6);
	for (unsigned i = 0; i < n4; i++)
		owners[i4[i]] = o4[i];
	for (unsigned i = 0; i < n6; i++)
		owners[i6[i]] = o6[i];

	/* pass 2: in arrival order, route, then seal what is ours */
	for (unsigned i = 0; i < np; i++) {
		struct rte_mbuf *m = ms[i];
		const struct wg_l3_inner *inner = &inners[i];
		struct wg_allowedips_owner *owner = owners[i];
		struct wg_peer *p;
		uint16_t dst;
		int ret;

		if (!owner) {
			WG_DROP(w, NO_ROUTE);
			rte_pktmbuf_free(m);
			continue;
		}
		p = container_of(owner, struct wg_peer, aip);
		switch (wg_route(w, p->bucket, &dst)) {
		case WG_ROUTE_FORWARD:
			wg_handoff_push(w, dst, (uintptr_t)m | WG_HO_INSIDE);
			continue;
		case WG_ROUTE_HOLD:
			wg_handoff_hold(w, p->bucket, (uintptr_t)m | WG_HO_INSIDE);
			continue;
		case WG_ROUTE_LOCAL:
			break;
		}
		if (unlikely(__atomic_load_n(&p->disabled, __ATOMIC_RELAXED))) {
			WG_DROP(w, PEER_DISABLED);
			rte_pktmbuf_free(m);
			continue;
		}
		if (inner->len > p->mtu) {
			WG_DROP(w, TOO_BIG);
			rte_pktmbuf_free(m);
			continue;
		}
		/* the inner packet alone: no Ethernet header, no trailing bytes */
		rte_pktmbuf_adj(m, sizeof(struct wg_eth_hdr));
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - inner->len));
		ret = p->staged ? -ENOKEY : prepare(w, p, m, inner->len, now, &items[k], &jobs[k]);
		if (ret == -ENOKEY) {
			stage(w, p, m); /* behind what already waits: order is kept */
		} else if (ret) {
			WG_DROP(w, TOO_BIG);
			rte_pktmbuf_free(m);
		} else {
			k++;
		}
	}
	if (k)
		encrypt_burst(w, items, jobs, k, now);
}

/* ---------------------------------------------------------------------------
 * requests from the control thread
 */

void wg_tx_flush_staged(struct wg_worker *w, struct wg_peer *p, uint64_t now, bool keepalive_if_empty)
{
	struct tx_item items[WG_BURST];
	struct wg_aead_job jobs[WG_BURST];
	unsigned k = 0;

	if (!p->staged && keepalive_if_empty) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);

		if (!m) {
			WG_DROP(w, NO_MBUF);
			return;
		}
		if (prepare(w, p, m, 0, now, &items[0], &jobs[0])) {
			/* no session: as in the kernel, a keepalive starts a handshake */
			rte_pktmbuf_free(m);
			wg_worker_want_handshake(w, p, WG_EV_NEED_HANDSHAKE);
			return;
		}
		encrypt_burst(w, items, jobs, 1, now);
		return;
	}
	for (struct rte_mbuf *m; (m = wg_staging_peek(p->staged)) != NULL;) {
		int ret = prepare(w, p, m, rte_pktmbuf_data_len(m), now, &items[k], &jobs[k]);

		if (ret == -ENOKEY)
			break; /* still no session: keep them staged */
		wg_staging_pop(&p->staged); /* the last one gives the queue back */
		if (ret) {
			WG_DROP(w, TOO_BIG);
			rte_pktmbuf_free(m);
			continue;
		}
		if (++k == WG_BURST) {
			encrypt_burst(w, items, jobs, k, now);
			k = 0;
		}
	}
	if (k)
		encrypt_burst(w, items, jobs, k, now);
}

void wg_tx_purge_staged(struct wg_worker *w, struct wg_peer *p)
{
	w->cnt.drops[WG_DROP_NO_SESSION] += wg_staging_purge(&p->staged);
}
