/*
 * An Intel 82540EM or 82574L modelled on the host: registers in a memory BAR0 (reset,
 * EEPROM reads, link), RX and TX descriptor rings in the driver's DMA memory. Frames
 * arrive when a test hands them over, with any write-back it likes (a length past the
 * buffer, any status and error bits, no EOP); frames the driver sends are read by the
 * runner (or by hand), checksums inserted as the offloads ask, and given to a callback.
 * Statistics registers stay 0: the driver's own counts are what a test checks.
 */
#ifndef PL_TEST_E1000_MODEL_H
#define PL_TEST_E1000_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct e1000_model_conf {
	const char *addr;	/* default 0000:00:03.0 */
	bool e1000e;		/* an 82574L (two queues, MSI-X); else an 82540EM (INTx) */
	uint8_t mac[6];		/* default 52:54:00:12:34:56 */
	bool manual_tx;		/* TX only by e1000_model_tx() */
	/* PCI subsystem IDs; 0: Intel's own. QEMU's are 1af4:1100 (its quirks, quirks.c). */
	uint16_t subsys_vendor, subsys_device;
};

struct e1000_model;

struct e1000_model *e1000_model_new(const struct e1000_model_conf *conf);
struct model_dev *e1000_model_dev(struct e1000_model *m);

/* What the device writes back for a received frame, whatever the frame was. */
struct e1000_model_rxwb {
	uint16_t length;
	uint8_t status;		/* E1000_RXD_STAT_* (DD is the model's to set) */
	uint8_t errors;		/* E1000_RXD_ERR_* (extended: shifted to 31:24) */
	uint32_t rss_hash;	/* extended descriptors */
};

/*
 * With the lock held: @len bytes of @data written to the next descriptor's buffer of RX
 * queue @q (at most its 2048 bytes), @wb written back with DD. -ENOSPC when the driver
 * has given no descriptor (RDH == RDT), -EAGAIN with the receiver off, -EFAULT when
 * the buffer is not DMA memory (counted by model_dma_faults()).
 */
int e1000_model_rx_raw(struct e1000_model *m, unsigned q, const void *data, size_t len,
		       const struct e1000_model_rxwb *wb);
/* A frame as a device receives it: length, DD and EOP, no errors. */
int e1000_model_rx(struct e1000_model *m, unsigned q, const void *frame, size_t len);
/* Descriptors the driver has handed over on RX queue @q. */
unsigned e1000_model_rx_room(struct e1000_model *m, unsigned q);

/* A frame sent: its bytes as they went on the wire (offloaded checksums filled). */
typedef void (*e1000_model_tx_cb)(void *arg, unsigned q, const uint8_t *frame, size_t len);
void e1000_model_set_tx_cb(struct e1000_model *m, e1000_model_tx_cb cb, void *arg);
/*
 * With the lock held: up to @max descriptors of TX queue @q sent, DD written back where
 * RS asks; returns how many. What the runner does unless manual_tx.
 */
unsigned e1000_model_tx(struct e1000_model *m, unsigned q, unsigned max);
/* Descriptors handed over on TX queue @q and not yet taken (TDT - TDH). */
unsigned e1000_model_tx_pending(struct e1000_model *m, unsigned q);
/* With the lock held: writes @status into TX descriptor @i of queue @q (any, any time). */
void e1000_model_tx_writeback(struct e1000_model *m, unsigned q, unsigned i, uint8_t status);

/* STATUS.LU, with the link interrupt where it is enabled. Lock held. */
void e1000_model_set_link(struct e1000_model *m, bool up);

struct e1000_model_stats {
	unsigned resets, eeprom_reads;
	unsigned long rx_frames, tx_frames, tx_descs;
	unsigned long rdt_writes;	/* changes of RDT seen */
};
const struct e1000_model_stats *e1000_model_stats(struct e1000_model *m);

#endif
