/* pl_mempool: fixed-size DMA objects on hugepages, with per-thread caches in front of a ring. */
#ifndef POLLEN_MEMPOOL_H
#define POLLEN_MEMPOOL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollen/compiler.h>
#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/ring.h>

PL_BEGIN_DECLS

/*
 * A pool is one hugepage region carved into equal, cache-line aligned elements. The
 * region is one IOMMU mapping, so an object's IOVA is its address plus a constant: no
 * per-object header and no lookup. Free objects sit in a pl_ring; a cache (an array a
 * single thread owns) in front of it serves gets and puts with a copy of pointers, and
 * touches the ring only to refill when empty or flush when over its threshold.
 *
 * Threads: a thread's default caches go back to the ring when it ends, except in pools
 * with PL_MEMPOOL_SP_PUT, where only the one putting thread may touch the ring's producer
 * side: there an ending thread's objects go to a locked stash that any thread's refill
 * drains when the ring runs short (the statistics count them under in_caches).
 *
 * fork(): a pool belongs to the process that made it. Its objects sit in shared memory
 * that a child inherits, while its ring and caches are private copies, so parent and
 * child would hand out the same objects. In a child every get and put is refused with
 * -EPERM (logged once per pool); pl_mempool_free() there only drops the child's copy and
 * never touches the parent's DMA mapping. Make pools after fork(), in the process that
 * uses them.
 */

#define PL_MEMPOOL_MAX_THREADS 128	/* live threads with a default cache; their end frees it */
#define PL_MEMPOOL_CACHE_MAX 512	/* the largest cache size */

enum pl_mempool_flags {
	PL_MEMPOOL_DEBUG = 1 << 0,	/* poison free objects; catch double and foreign puts */
	PL_MEMPOOL_SP_PUT = 1 << 1,	/* one thread puts into the ring */
	PL_MEMPOOL_SC_GET = 1 << 2,	/* one thread gets from the ring */
	PL_MEMPOOL_4K = 1 << 3,		/* ordinary pages, not hugepages */
};

struct pl_mempool;

/** struct pl_mempool_cache - free objects one thread holds in front of the ring. */
struct pl_mempool_cache {
	struct pl_mempool *pool;
	struct pl_ring *ring;
	uint32_t len;		/* objects held */
	uint32_t size;		/* what a refill brings it to */
	uint32_t flushthresh;	/* a put beyond this flushes down to size */
	/*
	 * A debug pool's caches, and every cache in a child after fork(), keep size and
	 * threshold at 0, so every call takes the slow path, which checks or refuses: the
	 * fast path has no test for either.
	 */
	bool checked;
	uint64_t hits, misses;	/* calls served from the cache, or not */
	struct pl_mempool_cache *next;	/* on the pool's list of explicit caches */
	void *objs[2 * PL_MEMPOOL_CACHE_MAX] __attribute__((aligned(64)));
};

struct pl_mempool_params {
	const char *name;
	unsigned n;		/* objects */
	size_t obj_size;	/* bytes; elements are rounded up to 64 */
	unsigned cache_size;	/* per-thread default cache; 0: gets and puts go to the ring */
	unsigned flags;		/* enum pl_mempool_flags */
	/*
	 * called once per object at creation, with its index, before pl_mempool_create()
	 * returns (so @obj_init_arg may point into the caller's stack frame)
	 */
	void (*obj_init)(struct pl_mempool *mp, void *obj, unsigned idx, void *arg);
	void *obj_init_arg;
};

/* The pool's insides are here for the inline fast path; use the functions. */
struct pl_mempool {
	struct pl_ring *ring;
	char *base;		/* first element */
	char *end;		/* past the last one */
	size_t elt_size;
	uint64_t iova_off;	/* IOVA minus VA for every object */
	bool mapped;
	bool checked;		/* every ring call takes the slow path: debug, or after fork() */
	unsigned n;
	unsigned cache_size;
	/*
	 * default caches by thread slot; slot 0 means "none yet" and the last one "past the
	 * table": both stay NULL
	 */
	struct pl_mempool_cache *tcache[PL_MEMPOOL_MAX_THREADS + 2];
	/* below: the control path's */
	uint64_t debug_errors;
	bool forked;		/* this copy is a child's after fork(): refuse everything */
	bool forked_logged;
	bool ready;		/* fully built: free() flushes caches and counts */
	pthread_mutex_t lock;	/* installs default caches, links explicit ones, the stash */
	struct pl_mempool_cache *explicit_caches;
	void **stash;		/* single-producer pools: what ended threads' caches held */
	unsigned stash_len;
	struct pl_mempool *live_prev, *live_next;	/* every live pool, for thread ends */
	struct pl_iommu *ctx;
	size_t region_len;
	size_t obj_size;
	uint8_t *dbg_state;	/* debug: 1 = free, 0 = handed out */
	uint8_t *dbg_init;	/* debug: each object as obj_init left it, restored on get */
	char name[32];
};

/**
 * pl_mempool_create() - a pool of @p->n objects of @p->obj_size bytes on hugepages.
 * @ctx: the IOMMU context to map it for, or NULL for a pool no device reaches (its
 *       objects' IOVAs are then PL_IOVA_BAD).
 * Return: the pool, or NULL with errno set: EINVAL for bad parameters, ENOMEM when
 *         hugepages or memory run short (logged with what to do).
 */
PL_API struct pl_mempool *pl_mempool_create(struct pl_iommu *ctx,
					    const struct pl_mempool_params *p);

/*
 * Frees the pool; objects still out (or in other threads' caches) are reported. Explicit
 * caches still made are flushed and left empty: pl_mempool_cache_free() them after.
 */
PL_API void pl_mempool_free(struct pl_mempool *mp);

PL_INLINE uint64_t pl_mempool_iova(const struct pl_mempool *mp, const void *obj)
{
	return mp->mapped ? mp->iova_off + (uintptr_t)obj : PL_IOVA_BAD;
}

PL_INLINE bool pl_mempool_contains(const struct pl_mempool *mp, const void *obj)
{
	const char *p = (const char *)obj;

	return p >= mp->base && p < mp->end && !((size_t)(p - mp->base) % mp->elt_size);
}

/* Out-of-line halves of the fast path. */
PL_API int pl__mempool_cache_refill(struct pl_mempool_cache *c, void **objs, unsigned n);
PL_API int pl__mempool_cache_flush_put(struct pl_mempool_cache *c, void *const *objs, unsigned n);
PL_API int pl__mempool_checked_get(struct pl_mempool *mp, void **objs, unsigned n);
PL_API int pl__mempool_checked_put(struct pl_mempool *mp, void *const *objs, unsigned n);
PL_API struct pl_mempool_cache *pl__mempool_default_cache_slow(struct pl_mempool *mp);
PL_API extern __thread unsigned pl__thread_slot __attribute__((tls_model("initial-exec")));

PL_INLINE void pl__count(uint64_t *counter)
{
	/* Only the owner writes; others read for statistics. */
	__atomic_store_n(counter, *counter + 1, __ATOMIC_RELAXED);
}

/**
 * pl_mempool_cache_get_bulk() - @n objects through the cache @c (all or none).
 * Return: 0, or -ENOBUFS when the pool cannot supply @n: a caller's condition to
 *         handle, never a wait; -EPERM in a child process after fork().
 */
PL_INLINE int pl_mempool_cache_get_bulk(struct pl_mempool_cache *c, void **objs, unsigned n)
{
	if (pl_likely(c->len >= n)) {
		uint32_t len = c->len - n;
		pl_copy_ptrs(objs, &c->objs[len], n);
		__atomic_store_n(&c->len, len, __ATOMIC_RELAXED);
		pl__count(&c->hits);
		return 0;
	}
	return pl__mempool_cache_refill(c, objs, n);
}

/* Returns @n objects through @c; 0, -EINVAL from a debug pool's checks, -EPERM after fork(). */
PL_INLINE int pl_mempool_cache_put_bulk(struct pl_mempool_cache *c, void *const *objs,
					unsigned n)
{
	if (pl_likely(c->len + n <= c->flushthresh)) {
		pl_copy_ptrs(&c->objs[c->len], objs, n);
		__atomic_store_n(&c->len, c->len + n, __ATOMIC_RELAXED);
		return 0;
	}
	return pl__mempool_cache_flush_put(c, objs, n);
}

/* The calling thread's default cache for @mp, or NULL when the pool has none. */
PL_INLINE struct pl_mempool_cache *pl_mempool_default_cache(struct pl_mempool *mp)
{
	struct pl_mempool_cache *c = mp->tcache[pl__thread_slot];

	if (pl_likely(c != NULL))
		return c;
	return mp->cache_size ? pl__mempool_default_cache_slow(mp) : NULL;
}

/* Straight to and from the ring, no cache. */
PL_INLINE int pl_mempool_ring_get_bulk(struct pl_mempool *mp, void **objs, unsigned n)
{
	if (pl_unlikely(mp->checked))
		return pl__mempool_checked_get(mp, objs, n);
	return pl_ring_dequeue_bulk(mp->ring, objs, n) == n ? 0 : -ENOBUFS;
}

PL_INLINE int pl_mempool_ring_put_bulk(struct pl_mempool *mp, void *const *objs, unsigned n)
{
	if (pl_unlikely(mp->checked))
		return pl__mempool_checked_put(mp, objs, n);
	/* The ring has a slot for every object: a put of pool objects always fits. */
	pl_ring_enqueue_bulk(mp->ring, objs, n);
	return 0;
}

/**
 * pl_mempool_get_bulk() - @n objects (all or none) through the calling thread's default
 * cache, or the ring when the pool has no caches.
 * Return: 0; -ENOBUFS when the pool cannot supply @n; -EPERM in a child after fork().
 * The put forms return 0, -EINVAL from a debug pool's checks, or -EPERM after fork().
 */
PL_INLINE int pl_mempool_get_bulk(struct pl_mempool *mp, void **objs, unsigned n)
{
	struct pl_mempool_cache *c = pl_mempool_default_cache(mp);

	return c ? pl_mempool_cache_get_bulk(c, objs, n) : pl_mempool_ring_get_bulk(mp, objs, n);
}

PL_INLINE int pl_mempool_put_bulk(struct pl_mempool *mp, void *const *objs, unsigned n)
{
	struct pl_mempool_cache *c = pl_mempool_default_cache(mp);

	return c ? pl_mempool_cache_put_bulk(c, objs, n) : pl_mempool_ring_put_bulk(mp, objs, n);
}

PL_INLINE int pl_mempool_get(struct pl_mempool *mp, void **obj)
{
	return pl_mempool_get_bulk(mp, obj, 1);
}

PL_INLINE int pl_mempool_put(struct pl_mempool *mp, void *obj)
{
	return pl_mempool_put_bulk(mp, &obj, 1);
}

/**
 * pl_mempool_cache_create() - a cache that one worker owns (and passes to the
 * pl_mempool_cache_* calls), holding up to about 1.5 x @size objects.
 */
PL_API struct pl_mempool_cache *pl_mempool_cache_create(struct pl_mempool *mp, unsigned size);
/* Returns the cache's objects to the ring. */
PL_API void pl_mempool_cache_flush(struct pl_mempool_cache *c);
/* Flushes and frees; NULL is ignored. */
PL_API void pl_mempool_cache_free(struct pl_mempool_cache *c);

struct pl_mempool_stats {
	unsigned size;		/* objects in the pool */
	unsigned in_ring;	/* free, in the ring */
	unsigned in_caches;	/* free, in threads' default caches */
	unsigned in_use;	/* handed out (or in explicit caches) */
	uint64_t cache_hits;	/* default-cache calls served without the ring */
	uint64_t cache_misses;
	uint64_t debug_errors;	/* double or foreign puts, writes after free */
};

/* Statistics; the counts are a snapshot while other threads work. */
PL_API void pl_mempool_stats(struct pl_mempool *mp, struct pl_mempool_stats *st);

PL_END_DECLS

#endif
