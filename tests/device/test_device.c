/* Device regions: BAR mmap and pread/pwrite, COMMAND bits, reset. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include <pollen/iommu.h>
#include <pollen/mmio.h>
#include <pollen/vfio.h>

#include "e1000_hw.h"
#include <pollen/nvme_hw.h>
#include "testbed.h"

TESTBED_TEST(device, nvme_registers_through_mmap_and_pread, "nvme")
{
	size_t len;

	pl_vfio_bar_map(tb.dev, 0, &len);
	cr_expect_geq(len, NVME_SQ_TDBL(1, 0), "BAR0 holds registers and doorbells");
	/* QEMU models NVMe 1.4. */
	uint32_t vs = pl_mmio_read32(tb.bar0, NVME_REG_VS);
	cr_expect_eq(vs, NVME_VS(1, 4, 0), "VS = %08x", vs);
	uint64_t cap = pl_mmio_read64(tb.bar0, NVME_REG_CAP);
	cr_expect(NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM, "CAP.CSS lacks the NVM command set: "
		  "%016llx", (unsigned long long)cap);
	cr_expect_geq(NVME_CAP_MQES(cap) + 1, 2, "CAP.MQES");

	cr_assert_eq(pl_vfio_bar_read(tb.dev, 0, &vs, sizeof(vs), NVME_REG_VS), 0);
	cr_expect_eq(vs, NVME_VS(1, 4, 0), "VS through pread = %08x", vs);
	/* Mapped once: a second call hands back the same mapping. */
	cr_expect_eq(pl_vfio_bar_map(tb.dev, 0, &len), tb.bar0);
}

TESTBED_TEST_ON(PL_IOMMU_IOMMUFD, device, unimplemented_bar_and_region_say_so, "nvme")
{
	struct pl_vfio_region r;
	size_t len;

	/* BAR0 is 64-bit, so BAR1 is its upper half: no region of its own. */
	cr_assert_eq(pl_vfio_region_info(tb.dev, 1, &r), 0);
	cr_expect_eq(r.size, 0);
	errno = 0;
	cr_expect_null(pl_vfio_bar_map(tb.dev, 1, &len));
	cr_expect_eq(errno, ENODEV);
	cr_expect_eq(pl_vfio_region_info(tb.dev, 42, &r), -EINVAL);
	cr_assert_eq(pl_vfio_region_info(tb.dev, PL_VFIO_CONFIG, &r), 0);
	cr_expect_geq(r.size, PCI_CFG_SPACE_SIZE);
}

TESTBED_TEST(device, e1000e_io_port_bar_through_pread, "e1000e")
{
	struct pl_vfio_region r;
	size_t len;

	/* 82574L: BAR2 is the I/O window, IOADDR selects a register and IODATA reads it. */
	cr_assert_eq(pl_vfio_region_info(tb.dev, E1000_BAR_IO_82574, &r), 0);
	cr_assert_gt(r.size, 0);
	cr_expect(!r.mappable);
	errno = 0;
	cr_expect_null(pl_vfio_bar_map(tb.dev, E1000_BAR_IO_82574, &len));
	cr_expect_eq(errno, ENOTSUP);

	uint32_t status_mmio = pl_mmio_read32(tb.bar0, E1000_STATUS), addr = E1000_STATUS;
	uint32_t status_io = 0;
	cr_assert_eq(pl_vfio_bar_write(tb.dev, E1000_BAR_IO_82574, &addr, 4, E1000_IOADDR), 0);
	cr_assert_eq(pl_vfio_bar_read(tb.dev, E1000_BAR_IO_82574, &status_io, 4, E1000_IODATA), 0);
	cr_expect_eq(status_io, status_mmio, "STATUS by I/O %08x, by MMIO %08x", status_io,
		     status_mmio);
	cr_expect_neq(status_mmio, 0xffffffff, "BAR0 reads all ones: not decoding");
}

TESTBED_TEST_ON(PL_IOMMU_IOMMUFD, device, enable_dma_sets_memory_space_and_bus_master, "e1000")
{
	uint16_t cmd = 0;

	cr_assert_eq(pl_vfio_enable_dma(tb.dev), 0);
	cr_assert_eq(pl_vfio_cfg_read(tb.dev, &cmd, sizeof(cmd), PCI_COMMAND), 0);
	cr_expect_eq(cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER),
		     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, "COMMAND = %04x", cmd);
}

TESTBED_TEST(device, reset_returns_nvme_registers_to_defaults, "nvme")
{
	/*
	 * INTMS masks interrupt vectors, write-1-to-set, and a function-level reset clears
	 * it. (QEMU's FLR leaves AQA/ASQ/ACQ alone, so those prove nothing here.)
	 */
	uint32_t set = NVME_INTMS_IVMS(0), back = 0;

	cr_assert_eq(pl_vfio_bar_write(tb.dev, 0, &set, 4, NVME_REG_INTMS), 0);
	cr_assert_eq(pl_vfio_bar_read(tb.dev, 0, &back, 4, NVME_REG_INTMS), 0);
	cr_assert_eq(back & set, set, "INTMS did not take the write: %08x", back);
	cr_assert_eq(pl_vfio_reset(tb.dev), 0);
	cr_assert_eq(pl_vfio_bar_read(tb.dev, 0, &back, 4, NVME_REG_INTMS), 0);
	cr_expect_eq(back, 0, "INTMS after reset = %08x", back);
}

TESTBED_TEST_ON(PL_IOMMU_IOMMUFD, device, a_device_without_reset_says_so, "e1000")
{
	/* The 82540EM model has neither FLR nor PM reset, and sits on the root bus. */
	testbed_capture_log();
	cr_expect_eq(pl_vfio_reset(tb.dev), -ENOTTY);
	cr_expect(strstr(testbed_last_log(), "no reset"), "logged: %s", testbed_last_log());
}
