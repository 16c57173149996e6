/* The NVMe driver's insides: the controller, its admin queue, I/O queue pairs, commands. */
#ifndef PL_NVME_PRIV_H
#define PL_NVME_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/mmio.h>
#include <pollen/nvme.h>
#include <pollen/pci.h>
#include <pollen/vfio.h>

#define PL_NVME_MAX_NS 64	/* active namespaces kept; more are not listed */
#define PL_NVME_MAX_QPAIRS 256	/* I/O queue pairs a controller may have */
#define PL_NVME_MAX_AERS 4	/* Asynchronous Event Requests kept outstanding at most */
#define PL_NVME_MAX_EVENTS 16	/* events held between two pl_nvme_poll_admin() calls */
#define PL_NVME_AER_CID 0xff00	/* admin CIDs from here on are AERs; the others count up */

/*
 * What a command slot holds while its command is out, indexed by CID. A request larger
 * than one command goes out as pieces; each piece's slot names the first one (its
 * parent), which counts the pieces still out and keeps the first error.
 */
#define PL_NVME_FREE_SLOT 0xffff	/* a slot's parent while it is free */

struct pl_nvme_req {
	pl_nvme_cb cb;
	void *arg;
	uint16_t parent;	/* PL_NVME_FREE_SLOT while free */
	uint16_t pending;	/* on the parent: pieces not yet completed */
	/*
	 * The CID its command went out with: the slot, and above the pair's tag bits a
	 * generation that counts the slot's uses, as Linux's nvme_cid does; a completion
	 * counts only while its command is out with exactly that CID (qpair.c).
	 */
	uint16_t cid;
	uint16_t gen;
	bool out;		/* its command is with the controller */
	uint16_t status;	/* on the parent: the first error, SCT << 8 | SC */
	uint8_t opcode;
	uint8_t flags;		/* REQ_* */
	uint32_t dw0;
	/* where the piece went (on the parent, once a piece failed: that piece) */
	uint32_t nsid;
	uint32_t blocks;
	uint64_t lba;
	uint32_t t_sent;	/* on the parent, with timeouts on: coarse ms when it went out */
};

#define REQ_TIMED_OUT	(1u << 0)	/* its time passed: it ends as PL_NVME_SC_TIMEOUT */
#define REQ_ABORT_SENT	(1u << 1)	/* Abort sent; t_sent restarted for the wait on it */
#define REQ_DNR		(1u << 2)	/* the error said do not retry */

/* A submission and completion queue pair with its doorbells, admin or I/O. */
struct pl_nvme_queue {
	uint16_t qid;
	uint16_t depth;
	struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	uint16_t sq_tail;
	uint16_t sq_rung;	/* the tail last written to the doorbell */
	uint16_t cq_head;
	uint16_t cq_rung;	/* the head last written to the doorbell */
	uint16_t cq_unrung;	/* entries consumed since then */
	uint8_t phase;
	volatile uint32_t *sq_db, *cq_db;	/* MMIO doorbells in BAR0 */
	/* shadow doorbells and event indexes (Doorbell Buffer Config), NULL when unused */
	volatile uint32_t *sq_shadow, *cq_shadow, *sq_ei, *cq_ei;
};

struct pl_nvme_qpair {
	struct pl_nvme_ctrl *ctrl;
	struct pl_nvme_queue q;
	struct pl_nvme_req *reqs;	/* by CID */
	uint16_t *free_cids;		/* a stack */
	unsigned nfree;
	unsigned slots;			/* commands at once: slots 0 to slots - 1 */
	unsigned tag_bits;		/* of a CID that name the slot; the rest count its uses */
	uint16_t tag_mask;
	uint64_t stray_cqes;		/* completions for no command out: dropped */
	unsigned cq_batch;		/* CQ head doorbells held back for so many entries */
	/* per slot, its PRP list or DSM range: slot i at pages + i * slot_bytes */
	char *pages;
	uint64_t pages_iova;
	size_t slot_bytes;
	char *mem;			/* the DMA region: rings, then pages */
	uint64_t mem_iova;
	size_t mem_len;
	const struct pl_nvme_ns *ns;	/* the namespace the last command went to */
	unsigned lba_shift;		/* its block size, log2 */
	unsigned xfer_shift;		/* blocks a data command moves at most, log2 */
	/* the DMA region the last buffer was in: a hit costs no lookup */
	struct pl_dma_span span;
	unsigned idle_polls;		/* empty polls since CSTS was last read */
	int irq_fd;
	uint32_t cq_flags;		/* Create I/O CQ's CDW11: made again so after a reset */
	bool failed;			/* for good: the controller is */
	/* resets: the controller's generation this pair's queues belong to */
	uint32_t gen;
	/*
	 * Requests ended by a reset (or reaped while recovering), for pl_nvme_poll to deliver
	 * from limbo_next on: an entry is taken before its callback, which may poll again.
	 */
	struct pl_nvme_req *limbo;
	unsigned nlimbo, limbo_next, limbo_cap;
	/* timeouts */
	unsigned timeout_ms;		/* 0: none */
	uint32_t next_check;		/* coarse ms */
};

struct pl_nvme_ctrl {
	struct pl_iommu *ctx;
	struct pl_vfio_dev *dev;
	char addr[PL_PCI_ADDR_LEN];	/* canonical, for messages (as the e1000 port keeps) */
	volatile void *bar;
	uint64_t cap;
	uint32_t vs;
	uint32_t dstrd;			/* doorbell stride, bytes */
	size_t page_size;		/* the memory page size in CC.MPS */
	size_t max_xfer;		/* bytes per command */
	struct pl_nvme_opts opts;
	bool dbbuf;			/* shadow doorbells in use */
	bool sgl;			/* SGL data pointers in use */
	bool cfs;			/* CSTS.CFS seen: a reset is due (pl_nvme_cfs) */
	bool dead;			/* a reset did not bring it back: every call fails */
	uint32_t gen;			/* bumped by each reset (atomic: owners read it) */
	unsigned resets;		/* atomic: pl_nvme_resets() reads it from anywhere */

	pthread_mutex_t admin_lock;	/* the admin queue and the queue IDs */
	struct pl_nvme_queue admin;
	uint16_t admin_cid;
	char *admin_mem;		/* admin SQ, CQ, a data page, the shadow doorbell pages */
	uint64_t admin_iova;
	char *data;			/* a 4 KiB page for admin data */
	uint64_t data_iova;
	volatile uint32_t *dbbuf_shadow, *dbbuf_ei;	/* and their IOVAs, for the command */
	uint64_t dbbuf_shadow_iova, dbbuf_ei_iova;

	struct nvme_id_ctrl *id;
	struct pl_nvme_ns ns[PL_NVME_MAX_NS];
	struct nvme_id_ns *id_ns;	/* one per namespace in ns[] */
	unsigned nns;

	unsigned io_queues;		/* granted */
	bool qid_used[PL_NVME_MAX_QPAIRS + 1];
	struct pl_nvme_qpair *qpairs[PL_NVME_MAX_QPAIRS + 1];
	unsigned irq_vectors;		/* MSI-X vectors routed to eventfds, 0 when none */

	/*
	 * Asynchronous Event Requests: AER i goes out with CID PL_NVME_AER_CID + i while bit
	 * i of aer_busy is set, so a re-armed one never takes a CID still out, whichever
	 * completes first.
	 */
	unsigned aer_max;		/* kept outstanding */
	unsigned aer_busy;
	uint32_t events[PL_NVME_MAX_EVENTS];	/* dw0 of events reaped, not yet delivered */
	unsigned nevents;
	pl_nvme_event_cb event_cb;
	void *event_arg;
	/* pl_nvme_close() from an event callback is done once the callbacks are over */
	bool in_event_cb, close_asked;
	pthread_t event_thread;
};

static inline bool pl_nvme_dead(const struct pl_nvme_ctrl *c)
{
	return __atomic_load_n(&c->dead, __ATOMIC_ACQUIRE);
}

/* CSTS.CFS seen, by a poller or the admin path: written from any thread, so atomic. */
static inline bool pl_nvme_cfs(const struct pl_nvme_ctrl *c)
{
	return __atomic_load_n(&c->cfs, __ATOMIC_ACQUIRE);
}

static inline void pl_nvme_set_cfs(struct pl_nvme_ctrl *c, bool cfs)
{
	__atomic_store_n(&c->cfs, cfs, __ATOMIC_RELEASE);
}

/* watch.c, a leaf: monotonic milliseconds, for the control path's bounded waits */
uint64_t pl_nvme_now_ms(void);
/* Coarse monotonic milliseconds: the vDSO's tick clock, no system call. */
uint32_t pl_nvme_coarse_ms(void);
/* CSTS.CFS (or all ones), checked where the driver looks at the controller; logs it once. */
bool pl_nvme_check_fatal(struct pl_nvme_ctrl *c);

/*
 * queue.c makes a queue; the doorbells and the completion ring run per command, so they
 * are here, inline (as libvfn's queue.h has them). The admin and I/O queues share them.
 */
void pl_nvme_queue_init(struct pl_nvme_ctrl *c, struct pl_nvme_queue *q, uint16_t qid,
			uint16_t depth, void *sq, void *cq);

/* The SQ entry at the tail, which moves past it: the one place the tail moves. */
static inline struct nvme_sqe *pl_nvme_sq_take(struct pl_nvme_queue *q)
{
	struct nvme_sqe *s = &q->sq[q->sq_tail];

	if (++q->sq_tail == q->depth)
		q->sq_tail = 0;
	return s;
}

/* Queues @cmd at the SQ's tail (the doorbell is rung apart). */
static inline void pl_nvme_push_sqe(struct pl_nvme_queue *q, const struct nvme_sqe *cmd)
{
	*pl_nvme_sq_take(q) = *cmd;
}

/*
 * With shadow doorbells the controller publishes, per doorbell, the value past which it
 * wants an MMIO write (its event index); between that and the value it last took, a
 * write to the shadow is enough. The comparison is mod 2^16, as the queue indexes wrap.
 */
static inline bool pl_nvme_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

static inline void pl_nvme_ring(volatile uint32_t *db, volatile uint32_t *shadow,
				volatile uint32_t *ei, uint16_t val, uint16_t old)
{
	if (shadow) {
		*shadow = val;
		/* The shadow's store before the event index's load: the device writes one,
		 * reads the other. */
		pl_mb();
		if (!pl_nvme_need_event((uint16_t)*ei, val, old))
			return;
	}
	pl_mmio_write32(db, 0, val);
}

static inline void pl_nvme_ring_sq(struct pl_nvme_queue *q)
{
	if (q->sq_tail == q->sq_rung)
		return;
	pl_dma_wmb();	/* the entries before the tail that hands them over */
	pl_nvme_ring(q->sq_db, q->sq_shadow, q->sq_ei, q->sq_tail, q->sq_rung);
	q->sq_rung = q->sq_tail;
}

static inline void pl_nvme_ring_cq(struct pl_nvme_queue *q)
{
	if (!q->cq_unrung)
		return;
	/* The head is rung after the entries were read: loads do not pass a later store. */
	pl_nvme_ring(q->cq_db, q->cq_shadow, q->cq_ei, q->cq_head, q->cq_rung);
	q->cq_rung = q->cq_head;
	q->cq_unrung = 0;
}

/* The next completion if its phase tag says it is new (read barrier taken), else NULL. */
static inline volatile struct nvme_cqe *pl_nvme_next_cqe(struct pl_nvme_queue *q)
{
	volatile struct nvme_cqe *e = &q->cq[q->cq_head];

	if (NVME_CQE_PHASE(e->status) != q->phase)
		return NULL;
	pl_dma_rmb();	/* the phase tag before the rest of the entry */
	return e;
}

static inline void pl_nvme_consume_cqe(struct pl_nvme_queue *q)
{
	q->cq_unrung++;
	if (++q->cq_head == q->depth) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
}

/* admin.c */
/* Allocates the admin memory once, then (each time) empties the queues and tells CC's
 * registers about them; the controller must be disabled. */
int pl_nvme_admin_init(struct pl_nvme_ctrl *c);
void pl_nvme_admin_fini(struct pl_nvme_ctrl *c);
/* An admin command, waited for; admin_lock held by the caller. AERs completing
 * meanwhile are kept for pl_nvme_poll_admin(). */
int pl_nvme_admin_locked(struct pl_nvme_ctrl *c, struct nvme_sqe *cmd, struct nvme_cqe *cpl);
/* The same, given up on after @timeout_ms (the default is 10 s); @quiet: the caller
 * says what a timeout (-ETIMEDOUT) means. */
int pl_nvme_admin_timed_locked(struct pl_nvme_ctrl *c, struct nvme_sqe *cmd,
			       struct nvme_cqe *cpl, unsigned timeout_ms, bool quiet);
/* The same with @len bytes of data through the admin data page. */
int pl_nvme_admin_data_locked(struct pl_nvme_ctrl *c, struct nvme_sqe *cmd, void *data,
			      size_t len, struct nvme_cqe *cpl);
void pl_nvme_admin_reap_locked(struct pl_nvme_ctrl *c);
/* admin.c: the AERs kept outstanding (up to aer_max), each with a CID of its own */
void pl_nvme_aers_send_locked(struct pl_nvme_ctrl *c);
/* events.c: Asynchronous Event Configuration and the AERs sent; admin_lock held. */
void pl_nvme_events_start_locked(struct pl_nvme_ctrl *c);
/* The events since the last call, logs read (malloc'd: the caller frees each), AERs
 * sent again; admin_lock held. */
unsigned pl_nvme_events_collect_locked(struct pl_nvme_ctrl *c, struct pl_nvme_event *evs);
void pl_nvme_event_say(const struct pl_nvme_ctrl *c, const struct pl_nvme_event *ev);

/* init.c: the initialisation steps (NVMe 1.4, 7.6.1), in the order open takes them */
int pl_nvme_read_cap(struct pl_nvme_ctrl *c, size_t bar_len);
int pl_nvme_enable(struct pl_nvme_ctrl *c);
/* Waits for CSTS.RDY to read @ready, within CAP.TO, giving up on CFS when asked. */
int pl_nvme_wait_ready(struct pl_nvme_ctrl *c, bool ready, bool fail_on_cfs);
int pl_nvme_identify_ctrl(struct pl_nvme_ctrl *c);
int pl_nvme_set_queue_count_locked(struct pl_nvme_ctrl *c);
int pl_nvme_find_namespaces(struct pl_nvme_ctrl *c);
int pl_nvme_dbbuf_config_locked(struct pl_nvme_ctrl *c, struct nvme_cqe *cpl);
void pl_nvme_setup_dbbuf(struct pl_nvme_ctrl *c);
int pl_nvme_setup_interrupts(struct pl_nvme_ctrl *c);

/* status.c: "Read", "Write" and the like, NULL for an opcode it does not name */
const char *pl_nvme_opcode_name(uint8_t opcode);

/* reset.c: a reset with admin_lock held */
int pl_nvme_reset_locked(struct pl_nvme_ctrl *c);

/* qpair.c */
void pl_nvme_qpairs_destroy_all(struct pl_nvme_ctrl *c);

static inline bool pl_nvme_qpair_stale(const struct pl_nvme_qpair *qp)
{
	return qp->gen != __atomic_load_n(&qp->ctrl->gen, __ATOMIC_ACQUIRE);
}

/* A completion's status word (phase tag off) as the callback sees it: SCT << 8 | SC. */
static inline uint16_t pl_nvme_status(uint16_t cqe_status)
{
	return (uint16_t)NVME_CQE_SCT_SC(cqe_status);
}

#endif
