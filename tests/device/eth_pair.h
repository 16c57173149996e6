/* Device-test helpers for the Ethernet interface: a sender and a receiver on one hub. */
#ifndef PL_TEST_ETH_PAIR_H
#define PL_TEST_ETH_PAIR_H

#include <stdbool.h>
#include <stdint.h>

#include <pollen/eth.h>
#include <pollen/mempool.h>
#include <pollen/pkt.h>

#define ETHERTYPE_TEST 0x88b5	/* IEEE local experimental: no stack answers it */

struct pair {
	struct pl_mempool *pool;
	struct pl_eth_port *tx, *rx;
	uint8_t tx_mac[6], rx_mac[6];
	bool rx_interrupts;	/* open the receiver with pl_eth_conf.interrupts */
};

uint64_t now_ms(void);
/* A pool of @n packets, made while tb.dev holds a NIC; tb.dev is let go after. */
struct pl_mempool *make_pool(unsigned n);
/* The bed's first port of @family, opened and started; fails the case otherwise. */
struct pl_eth_port *open_port(const char *family, struct pl_mempool *pool, unsigned rx_desc,
			      unsigned tx_desc, bool interrupts);
/* Sender of @from, receiver of @to, both up; the receiver's RX ring @rx_desc. */
void open_pair(struct pair *pr, const char *from, const char *to, unsigned pool_n, unsigned rx_desc,
	       unsigned tx_desc);
/* Closes both and fails the case if a packet buffer is missing from the pool. */
void close_pair(struct pair *pr);
/* Frame @seq: @len bytes, the pair's MACs, ETHERTYPE_TEST, bytes that name it. */
void fill_frame(uint8_t *f, unsigned len, const struct pair *pr, uint32_t seq);
/* The length frame @seq has: every size from 60 to 1514 over a run. */
unsigned frame_len(uint32_t seq);
/* Sends frames [@seq, @seq + @n) (n <= PL_ETH_MAX_BURST); fails on a stall. */
void send_frames(struct pair *pr, uint32_t seq, unsigned n);
/* Receives up to @n frames within @ms, each checked byte for byte; how many came. */
unsigned recv_frames(struct pair *pr, uint32_t seq, unsigned n, unsigned ms);

#endif
