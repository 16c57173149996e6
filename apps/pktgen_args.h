/* pollen-pktgen's command line. */
#ifndef PL_APPS_PKTGEN_ARGS_H
#define PL_APPS_PKTGEN_ARGS_H

#include <pollen/eth.h>

#include <arpa/inet.h>

#include "opts.h"
#include "pktgen_frame.h"

#define PKTGEN_MAX_SECONDS (366u * 24 * 3600)

struct pktgen_cfg {
	char tx_addr[PL_PCI_ADDR_LEN], rx_addr[PL_PCI_ADDR_LEN];
	bool tx, rx, one_port;		/* one_port: -p and --rx name the same port */
	unsigned size, burst, seconds, linger_ms, flows, rx_desc, tx_desc, sport, dport;
	double rate;
	uint64_t count;
	uint8_t dst_mac[6], src_mac[6];
	bool dst_set, src_set, json, quiet, tx_csum, sleep;
	struct pg_params fp;
	enum pl_iommu_backend iommu;
};

static inline void pktgen_defaults(struct pktgen_cfg *c)
{
	*c = (struct pktgen_cfg){ .size = PG_SIZE_MIN, .burst = 32, .linger_ms = 200, .flows = 1,
				  .rx_desc = 512, .tx_desc = 512, .sport = 1024, .dport = 1024,
				  .fp = { .src_ip = 0x0a000001, .dst_ip = 0x0a000002 } };
}

static inline void pktgen_usage(FILE *f)
{
	fprintf(f,
		"usage: pollen-pktgen [-p TX_ADDR] [--rx RX_ADDR] [options]   (one of them at least)\n"
		"  -p, --port ADDR     send from this port\n"
		"  --rx ADDR           receive and check on this port (alone: a receiver for a sender\n"
		"                      in another process; it learns the frames from the first one)\n"
		"  -s, --size BYTES    frame size without the CRC, %u..%u (60)\n"
		"  -r, --rate PPS      frames a second, e.g. 10000, 250k, 1.2M (default: full speed)\n"
		"  -n, --count N       stop after N frames (a receiver alone: after N received)\n"
		"  -t, --time S        stop after S seconds (10 unless -n; a receiver alone: none)\n"
		"  -b, --burst N       frames per burst, 1..%d (32)\n"
		"  --dst-mac MAC       default: the --rx port's MAC if in this process, else broadcast\n"
		"  --src-mac MAC       default: the sending port's MAC\n"
		"  --src-ip, --dst-ip  10.0.0.1, 10.0.0.2;  --sport, --dport  1024, 1024\n"
		"  --flows N           frame i comes from --src-ip + i %% N, so that a receiver's\n"
		"                      RSS spreads them over its queues (1)\n"
		"  --linger-ms MS      after sending ends, receive until nothing came for MS (200)\n"
		"  --rx-desc N, --tx-desc N  ring sizes, powers of two from 8 to 4096 (512): a\n"
		"                      receiver that may stall (a busy host) wants a ring that\n"
		"                      holds what arrives meanwhile\n"
		"  --sleep             the receiver sleeps on its RX interrupt when idle (polls\n"
		"                      while frames flow)\n"
		"  --tx-csum           the NIC fills in the IPv4 and UDP checksums (offload; else\n"
		"                      the IPv4 one is the template's and UDP's is 0, \"none\")\n"
		"  --iommu auto|iommufd|vfio  the IOMMU back end (default: POLLEN_IOMMU, else auto)\n"
		"  -q, --quiet         no per-second lines\n"
		"  --json              the summary as JSON on stdout; other lines go to stderr\n"
		"Mbit/s counts frame bytes with the 4-byte CRC (not preamble and gap). Latency needs\n"
		"sender and receiver on one clock (one host); at full speed it includes the time\n"
		"frames wait in the TX ring: set -r below the line's rate for the path's own.\n"
		"Examples:\n"
		"  pollen-pktgen -p 0000:00:04.0 --rx 0000:00:05.0 -t 10   send, receive, check\n"
		"  pollen-pktgen -p 0000:00:04.0 -r 100k -s 1514   100,000 full-size frames a second\n"
		"  pollen-pktgen --rx 0000:00:05.0                  a receiver for a sender elsewhere\n"
		"Exit status: 0 when it ran (losses are reported, not failures), 1 when a port or\n"
		"the IOMMU context would not open, 2 for bad arguments.\n",
		PG_SIZE_MIN, PG_SIZE_MAX, PL_ETH_MAX_BURST);
}

static inline int pktgen_ip(const char *s, void *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*(uint32_t *)out = ntohl(a.s_addr);
	return 0;
}

static inline int pktgen_mac(const char *s, void *out)
{
	return pg_parse_mac(s, out) ? -1 : 0;
}

/* Frames a second: 10000, 250k, 1.2M; a decimal fraction, no sign, 1 to 10^9. */
static inline int pktgen_rate(const char *s, void *out)
{
	unsigned long long whole = 0, frac = 0, scale = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((whole = whole * 10 + (unsigned)(*p - '0')) > 1000000000ull)
			return -1;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale < 1000000000ull) {
				frac = frac * 10 + (unsigned)(*p - '0');
				scale *= 10;
			}
	}
	double v = (double)whole + (double)frac / (double)scale;
	if (*p == 'k' || *p == 'K')
		v *= 1e3, p++;
	else if (*p == 'm' || *p == 'M')
		v *= 1e6, p++;
	if (*p || !(v >= 1 && v <= 1e9))
		return -1;
	*(double *)out = v;
	return 0;
}

static inline int pktgen_parse(struct pktgen_cfg *c, int argc, char **argv)
{
	const struct opt opts[] = {
		{ "port", 'p', OPT_FN, c->tx_addr, .parse = opts_pci_addr, .given = &c->tx },
		{ "rx", 0, OPT_FN, c->rx_addr, .parse = opts_pci_addr, .given = &c->rx },
		{ "size", 's', OPT_UINT, &c->size, PG_SIZE_MIN, PG_SIZE_MAX, 0, "a frame size" },
		{ "rate", 'r', OPT_FN, &c->rate, .what = "frames a second, 1 to 1G (10000, 250k, 1.2M)",
		  .parse = pktgen_rate },
		{ "count", 'n', OPT_U64, &c->count, 1, UINT64_MAX, 0, "frames" },
		{ "time", 't', OPT_UINT, &c->seconds, 1, PKTGEN_MAX_SECONDS, 0, "seconds" },
		{ "burst", 'b', OPT_UINT, &c->burst, 1, PL_ETH_MAX_BURST, 0, "frames a burst" },
		{ "dst-mac", 0, OPT_FN, c->dst_mac, .what = "a MAC address (aa:bb:cc:dd:ee:ff)",
		  .parse = pktgen_mac, .given = &c->dst_set },
		{ "src-mac", 0, OPT_FN, c->src_mac, .what = "a MAC address (aa:bb:cc:dd:ee:ff)",
		  .parse = pktgen_mac, .given = &c->src_set },
		{ "src-ip", 0, OPT_FN, &c->fp.src_ip, .what = "an IPv4 address",
		  .parse = pktgen_ip },
		{ "dst-ip", 0, OPT_FN, &c->fp.dst_ip, .what = "an IPv4 address",
		  .parse = pktgen_ip },
		{ "sport", 0, OPT_UINT, &c->sport, 0, 65535, 0, "a UDP port" },
		{ "dport", 0, OPT_UINT, &c->dport, 0, 65535, 0, "a UDP port" },
		{ "linger-ms", 0, OPT_UINT, &c->linger_ms, 1, 600000, 0, "milliseconds" },
		{ "rx-desc", 0, OPT_POW2, &c->rx_desc, 8, 4096, 0, "an RX ring size" },
		{ "tx-desc", 0, OPT_POW2, &c->tx_desc, 8, 4096, 0, "a TX ring size" },
		{ "tx-csum", 0, OPT_FLAG, &c->tx_csum },
		{ "flows", 0, OPT_UINT, &c->flows, 1, 65536, 0, "flows" },
		{ "sleep", 0, OPT_FLAG, &c->sleep },
		OPT_IOMMU(&c->iommu),
		{ "quiet", 'q', OPT_FLAG, &c->quiet },
		{ "json", 0, OPT_FLAG, &c->json },
		{ 0 },
	};
	int next, ret = opts_parse("pollen-pktgen", argc, argv, opts, &next);

	if (ret)
		return ret;
	if (next != argc || (!c->tx && !c->rx)) {
		fprintf(stderr, "pollen-pktgen: %s (see --help)\n", next != argc ?
			"unexpected arguments" : "send with -p ADDR, receive with --rx ADDR or both");
		return OPTS_BAD;
	}
	c->fp.sport = (uint16_t)c->sport;
	c->fp.dport = (uint16_t)c->dport;
	c->one_port = c->tx && c->rx && !strcmp(c->tx_addr, c->rx_addr);
	return OPTS_OK;
}

#endif
