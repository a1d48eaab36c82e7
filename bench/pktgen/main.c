/* SPDX-License-Identifier: MIT */
/*
 * wgdp-pktgen: options, EAL, ports and the phases of a run.
 *
 *   wgdp-pktgen [EAL options] -- --outside DEVARGS --inside DEVARGS [options]
 *   wgdp-pktgen --print-peers  --clients N --seed S   (no EAL, no ports)
 *   wgdp-pktgen --print-config --clients N --seed S
 *
 * A run: open both ports (hot-plugged from their devargs, like wgdp does),
 * wait for their links (memif: for wgdp to be there), learn wgdp's MACs by
 * ARP, make the clients' keys, handshake every client, then one traffic
 * step per rate of --rate, each followed by a drain, and the counters. The
 * main lcore does all of it (see pktgen.h). The only file that exits.
 *
 * Exit status: 0 when every client completed its handshake and nothing
 * received was wrong; 1 when a handshake failed or the set-up did; 2 on bad
 * usage; 3 when a packet came back corrupted, misaddressed or unauthentic
 * (loss and reordering are reported, not failures).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "bench/pktgen/pktgen.h"
#include "conf/key.h"
#include "crypto/batch_aead.h"
#include "crypto/secure.h"
#include "crypto/x25519.h"

#define RX_POOL 16383u
#define LINK_WAIT_S 30.0
#define LINK_SETTLE_S 0.3 /* after our links are up, before the first frame */
#define ARP_WAIT_S 10.0
#define LINGER_S 60.0

static struct pg_ctx *g_ctx;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: wgdp-pktgen [EAL options] -- --outside DEVARGS --inside DEVARGS [options]\n"
		"       wgdp-pktgen --print-peers|--print-config [--clients N] [--seed S] [...]\n"
		"\n"
		"A WireGuard traffic generator: N clients handshake with wgdp on its outside port,\n"
		"then send sealed traffic (fwd) and/or receive what wgdp seals for them from its\n"
		"inside port (rev). See bench/pktgen/README.md.\n"
		"\n"
		"  -n, --clients N        clients (1..1000000, default 1)\n"
		"      --seed S           key seed (default 1): client keys, and wgdp's key\n"
		"      --print-peers      print a [Peer] per client (PublicKey, AllowedIPs) and exit\n"
		"      --print-config     print wgdp's whole config for this run and exit\n"
		"      --outside DEVARGS  our port facing wgdp's outside (net_memif0,role=client,...)\n"
		"      --inside DEVARGS   our port facing wgdp's inside\n"
		"      --queues Q         tx queues per port (memif: wgdp's rx queues, i.e. its\n"
		"                         workers; default 1); client i sends on queue i mod Q\n"
		"      --rxq N            rx queues per port (memif: wgdp's tx queues; default Q + 1,\n"
		"                         one per worker and one for wgdp's control thread)\n"
		"      --server-key B64   wgdp's public key (default: the one --seed gives)\n"
		"      --dut-outside D / --dut-inside D   wgdp's devargs, for --print-config\n"
		"  addresses (defaults): --dut-outside-ip 192.0.2.1/24 --outside-gw 192.0.2.254\n"
		"      --client-net 10.0.0.1 --dut-inside-ip 203.0.113.1/24 --inside-gw 203.0.113.254\n"
		"      --tunnel-net 100.64.0.1 --dc-host 198.18.0.1 --port 51820 --client-port 51820\n"
		"      --mtu 1420\n"
		"  handshakes: --hs-window 256 --hs-rate 0 (per s, 0: no limit) --hs-timeout 5000 (ms)\n"
		"      --hs-retries 5 --cookie-delay 50 (ms) --hs-wait 120 (s) --keepalive 5 (s)\n"
		"      --rekey 120 (s: session age at which a client handshakes again)\n"
		"  traffic: --dir fwd|rev|both (fwd) --rate R[,R...] (pps per direction, k/m suffixes,\n"
		"      0: as fast as possible; several: a sweep) --duration 5 (s per step; with\n"
		"      --count the longest a step may take) --count N (packets per direction and step)\n"
		"      --size 64|imix|L[,L...][:W[,W...]] (inner packet bytes, default 64)\n"
		"      --window 8192 (packets sealed ahead, power of two) --prebuild (seal the\n"
		"      window before each step, not during it) --drain 0.5 (s) --no-verify\n"
		"      --rx-sample K (reverse: open 1 message in K, count the rest by header)\n"
		"      --no-traffic (handshakes only) --json\n"
		"      --done-file PATH   after the reports create PATH, stop polling the ports and\n"
		"                         wait (up to 60 s) for wgdp to close its side before ours\n");
}

uint64_t pg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t pg_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void pg_ctl_send(struct pg_ctx *ctx, struct pg_port *p, uint16_t q, struct rte_mbuf *m)
{
	p->ctl[q][p->n_ctl[q]++] = m;
	if (p->n_ctl[q] == PG_BURST)
		pg_ctl_flush(ctx);
}

static void flush_port(struct pg_ctx *ctx, struct pg_port *p)
{
	uint16_t sent;

	for (uint16_t q = 0; q < p->n_txq; q++) {
		if (!p->n_ctl[q])
			continue;
		sent = rte_eth_tx_burst(p->id, q, p->ctl[q], (uint16_t)p->n_ctl[q]);
		for (unsigned i = sent; i < p->n_ctl[q]; i++) {
			ctx->cnt.ctl_tx_drops++;
			rte_pktmbuf_free(p->ctl[q][i]);
		}
		p->n_ctl[q] = 0;
	}
}

void pg_ctl_flush(struct pg_ctx *ctx)
{
	flush_port(ctx, &ctx->out);
	flush_port(ctx, &ctx->in);
}

void pg_poll(struct pg_ctx *ctx)
{
	pg_rx_poll(ctx);
	pg_hs_poll(ctx, pg_tsc());
	pg_ctl_flush(ctx);
}

static void on_signal(int sig)
{
	(void)sig;
	if (g_ctx)
		g_ctx->stop = 1;
}

/* ---- option parsing -------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		v *= 1e3, end++;
	else if (*end == 'm' || *end == 'M')
		v *= 1e6, end++;
	if (*end)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

static int parse_ip(const char *s, uint32_t *ip, uint8_t *prefix)
{
	char buf[64], *slash;
	struct in_addr a;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);

		if (!prefix || *end || p < 1 || p > 31)
			return -EINVAL;
		*prefix = (uint8_t)p;
		*slash = '\0';
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

static int parse_sizes(const char *s, struct pg_sizes *sz)
{
	char buf[128], *colon, *tok, *save;

	memset(sz, 0, sizeof(*sz));
	snprintf(sz->name, sizeof(sz->name), "%s", s);
	if (!strcmp(s, "imix"))
		s = "64,576,1420:7,4,1"; /* the simple IMIX, 1500-byte frames as a 1420-byte tunnel MTU */
	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (colon)
		*colon++ = '\0';
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (sz->n == PG_MAX_SIZES || parse_u64(tok, &v) || v < PG_MIN_INNER || v > PG_MAX_INNER)
			return -EINVAL;
		for (unsigned i = 0; i < sz->n; i++)
			if (sz->len[i] == v)
				return -EINVAL;
		sz->len[sz->n] = (uint16_t)v;
		sz->weight[sz->n++] = 1;
	}
	if (colon) {
		unsigned i = 0;

		for (tok = strtok_r(colon, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			uint64_t v;

			if (i == sz->n || parse_u64(tok, &v) || !v || v > 1000)
				return -EINVAL;
			sz->weight[i++] = (uint16_t)v;
		}
		if (i != sz->n)
			return -EINVAL;
	}
	for (unsigned i = 0; i < sz->n; i++)
		sz->total_weight += sz->weight[i];
	return sz->n ? 0 : -EINVAL;
}

static int parse_rates(const char *s, struct pg_opts *o)
{
	char buf[512], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", s);
	o->n_rates = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (o->n_rates == PG_MAX_STEPS || parse_u64(tok, &v))
			return -EINVAL;
		o->rates[o->n_rates++] = (double)v;
	}
	return o->n_rates ? 0 : -EINVAL;
}

enum {
	O_SEED = 256, O_PRINT_PEERS, O_PRINT_CONFIG, O_OUTSIDE, O_INSIDE, O_QUEUES, O_RXQ, O_SERVER_KEY, O_DUT_OUT,
	O_DUT_IN, O_DUT_OUT_IP, O_OUT_GW, O_CLIENT_NET, O_DUT_IN_IP, O_IN_GW, O_TUNNEL_NET, O_DC_HOST, O_PORT,
	O_CLIENT_PORT, O_MTU, O_HS_WINDOW, O_HS_RATE, O_HS_TIMEOUT, O_HS_RETRIES, O_COOKIE_DELAY, O_HS_WAIT,
	O_KEEPALIVE, O_REKEY, O_DIR, O_RATE, O_DURATION, O_COUNT, O_SIZE, O_WINDOW, O_PREBUILD, O_DRAIN, O_NO_VERIFY,
	O_NO_TRAFFIC, O_JSON, O_RX_SAMPLE, O_DONE_FILE,
};

struct cli {
	struct pg_opts o;
	int print; /* 0, O_PRINT_PEERS, O_PRINT_CONFIG */
	bool traffic;
};

static void defaults(struct cli *cl)
{
	struct pg_opts *o = &cl->o;

	memset(cl, 0, sizeof(*cl));
	cl->traffic = true;
	o->n_clients = 1;
	o->seed = 1;
	o->n_txq = 1;
	o->n_rxq = 0; /* n_txq + 1 unless --rxq */
	o->dut_outside_dev = "net_memif0,role=server,socket=/run/wgdp-pg-out.sock";
	o->dut_inside_dev = "net_memif1,role=server,socket=/run/wgdp-pg-in.sock";
	parse_ip("192.0.2.1/24", &o->dut_out_ip, &o->out_prefix);
	parse_ip("192.0.2.254", &o->out_gw_ip, NULL);
	parse_ip("10.0.0.1", &o->client_net, NULL);
	parse_ip("203.0.113.1/24", &o->dut_in_ip, &o->in_prefix);
	parse_ip("203.0.113.254", &o->in_gw_ip, NULL);
	parse_ip("100.64.0.1", &o->tunnel_net, NULL);
	parse_ip("198.18.0.1", &o->dc_host, NULL);
	o->dut_port = o->client_port = 51820;
	o->mtu = 1420;
	o->hs_window = 256;
	o->hs_timeout_ms = 5000; /* REKEY_TIMEOUT, as real clients */
	o->hs_retries = 5;
	o->cookie_delay_ms = 50;
	o->hs_wait_s = 120;
	o->keepalive_s = 5;
	o->rekey_s = 120; /* REKEY_AFTER_TIME */
	o->dir[PG_FWD] = true;
	o->rates[0] = 100000;
	o->n_rates = 1;
	o->duration = 5;
	o->drain = 0.5;
	parse_sizes("64", &o->sizes);
	o->window = 8192;
	o->verify = true;
	o->rx_sample = 1;
}

static int parse_args(int argc, char **argv, struct cli *cl)
{
	static const struct option longopts[] = {
		{ "clients", required_argument, NULL, 'n' }, { "seed", required_argument, NULL, O_SEED },
		{ "print-peers", no_argument, NULL, O_PRINT_PEERS },
		{ "print-config", no_argument, NULL, O_PRINT_CONFIG },
		{ "outside", required_argument, NULL, O_OUTSIDE }, { "inside", required_argument, NULL, O_INSIDE },
		{ "queues", required_argument, NULL, O_QUEUES }, { "rxq", required_argument, NULL, O_RXQ }, { "server-key", required_argument, NULL, O_SERVER_KEY },
		{ "dut-outside", required_argument, NULL, O_DUT_OUT },
		{ "dut-inside", required_argument, NULL, O_DUT_IN },
		{ "dut-outside-ip", required_argument, NULL, O_DUT_OUT_IP },
		{ "outside-gw", required_argument, NULL, O_OUT_GW },
		{ "client-net", required_argument, NULL, O_CLIENT_NET },
		{ "dut-inside-ip", required_argument, NULL, O_DUT_IN_IP },
		{ "inside-gw", required_argument, NULL, O_IN_GW },
		{ "tunnel-net", required_argument, NULL, O_TUNNEL_NET },
		{ "dc-host", required_argument, NULL, O_DC_HOST }, { "port", required_argument, NULL, O_PORT },
		{ "client-port", required_argument, NULL, O_CLIENT_PORT }, { "mtu", required_argument, NULL, O_MTU },
		{ "hs-window", required_argument, NULL, O_HS_WINDOW },
		{ "hs-rate", required_argument, NULL, O_HS_RATE },
		{ "hs-timeout", required_argument, NULL, O_HS_TIMEOUT },
		{ "hs-retries", required_argument, NULL, O_HS_RETRIES },
		{ "cookie-delay", required_argument, NULL, O_COOKIE_DELAY },
		{ "hs-wait", required_argument, NULL, O_HS_WAIT },
		{ "keepalive", required_argument, NULL, O_KEEPALIVE }, { "rekey", required_argument, NULL, O_REKEY },
		{ "dir", required_argument, NULL, O_DIR },
		{ "rate", required_argument, NULL, O_RATE }, { "duration", required_argument, NULL, O_DURATION },
		{ "count", required_argument, NULL, O_COUNT }, { "size", required_argument, NULL, O_SIZE },
		{ "window", required_argument, NULL, O_WINDOW }, { "prebuild", no_argument, NULL, O_PREBUILD },
		{ "drain", required_argument, NULL, O_DRAIN }, { "no-verify", no_argument, NULL, O_NO_VERIFY },
		{ "no-traffic", no_argument, NULL, O_NO_TRAFFIC }, { "json", no_argument, NULL, O_JSON },
		{ "rx-sample", required_argument, NULL, O_RX_SAMPLE },
		{ "done-file", required_argument, NULL, O_DONE_FILE },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct pg_opts *o = &cl->o;
	uint64_t v;
	int c, bad;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
		bad = 0;
		switch (c) {
		case 'n':
			bad = parse_u64(optarg, &v) || v < 1 || v > PG_MAX_CLIENTS;
			o->n_clients = (uint32_t)v;
			break;
		case O_SEED:
			bad = parse_u64(optarg, &o->seed);
			break;
		case O_PRINT_PEERS:
		case O_PRINT_CONFIG:
			cl->print = c;
			break;
		case O_OUTSIDE:
			o->outside_dev = optarg;
			break;
		case O_INSIDE:
			o->inside_dev = optarg;
			break;
		case O_QUEUES:
			bad = parse_u64(optarg, &v) || v < 1 || v > PG_MAX_TXQ;
			o->n_txq = (uint16_t)v;
			break;
		case O_RXQ:
			bad = parse_u64(optarg, &v) || v < 1 || v > PG_MAX_RXQ;
			o->n_rxq = (uint16_t)v;
			break;
		case O_SERVER_KEY:
			bad = !wg_key_from_base64(o->server_pub, optarg, strlen(optarg));
			o->have_server_pub = true;
			break;
		case O_DUT_OUT:
			o->dut_outside_dev = optarg;
			break;
		case O_DUT_IN:
			o->dut_inside_dev = optarg;
			break;
		case O_DUT_OUT_IP:
			bad = parse_ip(optarg, &o->dut_out_ip, &o->out_prefix);
			break;
		case O_OUT_GW:
			bad = parse_ip(optarg, &o->out_gw_ip, NULL);
			break;
		case O_CLIENT_NET:
			bad = parse_ip(optarg, &o->client_net, NULL);
			break;
		case O_DUT_IN_IP:
			bad = parse_ip(optarg, &o->dut_in_ip, &o->in_prefix);
			break;
		case O_IN_GW:
			bad = parse_ip(optarg, &o->in_gw_ip, NULL);
			break;
		case O_TUNNEL_NET:
			bad = parse_ip(optarg, &o->tunnel_net, NULL);
			break;
		case O_DC_HOST:
			bad = parse_ip(optarg, &o->dc_host, NULL);
			break;
		case O_PORT:
		case O_CLIENT_PORT:
			bad = parse_u64(optarg, &v) || v < 1 || v > 65535;
			*(c == O_PORT ? &o->dut_port : &o->client_port) = (uint16_t)v;
			break;
		case O_MTU:
			bad = parse_u64(optarg, &v) || v < 576 || v > 9000;
			o->mtu = (uint16_t)v;
			break;
		case O_HS_WINDOW:
			bad = parse_u64(optarg, &v) || v < 1 || v > 65536;
			o->hs_window = (unsigned)v;
			break;
		case O_HS_RATE:
			bad = parse_u64(optarg, &v);
			o->hs_rate = (double)v;
			break;
		case O_HS_TIMEOUT:
			bad = parse_u64(optarg, &v) || v < 20 || v > 60000;
			o->hs_timeout_ms = (unsigned)v;
			break;
		case O_HS_RETRIES:
			bad = parse_u64(optarg, &v) || v > 100;
			o->hs_retries = (unsigned)v;
			break;
		case O_COOKIE_DELAY:
			bad = parse_u64(optarg, &v) || v > 60000;
			o->cookie_delay_ms = (unsigned)v;
			break;
		case O_HS_WAIT:
			o->hs_wait_s = strtod(optarg, NULL);
			bad = o->hs_wait_s <= 0;
			break;
		case O_KEEPALIVE:
			bad = parse_u64(optarg, &v) || v < 1 || v > 60;
			o->keepalive_s = (unsigned)v;
			break;
		case O_REKEY:
			bad = parse_u64(optarg, &v) || v < 1 || v > 170;
			o->rekey_s = (unsigned)v;
			break;
		case O_DIR:
			o->dir[PG_FWD] = !strcmp(optarg, "fwd") || !strcmp(optarg, "both");
			o->dir[PG_REV] = !strcmp(optarg, "rev") || !strcmp(optarg, "both");
			bad = !o->dir[PG_FWD] && !o->dir[PG_REV];
			break;
		case O_RATE:
			bad = parse_rates(optarg, o);
			break;
		case O_DURATION:
			o->duration = strtod(optarg, NULL);
			bad = o->duration <= 0;
			break;
		case O_COUNT:
			bad = parse_u64(optarg, &o->count) || !o->count;
			break;
		case O_SIZE:
			bad = parse_sizes(optarg, &o->sizes);
			break;
		case O_WINDOW:
			bad = parse_u64(optarg, &v) || v < 64 || v > (1u << 24) || (v & (v - 1));
			o->window = (unsigned)v;
			break;
		case O_PREBUILD:
			o->prebuild = true;
			break;
		case O_DRAIN:
			o->drain = strtod(optarg, NULL);
			bad = o->drain < 0;
			break;
		case O_NO_VERIFY:
			o->verify = false;
			break;
		case O_RX_SAMPLE:
			bad = parse_u64(optarg, &v) || v < 1 || v > 1000000;
			o->rx_sample = (unsigned)v;
			break;
		case O_NO_TRAFFIC:
			cl->traffic = false;
			break;
		case O_DONE_FILE:
			o->done_file = optarg;
			break;
		case O_JSON:
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "wgdp-pktgen: option %s needs a value\n", argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "wgdp-pktgen: unknown option `%s'\n", argv[optind - 1]);
			return -EINVAL;
		}
		if (bad) {
			fprintf(stderr, "wgdp-pktgen: bad value `%s' for %s\n", optarg, argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wgdp-pktgen: unexpected argument `%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->n_rxq)
		o->n_rxq = (uint16_t)(o->n_txq + 1);
	if ((uint64_t)o->client_net + o->n_clients > UINT32_MAX ||
	    (uint64_t)o->tunnel_net + o->n_clients > UINT32_MAX) {
		fprintf(stderr, "wgdp-pktgen: --client-net/--tunnel-net + %u clients overflow\n", o->n_clients);
		return -EINVAL;
	}
	for (unsigned i = 0; i < o->sizes.n; i++)
		if (o->sizes.len[i] > o->mtu) {
			fprintf(stderr, "wgdp-pktgen: size %u is above the MTU %u\n", o->sizes.len[i], o->mtu);
			return -EINVAL;
		}
	if (!cl->print && (!o->outside_dev || !o->inside_dev)) {
		fprintf(stderr, "wgdp-pktgen: --outside and --inside are required\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- set-up --------------------------------------------------------------------- */

/*
 * DPDK 22.11's memif PMD numbers the packet buffers of all rings of a
 * connection in a uint16_t (memif_init_rings(): slot = ring * ring_size +
 * j), and the client, we, lays the region out: with more than 65,536 slots
 * in all, the buffers of the later rings wrap onto those of the first ones
 * and two rings write the same buffers (seen: corrupted frames, lost
 * handshake responses with 2 + 3 rings of 16,384). Refuse such devargs.
 */
static bool memif_slots_ok(const char *devargs, unsigned n_rings)
{
	const char *r = strstr(devargs, "rsize=");
	unsigned log2 = 10; /* the PMD's default: 1024 slots */

	if (strncmp(devargs, "net_memif", 9))
		return true;
	if (r)
		log2 = (unsigned)strtoul(r + 6, NULL, 10);
	if (log2 <= 16 && ((uint64_t)n_rings << log2) <= 65536)
		return true;
	fprintf(stderr,
		"wgdp-pktgen: %s: %u rings of 2^%u slots exceed memif's 65,536 buffer slots per\n"
		"  connection (DPDK 22.11 numbers them in 16 bits, and rings would share buffers):\n"
		"  use rsize=%u or fewer queues\n",
		devargs, n_rings, log2, 16u - (unsigned)(32 - __builtin_clz(n_rings - 1u)));
	return false;
}

static int open_port(struct pg_ctx *ctx, struct pg_port *p, const char *devargs, uint32_t my_ip, uint32_t dut_ip)
{
	struct wg_port_params params = {
		.devargs = devargs,
		.n_rxq = ctx->o->n_rxq,
		.n_txq = ctx->o->n_txq,
		.pool = ctx->rx_pool,
	};
	int ret = wg_port_open(&p->port, &params);

	if (ret)
		return ret;
	p->id = p->port.port_id;
	p->n_rxq = ctx->o->n_rxq;
	p->n_txq = ctx->o->n_txq;
	memcpy(p->mac, p->port.mac.addr_bytes, 6);
	p->my_ip = my_ip;
	p->dut_ip = dut_ip;
	return 0;
}

static bool link_up(const struct pg_port *p)
{
	struct rte_eth_link link;

	return rte_eth_link_get_nowait(p->id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

/* poll until cond holds or secs pass; false on timeout or stop */
static bool wait_for(struct pg_ctx *ctx, double secs, bool (*cond)(struct pg_ctx *), void (*every)(struct pg_ctx *),
		     double every_s)
{
	uint64_t end = pg_tsc() + (uint64_t)(secs * (double)ctx->hz), next = 0;

	while (!ctx->stop && pg_tsc() < end) {
		if (cond(ctx))
			return true;
		if (every && pg_tsc() >= next) {
			every(ctx);
			next = pg_tsc() + (uint64_t)(every_s * (double)ctx->hz);
		}
		pg_poll(ctx);
	}
	return cond(ctx);
}

static bool links_up(struct pg_ctx *ctx)
{
	return link_up(&ctx->out) && link_up(&ctx->in);
}

static bool never(struct pg_ctx *ctx)
{
	(void)ctx;
	return false;
}

static bool macs_known(struct pg_ctx *ctx)
{
	return ctx->out.dut_known && ctx->in.dut_known;
}

static void probe(struct pg_ctx *ctx)
{
	if (!ctx->out.dut_known)
		pg_arp_probe(ctx, &ctx->out);
	if (!ctx->in.dut_known)
		pg_arp_probe(ctx, &ctx->in);
	pg_ctl_flush(ctx);
}

/* every client's first handshake succeeded or gave up (rekeys may run meanwhile) */
static bool handshakes_done(struct pg_ctx *ctx)
{
	return ctx->cnt.hs_established + ctx->cnt.hs_failed >= ctx->o->n_clients;
}

static int setup(struct pg_ctx *ctx)
{
	const struct pg_opts *o = ctx->o;
	unsigned room = 0, n_tx = o->window + 16384;
	int ret;

	for (unsigned i = 0; i < o->sizes.n; i++) {
		unsigned f = 14 + 20 + 8 + WG_DATA_MIN_LEN + (unsigned)wg_data_padded_len(o->sizes.len[i], o->mtu);

		if (f > room)
			room = f;
	}
	/* tx mbufs sized for the largest frame of --size: small packets, small pool */
	room = RTE_PKTMBUF_HEADROOM + RTE_ALIGN_CEIL(room, 64u);
	ctx->rx_pool = rte_pktmbuf_pool_create("pg_rx", RX_POOL, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	ctx->tx_pool = rte_pktmbuf_pool_create("pg_tx", n_tx, 256, 0, (uint16_t)room, (int)rte_socket_id());
	if (!ctx->rx_pool || !ctx->tx_pool) {
		fprintf(stderr, "wgdp-pktgen: mbuf pools (%u + %u mbufs): %s (more memory: EAL -m)\n", RX_POOL, n_tx,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	if (!memif_slots_ok(o->outside_dev, o->n_txq + o->n_rxq) || !memif_slots_ok(o->inside_dev, o->n_txq + o->n_rxq))
		return -EINVAL;
	ret = open_port(ctx, &ctx->out, o->outside_dev, o->out_gw_ip, o->dut_out_ip);
	if (!ret)
		ret = open_port(ctx, &ctx->in, o->inside_dev, o->in_gw_ip, o->dut_in_ip);
	if (ret) {
		fprintf(stderr, "wgdp-pktgen: cannot open the ports: %s\n", strerror(-ret));
		return ret;
	}
	ret = wg_batch_aead_create(&ctx->aead, NULL);
	if (ret)
		return ret;
	ret = pg_traffic_create(ctx);
	if (ret)
		return ret;
	ret = pg_hs_create(ctx);
	return ret;
}

static void teardown(struct pg_ctx *ctx)
{
	pg_traffic_destroy(ctx);
	pg_hs_destroy(ctx);
	pg_clients_destroy(ctx);
	if (ctx->aead)
		wg_batch_aead_destroy(ctx->aead);
	wg_port_close(&ctx->in.port);
	wg_port_close(&ctx->out.port);
	rte_mempool_free(ctx->tx_pool);
	rte_mempool_free(ctx->rx_pool);
}

static void print_layout(const struct pg_ctx *ctx)
{
	const struct pg_opts *o = ctx->o;
	char k[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(k, ctx->server_pub);
	fprintf(stderr,
		"wgdp-pktgen: outside port %u %s, inside port %u %s, %u tx / %u rx queues each; lcore %u; batch AEAD %s\n"
		"wgdp-pktgen: %u clients (seed %" PRIu64 "), wgdp public key %s\n",
		ctx->out.id, ctx->out.port.name, ctx->in.id, ctx->in.port.name, o->n_txq, o->n_rxq, rte_lcore_id(),
		wg_batch_aead_arch(ctx->aead), o->n_clients, o->seed, k);
}

static void print_macs(const struct pg_ctx *ctx)
{
	const uint8_t *a = ctx->out.dut_mac, *b = ctx->in.dut_mac;

	fprintf(stderr,
		"wgdp-pktgen: wgdp outside MAC %02x:%02x:%02x:%02x:%02x:%02x, inside MAC "
		"%02x:%02x:%02x:%02x:%02x:%02x\n",
		a[0], a[1], a[2], a[3], a[4], a[5], b[0], b[1], b[2], b[3], b[4], b[5]);
}

/*
 * --done-file: tell the script we are done, then leave the ports alone
 * until wgdp has closed its side. DPDK 22.11's memif PMD unmaps a
 * connection's shared memory from its interrupt thread when the peer goes
 * away, without waiting for the lcores that poll the port: whichever side
 * disconnects first can crash the other if it is still polling (seen:
 * wgdp's worker, busy with a backlog, segfaulting in memif rx when we
 * exited). So the order is: we stop polling, wgdp stops its workers and
 * closes, our links go down, we close. Link status is read from the
 * ethdev, not from the shared memory.
 */
static void linger(struct pg_ctx *ctx)
{
	const struct timespec tick = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
	FILE *f = fopen(ctx->o->done_file, "w");

	if (!f) {
		fprintf(stderr, "wgdp-pktgen: cannot create %s: %s\n", ctx->o->done_file, strerror(errno));
		return;
	}
	fclose(f);
	for (unsigned i = 0; i < (unsigned)(LINGER_S * 100) && !ctx->stop; i++) {
		if (!link_up(&ctx->out) && !link_up(&ctx->in))
			return;
		nanosleep(&tick, NULL);
	}
}

static int run(struct pg_ctx *ctx, bool traffic)
{
	const struct pg_opts *o = ctx->o;
	uint64_t t0;
	double secs;

	if (!wait_for(ctx, LINK_WAIT_S, links_up, NULL, 0)) {
		fprintf(stderr, "wgdp-pktgen: links not up after %.0f s (is wgdp running?)\n", LINK_WAIT_S);
		return 1;
	}
	/* our link is up before wgdp's side has taken the connection: what wgdp sent
	 * in between would be refused there (counted as its tx_full). Settle first. */
	wait_for(ctx, LINK_SETTLE_S, never, NULL, 0);
	if (!wait_for(ctx, ARP_WAIT_S, macs_known, probe, 0.2)) {
		fprintf(stderr, "wgdp-pktgen: wgdp answered no ARP on the %s within %.0f s\n",
			ctx->out.dut_known ? "inside" : "outside", ARP_WAIT_S);
		return 1;
	}
	print_macs(ctx);
	if (pg_clients_create(ctx))
		return 1;
	t0 = pg_tsc();
	pg_hs_start_all(ctx);
	wait_for(ctx, o->hs_wait_s, handshakes_done, NULL, 0);
	secs = (double)(pg_tsc() - t0) / (double)ctx->hz;
	pg_report_handshakes(ctx, secs, stdout);
	if (!ctx->n_active)
		return 1;
	if (traffic)
		for (unsigned i = 0; i < o->n_rates && !ctx->stop; i++)
			pg_traffic_step(ctx, i + 1, o->rates[i]);
	pg_report_counters(ctx, stdout);
	pg_report_queues(ctx, stdout);
	if (ctx->cnt.content_errors)
		return 3;
	return ctx->cnt.hs_established == o->n_clients ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct pg_ctx ctx;
	struct cli cl;
	int i, ret, sep = -1;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			sep = i;
			break;
		}
	defaults(&cl);
	if (wg_crypto_init()) {
		fprintf(stderr, "wgdp-pktgen: cannot initialise the crypto library\n");
		return 1;
	}
	/* --print-* and --help need no EAL: our options are after `--', or all of them */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--print-peers") || !strcmp(argv[i], "--print-config") ||
		    !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			char **av = sep >= 0 ? argv + sep : argv;
			int ac = sep >= 0 ? argc - sep : argc;

			if (parse_args(ac, av, &cl))
				return 2;
			ret = cl.print == O_PRINT_PEERS ? pg_print_peers(stdout, &cl.o) : pg_print_config(stdout, &cl.o);
			return ret ? 1 : 0;
		}
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "wgdp-pktgen: EAL initialisation failed\n");
		return 2;
	}
	if (parse_args(argc - ret, argv + ret, &cl)) {
		usage(stderr);
		rte_eal_cleanup();
		return 2;
	}
	ctx.o = &cl.o;
	ctx.hz = rte_get_tsc_hz();
	if (cl.o.have_server_pub) {
		memcpy(ctx.server_pub, cl.o.server_pub, WG_KEY_LEN);
	} else {
		uint8_t priv[WG_KEY_LEN];

		pg_key_from_seed(priv, cl.o.seed, UINT32_MAX);
		wg_x25519_public(ctx.server_pub, priv);
		wg_secure_wipe(priv, sizeof(priv));
	}
	g_ctx = &ctx;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = setup(&ctx);
	if (!ret) {
		print_layout(&ctx);
		ret = run(&ctx, cl.traffic);
		if (cl.o.done_file)
			linger(&ctx);
	} else {
		ret = 1;
	}
	teardown(&ctx);
	rte_eal_cleanup();
	return ret;
}
