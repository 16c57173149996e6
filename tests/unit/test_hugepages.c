/*
 * Too few hugepages: what the error says, read from a hugepage pool in a temporary sysfs
 * tree, for an allocation the real kernel refuses (a terabyte of 2 MiB pages).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <pollen/dma.h>
#include <pollen/log.h>

#include "logcap.h"
#include "tmptree.h"

static void setup(void)
{
	tmptree_create();
	last[0] = 0;
	pl_log_set_handler(capture);
}

static void teardown(void)
{
	pl_log_set_handler(NULL);
	tmptree_destroy();
}

TestSuite(hugepages, .init = setup, .fini = teardown);

/* The 2 MiB pool as sysfs would show it. */
static void pool(long nr, long free_pages, long resv)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	const long v[3] = { nr, free_pages, resv };
	static const char *const attr[3] = { "nr_hugepages", "free_hugepages", "resv_hugepages" };

	snprintf(dir, sizeof(dir), "%s/sys/kernel/mm/hugepages/hugepages-2048kB", tmptree_root());
	for (char *p = dir + strlen(tmptree_root()) + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		mkdir(dir, 0755);
		*p = '/';
	}
	mkdir(dir, 0755);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, attr[i]);
		FILE *f = fopen(path, "w");
		cr_assert_not_null(f);
		fprintf(f, "%ld\n", v[i]);
		fclose(f);
	}
}

#define TERABYTE (1ul << 40)	/* 524288 pages of 2 MiB: more than any test host has */

Test(hugepages, pages_reserved_by_others_are_not_counted_as_free)
{
	size_t len;

	pool(256, 256, 256);
	errno = 0;
	cr_expect_null(pl_hugepage_alloc(TERABYTE, 0, &len));
	cr_expect_eq(errno, ENOMEM);
	cr_expect(strstr(last, "want 524288, 0 available (256 free of 256, 256 of those reserved"),
		  "logged: %s", last);
	/* Everything wanted on top of what the pool has now. */
	cr_expect(strstr(last, "echo 524544 > /sys/kernel/mm/hugepages/hugepages-2048kB/"
			 "nr_hugepages"), "logged: %s", last);
}

Test(hugepages, a_refusal_with_pages_available_never_advises_a_smaller_pool)
{
	size_t len;

	/* The tree says plenty are free; the kernel refuses anyway (a cgroup, say). */
	pool(600000, 600000, 0);
	cr_expect_null(pl_hugepage_alloc(TERABYTE, 0, &len));
	cr_expect(strstr(last, "refused although 600000 are available"), "logged: %s", last);
	cr_expect(!strstr(last, "echo"), "advised a pool size: %s", last);
}

Test(hugepages, a_length_that_wraps_when_rounded_is_einval)
{
	size_t len;

	errno = 0;
	cr_expect_null(pl_hugepage_alloc(SIZE_MAX - 10, 0, &len));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(last, "too large"), "logged: %s", last);
	cr_expect(!strstr(last, "echo"), "advised a pool size: %s", last);
}
