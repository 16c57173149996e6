/* pollen-echo's command line. */
#ifndef PL_APPS_ECHO_ARGS_H
#define PL_APPS_ECHO_ARGS_H

#include <arpa/inet.h>

#include "opts.h"

#define ECHO_MAX_SECONDS (366u * 24 * 3600)

struct echo_cfg {
	char addr[PL_PCI_ADDR_LEN];
	uint32_t ip;		/* host order */
	unsigned prefix, seconds;
	bool json, quiet;
	enum pl_iommu_backend iommu;
};

static inline void echo_usage(FILE *f)
{
	fprintf(f,
		"usage: pollen-echo PCI-ADDRESS IP[/PREFIX] [options]\n"
		"Answers ARP requests for IP and ICMP echo requests to it on a port bound to\n"
		"vfio-pci, so that ping and arping work against it; counts what it answered and,\n"
		"by reason, what it dropped.\n"
		"  -t, --time SECONDS    how long (default: until SIGINT or SIGTERM)\n"
		"  -q, --quiet           no per-second lines\n"
		"  --json                the summary as JSON on stdout; other lines go to stderr\n"
		"  --iommu auto|iommufd|vfio  the IOMMU back end (default: POLLEN_IOMMU, else auto)\n"
		"Examples:\n"
		"  pollen-echo 0000:00:04.0 10.0.0.2/24             then: ping 10.0.0.2 from the wire\n"
		"  pollen-echo 0000:00:04.0 10.0.0.2 -t 30 --json   30 s, a JSON summary\n"
		"Exit status: 0 when it ran, 1 when the port or the IOMMU context would not open,\n"
		"2 for bad arguments.\n");
}

/* a.b.c.d or a.b.c.d/n (n from 1 to 32). */
static inline int echo_ip(struct echo_cfg *c, const char *arg)
{
	char buf[32];
	struct in_addr a;
	uint64_t prefix = 24;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	char *slash = strchr(buf, '/');
	if (slash) {
		*slash = 0;
		if (opts_number(slash + 1, &prefix) || prefix < 1 || prefix > 32)
			return -1;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	c->ip = ntohl(a.s_addr);
	c->prefix = (unsigned)prefix;
	return 0;
}

static inline int echo_parse(struct echo_cfg *c, int argc, char **argv)
{
	const struct opt opts[] = {
		{ "time", 't', OPT_UINT, &c->seconds, 1, ECHO_MAX_SECONDS, 0, "seconds" },
		{ "quiet", 'q', OPT_FLAG, &c->quiet },
		{ "json", 0, OPT_FLAG, &c->json },
		OPT_IOMMU(&c->iommu),
		{ 0 },
	};
	int next, ret = opts_parse("pollen-echo", argc, argv, opts, &next);

	if (ret)
		return ret;
	if (argc - next != 2) {
		fprintf(stderr, "pollen-echo: a PCI address and an IPv4 address, please (see "
			"--help)\n");
		return OPTS_BAD;
	}
	if (opts_pci_addr(argv[next], c->addr))
		return OPTS_BAD;	/* the library said what is wrong */
	if (echo_ip(c, argv[next + 1])) {
		fprintf(stderr, "pollen-echo: '%s' is not an IPv4 address (a.b.c.d or a.b.c.d/n)\n",
			argv[next + 1]);
		return OPTS_BAD;
	}
	return OPTS_OK;
}

#endif
