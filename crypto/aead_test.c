// SPDX-License-Identifier: MIT
/*
 * ChaCha20-Poly1305 and XChaCha20-Poly1305: RFC 8439 section 2.8.2, the
 * XChaCha draft's A.3.1 vector, WireGuard-style nonces (known answers
 * computed independently with Python's cryptography package), tampering,
 * and the Wycheproof suites.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/secure.h"
#include "tests/harness.h"

#define TAG WG_AEAD_TAG_BYTES

static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: If I could offer you only "
				"one tip for the future, sunscreen would be it.";
static const char sunscreen_key[] =
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
static const char sunscreen_ad[] = "50515253c0c1c2c3c4c5c6c7";

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* RFC 8439 2.8.2: its nonce (07000000 || 4041424344454647) is not of WireGuard's form */
static void test_rfc8439_2_8_2_vector(void)
{
	uint8_t key[32], nonce[12], ad[12], want[sizeof(sunscreen) - 1 + TAG];
	uint8_t ct[sizeof(want)], pt[sizeof(sunscreen) - 1];
	size_t len = sizeof(sunscreen) - 1;
	unsigned long long outlen;

	wg_test_unhex(key, sizeof(key), sunscreen_key);
	wg_test_unhex(nonce, sizeof(nonce), "070000004041424344454647");
	wg_test_unhex(ad, sizeof(ad), sunscreen_ad);
	CHECK(wg_test_unhex(want, sizeof(want),
			    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
			    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
			    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
			    "3ff4def08e4b7a9de576d26586cec64b6116"
			    "1ae10b594f09e26a7e902ecbd0600691") == sizeof(want));

	crypto_aead_chacha20poly1305_ietf_encrypt(ct, &outlen, (const uint8_t *)sunscreen, len, ad,
						  sizeof(ad), NULL, nonce, key);
	CHECK(outlen == sizeof(want));
	CHECK_MEM(ct, want, sizeof(want));
	CHECK(crypto_aead_chacha20poly1305_ietf_decrypt(pt, &outlen, NULL, want, sizeof(want), ad,
							sizeof(ad), nonce, key) == 0);
	CHECK(outlen == len);
	CHECK_MEM(pt, sunscreen, len);
}

static const struct {
	uint64_t counter;
	const char *pt, *ad, *sealed;
} wg_nonce_vectors[] = {
	{ 0, "", "", "10324f800a160bd9a1794255be7ec29d" },
	{ 1, "000102030405060708090a0b0c0d0e0f", "",
	  "9f56f15cb12fa91f21bfa4575e989788e73915bf40172754a9d4b59c77e3385b" },
	{ 0x0102030405060708ull,
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "f048afe7af3cec1f6ca220c77f756fb7f017e0d79c5153894f2cbd46f51fb9c2"
	  "795d229ef6172fde381d4cdbee4dce49cc8ec4bb1ba9ba2bbadeb792d548ebe1"
	  "6d9efeaabc380106e492895d7de06b455b" },
	/* REJECT_AFTER_MESSAGES */
	{ 0xffffffffffffdfffull, "00000000000000000000000000000000", "00",
	  "009a35041f9c99e083d16853ee704d48cc6a1136268d54c3ae1884f24c2b1ec3" },
};

/* key 000102..1f; nonce 00000000 || le64(counter) */
static void test_wireguard_nonce_known_answers(void)
{
	uint8_t key[32];

	for (size_t i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(wg_nonce_vectors) / sizeof(wg_nonce_vectors[0]); i++) {
		uint8_t pt[128], ad[64], want[128 + TAG], ct[128 + TAG], back[128];
		size_t len = wg_test_unhex(pt, sizeof(pt), wg_nonce_vectors[i].pt);
		size_t adlen = wg_test_unhex(ad, sizeof(ad), wg_nonce_vectors[i].ad);
		size_t slen = wg_test_unhex(want, sizeof(want), wg_nonce_vectors[i].sealed);
		uint64_t counter = wg_nonce_vectors[i].counter;

		CHECK(slen == len + TAG);
		wg_aead_encrypt(ct, pt, len, ad, adlen, counter, key);
		CHECK_MSG(memcmp(ct, want, slen) == 0, "vector %zu", i);
		CHECK(wg_aead_decrypt(back, want, slen, ad, adlen, counter, key) == 0);
		CHECK_MSG(memcmp(back, pt, len) == 0, "vector %zu", i);
	}
}

/* wg_aead_* against libsodium's IETF API with the nonce built by hand */
static void test_wireguard_nonce_matches_libsodium(void)
{
	static const uint64_t counters[] = { 0, 1, 255, 256, 0x0102030405060708ull, UINT64_MAX };
	static const size_t lens[] = { 0, 1, 15, 16, 17, 63, 64, 65, 1000 };
	uint8_t key[32], ad[40], pt[1000], a[1000 + TAG], b[1000 + TAG];

	wg_secure_random(key, sizeof(key));
	wg_secure_random(ad, sizeof(ad));
	wg_secure_random(pt, sizeof(pt));
	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		uint8_t nonce[12] = { 0 };

		for (int i = 0; i < 8; i++)
			nonce[4 + i] = (uint8_t)(counters[c] >> (8 * i));
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			size_t adlen = (l * 7) % sizeof(ad);
			unsigned long long outlen;

			wg_aead_encrypt(a, pt, lens[l], ad, adlen, counters[c], key);
			crypto_aead_chacha20poly1305_ietf_encrypt(b, &outlen, pt, lens[l], ad, adlen,
								  NULL, nonce, key);
			CHECK(outlen == lens[l] + TAG);
			CHECK_MSG(memcmp(a, b, lens[l] + TAG) == 0, "counter %zu len %zu", c,
				  lens[l]);
		}
	}
}

/* draft-irtf-cfrg-xchacha-03 A.3.1 */
static void test_xchacha_draft_a_3_1_vector(void)
{
	uint8_t key[32], nonce[24], ad[12], want[sizeof(sunscreen) - 1 + TAG];
	uint8_t ct[sizeof(want)], pt[sizeof(sunscreen) - 1];
	size_t len = sizeof(sunscreen) - 1;

	wg_test_unhex(key, sizeof(key), sunscreen_key);
	wg_test_unhex(nonce, sizeof(nonce), "404142434445464748494a4b4c4d4e4f5051525354555657");
	wg_test_unhex(ad, sizeof(ad), sunscreen_ad);
	CHECK(wg_test_unhex(want, sizeof(want),
			    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
			    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
			    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
			    "21f9664c97637da9768812f615c68b13b52e"
			    "c0875924c1c7987947deafd8780acf49") == sizeof(want));

	wg_xaead_encrypt(ct, (const uint8_t *)sunscreen, len, ad, sizeof(ad), nonce, key);
	CHECK_MEM(ct, want, sizeof(want));
	memset(pt, 0, sizeof(pt));
	CHECK(wg_xaead_decrypt(pt, want, sizeof(want), ad, sizeof(ad), nonce, key) == 0);
	CHECK_MEM(pt, sunscreen, len);
}

/* encrypt and decrypt in place (dst == src), both constructions */
static void test_round_trip_in_place(void)
{
	static const size_t lens[] = { 0, 1, 16, 32, 33, 148, 1420 };
	uint8_t key[32], nonce[24], ad[32], orig[1420], buf[1420 + TAG];

	wg_secure_random(key, sizeof(key));
	wg_secure_random(nonce, sizeof(nonce));
	wg_secure_random(ad, sizeof(ad));
	wg_secure_random(orig, sizeof(orig));
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		size_t len = lens[l];

		memcpy(buf, orig, len);
		wg_aead_encrypt(buf, buf, len, ad, sizeof(ad), 42, key);
		CHECK(len == 0 || memcmp(buf, orig, len) != 0);
		CHECK(wg_aead_decrypt(buf, buf, len + TAG, ad, sizeof(ad), 42, key) == 0);
		CHECK_MSG(memcmp(buf, orig, len) == 0, "aead len %zu", len);

		memcpy(buf, orig, len);
		wg_xaead_encrypt(buf, buf, len, ad, sizeof(ad), nonce, key);
		CHECK(len == 0 || memcmp(buf, orig, len) != 0);
		CHECK(wg_xaead_decrypt(buf, buf, len + TAG, ad, sizeof(ad), nonce, key) == 0);
		CHECK_MSG(memcmp(buf, orig, len) == 0, "xaead len %zu", len);
	}
}

/*
 * Flip each bit position class in every byte of ciphertext, tag and
 * associated data, and try the wrong counter and key: every attempt fails
 * with -EBADMSG and leaves the destination untouched.
 */
static void test_tamper_fails_and_leaves_dst_untouched(void)
{
	enum { LEN = 48, ADLEN = 20 };
	uint8_t key[32], ad[ADLEN], pt[LEN], ct[LEN + TAG], dst[LEN];

	wg_secure_random(key, sizeof(key));
	wg_secure_random(ad, sizeof(ad));
	wg_secure_random(pt, sizeof(pt));
	wg_aead_encrypt(ct, pt, LEN, ad, ADLEN, 7, key);

	for (size_t i = 0; i < sizeof(ct); i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			ct[i] ^= (uint8_t)(1u << bit);
			memset(dst, 0x5a, sizeof(dst));
			CHECK_MSG(wg_aead_decrypt(dst, ct, sizeof(ct), ad, ADLEN, 7, key) == -EBADMSG,
				  "ct byte %zu bit %d", i, bit);
			CHECK_MSG(all_bytes(dst, sizeof(dst), 0x5a), "ct byte %zu bit %d", i, bit);
			ct[i] ^= (uint8_t)(1u << bit);
		}
	}
	for (size_t i = 0; i < sizeof(ad); i++) {
		ad[i] ^= 1;
		memset(dst, 0x5a, sizeof(dst));
		CHECK_MSG(wg_aead_decrypt(dst, ct, sizeof(ct), ad, ADLEN, 7, key) == -EBADMSG,
			  "ad byte %zu", i);
		CHECK(all_bytes(dst, sizeof(dst), 0x5a));
		ad[i] ^= 1;
	}
	memset(dst, 0x5a, sizeof(dst));
	CHECK(wg_aead_decrypt(dst, ct, sizeof(ct), ad, ADLEN, 8, key) == -EBADMSG);
	CHECK(wg_aead_decrypt(dst, ct, sizeof(ct), ad, ADLEN - 1, 7, key) == -EBADMSG);
	CHECK(wg_aead_decrypt(dst, ct, sizeof(ct) - 1, ad, ADLEN, 7, key) == -EBADMSG);
	key[0] ^= 1;
	CHECK(wg_aead_decrypt(dst, ct, sizeof(ct), ad, ADLEN, 7, key) == -EBADMSG);
	key[0] ^= 1;
	CHECK(all_bytes(dst, sizeof(dst), 0x5a));

	/* a failed in-place decryption keeps the ciphertext */
	{
		uint8_t copy[sizeof(ct)];

		ct[3] ^= 0x10;
		memcpy(copy, ct, sizeof(ct));
		CHECK(wg_aead_decrypt(ct, ct, sizeof(ct), ad, ADLEN, 7, key) == -EBADMSG);
		CHECK_MEM(ct, copy, sizeof(ct));
		ct[3] ^= 0x10;
	}
	/* and the untampered message still opens */
	CHECK(wg_aead_decrypt(dst, ct, sizeof(ct), ad, ADLEN, 7, key) == 0);
	CHECK_MEM(dst, pt, LEN);
}

static void test_xaead_tamper_fails_and_leaves_dst_untouched(void)
{
	enum { LEN = 16 };
	uint8_t key[32], nonce[24], pt[LEN], ct[LEN + TAG], dst[LEN];

	wg_secure_random(key, sizeof(key));
	wg_secure_random(nonce, sizeof(nonce));
	wg_secure_random(pt, sizeof(pt));
	wg_xaead_encrypt(ct, pt, LEN, NULL, 0, nonce, key);
	for (size_t i = 0; i < sizeof(ct); i++) {
		ct[i] ^= 0x80;
		memset(dst, 0x5a, sizeof(dst));
		CHECK_MSG(wg_xaead_decrypt(dst, ct, sizeof(ct), NULL, 0, nonce, key) == -EBADMSG,
			  "ct byte %zu", i);
		CHECK(all_bytes(dst, sizeof(dst), 0x5a));
		ct[i] ^= 0x80;
	}
	/* every nonce byte matters, including the first 16 that only feed HChaCha20 */
	for (size_t i = 0; i < sizeof(nonce); i++) {
		uint8_t n2[24];

		memcpy(n2, nonce, sizeof(n2));
		n2[i] ^= 1;
		CHECK_MSG(wg_xaead_decrypt(dst, ct, sizeof(ct), NULL, 0, n2, key) == -EBADMSG,
			  "nonce byte %zu", i);
	}
	CHECK(all_bytes(dst, sizeof(dst), 0x5a));
	CHECK(wg_xaead_decrypt(dst, ct, sizeof(ct), NULL, 0, nonce, key) == 0);
	CHECK_MEM(dst, pt, LEN);
}

static void test_short_input_rejected(void)
{
	uint8_t key[32] = { 1 }, nonce[24] = { 2 }, buf[TAG], dst[1] = { 0x5a };

	for (size_t len = 0; len < TAG; len++) {
		memset(buf, 0, sizeof(buf));
		CHECK(wg_aead_decrypt(dst, buf, len, NULL, 0, 0, key) == -EBADMSG);
		CHECK(wg_xaead_decrypt(dst, buf, len, NULL, 0, nonce, key) == -EBADMSG);
	}
	CHECK(dst[0] == 0x5a);
	/* a bare tag is a valid empty message */
	wg_aead_encrypt(buf, NULL, 0, NULL, 0, 0, key);
	CHECK(wg_aead_decrypt(dst, buf, TAG, NULL, 0, 0, key) == 0);
	wg_xaead_encrypt(buf, NULL, 0, NULL, 0, nonce, key);
	CHECK(wg_xaead_decrypt(dst, buf, TAG, NULL, 0, nonce, key) == 0);
	CHECK(dst[0] == 0x5a);
}

/* ---- Wycheproof ---- */

struct wp_stats {
	size_t checked, not_applicable, via_wg_api;
};

/* malloc'ed bytes of a hex field (at least 1 byte allocated); NULL when absent */
static uint8_t *json_hex(json_t *test, const char *field, size_t *len)
{
	const char *hex = json_string_value(json_object_get(test, field));
	uint8_t *out;

	if (!hex)
		return NULL;
	*len = strlen(hex) / 2;
	out = malloc(*len + 1);
	if (out)
		wg_test_unhex(out, *len, hex);
	return out;
}

static bool wg_nonce_form(const uint8_t nonce[12], uint64_t *counter)
{
	*counter = 0;
	for (int i = 0; i < 8; i++)
		*counter |= (uint64_t)nonce[4 + i] << (8 * i);
	return wg_secure_is_zero(nonce, 4);
}

/* ChaCha20-Poly1305 with any 12-byte nonce: ours when it has WireGuard's form */
static void ietf_seal(uint8_t *dst, const uint8_t *m, size_t len, const uint8_t *ad, size_t adlen,
		      const uint8_t *nonce, const uint8_t *key)
{
	uint64_t counter;

	if (wg_nonce_form(nonce, &counter)) {
		wg_aead_encrypt(dst, m, len, ad, adlen, counter, key);
	} else {
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(dst, dst + len, NULL, m, len, ad,
								   adlen, NULL, nonce, key);
	}
}

/* *ours tells whether our API ran (libsodium itself clears dst on failure) */
static int ietf_open(uint8_t *dst, const uint8_t *c, size_t clen, const uint8_t *ad, size_t adlen,
		     const uint8_t *nonce, const uint8_t *key, bool *ours)
{
	uint64_t counter;

	*ours = wg_nonce_form(nonce, &counter);
	if (*ours)
		return wg_aead_decrypt(dst, c, clen, ad, adlen, counter, key);
	if (clen < TAG)
		return -EBADMSG;
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(dst, NULL, c, clen - TAG,
								  c + clen - TAG, ad, adlen, nonce,
								  key) == 0 ?
		       0 :
		       -EBADMSG;
}

struct wp_vector {
	uint8_t *key, *iv, *ad, *msg, *ct, *tag;
	size_t klen, nlen, adlen, mlen, clen, tlen;
};

static void free_vector(struct wp_vector *v)
{
	free(v->key);
	free(v->iv);
	free(v->ad);
	free(v->msg);
	free(v->ct);
	free(v->tag);
}

/* ct || tag must open to msg, and msg must seal to ct || tag */
static void check_valid(const struct wp_vector *v, const uint8_t *sealed, const uint8_t *out, int ret,
			const char *file, long id)
{
	uint8_t *again;

	CHECK_MSG(ret == 0, "%s tcId %ld: did not open", file, id);
	CHECK_MSG(v->clen == v->mlen && memcmp(out, v->msg, v->mlen) == 0,
		  "%s tcId %ld: wrong plaintext", file, id);
	if (v->clen != v->mlen || !(again = malloc(v->mlen + TAG)))
		return;
	if (v->nlen == WG_XAEAD_NONCE_LEN)
		wg_xaead_encrypt(again, v->msg, v->mlen, v->ad, v->adlen, v->iv, v->key);
	else
		ietf_seal(again, v->msg, v->mlen, v->ad, v->adlen, v->iv, v->key);
	CHECK_MSG(memcmp(again, sealed, v->mlen + TAG) == 0, "%s tcId %ld: wrong ciphertext", file,
		  id);
	free(again);
}

static void check_wycheproof_test(json_t *t, const char *file, size_t nonce_len,
				  struct wp_stats *st)
{
	const char *result = json_string_value(json_object_get(t, "result"));
	long id = (long)json_integer_value(json_object_get(t, "tcId"));
	struct wp_vector v = { 0 };
	uint8_t *sealed = NULL, *out = NULL;
	bool ours = true;
	int ret;

	v.key = json_hex(t, "key", &v.klen);
	v.iv = json_hex(t, "iv", &v.nlen);
	v.ad = json_hex(t, "aad", &v.adlen);
	v.msg = json_hex(t, "msg", &v.mlen);
	v.ct = json_hex(t, "ct", &v.clen);
	v.tag = json_hex(t, "tag", &v.tlen);
	if (!v.key || !v.iv || !v.ad || !v.msg || !v.ct || !v.tag || !result) {
		CHECK_MSG(0, "%s tcId %ld: malformed test", file, id);
		goto out;
	}
	if (v.nlen != nonce_len || v.klen != WG_AEAD_KEY_LEN || v.tlen != TAG) {
		st->not_applicable++;
		goto out;
	}
	sealed = malloc(v.clen + TAG);
	out = malloc(v.clen + 1);
	if (!sealed || !out) {
		CHECK_MSG(0, "out of memory");
		goto out;
	}
	memcpy(sealed, v.ct, v.clen);
	memcpy(sealed + v.clen, v.tag, TAG);
	memset(out, 0x5a, v.clen + 1);
	if (nonce_len == WG_XAEAD_NONCE_LEN)
		ret = wg_xaead_decrypt(out, sealed, v.clen + TAG, v.ad, v.adlen, v.iv, v.key);
	else
		ret = ietf_open(out, sealed, v.clen + TAG, v.ad, v.adlen, v.iv, v.key, &ours);
	st->via_wg_api += ours;

	if (!strcmp(result, "valid")) {
		check_valid(&v, sealed, out, ret, file, id);
	} else {
		CHECK_MSG(ret == -EBADMSG, "%s tcId %ld (%s): opened", file, id, result);
		CHECK_MSG(!ours || all_bytes(out, v.clen + 1, 0x5a), "%s tcId %ld: dst written",
			  file, id);
	}
	st->checked++;
out:
	free(sealed);
	free(out);
	free_vector(&v);
}

/*
 * One suite: valid tests must seal to ct || tag and open to msg; invalid
 * tests (modified tags) must not open. Tests whose nonce size our API cannot
 * express are counted as not applicable.
 */
static void run_wycheproof_aead(const char *file, size_t nonce_len, struct wp_stats *st)
{
	const char *dir = wg_test_vectors_dir();
	char path[4096];
	json_error_t jerr;
	json_t *root, *group, *t;
	size_t gi, ti;

	if (!dir)
		SKIP_TEST("vectors directory not found (set WG_VECTORS_DIR)");
	snprintf(path, sizeof(path), "%s/wycheproof/%s", dir, file);
	root = json_load_file(path, 0, &jerr);
	if (!root)
		SKIP_TEST("%s: %s", path, jerr.text);

	json_array_foreach(json_object_get(root, "testGroups"), gi, group) {
		json_array_foreach(json_object_get(group, "tests"), ti, t)
			check_wycheproof_test(t, file, nonce_len, st);
	}
	json_decref(root);
	printf("  wycheproof %s: %zu vectors checked (%zu opened through the wg_ API), "
	       "%zu not applicable\n",
	       file, st->checked, st->via_wg_api, st->not_applicable);
	CHECK(st->checked > 0);
}

static void test_wycheproof_chacha20_poly1305(void)
{
	struct wp_stats st = { 0 };

	run_wycheproof_aead("chacha20_poly1305_test.json", 12, &st);
	/* some valid vectors have WireGuard-form nonces and must go through our API */
	if (st.checked)
		CHECK(st.via_wg_api > 0);
}

static void test_wycheproof_xchacha20_poly1305(void)
{
	struct wp_stats st = { 0 };

	run_wycheproof_aead("xchacha20_poly1305_test.json", WG_XAEAD_NONCE_LEN, &st);
}

int main(void)
{
	TEST_BEGIN("crypto/aead_test");
	if (wg_crypto_init() != 0)
		return 1;
	RUN_TEST(test_rfc8439_2_8_2_vector);
	RUN_TEST(test_wireguard_nonce_known_answers);
	RUN_TEST(test_wireguard_nonce_matches_libsodium);
	RUN_TEST(test_xchacha_draft_a_3_1_vector);
	RUN_TEST(test_round_trip_in_place);
	RUN_TEST(test_tamper_fails_and_leaves_dst_untouched);
	RUN_TEST(test_xaead_tamper_fails_and_leaves_dst_untouched);
	RUN_TEST(test_short_input_rejected);
	RUN_TEST(test_wycheproof_chacha20_poly1305);
	RUN_TEST(test_wycheproof_xchacha20_poly1305);
	return TEST_END();
}
