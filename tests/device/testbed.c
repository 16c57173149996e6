/* Test-bed helpers: the fixture, and the emulated devices found through the library's scan. */
#define _GNU_SOURCE	/* unshare */
#include "testbed.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <pollen/dma.h>
#include <pollen/log.h>

const enum pl_iommu_backend testbed_backends[2] = { PL_IOMMU_IOMMUFD, PL_IOMMU_VFIO };
struct testbed tb;

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

void testbed_netdev(const char *addr, char *out, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/net", pl_sysfs_root(), addr);
	out[0] = 0;
	for (int i = 0; i < 100 && !out[0]; i++) {
		DIR *d = opendir(path);
		struct dirent *e;

		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				snprintf(out, len, "%.*s", (int)(len - 1), e->d_name);
		if (d)
			closedir(d);
		if (!out[0])
			usleep(100 * 1000);
	}
	cr_assert(out[0], "%s has no netdev here after 10 s: is it still with its kernel driver?",
		  addr);
}

void testbed_kernel_disk(const char *addr, unsigned nsid, char *out, size_t len)
{
	char pattern[160];

	snprintf(pattern, sizeof(pattern), "%s/bus/pci/devices/%s/nvme/nvme*/nvme*n*/nsid",
		 pl_sysfs_root(), addr);
	out[0] = 0;
	for (int i = 0; i < 200; i++) {
		glob_t g;

		if (glob(pattern, 0, NULL, &g) == 0) {
			for (size_t k = 0; k < g.gl_pathc; k++) {
				FILE *f = fopen(g.gl_pathv[k], "r");
				unsigned n = 0;

				if (f && fscanf(f, "%u", &n) == 1 && n == nsid) {
					/* .../nvme0/nvme0n1/nsid: the disk is the directory's name */
					char *end = strrchr(g.gl_pathv[k], '/');
					*end = 0;
					snprintf(out, len, "/dev/%s", strrchr(g.gl_pathv[k], '/') + 1);
				}
				if (f)
					fclose(f);
			}
			globfree(&g);
		}
		if (out[0] && access(out, R_OK) == 0)
			return;
		out[0] = 0;
		usleep(50 * 1000);
	}
	cr_assert_fail("%s: the kernel's nvme driver shows no namespace %u", addr, nsid);
}

pid_t testbed_netns(void)
{
	int p[2];
	char ok = 0;

	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		ok = unshare(CLONE_NEWNET) ? 'n' : 'y';
		if (write(p[1], &ok, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	cr_assert_eq(read(p[0], &ok, 1), 1);
	close(p[0]);
	close(p[1]);
	cr_assert_eq(ok, 'y', "unshare(CLONE_NEWNET) failed");
	return pid;
}

struct pl_pci_info testbed_info(const char *addr)
{
	struct pl_pci_info info;

	cr_assert_eq(pl_pci_info(addr, &info), 0, "cannot read sysfs for %s", addr);
	return info;
}

void testbed_reopen(const char *family)
{
	size_t len;

	cr_assert_null(tb.dev, "the case still holds its device");
	cr_assert_not_null(tb.dev = pl_vfio_open(tb.ctx, testbed_dev(family)), "%s via %s: %s",
			   family, pl_iommu_backend_name(tb.backend), strerror(errno));
	cr_assert_not_null(tb.bar0 = pl_vfio_bar_map(tb.dev, 0, &len), "%s BAR0: %s", family,
			   strerror(errno));
}

struct pl_nvme_ctrl *testbed_nvme_open(const struct pl_nvme_opts *opts)
{
	struct pl_nvme_ctrl *c = pl_nvme_open(tb.ctx, testbed_dev("nvme"), opts);

	cr_assert_not_null(c, "pl_nvme_open: %s", strerror(errno));
	return c;
}

void *testbed_dma(size_t len)
{
	uint64_t iova;
	void *p = pl_dma_alloc(tb.ctx, len, 0, &iova);

	cr_assert_not_null(p, "pl_dma_alloc: %s", strerror(errno));
	return p;
}

void testbed_setup(enum pl_iommu_backend be, const char *family)
{
	tb = (struct testbed){ .backend = be };
	if (family == TESTBED_BARE)
		return;
	cr_assert_not_null(tb.ctx = pl_iommu_open(be), "pl_iommu_open(%s): %s",
			   pl_iommu_backend_name(be), strerror(errno));
	if (*family)
		testbed_reopen(family);
}

void testbed_teardown(void)
{
	pl_vfio_close(tb.dev);
	cr_expect_eq(pl_iommu_close(tb.ctx), 0, "the case left DMA memory or a device on its context");
	tb = (struct testbed){ 0 };
}

void testbed_expect_in_ranges(struct pl_iommu *ctx, uint64_t iova, size_t len)
{
	struct pl_iova_range r[32];
	int n = pl_iommu_iova_ranges(ctx, r, 32);

	cr_assert_gt(n, 0, "no IOVA ranges: %d", n);
	for (int i = 0; i < n && i < 32; i++)
		if (iova >= r[i].start && iova + len - 1 <= r[i].last)
			return;
	unsigned long long at = iova;

	cr_assert_fail("IOVA 0x%llx + %zu lies outside the %d reported ranges", at, len, n);
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

/*
 * The monitor channel (tests/vm/run --monitor): one command line out on the guest's
 * second serial port, the output back up to a line "@@end". The port is opened once
 * for both, raw: a reply that arrived while it was closed would be lost.
 */
int testbed_monitor(char *out, size_t len, const char *fmt, ...)
{
	const char *port = getenv("POLLEN_TESTBED_MONITOR");
	char cmd[512], buf[4096];
	size_t got = 0;
	va_list ap;
	int fd, ret = -ETIMEDOUT;

	if (!port)
		return -ENODEV;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd) - 1)
		return -EINVAL;
	cmd[n++] = '\n';
	if ((fd = open(port, O_RDWR | O_NOCTTY)) < 0)
		return -errno;
	struct termios t;
	if (!tcgetattr(fd, &t)) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	if (write(fd, cmd, (size_t)n) != n) {
		ret = -EIO;
		goto out;
	}
	for (int waited = 0; waited < 30000;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0) {
			waited += 100;
			continue;
		}
		ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = 0;
		char *end = strstr(buf, "@@end\n");
		if (end) {
			*end = 0;
			if (out)
				snprintf(out, len, "%s", buf);
			ret = 0;
			break;
		}
		if (got == sizeof(buf) - 1)
			got = 0;	/* a flood: keep the tail only */
	}
out:
	close(fd);
	return ret;
}

unsigned testbed_fault(const char *key)
{
	const char *f = getenv("POLLEN_TESTBED_FAULTS");
	char want[32];

	snprintf(want, sizeof(want), "%s=", key);
	const char *at = f ? strstr(f, want) : NULL;
	cr_assert_not_null(at, "the test bed has no '%s' fault (tests/vm/run --nvme-faults)", key);
	return (unsigned)strtoul(at + strlen(want), NULL, 0);
}

int testbed_run_tool(const char *env, const char *args, char *out, size_t len)
{
	const char *app = getenv(env);
	char cmd[512];

	cr_assert_not_null(app, "%s is not set", env);
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", app, args);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(out, 1, len - 1, p);
	out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

unsigned long long testbed_number_after(const char *out, const char *label)
{
	const char *at = strstr(out, label);

	cr_assert_not_null(at, "no '%s' in: %s", label, out);
	return strtoull(at + strlen(label), NULL, 10);
}
