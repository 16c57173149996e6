/* Devices through VFIO behind each IOMMU back end: open, config space, sharing, release. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <pollen/iommu.h>
#include <pollen/vfio.h>

#include "testbed.h"

static void expect_config_matches_sysfs(struct pl_vfio_dev *dev)
{
	const struct pl_pci_info *info = pl_vfio_pci_info(dev);
	uint16_t vendor, device;
	uint32_t class_rev;

	cr_assert_eq(pl_vfio_cfg_read(dev, &vendor, 2, PCI_VENDOR_ID), 0);
	cr_assert_eq(pl_vfio_cfg_read(dev, &device, 2, PCI_DEVICE_ID), 0);
	cr_assert_eq(pl_vfio_cfg_read(dev, &class_rev, 4, PCI_CLASS_REVISION), 0);
	cr_expect_eq(vendor, info->vendor, "%s: vendor %04x in config, %04x in sysfs",
		     info->addr, vendor, info->vendor);
	cr_expect_eq(device, info->device, "%s: device %04x in config, %04x in sysfs",
		     info->addr, device, info->device);
	cr_expect_eq(class_rev >> 8, info->class_code, "%s: class %06x in config, %06x in sysfs",
		     info->addr, class_rev >> 8, info->class_code);
}

/* Criterion runs each case in a fresh process: parameters hold no pointers. */
struct dev_case {
	enum pl_iommu_backend backend;
	char family[8];
};

ParameterizedTestParameters(vfio, config_space_ids_match_sysfs)
{
	static const char *const fams[] = { "nvme", "e1000", "e1000e" };
	static struct dev_case cases[2 * 3];

	/* Every family under every back end. */
	for (int b = 0; b < 2; b++)
		for (int f = 0; f < 3; f++) {
			cases[b * 3 + f].backend = testbed_backends[b];
			snprintf(cases[b * 3 + f].family, sizeof(cases[0].family), "%s", fams[f]);
		}
	return cr_make_param_array(struct dev_case, cases, 6);
}

ParameterizedTest(struct dev_case *c, vfio, config_space_ids_match_sysfs,
		  .fini = testbed_teardown)
{
	testbed_setup(c->backend, c->family);
	cr_assert_eq(pl_iommu_backend(tb.ctx), c->backend);
	expect_config_matches_sysfs(tb.dev);
	cr_expect_gt(pl_vfio_num_regions(tb.dev), PL_VFIO_CONFIG,
		     "a PCI device has BAR, ROM and config regions");

	if (c->backend == PL_IOMMU_IOMMUFD) {
		/* The fd is the device's cdev, bound to our iommufd and attached to our IOAS. */
		char path[PL_PCI_NAME_LEN + 32];
		struct stat a, b;

		snprintf(path, sizeof(path), "/dev/vfio/devices/%s",
			 pl_vfio_pci_info(tb.dev)->vfio_cdev);
		cr_assert_eq(stat(path, &a), 0, "%s", path);
		cr_assert_eq(fstat(pl_vfio_fd(tb.dev), &b), 0);
		cr_expect_eq(a.st_rdev, b.st_rdev, "the device fd is not %s", path);
		cr_expect_neq(pl_vfio_devid(tb.dev), 0, "BIND_IOMMUFD gave no device ID");
		cr_expect_neq(pl_iommu_ioas_id(tb.ctx), 0, "IOAS_ALLOC gave no IOAS ID");
		cr_expect_geq(pl_iommu_iommufd(tb.ctx), 0);
		cr_expect_eq(pl_iommu_container(tb.ctx), -1);
	} else {
		cr_expect_geq(pl_iommu_container(tb.ctx), 0);
		cr_expect_eq(pl_iommu_iommufd(tb.ctx), -1);
		cr_expect_eq(pl_vfio_devid(tb.dev), 0);
	}
}

TESTBED_TEST(vfio, three_devices_share_one_context, "nvme")
{
	struct pl_vfio_dev *nics[2];
	static const char *const fams[] = { "e1000", "e1000e" };

	for (int i = 0; i < 2; i++)
		cr_assert_not_null(nics[i] = pl_vfio_open(tb.ctx, testbed_dev(fams[i])), "%s: %s",
				   fams[i], strerror(errno));
	expect_config_matches_sysfs(tb.dev);
	for (int i = 0; i < 2; i++)
		expect_config_matches_sysfs(nics[i]);
	for (int i = 0; i < 2; i++)
		pl_vfio_close(nics[i]);
}

TESTBED_TEST(vfio, a_second_open_is_busy_and_harmless, "nvme")
{
	const char *addr = pl_vfio_addr(tb.dev);
	struct pl_iommu *other;

	testbed_capture_log();
	errno = 0;
	cr_expect_null(pl_vfio_open(tb.ctx, addr));
	cr_expect_eq(errno, EBUSY, "same context: errno %d", errno);
	cr_expect(strstr(testbed_last_log(), "already open"), "logged: %s", testbed_last_log());

	/* A second context in the same process meets the kernel's own exclusion. */
	cr_assert_not_null(other = pl_iommu_open(tb.backend));
	errno = 0;
	cr_expect_null(pl_vfio_open(other, addr));
	cr_expect_eq(errno, EBUSY, "second context: errno %d", errno);
	cr_expect_eq(pl_iommu_close(other), 0);
	expect_config_matches_sysfs(tb.dev);
}

TESTBED_TEST(vfio, closing_releases_the_device_for_either_back_end, TESTBED_BARE)
{
	const char *addr = testbed_dev("e1000");
	enum pl_iommu_backend other = tb.backend == PL_IOMMU_IOMMUFD ? PL_IOMMU_VFIO :
								       PL_IOMMU_IOMMUFD;

	/* Open and close twice on one back end, then once on the other. */
	for (int round = 0; round < 3; round++) {
		struct pl_iommu *ctx = pl_iommu_open(round < 2 ? tb.backend : other);
		cr_assert_not_null(ctx);
		struct pl_vfio_dev *dev = pl_vfio_open(ctx, addr);
		cr_assert_not_null(dev, "round %d: %s", round, strerror(errno));
		expect_config_matches_sysfs(dev);
		pl_vfio_close(dev);
		cr_expect_eq(pl_iommu_close(ctx), 0);
	}
}

TESTBED_TEST_ON(PL_IOMMU_AUTO, vfio, auto_chooses_iommufd_when_the_cdev_exists, TESTBED_CONTEXT)
{
	cr_expect_eq(pl_iommu_backend(tb.ctx), PL_IOMMU_AUTO, "decided before any device");
	testbed_reopen("nvme");
	cr_expect_eq(pl_iommu_backend(tb.ctx), PL_IOMMU_IOMMUFD);
}

Test(vfio, pollen_iommu_env_forces_the_legacy_container, .fini = testbed_teardown)
{
	setenv("POLLEN_IOMMU", "vfio", 1);
	testbed_setup(PL_IOMMU_AUTO, TESTBED_CONTEXT);
	unsetenv("POLLEN_IOMMU");
	cr_expect_eq(pl_iommu_backend(tb.ctx), PL_IOMMU_VFIO);
	testbed_reopen("nvme");
	expect_config_matches_sysfs(tb.dev);
}

/* Two threads map one BAR at the same moment: they must get the one mapping. */
struct bar_race {
	struct pl_vfio_dev *dev;
	pthread_barrier_t *go;
	void *va;
};

static void *map_bar0(void *arg)
{
	struct bar_race *r = arg;
	size_t len;

	pthread_barrier_wait(r->go);
	r->va = pl_vfio_bar_map(r->dev, 0, &len);
	return NULL;
}

/* How many of this process's mappings are views of a VFIO device's regions. */
static int vfio_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "vfio") != NULL;
	fclose(f);
	return n;
}

TESTBED_TEST(vfio, two_threads_mapping_a_bar_share_one_mapping, TESTBED_CONTEXT)
{
	const char *addr = testbed_dev("e1000");
	int before = vfio_mappings();

	for (int round = 0; round < 50; round++) {
		struct pl_vfio_dev *dev = pl_vfio_open(tb.ctx, addr);
		pthread_barrier_t go;
		struct bar_race r[2] = { { dev, &go, NULL }, { dev, &go, NULL } };
		pthread_t t[2];

		cr_assert_not_null(dev, "round %d: %s", round, strerror(errno));
		pthread_barrier_init(&go, NULL, 2);
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, map_bar0, &r[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		cr_assert_not_null(r[0].va);
		cr_assert_eq(r[0].va, r[1].va, "round %d: two mappings of one BAR (%p, %p)", round,
			     r[0].va, r[1].va);
		pl_vfio_close(dev);
		/* A leaked mapping would hold the device file open, and so the device. */
		cr_assert_eq(vfio_mappings(), before, "round %d: a BAR mapping outlived its device",
			     round);
	}
}
