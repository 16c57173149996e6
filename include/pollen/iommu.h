/* IOMMU contexts: one address space for DMA, backed by iommufd or a legacy VFIO container. */
#ifndef POLLEN_IOMMU_H
#define POLLEN_IOMMU_H

#include <stdint.h>

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
 * Return: the context, or NULL with errno set (ENOENT: neither /dev/iommu nor
 *         /dev/vfio/vfio exists; EACCES: no permission on them).
 */
struct pl_iommu *pl_iommu_open(enum pl_iommu_backend want);

/**
 * pl_iommu_close() - release the context. Devices opened on it must be closed first;
 * a context with open devices is left alone and reports the leak.
 */
void pl_iommu_close(struct pl_iommu *ctx);

/* The back end in use; PL_IOMMU_AUTO until a device has attached under AUTO. */
enum pl_iommu_backend pl_iommu_backend(const struct pl_iommu *ctx);
const char *pl_iommu_backend_name(enum pl_iommu_backend b);

/* The iommufd and IOAS (iommufd back end) or the container fd (VFIO), else -1. */
int pl_iommu_iommufd(const struct pl_iommu *ctx);
uint32_t pl_iommu_ioas_id(const struct pl_iommu *ctx);
int pl_iommu_container(const struct pl_iommu *ctx);

#endif
