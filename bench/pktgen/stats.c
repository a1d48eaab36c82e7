/* SPDX-License-Identifier: MIT */
/*
 * Numbers: a log-linear latency histogram (32 linear buckets per power of
 * two: at most 1/32 = 3% above the true value at any quantile, exact max),
 * and the reports, as text or one JSON object per line (--json):
 *
 *   {"type":"handshakes", ...}  once, after the handshake phase
 *   {"type":"step", "dir":"fwd"|"rev", ...}  per step and direction
 *   {"type":"counters", ...}  once, at the end
 *   {"type":"queues", "outside":{"tx":[...],"rx":[...]}, "inside":...}
 *                              packets per queue over the run (the port's counters)
 *
 * Rates are over the step's sending time (not the drain after it): offered
 * = what we transmitted, received = what came back verified. bps counts
 * inner IP bytes (what a tunnel user gets) and, separately, L2 frame bytes
 * on the port where they were counted (outside for sealed frames).
 */
#include <inttypes.h>
#include <string.h>

#include <rte_ethdev.h>

#include "bench/pktgen/pktgen.h"

static const char *const dir_names[PG_NDIR] = { "fwd", "rev" };

void pg_hist_reset(struct pg_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static unsigned bucket(uint64_t v)
{
	unsigned e, idx;

	if (v < PG_HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* >= 5 */
	idx = (e - 4u) * PG_HIST_SUB + (unsigned)((v >> (e - 5u)) & (PG_HIST_SUB - 1u));
	return idx < PG_HIST_BUCKETS ? idx : PG_HIST_BUCKETS - 1;
}

static uint64_t upper_edge(unsigned idx)
{
	unsigned e, sub;

	if (idx < PG_HIST_SUB)
		return idx;
	e = idx / PG_HIST_SUB + 4u;
	sub = idx % PG_HIST_SUB;
	return ((uint64_t)(PG_HIST_SUB + sub) << (e - 5u)) + (1ull << (e - 5u)) - 1u;
}

void pg_hist_add(struct pg_hist *h, uint64_t v)
{
	h->b[bucket(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

uint64_t pg_hist_quantile(const struct pg_hist *h, double q)
{
	uint64_t target, seen = 0;

	if (!h->count)
		return 0;
	if (q >= 1.0)
		return h->max;
	target = (uint64_t)(q * (double)h->count);
	if (target < 1)
		target = 1;
	for (unsigned i = 0; i < PG_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= target) {
			uint64_t e = upper_edge(i);

			return e < h->max ? e : h->max;
		}
	}
	return h->max;
}

void pg_report_handshakes(const struct pg_ctx *ctx, double secs, FILE *f)
{
	const struct pg_counters *c = &ctx->cnt;
	double rate = secs > 0 ? (double)c->hs_established / secs : 0;

	if (ctx->o->json) {
		fprintf(f,
			"{\"type\":\"handshakes\",\"clients\":%u,\"established\":%" PRIu64 ",\"failed\":%" PRIu64
			",\"secs\":%.6f,\"per_sec\":%.1f,\"initiations\":%" PRIu64 ",\"timeouts\":%" PRIu64
			",\"cookies\":%" PRIu64 ",\"bad_responses\":%" PRIu64 "}\n",
			ctx->o->n_clients, c->hs_established, c->hs_failed, secs, rate, c->hs_initiations_tx,
			c->hs_timeouts, c->hs_cookies_rx, c->hs_responses_bad);
	} else {
		fprintf(f,
			"handshakes: %" PRIu64 " of %u established in %.3f s (%.0f/s), %" PRIu64
			" failed; %" PRIu64 " initiations, %" PRIu64 " timeouts, %" PRIu64 " cookie replies, %" PRIu64
			" bad responses\n",
			c->hs_established, ctx->o->n_clients, secs, rate, c->hs_failed, c->hs_initiations_tx,
			c->hs_timeouts, c->hs_cookies_rx, c->hs_responses_bad);
	}
	fflush(f);
}

static void report_dir(const struct pg_ctx *ctx, unsigned step, enum pg_dir d, double rate, double secs, FILE *f)
{
	const struct pg_dir_stats *s = &ctx->st[d];
	double t = secs > 0 ? secs : 1e-9;
	int64_t lost = (int64_t)s->tx_pkts - (int64_t)s->rx_pkts;
	double loss_pct = s->tx_pkts ? 100.0 * (double)lost / (double)s->tx_pkts : 0;
	uint64_t p50 = pg_hist_quantile(&s->lat, 0.5), p99 = pg_hist_quantile(&s->lat, 0.99);
	uint64_t p999 = pg_hist_quantile(&s->lat, 0.999), max = s->lat.max;
	double mean = s->lat.count ? (double)s->lat.sum / (double)s->lat.count : 0;

	if (ctx->o->json) {
		fprintf(f,
			"{\"type\":\"step\",\"step\":%u,\"dir\":\"%s\",\"size\":\"%s\",\"clients\":%u,\"rate\":%.0f,"
			"\"secs\":%.6f,\"tx_pkts\":%" PRIu64 ",\"rx_pkts\":%" PRIu64 ",\"tx_pps\":%.1f,"
			"\"rx_pps\":%.1f,\"tx_bps\":%.0f,\"rx_bps\":%.0f,\"tx_wire_bps\":%.0f,\"rx_wire_bps\":%.0f,"
			"\"lost\":%" PRId64 ",\"loss_pct\":%.4f,\"reordered\":%" PRIu64 ",\"gaps\":%" PRIu64
			",\"ctr_reordered\":%" PRIu64 ",\"bad\":%" PRIu64 ",\"bad_tag\":%" PRIu64 ",\"stale\":%" PRIu64
			",\"tx_full\":%" PRIu64 ",\"window_empty\":%" PRIu64 ",\"lat_ns\":{\"samples\":%" PRIu64
			",\"min\":%" PRIu64 ",\"mean\":%.0f,\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"p999\":%" PRIu64
			",\"max\":%" PRIu64 "}}\n",
			step, dir_names[d], ctx->o->sizes.name, ctx->n_active, rate, secs, s->tx_pkts, s->rx_pkts,
			(double)s->tx_pkts / t, (double)s->rx_pkts / t, 8.0 * (double)s->tx_bytes / t,
			8.0 * (double)s->rx_bytes / t, 8.0 * (double)s->tx_wire / t, 8.0 * (double)s->rx_wire / t,
			lost, loss_pct, s->rx_reordered, s->rx_gaps, s->rx_ctr_reordered, s->rx_bad, s->rx_bad_tag,
			s->rx_stale, s->tx_full, s->gen_empty, s->lat.count, s->lat.count ? s->lat.min : 0, mean,
			p50, p99, p999, max);
	} else {
		fprintf(f,
			"step %u %s size %s rate %s%.0f: %.3f s, sent %" PRIu64 " (%.0f pps, %.1f Mbit/s inner), "
			"received %" PRIu64 " (%.0f pps, %.1f Mbit/s), lost %" PRId64 " (%.3f%%), reordered %" PRIu64
			", gaps %" PRIu64 ", bad %" PRIu64 ", bad tag %" PRIu64 ", stale %" PRIu64
			", tx refused %" PRIu64 "; latency us p50 %.1f p99 %.1f p99.9 %.1f max %.1f (%" PRIu64
			" samples)%s\n",
			step, dir_names[d], ctx->o->sizes.name, rate > 0 ? "" : "max ", rate, secs, s->tx_pkts,
			(double)s->tx_pkts / t, 8e-6 * (double)s->tx_bytes / t, s->rx_pkts, (double)s->rx_pkts / t,
			8e-6 * (double)s->rx_bytes / t, lost, loss_pct, s->rx_reordered, s->rx_gaps, s->rx_bad,
			s->rx_bad_tag, s->rx_stale, s->tx_full, (double)p50 / 1e3, (double)p99 / 1e3, (double)p999 / 1e3,
			(double)max / 1e3, s->lat.count,
			d == PG_FWD && s->gen_empty ? " [window ran dry: generator-limited]" : "");
	}
}

void pg_report_step(const struct pg_ctx *ctx, unsigned step, double rate, double secs, FILE *f)
{
	for (unsigned d = 0; d < PG_NDIR; d++)
		if (ctx->o->dir[d])
			report_dir(ctx, step, (enum pg_dir)d, rate, secs, f);
	fflush(f);
}

void pg_report_counters(const struct pg_ctx *ctx, FILE *f)
{
	const struct pg_counters *c = &ctx->cnt;
	const char *sep = "";

	fprintf(f, ctx->o->json ? "{\"type\":\"counters\"" : "counters:");
#define PG_X_PRINT(name)                                                                   \
	if (ctx->o->json)                                                                  \
		fprintf(f, ",\"%s\":%" PRIu64, #name, c->name);                            \
	else if (c->name)                                                                  \
		fprintf(f, "%s %s %" PRIu64, sep, #name, c->name), sep = ",";
	PG_COUNTERS(PG_X_PRINT)
#undef PG_X_PRINT
	fprintf(f, ctx->o->json ? "}\n" : "\n");
	fflush(f);
}

static void report_port_queues(const struct pg_port *p, const char *name, bool json, FILE *f)
{
	struct rte_eth_stats es;
	const char *sep = "";

	if (rte_eth_stats_get(p->id, &es))
		memset(&es, 0, sizeof(es));
	fprintf(f, json ? "\"%s\":{\"tx\":[" : " %s tx ", name);
	for (uint16_t q = 0; q < p->n_txq && q < RTE_ETHDEV_QUEUE_STAT_CNTRS; q++, sep = json ? "," : " ")
		fprintf(f, "%s%" PRIu64, sep, es.q_opackets[q]);
	fprintf(f, json ? "],\"rx\":[" : ", rx ");
	sep = "";
	for (uint16_t q = 0; q < p->n_rxq && q < RTE_ETHDEV_QUEUE_STAT_CNTRS; q++, sep = json ? "," : " ")
		fprintf(f, "%s%" PRIu64, sep, es.q_ipackets[q]);
	fprintf(f, json ? "]}" : "");
}

void pg_report_queues(const struct pg_ctx *ctx, FILE *f)
{
	bool json = ctx->o->json;

	fprintf(f, json ? "{\"type\":\"queues\"," : "queues (packets):");
	report_port_queues(&ctx->out, "outside", json, f);
	fprintf(f, json ? "," : ";");
	report_port_queues(&ctx->in, "inside", json, f);
	fprintf(f, json ? "}\n" : "\n");
	fflush(f);
}
