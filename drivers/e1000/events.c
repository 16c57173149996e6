/* e1000 events: the link as the device reports it, and interrupts for sleeping when idle. */
#include <errno.h>
#include <string.h>

#include <pollen/irq.h>
#include <pollen/log.h>

#include "e1000_port.h"

/*
 * What a change of STATUS.LU means for the data path: a TX queue whose link is down
 * refuses packets (tx.c) instead of giving them to a device that would drop them.
 * Returns the STATUS it read, for a caller that reports speed and duplex too.
 */
uint32_t e1000_link_update_locked(struct e1000_port *p)
{
	uint32_t status = e1000_read(p, E1000_STATUS);
	bool up = status & E1000_STATUS_LU;

	if (p->irqs && p->mac_type == E1000_MAC_82574)
		e1000_write(p, E1000_ICR, E1000_ICR_LSC);	/* write 1 to clear: rearm it */
	if (up == p->link_up)
		return status;
	p->link_up = up;
	p->link_changes++;
	for (unsigned q = 0; q < p->eth.tx_queues; q++)
		__atomic_store_n(&p->txq[q].link_down, !up, __ATOMIC_RELAXED);
	pl_info("%s: link %s", p->eth.addr, up ? "up" : "down");
	return status;
}

/*
 * The 82574L's MSI-X vectors (DS 7.4.2): one per RX queue, one per TX queue, one for the
 * other causes (the link), as IVAR maps them. EIAC clears a queue's cause when its
 * message goes out, so a woken thread has nothing to acknowledge.
 */
enum {
	VEC_RXQ0 = 0,
	VEC_RXQ1 = 1,
	VEC_TXQ0 = 2,
	VEC_TXQ1 = 3,
	VEC_OTHER = 4,
};

/* 82540EM: every cause shares INTx; these wake a sleeping receiver. */
#define RX_CAUSES_82540 (E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0 | E1000_ICR_LSC)
#define LINK_CAUSES_82574 (E1000_ICR_LSC | E1000_ICR_OTHER)

int e1000_irq_setup(struct e1000_port *p)
{
	int ret;

	if (p->mac_type == E1000_MAC_82540) {
		/* Conventional PCI, no MSI: INTx, masked by the host after each interrupt. */
		if ((ret = pl_irq_enable(p->dev, PL_IRQ_INTX, 1)))
			return ret;
		p->rx_fd[0] = p->link_fd = pl_irq_fd(p->dev, 0);
	} else {
		int n = pl_irq_count(p->dev, PL_IRQ_MSIX);

		if (n < E1000_MSIX_VECTORS_82574) {
			pl_err("%s: %d MSI-X vectors; the 82574L has %d", p->eth.addr, n,
			       E1000_MSIX_VECTORS_82574);
			return n < 0 ? n : -ENODEV;
		}
		if ((ret = pl_irq_enable(p->dev, PL_IRQ_MSIX, E1000_MSIX_VECTORS_82574)))
			return ret;
		e1000_write(p, E1000_IVAR,
			    E1000_IVAR_ENTRY(E1000_IVAR_RXQ0_SHIFT, VEC_RXQ0) |
			    E1000_IVAR_ENTRY(E1000_IVAR_RXQ1_SHIFT, VEC_RXQ1) |
			    E1000_IVAR_ENTRY(E1000_IVAR_TXQ0_SHIFT, VEC_TXQ0) |
			    E1000_IVAR_ENTRY(E1000_IVAR_TXQ1_SHIFT, VEC_TXQ1) |
			    E1000_IVAR_ENTRY(E1000_IVAR_OTHER_SHIFT, VEC_OTHER));
		e1000_write(p, E1000_EIAC, E1000_EIAC_MASK_82574);
		e1000_write(p, E1000_CTRL_EXT,
			    e1000_read(p, E1000_CTRL_EXT) | E1000_CTRL_EXT_PBA_CLR);
		for (unsigned q = 0; q < p->eth.rx_queues; q++)
			p->rx_fd[q] = pl_irq_fd(p->dev, VEC_RXQ0 + q);
		p->link_fd = pl_irq_fd(p->dev, VEC_OTHER);
		/* The link vector stays armed: link changes are rare and always wanted. */
		e1000_write(p, E1000_IMS, LINK_CAUSES_82574);
	}
	p->irqs = true;
	return 0;
}

void e1000_irq_teardown(struct e1000_port *p)
{
	if (!p->irqs)
		return;
	e1000_write(p, E1000_IMC, ~0u);
	pl_irq_disable(p->dev);
	p->rx_fd[0] = p->rx_fd[1] = p->link_fd = -1;
	p->irqs = false;
}

int e1000_rx_irq_fd(struct pl_eth_port *port, unsigned q)
{
	return ((struct e1000_port *)port)->rx_fd[q];
}

int e1000_link_irq_fd(struct pl_eth_port *port)
{
	return ((struct e1000_port *)port)->link_fd;
}

int e1000_rx_intr(struct pl_eth_port *port, unsigned q, bool on)
{
	struct e1000_port *p = (struct e1000_port *)port;
	bool is74 = p->mac_type == E1000_MAC_82574;
	uint32_t causes = is74 ? E1000_ICR_RXQ0 << q : RX_CAUSES_82540;

	if (!p->irqs)
		return -EINVAL;
	if (on) {
		e1000_write(p, E1000_IMS, causes);
		e1000_flush(p);
		/*
		 * A frame that came before the cause was unmasked raised nothing: look once
		 * more, after the unmask, so that it does not wait for the next one.
		 */
		pl_dma_rmb();
		return e1000_rxq_ready(&p->rxq[q]) ? 1 : 0;
	}
	e1000_write(p, E1000_IMC, causes);
	if (!is74) {
		/* Reading ICR clears the causes that held the line; then the host unmasks it. */
		uint32_t icr = e1000_read(p, E1000_ICR);

		if (icr & E1000_ICR_LSC) {
			pthread_mutex_lock(&p->lock);
			e1000_link_update_locked(p);
			pthread_mutex_unlock(&p->lock);
		}
		pl_irq_unmask(p->dev);
	}
	return 0;
}
