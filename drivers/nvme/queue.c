/*
 * A queue made: its doorbells (MMIO, or shadow doorbells with event indexes). What runs per
 * command, ringing them and reading the completion ring, is inline in nvme_priv.h.
 */
#include "nvme_priv.h"

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
