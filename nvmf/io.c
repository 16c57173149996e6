/*
 * The I/O commands, handed to the namespace's pl_blk queue of the poller that owns the
 * connection: Read, Write, Flush, Write Zeroes, Dataset Management (deallocate). The
 * data stays in the buffer the socket filled or the socket will send from.
 */
#include "nvmf_priv.h"

#include <errno.h>
#include <string.h>

#define SC(sc)		NVMF_STATUS(NVME_SCT_GENERIC, (sc))
#define DNR		NVMF_DNR

static struct pl_blk *ns_of(struct nvmf_conn *c, uint32_t nsid)
{
	return nsid >= 1 && nsid <= c->subsys->nns ? c->subsys->ns[nsid - 1] : NULL;
}

/* This poller's queue for @r's namespace (checked by nvmf_io_len()). */
static struct pl_blk_queue *queue_of(const struct nvmf_req *r)
{
	const struct nvmf_conn *c = r->c;

	return c->p->q[c->subsys - c->p->t->subsys][r->sqe.nsid - 1];
}

/* Bytes a Read or Write moves, checked against the namespace: -1 refused (completed). */
static long rw_len(struct nvmf_req *r, struct pl_blk *b)
{
	uint64_t slba = (uint64_t)r->sqe.cdw11 << 32 | r->sqe.cdw10;
	uint32_t nlb = (r->sqe.cdw12 & 0xffff) + 1u;
	uint64_t len = (uint64_t)nlb * pl_blk_block_size(b);

	if (slba + nlb > pl_blk_blocks(b) || slba + nlb < slba) {
		nvmf_complete(r, SC(NVME_SC_LBA_RANGE) | DNR);
		return -1;
	}
	if (len > NVMF_MAX_XFER || len != r->sqe.sgl.length) {
		nvmf_complete(r, SC(NVME_SC_SGL_INVALID_DATA_LEN) | DNR);
		return -1;
	}
	return (long)len;
}

long nvmf_io_len(struct nvmf_req *r)
{
	const struct nvme_sqe *sqe = &r->sqe;
	struct pl_blk *b = ns_of(r->c, sqe->nsid);

	if (sqe->opcode == NVMF_OPC_FABRICS)
		return 0;
	if (!b) {
		nvmf_complete(r, SC(NVME_SC_INVALID_NS) | DNR);
		return -1;
	}
	switch (sqe->opcode) {
	case NVME_NVM_READ:
	case NVME_NVM_WRITE:
		return rw_len(r, b);
	case NVME_NVM_DSM:
		if (sqe->sgl.length != ((sqe->cdw10 & 0xff) + 1u) * 16) {
			nvmf_complete(r, SC(NVME_SC_SGL_INVALID_DATA_LEN) | DNR);
			return -1;
		}
		return sqe->sgl.length;
	default:
		return 0;
	}
}

static void done(void *arg, const struct pl_blk_cpl *cpl)
{
	struct nvmf_req *r = arg;
	struct nvmf_poller *p = r->c->p;

	if (cpl->err) {
		/* The device's own status where it gave one, else an internal error. */
		nvmf_complete(r, cpl->nvme_status ? cpl->nvme_status : SC(NVME_SC_INTERNAL));
		return;
	}
	switch (r->sqe.opcode) {
	case NVME_NVM_READ:
		p->reads++;
		p->read_bytes += r->len;
		nvmf_send_data(r, r->len);
		return;
	case NVME_NVM_WRITE:
		p->writes++;
		p->written_bytes += r->len;
		break;
	default:
		p->other++;
	}
	nvmf_complete(r, 0);
}

/* Deallocate ranges (DSM AD) as trims, one at a time, then the completion. */
static int dsm_next(struct nvmf_req *r);

static void dsm_done(void *arg, const struct pl_blk_cpl *cpl)
{
	struct nvmf_req *r = arg;

	if (cpl->err && cpl->err != -EOPNOTSUPP) {
		done(r, cpl);
		return;
	}
	r->got++;
	if (dsm_next(r))
		nvmf_complete(r, SC(NVME_SC_INTERNAL));
}

static int dsm_next(struct nvmf_req *r)
{
	struct pl_blk *b = ns_of(r->c, r->sqe.nsid);
	unsigned nr = (r->sqe.cdw10 & 0xff) + 1u;

	if (r->got >= nr || !(r->sqe.cdw11 & (1u << 2))) {	/* AD: deallocate */
		r->c->p->other++;
		nvmf_complete(r, 0);
		return 0;
	}
	const uint8_t *range = r->buf + 16 * r->got;
	uint32_t nlb;
	uint64_t slba;
	memcpy(&nlb, range + 4, 4);
	memcpy(&slba, range + 8, 8);
	if (slba + nlb > pl_blk_blocks(b) || slba + nlb < slba) {
		nvmf_complete(r, SC(NVME_SC_LBA_RANGE) | DNR);
		return 0;
	}
	uint32_t bs = pl_blk_block_size(b);
	struct pl_blk_queue *q = queue_of(r);
	if (!nlb) {
		struct pl_blk_cpl ok = { 0 };
		dsm_done(r, &ok);
		return 0;
	}
	return pl_blk_trim(q, slba * bs, (size_t)nlb * bs, dsm_done, r);
}

/* Hands @r to its namespace's queue: 0, or -EAGAIN when the queue is full (retried). */
int nvmf_io_submit(struct nvmf_req *r)
{
	struct nvmf_conn *c = r->c;
	struct pl_blk *b = ns_of(c, r->sqe.nsid);
	struct pl_blk_queue *q = queue_of(r);
	uint32_t bs = pl_blk_block_size(b);
	uint64_t off = ((uint64_t)r->sqe.cdw11 << 32 | r->sqe.cdw10) * bs;
	size_t blocks = (r->sqe.cdw12 & 0xffff) + 1u;
	int ret;

	switch (r->sqe.opcode) {
	case NVME_NVM_READ:
		ret = pl_blk_read(q, r->buf, off, r->len, done, r);
		break;
	case NVME_NVM_WRITE:
		ret = pl_blk_write(q, r->buf, off, r->len, done, r);
		break;
	case NVME_NVM_FLUSH:
		ret = pl_blk_flush(q, done, r);
		break;
	case NVME_NVM_WRITE_ZEROES:
		if (off / bs + blocks > pl_blk_blocks(b)) {
			nvmf_complete(r, SC(NVME_SC_LBA_RANGE) | DNR);
			return 0;
		}
		/* No zeroes call in pl_blk: a zeroed buffer written, up to MDTS a command. */
		if (blocks * bs > c->buf_size) {
			nvmf_complete(r, SC(NVME_SC_INVALID_FIELD) | DNR);
			return 0;
		}
		memset(r->buf, 0, blocks * bs);
		ret = pl_blk_write(q, r->buf, off, blocks * bs, done, r);
		break;
	case NVME_NVM_DSM:
		r->got = 0;
		ret = dsm_next(r);
		break;
	default:
		nvmf_complete(r, SC(NVME_SC_INVALID_OPCODE) | DNR);
		return 0;
	}
	if (ret == -EAGAIN)
		return ret;
	if (ret)
		nvmf_complete(r, SC(NVME_SC_INTERNAL));
	return 0;
}

void nvmf_io_cmd(struct nvmf_req *r)
{
	struct nvmf_conn *c = r->c;

	if (__atomic_load_n(&c->ctrl->dead, __ATOMIC_RELAXED)) {
		nvmf_complete(r, SC(NVME_SC_ABORT_REQ));
		return;
	}
	if (nvmf_io_submit(r) == -EAGAIN) {
		r->next = c->retry_head;	/* order among refused I/Os does not matter */
		c->retry_head = r;
	}
}
