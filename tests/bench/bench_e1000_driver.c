/*
 * The e1000 driver's own cost per forwarded packet, on the host model
 * (tests/models/e1000_model.c): each round the model receives a burst of 64-byte frames,
 * then the driver's rx_burst and tx_burst of up to 64 move them, and only those two
 * calls are timed (RX refill and TX reclaim happen inside them, as they do when
 * forwarding); the model sends what the driver handed over between the timed spans,
 * with its runner stopped. On the test bed forwarding sits at the emulator's ceiling;
 * here the driver's speed shows alone.
 *
 * usage: pollen-bench-e1000-driver [-e] [-b BURST] [-n PACKETS] [-r RUNS]
 *        -e: an 82574L (e1000e, extended descriptors) rather than an 82540EM
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pollen/eth.h>
#include <pollen/log.h>
#include <pollen/mempool.h>
#include <pollen/pkt.h>

#include "bench_driver.h"
#include "e1000_model.h"

#define FRAME 60	/* 64 bytes on the wire with the FCS */

static int one_run(struct e1000_model *m, struct pl_eth_port *port, unsigned burst,
		   unsigned long packets, double *ns_per_pkt)
{
	static const uint8_t frame[FRAME] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x02, 0, 0, 0,
					      0, 1, 0x88, 0xb5 };
	struct model_dev *d = e1000_model_dev(m);
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];
	unsigned long rounds = packets / burst, moved = 0;
	uint64_t spent = 0;

	for (unsigned long r = 0; r < rounds; r++) {
		/* The device's part, not timed: a burst received, the last one sent. */
		model_lock(d);
		e1000_model_tx(m, 0, ~0u);
		for (unsigned i = 0; i < burst; i++)
			if (e1000_model_rx(m, 0, frame, FRAME))
				break;
		model_unlock(d);

		uint64_t t0 = bench_ns();
		uint16_t n = pl_eth_rx_burst(port, 0, pkts, (uint16_t)burst);
		uint16_t sent = pl_eth_tx_burst(port, 0, pkts, n);
		uint64_t t1 = bench_ns();

		for (uint16_t i = sent; i < n; i++)
			pl_pkt_free(pkts[i]);
		if (n != burst || sent != n) {
			fprintf(stderr, "round %lu: %u received, %u sent of %u\n", r, n, sent, burst);
			return -EPROTO;
		}
		spent += t1 - t0;
		moved += n;
	}
	*ns_per_pkt = ((double)spent - bench_clock_ns() * (double)rounds) / (double)moved;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned burst = 64, runs = 5;
	unsigned long packets = 4000000;
	bool e1000e = false;
	int opt;

	while ((opt = getopt(argc, argv, "eb:n:r:h")) != -1) {
		switch (opt) {
		case 'e':
			e1000e = true;
			break;
		case 'b':
			burst = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			packets = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = (unsigned)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-e] [-b BURST 1-%d] [-n PACKETS] [-r RUNS 1-%d]\n",
				argv[0], PL_ETH_MAX_BURST, BENCH_MAX_RUNS);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!burst || burst > PL_ETH_MAX_BURST || packets < burst || !runs ||
	    runs > BENCH_MAX_RUNS) {
		fprintf(stderr, "%s: -b 1-%d, -n at least the burst, -r 1-%d\n", argv[0],
			PL_ETH_MAX_BURST, BENCH_MAX_RUNS);
		return 2;
	}

	pl_log_set_level(PL_LOG_ERR);
	struct pl_iommu *ctx = model_bed_open();
	struct e1000_model *m = e1000_model_new(&(struct e1000_model_conf){ .e1000e = e1000e,
									     .manual_tx = true });
	/* A pool as an app makes one (the tests' has debug checks that cost more than this). */
	struct pl_mempool *pool = ctx ? pl_pkt_pool_create(ctx, "bench", 4096, 0, 256) : NULL;
	struct pl_eth_port *port = pool ? pl_eth_open(ctx, "0000:00:03.0", &(struct pl_eth_conf){
		.pool = pool, .rx_desc = 512, .tx_desc = 512 }) : NULL;

	if (!port || pl_eth_start(port)) {
		fprintf(stderr, "%s: setting up the model: %s (hugepages reserved?)\n", argv[0],
			strerror(errno));
		return 1;
	}
	model_runner_off(e1000_model_dev(m), true);

	double ns[BENCH_MAX_RUNS];
	int ret = 0;
	for (unsigned r = 0; r < runs && !ret; r++)
		if ((ret = one_run(m, port, burst, packets, &ns[r])))
			fprintf(stderr, "%s: run %u: %s\n", argv[0], r + 1, strerror(-ret));
	model_runner_off(e1000_model_dev(m), false);
	if (!ret) {
		printf("%s driver, %u-byte frames forwarded in bursts of %u on the host model, "
		       "%lu packets a run, %u runs\n", pl_eth_driver(port), FRAME + 4, burst,
		       packets / burst * burst, runs);
		printf("%s\n", bench_cpu());
		bench_row("rx_burst + tx_burst", ns, runs, "ns/packet");
		printf("  => %.1f Mpps per core of driver time alone (median)\n",
		       1e3 / bench_median(ns, runs));
	}
	pl_eth_stop(port);
	pl_eth_close(port);
	pl_mempool_free(pool);
	model_bed_close();
	return ret ? 1 : 0;
}
