/* The block interface: one API over an NVMe namespace through Pollen or a file through io_uring. */
#ifndef POLLEN_BLK_H
#define POLLEN_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollen/compiler.h>

PL_BEGIN_DECLS

/*
 * Apps and benchmarks speak only to this. A target is opened by name: a PCI address
 * ("0000:00:02.0") takes that NVMe controller with Pollen's driver (the "pmd" back end);
 * anything else is a block device or file opened with O_DIRECT and driven through
 * io_uring (the "uring" back end, the kernel's own path, for comparison and as the
 * fallback when no device is bound to vfio-pci).
 *
 * Each thread makes its own queue; a queue's calls take no lock. Offsets and lengths are
 * bytes, whole blocks; buffers come from pl_blk_buf_alloc() (DMA memory for the PMD,
 * registered buffers for io_uring), aligned to the block size for io_uring's O_DIRECT.
 * The namespace ID (pl_blk_nsid) is known for both: an NVMe disk tells io_uring's.
 */
struct pl_blk;
struct pl_blk_queue;
struct pl_iommu;

enum pl_blk_backend {
	PL_BLK_AUTO = 0,	/* pmd for a PCI address, uring for a path */
	PL_BLK_PMD,
	PL_BLK_URING,
};

struct pl_blk_opts {
	enum pl_blk_backend backend;
	unsigned queues;	/* queues wanted (the PMD asks the controller for so many); 0: 8 */
	uint32_t nsid;		/* pmd: the namespace; 0: the first active one */
	bool shadow_doorbells;	/* pmd: see struct pl_nvme_opts */
	bool sgl;		/* pmd */
	bool interrupts;	/* queues can sleep: pmd MSI-X, uring an eventfd */
	bool sqpoll;		/* uring: a kernel thread polls the submission queue */
	bool iopoll;		/* uring: polled completions (needs the device's poll queues;
				 * reads and writes only: flush and trim get -EOPNOTSUPP) */
	unsigned timeout_ms;	/* pmd: per-command timeout (pl_nvme_qpair_opts); 0: none */
	/*
	 * pmd: the IOMMU context to open the controller on, shared with the caller's other
	 * devices (it must outlive the device); NULL: one of its own, closed with it.
	 */
	struct pl_iommu *ctx;
};

/**
 * pl_blk_open() - open @target (see above) with @opts (NULL: the defaults).
 * Return: the device, or NULL with errno set and the reason logged.
 */
PL_API struct pl_blk *pl_blk_open(const char *target, const struct pl_blk_opts *opts);
PL_API void pl_blk_close(struct pl_blk *b);

PL_API enum pl_blk_backend pl_blk_backend(const struct pl_blk *b);
/* The back end PL_BLK_AUTO picks for @target: PL_BLK_PMD for a PCI address, else uring. */
PL_API enum pl_blk_backend pl_blk_backend_of(const char *target);
PL_API const char *pl_blk_backend_name(enum pl_blk_backend be);
PL_API const char *pl_blk_name(const struct pl_blk *b);	/* the target as opened */
PL_API uint32_t pl_blk_block_size(const struct pl_blk *b);
PL_API uint64_t pl_blk_blocks(const struct pl_blk *b);
/* Queues that can be made at once: the I/O queue pairs the controller granted (pmd), or
 * UINT_MAX (uring). */
PL_API unsigned pl_blk_max_queues(const struct pl_blk *b);
/* The NVMe controller behind a pmd device (struct pl_nvme_ctrl *), else NULL. */
PL_API void *pl_blk_nvme(const struct pl_blk *b);
/* The NVMe namespace behind the device (pmd, or an NVMe disk through uring), else 0. */
PL_API uint32_t pl_blk_nsid(const struct pl_blk *b);

/*
 * Memory for I/O: DMA memory on the device's IOMMU context (pmd), or hugepages (4 KiB
 * pages if none) that queues made afterwards register with their rings (uring: so
 * allocate buffers first, then queues; a queue stops using its registered buffers once
 * any buffer is freed).
 * NULL with errno set when memory runs short (logged).
 */
PL_API void *pl_blk_buf_alloc(struct pl_blk *b, size_t len);
PL_API void pl_blk_buf_free(struct pl_blk *b, void *buf);
/* Bytes of DMA or registered memory the device and its queues hold. */
PL_API size_t pl_blk_dma_bytes(const struct pl_blk *b);

/** struct pl_blk_cpl - how an I/O ended. */
struct pl_blk_cpl {
	int err;		/* 0, or a negative errno: -EIO for a device error, -ETIMEDOUT
				 * for a timeout, -ECANCELED when a controller reset ended it */
	uint16_t nvme_status;	/* pmd: the NVMe status (SCT << 8 | SC), 0 on success */
};

typedef void (*pl_blk_cb)(void *arg, const struct pl_blk_cpl *cpl);

/* The most one I/O may move. */
#define PL_BLK_MAX_IO (8u << 20)

/*
 * A queue for the calling thread: @depth I/Os at once (0: 128), each of up to
 * PL_BLK_MAX_IO (the PMD sizes its command slots for that, within the controller's
 * deepest queue: past it, large I/Os at full depth may see -EAGAIN). NULL with errno set.
 */
PL_API struct pl_blk_queue *pl_blk_queue_create(struct pl_blk *b, unsigned depth);
PL_API void pl_blk_queue_destroy(struct pl_blk_queue *q);
/* I/Os that may be out at once on @q. */
PL_API unsigned pl_blk_queue_depth(const struct pl_blk_queue *q);

/*
 * Queue an I/O; it goes to the device at the next pl_blk_kick() or pl_blk_poll().
 * Return: 0; -EAGAIN when the queue is full, or (the NVMe back end) a controller reset
 * has begun on it: poll, then submit again; -EINVAL for a range past the end, a length
 * or offset that is not whole blocks, a length over PL_BLK_MAX_IO, or a buffer the back
 * end cannot use (logged).
 */
PL_API int pl_blk_read(struct pl_blk_queue *q, void *buf, uint64_t offset, size_t len,
		       pl_blk_cb cb, void *arg);
PL_API int pl_blk_write(struct pl_blk_queue *q, const void *buf, uint64_t offset, size_t len,
			pl_blk_cb cb, void *arg);
PL_API int pl_blk_flush(struct pl_blk_queue *q, pl_blk_cb cb, void *arg);
/* Deallocate (trim) the range: reads of it return zeroes afterwards where the device says so. */
PL_API int pl_blk_trim(struct pl_blk_queue *q, uint64_t offset, size_t len, pl_blk_cb cb,
		       void *arg);

/* Sends what was queued (one doorbell, or one io_uring_enter unless SQPOLL). */
PL_API void pl_blk_kick(struct pl_blk_queue *q);
/* Sends, then reaps up to @max completions (0: all), calling their callbacks. */
PL_API int pl_blk_poll(struct pl_blk_queue *q, unsigned max);
/* I/Os queued and not yet completed. */
PL_API unsigned pl_blk_outstanding(const struct pl_blk_queue *q);
/*
 * An eventfd that becomes readable when a completion is posted (opts.interrupts), to
 * sleep on with pl_irq_waiter when polls come up empty; -1 without one.
 */
PL_API int pl_blk_queue_fd(const struct pl_blk_queue *q);

PL_END_DECLS

#endif
