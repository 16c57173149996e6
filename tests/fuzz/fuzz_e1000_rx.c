/*
 * e1000 receive against write-backs the input makes up: any length (past the buffer
 * too), any status and error bits, frames without EOP, on the 82540EM's legacy
 * descriptors and the 82574L's extended ones, with the app holding buffers so that the
 * pool runs dry. Every good frame must arrive once, in order, whole and inside its
 * buffer; every bad one must be dropped; no buffer may be lost or handed out twice.
 */
#include <pollen/eth.h>
#include <pollen/log.h>
#include <pollen/pkt.h>

#include "e1000_hw.h"
#include "e1000_model.h"
#include "fuzz.h"

#define RING 32
#define HOLD 64
#define EXPECT 4096

struct rxq {
	bool in_frag;			/* what the driver is in the middle of dropping */
	uint32_t expect[EXPECT];	/* the good frames' sequence numbers, in order */
	uint16_t expect_len[EXPECT];
	unsigned head, tail;
};

struct port {
	struct e1000_model *m;
	struct pl_eth_port *port;
	struct pl_mempool *pool;
	unsigned queues;
	struct rxq q[2];
	struct pl_pkt *held[HOLD];
	unsigned nheld;
};

static struct port ports[2];
static uint32_t seq;

static void open_port(struct pl_iommu *ctx, struct port *p, bool e1000e, unsigned pool_n)
{
	const char *addr = e1000e ? "0000:00:04.0" : "0000:00:03.0";

	p->m = e1000_model_new(&(struct e1000_model_conf){ .addr = addr, .e1000e = e1000e });
	p->pool = model_pkt_pool(ctx, pool_n);
	p->queues = e1000e ? 2 : 1;
	p->port = pl_eth_open(ctx, addr, &(struct pl_eth_conf){
		.pool = p->pool, .rx_desc = RING, .tx_desc = 64, .rx_queues = p->queues });
	if (!p->port || pl_eth_start(p->port))
		abort();
}

/* What the driver must make of a write-back: a good frame, or one it drops. */
static bool good(struct rxq *q, uint16_t len, uint8_t status, uint8_t errors)
{
	if (!(status & E1000_RXD_STAT_EOP) || q->in_frag) {
		q->in_frag = !(status & E1000_RXD_STAT_EOP);
		return false;
	}
	return len && len <= 2048 && !(errors & E1000_RXD_ERR_FRAME);
}

static void inject(struct port *p, unsigned qi, struct fuzz_in *in)
{
	static const uint16_t lens[] = { 0, 1, 13, 60, 1514, 2047, 2048, 2049, 4000, 65535 };
	struct rxq *q = &p->q[qi];
	uint8_t kind = fuzz_u8(in), status = fuzz_u8(in), errors = fuzz_u8(in);
	uint16_t len = kind < 128 ? lens[kind % 10] : fuzz_u16(in) % 2100;
	uint8_t data[2048];
	size_t data_len = len < sizeof(data) ? len : sizeof(data);

	/* Mostly frames a device would write; now and then whatever the input says. */
	if (!(kind & 0x40)) {
		status |= E1000_RXD_STAT_EOP;
		errors &= (uint8_t)~E1000_RXD_ERR_FRAME;
	}
	memset(data, 0xa5, data_len);
	memcpy(data, &seq, data_len < 4 ? data_len : 4);
	model_lock(e1000_model_dev(p->m));
	struct e1000_model_rxwb wb = { .length = len, .status = status, .errors = errors };
	int ret = e1000_model_rx_raw(p->m, qi, data, data_len, &wb);
	model_unlock(e1000_model_dev(p->m));
	if (ret == -ENOSPC)
		return;
	FUZZ_CHECK(!ret, "the model could not write a frame: %d", ret);
	if (good(q, len, status, errors)) {
		FUZZ_CHECK(q->tail - q->head < EXPECT, "too many frames waiting");
		q->expect[q->tail % EXPECT] = seq;
		q->expect_len[q->tail % EXPECT] = len;
		q->tail++;
	}
	seq++;
}

static bool is_held(struct port *p, struct pl_pkt *pkt)
{
	for (unsigned i = 0; i < p->nheld; i++)
		if (p->held[i] == pkt)
			return true;
	return false;
}

static unsigned burst(struct port *p, unsigned qi, unsigned n, bool keep)
{
	struct pl_pkt *pkts[PL_ETH_MAX_BURST];
	struct rxq *q = &p->q[qi];
	uint16_t got = pl_eth_rx_burst(p->port, qi, pkts, (uint16_t)n);

	for (uint16_t k = 0; k < got; k++) {
		struct pl_pkt *pkt = pkts[k];
		uint32_t s;

		FUZZ_CHECK(q->head != q->tail, "a frame that was not good, or not sent");
		FUZZ_CHECK(pkt->data_off + pkt->len <= pkt->buf_len, "%u bytes at %u past %u",
			   pkt->len, pkt->data_off, pkt->buf_len);
		FUZZ_CHECK(pkt->len == q->expect_len[q->head % EXPECT], "length %u, sent %u",
			   pkt->len, q->expect_len[q->head % EXPECT]);
		memcpy(&s, pl_pkt_data(pkt), 4);
		if (pkt->len < 4)
			s = q->expect[q->head % EXPECT];
		FUZZ_CHECK(s == q->expect[q->head % EXPECT], "frame %u came where %u was due", s,
			   q->expect[q->head % EXPECT]);
		FUZZ_CHECK(!is_held(p, pkt), "a buffer the app holds handed out again");
		for (uint16_t j = 0; j < k; j++)
			FUZZ_CHECK(pkts[j] != pkt, "one buffer twice in a burst");
		q->head++;
		if (keep && p->nheld < HOLD)
			p->held[p->nheld++] = pkt;
		else
			pl_pkt_free(pkt);
	}
	return got;
}

static void drain(struct port *p)
{
	pl_pkt_free_bulk(p->held, p->nheld);
	p->nheld = 0;
	for (unsigned qi = 0; qi < p->queues; qi++) {
		while (burst(p, qi, PL_ETH_MAX_BURST, false))
			;
		FUZZ_CHECK(p->q[qi].head == p->q[qi].tail, "%u good frames never came",
			   p->q[qi].tail - p->q[qi].head);
	}
	struct pl_mempool_stats st;
	pl_mempool_stats(p->pool, &st);
	FUZZ_CHECK(!st.debug_errors, "a buffer put back twice, or not the pool's");
	/* The rings' buffers and up to a burst of spares a queue: the rest is free. */
	FUZZ_CHECK(st.in_use <= p->queues * (RING + PL_ETH_MAX_BURST), "%u buffers out",
		   st.in_use);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	if (!ports[0].port) {
		pl_log_set_level(PL_LOG_ERR);
		struct pl_iommu *ctx = model_bed_open();
		open_port(ctx, &ports[0], false, 128);
		open_port(ctx, &ports[1], true, 256);
	}
	struct port *p = &ports[fuzz_u8(&in) & 1];
	while (in.left) {
		uint8_t op = fuzz_u8(&in);
		unsigned qi = (op >> 4) % p->queues;

		switch (op % 4) {
		case 0:
		case 1:
			inject(p, qi, &in);
			break;
		case 2:
			burst(p, qi, 1 + fuzz_u8(&in) % PL_ETH_MAX_BURST, op & 0x80);
			break;
		case 3:
			pl_pkt_free_bulk(p->held, p->nheld);
			p->nheld = 0;
			break;
		}
	}
	drain(p);
	return 0;
}
