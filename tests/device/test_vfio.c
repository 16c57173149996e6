/* Devices through VFIO behind each IOMMU back end: open, config space, sharing, release. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <pollen/iommu.h>
#include <pollen/vfio.h>

#include "testbed.h"

/* Criterion runs each case in a fresh process: parameters hold no pointers. */
struct dev_case {
	enum pl_iommu_backend backend;
	char family[8];
};

static void expect_config_matches_sysfs(struct pl_vfio_dev *dev)
{
	const struct pl_pci_info *info = pl_vfio_pci_info(dev);
	uint8_t cfg[12];

	cr_assert_eq(pl_vfio_cfg_read(dev, cfg, sizeof(cfg), 0), 0);
	uint16_t vendor = cfg[0] | cfg[1] << 8, device = cfg[2] | cfg[3] << 8;
	uint32_t class_code = cfg[9] | cfg[10] << 8 | cfg[11] << 16;
	cr_expect_eq(vendor, info->vendor, "%s: vendor %04x in config, %04x in sysfs",
		     info->addr, vendor, info->vendor);
	cr_expect_eq(device, info->device, "%s: device %04x in config, %04x in sysfs",
		     info->addr, device, info->device);
	cr_expect_eq(class_code, info->class_code, "%s: class %06x in config, %06x in sysfs",
		     info->addr, class_code, info->class_code);
}

ParameterizedTestParameters(vfio, config_space_ids_match_sysfs)
{
	static struct dev_case cases[] = {
		{ PL_IOMMU_IOMMUFD, "nvme" }, { PL_IOMMU_IOMMUFD, "e1000" },
		{ PL_IOMMU_IOMMUFD, "e1000e" }, { PL_IOMMU_VFIO, "nvme" },
		{ PL_IOMMU_VFIO, "e1000" }, { PL_IOMMU_VFIO, "e1000e" },
	};
	return cr_make_param_array(struct dev_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct dev_case *c, vfio, config_space_ids_match_sysfs)
{
	const char *addr = testbed_dev(c->family);
	struct pl_iommu *ctx = pl_iommu_open(c->backend);

	cr_assert_not_null(ctx, "pl_iommu_open(%s): %s", pl_iommu_backend_name(c->backend),
			   strerror(errno));
	cr_assert_eq(pl_iommu_backend(ctx), c->backend);
	struct pl_vfio_dev *dev = pl_vfio_open(ctx, addr);
	cr_assert_not_null(dev, "pl_vfio_open(%s) via %s: %s", addr,
			   pl_iommu_backend_name(c->backend), strerror(errno));
	expect_config_matches_sysfs(dev);
	cr_expect_gt(pl_vfio_num_regions(dev), 7, "a PCI device has BAR, ROM and config regions");

	if (c->backend == PL_IOMMU_IOMMUFD) {
		/* The fd is the device's cdev, bound to our iommufd and attached to our IOAS. */
		char path[64];
		struct stat a, b;

		snprintf(path, sizeof(path), "/dev/vfio/devices/%s", pl_vfio_pci_info(dev)->vfio_cdev);
		cr_assert_eq(stat(path, &a), 0, "%s", path);
		cr_assert_eq(fstat(pl_vfio_fd(dev), &b), 0);
		cr_expect_eq(a.st_rdev, b.st_rdev, "the device fd is not %s", path);
		cr_expect_neq(pl_vfio_devid(dev), 0, "BIND_IOMMUFD gave no device ID");
		cr_expect_neq(pl_iommu_ioas_id(ctx), 0, "IOAS_ALLOC gave no IOAS ID");
		cr_expect_geq(pl_iommu_iommufd(ctx), 0);
		cr_expect_eq(pl_iommu_container(ctx), -1);
	} else {
		cr_expect_geq(pl_iommu_container(ctx), 0);
		cr_expect_eq(pl_iommu_iommufd(ctx), -1);
		cr_expect_eq(pl_vfio_devid(dev), 0);
	}
	pl_vfio_close(dev);
	pl_iommu_close(ctx);
}

ParameterizedTestParameters(vfio, three_devices_share_one_context)
{
	return cr_make_param_array(enum pl_iommu_backend, (void *)testbed_backends, 2);
}

ParameterizedTest(enum pl_iommu_backend *be, vfio, three_devices_share_one_context)
{
	static const char *const fams[] = { "nvme", "e1000", "e1000e" };
	struct pl_vfio_dev *dev[3];
	struct pl_iommu *ctx = pl_iommu_open(*be);

	cr_assert_not_null(ctx);
	for (int i = 0; i < 3; i++) {
		dev[i] = pl_vfio_open(ctx, testbed_dev(fams[i]));
		cr_assert_not_null(dev[i], "%s: %s", fams[i], strerror(errno));
	}
	for (int i = 0; i < 3; i++)
		expect_config_matches_sysfs(dev[i]);
	for (int i = 0; i < 3; i++)
		pl_vfio_close(dev[i]);
	pl_iommu_close(ctx);
}

ParameterizedTestParameters(vfio, a_second_open_is_busy_and_harmless)
{
	return cr_make_param_array(enum pl_iommu_backend, (void *)testbed_backends, 2);
}

ParameterizedTest(enum pl_iommu_backend *be, vfio, a_second_open_is_busy_and_harmless)
{
	const char *addr = testbed_dev("nvme");
	struct pl_iommu *ctx = pl_iommu_open(*be), *other;

	cr_assert_not_null(ctx);
	struct pl_vfio_dev *dev = pl_vfio_open(ctx, addr);
	cr_assert_not_null(dev);

	testbed_capture_log();
	errno = 0;
	cr_expect_null(pl_vfio_open(ctx, addr));
	cr_expect_eq(errno, EBUSY, "same context: errno %d", errno);
	cr_expect(strstr(testbed_last_log(), "already open"), "logged: %s", testbed_last_log());

	/* A second context in the same process meets the kernel's own exclusion. */
	cr_assert_not_null(other = pl_iommu_open(*be));
	errno = 0;
	cr_expect_null(pl_vfio_open(other, addr));
	cr_expect_eq(errno, EBUSY, "second context: errno %d", errno);
	pl_iommu_close(other);

	expect_config_matches_sysfs(dev);
	pl_vfio_close(dev);
	pl_iommu_close(ctx);
}

ParameterizedTestParameters(vfio, closing_releases_the_device_for_either_back_end)
{
	return cr_make_param_array(enum pl_iommu_backend, (void *)testbed_backends, 2);
}

ParameterizedTest(enum pl_iommu_backend *be, vfio, closing_releases_the_device_for_either_back_end)
{
	const char *addr = testbed_dev("e1000");
	enum pl_iommu_backend other_be = *be == PL_IOMMU_IOMMUFD ? PL_IOMMU_VFIO : PL_IOMMU_IOMMUFD;

	/* Open and close twice on one back end, then once on the other. */
	for (int round = 0; round < 3; round++) {
		struct pl_iommu *ctx = pl_iommu_open(round < 2 ? *be : other_be);
		cr_assert_not_null(ctx);
		struct pl_vfio_dev *dev = pl_vfio_open(ctx, addr);
		cr_assert_not_null(dev, "round %d: %s", round, strerror(errno));
		expect_config_matches_sysfs(dev);
		pl_vfio_close(dev);
		pl_iommu_close(ctx);
	}
}

Test(vfio, auto_chooses_iommufd_when_the_cdev_exists)
{
	struct pl_iommu *ctx = pl_iommu_open(PL_IOMMU_AUTO);

	cr_assert_not_null(ctx);
	cr_expect_eq(pl_iommu_backend(ctx), PL_IOMMU_AUTO, "decided before any device");
	struct pl_vfio_dev *dev = pl_vfio_open(ctx, testbed_dev("nvme"));
	cr_assert_not_null(dev);
	cr_expect_eq(pl_iommu_backend(ctx), PL_IOMMU_IOMMUFD);
	pl_vfio_close(dev);
	pl_iommu_close(ctx);
}

Test(vfio, pollen_iommu_env_forces_the_legacy_container)
{
	setenv("POLLEN_IOMMU", "vfio", 1);
	struct pl_iommu *ctx = pl_iommu_open(PL_IOMMU_AUTO);
	unsetenv("POLLEN_IOMMU");

	cr_assert_not_null(ctx);
	cr_expect_eq(pl_iommu_backend(ctx), PL_IOMMU_VFIO);
	struct pl_vfio_dev *dev = pl_vfio_open(ctx, testbed_dev("nvme"));
	cr_assert_not_null(dev);
	expect_config_matches_sysfs(dev);
	pl_vfio_close(dev);
	pl_iommu_close(ctx);
}
