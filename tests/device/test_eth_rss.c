/*
 * The 82574L's two queues: RSS sends each IPv4 flow to the queue its Toeplitz hash
 * names (checked against the hash computed here from pl_eth_rss_key), queue 1 raises its
 * own interrupt, and TX queue 1 sends.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <pollen/eth.h>
#include <pollen/pkt.h>

#include "eth_pair.h"
#include "testbed.h"

/* The Toeplitz hash of @len input bytes under @key (Microsoft's RSS specification). */
static uint32_t toeplitz(const uint8_t *key, const uint8_t *in, unsigned len)
{
	uint32_t hash = 0;
	uint32_t v = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 |
		     key[3];

	for (unsigned i = 0; i < len; i++)
		for (int b = 7; b >= 0; b--) {
			if (in[i] >> b & 1)
				hash ^= v;
			/* the window slides one key bit on: bit b of byte i + 4 */
			v = v << 1 | (key[i + 4] >> b & 1);
		}
	return hash;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t ip_csum(const uint8_t *ip)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Frame @seq: flow @seq / 4 as IPv4 UDP, or TCP for odd flows (ports hashed too). */
#define FLOWS 64
#define PER_FLOW 4
#define TOTAL (FLOWS * PER_FLOW)
#define PAYLOAD 20		/* a UDP frame of 62 bytes: no padding to the minimum */

/* Where build() put the sequence number: after the UDP or TCP header. */
static uint32_t seq_of(const uint8_t *f)
{
	uint32_t s;

	memcpy(&s, f + 14 + 20 + (f[14 + 9] == 6 ? 20 : 8), 4);
	return s;
}

static uint32_t flow_src(uint32_t flow)
{
	return 0x0a010000u + flow * 37;	/* 10.1.x.y */
}

static bool flow_tcp(uint32_t flow)
{
	return flow & 1;
}

static unsigned build(uint8_t *f, const struct pair *pr, uint32_t seq)
{
	uint32_t flow = seq / PER_FLOW;
	bool tcp = flow_tcp(flow);
	unsigned l4 = tcp ? 20 : 8, len = 14 + 20 + l4 + PAYLOAD;

	memset(f, 0, len);
	memcpy(f, pr->rx_mac, 6);
	memcpy(f + 6, pr->tx_mac, 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(len - 14));
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = tcp ? 6 : 17;
	put32(ip + 12, flow_src(flow));
	put32(ip + 16, 0x0a020001u);
	put16(ip + 10, ip_csum(ip));
	uint8_t *l = ip + 20;
	put16(l, (uint16_t)(1000 + flow));
	put16(l + 2, 80);
	if (tcp)
		l[12] = 5 << 4;	/* data offset: 20 bytes */
	else
		put16(l + 4, (uint16_t)(l4 + PAYLOAD));
	memcpy(l + l4, &seq, 4);
	for (unsigned i = 4; i < PAYLOAD; i++)
		l[l4 + i] = (uint8_t)(seq + i);
	return len;
}

/* The hash RSS should compute: over addresses (and ports for TCP). */
static uint32_t expected_hash(uint32_t flow)
{
	uint8_t in[12];

	put32(in, flow_src(flow));
	put32(in + 4, 0x0a020001u);
	put16(in + 8, (uint16_t)(1000 + flow));
	put16(in + 10, 80);
	return toeplitz(pl_eth_rss_key(), in, flow_tcp(flow) ? 12 : 8);
}

/* The queue it picks: the hash modulo 2. */
static unsigned expected_queue(uint32_t flow)
{
	return expected_hash(flow) % 2;
}

static void open_rss_pair(struct pair *pr, bool interrupts)
{
	pr->pool = make_pool(1024);
	pr->tx = open_port("e1000", pr->pool, 64, 256, false);
	struct pl_eth_conf conf = { .pool = pr->pool, .rx_queues = 2, .tx_queues = 2,
				    .rx_desc = 256, .tx_desc = 64, .interrupts = interrupts };
	pr->rx = pl_eth_open(tb.ctx, testbed_dev("e1000e"), &conf);
	cr_assert_not_null(pr->rx, "an e1000e with two queues: %s", strerror(errno));
	cr_assert_eq(pl_eth_rx_queues(pr->rx), 2);
	cr_assert_eq(pl_eth_tx_queues(pr->rx), 2);
	cr_assert_eq(pl_eth_start(pr->rx), 0);
	pl_eth_mac(pr->tx, pr->tx_mac);
	pl_eth_mac(pr->rx, pr->rx_mac);
	cr_assert_eq(pl_eth_link_wait(pr->tx, 5000), 0);
	cr_assert_eq(pl_eth_link_wait(pr->rx, 5000), 0);
}

/* The hash as written here gives the specification's own example. */
TESTBED_TEST(eth_rss, the_tests_toeplitz_gives_the_specifications_example, "e1000")
{
	/* 66.9.149.187:2794 -> 161.142.100.80:1766 */
	const uint8_t in[12] = { 66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6 };

	cr_expect_eq(toeplitz(pl_eth_rss_key(), in, 8), 0x323e8fc2u);
	cr_expect_eq(toeplitz(pl_eth_rss_key(), in, 12), 0x51ccc178u);
}

/*
 * 64 flows, UDP and TCP, 4 frames each, to an e1000e with two RX queues: every frame
 * arrives intact on the queue its flow's hash names, with that hash, both queues carry
 * some, and a frame that is not IP lands on queue 0.
 */
TESTBED_TEST(eth_rss, each_flow_lands_on_the_queue_its_hash_names, "e1000")
{
	struct pair pr = { 0 };
	unsigned want[2] = { 0 }, got_q[2] = { 0 }, got = 0;
	int queue_of[TOTAL];

	for (uint32_t f = 0; f < FLOWS; f++)
		want[expected_queue(f)] += PER_FLOW;
	cr_assert(want[0] && want[1], "the flows chosen all hash to one queue");
	memset(queue_of, -1, sizeof(queue_of));
	open_rss_pair(&pr, false);

	for (uint32_t seq = 0; seq < TOTAL; seq += 32) {
		struct pl_pkt *pkts[32];

		cr_assert_eq(pl_pkt_alloc_bulk(pr.pool, pkts, 32), 0);
		for (unsigned i = 0; i < 32; i++) {
			uint8_t f[128];
			unsigned len = build(f, &pr, seq + i);
			memcpy(pl_pkt_append(pkts[i], len), f, len);
		}
		unsigned off = 0;
		for (uint64_t end = now_ms() + 2000; off < 32 && now_ms() < end;)
			off += pl_eth_tx_burst(pr.tx, 0, pkts + off, (uint16_t)(32 - off));
		cr_assert_eq(off, 32);
		/* Drained as it goes: the rings are 256, nothing is missed. */
		for (uint64_t end = now_ms() + 3000; got < seq + 32 && now_ms() < end;) {
			for (unsigned q = 0; q < 2; q++) {
				struct pl_pkt *in[PL_ETH_MAX_BURST];
				uint16_t nb = pl_eth_rx_burst(pr.rx, q, in, PL_ETH_MAX_BURST);

				for (unsigned k = 0; k < nb; k++) {
					uint8_t exp[128];
					uint32_t s = seq_of(pl_pkt_data(in[k]));
					cr_assert_lt(s, TOTAL, "a frame with sequence %u", s);
					unsigned len = build(exp, &pr, s);
					cr_expect(in[k]->len == len &&
						  !memcmp(pl_pkt_data(in[k]), exp, len),
						  "frame %u differs from what was sent", s);
					/* The hash the device computed, handed on as DPDK's mbuf has it. */
					cr_expect(in[k]->flags & PL_PKT_RX_RSS_HASH &&
						  in[k]->hash == expected_hash(s / PER_FLOW),
						  "frame %u: hash 0x%08x (flags 0x%x), want 0x%08x", s,
						  in[k]->hash, in[k]->flags, expected_hash(s / PER_FLOW));
					cr_expect_eq(queue_of[s], -1, "frame %u came twice", s);
					queue_of[s] = (int)q;
					got_q[q]++;
					got++;
				}
				pl_pkt_free_bulk(in, nb);
			}
			pl_eth_tx_reclaim(pr.tx, 0);
		}
	}
	cr_assert_eq(got, TOTAL, "%u of %u frames arrived", got, TOTAL);
	for (uint32_t s = 0; s < TOTAL; s++)
		cr_expect_eq(queue_of[s], (int)expected_queue(s / PER_FLOW),
			     "frame %u (flow %u, %s) on queue %d, its hash names %u", s,
			     s / PER_FLOW, flow_tcp(s / PER_FLOW) ? "TCP" : "UDP", queue_of[s],
			     expected_queue(s / PER_FLOW));
	cr_expect(got_q[0] == want[0] && got_q[1] == want[1],
		  "queues got %u and %u, want %u and %u", got_q[0], got_q[1], want[0], want[1]);

	/* Not IP: no hash, queue 0. */
	send_frames(&pr, 7, 1);
	struct pl_pkt *in[4];
	uint16_t n0 = 0, n1 = 0;
	for (uint64_t end = now_ms() + 2000; !n0 && !n1 && now_ms() < end;) {
		n0 = pl_eth_rx_burst(pr.rx, 0, in, 4);
		pl_pkt_free_bulk(in, n0);
		n1 = pl_eth_rx_burst(pr.rx, 1, in, 4);
		pl_pkt_free_bulk(in, n1);
	}
	cr_expect(n0 == 1 && n1 == 0, "a non-IP frame came to queue 0 %u times, queue 1 %u", n0,
		  n1);

	struct pl_eth_stats st;
	cr_assert_eq(pl_eth_stats(pr.rx, &st), 0);
	cr_expect_eq(st.sw_rx_packets, TOTAL + 1, "the queues' counts sum to %llu",
		     (unsigned long long)st.sw_rx_packets);
	cr_expect_eq(st.rx_desc_errors + st.rx_missed, 0);
	close_pair(&pr);
}

static bool fired(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t n;

	return poll(&p, 1, ms) == 1 && read(fd, &n, sizeof(n)) == sizeof(n) && n > 0;
}

/*
 * Queue 1 has its own MSI-X vector: a frame hashed there fires queue 1's eventfd and not
 * queue 0's. Then the e1000e sends from TX queue 1, and the e1000 receives it intact.
 */
TESTBED_TEST(eth_rss, queue_1_has_its_interrupt_and_tx_queue_1_sends, "e1000")
{
	struct pair pr = { 0 };
	uint32_t seq = 0;

	while (expected_queue(seq / PER_FLOW) != 1)
		seq += PER_FLOW;
	open_rss_pair(&pr, true);
	int fd0 = pl_eth_rx_irq_fd(pr.rx, 0), fd1 = pl_eth_rx_irq_fd(pr.rx, 1);
	cr_assert(fd0 >= 0 && fd1 >= 0 && fd0 != fd1, "RX eventfds %d and %d", fd0, fd1);
	fired(fd0, 0);
	fired(fd1, 0);
	cr_assert_eq(pl_eth_rx_intr_enable(pr.rx, 0), 0);
	cr_assert_eq(pl_eth_rx_intr_enable(pr.rx, 1), 0);

	struct pl_pkt *p = pl_pkt_alloc(pr.pool);
	uint8_t f[128];
	unsigned len = build(f, &pr, seq);
	cr_assert_not_null(p);
	memcpy(pl_pkt_append(p, len), f, len);
	cr_assert_eq(pl_eth_tx_burst(pr.tx, 0, &p, 1), 1);
	cr_expect(fired(fd1, 3000), "the frame for queue 1 raised no interrupt there");
	cr_expect(!fired(fd0, 0), "and queue 0's fired too");
	pl_eth_rx_intr_disable(pr.rx, 0);
	pl_eth_rx_intr_disable(pr.rx, 1);
	struct pl_pkt *in[4];
	uint16_t nb = 0;
	for (uint64_t end = now_ms() + 1000; !nb && now_ms() < end;)
		nb = pl_eth_rx_burst(pr.rx, 1, in, 4);
	cr_expect_eq(nb, 1, "queue 1 holds %u frames", nb);
	pl_pkt_free_bulk(in, nb);

	/* The other way, from TX queue 1: the pair's roles swapped for the frame helpers. */
	struct pair back = { .pool = pr.pool, .tx = pr.rx, .rx = pr.tx };
	memcpy(back.tx_mac, pr.rx_mac, 6);
	memcpy(back.rx_mac, pr.tx_mac, 6);
	struct pl_pkt *out[8];
	cr_assert_eq(pl_pkt_alloc_bulk(pr.pool, out, 8), 0);
	for (unsigned i = 0; i < 8; i++) {
		unsigned l = frame_len(100 + i);
		fill_frame(pl_pkt_append(out[i], l), l, &back, 100 + i);
	}
	cr_assert_eq(pl_eth_tx_burst(pr.rx, 1, out, 8), 8);
	/* The e1000 holds frames for about 1 s after its RCTL write. */
	cr_expect_eq(recv_frames(&back, 100, 8, 3000), 8, "frames from TX queue 1 lost");
	struct pl_eth_stats st;
	cr_assert_eq(pl_eth_stats(pr.rx, &st), 0);
	cr_expect_eq(st.sw_tx_packets, 8);
	pl_eth_tx_reclaim(pr.rx, 1);
	close_pair(&pr);
}
