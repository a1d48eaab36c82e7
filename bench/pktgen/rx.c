/* SPDX-License-Identifier: MIT */
/*
 * What comes back, checked against what we sent.
 *
 * Inside port: wgdp's decrypted forward traffic, an Ethernet frame with the
 * inner IPv4 packet exactly as the client sealed it (wgdp strips the
 * padding). Outside port: wgdp's sealed reverse traffic to a client's
 * address, which we open in bursts through the batch AEAD with the
 * client's receiving key (the receiver index in the message names the
 * client), plus handshake answers (handshake.c) and ARP (arp.c).
 *
 * Every inner packet must be ours (magic), of the direction and client it
 * arrived as, with the addresses of that client, the length it says, and,
 * with verify on, every byte after the payload header equal to the pattern
 * (and zero padding up to the next multiple of 16 on the reverse path);
 * otherwise it counts as bad. Good ones count towards the current step when
 * their gseq is of this step (else stale), advance the client's sequence
 * (below the highest seen: reordered; skipping ahead: a gap), and give a
 * latency from the transmit log. On the reverse path the WireGuard counter
 * of each client must grow too (ctr_reordered otherwise).
 *
 * --rx-sample K (reverse only) opens one data message in K; the others are
 * counted from their clear header (receiver index, counter order, length:
 * inner bytes then include the padding) towards the step running when they
 * arrive. Opening costs what sealing cost wgdp, so with one lcore for us
 * and one for wgdp, sampling is what lets wgdp's encrypt path, not our
 * decryption, set the rate.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>

#include "bench/pktgen/pktgen.h"
#include "crypto/batch_aead.h"
#include "dataplane/l3.h"

#define TXLOG_MASK ((1ull << PG_TXLOG_BITS) - 1)

struct rx_item {
	struct rte_mbuf *m;
	uint32_t client;
	bool prev;          /* sealed under the session before the latest rekey */
	uint8_t *plain;
	uint32_t plain_len; /* padded */
	uint64_t counter;
};

static uint32_t get32(const void *p)
{
	uint32_t be;

	memcpy(&be, p, 4);
	return rte_be_to_cpu_32(be);
}

static bool zero(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * An inner packet of direction d in pkt[0..avail) (avail includes any
 * WireGuard padding); for the reverse path want is the client whose key
 * opened it. wire: the bytes the frame took on the link.
 */
static void inner(struct pg_ctx *ctx, enum pg_dir d, const uint8_t *pkt, uint32_t avail, uint32_t want,
		  uint32_t wire, uint64_t now)
{
	const struct pg_opts *o = ctx->o;
	struct pg_dir_stats *st = &ctx->st[d];
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)pkt;
	const struct pg_payload *pl = (const struct pg_payload *)(pkt + PG_INNER_HDRS);
	const uint8_t *pattern;
	struct pg_client *cl;
	uint32_t len, c, src, dst;

	if (avail < PG_INNER_HDRS + sizeof(*pl) || ip->version_ihl != 0x45 || ip->next_proto_id != WG_IPPROTO_UDP ||
	    pl->magic != PG_PAYLOAD_MAGIC) {
		if (d == PG_FWD)
			ctx->cnt.in_other_rx++;
		else
			st->rx_bad++;
		return;
	}
	len = rte_be_to_cpu_16(ip->total_length);
	c = pl->client;
	src = get32(&ip->src_addr);
	dst = get32(&ip->dst_addr);
	if (len > avail || len != pl->len || pl->dir != d || c >= o->n_clients || (want != UINT32_MAX && c != want) ||
	    src != (d == PG_FWD ? o->tunnel_net + c : o->dc_host) ||
	    dst != (d == PG_FWD ? o->dc_host : o->tunnel_net + c)) {
		st->rx_bad++;
		return;
	}
	if (o->verify) {
		uint32_t off = PG_INNER_HDRS + sizeof(*pl);

		pattern = pg_pattern(ctx, (uint16_t)len);
		if (!pattern || memcmp(pkt + off, pattern + off, len - off) ||
		    (d == PG_REV && !zero(pkt + len, avail - len))) {
			st->rx_bad++;
			return;
		}
	}
	if (pl->gseq < st->gseq_first || !ctx->in_step) {
		st->rx_stale++;
		return;
	}
	st->rx_pkts++;
	st->rx_bytes += len;
	st->rx_wire += wire;
	cl = &ctx->clients[c];
	if (pl->seq == cl->seq_rx[d]) {
		cl->seq_rx[d]++;
	} else if (pl->seq > cl->seq_rx[d]) {
		if (d == PG_FWD || o->rx_sample <= 1) /* sampling skips on purpose */
			st->rx_gaps++;
		cl->seq_rx[d] = pl->seq + 1;
	} else {
		st->rx_reordered++;
	}
	if (pl->gseq < ctx->gseq_sent[d] && ctx->gseq_sent[d] - pl->gseq <= TXLOG_MASK) {
		uint64_t dt = now - ctx->txlog[d][pl->gseq & TXLOG_MASK];

		pg_hist_add(&st->lat, (uint64_t)((double)dt * 1e9 / (double)ctx->hz));
	}
}

/* the reverse direction's sealed messages, opened as one batch */
static void open_batch(struct pg_ctx *ctx, struct rx_item *items, unsigned n, uint64_t now)
{
	struct wg_aead_job jobs[PG_BURST];
	struct pg_dir_stats *st = &ctx->st[PG_REV];

	for (unsigned i = 0; i < n; i++)
		jobs[i] = (struct wg_aead_job){
			.key = items[i].prev ? ctx->clients[items[i].client].prev_recv_key
					     : ctx->clients[items[i].client].recv_key,
			.counter = items[i].counter,
			.src = items[i].plain,
			.dst = items[i].plain,
			.len = items[i].plain_len,
		};
	wg_batch_aead_run(ctx->aead, WG_BATCH_DECRYPT, jobs, n);
	for (unsigned i = 0; i < n; i++) {
		struct rx_item *it = &items[i];
		struct pg_client *cl = &ctx->clients[it->client];

		if (jobs[i].status) {
			st->rx_bad_tag++;
		} else {
			uint64_t *next = it->prev ? &cl->prev_recv_counter_next : &cl->recv_counter_next;

			cl->last_rx_tsc = now;
			if (it->counter < *next)
				st->rx_ctr_reordered++;
			else
				*next = it->counter + 1;
			if (!it->plain_len)
				ctx->cnt.keepalives_rx++;
			else
				inner(ctx, PG_REV, it->plain, it->plain_len, it->client,
				      rte_pktmbuf_pkt_len(it->m), now);
		}
		rte_pktmbuf_free(it->m);
	}
}

/* a reverse data message we do not open (--rx-sample): its header only */
static void count_sealed(struct pg_ctx *ctx, struct rx_item *it)
{
	struct pg_client *cl = &ctx->clients[it->client];
	struct pg_dir_stats *st = &ctx->st[PG_REV];
	uint64_t *next = it->prev ? &cl->prev_recv_counter_next : &cl->recv_counter_next;

	if (it->counter < *next)
		st->rx_ctr_reordered++;
	else
		*next = it->counter + 1;
	if (!it->plain_len) {
		ctx->cnt.keepalives_rx++;
	} else if (ctx->in_step) {
		st->rx_pkts++;
		st->rx_bytes += it->plain_len;
		st->rx_wire += rte_pktmbuf_pkt_len(it->m);
	}
	rte_pktmbuf_free(it->m);
}

static void outside_burst(struct pg_ctx *ctx, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	const struct pg_opts *o = ctx->o;
	struct rx_item items[PG_BURST];
	unsigned k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
		uint32_t len = rte_pktmbuf_data_len(m), ulen, c;
		unsigned parity;
		const struct wg_eth_hdr *eth = (const struct wg_eth_hdr *)f;
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + 14);
		const struct wg_udp_hdr *udp = (const struct wg_udp_hdr *)(f + 34);
		uint8_t *msg = f + 42;

		if (m->nb_segs > 1 || len < 14) {
			ctx->cnt.out_other_rx++;
		} else if (eth->type == rte_cpu_to_be_16(WG_ETHERTYPE_ARP)) {
			pg_arp_input(ctx, &ctx->out, f, len);
		} else if (eth->type != rte_cpu_to_be_16(WG_ETHERTYPE_IPV4) || len < 42 || ip->version_ihl != 0x45 ||
			   ip->next_proto_id != WG_IPPROTO_UDP || get32(&ip->src_addr) != o->dut_out_ip ||
			   udp->sport != rte_cpu_to_be_16(o->dut_port) ||
			   (ulen = rte_be_to_cpu_16(udp->len)) < 8 || 34 + ulen > len) {
			ctx->cnt.out_other_rx++;
		} else if (ulen - 8 >= WG_DATA_MIN_LEN && msg[0] == WG_MSG_DATA) {
			c = pg_client_of_index(ctx, wg_le32_read(msg + 4), &parity);
			if (c == UINT32_MAX || ctx->clients[c].state != PG_CL_ESTABLISHED ||
			    pg_client_of_outer_ip(o, get32(&ip->dst_addr)) != c ||
			    (parity != (ctx->clients[c].gen & 1u) && !ctx->clients[c].has_prev)) {
				ctx->cnt.data_unknown_index++;
			} else {
				struct rx_item it = {
					.m = m, .client = c, .prev = parity != (ctx->clients[c].gen & 1u),
					.plain = msg + WG_DATA_HEADER_LEN,
					.plain_len = ulen - 8 - WG_DATA_MIN_LEN, .counter = wg_le64_read(msg + 8),
				};

				if (o->rx_sample > 1 && ctx->rx_msgs++ % o->rx_sample)
					count_sealed(ctx, &it);
				else
					items[k++] = it; /* freed after decryption */
				continue;
			}
		} else {
			pg_hs_input(ctx, msg, ulen - 8, get32(&ip->src_addr), rte_be_to_cpu_16(udp->sport));
		}
		rte_pktmbuf_free(m);
	}
	if (k)
		open_batch(ctx, items, k, now);
}


static void inside_burst(struct pg_ctx *ctx, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t len = rte_pktmbuf_data_len(m);
		const struct wg_eth_hdr *eth = (const struct wg_eth_hdr *)f;

		if (m->nb_segs > 1 || len < 14)
			ctx->cnt.in_other_rx++;
		else if (eth->type == rte_cpu_to_be_16(WG_ETHERTYPE_ARP))
			pg_arp_input(ctx, &ctx->in, f, len);
		else if (eth->type == rte_cpu_to_be_16(WG_ETHERTYPE_IPV4))
			inner(ctx, PG_FWD, f + 14, len - 14, UINT32_MAX, len, now);
		else
			ctx->cnt.in_other_rx++;
		rte_pktmbuf_free(m);
	}
}

void pg_rx_poll(struct pg_ctx *ctx)
{
	struct rte_mbuf *pkts[PG_BURST];
	uint64_t now = pg_tsc();
	uint16_t n;

	for (uint16_t q = 0; q < ctx->out.n_rxq; q++) {
		n = rte_eth_rx_burst(ctx->out.id, q, pkts, PG_BURST);
		if (n)
			outside_burst(ctx, pkts, n, now);
	}
	for (uint16_t q = 0; q < ctx->in.n_rxq; q++) {
		n = rte_eth_rx_burst(ctx->in.id, q, pkts, PG_BURST);
		if (n)
			inside_burst(ctx, pkts, n, now);
	}
}
