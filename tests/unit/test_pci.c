/* PCI addresses and sysfs parsing, over a real temporary tree shaped like sysfs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <pollen/pci.h>

#include "tmptree.h"

TestSuite(pci, .init = (void (*)(void))tmptree_create, .fini = tmptree_destroy);

Test(pci, parses_addresses_with_and_without_domain)
{
	static const struct {
		const char *in, *canon;
	} ok[] = {
		{ "0000:00:02.0", "0000:00:02.0" },
		{ "00:02.0", "0000:00:02.0" },
		{ "0001:af:1f.7", "0001:af:1f.7" },
		{ "ABCD:EF:0A.3", "abcd:ef:0a.3" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct pl_pci_addr a;
		char buf[PL_PCI_ADDR_LEN];

		cr_assert_eq(pl_pci_addr_parse(ok[i].in, &a), 0, "%s", ok[i].in);
		pl_pci_addr_format(&a, buf);
		cr_expect_str_eq(buf, ok[i].canon);
	}
}

Test(pci, rejects_malformed_addresses)
{
	static const char *const bad[] = {
		"", "0000:00:02", "00:02.8", "00:20.0", "zz:00.0", "0000:00:02.0x",
		"0000-00:02.0", "000:00:02.0", "nvme0", " 00:02.0",
	};
	struct pl_pci_addr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(pl_pci_addr_parse(bad[i], &a), -EINVAL, "'%s' accepted", bad[i]);
	cr_expect_eq(pl_pci_addr_parse(NULL, &a), -EINVAL);
}

Test(pci, reads_ids_driver_group_and_cdev)
{
	struct pl_pci_info info;

	tmptree_add_pci(&(struct tmptree_dev){ "0000:00:02.0", 0x1b36, 0x0010, 0x010802,
					       "vfio-pci", 5, 2 });
	cr_assert_eq(pl_pci_info("00:02.0", &info), 0);
	cr_expect_str_eq(info.addr, "0000:00:02.0");
	cr_expect_eq(info.vendor, 0x1b36);
	cr_expect_eq(info.device, 0x0010);
	cr_expect_eq(info.class_code, 0x010802);
	cr_expect_eq(info.subsys_vendor, 0x1af4);
	cr_expect_eq(info.subsys_device, 0x1100);
	cr_expect_str_eq(info.driver, "vfio-pci");
	cr_expect_eq(info.iommu_group, 5);
	cr_expect_str_eq(info.vfio_cdev, "vfio2");
	cr_expect(pl_pci_is_nvme(&info));
	cr_expect_str_eq(pl_pci_family(&info), "nvme");
}

Test(pci, unbound_device_has_no_driver_group_or_cdev)
{
	struct pl_pci_info info;

	tmptree_add_pci(&(struct tmptree_dev){ "0000:00:03.0", 0x8086, 0x100e, 0x020000,
					       NULL, -1, -1 });
	cr_assert_eq(pl_pci_info("0000:00:03.0", &info), 0);
	cr_expect_str_eq(info.driver, "");
	cr_expect_eq(info.iommu_group, -1);
	cr_expect_str_eq(info.vfio_cdev, "");
	cr_expect(pl_pci_is_e1000(&info));
	cr_expect_str_eq(pl_pci_family(&info), "e1000");
}

Test(pci, absent_device_is_enodev)
{
	struct pl_pci_info info;

	cr_expect_eq(pl_pci_info("0000:00:1f.7", &info), -ENODEV);
	cr_expect_eq(pl_pci_info("00:1f", &info), -EINVAL);
}

static int collect(const struct pl_pci_info *info, void *arg)
{
	char *out = arg;

	strcat(out, info->addr);
	strcat(out, pl_pci_family(info) ? pl_pci_family(info) : "-");
	strcat(out, " ");
	return 0;
}

Test(pci, scan_lists_devices_in_address_order)
{
	char seen[256] = "";

	tmptree_add_pci(&(struct tmptree_dev){ "0000:00:04.0", 0x8086, 0x10d3, 0x020000,
					       "e1000e", 4, -1 });
	tmptree_add_pci(&(struct tmptree_dev){ "0000:00:1f.0", 0x8086, 0x2918, 0x060100,
					       NULL, 1, -1 });
	tmptree_add_pci(&(struct tmptree_dev){ "0000:00:02.0", 0x1b36, 0x0010, 0x010802,
					       "nvme", 2, -1 });
	cr_assert_eq(pl_pci_scan(collect, seen), 0);
	cr_expect_str_eq(seen, "0000:00:02.0nvme 0000:00:04.0e1000e 0000:00:1f.0- ");
}

static int stop_at_second(const struct pl_pci_info *info, void *arg)
{
	(void)info;
	return ++*(int *)arg == 2 ? 42 : 0;
}

Test(pci, scan_stops_when_the_callback_says_so)
{
	int n = 0;

	tmptree_add_pci(&(struct tmptree_dev){ "0000:00:02.0", 1, 2, 3, NULL, -1, -1 });
	tmptree_add_pci(&(struct tmptree_dev){ "0000:00:03.0", 1, 2, 3, NULL, -1, -1 });
	tmptree_add_pci(&(struct tmptree_dev){ "0000:00:04.0", 1, 2, 3, NULL, -1, -1 });
	cr_expect_eq(pl_pci_scan(stop_at_second, &n), 42);
	cr_expect_eq(n, 2);
}
