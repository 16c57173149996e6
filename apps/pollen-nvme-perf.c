/*
 * pollen-nvme-perf: I/O load on a block device through the block interface, in the habits
 * of spdk_nvme_perf and fio: Pollen's NVMe driver on a PCI address, or io_uring on a
 * block device or file, for the same workload side by side.
 */
#define _GNU_SOURCE
#include <pollen/blk.h>
#include <pollen/irq.h>
#include <pollen/log.h>
#include <pollen/nvme.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "histogram.h"
#include "json.h"
#include "perf_args.h"

/* ---- time: the TSC where there is one (no system call per I/O), scaled at the end ---- */

static inline uint64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
#endif
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* ---- the run's settings ---- */

static struct perf_cfg cfg;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- workers ---- */

struct worker;

struct io {
	struct worker *w;
	char *buf;
	uint64_t offset;
	uint64_t start;
	bool read;
};

/* An error by kind: the NVMe status when there is one, else the errno. */
#define MAX_KINDS 16
struct error_kind {
	uint16_t status;
	int err;
	uint64_t count;
};

static void count_kind(struct error_kind *k, unsigned *n, uint16_t status, int err,
		       uint64_t count)
{
	for (unsigned i = 0; i < *n; i++)
		if (k[i].status == status && (status || k[i].err == err)) {
			k[i].count += count;
			return;
		}
	if (*n < MAX_KINDS)
		k[(*n)++] = (struct error_kind){ .status = status, .err = err, .count = count };
}

static const char *kind_name(const struct error_kind *k, char *buf, size_t len)
{
	if (!k->status)
		snprintf(buf, len, "%s", strerror(-k->err));
	else if (k->status > 0x7ff)
		snprintf(buf, len, "%s", pl_nvme_status_name(k->status));
	else
		snprintf(buf, len, "%s (SCT %xh SC %02xh)", pl_nvme_status_name(k->status),
			 k->status >> 8, k->status & 0xff);
	return buf;
}

struct worker {
	unsigned id;
	struct pl_blk *b;
	struct pl_blk_queue *q;
	struct io *ios;
	char *mem;
	uint64_t rng;
	uint64_t seq_next, seq_start, seq_len;	/* a sequential worker's own slice */
	uint64_t span;		/* the range random I/O falls in */
	uint32_t bs;
	struct histogram hist;
	uint64_t done;		/* read by the progress line: one writer, relaxed */
	uint64_t bytes, errors, verified, mismatched, unwritten;
	uint16_t first_status;
	int first_err;
	struct error_kind kinds[MAX_KINDS];	/* errors counted by what they were */
	unsigned nkinds;
	bool draining;
	bool finished;		/* its loop is over: nothing more will complete */
	struct io **retry;	/* refused with -EAGAIN (a reset began): sent after the next poll */
	unsigned nretry;
	pthread_t thread;
};

static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64*: plenty for offsets, and the same sequence for the same seed */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static bool is_random(void)
{
	return cfg.w == W_RANDREAD || cfg.w == W_RANDWRITE || cfg.w == W_RANDRW;
}

/* The verify pattern: every 8 bytes of a block name the namespace, the LBA and the seed. */
static uint64_t pattern(uint32_t nsid, uint64_t lba, uint32_t i)
{
	return (uint64_t)nsid << 56 ^ lba << 16 ^ cfg.seed ^ i;
}

static void fill(struct worker *w, char *buf, uint64_t offset, size_t len)
{
	uint32_t nsid = pl_blk_nsid(w->b);

	for (size_t b = 0; b < len / w->bs; b++) {
		uint64_t *p = (uint64_t *)(buf + b * w->bs), lba = offset / w->bs + b;
		for (uint32_t i = 0; i < w->bs / 8; i++)
			p[i] = pattern(nsid, lba, i);
	}
}

static void check(struct worker *w, const char *buf, uint64_t offset, size_t len)
{
	uint32_t nsid = pl_blk_nsid(w->b);

	for (size_t b = 0; b < len / w->bs; b++) {
		const uint64_t *p = (const uint64_t *)(buf + b * w->bs);
		uint64_t lba = offset / w->bs + b;
		uint32_t i = 0;

		while (i < w->bs / 8 && p[i] == pattern(nsid, lba, i))
			i++;
		if (i == w->bs / 8) {
			w->verified++;
			continue;
		}
		/* All zeros: never written (as fio's verify tells a bad header from bad data). */
		uint32_t z = 0;
		while (z < w->bs / 8 && !p[z])
			z++;
		if (z == w->bs / 8) {
			if (!w->unwritten++)
				fprintf(stderr, "pollen-nvme-perf: verify: block %llu reads as zeros: never "
					"written with the pattern (--prefill, or a write run first); "
					"counted apart\n", (unsigned long long)lba);
			continue;
		}
		if (!w->mismatched++)
			fprintf(stderr, "pollen-nvme-perf: verify: block %llu (byte %llu) differs at "
				"byte %u: 0x%016llx, want 0x%016llx\n", (unsigned long long)lba,
				(unsigned long long)(offset + b * w->bs), i * 8,
				(unsigned long long)p[i], (unsigned long long)pattern(nsid, lba, i));
	}
}

static int submit(struct io *io);

static void complete(void *arg, const struct pl_blk_cpl *cpl)
{
	struct io *io = arg;
	struct worker *w = io->w;

	uint64_t took = ticks() - io->start;

	__atomic_store_n(&w->done, w->done + 1, __ATOMIC_RELAXED);
	if (cpl->err) {
		if (!w->errors++) {
			w->first_err = cpl->err;
			w->first_status = cpl->nvme_status;
		}
		count_kind(w->kinds, &w->nkinds, cpl->nvme_status, cpl->err, 1);
		/* An error stops the worker, unless asked to go on: then the I/O's slot
		 * goes to the next one, as fio's continue_on_error does. */
		if (!cfg.continue_on_error || w->draining) {
			w->draining = true;
			return;
		}
		if (submit(io))
			w->draining = true;
		return;
	}
	/* IOPS, MiB/s and latency count the I/Os that worked; errors are counted apart. */
	hist_add(&w->hist, took);
	w->bytes += cfg.io_size;
	if (io->read && cfg.verify)
		check(w, io->buf, io->offset, cfg.io_size);
	if (!stop && !w->draining)
		submit(io);
}

static int submit(struct io *io)
{
	struct worker *w = io->w;

	if (is_random()) {
		io->offset = next_rand(&w->rng) % (w->span / cfg.io_size) * cfg.io_size;
	} else {
		io->offset = w->seq_start + w->seq_next;
		w->seq_next = (w->seq_next + cfg.io_size) % w->seq_len;
	}
	switch (cfg.w) {
	case W_READ:
	case W_RANDREAD:
		io->read = true;
		break;
	case W_WRITE:
	case W_RANDWRITE:
		io->read = false;
		break;
	default:
		io->read = next_rand(&w->rng) % 100 < cfg.read_pct;
	}
	if (!io->read && cfg.verify)
		fill(w, io->buf, io->offset, cfg.io_size);
	io->start = ticks();
	int ret = io->read ? pl_blk_read(w->q, io->buf, io->offset, cfg.io_size, complete, io) :
			     pl_blk_write(w->q, io->buf, io->offset, cfg.io_size, complete, io);
	/* Never full here (one I/O a slot): a reset has begun, and the next poll ends it. */
	if (ret == -EAGAIN) {
		w->retry[w->nretry++] = io;
		return 0;
	}
	if (ret) {
		fprintf(stderr, "pollen-nvme-perf: worker %u: submitting %zu bytes at %llu: %s\n",
			w->id, cfg.io_size, (unsigned long long)io->offset, strerror(-ret));
		w->errors++;
		w->draining = true;
	}
	return ret;
}

#define RESET_WAIT_S 10	/* for the commands a reset ended to come back */

/*
 * I/Os still out --drain-ms after the end: the device does not answer them. Left to the
 * queue's teardown they would hold it up (a controller deletes a queue only once its
 * commands end), so the NVMe back end resets the controller, as Linux does after a
 * timeout, which ends them all. One worker resets for all. Returns whether to wait for
 * them to come back.
 */
static bool end_by_reset(struct worker *w)
{
	static bool reset;
	struct pl_nvme_ctrl *c = pl_blk_backend(w->b) == PL_BLK_PMD ? pl_blk_nvme(w->b) : NULL;

	fprintf(stderr, "pollen-nvme-perf: worker %u: %u I/O(s) still out %u ms after the end: "
		"the device does not answer them (--timeout-ms has the driver abort them)%s\n",
		w->id, pl_blk_outstanding(w->q), cfg.drain_ms,
		c ? "; resetting the controller to end them" : "");
	if (!c)
		return false;
	if (!__atomic_exchange_n(&reset, true, __ATOMIC_ACQ_REL) && pl_nvme_reset(c))
		return false;
	return true;
}

/* Poll until the queue is quiet; then sleep on its eventfd, if the run sleeps. */
static void *run_worker(void *arg)
{
	struct worker *w = arg;
	struct pl_irq_waiter *waiter = NULL;
	unsigned empty = 0;

	if (cfg.sleep && pl_blk_queue_fd(w->q) >= 0 && (waiter = pl_irq_waiter_new()))
		pl_irq_waiter_add(waiter, pl_blk_queue_fd(w->q), w);
	for (unsigned i = 0; i < cfg.depth; i++)
		if (submit(&w->ios[i]))
			break;
	double deadline = 0;
	bool reset_tried = false;
	for (unsigned spin = 1; pl_blk_outstanding(w->q) || w->nretry; spin++) {
		int n = pl_blk_poll(w->q, 0);

		if (n < 0) {
			fprintf(stderr, "pollen-nvme-perf: worker %u: the device failed\n", w->id);
			w->errors++;
			break;
		}
		/*
		 * What a reset refused goes out again now the poll has brought the pair back
		 * (or is dropped at the end). One refused again lands at or before the entry
		 * being read, never past it.
		 */
		unsigned nretry = w->nretry;
		w->nretry = 0;
		for (unsigned i = 0; i < nretry; i++)
			if (!stop && !w->draining)
				submit(w->retry[i]);
		/*
		 * Once the run is over, I/Os still out get --drain-ms: one the device never
		 * answers (and no --timeout-ms has the driver abort) must not hang the end.
		 */
		if ((stop || w->draining) && !(spin % 1024)) {
			double t = now_s();

			if (!deadline) {
				deadline = t + cfg.drain_ms / 1e3;
			} else if (t > deadline && !reset_tried && end_by_reset(w)) {
				/* The reset ends them: they complete (as errors) in the next polls. */
				reset_tried = true;
				deadline = t + RESET_WAIT_S;
			} else if (t > deadline) {
				unsigned left = pl_blk_outstanding(w->q);

				fprintf(stderr, "pollen-nvme-perf: worker %u: %u I/O(s) still out: "
					"counted as errors\n", w->id, left);
				w->errors += left;
				count_kind(w->kinds, &w->nkinds, 0, -ETIMEDOUT, left);
				break;
			}
		}
		/* A budget of empty polls, then sleep until the next completion's interrupt. */
		if (n || !waiter)
			empty = 0;
		else if (++empty >= 64) {
			pl_irq_wait(waiter, 100, NULL, 1);
			empty = 0;
		}
	}
	pl_irq_waiter_free(waiter);
	__atomic_store_n(&w->finished, true, __ATOMIC_RELEASE);
	return NULL;
}

static void prefill_done(void *arg, const struct pl_blk_cpl *cpl)
{
	*(int *)arg = cpl->err;
}

/* Writes the pattern over the range first, so that reads have something to verify. */
static int prefill(struct pl_blk *b, uint64_t range)
{
	struct worker w = { .b = b, .bs = pl_blk_block_size(b) };
	size_t chunk = 1u << 20;
	/* The buffer before the queue, so an io_uring queue registers it. */
	char *buf = pl_blk_buf_alloc(b, chunk);
	struct pl_blk_queue *q = buf ? pl_blk_queue_create(b, 1) : NULL;
	int ret = 0;

	if (!q) {
		fprintf(stderr, "pollen-nvme-perf: prefill: %s\n", strerror(errno));
		pl_blk_buf_free(b, buf);
		return -1;
	}
	double t0 = now_s();
	for (uint64_t off = 0; off < range && !ret; off += chunk) {
		size_t len = range - off < chunk ? range - off : chunk;
		int err = 0;

		fill(&w, buf, off, len);
		ret = pl_blk_write(q, buf, off, len, prefill_done, &err);
		while (!ret && pl_blk_outstanding(q))
			if (pl_blk_poll(q, 0) < 0)
				ret = -EIO;
		if (!ret)
			ret = err;
		if (ret)
			fprintf(stderr, "pollen-nvme-perf: prefill: writing %zu bytes at %llu: %s\n",
				len, (unsigned long long)off, strerror(-ret));
	}
	if (!ret && !cfg.quiet && !cfg.json)
		printf("prefill: %llu MiB written with the verify pattern in %.1f s\n",
		       (unsigned long long)(range >> 20), now_s() - t0);
	pl_blk_queue_destroy(q);
	pl_blk_buf_free(b, buf);
	return ret;
}

/* ---- results ---- */

struct result {
	double secs, iops, mibs, ns_per_tick;
	size_t queue_bytes;	/* DMA memory of the queues alone */
	uint64_t ios, errors, verified, mismatched, unwritten;
	struct histogram hist;
};

static double us(const struct result *r, uint64_t t)
{
	return (double)t * r->ns_per_tick / 1000.0;
}

static const double pcts[] = { 50, 90, 99, 99.9, 99.99 };

static void print_text(struct pl_blk *b, struct worker *ws, const struct result *r)
{
	printf("\n%-8s %12s %10s %10s %10s %10s\n", "worker", "IOPS", "MiB/s", "avg us", "min us",
	       "max us");
	for (unsigned i = 0; i < cfg.workers; i++) {
		const struct histogram *h = &ws[i].hist;
		printf("%-8u %12.1f %10.1f %10.1f %10.1f %10.1f\n", i, (double)h->n / r->secs,
		       (double)ws[i].bytes / r->secs / 1048576, h->n ? us(r, h->sum) / (double)h->n : 0,
		       h->n ? us(r, h->min) : 0, us(r, h->max));
	}
	printf("%-8s %12.1f %10.1f %10.1f %10.1f %10.1f\n", "total", r->iops, r->mibs,
	       r->hist.n ? us(r, r->hist.sum) / (double)r->hist.n : 0,
	       r->hist.n ? us(r, r->hist.min) : 0, us(r, r->hist.max));
	printf("\nlatency percentiles (us):");
	for (unsigned i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		printf("  p%g %.1f", pcts[i], us(r, hist_percentile(&r->hist, pcts[i])));
	printf("\n\nlatency histogram (us):\n");
	/* Coarse rows, a power of two each, for a table a person can read. */
	uint64_t row[64] = { 0 };
	int lo = 64, hi = -1;
	for (unsigned bkt = 0; bkt < HIST_BUCKETS; bkt++) {
		if (!r->hist.count[bkt])
			continue;
		double v = us(r, hist_floor(bkt));
		int e = v < 1 ? 0 : (int)log2(v) + 1;
		row[e] += r->hist.count[bkt];
		lo = e < lo ? e : lo;
		hi = e > hi ? e : hi;
	}
	for (int e = lo; e <= hi; e++) {
		double share = 100.0 * (double)row[e] / (double)(r->hist.n ? r->hist.n : 1);
		printf("  %8.0f - %8.0f  %6.2f%%  ", e ? pow(2, e - 1) : 0, pow(2, e), share);
		for (int k = 0; k < (int)(share / 2); k++)
			putchar('#');
		putchar('\n');
	}
	if (cfg.verify)
		printf("\nverify: %llu blocks verified, %llu mismatched, %llu never written\n",
		       (unsigned long long)r->verified, (unsigned long long)r->mismatched,
		       (unsigned long long)r->unwritten);
	printf("DMA memory: %.1f MiB (%s queues %.1f MiB, I/O buffers %.1f MiB)\n",
	       (double)pl_blk_dma_bytes(b) / 1048576, pl_blk_backend_name(pl_blk_backend(b)),
	       (double)r->queue_bytes / 1048576,
	       (double)(pl_blk_dma_bytes(b) - r->queue_bytes) / 1048576);
	if (r->errors) {
		struct error_kind all[MAX_KINDS];
		unsigned n = 0;
		char name[96];

		for (unsigned i = 0; i < cfg.workers; i++)
			for (unsigned k = 0; k < ws[i].nkinds; k++)
				count_kind(all, &n, ws[i].kinds[k].status, ws[i].kinds[k].err,
					   ws[i].kinds[k].count);
		printf("\nerrors: %llu%s\n", (unsigned long long)r->errors,
		       cfg.continue_on_error ? " (continued past them)" : " (a worker stops at its "
		       "first: --continue-on-error goes on)");
		for (unsigned k = 0; k < n; k++)
			printf("  %-56s %llu\n", kind_name(&all[k], name, sizeof(name)),
			       (unsigned long long)all[k].count);
	}
}

static void print_json(struct pl_blk *b, struct worker *ws, const struct result *r)
{
	struct json j = { .f = stdout };

	json_object(&j, NULL);
	json_object(&j, "config");
	json_str(&j, "target", cfg.target, 256);
	json_str(&j, "backend", pl_blk_backend_name(pl_blk_backend(b)), 16);
	json_u64(&j, "nsid", pl_blk_nsid(b));
	json_u64(&j, "block_size", pl_blk_block_size(b));
	json_str(&j, "workload", workload_name[cfg.w], 16);
	json_u64(&j, "io_size", cfg.io_size);
	json_u64(&j, "depth", cfg.depth);
	json_u64(&j, "workers", cfg.workers);
	json_u64(&j, "read_pct", cfg.read_pct);
	json_bool(&j, "verify", cfg.verify);
	json_bool(&j, "sleep", cfg.sleep);
	json_bool(&j, "shadow_doorbells", pl_blk_nvme(b) && pl_nvme_shadow_doorbells(pl_blk_nvme(b)));
	json_bool(&j, "sgl", pl_blk_nvme(b) && pl_nvme_sgl(pl_blk_nvme(b)));
	json_bool(&j, "sqpoll", cfg.blk.sqpoll);
	json_bool(&j, "iopoll", cfg.blk.iopoll);
	json_end_object(&j);
	json_object(&j, "total");
	json_num(&j, "seconds", r->secs);
	json_u64(&j, "ios", r->ios);
	json_num(&j, "iops", r->iops);
	json_num(&j, "mib_s", r->mibs);
	json_num(&j, "lat_avg_us", r->hist.n ? us(r, r->hist.sum) / (double)r->hist.n : 0);
	json_num(&j, "lat_min_us", r->hist.n ? us(r, r->hist.min) : 0);
	json_num(&j, "lat_max_us", us(r, r->hist.max));
	json_object(&j, "lat_percentiles_us");
	for (unsigned i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		char key[16];
		snprintf(key, sizeof(key), "p%g", pcts[i]);
		json_num(&j, key, us(r, hist_percentile(&r->hist, pcts[i])));
	}
	json_end_object(&j);
	json_u64(&j, "errors", r->errors);
	json_u64(&j, "verified_blocks", r->verified);
	json_u64(&j, "mismatched_blocks", r->mismatched);
	json_u64(&j, "unwritten_blocks", r->unwritten);
	json_u64(&j, "dma_bytes", pl_blk_dma_bytes(b));
	json_u64(&j, "dma_queue_bytes", r->queue_bytes);
	json_end_object(&j);
	json_array(&j, "workers");
	for (unsigned i = 0; i < cfg.workers; i++) {
		json_object(&j, NULL);
		json_u64(&j, "ios", ws[i].hist.n);
		json_num(&j, "iops", (double)ws[i].hist.n / r->secs);
		json_u64(&j, "errors", ws[i].errors);
		json_array(&j, "error_kinds");
		for (unsigned k = 0; k < ws[i].nkinds; k++) {
			char name[96];

			json_object(&j, NULL);
			json_u64(&j, "nvme_status", ws[i].kinds[k].status);
			json_str(&j, "name", kind_name(&ws[i].kinds[k], name, sizeof(name)),
				 sizeof(name));
			json_u64(&j, "count", ws[i].kinds[k].count);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
	}
	json_end_array(&j);
	/* The histogram itself, bucket floors in microseconds, for plots. */
	json_array(&j, "histogram");
	for (unsigned bkt = 0; bkt < HIST_BUCKETS; bkt++)
		if (r->hist.count[bkt]) {
			json_object(&j, NULL);
			json_num(&j, "us", us(r, hist_floor(bkt)));
			json_num(&j, "us_mid", us(r, hist_floor(bkt) + (bkt + 1 < HIST_BUCKETS ?
					 hist_floor(bkt + 1) - hist_floor(bkt) : 0) / 2));
			json_u64(&j, "count", r->hist.count[bkt]);
			json_end_object(&j);
		}
	json_end_array(&j);
	json_end_object(&j);
}

int main(int argc, char **argv)
{
	perf_defaults(&cfg);
	switch (perf_parse(&cfg, argc, argv)) {
	case OPTS_HELP:
		perf_usage(stdout);
		return 0;
	case OPTS_BAD:
		return 2;
	case OPTS_VERSION:
		return 0;
	}
	struct pl_blk *b = pl_blk_open(cfg.target, &cfg.blk);
	if (!b)
		return 1;
	/* A queue per worker: a controller that grants fewer is said so now, not mid-start. */
	if (cfg.workers > pl_blk_max_queues(b)) {
		fprintf(stderr, "pollen-nvme-perf: -c %u: %s grants %u I/O queue pairs: -c %u at "
			"most\n", cfg.workers, cfg.target, pl_blk_max_queues(b),
			pl_blk_max_queues(b));
		pl_blk_close(b);
		return 2;
	}
	uint32_t bs = pl_blk_block_size(b);
	uint64_t size = pl_blk_blocks(b) * bs;
	if (!cfg.range || cfg.range > size)
		cfg.range = size;
	cfg.range -= cfg.range % cfg.io_size;
	if (cfg.io_size % bs || cfg.range < cfg.io_size * cfg.workers) {
		fprintf(stderr, "pollen-nvme-perf: %zu-byte I/O on %s: want whole %u-byte blocks and "
			"a range of at least one I/O per worker\n", cfg.io_size, cfg.target, bs);
		pl_blk_close(b);
		return 2;
	}
	/* After a prefill every block of the range has the pattern: zeros are then lost writes. */
	bool prefilled = cfg.prefill || (cfg.verify && (cfg.w == W_RW || cfg.w == W_RANDRW));
	if (prefilled) {
		if (prefill(b, cfg.range)) {
			pl_blk_close(b);
			return 1;
		}
	}

	struct worker *ws = calloc(cfg.workers, sizeof(*ws));
	size_t queue_bytes = 0;
	int ret = 0;
	for (unsigned i = 0; i < cfg.workers && !ret; i++) {
		struct worker *w = &ws[i];

		*w = (struct worker){ .id = i, .b = b, .bs = bs, .rng = cfg.seed * 7919 + i + 1,
				      .span = cfg.range };
		hist_init(&w->hist);
		/* A sequential worker walks its own slice of the range. */
		w->seq_len = cfg.range / cfg.workers / cfg.io_size * cfg.io_size;
		w->seq_start = (uint64_t)i * w->seq_len;
		/* Buffers first: an io_uring queue registers those made before it. */
		if (!(w->ios = calloc(cfg.depth, sizeof(*w->ios))) ||
		    !(w->retry = calloc(cfg.depth, sizeof(*w->retry))) ||
		    !(w->mem = pl_blk_buf_alloc(b, cfg.depth * cfg.io_size))) {
			fprintf(stderr, "pollen-nvme-perf: worker %u: %s\n", i, strerror(errno));
			ret = 1;
			break;
		}
		size_t before = pl_blk_dma_bytes(b);
		if (!(w->q = pl_blk_queue_create(b, cfg.depth))) {
			fprintf(stderr, "pollen-nvme-perf: worker %u: %s\n", i, strerror(errno));
			ret = 1;
			break;
		}
		queue_bytes += pl_blk_dma_bytes(b) - before;
		for (unsigned k = 0; k < cfg.depth; k++)
			w->ios[k] = (struct io){ .w = w, .buf = w->mem + (size_t)k * cfg.io_size };
	}
	if (!ret && !cfg.json) {
		char ns[32] = "";

		if (pl_blk_nsid(b))
			snprintf(ns, sizeof(ns), " namespace %u", pl_blk_nsid(b));
		printf("pollen-nvme-perf: %s, %zu-byte I/O, depth %u, %u worker(s), %u s, %s on %s%s "
		       "(%u-byte blocks, %llu MiB used)\n", workload_name[cfg.w], cfg.io_size,
		       cfg.depth, cfg.workers, cfg.seconds, pl_blk_backend_name(pl_blk_backend(b)),
		       cfg.target, ns, bs, (unsigned long long)(cfg.range >> 20));
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	double t0 = now_s();
	uint64_t tsc0 = ticks();
	unsigned started = 0;
	for (; !ret && started < cfg.workers; started++)
		pthread_create(&ws[started].thread, NULL, run_worker, &ws[started]);
	uint64_t last = 0;
	for (unsigned s = 1; !ret && !stop && s <= cfg.seconds * 10; s++) {
		bool all_done = true;

		usleep(100000);
		/* Workers that stopped on an error end the run early. */
		for (unsigned i = 0; i < cfg.workers; i++)
			all_done &= __atomic_load_n(&ws[i].finished, __ATOMIC_ACQUIRE);
		if (all_done)
			break;
		if (s % 10 || cfg.json || cfg.quiet)
			continue;
		uint64_t total = 0;
		for (unsigned i = 0; i < cfg.workers; i++)
			total += __atomic_load_n(&ws[i].done, __ATOMIC_RELAXED);
		printf("[%3us] %10.0f IOPS %9.1f MiB/s\n", s / 10, (double)(total - last),
		       (double)(total - last) * (double)cfg.io_size / 1048576);
		fflush(stdout);
		last = total;
	}
	stop = 1;
	for (unsigned i = 0; i < started; i++)
		pthread_join(ws[i].thread, NULL);
	double secs = now_s() - t0;
	uint64_t tsc1 = ticks();

	struct result r = { .secs = secs, .ns_per_tick = secs * 1e9 / (double)(tsc1 - tsc0),
			    .queue_bytes = queue_bytes };
	hist_init(&r.hist);
	for (unsigned i = 0; i < cfg.workers; i++) {
		hist_merge(&r.hist, &ws[i].hist);
		r.errors += ws[i].errors;
		r.verified += ws[i].verified;
		r.mismatched += ws[i].mismatched;
		r.unwritten += ws[i].unwritten;
		r.mibs += (double)ws[i].bytes / secs / 1048576;
	}
	r.ios = r.hist.n;
	r.iops = (double)r.hist.n / secs;
	if (!ret) {
		if (cfg.json)
			print_json(b, ws, &r);
		else
			print_text(b, ws, &r);
	}
	for (unsigned i = 0; i < cfg.workers; i++) {
		pl_blk_queue_destroy(ws[i].q);
		pl_blk_buf_free(b, ws[i].mem);
		free(ws[i].ios);
		free(ws[i].retry);
	}
	free(ws);
	pl_blk_close(b);
	return ret || r.errors || r.mismatched || (prefilled && r.unwritten) ? 1 : 0;
}
