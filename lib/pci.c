/* PCI devices through sysfs: address parsing, IDs, driver, IOMMU group, VFIO cdev. */
#include <pollen/pci.h>
#include <pollen/log.h>

#include "array.h"
#include "path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *pl_sysfs_root(void)
{
	const char *e = getenv("POLLEN_SYSFS");

	return e && *e ? e : "/sys";
}

const char *pl_devfs_root(void)
{
	const char *e = getenv("POLLEN_DEVFS");

	return e && *e ? e : "/dev";
}

static bool hexnum(const char **p, int digits, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < digits; i++) {
		char c = (*p)[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (c - 'A' + 10);
		else
			return false;
	}
	*p += digits;
	*out = v;
	return true;
}

/* The parse without a word: a directory scan meets names that are not addresses. */
static bool parse_addr(const char *s, struct pl_pci_addr *out)
{
	const char *p = s;
	unsigned dom = 0, bus, dev, fn;

	if (!s)
		return false;
	/* With a domain the string is 12 characters, without it 7. */
	if (strlen(s) == 12) {
		if (!hexnum(&p, 4, &dom) || *p++ != ':')
			return false;
	} else if (strlen(s) != 7) {
		return false;
	}
	if (!hexnum(&p, 2, &bus) || *p++ != ':' || !hexnum(&p, 2, &dev) || *p++ != '.' ||
	    !hexnum(&p, 1, &fn) || *p)
		return false;
	if (dev > 0x1f || fn > 7)
		return false;
	*out = (struct pl_pci_addr){ .domain = dom, .bus = bus, .dev = dev, .fn = fn };
	return true;
}

int pl_pci_addr_parse(const char *s, struct pl_pci_addr *out)
{
	if (parse_addr(s, out))
		return 0;
	pl_err("'%s' is not a PCI address: want DDDD:BB:DD.F or BB:DD.F, e.g. 0000:00:02.0 "
	       "(pollen-devbind --status lists them)", s ? s : "(null)");
	return -EINVAL;
}

void pl_pci_addr_format(const struct pl_pci_addr *a, char buf[PL_PCI_ADDR_LEN])
{
	/* Always fits: 4 + 2 + 2 + 1 hex digits and 3 separators. */
	(void)pl_path(buf, PL_PCI_ADDR_LEN, "%04x:%02x:%02x.%x", a->domain, a->bus, a->dev,
		      a->fn & 7);
}

/*
 * Reads a sysfs attribute of the form "0x1234\n" holding at most @max: exactly that
 * shape, so that a value too wide for its field or with trailing junk is an error, not
 * a different device. @why says what was wrong.
 */
static int read_hex(const char *dir, const char *name, unsigned long max, unsigned long *out,
		    char *why, size_t why_len)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd;

	if (pl_path(path, sizeof(path), "%s/%s", dir, name))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	char *end;
	errno = 0;
	*out = strtoul(buf, &end, 16);
	if (strncmp(buf, "0x", 2) || end == buf + 2 || *end || errno || *out > max) {
		snprintf(why, why_len, "its %s reads '%s', not a hex number up to 0x%lx", name, buf,
			 max);
		return -EIO;
	}
	return 0;
}

/* A sysfs number that must be all decimal digits (an IOMMU group's name). */
static bool decimal(const char *s, int *out)
{
	long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > INT_MAX / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = (int)v;
	return true;
}

/* The last path component of a symlink's target ("nvme" from .../drivers/nvme). */
static int link_name(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	if (pl_path(path, sizeof(path), "%s/%s", dir, name))
		return -ENAMETOOLONG;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	const char *base = strrchr(target, '/');
	return pl_path(out, len, "%s", base ? base + 1 : target);
}

/* Reads what sysfs says of @addr; on -EIO, @why says what it said wrong. */
static int read_info(const char *addr, struct pl_pci_info *out, char *why, size_t why_len)
{
	char dir[PATH_MAX], sub[PATH_MAX], name[PL_PCI_NAME_LEN];
	unsigned long v;
	int ret;

	memset(out, 0, sizeof(*out));
	if (pl_path(out->addr, sizeof(out->addr), "%s", addr))
		return -EINVAL;
	if (pl_path(dir, sizeof(dir), "%s/bus/pci/devices/%s", pl_sysfs_root(), addr))
		return -ENAMETOOLONG;
	if (access(dir, F_OK))
		return -ENODEV;

	if ((ret = read_hex(dir, "vendor", UINT16_MAX, &v, why, why_len)))
		return ret;
	out->vendor = v;
	if ((ret = read_hex(dir, "device", UINT16_MAX, &v, why, why_len)))
		return ret;
	out->device = v;
	if ((ret = read_hex(dir, "class", 0xffffff, &v, why, why_len)))
		return ret;
	out->class_code = v;
	/* Optional: older kernels and some bridges lack them. */
	if ((ret = read_hex(dir, "subsystem_vendor", UINT16_MAX, &v, why, why_len)) == -EIO)
		return ret;
	out->subsys_vendor = ret ? 0 : v;
	if ((ret = read_hex(dir, "subsystem_device", UINT16_MAX, &v, why, why_len)) == -EIO)
		return ret;
	out->subsys_device = ret ? 0 : v;
	/* No link is no driver; a link we cannot read must not pass for "unbound". */
	if ((ret = link_name(dir, "driver", out->driver, sizeof(out->driver))) && ret != -ENOENT) {
		snprintf(why, why_len, "its driver link cannot be read: %s", strerror(-ret));
		return -EIO;
	}
	out->iommu_group = -1;
	if (!(ret = link_name(dir, "iommu_group", name, sizeof(name))) &&
	    !decimal(name, &out->iommu_group)) {
		snprintf(why, why_len, "its iommu_group links to '%s', not a group number", name);
		return -EIO;
	}

	/* vfio-pci with cdev support lists the cdev's name under vfio-dev/. */
	if (pl_path(sub, sizeof(sub), "%s/vfio-dev", dir))
		return -ENAMETOOLONG;
	DIR *d = opendir(sub);
	if (d) {
		struct dirent *e;

		while ((e = readdir(d)))
			if (!strncmp(e->d_name, "vfio", 4) && e->d_name[4] >= '0' &&
			    e->d_name[4] <= '9') {
				if (pl_path(out->vfio_cdev, sizeof(out->vfio_cdev), "%s", e->d_name))
					out->vfio_cdev[0] = 0;
				break;
			}
		closedir(d);
	}
	return 0;
}

int pl_pci_info(const char *addr, struct pl_pci_info *out)
{
	struct pl_pci_addr a;
	char canon[PL_PCI_ADDR_LEN];
	int ret;

	if ((ret = pl_pci_addr_parse(addr, &a)))
		return ret;
	pl_pci_addr_format(&a, canon);
	char why[PATH_MAX] = "";
	ret = read_info(canon, out, why, sizeof(why));
	if (ret == -ENODEV)
		pl_err("%s: no such PCI device (pollen-devbind --status lists them)", canon);
	else if (ret == -EIO)
		pl_err("%s: sysfs says what the kernel does not write: %s", canon, why);
	else if (ret)
		pl_err("%s: cannot read its sysfs attributes: %s", canon, strerror(-ret));
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pl_pci_scan(int (*fn)(const struct pl_pci_info *, void *), void *arg)
{
	char path[PATH_MAX];
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int ret = 0;

	if (pl_path(path, sizeof(path), "%s/bus/pci/devices", pl_sysfs_root()))
		return -ENAMETOOLONG;
	DIR *d = opendir(path);
	if (!d) {
		ret = -errno;
		pl_err("cannot list %s: %s (is sysfs mounted?)", path, strerror(-ret));
		return ret;
	}
	while ((e = readdir(d))) {
		struct pl_pci_addr a;

		if (strlen(e->d_name) != 12)
			continue;
		/* Quietly skip entries that are not addresses rather than log each. */
		if (!parse_addr(e->d_name, &a))
			continue;
		char **nn = pl_array_grow(names, &cap, n + 1, sizeof(*names));
		if (!nn) {
			ret = -ENOMEM;
			goto out;
		}
		names = nn;
		if (!(names[n] = strdup(e->d_name))) {
			ret = -ENOMEM;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && !ret; i++) {
		struct pl_pci_info info;
		char why[PATH_MAX];

		/* A device that cannot be read is left out of a listing, not fatal to it. */
		int r = read_info(names[i], &info, why, sizeof(why));
		if (r) {
			pl_debug("%s: left out of the scan: %s", names[i],
				 r == -EIO ? why : strerror(-r));
			continue;
		}
		ret = fn(&info, arg);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

bool pl_pci_is_nvme(const struct pl_pci_info *info)
{
	return info->class_code == 0x010802;
}

/* The 8254x/8257x parts QEMU models and our e1000 driver targets. */
bool pl_pci_is_e1000(const struct pl_pci_info *info)
{
	return info->vendor == 0x8086 && (info->device == 0x100e || info->device == 0x10d3);
}

const char *pl_pci_family(const struct pl_pci_info *info)
{
	if (pl_pci_is_nvme(info))
		return "nvme";
	if (info->vendor == 0x8086 && info->device == 0x100e)
		return "e1000";
	if (info->vendor == 0x8086 && info->device == 0x10d3)
		return "e1000e";
	return NULL;
}
