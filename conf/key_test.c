/* SPDX-License-Identifier: MIT */
/*
 * Tests of tools/probe_key.c. Expected encodings come from Python's
 * base64.b64encode and from wg(8) (the RFC 7748 section 6.1 private key).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/harness.h"
#include "conf/key.h"

static const struct {
	const char *hex;
	const char *b64;
} vectors[] = {
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
	{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	  "//////////////////////////////////////////8=" },
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" },
	{ "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	  "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=" },
};

static void test_known_answers(void)
{
	uint8_t want[32], got[32];
	char enc[45];

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		wg_test_unhex(want, sizeof(want), vectors[i].hex);
		CHECK_MSG(wg_key_from_base64(got, vectors[i].b64, strlen(vectors[i].b64)),
			  "vector %zu", i);
		CHECK_MEM(got, want, 32);
		wg_key_to_base64(enc, want);
		CHECK(strcmp(enc, vectors[i].b64) == 0);
	}
}

static void test_roundtrip_random(void)
{
	uint8_t key[32], back[32];
	char enc[45];

	srand(7);
	for (int n = 0; n < 2000; n++) {
		for (size_t i = 0; i < 32; i++)
			key[i] = (uint8_t)rand();
		wg_key_to_base64(enc, key);
		CHECK(strlen(enc) == 44);
		CHECK(wg_key_from_base64(back, enc, 44));
		CHECK_MEM(back, key, 32);
	}
}

static bool rejects(const char *s)
{
	uint8_t out[32];
	bool ok = wg_key_from_base64(out, s, strlen(s));
	static const uint8_t zero[32];

	/* a rejected key leaves nothing behind */
	return !ok && memcmp(out, zero, 32) == 0;
}

static void test_rejects(void)
{
	char s[64];
	uint8_t out[32];
	const char *good = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";

	CHECK(rejects(""));
	CHECK(rejects("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo"));   /* no padding, 43 */
	CHECK(rejects("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC="));   /* 43 */
	CHECK(rejects("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=="));  /* 45 */
	CHECK(rejects("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCoA"));   /* 44, no '=' */
	CHECK(rejects("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L=o="));   /* '=' inside */
	CHECK(rejects("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp="));   /* low bits set */
	CHECK(rejects("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="));   /* python accepts this */
	CHECK(rejects("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25-Co="));   /* url-safe alphabet */
	CHECK(rejects("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25_Co="));
	CHECK(rejects("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkq Xf7pR25LCo="));   /* space inside */
	CHECK(rejects(" dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo"));
	/* every single character replaced by one outside the alphabet */
	for (size_t i = 0; i < 43; i++) {
		memcpy(s, good, 45);
		s[i] = '.';
		CHECK_MSG(rejects(s), "position %zu", i);
	}
	/* an embedded NUL counts as a bad character, not an end */
	memcpy(s, good, 45);
	s[10] = '\0';
	CHECK(!wg_key_from_base64(out, s, 44));
	CHECK(wg_key_from_base64(out, good, 44));
}

static char tmpl[] = "/tmp/probe_key_test.XXXXXX";

static int write_tmp(const char *content)
{
	int fd = mkstemp(tmpl);

	if (fd < 0)
		return -1;
	if (write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void check_file(const char *content, int want)
{
	uint8_t out[32];

	memcpy(tmpl + strlen(tmpl) - 6, "XXXXXX", 6);
	if (write_tmp(content) != 0) {
		CHECK_MSG(0, "cannot write a temporary file");
		return;
	}
	CHECK_MSG(wg_key_read_file(out, tmpl) == want, "content '%s'", content);
	unlink(tmpl);
}

static void test_read_file(void)
{
	uint8_t out[32];
	char *big;

	check_file("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n", 0);
	check_file("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=", 0);
	check_file("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\r\n  \n", 0);
	check_file("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\nsecond line\n", -EINVAL);
	check_file("\ndwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n", -EINVAL);
	check_file("", -EINVAL);
	check_file("not a key\n", -EINVAL);
	big = malloc(5000);
	if (big) {
		memset(big, 'A', 4999);
		big[4999] = '\0';
		check_file(big, -EFBIG);
		free(big);
	}
	CHECK(wg_key_read_file(out, "/nonexistent/probe-key") == -ENOENT);
	CHECK(wg_key_read_file(out, "/") == -EISDIR);
}

int main(void)
{
	TEST_BEGIN("conf/key_test");
	RUN_TEST(test_known_answers);
	RUN_TEST(test_roundtrip_random);
	RUN_TEST(test_rejects);
	RUN_TEST(test_read_file);
	return TEST_END();
}
