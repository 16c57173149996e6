/*
 * Link changes from QEMU's monitor (set_link on a port's netdev, tests/vm/run --monitor):
 * the driver reports down and up, a port whose link is down refuses to send and counts it,
 * no buffer is lost across the change, and traffic resumes once the link is back.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pollen/eth.h>

#include "eth_pair.h"
#include "testbed.h"

/* The test bed's netdev for each NIC (tests/vm/run: hub 0 is p0, p1; hub 1 is p2, p3). */
static const char *netdev_of(const char *addr)
{
	static const char *const ids[] = { "p0", "p1", "p2", "p3" };
	unsigned slot = (unsigned)strtoul(addr + 8, NULL, 16);	/* 0000:00:SS.0 */

	cr_assert(slot >= 3 && slot <= 6, "%s is not one of the bed's NICs", addr);
	return ids[slot - 3];
}

static void set_link(struct pl_eth_port *port, bool up)
{
	char out[512];
	int ret = testbed_monitor(out, sizeof(out), "set_link %s %s", netdev_of(pl_eth_addr(port)),
				  up ? "on" : "off");

	cr_assert_eq(ret, 0, "the monitor did not answer (%d): is this boot --monitor?", ret);
}

/* Waits up to 5 s for the driver to see the link @up; the ms it took, or fails. */
static unsigned wait_link(struct pl_eth_port *port, bool up)
{
	uint64_t t0 = now_ms();
	struct pl_eth_link l;

	for (;;) {
		pl_eth_link(port, &l);
		if (l.up == up)
			return (unsigned)(now_ms() - t0);
		cr_assert_lt(now_ms() - t0, 5000, "%s: link still %s 5 s after set_link %s",
			     pl_eth_addr(port), l.up ? "up" : "down", up ? "on" : "off");
		usleep(10 * 1000);
	}
}

static void link_down_and_up(const char *from, const char *to, bool sender_side)
{
	struct pair pr = { 0 };

	open_pair(&pr, from, to, 512, 128, 64);
	send_frames(&pr, 0, 16);
	cr_assert_eq(recv_frames(&pr, 0, 16, 3000), 16, "no traffic before the link change");
	struct pl_eth_port *port = sender_side ? pr.tx : pr.rx;
	struct pl_eth_stats st0, st;
	cr_assert_eq(pl_eth_stats(port, &st0), 0);

	set_link(port, false);
	unsigned down_ms = wait_link(port, false);
	if (sender_side) {
		/* The sender refuses while down: the caller keeps its packets. */
		struct pl_pkt *pkts[8];
		cr_assert_eq(pl_pkt_alloc_bulk(pr.pool, pkts, 8), 0);
		for (unsigned i = 0; i < 8; i++)
			fill_frame(pl_pkt_append(pkts[i], 60), 60, &pr, 100 + i);
		cr_expect_eq(pl_eth_tx_burst(pr.tx, 0, pkts, 8), 0, "sent with the link down");
		pl_pkt_free_bulk(pkts, 8);
	} else {
		/* Frames sent to a port whose link is down do not arrive while it is down. */
		send_frames(&pr, 100, 8);
		cr_expect_eq(recv_frames(&pr, 100, 8, 500), 0);
	}
	set_link(port, true);
	unsigned up_ms = wait_link(port, true);
	if (!sender_side) {
		/* QEMU held them in its net queue: they come now, whole and in order, or not. */
		unsigned late = recv_frames(&pr, 100, 8, 1000);
		cr_expect(late == 0 || late == 8, "%u of the frames sent while down came late", late);
	}
	cr_assert_eq(pl_eth_stats(port, &st), 0);
	cr_expect_geq(st.link_changes - st0.link_changes, 2, "down and up not both counted");
	if (sender_side)
		cr_expect_eq(st.tx_link_down - st0.tx_link_down, 8);
	cr_log_info("%s: link down seen after %u ms, up after %u ms", pl_eth_addr(port), down_ms,
		    up_ms);
	/* Traffic resumes with no restart. */
	send_frames(&pr, 200, 32);
	cr_expect_eq(recv_frames(&pr, 200, 32, 3000), 32, "traffic did not resume");
	close_pair(&pr);	/* and fails if a buffer went missing */
}

TESTBED_TEST(eth_link, an_e1000_sender_stops_and_resumes, "e1000")
{
	link_down_and_up("e1000", "e1000e", true);
}

TESTBED_TEST(eth_link, an_e1000e_sender_stops_and_resumes, "e1000")
{
	link_down_and_up("e1000e", "e1000", true);
}

TESTBED_TEST(eth_link, an_e1000e_receiver_sees_its_link_go_and_come, "e1000")
{
	link_down_and_up("e1000", "e1000e", false);
}

TESTBED_TEST(eth_link, an_e1000_receiver_sees_its_link_go_and_come, "e1000")
{
	link_down_and_up("e1000e", "e1000", false);
}
