/* SPDX-License-Identifier: MIT */
/*
 * What we send, and when.
 *
 * Inner packets are IPv4/UDP built from one template per size (the bytes
 * after the payload header are a pattern that depends on the size only, so
 * the receiver can compare them with memcmp), patched with the addresses
 * and a struct pg_payload: client, per-client sequence number, and the
 * direction's global sequence number (gseq), which indexes the log of
 * transmit times that rx.c reads latency from. The payload is sealed ahead
 * of time, so the timestamp is taken at transmission and kept beside, not
 * inside, the packet.
 *
 * Forward (clients -> wgdp's outside): complete frames, outer headers,
 * WireGuard header with the client's next counter and the sealed inner
 * packet, are made ahead in a window (a ring of mbufs) in bursts through
 * the batch AEAD, each packet under its client's key; transmission only
 * takes them from the ring. Streaming mode refills the window while the
 * step runs (the generator's cost is then the AEAD's); --prebuild fills it
 * once before the step and never during it, so the step measures wgdp, not
 * us, for as many packets as the window holds. Packet k of the window goes
 * to client active[k mod n] (round robin) with size sizes[k] (a shuffled
 * table for IMIX). At the end of a step whatever is left in the window is
 * thrown away and each client's payload sequence rolled back, so the next
 * step starts gap-free (the WireGuard counters are not rolled back: they
 * only ever grow, and wgdp's replay window accepts a skip ahead).
 *
 * Reverse (datacenter -> wgdp's inside): plaintext frames made at the time
 * they are sent (a copy of the template, no crypto).
 *
 * Queues: client c's packets leave on tx queue c mod Q of the port. Both
 * directions go through a small stage per queue (forward: taken from the
 * window in order; reverse: built in order); a stage keeps what its queue
 * refused, in order, for the next round, and while one stage is full
 * nothing more is taken for any queue, so a client's packets never pass
 * each other. A packet's gseq is fixed when it is made, so the transmit
 * log is written by gseq just before every attempt to send it (the last
 * write is the real one); gseqs of packets thrown away at the end of a
 * step are never reused.
 *
 * Rate: per direction, packets due = elapsed * rate; 0 means as fast as
 * the loop goes. Everything is on one lcore with rx (pg_poll).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>

#include "bench/pktgen/pktgen.h"
#include "crypto/batch_aead.h"
#include "dataplane/l3.h"

#define SIZE_TAB 4096u
#define FILL_BATCH 64u
#define OUTER_LEN (14u + 20u + 8u)

#define STAGE (2u * PG_BURST)

struct slot_meta {
	uint32_t client;
	uint16_t len;
};

/* packets of one tx queue waiting to go, oldest first */
struct stage {
	struct rte_mbuf *m[STAGE];
	uint64_t gseq[STAGE];
	uint32_t client[STAGE];
	uint16_t len[STAGE];     /* inner IP bytes */
	unsigned n;
};

struct pg_traffic {
	struct rte_mbuf **ring;    /* forward window */
	struct slot_meta *meta;
	uint32_t mask;
	uint64_t head, tail;       /* produced, sent; gseq of a forward packet = its position */
	uint64_t next_gseq_rev;
	uint64_t k[PG_NDIR];       /* round-robin / size position per direction */
	uint16_t size_tab[SIZE_TAB];
	uint8_t *tpl[PG_MAX_SIZES];
	int8_t tpl_of_len[PG_MAX_INNER + 1];
	uint16_t ip_id;
	struct stage stage[PG_NDIR][PG_MAX_TXQ];
	unsigned n_staged[PG_NDIR]; /* over all queues */
};

static void put32(uint8_t *dst, uint32_t host)
{
	uint32_t be = rte_cpu_to_be_32(host);

	memcpy(dst, &be, 4);
}

/* ---- templates ------------------------------------------------------------ */

static uint8_t *make_template(uint16_t len)
{
	uint8_t *t = calloc(1, len);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)t;
	struct wg_udp_hdr *udp = (struct wg_udp_hdr *)(t + 20);

	if (!t)
		return NULL;
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(len);
	ip->time_to_live = 64;
	ip->next_proto_id = WG_IPPROTO_UDP;
	udp->len = rte_cpu_to_be_16((uint16_t)(len - 20));
	for (unsigned k = PG_INNER_HDRS + sizeof(struct pg_payload); k < len; k++)
		t[k] = (uint8_t)(k * 131u + len * 7u);
	return t;
}

const uint8_t *pg_pattern(const struct pg_ctx *ctx, uint16_t len)
{
	const struct pg_traffic *tr = ctx->tr;

	if (len > PG_MAX_INNER || tr->tpl_of_len[len] < 0)
		return NULL;
	return tr->tpl[tr->tpl_of_len[len]];
}

/* the inner packet of client c in direction d, len bytes at dst */
static void write_inner(struct pg_ctx *ctx, uint8_t *dst, uint16_t len, uint32_t c, enum pg_dir d, uint64_t gseq)
{
	const struct pg_opts *o = ctx->o;
	struct pg_client *cl = &ctx->clients[c];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)dst;
	struct wg_udp_hdr *udp = (struct wg_udp_hdr *)(dst + 20);
	struct pg_payload *pl = (struct pg_payload *)(dst + PG_INNER_HDRS);
	uint16_t cport = rte_cpu_to_be_16((uint16_t)(1024u + c % 64512u));

	memcpy(dst, ctx->tr->tpl[ctx->tr->tpl_of_len[len]], len);
	if (d == PG_FWD) {
		put32((uint8_t *)&ip->src_addr, o->tunnel_net + c);
		put32((uint8_t *)&ip->dst_addr, o->dc_host);
		udp->sport = cport;
		udp->dport = rte_cpu_to_be_16(PG_INNER_PORT);
	} else {
		put32((uint8_t *)&ip->src_addr, o->dc_host);
		put32((uint8_t *)&ip->dst_addr, o->tunnel_net + c);
		udp->sport = rte_cpu_to_be_16(PG_INNER_PORT);
		udp->dport = cport;
	}
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	pl->magic = PG_PAYLOAD_MAGIC;
	pl->client = c;
	pl->seq = cl->seq_tx[d]++;
	pl->gseq = gseq;
	pl->len = len;
	pl->dir = (uint8_t)d;
}

/* ---- outer frames ------------------------------------------------------------ */

void pg_outer_headers(const struct pg_ctx *ctx, uint32_t c, uint8_t *frame, uint32_t msg_len, uint16_t ip_id)
{
	const struct pg_opts *o = ctx->o;
	struct wg_eth_hdr *eth = (struct wg_eth_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + 14);
	struct wg_udp_hdr *udp = (struct wg_udp_hdr *)(frame + 34);

	memcpy(eth->dst, ctx->out.dut_mac, 6);
	memcpy(eth->src, ctx->out.mac, 6);
	eth->type = rte_cpu_to_be_16(WG_ETHERTYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + msg_len));
	ip->packet_id = rte_cpu_to_be_16(ip_id);
	ip->fragment_offset = 0;
	ip->time_to_live = 64;
	ip->next_proto_id = WG_IPPROTO_UDP;
	ip->hdr_checksum = 0;
	put32((uint8_t *)&ip->src_addr, o->client_net + c);
	put32((uint8_t *)&ip->dst_addr, o->dut_out_ip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->sport = rte_cpu_to_be_16(o->client_port);
	udp->dport = rte_cpu_to_be_16(o->dut_port);
	udp->len = rte_cpu_to_be_16((uint16_t)(8 + msg_len));
	udp->check = 0; /* IPv4: no checksum is allowed, and wgdp accepts it */
}

struct rte_mbuf *pg_wg_frame(struct pg_ctx *ctx, uint32_t c, const void *msg, uint32_t msg_len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->tx_pool);
	uint8_t *frame;

	if (!m) {
		ctx->cnt.no_mbuf++;
		return NULL;
	}
	frame = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(OUTER_LEN + msg_len));
	if (!frame) {
		rte_pktmbuf_free(m);
		ctx->cnt.no_mbuf++;
		return NULL;
	}
	pg_outer_headers(ctx, c, frame, msg_len, ctx->tr->ip_id++);
	memcpy(frame + OUTER_LEN, msg, msg_len);
	return m;
}

/* ---- set-up ------------------------------------------------------------------- */

/* a fixed shuffle of the weighted sizes, so IMIX mixes within every burst */
static void size_table(struct pg_traffic *tr, const struct pg_sizes *s)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned pos = 0;

	for (unsigned i = 0; i < s->n; i++) {
		unsigned n = (unsigned)((uint64_t)SIZE_TAB * s->weight[i] / s->total_weight);

		for (unsigned k = 0; k < n && pos < SIZE_TAB; k++)
			tr->size_tab[pos++] = s->len[i];
	}
	while (pos < SIZE_TAB)
		tr->size_tab[pos++] = s->len[0];
	for (unsigned i = SIZE_TAB - 1; i > 0; i--) {
		unsigned j;
		uint16_t t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (unsigned)(x % (i + 1));
		t = tr->size_tab[i];
		tr->size_tab[i] = tr->size_tab[j];
		tr->size_tab[j] = t;
	}
}

int pg_traffic_create(struct pg_ctx *ctx)
{
	const struct pg_opts *o = ctx->o;
	struct pg_traffic *tr = calloc(1, sizeof(*tr));

	if (!tr)
		return -ENOMEM;
	ctx->tr = tr;
	memset(tr->tpl_of_len, -1, sizeof(tr->tpl_of_len));
	for (unsigned i = 0; i < o->sizes.n; i++) {
		tr->tpl[i] = make_template(o->sizes.len[i]);
		if (!tr->tpl[i])
			return -ENOMEM;
		tr->tpl_of_len[o->sizes.len[i]] = (int8_t)i;
	}
	size_table(tr, &o->sizes);
	tr->mask = o->window - 1;
	tr->ring = calloc(o->window, sizeof(*tr->ring));
	tr->meta = calloc(o->window, sizeof(*tr->meta));
	for (unsigned d = 0; d < PG_NDIR; d++)
		ctx->txlog[d] = calloc(1u << PG_TXLOG_BITS, sizeof(uint64_t));
	if (!tr->ring || !tr->meta || !ctx->txlog[PG_FWD] || !ctx->txlog[PG_REV])
		return -ENOMEM;
	return 0;
}

/* throw away what was made but not sent; roll the payload sequences back */
static void discard(struct pg_ctx *ctx)
{
	struct pg_traffic *tr = ctx->tr;

	while (tr->head > tr->tail) {
		uint64_t pos = --tr->head;

		ctx->clients[tr->meta[pos & tr->mask].client].seq_tx[PG_FWD]--;
		rte_pktmbuf_free(tr->ring[pos & tr->mask]);
		tr->ring[pos & tr->mask] = NULL;
	}
	/* a client's unsent packets are its newest ones, so counting down is a roll-back */
	for (unsigned d = 0; d < PG_NDIR; d++)
		for (unsigned q = 0; q < PG_MAX_TXQ; q++) {
			struct stage *sg = &tr->stage[d][q];

			while (sg->n) {
				sg->n--;
				ctx->clients[sg->client[sg->n]].seq_tx[d]--;
				rte_pktmbuf_free(sg->m[sg->n]);
			}
			tr->n_staged[d] = 0;
		}
}

void pg_traffic_destroy(struct pg_ctx *ctx)
{
	struct pg_traffic *tr = ctx->tr;

	if (!tr)
		return;
	if (tr->ring && tr->meta && ctx->clients)
		discard(ctx);
	for (unsigned i = 0; i < PG_MAX_SIZES; i++)
		free(tr->tpl[i]);
	free(tr->ring);
	free(tr->meta);
	for (unsigned d = 0; d < PG_NDIR; d++) {
		free(ctx->txlog[d]);
		ctx->txlog[d] = NULL;
	}
	free(tr);
	ctx->tr = NULL;
}

/* ---- forward: the encrypt-ahead window ------------------------------------------ */

/* make up to max packets into the window; returns how many */
static unsigned fill(struct pg_ctx *ctx, unsigned max)
{
	struct pg_traffic *tr = ctx->tr;
	const struct pg_opts *o = ctx->o;
	struct rte_mbuf *ms[FILL_BATCH];
	struct wg_aead_job jobs[FILL_BATCH];
	uint64_t room = (uint64_t)tr->mask + 1 - (tr->head - tr->tail);
	uint64_t now = pg_tsc();
	unsigned n = max < FILL_BATCH ? max : FILL_BATCH;

	if (n > room)
		n = (unsigned)room;
	if (!n || !ctx->n_active)
		return 0;
	if (rte_pktmbuf_alloc_bulk(ctx->tx_pool, ms, n)) {
		ctx->cnt.no_mbuf++;
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t k = tr->k[PG_FWD]++;
		uint32_t c = ctx->active[k % ctx->n_active];
		uint16_t len = tr->size_tab[k % SIZE_TAB];
		struct pg_client *cl = &ctx->clients[c];
		uint32_t padded = (uint32_t)wg_data_padded_len(len, o->mtu);
		uint32_t msg_len = WG_DATA_HEADER_LEN + padded + WG_AEAD_TAG_LEN;
		uint8_t *frame = (uint8_t *)rte_pktmbuf_append(ms[i], (uint16_t)(OUTER_LEN + msg_len));
		uint8_t *msg = frame + OUTER_LEN, *plain = msg + WG_DATA_HEADER_LEN;
		uint64_t counter = cl->send_counter++;
		uint64_t pos = tr->head++;

		pg_outer_headers(ctx, c, frame, msg_len, tr->ip_id++);
		msg[0] = WG_MSG_DATA;
		msg[1] = msg[2] = msg[3] = 0;
		wg_le32_write(msg + 4, cl->remote_index);
		wg_le64_write(msg + 8, counter);
		write_inner(ctx, plain, len, c, PG_FWD, pos);
		memset(plain + len, 0, padded - len);
		jobs[i] = (struct wg_aead_job){
			.key = cl->send_key, .counter = counter, .src = plain, .dst = plain, .len = padded,
		};
		cl->last_tx_tsc = now;
		tr->ring[pos & tr->mask] = ms[i];
		tr->meta[pos & tr->mask] = (struct slot_meta){ .client = c, .len = len };
	}
	if (wg_batch_aead_run(ctx->aead, WG_BATCH_ENCRYPT, jobs, n) != n)
		fprintf(stderr, "wgdp-pktgen: batch AEAD refused a job\n");
	return n;
}

/*
 * Send what the stages of direction d hold, queue by queue, on port p;
 * returns how many went. A stage keeps what its queue refused.
 */
static unsigned flush_stages(struct pg_ctx *ctx, enum pg_dir d, const struct pg_port *p, uint64_t now)
{
	struct pg_traffic *tr = ctx->tr;
	struct pg_dir_stats *st = &ctx->st[d];
	const uint64_t log_mask = (1u << PG_TXLOG_BITS) - 1;
	uint32_t wire[STAGE];
	unsigned total = 0;

	for (uint16_t q = 0; q < p->n_txq; q++) {
		struct stage *sg = &tr->stage[d][q];
		unsigned sent;

		if (!sg->n)
			continue;
		for (unsigned i = 0; i < sg->n; i++) {
			wire[i] = rte_pktmbuf_pkt_len(sg->m[i]); /* the port frees what it takes */
			ctx->txlog[d][sg->gseq[i] & log_mask] = now;
		}
		sent = rte_eth_tx_burst(p->id, q, sg->m, (uint16_t)sg->n);
		for (unsigned i = 0; i < sent; i++) {
			st->tx_bytes += sg->len[i];
			st->tx_wire += wire[i];
		}
		if (sent < sg->n) {
			st->tx_full++;
			sg->n -= sent;
			memmove(sg->m, sg->m + sent, sg->n * sizeof(sg->m[0]));
			memmove(sg->gseq, sg->gseq + sent, sg->n * sizeof(sg->gseq[0]));
			memmove(sg->client, sg->client + sent, sg->n * sizeof(sg->client[0]));
			memmove(sg->len, sg->len + sent, sg->n * sizeof(sg->len[0]));
		} else {
			sg->n = 0;
		}
		total += sent;
	}
	st->tx_pkts += total;
	tr->n_staged[d] -= total;
	return total;
}

static void stage_put(struct pg_traffic *tr, enum pg_dir d, uint16_t q, struct rte_mbuf *m, uint64_t gseq,
		      uint32_t c, uint16_t len)
{
	struct stage *sg = &tr->stage[d][q];

	tr->n_staged[d]++;
	sg->m[sg->n] = m;
	sg->gseq[sg->n] = gseq;
	sg->client[sg->n] = c;
	sg->len[sg->n] = len;
	sg->n++;
}

/*
 * Send n packets (what the stages hold first, then from the window into
 * their queues' stages); returns how many went.
 */
static unsigned send_fwd(struct pg_ctx *ctx, unsigned n, uint64_t now)
{
	struct pg_traffic *tr = ctx->tr;

	if (n > PG_BURST)
		n = PG_BURST;
	n = n > tr->n_staged[PG_FWD] ? n - tr->n_staged[PG_FWD] : 0;
	while (n && tr->head > tr->tail) {
		unsigned slot = (unsigned)(tr->tail & tr->mask);
		const struct slot_meta *mt = &tr->meta[slot];
		uint16_t q = pg_client_queue(ctx, mt->client);

		if (tr->stage[PG_FWD][q].n == STAGE)
			break; /* that queue is refusing: keep the window's order */
		stage_put(tr, PG_FWD, q, tr->ring[slot], tr->tail, mt->client, mt->len);
		tr->ring[slot] = NULL;
		tr->tail++;
		n--;
	}
	ctx->gseq_sent[PG_FWD] = tr->tail;
	return flush_stages(ctx, PG_FWD, &ctx->out, now);
}

/* ---- reverse: plaintext from the datacenter ---------------------------------------- */

/* send n packets: what the stages hold, then new ones (round robin over the clients) */
static unsigned send_rev(struct pg_ctx *ctx, unsigned n, uint64_t now)
{
	struct pg_traffic *tr = ctx->tr;
	struct rte_mbuf *ms[PG_BURST];
	unsigned room[PG_MAX_TXQ], want = 0;

	if (n > PG_BURST)
		n = PG_BURST;
	n = n > tr->n_staged[PG_REV] ? n - tr->n_staged[PG_REV] : 0;
	for (uint16_t q = 0; q < ctx->in.n_txq; q++)
		room[q] = STAGE - tr->stage[PG_REV][q].n;
	while (want < n && ctx->n_active) {
		uint16_t q = pg_client_queue(ctx, ctx->active[(tr->k[PG_REV] + want) % ctx->n_active]);

		if (!room[q])
			break; /* that queue is refusing: the clients after it wait too */
		room[q]--;
		want++;
	}
	if (want && rte_pktmbuf_alloc_bulk(ctx->tx_pool, ms, want)) {
		ctx->cnt.no_mbuf++;
		want = 0;
	}
	for (unsigned i = 0; i < want; i++) {
		uint64_t k = tr->k[PG_REV]++;
		uint32_t c = ctx->active[k % ctx->n_active];
		uint16_t len = tr->size_tab[k % SIZE_TAB];
		uint8_t *frame = rte_pktmbuf_mtod(ms[i], uint8_t *);
		struct wg_eth_hdr *eth = (struct wg_eth_hdr *)frame;
		uint64_t gseq = tr->next_gseq_rev++;

		/* the pool's mbufs are sized for the largest sealed frame, longer than this */
		ms[i]->data_len = (uint16_t)(14 + len);
		ms[i]->pkt_len = 14u + len;
		memcpy(eth->dst, ctx->in.dut_mac, 6);
		memcpy(eth->src, ctx->in.mac, 6);
		eth->type = rte_cpu_to_be_16(WG_ETHERTYPE_IPV4);
		write_inner(ctx, frame + 14, len, c, PG_REV, gseq);
		stage_put(tr, PG_REV, pg_client_queue(ctx, c), ms[i], gseq, c, len);
	}
	ctx->gseq_sent[PG_REV] = tr->next_gseq_rev;
	return flush_stages(ctx, PG_REV, &ctx->in, now);
}

/* ---- a step -------------------------------------------------------------------------- */

/* fill the window (keeping rx and ARP alive meanwhile) up to want packets */
static void prefill(struct pg_ctx *ctx, uint64_t want)
{
	struct pg_traffic *tr = ctx->tr;

	while (!ctx->stop && tr->head - tr->tail < want && tr->head - tr->tail <= tr->mask) {
		uint64_t left = want - (tr->head - tr->tail);

		if (!fill(ctx, left < FILL_BATCH ? (unsigned)left : FILL_BATCH))
			break;
		if ((tr->head & 1023) < FILL_BATCH)
			pg_poll(ctx);
	}
}

void pg_traffic_step(struct pg_ctx *ctx, unsigned step, double rate)
{
	const struct pg_opts *o = ctx->o;
	struct pg_traffic *tr = ctx->tr;
	uint64_t limit[PG_NDIR];
	uint64_t t0, end, drain_end, now;
	uint64_t sent[PG_NDIR] = { 0, 0 };
	double secs;

	(void)step;
	for (unsigned d = 0; d < PG_NDIR; d++) {
		limit[d] = o->count ? o->count : UINT64_MAX;
		memset(&ctx->st[d], 0, sizeof(ctx->st[d]));
		pg_hist_reset(&ctx->st[d].lat);
		ctx->st[d].gseq_first = ctx->gseq_sent[d];
	}
	if (!ctx->n_active) {
		fprintf(stderr, "wgdp-pktgen: no established client: nothing to send\n");
		return;
	}
	/*
	 * Remind wgdp of the gateways: its neighbour table forgets an entry
	 * unused for 60 s (a long handshake phase), and then drops all but
	 * the 4 packets it queues while resolving again.
	 */
	pg_arp_probe(ctx, &ctx->out);
	pg_arp_probe(ctx, &ctx->in);
	t0 = pg_tsc() + ctx->hz / 50;
	while (!ctx->stop && pg_tsc() < t0)
		pg_poll(ctx);
	if (o->dir[PG_FWD])
		prefill(ctx, RTE_MIN(o->count ? o->count : UINT64_MAX, (uint64_t)tr->mask + 1));
	ctx->in_step = true;
	t0 = pg_tsc();
	/* with a count, the duration is the longest the step may take */
	end = t0 + (uint64_t)(o->duration * (double)ctx->hz);
	now = t0;
	while (!ctx->stop && now < end) {
		bool done = true;

		pg_poll(ctx);
		now = pg_tsc();
		for (unsigned d = 0; d < PG_NDIR; d++) {
			uint64_t due;

			if (!o->dir[d] || sent[d] >= limit[d])
				continue;
			done = false;
			due = rate > 0 ? (uint64_t)((double)(now - t0) * rate / (double)ctx->hz) + 1 : UINT64_MAX;
			if (due > limit[d])
				due = limit[d];
			if (due <= sent[d])
				continue;
			if (d == PG_FWD) {
				unsigned k = send_fwd(ctx, (unsigned)RTE_MIN(due - sent[d], (uint64_t)PG_BURST), now);

				if (!k && tr->head == tr->tail && !tr->n_staged[PG_FWD]) {
					ctx->st[PG_FWD].gen_empty++;
					if (o->prebuild)
						limit[d] = sent[d]; /* the window is all there is */
				}
				sent[d] += k;
			} else {
				unsigned k = send_rev(ctx, (unsigned)RTE_MIN(due - sent[d], (uint64_t)PG_BURST), now);

				sent[d] += k;
			}
		}
		if (done)
			break;
		if (o->dir[PG_FWD] && !o->prebuild && sent[PG_FWD] < limit[PG_FWD]) {
			uint64_t made = tr->head - ctx->st[PG_FWD].gseq_first;

			if (made < limit[PG_FWD])
				fill(ctx, (unsigned)RTE_MIN(limit[PG_FWD] - made, (uint64_t)FILL_BATCH));
		}
	}
	now = pg_tsc();
	secs = (double)(now - t0) / (double)ctx->hz;
	for (unsigned d = 0; d < PG_NDIR; d++)
		ctx->st[d].gseq_end = ctx->gseq_sent[d];
	discard(ctx);
	drain_end = now + (uint64_t)(o->drain * (double)ctx->hz);
	while (!ctx->stop && pg_tsc() < drain_end)
		pg_poll(ctx);
	ctx->in_step = false;
	for (unsigned d = 0; d < PG_NDIR; d++) /* never acceptable, whatever the rate */
		ctx->cnt.content_errors += ctx->st[d].rx_bad + ctx->st[d].rx_bad_tag;
	pg_report_step(ctx, step, rate, secs, stdout);
}
