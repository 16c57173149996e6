/* The DMA memory manager: hugepage regions, each mapped once, and VA-to-IOVA lookup. */
#define _GNU_SOURCE
#include "iommu_priv.h"

#include <pollen/dma.h>
#include <pollen/log.h>
#include <pollen/pci.h>

#include "array.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

static int pool_path(char *buf, size_t len, size_t page_size, const char *attr)
{
	return pl_path(buf, len, "%s/kernel/mm/hugepages/hugepages-%zukB/%s", pl_sysfs_root(),
		       page_size >> 10, attr);
}

static int read_pool(size_t page_size, const char *attr, long *out)
{
	char path[PATH_MAX], buf[32];
	FILE *f;

	if (pool_path(path, sizeof(path), page_size, attr))
		return -ENAMETOOLONG;
	if (!(f = fopen(path, "re")))
		return -ENOENT;
	*out = fgets(buf, sizeof(buf), f) ? atol(buf) : -1;
	fclose(f);
	return 0;
}

int pl_dma_hugepages(size_t page_size, long *total, long *free_pages)
{
	int ret = read_pool(page_size, "nr_hugepages", total);

	return ret ? ret : read_pool(page_size, "free_hugepages", free_pages);
}

long pl_dma_reserve_hugepages(size_t page_size, long n)
{
	char path[PATH_MAX];
	long total, free_pages;
	FILE *f;
	int ret;

	if (pool_path(path, sizeof(path), page_size, "nr_hugepages"))
		return -ENAMETOOLONG;
	if (!(f = fopen(path, "we"))) {
		ret = -errno;
		pl_err("%s: %s%s", path, strerror(-ret), ret == -EACCES ? " (run as root)" : "");
		return ret;
	}
	fprintf(f, "%ld\n", n);
	if (fclose(f)) {
		ret = -errno;
		pl_err("reserving %ld hugepages of %zu kB: %s", n, page_size >> 10, strerror(-ret));
		return ret;
	}
	if ((ret = pl_dma_hugepages(page_size, &total, &free_pages)))
		return ret;
	if (total < n)
		pl_warn("asked for %ld hugepages of %zu kB, the kernel reserved %ld (memory too "
			"fragmented or too small)", n, page_size >> 10, total);
	return total;
}

/*
 * Why @len bytes of @page_size hugepages could not be had, and how many to reserve. Free
 * pages that other mappings have reserved (resv_hugepages, HugePages_Rsvd) are not
 * available to us, so they do not count; the advice never shrinks the pool.
 */
static void log_no_hugepages(size_t len, size_t page_size)
{
	long total, free_pages, resv = 0;
	long want = (long)(len / page_size);
	const char *kind = page_size == 1ul << 30 ? "1GB" : "2MB";

	if (pl_dma_hugepages(page_size, &total, &free_pages)) {
		pl_err("no %zu KiB hugepages: this kernel has no pool of that size (enable "
		       "CONFIG_HUGETLBFS, or boot with hugepagesz=)", page_size >> 10);
		return;
	}
	read_pool(page_size, "resv_hugepages", &resv);
	long avail = free_pages - resv > 0 ? free_pages - resv : 0;
	if (avail >= want) {
		pl_err("%ld hugepages of %zu KiB refused although %ld are available: a hugetlb "
		       "cgroup limit, or the pages are on another NUMA node", want,
		       page_size >> 10, avail);
		return;
	}
	long need = total + want - avail;
	pl_err("not enough %zu KiB hugepages: want %ld, %ld available (%ld free of %ld, %ld of "
	       "those reserved by other mappings): reserve more with 'echo %ld > "
	       "/sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages' (or hugeadm "
	       "--pool-pages-min %s:%ld, or pollen-devbind --hugepages %ld%s)", page_size >> 10,
	       want, avail, free_pages, total, resv, need, page_size >> 10, kind, need, need,
	       page_size == 1ul << 30 ? " --hugepage-size 1G" : "");
}

/* A hugetlbfs mount whose page size is @page_size, from /proc/self/mounts. */
static int find_hugetlbfs(size_t page_size, char *dir, size_t len)
{
	char line[PATH_MAX + 256], mnt[PATH_MAX], type[64], opts[256];
	long total, free_pages;
	FILE *f = fopen("/proc/self/mounts", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	/* A mount without pagesize= has the default size, which /proc/meminfo names. */
	size_t deflt = 2ul << 20;
	if (pl_dma_hugepages(deflt, &total, &free_pages))
		deflt = 1ul << 30;
	while (ret && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %4095s %63s %255s", mnt, type, opts) != 3 ||
		    strcmp(type, "hugetlbfs"))
			continue;
		char *ps = strstr(opts, "pagesize=");
		size_t sz = deflt;
		if (ps) {
			char *end;
			sz = strtoul(ps + 9, &end, 10);
			sz <<= *end == 'G' ? 30 : *end == 'M' ? 20 : *end == 'K' ? 10 : 0;
		}
		if (sz == page_size && !access(mnt, W_OK))
			ret = pl_path(dir, len, "%s", mnt);
	}
	fclose(f);
	return ret;
}

static void *map_fd(int fd, size_t len, int *memfd)
{
	/* Hugetlb reserves the pages at mmap: too few pages fail here, not on touch. */
	void *va = ftruncate(fd, len) ? MAP_FAILED :
		   mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (va == MAP_FAILED) {
		int err = errno;
		close(fd);
		errno = err;
		return MAP_FAILED;
	}
	*memfd = fd;
	return va;
}

/*
 * Hugepages from a memfd first (it can back IOMMU_IOAS_MAP_FILE), then a file on a
 * hugetlbfs mount, then MAP_HUGETLB; @flags may insist on one of the last two. Each
 * falls through only when the kernel lacks the mechanism, never when pages run short.
 */
static void *map_huge(size_t len, size_t page_size, unsigned flags, int *memfd)
{
	unsigned shift = page_size == 1ul << 30 ? 30 : 21;
	int fd;

	*memfd = -1;
	if (!(flags & (PL_DMA_HUGETLBFS | PL_DMA_ANON))) {
		fd = memfd_create("pollen-dma", MFD_CLOEXEC | MFD_HUGETLB | (shift << MFD_HUGE_SHIFT));
		if (fd >= 0)
			return map_fd(fd, len, memfd);
		if (errno != EINVAL && errno != ENOSYS)
			return MAP_FAILED;
	}
	if (!(flags & PL_DMA_ANON)) {
		char dir[PATH_MAX], path[PATH_MAX];

		if (!find_hugetlbfs(page_size, dir, sizeof(dir)) &&
		    !pl_path(path, sizeof(path), "%s/pollen-dma.XXXXXX", dir) &&
		    (fd = mkostemp(path, O_CLOEXEC)) >= 0) {
			unlink(path);	/* nothing to clean up after a crash */
			return map_fd(fd, len, memfd);
		}
		if (flags & PL_DMA_HUGETLBFS) {
			pl_err("no writable hugetlbfs mount for %zu kB pages: mount -t hugetlbfs "
			       "-o pagesize=%zuK none /dev/hugepages", page_size >> 10,
			       page_size >> 10);
			errno = ENOENT;
			return MAP_FAILED;
		}
	}
	return mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE | (shift << MAP_HUGE_SHIFT),
		    -1, 0);
}

/* Binary search: the index of the region holding @va, or of where it would go (-1 - i). */
static int find_region(struct pl_iommu *ctx, const char *va)
{
	int lo = 0, hi = ctx->nregions - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		struct pl_dma_region *r = &ctx->regions[mid];

		if (va < r->va)
			hi = mid - 1;
		else if (va >= r->va + r->len)
			lo = mid + 1;
		else
			return mid;
	}
	return -1 - lo;
}

static int add_region(struct pl_iommu *ctx, const struct pl_dma_region *r)
{
	int at = find_region(ctx, r->va);

	if (at >= 0)
		return -EEXIST;
	at = -1 - at;
	/* Nor may it reach into the region after it. */
	if (at < ctx->nregions && ctx->regions[at].va < r->va + r->len)
		return -EEXIST;
	struct pl_dma_region *p = pl_array_grow(ctx->regions, &ctx->regions_cap,
						ctx->nregions + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	ctx->regions = p;
	memmove(&ctx->regions[at + 1], &ctx->regions[at],
		(ctx->nregions - at) * sizeof(*ctx->regions));
	ctx->regions[at] = *r;
	ctx->nregions++;
	return 0;
}

static void drop_region(struct pl_iommu *ctx, int i)
{
	struct pl_dma_region *r = &ctx->regions[i];

	if (r->owned)
		munmap(r->va, r->len);
	if (r->memfd >= 0)
		close(r->memfd);
	memmove(r, r + 1, (ctx->nregions - i - 1) * sizeof(*r));
	ctx->nregions--;
}

/*
 * A memfd region goes in by file where the kernel can (IOMMU_IOAS_MAP_FILE, 6.13): the
 * pages are pinned through the file, not looked up through our page tables.
 */
static int map_region(struct pl_iommu *ctx, struct pl_dma_region *r)
{
	int ret = r->memfd >= 0 ? pl_iommu_map_file(ctx, r->memfd, r->len, &r->iova) : -ENOTTY;

	if (ret == -ENOTTY)
		ret = pl_iommu_map(ctx, r->va, r->len, r->page_size, &r->iova);
	if (ret)
		return ret;
	pthread_mutex_lock(&ctx->lock);
	ret = add_region(ctx, r);
	pthread_mutex_unlock(&ctx->lock);
	if (ret)
		pl_iommu_unmap(ctx, r->iova, r->len);
	return ret;
}

static size_t page_size_of(unsigned flags)
{
	return flags & PL_DMA_4K ? (size_t)sysconf(_SC_PAGESIZE) :
	       flags & PL_DMA_HUGE_1G ? 1ul << 30 : 2ul << 20;
}

/* The memory of a region: hugepages (or 4 KiB pages when asked), zeroed and populated. */
static void *get_memory(size_t len, unsigned flags, size_t *alloc_len, int *memfd)
{
	size_t pg = page_size_of(flags);
	void *va;

	*memfd = -1;
	if (!len || len > SIZE_MAX - (pg - 1)) {
		/* Rounded up, such a length would wrap to a small one. */
		pl_err("DMA memory of %zu bytes: %s", len, len ? "too large to round up to whole "
		       "pages" : "nothing to allocate");
		errno = EINVAL;
		return NULL;
	}
	*alloc_len = (len + pg - 1) & ~(pg - 1);
	if (flags & PL_DMA_4K)
		va = mmap(NULL, *alloc_len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	else
		va = map_huge(*alloc_len, pg, flags, memfd);
	if (va != MAP_FAILED)
		return va;
	int err = errno;
	if (err == ENOMEM || err == EINVAL || err == ENOSPC) {
		log_no_hugepages(*alloc_len, pg);
		err = ENOMEM;
	} else if (err != ENOENT) {
		pl_err("%zu KiB of hugepage memory: mmap: %s", *alloc_len >> 10, strerror(err));
	}
	errno = err;
	return NULL;
}

void *pl_hugepage_alloc(size_t len, unsigned flags, size_t *alloc_len)
{
	int memfd;
	void *va = get_memory(len, flags, alloc_len, &memfd);

	/* The mapping keeps the memfd's pages; the descriptor itself is not needed. */
	if (memfd >= 0)
		close(memfd);
	return va;
}

void pl_hugepage_free(void *va, size_t alloc_len)
{
	if (va)
		munmap(va, alloc_len);
}

void *pl_dma_alloc(struct pl_iommu *ctx, size_t len, unsigned flags, uint64_t *iova)
{
	struct pl_dma_region r = { .owned = true, .page_size = page_size_of(flags) };
	int ret;

	if (!(r.va = get_memory(len, flags, &r.len, &r.memfd)))
		return NULL;
	if ((ret = map_region(ctx, &r))) {
		munmap(r.va, r.len);
		if (r.memfd >= 0)
			close(r.memfd);
		errno = -ret;
		return NULL;
	}
	*iova = r.iova;
	return r.va;
}

static int forget_region(struct pl_iommu *ctx, void *va, bool owned)
{
	struct pl_dma_region r;
	int i, ret;

	pthread_mutex_lock(&ctx->lock);
	i = find_region(ctx, va);
	if (i < 0 || ctx->regions[i].va != va || ctx->regions[i].owned != owned) {
		pthread_mutex_unlock(&ctx->lock);
		pl_err("%s(%p): not the start of a %s region", owned ? "pl_dma_free" :
		       "pl_dma_unregister", va, owned ? "pl_dma_alloc" : "registered");
		return -EINVAL;
	}
	r = ctx->regions[i];
	pthread_mutex_unlock(&ctx->lock);

	/* Unmap first: the memory must not be freed while a device can still reach it. */
	if ((ret = pl_iommu_unmap(ctx, r.iova, r.len)))
		return ret;
	pthread_mutex_lock(&ctx->lock);
	drop_region(ctx, find_region(ctx, va));
	__atomic_store_n(&ctx->regions_gone, ctx->regions_gone + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}

void pl_dma_free(struct pl_iommu *ctx, void *va)
{
	if (va)
		forget_region(ctx, va, true);
}

int pl_dma_register(struct pl_iommu *ctx, void *va, size_t len, uint64_t *iova)
{
	struct pl_dma_region r = { .va = va, .len = len, .memfd = -1,
				   .page_size = sysconf(_SC_PAGESIZE) };

	/* Keep the IOVA as aligned as the memory (up to 1 GiB) so large IOMMU pages fit. */
	while (r.page_size < 1ul << 30 && !(((uintptr_t)va | len) & (r.page_size * 2 - 1)))
		r.page_size *= 2;
	int ret = map_region(ctx, &r);

	if (!ret)
		*iova = r.iova;
	return ret;
}

int pl_dma_unregister(struct pl_iommu *ctx, void *va)
{
	return forget_region(ctx, va, false);
}

int pl_dma_lookup(struct pl_iommu *ctx, const void *va, struct pl_dma_span *out)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&ctx->lock);
	int i = find_region(ctx, va);
	if (i >= 0) {
		*out = (struct pl_dma_span){ ctx->regions[i].va, ctx->regions[i].len,
					     ctx->regions[i].iova, &ctx->regions_gone,
					     ctx->regions_gone };
		ret = 0;
	}
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

uint64_t pl_dma_iova(struct pl_iommu *ctx, const void *va)
{
	struct pl_dma_span s;

	/* Lookups are for the control path: the data path carries IOVAs with its objects. */
	if (pl_dma_lookup(ctx, va, &s))
		return PL_IOVA_BAD;
	return s.iova + ((const char *)va - (const char *)s.va);
}
