/*
 * What every other NVMe file watches, and nothing here calls back into them: the clocks
 * for bounded waits and timeouts, and CSTS for a controller that has failed.
 */
#include "nvme_priv.h"

#include <pollen/log.h>
#include <pollen/mmio.h>

#include <time.h>

bool pl_nvme_check_fatal(struct pl_nvme_ctrl *c)
{
	if (pl_nvme_cfs(c))
		return true;
	uint32_t csts = pl_mmio_read32(c->bar, NVME_REG_CSTS);

	/* All ones: the device no longer answers at all, which is as fatal. */
	if (!(csts & NVME_CSTS_CFS) && csts != UINT32_MAX)
		return false;
	/* Pollers on several threads may see it at once: one of them says so. */
	if (!__atomic_exchange_n(&c->cfs, true, __ATOMIC_ACQ_REL))
		pl_err("%s: the controller has failed (CSTS 0x%08x%s): it needs a reset",
		       c->addr, csts, csts == UINT32_MAX ? ", all ones: gone" : ", CFS");
	return true;
}

uint64_t pl_nvme_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

uint32_t pl_nvme_coarse_ms(void)
{
	struct timespec t;

	/* The tick clock: served from the vDSO page whatever the clock source, never a
	 * system call; a tick (4 to 10 ms) of resolution is plenty for timeouts. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint32_t)((uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000);
}
