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

int pl_iommufd_iova_ranges(struct pl_iommu *ctx, struct pl_iova_range *out, int max)
{
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = ctx->ioas_id,
		.num_iovas = max,
		.allowed_iovas = (uintptr_t)out,
	};
	_Static_assert(sizeof(struct pl_iova_range) == sizeof(struct iommu_iova_range),
		       "pl_iova_range mirrors iommu_iova_range");

	/* EMSGSIZE says @max was too small and num_iovas now holds the count we need. */
	if (ioctl(ctx->iommufd, IOMMU_IOAS_IOVA_RANGES, &q) && errno != EMSGSIZE) {
		int ret = -errno;
		pl_err("IOMMU_IOAS_IOVA_RANGES on IOAS %u: %s", ctx->ioas_id, strerror(-ret));
		return ret;
	}
	return q.num_iovas;
}

int pl_iommufd_map(struct pl_iommu *ctx, void *va, size_t len, uint64_t *iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ctx->ioas_id,
		.user_va = (uintptr_t)va,
		.length = len,
	};

	/* No FIXED_IOVA: the kernel picks an IOVA that fits every attached device. */
	if (ioctl(ctx->iommufd, IOMMU_IOAS_MAP, &m)) {
		int ret = -errno;
		pl_log_map_error("IOMMU_IOAS_MAP", len, -ret);
		return ret;
	}
	*iova = m.iova;
	return 0;
}

int pl_iommufd_unmap(struct pl_iommu *ctx, uint64_t iova, size_t len)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = ctx->ioas_id,
		.iova = iova,
		.length = len,
	};

	if (ioctl(ctx->iommufd, IOMMU_IOAS_UNMAP, &u)) {
		int ret = -errno;
		pl_err("IOMMU_IOAS_UNMAP of %zu bytes at IOVA 0x%llx: %s", len,
		       (unsigned long long)iova, strerror(-ret));
		return ret;
	}
	return 0;
}
