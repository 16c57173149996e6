/* The IOMMU itself: hardware info, fixed IOVAs, a second IOAS, the huge-page option. */
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

Test(iommu, vtd_hardware_info_is_decoded)
{
	struct pl_iommu *ctx;
	struct pl_vfio_dev *dev = testbed_open(PL_IOMMU_IOMMUFD, "nvme", &ctx);
	struct pl_iommu_hw_info hw;

	cr_assert_eq(pl_vfio_iommu_info(dev, &hw), 0);
	cr_log_info("VT-d cap %016llx ecap %016llx", (unsigned long long)hw.vtd_cap,
		    (unsigned long long)hw.vtd_ecap);
	cr_expect_eq(hw.type, 1, "not VT-d: type %u", hw.type);
	/* QEMU 7.2's intel-iommu: 39 address bits, 3-level tables, intremap=on. */
	cr_expect_eq(hw.addr_width, 39);
	cr_expect(hw.levels_mask & 1u << 1, "SAGAW %x lacks 3-level tables", hw.levels_mask);
	cr_expect(hw.intr_remap, "no interrupt remapping: BIND_IOMMUFD would have failed");
	testbed_close(dev, ctx);
}

Test(iommu, hardware_info_needs_iommufd)
{
	struct pl_iommu *ctx;
	struct pl_vfio_dev *dev = testbed_open(PL_IOMMU_VFIO, "nvme", &ctx);
	struct pl_iommu_hw_info hw;

	cr_expect_eq(pl_vfio_iommu_info(dev, &hw), -EOPNOTSUPP);
	testbed_close(dev, ctx);
}

ParameterizedTestParameters(iommu, fixed_iovas_where_the_caller_says)
{
	return cr_make_param_array(enum pl_iommu_backend, (void *)testbed_backends, 2);
}

ParameterizedTest(enum pl_iommu_backend *be, iommu, fixed_iovas_where_the_caller_says)
{
	struct pl_iommu *ctx;
	struct pl_vfio_dev *dev = testbed_open(*be, "e1000", &ctx);
	size_t len = 64 * 1024;
	char *buf = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	cr_assert_neq(buf, MAP_FAILED);
	uint64_t at = 1ull << 30;
	cr_expect_eq(pl_iommu_map_fixed(ctx, buf, len, at), 0);
	cr_expect_eq(pl_iommu_map_fixed(ctx, buf + len, len, at + len / 2), -EEXIST);
	/* The test bed's IOMMU translates 39 bits: 2^40 is outside every range. */
	cr_expect_eq(pl_iommu_map_fixed(ctx, buf + len, len, 1ull << 40), -ERANGE);
	/* An automatic mapping keeps clear of the fixed one. */
	uint64_t iova;
	cr_assert_eq(pl_iommu_map(ctx, buf + len, len, 0, &iova), 0);
	cr_expect(iova + len <= at || at + len <= iova, "auto IOVA 0x%llx overlaps the fixed one",
		  (unsigned long long)iova);
	cr_expect_eq(pl_iommu_unmap(ctx, iova, len), 0);
	cr_expect_eq(pl_iommu_unmap(ctx, at, len), 0);
	testbed_close(dev, ctx);
	munmap(buf, 2 * len);
}

Test(iommu, ioas_copy_maps_the_same_pages_in_a_second_ioas)
{
	struct pl_iommu *ctx;
	struct pl_vfio_dev *dev = testbed_open(PL_IOMMU_IOMMUFD, "nvme", &ctx);
	uint64_t iova, copy_iova;
	uint32_t ioas2;

	char *va = pl_dma_alloc(ctx, 2 * MiB, 0, &iova);
	cr_assert_not_null(va);
	cr_assert_eq(pl_iommu_ioas_alloc(ctx, &ioas2), 0);
	cr_expect_neq(ioas2, pl_iommu_ioas_id(ctx));
	cr_assert_eq(pl_iommu_ioas_copy(ctx, ioas2, iova, 2 * MiB, &copy_iova), 0);
	/* The copy is a real mapping in the second IOAS: it unmaps once, then is gone. */
	cr_expect_eq(pl_iommu_ioas_unmap(ctx, ioas2, copy_iova, 2 * MiB), 0);
	cr_expect_eq(pl_iommu_ioas_unmap(ctx, ioas2, copy_iova, 2 * MiB), -ENOENT);
	/* Copying what is not mapped in the source is refused. */
	cr_expect_lt(pl_iommu_ioas_copy(ctx, ioas2, iova + 64 * MiB, 2 * MiB, &copy_iova), 0);
	cr_expect_eq(pl_iommu_ioas_destroy(ctx, ioas2), 0);
	cr_expect_eq(pl_iommu_ioas_destroy(ctx, ioas2), -ENOENT);
	/* The original mapping is untouched. */
	cr_expect_eq(pl_dma_iova(ctx, va), iova);
	pl_dma_free(ctx, va);
	/* An extra IOAS left behind is destroyed with the context. */
	cr_assert_eq(pl_iommu_ioas_alloc(ctx, &ioas2), 0);
	testbed_close(dev, ctx);
}

Test(iommu, huge_pages_option_reads_and_sets)
{
	struct pl_iommu *ctx = pl_iommu_open(PL_IOMMU_IOMMUFD);

	cr_assert_not_null(ctx);
	cr_expect_eq(pl_iommu_huge_pages(ctx, -1), 1, "large IOMMU pages are on by default");
	cr_expect_eq(pl_iommu_huge_pages(ctx, 0), 0);
	cr_expect_eq(pl_iommu_huge_pages(ctx, -1), 0);
	cr_expect_eq(pl_iommu_huge_pages(ctx, 1), 1);
	pl_iommu_close(ctx);

	cr_assert_not_null(ctx = pl_iommu_open(PL_IOMMU_VFIO));
	cr_expect_eq(pl_iommu_huge_pages(ctx, -1), -EOPNOTSUPP);
	pl_iommu_close(ctx);
}
