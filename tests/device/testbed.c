/* Test-bed helpers: find the emulated devices through the library's own sysfs scan. */
#include "testbed.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <pollen/log.h>

const enum pl_iommu_backend testbed_backends[2] = { PL_IOMMU_IOMMUFD, PL_IOMMU_VFIO };

struct find {
	const char *family;
	char addr[PL_PCI_ADDR_LEN];
};

static int match(const struct pl_pci_info *info, void *arg)
{
	struct find *f = arg;
	const char *fam = pl_pci_family(info);

	if (fam && !strcmp(fam, f->family)) {
		snprintf(f->addr, sizeof(f->addr), "%s", info->addr);
		return 1;
	}
	return 0;
}

const char *testbed_dev(const char *family)
{
	static __thread char addrs[4][PL_PCI_ADDR_LEN];
	static __thread int next;
	struct find f = { .family = family };

	cr_assert_eq(pl_pci_scan(match, &f), 1, "the test bed has no %s device", family);
	char *out = addrs[next++ % 4];
	snprintf(out, PL_PCI_ADDR_LEN, "%s", f.addr);
	return out;
}

struct pl_pci_info testbed_info(const char *addr)
{
	struct pl_pci_info info;

	cr_assert_eq(pl_pci_info(addr, &info), 0, "cannot read sysfs for %s", addr);
	return info;
}

static char last[1024];

static void capture(enum pl_log_level l, const char *line)
{
	if (l == PL_LOG_ERR)
		snprintf(last, sizeof(last), "%s", line);
	fprintf(stderr, "pollen: %s\n", line);
}

void testbed_capture_log(void)
{
	last[0] = 0;
	pl_log_set_handler(capture);
}

const char *testbed_last_log(void)
{
	return last;
}
