/* The Ethernet interface: a NIC port opened by PCI address, bursts of packets in and out. */
#ifndef POLLEN_ETH_H
#define POLLEN_ETH_H

#include <stdbool.h>
#include <stdint.h>

#include <pollen/compiler.h>
#include <pollen/iommu.h>
#include <pollen/mempool.h>
#include <pollen/pkt.h>

PL_BEGIN_DECLS

/*
 * Apps speak only to this; the driver behind a port (e1000 for the 82540EM family and the
 * 82574L) is chosen from the device's PCI IDs. A port has RX and TX queues; each queue
 * belongs to one thread, and its bursts take no lock, make no system call and allocate
 * nothing but packet buffers from the pool the port was given. The control calls (open,
 * start, stop, link, promiscuous, statistics) are thread-safe and may block.
 *
 * Guarantees of the bursts (in the manner of DPDK's rte_eth_rx_burst/tx_burst):
 * - pl_eth_rx_burst() hands over up to @n received frames, each in its own pl_pkt (data
 *   is the frame from the destination MAC, without the CRC; port set). The caller owns
 *   them. It refills the ring from the port's pool; when the pool runs dry it stops
 *   taking frames (they wait in the ring, then the device drops and counts them as
 *   missed) and counts rx_nombuf: traffic resumes once buffers come back. The device is
 *   told of refilled slots 64 at a time (fewer on rings under 256), not per burst.
 * - pl_eth_tx_burst() queues up to @n packets, rings the device once, and returns how
 *   many it took: the first that many are the driver's now (freed to their pools once
 *   sent); the rest stay the caller's, to send again or free. A packet longer than the
 *   port's largest frame, shorter than an Ethernet header, or with checksum offloads it
 *   cannot do, is taken and dropped (counted in tx_errors). Frames shorter than 60 bytes
 *   are padded by the device.
 */

#define PL_ETH_ADDR_LEN 6
#define PL_ETH_HDR_LEN 14		/* destination, source, EtherType */
#define PL_ETH_MAX_BURST 64		/* the most one burst moves: a pollen-fwd burst */
#define PL_ETH_FRAME_MAX 1518		/* largest frame with its CRC, no VLAN tag */
#define PL_ETH_MTU 1500

struct pl_eth_port;

struct pl_eth_conf {
	struct pl_mempool *pool;	/* RX buffers come from here (pl_pkt_pool_create); it must
					 * outlive the port, its data room at least 2048 bytes */
	unsigned rx_queues, tx_queues;	/* 0: 1; up to 2 on the 82574L (PL_ETH_MAX_QUEUES) */
	unsigned rx_desc, tx_desc;	/* ring sizes, powers of two, 8 to 4096 (0: 512 each) */
	bool promisc;			/* take every frame, whatever its destination */
	bool allmulti;			/* take every multicast frame */
	bool interrupts;		/* RX and link events into eventfds: pl_eth_rx_irq_fd() */
};

/*
 * With more than one RX queue (RSS) an IPv4 or IPv6 frame goes to the queue its Toeplitz
 * hash picks: over its addresses, and its ports for TCP (not for UDP, nor for fragments,
 * which have none), with this 40-byte key (the one Microsoft's RSS specification verifies
 * with, DPDK's Intel drivers' default), the queue being the hash modulo rx_queues. Every
 * other frame goes to queue 0. A flow stays on one queue, its fragments aside.
 */
#define PL_ETH_RSS_KEY_LEN 40
PL_API const uint8_t *pl_eth_rss_key(void);	/* PL_ETH_RSS_KEY_LEN bytes */

/**
 * pl_eth_open() - take the NIC at PCI address @addr (bound to vfio-pci) on @ctx, reset
 * it and set it up with @conf; it does not receive or send until pl_eth_start().
 * Return: the port, or NULL with errno set and the reason logged: ENODEV when nothing
 *         is at @addr or it is not a NIC Pollen drives, EINVAL for a malformed address or
 *         a bad @conf (a pool not mapped on @ctx among them), EBUSY when another process holds it, ENOMEM; a device still bound
 *         to its kernel driver gets what pl_vfio_open() says.
 */
PL_API struct pl_eth_port *pl_eth_open(struct pl_iommu *ctx, const char *addr,
				       const struct pl_eth_conf *conf);
/* Stops the port if running, frees every buffer it holds and releases the device. */
PL_API void pl_eth_close(struct pl_eth_port *port);

/*
 * Fills the RX rings and enables receive and transmit. 0 or a negative errno (-ENOBUFS
 * when the pool cannot fill the rings). The link may still be coming up: see
 * pl_eth_link_wait().
 */
PL_API int pl_eth_start(struct pl_eth_port *port);
/*
 * Disables receive and transmit, and frees the buffers in the rings (frames not yet
 * taken, packets not yet sent). No burst may run on the port meanwhile.
 */
PL_API void pl_eth_stop(struct pl_eth_port *port);

PL_API const char *pl_eth_addr(const struct pl_eth_port *port);	/* its PCI address */
PL_API const char *pl_eth_driver(const struct pl_eth_port *port);	/* "e1000", "e1000e" */
PL_API void pl_eth_mac(const struct pl_eth_port *port, uint8_t mac[PL_ETH_ADDR_LEN]);
PL_API unsigned pl_eth_rx_queues(const struct pl_eth_port *port);
PL_API unsigned pl_eth_tx_queues(const struct pl_eth_port *port);
/* The port number given to received packets (pl_pkt.port); 0 unless set. */
PL_API void pl_eth_set_port_id(struct pl_eth_port *port, uint16_t id);

struct pl_eth_link {
	bool up;
	bool full_duplex;
	unsigned speed_mbps;	/* 10, 100, 1000; 0 when down */
};

/*
 * The link as the device reports it now. Reading it is also how the driver notices a
 * change (as pl_eth_stats() and, with interrupts, pl_eth_rx_intr_disable() do): while it
 * is down, tx_burst refuses packets (returns 0, counts tx_link_down) rather than hand
 * them to a device that would drop them; once it is back, sending resumes.
 */
PL_API void pl_eth_link(struct pl_eth_port *port, struct pl_eth_link *out);
/* Waits up to @timeout_ms for the link to come up: 0, or -ETIMEDOUT (logged). */
PL_API int pl_eth_link_wait(struct pl_eth_port *port, unsigned timeout_ms);

/*
 * Receive filters: every frame (promiscuous), every multicast frame, or the multicast
 * addresses listed (through the device's hash table; @n 0 clears it). 0 or -errno.
 */
PL_API int pl_eth_set_promisc(struct pl_eth_port *port, bool on);
PL_API int pl_eth_set_allmulti(struct pl_eth_port *port, bool on);
PL_API int pl_eth_set_mc_list(struct pl_eth_port *port, const uint8_t (*addrs)[PL_ETH_ADDR_LEN],
			      unsigned n);

/**
 * struct pl_eth_stats - what a port counted since it was opened.
 * The device's counters (packets, octets, missed, errors) are 32 bits wide and stick at
 * their maximum; each pl_eth_stats() call adds them into these 64-bit totals, so call it
 * at least every few minutes at line rate (pollen-fwd does every second). The driver's own
 * counts (nombuf, tx_errors, the error kinds) are per queue, summed here.
 */
struct pl_eth_stats {
	uint64_t rx_packets, rx_bytes;	/* good frames and their octets (the device's count) */
	uint64_t tx_packets, tx_bytes;
	uint64_t rx_missed;		/* dropped by the device: no room (MPC) */
	uint64_t rx_no_desc;		/* arrived to an empty ring (RNBC; may also be missed) */
	uint64_t rx_errors;		/* CRC, alignment, symbol, length, runt, oversize, jabber */
	uint64_t rx_multicast, rx_broadcast;
	uint64_t tx_collisions;		/* excessive or late: not sent */
	/* the driver's */
	uint64_t rx_nombuf;		/* buffer refills that failed (the pool was dry): each
					 * left a frame waiting in the ring, as DPDK counts it */
	uint64_t rx_desc_errors;	/* descriptors handed back bad, recycled: the sum of */
	uint64_t rx_desc_frame_errors;	/*   error bits set (CRC, symbol, sequence, carrier) */
	uint64_t rx_desc_too_long;	/*   frames that did not fit one buffer: no EOP, or a
					 *   length past the buffer */
	uint64_t tx_errors;		/* packets refused: shorter than a header, longer than a
					 * frame, or an offload the device cannot do */
	uint64_t tx_link_down;		/* packets refused while the link was down */
	uint64_t link_changes;		/* link downs and ups the driver noticed */
	uint64_t sw_rx_packets, sw_tx_packets;	/* what the bursts moved */
};

/* Reads and accumulates the device's counters. 0 or -errno. */
PL_API int pl_eth_stats(struct pl_eth_port *port, struct pl_eth_stats *out);
/* Zeroes the totals (and the device's counters). */
PL_API void pl_eth_stats_reset(struct pl_eth_port *port);

/*
 * The fast path: a port carries, per queue, the driver's burst function and its queue,
 * so a burst is one indirect call and nothing else (ixy's device.h, DPDK's
 * rte_eth_fp_ops).
 */
typedef uint16_t (*pl_eth_burst_fn)(void *queue, struct pl_pkt **pkts, uint16_t n);

#define PL_ETH_MAX_QUEUES 2

/* The start of every port; the rest is the driver's. */
struct pl_eth_fp {
	pl_eth_burst_fn rx_burst, tx_burst;
	void *rxq[PL_ETH_MAX_QUEUES];
	void *txq[PL_ETH_MAX_QUEUES];
};

/* Up to @n (at most PL_ETH_MAX_BURST) received frames into @pkts; the count. */
PL_INLINE uint16_t pl_eth_rx_burst(struct pl_eth_port *port, unsigned queue, struct pl_pkt **pkts,
				   uint16_t n)
{
	const struct pl_eth_fp *fp = (const struct pl_eth_fp *)port;

	return fp->rx_burst(fp->rxq[queue], pkts, n);
}

/* Sends up to @n packets from @pkts; returns how many it took (see above). */
PL_INLINE uint16_t pl_eth_tx_burst(struct pl_eth_port *port, unsigned queue, struct pl_pkt **pkts,
				   uint16_t n)
{
	const struct pl_eth_fp *fp = (const struct pl_eth_fp *)port;

	return fp->tx_burst(fp->txq[queue], pkts, n);
}

/*
 * Sleeping when idle (pl_eth_conf.interrupts): poll while frames flow; when a poll budget
 * passes empty, arm the queue's interrupt, and sleep on its eventfd unless frames came in
 * meanwhile; after waking (or deciding not to sleep) disarm it and poll again:
 *
 *	if (pl_eth_rx_intr_enable(port, q) == 0)
 *		wait on pl_eth_rx_irq_fd(port, q) (pl_irq_waiter, poll, epoll...);
 *	pl_eth_rx_intr_disable(port, q);
 *
 * The eventfd also fires for link changes. The 82540EM has one INTx line for everything
 * (unmasked again by the disable call); the 82574L has an MSI-X vector per RX queue, one
 * for TX and one for other causes (the link), which pl_eth_link_irq_fd() gives.
 */
/* The eventfd that fires for RX on @queue, or -1 (no interrupts, or no such queue). */
PL_API int pl_eth_rx_irq_fd(struct pl_eth_port *port, unsigned queue);
/* The eventfd that fires for link changes (on the 82540EM the same as RX's), or -1. */
PL_API int pl_eth_link_irq_fd(struct pl_eth_port *port);
/*
 * Arms @queue's RX interrupt. Return: 0 armed (sleep now), 1 frames are already waiting
 * (do not sleep: disarm and poll), -EINVAL without interrupts.
 */
PL_API int pl_eth_rx_intr_enable(struct pl_eth_port *port, unsigned queue);
/* Disarms it, clears what fired, notices a link change; polling goes on. */
PL_API void pl_eth_rx_intr_disable(struct pl_eth_port *port, unsigned queue);

/*
 * Sent packets the driver still holds wait for the next tx_burst to free them; this frees
 * what the device has finished with now (a sender that stops calls it so that its pool is
 * whole again). Returns how many it freed. The TX queue's thread only.
 */
PL_API unsigned pl_eth_tx_reclaim(struct pl_eth_port *port, unsigned queue);

PL_END_DECLS

#endif
