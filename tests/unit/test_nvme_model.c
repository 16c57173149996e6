/*
 * The NVMe driver against the host-side controller model (tests/models/nvme_model.c):
 * data pointers, splitting, completions of split requests, shadow doorbells, resets and
 * asynchronous events, with the controller doing what a test bed's never does.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pollen/dma.h>
#include <pollen/log.h>
#include <pollen/nvme.h>

#include "nvme_model.h"

static struct pl_iommu *ctx;
static struct nvme_model *m;
static struct pl_nvme_ctrl *c;
static uint8_t *buf;		/* 4 MiB of DMA memory */
#define BUF_LEN (4u << 20)

static void bed_up(void)
{
	pl_log_set_level(PL_LOG_WARN);
	ctx = model_bed_open();
}

static void bed_down(void)
{
	if (buf)
		pl_dma_free(ctx, buf);
	buf = NULL;
	pl_nvme_close(c);
	c = NULL;
	model_bed_close();
}

TestSuite(nvme_model, .init = bed_up, .fini = bed_down, .timeout = 60);

/* Opens the controller the model plays, with a DMA buffer. */
static void open_ctrl(const struct pl_nvme_opts *opts)
{
	uint64_t iova;

	c = pl_nvme_open(ctx, "0000:00:02.0", opts);
	cr_assert_not_null(c, "open: %s", strerror(errno));
	cr_assert_not_null(buf = pl_dma_alloc(ctx, BUF_LEN, 0, &iova));
}

/* A controller as @conf says (NULL: the defaults), opened. */
static void open_model(const struct nvme_model_conf *conf, const struct pl_nvme_opts *opts)
{
	m = nvme_model_new(conf);
	open_ctrl(opts);
}

/* ---- by hand: commands fetched and completed as a test says ---- */

static struct model_dev *dev(void)
{
	return nvme_model_dev(m);
}

/* What the pair's doorbell handed over, after a kick. */
static unsigned fetch(struct pl_nvme_qpair *qp, struct nvme_sqe *out, unsigned max)
{
	pl_nvme_kick(qp);
	model_lock(dev());
	unsigned n = nvme_model_fetch(m, (uint16_t)pl_nvme_qpair_id(qp), out, max);
	model_unlock(dev());
	return n;
}

static void post(struct pl_nvme_qpair *qp, uint16_t cid, uint16_t status)
{
	model_lock(dev());
	int ret = nvme_model_post(m, (uint16_t)pl_nvme_qpair_id(qp), cid, status, 0);
	model_unlock(dev());
	cr_assert_eq(ret, 0, "posting CID %u: %d", cid, ret);
}

/* How often a request was called back, and how it ended the last time. */
struct rec {
	unsigned calls;
	struct pl_nvme_cpl cpl;
	struct pl_nvme_qpair *repoll;	/* the callback polls this pair again */
};

static void on_done(void *arg, const struct pl_nvme_cpl *cpl)
{
	struct rec *r = arg;

	r->calls++;
	r->cpl = *cpl;
	if (r->repoll)
		pl_nvme_poll(r->repoll, 0);
}

static struct pl_nvme_qpair *manual_pair(unsigned depth)
{
	struct nvme_model_conf mc = { .manual_io = true };

	open_model(&mc, NULL);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, &(struct pl_nvme_qpair_opts){
		.depth = depth });
	cr_assert_not_null(qp);
	return qp;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* ---- data pointers and splitting, against data the model holds ---- */

Test(nvme_model, opens_and_identifies)
{
	open_model(NULL, NULL);
	cr_expect_eq(pl_nvme_ns_count(c), 1);
	const struct pl_nvme_ns *ns = pl_nvme_ns(c, 1);
	cr_assert_not_null(ns);
	cr_expect_eq(ns->block_size, 512);
	cr_expect_eq(ns->blocks, 65536);
	cr_expect(ns->usable);
	cr_expect_eq(pl_nvme_max_transfer(c), 512u << 10, "MDTS 7 of 4 KiB pages");
	cr_expect_eq(pl_nvme_io_queues(c), 8);
}

/*
 * Every length from one block to past the transfer limit, at buffer offsets that put the
 * first page short: PRP1 alone, PRP1 and PRP2, PRP lists, and several commands.
 */
static void write_read_back(bool sgl)
{
	static const uint32_t blocks[] = { 1, 7, 8, 9, 16, 24, 100, 1024, 1025, 2500 };
	static const size_t offsets[] = { 0, 4, 512, 4092 };
	struct pl_nvme_opts o = { .sgl = sgl };
	struct nvme_model_conf mc = { .sgl = sgl };

	open_model(&mc, &o);
	cr_assert_eq(pl_nvme_sgl(c), sgl);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, NULL);
	cr_assert_not_null(qp);
	uint8_t *disk = nvme_model_ns_data(m, 0);
	uint64_t lba = 0;

	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		for (size_t j = 0; j < sizeof(offsets) / sizeof(offsets[0]); j++) {
			size_t len = blocks[i] * 512u;
			uint8_t *p = buf + offsets[j];

			fill(p, len, (unsigned)(i * 7 + j));
			cr_assert_eq(pl_nvme_write_sync(qp, 1, p, lba, blocks[i], NULL), 0,
				     "write of %u blocks at offset %zu", blocks[i], offsets[j]);
			cr_assert_eq(memcmp(disk + lba * 512, p, len), 0,
				     "the model holds what %u blocks from offset %zu said",
				     blocks[i], offsets[j]);
			memset(p, 0xee, len);
			cr_assert_eq(pl_nvme_read_sync(qp, 1, p, lba, blocks[i], NULL), 0);
			cr_assert_eq(memcmp(disk + lba * 512, p, len), 0, "read back");
			lba += blocks[i];
		}
	cr_expect_eq(model_dma_faults(), 0, "%s", model_last_fault());
	pl_nvme_qpair_destroy(qp);
}

Test(nvme_model, prps_move_every_length_at_every_offset)
{
	write_read_back(false);
}

Test(nvme_model, sgls_move_every_length_at_every_offset)
{
	write_read_back(true);
}

Test(nvme_model, write_zeroes_goes_out_in_pieces_of_64ki_blocks)
{
	struct nvme_model_conf mc = { .blocks = 1u << 18 };

	open_model(&mc, NULL);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, NULL);
	cr_assert_not_null(qp);
	uint8_t *disk = nvme_model_ns_data(m, 0);
	memset(disk, 0xa5, (size_t)512 << 18);
	unsigned before = nvme_model_stats(m)->io_cmds;
	struct rec r = { 0 };

	cr_assert_eq(pl_nvme_write_zeroes(qp, 1, 1000, 200000, on_done, &r), 0);
	while (!r.calls)
		cr_assert_geq(pl_nvme_poll(qp, 0), 0);
	cr_expect_eq(r.cpl.status, 0);
	cr_expect_eq(nvme_model_stats(m)->io_cmds - before, 4, "200000 blocks: 4 commands");
	for (size_t i = 0; i < (size_t)512 << 18; i++) {
		bool inside = i >= 1000 * 512 && i < 201000 * 512;
		if (disk[i] != (inside ? 0 : 0xa5))
			cr_assert_fail("byte %zu is 0x%02x", i, disk[i]);
	}
	cr_expect_eq(r.calls, 1);
	pl_nvme_qpair_destroy(qp);
}

/* ---- completions of requests in several commands ---- */

Test(nvme_model, a_split_request_completes_once_after_its_last_piece)
{
	struct pl_nvme_qpair *qp = manual_pair(16);
	struct nvme_sqe got[8];
	struct rec r = { 0 };

	/* 3000 blocks at 1024 a command (512 KiB): three pieces. */
	cr_assert_eq(pl_nvme_read(qp, 1, buf, 0, 3000, on_done, &r), 0);
	cr_assert_eq(fetch(qp, got, 8), 3);
	cr_expect_eq(got[0].cdw12 & 0xffff, 1023);
	cr_expect_eq(got[2].cdw12 & 0xffff, 3000 - 2048 - 1);
	cr_expect_eq(got[2].cdw10, 2048, "the third piece starts at LBA 2048");
	/* Out of order, the last one posted last. */
	post(qp, got[2].cid, 0);
	post(qp, got[0].cid, 0);
	cr_expect_eq(pl_nvme_poll(qp, 0), 0);
	cr_expect_eq(r.calls, 0, "called back with a piece still out");
	post(qp, got[1].cid, 0);
	cr_expect_eq(pl_nvme_poll(qp, 0), 1);
	cr_expect_eq(r.calls, 1);
	cr_expect_eq(r.cpl.status, 0);
	cr_expect_eq(pl_nvme_qpair_outstanding(qp), 0);
}

Test(nvme_model, a_split_request_names_its_failing_piece)
{
	struct pl_nvme_qpair *qp = manual_pair(16);
	struct nvme_sqe got[8];
	struct rec r = { 0 };

	cr_assert_eq(pl_nvme_write(qp, 1, buf, 100, 3000, on_done, &r), 0);
	cr_assert_eq(fetch(qp, got, 8), 3);
	post(qp, got[0].cid, 0);
	post(qp, got[1].cid, NVME_SCT_SC(NVME_SCT_MEDIA, 0x80));
	post(qp, got[2].cid, NVME_SCT_SC(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
	cr_expect_eq(pl_nvme_poll(qp, 0), 1);
	cr_assert_eq(r.calls, 1);
	cr_expect_eq(r.cpl.status, NVME_SCT_SC(NVME_SCT_MEDIA, 0x80), "the first error is kept");
	cr_expect_eq(r.cpl.lba, 100 + 1024);
	cr_expect_eq(r.cpl.blocks, 1024);
	cr_expect_eq(r.cpl.opcode, NVME_NVM_WRITE);
}

/*
 * A controller that posts one piece's completion twice must not complete the request
 * early, nor, once the CID is reused, complete someone else's.
 */
Test(nvme_model, a_duplicate_completion_completes_nothing)
{
	struct pl_nvme_qpair *qp = manual_pair(16);
	struct nvme_sqe got[8];
	struct rec r = { 0 }, r2 = { 0 };

	cr_assert_eq(pl_nvme_read(qp, 1, buf, 0, 2048, on_done, &r), 0);
	cr_assert_eq(fetch(qp, got, 8), 2);
	post(qp, got[0].cid, 0);
	post(qp, got[0].cid, 0);	/* again */
	pl_nvme_poll(qp, 0);
	cr_expect_eq(r.calls, 0, "completed with its second piece still out");
	post(qp, got[1].cid, 0);
	pl_nvme_poll(qp, 0);
	cr_expect_eq(r.calls, 1);

	/* The same CIDs go out again; a stale duplicate of the old ones must not match. */
	cr_assert_eq(pl_nvme_read(qp, 1, buf, 0, 2048, on_done, &r2), 0);
	struct nvme_sqe again[8];
	cr_assert_eq(fetch(qp, again, 8), 2);
	post(qp, got[1].cid, 0);
	post(qp, got[0].cid, 0);
	pl_nvme_poll(qp, 0);
	cr_expect_eq(r2.calls, 0, "a stale completion ended a request that reused its slot");
	post(qp, again[0].cid, 0);
	post(qp, again[1].cid, 0);
	pl_nvme_poll(qp, 0);
	cr_expect_eq(r2.calls, 1);
	cr_expect_eq(r.calls, 1);
	cr_expect_eq(pl_nvme_qpair_outstanding(qp), 0);
}

Test(nvme_model, completions_for_cids_never_sent_are_dropped)
{
	struct pl_nvme_qpair *qp = manual_pair(16);
	struct nvme_sqe got[2];
	struct rec r = { 0 };

	cr_assert_eq(pl_nvme_read(qp, 1, buf, 0, 8, on_done, &r), 0);
	cr_assert_eq(fetch(qp, got, 2), 1);
	static const uint16_t bogus[] = { 15, 16, 1000, 0xfff, 0xffff };
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++)
		if (bogus[i] != got[0].cid)
			post(qp, bogus[i], 0);
	pl_nvme_poll(qp, 0);
	cr_expect_eq(r.calls, 0);
	cr_expect_eq(pl_nvme_qpair_outstanding(qp), 1);
	post(qp, got[0].cid, 0);
	cr_expect_eq(pl_nvme_poll(qp, 0), 1);
	cr_expect_eq(r.calls, 1);
}

Test(nvme_model, write_zeroes_too_long_for_the_pair_is_refused)
{
	m = nvme_model_new(&(struct nvme_model_conf){ .manual_io = true });
	/* A namespace as large as the count needs: the model's data stays small. */
	nvme_model_id_ns(m, 0)->nsze = 1ull << 33;
	open_ctrl(NULL);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, NULL);
	static struct rec r;	/* outlives the test, should the pair end it at close */
	cr_assert_not_null(qp);

	/* 0xffff0001 blocks at 65536 a command: 65536 commands, which wrapped to none. */
	cr_expect_eq(pl_nvme_write_zeroes(qp, 1, 0, 0xffff0001u, on_done, &r), -EINVAL);
	cr_expect_eq(pl_nvme_write_zeroes(qp, 1, 0, 0xffffffffu, on_done, &r), -EINVAL);
	cr_expect_eq(pl_nvme_qpair_outstanding(qp), 0);
	struct nvme_sqe got[4];
	cr_expect_eq(fetch(qp, got, 4), 0);
}

/* ---- resets ---- */

/*
 * Eight reads out, three completed before the reset and never reaped: after it, the
 * three end as done and the five as reset, each called back once, even by a callback
 * that polls again; the pair then works.
 */
static void reset_ends_each_once(bool repoll)
{
	struct pl_nvme_qpair *qp = manual_pair(16);
	struct nvme_sqe got[8];
	struct rec r[8] = { 0 };

	for (unsigned i = 0; i < 8; i++) {
		r[i].repoll = repoll ? qp : NULL;
		cr_assert_eq(pl_nvme_read(qp, 1, buf + i * 4096, i * 8, 8, on_done, &r[i]), 0);
	}
	cr_assert_eq(fetch(qp, got, 8), 8);
	for (unsigned i = 0; i < 3; i++)
		post(qp, got[i].cid, 0);
	cr_assert_eq(pl_nvme_reset(c), 0);
	cr_expect(pl_nvme_poll(qp, 0) >= 0);
	unsigned reset = 0, done = 0;
	for (unsigned i = 0; i < 8; i++) {
		cr_expect_eq(r[i].calls, 1, "read %u called back %u times", i, r[i].calls);
		reset += r[i].cpl.status == PL_NVME_SC_RESET;
		done += r[i].cpl.status == 0;
	}
	cr_expect_eq(done, 3);
	cr_expect_eq(reset, 5);
	cr_expect_eq(pl_nvme_resets(c), 1);
	cr_expect(nvme_model_queue_live(m, (uint16_t)pl_nvme_qpair_id(qp)), "made again");

	struct rec after = { 0 };
	cr_assert_eq(pl_nvme_read(qp, 1, buf, 0, 8, on_done, &after), 0);
	cr_assert_eq(fetch(qp, got, 8), 1);
	post(qp, got[0].cid, 0);
	cr_expect_eq(pl_nvme_poll(qp, 0), 1);
	cr_expect_eq(after.calls, 1);
}

Test(nvme_model, a_reset_ends_each_request_once)
{
	reset_ends_each_once(false);
}

Test(nvme_model, a_reset_ends_each_request_once_when_callbacks_poll)
{
	reset_ends_each_once(true);
}

Test(nvme_model, fatal_status_is_seen_by_a_poller_and_reset)
{
	struct pl_nvme_qpair *qp = manual_pair(16);
	struct nvme_sqe got[2];
	struct rec r = { 0 };

	cr_assert_eq(pl_nvme_read(qp, 1, buf, 0, 8, on_done, &r), 0);
	cr_assert_eq(fetch(qp, got, 2), 1);
	model_lock(dev());
	nvme_model_fail(m, true);
	model_unlock(dev());
	/* The poller reads CSTS once per 4096 empty polls. */
	for (unsigned i = 0; i < 20000 && !r.calls; i++)
		cr_assert_geq(pl_nvme_poll(qp, 0), 0);
	cr_expect_eq(r.calls, 1);
	cr_expect_eq(r.cpl.status, PL_NVME_SC_RESET);
	cr_expect_eq(pl_nvme_resets(c), 1);
	cr_expect_not(pl_nvme_failed(c));
}

/* ---- shadow doorbells ---- */

/* One read, fetched and completed by hand; the MMIO tail doorbell as it stands after. */
static uint32_t one_read(struct pl_nvme_qpair *qp)
{
	struct nvme_sqe got[2];
	struct rec r = { 0 };

	cr_assert_eq(pl_nvme_read(qp, 1, buf, 0, 8, on_done, &r), 0);
	cr_assert_eq(fetch(qp, got, 2), 1, "the model took it from the shadow doorbell");
	post(qp, got[0].cid, 0);
	cr_assert_eq(pl_nvme_poll(qp, 0), 1);
	model_lock(dev());
	uint32_t db = nvme_model_stats(m)->last_sq_db[pl_nvme_qpair_id(qp)];
	model_unlock(dev());
	return db;
}

Test(nvme_model, shadow_doorbells_write_mmio_only_past_the_event_index)
{
	struct nvme_model_conf mc = { .dbbuf = true, .manual_io = true };
	struct pl_nvme_opts o = { .shadow_doorbells = true };

	open_model(&mc, &o);
	cr_assert(pl_nvme_shadow_doorbells(c));
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, NULL);
	cr_assert_not_null(qp);

	/* The event index at the tail it took: every new tail passes it, MMIO each time. */
	cr_expect_eq(one_read(qp), 1);
	cr_expect_eq(one_read(qp), 2);
	model_lock(dev());
	nvme_model_knobs(m)->sq_ei_ahead = 100;
	model_unlock(dev());
	/* The model moves the index ahead at its next fetch; from then on, shadow only. */
	cr_expect_eq(one_read(qp), 3);
	for (unsigned i = 0; i < 5; i++)
		cr_expect_eq(one_read(qp), 3, "read %u: an MMIO write with the index ahead", i);
	model_lock(dev());
	nvme_model_knobs(m)->sq_ei_ahead = 0;
	model_unlock(dev());
	/* The index comes back behind the tail at the next fetch: MMIO again after that. */
	one_read(qp);
	cr_expect_eq(one_read(qp), 10);
	pl_nvme_qpair_destroy(qp);
}

/* ---- asynchronous events ---- */

struct events {
	unsigned n;
	struct pl_nvme_event last;
	uint8_t warning;
	bool close;		/* the callback closes the controller */
};

static void on_event(void *arg, const struct pl_nvme_event *ev)
{
	struct events *e = arg;

	e->n++;
	e->last = *ev;
	if (ev->log && ev->lid == NVME_LOG_SMART)
		e->warning = ((const struct nvme_smart_log *)ev->log)->critical_warning;
	if (e->close) {
		pl_nvme_close(c);
		c = NULL;
	}
}

static int aer(uint32_t dw0)
{
	model_lock(dev());
	int ret = nvme_model_aer(m, dw0, 0);
	model_unlock(dev());
	return ret;
}

static unsigned aers_held(uint16_t *cids)
{
	model_lock(dev());
	unsigned n = nvme_model_aers(m, cids);
	model_unlock(dev());
	return n;
}

/*
 * AERs go out without a wait for them: the model takes them in on its runner, a thread
 * that two emulators beside this suite can keep off a core for a long time: 20 s.
 */
static unsigned wait_aers(unsigned n, uint16_t *cids)
{
	for (unsigned i = 0; i < 40000 && aers_held(NULL) < n; i++)
		usleep(500);
	usleep(2000);	/* and no more than that come */
	return aers_held(cids);
}

#define SMART_EVENT (NVME_AER_SMART | NVME_AER_SMART_RELIABILITY << 8 | NVME_LOG_SMART << 16)

Test(nvme_model, an_event_reads_its_log_and_arms_again_with_cids_not_out)
{
	struct events e = { 0 };
	uint16_t cids[NVME_MODEL_MAX_AERS];

	open_model(NULL, NULL);
	pl_nvme_set_event_cb(c, on_event, &e);
	cr_assert_eq(wait_aers(4, NULL), 4, "AERL 3: four kept outstanding");
	nvme_model_smart(m)->critical_warning = NVME_SMART_CRIT_RELIABILITY;
	for (unsigned round = 0; round < 6; round++) {
		cr_assert_eq(aer(SMART_EVENT), 0);
		cr_expect_eq(pl_nvme_poll_admin(c), 1);
		unsigned n = wait_aers(4, cids);
		cr_expect_eq(n, 4, "armed again");
		for (unsigned i = 0; i < n; i++)
			for (unsigned j = i + 1; j < n; j++)
				cr_expect_neq(cids[i], cids[j], "two AERs out with CID 0x%x", cids[i]);
	}
	cr_expect_eq(e.n, 6);
	cr_expect_eq(e.last.type, NVME_AER_SMART);
	cr_expect_eq(e.warning, NVME_SMART_CRIT_RELIABILITY);
	cr_expect_eq(nvme_model_stats(m)->cid_conflicts, 0);
}

Test(nvme_model, a_small_admin_queue_keeps_room_for_commands_and_events)
{
	for (unsigned depth = 2; depth <= 5; depth++) {
		struct events e = { 0 };
		char name[16];

		snprintf(name, sizeof(name), "0000:00:%02x.0", 2 + depth);
		m = nvme_model_new(&(struct nvme_model_conf){ .addr = name });
		c = pl_nvme_open(ctx, name, &(struct pl_nvme_opts){ .admin_depth = depth });
		cr_assert_not_null(c, "admin depth %u", depth);
		pl_nvme_set_event_cb(c, on_event, &e);
		unsigned held = wait_aers(depth - 2, NULL);
		cr_expect_eq(held, depth - 2 < 4 ? depth - 2 : 4,
			     "depth %u: AERs leave a command and an empty entry", depth);
		for (unsigned i = 0; i < 3; i++) {
			struct nvme_sqe cmd = { .opcode = NVME_ADMIN_GET_FEATURES,
						.cdw10 = NVME_FEAT_NUM_QUEUES };
			cr_expect_eq(pl_nvme_admin(c, &cmd, NULL, 0, NULL), 0,
				     "depth %u: admin command %u", depth, i);
		}
		if (held) {
			cr_assert_eq(aer(SMART_EVENT), 0);
			cr_expect_eq(pl_nvme_poll_admin(c), 1, "depth %u", depth);
			cr_expect_eq(wait_aers(held, NULL), held);
		}
		cr_expect_eq(nvme_model_stats(m)->cid_conflicts, 0);
		pl_nvme_close(c);
		c = NULL;
	}
}

/* The callback may close the controller: the rest of the poll must not touch it. */
Test(nvme_model, an_event_callback_may_close_the_controller)
{
	struct events e = { .close = true };

	open_model(NULL, NULL);
	pl_dma_free(ctx, buf);
	buf = NULL;
	pl_nvme_set_event_cb(c, on_event, &e);
	cr_assert_eq(wait_aers(4, NULL), 4);
	cr_assert_eq(aer(SMART_EVENT), 0);
	cr_assert_eq(aer(SMART_EVENT), 0);
	struct pl_nvme_ctrl *was = c;
	cr_expect_eq(pl_nvme_poll_admin(was), 2);
	cr_expect_null(c);
	cr_expect_eq(e.n, 1, "no event delivered after the close");
	cr_expect_eq(nvme_model_stats(m)->shutdowns, 1, "closed, and shut down");
}

/* ---- what Identify says, bounded ---- */

Test(nvme_model, block_sizes_outside_512_to_64k_are_refused)
{
	static const uint8_t lbads[] = { 0, 8, 17, 31, 32, 63, 64, 200 };

	for (size_t i = 0; i < sizeof(lbads) / sizeof(lbads[0]); i++) {
		char name[16];

		snprintf(name, sizeof(name), "0000:00:%02zx.0", 3 + i);
		m = nvme_model_new(&(struct nvme_model_conf){ .addr = name, .manual_io = true });
		nvme_model_id_ns(m, 0)->lbaf[0].lbads = lbads[i];
		c = pl_nvme_open(ctx, name, NULL);
		cr_assert_not_null(c, "LBADS %u", lbads[i]);
		const struct pl_nvme_ns *ns = pl_nvme_ns(c, 1);
		cr_assert_not_null(ns);
		cr_expect_not(ns->usable, "LBADS %u: usable, block size %u", lbads[i],
			      ns->block_size);
		struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, NULL);
		uint64_t iova;
		void *b = pl_dma_alloc(ctx, 4096, PL_DMA_4K, &iova);
		cr_expect_lt(pl_nvme_read(qp, 1, b, 0, 1, NULL, NULL), 0, "LBADS %u", lbads[i]);
		pl_dma_free(ctx, b);
		pl_nvme_qpair_destroy(qp);
		pl_nvme_close(c);
		c = NULL;
	}
}

Test(nvme_model, any_mdts_gives_a_transfer_limit_that_works)
{
	static const uint8_t mdts[] = { 1, 5, 8, 9, 10, 20, 51, 52, 63, 64, 255 };

	for (size_t i = 0; i < sizeof(mdts) / sizeof(mdts[0]); i++) {
		char name[16];

		snprintf(name, sizeof(name), "0000:00:%02zx.0", 3 + i);
		m = nvme_model_new(&(struct nvme_model_conf){ .addr = name });
		nvme_model_id_ctrl(m)->mdts = mdts[i];
		c = pl_nvme_open(ctx, name, NULL);
		cr_assert_not_null(c, "MDTS %u", mdts[i]);
		size_t want = mdts[i] < 9 ? 4096u << mdts[i] : 2u << 20;
		cr_expect_eq(pl_nvme_max_transfer(c), want, "MDTS %u: %zu", mdts[i],
			     pl_nvme_max_transfer(c));
		cr_expect(pl_nvme_ns(c, 1)->usable, "MDTS %u", mdts[i]);
		struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, &(struct pl_nvme_qpair_opts){
			.depth = 1000 });
		uint64_t iova;
		uint8_t *b = pl_dma_alloc(ctx, 4u << 20, 0, &iova);
		cr_assert_not_null(qp);
		fill(b, 3u << 20, (unsigned)i);
		cr_expect_eq(pl_nvme_write_sync(qp, 1, b, 0, 6144, NULL), 0, "MDTS %u", mdts[i]);
		cr_expect_eq(memcmp(nvme_model_ns_data(m, 0), b, 3u << 20), 0);
		pl_dma_free(ctx, b);
		pl_nvme_qpair_destroy(qp);
		pl_nvme_close(c);
		c = NULL;
	}
}

/* ---- close ---- */

static char shutdown_line[256];

static void keep_shutdown_line(enum pl_log_level l, const char *line)
{
	(void)l;
	if (strstr(line, "shutting down"))
		snprintf(shutdown_line, sizeof(shutdown_line), "%s", line);
}

/* RTD3E may say 71 minutes; close waits what Linux would at most (60 s), at least 5 s. */
Test(nvme_model, the_shutdown_wait_is_clamped)
{
	static const struct {
		uint32_t rtd3e;
		const char *wait;
	} cases[] = {
		{ UINT32_MAX, "up to 60000 ms" }, { 100000000, "up to 60000 ms" },
		{ 8000000, "up to 8001 ms" }, { 1000, "up to 5000 ms" }, { 0, "up to 10000 ms" },
	};

	pl_log_set_handler(keep_shutdown_line);
	pl_log_set_level(PL_LOG_DEBUG);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[16];

		snprintf(name, sizeof(name), "0000:00:%02zx.0", 3 + i);
		m = nvme_model_new(&(struct nvme_model_conf){ .addr = name });
		nvme_model_id_ctrl(m)->rtd3e = cases[i].rtd3e;
		c = pl_nvme_open(ctx, name, NULL);
		cr_assert_not_null(c);
		shutdown_line[0] = 0;
		pl_nvme_close(c);
		c = NULL;
		cr_expect(strstr(shutdown_line, cases[i].wait), "RTD3E %u us: '%s'", cases[i].rtd3e,
			  shutdown_line);
		cr_expect_eq(nvme_model_stats(m)->shutdowns, 1);
	}
	pl_log_set_handler(NULL);
}

/*
 * Close frees the admin queues' memory. A controller shut down is still enabled, with
 * AERs outstanding: bus mastering goes off first, else the device may fetch from or post
 * into that memory once it is unmapped, or mapped again for someone else (a fuzzer
 * found the model fetching an admin entry from freed memory this way).
 */
Test(nvme_model, close_unmaps_nothing_the_controller_can_still_reach)
{
	open_model(NULL, NULL);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, &(struct pl_nvme_qpair_opts){ .depth = 8 });
	cr_assert_not_null(qp);
	pl_nvme_qpair_destroy(qp);
	pl_nvme_close(c);
	c = NULL;
	cr_expect_eq(model_dma_faults(), 0, "%s", model_last_fault());
}

/*
 * Only pl_nvme_poll() brings a pair back after a reset: a submit before it is refused
 * with -EAGAIN (poll, then submit again) and reaches nothing; after the poll it goes out.
 */
Test(nvme_model, a_submit_on_a_pair_a_reset_made_stale_waits_for_the_poll)
{
	struct pl_nvme_qpair *qp = manual_pair(16);
	struct nvme_sqe got[2];
	struct rec r = { 0 };

	cr_assert_eq(pl_nvme_reset(c), 0);
	cr_expect_eq(pl_nvme_read(qp, 1, buf, 0, 8, on_done, &r), -EAGAIN);
	cr_expect_eq(pl_nvme_qpair_outstanding(qp), 0);
	cr_expect_eq(pl_nvme_poll(qp, 0), 0);
	cr_assert(nvme_model_queue_live(m, (uint16_t)pl_nvme_qpair_id(qp)), "made again by the poll");
	cr_assert_eq(pl_nvme_read(qp, 1, buf, 0, 8, on_done, &r), 0);
	cr_assert_eq(fetch(qp, got, 2), 1);
	post(qp, got[0].cid, 0);
	cr_expect_eq(pl_nvme_poll(qp, 0), 1);
	cr_expect_eq(r.calls, 1);
	cr_expect_eq(r.cpl.status, 0);
}
