/* An NVMe controller modelled in ordinary memory, for the driver's host-side tests. */
#include "nvme_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAR0_LEN 0x4000
#define CID_WORDS (65536 / 64)

struct sq {
	bool live;
	uint16_t size, head, cqid;
	uint64_t iova;
	uint64_t out[CID_WORDS];	/* CIDs fetched and not yet completed */
};

struct cq {
	bool live, ien;
	uint16_t size, tail, iv;
	uint8_t phase;
	uint64_t iova;
};

struct nvme_model {
	struct model_dev *dev;
	struct nvme_model_conf conf;
	struct nvme_id_ctrl id;
	struct nvme_id_ns id_ns[NVME_MODEL_MAX_NS];
	uint8_t *ns_data[NVME_MODEL_MAX_NS];
	struct nvme_smart_log smart;
	struct nvme_error_log_entry errors[64];
	struct sq sq[NVME_MODEL_MAX_QUEUES];
	struct cq cq[NVME_MODEL_MAX_QUEUES];
	bool enabled, shut, cfs;
	size_t page;			/* CC.MPS */
	uint32_t aec;
	uint16_t aer_cid[NVME_MODEL_MAX_AERS];
	unsigned naer;
	bool dbbuf_on;
	uint64_t dbbuf_shadow, dbbuf_ei;
	nvme_model_admin_hook hook;
	void *hook_arg;
	struct nvme_model_knobs knobs;
	struct nvme_model_stats stats;
};

static uint32_t reg(struct nvme_model *m, size_t off)
{
	return model_reg(m->dev, 0, off);
}

static void set_reg(struct nvme_model *m, size_t off, uint32_t v)
{
	model_set_reg(m->dev, 0, off, v);
}

static uint64_t reg64(struct nvme_model *m, size_t off)
{
	return reg(m, off) | (uint64_t)reg(m, off + 4) << 32;
}

static size_t db_off(struct nvme_model *m, uint16_t qid, bool cq)
{
	return NVME_REG_DBS + (2u * qid + cq) * (4u << m->conf.dstrd);
}

/* A shadow doorbell or event index word of queue @qid (Doorbell Buffer Config). */
static volatile uint32_t *dbbuf_word(struct nvme_model *m, uint64_t base, uint16_t qid, bool cq)
{
	size_t off = (2u * qid + cq) * (4u << m->conf.dstrd);

	return model_dma(base + off, 4);
}

/* What the host has told of queue @qid's doorbell: the shadow one where in use. */
static int doorbell(struct nvme_model *m, uint16_t qid, bool cq)
{
	uint32_t mmio = reg(m, db_off(m, qid, cq));

	if (!cq && qid < NVME_MODEL_MAX_QUEUES)
		m->stats.last_sq_db[qid] = mmio;
	if (qid && m->dbbuf_on) {
		volatile uint32_t *w = dbbuf_word(m, m->dbbuf_shadow, qid, cq);

		return w ? (int)__atomic_load_n(w, __ATOMIC_ACQUIRE) : -1;
	}
	return (int)mmio;
}

static void set_event_idx(struct nvme_model *m, uint16_t qid, bool cq, uint32_t v)
{
	volatile uint32_t *w;

	if (qid && m->dbbuf_on && (w = dbbuf_word(m, m->dbbuf_ei, qid, cq)))
		__atomic_store_n(w, v, __ATOMIC_RELEASE);
}

static void cid_set(struct sq *s, uint16_t cid, bool out)
{
	if (out)
		s->out[cid / 64] |= 1ull << (cid % 64);
	else
		s->out[cid / 64] &= ~(1ull << (cid % 64));
}

static bool cid_out(const struct sq *s, uint16_t cid)
{
	return s->out[cid / 64] >> (cid % 64) & 1;
}

/* ---- data pointers (4.3, 4.4) ---- */

#define ST(sct, sc) ((uint16_t)NVME_SCT_SC(sct, sc))

static uint16_t copy(uint64_t iova, uint8_t *data, size_t len, bool to_host)
{
	void *va = model_dma(iova, len);

	if (!va)
		return ST(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
	if (to_host)
		memcpy(va, data, len);
	else
		memcpy(data, va, len);
	return 0;
}

static uint16_t prp_walk(struct nvme_model *m, const struct nvme_sqe *c, uint8_t *data,
			 size_t len, bool to_host)
{
	size_t pg = m->page, first = pg - (c->prp1 & (pg - 1)), done;
	uint16_t st;

	if (c->prp1 & 3)
		return ST(NVME_SCT_GENERIC, NVME_SC_PRP_INVALID_OFFSET);
	done = len < first ? len : first;
	if ((st = copy(c->prp1, data, done, to_host)) || done == len)
		return st;
	if (len - done <= pg) {
		if (c->prp2 & (pg - 1))
			return ST(NVME_SCT_GENERIC, NVME_SC_PRP_INVALID_OFFSET);
		return copy(c->prp2, data + done, len - done, to_host);
	}
	/* A list: entries to the end of its page; the last of a full page chains on. */
	uint64_t list = c->prp2;
	if (list & 7)
		return ST(NVME_SCT_GENERIC, NVME_SC_PRP_INVALID_OFFSET);
	while (done < len) {
		unsigned left_in_page = (unsigned)((pg - (list & (pg - 1))) / 8);
		for (unsigned i = 0; i < left_in_page && done < len; i++) {
			uint64_t *e = model_dma(list + 8ull * i, 8);

			if (!e)
				return ST(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
			if (i == left_in_page - 1 && len - done > pg) {
				list = *e;	/* the next list page */
				if (list & 7)
					return ST(NVME_SCT_GENERIC, NVME_SC_PRP_INVALID_OFFSET);
				goto next_page;
			}
			if (*e & (pg - 1))
				return ST(NVME_SCT_GENERIC, NVME_SC_PRP_INVALID_OFFSET);
			size_t n = len - done < pg ? len - done : pg;
			if ((st = copy(*e, data + done, n, to_host)))
				return st;
			done += n;
		}
		if (done < len)
			return ST(NVME_SCT_GENERIC, NVME_SC_PRP_INVALID_OFFSET);
next_page:;
	}
	return 0;
}

/* Moves @len bytes between @data and the command's buffer. */
static uint16_t xfer(struct nvme_model *m, const struct nvme_sqe *c, void *data, size_t len,
		     bool to_host)
{
	if (!len)
		return 0;
	if ((c->flags & NVME_PSDT_MASK) == NVME_PSDT_PRP)
		return prp_walk(m, c, data, len, to_host);
	if (!m->conf.sgl)
		return ST(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	if (c->sgl.type != (NVME_SGL_TYPE_DATA_BLOCK | NVME_SGL_SUBTYPE_ADDRESS))
		return ST(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_TYPE);
	if (c->sgl.length != len)
		return ST(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA_LEN);
	return copy(c->sgl.addr, data, len, to_host);
}

/* ---- completions ---- */

unsigned nvme_model_cq_room(struct nvme_model *m, uint16_t qid)
{
	struct cq *q = &m->cq[qid];
	int head;

	if (qid >= NVME_MODEL_MAX_QUEUES || !q->live || (head = doorbell(m, qid, true)) < 0 ||
	    head >= q->size)
		return 0;
	return q->size - 1u - (uint16_t)(q->tail - head + q->size) % q->size;
}

/* The SQ that posts to CQ @qid: the same ID, as Pollen (and most drivers) pair them. */
static int post_on(struct nvme_model *m, uint16_t qid, uint16_t sqid, uint16_t cid,
		   uint16_t status, uint32_t dw0)
{
	struct cq *q = &m->cq[qid];

	if (qid >= NVME_MODEL_MAX_QUEUES || !q->live)
		return -ENOENT;
	if (!nvme_model_cq_room(m, qid))
		return -ENOSPC;
	struct nvme_cqe *e = model_dma(q->iova + (uint64_t)q->tail * sizeof(*e), sizeof(*e));
	if (!e)
		return -EFAULT;
	e->dw0 = dw0;
	e->dw1 = 0;
	e->sqhd = m->sq[sqid].head;
	e->sqid = sqid;
	e->cid = cid;
	/* The phase tag last: the host reads the rest once it sees it. */
	__atomic_store_n(&e->status, (uint16_t)(status << 1 | q->phase), __ATOMIC_RELEASE);
	if (++q->tail == q->size) {
		q->tail = 0;
		q->phase ^= 1;
	}
	cid_set(&m->sq[sqid], cid, false);
	if (q->ien)
		model_irq(m->dev, q->iv);
	return 0;
}

int nvme_model_post(struct nvme_model *m, uint16_t qid, uint16_t cid, uint16_t status,
		    uint32_t dw0)
{
	return post_on(m, qid, qid, cid, status, dw0);
}

/* ---- I/O commands ---- */

static int ns_index(struct nvme_model *m, uint32_t nsid)
{
	return nsid >= 1 && nsid <= m->conf.nns ? (int)nsid - 1 : -1;
}

static uint16_t exec_dsm(struct nvme_model *m, const struct nvme_sqe *c, int ns)
{
	struct nvme_dsm_range r[NVME_DSM_MAX_RANGES];
	unsigned n = (c->cdw10 & 0xff) + 1;
	uint16_t st = xfer(m, c, r, n * sizeof(r[0]), false);

	if (st || !(c->cdw11 & NVME_DSM_AD))
		return st;
	for (unsigned i = 0; i < n; i++) {
		if (r[i].slba >= m->conf.blocks || r[i].nlb > m->conf.blocks - r[i].slba)
			return ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_LBA_RANGE);
		memset(m->ns_data[ns] + (r[i].slba << m->conf.lbads), 0,
		       (size_t)r[i].nlb << m->conf.lbads);
	}
	return 0;
}

uint16_t nvme_model_exec(struct nvme_model *m, const struct nvme_sqe *c)
{
	int ns = ns_index(m, c->nsid);
	uint64_t slba = (uint64_t)c->cdw11 << 32 | c->cdw10;
	uint64_t nlb = (c->cdw12 & 0xffff) + 1ull;
	size_t bytes = (size_t)nlb << m->conf.lbads;

	m->stats.io_cmds++;
	if (c->opcode == NVME_NVM_FLUSH)
		return ns >= 0 || c->nsid == NVME_NSID_ALL ? 0 :
		       ST(NVME_SCT_GENERIC, NVME_SC_INVALID_NS);
	if (ns < 0)
		return ST(NVME_SCT_GENERIC, NVME_SC_INVALID_NS);
	switch (c->opcode) {
	case NVME_NVM_READ:
	case NVME_NVM_WRITE:
	case NVME_NVM_WRITE_ZEROES:
		if (slba >= m->conf.blocks || nlb > m->conf.blocks - slba)
			return ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_LBA_RANGE);
		if (c->opcode == NVME_NVM_WRITE_ZEROES) {
			memset(m->ns_data[ns] + (slba << m->conf.lbads), 0, bytes);
			return 0;
		}
		if (m->id.mdts && m->id.mdts < 32 && bytes > (uint64_t)m->page << m->id.mdts)
			return ST(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
		return xfer(m, c, m->ns_data[ns] + (slba << m->conf.lbads), bytes,
			    c->opcode == NVME_NVM_READ);
	case NVME_NVM_DSM:
		return exec_dsm(m, c, ns);
	default:
		return ST(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE);
	}
}

/* ---- queues ---- */

unsigned nvme_model_fetch(struct nvme_model *m, uint16_t qid, struct nvme_sqe *out,
			  unsigned max)
{
	struct sq *s = &m->sq[qid];
	unsigned n = 0;
	int tail;

	if (qid >= NVME_MODEL_MAX_QUEUES || !s->live || (tail = doorbell(m, qid, false)) < 0)
		return 0;
	if (tail >= s->size) {
		m->stats.bad_doorbells++;
		return 0;
	}
	while (n < max && s->head != tail) {
		struct nvme_sqe *e = model_dma(s->iova + (uint64_t)s->head * sizeof(*e), sizeof(*e));

		if (!e)
			break;
		out[n] = *e;
		if (cid_out(s, out[n].cid))
			m->stats.cid_conflicts++;
		cid_set(s, out[n].cid, true);
		n++;
		s->head = (uint16_t)((s->head + 1) % s->size);
	}
	set_event_idx(m, qid, false, (uint32_t)(s->head + m->knobs.sq_ei_ahead) % s->size);
	return n;
}

static uint16_t create_cq(struct nvme_model *m, const struct nvme_sqe *c)
{
	uint16_t qid = (uint16_t)c->cdw10, size = (uint16_t)((c->cdw10 >> 16) + 1);
	struct cq *q = &m->cq[qid];

	if (!qid || qid > m->conf.queues || qid >= NVME_MODEL_MAX_QUEUES || q->live)
		return ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID);
	if (size < 2 || size > m->conf.mqes)
		return ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_QUEUE_SIZE);
	if ((c->cdw11 & NVME_CQ_IEN) && (c->cdw11 >> 16) >= m->conf.msix)
		return ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_VECTOR);
	*q = (struct cq){ .live = true, .size = size, .iova = c->prp1, .phase = 1,
			  .ien = c->cdw11 & NVME_CQ_IEN, .iv = (uint16_t)(c->cdw11 >> 16) };
	return 0;
}

static uint16_t create_sq(struct nvme_model *m, const struct nvme_sqe *c)
{
	uint16_t qid = (uint16_t)c->cdw10, size = (uint16_t)((c->cdw10 >> 16) + 1);
	uint16_t cqid = (uint16_t)(c->cdw11 >> 16);
	struct sq *s = &m->sq[qid];

	if (!qid || qid > m->conf.queues || qid >= NVME_MODEL_MAX_QUEUES || s->live)
		return ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID);
	if (!cqid || cqid >= NVME_MODEL_MAX_QUEUES || !m->cq[cqid].live)
		return ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_CQ_INVALID);
	if (size < 2 || size > m->conf.mqes)
		return ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_QUEUE_SIZE);
	memset(s, 0, sizeof(*s));
	s->live = true;
	s->size = size;
	s->iova = c->prp1;
	s->cqid = cqid;
	return 0;
}

static uint16_t delete_queue(struct nvme_model *m, const struct nvme_sqe *c, bool cq)
{
	uint16_t qid = (uint16_t)c->cdw10;

	if (!qid || qid >= NVME_MODEL_MAX_QUEUES || (cq ? !m->cq[qid].live : !m->sq[qid].live))
		return ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_QID_INVALID);
	if (cq && m->sq[qid].live && m->sq[qid].cqid == qid)
		return ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QUEUE_DELETION);
	if (cq)
		m->cq[qid].live = false;
	else
		m->sq[qid].live = false;	/* what it held is aborted, uncompleted */
	return 0;
}

/* ---- admin commands ---- */

static uint16_t identify(struct nvme_model *m, const struct nvme_sqe *c)
{
	static uint8_t buf[NVME_IDENTIFY_DATA_SIZE];
	int ns;

	memset(buf, 0, sizeof(buf));
	switch (c->cdw10 & 0xff) {
	case NVME_CNS_CTRL:
		memcpy(buf, &m->id, sizeof(m->id));
		break;
	case NVME_CNS_NS:
		if ((ns = ns_index(m, c->nsid)) < 0)
			return ST(NVME_SCT_GENERIC, NVME_SC_INVALID_NS);
		memcpy(buf, &m->id_ns[ns], sizeof(m->id_ns[ns]));
		break;
	case NVME_CNS_NS_ACTIVE_LIST: {
		uint32_t *list = (uint32_t *)buf, n = 0;

		for (uint32_t id = c->nsid + 1; id <= m->conf.nns; id++)
			list[n++] = id;
		break;
	}
	default:
		return ST(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	}
	return xfer(m, c, buf, sizeof(buf), true);
}

static uint16_t get_log(struct nvme_model *m, const struct nvme_sqe *c)
{
	static uint8_t buf[4096];
	size_t len = (((size_t)(c->cdw11 & 0xffff) << 16 | c->cdw10 >> 16) + 1) * 4;

	if (len > sizeof(buf))
		return ST(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	memset(buf, 0, sizeof(buf));
	switch (c->cdw10 & 0xff) {
	case NVME_LOG_ERROR:
		memcpy(buf, m->errors, sizeof(m->errors));
		break;
	case NVME_LOG_SMART:
		memcpy(buf, &m->smart, sizeof(m->smart));
		break;
	case NVME_LOG_FW_SLOT:
	case NVME_LOG_CHANGED_NS:
		break;
	default:
		return ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_LOG_PAGE);
	}
	return xfer(m, c, buf, len, true);
}

static uint16_t features(struct nvme_model *m, const struct nvme_sqe *c, uint32_t *dw0)
{
	switch (c->cdw10 & 0xff) {
	case NVME_FEAT_NUM_QUEUES:
		*dw0 = (m->conf.queues - 1) | (m->conf.queues - 1) << 16;
		return 0;
	case NVME_FEAT_ASYNC_EVENT_CONFIG:
		if (c->opcode == NVME_ADMIN_SET_FEATURES)
			m->aec = c->cdw11;
		*dw0 = m->aec;
		return 0;
	default:
		*dw0 = 0;
		return 0;
	}
}

static uint16_t dbbuf_config(struct nvme_model *m, const struct nvme_sqe *c)
{
	if (!m->conf.dbbuf)
		return ST(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE);
	if ((c->prp1 | c->prp2) & (m->page - 1))
		return ST(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	m->dbbuf_shadow = c->prp1;
	m->dbbuf_ei = c->prp2;
	m->dbbuf_on = true;
	return 0;
}

/* Abort (5.1): QEMU's never aborts; with the knob, a command fetched by hand is ended. */
static uint16_t do_abort(struct nvme_model *m, const struct nvme_sqe *c, uint32_t *dw0)
{
	uint16_t sqid = (uint16_t)c->cdw10, cid = (uint16_t)(c->cdw10 >> 16);

	m->stats.aborts++;
	*dw0 = 1;
	if (m->knobs.abort_works && sqid && sqid < NVME_MODEL_MAX_QUEUES && m->sq[sqid].live &&
	    cid_out(&m->sq[sqid], cid) &&
	    !post_on(m, m->sq[sqid].cqid, sqid, cid, ST(NVME_SCT_GENERIC, NVME_SC_ABORT_REQ), 0))
		*dw0 = 0;
	return 0;
}

/* One admin command: false when it is held (an AER, or the hook's choice). */
static bool admin(struct nvme_model *m, const struct nvme_sqe *c, struct nvme_cqe *cpl)
{
	uint16_t st = 0;
	uint32_t dw0 = 0;

	m->stats.admin_cmds++;
	switch (c->opcode) {
	case NVME_ADMIN_IDENTIFY:
		st = identify(m, c);
		break;
	case NVME_ADMIN_GET_LOG_PAGE:
		st = get_log(m, c);
		break;
	case NVME_ADMIN_SET_FEATURES:
	case NVME_ADMIN_GET_FEATURES:
		st = features(m, c, &dw0);
		break;
	case NVME_ADMIN_CREATE_CQ:
		st = create_cq(m, c);
		break;
	case NVME_ADMIN_CREATE_SQ:
		st = create_sq(m, c);
		break;
	case NVME_ADMIN_DELETE_CQ:
		st = delete_queue(m, c, true);
		break;
	case NVME_ADMIN_DELETE_SQ:
		st = delete_queue(m, c, false);
		break;
	case NVME_ADMIN_ABORT:
		st = do_abort(m, c, &dw0);
		break;
	case NVME_ADMIN_DBBUF_CONFIG:
		st = dbbuf_config(m, c);
		break;
	case NVME_ADMIN_ASYNC_EVENT_REQ:
		if (m->naer > m->id.aerl || m->naer == NVME_MODEL_MAX_AERS) {
			st = ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_AER_LIMIT);
			break;
		}
		m->aer_cid[m->naer++] = c->cid;
		return false;
	default:
		st = ST(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE);
	}
	*cpl = (struct nvme_cqe){ .dw0 = dw0, .cid = c->cid, .status = st };
	return !m->hook || m->hook(m->hook_arg, c, cpl);
}

int nvme_model_aer(struct nvme_model *m, uint32_t dw0, uint16_t status)
{
	if (!m->naer)
		return -ENOENT;
	int ret = post_on(m, 0, 0, m->aer_cid[0], status, dw0);

	if (!ret) {
		m->naer--;
		memmove(m->aer_cid, m->aer_cid + 1, m->naer * sizeof(m->aer_cid[0]));
	}
	return ret;
}

unsigned nvme_model_aers(struct nvme_model *m, uint16_t *cids)
{
	if (cids)
		memcpy(cids, m->aer_cid, m->naer * sizeof(*cids));
	return m->naer;
}

/* ---- registers and the runner's step ---- */

static void queues_gone(struct nvme_model *m)
{
	memset(m->sq, 0, sizeof(m->sq));
	memset(m->cq, 0, sizeof(m->cq));
	m->naer = 0;
	m->dbbuf_on = false;
}

static void enable(struct nvme_model *m, uint32_t cc)
{
	uint32_t aqa = reg(m, NVME_REG_AQA);

	m->page = 4096ul << ((cc >> 7) & 0xf);
	queues_gone(m);
	m->sq[0] = (struct sq){ .live = true, .size = (uint16_t)((aqa & 0xfff) + 1),
				.iova = reg64(m, NVME_REG_ASQ) };
	m->cq[0] = (struct cq){ .live = true, .size = (uint16_t)(((aqa >> 16) & 0xfff) + 1),
				.iova = reg64(m, NVME_REG_ACQ), .phase = 1, .ien = true };
	m->enabled = true;
	m->stats.enables++;
}

static void disable(struct nvme_model *m)
{
	/* A controller reset forgets the doorbells too: a new queue starts from 0. */
	memset((void *)(m->dev->bar[0] + NVME_REG_DBS), 0, BAR0_LEN - NVME_REG_DBS);
	queues_gone(m);
	m->enabled = false;
	m->cfs = false;
	m->stats.disables++;
}

static bool serve_sq(struct nvme_model *m, uint16_t qid)
{
	struct sq *s = &m->sq[qid];
	bool did = false;
	struct nvme_sqe c;

	/* One at a time, and only while its completion has room. */
	while (s->live && nvme_model_cq_room(m, s->cqid) && nvme_model_fetch(m, qid, &c, 1)) {
		did = true;
		if (!qid) {
			struct nvme_cqe cpl;

			if (admin(m, &c, &cpl))
				post_on(m, 0, 0, cpl.cid, (uint16_t)cpl.status, cpl.dw0);
		} else {
			post_on(m, s->cqid, qid, c.cid, nvme_model_exec(m, &c), 0);
		}
	}
	return did;
}

/*
 * Whether the controller serves its queues now: enabled, not failed, and with bus
 * mastering on (without it a device can neither fetch nor post). Lock held.
 */
static bool serving(struct model_dev *d)
{
	struct nvme_model *m = d->priv;

	return m->enabled && !m->cfs && model_bus_master(d);
}

static bool step(struct model_dev *d)
{
	struct nvme_model *m = d->priv;
	uint32_t cc = reg(m, NVME_REG_CC), csts = reg(m, NVME_REG_CSTS);
	bool did = false;

	if ((cc & NVME_CC_EN) && !m->enabled) {
		enable(m, cc);
		did = true;
	} else if (!(cc & NVME_CC_EN) && m->enabled) {
		disable(m);
		did = true;
	}
	csts = m->enabled ? csts | NVME_CSTS_RDY : csts & ~NVME_CSTS_RDY;
	if ((cc & NVME_CC_SHN_MASK) && !m->shut && !m->knobs.no_shutdown) {
		csts = (csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_COMPLETE;
		m->shut = true;
		m->stats.shutdowns++;
	} else if (!(cc & NVME_CC_SHN_MASK) && m->shut) {
		csts &= ~NVME_CSTS_SHST_MASK;
		m->shut = false;
	}
	csts = m->cfs ? csts | NVME_CSTS_CFS : csts & ~NVME_CSTS_CFS;
	set_reg(m, NVME_REG_CSTS, csts);
	if (!serving(d))
		return did;
	did |= serve_sq(m, 0);
	if (!m->conf.manual_io)
		for (uint16_t q = 1; q < NVME_MODEL_MAX_QUEUES; q++)
			if (m->sq[q].live)
				did |= serve_sq(m, q);
	return did;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static bool reaches(struct model_dev *d, uint64_t iova, uint64_t len)
{
	struct nvme_model *m = d->priv;

	if (!serving(d))
		return false;
	for (unsigned q = 0; q < NVME_MODEL_MAX_QUEUES; q++)
		if ((m->sq[q].live && overlaps(iova, len, m->sq[q].iova,
					       (uint64_t)m->sq[q].size * sizeof(struct nvme_sqe))) ||
		    (m->cq[q].live && overlaps(iova, len, m->cq[q].iova,
					       (uint64_t)m->cq[q].size * sizeof(struct nvme_cqe))))
			return true;
	return false;
}

static void reset(struct model_dev *d)
{
	struct nvme_model *m = d->priv;
	uint64_t cap = (uint64_t)(m->conf.mqes - 1) | 1ull << 16 /* CQR */ |
		       15ull << 24 /* TO: 7.5 s, QEMU's */ | (uint64_t)m->conf.dstrd << 32 |
		       (uint64_t)NVME_CAP_CSS_NVM << 37;

	memset((void *)d->bar[0], 0, BAR0_LEN);
	set_reg(m, NVME_REG_CAP, (uint32_t)cap);
	set_reg(m, NVME_REG_CAP + 4, (uint32_t)(cap >> 32));
	set_reg(m, NVME_REG_VS, NVME_VS(1, 4, 0));
	queues_gone(m);
	m->enabled = m->shut = false;
	m->aec = 0;
}

static void destroy(struct model_dev *d)
{
	struct nvme_model *m = d->priv;

	for (unsigned i = 0; i < NVME_MODEL_MAX_NS; i++)
		free(m->ns_data[i]);
	free(m);
}

static const struct model_dev_ops nvme_ops = { .step = step, .reset = reset, .destroy = destroy,
						.reaches = reaches };

static void pad(char *dst, size_t len, const char *s)
{
	memset(dst, ' ', len);
	memcpy(dst, s, strlen(s) < len ? strlen(s) : len);
}

struct nvme_model *nvme_model_new(const struct nvme_model_conf *conf)
{
	struct nvme_model *m = calloc(1, sizeof(*m));
	struct nvme_model_conf *c;

	if (!m)
		abort();
	c = &m->conf;
	if (conf)
		*c = *conf;
	c->addr = c->addr ? c->addr : "0000:00:02.0";
	c->mqes = c->mqes ? c->mqes : 1024;
	c->mdts = conf && conf->mdts ? conf->mdts : 7;
	c->queues = c->queues ? c->queues : 8;
	c->msix = c->msix ? c->msix : c->queues + 1;
	c->aers = c->aers ? c->aers : 4;
	c->nns = c->nns ? c->nns : 1;
	c->blocks = c->blocks ? c->blocks : 65536;
	c->lbads = c->lbads ? c->lbads : 9;
	if (c->nns > NVME_MODEL_MAX_NS || c->queues >= NVME_MODEL_MAX_QUEUES)
		abort();

	m->page = 4096;
	struct nvme_id_ctrl *id = &m->id;
	id->vid = 0x1b36;
	id->ssvid = 0x1af4;
	pad(id->sn, sizeof(id->sn), "MODEL0001");
	pad(id->mn, sizeof(id->mn), "Pollen host-side NVMe model");
	pad(id->fr, sizeof(id->fr), "1.0");
	id->mdts = (uint8_t)c->mdts;
	id->ver = NVME_VS(1, 4, 0);
	id->oaes = NVME_AEC_NS_ATTR;
	id->oacs = c->dbbuf ? NVME_CTRL_OACS_DBBUF_CONFIG : 0;
	id->aerl = (uint8_t)(c->aers - 1);
	id->elpe = 63;
	id->sqes = 0x66;
	id->cqes = 0x44;
	id->nn = c->nns;
	id->oncs = NVME_CTRL_ONCS_DSM | NVME_CTRL_ONCS_WRITE_ZEROES;
	id->sgls = c->sgl ? NVME_CTRL_SGLS_BYTE_ALIGNED : 0;
	snprintf(id->subnqn, sizeof(id->subnqn), "nqn.2026-12.io.pollen:model");
	for (unsigned i = 0; i < c->nns; i++) {
		struct nvme_id_ns *ns = &m->id_ns[i];

		ns->nsze = ns->ncap = ns->nuse = c->blocks;
		ns->lbaf[0].lbads = (uint8_t)c->lbads;
		if (!(m->ns_data[i] = calloc(1, (size_t)c->blocks << c->lbads)))
			abort();
	}
	m->smart.temperature[0] = 0x3b;	/* 315 K */
	m->smart.temperature[1] = 0x01;
	m->smart.avail_spare = 100;

	m->dev = model_dev_add(&(struct model_dev_conf){
		.addr = c->addr, .vendor = 0x1b36, .device = 0x0010, .class_code = 0x010802,
		.subsys_vendor = 0x1af4, .subsys_device = 0x1100,
		.bar_len = { [0] = BAR0_LEN }, .msix = c->msix, .ops = &nvme_ops, .priv = m,
	});
	return m;
}

struct model_dev *nvme_model_dev(struct nvme_model *m)
{
	return m->dev;
}

struct nvme_id_ctrl *nvme_model_id_ctrl(struct nvme_model *m)
{
	return &m->id;
}

struct nvme_id_ns *nvme_model_id_ns(struct nvme_model *m, unsigned i)
{
	return &m->id_ns[i];
}

struct nvme_smart_log *nvme_model_smart(struct nvme_model *m)
{
	return &m->smart;
}

struct nvme_error_log_entry *nvme_model_error_log(struct nvme_model *m)
{
	return m->errors;
}

uint8_t *nvme_model_ns_data(struct nvme_model *m, unsigned i)
{
	return m->ns_data[i];
}

void nvme_model_set_admin_hook(struct nvme_model *m, nvme_model_admin_hook hook, void *arg)
{
	m->hook = hook;
	m->hook_arg = arg;
}

void nvme_model_fail(struct nvme_model *m, bool cfs)
{
	uint32_t csts = reg(m, NVME_REG_CSTS);

	m->cfs = cfs;
	set_reg(m, NVME_REG_CSTS, cfs ? csts | NVME_CSTS_CFS : csts & ~NVME_CSTS_CFS);
}

struct nvme_model_knobs *nvme_model_knobs(struct nvme_model *m)
{
	return &m->knobs;
}

const struct nvme_model_stats *nvme_model_stats(struct nvme_model *m)
{
	return &m->stats;
}

bool nvme_model_queue_live(struct nvme_model *m, uint16_t qid)
{
	return qid < NVME_MODEL_MAX_QUEUES && m->sq[qid].live && m->cq[qid].live;
}
