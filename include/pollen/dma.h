/* DMA memory: hugepage regions mapped once into an IOMMU context for all its devices. */
#ifndef POLLEN_DMA_H
#define POLLEN_DMA_H

#include <stddef.h>
#include <stdint.h>

#include <pollen/compiler.h>
#include <pollen/iommu.h>

PL_BEGIN_DECLS

/* What pl_dma_iova() answers for an address outside every region. */
#define PL_IOVA_BAD UINT64_MAX

enum pl_dma_flags {
	PL_DMA_HUGE_2M = 0,		/* the default: 2 MiB hugepages */
	PL_DMA_HUGE_1G = 1 << 0,	/* 1 GiB hugepages */
	PL_DMA_4K = 1 << 1,		/* ordinary 4 KiB pages, only when asked */
	PL_DMA_HUGETLBFS = 1 << 2,	/* only from a file on a hugetlbfs mount */
	PL_DMA_ANON = 1 << 3,		/* only from anonymous MAP_HUGETLB memory */
};

/**
 * pl_dma_alloc() - allocate zeroed, pinned memory that every device on @ctx can reach.
 * @len: rounded up to the page size (2 MiB unless @flags say otherwise).
 * @iova: set to the IOVA of the first byte; the region is contiguous in IOVA space.
 * The memory comes from a hugetlb memfd (MFD_HUGETLB), else a file on a hugetlbfs mount,
 * else MAP_HUGETLB; PL_DMA_HUGETLBFS or PL_DMA_ANON insist on one source. Made before
 * any device is open, it is mapped when the first opens (pl_iommu_map()).
 * Return: the virtual address, or NULL with errno set: ENOMEM when hugepages or the
 *         memlock limit run short (the log says which and how to fix it), ENOSPC when
 *         the IOVA space is exhausted, ENOENT when PL_DMA_HUGETLBFS finds no hugetlbfs
 *         mount.
 */
PL_API void *pl_dma_alloc(struct pl_iommu *ctx, size_t len, unsigned flags, uint64_t *iova);

/* Unmaps and frees memory from pl_dma_alloc(); NULL is ignored. */
PL_API void pl_dma_free(struct pl_iommu *ctx, void *va);

/**
 * pl_dma_register() - map the caller's own memory for DMA (like spdk_mem_register).
 * @va, @len: page aligned; the memory stays the caller's to free after unregistering.
 * Return: 0 with *@iova set, or a negative errno.
 */
PL_API int pl_dma_register(struct pl_iommu *ctx, void *va, size_t len, uint64_t *iova);
PL_API int pl_dma_unregister(struct pl_iommu *ctx, void *va);

/**
 * pl_dma_iova() - the IOVA of any byte inside a region from pl_dma_alloc() or
 * pl_dma_register(), by arithmetic on the region table (no system call).
 * Return: the IOVA, or PL_IOVA_BAD when @va lies in no region.
 */
PL_API uint64_t pl_dma_iova(struct pl_iommu *ctx, const void *va);

/** struct pl_dma_span - a whole DMA region: contiguous in both VA and IOVA. */
struct pl_dma_span {
	void *va;
	size_t len;
	uint64_t iova;
	/*
	 * The context's count of regions taken away, and @gen its value at the lookup: a
	 * cache of this span is still good while *@gen_now == @gen (a relaxed load).
	 */
	const uint64_t *gen_now;
	uint64_t gen;
};

/**
 * pl_dma_lookup() - the region holding @va, for a caller that translates many addresses
 * in it by arithmetic (a driver's buffer cache) and comes back only on a miss, or once
 * a region has been freed (see struct pl_dma_span).
 * Return: 0 with @out set; -ENOENT when @va lies in no region.
 */
PL_API int pl_dma_lookup(struct pl_iommu *ctx, const void *va, struct pl_dma_span *out);

/**
 * pl_hugepage_alloc() - hugepage memory with no IOMMU mapping (yet): for pools built
 * before a device is open, and hosts with no IOMMU at all. Same sources and @flags as
 * pl_dma_alloc(); map it later with pl_dma_register().
 * @alloc_len: set to @len rounded up to the page size.
 * Return: the memory (zeroed), or NULL with errno set (ENOMEM: too few hugepages, logged).
 */
PL_API void *pl_hugepage_alloc(size_t len, unsigned flags, size_t *alloc_len);
PL_API void pl_hugepage_free(void *va, size_t alloc_len);

/**
 * pl_dma_hugepages() - the kernel's pool of @page_size hugepages (2 MiB or 1 GiB).
 * Return: 0 with the counts set; -ENOENT when the kernel has no pool of that size.
 */
PL_API int pl_dma_hugepages(size_t page_size, long *total, long *free_pages);

/**
 * pl_dma_reserve_hugepages() - set the pool of @page_size hugepages to @n (root only).
 * Return: how many the kernel reserved, which can fall short of @n when memory is
 *         fragmented, or a negative errno.
 */
PL_API long pl_dma_reserve_hugepages(size_t page_size, long n);

PL_END_DECLS

#endif
