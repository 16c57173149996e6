/* Unit tests on real hugepages: say clearly when the host has none free. */
#ifndef PL_TEST_HUGEPAGES_H
#define PL_TEST_HUGEPAGES_H

#include <criterion/criterion.h>
#include <pollen/dma.h>

/* Fails the test with the fix when fewer than @pages 2 MiB hugepages are free. */
static inline long need_hugepages(long pages)
{
	long total = 0, free_pages = 0;

	cr_assert_eq(pl_dma_hugepages(2ul << 20, &total, &free_pages), 0,
		     "this kernel has no 2 MiB hugepage pool");
	cr_assert_geq(free_pages, pages,
		      "%ld free 2 MiB hugepages (of %ld), this test needs %ld: run tests/run as root "
		      "(it reserves them), or: echo 128 > /proc/sys/vm/nr_hugepages",
		      free_pages, total, pages);
	return free_pages;
}

static inline long free_hugepages(void)
{
	long total = 0, free_pages = 0;

	pl_dma_hugepages(2ul << 20, &total, &free_pages);
	return free_pages;
}

#endif
