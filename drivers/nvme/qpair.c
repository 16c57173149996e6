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

	if (ret == -EIO && !pl_nvme_cfs(c))
		pl_err("%s: admin command 0x%02x for queue %u failed with status %03x",
		       c->addr, opcode, qid, NVME_CQE_SCT_SC(cpl.status));
	return ret;
}

static void qpair_free(struct pl_nvme_qpair *qp)
{
	pl_dma_free(qp->ctrl->ctx, qp->mem);
	free(qp->reqs);
	free(qp->limbo);
	free(qp->free_cids);
	free(qp);
}

/* Every slot free and no command out, slot 0 on top of the stack. */
static void free_all_slots(struct pl_nvme_qpair *qp)
{
	qp->nfree = 0;
	for (unsigned i = 0; i < qp->slots; i++) {
		qp->free_cids[qp->nfree++] = (uint16_t)(qp->slots - 1 - i);
		qp->reqs[i].parent = PL_NVME_FREE_SLOT;
		qp->reqs[i].out = false;
	}
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
	    !(qp->free_cids = calloc(slots, sizeof(*qp->free_cids))) ||
	    !(qp->limbo = calloc(slots, sizeof(*qp->limbo))))
		return -ENOMEM;
	qp->slots = slots;
	/* A CID names its slot in its low bits; the bits above count the slot's uses. */
	while ((1u << qp->tag_bits) < slots)
		qp->tag_bits++;
	qp->tag_mask = (uint16_t)((1u << qp->tag_bits) - 1);
	qp->limbo_cap = slots;
	free_all_slots(qp);
	return 0;
}

/* 7.6.1: the CQ first, then the SQ that posts to it; admin_lock held. */
static int make_queues_locked(struct pl_nvme_qpair *qp)
{
	struct pl_nvme_ctrl *c = qp->ctrl;
	uint16_t qid = qp->q.qid, entries = qp->q.depth;
	size_t sq_len = round_page(entries * sizeof(struct nvme_sqe));
	int ret;

	if ((ret = queue_cmd(c, NVME_ADMIN_CREATE_CQ, qid, entries, qp->mem_iova + sq_len,
			     qp->cq_flags)))
		return ret;
	if ((ret = queue_cmd(c, NVME_ADMIN_CREATE_SQ, qid, entries, qp->mem_iova,
			     NVME_SQ_PC | NVME_SQ_QPRIO_MEDIUM | NVME_SQ_CQID(qid))))
		queue_cmd(c, NVME_ADMIN_DELETE_CQ, qid, 0, 0, 0);
	return ret;
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
		       c->addr, o.depth, pl_nvme_max_depth(c) - 1);
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
		       "(pl_nvme_opts.interrupts)", c->addr);
		errno = EINVAL;
		return NULL;
	}
	if (!(qp = calloc(1, sizeof(*qp)))) {
		errno = ENOMEM;
		return NULL;
	}
	qp->ctrl = c;
	qp->irq_fd = -1;
	qp->timeout_ms = o.timeout_ms;
	if ((ret = qpair_memory(qp, o.depth, entries)))
		goto err_free;

	pthread_mutex_lock(&c->admin_lock);
	for (unsigned i = 1; i <= c->io_queues && !qid; i++)
		if (!c->qid_used[i])
			qid = i;
	if (!qid) {
		pl_err("%s: all %u granted I/O queue pairs are in use", c->addr,
		       c->io_queues);
		ret = -ENOSPC;
		goto err_unlock;
	}
	size_t sq_len = round_page(entries * sizeof(struct nvme_sqe));
	uint32_t irq = 0;
	if (o.interrupts) {
		if (qid >= c->irq_vectors) {
			pl_err("%s: queue pair %u has no MSI-X vector of its own (%u routed)",
			       c->addr, qid, c->irq_vectors);
			ret = -ENOSPC;
			goto err_unlock;
		}
		irq = NVME_CQ_IEN | NVME_CQ_IV(qid);
		qp->irq_fd = pl_irq_fd(c->dev, qid);
	}
	pl_nvme_queue_init(c, &qp->q, qid, entries, qp->mem, qp->mem + sq_len);
	/* Entries past the depth: held back that many, the doorbell is still in time. */
	qp->cq_batch = entries - 1 - o.depth ? entries - 1 - o.depth : 1;
	qp->cq_flags = NVME_CQ_PC | irq;
	qp->gen = c->gen;
	if ((ret = make_queues_locked(qp)))
		goto err_unlock;
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

static inline struct pl_nvme_cpl cpl_of(const struct pl_nvme_req *p)
{
	return (struct pl_nvme_cpl){
		.status = p->status, .dnr = p->flags & REQ_DNR, .opcode = p->opcode,
		.dw0 = p->dw0, .nsid = p->nsid, .blocks = p->blocks, .lba = p->lba,
	};
}

/*
 * Calls back the requests a reset ended, each once: an entry is taken before its
 * callback, which may submit (after yet another reset that adds to the limbo) or poll
 * again (which delivers the rest from where this one got to).
 */
static int deliver_limbo(struct pl_nvme_qpair *qp)
{
	int done = 0;

	while (qp->limbo_next < qp->nlimbo) {
		struct pl_nvme_req l = qp->limbo[qp->limbo_next++];
		struct pl_nvme_cpl cpl = cpl_of(&l);

		done++;
		if (l.cb)
			l.cb(l.arg, &cpl);
	}
	qp->limbo_next = qp->nlimbo = 0;
	return done;
}

/*
 * Completes what the controller will not: each outstanding request once, with @status.
 * The pair has failed first, so a callback that submits again is refused.
 */
static void complete_all(struct pl_nvme_qpair *qp, uint16_t status)
{
	qp->failed = true;
	deliver_limbo(qp);
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

void pl_nvme_qpair_destroy(struct pl_nvme_qpair *qp)
{
	if (!qp)
		return;
	struct pl_nvme_ctrl *c = qp->ctrl;
	uint64_t deadline = pl_nvme_now_ms() + DRAIN_TIMEOUT_MS;

	while ((pl_nvme_qpair_outstanding(qp) || qp->nlimbo) && !qp->failed &&
	       pl_nvme_now_ms() < deadline)
		if (pl_nvme_poll(qp, 0) == 0)
			nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
	if (pl_nvme_qpair_outstanding(qp))
		pl_warn("%s: queue pair %u deleted with %u command(s) outstanding",
			c->addr, qp->q.qid, pl_nvme_qpair_outstanding(qp));

	/* The SQ first (which aborts what is still in it), then its CQ. */
	pthread_mutex_lock(&c->admin_lock);
	if (!qp->failed && !pl_nvme_qpair_stale(qp))
		queue_cmd(c, NVME_ADMIN_DELETE_SQ, qp->q.qid, 0, 0, 0);
	pthread_mutex_unlock(&c->admin_lock);
	/* What completed before the SQ went is reaped as it ended, not called aborted; its
	 * callbacks run without the admin lock, which they may want. */
	if (!qp->failed && pl_nvme_qpair_outstanding(qp))
		pl_nvme_poll(qp, 0);
	pthread_mutex_lock(&c->admin_lock);
	if (!qp->failed && !pl_nvme_qpair_stale(qp))
		queue_cmd(c, NVME_ADMIN_DELETE_CQ, qp->q.qid, 0, 0, 0);
	c->qid_used[qp->q.qid] = false;
	c->qpairs[qp->q.qid] = NULL;
	pthread_mutex_unlock(&c->admin_lock);
	if (pl_nvme_qpair_outstanding(qp) || qp->nlimbo)
		complete_all(qp, (uint16_t)NVME_SCT_SC(NVME_SCT_GENERIC, NVME_SC_ABORT_SQ_DEL));
	qpair_free(qp);
}

void pl_nvme_qpairs_destroy_all(struct pl_nvme_ctrl *c)
{
	for (unsigned i = 1; i <= PL_NVME_MAX_QPAIRS; i++)
		if (c->qpairs[i]) {
			pl_warn("%s: queue pair %u still there at close: destroying it",
				c->addr, i);
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

/*
 * No doorbell on a pair a reset has begun on: its commands end with the reset anyway,
 * and a doorbell then is what crashed QEMU 7.2 (see pl_nvme_reset_locked).
 */
static inline void ring_sq_unless_stale(struct pl_nvme_qpair *qp)
{
	if (pl_likely(!pl_nvme_qpair_stale(qp)))
		pl_nvme_ring_sq(&qp->q);
}

void pl_nvme_kick(struct pl_nvme_qpair *qp)
{
	ring_sq_unless_stale(qp);
}

/* Every 4096 empty polls the controller's status is read: a failure is noticed, cheaply. */
#define CSTS_EVERY 4096

static void stray_cqe(struct pl_nvme_qpair *qp, uint16_t cid)
{
	/* Once per pair: a controller that does it once will do it again. */
	if (!qp->stray_cqes++)
		pl_warn("%s: queue pair %u: a completion for CID 0x%04x, which is not out: "
			"dropped (the controller completed a command twice, or one it never had)",
			qp->ctrl->addr, qp->q.qid, cid);
}

/*
 * One command's completion: its slot freed, its request's first error kept (with where
 * that piece went). Returns the request when this was its last piece, its slot freed
 * too (read it before anything can submit again), else NULL.
 */
static inline struct pl_nvme_req *finish(struct pl_nvme_qpair *qp, uint16_t cid,
					 uint16_t cqe_status, uint32_t dw0)
{
	uint16_t slot = cid & qp->tag_mask;
	struct pl_nvme_req *r = &qp->reqs[slot];

	/*
	 * Only a command out with exactly this CID completes: a duplicate, a stale one for a
	 * slot used again since, or one never sent would end someone else's request.
	 */
	if (pl_unlikely(slot >= qp->slots || !r->out || r->cid != cid)) {
		stray_cqe(qp, cid);
		return NULL;
	}
	r->out = false;
	uint16_t parent = r->parent, status = pl_nvme_status(cqe_status);
	struct pl_nvme_req *p = &qp->reqs[parent];

	if (pl_unlikely(status) && !p->status) {
		p->status = status;
		if (NVME_CQE_DNR(cqe_status))
			p->flags |= REQ_DNR;
		p->opcode = r->opcode;
		p->lba = r->lba;
		p->blocks = r->blocks;
	}
	if (r != p) {
		r->parent = PL_NVME_FREE_SLOT;
		qp->free_cids[qp->nfree++] = slot;
	} else {
		p->dw0 = dw0;
	}
	if (--p->pending)
		return NULL;
	/* An Abort the driver sent ends a timed-out command: the caller sees the timeout. */
	if (pl_unlikely(p->flags & REQ_TIMED_OUT) && p->status)
		p->status = PL_NVME_SC_TIMEOUT;
	p->parent = PL_NVME_FREE_SLOT;
	qp->free_cids[qp->nfree++] = parent;
	return p;
}

/*
 * Puts an ended request aside for pl_nvme_poll() to call back: never called back here,
 * under the admin lock. A pair's worth fits; a reset that comes while the last one's
 * callbacks are still being called may need more, and the limbo grows (a fault path,
 * not the data path). Only if memory runs out is the request called back at once.
 */
static void to_limbo(struct pl_nvme_qpair *qp, const struct pl_nvme_req *p)
{
	if (qp->nlimbo == qp->limbo_cap) {
		struct pl_nvme_req *more = realloc(qp->limbo, 2 * qp->limbo_cap * sizeof(*more));

		if (!more) {
			struct pl_nvme_cpl cpl = cpl_of(p);

			pl_err("%s: no memory to hold a request a reset ended: called back at once",
			       qp->ctrl->addr);
			if (p->cb)
				p->cb(p->arg, &cpl);
			return;
		}
		qp->limbo = more;
		qp->limbo_cap *= 2;
	}
	qp->limbo[qp->nlimbo++] = *p;
}

/* Brings a pair back after a reset, in its owner's pl_nvme_poll(): the one place it is. */
static void recover(struct pl_nvme_qpair *qp)
{
	struct pl_nvme_ctrl *c = qp->ctrl;
	struct pl_nvme_queue *q = &qp->q;
	volatile struct nvme_cqe *e;
	unsigned reaped = 0, ended = 0;
	struct pl_nvme_req *p;
	int ret = -EIO;

	/*
	 * Under the lock, so any reset is over: QEMU, for one, drains the I/O in flight
	 * within its CC write and may post completions then. What the controller completed
	 * before it was disabled did complete: reaped as it ended.
	 */
	pthread_mutex_lock(&c->admin_lock);
	while ((e = pl_nvme_next_cqe(q))) {
		uint16_t cid = e->cid, status = e->status;
		uint32_t dw0 = e->dw0;

		pl_nvme_consume_cqe(q);
		if ((p = finish(qp, cid, status, dw0))) {
			to_limbo(qp, p);
			reaped++;
		}
	}
	/* The rest ended with it, exactly once each; every slot is free again. */
	bool dead = pl_nvme_dead(c);
	for (unsigned cid = 0; cid < qp->slots; cid++) {
		p = &qp->reqs[cid];
		if (p->parent == cid) {
			p->status = dead ? PL_NVME_SC_FAILED :
				    p->flags & REQ_TIMED_OUT ? PL_NVME_SC_TIMEOUT : PL_NVME_SC_RESET;
			to_limbo(qp, p);
			ended++;
		}
	}
	free_all_slots(qp);
	/* The same queues again, empty: ID, depth, memory and vector as before. */
	qp->gen = c->gen;
	if (!dead) {
		memset((void *)q->cq, 0, (size_t)q->depth * sizeof(struct nvme_cqe));
		pl_nvme_queue_init(c, q, q->qid, q->depth, q->sq, (void *)q->cq);
		ret = make_queues_locked(qp);
	}
	pthread_mutex_unlock(&c->admin_lock);
	if (ret) {
		qp->failed = true;
		pl_err("%s: queue pair %u could not be made again after the reset: it is failed",
		       c->addr, q->qid);
	} else {
		pl_info("%s: queue pair %u back after reset %u: %u request(s) ended by it, %u "
			"completed before it", c->addr, q->qid, pl_nvme_resets(c), ended,
			reaped);
	}
}

/* Resets the controller on the failure that this thread noticed, unless another did. */
static void reset_failed(struct pl_nvme_ctrl *c)
{
	pthread_mutex_lock(&c->admin_lock);
	if (pl_nvme_cfs(c) && !pl_nvme_dead(c))
		pl_nvme_reset_locked(c);
	pthread_mutex_unlock(&c->admin_lock);
}

/* Aborts each outstanding piece of request @parent: false when one is not aborted. */
static bool abort_request(struct pl_nvme_qpair *qp, uint16_t parent)
{
	bool all = true;

	for (unsigned cid = 0; cid < qp->slots; cid++) {
		if (qp->reqs[cid].parent != parent)
			continue;
		struct nvme_sqe cmd = {
			.opcode = NVME_ADMIN_ABORT,
			.cdw10 = NVME_ABORT_CDW10(qp->q.qid, qp->reqs[cid].cid),
		};
		struct nvme_cqe cpl = { 0 };
		if (pl_nvme_admin(qp->ctrl, &cmd, NULL, 0, &cpl) || NVME_ABORT_NOT_ABORTED(cpl.dw0))
			all = false;
	}
	return all;
}

/*
 * A request past its time is aborted; one the controller did not end within as long
 * again (or would not abort) takes a controller reset, which ends everything in flight.
 */
static void check_timeouts(struct pl_nvme_qpair *qp, uint32_t now)
{
	bool reset = false;

	for (unsigned cid = 0; cid < qp->slots; cid++) {
		struct pl_nvme_req *r = &qp->reqs[cid];

		if (r->parent != cid || now - r->t_sent < qp->timeout_ms)
			continue;
		if (r->flags & REQ_ABORT_SENT) {
			pl_warn("%s: queue pair %u: CID 0x%04x still not done %u ms after its Abort: "
				"resetting the controller", qp->ctrl->addr, qp->q.qid,
				r->cid, qp->timeout_ms);
			reset = true;
			continue;
		}
		r->flags |= REQ_TIMED_OUT | REQ_ABORT_SENT;
		r->t_sent = now;
		const char *op = pl_nvme_opcode_name(r->opcode);
		pl_warn("%s: queue pair %u: %s of %u block(s) at LBA %llu on namespace %u (CID "
			"0x%04x) did not complete within %u ms: aborting it",
			qp->ctrl->addr, qp->q.qid, op ? op : "a command", r->blocks,
			(unsigned long long)r->lba, r->nsid, r->cid, qp->timeout_ms);
		if (!abort_request(qp, (uint16_t)cid)) {
			pl_warn("%s: the controller did not abort it: resetting the controller",
				qp->ctrl->addr);
			reset = true;
		}
	}
	if (reset)
		pl_nvme_reset(qp->ctrl);
}

int pl_nvme_poll(struct pl_nvme_qpair *qp, unsigned budget)
{
	struct pl_nvme_queue *q = &qp->q;
	volatile struct nvme_cqe *e;
	int done = 0;

	if (pl_unlikely(pl_nvme_qpair_stale(qp)))
		recover(qp);
	if (pl_unlikely(qp->nlimbo))
		done = deliver_limbo(qp);
	if (pl_unlikely(qp->failed))
		return -EIO;
	pl_nvme_ring_sq(q);
	while ((!budget || (unsigned)done < budget) && (e = pl_nvme_next_cqe(q))) {
		uint16_t cid = e->cid, status = e->status;
		uint32_t dw0 = e->dw0;

		pl_nvme_consume_cqe(q);
		/*
		 * The CQ doorbell once CQ_BATCH entries are consumed, and before any callback
		 * can submit again: outstanding commands plus held-back entries then never
		 * exceed the ring, so the controller always has room to post.
		 */
		if (q->cq_unrung >= qp->cq_batch)
			pl_nvme_ring_cq(q);
		struct pl_nvme_req *p = finish(qp, cid, status, dw0);
		if (!p)
			continue;
		/* The slot is free: what the callback needs is copied before it may reuse it. */
		struct pl_nvme_cpl cpl = cpl_of(p);
		pl_nvme_cb cb = p->cb;
		void *arg = p->arg;
		done++;
		if (cb)
			cb(arg, &cpl);
	}
	/* What the callbacks submitted goes out now, in the same doorbell write as a batch. */
	ring_sq_unless_stale(qp);
	if (pl_unlikely(qp->timeout_ms) && pl_nvme_qpair_outstanding(qp)) {
		uint32_t now = pl_nvme_coarse_ms();

		if ((int32_t)(now - qp->next_check) >= 0) {
			qp->next_check = now + (qp->timeout_ms / 4 ? qp->timeout_ms / 4 : 1);
			check_timeouts(qp, now);
		}
	}
	if (!done && pl_nvme_qpair_outstanding(qp) && ++qp->idle_polls >= CSTS_EVERY) {
		qp->idle_polls = 0;
		if (pl_nvme_check_fatal(qp->ctrl))
			reset_failed(qp->ctrl);
	}
	return done;
}

unsigned pl_nvme_max_depth(const struct pl_nvme_ctrl *c)
{
	return NVME_CAP_MQES(c->cap) + 1;
}
