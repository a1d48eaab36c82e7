/* SPDX-License-Identifier: MIT */
/*
 * The REST API's answers (docs/api.md), on the control thread: it reads the
 * peer table and the configuration directly, and changes them only through
 * wg_change_apply(), whose errors map to statuses here:
 *   -EINVAL 400 invalid_value, -EEXIST 409 peer_exists, -EADDRINUSE 409
 *   address_in_use, -ENOSPC 409 pool_exhausted, -EDQUOT 409 too_many_peers,
 *   -EIO 503 state_file, -ENOMEM 503 out_of_memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "conf/key.h"
#include "conf/model_json.h"
#include "conf/parse_util.h"
#include "conf/pool.h"
#include "control/api_internal.h"
#include "control/change.h"
#include "control/peer_conf.h"
#include "control/peers.h"
#include "control/stats.h"
#include "crypto/secure.h"
#include "crypto/x25519.h"
#include "dataplane/wgdp.h"

#define MAX_PAGE 100000u

static void change_error(struct wg_api_request *r, int ret, const char *err)
{
	switch (ret) {
	case -EINVAL:
		wg_api_error(r, 400, "invalid_value", "%s", err);
		break;
	case -EEXIST:
		wg_api_error(r, 409, "peer_exists", "%s", err);
		break;
	case -EADDRINUSE:
		wg_api_error(r, 409, "address_in_use", "%s", err);
		break;
	case -ENOSPC:
		wg_api_error(r, 409, "pool_exhausted", "%s", err);
		break;
	case -EDQUOT:
		wg_api_error(r, 409, "too_many_peers", "%s", err);
		break;
	case -EIO:
		wg_api_error(r, 503, "state_file", "%s", err);
		break;
	default:
		wg_api_error(r, 503, "out_of_memory", "%s", err[0] ? err : "out of memory");
	}
}

static json_t *key_json(const uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(b64, key);
	return json_string(b64);
}

/* a peer as the API shows it: its configuration and its live figures */
static json_t *peer_json(const struct wg_peer *p)
{
	struct wg_conf_peer c;
	json_t *o;
	struct wg_peer_stats st;
	char ep[WG_CONF_ENDPOINT_STR];

	wg_peer_conf_view(p, &c); /* shallow: the lists are only read */
	o = wg_json_from_peer(&c, 0);
	wg_secure_wipe(&c, sizeof(c));
	if (!o)
		return NULL;
	wg_stats_peer(p, &st);
	if (st.endpoint.family) {
		wg_conf_format_endpoint(ep, &st.endpoint);
		json_object_set_new(o, "current_endpoint", json_string(ep));
	} else {
		json_object_set_new(o, "current_endpoint", json_null());
	}
	json_object_set_new(o, "latest_handshake", json_integer((json_int_t)(st.last_handshake_ns / 1000000000ull)));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)st.rx_bytes));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)st.tx_bytes));
	json_object_set_new(o, "rx_packets", json_integer((json_int_t)st.rx_packets));
	json_object_set_new(o, "tx_packets", json_integer((json_int_t)st.tx_packets));
	return o;
}

/* ---- /api/v1, /health, /stats ---- */

static void get_index(struct wg_api_request *r)
{
	static const char *const names[] = { "GET", "POST", "PATCH", "DELETE" };
	json_t *routes = json_array();

	for (int i = 0; routes && i < WG_API_N_ROUTES; i++) {
		json_t *m = json_array();

		for (unsigned b = 0; b < 4; b++)
			if (wg_api_routes[i].methods & (1u << b))
				json_array_append_new(m, json_string(names[b]));
		json_array_append_new(routes, json_pack("{s:s,s:o,s:b}", "path", wg_api_routes[i].path, "methods", m,
							"authenticated", !wg_api_routes[i].public));
	}
	wg_api_json(r, 200, json_pack("{s:s,s:o}", "api", "wgdp/v1", "routes", routes));
}

static void get_health(struct wgdp *dev, struct wg_api_request *r)
{
	uint64_t up = (wg_now_ns() - dev->start_ns) / 1000000000ull;

	wg_api_json(r, 200,
		    json_pack("{s:s,s:I,s:I,s:I,s:b,s:I}", "status", "ok", "uptime_seconds", (json_int_t)up, "peers",
			      (json_int_t)dev->n_peers, "workers", (json_int_t)dev->n_workers, "persistent",
			      dev->state != NULL, "state_changes", (json_int_t)dev->state_changes));
}

static json_t *counters_json(const struct wg_lcore_counters *c)
{
	json_t *drops = json_object(), *l3 = json_object();

	for (unsigned d = 0; d < WG_DROP_MAX; d++)
		json_object_set_new(drops, wg_drop_names[d], json_integer((json_int_t)c->drops[d]));
	for (unsigned d = 0; d < WG_L3_DROP_MAX; d++)
		json_object_set_new(l3, wg_l3_drop_name(d), json_integer((json_int_t)c->l3_drops[d]));
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "rx_packets", (json_int_t)c->rx_packets,
			 "rx_bytes", (json_int_t)c->rx_bytes, "tx_packets", (json_int_t)c->tx_packets, "tx_bytes",
			 (json_int_t)c->tx_bytes, "keepalives_rx", (json_int_t)c->keepalives_rx, "keepalives_tx",
			 (json_int_t)c->keepalives_tx, "handshakes_rx", (json_int_t)c->handshakes_rx, "handshakes_tx",
			 (json_int_t)c->handshakes_tx, "cookies_tx", (json_int_t)c->cookies_tx, "arp_nd_replies",
			 (json_int_t)c->arp_nd_replies, "echo_replies", (json_int_t)c->echo_replies, "drops", drops,
			 "outside_drops", l3);
}

static void get_stats(struct wgdp *dev, struct wg_api_request *r)
{
	struct wg_lcore_counters sum;
	json_t *lcores = json_array();

	json_array_append_new(lcores, json_pack("{s:I,s:s,s:o}", "lcore", (json_int_t)rte_lcore_id(), "role", "control",
						"counters", counters_json(&dev->control_cnt)));
	for (unsigned i = 0; i < dev->n_workers; i++)
		json_array_append_new(lcores,
				      json_pack("{s:I,s:s,s:I,s:o}", "lcore", (json_int_t)dev->workers[i].lcore_id,
						"role", "worker", "worker", (json_int_t)i, "counters",
						counters_json(&dev->workers[i].cnt)));
	wg_stats_sum(dev, &sum);
	wg_api_json(r, 200,
		    json_pack("{s:o,s:o,s:I}", "total", counters_json(&sum), "lcores", lcores, "peers",
			      (json_int_t)dev->n_peers));
}

/*
 * A body the codec refused: its return says what kind of fault, and for
 * bad values the message starts with the field's name (ours, never the
 * client's text: unknown fields are -ENOENT), which picks the code.
 */
static void body_error(struct wg_api_request *r, int ret, const char *err)
{
	if (ret == -ENOMEM)
		wg_api_error(r, 503, "out_of_memory", "%s", err);
	else if (ret == -ENOENT)
		wg_api_error(r, 400, "unknown_field", "%s", err);
	else if (ret == -EROFS)
		wg_api_error(r, 400, "read_only_field", "%s", err);
	else if (!strncmp(err, "public_key:", 11))
		wg_api_error(r, 400, "invalid_key", "%s", err);
	else if (!strncmp(err, "allowed_ips:", 12) || !strncmp(err, "addresses:", 10))
		wg_api_error(r, 400, "invalid_cidr", "%s", err);
	else
		wg_api_error(r, 400, "invalid_value", "%s", err);
}

/* ---- /interface ---- */

static json_t *interface_json(struct wgdp *dev)
{
	struct wg_conf_device d = dev->conf.device;
	json_t *o, *usage = json_array();

	d.listen_port = dev->listen_port;
	o = wg_json_from_interface(&d, &dev->conf.inside, 0);
	if (!o)
		return NULL;
	json_object_set_new(o, "public_key", dev->identity.has_identity ? key_json(dev->identity.public_key) : json_null());
	json_object_set_new(o, "mtu", json_integer(dev->conf.inside.mtu));
	json_object_set_new(o, "peers", json_integer(dev->n_peers));
	for (int i = 0; i < 2; i++) {
		char text[WG_CONF_PREFIX_STR];

		if (!dev->pools[i])
			continue;
		wg_conf_format_prefix(text, wg_pool_prefix(dev->pools[i]));
		json_array_append_new(usage, json_pack("{s:s,s:I,s:I}", "prefix", text, "capacity",
						       (json_int_t)(wg_pool_capacity(dev->pools[i]) > INT64_MAX
								    ? INT64_MAX
								    : wg_pool_capacity(dev->pools[i])),
						       "used", (json_int_t)wg_pool_used(dev->pools[i])));
	}
	json_object_set_new(o, "address_pool_usage", usage);
	return o;
}

static void patch_interface(struct wgdp *dev, struct wg_api_request *r)
{
	struct wg_conf_device d = { 0 };
	struct wg_conf_inside in = { 0 };
	char err[512];
	bool gen = false;
	int ret = wg_json_to_interface(r->body, WG_JSON_PATCH, &d, &in, &gen, err, sizeof(err));

	if (ret) {
		body_error(r, ret, err);
		return;
	}
	if (gen)
		wg_x25519_generate(d.private_key);
	d.flags |= WG_CONF_DEVICE_NO_STEAL;
	ret = wg_change_apply(dev, &d, &in, NULL, err, sizeof(err));
	wg_conf_device_free(&d);
	free(in.addresses.v); /* wg_change_apply copies both lists */
	free(in.pools.v);
	if (ret)
		change_error(r, ret, err);
	else
		wg_api_json(r, 200, interface_json(dev));
}

/* ---- /peers ---- */

static bool page_param(struct wg_api_request *r, const char *name, const char *v, uint64_t max, uint64_t *out)
{
	const char *why;

	if (!v)
		return true;
	if (!wg_conf_parse_uint(v, max, out, &why)) {
		wg_api_error(r, 400, "invalid_value", "%s: `%.40s' is not a number 0-%llu", name, v,
			     (unsigned long long)max);
		return false;
	}
	return true;
}

static void get_peers(struct wgdp *dev, struct wg_api_request *r)
{
	uint64_t offset = 0, limit = MAX_PAGE, i = 0;
	json_t *a = json_array();

	if (!page_param(r, "offset", r->q_offset, UINT32_MAX, &offset) ||
	    !page_param(r, "limit", r->q_limit, MAX_PAGE, &limit)) {
		json_decref(a);
		return;
	}
	for (const struct wg_peer *p = dev->peers; p && a; p = p->list_next, i++) {
		if (i < offset)
			continue;
		if (json_array_size(a) >= limit)
			break;
		if (json_array_append_new(a, peer_json(p))) {
			json_decref(a);
			a = NULL;
		}
	}
	wg_api_json(r, 200, a ? json_pack("{s:o,s:I,s:I}", "peers", a, "total", (json_int_t)dev->n_peers, "offset",
					  (json_int_t)offset)
			      : NULL);
}

static bool parse_peer_body(struct wg_api_request *r, enum wg_json_mode mode, struct wg_conf_peer *cp, bool *gen_psk)
{
	char err[512];
	int ret = wg_json_to_peer(r->body, mode, cp, gen_psk, err, sizeof(err));

	if (!ret)
		return true;
	body_error(r, ret, err);
	return false;
}

/* apply one peer delta; on success answer with the peer (status) */
static void apply_peer(struct wgdp *dev, struct wg_api_request *r, struct wg_conf_peer *cp, unsigned status)
{
	struct wg_conf_device d = { .flags = WG_CONF_DEVICE_NO_STEAL, .peers = cp, .n_peers = 1, .cap_peers = 1 };
	const struct wg_peer *p;
	char err[512], b64[WG_KEY_B64_LEN + 1];
	int ret = wg_change_apply(dev, &d, NULL, NULL, err, sizeof(err));

	if (ret) {
		change_error(r, ret, err);
		return;
	}
	p = wg_peers_lookup(dev, cp->public_key);
	if (!p) { /* a removal */
		r->status = 204;
		return;
	}
	if (status == 201) {
		wg_key_to_base64(b64, wg_peer_public_key(p));
		for (char *c = b64; *c; c++) /* the URL-safe form needs no escaping */
			*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
		snprintf(r->location, sizeof(r->location), "/api/v1/peers/%s", b64);
	}
	wg_api_json(r, status, peer_json(p));
}

static void post_peer(struct wgdp *dev, struct wg_api_request *r)
{
	struct wg_conf_peer cp = { 0 };
	bool gen_psk = false;

	if (!parse_peer_body(r, WG_JSON_CREATE, &cp, &gen_psk))
		return;
	if (!json_object_get(r->body, "public_key")) {
		/* the server makes the client's keypair; /config hands the private key out */
		wg_x25519_generate(cp.client_private_key);
		wg_x25519_public(cp.public_key, cp.client_private_key);
		cp.flags |= WG_CONF_PEER_HAS_CLIENT_KEY;
	}
	if (gen_psk)
		wg_secure_random(cp.preshared_key, WG_KEY_LEN);
	if (!(cp.flags & WG_CONF_PEER_HAS_ADDRESSES)) {
		/* no addresses given: one from each pool there is */
		if (dev->pools[0])
			cp.flags |= WG_CONF_PEER_ALLOCATE_IPV4;
		if (dev->pools[1])
			cp.flags |= WG_CONF_PEER_ALLOCATE_IPV6;
	}
	cp.flags |= WG_CONF_PEER_CREATE_ONLY;
	apply_peer(dev, r, &cp, 201);
	wg_conf_peer_free(&cp);
}

static void patch_peer(struct wgdp *dev, struct wg_api_request *r)
{
	struct wg_conf_peer cp = { 0 };
	bool gen_psk = false;

	if (!parse_peer_body(r, WG_JSON_PATCH, &cp, &gen_psk))
		return;
	memcpy(cp.public_key, r->key, WG_KEY_LEN);
	if (gen_psk)
		wg_secure_random(cp.preshared_key, WG_KEY_LEN);
	cp.flags |= WG_CONF_PEER_UPDATE_ONLY;
	apply_peer(dev, r, &cp, 200);
	wg_conf_peer_free(&cp);
}

static void delete_peer(struct wgdp *dev, struct wg_api_request *r)
{
	struct wg_conf_peer cp = { .flags = WG_CONF_PEER_REMOVE_ME };

	memcpy(cp.public_key, r->key, WG_KEY_LEN);
	apply_peer(dev, r, &cp, 204);
}

/* ---- /peers/{key}/config: the client's wg-quick file ---- */

static void put_list(FILE *f, const char *name, const struct wg_conf_prefixes *l)
{
	char text[WG_CONF_PREFIX_STR];

	if (!l->n)
		return;
	fprintf(f, "%s = ", name);
	for (size_t i = 0; i < l->n; i++) {
		wg_conf_format_prefix(text, &l->v[i]);
		fprintf(f, "%s%s", i ? ", " : "", text);
	}
	fputc('\n', f);
}

/* what the client routes into the tunnel by default: the inside networks and the pools */
static int default_allowed(const struct wgdp *dev, struct wg_conf_prefixes *out)
{
	const struct wg_conf_prefixes *lists[2] = { &dev->conf.inside.addresses, &dev->conf.inside.pools };

	for (int l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			struct wg_conf_prefix p = lists[l]->v[i];
			bool dup = false;

			wg_conf_prefix_mask(&p);
			p.flags = 0;
			for (size_t k = 0; k < out->n && !dup; k++)
				dup = out->v[k].family == p.family && out->v[k].cidr == p.cidr &&
				      !memcmp(out->v[k].addr, p.addr, 16);
			if (!dup && wg_conf_prefixes_add(out, &p))
				return -ENOMEM;
		}
	return 0;
}

static bool config_params(struct wgdp *dev, struct wg_api_request *r, struct wg_conf_prefixes *allowed,
			  char ep[WG_CONF_ENDPOINT_STR + 256], uint64_t *keepalive)
{
	const struct wg_side *out = &dev->out;
	struct wg_endpoint e = { 0 };
	const char *why;

	if (r->q_allowed_ips) {
		char *copy = strdup(r->q_allowed_ips), *save = NULL;

		for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
			struct wg_conf_prefix p;

			if (!wg_json_parse_cidr(t, &p, &why)) {
				wg_api_error(r, 400, "invalid_cidr", "allowed_ips: `%.60s' %s", t, why);
				free(copy);
				return false;
			}
			if (wg_conf_prefixes_add(allowed, &p)) {
				wg_api_error(r, 503, "out_of_memory", "out of memory");
				free(copy);
				return false;
			}
		}
		free(copy);
	} else if (default_allowed(dev, allowed)) {
		wg_api_error(r, 503, "out_of_memory", "out of memory");
		return false;
	}
	if (r->q_endpoint) {
		/* a name is fine here (a public DNS name for the concentrator): only checked for shape */
		size_t n = strlen(r->q_endpoint);

		if (n > 255 || !strrchr(r->q_endpoint, ':') ||
		    strspn(r->q_endpoint, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:-[]") != n) {
			wg_api_error(r, 400, "invalid_value", "endpoint: `%.60s' is not host:port", r->q_endpoint);
			return false;
		}
		snprintf(ep, WG_CONF_ENDPOINT_STR + 256, "%s", r->q_endpoint);
	} else {
		e.port = rte_cpu_to_be_16(dev->listen_port);
		e.family = out->own4.family ? AF_INET : AF_INET6;
		memcpy(e.addr, out->own4.family ? out->own4.addr : out->own6.addr, 16);
		wg_conf_format_endpoint(ep, &e);
	}
	if (r->q_dns) {
		/* addresses and search domains: letters, digits, '.', ':', '-', ',' (nothing that ends the line) */
		size_t n = strlen(r->q_dns);

		if (!n || n > 200 || strspn(r->q_dns, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:-,") != n) {
			wg_api_error(r, 400, "invalid_value",
				     "dns: a comma-separated list of addresses or domains (letters, digits, `.:-'), at most 200 characters");
			return false;
		}
	}
	if (r->q_keepalive && !wg_conf_parse_uint(r->q_keepalive, 65535, keepalive, &why)) {
		wg_api_error(r, 400, "invalid_value", "persistent_keepalive: `%.20s' is not 0-65535", r->q_keepalive);
		return false;
	}
	return true;
}

static void get_config(struct wgdp *dev, struct wg_api_request *r)
{
	const struct wg_peer *p = wg_peers_lookup(dev, r->key);
	struct wg_conf_prefixes allowed = { 0 };
	struct wg_conf_peer c;
	char ep[WG_CONF_ENDPOINT_STR + 256], b64[WG_KEY_B64_LEN + 1];
	uint64_t keepalive = 0;
	size_t len = 0;
	char *text = NULL;
	FILE *f;

	if (!p) {
		wg_api_error(r, 404, "not_found", "no such peer");
		return;
	}
	if (!config_params(dev, r, &allowed, ep, &keepalive)) {
		free(allowed.v);
		return;
	}
	f = open_memstream(&text, &len);
	if (!f) {
		free(allowed.v);
		wg_api_error(r, 503, "out_of_memory", "out of memory");
		return;
	}
	wg_peer_conf_view(p, &c); /* shallow: the lists are only read */
	wg_key_to_base64(b64, c.public_key);
	fprintf(f, "# wgdp client configuration for peer %s%s%s\n[Interface]\n", b64, c.name[0] ? ": " : "",
		c.name);
	if (!wg_secure_is_zero(c.client_private_key, WG_KEY_LEN)) {
		wg_key_to_base64(b64, c.client_private_key);
		fprintf(f, "PrivateKey = %s\n", b64);
	} else {
		fprintf(f, "# PrivateKey = (the client's own: the server never had it)\n");
	}
	put_list(f, "Address", &c.addresses);
	fprintf(f, "MTU = %u\n", dev->conf.inside.mtu);
	if (r->q_dns)
		fprintf(f, "DNS = %s\n", r->q_dns); /* checked in config_params: no line breaks */
	fprintf(f, "\n[Peer]\n");
	wg_key_to_base64(b64, dev->identity.public_key);
	fprintf(f, "PublicKey = %s\n", b64);
	if (!wg_secure_is_zero(c.preshared_key, WG_KEY_LEN)) {
		wg_key_to_base64(b64, c.preshared_key);
		fprintf(f, "PresharedKey = %s\n", b64);
	}
	put_list(f, "AllowedIPs", &allowed);
	fprintf(f, "Endpoint = %s\n", ep);
	if (keepalive)
		fprintf(f, "PersistentKeepalive = %llu\n", (unsigned long long)keepalive);
	wg_secure_wipe(b64, sizeof(b64));
	wg_secure_wipe(&c, sizeof(c));
	fclose(f);
	free(allowed.v);
	r->status = 200;
	r->text = text;
	r->text_len = len;
	r->content_type = "text/plain; charset=utf-8";
}

void wg_api_handle(struct wgdp *dev, struct wg_api_request *r)
{
	const struct wg_peer *p;

	switch (r->route) {
	case WG_API_INDEX:
		get_index(r);
		return;
	case WG_API_HEALTH:
		get_health(dev, r);
		return;
	case WG_API_STATS:
		get_stats(dev, r);
		return;
	case WG_API_METRICS:
		wg_api_metrics(dev, r);
		return;
	case WG_API_LCORES:
		wg_api_lcores(dev, r);
		return;
	case WG_API_INTERFACE:
		if (r->method == WG_API_PATCH)
			patch_interface(dev, r);
		else
			wg_api_json(r, 200, interface_json(dev));
		return;
	case WG_API_PEERS:
		if (r->method == WG_API_POST)
			post_peer(dev, r);
		else
			get_peers(dev, r);
		return;
	case WG_API_PEER:
		p = wg_peers_lookup(dev, r->key);
		if (!p)
			wg_api_error(r, 404, "not_found", "no such peer");
		else if (r->method == WG_API_GET)
			wg_api_json(r, 200, peer_json(p));
		else if (r->method == WG_API_PATCH)
			patch_peer(dev, r);
		else
			delete_peer(dev, r);
		return;
	case WG_API_PEER_CONFIG:
		get_config(dev, r);
		return;
	default:
		wg_api_error(r, 404, "not_found", "no such resource");
	}
}
