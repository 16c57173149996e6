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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "echo_args.h"
#include "json.h"
#include "echo_frame.h"
#include "pktgen_frame.h"

#define CACHE_SIZE 64

static struct echo_cfg cfg;

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

static void print_summary(FILE *f, double secs)
{
	fprintf(f, "\npollen-echo: %.1f s: %llu frames received, %llu ARP requests answered, "
		   "%llu echo requests answered\n", secs, (unsigned long long)count.rx,
		(unsigned long long)count.arp_replies, (unsigned long long)count.echo_replies);
	for (int i = 0; i < DROP_KINDS; i++)
		if (count.drops[i])
			fprintf(f, "  dropped %-16s %llu\n", echo_drop_names[i],
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
		json_u64(&j, echo_drop_names[i], count.drops[i]);
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
	switch (echo_parse(&cfg, argc, argv)) {
	case OPTS_HELP:
		echo_usage(stdout);
		return 0;
	case OPTS_BAD:
		return 2;
	case OPTS_VERSION:
		return 0;
	}
	FILE *human = cfg.json ? stderr : stdout;
	cli_on_signals(on_signal);

	struct pl_iommu *ctx = pl_iommu_open(cfg.iommu);
	if (!ctx)
		return 1;
	/* An RX and a TX ring of 256, a burst in hand and the refill's, the cache's. */
	struct pl_mempool *pool = pl_pkt_pool_create(ctx, "pollen-echo",
		256 + 256 + 2 * PL_ETH_MAX_BURST + 2 * CACHE_SIZE, 0, CACHE_SIZE);
	struct pl_eth_port *port = NULL;
	struct pl_eth_conf conf = { .pool = pool, .rx_desc = 256, .tx_desc = 256 };
	int ret = 1;

	if (!pool || !(port = pl_eth_open(ctx, cfg.addr, &conf)) || pl_eth_start(port))
		goto out;
	struct echo_addr me = { .ip = cfg.ip };
	char macs[18];
	struct in_addr ia = { htonl(cfg.ip) };
	pl_eth_mac(port, me.mac);
	pl_eth_link_wait(port, 5000);
	fprintf(human, "pollen-echo: %s (%s, %s) answers for %s/%u\n", cfg.addr,
		pl_eth_driver(port), pg_format_mac(me.mac, macs), inet_ntoa(ia), cfg.prefix);
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
			int why = echo_handle(pl_pkt_data(pkts[i]), pkts[i]->len, &me, &out_len);

			if (why < 0) {
				count.arp_replies += why == ECHO_ARP_REPLY;
				count.echo_replies += why == ECHO_ICMP_REPLY;
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
