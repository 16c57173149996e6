/*
 * pollen-echo: a port that answers ARP requests for its IPv4 address and ICMP echo
 * requests to it, so that the kernel's ping and arping work against a Pollen port. Every
 * frame it does not answer is counted with the reason; nothing it receives can make it
 * read past a frame's end.
 *
 *   pollen-echo PCI-ADDRESS IP[/PREFIX] [-t SECONDS] [-q] [--json] [--iommu ...]
 *
 * Exit status: 0 when it ran, 1 when the port or the IOMMU context would not open (the
 * library said why), 2 for bad arguments.
 */
#define _GNU_SOURCE
#include <pollen/eth.h>
#include <pollen/iommu.h>
#include <pollen/log.h>
#include <pollen/mempool.h>
#include <pollen/pci.h>
#include <pollen/pkt.h>

#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"
#include "pktgen_frame.h"

#define ETH_HDR 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ARP_LEN 28
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO 8
#define CACHE_SIZE 64

/* Why a frame got no answer: each one is counted under one of these. */
enum drop {
	DROP_RUNT,		/* shorter than an Ethernet header */
	DROP_NOT_FOR_US,	/* another destination MAC (promiscuous peers) or IP */
	DROP_ETHERTYPE,		/* neither IPv4 nor ARP (IPv6, LLDP...) */
	DROP_ARP_BAD,		/* truncated, or not Ethernet/IPv4 */
	DROP_ARP_OTHER,		/* a reply, or a request for another address */
	DROP_IP_BAD,		/* header too short, wrong version, lengths past the frame */
	DROP_IP_CSUM,		/* IPv4 header checksum wrong */
	DROP_IP_FRAGMENT,	/* fragments are not reassembled */
	DROP_PROTO,		/* not ICMP */
	DROP_ICMP_BAD,		/* truncated or bad checksum */
	DROP_ICMP_OTHER,	/* not an echo request */
	DROP_TX_FULL,		/* the answer found the TX ring full */
	DROP_KINDS,
};

static const char *const drop_names[DROP_KINDS] = {
	"runt", "not_for_us", "ethertype", "arp_malformed", "arp_other", "ip_malformed",
	"ip_checksum", "ip_fragment", "protocol", "icmp_malformed", "icmp_other", "tx_full",
};

static struct {
	char addr[PL_PCI_ADDR_LEN];
	uint32_t ip;		/* host order */
	unsigned prefix, seconds;
	bool json, quiet;
	enum pl_iommu_backend iommu;
} cfg = { .prefix = 24 };

static struct {
	uint64_t rx, arp_replies, echo_replies, drops[DROP_KINDS];
} count;

static int stop;

static void on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* The Internet checksum (RFC 1071) of @len bytes, folded, not yet inverted. */
static uint16_t csum_fold(const uint8_t *p, unsigned len)
{
	return pg_fold(pg_sum(0, p, len));
}

/* ARP (RFC 826): a request for our address becomes the reply, in place. */
static int arp(uint8_t *f, unsigned len, const uint8_t mac[6], unsigned *out_len)
{
	uint8_t *a = f + ETH_HDR;

	if (len < ETH_HDR + ARP_LEN || pg_get16(a) != 1 || pg_get16(a + 2) != ETH_P_IP ||
	    a[4] != 6 || a[5] != 4)
		return DROP_ARP_BAD;
	if (pg_get16(a + 6) != 1 || pg_get32(a + 24) != cfg.ip)
		return DROP_ARP_OTHER;
	/* Target becomes the asker; we answer as sender. */
	memcpy(a + 18, a + 8, 10);		/* THA, TPA <- SHA, SPA */
	memcpy(a + 8, mac, 6);			/* SHA */
	pg_put32(a + 14, cfg.ip);		/* SPA */
	pg_put16(a + 6, 2);			/* reply */
	memcpy(f, a + 18, 6);			/* to the asker's MAC */
	memcpy(f + 6, mac, 6);
	*out_len = ETH_HDR + ARP_LEN;
	count.arp_replies++;
	return -1;
}

/* IPv4 + ICMP echo (RFC 791, 792): a request to us becomes the reply, in place. */
static int icmp_echo(uint8_t *f, unsigned len, const uint8_t mac[6], unsigned *out_len)
{
	uint8_t *ip = f + ETH_HDR;

	if (len < ETH_HDR + 20 || ip[0] >> 4 != 4)
		return DROP_IP_BAD;
	unsigned ihl = (ip[0] & 0xf) * 4u, total = pg_get16(ip + 2);
	if (ihl < 20 || total < ihl || ETH_HDR + total > len)
		return DROP_IP_BAD;	/* what the header claims must lie inside the frame */
	if (csum_fold(ip, ihl) != 0xffff)
		return DROP_IP_CSUM;
	if (pg_get32(ip + 16) != cfg.ip)
		return DROP_NOT_FOR_US;
	if (pg_get16(ip + 6) & 0x3fff)	/* MF or a fragment offset */
		return DROP_IP_FRAGMENT;
	if (ip[9] != 1)
		return DROP_PROTO;
	uint8_t *icmp = ip + ihl;
	unsigned icmp_len = total - ihl;
	if (icmp_len < 8 || csum_fold(icmp, icmp_len) != 0xffff)
		return DROP_ICMP_BAD;
	if (icmp[0] != ICMP_ECHO || icmp[1] != 0)
		return DROP_ICMP_OTHER;

	/* The reply: same identifier, sequence and data; addresses swapped. */
	icmp[0] = ICMP_ECHO_REPLY;
	pg_put16(icmp + 2, 0);
	pg_put16(icmp + 2, (uint16_t)~csum_fold(icmp, icmp_len));
	uint8_t src[4];
	memcpy(src, ip + 12, 4);
	memcpy(ip + 16, src, 4);
	pg_put32(ip + 12, cfg.ip);
	ip[8] = 64;				/* TTL */
	pg_put16(ip + 10, 0);
	pg_put16(ip + 10, (uint16_t)~csum_fold(ip, ihl));
	memcpy(f, f + 6, 6);
	memcpy(f + 6, mac, 6);
	*out_len = ETH_HDR + total;		/* without the padding a short request had */
	count.echo_replies++;
	return -1;
}

/* What to do with one frame: -1 answered in place (*out_len set), else a drop reason. */
static int handle(uint8_t *f, unsigned len, const uint8_t mac[6], unsigned *out_len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (len < ETH_HDR)
		return DROP_RUNT;
	if (memcmp(f, mac, 6) && memcmp(f, bcast, 6))
		return DROP_NOT_FOR_US;
	switch (pg_get16(f + 12)) {
	case ETH_P_ARP:
		return arp(f, len, mac, out_len);
	case ETH_P_IP:
		if (!memcmp(f, bcast, 6))
			return DROP_NOT_FOR_US;	/* we answer unicast pings only */
		return icmp_echo(f, len, mac, out_len);
	default:
		return DROP_ETHERTYPE;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pollen-echo PCI-ADDRESS IP[/PREFIX] [options]\n"
		"Answers ARP requests for IP and ICMP echo requests to it on a port bound to\n"
		"vfio-pci, so that ping and arping work against it; counts what it answered and,\n"
		"by reason, what it dropped.\n"
		"  -t, --time SECONDS    how long (default: until SIGINT or SIGTERM)\n"
		"  -q, --quiet           no per-second lines\n"
		"  --json                the summary as JSON on stdout; other lines go to stderr\n"
		"  --iommu auto|iommufd|vfio  the IOMMU back end (default: POLLEN_IOMMU, else auto)\n");
}

static int parse_ip(const char *arg)
{
	char buf[32];
	struct in_addr a;

	snprintf(buf, sizeof(buf), "%s", arg);
	char *slash = strchr(buf, '/');
	if (slash) {
		*slash = 0;
		if (cli_uint(slash + 1, 1, 32, &cfg.prefix))
			return -1;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	cfg.ip = ntohl(a.s_addr);
	return 0;
}

static int parse_args(int argc, char **argv)
{
	enum { O_JSON = 256, O_IOMMU };
	static const struct option longs[] = {
		{ "time", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, O_JSON },
		{ "iommu", required_argument, NULL, O_IOMMU },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, li = -1;

	while ((opt = getopt_long(argc, argv, "t:qh", longs, &li)) != -1) {
		int bad = 0;

		switch (opt) {
		case 't': bad = cli_uint(optarg, 1, 1000000000, &cfg.seconds); break;
		case 'q': cfg.quiet = true; break;
		case O_JSON: cfg.json = true; break;
		case O_IOMMU: bad = cli_iommu(optarg, &cfg.iommu); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		if (bad) {
			cli_bad_arg("pollen-echo", opt, li >= 0 ? longs[li].name : "");
			return -1;
		}
		li = -1;
	}
	if (argc - optind != 2) {
		usage(stderr);
		return -1;
	}
	struct pl_pci_addr a;
	if (pl_pci_addr_parse(argv[optind], &a))
		return -1;	/* the library said what is wrong */
	pl_pci_addr_format(&a, cfg.addr);
	if (parse_ip(argv[optind + 1])) {
		fprintf(stderr, "pollen-echo: '%s' is not an IPv4 address (a.b.c.d or a.b.c.d/n)\n",
			argv[optind + 1]);
		return -1;
	}
	return 0;
}

static void print_summary(FILE *f, double secs)
{
	fprintf(f, "\npollen-echo: %.1f s: %llu frames received, %llu ARP requests answered, "
		   "%llu echo requests answered\n", secs, (unsigned long long)count.rx,
		(unsigned long long)count.arp_replies, (unsigned long long)count.echo_replies);
	for (int i = 0; i < DROP_KINDS; i++)
		if (count.drops[i])
			fprintf(f, "  dropped %-16s %llu\n", drop_names[i],
				(unsigned long long)count.drops[i]);
}

static void print_json(double secs, const struct pl_eth_stats *st, unsigned in_use)
{
	struct json j = { .f = stdout };

	json_object(&j, NULL);
	json_num(&j, "seconds", secs);
	json_u64(&j, "received", count.rx);
	json_u64(&j, "arp_replies", count.arp_replies);
	json_u64(&j, "echo_replies", count.echo_replies);
	json_object(&j, "dropped");
	for (int i = 0; i < DROP_KINDS; i++)
		json_u64(&j, drop_names[i], count.drops[i]);
	json_end_object(&j);
	json_object(&j, "port");
	json_u64(&j, "rx_packets", st->rx_packets);
	json_u64(&j, "tx_packets", st->tx_packets);
	json_u64(&j, "rx_errors", st->rx_errors);
	json_u64(&j, "rx_desc_errors", st->rx_desc_errors);
	json_u64(&j, "rx_missed", st->rx_missed);
	json_end_object(&j);
	json_u64(&j, "buffers_in_use_after_close", in_use);
	json_end_object(&j);
}

int main(int argc, char **argv)
{
	if (parse_args(argc, argv))
		return 2;
	FILE *human = cfg.json ? stderr : stdout;
	cli_on_signals(on_signal);

	struct pl_iommu *ctx = pl_iommu_open(cfg.iommu);
	if (!ctx)
		return 1;
	/* An RX and a TX ring of 256, a burst in hand and the refill's, the cache's. */
	struct pl_mempool *pool = cli_pkt_pool(ctx, cfg.addr, "pollen-echo",
					       256 + 256 + 2 * PL_ETH_MAX_BURST + 2 * CACHE_SIZE,
					       CACHE_SIZE);
	struct pl_eth_port *port = NULL;
	struct pl_eth_conf conf = { .pool = pool, .rx_desc = 256, .tx_desc = 256 };
	int ret = 1;

	if (!pool || !(port = pl_eth_open(ctx, cfg.addr, &conf)) || pl_eth_start(port))
		goto out;
	uint8_t mac[6];
	char macs[18];
	struct in_addr ia = { htonl(cfg.ip) };
	pl_eth_mac(port, mac);
	pl_eth_link_wait(port, 5000);
	fprintf(human, "pollen-echo: %s (%s, %s) answers for %s/%u\n", cfg.addr,
		pl_eth_driver(port), pg_format_mac(mac, macs), inet_ntoa(ia), cfg.prefix);
	fflush(human);

	uint64_t t0 = now_ns(), next = t0 + 1000000000ull, last_rx = 0;
	uint64_t end = cfg.seconds ? t0 + cfg.seconds * 1000000000ull : UINT64_MAX;
	struct pl_pkt *pkts[PL_ETH_MAX_BURST], *replies[PL_ETH_MAX_BURST], *drop[PL_ETH_MAX_BURST];
	struct pl_eth_stats st;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		uint16_t n = pl_eth_rx_burst(port, 0, pkts, PL_ETH_MAX_BURST);
		unsigned nr = 0, nd = 0;

		for (unsigned i = 0; i < n; i++) {
			unsigned out_len = 0;
			int why = handle(pl_pkt_data(pkts[i]), pkts[i]->len, mac, &out_len);

			if (why < 0) {
				pkts[i]->len = (uint16_t)out_len;
				replies[nr++] = pkts[i];
			} else {
				count.drops[why]++;
				drop[nd++] = pkts[i];
			}
		}
		count.rx += n;
		if (nr) {
			uint16_t sent = pl_eth_tx_burst(port, 0, replies, (uint16_t)nr);

			count.drops[DROP_TX_FULL] += nr - sent;
			pl_pkt_free_bulk(replies + sent, nr - sent);
		}
		pl_pkt_free_bulk(drop, nd);
		if (n)
			continue;
		uint64_t now = now_ns();	/* only when idle: the vDSO, no system call */
		if (now >= end)
			break;
		if (now >= next) {
			next += 1000000000ull;
			pl_eth_stats(port, &st);	/* every second: the device's counters are 32 bits */
			if (!cfg.quiet && count.rx != last_rx)
				fprintf(human, "pollen-echo: %llu received, %llu ARP and %llu echo "
					       "answered\n", (unsigned long long)count.rx,
					(unsigned long long)count.arp_replies,
					(unsigned long long)count.echo_replies);
			last_rx = count.rx;
			fflush(human);
		}
	}
	while (pl_eth_tx_reclaim(port, 0))
		;
	pl_eth_stats(port, &st);
	double secs = (double)(now_ns() - t0) / 1e9;
	print_summary(human, secs);
	/* Every buffer back once the port is closed: what a leak would show. */
	pl_eth_close(port);
	port = NULL;
	struct pl_mempool_stats ps;
	pl_mempool_stats(pool, &ps);
	if (ps.in_use)
		fprintf(human, "pollen-echo: %u packet buffers not back in the pool\n", ps.in_use);
	if (cfg.json)
		print_json(secs, &st, ps.in_use);
	ret = 0;
out:
	pl_eth_close(port);
	pl_mempool_free(pool);
	pl_iommu_close(ctx);
	return ret;
}
