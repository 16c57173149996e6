/*
 * pollen-nvmf-tgt: block devices served over NVMe/TCP, through Pollen's NVMe driver or
 * io_uring, to any host's initiator. A line a second (connections, IOPS, MiB/s); totals
 * at the end, SIGINT or SIGTERM ending the run cleanly (every host told, every queue
 * drained, every controller shut down).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pollen/blk.h>
#include <pollen/iommu.h>
#include <pollen/nvmf.h>

#include "cli.h"
#include "nvmf_tgt_args.h"

static int stop;

static void on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
}

/* "BDF" or "BDF/NSID" on Pollen's driver, anything else through io_uring. */
static struct pl_blk *open_ns(const char *spec, struct pl_iommu **ctx)
{
	char dev[256];
	struct pl_blk_opts o = { .queues = 8 };
	const char *slash = strrchr(spec, '/');

	snprintf(dev, sizeof(dev), "%s", spec);
	if (slash && (size_t)(slash - spec) < sizeof(dev)) {
		dev[slash - spec] = 0;
		if (pl_blk_backend_of(dev) == PL_BLK_PMD) {
			char *end;
			unsigned long nsid = strtoul(slash + 1, &end, 10);

			if (*end || !nsid || nsid > 0xfffffffeul) {
				fprintf(stderr, "pollen-nvmf-tgt: --ns %s: want BDF/NSID, NSID from 1\n",
					spec);
				return NULL;
			}
			o.nsid = (uint32_t)nsid;
		} else {
			snprintf(dev, sizeof(dev), "%s", spec);	/* a path */
		}
	}
	/* Every namespace on Pollen's driver shares one context: buffers reach them all. */
	if (pl_blk_backend_of(dev) == PL_BLK_PMD) {
		if (!*ctx && !(*ctx = pl_iommu_open(PL_IOMMU_AUTO)))
			return NULL;
		o.ctx = *ctx;
	}
	return pl_blk_open(dev, &o);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct tgt_cfg cfg = { 0 };

	switch (tgt_parse(&cfg, argc, argv)) {
	case OPTS_HELP:
		tgt_usage(stdout);
		return 0;
	case OPTS_BAD:
		return 2;
	case OPTS_VERSION:
		return 0;
	}
	cli_on_signals(on_signal);

	struct pl_iommu *ctx = NULL;
	struct pl_blk *ns[TGT_MAX_SUBSYS * TGT_MAX_NS] = { 0 };
	unsigned nns = 0;
	struct pl_nvmf_tgt *t = pl_nvmf_create(&(struct pl_nvmf_conf){
		.addr = cfg.addr, .port = (uint16_t)cfg.port, .pollers = cfg.pollers,
		.discovery_port = !cfg.no_discovery, .idle_spins = cfg.spins,
		.sock = (enum pl_nvmf_sock)cfg.sock });
	int ret = 1;

	if (!t)
		goto out;
	for (unsigned s = 0; s < cfg.nsub; s++) {
		const struct tgt_subsys *sub = &cfg.sub[s];

		if (pl_nvmf_add_subsystem(t, sub->nqn))
			goto out;
		for (unsigned i = 0; i < sub->nhosts; i++)
			if (pl_nvmf_allow_host(t, sub->nqn, sub->hosts[i]))
				goto out;
		for (unsigned i = 0; i < sub->nns; i++) {
			struct pl_blk *b = ns[nns++] = open_ns(sub->ns[i], &ctx);

			if (!b || pl_nvmf_add_ns(t, sub->nqn, b) < 0)
				goto out;
			if (!cfg.quiet)
				printf("%s namespace %u: %s (%s), %llu blocks of %u bytes\n", sub->nqn,
				       i + 1, sub->ns[i], pl_blk_backend_name(pl_blk_backend(b)),
				       (unsigned long long)pl_blk_blocks(b), pl_blk_block_size(b));
		}
	}
	if (pl_nvmf_start(t))
		goto out;
	if (!cfg.quiet) {
		printf("serving %u subsystem(s) on %s:%u\n", cfg.nsub,
		       cfg.addr ? cfg.addr : "0.0.0.0", cfg.port ? cfg.port : 4420);
		fflush(stdout);
	}

	double t0 = now_s(), last_t = t0;
	struct pl_nvmf_stats last = { 0 }, st;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED) && (!cfg.secs || now_s() - t0 < cfg.secs)) {
		usleep(100000);
		if (cfg.quiet || now_s() - last_t < 1.0)
			continue;
		double now = now_s(), dt = now - last_t;
		pl_nvmf_stats(t, &st);
		uint64_t ios = st.reads + st.writes + st.other - last.reads - last.writes - last.other;
		uint64_t bytes = st.read_bytes + st.written_bytes - last.read_bytes - last.written_bytes;
		printf("%6.0f s: %u connections, %.0f IOPS, %.1f MiB/s, %llu errors\n", now - t0,
		       st.connections, ios / dt, bytes / dt / (1 << 20), (unsigned long long)st.errors);
		fflush(stdout);
		last = st;
		last_t = now;
	}
	pl_nvmf_stats(t, &st);
	double secs = now_s() - t0;
	if (cfg.json)
		printf("{\"seconds\": %.1f, \"reads\": %llu, \"writes\": %llu, \"other\": %llu, "
		       "\"read_bytes\": %llu, \"written_bytes\": %llu, \"errors\": %llu, "
		       "\"refused_connections\": %llu, \"header_digest_connections\": %llu, "
		       "\"data_digest_connections\": %llu}\n", secs, (unsigned long long)st.reads,
		       (unsigned long long)st.writes, (unsigned long long)st.other,
		       (unsigned long long)st.read_bytes, (unsigned long long)st.written_bytes,
		       (unsigned long long)st.errors, (unsigned long long)st.refused,
		       (unsigned long long)st.hdgst_conns, (unsigned long long)st.ddgst_conns);
	else if (!cfg.quiet)
		printf("total: %llu reads, %llu writes, %llu other, %llu errors in %.1f s\n",
		       (unsigned long long)st.reads, (unsigned long long)st.writes,
		       (unsigned long long)st.other, (unsigned long long)st.errors, secs);
	ret = 0;
out:
	pl_nvmf_destroy(t);
	for (unsigned i = 0; i < nns; i++)
		pl_blk_close(ns[i]);
	if (ctx)
		pl_iommu_close(ctx);
	return ret;
}
