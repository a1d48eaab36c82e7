/* SPDX-License-Identifier: MIT */
/* Helpers shared by the one-core benchmarks (see bench_util.h). */
#include "bench/bench_util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SAMPLES 1024u

double wg_bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void wg_bench_min_med_max(const double *v, unsigned n, double *min, double *med, double *max)
{
	double s[MAX_SAMPLES];

	if (n > MAX_SAMPLES)
		n = MAX_SAMPLES;
	memcpy(s, v, n * sizeof(double));
	qsort(s, n, sizeof(double), cmp_double);
	*min = s[0];
	*max = s[n - 1];
	*med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int wg_bench_pin(const char *prog, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "%s: sched_setaffinity: %s\n", prog, strerror(errno));
		return -errno;
	}
	return 0;
}

int wg_bench_parse_cpu(const char *prog, const char *arg, int *cpu)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < 0 || v >= CPU_SETSIZE) {
		fprintf(stderr, "%s: bad --cpu `%s'\n", prog, arg);
		return -EINVAL;
	}
	*cpu = (int)v;
	return 0;
}

void *wg_bench_xcalloc(const char *prog, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(1);
	}
	return p;
}
