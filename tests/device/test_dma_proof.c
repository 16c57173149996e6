/*
 * DMA through the IOMMU, shown by a device: the NVMe writes its Identify data into our
 * hugepage memory at the IOVA Pollen mapped, and a command aimed at an unmapped IOVA is
 * refused by the IOMMU (the kernel logs a DMAR fault). The admin queue is the least the
 * NVMe 1.4 spec needs for one command (nvme_admin.c); the NVMe driver proper is in
 * drivers/nvme.
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

#include "nvme_admin.h"
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

/*
 * The kernel rate-limits DMAR fault messages (a burst of about three faults' worth), so
 * each back end gets a boot of its own: tests/device/meson.build runs this binary twice,
 * with POLLEN_IOMMU=iommufd and POLLEN_IOMMU=vfio, which PL_IOMMU_AUTO obeys.
 */
TESTBED_TEST_ON(PL_IOMMU_AUTO, dma_proof, nvme_writes_through_the_mapping_and_not_beside_it,
		"nvme")
{
	const char *want = getenv("POLLEN_IOMMU"), *addr = pl_vfio_addr(tb.dev);
	struct nvme_admin a;
	uint64_t iova;

	cr_assert_eq(pl_iommu_backend(tb.ctx), want && !strcmp(want, "vfio") ? PL_IOMMU_VFIO :
					       PL_IOMMU_IOMMUFD, "POLLEN_IOMMU=%s not obeyed", want);
	uint8_t *mem = pl_dma_alloc(tb.ctx, 2u << 20, 0, &iova);
	cr_assert_not_null(mem);
	nvme_admin_init(&a, tb.dev, tb.bar0, mem, iova);
	uint8_t *data = mem + 8192;
	uint64_t data_iova = iova + 8192;

	/* Through the mapping: the controller's own Identify data lands in our memory. */
	memset(data, 0xee, 4096);
	cr_assert_eq(nvme_admin_identify(&a, data_iova), 0, "Identify failed");
	struct nvme_id_ctrl *id = (struct nvme_id_ctrl *)data;
	cr_expect_eq(id->vid, 0x1b36, "Identify VID %04x: not QEMU's", id->vid);
	cr_expect_eq(memcmp(id->sn, "deadbeef", 8), 0, "serial number: %.20s", id->sn);

	/* Beside it: an IOVA inside the ranges that nothing maps. */
	int kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	cr_assert_geq(kmsg, 0);
	lseek(kmsg, 0, SEEK_END);
	uint64_t stray = iova + (64u << 20);
	cr_assert_eq(pl_dma_iova(tb.ctx, mem), iova);
	memset(data, 0xee, 4096);
	unsigned status = nvme_admin_identify(&a, stray);
	/*
	 * The IOMMU's refusal shows in the kernel's DMAR fault log. QEMU 7.2's NVMe model
	 * still completes the command with success (status %03x here): its completion is no
	 * witness, the fault log and our untouched memory are.
	 */
	cr_log_info("completion status for the stray write: %03x", status);
	cr_expect_eq(data[0], 0xee, "our memory changed");
	char bdf[8];
	snprintf(bdf, sizeof(bdf), "%s", addr + 5);	/* "00:02.0" as the DMAR log says it */
	cr_expect(dmar_fault_logged(kmsg, bdf, stray), "no DMAR fault logged for %s at 0x%llx",
		  bdf, (unsigned long long)stray);

	/* The controller is still good for the next command. */
	cr_expect_eq(nvme_admin_identify(&a, data_iova), 0);
	cr_expect_eq(id->vid, 0x1b36);

	/* Unmapping takes the IOVA away from the device: it faults where it wrote before. */
	uint64_t iova2;
	uint8_t *mem2 = pl_dma_alloc(tb.ctx, 2u << 20, 0, &iova2);
	cr_assert_not_null(mem2);
	cr_expect_eq(nvme_admin_identify(&a, iova2), 0);
	cr_expect_eq(((struct nvme_id_ctrl *)mem2)->vid, 0x1b36,
		     "Identify did not land in the second region");
	pl_dma_free(tb.ctx, mem2);
	lseek(kmsg, 0, SEEK_END);
	nvme_admin_identify(&a, iova2);
	cr_expect(dmar_fault_logged(kmsg, bdf, iova2), "no DMAR fault after unmapping 0x%llx",
		  (unsigned long long)iova2);
	close(kmsg);
	nvme_admin_fini(&a);
	pl_dma_free(tb.ctx, mem);
}
