/*
 * The smallest forwarder: whatever arrives on one port leaves by the other, both ways,
 * in bursts (the ixy-fwd of Pollen; apps/pollen-fwd is the full tool).
 *
 *   l2fwd 0000:00:04.0 0000:00:05.0 [SECONDS]    (both bound to vfio-pci; default 10)
 *
 * Exit status: 0, 1 a port would not open or start (printed), 2 bad arguments.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <pollen/eth.h>
#include <pollen/iommu.h>
#include <pollen/mempool.h>
#include <pollen/pkt.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* One burst from @in to @out: what @out does not take is freed (dropped). */
static unsigned forward(struct pl_eth_port *in, struct pl_eth_port *out)
{
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];
	uint16_t n = pl_eth_rx_burst(in, 0, pkts, PL_ETH_MAX_BURST);
	uint16_t sent = n ? pl_eth_tx_burst(out, 0, pkts, n) : 0;

	pl_pkt_free_bulk(pkts + sent, n - sent);
	return sent;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s PCI-ADDRESS PCI-ADDRESS [SECONDS]\n", argv[0]);
		return 2;
	}
	time_t end = time(NULL) + (argc == 4 ? atoi(argv[3]) : 10);
	struct pl_iommu *ctx = pl_iommu_open(PL_IOMMU_AUTO);
	/* One pool for both ports' receive rings: frames go out from where they came in. */
	struct pl_mempool *pool = ctx ? pl_pkt_pool_create(ctx, "l2fwd", 4096, 0, 256) : NULL;
	struct pl_eth_conf conf = { .pool = pool, .promisc = 1 };
	struct pl_eth_port *a = pool ? pl_eth_open(ctx, argv[1], &conf) : NULL;
	struct pl_eth_port *b = a ? pl_eth_open(ctx, argv[2], &conf) : NULL;
	unsigned long long moved = 0;
	int ret = 1;

	if (b && !pl_eth_start(a) && !pl_eth_start(b)) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		while (!stop && time(NULL) < end)	/* a busy loop: no system call inside */
			moved += forward(a, b) + forward(b, a);
		printf("forwarded %llu frames\n", moved);
		ret = 0;
	}
	pl_eth_close(b);
	pl_eth_close(a);
	pl_mempool_free(pool);
	pl_iommu_close(ctx);
	return ret;
}
