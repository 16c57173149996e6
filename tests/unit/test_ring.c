/* pl_ring: order, all-or-nothing and burst semantics, counter wrap, and threads. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <pollen/ring.h>

#define P(x) ((void *)(uintptr_t)(x))

Test(ring, size_must_be_a_power_of_two)
{
	errno = 0;
	cr_expect_null(pl_ring_create("r", 100, 0));
	cr_expect_eq(errno, EINVAL);
	cr_expect_null(pl_ring_create("r", 0, 0));
	struct pl_ring *r = pl_ring_create("r", 64, 0);
	cr_assert_not_null(r);
	cr_expect_eq(pl_ring_capacity(r), 64);
	pl_ring_free(r);
}

Test(ring, bulk_is_all_or_nothing_and_burst_takes_what_fits)
{
	struct pl_ring *r = pl_ring_create("r", 8, PL_RING_SP_ENQ | PL_RING_SC_DEQ);
	void *in[10], *out[10];

	for (int i = 0; i < 10; i++)
		in[i] = P(i + 1);
	cr_assert_eq(pl_ring_enqueue_bulk(r, in, 6), 6);
	cr_expect_eq(pl_ring_enqueue_bulk(r, in + 6, 3), 0, "3 more do not fit in 8");
	cr_expect_eq(pl_ring_count(r), 6);
	cr_expect_eq(pl_ring_enqueue_burst(r, in + 6, 3), 2);
	cr_expect_eq(pl_ring_free_count(r), 0);
	cr_expect(!pl_ring_enqueue(r, in[9]));
	cr_expect_eq(pl_ring_dequeue_bulk(r, out, 9), 0, "9 are not there");
	cr_assert_eq(pl_ring_dequeue_burst(r, out, 10), 8);
	for (int i = 0; i < 8; i++)
		cr_expect_eq(out[i], in[i], "slot %d out of order", i);
	cr_expect_eq(pl_ring_dequeue_burst(r, out, 1), 0);
	pl_ring_free(r);
}

Test(ring, fifo_across_the_wrap_and_counter_overflow)
{
	struct pl_ring *r = pl_ring_create("r", 16, 0);
	void *in[5], *out[5];
	uintptr_t next_in = 1, next_out = 1;

	/* Start the free-running counters just short of 2^32. */
	r->prod.head = r->prod.tail = r->cons.head = r->cons.tail = UINT32_MAX - 20;
	for (int round = 0; round < 1000; round++) {
		unsigned n = 1 + round % 5;
		for (unsigned i = 0; i < n; i++)
			in[i] = P(next_in++);
		cr_assert_eq(pl_ring_enqueue_bulk(r, in, n), n, "round %d", round);
		cr_assert_eq(pl_ring_dequeue_bulk(r, out, n), n);
		for (unsigned i = 0; i < n; i++)
			cr_assert_eq(out[i], P(next_out++), "round %d item %u", round, i);
		cr_assert_eq(pl_ring_count(r), 0);
	}
	pl_ring_free(r);
}
