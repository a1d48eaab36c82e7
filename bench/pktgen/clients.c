/* SPDX-License-Identifier: MIT */
/*
 * The simulated clients: their keys, addresses and indices, and the wgdp
 * configuration that makes them peers.
 *
 * Keys come from a seed so that two runs (and the config printed for wgdp)
 * agree without exchanging anything: client i's private key is
 *   clamp(BLAKE2s-256("wgdp-pktgen key v1" || le64 seed || le32 i)),
 * and wgdp's own private key is the same with i = 0xffffffff. These are
 * benchmark keys: anyone with the seed has them.
 *
 * Addresses (host order in struct pg_opts): client i sends from
 * client_net + i, port client_port, and owns the tunnel address
 * tunnel_net + i/32 (its AllowedIPs at wgdp). Our indices are
 * i | (session parity) << 20 | salt << 21 with a per-run 11-bit salt, so
 * wgdp's data messages name the client and the session (current or the
 * one before a rekey) directly, and an index from an older run does not match.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench/pktgen/pktgen.h"
#include "conf/key.h"
#include "crypto/blake2s.h"
#include "crypto/secure.h"
#include "crypto/x25519.h"

#define KEY_LABEL "wgdp-pktgen key v1"
#define CLIENT_MASK ((1u << PG_INDEX_BITS) - 1u)

_Static_assert(PG_MAX_CLIENTS <= (1u << PG_INDEX_BITS), "client numbers fit the index");

void pg_key_from_seed(uint8_t priv[WG_KEY_LEN], uint64_t seed, uint32_t i)
{
	uint8_t in[sizeof(KEY_LABEL) - 1 + 8 + 4];

	memcpy(in, KEY_LABEL, sizeof(KEY_LABEL) - 1);
	wg_le64_write(in + sizeof(KEY_LABEL) - 1, seed);
	wg_le32_write(in + sizeof(KEY_LABEL) - 1 + 8, i);
	wg_blake2s_hash(priv, in, sizeof(in));
	wg_x25519_clamp(priv);
}

const char *pg_ip_str(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

uint32_t pg_client_local_index(const struct pg_ctx *ctx, uint32_t c, uint8_t gen)
{
	return c | (uint32_t)(gen & 1u) << PG_INDEX_BITS | ctx->index_salt << (PG_INDEX_BITS + 1);
}

uint32_t pg_client_of_index(const struct pg_ctx *ctx, uint32_t idx, unsigned *parity)
{
	uint32_t c = idx & CLIENT_MASK;

	if (idx >> (PG_INDEX_BITS + 1) != ctx->index_salt || c >= ctx->o->n_clients)
		return UINT32_MAX;
	*parity = (idx >> PG_INDEX_BITS) & 1u;
	return c;
}

uint32_t pg_client_of_outer_ip(const struct pg_opts *o, uint32_t ip)
{
	uint32_t c = ip - o->client_net;

	return c < o->n_clients ? c : UINT32_MAX;
}

/*
 * Keys for every client: one X25519 base-point multiplication each (about
 * 30 us), so a million clients take half a minute; progress goes to stderr.
 */
int pg_clients_create(struct pg_ctx *ctx)
{
	const struct pg_opts *o = ctx->o;
	uint64_t t0 = pg_tsc(), last = t0;

	ctx->clients = calloc(o->n_clients, sizeof(*ctx->clients));
	ctx->active = calloc(o->n_clients, sizeof(*ctx->active));
	if (!ctx->clients || !ctx->active) {
		pg_clients_destroy(ctx);
		return -ENOMEM;
	}
	ctx->index_salt = wg_secure_random_u32() & ((1u << (32 - PG_INDEX_BITS - 1)) - 1u);
	for (uint32_t i = 0; i < o->n_clients; i++) {
		struct pg_client *cl = &ctx->clients[i];

		pg_key_from_seed(cl->priv, o->seed, i);
		if (wg_x25519_public(cl->pub, cl->priv)) {
			fprintf(stderr, "wgdp-pktgen: client %u: key gives a zero public key\n", i);
			pg_clients_destroy(ctx);
			return -EINVAL;
		}
		cl->state = PG_CL_IDLE;
		if (pg_tsc() - last > ctx->hz * 5) {
			last = pg_tsc();
			fprintf(stderr, "wgdp-pktgen: keys: %u of %u\n", i + 1, o->n_clients);
		}
	}
	fprintf(stderr, "wgdp-pktgen: %u client keys in %.2f s\n", o->n_clients,
		(double)(pg_tsc() - t0) / (double)ctx->hz);
	return 0;
}

void pg_clients_destroy(struct pg_ctx *ctx)
{
	if (ctx->clients)
		wg_secure_wipe(ctx->clients, (size_t)ctx->o->n_clients * sizeof(*ctx->clients));
	free(ctx->clients);
	free(ctx->active);
	ctx->clients = NULL;
	ctx->active = NULL;
}

static void print_peer(FILE *f, const struct pg_opts *o, uint32_t i)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	char b64[WG_KEY_B64_LEN + 1], ip[16];

	pg_key_from_seed(priv, o->seed, i);
	wg_x25519_public(pub, priv);
	wg_secure_wipe(priv, sizeof(priv));
	wg_key_to_base64(b64, pub);
	/* kept short: wgdp reads at most 16 MiB of config file (about 170,000 of these) */
	fprintf(f, "\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n", b64, pg_ip_str(o->tunnel_net + i, ip));
}

int pg_print_peers(FILE *f, const struct pg_opts *o)
{
	for (uint32_t i = 0; i < o->n_clients; i++)
		print_peer(f, o, i);
	return ferror(f) ? -EIO : 0;
}

/*
 * wgdp's whole configuration for this run: its key from the seed, the two
 * ports as memif servers (or what --dut-outside/--dut-inside say), the
 * addresses pktgen expects, and one [Peer] per client.
 */
int pg_print_config(FILE *f, const struct pg_opts *o)
{
	uint8_t priv[WG_KEY_LEN];
	char b64[WG_KEY_B64_LEN + 1], a[16], b[16], c[16], d[16];
	uint32_t max_peers = o->n_clients < 1024 ? 1024 : o->n_clients;

	pg_key_from_seed(priv, o->seed, UINT32_MAX);
	wg_key_to_base64(b64, priv);
	wg_secure_wipe(priv, sizeof(priv));
	fprintf(f,
		"# wgdp config for wgdp-pktgen: %u clients, seed %" PRIu64 "\n"
		"[Interface]\n"
		"PrivateKey = %s\n"
		"ListenPort = %u\n"
		"Address = %s/%u\n"
		"MTU = %u\n"
		"\n"
		"[Appliance]\n"
		"OutsideDevice = %s\n"
		"InsideDevice = %s\n"
		"OutsideAddress = %s/%u\n"
		"OutsideGateway = %s\n"
		"InsideGateway = %s\n"
		"MaxPeers = %u\n"
		"UapiInterface = off\n",
		o->n_clients, o->seed, b64, o->dut_port, pg_ip_str(o->dut_in_ip, a), o->in_prefix, o->mtu,
		o->dut_outside_dev, o->dut_inside_dev, pg_ip_str(o->dut_out_ip, b), o->out_prefix,
		pg_ip_str(o->out_gw_ip, c), pg_ip_str(o->in_gw_ip, d), max_peers);
	wg_secure_wipe(b64, sizeof(b64));
	return pg_print_peers(f, o);
}
