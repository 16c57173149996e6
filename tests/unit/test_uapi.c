/* The uAPI encodings we rely on, checked against the numbers the kernel publishes. */
#include <criterion/criterion.h>
#include <stddef.h>

#include "uapi.h"

Test(uapi, iommufd_ioctl_numbers)
{
	/* _IO(';', nr) is 0x3b00 | nr: iommufd commands start at 0x80. */
	cr_expect_eq(IOMMU_DESTROY, 0x3b80);
	cr_expect_eq(IOMMU_IOAS_ALLOC, 0x3b81);
	cr_expect_eq(IOMMU_IOAS_COPY, 0x3b83);
	cr_expect_eq(IOMMU_IOAS_IOVA_RANGES, 0x3b84);
	cr_expect_eq(IOMMU_IOAS_MAP, 0x3b85);
	cr_expect_eq(IOMMU_IOAS_UNMAP, 0x3b86);
	cr_expect_eq(IOMMU_OPTION, 0x3b87);
	cr_expect_eq(IOMMU_GET_HW_INFO, 0x3b8a);
	cr_expect_eq(IOMMU_IOAS_MAP_FILE, 0x3b8f);
}

Test(uapi, vfio_ioctl_numbers)
{
	/* VFIO_BASE is 100 (0x64) on the same ';' type. */
	cr_expect_eq(VFIO_GET_API_VERSION, 0x3b64);
	cr_expect_eq(VFIO_GROUP_GET_DEVICE_FD, 0x3b6a);
	cr_expect_eq(VFIO_DEVICE_GET_INFO, 0x3b6b);
	cr_expect_eq(VFIO_DEVICE_BIND_IOMMUFD, 0x3b76);
	cr_expect_eq(VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3b77);
	cr_expect_eq(VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3b78);
}

Test(uapi, field_offsets)
{
	cr_expect_eq(offsetof(struct iommu_ioas_map, user_va), 16);
	cr_expect_eq(offsetof(struct iommu_ioas_map, iova), 32);
	cr_expect_eq(offsetof(struct iommu_ioas_iova_ranges, allowed_iovas), 16);
	cr_expect_eq(offsetof(struct iommu_ioas_iova_ranges, out_iova_alignment), 24);
	cr_expect_eq(offsetof(struct iommu_hw_info, data_uptr), 16);
	cr_expect_eq(offsetof(struct iommu_hw_info, out_data_type), 24);
	cr_expect_eq(offsetof(struct iommu_hw_info, out_capabilities), 32);
	cr_expect_eq(offsetof(struct iommu_option, val64), 16);
	cr_expect_eq(offsetof(struct vfio_device_bind_iommufd, out_devid), 12);
	cr_expect_eq(offsetof(struct vfio_device_attach_iommufd_pt, pt_id), 8);
}
