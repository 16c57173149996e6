/*
 * pollen-pktgen: a packet generator and checker in the habits of MoonGen and DPDK's pktgen.
 * It sends sequenced, timestamped Ethernet/IPv4/UDP frames (pktgen_frame.h) from one port
 * at full speed or a set rate, and receives them on another: each frame is checked byte
 * by byte, and the receiver counts losses, reordering, duplicates and corruption and
 * measures latency. The receiver runs in its own thread beside the sender, or alone, for
 * a sender in another process (it then learns the sender's settings from its frames).
 *
 *   pollen-pktgen -p TX_ADDR [--rx RX_ADDR] [-s BYTES] [-r PPS] [-n N | -t S] [options]
 *   pollen-pktgen --rx RX_ADDR [-n N] [-t S] [options]
 *
 * --json prints the summary as JSON on stdout; the lines for people (set-up, per second)
 * then go to stderr, where -q drops the per-second ones. Exit status: 0 when it ran
 * (losses and all: the numbers are the answer), 1 when a port or the IOMMU context would
 * not open (the library has said why), 2 for bad arguments.
 */
#define _GNU_SOURCE
#include <pollen/eth.h>
#include <pollen/iommu.h>
#include <pollen/log.h>
#include <pollen/mempool.h>
#include <pollen/pci.h>
#include <pollen/pkt.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "histogram.h"
#include "json.h"
#include "pktgen_args.h"
#include "pktgen_frame.h"

#define CACHE_SIZE 128
#define CRC_LEN 4
#define NS 1000000000ull
#define MS 1000000ull

static struct pktgen_cfg cfg;

static int stop;	/* signals seen: the first ends sending, a second the receiver's linger */

static void on_signal(int sig)
{
	(void)sig;
	__atomic_add_fetch(&stop, 1, __ATOMIC_RELAXED);	/* lock-free: async-signal-safe */
}

static uint64_t clock_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);	/* the vDSO: no system call */
	return (uint64_t)t.tv_sec * NS + (uint64_t)t.tv_nsec;
}

static void sleep_until(uint64_t ns)
{
	struct timespec t = { .tv_sec = (time_t)(ns / NS), .tv_nsec = (long)(ns % NS) };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
}

/* ---- the sender ---- */

struct tx {
	struct pl_eth_port *eth;
	struct pl_mempool *pool;
	uint8_t tmpl[PG_SIZE_MAX];
	uint64_t sent, busy, pool_empty;	/* sent: what tx_burst took */
	uint64_t start_ns, end_ns;		/* first and last burst */
	bool done;
};

/* A burst not due yet: slow rates sleep (100 ms at most, to see a stop); fast ones spin. */
static void pace(uint64_t now, uint64_t due, bool sleepy)
{
	if (sleepy && due - now > 50000)
		sleep_until(due - now < 100 * MS ? due : now + 100 * MS);
}

static void *tx_main(void *arg)
{
	struct tx *t = arg;
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];
	const unsigned size = cfg.size;
	/*
	 * Marks a buffer that holds the template already (pl_pkt.user is the app's), so a
	 * frame costs 22 bytes of writes. Not when the port also receives into this pool: a
	 * buffer the driver took back from the RX ring could come with the mark and a frame
	 * written over the template.
	 */
	const uint64_t cookie = cfg.one_port ? 0 : (uint64_t)size << 32 | PG_MAGIC;
	/*
	 * At a set rate a burst is what 10 us of it make (1 to -b frames), so frames leave
	 * in clumps no longer than that; each burst is due when the frames before it are.
	 */
	unsigned per_burst = cfg.burst;
	if (cfg.rate && cfg.rate / 100000 < per_burst)
		per_burst = cfg.rate < 100000 ? 1 : (unsigned)(cfg.rate / 100000);
	const double gap = cfg.rate ? 1e9 / cfg.rate : 0;
	/* Under ~10k pps sleeping beats spinning; ask for wake-ups within 1 us, not 50. */
	const bool sleepy = cfg.rate && cfg.rate < 10000;
	if (sleepy)
		prctl(PR_SET_TIMERSLACK, 1000UL);

	uint64_t seq = 0, now = clock_ns();
	unsigned off = 0, left = 0;
	const uint64_t t0 = now;
	const unsigned secs = cfg.seconds ? cfg.seconds : cfg.count ? 0 : 10;
	const uint64_t end = secs ? t0 + secs * NS : UINT64_MAX;

	t->start_ns = t0;
	for (;; now = clock_ns()) {
		/* At the end, frames built but not taken are dropped: seq == sent stays true. */
		if (__atomic_load_n(&stop, __ATOMIC_RELAXED) || now >= end)
			break;
		if (!left) {
			if (cfg.count && seq >= cfg.count)
				break;
			if (gap) {
				uint64_t due = t0 + (uint64_t)((double)seq * gap);
				if (now < due) {
					pace(now, due, sleepy);
					continue;
				}
			}
			unsigned want = per_burst;
			if (cfg.count && cfg.count - seq < want)
				want = (unsigned)(cfg.count - seq);
			if (pl_pkt_alloc_bulk(t->pool, pkts, want)) {
				/* Sent packets the driver holds go back only when asked. */
				pl_eth_tx_reclaim(t->eth, 0);
				cli_count_add(&t->pool_empty, 1);
				continue;
			}
			/* One time stamp a burst: its frames leave together. */
			for (unsigned k = 0; k < want; k++) {
				struct pl_pkt *p = pkts[k];
				uint8_t *f = pl_pkt_data(p);

				if (p->user != cookie || !cookie) {
					memcpy(f, t->tmpl, size);
					p->user = cookie;
				}
				p->len = (uint16_t)size;
				pg_stamp(f, size, seq + k, now);
				if (cfg.flows > 1)
					pg_flow(f, cfg.fp.src_ip, seq + k, cfg.flows);
				if (cfg.tx_csum) {
					/* Again each time: QEMU's e1000e writes its sum into the buffer. */
					pg_csum_offload(f);
					p->flags = PL_PKT_TX_IP_CSUM | PL_PKT_TX_UDP_CSUM;
					p->l2_len = PG_OFF_IP;
					p->l3_len = PG_OFF_UDP - PG_OFF_IP;
				}
			}
			seq += want;
			off = 0;
			left = want;
		}
		uint16_t took = pl_eth_tx_burst(t->eth, 0, pkts + off, (uint16_t)left);
		off += took;
		left -= took;
		cli_count_add(&t->sent, took);
		if (left)
			cli_count_add(&t->busy, left);	/* a full ring: they go again */
		if (took)
			t->end_ns = now;
	}
	if (left)
		pl_pkt_free_bulk(pkts + off, left);
	/*
	 * The device sends what its ring holds on its own; freeing that makes the pool whole
	 * and says, roughly, when the last frame is out: nothing freed for 20 ms (2 s at most).
	 */
	uint64_t drain = clock_ns(), quiet = drain;
	for (now = drain; now - quiet < 20 * MS && now - drain < 2 * NS; now = clock_ns())
		if (pl_eth_tx_reclaim(t->eth, 0))
			quiet = now;
	if (!t->end_ns)
		t->end_ns = t0;
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);	/* pairs with rx_over() */
	return NULL;
}

/* ---- the receiver ---- */

struct rx {
	struct pl_eth_port *eth;
	const struct tx *tx;		/* the sender in this process, or NULL */
	bool known;			/* the template: ours, or learned from the first frame */
	struct pg_params fp;
	uint8_t tmpl[PG_SIZE_MAX];
	uint64_t good, bytes, other, corrupted;	/* good: frames that passed the check */
	uint64_t wakeups;		/* --sleep: times a frame woke it */
	struct pg_seq seq;		/* what came of the sequence numbers */
	uint64_t start_ns, first_ns, last_ns;	/* first and last good frame */
	struct histogram lat;		/* ns */
	bool done;
};

/*
 * A receiver alone learns the sender's settings from the first frame with the magic;
 * the template is rebuilt from them, and the frame must pass the check against it.
 */
static bool learn(struct rx *r, const uint8_t *f, unsigned len)
{
	uint64_t seq;
	char mac[18];

	if (!pg_learn(f, len, &r->fp))
		return false;
	pg_build_template(r->tmpl, &r->fp);
	if (pg_check(f, len, r->tmpl, r->fp.size, &seq) != PG_OK)
		return false;
	r->known = true;
	fprintf(cfg.json ? stderr : stdout, "pollen-pktgen: receiving from generator %u at %s: "
		"%u-byte frames\n", r->fp.gen_id, pg_format_mac(r->fp.src, mac), r->fp.size);
	return true;
}

/* Checks and counts a burst; returns how many of its frames were good. */
static uint64_t take(struct rx *r, struct pl_pkt **pkts, unsigned n, uint64_t now)
{
	uint64_t good = 0, bytes = 0;

	for (unsigned k = 0; k < n; k++) {
		struct pl_pkt *p = pkts[k];
		const uint8_t *f = pl_pkt_data(p);
		uint64_t seq;

		p->user = 0;	/* the device wrote here: no longer the sender's template */
		if (!r->known && !learn(r, f, p->len)) {
			cli_count_add(pg_learn(f, p->len, &r->fp) ? &r->corrupted : &r->other, 1);
			continue;
		}
		switch (pg_check(f, p->len, r->tmpl, r->fp.size, &seq)) {
		case PG_OTHER:
			cli_count_add(&r->other, 1);
			continue;
		case PG_CORRUPT:
			cli_count_add(&r->corrupted, 1);
			continue;
		case PG_OK:
			break;
		}
		good++;
		bytes += p->len + CRC_LEN;
		pg_seq_see(&r->seq, seq);
		/* The 48-bit clocks wrap together: the difference modulo 2^48 is right. */
		hist_add(&r->lat, (now - pg_frame_ts(f)) & PG_TS_MASK);
	}
	pl_pkt_free_bulk(pkts, n);
	cli_count_add(&r->good, good);
	cli_count_add(&r->bytes, bytes);
	return good;
}

/*
 * Sending is over when the sender here is done; for a receiver alone, at -t, at -n
 * frames, at a signal, or when frames stopped coming. Then the receiver lingers until
 * nothing arrived for --linger-ms, for 1 s + 10 lingers at most (traffic that never
 * stops), or until a second signal.
 */
static bool rx_over(struct rx *r, uint64_t now, uint64_t *over)
{
	const uint64_t linger = cfg.linger_ms * MS;
	const int sig = __atomic_load_n(&stop, __ATOMIC_RELAXED);

	if (sig >= 2)
		return true;
	if (!*over) {
		if (r->tx) {
			if (!__atomic_load_n(&r->tx->done, __ATOMIC_ACQUIRE))
				return false;
			*over = r->tx->end_ns;
		} else if (r->last_ns && now - r->last_ns >= linger) {
			return true;	/* the sender stopped: that was the linger */
		} else if (sig || (cfg.seconds && now - r->start_ns >= cfg.seconds * NS) ||
			   (cfg.count && r->seq.unique >= cfg.count)) {
			*over = now;
		} else {
			return false;
		}
	}
	uint64_t since = r->last_ns > *over ? r->last_ns : *over;
	return (now > since && now - since >= linger) ||
	       (now > *over && now - *over >= NS + 10 * linger);
}

/*
 * --sleep: after IDLE_POLLS empty polls, sleep on the RX interrupt (100 ms at most, so
 * that the end of the run is seen) unless a frame came in meanwhile.
 */
#define IDLE_POLLS 1024

static void rx_sleep(struct rx *r)
{
	struct pollfd p = { .fd = pl_eth_rx_irq_fd(r->eth, 0), .events = POLLIN };

	if (pl_eth_rx_intr_enable(r->eth, 0) == 0 && poll(&p, 1, 100) == 1) {
		uint64_t n;

		if (read(p.fd, &n, sizeof(n)) == sizeof(n))
			cli_count_add(&r->wakeups, 1);
	}
	pl_eth_rx_intr_disable(r->eth, 0);
}

static void *rx_main(void *arg)
{
	struct rx *r = arg;
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];
	uint64_t over = 0, now;

	for (unsigned idle = 0;;) {
		uint16_t n = pl_eth_rx_burst(r->eth, 0, pkts, (uint16_t)cfg.burst);

		if (!n && cfg.sleep && idle >= IDLE_POLLS) {
			rx_sleep(r);
			idle = 0;
			now = clock_ns();
			if (rx_over(r, now, &over))
				break;
			continue;
		}
		if (n) {
			idle = 0;
			/* One clock read a burst: its frames' latencies end together. */
			now = clock_ns();
			/* Rates and the linger go by good frames: others (noise) do not count. */
			if (take(r, pkts, n, now)) {
				if (!r->first_ns)
					r->first_ns = now;
				r->last_ns = now;
			}
		} else if (++idle % 64) {
			continue;
		} else {
			now = clock_ns();
		}
		if (rx_over(r, now, &over))
			break;
	}
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- set-up ---- */

static struct pl_eth_port *open_port(struct pl_iommu *ctx, const char *addr, bool promisc,
				     unsigned threads, struct pl_mempool **pool)
{
	/*
	 * Buffers: a full RX ring (the sender's is never polled and stays full) and a full TX
	 * ring (--rx-desc, --tx-desc; sent packets wait in the TX ring to be freed),
	 * a burst in hand and one the RX refill
	 * may take ahead, and what each thread's cache keeps (1.5 x its size): the main
	 * thread's (it fills the RX ring at start) and the workers'.
	 */
	unsigned n = cfg.rx_desc + cfg.tx_desc + 2 * cfg.burst + threads * CACHE_SIZE * 3 / 2;

	if (!(*pool = pl_pkt_pool_create(ctx, addr, n, 0, CACHE_SIZE)))
		return NULL;

	/* Interrupts for the receiver that sleeps when idle (--sleep). */
	bool irqs = cfg.sleep && cfg.rx && !strcmp(addr, cfg.rx_addr);
	struct pl_eth_port *eth = pl_eth_open(ctx, addr, &(struct pl_eth_conf){
		.pool = *pool, .promisc = promisc, .interrupts = irqs, .rx_desc = cfg.rx_desc,
		.tx_desc = cfg.tx_desc });
	if (eth && pl_eth_start(eth)) {
		pl_eth_close(eth);
		eth = NULL;
	}
	if (!eth) {
		pl_mempool_free(*pool);
		*pool = NULL;
		return NULL;
	}
	pl_eth_link_wait(eth, 5000);	/* a link still down is logged; go on */
	return eth;
}

/* ---- results ---- */

#define U(x) ((unsigned long long)(x))

static double per_s(uint64_t n, uint64_t from, uint64_t to)
{
	return to > from ? (double)n * 1e9 / (double)(to - from) : 0;
}

static uint64_t lost(const struct rx *r)
{
	/* In one process the sender's count also shows frames lost after the last one seen. */
	return pg_seq_lost(&r->seq, r->tx ? cli_count_get(&r->tx->sent) : 0);
}

static void progress(FILE *f, unsigned sec, double dt, const struct tx *t, const struct rx *r,
		     uint64_t last[3])
{
	fprintf(f, "[%3us]", sec);
	if (t) {
		uint64_t sent = cli_count_get(&t->sent);
		fprintf(f, " tx %.0f pps %.1f Mbit/s", (double)(sent - last[0]) / dt,
			(double)(sent - last[0]) * (cfg.size + CRC_LEN) * 8 / dt / 1e6);
		last[0] = sent;
	}
	if (r) {
		uint64_t good = cli_count_get(&r->good), bytes = cli_count_get(&r->bytes);
		fprintf(f, "%s rx %.0f pps %.1f Mbit/s lost %llu reordered %llu duplicated %llu "
			"corrupted %llu other %llu", t ? " |" : "", (double)(good - last[1]) / dt,
			(double)(bytes - last[2]) * 8 / dt / 1e6, U(lost(r)),
			U(cli_count_get(&r->seq.reordered)), U(cli_count_get(&r->seq.duplicated)),
			U(cli_count_get(&r->corrupted)), U(cli_count_get(&r->other)));
		last[1] = good;
		last[2] = bytes;
	}
	fprintf(f, "\n");
	fflush(f);
}

static const double pcts[] = { 50, 90, 99, 99.9 };

static void print_text(const struct tx *t, const struct rx *r, struct pl_eth_port *ports[2])
{
	printf("\n");
	if (t) {
		double pps = per_s(t->sent, t->start_ns, t->end_ns);
		printf("tx: %llu frames in %.3f s: %.0f pps, %.1f Mbit/s (tx busy %llu, pool empty "
		       "%llu)\n", U(t->sent), (double)(t->end_ns - t->start_ns) / 1e9, pps,
		       pps * (cfg.size + CRC_LEN) * 8 / 1e6, U(t->busy), U(t->pool_empty));
	}
	if (r) {
		printf("rx: %llu frames: %.0f pps; lost %llu, reordered %llu, duplicated %llu, "
		       "corrupted %llu, other %llu; latency us", U(r->good),
		       per_s(r->good, r->first_ns, r->last_ns), U(lost(r)), U(r->seq.reordered),
		       U(r->seq.duplicated), U(r->corrupted), U(r->other));
		for (unsigned i = 0; i < 4; i++)
			printf(" p%g %.1f", pcts[i], hist_percentile(&r->lat, pcts[i]) / 1e3);
		printf(" max %.1f\n", r->lat.n ? (double)r->lat.max / 1e3 : 0);
		if (r->seq.reordered)
			fprintf(stderr, "pollen-pktgen: frames came out of order: on the test bed, "
				"QEMU's net layer reorders frames for an e1000e whose RX ring ran "
				"empty (DEVELOPERS.md); a larger --rx-desc keeps it from running "
				"empty\n");
	}
	for (unsigned i = 0; i < 2; i++) {
		struct pl_eth_stats s;

		if (ports[i] && !pl_eth_stats(ports[i], &s))
			printf("port %s (%s): rx %llu tx %llu, rx_missed %llu rx_no_desc %llu "
			       "rx_nombuf %llu, errors rx %llu desc %llu tx %llu\n", pl_eth_addr(ports[i]),
			       pl_eth_driver(ports[i]), U(s.rx_packets), U(s.tx_packets),
			       U(s.rx_missed), U(s.rx_no_desc), U(s.rx_nombuf), U(s.rx_errors),
			       U(s.rx_desc_errors), U(s.tx_errors));
	}
}

static void print_json(const struct tx *t, const struct rx *r, struct pl_eth_port *ports[2])
{
	static const char *const keys[] = { "p50", "p90", "p99", "p999" };
	struct json j = { .f = stdout };

	json_object(&j, NULL);
	json_u64(&j, "size", t ? cfg.size : r->fp.size);	/* 0: nothing came to learn it */
	if (t) {
		double pps = per_s(t->sent, t->start_ns, t->end_ns);
		json_object(&j, "tx");
		json_u64(&j, "packets", t->sent);
		json_num(&j, "seconds", (double)(t->end_ns - t->start_ns) / 1e9);
		json_num(&j, "pps", pps);
		json_num(&j, "mbps", pps * (cfg.size + CRC_LEN) * 8 / 1e6);
		json_u64(&j, "busy", t->busy);
		json_u64(&j, "pool_empty", t->pool_empty);
		json_end_object(&j);
	}
	if (r) {
		json_object(&j, "rx");
		json_u64(&j, "packets", r->good);
		json_num(&j, "seconds", (double)(r->last_ns - r->first_ns) / 1e9);
		json_num(&j, "pps", per_s(r->good, r->first_ns, r->last_ns));
		json_num(&j, "mbps", per_s(r->bytes, r->first_ns, r->last_ns) * 8 / 1e6);
		json_u64(&j, "lost", lost(r));
		json_u64(&j, "reordered", r->seq.reordered);
		json_u64(&j, "duplicated", r->seq.duplicated);
		json_u64(&j, "corrupted", r->corrupted);
		json_u64(&j, "other", r->other);
		if (cfg.sleep)
			json_u64(&j, "wakeups", r->wakeups);
		json_object(&j, "latency_us");
		for (unsigned i = 0; i < 4; i++)
			json_num(&j, keys[i], hist_percentile(&r->lat, pcts[i]) / 1e3);
		json_num(&j, "max", r->lat.n ? (double)r->lat.max / 1e3 : 0);
		json_end_object(&j);
		json_end_object(&j);
	}
	json_array(&j, "ports");
	for (unsigned i = 0; i < 2; i++) {
		struct pl_eth_stats s;

		if (!ports[i] || pl_eth_stats(ports[i], &s))
			continue;
		json_object(&j, NULL);
		json_str(&j, "addr", pl_eth_addr(ports[i]), PL_PCI_ADDR_LEN);
		json_str(&j, "driver", pl_eth_driver(ports[i]), 16);
#define F(x) json_u64(&j, #x, s.x)
		F(rx_packets); F(rx_bytes); F(tx_packets); F(tx_bytes); F(rx_missed); F(rx_no_desc);
		F(rx_errors); F(rx_multicast); F(rx_broadcast); F(tx_collisions); F(rx_nombuf);
		F(rx_desc_errors); F(rx_desc_frame_errors); F(rx_desc_too_long); F(tx_errors);
		F(tx_link_down); F(link_changes); F(sw_rx_packets); F(sw_tx_packets);
#undef F
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
}

/* The frame: our MAC unless --src-mac; to the receiver here, or --dst-mac, or everyone. */
static void describe_frames(struct pl_eth_port *txp, struct pl_eth_port *rxp, uint8_t *tmpl)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	cfg.fp.size = cfg.size;
	cfg.fp.gen_id = (uint16_t)getpid();
	if (cfg.src_set)
		memcpy(cfg.fp.src, cfg.src_mac, 6);
	else
		pl_eth_mac(txp, cfg.fp.src);
	if (cfg.dst_set)
		memcpy(cfg.fp.dst, cfg.dst_mac, 6);
	else if (rxp && rxp != txp)
		pl_eth_mac(rxp, cfg.fp.dst);
	else
		memcpy(cfg.fp.dst, bcast, 6);
	pg_build_template(tmpl, &cfg.fp);
}

int main(int argc, char **argv)
{
	pktgen_defaults(&cfg);
	switch (pktgen_parse(&cfg, argc, argv)) {
	case OPTS_HELP:
		pktgen_usage(stdout);
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
		return 1;	/* logged */
	static struct tx t;
	static struct rx r;
	struct pl_mempool *pools[2] = { 0 };
	struct pl_eth_port *txp = NULL, *rxp = NULL;
	int ret = 0;
	char mac[18];

	/* A pool per port, so that each pool's buffers stay with the threads using it. */
	if (cfg.tx && !(txp = open_port(ctx, cfg.tx_addr, cfg.one_port, cfg.one_port ? 3 : 2,
					&pools[0])))
		ret = 1;
	if (!ret && cfg.rx && !(rxp = cfg.one_port ? txp :
					open_port(ctx, cfg.rx_addr, true, 2, &pools[1])))
		ret = 1;
	if (!ret && cfg.rx && !(r.seq.seen = calloc(PG_SEQ_WINDOW / 64, sizeof(uint64_t)))) {
		fprintf(stderr, "pollen-pktgen: no memory for the sequence window\n");
		ret = 1;
	}
	struct pl_eth_port *ports[2] = { txp, rxp != txp ? rxp : NULL };

	if (!ret && txp) {
		t = (struct tx){ .eth = txp, .pool = pools[0] };
		describe_frames(txp, rxp, t.tmpl);
		fprintf(human, "pollen-pktgen: %s (%s) sends %u-byte frames (generator %u) to %s "
			"at ", cfg.tx_addr, pl_eth_driver(txp), cfg.size, cfg.fp.gen_id,
			pg_format_mac(cfg.fp.dst, mac));
		if (cfg.rate)
			fprintf(human, "%.0f pps\n", cfg.rate);
		else
			fprintf(human, "full speed\n");
	}
	if (!ret && rxp) {
		r.eth = rxp;
		r.tx = txp ? &t : NULL;
		hist_init(&r.lat);
		if (txp) {	/* the sender is here: its template is the model */
			r.fp = cfg.fp;
			memcpy(r.tmpl, t.tmpl, cfg.size);
			r.known = true;
		}
		fprintf(human, "pollen-pktgen: %s (%s) receives and checks%s\n", cfg.rx_addr,
			pl_eth_driver(rxp), txp ? "" : " frames from a sender elsewhere");
	}
	if (!ret) {
		pthread_t tx_thread, rx_thread;
		uint64_t now = clock_ns(), next = now + NS, last = now, counts[3] = { 0 };
		unsigned sec = 0;

		fflush(human);
		r.start_ns = now;
		/* The receiver first, so that it polls before the first frame arrives. */
		if (rxp)
			pthread_create(&rx_thread, NULL, rx_main, &r);
		if (txp)
			pthread_create(&tx_thread, NULL, tx_main, &t);
		while ((txp && !__atomic_load_n(&t.done, __ATOMIC_ACQUIRE)) ||
		       (rxp && !__atomic_load_n(&r.done, __ATOMIC_ACQUIRE))) {
			if ((now = clock_ns()) < next) {
				sleep_until(next < now + 50 * MS ? next : now + 50 * MS);
				continue;
			}
			if (!cfg.quiet)
				progress(human, ++sec, (double)(now - last) / 1e9, txp ? &t : NULL,
					 rxp ? &r : NULL, counts);
			last = now;
			next += NS;
		}
		if (txp)
			pthread_join(tx_thread, NULL);
		if (rxp)
			pthread_join(rx_thread, NULL);
		if (cfg.json)
			print_json(txp ? &t : NULL, rxp ? &r : NULL, ports);
		else
			print_text(txp ? &t : NULL, rxp ? &r : NULL, ports);
	}
	for (unsigned i = 0; i < 2; i++)
		if (ports[i])
			pl_eth_stop(ports[i]);
	for (unsigned i = 0; i < 2; i++) {
		if (ports[i])
			pl_eth_close(ports[i]);
		pl_mempool_free(pools[i]);
	}
	free(r.seq.seen);
	pl_iommu_close(ctx);
	return ret;
}
