/* pollen-fwd's command line. */
#ifndef PL_APPS_FWD_ARGS_H
#define PL_APPS_FWD_ARGS_H

#include <pollen/eth.h>

#include "opts.h"
#include "pktgen_frame.h"

#define MAX_PORTS 16
#define IDLE_POLLS 1024		/* --sleep: empty loops before sleeping on the interrupts */
#define TX_FIRST_FLOWS 64	/* --tx-first with --queues: source addresses used */
#define FWD_MAX_SECONDS (366u * 24 * 3600)

struct fwd_cfg {
	char addr[MAX_PORTS][PL_PCI_ADDR_LEN];
	uint8_t dst_mac[MAX_PORTS][PL_ETH_ADDR_LEN];
	unsigned nports, ndst, burst, seconds, pool, rx_desc, tx_desc, tx_first, queues;
	bool promisc, quiet, json, sleep;
	enum pl_iommu_backend iommu;
};

static inline void fwd_defaults(struct fwd_cfg *c)
{
	*c = (struct fwd_cfg){ .burst = PL_ETH_MAX_BURST, .rx_desc = 512, .tx_desc = 512,
			       .promisc = true, .queues = 1 };
}

static inline void fwd_usage(FILE *f)
{
	fprintf(f,
		"usage: pollen-fwd -p ADDR[,ADDR...] [options]\n"
		"Forwards frames between ports bound to vfio-pci: 0 <-> 1, 2 <-> 3, ...; an odd last\n"
		"port sends back out of itself.\n"
		"  -p, --ports LIST      PCI addresses, comma-separated\n"
		"  -t, --time SECONDS    how long (default: until SIGINT or SIGTERM)\n"
		"  -b, --burst N         frames per burst, 1..%d (64: fewer tail writes a frame)\n"
		"  --dst-mac MAC[,MAC..] rewrite MACs: frames leaving port i get destination MAC i and\n"
		"                        port i's own source MAC (default: sent unchanged, io mode)\n"
		"  --queues N            N RX and TX queues a port and a worker thread a queue, 1..%d\n"
		"                        (the 82574L has 2: RSS spreads flows over them; 1)\n"
		"  --no-promisc          take only frames for the port's MAC (default: every frame)\n"
		"  --tx-first N          send N 60-byte UDP frames out of each port at start, to the\n"
		"                        peer's MAC (or --dst-mac), so that ports wired back to back\n"
		"                        keep them looping (testpmd's 'start tx_first'); with\n"
		"                        --queues, from %d source addresses, for RSS to spread\n"
		"  --pool N              packet buffers (default: enough for the rings and bursts)\n"
		"  --rx-desc N, --tx-desc N  ring sizes, powers of two from 8 to 4096 (512)\n"
		"  --iommu auto|iommufd|vfio  the IOMMU back end (default: POLLEN_IOMMU, else auto)\n"
		"  --sleep               poll while frames flow, sleep on the ports' RX interrupts\n"
		"                        after %d empty polls (an idle forwarder then costs no CPU)\n"
		"  -q, --quiet           no per-second lines\n"
		"  --json                the summary as JSON on stdout; per-second lines go to stderr\n"
		"Mbit/s counts frame bytes with the 4-byte CRC, without preamble and inter-frame gap\n"
		"(add 20 bytes a frame for the line's rate). drops: frames the TX ring had no room\n"
		"for, plus frames the device missed for want of RX descriptors; errors: the device's\n"
		"RX errors and the driver's TX and descriptor errors.\n"
		"Examples:\n"
		"  pollen-fwd -p 0000:00:04.0,0000:00:05.0          forward between two ports\n"
		"  pollen-fwd -p 0000:00:04.0,0000:00:05.0 --tx-first 32 -t 10   loop frames, 10 s\n"
		"  pollen-fwd -p 0000:00:04.0,0000:00:05.0 --queues 2 --sleep    RSS; idle costs no CPU\n"
		"Exit status: 0 when it ran, 1 when a port or the IOMMU context would not open, 2 for\n"
		"bad arguments.\n", PL_ETH_MAX_BURST, PL_ETH_MAX_QUEUES, TX_FIRST_FLOWS, IDLE_POLLS);
}

/* Splits a copy of @s at commas into up to @max items; -1 for none or too many. */
static inline int fwd_split(const char *s, char buf[1024], char **items, unsigned max,
			    unsigned *n)
{
	*n = 0;
	if (strlen(s) >= 1024)
		return -1;
	strcpy(buf, s);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n == max)
			return -1;
		items[(*n)++] = tok;
	}
	return *n ? 0 : -1;
}

static inline int fwd_ports(const char *list, void *dest)
{
	struct fwd_cfg *c = dest;
	char buf[1024], *items[MAX_PORTS];

	if (fwd_split(list, buf, items, MAX_PORTS, &c->nports)) {
		fprintf(stderr, "pollen-fwd: -p %s: 1 to %d PCI addresses, comma-separated\n", list,
			MAX_PORTS);
		return -1;
	}
	for (unsigned i = 0; i < c->nports; i++) {
		if (opts_pci_addr(items[i], c->addr[i]))	/* says what is wrong */
			return -1;
		for (unsigned k = 0; k < i; k++)
			if (!strcmp(c->addr[k], c->addr[i])) {
				fprintf(stderr, "pollen-fwd: %s is named twice\n", c->addr[i]);
				return -1;
			}
	}
	return 0;
}

static inline int fwd_macs(const char *list, void *dest)
{
	struct fwd_cfg *c = dest;
	char buf[1024], *items[MAX_PORTS];

	if (fwd_split(list, buf, items, MAX_PORTS, &c->ndst))
		return -1;
	for (unsigned i = 0; i < c->ndst; i++)
		if (pg_parse_mac(items[i], c->dst_mac[i]))
			return -1;
	return 0;
}

static inline int fwd_parse(struct fwd_cfg *c, int argc, char **argv)
{
	const struct opt opts[] = {
		{ "ports", 'p', OPT_FN, c, .parse = fwd_ports },
		{ "time", 't', OPT_UINT, &c->seconds, 1, FWD_MAX_SECONDS, 0, "seconds" },
		{ "burst", 'b', OPT_UINT, &c->burst, 1, PL_ETH_MAX_BURST, 0, "frames a burst" },
		{ "dst-mac", 0, OPT_FN, c, .what = "MAC addresses (aa:bb:cc:dd:ee:ff), one per port",
		  .parse = fwd_macs },
		{ "no-promisc", 0, OPT_CLEAR, &c->promisc },
		{ "tx-first", 0, OPT_UINT, &c->tx_first, 0, 1u << 20, 0, "frames" },
		{ "pool", 0, OPT_UINT, &c->pool, 64, 1u << 24, 0, "packet buffers" },
		{ "rx-desc", 0, OPT_POW2, &c->rx_desc, 8, 4096, 0, "an RX ring size" },
		{ "tx-desc", 0, OPT_POW2, &c->tx_desc, 8, 4096, 0, "a TX ring size" },
		OPT_IOMMU(&c->iommu),
		{ "quiet", 'q', OPT_FLAG, &c->quiet },
		{ "json", 0, OPT_FLAG, &c->json },
		{ "sleep", 0, OPT_FLAG, &c->sleep },
		{ "queues", 0, OPT_UINT, &c->queues, 1, PL_ETH_MAX_QUEUES, 0, "queues a port" },
		{ 0 },
	};
	int next, ret = opts_parse("pollen-fwd", argc, argv, opts, &next);

	if (ret)
		return ret;
	if (next != argc || !c->nports) {
		fprintf(stderr, "pollen-fwd: %s (see --help)\n", next != argc ?
			"unexpected arguments" : "which ports? -p ADDR[,ADDR...]");
		return OPTS_BAD;
	}
	if (c->ndst && c->ndst != c->nports) {
		fprintf(stderr, "pollen-fwd: --dst-mac gives %u addresses for %u ports: one per "
			"port, in -p order\n", c->ndst, c->nports);
		return OPTS_BAD;
	}
	return OPTS_OK;
}

#endif
