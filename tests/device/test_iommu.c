/* The IOMMU itself: hardware info, fixed IOVAs, a second IOAS, the huge-page option. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/vfio.h>

#include <pollen/nvme.h>

#include "pattern.h"
#include "testbed.h"

#define MiB (1ul << 20)

TESTBED_TEST_ON(PL_IOMMU_IOMMUFD, iommu, vtd_hardware_info_is_decoded, "nvme")
{
	struct pl_iommu_hw_info hw;

	cr_assert_eq(pl_vfio_iommu_info(tb.dev, &hw), 0);
	cr_log_info("VT-d cap %016llx ecap %016llx", (unsigned long long)hw.vtd_cap,
		    (unsigned long long)hw.vtd_ecap);
	cr_expect_eq(hw.type, 1, "not VT-d: type %u", hw.type);
	/* QEMU 7.2's intel-iommu: 39 address bits, 3-level tables, intremap=on. */
	cr_expect_eq(hw.addr_width, 39);
	cr_expect(hw.levels_mask & 1u << 1, "SAGAW %x lacks 3-level tables", hw.levels_mask);
	cr_expect(hw.intr_remap, "no interrupt remapping: BIND_IOMMUFD would have failed");
}

TESTBED_TEST_ON(PL_IOMMU_VFIO, iommu, hardware_info_needs_iommufd, "nvme")
{
	struct pl_iommu_hw_info hw;

	cr_expect_eq(pl_vfio_iommu_info(tb.dev, &hw), -EOPNOTSUPP);
}

TESTBED_TEST(iommu, fixed_iovas_where_the_caller_says, "e1000")
{
	size_t len = 64 * 1024;
	char *buf = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	cr_assert_neq(buf, MAP_FAILED);
	uint64_t at = 1ull << 30;
	cr_expect_eq(pl_iommu_map_fixed(tb.ctx, buf, len, at), 0);
	cr_expect_eq(pl_iommu_map_fixed(tb.ctx, buf + len, len, at + len / 2), -EEXIST);
	/* The test bed's IOMMU translates 39 bits: 2^40 is outside every range. */
	cr_expect_eq(pl_iommu_map_fixed(tb.ctx, buf + len, len, 1ull << 40), -ERANGE);
	/* An automatic mapping keeps clear of the fixed one. */
	uint64_t iova;
	cr_assert_eq(pl_iommu_map(tb.ctx, buf + len, len, 0, &iova), 0);
	cr_expect(iova + len <= at || at + len <= iova, "auto IOVA 0x%llx overlaps the fixed one",
		  (unsigned long long)iova);
	cr_expect_eq(pl_iommu_unmap(tb.ctx, iova, len), 0);
	cr_expect_eq(pl_iommu_unmap(tb.ctx, at, len), 0);
	munmap(buf, 2 * len);
}

TESTBED_TEST_ON(PL_IOMMU_IOMMUFD, iommu, ioas_copy_maps_the_same_pages_in_a_second_ioas, "nvme")
{
	uint64_t iova, copy_iova;
	uint32_t ioas2;

	char *va = pl_dma_alloc(tb.ctx, 2 * MiB, 0, &iova);
	cr_assert_not_null(va);
	cr_assert_eq(pl_iommu_ioas_alloc(tb.ctx, &ioas2), 0);
	cr_expect_neq(ioas2, pl_iommu_ioas_id(tb.ctx));
	cr_assert_eq(pl_iommu_ioas_copy(tb.ctx, ioas2, iova, 2 * MiB, &copy_iova), 0);
	/* The copy is a real mapping in the second IOAS: it unmaps once, then is gone. */
	cr_expect_eq(pl_iommu_ioas_unmap(tb.ctx, ioas2, copy_iova, 2 * MiB), 0);
	cr_expect_eq(pl_iommu_ioas_unmap(tb.ctx, ioas2, copy_iova, 2 * MiB), -ENOENT);
	/* Copying what is not mapped in the source is refused. */
	cr_expect_lt(pl_iommu_ioas_copy(tb.ctx, ioas2, iova + 64 * MiB, 2 * MiB, &copy_iova), 0);
	cr_expect_eq(pl_iommu_ioas_destroy(tb.ctx, ioas2), 0);
	cr_expect_eq(pl_iommu_ioas_destroy(tb.ctx, ioas2), -ENOENT);
	/* The original mapping is untouched. */
	cr_expect_eq(pl_dma_iova(tb.ctx, va), iova);
	pl_dma_free(tb.ctx, va);
	/* An extra IOAS left behind is destroyed with the context. */
	cr_assert_eq(pl_iommu_ioas_alloc(tb.ctx, &ioas2), 0);
}

TESTBED_TEST_ON(PL_IOMMU_IOMMUFD, iommu, huge_pages_option_reads_and_sets, TESTBED_CONTEXT)
{
	struct pl_iommu *legacy;

	cr_expect_eq(pl_iommu_huge_pages(tb.ctx, -1), 1, "large IOMMU pages are on by default");
	cr_expect_eq(pl_iommu_huge_pages(tb.ctx, 0), 0);
	cr_expect_eq(pl_iommu_huge_pages(tb.ctx, -1), 0);
	cr_expect_eq(pl_iommu_huge_pages(tb.ctx, 1), 1);

	cr_assert_not_null(legacy = pl_iommu_open(PL_IOMMU_VFIO));
	cr_expect_eq(pl_iommu_huge_pages(legacy, -1), -EOPNOTSUPP);
	cr_expect_eq(pl_iommu_close(legacy), 0);
}

static void read_done(void *arg, const struct pl_nvme_cpl *cpl)
{
	*(int *)arg = cpl->status ? -1 : 1;
}

/* The NVMe driver reads 8 blocks at LBA 0 into @iova, wherever that maps. */
static int read_to_iova(struct pl_nvme_qpair *qp, uint64_t iova)
{
	struct nvme_sqe cmd = {
		.opcode = NVME_NVM_READ, .nsid = 1, .prp1 = iova, .cdw12 = NVME_RW_NLB(7),
	};
	int done = 0;

	cr_assert_eq(pl_nvme_submit_raw(qp, &cmd, read_done, &done), 0);
	for (long i = 0; !done; i++) {
		cr_assert_geq(pl_nvme_poll(qp, 0), 0);
		cr_assert_lt(i, 100000000, "no completion");
	}
	return done > 0 ? 0 : -EIO;
}

/*
 * A container loses its IOMMU, and the kernel every mapping in it, when its last device
 * closes; the mappings must come back with the next device, the caller's own raw and
 * fixed ones as well as DMA regions, as they simply stay with iommufd. The NVMe driver
 * proves it by reading data through each of them after the reopen.
 */
TESTBED_TEST(iommu, raw_and_fixed_mappings_outlive_the_last_device, "nvme")
{
	size_t len = 2 * MiB;
	char *raw = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	char *fixed = raw + len;
	uint64_t raw_iova, fixed_iova = 1ull << 32, q_iova;

	cr_assert_neq(raw, MAP_FAILED);
	cr_assert_eq(pl_iommu_map(tb.ctx, raw, len, 0, &raw_iova), 0);
	cr_assert_eq(pl_iommu_map_fixed(tb.ctx, fixed, len, fixed_iova), 0);
	char *data = pl_dma_alloc(tb.ctx, len, 0, &q_iova);
	cr_assert_not_null(data);

	pl_vfio_close(tb.dev);
	tb.dev = NULL;
	struct pl_nvme_ctrl *c = pl_nvme_open(tb.ctx, testbed_dev("nvme"), NULL);
	cr_assert_not_null(c);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, NULL);
	cr_assert_not_null(qp);
	pattern_fill(data, 1, 0, 8, 512, 4);
	cr_assert_eq(pl_nvme_write_sync(qp, 1, data, 0, 8, NULL), 0);
	memset(raw, 0, 4096 * 3);
	memset(fixed, 0, 4096 * 3);
	cr_expect_eq(read_to_iova(qp, raw_iova + 8192), 0);
	cr_expect_eq(read_to_iova(qp, fixed_iova + 8192), 0);
	pl_nvme_qpair_destroy(qp);
	pl_nvme_close(c);
	cr_expect_eq(pattern_check(raw + 8192, 1, 0, 8, 512, 4), -1,
		     "nothing landed through the raw mapping after the reopen");
	cr_expect_eq(pattern_check(fixed + 8192, 1, 0, 8, 512, 4), -1,
		     "nothing landed through the fixed mapping after the reopen");

	cr_expect_eq(pl_iommu_unmap(tb.ctx, raw_iova, len), 0);
	cr_expect_eq(pl_iommu_unmap(tb.ctx, fixed_iova, len), 0);
	pl_dma_free(tb.ctx, data);
	munmap(raw, 2 * len);
}
