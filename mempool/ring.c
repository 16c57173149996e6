/* pl_ring set-up; the enqueue and dequeue paths are inline in include/pollen/ring.h. */
#include <pollen/log.h>
#include <pollen/ring.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(offsetof(struct pl_ring, cons) == 64, "producer and consumer share a line");
_Static_assert(offsetof(struct pl_ring, slots) % 64 == 0, "slots start a cache line");

size_t pl_ring_memsize(unsigned count)
{
	return sizeof(struct pl_ring) + (size_t)count * sizeof(void *);
}

static bool valid_count(const char *name, unsigned count)
{
	if (count && !(count & (count - 1)) && count <= 1u << 31)
		return true;
	pl_err("ring %s: %u slots: the size must be a power of two up to 2^31",
	       name ? name : "", count);
	return false;
}

int pl_ring_init(struct pl_ring *r, const char *name, unsigned count, unsigned flags)
{
	if (!valid_count(name, count))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->size = count;
	r->mask = count - 1;
	r->flags = flags;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	return 0;
}

struct pl_ring *pl_ring_create(const char *name, unsigned count, unsigned flags)
{
	struct pl_ring *r;
	size_t sz = (pl_ring_memsize(count) + 63) & ~(size_t)63;

	if (!valid_count(name, count)) {
		errno = EINVAL;
		return NULL;
	}
	if (!(r = aligned_alloc(64, sz))) {
		errno = ENOMEM;
		return NULL;
	}
	pl_ring_init(r, name, count, flags);
	return r;
}

void pl_ring_free(struct pl_ring *r)
{
	free(r);
}
