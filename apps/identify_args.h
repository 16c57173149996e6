/* pollen-nvme-identify's command line. */
#ifndef PL_APPS_IDENTIFY_ARGS_H
#define PL_APPS_IDENTIFY_ARGS_H

#include "opts.h"

enum { LOG_SMART = 1, LOG_ERROR = 2, LOG_FW = 4 };

struct identify_cfg {
	char addr[PL_PCI_ADDR_LEN];	/* "" for the first NVMe bound to vfio-pci */
	unsigned nsid;			/* 0: every namespace */
	bool json, smart, error_log, fw_log;
};

static inline void identify_usage(FILE *f)
{
	fprintf(f,
		"usage: pollen-nvme-identify [BDF] [-n NSID] [--smart] [--error-log] [--fw-log] [--json]\n"
		"Prints what the NVMe controller at BDF (bound to vfio-pci; default: the first\n"
		"such) says of itself and of its active namespaces, in the layout of nvme id-ctrl\n"
		"and nvme id-ns; or, with a log option, those log pages (as nvme smart-log,\n"
		"error-log and fw-log).\n"
		"  -n, --namespace NSID   only that namespace\n"
		"  -s, --smart            the SMART / Health Information log\n"
		"  -e, --error-log        the Error Information log (the entries in use)\n"
		"  -f, --fw-log           the Firmware Slot Information log\n"
		"  -j, --json             the same as JSON\n"
		"Examples:\n"
		"  pollen-nvme-identify                             the first NVMe bound to vfio-pci\n"
		"  pollen-nvme-identify 0000:01:00.0 -n 1           one namespace\n"
		"  pollen-nvme-identify 0000:01:00.0 --smart --json the SMART log as JSON\n"
		"Exit status: 0, 1 when the controller would not open or answer, 2 for bad\n"
		"arguments.\n");
}

static inline unsigned identify_logs(const struct identify_cfg *c)
{
	return (c->smart ? LOG_SMART : 0) | (c->error_log ? LOG_ERROR : 0) |
	       (c->fw_log ? LOG_FW : 0);
}

static inline int identify_parse(struct identify_cfg *c, int argc, char **argv)
{
	const struct opt opts[] = {
		{ "namespace", 'n', OPT_UINT, &c->nsid, 1, 0xfffffffe, 0, "a namespace ID" },
		{ "json", 'j', OPT_FLAG, &c->json },
		{ "smart", 's', OPT_FLAG, &c->smart },
		{ "error-log", 'e', OPT_FLAG, &c->error_log },
		{ "fw-log", 'f', OPT_FLAG, &c->fw_log },
		{ 0 },
	};
	int next, ret = opts_parse("pollen-nvme-identify", argc, argv, opts, &next);

	if (ret)
		return ret;
	if (argc - next > 1) {
		fprintf(stderr, "pollen-nvme-identify: one controller at a time (see --help)\n");
		return OPTS_BAD;
	}
	/* Checked before anything is opened, so a typo is not blamed on the IOMMU. */
	if (next < argc && opts_pci_addr(argv[next], c->addr))
		return OPTS_BAD;
	return OPTS_OK;
}

#endif
