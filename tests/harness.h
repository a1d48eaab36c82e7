/* SPDX-License-Identifier: MIT */
/*
 * Minimal test harness shared by the unit tests. Each test function is run
 * with RUN_TEST; a failing CHECK marks it failed and goes on. Output, parsed
 * by scripts/test.sh:
 *   PASS <binary>/<test>
 *   FAIL <binary>/<test>
 *   SKIP <binary>/<test>: reason
 * and main returns non-zero when any test failed.
 */
#ifndef WG_TEST_HARNESS_H
#define WG_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *wg_test_binary = "test";
static const char *wg_test_name = "";
static int wg_test_failed_now, wg_test_skipped_now;
static int wg_test_passes, wg_test_failures, wg_test_skips;

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__,   \
				wg_test_name, #cond);                                          \
			wg_test_failed_now = 1;                                                \
		}                                                                              \
	} while (0)

#define CHECK_MSG(cond, ...)                                                                   \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed: ", __FILE__, __LINE__,   \
				wg_test_name, #cond);                                          \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			wg_test_failed_now = 1;                                                \
		}                                                                              \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

/* CHECK_MSG, and on failure return from the current test (nothing after it can run) */
#define REQUIRE_MSG(cond, ...)                                                                 \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			CHECK_MSG(cond, __VA_ARGS__);                                          \
			return;                                                                \
		}                                                                              \
	} while (0)

/* mark the current test skipped (reason printed) and return from it */
#define SKIP_TEST(...)                                                                         \
	do {                                                                                   \
		printf("SKIP %s/%s: ", wg_test_binary, wg_test_name);                          \
		printf(__VA_ARGS__);                                                           \
		putchar('\n');                                                                 \
		wg_test_skipped_now = 1;                                                       \
		return;                                                                        \
	} while (0)

#define TEST_BEGIN(name) (wg_test_binary = (name))

#define RUN_TEST(fn)                                                                           \
	do {                                                                                   \
		wg_test_name = #fn;                                                            \
		wg_test_failed_now = wg_test_skipped_now = 0;                                  \
		fn();                                                                          \
		if (wg_test_failed_now) {                                                      \
			printf("FAIL %s/%s\n", wg_test_binary, #fn);                           \
			wg_test_failures++;                                                    \
		} else if (wg_test_skipped_now) {                                              \
			wg_test_skips++;                                                       \
		} else {                                                                       \
			printf("PASS %s/%s\n", wg_test_binary, #fn);                           \
			wg_test_passes++;                                                      \
		}                                                                              \
		fflush(stdout);                                                                \
	} while (0)

#define TEST_END()                                                                             \
	(printf("%s: %d passed, %d failed, %d skipped\n", wg_test_binary, wg_test_passes,       \
		wg_test_failures, wg_test_skips),                                              \
	 wg_test_failures ? 1 : 0)

/* hex string to bytes; returns byte count, aborts on malformed input (test bug) */
static inline size_t wg_test_unhex(unsigned char *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;
	if (n > cap || strlen(hex) % 2) {
		fprintf(stderr, "bad hex in test: %s\n", hex);
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			fprintf(stderr, "bad hex in test: %s\n", hex);
			abort();
		}
		out[i] = (unsigned char)v;
	}
	return n;
}

/* directory of the shared test vectors, or NULL when absent */
const char *wg_test_vectors_dir(void);

#ifdef WG_SOURCE_ROOT
#include <sys/stat.h>
const char *wg_test_vectors_dir(void)
{
	static char path[4096];
	struct stat st;
	const char *env = getenv("WG_VECTORS_DIR");
	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else
		snprintf(path, sizeof(path), "%s/../shared/vectors", WG_SOURCE_ROOT);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? path : NULL;
}
#endif

#endif
