/* The admin queue: one command at a time under a lock, each waited for with a bound. */
#include "nvme_priv.h"

#include <pollen/dma.h>
#include <pollen/log.h>
#include <pollen/mmio.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#define PAGE 4096
#define ADMIN_TIMEOUT_MS 10000	/* an admin command that takes longer has hung */

/*
 * One 4 KiB-paged region: the SQ (at most 64 entries fill a page), the CQ, a page for
 * admin data, and the two pages Doorbell Buffer Config wants (shadow doorbells and event
 * indexes). Ordinary pages: nothing here is on the data path.
 */
enum { SQ_PAGE, CQ_PAGE, DATA_PAGE, SHADOW_PAGE, EVENTIDX_PAGE, ADMIN_PAGES };

int pl_nvme_admin_init(struct pl_nvme_ctrl *c)
{
	unsigned depth = c->opts.admin_depth;

	if (!c->admin_mem) {
		if (!(c->admin_mem = pl_dma_alloc(c->ctx, ADMIN_PAGES * PAGE, PL_DMA_4K,
						  &c->admin_iova)))
			return -errno;
		memset(c->admin_mem, 0, ADMIN_PAGES * PAGE);
		c->data = c->admin_mem + DATA_PAGE * PAGE;
		c->data_iova = c->admin_iova + DATA_PAGE * PAGE;
		c->dbbuf_shadow = (volatile uint32_t *)(c->admin_mem + SHADOW_PAGE * PAGE);
		c->dbbuf_ei = (volatile uint32_t *)(c->admin_mem + EVENTIDX_PAGE * PAGE);
		c->dbbuf_shadow_iova = c->admin_iova + SHADOW_PAGE * PAGE;
		c->dbbuf_ei_iova = c->admin_iova + EVENTIDX_PAGE * PAGE;
	}
	/* After a reset the queues start empty again, phase tags and all. */
	memset(c->admin_mem, 0, 2 * PAGE);
	pl_nvme_queue_init(c, &c->admin, 0, depth, c->admin_mem + SQ_PAGE * PAGE,
			   c->admin_mem + CQ_PAGE * PAGE);
	/* 3.1.8-3.1.10: the admin queues are given to the controller while it is disabled. */
	pl_mmio_write32(c->bar, NVME_REG_AQA, NVME_AQA(depth - 1, depth - 1));
	pl_mmio_write64_lo_hi(c->bar, NVME_REG_ASQ, c->admin_iova + SQ_PAGE * PAGE);
	pl_mmio_write64_lo_hi(c->bar, NVME_REG_ACQ, c->admin_iova + CQ_PAGE * PAGE);
	return 0;
}

void pl_nvme_admin_fini(struct pl_nvme_ctrl *c)
{
	pl_dma_free(c->ctx, c->admin_mem);
	c->admin_mem = NULL;
}

/* ---- AERs: kept outstanding on the admin queue, each with a CID of its own ---- */

static unsigned aers_out(const struct pl_nvme_ctrl *c)
{
	return (unsigned)__builtin_popcount(c->aer_busy);
}

/*
 * Queued without waiting: its completion comes when the controller has something to
 * say. Each takes a CID no AER out has; aer_max leaves the admin queue room for them.
 */
void pl_nvme_aers_send_locked(struct pl_nvme_ctrl *c)
{
	struct pl_nvme_queue *q = &c->admin;

	while (aers_out(c) < c->aer_max && !pl_nvme_cfs(c) && !pl_nvme_dead(c)) {
		unsigned i = (unsigned)__builtin_ctz(~c->aer_busy);
		struct nvme_sqe cmd = {
			.opcode = NVME_ADMIN_ASYNC_EVENT_REQ,
			.cid = (uint16_t)(PL_NVME_AER_CID + i),
		};

		pl_nvme_push_sqe(q, &cmd);
		c->aer_busy |= 1u << i;
	}
	pl_nvme_ring_sq(q);
}

/* An AER's completion: its CID free again, its event kept for pl_nvme_poll_admin(). */
static void aer_reaped(struct pl_nvme_ctrl *c, const struct nvme_cqe *cqe)
{
	uint16_t status = NVME_CQE_SCT_SC(cqe->status);
	unsigned i = (unsigned)(cqe->cid - PL_NVME_AER_CID);

	/* One for an AER that is not out is the controller's bug: it says nothing. */
	if (i >= PL_NVME_MAX_AERS || !(c->aer_busy & 1u << i)) {
		pl_warn("%s: a completion for admin CID 0x%04x, which is not out: dropped",
			c->addr, cqe->cid);
		return;
	}
	c->aer_busy &= ~(1u << i);
	if (status) {
		/* Ended without an event (an abort, a limit): not sent again beyond what is out. */
		if (status == NVME_SCT_SC(NVME_SCT_CMD_SPECIFIC, NVME_SC_AER_LIMIT))
			c->aer_max = aers_out(c);
		pl_debug("%s: an AER ended with %s", c->addr,
			 pl_nvme_status_name(status));
		return;
	}
	if (c->nevents == PL_NVME_MAX_EVENTS) {
		pl_warn("%s: asynchronous event 0x%08x dropped: %d wait for pl_nvme_poll_admin()",
			c->addr, cqe->dw0, PL_NVME_MAX_EVENTS);
		return;
	}
	c->events[c->nevents++] = cqe->dw0;
}

/* Reaps the admin CQ: AERs are put aside; true once @cid's completion is in @cpl. */
static bool reap(struct pl_nvme_ctrl *c, uint16_t cid, struct nvme_cqe *cpl)
{
	struct pl_nvme_queue *q = &c->admin;
	volatile struct nvme_cqe *e;
	bool found = false;

	while ((e = pl_nvme_next_cqe(q))) {
		struct nvme_cqe got = *e;

		pl_nvme_consume_cqe(q);
		if (got.cid >= PL_NVME_AER_CID)
			aer_reaped(c, &got);
		else if (got.cid == cid && !found) {
			*cpl = got;
			found = true;
		}
		/* else an older command's, given up on */
	}
	pl_nvme_ring_cq(q);
	return found;
}

int pl_nvme_admin_timed_locked(struct pl_nvme_ctrl *c, struct nvme_sqe *cmd,
			       struct nvme_cqe *cpl, unsigned timeout_ms, bool quiet)
{
	struct pl_nvme_queue *q = &c->admin;

	if (pl_nvme_cfs(c) || pl_nvme_dead(c))
		return -EIO;
	/* CIDs count up below the AERs' */
	if (++c->admin_cid >= PL_NVME_AER_CID)
		c->admin_cid = 0;
	cmd->cid = c->admin_cid;
	pl_nvme_push_sqe(q, cmd);
	pl_nvme_ring_sq(q);

	uint64_t deadline = pl_nvme_now_ms() + timeout_ms;
	long sleep_ns = 1000;
	for (;;) {
		if (reap(c, cmd->cid, cpl))
			return NVME_CQE_STATUS(cpl->status) ? -EIO : 0;
		if (pl_nvme_check_fatal(c))
			return -EIO;
		if (pl_nvme_now_ms() > deadline) {
			if (!quiet)
				pl_err("%s: admin command 0x%02x (CID %u) did not complete "
				       "within %u ms", c->addr, cmd->opcode, cmd->cid,
				       timeout_ms);
			return -ETIMEDOUT;
		}
		nanosleep(&(struct timespec){ .tv_nsec = sleep_ns }, NULL);
		if (sleep_ns < 1000000)
			sleep_ns *= 2;
	}
}

int pl_nvme_admin_locked(struct pl_nvme_ctrl *c, struct nvme_sqe *cmd, struct nvme_cqe *cpl)
{
	return pl_nvme_admin_timed_locked(c, cmd, cpl, ADMIN_TIMEOUT_MS, false);
}

/* Reaps what the admin queue holds now, AERs included; admin_lock held. */
void pl_nvme_admin_reap_locked(struct pl_nvme_ctrl *c)
{
	struct nvme_cqe unused;

	if (!pl_nvme_dead(c))
		reap(c, PL_NVME_AER_CID, &unused);
}

int pl_nvme_admin_data_locked(struct pl_nvme_ctrl *c, struct nvme_sqe *s, void *data,
			      size_t len, struct nvme_cqe *cpl)
{
	int ret;

	/* Opcode bit 0: data to the controller; bit 1: data from it (5, figure 139). */
	if (len && (s->opcode & 1))
		memcpy(c->data, data, len);
	s->flags &= ~NVME_PSDT_MASK;
	s->prp1 = len ? c->data_iova : 0;
	s->prp2 = 0;
	ret = pl_nvme_admin_locked(c, s, cpl);
	if (!ret && len && (s->opcode & 2))
		memcpy(data, c->data, len);
	return ret;
}

int pl_nvme_admin(struct pl_nvme_ctrl *c, const struct nvme_sqe *cmd, void *data, size_t len,
		  struct nvme_cqe *cpl)
{
	struct nvme_sqe s = *cmd;
	struct nvme_cqe got = { 0 };
	int ret;

	if (len > PAGE) {
		pl_err("%s: admin command 0x%02x with %zu bytes of data: at most %d", c->dev ?
		       c->addr : "nvme", cmd->opcode, len, PAGE);
		return -EINVAL;
	}
	pthread_mutex_lock(&c->admin_lock);
	ret = pl_nvme_admin_data_locked(c, &s, data, len, &got);
	pthread_mutex_unlock(&c->admin_lock);
	if (ret == -EIO && !pl_nvme_cfs(c) && !pl_nvme_dead(c))
		pl_err("%s: admin command 0x%02x failed: %s (status %03x)", c->addr,
		       s.opcode, pl_nvme_status_name(NVME_CQE_SCT_SC(got.status)),
		       NVME_CQE_SCT_SC(got.status));
	if (cpl)
		*cpl = got;
	return ret;
}
