/* The NVMe driver on the test bed's controller: bring-up, namespaces, data, queues, errors. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <pollen/dma.h>
#include <pollen/irq.h>
#include <pollen/nvme.h>

#include "pattern.h"
#include "testbed.h"

#define MiB (1ul << 20)

static struct pl_nvme_ctrl *ctrl;

TESTBED_TEST(nvme, brings_up_and_finds_three_namespaces, TESTBED_CONTEXT)
{
	ctrl = testbed_nvme_open(NULL);
	const struct nvme_id_ctrl *id = pl_nvme_id_ctrl(ctrl);
	cr_expect_eq(id->vid, 0x1b36, "VID %04x", id->vid);
	cr_expect_eq(memcmp(id->sn, "deadbeef", 8), 0, "serial %.20s", id->sn);
	cr_expect_eq(pl_nvme_vs(ctrl), NVME_VS(1, 4, 0));
	cr_expect_eq(pl_nvme_io_queues(ctrl), 8, "granted %u of 8", pl_nvme_io_queues(ctrl));
	/* MDTS 7 of 4 KiB pages: 512 KiB per command. */
	cr_expect_eq(pl_nvme_max_transfer(ctrl), 512 * 1024);

	cr_assert_eq(pl_nvme_ns_count(ctrl), 3);
	const struct pl_nvme_ns *n1 = pl_nvme_ns(ctrl, 1), *n2 = pl_nvme_ns(ctrl, 2),
				*n3 = pl_nvme_ns(ctrl, 3);
	cr_assert(n1 && n2 && n3);
	cr_expect_eq(n1->block_size, 512);
	cr_expect_eq(n1->blocks, 256 * MiB / 512);
	cr_expect(n1->usable);
	cr_expect_eq(n2->block_size, 4096);
	cr_expect_eq(n2->blocks, 64 * MiB / 4096);
	cr_expect(n2->usable);
	cr_expect_eq(n3->metadata_size, 8);
	cr_expect(!n3->usable, "a namespace with metadata is not refused");
	cr_expect_null(pl_nvme_ns(ctrl, 4));
	pl_nvme_close(ctrl);
}

struct done_count {
	int calls;
	uint16_t status;
};

static void count_done(void *arg, const struct pl_nvme_cpl *cpl)
{
	struct done_count *d = arg;

	d->calls++;
	if (cpl->status)
		d->status = cpl->status;
}

/* Runs queued work until @d has seen @calls completions. */
static void wait_for(struct pl_nvme_qpair *qp, struct done_count *d, int calls)
{
	for (int i = 0; d->calls < calls; i++) {
		cr_assert_geq(pl_nvme_poll(qp, 0), 0);
		cr_assert_lt(i, 100000000, "no completion");
	}
}

/*
 * Sizes from one block to three times the transfer limit and more, buffers starting at
 * any dword a PRP allows: what is written reads back, in one callback per request.
 */
TESTBED_TEST(nvme, data_of_every_size_and_offset_reads_back, TESTBED_CONTEXT)
{
	ctrl = testbed_nvme_open(NULL);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(ctrl, NULL);
	cr_assert_not_null(qp);
	char *wbuf = testbed_dma(4 * MiB), *rbuf = testbed_dma(4 * MiB);
	static const size_t offsets[] = { 0, 4, 512, 2052, 4092 };
	uint32_t max = pl_nvme_max_transfer(ctrl);
	srand(7);
	for (uint32_t nsid = 1; nsid <= 2; nsid++) {
		const struct pl_nvme_ns *ns = pl_nvme_ns(ctrl, nsid);
		uint32_t bs = ns->block_size;
		uint32_t sizes[] = { 1, 2, 7, 4096 / bs + 1, max / bs, max / bs + 1,
				     3 * (max / bs) + 5 };
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			uint32_t n = sizes[s];
			size_t off = offsets[s % 5];
			uint64_t lba = (uint64_t)rand() % (ns->blocks - n);
			struct done_count d = { 0 };

			pattern_fill(wbuf + off, nsid, lba, n, bs, 42);
			cr_assert_eq(pl_nvme_write(qp, nsid, wbuf + off, lba, n, count_done, &d), 0);
			wait_for(qp, &d, 1);
			cr_expect_eq(d.calls, 1, "%u blocks: %d callbacks", n, d.calls);
			cr_assert_eq(d.status, 0, "write of %u blocks at %llu: status %03x", n,
				     (unsigned long long)lba, d.status);
			memset(rbuf + off, 0, (size_t)n * bs);
			cr_assert_eq(pl_nvme_read_sync(qp, nsid, rbuf + off, lba, n, NULL), 0);
			long bad = pattern_check(rbuf + off, nsid, lba, n, bs, 42);
			cr_expect_eq(bad, -1, "ns %u: %u blocks at LBA %llu from offset %zu: block %ld "
				     "differs", nsid, n, (unsigned long long)lba, off, bad);
		}
	}
	cr_expect_eq(pl_nvme_qpair_outstanding(qp), 0);
	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, wbuf);
	pl_dma_free(tb.ctx, rbuf);
	pl_nvme_close(ctrl);
}

/* Shadow doorbells and SGLs are the same data path with other doorbells and pointers. */
struct mode_case {
	enum pl_iommu_backend backend;
	bool shadow, sgl;
};

ParameterizedTestParameters(nvme, doorbell_and_pointer_modes_move_data)
{
	static struct mode_case cases[2 * 3];

	for (int b = 0; b < 2; b++) {
		cases[b * 3 + 0] = (struct mode_case){ testbed_backends[b], false, false };
		cases[b * 3 + 1] = (struct mode_case){ testbed_backends[b], true, false };
		cases[b * 3 + 2] = (struct mode_case){ testbed_backends[b], false, true };
	}
	return cr_make_param_array(struct mode_case, cases, 6);
}

ParameterizedTest(struct mode_case *m, nvme, doorbell_and_pointer_modes_move_data,
		  .fini = testbed_teardown)
{
	testbed_setup(m->backend, TESTBED_CONTEXT);
	ctrl = testbed_nvme_open(&(struct pl_nvme_opts){ .shadow_doorbells = m->shadow, .sgl = m->sgl });
	cr_expect_eq(pl_nvme_shadow_doorbells(ctrl), m->shadow,
		     "QEMU's controller offers Doorbell Buffer Config");
	cr_expect_eq(pl_nvme_sgl(ctrl), m->sgl, "QEMU's controller takes SGLs");
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(ctrl, &(struct pl_nvme_qpair_opts){
								.depth = 64 });
	cr_assert_not_null(qp);
	char *buf = testbed_dma(2 * MiB);
	struct done_count d = { 0 };

	/* Many at once, so the queue wraps and the doorbells see batches; buffers start at
	 * every dword of a page's first 64 bytes, so PRPs and SGLs see offsets. */
#define AT(i) (buf + (i) * 12288 + ((i) % 16) * 4)
	for (int round = 0; round < 8; round++) {
		for (uint32_t i = 0; i < 60; i++) {
			pattern_fill(AT(i), 1, 1000 + round * 60 * 16 + i * 16, 16, 512, round);
			cr_assert_eq(pl_nvme_write(qp, 1, AT(i), 1000 + round * 60 * 16 + i * 16, 16,
						   count_done, &d), 0);
		}
		wait_for(qp, &d, (round + 1) * 60);
	}
	cr_assert_eq(d.status, 0);
	for (int round = 0; round < 8; round++) {
		memset(buf, 0, 60 * 12288);
		for (uint32_t i = 0; i < 60; i++)
			cr_assert_eq(pl_nvme_read(qp, 1, AT(i), 1000 + round * 60 * 16 + i * 16, 16,
						  count_done, &d), 0);
		wait_for(qp, &d, 8 * 60 + (round + 1) * 60);
		for (uint32_t i = 0; i < 60; i++)
			cr_assert_eq(pattern_check(AT(i), 1, 1000 + round * 60 * 16 + i * 16, 16, 512,
						   round), -1, "round %d request %u", round, i);
	}
#undef AT
	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, buf);
	pl_nvme_close(ctrl);
}

TESTBED_TEST(nvme, deallocate_and_write_zeroes_read_back_as_zeroes, TESTBED_CONTEXT)
{
	ctrl = testbed_nvme_open(NULL);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(ctrl, NULL);
	char *buf = testbed_dma(2 * MiB), *zero = calloc(1, 64 * 4096);
	struct done_count d = { 0 };

	cr_assert_not_null(qp);
	for (uint32_t nsid = 1; nsid <= 2; nsid++) {
		uint32_t bs = pl_nvme_ns(ctrl, nsid)->block_size;

		pattern_fill(buf, nsid, 100, 64, bs, 9);
		cr_assert_eq(pl_nvme_write_sync(qp, nsid, buf, 100, 64, NULL), 0);
		cr_assert_eq(pl_nvme_write_zeroes(qp, nsid, 100, 32, count_done, &d), 0);
		cr_assert_eq(pl_nvme_deallocate(qp, nsid, 132, 32, count_done, &d), 0);
		cr_assert_eq(pl_nvme_flush(qp, nsid, count_done, &d), 0);
		wait_for(qp, &d, 3 * (int)nsid);
		cr_assert_eq(d.status, 0, "status %03x", d.status);
		memset(buf, 0xee, 64 * bs);
		cr_assert_eq(pl_nvme_read_sync(qp, nsid, buf, 100, 64, NULL), 0);
		cr_expect_eq(memcmp(buf, zero, 32 * bs), 0, "ns %u: not zeroes after Write Zeroes",
			     nsid);
		/* Deallocated blocks read as zeroes where DLFEAT says so (001b); QEMU's does. */
		cr_assert_eq(pl_nvme_ns(ctrl, nsid)->id->dlfeat & 7, 1, "DLFEAT %02x",
			     pl_nvme_ns(ctrl, nsid)->id->dlfeat);
		cr_expect_eq(memcmp(buf + 32 * bs, zero, 32 * bs), 0, "ns %u: not zeroes after a "
			     "deallocate", nsid);
	}
	free(zero);
	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, buf);
	pl_nvme_close(ctrl);
}

/* ---- several threads, a queue pair each ---- */

struct worker {
	struct pl_nvme_qpair *qp;
	char *buf;
	uint32_t first_lba;
	int bad;
};

static void *verify_worker(void *arg)
{
	struct worker *w = arg;

	for (int round = 0; round < 20 && !w->bad; round++)
		for (uint32_t i = 0; i < 32; i++) {
			uint64_t lba = w->first_lba + (uint64_t)((round * 32 + i) % 256) * 8;

			pattern_fill(w->buf, 1, lba, 8, 512, round);
			if (pl_nvme_write_sync(w->qp, 1, w->buf, lba, 8, NULL) ||
			    (memset(w->buf, 0, 4096), pl_nvme_read_sync(w->qp, 1, w->buf, lba, 8, NULL)) ||
			    pattern_check(w->buf, 1, lba, 8, 512, round) != -1)
				w->bad++;
		}
	return NULL;
}

TESTBED_TEST(nvme, threads_with_a_queue_pair_each_verify_at_once, TESTBED_CONTEXT)
{
	ctrl = testbed_nvme_open(&(struct pl_nvme_opts){ .io_queues = 4 });
	struct worker w[4];
	pthread_t t[4];
	char *mem = testbed_dma(2 * MiB);

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ pl_nvme_qpair_create(ctrl, NULL), mem + i * 65536,
					 (uint32_t)i * 4096, 0 };
		cr_assert_not_null(w[i].qp, "queue pair %d", i);
	}
	/* A fifth is more than was granted. */
	errno = 0;
	cr_expect_null(pl_nvme_qpair_create(ctrl, NULL));
	cr_expect_eq(errno, ENOSPC);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, verify_worker, &w[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(w[i].bad, 0, "worker %d: %d bad round trips", i, w[i].bad);
		pl_nvme_qpair_destroy(w[i].qp);
	}
	pl_dma_free(tb.ctx, mem);
	pl_nvme_close(ctrl);
}

TESTBED_TEST(nvme, a_completion_raises_its_queues_interrupt, TESTBED_CONTEXT)
{
	ctrl = testbed_nvme_open(&(struct pl_nvme_opts){ .interrupts = true, .io_queues = 2 });
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(ctrl, &(struct pl_nvme_qpair_opts){
								.interrupts = true });
	struct pl_irq_waiter *w = pl_irq_waiter_new();
	char *buf = testbed_dma(2 * MiB);
	struct done_count d = { 0 };

	cr_assert_not_null(qp);
	cr_assert_geq(pl_nvme_qpair_irq_fd(qp), 0);
	cr_assert_eq(pl_irq_waiter_add(w, pl_nvme_qpair_irq_fd(qp), qp), 0);
	cr_expect_eq(pl_irq_wait(w, 0, NULL, 1), 0, "an interrupt before any command");
	cr_assert_eq(pl_nvme_read(qp, 1, buf, 0, 8, count_done, &d), 0);
	pl_nvme_kick(qp);
	/* Asleep until the controller's MSI-X message: then the completion is there. */
	void *tag = NULL;
	cr_assert_eq(pl_irq_wait(w, 5000, &tag, 1), 1, "no interrupt for the completion");
	cr_expect_eq(tag, qp);
	cr_expect_eq(pl_nvme_poll(qp, 0), 1);
	cr_expect_eq(d.calls, 1);
	pl_irq_waiter_free(w);
	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, buf);
	pl_nvme_close(ctrl);
}

/* ---- bad input: a clear error, and nothing reaches the device ---- */

TESTBED_TEST(nvme, bad_input_is_refused_before_the_device, TESTBED_CONTEXT)
{
	ctrl = testbed_nvme_open(NULL);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(ctrl, NULL);
	char *buf = testbed_dma(2 * MiB), heap[4096];
	const struct pl_nvme_ns *ns1 = pl_nvme_ns(ctrl, 1);

	cr_assert_not_null(qp);
	testbed_capture_log();
	cr_expect_eq(pl_nvme_read(qp, 9, buf, 0, 1, NULL, NULL), -EINVAL);
	cr_expect(strstr(testbed_last_log(), "namespace 9 is not active"), "%s", testbed_last_log());
	cr_expect_eq(pl_nvme_read(qp, 1, buf, ns1->blocks - 1, 2, NULL, NULL), -EINVAL);
	cr_expect(strstr(testbed_last_log(), "the namespace has"), "%s", testbed_last_log());
	cr_expect_eq(pl_nvme_read(qp, 1, buf, ns1->blocks, 1, NULL, NULL), -EINVAL);
	cr_expect_eq(pl_nvme_read(qp, 1, buf, 0, 0, NULL, NULL), -EINVAL);
	cr_expect_eq(pl_nvme_read(qp, 1, heap, 0, 1, NULL, NULL), -EINVAL);
	cr_expect(strstr(testbed_last_log(), "is not DMA memory"), "%s", testbed_last_log());
	cr_expect_eq(pl_nvme_write(qp, 1, buf + 1, 0, 1, NULL, NULL), -EINVAL);
	cr_expect(strstr(testbed_last_log(), "not 4-byte aligned"), "%s", testbed_last_log());
	/* A buffer that runs past the end of its region. */
	cr_expect_eq(pl_nvme_read(qp, 1, buf + 2 * MiB - 512, 0, 2, NULL, NULL), -EINVAL);
	cr_expect_eq(pl_nvme_read(qp, 3, buf, 0, 1, NULL, NULL), -EOPNOTSUPP);
	cr_expect(strstr(testbed_last_log(), "metadata"), "%s", testbed_last_log());
	cr_expect_eq(pl_nvme_flush(qp, 7, NULL, NULL), -EINVAL);
	cr_expect_eq(pl_nvme_qpair_outstanding(qp), 0, "a refused command is outstanding");
	cr_expect_eq(pl_nvme_poll(qp, 0), 0, "a refused command completed");

	/* Depths the controller does not allow. */
	errno = 0;
	cr_expect_null(pl_nvme_qpair_create(ctrl, &(struct pl_nvme_qpair_opts){
					     .depth = pl_nvme_max_depth(ctrl) }));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(testbed_last_log(), "the controller allows 1 to"), "%s",
		  testbed_last_log());

	/* More commands than the pair has slots: never, and said so; full: -EAGAIN. */
	struct pl_nvme_qpair *small = pl_nvme_qpair_create(ctrl, &(struct pl_nvme_qpair_opts){
								   .depth = 2 });
	cr_assert_not_null(small);
	cr_expect_eq(pl_nvme_qpair_slots(small), 2);
	uint32_t big = pl_nvme_max_transfer(ctrl) / 512 * 3;	/* three commands' worth */
	cr_expect_eq(pl_nvme_read(small, 1, buf, 0, big, NULL, NULL), -EINVAL);
	cr_expect(strstr(testbed_last_log(), "it could never go out"), "%s", testbed_last_log());
	cr_expect_eq(pl_nvme_qpair_outstanding(small), 0, "the refused request is half queued");
	cr_assert_eq(pl_nvme_read(small, 1, buf, 0, 1, NULL, NULL), 0);
	cr_assert_eq(pl_nvme_read(small, 1, buf, 1, 1, NULL, NULL), 0);
	cr_expect_eq(pl_nvme_read(small, 1, buf, 2, 1, NULL, NULL), -EAGAIN);
	while (pl_nvme_qpair_outstanding(small))
		cr_assert_geq(pl_nvme_poll(small, 0), 0);
	cr_expect_eq(pl_nvme_read(small, 1, buf, 2, 1, NULL, NULL), 0, "free again once reaped");
	pl_nvme_qpair_destroy(small);

	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, buf);
	pl_nvme_close(ctrl);
}

TESTBED_TEST(nvme, opening_what_is_not_an_nvme_says_so, TESTBED_CONTEXT)
{
	testbed_capture_log();
	errno = 0;
	cr_expect_null(pl_nvme_open(tb.ctx, testbed_dev("e1000"), NULL));
	cr_expect_eq(errno, ENODEV);
	cr_expect(strstr(testbed_last_log(), "is not an NVMe controller"), "%s", testbed_last_log());
	errno = 0;
	cr_expect_null(pl_nvme_open(tb.ctx, "0000:00:1e.0", NULL));
	cr_expect_eq(errno, ENODEV);
	cr_expect(strstr(testbed_last_log(), "no such PCI device"), "%s", testbed_last_log());
	/* The controller itself still opens afterwards. */
	ctrl = testbed_nvme_open(NULL);
	pl_nvme_close(ctrl);
}

/* Runs a Pollen program the launcher copied in (its path in @env); returns its status. */
TESTBED_TEST_ON(PL_IOMMU_AUTO, nvme, the_identify_tool_prints_controller_and_namespaces,
		TESTBED_BARE)
{
	static char out[65536];

	cr_assert_eq(testbed_run_tool("POLLEN_NVME_IDENTIFY", "", out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "Serial number                deadbeef"), "%s", out);
	cr_expect(strstr(out, "Model number                 QEMU NVMe Ctrl"), "%s", out);
	cr_expect(strstr(out, "Max data transfer            512.0 KiB per command (MDTS 7)"), "%s", out);
	cr_expect(strstr(out, "Size                         524288 blocks of 512 bytes (256.0 MiB)"),
		  "%s", out);
	cr_expect(strstr(out, "Size                         16384 blocks of 4096 bytes (64.0 MiB)"),
		  "%s", out);
	cr_expect(strstr(out, "#4   4096 bytes +  0 metadata, relative performance 0  (in use)"),
		  "%s", out);
	cr_expect(strstr(out, "Usable by Pollen             no (formatted with metadata)"), "%s",
		  out);

	cr_assert_eq(testbed_run_tool("POLLEN_NVME_IDENTIFY", "-n 2 --json", out, sizeof(out)), 0, "%s",
		     out);
	cr_expect(strstr(out, "\"serial\": \"deadbeef\""), "%s", out);
	cr_expect(strstr(out, "\"nsid\": 2,"), "%s", out);
	cr_expect(strstr(out, "\"block_size\": 4096,"), "%s", out);
	cr_expect(!strstr(out, "\"nsid\": 1,"), "-n 2 listed namespace 1: %s", out);

	cr_expect_eq(testbed_run_tool("POLLEN_NVME_IDENTIFY", "-n 9", out, sizeof(out)), 1);
	cr_expect(strstr(out, "namespace 9 is not active"), "%s", out);
	cr_expect_eq(testbed_run_tool("POLLEN_NVME_IDENTIFY", testbed_dev("e1000"), out, sizeof(out)), 1);
	cr_expect(strstr(out, "is not an NVMe controller"), "%s", out);
}

/* ---- pollen-nvme-perf ---- */

/* The number printed after @label; fails the case when the label is not there. */
TESTBED_TEST_ON(PL_IOMMU_AUTO, nvme, perf_verify_finds_a_block_corrupted_behind_its_back,
		TESTBED_BARE)
{
	static char out[65536];
	char range[128], args[256];

	snprintf(range, sizeof(range), "-r 1M --seed 5 --quiet -n 1 %s", testbed_dev("nvme"));
	/* The pattern over the first MiB, then a clean read-back. */
	snprintf(args, sizeof(args), "-w write -q 8 -t 1 --verify %s", range);
	cr_assert_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 0, "%s", out);
	snprintf(args, sizeof(args), "-w randread -q 8 -t 1 --verify %s", range);
	cr_assert_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, " 0 mismatched"), "%s", out);
	cr_expect_gt(testbed_number_after(out, "verify: "), 100, "%s", out);

	/* Behind its back: block 100 overwritten. */
	testbed_setup(PL_IOMMU_AUTO, TESTBED_CONTEXT);
	ctrl = testbed_nvme_open(NULL);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(ctrl, NULL);
	char *junk = testbed_dma(2 * MiB);
	memset(junk, 0x5a, 512);
	cr_assert_eq(pl_nvme_write_sync(qp, 1, junk, 100, 1, NULL), 0);
	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, junk);
	pl_nvme_close(ctrl);
	testbed_teardown();

	cr_expect_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 1, "%s", out);
	cr_expect_geq(testbed_number_after(out, " blocks verified, "), 1, "no mismatch found: %s", out);
	cr_expect(strstr(out, "verify: block 100 (byte 51200) differs at byte 0: 0x5a5a5a5a5a5a5a5a"),
		  "%s", out);
}

/*
 * Blocks that read as zeros were never written with the pattern: counted apart, not as
 * mismatches, and no failure for a read run that wrote nothing (as fio's verify tells a
 * missing header from bad data).
 */
TESTBED_TEST_ON(PL_IOMMU_AUTO, nvme, perf_verify_counts_blocks_never_written_apart,
		TESTBED_BARE)
{
	static char out[65536];
	char args[256];

	testbed_setup(PL_IOMMU_AUTO, TESTBED_CONTEXT);
	ctrl = testbed_nvme_open(NULL);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(ctrl, NULL);
	char *zeros = testbed_dma(2 * MiB);
	memset(zeros, 0, MiB);
	cr_assert_eq(pl_nvme_write_sync(qp, 1, zeros, 0, MiB / 512, NULL), 0);
	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, zeros);
	pl_nvme_close(ctrl);
	testbed_teardown();

	snprintf(args, sizeof(args), "-w read -q 4 -t 1 -r 1M --verify --quiet -n 1 %s",
		 testbed_dev("nvme"));
	cr_expect_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, " 0 mismatched, "), "%s", out);
	cr_expect_gt(testbed_number_after(out, " mismatched, "), 0, "%s", out);
	cr_expect(strstr(out, "never written with the pattern"), "%s", out);
}

TESTBED_TEST_ON(PL_IOMMU_AUTO, nvme, perf_verifies_while_sleeping_and_with_two_workers,
		TESTBED_BARE)
{
	static char out[65536];
	const char *nvme = testbed_dev("nvme");
	char args[256];

	/* A mixed load prefills its range; poll-then-sleep takes MSI-X between bursts. */
	snprintf(args, sizeof(args), "-w randrw -M 70 -q 4 -t 2 -r 4M --verify --sleep --quiet %s",
		 nvme);
	cr_assert_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, " 0 mismatched"), "%s", out);
	cr_expect_gt(testbed_number_after(out, "verify: "), 100, "%s", out);

	snprintf(args, sizeof(args), "-w randrw -q 16 -c 2 -o 8k -t 2 -r 8M --verify --json -n 2 %s",
		 nvme);
	cr_assert_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "\"mismatched_blocks\": 0"), "%s", out);
	cr_expect(strstr(out, "\"workers\": 2"), "%s", out);
	cr_expect(strstr(out, "\"block_size\": 4096"), "%s", out);
	cr_expect_gt(testbed_number_after(out, "\"verified_blocks\": "), 100, "%s", out);

	/* Bad input: a size that is not whole blocks, an unknown workload. */
	snprintf(args, sizeof(args), "-n 2 -o 2048 %s", nvme);
	cr_expect_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 2);
	cr_expect(strstr(out, "want whole 4096-byte blocks"), "%s", out);
	snprintf(args, sizeof(args), "-w sideways %s", nvme);
	cr_expect_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 2);
}
