/* The block interface's "pmd" back end: an NVMe namespace through Pollen's driver. */
#include "blk_priv.h"

#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/log.h>
#include <pollen/nvme.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pmd {
	struct pl_iommu *ctx;
	bool own_ctx;		/* opened here, closed with the device */
	struct pl_nvme_ctrl *ctrl;
	uint32_t nsid;
	unsigned shift;		/* log2 of the block size */
};

/* An I/O in flight: what the caller gave, found again from the driver's callback. */
struct pmd_req {
	pl_blk_cb cb;
	void *arg;
	struct pmd_queue *q;
};

struct pmd_queue {
	struct pl_blk_queue base;
	struct pl_nvme_qpair *qp;
	struct pmd_req *reqs;
	unsigned *free;		/* a stack of free request slots */
	unsigned nfree;
};

static int pmd_open(struct pl_blk *b, const char *target)
{
	struct pmd *p = calloc(1, sizeof(*p));
	struct pl_nvme_opts o = {
		.io_queues = b->opts.queues,
		.shadow_doorbells = b->opts.shadow_doorbells,
		.sgl = b->opts.sgl,
		.interrupts = b->opts.interrupts,
	};
	const struct pl_nvme_ns *ns = NULL;
	int ret = -ENOMEM;

	if (!p)
		return ret;
	b->be = p;
	if (!(p->ctx = b->opts.ctx)) {
		p->own_ctx = true;
		if (!(p->ctx = pl_iommu_open(PL_IOMMU_AUTO))) {
			ret = -errno;
			goto err;
		}
	}
	if (!(p->ctrl = pl_nvme_open(p->ctx, target, &o))) {
		ret = -errno;
		goto err;
	}
	/* The namespace asked for, or the first one Pollen can do I/O to. */
	for (unsigned i = 0; !b->opts.nsid && !ns && i < pl_nvme_ns_count(p->ctrl); i++)
		if (pl_nvme_ns_at(p->ctrl, i)->usable)
			ns = pl_nvme_ns_at(p->ctrl, i);
	if (b->opts.nsid)
		ns = pl_nvme_ns(p->ctrl, b->opts.nsid);
	if (!ns || !ns->usable) {
		pl_err("%s: %s namespace %u%s", target, ns ? "the" : "no usable",
		       b->opts.nsid, !ns ? " (pollen-nvme-identify lists them)" : ns->block_size ?
		       " is formatted with metadata, which Pollen does not move" :
		       " has a block size outside 512 bytes to 64 KiB");
		ret = -ENODEV;
		goto err;
	}
	/* NSZE is the device's word: a size past 64 bits would wrap every bound on it. */
	if (ns->blocks > UINT64_MAX / ns->block_size) {
		pl_err("%s: namespace %u says %llu blocks of %u bytes: more than 2^64 bytes",
		       target, ns->nsid, (unsigned long long)ns->blocks, ns->block_size);
		ret = -EINVAL;
		goto err;
	}
	p->nsid = b->nsid = ns->nsid;
	b->block_size = ns->block_size;
	b->blocks = ns->blocks;
	b->max_queues = pl_nvme_io_queues(p->ctrl);
	while ((1u << p->shift) < ns->block_size)
		p->shift++;
	return 0;
err:
	pl_nvme_close(p->ctrl);
	if (p->own_ctx)
		pl_iommu_close(p->ctx);
	free(p);
	return ret;
}

static void pmd_close(struct pl_blk *b)
{
	struct pmd *p = b->be;

	pl_nvme_close(p->ctrl);
	if (p->own_ctx)
		pl_iommu_close(p->ctx);
	free(p);
}

static void *pmd_buf_alloc(struct pl_blk *b, size_t len)
{
	struct pmd *p = b->be;
	struct pl_dma_span s;
	uint64_t iova;
	void *va = pl_dma_alloc(p->ctx, len, 0, &iova);

	if (va && !pl_dma_lookup(p->ctx, va, &s))
		b->dma_bytes += s.len;
	return va;
}

static void pmd_buf_free(struct pl_blk *b, void *buf)
{
	struct pmd *p = b->be;
	struct pl_dma_span s;

	if (!pl_dma_lookup(p->ctx, buf, &s))
		b->dma_bytes -= s.len;
	pl_dma_free(p->ctx, buf);
}

static struct pl_blk_queue *pmd_queue_create(struct pl_blk *b, unsigned depth)
{
	struct pmd *p = b->be;
	/* Command slots for @depth of the largest I/O, each split at the transfer limit. */
	size_t pieces = (PL_BLK_MAX_IO + pl_nvme_max_transfer(p->ctrl) - 1) /
			pl_nvme_max_transfer(p->ctrl);
	size_t slots = depth * pieces, most = pl_nvme_max_depth(p->ctrl) - 1;

	if (depth > most) {
		pl_err("%s: a queue of depth %u: the controller takes %zu commands at once",
		       b->name, depth, most);
		errno = EINVAL;
		return NULL;
	}
	struct pl_nvme_qpair_opts o = { .depth = (unsigned)(slots < most ? slots : most),
					.interrupts = b->opts.interrupts,
					.timeout_ms = b->opts.timeout_ms };
	struct pmd_queue *q = calloc(1, sizeof(*q));
	int err = ENOMEM;

	if (!q || !(q->reqs = calloc(depth, sizeof(*q->reqs))) ||
	    !(q->free = calloc(depth, sizeof(*q->free))))
		goto err;
	if (!(q->qp = pl_nvme_qpair_create(p->ctrl, &o))) {
		err = errno;
		goto err;
	}
	q->base = (struct pl_blk_queue){ .blk = b, .depth = depth,
					 .fd = pl_nvme_qpair_irq_fd(q->qp) };
	for (unsigned i = 0; i < depth; i++)
		q->free[q->nfree++] = depth - 1 - i;
	b->dma_bytes += pl_nvme_qpair_dma_bytes(q->qp);
	return &q->base;
err:
	if (q) {
		free(q->reqs);
		free(q->free);
	}
	free(q);
	errno = err;
	return NULL;
}

static void pmd_queue_destroy(struct pl_blk_queue *bq)
{
	struct pmd_queue *q = (struct pmd_queue *)bq;

	bq->blk->dma_bytes -= pl_nvme_qpair_dma_bytes(q->qp);
	pl_nvme_qpair_destroy(q->qp);
	free(q->reqs);
	free(q->free);
	free(q);
}

static void pmd_done(void *arg, const struct pl_nvme_cpl *cpl)
{
	struct pmd_req *r = arg;
	struct pmd_queue *q = r->q;
	struct pl_blk_cpl c = {
		.err = !cpl->status ? 0 : cpl->status == PL_NVME_SC_TIMEOUT ? -ETIMEDOUT :
		       cpl->status == PL_NVME_SC_RESET ? -ECANCELED : -EIO,
		.nvme_status = cpl->status,
	};
	pl_blk_cb cb = r->cb;
	void *cb_arg = r->arg;

	/* The slot is free before the callback, which may submit again. */
	q->free[q->nfree++] = (unsigned)(r - q->reqs);
	q->base.outstanding--;
	if (cb)
		cb(cb_arg, &c);
}

static int pmd_submit(struct pl_blk_queue *bq, enum pl_blk_op op, void *buf, uint64_t offset,
		      size_t len, pl_blk_cb cb, void *arg)
{
	struct pmd_queue *q = (struct pmd_queue *)bq;
	struct pmd *p = bq->blk->be;
	uint64_t lba = offset >> p->shift, blocks = len >> p->shift;
	int ret;

	/* blk.c keeps to @depth I/Os, so a request slot is free. */
	struct pmd_req *r = &q->reqs[q->free[--q->nfree]];
	*r = (struct pmd_req){ cb, arg, q };
	switch (op) {
	case PL_BLK_READ:
		ret = pl_nvme_read(q->qp, p->nsid, buf, lba, blocks, pmd_done, r);
		break;
	case PL_BLK_WRITE:
		ret = pl_nvme_write(q->qp, p->nsid, buf, lba, blocks, pmd_done, r);
		break;
	case PL_BLK_FLUSH:
		ret = pl_nvme_flush(q->qp, p->nsid, pmd_done, r);
		break;
	default:
		ret = pl_nvme_deallocate(q->qp, p->nsid, lba, blocks, pmd_done, r);
		break;
	}
	if (ret)
		q->nfree++;	/* the slot just taken goes back */
	return ret;
}

static void pmd_kick(struct pl_blk_queue *bq)
{
	pl_nvme_kick(((struct pmd_queue *)bq)->qp);
}

static int pmd_poll(struct pl_blk_queue *bq, unsigned max)
{
	return pl_nvme_poll(((struct pmd_queue *)bq)->qp, max);
}

void *pl_blk_nvme(const struct pl_blk *b)
{
	return b->ops == &pl_blk_pmd_ops ? ((struct pmd *)b->be)->ctrl : NULL;
}

const struct pl_blk_ops pl_blk_pmd_ops = {
	.backend = PL_BLK_PMD,
	.open = pmd_open,
	.close = pmd_close,
	.buf_alloc = pmd_buf_alloc,
	.buf_free = pmd_buf_free,
	.queue_create = pmd_queue_create,
	.queue_destroy = pmd_queue_destroy,
	.submit = pmd_submit,
	.kick = pmd_kick,
	.poll = pmd_poll,
};
