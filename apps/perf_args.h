/* pollen-nvme-perf's command line: its settings, their defaults and their bounds. */
#ifndef PL_APPS_PERF_ARGS_H
#define PL_APPS_PERF_ARGS_H

#include <pollen/blk.h>
#include <pollen/pci.h>

#include "opts.h"

enum workload { W_READ, W_WRITE, W_RANDREAD, W_RANDWRITE, W_RW, W_RANDRW };
static const char *const workload_name[] = { "read", "write", "randread", "randwrite", "rw",
					     "randrw", NULL };
static const char *const perf_backends[] = { "auto", "pmd", "uring", NULL };

#define PERF_MAX_WORKERS 64
#define PERF_MAX_SECONDS (366u * 24 * 3600)

struct perf_cfg {
	const char *target;
	unsigned w;		/* enum workload */
	unsigned depth, workers, read_pct, seconds, nsid, backend;
	uint64_t io_size;
	uint64_t range;		/* bytes of the device used; 0: all of it */
	uint64_t seed;
	unsigned drain_ms;	/* what the end waits for I/Os still out */
	bool verify, prefill, json, sleep, quiet, continue_on_error;
	struct pl_blk_opts blk;
};

static inline void perf_defaults(struct perf_cfg *c)
{
	*c = (struct perf_cfg){ .w = W_RANDREAD, .depth = 32, .workers = 1, .read_pct = 50,
				.seconds = 10, .io_size = 4096, .seed = 1, .drain_ms = 10000 };
}

static inline void perf_usage(FILE *f)
{
	fprintf(f,
		"usage: pollen-nvme-perf [options] TARGET\n"
		"TARGET: a PCI address (Pollen's NVMe driver), a block device or a file (io_uring)\n"
		"  -q DEPTH            I/Os in flight per worker, 1 to 4096 (32)\n"
		"  -o SIZE             I/O size, 512 B to 8 MiB, e.g. 4096, 4k, 128k (4k)\n"
		"  -w WORKLOAD         read, write, randread, randwrite, rw, randrw (randread)\n"
		"  -M PERCENT          reads in rw and randrw, 0 to 100 (50)\n"
		"  -t SECONDS          how long (10)\n"
		"  -c WORKERS          threads, a queue each, 1 to %u (1): no more than the\n"
		"                      controller grants queue pairs\n"
		"  -n NSID             namespace, for a PCI address (the first usable)\n"
		"  -r SIZE             use the first SIZE bytes of the device (all of it)\n"
		"  --backend pmd|uring how to reach TARGET (by its kind)\n"
		"  --verify            writes carry a pattern (LBA, namespace, seed) that reads check;\n"
		"                      reads only check blocks written with the same --seed, so\n"
		"                      read workloads want --prefill or an earlier write run (blocks\n"
		"                      never written read as zeros: counted apart, not as mismatches)\n"
		"  --prefill           write the pattern over the range before the run\n"
		"  --seed N            the verify pattern's and the offsets' seed (1)\n"
		"  --sleep             poll, and sleep on the queue's interrupt when polls come up\n"
		"                      empty (pmd: MSI-X; uring: an eventfd)\n"
		"  --shadow-doorbells, --sgl  pmd: see pollen/nvme.h (both off: faster on QEMU)\n"
		"  --sqpoll, --iopoll  uring: a submission polling thread, polled completions\n"
		"  --continue-on-error count errors by kind and keep going (default: a worker\n"
		"                      stops at its first error)\n"
		"  --timeout-ms MS     pmd: a command not done in MS is aborted (then the\n"
		"                      controller reset); counted as an error (default: none)\n"
		"  --drain-ms MS       at the end, wait so long for I/Os still out, then count them\n"
		"                      as errors and stop (10000)\n"
		"  --json              the results as JSON\n"
		"  --quiet             no progress line\n"
		"Examples:\n"
		"  pollen-nvme-perf -q 32 -t 10 0000:01:00.0        4 KiB random reads through Pollen\n"
		"  pollen-nvme-perf -q 32 -t 10 /dev/nvme0n1        the same through the kernel (io_uring)\n"
		"  pollen-nvme-perf -w randwrite --verify -c 2 0000:01:00.0   checked writes, 2 queues\n"
		"Exit status: 0 when the run went without error, 1 when it did not or the target\n"
		"would not open, 2 for bad arguments.\n", PERF_MAX_WORKERS);
}

/* A PCI address, checked as one only when the driver will be asked to take it. */
static inline bool perf_pci_target(const struct perf_cfg *c)
{
	size_t n = strlen(c->target);

	return c->backend == PL_BLK_PMD || (c->backend == PL_BLK_AUTO && (n == 7 || n == 12) &&
					    !strchr(c->target, '/') && c->target[n - 2] == '.');
}

/* OPTS_OK, OPTS_HELP or OPTS_BAD (said on stderr), as opts_parse(). */
static inline int perf_parse(struct perf_cfg *c, int argc, char **argv)
{
	const struct opt opts[] = {
		{ "depth", 'q', OPT_UINT, &c->depth, 1, 4096, 0, "a queue depth" },
		{ "size", 'o', OPT_SIZE, &c->io_size, 512, PL_BLK_MAX_IO, 512, "an I/O size" },
		{ "workload", 'w', OPT_CHOICE, &c->w, .what = "a workload",
		  .choices = workload_name },
		{ "mix", 'M', OPT_UINT, &c->read_pct, 0, 100, 0, "a percentage of reads" },
		{ "time", 't', OPT_UINT, &c->seconds, 1, PERF_MAX_SECONDS, 0, "seconds" },
		{ "workers", 'c', OPT_UINT, &c->workers, 1, PERF_MAX_WORKERS, 0, "workers" },
		{ "nsid", 'n', OPT_UINT, &c->nsid, 1, 0xfffffffe, 0, "a namespace ID" },
		{ "range", 'r', OPT_SIZE, &c->range, 512, UINT64_MAX / 2, 512, "a range" },
		{ "backend", 0, OPT_CHOICE, &c->backend, .what = "a back end",
		  .choices = perf_backends },
		{ "verify", 0, OPT_FLAG, &c->verify },
		{ "prefill", 0, OPT_FLAG, &c->prefill },
		{ "seed", 0, OPT_U64, &c->seed, 0, UINT64_MAX, 0, "a seed" },
		{ "sleep", 0, OPT_FLAG, &c->sleep },
		{ "shadow-doorbells", 0, OPT_FLAG, &c->blk.shadow_doorbells },
		{ "sgl", 0, OPT_FLAG, &c->blk.sgl },
		{ "sqpoll", 0, OPT_FLAG, &c->blk.sqpoll },
		{ "iopoll", 0, OPT_FLAG, &c->blk.iopoll },
		{ "json", 0, OPT_FLAG, &c->json },
		{ "quiet", 0, OPT_FLAG, &c->quiet },
		{ "continue-on-error", 0, OPT_FLAG, &c->continue_on_error },
		{ "timeout-ms", 0, OPT_UINT, &c->blk.timeout_ms, 1, 3600000, 0,
		  "a timeout in milliseconds" },
		{ "drain-ms", 0, OPT_UINT, &c->drain_ms, 1, 3600000, 0,
		  "a wait in milliseconds" },
		{ 0 },
	};
	int next, ret = opts_parse("pollen-nvme-perf", argc, argv, opts, &next);
	struct pl_pci_addr a;

	if (ret)
		return ret;
	if (next != argc - 1) {
		fprintf(stderr, "pollen-nvme-perf: one TARGET, please (a PCI address, a block device "
			"or a file; see --help)\n");
		return OPTS_BAD;
	}
	c->target = argv[next];
	/* The address is checked before anything is opened: its error is then the one seen. */
	if (perf_pci_target(c) && pl_pci_addr_parse(c->target, &a))
		return OPTS_BAD;
	c->blk.backend = (enum pl_blk_backend)c->backend;
	c->blk.nsid = c->nsid;
	c->blk.interrupts = c->sleep;
	c->blk.queues = c->workers;
	return OPTS_OK;
}

#endif
