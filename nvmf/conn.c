/*
 * One NVMe/TCP connection (a queue of one controller): PDUs read from its non-blocking
 * socket as they come, checked (pdu.c), data received straight into the command's
 * buffer; answers gathered from every command ready and written with one sendmsg.
 */
#include "nvmf_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pollen/log.h>

/* ---- request slots ---- */

static uint8_t *slot_buf(struct nvmf_conn *c, struct nvmf_req *r)
{
	return c->bufs ? c->bufs + (size_t)(r - c->reqs) * c->buf_size : c->first_buf;
}

static void req_free(struct nvmf_req *r)
{
	struct nvmf_conn *c = r->c;

	r->state = NVMF_REQ_FREE;
	r->buf = slot_buf(c, r);
	r->next = c->free;
	c->free = r;
}

int nvmf_conn_size(struct nvmf_conn *c, unsigned qsize)
{
	struct pl_blk *blk = c->qid && c->subsys->nns ? c->subsys->ns[0] : NULL;
	size_t each = blk ? NVMF_MAX_XFER : NVMF_ADMIN_BUF;
	uint8_t *bufs = blk ? pl_blk_buf_alloc(blk, qsize * each) : calloc(qsize, each);

	if (!bufs)
		return -ENOMEM;
	c->bufs = bufs;
	c->buf_size = (uint32_t)each;
	c->buf_blk = blk;
	c->qsize = qsize;
	/* Slot 0 holds the Connect, on first_buf: it takes its own buffer when it frees. */
	for (unsigned i = qsize; i-- > 1;) {
		c->reqs[i].buf = slot_buf(c, &c->reqs[i]);
		c->reqs[i].next = c->free;
		c->free = &c->reqs[i];
	}
	return 0;
}

struct nvmf_conn *nvmf_conn_new(int fd, struct nvmf_poller *p)
{
	struct nvmf_conn *c = calloc(1, sizeof(*c));

	if (!c || !(c->reqs = calloc(NVMF_MAX_QSIZE, sizeof(*c->reqs))) ||
	    !(c->first_buf = malloc(NVMF_ADMIN_BUF))) {
		if (c)
			free(c->reqs);
		free(c);
		return NULL;
	}
	c->fd = fd;
	c->p = p;
	c->hdr_need = sizeof(struct nvmf_tcp_hdr);
	for (unsigned i = 0; i < NVMF_MAX_QSIZE; i++)
		c->reqs[i].c = c;
	req_free(&c->reqs[0]);	/* one slot until Connect says how many */
	return c;
}

void nvmf_conn_free(struct nvmf_conn *c)
{
	close(c->fd);
	if (c->buf_blk)
		pl_blk_buf_free(c->buf_blk, c->bufs);
	else
		free(c->bufs);
	free(c->first_buf);
	free(c->reqs);
	free(c);
}

/* ---- sending ---- */

static void send_req(struct nvmf_req *r)
{
	struct nvmf_conn *c = r->c;

	r->state = NVMF_REQ_SEND;
	r->out.done = 0;
	r->next = NULL;
	if (c->send_tail)
		c->send_tail->next = r;
	else
		c->send_head = r;
	c->send_tail = r;
}

static uint32_t hdgst_put(struct nvmf_conn *c, uint8_t *pdu, uint32_t hlen)
{
	if (!c->params.hdgst)
		return hlen;
	uint32_t d = nvmf_crc32c(pdu, hlen);
	memcpy(pdu + hlen, &d, sizeof(d));
	return hlen + NVMF_TCP_DIGEST_LEN;
}

/* The CapsuleResp for @r's CQE, after what is already in r->out. */
static void put_resp(struct nvmf_req *r, uint16_t status)
{
	struct nvmf_conn *c = r->c;
	struct nvmf_tcp_resp resp = {
		.hdr = { .type = NVMF_TCP_CAPSULE_RESP, .hlen = sizeof(resp),
			 .flags = c->params.hdgst ? NVMF_TCP_F_HDGST : 0 },
		.cqe = r->cqe,
	};

	resp.cqe.cid = r->sqe.cid;
	resp.cqe.sqid = c->qid;
	resp.cqe.sqhd = c->sqflow_off ? 0xffff : c->sqhd;
	resp.cqe.status = (uint16_t)(status << 1);
	resp.hdr.plen = sizeof(resp) + (c->params.hdgst ? NVMF_TCP_DIGEST_LEN : 0);
	memcpy(r->out.resp, &resp, sizeof(resp));
	r->out.resp_len = hdgst_put(c, r->out.resp, sizeof(resp));
}

void nvmf_complete(struct nvmf_req *r, uint16_t status)
{
	memset(&r->out, 0, offsetof(struct nvmf_out, resp));
	put_resp(r, status);
	r->last = true;
	if (status)
		r->c->p->errors++;
	send_req(r);
}

/* C2HData with @len bytes of r->buf, and the response (or SUCCESS in its place). */
void nvmf_send_data(struct nvmf_req *r, uint32_t len)
{
	struct nvmf_conn *c = r->c;
	bool hd = c->params.hdgst, dd = c->params.ddgst;
	uint32_t align = (c->hpda + 1u) * 4, hl = sizeof(struct nvmf_tcp_data);
	uint32_t pdo = (hl + (hd ? NVMF_TCP_DIGEST_LEN : 0) + align - 1) / align * align;
	struct nvmf_tcp_data d = {
		.hdr = { .type = NVMF_TCP_C2H_DATA, .hlen = (uint8_t)hl, .pdo = (uint8_t)pdo,
			 .plen = pdo + len + (dd ? NVMF_TCP_DIGEST_LEN : 0),
			 .flags = NVMF_TCP_F_LAST_PDU | (hd ? NVMF_TCP_F_HDGST : 0) |
				  (dd ? NVMF_TCP_F_DDGST : 0) |
				  (c->sqflow_off ? NVMF_TCP_F_SUCCESS : 0) },
		.cccid = r->sqe.cid, .datal = len,
	};

	memset(&r->out, 0, sizeof(r->out));
	memcpy(r->out.hdr, &d, sizeof(d));
	hdgst_put(c, r->out.hdr, hl);
	r->out.hdr_len = pdo;
	r->out.data_len = len;
	if (dd) {
		r->out.ddgst = nvmf_crc32c(r->buf, len);
		r->out.ddgst_len = NVMF_TCP_DIGEST_LEN;
	}
	if (!c->sqflow_off)
		put_resp(r, 0);
	r->last = true;
	send_req(r);
}

/* R2T for the whole of a write's data: the host answers with H2CData PDUs. */
static void send_r2t(struct nvmf_req *r)
{
	struct nvmf_conn *c = r->c;
	struct nvmf_tcp_r2t t = {
		.hdr = { .type = NVMF_TCP_R2T, .hlen = sizeof(t),
			 .flags = c->params.hdgst ? NVMF_TCP_F_HDGST : 0 },
		.cccid = r->sqe.cid, .ttag = (uint16_t)(r - c->reqs), .r2to = 0, .r2tl = r->len,
	};

	t.hdr.plen = sizeof(t) + (c->params.hdgst ? NVMF_TCP_DIGEST_LEN : 0);
	memset(&r->out, 0, sizeof(r->out));
	memcpy(r->out.hdr, &t, sizeof(t));
	r->out.hdr_len = hdgst_put(c, r->out.hdr, sizeof(t));
	r->last = false;
	send_req(r);
}

/* A C2HTermReq saying @f, with the offending header; the connection closes after it. */
static void terminate(struct nvmf_conn *c, const struct nvmf_tcp_fault *f)
{
	uint32_t n = c->hdr_got < NVMF_TCP_TERM_MAX_DATA ? c->hdr_got : NVMF_TCP_TERM_MAX_DATA;
	struct nvmf_tcp_term t = {
		.hdr = { .type = NVMF_TCP_C2H_TERM, .hlen = sizeof(t), .plen = sizeof(t) + n },
		.fes = f->fes,
	};

	memcpy(t.fei, &f->fei, sizeof(t.fei));
	memcpy(c->raw, &t, sizeof(t));
	memcpy(c->raw + sizeof(t), c->hdr, n);
	c->raw_len = sizeof(t) + n;
	c->raw_done = 0;
	c->closing = true;
	c->p->refused++;
	pl_warn("nvmf: %s queue %u: ending the connection, fatal error status %u (field or "
		"value %u)", c->subsys ? c->subsys->nqn : "(no subsystem yet)", c->qid, f->fes,
		f->fei);
}

/*
 * Writes what is ready: the raw PDU first, then each request's parts in order, as many
 * as one sendmsg takes. 1 when something went, 0 when nothing could, -1 when the
 * connection is gone.
 */
int nvmf_conn_tx(struct nvmf_conn *c)
{
	struct iovec iov[64];
	int n = 0;

	if (c->raw_done < c->raw_len)
		iov[n++] = (struct iovec){ c->raw + c->raw_done, c->raw_len - c->raw_done };
	for (struct nvmf_req *r = c->raw_done < c->raw_len && c->closing ? NULL : c->send_head;
	     r && n <= 60; r = r->next) {
		struct { void *p; uint32_t len; } part[4] = {
			{ r->out.hdr, r->out.hdr_len }, { r->buf, r->out.data_len },
			{ &r->out.ddgst, r->out.ddgst_len }, { r->out.resp, r->out.resp_len },
		};
		uint64_t skip = r->out.done;

		for (int i = 0; i < 4; i++) {
			if (skip >= part[i].len) {
				skip -= part[i].len;
				continue;
			}
			iov[n++] = (struct iovec){ (uint8_t *)part[i].p + skip, part[i].len - skip };
			skip = 0;
		}
	}
	if (!n)
		return 0;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
	ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;

	uint64_t left = (uint64_t)w;
	if (c->raw_done < c->raw_len) {
		uint32_t take = left < c->raw_len - c->raw_done ? (uint32_t)left : c->raw_len - c->raw_done;
		c->raw_done += take;
		left -= take;
	}
	while (left && c->send_head) {
		struct nvmf_req *r = c->send_head;
		uint64_t total = (uint64_t)r->out.hdr_len + r->out.data_len + r->out.ddgst_len +
				 r->out.resp_len, take = total - r->out.done;

		if (left < take) {
			r->out.done += left;
			break;
		}
		left -= take;
		c->send_head = r->next;
		if (!c->send_head)
			c->send_tail = NULL;
		if (r->last)
			req_free(r);
		else
			r->state = NVMF_REQ_DATA_IN;	/* an R2T: its data comes next */
	}
	return 1;
}

void nvmf_conn_drop_sends(struct nvmf_conn *c)
{
	while (c->send_head) {
		struct nvmf_req *r = c->send_head;

		c->send_head = r->next;
		req_free(r);
	}
	c->send_tail = NULL;
	c->raw_done = c->raw_len;
}

/* ---- receiving ---- */

/* The busy request a host's H2CData names, or NULL. */
static struct nvmf_req *find_data_req(struct nvmf_conn *c, const struct nvmf_tcp_data *d)
{
	if (d->ttag >= c->qsize)
		return NULL;
	struct nvmf_req *r = &c->reqs[d->ttag];
	return r->state == NVMF_REQ_DATA_IN && r->sqe.cid == d->cccid ? r : NULL;
}

static void exec(struct nvmf_req *r)
{
	struct nvmf_conn *c = r->c;

	r->state = NVMF_REQ_EXEC;
	if (r->sqe.opcode == NVMF_OPC_FABRICS || !c->ctrl)
		nvmf_connect(r);	/* Connect, Property Get/Set, Disconnect */
	else if (!c->qid)
		nvmf_admin_cmd(r);
	else
		nvmf_io_cmd(r);
}

/*
 * A command whose data length the host fixed: in the capsule (@incapsule bytes came),
 * by R2T for a write, by C2HData for a read, or none.
 */
static void cmd_ready(struct nvmf_req *r, uint32_t incapsule)
{
	struct nvmf_conn *c = r->c;
	const struct nvme_sgl_desc *sgl = &r->sqe.sgl;
	long want = c->qid ? nvmf_io_len(r) : 0;

	memset(&r->cqe, 0, sizeof(r->cqe));
	r->got = incapsule;
	if (want < 0)
		return;		/* io.c completed it with the reason */
	if (incapsule) {
		/* Data in the capsule: an offset-0 Data Block SGL of exactly that length. */
		if (sgl->type != NVMF_SGL_INCAPSULE || sgl->addr || sgl->length != incapsule) {
			nvmf_complete(r, NVMF_STATUS(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA_LEN) |
					 NVMF_DNR);
			return;
		}
		r->len = incapsule;
		exec(r);
		return;
	}
	if (sgl->type != NVMF_SGL_TRANSPORT && sgl->length) {
		nvmf_complete(r, NVMF_STATUS(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_TYPE) | NVMF_DNR);
		return;
	}
	r->len = sgl->length;
	if (r->len > (c->bufs ? c->buf_size : NVMF_ADMIN_BUF)) {
		nvmf_complete(r, NVMF_STATUS(NVME_SCT_GENERIC, NVME_SC_SGL_INVALID_DATA_LEN) |
				 NVMF_DNR);
		return;
	}
	/* A host-to-controller transfer not in the capsule: ask for it. */
	if (c->qid && r->len && (r->sqe.opcode & 1)) {
		send_r2t(r);
		return;
	}
	exec(r);
}

static void start_data(struct nvmf_conn *c, struct nvmf_req *r, uint32_t off, uint32_t len,
		       uint32_t pad)
{
	c->rx_req = r;
	c->rx_off = off;
	c->rx_left = len;
	c->rx_crc = ~0u;
	c->ddgst_got = 0;
	c->skip = pad;
	c->rx = pad ? NVMF_RX_PAD : NVMF_RX_DATA;
}

/* The data of the current PDU is in: check its digest, then act on it. */
static void data_done(struct nvmf_conn *c)
{
	struct nvmf_req *r = c->rx_req;
	const struct nvmf_tcp_hdr *h = (const void *)c->hdr;
	bool cmd = h->type == NVMF_TCP_CAPSULE_CMD;
	uint32_t dl = nvmf_tcp_data_len(h);

	c->rx = NVMF_RX_HDR;
	c->hdr_got = 0;
	c->hdr_need = sizeof(struct nvmf_tcp_hdr);
	if (c->params.ddgst) {
		uint32_t got;

		memcpy(&got, c->ddgst, sizeof(got));
		if (got != ~c->rx_crc) {
			/* The data is damaged, not the stream: the command fails, the rest goes on. */
			pl_warn("nvmf: queue %u: a data digest failed (command %u)", c->qid,
				r->sqe.cid);
			if (cmd || r->state == NVMF_REQ_DATA_IN)
				nvmf_complete(r, NVMF_STATUS(NVME_SCT_GENERIC,
							     NVME_SC_TRANSIENT_TRANSPORT));
			return;
		}
	}
	if (cmd) {
		cmd_ready(r, dl);
		return;
	}
	r->got += dl;
	if (r->got == r->len)
		exec(r);
}

static void on_icreq(struct nvmf_conn *c)
{
	const struct nvmf_tcp_icreq *q = (const void *)c->hdr;
	struct nvmf_tcp_icresp a = {
		.hdr = { .type = NVMF_TCP_ICRESP, .hlen = sizeof(a), .plen = sizeof(a) },
		.pfv = NVMF_TCP_PFV_1_0, .cpda = 0, .digest = q->digest & 3,
		.maxh2cdata = NVMF_MAX_XFER,
	};

	c->params.initialized = true;
	c->params.hdgst = q->digest & NVMF_TCP_DIGEST_HDR;
	c->params.ddgst = q->digest & NVMF_TCP_DIGEST_DATA;
	c->params.maxh2cdata = NVMF_MAX_XFER;
	c->params.max_incapsule = NVMF_INCAPSULE;
	c->hpda = q->hpda;
	c->p->hdgst_conns += c->params.hdgst;
	c->p->ddgst_conns += c->params.ddgst;
	memcpy(c->raw, &a, sizeof(a));
	c->raw_len = sizeof(a);
	c->raw_done = 0;
}

/* A whole, checked header: what it starts. */
static void on_header(struct nvmf_conn *c)
{
	const struct nvmf_tcp_hdr *h = (const void *)c->hdr;
	uint32_t need = h->hlen + (h->flags & NVMF_TCP_F_HDGST ? NVMF_TCP_DIGEST_LEN : 0);
	uint32_t dl = nvmf_tcp_data_len(h), pad = h->pdo ? h->pdo - need : 0;
	struct nvmf_tcp_fault f;

	switch (h->type) {
	case NVMF_TCP_ICREQ:
		on_icreq(c);
		return;
	case NVMF_TCP_H2C_TERM:
		pl_info("nvmf: queue %u: the host ended the connection (status %u)", c->qid,
			((const struct nvmf_tcp_term *)h)->fes);
		c->closing = true;
		c->skip = h->plen - h->hlen;
		c->rx = NVMF_RX_TERM;
		return;
	case NVMF_TCP_CAPSULE_CMD: {
		struct nvmf_req *r = c->free;

		if (!r || c->closing) {
			/* More commands than the queue has entries: the host broke the protocol. */
			f = (struct nvmf_tcp_fault){ NVMF_TCP_FES_PDU_SEQUENCE, 0 };
			terminate(c, &f);
			return;
		}
		c->free = r->next;
		memcpy(&r->sqe, c->hdr + sizeof(struct nvmf_tcp_hdr), sizeof(r->sqe));
		r->state = NVMF_REQ_DATA_IN;
		if (c->qsize)
			c->sqhd = (uint16_t)((c->sqhd + 1) % c->qsize);
		if (dl) {
			start_data(c, r, 0, dl, pad);
			return;
		}
		cmd_ready(r, 0);
		return;
	}
	default: {	/* H2CData, for a write we sent an R2T for */
		const struct nvmf_tcp_data *d = (const void *)h;
		struct nvmf_req *r = find_data_req(c, d);

		if (!r) {
			f = (struct nvmf_tcp_fault){ NVMF_TCP_FES_BAD_HDR_FIELD,
						     offsetof(struct nvmf_tcp_data, ttag) };
			terminate(c, &f);
			return;
		}
		if (d->datao != r->got || (uint64_t)d->datao + d->datal > r->len) {
			f = (struct nvmf_tcp_fault){ NVMF_TCP_FES_DATA_RANGE,
						     offsetof(struct nvmf_tcp_data, datao) };
			terminate(c, &f);
			return;
		}
		start_data(c, r, d->datao, dl, pad);
		return;
	}
	}
}

/*
 * Reads what the socket has, a PDU's pieces at a time. 1 when something came, 0 when
 * nothing did, -1 when the connection is over (closed, or a fatal error sent).
 */
int nvmf_conn_rx(struct nvmf_conn *c)
{
	int progress = 0;

	for (int rounds = 0; rounds < 64 && !(c->closing && c->rx != NVMF_RX_TERM); rounds++) {
		void *dst;
		size_t want;
		uint8_t sink[512];

		switch (c->rx) {
		case NVMF_RX_HDR:
			dst = c->hdr + c->hdr_got;
			want = c->hdr_need - c->hdr_got;
			break;
		case NVMF_RX_PAD:
		case NVMF_RX_TERM:
			dst = sink;
			want = c->skip < sizeof(sink) ? c->skip : sizeof(sink);
			break;
		case NVMF_RX_DATA:
			dst = c->rx_req->buf + c->rx_off;
			want = c->rx_left;
			break;
		default:
			dst = c->ddgst + c->ddgst_got;
			want = NVMF_TCP_DIGEST_LEN - c->ddgst_got;
			break;
		}
		ssize_t n = want ? recv(c->fd, dst, want, MSG_DONTWAIT) : 0;
		if (n == 0 && want)
			return -1;		/* the host closed */
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? progress : -1;
		progress = 1;

		switch (c->rx) {
		case NVMF_RX_HDR: {
			struct nvmf_tcp_fault f;

			c->hdr_got += (uint32_t)n;
			if (c->hdr_got < c->hdr_need)
				continue;
			int need = nvmf_tcp_check_hdr(c->hdr, c->hdr_got, &c->params, &f);
			if (need > 0) {
				c->hdr_need = (uint32_t)need;
				continue;
			}
			if (need < 0) {
				terminate(c, &f);
				return progress;
			}
			on_header(c);
			/* c->hdr stays until the PDU's data is in: data_done() reads it. */
			if (c->rx == NVMF_RX_HDR) {
				c->hdr_got = 0;
				c->hdr_need = sizeof(struct nvmf_tcp_hdr);
			}
			break;
		}
		case NVMF_RX_PAD:
			if ((c->skip -= (uint32_t)n))
				continue;
			c->rx = NVMF_RX_DATA;
			break;
		case NVMF_RX_TERM:
			if ((c->skip -= (uint32_t)n))
				continue;
			return -1;
		case NVMF_RX_DATA:
			if (c->params.ddgst)
				c->rx_crc = nvmf_crc32c_update(c->rx_crc, dst, (size_t)n);
			c->rx_off += (uint32_t)n;
			c->rx_left -= (uint32_t)n;
			if (c->rx_left)
				continue;
			if (c->params.ddgst) {
				c->rx = NVMF_RX_DDGST;
				continue;
			}
			data_done(c);
			break;
		default:
			c->ddgst_got += (uint32_t)n;
			if (c->ddgst_got == NVMF_TCP_DIGEST_LEN)
				data_done(c);
			break;
		}
	}
	return progress;
}
