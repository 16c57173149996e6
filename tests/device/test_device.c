/* Device regions: BAR mmap and pread/pwrite, COMMAND bits, reset. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>

#include <pollen/iommu.h>
#include <pollen/vfio.h>

#include "testbed.h"

static struct pl_iommu *ctx;

static uint32_t rd32(volatile void *bar, size_t off)
{
	return *(volatile uint32_t *)((volatile char *)bar + off);
}

ParameterizedTestParameters(device, nvme_registers_through_mmap_and_pread)
{
	return cr_make_param_array(enum pl_iommu_backend, (void *)testbed_backends, 2);
}

ParameterizedTest(enum pl_iommu_backend *be, device, nvme_registers_through_mmap_and_pread)
{
	struct pl_vfio_dev *dev = testbed_open(*be, "nvme", &ctx);
	size_t len;
	volatile void *bar = pl_vfio_bar_map(dev, 0, &len);

	cr_assert_not_null(bar, "BAR0: %s", strerror(errno));
	cr_expect_geq(len, 0x1000 + 8, "BAR0 holds registers and doorbells");
	/* VS at 0x08: QEMU models NVMe 1.4. */
	cr_expect_eq(rd32(bar, 0x08), 0x00010400, "VS = %08x", rd32(bar, 0x08));
	uint64_t cap = rd32(bar, 0) | (uint64_t)rd32(bar, 4) << 32;
	cr_expect(cap >> 37 & 1, "CAP.CSS lacks the NVM command set: %016llx",
		  (unsigned long long)cap);
	cr_expect_geq((cap & 0xffff) + 1, 2, "CAP.MQES");

	uint32_t vs;
	cr_assert_eq(pl_vfio_bar_read(dev, 0, &vs, 4, 0x08), 0);
	cr_expect_eq(vs, 0x00010400, "VS through pread = %08x", vs);
	/* Mapped once: a second call hands back the same mapping. */
	size_t len2;
	cr_expect_eq(pl_vfio_bar_map(dev, 0, &len2), bar);
	testbed_close(dev, ctx);
}

Test(device, unimplemented_bar_and_region_say_so)
{
	struct pl_vfio_dev *dev = testbed_open(PL_IOMMU_IOMMUFD, "nvme", &ctx);
	struct pl_vfio_region r;
	size_t len;

	/* BAR0 is 64-bit, so BAR1 is its upper half: no region of its own. */
	cr_assert_eq(pl_vfio_region_info(dev, 1, &r), 0);
	cr_expect_eq(r.size, 0);
	errno = 0;
	cr_expect_null(pl_vfio_bar_map(dev, 1, &len));
	cr_expect_eq(errno, ENODEV);
	cr_expect_eq(pl_vfio_region_info(dev, 42, &r), -EINVAL);
	cr_assert_eq(pl_vfio_region_info(dev, PL_VFIO_CONFIG, &r), 0);
	cr_expect_geq(r.size, 256);
	testbed_close(dev, ctx);
}

ParameterizedTestParameters(device, e1000e_io_port_bar_through_pread)
{
	return cr_make_param_array(enum pl_iommu_backend, (void *)testbed_backends, 2);
}

ParameterizedTest(enum pl_iommu_backend *be, device, e1000e_io_port_bar_through_pread)
{
	struct pl_vfio_dev *dev = testbed_open(*be, "e1000e", &ctx);
	struct pl_vfio_region r;
	size_t len;

	/* 82574L: BAR2 is the I/O window, IOADDR at 0 selects a register, IODATA at 4. */
	cr_assert_eq(pl_vfio_region_info(dev, 2, &r), 0);
	cr_assert_gt(r.size, 0);
	cr_expect(!r.mappable);
	errno = 0;
	cr_expect_null(pl_vfio_bar_map(dev, 2, &len));
	cr_expect_eq(errno, ENOTSUP);

	volatile void *bar0 = pl_vfio_bar_map(dev, 0, &len);
	cr_assert_not_null(bar0);
	uint32_t status_mmio = rd32(bar0, 0x08), addr = 0x08, status_io = 0;
	cr_assert_eq(pl_vfio_bar_write(dev, 2, &addr, 4, 0), 0);
	cr_assert_eq(pl_vfio_bar_read(dev, 2, &status_io, 4, 4), 0);
	cr_expect_eq(status_io, status_mmio, "STATUS by I/O %08x, by MMIO %08x", status_io,
		     status_mmio);
	cr_expect_neq(status_mmio, 0xffffffff, "BAR0 reads all ones: not decoding");
	testbed_close(dev, ctx);
}

Test(device, enable_dma_sets_memory_space_and_bus_master)
{
	struct pl_vfio_dev *dev = testbed_open(PL_IOMMU_IOMMUFD, "e1000", &ctx);
	uint16_t cmd = 0;

	cr_assert_eq(pl_vfio_enable_dma(dev), 0);
	cr_assert_eq(pl_vfio_cfg_read(dev, &cmd, 2, 4), 0);
	cr_expect_eq(cmd & 0x6, 0x6, "COMMAND = %04x", cmd);
	testbed_close(dev, ctx);
}

ParameterizedTestParameters(device, reset_returns_nvme_registers_to_defaults)
{
	return cr_make_param_array(enum pl_iommu_backend, (void *)testbed_backends, 2);
}

ParameterizedTest(enum pl_iommu_backend *be, device, reset_returns_nvme_registers_to_defaults)
{
	struct pl_vfio_dev *dev = testbed_open(*be, "nvme", &ctx);
	uint32_t set = 1, back = 0;

	/*
	 * INTMS (0x0c) masks interrupt vectors, write-1-to-set, and a function-level reset
	 * clears it. (QEMU's FLR leaves AQA/ASQ/ACQ alone, so those prove nothing here.)
	 */
	cr_assert_eq(pl_vfio_bar_write(dev, 0, &set, 4, 0x0c), 0);
	cr_assert_eq(pl_vfio_bar_read(dev, 0, &back, 4, 0x0c), 0);
	cr_assert_eq(back & 1, 1, "INTMS did not take the write: %08x", back);
	cr_assert_eq(pl_vfio_reset(dev), 0);
	cr_assert_eq(pl_vfio_bar_read(dev, 0, &back, 4, 0x0c), 0);
	cr_expect_eq(back, 0, "INTMS after reset = %08x", back);
	testbed_close(dev, ctx);
}

Test(device, a_device_without_reset_says_so)
{
	/* The 82540EM model has neither FLR nor PM reset, and sits on the root bus. */
	struct pl_vfio_dev *dev = testbed_open(PL_IOMMU_IOMMUFD, "e1000", &ctx);

	testbed_capture_log();
	cr_expect_eq(pl_vfio_reset(dev), -ENOTTY);
	cr_expect(strstr(testbed_last_log(), "no reset"), "logged: %s", testbed_last_log());
	testbed_close(dev, ctx);
}
