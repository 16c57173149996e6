/*
 * The controller's initialisation (NVMe 1.4, 7.6.1), one function per step, used by
 * pl_nvme_open() in order and by a reset for the steps it repeats.
 */
#include "nvme_priv.h"

#include <pollen/irq.h>
#include <pollen/log.h>
#include <pollen/mmio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Before 7.6.1's steps: what CAP says the controller can do, and what BAR0 has room
 * for. Pollen needs the NVM command set and 4 KiB pages; no more queue pairs than
 * BAR0 has doorbells for.
 */
int pl_nvme_read_cap(struct pl_nvme_ctrl *c, size_t bar_len)
{
	c->cap = pl_mmio_read64(c->bar, NVME_REG_CAP);
	c->vs = pl_mmio_read32(c->bar, NVME_REG_VS);
	c->dstrd = 4u << NVME_CAP_DSTRD(c->cap);
	c->page_size = 4096ul << NVME_CAP_MPSMIN(c->cap);
	if (!(NVME_CAP_CSS(c->cap) & NVME_CAP_CSS_NVM) || c->page_size > 4096) {
		pl_err("%s: CAP 0x%016llx: Pollen needs the NVM command set and 4 KiB pages",
		       c->addr, (unsigned long long)c->cap);
		return -ENODEV;
	}
	unsigned doorbells = bar_len > NVME_REG_DBS ? (bar_len - NVME_REG_DBS) / (2 * c->dstrd) : 0;
	if (doorbells < 2) {
		pl_err("%s: BAR0 of %zu bytes has no room for an I/O queue's doorbells", c->addr,
		       bar_len);
		return -ENODEV;
	}
	if (c->opts.io_queues >= doorbells)
		c->opts.io_queues = doorbells - 1;
	return 0;
}

/* Waits for CSTS.RDY to read @ready, within CAP.TO (500 ms units), giving up on CFS. */
int pl_nvme_wait_ready(struct pl_nvme_ctrl *c, bool ready, bool fail_on_cfs)
{
	char what[64];
	struct pl_mmio_wait w = {
		.off = NVME_REG_CSTS,
		.mask = NVME_CSTS_RDY,
		.want = ready ? NVME_CSTS_RDY : 0,
		.fail = fail_on_cfs ? NVME_CSTS_CFS : 0,
		.timeout_ms = 500 * (NVME_CAP_TO(c->cap) ? NVME_CAP_TO(c->cap) : 1),
		.what = what,
	};

	snprintf(what, sizeof(what), "%s CSTS.RDY to become %d", c->addr, ready);
	int ret = pl_mmio_wait(c->bar, &w);
	if (ret == -EIO)
		pl_nvme_set_cfs(c, true);
	return ret;
}

/*
 * 7.6.1 steps 1 to 6: disabled first (which resets it, a failed one included), the
 * admin queue given, CC set (command set, page size, entry sizes), then enabled.
 */
int pl_nvme_enable(struct pl_nvme_ctrl *c)
{
	uint32_t cc = pl_mmio_read32(c->bar, NVME_REG_CC);
	int ret;

	if (cc & NVME_CC_EN) {
		/* EN may change only once RDY follows it; a failed controller never will. */
		pl_nvme_wait_ready(c, true, true);
		pl_mmio_write32(c->bar, NVME_REG_CC, cc & ~NVME_CC_EN);
	}
	pl_nvme_set_cfs(c, false);
	if ((ret = pl_nvme_wait_ready(c, false, false)))
		return ret;
	if ((ret = pl_nvme_admin_init(c)))
		return ret;
	unsigned mps = 0;
	while ((4096ul << mps) < c->page_size)
		mps++;
	pl_mmio_write32(c->bar, NVME_REG_CC, NVME_CC_EN | NVME_CC_CSS_NVM | NVME_CC_MPS(mps) |
			NVME_CC_AMS_RR | NVME_CC_SHN_NONE | NVME_CC_IOSQES(NVME_SQES_LOG2) |
			NVME_CC_IOCQES(NVME_CQES_LOG2));
	return pl_nvme_wait_ready(c, true, true);
}

/* Identify (5.15): @cns of @nsid into @out, 4 KiB. */
static int identify(struct pl_nvme_ctrl *c, uint8_t cns, uint32_t nsid, void *out)
{
	struct nvme_sqe cmd = {
		.opcode = NVME_ADMIN_IDENTIFY,
		.nsid = nsid,
		.cdw10 = NVME_IDENTIFY_CDW10(cns, 0),
	};

	return pl_nvme_admin(c, &cmd, out, NVME_IDENTIFY_DATA_SIZE, NULL);
}

/*
 * 7.6.1 step 7: Identify Controller, and the transfer limit it gives. MDTS is in units
 * of the minimum page; one PRP list page bounds a command too. MDTS is a device's word:
 * one past that bound (up to 255) would shift a size to nothing.
 */
int pl_nvme_identify_ctrl(struct pl_nvme_ctrl *c)
{
	int ret = identify(c, NVME_CNS_CTRL, 0, c->id);

	if (ret)
		return ret;
	size_t by_prp = c->page_size / 8 * c->page_size;
	unsigned mdts_cap = 0;
	while ((c->page_size << mdts_cap) < by_prp)
		mdts_cap++;
	c->max_xfer = c->id->mdts && c->id->mdts < mdts_cap ? c->page_size << c->id->mdts : by_prp;
	return 0;
}

/* 7.6.1 step 8, Set Features (Number of Queues): the I/O queue pairs it grants. */
int pl_nvme_set_queue_count_locked(struct pl_nvme_ctrl *c)
{
	unsigned want = c->opts.io_queues;
	struct nvme_sqe cmd = {
		.opcode = NVME_ADMIN_SET_FEATURES,
		.cdw10 = NVME_FEAT_CDW10(NVME_FEAT_NUM_QUEUES),
		.cdw11 = NVME_FEAT_NQ_CDW11(want - 1, want - 1),
	};
	struct nvme_cqe cpl = { 0 };
	int ret = pl_nvme_admin_locked(c, &cmd, &cpl);

	if (ret) {
		if (ret == -EIO && !pl_nvme_cfs(c))
			pl_err("%s: Set Features (Number of Queues) failed: %s", c->addr,
			       pl_nvme_status_name(NVME_CQE_SCT_SC(cpl.status)));
		return ret;
	}
	unsigned sq = NVME_FEAT_NQ_NSQA(cpl.dw0) + 1, cq = NVME_FEAT_NQ_NCQA(cpl.dw0) + 1;
	c->io_queues = sq < cq ? sq : cq;
	if (c->io_queues > want)
		c->io_queues = want;
	if (c->io_queues < want)
		pl_info("%s: asked for %u I/O queue pairs, the controller granted %u",
			c->addr, want, c->io_queues);
	return 0;
}

/* LBADS, a device's word, taken only from 512 bytes to 64 KiB (as Linux bounds it). */
#define LBADS_MIN 9
#define LBADS_MAX 16

static void describe_ns(struct pl_nvme_ctrl *c, struct pl_nvme_ns *ns, uint32_t nsid,
			const struct nvme_id_ns *id)
{
	unsigned f = id->flbas & NVME_NS_FLBAS_LBA_MASK, lbads = id->lbaf[f].lbads;
	bool sized = lbads >= LBADS_MIN && lbads <= LBADS_MAX;

	*ns = (struct pl_nvme_ns){
		.nsid = nsid,
		.blocks = id->nsze,
		.capacity = id->ncap,
		.used = id->nuse,
		.block_size = sized ? 1u << lbads : 0,
		.metadata_size = id->lbaf[f].ms,
		.lbaf = f,
		.usable = sized && id->lbaf[f].ms == 0 && (1ul << lbads) <= c->max_xfer,
		.id = id,
	};
	if (!sized)
		pl_warn("%s namespace %u: LBA format %u says blocks of 2^%u bytes; Pollen takes 512 "
			"bytes to 64 KiB (LBADS %d to %d): its I/O is refused", c->addr,
			nsid, f, lbads, LBADS_MIN, LBADS_MAX);
	else if (!ns->usable)
		pl_info("%s namespace %u: formatted with %u bytes of metadata per %u-byte block; "
			"Pollen does not move metadata, so its I/O is refused (format it without: "
			"nvme format -l to an LBA format with no metadata)", c->addr,
			nsid, ns->metadata_size, ns->block_size);
}

/* 7.6.1 step 7's namespaces: the active namespace list (CNS 2), then each one's data. */
int pl_nvme_find_namespaces(struct pl_nvme_ctrl *c)
{
	uint32_t *list = malloc(NVME_IDENTIFY_DATA_SIZE);
	int ret;

	if (!list || !(c->id_ns = calloc(PL_NVME_MAX_NS, sizeof(*c->id_ns)))) {
		free(list);
		return -ENOMEM;
	}
	if ((ret = identify(c, NVME_CNS_NS_ACTIVE_LIST, 0, list)))
		goto out;
	for (unsigned i = 0; i < NVME_IDENTIFY_DATA_SIZE / 4 && list[i]; i++) {
		if (c->nns == PL_NVME_MAX_NS) {
			pl_warn("%s: more than %d active namespaces; the rest are not listed",
				c->addr, PL_NVME_MAX_NS);
			break;
		}
		if ((ret = identify(c, NVME_CNS_NS, list[i], &c->id_ns[c->nns])))
			goto out;
		describe_ns(c, &c->ns[c->nns], list[i], &c->id_ns[c->nns]);
		c->nns++;
	}
out:
	free(list);
	return ret;
}

int pl_nvme_dbbuf_config_locked(struct pl_nvme_ctrl *c, struct nvme_cqe *cpl)
{
	struct nvme_sqe cmd = {
		.opcode = NVME_ADMIN_DBBUF_CONFIG,
		.prp1 = c->dbbuf_shadow_iova,
		.prp2 = c->dbbuf_ei_iova,
	};

	return pl_nvme_admin_locked(c, &cmd, cpl);
}

/* Doorbell Buffer Config (NVMe 1.3): shadow doorbells where the controller offers them. */
void pl_nvme_setup_dbbuf(struct pl_nvme_ctrl *c)
{
	if (!c->opts.shadow_doorbells)
		return;
	if (!(c->id->oacs & NVME_CTRL_OACS_DBBUF_CONFIG)) {
		pl_info("%s: the controller offers no shadow doorbells: MMIO doorbells it is",
			c->addr);
		return;
	}
	struct nvme_cqe cpl = { 0 };

	/* The shadow page holds two doorbells per queue pair, DSTRD apart: all must fit. */
	if ((c->io_queues + 1) * 2 * c->dstrd > 4096) {
		pl_info("%s: %u queue pairs' shadow doorbells do not fit a page: MMIO doorbells",
			c->addr, c->io_queues);
		return;
	}
	pthread_mutex_lock(&c->admin_lock);
	c->dbbuf = !pl_nvme_dbbuf_config_locked(c, &cpl);
	pthread_mutex_unlock(&c->admin_lock);
	if (!c->dbbuf)
		pl_warn("%s: Doorbell Buffer Config failed (status %03x): MMIO doorbells only",
			c->addr, NVME_CQE_SCT_SC(cpl.status));
}

/* 7.6.1 step 8's interrupts: MSI-X vectors routed to eventfds, when asked for. */
int pl_nvme_setup_interrupts(struct pl_nvme_ctrl *c)
{
	int have = pl_irq_count(c->dev, PL_IRQ_MSIX);

	if (!c->opts.interrupts)
		return 0;
	if (have <= 1) {
		pl_err("%s: no MSI-X vectors for its queues (%d)", c->addr, have);
		return -ENOTSUP;
	}
	/* Vector 0 is the admin queue's; queue pair N raises vector N. */
	unsigned n = c->io_queues + 1 < (unsigned)have ? c->io_queues + 1 : (unsigned)have;
	int ret = pl_irq_enable(c->dev, PL_IRQ_MSIX, n);
	if (!ret)
		c->irq_vectors = n;
	return ret;
}
