/* SPDX-License-Identifier: MIT */
/*
 * TAI64N tests: known encodings (the label of 1970, the 2^24 ns rounding the
 * kernel applies), and the ordering responders rely on to reject replayed
 * initiations.
 */
#include <stdint.h>

#include "control/tai64n.h"
#include "dataplane/messages.h"
#include "tests/harness.h"

#define NS WG_NSEC_PER_SEC

static const struct {
	uint64_t realtime_ns;
	const char *hex;
} encodings[] = {
	/* the Unix epoch is TAI label 2^62 + 10 (TAI was 10 s ahead of UTC) */
	{ 0, "400000000000000a00000000" },
	{ 1, "400000000000000a00000000" },
	/* 2^24 - 1 ns rounds down to 0, 2^24 ns stays */
	{ 16777215, "400000000000000a00000000" },
	{ 16777216, "400000000000000a01000000" },
	{ 1 * NS, "400000000000000b00000000" },
	/* 1700000000 s = 0x6553f100; 123456789 ns -> 7 * 2^24 = 0x07000000 */
	{ 1700000000 * NS + 123456789, "400000006553f10a07000000" },
	/* 999999999 ns -> 59 * 2^24 = 989855744 = 0x3b000000 */
	{ 1700000000 * NS + 999999999, "400000006553f10a3b000000" },
	/* the largest uint64 ns: 18446744073 s = 0x44b82fa09, 709551615 ns -> 42 * 2^24 */
	{ UINT64_MAX, "400000044b82fa132a000000" },
};

static void test_known_encodings(void)
{
	for (size_t i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++) {
		uint8_t want[WG_TAI64N_LEN], got[WG_TAI64N_LEN];

		wg_test_unhex(want, sizeof(want), encodings[i].hex);
		memset(got, 0xee, sizeof(got));
		wg_tai64n_encode(got, encodings[i].realtime_ns);
		CHECK_MSG(memcmp(got, want, sizeof(want)) == 0, "encoding %zu (%s)", i, encodings[i].hex);
	}
}

static void test_rounding_is_2_pow_24(void)
{
	/* every nanosecond value encodes as a multiple of 2^24, never above it */
	static const uint32_t nsecs[] = { 0, 1, 16777215, 16777216, 16777217, 33554431, 33554432,
					  500000000, 999999999 };
	for (size_t i = 0; i < sizeof(nsecs) / sizeof(nsecs[0]); i++) {
		uint8_t t[WG_TAI64N_LEN];
		uint32_t got;

		wg_tai64n_encode(t, 42 * NS + nsecs[i]);
		got = (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | (uint32_t)t[10] << 8 | t[11];
		CHECK_MSG(got == (nsecs[i] & ~((1u << 24) - 1)), "nsec %u -> %u", nsecs[i], got);
	}
}

static void test_ordering(void)
{
	static const struct {
		uint64_t a, b;
		bool a_after_b;
	} cases[] = {
		{ 1 * NS, 0, true },
		{ 0, 1 * NS, false },
		{ 5 * NS, 5 * NS, false },                        /* equal is not after */
		{ 5 * NS + 10000000, 5 * NS, false },             /* same 2^24 ns bucket: equal */
		{ 5 * NS + 20000000, 5 * NS, true },              /* 1/50 s later: always newer */
		{ 2 * NS, 1 * NS + 999999999, true },             /* across a second */
		{ 1 * NS + 999999999, 2 * NS, false },
		{ 256 * NS, 255 * NS + 999999999, true },         /* carry into the next byte */
		{ 1700000000 * NS, 1600000000 * NS, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t a[WG_TAI64N_LEN], b[WG_TAI64N_LEN];

		wg_tai64n_encode(a, cases[i].a);
		wg_tai64n_encode(b, cases[i].b);
		CHECK_MSG(wg_tai64n_after(a, b) == cases[i].a_after_b, "case %zu", i);
	}
}

/* the 1/50 s initiation interval always yields a strictly newer timestamp */
static void test_interval_always_newer(void)
{
	uint64_t t = 1700000000 * NS;

	for (int i = 0; i < 100000; i++) {
		uint8_t a[WG_TAI64N_LEN], b[WG_TAI64N_LEN];
		uint64_t step = WG_INITIATION_MIN_INTERVAL + (uint64_t)(i % 7) * 1234567;

		wg_tai64n_encode(a, t);
		wg_tai64n_encode(b, t + step);
		if (!wg_tai64n_after(b, a) || wg_tai64n_after(a, b)) {
			CHECK_MSG(0, "t=%llu step=%llu", (unsigned long long)t, (unsigned long long)step);
			break;
		}
		t += 3333337;
	}
}

int main(void)
{
	TEST_BEGIN("control/tai64n_test");
	RUN_TEST(test_known_encodings);
	RUN_TEST(test_rounding_is_2_pow_24);
	RUN_TEST(test_ordering);
	RUN_TEST(test_interval_always_newer);
	return TEST_END();
}
