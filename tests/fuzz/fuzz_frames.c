/*
 * The frames a peer sends, as pollen-echo and pollen-pktgen's receiver parse them. Each
 * frame sits in a buffer exactly its length, so a read past its end is ASan's finding.
 * An answer must fit the frame it was made in and carry checksums that hold; a frame
 * pktgen would send must check, one byte off must not.
 */
#include <stdlib.h>

#include "echo_frame.h"
#include "fuzz.h"
#include "pktgen_frame.h"

static const struct echo_addr me = { .ip = 0x0a000002, .mac = { 0x52, 0x54, 0, 0, 0, 2 } };

/* Makes a guess look like an echo request to us where the input asks, to get deeper. */
static void aim(uint8_t *f, size_t len, uint8_t how)
{
	if (len >= 6 && (how & 1))
		memcpy(f, me.mac, 6);
	if (len >= ECHO_ETH_HDR + 20 && (how & 2)) {
		uint8_t *ip = f + ECHO_ETH_HDR;
		unsigned ihl = (ip[0] & 0xf) * 4u;

		pg_put32(ip + 16, me.ip);
		if (ihl >= 20 && ECHO_ETH_HDR + ihl <= len) {
			pg_put16(ip + 10, 0);
			pg_put16(ip + 10, (uint16_t)~echo_csum(ip, ihl));
		}
	}
}

static void echo(const uint8_t *data, size_t len, uint8_t how)
{
	uint8_t *f = malloc(len ? len : 1);
	unsigned out = 0;

	memcpy(f, data, len);
	aim(f, len, how);
	int why = echo_handle(f, (unsigned)len, &me, &out);
	if (why == ECHO_ARP_REPLY) {
		FUZZ_CHECK(out == ECHO_ETH_HDR + ECHO_ARP_LEN && out <= len, "ARP answer of %u", out);
		FUZZ_CHECK(pg_get32(f + ECHO_ETH_HDR + 14) == me.ip, "answered as someone else");
	} else if (why == ECHO_ICMP_REPLY) {
		const uint8_t *ip = f + ECHO_ETH_HDR;
		unsigned ihl = (ip[0] & 0xf) * 4u;

		FUZZ_CHECK(out <= len && out >= ECHO_ETH_HDR + ihl + 8, "an answer of %u in %zu",
			   out, len);
		FUZZ_CHECK(echo_csum(ip, ihl) == 0xffff, "the answer's IP checksum is wrong");
		FUZZ_CHECK(echo_csum(ip + ihl, out - ECHO_ETH_HDR - ihl) == 0xffff,
			   "the answer's ICMP checksum is wrong");
	} else {
		FUZZ_CHECK(why >= 0 && why < DROP_KINDS, "verdict %d", why);
	}
	free(f);
}

/* pktgen: a frame as sent checks; the input's bytes over it check only if they change nothing. */
static void pktgen(struct fuzz_in *in)
{
	struct pg_params p = { .dst = { 2, 0, 0, 0, 0, 1 }, .src = { 2, 0, 0, 0, 0, 2 },
			       .src_ip = 0x0a000001, .dst_ip = 0x0a000002, .sport = 9, .dport = 9 };
	uint8_t tmpl[PG_SIZE_MAX];
	uint64_t seq;

	p.size = PG_SIZE_MIN + fuzz_u16(in) % (PG_SIZE_MAX - PG_SIZE_MIN + 1);
	p.gen_id = fuzz_u16(in);
	pg_build_template(tmpl, &p);
	uint8_t *f = malloc(PG_SIZE_MAX);
	memcpy(f, tmpl, p.size);
	uint64_t want = fuzz_u32(in);
	pg_stamp(f, p.size, want, fuzz_u32(in));
	FUZZ_CHECK(pg_check(f, p.size, tmpl, p.size, &seq) == PG_OK && seq == want,
		   "a frame as sent does not check");

	/* Then bytes of the input written over it, and a length of its choosing. */
	unsigned len = p.size;
	if (fuzz_u8(in) & 1)
		len = PG_OFF_SEQ + fuzz_u16(in) % (PG_SIZE_MAX - PG_OFF_SEQ + 1);
	uint8_t *g = malloc(len);
	memcpy(g, f, len < p.size ? len : p.size);
	if (len > p.size)
		memset(g + p.size, 0, len - p.size);
	for (unsigned n = fuzz_u8(in) % 8; n; n--) {
		uint16_t at = fuzz_u16(in);

		g[at % len] = fuzz_u8(in);
	}
	enum pg_verdict v = pg_check(g, len, tmpl, p.size, &seq);
	if (v == PG_OK)
		FUZZ_CHECK(len == p.size, "a frame of %u bytes checks as one of %u", len, p.size);
	struct pg_params learnt;
	if (pg_learn(g, len, &learnt))
		FUZZ_CHECK(learnt.size == len, "learnt a size of %u from %u bytes", learnt.size, len);
	free(g);
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t how = fuzz_u8(&in);

	if (how & 0x80)
		pktgen(&in);
	else
		echo(in.p, in.left < 2048 ? in.left : 2048, how);
	return 0;
}
