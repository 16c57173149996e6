/* pollen/mmio.h: the accessors' widths and the bounded register wait, on ordinary memory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pollen/log.h>
#include <pollen/mmio.h>

#include "logcap.h"

static double ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1e3 + (b.tv_nsec - a->tv_nsec) / 1e6;
}

Test(mmio, accessors_touch_exactly_their_width)
{
	uint8_t regs[32];

	memset(regs, 0xee, sizeof(regs));
	pl_mmio_write8(regs, 1, 0x11);
	pl_mmio_write16(regs, 2, 0x2233);
	pl_mmio_write32(regs, 4, 0x44556677);
	pl_mmio_write64(regs, 8, 0x8899aabbccddeeffull);
	pl_mmio_write64_lo_hi(regs, 16, 0x0123456789abcdefull);
	cr_expect_eq(regs[0], 0xee, "a byte write spilled");
	cr_expect_eq(pl_mmio_read8(regs, 1), 0x11);
	cr_expect_eq(pl_mmio_read16(regs, 2), 0x2233);
	cr_expect_eq(pl_mmio_read32(regs, 4), 0x44556677);
	cr_expect_eq(pl_mmio_read64(regs, 8), 0x8899aabbccddeeffull);
	cr_expect_eq(pl_mmio_read32(regs, 16), 0x89abcdef, "low half at the lower address");
	cr_expect_eq(pl_mmio_read32(regs, 20), 0x01234567);
	cr_expect_eq(regs[24], 0xee, "a 64-bit write spilled");
}

static uint32_t reg[4];

static void *set_ready_later(void *arg)
{
	(void)arg;
	usleep(30000);
	__atomic_store_n(&reg[1], 0x5, __ATOMIC_RELEASE);
	return NULL;
}

Test(mmio, a_wait_returns_once_the_condition_holds)
{
	pthread_t t;

	reg[1] = 0x4;
	cr_assert_eq(pthread_create(&t, NULL, set_ready_later, NULL), 0);
	struct pl_mmio_wait w = { .off = 4, .mask = 1, .want = 1, .timeout_ms = 5000, .what = "RDY" };
	cr_expect_eq(pl_mmio_wait(reg, &w), 0);
	cr_expect_eq(w.last, 0x5);
	pthread_join(t, NULL);
	/* Already true: no wait at all. */
	cr_expect_eq(pl_mmio_wait32(reg, 4, 0x4, 0x4, 0, "bit 2"), 0);
}

Test(mmio, a_wait_that_times_out_says_what_it_waited_for)
{
	struct timespec a;

	reg[2] = 0x10;
	pl_log_set_handler(capture);
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_expect_eq(pl_mmio_wait32(reg, 8, 0x1, 0x1, 60, "0000:00:02.0 CSTS.RDY"), -ETIMEDOUT);
	double ms = ms_since(&a);
	cr_expect_geq(ms, 60, "gave up after %.1f ms of 60", ms);
	cr_expect_lt(ms, 1000, "took %.1f ms for a 60 ms bound", ms);
	cr_expect(strstr(last, "0000:00:02.0 CSTS.RDY: register 0x8 reads 0x00000010 after 60 ms"),
		  "logged: %s", last);
	cr_expect(strstr(last, "(value & 0x1) == 0x1"), "logged: %s", last);

	/* A register reading all ones is a device that has gone away. */
	reg[2] = UINT32_MAX;
	cr_expect_eq(pl_mmio_wait32(reg, 8, 0x1, 0x0, 5, "STATUS"), -ETIMEDOUT);
	cr_expect(strstr(last, "all ones"), "logged: %s", last);

	/* Silent when asked. */
	last[0] = 0;
	cr_expect_eq(pl_mmio_wait32(reg, 8, 0x1, 0x0, 5, NULL), -ETIMEDOUT);
	cr_expect_str_eq(last, "");
	pl_log_set_handler(NULL);
}

Test(mmio, a_failure_bit_ends_the_wait_at_once)
{
	struct timespec a;

	reg[3] = 0x2;	/* as NVMe's CSTS.CFS beside a RDY that never comes */
	pl_log_set_handler(capture);
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct pl_mmio_wait w = { .off = 12, .mask = 1, .want = 1, .fail = 2, .timeout_ms = 10000,
				  .what = "CSTS.RDY" };
	cr_expect_eq(pl_mmio_wait(reg, &w), -EIO);
	cr_expect_lt(ms_since(&a), 1000, "waited for a failed device");
	cr_expect(strstr(last, "a failure bit (0x2) is set"), "logged: %s", last);
	pl_log_set_handler(NULL);
}
