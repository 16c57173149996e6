/* An 82540EM or 82574L modelled in ordinary memory, for the driver's host-side tests. */
#include "e1000_model.h"

#include "e1000_hw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BUF_LEN 2048		/* RCTL.BSIZE as the driver sets it */
#define MAX_FRAME 16384
#define QUEUES 2

struct txctx {
	uint8_t ipcss, ipcso, tucss, tucso;
	uint16_t ipcse, tucse;
};

struct txq {
	uint8_t frame[MAX_FRAME];
	size_t len;
	bool bad;		/* a buffer of this frame could not be read */
	uint8_t popts;
	struct txctx ctx;
};

struct e1000_model {
	struct model_dev *dev;
	struct e1000_model_conf conf;
	uint16_t eeprom[64];
	struct txq tx[QUEUES];
	uint32_t last_rdt[QUEUES];
	e1000_model_tx_cb tx_cb;
	void *tx_arg;
	struct e1000_model_stats stats;
};

static uint32_t reg(struct e1000_model *m, uint32_t off)
{
	return model_reg(m->dev, 0, off);
}

static void set_reg(struct e1000_model *m, uint32_t off, uint32_t v)
{
	model_set_reg(m->dev, 0, off, v);
}

static uint64_t ring_base(struct e1000_model *m, uint32_t lo)
{
	return reg(m, lo) | (uint64_t)reg(m, lo + 4) << 32;
}

static unsigned ring_len(struct e1000_model *m, uint32_t len_reg)
{
	return (reg(m, len_reg) & ~127u) / E1000_DESC_SIZE;	/* as QEMU masks it */
}

/* Descriptors from head to tail: what the driver handed over (0 for a ring not set up). */
static unsigned ring_span(struct e1000_model *m, uint32_t len_reg, uint32_t head, uint32_t tail)
{
	unsigned n = ring_len(m, len_reg);
	uint32_t h = reg(m, head), t = reg(m, tail);

	if (!n || h >= n || t >= n)
		return 0;
	return (t - h + n) % n;
}

/* ---- interrupts ---- */

static void raise(struct e1000_model *m, uint32_t cause, unsigned ivar_shift)
{
	if (!(reg(m, E1000_IMS) & cause))
		return;
	set_reg(m, E1000_ICR, reg(m, E1000_ICR) | cause);
	if (!m->conf.e1000e) {
		model_irq(m->dev, 0);
		return;
	}
	uint32_t e = reg(m, E1000_IVAR) >> ivar_shift;
	if (e & E1000_IVAR_VALID)
		model_irq(m->dev, e & E1000_IVAR_VECTOR_MASK);
}

void e1000_model_set_link(struct e1000_model *m, bool up)
{
	uint32_t st = reg(m, E1000_STATUS);

	set_reg(m, E1000_STATUS, up ? st | E1000_STATUS_LU : st & ~E1000_STATUS_LU);
	raise(m, E1000_ICR_LSC | (m->conf.e1000e ? E1000_ICR_OTHER : 0), E1000_IVAR_OTHER_SHIFT);
}

/* ---- receive ---- */

static bool rx_ext(struct e1000_model *m)
{
	return m->conf.e1000e && (reg(m, E1000_RFCTL) & E1000_RFCTL_EXTEN);
}

unsigned e1000_model_rx_room(struct e1000_model *m, unsigned q)
{
	return ring_span(m, E1000_RDLEN_Q(q), E1000_RDH_Q(q), E1000_RDT_Q(q));
}

int e1000_model_rx_raw(struct e1000_model *m, unsigned q, const void *data, size_t len,
		       const struct e1000_model_rxwb *wb)
{
	unsigned n = ring_len(m, E1000_RDLEN_Q(q));
	uint32_t h = reg(m, E1000_RDH_Q(q));

	if (q >= QUEUES || !(reg(m, E1000_RCTL) & E1000_RCTL_EN))
		return -EAGAIN;
	if (!e1000_model_rx_room(m, q))
		return -ENOSPC;
	uint64_t at = ring_base(m, E1000_RDBAL_Q(q)) + (uint64_t)h * E1000_DESC_SIZE;
	volatile struct e1000_rx_desc *d = model_dma(at, E1000_DESC_SIZE);
	if (!d)
		return -EFAULT;
	void *buf = model_dma(d->addr, len < BUF_LEN ? len : BUF_LEN);
	if (len && !buf)
		return -EFAULT;
	memcpy(buf, data, len < BUF_LEN ? len : BUF_LEN);
	if (rx_ext(m)) {
		volatile union e1000_rx_desc_ext *x = (volatile union e1000_rx_desc_ext *)d;

		x->wb.mrq = wb->rss_hash ? 1 : 0;
		x->wb.hi.rss_hash = wb->rss_hash;
		x->wb.length = wb->length;
		x->wb.vlan = 0;
		__atomic_store_n(&x->wb.status_error, (uint32_t)wb->errors << 24 | wb->status |
				 E1000_RXD_STAT_DD, __ATOMIC_RELEASE);
	} else {
		d->length = wb->length;
		d->csum = 0;
		d->errors = wb->errors;
		d->special = 0;
		__atomic_store_n(&d->status, (uint8_t)(wb->status | E1000_RXD_STAT_DD),
				 __ATOMIC_RELEASE);
	}
	set_reg(m, E1000_RDH_Q(q), (h + 1) % n);
	m->stats.rx_frames++;
	raise(m, m->conf.e1000e ? E1000_ICR_RXQ0 << q : E1000_ICR_RXT0,
	      q ? E1000_IVAR_RXQ1_SHIFT : E1000_IVAR_RXQ0_SHIFT);
	return 0;
}

int e1000_model_rx(struct e1000_model *m, unsigned q, const void *frame, size_t len)
{
	struct e1000_model_rxwb wb = { .length = (uint16_t)len, .status = E1000_RXD_STAT_EOP };

	return e1000_model_rx_raw(m, q, frame, len, &wb);
}

/* ---- transmit ---- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static void put_csum(uint8_t *f, size_t len, unsigned start, unsigned end, unsigned at)
{
	if (!end || end >= len)
		end = (unsigned)len - 1;
	if (start > end || at + 2 > len)
		return;
	uint32_t s = sum16(f + start, end - start + 1, 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	uint16_t c = (uint16_t)~s;
	f[at] = (uint8_t)(c >> 8);
	f[at + 1] = (uint8_t)c;
}

static void send_frame(struct e1000_model *m, unsigned q)
{
	struct txq *t = &m->tx[q];

	if (!t->bad && t->len) {
		if (t->popts & E1000_TXD_POPTS_IXSM) {
			t->frame[t->ctx.ipcso] = t->frame[t->ctx.ipcso + 1] = 0;
			put_csum(t->frame, t->len, t->ctx.ipcss, t->ctx.ipcse, t->ctx.ipcso);
		}
		if (t->popts & E1000_TXD_POPTS_TXSM)
			put_csum(t->frame, t->len, t->ctx.tucss, t->ctx.tucse, t->ctx.tucso);
		m->stats.tx_frames++;
		if (m->tx_cb)
			m->tx_cb(m->tx_arg, q, t->frame, t->len);
	}
	t->len = 0;
	t->bad = false;
	t->popts = 0;
}

/* One descriptor: a buffer appended, a context taken, a frame sent at EOP. */
static void tx_desc(struct e1000_model *m, unsigned q, volatile struct e1000_tx_desc *d)
{
	struct txq *t = &m->tx[q];
	bool dext = d->cmd & E1000_TXD_CMD_DEXT;
	uint32_t cl = ((volatile struct e1000_tx_data_desc *)d)->cmd_and_length;
	bool rs, eop;
	size_t len;

	if (dext && !(cl & E1000_TXD_DTYP_DATA)) {
		volatile struct e1000_tx_context_desc *c = (volatile struct e1000_tx_context_desc *)d;

		t->ctx = (struct txctx){ c->ipcss, c->ipcso, c->tucss, c->tucso, c->ipcse, c->tucse };
		if (cl & E1000_TXD_TUCMD_RS)
			c->status |= E1000_TXD_STAT_DD;
		return;
	}
	len = dext ? cl & E1000_TXD_LEN_MASK : d->length;
	rs = dext ? cl & E1000_TXD_DCMD_RS : d->cmd & E1000_TXD_CMD_RS;
	eop = dext ? cl & E1000_TXD_DCMD_EOP : d->cmd & E1000_TXD_CMD_EOP;
	if (dext && !t->len)
		t->popts = ((volatile struct e1000_tx_data_desc *)d)->popts;
	if (t->len + len > MAX_FRAME) {
		t->bad = true;
	} else if (len) {
		const void *src = model_dma(d->addr, len);

		if (src)
			memcpy(t->frame + t->len, src, len);
		else
			t->bad = true;
		t->len += len;
	}
	if (rs)
		d->status |= E1000_TXD_STAT_DD;
	if (eop)
		send_frame(m, q);
}

unsigned e1000_model_tx_pending(struct e1000_model *m, unsigned q)
{
	return ring_span(m, E1000_TDLEN_Q(q), E1000_TDH_Q(q), E1000_TDT_Q(q));
}

unsigned e1000_model_tx(struct e1000_model *m, unsigned q, unsigned max)
{
	unsigned n = ring_len(m, E1000_TDLEN_Q(q)), done = 0;
	uint32_t h = reg(m, E1000_TDH_Q(q));
	uint64_t base = ring_base(m, E1000_TDBAL_Q(q));

	if (q >= QUEUES || !(reg(m, E1000_TCTL) & E1000_TCTL_EN))
		return 0;
	while (done < max && e1000_model_tx_pending(m, q)) {
		volatile struct e1000_tx_desc *d = model_dma(base + (uint64_t)h * E1000_DESC_SIZE,
							      E1000_DESC_SIZE);
		if (!d)
			break;
		tx_desc(m, q, d);
		h = (h + 1) % n;
		set_reg(m, E1000_TDH_Q(q), h);
		done++;
		m->stats.tx_descs++;
	}
	if (done)
		raise(m, m->conf.e1000e ? E1000_ICR_TXQ0 << q : E1000_ICR_TXDW,
		      q ? E1000_IVAR_TXQ1_SHIFT : E1000_IVAR_TXQ0_SHIFT);
	return done;
}

void e1000_model_tx_writeback(struct e1000_model *m, unsigned q, unsigned i, uint8_t status)
{
	uint64_t at = ring_base(m, E1000_TDBAL_Q(q)) + (uint64_t)i * E1000_DESC_SIZE;
	volatile struct e1000_tx_desc *d = model_dma(at, E1000_DESC_SIZE);

	if (d)
		d->status = status;
}

/* ---- registers ---- */

static void load_mac(struct e1000_model *m)
{
	const uint8_t *a = m->conf.mac;

	set_reg(m, E1000_RAL(0), (uint32_t)a[0] | a[1] << 8 | a[2] << 16 | (uint32_t)a[3] << 24);
	set_reg(m, E1000_RAH(0), (uint32_t)a[4] | a[5] << 8 | E1000_RAH_AV);
}

/* CTRL.RST: what a part reloads from its EEPROM, the link as it was. */
static void mac_reset(struct e1000_model *m)
{
	set_reg(m, E1000_CTRL, E1000_CTRL_FD | E1000_CTRL_SLU);
	set_reg(m, E1000_RCTL, 0);
	set_reg(m, E1000_TCTL, 0);
	set_reg(m, E1000_IMS, 0);
	set_reg(m, E1000_ICR, 0);
	for (unsigned q = 0; q < QUEUES; q++) {
		set_reg(m, E1000_RDH_Q(q), 0);
		set_reg(m, E1000_RDT_Q(q), 0);
		set_reg(m, E1000_TDH_Q(q), 0);
		set_reg(m, E1000_TDT_Q(q), 0);
		m->tx[q].len = 0;
		m->last_rdt[q] = 0;
	}
	load_mac(m);
	set_reg(m, E1000_EECD, E1000_EECD_PRES | (m->conf.e1000e ? E1000_EECD_AUTO_RD_82574 : 0));
	m->stats.resets++;
}

static bool eeprom(struct e1000_model *m)
{
	uint32_t v = reg(m, E1000_EERD);
	bool e = m->conf.e1000e;
	uint32_t done = e ? E1000_EERD_DONE_82574 : E1000_EERD_DONE_82540;

	if (!(v & E1000_EERD_START) || (v & done))
		return false;
	unsigned w = e ? (v & E1000_EERD_ADDR_MASK_82574) >> E1000_EERD_ADDR_SHIFT_82574 :
			 (v & E1000_EERD_ADDR_MASK_82540) >> E1000_EERD_ADDR_SHIFT_82540;
	uint16_t data = w < 64 ? m->eeprom[w] : 0xffff;
	set_reg(m, E1000_EERD, (v & ~E1000_EERD_DATA_MASK) | done |
		(uint32_t)data << E1000_EERD_DATA_SHIFT);
	m->stats.eeprom_reads++;
	return true;
}

static bool step(struct model_dev *d)
{
	struct e1000_model *m = d->priv;
	uint32_t ctrl = reg(m, E1000_CTRL), st = reg(m, E1000_STATUS);
	bool did = false;

	if (ctrl & E1000_CTRL_RST) {
		mac_reset(m);
		did = true;
	}
	/* Bus mastering stops when asked to, at once: nothing is ever in flight here. */
	if ((ctrl & E1000_CTRL_GIO_MASTER_DIS) && (st & E1000_STATUS_GIO_MASTER_EN))
		set_reg(m, E1000_STATUS, st & ~E1000_STATUS_GIO_MASTER_EN);
	else if (!(ctrl & E1000_CTRL_GIO_MASTER_DIS) && !(st & E1000_STATUS_GIO_MASTER_EN))
		set_reg(m, E1000_STATUS, st | E1000_STATUS_GIO_MASTER_EN);
	did |= eeprom(m);
	for (unsigned q = 0; q < QUEUES; q++) {
		uint32_t rdt = reg(m, E1000_RDT_Q(q));

		if (rdt != m->last_rdt[q]) {
			m->last_rdt[q] = rdt;
			m->stats.rdt_writes++;
		}
		if (!m->conf.manual_tx && e1000_model_tx(m, q, ~0u))
			did = true;
	}
	return did;
}

static void reset(struct model_dev *d)
{
	struct e1000_model *m = d->priv;

	memset((void *)d->bar[0], 0, E1000_MMIO_SIZE);
	set_reg(m, E1000_STATUS, E1000_STATUS_LU | E1000_STATUS_FD | E1000_STATUS_SPEED_1000 |
		E1000_STATUS_GIO_MASTER_EN);
	mac_reset(m);
	m->stats.resets = 0;
}

static void destroy(struct model_dev *d)
{
	free(d->priv);
}

static const struct model_dev_ops e1000_ops = { .step = step, .reset = reset, .destroy = destroy };

struct e1000_model *e1000_model_new(const struct e1000_model_conf *conf)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct e1000_model *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	if (conf)
		m->conf = *conf;
	if (!m->conf.addr)
		m->conf.addr = "0000:00:03.0";
	if (!memcmp(m->conf.mac, (uint8_t[6]){ 0 }, 6))
		memcpy(m->conf.mac, mac, 6);
	for (unsigned w = 0; w < 3; w++)
		m->eeprom[w] = (uint16_t)(m->conf.mac[2 * w] | m->conf.mac[2 * w + 1] << 8);
	uint16_t sum = 0;
	for (unsigned w = 0; w < E1000_EEPROM_CHECKSUM; w++)
		sum += m->eeprom[w];
	m->eeprom[E1000_EEPROM_CHECKSUM] = (uint16_t)(E1000_EEPROM_CSUM_SUM - sum);

	bool e = m->conf.e1000e;
	m->dev = model_dev_add(&(struct model_dev_conf){
		.addr = m->conf.addr, .vendor = E1000_VENDOR_INTEL,
		.device = e ? E1000_DEV_82574L : E1000_DEV_82540EM, .class_code = 0x020000,
		.subsys_vendor = m->conf.subsys_vendor ? m->conf.subsys_vendor : E1000_VENDOR_INTEL,
		.subsys_device = m->conf.subsys_vendor ? m->conf.subsys_device : e ? 0x0000 : 0x001e,
		.bar_len = { [0] = E1000_MMIO_SIZE, [3] = e ? 0x4000 : 0 },
		.intx = 1, .msi = e ? 1 : 0, .msix = e ? E1000_MSIX_VECTORS_82574 : 0,
		.ops = &e1000_ops, .priv = m,
	});
	return m;
}

struct model_dev *e1000_model_dev(struct e1000_model *m)
{
	return m->dev;
}

void e1000_model_set_tx_cb(struct e1000_model *m, e1000_model_tx_cb cb, void *arg)
{
	m->tx_cb = cb;
	m->tx_arg = arg;
}

const struct e1000_model_stats *e1000_model_stats(struct e1000_model *m)
{
	return &m->stats;
}
