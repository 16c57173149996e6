/* VFIO devices: opened by PCI address through the context's back end, and closed. */
#include "iommu_priv.h"
#include "uapi.h"
#include "vfio_dev.h"

#include <pollen/log.h>
#include <pollen/vfio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int read_dev_info(struct pl_vfio_dev *dev)
{
	dev->dinfo.argsz = sizeof(dev->dinfo);
	if (pl_vfio_ioctl(dev, VFIO_DEVICE_GET_INFO, &dev->dinfo)) {
		int ret = -errno;
		pl_err("VFIO_DEVICE_GET_INFO on %s: %s", dev->info.addr, strerror(-ret));
		return ret;
	}
	if (!(dev->dinfo.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    dev->dinfo.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		pl_err("%s: VFIO does not present it as a PCI device", dev->info.addr);
		return -ENODEV;
	}
	/* Config space and the BARs are reached through the fd at offsets VFIO chose. */
	for (unsigned i = 0; i <= PL_VFIO_CONFIG; i++) {
		int ret = pl_vfio_region_info(dev, i, &dev->regions[i]);
		if (ret)
			return ret;
	}
	return 0;
}

struct pl_vfio_dev *pl_vfio_open(struct pl_iommu *ctx, const char *addr)
{
	struct pl_vfio_dev *dev;
	int ret;

	if (!(dev = calloc(1, sizeof(*dev)))) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&dev->lock, NULL);
	dev->ctx = ctx;
	dev->fd = -1;
	dev->irq.type = -1;
	if ((ret = pl_pci_info(addr, &dev->info)))
		goto err_free;
	if (strcmp(dev->info.driver, "vfio-pci")) {
		if (dev->info.driver[0])
			pl_err("%s is bound to %s, not vfio-pci: pollen-devbind --bind vfio-pci %s",
			       dev->info.addr, dev->info.driver, dev->info.addr);
		else
			pl_err("%s is not bound to vfio-pci: pollen-devbind --bind vfio-pci %s",
			       dev->info.addr, dev->info.addr);
		ret = -ENODEV;
		goto err_free;
	}

	pthread_mutex_lock(&ctx->lock);
	for (struct pl_vfio_dev *d = ctx->devs; d; d = d->next)
		if (!strcmp(d->info.addr, dev->info.addr)) {
			pl_err("%s is already open on this IOMMU context", dev->info.addr);
			pthread_mutex_unlock(&ctx->lock);
			ret = -EBUSY;
			goto err_free;
		}
	ret = pl_iommu_attach(ctx, &dev->info, &dev->devid);
	if (ret >= 0) {
		dev->fd = ret;
		dev->next = ctx->devs;
		ctx->devs = dev;
		ctx->ndevs++;
		ret = 0;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (ret)
		goto err_free;

	if ((ret = read_dev_info(dev))) {
		pl_vfio_close(dev);
		errno = -ret;
		return NULL;
	}
	return dev;

err_free:
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	errno = -ret;
	return NULL;
}

void pl_vfio_close(struct pl_vfio_dev *dev)
{
	if (!dev)
		return;
	pl_vfio_irq_release(dev);
	pl_vfio_bars_release(dev);
	pthread_mutex_lock(&dev->ctx->lock);
	pl_iommu_detach(dev->ctx, &dev->info, dev->fd);
	for (struct pl_vfio_dev **p = &dev->ctx->devs; *p; p = &(*p)->next)
		if (*p == dev) {
			*p = dev->next;
			break;
		}
	dev->ctx->ndevs--;
	pthread_mutex_unlock(&dev->ctx->lock);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

const char *pl_vfio_addr(const struct pl_vfio_dev *dev)
{
	return dev->info.addr;
}

const struct pl_pci_info *pl_vfio_pci_info(const struct pl_vfio_dev *dev)
{
	return &dev->info;
}

int pl_vfio_fd(const struct pl_vfio_dev *dev)
{
	return dev->fd;
}

uint32_t pl_vfio_devid(const struct pl_vfio_dev *dev)
{
	return dev->devid;
}

unsigned pl_vfio_num_regions(const struct pl_vfio_dev *dev)
{
	return dev->dinfo.num_regions;
}

unsigned pl_vfio_num_irqs(const struct pl_vfio_dev *dev)
{
	return dev->dinfo.num_irqs;
}
