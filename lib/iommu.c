/* The IOMMU context: picks a back end and hands devices to it. */
#include "iommu_priv.h"

#include <pollen/log.h>

#include "array.h"
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *pl_iommu_backend_name(enum pl_iommu_backend b)
{
	switch (b) {
	case PL_IOMMU_IOMMUFD:
		return "iommufd";
	case PL_IOMMU_VFIO:
		return "vfio-container";
	default:
		return "auto";
	}
}

static bool dev_exists(const char *name)
{
	char path[PATH_MAX];

	if (pl_path(path, sizeof(path), "%s/%s", pl_devfs_root(), name))
		return false;
	return !access(path, F_OK);
}

static int want_from_env(enum pl_iommu_backend *want)
{
	const char *e = getenv("POLLEN_IOMMU");

	if (!e || !*e || !strcmp(e, "auto"))
		return 0;
	if (!strcmp(e, "iommufd"))
		*want = PL_IOMMU_IOMMUFD;
	else if (!strcmp(e, "vfio") || !strcmp(e, "legacy"))
		*want = PL_IOMMU_VFIO;
	else {
		pl_err("POLLEN_IOMMU='%s': want iommufd, vfio or auto", e);
		return -EINVAL;
	}
	return 0;
}

static const struct pl_iommu_ops *const backends[] = { &pl_iommufd_ops, &pl_container_ops };
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

/* Closes every open back end but @keep (NULL: all of them). */
static void close_others(struct pl_iommu *ctx, const struct pl_iommu_ops *keep)
{
	for (size_t i = 0; i < NBACKENDS; i++)
		if (backends[i] != keep && backends[i]->is_open(ctx))
			backends[i]->close(ctx);
}

/* Settles the back end: the context uses @ops from now on, and the other one is closed. */
static void settle(struct pl_iommu *ctx, const struct pl_iommu_ops *ops)
{
	close_others(ctx, ops);
	ctx->ops = ops;
}

static struct pl_iommu *ctx_new(void)
{
	struct pl_iommu *ctx = calloc(1, sizeof(*ctx));

	if (!ctx) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->iommufd = -1;
	ctx->container = -1;
	return ctx;
}

static void ctx_free(struct pl_iommu *ctx)
{
	pthread_mutex_destroy(&ctx->lock);
	free(ctx->deferred);
	free(ctx->maps);
	free(ctx->regions);
	free(ctx);
}

struct pl_iommu *pl_iommu_open_ops(const struct pl_iommu_ops *ops)
{
	struct pl_iommu *ctx = ctx_new();
	int ret;

	if (!ctx)
		return NULL;
	if ((ret = ops->open(ctx))) {
		ctx_free(ctx);
		errno = -ret;
		return NULL;
	}
	ctx->ops = ops;
	return ctx;
}

struct pl_iommu *pl_iommu_open(enum pl_iommu_backend want)
{
	struct pl_iommu *ctx;
	int ret;

	if (want == PL_IOMMU_AUTO && (ret = want_from_env(&want))) {
		errno = -ret;
		return NULL;
	}
	if (!(ctx = ctx_new()))
		return NULL;
	if (want != PL_IOMMU_AUTO) {
		const struct pl_iommu_ops *ops = want == PL_IOMMU_IOMMUFD ? &pl_iommufd_ops :
									   &pl_container_ops;
		if (!(ret = ops->open(ctx)))
			settle(ctx, ops);
	} else {
		/*
		 * Open what exists now; the first device decides which is used. When every
		 * one that exists fails, the last failure is the answer (EACCES, say).
		 */
		int opened = 0, tried = 0;

		ret = -ENOENT;
		for (size_t i = 0; i < NBACKENDS; i++) {
			if (!dev_exists(backends[i]->node))
				continue;
			tried++;
			int r = backends[i]->open(ctx);
			if (!r)
				opened++;
			else
				ret = r;
		}
		if (opened)
			ret = 0;
		else if (!tried)
			pl_err("neither %s/iommu nor %s/vfio/vfio exists: load vfio-pci (modprobe "
			       "vfio-pci) and enable the IOMMU (intel_iommu=on)", pl_devfs_root(),
			       pl_devfs_root());
	}
	if (ret) {
		close_others(ctx, NULL);
		ctx_free(ctx);
		errno = -ret;
		return NULL;
	}
	return ctx;
}

int pl_iommu_close(struct pl_iommu *ctx)
{
	if (!ctx)
		return 0;
	pthread_mutex_lock(&ctx->lock);
	/* Devices and pools hold the context: freeing it under them would be a use after free. */
	if (ctx->ndevs || ctx->nregions) {
		pl_err("pl_iommu_close: %d device(s) and %d DMA region(s) (pools, allocations, "
		       "registrations) still use this context: close and free them first; the "
		       "context stays open", ctx->ndevs, ctx->nregions);
		pthread_mutex_unlock(&ctx->lock);
		return -EBUSY;
	}
	/* A back end of the caller's is none of the two the context may have open. */
	if (ctx->ops && ctx->ops != &pl_iommufd_ops && ctx->ops != &pl_container_ops)
		ctx->ops->close(ctx);
	else
		close_others(ctx, NULL);
	pthread_mutex_unlock(&ctx->lock);
	ctx_free(ctx);
	return 0;
}

/* Under AUTO the device picks: iommufd if it has a cdev, else the container. */
static const struct pl_iommu_ops *pick(struct pl_iommu *ctx, const struct pl_pci_info *info)
{
	if (ctx->ops)
		return ctx->ops;
	return pl_iommufd_ops.is_open(ctx) && (info->vfio_cdev[0] || !pl_container_ops.is_open(ctx)) ?
		       &pl_iommufd_ops : &pl_container_ops;
}

static int make_deferred(struct pl_iommu *ctx);

int pl_iommu_attach(struct pl_iommu *ctx, const struct pl_pci_info *info, uint32_t *devid)
{
	const struct pl_iommu_ops *ops = pick(ctx, info);
	int fd = ops->attach(ctx, info, devid), ret;

	if (fd < 0)
		return fd;
	/* Settled only once a device is in, so a failure leaves AUTO open. */
	if (!ctx->ops) {
		settle(ctx, ops);
		pl_info("IOMMU back end: %s (chosen for %s)", pl_iommu_backend_name(ops->backend),
			info->addr);
	}
	if (ctx->ndeferred && ops->mappable(ctx) && (ret = make_deferred(ctx))) {
		ops->detach(ctx, info, fd);
		return ret;
	}
	return fd;
}

void pl_iommu_detach(struct pl_iommu *ctx, const struct pl_pci_info *info, int fd)
{
	ctx->ops->detach(ctx, info, fd);
}

enum pl_iommu_backend pl_iommu_backend(const struct pl_iommu *ctx)
{
	return ctx->ops ? ctx->ops->backend : PL_IOMMU_AUTO;
}

int pl_iommu_iommufd(const struct pl_iommu *ctx)
{
	return pl_iommu_backend(ctx) == PL_IOMMU_IOMMUFD ? ctx->iommufd : -1;
}

uint32_t pl_iommu_ioas_id(const struct pl_iommu *ctx)
{
	return pl_iommu_backend(ctx) == PL_IOMMU_IOMMUFD ? ctx->ioas_id : 0;
}

int pl_iommu_container(const struct pl_iommu *ctx)
{
	return pl_iommu_backend(ctx) == PL_IOMMU_VFIO ? ctx->container : -1;
}

/* Mappings need a settled back end; the container takes them only once a group joined. */
static int map_ready(struct pl_iommu *ctx)
{
	if (ctx->ops && ctx->ops->mappable(ctx))
		return 0;
	pl_err("no DMA mapping yet: %s", pl_iommu_backend(ctx) == PL_IOMMU_AUTO ?
	       "the IOMMU back end is chosen when the first device opens; open it first" :
	       "a VFIO container has no IOMMU until a device's group joins; open a device first");
	return -ENXIO;
}

int pl_iommu_iova_ranges(struct pl_iommu *ctx, struct pl_iova_range *out, int max)
{
	int ret;

	pthread_mutex_lock(&ctx->lock);
	if (!(ret = map_ready(ctx)))
		ret = ctx->ops->iova_ranges(ctx, out, max);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

/* Both back ends would refuse an IOVA outside their ranges, with different errnos. */
static int check_in_ranges(struct pl_iommu *ctx, uint64_t iova, size_t len)
{
	struct pl_iova_range r[16];
	int n = ctx->ops->iova_ranges(ctx, r, 16);

	if (n < 0)
		return n;
	for (int i = 0; i < n && i < 16; i++)
		if (iova >= r[i].start && iova + len - 1 <= r[i].last && iova + len - 1 >= iova)
			return 0;
	pl_err("a fixed mapping at IOVA 0x%llx + %zu lies outside the IOMMU's IOVA ranges",
	       (unsigned long long)iova, len);
	return -ERANGE;
}

/*
 * Deferred mappings. Under AUTO the back end is chosen by the first device, and a VFIO
 * container has no IOMMU until a group joins; memory made for DMA before then (a packet
 * pool made before its port, or without one) is promised an IOVA now and mapped there
 * when a device comes. The promises start at 4 GiB, clear of the x86 MSI window below
 * it and inside any VT-d's address width (39 bits at least), and above every mapping a
 * container keeps from its earlier devices.
 */
#define DEFER_BASE (1ull << 32)

static int defer_map(struct pl_iommu *ctx, void *va, size_t len, size_t align, uint64_t *iova)
{
	uint64_t at = ctx->defer_next > DEFER_BASE ? ctx->defer_next : DEFER_BASE;

	for (int i = 0; i < ctx->nmaps; i++)
		if (ctx->maps[i].iova + ctx->maps[i].len > at)
			at = ctx->maps[i].iova + ctx->maps[i].len;
	at = (at + align - 1) & ~(uint64_t)(align - 1);
	struct pl_deferred_map *d = pl_array_grow(ctx->deferred, &ctx->deferred_cap,
						  ctx->ndeferred + 1, sizeof(*d));
	if (!d) {
		pl_err("no memory to record a mapping for the first device");
		return -ENOMEM;
	}
	ctx->deferred = d;
	d[ctx->ndeferred++] = (struct pl_deferred_map){ va, at, len };
	ctx->defer_next = at + len;
	*iova = at;
	pl_debug("%zu bytes at %p will be mapped at IOVA 0x%llx when a device opens", len, va,
		 (unsigned long long)at);
	return 0;
}

static bool undefer(struct pl_iommu *ctx, uint64_t iova, size_t len)
{
	for (int i = 0; i < ctx->ndeferred; i++)
		if (ctx->deferred[i].iova == iova && ctx->deferred[i].len == len) {
			ctx->deferred[i] = ctx->deferred[--ctx->ndeferred];
			return true;
		}
	return false;
}

/* The promised mappings made, now that a device has given the context an IOMMU. */
static int make_deferred(struct pl_iommu *ctx)
{
	while (ctx->ndeferred) {
		struct pl_deferred_map *d = &ctx->deferred[ctx->ndeferred - 1];
		int ret = check_in_ranges(ctx, d->iova, d->len);

		if (!ret)
			ret = ctx->ops->map_fixed(ctx, d->va, d->len, d->iova);
		if (ret) {
			pl_err("mapping %p + %zu at IOVA 0x%llx, promised before the first device "
			       "opened, failed (%s): the device is let go; pl_dma_free() that memory "
			       "and open it again", d->va, d->len, (unsigned long long)d->iova,
			       strerror(-ret));
			return ret;
		}
		ctx->ndeferred--;
	}
	return 0;
}

int pl_iommu_map(struct pl_iommu *ctx, void *va, size_t len, size_t align, uint64_t *iova)
{
	long pg = sysconf(_SC_PAGESIZE);
	int ret;

	if (!len || ((uintptr_t)va | len) & (pg - 1) || align & (align - 1)) {
		pl_err("pl_iommu_map: %p + %zu is not page aligned, or alignment %zu is not a "
		       "power of two", va, len, align);
		return -EINVAL;
	}
	if (align < (size_t)pg)
		align = pg;
	pthread_mutex_lock(&ctx->lock);
	if (ctx->ops && ctx->ops->mappable(ctx))
		ret = ctx->ops->map(ctx, va, len, align, iova);
	else
		ret = defer_map(ctx, va, len, align, iova);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

int pl_iommu_unmap(struct pl_iommu *ctx, uint64_t iova, size_t len)
{
	int ret;

	/* A container without a device still forgets a mapping: no device can reach it. */
	pthread_mutex_lock(&ctx->lock);
	if (undefer(ctx, iova, len))
		ret = 0;
	else
		ret = ctx->ops ? ctx->ops->unmap(ctx, iova, len) : map_ready(ctx);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

int pl_iommu_map_file(struct pl_iommu *ctx, int fd, size_t len, uint64_t *iova)
{
	int ret = -ENOTTY;

	pthread_mutex_lock(&ctx->lock);
	if (ctx->ops && ctx->ops->map_file && ctx->ops->mappable(ctx))
		ret = ctx->ops->map_file(ctx, fd, len, iova);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

int pl_iommu_map_fixed(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova)
{
	long pg = sysconf(_SC_PAGESIZE);
	int ret;

	if (!len || ((uintptr_t)va | len | iova) & (pg - 1)) {
		pl_err("pl_iommu_map_fixed: %p + %zu at IOVA 0x%llx is not page aligned", va, len,
		       (unsigned long long)iova);
		return -EINVAL;
	}
	pthread_mutex_lock(&ctx->lock);
	if (!(ret = map_ready(ctx)) && !(ret = check_in_ranges(ctx, iova, len)))
		ret = ctx->ops->map_fixed(ctx, va, len, iova);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

/* The IOAS calls exist only on iommufd. */
static int need_iommufd(struct pl_iommu *ctx, const char *what)
{
	if (pl_iommu_backend(ctx) == PL_IOMMU_IOMMUFD)
		return 0;
	pl_err("%s needs the iommufd back end (this context is %s)", what,
	       pl_iommu_backend_name(pl_iommu_backend(ctx)));
	return -EOPNOTSUPP;
}

int pl_iommu_ioas_alloc(struct pl_iommu *ctx, uint32_t *ioas_id)
{
	int ret, slot = -1;

	pthread_mutex_lock(&ctx->lock);
	if ((ret = need_iommufd(ctx, "pl_iommu_ioas_alloc")))
		goto out;
	for (int i = 0; i < 8 && slot < 0; i++)
		if (!ctx->extra_ioas[i])
			slot = i;
	if (slot < 0) {
		pl_err("pl_iommu_ioas_alloc: 8 extra IOASes already");
		ret = -ENOSPC;
		goto out;
	}
	if (!(ret = pl_iommufd_ioas_alloc(ctx, ioas_id)))
		ctx->extra_ioas[slot] = *ioas_id;
out:
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

int pl_iommu_ioas_destroy(struct pl_iommu *ctx, uint32_t ioas_id)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&ctx->lock);
	for (int i = 0; i < 8; i++)
		if (ioas_id && ctx->extra_ioas[i] == ioas_id) {
			if (!(ret = pl_iommufd_destroy(ctx, ioas_id)))
				ctx->extra_ioas[i] = 0;
			break;
		}
	pthread_mutex_unlock(&ctx->lock);
	if (ret == -ENOENT)
		pl_err("pl_iommu_ioas_destroy: IOAS %u is not one of this context's extras",
		       ioas_id);
	return ret;
}

int pl_iommu_ioas_copy(struct pl_iommu *ctx, uint32_t dst_ioas, uint64_t src_iova, size_t len,
		       uint64_t *dst_iova)
{
	int ret = need_iommufd(ctx, "pl_iommu_ioas_copy");

	return ret ? ret : pl_iommufd_copy(ctx, dst_ioas, src_iova, len, dst_iova);
}

int pl_iommu_ioas_unmap(struct pl_iommu *ctx, uint32_t ioas_id, uint64_t iova, size_t len)
{
	int ret = need_iommufd(ctx, "pl_iommu_ioas_unmap");

	return ret ? ret : pl_iommufd_ioas_unmap(ctx, ioas_id, iova, len);
}

int pl_iommu_huge_pages(struct pl_iommu *ctx, int set)
{
	int ret;

	pthread_mutex_lock(&ctx->lock);
	if (!(ret = need_iommufd(ctx, "pl_iommu_huge_pages")))
		ret = pl_iommufd_huge_pages(ctx, set);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}
