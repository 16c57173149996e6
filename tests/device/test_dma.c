/* DMA memory behind each IOMMU back end: hugepages mapped inside the IOMMU's IOVA ranges. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/log.h>
#include <pollen/pkt.h>
#include <pollen/vfio.h>

#include "testbed.h"

#define MiB (1ul << 20)

TESTBED_TEST(dma, hugepages_map_inside_the_reported_iova_ranges, "nvme")
{
	uint64_t iova;

	/* The guest's VT-d has 39 address bits: no IOVA may be at or above 2^39. */
	struct pl_iova_range r[32];
	int n = pl_iommu_iova_ranges(tb.ctx, r, 32);
	cr_assert_gt(n, 0);
	cr_expect_lt(r[n - 1].last, 1ull << 39, "top of IOVA space 0x%llx",
		     (unsigned long long)r[n - 1].last);

	char *va = pl_dma_alloc(tb.ctx, 3 * MiB, 0, &iova);
	cr_assert_not_null(va, "pl_dma_alloc: %s", strerror(errno));
	/* Aligned like the hugepage, so the IOMMU can map it with 2 MiB pages. */
	cr_expect_eq(iova % (2 * MiB), 0, "IOVA 0x%llx is not 2 MiB aligned",
		     (unsigned long long)iova);
	cr_expect_neq(iova, 0, "IOVA 0 handed out");
	testbed_expect_in_ranges(tb.ctx, iova, 4 * MiB);	/* rounded up to two hugepages */
	cr_expect_eq(va[0], 0, "hugepage memory comes zeroed");
	memset(va, 0xa5, 4 * MiB);

	/* VA to IOVA is arithmetic inside the region, and refuses outside it. */
	cr_expect_eq(pl_dma_iova(tb.ctx, va), iova);
	cr_expect_eq(pl_dma_iova(tb.ctx, va + 4097), iova + 4097);
	cr_expect_eq(pl_dma_iova(tb.ctx, va + 4 * MiB - 1), iova + 4 * MiB - 1);
	cr_expect_eq(pl_dma_iova(tb.ctx, va + 4 * MiB), PL_IOVA_BAD);
	cr_expect_eq(pl_dma_iova(tb.ctx, &iova), PL_IOVA_BAD);
	pl_dma_free(tb.ctx, va);
	cr_expect_eq(pl_dma_iova(tb.ctx, va), PL_IOVA_BAD);
}

TESTBED_TEST(dma, regions_get_disjoint_iovas_and_unmap_cleanly, "nvme")
{
	uint64_t iova[4];
	char *va[4];

	for (int i = 0; i < 4; i++) {
		va[i] = pl_dma_alloc(tb.ctx, 2 * MiB, 0, &iova[i]);
		cr_assert_not_null(va[i], "region %d: %s", i, strerror(errno));
	}
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			cr_expect(iova[i] + 2 * MiB <= iova[j] || iova[j] + 2 * MiB <= iova[i],
				  "regions %d and %d overlap in IOVA space", i, j);
	/* Free the middle ones and map again: the IOVA space is reusable. */
	pl_dma_free(tb.ctx, va[1]);
	pl_dma_free(tb.ctx, va[2]);
	for (int round = 0; round < 3; round++) {
		uint64_t again;
		char *p = pl_dma_alloc(tb.ctx, 4 * MiB, 0, &again);
		cr_assert_not_null(p, "round %d: %s", round, strerror(errno));
		testbed_expect_in_ranges(tb.ctx, again, 4 * MiB);
		cr_expect(again + 4 * MiB <= iova[0] || iova[0] + 2 * MiB <= again);
		cr_expect(again + 4 * MiB <= iova[3] || iova[3] + 2 * MiB <= again);
		pl_dma_free(tb.ctx, p);
	}
	pl_dma_free(tb.ctx, va[0]);
	pl_dma_free(tb.ctx, va[3]);
}

TESTBED_TEST(dma, callers_own_memory_registers, "nvme")
{
	uint64_t iova;
	size_t len = 256 * 1024;
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(buf, MAP_FAILED);
	cr_assert_eq(pl_dma_register(tb.ctx, buf, len, &iova), 0);
	testbed_expect_in_ranges(tb.ctx, iova, len);
	cr_expect_eq(pl_dma_iova(tb.ctx, buf + 100), iova + 100);
	cr_expect_eq(pl_dma_register(tb.ctx, buf, len, &iova), -EEXIST, "registered twice");
	cr_expect_eq(pl_dma_unregister(tb.ctx, buf), 0);
	cr_expect_eq(pl_dma_iova(tb.ctx, buf), PL_IOVA_BAD);
	/* Still the caller's memory. */
	buf[0] = 1;
	munmap(buf, len);
}

/*
 * The 2 MiB region at @va is at @iova now that a device is open, and a new region lands
 * clear of it; then both are freed.
 */
static void expect_kept_then_free(char *va, uint64_t iova)
{
	uint64_t other;

	cr_expect_eq(pl_dma_iova(tb.ctx, va + 10), iova + 10);
	char *more = pl_dma_alloc(tb.ctx, 2 * MiB, 0, &other);
	cr_assert_not_null(more);
	cr_expect(other + 2 * MiB <= iova || iova + 2 * MiB <= other, "IOVA reused while mapped");
	pl_dma_free(tb.ctx, more);
	pl_dma_free(tb.ctx, va);
}

TESTBED_TEST(dma, regions_survive_closing_every_device, "nvme")
{
	uint64_t iova;

	char *va = pl_dma_alloc(tb.ctx, 2 * MiB, 0, &iova);
	cr_assert_not_null(va);
	/* With no device left a container loses its IOMMU; the region must come back. */
	pl_vfio_close(tb.dev);
	tb.dev = NULL;
	testbed_reopen("e1000");
	expect_kept_then_free(va, iova);
}

/*
 * A container with no device has no IOMMU: memory made then is promised an IOVA (from
 * 4 GiB), one freed meanwhile is forgotten, and the rest is mapped at its promise when
 * a device opens (test_eth sends frames through such a pool).
 */
TESTBED_TEST_ON(PL_IOMMU_VFIO, dma, memory_before_a_device_is_mapped_when_one_opens,
		TESTBED_CONTEXT)
{
	uint64_t iova, gone_iova;

	char *gone = pl_dma_alloc(tb.ctx, 2 * MiB, 0, &gone_iova);
	char *va = pl_dma_alloc(tb.ctx, 2 * MiB, 0, &iova);
	cr_assert(gone && va, "memory before any device: %s", strerror(errno));
	cr_expect_geq(iova, 1ull << 32);
	cr_expect(gone_iova + 2 * MiB <= iova || iova + 2 * MiB <= gone_iova, "one IOVA twice");
	pl_dma_free(tb.ctx, gone);
	testbed_reopen("e1000");
	testbed_expect_in_ranges(tb.ctx, iova, 2 * MiB);
	expect_kept_then_free(va, iova);
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

TESTBED_TEST(dma, too_few_hugepages_says_how_many_and_how, "nvme")
{
	uint64_t iova;
	long saved = read_nr_hugepages();

	write_nr_hugepages(2);
	testbed_capture_log();
	errno = 0;
	void *va = pl_dma_alloc(tb.ctx, 8 * MiB, 0, &iova);
	write_nr_hugepages(saved);
	cr_expect_null(va);
	cr_expect_eq(errno, ENOMEM);
	cr_expect(strstr(testbed_last_log(), "want 4, 2 available (2 free of 2, 0 of those reserved"),
		  "logged: %s", testbed_last_log());
	cr_expect(strstr(testbed_last_log(), "echo 4 > /sys/kernel/mm/hugepages/hugepages-2048kB/"
			 "nr_hugepages"), "logged: %s", testbed_last_log());
	/* Nothing was lost: with the pages back the same request succeeds. */
	cr_assert_not_null(va = pl_dma_alloc(tb.ctx, 8 * MiB, 0, &iova));
	pl_dma_free(tb.ctx, va);
}

TESTBED_TEST(dma, four_kib_pages_when_asked, "nvme")
{
	uint64_t iova;

	char *va = pl_dma_alloc(tb.ctx, 12 * 1024, PL_DMA_4K, &iova);
	cr_assert_not_null(va);
	testbed_expect_in_ranges(tb.ctx, iova, 12 * 1024);
	cr_expect_eq(pl_dma_iova(tb.ctx, va + 8192), iova + 8192);
	pl_dma_free(tb.ctx, va);
}

struct src_case {
	enum pl_iommu_backend backend;
	unsigned flags;
};

ParameterizedTestParameters(dma, each_hugepage_source_maps)
{
	static const unsigned sources[] = { 0, PL_DMA_HUGETLBFS, PL_DMA_ANON };
	static struct src_case cases[2 * 3];

	/* Every hugepage source under every back end. */
	for (int b = 0; b < 2; b++)
		for (int s = 0; s < 3; s++)
			cases[b * 3 + s] = (struct src_case){ testbed_backends[b], sources[s] };
	return cr_make_param_array(struct src_case, cases, 6);
}

ParameterizedTest(struct src_case *c, dma, each_hugepage_source_maps, .fini = testbed_teardown)
{
	uint64_t iova;
	long before, after, total;

	testbed_setup(c->backend, "nvme");
	cr_assert_eq(pl_dma_hugepages(2 * MiB, &total, &before), 0);
	char *va = pl_dma_alloc(tb.ctx, 4 * MiB, c->flags, &iova);
	cr_assert_not_null(va, "flags %x: %s", c->flags, strerror(errno));
	cr_assert_eq(pl_dma_hugepages(2 * MiB, &total, &after), 0);
	cr_expect_eq(before - after, 2, "the region did not come from two hugepages");
	testbed_expect_in_ranges(tb.ctx, iova, 4 * MiB);
	cr_expect_eq(iova % (2 * MiB), 0);
	for (size_t i = 0; i < 4 * MiB; i += 4096)
		va[i] = (char)(i >> 12);
	for (size_t i = 0; i < 4 * MiB; i += 4096)
		cr_assert_eq(va[i], (char)(i >> 12));
	pl_dma_free(tb.ctx, va);
	cr_assert_eq(pl_dma_hugepages(2 * MiB, &total, &after), 0);
	cr_expect_eq(after, before, "hugepages not returned (a file left on hugetlbfs?)");
}

TESTBED_TEST(dma, freeing_memory_after_closing_the_device_is_quiet, "nvme")
{
	uint64_t iova, again;

	char *va = pl_dma_alloc(tb.ctx, 2 * MiB, 0, &iova);
	cr_assert_not_null(va);
	/* The natural order: the device first, then its memory. */
	pl_vfio_close(tb.dev);
	tb.dev = NULL;
	testbed_capture_log();
	pl_dma_free(tb.ctx, va);
	cr_expect_str_eq(testbed_last_log(), "", "freeing after the close logged an error");
	cr_expect_eq(pl_dma_iova(tb.ctx, va), PL_IOVA_BAD);
	/* Nothing stale is left: the next device maps memory afresh. */
	testbed_reopen("nvme");
	char *more = pl_dma_alloc(tb.ctx, 2 * MiB, 0, &again);
	cr_assert_not_null(more, "%s", strerror(errno));
	testbed_expect_in_ranges(tb.ctx, again, 2 * MiB);
	pl_dma_free(tb.ctx, more);
}

TESTBED_TEST(dma, a_context_under_a_pool_is_not_closed, "e1000")
{
	struct pl_mempool *mp = pl_pkt_pool_create(tb.ctx, "rx", 512, 0, 32);
	struct pl_pkt *p;

	cr_assert_not_null(mp, "%s", strerror(errno));
	pl_vfio_close(tb.dev);
	tb.dev = NULL;
	testbed_capture_log();
	cr_expect_eq(pl_iommu_close(tb.ctx), -EBUSY, "closed under a live pool");
	cr_expect(strstr(testbed_last_log(), "1 DMA region(s)"), "logged: %s", testbed_last_log());
	/* The context and the pool still work... */
	cr_assert_not_null(p = pl_pkt_alloc(mp));
	cr_expect_eq(pl_dma_iova(tb.ctx, p->buf), p->buf_iova);
	pl_pkt_free(p);
	/* ...and the pool frees, after which the context closes (in the tear-down). */
	pl_mempool_free(mp);
}
