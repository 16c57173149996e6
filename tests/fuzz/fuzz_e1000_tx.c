/*
 * e1000 transmit against a device that sends when the input says, and writes DD back
 * where it says too (on descriptors it has not sent, or never will): packets of any
 * length, with checksum offloads of any header lengths. Frames must leave in order, as
 * long as they were sent, and only those the driver accepted; a buffer may be freed
 * early by a lying device but never lost nor freed twice.
 */
#include <pollen/eth.h>
#include <pollen/log.h>
#include <pollen/pkt.h>

#include "e1000_hw.h"
#include "e1000_model.h"
#include "fuzz.h"

#define RING 64

static struct {
	struct e1000_model *m;
	struct pl_eth_port *port;
	struct pl_mempool *pool;
	unsigned idle;		/* buffers the port holds with nothing in flight */
	uint64_t seq;		/* of the next packet */
	uint64_t next_out;	/* no frame may leave with a sequence below this */
	bool lied;		/* DD written where nothing was sent: contents may be stale */
	struct pl_eth_stats last;
} s;

/* A frame carries its sequence number in the source MAC, which no offload touches. */
static void on_tx(void *arg, unsigned q, const uint8_t *f, size_t len)
{
	uint64_t seq = 0;

	(void)arg;
	(void)q;
	FUZZ_CHECK(len >= PL_ETH_HDR_LEN && len <= PL_ETH_FRAME_MAX - 4, "a frame of %zu bytes left", len);
	memcpy(&seq, f + 6, 6);
	if (s.lied)
		return;
	FUZZ_CHECK(seq >= s.next_out && seq < s.seq, "frame %llu left after %llu",
		   (unsigned long long)seq, (unsigned long long)s.next_out);
	s.next_out = seq + 1;
}

static struct pl_pkt *packet(struct fuzz_in *in)
{
	struct pl_pkt *p = pl_pkt_alloc(s.pool);

	if (!p)
		return NULL;
	uint8_t kind = fuzz_u8(in);
	unsigned len = kind & 0x80 ? fuzz_u16(in) % 1600 : 60 + kind % 64;
	uint8_t *d = pl_pkt_append(p, len);
	if (!d) {
		pl_pkt_free(p);
		return NULL;
	}
	memset(d, 0x5a, len);
	if (len >= 12)
		memcpy(d + 6, &s.seq, 6);
	if (kind & 0x40) {
		uint8_t f = fuzz_u8(in);

		p->flags = f & PL_PKT_TX_CSUM;
		p->l2_len = fuzz_u8(in);
		p->l3_len = fuzz_u8(in);
	}
	s.seq++;
	return p;
}

static void send(struct fuzz_in *in)
{
	struct pl_pkt *pkts[80];
	unsigned n = 1 + fuzz_u8(in) % 80, k = 0;

	while (k < n && (pkts[k] = packet(in)))
		k++;
	uint16_t taken = pl_eth_tx_burst(s.port, 0, pkts, (uint16_t)k);
	FUZZ_CHECK(taken <= k, "took %u of %u", taken, k);
	pl_pkt_free_bulk(pkts + taken, k - taken);
}

static unsigned device_sends(unsigned max)
{
	model_lock(e1000_model_dev(s.m));
	unsigned n = e1000_model_tx(s.m, 0, max);
	model_unlock(e1000_model_dev(s.m));
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	if (!s.port) {
		pl_log_set_level(PL_LOG_ERR);
		struct pl_iommu *ctx = model_bed_open();
		s.m = e1000_model_new(&(struct e1000_model_conf){ .manual_tx = true });
		e1000_model_set_tx_cb(s.m, on_tx, NULL);
		s.pool = model_pkt_pool(ctx, 512);
		s.port = pl_eth_open(ctx, "0000:00:03.0", &(struct pl_eth_conf){
			.pool = s.pool, .rx_desc = 8, .tx_desc = RING });
		if (!s.port || pl_eth_start(s.port))
			abort();
		struct pl_mempool_stats st;
		pl_mempool_stats(s.pool, &st);
		s.idle = st.in_use;
	}
	s.lied = false;
	while (in.left) {
		uint8_t op = fuzz_u8(&in);

		switch (op % 5) {
		case 0:
		case 1:
			send(&in);
			break;
		case 2:
			device_sends(1 + fuzz_u8(&in) % (2 * RING));
			break;
		case 3:	/* DD where the input says */
			model_lock(e1000_model_dev(s.m));
			e1000_model_tx_writeback(s.m, 0, fuzz_u8(&in) % RING, E1000_TXD_STAT_DD);
			model_unlock(e1000_model_dev(s.m));
			s.lied = true;
			break;
		case 4:
			pl_eth_tx_reclaim(s.port, 0);
			break;
		}
	}
	/*
	 * The device sends the rest; every buffer comes back, once. After DD written early
	 * the driver may have reused slots the device had not sent, which it then never
	 * reports: those come back when the port stops, as after any device that hangs.
	 */
	while (device_sends(2 * RING))
		;
	pl_eth_tx_reclaim(s.port, 0);
	if (s.lied) {
		pl_eth_stop(s.port);
		FUZZ_CHECK(!pl_eth_start(s.port), "the port would not start again");
	}
	struct pl_mempool_stats st;
	pl_mempool_stats(s.pool, &st);
	FUZZ_CHECK(!st.debug_errors, "a buffer freed twice, or not the pool's");
	FUZZ_CHECK(st.in_use == s.idle, "%u buffers out, %u with nothing in flight", st.in_use,
		   s.idle);
	struct pl_eth_stats es;
	pl_eth_stats(s.port, &es);
	FUZZ_CHECK(es.sw_tx_packets + es.tx_errors <= s.seq, "more counted than sent");
	s.next_out = s.seq;
	return 0;
}
