/* The legacy back end: a /dev/vfio/vfio type1 container holding the devices' groups. */
#include "iommu_priv.h"
#include "uapi.h"

#include <pollen/log.h>

#include "array.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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
		/* Regions outlive devices: give the fresh IOMMU the mappings the old one had. */
		if ((ret = pl_dma_replay(ctx))) {
			ctx->container_ready = false;
			ctx->nused = 0;
			ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
			goto err;
		}
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
	/* The last group out resets the container's IOMMU type, and its mappings go too. */
	if (!ctx->ngroups) {
		ctx->container_ready = false;
		ctx->nused = 0;
	}
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

/* ---- DMA mappings: type1 wants the IOVA from us, so we allocate inside its ranges ---- */

static int container_iova_ranges(struct pl_iommu *ctx, struct pl_iova_range *out, int max)
{
	size_t sz = sizeof(struct vfio_iommu_type1_info) + 4096;
	struct vfio_iommu_type1_info *info;
	int ret;

	for (;;) {
		if (!(info = calloc(1, sz)))
			return -ENOMEM;
		info->argsz = sz;
		if (ioctl(ctx->container, VFIO_IOMMU_GET_INFO, info)) {
			ret = -errno;
			pl_err("VFIO_IOMMU_GET_INFO: %s", strerror(-ret));
			free(info);
			return ret;
		}
		if (info->argsz <= sz)
			break;
		sz = info->argsz;	/* the capability chain did not fit */
		free(info);
	}

	/* Kernels without the capability (before 5.4) translate the whole 64-bit space... */
	ret = -ENOENT;
	if (info->flags & VFIO_IOMMU_INFO_CAPS) {
		for (uint32_t off = info->cap_offset; off && off + 8 <= sz;) {
			struct vfio_info_cap_header *h = (void *)((char *)info + off);

			if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
				struct vfio_iommu_type1_info_cap_iova_range *r = (void *)h;

				for (uint32_t i = 0; i < r->nr_iovas && (int)i < max; i++)
					out[i] = (struct pl_iova_range){ r->iova_ranges[i].start,
									  r->iova_ranges[i].end };
				ret = r->nr_iovas;
				break;
			}
			off = h->next;
		}
	}
	free(info);
	if (ret == -ENOENT) {
		/* ...but no real IOMMU has 64 address bits: keep to 39, as VT-d has at least. */
		if (max > 0)
			out[0] = (struct pl_iova_range){ 1ull << 20, (1ull << 39) - 1 };
		ret = 1;
	}
	return ret;
}

static uint64_t align_up(uint64_t x, uint64_t align)
{
	return (x + align - 1) & ~(align - 1);
}

/* First fit, aligned, inside the ranges and clear of every IOVA already handed out. */
static int iova_alloc(struct pl_iommu *ctx, size_t len, size_t align, uint64_t *iova)
{
	struct pl_iova_range r[16];
	int n = container_iova_ranges(ctx, r, 16);

	if (n < 0)
		return n;
	for (int i = 0; i < n && i < 16; i++) {
		/* Never hand out IOVA 0: a zeroed descriptor must not look like a buffer. */
		uint64_t a = align_up(r[i].start ? r[i].start : align, align);

		/* ctx->used is sorted and disjoint: step past each extent we collide with. */
		for (int u = 0; u < ctx->nused && a >= r[i].start; u++) {
			if (ctx->used[u].last < a)
				continue;
			if (ctx->used[u].start > a + len - 1)
				break;
			a = ctx->used[u].last + 1 ? align_up(ctx->used[u].last + 1, align) : 0;
		}
		if (a >= r[i].start && a <= r[i].last && r[i].last - a >= len - 1) {
			*iova = a;
			return 0;
		}
	}
	return -ENOSPC;
}

static int used_insert(struct pl_iommu *ctx, uint64_t iova, size_t len)
{
	int i;

	struct pl_iova_range *p = pl_array_grow(ctx->used, &ctx->used_cap, ctx->nused + 1,
						sizeof(*p));
	if (!p)
		return -ENOMEM;
	ctx->used = p;
	for (i = ctx->nused; i > 0 && ctx->used[i - 1].start > iova; i--)
		ctx->used[i] = ctx->used[i - 1];
	ctx->used[i] = (struct pl_iova_range){ iova, iova + len - 1 };
	ctx->nused++;
	return 0;
}

static void used_remove(struct pl_iommu *ctx, uint64_t iova)
{
	for (int i = 0; i < ctx->nused; i++)
		if (ctx->used[i].start == iova) {
			memmove(&ctx->used[i], &ctx->used[i + 1],
				(ctx->nused - i - 1) * sizeof(*ctx->used));
			ctx->nused--;
			return;
		}
}

static int container_map(struct pl_iommu *ctx, void *va, size_t len, size_t align, uint64_t *iova)
{
	int ret;

	if ((ret = iova_alloc(ctx, len, align, iova))) {
		if (ret == -ENOSPC)
			pl_log_map_error("VFIO_IOMMU_MAP_DMA", len, ENOSPC);
		return ret;
	}
	return pl_container_map_at(ctx, va, len, *iova);
}

int pl_container_map_at(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova)
{
	int ret;

	if ((ret = used_insert(ctx, iova, len)))
		return ret;
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};
	if (ioctl(ctx->container, VFIO_IOMMU_MAP_DMA, &m)) {
		ret = -errno;
		pl_log_map_error("VFIO_IOMMU_MAP_DMA", len, -ret);
		used_remove(ctx, iova);
		return ret;
	}
	return 0;
}

static int container_unmap(struct pl_iommu *ctx, uint64_t iova, size_t len)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = len,
	};

	if (ioctl(ctx->container, VFIO_IOMMU_UNMAP_DMA, &u)) {
		int ret = -errno;
		pl_err("VFIO_IOMMU_UNMAP_DMA of %zu bytes at IOVA 0x%llx: %s", len,
		       (unsigned long long)iova, strerror(-ret));
		return ret;
	}
	used_remove(ctx, iova);
	return 0;
}

/* The range was checked by the caller; here only overlap with what we handed out. */
static int container_map_fixed(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova)
{
	for (int i = 0; i < ctx->nused; i++)
		if (iova <= ctx->used[i].last && iova + len - 1 >= ctx->used[i].start)
			return -EEXIST;
	return pl_container_map_at(ctx, va, len, iova);
}

const struct pl_iommu_ops pl_container_ops = {
	.iova_ranges = container_iova_ranges,
	.map = container_map,
	.map_fixed = container_map_fixed,
	.unmap = container_unmap,
};
