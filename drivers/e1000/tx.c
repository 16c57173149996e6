/* e1000 transmit: the TX ring, tx_burst, and reclaiming sent packets in groups. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pollen/log.h>
#include <pollen/pkt.h>

#include "e1000_priv.h"

int e1000_txq_init(struct e1000_port *p, unsigned q, void *ring, uint64_t iova)
{
	struct e1000_txq *tq = &p->txq[q];
	unsigned n = p->conf.tx_desc;

	memset(tq, 0, sizeof(*tq));
	tq->ring = ring;
	tq->ring_iova = iova;
	tq->mask = (uint16_t)(n - 1);
	tq->port = p;
	tq->tdt_reg = E1000_TDT_Q(q);
	tq->max_len = PL_ETH_FRAME_MAX - 4;	/* the device appends the CRC (IFCS) */
	tq->bufs = calloc(n, sizeof(*tq->bufs));
	tq->group_end = calloc(n, sizeof(*tq->group_end));
	if (!tq->bufs || !tq->group_end) {
		pl_err("%s: no memory for a TX ring of %u", p->eth.addr, n);
		return -ENOMEM;
	}
	return 0;
}

/* The ring registers, with the transmitter off; TCTL is the caller's. */
void e1000_txq_start(struct e1000_port *p, unsigned q)
{
	struct e1000_txq *tq = &p->txq[q];
	unsigned n = tq->mask + 1u;

	memset((void *)tq->ring, 0, n * sizeof(*tq->ring));
	tq->tail = tq->clean = 0;
	e1000_write(p, E1000_TDBAL_Q(q), (uint32_t)tq->ring_iova);
	e1000_write(p, E1000_TDBAH_Q(q), (uint32_t)(tq->ring_iova >> 32));
	/* QEMU masks TDLEN to a multiple of 128 bytes too: 8 descriptors. */
	e1000_write(p, E1000_TDLEN_Q(q), n * E1000_DESC_SIZE);
	e1000_write(p, E1000_TDH_Q(q), 0);
	e1000_write(p, E1000_TDT_Q(q), 0);
}

/* Frees the packets of every group the device has reported done. */
unsigned e1000_tx_reclaim(struct e1000_txq *tq)
{
	unsigned freed = 0;

	while (tq->clean != tq->tail) {
		uint16_t end = tq->group_end[tq->clean];

		if (!(tq->ring[end].status & E1000_TXD_STAT_DD))
			break;
		pl_dma_rmb();	/* DD seen before the slots are reused */
		/* A group is at most E1000_TX_RS_EVERY slots, one more when it ends in a split. */
		struct pl_pkt *done[E1000_TX_RS_EVERY + 1];
		unsigned m = 0;
		for (uint16_t k = tq->clean;; k = (k + 1) & tq->mask) {
			if (tq->bufs[k])	/* a split frame's second slot holds none */
				done[m++] = tq->bufs[k];
			if (k == end)
				break;
		}
		pl_pkt_free_bulk(done, m);
		freed += m;
		tq->clean = (end + 1) & tq->mask;
	}
	return freed;
}

/* A legacy data descriptor: a buffer, no checksum insertion, no VLAN tag. */
static inline void put_desc(volatile struct e1000_tx_desc *d, uint64_t iova, uint16_t len,
			    uint8_t cmd)
{
	d->addr = iova;
	d->length = len;
	d->cso = 0;
	d->css = 0;
	d->special = 0;
	d->status = 0;
	d->cmd = cmd;
}

uint16_t e1000_tx_burst(void *queue, struct pl_pkt **pkts, uint16_t n)
{
	struct e1000_txq *tq = queue;
	uint16_t mask = tq->mask, tail = tq->tail, group = tail, taken = 0;
	const uint64_t errors0 = tq->errors;

	if (pl_unlikely(__atomic_load_n(&tq->link_down, __ATOMIC_RELAXED))) {
		/* The device would drop them unsent: the caller keeps them. */
		tq->link_refused += n;
		return 0;
	}
	/*
	 * Reclaim at every burst, not only when the ring runs short: a sent packet goes back
	 * to the pool while its header is still warm, so the buffers in use stay few. Under
	 * the emulator that is most of the speed (the guest's TLB covers them): a 512-slot
	 * ring left to fill before reclaiming forwarded half as fast as a 128-slot one.
	 */
	e1000_tx_reclaim(tq);
	/* One slot always stays empty: TDH == TDT means nothing to send. */
	unsigned room = mask - ((tail - tq->clean) & mask);

	for (; taken < n && room; taken++) {
		struct pl_pkt *pkt = pkts[taken];

		if (pl_unlikely(!pkt->len || pkt->len > tq->max_len)) {
			/* Taken and dropped: the device would send garbage or refuse it. */
			tq->errors++;
			pl_pkt_free(pkt);
			continue;
		}
		uint64_t iova = pl_pkt_data_iova(pkt);
		uint16_t len = pkt->len;

		if (pl_unlikely((iova ^ (iova + len - 1)) >> E1000_TX_SPLIT_SHIFT)) {
			/*
			 * The frame crosses a 2 MiB page of its pool: QEMU's e1000e maps each TX
			 * buffer whole and drops a frame whose buffer spans two IOMMU pages, so it
			 * goes out as two descriptors, EOP on the second (its slot holds no packet).
			 */
			if (room < 2)
				break;
			uint16_t first = (uint16_t)(((iova | E1000_TX_SPLIT_MASK) + 1) - iova);

			put_desc(&tq->ring[tail], iova, first, E1000_TXD_CMD_IFCS);
			tq->bufs[tail] = pkt;
			tail = (tail + 1) & mask;
			room--;
			iova += first;
			len -= first;
			pkt = NULL;
		}
		uint8_t cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS;
		uint16_t next = (tail + 1) & mask;

		tq->bufs[tail] = pkt;
		/* Close the group every E1000_TX_RS_EVERY slots, and at the ring's end. */
		if (((tail - group) & mask) >= E1000_TX_RS_EVERY - 1 || next == 0) {
			cmd |= E1000_TXD_CMD_RS;
			tq->group_end[group] = tail;
			group = next;
		}
		put_desc(&tq->ring[tail], iova, len, cmd);
		tail = next;
		room--;
	}
	if (tail != tq->tail) {
		if (group != tail) {
			/* The burst's end closes the open group, so no packet waits for a later one. */
			uint16_t last = (tail - 1) & mask;

			tq->ring[last].cmd |= E1000_TXD_CMD_RS;
			tq->group_end[group] = last;
		}
		tq->packets += taken - (tq->errors - errors0);
		tq->tail = tail;
		pl_dma_wmb();	/* the descriptors, then the tail that hands them over */
		/*
		 * One TDT write per burst: QEMU sends every pending descriptor inside this write,
		 * so a write per packet would cost a device exit per packet.
		 */
		pl_mmio_write32((volatile void *)tq->port->bar, tq->tdt_reg, tail);
	}
	return taken;
}

/* With the transmitter off: packets not yet sent back to their pools, the ring empty. */
void e1000_txq_stop(struct e1000_port *p, unsigned q)
{
	struct e1000_txq *tq = &p->txq[q];

	e1000_tx_reclaim(tq);
	while (tq->clean != tq->tail) {
		if (tq->bufs[tq->clean])
			pl_pkt_free(tq->bufs[tq->clean]);
		tq->bufs[tq->clean] = NULL;
		tq->clean = (tq->clean + 1) & tq->mask;
	}
	tq->tail = tq->clean = 0;
	e1000_write(p, E1000_TDT_Q(q), 0);
	e1000_write(p, E1000_TDH_Q(q), 0);
}

void e1000_txq_free(struct e1000_port *p, unsigned q)
{
	free(p->txq[q].bufs);
	free(p->txq[q].group_end);
	p->txq[q].bufs = NULL;
	p->txq[q].group_end = NULL;
}
