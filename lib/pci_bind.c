/* Handing PCI devices between drivers through sysfs, as dpdk-devbind.py does. */
#include <pollen/log.h>
#include <pollen/pci.h>

#include "path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes @text to a sysfs file; the kernel's errno is the answer. */
static int sysfs_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int dev_path(char *buf, size_t len, const char *addr, const char *attr)
{
	return pl_path(buf, len, "%s/bus/pci/devices/%s/%s", pl_sysfs_root(), addr, attr);
}

static int canonical(const char *addr, struct pl_pci_info *info)
{
	return pl_pci_info(addr, info);
}

static int do_unbind(const struct pl_pci_info *info)
{
	char path[PATH_MAX];
	int ret;

	if (!info->driver[0])
		return 0;
	if ((ret = dev_path(path, sizeof(path), info->addr, "driver/unbind")))
		return ret;
	if ((ret = sysfs_write(path, info->addr)))
		pl_err("%s: unbinding from %s: %s%s", info->addr, info->driver, strerror(-ret),
		       ret == -EACCES ? " (run as root)" : "");
	return ret;
}

static int set_override(const struct pl_pci_info *info, const char *driver)
{
	char path[PATH_MAX];
	int ret;

	if ((ret = dev_path(path, sizeof(path), info->addr, "driver_override")))
		return ret;
	/* A lone newline clears the override. */
	if ((ret = sysfs_write(path, driver && *driver ? driver : "\n")))
		pl_err("%s: writing driver_override: %s", info->addr, strerror(-ret));
	return ret;
}

/* Gives the device back to @driver (its driver before a bind that failed), or to none. */
static void rebind(const struct pl_pci_info *was)
{
	char path[PATH_MAX];
	int ret;

	set_override(was, NULL);
	if (!was->driver[0] || pl_path(path, sizeof(path), "%s/bus/pci/drivers/%s/bind",
				       pl_sysfs_root(), was->driver))
		return;
	if ((ret = sysfs_write(path, was->addr)))
		pl_err("%s: giving it back to %s: %s: it is left without a driver (pollen-devbind "
		       "--restore %s)", was->addr, was->driver, strerror(-ret), was->addr);
	else
		pl_info("%s: back with %s", was->addr, was->driver);
}

int pl_pci_bind(const char *addr, const char *driver)
{
	struct pl_pci_info info, was;
	char path[PATH_MAX];
	int ret;

	if ((ret = canonical(addr, &info)))
		return ret;
	if (!strcmp(info.driver, driver))
		return 0;
	was = info;
	if ((ret = pl_path(path, sizeof(path), "%s/bus/pci/drivers/%s", pl_sysfs_root(), driver)))
		return ret;
	if (access(path, F_OK)) {
		pl_err("driver %s is not loaded: modprobe %s", driver, driver);
		return -ENOENT;
	}
	if ((ret = do_unbind(&info)))
		return ret;
	/* From here a failure gives the device back: never left driverless, overridden. */
	if ((ret = set_override(&info, driver)) ||
	    (ret = pl_path(path, sizeof(path), "%s/bus/pci/drivers/%s/bind", pl_sysfs_root(),
			   driver))) {
		rebind(&was);
		return ret;
	}
	int werr = sysfs_write(path, info.addr);
	if ((ret = pl_pci_info(info.addr, &info))) {
		rebind(&was);
		return ret;
	}
	if (strcmp(info.driver, driver)) {
		pl_err("%s: %s did not take the device (%s)%s", info.addr, driver,
		       werr ? strerror(-werr) : "no error from bind",
		       !strcmp(driver, "vfio-pci") && info.iommu_group < 0 ?
			       ": it has no IOMMU group (enable the IOMMU: intel_iommu=on)" : "");
		rebind(&was);
		return -EIO;
	}
	return 0;
}

/* ---- in use: what a bind would take away from someone ---- */

/* The first line of a sysfs attribute, newline cut; "" when it cannot be read. */
static void read_attr(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");

	out[0] = 0;
	if (f && fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = 0;
	if (f)
		fclose(f);
}

/* Whether a directory has an entry (holders/ of a block device someone holds). */
static bool has_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool any = false;

	if (!d)
		return false;
	while (!any && (e = readdir(d)))
		any = e->d_name[0] != '.';
	closedir(d);
	return any;
}

/* A network interface (sysfs directory @dir) up, or with an address, is someone's. */
static bool netdev_in_use(const char *dir, const char *name, char *why, size_t len)
{
	char path[PATH_MAX], flags[32];
	struct ifaddrs *ifa, *i;

	if (!pl_path(path, sizeof(path), "%s/flags", dir)) {
		read_attr(path, flags, sizeof(flags));
		if (strtoul(flags, NULL, 16) & IFF_UP) {
			snprintf(why, len, "its interface %s is up", name);
			return true;
		}
	}
	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && !strcmp(i->ifa_name, name) &&
		    (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
			break;
	if (i)
		snprintf(why, len, "its interface %s has an address", name);
	freeifaddrs(ifa);
	return i != NULL;
}

/* Whether the block device (or partition) at @dir is mounted, swap, or held by another. */
static bool blockdev_in_use(const char *dir, const char *name, char *why, size_t len)
{
	char path[PATH_MAX], dev[32], line[1024];
	bool used = false;
	FILE *f;

	if (pl_path(path, sizeof(path), "%s/holders", dir))
		return false;
	if (has_entries(path)) {
		snprintf(why, len, "%s is held by another block device (device-mapper, RAID)", name);
		return true;
	}
	if (pl_path(path, sizeof(path), "%s/dev", dir))
		return false;
	read_attr(path, dev, sizeof(dev));
	if (dev[0] && (f = fopen("/proc/self/mountinfo", "re"))) {
		while (!used && fgets(line, sizeof(line), f)) {
			char mm[32], where[512];

			if (sscanf(line, "%*s %*s %31s %*s %511s", mm, where) == 2 && !strcmp(mm, dev)) {
				snprintf(why, len, "%s is mounted on %s", name, where);
				used = true;
			}
		}
		fclose(f);
	}
	if (!used && (f = fopen("/proc/swaps", "re"))) {
		while (!used && fgets(line, sizeof(line), f)) {
			char *slash = strchr(line, ' ');

			if (slash)
				*slash = 0;
			slash = strrchr(line, '/');
			if (slash && !strcmp(slash + 1, name)) {
				snprintf(why, len, "%s is used as swap", name);
				used = true;
			}
		}
		fclose(f);
	}
	return used;
}

/* @dir's subdirectories whose names start with @prefix, each through @fn until one says so. */
static bool any_child(const char *dir, const char *prefix, char *why, size_t len,
		      bool (*fn)(const char *dir, const char *name, char *why, size_t len))
{
	char path[PATH_MAX];
	DIR *d = opendir(dir);
	struct dirent *e;
	bool used = false;

	if (!d)
		return false;
	while (!used && (e = readdir(d)))
		if (e->d_name[0] != '.' && !strncmp(e->d_name, prefix, strlen(prefix)) &&
		    !pl_path(path, sizeof(path), "%s/%s", dir, e->d_name))
			used = fn(path, e->d_name, why, len);
	closedir(d);
	return used;
}

static bool ns_in_use(const char *dir, const char *name, char *why, size_t len)
{
	/* The namespace itself, then its partitions (nvme0n1p1 ...). */
	return blockdev_in_use(dir, name, why, len) || any_child(dir, name, why, len, blockdev_in_use);
}

static bool ctrl_in_use(const char *dir, const char *name, char *why, size_t len)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "%sn", name);	/* nvme0 -> nvme0n1, nvme0n2 ... */
	return any_child(dir, prefix, why, len, ns_in_use);
}

static bool net_in_use(const char *dir, const char *name, char *why, size_t len)
{
	(void)name;
	return any_child(dir, "", why, len, netdev_in_use);
}

int pl_pci_in_use(const char *addr, char *why, size_t len)
{
	struct pl_pci_info info;
	char dir[PATH_MAX];
	int ret;

	if ((ret = canonical(addr, &info)))
		return ret;
	why[0] = 0;
	if ((ret = dev_path(dir, sizeof(dir), info.addr, "nvme")))
		return ret;
	if (any_child(dir, "nvme", why, len, ctrl_in_use))
		return 1;
	if ((ret = dev_path(dir, sizeof(dir), info.addr, "net")))
		return ret;
	return net_in_use(dir, "net", why, len) ? 1 : 0;
}

int pl_pci_unbind(const char *addr)
{
	struct pl_pci_info info;
	int ret;

	if ((ret = canonical(addr, &info)) || (ret = do_unbind(&info)))
		return ret;
	return set_override(&info, NULL);
}

int pl_pci_restore(const char *addr, char driver[PL_PCI_NAME_LEN])
{
	struct pl_pci_info info;
	char path[PATH_MAX];
	int ret;

	if ((ret = pl_pci_unbind(addr)) || (ret = canonical(addr, &info)))
		return ret;
	if ((ret = pl_path(path, sizeof(path), "%s/bus/pci/drivers_probe", pl_sysfs_root())))
		return ret;
	/* No driver wanting the device is not an error: it is then simply unbound. */
	ret = sysfs_write(path, info.addr);
	if (ret && ret != -ENODEV && ret != -EINVAL) {
		pl_err("%s: drivers_probe: %s", info.addr, strerror(-ret));
		return ret;
	}
	if ((ret = pl_pci_info(info.addr, &info)))
		return ret;
	if (driver)
		snprintf(driver, PL_PCI_NAME_LEN, "%s", info.driver);
	return 0;
}
