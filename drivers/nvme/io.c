/* I/O commands: checked, split at the transfer limit, data pointers built, queued. */
#include "nvme_priv.h"

#include <pollen/dma.h>
#include <pollen/log.h>

#include <errno.h>
#include <string.h>
#include <time.h>

static int check_ns(struct pl_nvme_qpair *qp, uint32_t nsid, uint64_t lba, uint32_t blocks,
		    const struct pl_nvme_ns **out)
{
	const struct pl_nvme_ns *ns = qp->ns;

	if (!ns || ns->nsid != nsid) {
		if (!(ns = pl_nvme_ns(qp->ctrl, nsid))) {
			pl_err("%s: namespace %u is not active (pollen-nvme-identify lists them)",
			       qp->ctrl->addr, nsid);
			return -EINVAL;
		}
		qp->ns = ns;
		/*
		 * What a request's split needs, once per namespace rather than per I/O (as
		 * SPDK's sectors_per_max_io): block sizes and the transfer limit are powers
		 * of two, a usable block no larger than the limit.
		 */
		if (ns->usable) {
			unsigned xfer = (unsigned)__builtin_ctzll(qp->ctrl->max_xfer);

			qp->lba_shift = (unsigned)__builtin_ctz(ns->block_size);
			qp->xfer_shift = xfer - qp->lba_shift < 16 ? xfer - qp->lba_shift : 16;
		}
	}
	if (!ns->usable) {
		pl_err("%s namespace %u: %s", qp->ctrl->addr, nsid, ns->block_size ?
		       "formatted with metadata, which Pollen does not move" :
		       "its block size is outside 512 bytes to 64 KiB");
		return -EOPNOTSUPP;
	}
	if (!blocks || lba >= ns->blocks || blocks > ns->blocks - lba) {
		pl_err("%s namespace %u: %u block(s) at LBA %llu: the namespace has %llu blocks",
		       qp->ctrl->addr, nsid, blocks, (unsigned long long)lba,
		       (unsigned long long)ns->blocks);
		return -EINVAL;
	}
	*out = ns;
	return 0;
}

/* The IOVA of [@va, +@len): by arithmetic on the last region used, a lookup on a miss. */
static int translate(struct pl_nvme_qpair *qp, const char *va, size_t len, uint64_t *iova)
{
	const char *start = qp->span.va;

	/* A hit: inside the cached region, and no region has been freed since. */
	if (!qp->span.gen_now || va < start || (size_t)(va - start) > qp->span.len ||
	    len > qp->span.len - (size_t)(va - start) ||
	    __atomic_load_n(qp->span.gen_now, __ATOMIC_ACQUIRE) != qp->span.gen) {
		struct pl_dma_span s;

		if (pl_dma_lookup(qp->ctrl->ctx, va, &s) ||
		    len > s.len - (size_t)(va - (const char *)s.va)) {
			pl_err("%s: buffer %p + %zu is not DMA memory on this controller's context "
			       "(pl_dma_alloc, pl_dma_register or a mapped pool), or runs past the "
			       "end of its region", qp->ctrl->addr, (const void *)va, len);
			return -EINVAL;
		}
		qp->span = s;
	}
	*iova = qp->span.iova + (uint64_t)(va - (const char *)qp->span.va);
	if (*iova & 3) {
		pl_err("%s: buffer %p is not 4-byte aligned, as PRPs and SGLs need",
		       qp->ctrl->addr, (const void *)va);
		return -EINVAL;
	}
	return 0;
}

/*
 * The data pointer (4.3, 4.4): one SGL data block where SGLs are on (the region is
 * contiguous in IOVA, so one descriptor covers any buffer); else PRP1, and PRP2 either
 * the second page or a PRP list in the slot's own list area.
 */
static void set_dptr(struct pl_nvme_qpair *qp, struct nvme_sqe *s, uint16_t cid, uint64_t iova,
		     uint32_t len)
{
	size_t ps = qp->ctrl->page_size;

	if (qp->ctrl->sgl) {
		s->flags |= NVME_PSDT_SGL_MPTR_CONTIG;
		s->sgl = (struct nvme_sgl_desc){
			.addr = iova, .length = len,
			.type = NVME_SGL_TYPE_DATA_BLOCK | NVME_SGL_SUBTYPE_ADDRESS,
		};
		return;
	}
	s->prp1 = iova;
	size_t first = ps - (iova & (ps - 1));
	if (len <= first)
		return;
	uint64_t next = iova + first;
	size_t rest = len - first;
	if (rest <= ps) {
		s->prp2 = next;
		return;
	}
	uint64_t *list = (uint64_t *)(qp->pages + (size_t)cid * qp->slot_bytes);
	for (size_t i = 0; i * ps < rest; i++)
		list[i] = next + i * ps;
	s->prp2 = qp->pages_iova + (size_t)cid * qp->slot_bytes;
}

/* Takes a slot for the request and @pieces - 1 more, or none when they are not all free. */
static int take_slots(struct pl_nvme_qpair *qp, uint64_t pieces, pl_nvme_cb cb, void *arg,
		      uint16_t *parent)
{
	if (pl_unlikely(qp->failed))
		return -EIO;
	/*
	 * A reset has begun on the pair: pl_nvme_poll() alone brings it back (and ends what
	 * the reset ended, once), as SPDK's qpair recovers in process_completions. A submit
	 * before that is told to poll first, as when the pair is full.
	 */
	if (pl_unlikely(pl_nvme_qpair_stale(qp)))
		return -EAGAIN;
	if (pieces > qp->slots) {
		pl_err("%s: a request of %llu commands on queue pair %u of %u slots: it could "
		       "never go out (make the pair deeper, or the request smaller)",
		       qp->ctrl->addr, (unsigned long long)pieces, qp->q.qid,
		       qp->slots);
		return -EINVAL;
	}
	if (pieces > qp->nfree)
		return -EAGAIN;
	*parent = qp->free_cids[--qp->nfree];
	struct pl_nvme_req *p = &qp->reqs[*parent];
	uint16_t gen = p->gen;	/* the slot's count of uses goes on */

	*p = (struct pl_nvme_req){
		.cb = cb, .arg = arg, .parent = *parent, .pending = (uint16_t)pieces, .gen = gen,
	};
	if (pl_unlikely(qp->timeout_ms))
		p->t_sent = pl_nvme_coarse_ms();
	return 0;
}

/*
 * The next SQ entry, zeroed, for slot @slot of request @parent, and what the slot
 * remembers of it: its CID is the slot with the slot's next generation above it.
 */
static struct nvme_sqe *next_sqe(struct pl_nvme_qpair *qp, uint16_t slot, uint16_t parent,
				 uint8_t opcode, uint32_t nsid, uint64_t lba, uint32_t blocks)
{
	struct nvme_sqe *s = pl_nvme_sq_take(&qp->q);
	struct pl_nvme_req *r = &qp->reqs[slot];

	r->parent = parent;
	r->opcode = opcode;
	r->nsid = nsid;
	r->lba = lba;
	r->blocks = blocks;
	r->cid = (uint16_t)(slot | ++r->gen << qp->tag_bits);
	r->out = true;
	memset(s, 0, sizeof(*s));
	s->cid = r->cid;
	s->opcode = opcode;
	s->nsid = nsid;
	return s;
}

/* Read, Write and Write Zeroes: @blocks at @lba, cut into pieces the controller takes. */
static int submit_rw(struct pl_nvme_qpair *qp, uint8_t opcode, uint32_t nsid, const void *buf,
		     uint64_t lba, uint32_t blocks, pl_nvme_cb cb, void *arg)
{
	const struct pl_nvme_ns *ns;
	uint64_t iova = 0;
	uint16_t parent;
	int ret;

	if ((ret = check_ns(qp, nsid, lba, blocks, &ns)))
		return ret;
	/* Data commands: the transfer limit; Write Zeroes: only the 16-bit block count. */
	unsigned max_shift = buf ? qp->xfer_shift : 16, shift = qp->lba_shift;
	uint32_t max = 1u << max_shift;
	if (buf && (ret = translate(qp, buf, (size_t)blocks << shift, &iova)))
		return ret;
	/* In 64 bits: 0xffff0001 blocks and more wrap a 32-bit count to none. */
	uint64_t pieces = ((uint64_t)blocks + max - 1) >> max_shift;
	if ((ret = take_slots(qp, pieces, cb, arg, &parent)))
		return ret;
	for (uint32_t i = 0, left = blocks; i < (uint32_t)pieces; i++, left -= max) {
		uint16_t cid = i ? qp->free_cids[--qp->nfree] : parent;
		uint32_t n = left < max ? left : max;
		uint64_t at = lba + ((uint64_t)i << max_shift);
		struct nvme_sqe *s = next_sqe(qp, cid, parent, opcode, nsid, at, n);

		s->cdw10 = (uint32_t)at;
		s->cdw11 = (uint32_t)(at >> 32);
		s->cdw12 = NVME_RW_NLB(n - 1);
		if (buf)
			set_dptr(qp, s, cid, iova + ((uint64_t)i << (max_shift + shift)), n << shift);
	}
	return 0;
}

int pl_nvme_read(struct pl_nvme_qpair *qp, uint32_t nsid, void *buf, uint64_t lba,
		 uint32_t blocks, pl_nvme_cb cb, void *arg)
{
	return submit_rw(qp, NVME_NVM_READ, nsid, buf, lba, blocks, cb, arg);
}

int pl_nvme_write(struct pl_nvme_qpair *qp, uint32_t nsid, const void *buf, uint64_t lba,
		  uint32_t blocks, pl_nvme_cb cb, void *arg)
{
	return submit_rw(qp, NVME_NVM_WRITE, nsid, buf, lba, blocks, cb, arg);
}

static bool has_oncs(struct pl_nvme_qpair *qp, uint16_t bit, const char *what)
{
	if (qp->ctrl->id->oncs & bit)
		return true;
	pl_err("%s: the controller does not do %s (ONCS 0x%04x)", qp->ctrl->addr,
	       what, qp->ctrl->id->oncs);
	return false;
}

int pl_nvme_write_zeroes(struct pl_nvme_qpair *qp, uint32_t nsid, uint64_t lba,
			 uint32_t blocks, pl_nvme_cb cb, void *arg)
{
	if (!has_oncs(qp, NVME_CTRL_ONCS_WRITE_ZEROES, "Write Zeroes"))
		return -EOPNOTSUPP;
	return submit_rw(qp, NVME_NVM_WRITE_ZEROES, nsid, NULL, lba, blocks, cb, arg);
}

int pl_nvme_deallocate(struct pl_nvme_qpair *qp, uint32_t nsid, uint64_t lba, uint32_t blocks,
		       pl_nvme_cb cb, void *arg)
{
	const struct pl_nvme_ns *ns;
	uint16_t cid;
	int ret;

	if (!has_oncs(qp, NVME_CTRL_ONCS_DSM, "Dataset Management"))
		return -EOPNOTSUPP;
	if ((ret = check_ns(qp, nsid, lba, blocks, &ns)) ||
	    (ret = take_slots(qp, 1, cb, arg, &cid)))
		return ret;
	/* The one range lives in the slot's own list area. */
	struct nvme_dsm_range *r = (struct nvme_dsm_range *)(qp->pages + (size_t)cid * qp->slot_bytes);
	*r = (struct nvme_dsm_range){ .nlb = blocks, .slba = lba };
	struct nvme_sqe *s = next_sqe(qp, cid, cid, NVME_NVM_DSM, nsid, lba, blocks);
	s->prp1 = qp->pages_iova + (size_t)cid * qp->slot_bytes;
	s->cdw10 = NVME_DSM_NR(0);
	s->cdw11 = NVME_DSM_AD;
	return 0;
}

int pl_nvme_flush(struct pl_nvme_qpair *qp, uint32_t nsid, pl_nvme_cb cb, void *arg)
{
	uint16_t cid;
	int ret;

	if (!pl_nvme_ns(qp->ctrl, nsid)) {
		pl_err("%s: namespace %u is not active", qp->ctrl->addr, nsid);
		return -EINVAL;
	}
	if ((ret = take_slots(qp, 1, cb, arg, &cid)))
		return ret;
	next_sqe(qp, cid, cid, NVME_NVM_FLUSH, nsid, 0, 0);
	return 0;
}

int pl_nvme_submit_raw(struct pl_nvme_qpair *qp, const struct nvme_sqe *cmd, pl_nvme_cb cb,
		       void *arg)
{
	bool rw = cmd->opcode == NVME_NVM_READ || cmd->opcode == NVME_NVM_WRITE ||
		  cmd->opcode == NVME_NVM_WRITE_ZEROES;
	uint16_t cid;
	int ret;

	if ((ret = take_slots(qp, 1, cb, arg, &cid)))
		return ret;
	struct nvme_sqe *s = next_sqe(qp, cid, cid, cmd->opcode, cmd->nsid,
				      rw ? (uint64_t)cmd->cdw11 << 32 | cmd->cdw10 : 0,
				      rw ? (cmd->cdw12 & 0xffff) + 1 : 0);
	*s = *cmd;
	s->cid = qp->reqs[cid].cid;
	return 0;
}

/* ---- the synchronous forms ---- */

struct sync_wait {
	bool done;
	uint16_t status;
};

static void sync_done(void *arg, const struct pl_nvme_cpl *cpl)
{
	struct sync_wait *w = arg;

	w->status = cpl->status;
	w->done = true;
}

#define SYNC_TIMEOUT_S 30

/*
 * Given up on (timeout, failed controller): the request may still complete later, or be
 * completed at the pair's end; its callback must not find @w, which is about to go.
 */
static void forget_wait(struct pl_nvme_qpair *qp, struct sync_wait *w)
{
	for (unsigned cid = 0; cid < qp->slots; cid++)
		if (qp->reqs[cid].arg == w)
			qp->reqs[cid].cb = NULL;
	for (unsigned i = qp->limbo_next; i < qp->nlimbo; i++)
		if (qp->limbo[i].arg == w)
			qp->limbo[i].cb = NULL;
}

static int wait_sync(struct pl_nvme_qpair *qp, struct sync_wait *w, uint16_t *status)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (unsigned n = 0; !w->done; n++) {
		if (pl_nvme_poll(qp, 0) < 0 && !w->done) {
			forget_wait(qp, w);
			return -EIO;
		}
		/* The clock only now and then: a completion takes microseconds. */
		if (n % 4096 == 4095 && !clock_gettime(CLOCK_MONOTONIC, &now) &&
		    now.tv_sec - start.tv_sec > SYNC_TIMEOUT_S) {
			pl_err("%s: a command on queue pair %u did not complete within %d s",
			       qp->ctrl->addr, qp->q.qid, SYNC_TIMEOUT_S);
			forget_wait(qp, w);
			return -ETIMEDOUT;
		}
	}
	if (status)
		*status = w->status;
	return w->status ? -EIO : 0;
}

/* The synchronous forms poll anyway: a pair a reset made stale is brought back first. */
static void recover_if_stale(struct pl_nvme_qpair *qp)
{
	if (pl_unlikely(pl_nvme_qpair_stale(qp)))
		pl_nvme_poll(qp, 0);
}

int pl_nvme_read_sync(struct pl_nvme_qpair *qp, uint32_t nsid, void *buf, uint64_t lba,
		      uint32_t blocks, uint16_t *status)
{
	struct sync_wait w = { 0 };

	recover_if_stale(qp);
	int ret = pl_nvme_read(qp, nsid, buf, lba, blocks, sync_done, &w);

	return ret ? ret : wait_sync(qp, &w, status);
}

int pl_nvme_write_sync(struct pl_nvme_qpair *qp, uint32_t nsid, const void *buf, uint64_t lba,
		       uint32_t blocks, uint16_t *status)
{
	struct sync_wait w = { 0 };

	recover_if_stale(qp);
	int ret = pl_nvme_write(qp, nsid, buf, lba, blocks, sync_done, &w);

	return ret ? ret : wait_sync(qp, &w, status);
}
