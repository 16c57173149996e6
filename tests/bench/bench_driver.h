/*
 * What the driver benchmarks on the host models share: a clock read around the driver's
 * calls only (its own cost measured, to be taken out), and rows of median, min and max
 * over several runs, so that a change's effect is read beside the runs' spread.
 */
#ifndef PL_BENCH_DRIVER_H
#define PL_BENCH_DRIVER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_RUNS 32

static inline uint64_t bench_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* What one timed span adds by reading the clock at its two ends: the cheapest of many. */
static inline double bench_clock_ns(void)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 1000; i++) {
		uint64_t t0 = bench_ns(), t1 = bench_ns(), t2 = bench_ns();
		uint64_t d = (t2 - t0) / 2;	/* one read, within a span */

		(void)t1;
		if (d < best)
			best = d;
	}
	return (double)best;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static inline double bench_median(const double *v, unsigned n)
{
	double s[BENCH_MAX_RUNS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), bench_cmp);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static inline void bench_row(const char *what, const double *v, unsigned n, const char *unit)
{
	double lo = v[0], hi = v[0];

	for (unsigned i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	printf("  %-28s median %7.1f  min %7.1f  max %7.1f  %s\n", what, bench_median(v, n), lo,
	       hi, unit);
}

/* "cpu: MODEL", from /proc/cpuinfo: the numbers mean something only beside it. */
static inline const char *bench_cpu(void)
{
	static char line[256] = "cpu: unknown";
	char buf[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "model name", 10) && strchr(buf, ':')) {
			snprintf(line, sizeof(line), "cpu:%s", strchr(buf, ':') + 1);
			line[strcspn(line, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	return line;
}

#endif
