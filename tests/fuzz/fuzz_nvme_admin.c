/*
 * What an NVMe controller says of itself, as the input says it: Identify Controller and
 * Namespace data, the SMART and error log pages, AER results, and the admin queue's
 * depth. The driver must open or refuse cleanly, never take a block size or transfer
 * limit it cannot use, never point the device outside its own buffers, and deliver
 * each event with a log page it can read whole.
 */
#include <pollen/dma.h>
#include <pollen/log.h>
#include <pollen/nvme.h>

#include "fuzz.h"
#include "nvme_model.h"

static struct {
	struct pl_iommu *ctx;
	struct nvme_model *m;
	uint8_t *buf;
	unsigned events;
} s;

static volatile uint8_t sink;

static void on_event(void *arg, const struct pl_nvme_event *ev)
{
	(void)arg;
	FUZZ_CHECK(ev->log_len <= 4096 && (ev->log || !ev->log_len), "a log of %zu bytes",
		   ev->log_len);
	for (size_t i = 0; i < ev->log_len; i++)	/* all of it readable */
		sink += ((const uint8_t *)ev->log)[i];
	s.events++;
}

static void check_ctrl(struct pl_nvme_ctrl *c)
{
	size_t xfer = pl_nvme_max_transfer(c);

	FUZZ_CHECK(xfer >= 4096 && xfer <= (2u << 20) && !(xfer & (xfer - 1)),
		   "a transfer limit of %zu bytes", xfer);
	for (unsigned i = 0; i < pl_nvme_ns_count(c); i++) {
		const struct pl_nvme_ns *ns = pl_nvme_ns_at(c, i);
		unsigned bs = ns->block_size;

		if (ns->usable)
			FUZZ_CHECK(bs >= 512 && bs <= 65536 && !(bs & (bs - 1)) && bs <= xfer,
				   "namespace %u usable with blocks of %u bytes", ns->nsid, bs);
	}
}

/* One block written and read back on the first usable namespace: it ends, one way or another. */
static void some_io(struct pl_nvme_ctrl *c)
{
	const struct pl_nvme_ns *ns = NULL;

	for (unsigned i = 0; i < pl_nvme_ns_count(c) && !ns; i++)
		if (pl_nvme_ns_at(c, i)->usable && pl_nvme_ns_at(c, i)->blocks)
			ns = pl_nvme_ns_at(c, i);
	if (!ns)
		return;
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, &(struct pl_nvme_qpair_opts){
		.depth = 8, .timeout_ms = 200 });
	if (!qp)
		return;
	uint16_t st;
	pl_nvme_write_sync(qp, ns->nsid, s.buf, 0, 1, &st);
	pl_nvme_read_sync(qp, ns->nsid, s.buf, 0, 1, &st);
	pl_nvme_qpair_destroy(qp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint64_t iova;

	if (!s.ctx) {
		pl_log_set_level(PL_LOG_ERR);
		s.ctx = model_bed_open();
		s.m = nvme_model_new(&(struct nvme_model_conf){ .nns = 2 });
		if (!(s.buf = pl_dma_alloc(s.ctx, 2u << 20, 0, &iova)))
			abort();
	}
	struct model_dev *d = nvme_model_dev(s.m);
	uint8_t flags = fuzz_u8(&in);
	struct pl_nvme_opts o = {
		.admin_depth = 2 + fuzz_u8(&in) % 63,
		.io_queues = 1 + (flags & 3),
		.sgl = flags & 4,
		.shadow_doorbells = flags & 8,
	};
	/* What the model answers, changed whole where the input reaches. */
	model_lock(d);
	fuzz_bytes(&in, nvme_model_id_ctrl(s.m), flags & 16 ? 4096 : 600);
	fuzz_bytes(&in, nvme_model_id_ns(s.m, 0), flags & 32 ? 4096 : 200);
	fuzz_bytes(&in, nvme_model_id_ns(s.m, 1), 200);
	fuzz_bytes(&in, nvme_model_smart(s.m), 512);
	fuzz_bytes(&in, nvme_model_error_log(s.m), 256);
	model_unlock(d);
	model_clear_faults();

	struct pl_nvme_ctrl *c = pl_nvme_open(s.ctx, "0000:00:02.0", &o);
	if (c) {
		check_ctrl(c);
		pl_nvme_set_event_cb(c, on_event, NULL);
		if (flags & 64)
			some_io(c);
		uint8_t page[4096];
		pl_nvme_get_log(c, NVME_LOG_SMART, NVME_NSID_ALL, page, 512, false);
		pl_nvme_get_log(c, NVME_LOG_ERROR, NVME_NSID_ALL, page, 4096, false);
		/* The AERs it holds end with what the input says, then are polled. */
		for (unsigned n = fuzz_u8(&in) % 6; n; n--) {
			uint32_t dw0 = fuzz_u32(&in);
			uint16_t st = fuzz_u8(&in) < 32 ? fuzz_u16(&in) & 0x7ff : 0;

			model_lock(d);
			nvme_model_aer(s.m, dw0, st);
			model_unlock(d);
			FUZZ_CHECK(pl_nvme_poll_admin(c) >= 0 || pl_nvme_failed(c), "poll_admin");
		}
		pl_nvme_close(c);
	}
	FUZZ_CHECK(!model_dma_faults(), "the device was pointed outside the buffers: %s",
		   model_last_fault());
	return 0;
}
