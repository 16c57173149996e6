/*
 * PDU headers from a host, as pollen's NVMe/TCP target checks them before it acts on
 * one. The input's first two bytes choose what the connection agreed (digests, data
 * alignment, whether the ICReq has come); the rest is what came on the socket, in a
 * buffer exactly its length. What a header that passes promises, the harness checks:
 * data inside the PDU, after the header and its digest, at the alignment, within the
 * limits, and a header digest that holds; what does not pass names a known reason.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "nvmf_tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t how = fuzz_u8(&in), cpda = fuzz_u8(&in) & 3;
	struct nvmf_tcp_params p = {
		.initialized = how & 1, .hdgst = how & 2, .ddgst = how & 4, .cpda = cpda,
		.maxh2cdata = how & 8 ? 4096 : 131072, .max_incapsule = how & 16 ? 0 : 8192,
	};
	uint8_t *pdu = malloc(in.left ? in.left : 1);
	struct nvmf_tcp_fault f = { 0 };

	memcpy(pdu, in.p, in.left);
	int r = nvmf_tcp_check_hdr(pdu, in.left, &p, &f);
	if (r > 0) {
		FUZZ_CHECK((size_t)r > in.left && r <= 132, "asked for %d bytes with %zu", r, in.left);
	} else if (r < 0) {
		FUZZ_CHECK(f.fes >= NVMF_TCP_FES_BAD_HDR_FIELD && f.fes <= NVMF_TCP_FES_UNSUPPORTED,
			   "fes %u", f.fes);
	} else {
		struct nvmf_tcp_hdr h;

		memcpy(&h, pdu, sizeof(h));
		bool hd = h.flags & NVMF_TCP_F_HDGST, dd = h.flags & NVMF_TCP_F_DDGST;
		unsigned need = h.hlen + (hd ? 4u : 0);
		uint32_t dl = nvmf_tcp_data_len(&h);

		FUZZ_CHECK(in.left >= need, "passed with %zu of %u header bytes", in.left, need);
		FUZZ_CHECK(h.plen >= need, "plen %u under the header's %u", h.plen, need);
		FUZZ_CHECK((h.type == NVMF_TCP_ICREQ) != p.initialized, "type %u out of turn", h.type);
		if (hd) {
			uint32_t got;
			memcpy(&got, pdu + h.hlen, 4);
			FUZZ_CHECK(got == nvmf_crc32c(pdu, h.hlen), "a header digest that fails");
		}
		if (h.type == NVMF_TCP_CAPSULE_CMD || h.type == NVMF_TCP_H2C_DATA) {
			FUZZ_CHECK(hd == p.hdgst, "header digest flag %d, agreed %d", hd, p.hdgst);
			if (h.pdo) {
				FUZZ_CHECK(h.pdo >= need && h.pdo % ((cpda + 1u) * 4) == 0, "pdo %u", h.pdo);
				FUZZ_CHECK(dl > 0 && (uint64_t)h.pdo + dl + (dd ? 4 : 0) == h.plen,
					   "pdo %u + %u data + digest is not plen %u", h.pdo, dl, h.plen);
				FUZZ_CHECK(dd == p.ddgst, "data digest flag %d, agreed %d", dd, p.ddgst);
			} else {
				FUZZ_CHECK(h.plen == need && !dd, "no pdo, yet plen %u", h.plen);
			}
		}
		if (h.type == NVMF_TCP_CAPSULE_CMD)
			FUZZ_CHECK(dl <= p.max_incapsule, "%u bytes in capsule", dl);
		if (h.type == NVMF_TCP_H2C_DATA) {
			struct nvmf_tcp_data d;
			memcpy(&d, pdu, sizeof(d));
			FUZZ_CHECK(d.datal == dl && dl && dl <= p.maxh2cdata, "datal %u of %u", d.datal, dl);
		}
		/* More bytes of the same PDU change nothing. */
		FUZZ_CHECK(nvmf_tcp_check_hdr(pdu, need, &p, &f) == 0, "the header alone fails");
	}
	free(pdu);
	return 0;
}
