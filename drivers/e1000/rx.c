/* e1000 receive: the RX ring, its buffers, and rx_burst. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pollen/log.h>
#include <pollen/pkt.h>

#include "e1000_priv.h"

int e1000_rxq_init(struct e1000_port *p, unsigned q, void *ring, uint64_t iova)
{
	struct e1000_rxq *rq = &p->rxq[q];
	unsigned n = p->conf.rx_desc;

	memset(rq, 0, sizeof(*rq));
	rq->ring = ring;
	rq->ring_iova = iova;
	rq->mask = (uint16_t)(n - 1);
	rq->pool = p->conf.pool;
	rq->port = p;
	rq->rdt_reg = E1000_RDT_Q(q);
	rq->free_thresh = (uint16_t)(n / 4 < E1000_RX_FREE_THRESH ? n / 4 : E1000_RX_FREE_THRESH);
	if (!(rq->bufs = calloc(n, sizeof(*rq->bufs)))) {
		pl_err("%s: no memory for an RX ring of %u", p->eth.addr, n);
		return -ENOMEM;
	}
	return 0;
}

static void post(struct e1000_rxq *rq, uint16_t i)
{
	volatile struct e1000_rx_desc *d = &rq->ring[i];

	d->addr = pl_pkt_data_iova(rq->bufs[i]);
	/* QEMU's e1000 leaves errors as software wrote them: clear it with DD. */
	d->errors = 0;
	d->status = 0;	/* DD clear: the device's again */
}

/*
 * Gives every slot a buffer and the device all but one slot. Called with the receiver
 * off; the ring registers are written here, RCTL by the caller.
 */
int e1000_rxq_start(struct e1000_port *p, unsigned q)
{
	struct e1000_rxq *rq = &p->rxq[q];
	unsigned n = rq->mask + 1u;

	if (pl_pkt_alloc_bulk(rq->pool, rq->bufs, n)) {
		pl_err("%s: the packet pool cannot fill an RX ring of %u (it needs at least that "
		       "many free buffers, plus what TX and the app hold)", p->eth.addr, n);
		memset(rq->bufs, 0, n * sizeof(*rq->bufs));
		return -ENOBUFS;
	}
	for (unsigned i = 0; i < n; i++) {
		if (rq->bufs[i]->buf_len - rq->bufs[i]->data_off < 2048) {
			pl_err("%s: packet buffers have %u bytes of room; the device writes up to "
			       "2048 (pl_pkt_pool_create with data_room 0 gives that)", p->eth.addr,
			       rq->bufs[i]->buf_len - rq->bufs[i]->data_off);
			pl_pkt_free_bulk(rq->bufs, n);
			memset(rq->bufs, 0, n * sizeof(*rq->bufs));
			return -EINVAL;
		}
		rq->ring[i].length = 0;
		post(rq, (uint16_t)i);
	}
	rq->next = 0;
	rq->held = 0;
	rq->in_frag = false;
	rq->port_id = p->eth.port_id;
	e1000_write(p, E1000_RDBAL_Q(q), (uint32_t)rq->ring_iova);
	e1000_write(p, E1000_RDBAH_Q(q), (uint32_t)(rq->ring_iova >> 32));
	/* QEMU masks RDLEN to a multiple of 128 bytes: 8 descriptors, our smallest ring. */
	e1000_write(p, E1000_RDLEN_Q(q), n * E1000_DESC_SIZE);
	e1000_write(p, E1000_RDH_Q(q), 0);
	pl_dma_wmb();	/* the descriptors, then the tail that hands them over */
	e1000_write(p, E1000_RDT_Q(q), n - 1);
	return 0;
}

/* With the receiver off: every buffer back to the pool, the ring empty. */
void e1000_rxq_stop(struct e1000_port *p, unsigned q)
{
	struct e1000_rxq *rq = &p->rxq[q];
	unsigned n = rq->mask + 1u;

	e1000_write(p, E1000_RDT_Q(q), 0);
	e1000_write(p, E1000_RDH_Q(q), 0);
	if (rq->bufs && rq->bufs[0]) {
		pl_pkt_free_bulk(rq->bufs, n);
		memset(rq->bufs, 0, n * sizeof(*rq->bufs));
	}
	if (rq->nspare)
		pl_pkt_free_bulk(rq->spare, rq->nspare);
	rq->nspare = 0;
}

void e1000_rxq_free(struct e1000_port *p, unsigned q)
{
	free(p->rxq[q].bufs);
	p->rxq[q].bufs = NULL;
}

/*
 * Tops the spare buffers up to @n for a burst; from a pool running dry, as many as it
 * has left (halving: the bulk call is all or none). Never more than a burst's worth, so
 * a small pool is not hoarded here.
 */
static inline void refill_spare(struct e1000_rxq *rq, uint16_t n)
{
	for (uint16_t want = n - rq->nspare; want && rq->nspare < n; want /= 2)
		if (!pl_pkt_alloc_bulk(rq->pool, rq->spare + rq->nspare, want)) {
			rq->nspare += want;
			return;
		}
}

uint16_t e1000_rx_burst(void *queue, struct pl_pkt **pkts, uint16_t n)
{
	struct e1000_rxq *rq = queue;
	uint16_t i = rq->next, nb = 0;
	bool moved = false;

	if (n > PL_ETH_MAX_BURST)
		n = PL_ETH_MAX_BURST;
	if (!(rq->ring[i].status & E1000_RXD_STAT_DD))
		return 0;
	if (rq->nspare < n)
		refill_spare(rq, n);
	while (nb < n) {
		volatile struct e1000_rx_desc *d = &rq->ring[i];
		uint8_t status = d->status;

		if (!(status & E1000_RXD_STAT_DD))
			break;
		pl_dma_rmb();	/* DD seen: the rest of the descriptor is valid */
		uint8_t errors = d->errors;
		uint16_t len = d->length;

		if (pl_unlikely(!(status & E1000_RXD_STAT_EOP) || rq->in_frag)) {
			/* A frame longer than the buffer: drop every piece up to EOP. */
			if (!rq->in_frag)
				rq->err_frag++;
			rq->in_frag = !(status & E1000_RXD_STAT_EOP);
		} else if (pl_unlikely((errors & E1000_RXD_ERR_FRAME) || !len)) {
			rq->err_frame++;
		} else {
			if (pl_unlikely(!rq->nspare)) {
				/* The pool is dry: leave the frame for a later burst. */
				rq->nombuf++;
				break;
			}
			struct pl_pkt *pkt = rq->bufs[i];

			__builtin_prefetch(pl_pkt_data(pkt));
			pkt->len = len;
			pkt->port = rq->port_id;
			pkts[nb++] = pkt;
			rq->bufs[i] = rq->spare[--rq->nspare];
		}
		post(rq, i);
		i = (i + 1) & rq->mask;
		moved = true;
	}
	if (moved) {
		rq->held += (uint16_t)((i - rq->next) & rq->mask);
		rq->next = i;
		rq->packets += nb;
		/*
		 * The tail is written once free_thresh descriptors have been re-posted, not at
		 * every burst: in QEMU each RDT write flushes the NIC's net queue and wakes the
		 * emulator's main loop, which then fights the vCPU for its big lock (half the
		 * forwarding rate went there). The device keeps ring - 1 - free_thresh slots
		 * at worst. RDT stays one behind next (RDH == RDT means none). It is in the
		 * range QEMU coalesces under KVM: the device may see it late, at the next
		 * register read (the statistics' every second, at worst); TCG sees it at once.
		 */
		if (rq->held >= rq->free_thresh) {
			rq->held = 0;
			pl_dma_wmb();	/* the re-posted descriptors, then the tail */
			e1000_write(rq->port, rq->rdt_reg, (i - 1u) & rq->mask);
		}
	}
	return nb;
}
