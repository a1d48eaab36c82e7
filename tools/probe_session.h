/* SPDX-License-Identifier: MIT */
/*
 * wgprobe's WireGuard session: one connected UDP socket to the endpoint, the
 * handshake as initiator (we are a configured peer of the endpoint), then
 * transport messages. All I/O is here; every protocol step is a call into the
 * core (control/noise.h, control/cookie.h, dataplane/transport.h).
 *
 * Handshake, as wgprobe does it:
 *   - send an initiation (fresh sender index, TAI64N timestamp, mac1, and
 *     mac2 once we hold a cookie); if nothing useful arrives, send a fresh one
 *     every retry interval (1 s) until the timeout;
 *   - a cookie reply to the initiation we last sent is consumed and, if that
 *     initiation went without mac2, a new initiation (now with mac2) goes out
 *     at once: that is how an endpoint under load lets us in;
 *   - a response to the initiation we last sent whose mac1 is valid is
 *     consumed; if it authenticates, the keypair is derived and we are done.
 *     Responses that do not authenticate (e.g. a preshared key mismatch) are
 *     counted and otherwise ignored, so a forged one cannot end the probe.
 * Times are CLOCK_MONOTONIC nanoseconds, except the TAI64N timestamp
 * (CLOCK_REALTIME). Waiting is ppoll() with a deadline, never a busy loop.
 */
#ifndef WG_PROBE_SESSION_H
#define WG_PROBE_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "control/cookie.h"
#include "control/noise.h"
#include "dataplane/keypair.h"

#define WG_PROBE_RETRY_NS (1ull * WG_NSEC_PER_SEC) /* initiation retransmit interval */
#define WG_PROBE_MTU 1420u                          /* for padding, as wg-quick's default */
#define WG_PROBE_BUF_LEN 65536u                     /* largest UDP payload, rounded up */

struct wg_probe_stats {
	unsigned initiations_sent;
	unsigned responses_received;  /* type-2 messages received (any index, valid or not) */
	unsigned responses_rejected;  /* ours by index, but bad mac1 or not authenticating */
	unsigned cookie_replies_received; /* type-3 messages received */
	unsigned cookie_replies;      /* cookie replies consumed (ours and authentic) */
	unsigned icmp_errors;         /* ECONNREFUSED: the endpoint host said port unreachable */
	uint64_t handshake_tx_bytes;  /* UDP payload bytes of handshake messages sent */
	uint64_t handshake_rx_bytes;  /* ... and received (responses and cookie replies) */
	uint64_t handshake_ns;        /* first initiation sent -> response consumed */
	uint64_t tx_packets, rx_packets; /* transport messages (keepalives included) */
	uint64_t tx_bytes, rx_bytes;     /* their UDP payload bytes (header + ciphertext + tag) */
	uint64_t rx_rejected;            /* transport messages ours by index that did not open */
};

struct wg_probe_session {
	int fd;
	struct wg_endpoint remote;
	struct wg_noise_identity identity;
	struct wg_noise_handshake hs;
	struct wg_noise_ephemeral eph;    /* hs.eph: its state in flight (control/noise.h) */
	struct wg_cookie_maker maker;     /* mac1/mac2 of what we send, cookies we get */
	struct wg_cookie_checker checker; /* mac1 of responses (keyed on our public key) */
	struct wg_keypair kp;
	bool established;
	bool last_had_mac2;      /* the initiation we last sent carried mac2 */
	uint32_t local_index;    /* sender index of the initiation we last sent */
	uint64_t first_init_ns;
	const sigset_t *waitmask; /* signal mask while waiting (NULL: unchanged) */
	uint8_t *rxbuf;          /* WG_PROBE_BUF_LEN bytes */
	uint8_t *txbuf;
	struct wg_probe_stats st;
};

/* CLOCK_MONOTONIC in nanoseconds */
uint64_t wg_probe_now_ns(void);

/*
 * Open a UDP socket connected to the endpoint sa and prepare the handshake
 * with our private key, the endpoint's public key and an optional preshared
 * key (NULL: none). waitmask, when not NULL, is installed during every wait
 * (ppoll), so signals blocked elsewhere interrupt a wait with -EINTR and
 * never get lost. 0, -EINVAL (unusable private key, or a low-order peer key),
 * -ENOMEM, or -errno of socket/connect.
 */
int wg_probe_session_open(struct wg_probe_session *s, const struct sockaddr *sa, socklen_t salen,
			  const uint8_t private_key[WG_KEY_LEN], const uint8_t peer_public[WG_KEY_LEN],
			  const uint8_t *psk, const sigset_t *waitmask);

/*
 * Run the handshake until it completes (0) or timeout_ns passes (-ETIMEDOUT;
 * s->st tells what happened). -EINTR when a signal arrived, -errno on a hard
 * socket error (e.g. -ENETUNREACH).
 */
int wg_probe_session_handshake(struct wg_probe_session *s, uint64_t timeout_ns);

/* Encrypt and send plain[0..len) (0: a keepalive). 0 or -errno (-ESTALE: keys too old). */
int wg_probe_session_send(struct wg_probe_session *s, const uint8_t *plain, size_t len);

/*
 * Wait until deadline_ns for the next transport message carrying data, open
 * it into plain and return its (padded) length. Keepalives, handshake
 * messages and messages that do not open are skipped (and counted).
 * -ETIMEDOUT, -EINTR, -ENOSPC (cap too small) or -errno.
 */
ssize_t wg_probe_session_recv(struct wg_probe_session *s, uint8_t *plain, size_t cap, uint64_t deadline_ns);

/* Close the socket and wipe every key. Safe on a zeroed or closed session. */
void wg_probe_session_close(struct wg_probe_session *s);

#endif
