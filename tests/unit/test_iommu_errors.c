/* Opening an IOMMU context or a device where the kernel pieces are missing: clear errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollen/iommu.h>
#include <pollen/log.h>
#include <pollen/vfio.h>

#include "logcap.h"
#include "tmptree.h"

static void setup(void)
{
	tmptree_create();
	last[0] = 0;
	unsetenv("POLLEN_IOMMU");
	pl_log_set_handler(capture);
}

static void teardown(void)
{
	pl_log_set_handler(NULL);
	tmptree_destroy();
}

TestSuite(iommu_errors, .init = setup, .fini = teardown);

Test(iommu_errors, no_dev_iommu_is_enoent_with_a_reason)
{
	errno = 0;
	cr_assert_null(pl_iommu_open(PL_IOMMU_IOMMUFD));
	cr_expect_eq(errno, ENOENT);
	cr_expect(strstr(last, "/dev/iommu does not exist"), "logged: %s", last);
}

Test(iommu_errors, no_container_is_enoent_with_a_reason)
{
	errno = 0;
	cr_assert_null(pl_iommu_open(PL_IOMMU_VFIO));
	cr_expect_eq(errno, ENOENT);
	cr_expect(strstr(last, "/dev/vfio/vfio does not exist"), "logged: %s", last);
}

Test(iommu_errors, auto_with_neither_says_what_to_load)
{
	errno = 0;
	cr_assert_null(pl_iommu_open(PL_IOMMU_AUTO));
	cr_expect_eq(errno, ENOENT);
	cr_expect(strstr(last, "modprobe vfio-pci"), "logged: %s", last);
}

Test(iommu_errors, a_bad_pollen_iommu_is_einval)
{
	setenv("POLLEN_IOMMU", "iommu-fd", 1);
	errno = 0;
	cr_assert_null(pl_iommu_open(PL_IOMMU_AUTO));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(last, "POLLEN_IOMMU='iommu-fd'"), "logged: %s", last);
}

Test(iommu_errors, a_file_that_is_not_iommufd_is_refused)
{
	/* A regular file at /dev/iommu: the kernel refuses the ioctl, we report it. */
	tmptree_add_devnode("iommu");
	errno = 0;
	cr_assert_null(pl_iommu_open(PL_IOMMU_IOMMUFD));
	cr_expect_eq(errno, ENOTTY);
	cr_expect(strstr(last, "IOMMU_IOAS_ALLOC"), "logged: %s", last);
}

Test(iommu_errors, a_file_that_is_not_a_container_is_refused)
{
	tmptree_add_devnode("vfio/vfio");
	errno = 0;
	cr_assert_null(pl_iommu_open(PL_IOMMU_VFIO));
	cr_expect_eq(errno, EPROTO);
	cr_expect(strstr(last, "unknown VFIO API version"), "logged: %s", last);
}

Test(iommu_errors, auto_with_both_nodes_broken_says_why_not_enoent)
{
	/* Both exist and both refuse: the caller learns a refusal, not "nothing there". */
	tmptree_add_devnode("iommu");
	tmptree_add_devnode("vfio/vfio");
	errno = 0;
	cr_assert_null(pl_iommu_open(PL_IOMMU_AUTO));
	cr_expect_eq(errno, EPROTO, "errno %d (%s)", errno, strerror(errno));
	cr_expect(strstr(last, "unknown VFIO API version"), "logged: %s", last);
}
