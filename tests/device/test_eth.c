/* The e1000 driver through the Ethernet interface: frames between two Pollen ports on one hub. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <pollen/eth.h>
#include <pollen/log.h>
#include <pollen/mempool.h>
#include <pollen/pkt.h>

#include "eth_pair.h"
#include "testbed.h"

/*
 * 2000 frames of every size from 60 to 1514 bytes, in bursts the receiver drains before
 * the next (a rate the emulation sustains): all arrive, in order, byte for byte, and both
 * ports' counters say what was sent and received.
 */
static void frames_arrive_intact(const char *from, const char *to)
{
	struct pair pr = { 0 };
	uint64_t bytes = 0;
	const unsigned total = 2000, burst = 32;

	open_pair(&pr, from, to, 1024, 256, 256);
	for (uint32_t seq = 0; seq < total; seq += burst) {
		unsigned n = total - seq < burst ? total - seq : burst;

		send_frames(&pr, seq, n);
		/* The e1000 holds frames for about 1 s after its RCTL write: wait that out. */
		unsigned got = recv_frames(&pr, seq, n, 3000);
		if (got != n) {
			struct pl_eth_stats st;
			pl_eth_stats(pr.rx, &st);
			cr_assert_fail("frames %u to %u: %u arrived; receiver: device rx %llu missed %llu "
				       "no_desc %llu errors %llu, driver rx %llu desc errors %llu",
				       seq, seq + n - 1, got, (unsigned long long)st.rx_packets,
				       (unsigned long long)st.rx_missed,
				       (unsigned long long)st.rx_no_desc,
				       (unsigned long long)st.rx_errors,
				       (unsigned long long)st.sw_rx_packets,
				       (unsigned long long)st.rx_desc_errors);
		}
		for (unsigned i = 0; i < n; i++)
			bytes += frame_len(seq + i);
	}
	struct pl_eth_stats tx, rx;
	cr_assert_eq(pl_eth_stats(pr.tx, &tx), 0);
	cr_assert_eq(pl_eth_stats(pr.rx, &rx), 0);
	cr_expect_eq(tx.tx_packets, total, "the sender's device counted %llu sent",
		     (unsigned long long)tx.tx_packets);
	cr_expect_eq(tx.sw_tx_packets, total);
	cr_expect_eq(rx.rx_packets, total, "the receiver's device counted %llu received",
		     (unsigned long long)rx.rx_packets);
	cr_expect_eq(rx.sw_rx_packets, total);
	/* Octets with the CRC (QEMU 7.2 leaves it out of the sender's count). */
	cr_expect_eq(rx.rx_bytes, bytes + 4ull * total, "rx octets %llu, want %llu",
		     (unsigned long long)rx.rx_bytes, (unsigned long long)(bytes + 4ull * total));
	cr_expect(tx.tx_bytes == bytes || tx.tx_bytes == bytes + 4ull * total, "tx octets %llu",
		  (unsigned long long)tx.tx_bytes);
	cr_expect_eq(rx.rx_errors + rx.rx_missed + rx.rx_desc_errors + rx.rx_nombuf, 0);
	cr_expect_eq(tx.tx_errors, 0);
	/* Counters read again start from there: nothing counted twice. */
	cr_assert_eq(pl_eth_stats(pr.rx, &rx), 0);
	cr_expect_eq(rx.rx_packets, total);
	pl_eth_stats_reset(pr.rx);
	cr_assert_eq(pl_eth_stats(pr.rx, &rx), 0);
	cr_expect_eq(rx.rx_packets + rx.sw_rx_packets, 0);
	close_pair(&pr);
}

TESTBED_TEST(eth, e1000_to_e1000e_frames_arrive_intact, "e1000")
{
	frames_arrive_intact("e1000", "e1000e");
}

TESTBED_TEST(eth, e1000e_to_e1000_frames_arrive_intact, "e1000")
{
	frames_arrive_intact("e1000e", "e1000");
}

/*
 * A receiver that takes nothing while 300 frames arrive at its 64-slot ring, then a pool
 * that runs dry while the app holds what it received: nothing crashes, what the device
 * and the driver could not take is counted, traffic flows again once buffers come back,
 * and every buffer is in the pool once the ports close.
 */
/*
 * A pool made before any port, on a context no device has given an IOMMU yet (AUTO,
 * where the first device picks the back end; a VFIO container with no group): the first
 * port's open maps it at the IOVAs it was promised, and frames through it arrive intact.
 */
static void a_pool_before_its_ports(void)
{
	struct pair pr = { 0 };

	pr.pool = pl_pkt_pool_create(tb.ctx, "before-ports", 512, 0, 32);
	cr_assert_not_null(pr.pool, "a pool before any device: %s", strerror(errno));
	cr_expect_eq(pl_iommu_backend(tb.ctx), tb.backend, "the pool settled the back end");
	open_pair(&pr, "e1000e", "e1000", 0, 128, 64);
	for (uint32_t seq = 0; seq < 256; seq += 32) {
		send_frames(&pr, seq, 32);
		cr_assert_eq(recv_frames(&pr, seq, 32, 3000), 32, "frames %u to %u", seq, seq + 31);
	}
	close_pair(&pr);
}

TESTBED_TEST_ON(PL_IOMMU_AUTO, eth, a_pool_made_before_any_port_on_auto, TESTBED_CONTEXT)
{
	a_pool_before_its_ports();
}

TESTBED_TEST_ON(PL_IOMMU_VFIO, eth, a_pool_made_before_any_port_on_a_container, TESTBED_CONTEXT)
{
	a_pool_before_its_ports();
}

TESTBED_TEST(eth, a_flood_and_a_dry_pool_lose_no_buffer, "e1000")
{
	struct pair pr = { 0 };
	/* The two RX rings (64 and 128), a burst of spares, and 16 more. */
	open_pair(&pr, "e1000e", "e1000", 64 + 128 + 64 + 16, 128, 64);
	unsigned sent = 0;

	for (uint32_t seq = 0; seq < 300;) {
		struct pl_pkt *pkts[16];
		if (pl_pkt_alloc_bulk(pr.pool, pkts, 16)) {
			pl_eth_tx_reclaim(pr.tx, 0);
			continue;
		}
		for (unsigned i = 0; i < 16; i++)
			fill_frame(pl_pkt_append(pkts[i], 60), 60, &pr, seq + i);
		uint16_t took = pl_eth_tx_burst(pr.tx, 0, pkts, 16);
		pl_pkt_free_bulk(pkts + took, 16u - took);
		sent += took;
		seq += 16;
	}
	while (pl_eth_tx_reclaim(pr.tx, 0))
		;
	/* Take frames and keep them: the pool runs dry with frames still in the ring. */
	struct pl_pkt *held[320];
	unsigned nheld = 0;
	for (uint64_t end = now_ms() + 1500; now_ms() < end && nheld + 64 <= 320;)
		nheld += pl_eth_rx_burst(pr.rx, 0, held + nheld, 64);
	struct pl_eth_stats rx;
	cr_assert_eq(pl_eth_stats(pr.rx, &rx), 0);
	cr_expect_gt(nheld, 0, "nothing arrived");
	cr_expect_lt(nheld, 127, "took %u frames with 80 spare buffers", nheld);
	cr_expect_gt(rx.rx_nombuf, 0, "the dry pool was not counted");
	cr_expect_gt(rx.rx_missed + rx.rx_no_desc, 0, "the flood's overflow was not counted");
	/* Buffers back: the rest of the flood drains. */
	pl_pkt_free_bulk(held, nheld);
	unsigned got = nheld;
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];
	for (uint64_t end = now_ms() + 1500; now_ms() < end;) {
		uint16_t nb = pl_eth_rx_burst(pr.rx, 0, pkts, PL_ETH_MAX_BURST);
		got += nb;
		pl_pkt_free_bulk(pkts, nb);
	}
	cr_expect_leq(got, sent);
	cr_expect_geq(got, 127, "a full ring's worth came out: %u", got);
	cr_assert_eq(pl_eth_stats(pr.rx, &rx), 0);
	cr_expect_eq(rx.sw_rx_packets, got);
	cr_log_info("flood: %u sent, %u received; device missed %llu, no descriptors %llu, "
		    "driver nombuf %llu", sent, got, (unsigned long long)rx.rx_missed,
		    (unsigned long long)rx.rx_no_desc, (unsigned long long)rx.rx_nombuf);
	/* Traffic resumes: the next frames all arrive intact. */
	uint32_t seq0 = 1000000;
	send_frames(&pr, seq0, 8);
	cr_expect_eq(recv_frames(&pr, seq0, 8, 3000), 8, "traffic did not resume");
	close_pair(&pr);
}

/*
 * A burst of 64 into an 8-slot TX ring takes what fits and leaves the rest to the caller;
 * empty and oversized packets are taken and counted as errors, not sent.
 */
TESTBED_TEST(eth, a_burst_larger_than_the_ring, "e1000")
{
	struct pair pr = { 0 };
	struct pl_pkt *pkts[64];

	pr.pool = make_pool(512);
	pr.tx = open_port("e1000", pr.pool, 64, 8, false);
	pr.rx = open_port("e1000e", pr.pool, 256, 64, false);
	pl_eth_mac(pr.tx, pr.tx_mac);
	pl_eth_mac(pr.rx, pr.rx_mac);
	cr_assert_eq(pl_pkt_alloc_bulk(pr.pool, pkts, 64), 0);
	for (unsigned i = 0; i < 64; i++)
		fill_frame(pl_pkt_append(pkts[i], frame_len(i)), frame_len(i), &pr, i);
	uint16_t took = pl_eth_tx_burst(pr.tx, 0, pkts, 64);
	cr_expect_leq(took, 7, "an 8-slot ring took %u (one slot always stays empty)", took);
	cr_expect_gt(took, 0);
	unsigned sent = took;
	for (uint64_t end = now_ms() + 2000; sent < 64 && now_ms() < end;)
		sent += pl_eth_tx_burst(pr.tx, 0, pkts + sent, (uint16_t)(64 - sent));
	cr_expect_eq(sent, 64, "the rest went out as the ring emptied");

	struct pl_pkt *bad[2];
	cr_assert_eq(pl_pkt_alloc_bulk(pr.pool, bad, 2), 0);
	bad[1]->len = 1600;	/* longer than a frame: refused */
	cr_expect_eq(pl_eth_tx_burst(pr.tx, 0, bad, 2), 2);
	struct pl_eth_stats st;
	cr_assert_eq(pl_eth_stats(pr.tx, &st), 0);
	cr_expect_eq(st.tx_errors, 2);
	cr_expect_eq(recv_frames(&pr, 0, 64, 3000), 64);
	close_pair(&pr);
}

/* Promiscuous off: a frame for another MAC is filtered out, one for the port arrives. */
TESTBED_TEST(eth, filters_take_only_frames_for_the_port, "e1000")
{
	struct pair pr = { 0 };

	open_pair(&pr, "e1000", "e1000e", 512, 64, 64);
	uint8_t mac[6];
	memcpy(mac, pr.rx_mac, 6);
	pr.rx_mac[5] ^= 0x40;	/* frames for a MAC the receiver does not have */
	send_frames(&pr, 0, 8);
	cr_expect_eq(recv_frames(&pr, 0, 8, 1500), 0, "frames for another MAC came through");
	cr_assert_eq(pl_eth_set_promisc(pr.rx, true), 0);
	send_frames(&pr, 8, 8);
	cr_expect_eq(recv_frames(&pr, 8, 8, 3000), 8, "promiscuous mode takes them");
	memcpy(pr.rx_mac, mac, 6);
	close_pair(&pr);
}

/* pl_eth_open(@addr) fails with @err, having logged @said (when not NULL). */
static void refused(const struct pl_eth_conf *conf, const char *addr, int err, const char *said)
{
	errno = 0;
	cr_expect_null(pl_eth_open(tb.ctx, addr, conf), "%s opened", addr);
	cr_expect_eq(errno, err, "%s: errno %d", addr, errno);
	if (said)
		cr_expect(strstr(testbed_last_log(), said), "%s: logged: %s", addr,
			  testbed_last_log());
}

/* The NVMe and an empty slot are not NICs, and a NIC has only its queues: a clear error,
 * nothing held. */
TESTBED_TEST(eth, the_nvme_and_an_empty_slot_are_refused, "e1000")
{
	struct pl_mempool *pool = make_pool(256);
	struct pl_eth_conf conf = { .pool = pool };

	testbed_capture_log();
	refused(&conf, testbed_dev("nvme"), ENODEV, "is not a NIC Pollen drives");
	refused(&conf, "0000:00:1e.0", ENODEV, NULL);
	refused(&conf, "00:03", EINVAL, NULL);
	conf.rx_desc = 100;
	refused(&conf, testbed_dev("e1000"), EINVAL, "power of two");
	conf.rx_desc = 0;
	conf.rx_queues = 2;
	refused(&conf, testbed_dev("e1000"), EINVAL, "the 8254x has 1 of each");
	conf.rx_queues = 3;
	refused(&conf, testbed_dev("e1000e"), EINVAL, "the 82574L has 2 of each");
	/* The device was let go: it opens now. */
	conf.rx_queues = 0;
	struct pl_eth_port *p = pl_eth_open(tb.ctx, testbed_dev("e1000"), &conf);
	cr_expect_not_null(p);
	pl_eth_close(p);
	pl_mempool_free(pool);
}
