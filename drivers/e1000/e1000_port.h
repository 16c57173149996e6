/* The e1000 port's insides, shared by every file of the driver: a port, its RX and TX
 * queues, register access, the quirks. */
#ifndef PL_E1000_PORT_H
#define PL_E1000_PORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <pollen/eth.h>
#include <pollen/mmio.h>
#include <pollen/vfio.h>

#include "e1000_hw.h"
#include "eth_priv.h"

/* What tells the two programming models apart where they differ. */
enum e1000_mac {
	E1000_MAC_82540,	/* 82540EM and the 8254x parts that program like it */
	E1000_MAC_82574,	/* 82574L, 82574LA, 82583V */
};

/*
 * RX (2 KiB buffers): every slot always holds a buffer, and the device owns the slots
 * from RDH up to RDT - 1. RDT stays one behind the next slot software reads, because
 * RDH == RDT means "no buffers" to the device (SDM 3.2.6). Frames are one descriptor
 * each: LPE is off, so the device never writes more than 1522 bytes. A descriptor without
 * EOP means a frame that did not fit: it and the pieces after it up to EOP are recycled
 * in place. Descriptors are the legacy ones, or on an 82574L with two RX queues the
 * extended ones, which RSS needs (DS 7.1.11); the two differ only in where the fields are.
 */
#define E1000_RING_MAX 4096		/* descriptors a ring may have here (a power of two) */
#define E1000_RING_DEFAULT 512
#define E1000_RX_BUF_LEN 2048		/* RCTL.BSIZE: what the device writes at most */
#define E1000_RX_SPARE PL_ETH_MAX_BURST
#define E1000_RX_FREE_THRESH 64		/* re-posted descriptors per RDT write (rx.c) */

struct e1000_rxq {
	volatile struct e1000_rx_desc *ring;
	struct pl_pkt **bufs;		/* the packet behind each descriptor */
	struct pl_mempool *pool;
	struct e1000_port *port;
	uint16_t mask;			/* ring size - 1 (a power of two) */
	uint16_t next;			/* next descriptor the device will fill */
	uint16_t held;			/* re-posted since the last RDT write */
	uint16_t free_thresh;		/* RDT is written once held reaches this */
	uint16_t port_id;
	bool in_frag;			/* discarding the rest of a frame that did not fit */
	uint16_t nspare;		/* fresh buffers waiting for a descriptor */
	struct pl_pkt *spare[E1000_RX_SPARE];
	/* counted by the owner thread (e1000_count), read by pl_eth_stats() */
	uint64_t packets, nombuf;
	uint64_t err_frame, err_frag;	/* bad frames (CRC, symbol...), frames that did not fit */
	uint64_t ring_iova;
	uint32_t rdt_reg;		/* E1000_RDT_Q(n) */
} __attribute__((aligned(64)));	/* queues have their own threads: no line shared */

/*
 * TX: the device writes DD back only to descriptors with RS. RS goes on the last
 * descriptor of every group (a burst's end, and every E1000_TX_RS_EVERY descriptors
 * within a burst), and the group's first slot remembers where that is, so one status
 * read reclaims a group and nothing is left unreported when sending stops.
 */
#define E1000_TX_RS_EVERY 64
#define E1000_TX_SPLIT_SHIFT 21		/* frames crossing a 2 MiB page go as two (tx.c) */
#define E1000_TX_SPLIT_MASK ((1ull << E1000_TX_SPLIT_SHIFT) - 1)

struct e1000_txq {
	volatile struct e1000_tx_desc *ring;
	struct pl_pkt **bufs;
	uint16_t *group_end;		/* at a group's first slot: the slot carrying its RS */
	struct e1000_port *port;
	uint16_t mask;
	uint16_t tail;			/* next descriptor to fill */
	uint16_t clean;			/* oldest descriptor not yet reclaimed (a group's first) */
	uint16_t max_len;		/* longest frame accepted, without its CRC */
	bool link_down;			/* set by the control path (events.c): refuse to send */
	uint32_t ctx_key;		/* the checksum context last given the device, 0: none */
	uint64_t packets, errors, link_refused;
	uint64_t ring_iova;
	uint32_t tdt_reg;		/* E1000_TDT_Q(n) */
} __attribute__((aligned(64)));

struct e1000_port {
	struct pl_eth_port eth;		/* first: the fast path's function pointers */
	struct pl_vfio_dev *dev;
	struct pl_iommu *ctx;
	volatile void *bar;
	enum e1000_mac mac_type;
	bool rx_ext;			/* extended RX descriptors, RSS over the RX queues */
	struct pl_eth_conf conf;
	bool running;
	void *ring_mem;			/* every ring of the port, in one DMA region */
	uint64_t ring_mem_iova;
	uint32_t mta[E1000_MTA_NUM];	/* the multicast hash table, as last written to MTA */
	pthread_mutex_t lock;		/* control path: filters, statistics, start and stop */
	struct pl_eth_stats hw;		/* the device's counters, accumulated */
	struct pl_eth_stats sw_base;	/* the queues' counts at the last stats reset */
	unsigned quirks;		/* E1000_QUIRK_*, from quirks.c's table */
	uint32_t sticky_last[(E1000_STATS_LAST - E1000_STATS_FIRST) / 4 + 1];
	/* events.c: interrupts (when conf.interrupts) and the link as last seen */
	bool irqs;
	int rx_fd[PL_ETH_MAX_QUEUES], link_fd;
	bool link_up;			/* assumed up until the device is seen saying otherwise */
	uint64_t link_changes;
	struct e1000_rxq rxq[PL_ETH_MAX_QUEUES];
	struct e1000_txq txq[PL_ETH_MAX_QUEUES];
};

/* A queue's counter: its thread alone writes it, pl_eth_stats() reads it from another. */
static inline void e1000_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static inline uint32_t e1000_read(const struct e1000_port *p, uint32_t reg)
{
	return pl_mmio_read32(p->bar, reg);
}

static inline void e1000_write(const struct e1000_port *p, uint32_t reg, uint32_t v)
{
	pl_mmio_write32((volatile void *)p->bar, reg, v);
}

static inline void e1000_flush(const struct e1000_port *p)
{
	/* A read of STATUS pushes posted (and, under KVM, coalesced) writes to the device. */
	(void)e1000_read(p, E1000_STATUS);
}

/* rx.c */
int e1000_rxq_init(struct e1000_port *p, unsigned q, void *ring, uint64_t iova);
int e1000_rxq_start(struct e1000_port *p, unsigned q);
void e1000_rxq_stop(struct e1000_port *p, unsigned q);
void e1000_rxq_free(struct e1000_port *p, unsigned q);
uint16_t e1000_rx_burst(void *queue, struct pl_pkt **pkts, uint16_t n);
uint16_t e1000_rx_burst_ext(void *queue, struct pl_pkt **pkts, uint16_t n);
/* Whether the next descriptor software reads holds a frame (its DD bit). */
bool e1000_rxq_ready(const struct e1000_rxq *rq);
/* RSS over the port's RX queues (extended descriptors), or none; before RCTL.EN. */
void e1000_rss_setup(struct e1000_port *p);

/* tx.c */
int e1000_txq_init(struct e1000_port *p, unsigned q, void *ring, uint64_t iova);
void e1000_txq_start(struct e1000_port *p, unsigned q);
void e1000_txq_stop(struct e1000_port *p, unsigned q);
void e1000_txq_free(struct e1000_port *p, unsigned q);
uint16_t e1000_tx_burst(void *queue, struct pl_pkt **pkts, uint16_t n);
unsigned e1000_tx_reclaim(struct e1000_txq *q);

/* events.c */
int e1000_irq_setup(struct e1000_port *p);
void e1000_irq_teardown(struct e1000_port *p);
uint32_t e1000_link_update_locked(struct e1000_port *p);
int e1000_rx_irq_fd(struct pl_eth_port *port, unsigned q);
int e1000_link_irq_fd(struct pl_eth_port *port);
int e1000_rx_intr(struct pl_eth_port *port, unsigned q, bool on);

/* stats.c */
void e1000_stats_clear_hw(struct e1000_port *p);
void e1000_stats_read_locked(struct e1000_port *p);
int e1000_stats(struct pl_eth_port *port, struct pl_eth_stats *out);
void e1000_stats_reset(struct pl_eth_port *port);

/* quirks.c: what a device does unlike the datasheet, found by its PCI IDs */
#define E1000_QUIRK_RCTL_PAUSE	(1u << 0)	/* no frame taken for 1 s after an RCTL write */
#define E1000_QUIRK_STICKY_STATS (1u << 1)	/* counters that are not cleared on read */
unsigned e1000_quirks(const struct pl_pci_info *info);

#endif
