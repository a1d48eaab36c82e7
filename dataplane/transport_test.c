/* SPDX-License-Identifier: MIT */
/*
 * Transport data message tests: a pair of keypairs built crosswise (A's send
 * key is B's receive key and the other way round), as a handshake would
 * leave them. Pinned here: wire layout and padding, the mtu rule, that
 * nothing forged is ever released (every byte tampered), that the replay
 * window only learns authentic counters, the age and counter limits in both
 * directions, and that the send counter never wraps.
 */
#include <errno.h>
#include <stdint.h>

#include "crypto/aead.h"
#include "crypto/secure.h"
#include "dataplane/keypair.h"
#include "dataplane/transport.h"
#include "tests/harness.h"

#define NS WG_NSEC_PER_SEC
#define BIRTH (1000 * NS)
#define IDX_A 0x11223344u
#define IDX_B 0xa5b6c7d8u
#define FILL 0x5a
#define MAXP 2048
#define MAXMSG (MAXP + 64)

/* a (initiator, local IDX_A) and b (responder, local IDX_B), fresh at BIRTH */
static void make_pair(struct wg_keypair *a, struct wg_keypair *b)
{
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	wg_secure_random(a->send_key, WG_KEY_LEN);
	wg_secure_random(a->recv_key, WG_KEY_LEN);
	memcpy(b->recv_key, a->send_key, WG_KEY_LEN);
	memcpy(b->send_key, a->recv_key, WG_KEY_LEN);
	wg_replay_init(&a->replay);
	wg_replay_init(&b->replay);
	a->birth_ns = b->birth_ns = BIRTH;
	a->local_index = b->remote_index = IDX_A;
	a->remote_index = b->local_index = IDX_B;
	a->is_initiator = true;
	a->valid = b->valid = true;
}

/* plaintext bytes all have the top bit set: never 0 and never FILL */
static void make_plain(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(0x80 | ((i * 7 + seed) & 0x7f));
}

/* true when no byte of buf[0..n) is anything but FILL or 0 (nothing released) */
static bool nothing_released(const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != FILL && buf[i] != 0)
			return false;
	return true;
}

static void test_round_trip_all_sizes(void)
{
	static const size_t mtus[] = { 0, 1420, 1280 };
	static uint8_t plain[MAXP], out[MAXP], msg[MAXMSG];

	for (size_t m = 0; m < sizeof(mtus) / sizeof(mtus[0]); m++) {
		struct wg_keypair a, b;
		uint64_t counter = 0;

		make_pair(&a, &b);
		for (size_t len = 0; len <= 1500; len++, counter++) {
			size_t padded = wg_data_padded_len(len, mtus[m]);
			ssize_t n, got;

			make_plain(plain, len, (unsigned)len);
			n = wg_transport_encrypt(&a, msg, sizeof(msg), plain, len, mtus[m], BIRTH + len);
			if (n != (ssize_t)wg_transport_msg_len(len, mtus[m]) ||
			    n != (ssize_t)(WG_DATA_HEADER_LEN + padded + WG_AEAD_TAG_LEN) ||
			    (padded % 16 && padded != mtus[m])) {
				CHECK_MSG(0, "mtu %zu len %zu: encrypt returned %zd", mtus[m], len, n);
				break;
			}
			/* wire layout */
			CHECK(msg[0] == WG_MSG_DATA && msg[1] == 0 && msg[2] == 0 && msg[3] == 0);
			CHECK(wg_le32_read(msg + 4) == IDX_B);
			CHECK(wg_le64_read(msg + 8) == counter);
			CHECK(wg_msg_classify(msg, (size_t)n) == WG_MSG_DATA);

			memset(out, FILL, sizeof(out));
			got = wg_transport_decrypt(&b, out, sizeof(out), msg, (size_t)n, BIRTH + len);
			if (got != (ssize_t)padded || memcmp(out, plain, len) != 0 ||
			    !wg_secure_is_zero(out + len, padded - len)) {
				CHECK_MSG(0, "mtu %zu len %zu: decrypt returned %zd", mtus[m], len, got);
				break;
			}
		}
		CHECK(a.send_counter == 1501);
		/* and back the other way */
		make_plain(plain, 100, 3);
		ssize_t n = wg_transport_encrypt(&b, msg, sizeof(msg), plain, 100, mtus[m], BIRTH);
		CHECK(n == 16 + 112 + 16);
		CHECK(wg_le32_read(msg + 4) == IDX_A);
		CHECK(wg_transport_decrypt(&a, out, sizeof(out), msg, (size_t)n, BIRTH) == 112);
		CHECK_MEM(out, plain, 100);
	}
}

static void test_keepalive(void)
{
	struct wg_keypair a, b;
	uint8_t msg[64], out[16];

	make_pair(&a, &b);
	memset(out, FILL, sizeof(out));
	CHECK(wg_transport_encrypt(&a, msg, sizeof(msg), NULL, 0, 1420, BIRTH) == WG_DATA_MIN_LEN);
	CHECK(wg_transport_encrypt(&a, msg, WG_DATA_MIN_LEN, (const uint8_t *)"", 0, 0, BIRTH) == 32);
	CHECK(wg_transport_decrypt(&b, out, 0, msg, 32, BIRTH) == 0);
	CHECK(out[0] == FILL);
}

/* padded length: next multiple of 16, capped at mtu only when len fits in it */
static void test_mtu_capping(void)
{
	static const struct {
		size_t len, mtu, padded;
	} cases[] = {
		{ 0, 0, 0 },        { 1, 0, 16 },        { 16, 0, 16 },       { 17, 0, 32 },
		{ 1419, 1420, 1420 }, /* 1424 would exceed the mtu */
		{ 1420, 1420, 1420 }, { 1409, 1420, 1420 }, { 1408, 1420, 1408 },
		{ 1421, 1420, 1424 }, /* larger than the mtu: plain padding */
		{ 1500, 1420, 1504 }, { 1, 1, 1 },          { 5, 3, 16 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wg_keypair a, b;
		static uint8_t plain[MAXP], out[MAXP], msg[MAXMSG];
		ssize_t n;

		make_pair(&a, &b);
		make_plain(plain, cases[i].len, 1);
		n = wg_transport_encrypt(&a, msg, sizeof(msg), plain, cases[i].len, cases[i].mtu, BIRTH);
		CHECK_MSG(n == (ssize_t)(32 + cases[i].padded), "case %zu: %zd", i, n);
		CHECK(wg_transport_decrypt(&b, out, sizeof(out), msg, (size_t)n, BIRTH) == (ssize_t)cases[i].padded);
	}
}

static void test_no_space(void)
{
	struct wg_keypair a, b;
	uint8_t plain[100], msg[256], out[256];
	ssize_t n;

	make_pair(&a, &b);
	make_plain(plain, sizeof(plain), 0);
	/* 100 bytes -> 112 padded -> 144 bytes; one short fails without spending a counter */
	CHECK(wg_transport_encrypt(&a, msg, 143, plain, 100, 0, BIRTH) == -ENOSPC);
	CHECK(wg_transport_encrypt(&a, msg, 50, plain, 100, 0, BIRTH) == -ENOSPC);
	CHECK(wg_transport_encrypt(&a, msg, 1000, plain, SIZE_MAX, 0, BIRTH) == -ENOSPC);
	CHECK(a.send_counter == 0);
	n = wg_transport_encrypt(&a, msg, 144, plain, 100, 0, BIRTH);
	CHECK(n == 144);
	memset(out, FILL, sizeof(out));
	CHECK(wg_transport_decrypt(&b, out, 111, msg, 144, BIRTH) == -ENOSPC);
	CHECK(nothing_released(out, sizeof(out)));
	CHECK(wg_transport_decrypt(&b, out, 112, msg, 144, BIRTH) == 112);
}

/*
 * Flip every bit of every byte: header -> -EINVAL, counter and ciphertext and
 * tag -> -EBADMSG, and the output never holds plaintext. A forged counter must
 * not move the window: the original still decrypts afterwards.
 */
static void test_tamper_every_byte(void)
{
	struct wg_keypair a, b;
	uint8_t plain[100], msg[144], bad[144], out[160];
	ssize_t n;

	make_pair(&a, &b);
	make_plain(plain, sizeof(plain), 9);
	a.send_counter = 5000; /* a forged counter of 5000 ^ bit must not enter the window */
	n = wg_transport_encrypt(&a, msg, sizeof(msg), plain, sizeof(plain), 0, BIRTH);
	CHECK(n == 144);
	for (size_t i = 0; i < sizeof(msg); i++) {
		for (int bit = 0; bit < 8; bit++) {
			ssize_t got;
			int want = i < 8 ? -EINVAL : -EBADMSG;

			memcpy(bad, msg, sizeof(bad));
			bad[i] ^= (uint8_t)(1u << bit);
			memset(out, FILL, sizeof(out));
			got = wg_transport_decrypt(&b, out, sizeof(out), bad, sizeof(bad), BIRTH);
			CHECK_MSG(got == want, "byte %zu bit %d: %zd", i, bit, got);
			CHECK_MSG(nothing_released(out, sizeof(out)), "byte %zu bit %d released", i, bit);
		}
	}
	/* truncated and extended copies */
	for (size_t len = 0; len < sizeof(msg); len++) {
		memset(out, FILL, sizeof(out));
		ssize_t got = wg_transport_decrypt(&b, out, sizeof(out), msg, len, BIRTH);
		CHECK_MSG(got == (len < 32 ? -EINVAL : -EBADMSG), "len %zu: %zd", len, got);
		CHECK(nothing_released(out, sizeof(out)));
	}
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), msg, sizeof(msg), BIRTH) == 112);
	CHECK_MEM(out, plain, sizeof(plain));
}

static void test_replay(void)
{
	struct wg_keypair a, b;
	uint8_t plain[40], msg[80], out[64];
	ssize_t n;

	make_pair(&a, &b);
	make_plain(plain, sizeof(plain), 2);
	n = wg_transport_encrypt(&a, msg, sizeof(msg), plain, sizeof(plain), 0, BIRTH);
	CHECK(n == 80);
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), msg, 80, BIRTH) == 48);
	memset(out, FILL, sizeof(out));
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), msg, 80, BIRTH) == -EALREADY);
	CHECK(nothing_released(out, sizeof(out)));
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), msg, 80, BIRTH + 1) == -EALREADY);
}

static void test_wrong_index(void)
{
	struct wg_keypair a, b;
	uint8_t msg[64], out[64];

	make_pair(&a, &b);
	CHECK(wg_transport_encrypt(&a, msg, sizeof(msg), NULL, 0, 0, BIRTH) == 32);
	/* delivered to the keypair it was not addressed to (A's own index) */
	CHECK(wg_transport_decrypt(&a, out, sizeof(out), msg, 32, BIRTH) == -EINVAL);
	b.local_index ^= 1;
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), msg, 32, BIRTH) == -EINVAL);
	b.local_index ^= 1;
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), msg, 32, BIRTH) == 0);
}

/* REJECT_AFTER_TIME: at birth + 180 s both directions refuse, one ns earlier they work */
static void test_expiry(void)
{
	struct wg_keypair a, b;
	uint8_t msg[64], msg2[64], out[64];
	uint64_t last = BIRTH + WG_REJECT_AFTER_TIME - 1, dead = BIRTH + WG_REJECT_AFTER_TIME;

	make_pair(&a, &b);
	CHECK(wg_keypair_can_send(&a, last) && wg_keypair_can_receive(&b, last));
	CHECK(!wg_keypair_can_send(&a, dead) && !wg_keypair_can_receive(&b, dead));
	CHECK(wg_transport_encrypt(&a, msg, sizeof(msg), NULL, 0, 0, last) == 32);
	CHECK(wg_transport_encrypt(&a, msg2, sizeof(msg2), NULL, 0, 0, last) == 32);
	CHECK(wg_transport_encrypt(&a, out, sizeof(out), NULL, 0, 0, dead) == -ESTALE);
	CHECK(wg_transport_encrypt(&a, out, sizeof(out), NULL, 0, 0, dead + 1000 * NS) == -ESTALE);
	CHECK(a.send_counter == 2);
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), msg, 32, last) == 0);
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), msg2, 32, dead) == -ESTALE);
	/* wiped keypairs do neither */
	wg_keypair_wipe(&a);
	CHECK(!a.valid && wg_secure_is_zero(a.send_key, WG_KEY_LEN) && wg_secure_is_zero(a.recv_key, WG_KEY_LEN));
	CHECK(wg_transport_encrypt(&a, msg, sizeof(msg), NULL, 0, 0, BIRTH) == -ESTALE);
	CHECK(wg_transport_decrypt(&a, out, sizeof(out), msg, 32, BIRTH) != 0);
}

/* REJECT_AFTER_MESSAGES: the last usable counter is R - 1; then nothing, and no wrap */
static void test_counter_limit(void)
{
	struct wg_keypair a, b;
	uint8_t msg[64], out[64], forged[48];

	make_pair(&a, &b);
	a.send_counter = WG_REJECT_AFTER_MESSAGES - 1;
	CHECK(wg_keypair_can_send(&a, BIRTH));
	CHECK(wg_transport_encrypt(&a, msg, sizeof(msg), NULL, 0, 0, BIRTH) == 32);
	CHECK(wg_le64_read(msg + 8) == WG_REJECT_AFTER_MESSAGES - 1);
	CHECK(a.send_counter == WG_REJECT_AFTER_MESSAGES);
	CHECK(!wg_keypair_can_send(&a, BIRTH));
	for (int i = 0; i < 10000; i++) {
		if (wg_transport_encrypt(&a, out, sizeof(out), NULL, 0, 0, BIRTH) != -ESTALE) {
			CHECK_MSG(0, "send %d past the limit", i);
			break;
		}
	}
	CHECK(a.send_counter == WG_REJECT_AFTER_MESSAGES);
	a.send_counter = UINT64_MAX;
	CHECK(wg_transport_encrypt(&a, out, sizeof(out), NULL, 0, 0, BIRTH) == -ESTALE);
	CHECK(a.send_counter == UINT64_MAX);
	/* the receiver takes R - 1 ... */
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), msg, 32, BIRTH) == 0);
	/* ... but not an authentic message at R (a sender that ignored the limit) */
	memcpy(forged, msg, 16);
	wg_le64_write(forged + 8, WG_REJECT_AFTER_MESSAGES);
	wg_aead_encrypt(forged + 16, (const uint8_t *)"", 0, NULL, 0, WG_REJECT_AFTER_MESSAGES, a.send_key);
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), forged, 32, BIRTH) == -EALREADY);
	wg_le64_write(forged + 8, UINT64_MAX);
	wg_aead_encrypt(forged + 16, (const uint8_t *)"", 0, NULL, 0, UINT64_MAX, a.send_key);
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), forged, 32, BIRTH) == -EALREADY);
}

/* messages arriving out of order inside the window are all accepted once */
static void test_out_of_order(void)
{
	enum { N = 300 };
	static uint8_t msgs[N][64];
	struct wg_keypair a, b;
	uint8_t out[64], late[64], plain[8];

	make_pair(&a, &b);
	for (int i = 0; i < N; i++) {
		make_plain(plain, sizeof(plain), (unsigned)i);
		CHECK(wg_transport_encrypt(&a, msgs[i], sizeof(msgs[i]), plain, sizeof(plain), 0, BIRTH) == 48);
	}
	/* deliver: evens descending, then odds ascending */
	for (int i = N - 2; i >= 0; i -= 2)
		CHECK_MSG(wg_transport_decrypt(&b, out, sizeof(out), msgs[i], 48, BIRTH) == 16, "msg %d", i);
	for (int i = 1; i < N; i += 2)
		CHECK_MSG(wg_transport_decrypt(&b, out, sizeof(out), msgs[i], 48, BIRTH) == 16, "msg %d", i);
	for (int i = 0; i < N; i++)
		CHECK_MSG(wg_transport_decrypt(&b, out, sizeof(out), msgs[i], 48, BIRTH) == -EALREADY, "msg %d", i);

	/*
	 * Jump ahead to N + WINDOW + 64: an unseen counter WINDOW back is still
	 * taken, one more than WINDOW back is not.
	 */
	uint64_t top = N + WG_REPLAY_WINDOW + 64;
	a.send_counter = top;
	CHECK(wg_transport_encrypt(&a, late, sizeof(late), NULL, 0, 0, BIRTH) == 32);
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), late, 32, BIRTH) == 0);
	a.send_counter = top - WG_REPLAY_WINDOW;
	CHECK(wg_transport_encrypt(&a, late, sizeof(late), NULL, 0, 0, BIRTH) == 32);
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), late, 32, BIRTH) == 0);
	a.send_counter = top - WG_REPLAY_WINDOW - 1;
	CHECK(wg_transport_encrypt(&a, late, sizeof(late), NULL, 0, 0, BIRTH) == 32);
	CHECK(wg_transport_decrypt(&b, out, sizeof(out), late, 32, BIRTH) == -EALREADY);
}

int main(void)
{
	TEST_BEGIN("dataplane/transport_test");
	if (wg_crypto_init()) {
		printf("FAIL dataplane/transport_test/crypto_init\n");
		return 1;
	}
	RUN_TEST(test_round_trip_all_sizes);
	RUN_TEST(test_keepalive);
	RUN_TEST(test_mtu_capping);
	RUN_TEST(test_no_space);
	RUN_TEST(test_tamper_every_byte);
	RUN_TEST(test_replay);
	RUN_TEST(test_wrong_index);
	RUN_TEST(test_expiry);
	RUN_TEST(test_counter_limit);
	RUN_TEST(test_out_of_order);
	return TEST_END();
}
