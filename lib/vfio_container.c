/* The legacy back end: a /dev/vfio/vfio type1 container holding the devices' groups. */
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

int pl_container_ctx_open(struct pl_iommu *ctx)
{
	char path[PATH_MAX];
	int fd, ret;

	if (pl_path(path, sizeof(path), "%s/vfio/vfio", pl_devfs_root()))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pl_log_open_error("VFIO container", path, -ret);
		return ret;
	}
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		pl_err("%s speaks an unknown VFIO API version", path);
		close(fd);
		return -EPROTO;
	}
	if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		pl_err("%s has no type1v2 IOMMU: the kernel lacks CONFIG_VFIO_IOMMU_TYPE1", path);
		close(fd);
		return -EOPNOTSUPP;
	}
	ctx->container = fd;
	return 0;
}

void pl_container_ctx_close(struct pl_iommu *ctx)
{
	if (ctx->container >= 0)
		close(ctx->container);
	ctx->container = -1;
}

static struct pl_vfio_group *find_group(struct pl_iommu *ctx, int id)
{
	for (int i = 0; i < ctx->ngroups; i++)
		if (ctx->groups[i].id == id)
			return &ctx->groups[i];
	return NULL;
}

/* Opens the group, checks it is viable and puts it in the container. */
static int group_join(struct pl_iommu *ctx, const struct pl_pci_info *info,
		      struct pl_vfio_group **out)
{
	char path[PATH_MAX];
	int fd, ret;

	if (ctx->ngroups == PL_IOMMU_MAX_GROUPS) {
		pl_err("%s: more than %d IOMMU groups in one context", info->addr,
		       PL_IOMMU_MAX_GROUPS);
		return -ENOSPC;
	}
	if (pl_path(path, sizeof(path), "%s/vfio/%d", pl_devfs_root(), info->iommu_group))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pl_log_open_error(info->addr, path, -ret);
		return ret;
	}
	struct vfio_group_status st = { .argsz = sizeof(st) };
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st)) {
		ret = -errno;
		pl_err("VFIO_GROUP_GET_STATUS on %s: %s", path, strerror(-ret));
		goto err;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		pl_err("IOMMU group %d of %s is not viable: bind every device in %s/kernel/"
		       "iommu_groups/%d/devices to vfio-pci (or unbind them)", info->iommu_group,
		       info->addr, pl_sysfs_root(), info->iommu_group);
		ret = -EBUSY;
		goto err;
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &ctx->container)) {
		ret = -errno;
		pl_err("VFIO_GROUP_SET_CONTAINER for group %d of %s: %s", info->iommu_group,
		       info->addr, strerror(-ret));
		goto err;
	}
	/* The container takes its IOMMU type only once it holds a group. */
	if (!ctx->container_ready) {
		if (ioctl(ctx->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
			ret = -errno;
			pl_err("VFIO_SET_IOMMU(type1v2) with group %d of %s: %s",
			       info->iommu_group, info->addr, strerror(-ret));
			ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
			goto err;
		}
		ctx->container_ready = true;
	}
	struct pl_vfio_group *g = &ctx->groups[ctx->ngroups++];
	*g = (struct pl_vfio_group){ .id = info->iommu_group, .fd = fd };
	*out = g;
	return 0;
err:
	close(fd);
	return ret;
}

static void group_leave(struct pl_iommu *ctx, struct pl_vfio_group *g)
{
	ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
	close(g->fd);
	*g = ctx->groups[--ctx->ngroups];
	/* The last group out resets the container's IOMMU type with it. */
	if (!ctx->ngroups)
		ctx->container_ready = false;
}

int pl_container_dev_attach(struct pl_iommu *ctx, const struct pl_pci_info *info)
{
	struct pl_vfio_group *g;
	int fd, ret;

	if (info->iommu_group < 0) {
		pl_err("%s has no IOMMU group: enable the IOMMU (intel_iommu=on or "
		       "amd_iommu=on on the kernel command line)", info->addr);
		return -ENODEV;
	}
	g = find_group(ctx, info->iommu_group);
	if (!g && (ret = group_join(ctx, info, &g)))
		return ret;

	fd = ioctl(g->fd, VFIO_GROUP_GET_DEVICE_FD, info->addr);
	if (fd < 0) {
		ret = -errno;
		if (ret == -EBUSY)
			pl_err("VFIO_GROUP_GET_DEVICE_FD for %s: EBUSY: the device is already open "
			       "(in this process or through its cdev)", info->addr);
		else
			pl_err("VFIO_GROUP_GET_DEVICE_FD for %s: %s", info->addr, strerror(-ret));
		if (!g->refs)
			group_leave(ctx, g);
		return ret;
	}
	g->refs++;
	pl_debug("%s: opened through group %d", info->addr, g->id);
	return fd;
}

void pl_container_dev_detach(struct pl_iommu *ctx, int group_id)
{
	struct pl_vfio_group *g = find_group(ctx, group_id);

	if (g && --g->refs == 0)
		group_leave(ctx, g);
}
