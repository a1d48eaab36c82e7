/* SPDX-License-Identifier: MIT */
/*
 * wgprobe: handshake with a WireGuard endpoint as one of its configured
 * peers and, optionally, ping an address through the tunnel. Plain sockets,
 * no DPDK: the quickest check that an endpoint (wgdp, the kernel module,
 * wireguard-go) works, and our interoperability proof.
 *
 * This file is the command line: options, keys, output and exit codes. The
 * session lives in probe_session.c, the ICMP packets in probe_icmp.c, the
 * base64 keys in probe_key.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure.h"
#include "crypto/x25519.h"
#include "tools/probe_icmp.h"
#include "conf/key.h"
#include "tools/probe_session.h"

enum {
	EXIT_OK = 0,      /* handshake done (and, with --ping, every echo answered) */
	EXIT_FAILED = 1,  /* no handshake within the timeout, missing replies, I/O error */
	EXIT_USAGE = 2,   /* bad command line, key, address or file */
};

#define MAX_COUNT 10000u
#define MAX_TIMEOUT_S 86400.0
#define PING_PAYLOAD_LEN 56u /* as ping(8): 64-byte ICMP messages */

static const char usage_text[] =
	"Usage: wgprobe --endpoint HOST:PORT --peer-public-key KEY --private-key FILE\n"
	"               [--preshared-key FILE] [--address IP --ping IP] [--count N]\n"
	"               [--timeout SEC] [--json] [--help]\n"
	"\n"
	"Handshakes with a WireGuard endpoint as one of its configured peers (we are\n"
	"the initiator) and, with --ping, sends ICMP echo requests through the tunnel.\n"
	"\n"
	"  --endpoint HOST:PORT     the endpoint's UDP address: a name, an IPv4 address\n"
	"                           or an IPv6 address in brackets ([2001:db8::1]:51820)\n"
	"  --peer-public-key KEY    the endpoint's public key (base64, as wg(8) prints it)\n"
	"  --private-key FILE       our private key (base64 file as written by wg genkey;\n"
	"                           '-' reads standard input); its public key must be a\n"
	"                           peer of the endpoint\n"
	"  --preshared-key FILE     the preshared key of that peer, if it has one ('-' for\n"
	"                           standard input; only one of the two files may be '-')\n"
	"  --address IP             our tunnel address, the source of the pings; must be\n"
	"                           within the allowed IPs the endpoint has for us\n"
	"  --ping IP                send echo requests to IP through the tunnel (needs\n"
	"                           --address of the same family); without --ping, one\n"
	"                           keepalive is sent after the handshake\n"
	"  --count N                echo requests to send (default 3, at most 10000); the\n"
	"                           next one goes out as soon as the previous one was\n"
	"                           answered or timed out\n"
	"  --timeout SEC            bound on the handshake and, separately, on the wait\n"
	"                           for each echo reply (default 5; decimals allowed).\n"
	"                           Initiations are resent every second until then\n"
	"  --json                   print one JSON object on standard output instead of\n"
	"                           lines of text\n"
	"  --help                   print this help and exit 0\n"
	"\n"
	"Exit status:\n"
	"  0  the handshake completed and, with --ping, every echo request was answered\n"
	"  1  failure: no handshake within the timeout (wrong keys, endpoint down),\n"
	"     an echo reply missing, a network error, interrupted by a signal\n"
	"  2  bad usage: unknown option, missing or invalid value, bad key, bad\n"
	"     address, unreadable key file\n"
	"A one-line reason goes to standard error when the status is not 0.\n";

struct options {
	const char *endpoint;
	const char *peer_public_key;
	const char *private_key_file;
	const char *psk_file;
	const char *address;
	const char *ping;
	unsigned count;
	double timeout_s;
	bool json;
};

struct ping_result {
	uint16_t seq;
	bool answered;
	double rtt_ms;
};

struct report {
	bool ok;
	int exit_code;
	char endpoint[INET6_ADDRSTRLEN + 16];
	char public_key[WG_KEY_B64_LEN + 1];
	char error[320];
	bool handshake_done;
	struct ping_result *pings;
	unsigned sent, received;
	const struct wg_probe_stats *st;
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void set_error(struct report *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(struct report *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	r->exit_code = code;
	r->ok = false;
}

/* ---- output --------------------------------------------------------------- */

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_opt_string(const char *key, const char *s)
{
	printf("\"%s\":", key);
	if (s && *s)
		json_string(s);
	else
		fputs("null", stdout);
}

static void rtt_summary(const struct report *r, double *min, double *avg, double *max)
{
	double sum = 0;

	*min = INFINITY;
	*max = 0;
	for (unsigned i = 0; i < r->sent; i++) {
		if (!r->pings[i].answered)
			continue;
		sum += r->pings[i].rtt_ms;
		if (r->pings[i].rtt_ms < *min)
			*min = r->pings[i].rtt_ms;
		if (r->pings[i].rtt_ms > *max)
			*max = r->pings[i].rtt_ms;
	}
	*avg = r->received ? sum / r->received : 0;
}

static void print_json(const struct options *o, const struct report *r)
{
	const struct wg_probe_stats *st = r->st;
	double min, avg, max;

	printf("{\"ok\":%s,", r->ok ? "true" : "false");
	printf("\"exit_code\":%d,", r->exit_code);
	json_opt_string("endpoint", r->endpoint[0] ? r->endpoint : o->endpoint);
	putchar(',');
	json_opt_string("public_key", r->public_key);
	putchar(',');
	json_opt_string("address", o->address);
	putchar(',');
	json_opt_string("ping", o->ping);
	putchar(',');
	if (r->handshake_done)
		printf("\"handshake_ms\":%.3f,", (double)st->handshake_ns / 1e6);
	else
		fputs("\"handshake_ms\":null,", stdout);
	printf("\"initiations_sent\":%u,\"responses_received\":%u,\"cookie_replies\":%u,"
	       "\"cookie_replies_received\":%u,",
	       st ? st->initiations_sent : 0, st ? st->responses_received : 0, st ? st->cookie_replies : 0,
	       st ? st->cookie_replies_received : 0);
	printf("\"sent\":%u,\"received\":%u,", r->sent, r->received);
	if (r->received) {
		rtt_summary(r, &min, &avg, &max);
		printf("\"rtt_ms\":{\"min\":%.3f,\"avg\":%.3f,\"max\":%.3f},", min, avg, max);
	} else {
		fputs("\"rtt_ms\":null,", stdout);
	}
	fputs("\"pings\":[", stdout);
	for (unsigned i = 0; i < r->sent; i++) {
		printf("%s{\"seq\":%u,", i ? "," : "", r->pings[i].seq);
		if (r->pings[i].answered)
			printf("\"rtt_ms\":%.3f}", r->pings[i].rtt_ms);
		else
			fputs("\"rtt_ms\":null}", stdout);
	}
	fputs("],", stdout);
	printf("\"tx_packets\":%llu,\"rx_packets\":%llu,\"tx_bytes\":%llu,\"rx_bytes\":%llu,",
	       st ? (unsigned long long)st->tx_packets : 0, st ? (unsigned long long)st->rx_packets : 0,
	       st ? (unsigned long long)st->tx_bytes : 0, st ? (unsigned long long)st->rx_bytes : 0);
	printf("\"handshake_tx_bytes\":%llu,\"handshake_rx_bytes\":%llu,",
	       st ? (unsigned long long)st->handshake_tx_bytes : 0,
	       st ? (unsigned long long)st->handshake_rx_bytes : 0);
	json_opt_string("error", r->error);
	puts("}");
}

static void print_text_summary(const struct options *o, const struct report *r)
{
	const struct wg_probe_stats *st = r->st;
	double min, avg, max;

	if (!st)
		return;
	if (o->ping && r->sent) {
		printf("--- %s through %s: %u sent, %u received, %.0f%% loss", o->ping, r->endpoint, r->sent,
		       r->received, 100.0 * (r->sent - r->received) / r->sent);
		if (r->received) {
			rtt_summary(r, &min, &avg, &max);
			printf(", rtt min/avg/max %.3f/%.3f/%.3f ms", min, avg, max);
		}
		putchar('\n');
	}
	if (r->handshake_done)
		printf("transport: %llu messages / %llu bytes sent, %llu / %llu received (UDP payload)\n",
		       (unsigned long long)st->tx_packets, (unsigned long long)st->tx_bytes,
		       (unsigned long long)st->rx_packets, (unsigned long long)st->rx_bytes);
}

/* ---- parsing ---------------------------------------------------------------- */

static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_timeout(const char *s, double *out)
{
	char *end;
	double v;

	if (!*s || !((*s >= '0' && *s <= '9') || *s == '.'))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v <= 0 || v > MAX_TIMEOUT_S)
		return false;
	*out = v;
	return true;
}

/*
 * Split HOST:PORT; an IPv6 host must be in brackets. 0 or -EINVAL with a
 * reason in r.
 */
static int split_endpoint(const char *arg, char *host, size_t hostcap, char *port, size_t portcap,
			  bool *bracketed, struct report *r)
{
	const char *colon, *h = arg;
	size_t hlen;
	unsigned long p;

	*bracketed = false;
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (!close || close[1] != ':') {
			set_error(r, EXIT_USAGE, "bad endpoint '%s': expected [IPv6]:PORT", arg);
			return -EINVAL;
		}
		h = arg + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
		*bracketed = true;
	} else {
		colon = strrchr(arg, ':');
		if (!colon) {
			set_error(r, EXIT_USAGE, "bad endpoint '%s': expected HOST:PORT", arg);
			return -EINVAL;
		}
		hlen = (size_t)(colon - arg);
		if (memchr(arg, ':', hlen)) {
			set_error(r, EXIT_USAGE, "bad endpoint '%s': put an IPv6 address in brackets, [ADDR]:PORT",
				  arg);
			return -EINVAL;
		}
	}
	if (!hlen || hlen >= hostcap) {
		set_error(r, EXIT_USAGE, "bad endpoint '%s': missing or too long host", arg);
		return -EINVAL;
	}
	if (!parse_uint(colon + 1, 1, 65535, &p)) {
		set_error(r, EXIT_USAGE, "bad endpoint '%s': port must be 1-65535", arg);
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, portcap, "%lu", p);
	return 0;
}

/* Resolve the endpoint; its numeric form goes into r->endpoint. */
static int resolve_endpoint(const char *arg, struct sockaddr_storage *ss, socklen_t *sslen, struct report *r)
{
	char host[256], port[8], num[INET6_ADDRSTRLEN];
	struct addrinfo hints = { 0 }, *res = NULL;
	bool bracketed;
	int ret;

	if (split_endpoint(arg, host, sizeof(host), port, sizeof(port), &bracketed, r))
		return -EINVAL;
	hints.ai_family = bracketed ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	hints.ai_flags = AI_NUMERICSERV | (bracketed ? AI_NUMERICHOST : 0);
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		/* a name that does not exist is a usage error, a DNS outage is not */
		bool transient = ret == EAI_AGAIN || ret == EAI_FAIL || ret == EAI_SYSTEM || ret == EAI_MEMORY;

		set_error(r, transient ? EXIT_FAILED : EXIT_USAGE, "cannot resolve endpoint '%s': %s", arg,
			  gai_strerror(ret));
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	if (getnameinfo((struct sockaddr *)ss, *sslen, num, sizeof(num), NULL, 0, NI_NUMERICHOST))
		snprintf(num, sizeof(num), "?");
	snprintf(r->endpoint, sizeof(r->endpoint), ss->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", num, port);
	return 0;
}

static int parse_ip(const char *s, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return AF_INET6;
	return 0;
}

static const char *key_file_error(int err)
{
	switch (err) {
	case -EINVAL:
		return "not a base64 WireGuard key (44 characters ending in '=')";
	case -EFBIG:
		return "file too large for a key";
	default:
		return strerror(-err);
	}
}

/* getopt_long over argv; 0, 1 for --help, or -EINVAL with a reason in r */
static int parse_options(int argc, char **argv, struct options *o, struct report *r)
{
	static const struct option longopts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "peer-public-key", required_argument, NULL, 'k' },
		{ "private-key", required_argument, NULL, 'p' },
		{ "preshared-key", required_argument, NULL, 's' },
		{ "address", required_argument, NULL, 'a' },
		{ "ping", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long count;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o->endpoint = optarg;
			break;
		case 'k':
			o->peer_public_key = optarg;
			break;
		case 'p':
			o->private_key_file = optarg;
			break;
		case 's':
			o->psk_file = optarg;
			break;
		case 'a':
			o->address = optarg;
			break;
		case 'i':
			o->ping = optarg;
			break;
		case 'c':
			if (!parse_uint(optarg, 1, MAX_COUNT, &count)) {
				set_error(r, EXIT_USAGE, "bad --count '%s': expected 1-%u", optarg, MAX_COUNT);
				return -EINVAL;
			}
			o->count = (unsigned)count;
			break;
		case 't':
			if (!parse_timeout(optarg, &o->timeout_s)) {
				set_error(r, EXIT_USAGE, "bad --timeout '%s': expected seconds, above 0, at most %.0f",
					  optarg, MAX_TIMEOUT_S);
				return -EINVAL;
			}
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			return 1;
		case ':':
			set_error(r, EXIT_USAGE, "option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt)
				set_error(r, EXIT_USAGE, "unknown option '-%c'", optopt);
			else
				set_error(r, EXIT_USAGE, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		set_error(r, EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->endpoint || !o->peer_public_key || !o->private_key_file) {
		set_error(r, EXIT_USAGE, "missing %s", !o->endpoint ? "--endpoint" :
			  !o->peer_public_key ? "--peer-public-key" : "--private-key");
		return -EINVAL;
	}
	if (o->psk_file && !strcmp(o->psk_file, "-") && !strcmp(o->private_key_file, "-")) {
		set_error(r, EXIT_USAGE, "only one of --private-key and --preshared-key may be '-'");
		return -EINVAL;
	}
	if (o->ping && !o->address) {
		set_error(r, EXIT_USAGE, "--ping needs --address (our tunnel address)");
		return -EINVAL;
	}
	return 0;
}

/* ---- probing ---------------------------------------------------------------- */

static void describe_handshake_failure(struct report *r, const struct wg_probe_session *s, double timeout_s)
{
	const struct wg_probe_stats *st = &s->st;
	char extra[160] = "";

	if (st->responses_rejected)
		snprintf(extra, sizeof(extra), "; %u response(s) did not authenticate (preshared key mismatch?)",
			 st->responses_rejected);
	else if (st->icmp_errors)
		snprintf(extra, sizeof(extra), "; the endpoint host reported it unreachable (ICMP)");
	else if (st->cookie_replies)
		snprintf(extra, sizeof(extra), "; endpoint under load, %u cookie repl%s", st->cookie_replies,
			 st->cookie_replies == 1 ? "y" : "ies");
	else
		snprintf(extra, sizeof(extra), "; is %s a peer of the endpoint, and is its key right?",
			 r->public_key);
	set_error(r, EXIT_FAILED, "no handshake with %s within %g s (%u initiation%s sent)%s", r->endpoint,
		  timeout_s, st->initiations_sent, st->initiations_sent == 1 ? "" : "s", extra);
}

/* send count echo requests one after the other; fills r->pings */
static int run_pings(const struct options *o, struct wg_probe_session *s, struct report *r,
		     const struct wg_probe_echo *tmpl, uint64_t timeout_ns)
{
	static uint8_t plain[WG_PROBE_BUF_LEN];
	uint8_t payload[PING_PAYLOAD_LEN], pkt[128];
	struct wg_probe_echo q = *tmpl, reply;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = i < 8 ? (uint8_t)"wgprobe"[i] : (uint8_t)i;
	q.payload = payload;
	q.payload_len = sizeof(payload);
	for (unsigned i = 0; i < o->count; i++) {
		uint64_t t0, deadline;
		ssize_t len;
		int ret;

		q.seq = (uint16_t)(i + 1);
		len = wg_probe_icmp_build_echo(pkt, sizeof(pkt), &q);
		if (len < 0) {
			set_error(r, EXIT_FAILED, "cannot build an echo request: %s", strerror((int)-len));
			return -EINVAL;
		}
		t0 = wg_probe_now_ns();
		ret = wg_probe_session_send(s, pkt, (size_t)len);
		if (ret) {
			set_error(r, EXIT_FAILED, "sending echo request %u to %s: %s", q.seq, r->endpoint,
				  strerror(-ret));
			return ret;
		}
		r->pings[i].seq = q.seq;
		r->sent++;
		deadline = t0 + timeout_ns;
		for (;;) {
			ssize_t n = wg_probe_session_recv(s, plain, sizeof(plain), deadline);

			if (n == -ETIMEDOUT)
				break;
			if (n < 0) {
				set_error(r, EXIT_FAILED, "%s", n == -EINTR ? "interrupted" : strerror((int)-n));
				return (int)n;
			}
			if (wg_probe_icmp_parse_reply(plain, (size_t)n, &reply) == 0 &&
			    wg_probe_icmp_matches(&q, &reply)) {
				r->pings[i].answered = true;
				r->pings[i].rtt_ms = (double)(wg_probe_now_ns() - t0) / 1e6;
				r->received++;
				break;
			}
			/* anything else (a late reply, other traffic) is not this answer */
		}
		if (!o->json) {
			if (r->pings[i].answered)
				printf("reply from %s: seq=%u time=%.3f ms\n", o->ping, q.seq, r->pings[i].rtt_ms);
			else
				printf("no reply from %s: seq=%u (waited %g s)\n", o->ping, q.seq, o->timeout_s);
			fflush(stdout);
		}
	}
	if (r->received < r->sent) {
		set_error(r, EXIT_FAILED, "%u of %u echo requests to %s got no reply", r->sent - r->received, r->sent,
			  o->ping);
		return -ETIMEDOUT;
	}
	return 0;
}

/* everything after option parsing; fills r (exit code, error) */
static void probe(const struct options *o, struct report *r, struct wg_probe_session *s, bool *session_open)
{
	uint8_t priv[WG_KEY_LEN] = { 0 }, pub[WG_KEY_LEN], peer[WG_KEY_LEN], psk[WG_KEY_LEN] = { 0 };
	struct wg_probe_echo tmpl = { 0 };
	struct sockaddr_storage ss;
	socklen_t sslen;
	sigset_t block, waitmask;
	struct sigaction sa = { 0 };
	uint64_t timeout_ns = (uint64_t)(o->timeout_s * 1e9 + 0.5);
	bool have_psk = false;
	int ret;

	if (!wg_key_from_base64(peer, o->peer_public_key, strlen(o->peer_public_key))) {
		set_error(r, EXIT_USAGE, "bad --peer-public-key '%s': not a base64 WireGuard key", o->peer_public_key);
		return;
	}
	if (o->ping) {
		int fa = parse_ip(o->address, tmpl.src), fp = parse_ip(o->ping, tmpl.dst);

		if (!fa || !fp) {
			set_error(r, EXIT_USAGE, "bad %s '%s': not an IPv4 or IPv6 address", !fa ? "--address" : "--ping",
				  !fa ? o->address : o->ping);
			return;
		}
		if (fa != fp) {
			set_error(r, EXIT_USAGE, "--address %s and --ping %s are not of the same family", o->address,
				  o->ping);
			return;
		}
		tmpl.family = fa;
		tmpl.id = (uint16_t)wg_secure_random_u32();
	} else if (o->address && !parse_ip(o->address, tmpl.src)) {
		set_error(r, EXIT_USAGE, "bad --address '%s': not an IPv4 or IPv6 address", o->address);
		return;
	}
	ret = wg_key_read_file(priv, o->private_key_file);
	if (ret) {
		set_error(r, EXIT_USAGE, "bad --private-key file '%s': %s", o->private_key_file, key_file_error(ret));
		goto out;
	}
	if (o->psk_file) {
		ret = wg_key_read_file(psk, o->psk_file);
		if (ret) {
			set_error(r, EXIT_USAGE, "bad --preshared-key file '%s': %s", o->psk_file, key_file_error(ret));
			goto out;
		}
		have_psk = true;
	}
	if (wg_x25519_public(pub, priv) != 0) {
		set_error(r, EXIT_USAGE, "bad --private-key: it gives no usable public key");
		goto out;
	}
	wg_key_to_base64(r->public_key, pub);
	if (resolve_endpoint(o->endpoint, &ss, &sslen, r))
		goto out;

	/*
	 * SIGINT/SIGTERM/SIGHUP stay blocked except inside ppoll(), which
	 * returns -EINTR for them: we stop, report and wipe the keys.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGHUP);

	ret = wg_probe_session_open(s, (struct sockaddr *)&ss, sslen, priv, peer, have_psk ? psk : NULL, &waitmask);
	if (ret == -EINVAL) {
		set_error(r, EXIT_USAGE, "bad keys: the private key or the peer public key is unusable (low-order point?)");
		goto out;
	}
	if (ret) {
		set_error(r, EXIT_FAILED, "cannot open a UDP socket to %s: %s", r->endpoint, strerror(-ret));
		goto out;
	}
	*session_open = true;
	r->st = &s->st;
	if (!o->json) {
		printf("probing %s as peer %s\n", r->endpoint, r->public_key);
		fflush(stdout);
	}

	ret = wg_probe_session_handshake(s, timeout_ns);
	if (ret == -ETIMEDOUT) {
		describe_handshake_failure(r, s, o->timeout_s);
		goto out;
	}
	if (ret) {
		set_error(r, EXIT_FAILED, "handshake with %s: %s", r->endpoint,
			  ret == -EINTR ? "interrupted" : strerror(-ret));
		goto out;
	}
	r->handshake_done = true;
	if (!o->json) {
		printf("handshake completed in %.3f ms (%u initiation%s, %u cookie repl%s)\n",
		       (double)s->st.handshake_ns / 1e6, s->st.initiations_sent,
		       s->st.initiations_sent == 1 ? "" : "s", s->st.cookie_replies,
		       s->st.cookie_replies == 1 ? "y" : "ies");
		fflush(stdout);
	}

	if (!o->ping) {
		/* a keepalive confirms the session to the responder */
		ret = wg_probe_session_send(s, NULL, 0);
		if (ret) {
			set_error(r, EXIT_FAILED, "sending a keepalive to %s: %s", r->endpoint, strerror(-ret));
			goto out;
		}
		if (!o->json)
			printf("keepalive sent: session confirmed\n");
		r->ok = true;
		r->exit_code = EXIT_OK;
		goto out;
	}
	r->pings = calloc(o->count, sizeof(*r->pings));
	if (!r->pings) {
		set_error(r, EXIT_FAILED, "out of memory");
		goto out;
	}
	if (run_pings(o, s, r, &tmpl, timeout_ns) == 0) {
		r->ok = true;
		r->exit_code = EXIT_OK;
	}
out:
	wg_secure_wipe(priv, sizeof(priv));
	wg_secure_wipe(psk, sizeof(psk));
}

int main(int argc, char **argv)
{
	struct options o = { .count = 3, .timeout_s = 5.0 };
	struct report r = { .exit_code = EXIT_FAILED };
	struct wg_probe_session s;
	bool session_open = false;
	int ret;

	/* --json anywhere asks for JSON, even about a bad command line */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json"))
			o.json = true;
	if (wg_crypto_init() != 0) {
		fputs("wgprobe: cannot initialise libsodium\n", stderr);
		return EXIT_FAILED;
	}
	ret = parse_options(argc, argv, &o, &r);
	if (ret == 1) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (ret == 0)
		probe(&o, &r, &s, &session_open);
	if (o.json)
		print_json(&o, &r);
	else
		print_text_summary(&o, &r);
	fflush(stdout);
	if (!r.ok)
		fprintf(stderr, "wgprobe: %s%s\n", r.error, r.exit_code == EXIT_USAGE ? " (see --help)" : "");
	if (session_open)
		wg_probe_session_close(&s);
	free(r.pings);
	return r.ok ? EXIT_OK : r.exit_code;
}
