/* pl_mempool on real hugepages: objects, caches, the empty pool, debug checks, threads. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pollen/log.h>
#include <pollen/mempool.h>

#include "hugepages.h"
#include "logcap.h"

static struct pl_mempool *make(unsigned n, size_t size, unsigned cache, unsigned flags)
{
	struct pl_mempool_params p = {
		.name = "test", .n = n, .obj_size = size, .cache_size = cache, .flags = flags,
	};
	struct pl_mempool *mp = pl_mempool_create(NULL, &p);

	cr_assert_not_null(mp, "pl_mempool_create: %s", strerror(errno));
	return mp;
}

Test(mempool, objects_come_from_hugepages_aligned_and_distinct)
{
	need_hugepages(2);
	struct pl_mempool *mp = make(1000, 2048, 32, 0);
	void *objs[1000];

	/* 1000 x 2 KiB = 2000 KiB: one 2 MiB hugepage, which this process maps. */
	cr_expect_eq(mp->region_len, 2u << 20);
	cr_expect_eq(mapped_page_size(mp->base), 2u << 20, "the pool is not on a 2 MiB page");
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(pl_mempool_get(mp, &objs[i]), 0, "object %d", i);
		cr_assert_eq((uintptr_t)objs[i] % 64, 0);
		cr_assert(pl_mempool_contains(mp, objs[i]));
		memset(objs[i], i & 0xff, 2048);	/* each is really 2 KiB of its own */
	}
	for (int i = 0; i < 1000; i++)
		for (int b = 0; b < 2048; b += 512)
			cr_assert_eq(((unsigned char *)objs[i])[b], i & 0xff, "objects overlap");
	cr_expect_eq(pl_mempool_iova(mp, objs[0]), PL_IOVA_BAD, "no context, so no IOVA");

	void *extra;
	cr_expect_eq(pl_mempool_get(mp, &extra), -ENOBUFS, "an empty pool says so");
	struct pl_mempool_stats st;
	pl_mempool_stats(mp, &st);
	cr_expect_eq(st.in_use, 1000);
	cr_expect_eq(pl_mempool_put_bulk(mp, objs, 1000), 0);
	pl_mempool_stats(mp, &st);
	cr_expect_eq(st.in_use, 0);
	cr_expect_eq(st.in_ring + st.in_caches, 1000);
	void *base = mp->base;
	pl_mempool_free(mp);
	cr_expect_eq(mapped_page_size(base), 0, "the hugepage is still mapped after the free");
}

Test(mempool, bulk_gets_are_all_or_nothing)
{
	need_hugepages(1);
	struct pl_mempool *mp = make(100, 64, 0, 0);
	void *a[64], *b[64];

	cr_assert_eq(pl_mempool_get_bulk(mp, a, 64), 0);
	cr_expect_eq(pl_mempool_get_bulk(mp, b, 64), -ENOBUFS);
	cr_expect_eq(pl_mempool_get_bulk(mp, b, 36), 0, "the failed bulk took nothing");
	cr_expect_eq(pl_mempool_get_bulk(mp, b, 1), -ENOBUFS);
	pl_mempool_put_bulk(mp, a, 64);
	pl_mempool_put_bulk(mp, b, 36);
	pl_mempool_free(mp);
}

static void init_obj(struct pl_mempool *mp, void *obj, unsigned idx, void *arg)
{
	(void)mp;
	*(unsigned *)obj = idx;
	__atomic_add_fetch((unsigned *)arg, 1, __ATOMIC_RELAXED);
}

Test(mempool, init_runs_once_per_object)
{
	need_hugepages(1);
	unsigned calls = 0;
	struct pl_mempool_params p = { .name = "init", .n = 300, .obj_size = 100,
				       .obj_init = init_obj, .obj_init_arg = &calls };
	struct pl_mempool *mp = pl_mempool_create(NULL, &p);
	unsigned char hit[300] = { 0 };
	void *objs[300];

	cr_assert_not_null(mp);
	cr_expect_eq(calls, 300);
	cr_assert_eq(pl_mempool_get_bulk(mp, objs, 300), 0);
	for (int i = 0; i < 300; i++) {
		unsigned idx = *(unsigned *)objs[i];
		cr_assert_lt(idx, 300);
		hit[idx]++;
	}
	for (int i = 0; i < 300; i++)
		cr_expect_eq(hit[i], 1, "object %d", i);
	pl_mempool_put_bulk(mp, objs, 300);
	pl_mempool_free(mp);
}

Test(mempool, an_explicit_cache_serves_without_the_ring)
{
	need_hugepages(1);
	struct pl_mempool *mp = make(512, 256, 0, 0);
	struct pl_mempool_cache *c = pl_mempool_cache_create(mp, 64);
	void *objs[32];

	cr_assert_not_null(c);
	cr_assert_eq(pl_mempool_cache_get_bulk(c, objs, 32), 0);
	cr_expect_eq(c->misses, 1, "the first get refills");
	cr_expect_eq(pl_ring_count(mp->ring), 512 - 64 - 32, "refilled to its size plus the get");
	for (int round = 0; round < 100; round++) {
		cr_assert_eq(pl_mempool_cache_put_bulk(c, objs, 32), 0);
		cr_assert_eq(pl_mempool_cache_get_bulk(c, objs, 32), 0);
	}
	cr_expect_eq(c->hits, 100);
	cr_expect_eq(pl_ring_count(mp->ring), 512 - 64 - 32, "the ring was not touched");
	pl_mempool_cache_put_bulk(c, objs, 32);
	pl_mempool_cache_free(c);
	cr_expect_eq(pl_ring_count(mp->ring), 512, "freeing the cache returns its objects");
	pl_mempool_free(mp);
}

Test(mempool, the_default_cache_counts_hits_and_misses)
{
	need_hugepages(1);
	struct pl_mempool *mp = make(256, 64, 16, 0);
	void *o;
	struct pl_mempool_stats st;

	for (int i = 0; i < 10; i++) {
		cr_assert_eq(pl_mempool_get(mp, &o), 0);
		cr_assert_eq(pl_mempool_put(mp, o), 0);
	}
	pl_mempool_stats(mp, &st);
	cr_expect_eq(st.cache_misses, 1);
	cr_expect_eq(st.cache_hits, 9);
	cr_expect_eq(st.in_caches, 17, "refilled to 16 plus the one taken, then put back");
	cr_expect_eq(st.in_use, 0);
	pl_mempool_free(mp);
}

Test(mempool, debug_catches_double_and_foreign_puts_and_writes_after_free)
{
	need_hugepages(1);
	struct pl_mempool *mp = make(64, 128, 8, PL_MEMPOOL_DEBUG);
	struct pl_mempool_stats st;
	void *o, *o2;
	char outside[128];

	pl_log_set_handler(capture);
	cr_assert_eq(pl_mempool_get(mp, &o), 0);
	cr_expect_eq(((unsigned char *)o)[5], 0x6b, "free objects are poisoned");
	cr_assert_eq(pl_mempool_put(mp, o), 0);
	cr_expect_eq(pl_mempool_put(mp, o), -EINVAL);
	cr_expect(strstr(last, "double free"), "logged: %s", last);
	cr_expect_eq(pl_mempool_put(mp, outside), -EINVAL);
	cr_expect(strstr(last, "not one of its objects"), "logged: %s", last);
	cr_expect_eq(pl_mempool_put(mp, (char *)o + 8), -EINVAL, "a pointer inside an object");
	void *pair[2];
	cr_assert_eq(pl_mempool_get(mp, &o2), 0);
	pair[0] = pair[1] = o2;
	cr_expect_eq(pl_mempool_put_bulk(mp, pair, 2), -EINVAL, "the same object twice in a batch");
	cr_assert_eq(pl_mempool_put(mp, o2), 0, "the refused batch left the object out");

	/* Write to an object after freeing it: the next get of it reports it. */
	((char *)o2)[100] = 1;
	void *all[64];
	cr_assert_eq(pl_mempool_get_bulk(mp, all, 64), 0);
	cr_expect(strstr(last, "written after it was freed"), "logged: %s", last);
	pl_mempool_stats(mp, &st);
	cr_expect_eq(st.debug_errors, 5);
	cr_expect_eq(pl_mempool_put_bulk(mp, all, 64), 0);
	pl_log_set_handler(NULL);
	pl_mempool_free(mp);
}

Test(mempool, debug_pools_keep_what_init_wrote)
{
	need_hugepages(1);
	unsigned calls = 0;
	struct pl_mempool_params p = { .name = "dbginit", .n = 16, .obj_size = 64,
				       .flags = PL_MEMPOOL_DEBUG, .obj_init = init_obj,
				       .obj_init_arg = &calls };
	struct pl_mempool *mp = pl_mempool_create(NULL, &p);
	void *objs[16];

	cr_assert_not_null(mp);
	cr_assert_eq(pl_mempool_get_bulk(mp, objs, 16), 0);
	for (int i = 0; i < 16; i++)
		cr_expect_lt(*(unsigned *)objs[i], 16, "the poison replaced the init's work");
	cr_assert_eq(pl_mempool_put_bulk(mp, objs, 16), 0);
	cr_assert_eq(pl_mempool_get_bulk(mp, objs, 1), 0);
	cr_expect_lt(*(unsigned *)objs[0], 16, "and again after a put");
	/* Once per object, at creation, as the header promises: never again on a get. */
	cr_expect_eq(calls, 16, "obj_init ran %u times for 16 objects", calls);
	pl_mempool_put(mp, objs[0]);
	pl_mempool_free(mp);
}

/*
 * A thread's end frees its cache slot for the next thread. Key destructors that run
 * after Pollen's (glibc runs them in the order the keys were made, and Pollen's is made
 * with the first pool) may still use pools: they must not use the slot, which another
 * thread may hold by then.
 */
static struct pl_mempool *late_pool;
static pthread_key_t late_key;
static sem_t slot_freed, slot_taken, late_done;
static unsigned late_failures;

static void late_destructor(void *arg)
{
	void *o;

	(void)arg;
	sem_post(&slot_freed);
	sem_wait(&slot_taken);
	for (int i = 0; i < 100; i++)
		if (pl_mempool_get(late_pool, &o) || pl_mempool_put(late_pool, o))
			late_failures++;
	sem_post(&late_done);
}

static void *uses_pool_then_ends(void *arg)
{
	void *o;

	(void)arg;
	pl_mempool_get(late_pool, &o);
	pl_mempool_put(late_pool, o);
	pthread_setspecific(late_key, (void *)1);
	return NULL;
}

/* Takes the slot that the ending thread freed, and checks nobody else uses it meanwhile. */
static void *takes_the_freed_slot(void *arg)
{
	void *o;

	sem_wait(&slot_freed);
	if (pl_mempool_get(late_pool, &o) || pl_mempool_put(late_pool, o))
		late_failures++;
	struct pl_mempool_cache *mine = pl_mempool_default_cache(late_pool);
	uint64_t hits = mine->hits;
	sem_post(&slot_taken);
	sem_wait(&late_done);
	*(uint64_t *)arg = mine->hits - hits;
	return NULL;
}

Test(mempool, a_slot_is_not_used_after_its_thread_freed_it)
{
	void *o;

	need_hugepages(1);
	late_pool = make(256, 64, 16, 0);
	/* A pool first, so Pollen's thread key exists before the test's own. */
	cr_assert_eq(pl_mempool_get(late_pool, &o), 0);
	cr_assert_eq(pl_mempool_put(late_pool, o), 0);
	cr_assert_eq(pthread_key_create(&late_key, late_destructor), 0);
	sem_init(&slot_freed, 0, 0);
	sem_init(&slot_taken, 0, 0);
	sem_init(&late_done, 0, 0);

	pthread_t a, b;
	uint64_t foreign_hits = 0;
	pthread_create(&b, NULL, takes_the_freed_slot, &foreign_hits);
	pthread_create(&a, NULL, uses_pool_then_ends, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	cr_expect_eq(late_failures, 0);
	cr_expect_eq(foreign_hits, 0, "the ended thread's destructor used the cache of the thread "
		     "that took its slot (%llu calls)", (unsigned long long)foreign_hits);
	struct pl_mempool_stats st;
	pl_mempool_stats(late_pool, &st);
	cr_expect_eq(st.in_use, 0);
	pl_mempool_free(late_pool);
}

/* fork(): the child's copy shares the objects with the parent, so the child is refused. */
static int child_uses(struct pl_mempool *mp, struct pl_mempool_cache *ec, void *held)
{
	void *o[2];

	pl_log_set_handler(capture);
	last[0] = 0;
	if (pl_mempool_get(mp, &o[0]) != -EPERM)
		return 1;
	if (!strstr(last, "after fork()"))
		return 2;
	if (pl_mempool_cache_get_bulk(ec, o, 2) != -EPERM)
		return 3;
	if (pl_mempool_ring_get_bulk(mp, o, 1) != -EPERM)
		return 4;
	if (pl_mempool_put(mp, held) != -EPERM)
		return 5;
	pl_mempool_cache_free(ec);
	pl_mempool_free(mp);
	return 0;
}

Test(mempool, a_child_after_fork_is_refused_and_the_parent_unharmed)
{
	need_hugepages(1);
	struct pl_mempool *mp = make(128, 64, 16, 0);
	struct pl_mempool_cache *ec = pl_mempool_cache_create(mp, 8);
	void *held[4], *ex[2];

	cr_assert_not_null(ec);
	cr_assert_eq(pl_mempool_get_bulk(mp, held, 4), 0);
	cr_assert_eq(pl_mempool_cache_get_bulk(ec, ex, 2), 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(child_uses(mp, ec, held[0]));
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	static const char *const step[] = { "", "a get in the child was served",
		"the refusal was not logged", "an explicit cache served the child",
		"the ring served the child", "a put in the child was taken" };
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %s",
		  WIFEXITED(st) && WEXITSTATUS(st) < 6 ? step[WEXITSTATUS(st)] : "crashed");

	/* The parent goes on as if nothing happened. */
	void *more[8];
	cr_assert_eq(pl_mempool_get_bulk(mp, more, 8), 0);
	cr_assert_eq(pl_mempool_put_bulk(mp, more, 8), 0);
	cr_assert_eq(pl_mempool_put_bulk(mp, held, 4), 0);
	cr_assert_eq(pl_mempool_cache_put_bulk(ec, ex, 2), 0);
	pl_mempool_cache_free(ec);
	struct pl_mempool_stats s;
	pl_mempool_stats(mp, &s);
	cr_expect_eq(s.in_use, 0);
	cr_expect_eq(s.in_ring + s.in_caches, 128);
	pl_mempool_free(mp);
}

/* Every live pool, however many, gets an ending thread's cache back. */
#define MANY_POOLS 300
static struct pl_mempool *many[MANY_POOLS];

static void *touch_every_pool(void *arg)
{
	void *o;

	(void)arg;
	for (int i = 0; i < MANY_POOLS; i++)
		if (!pl_mempool_get(many[i], &o))
			pl_mempool_put(many[i], o);
	return NULL;
}

Test(mempool, an_ending_thread_flushes_its_caches_in_every_pool)
{
	for (int i = 0; i < MANY_POOLS; i++)
		many[i] = make(8, 64, 4, PL_MEMPOOL_4K);
	pthread_t t;
	pthread_create(&t, NULL, touch_every_pool, NULL);
	pthread_join(t, NULL);
	int stranded = 0;
	for (int i = 0; i < MANY_POOLS; i++) {
		struct pl_mempool_stats st;

		pl_mempool_stats(many[i], &st);
		if (st.in_ring != 8) {
			if (!stranded)
				cr_log_error("pool %d: %u of 8 in the ring, %u in caches", i,
					     st.in_ring, st.in_caches);
			stranded++;
		}
	}
	cr_expect_eq(stranded, 0, "%d of %d pools kept objects in a dead thread's cache",
		     stranded, MANY_POOLS);
	for (int i = 0; i < MANY_POOLS; i++)
		pl_mempool_free(many[i]);
}

Test(mempool, zero_objects_is_not_an_error)
{
	need_hugepages(2);
	struct pl_mempool *cached = make(8, 64, 4, 0), *bare = make(8, 64, 0, 0);
	void *o;

	cr_expect_eq(pl_mempool_get_bulk(cached, &o, 0), 0);
	cr_expect_eq(pl_mempool_get_bulk(bare, &o, 0), 0);
	cr_expect_eq(pl_mempool_put_bulk(bare, &o, 0), 0);
	pl_mempool_free(cached);
	pl_mempool_free(bare);
}

Test(mempool, bad_parameters_and_too_few_hugepages_say_why)
{
	struct pl_mempool_params p = { .name = "bad", .n = 0, .obj_size = 64 };

	pl_log_set_handler(capture);
	errno = 0;
	cr_expect_null(pl_mempool_create(NULL, &p));
	cr_expect_eq(errno, EINVAL);
	p = (struct pl_mempool_params){ .name = "bad", .n = 10, .obj_size = 64, .cache_size = 11 };
	cr_expect_null(pl_mempool_create(NULL, &p));
	cr_expect_eq(errno, EINVAL);
	p = (struct pl_mempool_params){ .name = "bad", .n = 1u << 30, .obj_size = SIZE_MAX / 8 };
	cr_expect_null(pl_mempool_create(NULL, &p), "a size that overflows");
	cr_expect_eq(errno, EINVAL);

	/* Far more than any test host reserves: the error names the counts and the fix. */
	p = (struct pl_mempool_params){ .name = "huge", .n = 1u << 20, .obj_size = 64 * 1024 };
	errno = 0;
	cr_expect_null(pl_mempool_create(NULL, &p));
	cr_expect_eq(errno, ENOMEM);
	pl_log_set_handler(NULL);
}

Test(mempool, ordinary_pages_when_asked)
{
	struct pl_mempool *mp = make(100, 4096, 0, PL_MEMPOOL_4K);
	void *o;

	cr_expect_eq(mapped_page_size(mp->base), 4096, "a 4K pool is not on 4 KiB pages");
	cr_assert_eq(pl_mempool_get(mp, &o), 0);
	pl_mempool_put(mp, o);
	pl_mempool_free(mp);
}

Test(mempool, an_explicit_cache_outliving_its_pool_frees_cleanly)
{
	need_hugepages(1);
	struct pl_mempool *mp = make(64, 64, 0, 0);
	struct pl_mempool_cache *c = pl_mempool_cache_create(mp, 8);
	void *o[4];

	cr_assert_not_null(c);
	cr_assert_eq(pl_mempool_cache_get_bulk(c, o, 4), 0);
	cr_assert_eq(pl_mempool_cache_put_bulk(c, o, 4), 0);
	/* The wrong order: the pool first. Its free flushes the cache and lets go of it. */
	pl_mempool_free(mp);
	cr_expect_eq(c->pool, NULL);
	pl_mempool_cache_free(c);
}
