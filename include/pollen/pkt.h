/* pl_pkt: the packet buffer the NIC drivers use: header, headroom and data in one object. */
#ifndef POLLEN_PKT_H
#define POLLEN_PKT_H

#include <stdint.h>

#include <pollen/compiler.h>
#include <pollen/mempool.h>

PL_BEGIN_DECLS

#define PL_PKT_HEADROOM 128		/* room to prepend headers without a copy */
#define PL_PKT_DATA_ROOM 2048		/* default room after the headroom: a NIC's 2 KiB buffer */

/*
 * pl_pkt.flags: checksums the NIC inserts when sending (l2_len and l3_len set, IPv4;
 * the checksum must sit within the frame's first 256 bytes, as the e1000's context
 * descriptor counts in bytes: a packet past that is refused and counted).
 * For TCP or UDP the checksum field must hold the pseudo-header's sum, folded and not
 * inverted, as for Linux's CHECKSUM_PARTIAL: the NIC sums from the L4 header to the end
 * and stores the result's complement there.
 */
#define PL_PKT_TX_IP_CSUM (1u << 0)	/* the IPv4 header checksum */
#define PL_PKT_TX_UDP_CSUM (1u << 1)
#define PL_PKT_TX_TCP_CSUM (1u << 2)
#define PL_PKT_TX_CSUM (PL_PKT_TX_IP_CSUM | PL_PKT_TX_UDP_CSUM | PL_PKT_TX_TCP_CSUM)
/* On a received packet: pl_pkt.hash is the NIC's RSS hash (the 82574L with two queues). */
#define PL_PKT_RX_RSS_HASH (1u << 8)

/*
 * One cache line of header, then the buffer. The header holds what the driver and the
 * app need per packet; its IOVA fields are set once at pool creation, so the data path
 * never translates an address.
 */
struct pl_pkt {
	struct pl_mempool *pool;
	uint64_t buf_iova;	/* IOVA of buf[0] */
	uint16_t data_off;	/* data starts at buf[data_off] */
	uint16_t len;		/* bytes of data */
	uint16_t buf_len;	/* bytes in buf */
	uint16_t port;		/* the port it arrived on or leaves by */
	uint32_t flags;		/* PL_PKT_* */
	uint32_t hash;		/* RSS hash, where PL_PKT_RX_RSS_HASH says the NIC gave one */
	uint64_t user;		/* the application's: a sequence number, a timestamp */
	uint8_t l2_len, l3_len;	/* header lengths, for the TX checksum offloads */
	uint8_t pad[22];
	uint8_t buf[] __attribute__((aligned(64)));
};
PL_STATIC_ASSERT(sizeof(struct pl_pkt) == 64, "the header is one cache line");

PL_INLINE uint8_t *pl_pkt_data(struct pl_pkt *p)
{
	return p->buf + p->data_off;
}

/* The IOVA of the first data byte: what a descriptor wants. */
PL_INLINE uint64_t pl_pkt_data_iova(const struct pl_pkt *p)
{
	return p->buf_iova + p->data_off;
}

PL_INLINE unsigned pl_pkt_headroom(const struct pl_pkt *p)
{
	return p->data_off;
}

PL_INLINE unsigned pl_pkt_tailroom(const struct pl_pkt *p)
{
	return p->buf_len - p->data_off - p->len;
}

/* Grows the data at its end by @n bytes; returns where they start, or NULL if no room. */
PL_INLINE uint8_t *pl_pkt_append(struct pl_pkt *p, unsigned n)
{
	if (n > pl_pkt_tailroom(p))
		return NULL;
	uint8_t *at = pl_pkt_data(p) + p->len;
	p->len += n;
	return at;
}

/* Grows the data at its front by @n bytes; returns the new start, or NULL if no room. */
PL_INLINE uint8_t *pl_pkt_prepend(struct pl_pkt *p, unsigned n)
{
	if (n > p->data_off)
		return NULL;
	p->data_off -= n;
	p->len += n;
	return pl_pkt_data(p);
}

/**
 * pl_pkt_pool_create() - a pool of @n packets, each with PL_PKT_HEADROOM + @data_room
 * bytes of buffer (@data_room 0: PL_PKT_DATA_ROOM, so a NIC can be told 2 KiB buffers),
 * mapped for the devices on @ctx (or none when NULL).
 */
PL_API struct pl_mempool *pl_pkt_pool_create(struct pl_iommu *ctx, const char *name, unsigned n,
					     unsigned data_room, unsigned cache_size);

PL_INLINE void pl__pkt_reset(struct pl_pkt *p)
{
	p->data_off = p->buf_len < PL_PKT_HEADROOM ? 0 : PL_PKT_HEADROOM;
	p->len = 0;
	p->port = UINT16_MAX;
	p->flags = 0;
}

/* @n packets, all or none, empty with the default headroom. 0, -ENOBUFS or -EPERM (fork). */
PL_INLINE int pl_pkt_alloc_bulk(struct pl_mempool *mp, struct pl_pkt **pkts, unsigned n)
{
	int ret = pl_mempool_get_bulk(mp, (void **)pkts, n);

	if (pl_unlikely(ret))
		return ret;
	for (unsigned i = 0; i < n; i++)
		pl__pkt_reset(pkts[i]);
	return 0;
}

PL_INLINE struct pl_pkt *pl_pkt_alloc(struct pl_mempool *mp)
{
	struct pl_pkt *p;

	return pl_pkt_alloc_bulk(mp, &p, 1) ? NULL : p;
}

/* Frees @n packets, each to its own pool (runs from one pool go back in one call). */
PL_INLINE void pl_pkt_free_bulk(struct pl_pkt **pkts, unsigned n)
{
	unsigned start = 0;

	for (unsigned i = 1; i <= n; i++)
		if (i == n || pkts[i]->pool != pkts[start]->pool) {
			pl_mempool_put_bulk(pkts[start]->pool, (void **)&pkts[start], i - start);
			start = i;
		}
}

PL_INLINE void pl_pkt_free(struct pl_pkt *p)
{
	pl_mempool_put(p->pool, p);
}

PL_END_DECLS

#endif
