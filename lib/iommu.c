/* The IOMMU context: picks a back end and hands devices to it. */
#include "iommu_priv.h"

#include <pollen/log.h>

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

void pl_log_open_error(const char *what, const char *path, int err)
{
	switch (err) {
	case ENOENT:
		pl_err("%s: %s does not exist", what, path);
		break;
	case EACCES:
	case EPERM:
		pl_err("%s: no permission to open %s: run as root, or give your user the node "
		       "(chown) and a memlock limit (ulimit -l)", what, path);
		break;
	case EBUSY:
		pl_err("%s: %s is busy: the device is in use (by another process, or another IOMMU context in this one)", what, path);
		break;
	default:
		pl_err("%s: cannot open %s: %s", what, path, strerror(err));
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

struct pl_iommu *pl_iommu_open(enum pl_iommu_backend want)
{
	struct pl_iommu *ctx;
	int ret;

	if (want == PL_IOMMU_AUTO && (ret = want_from_env(&want))) {
		errno = -ret;
		return NULL;
	}
	if (!(ctx = calloc(1, sizeof(*ctx)))) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->iommufd = -1;
	ctx->container = -1;

	switch (want) {
	case PL_IOMMU_IOMMUFD:
		ret = pl_iommufd_ctx_open(ctx);
		break;
	case PL_IOMMU_VFIO:
		ret = pl_container_ctx_open(ctx);
		break;
	default:
		/* Open what exists now; the first device decides which is used. */
		ret = -ENOENT;
		if (dev_exists("iommu"))
			ret = pl_iommufd_ctx_open(ctx);
		if (dev_exists("vfio/vfio")) {
			int r2 = pl_container_ctx_open(ctx);
			ret = ret ? r2 : 0;
		}
		if (ret == -ENOENT)
			pl_err("neither %s/iommu nor %s/vfio/vfio exists: load vfio-pci (modprobe "
			       "vfio-pci) and enable the IOMMU (intel_iommu=on)", pl_devfs_root(),
			       pl_devfs_root());
		break;
	}
	if (ret) {
		pl_iommufd_ctx_close(ctx);
		pl_container_ctx_close(ctx);
		pthread_mutex_destroy(&ctx->lock);
		free(ctx);
		errno = -ret;
		return NULL;
	}
	ctx->backend = want;
	return ctx;
}

void pl_iommu_close(struct pl_iommu *ctx)
{
	if (!ctx)
		return;
	if (ctx->ndevs) {
		pl_err("pl_iommu_close: %d device(s) still open on this context; leaving it",
		       ctx->ndevs);
		return;
	}
	pl_iommufd_ctx_close(ctx);
	pl_container_ctx_close(ctx);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

enum pl_iommu_backend pl_iommu_backend(const struct pl_iommu *ctx)
{
	return ctx->backend;
}

int pl_iommu_iommufd(const struct pl_iommu *ctx)
{
	return ctx->backend == PL_IOMMU_IOMMUFD ? ctx->iommufd : -1;
}

uint32_t pl_iommu_ioas_id(const struct pl_iommu *ctx)
{
	return ctx->backend == PL_IOMMU_IOMMUFD ? ctx->ioas_id : 0;
}

int pl_iommu_container(const struct pl_iommu *ctx)
{
	return ctx->backend == PL_IOMMU_VFIO ? ctx->container : -1;
}
