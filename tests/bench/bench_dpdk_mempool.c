/*
 * pollen-bench-dpdk-mempool: the same cases as pollen-bench-mempool, on DPDK's
 * rte_mempool and rte_ring, for a side-by-side run (tests/bench/compare-mempool). Built
 * only where libdpdk-dev is installed. One thread: the main lcore.
 */
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_version.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define OBJ_SIZE 2048
#define POOL_N 16384

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "-l", "0", "--no-huge", "--no-pci", "-m", "256",
			"--log-level=1", "--no-telemetry" };
	void *objs[64];

	if (argc > 2 && !strcmp(argv[1], "-t"))
		bench_secs = atof(argv[2]);
	if (rte_eal_init(sizeof(eal) / sizeof(eal[0]), eal) < 0) {
		fprintf(stderr, "pollen-bench-dpdk-mempool: rte_eal_init failed\n");
		return 1;
	}
	struct rte_mempool *cached = rte_mempool_create("c", POOL_N, OBJ_SIZE, 256, 0, NULL, NULL,
							 NULL, NULL, SOCKET_ID_ANY, 0);
	struct rte_mempool *bare = rte_mempool_create("b", POOL_N, OBJ_SIZE, 0, 0, NULL, NULL,
						       NULL, NULL, SOCKET_ID_ANY, 0);
	struct rte_ring *spsc = rte_ring_create("s", 1024, SOCKET_ID_ANY,
						RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_ring *mpmc = rte_ring_create("m", 1024, SOCKET_ID_ANY, 0);
	if (!cached || !bare || !spsc || !mpmc) {
		fprintf(stderr, "pollen-bench-dpdk-mempool: pool or ring creation failed\n");
		return 1;
	}

	printf("pollen-bench-dpdk-mempool: DPDK %s, ns per object, %d-byte objects\n\n",
	       rte_version(), OBJ_SIZE);
	printf("%-44s %10s\n", "case", "1 thread");
	printf("%-44s %10.2f\n", "mempool get+put, single, per-thread cache",
	       BENCH_NS(1, rte_mempool_get(cached, objs); bench_barrier(objs);
		    rte_mempool_put(cached, objs[0])));
	printf("%-44s %10.2f\n", "mempool get+put, bulk 32, per-thread cache",
	       BENCH_NS(32, rte_mempool_get_bulk(cached, objs, 32); bench_barrier(objs);
		    rte_mempool_put_bulk(cached, objs, 32)));
	printf("%-44s %10s\n", "mempool get+put, bulk 32, explicit cache", "-");
	printf("%-44s %10.2f\n", "mempool get+put, single, no cache",
	       BENCH_NS(1, rte_mempool_get(bare, objs); bench_barrier(objs); rte_mempool_put(bare, objs[0])));
	printf("%-44s %10.2f\n", "mempool get+put, bulk 32, no cache",
	       BENCH_NS(32, rte_mempool_get_bulk(bare, objs, 32); bench_barrier(objs);
		    rte_mempool_put_bulk(bare, objs, 32)));
	printf("%-44s %10.2f\n", "ring enqueue+dequeue, bulk 32, SPSC",
	       BENCH_NS(32, rte_ring_enqueue_bulk(spsc, objs, 32, NULL); bench_barrier(objs);
		    rte_ring_dequeue_bulk(spsc, objs, 32, NULL)));
	printf("%-44s %10.2f\n", "ring enqueue+dequeue, bulk 32, MPMC",
	       BENCH_NS(32, rte_ring_enqueue_bulk(mpmc, objs, 32, NULL); bench_barrier(objs);
		    rte_ring_dequeue_bulk(mpmc, objs, 32, NULL)));
	rte_eal_cleanup();
	return 0;
}
