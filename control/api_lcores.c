/* SPDX-License-Identifier: MIT */
/*
 * /api/v1/lcores: the layout (ports, queues, workers, NUMA sockets), each
 * worker's state and load, the autoscaler's limits, migrations and history
 * (GET); new limits (PATCH). Runs on the control thread (wg_call).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <rte_lcore.h>

#include "control/api_internal.h"
#include "control/scale.h"
#include "dataplane/wgdp.h"

static json_t *time_json(uint64_t realtime_ns)
{
	time_t t = (time_t)(realtime_ns / 1000000000ull);
	struct tm tm;
	char buf[64];

	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(realtime_ns / 1000000ull % 1000));
	return json_string(buf);
}

static json_t *port_json(const struct wg_side *side, const char *name)
{
	return json_pack("{s:s,s:I,s:s,s:s,s:i,s:I,s:I,s:s}", "side", name, "port", (json_int_t)side->port.port_id,
			 "name", side->port.name, "driver", side->port.driver, "socket", side->port.socket_id,
			 "rx_queues", (json_int_t)side->port.n_rxq, "tx_queues", (json_int_t)side->port.n_txq,
			 "control_tx", side->ctl_tx ? "through worker 0" : "own queue");
}

static json_t *worker_json(const struct wgdp *dev, unsigned i, const unsigned *buckets, const unsigned *peers)
{
	const struct wg_worker *w = &dev->workers[i];
	json_t *rx = json_array();
	uint64_t busy = __atomic_load_n(&w->busy_tsc, __ATOMIC_RELAXED);
	uint64_t total = __atomic_load_n(&w->total_tsc, __ATOMIC_RELAXED);

	for (unsigned q = 0; q < dev->n_rxqs; q++)
		if (__atomic_load_n(&dev->rxqs[q].poller, __ATOMIC_RELAXED) == i) {
			char name[32];

			snprintf(name, sizeof(name), "%s:%u", dev->rxqs[q].outside ? "outside" : "inside",
				 dev->rxqs[q].queue);
			json_array_append_new(rx, json_string(name));
		}
	json_t *o = json_pack("{s:I,s:I,s:i,s:s,s:b,s:f,s:f,s:o,s:I,s:I,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "worker",
			 (json_int_t)i, "lcore", (json_int_t)w->lcore_id, "socket", w->socket_id, "state",
			 wg_scale_state_name(__atomic_load_n(&w->state, __ATOMIC_RELAXED)), "active",
			 dev->scale->active[i], "load_percent", __atomic_load_n(&w->load, __ATOMIC_RELAXED) / 10.0,
			 "busy_percent", total ? 100.0 * (double)busy / (double)total : 0.0, "rx_queues", rx,
			 "tx_queue_outside", (json_int_t)w->txq_out, "tx_queue_inside", (json_int_t)w->txq_in, "tx_shared",
			 w->txlock_out || w->txlock_in, "buckets", (json_int_t)buckets[i], "peers", (json_int_t)peers[i],
			 "handed_off", (json_int_t)__atomic_load_n(&w->handed_off, __ATOMIC_RELAXED), "held",
			 (json_int_t)__atomic_load_n(&w->held, __ATOMIC_RELAXED), "parks", (json_int_t)w->parks,
			 "wakeups", (json_int_t)w->wakeups, "rx_packets", (json_int_t)w->cnt.rx_packets, "tx_packets",
			 (json_int_t)w->cnt.tx_packets);
	uint16_t h = __atomic_load_n(&w->helper, __ATOMIC_RELAXED);

	json_object_set_new(o, "helper", json_integer(h == WG_NO_WORKER ? -1 : (json_int_t)h));
	json_object_set_new(o, "spread_sent", json_integer((json_int_t)w->spread_sent));
	json_object_set_new(o, "spread_served", json_integer((json_int_t)w->spread_served));
	json_object_set_new(o, "spread_reclaimed", json_integer((json_int_t)w->spread_reclaimed));
	return o;
}

static json_t *history_json(const struct wg_scale *s)
{
	json_t *h = json_array();
	unsigned n = s->n_hist < WG_SCALE_HISTORY ? s->n_hist : WG_SCALE_HISTORY;

	for (unsigned k = s->n_hist - n; k < s->n_hist; k++) {
		const struct wg_scale_event *e = &s->hist[k % WG_SCALE_HISTORY];

		json_array_append_new(h, json_pack("{s:o,s:s,s:i,s:I,s:I,s:f,s:f,s:f}", "time",
						   time_json(e->realtime_ns), "event", e->what, "worker", e->worker,
						   "active_workers", (json_int_t)e->active, "buckets_moved",
						   (json_int_t)e->buckets_moved, "duration_ms", e->duration_ns / 1e6,
						   "peak_load_percent", e->peak / 10.0, "total_load_percent",
						   e->sum / 10.0));
	}
	return h;
}

static json_t *lcores_json(struct wgdp *dev)
{
	const struct wg_scale *s = dev->scale;
	unsigned buckets[WG_MAX_WORKERS] = { 0 }, peers[WG_MAX_WORKERS] = { 0 };
	json_t *workers = json_array(), *ports = json_array();

	for (unsigned b = 0; b < WG_BUCKETS; b++)
		buckets[dev->bucket_owner[b] % WG_MAX_WORKERS]++;
	for (const struct wg_peer *p = dev->peers; p; p = p->list_next)
		peers[wg_scale_owner(dev, p) % WG_MAX_WORKERS]++;
	for (unsigned i = 0; i < dev->n_workers; i++)
		json_array_append_new(workers, worker_json(dev, i, buckets, peers));
	json_array_append_new(ports, port_json(&dev->out, "outside"));
	json_array_append_new(ports, port_json(&dev->in, "inside"));
	return json_pack("{s:b,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I},s:o,s:o,s:{s:b,s:I,s:I,s:I,s:I},s:o}",
			 "autoscale", s->autoscale, "spread_crypto", wg_scale_spread_name(s->spread), "workers", (json_int_t)dev->n_workers, "active_workers",
			 (json_int_t)s->n_active, "min_workers", (json_int_t)s->p.min_workers, "max_workers",
			 (json_int_t)s->p.max_workers, "scale_up_load_percent", (json_int_t)(s->p.up_permille / 10),
			 "scale_down_load_percent", (json_int_t)(s->p.down_permille / 10), "scale_up_delay_ms",
			 (json_int_t)s->p.up_ms, "scale_down_delay_ms", (json_int_t)s->p.down_ms, "control", "lcore",
			 (json_int_t)rte_lcore_id(), "socket", (json_int_t)rte_socket_id(), "ports", ports, "lcores",
			 workers, "migrations", "in_progress", s->op != NULL, "buckets_moving", (json_int_t)s->n_moving,
			 "buckets_moved_total", (json_int_t)s->buckets_moved, "scale_ups", (json_int_t)s->ups,
			 "scale_downs", (json_int_t)s->downs, "history", history_json(s));
}

/* {"min_workers": n, "max_workers": n, "autoscale": bool}, any of them */
static void patch_lcores(struct wgdp *dev, struct wg_api_request *r)
{
	const struct wg_scale *s = dev->scale;
	json_int_t min = s->p.min_workers, max = s->p.max_workers;
	int autoscale = -1, spread = -1;
	const char *name;
	json_t *v;
	char err[256];

	json_object_foreach(r->body, name, v) {
		if (!strcmp(name, "min_workers") || !strcmp(name, "max_workers")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > WG_MAX_WORKERS) {
				wg_api_error(r, 400, "invalid_value", "%s: an integer 1-%u", name, WG_MAX_WORKERS);
				return;
			}
			*(name[1] == 'i' ? &min : &max) = json_integer_value(v);
		} else if (!strcmp(name, "autoscale")) {
			if (!json_is_boolean(v)) {
				wg_api_error(r, 400, "invalid_value", "autoscale: true or false");
				return;
			}
			autoscale = json_is_true(v);
		} else if (!strcmp(name, "spread_crypto")) {
			const char *t = json_string_value(v);

			spread = !t ? -1 : !strcmp(t, "auto") ? WG_CONF_SPREAD_AUTO : !strcmp(t, "on") ? WG_CONF_SPREAD_ON
					: !strcmp(t, "off") ? WG_CONF_SPREAD_OFF : -1;
			if (spread < 0) {
				wg_api_error(r, 400, "invalid_value", "spread_crypto: \"auto\", \"on\" or \"off\"");
				return;
			}
		} else {
			wg_api_error(r, 400, "unknown_field", "%.64s: not a field of the lcores (min_workers, "
				     "max_workers, autoscale, spread_crypto)", name);
			return;
		}
	}
	if (wg_scale_set(dev, (unsigned)min, (unsigned)max, autoscale, spread, err, sizeof(err))) {
		wg_api_error(r, 400, "invalid_value", "%s", err);
		return;
	}
	wg_api_json(r, 200, lcores_json(dev));
}

void wg_api_lcores(struct wgdp *dev, struct wg_api_request *r)
{
	if (r->method == WG_API_PATCH)
		patch_lcores(dev, r);
	else
		wg_api_json(r, 200, lcores_json(dev));
}
