/* Opening devices that cannot be had: clear errors, nothing held afterwards. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pollen/eth.h>
#include <pollen/iommu.h>
#include <pollen/pkt.h>
#include <pollen/vfio.h>

#include "testbed.h"

TESTBED_TEST(open_errors, device_left_to_its_kernel_driver, TESTBED_CONTEXT)
{
	/* The launcher leaves the e1000e to the kernel's e1000e driver for this suite. */
	const char *addr = testbed_dev("e1000e");
	struct pl_iommu *ctx = tb.ctx;

	cr_assert_str_eq(testbed_info(addr).driver, "e1000e");
	testbed_capture_log();
	errno = 0;
	cr_expect_null(pl_vfio_open(ctx, addr));
	cr_expect_eq(errno, ENODEV);
	cr_expect(strstr(testbed_last_log(), "bound to e1000e, not vfio-pci"), "logged: %s",
		  testbed_last_log());
	cr_expect(strstr(testbed_last_log(), "pollen-devbind --bind vfio-pci"), "logged: %s",
		  testbed_last_log());
	/* The kernel's driver still has it. */
	cr_expect_str_eq(testbed_info(addr).driver, "e1000e");
}

TESTBED_TEST_ON(PL_IOMMU_IOMMUFD, open_errors, absent_and_malformed_addresses, TESTBED_CONTEXT)
{
	struct pl_iommu *ctx = tb.ctx;

	testbed_capture_log();
	errno = 0;
	cr_expect_null(pl_vfio_open(ctx, "0000:00:1e.0"));
	cr_expect_eq(errno, ENODEV);
	cr_expect(strstr(testbed_last_log(), "no such PCI device"), "logged: %s", testbed_last_log());
	errno = 0;
	cr_expect_null(pl_vfio_open(ctx, "00:02"));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(testbed_last_log(), "not a PCI address"), "logged: %s", testbed_last_log());
	/* Nothing was left open: the context closes cleanly and the NVMe still opens. */
	testbed_reopen("nvme");
}

/* Nothing opened before the fork: the child holds the device, then the parent tries. */
TESTBED_TEST(open_errors, device_held_by_another_process, TESTBED_BARE)
{
	enum pl_iommu_backend *be = &tb.backend;
	const char *addr = testbed_dev("nvme");
	int ready[2], done[2];
	char c;

	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(done), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct pl_iommu *ctx = pl_iommu_open(*be);
		struct pl_vfio_dev *dev = ctx ? pl_vfio_open(ctx, addr) : NULL;

		c = dev ? 'y' : 'n';
		(void)!write(ready[1], &c, 1);
		(void)!read(done[0], &c, 1);
		pl_vfio_close(dev);
		pl_iommu_close(ctx);
		_exit(0);
	}
	cr_assert_eq(read(ready[0], &c, 1), 1);
	cr_assert_eq(c, 'y', "the child could not open %s", addr);

	struct pl_iommu *ctx = tb.ctx = pl_iommu_open(*be);
	cr_assert_not_null(ctx);
	errno = 0;
	struct pl_vfio_dev *dev = pl_vfio_open(ctx, addr);
	cr_expect_null(dev, "%s opened while another process holds it", addr);
	cr_expect_eq(errno, EBUSY);

	/* Once the holder exits, the device is ours. */
	(void)!write(done[1], "x", 1);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	tb.dev = pl_vfio_open(ctx, addr);
	cr_expect_not_null(tb.dev, "%s still busy after its holder exited: %s", addr, strerror(errno));
}

TESTBED_TEST_ON(PL_IOMMU_IOMMUFD, open_errors, nic_left_to_its_kernel_driver, TESTBED_CONTEXT)
{
	const char *addr = testbed_dev("e1000e");
	struct pl_mempool *pool = pl_pkt_pool_create(tb.ctx, "t", 256, 0, 0);
	struct pl_eth_conf conf = { .pool = pool };

	cr_assert_not_null(pool);
	testbed_capture_log();
	errno = 0;
	cr_expect_null(pl_eth_open(tb.ctx, addr, &conf));
	cr_expect_eq(errno, ENODEV);
	cr_expect(strstr(testbed_last_log(), "bound to e1000e, not vfio-pci"), "logged: %s",
		  testbed_last_log());
	/* Its netdev is untouched: the kernel's driver still has it. */
	cr_expect_str_eq(testbed_info(addr).driver, "e1000e");
	pl_mempool_free(pool);
}
