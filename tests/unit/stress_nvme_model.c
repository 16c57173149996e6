/*
 * Two queue pairs polled on their own threads while the controller fails (CSTS.CFS, from
 * the host NVMe model) again and again: the pollers notice, one resets, both pairs come
 * back, every read ends once. A plain program, run under ThreadSanitizer by tests/run
 * (suite threads): the flag a poller sets and the reset clears is shared state, and a
 * plain access to it is a data race TSan reports. The model's own accesses to the
 * driver's queues and registers are suppressed (tests/unit/tsan.supp): a device's, not
 * a thread's.
 */
#define _GNU_SOURCE
#include <pollen/dma.h>
#include <pollen/log.h>
#include <pollen/nvme.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "nvme_model.h"

#define PAIRS 2
#define FAILURES 4

static struct pl_nvme_ctrl *c;
static struct nvme_model *m;
static int stop;

struct poller {
	struct pl_nvme_qpair *qp;
	char *buf;
	unsigned long done, ended_by_reset, twice;
	pthread_t thread;
};

struct read {
	struct poller *p;
	unsigned calls;
};

static void on_read(void *arg, const struct pl_nvme_cpl *cpl)
{
	struct read *r = arg;

	if (r->calls++)
		r->p->twice++;
	__atomic_add_fetch(&r->p->done, 1, __ATOMIC_RELAXED);	/* main waits on it */
	r->p->ended_by_reset += cpl->status == PL_NVME_SC_RESET;
}

static void *poll_pair(void *arg)
{
	struct poller *p = arg;
	struct read reads[16];

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned sent = 0;

		for (unsigned i = 0; i < 16; i++) {
			reads[i] = (struct read){ .p = p };
			if (!pl_nvme_read(p->qp, 1, p->buf + i * 4096, i * 8, 8, on_read, &reads[i]))
				sent++;
			else
				reads[i].calls = 1;	/* refused: not out */
		}
		/*
		 * A pair a reset made stale refuses every submit until a poll brings it back
		 * (pl_nvme_poll is where a pair recovers): with none sent, poll anyway, or
		 * the pair never does I/O again (seen under ASan in a loaded run).
		 */
		if (!sent)
			pl_nvme_poll(p->qp, 0);
		for (unsigned spins = 0;; spins++) {
			unsigned left = 0;

			for (unsigned i = 0; i < 16; i++)
				left += !reads[i].calls;
			if (!left || pl_nvme_poll(p->qp, 0) < 0)
				break;
		}
	}
	return NULL;
}

static unsigned resets(void)
{
	return pl_nvme_resets(c);
}

int main(void)
{
	struct poller ps[PAIRS] = { 0 };
	int failed = 0;
	uint64_t iova;

	pl_log_set_level(PL_LOG_ERR);
	struct pl_iommu *ctx = model_bed_open();
	m = nvme_model_new(NULL);
	if (!(c = pl_nvme_open(ctx, "0000:00:02.0", NULL))) {
		printf("stress_nvme: 0 passed, 1 failed\n");
		return 1;
	}
	for (unsigned i = 0; i < PAIRS; i++) {
		ps[i].qp = pl_nvme_qpair_create(c, &(struct pl_nvme_qpair_opts){ .depth = 32 });
		ps[i].buf = pl_dma_alloc(ctx, 2u << 20, 0, &iova);
		if (!ps[i].qp || !ps[i].buf)
			abort();
		pthread_create(&ps[i].thread, NULL, poll_pair, &ps[i]);
	}
	/* The controller fails; a poller sees it within 4096 empty polls and resets. */
	for (unsigned f = 0; f < FAILURES; f++) {
		unsigned before = resets();

		usleep(50000);
		model_lock(nvme_model_dev(m));
		nvme_model_fail(m, true);
		model_unlock(nvme_model_dev(m));
		/*
		 * The poller notices at once; the reset itself waits on the model's thread,
		 * which two guests and a sanitizer beside it starved past 2 s once. The bound
		 * is only how long a missed failure takes to report.
		 */
		for (unsigned i = 0; i < 30000 && resets() == before; i++)
			usleep(1000);
		if (resets() == before) {
			fprintf(stderr, "stress_nvme: failure %u was never noticed\n", f);
			failed++;
			continue;
		}
		/*
		 * The count goes up as a reset begins: the next failure waits for its end
		 * (an admin command waits for the reset's lock, then needs the controller
		 * back). Failing it again mid-reset fails the reset itself, for good, as the
		 * kernel's driver does too; a starved model thread made that happen once.
		 */
		uint8_t smart[512];
		if (pl_nvme_get_log(c, NVME_LOG_SMART, NVME_NSID_ALL, smart, sizeof(smart), false)) {
			fprintf(stderr, "stress_nvme: after failure %u the controller answers no "
				"admin command\n", f);
			failed++;
		}
	}
	/*
	 * Every pair must have done I/O across the resets before the run ends: waited for,
	 * not assumed after 50 ms (a pair's thread starved of CPU did none in a busy run).
	 */
	for (unsigned i = 0; i < PAIRS; i++)
		for (unsigned w = 0; w < 30000 && !__atomic_load_n(&ps[i].done, __ATOMIC_RELAXED); w++)
			usleep(1000);
	usleep(50000);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < PAIRS; i++) {
		pthread_join(ps[i].thread, NULL);
		if (ps[i].twice) {
			fprintf(stderr, "stress_nvme: pair %u: %lu reads ended twice\n", i, ps[i].twice);
			failed++;
		}
		if (!ps[i].done) {
			fprintf(stderr, "stress_nvme: pair %u did no I/O\n", i);
			failed++;
		}
		pl_nvme_qpair_destroy(ps[i].qp);
		pl_dma_free(ctx, ps[i].buf);
	}
	if (pl_nvme_failed(c)) {
		fprintf(stderr, "stress_nvme: the controller did not come back\n");
		failed++;
	}
	pl_nvme_close(c);
	model_bed_close();
	printf("stress_nvme: %d passed, %d failed\n", failed ? 0 : 1, failed ? 1 : 0);
	return failed ? 1 : 0;
}
