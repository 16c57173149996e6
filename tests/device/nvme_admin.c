/* A hand-made NVMe admin queue for platform tests (NVMe 1.4, 3.5.1 and 7.6.1). */
#include "nvme_admin.h"

#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include <pollen/mmio.h>

#define DEPTH 32

static void wait_ready(struct nvme_admin *a, uint32_t want)
{
	uint64_t cap = pl_mmio_read64(a->bar, NVME_REG_CAP);
	struct pl_mmio_wait w = {
		/* A failed controller is disabled all the same: that is its reset. */
		.off = NVME_REG_CSTS, .mask = NVME_CSTS_RDY, .want = want,
		.fail = want ? NVME_CSTS_CFS : 0,
		.timeout_ms = 500 * NVME_CAP_TO(cap), .what = "NVMe CSTS.RDY",
	};

	cr_assert_eq(pl_mmio_wait(a->bar, &w), 0, "CSTS.RDY did not become %u (CSTS %08x)",
		     want, w.last);
}

void nvme_admin_init(struct nvme_admin *a, struct pl_vfio_dev *dev, volatile void *bar0,
		     void *mem, uint64_t iova)
{
	cr_assert_eq(pl_vfio_enable_dma(dev), 0);
	*a = (struct nvme_admin){
		.bar = bar0,
		.sq = (struct nvme_sqe *)mem,
		.cq = (volatile struct nvme_cqe *)((char *)mem + 4096),
		.phase = 1,
		.next_cid = 1,
	};
	a->dstrd = NVME_CAP_DSTRD(pl_mmio_read64(a->bar, NVME_REG_CAP));
	pl_mmio_write32(a->bar, NVME_REG_CC, 0);
	wait_ready(a, 0);
	memset(mem, 0, 8192);
	pl_mmio_write32(a->bar, NVME_REG_AQA, NVME_AQA(DEPTH - 1, DEPTH - 1));
	pl_mmio_write64_lo_hi(a->bar, NVME_REG_ASQ, iova);
	pl_mmio_write64_lo_hi(a->bar, NVME_REG_ACQ, iova + 4096);
	pl_mmio_write32(a->bar, NVME_REG_CC, NVME_CC_EN | NVME_CC_CSS_NVM | NVME_CC_MPS(0) |
			NVME_CC_AMS_RR | NVME_CC_IOSQES(NVME_SQES_LOG2) |
			NVME_CC_IOCQES(NVME_CQES_LOG2));
	wait_ready(a, NVME_CSTS_RDY);
}

unsigned nvme_admin_identify(struct nvme_admin *a, uint64_t prp)
{
	struct nvme_sqe *s = &a->sq[a->sq_tail];
	uint16_t cid = a->next_cid++;

	*s = (struct nvme_sqe){
		.opcode = NVME_ADMIN_IDENTIFY,
		.cid = cid,
		.prp1 = prp,
		.cdw10 = NVME_IDENTIFY_CDW10(NVME_CNS_CTRL, 0),
	};
	a->sq_tail = (a->sq_tail + 1) % DEPTH;
	pl_dma_wmb();	/* the entry before the doorbell */
	pl_mmio_write32(a->bar, NVME_SQ_TDBL(0, a->dstrd), a->sq_tail);

	volatile struct nvme_cqe *c = &a->cq[a->cq_head];
	for (int i = 0; i < 200000 && NVME_CQE_PHASE(c->status) != a->phase; i++)
		usleep(10);
	cr_assert_eq(NVME_CQE_PHASE(c->status), a->phase, "no completion for command %u", cid);
	pl_dma_rmb();	/* the phase tag before the rest of the entry */
	cr_expect_eq(c->cid, cid);
	unsigned status = NVME_CQE_STATUS(c->status);
	if (++a->cq_head == DEPTH) {
		a->cq_head = 0;
		a->phase ^= 1;
	}
	pl_mmio_write32(a->bar, NVME_CQ_HDBL(0, a->dstrd), a->cq_head);
	return status;
}

void nvme_admin_fini(struct nvme_admin *a)
{
	pl_mmio_write32(a->bar, NVME_REG_CC, 0);
	wait_ready(a, 0);
}
