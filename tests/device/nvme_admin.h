/*
 * The least of an NVMe admin queue that a platform test needs to make the device do DMA:
 * Identify Controller into an IOVA of the test's choosing. The NVMe driver proper is in
 * drivers/nvme; this stays small on purpose.
 */
#ifndef PL_TEST_NVME_ADMIN_H
#define PL_TEST_NVME_ADMIN_H

#include <stdint.h>

#include <pollen/vfio.h>

#include <pollen/nvme_hw.h>

struct nvme_admin {
	volatile void *bar;
	struct nvme_sqe *sq;		/* 32 entries */
	volatile struct nvme_cqe *cq;	/* 32 entries */
	uint16_t sq_tail, cq_head, next_cid;
	uint8_t phase;
	unsigned dstrd;
};

/*
 * Disables the controller, puts its admin queues in the first 8 KiB of @mem (at @iova)
 * and enables it; fails the case if it will not come ready.
 */
void nvme_admin_init(struct nvme_admin *a, struct pl_vfio_dev *dev, volatile void *bar0,
		     void *mem, uint64_t iova);

/* Identify Controller into @prp; returns the completion's status field (0: success). */
unsigned nvme_admin_identify(struct nvme_admin *a, uint64_t prp);

/* Disables the controller again. */
void nvme_admin_fini(struct nvme_admin *a);

#endif
