// SPDX-License-Identifier: MIT
/*
 * Known answers for BLAKE2s and WireGuard's HASH, MAC, HMAC and KDF.
 * The HMAC, MAC and KDF vectors were computed independently with Python's
 * hashlib.blake2s and hmac modules (KDF built from hmac exactly as in the
 * WireGuard whitepaper), not with this code.
 */
#include <blake2.h>
#include <stdint.h>
#include <string.h>

#include "crypto/blake2s.h"
#include "crypto/secure.h"
#include "tests/harness.h"

#define MAXBUF 256

static void check_hex(const uint8_t *got, const char *hex)
{
	uint8_t want[MAXBUF];
	size_t n = wg_test_unhex(want, sizeof(want), hex);

	CHECK_MEM(got, want, n);
}

static void test_hash_abc(void)
{
	uint8_t out[WG_BLAKE2S_HASH_LEN];

	wg_blake2s_hash(out, "abc", 3);
	check_hex(out, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

/* RFC 7693 Appendix E: deterministic input generator */
static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t a = 0xDEAD4BAD * seed, b = 1, t;

	for (size_t i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (uint8_t)(t >> 24);
	}
}

/*
 * RFC 7693 Appendix E "grand hash" over unkeyed and keyed hashes of several
 * lengths. The two shapes WireGuard uses (unkeyed 32-byte, keyed 16-byte
 * with a 16-byte key) go through our wrappers; the rest through libb2.
 */
static void test_rfc7693_selftest_grand_hash(void)
{
	static const size_t md_len[] = { 16, 20, 28, 32 };
	static const size_t in_len[] = { 0, 3, 64, 65, 255, 1024 };
	uint8_t in[1024], key[32], md[32], grand[32];
	blake2s_state ctx;

	blake2s_init(&ctx, 32);
	for (size_t i = 0; i < sizeof(md_len) / sizeof(md_len[0]); i++) {
		size_t outlen = md_len[i];

		for (size_t j = 0; j < sizeof(in_len) / sizeof(in_len[0]); j++) {
			size_t inlen = in_len[j];

			selftest_seq(in, inlen, (uint32_t)inlen);
			if (outlen == WG_BLAKE2S_HASH_LEN)
				wg_blake2s_hash(md, in, inlen);
			else
				blake2s(md, in, NULL, outlen, inlen, 0);
			blake2s_update(&ctx, md, outlen);

			selftest_seq(key, outlen, (uint32_t)outlen);
			if (outlen == WG_BLAKE2S_MAC_LEN)
				wg_blake2s_mac(md, key, outlen, in, inlen);
			else
				blake2s(md, in, key, outlen, inlen, outlen);
			blake2s_update(&ctx, md, outlen);
		}
	}
	blake2s_final(&ctx, grand, sizeof(grand));
	check_hex(grand, "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe");
}

/* the initial chaining key and hash of every WireGuard handshake */
static void test_wireguard_construction_and_identifier(void)
{
	static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
	uint8_t ck[WG_BLAKE2S_HASH_LEN], h[WG_BLAKE2S_HASH_LEN];

	wg_blake2s_hash(ck, construction, strlen(construction));
	check_hex(ck, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
	wg_blake2s_hash2(h, ck, sizeof(ck), identifier, strlen(identifier));
	check_hex(h, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
	/* in place, as the handshake mixes into its running hash */
	wg_blake2s_hash2(ck, ck, sizeof(ck), identifier, strlen(identifier));
	check_hex(ck, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
}

static void test_hash2_equals_hash_of_concatenation(void)
{
	uint8_t buf[200], a[WG_BLAKE2S_HASH_LEN], b[WG_BLAKE2S_HASH_LEN];

	selftest_seq(buf, sizeof(buf), 7);
	for (size_t len = 0; len <= sizeof(buf); len += 13) {
		wg_blake2s_hash(a, buf, len);
		for (size_t split = 0; split <= len; split += 5) {
			wg_blake2s_hash2(b, buf, split, buf + split, len - split);
			CHECK_MSG(memcmp(a, b, sizeof(a)) == 0, "len %zu split %zu", len, split);
		}
	}
	/* and the hash depends on every byte */
	wg_blake2s_hash(a, buf, 64);
	buf[63] ^= 1;
	wg_blake2s_hash(b, buf, 64);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
}

static const struct {
	const char *key, *in, *mac;
} mac_vectors[] = {
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "",
	  "9536f9b267655743dee97b8a670f9f53" },
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
	  "f1efa90d2547036841ecd3627fafbc36" },
	{ "01010101010101010101010101010101", "6d6163312d2d2d2d",
	  "ebacdc88fc8fa57e6528f41d24a4cadb" },
	{ "01",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40",
	  "74c8843c0eafdcecb15196fe2433757d" },
	{ "000102030405060708090a0b0c0d0e0f10111213", "616263", "aeefb6c76cb7e4f372bb093121b84c0a" },
};

static void test_mac_known_answers(void)
{
	for (size_t i = 0; i < sizeof(mac_vectors) / sizeof(mac_vectors[0]); i++) {
		uint8_t key[32], in[MAXBUF], want[16], out[WG_BLAKE2S_MAC_LEN];
		size_t klen = wg_test_unhex(key, sizeof(key), mac_vectors[i].key);
		size_t ilen = wg_test_unhex(in, sizeof(in), mac_vectors[i].in);

		wg_test_unhex(want, sizeof(want), mac_vectors[i].mac);
		wg_blake2s_mac(out, key, klen, in, ilen);
		CHECK_MSG(memcmp(out, want, sizeof(want)) == 0, "vector %zu", i);
	}
}

static void test_mac_matches_libb2(void)
{
	uint8_t key[32], in[300], a[WG_BLAKE2S_MAC_LEN], b[WG_BLAKE2S_MAC_LEN];

	selftest_seq(key, sizeof(key), 3);
	selftest_seq(in, sizeof(in), 5);
	for (size_t klen = 1; klen <= sizeof(key); klen++) {
		for (size_t len = 0; len <= sizeof(in); len += 31) {
			wg_blake2s_mac(a, key, klen, in, len);
			CHECK(blake2s(b, in, key, sizeof(b), len, klen) == 0);
			CHECK_MSG(memcmp(a, b, sizeof(a)) == 0, "keylen %zu len %zu", klen, len);
		}
	}
}

static const struct {
	const char *key, *in, *out;
} hmac_vectors[] = {
	{ "", "", "eaf4bb25938f4d20e72656bbbc7a9bf63c0c18537333c35bdb67db1402661acd" },
	{ "6b6579",
	  "54686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a7920646f67",
	  "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0" },
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "000102",
	  "fb3e80cfc950d62fb256c9e5d2219b1d5533d9e3862f9f61f4e02865363b031e" },
	/* key exactly one block: used as is */
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
	  "16b4112bb7a7d3d85ee3baf8649046691596c5adab68f93ab0ebb4d798b8444d" },
	/* keys longer than a block: hashed first */
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	  "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60616263",
	  "4d894a9b0c1b7a406335539f60699f246e0a65bf63a2b24b18393b71e4adce5e" },
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	  "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60616263",
	  "", "60c8ad712b1d426c37f4b615c6232c8a91904ab8685338e99b3e8ac9f0834c68" },
};

static void test_hmac_known_answers(void)
{
	for (size_t i = 0; i < sizeof(hmac_vectors) / sizeof(hmac_vectors[0]); i++) {
		uint8_t key[MAXBUF], in[MAXBUF], want[32], out[WG_BLAKE2S_HASH_LEN];
		size_t klen = wg_test_unhex(key, sizeof(key), hmac_vectors[i].key);
		size_t ilen = wg_test_unhex(in, sizeof(in), hmac_vectors[i].in);

		wg_test_unhex(want, sizeof(want), hmac_vectors[i].out);
		wg_blake2s_hmac(out, key, klen, in, ilen);
		CHECK_MSG(memcmp(out, want, sizeof(want)) == 0, "vector %zu", i);
	}
}

static const struct {
	const char *key, *in, *t1, *t2, *t3;
} kdf_vectors[] = {
	{ "0000000000000000000000000000000000000000000000000000000000000000", "",
	  "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
	  "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
	  "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e" },
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "1fcf29000a27f12dc0691acf0f15bf4c55199f925d65441a3c08b566fce08d13",
	  "704818f0cdc896cc3d7fe77c61f24e33db30aa69ef63758d5cfce8d6335c1b46",
	  "7c46c5eddb1418694b9a599d7d5842039b4fbbf946e376bf59d19847342fee80" },
	{ "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36",
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
	  "a1bb5656571db2bfe717e0e0148b7c3d3e5270adf9392b07cd20fe3d461094bd",
	  "0349d890ad1d9ebbf0f4775178115686d2d91c13baf7941534c73d193ee4503d",
	  "20524b5a0058dc9994bc93028b6b30007b1e270bffa55ac5dc9a890abef958e7" },
};

/* KDF1, KDF2 and KDF3 are prefixes of one another */
static void test_kdf_known_answers(void)
{
	for (size_t i = 0; i < sizeof(kdf_vectors) / sizeof(kdf_vectors[0]); i++) {
		uint8_t key[32], in[MAXBUF], t1[32], t2[32], t3[32];
		size_t ilen;

		wg_test_unhex(key, sizeof(key), kdf_vectors[i].key);
		ilen = wg_test_unhex(in, sizeof(in), kdf_vectors[i].in);

		memset(t1, 0, sizeof(t1));
		wg_blake2s_kdf(t1, NULL, NULL, key, in, ilen);
		check_hex(t1, kdf_vectors[i].t1);

		memset(t1, 0, sizeof(t1));
		memset(t2, 0, sizeof(t2));
		wg_blake2s_kdf(t1, t2, NULL, key, in, ilen);
		check_hex(t1, kdf_vectors[i].t1);
		check_hex(t2, kdf_vectors[i].t2);

		memset(t1, 0, sizeof(t1));
		memset(t2, 0, sizeof(t2));
		memset(t3, 0, sizeof(t3));
		wg_blake2s_kdf(t1, t2, t3, key, in, ilen);
		check_hex(t1, kdf_vectors[i].t1);
		check_hex(t2, kdf_vectors[i].t2);
		check_hex(t3, kdf_vectors[i].t3);
	}
}

/* the handshake writes the new chaining key over the old one */
static void test_kdf_outputs_may_alias_key(void)
{
	uint8_t in[32], ck[32], other[32];

	for (int which = 0; which < 3; which++) {
		uint8_t t[3][32];

		wg_test_unhex(ck, sizeof(ck), kdf_vectors[1].key);
		wg_test_unhex(in, sizeof(in), kdf_vectors[1].in);
		memset(t, 0, sizeof(t));
		wg_blake2s_kdf(which == 0 ? ck : t[0], which == 1 ? ck : t[1], which == 2 ? ck : t[2],
			       ck, in, sizeof(in));
		memcpy(t[which], ck, sizeof(ck));
		check_hex(t[0], kdf_vectors[1].t1);
		check_hex(t[1], kdf_vectors[1].t2);
		check_hex(t[2], kdf_vectors[1].t3);
	}
	/* the input may alias an output too (KDF1(ck, ck)) */
	wg_test_unhex(ck, sizeof(ck), kdf_vectors[1].key);
	wg_blake2s_kdf(other, NULL, NULL, ck, ck, sizeof(ck));
	wg_blake2s_kdf(ck, NULL, NULL, ck, ck, sizeof(ck));
	CHECK_MEM(ck, other, sizeof(ck));
}

static void test_hmac_output_may_alias_key_and_input(void)
{
	uint8_t key[32], in[32];

	wg_test_unhex(key, sizeof(key), hmac_vectors[2].key);
	wg_test_unhex(in, sizeof(in), hmac_vectors[2].in);
	wg_blake2s_hmac(key, key, sizeof(key), in, 3);
	check_hex(key, hmac_vectors[2].out);

	wg_test_unhex(key, sizeof(key), hmac_vectors[2].key);
	wg_blake2s_hmac(in, key, sizeof(key), in, 3);
	check_hex(in, hmac_vectors[2].out);
}

static void test_secure_equal_and_is_zero(void)
{
	uint8_t a[64] = { 0 }, b[64] = { 0 };

	CHECK(wg_secure_equal(a, b, sizeof(a)));
	CHECK(wg_secure_is_zero(a, sizeof(a)));
	for (size_t i = 0; i < sizeof(a); i++) {
		b[i] = 0x80;
		CHECK_MSG(!wg_secure_equal(a, b, sizeof(a)), "difference at %zu", i);
		CHECK_MSG(!wg_secure_is_zero(b, sizeof(b)), "non-zero at %zu", i);
		CHECK(wg_secure_equal(a, b, i));
		b[i] = 0;
	}
	wg_secure_random(a, sizeof(a));
	memcpy(b, a, sizeof(a));
	CHECK(wg_secure_equal(a, b, sizeof(a)));
	wg_secure_wipe(a, sizeof(a));
	CHECK(wg_secure_is_zero(a, sizeof(a)));
	/* 512 random bits all zero: probability 2^-512 */
	CHECK(!wg_secure_is_zero(b, sizeof(b)));
	CHECK(wg_crypto_init() == 0);
}

int main(void)
{
	TEST_BEGIN("crypto/blake2s_test");
	if (wg_crypto_init() != 0)
		return 1;
	RUN_TEST(test_hash_abc);
	RUN_TEST(test_rfc7693_selftest_grand_hash);
	RUN_TEST(test_wireguard_construction_and_identifier);
	RUN_TEST(test_hash2_equals_hash_of_concatenation);
	RUN_TEST(test_mac_known_answers);
	RUN_TEST(test_mac_matches_libb2);
	RUN_TEST(test_hmac_known_answers);
	RUN_TEST(test_kdf_known_answers);
	RUN_TEST(test_kdf_outputs_may_alias_key);
	RUN_TEST(test_hmac_output_may_alias_key_and_input);
	RUN_TEST(test_secure_equal_and_is_zero);
	return TEST_END();
}
