/*
 * An NVMe controller modelled on the host (NVMe 1.4): registers in a memory BAR0, the
 * admin queue served by the runner, I/O queues served by it too or by hand, namespaces
 * in ordinary memory. What it says of itself (Identify, log pages) is plain data a test
 * may change; what it does wrong is done to order: completions delayed, reordered,
 * duplicated, with any CID or status, AERs when asked, CSTS.CFS, a shutdown that never
 * ends. It also watches the driver: doorbells that overrun a queue, a CID sent twice
 * while out, DMA outside the buffers (model_dma_faults()).
 */
#ifndef PL_TEST_NVME_MODEL_H
#define PL_TEST_NVME_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <pollen/nvme_hw.h>

#include "model.h"

#define NVME_MODEL_MAX_NS 4
#define NVME_MODEL_MAX_QUEUES 65	/* the admin pair and 64 I/O pairs */
#define NVME_MODEL_MAX_AERS 16

struct nvme_model_conf {
	const char *addr;	/* default 0000:00:02.0 */
	unsigned mqes;		/* entries a queue may have (CAP.MQES + 1); default 1024 */
	unsigned dstrd;		/* CAP.DSTRD; default 0 */
	unsigned mdts;		/* Identify MDTS; default 7 (QEMU's: 512 KiB) */
	unsigned queues;	/* I/O queue pairs granted; default 8 */
	unsigned msix;		/* MSI-X vectors; default 9 */
	bool sgl;		/* SGLs offered */
	bool dbbuf;		/* Doorbell Buffer Config offered */
	unsigned aers;		/* AERs it holds at once (AERL + 1); default 4 */
	unsigned nns;		/* namespaces; default 1 */
	uint64_t blocks;	/* per namespace; default 65536 */
	unsigned lbads;		/* log2 block size; default 9 */
	bool manual_io;		/* I/O queues only by nvme_model_fetch() and _post() */
};

struct nvme_model;

/* A controller at @conf->addr (NULL: the defaults), shown in the bed's sysfs. */
struct nvme_model *nvme_model_new(const struct nvme_model_conf *conf);
struct model_dev *nvme_model_dev(struct nvme_model *m);

/*
 * What Identify and Get Log Page return: change them freely (under the lock once the
 * runner may be serving, i.e. after pl_nvme_open() began).
 */
struct nvme_id_ctrl *nvme_model_id_ctrl(struct nvme_model *m);
struct nvme_id_ns *nvme_model_id_ns(struct nvme_model *m, unsigned i);
struct nvme_smart_log *nvme_model_smart(struct nvme_model *m);
struct nvme_error_log_entry *nvme_model_error_log(struct nvme_model *m);	/* 64 entries */
/* The namespace's bytes (blocks << lbads of them). */
uint8_t *nvme_model_ns_data(struct nvme_model *m, unsigned i);

/*
 * Admin commands pass through @hook (if set) before their completion is posted: it may
 * change @cpl (status, dw0, CID) or return false to hold the command (never completed).
 * Called with the lock held, on the runner.
 */
typedef bool (*nvme_model_admin_hook)(void *arg, const struct nvme_sqe *cmd,
				      struct nvme_cqe *cpl);
void nvme_model_set_admin_hook(struct nvme_model *m, nvme_model_admin_hook hook, void *arg);

/* ---- by hand (lock held: model_lock(nvme_model_dev(m))) ---- */

/* Takes up to @max new entries from SQ @qid (what its doorbell handed over). */
unsigned nvme_model_fetch(struct nvme_model *m, uint16_t qid, struct nvme_sqe *out,
			  unsigned max);
/* Does an I/O command's work (data moved through its PRPs or SGL); its status. */
uint16_t nvme_model_exec(struct nvme_model *m, const struct nvme_sqe *cmd);
/*
 * Posts a completion on CQ @qid with the right phase tag: any CID, any status (SCT << 8
 * | SC), any dw0. -ENOSPC when the CQ is full by its head doorbell, -ENOENT without it.
 */
int nvme_model_post(struct nvme_model *m, uint16_t qid, uint16_t cid, uint16_t status,
		    uint32_t dw0);
/* Free entries in CQ @qid by its head doorbell. */
unsigned nvme_model_cq_room(struct nvme_model *m, uint16_t qid);

/* Completes the oldest held AER with @dw0 (or @status); -ENOENT when none is held. */
int nvme_model_aer(struct nvme_model *m, uint32_t dw0, uint16_t status);
/* AERs held now, and their CIDs. */
unsigned nvme_model_aers(struct nvme_model *m, uint16_t *cids);

/* ---- misbehaviour, and what the model saw (lock held) ---- */

/* CSTS.CFS set now (and until the next disable), or cleared. */
void nvme_model_fail(struct nvme_model *m, bool cfs);

struct nvme_model_knobs {
	bool no_shutdown;	/* CC.SHN never reaches SHST complete */
	bool abort_works;	/* Abort ends a command fetched by hand (QEMU's never does) */
	uint32_t sq_ei_ahead;	/* with shadow doorbells: SQ event index set so far ahead */
};
struct nvme_model_knobs *nvme_model_knobs(struct nvme_model *m);

struct nvme_model_stats {
	unsigned enables, disables, shutdowns;
	unsigned admin_cmds, io_cmds;
	unsigned cid_conflicts;		/* a command arrived with a CID still out on its SQ */
	unsigned bad_doorbells;		/* a doorbell value outside its queue */
	unsigned aborts;
	uint32_t last_sq_db[NVME_MODEL_MAX_QUEUES];	/* MMIO tail doorbell values seen */
};
const struct nvme_model_stats *nvme_model_stats(struct nvme_model *m);

/* Whether queue @qid exists (created and not deleted). */
bool nvme_model_queue_live(struct nvme_model *m, uint16_t qid);

#endif
