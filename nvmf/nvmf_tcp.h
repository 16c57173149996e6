/* The NVMe/TCP transport's insides: digests and the checks on what a host sends. */
#ifndef PL_NVMF_TCP_H
#define PL_NVMF_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollen/nvmf_hw.h>

/* crc32c.c: the digest over @len bytes; _update carries a running value (start ~0u,
 * finish with ~) across pieces; _table is the portable form, kept for the tests. */
uint32_t nvmf_crc32c(const void *buf, size_t len);
uint32_t nvmf_crc32c_update(uint32_t crc, const void *buf, size_t len);
uint32_t nvmf_crc32c_table(const void *buf, size_t len);

/* What a connection's ICReq and ICResp agreed, and what the target takes. */
struct nvmf_tcp_params {
	bool initialized;	/* the ICReq has come: no other PDU may come before it */
	bool hdgst, ddgst;	/* digests enabled */
	uint8_t cpda;		/* the controller's data alignment, (cpda + 1) * 4 bytes */
	uint32_t maxh2cdata;	/* data bytes an H2CData PDU may carry */
	uint32_t max_incapsule;	/* data bytes a CapsuleCmd may carry in the capsule */
};

/* Why a connection must end: what its C2HTermReq says (FES, and FEI). */
struct nvmf_tcp_fault {
	uint16_t fes;		/* enum nvmf_tcp_fes */
	uint32_t fei;		/* the field's byte offset in the PDU, or a limit */
};

/*
 * pdu.c: checks the header of a PDU from a host, of which @len bytes have come (from its
 * first byte). Everything a later step relies on is checked here: the type for this
 * point of the connection, the type's header length, the digest flags against what was
 * agreed, the header digest, where data starts (PDO: after the header and its digest,
 * at the agreed alignment, inside the PDU) and how much there is (PLEN against the
 * type's limits, an H2CData's DATAL against PLEN).
 * Return: the number of bytes the header takes (common header first, then the type's
 * header and its digest) when @len is short of it; 0 when the header is whole and sound;
 * -1 with *@f saying why the connection must end.
 */
int nvmf_tcp_check_hdr(const void *buf, size_t len, const struct nvmf_tcp_params *p,
		       struct nvmf_tcp_fault *f);

/* The data of a checked PDU: from its PDO, this many bytes, its digest not counted. */
uint32_t nvmf_tcp_data_len(const struct nvmf_tcp_hdr *h);

#endif
