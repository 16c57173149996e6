/* e1000 receive: the RX ring, its buffers, and rx_burst. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pollen/log.h>
#include <pollen/pkt.h>

#include "e1000_port.h"

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

/*
 * The fields the burst reads, wherever the descriptor format keeps them. DD and EOP are
 * bits 0 and 1 of the status in both; @ext is a constant where these are inlined.
 */
static inline uint32_t desc_status(const struct e1000_rxq *rq, uint16_t i, bool ext)
{
	if (ext)
		return ((volatile union e1000_rx_desc_ext *)rq->ring)[i].wb.status_error;
	return rq->ring[i].status;
}

static inline bool desc_bad(const struct e1000_rxq *rq, uint16_t i, uint32_t status, bool ext)
{
	return ext ? status & E1000_RXDEXT_ERR_FRAME : rq->ring[i].errors & E1000_RXD_ERR_FRAME;
}

static inline uint16_t desc_len(const struct e1000_rxq *rq, uint16_t i, bool ext)
{
	if (ext)
		return ((volatile union e1000_rx_desc_ext *)rq->ring)[i].wb.length;
	return rq->ring[i].length;
}

/*
 * The RSS hash where the device computed one (an RSS type in MRQ, DS 7.1.11): as DPDK
 * fills its mbuf's, with a flag. Legacy descriptors carry none. Every buffer posted came
 * from pl_pkt_alloc_bulk() (flags 0) and goes out once: nothing to clear otherwise.
 */
static inline void desc_hash(const struct e1000_rxq *rq, uint16_t i, bool ext, struct pl_pkt *pkt)
{
	const volatile union e1000_rx_desc_ext *d = &((volatile union e1000_rx_desc_ext *)rq->ring)[i];

	if (ext && d->wb.mrq & E1000_RXDEXT_MRQ_TYPE_MASK) {
		pkt->hash = d->wb.hi.rss_hash;
		pkt->flags |= PL_PKT_RX_RSS_HASH;
	}
}

static inline void post(struct e1000_rxq *rq, uint16_t i, bool ext)
{
	if (ext) {
		volatile union e1000_rx_desc_ext *d =
			&((volatile union e1000_rx_desc_ext *)rq->ring)[i];

		d->read.addr = pl_pkt_data_iova(rq->bufs[i]);
		d->read.rsvd = 0;	/* status_error once written back: DD clear */
		return;
	}
	volatile struct e1000_rx_desc *d = &rq->ring[i];

	d->addr = pl_pkt_data_iova(rq->bufs[i]);
	/* QEMU's e1000 leaves errors as software wrote them: clear it with DD. */
	d->errors = 0;
	d->status = 0;	/* DD clear: the device's again */
}

bool e1000_rxq_ready(const struct e1000_rxq *rq)
{
	return desc_status(rq, rq->next, rq->port->rx_ext) & E1000_RXD_STAT_DD;
}

/*
 * RSS on the 82574L (DS 7.1.11): the Toeplitz hash over IPv4/IPv6 addresses (and TCP
 * ports) with pl_eth_rss_key; its low 7 bits index RETA, whose entries' bit 7 is the
 * queue. Alternate entries make the queue the hash's bit 0: hash % 2. It needs the
 * extended descriptors and RXCSUM.PCSD (the hash takes the checksum's place); QEMU's
 * e1000e hashes nothing otherwise. With one queue all of it is off, left from no one.
 */
void e1000_rss_setup(struct e1000_port *p)
{
	if (!p->rx_ext) {
		e1000_write(p, E1000_RFCTL, 0);
		e1000_write(p, E1000_MRQC, 0);
		return;
	}
	e1000_write(p, E1000_RFCTL, E1000_RFCTL_EXTEN);
	e1000_write(p, E1000_RXCSUM, E1000_RXCSUM_PCSD);
	for (unsigned i = 0; i < E1000_RSSRK_NUM; i++) {
		const uint8_t *k = pl_eth_rss_key() + 4 * i;

		e1000_write(p, E1000_RSSRK(i), (uint32_t)k[0] | (uint32_t)k[1] << 8 |
			    (uint32_t)k[2] << 16 | (uint32_t)k[3] << 24);
	}
	/* Bytes 0..3 of a register are entries 4i..4i+3: the odd ones go to queue 1. */
	uint32_t alt = E1000_RETA_QUEUE << 8 | E1000_RETA_QUEUE << 24;
	for (unsigned i = 0; i < E1000_RETA_NUM; i++)
		e1000_write(p, E1000_RETA(i), alt);
	e1000_write(p, E1000_MRQC, E1000_MRQC_MRQE_RSS | E1000_MRQC_IPV4 | E1000_MRQC_TCPIPV4 |
		    E1000_MRQC_IPV6 | E1000_MRQC_TCPIPV6EX);
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
	memset((void *)rq->ring, 0, n * E1000_DESC_SIZE);
	for (unsigned i = 0; i < n; i++) {
		if (rq->bufs[i]->buf_len - rq->bufs[i]->data_off < E1000_RX_BUF_LEN) {
			pl_err("%s: packet buffers have %u bytes of room; the device writes up to "
			       "%u (pl_pkt_pool_create with data_room 0 gives that)", p->eth.addr,
			       rq->bufs[i]->buf_len - rq->bufs[i]->data_off, E1000_RX_BUF_LEN);
			pl_pkt_free_bulk(rq->bufs, n);
			memset(rq->bufs, 0, n * sizeof(*rq->bufs));
			return -EINVAL;
		}
		post(rq, (uint16_t)i, p->rx_ext);
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

static inline __attribute__((always_inline)) uint16_t
rx_burst(struct e1000_rxq *rq, struct pl_pkt **pkts, uint16_t n, const bool ext)
{
	uint16_t i = rq->next, nb = 0;
	bool moved = false;

	if (n > PL_ETH_MAX_BURST)
		n = PL_ETH_MAX_BURST;
	if (!(desc_status(rq, i, ext) & E1000_RXD_STAT_DD))
		return 0;
	if (rq->nspare < n)
		refill_spare(rq, n);
	while (nb < n) {
		uint32_t status = desc_status(rq, i, ext);

		if (!(status & E1000_RXD_STAT_DD))
			break;
		pl_dma_rmb();	/* DD seen: the rest of the descriptor is valid */
		uint16_t len = desc_len(rq, i, ext);

		if (pl_unlikely(!(status & E1000_RXD_STAT_EOP) || rq->in_frag)) {
			/* A frame longer than the buffer: drop every piece up to EOP. */
			if (!rq->in_frag)
				e1000_count(&rq->err_frag, 1);
			rq->in_frag = !(status & E1000_RXD_STAT_EOP);
		} else if (pl_unlikely(len > E1000_RX_BUF_LEN)) {
			/*
			 * The device cannot have written that much into the buffer: a length
			 * past it would run the app past the packet's end. A bad frame.
			 */
			e1000_count(&rq->err_frag, 1);
		} else if (pl_unlikely(desc_bad(rq, i, status, ext) || !len)) {
			e1000_count(&rq->err_frame, 1);
		} else {
			if (pl_unlikely(!rq->nspare)) {
				/* The pool is dry: leave the frame for a later burst. */
				e1000_count(&rq->nombuf, 1);
				break;
			}
			struct pl_pkt *pkt = rq->bufs[i];

			__builtin_prefetch(pl_pkt_data(pkt));
			pkt->len = len;
			pkt->port = rq->port_id;
			desc_hash(rq, i, ext, pkt);
			pkts[nb++] = pkt;
			rq->bufs[i] = rq->spare[--rq->nspare];
		}
		post(rq, i, ext);
		i = (i + 1) & rq->mask;
		moved = true;
	}
	if (moved) {
		rq->held += (uint16_t)((i - rq->next) & rq->mask);
		rq->next = i;
		e1000_count(&rq->packets, nb);
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

uint16_t e1000_rx_burst(void *queue, struct pl_pkt **pkts, uint16_t n)
{
	return rx_burst(queue, pkts, n, false);
}

uint16_t e1000_rx_burst_ext(void *queue, struct pl_pkt **pkts, uint16_t n)
{
	return rx_burst(queue, pkts, n, true);
}
