/* SPDX-License-Identifier: MIT */
/*
 * GET /metrics: the Prometheus text exposition format (version 0.0.4).
 * Names are prefixed wgdp_, counters end in _total, every named drop reason
 * is a label value of one counter family (so a new reason needs no new
 * dashboard), per-lcore series carry lcore and role labels, and per-peer
 * series (public_key label) can be switched off with MetricsPerPeer = off
 * for deployments where a million peers would be a million series each.
 * Built on the control thread into one buffer.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>

#include "conf/key.h"
#include "conf/parse_util.h"
#include "conf/pool.h"
#include "control/api_internal.h"
#include "control/scale.h"
#include "control/slab.h"
#include "control/stats.h"
#include "dataplane/allowedips.h"
#include "dataplane/index.h"
#include "dataplane/wgdp.h"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP wgdp_%s %s\n# TYPE wgdp_%s %s\n", name, help, name, type);
}

/* one lcore's (or the sum's) series with the given label set */
static void lcore_series(FILE *f, const char *name, const char *labels, uint64_t v)
{
	fprintf(f, "wgdp_%s{%s} %llu\n", name, labels, (unsigned long long)v);
}

struct lcore_view {
	char labels[64];
	const struct wg_lcore_counters *c;
};

static void counters(FILE *f, const struct lcore_view *v, unsigned n)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} simple[] = {
#define C(field, help) { #field "_total", help, offsetof(struct wg_lcore_counters, field) }
		C(rx_packets, "Transport packets received, decrypted and forwarded to the inside."),
		C(rx_bytes, "Bytes of those packets."),
		C(tx_packets, "Packets from the inside encrypted and sent to peers."),
		C(tx_bytes, "Bytes of those packets."),
		C(keepalives_rx, "Keepalives received."),
		C(keepalives_tx, "Keepalives sent."),
		C(handshakes_rx, "Handshake messages received (initiations, responses, cookie replies)."),
		C(handshakes_tx, "Handshake initiations and responses sent."),
		C(cookies_tx, "Cookie replies sent (under load)."),
		C(arp_nd_replies, "ARP and ND replies sent."),
		C(echo_replies, "ICMP echo replies sent."),
#undef C
	};
	char labels[256];

	for (size_t s = 0; s < sizeof(simple) / sizeof(simple[0]); s++) {
		family(f, simple[s].name, "counter", simple[s].help);
		for (unsigned i = 0; i < n; i++)
			lcore_series(f, simple[s].name, v[i].labels,
				     *(const uint64_t *)((const char *)v[i].c + simple[s].off));
	}
	family(f, "drops_total", "counter", "Packets dropped, by reason (docs/dataplane.md).");
	for (unsigned i = 0; i < n; i++)
		for (unsigned d = 0; d < WG_DROP_MAX; d++) {
			snprintf(labels, sizeof(labels), "%.64s,reason=\"%.64s\"", v[i].labels, wg_drop_names[d]);
			lcore_series(f, "drops_total", labels, v[i].c->drops[d]);
		}
	family(f, "outside_drops_total", "counter", "Outside frames dropped before WireGuard, by reason.");
	for (unsigned i = 0; i < n; i++)
		for (unsigned d = 0; d < WG_L3_DROP_MAX; d++) {
			snprintf(labels, sizeof(labels), "%.64s,reason=\"%.64s\"", v[i].labels, wg_l3_drop_name(d));
			lcore_series(f, "outside_drops_total", labels, v[i].c->l3_drops[d]);
		}
}

static void peers(FILE *f, const struct wgdp *dev)
{
	static const char *const names[] = { "peer_receive_bytes_total", "peer_transmit_bytes_total",
					     "peer_receive_packets_total", "peer_transmit_packets_total",
					     "peer_latest_handshake_seconds", "peer_enabled" };
	static const char *const helps[] = { "Bytes received from the peer (transport and handshake).",
					     "Bytes sent to the peer (transport and handshake).",
					     "Transport packets received from the peer.",
					     "Transport packets sent to the peer.",
					     "Unix time of the latest handshake (0: never).",
					     "1 when the peer is enabled." };

	for (unsigned k = 0; k < 6; k++) {
		family(f, names[k], k < 4 ? "counter" : "gauge", helps[k]);
		for (const struct wg_peer *p = dev->peers; p; p = p->list_next) {
			char b64[WG_KEY_B64_LEN + 1];
			struct wg_peer_stats st;
			uint64_t v[6];

			wg_stats_peer(p, &st);
			v[0] = st.rx_bytes;
			v[1] = st.tx_bytes;
			v[2] = st.rx_packets;
			v[3] = st.tx_packets;
			v[4] = st.last_handshake_ns / 1000000000ull;
			v[5] = !p->disabled;
			wg_key_to_base64(b64, wg_peer_public_key(p));
			fprintf(f, "wgdp_%s{public_key=\"%s\"} %llu\n", names[k], b64, (unsigned long long)v[k]);
		}
	}
}

/* the workers' load and the autoscaler (GET /api/v1/lcores has the rest) */
static void workers(FILE *f, const struct wgdp *dev)
{
	const struct wg_scale *s = dev->scale;
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} per[] = {
		{ "worker_load_permille", "gauge", "Share of the worker's time spent on work over the last 10 ms (per mille).",
		  offsetof(struct wg_worker, load) },
		{ "worker_handed_off_total", "counter", "Packets the worker received for another worker's peers and handed over.",
		  offsetof(struct wg_worker, handed_off) },
		{ "worker_held_total", "counter", "Packets the worker held while a bucket of peers migrated to it.",
		  offsetof(struct wg_worker, held) },
		{ "worker_parks_total", "counter", "Times the worker was parked by the autoscaler.",
		  offsetof(struct wg_worker, parks) },
	};

	family(f, "workers_active", "gauge", "Workers that own peers and poll queues now.");
	fprintf(f, "wgdp_workers_active %u\n", s->n_active);
	family(f, "worker_parked", "gauge", "1 while the worker is parked (blocked, no CPU).");
	for (unsigned i = 0; i < dev->n_workers; i++)
		fprintf(f, "wgdp_worker_parked{worker=\"%u\",lcore=\"%u\"} %u\n", i, dev->workers[i].lcore_id,
			__atomic_load_n(&dev->workers[i].state, __ATOMIC_RELAXED) == WG_WORKER_PARKED);
	for (size_t k = 0; k < sizeof(per) / sizeof(per[0]); k++) {
		family(f, per[k].name, per[k].type, per[k].help);
		for (unsigned i = 0; i < dev->n_workers; i++) {
			const char *w = (const char *)&dev->workers[i];
			unsigned long long v = per[k].off == offsetof(struct wg_worker, load)
						       ? __atomic_load_n((const uint32_t *)(w + per[k].off), __ATOMIC_RELAXED)
						       : __atomic_load_n((const uint64_t *)(w + per[k].off), __ATOMIC_RELAXED);

			fprintf(f, "wgdp_%s{worker=\"%u\",lcore=\"%u\"} %llu\n", per[k].name, i, dev->workers[i].lcore_id, v);
		}
	}
	family(f, "scale_events_total", "counter", "Workers brought back (up) and parked (down) by the autoscaler.");
	fprintf(f, "wgdp_scale_events_total{event=\"up\"} %llu\n", (unsigned long long)s->ups);
	fprintf(f, "wgdp_scale_events_total{event=\"down\"} %llu\n", (unsigned long long)s->downs);
	family(f, "buckets_migrated_total", "counter", "Buckets of peers moved between workers.");
	fprintf(f, "wgdp_buckets_migrated_total %llu\n", (unsigned long long)s->buckets_moved);
}

/* the peer tables: writer-only figures, read here on the control thread */
static void tables(FILE *f, struct wgdp *dev)
{
	static const char *const slab_name[3] = { "peer", "session", "handshake" };
	struct wg_slab *slabs[3] = { &dev->peer_slab, &dev->session_slab, &dev->ephemeral_slab };
	struct wg_allowedips_stats st;
	struct wg_slab_stats ss[3];

	wg_allowedips_get_stats(dev->aip, &st);
	family(f, "allowed_ips", "gauge", "Allowed-IP prefixes in the table.");
	fprintf(f, "wgdp_allowed_ips{family=\"ipv4\"} %zu\n", st.prefixes4);
	fprintf(f, "wgdp_allowed_ips{family=\"ipv6\"} %zu\n", st.prefixes6);
	family(f, "allowed_ips_bytes", "gauge", "Bytes of the allowed-IP trie and its IPv4 lookup table.");
	fprintf(f, "wgdp_allowed_ips_bytes %zu\n", st.bytes);
	family(f, "allowed_ips_v4_tables", "gauge", "Second- and third-level tables of the IPv4 lookup table.");
	fprintf(f, "wgdp_allowed_ips_v4_tables %zu\n", st.v4_tables);
	family(f, "allowed_ips_v4_trie_slots", "gauge",
	       "IPv4 /16s looked up in the trie: their tables were over budget or out of memory.");
	fprintf(f, "wgdp_allowed_ips_v4_trie_slots %zu\n", st.v4_trie_slots);
	family(f, "indices", "gauge", "Receiver indices in use (sessions and handshakes).");
	fprintf(f, "wgdp_indices %u\n", wg_index_count(dev->index));
	family(f, "slab_objects", "gauge",
	       "Objects handed out by the peer, session and handshake (ephemeral state in flight) slabs.");
	for (int i = 0; i < 3; i++) {
		wg_slab_stats(slabs[i], &ss[i]);
		fprintf(f, "wgdp_slab_objects{slab=\"%s\"} %llu\n", slab_name[i], (unsigned long long)ss[i].objects);
	}
	family(f, "slab_bytes", "gauge", "Bytes the peer, session and handshake slabs hold from the DPDK heap.");
	for (int i = 0; i < 3; i++)
		fprintf(f, "wgdp_slab_bytes{slab=\"%s\"} %llu\n", slab_name[i], (unsigned long long)ss[i].bytes);
}

void wg_api_metrics(struct wgdp *dev, struct wg_api_request *r)
{
	static struct lcore_view v[WG_MAX_WORKERS + 2];
	static struct wg_lcore_counters sum;
	char *text = NULL;
	size_t len = 0;
	unsigned n = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		wg_api_error(r, 503, "out_of_memory", "out of memory");
		return;
	}
	wg_stats_sum(dev, &sum);
	snprintf(v[n].labels, sizeof(v[n].labels), "lcore=\"all\",role=\"all\"");
	v[n++].c = &sum;
	snprintf(v[n].labels, sizeof(v[n].labels), "lcore=\"%u\",role=\"control\"", rte_lcore_id());
	v[n++].c = &dev->control_cnt;
	for (unsigned i = 0; i < dev->n_workers; i++) {
		snprintf(v[n].labels, sizeof(v[n].labels), "lcore=\"%u\",role=\"worker\"", dev->workers[i].lcore_id);
		v[n++].c = &dev->workers[i].cnt;
	}
	family(f, "up", "gauge", "1 while wgdp runs.");
	fprintf(f, "wgdp_up 1\n");
	family(f, "uptime_seconds", "gauge", "Seconds since start.");
	fprintf(f, "wgdp_uptime_seconds %llu\n", (unsigned long long)((wg_now_ns() - dev->start_ns) / 1000000000ull));
	family(f, "peers", "gauge", "Configured peers.");
	fprintf(f, "wgdp_peers %u\n", dev->n_peers);
	family(f, "workers", "gauge", "Worker lcores.");
	fprintf(f, "wgdp_workers %u\n", dev->n_workers);
	workers(f, dev);
	tables(f, dev);
	family(f, "state_changes_total", "counter", "Changes written to the state file since start.");
	fprintf(f, "wgdp_state_changes_total %llu\n", (unsigned long long)dev->state_changes);
	family(f, "address_pool_used", "gauge", "Addresses taken in each pool.");
	for (int i = 0; i < 2; i++)
		if (dev->pools[i]) {
			char text4[48];

			wg_conf_format_prefix(text4, wg_pool_prefix(dev->pools[i]));
			fprintf(f, "wgdp_address_pool_used{pool=\"%s\"} %llu\n", text4,
				(unsigned long long)wg_pool_used(dev->pools[i]));
		}
	counters(f, v, n);
	if (dev->conf.appliance.metrics_per_peer)
		peers(f, dev);
	fclose(f);
	r->status = 200;
	r->text = text;
	r->text_len = len;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
