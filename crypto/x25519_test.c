// SPDX-License-Identifier: MIT
/*
 * X25519 known answers (RFC 7748 sections 5.2 and 6.1), rejection of
 * small-order points, and the Wycheproof x25519 suite.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "crypto/secure.h"
#include "crypto/x25519.h"
#include "tests/harness.h"

#define L WG_X25519_LEN

static void unhex32(uint8_t out[L], const char *hex)
{
	CHECK(wg_test_unhex(out, L, hex) == L);
}

static const struct {
	const char *scalar, *point, *out;
} rfc7748_vectors[] = {
	{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
	{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
};

static void test_rfc7748_section_5_2_vectors(void)
{
	for (size_t i = 0; i < sizeof(rfc7748_vectors) / sizeof(rfc7748_vectors[0]); i++) {
		uint8_t k[L], u[L], want[L], out[L];

		unhex32(k, rfc7748_vectors[i].scalar);
		unhex32(u, rfc7748_vectors[i].point);
		unhex32(want, rfc7748_vectors[i].out);
		CHECK(wg_x25519(out, k, u) == 0);
		CHECK_MSG(memcmp(out, want, L) == 0, "vector %zu", i);
	}
}

/* k = u = 9; repeat { k, u = X25519(k, u), k } */
static void test_rfc7748_iterations_1_and_1000(void)
{
	static const char after_1[] =
		"422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079";
	static const char after_1000[] =
		"684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51";
	uint8_t k[L] = { 9 }, u[L] = { 9 }, r[L], want[L];

	for (int i = 1; i <= 1000; i++) {
		CHECK(wg_x25519(r, k, u) == 0);
		memcpy(u, k, L);
		memcpy(k, r, L);
		if (i == 1) {
			unhex32(want, after_1);
			CHECK_MEM(k, want, L);
		}
	}
	unhex32(want, after_1000);
	CHECK_MEM(k, want, L);
}

static void test_rfc7748_section_6_1_diffie_hellman(void)
{
	uint8_t a[L], b[L], apub[L], bpub[L], want[L], s1[L], s2[L];

	unhex32(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex32(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	CHECK(wg_x25519_public(apub, a) == 0);
	CHECK(wg_x25519_public(bpub, b) == 0);
	unhex32(want, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	CHECK_MEM(apub, want, L);
	unhex32(want, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	CHECK_MEM(bpub, want, L);
	unhex32(want, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	CHECK(wg_x25519(s1, a, bpub) == 0);
	CHECK(wg_x25519(s2, b, apub) == 0);
	CHECK_MEM(s1, want, L);
	CHECK_MEM(s2, want, L);
}

/*
 * Points whose product with any clamped scalar (a multiple of 8) is zero.
 * Each was checked with an independent Python RFC 7748 ladder: all seven,
 * including p - 1 (u = -1), give an all-zero result for every clamped scalar,
 * and so do their copies with the ignored top bit set.
 */
static const char *const low_order_points[] = {
	"0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
	"0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", /* order 8 */
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p */
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 */
};

static void test_low_order_points_rejected_and_output_zeroed(void)
{
	uint8_t scalars[4][L];

	unhex32(scalars[0], rfc7748_vectors[0].scalar);
	memset(scalars[1], 0xff, L);
	wg_x25519_generate(scalars[2]);
	wg_secure_random(scalars[3], L); /* unclamped: clamping is X25519's job */

	for (size_t i = 0; i < sizeof(low_order_points) / sizeof(low_order_points[0]); i++) {
		for (int top = 0; top < 2; top++) {
			uint8_t u[L], out[L];

			unhex32(u, low_order_points[i]);
			u[31] |= (uint8_t)(top << 7);
			for (size_t s = 0; s < 4; s++) {
				memset(out, 0xaa, L);
				CHECK_MSG(wg_x25519(out, scalars[s], u) == -EINVAL,
					  "point %zu top %d scalar %zu", i, top, s);
				CHECK_MSG(wg_secure_is_zero(out, L), "point %zu scalar %zu", i, s);
			}
		}
	}
}

static void test_clamp(void)
{
	uint8_t k[L], want[L];

	memset(k, 0xff, L);
	wg_x25519_clamp(k);
	unhex32(want, "f8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
	CHECK_MEM(k, want, L);
	memset(k, 0, L);
	wg_x25519_clamp(k);
	unhex32(want, "0000000000000000000000000000000000000000000000000000000000000040");
	CHECK_MEM(k, want, L);
}

/* clamping does not change the public key (X25519 clamps internally) */
static void test_public_key_of_clamped_and_unclamped_scalar_agree(void)
{
	uint8_t k[L], pub1[L], pub2[L], nine[L] = { 9 }, pub3[L];

	unhex32(k, rfc7748_vectors[0].scalar);
	CHECK(wg_x25519_public(pub1, k) == 0);
	CHECK(wg_x25519(pub3, k, nine) == 0);
	wg_x25519_clamp(k);
	CHECK(wg_x25519_public(pub2, k) == 0);
	CHECK_MEM(pub1, pub2, L);
	CHECK_MEM(pub1, pub3, L);
}

static void test_generate_is_clamped_and_fresh(void)
{
	uint8_t a[L], b[L];

	wg_x25519_generate(a);
	wg_x25519_generate(b);
	CHECK(memcmp(a, b, L) != 0);
	CHECK((a[0] & 7) == 0 && (a[31] & 0xc0) == 0x40);
	CHECK((b[0] & 7) == 0 && (b[31] & 0xc0) == 0x40);
}

/* hex field of a Wycheproof test into out (exactly L bytes), false when absent or not 32 bytes */
static bool json_hex32(uint8_t out[L], json_t *test, const char *field)
{
	const char *hex = json_string_value(json_object_get(test, field));

	if (!hex || strlen(hex) != 2 * L)
		return false;
	wg_test_unhex(out, L, hex);
	return true;
}

struct wp_stats {
	size_t checked, refused;
};

/*
 * valid: the shared secret must match. acceptable: match when the expected
 * secret is non-zero; an all-zero secret (low-order public key) must be
 * refused with -EINVAL. invalid: must not succeed with the listed secret.
 */
static void check_wycheproof_test(json_t *t, struct wp_stats *st)
{
	const char *result = json_string_value(json_object_get(t, "result"));
	long id = (long)json_integer_value(json_object_get(t, "tcId"));
	uint8_t pub[L], priv[L], shared[L], out[L];
	int ret;

	if (!result || !json_hex32(pub, t, "public") || !json_hex32(priv, t, "private") ||
	    !json_hex32(shared, t, "shared")) {
		CHECK_MSG(0, "tcId %ld: malformed test", id);
		return;
	}
	ret = wg_x25519(out, priv, pub);
	if (!strcmp(result, "invalid")) {
		CHECK_MSG(ret != 0 || memcmp(out, shared, L) != 0, "tcId %ld accepted", id);
	} else if (wg_secure_is_zero(shared, L)) {
		CHECK_MSG(ret == -EINVAL, "tcId %ld: zero secret returned %d", id, ret);
		CHECK_MSG(wg_secure_is_zero(out, L), "tcId %ld: output not zeroed", id);
		st->refused++;
	} else {
		CHECK_MSG(ret == 0, "tcId %ld (%s): returned %d", id, result, ret);
		CHECK_MSG(memcmp(out, shared, L) == 0, "tcId %ld (%s): wrong secret", id, result);
	}
	st->checked++;
}

static void test_wycheproof_x25519(void)
{
	const char *dir = wg_test_vectors_dir();
	struct wp_stats st = { 0 };
	char path[4096];
	json_error_t jerr;
	json_t *root, *groups, *group, *t;
	size_t gi, ti;

	if (!dir)
		SKIP_TEST("vectors directory not found (set WG_VECTORS_DIR)");
	snprintf(path, sizeof(path), "%s/wycheproof/x25519_test.json", dir);
	root = json_load_file(path, 0, &jerr);
	if (!root)
		SKIP_TEST("%s: %s", path, jerr.text);

	groups = json_object_get(root, "testGroups");
	CHECK(json_array_size(groups) > 0);
	json_array_foreach(groups, gi, group) {
		const char *curve = json_string_value(json_object_get(group, "curve"));

		if (!curve || strcmp(curve, "curve25519") != 0)
			continue;
		json_array_foreach(json_object_get(group, "tests"), ti, t)
			check_wycheproof_test(t, &st);
	}
	printf("  wycheproof x25519: %zu vectors checked (%zu zero secrets refused)\n", st.checked,
	       st.refused);
	CHECK(st.checked > 0);
	json_decref(root);
}

int main(void)
{
	TEST_BEGIN("crypto/x25519_test");
	if (wg_crypto_init() != 0)
		return 1;
	RUN_TEST(test_rfc7748_section_5_2_vectors);
	RUN_TEST(test_rfc7748_iterations_1_and_1000);
	RUN_TEST(test_rfc7748_section_6_1_diffie_hellman);
	RUN_TEST(test_low_order_points_rejected_and_output_zeroed);
	RUN_TEST(test_clamp);
	RUN_TEST(test_public_key_of_clamped_and_unclamped_scalar_agree);
	RUN_TEST(test_generate_is_clamped_and_fresh);
	RUN_TEST(test_wycheproof_x25519);
	return TEST_END();
}
