/*
 * The e1000 driver against the host-side 82540EM/82574L model (tests/models/e1000_model.c):
 * RX refill and spares, bad descriptors, TX groups, reclaim and the 2 MiB split, with
 * the pool counted before and after so that no buffer is lost or handed out twice.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pollen/eth.h>
#include <pollen/log.h>
#include <pollen/pkt.h>

#include "e1000_hw.h"
#include "e1000_model.h"

static struct pl_iommu *ctx;
static struct e1000_model *m;
static struct pl_eth_port *port;
static struct pl_mempool *pool;

static void bed_up(void)
{
	pl_log_set_level(PL_LOG_WARN);
	ctx = model_bed_open();
}

static void bed_down(void)
{
	pl_eth_close(port);
	port = NULL;
	if (pool) {
		cr_expect_eq(model_pool_in_use(pool), 0, "buffers lost");
		pl_mempool_free(pool);
	}
	pool = NULL;
	model_bed_close();
}

TestSuite(e1000_model, .init = bed_up, .fini = bed_down, .timeout = 60);

static struct model_dev *dev(void)
{
	return e1000_model_dev(m);
}

/* A port on a model, started; @conf's pool is made here when it has none. */
static void open_port(const struct e1000_model_conf *mc, struct pl_eth_conf conf)
{
	m = e1000_model_new(mc);
	if (!conf.pool)
		conf.pool = pool = model_pkt_pool(ctx, 2048);
	port = pl_eth_open(ctx, mc && mc->addr ? mc->addr : "0000:00:03.0", &conf);
	cr_assert_not_null(port, "open: %s", strerror(errno));
	cr_assert_eq(pl_eth_start(port), 0);
}

static void frame(uint8_t *f, size_t len, unsigned seq)
{
	static const uint8_t hdr[14] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 1,
					 0x88, 0xb5 };

	memcpy(f, hdr, sizeof(hdr));
	for (size_t i = sizeof(hdr); i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i);
}

static int rx(unsigned q, const void *data, size_t len, uint16_t wb_len, uint8_t status,
	      uint8_t errors)
{
	struct e1000_model_rxwb wb = { .length = wb_len, .status = status, .errors = errors };

	model_lock(dev());
	int ret = e1000_model_rx_raw(m, q, data, len, &wb);
	model_unlock(dev());
	return ret;
}

static int rx_frame(unsigned q, const void *data, size_t len)
{
	return rx(q, data, len, (uint16_t)len, E1000_RXD_STAT_EOP, 0);
}

static unsigned rx_room(unsigned q)
{
	model_lock(dev());
	unsigned n = e1000_model_rx_room(m, q);
	model_unlock(dev());
	return n;
}

static void stats(struct pl_eth_stats *s)
{
	cr_assert_eq(pl_eth_stats(port, s), 0);
}

/* ---- receive ---- */

static void frames_arrive_intact(bool e1000e)
{
	struct e1000_model_conf mc = { .e1000e = e1000e };
	uint8_t f[1514];
	unsigned seq = 0;

	open_port(&mc, (struct pl_eth_conf){ .rx_desc = 64 });
	for (size_t len = 60; len <= 1514; len += 58) {
		struct pl_pkt *pkts[PL_ETH_MAX_BURST];

		frame(f, len, seq);
		cr_assert_eq(rx_frame(0, f, len), 0, "%zu bytes", len);
		uint16_t n = pl_eth_rx_burst(port, 0, pkts, PL_ETH_MAX_BURST);
		cr_assert_eq(n, 1, "%zu bytes: %u frames", len, n);
		cr_expect_eq(pkts[0]->len, len);
		cr_expect_eq(memcmp(pl_pkt_data(pkts[0]), f, len), 0, "%zu bytes", len);
		cr_expect_leq(pkts[0]->len, pl_pkt_tailroom(pkts[0]) + pkts[0]->len);
		pl_pkt_free(pkts[0]);
		seq++;
	}
	struct pl_eth_stats s;
	stats(&s);
	cr_expect_eq(s.sw_rx_packets, seq);
	cr_expect_eq(s.rx_desc_errors, 0);
}

Test(e1000_model, frames_of_every_size_arrive_intact_82540)
{
	frames_arrive_intact(false);
}

Test(e1000_model, frames_of_every_size_arrive_intact_82574)
{
	frames_arrive_intact(true);
}

/*
 * The ring stays full: RDT moves once per free_thresh re-posted descriptors (16 for a
 * ring of 64), never more than that behind, and every slot keeps a buffer.
 */
Test(e1000_model, the_rx_ring_is_refilled_in_steps_and_keeps_its_buffers)
{
	uint8_t f[128];
	unsigned got = 0;

	open_port(NULL, (struct pl_eth_conf){ .rx_desc = 64 });
	cr_expect_eq(rx_room(0), 63, "all but one slot handed over at start");
	unsigned ring_bufs = model_pool_in_use(pool);
	for (unsigned i = 0; i < 1000; i++) {
		struct pl_pkt *pkts[PL_ETH_MAX_BURST];

		frame(f, sizeof(f), i);
		cr_assert_eq(rx_frame(0, f, sizeof(f)), 0, "frame %u: ring %u", i, rx_room(0));
		if (i % 5 == 4) {
			uint16_t n = pl_eth_rx_burst(port, 0, pkts, PL_ETH_MAX_BURST);

			for (uint16_t k = 0; k < n; k++)
				cr_assert_eq(pl_pkt_data(pkts[k])[14], (uint8_t)((got + k) * 31 + 14),
					     "frame %u in order", got + k);
			got += n;
			pl_pkt_free_bulk(pkts, n);
			cr_assert_geq(rx_room(0), 63 - 16 - 5, "RDT fell behind");
		}
	}
	cr_expect_eq(got, 1000);
	/* What the port holds: the ring, and no more than a burst of spares. */
	cr_expect_leq(model_pool_in_use(pool), ring_bufs + PL_ETH_MAX_BURST);
	cr_expect_geq(model_pool_in_use(pool), ring_bufs);
}

/* A pool run dry leaves frames in the ring, counts it, loses nothing, and then recovers. */
Test(e1000_model, a_dry_pool_holds_frames_back_and_loses_no_buffer)
{
	struct pl_pkt *held[2048], *pkts[PL_ETH_MAX_BURST];
	uint8_t f[64];
	unsigned nheld = 0, got = 0;

	pool = model_pkt_pool(ctx, 64 + 40);
	open_port(NULL, (struct pl_eth_conf){ .rx_desc = 64, .pool = pool });
	/* The app holds every buffer the port does not. */
	while (nheld < 2048 && (held[nheld] = pl_pkt_alloc(pool)))
		nheld++;
	for (unsigned i = 0; i < 40; i++) {
		frame(f, sizeof(f), i);
		cr_assert_eq(rx_frame(0, f, sizeof(f)), 0);
	}
	uint16_t n = pl_eth_rx_burst(port, 0, pkts, PL_ETH_MAX_BURST);
	struct pl_eth_stats s;
	stats(&s);
	cr_expect_gt(s.rx_nombuf, 0, "the dry pool is counted");
	got += n;
	pl_pkt_free_bulk(pkts, n);
	pl_pkt_free_bulk(held, nheld);
	while ((n = pl_eth_rx_burst(port, 0, pkts, PL_ETH_MAX_BURST))) {
		for (uint16_t k = 0; k < n; k++)
			cr_expect_eq(pl_pkt_data(pkts[k])[14], (uint8_t)((got + k) * 31 + 14),
				     "frame %u in order", got + k);
		got += n;
		pl_pkt_free_bulk(pkts, n);
	}
	cr_expect_eq(got, 40, "every frame came once the pool had buffers");
}

/*
 * What a device may write back: error bits, no length, a frame in several buffers
 * (no EOP), and a length past the buffer. Each is counted and its buffer recycled; the
 * good frames around them arrive as they were.
 */
Test(e1000_model, bad_descriptors_are_counted_and_recycled)
{
	static const struct {
		uint16_t len;
		uint8_t status, errors;
		bool good;
	} cases[] = {
		{ 100, E1000_RXD_STAT_EOP, 0, true },
		{ 100, E1000_RXD_STAT_EOP, E1000_RXD_ERR_CE, false },
		{ 100, E1000_RXD_STAT_EOP, E1000_RXD_ERR_RXE, false },
		{ 0, E1000_RXD_STAT_EOP, 0, false },
		{ 2048, 0, 0, false },			/* no EOP: the first piece */
		{ 2048, 0, 0, false },			/* ... and the next */
		{ 500, E1000_RXD_STAT_EOP, 0, false },	/* ... its last */
		{ 2049, E1000_RXD_STAT_EOP, 0, false },	/* past the 2048-byte buffer */
		{ 65535, E1000_RXD_STAT_EOP, 0, false },
		{ 1514, E1000_RXD_STAT_EOP, 0, true },
		{ 2048, E1000_RXD_STAT_EOP, 0, true },	/* exactly the buffer */
	};
	unsigned want_good = 0;
	uint8_t f[2048];

	open_port(NULL, (struct pl_eth_conf){ .rx_desc = 64 });
	unsigned before = model_pool_in_use(pool);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		frame(f, sizeof(f), (unsigned)i);
		cr_assert_eq(rx(0, f, sizeof(f), cases[i].len, cases[i].status, cases[i].errors), 0);
		want_good += cases[i].good;
	}
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];
	uint16_t n = pl_eth_rx_burst(port, 0, pkts, PL_ETH_MAX_BURST);
	cr_expect_eq(n, want_good);
	for (uint16_t k = 0; k < n; k++) {
		cr_expect_leq(pkts[k]->data_off + pkts[k]->len, pkts[k]->buf_len,
			      "a packet of %u bytes at %u runs past its %u-byte buffer",
			      pkts[k]->len, pkts[k]->data_off, pkts[k]->buf_len);
		cr_expect_neq(pkts[k]->len, 2049);
		cr_expect_neq(pkts[k]->len, 65535);
	}
	pl_pkt_free_bulk(pkts, n);
	struct pl_eth_stats s;
	stats(&s);
	cr_expect_eq(s.rx_desc_frame_errors, 3, "error bits and no length");
	cr_expect_eq(s.rx_desc_too_long, 3, "the frame without EOP, and two past the buffer");
	/* The ring's buffers, and at most a burst of spares: the rest is back in the pool. */
	cr_expect_leq(model_pool_in_use(pool), before + PL_ETH_MAX_BURST,
		      "every bad descriptor's buffer recycled");
}

/* ---- transmit ---- */

struct sent {
	unsigned n;
	size_t len[4096];
	uint8_t last[2048];
	unsigned bad;		/* frames whose bytes are not what was sent */
};

static void on_tx(void *arg, unsigned q, const uint8_t *f, size_t len)
{
	struct sent *s = arg;
	uint8_t want[2048];

	(void)q;
	if (s->n < 4096)
		s->len[s->n] = len;
	frame(want, len, s->n);
	if (len > sizeof(want) || memcmp(f, want, len))
		s->bad++;
	memcpy(s->last, f, len < sizeof(s->last) ? len : sizeof(s->last));
	s->n++;
}

static struct pl_pkt *packet(size_t len, unsigned seq)
{
	struct pl_pkt *p = pl_pkt_alloc(pool);

	cr_assert_not_null(p);
	frame(pl_pkt_append(p, (unsigned)len), len, seq);
	return p;
}

/*
 * Waits until the runner has taken every descriptor handed over on TX queue 0: up to
 * 20 s, as the runner is a thread the device suite's emulators can keep off a core.
 */
static void tx_drain(void)
{
	for (unsigned i = 0; i < 80000; i++) {
		model_lock(dev());
		unsigned left = e1000_model_tx_pending(m, 0);
		model_unlock(dev());
		if (!left)
			return;
		usleep(250);
	}
	cr_assert_fail("the model did not send what it was given");
}

static unsigned tx_by_hand(unsigned max)
{
	model_lock(dev());
	unsigned n = e1000_model_tx(m, 0, max);
	model_unlock(dev());
	return n;
}

static volatile struct e1000_tx_desc *tx_ring(void)
{
	struct e1000_model_conf unused;

	(void)unused;
	uint64_t base = model_reg(dev(), 0, E1000_TDBAL) |
			(uint64_t)model_reg(dev(), 0, E1000_TDBAH) << 32;
	return model_dma(base, 512 * E1000_DESC_SIZE);
}

/*
 * RS on every 64th descriptor and at the burst's end; a group comes back to the pool
 * whole once its RS descriptor is done, never before.
 */
Test(e1000_model, tx_groups_report_and_reclaim_whole)
{
	static struct sent sent;
	struct e1000_model_conf mc = { .manual_tx = true };
	struct pl_pkt *pkts[100];

	open_port(&mc, (struct pl_eth_conf){ .tx_desc = 512 });
	e1000_model_set_tx_cb(m, on_tx, &sent);
	unsigned idle = model_pool_in_use(pool);
	/* Bursts of up to 64 make groups of 64: one burst of 64, then 36. */
	for (unsigned i = 0; i < 100; i++)
		pkts[i] = packet(60 + i, i);
	cr_assert_eq(pl_eth_tx_burst(port, 0, pkts, 64), 64);
	cr_assert_eq(pl_eth_tx_burst(port, 0, pkts + 64, 36), 36);
	volatile struct e1000_tx_desc *ring = tx_ring();
	cr_assert_not_null(ring);
	for (unsigned i = 0; i < 100; i++) {
		bool rs = ring[i].cmd & E1000_TXD_CMD_RS;
		cr_expect_eq(rs, i == 63 || i == 99, "descriptor %u: RS %d", i, rs);
	}
	cr_expect_eq(pl_eth_tx_reclaim(port, 0), 0, "nothing done yet");
	cr_assert_eq(tx_by_hand(63), 63);
	cr_expect_eq(pl_eth_tx_reclaim(port, 0), 0, "the group's RS descriptor is not done");
	cr_assert_eq(tx_by_hand(1), 1);
	cr_expect_eq(pl_eth_tx_reclaim(port, 0), 64);
	cr_assert_eq(tx_by_hand(100), 36);
	cr_expect_eq(pl_eth_tx_reclaim(port, 0), 36);
	cr_expect_eq(model_pool_in_use(pool), idle);
	cr_expect_eq(sent.n, 100);
	cr_expect_eq(sent.bad, 0);
	for (unsigned i = 0; i < 100; i++)
		cr_expect_eq(sent.len[i], 60 + i);
}

/* A device that writes DD where it should not (or early) frees nothing that is not done. */
Test(e1000_model, dd_written_back_out_of_place_frees_only_whole_groups)
{
	static struct sent sent;
	struct e1000_model_conf mc = { .manual_tx = true };
	struct pl_pkt *pkts[64];

	open_port(&mc, (struct pl_eth_conf){ .tx_desc = 128 });
	e1000_model_set_tx_cb(m, on_tx, &sent);
	for (unsigned i = 0; i < 64; i++)
		pkts[i] = packet(100, i);
	cr_assert_eq(pl_eth_tx_burst(port, 0, pkts, 64), 64);
	model_lock(dev());
	for (unsigned i = 0; i < 63; i++)
		e1000_model_tx_writeback(m, 0, i, E1000_TXD_STAT_DD);
	e1000_model_tx_writeback(m, 0, 100, E1000_TXD_STAT_DD);	/* a slot never used */
	model_unlock(dev());
	cr_expect_eq(pl_eth_tx_reclaim(port, 0), 0);
	cr_assert_eq(tx_by_hand(64), 64);
	cr_expect_eq(pl_eth_tx_reclaim(port, 0), 64);
	cr_expect_eq(sent.n, 64);
}

/* A frame whose buffer crosses a 2 MiB page goes out as two descriptors, whole. */
Test(e1000_model, a_frame_across_a_2mib_page_goes_in_two_pieces)
{
	static struct sent sent;
	struct pl_pkt *all[2048], *cross = NULL;
	unsigned n = 0;

	open_port(NULL, (struct pl_eth_conf){ .rx_desc = 8, .tx_desc = 64 });
	e1000_model_set_tx_cb(m, on_tx, &sent);
	while (n < 2048 && (all[n] = pl_pkt_alloc(pool))) {
		uint64_t a = pl_pkt_data_iova(all[n]);

		if (!cross && (a >> 21) != ((a + 1513) >> 21))
			cross = all[n];
		else
			n++;
	}
	pl_pkt_free_bulk(all, n);
	cr_assert_not_null(cross, "no buffer of the pool crosses a 2 MiB page");
	frame(pl_pkt_append(cross, 1514), 1514, 0);
	unsigned descs = e1000_model_stats(m)->tx_descs;
	cr_assert_eq(pl_eth_tx_burst(port, 0, &cross, 1), 1);
	tx_drain();
	cr_expect_eq(sent.n, 1);
	cr_expect_eq(sent.bad, 0, "the frame arrived as sent");
	cr_expect_eq(sent.len[0], 1514);
	cr_expect_eq(e1000_model_stats(m)->tx_descs - descs, 2);
	pl_eth_tx_reclaim(port, 0);
}

/*
 * The checksum offsets are bytes in the context descriptor: headers longer than they
 * can say would have the device write a checksum somewhere else in the frame.
 */
Test(e1000_model, checksum_offload_past_what_a_context_can_say_is_refused)
{
	static struct sent sent;
	struct pl_pkt *p[3];

	open_port(NULL, (struct pl_eth_conf){ .rx_desc = 8, .tx_desc = 64 });
	e1000_model_set_tx_cb(m, on_tx, &sent);
	static const uint8_t l2[] = { 14, 200, 100 }, l3[] = { 20, 60, 200 };
	for (unsigned i = 0; i < 3; i++) {
		p[i] = packet(600, i);
		p[i]->flags = PL_PKT_TX_IP_CSUM | PL_PKT_TX_UDP_CSUM;
		p[i]->l2_len = l2[i];
		p[i]->l3_len = l3[i];
	}
	cr_assert_eq(pl_eth_tx_burst(port, 0, p, 3), 3);
	tx_drain();
	cr_expect_eq(sent.n, 1, "only the frame whose headers fit went out");
	struct pl_eth_stats s;
	stats(&s);
	cr_expect_eq(s.tx_errors, 2);
	pl_eth_tx_reclaim(port, 0);
}

/* A frame needs its header: shorter packets are counted, not padded into the wire. */
Test(e1000_model, packets_shorter_than_a_header_are_refused)
{
	static struct sent sent;
	struct pl_pkt *p[4];
	static const unsigned lens[] = { 0, 1, 13, 14 };

	open_port(NULL, (struct pl_eth_conf){ .rx_desc = 8, .tx_desc = 64 });
	e1000_model_set_tx_cb(m, on_tx, &sent);
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_not_null(p[i] = pl_pkt_alloc(pool));
		frame(pl_pkt_append(p[i], lens[i]), lens[i], 0);
	}
	cr_assert_eq(pl_eth_tx_burst(port, 0, p, 4), 4);
	tx_drain();
	cr_expect_eq(sent.n, 1, "only the 14-byte frame went out");
	cr_expect_eq(sent.len[0], 14);
	struct pl_eth_stats s;
	stats(&s);
	cr_expect_eq(s.tx_errors, 3);
	pl_eth_tx_reclaim(port, 0);
}

Test(e1000_model, a_pool_not_mapped_on_the_ports_context_is_refused)
{
	struct pl_iommu *other = model_ctx_open();
	struct pl_mempool *theirs = model_pkt_pool(other, 1024);
	struct pl_mempool *unmapped = model_pkt_pool(NULL, 1024);

	m = e1000_model_new(NULL);
	errno = 0;
	cr_expect_null(pl_eth_open(ctx, "0000:00:03.0", &(struct pl_eth_conf){ .pool = theirs }));
	cr_expect_eq(errno, EINVAL);
	cr_expect_null(pl_eth_open(ctx, "0000:00:03.0", &(struct pl_eth_conf){ .pool = unmapped }));
	cr_expect_eq(errno, EINVAL);
	cr_expect_eq(model_dma_faults(), 0);
	pl_mempool_free(theirs);
	pl_mempool_free(unmapped);
	pl_iommu_close(other);
}

/* ---- link and interrupts ---- */

Test(e1000_model, a_port_whose_link_is_down_refuses_to_send)
{
	struct pl_pkt *p = NULL;
	struct pl_eth_link l;

	open_port(NULL, (struct pl_eth_conf){ .rx_desc = 8, .tx_desc = 64 });
	model_lock(dev());
	e1000_model_set_link(m, false);
	model_unlock(dev());
	pl_eth_link(port, &l);
	cr_expect_not(l.up);
	p = packet(100, 0);
	cr_expect_eq(pl_eth_tx_burst(port, 0, &p, 1), 0);
	struct pl_eth_stats s;
	stats(&s);
	cr_expect_eq(s.tx_link_down, 1);
	model_lock(dev());
	e1000_model_set_link(m, true);
	model_unlock(dev());
	pl_eth_link(port, &l);
	cr_expect(l.up);
	cr_expect_eq(pl_eth_tx_burst(port, 0, &p, 1), 1);
	tx_drain();
	pl_eth_tx_reclaim(port, 0);
}

static void a_frame_wakes_the_receiver(bool e1000e)
{
	struct e1000_model_conf mc = { .e1000e = e1000e };
	uint8_t f[60];

	open_port(&mc, (struct pl_eth_conf){ .rx_desc = 8, .interrupts = true });
	int fd = pl_eth_rx_irq_fd(port, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pl_eth_rx_intr_enable(port, 0), 0, "nothing waiting: armed");
	frame(f, sizeof(f), 0);
	cr_assert_eq(rx_frame(0, f, sizeof(f)), 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	cr_expect_eq(poll(&pfd, 1, 1000), 1, "the eventfd fired");
	pl_eth_rx_intr_disable(port, 0);
	struct pl_pkt *pkts[4];
	cr_expect_eq(pl_eth_rx_burst(port, 0, pkts, 4), 1);
	pl_pkt_free_bulk(pkts, 1);
	/* A frame waiting when arming says so instead of sleeping. */
	cr_assert_eq(rx_frame(0, f, sizeof(f)), 0);
	cr_expect_eq(pl_eth_rx_intr_enable(port, 0), 1);
	pl_eth_rx_intr_disable(port, 0);
	cr_expect_eq(pl_eth_rx_burst(port, 0, pkts, 4), 1);
	pl_pkt_free_bulk(pkts, 1);
}

Test(e1000_model, a_frame_wakes_a_sleeping_receiver_intx)
{
	a_frame_wakes_the_receiver(false);
}

Test(e1000_model, a_frame_wakes_a_sleeping_receiver_msix)
{
	a_frame_wakes_the_receiver(true);
}

/* ---- quirks ---- */

struct stats_call {
	struct pl_eth_port *port;
	uint64_t took_ms;
};

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void *read_stats(void *arg)
{
	struct stats_call *sc = arg;
	struct pl_eth_stats s;

	usleep(200000);	/* into the start's pause */
	uint64_t t0 = now_ms();
	pl_eth_stats(sc->port, &s);
	sc->took_ms = now_ms() - t0;
	return NULL;
}

/*
 * QEMU's e1000 (its subsystem IDs) takes no frame for a second after RCTL is written:
 * start waits that out, and without the port's lock, so that a thread reading the
 * port's statistics meanwhile is not held for the second. A real part does not wait.
 */
Test(e1000_model, the_qemu_rctl_pause_is_waited_out_without_the_ports_lock)
{
	struct pl_eth_conf conf = { .pool = pool = model_pkt_pool(ctx, 1024) };
	struct stats_call sc = { 0 };
	pthread_t t;

	m = e1000_model_new(&(struct e1000_model_conf){ .subsys_vendor = 0x1af4,
							 .subsys_device = 0x1100 });
	port = pl_eth_open(ctx, "0000:00:03.0", &conf);
	cr_assert_not_null(port, "open: %s", strerror(errno));
	sc.port = port;
	cr_assert_eq(pthread_create(&t, NULL, read_stats, &sc), 0);
	uint64_t t0 = now_ms();
	cr_assert_eq(pl_eth_start(port), 0);
	uint64_t took = now_ms() - t0;
	pthread_join(t, NULL);
	cr_expect_geq(took, 1000, "start returned after %llu ms: no pause", (unsigned long long)took);
	cr_expect_lt(sc.took_ms, 500, "a stats read during the pause took %llu ms",
		     (unsigned long long)sc.took_ms);
}

Test(e1000_model, a_real_82540em_is_started_without_a_pause)
{
	m = e1000_model_new(NULL);
	pool = model_pkt_pool(ctx, 1024);
	port = pl_eth_open(ctx, "0000:00:03.0", &(struct pl_eth_conf){ .pool = pool });
	cr_assert_not_null(port, "open: %s", strerror(errno));
	/* Only the start is timed: register writes and buffers, no sleep. */
	uint64_t t0 = now_ms();
	cr_assert_eq(pl_eth_start(port), 0);
	uint64_t took = now_ms() - t0;
	cr_expect_lt(took, 900, "start took %llu ms", (unsigned long long)took);
}

/* ---- RSS ---- */

/* The 82574L's RSS hash reaches the packet with its flag; none claimed where none came. */
Test(e1000_model, the_rss_hash_is_handed_on_where_the_device_computed_one)
{
	struct e1000_model_conf mc = { .e1000e = true };
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];
	struct e1000_model_rxwb wb = { .length = 60, .status = E1000_RXD_STAT_EOP,
				       .rss_hash = 0x9e3779b9 };
	uint8_t f[60];

	open_port(&mc, (struct pl_eth_conf){ .rx_queues = 2, .tx_queues = 2 });
	frame(f, sizeof(f), 1);
	model_lock(dev());
	cr_assert_eq(e1000_model_rx_raw(m, 1, f, sizeof(f), &wb), 0);
	wb.rss_hash = 0;	/* the model then writes RSS type 0: no hash computed */
	cr_assert_eq(e1000_model_rx_raw(m, 1, f, sizeof(f), &wb), 0);
	model_unlock(dev());
	cr_assert_eq(pl_eth_rx_burst(port, 1, pkts, PL_ETH_MAX_BURST), 2);
	cr_expect(pkts[0]->flags & PL_PKT_RX_RSS_HASH, "flags 0x%x", pkts[0]->flags);
	cr_expect_eq(pkts[0]->hash, 0x9e3779b9u);
	cr_expect_not(pkts[1]->flags & PL_PKT_RX_RSS_HASH, "flags 0x%x", pkts[1]->flags);
	pl_pkt_free_bulk(pkts, 2);
}

/* An 82540EM's legacy descriptors carry no hash: none is claimed. */
Test(e1000_model, no_rss_hash_is_claimed_from_a_legacy_descriptor)
{
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];
	uint8_t f[60];

	open_port(NULL, (struct pl_eth_conf){ 0 });
	frame(f, sizeof(f), 1);
	cr_assert_eq(rx_frame(0, f, sizeof(f)), 0);
	cr_assert_eq(pl_eth_rx_burst(port, 0, pkts, PL_ETH_MAX_BURST), 1);
	cr_expect_not(pkts[0]->flags & PL_PKT_RX_RSS_HASH, "flags 0x%x", pkts[0]->flags);
	pl_pkt_free(pkts[0]);
}
