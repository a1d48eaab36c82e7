/* SPDX-License-Identifier: MIT */
/*
 * Real Noise_IKpsk2 handshakes, one per client, with wgdp as the responder,
 * through libwgproto (control/noise.h, control/cookie.h): nothing here is
 * simulated, so wgdp spends exactly what it would on a real client.
 *
 * A client goes IDLE -> QUEUED -> HANDSHAKE -> ESTABLISHED (or FAILED).
 * At most hs_window handshakes are in flight, each in a slot holding its
 * Noise state and its cookie maker; slots are started at most hs_rate per
 * second. A slot's timer either resends after a cookie reply (the reply
 * gave us mac2 for the next initiation: wgdp is under load) or counts a
 * timeout and resends, up to hs_retries times. Every initiation is fresh:
 * new ephemeral, new TAI64N timestamp (its 2^24 ns granularity and wgdp's
 * 1/50 s flood rule are why retries are never faster than 20 ms).
 *
 * On the response: mac1 is checked against the client's own key, the
 * response consumed, the keypair derived, and a keepalive sent at once so
 * that wgdp confirms its "next" keypair and can send to us (a responder
 * never sends on an unconfirmed keypair).
 *
 * Sessions are then kept alive: a client that received something since it
 * last sent, and has been quiet for keepalive_s, sends a keepalive (wgdp
 * would otherwise start a handshake of its own 15 s after its first
 * unanswered data message). At rekey_s (REKEY_AFTER_TIME, 120 s) a client
 * starts a new handshake while its session goes on sending; the response
 * switches it to the new keys (session parity flips in our index) and
 * keeps the old receiving key for what wgdp sealed before it switched.
 * A failed rekey is retried 10 s later; the old session lasts until
 * REJECT_AFTER_TIME (180 s).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench/pktgen/pktgen.h"
#include "control/cookie.h"
#include "control/noise.h"
#include "control/tai64n.h"
#include "crypto/aead.h"
#include "crypto/secure.h"

#define SCAN_NS (1ull * WG_NSEC_PER_MSEC)
#define SWEEP_NS (100ull * WG_NSEC_PER_MSEC)
#define SWEEP_ROUNDS 20u      /* every client is visited every SWEEP_ROUNDS sweeps */
#define RATE_BURST 32u
#define MIN_RETRY_MS 20u

struct pg_hs_slot {
	struct wg_noise_handshake hs;
	struct wg_noise_ephemeral eph; /* hs.eph (control/noise.h): the slot's own */
	struct wg_cookie_maker cookie;
	uint64_t deadline;    /* tsc: resend or time out */
	uint64_t sent_tsc;    /* the latest initiation */
	uint32_t client;
	uint32_t index;       /* our sender index: the client and the parity of its next session */
	bool cookie_wait;     /* deadline resends with the cookie, not a timeout */
};

struct pg_hs {
	struct pg_hs_slot *slots;
	uint32_t *free;
	uint32_t n_free, n_slots;
	uint32_t *queue;      /* ring of clients waiting for a slot */
	uint64_t q_head, q_tail;
	uint32_t q_cap;
	double tokens;        /* rate limit on starts */
	uint64_t last_refill;
	uint64_t next_scan, next_sweep;
	uint32_t sweep_pos;
};

static void identity_of(const struct pg_client *cl, struct wg_noise_identity *id)
{
	memcpy(id->private_key, cl->priv, WG_KEY_LEN);
	memcpy(id->public_key, cl->pub, WG_KEY_LEN);
	id->has_identity = true;
}

int pg_hs_create(struct pg_ctx *ctx)
{
	struct pg_hs *h = calloc(1, sizeof(*h));
	unsigned w = ctx->o->hs_window;

	if (!h)
		return -ENOMEM;
	h->n_slots = w;
	h->slots = calloc(w, sizeof(*h->slots));
	h->free = calloc(w, sizeof(*h->free));
	h->q_cap = ctx->o->n_clients;
	h->queue = calloc(h->q_cap, sizeof(*h->queue));
	if (!h->slots || !h->free || !h->queue) {
		free(h->slots);
		free(h->free);
		free(h->queue);
		free(h);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < w; i++) {
		h->slots[i].client = UINT32_MAX;
		h->free[h->n_free++] = w - 1 - i;
	}
	h->tokens = RATE_BURST;
	ctx->hs = h;
	return 0;
}

void pg_hs_destroy(struct pg_ctx *ctx)
{
	struct pg_hs *h = ctx->hs;

	if (!h)
		return;
	wg_secure_wipe(h->slots, h->n_slots * sizeof(*h->slots));
	free(h->slots);
	free(h->free);
	free(h->queue);
	free(h);
	ctx->hs = NULL;
}

static void enqueue(struct pg_ctx *ctx, uint32_t c)
{
	struct pg_hs *h = ctx->hs;

	if (h->q_tail - h->q_head >= h->q_cap)
		return; /* every client is queued already */
	h->queue[h->q_tail++ % h->q_cap] = c;
	if (ctx->clients[c].state == PG_CL_ESTABLISHED)
		ctx->clients[c].in_hs = true; /* queued for a rekey: not again */
	else
		ctx->clients[c].state = PG_CL_QUEUED;
}

void pg_hs_start_all(struct pg_ctx *ctx)
{
	for (uint32_t c = 0; c < ctx->o->n_clients; c++)
		if (ctx->clients[c].state == PG_CL_IDLE)
			enqueue(ctx, c);
}

uint32_t pg_hs_pending(const struct pg_ctx *ctx)
{
	const struct pg_hs *h = ctx->hs;

	return (uint32_t)(h->q_tail - h->q_head) + (h->n_slots - h->n_free);
}

void pg_keepalive(struct pg_ctx *ctx, uint32_t c)
{
	struct pg_client *cl = &ctx->clients[c];
	uint8_t msg[WG_DATA_MIN_LEN];
	struct rte_mbuf *m;
	uint64_t counter = cl->send_counter++;

	msg[0] = WG_MSG_DATA;
	msg[1] = msg[2] = msg[3] = 0;
	wg_le32_write(msg + 4, cl->remote_index);
	wg_le64_write(msg + 8, counter);
	wg_aead_encrypt(msg + WG_DATA_HEADER_LEN, msg + WG_DATA_HEADER_LEN, 0, NULL, 0, counter, cl->send_key);
	m = pg_wg_frame(ctx, c, msg, sizeof(msg));
	if (!m)
		return;
	cl->last_tx_tsc = pg_tsc();
	ctx->cnt.keepalives_tx++;
	pg_ctl_send(ctx, &ctx->out, pg_client_queue(ctx, c), m);
}

static void send_initiation(struct pg_ctx *ctx, struct pg_hs_slot *s, uint64_t now)
{
	struct pg_client *cl = &ctx->clients[s->client];
	struct wg_noise_identity id;
	struct wg_msg_initiation msg;
	uint8_t ts[WG_TIMESTAMP_LEN];
	struct rte_mbuf *m;

	identity_of(cl, &id);
	wg_tai64n_encode(ts, pg_realtime_ns());
	if (wg_noise_create_initiation(&id, &s->hs, &msg, s->index, ts)) {
		wg_secure_wipe(&id, sizeof(id));
		s->deadline = now; /* cannot happen with a valid key: time it out */
		return;
	}
	wg_secure_wipe(&id, sizeof(id));
	wg_cookie_add_macs(&s->cookie, ctx->server_pub, (uint8_t *)&msg, sizeof(msg), pg_now_ns());
	s->sent_tsc = now;
	s->deadline = now + ctx->o->hs_timeout_ms * ctx->hz / 1000;
	s->cookie_wait = false;
	m = pg_wg_frame(ctx, s->client, &msg, sizeof(msg));
	if (!m)
		return;
	cl->last_tx_tsc = now;
	ctx->cnt.hs_initiations_tx++;
	pg_ctl_send(ctx, &ctx->out, pg_client_queue(ctx, s->client), m);
}

static void release(struct pg_ctx *ctx, struct pg_hs_slot *s)
{
	struct pg_hs *h = ctx->hs;

	wg_noise_handshake_wipe(&s->hs);
	wg_cookie_maker_wipe(&s->cookie);
	ctx->clients[s->client].in_hs = false;
	s->client = UINT32_MAX;
	h->free[h->n_free++] = (uint32_t)(s - h->slots);
}

static void start(struct pg_ctx *ctx, uint32_t c, uint64_t now)
{
	struct pg_hs *h = ctx->hs;
	struct pg_client *cl = &ctx->clients[c];
	struct pg_hs_slot *s = &h->slots[h->free[--h->n_free]];
	struct wg_noise_identity id;

	identity_of(cl, &id);
	wg_noise_handshake_init(&s->hs, &id, ctx->server_pub, NULL); /* DH(S_client, S_wgdp) */
	s->hs.eph = &s->eph;
	wg_secure_wipe(&id, sizeof(id));
	wg_cookie_maker_init(&s->cookie);
	s->client = c;
	cl->hs_slot = (uint32_t)(s - h->slots);
	cl->in_hs = true;
	cl->tries = 0;
	if (cl->state == PG_CL_ESTABLISHED) {
		s->index = pg_client_local_index(ctx, c, (uint8_t)(cl->gen + 1)); /* a rekey */
	} else {
		s->index = pg_client_local_index(ctx, c, cl->gen);
		cl->state = PG_CL_HANDSHAKE;
	}
	send_initiation(ctx, s, now);
}

/* slots whose timer ran out: resend after a cookie, or count a timeout */
static void scan(struct pg_ctx *ctx, uint64_t now)
{
	struct pg_hs *h = ctx->hs;

	for (uint32_t i = 0; i < h->n_slots; i++) {
		struct pg_hs_slot *s = &h->slots[i];
		struct pg_client *cl;

		if (s->client == UINT32_MAX || now < s->deadline)
			continue;
		cl = &ctx->clients[s->client];
		if (!s->cookie_wait) {
			ctx->cnt.hs_timeouts++;
			if (++cl->tries > ctx->o->hs_retries) {
				if (cl->state == PG_CL_ESTABLISHED) {
					ctx->cnt.rekeys_failed++; /* the old session goes on */
					cl->rekey_tsc = now + 10 * ctx->hz;
				} else {
					ctx->cnt.hs_failed++;
					cl->state = PG_CL_FAILED;
				}
				release(ctx, s);
				continue;
			}
		}
		send_initiation(ctx, s, now);
	}
}

/* rekeys, and passive keepalives (the kernel's rule), over a slice of the clients */
static void sweep(struct pg_ctx *ctx, uint64_t now)
{
	struct pg_hs *h = ctx->hs;
	uint32_t n = ctx->o->n_clients, budget = n / SWEEP_ROUNDS + 1;
	uint64_t quiet = (uint64_t)ctx->o->keepalive_s * ctx->hz;
	/* while a forward step runs the clients send data, which is enough */
	bool keepalives = !(ctx->in_step && ctx->o->dir[PG_FWD]);

	if (!ctx->clients)
		return;
	for (uint32_t k = 0; k < budget && k < n; k++) {
		uint32_t c = h->sweep_pos;
		struct pg_client *cl = &ctx->clients[c];

		h->sweep_pos = c + 1 < n ? c + 1 : 0;
		if (cl->state != PG_CL_ESTABLISHED)
			continue;
		if (!cl->in_hs && now >= cl->rekey_tsc)
			enqueue(ctx, c);
		else if (keepalives && cl->last_rx_tsc > cl->last_tx_tsc && now - cl->last_tx_tsc >= quiet)
			pg_keepalive(ctx, c);
	}
}

void pg_hs_poll(struct pg_ctx *ctx, uint64_t now)
{
	struct pg_hs *h = ctx->hs;
	const struct pg_opts *o = ctx->o;

	if (o->hs_rate > 0) {
		if (h->last_refill)
			h->tokens += (double)(now - h->last_refill) * o->hs_rate / (double)ctx->hz;
		if (h->tokens > RATE_BURST)
			h->tokens = RATE_BURST;
		h->last_refill = now;
	}
	while (h->n_free && h->q_head != h->q_tail && (o->hs_rate <= 0 || h->tokens >= 1.0)) {
		uint32_t c = h->queue[h->q_head++ % h->q_cap];

		h->tokens -= 1.0;
		start(ctx, c, now);
	}
	if (now >= h->next_scan) {
		scan(ctx, now);
		h->next_scan = now + SCAN_NS * ctx->hz / WG_NSEC_PER_SEC;
	}
	if (now >= h->next_sweep) {
		sweep(ctx, now);
		h->next_sweep = now + SWEEP_NS * ctx->hz / WG_NSEC_PER_SEC;
	}
}

static struct pg_hs_slot *slot_of(struct pg_ctx *ctx, uint32_t idx)
{
	unsigned parity;
	uint32_t c = pg_client_of_index(ctx, idx, &parity);
	struct pg_client *cl;
	struct pg_hs_slot *s;

	if (c == UINT32_MAX)
		return NULL;
	cl = &ctx->clients[c];
	if (!cl->in_hs || cl->hs_slot >= ctx->hs->n_slots)
		return NULL;
	s = &ctx->hs->slots[cl->hs_slot];
	return s->client == c && s->index == idx ? s : NULL;
}

static void consume_response(struct pg_ctx *ctx, const struct wg_msg_response *msg)
{
	struct pg_hs_slot *s = slot_of(ctx, wg_le32_read(&msg->receiver_index));
	struct wg_cookie_checker checker;
	struct wg_noise_identity id;
	struct wg_keypair kp;
	struct pg_client *cl;
	uint64_t now = pg_tsc();
	int ret;

	if (!s) {
		ctx->cnt.hs_responses_bad++;
		return;
	}
	cl = &ctx->clients[s->client];
	/* mac1 of a response is keyed with the initiator's (our client's) public key */
	wg_cookie_checker_init(&checker, cl->pub);
	ret = wg_cookie_validate(&checker, (const uint8_t *)msg, sizeof(*msg), NULL, false, pg_now_ns()) ==
			      WG_COOKIE_INVALID_MAC ? -EBADMSG : 0;
	wg_cookie_checker_wipe(&checker);
	identity_of(cl, &id);
	if (!ret)
		ret = wg_noise_consume_response(&id, &s->hs, msg);
	wg_secure_wipe(&id, sizeof(id));
	if (!ret)
		ret = wg_noise_derive_keypair(&s->hs, &kp, pg_now_ns());
	if (ret) {
		ctx->cnt.hs_responses_bad++;
		return;
	}
	ctx->cnt.hs_responses_rx++;
	if (cl->state == PG_CL_ESTABLISHED) { /* a rekey: the old session still receives */
		memcpy(cl->prev_recv_key, cl->recv_key, WG_KEY_LEN);
		cl->prev_recv_counter_next = cl->recv_counter_next;
		cl->has_prev = true;
		cl->gen++;
		ctx->cnt.rekeys++;
	} else {
		cl->state = PG_CL_ESTABLISHED;
		ctx->active[ctx->n_active++] = s->client;
		ctx->cnt.hs_established++;
	}
	memcpy(cl->send_key, kp.send_key, WG_KEY_LEN);
	memcpy(cl->recv_key, kp.recv_key, WG_KEY_LEN);
	cl->remote_index = kp.remote_index;
	cl->send_counter = 0;
	cl->recv_counter_next = 0;
	cl->birth_tsc = now;
	cl->rekey_tsc = now + (uint64_t)ctx->o->rekey_s * ctx->hz;
	cl->last_rx_tsc = now;
	wg_keypair_wipe(&kp);
	pg_keepalive(ctx, s->client); /* confirms the session at wgdp */
	release(ctx, s);
}

static void consume_cookie(struct pg_ctx *ctx, const struct wg_msg_cookie *msg)
{
	struct pg_hs_slot *s = slot_of(ctx, wg_le32_read(&msg->receiver_index));
	unsigned delay = ctx->o->cookie_delay_ms < MIN_RETRY_MS ? MIN_RETRY_MS : ctx->o->cookie_delay_ms;

	if (!s || wg_cookie_consume_reply(&s->cookie, ctx->server_pub, msg, pg_now_ns())) {
		ctx->cnt.hs_cookies_bad++;
		return;
	}
	ctx->cnt.hs_cookies_rx++;
	s->cookie_wait = true;
	s->deadline = pg_tsc() + delay * ctx->hz / 1000;
}

void pg_hs_input(struct pg_ctx *ctx, const uint8_t *msg, uint32_t len, uint32_t src_ip, uint16_t src_port)
{
	(void)src_ip;
	(void)src_port;
	switch (wg_msg_classify(msg, len)) {
	case WG_MSG_HANDSHAKE_RESPONSE:
		consume_response(ctx, (const struct wg_msg_response *)msg);
		break;
	case WG_MSG_HANDSHAKE_COOKIE:
		consume_cookie(ctx, (const struct wg_msg_cookie *)msg);
		break;
	case WG_MSG_HANDSHAKE_INITIATION:
		/* wgdp wants a new session: we only initiate (see the README) */
		ctx->cnt.hs_initiations_from_dut++;
		break;
	default:
		ctx->cnt.out_other_rx++;
	}
}
