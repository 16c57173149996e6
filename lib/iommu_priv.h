/* The IOMMU context's insides: its state, and the ops each back end fills. */
#ifndef PL_LIB_IOMMU_PRIV_H
#define PL_LIB_IOMMU_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <pollen/iommu.h>
#include <pollen/pci.h>

/*
 * The layers inside lib/, each calling only downwards:
 *
 *   vfio.c (devices), dma.c (DMA memory)
 *     -> iommu.c (the context: picks a back end, locks, checks arguments)
 *       -> ctx->ops: iommufd.c or vfio_container.c (the kernel's two interfaces)
 *         -> errors.c (what a failed call means to a person)
 */

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

/* A mapping the container made, kept so that a fresh IOMMU can be given it again. */
struct pl_container_map {
	void *va;
	uint64_t iova;
	size_t len;
};

/*
 * A mapping asked for before the context could make one (AUTO with no device yet, or a
 * container with no group): its IOVA is promised now, and the mapping made at it when a
 * device attaches (iommu.c).
 */
struct pl_deferred_map {
	void *va;
	uint64_t iova;
	size_t len;
};

/*
 * What a back end does for its context. open/close may run for both back ends at once
 * (AUTO, before the first device decides), and attach for the one the first device picks
 * before it is settled; the rest only for the settled one. All with ctx->lock held, but
 * open (the context is not shared yet).
 */
struct pl_iommu_ops {
	enum pl_iommu_backend backend;
	const char *node;	/* its device node under /dev, which AUTO looks for */
	int (*open)(struct pl_iommu *ctx);
	void (*close)(struct pl_iommu *ctx);
	/* Whether this back end's kernel object is open for @ctx. */
	bool (*is_open)(const struct pl_iommu *ctx);
	/* Takes the device into the context; returns its VFIO device fd. */
	int (*attach)(struct pl_iommu *ctx, const struct pl_pci_info *info, uint32_t *devid);
	void (*detach)(struct pl_iommu *ctx, const struct pl_pci_info *info, int fd);
	/* Whether mappings can be made now (a container needs a group first). */
	bool (*mappable)(const struct pl_iommu *ctx);
	int (*iova_ranges)(struct pl_iommu *ctx, struct pl_iova_range *out, int max);
	int (*map)(struct pl_iommu *ctx, void *va, size_t len, size_t align, uint64_t *iova);
	int (*map_fixed)(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova);
	/* A memfd mapped by file (pinned through it): -ENOTTY where the kernel cannot. */
	int (*map_file)(struct pl_iommu *ctx, int fd, size_t len, uint64_t *iova);
	int (*unmap)(struct pl_iommu *ctx, uint64_t iova, size_t len);
	/*
	 * The VFIO device ioctls (GET_INFO, GET_REGION_INFO, GET_IRQ_INFO, SET_IRQS, RESET)
	 * on a device fd from attach, as ioctl(2) returns: NULL for the kernel's. A device
	 * model in this process fills it (tests/models): its fd is a memfd holding the
	 * regions, so mmap, pread and pwrite take the path they take on a real device.
	 */
	int (*dev_ioctl)(struct pl_iommu *ctx, int fd, unsigned long req, void *arg);
};

extern const struct pl_iommu_ops pl_iommufd_ops, pl_container_ops;

struct pl_iommu {
	pthread_mutex_t lock;	/* control-plane calls may come from any thread */
	const struct pl_iommu_ops *ops;	/* NULL until the back end is chosen (AUTO) */
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
	/* every mapping made through it, sorted by IOVA, replayed when it regains an IOMMU */
	struct pl_container_map *maps;
	int nmaps;
	size_t maps_cap;

	/* mappings waiting for the first device, and the next IOVA to promise one */
	struct pl_deferred_map *deferred;
	int ndeferred;
	size_t deferred_cap;
	uint64_t defer_next;

	/* DMA regions, sorted by virtual address (dma.c) */
	struct pl_dma_region *regions;
	int nregions;
	size_t regions_cap;
	uint64_t regions_gone;	/* regions freed or unregistered: stales cached spans */
};

/*
 * iommu.c: a context on a back end the caller brings, settled from the start: the seam
 * the host-side device models (tests/models) plug in at. NULL with errno set.
 */
struct pl_iommu *pl_iommu_open_ops(const struct pl_iommu_ops *ops);

/*
 * iommu.c: a device into and out of the context through the back end's ops, with
 * ctx->lock held. Under AUTO the first attach that succeeds settles the back end, and
 * the first that gives the context an IOMMU makes the deferred mappings (a failure
 * there detaches the device again). Returns the VFIO device fd, or a negative errno.
 */
int pl_iommu_attach(struct pl_iommu *ctx, const struct pl_pci_info *info, uint32_t *devid);
void pl_iommu_detach(struct pl_iommu *ctx, const struct pl_pci_info *info, int fd);
/* iommu.c: a memfd mapped by file where the back end can; -ENOTTY where not */
int pl_iommu_map_file(struct pl_iommu *ctx, int fd, size_t len, uint64_t *iova);

/* iommufd.c: the calls only the iommufd back end has (extra IOASes, options) */
int pl_iommufd_ioas_alloc(struct pl_iommu *ctx, uint32_t *id);
int pl_iommufd_destroy(struct pl_iommu *ctx, uint32_t id);
int pl_iommufd_copy(struct pl_iommu *ctx, uint32_t dst, uint64_t src_iova, size_t len,
		    uint64_t *dst_iova);
int pl_iommufd_ioas_unmap(struct pl_iommu *ctx, uint32_t ioas, uint64_t iova, size_t len);
int pl_iommufd_huge_pages(struct pl_iommu *ctx, int set);

#endif
