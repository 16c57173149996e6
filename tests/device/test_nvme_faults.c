/*
 * The NVMe driver when things go wrong, on the test bed's fault namespaces (tests/vm/run
 * --nvme-faults: a throttled one and one whose reads at LBA 4096 fail) and its monitor
 * channel (--monitor): resets under load, timeouts, media errors, asynchronous events,
 * and a process killed mid-I/O.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pollen/dma.h>
#include <pollen/nvme.h>

#include "pattern.h"
#include "testbed.h"

#define KiB 1024u

static struct pl_nvme_ctrl *ctrl;

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* One request's record: how often, and how, it ended. */
struct io {
	int calls;
	struct pl_nvme_cpl cpl;
};

static void io_done(void *arg, const struct pl_nvme_cpl *cpl)
{
	struct io *io = arg;

	io->cpl = *cpl;
	__atomic_add_fetch(&io->calls, 1, __ATOMIC_RELEASE);	/* read by other threads */
}

/* Polls until every one of @n has ended once, failing the case after @ms. */
static void wait_all(struct pl_nvme_qpair *qp, struct io *ios, int n, double ms)
{
	double end = now_ms() + ms;

	for (;;) {
		int done = 0;
		for (int i = 0; i < n; i++)
			done += ios[i].calls > 0;
		if (done == n)
			return;
		int r = pl_nvme_poll(qp, 0);
		cr_assert_geq(r, 0, "poll: %s", strerror(-r));
		cr_assert_lt(now_ms(), end, "%d of %d requests still out after %.0f ms", n - done,
			     n, ms);
	}
}

/* ---- a reset while two threads have commands in flight ---- */

#define INFLIGHT 32
#define IO_BLOCKS 256		/* 128 KiB, on namespace 1 */
#define SLOW 4			/* of the 32, on the throttled namespace: 2 reads, 2 writes */
#define SLOW_BLOCKS 8

/*
 * The reset comes while both pairs have commands out: writes on namespace 1, and the
 * throttled ones, which two a second pass. QEMU's disable drains its namespaces, which
 * lets the throttled through and may post some of them as done; the last to finish in a
 * drain it never posts (its queue is freed first): one at least is ended by the reset
 * whenever one was held. A reset right after a doorbell once crashed QEMU 7.2 (see
 * pl_nvme_reset_locked): this case is that race, run on every boot.
 */
struct worker {
	struct pl_nvme_qpair *qp;
	unsigned index;
	uint32_t slow;		/* the throttled namespace */
	char *buf;		/* INFLIGHT buffers of IO_BLOCKS * 512 */
	struct io ios[INFLIGHT];
	int *in_flight;		/* raised once its commands went out */
	unsigned ended_by_reset;
	char failure[256];
};

static uint64_t lba_of(const struct worker *w, int i)
{
	if (i < SLOW)
		return (uint64_t)(w->index * SLOW + (unsigned)i) * SLOW_BLOCKS;
	return (uint64_t)(w->index * INFLIGHT + (unsigned)i) * IO_BLOCKS;
}

static uint32_t nsid_of(const struct worker *w, int i)
{
	return i < SLOW ? w->slow : 1;
}

static uint32_t blocks_of(int i)
{
	return i < SLOW ? SLOW_BLOCKS : IO_BLOCKS;
}

/* Request @i: a read of the throttled namespace for the first two, else a write. */
static int submit(struct worker *w, int i)
{
	char *buf = w->buf + (size_t)i * IO_BLOCKS * 512;

	if (i < SLOW / 2)
		return pl_nvme_read(w->qp, w->slow, buf, lba_of(w, i), SLOW_BLOCKS, io_done,
				    &w->ios[i]);
	return pl_nvme_write(w->qp, nsid_of(w, i), buf, lba_of(w, i), blocks_of(i), io_done,
			     &w->ios[i]);
}

static void *reset_worker(void *arg)
{
	struct worker *w = arg;
	bool raised = false;	/* the main thread waits for it, whatever happens */

	for (int i = 0; i < INFLIGHT; i++) {
		pattern_fill(w->buf + (size_t)i * IO_BLOCKS * 512, nsid_of(w, i), lba_of(w, i),
			     blocks_of(i), 512, 77);
		if (submit(w, i)) {
			snprintf(w->failure, sizeof(w->failure), "request %d not queued", i);
			goto out;
		}
	}
	pl_nvme_kick(w->qp);
	__atomic_add_fetch(w->in_flight, 1, __ATOMIC_RELEASE);
	raised = true;
	/* Each ends once; those the reset ended are sent again, as a caller would. */
	double end = now_ms() + 60000;
	for (;;) {
		int done = 0;
		for (int i = 0; i < INFLIGHT; i++) {
			struct io *io = &w->ios[i];
			int calls = __atomic_load_n(&io->calls, __ATOMIC_ACQUIRE);
			if (calls > 1) {
				snprintf(w->failure, sizeof(w->failure),
					 "request %d ended %d times", i, calls);
				goto out;
			}
			if (calls && io->cpl.status == PL_NVME_SC_RESET) {
				w->ended_by_reset++;
				*io = (struct io){ 0 };
				if (submit(w, i)) {
					snprintf(w->failure, sizeof(w->failure), "resubmit %d refused", i);
					goto out;
				}
				continue;
			}
			if (calls && io->cpl.status) {
				snprintf(w->failure, sizeof(w->failure),
					 "request %d ended with %s", i,
					 pl_nvme_status_name(io->cpl.status));
				goto out;
			}
			done += calls;
		}
		if (done == INFLIGHT)
			break;
		if (pl_nvme_poll(w->qp, 0) < 0 || now_ms() > end) {
			snprintf(w->failure, sizeof(w->failure), "poll failed or timed out");
			goto out;
		}
	}
out:
	if (!raised)
		__atomic_add_fetch(w->in_flight, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The throttled requests of @w not ended yet. */
static int slow_outstanding(struct worker *w)
{
	int n = 0;

	for (int i = 0; i < SLOW; i++)
		n += !__atomic_load_n(&w->ios[i].calls, __ATOMIC_ACQUIRE);
	return n;
}

TESTBED_TEST(nvme_faults, a_reset_under_load_ends_each_command_once_and_the_pairs_work_again,
	     TESTBED_CONTEXT)
{
	uint32_t slow = testbed_fault("slow");
	ctrl = testbed_nvme_open(NULL);
	struct worker w[2] = { 0 };
	pthread_t th[2];
	int in_flight = 0;
	size_t bytes = IO_BLOCKS * 512;

	/* Data from before the reset, to find intact after it. */
	struct pl_nvme_qpair *setup = pl_nvme_qpair_create(ctrl, NULL);
	cr_assert_not_null(setup);
	char *before = testbed_dma(64 * KiB);
	pattern_fill(before, 1, 200000, 128, 512, 5);
	cr_assert_eq(pl_nvme_write_sync(setup, 1, before, 200000, 128, NULL), 0);
	pl_nvme_qpair_destroy(setup);

	for (int i = 0; i < 2; i++) {
		w[i].qp = pl_nvme_qpair_create(ctrl, &(struct pl_nvme_qpair_opts){ .depth = 64 });
		cr_assert_not_null(w[i].qp);
		w[i].index = (unsigned)i;
		w[i].slow = slow;
		w[i].buf = testbed_dma(INFLIGHT * bytes);
		w[i].in_flight = &in_flight;
	}
	unsigned qid0 = pl_nvme_qpair_id(w[0].qp), qid1 = pl_nvme_qpair_id(w[1].qp);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, reset_worker, &w[i]), 0);
	while (__atomic_load_n(&in_flight, __ATOMIC_ACQUIRE) < 2)
		;
	int held = slow_outstanding(&w[0]) + slow_outstanding(&w[1]);
	double t0 = now_ms();
	cr_assert_eq(pl_nvme_reset(ctrl), 0);
	double reset_ms = now_ms() - t0;
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	double recovered_ms = now_ms() - t0;
	for (int i = 0; i < 2; i++)
		cr_assert_eq(w[i].failure[0], 0, "queue pair %d: %s", i, w[i].failure);
	unsigned ended = w[0].ended_by_reset + w[1].ended_by_reset;
	cr_log_info("reset in %.1f ms with %d of %d throttled requests held; all %d requests "
		    "done %.1f ms after it began; ended by the reset and sent again: %u", reset_ms,
		    held, 2 * SLOW, 2 * INFLIGHT, recovered_ms, ended);
	/* Two a second pass the throttle: the eighth waits seconds. */
	cr_assert_gt(held, 0, "every throttled request passed before the reset");
	cr_expect_gt(ended, 0, "the reset ended none of the %d requests it found in flight", held);
	cr_expect_eq(pl_nvme_resets(ctrl), 1);
	cr_expect_eq(pl_nvme_qpair_id(w[0].qp), qid0, "the pair came back at another ID");
	cr_expect_eq(pl_nvme_qpair_id(w[1].qp), qid1);
	cr_expect_eq(pl_nvme_qpair_slots(w[0].qp), 64, "the pair came back at another depth");

	/* Every block reads back: from before the reset, and written before and across it. */
	char *back = testbed_dma(INFLIGHT * bytes);
	for (int p = 0; p < 2; p++) {
		memset(back, 0, INFLIGHT * bytes);
		for (int i = SLOW / 2; i < INFLIGHT; i++) {
			char *b = back + (size_t)i * bytes;
			uint64_t lba = lba_of(&w[p], i);
			cr_assert_eq(pl_nvme_read_sync(w[p].qp, nsid_of(&w[p], i), b, lba,
						       blocks_of(i), NULL), 0);
			long bad = pattern_check(b, nsid_of(&w[p], i), lba, blocks_of(i), 512, 77);
			cr_expect_eq(bad, -1, "pair %d: block %ld of write %d does not read back",
				     p, bad, i);
		}
	}
	memset(back, 0, 64 * KiB);
	cr_assert_eq(pl_nvme_read_sync(w[0].qp, 1, back, 200000, 128, NULL), 0);
	cr_expect_eq(pattern_check(back, 1, 200000, 128, 512, 5), -1, "data from before lost");
	for (int i = 0; i < 2; i++) {
		pl_nvme_qpair_destroy(w[i].qp);
		pl_dma_free(tb.ctx, w[i].buf);
	}
	pl_dma_free(tb.ctx, back);
	pl_dma_free(tb.ctx, before);
	pl_nvme_close(ctrl);
}

/* ---- commands that never come back in time ---- */

TESTBED_TEST(nvme_faults, commands_that_time_out_are_aborted_or_reset_and_the_next_io_works,
	     TESTBED_CONTEXT)
{
	uint32_t slow = testbed_fault("slow");
	ctrl = testbed_nvme_open(NULL);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(ctrl, &(struct pl_nvme_qpair_opts){
		.depth = 16, .timeout_ms = 300 });
	cr_assert_not_null(qp);
	char *buf = testbed_dma(64 * KiB);
	struct io ios[10] = { 0 };

	/* Two commands a second pass the throttle, after a burst of up to four: the later
	 * of ten wait seconds. */
	double t0 = now_ms();
	for (int i = 0; i < 10; i++)
		cr_assert_eq(pl_nvme_read(qp, slow, buf + i * 4096, (uint64_t)i * 8, 8, io_done,
					  &ios[i]), 0);
	wait_all(qp, ios, 10, 30000);
	double took = now_ms() - t0;
	int timed_out = 0, ok = 0;
	for (int i = 0; i < 10; i++) {
		const struct pl_nvme_cpl *cpl = &ios[i].cpl;

		cr_expect_eq(ios[i].calls, 1, "read %d ended %d times", i, ios[i].calls);
		if (cpl->status == PL_NVME_SC_TIMEOUT) {
			timed_out++;
			cr_expect(cpl->nsid == slow && cpl->lba == (uint64_t)i * 8 &&
				  cpl->blocks == 8 && cpl->opcode == NVME_NVM_READ,
				  "timed-out read %d names namespace %u, LBA %llu, %u blocks, "
				  "opcode %u", i, cpl->nsid, (unsigned long long)cpl->lba,
				  cpl->blocks, cpl->opcode);
		} else if (!cpl->status) {
			ok++;
		} else {
			cr_expect_fail("read %d ended with %s", i,
				       pl_nvme_status_name(cpl->status));
		}
	}
	cr_log_info("10 throttled reads, timeout 300 ms: %d timed out, %d done, all ended in "
		    "%.0f ms, %u reset(s)", timed_out, ok, took, pl_nvme_resets(ctrl));
	/*
	 * QEMU aborts nothing, so the driver resets; the reset's drain lets the throttled
	 * reads through and may post some as done (they did complete). The last of them it
	 * never posts: one read at least is ended as timed out.
	 */
	cr_expect_gt(timed_out, 0, "no read timed out");
	cr_expect_geq(pl_nvme_resets(ctrl), 1, "no reset after the Abort failed");

	/* The next I/O works, on the same pair. */
	pattern_fill(buf, 1, 4096, 16, 512, 9);
	cr_assert_eq(pl_nvme_write_sync(qp, 1, buf, 4096, 16, NULL), 0);
	memset(buf, 0, 8192);
	cr_assert_eq(pl_nvme_read_sync(qp, 1, buf, 4096, 16, NULL), 0);
	cr_expect_eq(pattern_check(buf, 1, 4096, 16, 512, 9), -1);
	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, buf);
	pl_nvme_close(ctrl);
}

/* ---- media errors ---- */

TESTBED_TEST(nvme_faults, an_injected_read_error_names_itself_and_its_lba_range, TESTBED_CONTEXT)
{
	uint32_t ns = testbed_fault("error");
	uint64_t bad = testbed_fault("error_lba");
	ctrl = testbed_nvme_open(NULL);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(ctrl, NULL);
	cr_assert_not_null(qp);
	char *buf = testbed_dma(2u << 20);
	struct io io = { 0 };
	char line[256];

	/* One command over the bad sector. */
	cr_assert_eq(pl_nvme_read(qp, ns, buf, bad, 8, io_done, &io), 0);
	wait_all(qp, &io, 1, 10000);
	pl_nvme_cpl_describe(&io.cpl, line, sizeof(line));
	cr_log_info("%s", line);
	cr_expect_eq(io.cpl.status, NVME_SCT_SC(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ),
		     "status %03x: %s", io.cpl.status, pl_nvme_status_name(io.cpl.status));
	cr_expect_str_eq(pl_nvme_status_name(io.cpl.status), "Unrecovered Read Error");
	cr_expect(strstr(line, "Read of 8 blocks at LBA 4096 on namespace"), "%s", line);
	cr_expect_eq(io.cpl.lba, bad);
	cr_expect_eq(io.cpl.blocks, 8);
	cr_expect_eq(io.cpl.nsid, ns);

	/* A request of several commands names the one that failed. 2048 blocks from 3000:
	 * commands of 1024 (the 512 KiB limit), the second (4024-5047) holds 4096. */
	io = (struct io){ 0 };
	cr_assert_eq(pl_nvme_read(qp, ns, buf, 3000, 2048, io_done, &io), 0);
	wait_all(qp, &io, 1, 10000);
	cr_expect_eq(io.calls, 1);
	cr_expect_eq(io.cpl.status, NVME_SCT_SC(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ));
	cr_expect_eq(io.cpl.lba, 4024, "the failing piece at LBA %llu",
		     (unsigned long long)io.cpl.lba);
	cr_expect_eq(io.cpl.blocks, 1024);

	/* Beside it all is well, and writes there work. */
	uint16_t st = 0;
	cr_expect_eq(pl_nvme_read_sync(qp, ns, buf, bad + 8, 8, &st), 0, "%s",
		     pl_nvme_status_name(st));
	cr_expect_eq(pl_nvme_write_sync(qp, ns, buf, bad, 8, &st), 0, "%s",
		     pl_nvme_status_name(st));

	/* The error log: QEMU 7.2 keeps no entries (its Get Log Page returns zeroes). */
	struct nvme_error_log_entry log[4];
	memset(log, 0xa5, sizeof(log));
	size_t n = (size_t)pl_nvme_id_ctrl(ctrl)->elpe + 1;
	if (n > 4)
		n = 4;
	cr_assert_eq(pl_nvme_get_log(ctrl, NVME_LOG_ERROR, NVME_NSID_ALL, log, n * sizeof(*log),
				     false), 0);
	if (log[0].error_count) {
		cr_expect_eq(log[0].lba, bad, "error log entry names LBA %llu",
			     (unsigned long long)log[0].lba);
		cr_expect_eq(log[0].nsid, ns);
	} else {
		cr_log_info("the controller's error log is empty (QEMU 7.2 keeps none)");
	}
	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, buf);
	pl_nvme_close(ctrl);
}

/* ---- asynchronous events ---- */

struct events {
	int smart;
	uint8_t warning;
};

static void on_event(void *arg, const struct pl_nvme_event *ev)
{
	struct events *e = arg;

	if (ev->type == NVME_AER_SMART && ev->log) {
		e->smart++;
		e->warning = ((const struct nvme_smart_log *)ev->log)->critical_warning;
	}
}

TESTBED_TEST(nvme_faults, a_smart_critical_warning_from_the_monitor_raises_an_event,
	     TESTBED_CONTEXT)
{
	struct events ev = { 0 };
	char out[256];

	ctrl = testbed_nvme_open(NULL);
	pl_nvme_set_event_cb(ctrl, on_event, &ev);
	/* Nothing pending at first. */
	cr_assert_eq(pl_nvme_poll_admin(ctrl), 0);
	cr_assert_eq(testbed_monitor(out, sizeof(out), "qom-set /machine/peripheral/nvme0 "
				     "smart_critical_warning %u", NVME_SMART_CRIT_TEMPERATURE), 0,
		     "the monitor channel did not answer");
	double end = now_ms() + 10000;
	while (!ev.smart && now_ms() < end) {
		cr_assert_geq(pl_nvme_poll_admin(ctrl), 0);
		usleep(1000);
	}
	cr_expect_eq(ev.smart, 1, "no SMART event reached the callback");
	cr_expect_eq(ev.warning & NVME_SMART_CRIT_TEMPERATURE, NVME_SMART_CRIT_TEMPERATURE,
		     "the event's SMART log says warning 0x%02x", ev.warning);
	struct nvme_smart_log smart;
	cr_assert_eq(pl_nvme_get_log(ctrl, NVME_LOG_SMART, NVME_NSID_ALL, &smart, sizeof(smart),
				     false), 0);
	cr_expect_eq(smart.critical_warning & NVME_SMART_CRIT_TEMPERATURE,
		     NVME_SMART_CRIT_TEMPERATURE);
	/* Cleared again for whoever comes next; no event for a warning going away. */
	cr_assert_eq(testbed_monitor(out, sizeof(out), "qom-set /machine/peripheral/nvme0 "
				     "smart_critical_warning 0"), 0);
	usleep(100000);
	cr_expect_eq(pl_nvme_poll_admin(ctrl), 0);
	cr_expect_eq(ev.smart, 1);
	pl_nvme_close(ctrl);
}

/* ---- a second process, and one killed mid-I/O ---- */

#define KILL_BLOCKS 2048	/* 1 MiB at LBA 300000, written before the kill */

/* The child: opens the controller, writes the known data, says so, then I/O until killed. */
static void child_io(int ready_fd)
{
	struct pl_iommu *ctx = pl_iommu_open(tb.backend);
	struct pl_nvme_ctrl *c = ctx ? pl_nvme_open(ctx, testbed_dev("nvme"), NULL) : NULL;
	struct pl_nvme_qpair *qp = c ? pl_nvme_qpair_create(c, NULL) : NULL;
	uint64_t iova;
	char *buf = qp ? pl_dma_alloc(ctx, 4u << 20, 0, &iova) : NULL;

	if (!buf)
		_exit(2);
	pattern_fill(buf, 1, 300000, KILL_BLOCKS, 512, 31);
	if (pl_nvme_write_sync(qp, 1, buf, 300000, KILL_BLOCKS, NULL))
		_exit(3);
	if (write(ready_fd, "x", 1) != 1)
		_exit(4);
	struct io ios[32] = { 0 };
	for (unsigned n = 0;; n++) {
		for (int i = 0; i < 32; i++)
			if (ios[i].calls || n == 0) {
				ios[i].calls = 0;
				pl_nvme_write(qp, 1, buf + 2u * 1024 * 1024 + i * 4096u,
					      400000 + (uint64_t)i * 8, 8, io_done, &ios[i]);
			}
		pl_nvme_poll(qp, 0);
	}
}

TESTBED_TEST(nvme_faults, a_second_process_is_told_in_use_and_after_a_kill_the_next_run_works,
	     TESTBED_BARE)
{
	int pipefd[2];

	cr_assert_eq(pipe(pipefd), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(pipefd[0]);
		child_io(pipefd[1]);
	}
	close(pipefd[1]);
	char x;
	cr_assert_eq(read(pipefd[0], &x, 1), 1, "the child did not get going");
	close(pipefd[0]);
	usleep(200000);		/* well into its I/O */

	/* Held by the child: a clear refusal. */
	testbed_setup(tb.backend, TESTBED_CONTEXT);
	testbed_capture_log();
	errno = 0;
	struct pl_nvme_ctrl *c = pl_nvme_open(tb.ctx, testbed_dev("nvme"), NULL);
	int err = errno;
	cr_expect_null(c, "a second open of a controller in use succeeded");
	cr_expect_eq(err, EBUSY, "errno %d (%s)", err, strerror(err));
	cr_expect(strstr(testbed_last_log(), "in use"), "said: %s", testbed_last_log());
	if (c)
		pl_nvme_close(c);

	/* Killed mid-I/O: nothing is left that this run cannot take back. */
	kill(pid, SIGKILL);
	int wst;
	cr_assert_eq(waitpid(pid, &wst, 0), pid);
	cr_assert(WIFSIGNALED(wst), "the child ended before the kill (status %d)",
		  WEXITSTATUS(wst));
	double t0 = now_ms();
	ctrl = testbed_nvme_open(NULL);
	cr_log_info("reopened %.1f ms after the kill", now_ms() - t0);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(ctrl, NULL);
	cr_assert_not_null(qp);
	char *buf = testbed_dma(KILL_BLOCKS * 512);
	cr_assert_eq(pl_nvme_read_sync(qp, 1, buf, 300000, KILL_BLOCKS, NULL), 0);
	cr_expect_eq(pattern_check(buf, 1, 300000, KILL_BLOCKS, 512, 31), -1,
		     "what the killed process wrote does not read back");
	pattern_fill(buf, 1, 300000, 8, 512, 32);
	cr_expect_eq(pl_nvme_write_sync(qp, 1, buf, 300000, 8, NULL), 0);
	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, buf);
	pl_nvme_close(ctrl);
}

/* ---- the tools ---- */

TESTBED_TEST_ON(PL_IOMMU_AUTO, nvme_faults, perf_counts_errors_by_name_and_goes_on_when_asked,
		TESTBED_BARE)
{
	static char out[65536];
	char args[256];
	const char *addr = testbed_dev("nvme");
	unsigned ns = testbed_fault("error");

	/* 4 KiB random reads over the first 4 MiB: the 512th block of 4 KiB holds LBA 4096. */
	snprintf(args, sizeof(args), "-w randread -q 8 -t 2 -o 4k -r 4M -n %u --quiet "
		 "--continue-on-error %s", ns, addr);
	cr_expect_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 1, "%s", out);
	cr_expect(strstr(out, "(continued past them)"), "%s", out);
	cr_expect(strstr(out, "Unrecovered Read Error (SCT 2h SC 81h)"), "%s", out);
	cr_expect_gt(testbed_number_after(out, "errors: "), 1, "%s", out);
	cr_expect_gt(testbed_number_after(out, "total    "), 0, "no I/O worked: %s", out);

	/* Without: the worker stops at the first, and says how to go on. */
	snprintf(args, sizeof(args), "-w randread -q 8 -t 2 -o 4k -r 4M -n %u --quiet %s", ns,
		 addr);
	cr_expect_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 1, "%s", out);
	cr_expect(strstr(out, "--continue-on-error goes on"), "%s", out);
}

/*
 * I/Os a device never answers (the throttled namespace takes two commands a second) must
 * not hang the end of a run without --timeout-ms: --drain-ms waits, then counts them.
 */
TESTBED_TEST_ON(PL_IOMMU_AUTO, nvme_faults, perf_ends_when_the_device_never_answers,
		TESTBED_BARE)
{
	static char out[65536];
	char args[256];
	struct timespec t0, t1;

	snprintf(args, sizeof(args), "-w randread -q 32 -t 1 -o 4k -r 4M -n %u --drain-ms 500 "
		 "--quiet %s", testbed_fault("slow"), testbed_dev("nvme"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_expect_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 1, "%s", out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_expect(strstr(out, "I/O(s) still out 500 ms after the end"), "%s", out);
	/* 32 in flight at two a second would have taken 15 s to drain. */
	cr_expect_lt(t1.tv_sec - t0.tv_sec, 12, "the run took %ld s", (long)(t1.tv_sec - t0.tv_sec));
}

/* This bed's controller grants four queue pairs: a fifth worker is refused up front. */
TESTBED_TEST_ON(PL_IOMMU_AUTO, nvme_faults, perf_refuses_more_workers_than_queue_pairs,
		TESTBED_BARE)
{
	static char out[65536];
	char args[256];

	snprintf(args, sizeof(args), "-c 6 -t 1 --quiet %s", testbed_dev("nvme"));
	cr_expect_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 2, "%s", out);
	cr_expect(strstr(out, "grants 4 I/O queue pairs: -c 4 at most"), "%s", out);
	snprintf(args, sizeof(args), "-c 4 -t 1 --quiet %s", testbed_dev("nvme"));
	cr_expect_eq(testbed_run_tool("POLLEN_NVME_PERF", args, out, sizeof(out)), 0, "%s", out);
}

TESTBED_TEST_ON(PL_IOMMU_AUTO, nvme_faults, identify_prints_the_smart_error_and_firmware_logs,
		TESTBED_BARE)
{
	static char out[65536];
	char args[128], mon[256];
	const char *addr = testbed_dev("nvme");

	cr_assert_eq(testbed_monitor(mon, sizeof(mon), "qom-set /machine/peripheral/nvme0 "
				     "smart_critical_warning %u", NVME_SMART_CRIT_RELIABILITY), 0);
	snprintf(args, sizeof(args), "--smart --error-log --fw-log %s", addr);
	int st = testbed_run_tool("POLLEN_NVME_IDENTIFY", args, out, sizeof(out));
	testbed_monitor(mon, sizeof(mon), "qom-set /machine/peripheral/nvme0 "
			"smart_critical_warning 0");
	cr_assert_eq(st, 0, "%s", out);
	cr_expect(strstr(out, "critical_warning        : 0x04 [reliability degraded]"), "%s", out);
	cr_expect(strstr(out, "temperature             : "), "%s", out);
	cr_expect(strstr(out, "Error Information ("), "%s", out);
	cr_expect(strstr(out, "Firmware Slot Information\nactive slot             : 1"), "%s", out);

	snprintf(args, sizeof(args), "--smart --error-log --fw-log --json %s", addr);
	cr_assert_eq(testbed_run_tool("POLLEN_NVME_IDENTIFY", args, out, sizeof(out)), 0, "%s",
		     out);
	cr_expect(strstr(out, "\"smart\": {"), "%s", out);
	cr_expect(strstr(out, "\"critical_warning\": 0"), "%s", out);
	cr_expect(strstr(out, "\"error_log\": ["), "%s", out);
	cr_expect(strstr(out, "\"firmware_slots\": {"), "%s", out);
}
