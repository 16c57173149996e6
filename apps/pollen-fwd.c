/*
 * pollen-fwd: forwards frames between NIC ports in the habits of DPDK's l2fwd and testpmd's
 * io mode, and ixy-fwd: what comes in on port 0 leaves by port 1 and the other way round,
 * 2 with 3, and so on; an odd last port sends back out of itself. Frames go out as they
 * came (io mode) unless --dst-mac asks for the MAC addresses to be rewritten (l2fwd).
 * One thread polls every port, or with --queues N (RSS on NICs that have it) one thread
 * per queue, each forwarding its queue of every port to the same queue of the peer; the
 * first prints each port's rates every second, and totals come at the end (SIGINT or
 * SIGTERM end a run cleanly, with the totals).
 *
 *   pollen-fwd -p 0000:00:03.0,0000:00:04.0 [-t SECONDS] [-b BURST] [--dst-mac MAC,MAC]
 *              [--queues N] [--tx-first N] [--no-promisc] [--pool N] [--rx-desc N]
 *              [--tx-desc N] [--iommu auto|iommufd|vfio] [--sleep] [-q] [--json]
 *
 * --json prints the totals as JSON on stdout; the lines for people (set-up, per second)
 * then go to stderr, where -q drops the per-second ones. Exit status: 0 when it ran, 1
 * when a port or the IOMMU context would not open (the library has said why), 2 for bad
 * arguments.
 */
#define _GNU_SOURCE
#include <pollen/eth.h>
#include <pollen/iommu.h>
#include <pollen/irq.h>
#include <pollen/log.h>
#include <pollen/mempool.h>
#include <pollen/pci.h>
#include <pollen/pkt.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fwd_args.h"
#include "json.h"
#include "pktgen_frame.h"

#define FWD_GATHER 4	/* RX bursts one TX burst may carry */
#define CACHE_SIZE 256		/* per-thread pool cache: DPDK l2fwd's MEMPOOL_CACHE_SIZE */
#define CRC_LEN 4
#define CLOCK_EVERY 128		/* poll loops between two looks at the clock */
#define SLEEP_MS 100		/* and the longest sleep: the clock and Ctrl-C are looked at */
#define NS 1000000000ull

static struct fwd_cfg cfg;

static int stop;	/* set by the signal handler: an atomic int is async-signal-safe */

static void on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);	/* the vDSO: no system call */
	return (uint64_t)t.tv_sec * NS + (uint64_t)t.tv_nsec;
}

/*
 * The app's counts for a port's queue; bytes are frame bytes with the CRC. The queue's
 * worker alone writes them; the first worker reads them all for the per-second lines.
 */
struct counts {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t tx_refused;		/* tx_burst did not take them: freed */
} __attribute__((aligned(64)));	/* a line each: two workers never share one */

struct port {
	struct pl_eth_port *eth;
	const char *addr;
	unsigned peer;			/* the port its received frames leave by */
	uint8_t mac[PL_ETH_ADDR_LEN];
	uint8_t hdr[2 * PL_ETH_ADDR_LEN];	/* --dst-mac: how frames leaving here start */
	struct counts q[PL_ETH_MAX_QUEUES];
	struct counts last;		/* the sums at the last per-second line */
	uint64_t injected;		/* --tx-first frames */
	struct pl_eth_stats base;	/* the device's totals when forwarding began */
	struct pl_eth_stats last_st;	/* and at the last per-second line */
};

/* The port's counts over its queues. */
static struct counts sum(const struct port *p)
{
	struct counts t = { 0 };

	for (unsigned q = 0; q < cfg.queues; q++) {
		const struct counts *c = &p->q[q];

		t.rx_packets += cli_count_get(&c->rx_packets);
		t.rx_bytes += cli_count_get(&c->rx_bytes);
		t.tx_packets += cli_count_get(&c->tx_packets);
		t.tx_bytes += cli_count_get(&c->tx_bytes);
		t.tx_refused += cli_count_get(&c->tx_refused);
	}
	return t;
}

static uint64_t dev_errors(const struct pl_eth_stats *s)
{
	return s->rx_errors + s->tx_errors + s->rx_desc_errors;
}

/* ---- options ---- */

/* ---- set-up ---- */

/*
 * --tx-first: @n frames out of port @i towards its peer, like testpmd's tx_first. They
 * wait for ring room (a second at most: a port whose link is down never makes any).
 * They are pollen-pktgen frames, so a receiver there can count and check them.
 */
static void send_first(struct port *ports, unsigned i, struct pl_mempool *pool, unsigned n)
{
	struct port *p = &ports[i];
	struct pg_params fp = { .src_ip = 0x0a000001, .dst_ip = 0x0a000002, .sport = 1024,
				.dport = 1024, .gen_id = (uint16_t)getpid(), .size = PG_SIZE_MIN };
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];
	uint8_t tmpl[PG_SIZE_MIN];
	unsigned off = 0, left = 0;
	uint64_t seq = 0, give_up = clock_ns(CLOCK_MONOTONIC) + NS;

	memcpy(fp.dst, cfg.ndst ? cfg.dst_mac[i] : ports[p->peer].mac, PL_ETH_ADDR_LEN);
	memcpy(fp.src, p->mac, PL_ETH_ADDR_LEN);
	pg_build_template(tmpl, &fp);
	while ((seq < n || left) && clock_ns(CLOCK_MONOTONIC) < give_up) {
		if (!left) {
			unsigned want = n - seq < cfg.burst ? (unsigned)(n - seq) : cfg.burst;
			if (pl_pkt_alloc_bulk(pool, pkts, want)) {
				pl_eth_tx_reclaim(p->eth, 0);
				continue;
			}
			for (unsigned k = 0; k < want; k++) {
				memcpy(pl_pkt_data(pkts[k]), tmpl, PG_SIZE_MIN);
				pkts[k]->len = PG_SIZE_MIN;
				pg_stamp(pl_pkt_data(pkts[k]), PG_SIZE_MIN, seq,
					 clock_ns(CLOCK_MONOTONIC));
				/* With queues, frames of TX_FIRST_FLOWS flows: RSS spreads them. */
				if (cfg.queues > 1)
					pg_flow(pl_pkt_data(pkts[k]), fp.src_ip, seq,
						TX_FIRST_FLOWS);
				seq++;
			}
			off = 0;
			left = want;
		}
		uint16_t took = pl_eth_tx_burst(p->eth, 0, pkts + off, (uint16_t)left);
		off += took;
		left -= took;
		p->injected += took;
	}
	if (left)
		pl_pkt_free_bulk(pkts + off, left);
	if (p->injected < n)
		fprintf(stderr, "pollen-fwd: %s: --tx-first sent %llu of %u frames: the TX ring "
			"stayed full (is the link up?)\n", p->addr,
			(unsigned long long)p->injected, n);
}

/* ---- the loop ---- */

static FILE *human;	/* where the lines for people go: stderr under --json */

static void per_second(struct port *ports, unsigned n, double elapsed, double dt)
{
	for (unsigned i = 0; i < n; i++) {
		struct port *p = &ports[i];
		struct pl_eth_stats st;
		struct counts c = sum(p);

		/* Every second whether or not it prints: the device's counters are 32 bits. */
		if (pl_eth_stats(p->eth, &st))
			st = p->last_st;
		if (st.link_changes != p->last_st.link_changes) {
			struct pl_eth_link l;

			pl_eth_link(p->eth, &l);
			fprintf(human, "[%4.0fs] %s  link %s\n", elapsed, p->addr,
				l.up ? "up" : "down: not sending");
		}
		if (!cfg.quiet) {
			uint64_t drops = c.tx_refused - p->last.tx_refused + st.rx_missed -
					 p->last_st.rx_missed;
			fprintf(human, "[%4.0fs] %s  rx %9.0f pps %8.1f Mbit/s  tx %9.0f pps %8.1f "
				"Mbit/s  drops %llu  errors %llu\n", elapsed, p->addr,
				(double)(c.rx_packets - p->last.rx_packets) / dt,
				(double)(c.rx_bytes - p->last.rx_bytes) * 8 / dt / 1e6,
				(double)(c.tx_packets - p->last.tx_packets) / dt,
				(double)(c.tx_bytes - p->last.tx_bytes) * 8 / dt / 1e6,
				(unsigned long long)drops,
				(unsigned long long)(dev_errors(&st) - dev_errors(&p->last_st)));
		}
		p->last_st = st;
		p->last = c;
	}
	if (!cfg.quiet)
		fflush(human);
}

/* A forwarding thread: queue q of every port. */
struct worker {
	unsigned q;
	struct port *ports;
	unsigned n;
	struct pl_irq_waiter *waiter;	/* --sleep: queue q's RX eventfds (and the links', q 0) */
	uint64_t sleeps, wakeups;
	double secs;
	pthread_t thread;
};

/*
 * --sleep, after IDLE_POLLS empty loops: arm the worker's RX queue interrupt on every
 * port and sleep unless a frame came in meanwhile (for SLEEP_MS at most: the per-second
 * lines and Ctrl-C go on); disarm them all again before polling.
 */
static void sleep_on_interrupts(struct worker *w)
{
	bool waiting = false;
	void *tags[2 * MAX_PORTS];

	for (unsigned i = 0; i < w->n; i++)
		waiting |= pl_eth_rx_intr_enable(w->ports[i].eth, w->q) == 1;
	if (!waiting) {
		w->sleeps++;
		if (pl_irq_wait(w->waiter, SLEEP_MS, tags, 2 * MAX_PORTS) > 0)
			w->wakeups++;
	}
	for (unsigned i = 0; i < w->n; i++)
		pl_eth_rx_intr_disable(w->ports[i].eth, w->q);
}

/*
 * The data path: no system call, no allocation but the drivers' buffer refills, no
 * lock. The coarse clock (the vDSO's tick, a few ns) is read once every CLOCK_EVERY
 * loops: that is under a millisecond even at 2 x 64 frames a loop at 15 Mpps, and idle
 * loops are cheaper still. The exact clock is read only for the per-second lines, by
 * the first worker, which also ends the run; the others stop when it says.
 */
static void *forward(void *arg)
{
	struct worker *w = arg;
	struct port *ports = w->ports;
	const unsigned n = w->n, q = w->q;
	const bool lead = q == 0;
	struct pl_pkt *pkts[FWD_GATHER * PL_ETH_MAX_BURST];
	const uint16_t burst = (uint16_t)cfg.burst;
	const bool rewrite = cfg.ndst;
	const uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	const uint64_t end = cfg.seconds ? clock_ns(CLOCK_MONOTONIC_COARSE) + cfg.seconds * NS :
					   UINT64_MAX;
	uint64_t next = clock_ns(CLOCK_MONOTONIC_COARSE) + NS, last = t0;
	unsigned tick = 0, idle = 0;

	for (unsigned loop = 1;; loop++) {
		bool moved = false;

		for (unsigned i = 0; i < n; i++) {
			struct port *in = &ports[i], *out = &ports[in->peer];
			uint16_t nb = pl_eth_rx_burst(in->eth, q, pkts, burst);

			if (!nb)
				continue;
			moved = true;
			/*
			 * Whatever else is waiting, up to FWD_GATHER bursts, goes out with the same
			 * tail write: nothing waits for it, and on the emulated NICs a TX tail write
			 * costs more than the frames it sends (256 frames looping a port: 750k pps
			 * forwarded with a tail write a burst, 860k with this).
			 */
			for (unsigned g = 1; g < FWD_GATHER && nb == g * burst; g++)
				nb += pl_eth_rx_burst(in->eth, q, pkts + nb, burst);
			uint64_t bytes = 0;
			for (unsigned k = 0; k < nb; k++) {
				bytes += pkts[k]->len;
				if (!rewrite)
					continue;
				/* The next frame's first line while this one is written (l2fwd). */
				if (k + 1 < nb)
					__builtin_prefetch(pl_pkt_data(pkts[k + 1]), 1);
				memcpy(pl_pkt_data(pkts[k]), out->hdr, sizeof(out->hdr));
			}
			cli_count_add(&in->q[q].rx_packets, nb);
			cli_count_add(&in->q[q].rx_bytes, bytes + (uint64_t)nb * CRC_LEN);

			uint16_t sent = pl_eth_tx_burst(out->eth, q, pkts, nb);
			if (pl_unlikely(sent < nb)) {
				/* A full TX ring: like l2fwd, drop rather than stall RX. */
				for (unsigned k = sent; k < nb; k++)
					bytes -= pkts[k]->len;
				cli_count_add(&out->q[q].tx_refused, nb - sent);
				pl_pkt_free_bulk(pkts + sent, nb - sent);
			}
			cli_count_add(&out->q[q].tx_packets, sent);
			cli_count_add(&out->q[q].tx_bytes, bytes + (uint64_t)sent * CRC_LEN);
		}
		if (cfg.sleep) {
			if (moved)
				idle = 0;
			else if (++idle >= IDLE_POLLS) {
				sleep_on_interrupts(w);
				idle = 0;
				loop = CLOCK_EVERY - 1;	/* the clock next, after a sleep */
			}
		}
		if (loop % CLOCK_EVERY)
			continue;
		if (__atomic_load_n(&stop, __ATOMIC_RELAXED))
			break;
		if (!lead)
			continue;
		uint64_t now = clock_ns(CLOCK_MONOTONIC_COARSE);
		if (now >= next) {
			uint64_t exact = clock_ns(CLOCK_MONOTONIC);

			per_second(ports, n, ++tick, (double)(exact - last) / NS);
			last = exact;
			next += NS;
		}
		if (now >= end) {
			__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);	/* the others' end */
			break;
		}
	}
	w->secs = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / NS;
	return NULL;
}

/* ---- results ---- */

static double cpu_percent;	/* of one core, while forwarding */
static uint64_t sleeps, wakeups;	/* --sleep: the workers' sums */

static double tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

struct totals {
	uint64_t drops, errors, rx_missed, rx_no_desc, rx_nombuf;
};

static void port_totals(struct port *p, struct totals *t)
{
	struct pl_eth_stats st;

	if (pl_eth_stats(p->eth, &st))
		st = p->last_st;
	t->rx_missed = st.rx_missed - p->base.rx_missed;
	t->rx_no_desc = st.rx_no_desc - p->base.rx_no_desc;
	t->rx_nombuf = st.rx_nombuf - p->base.rx_nombuf;
	t->drops = sum(p).tx_refused + t->rx_missed;
	t->errors = dev_errors(&st) - dev_errors(&p->base);
}

static void print_text(struct port *ports, unsigned n, const struct totals *t, double secs)
{
	uint64_t fwd = 0, bytes = 0;

	printf("\n");
	for (unsigned i = 0; i < n; i++) {
		const struct port *p = &ports[i];
		struct counts c = sum(p);

		printf("%s -> %s: rx %llu packets %llu bytes, tx %llu packets %llu bytes, drops "
		       "%llu, errors %llu; device: rx_missed %llu rx_no_desc %llu rx_nombuf %llu",
		       p->addr, ports[p->peer].addr, (unsigned long long)c.rx_packets,
		       (unsigned long long)c.rx_bytes, (unsigned long long)c.tx_packets,
		       (unsigned long long)c.tx_bytes, (unsigned long long)t[i].drops,
		       (unsigned long long)t[i].errors, (unsigned long long)t[i].rx_missed,
		       (unsigned long long)t[i].rx_no_desc, (unsigned long long)t[i].rx_nombuf);
		if (p->injected)
			printf("; tx-first %llu", (unsigned long long)p->injected);
		printf("\n");
		for (unsigned q = 0; cfg.queues > 1 && q < cfg.queues; q++)
			printf("  queue %u: rx %llu packets, tx %llu packets\n", q,
			       (unsigned long long)p->q[q].rx_packets,
			       (unsigned long long)p->q[q].tx_packets);
		fwd += c.tx_packets;
		bytes += c.tx_bytes;
	}
	printf("total: forwarded %llu packets in %.1f s: %.0f pps (%.1f Mbit/s); CPU %.1f%% of a "
	       "core", (unsigned long long)fwd, secs, (double)fwd / secs,
	       (double)bytes * 8 / secs / 1e6, cpu_percent);
	if (cfg.sleep)
		printf(", %llu sleeps, %llu woken by a frame", (unsigned long long)sleeps,
		       (unsigned long long)wakeups);
	printf("\n");
}

static void print_json(struct port *ports, unsigned n, const struct totals *t, double secs)
{
	struct json j = { .f = stdout };
	uint64_t rx = 0, tx = 0;

	json_object(&j, NULL);
	json_num(&j, "seconds", secs);
	json_u64(&j, "burst", cfg.burst);
	json_num(&j, "cpu_percent", cpu_percent);
	json_bool(&j, "sleep", cfg.sleep);
	json_u64(&j, "sleeps", sleeps);
	json_u64(&j, "wakeups", wakeups);
	json_u64(&j, "queues", cfg.queues);
	json_array(&j, "ports");
	for (unsigned i = 0; i < n; i++) {
		const struct port *p = &ports[i];
		struct counts c = sum(p);

		json_object(&j, NULL);
		json_str(&j, "addr", p->addr, PL_PCI_ADDR_LEN);
		json_str(&j, "to", ports[p->peer].addr, PL_PCI_ADDR_LEN);
		json_u64(&j, "rx_packets", c.rx_packets);
		json_u64(&j, "tx_packets", c.tx_packets);
		json_u64(&j, "rx_bytes", c.rx_bytes);
		json_u64(&j, "tx_bytes", c.tx_bytes);
		json_u64(&j, "drops", t[i].drops);
		json_u64(&j, "errors", t[i].errors);
		json_u64(&j, "rx_missed", t[i].rx_missed);
		json_u64(&j, "rx_no_desc", t[i].rx_no_desc);
		json_u64(&j, "rx_nombuf", t[i].rx_nombuf);
		json_u64(&j, "tx_first", p->injected);
		json_num(&j, "rx_pps", (double)c.rx_packets / secs);
		json_num(&j, "tx_pps", (double)c.tx_packets / secs);
		json_array(&j, "per_queue");
		for (unsigned q = 0; q < cfg.queues; q++) {
			json_object(&j, NULL);
			json_u64(&j, "rx_packets", p->q[q].rx_packets);
			json_u64(&j, "tx_packets", p->q[q].tx_packets);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
		rx += c.rx_packets;
		tx += c.tx_packets;
	}
	json_end_array(&j);
	json_object(&j, "total");
	json_u64(&j, "rx_packets", rx);
	json_u64(&j, "tx_packets", tx);
	json_num(&j, "rx_pps", (double)rx / secs);
	json_num(&j, "tx_pps", (double)tx / secs);
	json_num(&j, "seconds", secs);
	json_end_object(&j);
	json_end_object(&j);
}

int main(int argc, char **argv)
{
	fwd_defaults(&cfg);
	switch (fwd_parse(&cfg, argc, argv)) {
	case OPTS_HELP:
		fwd_usage(stdout);
		return 0;
	case OPTS_BAD:
		return 2;
	case OPTS_VERSION:
		return 0;
	}
	human = cfg.json ? stderr : stdout;
	/* Early, so that a signal during set-up (link waits take seconds) still ends cleanly. */
	cli_on_signals(on_signal);

	/*
	 * Buffers, per port and queue: a full RX ring (every descriptor holds one), a full TX
	 * ring (sent packets wait there until a later burst frees them), a burst in the app's
	 * hands between rx and tx, and a burst the RX refill may take ahead; per worker, the
	 * gathered bursts beyond the first (one port's at a time) and what its thread's cache
	 * can keep from the ring (up to 1.5 x its size). Frames that --tx-first sets looping
	 * live in those ring slots: they need nothing more.
	 */
	unsigned n = cfg.queues * (cfg.nports * (cfg.rx_desc + cfg.tx_desc + 2 * cfg.burst) +
				   (FWD_GATHER - 1) * cfg.burst + CACHE_SIZE * 3 / 2);

	if (cfg.pool)
		n = cfg.pool;
	unsigned cache = n / 4 < CACHE_SIZE ? n / 4 : CACHE_SIZE;

	struct pl_iommu *ctx = pl_iommu_open(cfg.iommu);
	if (!ctx)
		return 1;	/* logged */
	struct pl_mempool *pool = pl_pkt_pool_create(ctx, "pollen-fwd", n, 0, cache);
	if (!pool) {
		pl_iommu_close(ctx);
		return 1;
	}
	struct port ports[MAX_PORTS] = { 0 };
	bool started[MAX_PORTS] = { 0 };
	struct pl_eth_conf conf = { .pool = pool, .rx_queues = cfg.queues, .tx_queues = cfg.queues,
				    .rx_desc = cfg.rx_desc, .tx_desc = cfg.tx_desc,
				    .promisc = cfg.promisc, .interrupts = cfg.sleep };
	struct worker workers[PL_ETH_MAX_QUEUES] = { 0 };
	int ret = 0;

	for (unsigned i = 0; i < cfg.nports && !ret; i++) {
		struct port *p = &ports[i];

		p->addr = cfg.addr[i];
		p->peer = (i ^ 1) < cfg.nports ? i ^ 1 : i;
		if (!(p->eth = pl_eth_open(ctx, p->addr, &conf))) {
			ret = 1;	/* the library said why */
			break;
		}
		pl_eth_set_port_id(p->eth, (uint16_t)i);
		/* Each worker sleeps on its queue's RX eventfds; the first on the links' too. */
		for (unsigned q = 0; cfg.sleep && q < cfg.queues && !ret; q++) {
			struct worker *w = &workers[q];
			int rx = pl_eth_rx_irq_fd(p->eth, q), link = pl_eth_link_irq_fd(p->eth);

			if ((!w->waiter && !(w->waiter = pl_irq_waiter_new())) ||
			    pl_irq_waiter_add(w->waiter, rx, p) ||
			    (!q && link >= 0 && link != rx &&
			     pl_irq_waiter_add(w->waiter, link, p))) {
				fprintf(stderr, "pollen-fwd: %s: cannot wait on its interrupts\n",
					p->addr);
				ret = 1;
			}
		}
		if (ret)
			break;
		pl_eth_mac(p->eth, p->mac);
		ret = pl_eth_start(p->eth) ? 1 : 0;
		started[i] = !ret;
	}
	for (unsigned i = 0; !ret && i < cfg.nports; i++) {
		struct port *p = &ports[i];
		struct pl_eth_link link;
		char mac[18];

		memcpy(p->hdr, cfg.dst_mac[i], PL_ETH_ADDR_LEN);
		memcpy(p->hdr + PL_ETH_ADDR_LEN, p->mac, PL_ETH_ADDR_LEN);
		if (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
			pl_eth_link_wait(p->eth, 5000);	/* a link still down is logged */
		pl_eth_link(p->eth, &link);
		fprintf(human, "pollen-fwd: port %u %s (%s, %s): link %s", i, p->addr,
			pl_eth_driver(p->eth), pg_format_mac(p->mac, mac), link.up ? "up" : "down");
		if (link.up)
			fprintf(human, " %u Mbit/s %s duplex", link.speed_mbps,
				link.full_duplex ? "full" : "half");
		fprintf(human, ", forwards to %s\n", ports[p->peer].addr);
	}
	if (!ret) {
		char queues[48] = "";
		if (cfg.queues > 1)
			snprintf(queues, sizeof(queues), ", %u queues a port and a thread a queue",
				 cfg.queues);
		fprintf(human, "pollen-fwd: %u port(s)%s, burst %u, %s, %s, %u buffers, IOMMU %s\n",
			cfg.nports, queues, cfg.burst,
			cfg.ndst ? "MAC rewrite" : "io mode (no rewrite)",
			cfg.promisc ? "promiscuous" : "own MAC only", n,
			pl_iommu_backend_name(pl_iommu_backend(ctx)));
		fflush(human);
		for (unsigned i = 0; cfg.tx_first && i < cfg.nports; i++)
			send_first(ports, i, pool, cfg.tx_first);
		for (unsigned i = 0; i < cfg.nports; i++) {
			if (pl_eth_stats(ports[i].eth, &ports[i].base))
				memset(&ports[i].base, 0, sizeof(ports[i].base));
			ports[i].last_st = ports[i].base;
		}

		struct rusage r0, r1;
		getrusage(RUSAGE_SELF, &r0);
		unsigned running = 1;
		for (unsigned q = 0; q < cfg.queues; q++) {
			workers[q].q = q;
			workers[q].ports = ports;
			workers[q].n = cfg.nports;
		}
		for (unsigned q = 1; q < cfg.queues; q++, running++)
			if (pthread_create(&workers[q].thread, NULL, forward, &workers[q])) {
				fprintf(stderr, "pollen-fwd: cannot start the worker for queue "
					"%u\n", q);
				__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
				ret = 1;
				break;
			}
		forward(&workers[0]);
		for (unsigned q = 1; q < running; q++)
			pthread_join(workers[q].thread, NULL);
		/* The longest: the others forward until they next look at the stop flag. */
		double secs = 0;
		for (unsigned q = 0; q < running; q++)
			secs = workers[q].secs > secs ? workers[q].secs : secs;
		getrusage(RUSAGE_SELF, &r1);
		cpu_percent = 100.0 * (tv_s(&r1.ru_utime) + tv_s(&r1.ru_stime) - tv_s(&r0.ru_utime) -
				       tv_s(&r0.ru_stime)) / secs;
		for (unsigned q = 0; q < cfg.queues; q++) {
			sleeps += workers[q].sleeps;
			wakeups += workers[q].wakeups;
		}
		struct totals t[MAX_PORTS];

		for (unsigned i = 0; i < cfg.nports; i++)
			port_totals(&ports[i], &t[i]);
		if (cfg.json)
			print_json(ports, cfg.nports, t, secs);
		else
			print_text(ports, cfg.nports, t, secs);
	}
	for (unsigned q = 0; q < cfg.queues; q++)
		pl_irq_waiter_free(workers[q].waiter);
	for (unsigned i = 0; i < cfg.nports; i++)
		if (started[i])
			pl_eth_stop(ports[i].eth);
	for (unsigned i = 0; i < cfg.nports; i++)
		if (ports[i].eth)
			pl_eth_close(ports[i].eth);
	pl_mempool_free(pool);
	pl_iommu_close(ctx);
	return ret;
}
