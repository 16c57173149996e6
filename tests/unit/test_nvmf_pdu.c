/*
 * The NVMe/TCP digest and the checks on what a host sends: CRC32C against the published
 * vectors (RFC 3720 B.4, the digest NVMe/TCP reuses), and PDU headers a well-behaved
 * host sends (as Linux's nvme-tcp builds them) taken, each kind of malformed one refused
 * with the fatal error status and field the specification names.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "nvmf_tcp.h"

Test(nvmf_pdu, crc32c_matches_the_published_vectors)
{
	uint8_t b[32];

	memset(b, 0, sizeof(b));
	cr_expect_eq(nvmf_crc32c(b, 32), 0x8a9136aa);
	memset(b, 0xff, sizeof(b));
	cr_expect_eq(nvmf_crc32c(b, 32), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	cr_expect_eq(nvmf_crc32c(b, 32), 0x46dd794e);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	cr_expect_eq(nvmf_crc32c(b, 32), 0x113fdb5c);
	cr_expect_eq(nvmf_crc32c("123456789", 9), 0xe3069283);
}

/* The fast form and the table agree at every length and alignment, and in pieces. */
Test(nvmf_pdu, crc32c_forms_agree)
{
	static uint8_t b[4096 + 16];

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 131 + (i >> 7));
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len < 100; len++)
			cr_assert_eq(nvmf_crc32c(b + off, len), nvmf_crc32c_table(b + off, len),
				     "offset %zu length %zu", off, len);
	uint32_t c = nvmf_crc32c_update(~0u, b, 1000);
	c = ~nvmf_crc32c_update(c, b + 1000, 3096);
	cr_expect_eq(c, nvmf_crc32c(b, 4096));
}

static const struct nvmf_tcp_params after_ic = {
	.initialized = true, .maxh2cdata = 131072, .max_incapsule = 8192,
};

static int check(const void *pdu, size_t len, const struct nvmf_tcp_params *p,
		 struct nvmf_tcp_fault *f)
{
	memset(f, 0xee, sizeof(*f));
	return nvmf_tcp_check_hdr(pdu, len, p, f);
}

static struct nvmf_tcp_icreq icreq(void)
{
	return (struct nvmf_tcp_icreq){ .hdr = { .type = NVMF_TCP_ICREQ, .hlen = 128, .plen = 128 },
					.maxr2t = 0, .digest = NVMF_TCP_DIGEST_HDR };
}

Test(nvmf_pdu, an_icreq_opens_the_connection_and_only_it)
{
	struct nvmf_tcp_params fresh = { 0 };
	struct nvmf_tcp_icreq r = icreq();
	struct nvmf_tcp_fault f;

	cr_expect_eq(check(&r, 4, &fresh, &f), 8, "the common header first");
	cr_expect_eq(check(&r, 8, &fresh, &f), 128, "then the whole ICReq");
	cr_expect_eq(check(&r, 128, &fresh, &f), 0);
	/* Twice is a sequence error; so is a command before it. */
	cr_expect_eq(check(&r, 128, &after_ic, &f), -1);
	cr_expect_eq(f.fes, NVMF_TCP_FES_PDU_SEQUENCE);
	struct nvmf_tcp_cmd c = { .hdr = { .type = NVMF_TCP_CAPSULE_CMD, .hlen = 72, .plen = 72 } };
	cr_expect_eq(check(&c, 72, &fresh, &f), -1);
	cr_expect_eq(f.fes, NVMF_TCP_FES_PDU_SEQUENCE);
	/* A format version we do not know, an alignment past 31, a wrong length. */
	r.pfv = 1;
	cr_expect_eq(check(&r, 128, &fresh, &f), -1);
	cr_expect(f.fes == NVMF_TCP_FES_UNSUPPORTED && f.fei == 8, "fes %u fei %u", f.fes, f.fei);
	r = icreq();
	r.hpda = 32;
	cr_expect_eq(check(&r, 128, &fresh, &f), -1);
	cr_expect(f.fes == NVMF_TCP_FES_UNSUPPORTED && f.fei == 10, "fes %u fei %u", f.fes, f.fei);
	r = icreq();
	r.hdr.plen = 129;
	cr_expect_eq(check(&r, 128, &fresh, &f), -1);
	cr_expect(f.fes == NVMF_TCP_FES_BAD_HDR_FIELD && f.fei == 4, "fes %u fei %u", f.fes, f.fei);
}

Test(nvmf_pdu, types_a_host_never_sends_and_wrong_header_lengths_are_refused)
{
	struct nvmf_tcp_fault f;
	const uint8_t c2h[] = { NVMF_TCP_ICRESP, NVMF_TCP_C2H_TERM, NVMF_TCP_CAPSULE_RESP,
				NVMF_TCP_C2H_DATA, NVMF_TCP_R2T, 0x08, 0x0a, 0xff };

	for (size_t i = 0; i < sizeof(c2h); i++) {
		struct nvmf_tcp_hdr h = { .type = c2h[i], .hlen = 24, .plen = 24 };

		cr_expect_eq(check(&h, sizeof(h), &after_ic, &f), -1, "type %#x taken", c2h[i]);
		cr_expect(f.fes == NVMF_TCP_FES_BAD_HDR_FIELD && f.fei == 0, "type %#x: fes %u fei %u",
			  c2h[i], f.fes, f.fei);
	}
	struct nvmf_tcp_cmd c = { .hdr = { .type = NVMF_TCP_CAPSULE_CMD, .hlen = 24, .plen = 72 } };
	cr_expect_eq(check(&c, sizeof(c), &after_ic, &f), -1);
	cr_expect(f.fes == NVMF_TCP_FES_BAD_HDR_FIELD && f.fei == 2, "fes %u fei %u", f.fes, f.fei);
}

/* A command as Linux sends it: PDO right after the header (and its digest) when data is in the capsule. */
static void put_cmd(uint8_t *buf, uint32_t data, bool hd, bool dd)
{
	struct nvmf_tcp_cmd c = { .hdr = { .type = NVMF_TCP_CAPSULE_CMD, .hlen = 72 } };
	unsigned hdl = hd ? 4 : 0;

	c.hdr.flags = (hd ? NVMF_TCP_F_HDGST : 0) | (dd && data ? NVMF_TCP_F_DDGST : 0);
	c.hdr.pdo = data ? (uint8_t)(72 + hdl) : 0;
	c.hdr.plen = 72 + hdl + data + (dd && data ? 4 : 0);
	memcpy(buf, &c, sizeof(c));
	if (hd) {
		uint32_t d = nvmf_crc32c(buf, 72);
		memcpy(buf + 72, &d, 4);
	}
}

Test(nvmf_pdu, commands_with_and_without_digests_and_in_capsule_data)
{
	uint8_t b[128];
	struct nvmf_tcp_fault f;
	struct nvmf_tcp_params dg = after_ic;

	dg.hdgst = dg.ddgst = true;
	put_cmd(b, 0, false, false);
	cr_expect_eq(check(b, 72, &after_ic, &f), 0);
	put_cmd(b, 4096, false, false);
	cr_expect_eq(check(b, 72, &after_ic, &f), 0);
	cr_expect_eq(nvmf_tcp_data_len((struct nvmf_tcp_hdr *)b), 4096);
	put_cmd(b, 4096, true, true);
	cr_expect_eq(check(b, 72, &dg, &f), 76, "the header digest is part of the header");
	cr_expect_eq(check(b, 76, &dg, &f), 0);
	cr_expect_eq(nvmf_tcp_data_len((struct nvmf_tcp_hdr *)b), 4096);
	/* One bit off in the header: its digest no longer holds. */
	b[12] ^= 1;
	cr_expect_eq(check(b, 76, &dg, &f), -1);
	cr_expect_eq(f.fes, NVMF_TCP_FES_HDR_DIGEST);
	/* Digest flags other than agreed. */
	put_cmd(b, 4096, false, false);
	cr_expect_eq(check(b, 76, &dg, &f), -1);
	cr_expect(f.fes == NVMF_TCP_FES_BAD_HDR_FIELD && f.fei == 1, "fes %u fei %u", f.fes, f.fei);
	put_cmd(b, 4096, true, true);
	cr_expect_eq(check(b, 76, &after_ic, &f), -1);
	cr_expect(f.fes == NVMF_TCP_FES_BAD_HDR_FIELD && f.fei == 1, "fes %u fei %u", f.fes, f.fei);
	/* More in the capsule than the target takes. */
	put_cmd(b, 8196, false, false);
	cr_expect_eq(check(b, 72, &after_ic, &f), -1);
	cr_expect(f.fes == NVMF_TCP_FES_BAD_HDR_FIELD && f.fei == 4, "fes %u fei %u", f.fes, f.fei);
}

Test(nvmf_pdu, data_offsets_and_lengths_outside_the_pdu_are_refused)
{
	struct nvmf_tcp_cmd c;
	struct nvmf_tcp_fault f;

	put_cmd((uint8_t *)&c, 512, false, false);
	c.hdr.pdo = 70;			/* inside the header */
	cr_expect_eq(check(&c, 72, &after_ic, &f), -1);
	cr_expect(f.fes == NVMF_TCP_FES_BAD_HDR_FIELD && f.fei == 3, "fes %u fei %u", f.fes, f.fei);
	c.hdr.pdo = 74;			/* not at the 4-byte alignment agreed */
	cr_expect_eq(check(&c, 72, &after_ic, &f), -1);
	cr_expect_eq(f.fei, 3);
	c.hdr.pdo = 200;		/* past the PDU's end */
	c.hdr.plen = 100;
	cr_expect_eq(check(&c, 72, &after_ic, &f), -1);
	cr_expect_eq(f.fei, 4);
	put_cmd((uint8_t *)&c, 0, false, false);
	c.hdr.plen = 60;		/* shorter than its header */
	cr_expect_eq(check(&c, 72, &after_ic, &f), -1);
	cr_expect_eq(f.fei, 4);
	put_cmd((uint8_t *)&c, 0, false, false);
	c.hdr.pdo = 72;			/* an offset with no data */
	cr_expect_eq(check(&c, 72, &after_ic, &f), -1);
	cr_expect_eq(f.fei, 3);
}

Test(nvmf_pdu, h2c_data_must_say_its_length_and_keep_to_maxh2cdata)
{
	struct nvmf_tcp_data d = { .hdr = { .type = NVMF_TCP_H2C_DATA, .hlen = 24, .pdo = 24,
					    .plen = 24 + 4096 }, .cccid = 3, .datal = 4096 };
	struct nvmf_tcp_fault f;
	struct nvmf_tcp_params small = after_ic;

	cr_expect_eq(check(&d, 24, &after_ic, &f), 0);
	d.datal = 4095;
	cr_expect_eq(check(&d, 24, &after_ic, &f), -1);
	cr_expect(f.fes == NVMF_TCP_FES_BAD_HDR_FIELD && f.fei == 16, "fes %u fei %u", f.fes, f.fei);
	d.datal = 4096;
	small.maxh2cdata = 2048;
	cr_expect_eq(check(&d, 24, &small, &f), -1);
	cr_expect(f.fes == NVMF_TCP_FES_DATA_LIMIT && f.fei == 2048, "fes %u fei %u", f.fes, f.fei);
	/* No data at all is no H2CData. */
	d.hdr.plen = 24;
	d.hdr.pdo = 0;
	d.datal = 0;
	cr_expect_eq(check(&d, 24, &after_ic, &f), -1);
	cr_expect_eq(f.fei, 16);
}
