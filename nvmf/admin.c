/*
 * The Fabrics commands (Connect, Property Get/Set, Disconnect) and the admin commands a
 * Linux host sends a target: Identify, Get Log Page, Set/Get Features, Keep Alive,
 * Asynchronous Event Request; the discovery controller's log page (NVMe-oF 1.1, 5).
 */
#include "nvmf_priv.h"

#include <stdio.h>
#include <string.h>

#include <pollen/log.h>

#define SC(sc)		NVMF_STATUS(NVME_SCT_GENERIC, (sc))
#define SC_CMD(sc)	NVMF_STATUS(NVME_SCT_CMD_SPECIFIC, (sc))
#define INVALID_FIELD	(SC(NVME_SC_INVALID_FIELD) | NVMF_DNR)

/* ---- Connect, and the controller's registers as properties ---- */

static void refuse_connect(struct nvmf_req *r, uint16_t sc, bool in_data, uint16_t offset)
{
	r->cqe.dw0 = (in_data ? NVMF_CONNECT_IATTR_DATA : 0) | offset;
	nvmf_complete(r, SC_CMD(sc) | NVMF_DNR);
}

static bool host_allowed(const struct nvmf_subsys *s, const char *hostnqn)
{
	if (!s->nhosts)
		return true;
	for (unsigned i = 0; i < s->nhosts; i++)
		if (!strncmp(s->hosts[i], hostnqn, NVMF_NQN_LEN))
			return true;
	return false;
}

static void connect(struct nvmf_req *r)
{
	struct nvmf_conn *c = r->c;
	struct pl_nvmf_tgt *t = c->p->t;
	const struct nvmf_connect_cmd *cmd = (const void *)&r->sqe;
	struct nvmf_connect_data *d = (void *)r->buf;

	if (c->ctrl || r->len != sizeof(*d)) {
		refuse_connect(r, NVMF_SC_CONNECT_INVALID_PARAM, false,
			       offsetof(struct nvmf_connect_cmd, sgl));
		return;
	}
	if (cmd->recfmt) {
		nvmf_complete(r, SC_CMD(NVMF_SC_INCOMPATIBLE_FORMAT) | NVMF_DNR);
		return;
	}
	d->subnqn[NVMF_NQN_LEN - 1] = d->hostnqn[NVMF_NQN_LEN - 1] = 0;
	struct nvmf_subsys *s = nvmf_subsys_find(t, d->subnqn);
	if (!s) {
		pl_info("nvmf: a host asked for subsystem '%s', which is not here", d->subnqn);
		refuse_connect(r, NVMF_SC_CONNECT_INVALID_PARAM, true,
			       offsetof(struct nvmf_connect_data, subnqn));
		return;
	}
	if (!host_allowed(s, d->hostnqn)) {
		pl_info("nvmf: host '%s' refused: not allowed on %s", d->hostnqn, s->nqn);
		refuse_connect(r, NVMF_SC_CONNECT_INVALID_HOST, true,
			       offsetof(struct nvmf_connect_data, hostnqn));
		return;
	}
	unsigned limit = cmd->qid ? NVMF_MAX_QSIZE : NVMF_ADMIN_QSIZE;
	if (cmd->sqsize < 1 || cmd->sqsize >= limit) {	/* 0-based; at least 2 entries */
		refuse_connect(r, NVMF_SC_CONNECT_INVALID_PARAM, false,
			       offsetof(struct nvmf_connect_cmd, sqsize));
		return;
	}
	struct nvmf_ctrl *ctrl;
	if (!cmd->qid) {
		ctrl = nvmf_ctrl_new(t, s, d, cmd->kato);
	} else {
		ctrl = nvmf_ctrl_join(t, s, d);
		if (ctrl && cmd->qid > ctrl->io_queues) {
			nvmf_ctrl_leave(t, ctrl);
			refuse_connect(r, NVMF_SC_CONNECT_INVALID_PARAM, false,
				       offsetof(struct nvmf_connect_cmd, qid));
			return;
		}
	}
	if (!ctrl) {
		refuse_connect(r, NVMF_SC_CONNECT_INVALID_PARAM, true,
			       offsetof(struct nvmf_connect_data, cntlid));
		return;
	}
	c->subsys = s;
	c->qid = cmd->qid;
	if (nvmf_conn_size(c, cmd->sqsize + 1u)) {
		nvmf_ctrl_leave(t, ctrl);
		c->subsys = NULL;
		nvmf_complete(r, SC(NVME_SC_INTERNAL));
		return;
	}
	c->ctrl = ctrl;
	c->sqflow_off = cmd->cattr & (1u << 2);
	c->sqhd = c->qsize > 1 ? 1 : 0;
	r->cqe.dw0 = ctrl->cntlid;
	pl_info("nvmf: %s: host %s, controller %u queue %u (%u entries)", s->nqn, d->hostnqn,
		ctrl->cntlid, c->qid, c->qsize);
	nvmf_complete(r, 0);
}

#define CAP_VALUE ((uint64_t)(NVMF_MAX_QSIZE - 1) | 1ull << 16 /* CQR */ | \
		   15ull << 24 /* TO: 7.5 s */ | (uint64_t)NVME_CAP_CSS_NVM << 37)
#define VS_VALUE 0x00010300	/* 1.3: what this controller implements */

static void property(struct nvmf_req *r, bool set)
{
	const struct nvmf_property_cmd *p = (const void *)&r->sqe;
	struct nvmf_ctrl *ctrl = r->c->ctrl;
	bool eight = p->attrib & NVMF_PROP_SIZE_8;
	uint64_t v = 0;

	if (!ctrl || r->c->qid) {
		nvmf_complete(r, SC(NVME_SC_CMD_SEQ_ERROR) | NVMF_DNR);
		return;
	}
	switch (p->offset) {
	case NVME_REG_CAP:
		if (set || !eight)
			goto bad;
		v = CAP_VALUE;
		break;
	case NVME_REG_VS:
		if (set)
			goto bad;
		v = VS_VALUE;
		break;
	case NVME_REG_CC:
		if (set) {
			uint32_t cc = (uint32_t)p->value;

			ctrl->cc = cc;
			if (cc & NVME_CC_EN)
				ctrl->csts |= NVME_CSTS_RDY;
			else
				ctrl->csts &= ~NVME_CSTS_RDY;
			if (cc & NVME_CC_SHN_MASK)
				ctrl->csts = (ctrl->csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_COMPLETE;
			else
				ctrl->csts &= ~NVME_CSTS_SHST_MASK;
		}
		v = ctrl->cc;
		break;
	case NVME_REG_CSTS:
		if (set)
			goto bad;
		v = ctrl->csts;
		break;
	default:
		goto bad;
	}
	if (!set)
		memcpy(&r->cqe.dw0, &v, eight ? 8 : 4);
	nvmf_complete(r, 0);
	return;
bad:
	nvmf_complete(r, INVALID_FIELD);
}

/* Fabrics commands, and whatever comes on a queue before its Connect. */
void nvmf_connect(struct nvmf_req *r)
{
	const struct nvmf_connect_cmd *cmd = (const void *)&r->sqe;

	if (r->sqe.opcode != NVMF_OPC_FABRICS) {
		nvmf_complete(r, SC(NVME_SC_CMD_SEQ_ERROR) | NVMF_DNR);
		return;
	}
	switch (cmd->fctype) {
	case NVMF_FCTYPE_CONNECT:
		connect(r);
		return;
	case NVMF_FCTYPE_PROPERTY_GET:
		property(r, false);
		return;
	case NVMF_FCTYPE_PROPERTY_SET:
		property(r, true);
		return;
	case NVMF_FCTYPE_DISCONNECT:
		r->c->closing = true;
		nvmf_complete(r, 0);
		return;
	default:
		nvmf_complete(r, SC(NVME_SC_INVALID_OPCODE) | NVMF_DNR);
	}
}

/* ---- Identify ---- */

static void pad_copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, l < n ? l : n);
}

static void id_ctrl(struct nvmf_req *r, struct nvme_id_ctrl *id)
{
	struct nvmf_ctrl *ctrl = r->c->ctrl;
	const struct nvmf_subsys *s = ctrl->subsys;

	id->vid = id->ssvid = 0x1b36;	/* as QEMU's: no vendor of our own */
	pad_copy(id->sn, sizeof(id->sn), s->serial);
	pad_copy(id->mn, sizeof(id->mn), s->discovery ? "Pollen discovery" : "Pollen NVMe/TCP target");
	pad_copy(id->fr, sizeof(id->fr), "1.0");
	id->rab = 6;
	id->mdts = NVMF_MDTS;
	id->cntlid = ctrl->cntlid;
	id->ver = VS_VALUE;
	id->cntrltype = s->discovery ? 2 : 1;	/* discovery, or I/O controller */
	id->acl = 3;
	id->aerl = 3;
	id->lpa = 1u << 2;	/* extended data for Get Log Page */
	id->elpe = 0;
	id->kas = 10;		/* 100 ms units: 1 s granularity */
	id->sqes = 0x66;
	id->cqes = 0x44;
	id->maxcmd = NVMF_MAX_QSIZE;
	id->nn = s->discovery ? 0 : NVMF_MAX_NS;
	id->oncs = s->discovery ? 0 : (1u << 2) | (1u << 3);	/* DSM, Write Zeroes */
	id->vwc = s->discovery ? 0 : 1;
	id->sgls = 1u | (1u << 20);	/* SGLs; data blocks at an offset (in capsule) */
	snprintf(id->subnqn, sizeof(id->subnqn), "%s", s->nqn);
	id->ioccsz = (sizeof(struct nvme_sqe) + NVMF_INCAPSULE) / 16;
	id->iorcsz = sizeof(struct nvme_cqe) / 16;
	id->msdbd = 1;
}

/* The namespace's IDs: the same on every start of the target, distinct per NSID. */
static void ns_guid(const struct nvmf_subsys *s, uint32_t nsid, uint8_t out[16])
{
	uint32_t h = nvmf_crc32c(s->nqn, strlen(s->nqn));

	memcpy(out, "PLN\0", 4);
	memcpy(out + 4, &h, 4);
	memcpy(out + 8, &nsid, 4);
	h = nvmf_crc32c(out, 12);
	memcpy(out + 12, &h, 4);
}

static void id_ns(struct nvmf_req *r, uint32_t nsid, struct nvme_id_ns *id)
{
	const struct nvmf_subsys *s = r->c->ctrl->subsys;
	struct pl_blk *b = s->ns[nsid - 1];
	uint32_t bs = pl_blk_block_size(b);

	id->nsze = id->ncap = id->nuse = pl_blk_blocks(b);
	id->nlbaf = 0;
	id->flbas = 0;
	id->lbaf[0].lbads = (uint8_t)__builtin_ctz(bs);
	ns_guid(s, nsid, id->nguid);
}

static void ns_descs(struct nvmf_req *r, uint32_t nsid, uint8_t *out)
{
	/* NIDT 2 (NGUID, 16 bytes) then 4 (command set: NVM). */
	out[0] = 2;
	out[1] = 16;
	ns_guid(r->c->ctrl->subsys, nsid, out + 4);
	out[20] = 4;
	out[21] = 1;
	out[24] = 0;
}

static void identify(struct nvmf_req *r)
{
	const struct nvmf_subsys *s = r->c->ctrl->subsys;
	uint8_t cns = r->sqe.cdw10 & 0xff;
	uint32_t nsid = r->sqe.nsid;
	bool ns_ok = nsid >= 1 && nsid <= s->nns;

	if (r->len < NVME_IDENTIFY_DATA_SIZE) {
		nvmf_complete(r, SC(NVME_SC_SGL_INVALID_DATA_LEN) | NVMF_DNR);
		return;
	}
	memset(r->buf, 0, NVME_IDENTIFY_DATA_SIZE);
	switch (cns) {
	case NVME_CNS_CTRL:
		id_ctrl(r, (void *)r->buf);
		break;
	case NVME_CNS_NS:
		if (!ns_ok && nsid != NVME_NSID_ALL && (nsid < 1 || nsid > NVMF_MAX_NS)) {
			nvmf_complete(r, SC(NVME_SC_INVALID_NS) | NVMF_DNR);
			return;
		}
		if (ns_ok)	/* an inactive NSID in range reads as zeroes */
			id_ns(r, nsid, (void *)r->buf);
		break;
	case NVME_CNS_NS_ACTIVE_LIST: {
		uint32_t *list = (void *)r->buf, n = 0;

		for (uint32_t i = nsid + 1; i <= s->nns && nsid < 0xfffffffe && n < 1024; i++)
			list[n++] = i;
		break;
	}
	case 0x03:	/* Namespace Identification Descriptor list */
		if (!ns_ok) {
			nvmf_complete(r, SC(NVME_SC_INVALID_NS) | NVMF_DNR);
			return;
		}
		ns_descs(r, nsid, r->buf);
		break;
	case 0x05:	/* I/O command set specific namespace, and controller: nothing for NVM */
	case 0x06:
		break;
	default:
		nvmf_complete(r, INVALID_FIELD);
		return;
	}
	nvmf_send_data(r, NVME_IDENTIFY_DATA_SIZE);
}

/* ---- log pages ---- */

/* The discovery log page (NVMe-oF 1.1, 5.3): one entry per subsystem, on our port. */
static uint32_t discovery_log(struct nvmf_req *r, uint8_t *out, uint32_t room)
{
	struct pl_nvmf_tgt *t = r->c->p->t;
	uint64_t n = 0;

	memset(out, 0, room);
	for (unsigned i = 1; i <= t->nsubsys; i++) {
		uint8_t *e = out + 1024 * (n + 1);

		if (1024 * (n + 2) <= room) {
			e[0] = 3;		/* TRTYPE: TCP */
			e[1] = 1;		/* ADRFAM: IPv4 */
			e[2] = 2;		/* SUBTYPE: an NVM subsystem */
			e[3] = 0;		/* TREQ: secure channel not specified */
			memcpy(e + 6, &(uint16_t){ 0xffff }, 2);	/* CNTLID: dynamic */
			memcpy(e + 8, &(uint16_t){ NVMF_MAX_QSIZE }, 2);	/* ASQSZ */
			snprintf((char *)e + 32, 32, "%u", t->conf.port);	/* TRSVCID */
			snprintf((char *)e + 256, 256, "%s", t->subsys[i].nqn);
			snprintf((char *)e + 512, 256, "%s", t->conf.addr ? t->conf.addr : "0.0.0.0");
		}
		n++;
	}
	memcpy(out, &(uint64_t){ 1 }, 8);	/* GENCTR */
	memcpy(out + 8, &n, 8);			/* NUMREC */
	memcpy(out + 16, &(uint16_t){ 0 }, 2);	/* RECFMT */
	return room;
}

static void get_log(struct nvmf_req *r)
{
	uint8_t lid = r->sqe.cdw10 & 0xff;
	uint32_t numd = ((r->sqe.cdw10 >> 16) | (r->sqe.cdw11 & 0xffff) << 16) + 1;
	uint64_t off = (uint64_t)r->sqe.cdw13 << 32 | r->sqe.cdw12;
	uint32_t len = numd * 4;
	static uint8_t page[16384];	/* admin queues are one poller's: one at a time */

	if (len > r->len || len > NVMF_ADMIN_BUF || off > sizeof(page) - len || (off & 3)) {
		nvmf_complete(r, INVALID_FIELD);
		return;
	}
	memset(page, 0, sizeof(page));
	bool disc = r->c->ctrl->subsys->discovery;
	switch (lid) {
	case 0x70:
		if (!disc)
			goto bad;
		discovery_log(r, page, sizeof(page));
		break;
	case NVME_LOG_ERROR:
	case NVME_LOG_FW_SLOT:
	case NVME_LOG_CHANGED_NS:
		break;
	case NVME_LOG_SMART:
		if (disc)
			goto bad;
		page[1] = 0x43;	/* composite temperature: 323 K */
		page[2] = 0x01;
		page[3] = 100;	/* available spare */
		page[4] = 10;	/* its threshold */
		break;
	default:
		goto bad;
	}
	memcpy(r->buf, page + off, len);
	nvmf_send_data(r, len);
	return;
bad:
	nvmf_complete(r, SC_CMD(NVME_SC_INVALID_LOG_PAGE) | NVMF_DNR);
}

/* ---- features ---- */

static void features(struct nvmf_req *r, bool set)
{
	struct nvmf_ctrl *ctrl = r->c->ctrl;
	uint8_t fid = r->sqe.cdw10 & 0xff;
	uint32_t v = r->sqe.cdw11;

	switch (fid) {
	case NVME_FEAT_NUM_QUEUES:
		if (set) {
			unsigned want = (v & 0xffff) + 1u, wantc = (v >> 16) + 1u;

			if ((v & 0xffff) == 0xffff || (v >> 16) == 0xffff) {
				nvmf_complete(r, INVALID_FIELD);
				return;
			}
			if (wantc < want)
				want = wantc;
			ctrl->io_queues = want < NVMF_MAX_IO_QUEUES ? want : NVMF_MAX_IO_QUEUES;
		}
		r->cqe.dw0 = (ctrl->io_queues - 1u) | (ctrl->io_queues - 1u) << 16;
		break;
	case NVME_FEAT_KEEP_ALIVE_TIMER:
		if (set) {
			ctrl->kato_ms = v;
			ctrl->ka_deadline_ns = nvmf_now_ns() + (uint64_t)(v + NVMF_KATO_GRACE_MS) * 1000000;
		}
		r->cqe.dw0 = ctrl->kato_ms;
		break;
	case NVME_FEAT_ASYNC_EVENT_CONFIG:
	case NVME_FEAT_VOLATILE_WC:
		if (!set)
			r->cqe.dw0 = fid == NVME_FEAT_VOLATILE_WC;
		break;
	default:
		nvmf_complete(r, INVALID_FIELD);
		return;
	}
	nvmf_complete(r, 0);
}

void nvmf_admin_cmd(struct nvmf_req *r)
{
	struct nvmf_ctrl *ctrl = r->c->ctrl;

	/* Any command on the admin queue restarts the keep alive timer. */
	if (ctrl->kato_ms)
		ctrl->ka_deadline_ns = nvmf_now_ns() +
				       (uint64_t)(ctrl->kato_ms + NVMF_KATO_GRACE_MS) * 1000000;
	if (!(ctrl->csts & NVME_CSTS_RDY)) {
		nvmf_complete(r, SC(NVME_SC_CMD_SEQ_ERROR) | NVMF_DNR);
		return;
	}
	switch (r->sqe.opcode) {
	case NVME_ADMIN_IDENTIFY:
		identify(r);
		return;
	case NVME_ADMIN_GET_LOG_PAGE:
		get_log(r);
		return;
	case NVME_ADMIN_SET_FEATURES:
		features(r, true);
		return;
	case NVME_ADMIN_GET_FEATURES:
		features(r, false);
		return;
	case NVME_ADMIN_KEEP_ALIVE:
		nvmf_complete(r, 0);
		return;
	case NVME_ADMIN_ASYNC_EVENT_REQ:
		/* Held: no event is ever raised yet. More than AERL + 1 is refused. */
		if (r->c->held >= 4) {
			nvmf_complete(r, SC_CMD(NVME_SC_AER_LIMIT));
			return;
		}
		r->c->held++;
		return;
	case NVME_ADMIN_ABORT:
		r->cqe.dw0 = 1;		/* not aborted */
		nvmf_complete(r, 0);
		return;
	default:
		nvmf_complete(r, SC(NVME_SC_INVALID_OPCODE) | NVMF_DNR);
	}
}
