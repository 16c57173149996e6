/* pollen-devbind: hand devices to vfio-pci and back, reserve hugepages, check the set-up. */
#include <pollen/dma.h>
#include <pollen/log.h>
#include <pollen/pci.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devbind_args.h"

static int list_devices(const struct pl_pci_info *info, void *arg)
{
	const char *fam = pl_pci_family(info);
	char group[12] = "-";
	int *n = arg;

	if (!fam)
		return 0;
	++*n;
	if (info->iommu_group >= 0)
		snprintf(group, sizeof(group), "%d", info->iommu_group);
	printf("  %s  %-6s  %04x:%04x  driver=%-9s  group %-3s  cdev %-7s  %s\n", info->addr, fam,
	       info->vendor, info->device, info->driver[0] ? info->driver : "none", group,
	       info->vfio_cdev[0] ? info->vfio_cdev : "-",
	       !strcmp(info->driver, "vfio-pci") ? "ready for Pollen" :
						    "(pollen-devbind --bind vfio-pci ADDRESS)");
	return 0;
}

static void check(int *bad, bool ok, bool fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void check(int *bad, bool ok, bool fatal, const char *fmt, ...)
{
	va_list ap;

	printf("  %-5s ", ok ? "ok" : fatal ? "FAIL" : "warn");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok && fatal)
		++*bad;
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static bool node_rw(const char *path)
{
	return !access(path, R_OK | W_OK);
}

static int status(void)
{
	char path[PATH_MAX];
	int n = 0, bad = 0;
	long total, free_pages;

	printf("NVMe and e1000-family devices\n");
	if (pl_pci_scan(list_devices, &n) < 0)
		return 1;
	if (!n)
		printf("  none found\n");

	printf("Hugepages\n");
	for (size_t sz = 2ul << 20; sz <= 1ul << 30; sz <<= 9) {
		if (pl_dma_hugepages(sz, &total, &free_pages))
			printf("  %7zu kB: no pool in this kernel\n", sz >> 10);
		else
			printf("  %7zu kB: %ld reserved, %ld free\n", sz >> 10, total, free_pages);
	}

	printf("Checks\n");
	const char *dev = pl_devfs_root(), *sys = pl_sysfs_root();
	snprintf(path, sizeof(path), "%s/iommu", dev);
	bool iommufd = !access(path, F_OK);
	check(&bad, iommufd, false, "%s: iommufd%s", path,
	      iommufd ? "" : " missing: the kernel lacks CONFIG_IOMMUFD; Pollen uses the legacy container");
	if (iommufd)
		check(&bad, node_rw(path), false, "%s: read-write for this user%s", path,
		      node_rw(path) ? "" : " NOT: chown it, or run as root");
	snprintf(path, sizeof(path), "%s/vfio/vfio", dev);
	bool container = !access(path, F_OK);
	check(&bad, container || iommufd, true, "%s: legacy VFIO container%s", path,
	      container ? "" : iommufd ? " missing (iommufd will do)" : " missing: modprobe vfio-pci");
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups", sys);
	int groups = count_dir(path);
	snprintf(path, sizeof(path), "%s/class/iommu", sys);
	int units = count_dir(path);
	check(&bad, groups > 0, true, "IOMMU: %d unit(s), %d group(s)%s", units < 0 ? 0 : units,
	      groups < 0 ? 0 : groups,
	      groups > 0 ? "" : ": none: boot with intel_iommu=on (or amd_iommu=on) and enable VT-d/AMD-Vi in firmware");
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/vfio-pci", sys);
	check(&bad, !access(path, F_OK), true, "vfio-pci driver%s",
	      access(path, F_OK) ? " not loaded: modprobe vfio-pci" : " loaded");

	struct rlimit rl;
	getrlimit(RLIMIT_MEMLOCK, &rl);
	bool root = geteuid() == 0;
	if (rl.rlim_cur == RLIM_INFINITY)
		check(&bad, true, false, "memlock limit: unlimited");
	else
		check(&bad, root || rl.rlim_cur >= 1ul << 30, false,
		      "memlock limit: %llu kB%s", (unsigned long long)rl.rlim_cur >> 10,
		      root ? " (root is not held to it)" :
		      rl.rlim_cur >= 1ul << 30 ? "" :
		      ": DMA memory is pinned against it; raise it (ulimit -l, limits.conf memlock)");
	if (!pl_dma_hugepages(2ul << 20, &total, &free_pages))
		check(&bad, free_pages > 0, false, "2 MiB hugepages free: %ld%s", free_pages,
		      free_pages > 0 ? "" : ": reserve some (pollen-devbind --hugepages 512)");
	return bad ? 1 : 0;
}

/* hugeadm from the hugetlbfs tools when installed (it also sets the overcommit), else sysfs. */
static int reserve(long n, size_t sz)
{
	long total, free_pages;

	if (!access("/usr/bin/hugeadm", X_OK)) {
		char arg[64];
		snprintf(arg, sizeof(arg), "%s:%ld", sz == 1ul << 30 ? "1GB" : "2MB", n);
		pid_t pid = fork();
		if (pid == 0) {
			execl("/usr/bin/hugeadm", "hugeadm", "--pool-pages-min", arg, (char *)NULL);
			_exit(127);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			fprintf(stderr, "pollen-devbind: hugeadm failed; writing sysfs instead\n");
		else if (!pl_dma_hugepages(sz, &total, &free_pages) && total >= n)
			goto done;
	}
	if (pl_dma_reserve_hugepages(sz, n) < 0)
		return 1;
done:
	if (pl_dma_hugepages(sz, &total, &free_pages))
		return 1;
	printf("%zu kB hugepages: %ld reserved, %ld free\n", sz >> 10, total, free_pages);
	return total >= n ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct devbind_cfg cfg;
	int failed = 0;

	switch (devbind_parse(&cfg, argc, argv)) {
	case OPTS_HELP:
		devbind_usage(stdout);
		return 0;
	case OPTS_BAD:
		return 2;
	case OPTS_VERSION:
		return 0;
	}
	if (cfg.mode == 's')
		return status();
	if (cfg.mode == 'H')
		return reserve(cfg.pages, cfg.page_size);
	for (unsigned i = 0; i < cfg.n; i++) {
		struct pl_pci_info info;
		char why[256];
		int ret;

		if (pl_pci_info(cfg.addr[i], &info)) {
			failed++;
			continue;
		}
		/* Taking a device from its driver must not take it from someone using it. */
		if (cfg.mode != 'r' && info.driver[0] && strcmp(info.driver, "vfio-pci") &&
		    (ret = pl_pci_in_use(info.addr, why, sizeof(why))) != 0) {
			if (ret < 0 || !cfg.force) {
				fprintf(stderr, "pollen-devbind: %s is in use: %s; left with %s "
					"(--force takes it anyway)\n", info.addr,
					ret < 0 ? strerror(-ret) : why, info.driver);
				failed++;
				continue;
			}
			fprintf(stderr, "pollen-devbind: %s is in use (%s): taken anyway (--force)\n",
				info.addr, why);
		}
		char was[PL_PCI_NAME_LEN];
		snprintf(was, sizeof(was), "%s", info.driver[0] ? info.driver : "no driver");
		if (cfg.mode == 'b')
			ret = pl_pci_bind(info.addr, cfg.driver);
		else if (cfg.mode == 'u')
			ret = pl_pci_unbind(info.addr);
		else
			ret = pl_pci_restore(info.addr, NULL);
		if (ret) {
			failed++;
			continue;
		}
		if (pl_pci_info(info.addr, &info)) {
			failed++;
			continue;
		}
		printf("%s: %s -> %s\n", info.addr, was, info.driver[0] ? info.driver : "no driver");
	}
	return failed ? 1 : 0;
}
