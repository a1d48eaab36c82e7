/* SPDX-License-Identifier: MIT */
/*
 * aead_bench: the batch ChaCha20-Poly1305 path (wg_batch_aead_run, bursts of
 * jobs) against libsodium one message at a time, on the current core, side by
 * side in one run. For each plaintext size and direction it measures:
 *
 *   batch-keys   bursts whose jobs each have their own key (distinct peers)
 *   batch-1key   bursts whose jobs all share one key (one busy peer)
 *   libsodium    crypto_aead_chacha20poly1305_ietf_{encrypt,decrypt}, one call
 *                per message, keys as for batch-keys
 *
 * Each of the R repeats runs every case for about the given duration, the
 * cases interleaved so that noise from a shared machine spreads over all of
 * them; the table gives min/median/max over the repeats and the ratio of the
 * batch medians to libsodium's. Rates count plaintext bytes. A checksum of
 * all outputs is printed so the work cannot be optimised away.
 *
 *   aead_bench [--sizes 64,512,1420] [--repeats 7] [--duration 0.3]
 *              [--burst 32] [--arch auto|avx512|avx2|sse] [--cpu N] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bench/bench_util.h"
#include "crypto/batch_aead.h"

#define TAG 16u
#define MAX_SIZES 16
#define MAX_BURST 256
#define MAX_REPEATS 101
#define POOL_BURSTS 4 /* distinct buffers cycled through, in bursts */

enum impl { IMPL_BATCH_KEYS, IMPL_BATCH_1KEY, IMPL_SODIUM, N_IMPL };
static const char *const impl_names[N_IMPL] = { "batch-keys", "batch-1key", "libsodium" };
static const char *const dir_names[2] = { "encrypt", "decrypt" };

struct opts {
	uint32_t sizes[MAX_SIZES];
	unsigned nsizes;
	unsigned repeats;
	double duration;
	unsigned burst;
	const char *arch;
	int cpu;
	bool json;
};

/* buffers for one plaintext size: POOL_BURSTS bursts of messages */
struct pool {
	uint32_t len;
	unsigned n;
	uint8_t (*keys)[32];
	uint64_t *counters;
	uint8_t **pt;  /* len */
	uint8_t **ct;  /* len + 16, valid ciphertexts for the decrypt runs */
	uint8_t **out; /* len + 16 */
	struct wg_aead_job *jobs;
};

struct result {
	double mpps[MAX_REPEATS];
	double med, min, max;
};

static uint64_t checksum;

static void nonce_of(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "aead_bench: out of memory\n");
		exit(1);
	}
	return p;
}

static void pool_init(struct pool *p, uint32_t len, unsigned burst)
{
	p->len = len;
	p->n = burst * POOL_BURSTS;
	p->keys = xmalloc(p->n * sizeof(*p->keys));
	p->counters = xmalloc(p->n * sizeof(*p->counters));
	p->pt = xmalloc(p->n * sizeof(*p->pt));
	p->ct = xmalloc(p->n * sizeof(*p->ct));
	p->out = xmalloc(p->n * sizeof(*p->out));
	p->jobs = xmalloc(p->n * sizeof(*p->jobs));
	for (unsigned i = 0; i < p->n; i++) {
		uint8_t nonce[12];

		randombytes_buf(p->keys[i], 32);
		p->counters[i] = (uint64_t)i * 1000003u;
		p->pt[i] = xmalloc(len);
		p->ct[i] = xmalloc(len + TAG);
		p->out[i] = xmalloc(len + TAG);
		randombytes_buf(p->pt[i], len);
		nonce_of(nonce, p->counters[i]);
		crypto_aead_chacha20poly1305_ietf_encrypt(p->ct[i], NULL, p->pt[i], len, NULL, 0, NULL,
							  nonce, p->keys[i]);
	}
}

static void pool_free(struct pool *p)
{
	for (unsigned i = 0; i < p->n; i++) {
		free(p->pt[i]);
		free(p->ct[i]);
		free(p->out[i]);
	}
	free(p->keys);
	free(p->counters);
	free(p->pt);
	free(p->ct);
	free(p->out);
	free(p->jobs);
}

/* set up the jobs of one case once; a run only replays them */
static void pool_jobs(struct pool *p, enum impl impl, enum wg_batch_dir dir)
{
	for (unsigned i = 0; i < p->n; i++) {
		/* one key: every job uses message 0's key, so decrypt needs its ciphertexts */
		unsigned k = impl == IMPL_BATCH_1KEY ? 0 : i;

		p->jobs[i] = (struct wg_aead_job){
			.key = p->keys[k],
			.counter = p->counters[i],
			.src = dir == WG_BATCH_ENCRYPT ? p->pt[i] : p->ct[i],
			.dst = p->out[i],
			.len = p->len,
		};
		if (impl == IMPL_BATCH_1KEY && dir == WG_BATCH_DECRYPT) {
			uint8_t nonce[12];

			nonce_of(nonce, p->counters[i]);
			crypto_aead_chacha20poly1305_ietf_encrypt(p->ct[i], NULL, p->pt[i], p->len,
								  NULL, 0, NULL, nonce, p->keys[0]);
		}
	}
}

/* restore per-message-key ciphertexts after a one-key decrypt case */
static void pool_restore(struct pool *p)
{
	for (unsigned i = 0; i < p->n; i++) {
		uint8_t nonce[12];

		nonce_of(nonce, p->counters[i]);
		crypto_aead_chacha20poly1305_ietf_encrypt(p->ct[i], NULL, p->pt[i], p->len, NULL, 0,
							  NULL, nonce, p->keys[i]);
	}
}

static void fail_forged(const char *what)
{
	fprintf(stderr, "aead_bench: %s rejected a valid message\n", what);
	exit(1);
}

/* one burst with libsodium, one call per message */
static void sodium_burst(struct pool *p, unsigned first, unsigned burst, enum wg_batch_dir dir)
{
	for (unsigned i = first; i < first + burst; i++) {
		uint8_t nonce[12];

		nonce_of(nonce, p->counters[i]);
		if (dir == WG_BATCH_ENCRYPT) {
			crypto_aead_chacha20poly1305_ietf_encrypt(p->out[i], NULL, p->pt[i], p->len,
								  NULL, 0, NULL, nonce, p->keys[i]);
		} else if (crypto_aead_chacha20poly1305_ietf_decrypt(p->out[i], NULL, NULL, p->ct[i],
								     p->len + TAG, NULL, 0, nonce,
								     p->keys[i])) {
			fail_forged("libsodium");
		}
	}
}

/* messages per second for about `duration` seconds of one case */
static double measure(struct wg_batch_aead *ba, struct pool *p, enum impl impl,
		      enum wg_batch_dir dir, unsigned burst, double duration)
{
	uint64_t msgs = 0;
	unsigned b = 0;
	double t0 = wg_bench_now(), t;

	do {
		/* check the clock every 16 bursts only */
		for (int k = 0; k < 16; k++) {
			unsigned first = b * burst;

			if (impl == IMPL_SODIUM) {
				sodium_burst(p, first, burst, dir);
			} else if (wg_batch_aead_run(ba, dir, p->jobs + first, burst) != burst) {
				fail_forged("wg_batch_aead_run");
			}
			checksum += p->out[first + burst - 1][0];
			checksum ^= p->out[first][p->len - (dir == WG_BATCH_DECRYPT)];
			msgs += burst;
			b = (b + 1) % POOL_BURSTS;
		}
		t = wg_bench_now();
	} while (t - t0 < duration);
	return (double)msgs / (t - t0);
}

static void summarise(struct result *r, unsigned repeats)
{
	wg_bench_min_med_max(r->mpps, repeats, &r->min, &r->med, &r->max);
}

static double gbps(double mpps, uint32_t size)
{
	return mpps * 1e6 * size * 8 / 1e9;
}

static int parse_sizes(struct opts *o, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	o->nsizes = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v = strtoul(tok, &end, 10);

		if (*end || v < 1 || v > 65535 || o->nsizes == MAX_SIZES) {
			fprintf(stderr, "aead_bench: bad size `%s' (1..65535, at most %d sizes)\n", tok,
				MAX_SIZES);
			ret = -EINVAL;
			break;
		}
		o->sizes[o->nsizes++] = (uint32_t)v;
	}
	if (!ret && !o->nsizes)
		ret = -EINVAL;
	free(copy);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: aead_bench [--sizes 64,512,1420] [--repeats 7] [--duration 0.3]\n"
		   "                  [--burst 32] [--arch auto|avx512|avx2|sse] [--cpu N] [--json]\n");
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sizes", required_argument, NULL, 's' },
		{ "repeats", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "burst", required_argument, NULL, 'b' },
		{ "arch", required_argument, NULL, 'a' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .sizes = { 64, 512, 1420 }, .nsizes = 3, .repeats = 7,
			    .duration = 0.3, .burst = 32, .arch = "auto", .cpu = -1 };
	while ((c = getopt_long(argc, argv, "s:r:d:b:a:c:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_sizes(o, optarg))
				return -EINVAL;
			break;
		case 'r':
			o->repeats = (unsigned)atoi(optarg);
			if (o->repeats < 1 || o->repeats > MAX_REPEATS) {
				fprintf(stderr, "aead_bench: --repeats 1..%d\n", MAX_REPEATS);
				return -EINVAL;
			}
			break;
		case 'd':
			o->duration = atof(optarg);
			if (!(o->duration > 0 && o->duration <= 60)) {
				fprintf(stderr, "aead_bench: --duration in (0, 60] seconds\n");
				return -EINVAL;
			}
			break;
		case 'b':
			o->burst = (unsigned)atoi(optarg);
			if (o->burst < 1 || o->burst > MAX_BURST) {
				fprintf(stderr, "aead_bench: --burst 1..%d\n", MAX_BURST);
				return -EINVAL;
			}
			break;
		case 'a':
			o->arch = optarg;
			break;
		case 'c':
			if (wg_bench_parse_cpu("aead_bench", optarg, &o->cpu))
				return -EINVAL;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static void print_table(const struct opts *o, const char *arch, struct result (*res)[2][N_IMPL])
{
	printf("aead_bench: arch %s, burst %u, %u repeats of %.2f s, cpu %d\n", arch, o->burst,
	       o->repeats, o->duration, o->cpu >= 0 ? o->cpu : sched_getcpu());
	printf("%5s  %-7s  %-10s  %8s %8s %8s  %7s %7s %7s  %6s\n", "size", "dir", "impl",
	       "Mpps min", "med", "max", "Gb/s mn", "med", "max", "x sod");
	for (unsigned s = 0; s < o->nsizes; s++) {
		for (int d = 0; d < 2; d++) {
			for (int i = 0; i < N_IMPL; i++) {
				const struct result *r = &res[s][d][i];

				printf("%5u  %-7s  %-10s  %8.3f %8.3f %8.3f  %7.2f %7.2f %7.2f  %6.2f\n",
				       o->sizes[s], dir_names[d], impl_names[i], r->min, r->med,
				       r->max, gbps(r->min, o->sizes[s]), gbps(r->med, o->sizes[s]),
				       gbps(r->max, o->sizes[s]),
				       r->med / res[s][d][IMPL_SODIUM].med);
			}
		}
	}
	printf("checksum %016llx\n", (unsigned long long)checksum);
}

static void print_json(const struct opts *o, const char *arch, struct result (*res)[2][N_IMPL])
{
	bool first = true;

	printf("{\n  \"arch\": \"%s\",\n  \"burst\": %u,\n  \"repeats\": %u,\n"
	       "  \"duration_s\": %.3f,\n  \"cpu\": %d,\n  \"checksum\": \"%016llx\",\n"
	       "  \"results\": [",
	       arch, o->burst, o->repeats, o->duration, o->cpu >= 0 ? o->cpu : sched_getcpu(),
	       (unsigned long long)checksum);
	for (unsigned s = 0; s < o->nsizes; s++) {
		for (int d = 0; d < 2; d++) {
			for (int i = 0; i < N_IMPL; i++) {
				const struct result *r = &res[s][d][i];

				printf("%s\n    {\"size\": %u, \"dir\": \"%s\", \"impl\": \"%s\", "
				       "\"mpps\": {\"min\": %.4f, \"median\": %.4f, \"max\": %.4f}, "
				       "\"gbps\": {\"min\": %.4f, \"median\": %.4f, \"max\": %.4f}, "
				       "\"ratio_vs_libsodium\": %.4f}",
				       first ? "" : ",", o->sizes[s], dir_names[d], impl_names[i],
				       r->min, r->med, r->max, gbps(r->min, o->sizes[s]),
				       gbps(r->med, o->sizes[s]), gbps(r->max, o->sizes[s]),
				       r->med / res[s][d][IMPL_SODIUM].med);
				first = false;
			}
		}
	}
	printf("\n  ]\n}\n");
}

int main(int argc, char **argv)
{
	struct wg_batch_aead *ba;
	struct result (*res)[2][N_IMPL];
	struct pool *pools;
	struct opts o;
	int ret;

	if (parse_opts(&o, argc, argv))
		return 2;
	if (o.cpu >= 0 && wg_bench_pin("aead_bench", o.cpu))
		return 1;
	if (sodium_init() < 0) {
		fprintf(stderr, "aead_bench: sodium_init failed\n");
		return 1;
	}
	ret = wg_batch_aead_create(&ba, o.arch);
	if (ret) {
		fprintf(stderr, "aead_bench: arch %s unavailable: %s\n", o.arch, strerror(-ret));
		return 1;
	}
	res = calloc(o.nsizes, sizeof(*res));
	pools = calloc(o.nsizes, sizeof(*pools));
	if (!res || !pools) {
		fprintf(stderr, "aead_bench: out of memory\n");
		return 1;
	}
	for (unsigned s = 0; s < o.nsizes; s++)
		pool_init(&pools[s], o.sizes[s], o.burst);

	for (unsigned r = 0; r < o.repeats; r++) {
		for (unsigned s = 0; s < o.nsizes; s++) {
			for (int d = 0; d < 2; d++) {
				for (int i = 0; i < N_IMPL; i++) {
					pool_jobs(&pools[s], i, d);
					res[s][d][i].mpps[r] = measure(ba, &pools[s], i, d, o.burst,
								       o.duration) / 1e6;
					if (i == IMPL_BATCH_1KEY && d == WG_BATCH_DECRYPT)
						pool_restore(&pools[s]);
				}
			}
		}
	}
	for (unsigned s = 0; s < o.nsizes; s++)
		for (int d = 0; d < 2; d++)
			for (int i = 0; i < N_IMPL; i++)
				summarise(&res[s][d][i], o.repeats);

	if (o.json)
		print_json(&o, wg_batch_aead_arch(ba), res);
	else
		print_table(&o, wg_batch_aead_arch(ba), res);

	for (unsigned s = 0; s < o.nsizes; s++)
		pool_free(&pools[s]);
	free(pools);
	free(res);
	wg_batch_aead_destroy(ba);
	return 0;
}
