/* SPDX-License-Identifier: MIT */
/*
 * wgprobe's session: socket I/O and the order of protocol steps; the steps
 * themselves are the core's (see probe_session.h for the handshake rules).
 *
 * The socket is connected to the endpoint, so the kernel drops datagrams
 * from anyone else and reports ICMP errors about the endpoint as errno
 * (ECONNREFUSED for port unreachable) on the next send or recv. Those are
 * counted and otherwise ignored: the endpoint may not be listening yet, and
 * the timeout decides.
 */
#include "tools/probe_session.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/tai64n.h"
#include "crypto/secure.h"
#include "dataplane/transport.h"

uint64_t wg_probe_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int sockaddr_to_endpoint(const struct sockaddr *sa, socklen_t salen, struct wg_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		ep->family = AF_INET;
		ep->port = in->sin_port;
		memcpy(ep->addr, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		ep->family = AF_INET6;
		ep->port = in6->sin6_port;
		memcpy(ep->addr, &in6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* errors a connected UDP socket reports for ICMP errors from the path */
static bool is_icmp_errno(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH || err == EHOSTDOWN;
}

/*
 * Send one datagram. A pending ICMP error is reported by the first send
 * after it (and then cleared), so retry a few times; an error that stays is
 * local (no route) and is returned.
 */
static int send_msg(struct wg_probe_session *s, const void *buf, size_t len)
{
	for (unsigned tries = 0;; tries++) {
		ssize_t n = send(s->fd, buf, len, 0);

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EMSGSIZE;
		if (errno == EINTR)
			continue;
		if (is_icmp_errno(errno) && tries < 3) {
			s->st.icmp_errors++;
			continue;
		}
		return -errno;
	}
}

/* next datagram into rxbuf without waiting: its length, -EAGAIN or -errno */
static ssize_t recv_one(struct wg_probe_session *s)
{
	for (;;) {
		ssize_t n = recv(s->fd, s->rxbuf, WG_PROBE_BUF_LEN, MSG_DONTWAIT);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (is_icmp_errno(errno)) {
			s->st.icmp_errors++;
			continue;
		}
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

/* 1 when the socket is readable, 0 at the deadline, -EINTR or -errno */
static int wait_readable(struct wg_probe_session *s, uint64_t deadline_ns)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	uint64_t now = wg_probe_now_ns(), left;
	struct timespec ts;
	int r;

	if (now >= deadline_ns)
		return 0;
	left = deadline_ns - now;
	ts.tv_sec = (time_t)(left / WG_NSEC_PER_SEC);
	ts.tv_nsec = (long)(left % WG_NSEC_PER_SEC);
	r = ppoll(&pfd, 1, &ts, s->waitmask);
	if (r < 0)
		return -errno;
	return r > 0;
}

int wg_probe_session_open(struct wg_probe_session *s, const struct sockaddr *sa, socklen_t salen,
			  const uint8_t private_key[WG_KEY_LEN], const uint8_t peer_public[WG_KEY_LEN],
			  const uint8_t *psk, const sigset_t *waitmask)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->waitmask = waitmask;
	ret = sockaddr_to_endpoint(sa, salen, &s->remote);
	if (ret)
		return ret;
	ret = wg_noise_identity_set(&s->identity, private_key);
	if (ret)
		goto err_identity;
	wg_noise_handshake_init(&s->hs, &s->identity, peer_public, psk);
	/* a low-order peer key leaves DH(static, static) zero: no handshake can work */
	if (wg_secure_is_zero(s->hs.precomputed_static_static, WG_KEY_LEN)) {
		ret = -EINVAL;
		goto err_handshake;
	}
	wg_cookie_maker_init(&s->maker);
	wg_cookie_checker_init(&s->checker, s->identity.public_key);
	s->rxbuf = malloc(WG_PROBE_BUF_LEN);
	if (!s->rxbuf) {
		ret = -ENOMEM;
		goto err_rxbuf;
	}
	s->txbuf = malloc(WG_PROBE_BUF_LEN + WG_DATA_MIN_LEN + WG_DATA_PADDING_MULTIPLE);
	if (!s->txbuf) {
		ret = -ENOMEM;
		goto err_txbuf;
	}
	s->fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (s->fd < 0) {
		ret = -errno;
		goto err_socket;
	}
	if (connect(s->fd, sa, salen) < 0) {
		ret = -errno;
		goto err_connect;
	}
	return 0;

err_connect:
	close(s->fd);
	s->fd = -1;
err_socket:
	free(s->txbuf);
	s->txbuf = NULL;
err_txbuf:
	free(s->rxbuf);
	s->rxbuf = NULL;
err_rxbuf:
	wg_cookie_checker_wipe(&s->checker);
	wg_cookie_maker_wipe(&s->maker);
err_handshake:
	wg_noise_handshake_wipe(&s->hs);
err_identity:
	wg_noise_identity_wipe(&s->identity);
	return ret;
}

void wg_probe_session_close(struct wg_probe_session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->txbuf);
	s->txbuf = NULL;
	free(s->rxbuf);
	s->rxbuf = NULL;
	wg_keypair_wipe(&s->kp);
	wg_cookie_checker_wipe(&s->checker);
	wg_cookie_maker_wipe(&s->maker);
	wg_noise_handshake_wipe(&s->hs);
	wg_noise_identity_wipe(&s->identity);
	s->established = false;
}

/*
 * A fresh initiation: new sender index and timestamp, new ephemeral key (in
 * the core), mac1, and mac2 when the maker holds a cookie young enough.
 */
static int send_initiation(struct wg_probe_session *s, uint64_t now)
{
	struct wg_msg_initiation msg;
	uint8_t timestamp[WG_TIMESTAMP_LEN];
	int ret;

	wg_tai64n_encode(timestamp, realtime_ns());
	s->local_index = wg_secure_random_u32();
	s->hs.eph = &s->eph; /* one handshake at a time: the session's own storage */
	ret = wg_noise_create_initiation(&s->identity, &s->hs, &msg, s->local_index, timestamp);
	if (ret)
		return ret;
	wg_cookie_add_macs(&s->maker, s->hs.remote_static, (uint8_t *)&msg, sizeof(msg), now);
	s->last_had_mac2 = !wg_secure_is_zero(msg.macs.mac2, WG_MAC_LEN);
	ret = send_msg(s, &msg, sizeof(msg));
	if (ret)
		return ret;
	if (!s->st.initiations_sent)
		s->first_init_ns = wg_probe_now_ns();
	s->st.initiations_sent++;
	s->st.handshake_tx_bytes += sizeof(msg);
	return 0;
}

/* a response in rxbuf: true when it completed the handshake */
static bool handle_response(struct wg_probe_session *s, uint64_t now)
{
	const struct wg_msg_response *m = (const void *)s->rxbuf;

	s->st.responses_received++;
	s->st.handshake_rx_bytes += WG_MSG_RESPONSE_LEN;
	if (s->established || wg_le32_read(&m->receiver_index) != s->local_index)
		return false; /* stale (answers an earlier initiation) or not ours */
	if (wg_cookie_validate(&s->checker, s->rxbuf, WG_MSG_RESPONSE_LEN, &s->remote, false, now) ==
		    WG_COOKIE_INVALID_MAC ||
	    wg_noise_consume_response(&s->identity, &s->hs, m) != 0 ||
	    wg_noise_derive_keypair(&s->hs, &s->kp, now) != 0) {
		s->st.responses_rejected++;
		return false;
	}
	s->established = true;
	s->st.handshake_ns = wg_probe_now_ns() - s->first_init_ns;
	return true;
}

/* a cookie reply in rxbuf: true when the initiation should be resent now */
static bool handle_cookie(struct wg_probe_session *s, uint64_t now)
{
	const struct wg_msg_cookie *c = (const void *)s->rxbuf;

	s->st.cookie_replies_received++;
	s->st.handshake_rx_bytes += WG_MSG_COOKIE_LEN;
	if (s->established || wg_le32_read(&c->receiver_index) != s->local_index)
		return false;
	if (wg_cookie_consume_reply(&s->maker, s->hs.remote_static, c, now) != 0)
		return false;
	s->st.cookie_replies++;
	/*
	 * Resend at once only if the initiation went without mac2: an endpoint
	 * that answers with cookies even when we show one must wait for the
	 * retry interval, so a misbehaving one cannot make us spin.
	 */
	return !s->last_had_mac2;
}

int wg_probe_session_handshake(struct wg_probe_session *s, uint64_t timeout_ns)
{
	uint64_t start = wg_probe_now_ns();
	uint64_t deadline = start + timeout_ns, next_send = start, now;
	int ret;

	for (;;) {
		now = wg_probe_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (now >= next_send) {
			ret = send_initiation(s, now);
			if (ret)
				return ret;
			next_send = now + WG_PROBE_RETRY_NS;
		}
		ret = wait_readable(s, next_send < deadline ? next_send : deadline);
		if (ret < 0)
			return ret;
		if (ret == 0)
			continue;
		for (;;) {
			ssize_t n = recv_one(s);

			if (n == -EAGAIN)
				break;
			if (n < 0)
				return (int)n;
			now = wg_probe_now_ns();
			switch (wg_msg_classify(s->rxbuf, (size_t)n)) {
			case WG_MSG_HANDSHAKE_RESPONSE:
				if (handle_response(s, now))
					return 0;
				break;
			case WG_MSG_HANDSHAKE_COOKIE:
				if (handle_cookie(s, now))
					next_send = now;
				break;
			default:
				break; /* nothing else means anything before the handshake */
			}
		}
	}
}

int wg_probe_session_send(struct wg_probe_session *s, const uint8_t *plain, size_t len)
{
	ssize_t n;
	int ret;

	if (!s->established)
		return -ENOTCONN;
	n = wg_transport_encrypt(&s->kp, s->txbuf, WG_PROBE_BUF_LEN + WG_DATA_MIN_LEN + WG_DATA_PADDING_MULTIPLE,
				 plain, len, WG_PROBE_MTU, wg_probe_now_ns());
	if (n < 0)
		return (int)n;
	ret = send_msg(s, s->txbuf, (size_t)n);
	if (ret)
		return ret;
	s->st.tx_packets++;
	s->st.tx_bytes += (uint64_t)n;
	return 0;
}

ssize_t wg_probe_session_recv(struct wg_probe_session *s, uint8_t *plain, size_t cap, uint64_t deadline_ns)
{
	if (!s->established)
		return -ENOTCONN;
	for (;;) {
		ssize_t n = recv_one(s), r;

		if (n == -EAGAIN) {
			int w = wait_readable(s, deadline_ns);

			if (w < 0)
				return w;
			if (w == 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0)
			return n;
		switch (wg_msg_classify(s->rxbuf, (size_t)n)) {
		case WG_MSG_DATA:
			r = wg_transport_decrypt(&s->kp, plain, cap, s->rxbuf, (size_t)n, wg_probe_now_ns());
			if (r == -ENOSPC)
				return r;
			if (r < 0) {
				s->st.rx_rejected++;
				break;
			}
			s->st.rx_packets++;
			s->st.rx_bytes += (uint64_t)n;
			if (r > 0)
				return r;
			break; /* keepalive */
		case WG_MSG_HANDSHAKE_RESPONSE:
			s->st.responses_received++;
			s->st.handshake_rx_bytes += WG_MSG_RESPONSE_LEN;
			break;
		case WG_MSG_HANDSHAKE_COOKIE:
			s->st.cookie_replies_received++;
			s->st.handshake_rx_bytes += WG_MSG_COOKIE_LEN;
			break;
		default:
			break; /* initiations from the peer and garbage: ignored */
		}
		/* a steady stream of packets must not outlive the deadline */
		if (wg_probe_now_ns() >= deadline_ns)
			return -ETIMEDOUT;
	}
}
