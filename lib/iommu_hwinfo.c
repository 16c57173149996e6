/* IOMMU_GET_HW_INFO, and the VT-d capability registers decoded (VT-d spec, chapter 11). */
#include "vfio_dev.h"

#include <pollen/log.h>

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

void pl_iommu_vtd_decode(uint64_t cap, uint64_t ecap, struct pl_iommu_hw_info *out)
{
	out->vtd_cap = cap;
	out->vtd_ecap = ecap;
	out->addr_width = ((cap >> 16) & 0x3f) + 1;	/* MGAW, bits 21:16 */
	out->levels_mask = (cap >> 8) & 0x1f;		/* SAGAW, bits 12:8 */
	out->page_2m = cap >> 34 & 1;			/* SLLPS, bits 37:34 */
	out->page_1g = cap >> 35 & 1;
	out->caching_mode = cap >> 7 & 1;
	out->coherent = ecap & 1;
	out->intr_remap = ecap >> 3 & 1;
	out->pass_through = ecap >> 6 & 1;
	out->snoop_control = ecap >> 7 & 1;
	out->nested = ecap >> 26 & 1;
	out->pasid = ecap >> 40 & 1;
	out->scalable_mode = ecap >> 43 & 1;
}

int pl_vfio_iommu_info(struct pl_vfio_dev *dev, struct pl_iommu_hw_info *out)
{
	struct iommu_hw_info_vtd vtd = { 0 };
	struct iommu_hw_info q = {
		.size = sizeof(q),
		.dev_id = dev->devid,
		.data_len = sizeof(vtd),
		.data_uptr = (uintptr_t)&vtd,
	};

	memset(out, 0, sizeof(*out));
	if (pl_iommu_backend(dev->ctx) != PL_IOMMU_IOMMUFD) {
		pl_err("%s: IOMMU hardware info needs the iommufd back end", dev->info.addr);
		return -EOPNOTSUPP;
	}
	if (ioctl(dev->ctx->iommufd, IOMMU_GET_HW_INFO, &q)) {
		int ret = -errno;
		pl_err("IOMMU_GET_HW_INFO for %s: %s", dev->info.addr, strerror(-ret));
		return ret;
	}
	out->type = q.out_data_type;
	out->capabilities = q.out_capabilities;
	out->dirty_tracking = q.out_capabilities & 1;
	if (q.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD)
		pl_iommu_vtd_decode(vtd.cap_reg, vtd.ecap_reg, out);
	return 0;
}
