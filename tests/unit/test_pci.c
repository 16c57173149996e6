/* PCI addresses and sysfs parsing, over a real temporary tree shaped like sysfs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollen/log.h>
#include <pollen/pci.h>

#include "logcap.h"
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

/* ---- sysfs contents the kernel would not write: errors, never a different device ---- */

static const struct tmptree_dev nic = { "0000:00:04.0", 0x8086, 0x10d3, 0x020000, "e1000e", 4, -1 };

Test(pci, a_group_link_that_is_not_a_number_is_an_error)
{
	struct pl_pci_info info;

	tmptree_add_pci(&nic);
	tmptree_set_group_link(nic.addr, "x7");
	pl_log_set_handler(capture);
	cr_expect_eq(pl_pci_info(nic.addr, &info), -EIO, "read as group %d", info.iommu_group);
	cr_expect(strstr(last, "iommu_group links to 'x7'"), "logged: %s", last);
	pl_log_set_handler(NULL);
}

Test(pci, ids_too_wide_or_with_junk_are_errors)
{
	static const struct {
		const char *attr, *text, *said;
	} bad[] = {
		{ "vendor", "0x18086\n", "reads '0x18086'" },
		{ "device", "0x10d3junk\n", "reads '0x10d3junk'" },
		{ "class", "0x1020000\n", "reads '0x1020000'" },
		{ "vendor", "8086\n", "reads '8086'" },
		{ "subsystem_vendor", "0x\n", "reads '0x'" },
	};
	struct pl_pci_info info;

	pl_log_set_handler(capture);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char addr[PL_PCI_ADDR_LEN];
		struct tmptree_dev d = nic;

		snprintf(addr, sizeof(addr), "0000:00:%02zx.0", i + 8);
		d.addr = addr;
		tmptree_add_pci(&d);
		tmptree_set_attr(addr, bad[i].attr, bad[i].text);
		last[0] = 0;
		cr_expect_eq(pl_pci_info(addr, &info), -EIO, "%s %s accepted as %04x:%04x", bad[i].attr,
			     bad[i].text, info.vendor, info.device);
		cr_expect(strstr(last, bad[i].said), "logged: %s", last);
	}
	pl_log_set_handler(NULL);
}

Test(pci, a_long_driver_name_is_read_whole_and_unbound_from)
{
	char name[64], unbind[PATH_MAX], text[64] = "";
	struct pl_pci_info info;
	struct tmptree_dev d = nic;

	/* 40 characters: longer than the 32 the field once held. */
	snprintf(name, sizeof(name), "%s", "a_driver_whose_name_is_forty_characters_");
	d.driver = name;
	const char *root = tmptree_root();
	tmptree_add_pci(&d);
	cr_assert_eq(pl_pci_info(nic.addr, &info), 0);
	cr_expect_str_eq(info.driver, name);

	/* Binding elsewhere unbinds it first, by its own unbind file. */
	snprintf(unbind, sizeof(unbind), "%s/sys/bus/pci/drivers/%s/unbind", root, name);
	FILE *f = fopen(unbind, "w");
	cr_assert_not_null(f);
	fclose(f);
	tmptree_set_attr(nic.addr, "driver_override", "");
	char vfio[PATH_MAX];
	snprintf(vfio, sizeof(vfio), "mkdir -p %s/sys/bus/pci/drivers/vfio-pci && touch "
		 "%s/sys/bus/pci/drivers/vfio-pci/bind", root, root);
	cr_assert_eq(system(vfio), 0);
	pl_log_set_handler(capture);
	/* The tree does not rebind, so the bind reports failure; the unbind must have happened. */
	pl_pci_bind(nic.addr, "vfio-pci");
	pl_log_set_handler(NULL);
	cr_assert_not_null(f = fopen(unbind, "r"));
	cr_expect_not_null(fgets(text, sizeof(text), f), "nothing was written to %s", unbind);
	fclose(f);
	cr_expect_str_eq(text, nic.addr, "the unbind was skipped");
}

Test(pci, a_scan_skips_names_that_are_not_addresses_quietly)
{
	char seen[256] = "", junk[PATH_MAX];

	const char *root = tmptree_root();
	tmptree_add_pci(&nic);
	snprintf(junk, sizeof(junk), "mkdir %s/sys/bus/pci/devices/0000:00:0g.0", root);
	cr_assert_eq(system(junk), 0);
	pl_log_set_handler(capture);
	last[0] = 0;
	cr_assert_eq(pl_pci_scan(collect, seen), 0);
	pl_log_set_handler(NULL);
	cr_expect_str_eq(seen, "0000:00:04.0e1000e ");
	cr_expect_str_eq(last, "", "the scan logged: %s", last);
}

/* What pollen-devbind will not take from someone: an interface up, a namespace held. */
Test(pci, a_device_in_use_says_by_what)
{
	char why[256];

	tmptree_add_pci(&(struct tmptree_dev){ "0000:00:03.0", 0x8086, 0x100e, 0x020000, "e1000",
					       3, -1 });
	tmptree_add_dir("0000:00:03.0", "net/pltest0");
	tmptree_set_attr("0000:00:03.0", "net/pltest0/flags", "0x1002\n");
	cr_expect_eq(pl_pci_in_use("0000:00:03.0", why, sizeof(why)), 0, "down: %s", why);
	tmptree_set_attr("0000:00:03.0", "net/pltest0/flags", "0x1003\n");
	cr_expect_eq(pl_pci_in_use("0000:00:03.0", why, sizeof(why)), 1);
	cr_expect_str_eq(why, "its interface pltest0 is up");

	tmptree_add_pci(&(struct tmptree_dev){ "0000:00:02.0", 0x1b36, 0x0010, 0x010802, "nvme",
					       2, -1 });
	tmptree_add_dir("0000:00:02.0", "nvme/nvme7/nvme7n1/nvme7n1p2/holders");
	tmptree_add_dir("0000:00:02.0", "nvme/nvme7/nvme7n1/holders");
	tmptree_set_attr("0000:00:02.0", "nvme/nvme7/nvme7n1/dev", "259:900\n");
	tmptree_set_attr("0000:00:02.0", "nvme/nvme7/nvme7n1/nvme7n1p2/dev", "259:901\n");
	cr_expect_eq(pl_pci_in_use("0000:00:02.0", why, sizeof(why)), 0, "unused: %s", why);
	tmptree_add_dir("0000:00:02.0", "nvme/nvme7/nvme7n1/nvme7n1p2/holders/dm-3");
	cr_expect_eq(pl_pci_in_use("0000:00:02.0", why, sizeof(why)), 1);
	cr_expect(strstr(why, "nvme7n1p2 is held by another block device"), "%s", why);
	cr_expect_lt(pl_pci_in_use("00:1f", why, sizeof(why)), 0);
}
