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
	/*
	 * Asynchronous Event Requests kept outstanding (up to 4, AERL permitting), with
	 * SMART critical warnings and notices enabled; pl_nvme_poll_admin() delivers what
	 * they report. Off: no AER is ever sent.
	 */
	bool no_events;
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
 * Deletes any queue pairs still there (their requests called back with an abort
 * status), shuts the controller down (CC.SHN, waiting for SHST as RTD3E says, 5 s to
 * 60 s) and releases it. NULL is ignored.
 * The caller guarantees that no other thread uses @c or a queue pair of it meanwhile,
 * nor after: a pair's owner that polls during the close polls freed memory, so join
 * the owners first. From an event callback it is safe: the controller is closed once
 * pl_nvme_poll_admin()'s callbacks are over, and no later event is delivered.
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

/**
 * pl_nvme_reset() - a controller level reset (thread-safe, blocking): the controller is
 * disabled, which ends every command it holds, and brought back with its admin queue,
 * features and events as they were. Each I/O queue pair comes back at its ID and depth
 * in its owner's next pl_nvme_poll() (a submit before that is refused with -EAGAIN):
 * its commands that were in flight are completed once, by that poll, with
 * PL_NVME_SC_RESET (PL_NVME_SC_TIMEOUT for one that had timed out), so callers may
 * resubmit them. The driver resets by itself when a
 * command times out and Abort does not end it, and when CSTS.CFS is seen.
 * Return: 0; -EIO when the controller did not come back within CAP.TO: it is failed,
 *         and every later call on it and its queue pairs is refused with -EIO (its
 *         commands complete with PL_NVME_SC_FAILED). Logged.
 */
PL_API int pl_nvme_reset(struct pl_nvme_ctrl *c);
/* Resets done on the controller, asked for or not. */
PL_API unsigned pl_nvme_resets(const struct pl_nvme_ctrl *c);
/* Whether the controller has failed for good (a reset did not bring it back). */
PL_API bool pl_nvme_failed(const struct pl_nvme_ctrl *c);

/**
 * pl_nvme_get_log() - Get Log Page @lid (NVME_LOG_SMART, NVME_LOG_ERROR, ...) for @nsid
 * (NVME_NSID_ALL for the controller), @len bytes (a multiple of 4, up to 4 KiB) into
 * @buf. @rae keeps an asynchronous event the page reports masked (Retain Async Event).
 * Return: 0, -EIO (@cpl-less: logged with the status's name), -EINVAL, -ETIMEDOUT.
 */
PL_API int pl_nvme_get_log(struct pl_nvme_ctrl *c, uint8_t lid, uint32_t nsid, void *buf,
			   size_t len, bool rae);

/** struct pl_nvme_event - an Asynchronous Event, and the log page read to clear it. */
struct pl_nvme_event {
	uint8_t type;		/* NVME_AER_ERROR, NVME_AER_SMART, NVME_AER_NOTICE, ... */
	uint8_t info;		/* NVME_AER_SMART_RELIABILITY and the like */
	uint8_t lid;		/* the log page it names */
	uint32_t dw0;		/* the whole completion dword */
	const void *log;	/* that page as read (NULL if it could not be); valid in the call */
	size_t log_len;
};
typedef void (*pl_nvme_event_cb)(void *arg, const struct pl_nvme_event *ev);

/*
 * The callback pl_nvme_poll_admin() calls per event; NULL: events are logged only. It
 * may call pl_nvme_close() on the controller (see there).
 */
PL_API void pl_nvme_set_event_cb(struct pl_nvme_ctrl *c, pl_nvme_event_cb cb, void *arg);

/**
 * pl_nvme_poll_admin() - reaps the admin queue (thread-safe; takes its lock, so not for
 * the data path): each Asynchronous Event that completed is logged, its log page read
 * (which lets the controller report that kind of event again), its AER sent again, and
 * the callback called (without the lock held). An app calls it now and then, or when
 * pl_nvme_admin_irq_fd() fires.
 * Return: events delivered, or -EIO when the controller has failed.
 */
PL_API int pl_nvme_poll_admin(struct pl_nvme_ctrl *c);
/* The eventfd the admin queue raises (MSI-X vector 0), or -1 without interrupts. */
PL_API int pl_nvme_admin_irq_fd(const struct pl_nvme_ctrl *c);

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
	/*
	 * A command not completed this long after it went out (0: never) is aborted (Abort);
	 * if the controller does not end it within as long again, or says it will not, the
	 * controller is reset. Either way the command completes with PL_NVME_SC_TIMEOUT.
	 * Checked in pl_nvme_poll(), to a few milliseconds (the coarse clock, no system call).
	 */
	unsigned timeout_ms;
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

/*
 * Pollen's own statuses, above any SCT << 8 | SC a controller can return (0x7ff at most):
 * what the driver, not the controller, ended a command with.
 */
#define PL_NVME_SC_TIMEOUT	0x801	/* no completion within the pair's timeout_ms */
#define PL_NVME_SC_RESET	0x802	/* in flight when the controller was reset: resubmit */
#define PL_NVME_SC_FAILED	0x803	/* the controller failed and did not come back */

/** struct pl_nvme_cpl - how a command ended. */
struct pl_nvme_cpl {
	uint16_t status;	/* SCT << 8 | SC (NVME_SCT_SC()), or PL_NVME_SC_*: 0 is success */
	bool dnr;		/* the controller said: do not retry */
	uint8_t opcode;		/* the command */
	uint32_t dw0;		/* the command specific result */
	/* where it went; for a request of several commands, the one that failed */
	uint32_t nsid;
	uint32_t blocks;
	uint64_t lba;
};

/*
 * The status's name as the NVMe specification gives it ("Unrecovered Read Error", "LBA
 * Out of Range", ...) or Pollen's ("Command Timed Out"); never NULL.
 */
PL_API const char *pl_nvme_status_name(uint16_t status);
/*
 * One line for a failed command, e.g. "Read of 8 blocks at LBA 2048 on namespace 1:
 * Unrecovered Read Error (SCT 2h SC 81h)". Return: as snprintf.
 */
PL_API int pl_nvme_cpl_describe(const struct pl_nvme_cpl *cpl, char *buf, size_t len);

typedef void (*pl_nvme_cb)(void *arg, const struct pl_nvme_cpl *cpl);

/*
 * The I/O commands. @buf is DMA memory on the controller's context (pl_dma_alloc,
 * pl_dma_register, a mapped pool), 4-byte aligned, wholly inside one region; @lba and
 * @blocks in the namespace's logical blocks. A request larger than
 * pl_nvme_max_transfer() goes out as several commands and completes once, when all have.
 * Return: 0 once queued; -EAGAIN when the pair has too few free slots, or a reset has
 * begun on it (poll, then submit again: pl_nvme_poll() brings it back); -EINVAL for a bad namespace, range, length or buffer (logged; nothing
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

/**
 * pl_nvme_submit_raw() - queue a command the caller built (any I/O opcode, its own data
 * pointer as IOVAs; the CID is the driver's). Nothing is checked or translated: for
 * commands the driver has no call for, and for tests of what the device does with them.
 * Return: 0, -EAGAIN, -EIO as the other submit calls.
 */
PL_API int pl_nvme_submit_raw(struct pl_nvme_qpair *qp, const struct nvme_sqe *cmd,
			      pl_nvme_cb cb, void *arg);

/* Sends what was submitted since the last doorbell: one doorbell write, or none. */
PL_API void pl_nvme_kick(struct pl_nvme_qpair *qp);

/**
 * pl_nvme_poll() - send what was submitted, then reap up to @budget completions (0: all
 * there are), calling their callbacks; a callback may submit again. One SQ doorbell write
 * at most, and a CQ one per 32 completions.
 * After a reset it first brings the pair back (see pl_nvme_reset()); with a timeout set
 * it aborts what is overdue.
 * Return: how many requests completed; -EIO once the controller has failed for good.
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
