/* The block interface: opens a target with its back end, checks every I/O, dispatches. */
#include "blk_priv.h"

#include <pollen/log.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *pl_blk_backend_name(enum pl_blk_backend be)
{
	switch (be) {
	case PL_BLK_PMD:
		return "pmd";
	case PL_BLK_URING:
		return "uring";
	default:
		return "auto";
	}
}

/* A PCI address ("0000:00:02.0", "00:02.0") is the PMD's; anything else a path. */
enum pl_blk_backend pl_blk_backend_of(const char *t)
{
	size_t n = strlen(t);

	return (n == 7 || n == 12) && !strchr(t, '/') && t[n - 2] == '.' && t[n - 5] == ':' ?
		       PL_BLK_PMD : PL_BLK_URING;
}

struct pl_blk *pl_blk_open(const char *target, const struct pl_blk_opts *opts)
{
	struct pl_blk *b = calloc(1, sizeof(*b));
	int ret;

	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	if (opts)
		b->opts = *opts;
	if (!b->opts.queues)
		b->opts.queues = 8;
	if (b->opts.backend == PL_BLK_AUTO)
		b->opts.backend = pl_blk_backend_of(target);
	b->ops = b->opts.backend == PL_BLK_PMD ? &pl_blk_pmd_ops : &pl_blk_uring_ops;
	snprintf(b->name, sizeof(b->name), "%s", target);
	if ((ret = b->ops->open(b, target))) {
		free(b);
		errno = -ret;
		return NULL;
	}
	return b;
}

void pl_blk_close(struct pl_blk *b)
{
	if (!b)
		return;
	b->ops->close(b);
	free(b);
}

enum pl_blk_backend pl_blk_backend(const struct pl_blk *b)
{
	return b->ops->backend;
}

const char *pl_blk_name(const struct pl_blk *b)
{
	return b->name;
}

uint32_t pl_blk_nsid(const struct pl_blk *b)
{
	return b->nsid;
}

uint32_t pl_blk_block_size(const struct pl_blk *b)
{
	return b->block_size;
}

uint64_t pl_blk_blocks(const struct pl_blk *b)
{
	return b->blocks;
}

unsigned pl_blk_max_queues(const struct pl_blk *b)
{
	return b->max_queues;
}

size_t pl_blk_dma_bytes(const struct pl_blk *b)
{
	return b->dma_bytes;
}

void *pl_blk_buf_alloc(struct pl_blk *b, size_t len)
{
	return b->ops->buf_alloc(b, len);
}

void pl_blk_buf_free(struct pl_blk *b, void *buf)
{
	if (buf)
		b->ops->buf_free(b, buf);
}

struct pl_blk_queue *pl_blk_queue_create(struct pl_blk *b, unsigned depth)
{
	return b->ops->queue_create(b, depth ? depth : 128);
}

void pl_blk_queue_destroy(struct pl_blk_queue *q)
{
	if (q)
		q->blk->ops->queue_destroy(q);
}

unsigned pl_blk_queue_depth(const struct pl_blk_queue *q)
{
	return q->depth;
}

unsigned pl_blk_outstanding(const struct pl_blk_queue *q)
{
	return q->outstanding;
}

int pl_blk_queue_fd(const struct pl_blk_queue *q)
{
	return q->fd;
}

/* Whole blocks inside the device: the one check every back end relies on. */
static int check_range(struct pl_blk_queue *q, uint64_t offset, size_t len)
{
	struct pl_blk *b = q->blk;
	uint64_t size = b->blocks * b->block_size;

	if (len > PL_BLK_MAX_IO) {
		pl_err("%s: %zu bytes in one I/O: at most %u", b->name, len, PL_BLK_MAX_IO);
		return -EINVAL;
	}
	if (!len || (offset | len) % b->block_size || offset >= size || len > size - offset) {
		pl_err("%s: %zu bytes at offset %llu: I/O is whole %u-byte blocks inside the "
		       "device's %llu bytes", b->name, len, (unsigned long long)offset,
		       b->block_size, (unsigned long long)size);
		return -EINVAL;
	}
	return 0;
}

static int submit(struct pl_blk_queue *q, enum pl_blk_op op, void *buf, uint64_t offset,
		  size_t len, pl_blk_cb cb, void *arg)
{
	int ret = op == PL_BLK_FLUSH ? 0 : check_range(q, offset, len);

	if (ret)
		return ret;
	if (q->outstanding == q->depth)
		return -EAGAIN;
	if (!(ret = q->blk->ops->submit(q, op, buf, offset, len, cb, arg)))
		q->outstanding++;
	return ret;
}

int pl_blk_read(struct pl_blk_queue *q, void *buf, uint64_t offset, size_t len, pl_blk_cb cb,
		void *arg)
{
	return submit(q, PL_BLK_READ, buf, offset, len, cb, arg);
}

int pl_blk_write(struct pl_blk_queue *q, const void *buf, uint64_t offset, size_t len,
		 pl_blk_cb cb, void *arg)
{
	return submit(q, PL_BLK_WRITE, (void *)buf, offset, len, cb, arg);
}

int pl_blk_flush(struct pl_blk_queue *q, pl_blk_cb cb, void *arg)
{
	return submit(q, PL_BLK_FLUSH, NULL, 0, 0, cb, arg);
}

int pl_blk_trim(struct pl_blk_queue *q, uint64_t offset, size_t len, pl_blk_cb cb, void *arg)
{
	return submit(q, PL_BLK_TRIM, NULL, offset, len, cb, arg);
}

void pl_blk_kick(struct pl_blk_queue *q)
{
	q->blk->ops->kick(q);
}

int pl_blk_poll(struct pl_blk_queue *q, unsigned max)
{
	return q->blk->ops->poll(q, max);
}
