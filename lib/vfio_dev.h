/* The VFIO device's insides, shared by the device, BAR and interrupt code. */
#ifndef PL_LIB_VFIO_DEV_H
#define PL_LIB_VFIO_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include <pollen/vfio.h>

#include "iommu_priv.h"
#include "uapi.h"

#define PL_VFIO_BARS 6

struct pl_vfio_bar {
	void *va;	/* NULL until mapped */
	size_t len;
};

struct pl_vfio_irq_state {
	int type;	/* VFIO_PCI_*_IRQ_INDEX enabled, -1 when none */
	unsigned count;
	int *fds;	/* one eventfd per vector */
};

struct pl_vfio_dev {
	struct pl_vfio_dev *next;	/* on ctx->devs */
	struct pl_iommu *ctx;
	pthread_mutex_t lock;	/* BAR mappings are made on first use, from any thread */
	struct pl_pci_info info;
	int fd;
	uint32_t devid;
	struct vfio_device_info dinfo;
	/* BARs, ROM and config space as VFIO placed them in the device fd, read at open */
	struct pl_vfio_region regions[PL_VFIO_CONFIG + 1];
	struct pl_vfio_bar bars[PL_VFIO_BARS];	/* mmaps, made on first use */
	struct pl_vfio_irq_state irq;		/* irq.c */
};

/* vfio.c: an ioctl on the device fd, through the context's back end (ioctl(2)'s return) */
/* A device ioctl, through the context's back end where it answers them (tests/models). */
static inline int pl_vfio_ioctl(struct pl_vfio_dev *dev, unsigned long req, void *arg)
{
	const struct pl_iommu_ops *ops = dev->ctx->ops;

	return ops->dev_ioctl ? ops->dev_ioctl(dev->ctx, dev->fd, req, arg) :
				ioctl(dev->fd, req, arg);
}

/* vfio_bar.c: bounds-checked pread/pwrite of region @index (a BAR, the ROM or config) */
int pl_vfio_region_rw(struct pl_vfio_dev *dev, unsigned index, void *buf, size_t len,
		      off_t off, bool write);
/* vfio_bar.c: unmaps every BAR on close */
void pl_vfio_bars_release(struct pl_vfio_dev *dev);
/* irq.c: disables interrupts and closes their eventfds on close */
void pl_vfio_irq_release(struct pl_vfio_dev *dev);

#endif
