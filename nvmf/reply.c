/*
 * What goes back to a host: a command's response, its read data, an R2T for its write
 * data; gathered from every command ready and written with one sendmsg. And the request
 * slots those answers free.
 */
#include "nvmf_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- request slots ---- */

static uint8_t *slot_buf(struct nvmf_conn *c, struct nvmf_req *r)
{
	return c->bufs ? c->bufs + (size_t)(r - c->reqs) * c->buf_size : c->first_buf;
}

void nvmf_req_free(struct nvmf_req *r)
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
void nvmf_send_r2t(struct nvmf_req *r)
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
			nvmf_req_free(r);
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
		nvmf_req_free(r);
	}
	c->send_tail = NULL;
	c->raw_done = c->raw_len;
}
