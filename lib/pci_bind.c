/* Handing PCI devices between drivers through sysfs, as dpdk-devbind.py does. */
#include <pollen/log.h>
#include <pollen/pci.h>

#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
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

int pl_pci_bind(const char *addr, const char *driver)
{
	struct pl_pci_info info;
	char path[PATH_MAX];
	int ret;

	if ((ret = canonical(addr, &info)))
		return ret;
	if (!strcmp(info.driver, driver))
		return 0;
	if ((ret = pl_path(path, sizeof(path), "%s/bus/pci/drivers/%s", pl_sysfs_root(), driver)))
		return ret;
	if (access(path, F_OK)) {
		pl_err("driver %s is not loaded: modprobe %s", driver, driver);
		return -ENOENT;
	}
	if ((ret = do_unbind(&info)) || (ret = set_override(&info, driver)))
		return ret;
	if ((ret = pl_path(path, sizeof(path), "%s/bus/pci/drivers/%s/bind", pl_sysfs_root(),
			   driver)))
		return ret;
	int werr = sysfs_write(path, info.addr);
	if ((ret = pl_pci_info(info.addr, &info)))
		return ret;
	if (strcmp(info.driver, driver)) {
		pl_err("%s: %s did not take the device (%s)%s", info.addr, driver,
		       werr ? strerror(-werr) : "no error from bind",
		       !strcmp(driver, "vfio-pci") && info.iommu_group < 0 ?
			       ": it has no IOMMU group (enable the IOMMU: intel_iommu=on)" : "");
		return -EIO;
	}
	return 0;
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
