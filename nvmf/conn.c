/*
 * One NVMe/TCP connection (a queue of one controller): PDUs read from its non-blocking
 * socket as they come, checked (pdu.c), data received straight into the command's
 * buffer, and each command handed to admin.c or io.c; reply.c sends the answers.
 */
#include "nvmf_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pollen/log.h>

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
	nvmf_req_free(&c->reqs[0]);	/* one slot until Connect says how many */
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
		nvmf_send_r2t(r);
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

/* A socket's bytes: from recv(), or from what the poller's ring received for it. */
static ssize_t pull(struct nvmf_conn *c, void *dst, size_t want)
{
	if (!c->ring)
		return recv(c->fd, dst, want, MSG_DONTWAIT);
	if (!c->in_len) {
		errno = EAGAIN;
		return -1;
	}
	size_t n = want < c->in_len ? want : c->in_len;
	memcpy(dst, c->in, n);
	c->in += n;
	c->in_len -= n;
	return (ssize_t)n;
}

int nvmf_conn_feed(struct nvmf_conn *c, const void *buf, size_t len)
{
	c->in = buf;
	c->in_len = len;
	int ret = 1;

	/* Until it is all read; a connection that ends (a fatal error) drops the rest. */
	while (c->in_len && ret > 0 && !(c->closing && c->rx != NVMF_RX_TERM))
		ret = nvmf_conn_rx(c);
	c->in = NULL;
	c->in_len = 0;
	return ret < 0 ? -1 : 0;
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
		ssize_t n = want ? pull(c, dst, want) : 0;
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

bool nvmf_conn_retry(struct nvmf_conn *c)
{
	bool moved = false;

	for (struct nvmf_req **rp = &c->retry_head; *rp;) {
		struct nvmf_req *q = *rp;

		*rp = q->next;
		if (nvmf_io_submit(q) == -EAGAIN) {
			q->next = *rp;
			*rp = q;
			break;
		}
		moved = true;
	}
	return moved;
}
