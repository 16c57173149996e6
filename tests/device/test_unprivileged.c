/* iommufd's promise: a user with only the device nodes and a memlock limit can do DMA. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/log.h>
#include <pollen/vfio.h>

#include "testbed.h"

#define MiB (1ul << 20)
#define NOBODY 65534

/*
 * Runs as an unprivileged user in a child: open, map within the memlock limit, be refused
 * beyond it with a message naming the limit. Returns 0, or the step that went wrong.
 */
static int as_nobody(enum pl_iommu_backend be, const char *addr, const char *const *nodes,
		     int log_fd)
{
	struct rlimit rl = { 64 * MiB, 64 * MiB };
	uint64_t iova;

	for (int i = 0; nodes[i]; i++)
		if (chown(nodes[i], NOBODY, NOBODY))
			return 10;
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return 11;
	/* Dropping root's uid drops its capabilities, CAP_IPC_LOCK among them. */
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return 12;
	if (geteuid() != NOBODY)
		return 13;
	dup2(log_fd, 2);

	struct pl_iommu *ctx = pl_iommu_open(be);
	if (!ctx)
		return 20;
	struct pl_vfio_dev *dev = pl_vfio_open(ctx, addr);
	if (!dev)
		return 21;
	void *small = pl_dma_alloc(ctx, 4 * MiB, 0, &iova);
	if (!small)
		return 22;
	errno = 0;
	void *big = pl_dma_alloc(ctx, 128 * MiB, 0, &iova);
	if (big)
		return 23;
	if (errno != ENOMEM)
		return 24;
	pl_dma_free(ctx, small);
	pl_vfio_close(dev);
	pl_iommu_close(ctx);
	return 0;
}

/* Nothing opened in the parent: the child, as nobody, opens it all itself. */
TESTBED_TEST(unprivileged, device_nodes_and_memlock_are_enough, TESTBED_BARE)
{
	enum pl_iommu_backend *be = &tb.backend;
	const char *addr = testbed_dev("nvme");
	struct pl_pci_info info = testbed_info(addr);
	char cdev[PL_PCI_NAME_LEN + 32], group[64];
	const char *iommufd_nodes[] = { "/dev/iommu", cdev, NULL };
	const char *vfio_nodes[] = { "/dev/vfio/vfio", group, NULL };
	int logp[2];

	snprintf(cdev, sizeof(cdev), "/dev/vfio/devices/%s", info.vfio_cdev);
	snprintf(group, sizeof(group), "/dev/vfio/%d", info.iommu_group);
	cr_assert_eq(pipe(logp), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(logp[0]);
		_exit(as_nobody(*be, addr, *be == PL_IOMMU_IOMMUFD ? iommufd_nodes : vfio_nodes,
				logp[1]));
	}
	close(logp[1]);
	char log[4096];
	ssize_t n = read(logp[0], log, sizeof(log) - 1);
	log[n > 0 ? n : 0] = 0;
	close(logp[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	/* Give the nodes back to root for the tests after this one. */
	for (const char *const *p = *be == PL_IOMMU_IOMMUFD ? iommufd_nodes : vfio_nodes; *p; p++)
		cr_expect_eq(chown(*p, 0, 0), 0);

	cr_assert(WIFEXITED(st), "the child died");
	static const char *const what[] = {
		[10] = "chown of the device nodes", [11] = "setrlimit", [12] = "dropping root",
		[13] = "still root", [20] = "pl_iommu_open as nobody", [21] = "pl_vfio_open as nobody",
		[22] = "4 MiB of DMA memory within a 64 MiB memlock limit",
		[23] = "128 MiB mapped beyond a 64 MiB memlock limit", [24] = "errno was not ENOMEM",
	};
	int code = WEXITSTATUS(st);
	cr_assert_eq(code, 0, "failed at: %s; its log: %s", code < 25 && what[code] ? what[code] : "?",
		     log);
	cr_expect(strstr(log, "memlock limit is 65536 KiB"), "the refusal did not name the limit: %s",
		  log);
}
