/*
 * What the network tools share: command-line numbers, the IOMMU back end, bad arguments,
 * signals, the packet pool, and counters one thread writes while another reads.
 */
#ifndef PL_APPS_CLI_H
#define PL_APPS_CLI_H

#include <errno.h>
#include <signal.h>
#include <getopt.h>
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

/* A whole number from @min to @max (decimal, 0x hex or 0 octal), nothing after it. */
static inline int cli_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static inline int cli_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (cli_u64(s, min, max, &v))
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* --iommu auto|iommufd|vfio (legacy: vfio). */
static inline int cli_iommu(const char *s, enum pl_iommu_backend *out)
{
	if (!strcmp(s, "iommufd"))
		*out = PL_IOMMU_IOMMUFD;
	else if (!strcmp(s, "vfio") || !strcmp(s, "legacy"))
		*out = PL_IOMMU_VFIO;
	else if (!strcmp(s, "auto"))
		*out = PL_IOMMU_AUTO;
	else
		return -1;
	return 0;
}

/* SIGINT and SIGTERM to @fn: the tools end their runs cleanly on either. */
static inline void cli_on_signals(void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* The line for an option whose value was refused. */
static inline void cli_bad_arg(const char *prog, int opt, const char *long_name)
{
	if (opt < 256)
		fprintf(stderr, "%s: -%c %s: see --help\n", prog, opt, optarg);
	else
		fprintf(stderr, "%s: --%s %s: see --help\n", prog, long_name, optarg);
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
