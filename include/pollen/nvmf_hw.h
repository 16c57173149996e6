/* NVMe over Fabrics on the wire: the TCP transport's PDUs and the Fabrics commands. */
#ifndef POLLEN_NVMF_HW_H
#define POLLEN_NVMF_HW_H

/*
 * Layouts only, as nvme_hw.h: no functions, no state, little-endian fields used without
 * byte swaps, no struct packed, each one's size asserted. Section numbers are those of
 * the NVMe/TCP Transport Specification 1.0 (TP 8000, first in NVMe-oF 1.1) and of the
 * NVMe over Fabrics Specification 1.1 for the Fabrics commands.
 */
#include <stddef.h>
#include <stdint.h>

#include <pollen/compiler.h>
#include <pollen/nvme_hw.h>

PL_BEGIN_DECLS

#define NVMF_TCP_PORT		4420	/* the IANA port for NVMe/TCP I/O controllers */
#define NVMF_TCP_DISC_PORT	8009	/* and for discovery controllers */
#define NVMF_TCP_DIGEST_LEN	4	/* a CRC32C header or data digest */
#define NVMF_TCP_MIN_MAXH2CDATA	4096	/* the least MAXH2CDATA a controller may give (3.6.2.3) */
#define NVMF_TCP_PFV_1_0	0	/* PDU format version */
#define NVMF_NQN_LEN		256	/* an NQN field, NUL-padded */

/* ---- PDU types (3.6.1) ---- */
enum nvmf_tcp_pdu_type {
	NVMF_TCP_ICREQ		= 0x00,	/* host: Initialize Connection Request */
	NVMF_TCP_ICRESP		= 0x01,	/* controller: Initialize Connection Response */
	NVMF_TCP_H2C_TERM	= 0x02,	/* host: terminate the connection */
	NVMF_TCP_C2H_TERM	= 0x03,	/* controller: terminate the connection */
	NVMF_TCP_CAPSULE_CMD	= 0x04,	/* host: a command (an SQE), maybe data in capsule */
	NVMF_TCP_CAPSULE_RESP	= 0x05,	/* controller: a completion (a CQE) */
	NVMF_TCP_H2C_DATA	= 0x06,	/* host: write data the controller asked for (R2T) */
	NVMF_TCP_C2H_DATA	= 0x07,	/* controller: read data */
	NVMF_TCP_R2T		= 0x09,	/* controller: Ready to Transfer a write's data */
};

/* The common header every PDU starts with (3.6.2.1). */
struct nvmf_tcp_hdr {
	uint8_t type;
	uint8_t flags;
	uint8_t hlen;		/* header length, digest excluded */
	uint8_t pdo;		/* PDU data offset: where data starts, 0 when there is none */
	uint32_t plen;		/* the whole PDU: header, digests, padding, data */
};
PL_STATIC_ASSERT(sizeof(struct nvmf_tcp_hdr) == 8, "common header");

/* nvmf_tcp_hdr.flags */
#define NVMF_TCP_F_HDGST	(1u << 0)	/* a header digest follows the header */
#define NVMF_TCP_F_DDGST	(1u << 1)	/* a data digest follows the data */
#define NVMF_TCP_F_LAST_PDU	(1u << 2)	/* H2CData, C2HData: the transfer's last */
#define NVMF_TCP_F_SUCCESS	(1u << 3)	/* C2HData: the command succeeded, no CapsuleResp */

/* ICReq (3.6.2.2) and ICResp (3.6.2.3): 128 bytes each. */
struct nvmf_tcp_icreq {
	struct nvmf_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t hpda;		/* host PDU data alignment: (hpda + 1) * 4 bytes, 0-31 */
	uint8_t digest;		/* NVMF_TCP_DIGEST_*: which digests the host wants */
	uint32_t maxr2t;	/* outstanding R2Ts per command the host takes, 0-based */
	uint8_t rsvd16[112];
};
PL_STATIC_ASSERT(sizeof(struct nvmf_tcp_icreq) == 128, "ICReq");

struct nvmf_tcp_icresp {
	struct nvmf_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t cpda;		/* controller PDU data alignment, as hpda */
	uint8_t digest;		/* the digests enabled */
	uint32_t maxh2cdata;	/* data bytes per H2CData PDU the controller takes */
	uint8_t rsvd16[112];
};
PL_STATIC_ASSERT(sizeof(struct nvmf_tcp_icresp) == 128, "ICResp");

#define NVMF_TCP_DIGEST_HDR	(1u << 0)
#define NVMF_TCP_DIGEST_DATA	(1u << 1)

/* H2CTermReq and C2HTermReq (3.6.2.4, 3.6.2.5); the offending header follows as data. */
struct nvmf_tcp_term {
	struct nvmf_tcp_hdr hdr;
	uint16_t fes;		/* fatal error status */
	uint8_t fei[4];		/* its information: a field's offset, or a limit */
	uint8_t rsvd14[10];
};
PL_STATIC_ASSERT(sizeof(struct nvmf_tcp_term) == 24, "TermReq");
#define NVMF_TCP_TERM_MAX_DATA	128	/* the most of the bad PDU's header sent back */

enum nvmf_tcp_fes {
	NVMF_TCP_FES_BAD_HDR_FIELD	= 0x01,	/* FEI: the byte offset of the field */
	NVMF_TCP_FES_PDU_SEQUENCE	= 0x02,	/* a PDU where none of its type may come */
	NVMF_TCP_FES_HDR_DIGEST		= 0x03,	/* FEI: the digest that came */
	NVMF_TCP_FES_DATA_RANGE		= 0x04,	/* data outside the command's transfer */
	NVMF_TCP_FES_DATA_LIMIT		= 0x05,	/* more data in a PDU than MAXH2CDATA */
	NVMF_TCP_FES_UNSUPPORTED	= 0x06,	/* FEI: the offset of the parameter */
};

/* CapsuleCmd (3.6.2.6) and CapsuleResp (3.6.2.7). */
struct nvmf_tcp_cmd {
	struct nvmf_tcp_hdr hdr;
	struct nvme_sqe sqe;
};
PL_STATIC_ASSERT(sizeof(struct nvmf_tcp_cmd) == 72, "CapsuleCmd");

struct nvmf_tcp_resp {
	struct nvmf_tcp_hdr hdr;
	struct nvme_cqe cqe;
};
PL_STATIC_ASSERT(sizeof(struct nvmf_tcp_resp) == 24, "CapsuleResp");

/* H2CData and C2HData (3.6.2.8, 3.6.2.9). */
struct nvmf_tcp_data {
	struct nvmf_tcp_hdr hdr;
	uint16_t cccid;		/* the command's CID */
	uint16_t ttag;		/* H2CData: the R2T's transfer tag; C2HData: reserved */
	uint32_t datao;		/* the data's offset in the command's transfer */
	uint32_t datal;		/* its length */
	uint32_t rsvd20;
};
PL_STATIC_ASSERT(sizeof(struct nvmf_tcp_data) == 24, "H2CData/C2HData");

/* R2T (3.6.2.10). */
struct nvmf_tcp_r2t {
	struct nvmf_tcp_hdr hdr;
	uint16_t cccid;
	uint16_t ttag;		/* echoed by the H2CData PDUs that answer it */
	uint32_t r2to;		/* offset of the data asked for */
	uint32_t r2tl;		/* and its length */
	uint32_t rsvd20;
};
PL_STATIC_ASSERT(sizeof(struct nvmf_tcp_r2t) == 24, "R2T");

/*
 * SGL descriptors a host puts in a command over TCP (3.3): data in the capsule (a Data
 * Block at an offset into it), or data moved by R2T/H2CData or C2HData (a Transport
 * SGL Data Block, subtype A).
 */
#define NVMF_SGL_INCAPSULE	(NVME_SGL_TYPE_DATA_BLOCK | NVME_SGL_SUBTYPE_OFFSET)	/* 0x01 */
#define NVMF_SGL_TRANSPORT	0x5a

/* ---- Fabrics commands (NVMe-oF 1.1, 3.1): opcode 0x7f, the type in byte 4 ---- */
#define NVMF_OPC_FABRICS	0x7f

enum nvmf_fctype {
	NVMF_FCTYPE_PROPERTY_SET	= 0x00,
	NVMF_FCTYPE_CONNECT		= 0x01,
	NVMF_FCTYPE_PROPERTY_GET	= 0x04,
	NVMF_FCTYPE_AUTH_SEND		= 0x05,
	NVMF_FCTYPE_AUTH_RECV		= 0x06,
	NVMF_FCTYPE_DISCONNECT		= 0x08,
};

/* Connect (3.3): the SQE, and its 1024 bytes of data. */
struct nvmf_connect_cmd {
	uint8_t opcode;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[19];
	struct nvme_sgl_desc sgl;
	uint16_t recfmt;	/* record format: 0 */
	uint16_t qid;		/* 0: the admin queue */
	uint16_t sqsize;	/* 0-based */
	uint8_t cattr;
	uint8_t rsvd47;
	uint32_t kato;		/* keep alive timeout, ms (admin queue) */
	uint8_t rsvd52[12];
};
PL_STATIC_ASSERT(sizeof(struct nvmf_connect_cmd) == 64, "Connect");
PL_STATIC_ASSERT(offsetof(struct nvmf_connect_cmd, sgl) == 24, "Connect SGL at byte 24");
PL_STATIC_ASSERT(offsetof(struct nvmf_connect_cmd, recfmt) == 40, "RECFMT at byte 40");
PL_STATIC_ASSERT(offsetof(struct nvmf_connect_cmd, kato) == 48, "KATO at byte 48");

struct nvmf_connect_data {
	uint8_t hostid[16];
	uint16_t cntlid;	/* 0xffff on the admin queue: any controller */
	uint8_t rsvd18[238];
	char subnqn[NVMF_NQN_LEN];
	char hostnqn[NVMF_NQN_LEN];
	uint8_t rsvd768[256];
};
PL_STATIC_ASSERT(sizeof(struct nvmf_connect_data) == 1024, "Connect data");
PL_STATIC_ASSERT(offsetof(struct nvmf_connect_data, subnqn) == 256, "SUBNQN at byte 256");

/* Property Get and Set (3.4, 3.5): a controller register by its offset. */
struct nvmf_property_cmd {
	uint8_t opcode;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	uint8_t attrib;		/* size: 0 four bytes, 1 eight */
	uint8_t rsvd41[3];
	uint32_t offset;
	uint64_t value;		/* Set only */
	uint8_t rsvd56[8];
};
PL_STATIC_ASSERT(sizeof(struct nvmf_property_cmd) == 64, "Property Get/Set");
PL_STATIC_ASSERT(offsetof(struct nvmf_property_cmd, offset) == 44, "OFST at byte 44");
#define NVMF_PROP_SIZE_8	1

/* Status codes of Fabrics commands (SCT 1, command specific: 3.3.1, 4.2). */
enum nvmf_sc {
	NVMF_SC_INCOMPATIBLE_FORMAT	= 0x80,
	NVMF_SC_CONTROLLER_BUSY		= 0x81,
	NVMF_SC_CONNECT_INVALID_PARAM	= 0x82,
	NVMF_SC_RESTART_DISCOVERY	= 0x83,
	NVMF_SC_CONNECT_INVALID_HOST	= 0x84,
};
/* A refused Connect's DW0 names the field: IATTR (bit 16: in the data) and IPO. */
#define NVMF_CONNECT_IATTR_DATA		(1u << 16)

PL_END_DECLS

#endif
