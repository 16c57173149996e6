/* A temporary sysfs-like tree on the real filesystem; removed again by tmptree_destroy. */
#include "tmptree.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];

/*
 * Test set-up that cannot go on: said, and the process ends. No Criterion here, so that
 * the fuzzers (tests/fuzz) build the same trees; a Criterion test counts it as a crash.
 */
static void must(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "tmptree: %s failed\n", what);
	abort();
}

/* snprintf that stops the test instead of truncating a path. */
#define FMT(buf, ...) must((size_t)snprintf(buf, sizeof(buf), __VA_ARGS__) < sizeof(buf), #buf)

static void mkpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mkpath(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	FMT(path, "%s/%s", dir, name);
	must((f = fopen(path, "w")) != NULL, path);
	fputs(text, f);
	fclose(f);
}

const char *tmptree_create(void)
{
	char dev[PATH_MAX];

	snprintf(root, sizeof(root), "%s/pollen-tree.XXXXXX", getenv("TMPDIR") ?: "/tmp");
	must(mkdtemp(root) != NULL, "mkdtemp");
	mkpath("%s/sys/bus/pci/devices", root);
	mkpath("%s/sys/bus/pci/drivers", root);
	mkpath("%s/sys/kernel/iommu_groups", root);
	mkpath("%s/dev/vfio/devices", root);
	FMT(dev, "%s/sys", root);
	setenv("POLLEN_SYSFS", dev, 1);
	FMT(dev, "%s/dev", root);
	setenv("POLLEN_DEVFS", dev, 1);
	return root;
}

const char *tmptree_root(void)
{
	return root;
}

void tmptree_destroy(void)
{
	char cmd[PATH_MAX + 16];

	if (!root[0])
		return;
	FMT(cmd, "rm -rf '%s'", root);
	must(system(cmd) == 0, cmd);
	root[0] = 0;
	unsetenv("POLLEN_SYSFS");
	unsetenv("POLLEN_DEVFS");
}

void tmptree_add_pci(const struct tmptree_dev *d)
{
	char dir[PATH_MAX], target[PATH_MAX], link[PATH_MAX], v[32];

	/* sysfs's device entries are symlinks into the device tree; keep that shape. */
	FMT(dir, "%s/sys/devices/pci0000:00/%s", root, d->addr);
	mkpath("%s", dir);
	FMT(link, "%s/sys/bus/pci/devices/%s", root, d->addr);
	must(!symlink(dir, link), link);

	FMT(v, "0x%04x\n", d->vendor);
	put(dir, "vendor", v);
	FMT(v, "0x%04x\n", d->device);
	put(dir, "device", v);
	FMT(v, "0x%06x\n", d->class_code);
	put(dir, "class", v);
	put(dir, "subsystem_vendor", "0x1af4\n");
	put(dir, "subsystem_device", "0x1100\n");
	if (d->driver) {
		FMT(target, "%s/sys/bus/pci/drivers/%s", root, d->driver);
		mkpath("%s", target);
		FMT(link, "%s/driver", dir);
		must(!symlink(target, link), link);
	}
	if (d->group >= 0) {
		FMT(target, "%s/sys/kernel/iommu_groups/%d", root, d->group);
		mkpath("%s", target);
		FMT(link, "%s/iommu_group", dir);
		must(!symlink(target, link), link);
	}
	if (d->cdev >= 0)
		mkpath("%s/vfio-dev/vfio%d", dir, d->cdev);
}

void tmptree_set_attr(const char *addr, const char *name, const char *text)
{
	char dir[PATH_MAX];

	FMT(dir, "%s/sys/devices/pci0000:00/%s", root, addr);
	put(dir, name, text);
}

void tmptree_add_dir(const char *addr, const char *rel)
{
	mkpath("%s/sys/devices/pci0000:00/%s/%s", root, addr, rel);
}

void tmptree_set_group_link(const char *addr, const char *name)
{
	char target[PATH_MAX], link[PATH_MAX];

	FMT(target, "%s/sys/kernel/iommu_groups/%s", root, name);
	mkpath("%s", target);
	FMT(link, "%s/sys/devices/pci0000:00/%s/iommu_group", root, addr);
	unlink(link);
	must(!symlink(target, link), link);
}

void tmptree_add_devnode(const char *rel)
{
	char dir[PATH_MAX];

	FMT(dir, "%s/dev", root);
	put(dir, rel, "");
}
