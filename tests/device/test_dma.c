/* DMA memory behind each IOMMU back end: hugepages mapped inside the IOMMU's IOVA ranges. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/vfio.h>

#include "testbed.h"

#define MiB (1ul << 20)

static struct pl_iommu *ctx;
static struct pl_vfio_dev *nvme;

/* A context with the NVMe attached: that settles the back end and the IOVA ranges. */
#define BACKENDS(name)                                                                 \
	ParameterizedTestParameters(dma, name)                                         \
	{                                                                              \
		return cr_make_param_array(enum pl_iommu_backend, (void *)testbed_backends, 2); \
	}                                                                              \
	ParameterizedTest(enum pl_iommu_backend *be, dma, name)

BACKENDS(hugepages_map_inside_the_reported_iova_ranges)
{
	uint64_t iova;

	nvme = testbed_open(*be, "nvme", &ctx);
	/* The guest's VT-d has 39 address bits: no IOVA may be at or above 2^39. */
	struct pl_iova_range r[32];
	int n = pl_iommu_iova_ranges(ctx, r, 32);
	cr_assert_gt(n, 0);
	cr_expect_lt(r[n - 1].last, 1ull << 39, "top of IOVA space 0x%llx",
		     (unsigned long long)r[n - 1].last);

	char *va = pl_dma_alloc(ctx, 3 * MiB, 0, &iova);
	cr_assert_not_null(va, "pl_dma_alloc: %s", strerror(errno));
	/* Aligned like the hugepage, so the IOMMU can map it with 2 MiB pages. */
	cr_expect_eq(iova % (2 * MiB), 0, "IOVA 0x%llx is not 2 MiB aligned",
		     (unsigned long long)iova);
	cr_expect_neq(iova, 0, "IOVA 0 handed out");
	testbed_expect_in_ranges(ctx, iova, 4 * MiB);	/* rounded up to two hugepages */
	cr_expect_eq(va[0], 0, "hugepage memory comes zeroed");
	memset(va, 0xa5, 4 * MiB);

	/* VA to IOVA is arithmetic inside the region, and refuses outside it. */
	cr_expect_eq(pl_dma_iova(ctx, va), iova);
	cr_expect_eq(pl_dma_iova(ctx, va + 4097), iova + 4097);
	cr_expect_eq(pl_dma_iova(ctx, va + 4 * MiB - 1), iova + 4 * MiB - 1);
	cr_expect_eq(pl_dma_iova(ctx, va + 4 * MiB), PL_IOVA_BAD);
	cr_expect_eq(pl_dma_iova(ctx, &iova), PL_IOVA_BAD);
	pl_dma_free(ctx, va);
	cr_expect_eq(pl_dma_iova(ctx, va), PL_IOVA_BAD);
	testbed_close(nvme, ctx);
}

BACKENDS(regions_get_disjoint_iovas_and_unmap_cleanly)
{
	uint64_t iova[4];
	char *va[4];

	nvme = testbed_open(*be, "nvme", &ctx);
	for (int i = 0; i < 4; i++) {
		va[i] = pl_dma_alloc(ctx, 2 * MiB, 0, &iova[i]);
		cr_assert_not_null(va[i], "region %d: %s", i, strerror(errno));
	}
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			cr_expect(iova[i] + 2 * MiB <= iova[j] || iova[j] + 2 * MiB <= iova[i],
				  "regions %d and %d overlap in IOVA space", i, j);
	/* Free the middle ones and map again: the IOVA space is reusable. */
	pl_dma_free(ctx, va[1]);
	pl_dma_free(ctx, va[2]);
	for (int round = 0; round < 3; round++) {
		uint64_t again;
		char *p = pl_dma_alloc(ctx, 4 * MiB, 0, &again);
		cr_assert_not_null(p, "round %d: %s", round, strerror(errno));
		testbed_expect_in_ranges(ctx, again, 4 * MiB);
		cr_expect(again + 4 * MiB <= iova[0] || iova[0] + 2 * MiB <= again);
		cr_expect(again + 4 * MiB <= iova[3] || iova[3] + 2 * MiB <= again);
		pl_dma_free(ctx, p);
	}
	pl_dma_free(ctx, va[0]);
	pl_dma_free(ctx, va[3]);
	testbed_close(nvme, ctx);
}

BACKENDS(callers_own_memory_registers)
{
	uint64_t iova;
	size_t len = 256 * 1024;
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(buf, MAP_FAILED);
	nvme = testbed_open(*be, "nvme", &ctx);
	cr_assert_eq(pl_dma_register(ctx, buf, len, &iova), 0);
	testbed_expect_in_ranges(ctx, iova, len);
	cr_expect_eq(pl_dma_iova(ctx, buf + 100), iova + 100);
	cr_expect_eq(pl_dma_register(ctx, buf, len, &iova), -EEXIST, "registered twice");
	cr_expect_eq(pl_dma_unregister(ctx, buf), 0);
	cr_expect_eq(pl_dma_iova(ctx, buf), PL_IOVA_BAD);
	testbed_close(nvme, ctx);
	/* Still the caller's memory. */
	buf[0] = 1;
	munmap(buf, len);
}

BACKENDS(regions_survive_closing_every_device)
{
	uint64_t iova;

	nvme = testbed_open(*be, "nvme", &ctx);
	char *va = pl_dma_alloc(ctx, 2 * MiB, 0, &iova);
	cr_assert_not_null(va);
	/* With no device left a container loses its IOMMU; the region must come back. */
	pl_vfio_close(nvme);
	cr_assert_not_null(nvme = pl_vfio_open(ctx, testbed_dev("e1000")));
	cr_expect_eq(pl_dma_iova(ctx, va + 10), iova + 10);
	uint64_t other;
	char *more = pl_dma_alloc(ctx, 2 * MiB, 0, &other);
	cr_assert_not_null(more);
	cr_expect(other + 2 * MiB <= iova || iova + 2 * MiB <= other, "IOVA reused while mapped");
	pl_dma_free(ctx, more);
	pl_dma_free(ctx, va);
	testbed_close(nvme, ctx);
}

Test(dma, the_container_wants_a_device_before_memory)
{
	uint64_t iova;

	testbed_capture_log();
	cr_assert_not_null(ctx = pl_iommu_open(PL_IOMMU_VFIO));
	errno = 0;
	cr_expect_null(pl_dma_alloc(ctx, 2 * MiB, 0, &iova));
	cr_expect_eq(errno, ENXIO);
	cr_expect(strstr(testbed_last_log(), "open a device first"), "logged: %s",
		  testbed_last_log());
	pl_iommu_close(ctx);
}

static long read_nr_hugepages(void)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r");
	long n = -1;

	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%ld", &n), 1);
	fclose(f);
	return n;
}

static void write_nr_hugepages(long n)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "w");

	cr_assert_not_null(f);
	fprintf(f, "%ld\n", n);
	cr_assert_eq(fclose(f), 0);
}

BACKENDS(too_few_hugepages_says_how_many_and_how)
{
	uint64_t iova;
	long saved = read_nr_hugepages();

	nvme = testbed_open(*be, "nvme", &ctx);
	write_nr_hugepages(2);
	testbed_capture_log();
	errno = 0;
	void *va = pl_dma_alloc(ctx, 8 * MiB, 0, &iova);
	write_nr_hugepages(saved);
	cr_expect_null(va);
	cr_expect_eq(errno, ENOMEM);
	cr_expect(strstr(testbed_last_log(), "want 4, 2 free of 2"), "logged: %s",
		  testbed_last_log());
	cr_expect(strstr(testbed_last_log(), "nr_hugepages"), "logged: %s", testbed_last_log());
	/* Nothing was lost: with the pages back the same request succeeds. */
	cr_assert_not_null(va = pl_dma_alloc(ctx, 8 * MiB, 0, &iova));
	pl_dma_free(ctx, va);
	testbed_close(nvme, ctx);
}

BACKENDS(four_kib_pages_when_asked)
{
	uint64_t iova;

	nvme = testbed_open(*be, "nvme", &ctx);
	char *va = pl_dma_alloc(ctx, 12 * 1024, PL_DMA_4K, &iova);
	cr_assert_not_null(va);
	testbed_expect_in_ranges(ctx, iova, 12 * 1024);
	cr_expect_eq(pl_dma_iova(ctx, va + 8192), iova + 8192);
	pl_dma_free(ctx, va);
	testbed_close(nvme, ctx);
}

struct src_case {
	enum pl_iommu_backend backend;
	unsigned flags;
};

ParameterizedTestParameters(dma, each_hugepage_source_maps)
{
	static struct src_case cases[] = {
		{ PL_IOMMU_IOMMUFD, 0 }, { PL_IOMMU_IOMMUFD, PL_DMA_HUGETLBFS },
		{ PL_IOMMU_IOMMUFD, PL_DMA_ANON }, { PL_IOMMU_VFIO, 0 },
		{ PL_IOMMU_VFIO, PL_DMA_HUGETLBFS }, { PL_IOMMU_VFIO, PL_DMA_ANON },
	};
	return cr_make_param_array(struct src_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct src_case *c, dma, each_hugepage_source_maps)
{
	uint64_t iova;
	long before, after, total;

	nvme = testbed_open(c->backend, "nvme", &ctx);
	cr_assert_eq(pl_dma_hugepages(2 * MiB, &total, &before), 0);
	char *va = pl_dma_alloc(ctx, 4 * MiB, c->flags, &iova);
	cr_assert_not_null(va, "flags %x: %s", c->flags, strerror(errno));
	cr_assert_eq(pl_dma_hugepages(2 * MiB, &total, &after), 0);
	cr_expect_eq(before - after, 2, "the region did not come from two hugepages");
	testbed_expect_in_ranges(ctx, iova, 4 * MiB);
	cr_expect_eq(iova % (2 * MiB), 0);
	for (size_t i = 0; i < 4 * MiB; i += 4096)
		va[i] = (char)(i >> 12);
	for (size_t i = 0; i < 4 * MiB; i += 4096)
		cr_assert_eq(va[i], (char)(i >> 12));
	pl_dma_free(ctx, va);
	cr_assert_eq(pl_dma_hugepages(2 * MiB, &total, &after), 0);
	cr_expect_eq(after, before, "hugepages not returned (a file left on hugetlbfs?)");
	testbed_close(nvme, ctx);
}
