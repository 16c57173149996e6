/* NVMe: a polled-mode driver for any controller with class code 0x010802 (NVMe 1.4). */
#ifndef POLLEN_NVME_H
#define POLLEN_NVME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollen/compiler.h>
#include <pollen/iommu.h>
#include <pollen/nvme_hw.h>

PL_BEGIN_DECLS

/*
 * A controller is opened on an IOMMU context, brought up (disabled, admin queues, CC,
 * enabled), identified with its active namespaces, and told how many I/O queue pairs
 * the caller wants. Control-path calls (open, close, admin commands, queue pairs made
 * and destroyed) are thread-safe and may block. A queue pair belongs to one thread: its
 * submit and poll calls take no lock, make no system call and allocate nothing.
 *
 * I/O is queued by the submit calls and reaches the device at the next pl_nvme_kick() or
 * pl_nvme_poll(), so a batch costs one doorbell write; completions are reaped by phase
 * tag in pl_nvme_poll(), which calls each command's callback and writes the completion
 * doorbell once per call.
 */
struct pl_nvme_ctrl;
struct pl_nvme_qpair;

struct pl_nvme_opts {
	unsigned io_queues;	/* I/O queue pairs wanted; 0: 8. The controller may grant fewer */
	unsigned admin_depth;	/* admin queue entries; 0: 32 */
	/*
	 * Shadow doorbells (Doorbell Buffer Config) where the controller offers them. Off
	 * by default: on QEMU's controller they cost more than the MMIO writes they spare.
	 */
	bool shadow_doorbells;
	bool sgl;		/* data as one SGL descriptor where the controller takes SGLs */
	bool interrupts;	/* MSI-X vectors into eventfds, so queue pairs can sleep */
};

/**
 * pl_nvme_open() - take the NVMe controller at @addr (bound to vfio-pci) on @ctx and
 * bring it up.
 * @opts: NULL for the defaults.
 * Return: the controller, or NULL with errno set: ENODEV (no such device, not NVMe, not
 *         bound to vfio-pci), EBUSY (held elsewhere), ETIMEDOUT (it did not come ready
 *         within CAP.TO), EIO (fatal status, or an admin command failed). Logged.
 */
PL_API struct pl_nvme_ctrl *pl_nvme_open(struct pl_iommu *ctx, const char *addr,
					 const struct pl_nvme_opts *opts);

/*
 * Deletes any queue pairs still there, shuts the controller down (CC.SHN, waiting for
 * SHST) and releases it. NULL is ignored.
 */
PL_API void pl_nvme_close(struct pl_nvme_ctrl *c);

PL_API const char *pl_nvme_addr(const struct pl_nvme_ctrl *c);
PL_API const struct nvme_id_ctrl *pl_nvme_id_ctrl(const struct pl_nvme_ctrl *c);
PL_API uint64_t pl_nvme_cap(const struct pl_nvme_ctrl *c);
PL_API uint32_t pl_nvme_vs(const struct pl_nvme_ctrl *c);
/* I/O queue pairs the controller granted (Set Features, Number of Queues). */
PL_API unsigned pl_nvme_io_queues(const struct pl_nvme_ctrl *c);
/* The deepest queue the controller allows (CAP.MQES + 1). */
PL_API unsigned pl_nvme_max_depth(const struct pl_nvme_ctrl *c);
/* Bytes one command moves at most (MDTS, and what one PRP list page describes). */
PL_API size_t pl_nvme_max_transfer(const struct pl_nvme_ctrl *c);
/* Whether shadow doorbells (Doorbell Buffer Config) are in use. */
PL_API bool pl_nvme_shadow_doorbells(const struct pl_nvme_ctrl *c);
/* Whether data pointers go out as SGLs. */
PL_API bool pl_nvme_sgl(const struct pl_nvme_ctrl *c);

/** struct pl_nvme_ns - an active namespace, as Identify Namespace describes it. */
struct pl_nvme_ns {
	uint32_t nsid;
	uint64_t blocks;	/* NSZE: the size in logical blocks */
	uint64_t capacity;	/* NCAP */
	uint64_t used;		/* NUSE */
	uint32_t block_size;	/* of the LBA format in use */
	uint16_t metadata_size;	/* bytes of metadata per block in that format */
	uint8_t lbaf;		/* the format in use (FLBAS) */
	bool usable;		/* false when formatted with metadata: I/O is refused */
	const struct nvme_id_ns *id;	/* the whole Identify Namespace data */
};

/* Active namespaces, in NSID order. */
PL_API unsigned pl_nvme_ns_count(const struct pl_nvme_ctrl *c);
PL_API const struct pl_nvme_ns *pl_nvme_ns_at(const struct pl_nvme_ctrl *c, unsigned i);
/* The namespace @nsid, or NULL when it is not active. */
PL_API const struct pl_nvme_ns *pl_nvme_ns(const struct pl_nvme_ctrl *c, uint32_t nsid);

/**
 * pl_nvme_admin() - run one admin command and wait for it (thread-safe).
 * @cmd: the command; its CID and data pointer are the driver's to fill.
 * @data, @len: up to 4 KiB copied to the device (opcode bit 0 set) or from it (bit 1).
 * @cpl: if not NULL, the completion.
 * Return: 0; -EIO when the command completed with an error status (@cpl says which);
 *         -ETIMEDOUT; -EINVAL for @len over 4 KiB.
 */
PL_API int pl_nvme_admin(struct pl_nvme_ctrl *c, const struct nvme_sqe *cmd, void *data,
			 size_t len, struct nvme_cqe *cpl);

/* ---- I/O queue pairs ---- */

struct pl_nvme_qpair_opts {
	unsigned depth;		/* commands at once; 0: 256. The rings are a little deeper */
	bool interrupts;	/* its completion queue raises an MSI-X vector (opts.interrupts) */
};

/**
 * pl_nvme_qpair_create() - a new I/O queue pair (Create I/O CQ, then SQ), with its rings
 * and a PRP list per command slot (as long as the transfer limit needs, a 4 KiB page at
 * most) allocated once, here, in hugepages. The rings hold @depth + 33
 * entries (up to CAP.MQES): one always empty, 32 for completions consumed but not yet
 * told to the controller, whose CQ head doorbell is written once per 32 of them.
 * Return: the queue pair, or NULL with errno set: ENOSPC when every granted pair is in
 *         use, EINVAL for a depth the controller does not allow. Logged.
 */
PL_API struct pl_nvme_qpair *pl_nvme_qpair_create(struct pl_nvme_ctrl *c,
						  const struct pl_nvme_qpair_opts *opts);

/*
 * Waits (bounded) for the pair's outstanding commands, then deletes it (SQ, then CQ).
 * Commands still outstanding after that are completed with an abort status.
 */
PL_API void pl_nvme_qpair_destroy(struct pl_nvme_qpair *qp);

PL_API unsigned pl_nvme_qpair_id(const struct pl_nvme_qpair *qp);
/* Commands that may be outstanding at once: the depth asked for. */
PL_API unsigned pl_nvme_qpair_slots(const struct pl_nvme_qpair *qp);
/* Commands submitted and not yet completed. */
PL_API unsigned pl_nvme_qpair_outstanding(const struct pl_nvme_qpair *qp);
/* The eventfd its completion queue raises, or -1 without interrupts. */
PL_API int pl_nvme_qpair_irq_fd(const struct pl_nvme_qpair *qp);
/* Bytes of DMA memory the pair holds (rings and PRP lists, in whole hugepages). */
PL_API size_t pl_nvme_qpair_dma_bytes(const struct pl_nvme_qpair *qp);

/** struct pl_nvme_cpl - how a command ended. */
struct pl_nvme_cpl {
	uint16_t status;	/* SCT << 8 | SC (NVME_SCT_SC()): 0 is success */
	uint32_t dw0;		/* the command specific result */
};

typedef void (*pl_nvme_cb)(void *arg, const struct pl_nvme_cpl *cpl);

/*
 * The I/O commands. @buf is DMA memory on the controller's context (pl_dma_alloc,
 * pl_dma_register, a mapped pool), 4-byte aligned, wholly inside one region; @lba and
 * @blocks in the namespace's logical blocks. A request larger than
 * pl_nvme_max_transfer() goes out as several commands and completes once, when all have.
 * Return: 0 once queued; -EAGAIN when the pair has too few free slots (poll, then
 * submit again); -EINVAL for a bad namespace, range, length or buffer (logged; nothing
 * reaches the device); -EOPNOTSUPP for a namespace with metadata or a command the
 * controller lacks; -EIO when the controller has failed.
 */
PL_API int pl_nvme_read(struct pl_nvme_qpair *qp, uint32_t nsid, void *buf, uint64_t lba,
			uint32_t blocks, pl_nvme_cb cb, void *arg);
PL_API int pl_nvme_write(struct pl_nvme_qpair *qp, uint32_t nsid, const void *buf, uint64_t lba,
			 uint32_t blocks, pl_nvme_cb cb, void *arg);
PL_API int pl_nvme_write_zeroes(struct pl_nvme_qpair *qp, uint32_t nsid, uint64_t lba,
				uint32_t blocks, pl_nvme_cb cb, void *arg);
/* Dataset Management with the deallocate attribute: one range. */
PL_API int pl_nvme_deallocate(struct pl_nvme_qpair *qp, uint32_t nsid, uint64_t lba,
			      uint32_t blocks, pl_nvme_cb cb, void *arg);
PL_API int pl_nvme_flush(struct pl_nvme_qpair *qp, uint32_t nsid, pl_nvme_cb cb, void *arg);

/* Sends what was submitted since the last doorbell: one doorbell write, or none. */
PL_API void pl_nvme_kick(struct pl_nvme_qpair *qp);

/**
 * pl_nvme_poll() - send what was submitted, then reap up to @budget completions (0: all
 * there are), calling their callbacks; a callback may submit again. One SQ doorbell write
 * at most, and a CQ one per 32 completions.
 * Return: how many commands completed; -EIO once the controller has failed (CSTS.CFS).
 */
PL_API int pl_nvme_poll(struct pl_nvme_qpair *qp, unsigned budget);

/*
 * Synchronous forms: submit, then poll until done (the pair must have no other thread).
 * Return 0, or -EIO with *@status (if not NULL) set to the command's status.
 */
PL_API int pl_nvme_read_sync(struct pl_nvme_qpair *qp, uint32_t nsid, void *buf, uint64_t lba,
			     uint32_t blocks, uint16_t *status);
PL_API int pl_nvme_write_sync(struct pl_nvme_qpair *qp, uint32_t nsid, const void *buf,
			      uint64_t lba, uint32_t blocks, uint16_t *status);

PL_END_DECLS

#endif
