/*
 * What the benchmarks of tests/bench share: the clock they read and the
 * order they sort batch times in.  Header-only: each includes it once.
 */
#ifndef PVPCI_BENCH_TIME_H
#define PVPCI_BENCH_TIME_H

#include <time.h>

static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* For qsort of doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#endif
