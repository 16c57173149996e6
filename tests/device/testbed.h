/* Device tests in the QEMU test bed: where its devices are, and the fixture every case uses. */
#ifndef PL_TEST_TESTBED_H
#define PL_TEST_TESTBED_H

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <pollen/iommu.h>
#include <pollen/nvme.h>
#include <pollen/pci.h>
#include <pollen/vfio.h>

/*
 * The variants: every case that says nothing else runs once per IOMMU back end, as the
 * kernel's vfio selftests run theirs per iommu_mode.
 */
extern const enum pl_iommu_backend testbed_backends[2];

/* What a fixture holds while its case runs; one per test process (Criterion forks). */
struct testbed {
	enum pl_iommu_backend backend;	/* the variant */
	struct pl_iommu *ctx;		/* NULL for TESTBED_BARE */
	struct pl_vfio_dev *dev;	/* the device, NULL for TESTBED_CONTEXT and BARE */
	volatile void *bar0;		/* its BAR0, mapped */
};
extern struct testbed tb;

/* Fixture kinds besides a device family ("nvme", "e1000", "e1000e"). */
#define TESTBED_CONTEXT ""	/* the context alone */
#define TESTBED_BARE NULL	/* nothing opened: the case opens what it needs */

/*
 * Set-up and tear-down: opens a context of back end @be and, unless @family says
 * otherwise, the bed's @family device on it with BAR0 mapped, failing the case if either
 * will not open. The tear-down closes whatever tb still holds and checks that the
 * context closes cleanly (a case that leaks DMA memory or a device fails there).
 */
void testbed_setup(enum pl_iommu_backend be, const char *family);
void testbed_teardown(void);

/* A case run once per back end, with the fixture for @family around its body. */
#define TESTBED_TEST(suite, name, family, ...)                                         \
	static void suite##__##name(void);                                            \
	ParameterizedTestParameters(suite, name)                                      \
	{                                                                             \
		return cr_make_param_array(enum pl_iommu_backend, (void *)testbed_backends, 2); \
	}                                                                             \
	ParameterizedTest(enum pl_iommu_backend *be, suite, name,                     \
			  .fini = testbed_teardown, ##__VA_ARGS__)                      \
	{                                                                             \
		testbed_setup(*be, family);                                           \
		suite##__##name();                                                    \
	}                                                                             \
	static void suite##__##name(void)

/* A case for one back end only (what it tests exists only there). */
#define TESTBED_TEST_ON(backend, suite, name, family, ...)                             \
	static void suite##__##name(void);                                            \
	Test(suite, name, .fini = testbed_teardown, ##__VA_ARGS__)                    \
	{                                                                             \
		testbed_setup(backend, family);                                       \
		suite##__##name();                                                    \
	}                                                                             \
	static void suite##__##name(void)

/*
 * The address of the test bed's device of @family, whatever driver holds it; fails the
 * case when the bed has none.
 */
const char *testbed_dev(const char *family);

/*
 * The name of the netdev the kernel's driver made for the NIC at @addr, into @out. Waits
 * up to 10 s for it: a netdev comes back from a network namespace that ended a little
 * later (the kernel cleans namespaces up in a work queue). Fails the case without one.
 */
void testbed_netdev(const char *addr, char *out, size_t len);

/*
 * The kernel's nvme driver's disk of namespace @nsid of the controller at @addr
 * ("/dev/nvme0n1"), into @out: waits up to 10 s for the driver's probe to make it. Fails
 * the case without one.
 */
void testbed_kernel_disk(const char *addr, unsigned nsid, char *out, size_t len);

/*
 * A child process holding a new network namespace until it is killed (SIGKILL, then
 * waitpid): its PID, for ip link set netns and nsenter. Fails the case without one.
 */
pid_t testbed_netns(void);

/* The sysfs view of @addr; fails the case when it cannot be read. */
struct pl_pci_info testbed_info(const char *addr);

/* Reopens tb.dev (the same device) after a case closed it; BAR0 mapped again. */
void testbed_reopen(const char *family);

/* Fails the case unless [@iova, +@len) lies inside one of @ctx's IOVA ranges. */
void testbed_expect_in_ranges(struct pl_iommu *ctx, uint64_t iova, size_t len);

/* The bed's NVMe opened by the driver on tb.ctx; fails the case if it will not open. */
struct pl_nvme_ctrl *testbed_nvme_open(const struct pl_nvme_opts *opts);
/* @len bytes of DMA memory on tb.ctx; fails the case when there is none. */
void *testbed_dma(size_t len);

/* Captures the library's last error line, for checking what a user would read. */
void testbed_capture_log(void);
const char *testbed_last_log(void);

/*
 * Runs the tool named by environment variable @env (the boot copies it in) with @args,
 * its stdout and stderr into @out. Return: its exit status.
 */
int testbed_run_tool(const char *env, const char *args, char *out, size_t len);
/* The number after @label in @out; fails the case when @label is missing. */
unsigned long long testbed_number_after(const char *out, const char *label);

/*
 * Runs a QEMU monitor (HMP) command from inside the guest (tests/vm/run --monitor), its
 * output into @out. Return: 0, -ENODEV without the monitor channel, -ETIMEDOUT.
 */
int testbed_monitor(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A number from the fault namespaces' description (tests/vm/run --nvme-faults), e.g.
 * testbed_fault("slow"): its NSID; fails the case when the bed has none. */
unsigned testbed_fault(const char *key);

#endif
