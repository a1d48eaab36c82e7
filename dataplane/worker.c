/* SPDX-License-Identifier: MIT */
/*
 * The worker loop: outside -> inside (classify, index lookup, batch decrypt,
 * replay, allowed IPs, forward) and inside -> outside (allowed-IP lookup,
 * keypair, batch encrypt, encapsulate, forward), in bursts, with no locks,
 * syscalls, allocation or logging per packet. Every drop is a counter.
 *
 * Concurrency: keypair and neighbour pointers are read with acquire loads and
 * stay valid until this lcore reports a quiescent state, which it does once
 * per loop after it has dropped every pointer it loaded in that round.
 */
#include "dataplane/worker.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "control/timers.h"
#include "dataplane/l3.h"
#include "dataplane/messages.h"

#define BURST 32u
#define IDLE_POLLS_BEFORE_SLEEP 512u
#define IDLE_SLEEP_NS 20000l

#define DROP(w, reason) ((w)->cnt.drops[WG_DROP_##reason]++)

struct rx_item {
	struct rte_mbuf *m;
	struct wg_session *s;
	uint8_t *msg;            /* the WireGuard message inside the frame */
	uint32_t msg_len;
	uint64_t counter;
	struct wg_endpoint src;
};

struct tx_item {
	struct rte_mbuf *m;
	struct wg_peer *peer;
	struct wg_keypair *kp;
	uint32_t inner_len;      /* the inner packet, before padding; 0 for a keepalive */
};

static void post_event(struct wg_worker *w, void *tagged)
{
	if (rte_ring_enqueue(w->dev->events, tagged))
		DROP(w, RING_FULL);
}

/* ask the control thread for a handshake once until it has acted on it */
static void want_handshake(struct wg_worker *w, struct wg_peer *p, unsigned code)
{
	if (!__atomic_exchange_n(&p->handshake_wanted, 1, __ATOMIC_RELAXED))
		post_event(w, wg_tag(p, code));
}

static void to_control(struct wg_worker *w, struct rte_mbuf *m, uint32_t mark)
{
	m->hash.usr = mark;
	if (rte_ring_enqueue(w->dev->to_control, m)) {
		DROP(w, RING_FULL);
		rte_pktmbuf_free(m);
	}
}

static void send_burst(struct wg_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent = n ? rte_eth_tx_burst(port, w->queue, pkts, n) : 0;

	for (uint16_t i = sent; i < n; i++) {
		DROP(w, TX_FULL);
		rte_pktmbuf_free(pkts[i]);
	}
}

/* ---------------------------------------------------------------------------
 * outside -> inside
 */

/* after authentication: replay, roaming, confirmation, allowed IPs, forward */
static bool deliver(struct wg_worker *w, struct rx_item *it, uint64_t now, struct rte_mbuf **out,
		    uint16_t *n_out)
{
	struct wgdp *dev = w->dev;
	struct wg_keypair *kp = &it->s->kp;
	struct wg_peer *p = it->s->peer;
	uint32_t plain_len = it->msg_len - WG_DATA_MIN_LEN;
	uint8_t *plain = it->msg + WG_DATA_HEADER_LEN;
	struct wg_endpoint ep;
	struct wg_l3_inner inner;
	struct rte_mbuf *m = it->m;
	struct wg_eth_hdr *eth;

	if (!wg_replay_check(&kp->replay, it->counter)) {
		DROP(w, REPLAY);
		return false;
	}
	/* roaming: the latest authenticated source is the endpoint */
	wg_peer_get_endpoint(p, &ep);
	if (!wg_endpoint_equal(&ep, &it->src))
		wg_peer_set_endpoint(p, &it->src);
	if (!it->s->confirm_posted && wg_keypairs_next(&p->keypairs) == kp) {
		it->s->confirm_posted = true;
		post_event(w, wg_tag((struct wg_peer *)it->s, WG_EV_CONFIRMED));
	}

	p->act.rx_packets++;
	p->act.rx_bytes += it->msg_len;
	__atomic_store_n(&p->act.last_rx_ns, now, __ATOMIC_RELAXED);
	if (!plain_len) {
		w->cnt.keepalives_rx++;
		return false;
	}
	if (wg_l3_inner_parse(plain, plain_len, &inner)) {
		DROP(w, INNER_MALFORMED);
		return false;
	}
	if (wg_allowedips_lookup(dev->aip, inner.family, inner.src) != &p->aip) {
		DROP(w, ALLOWEDIPS_MISMATCH);
		return false;
	}
	__atomic_store_n(&p->act.last_rx_data_ns, now, __ATOMIC_RELAXED);
	if (wg_timers_rekey_on_receive(kp->birth_ns, kp->is_initiator, now))
		want_handshake(w, p, WG_EV_REKEY);

	/* the inner packet, without padding, behind a fresh Ethernet header */
	rte_pktmbuf_adj(m, (uint16_t)(plain - rte_pktmbuf_mtod(m, uint8_t *)));
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - inner.len));
	eth = (struct wg_eth_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (!eth) {
		DROP(w, MALFORMED);
		return false;
	}
	eth->type = rte_cpu_to_be_16(inner.family == AF_INET ? WG_ETHERTYPE_IPV4 : WG_ETHERTYPE_IPV6);
	w->cnt.rx_packets++;
	w->cnt.rx_bytes += inner.len;
	if (dev->inside_is_tap) {
		memcpy(eth->dst, dev->inside_dst_mac.addr_bytes, 6);
		memcpy(eth->src, dev->inside_src_mac.addr_bytes, 6);
	} else {
		/* a DPDK inside port: the next hop's MAC, resolved by the control thread */
		const struct wg_neigh_snapshot *snap = __atomic_load_n(&dev->in.snap, __ATOMIC_ACQUIRE);
		const struct wg_neigh_snap_entry *ne = NULL;
		uint8_t nh[16];

		if (!wg_device_nexthop(&dev->in, inner.family, inner.dst, nh)) {
			DROP(w, NO_NEIGHBOUR);
			return false;
		}
		if (snap)
			ne = wg_neigh_snap_lookup(snap->e, snap->n, inner.family, nh);
		memcpy(eth->src, dev->in.port.mac.addr_bytes, 6);
		memset(eth->dst, 0, 6);
		if (!ne || (ne->flags & WG_NEIGH_SNAP_STALE)) {
			to_control(w, m, WG_MBUF_IN_RESOLVE);
			return true; /* consumed */
		}
		memcpy(eth->dst, ne->mac, 6);
	}
	out[(*n_out)++] = m;
	return true;
}

static void decrypt_burst(struct wg_worker *w, struct rx_item *items, unsigned n, uint64_t now)
{
	struct wgdp *dev = w->dev;
	struct wg_aead_job jobs[BURST];
	uint32_t indices[BURST];
	void *objs[BURST];
	struct rte_mbuf *out[BURST];
	uint16_t n_out = 0;
	unsigned i, k = 0;

	for (i = 0; i < n; i++)
		indices[i] = wg_le32_read(items[i].msg + 4);
	wg_index_lookup_bulk(dev->index, indices, n, WG_INDEX_KEYPAIR, objs);

	/* compact to the messages worth decrypting */
	for (i = 0; i < n; i++) {
		struct rx_item *it = &items[i];

		it->s = objs[i];
		if (!it->s) {
			DROP(w, UNKNOWN_INDEX);
			rte_pktmbuf_free(it->m);
			continue;
		}
		it->counter = wg_le64_read(it->msg + 8);
		if (!wg_keypair_can_receive(&it->s->kp, now)) {
			DROP(w, KEYPAIR_EXPIRED);
			rte_pktmbuf_free(it->m);
			continue;
		}
		if (it->counter >= WG_REJECT_AFTER_MESSAGES) {
			DROP(w, REPLAY);
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
	wg_batch_aead_run(w->aead, WG_BATCH_DECRYPT, jobs, k);
	/* in arrival order, so each peer's packets keep their order */
	for (i = 0; i < k; i++) {
		if (jobs[i].status) {
			DROP(w, BAD_TAG);
			rte_pktmbuf_free(items[i].m);
		} else if (!deliver(w, &items[i], now, out, &n_out)) {
			rte_pktmbuf_free(items[i].m);
		}
	}
	send_burst(w, dev->in.port.port_id, out, n_out);
}

static void outside_burst(struct wg_worker *w, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct wgdp *dev = w->dev;
	struct rx_item items[BURST];
	struct wg_l3_result res;
	unsigned k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

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
				to_control(w, m, WG_MBUF_RECEIVED);
				break;
			default:
				DROP(w, MALFORMED);
				rte_pktmbuf_free(m);
			}
			break;
		}
		case WG_L3_ARP_REQUEST:
		case WG_L3_ND_SOLICIT:
		case WG_L3_NEIGH_LEARN:
		case WG_L3_ECHO_REQUEST:
			/* rare, and they touch the neighbour table: the control thread's */
			to_control(w, m, WG_MBUF_RECEIVED);
			break;
		default:
			w->cnt.l3_drops[res.drop < WG_L3_DROP_MAX ? res.drop : WG_L3_DROP_TRUNCATED]++;
			rte_pktmbuf_free(m);
		}
	}
	if (k)
		decrypt_burst(w, items, k, now);
}

/* ---------------------------------------------------------------------------
 * inside -> outside
 */

/* hold a packet while a handshake is under way; the oldest goes when full */
static void stage(struct wg_worker *w, struct wg_peer *p, struct rte_mbuf *m)
{
	struct rte_mbuf *drop;

	switch (wg_staging_push(&p->staged, w->staging, m, &drop)) {
	case -ENOBUFS:
		DROP(w, NO_SESSION);
		rte_pktmbuf_free(drop);
		break;
	case -ENOMEM: /* every queue of the pool is in use: not staged, still handshake */
		DROP(w, NO_STAGING_QUEUE);
		rte_pktmbuf_free(drop);
		break;
	}
	want_handshake(w, p, WG_EV_NEED_HANDSHAKE);
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
		want_handshake(w, p, WG_EV_REKEY);
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
	const struct wg_neigh_snap_entry *ne;
	uint8_t nh[16];
	uint16_t msg_len = rte_pktmbuf_data_len(it->m);
	uint8_t *frame;
	size_t hl;
	ssize_t ret;

	wg_peer_get_endpoint(it->peer, &ep.dst);
	hl = wg_l3_encap_len(ep.dst.family);
	if (!hl) {
		DROP(w, NO_ENDPOINT);
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
		DROP(w, NO_ENDPOINT);
		return false;
	}
	ne = snap ? wg_neigh_snap_lookup(snap->e, snap->n, ep.dst.family, nh) : NULL;
	if (ne)
		memcpy(ep.dst_mac, ne->mac, 6);
	ret = wg_l3_encap(frame, rte_pktmbuf_data_len(it->m), msg_len, &ep);
	if (ret < 0) {
		DROP(w, MALFORMED);
		return false;
	}
	if (!ne || (ne->flags & WG_NEIGH_SNAP_STALE)) {
		/* the control thread resolves (or re-confirms) and sends it */
		to_control(w, it->m, WG_MBUF_RESOLVE);
		it->m = NULL;
	}
	return true;
}

static void encrypt_burst(struct wg_worker *w, struct tx_item *items, struct wg_aead_job *jobs, unsigned n,
			  uint64_t now)
{
	struct wgdp *dev = w->dev;
	const struct wg_neigh_snapshot *snap = __atomic_load_n(&dev->out.snap, __ATOMIC_ACQUIRE);
	struct rte_mbuf *out[BURST];
	uint16_t n_out = 0;

	wg_batch_aead_run(w->aead, WG_BATCH_ENCRYPT, jobs, n);
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
	send_burst(w, dev->out.port.port_id, out, n_out);
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
	send_burst(w, dev->in.port.port_id, &m, 1);
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
		DROP(w, INSIDE_UNSUPPORTED);
		rte_pktmbuf_free(m);
		return true;
	}
	if (to_us) {
		to_control(w, m, WG_MBUF_IN_RECEIVED);
		return true;
	}
	if (!(eth->dst[0] & 1) && memcmp(eth->dst, l->mac, 6)) {
		DROP(w, INSIDE_UNSUPPORTED); /* unicast to someone else */
		rte_pktmbuf_free(m);
		return true;
	}
	return false;
}

static void inside_burst(struct wg_worker *w, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct wgdp *dev = w->dev;
	struct tx_item items[BURST];
	struct wg_aead_job jobs[BURST];
	unsigned k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
		uint16_t len = rte_pktmbuf_data_len(m);
		const struct wg_eth_hdr *eth = (const void *)frame;
		struct wg_allowedips_owner *owner;
		struct wg_l3_inner inner;
		struct wg_peer *p;
		int ret;

		if (m->nb_segs > 1 || len < sizeof(*eth)) {
			DROP(w, INSIDE_UNSUPPORTED);
			rte_pktmbuf_free(m);
			continue;
		}
		if (!dev->inside_is_tap) {
			if (inside_port_local(w, m, frame, len))
				continue;
		} else if (eth->type != rte_cpu_to_be_16(WG_ETHERTYPE_IPV4) &&
			   eth->type != rte_cpu_to_be_16(WG_ETHERTYPE_IPV6)) {
			if (!inside_neighbour(w, m, frame, len)) {
				DROP(w, INSIDE_UNSUPPORTED);
				rte_pktmbuf_free(m);
			}
			continue;
		} else if (eth->type == rte_cpu_to_be_16(WG_ETHERTYPE_IPV6) && inside_neighbour(w, m, frame, len)) {
			continue;
		}
		if (wg_l3_inner_parse(frame + sizeof(*eth), len - sizeof(*eth), &inner)) {
			DROP(w, INSIDE_UNSUPPORTED);
			rte_pktmbuf_free(m);
			continue;
		}
		owner = wg_allowedips_lookup(dev->aip, inner.family, inner.dst);
		if (!owner) {
			DROP(w, NO_ROUTE);
			rte_pktmbuf_free(m);
			continue;
		}
		p = container_of(owner, struct wg_peer, aip);
		if (unlikely(__atomic_load_n(&p->disabled, __ATOMIC_RELAXED))) {
			DROP(w, PEER_DISABLED);
			rte_pktmbuf_free(m);
			continue;
		}
		if (inner.len > p->mtu) {
			DROP(w, TOO_BIG);
			rte_pktmbuf_free(m);
			continue;
		}
		/* the inner packet alone: no Ethernet header, no trailing bytes */
		rte_pktmbuf_adj(m, sizeof(*eth));
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - inner.len));
		ret = p->staged ? -ENOKEY : prepare(w, p, m, inner.len, now, &items[k], &jobs[k]);
		if (ret == -ENOKEY) {
			stage(w, p, m); /* behind what already waits: order is kept */
		} else if (ret) {
			DROP(w, TOO_BIG);
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

static void flush_staged(struct wg_worker *w, struct wg_peer *p, uint64_t now, bool keepalive_if_empty)
{
	struct tx_item items[BURST];
	struct wg_aead_job jobs[BURST];
	unsigned k = 0;

	if (!p->staged && keepalive_if_empty) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(w->dev->pool);

		if (!m) {
			DROP(w, NO_MBUF);
			return;
		}
		if (prepare(w, p, m, 0, now, &items[0], &jobs[0])) {
			/* no session: as in the kernel, a keepalive starts a handshake */
			rte_pktmbuf_free(m);
			want_handshake(w, p, WG_EV_NEED_HANDSHAKE);
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
			DROP(w, TOO_BIG);
			rte_pktmbuf_free(m);
			continue;
		}
		if (++k == BURST) {
			encrypt_burst(w, items, jobs, k, now);
			k = 0;
		}
	}
	if (k)
		encrypt_burst(w, items, jobs, k, now);
}

static void purge_staged(struct wg_worker *w, struct wg_peer *p)
{
	w->cnt.drops[WG_DROP_NO_SESSION] += wg_staging_purge(&p->staged);
}

/* drain every request: none may outlive this round (see the file comment) */
static unsigned requests(struct wg_worker *w, uint64_t now)
{
	void *reqs[BURST];
	unsigned n, total = 0, code;

	while ((n = rte_ring_dequeue_burst(w->requests, reqs, BURST, NULL)) > 0) {
		total += n;
		for (unsigned i = 0; i < n; i++) {
			struct wg_peer *p = wg_untag(reqs[i], &code);

			switch (code) {
			case WG_REQ_FLUSH_STAGED:
				flush_staged(w, p, now, false);
				break;
			case WG_REQ_KEEPALIVE:
				flush_staged(w, p, now, true);
				break;
			case WG_REQ_PURGE_STAGED:
				purge_staged(w, p);
				break;
			}
		}
	}
	return total;
}

int wg_worker_main(void *arg)
{
	struct wg_worker *w = arg;
	struct wgdp *dev = w->dev;
	struct rte_mbuf *pkts[BURST];
	unsigned idle = 0;
	const struct timespec nap = { 0, IDLE_SLEEP_NS };

	rte_rcu_qsbr_thread_register(dev->qsbr, w->lcore_id);
	rte_rcu_qsbr_thread_online(dev->qsbr, w->lcore_id);
	while (!__atomic_load_n(&dev->stop, __ATOMIC_RELAXED)) {
		uint64_t now = wg_now_ns();
		uint16_t n_out, n_in;
		unsigned n_req;

		n_out = rte_eth_rx_burst(dev->out.port.port_id, w->queue, pkts, BURST);
		if (n_out)
			outside_burst(w, pkts, n_out, now);
		n_in = rte_eth_rx_burst(dev->in.port.port_id, w->queue, pkts, BURST);
		if (n_in)
			inside_burst(w, pkts, n_in, now);
		n_req = requests(w, now);
		if (w->id == 0) {
			/* the control thread's frames, when a port has no queue for it */
			if (dev->out.ctl_tx) {
				unsigned c = rte_ring_dequeue_burst(dev->out.ctl_tx, (void **)pkts, BURST, NULL);

				send_burst(w, dev->out.port.port_id, pkts, (uint16_t)c);
				n_req += c;
			}
			if (dev->in.ctl_tx) {
				unsigned c = rte_ring_dequeue_burst(dev->in.ctl_tx, (void **)pkts, BURST, NULL);

				send_burst(w, dev->in.port.port_id, pkts, (uint16_t)c);
				n_req += c;
			}
		}
		rte_rcu_qsbr_quiescent(dev->qsbr, w->lcore_id);

		/* not autoscaling yet, but no need to spin a core at 100% when idle */
		if (n_out || n_in || n_req) {
			idle = 0;
		} else if (++idle > IDLE_POLLS_BEFORE_SLEEP) {
			rte_rcu_qsbr_thread_offline(dev->qsbr, w->lcore_id);
			nanosleep(&nap, NULL);
			rte_rcu_qsbr_thread_online(dev->qsbr, w->lcore_id);
		}
	}
	rte_rcu_qsbr_thread_offline(dev->qsbr, w->lcore_id);
	rte_rcu_qsbr_thread_unregister(dev->qsbr, w->lcore_id);
	return 0;
}
