/*
 * The controller's life: opened (the PCI function taken, then init.c's steps of NVMe 1.4
 * 7.6.1 in order), events delivered, shut down (7.6.2) and closed.
 */
#include "nvme_priv.h"

#include <pollen/log.h>
#include <pollen/mmio.h>
#include <pollen/pci.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SHUTDOWN_TIMEOUT_MS 10000	/* when RTD3E does not say */
/* RTD3E can say 71 minutes: the wait is clamped as Linux clamps it (5 s to 60 s). */
#define SHUTDOWN_MIN_MS 5000
#define SHUTDOWN_MAX_MS 60000

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

/* The options, with their defaults; refused when they cannot work. */
static int take_opts(struct pl_nvme_ctrl *c, const char *addr, const struct pl_nvme_opts *opts)
{
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
		return -EINVAL;
	}
	return 0;
}

/* The PCI function: an NVMe controller, opened through VFIO, DMA on, BAR0 mapped. */
static int attach(struct pl_nvme_ctrl *c, const char *addr, size_t *bar_len)
{
	struct pl_pci_info info;
	int ret;

	if ((ret = pl_pci_info(addr, &info)))
		return ret;
	if (!pl_pci_is_nvme(&info)) {
		pl_err("%s is not an NVMe controller (class %06x, want 010802)", info.addr,
		       info.class_code);
		return -ENODEV;
	}
	snprintf(c->addr, sizeof(c->addr), "%s", info.addr);
	if (!(c->dev = pl_vfio_open(c->ctx, addr)))
		return -errno;
	if ((ret = pl_vfio_enable_dma(c->dev)))
		return ret;
	if (!(c->bar = pl_vfio_bar_map(c->dev, 0, bar_len)))
		return -errno;
	return 0;
}

struct pl_nvme_ctrl *pl_nvme_open(struct pl_iommu *ctx, const char *addr,
				  const struct pl_nvme_opts *opts)
{
	struct pl_nvme_ctrl *c = calloc(1, sizeof(*c));
	size_t len;
	int ret;

	if (!c || !(c->id = calloc(1, sizeof(*c->id)))) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&c->admin_lock, NULL);
	c->ctx = ctx;
	if ((ret = take_opts(c, addr, opts)) || (ret = attach(c, addr, &len)) ||
	    (ret = pl_nvme_read_cap(c, len)) ||
	    (ret = pl_nvme_enable(c)) ||		/* 7.6.1 steps 1-6 */
	    (ret = pl_nvme_identify_ctrl(c)))		/* step 7 */
		goto err;
	pthread_mutex_lock(&c->admin_lock);
	ret = pl_nvme_set_queue_count_locked(c);	/* step 8 */
	pthread_mutex_unlock(&c->admin_lock);
	if (ret || (ret = pl_nvme_find_namespaces(c)))	/* step 7's namespaces */
		goto err;
	pl_nvme_setup_dbbuf(c);
	c->sgl = c->opts.sgl && (c->id->sgls & NVME_CTRL_SGLS_MASK);
	if (c->opts.sgl && !c->sgl)
		pl_info("%s: the controller takes no SGLs: PRPs it is", c->addr);
	if ((ret = pl_nvme_setup_interrupts(c)))	/* step 8's vectors */
		goto err;
	pthread_mutex_lock(&c->admin_lock);
	pl_nvme_events_start_locked(c);			/* step 10; step 9 is qpair.c's */
	pthread_mutex_unlock(&c->admin_lock);
	pl_debug("%s: NVMe %u.%u, %u namespace(s), %u I/O queue pair(s), %zu KiB per command%s%s",
		 c->addr, NVME_VS_MAJOR(c->vs), NVME_VS_MINOR(c->vs), c->nns, c->io_queues,
		 c->max_xfer >> 10, c->dbbuf ? ", shadow doorbells" : "", c->sgl ? ", SGLs" : "");
	return c;
err:
	/* Disabled, and waited for, before its memory goes: nothing may still use it. */
	if (c->dev && c->bar && c->admin_mem) {
		pl_mmio_write32(c->bar, NVME_REG_CC, 0);
		pl_nvme_wait_ready(c, false, false);
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
