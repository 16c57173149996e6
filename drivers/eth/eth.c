/* The Ethernet interface: a port opened by PCI address, handed to the driver for its IDs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pollen/log.h>
#include <pollen/mempool.h>

#include "eth_priv.h"

static const uint8_t rss_key[PL_ETH_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

const uint8_t *pl_eth_rss_key(void)
{
	return rss_key;
}

static const struct pl_eth_driver *const drivers[] = {
	&pl_e1000_driver,
};

struct pl_eth_port *pl_eth_open(struct pl_iommu *ctx, const char *addr,
				const struct pl_eth_conf *conf)
{
	struct pl_pci_info info;
	int ret;

	if (!ctx || !addr || !conf || !conf->pool) {
		pl_err("pl_eth_open: wants a context, an address and a conf with a packet pool");
		errno = EINVAL;
		return NULL;
	}
	/* Its buffers' IOVAs are its context's: on another one they name other memory. */
	if (conf->pool->ctx != ctx || !conf->pool->mapped) {
		pl_err("pl_eth_open %s: packet pool %s is %s: the NIC would write frames wherever "
		       "its IOVAs lead there; make it with pl_pkt_pool_create() on the port's "
		       "context", addr, conf->pool->name, conf->pool->mapped ?
		       "mapped on another IOMMU context" : "not mapped for any device");
		errno = EINVAL;
		return NULL;
	}
	if ((ret = pl_pci_info(addr, &info))) {
		errno = -ret;
		return NULL;
	}
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (drivers[i]->match(&info)) {
			struct pl_eth_port *port = drivers[i]->open(ctx, &info, conf);

			if (port) {
				snprintf(port->addr, sizeof(port->addr), "%s", info.addr);
				port->promisc = conf->promisc;
				port->allmulti = conf->allmulti;
			}
			return port;
		}
	const char *fam = pl_pci_family(&info);
	pl_err("%s (%04x:%04x%s%s) is not a NIC Pollen drives: it drives Intel 8254x (e1000) "
	       "and 82574 (e1000e) NICs", info.addr, info.vendor, info.device, fam ? ", " : "",
	       fam ? fam : "");
	errno = ENODEV;
	return NULL;
}

void pl_eth_close(struct pl_eth_port *port)
{
	if (port)
		port->ops->close(port);
}

int pl_eth_start(struct pl_eth_port *port)
{
	return port->ops->start(port);
}

void pl_eth_stop(struct pl_eth_port *port)
{
	port->ops->stop(port);
}

const char *pl_eth_addr(const struct pl_eth_port *port)
{
	return port->addr;
}

const char *pl_eth_driver(const struct pl_eth_port *port)
{
	return port->driver;
}

void pl_eth_mac(const struct pl_eth_port *port, uint8_t mac[PL_ETH_ADDR_LEN])
{
	memcpy(mac, port->mac, PL_ETH_ADDR_LEN);
}

unsigned pl_eth_rx_queues(const struct pl_eth_port *port)
{
	return port->rx_queues;
}

unsigned pl_eth_tx_queues(const struct pl_eth_port *port)
{
	return port->tx_queues;
}

void pl_eth_set_port_id(struct pl_eth_port *port, uint16_t id)
{
	port->port_id = id;
}

void pl_eth_link(struct pl_eth_port *port, struct pl_eth_link *out)
{
	port->ops->link(port, out);
}

int pl_eth_link_wait(struct pl_eth_port *port, unsigned timeout_ms)
{
	struct pl_eth_link l;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (unsigned waited = 0;; waited += 10) {
		pl_eth_link(port, &l);
		if (l.up)
			return 0;
		if (waited >= timeout_ms)
			break;
		nanosleep(&ts, NULL);
	}
	pl_err("%s: link still down after %u ms (cable, or the peer port down?)", port->addr,
	       timeout_ms);
	return -ETIMEDOUT;
}

/* Sets one of the port's receive switches and applies it; the old value back on failure. */
static int set_rx_switch(struct pl_eth_port *port, bool *sw, bool on)
{
	bool was = *sw;
	int ret;

	*sw = on;
	if ((ret = port->ops->rx_mode(port, NULL, UINT32_MAX)))
		*sw = was;
	return ret;
}

int pl_eth_set_promisc(struct pl_eth_port *port, bool on)
{
	return set_rx_switch(port, &port->promisc, on);
}

int pl_eth_set_allmulti(struct pl_eth_port *port, bool on)
{
	return set_rx_switch(port, &port->allmulti, on);
}

int pl_eth_set_mc_list(struct pl_eth_port *port, const uint8_t (*addrs)[PL_ETH_ADDR_LEN],
		       unsigned n)
{
	if (n && !addrs)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!(addrs[i][0] & 1)) {
			pl_err("%s: %02x:%02x:%02x:%02x:%02x:%02x is not a multicast address",
			       port->addr, addrs[i][0], addrs[i][1], addrs[i][2], addrs[i][3],
			       addrs[i][4], addrs[i][5]);
			return -EINVAL;
		}
	return port->ops->rx_mode(port, addrs, n);
}

int pl_eth_stats(struct pl_eth_port *port, struct pl_eth_stats *out)
{
	return port->ops->stats(port, out);
}

void pl_eth_stats_reset(struct pl_eth_port *port)
{
	port->ops->stats_reset(port);
}

unsigned pl_eth_tx_reclaim(struct pl_eth_port *port, unsigned queue)
{
	if (queue >= port->tx_queues)
		return 0;
	return port->ops->tx_reclaim(port, queue);
}

int pl_eth_rx_irq_fd(struct pl_eth_port *port, unsigned queue)
{
	return queue < port->rx_queues ? port->ops->rx_irq_fd(port, queue) : -1;
}

int pl_eth_link_irq_fd(struct pl_eth_port *port)
{
	return port->ops->link_irq_fd(port);
}

int pl_eth_rx_intr_enable(struct pl_eth_port *port, unsigned queue)
{
	if (queue >= port->rx_queues)
		return -EINVAL;
	return port->ops->rx_intr(port, queue, true);
}

void pl_eth_rx_intr_disable(struct pl_eth_port *port, unsigned queue)
{
	if (queue < port->rx_queues)
		port->ops->rx_intr(port, queue, false);
}
