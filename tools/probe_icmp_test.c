/* SPDX-License-Identifier: MIT */
/*
 * Tests of tools/probe_icmp.c. The packet vectors were captured with tcpdump
 * on a wireguard-go tun interface while Linux ping(8) (iputils) pinged the
 * other end through the tunnel (`ping -s 13 -p a5` and `-p 5a`), so requests
 * and replies, their checksums included, come from the Linux kernel and
 * iputils, not from this code. The odd 13-byte payload exercises the odd
 * tail of the checksum.
 */
#include <errno.h>
#include <sys/socket.h>

#include "tests/harness.h"
#include "tools/probe_icmp.h"

/* 198.51.100.2 -> 198.51.100.1, IP id 0xf193, DF; ICMP id 0x4a50 seq 1 */
static const char *v4_request =
	"45000029f19340004001f4d5c6336402c6336401"
	"080026cc4a500001a5a5a5a5a5a5a5a5a5a5a5a5a5";
/* the kernel's reply: 198.51.100.1 -> 198.51.100.2, IP id 0x1a21, no DF */
static const char *v4_reply =
	"450000291a21000040010c49c6336401c6336402"
	"00002ecc4a500001a5a5a5a5a5a5a5a5a5a5a5a5a5";
/* 2001:db8:100::2 -> 2001:db8:100::1, flow label 0x736cb; id 0x4a53 seq 1 */
static const char *v6_request =
	"600736cb00153a4020010db801000000000000000000000220010db8010000000000000000000001"
	"80005fc84a5300015a5a5a5a5a5a5a5a5a5a5a5a5a";
static const char *v6_reply =
	"600c75bd00153a4020010db801000000000000000000000120010db8010000000000000000000002"
	"81005ec84a5300015a5a5a5a5a5a5a5a5a5a5a5a5a";

static const uint8_t a4_1[4] = { 198, 51, 100, 1 };
static const uint8_t a4_2[4] = { 198, 51, 100, 2 };
static const uint8_t a6_1[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, [15] = 1 };
static const uint8_t a6_2[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, [15] = 2 };

static void test_checksum_rfc1071(void)
{
	/* RFC 1071 section 3 example: sum ddf2, checksum 220d */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const uint8_t odd[] = { 0x01 };
	static const uint8_t zeros[6] = { 0 };

	CHECK(wg_probe_icmp_checksum(b, sizeof(b), 0) == 0x220d);
	CHECK(wg_probe_icmp_checksum(odd, 1, 0) == 0xfeff);
	CHECK(wg_probe_icmp_checksum(zeros, sizeof(zeros), 0) == 0xffff);
	CHECK(wg_probe_icmp_checksum(NULL, 0, 0) == 0xffff);
	/* an initial partial sum is folded in like a leading word */
	CHECK(wg_probe_icmp_checksum(b + 2, sizeof(b) - 2, 0x0001) == 0x220d);
}

static void echo4(struct wg_probe_echo *e, const uint8_t *payload, size_t n)
{
	memset(e, 0, sizeof(*e));
	e->family = AF_INET;
	memcpy(e->src, a4_2, 4);
	memcpy(e->dst, a4_1, 4);
	e->id = 0x4a50;
	e->seq = 1;
	e->payload = payload;
	e->payload_len = n;
}

static void echo6(struct wg_probe_echo *e, const uint8_t *payload, size_t n)
{
	memset(e, 0, sizeof(*e));
	e->family = AF_INET6;
	memcpy(e->src, a6_2, 16);
	memcpy(e->dst, a6_1, 16);
	e->id = 0x4a53;
	e->seq = 1;
	e->payload = payload;
	e->payload_len = n;
}

static void test_build_v4_known_answer(void)
{
	uint8_t want[64], got[64], payload[13];
	struct wg_probe_echo e;
	size_t n = wg_test_unhex(want, sizeof(want), v4_request);

	memset(payload, 0xa5, sizeof(payload));
	echo4(&e, payload, sizeof(payload));
	CHECK(wg_probe_icmp_build_echo(got, sizeof(got), &e) == (ssize_t)n);
	/* ICMP part identical to the kernel's (id, seq, payload, checksum 26cc) */
	CHECK_MEM(got + 20, want + 20, n - 20);
	/* IP header: ours has IP id 0, so its checksum is f4d5 + f193 = e669 */
	CHECK(got[0] == 0x45 && got[2] == 0 && got[3] == 0x29);
	CHECK(got[4] == 0 && got[5] == 0 && got[6] == 0x40 && got[7] == 0);
	CHECK(got[8] == 64 && got[9] == 1);
	CHECK(got[10] == 0xe6 && got[11] == 0x69);
	CHECK_MEM(got + 12, want + 12, 8);
	CHECK(wg_probe_icmp_checksum(got, 20, 0) == 0);
}

static void test_build_v6_known_answer(void)
{
	uint8_t want[80], got[80], payload[13];
	struct wg_probe_echo e;
	size_t n = wg_test_unhex(want, sizeof(want), v6_request);

	memset(payload, 0x5a, sizeof(payload));
	echo6(&e, payload, sizeof(payload));
	CHECK(wg_probe_icmp_build_echo(got, sizeof(got), &e) == (ssize_t)n);
	/* everything but the flow label (ours is 0), checksum 5fc8 included */
	CHECK(got[0] == 0x60 && got[1] == 0 && got[2] == 0 && got[3] == 0);
	CHECK_MEM(got + 4, want + 4, n - 4);
}

static void test_build_errors(void)
{
	uint8_t buf[64], payload[13] = { 0 };
	struct wg_probe_echo e;

	echo4(&e, payload, sizeof(payload));
	CHECK(wg_probe_icmp_build_echo(buf, 40, &e) == -ENOSPC);
	CHECK(wg_probe_icmp_build_echo(buf, 41, &e) == 41);
	echo6(&e, payload, sizeof(payload));
	CHECK(wg_probe_icmp_build_echo(buf, 60, &e) == -ENOSPC);
	CHECK(wg_probe_icmp_build_echo(buf, 61, &e) == 61);
	e.family = AF_UNIX;
	CHECK(wg_probe_icmp_build_echo(buf, sizeof(buf), &e) == -EINVAL);
	echo4(&e, payload, 65535 - 28 + 1);
	CHECK(wg_probe_icmp_build_echo(buf, sizeof(buf), &e) == -EINVAL);
	echo6(&e, payload, 65535 - 8 + 1);
	CHECK(wg_probe_icmp_build_echo(buf, sizeof(buf), &e) == -EINVAL);
	echo4(&e, NULL, 5);
	CHECK(wg_probe_icmp_build_echo(buf, sizeof(buf), &e) == -EINVAL);
	/* no payload at all is a valid echo */
	echo4(&e, NULL, 0);
	CHECK(wg_probe_icmp_build_echo(buf, sizeof(buf), &e) == 28);
	CHECK(wg_probe_icmp_checksum(buf + 20, 8, 0) == 0);
}

static void test_parse_kernel_replies(void)
{
	uint8_t pkt[96], payload[13];
	struct wg_probe_echo q, r;
	size_t n;

	n = wg_test_unhex(pkt, sizeof(pkt), v4_reply);
	memset(payload, 0xa5, sizeof(payload));
	echo4(&q, payload, sizeof(payload));
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == 0);
	CHECK(r.family == AF_INET && r.id == 0x4a50 && r.seq == 1 && r.payload_len == 13);
	CHECK_MEM(r.src, a4_1, 4);
	CHECK_MEM(r.dst, a4_2, 4);
	CHECK(r.payload == pkt + 28);
	CHECK(wg_probe_icmp_matches(&q, &r));
	q.seq = 2;
	CHECK(!wg_probe_icmp_matches(&q, &r));
	q.seq = 1;
	q.id++;
	CHECK(!wg_probe_icmp_matches(&q, &r));
	q.id--;
	payload[12] = 0;
	CHECK(!wg_probe_icmp_matches(&q, &r));
	payload[12] = 0xa5;
	q.dst[3] = 9; /* a reply from someone else */
	CHECK(!wg_probe_icmp_matches(&q, &r));

	n = wg_test_unhex(pkt, sizeof(pkt), v6_reply);
	memset(payload, 0x5a, sizeof(payload));
	echo6(&q, payload, sizeof(payload));
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == 0);
	CHECK(r.family == AF_INET6 && r.id == 0x4a53 && r.seq == 1 && r.payload_len == 13);
	CHECK_MEM(r.src, a6_1, 16);
	CHECK_MEM(r.dst, a6_2, 16);
	CHECK(wg_probe_icmp_matches(&q, &r));
	q.src[15] = 3; /* a reply to another address */
	CHECK(!wg_probe_icmp_matches(&q, &r));
	/* an IPv4 reply never answers an IPv6 request */
	n = wg_test_unhex(pkt, sizeof(pkt), v4_reply);
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == 0);
	echo6(&q, payload, 13);
	CHECK(!wg_probe_icmp_matches(&q, &r));
}

/* WireGuard pads plaintext to a multiple of 16: trailing bytes are ignored */
static void test_parse_padding(void)
{
	uint8_t pkt[128];
	struct wg_probe_echo r;
	size_t n;

	memset(pkt, 0xee, sizeof(pkt));
	n = wg_test_unhex(pkt, sizeof(pkt), v4_reply);
	CHECK(wg_probe_icmp_parse_reply(pkt, n + 7, &r) == 0 && r.payload_len == 13);
	n = wg_test_unhex(pkt, sizeof(pkt), v6_reply);
	CHECK(wg_probe_icmp_parse_reply(pkt, n + 11, &r) == 0 && r.payload_len == 13);
}

/* requests are valid packets, but not replies */
static void test_parse_requests_are_not_replies(void)
{
	uint8_t pkt[96];
	struct wg_probe_echo r;
	size_t n;

	n = wg_test_unhex(pkt, sizeof(pkt), v4_request);
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == -ENOMSG);
	n = wg_test_unhex(pkt, sizeof(pkt), v6_request);
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == -ENOMSG);
}

static void test_parse_truncated(void)
{
	uint8_t pkt[96];
	struct wg_probe_echo r;
	size_t n;

	n = wg_test_unhex(pkt, sizeof(pkt), v4_reply);
	for (size_t len = 0; len < n; len++)
		CHECK_MSG(wg_probe_icmp_parse_reply(pkt, len, &r) == -EINVAL, "v4 len %zu", len);
	n = wg_test_unhex(pkt, sizeof(pkt), v6_reply);
	for (size_t len = 0; len < n; len++)
		CHECK_MSG(wg_probe_icmp_parse_reply(pkt, len, &r) == -EINVAL, "v6 len %zu", len);
}

/*
 * Every byte the checksums or the parser cover, changed, makes the packet
 * unacceptable. IPv4: all of it (header checksum + ICMP checksum). IPv6: all
 * but the version/traffic class/flow label (bytes 0-3, which only the version
 * check looks at) and the hop limit (byte 7), none of which a checksum covers.
 */
static void test_parse_corrupted(void)
{
	uint8_t pkt[96];
	struct wg_probe_echo r;
	size_t n;

	n = wg_test_unhex(pkt, sizeof(pkt), v4_reply);
	for (size_t i = 0; i < n; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			pkt[i] ^= (uint8_t)(1u << bit);
			CHECK_MSG(wg_probe_icmp_parse_reply(pkt, n, &r) != 0, "v4 byte %zu bit %u", i, bit);
			pkt[i] ^= (uint8_t)(1u << bit);
		}
	}
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == 0);
	n = wg_test_unhex(pkt, sizeof(pkt), v6_reply);
	for (size_t i = 4; i < n; i++) {
		if (i == 7)
			continue;
		for (unsigned bit = 0; bit < 8; bit++) {
			pkt[i] ^= (uint8_t)(1u << bit);
			CHECK_MSG(wg_probe_icmp_parse_reply(pkt, n, &r) != 0, "v6 byte %zu bit %u", i, bit);
			pkt[i] ^= (uint8_t)(1u << bit);
		}
	}
	pkt[0] = 0x50; /* version 5 */
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == -EINVAL);
	pkt[0] = 0x60;
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == 0);
	pkt[41]++; /* code 1, checksum adjusted by one: valid, but not an echo reply */
	pkt[43]--;
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == -ENOMSG);
}

static void test_parse_odd_packets(void)
{
	uint8_t pkt[128];
	struct wg_probe_echo r;
	size_t n;

	/* IPv4 fragment (MF set), header checksum fixed up: rejected */
	n = wg_test_unhex(pkt, sizeof(pkt), v4_reply);
	pkt[6] |= 0x20;
	pkt[10] = pkt[11] = 0;
	{
		uint16_t c = wg_probe_icmp_checksum(pkt, 20, 0);
		pkt[10] = (uint8_t)(c >> 8);
		pkt[11] = (uint8_t)c;
	}
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == -EINVAL);
	/* IHL below 5 */
	n = wg_test_unhex(pkt, sizeof(pkt), v4_reply);
	pkt[0] = 0x44;
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == -EINVAL);
	/* IHL beyond the total length */
	pkt[0] = 0x4f;
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == -EINVAL);
	/* total length shorter than IP + ICMP headers */
	n = wg_test_unhex(pkt, sizeof(pkt), v4_reply);
	pkt[3] = 27;
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) != 0);
	/* a UDP packet (protocol 17): header checksum fixed up, not ours */
	n = wg_test_unhex(pkt, sizeof(pkt), v4_reply);
	pkt[9] = 17;
	pkt[10] = pkt[11] = 0;
	{
		uint16_t c = wg_probe_icmp_checksum(pkt, 20, 0);
		pkt[10] = (uint8_t)(c >> 8);
		pkt[11] = (uint8_t)c;
	}
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == -ENOMSG);
	/* IPv6 with a hop-by-hop header (next header 0): not ours */
	n = wg_test_unhex(pkt, sizeof(pkt), v6_reply);
	pkt[6] = 0;
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == -ENOMSG);
	/* IPv6 payload length shorter than an ICMP header */
	n = wg_test_unhex(pkt, sizeof(pkt), v6_reply);
	pkt[5] = 7;
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == -EINVAL);
	/* a zero-length buffer and a version-0 byte */
	CHECK(wg_probe_icmp_parse_reply(pkt, 0, &r) == -EINVAL);
	pkt[0] = 0;
	CHECK(wg_probe_icmp_parse_reply(pkt, n, &r) == -EINVAL);
}

/* what we build, turned into a reply the way a host does, parses back */
static void test_roundtrip(void)
{
	uint8_t buf[1500], payload[1000];
	struct wg_probe_echo q, r;
	ssize_t n;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len < sizeof(payload); len += 37) {
		echo4(&q, payload, len);
		q.seq = (uint16_t)len;
		n = wg_probe_icmp_build_echo(buf, sizeof(buf), &q);
		CHECK(n == (ssize_t)(28 + len));
		/* answer it as a host would: swap addresses, type 8 -> 0, new checksum */
		memcpy(buf + 12, a4_1, 4);
		memcpy(buf + 16, a4_2, 4);
		buf[20] = 0;
		buf[22] = buf[23] = 0;
		{
			uint16_t c = wg_probe_icmp_checksum(buf + 20, (size_t)n - 20, 0);
			buf[22] = (uint8_t)(c >> 8);
			buf[23] = (uint8_t)c;
		}
		CHECK(wg_probe_icmp_parse_reply(buf, (size_t)n, &r) == 0);
		CHECK(wg_probe_icmp_matches(&q, &r));

		echo6(&q, payload, len);
		q.seq = (uint16_t)len;
		n = wg_probe_icmp_build_echo(buf, sizeof(buf), &q);
		CHECK(n == (ssize_t)(48 + len));
		/* swapping src and dst leaves the pseudo-header sum unchanged */
		memcpy(buf + 8, a6_1, 16);
		memcpy(buf + 24, a6_2, 16);
		buf[40] = 129; /* +1 in the high byte of the first word: checksum - 0x0100 */
		{
			unsigned c = (unsigned)(buf[42] << 8 | buf[43]);
			c = c >= 0x0100 ? c - 0x0100 : c + 0xffff - 0x0100;
			buf[42] = (uint8_t)(c >> 8);
			buf[43] = (uint8_t)c;
		}
		CHECK_MSG(wg_probe_icmp_parse_reply(buf, (size_t)n, &r) == 0, "v6 len %zu", len);
		CHECK(wg_probe_icmp_matches(&q, &r));
	}
}

int main(void)
{
	TEST_BEGIN("tools/probe_icmp_test");
	RUN_TEST(test_checksum_rfc1071);
	RUN_TEST(test_build_v4_known_answer);
	RUN_TEST(test_build_v6_known_answer);
	RUN_TEST(test_build_errors);
	RUN_TEST(test_parse_kernel_replies);
	RUN_TEST(test_parse_padding);
	RUN_TEST(test_parse_requests_are_not_replies);
	RUN_TEST(test_parse_truncated);
	RUN_TEST(test_parse_corrupted);
	RUN_TEST(test_parse_odd_packets);
	RUN_TEST(test_roundtrip);
	return TEST_END();
}
