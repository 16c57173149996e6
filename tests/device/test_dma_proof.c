/*
 * DMA through the IOMMU, shown by a device on the NVMe driver's own path: a Read lands in
 * our hugepage memory at the IOVA Pollen mapped, and a Read whose data pointer names an
 * IOVA nothing maps is refused by the IOMMU (the kernel logs a DMAR fault), ends with an
 * error status, and leaves the memory beside the mapping as it was.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/nvme.h>
#include <pollen/vfio.h>

#include "pattern.h"
#include "testbed.h"

/* Whether the kernel has logged a DMAR fault for device @bdf at @iova since @kmsg's position. */
static bool dmar_fault_logged(int kmsg, const char *bdf, uint64_t iova)
{
	char rec[1024], at[32];
	ssize_t n;
	bool seen = false;

	snprintf(at, sizeof(at), "fault addr 0x%llx", (unsigned long long)iova);
	/* The fault is logged from the IOMMU's fault interrupt, a little after the fact. */
	for (int tries = 0; tries < 200 && !seen; tries++) {
		while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0) {
			rec[n] = 0;
			if (strstr(rec, "DMAR") && strstr(rec, bdf) && strstr(rec, at)) {
				cr_log_info("kernel: %s", strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
				seen = true;
			}
		}
		if (!seen)
			usleep(10000);
	}
	return seen;
}

struct raw {
	bool done;
	struct pl_nvme_cpl cpl;
};

static void raw_done(void *arg, const struct pl_nvme_cpl *cpl)
{
	struct raw *r = arg;

	r->cpl = *cpl;
	r->done = true;
}

/* A Read of @blocks at LBA 0 of namespace 1 with the data pointer given as IOVAs. */
static struct pl_nvme_cpl raw_read(struct pl_nvme_qpair *qp, uint64_t prp1, uint64_t prp2,
				   uint32_t blocks)
{
	struct nvme_sqe cmd = {
		.opcode = NVME_NVM_READ, .nsid = 1, .prp1 = prp1, .prp2 = prp2,
		.cdw12 = NVME_RW_NLB(blocks - 1),
	};
	struct raw r = { 0 };

	cr_assert_eq(pl_nvme_submit_raw(qp, &cmd, raw_done, &r), 0);
	for (time_t end = time(NULL) + 30; !r.done;) {
		cr_assert_geq(pl_nvme_poll(qp, 0), 0);
		cr_assert_leq(time(NULL), end, "the stray read never ended");
	}
	return r.cpl;
}

static bool untouched(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0xee)
			return false;
	return true;
}

/*
 * The kernel rate-limits DMAR fault messages (a burst of about three faults' worth), so
 * each back end gets a boot of its own: tests/device/meson.build runs this binary twice,
 * with POLLEN_IOMMU=iommufd and POLLEN_IOMMU=vfio, which PL_IOMMU_AUTO obeys.
 */
TESTBED_TEST_ON(PL_IOMMU_AUTO, dma_proof, nvme_reads_through_the_mapping_and_not_beside_it,
		TESTBED_CONTEXT)
{
	const char *want = getenv("POLLEN_IOMMU"), *addr = testbed_dev("nvme");
	uint64_t iova;

	cr_assert_eq(pl_iommu_backend(tb.ctx), want && !strcmp(want, "vfio") ? PL_IOMMU_VFIO :
					       PL_IOMMU_IOMMUFD, "POLLEN_IOMMU=%s not obeyed", want);
	struct pl_nvme_ctrl *c = pl_nvme_open(tb.ctx, addr, NULL);
	cr_assert_not_null(c);
	/* A stray read may never end on its own (see below): the pair's timeout ends it. */
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, &(struct pl_nvme_qpair_opts){
		.depth = 8, .timeout_ms = 1000 });
	cr_assert_not_null(qp);
	uint8_t *mem = pl_dma_alloc(tb.ctx, 2u << 20, 0, &iova);
	cr_assert_not_null(mem);

	/* Through the mapping: what was written lands in our memory at the IOVA mapped. */
	pattern_fill(mem, 1, 0, 8, 512, 3);
	cr_assert_eq(pl_nvme_write_sync(qp, 1, mem, 0, 8, NULL), 0);
	memset(mem, 0xee, 2u << 20);
	struct pl_nvme_cpl ok = raw_read(qp, iova, 0, 8);
	cr_assert_eq(ok.status, 0, "%s", pl_nvme_status_name(ok.status));
	cr_expect_eq(pattern_check(mem, 1, 0, 8, 512, 3), -1, "the read did not land");

	/* Beside it: an IOVA inside the ranges that nothing maps. */
	int kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	cr_assert_geq(kmsg, 0);
	lseek(kmsg, 0, SEEK_END);
	uint64_t stray = iova + (64u << 20);
	testbed_expect_in_ranges(tb.ctx, stray, 4096);
	memset(mem, 0xee, 2u << 20);
	/* One block: one faulting write, one line in the rate-limited fault log. */
	struct pl_nvme_cpl cpl = raw_read(qp, stray, 0, 1);
	cr_log_info("a read into unmapped IOVA 0x%llx ended with: %s",
		    (unsigned long long)stray, pl_nvme_status_name(cpl.status));
	/*
	 * QEMU 7.2 completes it with success: its DMA helpers drop a write the IOMMU refuses
	 * and tell the NVMe model nothing. A real controller sees the fault and reports a
	 * Data Transfer Error. The fault log and our untouched memory are the witnesses.
	 */
	if (!cpl.status)
		cr_log_info("(the emulator reports success for it; see the comment)");
	cr_expect(untouched(mem, 2u << 20), "the memory beside the stray IOVA changed");
	char bdf[8];
	snprintf(bdf, sizeof(bdf), "%s", addr + 5);	/* "00:02.0" as the DMAR log says it */
	cr_expect(dmar_fault_logged(kmsg, bdf, stray), "no DMAR fault logged for %s at 0x%llx",
		  bdf, (unsigned long long)stray);

	/* Unmapping takes the IOVA away from the device: it faults where it wrote before. */
	uint64_t iova2;
	uint8_t *mem2 = pl_dma_alloc(tb.ctx, 2u << 20, 0, &iova2);
	cr_assert_not_null(mem2);
	ok = raw_read(qp, iova2, 0, 8);
	cr_expect_eq(ok.status, 0);
	cr_expect_eq(pattern_check(mem2, 1, 0, 8, 512, 3), -1, "the read missed the 2nd region");
	pl_dma_free(tb.ctx, mem2);
	lseek(kmsg, 0, SEEK_END);
	cpl = raw_read(qp, iova2, 0, 1);
	cr_log_info("a read into the freed region's IOVA ended with: %s",
		    pl_nvme_status_name(cpl.status));
	cr_expect(dmar_fault_logged(kmsg, bdf, iova2), "no DMAR fault after unmapping 0x%llx",
		  (unsigned long long)iova2);
	/* A PRP list the IOMMU refuses: the first page is ours, the list is not mapped. */
	cpl = raw_read(qp, iova, stray, 24);
	cr_log_info("a read with its PRP list at an unmapped IOVA ended with: %s",
		    pl_nvme_status_name(cpl.status));
	cr_expect_eq(cpl.status, NVME_SCT_SC(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR),
		     "a read with an unreadable PRP list ended with: %s",
		     pl_nvme_status_name(cpl.status));
	cr_expect(untouched(mem, 2u << 20), "a refused read wrote into our memory");

	/* The controller is still good for the next command. */
	ok = raw_read(qp, iova, 0, 8);
	cr_expect_eq(ok.status, 0, "%s", pl_nvme_status_name(ok.status));
	cr_expect_eq(pattern_check(mem, 1, 0, 8, 512, 3), -1);

	cr_log_info("%u controller reset(s) on the way", pl_nvme_resets(c));
	close(kmsg);
	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, mem);
	pl_nvme_close(c);
}
