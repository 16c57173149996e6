/* I/O queue pairs: made and deleted at run time, and their completions reaped by phase tag. */
#include "nvme_priv.h"

#include <pollen/dma.h>
#include <pollen/irq.h>
#include <pollen/log.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE 4096
#define DRAIN_TIMEOUT_MS 5000	/* what destroy waits for outstanding commands */

/*
 * CQ head doorbells held back: consumed completion entries the controller is told about
 * only once this many have gathered (see pl_nvme_poll). The rings get as many extra
 * entries, so that the controller always has room to post every outstanding command's
 * completion. On the test bed a CQ doorbell write costs more than the rest of an I/O.
 */
#define CQ_BATCH 32

static size_t round_page(size_t n)
{
	return (n + PAGE - 1) & ~(size_t)(PAGE - 1);
}

static int queue_cmd(struct pl_nvme_ctrl *c, uint8_t opcode, uint16_t qid, uint16_t depth,
		     uint64_t iova, uint32_t cdw11)
{
	struct nvme_sqe cmd = {
		.opcode = opcode,
		.prp1 = iova,
		.cdw10 = NVME_QUEUE_CDW10(qid, depth ? depth - 1 : 0),
		.cdw11 = cdw11,
	};
	struct nvme_cqe cpl;
	int ret = pl_nvme_admin_locked(c, &cmd, &cpl);

	if (ret == -EIO && !c->failed)
		pl_err("%s: admin command 0x%02x for queue %u failed with status %03x",
		       pl_vfio_addr(c->dev), opcode, qid, NVME_CQE_SCT_SC(cpl.status));
	return ret;
}

static void qpair_free(struct pl_nvme_qpair *qp)
{
	pl_dma_free(qp->ctrl->ctx, qp->mem);
	free(qp->reqs);
	free(qp->free_cids);
	free(qp);
}

/*
 * Rings of @entries first, then a PRP list area per command slot: one region, one
 * mapping. A list holds what one command can need past PRP1 (pages of the transfer limit;
 * 1 KiB for QEMU's 512 KiB), packed four to a 4 KiB page at most, never across one.
 */
static int qpair_memory(struct pl_nvme_qpair *qp, unsigned slots, unsigned entries)
{
	struct pl_nvme_ctrl *c = qp->ctrl;
	size_t sq_len = round_page(entries * sizeof(struct nvme_sqe));
	size_t cq_len = round_page(entries * sizeof(struct nvme_cqe));
	size_t list = c->max_xfer / c->page_size * sizeof(uint64_t);
	struct pl_dma_span s;
	uint64_t iova;

	/* A power of two from 64 (a DSM range fits) to a page: lists never cross one. */
	for (qp->slot_bytes = 64; qp->slot_bytes < list; qp->slot_bytes *= 2)
		;
	qp->mem_len = sq_len + cq_len + round_page((size_t)slots * qp->slot_bytes);
	if (!(qp->mem = pl_dma_alloc(c->ctx, qp->mem_len, 0, &iova)))
		return -errno;
	/* What the pair takes is the hugepages the region rounds up to. */
	if (!pl_dma_lookup(c->ctx, qp->mem, &s))
		qp->mem_len = s.len;
	memset(qp->mem, 0, sq_len + cq_len);
	qp->mem_iova = iova;
	qp->pages = qp->mem + sq_len + cq_len;
	qp->pages_iova = iova + sq_len + cq_len;
	if (!(qp->reqs = calloc(slots, sizeof(*qp->reqs))) ||
	    !(qp->free_cids = calloc(slots, sizeof(*qp->free_cids))))
		return -ENOMEM;
	qp->slots = slots;
	for (unsigned i = 0; i < slots; i++) {
		qp->free_cids[qp->nfree++] = (uint16_t)(slots - 1 - i);
		qp->reqs[i].parent = PL_NVME_FREE_SLOT;
	}
	return 0;
}

struct pl_nvme_qpair *pl_nvme_qpair_create(struct pl_nvme_ctrl *c,
					   const struct pl_nvme_qpair_opts *opts)
{
	struct pl_nvme_qpair_opts o = opts ? *opts : (struct pl_nvme_qpair_opts){ 0 };
	struct pl_nvme_qpair *qp;
	unsigned qid = 0;
	int ret;

	if (!o.depth)
		o.depth = 256;
	if (o.depth >= pl_nvme_max_depth(c) || o.depth >= PL_NVME_FREE_SLOT) {
		pl_err("%s: a queue pair of depth %u: the controller allows 1 to %u",
		       pl_vfio_addr(c->dev), o.depth, pl_nvme_max_depth(c) - 1);
		errno = EINVAL;
		return NULL;
	}
	/* A ring entry is always empty, CQ_BATCH more hold held-back completions. */
	unsigned entries = o.depth + 1 + CQ_BATCH;
	if (entries > pl_nvme_max_depth(c))
		entries = pl_nvme_max_depth(c);
	if (entries > UINT16_MAX)	/* the queue size field's limit */
		entries = UINT16_MAX;
	if (o.interrupts && !c->irq_vectors) {
		pl_err("%s: a queue pair with interrupts needs a controller opened with them "
		       "(pl_nvme_opts.interrupts)", pl_vfio_addr(c->dev));
		errno = EINVAL;
		return NULL;
	}
	if (!(qp = calloc(1, sizeof(*qp)))) {
		errno = ENOMEM;
		return NULL;
	}
	qp->ctrl = c;
	qp->irq_fd = -1;
	if ((ret = qpair_memory(qp, o.depth, entries)))
		goto err_free;

	pthread_mutex_lock(&c->admin_lock);
	for (unsigned i = 1; i <= c->io_queues && !qid; i++)
		if (!c->qid_used[i])
			qid = i;
	if (!qid) {
		pl_err("%s: all %u granted I/O queue pairs are in use", pl_vfio_addr(c->dev),
		       c->io_queues);
		ret = -ENOSPC;
		goto err_unlock;
	}
	size_t sq_len = round_page(entries * sizeof(struct nvme_sqe));
	uint64_t sq_iova = qp->mem_iova, cq_iova = qp->mem_iova + sq_len;
	uint32_t irq = 0;
	if (o.interrupts) {
		if (qid >= c->irq_vectors) {
			pl_err("%s: queue pair %u has no MSI-X vector of its own (%u routed)",
			       pl_vfio_addr(c->dev), qid, c->irq_vectors);
			ret = -ENOSPC;
			goto err_unlock;
		}
		irq = NVME_CQ_IEN | NVME_CQ_IV(qid);
		qp->irq_fd = pl_irq_fd(c->dev, qid);
	}
	pl_nvme_queue_init(c, &qp->q, qid, entries, qp->mem, qp->mem + sq_len);
	qp->cq_batch = entries - 1 - o.depth;
	/* 7.6.1: the CQ first, then the SQ that posts to it. */
	if ((ret = queue_cmd(c, NVME_ADMIN_CREATE_CQ, qid, entries, cq_iova, NVME_CQ_PC | irq)))
		goto err_unlock;
	if ((ret = queue_cmd(c, NVME_ADMIN_CREATE_SQ, qid, entries, sq_iova,
			     NVME_SQ_PC | NVME_SQ_QPRIO_MEDIUM | NVME_SQ_CQID(qid)))) {
		queue_cmd(c, NVME_ADMIN_DELETE_CQ, qid, 0, 0, 0);
		goto err_unlock;
	}
	c->qid_used[qid] = true;
	c->qpairs[qid] = qp;
	pthread_mutex_unlock(&c->admin_lock);
	return qp;

err_unlock:
	pthread_mutex_unlock(&c->admin_lock);
err_free:
	qpair_free(qp);
	errno = -ret;
	return NULL;
}

/*
 * Completes what the controller will not: each outstanding request once, with @status.
 * The pair has failed first, so a callback that submits again is refused.
 */
static void complete_all(struct pl_nvme_qpair *qp, uint16_t status)
{
	qp->failed = true;
	for (unsigned cid = 0; cid < qp->slots; cid++) {
		struct pl_nvme_req *r = &qp->reqs[cid];

		if (r->parent != cid)	/* free, or a piece of another request */
			continue;
		struct pl_nvme_cpl cpl = { .status = status };
		r->parent = PL_NVME_FREE_SLOT;
		if (r->cb)
			r->cb(r->arg, &cpl);
	}
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void pl_nvme_qpair_destroy(struct pl_nvme_qpair *qp)
{
	if (!qp)
		return;
	struct pl_nvme_ctrl *c = qp->ctrl;
	uint64_t deadline = now_ms() + DRAIN_TIMEOUT_MS;

	while (pl_nvme_qpair_outstanding(qp) && !qp->failed && now_ms() < deadline)
		if (pl_nvme_poll(qp, 0) == 0)
			nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
	if (pl_nvme_qpair_outstanding(qp))
		pl_warn("%s: queue pair %u deleted with %u command(s) outstanding",
			pl_vfio_addr(c->dev), qp->q.qid, pl_nvme_qpair_outstanding(qp));

	/* The SQ first (which aborts what is still in it), then its CQ. */
	pthread_mutex_lock(&c->admin_lock);
	if (!c->failed)
		queue_cmd(c, NVME_ADMIN_DELETE_SQ, qp->q.qid, 0, 0, 0);
	pthread_mutex_unlock(&c->admin_lock);
	/* What completed before the SQ went is reaped as it ended, not called aborted; its
	 * callbacks run without the admin lock, which they may want. */
	if (!c->failed && pl_nvme_qpair_outstanding(qp))
		pl_nvme_poll(qp, 0);
	pthread_mutex_lock(&c->admin_lock);
	if (!c->failed)
		queue_cmd(c, NVME_ADMIN_DELETE_CQ, qp->q.qid, 0, 0, 0);
	c->qid_used[qp->q.qid] = false;
	c->qpairs[qp->q.qid] = NULL;
	pthread_mutex_unlock(&c->admin_lock);
	if (pl_nvme_qpair_outstanding(qp))
		complete_all(qp, (uint16_t)NVME_SCT_SC(NVME_SCT_GENERIC, NVME_SC_ABORT_SQ_DEL));
	qpair_free(qp);
}

void pl_nvme_qpairs_destroy_all(struct pl_nvme_ctrl *c)
{
	for (unsigned i = 1; i <= PL_NVME_MAX_QPAIRS; i++)
		if (c->qpairs[i]) {
			pl_warn("%s: queue pair %u still there at close: destroying it",
				pl_vfio_addr(c->dev), i);
			pl_nvme_qpair_destroy(c->qpairs[i]);
		}
}

unsigned pl_nvme_qpair_id(const struct pl_nvme_qpair *qp)
{
	return qp->q.qid;
}

unsigned pl_nvme_qpair_slots(const struct pl_nvme_qpair *qp)
{
	return qp->slots;
}

unsigned pl_nvme_qpair_outstanding(const struct pl_nvme_qpair *qp)
{
	return qp->slots - qp->nfree;
}

int pl_nvme_qpair_irq_fd(const struct pl_nvme_qpair *qp)
{
	return qp->irq_fd;
}

size_t pl_nvme_qpair_dma_bytes(const struct pl_nvme_qpair *qp)
{
	return qp->mem_len;
}

void pl_nvme_kick(struct pl_nvme_qpair *qp)
{
	pl_nvme_ring_sq(&qp->q);
}

/* Every 4096 empty polls the controller's status is read: a failure is noticed, cheaply. */
#define CSTS_EVERY 4096

int pl_nvme_poll(struct pl_nvme_qpair *qp, unsigned budget)
{
	struct pl_nvme_queue *q = &qp->q;
	volatile struct nvme_cqe *e;
	int done = 0;

	pl_nvme_ring_sq(q);
	while ((!budget || (unsigned)done < budget) && (e = pl_nvme_next_cqe(q))) {
		uint16_t cid = e->cid, status = pl_nvme_status(e->status);
		uint32_t dw0 = e->dw0;

		pl_nvme_consume_cqe(q);
		/*
		 * The CQ doorbell once CQ_BATCH entries are consumed, and before any callback
		 * can submit again: outstanding commands plus held-back entries then never
		 * exceed the ring, so the controller always has room to post.
		 */
		if ((uint16_t)(q->cq_head - q->cq_rung + q->depth) % q->depth >=
		    (qp->cq_batch ? qp->cq_batch : 1))
			pl_nvme_ring_cq(q);
		/* A CID that is not out is a controller's bug: nothing to complete. */
		if (cid >= qp->slots || qp->reqs[cid].parent == PL_NVME_FREE_SLOT)
			continue;
		struct pl_nvme_req *r = &qp->reqs[cid];
		uint16_t parent = r->parent;
		struct pl_nvme_req *p = &qp->reqs[parent];
		if (status && !p->status)
			p->status = status;
		if (r != p) {
			r->parent = PL_NVME_FREE_SLOT;
			qp->free_cids[qp->nfree++] = cid;
		} else {
			p->dw0 = dw0;
		}
		if (--p->pending)
			continue;
		/* The whole request is done: free its slot first, so the callback may reuse it. */
		struct pl_nvme_cpl cpl = { .status = p->status, .dw0 = p->dw0 };
		pl_nvme_cb cb = p->cb;
		void *arg = p->arg;
		p->parent = PL_NVME_FREE_SLOT;
		qp->free_cids[qp->nfree++] = parent;
		done++;
		if (cb)
			cb(arg, &cpl);
	}
	/* What the callbacks submitted goes out now, in the same doorbell write as a batch. */
	pl_nvme_ring_sq(q);
	if (!done && pl_nvme_qpair_outstanding(qp) && ++qp->idle_polls >= CSTS_EVERY) {
		qp->idle_polls = 0;
		if (pl_nvme_check_fatal(qp->ctrl))
			qp->failed = true;
	}
	return qp->failed ? -EIO : done;
}
