/* The legacy back end: a /dev/vfio/vfio type1 container holding the devices' groups. */
#include "iommu_priv.h"
#include "uapi.h"

#include <pollen/log.h>

#include "array.h"
#include "errors.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int container_open(struct pl_iommu *ctx)
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

static void container_close(struct pl_iommu *ctx)
{
	close(ctx->container);
	ctx->container = -1;
	ctx->container_ready = false;
	ctx->nmaps = 0;
}

static bool container_is_open(const struct pl_iommu *ctx)
{
	return ctx->container >= 0;
}

/* The container takes its IOMMU type, and so mappings, only once a group is in it. */
static bool container_mappable(const struct pl_iommu *ctx)
{
	return ctx->container_ready;
}

static int replay(struct pl_iommu *ctx);

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
		/* Mappings outlive devices: give the fresh IOMMU the ones the old one had. */
		if ((ret = replay(ctx))) {
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
	/*
	 * The last group out resets the container's IOMMU type, and the kernel drops its
	 * mappings; ctx->maps keeps them for the next group's replay.
	 */
	if (!ctx->ngroups)
		ctx->container_ready = false;
}

static int container_attach(struct pl_iommu *ctx, const struct pl_pci_info *info,
			    uint32_t *devid)
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
	*devid = 0;	/* iommufd's notion */
	pl_debug("%s: opened through group %d", info->addr, g->id);
	return fd;
}

static void container_detach(struct pl_iommu *ctx, const struct pl_pci_info *info, int fd)
{
	struct pl_vfio_group *g = find_group(ctx, info->iommu_group);

	close(fd);	/* the device fd before its group leaves the container */
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

static bool overlaps(uint64_t a, size_t a_len, uint64_t b, size_t b_len)
{
	return a <= b + b_len - 1 && b <= a + a_len - 1;
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

		/* ctx->maps is sorted and disjoint: step past each extent we collide with. */
		for (int u = 0; u < ctx->nmaps && a >= r[i].start; u++) {
			uint64_t last = ctx->maps[u].iova + ctx->maps[u].len - 1;

			if (ctx->maps[u].iova > a + len - 1)
				break;
			if (overlaps(a, len, ctx->maps[u].iova, ctx->maps[u].len))
				a = last + 1 ? align_up(last + 1, align) : 0;
		}
		if (a >= r[i].start && a <= r[i].last && r[i].last - a >= len - 1) {
			*iova = a;
			return 0;
		}
	}
	return -ENOSPC;
}

/* The index of the mapping starting at @iova, or -1. */
static int find_map(struct pl_iommu *ctx, uint64_t iova)
{
	for (int i = 0; i < ctx->nmaps; i++)
		if (ctx->maps[i].iova == iova)
			return i;
	return -1;
}

static int maps_insert(struct pl_iommu *ctx, void *va, uint64_t iova, size_t len)
{
	int i;

	struct pl_container_map *p = pl_array_grow(ctx->maps, &ctx->maps_cap, ctx->nmaps + 1,
						   sizeof(*p));
	if (!p) {
		pl_err("VFIO container: no memory to record a mapping at IOVA 0x%llx",
		       (unsigned long long)iova);
		return -ENOMEM;
	}
	ctx->maps = p;
	for (i = ctx->nmaps; i > 0 && ctx->maps[i - 1].iova > iova; i--)
		ctx->maps[i] = ctx->maps[i - 1];
	ctx->maps[i] = (struct pl_container_map){ va, iova, len };
	ctx->nmaps++;
	return 0;
}

static void maps_remove(struct pl_iommu *ctx, int i)
{
	memmove(&ctx->maps[i], &ctx->maps[i + 1], (ctx->nmaps - i - 1) * sizeof(*ctx->maps));
	ctx->nmaps--;
}

static int map_dma(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	if (ioctl(ctx->container, VFIO_IOMMU_MAP_DMA, &m)) {
		int ret = -errno;
		pl_log_map_error("VFIO_IOMMU_MAP_DMA", len, -ret);
		return ret;
	}
	return 0;
}

static int unmap_dma(struct pl_iommu *ctx, uint64_t iova, size_t len)
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
	return 0;
}

/* Maps @va at @iova and records it; the caller checked the IOVA is free. */
static int map_at(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova)
{
	int ret = map_dma(ctx, va, len, iova);

	if (!ret && (ret = maps_insert(ctx, va, iova, len)))
		unmap_dma(ctx, iova, len);
	return ret;
}

/* Every recorded mapping into a container that has just got its IOMMU (again). */
static int replay(struct pl_iommu *ctx)
{
	for (int i = 0; i < ctx->nmaps; i++) {
		struct pl_container_map *m = &ctx->maps[i];
		int ret = map_dma(ctx, m->va, m->len, m->iova);

		if (ret) {
			pl_err("VFIO container: mapping %p + %zu again at IOVA 0x%llx for the IOMMU "
			       "a new device brought failed: if that memory is gone, unmap it first "
			       "(pl_iommu_unmap); no device opens on this context until then",
			       m->va, m->len, (unsigned long long)m->iova);
			while (i--)
				unmap_dma(ctx, ctx->maps[i].iova, ctx->maps[i].len);
			return ret;
		}
	}
	return 0;
}

static int container_map(struct pl_iommu *ctx, void *va, size_t len, size_t align, uint64_t *iova)
{
	int ret;

	if ((ret = iova_alloc(ctx, len, align, iova))) {
		if (ret == -ENOSPC)
			pl_log_map_error("VFIO_IOMMU_MAP_DMA", len, ENOSPC);
		return ret;
	}
	return map_at(ctx, va, len, *iova);
}

/*
 * With no group in the container the kernel has dropped its mappings already: forgetting
 * the record is the whole unmap, and no device can reach the memory meanwhile.
 */
static int container_unmap(struct pl_iommu *ctx, uint64_t iova, size_t len)
{
	int i = find_map(ctx, iova), ret;

	if (i < 0 || ctx->maps[i].len != len) {
		pl_err("VFIO_IOMMU_UNMAP_DMA of %zu bytes at IOVA 0x%llx: no such mapping", len,
		       (unsigned long long)iova);
		return -ENOENT;
	}
	if (ctx->container_ready && (ret = unmap_dma(ctx, iova, len)))
		return ret;
	maps_remove(ctx, i);
	return 0;
}

/* The range was checked by the caller; here only overlap with what we handed out. */
static int container_map_fixed(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova)
{
	for (int i = 0; i < ctx->nmaps; i++)
		if (overlaps(iova, len, ctx->maps[i].iova, ctx->maps[i].len))
			return -EEXIST;
	return map_at(ctx, va, len, iova);
}

const struct pl_iommu_ops pl_container_ops = {
	.backend = PL_IOMMU_VFIO,
	.node = "vfio/vfio",
	.open = container_open,
	.close = container_close,
	.is_open = container_is_open,
	.attach = container_attach,
	.detach = container_detach,
	.mappable = container_mappable,
	.iova_ranges = container_iova_ranges,
	.map = container_map,
	.map_fixed = container_map_fixed,
	.unmap = container_unmap,
};
