/* SPDX-License-Identifier: MIT */
/*
 * What the one-core benchmarks (aead_bench, peer_scale_bench,
 * handshake_bench) share: a monotonic clock in seconds, min/median/max of
 * repeats, pinning to a CPU and its option, allocation that exits on failure.
 */
#ifndef WG_BENCH_UTIL_H
#define WG_BENCH_UTIL_H

#include <stddef.h>

/* CLOCK_MONOTONIC in seconds */
double wg_bench_now(void);
/* min, median (mean of the middle two for even n) and max of v[0..n), n >= 1; v is not changed */
void wg_bench_min_med_max(const double *v, unsigned n, double *min, double *med, double *max);
/* pin the calling thread to cpu; 0 or -errno (the reason printed, prefixed with prog) */
int wg_bench_pin(const char *prog, int cpu);
/* --cpu's value into *cpu: 0, or -EINVAL with a message */
int wg_bench_parse_cpu(const char *prog, const char *arg, int *cpu);
/* calloc that never returns NULL (prints and exits 1); n or size 0 still gives a pointer */
void *wg_bench_xcalloc(const char *prog, size_t n, size_t size);

#endif
