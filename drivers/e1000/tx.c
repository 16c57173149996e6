/* e1000 transmit: the TX ring, tx_burst, and reclaiming sent packets in groups. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pollen/log.h>
#include <pollen/pkt.h>

#include "e1000_port.h"

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
	tq->ctx_key = 0;	/* the device forgot it at reset: give it again */
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

/*
 * A TCP/IP data descriptor (SDM 3.3.7): the same place for cmd (byte 11, RS and EOP at the
 * legacy bits) and status (byte 12), so groups and reclaim treat both alike.
 */
static inline void put_data_desc(volatile struct e1000_tx_desc *d, uint64_t iova, uint16_t len,
				 uint8_t cmd, uint8_t popts)
{
	volatile struct e1000_tx_data_desc *dd = (volatile struct e1000_tx_data_desc *)d;

	dd->addr = iova;
	dd->cmd_and_length = len | E1000_TXD_DTYP_DATA | (uint32_t)(cmd | E1000_TXD_CMD_DEXT) << 24;
	dd->status = 0;
	dd->popts = popts;
	dd->special = 0;
}

/* A buffer's descriptor: a TCP/IP data one when the packet has a checksum context. */
static inline void put_buffer(volatile struct e1000_tx_desc *d, uint64_t iova, uint16_t len,
			      uint8_t cmd, bool offload, uint8_t popts)
{
	if (offload)
		put_data_desc(d, iova, len, cmd, popts);
	else
		put_desc(d, iova, len, cmd);
}

/* The checksum context a packet needs, as a key; 0 when it needs none. */
static inline uint32_t csum_key(const struct pl_pkt *pkt)
{
	if (!(pkt->flags & PL_PKT_TX_CSUM))
		return 0;
	return 1u << 31 | (pkt->flags & PL_PKT_TX_CSUM) << 16 | (uint32_t)pkt->l3_len << 8 |
	       pkt->l2_len;
}

/*
 * Header lengths an offload can work with, inside the frame, and that the context
 * descriptor can say: its checksum offsets are single bytes (SDM 3.3.6), so a checksum
 * placed past byte 255 would be written at that offset less 256.
 */
static inline bool csum_ok(const struct pl_pkt *pkt)
{
	bool tcp = pkt->flags & PL_PKT_TX_TCP_CSUM, udp = pkt->flags & PL_PKT_TX_UDP_CSUM;
	unsigned l4 = tcp ? 20 : udp ? 8 : 0;
	unsigned sum_at = tcp || udp ? pkt->l2_len + pkt->l3_len + (tcp ? 16u : 6u) :
				       pkt->l2_len + 10u;

	return pkt->l2_len >= 14 && pkt->l3_len >= 20 && pkt->l2_len + pkt->l3_len + l4 <= pkt->len &&
	       sum_at <= UINT8_MAX && !(tcp && udp);
}

/*
 * The TCP/IP context descriptor (SDM 3.3.6) for @key: where the IPv4 header checksum
 * starts, goes and ends, and where the TCP or UDP one starts and goes (to the end).
 */
static void put_context(volatile struct e1000_tx_desc *d, const struct pl_pkt *pkt)
{
	volatile struct e1000_tx_context_desc *c = (volatile struct e1000_tx_context_desc *)d;
	unsigned l3 = pkt->l2_len, l4 = pkt->l2_len + pkt->l3_len;
	bool tcp = pkt->flags & PL_PKT_TX_TCP_CSUM;

	c->ipcss = (uint8_t)l3;
	c->ipcso = (uint8_t)(l3 + 10);
	c->ipcse = (uint16_t)(l4 - 1);
	c->tucss = (uint8_t)l4;
	c->tucso = (uint8_t)(l4 + (tcp ? 16 : 6));
	c->tucse = 0;
	c->cmd_and_length = E1000_TXD_DTYP_CONTEXT | E1000_TXD_TUCMD_DEXT | E1000_TXD_TUCMD_IP |
			    (tcp ? E1000_TXD_TUCMD_TCP : 0);
	c->status = 0;
	c->hdr_len = 0;
	c->mss = 0;
}

uint16_t e1000_tx_burst(void *queue, struct pl_pkt **pkts, uint16_t n)
{
	struct e1000_txq *tq = queue;
	uint16_t mask = tq->mask, tail = tq->tail, group = tail, taken = 0;
	const uint64_t errors0 = tq->errors;

	if (pl_unlikely(__atomic_load_n(&tq->link_down, __ATOMIC_RELAXED))) {
		/* The device would drop them unsent: the caller keeps them. */
		e1000_count(&tq->link_refused, n);
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
		uint32_t key = csum_key(pkt);

		if (pl_unlikely(pkt->len < PL_ETH_HDR_LEN || pkt->len > tq->max_len ||
				(key && !csum_ok(pkt)))) {
			/* Taken and dropped: the device would send garbage or refuse it. */
			e1000_count(&tq->errors, 1);
			pl_pkt_free(pkt);
			continue;
		}
		uint64_t iova = pl_pkt_data_iova(pkt);
		uint16_t len = pkt->len;
		/*
		 * A frame crossing a 2 MiB page of its pool goes out as two descriptors, EOP on
		 * the second (its slot holds no packet): QEMU's e1000e maps each TX buffer whole
		 * and drops a frame whose buffer spans two IOMMU pages.
		 */
		bool split = (iova ^ (iova + len - 1)) >> E1000_TX_SPLIT_SHIFT;
		bool new_ctx = key && key != tq->ctx_key;

		if (pl_unlikely(room < 1u + split + new_ctx))
			break;
		if (pl_unlikely(new_ctx)) {
			/* The context stays with the device: packets alike need it only once. */
			put_context(&tq->ring[tail], pkt);
			tq->bufs[tail] = NULL;
			tq->ctx_key = key;
			tail = (tail + 1) & mask;
			room--;
		}
		uint8_t popts = (pkt->flags & PL_PKT_TX_IP_CSUM ? E1000_TXD_POPTS_IXSM : 0) |
				(pkt->flags & (PL_PKT_TX_UDP_CSUM | PL_PKT_TX_TCP_CSUM) ?
				 E1000_TXD_POPTS_TXSM : 0);
		if (pl_unlikely(split)) {
			uint16_t first = (uint16_t)(((iova | E1000_TX_SPLIT_MASK) + 1) - iova);

			put_buffer(&tq->ring[tail], iova, first, E1000_TXD_CMD_IFCS, key, popts);
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
		put_buffer(&tq->ring[tail], iova, len, cmd, key, popts);
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
		e1000_count(&tq->packets, taken - (tq->errors - errors0));
		tq->tail = tail;
		pl_dma_wmb();	/* the descriptors, then the tail that hands them over */
		/*
		 * One TDT write per burst: QEMU sends every pending descriptor inside this write,
		 * so a write per packet would cost a device exit per packet.
		 */
		e1000_write(tq->port, tq->tdt_reg, tail);
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
