/* The controller: bring-up (NVMe 1.4, 7.6.1), identify, queue count, namespaces, shutdown. */
#include "nvme_priv.h"

#include <pollen/dma.h>
#include <pollen/irq.h>
#include <pollen/log.h>
#include <pollen/mmio.h>
#include <pollen/pci.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHUTDOWN_TIMEOUT_MS 10000	/* when RTD3E does not say */
/* RTD3E can say 71 minutes: the wait is clamped as Linux clamps it (5 s to 60 s). */
#define SHUTDOWN_MIN_MS 5000
#define SHUTDOWN_MAX_MS 60000
#define RESET_BARRIER_MS 1000		/* the admin round trip before a reset's disable */

/* Waits for CSTS.RDY to read @ready, within CAP.TO (500 ms units), giving up on CFS. */
static int wait_ready(struct pl_nvme_ctrl *c, bool ready, bool fail_on_cfs)
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

/* 7.6.1: disabled first (which resets it, a failed one included), then enabled. */
static int enable(struct pl_nvme_ctrl *c)
{
	uint32_t cc = pl_mmio_read32(c->bar, NVME_REG_CC);
	int ret;

	if (cc & NVME_CC_EN) {
		/* EN may change only once RDY follows it; a failed controller never will. */
		wait_ready(c, true, true);
		pl_mmio_write32(c->bar, NVME_REG_CC, cc & ~NVME_CC_EN);
	}
	pl_nvme_set_cfs(c, false);
	if ((ret = wait_ready(c, false, false)))
		return ret;
	if ((ret = pl_nvme_admin_init(c)))
		return ret;
	unsigned mps = 0;
	while ((4096ul << mps) < c->page_size)
		mps++;
	pl_mmio_write32(c->bar, NVME_REG_CC, NVME_CC_EN | NVME_CC_CSS_NVM | NVME_CC_MPS(mps) |
			NVME_CC_AMS_RR | NVME_CC_SHN_NONE | NVME_CC_IOSQES(NVME_SQES_LOG2) |
			NVME_CC_IOCQES(NVME_CQES_LOG2));
	return wait_ready(c, true, true);
}

static int identify(struct pl_nvme_ctrl *c, uint8_t cns, uint32_t nsid, void *out)
{
	struct nvme_sqe cmd = {
		.opcode = NVME_ADMIN_IDENTIFY,
		.nsid = nsid,
		.cdw10 = NVME_IDENTIFY_CDW10(cns, 0),
	};

	return pl_nvme_admin(c, &cmd, out, NVME_IDENTIFY_DATA_SIZE, NULL);
}

/* Set Features, Number of Queues: how many I/O queue pairs the controller grants. */
static int set_queue_count_locked(struct pl_nvme_ctrl *c)
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

/* The active namespace list (CNS 2), then Identify Namespace for each. */
static int find_namespaces(struct pl_nvme_ctrl *c)
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

static int dbbuf_config_locked(struct pl_nvme_ctrl *c, struct nvme_cqe *cpl)
{
	struct nvme_sqe cmd = {
		.opcode = NVME_ADMIN_DBBUF_CONFIG,
		.prp1 = c->dbbuf_shadow_iova,
		.prp2 = c->dbbuf_ei_iova,
	};

	return pl_nvme_admin_locked(c, &cmd, cpl);
}

/* Doorbell Buffer Config (NVMe 1.3): shadow doorbells where the controller offers them. */
static void setup_dbbuf(struct pl_nvme_ctrl *c)
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
	c->dbbuf = !dbbuf_config_locked(c, &cpl);
	pthread_mutex_unlock(&c->admin_lock);
	if (!c->dbbuf)
		pl_warn("%s: Doorbell Buffer Config failed (status %03x): MMIO doorbells only",
			c->addr, NVME_CQE_SCT_SC(cpl.status));
}

static int setup_interrupts(struct pl_nvme_ctrl *c)
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

/*
 * 7.3.2: a controller level reset through CC.EN, which ends every command the controller
 * holds without a completion. Queue pairs are made again by their owners (qpair.c), who
 * see the generation change.
 */
int pl_nvme_reset_locked(struct pl_nvme_ctrl *c)
{
	struct timespec t0, t1;
	unsigned had = c->io_queues;
	struct nvme_cqe cpl = { 0 };
	int ret;

	if (pl_nvme_dead(c))
		return -EIO;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* First: owners stop using their queues from their next call on. */
	__atomic_add_fetch(&c->gen, 1, __ATOMIC_ACQ_REL);
	/* Counted where anyone may read it (pl_nvme_resets), so atomically. */
	__atomic_add_fetch(&c->resets, 1, __ATOMIC_RELAXED);
	c->aer_busy = 0;
	/*
	 * Then one admin round trip, if the controller still answers: it has then taken in
	 * every doorbell written before. QEMU fetches in a handler run after the doorbell
	 * write and posts the admin completion from one run after that. Its disable drains
	 * each namespace in turn and runs such handlers meanwhile: a fetch still pending
	 * started commands during the drain that completed into freed queues, and QEMU 7.2
	 * crashed (tests/device/test_nvme_faults.c). Owners ring no doorbell once they see
	 * the new generation; one already past that look when it was bumped may still ring
	 * during the round trip (a window of a few instructions, not closed: that would
	 * cost the data path an atomic per doorbell). Harmless on a drive; a failed
	 * controller is not asked, and one that does not answer costs RESET_BARRIER_MS.
	 */
	if (!pl_nvme_cfs(c)) {
		struct nvme_sqe get = {
			.opcode = NVME_ADMIN_GET_FEATURES,
			.cdw10 = NVME_FEAT_NUM_QUEUES,
		};
		if (pl_nvme_admin_timed_locked(c, &get, &cpl, RESET_BARRIER_MS, true) == -ETIMEDOUT)
			pl_warn("%s: no answer to an admin command within %d ms: resetting it "
				"anyway", c->addr, RESET_BARRIER_MS);
	}
	ret = enable(c);
	if (!ret)
		ret = set_queue_count_locked(c);
	if (!ret && c->io_queues < had)
		pl_warn("%s: after the reset the controller grants %u I/O queue pairs, not %u: "
			"pairs above %u fail", c->addr, c->io_queues, had, c->io_queues);
	if (!ret && c->dbbuf) {
		memset((void *)c->dbbuf_shadow, 0, 4096);
		memset((void *)c->dbbuf_ei, 0, 4096);
		if ((ret = dbbuf_config_locked(c, &cpl)))
			pl_err("%s: Doorbell Buffer Config failed after the reset: %s",
			       c->addr, pl_nvme_status_name(NVME_CQE_SCT_SC(cpl.status)));
	}
	if (ret) {
		pl_mmio_write32(c->bar, NVME_REG_CC, 0);
		__atomic_store_n(&c->dead, true, __ATOMIC_RELEASE);
		pl_err("%s: the controller did not come back from a reset (%s): it is failed; "
		       "every call on it now fails (close it, and reopen to try again)",
		       c->addr, strerror(-ret));
		return -EIO;
	}
	pl_nvme_events_start_locked(c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pl_info("%s: controller reset %u done in %.1f ms", c->addr, pl_nvme_resets(c),
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	return 0;
}

int pl_nvme_reset(struct pl_nvme_ctrl *c)
{
	pthread_mutex_lock(&c->admin_lock);
	int ret = pl_nvme_reset_locked(c);
	pthread_mutex_unlock(&c->admin_lock);
	return ret;
}

unsigned pl_nvme_resets(const struct pl_nvme_ctrl *c)
{
	return __atomic_load_n(&c->resets, __ATOMIC_RELAXED);
}

bool pl_nvme_failed(const struct pl_nvme_ctrl *c)
{
	return pl_nvme_dead(c);
}

static void shutdown_ctrl(struct pl_nvme_ctrl *c)
{
	if (pl_nvme_cfs(c) || pl_nvme_dead(c))
		return;
	uint32_t cc = pl_mmio_read32(c->bar, NVME_REG_CC);
	uint32_t rtd3e = c->id ? c->id->rtd3e : 0;
	unsigned ms = rtd3e ? rtd3e / 1000 + 1 : SHUTDOWN_TIMEOUT_MS;
	char what[64];

	ms = ms < SHUTDOWN_MIN_MS ? SHUTDOWN_MIN_MS : ms > SHUTDOWN_MAX_MS ? SHUTDOWN_MAX_MS : ms;
	pl_debug("%s: shutting down: waiting up to %u ms for CSTS.SHST (RTD3E %u us)",
		 c->addr, ms, rtd3e);
	pl_mmio_write32(c->bar, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
	snprintf(what, sizeof(what), "%s shutdown (CSTS.SHST)", c->addr);
	pl_mmio_wait32(c->bar, NVME_REG_CSTS, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE, ms,
		       what);
}

static void release(struct pl_nvme_ctrl *c)
{
	if (c->admin_mem)
		pl_nvme_admin_fini(c);
	pl_vfio_close(c->dev);
	pthread_mutex_destroy(&c->admin_lock);
	free(c->id);
	free(c->id_ns);
	free(c);
}

struct pl_nvme_ctrl *pl_nvme_open(struct pl_iommu *ctx, const char *addr,
				  const struct pl_nvme_opts *opts)
{
	struct pl_nvme_ctrl *c = calloc(1, sizeof(*c));
	size_t len;
	int ret = -ENOMEM;

	if (!c || !(c->id = calloc(1, sizeof(*c->id)))) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&c->admin_lock, NULL);
	c->ctx = ctx;
	if (opts)
		c->opts = *opts;
	if (!c->opts.io_queues)
		c->opts.io_queues = 8;
	if (c->opts.io_queues > PL_NVME_MAX_QPAIRS)
		c->opts.io_queues = PL_NVME_MAX_QPAIRS;
	if (!c->opts.admin_depth)
		c->opts.admin_depth = 32;
	if (c->opts.admin_depth < 2 || c->opts.admin_depth > 64) {
		pl_err("nvme %s: an admin queue of %u entries: want 2 to 64", addr,
		       c->opts.admin_depth);
		ret = -EINVAL;
		goto err;
	}

	struct pl_pci_info info;
	if ((ret = pl_pci_info(addr, &info)))
		goto err;
	if (!pl_pci_is_nvme(&info)) {
		pl_err("%s is not an NVMe controller (class %06x, want 010802)", info.addr,
		       info.class_code);
		ret = -ENODEV;
		goto err;
	}
	snprintf(c->addr, sizeof(c->addr), "%s", info.addr);
	if (!(c->dev = pl_vfio_open(ctx, addr))) {
		ret = -errno;
		goto err;
	}
	if ((ret = pl_vfio_enable_dma(c->dev)))
		goto err;
	if (!(c->bar = pl_vfio_bar_map(c->dev, 0, &len))) {
		ret = -errno;
		goto err;
	}
	c->cap = pl_mmio_read64(c->bar, NVME_REG_CAP);
	c->vs = pl_mmio_read32(c->bar, NVME_REG_VS);
	c->dstrd = 4u << NVME_CAP_DSTRD(c->cap);
	c->page_size = 4096ul << NVME_CAP_MPSMIN(c->cap);
	if (!(NVME_CAP_CSS(c->cap) & NVME_CAP_CSS_NVM) || c->page_size > 4096) {
		pl_err("%s: CAP 0x%016llx: Pollen needs the NVM command set and 4 KiB pages",
		       info.addr, (unsigned long long)c->cap);
		ret = -ENODEV;
		goto err;
	}
	/* No more queue pairs than BAR0 has doorbells for. */
	unsigned doorbells = len > NVME_REG_DBS ? (len - NVME_REG_DBS) / (2 * c->dstrd) : 0;
	if (doorbells < 2) {
		pl_err("%s: BAR0 of %zu bytes has no room for an I/O queue's doorbells", info.addr,
		       len);
		ret = -ENODEV;
		goto err;
	}
	if (c->opts.io_queues >= doorbells)
		c->opts.io_queues = doorbells - 1;

	if ((ret = enable(c)))
		goto err;
	if ((ret = identify(c, NVME_CNS_CTRL, 0, c->id)))
		goto err;
	/*
	 * MDTS in units of the minimum page; one PRP list page bounds a command too. MDTS
	 * is a device's word: one past that bound (up to 255) would shift a size to nothing.
	 */
	size_t by_prp = c->page_size / 8 * c->page_size;
	unsigned mdts_cap = 0;
	while ((c->page_size << mdts_cap) < by_prp)
		mdts_cap++;
	c->max_xfer = c->id->mdts && c->id->mdts < mdts_cap ? c->page_size << c->id->mdts : by_prp;
	pthread_mutex_lock(&c->admin_lock);
	ret = set_queue_count_locked(c);
	pthread_mutex_unlock(&c->admin_lock);
	if (ret || (ret = find_namespaces(c)))
		goto err;
	setup_dbbuf(c);
	c->sgl = c->opts.sgl && (c->id->sgls & NVME_CTRL_SGLS_MASK);
	if (c->opts.sgl && !c->sgl)
		pl_info("%s: the controller takes no SGLs: PRPs it is", info.addr);
	if ((ret = setup_interrupts(c)))
		goto err;
	pthread_mutex_lock(&c->admin_lock);
	pl_nvme_events_start_locked(c);
	pthread_mutex_unlock(&c->admin_lock);
	pl_debug("%s: NVMe %u.%u, %u namespace(s), %u I/O queue pair(s), %zu KiB per command%s%s",
		 info.addr, NVME_VS_MAJOR(c->vs), NVME_VS_MINOR(c->vs), c->nns, c->io_queues,
		 c->max_xfer >> 10, c->dbbuf ? ", shadow doorbells" : "", c->sgl ? ", SGLs" : "");
	return c;
err:
	/* Disabled, and waited for, before its memory goes: nothing may still use it. */
	if (c->dev && c->bar && c->admin_mem) {
		pl_mmio_write32(c->bar, NVME_REG_CC, 0);
		wait_ready(c, false, false);
	}
	release(c);
	errno = -ret;
	return NULL;
}

void pl_nvme_close(struct pl_nvme_ctrl *c)
{
	if (!c)
		return;
	/* From an event callback: pl_nvme_poll_admin() closes it once its callbacks are done. */
	pthread_mutex_lock(&c->admin_lock);
	bool later = c->in_event_cb && pthread_equal(c->event_thread, pthread_self());
	c->close_asked |= later;
	pthread_mutex_unlock(&c->admin_lock);
	if (later)
		return;
	pl_nvme_qpairs_destroy_all(c);
	shutdown_ctrl(c);
	/*
	 * A controller shut down (or failed, or one whose shutdown timed out) is still
	 * enabled: AERs outstanding, entries its SQ doorbell handed over and not fetched.
	 * Bus mastering off before the admin memory goes, as Linux's pci_disable_device()
	 * in nvme_dev_disable(): else it may fetch from, or post into, memory freed and
	 * perhaps given to someone else.
	 */
	pl_vfio_disable_dma(c->dev);
	release(c);
}

/*
 * Events for the app. Its callback runs without the admin lock and may close the
 * controller: that close is done here, once the callbacks are over.
 */
int pl_nvme_poll_admin(struct pl_nvme_ctrl *c)
{
	struct pl_nvme_event evs[PL_NVME_MAX_EVENTS];

	pthread_mutex_lock(&c->admin_lock);
	if (pl_nvme_dead(c)) {
		pthread_mutex_unlock(&c->admin_lock);
		return -EIO;
	}
	unsigned n = pl_nvme_events_collect_locked(c, evs);
	pl_nvme_event_cb cb = c->event_cb;
	void *arg = c->event_arg;
	c->in_event_cb = true;
	c->event_thread = pthread_self();
	pthread_mutex_unlock(&c->admin_lock);

	for (unsigned i = 0; i < n; i++) {
		/* A callback closed the controller: the events after it are not delivered. */
		if (!c->close_asked) {
			pl_nvme_event_say(c, &evs[i]);
			if (cb)
				cb(arg, &evs[i]);
		}
		free((void *)evs[i].log);
	}
	pthread_mutex_lock(&c->admin_lock);
	c->in_event_cb = false;
	bool close = c->close_asked;
	pthread_mutex_unlock(&c->admin_lock);
	if (close)
		pl_nvme_close(c);
	return (int)n;
}

const char *pl_nvme_addr(const struct pl_nvme_ctrl *c)
{
	return c->addr;
}

const struct nvme_id_ctrl *pl_nvme_id_ctrl(const struct pl_nvme_ctrl *c)
{
	return c->id;
}

uint64_t pl_nvme_cap(const struct pl_nvme_ctrl *c)
{
	return c->cap;
}

uint32_t pl_nvme_vs(const struct pl_nvme_ctrl *c)
{
	return c->vs;
}

unsigned pl_nvme_io_queues(const struct pl_nvme_ctrl *c)
{
	return c->io_queues;
}

unsigned pl_nvme_max_depth(const struct pl_nvme_ctrl *c)
{
	return NVME_CAP_MQES(c->cap) + 1;
}

size_t pl_nvme_max_transfer(const struct pl_nvme_ctrl *c)
{
	return c->max_xfer;
}

bool pl_nvme_shadow_doorbells(const struct pl_nvme_ctrl *c)
{
	return c->dbbuf;
}

bool pl_nvme_sgl(const struct pl_nvme_ctrl *c)
{
	return c->sgl;
}

unsigned pl_nvme_ns_count(const struct pl_nvme_ctrl *c)
{
	return c->nns;
}

const struct pl_nvme_ns *pl_nvme_ns_at(const struct pl_nvme_ctrl *c, unsigned i)
{
	return i < c->nns ? &c->ns[i] : NULL;
}

const struct pl_nvme_ns *pl_nvme_ns(const struct pl_nvme_ctrl *c, uint32_t nsid)
{
	for (unsigned i = 0; i < c->nns; i++)
		if (c->ns[i].nsid == nsid)
			return &c->ns[i];
	return NULL;
}
