/* The bounded register wait; the accessors and barriers are inline in pollen/mmio.h. */
#include <pollen/log.h>
#include <pollen/mmio.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

int pl_mmio_wait(const volatile void *base, struct pl_mmio_wait *w)
{
	uint64_t start = now_ns(), deadline = start + (uint64_t)w->timeout_ms * 1000000u;
	long sleep_ns = 1000;

	for (;;) {
		/* The clock first: a read after the deadline still counts. */
		bool late = now_ns() >= deadline;

		w->last = pl_mmio_read32(base, w->off);
		if ((w->last & w->mask) == w->want)
			return 0;
		if (w->last & w->fail) {
			if (w->what)
				pl_err("%s: register 0x%zx reads 0x%08x: a failure bit (0x%x) is set",
				       w->what, w->off, w->last, w->last & w->fail);
			return -EIO;
		}
		if (late)
			break;
		/* Devices take microseconds to milliseconds: start fine, then back off. */
		nanosleep(&(struct timespec){ .tv_nsec = sleep_ns }, NULL);
		if (sleep_ns < 1000000)
			sleep_ns *= 2;
	}
	if (w->what)
		pl_err("%s: register 0x%zx reads 0x%08x after %u ms; waited for (value & 0x%x) == "
		       "0x%x%s", w->what, w->off, w->last, w->timeout_ms, w->mask, w->want,
		       w->last == UINT32_MAX ? ": it reads all ones, so the device is gone or its "
					       "memory space is off (pl_vfio_enable_dma)" : "");
	return -ETIMEDOUT;
}
