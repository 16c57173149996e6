/* pollen-devbind's command line. */
#ifndef PL_APPS_DEVBIND_ARGS_H
#define PL_APPS_DEVBIND_ARGS_H

#include "opts.h"

#define DEVBIND_MAX_DEVS 64

struct devbind_cfg {
	char mode;		/* 's'tatus, 'b'ind, 'u'nbind, 'r'estore, 'H'ugepages */
	const char *driver;	/* --bind's */
	unsigned pages;
	uint64_t page_size;
	bool force;
	char addr[DEVBIND_MAX_DEVS][PL_PCI_ADDR_LEN];	/* canonical */
	unsigned n;
};

static inline void devbind_usage(FILE *f)
{
	fprintf(f,
		"usage: pollen-devbind [--status]\n"
		"       pollen-devbind --bind DRIVER PCI-ADDRESS...   (e.g. --bind vfio-pci 0000:01:00.0)\n"
		"       pollen-devbind --unbind PCI-ADDRESS...        leave the devices without a driver\n"
		"       pollen-devbind --restore PCI-ADDRESS...       give them back to their kernel driver\n"
		"       pollen-devbind --hugepages N [--hugepage-size 2M|1G]\n"
		"--status (the default) lists NVMe and e1000-family devices with their driver, IOMMU\n"
		"group and VFIO cdev, the hugepage pools, and checks what Pollen needs: /dev/iommu or\n"
		"/dev/vfio/vfio, an IOMMU, vfio-pci, the memlock limit and device-node permissions.\n"
		"--bind and --unbind refuse a device in use (a mounted or held NVMe namespace, a\n"
		"network interface up or with an address) unless --force; a bind the driver refuses\n"
		"gives the device back to the driver it had.\n"
		"Examples:\n"
		"  pollen-devbind                                   what there is, and what is missing\n"
		"  pollen-devbind --bind vfio-pci 0000:01:00.0      hand an NVMe drive to Pollen\n"
		"  pollen-devbind --restore 0000:01:00.0            and back to the kernel's nvme\n"
		"  pollen-devbind --hugepages 512                   1 GiB of 2 MiB pages\n"
		"Exit status: 0, 1 when a device could not be handed over (or a check failed), 2 for\n"
		"bad arguments.\n");
}

/* --hugepage-size: 2M or 1G, the two x86 has. */
static inline int opts_hugepage_size(const char *s, void *out)
{
	uint64_t v;

	if (opts_bytes(s, &v) || (v != 2ull << 20 && v != 1ull << 30))
		return -1;
	*(uint64_t *)out = v;
	return 0;
}

static inline int devbind_parse(struct devbind_cfg *c, int argc, char **argv)
{
	bool status = false, unbind = false, restore = false, bind = false, pages = false;
	const struct opt opts[] = {
		{ "status", 's', OPT_FLAG, &status },
		{ "bind", 'b', OPT_STRING, &c->driver, .given = &bind },
		{ "unbind", 'u', OPT_FLAG, &unbind },
		{ "restore", 'r', OPT_FLAG, &restore },
		{ "hugepages", 0, OPT_UINT, &c->pages, 0, 1u << 24, 0, "a count of hugepages",
		  .given = &pages },
		{ "hugepage-size", 0, OPT_FN, &c->page_size, .what = "a hugepage size: 2M or 1G",
		  .parse = opts_hugepage_size },
		{ "force", 0, OPT_FLAG, &c->force },
		{ 0 },
	};
	int next, ret;

	c->page_size = 2ull << 20;
	if ((ret = opts_parse("pollen-devbind", argc, argv, opts, &next)))
		return ret;
	if (status + bind + unbind + restore + pages > 1) {
		fprintf(stderr, "pollen-devbind: one of --status, --bind, --unbind, --restore and "
			"--hugepages at a time (see --help)\n");
		return OPTS_BAD;
	}
	c->mode = bind ? 'b' : unbind ? 'u' : restore ? 'r' : pages ? 'H' : 's';
	if ((c->mode == 's' || c->mode == 'H') && next < argc) {
		fprintf(stderr, "pollen-devbind: %s takes no PCI address (see --help)\n",
			c->mode == 's' ? "--status" : "--hugepages");
		return OPTS_BAD;
	}
	if (strchr("bur", c->mode) && next == argc) {
		fprintf(stderr, "pollen-devbind: no PCI address given (see --help)\n");
		return OPTS_BAD;
	}
	if (argc - next > DEVBIND_MAX_DEVS) {
		fprintf(stderr, "pollen-devbind: at most %d devices at once\n", DEVBIND_MAX_DEVS);
		return OPTS_BAD;
	}
	for (int i = next; i < argc; i++)
		if (opts_pci_addr(argv[i], c->addr[c->n++]))
			return OPTS_BAD;
	return OPTS_OK;
}

#endif
