/* The block interface's insides: a device is a table of operations, as in ixy. */
#ifndef PL_BLK_PRIV_H
#define PL_BLK_PRIV_H

#include <pollen/blk.h>

enum pl_blk_op { PL_BLK_READ, PL_BLK_WRITE, PL_BLK_FLUSH, PL_BLK_TRIM };

struct pl_blk_ops {
	enum pl_blk_backend backend;
	int (*open)(struct pl_blk *b, const char *target);
	void (*close)(struct pl_blk *b);
	void *(*buf_alloc)(struct pl_blk *b, size_t len);
	void (*buf_free)(struct pl_blk *b, void *buf);
	struct pl_blk_queue *(*queue_create)(struct pl_blk *b, unsigned depth);
	void (*queue_destroy)(struct pl_blk_queue *q);
	/* @buf, @offset and @len checked already: whole blocks inside the device. */
	int (*submit)(struct pl_blk_queue *q, enum pl_blk_op op, void *buf, uint64_t offset,
		      size_t len, pl_blk_cb cb, void *arg);
	void (*kick)(struct pl_blk_queue *q);
	int (*poll)(struct pl_blk_queue *q, unsigned max);
};

extern const struct pl_blk_ops pl_blk_pmd_ops, pl_blk_uring_ops;

struct pl_blk {
	const struct pl_blk_ops *ops;
	struct pl_blk_opts opts;
	char name[256];
	uint32_t block_size;
	uint64_t blocks;
	uint32_t nsid;		/* the NVMe namespace, where there is one */
	unsigned max_queues;	/* queues the back end can make at once */
	size_t dma_bytes;
	void *be;		/* the back end's own state */
};

/* What every back end's queue starts with. */
struct pl_blk_queue {
	struct pl_blk *blk;
	unsigned depth;
	unsigned outstanding;
	int fd;			/* to sleep on, -1 when none */
};

#endif
