/* SPDX-License-Identifier: MIT */
/*
 * The [Appliance] section: wgdp's own settings, which neither wg nor
 * wg-quick know. The ports are DPDK devargs; the outside addresses and
 * gateways are wgdp's own (it answers ARP and ND for them); lcores and sizes
 * are fixed at start. Checks that relate keys to each other (a gateway on
 * the subnet of an address, InsideGateway only with InsideDevice, the
 * control lcore not among the workers) run after the whole file is read,
 * since sections and keys may come in any order.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "conf/config_parser.h"
#include "conf/parse_util.h"

static int family_index(uint8_t family)
{
	return family == AF_INET6;
}

static bool parse_device(struct wg_conf_parser *p, char *v, char out[WG_CONF_DEVARGS_MAX])
{
	const char *why;

	if (!wg_conf_check_devargs(v, &why))
		return wg_conf_fail_value(p, p->raw, why);
	memcpy(out, v, strlen(v) + 1);
	return true;
}

static bool parse_outside_device(struct wg_conf_parser *p, char *v)
{
	return parse_device(p, v, p->conf.appliance.outside_device);
}

static bool parse_inside_device(struct wg_conf_parser *p, char *v)
{
	wg_conf_defer(&p->inside_dev, p->line, p->raw);
	return parse_device(p, v, p->conf.appliance.inside_device);
}

static bool parse_inside_interface(struct wg_conf_parser *p, char *v)
{
	const char *why;

	if (!wg_conf_check_ifname(v, &why))
		return wg_conf_fail_value(p, p->raw, why);
	memcpy(p->conf.appliance.inside_interface, v, strlen(v) + 1);
	wg_conf_defer(&p->inside_iface, p->line, p->raw);
	return true;
}

static bool outside_address_one(struct wg_conf_parser *p, char *item)
{
	struct wg_conf_appliance *a = &p->conf.appliance;
	struct wg_conf_prefix pfx, *slot;
	const char *why;
	int fi;

	if (!wg_conf_parse_prefix(item, true, &pfx, &why))
		return wg_conf_fail_value(p, item, why);
	if (!wg_conf_addr_is_unicast(pfx.family, pfx.addr))
		return wg_conf_fail_value(p, item, "not a unicast address");
	if (pfx.cidr == 0)
		return wg_conf_fail_value(p, item, "prefix length 0 leaves no subnet");
	fi = family_index(pfx.family);
	slot = fi ? &a->outside_addr6 : &a->outside_addr4;
	if (slot->family)
		return wg_conf_fail(
			p,
			"Second %s OutsideAddress `%s' (first `%s' on line %u): at most one per family",
			fi ? "IPv6" : "IPv4", item, p->outside_addr[fi].text,
			p->outside_addr[fi].line);
	*slot = pfx;
	wg_conf_defer(&p->outside_addr[fi], p->line, item);
	return true;
}

static bool parse_outside_address(struct wg_conf_parser *p, char *v)
{
	return wg_conf_each_item(p, v, outside_address_one);
}

static bool gateway_one(struct wg_conf_parser *p, char *item, struct wg_conf_prefix *gw4,
			struct wg_conf_prefix *gw6, struct wg_conf_deferred d[2])
{
	struct wg_conf_prefix g = { 0 };
	const char *why;
	int fi;

	if (!wg_conf_parse_addr(item, &g.family, g.addr, &why))
		return wg_conf_fail_value(p, item, why);
	if (!wg_conf_addr_is_unicast(g.family, g.addr))
		return wg_conf_fail_value(p, item, "not a unicast address");
	fi = family_index(g.family);
	g.cidr = fi ? 128 : 32;
	if ((fi ? gw6 : gw4)->family)
		return wg_conf_fail(
			p, "Second %s %s `%s' (first `%s' on line %u): at most one per family",
			fi ? "IPv6" : "IPv4", p->key->name, item, d[fi].text, d[fi].line);
	*(fi ? gw6 : gw4) = g;
	wg_conf_defer(&d[fi], p->line, item);
	return true;
}

static bool outside_gw_one(struct wg_conf_parser *p, char *item)
{
	struct wg_conf_appliance *a = &p->conf.appliance;

	return gateway_one(p, item, &a->outside_gw4, &a->outside_gw6, p->outside_gw);
}

static bool inside_gw_one(struct wg_conf_parser *p, char *item)
{
	struct wg_conf_appliance *a = &p->conf.appliance;

	return gateway_one(p, item, &a->inside_gw4, &a->inside_gw6, p->inside_gw);
}

static bool parse_outside_gateway(struct wg_conf_parser *p, char *v)
{
	return wg_conf_each_item(p, v, outside_gw_one);
}

static bool parse_inside_gateway(struct wg_conf_parser *p, char *v)
{
	return wg_conf_each_item(p, v, inside_gw_one);
}

static bool parse_workers(struct wg_conf_parser *p, char *v)
{
	struct wg_conf_appliance *a = &p->conf.appliance;
	const char *why;

	if (!wg_conf_parse_lcores(v, a->workers, &a->n_workers, &why)) {
		a->n_workers = 0;
		return wg_conf_fail_value(p, p->raw, why);
	}
	return true;
}

static bool parse_control_lcore(struct wg_conf_parser *p, char *v)
{
	uint64_t n;

	if (!wg_conf_number(p, v, 0, WG_CONF_MAX_LCORES - 1, &n))
		return false;
	p->conf.appliance.has_control_lcore = true;
	p->conf.appliance.control_lcore = (uint16_t)n;
	wg_conf_defer(&p->control, p->line, p->raw);
	return true;
}

static bool parse_ring_size(struct wg_conf_parser *p, char *v)
{
	return wg_conf_pow2(p, v, 64, 65536, &p->conf.appliance.ring_size);
}

static bool parse_mempool_size(struct wg_conf_parser *p, char *v)
{
	uint64_t n;

	if (!wg_conf_number(p, v, 1023, 1048575, &n))
		return false;
	p->conf.appliance.mempool_size = (uint32_t)n;
	return true;
}

static bool parse_burst_size(struct wg_conf_parser *p, char *v)
{
	uint64_t n;

	if (!wg_conf_number(p, v, 1, 256, &n))
		return false;
	p->conf.appliance.burst_size = (uint32_t)n;
	return true;
}

static bool parse_handshake_queue(struct wg_conf_parser *p, char *v)
{
	return wg_conf_pow2(p, v, 64, 65536, &p->conf.appliance.handshake_queue);
}

static bool parse_max_peers(struct wg_conf_parser *p, char *v)
{
	uint64_t n;

	if (!wg_conf_number(p, v, 1, WG_CONF_MAX_MAX_PEERS, &n))
		return false;
	p->conf.appliance.max_peers = (uint32_t)n;
	return true;
}

static bool parse_neigh_reachable(struct wg_conf_parser *p, char *v)
{
	uint64_t n;

	if (!wg_conf_number(p, v, 1, WG_CONF_MAX_NEIGH_REACHABLE, &n))
		return false;
	p->conf.appliance.neigh_reachable = (uint32_t)n;
	return true;
}

/* a file name: printable, no control bytes, shorter than WG_CONF_PATH_MAX */
static bool parse_path(struct wg_conf_parser *p, char out[WG_CONF_PATH_MAX])
{
	const char *v = p->raw;
	size_t n = strlen(v);

	if (!n)
		return wg_conf_fail_value(p, v, "empty: leave the key out instead");
	if (n >= WG_CONF_PATH_MAX)
		return wg_conf_fail_value(p, v, "longer than 255 bytes");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return wg_conf_fail_value(p, v, "holds a control character");
	if (v[n - 1] == '/')
		return wg_conf_fail_value(p, v, "names a directory, not a file");
	memcpy(out, v, n + 1);
	return true;
}

static bool parse_state_file(struct wg_conf_parser *p, char *v)
{
	(void)v;
	return parse_path(p, p->conf.appliance.state_file);
}

static bool parse_api_token_file(struct wg_conf_parser *p, char *v)
{
	(void)v;
	return parse_path(p, p->conf.appliance.api_token_file);
}

static bool parse_api_tls_cert(struct wg_conf_parser *p, char *v)
{
	(void)v;
	wg_conf_defer(&p->tls_cert, p->line, p->raw);
	return parse_path(p, p->conf.appliance.api_tls_cert);
}

static bool parse_api_tls_key(struct wg_conf_parser *p, char *v)
{
	(void)v;
	wg_conf_defer(&p->tls_key, p->line, p->raw);
	return parse_path(p, p->conf.appliance.api_tls_key);
}

static bool parse_api_listen(struct wg_conf_parser *p, char *v)
{
	const char *why;

	struct wg_endpoint *ep = &p->conf.appliance.api_listen;
	uint64_t port;

	/* every address of the host: 0.0.0.0:port or [::]:port (the endpoint parser wants unicast) */
	if (!strncmp(v, "0.0.0.0:", 8) || !strncmp(v, "[::]:", 5)) {
		const char *ps = v + (v[0] == '0' ? 8 : 5);

		if (!wg_conf_parse_uint(ps, 65535, &port, &why) || !port)
			return wg_conf_fail_value(p, p->raw, "port must be 1-65535");
		memset(ep, 0, sizeof(*ep));
		ep->family = v[0] == '0' ? AF_INET : AF_INET6;
		ep->port = htons((uint16_t)port);
	} else if (!wg_conf_parse_endpoint(v, true, ep, &why)) {
		return wg_conf_fail_value(p, p->raw, why);
	}
	wg_conf_defer(&p->api_listen, p->line, p->raw);
	return true;
}

static bool parse_on_off(struct wg_conf_parser *p, char *v, bool *out)
{
	if (!strcasecmp(v, "on") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"))
		*out = true;
	else if (!strcasecmp(v, "off") || !strcasecmp(v, "false") || !strcasecmp(v, "no"))
		*out = false;
	else
		return wg_conf_fail_value(p, p->raw, "neither on nor off");
	return true;
}

static bool parse_metrics_per_peer(struct wg_conf_parser *p, char *v)
{
	return parse_on_off(p, v, &p->conf.appliance.metrics_per_peer);
}

static bool parse_autoscale(struct wg_conf_parser *p, char *v)
{
	return parse_on_off(p, v, &p->conf.appliance.autoscale);
}

static bool parse_unsigned(struct wg_conf_parser *p, char *v, uint64_t lo, uint64_t hi, unsigned *out)
{
	uint64_t n;

	if (!wg_conf_number(p, v, lo, hi, &n))
		return false;
	*out = (unsigned)n;
	return true;
}

static bool parse_min_workers(struct wg_conf_parser *p, char *v)
{
	return parse_unsigned(p, v, 1, WG_CONF_MAX_LCORES, &p->conf.appliance.min_workers);
}

static bool parse_max_workers(struct wg_conf_parser *p, char *v)
{
	return parse_unsigned(p, v, 1, WG_CONF_MAX_LCORES, &p->conf.appliance.max_workers);
}

static bool parse_scale_up_load(struct wg_conf_parser *p, char *v)
{
	return parse_unsigned(p, v, 1, 100, &p->conf.appliance.scale_up_load);
}

static bool parse_scale_down_load(struct wg_conf_parser *p, char *v)
{
	return parse_unsigned(p, v, 1, 100, &p->conf.appliance.scale_down_load);
}

static bool parse_scale_up_delay(struct wg_conf_parser *p, char *v)
{
	return parse_unsigned(p, v, 0, 600000, &p->conf.appliance.scale_up_delay_ms);
}

static bool parse_spread_crypto(struct wg_conf_parser *p, char *v)
{
	if (!strcasecmp(v, "auto"))
		p->conf.appliance.spread_crypto = WG_CONF_SPREAD_AUTO;
	else if (!strcasecmp(v, "on"))
		p->conf.appliance.spread_crypto = WG_CONF_SPREAD_ON;
	else if (!strcasecmp(v, "off"))
		p->conf.appliance.spread_crypto = WG_CONF_SPREAD_OFF;
	else
		return wg_conf_fail_value(p, p->raw, "not auto, on or off");
	return true;
}

static bool parse_scale_down_delay(struct wg_conf_parser *p, char *v)
{
	return parse_unsigned(p, v, 0, 600000, &p->conf.appliance.scale_down_delay_ms);
}

static bool parse_uapi_interface(struct wg_conf_parser *p, char *v)
{
	const char *why;

	wg_conf_defer(&p->uapi, p->line, p->raw);
	if (!strcasecmp(v, "off")) {
		p->conf.appliance.uapi_name[0] = '\0';
		return true;
	}
	if (!wg_conf_check_ifname(v, &why))
		return wg_conf_fail_value(p, p->raw, why);
	memcpy(p->conf.appliance.uapi_name, v, strlen(v) + 1);
	return true;
}

static bool check_gateway(struct wg_conf_parser *p, const char *keyname,
			  const struct wg_conf_prefix *gw, const struct wg_conf_deferred *d,
			  const struct wg_conf_prefix *nets, size_t n_nets, const char *netkey)
{
	const char *fam = gw->family == AF_INET ? "IPv4" : "IPv6";
	bool have = false;

	if (!gw->family)
		return true;
	for (size_t i = 0; i < n_nets; i++) {
		const struct wg_conf_prefix *net = &nets[i];

		if (net->family != gw->family)
			continue;
		have = true;
		if (!memcmp(net->addr, gw->addr, 16))
			return wg_conf_fail_at(p, d->line, "%s `%s' is our own %s", keyname,
					       d->text, netkey);
		if (wg_conf_addr_is_link_local(gw->family, gw->addr) ||
		    wg_conf_prefix_contains(net, gw->addr))
			return true;
	}
	if (!have)
		return wg_conf_fail_at(p, d->line, "%s `%s' is %s, but there is no %s %s", keyname,
				       d->text, fam, fam, netkey);
	return wg_conf_fail_at(p, d->line, "%s `%s' is not on the subnet of any %s %s", keyname,
			       d->text, fam, netkey);
}

const struct wg_conf_key wg_conf_appliance_keys[] = {
	{ "OutsideDevice", WG_CONF_SEC_APPLIANCE, WG_CONF_K_RAW, parse_outside_device, NULL },
	{ "InsideDevice", WG_CONF_SEC_APPLIANCE, WG_CONF_K_RAW, parse_inside_device, NULL },
	{ "InsideInterface", WG_CONF_SEC_APPLIANCE, WG_CONF_K_RAW, parse_inside_interface, NULL },
	{ "OutsideAddress", WG_CONF_SEC_APPLIANCE, WG_CONF_K_REPEAT, parse_outside_address, NULL },
	{ "OutsideGateway", WG_CONF_SEC_APPLIANCE, WG_CONF_K_REPEAT, parse_outside_gateway, NULL },
	{ "InsideGateway", WG_CONF_SEC_APPLIANCE, WG_CONF_K_REPEAT, parse_inside_gateway, NULL },
	{ "Workers", WG_CONF_SEC_APPLIANCE, 0, parse_workers, NULL },
	{ "ControlLcore", WG_CONF_SEC_APPLIANCE, 0, parse_control_lcore, NULL },
	{ "RingSize", WG_CONF_SEC_APPLIANCE, 0, parse_ring_size, NULL },
	{ "MempoolSize", WG_CONF_SEC_APPLIANCE, 0, parse_mempool_size, NULL },
	{ "BurstSize", WG_CONF_SEC_APPLIANCE, 0, parse_burst_size, NULL },
	{ "HandshakeQueue", WG_CONF_SEC_APPLIANCE, 0, parse_handshake_queue, NULL },
	{ "MaxPeers", WG_CONF_SEC_APPLIANCE, 0, parse_max_peers, NULL },
	{ "NeighbourReachableTime", WG_CONF_SEC_APPLIANCE, 0, parse_neigh_reachable, NULL },
	{ "StateFile", WG_CONF_SEC_APPLIANCE, WG_CONF_K_RAW, parse_state_file, NULL },
	{ "ApiListen", WG_CONF_SEC_APPLIANCE, 0, parse_api_listen, NULL },
	{ "ApiTokenFile", WG_CONF_SEC_APPLIANCE, WG_CONF_K_RAW, parse_api_token_file, NULL },
	{ "ApiTlsCertificate", WG_CONF_SEC_APPLIANCE, WG_CONF_K_RAW, parse_api_tls_cert, NULL },
	{ "ApiTlsKey", WG_CONF_SEC_APPLIANCE, WG_CONF_K_RAW, parse_api_tls_key, NULL },
	{ "MetricsPerPeer", WG_CONF_SEC_APPLIANCE, 0, parse_metrics_per_peer, NULL },
	{ "UapiInterface", WG_CONF_SEC_APPLIANCE, 0, parse_uapi_interface, NULL },
	{ "Autoscale", WG_CONF_SEC_APPLIANCE, 0, parse_autoscale, NULL },
	{ "MinWorkers", WG_CONF_SEC_APPLIANCE, 0, parse_min_workers, NULL },
	{ "MaxWorkers", WG_CONF_SEC_APPLIANCE, 0, parse_max_workers, NULL },
	{ "ScaleUpLoad", WG_CONF_SEC_APPLIANCE, 0, parse_scale_up_load, NULL },
	{ "ScaleDownLoad", WG_CONF_SEC_APPLIANCE, 0, parse_scale_down_load, NULL },
	{ "ScaleUpDelay", WG_CONF_SEC_APPLIANCE, 0, parse_scale_up_delay, NULL },
	{ "ScaleDownDelay", WG_CONF_SEC_APPLIANCE, 0, parse_scale_down_delay, NULL },
	{ "SpreadCrypto", WG_CONF_SEC_APPLIANCE, 0, parse_spread_crypto, NULL },
};
const size_t wg_conf_appliance_n_keys =
	sizeof(wg_conf_appliance_keys) / sizeof(wg_conf_appliance_keys[0]);
_Static_assert(sizeof(wg_conf_appliance_keys) / sizeof(wg_conf_appliance_keys[0]) <=
		       WG_CONF_MAX_APPLIANCE_KEYS,
	       "seen[] too small");

bool wg_conf_appliance_check(struct wg_conf_parser *p)
{
	struct wg_conf_appliance *a = &p->conf.appliance;
	struct wg_conf_prefix outside[2];
	size_t n_out = 0;

	if (!p->appliance_line)
		return wg_conf_fail_at(
			p, 0,
			"No [Appliance] section (wgdp needs OutsideDevice and OutsideAddress)");
	if (!a->outside_device[0])
		return wg_conf_fail_at(p, p->appliance_line, "[Appliance] has no OutsideDevice");
	if (!a->outside_addr4.family && !a->outside_addr6.family)
		return wg_conf_fail_at(p, p->appliance_line, "[Appliance] has no OutsideAddress");
	if (a->inside_device[0] && !strcmp(a->inside_device, a->outside_device))
		return wg_conf_fail_at(p, p->inside_dev.line,
				       "InsideDevice `%s' is the OutsideDevice too",
				       p->inside_dev.text);
	if (a->inside_device[0] && a->inside_interface[0])
		return wg_conf_fail_at(
			p, p->inside_iface.line,
			"InsideInterface `%s' names a TAP interface, but InsideDevice is set",
			p->inside_iface.text);
	if (!a->inside_device[0] && !a->inside_interface[0])
		memcpy(a->inside_interface, WG_CONF_DEFAULT_INSIDE_IFACE,
		       sizeof(WG_CONF_DEFAULT_INSIDE_IFACE));
	if (a->outside_addr4.family)
		outside[n_out++] = a->outside_addr4;
	if (a->outside_addr6.family)
		outside[n_out++] = a->outside_addr6;
	if (!check_gateway(p, "OutsideGateway", &a->outside_gw4, &p->outside_gw[0], outside, n_out,
			   "OutsideAddress") ||
	    !check_gateway(p, "OutsideGateway", &a->outside_gw6, &p->outside_gw[1], outside, n_out,
			   "OutsideAddress"))
		return false;
	for (int fi = 0; fi < 2; fi++)
		if (p->inside_gw[fi].line && !a->inside_device[0])
			return wg_conf_fail_at(
				p, p->inside_gw[fi].line,
				"InsideGateway `%s' needs InsideDevice (a TAP inside is routed by the host)",
				p->inside_gw[fi].text);
	if (!check_gateway(p, "InsideGateway", &a->inside_gw4, &p->inside_gw[0],
			   p->conf.inside.addresses.v, p->conf.inside.addresses.n, "Address") ||
	    !check_gateway(p, "InsideGateway", &a->inside_gw6, &p->inside_gw[1],
			   p->conf.inside.addresses.v, p->conf.inside.addresses.n, "Address"))
		return false;
	if (!p->uapi.line)
		snprintf(a->uapi_name, sizeof(a->uapi_name), "%s",
			 a->inside_interface[0] ? a->inside_interface : WG_CONF_DEFAULT_INSIDE_IFACE);
	if (p->api_listen.line && !a->api_token_file[0])
		return wg_conf_fail_at(p, p->api_listen.line,
				       "ApiListen `%s' needs ApiTokenFile: the REST API always asks for a bearer token",
				       p->api_listen.text);
	if (!!a->api_tls_cert[0] != !!a->api_tls_key[0])
		return wg_conf_fail_at(p, a->api_tls_cert[0] ? p->tls_cert.line : p->tls_key.line,
				       "ApiTlsCertificate and ApiTlsKey go together: %s is missing",
				       a->api_tls_cert[0] ? "ApiTlsKey" : "ApiTlsCertificate");
	if (a->api_tls_cert[0] && !a->api_token_file[0])
		return wg_conf_fail_at(p, p->tls_cert.line,
				       "ApiTlsCertificate needs ApiTokenFile (the REST API is off without it)");
	if (a->min_workers && a->max_workers && a->min_workers > a->max_workers)
		return wg_conf_fail_at(p, p->appliance_line, "MinWorkers %u is above MaxWorkers %u", a->min_workers,
				       a->max_workers);
	if (a->n_workers && (a->min_workers > a->n_workers || a->max_workers > a->n_workers))
		return wg_conf_fail_at(p, p->appliance_line, "%s %u is above the %u lcore(s) of Workers",
				       a->min_workers > a->n_workers ? "MinWorkers" : "MaxWorkers",
				       a->min_workers > a->n_workers ? a->min_workers : a->max_workers, a->n_workers);
	if (a->scale_down_load >= a->scale_up_load)
		return wg_conf_fail_at(p, p->appliance_line,
				       "ScaleDownLoad %u%% must be below ScaleUpLoad %u%% (or workers would flap)",
				       a->scale_down_load, a->scale_up_load);
	if (a->has_control_lcore) {
		for (unsigned i = 0; i < a->n_workers; i++)
			if (a->workers[i] == a->control_lcore)
				return wg_conf_fail_at(
					p, p->control.line,
					"ControlLcore `%s' is also one of the Workers",
					p->control.text);
	}
	return true;
}
