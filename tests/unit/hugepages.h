/* Unit tests on real hugepages: what backs a mapping, and a clear word when the host has none. */
#ifndef PL_TEST_HUGEPAGES_H
#define PL_TEST_HUGEPAGES_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <pollen/dma.h>

/*
 * Fails the test with the fix when the host's pool has fewer than @pages 2 MiB hugepages.
 * It reads the pool's size, which no test changes, never the free count, which tests
 * running beside this one change all the time.
 */
static inline void need_hugepages(long pages)
{
	long total = 0, free_pages = 0;

	cr_assert_eq(pl_dma_hugepages(2ul << 20, &total, &free_pages), 0,
		     "this kernel has no 2 MiB hugepage pool");
	cr_assert_geq(total, pages,
		      "%ld 2 MiB hugepages reserved, this test needs %ld: run tests/run as root "
		      "(it reserves them), or: echo 64 > /proc/sys/vm/nr_hugepages", total, pages);
}

/*
 * The page size the kernel maps @va with in this process (KernelPageSize in
 * /proc/self/smaps), or 0 when nothing is mapped there: a property of this process alone.
 */
static inline size_t mapped_page_size(const void *va)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool inside = false;
	size_t kb = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			inside = (uintptr_t)va >= lo && (uintptr_t)va < hi;
		else if (inside && sscanf(line, "KernelPageSize: %zu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return inside ? kb << 10 : 0;
}

#endif
