/*
 * The NVMe completion path against a controller that posts whatever the input says:
 * completions for commands it has (in any order, with any status), CIDs it never had,
 * old completions again, and now and then a reset. The driver must call each request
 * back exactly once, never before every one of its commands has really completed
 * (unless a reset ended it), and with an error if any piece failed.
 */
#include <pollen/dma.h>
#include <pollen/log.h>
#include <pollen/nvme.h>

#include "fuzz.h"
#include "nvme_model.h"

#define REQS 48
#define REGION 4096		/* blocks between two requests' LBAs */
#define DEPTH 32
#define HISTORY 16

struct req {
	bool live;		/* submitted, not yet called back */
	unsigned pieces, done;	/* commands it went out as; those really completed */
	bool failed;		/* a piece completed with an error */
	bool reset_ok;		/* out when the controller was reset: may end early */
	unsigned calls;
};

struct out_cmd {
	uint16_t cid;
	unsigned req;
};

static struct {
	struct pl_iommu *ctx;
	struct nvme_model *m;
	struct pl_nvme_ctrl *c;
	struct pl_nvme_qpair *qp;
	uint16_t qid;
	uint8_t *buf;
	unsigned per_cmd;	/* blocks one command moves */
	struct req reqs[REQS];
	struct out_cmd out[DEPTH * 2];
	unsigned nout;
	uint16_t history[HISTORY];	/* CIDs posted lately, for duplicates */
	unsigned nhist;
} s;

static void done(void *arg, const struct pl_nvme_cpl *cpl)
{
	struct req *r = arg;

	r->calls++;
	FUZZ_CHECK(r->live && r->calls == 1, "request %td called back %u times",
		   r - s.reqs, r->calls);
	if (cpl->status == PL_NVME_SC_RESET) {
		FUZZ_CHECK(r->reset_ok, "request %td ended by a reset that did not happen",
			   r - s.reqs);
	} else {
		FUZZ_CHECK(r->done == r->pieces, "request %td called back after %u of %u pieces",
			   r - s.reqs, r->done, r->pieces);
		FUZZ_CHECK(!r->failed || cpl->status, "request %td: a piece failed, status 0",
			   r - s.reqs);
	}
	r->live = false;
}

static void setup(void)
{
	uint64_t iova;

	pl_log_set_level(PL_LOG_ERR);
	s.ctx = model_bed_open();
	s.m = nvme_model_new(&(struct nvme_model_conf){ .manual_io = true,
							 .blocks = (uint64_t)REQS * REGION });
	if (!(s.c = pl_nvme_open(s.ctx, "0000:00:02.0", NULL)) ||
	    !(s.qp = pl_nvme_qpair_create(s.c, &(struct pl_nvme_qpair_opts){ .depth = DEPTH })) ||
	    !(s.buf = pl_dma_alloc(s.ctx, 4u << 20, 0, &iova)))
		abort();
	s.qid = (uint16_t)pl_nvme_qpair_id(s.qp);
	s.per_cmd = (unsigned)(pl_nvme_max_transfer(s.c) / 512);
}

static void submit(unsigned i, uint8_t size)
{
	static const uint32_t sizes[] = { 1, 8, 255, 1024, 1025, 2048, 3000 };
	struct req *r = &s.reqs[i];

	if (r->live)
		return;
	uint32_t blocks = sizes[size % (sizeof(sizes) / sizeof(sizes[0]))];
	*r = (struct req){ .live = true, .pieces = (blocks + s.per_cmd - 1) / s.per_cmd };
	int ret = pl_nvme_read(s.qp, 1, s.buf, (uint64_t)i * REGION, blocks, done, r);
	if (ret) {
		FUZZ_CHECK(ret == -EAGAIN || ret == -EIO, "submit: %d", ret);
		r->live = false;
	}
}

static void fetch(void)
{
	struct nvme_sqe cmds[DEPTH];

	pl_nvme_kick(s.qp);
	model_lock(nvme_model_dev(s.m));
	unsigned n = nvme_model_fetch(s.m, s.qid, cmds, DEPTH);
	model_unlock(nvme_model_dev(s.m));
	for (unsigned k = 0; k < n; k++) {
		unsigned i = cmds[k].cdw10 / REGION;

		FUZZ_CHECK(i < REQS && s.reqs[i].live, "a command for no request: LBA %u",
			   cmds[k].cdw10);
		FUZZ_CHECK(s.nout < sizeof(s.out) / sizeof(s.out[0]), "more commands out than slots");
		s.out[s.nout++] = (struct out_cmd){ cmds[k].cid, i };
	}
}

/*
 * A completion with CID @cid: it completes the command out with that CID, if any: the
 * driver cannot tell it from the real one. One for no command out is reaped at once:
 * left in the ring, it would complete a command that takes that CID later.
 */
static void post(uint16_t cid, uint16_t status)
{
	/* Every command handed over may have been fetched: a CID of one of them is its own. */
	fetch();
	model_lock(nvme_model_dev(s.m));
	int ret = nvme_model_post(s.m, s.qid, cid, status, 0);
	model_unlock(nvme_model_dev(s.m));
	if (ret)
		return;	/* the CQ is full, or gone with a reset */
	s.history[s.nhist++ % HISTORY] = cid;
	for (unsigned k = 0; k < s.nout; k++)
		if (s.out[k].cid == cid) {
			struct req *r = &s.reqs[s.out[k].req];

			r->done++;
			r->failed |= status != 0;
			s.out[k] = s.out[--s.nout];
			return;
		}
	pl_nvme_poll(s.qp, 0);
}

static void reset(void)
{
	for (unsigned i = 0; i < REQS; i++)
		if (s.reqs[i].live)
			s.reqs[i].reset_ok = true;
	FUZZ_CHECK(pl_nvme_reset(s.c) == 0, "the reset failed");
	s.nout = 0;	/* the controller dropped what it had */
}

/* Everything still out completes; every request must then have been called back. */
static void drain(void)
{
	for (unsigned round = 0; round < 64; round++) {
		fetch();
		for (unsigned before = ~0u; s.nout && s.nout != before;) {
			before = s.nout;
			post(s.out[0].cid, 0);	/* until the CQ is full: polled below */
		}
		pl_nvme_poll(s.qp, 0);
		unsigned live = 0;
		for (unsigned i = 0; i < REQS; i++)
			live += s.reqs[i].live;
		if (!live && !pl_nvme_qpair_outstanding(s.qp))
			return;
	}
	FUZZ_CHECK(0, "%u commands still outstanding after every one completed",
		   pl_nvme_qpair_outstanding(s.qp));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	if (!s.c)
		setup();
	while (in.left) {
		uint8_t op = fuzz_u8(&in);

		switch (op % 8) {
		case 0:
		case 1:
			submit(fuzz_u8(&in) % REQS, fuzz_u8(&in));
			break;
		case 2:
			fetch();
			break;
		case 3: {	/* one of the commands out, with a status from the input */
			uint8_t k = fuzz_u8(&in), st = fuzz_u8(&in);
			if (s.nout)
				post(s.out[k % s.nout].cid, st & 1 ? 0 : (uint16_t)(st & 0x7ff));
			break;
		}
		case 4:	/* any CID at all */
			post(fuzz_u16(&in), fuzz_u16(&in) & 0x7ff);
			break;
		case 5:	/* one posted before, again */
			if (s.nhist)
				post(s.history[fuzz_u8(&in) % (s.nhist < HISTORY ? s.nhist : HISTORY)], 0);
			break;
		case 6:
			pl_nvme_poll(s.qp, fuzz_u8(&in) % 4);
			break;
		case 7:	/* now and then: resets take milliseconds */
			if (fuzz_u8(&in) == 0x5a)
				reset();
			break;
		}
	}
	drain();
	s.nhist = 0;
	return 0;
}
