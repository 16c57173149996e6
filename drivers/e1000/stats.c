/* e1000 statistics: the device's clear-on-read counters, accumulated into 64 bits. */
#include <string.h>

#include "e1000_port.h"

/*
 * Every counter clears when read and sticks at its maximum rather than wrapping (SDM
 * 13.7), so each read adds what happened since the last one. The 64-bit octet counters
 * are read low half first; reading the high half clears both.
 *
 * Packets and octets come from the total counters (TPR, TPT, TOR, TOT), not the "good"
 * ones: QEMU's e1000 and e1000e copy TPR into GPRC (and TPT into GPTC, TOR/TOT into
 * GORC/GOTC) at every frame, so reading a good counter clears it only until the next
 * frame. The totals differ from the good counts only by frames with errors, which
 * rx_errors and tx_collisions count.
 */
static uint64_t read64(struct e1000_port *p, uint32_t lo)
{
	uint64_t l = e1000_read(p, lo);

	return l | (uint64_t)e1000_read(p, lo + 4) << 32;
}

/*
 * A counter a device with E1000_QUIRK_STICKY_STATS never clears (QEMU 7.2's e1000: MPC,
 * RNBC and the error counters are plain registers there): what it gained since the
 * last read.
 */
static uint64_t read_sticky(struct e1000_port *p, uint32_t reg)
{
	uint32_t v = e1000_read(p, reg);

	if (!(p->quirks & E1000_QUIRK_STICKY_STATS))
		return v;
	unsigned i = (reg - E1000_STATS_FIRST) / 4;
	uint32_t d = v - p->sticky_last[i];

	p->sticky_last[i] = v;
	return d;
}

void e1000_stats_read_locked(struct e1000_port *p)
{
	struct pl_eth_stats *s = &p->hw;

	s->rx_packets += e1000_read(p, E1000_TPR);
	s->rx_bytes += read64(p, E1000_TORL);
	s->tx_packets += e1000_read(p, E1000_TPT);
	s->tx_bytes += read64(p, E1000_TOTL);
	s->rx_missed += read_sticky(p, E1000_MPC);
	s->rx_no_desc += read_sticky(p, E1000_RNBC);
	s->rx_errors += read_sticky(p, E1000_CRCERRS) + read_sticky(p, E1000_ALGNERRC) +
			read_sticky(p, E1000_SYMERRS) + read_sticky(p, E1000_RXERRC) +
			read_sticky(p, E1000_RLEC) + e1000_read(p, E1000_RUC) +
			read_sticky(p, E1000_RFC) + e1000_read(p, E1000_ROC) +
			read_sticky(p, E1000_RJC);
	s->rx_multicast += e1000_read(p, E1000_MPRC);
	s->rx_broadcast += e1000_read(p, E1000_BPRC);
	s->tx_collisions += read_sticky(p, E1000_ECOL) + read_sticky(p, E1000_LATECOL);
}

/* Reads every counter once, so that the next reads count from now. */
void e1000_stats_clear_hw(struct e1000_port *p)
{
	for (uint32_t r = E1000_STATS_FIRST; r <= E1000_STATS_LAST; r += 4)
		p->sticky_last[(r - E1000_STATS_FIRST) / 4] = e1000_read(p, r);
}

/* The driver's own counts, summed over the queues. */
static void sw_counts(const struct e1000_port *p, struct pl_eth_stats *out)
{
	/*
	 * Written by the queues' owner threads without a lock: a relaxed read of each
	 * 64-bit word is whole on every CPU Pollen builds for.
	 */
	for (unsigned q = 0; q < p->eth.rx_queues; q++) {
		const struct e1000_rxq *rq = &p->rxq[q];

		out->rx_nombuf += __atomic_load_n(&rq->nombuf, __ATOMIC_RELAXED);
		out->rx_desc_frame_errors += __atomic_load_n(&rq->err_frame, __ATOMIC_RELAXED);
		out->rx_desc_too_long += __atomic_load_n(&rq->err_frag, __ATOMIC_RELAXED);
		out->sw_rx_packets += __atomic_load_n(&rq->packets, __ATOMIC_RELAXED);
	}
	for (unsigned q = 0; q < p->eth.tx_queues; q++) {
		const struct e1000_txq *tq = &p->txq[q];

		out->tx_errors += __atomic_load_n(&tq->errors, __ATOMIC_RELAXED);
		out->tx_link_down += __atomic_load_n(&tq->link_refused, __ATOMIC_RELAXED);
		out->sw_tx_packets += __atomic_load_n(&tq->packets, __ATOMIC_RELAXED);
	}
}

int e1000_stats(struct pl_eth_port *port, struct pl_eth_stats *out)
{
	struct e1000_port *p = (struct e1000_port *)port;
	struct pl_eth_stats sw = { 0 };

	pthread_mutex_lock(&p->lock);
	e1000_link_update_locked(p);
	e1000_stats_read_locked(p);
	*out = p->hw;
	out->link_changes = p->link_changes - p->sw_base.link_changes;
	sw_counts(p, &sw);
	out->rx_nombuf = sw.rx_nombuf - p->sw_base.rx_nombuf;
	out->rx_desc_frame_errors = sw.rx_desc_frame_errors - p->sw_base.rx_desc_frame_errors;
	out->rx_desc_too_long = sw.rx_desc_too_long - p->sw_base.rx_desc_too_long;
	out->rx_desc_errors = out->rx_desc_frame_errors + out->rx_desc_too_long;
	out->sw_rx_packets = sw.sw_rx_packets - p->sw_base.sw_rx_packets;
	out->tx_errors = sw.tx_errors - p->sw_base.tx_errors;
	out->tx_link_down = sw.tx_link_down - p->sw_base.tx_link_down;
	out->sw_tx_packets = sw.sw_tx_packets - p->sw_base.sw_tx_packets;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void e1000_stats_reset(struct pl_eth_port *port)
{
	struct e1000_port *p = (struct e1000_port *)port;

	pthread_mutex_lock(&p->lock);
	e1000_stats_clear_hw(p);
	memset(&p->hw, 0, sizeof(p->hw));
	memset(&p->sw_base, 0, sizeof(p->sw_base));
	/* The queues' counts belong to their threads: remember where they stood instead. */
	sw_counts(p, &p->sw_base);
	p->sw_base.link_changes = p->link_changes;
	pthread_mutex_unlock(&p->lock);
}
