/* The IOMMU context's insides, shared by its two back ends and the VFIO device code. */
#ifndef PL_LIB_IOMMU_PRIV_H
#define PL_LIB_IOMMU_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <pollen/iommu.h>
#include <pollen/pci.h>

#define PL_IOMMU_MAX_GROUPS 32

struct pl_vfio_group {
	int id;
	int fd;
	int refs;	/* devices open through this group */
};

struct pl_dma_region {
	char *va;
	size_t len;
	uint64_t iova;
	size_t page_size;
	int memfd;	/* -1 for MAP_HUGETLB, 4 KiB and registered memory */
	bool owned;	/* ours to munmap */
};

/*
 * What a back end does for its context once chosen. Callers hold ctx->lock and have
 * checked pl_iommu_mappable().
 */
struct pl_iommu_ops {
	int (*iova_ranges)(struct pl_iommu *ctx, struct pl_iova_range *out, int max);
	int (*map)(struct pl_iommu *ctx, void *va, size_t len, size_t align, uint64_t *iova);
	int (*map_fixed)(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova);
	int (*unmap)(struct pl_iommu *ctx, uint64_t iova, size_t len);
};

extern const struct pl_iommu_ops pl_iommufd_ops, pl_container_ops;

struct pl_iommu {
	pthread_mutex_t lock;	/* control-plane calls may come from any thread */
	enum pl_iommu_backend backend;
	const struct pl_iommu_ops *ops;	/* NULL until the back end is chosen */
	int ndevs;
	struct pl_vfio_dev *devs;	/* open devices, to refuse a second open */

	/* iommufd */
	int iommufd;
	uint32_t ioas_id;
	uint32_t extra_ioas[8];	/* from pl_iommu_ioas_alloc, 0 when free */
	bool no_map_file;	/* IOMMU_IOAS_MAP_FILE answered ENOTTY (before 6.13) */

	/* legacy container: the IOMMU type is set when the first group joins */
	int container;
	bool container_ready;
	struct pl_vfio_group groups[PL_IOMMU_MAX_GROUPS];
	int ngroups;
	/* DMA regions, sorted by virtual address (dma.c) */
	struct pl_dma_region *regions;
	int nregions;
	size_t regions_cap;

	/* IOVAs handed out in the container, sorted by start */
	struct pl_iova_range *used;
	int nused;
	size_t used_cap;
};

/* iommufd.c */
int pl_iommufd_ctx_open(struct pl_iommu *ctx);
void pl_iommufd_ctx_close(struct pl_iommu *ctx);
int pl_iommufd_dev_attach(struct pl_iommu *ctx, const struct pl_pci_info *info, uint32_t *devid);
void pl_iommufd_dev_detach(int devfd);

int pl_iommufd_ioas_alloc(struct pl_iommu *ctx, uint32_t *id);
int pl_iommufd_destroy(struct pl_iommu *ctx, uint32_t id);
int pl_iommufd_copy(struct pl_iommu *ctx, uint32_t dst, uint64_t src_iova, size_t len,
		    uint64_t *dst_iova);
int pl_iommufd_ioas_unmap(struct pl_iommu *ctx, uint32_t ioas, uint64_t iova, size_t len);
int pl_iommufd_huge_pages(struct pl_iommu *ctx, int set);
int pl_iommufd_map_file(struct pl_iommu *ctx, int fd, size_t len, uint64_t *iova);

/* vfio_container.c */
int pl_container_ctx_open(struct pl_iommu *ctx);
void pl_container_ctx_close(struct pl_iommu *ctx);
int pl_container_dev_attach(struct pl_iommu *ctx, const struct pl_pci_info *info);
void pl_container_dev_detach(struct pl_iommu *ctx, int group_id);
int pl_container_map_at(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova);

/* True once mappings can be made: iommufd, or a container with a group in it. */
/* Settles the back end: the context uses @b, through its ops, from now on. */
static inline void pl_iommu_set_backend(struct pl_iommu *ctx, enum pl_iommu_backend b)
{
	ctx->backend = b;
	ctx->ops = b == PL_IOMMU_IOMMUFD ? &pl_iommufd_ops : &pl_container_ops;
}

static inline bool pl_iommu_mappable(const struct pl_iommu *ctx)
{
	return ctx->backend == PL_IOMMU_IOMMUFD ||
	       (ctx->backend == PL_IOMMU_VFIO && ctx->container_ready);
}

/* dma.c: releases every region still mapped when the context closes */
void pl_dma_release_all(struct pl_iommu *ctx);
/* dma.c: maps every region again at its IOVA when a container gets its IOMMU back */
int pl_dma_replay(struct pl_iommu *ctx);

/* Explains a mapping failure (memlock, IOVA space) in terms a person can act on. */
void pl_log_map_error(const char *call, size_t len, int err);

/* Explains an open() failure on a device node in terms a person can act on. */
void pl_log_open_error(const char *what, const char *path, int err);

#endif
