/* IOMMU contexts: one address space for DMA, backed by iommufd or a legacy VFIO container. */
#ifndef POLLEN_IOMMU_H
#define POLLEN_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollen/compiler.h>

PL_BEGIN_DECLS

enum pl_iommu_backend {
	PL_IOMMU_AUTO = 0,	/* iommufd when /dev/iommu and the device's cdev exist */
	PL_IOMMU_IOMMUFD,	/* /dev/iommu IOAS, devices through /dev/vfio/devices/vfioN */
	PL_IOMMU_VFIO,		/* /dev/vfio/vfio type1 container, devices through groups */
};

struct pl_iommu;

/**
 * pl_iommu_open() - open an IOMMU context that devices and DMA memory share.
 * @want: a back end, or PL_IOMMU_AUTO. POLLEN_IOMMU=iommufd|vfio in the environment
 *        overrides AUTO. With AUTO the choice is made when the first device attaches.
 * A context belongs to the process that opened it: a child after fork() shares its
 * descriptors and mappings with the parent and must not use it.
 * Return: the context, or NULL with errno set (ENOENT: neither /dev/iommu nor
 *         /dev/vfio/vfio exists; EACCES: no permission on them; under AUTO, the last
 *         refusal when every node that exists refused).
 */
PL_API struct pl_iommu *pl_iommu_open(enum pl_iommu_backend want);

/**
 * pl_iommu_close() - release the context (NULL is ignored).
 * Return: 0; -EBUSY (logged) while devices are open on it or DMA memory is mapped through
 *         it (pl_dma_alloc, pl_dma_register, mapped pools): close and free those first.
 *         The context is then left as it was, still usable.
 */
PL_API int pl_iommu_close(struct pl_iommu *ctx);

/* The back end in use; PL_IOMMU_AUTO until a device has attached under AUTO. */
PL_API enum pl_iommu_backend pl_iommu_backend(const struct pl_iommu *ctx);
PL_API const char *pl_iommu_backend_name(enum pl_iommu_backend b);

/* The iommufd and IOAS (iommufd back end) or the container fd (VFIO), else -1. */
PL_API int pl_iommu_iommufd(const struct pl_iommu *ctx);
PL_API uint32_t pl_iommu_ioas_id(const struct pl_iommu *ctx);
PL_API int pl_iommu_container(const struct pl_iommu *ctx);

/* An inclusive range of I/O virtual addresses the IOMMU can translate. */
struct pl_iova_range {
	uint64_t start;
	uint64_t last;
};

/**
 * pl_iommu_iova_ranges() - the IOVA ranges usable for DMA, as the kernel reports them
 * (IOMMU_IOAS_IOVA_RANGES, or the type1 container's IOVA-range capability). They
 * narrow as devices attach (reserved regions such as the MSI window are cut out).
 * @out: filled with up to @max ranges, in ascending order.
 * Return: the number of ranges (which may exceed @max), or a negative errno; -ENXIO
 *         when the back end is not settled yet (AUTO, or a container with no device).
 */
PL_API int pl_iommu_iova_ranges(struct pl_iommu *ctx, struct pl_iova_range *out, int max);

/**
 * pl_iommu_map() - make [@va, @va + @len) reachable by every device on @ctx, read and
 * write. The IOVA is chosen by the kernel (iommufd) or by Pollen inside the reported
 * ranges (container), aligned to @align (a power of two, at least 4 KiB).
 * @va, @len: page aligned. The pages are pinned and count against RLIMIT_MEMLOCK. Keep
 *        them mapped in the process until pl_iommu_unmap(): the legacy container loses
 *        its mappings when its last device closes, and maps them again from the same
 *        VAs when the next one opens.
 * Before a device has given the context an IOMMU (AUTO, where the first device picks
 * the back end, or a container with no device yet) the IOVA is promised, from 4 GiB up,
 * and the mapping made there when the first device opens; that open fails if it cannot
 * be (the log says which memory).
 * Return: 0 with *@iova set, or a negative errno: -ENOMEM when the memlock limit is too
 *         low, -ENOSPC when no IOVA space is left.
 */
PL_API int pl_iommu_map(struct pl_iommu *ctx, void *va, size_t len, size_t align, uint64_t *iova);

/* Undoes pl_iommu_map() for exactly that IOVA and length. */
PL_API int pl_iommu_unmap(struct pl_iommu *ctx, uint64_t iova, size_t len);

/**
 * pl_iommu_map_fixed() - like pl_iommu_map(), at an IOVA the caller chooses
 * (IOMMU_IOAS_MAP_FIXED_IOVA, or the container's MAP_DMA at that address).
 * Return: 0; -EEXIST when it overlaps a mapping; -ERANGE when outside the IOVA ranges.
 */
PL_API int pl_iommu_map_fixed(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova);

/*
 * More address spaces on the same /dev/iommu (iommufd back end only; -EOPNOTSUPP
 * otherwise). The context's own IOAS is pl_iommu_ioas_id(); extra ones are destroyed
 * with the context if the caller does not destroy them first.
 */
PL_API int pl_iommu_ioas_alloc(struct pl_iommu *ctx, uint32_t *ioas_id);
PL_API int pl_iommu_ioas_destroy(struct pl_iommu *ctx, uint32_t ioas_id);

/**
 * pl_iommu_ioas_copy() - map the pages behind [@src_iova, +@len) of the context's IOAS
 * into IOAS @dst_ioas as well (IOMMU_IOAS_COPY: no second pin, no VA needed).
 * @dst_iova: set to the IOVA the kernel chose in @dst_ioas.
 */
PL_API int pl_iommu_ioas_copy(struct pl_iommu *ctx, uint32_t dst_ioas, uint64_t src_iova,
			      size_t len, uint64_t *dst_iova);

/* Unmaps [@iova, +@len) from any IOAS of the context; -ENOENT when nothing is there. */
PL_API int pl_iommu_ioas_unmap(struct pl_iommu *ctx, uint32_t ioas_id, uint64_t iova, size_t len);

/**
 * pl_iommu_huge_pages() - IOMMU_OPTION HUGE_PAGES on the context's IOAS: whether the
 * IOMMU may use large pages for it. @set: 0 or 1 to set (only before devices attach),
 * -1 to read. Return: the value now in force, or a negative errno.
 */
PL_API int pl_iommu_huge_pages(struct pl_iommu *ctx, int set);

/** struct pl_iommu_hw_info - what IOMMU_GET_HW_INFO says of the IOMMU behind a device. */
struct pl_iommu_hw_info {
	uint32_t type;			/* IOMMU_HW_INFO_TYPE_*: 1 is Intel VT-d */
	uint64_t capabilities;		/* IOMMU_HW_CAP_*: bit 0 dirty tracking */
	uint64_t vtd_cap, vtd_ecap;	/* VT-d capability registers, raw */
	/* decoded from the VT-d registers (type 1) */
	unsigned addr_width;		/* MGAW: bits of guest address it translates */
	unsigned levels_mask;		/* SAGAW: bit 1 3-level (39-bit), 2 4-level, 3 5-level */
	bool page_2m, page_1g;		/* second-level large pages (SLLPS) */
	bool coherent;			/* page walks snoop caches (ECAP.C) */
	bool snoop_control;		/* can force snooping of DMA (ECAP.SC) */
	bool intr_remap;		/* interrupt remapping (ECAP.IR) */
	bool pass_through;		/* ECAP.PT */
	bool caching_mode;		/* CAP.CM: invalidations needed for non-present entries */
	bool nested;			/* ECAP.NEST */
	bool scalable_mode;		/* ECAP.SMTS */
	bool pasid;			/* ECAP.PASID */
	bool dirty_tracking;		/* from capabilities */
};

/* Decodes the VT-d capability and extended capability registers into @out. */
PL_API void pl_iommu_vtd_decode(uint64_t cap, uint64_t ecap, struct pl_iommu_hw_info *out);

PL_END_DECLS

#endif
