/*
 * pollen-pktgen's frame check (apps/pktgen_frame.h): what its receiver counts as good,
 * corrupted or another generator's. A wrong verdict would hide damage in every NIC test.
 */
#include <criterion/criterion.h>

#include "pktgen_frame.h"

static const struct pg_params params = {
	.dst = { 0x52, 0x54, 0, 0, 0, 2 }, .src = { 0x52, 0x54, 0, 0, 0, 1 },
	.src_ip = 0x0a000001, .dst_ip = 0x0a000002, .sport = 1024, .dport = 1024,
	.gen_id = 4242, .size = 128,
};

/* Frame @seq as the sender makes it: the template, stamped, from flow seq % @flows. */
static void make(uint8_t *tmpl, uint8_t *f, uint64_t seq, unsigned flows)
{
	pg_build_template(tmpl, &params);
	memcpy(f, tmpl, params.size);
	pg_stamp(f, params.size, seq, 123456789);
	if (flows > 1)
		pg_flow(f, params.src_ip, seq, flows);
}

Test(pktgen_frame, a_frame_as_sent_is_good_and_names_its_sequence)
{
	uint8_t tmpl[PG_SIZE_MAX], f[PG_SIZE_MAX];
	uint64_t seq = 0;

	make(tmpl, f, 77, 1);
	cr_expect_eq(pg_check(f, params.size, tmpl, params.size, &seq), PG_OK);
	cr_expect_eq(seq, 77);
}

Test(pktgen_frame, frames_of_other_flows_are_good_and_their_headers_check)
{
	uint8_t tmpl[PG_SIZE_MAX], f[PG_SIZE_MAX];
	uint64_t seq;

	for (uint64_t s = 0; s < 64; s++) {
		make(tmpl, f, s, 16);
		cr_expect_eq(pg_get32(f + PG_OFF_IP + 12), params.src_ip + s % 16);
		cr_expect_eq(pg_ip_csum(f + PG_OFF_IP), 0, "frame %llu: the header's checksum",
			     (unsigned long long)s);
		cr_expect_eq(pg_check(f, params.size, tmpl, params.size, &seq), PG_OK,
			     "frame %llu", (unsigned long long)s);
	}
}

/*
 * One bit flipped anywhere but in the send time is caught: a bad byte, a header checksum
 * that no longer holds, a sequence number whose check bytes disagree, or (in the magic
 * or the generator id) another generator's frame: never good.
 */
Test(pktgen_frame, every_flipped_bit_is_caught)
{
	uint8_t tmpl[PG_SIZE_MAX], f[PG_SIZE_MAX];
	uint64_t seq;

	for (unsigned byte = 0; byte < params.size; byte++) {
		if (byte >= PG_OFF_TS && byte < PG_OFF_TS + 6)
			continue;	/* the send time: any value is a time */
		for (unsigned bit = 0; bit < 8; bit++) {
			make(tmpl, f, 1000, 4);
			f[byte] ^= (uint8_t)(1u << bit);
			enum pg_verdict v = pg_check(f, params.size, tmpl, params.size, &seq);
			cr_expect_neq(v, PG_OK, "byte %u bit %u flipped: still good", byte, bit);
		}
	}
}

Test(pktgen_frame, another_generator_and_a_wrong_length_are_told_apart)
{
	uint8_t tmpl[PG_SIZE_MAX], f[PG_SIZE_MAX];
	uint64_t seq;

	make(tmpl, f, 5, 1);
	pg_put16(f + PG_OFF_IP_ID, 999);
	cr_expect_eq(pg_check(f, params.size, tmpl, params.size, &seq), PG_OTHER);
	make(tmpl, f, 5, 1);
	cr_expect_eq(pg_check(f, params.size - 1, tmpl, params.size, &seq), PG_CORRUPT);
}

/* The offloads' seed (checksum 0, UDP the pseudo-header's sum) is not yet a good frame;
 * with the sums filled in, as the NIC does, it is. */
Test(pktgen_frame, checksums_filled_as_a_nic_does_check)
{
	uint8_t tmpl[PG_SIZE_MAX], f[PG_SIZE_MAX];
	uint64_t seq;

	make(tmpl, f, 9, 8);
	pg_csum_offload(f);
	cr_expect_neq(pg_check(f, params.size, tmpl, params.size, &seq), PG_OK);
	pg_put16(f + PG_OFF_IP + 10, pg_ip_csum(f + PG_OFF_IP));
	uint16_t udp_len = pg_get16(f + PG_OFF_UDP + 4);
	pg_put16(f + PG_OFF_UDP + 6, 0);
	uint16_t sum = (uint16_t)~pg_fold(pg_sum(pg_udp_pseudo(f), f + PG_OFF_UDP, udp_len));
	pg_put16(f + PG_OFF_UDP + 6, sum ? sum : 0xffff);
	cr_expect_eq(pg_check(f, params.size, tmpl, params.size, &seq), PG_OK);
	f[PG_OFF_FILL] ^= 1;
	cr_expect_neq(pg_check(f, params.size, tmpl, params.size, &seq), PG_OK);
}
