/* Decoding the VT-d capability registers, from values real IOMMUs (and QEMU's) report. */
#include <criterion/criterion.h>

#include <pollen/iommu.h>

Test(vtd, qemu_intel_iommu_registers)
{
	/* What QEMU 7.2's intel-iommu,intremap=on reports through IOMMU_GET_HW_INFO. */
	struct pl_iommu_hw_info hw = { 0 };

	pl_iommu_vtd_decode(0x00d2008c22260206ull, 0x0000000000f00f4aull, &hw);
	cr_expect_eq(hw.addr_width, 39);
	cr_expect_eq(hw.levels_mask, 1u << 1, "SAGAW: 3-level tables only");
	cr_expect(hw.page_2m);
	cr_expect(hw.page_1g);
	cr_expect(!hw.caching_mode);
	cr_expect(!hw.coherent);
	cr_expect(hw.intr_remap);
	cr_expect(hw.pass_through);
	cr_expect(!hw.snoop_control);
	cr_expect(!hw.nested);
	cr_expect(!hw.pasid);
	cr_expect(!hw.scalable_mode);
}

Test(vtd, each_field_from_its_own_bits)
{
	struct pl_iommu_hw_info hw = { 0 };
	uint64_t cap = 47ull << 16 | 0x6ull << 8 | 1ull << 34 | 1ull << 7;
	uint64_t ecap = 1ull << 0 | 1ull << 7 | 1ull << 26 | 1ull << 40 | 1ull << 43;

	pl_iommu_vtd_decode(cap, ecap, &hw);
	cr_expect_eq(hw.addr_width, 48);
	cr_expect_eq(hw.levels_mask, 0x6, "3- and 4-level tables");
	cr_expect(hw.page_2m);
	cr_expect(!hw.page_1g);
	cr_expect(hw.caching_mode);
	cr_expect(hw.coherent);
	cr_expect(hw.snoop_control);
	cr_expect(hw.nested);
	cr_expect(hw.pasid);
	cr_expect(hw.scalable_mode);
	cr_expect(!hw.intr_remap);
	cr_expect(!hw.pass_through);
	cr_expect_eq(hw.vtd_cap, cap);
	cr_expect_eq(hw.vtd_ecap, ecap);
}
