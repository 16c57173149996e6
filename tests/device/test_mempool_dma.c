/* Pools mapped for a device: every object's IOVA is its address's, by arithmetic. */
#include <errno.h>
#include <string.h>

#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/mempool.h>
#include <pollen/pkt.h>
#include <pollen/vfio.h>

#include "testbed.h"

TESTBED_TEST(mempool_dma, every_object_knows_its_iova, "e1000")
{
	struct pl_iommu *ctx = tb.ctx;
	struct pl_mempool *mp = pl_pkt_pool_create(ctx, "rx", 4096, 0, 64);
	cr_assert_not_null(mp, "%s", strerror(errno));

	static struct pl_pkt *p[4096];
	cr_assert_eq(pl_pkt_alloc_bulk(mp, p, 4096), 0);
	for (int i = 0; i < 4096; i++) {
		uint64_t want = pl_dma_iova(ctx, p[i]->buf);
		cr_assert_neq(want, PL_IOVA_BAD, "packet %d is outside every DMA region", i);
		cr_assert_eq(p[i]->buf_iova, want, "packet %d: buf_iova 0x%llx, the region says 0x%llx",
			     i, (unsigned long long)p[i]->buf_iova, (unsigned long long)want);
		cr_assert_eq(pl_pkt_data_iova(p[i]), pl_dma_iova(ctx, pl_pkt_data(p[i])));
		testbed_expect_in_ranges(ctx, want, p[i]->buf_len);
	}
	pl_pkt_free_bulk(p, 4096);
	pl_mempool_free(mp);
	cr_expect_eq(pl_dma_iova(ctx, p[0]), PL_IOVA_BAD, "the pool's mapping outlived it");
}
