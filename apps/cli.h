/*
 * What the network tools share: signals, the packet pool, and counters one thread writes
 * while another reads (their command lines go through opts.h).
 */
#ifndef PL_APPS_CLI_H
#define PL_APPS_CLI_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollen/iommu.h>
#include <pollen/mempool.h>
#include <pollen/pkt.h>
#include <pollen/vfio.h>

/* A counter one thread alone writes: a relaxed store of the sum, for readers elsewhere. */
static inline void cli_count_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* Such a counter, read from another thread. */
static inline uint64_t cli_count_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* SIGINT and SIGTERM to @fn: the tools end their runs cleanly on either. */
static inline void cli_on_signals(void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/*
 * A packet pool for ports on @ctx, the first of them at @addr. The pool must be mapped
 * before pl_eth_open() takes it, but a context under AUTO picks its back end only when
 * the first device attaches, and a VFIO container has no IOMMU until a group joins: a
 * mapping before that is refused (ENXIO). So the port's device is held through VFIO
 * while the pool is made. The back end stays settled after, and the container keeps a
 * table of its mappings and makes them again when the port opens for real.
 * Return: the pool, or NULL (the library said why).
 */
static inline struct pl_mempool *cli_pkt_pool(struct pl_iommu *ctx, const char *addr,
					      const char *name, unsigned n, unsigned cache)
{
	struct pl_vfio_dev *dev = NULL;

	if (pl_iommu_backend(ctx) != PL_IOMMU_IOMMUFD && !(dev = pl_vfio_open(ctx, addr)))
		return NULL;
	struct pl_mempool *pool = pl_pkt_pool_create(ctx, name, n, 0, cache);
	pl_vfio_close(dev);
	return pool;
}

#endif
