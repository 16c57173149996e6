/* pollen-nvmf-tgt's command line. */
#ifndef PL_APPS_NVMF_TGT_ARGS_H
#define PL_APPS_NVMF_TGT_ARGS_H

#include "opts.h"

#define TGT_MAX_NS 8
#define TGT_MAX_HOSTS 8

struct tgt_list {
	const char *v[TGT_MAX_NS > TGT_MAX_HOSTS ? TGT_MAX_NS : TGT_MAX_HOSTS];
	unsigned n, max;
};

struct tgt_cfg {
	const char *addr, *subsys;
	unsigned port, pollers, secs, spins;
	bool no_discovery, quiet, json;
	struct tgt_list ns, hosts;
};

static inline void tgt_usage(FILE *f)
{
	fprintf(f,
		"usage: pollen-nvmf-tgt --ns BDF[/NSID]|PATH [--ns ...] [-a ADDR] [-s PORT]\n"
		"                       [--subsys NQN] [--allow-host NQN ...] [-c POLLERS] [-t SECS]\n"
		"                       [-q] [--json]\n"
		"Serves block devices as namespaces of one NVMe/TCP subsystem, to any host's\n"
		"initiator (nvme connect -t tcp -a ADDR -s PORT -n NQN), with a discovery service\n"
		"on port 8009 (nvme discover -t tcp -a ADDR -s 8009).\n"
		"  --ns BDF[/NSID]|PATH  a namespace: an NVMe controller bound to vfio-pci (its\n"
		"                        first namespace, or NSID) on Pollen's driver, or a file or\n"
		"                        block device through io_uring (repeatable, up to 8)\n"
		"  -a, --addr ADDR       IPv4 address to listen on (default 0.0.0.0)\n"
		"  -s, --port PORT       port (default 4420)\n"
		"  --subsys NQN          the subsystem's NQN (default nqn.2026-12.io.pollen:tgt)\n"
		"  --allow-host NQN      admit only these hosts (repeatable; default: any host)\n"
		"  -c, --pollers N       poller threads (default 1)\n"
		"  --no-discovery        no listener on 8009\n"
		"  --spin N              empty passes before a poller with no I/O on a device\n"
		"                        sleeps on its sockets (default 1000; 1: at once; -1: never)\n"
		"  -t, --time SECS       stop after SECS seconds (default: at SIGINT or SIGTERM)\n"
		"  -q, --quiet           no line a second\n"
		"  -j, --json            statistics as JSON at exit\n"
		"Exit status: 0, 1 when a device or the port would not open, 2 for bad arguments.\n");
}

static inline int tgt_add(const char *arg, void *dest)
{
	struct tgt_list *l = dest;

	if (!*arg || l->n >= l->max)
		return -1;
	l->v[l->n++] = arg;
	return 0;
}

static inline int tgt_spins(const char *arg, void *dest)
{
	uint64_t v;

	if (!strcmp(arg, "-1")) {
		*(unsigned *)dest = UINT32_MAX;
		return 0;
	}
	if (opts_number(arg, &v) || !v || v >= UINT32_MAX)
		return -1;
	*(unsigned *)dest = (unsigned)v;
	return 0;
}

static inline int tgt_parse(struct tgt_cfg *c, int argc, char **argv)
{
	c->ns.max = TGT_MAX_NS;
	c->hosts.max = TGT_MAX_HOSTS;
	c->subsys = "nqn.2026-12.io.pollen:tgt";
	const struct opt opts[] = {
		{ "ns", 0, OPT_FN, &c->ns, .parse = tgt_add, .what = "a namespace (at most 8)" },
		{ "addr", 'a', OPT_STRING, &c->addr },
		{ "port", 's', OPT_UINT, &c->port, 1, 65535, 0, "a TCP port" },
		{ "subsys", 0, OPT_STRING, &c->subsys },
		{ "allow-host", 0, OPT_FN, &c->hosts, .parse = tgt_add, .what = "a host NQN (at most 8)" },
		{ "pollers", 'c', OPT_UINT, &c->pollers, 1, 8, 0, "a number of pollers" },
		{ "no-discovery", 0, OPT_FLAG, &c->no_discovery },
		{ "spin", 0, OPT_FN, &c->spins, .parse = tgt_spins, .what = "a number of passes from 1, or -1" },
		{ "time", 't', OPT_UINT, &c->secs, 1, 1u << 30, 0, "seconds" },
		{ "quiet", 'q', OPT_FLAG, &c->quiet },
		{ "json", 'j', OPT_FLAG, &c->json },
		{ 0 },
	};
	int next, ret = opts_parse("pollen-nvmf-tgt", argc, argv, opts, &next);

	if (ret)
		return ret;
	if (next < argc) {
		fprintf(stderr, "pollen-nvmf-tgt: '%s': no arguments besides options (see --help)\n",
			argv[next]);
		return OPTS_BAD;
	}
	if (!c->ns.n) {
		fprintf(stderr, "pollen-nvmf-tgt: no namespace: --ns BDF or --ns PATH (see --help)\n");
		return OPTS_BAD;
	}
	return OPTS_OK;
}

#endif
