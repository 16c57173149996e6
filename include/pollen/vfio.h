/* VFIO devices: a PCI function opened by address on an IOMMU context. */
#ifndef POLLEN_VFIO_H
#define POLLEN_VFIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <pollen/iommu.h>
#include <pollen/pci.h>

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
struct pl_vfio_dev *pl_vfio_open(struct pl_iommu *ctx, const char *addr);

/* Detaches and releases the device; NULL is ignored. */
void pl_vfio_close(struct pl_vfio_dev *dev);

const char *pl_vfio_addr(const struct pl_vfio_dev *dev);
const struct pl_pci_info *pl_vfio_pci_info(const struct pl_vfio_dev *dev);
int pl_vfio_fd(const struct pl_vfio_dev *dev);
/* The iommufd device ID from BIND_IOMMUFD; 0 under the legacy back end. */
uint32_t pl_vfio_devid(const struct pl_vfio_dev *dev);
/* Regions and interrupt indexes as VFIO_DEVICE_GET_INFO reports them. */
unsigned pl_vfio_num_regions(const struct pl_vfio_dev *dev);
unsigned pl_vfio_num_irqs(const struct pl_vfio_dev *dev);

/**
 * pl_vfio_cfg_read() - read PCI configuration space through the VFIO config region.
 * Return: 0, or a negative errno when fewer than @len bytes could be read.
 */
int pl_vfio_cfg_read(struct pl_vfio_dev *dev, void *buf, size_t len, off_t off);
int pl_vfio_cfg_write(struct pl_vfio_dev *dev, const void *buf, size_t len, off_t off);

#endif
