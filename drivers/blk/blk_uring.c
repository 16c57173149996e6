/* The block interface's "uring" back end: the kernel's path, O_DIRECT through io_uring. */
#define _GNU_SOURCE
#include "blk_priv.h"

#include <pollen/dma.h>
#include <pollen/log.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/nvme_ioctl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BUFS 64	/* buffers a ring registers; more are used unregistered */

struct buf {
	char *va;
	size_t len;
};

struct uring_dev {
	int fd;
	pthread_mutex_t lock;	/* the buffer table: queues are made from any thread */
	struct buf bufs[MAX_BUFS];
	unsigned nbufs;
	/*
	 * Buffers freed so far. A ring keeps the pages it registered pinned: once any
	 * buffer is freed, a queue's registrations may name memory that is gone (or a new
	 * buffer at the same address), so the queue stops using them.
	 */
	unsigned freed;
};

struct uring_req {
	pl_blk_cb cb;
	void *arg;
	size_t len;	/* what a read or write must move */
};

struct uring_queue {
	struct pl_blk_queue base;
	struct io_uring ring;
	struct uring_req *reqs;
	unsigned *free;
	unsigned nfree;
	struct buf bufs[MAX_BUFS];	/* the ones registered with this ring, by index */
	unsigned nbufs;
	unsigned freed_seen;		/* the device's count of freed buffers at registration */
	unsigned queued;	/* SQEs not yet handed to the kernel */
	bool iopoll;
};

static int uring_open(struct pl_blk *b, const char *target)
{
	struct uring_dev *u = calloc(1, sizeof(*u));
	struct stat st;
	int ret;

	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	b->be = u;
	if ((u->fd = open(target, O_RDWR | O_DIRECT | O_CLOEXEC)) < 0) {
		ret = -errno;
		pl_err("%s: open with O_DIRECT: %s%s", target, strerror(-ret), ret == -EINVAL ?
		       " (the file system does not do direct I/O: tmpfs, for one)" : "");
		goto err;
	}
	if (fstat(u->fd, &st)) {
		ret = -errno;
		goto err;
	}
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes;
		int lbs;

		if (ioctl(u->fd, BLKGETSIZE64, &bytes) || ioctl(u->fd, BLKSSZGET, &lbs)) {
			ret = -errno;
			pl_err("%s: reading its size: %s", target, strerror(-ret));
			goto err;
		}
		b->block_size = (uint32_t)lbs;
		b->blocks = bytes / (uint64_t)lbs;
		/* An NVMe namespace says which it is: verify patterns name it either way. */
		int nsid = ioctl(u->fd, NVME_IOCTL_ID);
		b->nsid = nsid > 0 ? (uint32_t)nsid : 0;
	} else if (S_ISREG(st.st_mode)) {
		/* O_DIRECT on a file wants its device's alignment: 4 KiB covers them all. */
		b->block_size = 4096;
		b->blocks = (uint64_t)st.st_size / 4096;
	} else {
		pl_err("%s: neither a block device nor a file", target);
		ret = -EINVAL;
		goto err;
	}
	if (!b->blocks) {
		pl_err("%s: has no whole %u-byte block to do I/O to", target, b->block_size);
		ret = -ENOSPC;
		goto err;
	}
	b->max_queues = UINT_MAX;	/* a ring each, as many as asked */
	return 0;
err:
	if (u->fd >= 0)
		close(u->fd);
	pthread_mutex_destroy(&u->lock);
	free(u);
	return ret;
}

static void uring_close(struct pl_blk *b)
{
	struct uring_dev *u = b->be;

	for (unsigned i = 0; i < u->nbufs; i++)
		pl_hugepage_free(u->bufs[i].va, u->bufs[i].len);
	close(u->fd);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static void *uring_buf_alloc(struct pl_blk *b, size_t len)
{
	struct uring_dev *u = b->be;
	size_t got;
	/* Hugepages where there are some: fewer pages for the kernel to pin per I/O. */
	void *va = pl_hugepage_alloc(len, 0, &got);

	if (!va && errno == ENOMEM)
		va = pl_hugepage_alloc(len, PL_DMA_4K, &got);
	if (!va)
		return NULL;
	pthread_mutex_lock(&u->lock);
	if (u->nbufs < MAX_BUFS)
		u->bufs[u->nbufs++] = (struct buf){ va, got };
	else
		pl_warn("%s: more than %d buffers: the rest are not registered", b->name, MAX_BUFS);
	pthread_mutex_unlock(&u->lock);
	b->dma_bytes += got;
	return va;
}

static void uring_buf_free(struct pl_blk *b, void *buf)
{
	struct uring_dev *u = b->be;

	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < u->nbufs; i++)
		if (u->bufs[i].va == buf) {
			__atomic_store_n(&u->freed, u->freed + 1, __ATOMIC_RELEASE);
			pl_hugepage_free(buf, u->bufs[i].len);
			b->dma_bytes -= u->bufs[i].len;
			u->bufs[i] = u->bufs[--u->nbufs];
			break;
		}
	pthread_mutex_unlock(&u->lock);
}

static struct pl_blk_queue *uring_queue_create(struct pl_blk *b, unsigned depth)
{
	struct uring_dev *u = b->be;
	struct uring_queue *q = calloc(1, sizeof(*q));
	struct io_uring_params p = { 0 };
	struct iovec iov[MAX_BUFS];
	int ret = -ENOMEM;

	if (!q || !(q->reqs = calloc(depth, sizeof(*q->reqs))) ||
	    !(q->free = calloc(depth, sizeof(*q->free))))
		goto err;
	if (b->opts.sqpoll) {
		p.flags |= IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 1000;
	}
	if (b->opts.iopoll)
		p.flags |= IORING_SETUP_IOPOLL;
	if ((ret = io_uring_queue_init_params(depth, &q->ring, &p))) {
		pl_err("%s: io_uring_queue_init of depth %u%s: %s", b->name, depth,
		       b->opts.sqpoll ? " with SQPOLL" : "", strerror(-ret));
		goto err;
	}
	q->iopoll = b->opts.iopoll;
	/* The file and the buffers registered: no lookup or pinning per I/O. */
	if ((ret = io_uring_register_files(&q->ring, &u->fd, 1))) {
		pl_err("%s: io_uring_register_files: %s", b->name, strerror(-ret));
		goto err_ring;
	}
	pthread_mutex_lock(&u->lock);
	q->nbufs = u->nbufs;
	q->freed_seen = u->freed;
	memcpy(q->bufs, u->bufs, u->nbufs * sizeof(*q->bufs));
	pthread_mutex_unlock(&u->lock);
	for (unsigned i = 0; i < q->nbufs; i++)
		iov[i] = (struct iovec){ q->bufs[i].va, q->bufs[i].len };
	if (q->nbufs && (ret = io_uring_register_buffers(&q->ring, iov, q->nbufs))) {
		pl_err("%s: io_uring_register_buffers (%u of them): %s%s", b->name, q->nbufs,
		       strerror(-ret), ret == -ENOMEM ? ": raise the memlock limit (ulimit -l)" : "");
		goto err_ring;
	}
	q->base = (struct pl_blk_queue){ .blk = b, .depth = depth, .fd = -1 };
	if (b->opts.interrupts) {
		if ((q->base.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
		    (ret = io_uring_register_eventfd(&q->ring, q->base.fd))) {
			ret = q->base.fd < 0 ? -errno : ret;
			pl_err("%s: an eventfd for the ring: %s", b->name, strerror(-ret));
			if (q->base.fd >= 0)
				close(q->base.fd);
			goto err_ring;
		}
	}
	for (unsigned i = 0; i < depth; i++)
		q->free[q->nfree++] = depth - 1 - i;
	return &q->base;
err_ring:
	io_uring_queue_exit(&q->ring);
err:
	if (q) {
		free(q->reqs);
		free(q->free);
	}
	free(q);
	errno = -ret;
	return NULL;
}

static void uring_queue_destroy(struct pl_blk_queue *bq)
{
	struct uring_queue *q = (struct uring_queue *)bq;

	/* What is in flight still writes to the buffers: wait for it. */
	while (bq->outstanding && pl_blk_poll(bq, 0) >= 0)
		if (bq->outstanding)
			io_uring_submit_and_wait(&q->ring, 1);
	io_uring_queue_exit(&q->ring);
	if (bq->fd >= 0)
		close(bq->fd);
	free(q->reqs);
	free(q->free);
	free(q);
}

/* The registered buffer holding [@buf, +@len), or -1 (also once any buffer was freed). */
static int buf_index(struct uring_queue *q, const char *buf, size_t len)
{
	struct uring_dev *u = q->base.blk->be;

	if (__atomic_load_n(&u->freed, __ATOMIC_ACQUIRE) != q->freed_seen)
		return -1;
	for (unsigned i = 0; i < q->nbufs; i++)
		if (buf >= q->bufs[i].va && buf + len <= q->bufs[i].va + q->bufs[i].len)
			return (int)i;
	return -1;
}

static int uring_submit(struct pl_blk_queue *bq, enum pl_blk_op op, void *buf, uint64_t offset,
			size_t len, pl_blk_cb cb, void *arg)
{
	struct uring_queue *q = (struct uring_queue *)bq;
	struct io_uring_sqe *sqe;

	if ((op == PL_BLK_READ || op == PL_BLK_WRITE) && (uintptr_t)buf % bq->blk->block_size) {
		pl_err("%s: buffer %p is not aligned to the %u-byte block O_DIRECT wants",
		       bq->blk->name, buf, bq->blk->block_size);
		return -EINVAL;
	}
	/* A polled ring takes only O_DIRECT reads and writes (the kernel's IOPOLL rule). */
	if (q->iopoll && (op == PL_BLK_FLUSH || op == PL_BLK_TRIM)) {
		pl_err("%s: %s on an IOPOLL queue: io_uring polls reads and writes only",
		       bq->blk->name, op == PL_BLK_FLUSH ? "flush" : "trim");
		return -EOPNOTSUPP;
	}
	if (!(sqe = io_uring_get_sqe(&q->ring)))
		return -EAGAIN;	/* blk.c keeps to the depth, so a request slot is free */
	unsigned slot = q->free[--q->nfree];
	int idx = buf ? buf_index(q, buf, len) : -1;

	q->reqs[slot] = (struct uring_req){ cb, arg, op == PL_BLK_READ || op == PL_BLK_WRITE ? len : 0 };
	switch (op) {
	case PL_BLK_READ:
		if (idx >= 0)
			io_uring_prep_read_fixed(sqe, 0, buf, len, offset, idx);
		else
			io_uring_prep_read(sqe, 0, buf, len, offset);
		break;
	case PL_BLK_WRITE:
		if (idx >= 0)
			io_uring_prep_write_fixed(sqe, 0, buf, len, offset, idx);
		else
			io_uring_prep_write(sqe, 0, buf, len, offset);
		break;
	case PL_BLK_FLUSH:
		io_uring_prep_fsync(sqe, 0, 0);
		break;
	default:
		/* A punched hole: discard on a block device, freed blocks in a file. */
		io_uring_prep_fallocate(sqe, 0, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					offset, len);
		break;
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, slot);
	q->queued++;
	return 0;
}

static void uring_kick(struct pl_blk_queue *bq)
{
	struct uring_queue *q = (struct uring_queue *)bq;

	if (q->queued) {
		io_uring_submit(&q->ring);
		q->queued = 0;
	}
}

static int uring_poll(struct pl_blk_queue *bq, unsigned max)
{
	struct uring_queue *q = (struct uring_queue *)bq;
	struct io_uring_cqe *cqe;
	int done = 0;

	/* With IOPOLL, completions are found only by entering the kernel. */
	if (q->queued || (q->iopoll && bq->outstanding)) {
		io_uring_submit(&q->ring);
		q->queued = 0;
	}
	while ((!max || (unsigned)done < max) && !io_uring_peek_cqe(&q->ring, &cqe)) {
		unsigned slot = (unsigned)io_uring_cqe_get_data64(cqe);
		struct uring_req *r = &q->reqs[slot];
		struct pl_blk_cpl c = { .err = cqe->res < 0 ? cqe->res : 0 };

		if (!c.err && r->len && (size_t)cqe->res != r->len)
			c.err = -EIO;	/* a short transfer: past the end, or the medium failed */
		/* Seen before the callback, which may poll again and must not meet it twice. */
		io_uring_cqe_seen(&q->ring, cqe);
		pl_blk_cb cb = r->cb;
		void *arg = r->arg;
		q->free[q->nfree++] = slot;
		bq->outstanding--;
		done++;
		if (cb)
			cb(arg, &c);
	}
	return done;
}

const struct pl_blk_ops pl_blk_uring_ops = {
	.backend = PL_BLK_URING,
	.open = uring_open,
	.close = uring_close,
	.buf_alloc = uring_buf_alloc,
	.buf_free = uring_buf_free,
	.queue_create = uring_queue_create,
	.queue_destroy = uring_queue_destroy,
	.submit = uring_submit,
	.kick = uring_kick,
	.poll = uring_poll,
};
