/* A real temporary directory tree shaped like sysfs and /dev, for tests without devices. */
#ifndef PL_TEST_TMPTREE_H
#define PL_TEST_TMPTREE_H

#include <stdbool.h>

/* Makes an empty tree, points POLLEN_SYSFS and POLLEN_DEVFS into it, returns its root. */
const char *tmptree_create(void);
void tmptree_destroy(void);

/* Adds a PCI function to the tree as the kernel would show it. */
struct tmptree_dev {
	const char *addr;
	unsigned vendor, device, class_code;
	const char *driver;	/* NULL: unbound */
	int group;		/* -1: no IOMMU group */
	int cdev;		/* -1: no vfio-dev/vfioN */
};
void tmptree_add_pci(const struct tmptree_dev *d);
/* Creates a plain file at a path under the tree's dev root (e.g. "vfio/vfio"). */
void tmptree_add_devnode(const char *rel);

#endif
