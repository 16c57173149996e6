/* Handing devices between the kernel's drivers and vfio-pci, by library and by pollen-devbind. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/pci.h>
#include <pollen/vfio.h>

#include "testbed.h"

/* The launcher leaves the e1000e to the kernel's e1000e driver for this suite. */
static const char *nic(void)
{
	const char *addr = testbed_dev("e1000e");

	cr_assert_str_eq(testbed_info(addr).driver, "e1000e", "the e1000e did not start with its driver");
	return addr;
}

static bool has_netdev(const char *addr)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/net", addr);
	return !access(path, F_OK);
}

Test(devbind, bind_to_vfio_pci_then_restore_the_kernel_driver)
{
	const char *addr = nic();

	cr_expect(has_netdev(addr));
	cr_assert_eq(pl_pci_bind(addr, "vfio-pci"), 0);
	struct pl_pci_info info = testbed_info(addr);
	cr_expect_str_eq(info.driver, "vfio-pci");
	cr_expect_neq(info.vfio_cdev[0], 0, "no VFIO cdev after binding");
	cr_expect(!has_netdev(addr), "the kernel's netdev is still there");

	/* Pollen can now open it. */
	struct pl_iommu *ctx = pl_iommu_open(PL_IOMMU_AUTO);
	cr_assert_not_null(ctx);
	struct pl_vfio_dev *dev = pl_vfio_open(ctx, addr);
	cr_expect_not_null(dev, "%s", strerror(errno));
	pl_vfio_close(dev);
	pl_iommu_close(ctx);

	char driver[PL_PCI_NAME_LEN];
	cr_assert_eq(pl_pci_restore(addr, driver), 0);
	cr_expect_str_eq(driver, "e1000e");
	cr_expect(has_netdev(addr), "no netdev after restoring e1000e");
}

Test(devbind, unbind_leaves_no_driver_and_restore_undoes_it)
{
	const char *addr = nic();

	cr_assert_eq(pl_pci_unbind(addr), 0);
	cr_expect_str_eq(testbed_info(addr).driver, "");
	cr_assert_eq(pl_pci_restore(addr, NULL), 0);
	cr_expect_str_eq(testbed_info(addr).driver, "e1000e");
}

Test(devbind, a_driver_that_is_not_loaded_changes_nothing)
{
	const char *addr = nic();

	testbed_capture_log();
	cr_expect_eq(pl_pci_bind(addr, "no-such-driver"), -ENOENT);
	cr_expect(strstr(testbed_last_log(), "modprobe no-such-driver"), "logged: %s",
		  testbed_last_log());
	cr_expect_str_eq(testbed_info(addr).driver, "e1000e");
	cr_expect_eq(pl_pci_bind("0000:00:1e.0", "vfio-pci"), -ENODEV);
}

/* Runs the pollen-devbind program the launcher copied in; returns its exit status. */
static int devbind(char *out, size_t len, const char *args)
{
	return testbed_run_tool("POLLEN_DEVBIND", args, out, len);
}

Test(devbind, the_program_binds_restores_and_reports)
{
	const char *addr = nic();
	char out[4096], args[128], want[128];

	snprintf(args, sizeof(args), "--bind vfio-pci %s", addr);
	cr_assert_eq(devbind(out, sizeof(out), args), 0, "%s", out);
	snprintf(want, sizeof(want), "%s: e1000e -> vfio-pci", addr);
	cr_expect(strstr(out, want), "printed: %s", out);

	cr_assert_eq(devbind(out, sizeof(out), "--status"), 0, "%s", out);
	snprintf(want, sizeof(want), "%s  e1000e  8086:10d3  driver=vfio-pci", addr);
	cr_expect(strstr(out, want), "status: %s", out);
	cr_expect(strstr(out, "ok    /dev/iommu: iommufd"), "status: %s", out);

	snprintf(args, sizeof(args), "--restore %s", addr);
	cr_assert_eq(devbind(out, sizeof(out), args), 0, "%s", out);
	snprintf(want, sizeof(want), "%s: vfio-pci -> e1000e", addr);
	cr_expect(strstr(out, want), "printed: %s", out);

	cr_expect_eq(devbind(out, sizeof(out), "--bind vfio-pci 00:02"), 2);
	cr_expect(strstr(out, "not a PCI address"), "printed: %s", out);
}

/* The kernel's name for the NIC's interface, from sysfs. */
static const char *ifname(const char *addr)
{
	static char name[64];
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ls /sys/bus/pci/devices/%s/net", addr);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(name, sizeof(name), f), "no interface for %s", addr);
	pclose(f);
	name[strcspn(name, "\n")] = 0;
	return name;
}

/*
 * A NIC whose interface is up is someone's: pollen-devbind leaves it with its driver
 * and says why, unless --force (as dpdk-devbind does).
 */
Test(devbind, a_device_in_use_is_refused_unless_forced)
{
	const char *addr = nic();
	char out[4096], args[160], cmd[128], why[256];

	snprintf(cmd, sizeof(cmd), "ip link set %s up", ifname(addr));
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	cr_expect_eq(pl_pci_in_use(addr, why, sizeof(why)), 1);
	snprintf(args, sizeof(args), "--bind vfio-pci %s", addr);
	cr_expect_eq(devbind(out, sizeof(out), args), 1, "%s", out);
	cr_expect(strstr(out, "is in use: its interface") && strstr(out, "is up"), "%s", out);
	cr_expect_str_eq(testbed_info(addr).driver, "e1000e", "taken although in use");

	snprintf(args, sizeof(args), "--force --bind vfio-pci %s", addr);
	cr_expect_eq(devbind(out, sizeof(out), args), 0, "%s", out);
	cr_expect_str_eq(testbed_info(addr).driver, "vfio-pci");
	cr_assert_eq(pl_pci_restore(addr, NULL), 0);
	cr_expect_str_eq(testbed_info(addr).driver, "e1000e");
	cr_expect_eq(pl_pci_in_use(addr, why, sizeof(why)), 0, "a new interface is down: %s", why);
}

/*
 * A driver that refuses the device (e1000 knows no 82574L) gives it back to the driver
 * it had, driver_override cleared: never left without one.
 */
Test(devbind, a_refused_bind_gives_the_device_back)
{
	const char *addr = nic();
	char out[4096], args[160], path[128], ovr[64] = "";

	cr_expect_eq(pl_pci_bind(addr, "e1000"), -EIO);
	cr_expect_str_eq(testbed_info(addr).driver, "e1000e", "left without its driver");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", addr);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_expect_not_null(fgets(ovr, sizeof(ovr), f));
	fclose(f);
	cr_expect_str_eq(ovr, "(null)\n", "driver_override left as %s", ovr);

	snprintf(args, sizeof(args), "--bind e1000 %s", addr);
	cr_expect_eq(devbind(out, sizeof(out), args), 1, "%s", out);
	cr_expect_str_eq(testbed_info(addr).driver, "e1000e");
}

Test(devbind, the_program_reserves_hugepages)
{
	char out[1024];
	long total, free_pages, saved;

	cr_assert_eq(pl_dma_hugepages(2ul << 20, &saved, &free_pages), 0);
	cr_assert_eq(devbind(out, sizeof(out), "--hugepages 40"), 0, "%s", out);
	cr_assert_eq(pl_dma_hugepages(2ul << 20, &total, &free_pages), 0);
	cr_expect_eq(total, 40, "%s", out);
	cr_expect(strstr(out, "2048 kB hugepages: 40 reserved"), "printed: %s", out);
	cr_expect_eq(pl_dma_reserve_hugepages(2ul << 20, saved), saved);
	cr_expect_eq(devbind(out, sizeof(out), "--hugepages lots"), 2);
}
