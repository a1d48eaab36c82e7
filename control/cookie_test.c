/* SPDX-License-Identifier: MIT */
/*
 * mac1/mac2/cookie reply tests. A responder's checker and an initiator's
 * maker for that responder exchange messages; the clock is an argument.
 * Pinned: known mac1/mac2 values (computed independently with Python's
 * hashlib.blake2s), every tampered byte of a message or its mac1 rejected,
 * the whole cookie round trip, cookies bound to address and port (IPv4 and
 * IPv6), the 115 s cookie lifetime, the 120 s secret rotation, and that a
 * bad cookie reply leaves the maker as it was.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>

#include "control/cookie.h"
#include "crypto/blake2s.h"
#include "crypto/secure.h"
#include "crypto/x25519.h"
#include "tests/harness.h"

#define NS WG_NSEC_PER_SEC
#define T0 (5000 * NS)
#define INIT_LEN WG_MSG_INITIATION_LEN
#define RESP_LEN WG_MSG_RESPONSE_LEN

static struct wg_endpoint ep4(const char *addr, uint16_t port)
{
	struct wg_endpoint ep = { .family = AF_INET, .port = htons(port) };
	CHECK(inet_pton(AF_INET, addr, ep.addr) == 1);
	return ep;
}

static struct wg_endpoint ep6(const char *addr, uint16_t port)
{
	struct wg_endpoint ep = { .family = AF_INET6, .port = htons(port) };
	CHECK(inet_pton(AF_INET6, addr, ep.addr) == 1);
	return ep;
}

/* a handshake message of len bytes (type from len), random body, macs zero */
static void make_msg(uint8_t *msg, size_t len)
{
	wg_secure_random(msg, len);
	msg[0] = len == INIT_LEN ? WG_MSG_HANDSHAKE_INITIATION : WG_MSG_HANDSHAKE_RESPONSE;
	msg[1] = msg[2] = msg[3] = 0;
	memset(msg + len - 32, 0, 32);
}

/* responder checker + initiator maker, both for the responder's public key */
static void make_pair(struct wg_cookie_checker *c, struct wg_cookie_maker *m, uint8_t pub[WG_KEY_LEN])
{
	uint8_t priv[WG_KEY_LEN];

	wg_x25519_generate(priv);
	CHECK(wg_x25519_public(pub, priv) == 0);
	wg_cookie_checker_init(c, pub);
	wg_cookie_maker_init(m);
	wg_secure_wipe(priv, sizeof(priv));
}

/*
 * Known answers (Python: k = blake2s(b"mac1----" + pub).digest();
 * blake2s(msg[:116], key=k, digest_size=16); mac2 keyed with the cookie over
 * msg[:132]), pub = 01 02 .. 20, msg[i] = i * 13 + 5 after the header.
 */
static void test_known_macs(void)
{
	struct wg_cookie_maker m;
	struct wg_cookie_checker c;
	uint8_t pub[32], msg[INIT_LEN], want[32], key[32];

	for (int i = 0; i < 32; i++)
		pub[i] = (uint8_t)(i + 1);
	msg[0] = 1;
	msg[1] = msg[2] = msg[3] = 0;
	for (int i = 4; i < (int)INIT_LEN; i++)
		msg[i] = (uint8_t)(i * 13 + 5);
	wg_cookie_maker_init(&m);
	wg_cookie_checker_init(&c, pub);
	wg_test_unhex(want, 32, "121b33018813efaa1d3128cdec1392897828e98831f01822c250ddfdf7090183");
	wg_cookie_mac1_key(key, pub);
	CHECK_MEM(key, want, 32);
	CHECK_MEM(c.message_mac1_key, want, 32);
	wg_test_unhex(want, 32, "2f87e1b72843ca5c7d1f3d56271f4a9e22cd2c8f01c86b1b88bd8fb7d7871de1");
	wg_cookie_cookie_key(key, pub);
	CHECK_MEM(key, want, 32);
	CHECK_MEM(c.cookie_encryption_key, want, 32);

	/* without a cookie: mac1 and zeros */
	wg_cookie_add_macs(&m, pub, msg, sizeof(msg), T0);
	wg_test_unhex(want, 16, "38a6fa71ca1371f37bb1d0a79218508f");
	CHECK_MEM(msg + 116, want, 16);
	CHECK(wg_secure_is_zero(msg + 132, 16));
	CHECK(m.have_sent_mac1 && memcmp(m.last_mac1_sent, want, 16) == 0);

	/* with cookie a0..af */
	for (int i = 0; i < 16; i++)
		m.cookie[i] = (uint8_t)(0xa0 + i);
	m.cookie_valid = true;
	m.cookie_birth_ns = T0;
	wg_cookie_add_macs(&m, pub, msg, sizeof(msg), T0);
	CHECK_MEM(msg + 116, want, 16);
	wg_test_unhex(want, 16, "11cf93fbee1148c72c354b3302221aec");
	CHECK_MEM(msg + 132, want, 16);
}

/* mac1 verifies, and so does nothing with a single byte changed */
static void test_mac1_valid_and_tampered(void)
{
	static const size_t lens[] = { INIT_LEN, RESP_LEN };

	for (size_t l = 0; l < 2; l++) {
		struct wg_cookie_checker c, other_c;
		struct wg_cookie_maker m;
		struct wg_endpoint src = ep4("192.0.2.1", 51820);
		uint8_t pub[32], other_pub[32], msg[INIT_LEN], bad[INIT_LEN];
		size_t len = lens[l];

		make_pair(&c, &m, pub);
		make_msg(msg, len);
		wg_cookie_add_macs(&m, pub, msg, len, T0);
		CHECK(!wg_secure_is_zero(msg + len - 32, 16));
		CHECK(wg_cookie_validate(&c, msg, len, &src, false, T0) == WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);

		/* every byte up to and including mac1 is covered */
		for (size_t i = 0; i < len - 16; i++) {
			memcpy(bad, msg, len);
			bad[i] ^= (uint8_t)(1u << (i % 8));
			CHECK_MSG(wg_cookie_validate(&c, bad, len, &src, false, T0) == WG_COOKIE_INVALID_MAC,
				  "len %zu byte %zu", len, i);
			bad[i] ^= 0xff;
			CHECK_MSG(wg_cookie_validate(&c, bad, len, &src, true, T0) == WG_COOKIE_INVALID_MAC,
				  "len %zu byte %zu", len, i);
		}
		/* mac2 is not under mac1 */
		memcpy(bad, msg, len);
		bad[len - 1] ^= 1;
		CHECK(wg_cookie_validate(&c, bad, len, &src, false, T0) == WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
		/* a truncated message is not validated */
		CHECK(wg_cookie_validate(&c, msg, len - 1, &src, false, T0) == WG_COOKIE_INVALID_MAC);
		CHECK(wg_cookie_validate(&c, msg, 0, &src, false, T0) == WG_COOKIE_INVALID_MAC);
		CHECK(wg_cookie_validate(&c, msg, 31, &src, false, T0) == WG_COOKIE_INVALID_MAC);
		/* another responder's checker rejects it */
		make_pair(&other_c, &m, other_pub);
		CHECK(wg_cookie_validate(&other_c, msg, len, &src, false, T0) == WG_COOKIE_INVALID_MAC);
	}
}

/* under load, a message with a valid mac1 and no cookie asks for a cookie reply */
static void test_under_load_no_cookie(void)
{
	struct wg_cookie_checker c;
	struct wg_cookie_maker m;
	struct wg_endpoint src = ep4("192.0.2.1", 51820);
	uint8_t pub[32], msg[INIT_LEN];

	make_pair(&c, &m, pub);
	make_msg(msg, INIT_LEN);
	wg_cookie_add_macs(&m, pub, msg, INIT_LEN, T0);
	CHECK(wg_secure_is_zero(msg + INIT_LEN - 16, 16));
	CHECK(wg_cookie_validate(&c, msg, INIT_LEN, &src, true, T0) == WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	/* random mac2 does not pass either */
	wg_secure_random(msg + INIT_LEN - 16, 16);
	CHECK(wg_cookie_validate(&c, msg, INIT_LEN, &src, true, T0) == WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
}

/*
 * Responder replies with a cookie, initiator takes it and re-sends with mac2.
 * Returns with m holding the cookie for src (made at now).
 */
static void cookie_round_trip(struct wg_cookie_checker *c, struct wg_cookie_maker *m, const uint8_t pub[WG_KEY_LEN],
			      const struct wg_endpoint *src, size_t len, uint64_t now)
{
	uint8_t msg[INIT_LEN];
	struct wg_msg_cookie reply;
	uint32_t sender = 0x01020304;

	make_msg(msg, len);
	wg_le32_write(msg + 4, sender);
	wg_cookie_add_macs(m, pub, msg, len, now);
	CHECK(wg_cookie_validate(c, msg, len, src, true, now) == WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	CHECK(wg_cookie_create_reply(c, &reply, msg, len, sender, src, now) == 0);
	CHECK(reply.header.type == WG_MSG_HANDSHAKE_COOKIE);
	CHECK(reply.header.reserved_zero[0] == 0 && reply.header.reserved_zero[1] == 0 &&
	      reply.header.reserved_zero[2] == 0);
	CHECK(wg_le32_read(&reply.receiver_index) == sender);
	CHECK(wg_msg_classify(&reply, sizeof(reply)) == WG_MSG_HANDSHAKE_COOKIE);
	CHECK(wg_cookie_consume_reply(m, pub, &reply, now) == 0);
	CHECK(m->cookie_valid && !m->have_sent_mac1 && m->cookie_birth_ns == now);
	/* taken once only */
	CHECK(wg_cookie_consume_reply(m, pub, &reply, now) == -EINVAL);
}

/* the cookie the checker would make for src right now (white box) */
static void expected_cookie(const struct wg_cookie_checker *c, const struct wg_endpoint *src, uint8_t out[16])
{
	uint8_t bytes[18];
	size_t n = wg_endpoint_cookie_bytes(src, bytes);

	wg_blake2s_mac(out, c->secret, sizeof(c->secret), bytes, n);
}

static void test_full_cookie_flow(void)
{
	const struct wg_endpoint srcs[] = {
		ep4("192.0.2.1", 51820),
		ep6("2001:db8::1", 51820),
		ep6("2001:db8:ffff::abcd", 1),
	};
	static const size_t lens[] = { INIT_LEN, RESP_LEN };

	for (size_t s = 0; s < sizeof(srcs) / sizeof(srcs[0]); s++) {
		for (size_t l = 0; l < 2; l++) {
			struct wg_cookie_checker c;
			struct wg_cookie_maker m;
			uint8_t pub[32], msg[INIT_LEN], cookie[16];
			size_t len = lens[l];

			make_pair(&c, &m, pub);
			cookie_round_trip(&c, &m, pub, &srcs[s], len, T0);
			expected_cookie(&c, &srcs[s], cookie);
			CHECK_MEM(m.cookie, cookie, 16);
			/* the next message carries mac2 and passes */
			make_msg(msg, len);
			wg_cookie_add_macs(&m, pub, msg, len, T0 + NS);
			CHECK(!wg_secure_is_zero(msg + len - 16, 16));
			CHECK_MSG(wg_cookie_validate(&c, msg, len, &srcs[s], true, T0 + NS) ==
					  WG_COOKIE_VALID_MAC_WITH_COOKIE, "src %zu len %zu", s, len);
			/* not under load: mac1 only */
			CHECK(wg_cookie_validate(&c, msg, len, &srcs[s], false, T0 + NS) ==
			      WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
		}
	}
}

static void test_tampered_mac2(void)
{
	struct wg_cookie_checker c;
	struct wg_cookie_maker m;
	struct wg_endpoint src = ep4("198.51.100.7", 4444);
	uint8_t pub[32], msg[INIT_LEN], bad[INIT_LEN];

	make_pair(&c, &m, pub);
	cookie_round_trip(&c, &m, pub, &src, INIT_LEN, T0);
	make_msg(msg, INIT_LEN);
	wg_cookie_add_macs(&m, pub, msg, INIT_LEN, T0);
	CHECK(wg_cookie_validate(&c, msg, INIT_LEN, &src, true, T0) == WG_COOKIE_VALID_MAC_WITH_COOKIE);
	for (size_t i = INIT_LEN - 16; i < INIT_LEN; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(bad, msg, INIT_LEN);
			bad[i] ^= (uint8_t)(1u << bit);
			CHECK_MSG(wg_cookie_validate(&c, bad, INIT_LEN, &src, true, T0) ==
					  WG_COOKIE_VALID_MAC_BUT_NO_COOKIE, "byte %zu bit %d", i, bit);
		}
	}
}

/* a cookie made for one address and port is worth nothing from another */
static void test_cookie_bound_to_source(void)
{
	struct {
		struct wg_endpoint a, b;
	} cases[] = {
		{ ep4("192.0.2.1", 51820), ep4("192.0.2.2", 51820) },
		{ ep4("192.0.2.1", 51820), ep4("192.0.2.1", 51821) },
		{ ep4("192.0.2.1", 51820), ep4("193.0.2.1", 51820) },
		{ ep6("2001:db8::1", 51820), ep6("2001:db8::2", 51820) },
		{ ep6("2001:db8::1", 51820), ep6("2001:db8::1", 1) },
		{ ep6("2001:db8::1", 51820), ep6("3001:db8::1", 51820) },
		/* same first four bytes, other family */
		{ ep4("32.1.13.184", 51820), ep6("2001:db8::", 51820) },
		{ ep6("2001:db8::", 51820), ep4("32.1.13.184", 51820) },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wg_cookie_checker c;
		struct wg_cookie_maker m;
		uint8_t pub[32], msg[INIT_LEN];

		make_pair(&c, &m, pub);
		cookie_round_trip(&c, &m, pub, &cases[i].a, INIT_LEN, T0);
		make_msg(msg, INIT_LEN);
		wg_cookie_add_macs(&m, pub, msg, INIT_LEN, T0);
		CHECK_MSG(wg_cookie_validate(&c, msg, INIT_LEN, &cases[i].b, true, T0) ==
				  WG_COOKIE_VALID_MAC_BUT_NO_COOKIE, "case %zu", i);
		CHECK_MSG(wg_cookie_validate(&c, msg, INIT_LEN, &cases[i].a, true, T0) ==
				  WG_COOKIE_VALID_MAC_WITH_COOKIE, "case %zu", i);
	}

	/* only the 4 address bytes of IPv4 count */
	struct wg_cookie_checker c;
	struct wg_cookie_maker m;
	struct wg_endpoint a = ep4("192.0.2.1", 51820), a2 = a;
	uint8_t pub[32], msg[INIT_LEN];

	memset(a2.addr + 4, 0x77, 12);
	make_pair(&c, &m, pub);
	cookie_round_trip(&c, &m, pub, &a, INIT_LEN, T0);
	make_msg(msg, INIT_LEN);
	wg_cookie_add_macs(&m, pub, msg, INIT_LEN, T0);
	CHECK(wg_cookie_validate(&c, msg, INIT_LEN, &a2, true, T0) == WG_COOKIE_VALID_MAC_WITH_COOKIE);
	/* no address: no cookie, and no reply can be made */
	struct wg_endpoint none = { 0 };
	struct wg_msg_cookie reply;
	CHECK(wg_cookie_validate(&c, msg, INIT_LEN, &none, true, T0) == WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	CHECK(wg_cookie_create_reply(&c, &reply, msg, INIT_LEN, 1, &none, T0) == -EINVAL);
}

/* the maker uses a cookie for 120 - 5 = 115 s, then sends zeros */
static void test_stale_cookie(void)
{
	struct wg_cookie_checker c;
	struct wg_cookie_maker m;
	struct wg_endpoint src = ep4("192.0.2.1", 51820);
	uint8_t pub[32], msg[INIT_LEN];
	uint64_t last = T0 + WG_COOKIE_MAX_AGE - 1, stale = T0 + WG_COOKIE_MAX_AGE;

	CHECK(WG_COOKIE_MAX_AGE == 115 * NS);
	make_pair(&c, &m, pub);
	cookie_round_trip(&c, &m, pub, &src, INIT_LEN, T0);
	make_msg(msg, INIT_LEN);
	wg_cookie_add_macs(&m, pub, msg, INIT_LEN, last);
	CHECK(!wg_secure_is_zero(msg + INIT_LEN - 16, 16));
	CHECK(wg_cookie_validate(&c, msg, INIT_LEN, &src, true, last) == WG_COOKIE_VALID_MAC_WITH_COOKIE);
	wg_cookie_add_macs(&m, pub, msg, INIT_LEN, stale);
	CHECK(wg_secure_is_zero(msg + INIT_LEN - 16, 16));
	CHECK(wg_cookie_validate(&c, msg, INIT_LEN, &src, true, stale) == WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
}

/* the checker's secret lives 120 s; cookies made under it die with it */
static void test_secret_rotation(void)
{
	struct wg_cookie_checker c;
	struct wg_cookie_maker m;
	struct wg_endpoint src = ep6("2001:db8::5", 51820);
	uint8_t pub[32], msg[INIT_LEN], old_secret[32];
	uint64_t t1 = T0 + 10 * NS;

	make_pair(&c, &m, pub);
	CHECK(!c.secret_valid);
	/* the first cookie creates the secret at T0 */
	make_msg(msg, INIT_LEN);
	wg_cookie_add_macs(&m, pub, msg, INIT_LEN, T0);
	CHECK(wg_cookie_validate(&c, msg, INIT_LEN, &src, true, T0) == WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	CHECK(c.secret_valid && c.secret_birth_ns == T0);
	memcpy(old_secret, c.secret, 32);

	/* cookie issued at T0 + 10 s, still under the T0 secret */
	cookie_round_trip(&c, &m, pub, &src, INIT_LEN, t1);
	CHECK_MEM(c.secret, old_secret, 32);
	CHECK(c.secret_birth_ns == T0);

	/* T0 + 120 s - 1: same secret; the cookie (109 s old) works */
	make_msg(msg, INIT_LEN);
	wg_cookie_add_macs(&m, pub, msg, INIT_LEN, T0 + WG_COOKIE_SECRET_MAX_AGE - 1);
	CHECK(wg_cookie_validate(&c, msg, INIT_LEN, &src, true, T0 + WG_COOKIE_SECRET_MAX_AGE - 1) ==
	      WG_COOKIE_VALID_MAC_WITH_COOKIE);
	CHECK_MEM(c.secret, old_secret, 32);

	/* T0 + 120 s: new secret; the maker still sends the cookie (110 s old), which no longer works */
	make_msg(msg, INIT_LEN);
	wg_cookie_add_macs(&m, pub, msg, INIT_LEN, T0 + WG_COOKIE_SECRET_MAX_AGE);
	CHECK(!wg_secure_is_zero(msg + INIT_LEN - 16, 16));
	CHECK(wg_cookie_validate(&c, msg, INIT_LEN, &src, true, T0 + WG_COOKIE_SECRET_MAX_AGE) ==
	      WG_COOKIE_VALID_MAC_BUT_NO_COOKIE);
	CHECK(memcmp(c.secret, old_secret, 32) != 0);
	CHECK(c.secret_birth_ns == T0 + WG_COOKIE_SECRET_MAX_AGE);

	/* a fresh cookie under the new secret works again */
	cookie_round_trip(&c, &m, pub, &src, INIT_LEN, T0 + WG_COOKIE_SECRET_MAX_AGE + NS);
	make_msg(msg, INIT_LEN);
	wg_cookie_add_macs(&m, pub, msg, INIT_LEN, T0 + WG_COOKIE_SECRET_MAX_AGE + NS);
	CHECK(wg_cookie_validate(&c, msg, INIT_LEN, &src, true, T0 + WG_COOKIE_SECRET_MAX_AGE + NS) ==
	      WG_COOKIE_VALID_MAC_WITH_COOKIE);
}

/* a reply that does not authenticate changes nothing; neither does a reply to nothing */
static void test_bad_replies(void)
{
	struct wg_cookie_checker c, other_c;
	struct wg_cookie_maker m, before;
	struct wg_endpoint src = ep4("192.0.2.9", 9);
	uint8_t pub[32], other_pub[32], msg[INIT_LEN], msg2[INIT_LEN];
	struct wg_msg_cookie reply, bad;

	make_pair(&c, &m, pub);
	/* nothing sent yet */
	make_msg(msg, INIT_LEN);
	CHECK(wg_cookie_create_reply(&c, &reply, msg, INIT_LEN, 7, &src, T0) == 0);
	CHECK(wg_cookie_consume_reply(&m, pub, &reply, T0) == -EINVAL);
	CHECK(!m.cookie_valid);

	wg_cookie_add_macs(&m, pub, msg, INIT_LEN, T0);
	CHECK(wg_cookie_create_reply(&c, &reply, msg, INIT_LEN, 7, &src, T0) == 0);
	memcpy(&before, &m, sizeof(m));
	/* every bit of nonce and encrypted cookie */
	for (size_t i = offsetof(struct wg_msg_cookie, nonce); i < sizeof(reply); i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(&bad, &reply, sizeof(bad));
			((uint8_t *)&bad)[i] ^= (uint8_t)(1u << bit);
			CHECK_MSG(wg_cookie_consume_reply(&m, pub, &bad, T0) == -EBADMSG, "byte %zu bit %d", i, bit);
			CHECK_MSG(memcmp(&m, &before, sizeof(m)) == 0, "byte %zu bit %d changed the maker", i, bit);
		}
	}
	/* a reply from a responder with another key */
	make_pair(&other_c, &m, other_pub); /* m re-made for other_pub; restore ours */
	memcpy(&m, &before, sizeof(m));
	CHECK(wg_cookie_create_reply(&other_c, &bad, msg, INIT_LEN, 7, &src, T0) == 0);
	CHECK(wg_cookie_consume_reply(&m, pub, &bad, T0) == -EBADMSG);
	CHECK(memcmp(&m, &before, sizeof(m)) == 0);
	/* our responder's genuine reply, taken with another peer's key: the maker keeps no key of its own */
	CHECK(wg_cookie_consume_reply(&m, other_pub, &reply, T0) == -EBADMSG);
	CHECK(memcmp(&m, &before, sizeof(m)) == 0);
	/* a reply to an earlier message (mac1 differs from the last one sent) */
	make_msg(msg2, INIT_LEN);
	wg_cookie_add_macs(&m, pub, msg2, INIT_LEN, T0);
	memcpy(&before, &m, sizeof(m));
	CHECK(wg_cookie_consume_reply(&m, pub, &reply, T0) == -EBADMSG);
	CHECK(memcmp(&m, &before, sizeof(m)) == 0);
	/* the right one still works */
	CHECK(wg_cookie_create_reply(&c, &reply, msg2, INIT_LEN, 7, &src, T0) == 0);
	CHECK(wg_cookie_consume_reply(&m, pub, &reply, T0 + 3) == 0);
	CHECK(m.cookie_valid && m.cookie_birth_ns == T0 + 3);
	/* nonces are random */
	CHECK(wg_cookie_create_reply(&c, &bad, msg2, INIT_LEN, 7, &src, T0) == 0);
	CHECK(memcmp(bad.nonce, reply.nonce, sizeof(bad.nonce)) != 0);
}

static void test_wipe(void)
{
	struct wg_cookie_checker c;
	struct wg_cookie_maker m;
	struct wg_endpoint src = ep4("192.0.2.1", 1);
	uint8_t pub[32];

	make_pair(&c, &m, pub);
	cookie_round_trip(&c, &m, pub, &src, INIT_LEN, T0);
	wg_cookie_checker_wipe(&c);
	wg_cookie_maker_wipe(&m);
	CHECK(wg_secure_is_zero(&c, sizeof(c)));
	CHECK(wg_secure_is_zero(&m, sizeof(m)));
	/* without an identity the checker keys stay zero (kernel behaviour) */
	memset(pub, 0, sizeof(pub));
	wg_cookie_checker_init(&c, pub);
	CHECK(wg_secure_is_zero(&c, sizeof(c)));
}

int main(void)
{
	TEST_BEGIN("control/cookie_test");
	if (wg_crypto_init()) {
		printf("FAIL control/cookie_test/crypto_init\n");
		return 1;
	}
	RUN_TEST(test_known_macs);
	RUN_TEST(test_mac1_valid_and_tampered);
	RUN_TEST(test_under_load_no_cookie);
	RUN_TEST(test_full_cookie_flow);
	RUN_TEST(test_tampered_mac2);
	RUN_TEST(test_cookie_bound_to_source);
	RUN_TEST(test_stale_cookie);
	RUN_TEST(test_secret_rotation);
	RUN_TEST(test_bad_replies);
	RUN_TEST(test_wipe);
	return TEST_END();
}
