/* pl_ring: a bounded lock-free ring of pointers, single or multi producer and consumer. */
#ifndef POLLEN_RING_H
#define POLLEN_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollen/compiler.h>

PL_BEGIN_DECLS

/*
 * The fast path is here, always inline. Head and tail are free-running 32-bit counters;
 * a side reserves slots by moving its head (a CAS when several threads share that side,
 * a plain store when one does), copies, then publishes by moving its tail with release
 * order. A multi-producer (or consumer) waits only for earlier reservations on its own
 * side to publish, never for the other side: a full ring or an empty one is an answer,
 * not a wait.
 */

enum pl_ring_flags {
	PL_RING_SP_ENQ = 1 << 0,	/* one thread enqueues: no CAS on the producer side */
	PL_RING_SC_DEQ = 1 << 1,	/* one thread dequeues */
};

struct pl_ring_ht {
	uint32_t head;	/* next slot to reserve */
	uint32_t tail;	/* end of what this side has published */
} __attribute__((aligned(64)));

struct pl_ring {
	struct pl_ring_ht prod;		/* its own cache line: producers write it */
	struct pl_ring_ht cons;		/* and consumers this one */
	uint32_t size;			/* slots, a power of two; all of them usable */
	uint32_t mask;
	unsigned flags;
	char name[32];
	void *slots[] __attribute__((aligned(64)));
};

/* Bytes a ring of @count slots takes, for pl_ring_init() on the caller's memory. */
PL_API size_t pl_ring_memsize(unsigned count);

/**
 * pl_ring_init() - make a ring in @mem (pl_ring_memsize(@count) bytes, 64-byte aligned).
 * Return: 0, or -EINVAL when @count is not a power of two between 1 and 2^31.
 */
PL_API int pl_ring_init(struct pl_ring *r, const char *name, unsigned count, unsigned flags);

/* A ring in memory of its own; NULL with errno set (EINVAL, ENOMEM). */
PL_API struct pl_ring *pl_ring_create(const char *name, unsigned count, unsigned flags);
PL_API void pl_ring_free(struct pl_ring *r);

PL_INLINE unsigned pl_ring_count(const struct pl_ring *r)
{
	uint32_t cons = __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE);
	uint32_t n = __atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE) - cons;

	/* A snapshot while both sides move; never more than the ring holds. */
	return n <= r->size ? n : r->size;
}

PL_INLINE unsigned pl_ring_free_count(const struct pl_ring *r)
{
	return r->size - pl_ring_count(r);
}

PL_INLINE unsigned pl_ring_capacity(const struct pl_ring *r)
{
	return r->size;
}

/*
 * Copies @n pointers. Bursts are short (a few to a few dozen) and their length often known
 * only at run time: four at a time beats a call to memcpy, and a constant @n unrolls.
 */
PL_INLINE void pl_copy_ptrs(void **dst, void *const *src, unsigned n)
{
	unsigned i = 0;

	for (; i + 4 <= n; i += 4)
		__builtin_memcpy(&dst[i], &src[i], 4 * sizeof(void *));
	switch (n - i) {
	case 3:
		dst[i + 2] = src[i + 2];
		/* fall through */
	case 2:
		dst[i + 1] = src[i + 1];
		/* fall through */
	case 1:
		dst[i] = src[i];
	}
}

/* Waits for earlier reservations on this side to publish, then publishes ours. */
PL_INLINE void pl__ring_publish(struct pl_ring_ht *ht, uint32_t old, uint32_t new_tail,
				bool single)
{
	/*
	 * Acquire, not relaxed: the earlier reservation's slot accesses must happen before
	 * our release, or a thread that sees only our tail would not be ordered after them
	 * (a store-release does not extend another thread's release sequence).
	 */
	if (!single)
		while (__atomic_load_n(&ht->tail, __ATOMIC_ACQUIRE) != old)
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#else
			;
#endif
	__atomic_store_n(&ht->tail, new_tail, __ATOMIC_RELEASE);
}

/*
 * Reserves up to @n slots on side @me against the other side's tail: all of them or
 * none when @exact, else as many as there are. The room is the other side's published
 * tail plus @room_base (the ring's @size for producers, 0 for consumers) minus our head.
 */
PL_INLINE unsigned pl__ring_reserve(struct pl_ring_ht *me, const struct pl_ring_ht *other,
				    uint32_t room_base, uint32_t size, unsigned n, bool exact,
				    bool single, uint32_t *old_head)
{
	uint32_t head = __atomic_load_n(&me->head, __ATOMIC_ACQUIRE), room;

	for (;;) {
		/*
		 * Acquire: the other side's slot accesses happen before we reuse the slots,
		 * and our head is read before their tail (weakly ordered CPUs could otherwise
		 * pair a new head with an old tail). A pairing that still looks impossible,
		 * more room than the ring has, is read again.
		 */
		room = room_base + __atomic_load_n(&other->tail, __ATOMIC_ACQUIRE) - head;
		if (pl_unlikely(room > size)) {
			head = __atomic_load_n(&me->head, __ATOMIC_ACQUIRE);
			continue;
		}
		unsigned take = n <= room ? n : exact ? 0 : room;
		if (!take)
			return 0;
		if (single) {
			me->head = head + take;
			*old_head = head;
			return take;
		}
		if (__atomic_compare_exchange_n(&me->head, &head, head + take, true,
						__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
			*old_head = head;
			return take;
		}
	}
}

PL_INLINE unsigned pl__ring_enqueue(struct pl_ring *r, void *const *objs, unsigned n,
				    bool exact)
{
	bool single = r->flags & PL_RING_SP_ENQ;
	uint32_t head;

	n = pl__ring_reserve(&r->prod, &r->cons, r->size, r->size, n, exact, single, &head);
	if (!n)
		return 0;
	uint32_t idx = head & r->mask, first = r->size - idx < n ? r->size - idx : n;
	pl_copy_ptrs(&r->slots[idx], objs, first);
	if (pl_unlikely(first < n))
		pl_copy_ptrs(&r->slots[0], objs + first, n - first);
	pl__ring_publish(&r->prod, head, head + n, single);
	return n;
}

PL_INLINE unsigned pl__ring_dequeue(struct pl_ring *r, void **objs, unsigned n, bool exact)
{
	bool single = r->flags & PL_RING_SC_DEQ;
	uint32_t head;

	n = pl__ring_reserve(&r->cons, &r->prod, 0, r->size, n, exact, single, &head);
	if (!n)
		return 0;
	uint32_t idx = head & r->mask, first = r->size - idx < n ? r->size - idx : n;
	pl_copy_ptrs(objs, &r->slots[idx], first);
	if (pl_unlikely(first < n))
		pl_copy_ptrs(objs + first, &r->slots[0], n - first);
	pl__ring_publish(&r->cons, head, head + n, single);
	return n;
}

/* All @n or none: returns @n or 0. */
PL_INLINE unsigned pl_ring_enqueue_bulk(struct pl_ring *r, void *const *objs, unsigned n)
{
	return pl__ring_enqueue(r, objs, n, true);
}

PL_INLINE unsigned pl_ring_dequeue_bulk(struct pl_ring *r, void **objs, unsigned n)
{
	return pl__ring_dequeue(r, objs, n, true);
}

/* As many as fit (or are there), up to @n: returns how many. */
PL_INLINE unsigned pl_ring_enqueue_burst(struct pl_ring *r, void *const *objs, unsigned n)
{
	return pl__ring_enqueue(r, objs, n, false);
}

PL_INLINE unsigned pl_ring_dequeue_burst(struct pl_ring *r, void **objs, unsigned n)
{
	return pl__ring_dequeue(r, objs, n, false);
}

PL_INLINE bool pl_ring_enqueue(struct pl_ring *r, void *obj)
{
	return pl__ring_enqueue(r, &obj, 1, true);
}

PL_INLINE bool pl_ring_dequeue(struct pl_ring *r, void **obj)
{
	return pl__ring_dequeue(r, obj, 1, true);
}

PL_END_DECLS

#endif
