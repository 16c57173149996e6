/*
 * The checks on a PDU's header from a host (NVMe/TCP 1.0, 3.6): nothing after them reads
 * a length, an offset or a digest flag a host sent without its having passed here.
 */
#include "nvmf_tcp.h"

#include <string.h>

/* The header length of each PDU type a host may send; 0 for every other type. */
static unsigned h2c_hlen(uint8_t type)
{
	switch (type) {
	case NVMF_TCP_ICREQ:
		return sizeof(struct nvmf_tcp_icreq);
	case NVMF_TCP_H2C_TERM:
		return sizeof(struct nvmf_tcp_term);
	case NVMF_TCP_CAPSULE_CMD:
		return sizeof(struct nvmf_tcp_cmd);
	case NVMF_TCP_H2C_DATA:
		return sizeof(struct nvmf_tcp_data);
	default:
		return 0;
	}
}

static int fault(struct nvmf_tcp_fault *f, uint16_t fes, uint32_t fei)
{
	f->fes = fes;
	f->fei = fei;
	return -1;
}

#define FIELD(type, m) ((uint32_t)offsetof(type, m))

/* PDO, PLEN and the data digest flag of a PDU that may carry data (3.6.2.1). */
static int check_data_layout(const struct nvmf_tcp_hdr *h, unsigned need, bool dd_agreed,
			     const struct nvmf_tcp_params *p, struct nvmf_tcp_fault *f)
{
	bool dd = h->flags & NVMF_TCP_F_DDGST;

	if (h->plen < need)
		return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, plen));
	if (h->plen == need) {		/* no data */
		if (h->pdo)
			return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, pdo));
		if (dd)
			return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, flags));
		return 0;
	}
	if (dd != dd_agreed)
		return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, flags));
	unsigned align = (p->cpda + 1u) * 4;
	if (h->pdo < need || h->pdo % align)
		return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, pdo));
	/* Some data after PDO, and room for its digest. */
	if ((uint64_t)h->pdo + (dd ? NVMF_TCP_DIGEST_LEN : 0) >= h->plen)
		return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, plen));
	return 0;
}

int nvmf_tcp_check_hdr(const void *buf, size_t len, const struct nvmf_tcp_params *p,
		       struct nvmf_tcp_fault *f)
{
	struct nvmf_tcp_hdr h;

	if (len < sizeof(h))
		return sizeof(h);
	memcpy(&h, buf, sizeof(h));

	unsigned hlen = h2c_hlen(h.type);
	if (!hlen)
		return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, type));
	if ((h.type == NVMF_TCP_ICREQ) == p->initialized)
		return fault(f, NVMF_TCP_FES_PDU_SEQUENCE, FIELD(struct nvmf_tcp_hdr, type));
	if (h.hlen != hlen)
		return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, hlen));

	/* Digests are for commands and data only: never on ICReq or a TermReq. */
	bool digests = h.type == NVMF_TCP_CAPSULE_CMD || h.type == NVMF_TCP_H2C_DATA;
	bool hd = digests && p->hdgst;
	if (!!(h.flags & NVMF_TCP_F_HDGST) != hd)
		return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, flags));
	unsigned need = hlen + (hd ? NVMF_TCP_DIGEST_LEN : 0);
	if (len < need)
		return need;
	if (hd) {
		uint32_t got;

		memcpy(&got, (const uint8_t *)buf + hlen, sizeof(got));
		if (got != nvmf_crc32c(buf, hlen))
			return fault(f, NVMF_TCP_FES_HDR_DIGEST, got);
	}

	switch (h.type) {
	case NVMF_TCP_ICREQ: {
		const struct nvmf_tcp_icreq *r = buf;

		if (h.plen != hlen)
			return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, plen));
		if (h.pdo || (h.flags & (NVMF_TCP_F_HDGST | NVMF_TCP_F_DDGST)))
			return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, pdo));
		if (r->pfv != NVMF_TCP_PFV_1_0)
			return fault(f, NVMF_TCP_FES_UNSUPPORTED, FIELD(struct nvmf_tcp_icreq, pfv));
		if (r->hpda > 31)
			return fault(f, NVMF_TCP_FES_UNSUPPORTED, FIELD(struct nvmf_tcp_icreq, hpda));
		return 0;
	}
	case NVMF_TCP_H2C_TERM:
		/* The host is ending the connection: its reasons are read, never trusted. */
		if (h.plen < hlen || h.plen > hlen + NVMF_TCP_TERM_MAX_DATA)
			return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, plen));
		return 0;
	case NVMF_TCP_CAPSULE_CMD: {
		int ret = check_data_layout(&h, need, p->ddgst, p, f);

		if (ret)
			return ret;
		if (nvmf_tcp_data_len(&h) > p->max_incapsule)
			return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_hdr, plen));
		return 0;
	}
	default: {	/* NVMF_TCP_H2C_DATA: must carry what DATAL says, within MAXH2CDATA */
		const struct nvmf_tcp_data *d = buf;
		int ret = check_data_layout(&h, need, p->ddgst, p, f);

		if (ret)
			return ret;
		if (h.plen == need || d->datal != nvmf_tcp_data_len(&h))
			return fault(f, NVMF_TCP_FES_BAD_HDR_FIELD, FIELD(struct nvmf_tcp_data, datal));
		if (d->datal > p->maxh2cdata)
			return fault(f, NVMF_TCP_FES_DATA_LIMIT, p->maxh2cdata);
		return 0;
	}
	}
}

uint32_t nvmf_tcp_data_len(const struct nvmf_tcp_hdr *h)
{
	if (!h->pdo)
		return 0;
	return h->plen - h->pdo - (h->flags & NVMF_TCP_F_DDGST ? NVMF_TCP_DIGEST_LEN : 0);
}
