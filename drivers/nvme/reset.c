/*
 * A controller level reset (NVMe 1.4, 7.3.2), asked for or the driver's own answer to a
 * timeout or CSTS.CFS (qpair.c), and the controller's state after one.
 */
#include "nvme_priv.h"

#include <pollen/log.h>
#include <pollen/mmio.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#define RESET_BARRIER_MS 1000		/* the admin round trip before a reset's disable */

/*
 * 7.3.2: a controller level reset through CC.EN, which ends every command the controller
 * holds without a completion. Queue pairs are made again by their owners (qpair.c), who
 * see the generation change.
 */
int pl_nvme_reset_locked(struct pl_nvme_ctrl *c)
{
	struct timespec t0, t1;
	unsigned had = c->io_queues;
	struct nvme_cqe cpl = { 0 };
	int ret;

	if (pl_nvme_dead(c))
		return -EIO;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* First: owners stop using their queues from their next call on. */
	__atomic_add_fetch(&c->gen, 1, __ATOMIC_ACQ_REL);
	/* Counted where anyone may read it (pl_nvme_resets), so atomically. */
	__atomic_add_fetch(&c->resets, 1, __ATOMIC_RELAXED);
	c->aer_busy = 0;
	/*
	 * Then one admin round trip, if the controller still answers: it has then taken in
	 * every doorbell written before. QEMU fetches in a handler run after the doorbell
	 * write and posts the admin completion from one run after that. Its disable drains
	 * each namespace in turn and runs such handlers meanwhile: a fetch still pending
	 * started commands during the drain that completed into freed queues, and QEMU 7.2
	 * crashed (tests/device/test_nvme_faults.c). Owners ring no doorbell once they see
	 * the new generation; one already past that look when it was bumped may still ring
	 * during the round trip (a window of a few instructions, not closed: that would
	 * cost the data path an atomic per doorbell). Harmless on a drive; a failed
	 * controller is not asked, and one that does not answer costs RESET_BARRIER_MS.
	 */
	if (!pl_nvme_cfs(c)) {
		struct nvme_sqe get = {
			.opcode = NVME_ADMIN_GET_FEATURES,
			.cdw10 = NVME_FEAT_NUM_QUEUES,
		};
		if (pl_nvme_admin_timed_locked(c, &get, &cpl, RESET_BARRIER_MS, true) == -ETIMEDOUT)
			pl_warn("%s: no answer to an admin command within %d ms: resetting it "
				"anyway", c->addr, RESET_BARRIER_MS);
	}
	ret = pl_nvme_enable(c);
	if (!ret)
		ret = pl_nvme_set_queue_count_locked(c);
	if (!ret && c->io_queues < had)
		pl_warn("%s: after the reset the controller grants %u I/O queue pairs, not %u: "
			"pairs above %u fail", c->addr, c->io_queues, had, c->io_queues);
	if (!ret && c->dbbuf) {
		memset((void *)c->dbbuf_shadow, 0, 4096);
		memset((void *)c->dbbuf_ei, 0, 4096);
		if ((ret = pl_nvme_dbbuf_config_locked(c, &cpl)))
			pl_err("%s: Doorbell Buffer Config failed after the reset: %s",
			       c->addr, pl_nvme_status_name(NVME_CQE_SCT_SC(cpl.status)));
	}
	if (ret) {
		pl_mmio_write32(c->bar, NVME_REG_CC, 0);
		__atomic_store_n(&c->dead, true, __ATOMIC_RELEASE);
		pl_err("%s: the controller did not come back from a reset (%s): it is failed; "
		       "every call on it now fails (close it, and reopen to try again)",
		       c->addr, strerror(-ret));
		return -EIO;
	}
	pl_nvme_events_start_locked(c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pl_info("%s: controller reset %u done in %.1f ms", c->addr, pl_nvme_resets(c),
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	return 0;
}

int pl_nvme_reset(struct pl_nvme_ctrl *c)
{
	pthread_mutex_lock(&c->admin_lock);
	int ret = pl_nvme_reset_locked(c);
	pthread_mutex_unlock(&c->admin_lock);
	return ret;
}

unsigned pl_nvme_resets(const struct pl_nvme_ctrl *c)
{
	return __atomic_load_n(&c->resets, __ATOMIC_RELAXED);
}

bool pl_nvme_failed(const struct pl_nvme_ctrl *c)
{
	return pl_nvme_dead(c);
}
