/* SPDX-License-Identifier: MIT */
/*
 * The control thread (see control.h and docs/dataplane.md).
 *
 * It owns: the handshake state, cookie maker and timers of every peer; the
 * cookie checker and rate limiter; the neighbour table; every write to the
 * peer, index and allowed-IP tables. Workers reach it through two rings (raw
 * frames, and tagged peer events) and it reaches them through one request
 * ring each. It transmits on its own queue of the outside port.
 *
 * Order inside one round matters for memory safety: events are drained
 * completely before deferred objects are reclaimed, so an event that names a
 * peer or session always finds it still allocated (see worker.c).
 */
#include "control/control.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "conf/key.h"
#include "control/keypairs.h"
#include "control/peers.h"
#include "control/scale.h"
#include "control/stats.h"
#include "control/tai64n.h"
#include "control/timers.h"
#include "crypto/secure.h"
#include "dataplane/l3.h"

#define BURST 32u
#define TICK_NS (10ull * WG_NSEC_PER_MSEC)
#define TICK_PEERS_MIN 1024u /* peers a tick visits at least */
#define TICK_ROUNDS 10u      /* with more, each is visited every TICK_ROUNDS ticks */
#define LINK_SETTLE_NS (200ull * WG_NSEC_PER_MSEC) /* after a link comes up, before we solicit */
#define IDLE_SLEEP_NS 50000ull      /* first nap when idle, doubling ... */
#define IDLE_SLEEP_MAX_NS 10000000ull /* ... up to this: after a long idle, a handshake or API call waits <= 10 ms */
#define NEIGH_TICK_NS (100ull * WG_NSEC_PER_MSEC) /* neighbour timers: a scan of the table */
#define NEIGH_CAPACITY_MIN 4096u
#define NEIGH_CAPACITY_SLACK 64u /* beyond MaxPeers: gateways and other hosts on the link */

#define CDROP(dev, reason) ((dev)->control_cnt.drops[WG_DROP_##reason]++)

/* ---------------------------------------------------------------------------
 * transmit on the control queue, through the neighbour table
 */

static void ctl_xmit(struct wg_side *side, struct rte_mbuf *m)
{
	struct wgdp *dev = side->dev;

	if (side->ctl_tx) {
		if (rte_ring_enqueue(side->ctl_tx, m)) {
			CDROP(dev, RING_FULL);
			rte_pktmbuf_free(m);
		}
		return;
	}
	if (rte_eth_tx_burst(side->port.port_id, side->control_queue, &m, 1) != 1) {
		CDROP(dev, TX_FULL);
		rte_pktmbuf_free(m);
	}
}

static void neigh_send(void *ctx, void *pkt, const uint8_t mac[6])
{
	struct rte_mbuf *m = pkt;

	memcpy(rte_pktmbuf_mtod(m, uint8_t *), mac, 6);
	ctl_xmit(ctx, m);
}

static void neigh_free(void *ctx, void *pkt, enum wg_neigh_free_reason why)
{
	struct wgdp *dev = ((struct wg_side *)ctx)->dev;

	if (why == WG_NEIGH_FREE_OVERFLOW)
		CDROP(dev, NEIGH_QUEUE_FULL);
	else
		CDROP(dev, NO_NEIGHBOUR);
	rte_pktmbuf_free(pkt);
}

static void neigh_solicit(void *ctx, int family, const uint8_t *ip, const uint8_t *mac)
{
	struct wg_side *side = ctx;
	struct wgdp *dev = side->dev;
	struct rte_mbuf *m = rte_pktmbuf_alloc(dev->pool);
	uint8_t *buf;
	ssize_t len;

	if (!m) {
		CDROP(dev, NO_MBUF);
		return;
	}
	buf = rte_pktmbuf_mtod(m, uint8_t *);
	if (family == AF_INET)
		len = wg_l3_arp_request(buf, rte_pktmbuf_tailroom(m), &side->local, ip, mac);
	else
		len = wg_l3_nd_solicit(buf, rte_pktmbuf_tailroom(m), &side->local, ip, mac);
	if (len <= 0) {
		rte_pktmbuf_free(m);
		return;
	}
	rte_pktmbuf_append(m, (uint16_t)len);
	ctl_xmit(side, m);
}

/* send a frame whose IP destination is set and Ethernet destination is not */
static void route(struct wg_side *side, struct rte_mbuf *m, uint64_t now)
{
	struct wgdp *dev = side->dev;
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	int family = frame[12] == 0x08 && frame[13] == 0x00 ? AF_INET : AF_INET6;
	const uint8_t *dst = frame + 14 + (family == AF_INET ? 16 : 24);
	uint8_t nh[16], mac[6];

	if (!wg_device_nexthop(side, family, dst, nh)) {
		CDROP(dev, NO_NEIGHBOUR);
		rte_pktmbuf_free(m);
		return;
	}
	switch (wg_neigh_resolve(side->neigh, family, nh, now, mac, m)) {
	case WG_NEIGH_HIT:
		neigh_send(side, m, mac);
		break;
	case WG_NEIGH_HIT_SOLICIT:
		neigh_send(side, m, mac);
		neigh_solicit(side, family, nh, mac);
		break;
	case WG_NEIGH_QUEUED:
		break;
	case WG_NEIGH_QUEUED_SOLICIT:
		neigh_solicit(side, family, nh, NULL);
		break;
	default:
		CDROP(dev, NO_NEIGHBOUR);
		rte_pktmbuf_free(m);
	}
}

/* a WireGuard handshake message to an endpoint */
static void send_msg(struct wgdp *dev, const struct wg_endpoint *to, const void *msg, size_t len, uint64_t now)
{
	struct wg_l3_encap_params ep = { 0 };
	size_t hl = wg_l3_encap_len(to->family);
	struct rte_mbuf *m;
	uint8_t *frame;

	if (!hl) {
		CDROP(dev, NO_ENDPOINT);
		return;
	}
	m = rte_pktmbuf_alloc(dev->pool);
	frame = m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hl + len)) : NULL;
	if (!frame) {
		CDROP(dev, NO_MBUF);
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(frame + hl, msg, len);
	memcpy(ep.src_mac, dev->out.local.mac, 6);
	ep.dst = *to;
	ep.src.family = to->family;
	ep.src.port = dev->out.local.port;
	if (to->family == AF_INET)
		memcpy(ep.src.addr, dev->out.local.ipv4, 4);
	else
		memcpy(ep.src.addr, dev->out.local.ipv6[0], 16);
	ep.ip_id = dev->out.ip_id++;
	if (wg_l3_encap(frame, hl + len, len, &ep) < 0) {
		CDROP(dev, NO_ENDPOINT); /* no outside address of that family */
		rte_pktmbuf_free(m);
		return;
	}
	if (wg_msg_classify(msg, len) == WG_MSG_HANDSHAKE_COOKIE)
		dev->control_cnt.cookies_tx++;
	else
		dev->control_cnt.handshakes_tx++;
	route(&dev->out, m, now);
}

static void request(struct wgdp *dev, struct wg_peer *p, unsigned code)
{
	if (wg_scale_request(dev, p, code))
		CDROP(dev, RING_FULL);
}

/* ---------------------------------------------------------------------------
 * handshakes
 */

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* a fresh index for p's handshake, dropping the previous one */
static int index_handshake(struct wgdp *dev, struct wg_peer *p, uint32_t *idx)
{
	if (p->hs_indexed)
		wg_index_del(dev->index, p->hs_index);
	p->hs_indexed = false;
	if (wg_index_add(dev->index, p, WG_INDEX_HANDSHAKE, idx))
		return -ENOSPC;
	p->hs_index = *idx;
	p->hs_indexed = true;
	return 0;
}

static void send_initiation(struct wgdp *dev, struct wg_peer *p, uint64_t now)
{
	struct wg_msg_initiation msg;
	struct wg_endpoint ep;
	uint8_t ts[WG_TIMESTAMP_LEN];
	uint32_t idx;

	wg_peer_get_endpoint(p, &ep);
	if (!ep.family || !dev->identity.has_identity)
		return; /* nowhere to send: wait for the peer to reach us */
	if (wg_peers_ephemeral_get(dev, p)) {
		CDROP(dev, HANDSHAKE_NO_MEMORY);
		return;
	}
	if (index_handshake(dev, p, &idx)) {
		CDROP(dev, RING_FULL);
		wg_peers_ephemeral_put(dev, p);
		return;
	}
	wg_tai64n_encode(ts, realtime_ns());
	if (wg_noise_create_initiation(&dev->identity, wg_peers_handshake(dev, p), &msg, idx, ts)) {
		wg_peers_ephemeral_put(dev, p); /* unless an earlier initiation is still pending */
		return; /* low-order key: never send anything */
	}
	wg_cookie_add_macs(&p->cookie, wg_peer_public_key(p), (uint8_t *)&msg, sizeof(msg), now);
	wg_timers_any_authenticated_packet_traversal(&p->timers, now);
	wg_timers_any_authenticated_packet_sent(&p->timers, now);
	wg_timers_handshake_initiated(&p->timers, now, wg_secure_random_u32());
	p->handshake_tx_bytes += sizeof(msg);
	send_msg(dev, &ep, &msg, sizeof(msg), now);
	wg_secure_wipe(&msg, sizeof(msg));
}

/*
 * A handshake completed: install its keypair, retire what it replaces. The
 * handshake's ephemeral state goes back to its slab on every path.
 */
static struct wg_session *install(struct wgdp *dev, struct wg_peer *p, uint64_t now)
{
	struct wg_keypair *retired[WG_KEYPAIRS_RETIRE_MAX];
	struct wg_session *s = wg_peers_session_alloc(dev);
	unsigned n;

	if (!s) {
		CDROP(dev, NO_SESSION_MEMORY);
		wg_noise_handshake_clear(&p->hs);
		wg_peers_ephemeral_put(dev, p);
		return NULL;
	}
	s->peer = p;
	if (wg_noise_derive_keypair(&p->hs, &s->kp, now)) {
		wg_peers_session_free_unused(dev, s);
		wg_peers_ephemeral_put(dev, p); /* only if nothing is pending */
		return NULL;
	}
	wg_peers_ephemeral_put(dev, p);
	/* the handshake's index now names the keypair (atomically for readers) */
	wg_index_replace(dev->index, s->kp.local_index, &s->kp, WG_INDEX_KEYPAIR);
	p->hs_indexed = false;
	n = wg_keypairs_add(&p->keypairs, &s->kp, retired);
	for (unsigned i = 0; i < n; i++)
		wg_peers_retire_keypair(dev, retired[i]);
	wg_timers_session_derived(&p->timers, now);
	p->last_handshake_realtime_ns = realtime_ns();
	return s;
}

/*
 * The lookup of wg_noise_consume_initiation: the peer's handshake, with
 * ephemeral storage attached (kept when a handshake of ours is pending,
 * else fresh: consume_initiation gives it back when the initiation fails).
 */
static struct wg_noise_handshake *lookup_static(void *ctx, const uint8_t pub[WG_KEY_LEN])
{
	struct wgdp *dev = ctx;
	struct wg_peer *p = wg_peers_lookup(dev, pub);

	if (!p)
		return NULL;
	if (p->disabled) {
		CDROP(dev, HANDSHAKE_PEER_DISABLED);
		dev->lookup_refused = true;
		return NULL;
	}
	if (wg_peers_ephemeral_get(dev, p)) {
		CDROP(dev, HANDSHAKE_NO_MEMORY);
		dev->lookup_refused = true;
		return NULL;
	}
	dev->lookup_peer = p;
	return wg_peers_handshake(dev, p);
}

static void consume_initiation(struct wgdp *dev, const struct wg_msg_initiation *msg,
			       const struct wg_endpoint *src, uint64_t now)
{
	struct wg_noise_handshake *hs;
	struct wg_msg_response resp;
	struct wg_peer *p;
	uint32_t idx;
	int ret;

	dev->lookup_refused = false;
	dev->lookup_peer = NULL;
	ret = wg_noise_consume_initiation(&dev->identity, msg, lookup_static, dev, now, &hs);
	if (ret && dev->lookup_peer) /* fresh storage the lookup attached goes back */
		wg_peers_ephemeral_put(dev, dev->lookup_peer);
	dev->lookup_peer = NULL;
	switch (ret) {
	case 0:
		break;
	case -ENOENT:
		if (!dev->lookup_refused) /* else counted as handshake_peer_disabled or _no_memory */
			CDROP(dev, HANDSHAKE_UNKNOWN_PEER);
		return;
	case -EALREADY:
		CDROP(dev, HANDSHAKE_REPLAY);
		return;
	case -EAGAIN:
		CDROP(dev, HANDSHAKE_FLOOD);
		return;
	default:
		CDROP(dev, HANDSHAKE_INVALID);
		return;
	}
	p = container_of(hs, struct wg_peer, hs);
	p->handshake_rx_bytes += sizeof(*msg);
	wg_peer_set_endpoint(p, src);
	wg_timers_any_authenticated_packet_received(&p->timers, now);
	wg_timers_any_authenticated_packet_traversal(&p->timers, now);
	if (index_handshake(dev, p, &idx) ||
	    wg_noise_create_response(&dev->identity, &p->hs, &resp, idx)) {
		wg_noise_handshake_clear(&p->hs);
		wg_peers_ephemeral_put(dev, p);
		return;
	}
	wg_cookie_add_macs(&p->cookie, wg_peer_public_key(p), (uint8_t *)&resp, sizeof(resp), now);
	/* derive first: a data message may follow the response at once */
	if (!install(dev, p, now))
		return;
	wg_timers_any_authenticated_packet_traversal(&p->timers, now);
	wg_timers_any_authenticated_packet_sent(&p->timers, now);
	wg_timers_response_sent(&p->timers, now);
	p->handshake_tx_bytes += sizeof(resp);
	send_msg(dev, src, &resp, sizeof(resp), now);
	wg_secure_wipe(&resp, sizeof(resp));
}

static void consume_response(struct wgdp *dev, const struct wg_msg_response *msg,
			     const struct wg_endpoint *src, uint64_t now)
{
	struct wg_peer *p = wg_index_lookup(dev->index, wg_le32_read(&msg->receiver_index), WG_INDEX_HANDSHAKE);

	if (!p) {
		CDROP(dev, UNKNOWN_INDEX);
		return;
	}
	if (wg_noise_consume_response(&dev->identity, &p->hs, msg)) {
		CDROP(dev, HANDSHAKE_INVALID); /* the pending handshake stays */
		return;
	}
	p->handshake_rx_bytes += sizeof(*msg);
	wg_peer_set_endpoint(p, src);
	if (!install(dev, p, now))
		return;
	wg_timers_handshake_complete(&p->timers, now);
	wg_timers_any_authenticated_packet_received(&p->timers, now);
	wg_timers_any_authenticated_packet_traversal(&p->timers, now);
	__atomic_store_n(&p->handshake_wanted, 0, __ATOMIC_RELAXED);
	/* staged packets go now, or a keepalive confirms the session at once */
	request(dev, p, WG_REQ_KEEPALIVE);
}

static void consume_cookie(struct wgdp *dev, const struct wg_msg_cookie *msg, uint64_t now)
{
	struct wg_peer *p = wg_index_lookup(dev->index, wg_le32_read(&msg->receiver_index), WG_INDEX_HANDSHAKE);

	if (!p || wg_cookie_consume_reply(&p->cookie, wg_peer_public_key(p), msg, now))
		CDROP(dev, COOKIE_INVALID);
}

/*
 * Under load: the control ring holds at least 1/8 of its capacity, and for
 * one second after it last did (the kernel's and wireguard-go's rule), so a
 * flood in bursts cannot slip initiations through between them.
 */
static bool under_load(struct wgdp *dev, uint64_t now)
{
	if (rte_ring_count(dev->to_control) >= dev->conf.appliance.handshake_queue / 8) {
		dev->last_under_load_ns = now;
		return true;
	}
	return dev->last_under_load_ns && now < dev->last_under_load_ns + WG_NSEC_PER_SEC;
}

/* mac1 always; under load mac2 (else a cookie reply) and the rate limiter */
static bool admit(struct wgdp *dev, const uint8_t *msg, size_t len, const struct wg_endpoint *src, uint64_t now)
{
	bool loaded = under_load(dev, now);
	struct wg_msg_cookie reply;

	switch (wg_cookie_validate(&dev->cookie_checker, msg, len, src, loaded, now)) {
	case WG_COOKIE_INVALID_MAC:
		CDROP(dev, HANDSHAKE_MAC1);
		return false;
	case WG_COOKIE_VALID_MAC_BUT_NO_COOKIE:
		if (!loaded)
			return true;
		if (!wg_cookie_create_reply(&dev->cookie_checker, &reply, msg, len, wg_le32_read(msg + 4), src, now))
			send_msg(dev, src, &reply, sizeof(reply), now);
		return false;
	case WG_COOKIE_VALID_MAC_WITH_COOKIE:
		if (wg_ratelimiter_allow(dev->ratelimiter, src, now))
			return true;
		CDROP(dev, HANDSHAKE_RATELIMITED);
		return false;
	}
	return false;
}

static void handshake_frame(struct wgdp *dev, const uint8_t *msg, size_t len, const struct wg_endpoint *src,
			    uint64_t now)
{
	dev->control_cnt.handshakes_rx++;
	switch (wg_msg_classify(msg, len)) {
	case WG_MSG_HANDSHAKE_INITIATION:
		if (admit(dev, msg, len, src, now))
			consume_initiation(dev, (const struct wg_msg_initiation *)msg, src, now);
		break;
	case WG_MSG_HANDSHAKE_RESPONSE:
		if (admit(dev, msg, len, src, now))
			consume_response(dev, (const struct wg_msg_response *)msg, src, now);
		break;
	case WG_MSG_HANDSHAKE_COOKIE:
		consume_cookie(dev, (const struct wg_msg_cookie *)msg, now);
		break;
	default:
		CDROP(dev, MALFORMED);
	}
}

/* ---------------------------------------------------------------------------
 * frames from the workers
 */

static void reply_in_place(struct wg_side *side, struct rte_mbuf *m, ssize_t len)
{
	if (len <= 0) {
		rte_pktmbuf_free(m);
		return;
	}
	rte_pktmbuf_data_len(m) = (uint16_t)len;
	rte_pktmbuf_pkt_len(m) = (uint32_t)len;
	ctl_xmit(side, m);
}

/* a frame a worker handed over: by its mark, from or for which side */
static void frame(struct wgdp *dev, struct rte_mbuf *m, uint64_t now)
{
	uint32_t mark = m->hash.usr;
	struct wg_side *side = mark == WG_MBUF_IN_RECEIVED || mark == WG_MBUF_IN_RESOLVE ? &dev->in : &dev->out;
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	size_t len = rte_pktmbuf_data_len(m), cap = len + rte_pktmbuf_tailroom(m);
	const struct wg_l3_local *local = &side->local;
	struct wg_l3_result res;

	if (mark == WG_MBUF_RESOLVE || mark == WG_MBUF_IN_RESOLVE) {
		route(side, m, now);
		return;
	}
	switch (wg_l3_classify(local, f, len, &res)) {
	case WG_L3_WIREGUARD:
		if (side == &dev->out)
			handshake_frame(dev, f + res.payload_off, res.payload_len, &res.src, now);
		break;
	case WG_L3_ARP_REQUEST:
		wg_neigh_learn(side->neigh, res.learn.family, res.learn.ip, res.learn.mac, res.learn.how, now);
		dev->control_cnt.arp_nd_replies++;
		reply_in_place(side, m, wg_l3_arp_reply(f, cap, f, len, &res, local));
		return;
	case WG_L3_ND_SOLICIT:
		if (res.learn.family)
			wg_neigh_learn(side->neigh, res.learn.family, res.learn.ip, res.learn.mac, res.learn.how,
				       now);
		dev->control_cnt.arp_nd_replies++;
		reply_in_place(side, m, wg_l3_nd_advert(f, cap, f, len, &res, local));
		return;
	case WG_L3_NEIGH_LEARN:
		wg_neigh_learn(side->neigh, res.learn.family, res.learn.ip, res.learn.mac, res.learn.how, now);
		break;
	case WG_L3_ECHO_REQUEST:
		dev->control_cnt.echo_replies++;
		reply_in_place(side, m, wg_l3_echo_reply(f, cap, f, len, &res, local));
		return;
	default:
		dev->control_cnt.l3_drops[res.drop < WG_L3_DROP_MAX ? res.drop : 0]++;
	}
	rte_pktmbuf_free(m);
}

/* ---------------------------------------------------------------------------
 * events from workers, timers
 */

static void event(struct wgdp *dev, void *tagged, uint64_t now)
{
	struct wg_keypair *retired;
	unsigned code;
	struct wg_peer *p = wg_untag(tagged, &code);

	switch (code) {
	case WG_EV_NEED_HANDSHAKE:
	case WG_EV_REKEY: {
		struct wg_keypair *kp = wg_keypairs_current(&p->keypairs);

		__atomic_store_n(&p->handshake_wanted, 0, __ATOMIC_RELAXED);
		if (code == WG_EV_NEED_HANDSHAKE && kp && wg_keypair_can_send(kp, now)) {
			request(dev, p, WG_REQ_FLUSH_STAGED); /* a session came up meanwhile */
			break;
		}
		if (wg_timers_queue_initiation(&p->timers, now))
			send_initiation(dev, p, now);
		break;
	}
	case WG_EV_CONFIRMED: {
		/* tagged with the session: only the pending next keypair confirms */
		struct wg_session *s = (struct wg_session *)p;

		p = s->peer;
		if (wg_keypairs_confirm(&p->keypairs, &s->kp, &retired)) {
			if (retired)
				wg_peers_retire_keypair(dev, retired);
			wg_timers_handshake_complete(&p->timers, now);
			request(dev, p, WG_REQ_FLUSH_STAGED);
		}
		break;
	}
	}
}

/* feed what the owning worker saw since the last round to the peer's timers */
static void feed_activity(struct wg_peer *p)
{
	struct wg_peer_activity a;
	struct wg_timers *t = &p->timers;

	a.last_tx_ns = __atomic_load_n(&p->act.last_tx_ns, __ATOMIC_RELAXED);
	a.last_tx_data_ns = __atomic_load_n(&p->act.last_tx_data_ns, __ATOMIC_RELAXED);
	a.last_rx_ns = __atomic_load_n(&p->act.last_rx_ns, __ATOMIC_RELAXED);
	a.last_rx_data_ns = __atomic_load_n(&p->act.last_rx_data_ns, __ATOMIC_RELAXED);
	if (a.last_tx_ns != p->seen.last_tx_ns) {
		wg_timers_any_authenticated_packet_sent(t, a.last_tx_ns);
		wg_timers_any_authenticated_packet_traversal(t, a.last_tx_ns);
	}
	if (a.last_tx_data_ns != p->seen.last_tx_data_ns)
		wg_timers_data_sent(t, a.last_tx_data_ns, wg_secure_random_u32());
	if (a.last_rx_ns != p->seen.last_rx_ns) {
		wg_timers_any_authenticated_packet_received(t, a.last_rx_ns);
		wg_timers_any_authenticated_packet_traversal(t, a.last_rx_ns);
	}
	if (a.last_rx_data_ns != p->seen.last_rx_data_ns)
		wg_timers_data_received(t, a.last_rx_data_ns);
	p->seen.last_tx_ns = a.last_tx_ns;
	p->seen.last_tx_data_ns = a.last_tx_data_ns;
	p->seen.last_rx_ns = a.last_rx_ns;
	p->seen.last_rx_data_ns = a.last_rx_data_ns;
}

static void tick_peer(struct wgdp *dev, struct wg_peer *p, uint64_t now)
{
	uint32_t act;

	feed_activity(p);
	act = wg_timers_tick(&p->timers, now);
	if (!act)
		return;
	/* attempts exhausted: the last initiation is abandoned, its state freed (before any new one) */
	if (act & WG_TIMERS_GIVE_UP)
		wg_peers_handshake_end(dev, p);
	if (act & WG_TIMERS_SEND_INITIATION)
		send_initiation(dev, p, now);
	if (act & WG_TIMERS_SEND_ANY_KEEPALIVE)
		request(dev, p, WG_REQ_KEEPALIVE);
	if (act & WG_TIMERS_GIVE_UP)
		request(dev, p, WG_REQ_PURGE_STAGED);
	if (act & WG_TIMERS_ZERO_KEYS)
		wg_peers_zero_keys(dev, p);
}

/*
 * One tick visits a slice of the peers, round robin from dev->tick_cursor:
 * all of them up to TICK_PEERS_MIN (every 10 ms, as before), else a tenth,
 * so with many peers each is still visited every TICK_ROUNDS ticks (100 ms)
 * and the scan costs a tenth of the control thread's time it would. Events
 * carry their own timestamps (feed_activity), so a later visit delays a
 * timer's action by at most 100 ms; it never loses or reorders an event.
 */
static void tick_peers(struct wgdp *dev, uint64_t now)
{
	uint32_t n = dev->n_peers, budget = n / TICK_ROUNDS + 1;
	struct wg_peer *p = dev->tick_cursor ? dev->tick_cursor : dev->peers;

	if (budget < TICK_PEERS_MIN)
		budget = TICK_PEERS_MIN;
	if (budget > n)
		budget = n;
	for (uint32_t i = 0; i < budget && p; i++) {
		tick_peer(dev, p, now);
		p = p->list_next ? p->list_next : dev->peers;
	}
	dev->tick_cursor = p;
}

/* publish the resolved next hops when they changed */
static void free_snapshot(struct wgdp *dev, void *obj)
{
	(void)dev;
	rte_free(obj);
}

/*
 * A snapshot as large as the table's resolved entries, built only when the
 * table's version moved and published only when its entries differ; the
 * old one is freed after a grace period (workers may still read it, and
 * write its notes, until they pass a quiescent state). On no memory the
 * old one stays and the next round tries again.
 */
static void publish_neighbours(struct wg_side *side)
{
	struct wg_neigh_snapshot *old = side->snap, *snap;
	uint64_t version;
	size_t n;

	if (!side->neigh)
		return;
	version = wg_neigh_version(side->neigh);
	if (old && version == side->snap_version)
		return;
	n = wg_neigh_resolved_count(side->neigh);
	snap = rte_malloc_socket("wg_neigh_snap", wg_neigh_snapshot_size(n), RTE_CACHE_LINE_SIZE,
				 side->port.socket_id);
	if (!snap)
		return;
	if (wg_neigh_snapshot_fill(side->neigh, snap, n) || wg_neigh_snapshot_equal(snap, old)) {
		rte_free(snap);
		side->snap_version = version;
		return;
	}
	wg_neigh_snapshot_carry_notes(snap, old);
	side->snap_version = version;
	__atomic_store_n(&side->snap, snap, __ATOMIC_RELEASE);
	if (old)
		wg_device_defer(side->dev, free_snapshot, old);
}

/* STALE next hops the workers used: re-confirm them (unicast solicitations) */
static void take_neighbour_notes(struct wg_side *side, uint64_t now)
{
	if (side->neigh)
		wg_neigh_snap_take_notes(side->neigh, side->snap, now);
}

/* resolve the configured gateways now, and keep them (neigh.h) */
static void keep_gateways(struct wg_side *side, uint64_t now)
{
	const struct wg_conf_prefix *gw[2] = { &side->gw4, &side->gw6 };
	uint8_t mac[6];

	if (!side->neigh)
		return;
	for (unsigned i = 0; i < 2; i++) {
		if (!gw[i]->family)
			continue;
		switch (wg_neigh_keep(side->neigh, gw[i]->family, gw[i]->addr, now, mac)) {
		case WG_NEIGH_HIT_SOLICIT:
			neigh_solicit(side, gw[i]->family, gw[i]->addr, mac);
			break;
		case WG_NEIGH_QUEUED_SOLICIT:
			neigh_solicit(side, gw[i]->family, gw[i]->addr, NULL);
			break;
		default:
			break;
		}
	}
}

static void keep_gateways_once_up(struct wg_side *side, uint64_t now)
{
	struct rte_eth_link link;

	if (side->gateways_kept || !side->neigh || !side->port.started)
		return;
	if (rte_eth_link_get_nowait(side->port.port_id, &link) || link.link_status != RTE_ETH_LINK_UP) {
		side->link_up_ns = 0;
		return;
	}
	/* a link that just came up may not take frames yet (memif: the peer's rings) */
	if (!side->link_up_ns)
		side->link_up_ns = now;
	if (now - side->link_up_ns < LINK_SETTLE_NS)
		return;
	keep_gateways(side, now);
	side->gateways_kept = true;
}

/* ---------------------------------------------------------------------------
 * set-up and the loop
 */

/*
 * The neighbour table of a side: room for an on-link host per peer (and a
 * few more), 128 packets per resolving next hop, and at most an eighth of
 * the mempool held by all its queues together.
 */
static int side_setup(struct wgdp *dev, struct wg_side *side)
{
	const struct wg_conf_appliance *a = &dev->conf.appliance;
	struct wg_neigh_callbacks cb = {
		.ctx = side,
		.send = neigh_send,
		.free = neigh_free,
		.solicit = neigh_solicit,
	};
	struct wg_neigh_timers tm = { .reachable = (uint64_t)a->neigh_reachable * WG_NSEC_PER_SEC };
	struct wg_neigh_limits lim = {
		.capacity = (size_t)a->max_peers + NEIGH_CAPACITY_SLACK,
		.queue_len = WG_NEIGH_QUEUE_LEN_DEFAULT,
		.queue_total = a->mempool_size / 8,
	};

	if (lim.capacity < NEIGH_CAPACITY_MIN)
		lim.capacity = NEIGH_CAPACITY_MIN;
	if (lim.capacity > WG_NEIGH_CAPACITY_MAX)
		lim.capacity = WG_NEIGH_CAPACITY_MAX;
	if (lim.queue_total < lim.queue_len)
		lim.queue_total = lim.queue_len;
	return wg_neigh_create(&side->neigh, &lim, &cb, &tm);
}

int wg_control_setup(struct wgdp *dev)
{
	int ret = side_setup(dev, &dev->out);

	if (ret || dev->inside_is_tap)
		return ret;
	return side_setup(dev, &dev->in);
}

void wg_control_teardown(struct wgdp *dev)
{
	for (struct wg_side *side = &dev->out; side; side = side == &dev->out ? &dev->in : NULL) {
		if (side->neigh)
			wg_neigh_destroy(side->neigh);
		side->neigh = NULL;
		rte_free(side->snap);
		side->snap = NULL;
	}
}

void wg_control_print_layout(const struct wgdp *dev, FILE *f)
{
	char key[64] = "(none)";

	fprintf(f, "wgdp: outside port %u %s (%s) socket %d, %u rx / %u tx queues, listen port %u\n",
		dev->out.port.port_id, dev->out.port.name, dev->out.port.driver, dev->out.port.socket_id,
		dev->out.port.n_rxq, dev->out.port.n_txq, dev->listen_port);
	fprintf(f, "wgdp: inside port %u %s (%s) socket %d%s%s\n", dev->in.port.port_id, dev->in.port.name,
		dev->in.port.driver, dev->in.port.socket_id, dev->inside_is_tap ? ", kernel interface " : "",
		dev->inside_is_tap ? dev->conf.appliance.inside_interface : "");
	for (unsigned i = 0; i < dev->n_workers; i++) {
		const struct wg_worker *w = &dev->workers[i];
		char rx[256] = "";
		size_t o = 0;

		for (unsigned q = 0; q < dev->n_rxqs && o < sizeof(rx) - 16; q++)
			if (dev->rxqs[q].want == i)
				o += (size_t)snprintf(rx + o, sizeof(rx) - o, " %s:%u", dev->rxqs[q].outside ? "out" : "in",
						      dev->rxqs[q].queue);
		fprintf(f, "wgdp: worker %u on lcore %u (socket %u): rx%s, tx out:%u%s in:%u%s%s\n", i, w->lcore_id,
			w->socket_id, o ? rx : " (none: handoff only)", w->txq_out, w->txlock_out ? " (shared)" : "",
			w->txq_in, w->txlock_in ? " (shared)" : "",
			w->socket_id != dev->out.port.socket_id && dev->out.port.socket_id >= 0 ? " [outside port on another socket]" : "");
	}
	fprintf(f, "wgdp: control on lcore %u, transmits %s %u; batch AEAD %s; autoscale %s (workers %u..%u)\n",
		rte_lcore_id(), dev->out.ctl_tx ? "through worker" : "on tx queue",
		dev->out.ctl_tx ? 0 : dev->out.control_queue,
		dev->n_workers ? wg_batch_aead_arch(dev->workers[0].aead) : "-", dev->scale->autoscale ? "on" : "off",
		dev->scale->p.min_workers, dev->scale->p.max_workers);
	if (dev->identity.has_identity)
		wg_key_to_base64(key, dev->identity.public_key);
	fprintf(f, "wgdp: public key %s, %u peer(s)\n", key, dev->n_peers);
	fflush(f);
}

/* wgdp: neighbours SIDE entries N <stat> N ... (every stat of neigh.h, in order) */
static void print_neighbours(const struct wg_side *side, const char *name, FILE *f)
{
	struct wg_neigh_stats st;
	const char *const *names;
	size_t n;

	if (!side->neigh)
		return;
	wg_neigh_get_stats(side->neigh, &st);
	const uint64_t v[] = {
#define WG_NEIGH_X_VALUE(field) st.field,
		WG_NEIGH_STATS(WG_NEIGH_X_VALUE)
#undef WG_NEIGH_X_VALUE
	};

	names = wg_neigh_stat_names(&n);
	fprintf(f, "wgdp: neighbours %s entries %" PRIu64, name, st.entries);
	for (size_t i = 0; i < n && i < sizeof(v) / sizeof(v[0]); i++)
		fprintf(f, " %s %" PRIu64, names[i], v[i]);
	fputc('\n', f);
}

void wg_control_print_counters(const struct wgdp *dev, FILE *f)
{
	struct wg_lcore_counters sum;

	wg_stats_sum(dev, &sum);
	fprintf(f, "wgdp: rx %" PRIu64 " packets %" PRIu64 " bytes, tx %" PRIu64 " packets %" PRIu64
		   " bytes, keepalives rx %" PRIu64 " tx %" PRIu64 ", handshakes rx %" PRIu64 " tx %" PRIu64
		   ", cookies tx %" PRIu64 "\n",
		sum.rx_packets, sum.rx_bytes, sum.tx_packets, sum.tx_bytes, sum.keepalives_rx, sum.keepalives_tx,
		sum.handshakes_rx, sum.handshakes_tx, sum.cookies_tx);
	if (dev->n_workers > 1) {
		uint64_t sent = 0, served = 0, back = 0;

		for (unsigned i = 0; i < dev->n_workers; i++) {
			sent += dev->workers[i].spread_sent;
			served += dev->workers[i].spread_served;
			back += dev->workers[i].spread_reclaimed;
		}
		fprintf(f, "wgdp: spread AEAD jobs sent %" PRIu64 " served %" PRIu64 " taken back %" PRIu64 "\n", sent,
			served, back);
	}
	if (dev->scale)
		fprintf(f, "wgdp: scale ups %" PRIu64 " downs %" PRIu64 " buckets moved %" PRIu64 ", active workers %u of %u\n",
			dev->scale->ups, dev->scale->downs, dev->scale->buckets_moved, dev->scale->n_active, dev->n_workers);
	for (unsigned d = 0; d < WG_DROP_MAX; d++)
		if (sum.drops[d])
			fprintf(f, "wgdp: drop %s %" PRIu64 "\n", wg_drop_names[d], sum.drops[d]);
	for (unsigned d = 0; d < WG_L3_DROP_MAX; d++)
		if (sum.l3_drops[d])
			fprintf(f, "wgdp: drop outside %s %" PRIu64 "\n", wg_l3_drop_name(d), sum.l3_drops[d]);
	print_neighbours(&dev->out, "outside", f);
	print_neighbours(&dev->in, "inside", f);
	/* objects held: handshake is the ephemeral state of handshakes still in flight */
	fprintf(f, "wgdp: slabs peer %" PRIu64 " session %" PRIu64 " handshake %" PRIu64 "\n",
		dev->peer_slab.st.objects, dev->session_slab.st.objects, dev->ephemeral_slab.st.objects);
	fflush(f);
}

void wg_control_run(struct wgdp *dev)
{
	uint64_t next_tick = 0, next_neigh_tick = 0, nap_ns = IDLE_SLEEP_NS;

	while (!__atomic_load_n(&dev->stop, __ATOMIC_RELAXED)) {
		uint64_t now = wg_now_ns();
		struct rte_mbuf *m[BURST];
		void *ev[BURST];
		unsigned n, work = 0;

		n = rte_ring_dequeue_burst(dev->to_control, (void **)m, BURST, NULL);
		for (unsigned i = 0; i < n; i++)
			frame(dev, m[i], now);
		work += n;
		if (n) { /* ARP/ND replies may have resolved next hops */
			publish_neighbours(&dev->out);
			publish_neighbours(&dev->in);
		}
		/* drain completely before reclaiming: see the file comment */
		while ((n = rte_ring_dequeue_burst(dev->events, ev, BURST, NULL)) > 0) {
			for (unsigned i = 0; i < n; i++)
				event(dev, ev[i], now);
			work += n;
		}
		if (now >= next_tick) {
			/* gateways are resolved and kept from when their link is up (memif: the peer connected) */
			keep_gateways_once_up(&dev->out, now);
			keep_gateways_once_up(&dev->in, now);
			tick_peers(dev, now);
			/* notes first: a use they report keeps an entry from gc */
			take_neighbour_notes(&dev->out, now);
			take_neighbour_notes(&dev->in, now);
			if (now >= next_neigh_tick) {
				wg_neigh_tick(dev->out.neigh, now);
				if (dev->in.neigh)
					wg_neigh_tick(dev->in.neigh, now);
				next_neigh_tick = now + NEIGH_TICK_NS;
			}
			wg_ratelimiter_gc(dev->ratelimiter, now);
			wg_peers_reap(dev, false);
			publish_neighbours(&dev->out);
			publish_neighbours(&dev->in);
			next_tick = now + TICK_NS;
		}
		wg_scale_poll(dev, now);
		rte_rcu_qsbr_dq_reclaim(dev->dq, 1024, NULL, NULL, NULL);
		work += wg_call_serve(dev);
		if (work || wg_scale_busy(dev)) {
			nap_ns = IDLE_SLEEP_NS;
		} else {
			struct timespec nap = { 0, (long)nap_ns };

			nanosleep(&nap, NULL);
			nap_ns = RTE_MIN(nap_ns * 2, IDLE_SLEEP_MAX_NS);
		}
	}
}
