/* Between the Ethernet interface (eth.c) and the NIC drivers that fill it. */
#ifndef PL_ETH_PRIV_H
#define PL_ETH_PRIV_H

#include <pollen/eth.h>
#include <pollen/pci.h>

struct pl_eth_ops {
	void (*close)(struct pl_eth_port *port);
	int (*start)(struct pl_eth_port *port);
	void (*stop)(struct pl_eth_port *port);
	void (*link)(struct pl_eth_port *port, struct pl_eth_link *out);
	/* applies port->promisc, port->allmulti and the multicast list */
	int (*rx_mode)(struct pl_eth_port *port, const uint8_t (*mc)[PL_ETH_ADDR_LEN],
		       unsigned n_mc);
	/* reads the device's counters into the totals, then fills @out */
	int (*stats)(struct pl_eth_port *port, struct pl_eth_stats *out);
	void (*stats_reset)(struct pl_eth_port *port);
	unsigned (*tx_reclaim)(struct pl_eth_port *port, unsigned queue);
	/* interrupts: the fds (-1 when none), and arming or disarming one RX queue's */
	int (*rx_irq_fd)(struct pl_eth_port *port, unsigned queue);
	int (*link_irq_fd)(struct pl_eth_port *port);
	int (*rx_intr)(struct pl_eth_port *port, unsigned queue, bool on);
};

/* What every driver's port starts with; the driver's own state follows it. */
struct pl_eth_port {
	struct pl_eth_fp fp;		/* first: the inline bursts read it */
	const struct pl_eth_ops *ops;
	const char *driver;
	char addr[PL_PCI_ADDR_LEN];
	uint8_t mac[PL_ETH_ADDR_LEN];
	unsigned rx_queues, tx_queues;
	uint16_t port_id;
	bool promisc, allmulti;
};

struct pl_eth_driver {
	const char *name;
	bool (*match)(const struct pl_pci_info *info);
	/* NULL with errno set, the reason logged */
	struct pl_eth_port *(*open)(struct pl_iommu *ctx, const struct pl_pci_info *info,
				    const struct pl_eth_conf *conf);
};

extern const struct pl_eth_driver pl_e1000_driver;

#endif
