/* A real temporary directory tree shaped like sysfs and /dev, for tests without devices. */
#ifndef PL_TEST_TMPTREE_H
#define PL_TEST_TMPTREE_H

#include <stdbool.h>

/* Makes an empty tree, points POLLEN_SYSFS and POLLEN_DEVFS into it, returns its root. */
const char *tmptree_create(void);
void tmptree_destroy(void);
/* The tree's root directory. */
const char *tmptree_root(void);

/* Adds a PCI function to the tree as the kernel would show it. */
struct tmptree_dev {
	const char *addr;
	unsigned vendor, device, class_code;
	const char *driver;	/* NULL: unbound */
	int group;		/* -1: no IOMMU group */
	int cdev;		/* -1: no vfio-dev/vfioN */
};
void tmptree_add_pci(const struct tmptree_dev *d);
/* Writes @text as the device's attribute @name (a file in its sysfs directory). */
void tmptree_set_attr(const char *addr, const char *name, const char *text);
/* Makes the directory @rel (and those above it) in the device's sysfs directory. */
void tmptree_add_dir(const char *addr, const char *rel);
/* Points the device's iommu_group link at a group directory named @name. */
void tmptree_set_group_link(const char *addr, const char *name);
/* Creates a plain file at a path under the tree's dev root (e.g. "vfio/vfio"). */
void tmptree_add_devnode(const char *rel);

#endif
