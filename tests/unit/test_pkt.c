/* pl_pkt: buffers laid out for a NIC, reset on allocation, freed to their own pools. */
#include <criterion/criterion.h>
#include <string.h>

#include <pollen/pkt.h>

#include "hugepages.h"

Test(pkt, layout_and_defaults)
{
	need_hugepages(2);
	struct pl_mempool *mp = pl_pkt_pool_create(NULL, "pkts", 512, 0, 32);
	struct pl_pkt *p[4];

	cr_assert_not_null(mp);
	cr_expect_eq(mp->elt_size, 64 + 128 + 2048, "a line of header, headroom, 2 KiB of room");
	cr_assert_eq(pl_pkt_alloc_bulk(mp, p, 4), 0);
	for (int i = 0; i < 4; i++) {
		cr_expect_eq(p[i]->pool, mp);
		cr_expect_eq(p[i]->buf_len, PL_PKT_HEADROOM + 2048);
		cr_expect_eq(pl_pkt_headroom(p[i]), PL_PKT_HEADROOM);
		cr_expect_eq(p[i]->len, 0);
		cr_expect_eq(pl_pkt_tailroom(p[i]), 2048, "a NIC can be given 2 KiB buffers");
		cr_expect_eq((uintptr_t)pl_pkt_data(p[i]) % 64, 0, "data starts a cache line");
		cr_expect_eq(p[i]->buf_iova, PL_IOVA_BAD, "an unmapped pool has no IOVAs");
	}
	pl_pkt_free_bulk(p, 4);
	pl_mempool_free(mp);
}

Test(pkt, append_prepend_and_reset)
{
	need_hugepages(1);
	struct pl_mempool *mp = pl_pkt_pool_create(NULL, "pkts", 8, 256, 0);
	struct pl_pkt *p = pl_pkt_alloc(mp);

	cr_assert_not_null(p);
	uint8_t *d = pl_pkt_append(p, 100);
	cr_assert_not_null(d);
	memset(d, 0xab, 100);
	cr_expect_eq(p->len, 100);
	uint8_t *h = pl_pkt_prepend(p, 14);
	cr_assert_eq(h, d - 14);
	cr_expect_eq(p->len, 114);
	cr_expect_null(pl_pkt_append(p, 256 - 100 + 1), "past the tailroom");
	cr_expect_not_null(pl_pkt_append(p, 0));
	cr_expect_null(pl_pkt_prepend(p, PL_PKT_HEADROOM), "past the headroom");
	p->port = 3;
	pl_pkt_free(p);
	/* The same buffer comes back empty. */
	struct pl_pkt *q = pl_pkt_alloc(mp);
	cr_assert_not_null(q);
	cr_expect_eq(q->len, 0);
	cr_expect_eq(q->data_off, PL_PKT_HEADROOM);
	cr_expect_eq(q->port, UINT16_MAX);
	pl_pkt_free(q);
	pl_mempool_free(mp);
}

Test(pkt, free_bulk_sends_each_packet_home)
{
	need_hugepages(2);
	struct pl_mempool *a = pl_pkt_pool_create(NULL, "a", 16, 0, 0);
	struct pl_mempool *b = pl_pkt_pool_create(NULL, "b", 16, 0, 0);
	struct pl_pkt *p[6];

	cr_assert_not_null(a);
	cr_assert_not_null(b);
	for (int i = 0; i < 6; i++)
		cr_assert_not_null(p[i] = pl_pkt_alloc(i % 3 == 0 ? a : b));
	pl_pkt_free_bulk(p, 6);
	cr_expect_eq(pl_ring_count(a->ring), 16);
	cr_expect_eq(pl_ring_count(b->ring), 16);
	pl_mempool_free(a);
	pl_mempool_free(b);
}
