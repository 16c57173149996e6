/*
 * Threads hammering rings and pools: every object must arrive exactly once and none may
 * be lost. Runs under ThreadSanitizer and AddressSanitizer in CI (tests/run), which is
 * why it is a plain program: Criterion's runner does not run under TSan.
 */
#define _GNU_SOURCE
#include <pollen/dma.h>
#include <pollen/mempool.h>
#include <pollen/ring.h>

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

/*
 * ThreadSanitizer runs each access many times slower, and four threads spinning on two
 * cores slower still: a quarter of the work there finds the same races.
 */
#if defined(__SANITIZE_THREAD__)
#define WORK(n) ((n) / 4)
#else
#define WORK(n) (n)
#endif

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                       \
			fprintf(stderr, "\n");                              \
			ok = false;                                         \
		}                                                           \
	} while (0)

/* ---- two producers and two consumers on one MPMC ring ---- */

#define PER_PRODUCER WORK(200000)
static struct pl_ring *shared;
static unsigned char *seen;
static unsigned long consumed;

static void *producer(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	void *batch[7];

	for (uintptr_t i = 0; i < PER_PRODUCER;) {
		unsigned n = 0;
		for (; n < 7 && i + n < PER_PRODUCER; n++)
			batch[n] = (void *)(1 + id * PER_PRODUCER + i + n);
		i += pl_ring_enqueue_burst(shared, batch, n);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	void *batch[5];

	(void)arg;
	while (__atomic_load_n(&consumed, __ATOMIC_RELAXED) < 2 * PER_PRODUCER) {
		unsigned n = pl_ring_dequeue_burst(shared, batch, 5);
		for (unsigned i = 0; i < n; i++)
			__atomic_add_fetch(&seen[(uintptr_t)batch[i] - 1], 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&consumed, n, __ATOMIC_RELAXED);
	}
	return NULL;
}

static bool ring_mpmc(void)
{
	pthread_t t[4];
	bool ok = true;

	shared = pl_ring_create("mpmc", 64, 0);
	seen = calloc(2 * PER_PRODUCER, 1);
	CHECK(shared && seen, "no memory");
	if (!ok)
		return false;
	for (uintptr_t i = 0; i < 2; i++) {
		pthread_create(&t[i], NULL, producer, (void *)i);
		pthread_create(&t[2 + i], NULL, consumer, NULL);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	long bad = 0;
	for (long v = 0; v < 2 * PER_PRODUCER; v++)
		bad += seen[v] != 1;
	CHECK(!bad, "%ld of %d values not seen exactly once", bad, 2 * PER_PRODUCER);
	CHECK(pl_ring_count(shared) == 0, "%u left in the ring", pl_ring_count(shared));
	free(seen);
	pl_ring_free(shared);
	return ok;
}

/*
 * ---- threads passing pool objects around a circle of rings ----
 * Each takes objects from the pool through its own cache, hands them to the next thread,
 * and returns what the previous one handed it. A per-object flag proves no object is out
 * twice at once; the final count proves none is lost.
 */
#define THREADS 4
#define ROUNDS WORK(20000)
#define POOL_N 2048
static struct pl_mempool *pool;
static struct pl_ring *links[THREADS];
static unsigned char *out_flag;
static unsigned long dupes;
static unsigned finished;

static void mark(void *obj, unsigned char from, unsigned char to)
{
	unsigned idx = ((char *)obj - pool->base) / pool->elt_size;
	unsigned char expect = from;

	if (!__atomic_compare_exchange_n(&out_flag[idx], &expect, to, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		__atomic_add_fetch(&dupes, 1, __ATOMIC_RELAXED);
}

static void drain(struct pl_ring *from)
{
	void *objs[8];
	unsigned n;

	while ((n = pl_ring_dequeue_burst(from, objs, 8))) {
		for (unsigned i = 0; i < n; i++)
			mark(objs[i], 1, 0);
		pl_mempool_put_bulk(pool, objs, n);
	}
}

static void *exchange(void *arg)
{
	unsigned me = (uintptr_t)arg;
	struct pl_ring *to = links[(me + 1) % THREADS], *from = links[me];
	void *objs[8];

	for (unsigned sent = 0; sent < ROUNDS;) {
		unsigned n = 1 + sent % 8;
		if (pl_mempool_get_bulk(pool, objs, n) == 0) {
			for (unsigned i = 0; i < n; i++)
				mark(objs[i], 0, 1);
			/* Each link has room for every object in the pool: this always fits. */
			if (pl_ring_enqueue_bulk(to, objs, n) != n)
				__atomic_add_fetch(&dupes, 1000000, __ATOMIC_RELAXED);
			sent++;
		}
		drain(from);
	}
	__atomic_add_fetch(&finished, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) < THREADS) {
		drain(from);
		sched_yield();	/* the others need the cores more than this wait does */
	}
	drain(from);
	/* Ending, the thread's default cache goes back to the pool by itself. */
	return NULL;
}

static bool pool_exchange(bool huge)
{
	struct pl_mempool_params p = { .name = "stress", .n = POOL_N, .obj_size = 192,
				       .cache_size = 32, .flags = huge ? 0 : PL_MEMPOOL_4K };
	pthread_t t[THREADS];
	bool ok = true;

	pool = pl_mempool_create(NULL, &p);
	out_flag = calloc(POOL_N, 1);
	CHECK(pool && out_flag, "no pool (hugepages: %s)", huge ? "yes" : "no");
	if (!ok)
		return false;
	for (int i = 0; i < THREADS; i++)
		links[i] = pl_ring_create("link", 4096, PL_RING_SP_ENQ | PL_RING_SC_DEQ);
	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, exchange, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < THREADS; i++) {
		CHECK(pl_ring_count(links[i]) == 0, "objects left in flight");
		pl_ring_free(links[i]);
	}
	CHECK(dupes == 0, "%lu objects out twice or returned twice", dupes);
	struct pl_mempool_stats st;
	pl_mempool_stats(pool, &st);
	CHECK(st.in_ring == POOL_N, "objects lost: %u in the ring, %u in caches, %u in use",
	      st.in_ring, st.in_caches, st.in_use);
	long still_out = 0;
	for (int i = 0; i < POOL_N; i++)
		still_out += out_flag[i];
	CHECK(!still_out, "%ld objects still marked out", still_out);
	free(out_flag);
	pl_mempool_free(pool);
	dupes = finished = 0;
	return ok;
}

/*
 * ---- many short-lived threads on a small pool ----
 * Each thread's default cache would hold objects after it ends, and the slots would run
 * out after 128 threads, if a thread's end did not flush its caches and free its slot.
 */
static int churn_failures;

static void *short_life(void *arg)
{
	void *objs[10];

	(void)arg;
	if (pl_mempool_get_bulk(pool, objs, 10) || pl_mempool_put_bulk(pool, objs, 10))
		__atomic_add_fetch(&churn_failures, 1, __ATOMIC_RELAXED);
	return NULL;
}

static bool thread_churn(void)
{
	struct pl_mempool_params p = { .name = "churn", .n = 64, .obj_size = 64,
				       .cache_size = 16, .flags = PL_MEMPOOL_4K };
	bool ok = true;

	pool = pl_mempool_create(NULL, &p);
	CHECK(pool, "no pool");
	if (!ok)
		return false;
	for (int round = 0; round < 150; round++) {
		pthread_t t[2];
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, short_life, NULL);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
	}
	CHECK(!churn_failures, "%d of 300 threads found the pool empty", churn_failures);
	struct pl_mempool_stats st;
	pl_mempool_stats(pool, &st);
	CHECK(st.in_ring == 64, "%u of 64 objects back in the ring, %u in caches", st.in_ring,
	      st.in_caches);
	CHECK(st.cache_misses >= 300, "%llu refills: the threads did not use default caches",
	      (unsigned long long)st.cache_misses);
	pl_mempool_free(pool);
	return ok;
}

/*
 * ---- a single-producer pool: one putter, many short-lived getters ----
 * Getters take objects through their default caches and hand them to the one thread
 * allowed to put; their caches still hold refilled objects when they end. An ending
 * getter must not become a second producer on the ring: that loses objects, or wedges
 * the ring's reservation forever.
 */
#define SP_POOL_N 4096
static struct pl_ring *handoff;
static bool getters_done;

static void *sp_putter(void *arg)
{
	void *objs[16];

	(void)arg;
	for (;;) {
		bool last = __atomic_load_n(&getters_done, __ATOMIC_ACQUIRE);
		unsigned n = pl_ring_dequeue_burst(handoff, objs, 16);

		if (n)
			pl_mempool_put_bulk(pool, objs, n);
		else if (last)
			return NULL;
	}
}

static void *sp_getter(void *arg)
{
	void *objs[5];

	(void)arg;
	for (int i = 0; i < 4; i++)
		if (pl_mempool_get_bulk(pool, objs, 5) == 0)
			while (pl_ring_enqueue_bulk(handoff, objs, 5) != 5)
				;
	return NULL;
}

/* Joins @t within @secs seconds; false when it is stuck. */
static bool join_within(pthread_t t, int secs)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += secs;
	return pthread_timedjoin_np(t, NULL, &until) == 0;
}

static bool sp_put_pool_with_getter_threads(void)
{
	struct pl_mempool_params p = { .name = "sp", .n = SP_POOL_N, .obj_size = 64,
				       .cache_size = 32,
				       .flags = PL_MEMPOOL_SP_PUT | PL_MEMPOOL_4K };
	pthread_t putter, g[4];
	bool ok = true;

	pool = pl_mempool_create(NULL, &p);
	handoff = pl_ring_create("handoff", SP_POOL_N, PL_RING_SC_DEQ);
	CHECK(pool && handoff, "no pool or ring");
	if (!ok)
		return false;
	getters_done = false;
	pthread_create(&putter, NULL, sp_putter, NULL);
	for (int round = 0; round < 300 && ok; round++) {
		for (int i = 0; i < 4; i++)
			pthread_create(&g[i], NULL, sp_getter, NULL);
		for (int i = 0; i < 4; i++)
			CHECK(join_within(g[i], 20), "round %d: a getter is stuck ending (wedged in "
			      "the ring)", round);
	}
	__atomic_store_n(&getters_done, true, __ATOMIC_RELEASE);
	CHECK(ok && join_within(putter, 20), "the putter is stuck");
	if (!ok)
		return false;	/* threads still spin: the process ends with them */
	struct pl_mempool_stats st;
	pl_mempool_stats(pool, &st);
	CHECK(st.in_use == 0 && st.in_ring + st.in_caches == SP_POOL_N,
	      "objects lost: %u in the ring, %u in caches, %u unaccounted of %d", st.in_ring,
	      st.in_caches, st.in_use, SP_POOL_N);
	/* Counted is not enough: every object can be had again, by a thread that is left. */
	static void *all[SP_POOL_N];
	unsigned got = 0;
	while (got < SP_POOL_N && pl_mempool_get(pool, &all[got]) == 0)
		got++;
	CHECK(got == SP_POOL_N, "only %u of %d objects can be had again (the rest stranded in "
	      "ended threads' caches)", got, SP_POOL_N);
	pl_mempool_put_bulk(pool, all, got);
	pl_ring_free(handoff);
	pl_mempool_free(pool);
	return ok;
}

static void run(const char *name, bool (*fn)(void))
{
	bool ok = fn();

	printf("[%s] %s\n", ok ? "PASS" : "FAIL", name);
	fflush(stdout);
	ok ? passed++ : failed++;
}

static bool pool_on_hugepages(void)
{
	long total = 0, free_pages = 0;

	/* The pool's size, not its free count, which the tests beside this one change. */
	if (pl_dma_hugepages(2ul << 20, &total, &free_pages) || total < 1) {
		fprintf(stderr, "  FAIL: no 2 MiB hugepages reserved: run tests/run as root, or "
			"echo 64 > /proc/sys/vm/nr_hugepages\n");
		return false;
	}
	return pool_exchange(true);
}

static bool pool_on_4k_pages(void)
{
	return pool_exchange(false);
}

int main(void)
{
	run("ring: 2 producers, 2 consumers, every value exactly once", ring_mpmc);
	run("mempool on hugepages: 4 threads exchange objects, none lost or doubled",
	    pool_on_hugepages);
	run("mempool on 4 KiB pages: the same", pool_on_4k_pages);
	run("mempool: 300 short-lived threads, caches given back and slots reused", thread_churn);
	run("mempool, single putter: 1200 short-lived getters, none a second producer",
	    sp_put_pool_with_getter_threads);
	printf("stress: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
