/*
 * The NVMe driver's own cost per 4 KiB I/O, on the host model (tests/models/nvme_model.c).
 * On the test bed the driver sits at the emulator's ceiling at depth, so its own speed
 * does not show there; here the device costs nothing the clock sees: reads go out in
 * batches of the queue depth, and only the driver's calls are timed (pl_nvme_read and
 * pl_nvme_kick, then pl_nvme_poll with its callbacks), the model fetching the commands
 * and posting their completions between the timed spans, with its runner stopped.
 *
 * usage: pollen-bench-nvme-driver [-q DEPTH] [-n IOS] [-r RUNS]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pollen/dma.h>
#include <pollen/log.h>
#include <pollen/nvme.h>

#include "bench_driver.h"
#include "nvme_model.h"

#define IO_BLOCKS 8	/* 4 KiB of 512-byte blocks */

static unsigned long completed;

static void done(void *arg, const struct pl_nvme_cpl *cpl)
{
	(void)arg;
	completed += !cpl->status;
}

struct run {
	double submit_ns, complete_ns;	/* per I/O */
};

static int one_run(struct nvme_model *m, struct pl_nvme_qpair *qp, uint8_t *buf,
		   unsigned depth, unsigned long ios, struct run *out)
{
	uint16_t qid = (uint16_t)pl_nvme_qpair_id(qp);
	struct nvme_sqe cmds[1024];
	uint64_t submit = 0, reap = 0;
	unsigned long lba = 0, batches = ios / depth;

	completed = 0;
	for (unsigned long b = 0; b < batches; b++) {
		uint64_t t0 = bench_ns();
		for (unsigned i = 0; i < depth; i++) {
			if (pl_nvme_read(qp, 1, buf + (size_t)i * 4096, lba, IO_BLOCKS, done, NULL))
				return -EIO;
			lba = (lba + IO_BLOCKS) % (1u << 16);
		}
		pl_nvme_kick(qp);
		uint64_t t1 = bench_ns();

		/* The device's part, not timed: every command taken, and completed. */
		model_lock(nvme_model_dev(m));
		unsigned n = nvme_model_fetch(m, qid, cmds, depth);
		for (unsigned i = 0; i < n; i++)
			nvme_model_post(m, qid, cmds[i].cid, 0, 0);
		model_unlock(nvme_model_dev(m));
		if (n != depth)
			return -EPROTO;

		uint64_t t2 = bench_ns();
		int got = pl_nvme_poll(qp, 0);
		uint64_t t3 = bench_ns();
		if (got != (int)depth)
			return -EPROTO;
		submit += t1 - t0;
		reap += t3 - t2;
	}
	if (completed != batches * depth)
		return -EIO;
	/* Each span's two clock reads cost what the clock costs: taken out. */
	double clk = bench_clock_ns();
	out->submit_ns = ((double)submit - clk * (double)batches) / (double)(batches * depth);
	out->complete_ns = ((double)reap - clk * (double)batches) / (double)(batches * depth);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned depth = 32, runs = 5;
	unsigned long ios = 2000000;
	int opt;

	while ((opt = getopt(argc, argv, "q:n:r:h")) != -1) {
		switch (opt) {
		case 'q':
			depth = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			ios = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = (unsigned)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-q DEPTH 1-1023] [-n IOS] [-r RUNS 1-%d]\n",
				argv[0], BENCH_MAX_RUNS);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!depth || depth > 1023 || ios < depth || !runs || runs > BENCH_MAX_RUNS) {
		fprintf(stderr, "%s: -q 1-1023, -n at least the depth, -r 1-%d\n", argv[0],
			BENCH_MAX_RUNS);
		return 2;
	}

	pl_log_set_level(PL_LOG_ERR);
	struct pl_iommu *ctx = model_bed_open();
	struct nvme_model *m = nvme_model_new(&(struct nvme_model_conf){ .manual_io = true });
	struct pl_nvme_ctrl *c = ctx ? pl_nvme_open(ctx, "0000:00:02.0", NULL) : NULL;
	struct pl_nvme_qpair *qp = c ? pl_nvme_qpair_create(c, &(struct pl_nvme_qpair_opts){
		.depth = depth + 1 }) : NULL;
	uint64_t iova;
	uint8_t *buf = qp ? pl_dma_alloc(ctx, (size_t)depth * 4096, 0, &iova) : NULL;

	if (!buf) {
		fprintf(stderr, "%s: setting up the model: %s (hugepages reserved?)\n", argv[0],
			strerror(errno));
		return 1;
	}
	/* Nothing but this thread touches the queue pair from here. */
	model_runner_off(nvme_model_dev(m), true);

	double sub[BENCH_MAX_RUNS], cpl[BENCH_MAX_RUNS], tot[BENCH_MAX_RUNS];
	int ret = 0;
	for (unsigned r = 0; r < runs && !ret; r++) {
		struct run res;

		if ((ret = one_run(m, qp, buf, depth, ios, &res)))
			fprintf(stderr, "%s: run %u: %s\n", argv[0], r + 1, strerror(-ret));
		sub[r] = res.submit_ns;
		cpl[r] = res.complete_ns;
		tot[r] = res.submit_ns + res.complete_ns;
	}
	model_runner_off(nvme_model_dev(m), false);
	if (!ret) {
		printf("NVMe driver, 4 KiB reads at QD%u on the host model, %lu I/Os a run, %u runs\n",
		       depth, ios / depth * depth, runs);
		printf("%s\n", bench_cpu());
		bench_row("submit (read + kick)", sub, runs, "ns/IO");
		bench_row("complete (poll + callback)", cpl, runs, "ns/IO");
		bench_row("driver per I/O", tot, runs, "ns/IO");
		printf("  => %.1f M IOPS per core of driver time alone (median)\n",
		       1e3 / bench_median(tot, runs));
	}
	pl_dma_free(ctx, buf);
	pl_nvme_qpair_destroy(qp);
	pl_nvme_close(c);
	model_bed_close();
	return ret ? 1 : 0;
}
