/* Two Pollen ports on one hub of the test bed, and frames that name themselves between them. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <pollen/log.h>

#include "eth_pair.h"
#include "testbed.h"

uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/*
 * The pool is made on the case's context, its device open or not (a context with no
 * IOMMU yet maps the pool when a device comes); the fixture's device is let go, as the
 * ports open it again.
 */
struct pl_mempool *make_pool(unsigned n)
{
	struct pl_mempool *pool = pl_pkt_pool_create(tb.ctx, "test-eth", n, 0, 32);

	cr_assert_not_null(pool, "pl_pkt_pool_create(%u): %s", n, strerror(errno));
	pl_vfio_close(tb.dev);
	tb.dev = NULL;
	return pool;
}

struct pl_eth_port *open_port(const char *family, struct pl_mempool *pool, unsigned rx_desc,
			      unsigned tx_desc, bool interrupts)
{
	struct pl_eth_conf conf = { .pool = pool, .rx_desc = rx_desc, .tx_desc = tx_desc,
				    .interrupts = interrupts };
	struct pl_eth_port *p = pl_eth_open(tb.ctx, testbed_dev(family), &conf);

	cr_assert_not_null(p, "pl_eth_open(%s): %s", family, strerror(errno));
	cr_assert_str_eq(pl_eth_driver(p), family);
	cr_assert_eq(pl_eth_start(p), 0);
	return p;
}

void open_pair(struct pair *pr, const char *from, const char *to, unsigned pool_n, unsigned rx_desc,
	       unsigned tx_desc)
{
	if (!pr->pool)
		pr->pool = make_pool(pool_n);
	pr->tx = open_port(from, pr->pool, 64, tx_desc, false);
	pr->rx = open_port(to, pr->pool, rx_desc, 64, pr->rx_interrupts);
	pl_eth_mac(pr->tx, pr->tx_mac);
	pl_eth_mac(pr->rx, pr->rx_mac);
	cr_assert_eq(pl_eth_link_wait(pr->tx, 5000), 0, "the sender's link stays down");
	cr_assert_eq(pl_eth_link_wait(pr->rx, 5000), 0, "the receiver's link stays down");
	struct pl_eth_link l;
	pl_eth_link(pr->rx, &l);
	cr_expect(l.up && l.speed_mbps == 1000 && l.full_duplex, "link %d %u Mbit/s fd %d", l.up,
		  l.speed_mbps, l.full_duplex);
}

void close_pair(struct pair *pr)
{
	struct pl_mempool_stats st;

	pl_eth_close(pr->tx);
	pl_eth_close(pr->rx);
	pl_mempool_stats(pr->pool, &st);
	cr_expect_eq(st.in_use, 0, "%u packet buffers leaked (of %u)", st.in_use, st.size);
	pl_mempool_free(pr->pool);
}

/* Frame @seq of @len bytes: our MACs, the test ethertype, then bytes that name it. */
void fill_frame(uint8_t *f, unsigned len, const struct pair *pr, uint32_t seq)
{
	cr_assert_not_null(f, "no room for a %u-byte frame", len);
	memcpy(f, pr->rx_mac, 6);
	memcpy(f + 6, pr->tx_mac, 6);
	f[12] = ETHERTYPE_TEST >> 8;
	f[13] = ETHERTYPE_TEST & 0xff;
	memcpy(f + 14, &seq, 4);
	for (unsigned i = 18; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i);
}

unsigned frame_len(uint32_t seq)
{
	return 60 + (seq * 37) % (1514 - 60 + 1);	/* every size from 60 to 1514 over time */
}

/* Sends frames [@seq, @seq + @n), retrying what the ring could not take; fails on a stall. */
void send_frames(struct pair *pr, uint32_t seq, unsigned n)
{
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];

	cr_assert_leq(n, PL_ETH_MAX_BURST);
	cr_assert_eq(pl_pkt_alloc_bulk(pr->pool, pkts, n), 0, "pool empty");
	for (unsigned i = 0; i < n; i++) {
		unsigned len = frame_len(seq + i);

		fill_frame(pl_pkt_append(pkts[i], len), len, pr, seq + i);
	}
	unsigned off = 0;
	for (uint64_t end = now_ms() + 2000; off < n && now_ms() < end;)
		off += pl_eth_tx_burst(pr->tx, 0, pkts + off, (uint16_t)(n - off));
	cr_assert_eq(off, n, "the TX ring took %u of %u frames in 2 s", off, n);
}

/*
 * Receives until @n frames came or @ms passed, checking each byte for byte against the
 * frame its sequence number names; returns how many came.
 */
unsigned recv_frames(struct pair *pr, uint32_t seq, unsigned n, unsigned ms)
{
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];
	uint8_t want[1514];
	unsigned got = 0;

	for (uint64_t end = now_ms() + ms; got < n && now_ms() < end;) {
		uint16_t nb = pl_eth_rx_burst(pr->rx, 0, pkts, PL_ETH_MAX_BURST);

		for (unsigned k = 0; k < nb; k++) {
			const uint8_t *f = pl_pkt_data(pkts[k]);
			uint32_t s;

			memcpy(&s, f + 14, 4);
			cr_expect_eq(s, seq + got, "frame %u arrived as frame %u (lost or reordered)",
				     seq + got, s);
			cr_expect_eq(pkts[k]->len, frame_len(s), "frame %u: %u bytes, sent %u", s,
				     pkts[k]->len, frame_len(s));
			fill_frame(want, frame_len(s), pr, s);
			cr_expect(!memcmp(f, want, frame_len(s)), "frame %u differs from what was sent",
				  s);
			got++;
		}
		pl_pkt_free_bulk(pkts, nb);
		pl_eth_tx_reclaim(pr->tx, 0);
	}
	return got;
}

