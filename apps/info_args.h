/* pollen-info's command line. */
#ifndef PL_APPS_INFO_ARGS_H
#define PL_APPS_INFO_ARGS_H

#include "opts.h"

#define INFO_MAX_DEVS 64

struct info_cfg {
	enum pl_iommu_backend iommu;
	bool verbose, details;
	char addr[INFO_MAX_DEVS][PL_PCI_ADDR_LEN];	/* the devices named, canonical */
	unsigned n;
};

static inline void info_usage(FILE *f)
{
	fprintf(f,
		"usage: pollen-info [--iommu auto|iommufd|vfio] [-d] [-v] [PCI-ADDRESS...]\n"
		"Opens each device (default: every NVMe and e1000-family device) through VFIO\n"
		"and prints the IOMMU back end, what the device's config space says, the IOVA\n"
		"ranges, and where a hugepage of DMA memory lands. With -d (the default when\n"
		"addresses are given) also each BAR, the interrupt types and the IOMMU's\n"
		"hardware information.\n"
		"Examples:\n"
		"  pollen-info                                      every NVMe and e1000-family device\n"
		"  pollen-info --iommu vfio 0000:01:00.0            one, through the legacy container\n"
		"Exit status: 0 when every device opened and answered, 1 when one did not, 2 for\n"
		"bad arguments.\n");
}

static inline int info_parse(struct info_cfg *c, int argc, char **argv)
{
	const struct opt opts[] = {
		{ "iommu", 'i', OPT_FN, &c->iommu, .what = "an IOMMU back end: auto, iommufd or vfio",
		  .parse = opts_iommu },
		{ "verbose", 'v', OPT_FLAG, &c->verbose },
		{ "details", 'd', OPT_FLAG, &c->details },
		{ 0 },
	};
	int next, ret = opts_parse("pollen-info", argc, argv, opts, &next);

	if (ret)
		return ret;
	if (argc - next > INFO_MAX_DEVS) {
		fprintf(stderr, "pollen-info: at most %d devices at once\n", INFO_MAX_DEVS);
		return OPTS_BAD;
	}
	/* Every address checked before anything is opened. */
	for (int i = next; i < argc; i++)
		if (opts_pci_addr(argv[i], c->addr[c->n++]))
			return OPTS_BAD;
	c->details |= c->n > 0;	/* named devices get the full picture */
	return OPTS_OK;
}

#endif
