/* pl_mempool: creation, the caches' slow paths, the debug checks, fork, statistics. */
#include <pollen/log.h>
#include <pollen/mempool.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POISON 0x6b	/* what a free object holds in a debug pool */

__thread unsigned pl__thread_slot __attribute__((tls_model("initial-exec")));

/*
 * Thread slots index every pool's default caches. When a thread ends, a key destructor
 * flushes its caches in every live pool and frees its slot for the next thread, so
 * short-lived threads neither strand objects nor use the table up. slots_lock guards the
 * slots and the list of live pools; it is taken before any pool's own lock.
 */
#define PAST_THE_TABLE (PL_MEMPOOL_MAX_THREADS + 1)
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned next_slot = 1;
static unsigned free_slots[PL_MEMPOOL_MAX_THREADS], nfree_slots;
static struct pl_mempool *live_pools;
static pthread_key_t slot_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/*
 * Only the one putting thread may enqueue into a single-producer ring: an ending thread's
 * objects go to the pool's stash instead, which refills drain when the ring runs short.
 */
static void stash_cache(struct pl_mempool *mp, struct pl_mempool_cache *c)
{
	pthread_mutex_lock(&mp->lock);
	memcpy(&mp->stash[mp->stash_len], c->objs, c->len * sizeof(void *));
	__atomic_store_n(&mp->stash_len, mp->stash_len + c->len, __ATOMIC_RELEASE);
	__atomic_store_n(&c->len, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&mp->lock);
}

/* Takes up to @n objects from the stash (all or none when @exact): the last resort. */
static unsigned stash_take(struct pl_mempool *mp, void **objs, unsigned n, bool exact)
{
	if (!mp->stash || !__atomic_load_n(&mp->stash_len, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&mp->lock);
	unsigned len = mp->stash_len;	/* under the lock: only stores race with the peek above */

	if (n > len)
		n = exact ? 0 : len;
	len -= n;
	memcpy(objs, &mp->stash[len], n * sizeof(void *));
	__atomic_store_n(&mp->stash_len, len, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&mp->lock);
	return n;
}

static void thread_ends(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg;

	pthread_mutex_lock(&slots_lock);
	for (struct pl_mempool *mp = live_pools; mp; mp = mp->live_next) {
		struct pl_mempool_cache *c = mp->tcache[s];

		if (c && mp->stash)
			stash_cache(mp, c);
		else if (c)
			pl_mempool_cache_flush(c);
	}
	free_slots[nfree_slots++] = s;
	pthread_mutex_unlock(&slots_lock);
	/*
	 * The slot is another thread's from now on. Destructors that run after this one may
	 * still use pools from this thread: they go to the rings, never to that slot.
	 */
	pl__thread_slot = PAST_THE_TABLE;
}

/*
 * fork(): the child gets private copies of every ring and cache but shares the objects'
 * memory with the parent. Its copies are made to refuse (mempool.h says why). The
 * locks are held across fork() so that the child's copies are not caught mid-update.
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&slots_lock);
	for (struct pl_mempool *mp = live_pools; mp; mp = mp->live_next)
		pthread_mutex_lock(&mp->lock);
}

static void fork_parent(void)
{
	for (struct pl_mempool *mp = live_pools; mp; mp = mp->live_next)
		pthread_mutex_unlock(&mp->lock);
	pthread_mutex_unlock(&slots_lock);
}

static void cache_refuse(struct pl_mempool_cache *c)
{
	c->len = c->size = c->flushthresh = 0;
	c->checked = true;
}

static void fork_child(void)
{
	for (struct pl_mempool *mp = live_pools; mp; mp = mp->live_next) {
		mp->forked = mp->checked = true;
		for (int i = 1; i <= PL_MEMPOOL_MAX_THREADS; i++)
			if (mp->tcache[i])
				cache_refuse(mp->tcache[i]);
		for (struct pl_mempool_cache *c = mp->explicit_caches; c; c = c->next)
			cache_refuse(c);
		pthread_mutex_unlock(&mp->lock);
	}
	pthread_mutex_unlock(&slots_lock);
}

static void init_once(void)
{
	pthread_key_create(&slot_key, thread_ends);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* A slot for the calling thread: a freed one, a new one, or "past the table". */
static unsigned take_slot(void)
{
	unsigned s;

	pthread_mutex_lock(&slots_lock);
	if (nfree_slots)
		s = free_slots[--nfree_slots];
	else if (next_slot <= PL_MEMPOOL_MAX_THREADS)
		s = next_slot++;
	else
		s = PAST_THE_TABLE;
	pthread_mutex_unlock(&slots_lock);
	if (s != PAST_THE_TABLE)
		pthread_setspecific(slot_key, (void *)(uintptr_t)s);
	return s;
}

/* On the list of live pools, which is what an ending thread's flush walks. No limit. */
static void track_pool(struct pl_mempool *mp, bool live)
{
	pthread_mutex_lock(&slots_lock);
	if (live) {
		mp->live_next = live_pools;
		if (live_pools)
			live_pools->live_prev = mp;
		live_pools = mp;
	} else {
		if (mp->live_prev)
			mp->live_prev->live_next = mp->live_next;
		else
			live_pools = mp->live_next;
		if (mp->live_next)
			mp->live_next->live_prev = mp->live_prev;
	}
	pthread_mutex_unlock(&slots_lock);
}

/* Runs each object's init once; a debug pool keeps what it wrote and poisons the rest. */
static int init_objects(struct pl_mempool *mp, const struct pl_mempool_params *p)
{
	bool debug = p->flags & PL_MEMPOOL_DEBUG;

	if ((debug && !(mp->dbg_state = malloc(mp->n))) ||
	    (debug && p->obj_init && !(mp->dbg_init = malloc((size_t)mp->n * mp->obj_size)))) {
		pl_err("mempool %s: no memory for the debug checks of %u objects", mp->name, mp->n);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < mp->n; i++) {
		char *obj = mp->base + (size_t)i * mp->elt_size;

		if (p->obj_init)
			p->obj_init(mp, obj, i, p->obj_init_arg);
		if (debug) {
			/* A debug get restores this image: the init runs once, here, as promised. */
			if (mp->dbg_init)
				memcpy(mp->dbg_init + (size_t)i * mp->obj_size, obj, mp->obj_size);
			memset(obj, POISON, mp->obj_size);
			mp->dbg_state[i] = 1;
		}
		/* Address order: consecutive gets walk memory forwards. */
		mp->ring->slots[i] = obj;
	}
	mp->ring->prod.head = mp->ring->prod.tail = mp->n;
	return 0;
}

struct pl_mempool *pl_mempool_create(struct pl_iommu *ctx, const struct pl_mempool_params *p)
{
	const char *name = p->name ? p->name : "";
	struct pl_mempool *mp;
	int ret = -ENOMEM;

	if (!p->n || !p->obj_size || p->cache_size > PL_MEMPOOL_CACHE_MAX ||
	    p->cache_size > p->n || p->n > 1u << 31 || p->obj_size > 1ul << 32 ||
	    ((p->obj_size + 63) & ~(size_t)63) > SIZE_MAX / p->n) {
		pl_err("mempool %s: %u objects of %zu bytes with caches of %u: want at least one "
		       "object of at least a byte, caches of at most %d and no more than the pool",
		       name, p->n, p->obj_size, p->cache_size, PL_MEMPOOL_CACHE_MAX);
		errno = EINVAL;
		return NULL;
	}
	pthread_once(&once, init_once);
	if (!(mp = aligned_alloc(64, (sizeof(*mp) + 63) & ~(size_t)63))) {
		errno = ENOMEM;
		return NULL;
	}
	memset(mp, 0, sizeof(*mp));
	pthread_mutex_init(&mp->lock, NULL);
	snprintf(mp->name, sizeof(mp->name), "%s", name);
	mp->n = p->n;
	mp->obj_size = p->obj_size;
	mp->elt_size = (p->obj_size + 63) & ~(size_t)63;
	mp->cache_size = p->cache_size;
	mp->checked = p->flags & PL_MEMPOOL_DEBUG;

	mp->base = pl_hugepage_alloc(mp->elt_size * mp->n, p->flags & PL_MEMPOOL_4K ? PL_DMA_4K : 0,
				     &mp->region_len);
	if (!mp->base) {
		ret = -errno;
		pl_err("mempool %s: no memory for %u objects of %zu bytes", name, mp->n,
		       mp->elt_size);
		goto err;
	}
	mp->end = mp->base + mp->elt_size * mp->n;

	unsigned slots = 1;
	while (slots < mp->n)
		slots <<= 1;
	if (!(mp->ring = aligned_alloc(64, (pl_ring_memsize(slots) + 63) & ~(size_t)63))) {
		ret = -ENOMEM;
		goto err;
	}
	pl_ring_init(mp->ring, name, slots, (p->flags & PL_MEMPOOL_SP_PUT ? PL_RING_SP_ENQ : 0) |
				      (p->flags & PL_MEMPOOL_SC_GET ? PL_RING_SC_DEQ : 0));
	if ((p->flags & PL_MEMPOOL_SP_PUT) && p->cache_size &&
	    !(mp->stash = malloc(mp->n * sizeof(void *)))) {
		ret = -ENOMEM;
		goto err;
	}

	if (ctx) {
		uint64_t iova;

		if ((ret = pl_dma_register(ctx, mp->base, mp->region_len, &iova)))
			goto err;
		mp->ctx = ctx;
		mp->mapped = true;
		mp->iova_off = iova - (uintptr_t)mp->base;
	}
	if ((ret = init_objects(mp, p)))
		goto err;
	mp->ready = true;
	track_pool(mp, true);
	return mp;
err:
	pl_mempool_free(mp);
	errno = -ret;
	return NULL;
}

void pl_mempool_free(struct pl_mempool *mp)
{
	if (!mp)
		return;
	if (mp->ready) {
		track_pool(mp, false);
		for (int i = 1; i <= PL_MEMPOOL_MAX_THREADS; i++)
			if (mp->tcache[i]) {
				pl_mempool_cache_flush(mp->tcache[i]);
				free(mp->tcache[i]);
			}
		/* Explicit caches outlive it, empty: their free then touches nothing of ours. */
		for (struct pl_mempool_cache *c = mp->explicit_caches; c; c = c->next) {
			pl_mempool_cache_flush(c);
			c->pool = NULL;
			c->ring = NULL;
			cache_refuse(c);
		}
		unsigned back = pl_ring_count(mp->ring) + mp->stash_len;
		if (back < mp->n && !mp->forked)
			pl_warn("mempool %s freed with %u of %u objects still out", mp->name,
				mp->n - back, mp->n);
	}
	/* A child's copy never unmaps: the mapping, like the objects, is the parent's. */
	if (mp->mapped && !mp->forked)
		pl_dma_unregister(mp->ctx, mp->base);
	pl_hugepage_free(mp->base, mp->region_len);
	free(mp->ring);
	free(mp->dbg_state);
	free(mp->dbg_init);
	free(mp->stash);
	pthread_mutex_destroy(&mp->lock);
	free(mp);
}

/* ---- caches ---- */

static void cache_init(struct pl_mempool_cache *c, struct pl_mempool *mp, unsigned size)
{
	memset(c, 0, offsetof(struct pl_mempool_cache, objs));
	c->pool = mp;
	c->ring = mp->ring;
	c->checked = mp->checked;
	c->size = c->checked ? 0 : size;
	c->flushthresh = c->size + c->size / 2;
}

struct pl_mempool_cache *pl_mempool_cache_create(struct pl_mempool *mp, unsigned size)
{
	struct pl_mempool_cache *c;

	if (!size || size > PL_MEMPOOL_CACHE_MAX) {
		pl_err("mempool %s: a cache of %u objects: want 1 to %d", mp->name, size,
		       PL_MEMPOOL_CACHE_MAX);
		errno = EINVAL;
		return NULL;
	}
	if (!(c = aligned_alloc(64, sizeof(*c)))) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&mp->lock);
	cache_init(c, mp, size);
	c->next = mp->explicit_caches;
	mp->explicit_caches = c;
	pthread_mutex_unlock(&mp->lock);
	return c;
}

void pl_mempool_cache_flush(struct pl_mempool_cache *c)
{
	if (!c || !c->len)
		return;
	pl_ring_enqueue_bulk(c->ring, c->objs, c->len);
	__atomic_store_n(&c->len, 0, __ATOMIC_RELAXED);
}

void pl_mempool_cache_free(struct pl_mempool_cache *c)
{
	if (!c)
		return;
	struct pl_mempool *mp = c->pool;

	if (!mp) {	/* its pool was freed first, and emptied it */
		free(c);
		return;
	}
	pl_mempool_cache_flush(c);
	pthread_mutex_lock(&mp->lock);
	for (struct pl_mempool_cache **p = &mp->explicit_caches; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	pthread_mutex_unlock(&mp->lock);
	free(c);
}

struct pl_mempool_cache *pl__mempool_default_cache_slow(struct pl_mempool *mp)
{
	unsigned s = pl__thread_slot;
	struct pl_mempool_cache *c;

	if (!s)
		pl__thread_slot = s = take_slot();
	/* Past the table (all slots in use by live threads, or ours freed): the ring. */
	if (s == PAST_THE_TABLE)
		return NULL;
	/* A slot freed by a thread that ended keeps its cache for the next. */
	if ((c = mp->tcache[s]))
		return c;
	if (!(c = aligned_alloc(64, sizeof(*c))))
		return NULL;
	pthread_mutex_lock(&mp->lock);
	cache_init(c, mp, mp->cache_size);
	__atomic_store_n(&mp->tcache[s], c, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&mp->lock);
	return c;
}

int pl__mempool_cache_refill(struct pl_mempool_cache *c, void **objs, unsigned n)
{
	if (c->checked)
		return pl__mempool_checked_get(c->pool, objs, n);
	pl__count(&c->misses);
	/* A request bigger than the cache empties it and takes the rest from the ring. */
	if (n > c->size) {
		uint32_t mine = c->len;
		if (!pl_ring_dequeue_bulk(c->ring, objs, n - mine) &&
		    !stash_take(c->pool, objs, n - mine, true))
			return -ENOBUFS;
		memcpy(objs + n - mine, c->objs, mine * sizeof(void *));
		__atomic_store_n(&c->len, 0, __ATOMIC_RELAXED);
		return 0;
	}
	/* Bring the cache to its size plus what this call takes. */
	uint32_t len = c->len;
	len += pl_ring_dequeue_burst(c->ring, &c->objs[len], c->size + n - len);
	if (len < n)
		len += stash_take(c->pool, &c->objs[len], c->size + n - len, false);
	if (len < n) {
		__atomic_store_n(&c->len, len, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	len -= n;
	memcpy(objs, &c->objs[len], n * sizeof(void *));
	__atomic_store_n(&c->len, len, __ATOMIC_RELAXED);
	return 0;
}

int pl__mempool_cache_flush_put(struct pl_mempool_cache *c, void *const *objs, unsigned n)
{
	if (c->checked)
		return pl__mempool_checked_put(c->pool, objs, n);
	if (n >= c->size) {
		pl_ring_enqueue_bulk(c->ring, objs, n);
		return 0;
	}
	/* Flush the newest objects beyond what leaves the cache at its size after this put. */
	uint32_t excess = c->len + n - c->size;
	pl_ring_enqueue_bulk(c->ring, &c->objs[c->len - excess], excess);
	uint32_t len = c->len - excess;
	memcpy(&c->objs[len], objs, n * sizeof(void *));
	__atomic_store_n(&c->len, len + n, __ATOMIC_RELAXED);
	return 0;
}

/* ---- the checked slow path: debug pools, and every pool in a child after fork() ---- */

static int refuse_forked(struct pl_mempool *mp)
{
	/* Once per pool: the child's copy is its own, so this flag is too. */
	if (!mp->forked_logged) {
		mp->forked_logged = true;
		pl_err("mempool %s: used in a child process after fork(): its objects are shared "
		       "with the parent, which hands out the same ones; make pools after fork(), "
		       "in the process that uses them", mp->name);
	}
	return -EPERM;
}

static unsigned index_of(const struct pl_mempool *mp, const void *obj)
{
	return (unsigned)(((const char *)obj - mp->base) / mp->elt_size);
}

static void debug_error(struct pl_mempool *mp)
{
	__atomic_add_fetch(&mp->debug_errors, 1, __ATOMIC_RELAXED);
}

int pl__mempool_checked_get(struct pl_mempool *mp, void **objs, unsigned n)
{
	if (mp->forked)
		return refuse_forked(mp);
	/* A debug pool's caches hold nothing: every object comes from the ring, checked. */
	if (n && !pl_ring_dequeue_bulk(mp->ring, objs, n))
		return -ENOBUFS;
	for (unsigned i = 0; i < n; i++) {
		unsigned char *o = objs[i];
		unsigned idx = index_of(mp, o);

		for (size_t b = 0; b < mp->obj_size; b++)
			if (o[b] != POISON) {
				pl_err("mempool %s: object %p was written after it was freed (byte "
				       "%zu is 0x%02x)", mp->name, (void *)o, b, o[b]);
				debug_error(mp);
				break;
			}
		mp->dbg_state[idx] = 0;
		/* The poison covered what the init callback wrote: put that back. */
		if (mp->dbg_init)
			memcpy(o, mp->dbg_init + (size_t)idx * mp->obj_size, mp->obj_size);
	}
	return 0;
}

int pl__mempool_checked_put(struct pl_mempool *mp, void *const *objs, unsigned n)
{
	if (mp->forked)
		return refuse_forked(mp);
	/* Check all first: a bad batch is refused whole, and the pool is unchanged. */
	for (unsigned i = 0; i < n; i++) {
		if (!pl_mempool_contains(mp, objs[i])) {
			pl_err("mempool %s: put of %p, which is not one of its objects", mp->name,
			       objs[i]);
			debug_error(mp);
			return -EINVAL;
		}
		bool dup = false;
		for (unsigned j = 0; j < i; j++)
			dup |= objs[j] == objs[i];
		if (dup || mp->dbg_state[index_of(mp, objs[i])]) {
			pl_err("mempool %s: double free of object %p", mp->name, objs[i]);
			debug_error(mp);
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		memset(objs[i], POISON, mp->obj_size);
		mp->dbg_state[index_of(mp, objs[i])] = 1;
	}
	pl_ring_enqueue_bulk(mp->ring, objs, n);
	return 0;
}

/* ---- statistics ---- */

void pl_mempool_stats(struct pl_mempool *mp, struct pl_mempool_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = mp->n;
	st->in_ring = pl_ring_count(mp->ring);
	st->in_caches = __atomic_load_n(&mp->stash_len, __ATOMIC_ACQUIRE);
	for (int i = 1; i <= PL_MEMPOOL_MAX_THREADS; i++) {
		struct pl_mempool_cache *c = __atomic_load_n(&mp->tcache[i], __ATOMIC_ACQUIRE);

		if (!c)
			continue;
		st->in_caches += __atomic_load_n(&c->len, __ATOMIC_RELAXED);
		st->cache_hits += __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
		st->cache_misses += __atomic_load_n(&c->misses, __ATOMIC_RELAXED);
	}
	unsigned free_objs = st->in_ring + st->in_caches;
	st->in_use = free_objs < mp->n ? mp->n - free_objs : 0;
	st->debug_errors = __atomic_load_n(&mp->debug_errors, __ATOMIC_RELAXED);
}
