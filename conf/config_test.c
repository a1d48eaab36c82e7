/* SPDX-License-Identifier: MIT */
/*
 * Tests of the config model and file parser (conf/config.c and friends).
 *
 * accepted[]: every key in each of its forms, with the value it must yield,
 * read back through field_text() in a canonical text form. rejected[]: every
 * error, with a substring of its message and the line it must name; each row
 * also proves that the output struct is untouched and that no private or
 * preshared key appears in the message. Then whole files: a wg-quick style
 * file, the two examples in conf/, round trips through wg_conf_write, and a
 * generated 100,000-peer file under a loose time bound (catches quadratic
 * duplicate checks).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"
#include "conf/config.h"
#include "conf/key.h"
#include "conf/parse_util.h"

/* example keys made with wg genkey / wg pubkey / wg genpsk */
#define K1 "8B3P4I0Zm/DXDUXKZGqhSm0w6pFKjKJF43bSUhBNwl0=" /* our private key */
#define K1PUB "ZfqDszDnxn7Iwc0w/nlOlKr1PGuKHTO9H4pYDK56dSQ="
#define K2 "UDzIIysHxroMBHyriHRf7K7CXtX9xCaY6yFusLc4JEc=" /* another private key */
#define P2 "SYD6N7dcEh1AHJRF6lwfK5Vl3hYR5Rb+k+KAm5ErSVI="
#define P3 "3ZvBPUs/gTnTx/NijQQh2lFSPi5e0CrOWQPrVlg9DUk="
#define PSK "vlAFwyZp4S8n9HNqnMZX494dQQ6GWPJwpklUUaUtZlE="
#define ZERO_KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

#define IFACE "[Interface]\nPrivateKey = " K1 "\n"                                   /* 1-2 */
#define APPL "[Appliance]\nOutsideDevice = net_tap0\nOutsideAddress = 192.0.2.1/24\n" /* 3-5 */
#define BASE IFACE APPL
#define PEER2 "[Peer]\nPublicKey = " P2 "\n" /* 6-7 after BASE */

static char err[1024];

/* ---- helpers ---- */

static int parse_text(const char *text, size_t len, struct wg_conf *c)
{
	struct wg_conf_parse_opts opts = { .numeric_endpoints = true };

	return wg_conf_parse_buffer_opts("t.conf", text, len, &opts, c, err, sizeof(err));
}

/* line named by "t.conf:N: ..." (0 for "t.conf: ...", -1 when malformed) */
static int err_line(const char *msg)
{
	const char *p = msg + strlen("t.conf");

	if (strncmp(msg, "t.conf", 6))
		return -1;
	if (p[0] == ':' && p[1] == ' ')
		return 0;
	if (p[0] != ':')
		return -1;
	return atoi(p + 1);
}

/* the message holds no run of 12 characters of a secret */
static bool leaks(const char *msg, const char *secret)
{
	char part[13];

	for (size_t i = 0; i + 12 <= strlen(secret); i++) {
		memcpy(part, secret + i, 12);
		part[12] = '\0';
		if (strstr(msg, part))
			return true;
	}
	return false;
}

static void prefixes_text(char *out, size_t len, const struct wg_conf_prefixes *l)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < l->n && o < len; i++) {
		char t[WG_CONF_PREFIX_STR];

		wg_conf_format_prefix(t, &l->v[i]);
		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? "," : "", t);
	}
}

static void pair_text(char *out, size_t len, const struct wg_conf_prefix *a,
		      const struct wg_conf_prefix *b, bool cidr)
{
	char t1[WG_CONF_PREFIX_STR] = "", t2[WG_CONF_PREFIX_STR] = "";

	if (a->family)
		cidr ? wg_conf_format_prefix(t1, a) : wg_conf_format_addr(t1, a->family, a->addr);
	if (b->family)
		cidr ? wg_conf_format_prefix(t2, b) : wg_conf_format_addr(t2, b->family, b->addr);
	snprintf(out, len, "%s%s%s", t1, *t1 && *t2 ? "," : "", t2);
}

/* a field of c as text; peer fields are of the last peer */
static void field_text(char *out, size_t len, const struct wg_conf *c, const char *field)
{
	const struct wg_conf_appliance *a = &c->appliance;
	const struct wg_conf_peer *peer =
		c->device.n_peers ? &c->device.peers[c->device.n_peers - 1] : NULL;
	char b64[WG_KEY_B64_LEN + 1];

	snprintf(out, len, "?");
	if (!strcmp(field, "listen_port")) {
		snprintf(out, len, "%u", c->device.listen_port);
	} else if (!strcmp(field, "fwmark")) {
		snprintf(out, len, "0x%x", c->device.fwmark);
	} else if (!strcmp(field, "mtu")) {
		snprintf(out, len, "%u", c->inside.mtu);
	} else if (!strcmp(field, "addresses")) {
		prefixes_text(out, len, &c->inside.addresses);
	} else if (!strcmp(field, "n_peers")) {
		snprintf(out, len, "%zu", c->device.n_peers);
	} else if (!strcmp(field, "psk") && peer) {
		wg_key_to_base64(b64, peer->preshared_key);
		snprintf(out, len, "%s", strcmp(b64, ZERO_KEY) ? b64 : "none");
	} else if (!strcmp(field, "public_key") && peer) {
		wg_key_to_base64(b64, peer->public_key);
		snprintf(out, len, "%s", b64);
	} else if (!strcmp(field, "allowedips") && peer) {
		prefixes_text(out, len, &peer->allowedips);
	} else if (!strcmp(field, "endpoint") && peer) {
		char ep[WG_CONF_ENDPOINT_STR];

		wg_conf_format_endpoint(ep, &peer->endpoint);
		snprintf(out, len, "%s", peer->flags & WG_CONF_PEER_HAS_ENDPOINT ? ep : "none");
	} else if (!strcmp(field, "keepalive") && peer) {
		snprintf(out, len, "%u", peer->persistent_keepalive);
	} else if (!strcmp(field, "outside_device")) {
		snprintf(out, len, "%s", a->outside_device);
	} else if (!strcmp(field, "inside_device")) {
		snprintf(out, len, "%s", a->inside_device);
	} else if (!strcmp(field, "inside_interface")) {
		snprintf(out, len, "%s", a->inside_interface);
	} else if (!strcmp(field, "outside_addr")) {
		pair_text(out, len, &a->outside_addr4, &a->outside_addr6, true);
	} else if (!strcmp(field, "outside_gw")) {
		pair_text(out, len, &a->outside_gw4, &a->outside_gw6, false);
	} else if (!strcmp(field, "inside_gw")) {
		pair_text(out, len, &a->inside_gw4, &a->inside_gw6, false);
	} else if (!strcmp(field, "workers")) {
		size_t o = 0;

		out[0] = '\0';
		for (unsigned i = 0; i < a->n_workers; i++)
			o += (size_t)snprintf(out + o, len - o, "%s%u", i ? "," : "", a->workers[i]);
	} else if (!strcmp(field, "n_workers")) {
		snprintf(out, len, "%u", a->n_workers);
	} else if (!strcmp(field, "control_lcore")) {
		if (a->has_control_lcore)
			snprintf(out, len, "%u", a->control_lcore);
		else
			snprintf(out, len, "main");
	} else if (!strcmp(field, "ring_size")) {
		snprintf(out, len, "%u", a->ring_size);
	} else if (!strcmp(field, "mempool_size")) {
		snprintf(out, len, "%u", a->mempool_size);
	} else if (!strcmp(field, "burst_size")) {
		snprintf(out, len, "%u", a->burst_size);
	} else if (!strcmp(field, "handshake_queue")) {
		snprintf(out, len, "%u", a->handshake_queue);
	} else if (!strcmp(field, "max_peers")) {
		snprintf(out, len, "%u", a->max_peers);
	} else if (!strcmp(field, "neigh_reachable")) {
		snprintf(out, len, "%u", a->neigh_reachable);
	} else if (!strcmp(field, "state_file")) {
		snprintf(out, len, "%s", a->state_file);
	} else if (!strcmp(field, "api")) {
		char ep[WG_CONF_ENDPOINT_STR];

		wg_conf_format_endpoint(ep, &a->api_listen);
		snprintf(out, len, "%s %s %s %s", a->api_token_file, ep, a->api_tls_cert, a->api_tls_key);
	} else if (!strcmp(field, "metrics_per_peer")) {
		snprintf(out, len, "%s", a->metrics_per_peer ? "on" : "off");
	} else if (!strcmp(field, "uapi")) {
		snprintf(out, len, "%s", a->uapi_name);
	} else if (!strcmp(field, "scale")) {
		snprintf(out, len, "%s %u-%u up %u%%/%ums down %u%%/%ums spread %u", a->autoscale ? "on" : "off",
			 a->min_workers, a->max_workers, a->scale_up_load, a->scale_up_delay_ms, a->scale_down_load,
			 a->scale_down_delay_ms, a->spread_crypto);
	} else if (!strcmp(field, "pools")) {
		char t[WG_CONF_PREFIX_STR];

		out[0] = '\0';
		for (size_t i = 0; i < c->inside.pools.n; i++) {
			wg_conf_format_prefix(t, &c->inside.pools.v[i]);
			snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "", t);
		}
	}
}

/* ---- every key in its accepted forms ---- */

enum where { IN_IFACE, IN_PEER, IN_APPL, WHOLE };

static const struct {
	enum where where;
	const char *snippet;
	const char *field;
	const char *want;
} accepted[] = {
	/* [Interface]: wg keys */
	{ IN_IFACE, "ListenPort = 51820", "listen_port", "51820" },
	{ IN_IFACE, "ListenPort = 0", "listen_port", "0" },
	{ IN_IFACE, "ListenPort = 65535", "listen_port", "65535" },
	{ IN_IFACE, "", "listen_port", "0" },
	{ IN_IFACE, "listenport=7", "listen_port", "7" },
	{ IN_IFACE, "   LISTENPORT   =\t 1234   # a comment", "listen_port", "1234" },
	{ IN_IFACE, "ListenPort = 12#34", "listen_port", "12" },
	{ IN_IFACE, "ListenPort = 51820\r", "listen_port", "51820" },
	{ IN_IFACE, "FwMark = off", "fwmark", "0x0" },
	{ IN_IFACE, "FwMark = 0", "fwmark", "0x0" },
	{ IN_IFACE, "FwMark = 0x1f", "fwmark", "0x1f" },
	{ IN_IFACE, "FwMark = 51820", "fwmark", "0xca6c" },
	{ IN_IFACE, "FwMark = 4294967295", "fwmark", "0xffffffff" },
	{ IN_IFACE, "FwMark = 0xffffffff", "fwmark", "0xffffffff" },
	/* [Interface]: wg-quick keys */
	{ IN_IFACE, "Address = 10.0.0.1", "addresses", "10.0.0.1/32" },
	{ IN_IFACE, "Address = 10.0.0.5/24", "addresses", "10.0.0.5/24" },
	{ IN_IFACE, "Address = 10.0.0.1/24, fd00::1/64", "addresses", "10.0.0.1/24,fd00::1/64" },
	{ IN_IFACE, "Address = fd00::1", "addresses", "fd00::1/128" },
	{ IN_IFACE, "Address = 10.0.0.1/24\naddress = 10.0.1.1/24", "addresses",
	  "10.0.0.1/24,10.0.1.1/24" },
	{ IN_IFACE, "", "addresses", "" },
	{ IN_IFACE, "", "mtu", "1420" },
	{ IN_IFACE, "MTU = 576", "mtu", "576" },
	{ IN_IFACE, "mtu = 9000", "mtu", "9000" },
	{ IN_IFACE, "MTU = 1280\nAddress = fd00::1/64", "mtu", "1280" },
	{ IN_IFACE,
	  "DNS = 192.0.2.53, example.com\nDNS = 2001:db8::53\nTable = off\nPreUp = true\n"
	  "PostUp = iptables -A FORWARD -i %i -j ACCEPT; ip6tables -A FORWARD -i %i\n"
	  "PreDown = x\nPostDown = iptables -D FORWARD -i %i -j ACCEPT\nSaveConfig = true",
	  "listen_port", "0" },
	/* [Peer] */
	{ IN_PEER, "", "public_key", P2 },
	{ IN_PEER, "", "psk", "none" },
	{ IN_PEER, "PresharedKey = " PSK, "psk", PSK },
	{ IN_PEER, "PresharedKey = " ZERO_KEY, "psk", "none" },
	{ IN_PEER, "", "allowedips", "" },
	{ IN_PEER, "AllowedIPs =", "allowedips", "" },
	{ IN_PEER, "AllowedIPs = 10.0.0.1/32", "allowedips", "10.0.0.1/32" },
	{ IN_PEER, "AllowedIPs = 10.0.0.1", "allowedips", "10.0.0.1/32" },
	{ IN_PEER, "AllowedIPs = fd00::1", "allowedips", "fd00::1/128" },
	{ IN_PEER, "AllowedIPs = 10.1.2.3/8", "allowedips", "10.0.0.0/8" },
	{ IN_PEER, "AllowedIPs = 10.1.2.3/0", "allowedips", "0.0.0.0/0" },
	{ IN_PEER, "AllowedIPs = fd00::1:2/64", "allowedips", "fd00::/64" },
	{ IN_PEER, "AllowedIPs = 2001:db8:ffff::1/33", "allowedips", "2001:db8:8000::/33" },
	{ IN_PEER, "AllowedIPs = 10.0.0.1/032", "allowedips", "10.0.0.1/32" },
	{ IN_PEER, "AllowedIPs = 0.0.0.0/0, ::/0", "allowedips", "0.0.0.0/0,::/0" },
	{ IN_PEER, "AllowedIPs=10.0.0.1/32,fd00::1/128", "allowedips", "10.0.0.1/32,fd00::1/128" },
	{ IN_PEER, "AllowedIPs = 10.0.0.1/32\nAllowedIPs = 10.0.0.2/32\nallowedips = fd00::2",
	  "allowedips", "10.0.0.1/32,10.0.0.2/32,fd00::2/128" },
	{ IN_PEER, "AllowedIPs = 10.0.0.1/32, 10.0.0.1/32, 10.0.0.1", "allowedips",
	  "10.0.0.1/32" },
	{ IN_PEER, "AllowedIPs = 10.0.0.0/24, 10.0.0.0/25", "allowedips",
	  "10.0.0.0/24,10.0.0.0/25" },
	{ IN_PEER, "AllowedIPs = 10.0.0.3/24, 10.0.0.0/24", "allowedips", "10.0.0.0/24" },
	{ IN_PEER, "", "endpoint", "none" },
	{ IN_PEER, "Endpoint = 192.0.2.2:51820", "endpoint", "192.0.2.2:51820" },
	{ IN_PEER, "Endpoint = 192.0.2.2 : 1", "endpoint", "192.0.2.2:1" },
	{ IN_PEER, "Endpoint = [2001:db8::2]:65535", "endpoint", "[2001:db8::2]:65535" },
	{ IN_PEER, "Endpoint = [::ffff:192.0.2.2]:51820", "endpoint", "[::ffff:192.0.2.2]:51820" },
	{ IN_PEER, "", "keepalive", "0" },
	{ IN_PEER, "PersistentKeepalive = 25", "keepalive", "25" },
	{ IN_PEER, "PersistentKeepalive = off", "keepalive", "0" },
	{ IN_PEER, "PersistentKeepalive = OFF", "keepalive", "0" },
	{ IN_PEER, "PersistentKeepalive = 0", "keepalive", "0" },
	{ IN_PEER, "PersistentKeepalive = 65535", "keepalive", "65535" },
	/* [Appliance] */
	{ IN_APPL, "OutsideDevice = 0000:3b:00.0", "outside_device", "0000:3b:00.0" },
	{ IN_APPL, "OutsideDevice = 3b:00.1", "outside_device", "3b:00.1" },
	{ IN_APPL, "OutsideDevice = net_af_packet0,iface=veth-out", "outside_device",
	  "net_af_packet0,iface=veth-out" },
	{ IN_APPL, "OutsideDevice = net_af_xdp0,iface=eth1,start_queue=0,queue_count=2",
	  "outside_device", "net_af_xdp0,iface=eth1,start_queue=0,queue_count=2" },
	{ IN_APPL, "OutsideDevice = 0000:3b:00.0,rxq_pkt_size=1", "outside_device",
	  "0000:3b:00.0,rxq_pkt_size=1" },
	{ IN_APPL, "", "inside_device", "" },
	{ IN_APPL, "", "inside_interface", "wgdp0" },
	{ IN_APPL, "InsideDevice = 0000:3b:00.1", "inside_device", "0000:3b:00.1" },
	{ IN_APPL, "InsideDevice = 0000:3b:00.1", "inside_interface", "" },
	{ IN_APPL, "InsideInterface = tap-inside", "inside_interface", "tap-inside" },
	{ IN_APPL, "InsideInterface = abcdefghijklmno", "inside_interface", "abcdefghijklmno" },
	{ IN_APPL, "", "outside_addr", "192.0.2.1/24" },
	{ IN_APPL, "OutsideAddress = 192.0.2.1/24, 2001:db8::1/64", "outside_addr",
	  "192.0.2.1/24,2001:db8::1/64" },
	{ IN_APPL, "OutsideAddress = 2001:db8::1/64\nOutsideAddress = 192.0.2.9/32",
	  "outside_addr", "192.0.2.9/32,2001:db8::1/64" },
	{ IN_APPL, "OutsideAddress = 2001:db8::1/64", "outside_addr", "2001:db8::1/64" },
	{ IN_APPL, "", "outside_gw", "" },
	{ IN_APPL, "OutsideGateway = 192.0.2.254", "outside_gw", "192.0.2.254" },
	{ IN_APPL,
	  "OutsideAddress = 192.0.2.1/24, 2001:db8::1/64\nOutsideGateway = 192.0.2.254, fe80::1",
	  "outside_gw", "192.0.2.254,fe80::1" },
	{ IN_APPL, "OutsideAddress = 2001:db8::1/64\nOutsideGateway = 2001:db8::fe", "outside_gw",
	  "2001:db8::fe" },
	{ IN_APPL, "", "workers", "" },
	{ IN_APPL, "Workers = 1", "workers", "1" },
	{ IN_APPL, "Workers = 1-3,5", "workers", "1,2,3,5" },
	{ IN_APPL, "Workers = 5, 1-2", "workers", "5,1,2" },
	{ IN_APPL, "Workers = 7-7", "workers", "7" },
	{ IN_APPL, "Workers = 0-127", "n_workers", "128" },
	{ IN_APPL, "", "control_lcore", "main" },
	{ IN_APPL, "ControlLcore = 0", "control_lcore", "0" },
	{ IN_APPL, "ControlLcore = 127\nWorkers = 1-126", "control_lcore", "127" },
	{ IN_APPL, "", "ring_size", "1024" },
	{ IN_APPL, "RingSize = 64", "ring_size", "64" },
	{ IN_APPL, "RingSize = 65536", "ring_size", "65536" },
	{ IN_APPL, "", "mempool_size", "8191" },
	{ IN_APPL, "MempoolSize = 1023", "mempool_size", "1023" },
	{ IN_APPL, "MempoolSize = 1048575", "mempool_size", "1048575" },
	{ IN_APPL, "", "burst_size", "32" },
	{ IN_APPL, "BurstSize = 1", "burst_size", "1" },
	{ IN_APPL, "BurstSize = 256", "burst_size", "256" },
	{ IN_APPL, "", "handshake_queue", "4096" },
	{ IN_APPL, "HandshakeQueue = 64", "handshake_queue", "64" },
	{ IN_APPL, "HandshakeQueue = 65536", "handshake_queue", "65536" },
	{ IN_APPL, "", "max_peers", "65536" },
	{ IN_APPL, "MaxPeers = 1", "max_peers", "1" },
	{ IN_APPL, "MaxPeers = 1048576", "max_peers", "1048576" },
	{ IN_APPL, "", "neigh_reachable", "30" },
	{ IN_APPL, "NeighbourReachableTime = 1", "neigh_reachable", "1" },
	{ IN_APPL, "NeighbourReachableTime = 3600", "neigh_reachable", "3600" },
	{ IN_APPL, "", "state_file", "" },
	{ IN_APPL, "StateFile = /var/lib/wgdp/state", "state_file", "/var/lib/wgdp/state" },
	{ IN_APPL, "StateFile = my state", "state_file", "my state" },
	{ IN_APPL, "", "api", " 127.0.0.1:8080  " },
	{ IN_APPL, "ApiTokenFile = /etc/wgdp/token", "api", "/etc/wgdp/token 127.0.0.1:8080  " },
	{ IN_APPL, "ApiTokenFile = t\nApiListen = [::1]:9000", "api", "t [::1]:9000  " },
	{ IN_APPL, "ApiTokenFile = t\nApiListen = 0.0.0.0:8443", "api", "t 0.0.0.0:8443  " },
	{ IN_APPL, "ApiTokenFile = t\nApiListen = [::]:8443", "api", "t [::]:8443  " },
	{ IN_APPL, "ApiTokenFile = t\nApiTlsCertificate = c.pem\nApiTlsKey = k.pem", "api",
	  "t 127.0.0.1:8080 c.pem k.pem" },
	{ IN_APPL, "", "metrics_per_peer", "on" },
	{ IN_APPL, "MetricsPerPeer = off", "metrics_per_peer", "off" },
	{ IN_APPL, "MetricsPerPeer = On", "metrics_per_peer", "on" },
	{ IN_APPL, "", "scale", "on 0-0 up 80%/100ms down 30%/2000ms spread 0" },
	{ IN_APPL, "Autoscale = off\nMinWorkers = 2\nMaxWorkers = 4\nSpreadCrypto = on", "scale",
	  "off 2-4 up 80%/100ms down 30%/2000ms spread 1" },
	{ IN_APPL, "ScaleUpLoad = 90\nScaleUpDelay = 0\nScaleDownLoad = 5\nScaleDownDelay = 600000\nSpreadCrypto = OFF",
	  "scale", "on 0-0 up 90%/0ms down 5%/600000ms spread 2" },
	{ IN_APPL, "Workers = 1-3\nMinWorkers = 3", "scale", "on 3-0 up 80%/100ms down 30%/2000ms spread 0" },
	{ IN_APPL, "", "uapi", "wgdp0" },
	{ IN_APPL, "InsideInterface = tap7", "uapi", "tap7" },
	{ IN_APPL, "InsideDevice = 0000:3b:00.1", "uapi", "wgdp0" },
	{ IN_APPL, "UapiInterface = wgx", "uapi", "wgx" },
	{ IN_APPL, "UapiInterface = off", "uapi", "" },
	{ IN_IFACE, "", "pools", "" },
	{ IN_IFACE, "AddressPool = 10.8.0.0/16", "pools", "10.8.0.0/16" },
	{ IN_IFACE, "AddressPool = fd00:8::/64, 10.8.0.0/30", "pools", "fd00:8::/64,10.8.0.0/30" },
	/* whole files */
	{ WHOLE,
	  "[Interface]\nPrivateKey=" K1 "\nAddress = 10.0.0.1/24, fd00::1/64\n"
	  "[Appliance]\nOutsideDevice = 0000:3b:00.0\nInsideDevice = 0000:3b:00.1\n"
	  "OutsideAddress = 192.0.2.1/24\nInsideGateway = 10.0.0.254, fd00::fe\n",
	  "inside_gw", "10.0.0.254,fd00::fe" },
	{ WHOLE,
	  "[Interface]\nPrivateKey=" K1 "\nAddress = 10.0.0.1/24, fd00::1/64\n"
	  "[Appliance]\nOutsideDevice = 0000:3b:00.0\nInsideDevice = 0000:3b:00.1\n"
	  "OutsideAddress = 192.0.2.1/24\nInsideGateway = fe80::1\n",
	  "inside_gw", "fe80::1" },
	/* sections in any order, names in any case, BOM and CRLF */
	{ WHOLE,
	  "\xef\xbb\xbf[peer]\r\npublickey = " P2 "\r\n[APPLIANCE]\r\noutsidedevice = net_tap0\r\n"
	  "OUTSIDEADDRESS = 192.0.2.1/24\r\n[ Interface ]\r\nPrivateKey = " K1 "\r\n",
	  "public_key", P2 },
	{ WHOLE, BASE PEER2 "[Peer]\nPublicKey = " P3 "\n", "n_peers", "2" },
};

static void build(char *out, size_t len, enum where w, const char *snippet)
{
	switch (w) {
	case IN_IFACE:
		snprintf(out, len, IFACE "%s\n" APPL PEER2, snippet);
		break;
	case IN_PEER:
		snprintf(out, len, BASE PEER2 "%s\n", snippet);
		break;
	case IN_APPL:
		snprintf(out, len, IFACE "[Appliance]\n%s%s%s\n" PEER2,
			 strcasestr(snippet, "OutsideDevice") ? "" : "OutsideDevice = net_tap0\n",
			 strcasestr(snippet, "OutsideAddress") ? "" : "OutsideAddress = 192.0.2.1/24\n",
			 snippet);
		break;
	case WHOLE:
		snprintf(out, len, "%s", snippet);
		break;
	}
}

static void test_accepts(void)
{
	static char text[8192];
	char got[1024];

	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		struct wg_conf c;
		int ret;

		build(text, sizeof(text), accepted[i].where, accepted[i].snippet);
		ret = parse_text(text, strlen(text), &c);
		CHECK_MSG(ret == 0, "row %zu `%s': %d %s", i, accepted[i].snippet, ret, err);
		if (ret)
			continue;
		field_text(got, sizeof(got), &c, accepted[i].field);
		CHECK_MSG(!strcmp(got, accepted[i].want), "row %zu `%s': %s is `%s', want `%s'", i,
			  accepted[i].snippet, accepted[i].field, got, accepted[i].want);
		wg_conf_free(&c);
	}
}

/* ---- every error, with its line ---- */

#define ROW(text, msg, line) { text, sizeof(text) - 1, msg, line }
#define LONG_X64 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define LONG_X1K LONG_X64 LONG_X64 LONG_X64 LONG_X64 LONG_X64 LONG_X64 LONG_X64 LONG_X64 \
		 LONG_X64 LONG_X64 LONG_X64 LONG_X64 LONG_X64 LONG_X64 LONG_X64 LONG_X64

static const struct {
	const char *text;
	size_t len;
	const char *msg; /* substring of the message */
	int line;        /* 0: the message names no line */
} rejected[] = {
	/* structure */
	ROW("", "No [Interface] section", 0),
	ROW("# nothing\n\n", "No [Interface] section", 0),
	ROW(APPL, "No [Interface] section", 0),
	ROW(IFACE, "No [Appliance] section", 0),
	ROW(BASE "[Interface]\n", "Second [Interface] section (first on line 1)", 6),
	ROW(BASE "[Appliance]\n", "Second [Appliance] section (first on line 3)", 6),
	ROW("[Interface]\nListenPort = 1\n" APPL, "[Interface] has no PrivateKey", 1),
	ROW(IFACE "[Appliance]\nOutsideAddress = 192.0.2.1/24\n", "[Appliance] has no OutsideDevice", 3),
	ROW(IFACE "[Appliance]\nOutsideDevice = net_tap0\n", "[Appliance] has no OutsideAddress", 3),
	ROW(BASE "[Peers]\n", "Unknown section `[Peers]'", 6),
	ROW(BASE "[Peer\n", "Unable to parse section header `[Peer'", 6),
	ROW(BASE "[]\n", "Unknown section `[]'", 6),
	ROW("ListenPort = 1\n" BASE, "Key `ListenPort' before any section: it belongs in [Interface]", 1),
	ROW("Foo = 1\n" BASE, "Unknown key `Foo' outside of any section", 1),
	ROW(IFACE "Foo = 1\n" APPL, "Unknown key `Foo' in [Interface]", 3),
	ROW(BASE PEER2 "Bar = 2\n", "Unknown key `Bar' in [Peer]", 8),
	ROW(BASE "Wokers = 1\n", "Unknown key `Wokers' in [Appliance]", 6),
	ROW(IFACE "PublicKey = " P2 "\n" APPL, "Key `PublicKey' belongs in [Peer], not in [Interface]", 3),
	ROW(BASE PEER2 "ListenPort = 1\n", "Key `ListenPort' belongs in [Interface], not in [Peer]", 8),
	ROW(BASE PEER2 "DNS = 1.1.1.1\n", "Key `DNS' belongs in [Interface], not in [Peer]", 8),
	ROW(BASE "Address = 10.0.0.1/24\n", "Key `Address' belongs in [Interface], not in [Appliance]", 6),
	ROW(BASE "hello\n", "Line unrecognized (expected `Key = Value' or `[Section]'): `hello'", 6),
	ROW(BASE "= 5\n", "Line unrecognized", 6),
	ROW(BASE "hello\x01\n", "`hello\\x01'", 6),
	/* duplicates of single-valued keys */
	ROW(IFACE "PrivateKey = " K2 "\n" APPL, "Duplicate PrivateKey in this section (first on line 2)", 3),
	ROW(IFACE "ListenPort = 1\nlistenport = 1\n" APPL, "Duplicate ListenPort", 4),
	ROW(IFACE "MTU = 1400\nMTU = 1400\n" APPL, "Duplicate MTU", 4),
	ROW(BASE PEER2 "Endpoint = 192.0.2.2:1\nEndpoint = 192.0.2.2:1\n", "Duplicate Endpoint", 9),
	ROW(BASE PEER2 "PublicKey = " P3 "\n", "Duplicate PublicKey in this section (first on line 7)", 8),
	ROW(BASE "OutsideDevice = net_tap1\n", "Duplicate OutsideDevice", 6),
	ROW(BASE "RingSize = 64\nRingSize = 64\n", "Duplicate RingSize", 7),
	/* keys */
	ROW("[Interface]\nPrivateKey = abc\n" APPL, "Unable to parse PrivateKey: <redacted> (a key is 44 base64", 2),
	ROW("[Interface]\nPrivateKey = " ZERO_KEY "\n" APPL, "PrivateKey: <redacted> (all-zero key", 2),
	ROW("[Interface]\nPrivateKey = !B3P4I0Zm/DXDUXKZGqhSm0w6pFKjKJF43bSUhBNwl0=\n" APPL,
	    "PrivateKey: <redacted> (not a base64 encoded 32-byte key)", 2),
	ROW("[Interface]\nPrivateKey = " K1 "x\n" APPL, "PrivateKey: <redacted>", 2),
	ROW("[Interface]\nPrivateKey =\n" APPL, "PrivateKey: <redacted>", 2),
	ROW(BASE "[Peer]\nPublicKey = AAAA\n", "Unable to parse PublicKey: `AAAA' (a key is 44 base64 characters", 7),
	ROW(BASE "[Peer]\nPublicKey = !YD6N7dcEh1AHJRF6lwfK5Vl3hYR5Rb+k+KAm5ErSVI=\n",
	    "Unable to parse PublicKey: `!YD6N7dcEh1AHJRF6lwfK5Vl3hYR5Rb+k+KAm5ErSVI=' (not a base64", 7),
	ROW(BASE "[Peer]\nPublicKey = SYD6N7dcEh1AHJRF6lwfK5Vl3hYR5Rb+k+KAm5ErSVJ=\n",
	    "(not a base64 encoded 32-byte key)", 7), /* non-canonical last symbol */
	ROW(BASE "[Peer]\nPublicKey = SYD6N7dcEh1AHJRF6lwfK5Vl3hYR5Rb+k+KAm5ErSVI\n",
	    "a key is 44 base64 characters", 7),
	ROW(BASE PEER2 "PresharedKey = " PSK "A\n", "Unable to parse PresharedKey: <redacted>", 8),
	ROW(BASE PEER2 "PresharedKey = vlAFwyZp4S8n9HNqnMZX494dQQ6GWPJwpklUUaUtZl!=\n",
	    "PresharedKey: <redacted> (not a base64", 8),
	/* peers */
	ROW(BASE PEER2 PEER2, "Duplicate PublicKey `" P2 "' (first on line 7)", 9),
	ROW(BASE PEER2 "[Peer]\nPublicKey = " P3 "\n" PEER2, "Duplicate PublicKey `" P2 "' (first on line 7)", 11),
	ROW(BASE "[Peer]\nPublicKey = " K1PUB "\n", "PublicKey `" K1PUB "' is this interface's own public key (of the PrivateKey on line 2)", 7),
	ROW("[Peer]\nPublicKey = " K1PUB "\n" BASE, "own public key", 2),
	ROW(BASE "[Peer]\nAllowedIPs = 10.0.0.1/32\n", "[Peer] section has no PublicKey", 6),
	ROW(BASE "[Peer]\n" PEER2, "[Peer] section has no PublicKey", 6),
	ROW(BASE PEER2 "[Peer]\n", "[Peer] section has no PublicKey", 8),
	ROW("[Peer]\n" BASE, "[Peer] section has no PublicKey", 1),
	/* ListenPort, FwMark, PersistentKeepalive */
	ROW(IFACE "ListenPort = 65536\n" APPL, "Unable to parse ListenPort: `65536' (must be 0-65535)", 3),
	ROW(IFACE "ListenPort = -1\n" APPL, "Unable to parse ListenPort: `-1'", 3),
	ROW(IFACE "ListenPort = abc\n" APPL, "Unable to parse ListenPort: `abc'", 3),
	ROW(IFACE "ListenPort = 0x10\n" APPL, "Unable to parse ListenPort: `0x10'", 3),
	ROW(IFACE "ListenPort =\n" APPL, "Unable to parse ListenPort: `'", 3),
	ROW(IFACE "ListenPort = 99999999999999999999999\n" APPL, "Unable to parse ListenPort: `99999999999999999999999'", 3),
	ROW(IFACE "FwMark = 0x1ffffffff\n" APPL, "Unable to parse FwMark: `0x1ffffffff' (neither off nor 0-0xffffffff)", 3),
	ROW(IFACE "FwMark = 4294967296\n" APPL, "Unable to parse FwMark: `4294967296'", 3),
	ROW(IFACE "FwMark = on\n" APPL, "Unable to parse FwMark: `on'", 3),
	ROW(IFACE "FwMark = 0xg\n" APPL, "Unable to parse FwMark: `0xg'", 3),
	ROW(BASE PEER2 "PersistentKeepalive = 65536\n", "Unable to parse PersistentKeepalive: `65536' (must be 0-65535)", 8),
	ROW(BASE PEER2 "PersistentKeepalive = on\n", "Unable to parse PersistentKeepalive: `on'", 8),
	/* AllowedIPs */
	ROW(BASE PEER2 "AllowedIPs = 10.0.0/33\n", "Unable to parse AllowedIPs: `10.0.0/33' (not an IPv4 or IPv6 address)", 8),
	ROW(BASE PEER2 "AllowedIPs = 10.0.0.0/33\n", "Unable to parse AllowedIPs: `10.0.0.0/33' (prefix length must be 0-32)", 8),
	ROW(BASE PEER2 "AllowedIPs = fd00::/129\n", "Unable to parse AllowedIPs: `fd00::/129' (prefix length must be 0-128)", 8),
	ROW(BASE PEER2 "AllowedIPs = 10.0.0.0/-1\n", "Unable to parse AllowedIPs: `10.0.0.0/-1' (prefix length", 8),
	ROW(BASE PEER2 "AllowedIPs = 10.0.0.0/abc\n", "Unable to parse AllowedIPs: `10.0.0.0/abc' (prefix length", 8),
	ROW(BASE PEER2 "AllowedIPs = 10.0.0.0/\n", "Unable to parse AllowedIPs: `10.0.0.0/' (prefix length", 8),
	ROW(BASE PEER2 "AllowedIPs = 10.0.0.0/1/2\n", "Unable to parse AllowedIPs: `10.0.0.0/1/2'", 8),
	ROW(BASE PEER2 "AllowedIPs = 300.0.0.1/32\n", "Unable to parse AllowedIPs: `300.0.0.1/32' (not an IPv4 or IPv6 address)", 8),
	ROW(BASE PEER2 "AllowedIPs = fd00::g/64\n", "Unable to parse AllowedIPs: `fd00::g/64'", 8),
	ROW(BASE PEER2 "AllowedIPs = fe80::1%eth0/64\n", "Unable to parse AllowedIPs: `fe80::1%eth0/64'", 8),
	ROW(BASE PEER2 "AllowedIPs = /24\n", "Unable to parse AllowedIPs: `/24'", 8),
	ROW(BASE PEER2 "AllowedIPs = 10.0.0.1/32, 10.0.0.300/32\n", "Unable to parse AllowedIPs: `10.0.0.300/32'", 8),
	ROW(BASE PEER2 "AllowedIPs = 10.0.0.1/32,,10.0.0.2/32\n", "(empty list element)", 8),
	ROW(BASE PEER2 "AllowedIPs = 10.0.0.1/32,\n", "(empty list element)", 8),
	ROW(BASE PEER2 "AllowedIPs = -10.0.0.1/32\n", "Unable to parse AllowedIPs: `-10.0.0.1/32'", 8),
	/* Endpoint */
	ROW(BASE PEER2 "Endpoint = 192.0.2.2:0\n", "Unable to parse Endpoint: `192.0.2.2:0' (port must be 1-65535)", 8),
	ROW(BASE PEER2 "Endpoint = 192.0.2.2:65536\n", "Unable to parse Endpoint: `192.0.2.2:65536' (port must be 1-65535)", 8),
	ROW(BASE PEER2 "Endpoint = 192.0.2.2:http\n", "(port must be 1-65535)", 8),
	ROW(BASE PEER2 "Endpoint = 192.0.2.2\n", "Unable to parse Endpoint: `192.0.2.2' (no port", 8),
	ROW(BASE PEER2 "Endpoint = 192.0.2.2:\n", "Unable to parse Endpoint: `192.0.2.2:' (no port", 8),
	ROW(BASE PEER2 "Endpoint = :51820\n", "(no host)", 8),
	ROW(BASE PEER2 "Endpoint =\n", "Unable to parse Endpoint: `' (empty)", 8),
	ROW(BASE PEER2 "Endpoint = [2001:db8::1:51820\n", "Unable to parse Endpoint: `[2001:db8::1:51820' (no closing bracket)", 8),
	ROW(BASE PEER2 "Endpoint = [2001:db8::1]\n", "(no port after the bracketed address", 8),
	ROW(BASE PEER2 "Endpoint = [2001:db8::1]:\n", "(no port after the bracketed address", 8),
	ROW(BASE PEER2 "Endpoint = [2001:db8::1]51820\n", "(no port after the bracketed address", 8),
	ROW(BASE PEER2 "Endpoint = [192.0.2.2]:51820\n", "(not an IPv6 address in the brackets)", 8),
	ROW(BASE PEER2 "Endpoint = []:51820\n", "(not an IPv6 address in the brackets)", 8),
	ROW(BASE PEER2 "Endpoint = [2001:db8::g]:51820\n", "(not an IPv6 address in the brackets)", 8),
	ROW(BASE PEER2 "Endpoint = [fe80::1%eth0]:51820\n", "(not an IPv6 address in the brackets)", 8),
	ROW(BASE PEER2 "Endpoint = 2001:db8::1:51820\n", "Unable to parse Endpoint: `2001:db8::1:51820' (an IPv6 address needs brackets", 8),
	ROW(BASE PEER2 "Endpoint = 0.0.0.0:51820\n", "(not a unicast address)", 8),
	ROW(BASE PEER2 "Endpoint = [ff02::1]:51820\n", "(not a unicast address)", 8),
	ROW(BASE PEER2 "Endpoint = peer.example.com:51820\n", "(not a numeric address (name resolution is off))", 8),
	ROW(BASE PEER2 "Endpoint = bad!name:51820\n", "(not an address or host name)", 8),
	/* Address and MTU */
	ROW(IFACE "Address = 10.0.0.1/40\n" APPL, "Unable to parse Address: `10.0.0.1/40' (prefix length must be 0-32)", 3),
	ROW(IFACE "Address = 10.0.0.1/24, nope\n" APPL, "Unable to parse Address: `nope'", 3),
	ROW(IFACE "Address = 224.0.0.1/24\n" APPL, "(not a unicast address)", 3),
	ROW(IFACE "MTU = 575\n" APPL, "Unable to parse MTU: `575' (must be 576-9000)", 3),
	ROW(IFACE "MTU = 9001\n" APPL, "Unable to parse MTU: `9001' (must be 576-9000)", 3),
	ROW(IFACE "MTU = big\n" APPL, "Unable to parse MTU: `big'", 3),
	ROW(IFACE "Address = fd00::1/64\nMTU = 1279\n" APPL, "Unable to parse MTU: `1279' (IPv6 addresses or allowed IPs need 1280-9000)", 4),
	ROW(IFACE "MTU = 1000\n" APPL PEER2 "AllowedIPs = fd00::2/128\n", "Unable to parse MTU: `1000' (IPv6", 3),
	/* [Appliance] devices */
	ROW(BASE "InsideDevice = net tap1\n", "Unable to parse InsideDevice: `net tap1' (contains a space", 6),
	ROW(IFACE "[Appliance]\nOutsideDevice = 0000:3b:00\nOutsideAddress = 192.0.2.1/24\n",
	    "Unable to parse OutsideDevice: `0000:3b:00' (not a PCI address", 4),
	ROW(IFACE "[Appliance]\nOutsideDevice = 0000:3b:00.8\nOutsideAddress = 192.0.2.1/24\n", "(not a PCI address", 4),
	ROW(IFACE "[Appliance]\nOutsideDevice = net_tap0,,x=1\nOutsideAddress = 192.0.2.1/24\n",
	    "(arguments must be key=value items", 4),
	ROW(IFACE "[Appliance]\nOutsideDevice = net_tap0,iface\nOutsideAddress = 192.0.2.1/24\n",
	    "(arguments must be key=value items", 4),
	ROW(IFACE "[Appliance]\nOutsideDevice = _x\nOutsideAddress = 192.0.2.1/24\n", "(not a PCI address", 4),
	ROW(IFACE "[Appliance]\nOutsideDevice = net/tap\nOutsideAddress = 192.0.2.1/24\n",
	    "(device name may hold letters", 4),
	ROW(IFACE "[Appliance]\nOutsideDevice =\nOutsideAddress = 192.0.2.1/24\n", "Unable to parse OutsideDevice: `' (empty)", 4),
	ROW(IFACE "[Appliance]\nOutsideDevice = net_af_packet0," LONG_X64 LONG_X64 LONG_X64 LONG_X64 "=1\n",
	    "(longer than 255 characters)", 4),
	ROW(BASE "InsideDevice = net_tap0\n", "InsideDevice `net_tap0' is the OutsideDevice too", 6),
	ROW(BASE "InsideInterface = tap0\nInsideDevice = 0000:3b:00.1\n", "InsideInterface `tap0' names a TAP interface, but InsideDevice is set", 6),
	ROW(BASE "InsideInterface = abcdefghijklmnop\n", "Unable to parse InsideInterface: `abcdefghijklmnop' (an interface name has 1-15", 6),
	ROW(BASE "InsideInterface = a/b\n", "Unable to parse InsideInterface: `a/b'", 6),
	ROW(BASE "InsideInterface = a b\n", "Unable to parse InsideInterface: `a b'", 6),
	ROW(BASE "InsideInterface = ..\n", "Unable to parse InsideInterface: `..'", 6),
	/* [Appliance] addresses and gateways */
	ROW(BASE "OutsideAddress = 192.0.2.2/24\n", "Second IPv4 OutsideAddress `192.0.2.2/24' (first `192.0.2.1/24' on line 5)", 6),
	ROW(IFACE "[Appliance]\nOutsideDevice = net_tap0\nOutsideAddress = 2001:db8::1/64, 2001:db8::2/64\n",
	    "Second IPv6 OutsideAddress `2001:db8::2/64'", 5),
	ROW(IFACE "[Appliance]\nOutsideDevice = net_tap0\nOutsideAddress = 192.0.2.1\n",
	    "Unable to parse OutsideAddress: `192.0.2.1' (needs a prefix length", 5),
	ROW(IFACE "[Appliance]\nOutsideDevice = net_tap0\nOutsideAddress = 192.0.2.1/0\n", "(prefix length 0 leaves no subnet)", 5),
	ROW(IFACE "[Appliance]\nOutsideDevice = net_tap0\nOutsideAddress = 224.0.0.1/24\n", "(not a unicast address)", 5),
	ROW(IFACE "[Appliance]\nOutsideDevice = net_tap0\nOutsideAddress = 0.0.0.0/8\n", "(not a unicast address)", 5),
	ROW(IFACE "[Appliance]\nOutsideDevice = net_tap0\nOutsideAddress = 255.255.255.255/8\n", "(not a unicast address)", 5),
	ROW(IFACE "[Appliance]\nOutsideDevice = net_tap0\nOutsideAddress = ::/64\n", "(not a unicast address)", 5),
	ROW(BASE "OutsideGateway = 2001:db8::fe\n", "OutsideGateway `2001:db8::fe' is IPv6, but there is no IPv6 OutsideAddress", 6),
	ROW(BASE "OutsideGateway = 198.51.100.1\n", "OutsideGateway `198.51.100.1' is not on the subnet of any IPv4 OutsideAddress", 6),
	ROW(BASE "OutsideGateway = 192.0.2.1\n", "OutsideGateway `192.0.2.1' is our own OutsideAddress", 6),
	ROW(BASE "OutsideGateway = 192.0.2.254/24\n", "Unable to parse OutsideGateway: `192.0.2.254/24' (not an IPv4 or IPv6 address)", 6),
	ROW(BASE "OutsideGateway = 192.0.2.254, 192.0.2.253\n", "Second IPv4 OutsideGateway `192.0.2.253' (first `192.0.2.254' on line 6)", 6),
	ROW(BASE "OutsideGateway = 224.0.0.1\n", "(not a unicast address)", 6),
	ROW(BASE "InsideGateway = 192.0.2.254\n", "InsideGateway `192.0.2.254' needs InsideDevice", 6),
	ROW(BASE "InsideDevice = 0000:3b:00.1\nInsideGateway = 10.0.0.1\n", "InsideGateway `10.0.0.1' is IPv4, but there is no IPv4 Address", 7),
	ROW("[Interface]\nPrivateKey = " K1 "\nAddress = 10.0.0.1/24\n" APPL "InsideDevice = 0000:3b:00.1\nInsideGateway = 10.0.1.1\n",
	    "InsideGateway `10.0.1.1' is not on the subnet of any IPv4 Address", 8),
	/* [Appliance] lcores and sizes */
	ROW(BASE "Workers = 1,1\n", "Unable to parse Workers: `1,1' (an lcore is listed twice)", 6),
	ROW(BASE "Workers = 1-3,2\n", "(an lcore is listed twice)", 6),
	ROW(BASE "Workers = 128\n", "Unable to parse Workers: `128' (lcore ids must be 0-127)", 6),
	ROW(BASE "Workers = 0-128\n", "(lcore ids must be 0-127)", 6),
	ROW(BASE "Workers = 99999999999\n", "Unable to parse Workers: `99999999999'", 6),
	ROW(BASE "Workers = 3-1\n", "Unable to parse Workers: `3-1' (range runs backwards)", 6),
	ROW(BASE "Workers = 1-\n", "Unable to parse Workers: `1-'", 6),
	ROW(BASE "Workers = 1,,2\n", "Unable to parse Workers: `1,,2'", 6),
	ROW(BASE "Workers = 1-2-3\n", "Unable to parse Workers: `1-2-3'", 6),
	ROW(BASE "Workers =\n", "Unable to parse Workers: `' (empty)", 6),
	ROW(BASE "Workers = a\n", "Unable to parse Workers: `a'", 6),
	ROW(BASE "ControlLcore = 128\n", "Unable to parse ControlLcore: `128' (must be 0-127)", 6),
	ROW(BASE "Workers = 1-3\nControlLcore = 2\n", "ControlLcore `2' is also one of the Workers", 7),
	ROW(BASE "Autoscale = maybe\n", "Unable to parse Autoscale: `maybe' (neither on nor off)", 6),
	ROW(BASE "MinWorkers = 0\n", "Unable to parse MinWorkers: `0' (must be 1-128)", 6),
	ROW(BASE "MaxWorkers = 129\n", "(must be 1-128)", 6),
	ROW(BASE "MinWorkers = 3\nMaxWorkers = 2\n", "MinWorkers 3 is above MaxWorkers 2", 3),
	ROW(BASE "Workers = 1-2\nMaxWorkers = 3\n", "MaxWorkers 3 is above the 2 lcore(s) of Workers", 3),
	ROW(BASE "ScaleUpLoad = 0\n", "Unable to parse ScaleUpLoad: `0' (must be 1-100)", 6),
	ROW(BASE "ScaleDownLoad = 101\n", "(must be 1-100)", 6),
	ROW(BASE "ScaleUpLoad = 30\nScaleDownLoad = 30\n", "ScaleDownLoad 30% must be below ScaleUpLoad 30%", 3),
	ROW(BASE "ScaleDownDelay = 600001\n", "(must be 0-600000)", 6),
	ROW(BASE "SpreadCrypto = yes\n", "Unable to parse SpreadCrypto: `yes' (not auto, on or off)", 6),
	ROW(BASE "RingSize = 1000\n", "Unable to parse RingSize: `1000' (must be a power of two 64-65536)", 6),
	ROW(BASE "RingSize = 32\n", "(must be a power of two 64-65536)", 6),
	ROW(BASE "RingSize = 131072\n", "(must be a power of two 64-65536)", 6),
	ROW(BASE "RingSize = 0\n", "(must be a power of two 64-65536)", 6),
	ROW(BASE "MempoolSize = 1022\n", "Unable to parse MempoolSize: `1022' (must be 1023-1048575)", 6),
	ROW(BASE "MempoolSize = 1048576\n", "(must be 1023-1048575)", 6),
	ROW(BASE "BurstSize = 0\n", "Unable to parse BurstSize: `0' (must be 1-256)", 6),
	ROW(BASE "BurstSize = 257\n", "(must be 1-256)", 6),
	ROW(BASE "HandshakeQueue = 100\n", "Unable to parse HandshakeQueue: `100' (must be a power of two", 6),
	ROW(BASE "MaxPeers = 0\n", "Unable to parse MaxPeers: `0' (must be 1-1048576)", 6),
	ROW(BASE "MaxPeers = 1048577\n", "(must be 1-1048576)", 6),
	ROW(BASE "NeighbourReachableTime = 0\n", "Unable to parse NeighbourReachableTime: `0' (must be 1-3600)", 6),
	ROW(BASE "NeighbourReachableTime = 3601\n", "(must be 1-3600)", 6),
	ROW(BASE "NeighbourReachableTime = 2s\n", "Unable to parse NeighbourReachableTime: `2s'", 6),
	ROW(BASE "StateFile = /var/lib/\n", "Unable to parse StateFile: `/var/lib/' (names a directory", 6),
	ROW(BASE "StateFile = a\tb\n", "(holds a control character)", 6),
	ROW(BASE "StateFile =\n", "Unable to parse StateFile: `' (empty: leave the key out instead)", 6),
	ROW(BASE "ApiTokenFile = t\nApiListen = 0.0.0.0:0\n", "Unable to parse ApiListen: `0.0.0.0:0' (port must be 1-65535)", 7),
	ROW(BASE "StateFile = " LONG_X1K "\n", "(longer than 255 bytes)", 6),
	ROW(BASE "ApiListen = 127.0.0.1:9\n", "ApiListen `127.0.0.1:9' needs ApiTokenFile", 6),
	ROW(BASE "ApiTokenFile = t\nApiListen = localhost:9\n", "Unable to parse ApiListen: `localhost:9'", 7),
	ROW(BASE "ApiTokenFile = t\nApiListen = 127.0.0.1\n", "Unable to parse ApiListen: `127.0.0.1'", 7),
	ROW(BASE "ApiTokenFile = t\nApiTlsCertificate = c\n", "ApiTlsCertificate and ApiTlsKey go together: ApiTlsKey is missing", 7),
	ROW(BASE "ApiTokenFile = t\nApiTlsKey = k\n", "ApiTlsCertificate is missing", 7),
	ROW(BASE "ApiTlsCertificate = c\nApiTlsKey = k\n", "ApiTlsCertificate needs ApiTokenFile", 6),
	ROW(BASE "MetricsPerPeer = maybe\n", "Unable to parse MetricsPerPeer: `maybe' (neither on nor off)", 6),
	ROW(BASE "UapiInterface = a/b\n", "Unable to parse UapiInterface: `a/b'", 6),
	ROW(IFACE "AddressPool = 10.8.0.1/16\n" APPL, "Unable to parse AddressPool: `10.8.0.1/16' (host bits set", 3),
	ROW(IFACE "AddressPool = 10.8.0.0\n" APPL, "Unable to parse AddressPool: `10.8.0.0'", 3),
	ROW(IFACE "AddressPool = 10.8.0.0/31\n" APPL, "(too small to hand out addresses)", 3),
	ROW(IFACE "AddressPool = fd00::/127\n" APPL, "(too small to hand out addresses)", 3),
	ROW(IFACE "AddressPool = 0.0.0.0/0\n" APPL, "(prefix length 0 is not a pool)", 3),
	ROW(IFACE "AddressPool = 224.0.0.0/8\n" APPL, "(multicast, not unicast)", 3),
	ROW(IFACE "AddressPool = 10.8.0.0/16, 10.9.0.0/16\n" APPL, "`10.9.0.0/16' (second pool of that family)", 3),
	/* raw bytes */
	ROW(BASE "ListenPort\0 = 1\n", "Line holds a NUL byte", 6),
	ROW(BASE "\0", "Line holds a NUL byte", 6),
	ROW(BASE "# " LONG_X1K LONG_X1K LONG_X1K LONG_X1K "\n", "Line is longer than 4096 bytes", 6),
};

static void test_rejects(void)
{
	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		struct wg_conf c, untouched;
		int ret;

		memset(&c, 0x5a, sizeof(c));
		memset(&untouched, 0x5a, sizeof(untouched));
		ret = parse_text(rejected[i].text, rejected[i].len, &c);
		CHECK_MSG(ret == -EINVAL, "row %zu (`%s'): %d", i, rejected[i].msg, ret);
		if (ret == 0) {
			wg_conf_free(&c);
			continue;
		}
		CHECK_MSG(strstr(err, rejected[i].msg), "row %zu: got `%s', want `%s'", i, err,
			  rejected[i].msg);
		CHECK_MSG(err_line(err) == rejected[i].line, "row %zu: `%s' names line %d, want %d",
			  i, err, err_line(err), rejected[i].line);
		CHECK_MSG(!memcmp(&c, &untouched, sizeof(c)), "row %zu: output touched", i);
		CHECK_MSG(!leaks(err, K1) && !leaks(err, K2) && !leaks(err, PSK),
			  "row %zu: a secret leaks: %s", i, err);
		CHECK_MSG(!strchr(err, '\n'), "row %zu: message spans lines", i);
	}
}

/* secrets in places where a careless parser would echo them */
static void test_secrets_never_echoed(void)
{
	static const char *const texts[] = {
		"[Interface]\nPrivateKey = " K1 "x\n" APPL,
		"[Interface]\nPrivateKey = x" K1 "\n" APPL,
		"[Interface]\nPrivateKey = " K1 " " K1 "\n" APPL,
		"[Interface]\nPrivatKey = " K1 "\n" APPL,
		"[Interface]\n" K1 "\n" APPL,
		"[Interface]\nPrivateKey " K1 "\n" APPL,
		"[Interface]\n" K1 " = 1\n" APPL,
		"PrivateKey = " K1 "\n" BASE,
		"[Interface]\nPrivateKey = " K1 "\nPrivateKey = " K2 "\n" APPL,
		"[Interface]\nPrivateKey = " K2 "\nPrivateKey = " K1 "\n" APPL,
		BASE PEER2 "PresharedKey = " PSK "x\n",
		BASE PEER2 "PresharedKey = " PSK "\nPresharedKey = " PSK "\n",
		BASE PEER2 "PresharedKey " PSK "\n",
		BASE "[Peer]\nPresharedKey = " PSK "\n",
		BASE PEER2 "PreSharedKey = " PSK "\n[Peer]\nPublicKey = " K1PUB "\n",
		"[Peer]\nPublicKey = " P2 "\nPresharedKey = " PSK "\n[Interface]\nPrivateKey = " K1 "\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct wg_conf c;
		int ret = parse_text(texts[i], strlen(texts[i]), &c);

		CHECK_MSG(ret == -EINVAL, "text %zu parsed: %d", i, ret);
		if (!ret)
			wg_conf_free(&c);
		CHECK_MSG(*err && !leaks(err, K1) && !leaks(err, K2) && !leaks(err, PSK),
			  "text %zu: a secret leaks or no message: %s", i, err);
	}
}

/* ---- whole files ---- */

struct warnings {
	int n;
	char all[4096];
};

static void collect(void *arg, const char *msg)
{
	struct warnings *w = arg;
	size_t o = strlen(w->all);

	w->n++;
	snprintf(w->all + o, sizeof(w->all) - o, "%s\n", msg);
}

static const char wg_quick_file[] =
	"# /etc/wireguard/wg0.conf as wg-quick and the Windows/Android apps write it\n"
	"\n"
	"[Interface]\n"
	"privatekey = " K1 "\n"
	"Address = 10.8.0.1/24, fd00:8::1/64   # the tunnel subnet\n"
	"ListenPort = 51820\n"
	"DNS = 10.8.0.1, vpn.example\n"
	"MTU = 1420\n"
	"Table = auto\n"
	"PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n"
	"PostDown = iptables -D FORWARD -i %i -j ACCEPT\n"
	"SaveConfig = false\n"
	"FwMark = 0xca6c\n"
	"\n"
	"[Appliance]\n"
	"OutsideDevice = net_af_packet0,iface=eth0\n"
	"OutsideAddress = 192.0.2.1/24\n"
	"\n"
	"# alice's laptop\n"
	"[Peer]\n"
	"PublicKey = " P2 "\n"
	"PresharedKey = " PSK "\n"
	"AllowedIPs = 10.8.0.2/32, fd00:8::2/128\n"
	"\t Endpoint = 198.51.100.7:51820 \n"
	"PersistentKeepalive = 25\n"
	"\n"
	"[PEER]\n"
	"  PUBLICKEY=" P3 "\n"
	"  ALLOWEDIPS=10.8.0.3/32\n"
	"  allowedips = 10.8.1.0/24 # her home network\n";

static void test_wg_quick_file(void)
{
	struct warnings w = { 0 };
	struct wg_conf_parse_opts opts = { .numeric_endpoints = true, .warn = collect, .warn_arg = &w };
	struct wg_conf c;
	char got[256];
	uint8_t psk[WG_KEY_LEN];
	int ret = wg_conf_parse_buffer_opts("wg0.conf", wg_quick_file, sizeof(wg_quick_file) - 1,
					    &opts, &c, err, sizeof(err));

	CHECK_MSG(ret == 0, "%s", err);
	if (ret)
		return;
	CHECK(c.device.listen_port == 51820);
	CHECK(c.device.fwmark == 0xca6c);
	CHECK(c.device.n_peers == 2);
	CHECK(c.inside.mtu == 1420);
	prefixes_text(got, sizeof(got), &c.inside.addresses);
	CHECK(!strcmp(got, "10.8.0.1/24,fd00:8::1/64"));
	CHECK(c.device.peers[0].persistent_keepalive == 25);
	wg_key_from_base64(psk, PSK, strlen(PSK));
	CHECK_MEM(c.device.peers[0].preshared_key, psk, WG_KEY_LEN);
	prefixes_text(got, sizeof(got), &c.device.peers[1].allowedips);
	CHECK(!strcmp(got, "10.8.0.3/32,10.8.1.0/24"));
	field_text(got, sizeof(got), &c, "endpoint"); /* last peer: none */
	CHECK(!strcmp(got, "none"));
	CHECK(c.device.peers[0].endpoint.family == AF_INET && ntohs(c.device.peers[0].endpoint.port) == 51820);
	/* DNS, Table, PostUp, PostDown, SaveConfig, FwMark: one warning each, naming the line */
	CHECK_MSG(w.n == 6, "%d warnings:\n%s", w.n, w.all);
	CHECK(strstr(w.all, "wg0.conf:7: ignoring wg-quick key DNS"));
	CHECK(strstr(w.all, "wg0.conf:10: ignoring wg-quick key PostUp: wgdp runs no hooks"));
	CHECK(strstr(w.all, "wg0.conf:13: FwMark is accepted but ignored"));
	CHECK(!strstr(w.all, "iptables")); /* values of ignored keys are not echoed */
	wg_conf_free(&c);
}

/* the delta a file yields: the whole truth, as wg setconf */
static void test_delta_flags(void)
{
	static const char text[] = BASE PEER2 "[Peer]\nPublicKey = " P3 "\nEndpoint = 192.0.2.9:9\n";
	struct wg_conf c;

	CHECK_MSG(parse_text(text, sizeof(text) - 1, &c) == 0, "%s", err);
	CHECK(c.device.flags == (WG_CONF_DEVICE_HAS_PRIVATE_KEY | WG_CONF_DEVICE_HAS_LISTEN_PORT |
				 WG_CONF_DEVICE_HAS_FWMARK | WG_CONF_DEVICE_REPLACE_PEERS));
	CHECK(c.device.n_peers == 2);
	CHECK(c.device.peers[0].flags ==
	      (WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE |
	       WG_CONF_PEER_REPLACE_ALLOWEDIPS));
	CHECK(c.device.peers[1].flags ==
	      (WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE |
	       WG_CONF_PEER_REPLACE_ALLOWEDIPS | WG_CONF_PEER_HAS_ENDPOINT));
	CHECK(c.inside.flags == (WG_CONF_INSIDE_HAS_MTU | WG_CONF_INSIDE_REPLACE_ADDRESSES | WG_CONF_INSIDE_HAS_POOLS));
	wg_conf_free(&c);
	/* freed means empty and wiped */
	for (size_t i = 0; i < sizeof(c); i++)
		CHECK(((const uint8_t *)&c)[i] == 0);
	wg_conf_free(NULL);
}

/* allowed IPs: masking, duplicates in a peer, one prefix in two peers (the later wins) */
static void test_allowedips_semantics(void)
{
	static const char text[] = BASE
		"[Peer]\nPublicKey = " P2 "\nAllowedIPs = 10.0.0.0/24, 10.9.9.9/32, 10.1.0.0/16\n"
		"[Peer]\nPublicKey = " P3 "\nAllowedIPs = 10.9.9.9, 10.0.0.77/24\n";
	struct warnings w = { 0 };
	struct wg_conf_parse_opts opts = { .numeric_endpoints = true, .warn = collect, .warn_arg = &w };
	struct wg_conf c;
	char got[256];

	CHECK_MSG(wg_conf_parse_buffer_opts("t.conf", text, sizeof(text) - 1, &opts, &c, err,
					    sizeof(err)) == 0, "%s", err);
	if (c.device.n_peers != 2)
		return;
	prefixes_text(got, sizeof(got), &c.device.peers[0].allowedips);
	CHECK_MSG(!strcmp(got, "10.1.0.0/16"), "first peer keeps %s", got);
	prefixes_text(got, sizeof(got), &c.device.peers[1].allowedips);
	CHECK_MSG(!strcmp(got, "10.9.9.9/32,10.0.0.0/24"), "second peer has %s", got);
	CHECK_MSG(w.n == 3, "%d warnings:\n%s", w.n, w.all);
	CHECK(strstr(w.all, "t.conf:11: AllowedIPs 10.9.9.9/32 was also given to the peer on line 6"));
	CHECK(strstr(w.all, "t.conf:11: AllowedIPs `10.0.0.77/24' has host bits set; using 10.0.0.0/24"));
	wg_conf_free(&c);
}

static void test_endpoint_names(void)
{
	static const char good[] = BASE PEER2 "Endpoint = localhost:51820\n";
	static const char bad[] = BASE PEER2 "Endpoint = no-such-host.invalid:51820\n";
	struct wg_conf c;
	int ret;

	ret = wg_conf_parse_buffer("t.conf", good, sizeof(good) - 1, &c, err, sizeof(err));
	CHECK_MSG(ret == 0, "%s", err);
	if (!ret) {
		const struct wg_endpoint *ep = &c.device.peers[0].endpoint;
		static const uint8_t lo6[16] = { [15] = 1 };

		CHECK((ep->family == AF_INET && ep->addr[0] == 127) ||
		      (ep->family == AF_INET6 && !memcmp(ep->addr, lo6, 16)));
		CHECK(ntohs(ep->port) == 51820);
		wg_conf_free(&c);
	}
	/* the same with resolution off fails (covered in rejected[] too) */
	CHECK(parse_text(good, sizeof(good) - 1, &c) == -EINVAL);
	/* a name that does not resolve names its line; bound the resolver's patience */
	setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
	ret = wg_conf_parse_buffer("t.conf", bad, sizeof(bad) - 1, &c, err, sizeof(err));
	CHECK(ret == -EINVAL);
	CHECK_MSG(strstr(err, "t.conf:8: Unable to parse Endpoint: `no-such-host.invalid:51820' ("),
		  "%s", err);
	unsetenv("RES_OPTIONS");
}

static char *source_path(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", WG_SOURCE_ROOT, rel);
	return out;
}

static void test_examples(void)
{
	char path[4096], got[256];
	struct wg_conf c;
	int ret;

	ret = wg_conf_parse_file(source_path(path, sizeof(path), "conf/demo-netns.conf"), &c, err,
				 sizeof(err));
	CHECK_MSG(ret == 0, "%s", err);
	if (!ret) {
		CHECK(!strcmp(c.appliance.outside_device, "net_af_packet0,iface=wgdp-out"));
		CHECK(!strcmp(c.appliance.inside_interface, "wgdp0"));
		CHECK(!c.appliance.inside_device[0]);
		pair_text(got, sizeof(got), &c.appliance.outside_addr4, &c.appliance.outside_addr6, true);
		CHECK(!strcmp(got, "192.0.2.1/24,2001:db8:1::1/64"));
		prefixes_text(got, sizeof(got), &c.inside.addresses);
		CHECK(!strcmp(got, "198.51.100.1/24,fd00:99::1/64"));
		CHECK(c.device.n_peers == 1 && c.device.listen_port == 51820);
		wg_conf_free(&c);
	}
	ret = wg_conf_parse_file(source_path(path, sizeof(path), "conf/datacenter.conf"), &c, err,
				 sizeof(err));
	CHECK_MSG(ret == 0, "%s", err);
	if (!ret) {
		CHECK(!strcmp(c.appliance.outside_device, "0000:3b:00.0"));
		CHECK(!strcmp(c.appliance.inside_device, "0000:3b:00.1"));
		CHECK(!c.appliance.inside_interface[0]);
		field_text(got, sizeof(got), &c, "workers");
		CHECK(!strcmp(got, "2,3,4,5"));
		field_text(got, sizeof(got), &c, "outside_gw");
		CHECK(!strcmp(got, "203.0.113.1,fe80::1"));
		field_text(got, sizeof(got), &c, "inside_gw");
		CHECK(!strcmp(got, "192.0.2.254,2001:db8:100::fe"));
		CHECK(c.device.n_peers == 3);
		wg_conf_free(&c);
	}
}

/* the examples in docs/config.md are the files in conf/, value for value */
static void test_docs_examples(void)
{
	static const char *const files[] = { "conf/demo-netns.conf", "conf/datacenter.conf" };
	char path[4096], *doc = NULL, *p;
	size_t len = 0, n = 0;
	FILE *f = fopen(source_path(path, sizeof(path), "docs/config.md"), "r");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(getdelim(&doc, &len, '\0', f) > 0);
	fclose(f);
	for (p = doc; p && (p = strstr(p, "```ini\n")); n++) {
		char *start = p + 7, *end = strstr(start, "```");
		struct wg_conf a, b;

		if (!end || n >= 2)
			break;
		CHECK_MSG(parse_text(start, (size_t)(end - start), &a) == 0, "docs block %zu: %s",
			  n, err);
		CHECK(wg_conf_parse_file(source_path(path, sizeof(path), files[n]), &b, err,
					 sizeof(err)) == 0);
		CHECK_MSG(wg_conf_equal(&a, &b), "docs/config.md block %zu differs from %s", n,
			  files[n]);
		wg_conf_free(&a);
		wg_conf_free(&b);
		p = end + 3;
	}
	CHECK(n == 2);
	free(doc);
}

static void test_file_errors(void)
{
	char dir[] = "/tmp/wgconf-test-XXXXXX", path[4200];
	struct wg_conf c, untouched;
	int fd;

	memset(&c, 0x5a, sizeof(c));
	memset(&untouched, 0x5a, sizeof(untouched));
	CHECK(wg_conf_parse_file("/nonexistent/wgdp.conf", &c, err, sizeof(err)) == -ENOENT);
	CHECK_MSG(!strcmp(err, "/nonexistent/wgdp.conf: No such file or directory"), "%s", err);
	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	CHECK(wg_conf_parse_file(dir, &c, err, sizeof(err)) == -EISDIR);
	/* a sparse file just above the limit */
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(ftruncate(fd, WG_CONF_MAX_FILE + 1) == 0);
		close(fd);
		CHECK(wg_conf_parse_file(path, &c, err, sizeof(err)) == -EFBIG);
		CHECK_MSG(strstr(err, "big.conf: larger than 16 MiB"), "%s", err);
		unlink(path);
	}
	/* an endless file is cut off at the limit, not read into memory to the end */
	if (access("/dev/zero", R_OK) == 0) {
		CHECK(wg_conf_parse_file("/dev/zero", &c, err, sizeof(err)) == -EFBIG);
		CHECK_MSG(!strcmp(err, "/dev/zero: larger than 16 MiB"), "%s", err);
	}
	/* a bad file through the file API names file and line */
	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd >= 0) {
		static const char text[] = BASE PEER2 "AllowedIPs = 10.0.0/33\n";

		CHECK(write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
		close(fd);
		CHECK(wg_conf_parse_file(path, &c, err, sizeof(err)) == -EINVAL);
		CHECK_MSG(strstr(err, "/bad.conf:8: Unable to parse AllowedIPs: `10.0.0/33'"), "%s", err);
		unlink(path);
	}
	rmdir(dir);
	CHECK(!memcmp(&c, &untouched, sizeof(c)));
	/* a buffer above the limit is refused before it is read */
	CHECK(wg_conf_parse_buffer("t.conf", "", (size_t)WG_CONF_MAX_FILE + 1, &c, err,
				   sizeof(err)) == -EFBIG);
	/* a tiny error buffer is fine */
	CHECK(wg_conf_parse_buffer("t.conf", "x", 1, &c, err, 4) == -EINVAL && strlen(err) < 4);
	CHECK(wg_conf_parse_buffer("t.conf", "x", 1, &c, NULL, 0) == -EINVAL);
	CHECK(!memcmp(&c, &untouched, sizeof(c)));
}

/* ---- round trips ---- */

static bool round_trip(const struct wg_conf *c, char **text_out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct wg_conf back;
	bool ok;

	if (!f)
		return false;
	ok = wg_conf_write(f, c, true) == 0;
	fclose(f);
	ok = ok && parse_text(buf, len, &back) == 0;
	if (!ok)
		fprintf(stderr, "round trip: %s\n%s\n", err, buf);
	if (ok) {
		ok = wg_conf_equal(c, &back);
		wg_conf_free(&back);
	}
	if (text_out)
		*text_out = buf;
	else
		free(buf);
	return ok;
}

static void test_round_trip(void)
{
	char path[4096];
	const char *files[] = { "conf/demo-netns.conf", "conf/datacenter.conf" };
	struct wg_conf c;
	char *text;

	for (size_t i = 0; i < 2; i++) {
		CHECK(wg_conf_parse_file(source_path(path, sizeof(path), files[i]), &c, err,
					 sizeof(err)) == 0);
		CHECK_MSG(round_trip(&c, NULL), "%s", files[i]);
		wg_conf_free(&c);
	}
	CHECK(parse_text(wg_quick_file, sizeof(wg_quick_file) - 1, &c) == 0);
	CHECK(round_trip(&c, &text));
	/* wg-quick-only keys are not written back */
	CHECK(text && !strstr(text, "PostUp") && strstr(text, "PresharedKey = " PSK));
	free(text);

	/* wg_conf_equal sees a change in any part */
	{
		struct wg_conf d;

		CHECK(parse_text(wg_quick_file, sizeof(wg_quick_file) - 1, &d) == 0);
		CHECK(wg_conf_equal(&c, &d));
		d.device.peers[1].allowedips.v[1].cidr = 25;
		CHECK(!wg_conf_equal(&c, &d));
		d.device.peers[1].allowedips.v[1].cidr = 24;
		d.appliance.burst_size++;
		CHECK(!wg_conf_equal(&c, &d));
		d.appliance.burst_size--;
		d.device.private_key[31] ^= 1;
		CHECK(!wg_conf_equal(&c, &d));
		wg_conf_free(&d);
	}

	/* without secrets: no private or preshared key in the text, and it does not parse */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct wg_conf back;

		CHECK(f && wg_conf_write(f, &c, false) == 0);
		if (f)
			fclose(f);
		CHECK(buf && !leaks(buf, K1) && !leaks(buf, PSK) && strstr(buf, P2));
		CHECK(parse_text(buf, len, &back) == -EINVAL);
		CHECK_MSG(strstr(err, "[Interface] has no PrivateKey"), "%s", err);
		free(buf);
	}
	wg_conf_free(&c);

	/* a long list fits on no line; split over AllowedIPs lines it parses and round-trips */
	{
		static char big[100000], split[100000];
		size_t o = 0, so = 0;

		o += (size_t)snprintf(big + o, sizeof(big) - o, BASE PEER2 "AllowedIPs = ");
		so += (size_t)snprintf(split + so, sizeof(split) - so, BASE PEER2);
		for (int i = 0; i < 1000; i++) {
			o += (size_t)snprintf(big + o, sizeof(big) - o, "%s10.%d.%d.0/24",
					      i ? ", " : "", i / 256, i % 256);
			so += (size_t)snprintf(split + so, sizeof(split) - so, "%s10.%d.%d.0/24%s",
					       i % 50 ? "" : "AllowedIPs = ", i / 256, i % 256,
					       i % 50 == 49 ? "\n" : ",");
		}
		CHECK(parse_text(big, o, &c) == -EINVAL);
		CHECK_MSG(strstr(err, "t.conf:8: Line is longer than 4096 bytes"), "%s", err);
		CHECK_MSG(parse_text(split, so, &c) == 0, "%s", err);
		CHECK(c.device.n_peers == 1 && c.device.peers[0].allowedips.n == 1000);
		CHECK(c.device.n_peers == 1 && c.device.peers[0].allowedips.v[999].addr[2] == 231);
		CHECK(round_trip(&c, NULL));
		wg_conf_free(&c);
	}
}

/* the writer's output for a large peer is accepted, line by line short */
static void test_round_trip_large_peer(void)
{
	struct wg_conf c;
	struct wg_conf_peer *peer;
	char *text = NULL;

	wg_conf_init(&c);
	c.device.flags = WG_CONF_DEVICE_HAS_PRIVATE_KEY | WG_CONF_DEVICE_HAS_LISTEN_PORT |
			 WG_CONF_DEVICE_HAS_FWMARK | WG_CONF_DEVICE_REPLACE_PEERS;
	c.inside.flags = WG_CONF_INSIDE_HAS_MTU | WG_CONF_INSIDE_REPLACE_ADDRESSES | WG_CONF_INSIDE_HAS_POOLS;
	wg_key_from_base64(c.device.private_key, K1, strlen(K1));
	snprintf(c.appliance.outside_device, sizeof(c.appliance.outside_device), "net_tap0");
	c.appliance.outside_addr6 = (struct wg_conf_prefix){ .family = AF_INET6, .cidr = 64,
							     .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	c.appliance.outside_gw6 = (struct wg_conf_prefix){ .family = AF_INET6, .cidr = 128,
							   .addr = { 0xfe, 0x80, [15] = 1 } };
	for (unsigned i = 0; i < 128; i++)
		c.appliance.workers[i] = (uint16_t)((i * 5) % 128);
	c.appliance.n_workers = 128;
	for (int i = 0; i < 200; i++) {
		struct wg_conf_prefix p = { .family = AF_INET6, .cidr = 128,
					    .addr = { 0xfd, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						      0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						      (uint8_t)(i >> 8), (uint8_t)i } };

		CHECK(wg_conf_prefixes_add(&c.inside.addresses, &p) == 0);
	}
	peer = wg_conf_device_add_peer(&c.device);
	CHECK(peer != NULL);
	if (!peer)
		return;
	peer->flags = WG_CONF_PEER_HAS_PRESHARED_KEY | WG_CONF_PEER_HAS_PERSISTENT_KEEPALIVE |
		      WG_CONF_PEER_REPLACE_ALLOWEDIPS | WG_CONF_PEER_HAS_ENDPOINT;
	wg_key_from_base64(peer->public_key, P2, strlen(P2));
	peer->endpoint = (struct wg_endpoint){ .family = AF_INET6, .port = htons(443),
					       .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 } };
	peer->persistent_keepalive = 65535;
	for (int i = 0; i < 5000; i++) {
		struct wg_conf_prefix p = { .family = AF_INET6, .cidr = 128,
					    .addr = { 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						      0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						      (uint8_t)(i >> 8), (uint8_t)i } };

		CHECK(wg_conf_prefixes_add(&peer->allowedips, &p) == 0);
	}
	CHECK(round_trip(&c, &text));
	for (char *line = text, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		CHECK((size_t)(nl - line) < 1024);
	}
	CHECK(text && strstr(text, "Workers = 0,5,10,"));
	free(text);
	wg_conf_free(&c);
}

/* ---- scale ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the public key of peer i: distinct for every i, never K1PUB */
static void peer_key(char out[WG_KEY_B64_LEN + 1], uint32_t i)
{
	uint8_t k[WG_KEY_LEN];

	for (unsigned j = 0; j < WG_KEY_LEN; j++)
		k[j] = (uint8_t)(0x42 + j * 7);
	memcpy(k + 3, &i, sizeof(i));
	wg_key_to_base64(out, k);
}

static void test_many_peers(void)
{
	enum { N = 100000 };
	size_t cap = (size_t)N * 140 + 4096, o;
	char *text = malloc(cap), key[WG_KEY_B64_LEN + 1];
	struct wg_conf c;
	double t0, dt;
	int ret;

	CHECK(text != NULL);
	if (!text)
		return;
	o = (size_t)snprintf(text, cap, BASE);
	for (uint32_t i = 0; i < N; i++) {
		peer_key(key, i);
		o += (size_t)snprintf(text + o, cap - o,
				      "[Peer]\nPublicKey = %s\nAllowedIPs = 10.%u.%u.%u/32, fd00::%x:%x/128\n",
				      key, i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff, i >> 16, i & 0xffff);
	}
	t0 = now();
	ret = parse_text(text, o, &c);
	dt = now() - t0;
	CHECK_MSG(ret == 0, "%s", err);
	printf("# %d peers (%zu bytes) parsed in %.3f s\n", N, o, dt);
	CHECK_MSG(dt < 10.0, "%.1f s for %d peers: quadratic?", dt, N);
	if (!ret) {
		char got[128];

		CHECK(c.device.n_peers == N);
		peer_key(key, N - 1);
		field_text(got, sizeof(got), &c, "public_key");
		CHECK(!strcmp(got, key));
		field_text(got, sizeof(got), &c, "allowedips");
		CHECK(!strcmp(got, "10.1.134.159/32,fd00::1:869f/128"));
		t0 = now();
		CHECK(round_trip(&c, NULL));
		printf("# written and parsed back in %.3f s\n", now() - t0);
		wg_conf_free(&c);
	}
	/* a duplicate at the very end is found, naming both lines */
	peer_key(key, 1);
	o += (size_t)snprintf(text + o, cap - o, "[Peer]\nPublicKey = %s\n", key);
	t0 = now();
	ret = parse_text(text, o, &c);
	dt = now() - t0;
	CHECK(ret == -EINVAL);
	CHECK_MSG(err_line(err) == 5 + 3 * N + 2 && strstr(err, "(first on line 10)"), "%s", err);
	CHECK_MSG(dt < 10.0, "%.1f s", dt);
	free(text);
}

/* ---- value syntax ---- */

static void test_parse_util(void)
{
	static const struct {
		const char *in;
		bool need_cidr;
		const char *masked; /* NULL: rejected */
		bool host_bits;
	} prefixes[] = {
		{ "192.0.2.1/24", false, "192.0.2.0/24", true },
		{ "192.0.2.0/24", false, "192.0.2.0/24", false },
		{ "192.0.2.1", false, "192.0.2.1/32", false },
		{ "192.0.2.1", true, NULL, false },
		{ "255.255.255.255/1", false, "128.0.0.0/1", true },
		{ "2001:db8::1/127", false, "2001:db8::/127", true },
		{ "2001:db8::1/128", false, "2001:db8::1/128", false },
		{ "::/0", false, "::/0", false },
		{ "1.2.3.4/33", false, NULL, false },
		{ "1.2.3/8", false, NULL, false },
		{ "01.2.3.4/8", false, NULL, false },
		{ " 1.2.3.4/8", false, NULL, false },
		{ "1.2.3.4/+8", false, NULL, false },
		{ "", false, NULL, false },
	};
	struct wg_conf_prefix p;
	const char *why;
	char t[WG_CONF_PREFIX_STR], lc[1100];
	uint16_t ids[WG_CONF_MAX_LCORES];
	unsigned n;
	uint64_t v;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		bool ok = wg_conf_parse_prefix(prefixes[i].in, prefixes[i].need_cidr, &p, &why);

		CHECK_MSG(ok == (prefixes[i].masked != NULL), "prefix %zu `%s'", i, prefixes[i].in);
		if (!ok || !prefixes[i].masked)
			continue;
		CHECK_MSG(wg_conf_prefix_mask(&p) == prefixes[i].host_bits, "prefix %zu", i);
		wg_conf_format_prefix(t, &p);
		CHECK_MSG(!strcmp(t, prefixes[i].masked), "prefix %zu: %s", i, t);
	}
	CHECK(wg_conf_parse_prefix("192.0.2.0/23", false, &p, &why));
	CHECK(wg_conf_prefix_contains(&p, (const uint8_t[16]){ 192, 0, 3, 255 }));
	CHECK(!wg_conf_prefix_contains(&p, (const uint8_t[16]){ 192, 0, 4, 0 }));
	CHECK(wg_conf_parse_prefix("0.0.0.0/0", false, &p, &why));
	CHECK(wg_conf_prefix_contains(&p, (const uint8_t[16]){ 1, 2, 3, 4 }));

	CHECK(wg_conf_parse_uint("18446744073709551615", UINT64_MAX, &v, &why) && v == UINT64_MAX);
	CHECK(!wg_conf_parse_uint("18446744073709551616", UINT64_MAX, &v, &why));
	CHECK(!wg_conf_parse_uint("+1", 10, &v, &why));

	CHECK(wg_conf_parse_lcores("1-3,5,7,8,10-12,0", ids, &n, &why) && n == 10);
	wg_conf_format_lcores(lc, sizeof(lc), ids, n);
	CHECK_MSG(!strcmp(lc, "1-3,5,7,8,10-12,0"), "%s", lc);
	CHECK(wg_conf_parse_lcores("127-0", ids, &n, &why) == false);

	CHECK(wg_conf_check_devargs("0000:3b:00.0", &why));
	CHECK(wg_conf_check_devargs("net_tap0,iface=wgdp0,mac=fixed", &why));
	CHECK(!wg_conf_check_devargs("0000:3g:00.0", &why));
	CHECK(wg_conf_check_ifname("wgdp0", &why));
	CHECK(!wg_conf_check_ifname("", &why));
	CHECK(!wg_conf_check_ifname("eth0:1", &why));
}

int main(void)
{
	TEST_BEGIN("conf/config_test");
	RUN_TEST(test_accepts);
	RUN_TEST(test_rejects);
	RUN_TEST(test_secrets_never_echoed);
	RUN_TEST(test_wg_quick_file);
	RUN_TEST(test_delta_flags);
	RUN_TEST(test_allowedips_semantics);
	RUN_TEST(test_endpoint_names);
	RUN_TEST(test_examples);
	RUN_TEST(test_docs_examples);
	RUN_TEST(test_file_errors);
	RUN_TEST(test_round_trip);
	RUN_TEST(test_round_trip_large_peer);
	RUN_TEST(test_many_peers);
	RUN_TEST(test_parse_util);
	return TEST_END();
}
