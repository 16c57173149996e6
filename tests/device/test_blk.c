/* The block interface over Pollen's NVMe driver (the io_uring side is in test_nvme_kernel.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pollen/blk.h>
#include <pollen/nvme.h>

#include "blk_checks.h"
#include "testbed.h"

/* pl_blk_open makes its own IOMMU context: POLLEN_IOMMU picks the variant's back end. */
TESTBED_TEST(blk, pmd_passes_the_data_checks_on_both_namespaces, TESTBED_BARE)
{
	setenv("POLLEN_IOMMU", tb.backend == PL_IOMMU_VFIO ? "vfio" : "iommufd", 1);
	for (uint32_t nsid = 1; nsid <= 2; nsid++) {
		struct pl_blk *b = pl_blk_open(testbed_dev("nvme"), &(struct pl_blk_opts){
							.nsid = nsid });

		cr_assert_not_null(b, "%s", strerror(errno));
		cr_expect_eq(pl_blk_backend(b), PL_BLK_PMD);
		cr_expect_eq(pl_blk_nsid(b), nsid);
		cr_expect_eq(pl_blk_block_size(b), nsid == 1 ? 512 : 4096);
		blk_checks(b, nsid * 10 + tb.backend, false);
		pl_blk_close(b);
	}
}

TESTBED_TEST_ON(PL_IOMMU_AUTO, blk, a_namespace_with_metadata_is_refused, TESTBED_BARE)
{
	testbed_capture_log();
	errno = 0;
	cr_expect_null(pl_blk_open(testbed_dev("nvme"), &(struct pl_blk_opts){ .nsid = 3 }));
	cr_expect_eq(errno, ENODEV);
	cr_expect(strstr(testbed_last_log(), "formatted with metadata"), "%s", testbed_last_log());
	/* Nothing held: the controller opens again at once. */
	struct pl_blk *b = pl_blk_open(testbed_dev("nvme"), NULL);
	cr_assert_not_null(b);
	cr_expect_eq(pl_blk_nsid(b), 1, "the first usable namespace");
	pl_blk_close(b);
}
