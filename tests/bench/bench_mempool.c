/* pollen-bench-mempool: ns per object for pool get/put and ring enqueue/dequeue. */
#define _GNU_SOURCE
#include <pollen/mempool.h>
#include <pollen/ring.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/*
 * Measured the way DPDK's figures for this project were: in a loop, get N objects and put
 * the same N back (or enqueue and dequeue them), one thread (or two, each with its own
 * loop on the shared pool or ring), objects of 2 KiB.
 */
#define OBJ_SIZE 2048
#define POOL_N 16384

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % CPU_SETSIZE, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

enum what { POOL_CACHE, POOL_EXPLICIT, POOL_RING, RING };

struct job {
	enum what what;
	struct pl_mempool *mp;
	struct pl_ring *ring;
	unsigned burst;
	int cpu;
	pthread_barrier_t *start;
	double ns;	/* out: per object */
};

static void *run(void *arg)
{
	struct job *j = arg;
	void *objs[64];
	struct pl_mempool *mp = j->mp;
	struct pl_ring *r = j->ring;
	struct pl_mempool_cache *ec = NULL;

	pin(j->cpu);
	if (j->what == POOL_EXPLICIT)
		ec = pl_mempool_cache_create(mp, 256);
	if (j->start)
		pthread_barrier_wait(j->start);
	switch (j->what * 100 + j->burst) {
	case POOL_CACHE * 100 + 1:
		j->ns = BENCH_NS(1, pl_mempool_get(mp, objs); bench_barrier(objs);
				 pl_mempool_put(mp, objs[0]));
		break;
	case POOL_CACHE * 100 + 32:
		j->ns = BENCH_NS(32, pl_mempool_get_bulk(mp, objs, 32); bench_barrier(objs);
				 pl_mempool_put_bulk(mp, objs, 32));
		break;
	case POOL_EXPLICIT * 100 + 32:
		j->ns = BENCH_NS(32, pl_mempool_cache_get_bulk(ec, objs, 32); bench_barrier(objs);
				 pl_mempool_cache_put_bulk(ec, objs, 32));
		break;
	case POOL_RING * 100 + 1:
		j->ns = BENCH_NS(1, pl_mempool_ring_get_bulk(mp, objs, 1); bench_barrier(objs);
				 pl_mempool_ring_put_bulk(mp, objs, 1));
		break;
	case POOL_RING * 100 + 32:
		j->ns = BENCH_NS(32, pl_mempool_ring_get_bulk(mp, objs, 32); bench_barrier(objs);
				 pl_mempool_ring_put_bulk(mp, objs, 32));
		break;
	case RING * 100 + 32:
		j->ns = BENCH_NS(32, pl_ring_enqueue_bulk(r, objs, 32); bench_barrier(objs);
				 pl_ring_dequeue_bulk(r, objs, 32));
		break;
	default:
		fprintf(stderr, "pollen-bench-mempool: no loop for case %d/%u\n", j->what, j->burst);
		exit(1);
	}
	pl_mempool_cache_free(ec);
	return NULL;
}

/* Runs @threads copies of @proto at once; returns the mean ns per object per thread. */
static double measure(struct job proto, int threads)
{
	pthread_t t[2];
	struct job j[2];
	pthread_barrier_t start;

	pthread_barrier_init(&start, NULL, threads);
	for (int i = 0; i < threads; i++) {
		j[i] = proto;
		j[i].cpu = i;
		j[i].start = &start;
		pthread_create(&t[i], NULL, run, &j[i]);
	}
	double sum = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		sum += j[i].ns;
	}
	pthread_barrier_destroy(&start);
	return sum / threads;
}

static struct pl_mempool *pool(unsigned cache)
{
	struct pl_mempool_params p = {
		.name = cache ? "bench-cache" : "bench", .n = POOL_N, .obj_size = OBJ_SIZE,
		.cache_size = cache,
	};
	struct pl_mempool *mp = pl_mempool_create(NULL, &p);

	if (!mp) {
		fprintf(stderr, "pollen-bench-mempool: no pool of %d x %d bytes: %s\n", POOL_N,
			OBJ_SIZE, strerror(errno));
		exit(1);
	}
	return mp;
}

int main(int argc, char **argv)
{
	int c, max_threads = 2;

	while ((c = getopt(argc, argv, "t:T:h")) != -1) {
		switch (c) {
		case 't':
			bench_secs = atof(optarg);
			break;
		case 'T':
			max_threads = atoi(optarg) > 1 ? 2 : 1;
			break;
		default:
			fprintf(stderr, "usage: pollen-bench-mempool [-t seconds-per-case] [-T 1|2]\n"
				"ns per object: get then put (or enqueue then dequeue) of the same\n"
				"objects in a loop, objects of %d bytes, %d in the pool\n", OBJ_SIZE,
				POOL_N);
			return c == 'h' ? 0 : 2;
		}
	}
	struct pl_mempool *cached = pool(256), *bare = pool(0);
	struct pl_ring *spsc = pl_ring_create("spsc", 1024, PL_RING_SP_ENQ | PL_RING_SC_DEQ);
	struct pl_ring *mpmc = pl_ring_create("mpmc", 1024, 0);

	printf("pollen-bench-mempool: ns per object (lower is better), %d-byte objects\n\n",
	       OBJ_SIZE);
	printf("%-44s %10s %10s\n", "case", "1 thread", "2 threads");
	struct {
		const char *name;
		struct job job;
		bool two;	/* meaningful with two threads */
	} cases[] = {
		{ "mempool get+put, single, per-thread cache", { POOL_CACHE, cached, NULL, 1 }, true },
		{ "mempool get+put, bulk 32, per-thread cache", { POOL_CACHE, cached, NULL, 32 }, true },
		{ "mempool get+put, bulk 32, explicit cache", { POOL_EXPLICIT, cached, NULL, 32 }, true },
		{ "mempool get+put, single, no cache", { POOL_RING, bare, NULL, 1 }, true },
		{ "mempool get+put, bulk 32, no cache", { POOL_RING, bare, NULL, 32 }, true },
		{ "ring enqueue+dequeue, bulk 32, SPSC", { RING, NULL, spsc, 32 }, false },
		{ "ring enqueue+dequeue, bulk 32, MPMC", { RING, NULL, mpmc, 32 }, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double one = measure(cases[i].job, 1);
		printf("%-44s %10.2f", cases[i].name, one);
		if (max_threads > 1 && cases[i].two)
			printf(" %10.2f\n", measure(cases[i].job, 2));
		else
			printf(" %10s\n", "-");
		fflush(stdout);
	}
	printf("\n2 threads: each runs the same loop at once on the shared pool or ring (its own\n"
	       "cache where there is one); the figure is per object per thread.\n");
	pl_ring_free(spsc);
	pl_ring_free(mpmc);
	pl_mempool_free(cached);
	pl_mempool_free(bare);
	return 0;
}
