/* SPDX-License-Identifier: MIT */
/*
 * ARP on both ports. We are "the rest of the link" for wgdp: on the outside
 * the gateway (OutsideGateway) and the clients, on the inside the gateway
 * (InsideGateway) and whatever is behind it. So every ARP request from wgdp
 * for an address other than its own is answered with our MAC, which covers
 * on-link clients as well as the gateways.
 *
 * wgdp's neighbour table only creates entries for the senders of requests
 * aimed at its addresses (dataplane/neigh.h, learning rule), so our probe
 * "who has <wgdp> tell <gateway>" both teaches us wgdp's MAC (from its
 * reply) and gives wgdp a STALE entry for the gateway, which it confirms
 * with a unicast request on first use; we answer that too.
 */
#include <string.h>

#include <rte_byteorder.h>

#include "bench/pktgen/pktgen.h"
#include "dataplane/l3.h"

#define ARP_FRAME_LEN 60u /* 42 bytes of ARP, padded to the Ethernet minimum */

static void put_ip(uint8_t *dst, uint32_t ip)
{
	uint32_t be = rte_cpu_to_be_32(ip);

	memcpy(dst, &be, 4);
}

static uint32_t get_ip(const uint8_t *src)
{
	uint32_t be;

	memcpy(&be, src, 4);
	return rte_be_to_cpu_32(be);
}

/* an ARP frame from p: op 1 (request, dst_mac NULL: broadcast) or 2 (reply) */
static void send_arp(struct pg_ctx *ctx, struct pg_port *p, uint16_t op, const uint8_t *dst_mac, uint32_t spa,
		     uint32_t tpa)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->tx_pool);
	struct wg_eth_hdr *eth;
	struct wg_arp_hdr *arp;
	uint8_t *frame;

	if (!m) {
		ctx->cnt.no_mbuf++;
		return;
	}
	frame = (uint8_t *)rte_pktmbuf_append(m, ARP_FRAME_LEN);
	memset(frame, 0, ARP_FRAME_LEN);
	eth = (struct wg_eth_hdr *)frame;
	arp = (struct wg_arp_hdr *)(eth + 1);
	memcpy(eth->dst, dst_mac ? dst_mac : bcast, 6);
	memcpy(eth->src, p->mac, 6);
	eth->type = rte_cpu_to_be_16(WG_ETHERTYPE_ARP);
	arp->htype = rte_cpu_to_be_16(1);
	arp->ptype = rte_cpu_to_be_16(WG_ETHERTYPE_IPV4);
	arp->hlen = 6;
	arp->plen = 4;
	arp->op = rte_cpu_to_be_16(op);
	memcpy(arp->sha, p->mac, 6);
	put_ip(arp->spa, spa);
	if (dst_mac && op == 2)
		memcpy(arp->tha, dst_mac, 6);
	put_ip(arp->tpa, tpa);
	if (op == 1)
		ctx->cnt.arp_requests_tx++;
	else
		ctx->cnt.arp_replies_tx++;
	pg_ctl_send(ctx, p, 0, m);
}

void pg_arp_probe(struct pg_ctx *ctx, struct pg_port *p)
{
	send_arp(ctx, p, 1, NULL, p->my_ip, p->dut_ip);
}

void pg_arp_input(struct pg_ctx *ctx, struct pg_port *p, const uint8_t *frame, uint32_t len)
{
	const struct wg_arp_hdr *arp = (const struct wg_arp_hdr *)(frame + sizeof(struct wg_eth_hdr));
	uint32_t spa, tpa;
	uint16_t op;

	if (len < sizeof(struct wg_eth_hdr) + sizeof(*arp) || arp->htype != rte_cpu_to_be_16(1) ||
	    arp->ptype != rte_cpu_to_be_16(WG_ETHERTYPE_IPV4) || arp->hlen != 6 || arp->plen != 4)
		return;
	op = rte_be_to_cpu_16(arp->op);
	spa = get_ip(arp->spa);
	tpa = get_ip(arp->tpa);
	if (spa != p->dut_ip)
		return; /* only wgdp lives on this link besides us */
	if (!p->dut_known || memcmp(p->dut_mac, arp->sha, 6)) {
		memcpy(p->dut_mac, arp->sha, 6);
		p->dut_known = true;
	}
	if (op == 1) {
		ctx->cnt.arp_requests_rx++;
		if (tpa != p->dut_ip) /* not a gratuitous announcement: someone we play */
			send_arp(ctx, p, 2, arp->sha, tpa, spa);
	} else if (op == 2) {
		ctx->cnt.arp_replies_rx++;
	}
}
