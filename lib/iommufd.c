/* The iommufd back end: /dev/iommu, one IOAS, devices bound through their VFIO cdevs. */
#include "iommu_priv.h"
#include "uapi.h"

#include <pollen/log.h>

#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int pl_iommufd_ctx_open(struct pl_iommu *ctx)
{
	char path[PATH_MAX];
	int fd, ret;

	if (pl_path(path, sizeof(path), "%s/iommu", pl_devfs_root()))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pl_log_open_error("iommufd", path, -ret);
		return ret;
	}
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &alloc)) {
		ret = -errno;
		pl_err("IOMMU_IOAS_ALLOC on %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	ctx->iommufd = fd;
	ctx->ioas_id = alloc.out_ioas_id;
	pl_debug("iommufd: IOAS %u on %s", ctx->ioas_id, path);
	return 0;
}

void pl_iommufd_ctx_close(struct pl_iommu *ctx)
{
	if (ctx->iommufd < 0)
		return;
	/* Closing the fd frees its objects too; destroying first surfaces a leak early. */
	struct iommu_destroy d = { .size = sizeof(d), .id = ctx->ioas_id };
	if (ioctl(ctx->iommufd, IOMMU_DESTROY, &d))
		pl_warn("IOMMU_DESTROY of IOAS %u: %s", ctx->ioas_id, strerror(errno));
	close(ctx->iommufd);
	ctx->iommufd = -1;
}

int pl_iommufd_dev_attach(struct pl_iommu *ctx, const struct pl_pci_info *info, uint32_t *devid)
{
	char path[PATH_MAX];
	int fd, ret;

	if (!info->vfio_cdev[0]) {
		pl_err("%s has no VFIO cdev (no %s/bus/pci/devices/%s/vfio-dev/): the kernel "
		       "lacks CONFIG_VFIO_DEVICE_CDEV; use the legacy back end (POLLEN_IOMMU=vfio)",
		       info->addr, pl_sysfs_root(), info->addr);
		return -ENOENT;
	}
	if (pl_path(path, sizeof(path), "%s/vfio/devices/%s", pl_devfs_root(), info->vfio_cdev))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pl_log_open_error(info->addr, path, -ret);
		return ret;
	}

	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = ctx->iommufd,
	};
	if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		ret = -errno;
		if (ret == -EPERM)
			pl_err("VFIO_DEVICE_BIND_IOMMUFD on %s: EPERM: the IOMMU has no interrupt "
			       "remapping (enable it in firmware; in QEMU intel-iommu,intremap=on)",
			       info->addr);
		else if (ret == -EBUSY || ret == -EINVAL) {
			/*
			 * A cdev binds once: with our layouts asserted, EINVAL means another
			 * file (this process or another) has the device open already.
			 */
			pl_err("VFIO_DEVICE_BIND_IOMMUFD on %s: the device is in use (by another "
			       "process, or through its legacy group)", info->addr);
			ret = -EBUSY;
		}
		else
			pl_err("VFIO_DEVICE_BIND_IOMMUFD on %s: %s", info->addr, strerror(-ret));
		close(fd);
		return ret;
	}

	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = ctx->ioas_id,
	};
	if (ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		ret = -errno;
		pl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT of %s to IOAS %u: %s", info->addr,
		       ctx->ioas_id, strerror(-ret));
		close(fd);	/* closing unbinds */
		return ret;
	}
	*devid = bind.out_devid;
	pl_debug("%s: %s bound as iommufd device %u, attached to IOAS %u", info->addr, path,
		 bind.out_devid, ctx->ioas_id);
	return fd;
}

void pl_iommufd_dev_detach(int devfd)
{
	struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

	/* Closing the cdev would detach too; doing it explicitly reports a failure. */
	if (ioctl(devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d))
		pl_warn("VFIO_DEVICE_DETACH_IOMMUFD_PT: %s", strerror(errno));
	close(devfd);
}
