/*
 * DMA through the IOMMU, shown by a device: the NVMe writes its Identify data into our
 * hugepage memory at the IOVA Pollen mapped, and a command aimed at an unmapped IOVA is
 * refused by the IOMMU (the device reports a data transfer error, the kernel logs a
 * DMAR fault). The admin queue here is the least the NVMe 1.4 spec needs for one
 * command; the NVMe driver proper is another issue's.
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
#include <pollen/vfio.h>

#include "testbed.h"

/* NVMe controller registers (NVMe 1.4, section 3.1). */
#define REG_CAP 0x00
#define REG_CC 0x14
#define REG_CSTS 0x1c
#define REG_AQA 0x24
#define REG_ASQ 0x28
#define REG_ACQ 0x30
#define REG_DBS 0x1000

struct sqe {
	uint32_t cdw0;	/* opcode, command ID in bits 31:16 */
	uint32_t nsid;
	uint64_t rsvd;
	uint64_t mptr;
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct sqe) == 64, "submission queue entry");

struct cqe {
	uint32_t dw0, dw1;
	uint16_t sq_head, sq_id;
	uint16_t cid;
	uint16_t status;	/* phase in bit 0, status field above it */
};
_Static_assert(sizeof(struct cqe) == 16, "completion queue entry");

struct admin {
	volatile uint8_t *bar;
	struct sqe *sq;
	volatile struct cqe *cq;
	unsigned sq_tail, cq_head, phase, stride;
	uint8_t *data;
	uint64_t data_iova;
};

static uint32_t rd32(struct admin *a, unsigned off)
{
	return *(volatile uint32_t *)(a->bar + off);
}

static void wr32(struct admin *a, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(a->bar + off) = v;
}

static void wr64(struct admin *a, unsigned off, uint64_t v)
{
	wr32(a, off, (uint32_t)v);
	wr32(a, off + 4, v >> 32);
}

static void wait_ready(struct admin *a, unsigned want)
{
	for (int i = 0; i < 20000; i++) {
		uint32_t csts = rd32(a, REG_CSTS);
		cr_assert_eq(csts & 2, 0, "controller fatal status (CSTS %08x)", csts);
		if ((csts & 1) == want)
			return;
		usleep(100);
	}
	cr_assert_fail("CSTS.RDY did not become %u", want);
}

/* Disable, point the admin queues at our memory, enable. */
static void admin_init(struct admin *a, struct pl_vfio_dev *dev, uint8_t *mem, uint64_t iova)
{
	size_t len;

	cr_assert_eq(pl_vfio_enable_dma(dev), 0);
	cr_assert_not_null(a->bar = pl_vfio_bar_map(dev, 0, &len));
	uint64_t cap = rd32(a, REG_CAP) | (uint64_t)rd32(a, REG_CAP + 4) << 32;
	a->stride = 4u << ((cap >> 32) & 0xf);
	wr32(a, REG_CC, 0);
	wait_ready(a, 0);

	/* One hugepage: SQ at 0, CQ at 4 KiB, data at 8 KiB. */
	a->sq = (struct sqe *)mem;
	a->cq = (volatile struct cqe *)(mem + 4096);
	a->data = mem + 8192;
	a->data_iova = iova + 8192;
	a->sq_tail = a->cq_head = 0;
	a->phase = 1;
	wr32(a, REG_AQA, 31u << 16 | 31u);
	wr64(a, REG_ASQ, iova);
	wr64(a, REG_ACQ, iova + 4096);
	/* EN, NVM command set, 4 KiB pages, 64-byte SQ and 16-byte CQ entries. */
	wr32(a, REG_CC, 1u | 6u << 16 | 4u << 20);
	wait_ready(a, 1);
}

/* Identify Controller into @prp; returns the completion's status field (0 = success). */
static unsigned identify(struct admin *a, uint64_t prp, uint16_t cid)
{
	struct sqe *s = &a->sq[a->sq_tail];

	memset(s, 0, sizeof(*s));
	s->cdw0 = 0x06 | (uint32_t)cid << 16;
	s->prp1 = prp;
	s->cdw10 = 1;	/* CNS 1: the controller */
	a->sq_tail = (a->sq_tail + 1) % 32;
	__atomic_thread_fence(__ATOMIC_RELEASE);	/* the entry before the doorbell */
	wr32(a, REG_DBS, a->sq_tail);

	volatile struct cqe *c = &a->cq[a->cq_head];
	for (int i = 0; i < 200000 && (c->status & 1) != a->phase; i++)
		usleep(10);
	cr_assert_eq(c->status & 1, a->phase, "no completion for command %u", cid);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	cr_expect_eq(c->cid, cid);
	unsigned status = c->status >> 1;
	if (++a->cq_head == 32) {
		a->cq_head = 0;
		a->phase ^= 1;
	}
	wr32(a, REG_DBS + a->stride, a->cq_head);
	return status;
}

static void admin_fini(struct admin *a)
{
	wr32(a, REG_CC, 0);
	wait_ready(a, 0);
}

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

/*
 * The kernel rate-limits DMAR fault messages (a burst of about three faults' worth), so
 * each back end gets a boot of its own: tests/device/meson.build runs this binary twice,
 * with POLLEN_IOMMU=iommufd and POLLEN_IOMMU=vfio, which PL_IOMMU_AUTO obeys.
 */
Test(dma_proof, nvme_writes_through_the_mapping_and_not_beside_it)
{
	struct pl_iommu *ctx;
	struct pl_vfio_dev *dev = testbed_open(PL_IOMMU_AUTO, "nvme", &ctx);
	const char *want = getenv("POLLEN_IOMMU"), *addr = pl_vfio_addr(dev);
	struct admin a = { 0 };
	uint64_t iova;

	cr_assert_eq(pl_iommu_backend(ctx), want && !strcmp(want, "vfio") ? PL_IOMMU_VFIO :
					    PL_IOMMU_IOMMUFD, "POLLEN_IOMMU=%s not obeyed", want);
	uint8_t *mem = pl_dma_alloc(ctx, 2u << 20, 0, &iova);
	cr_assert_not_null(mem);
	admin_init(&a, dev, mem, iova);

	/* Through the mapping: the controller's own Identify data lands in our memory. */
	memset(a.data, 0xee, 4096);
	cr_assert_eq(identify(&a, a.data_iova, 1), 0, "Identify failed");
	uint16_t vid = a.data[0] | a.data[1] << 8;
	cr_expect_eq(vid, 0x1b36, "Identify VID %04x: not QEMU's", vid);
	cr_expect_eq(memcmp(a.data + 4, "deadbeef", 8), 0, "serial number: %.20s", a.data + 4);

	/* Beside it: an IOVA inside the ranges that nothing maps. */
	int kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	cr_assert_geq(kmsg, 0);
	lseek(kmsg, 0, SEEK_END);
	uint64_t stray = iova + (64u << 20);
	cr_assert_eq(pl_dma_iova(ctx, mem) , iova);
	memset(a.data, 0xee, 4096);
	unsigned status = identify(&a, stray, 2);
	/*
	 * The IOMMU's refusal shows in the kernel's DMAR fault log. QEMU 7.2's NVMe model
	 * still completes the command with success (status %03x here): its completion is no
	 * witness, the fault log and our untouched memory are.
	 */
	cr_log_info("completion status for the stray write: %03x", status);
	cr_expect_eq(a.data[0], 0xee, "our memory changed");
	char bdf[8];
	snprintf(bdf, sizeof(bdf), "%s", addr + 5);	/* "00:02.0" as the DMAR log says it */
	cr_expect(dmar_fault_logged(kmsg, bdf, stray), "no DMAR fault logged for %s at 0x%llx",
		  bdf, (unsigned long long)stray);

	/* The controller is still good for the next command. */
	cr_expect_eq(identify(&a, a.data_iova, 3), 0);
	cr_expect_eq(a.data[0], 0x36);

	/* Unmapping takes the IOVA away from the device: it faults where it wrote before. */
	uint64_t iova2;
	uint8_t *mem2 = pl_dma_alloc(ctx, 2u << 20, 0, &iova2);
	cr_assert_not_null(mem2);
	cr_expect_eq(identify(&a, iova2, 4), 0);
	cr_expect_eq(mem2[0], 0x36, "Identify did not land in the second region");
	pl_dma_free(ctx, mem2);
	lseek(kmsg, 0, SEEK_END);
	identify(&a, iova2, 5);
	cr_expect(dmar_fault_logged(kmsg, bdf, iova2), "no DMAR fault after unmapping 0x%llx",
		  (unsigned long long)iova2);
	close(kmsg);
	admin_fini(&a);
	pl_dma_free(ctx, mem);
	testbed_close(dev, ctx);
}
