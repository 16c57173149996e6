/* The iommufd back end: /dev/iommu, one IOAS, devices bound through their VFIO cdevs. */
#include "iommu_priv.h"
#include "uapi.h"

#include <pollen/log.h>

#include "errors.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int iommufd_open(struct pl_iommu *ctx)
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

static void iommufd_close(struct pl_iommu *ctx)
{
	/* Closing the fd frees its objects too; destroying first surfaces a leak early. */
	for (int i = 0; i < 8; i++)
		if (ctx->extra_ioas[i])
			pl_iommufd_destroy(ctx, ctx->extra_ioas[i]);
	struct iommu_destroy d = { .size = sizeof(d), .id = ctx->ioas_id };
	if (ioctl(ctx->iommufd, IOMMU_DESTROY, &d))
		pl_warn("IOMMU_DESTROY of IOAS %u: %s", ctx->ioas_id, strerror(errno));
	close(ctx->iommufd);
	ctx->iommufd = -1;
}

static bool iommufd_is_open(const struct pl_iommu *ctx)
{
	return ctx->iommufd >= 0;
}

/* An IOAS takes mappings with or without devices attached. */
static bool iommufd_mappable(const struct pl_iommu *ctx)
{
	(void)ctx;
	return true;
}

static int iommufd_attach(struct pl_iommu *ctx, const struct pl_pci_info *info,
			  uint32_t *devid)
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

static void iommufd_detach(struct pl_iommu *ctx, const struct pl_pci_info *info, int devfd)
{
	(void)ctx;
	struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

	/* Closing the cdev would detach too; doing it explicitly reports a failure. */
	if (ioctl(devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d))
		pl_warn("VFIO_DEVICE_DETACH_IOMMUFD_PT of %s: %s", info->addr, strerror(errno));
	close(devfd);
}

static int iommufd_iova_ranges(struct pl_iommu *ctx, struct pl_iova_range *out, int max)
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

static int iommufd_map(struct pl_iommu *ctx, void *va, size_t len, size_t align,
		       uint64_t *iova)
{
	(void)align;	/* the kernel aligns the IOVA as the memory is aligned */
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

static int iommufd_unmap(struct pl_iommu *ctx, uint64_t iova, size_t len)
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

static int iommufd_map_fixed(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ctx->ioas_id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	if (ioctl(ctx->iommufd, IOMMU_IOAS_MAP, &m)) {
		int ret = -errno;
		if (ret != -EEXIST)
			pl_log_map_error("IOMMU_IOAS_MAP(FIXED_IOVA)", len, -ret);
		return ret;
	}
	return 0;
}

int pl_iommufd_ioas_alloc(struct pl_iommu *ctx, uint32_t *id)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(ctx->iommufd, IOMMU_IOAS_ALLOC, &a)) {
		int ret = -errno;
		pl_err("IOMMU_IOAS_ALLOC: %s", strerror(-ret));
		return ret;
	}
	*id = a.out_ioas_id;
	return 0;
}

int pl_iommufd_destroy(struct pl_iommu *ctx, uint32_t id)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = id };

	if (ioctl(ctx->iommufd, IOMMU_DESTROY, &d)) {
		int ret = -errno;
		pl_err("IOMMU_DESTROY of object %u: %s", id, strerror(-ret));
		return ret;
	}
	return 0;
}

int pl_iommufd_copy(struct pl_iommu *ctx, uint32_t dst, uint64_t src_iova, size_t len,
		    uint64_t *dst_iova)
{
	struct iommu_ioas_copy c = {
		.size = sizeof(c),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.dst_ioas_id = dst,
		.src_ioas_id = ctx->ioas_id,
		.length = len,
		.src_iova = src_iova,
	};

	if (ioctl(ctx->iommufd, IOMMU_IOAS_COPY, &c)) {
		int ret = -errno;
		pl_err("IOMMU_IOAS_COPY of %zu bytes at IOVA 0x%llx into IOAS %u: %s", len,
		       (unsigned long long)src_iova, dst, strerror(-ret));
		return ret;
	}
	*dst_iova = c.dst_iova;
	return 0;
}

int pl_iommufd_ioas_unmap(struct pl_iommu *ctx, uint32_t ioas, uint64_t iova, size_t len)
{
	struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = ioas, .iova = iova,
				      .length = len };

	return ioctl(ctx->iommufd, IOMMU_IOAS_UNMAP, &u) ? -errno : 0;
}

int pl_iommufd_huge_pages(struct pl_iommu *ctx, int set)
{
	struct iommu_option o = {
		.size = sizeof(o),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = set < 0 ? IOMMU_OPTION_OP_GET : IOMMU_OPTION_OP_SET,
		.object_id = ctx->ioas_id,
		.val64 = set > 0,
	};

	if (ioctl(ctx->iommufd, IOMMU_OPTION, &o)) {
		int ret = -errno;
		pl_err("IOMMU_OPTION(HUGE_PAGES, %s) on IOAS %u: %s%s", set < 0 ? "get" : "set",
		       ctx->ioas_id, strerror(-ret),
		       ret == -EBUSY ? ": set it before any device attaches" : "");
		return ret;
	}
	return set < 0 ? (int)o.val64 : set > 0;
}

/* 6.13 and later map a memfd by file and offset; older kernels answer ENOTTY, once. */
static int iommufd_map_file(struct pl_iommu *ctx, int fd, size_t len, uint64_t *iova)
{
	struct iommu_ioas_map_file m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ctx->ioas_id,
		.fd = fd,
		.length = len,
	};

	if (ctx->no_map_file)
		return -ENOTTY;
	if (ioctl(ctx->iommufd, IOMMU_IOAS_MAP_FILE, &m)) {
		int ret = -errno;
		if (ret != -ENOTTY)
			pl_log_map_error("IOMMU_IOAS_MAP_FILE", len, -ret);
		else {
			ctx->no_map_file = true;
			pl_debug("IOMMU_IOAS_MAP_FILE: not in this kernel; mapping by address");
		}
		return ret;
	}
	*iova = m.iova;
	return 0;
}

const struct pl_iommu_ops pl_iommufd_ops = {
	.backend = PL_IOMMU_IOMMUFD,
	.node = "iommu",
	.open = iommufd_open,
	.close = iommufd_close,
	.is_open = iommufd_is_open,
	.attach = iommufd_attach,
	.detach = iommufd_detach,
	.mappable = iommufd_mappable,
	.iova_ranges = iommufd_iova_ranges,
	.map = iommufd_map,
	.map_fixed = iommufd_map_fixed,
	.map_file = iommufd_map_file,
	.unmap = iommufd_unmap,
};
