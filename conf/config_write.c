/* SPDX-License-Identifier: MIT */
/*
 * A wg_conf as a config file, for persistence and `wg showconf`. The output
 * parses back to an equal wg_conf: every value is written in the form the
 * parser reads, lists are split over lines of a few entries (the parser
 * accumulates repeated Address, AllowedIPs and OutsideAddress lines) so no
 * line comes near WG_CONF_MAX_LINE, and defaults are written out too.
 */
#include "conf/config.h"

#include <errno.h>
#include <sys/socket.h>

#include "conf/key.h"
#include "conf/parse_util.h"
#include "crypto/secure.h"

#define PER_LINE 8 /* list entries per line */

static void write_key(FILE *f, const char *name, const uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(b64, key);
	fprintf(f, "%s = %s\n", name, b64);
	wg_secure_wipe(b64, sizeof(b64));
}

static void write_prefixes(FILE *f, const char *name, const struct wg_conf_prefixes *l)
{
	unsigned on_line = 0;
	char text[WG_CONF_PREFIX_STR];

	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].flags & WG_CONF_PREFIX_REMOVE_ME)
			continue;
		wg_conf_format_prefix(text, &l->v[i]);
		if (on_line == PER_LINE) {
			fputc('\n', f);
			on_line = 0;
		}
		fprintf(f, on_line ? ", %s" : "%s = %s", on_line ? text : name, text);
		on_line++;
	}
	if (on_line)
		fputc('\n', f);
}

/* "Name = a, b" for the one or two prefixes of a family pair that are set */
static void write_pair(FILE *f, const char *name, const struct wg_conf_prefix *p4,
		       const struct wg_conf_prefix *p6, bool with_cidr)
{
	char a[WG_CONF_PREFIX_STR], b[WG_CONF_PREFIX_STR];
	const struct wg_conf_prefix *first = p4->family ? p4 : p6->family ? p6 : NULL;

	if (!first)
		return;
	if (with_cidr)
		wg_conf_format_prefix(a, first);
	else
		wg_conf_format_addr(a, first->family, first->addr);
	if (first == p4 && p6->family) {
		if (with_cidr)
			wg_conf_format_prefix(b, p6);
		else
			wg_conf_format_addr(b, p6->family, p6->addr);
		fprintf(f, "%s = %s, %s\n", name, a, b);
	} else {
		fprintf(f, "%s = %s\n", name, a);
	}
}

static void write_appliance(FILE *f, const struct wg_conf_appliance *a)
{
	char lcores[WG_CONF_MAX_LCORES * 8 + 1];

	fprintf(f, "\n[Appliance]\n");
	fprintf(f, "OutsideDevice = %s\n", a->outside_device);
	if (a->inside_device[0])
		fprintf(f, "InsideDevice = %s\n", a->inside_device);
	else
		fprintf(f, "InsideInterface = %s\n", a->inside_interface);
	write_pair(f, "OutsideAddress", &a->outside_addr4, &a->outside_addr6, true);
	write_pair(f, "OutsideGateway", &a->outside_gw4, &a->outside_gw6, false);
	write_pair(f, "InsideGateway", &a->inside_gw4, &a->inside_gw6, false);
	if (a->n_workers) {
		wg_conf_format_lcores(lcores, sizeof(lcores), a->workers, a->n_workers);
		fprintf(f, "Workers = %s\n", lcores);
	}
	if (a->has_control_lcore)
		fprintf(f, "ControlLcore = %u\n", a->control_lcore);
	fprintf(f, "RingSize = %u\nMempoolSize = %u\nBurstSize = %u\nHandshakeQueue = %u\n",
		a->ring_size, a->mempool_size, a->burst_size, a->handshake_queue);
	fprintf(f, "MaxPeers = %u\n", a->max_peers);
	fprintf(f, "NeighbourReachableTime = %u\n", a->neigh_reachable);
	if (a->state_file[0])
		fprintf(f, "StateFile = %s\n", a->state_file);
	if (a->api_token_file[0]) {
		char ep[WG_CONF_ENDPOINT_STR];

		wg_conf_format_endpoint(ep, &a->api_listen);
		fprintf(f, "ApiTokenFile = %s\nApiListen = %s\n", a->api_token_file, ep);
	}
	if (a->api_tls_cert[0])
		fprintf(f, "ApiTlsCertificate = %s\nApiTlsKey = %s\n", a->api_tls_cert, a->api_tls_key);
	fprintf(f, "MetricsPerPeer = %s\n", a->metrics_per_peer ? "on" : "off");
	fprintf(f, "UapiInterface = %s\n", a->uapi_name[0] ? a->uapi_name : "off");
	fprintf(f, "Autoscale = %s\n", a->autoscale ? "on" : "off");
	if (a->min_workers)
		fprintf(f, "MinWorkers = %u\n", a->min_workers);
	if (a->max_workers)
		fprintf(f, "MaxWorkers = %u\n", a->max_workers);
	fprintf(f, "ScaleUpLoad = %u\nScaleUpDelay = %u\nScaleDownLoad = %u\nScaleDownDelay = %u\n",
		a->scale_up_load, a->scale_up_delay_ms, a->scale_down_load, a->scale_down_delay_ms);
	fprintf(f, "SpreadCrypto = %s\n",
		a->spread_crypto == WG_CONF_SPREAD_ON ? "on" : a->spread_crypto == WG_CONF_SPREAD_OFF ? "off" : "auto");
}

static void write_peer(FILE *f, const struct wg_conf_peer *peer, bool include_secrets)
{
	char ep[WG_CONF_ENDPOINT_STR];

	fprintf(f, "\n[Peer]\n");
	write_key(f, "PublicKey", peer->public_key);
	if (include_secrets && (peer->flags & WG_CONF_PEER_HAS_PRESHARED_KEY) &&
	    !wg_secure_is_zero(peer->preshared_key, WG_KEY_LEN))
		write_key(f, "PresharedKey", peer->preshared_key);
	write_prefixes(f, "AllowedIPs", &peer->allowedips);
	if ((peer->flags & WG_CONF_PEER_HAS_ENDPOINT) && peer->endpoint.family) {
		wg_conf_format_endpoint(ep, &peer->endpoint);
		fprintf(f, "Endpoint = %s\n", ep);
	}
	if (peer->persistent_keepalive)
		fprintf(f, "PersistentKeepalive = %u\n", peer->persistent_keepalive);
}

int wg_conf_write(FILE *f, const struct wg_conf *c, bool include_secrets)
{
	const struct wg_conf_device *dev = &c->device;

	fprintf(f, "[Interface]\n");
	if (include_secrets)
		write_key(f, "PrivateKey", dev->private_key);
	fprintf(f, "ListenPort = %u\n", dev->listen_port);
	if (dev->fwmark)
		fprintf(f, "FwMark = 0x%x\n", dev->fwmark);
	write_prefixes(f, "Address", &c->inside.addresses);
	fprintf(f, "MTU = %u\n", c->inside.mtu);
	write_prefixes(f, "AddressPool", &c->inside.pools);
	write_appliance(f, &c->appliance);
	for (size_t i = 0; i < dev->n_peers; i++)
		write_peer(f, &dev->peers[i], include_secrets);
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}
