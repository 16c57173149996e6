/*
 * The block interface's PMD back end on the host NVMe model: opened on a caller's
 * context, what it refuses of a namespace's size, and I/O across a reset whose
 * callbacks poll again.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <pollen/blk.h>
#include <pollen/log.h>
#include <pollen/nvme.h>

#include "nvme_model.h"

static struct pl_iommu *ctx;
static struct pl_blk *b;

static void bed_up(void)
{
	pl_log_set_level(PL_LOG_ERR);
	ctx = model_bed_open();
}

static void bed_down(void)
{
	pl_blk_close(b);
	b = NULL;
	model_bed_close();
}

TestSuite(blk_model, .init = bed_up, .fini = bed_down, .timeout = 60);

static struct pl_blk *open_blk(void)
{
	struct pl_blk_opts o = { .ctx = ctx, .queues = 2 };

	return pl_blk_open("0000:00:02.0", &o);
}

struct done {
	unsigned calls;
	int err;
	struct pl_blk_queue *repoll;	/* the callback polls this queue again */
};

static void on_done(void *arg, const struct pl_blk_cpl *cpl)
{
	struct done *d = arg;

	d->calls++;
	d->err = cpl->err;
	if (d->repoll)
		pl_blk_poll(d->repoll, 0);
}

static void run(struct pl_blk_queue *q, struct done *d)
{
	while (!d->calls)
		cr_assert_geq(pl_blk_poll(q, 0), 0);
}

Test(blk_model, opens_on_the_callers_context_and_moves_data)
{
	nvme_model_new(NULL);
	cr_assert_not_null(b = open_blk());
	cr_expect_eq(pl_blk_block_size(b), 512);
	cr_expect_eq(pl_blk_max_queues(b), 2, "the controller was asked for two");
	char *buf = pl_blk_buf_alloc(b, 1u << 20);
	struct pl_blk_queue *q = pl_blk_queue_create(b, 8);
	cr_assert(buf && q);
	for (unsigned i = 0; i < 8192; i++)
		buf[i] = (char)(i * 7);
	struct done w = { 0 }, r = { 0 };
	cr_assert_eq(pl_blk_write(q, buf, 4096, 8192, on_done, &w), 0);
	run(q, &w);
	memset(buf, 0, 8192);
	cr_assert_eq(pl_blk_read(q, buf, 4096, 8192, on_done, &r), 0);
	run(q, &r);
	cr_expect_eq(w.err, 0);
	cr_expect_eq(r.err, 0);
	for (unsigned i = 0; i < 8192; i++)
		if (buf[i] != (char)(i * 7))
			cr_assert_fail("byte %u read back as 0x%02x", i, (uint8_t)buf[i]);
	pl_blk_queue_destroy(q);
	pl_blk_buf_free(b, buf);
}

/* NSZE is the device's word: a size past 2^64 bytes would wrap every bound on it. */
Test(blk_model, a_namespace_larger_than_64_bits_of_bytes_is_refused)
{
	struct nvme_model *m = nvme_model_new(NULL);

	nvme_model_id_ns(m, 0)->nsze = UINT64_MAX / 256;
	errno = 0;
	cr_expect_null(b = open_blk());
	cr_expect_eq(errno, EINVAL);
}

/*
 * Eight I/Os across a reset, their callbacks polling the queue again: each ends once,
 * and the queue's request slots are all free after (a slot pushed twice overran them).
 */
Test(blk_model, io_across_a_reset_ends_once_with_callbacks_that_poll)
{
	struct nvme_model *m = nvme_model_new(&(struct nvme_model_conf){ .manual_io = true });
	struct done d[8] = { 0 };
	struct nvme_sqe got[8];

	cr_assert_not_null(b = open_blk());
	char *buf = pl_blk_buf_alloc(b, 1u << 20);
	struct pl_blk_queue *q = pl_blk_queue_create(b, 8);
	cr_assert(buf && q);
	for (unsigned i = 0; i < 8; i++) {
		d[i].repoll = q;
		cr_assert_eq(pl_blk_read(q, buf + i * 4096, i * 4096, 4096, on_done, &d[i]), 0);
	}
	pl_blk_kick(q);
	model_lock(nvme_model_dev(m));
	cr_assert_eq(nvme_model_fetch(m, 1, got, 8), 8);
	model_unlock(nvme_model_dev(m));
	cr_assert_eq(pl_nvme_reset(pl_blk_nvme(b)), 0);
	pl_blk_poll(q, 0);
	for (unsigned i = 0; i < 8; i++) {
		cr_expect_eq(d[i].calls, 1, "I/O %u ended %u times", i, d[i].calls);
		cr_expect_eq(d[i].err, -ECANCELED);
	}
	cr_expect_eq(pl_blk_outstanding(q), 0);
	/* All eight slots again, and no ninth: the queue takes 8 and refuses the next. */
	struct done again[9] = { 0 };
	for (unsigned i = 0; i < 8; i++)
		cr_expect_eq(pl_blk_read(q, buf, 0, 4096, on_done, &again[i]), 0, "I/O %u", i);
	cr_expect_eq(pl_blk_read(q, buf, 0, 4096, on_done, &again[8]), -EAGAIN);
	pl_blk_kick(q);
	model_lock(nvme_model_dev(m));
	unsigned n = nvme_model_fetch(m, 1, got, 8);
	for (unsigned i = 0; i < n; i++)
		nvme_model_post(m, 1, got[i].cid, 0, 0);
	model_unlock(nvme_model_dev(m));
	cr_expect_eq(n, 8);
	while (pl_blk_outstanding(q))
		pl_blk_poll(q, 0);
	pl_blk_queue_destroy(q);
	pl_blk_buf_free(b, buf);
}
