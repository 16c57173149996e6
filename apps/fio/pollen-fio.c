/*
 * pollen-fio: a fio ioengine on Pollen's block interface (pollen/blk.h), so one job file
 * runs against the kernel (ioengine=io_uring) and against Pollen's NVMe driver:
 *
 *   fio --ioengine=external:/path/to/pollen-fio.so --thread=1 \
 *       --filename='0000.01.00.0 ns=1' --rw=randread --bs=4k --iodepth=32 ...
 *
 * filename: a PCI address with '.' for ':' (fio splits file names on ':'), and "ns=N"
 * for a namespace other than the first active one, takes that NVMe controller with
 * Pollen's driver; a path ("/dev/nvme0n1", a file) goes through io_uring. Each fio job
 * (thread=1, numjobs=N) gets a queue of its own per file (an NVMe I/O queue pair),
 * with fio's iodepth; what fio queues is sent from getevents, a doorbell for a batch,
 * and completions are reaped there by polling. Buffers are
 * Pollen's (DMA memory the controller reaches, or memory registered with io_uring), so
 * fio's verify, latency percentiles and JSON output work as with any engine.
 *
 * Built against the fio tree it is loaded into (meson -Dfio_source=DIR): an external
 * engine uses fio's internal structures, which change between fio versions.
 */
#include "config-host.h"
#include "fio.h"
#include "optgroup.h"

#include <pollen/blk.h>
#include <pollen/iommu.h>
#include <pollen/pci.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A device several jobs use: opened once (VFIO lets a controller be opened once). */
struct pf_dev {
	char name[256];		/* as fio names it */
	struct pl_blk *blk;
	unsigned users;
	struct pf_dev *next;
};

/* A job's own: its queues (one per file), the completions a poll reaped. */
struct pf_job {
	struct pl_blk_queue **q;	/* by fio_file's fileno */
	unsigned nq;
	struct io_u **done;
	unsigned ndone, max_done;
	struct io_u **pend;		/* queued by fio, not yet handed to a queue */
	unsigned npend, batch;
	struct io_u **failed;		/* refused by a queue: ended at the next getevents */
	unsigned nfailed;
	struct pl_blk *buf_blk;		/* whose memory fio's buffers are */
	void *buf;
};

/* Setup and teardown only (fio's main thread and job threads): never on the I/O path. */
static pthread_mutex_t devs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pf_dev *devs;
static struct pl_iommu *ctx;	/* every controller's, so any job buffer reaches each */

/* "0000.01.00.0 ns=2" -> "0000:01:00.0", 2; a path stays as it is. 0, or -EINVAL. */
static int parse_name(const char *name, char *target, size_t len, uint32_t *nsid)
{
	const char *sp = strchr(name, ' ');
	size_t n = sp ? (size_t)(sp - name) : strlen(name);

	*nsid = 0;
	if (!n || n >= len || len < PL_PCI_ADDR_LEN)
		return -EINVAL;
	memcpy(target, name, n);
	target[n] = 0;
	if (target[0] != '/') {
		struct pl_pci_addr a;

		/* fio's form: '.' where the domain and bus end (fio splits names on ':') */
		if (n == 12 && target[4] == '.' && target[7] == '.')
			target[4] = target[7] = ':';
		if (pl_pci_addr_parse(target, &a))
			return -EINVAL;
		pl_pci_addr_format(&a, target);
	}
	while (sp && *sp == ' ')
		sp++;
	if (sp && *sp) {
		char *end;
		unsigned long v;

		if (strncmp(sp, "ns=", 3))
			return -EINVAL;
		errno = 0;
		v = strtoul(sp + 3, &end, 0);
		if (errno || *end || !v || v > 0xfffffffe)
			return -EINVAL;
		*nsid = (uint32_t)v;
	}
	return 0;
}

static struct pf_dev *dev_get(const char *name)
{
	char target[256];
	uint32_t nsid;
	struct pf_dev *d;

	if (parse_name(name, target, sizeof(target), &nsid)) {
		log_err("pollen-fio: filename '%s': want a PCI address with '.' for ':' and "
			"optionally ' ns=N' (e.g. '0000.01.00.0 ns=1'), or a path\n", name);
		return NULL;
	}
	pthread_mutex_lock(&devs_lock);
	for (d = devs; d; d = d->next)
		if (!strcmp(d->name, name))
			break;
	if (!d && (d = calloc(1, sizeof(*d)))) {
		struct pl_blk_opts o = { .nsid = nsid };
		bool pmd = pl_blk_backend_of(target) == PL_BLK_PMD;

		snprintf(d->name, sizeof(d->name), "%s", name);
		if (pmd && !ctx)
			ctx = pl_iommu_open(PL_IOMMU_AUTO);
		o.ctx = ctx;
		if ((!pmd || ctx) && (d->blk = pl_blk_open(target, &o))) {
			d->next = devs;
			devs = d;
		} else {
			/* pl_blk_open() said why on stderr */
			log_err("pollen-fio: cannot open '%s' (%s): %s\n", name, target,
				strerror(errno));
			free(d);
			d = NULL;
		}
	}
	if (d)
		d->users++;
	pthread_mutex_unlock(&devs_lock);
	return d;
}

static void dev_put(struct pf_dev *d)
{
	pthread_mutex_lock(&devs_lock);
	if (!--d->users) {
		struct pf_dev **p;

		for (p = &devs; *p != d; p = &(*p)->next)
			;
		*p = d->next;
		pl_blk_close(d->blk);
		free(d);
		if (!devs && ctx) {
			pl_iommu_close(ctx);
			ctx = NULL;
		}
	}
	pthread_mutex_unlock(&devs_lock);
}

/* fio's main thread, before the jobs: each file opened, its size given to fio. */
static int pf_setup(struct thread_data *td)
{
	struct fio_file *f;
	unsigned i;

	if (!td->o.use_thread) {
		log_err("pollen-fio: needs thread=1 (jobs share the process's devices)\n");
		return 1;
	}
	for_each_file(td, f, i) {
		struct pf_dev *d;

		if (FILE_ENG_DATA(f))
			continue;
		if (!(d = dev_get(f->file_name)))
			return 1;
		FILE_SET_ENG_DATA(f, d);
		f->real_file_size = pl_blk_blocks(d->blk) * pl_blk_block_size(d->blk);
		f->filetype = FIO_TYPE_BLOCK;
		fio_file_set_size_known(f);
	}
	return 0;
}

static int pf_init(struct thread_data *td)
{
	struct pf_job *j = calloc(1, sizeof(*j));

	if (!j)
		return 1;
	j->nq = td->o.nr_files;
	j->max_done = td->o.iodepth;
	/* A doorbell for up to a quarter of the depth (8 at most): see pf_getevents(). */
	j->batch = td->o.iodepth / 4 ? (td->o.iodepth / 4 < 8 ? td->o.iodepth / 4 : 8) : 1;
	j->q = calloc(j->nq, sizeof(*j->q));
	j->done = calloc(j->max_done, sizeof(*j->done));
	j->pend = calloc(j->max_done, sizeof(*j->pend));
	j->failed = calloc(j->max_done, sizeof(*j->failed));
	td->io_ops_data = j;
	if (!j->q || !j->done || !j->pend || !j->failed)
		return 1;
	return 0;
}

/* fio's buffers, from the first file's device: DMA memory every controller reaches. */
static int pf_iomem_alloc(struct thread_data *td, size_t total)
{
	struct pf_job *j = td->io_ops_data;
	struct pf_dev *d = td->files_index ? FILE_ENG_DATA(td->files[0]) : NULL;

	if (!d)
		return 1;
	j->buf_blk = d->blk;
	if (!(j->buf = pl_blk_buf_alloc(d->blk, total)))
		return 1;
	td->orig_buffer = j->buf;
	return 0;
}

static void pf_iomem_free(struct thread_data *td)
{
	struct pf_job *j = td->io_ops_data;

	if (j && j->buf) {
		pl_blk_buf_free(j->buf_blk, j->buf);
		j->buf = NULL;
	}
	td->orig_buffer = NULL;
}

/* After the buffers: io_uring queues register them. A queue per file, fio's depth. */
static int pf_post_init(struct thread_data *td)
{
	struct pf_job *j = td->io_ops_data;
	struct fio_file *f;
	unsigned i;

	for_each_file(td, f, i) {
		struct pf_dev *d = FILE_ENG_DATA(f);

		if (!(j->q[f->fileno] = pl_blk_queue_create(d->blk, td->o.iodepth))) {
			log_err("pollen-fio: %s: no queue of depth %u for this job: %s (one "
				"I/O queue pair a job: the controller grants %u)\n", f->file_name,
				td->o.iodepth, strerror(errno), pl_blk_max_queues(d->blk));
			return 1;
		}
	}
	return 0;
}

static void pf_done(void *arg, const struct pl_blk_cpl *cpl)
{
	struct io_u *u = arg;
	struct pf_job *j = u->engine_data;

	u->error = cpl->err ? -cpl->err : 0;
	if (!u->error)
		u->resid = 0;
	j->done[j->ndone++] = u;
}

/* One I/O to its queue: 0, -EAGAIN (the queue is full), or why it was refused. */
static int submit(struct pf_job *j, struct io_u *u)
{
	struct pl_blk_queue *q = j->q[u->file->fileno];
	int ret;

	switch (u->ddir) {
	case DDIR_READ:
		ret = pl_blk_read(q, u->xfer_buf, u->offset, u->xfer_buflen, pf_done, u);
		break;
	case DDIR_WRITE:
		ret = pl_blk_write(q, u->xfer_buf, u->offset, u->xfer_buflen, pf_done, u);
		break;
	case DDIR_SYNC:
	case DDIR_DATASYNC:
		ret = pl_blk_flush(q, pf_done, u);
		break;
	case DDIR_TRIM:
		ret = pl_blk_trim(q, u->offset, u->xfer_buflen, pf_done, u);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	return ret;
}

/* The held I/Os to their queues, in order, until a queue is full; one doorbell each. */
static void flush(struct pf_job *j)
{
	unsigned i;

	for (i = 0; i < j->npend; i++) {
		struct io_u *u = j->pend[i];
		int ret = submit(j, u);

		if (ret == -EAGAIN)
			break;
		if (ret) {
			u->error = -ret;
			j->failed[j->nfailed++] = u;
		}
	}
	memmove(j->pend, j->pend + i, (j->npend - i) * sizeof(*j->pend));
	j->npend -= i;
	for (i = 0; i < j->nq; i++)
		if (j->q[i])
			pl_blk_kick(j->q[i]);
}

/*
 * Held, not sent: fio commits each I/O on its own (with its defaults), and a doorbell
 * write per I/O is what a polled driver avoids (one costs an emulator tens of
 * microseconds). pf_getevents() sends them, together.
 */
static enum fio_q_status pf_queue(struct thread_data *td, struct io_u *u)
{
	struct pf_job *j = td->io_ops_data;

	fio_ro_check(td, u);
	u->engine_data = j;
	if (j->npend == j->max_done)
		return FIO_Q_BUSY;
	j->pend[j->npend++] = u;
	return FIO_Q_QUEUED;
}

static int pf_commit(struct thread_data *td)
{
	(void)td;
	return 0;
}

/* Polls the job's queues until @min have ended (at most @max), or @t passes. */
static int pf_getevents(struct thread_data *td, unsigned int min, unsigned int max,
			const struct timespec *t)
{
	struct pf_job *j = td->io_ops_data;
	struct timespec start;
	uint64_t limit_ns = t ? (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec : 0;

	if (max > j->max_done)
		max = j->max_done;
	j->ndone = 0;
	while (j->nfailed && j->ndone < max)
		j->done[j->ndone++] = j->failed[--j->nfailed];
	if (t)
		clock_gettime(CLOCK_MONOTONIC, &start);
	for (unsigned spins = 0;; spins++) {
		for (unsigned i = 0; i < j->nq && j->ndone < max; i++)
			if (j->q[i])
				pl_blk_poll(j->q[i], max - j->ndone);
		/*
		 * What fio queued goes out once this poll brought nothing or not enough, or
		 * a batch has gathered: while completions keep coming, submissions wait for
		 * company (at most a quarter of the depth, so the device is never starved).
		 */
		if (j->npend && (!j->ndone || j->ndone < min || j->npend >= j->batch))
			flush(j);
		while (j->nfailed && j->ndone < max)
			j->done[j->ndone++] = j->failed[--j->nfailed];
		if (j->ndone >= min || j->ndone >= max)
			break;
		if (t && !(spins & 1023)) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((uint64_t)(now.tv_sec - start.tv_sec) * 1000000000ull +
			    (uint64_t)(now.tv_nsec - start.tv_nsec) >= limit_ns)
				break;
		}
	}
	return (int)j->ndone;
}

static struct io_u *pf_event(struct thread_data *td, int i)
{
	struct pf_job *j = td->io_ops_data;

	return j->done[i];
}

static int pf_open_file(struct thread_data *td, struct fio_file *f)
{
	(void)td;
	(void)f;
	return 0;
}

static int pf_close_file(struct thread_data *td, struct fio_file *f)
{
	(void)td;
	(void)f;
	return 0;
}

/* After iomem_free: the queues (each drained), then the job's hold on its devices. */
static void pf_cleanup(struct thread_data *td)
{
	struct pf_job *j = td->io_ops_data;
	struct fio_file *f;
	unsigned i;

	if (j) {
		for (i = 0; i < j->nq; i++)
			if (j->q[i]) {
				while (pl_blk_outstanding(j->q[i]))
					pl_blk_poll(j->q[i], 0);
				pl_blk_queue_destroy(j->q[i]);
			}
		free(j->q);
		free(j->done);
		free(j->pend);
		free(j->failed);
		free(j);
		td->io_ops_data = NULL;
	}
	for_each_file(td, f, i) {
		struct pf_dev *d = FILE_ENG_DATA(f);

		if (d) {
			FILE_SET_ENG_DATA(f, NULL);
			dev_put(d);
		}
	}
}

/* fio looks this symbol up in an external engine. */
struct ioengine_ops ioengine = {
	.name = "pollen",
	.version = FIO_IOOPS_VERSION,
	.flags = FIO_RAWIO | FIO_NOEXTEND | FIO_NODISKUTIL | FIO_MEMALIGN | FIO_DISKLESSIO,
	.setup = pf_setup,
	.init = pf_init,
	.post_init = pf_post_init,
	.queue = pf_queue,
	.commit = pf_commit,
	.getevents = pf_getevents,
	.event = pf_event,
	.cleanup = pf_cleanup,
	.open_file = pf_open_file,
	.close_file = pf_close_file,
	.iomem_alloc = pf_iomem_alloc,
	.iomem_free = pf_iomem_free,
};
