/* SPDX-License-Identifier: MIT */
/*
 * The wg(8) userspace API socket (see uapi_server.h; the protocol and the
 * codec are conf/uapi.h's, docs/uapi.md tells what wgdp does with it).
 *
 * Threads. One thread of its own (a DPDK control thread: it runs on the
 * cores the lcores leave free, signals blocked) accepts connections on
 * /var/run/wireguard/<UapiInterface>.sock and serves them one at a time,
 * each request of a connection in turn, as wireguard-go does. It reads and
 * parses requests; everything that touches the device runs on the control
 * thread through wg_call(): a get writes the whole reply there (one
 * consistent picture of the device), a set is applied there by
 * wg_change_apply() (whole or not at all, persisted before the reply). The
 * server thread holds no device state and takes no lock but wg_call's.
 *
 * Limits, so that a slow, stuck or hostile client cannot hold the socket:
 * - a connection that sends nothing for IDLE_MS is closed, and so is one
 *   whose request is not complete REQUEST_MS after its first byte (a reply
 *   that makes no progress for IDLE_MS is abandoned too);
 * - a set request may be max(MAX_REQUEST_MIN, MaxPeers x REQUEST_PER_PEER)
 *   bytes; a larger one is read to its end (bounded by the timeouts, not by
 *   memory) and refused with errno=-EFBIG, so that wg(8) prints why;
 * - a first line that is neither get=1 nor set=1 closes the connection
 *   without a reply (wireguard-go does the same).
 * Stop is prompt: every wait also polls an eventfd that stop signals.
 *
 * Secrets. Requests carry private and preshared keys, get replies too. The
 * buffers that hold them grow by copy-then-wipe (never realloc, which frees
 * the old block as it is; open_memstream does the same, hence the cookie
 * stream below), stdio buffers are ours, and everything is wiped before it
 * is freed. Log lines name the request and the reason, never a key (the
 * codec's and change.c's messages name public keys only).
 */
#include "control/uapi_server.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "conf/uapi.h"
#include "control/call.h"
#include "control/change.h"
#include "control/peer_conf.h"
#include "control/stats.h"
#include "crypto/secure.h"
#include "dataplane/wgdp.h"

#define SOCK_DIR "/var/run/wireguard"
#define MAX_REQUEST_MIN (64ul << 20) /* `wg setconf` of 100,000 peers is ~20 MB */
#define REQUEST_PER_PEER 256ul       /* a generous peer of `wg setconf` */
#define REPLY_PER_PEER 448ul         /* a peer of a get reply with two allowed IPs */
#define IDLE_MS 5000
#define REQUEST_MS 60000
#define CHUNK (64ul << 10)
#define BACKLOG 64

struct server {
	struct wgdp *dev;
	bool running;
	int lfd, wake;          /* listening socket; eventfd written by stop */
	pthread_t thread;
	size_t max_request;
	dev_t sock_dev;         /* the socket file we bound, to unlink only ours */
	ino_t sock_ino;
	char name[WG_CONF_IFNAME_MAX];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static struct server srv = { .lfd = -1, .wake = -1 };

/* ---- buffers that may hold keys ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_free(struct buf *b)
{
	if (b->p) {
		wg_secure_wipe(b->p, b->cap);
		free(b->p);
	}
	*b = (struct buf){ 0 };
}

/* capacity for want bytes: a new block, the old one wiped. 0 or -ENOMEM. */
static int buf_reserve(struct buf *b, size_t want)
{
	size_t cap = b->cap ? b->cap : CHUNK;
	char *np;

	if (want <= b->cap)
		return 0;
	while (cap < want) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	np = malloc(cap);
	if (!np)
		return -ENOMEM;
	if (b->len)
		memcpy(np, b->p, b->len);
	if (b->p) {
		wg_secure_wipe(b->p, b->cap);
		free(b->p);
	}
	b->p = np;
	b->cap = cap;
	return 0;
}

/* drop the first n bytes; the bytes that moved down are wiped where they were */
static void buf_consume(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	wg_secure_wipe(b->p + b->len - n, n);
	b->len -= n;
}

static ssize_t buf_write(void *cookie, const char *data, size_t n)
{
	struct buf *b = cookie;

	if (buf_reserve(b, b->len + n))
		return 0; /* the stream's error flag: the codec returns -EIO */
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return (ssize_t)n;
}

/* a write stream appending to b, buffered in io (the caller wipes io after fclose) */
static FILE *buf_open(struct buf *b, char *io, size_t iolen)
{
	static const cookie_io_functions_t fns = { .write = buf_write };
	FILE *f = fopencookie(b, "w", fns);

	if (f && setvbuf(f, io, _IOFBF, iolen)) {
		fclose(f);
		f = NULL;
	}
	return f;
}

/* ---- on the control thread ---- */

struct get_call {
	struct buf out; /* the reply, errno=0 included */
	int ret;
	char io[CHUNK];
};

/* one peer: its configuration, its live endpoint (roaming) and figures */
static int write_peer(FILE *f, struct wg_peer *p)
{
	struct wg_conf_peer c;
	struct wg_peer_stats st;
	struct wg_uapi_peer_stats us;
	int ret;

	wg_peer_conf_view(p, &c); /* shallow: the lists are only read */
	wg_stats_peer(p, &st);
	us = (struct wg_uapi_peer_stats){
		.last_handshake_sec = st.last_handshake_ns / WG_NSEC_PER_SEC,
		.last_handshake_nsec = st.last_handshake_ns % WG_NSEC_PER_SEC,
		.rx_bytes = st.rx_bytes,
		.tx_bytes = st.tx_bytes,
	};
	if (st.endpoint.family)
		c.endpoint = st.endpoint;
	ret = wg_uapi_write_peer(f, &c, &us);
	wg_secure_wipe(&c, sizeof(c));
	return ret;
}

static void get_on_control(struct wgdp *dev, void *arg)
{
	struct get_call *g = arg;
	struct wg_conf_device d = { .listen_port = dev->listen_port, .fwmark = dev->conf.device.fwmark };
	FILE *f;
	int ret;

	g->ret = buf_reserve(&g->out, 256 + (size_t)dev->n_peers * REPLY_PER_PEER);
	if (g->ret)
		return;
	f = buf_open(&g->out, g->io, sizeof(g->io));
	if (!f) {
		g->ret = -ENOMEM;
		return;
	}
	if (dev->identity.has_identity) {
		d.flags = WG_CONF_DEVICE_HAS_PRIVATE_KEY;
		memcpy(d.private_key, dev->conf.device.private_key, WG_KEY_LEN);
	}
	ret = wg_uapi_write_device(f, &d);
	wg_secure_wipe(&d, sizeof(d));
	for (struct wg_peer *p = dev->peers; p && !ret; p = p->list_next)
		ret = write_peer(f, p);
	if (!ret)
		ret = wg_uapi_write_errno(f, 0);
	if (fclose(f) && !ret)
		ret = -EIO;
	g->ret = ret;
}

struct set_call {
	const struct wg_conf_device *d;
	int ret;
	char err[512];
};

static void set_on_control(struct wgdp *dev, void *arg)
{
	struct set_call *c = arg;

	c->ret = wg_change_apply(dev, c->d, NULL, NULL, c->err, sizeof(c->err));
}

/* ---- socket I/O on the server thread ---- */

static uint64_t now_ms(void)
{
	return wg_now_ns() / 1000000u;
}

/* fd ready for events within ms (-1: no limit)? 0, -ETIMEDOUT, -ESHUTDOWN (stop), -errno */
static int wait_fd(struct server *s, int fd, short events, int ms)
{
	struct pollfd pf[2] = { { .fd = fd, .events = events }, { .fd = s->wake, .events = POLLIN } };
	int n;

	do
		n = poll(pf, 2, ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (pf[1].revents)
		return -ESHUTDOWN;
	return n ? 0 : -ETIMEDOUT;
}

/* read what has arrived into b (deadline 0: none but IDLE_MS): bytes read, 0 at EOF, -errno */
static ssize_t fill(struct server *s, int fd, struct buf *b, uint64_t deadline)
{
	for (;;) {
		ssize_t n;
		int ms = IDLE_MS, ret;

		if (buf_reserve(b, b->len + CHUNK))
			return -ENOMEM;
		n = recv(fd, b->p + b->len, b->cap - b->len, 0);
		if (n >= 0) {
			b->len += (size_t)n;
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if (deadline) {
			uint64_t now = now_ms();

			if (now >= deadline)
				return -ETIMEDOUT;
			if (deadline - now < (uint64_t)ms)
				ms = (int)(deadline - now);
		}
		if ((ret = wait_fd(s, fd, POLLIN, ms)))
			return ret;
	}
}

static int send_all(struct server *s, int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		int ret;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if ((ret = wait_fd(s, fd, POLLOUT, IDLE_MS)))
			return ret;
	}
	return 0;
}

static int send_errno(struct server *s, int fd, int err)
{
	struct buf out = { 0 };
	char io[64];
	FILE *f = buf_open(&out, io, sizeof(io));
	int ret;

	if (!f)
		return -ENOMEM;
	ret = wg_uapi_write_errno(f, err);
	if (fclose(f) && !ret)
		ret = -EIO;
	if (!ret)
		ret = send_all(s, fd, out.p, out.len);
	buf_free(&out);
	return ret;
}

/*
 * A set request's partial line of two bytes or more is not an empty line
 * whatever follows: while an oversized request is skipped, it is kept as one
 * byte, so b holds at most that line's start.
 */
static void skip_lines(struct buf *b, size_t *scan)
{
	size_t partial = b->len - *scan;

	buf_consume(b, *scan);
	if (partial >= 2) {
		wg_secure_wipe(b->p, b->len);
		b->p[0] = 'x';
		b->len = 1;
	}
	*scan = 0;
}

/*
 * Frame the connection's next request in b->p[0..*len): 0; -EFBIG when a
 * set request over the limit was skipped to its end (answer, then go on
 * with the bytes after it); any other negative: close the connection (EOF,
 * timeout, stop, a first line that is neither get=1 nor set=1). The scan is
 * incremental, so a request of n bytes costs O(n).
 */
static int next_request(struct server *s, int fd, struct buf *b, size_t *len)
{
	uint64_t deadline = b->len ? now_ms() + REQUEST_MS : 0;
	enum wg_uapi_op op = WG_UAPI_INVALID;
	size_t scan = 0; /* b->p[scan] starts a line whose '\n' has not arrived */
	size_t seen = 0; /* b->p[scan..seen) holds no '\n' */
	bool skipping = false;
	ssize_t n;

	for (;;) {
		if (op == WG_UAPI_INVALID && b->len >= 6) {
			op = wg_uapi_op(b->p, b->len);
			if (op == WG_UAPI_INVALID)
				return -EPROTO;
			scan = seen = 6;
		}
		if (op == WG_UAPI_GET && b->len >= 7) {
			*len = 7; /* wireguard-go reads one byte after get=1: it must be '\n' */
			return 0;
		}
		if (op == WG_UAPI_SET && memchr(b->p + seen, '\n', b->len - seen)) {
			size_t r = wg_uapi_request_len(b->p + scan, b->len - scan);

			if (r && skipping) {
				buf_consume(b, scan + r);
				return -EFBIG;
			}
			if (r) {
				*len = scan + r;
				return 0;
			}
			scan = (size_t)((const char *)memrchr(b->p + seen, '\n', b->len - seen) - b->p) + 1;
		}
		if (op == WG_UAPI_SET) {
			if (b->len > s->max_request)
				skipping = true;
			if (skipping)
				skip_lines(b, &scan);
			seen = b->len;
		}
		n = fill(s, fd, b, deadline);
		if (n <= 0)
			return n ? (int)n : -ENODATA;
		if (!deadline)
			deadline = now_ms() + REQUEST_MS;
	}
}

static void log_refused(const struct server *s, const char *what, int ret, const char *why)
{
	fprintf(stderr, "wgdp: uapi %s: %s refused (%s)%s%s\n", s->name, what, strerror(-ret),
		why && why[0] ? ": " : "", why ? why : "");
}

static int handle_get(struct server *s, int fd, const char *req, size_t len)
{
	struct get_call *g;
	int ret;

	if (wg_uapi_parse_get(req, len)) {
		/* as wireguard-go: "trailing character in UAPI get"; then we close */
		send_errno(s, fd, -EINVAL);
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return send_errno(s, fd, -ENOMEM);
	ret = wg_call(s->dev, get_on_control, g);
	if (!ret)
		ret = g->ret;
	if (!ret)
		ret = send_all(s, fd, g->out.p, g->out.len);
	else
		ret = send_errno(s, fd, ret);
	buf_free(&g->out);
	wg_secure_wipe(g, sizeof(*g));
	free(g);
	return ret;
}

static int handle_set(struct server *s, int fd, const char *req, size_t len)
{
	struct set_call *c = calloc(1, sizeof(*c));
	struct wg_conf_device d;
	int ret;

	if (!c)
		return send_errno(s, fd, -ENOMEM);
	ret = wg_uapi_parse_set(req, len, &d, c->err, sizeof(c->err));
	if (ret) {
		log_refused(s, "set", ret, c->err);
	} else {
		c->d = &d;
		ret = wg_call(s->dev, set_on_control, c);
		if (!ret)
			ret = c->ret;
		if (ret)
			log_refused(s, "set", ret, ret == -ESHUTDOWN ? "wgdp is stopping" : c->err);
		wg_conf_device_free(&d);
	}
	wg_secure_wipe(c, sizeof(*c));
	free(c);
	return send_errno(s, fd, ret);
}

/* every request of one connection, in turn, until it closes or fails */
static void serve(struct server *s, int fd)
{
	struct buf in = { 0 };
	size_t len;
	int ret;

	for (;;) {
		ret = next_request(s, fd, &in, &len);
		if (ret == -EFBIG) {
			char why[96];

			snprintf(why, sizeof(why), "request larger than %zu bytes", s->max_request);
			log_refused(s, "set", ret, why);
			if (send_errno(s, fd, ret))
				break;
			continue;
		}
		if (ret)
			break;
		if (wg_uapi_op(in.p, len) == WG_UAPI_GET)
			ret = handle_get(s, fd, in.p, len);
		else
			ret = handle_set(s, fd, in.p, len);
		buf_consume(&in, len);
		if (ret)
			break;
	}
	buf_free(&in);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* SIGINT/SIGTERM are the main thread's */
	for (;;) {
		int ret = wait_fd(s, s->lfd, POLLIN, -1), fd;

		if (ret == -ESHUTDOWN)
			break;
		if (ret)
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				wait_fd(s, -1, 0, 100); /* out of descriptors: do not spin */
			continue;
		}
		serve(s, fd);
		close(fd);
	}
	return NULL;
}

/* ---- start and stop ---- */

/* 0 when nothing serves the path (a stale socket is removed), or -errno with err */
static int claim_path(const struct server *s, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(s->path, &st)) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "UAPI socket %s: %s", s->path, strerror(errno));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "UAPI socket %s: exists and is not a socket", s->path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "UAPI socket: %s", strerror(errno));
		return ret;
	}
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	close(fd);
	if (!ret || ret == -EAGAIN || ret == -EINPROGRESS) { /* accepted, or a full backlog */
		snprintf(err, errlen, "another WireGuard implementation serves %s (%s answers)", s->name,
			 s->path);
		return -EADDRINUSE;
	}
	if (ret != -ECONNREFUSED && ret != -ENOENT) {
		snprintf(err, errlen, "UAPI socket %s: %s", s->path, strerror(-ret));
		return ret;
	}
	if (unlink(s->path) && errno != ENOENT) { /* stale: its process is gone */
		ret = -errno;
		snprintf(err, errlen, "UAPI socket %s: stale, cannot remove it: %s", s->path, strerror(errno));
		return ret;
	}
	return 0;
}

static int listen_path(struct server *s, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int ret;

	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		goto err;
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	old = umask(0077); /* as wireguard-go: the socket is born 0600 */
	ret = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret)
		goto err;
	if (chmod(s->path, 0600) || lstat(s->path, &st) || listen(s->lfd, BACKLOG))
		goto err_unlink;
	s->sock_dev = st.st_dev;
	s->sock_ino = st.st_ino;
	return 0;

err_unlink:
	ret = -errno;
	unlink(s->path);
	errno = -ret;
err:
	ret = -errno;
	snprintf(err, errlen, "UAPI socket %s: %s", s->path, strerror(errno));
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	return ret;
}

int wg_uapi_server_start(struct wgdp *dev, char *err, size_t errlen)
{
	const char *name = dev->conf.appliance.uapi_name;
	struct server *s = &srv;
	int ret;

	if (!name[0] || s->running)
		return 0;
	*s = (struct server){ .dev = dev, .lfd = -1, .wake = -1 };
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->path, sizeof(s->path), SOCK_DIR "/%s.sock", name);
	s->max_request = (size_t)dev->conf.appliance.max_peers * REQUEST_PER_PEER;
	if (s->max_request < MAX_REQUEST_MIN)
		s->max_request = MAX_REQUEST_MIN;
	if ((mkdir("/var/run", 0755) && errno != EEXIST) || (mkdir(SOCK_DIR, 0755) && errno != EEXIST)) {
		ret = -errno;
		snprintf(err, errlen, "cannot create " SOCK_DIR ": %s", strerror(errno));
		return ret;
	}
	if ((ret = claim_path(s, err, errlen)))
		return ret;
	if ((ret = listen_path(s, err, errlen)))
		return ret;
	s->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake < 0) {
		ret = -errno;
		snprintf(err, errlen, "UAPI socket: eventfd: %s", strerror(errno));
		goto err_listen;
	}
	ret = rte_ctrl_thread_create(&s->thread, "wg-uapi", NULL, server_main, s);
	if (ret) {
		snprintf(err, errlen, "UAPI socket: cannot start its thread: %s", strerror(-ret));
		goto err_wake;
	}
	s->running = true;
	return 0;

err_wake:
	close(s->wake);
	s->wake = -1;
err_listen:
	unlink(s->path);
	close(s->lfd);
	s->lfd = -1;
	return ret;
}

void wg_uapi_server_stop(struct wgdp *dev)
{
	struct server *s = &srv;
	uint64_t one = 1;
	struct stat st;

	(void)dev;
	if (!s->running)
		return;
	if (write(s->wake, &one, sizeof(one)) != sizeof(one))
		fprintf(stderr, "wgdp: uapi %s: cannot wake the server thread: %s\n", s->name, strerror(errno));
	pthread_join(s->thread, NULL);
	/* the path may have been taken over meanwhile: remove it only if it is still ours */
	if (!lstat(s->path, &st) && st.st_dev == s->sock_dev && st.st_ino == s->sock_ino)
		unlink(s->path);
	close(s->lfd);
	close(s->wake);
	s->lfd = s->wake = -1;
	s->running = false;
}
