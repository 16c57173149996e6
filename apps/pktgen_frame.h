/* The frames pollen-pktgen sends and checks: Ethernet + IPv4 + UDP + a sequenced payload. */
#ifndef PL_APPS_PKTGEN_FRAME_H
#define PL_APPS_PKTGEN_FRAME_H

/*
 * Layout (offsets in the frame, without the CRC; every field in network byte order):
 *
 *    0  Ethernet: destination, source, type 0x0800
 *   14  IPv4: 0x45, TOS 0, total length, ID = generator id, DF, TTL 64, UDP, checksum
 *   34  UDP: source port, destination port, length, checksum 0 (legal in IPv4: "none")
 *   42  magic "PLPG"
 *   46  sequence number, 64 bits: 0, 1, 2, ...
 *   54  send time, the low 48 bits of CLOCK_MONOTONIC in ns
 *   60  seq ^ PG_SEQ_XOR, 64 bits (cut short in frames under 68 bytes)
 *   68  to the end: a byte that depends only on its position
 *
 * Why this shape: a 60-byte frame (the smallest, 64 with its CRC) leaves 18 bytes after
 * the headers, so the payload's fixed part must fit in 18. The send time keeps 48 bits
 * (latency is a difference taken modulo 2^48 ns: right for anything under 78 hours), and
 * the generator id (the sender's pid, 16 bits) rides in the IPv4 ID. With DF set that
 * field identifies nothing (RFC 6864), and keeping it constant keeps the whole header,
 * checksum included, the same in every frame of a run (but the source address with
 * --flows, pg_flow): the receiver compares it whole, those four bytes and the checksums
 * aside, and the IPv4 header checksum must hold.
 *
 * Costs: the sender writes the template into a buffer once (pg_build_template) and then
 * per frame only the 22 bytes at 46..67 (pg_stamp). The receiver (pg_check) checks every
 * byte: 0..45 and 68..end against the template (as above), 60..67 against the sequence
 * number, the checksums by summing.
 * Only the sequence number and time themselves cannot be checked in a frame under 68
 * bytes; there a damaged one shows up as a loss, a duplicate or a latency outlier.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PG_MAGIC 0x504c5047u		/* "PLPG" */
#define PG_SEQ_XOR 0x9e3779b97f4a7c15ull
#define PG_TS_MASK ((1ull << 48) - 1)

#define PG_OFF_IP 14
#define PG_OFF_IP_ID 18
#define PG_OFF_UDP 34
#define PG_OFF_MAGIC 42
#define PG_OFF_SEQ 46
#define PG_OFF_TS 54
#define PG_OFF_CHECK 60
#define PG_OFF_FILL 68

#define PG_SIZE_MIN 60			/* without the CRC */
#define PG_SIZE_MAX 1514

struct pg_params {
	uint8_t dst[6], src[6];
	uint32_t src_ip, dst_ip;	/* host order */
	uint16_t sport, dport;
	uint16_t gen_id;
	unsigned size;			/* PG_SIZE_MIN..PG_SIZE_MAX */
};

static inline void pg_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void pg_put32(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

static inline void pg_put64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}

static inline uint16_t pg_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t pg_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

static inline uint64_t pg_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/* The byte at @pos from PG_OFF_FILL on: anything that changes with position will do. */
static inline uint8_t pg_fill_byte(unsigned pos)
{
	return (uint8_t)(pos * 131u + 17u);
}

/* The ones'-complement sum of @len bytes at @p added to @sum, not folded. */
static inline uint32_t pg_sum(uint32_t sum, const uint8_t *p, unsigned len)
{
	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += pg_get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t pg_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The IPv4 header checksum of the 20 bytes at @ip (its own field counted as it is). */
static inline uint16_t pg_ip_csum(const uint8_t *ip)
{
	return (uint16_t)~pg_fold(pg_sum(0, ip, 20));
}

/* The UDP pseudo-header's sum (addresses, protocol, length), folded and not inverted. */
static inline uint16_t pg_udp_pseudo(const uint8_t *f)
{
	const uint8_t *ip = f + PG_OFF_IP;
	uint32_t sum = pg_sum(0, ip + 12, 8) + 17 + pg_get16(f + PG_OFF_UDP + 4);

	return pg_fold(sum);
}

/* Does the frame's UDP checksum (when not 0, "none") check over its @len bytes? */
static inline bool pg_udp_csum_ok(const uint8_t *f, unsigned len)
{
	if (!pg_get16(f + PG_OFF_UDP + 6))
		return true;
	unsigned udp_len = pg_get16(f + PG_OFF_UDP + 4);
	if (PG_OFF_UDP + udp_len > len)
		return false;
	uint32_t sum = pg_sum(pg_udp_pseudo(f), f + PG_OFF_UDP, udp_len);
	return pg_fold(sum) == 0xffff;
}

/*
 * Readies a frame for the NIC's checksum offloads: the IPv4 checksum 0 and the UDP one
 * the pseudo-header's sum (pl_pkt.h's PL_PKT_TX_*_CSUM): the device fills in both.
 */
static inline void pg_csum_offload(uint8_t *f)
{
	pg_put16(f + PG_OFF_IP + 10, 0);
	pg_put16(f + PG_OFF_UDP + 6, pg_udp_pseudo(f));
}

/* Writes a whole frame of @p->size bytes with sequence number 0 and time 0 into @t. */
static inline void pg_build_template(uint8_t *t, const struct pg_params *p)
{
	memset(t, 0, p->size);
	memcpy(t, p->dst, 6);
	memcpy(t + 6, p->src, 6);
	pg_put16(t + 12, 0x0800);

	uint8_t *ip = t + PG_OFF_IP;
	ip[0] = 0x45;
	pg_put16(ip + 2, (uint16_t)(p->size - PG_OFF_IP));
	pg_put16(ip + 4, p->gen_id);
	pg_put16(ip + 6, 0x4000);	/* DF */
	ip[8] = 64;
	ip[9] = 17;
	pg_put32(ip + 12, p->src_ip);
	pg_put32(ip + 16, p->dst_ip);
	pg_put16(ip + 10, pg_ip_csum(ip));

	uint8_t *udp = t + PG_OFF_UDP;
	pg_put16(udp, p->sport);
	pg_put16(udp + 2, p->dport);
	pg_put16(udp + 4, (uint16_t)(p->size - PG_OFF_UDP));

	pg_put32(t + PG_OFF_MAGIC, PG_MAGIC);
	for (unsigned i = PG_OFF_FILL; i < p->size; i++)
		t[i] = pg_fill_byte(i);
}

/*
 * What changes per frame, in a buffer that already holds the template: the sequence
 * number, the send time and the check bytes derived from the sequence number.
 */
static inline void pg_stamp(uint8_t *f, unsigned size, uint64_t seq, uint64_t now_ns)
{
	uint8_t ts[8], chk[8];

	pg_put64(f + PG_OFF_SEQ, seq);
	pg_put64(ts, now_ns << 16);	/* the low 48 bits, big-endian, in ts[0..5] */
	memcpy(f + PG_OFF_TS, ts, 6);
	pg_put64(chk, seq ^ PG_SEQ_XOR);
	if (size >= PG_OFF_FILL)
		memcpy(f + PG_OFF_CHECK, chk, 8);
	else
		memcpy(f + PG_OFF_CHECK, chk, size - PG_OFF_CHECK);
}

/*
 * Frame @seq of @flows (--flows): from the template's source address plus seq % flows,
 * the header checksum made again. Receive-side scaling hashes over the addresses.
 */
static inline void pg_flow(uint8_t *f, uint32_t base_ip, uint64_t seq, unsigned flows)
{
	uint8_t *ip = f + PG_OFF_IP;

	pg_put32(ip + 12, base_ip + (uint32_t)(seq % flows));
	pg_put16(ip + 10, 0);
	pg_put16(ip + 10, pg_ip_csum(ip));
}

/* The 48-bit send time of a frame. */
static inline uint64_t pg_frame_ts(const uint8_t *f)
{
	return pg_get64(f + PG_OFF_TS - 2) & PG_TS_MASK;
}

enum pg_verdict {
	PG_OK,
	PG_OTHER,	/* not this generator's: no magic, or another generator id */
	PG_CORRUPT,	/* this generator's, with a byte or the length wrong */
};

/*
 * Checks the @len-byte frame @f against @tmpl (pg_build_template, @size bytes). A frame
 * is ours when it carries the magic and our generator id; then every byte must be right.
 * (A frame damaged in exactly those six bytes cannot be told from a stranger's.)
 */
static inline enum pg_verdict pg_check(const uint8_t *f, unsigned len, const uint8_t *tmpl,
				       unsigned size, uint64_t *seq)
{
	if (len < PG_OFF_SEQ || memcmp(f + PG_OFF_MAGIC, tmpl + PG_OFF_MAGIC, 4) ||
	    memcmp(f + PG_OFF_IP_ID, tmpl + PG_OFF_IP_ID, 2))
		return PG_OTHER;
	/*
	 * The header as the template has it, but the source address and the checksums: the
	 * UDP one is 0 ("none") unless the sender had the NIC fill it in (--tx-csum); then it
	 * must check.
	 */
	if (len != size || memcmp(f, tmpl, PG_OFF_IP + 10) ||
	    memcmp(f + PG_OFF_IP + 16, tmpl + PG_OFF_IP + 16, PG_OFF_UDP + 6 - PG_OFF_IP - 16) ||
	    memcmp(f + PG_OFF_UDP + 8, tmpl + PG_OFF_UDP + 8, PG_OFF_SEQ - PG_OFF_UDP - 8))
		return PG_CORRUPT;
	/* The source address may be another flow's (--flows): the header's checksum holds. */
	if (pg_ip_csum(f + PG_OFF_IP))
		return PG_CORRUPT;
	*seq = pg_get64(f + PG_OFF_SEQ);

	uint8_t chk[8];
	pg_put64(chk, *seq ^ PG_SEQ_XOR);
	if (memcmp(f + PG_OFF_CHECK, chk, len < PG_OFF_FILL ? len - PG_OFF_CHECK : 8))
		return PG_CORRUPT;
	if (len > PG_OFF_FILL && memcmp(f + PG_OFF_FILL, tmpl + PG_OFF_FILL, len - PG_OFF_FILL))
		return PG_CORRUPT;
	if (!pg_udp_csum_ok(f, len))
		return PG_CORRUPT;
	return PG_OK;
}

/*
 * For a receiver that does not know the sender's settings (another process): reads them
 * from a frame with the magic. The caller rebuilds the template from them and checks the
 * frame against it, so a damaged first frame is not taken as the model.
 * Return: true when @f looks like a pktgen frame (magic, IPv4 without options, UDP).
 */
static inline bool pg_learn(const uint8_t *f, unsigned len, struct pg_params *p)
{
	if (len < PG_SIZE_MIN || len > PG_SIZE_MAX || pg_get32(f + PG_OFF_MAGIC) != PG_MAGIC ||
	    pg_get16(f + 12) != 0x0800 || f[PG_OFF_IP] != 0x45 || f[PG_OFF_IP + 9] != 17)
		return false;
	memcpy(p->dst, f, 6);
	memcpy(p->src, f + 6, 6);
	p->gen_id = pg_get16(f + PG_OFF_IP_ID);
	p->src_ip = pg_get32(f + PG_OFF_IP + 12);
	p->dst_ip = pg_get32(f + PG_OFF_IP + 16);
	p->sport = pg_get16(f + PG_OFF_UDP);
	p->dport = pg_get16(f + PG_OFF_UDP + 2);
	p->size = len;
	return true;
}

/*
 * The receiver's account of sequence numbers. A seq above the highest seen is new; one
 * below it was reordered, unless the bitmap of the PG_SEQ_WINDOW seqs below the highest
 * says it came already: then it is a duplicate. One further back than the window cannot
 * be told from a duplicate and counts as reordered. The counters are stored with relaxed
 * atomics so that another thread may read them meanwhile.
 */
#define PG_SEQ_WINDOW (1ull << 20)

struct pg_seq {
	uint64_t *seen;		/* PG_SEQ_WINDOW bits, zeroed */
	uint64_t top;		/* the highest seen + 1 */
	uint64_t unique, duplicated, reordered;
};

static inline void pg_seq_count(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

/* Clears the bits of the @n seqs from @from: slots that leave the window. */
static inline void pg_seq_clear(uint64_t *bits, uint64_t from, uint64_t n)
{
	if (n >= PG_SEQ_WINDOW) {
		memset(bits, 0, PG_SEQ_WINDOW / 8);
		return;
	}
	for (; n && from % 64; from++, n--)
		bits[from % PG_SEQ_WINDOW / 64] &= ~(1ull << (from % 64));
	for (; n >= 64; from += 64, n -= 64)
		bits[from % PG_SEQ_WINDOW / 64] = 0;
	for (; n; from++, n--)
		bits[from % PG_SEQ_WINDOW / 64] &= ~(1ull << (from % 64));
}

static inline void pg_seq_see(struct pg_seq *s, uint64_t seq)
{
	uint64_t bit = 1ull << (seq % 64), *word = &s->seen[seq % PG_SEQ_WINDOW / 64];

	if (seq >= s->top) {
		pg_seq_clear(s->seen, s->top, seq - s->top);
		__atomic_store_n(&s->top, seq + 1, __ATOMIC_RELAXED);
	} else if (s->top - seq > PG_SEQ_WINDOW) {
		pg_seq_count(&s->reordered);
		pg_seq_count(&s->unique);
		return;
	} else if (*word & bit) {
		pg_seq_count(&s->duplicated);
		return;
	} else {
		pg_seq_count(&s->reordered);
	}
	*word |= bit;
	pg_seq_count(&s->unique);
}

/* Frames lost: of the highest seen + 1 (or @sent, when the sender's count is known). */
static inline uint64_t pg_seq_lost(const struct pg_seq *s, uint64_t sent)
{
	uint64_t top = __atomic_load_n(&s->top, __ATOMIC_RELAXED);
	uint64_t uniq = __atomic_load_n(&s->unique, __ATOMIC_RELAXED);

	if (sent > top)
		top = sent;
	return top > uniq ? top - uniq : 0;
}

/* "aa:bb:cc:dd:ee:ff" (or with '-'); 0, or -1 when @s is not a MAC address. */
static inline int pg_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char sep[5];
	int n = 0;

	if (sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%n", &v[0], &sep[0], &v[1], &sep[1], &v[2],
		   &sep[2], &v[3], &sep[3], &v[4], &sep[4], &v[5], &n) != 11 || s[n])
		return -1;
	for (int i = 0; i < 5; i++)
		if (sep[i] != sep[0] || (sep[i] != ':' && sep[i] != '-'))
			return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static inline const char *pg_format_mac(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

#endif
