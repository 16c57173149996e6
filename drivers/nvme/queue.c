/* Doorbells (MMIO, or shadow doorbells with event indexes) and the completion ring. */
#include "nvme_priv.h"

#include <pollen/mmio.h>

void pl_nvme_queue_init(struct pl_nvme_ctrl *c, struct pl_nvme_queue *q, uint16_t qid,
			uint16_t depth, void *sq, void *cq)
{
	*q = (struct pl_nvme_queue){
		.qid = qid,
		.depth = depth,
		.sq = sq,
		.cq = cq,
		.phase = 1,
		.sq_db = (volatile uint32_t *)((volatile char *)c->bar + NVME_REG_DBS +
					       2u * qid * c->dstrd),
		.cq_db = (volatile uint32_t *)((volatile char *)c->bar + NVME_REG_DBS +
					       (2u * qid + 1) * c->dstrd),
	};
	/* Shadow doorbells for I/O queues only, as Linux does: the admin queue is rare. */
	if (qid && c->dbbuf) {
		size_t sq_off = 2u * qid * c->dstrd / 4, cq_off = (2u * qid + 1) * c->dstrd / 4;

		q->sq_shadow = c->dbbuf_shadow + sq_off;
		q->cq_shadow = c->dbbuf_shadow + cq_off;
		q->sq_ei = c->dbbuf_ei + sq_off;
		q->cq_ei = c->dbbuf_ei + cq_off;
		/* A queue made again with this ID must not find the last one's values. */
		*q->sq_shadow = *q->cq_shadow = *q->sq_ei = *q->cq_ei = 0;
	}
}

/*
 * With shadow doorbells the controller publishes, per doorbell, the value past which it
 * wants an MMIO write (its event index); between that and the value it last took, a
 * write to the shadow is enough. The comparison is mod 2^16, as the queue indexes wrap.
 */
static bool need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

static void ring(volatile uint32_t *db, volatile uint32_t *shadow, volatile uint32_t *ei,
		 uint16_t val, uint16_t old)
{
	if (shadow) {
		*shadow = val;
		/* The shadow's store before the event index's load: the device writes one, reads the other. */
		pl_mb();
		if (!need_event((uint16_t)*ei, val, old))
			return;
	}
	pl_mmio_write32(db, 0, val);
}

void pl_nvme_push_sqe(struct pl_nvme_queue *q, const struct nvme_sqe *cmd)
{
	q->sq[q->sq_tail] = *cmd;
	q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->depth);
}

void pl_nvme_ring_sq(struct pl_nvme_queue *q)
{
	if (q->sq_tail == q->sq_rung)
		return;
	pl_dma_wmb();	/* the entries before the tail that hands them over */
	ring(q->sq_db, q->sq_shadow, q->sq_ei, q->sq_tail, q->sq_rung);
	q->sq_rung = q->sq_tail;
}

void pl_nvme_ring_cq(struct pl_nvme_queue *q)
{
	if (q->cq_head == q->cq_rung)
		return;
	/* The head is rung after the entries were read: loads do not pass a later store. */
	ring(q->cq_db, q->cq_shadow, q->cq_ei, q->cq_head, q->cq_rung);
	q->cq_rung = q->cq_head;
}

volatile struct nvme_cqe *pl_nvme_next_cqe(struct pl_nvme_queue *q)
{
	volatile struct nvme_cqe *e = &q->cq[q->cq_head];

	if (NVME_CQE_PHASE(e->status) != q->phase)
		return NULL;
	pl_dma_rmb();	/* the phase tag before the rest of the entry */
	return e;
}

void pl_nvme_consume_cqe(struct pl_nvme_queue *q)
{
	if (++q->cq_head == q->depth) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
}
