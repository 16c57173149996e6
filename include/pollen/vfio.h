/* VFIO devices: a PCI function opened by address on an IOMMU context. */
#ifndef POLLEN_VFIO_H
#define POLLEN_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <pollen/compiler.h>
#include <pollen/iommu.h>
#include <pollen/pci.h>

PL_BEGIN_DECLS

struct pl_vfio_dev;

/**
 * pl_vfio_open() - take a device bound to vfio-pci and attach it to @ctx.
 * @ctx: the IOMMU context; its back end decides cdev (BIND_IOMMUFD and
 *       ATTACH_IOMMUFD_PT) or group (SET_CONTAINER and GET_DEVICE_FD).
 * @addr: "DDDD:BB:DD.F" or "BB:DD.F".
 * Return: the device, or NULL with errno set: EINVAL for a malformed address, ENODEV
 *         for no such device or one not bound to vfio-pci, EBUSY when another process
 *         holds it, EACCES without permission on its device node, EPERM when the IOMMU
 *         cannot isolate it (no interrupt remapping).
 */
PL_API struct pl_vfio_dev *pl_vfio_open(struct pl_iommu *ctx, const char *addr);

/* Detaches and releases the device; NULL is ignored. */
PL_API void pl_vfio_close(struct pl_vfio_dev *dev);

PL_API const char *pl_vfio_addr(const struct pl_vfio_dev *dev);
PL_API const struct pl_pci_info *pl_vfio_pci_info(const struct pl_vfio_dev *dev);
PL_API int pl_vfio_fd(const struct pl_vfio_dev *dev);
/* The iommufd device ID from BIND_IOMMUFD; 0 under the legacy back end. */
PL_API uint32_t pl_vfio_devid(const struct pl_vfio_dev *dev);
/* Regions and interrupt indexes as VFIO_DEVICE_GET_INFO reports them. */
PL_API unsigned pl_vfio_num_regions(const struct pl_vfio_dev *dev);
PL_API unsigned pl_vfio_num_irqs(const struct pl_vfio_dev *dev);

/**
 * pl_vfio_iommu_info() - IOMMU_GET_HW_INFO for the IOMMU behind @dev, decoded.
 * Return: 0; -EOPNOTSUPP under the legacy back end (it has no such query).
 */
PL_API int pl_vfio_iommu_info(struct pl_vfio_dev *dev, struct pl_iommu_hw_info *out);

/**
 * pl_vfio_cfg_read() - read PCI configuration space through the VFIO config region.
 * Return: 0, or a negative errno when fewer than @len bytes could be read.
 */
PL_API int pl_vfio_cfg_read(struct pl_vfio_dev *dev, void *buf, size_t len, off_t off);
PL_API int pl_vfio_cfg_write(struct pl_vfio_dev *dev, const void *buf, size_t len, off_t off);

/** struct pl_vfio_region - one VFIO region (BARs 0-5, ROM, config, VGA). */
struct pl_vfio_region {
	unsigned index;
	uint64_t size;		/* 0: the device does not implement it */
	uint64_t offset;	/* within the device fd, for pread/pwrite */
	bool readable, writable, mappable;
	bool sparse;		/* only parts can be mmapped (e.g. around the MSI-X table) */
};

/* Region indexes as vfio-pci numbers them. */
enum { PL_VFIO_BAR0 = 0, PL_VFIO_ROM = 6, PL_VFIO_CONFIG = 7 };

/**
 * pl_vfio_region_info() - what VFIO_DEVICE_GET_REGION_INFO says of region @index.
 * Return: 0, or a negative errno (-EINVAL for an index past the device's regions).
 */
PL_API int pl_vfio_region_info(struct pl_vfio_dev *dev, unsigned index, struct pl_vfio_region *out);

/**
 * pl_vfio_bar_map() - map memory BAR @bar into this process (once; later calls return
 * the same mapping). Parts a sparse BAR does not allow stay PROT_NONE.
 * @len: set to the BAR's size.
 * Return: the mapping, or NULL with errno set: ENODEV for an unimplemented BAR,
 *         ENOTSUP for one that cannot be mapped (I/O port BARs): use pl_vfio_bar_read().
 */
PL_API void *pl_vfio_bar_map(struct pl_vfio_dev *dev, unsigned bar, size_t *len);

/* Access a BAR through the device fd (any BAR, including I/O ports). 0 or -errno. */
PL_API int pl_vfio_bar_read(struct pl_vfio_dev *dev, unsigned bar, void *buf, size_t len,
			    off_t off);
PL_API int pl_vfio_bar_write(struct pl_vfio_dev *dev, unsigned bar, const void *buf, size_t len,
			     off_t off);

/**
 * pl_vfio_enable_dma() - turn on memory space decoding and bus mastering in the
 * COMMAND register, so the device answers its BARs and may start DMA.
 */
PL_API int pl_vfio_enable_dma(struct pl_vfio_dev *dev);
/*
 * pl_vfio_disable_dma() - turn bus mastering off: the device can no longer reach memory,
 * whatever it still holds. Drivers do it before freeing the memory it was given.
 */
PL_API int pl_vfio_disable_dma(struct pl_vfio_dev *dev);

/**
 * pl_vfio_reset() - VFIO_DEVICE_RESET (FLR, PM or bus reset, as the kernel finds).
 * Return: 0; -ENOTTY when the device offers no reset VFIO can use.
 */
PL_API int pl_vfio_reset(struct pl_vfio_dev *dev);

PL_END_DECLS

#endif
