/* The e1000 driver's interrupts: a frame wakes a sleeping receiver through its eventfd. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <pollen/eth.h>

#include "eth_pair.h"
#include "testbed.h"

/* Is @fd readable within @ms? Reads the eventfd's count when it is. */
static bool fired(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return false;
	uint64_t n;
	return read(fd, &n, sizeof(n)) == sizeof(n) && n > 0;
}

/*
 * A receiver with its RX interrupt armed and no traffic stays quiet; one frame then
 * fires its eventfd (INTx on the 82540EM, which the disable call unmasks again; the RX
 * queue's MSI-X vector on the 82574L), and the frame is there to take. Twice, so that the
 * unmask and re-arm are shown to work.
 */
static void a_frame_wakes_the_receiver(const char *from, const char *to)
{
	struct pair pr = { .rx_interrupts = true };

	open_pair(&pr, from, to, 512, 64, 64);
	int fd = pl_eth_rx_irq_fd(pr.rx, 0);
	cr_assert_geq(fd, 0, "no RX eventfd");
	fired(fd, 0);	/* whatever start-up left */
	for (uint32_t round = 0; round < 2; round++) {
		cr_assert_eq(pl_eth_rx_intr_enable(pr.rx, 0), 0, "frames waiting before any was sent");
		cr_expect(!fired(fd, 300), "round %u: an interrupt with no frame sent", round);
		send_frames(&pr, round, 1);
		cr_expect(fired(fd, 3000), "round %u: the frame raised no interrupt", round);
		pl_eth_rx_intr_disable(pr.rx, 0);
		cr_expect_eq(recv_frames(&pr, round, 1, 1000), 1, "round %u: no frame to take", round);
	}
	/* Armed with a frame already waiting: enable says so instead of letting it sleep. */
	send_frames(&pr, 2, 1);
	usleep(200 * 1000);
	cr_expect_eq(pl_eth_rx_intr_enable(pr.rx, 0), 1);
	pl_eth_rx_intr_disable(pr.rx, 0);
	cr_expect_eq(recv_frames(&pr, 2, 1, 1000), 1);
	close_pair(&pr);
}

TESTBED_TEST(eth_irq, intx_wakes_an_e1000_receiver, "e1000")
{
	a_frame_wakes_the_receiver("e1000e", "e1000");
}

TESTBED_TEST(eth_irq, msix_wakes_an_e1000e_receiver, "e1000")
{
	a_frame_wakes_the_receiver("e1000", "e1000e");
}

/* Without conf.interrupts there is nothing to sleep on, and arming says so. */
TESTBED_TEST(eth_irq, no_interrupts_unless_asked, "e1000")
{
	struct pair pr = { 0 };

	open_pair(&pr, "e1000", "e1000e", 512, 64, 64);
	cr_expect_eq(pl_eth_rx_irq_fd(pr.rx, 0), -1);
	cr_expect_eq(pl_eth_rx_intr_enable(pr.rx, 0), -EINVAL);
	close_pair(&pr);
}
