/* What the mempool benchmarks share: the clock, the compiler barrier, the timed loop. */
#ifndef PL_BENCH_H
#define PL_BENCH_H

#include <time.h>

static double bench_secs = 0.5;	/* how long each case runs */

static inline double bench_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Keeps the compiler from folding a get into the put that follows it. */
#define bench_barrier(p) __asm__ volatile("" : : "r"(p) : "memory")

/*
 * Runs @body (one round trip of @burst objects) 1000 times to warm up, then for
 * bench_secs; yields ns per object. Written out at each call so that the burst is a
 * constant there, as it is in a driver's code.
 */
#define BENCH_NS(burst, body)                                                           \
	({                                                                              \
		unsigned long iters_ = 0;                                               \
		double t0_, t1_;                                                        \
		for (int w_ = 0; w_ < 1000; w_++) {                                     \
			body;                                                           \
		}                                                                       \
		t0_ = bench_now();                                                      \
		do {                                                                    \
			for (unsigned long i_ = 0; i_ < 4096; i_++) {                   \
				body;                                                   \
			}                                                               \
			iters_ += 4096;                                                 \
			t1_ = bench_now();                                              \
		} while (t1_ - t0_ < bench_secs);                                       \
		(t1_ - t0_) * 1e9 / ((double)iters_ * (burst));                         \
	})

#endif
