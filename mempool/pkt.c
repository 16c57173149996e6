/* Packet pools: a mempool whose objects are pl_pkt headers with their buffers. */
#include <pollen/log.h>
#include <pollen/pkt.h>

#include <string.h>

static void pkt_init(struct pl_mempool *mp, void *obj, unsigned idx, void *arg)
{
	struct pl_pkt *p = obj;
	unsigned data_room = *(unsigned *)arg;

	(void)idx;
	memset(p, 0, sizeof(*p));
	p->pool = mp;
	p->buf_len = data_room;
	/* The pool is mapped before its objects are made: the IOVA is known here, once. */
	p->buf_iova = pl_mempool_iova(mp, p->buf);
	pl__pkt_reset(p);
}

struct pl_mempool *pl_pkt_pool_create(struct pl_iommu *ctx, const char *name, unsigned n,
				      unsigned data_room, unsigned cache_size)
{
	if (!data_room)
		data_room = PL_PKT_DATA_ROOM;
	if (data_room > UINT16_MAX - PL_PKT_HEADROOM) {
		pl_err("packet pool %s: a data room of %u bytes: at most %u", name, data_room,
		       UINT16_MAX - PL_PKT_HEADROOM);
		errno = EINVAL;
		return NULL;
	}
	data_room += PL_PKT_HEADROOM;
	struct pl_mempool_params p = {
		.name = name,
		.n = n,
		.obj_size = sizeof(struct pl_pkt) + data_room,
		.cache_size = cache_size,
		.obj_init = pkt_init,
		.obj_init_arg = &data_room,
	};
	return pl_mempool_create(ctx, &p);
}
