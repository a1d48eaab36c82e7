/* SPDX-License-Identifier: MIT */
/*
 * Batch ChaCha20-Poly1305 against libsodium's one-at-a-time IETF construction
 * with WireGuard nonces (4 zero bytes || le64 counter), on every instruction
 * set the CPU supports. The tamper test flips every byte of one job's
 * ciphertext and tag, one run per position, inside a batch of valid jobs:
 * exactly that job must fail, with its plaintext wiped.
 *
 * Lengths and keys are random; the seed is printed and WG_TEST_SEED repeats it.
 * Every buffer is malloc'd at its exact size so ASan sees any overrun.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <sodium.h>

#include "crypto/batch_aead.h"
#include "tests/harness.h"

#define TAG 16u
#define MAX_LEN 9000u
#define N_RANDOM 400u

static const char *const arch_names[] = { "avx512", "avx2", "sse" };
#define N_ARCH (sizeof(arch_names) / sizeof(arch_names[0]))

/* lengths every comparison covers, besides the random ones */
static const uint32_t special_lens[] = { 0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129,
					 255, 256, 257, 511, 512, 1023, 1024, 1420, 1440, 4096,
					 8191, 9000 };
#define N_SPECIAL (sizeof(special_lens) / sizeof(special_lens[0]))

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* one message: plaintext, libsodium's ciphertext || tag, and an output buffer */
struct msg {
	uint8_t key[32];
	uint64_t counter;
	uint32_t len;
	uint8_t *pt;  /* len bytes (at least 1 allocated) */
	uint8_t *ct;  /* len + 16 */
	uint8_t *out; /* len + 16 */
};

struct set {
	struct msg *m;
	struct wg_aead_job *jobs;
	unsigned n;
};

static void ref_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

static void ref_encrypt(struct msg *m)
{
	uint8_t nonce[12];
	unsigned long long clen;

	ref_nonce(nonce, m->counter);
	crypto_aead_chacha20poly1305_ietf_encrypt(m->ct, &clen, m->pt, m->len, NULL, 0, NULL, nonce,
						  m->key);
	if (clen != m->len + TAG)
		abort();
}

static uint64_t rnd_counter(void)
{
	switch (rnd() % 4) {
	case 0:
		return rnd() % 4; /* 0..3 */
	case 1:
		return UINT64_MAX - rnd() % 8192;
	default:
		return rnd();
	}
}

/* n messages; lens[i] when i < nlens, else random in 0..maxlen */
static struct set set_new(unsigned n, const uint32_t *lens, unsigned nlens, uint32_t maxlen)
{
	struct set s = { calloc(n, sizeof(struct msg)), calloc(n, sizeof(struct wg_aead_job)), n };

	if (!s.m || !s.jobs)
		abort();
	for (unsigned i = 0; i < n; i++) {
		struct msg *m = &s.m[i];

		m->len = i < nlens ? lens[i] : (uint32_t)(rnd() % (maxlen + 1));
		m->counter = rnd_counter();
		rnd_bytes(m->key, sizeof(m->key));
		m->pt = malloc(m->len ? m->len : 1);
		m->ct = malloc(m->len + TAG);
		m->out = malloc(m->len + TAG);
		if (!m->pt || !m->ct || !m->out)
			abort();
		rnd_bytes(m->pt, m->len);
		ref_encrypt(m);
	}
	return s;
}

static void set_free(struct set *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		free(s->m[i].pt);
		free(s->m[i].ct);
		free(s->m[i].out);
	}
	free(s->m);
	free(s->jobs);
}

/* point the jobs at (pt -> out) for encryption or (ct -> out) for decryption */
static void set_jobs(struct set *s, enum wg_batch_dir dir)
{
	for (unsigned i = 0; i < s->n; i++) {
		struct msg *m = &s->m[i];

		memset(m->out, 0xa5, m->len + TAG);
		s->jobs[i] = (struct wg_aead_job){
			.key = m->key,
			.counter = m->counter,
			.src = dir == WG_BATCH_ENCRYPT ? m->pt : m->ct,
			.dst = m->out,
			.len = m->len,
			.status = 12345,
		};
	}
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static struct wg_batch_aead *must_create(const char *arch)
{
	struct wg_batch_aead *ba = NULL;
	int ret = wg_batch_aead_create(&ba, arch);

	CHECK_MSG(ret == 0 && ba, "create(%s) = %d", arch ? arch : "NULL", ret);
	return ret == 0 ? ba : NULL;
}

/* encrypt and decrypt s on ba, checking against libsodium; returns mismatches */
static unsigned check_against_libsodium(struct wg_batch_aead *ba, struct set *s)
{
	unsigned bad = 0, ok;

	set_jobs(s, WG_BATCH_ENCRYPT);
	ok = wg_batch_aead_run(ba, WG_BATCH_ENCRYPT, s->jobs, s->n);
	CHECK_MSG(ok == s->n, "encrypt: %u of %u succeeded", ok, s->n);
	for (unsigned i = 0; i < s->n; i++) {
		struct msg *m = &s->m[i];

		if (s->jobs[i].status != 0 || memcmp(m->out, m->ct, m->len + TAG)) {
			CHECK_MSG(0, "encrypt job %u (len %u, counter %llu): status %d, output differs", i,
				  m->len, (unsigned long long)m->counter, s->jobs[i].status);
			bad++;
		}
	}

	set_jobs(s, WG_BATCH_DECRYPT);
	ok = wg_batch_aead_run(ba, WG_BATCH_DECRYPT, s->jobs, s->n);
	CHECK_MSG(ok == s->n, "decrypt: %u of %u succeeded", ok, s->n);
	for (unsigned i = 0; i < s->n; i++) {
		struct msg *m = &s->m[i];

		if (s->jobs[i].status != 0 || memcmp(m->out, m->pt, m->len)) {
			CHECK_MSG(0, "decrypt job %u (len %u): status %d, plaintext differs", i, m->len,
				  s->jobs[i].status);
			bad++;
		}
		/* decryption writes len bytes, never the tag area */
		for (unsigned k = 0; k < TAG; k++)
			if (m->out[m->len + k] != 0xa5) {
				CHECK_MSG(0, "decrypt job %u wrote past len", i);
				bad++;
				break;
			}
	}
	return bad;
}

static void test_create_args(void)
{
	struct wg_batch_aead *ba = (void *)1;

	CHECK(wg_batch_aead_create(NULL, NULL) == -EINVAL);
	CHECK(wg_batch_aead_create(&ba, "avx9000") == -EINVAL);
	CHECK(ba == NULL);
	CHECK(wg_batch_aead_create(&ba, "") == -EINVAL);
	CHECK(wg_batch_aead_arch(NULL) == NULL);
	wg_batch_aead_destroy(NULL);

	ba = must_create(NULL);
	if (ba) {
		CHECK(wg_batch_aead_arch(ba) != NULL);
		wg_batch_aead_destroy(ba);
	}
}

/* auto picks the first arch, best first, that can be created */
static void test_auto_picks_best(void)
{
	struct wg_batch_aead *ba = must_create("auto"), *forced;
	const char *best = NULL;

	if (!ba)
		return;
	for (size_t i = 0; i < N_ARCH && !best; i++) {
		if (wg_batch_aead_create(&forced, arch_names[i]) == 0) {
			best = arch_names[i];
			CHECK(!strcmp(wg_batch_aead_arch(forced), arch_names[i]));
			wg_batch_aead_destroy(forced);
		}
	}
	CHECK(best != NULL);
	CHECK_MSG(best && !strcmp(wg_batch_aead_arch(ba), best), "auto chose %s, best is %s",
		  wg_batch_aead_arch(ba), best ? best : "none");
	printf("# auto arch: %s\n", wg_batch_aead_arch(ba));
	wg_batch_aead_destroy(ba);
}

/* several hundred random messages, the special lengths first, in one batch */
static void test_matches_libsodium(void)
{
	struct wg_batch_aead *ba = must_create(NULL);
	struct set s;

	if (!ba)
		return;
	s = set_new(N_SPECIAL + N_RANDOM, special_lens, N_SPECIAL, MAX_LEN);
	CHECK(check_against_libsodium(ba, &s) == 0);
	set_free(&s);
	wg_batch_aead_destroy(ba);
}

/* same for each arch; and every arch's ciphertext is byte-identical */
static void check_arch(const char *arch)
{
	struct wg_batch_aead *ba = NULL;
	struct set s;
	int ret = wg_batch_aead_create(&ba, arch);

	if (ret)
		SKIP_TEST("arch %s unavailable (%d)", arch, ret);
	CHECK(!strcmp(wg_batch_aead_arch(ba), arch));
	s = set_new(N_SPECIAL + 200, special_lens, N_SPECIAL, MAX_LEN);
	CHECK(check_against_libsodium(ba, &s) == 0);
	set_free(&s);
	wg_batch_aead_destroy(ba);
}

static void test_arch_avx512(void)
{
	check_arch("avx512");
}

static void test_arch_avx2(void)
{
	check_arch("avx2");
}

static void test_arch_sse(void)
{
	check_arch("sse");
}

static void test_arches_identical(void)
{
	struct set s = set_new(N_SPECIAL + 100, special_lens, N_SPECIAL, 2000);
	uint8_t **first = calloc(s.n, sizeof(*first));
	unsigned ran = 0;

	if (!first)
		abort();
	for (size_t a = 0; a < N_ARCH; a++) {
		struct wg_batch_aead *ba;

		if (wg_batch_aead_create(&ba, arch_names[a]))
			continue;
		set_jobs(&s, WG_BATCH_ENCRYPT);
		CHECK(wg_batch_aead_run(ba, WG_BATCH_ENCRYPT, s.jobs, s.n) == s.n);
		for (unsigned i = 0; i < s.n; i++) {
			size_t sz = s.m[i].len + TAG;

			if (!first[i]) {
				first[i] = malloc(sz);
				memcpy(first[i], s.m[i].out, sz);
			} else {
				CHECK_MSG(!memcmp(first[i], s.m[i].out, sz), "%s differs on job %u",
					  arch_names[a], i);
			}
		}
		wg_batch_aead_destroy(ba);
		ran++;
	}
	for (unsigned i = 0; i < s.n; i++)
		free(first[i]);
	free(first);
	set_free(&s);
	if (ran < 2)
		SKIP_TEST("only %u arch available", ran);
}

/* dst == src in both directions */
static void test_in_place(void)
{
	struct wg_batch_aead *ba = must_create(NULL);
	struct set s;

	if (!ba)
		return;
	s = set_new(N_SPECIAL + 100, special_lens, N_SPECIAL, MAX_LEN);
	for (unsigned i = 0; i < s.n; i++) {
		struct msg *m = &s.m[i];

		memcpy(m->out, m->pt, m->len);
		memset(m->out + m->len, 0xa5, TAG);
		s.jobs[i] = (struct wg_aead_job){ .key = m->key, .counter = m->counter,
						  .src = m->out, .dst = m->out, .len = m->len };
	}
	CHECK(wg_batch_aead_run(ba, WG_BATCH_ENCRYPT, s.jobs, s.n) == s.n);
	for (unsigned i = 0; i < s.n; i++)
		CHECK_MSG(s.jobs[i].status == 0 && !memcmp(s.m[i].out, s.m[i].ct, s.m[i].len + TAG),
			  "in-place encrypt job %u (len %u)", i, s.m[i].len);

	CHECK(wg_batch_aead_run(ba, WG_BATCH_DECRYPT, s.jobs, s.n) == s.n);
	for (unsigned i = 0; i < s.n; i++)
		CHECK_MSG(s.jobs[i].status == 0 && !memcmp(s.m[i].out, s.m[i].pt, s.m[i].len),
			  "in-place decrypt job %u (len %u)", i, s.m[i].len);
	set_free(&s);
	wg_batch_aead_destroy(ba);
}

/*
 * For every byte of one job's ciphertext || tag: flip it, decrypt a batch of
 * valid jobs with that one among them, and require that exactly it fails with
 * -EBADMSG and a zeroed output, the others decrypt. The victim moves through
 * the batch so that it is sometimes first, last, and in the middle; in_place
 * also runs the victim with dst == src.
 */
static void tamper_every_byte(struct wg_batch_aead *ba, uint32_t victim_len, bool in_place)
{
	enum { N = 9 };
	uint32_t lens[N];
	struct set s;
	uint8_t *buf;
	unsigned failures = 0;

	for (unsigned i = 0; i < N; i++)
		lens[i] = victim_len;
	s = set_new(N, lens, 1, 1500); /* lens[0] only; others random */
	buf = malloc(victim_len + TAG);
	if (!buf)
		abort();

	for (uint32_t pos = 0; pos < victim_len + TAG; pos++) {
		unsigned v = pos % N;
		unsigned ok;
		struct msg *vm;

		/* put the victim message at index v */
		struct msg tmp = s.m[0];
		s.m[0] = s.m[v];
		s.m[v] = tmp;
		vm = &s.m[v];

		set_jobs(&s, WG_BATCH_DECRYPT);
		memcpy(buf, vm->ct, vm->len + TAG);
		buf[pos] ^= (uint8_t)(1u << (pos % 8));
		s.jobs[v].src = buf;
		if (in_place)
			s.jobs[v].dst = buf;

		ok = wg_batch_aead_run(ba, WG_BATCH_DECRYPT, s.jobs, N);
		if (ok != N - 1 || s.jobs[v].status != -EBADMSG ||
		    !all_zero(s.jobs[v].dst, vm->len)) {
			CHECK_MSG(0, "len %u pos %u (%s): ok %u, victim status %d, zeroed %d",
				  victim_len, pos, pos < victim_len ? "ciphertext" : "tag", ok,
				  s.jobs[v].status, all_zero(s.jobs[v].dst, vm->len));
			failures++;
		}
		for (unsigned i = 0; i < N; i++) {
			if (i == v)
				continue;
			if (s.jobs[i].status != 0 || memcmp(s.m[i].out, s.m[i].pt, s.m[i].len)) {
				CHECK_MSG(0, "len %u pos %u: bystander %u status %d", victim_len, pos,
					  i, s.jobs[i].status);
				failures++;
			}
		}
		/* undo the swap so the victim is at 0 again */
		tmp = s.m[0];
		s.m[0] = s.m[v];
		s.m[v] = tmp;
		if (failures > 20)
			break; /* enough said */
	}
	free(buf);
	set_free(&s);
}

static void test_tamper_every_byte(void)
{
	static const uint32_t lens[] = { 0, 1, 15, 16, 17, 63, 64, 65, 300, 1420 };
	struct wg_batch_aead *ba = must_create(NULL);

	if (!ba)
		return;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		tamper_every_byte(ba, lens[i], false);
	wg_batch_aead_destroy(ba);
}

static void test_tamper_every_byte_in_place(void)
{
	static const uint32_t lens[] = { 0, 33, 129 };
	struct wg_batch_aead *ba = must_create(NULL);

	if (!ba)
		return;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		tamper_every_byte(ba, lens[i], true);
	wg_batch_aead_destroy(ba);
}

/* every arch checks the tag, not only the default one */
static void test_tamper_each_arch(void)
{
	unsigned ran = 0;

	for (size_t a = 0; a < N_ARCH; a++) {
		struct wg_batch_aead *ba;

		if (wg_batch_aead_create(&ba, arch_names[a]))
			continue;
		tamper_every_byte(ba, 0, false);
		tamper_every_byte(ba, 65, false);
		wg_batch_aead_destroy(ba);
		ran++;
	}
	CHECK(ran > 0);
}

/* a flipped key bit, or any other counter (low or high half), fails */
static void test_wrong_key_or_counter(void)
{
	static const uint64_t deltas[] = { 1, 2, 1ull << 31, 1ull << 32, 1ull << 63 };
	enum { N = 8 };
	struct wg_batch_aead *ba = must_create(NULL);
	struct set s;
	uint8_t badkey[32];

	if (!ba)
		return;
	s = set_new(N, NULL, 0, 1500);
	for (unsigned v = 0; v < N; v++) {
		struct msg *m = &s.m[v];

		for (unsigned bit = 0; bit < 256; bit += 37) {
			memcpy(badkey, m->key, 32);
			badkey[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			set_jobs(&s, WG_BATCH_DECRYPT);
			s.jobs[v].key = badkey;
			CHECK(wg_batch_aead_run(ba, WG_BATCH_DECRYPT, s.jobs, N) == N - 1);
			CHECK_MSG(s.jobs[v].status == -EBADMSG, "key bit %u", bit);
			CHECK(all_zero(m->out, m->len));
		}
		for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++) {
			set_jobs(&s, WG_BATCH_DECRYPT);
			s.jobs[v].counter = m->counter ^ deltas[d];
			CHECK(wg_batch_aead_run(ba, WG_BATCH_DECRYPT, s.jobs, N) == N - 1);
			CHECK_MSG(s.jobs[v].status == -EBADMSG, "counter ^ %llx",
				  (unsigned long long)deltas[d]);
			CHECK(all_zero(m->out, m->len));
			for (unsigned i = 0; i < N; i++)
				if (i != v)
					CHECK(s.jobs[i].status == 0);
		}
	}
	set_free(&s);
	wg_batch_aead_destroy(ba);
}

/*
 * Many times the internal chunk, with forgeries scattered through it, so that
 * completions must be mapped back to the right job across chunks.
 */
static void test_large_batch(void)
{
	enum { N = 1000 };
	struct wg_batch_aead *ba = must_create(NULL);
	struct set s;
	unsigned ok, expect = 0;

	if (!ba)
		return;
	s = set_new(N, NULL, 0, 200);
	set_jobs(&s, WG_BATCH_DECRYPT);
	for (unsigned i = 0; i < N; i++)
		if (i % 97 == 3 || i == N - 1)
			s.m[i].ct[s.m[i].len] ^= 0x80; /* first tag byte */
		else
			expect++;
	ok = wg_batch_aead_run(ba, WG_BATCH_DECRYPT, s.jobs, N);
	CHECK_MSG(ok == expect, "%u succeeded, expected %u", ok, expect);
	for (unsigned i = 0; i < N; i++) {
		struct msg *m = &s.m[i];

		if (i % 97 == 3 || i == N - 1)
			CHECK_MSG(s.jobs[i].status == -EBADMSG && all_zero(m->out, m->len),
				  "forged job %u: status %d", i, s.jobs[i].status);
		else
			CHECK_MSG(s.jobs[i].status == 0 && !memcmp(m->out, m->pt, m->len),
				  "job %u: status %d", i, s.jobs[i].status);
	}

	set_jobs(&s, WG_BATCH_ENCRYPT);
	CHECK(wg_batch_aead_run(ba, WG_BATCH_ENCRYPT, s.jobs, N) == N);
	set_free(&s);
	wg_batch_aead_destroy(ba);
}

/* a keepalive is a bare 16-byte tag over nothing */
static void test_keepalive(void)
{
	struct wg_batch_aead *ba = must_create(NULL);
	uint8_t key[32], ref[TAG], out[TAG], nonce[12];
	unsigned long long clen;
	struct wg_aead_job j;

	if (!ba)
		return;
	rnd_bytes(key, sizeof(key));
	ref_nonce(nonce, 7);
	crypto_aead_chacha20poly1305_ietf_encrypt(ref, &clen, (const uint8_t *)"", 0, NULL, 0, NULL,
						  nonce, key);
	j = (struct wg_aead_job){ .key = key, .counter = 7, .src = out, .dst = out, .len = 0 };
	CHECK(wg_batch_aead_run(ba, WG_BATCH_ENCRYPT, &j, 1) == 1);
	CHECK(j.status == 0);
	CHECK_MEM(out, ref, TAG);

	j.status = 1;
	CHECK(wg_batch_aead_run(ba, WG_BATCH_DECRYPT, &j, 1) == 1);
	CHECK(j.status == 0);
	out[15] ^= 1;
	CHECK(wg_batch_aead_run(ba, WG_BATCH_DECRYPT, &j, 1) == 0);
	CHECK(j.status == -EBADMSG);
	j.counter = 8;
	out[15] ^= 1;
	CHECK(wg_batch_aead_run(ba, WG_BATCH_DECRYPT, &j, 1) == 0);
	CHECK(j.status == -EBADMSG);
	wg_batch_aead_destroy(ba);
}

/* NULL key, src or dst: -EINVAL, buffers untouched, others unaffected */
static void test_null_fields(void)
{
	enum { N = 6 };
	struct wg_batch_aead *ba = must_create(NULL);
	static const enum wg_batch_dir dirs[] = { WG_BATCH_ENCRYPT, WG_BATCH_DECRYPT };
	struct set s;

	if (!ba)
		return;
	s = set_new(N, NULL, 0, 300);
	for (size_t d = 0; d < 2; d++) {
		unsigned ok;

		set_jobs(&s, dirs[d]);
		s.jobs[0].key = NULL;
		s.jobs[2].src = NULL;
		s.jobs[5].dst = NULL;
		ok = wg_batch_aead_run(ba, dirs[d], s.jobs, N);
		CHECK_MSG(ok == N - 3, "dir %d: %u succeeded", (int)dirs[d], ok);
		CHECK(s.jobs[0].status == -EINVAL);
		CHECK(s.jobs[2].status == -EINVAL);
		CHECK(s.jobs[5].status == -EINVAL);
		CHECK(s.jobs[1].status == 0);
		CHECK(s.jobs[3].status == 0);
		CHECK(s.jobs[4].status == 0);
		/* the rejected jobs' dst keeps its sentinel */
		for (unsigned k = 0; k < 3; k++) {
			unsigned i = (unsigned[]){ 0, 2, 5 }[k];

			CHECK_MSG(s.m[i].out[0] == 0xa5 && s.m[i].out[s.m[i].len + TAG - 1] == 0xa5,
				  "dir %d: rejected job %u was written", (int)dirs[d], i);
		}
		CHECK(!memcmp(s.m[1].out, dirs[d] == WG_BATCH_ENCRYPT ? s.m[1].ct : s.m[1].pt,
			      s.m[1].len));
	}

	/* an unknown direction fails every job */
	set_jobs(&s, WG_BATCH_ENCRYPT);
	CHECK(wg_batch_aead_run(ba, (enum wg_batch_dir)7, s.jobs, N) == 0);
	for (unsigned i = 0; i < N; i++)
		CHECK(s.jobs[i].status == -EINVAL);
	CHECK(wg_batch_aead_run(ba, WG_BATCH_ENCRYPT, s.jobs, 0) == 0);
	CHECK(wg_batch_aead_run(ba, WG_BATCH_ENCRYPT, NULL, 0) == 0);
	set_free(&s);
	wg_batch_aead_destroy(ba);
}

/* successes are counted, not jobs: mixed valid, forged and invalid jobs */
static void test_return_counts_successes(void)
{
	enum { N = 10 };
	struct wg_batch_aead *ba = must_create(NULL);
	struct set s;
	unsigned ok;

	if (!ba)
		return;
	s = set_new(N, NULL, 0, 100);
	set_jobs(&s, WG_BATCH_DECRYPT);
	s.m[1].ct[s.m[1].len + 3] ^= 4;
	s.m[4].ct[0] ^= s.m[4].len ? 1 : 0;
	s.m[4].ct[s.m[4].len] ^= s.m[4].len ? 0 : 1;
	s.jobs[7].key = NULL;
	ok = wg_batch_aead_run(ba, WG_BATCH_DECRYPT, s.jobs, N);
	CHECK_MSG(ok == N - 3, "%u", ok);
	CHECK(s.jobs[1].status == -EBADMSG);
	CHECK(s.jobs[4].status == -EBADMSG);
	CHECK(s.jobs[7].status == -EINVAL);
	set_free(&s);
	wg_batch_aead_destroy(ba);
}

int main(void)
{
	const char *env = getenv("WG_TEST_SEED");

	TEST_BEGIN("batch_aead_test");
	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	rng_state = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	fprintf(stderr, "batch_aead_test: WG_TEST_SEED=%llu\n", (unsigned long long)rng_state);

	RUN_TEST(test_create_args);
	RUN_TEST(test_auto_picks_best);
	RUN_TEST(test_matches_libsodium);
	RUN_TEST(test_arch_avx512);
	RUN_TEST(test_arch_avx2);
	RUN_TEST(test_arch_sse);
	RUN_TEST(test_arches_identical);
	RUN_TEST(test_in_place);
	RUN_TEST(test_tamper_every_byte);
	RUN_TEST(test_tamper_every_byte_in_place);
	RUN_TEST(test_tamper_each_arch);
	RUN_TEST(test_wrong_key_or_counter);
	RUN_TEST(test_large_batch);
	RUN_TEST(test_keepalive);
	RUN_TEST(test_null_fields);
	RUN_TEST(test_return_counts_successes);
	return TEST_END();
}
