/* SPDX-License-Identifier: MIT */
/*
 * wgdp-pktgen: a WireGuard-aware traffic generator (issue 5). It plays N
 * WireGuard clients on a DPDK port facing the device under test's outside
 * and the datacenter on a second port facing its inside:
 *
 *   outside port (pg_port out)                inside port (pg_port in)
 *   clients 10.0.0.1.. :51820                 gateway 203.0.113.254,
 *   + outside gateway 192.0.2.254     wgdp    host 198.18.0.1 behind it
 *      ---- handshakes, data ---->  [192.0.2.1 | 203.0.113.1] ---- plain IP --->
 *      <--- data (reverse) -------                            <--- plain IP ----
 *
 * Every client has its own X25519 key (derived from a seed, so that wgdp's
 * config can be printed), completes a real Noise_IKpsk2 handshake, and then
 * sends transport messages with a fresh counter and a valid tag each; the
 * plaintext is an IPv4/UDP packet whose payload (struct pg_payload) carries
 * the client, a per-client sequence number and a global sequence number
 * that indexes the transmit-time log used for latency.
 *
 * Everything runs on one lcore (the main one): the machine has two cores
 * and wgdp needs the other. With --queues Q each port has Q transmit
 * queues: client i's packets, control frames included, always leave on
 * queue i mod Q of either port (so each client's order is kept per queue,
 * as RSS would keep a flow on one queue), and every receive queue is
 * polled. Modules, one concern each:
 *   clients.c    keys from the seed, addresses, indices, --print-* output
 *   handshake.c  initiations, responses, cookie replies, retries, keepalives
 *   arp.c        ARP on both ports: answering for what we impersonate,
 *                learning wgdp's MACs
 *   traffic.c    frame templates, the encrypt-ahead window, rate control
 *   rx.c         receive, decrypt, verify, order and latency checks
 *   stats.c      counters, latency histogram, text and JSON reports
 *   main.c       options, EAL, ports, the phases of a run
 */
#ifndef PG_PKTGEN_H
#define PG_PKTGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/messages.h"
#include "dataplane/port.h"

#define PG_MAX_CLIENTS 1000000u
#define PG_INDEX_BITS 20u         /* client number in the low bits of our indices, then
				   * the session's parity, then an 11-bit salt */
#define PG_MAX_STEPS 64u
#define PG_MAX_SIZES 8u
#define PG_BURST 32u
#define PG_MAX_RXQ 9u             /* wgdp's tx queues: one per worker + its control thread's */
#define PG_MAX_TXQ 8u             /* --queues: wgdp's rx queues, one per worker */
#define PG_MIN_INNER 64u          /* smallest inner packet: IPv4 + UDP + payload header + 4 */
#define PG_MAX_INNER 1800u        /* largest inner packet (fits a 2 KiB mbuf with headers) */
#define PG_PAYLOAD_MAGIC 0x47505747u /* "GWPG" little-endian: written by wgdp-pktgen */
#define PG_INNER_PORT 9u          /* UDP discard port on the datacenter side */
#define PG_TXLOG_BITS 21u         /* transmit-time log entries per direction: 2^21 */

enum pg_dir {
	PG_FWD = 0, /* clients -> wgdp outside -> wgdp inside -> us (decrypt path) */
	PG_REV = 1, /* us -> wgdp inside -> wgdp outside -> clients (encrypt path) */
	PG_NDIR
};

/* ---- options (main.c fills them) ----------------------------------------- */

struct pg_sizes {
	unsigned n;
	uint16_t len[PG_MAX_SIZES];    /* inner IP packet lengths (plaintext before padding) */
	uint16_t weight[PG_MAX_SIZES];
	uint32_t total_weight;
	char name[64];                 /* "64", "imix", ... for reports */
};

struct pg_opts {
	uint32_t n_clients;
	uint64_t seed;
	const char *outside_dev, *inside_dev;       /* our ports (devargs) */
	const char *dut_outside_dev, *dut_inside_dev; /* wgdp's, for --print-config */
	uint16_t n_txq;                 /* --queues: tx queues per port (memif: = wgdp's rx queues) */
	uint16_t n_rxq;                 /* rx queues per port (memif: = wgdp's tx queues; default
					 * n_txq + 1, one per worker and the control thread's) */
	bool have_server_pub;
	uint8_t server_pub[WG_KEY_LEN]; /* wgdp's public key (default: from the seed) */

	/* addressing, host byte order */
	uint32_t dut_out_ip, out_gw_ip, client_net; /* client i: client_net + i */
	uint32_t dut_in_ip, in_gw_ip, tunnel_net;   /* tunnel address of client i: tunnel_net + i */
	uint32_t dc_host;                           /* the datacenter host behind the inside gateway */
	uint8_t out_prefix, in_prefix;              /* wgdp's subnets on the two sides */
	uint16_t dut_port, client_port;
	uint16_t mtu;                               /* wgdp's MTU: padding never goes above it */

	/* handshakes */
	unsigned hs_window;       /* initiations in flight */
	double hs_rate;           /* initiations started per second, 0: no limit */
	unsigned hs_timeout_ms;   /* retry after this without an answer */
	unsigned hs_retries;      /* then give the client up */
	unsigned cookie_delay_ms; /* retry this long after a cookie reply */
	double hs_wait_s;         /* the whole handshake phase gives up after this */

	/* traffic */
	bool dir[PG_NDIR];
	double rates[PG_MAX_STEPS]; /* pps per direction per step; 0: as fast as possible */
	unsigned n_rates;
	double duration;            /* seconds per step */
	uint64_t count;             /* or packets per direction per step (0: by duration) */
	double drain;               /* seconds to wait for stragglers after a step */
	struct pg_sizes sizes;
	unsigned window;            /* encrypt-ahead window (power of two) */
	bool prebuild;              /* fill the window before a step, never during it */
	bool verify;                /* compare every received byte with what was sent */
	unsigned rx_sample;         /* reverse: open 1 message in rx_sample, count the rest by header */
	bool json;
	const char *done_file;      /* created after the reports; then we wait for wgdp to go */
	unsigned keepalive_s;       /* client sends a keepalive after this much silence on receive */
	unsigned rekey_s;           /* a session is renewed by a new handshake at this age */
};

/* ---- counters and statistics (stats.c) ----------------------------------- */

#define PG_HIST_SUB 32u
#define PG_HIST_BUCKETS (48u * PG_HIST_SUB)

struct pg_hist {
	uint64_t count, sum, min, max;
	uint32_t b[PG_HIST_BUCKETS];
};

void pg_hist_reset(struct pg_hist *h);
void pg_hist_add(struct pg_hist *h, uint64_t v);
/* the value at quantile q (0..1), the bucket's upper edge, exact at 1 */
uint64_t pg_hist_quantile(const struct pg_hist *h, double q);

/* what one step of one direction did */
struct pg_dir_stats {
	uint64_t tx_pkts, tx_bytes, tx_wire;   /* offered: inner IP bytes, L2 frame bytes */
	uint64_t rx_pkts, rx_bytes, rx_wire;   /* received, verified */
	uint64_t rx_bad;          /* content, length or addresses differ from what was sent */
	uint64_t rx_bad_tag;      /* reverse: does not authenticate (should never happen) */
	uint64_t rx_reordered;    /* per-client sequence below the highest seen */
	uint64_t rx_gaps;         /* per-client sequence jumped ahead (loss or reordering) */
	uint64_t rx_ctr_reordered;/* reverse: WireGuard counter not increasing */
	uint64_t rx_stale;        /* belongs to an earlier step */
	uint64_t tx_full;         /* transmit ring refused packets (retried) */
	uint64_t gen_empty;       /* forward: the window ran dry while packets were due */
	uint64_t gseq_first, gseq_end; /* the global sequence numbers of this step */
	struct pg_hist lat;       /* ns, transmit to receive */
};

/* the whole run (never reset) */
#define PG_COUNTERS(X)                                                                   \
	X(arp_requests_rx) X(arp_replies_tx) X(arp_requests_tx) X(arp_replies_rx)        \
	X(hs_initiations_tx) X(hs_responses_rx) X(hs_responses_bad) X(hs_cookies_rx)     \
	X(hs_cookies_bad) X(hs_timeouts) X(hs_failed) X(hs_established)                  \
	X(hs_initiations_from_dut) X(keepalives_tx) X(keepalives_rx) X(data_unknown_index) \
	X(out_other_rx) X(in_other_rx) X(ctl_tx_drops) X(no_mbuf) X(rekeys) X(rekeys_failed) \
	X(content_errors)

struct pg_counters {
#define PG_X_FIELD(f) uint64_t f;
	PG_COUNTERS(PG_X_FIELD)
#undef PG_X_FIELD
};

/* ---- clients (clients.c) ------------------------------------------------- */

enum pg_client_state {
	PG_CL_IDLE,        /* no session, not queued */
	PG_CL_QUEUED,      /* waiting for a handshake slot */
	PG_CL_HANDSHAKE,   /* initiation sent (or waiting to resend after a cookie) */
	PG_CL_ESTABLISHED, /* keys derived: may send */
	PG_CL_FAILED,      /* gave up after hs_retries */
};

struct pg_client {
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	uint8_t send_key[WG_KEY_LEN], recv_key[WG_KEY_LEN];
	uint8_t prev_recv_key[WG_KEY_LEN]; /* the session before the latest rekey */
	uint64_t send_counter;      /* next WireGuard counter to use */
	uint64_t recv_counter_next; /* reverse: above the highest counter received */
	uint64_t prev_recv_counter_next;
	uint64_t seq_tx[PG_NDIR];   /* next payload sequence number to send */
	uint64_t seq_rx[PG_NDIR];   /* above the highest sequence number received */
	uint64_t birth_tsc;         /* session established */
	uint64_t rekey_tsc;         /* when to start the next rekey */
	uint64_t last_tx_tsc;       /* anything sent to wgdp (for keepalives) */
	uint64_t last_rx_tsc;       /* anything authenticated received */
	uint32_t remote_index;      /* wgdp's index for this session */
	uint32_t hs_slot;
	uint8_t state;
	uint8_t tries;
	uint8_t gen;                /* sessions so far - 1: its parity is bit 20 of our index */
	bool in_hs;                 /* a handshake slot is ours (first handshake or rekey) */
	bool has_prev;              /* prev_recv_key is valid */
};

struct pg_ctx;

int pg_clients_create(struct pg_ctx *ctx);
void pg_clients_destroy(struct pg_ctx *ctx);
/* deterministic keys: client i (0-based), or the server with i = UINT32_MAX */
void pg_key_from_seed(uint8_t priv[WG_KEY_LEN], uint64_t seed, uint32_t i);
/* our index for client c's session number gen (its parity: bit PG_INDEX_BITS) */
uint32_t pg_client_local_index(const struct pg_ctx *ctx, uint32_t c, uint8_t gen);
/* the client an index of ours names, or UINT32_MAX; *parity: of the session's gen */
uint32_t pg_client_of_index(const struct pg_ctx *ctx, uint32_t idx, unsigned *parity);
/* client of an outer address (host order), or UINT32_MAX */
uint32_t pg_client_of_outer_ip(const struct pg_opts *o, uint32_t ip);
int pg_print_peers(FILE *f, const struct pg_opts *o);
/* a.b.c.d of a host-order address into buf (16 bytes) */
const char *pg_ip_str(uint32_t ip, char buf[16]);
int pg_print_config(FILE *f, const struct pg_opts *o);

/* ---- ports and the context ------------------------------------------------ */

struct pg_port {
	struct wg_port port;
	uint16_t id;
	uint16_t n_rxq, n_txq;
	uint8_t mac[6];          /* ours */
	uint8_t dut_mac[6];      /* wgdp's on this link, learnt by ARP */
	bool dut_known;
	uint32_t my_ip, dut_ip;  /* the gateway we play, wgdp's address (host order) */
	struct rte_mbuf *ctl[PG_MAX_TXQ][PG_BURST]; /* control frames waiting for pg_ctl_flush, by queue */
	unsigned n_ctl[PG_MAX_TXQ];
};

struct pg_hs;
struct pg_traffic;
struct wg_batch_aead;

struct pg_ctx {
	struct pg_opts *o;
	struct pg_port out, in;
	struct rte_mempool *rx_pool, *tx_pool;
	struct wg_batch_aead *aead;
	struct pg_client *clients;
	uint32_t *active;        /* established clients, in order: traffic goes round robin */
	uint32_t n_active;
	uint32_t index_salt;     /* high 11 bits of our indices */
	uint8_t server_pub[WG_KEY_LEN];
	struct pg_hs *hs;
	struct pg_traffic *tr;
	struct pg_dir_stats st[PG_NDIR];
	struct pg_counters cnt;
	uint64_t *txlog[PG_NDIR]; /* tsc at transmit, by gseq & mask */
	uint64_t gseq_sent[PG_NDIR]; /* the next gseq to hand out: every lower one was sent, is
				      * waiting in a queue's stage, or was thrown away */
	uint64_t hz;
	bool in_step;
	uint64_t rx_msgs;        /* reverse data messages seen, for rx_sample */
	volatile int stop;
};

static inline uint64_t pg_tsc(void)
{
	return rte_rdtsc();
}

/* monotonic ns for the protocol code (cookies, keypair birth) */
uint64_t pg_now_ns(void);
uint64_t pg_realtime_ns(void);

/* the transmit queue of client c's packets (on both ports) */
static inline uint16_t pg_client_queue(const struct pg_ctx *ctx, uint32_t c)
{
	return (uint16_t)(c % ctx->out.n_txq);
}

/* queue a control frame (ARP, handshake, keepalive) on tx queue q of a port; sent by pg_ctl_flush */
void pg_ctl_send(struct pg_ctx *ctx, struct pg_port *p, uint16_t q, struct rte_mbuf *m);
void pg_ctl_flush(struct pg_ctx *ctx);
/* one round of everything but traffic transmission: rx, handshakes, timers */
void pg_poll(struct pg_ctx *ctx);

/* ---- frames (traffic.c) ---------------------------------------------------- */

/* the payload header at the start of the inner UDP payload */
struct pg_payload {
	uint32_t magic;
	uint32_t client;
	uint64_t seq;    /* per client and direction */
	uint64_t gseq;   /* per direction: indexes ctx->txlog */
	uint16_t len;    /* inner IP packet length */
	uint8_t dir;
	uint8_t pad[5];
} __attribute__((packed));
_Static_assert(sizeof(struct pg_payload) == 32, "payload header");
#define PG_INNER_HDRS (20u + 8u)  /* inner IPv4 + UDP */

/* outer Ethernet + IPv4 + UDP in front of a WireGuard message from client c */
void pg_outer_headers(const struct pg_ctx *ctx, uint32_t c, uint8_t *frame, uint32_t msg_len, uint16_t ip_id);
/* a WireGuard message of msg_len bytes from client c, in an mbuf with outer headers */
struct rte_mbuf *pg_wg_frame(struct pg_ctx *ctx, uint32_t c, const void *msg, uint32_t msg_len);
/* the expected bytes of an inner packet from offset PG_INNER_HDRS + 32 on */
const uint8_t *pg_pattern(const struct pg_ctx *ctx, uint16_t len);

int pg_traffic_create(struct pg_ctx *ctx);
void pg_traffic_destroy(struct pg_ctx *ctx);
/* run one step at rate pps per enabled direction; fills ctx->st */
void pg_traffic_step(struct pg_ctx *ctx, unsigned step, double rate);

/* ---- receive (rx.c) --------------------------------------------------------- */

void pg_rx_poll(struct pg_ctx *ctx);

/* ---- ARP (arp.c) ------------------------------------------------------------ */

/* an ARP frame received on p: answer or learn */
void pg_arp_input(struct pg_ctx *ctx, struct pg_port *p, const uint8_t *frame, uint32_t len);
/* ask for wgdp's MAC on p (who-has dut_ip tell my_ip) */
void pg_arp_probe(struct pg_ctx *ctx, struct pg_port *p);

/* ---- handshakes (handshake.c) ----------------------------------------------- */

int pg_hs_create(struct pg_ctx *ctx);
void pg_hs_destroy(struct pg_ctx *ctx);
/* queue every client for a handshake */
void pg_hs_start_all(struct pg_ctx *ctx);
/* start, retry and time out handshakes; keepalives and rekeys of sessions */
void pg_hs_poll(struct pg_ctx *ctx, uint64_t now);
/* handshakes still queued or in flight */
uint32_t pg_hs_pending(const struct pg_ctx *ctx);
/* a handshake message (type 1, 2, 3) from wgdp to client c's address */
void pg_hs_input(struct pg_ctx *ctx, const uint8_t *msg, uint32_t len, uint32_t src_ip, uint16_t src_port);
/* an empty data message from client c (confirms a session, keeps it alive) */
void pg_keepalive(struct pg_ctx *ctx, uint32_t c);

/* ---- reports (stats.c) ------------------------------------------------------- */

void pg_report_handshakes(const struct pg_ctx *ctx, double secs, FILE *f);
void pg_report_step(const struct pg_ctx *ctx, unsigned step, double rate, double secs, FILE *f);
void pg_report_counters(const struct pg_ctx *ctx, FILE *f);
/* packets per tx and rx queue of both ports over the run */
void pg_report_queues(const struct pg_ctx *ctx, FILE *f);

#endif
