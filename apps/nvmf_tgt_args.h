/* pollen-nvmf-tgt's command line. */
#ifndef PL_APPS_NVMF_TGT_ARGS_H
#define PL_APPS_NVMF_TGT_ARGS_H

#include <pollen/nvmf.h>

#include "opts.h"

#define TGT_MAX_SUBSYS 8
#define TGT_MAX_NS 8		/* per subsystem */
#define TGT_MAX_HOSTS 8		/* per subsystem */
#define TGT_DEFAULT_NQN "nqn.2026-12.io.pollen:tgt"

struct tgt_subsys {
	const char *nqn;
	const char *ns[TGT_MAX_NS];
	unsigned nns;
	const char *hosts[TGT_MAX_HOSTS];
	unsigned nhosts;
};

struct tgt_cfg {
	const char *addr;
	unsigned port, pollers, secs, spins, sock;
	bool no_discovery, quiet, json;
	struct tgt_subsys sub[TGT_MAX_SUBSYS];
	unsigned nsub;
};

static inline void tgt_usage(FILE *f)
{
	fprintf(f,
		"usage: pollen-nvmf-tgt [--subsys NQN] --ns BDF[/NSID]|PATH [--ns ...]\n"
		"                       [--allow-host NQN ...] [--subsys NQN --ns ...]...\n"
		"                       [-a ADDR] [-s PORT] [-c POLLERS] [--spin N]\n"
		"                       [--sock posix|uring] [-t SECS] [-q] [--json]\n"
		"Serves block devices as the namespaces of NVMe/TCP subsystems, to any host's\n"
		"initiator (nvme connect -t tcp -a ADDR -s PORT -n NQN), with a discovery service\n"
		"on port 8009 (nvme discover -t tcp -a ADDR -s 8009).\n"
		"  --subsys NQN          starts a subsystem: the --ns and --allow-host after it are\n"
		"                        its own (up to 8; before any, nqn.2026-12.io.pollen:tgt)\n"
		"  --ns BDF[/NSID]|PATH  a namespace: an NVMe controller bound to vfio-pci (its\n"
		"                        first namespace, or NSID) on Pollen's driver, or a file or\n"
		"                        block device through io_uring (up to 8 a subsystem)\n"
		"  --allow-host NQN      admit only these hosts (default: any host)\n"
		"  -a, --addr ADDR       IPv4 address to listen on (default 0.0.0.0)\n"
		"  -s, --port PORT       port (default 4420)\n"
		"  -c, --pollers N       poller threads (default 1)\n"
		"  --no-discovery        no listener on 8009\n"
		"  --spin N              empty passes before a poller with no I/O on a device\n"
		"                        sleeps on its sockets (default 1000; 1: at once; -1: never)\n"
		"  --sock posix|uring    how pollers receive: a non-blocking recv() a connection a\n"
		"                        pass, or io_uring's multishot receive into registered\n"
		"                        buffers (Linux 6.0 or later) (default posix)\n"
		"  -t, --time SECS       stop after SECS seconds (default: at SIGINT or SIGTERM)\n"
		"  -q, --quiet           no line a second\n"
		"  -j, --json            statistics as JSON at exit\n"
		"Examples:\n"
		"  pollen-nvmf-tgt --ns 0000:01:00.0                one drive, to any host, port 4420\n"
		"  pollen-nvmf-tgt --subsys nqn.2026-12.io.pollen:a --ns 0000:01:00.0 \\\n"
		"                  --subsys nqn.2026-12.io.pollen:b --ns /dev/nvme1n1 -c 2\n"
		"  nvme discover -t tcp -a 10.0.0.1 -s 8009         on a host: then nvme connect\n"
		"Exit status: 0, 1 when a device or the port would not open, 2 for bad arguments.\n");
}

/* The subsystem --ns and --allow-host go to: the last --subsys, or the default one. */
static inline struct tgt_subsys *tgt_current(struct tgt_cfg *c)
{
	if (!c->nsub)
		c->sub[c->nsub++].nqn = TGT_DEFAULT_NQN;
	return &c->sub[c->nsub - 1];
}

static inline int tgt_subsys(const char *arg, void *dest)
{
	struct tgt_cfg *c = dest;

	if (strncmp(arg, "nqn.", 4) || strlen(arg) > 223 || c->nsub >= TGT_MAX_SUBSYS)
		return -1;
	for (unsigned i = 0; i < c->nsub; i++)
		if (!strcmp(c->sub[i].nqn, arg))
			return -1;
	c->sub[c->nsub++].nqn = arg;
	return 0;
}

static inline int tgt_ns(const char *arg, void *dest)
{
	struct tgt_subsys *s = tgt_current(dest);

	if (!*arg || s->nns >= TGT_MAX_NS)
		return -1;
	s->ns[s->nns++] = arg;
	return 0;
}

static inline int tgt_host(const char *arg, void *dest)
{
	struct tgt_subsys *s = tgt_current(dest);

	if (strncmp(arg, "nqn.", 4) || strlen(arg) > 223 || s->nhosts >= TGT_MAX_HOSTS)
		return -1;
	s->hosts[s->nhosts++] = arg;
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

static inline int tgt_sock(const char *arg, void *dest)
{
	if (!strcmp(arg, "posix"))
		*(unsigned *)dest = PL_NVMF_SOCK_POSIX;
	else if (!strcmp(arg, "uring"))
		*(unsigned *)dest = PL_NVMF_SOCK_URING;
	else
		return -1;
	return 0;
}

static inline int tgt_parse(struct tgt_cfg *c, int argc, char **argv)
{
	const struct opt opts[] = {
		{ "subsys", 0, OPT_FN, c, .parse = tgt_subsys,
		  .what = "an NQN ('nqn.', at most 223 bytes, each once; at most 8)" },
		{ "ns", 0, OPT_FN, c, .parse = tgt_ns, .what = "a namespace (at most 8 a subsystem)" },
		{ "allow-host", 0, OPT_FN, c, .parse = tgt_host,
		  .what = "a host NQN (at most 8 a subsystem)" },
		{ "addr", 'a', OPT_STRING, &c->addr },
		{ "port", 's', OPT_UINT, &c->port, 1, 65535, 0, "a TCP port" },
		{ "pollers", 'c', OPT_UINT, &c->pollers, 1, 8, 0, "a number of pollers" },
		{ "no-discovery", 0, OPT_FLAG, &c->no_discovery },
		{ "spin", 0, OPT_FN, &c->spins, .parse = tgt_spins,
		  .what = "a number of passes from 1, or -1" },
		{ "sock", 0, OPT_FN, &c->sock, .parse = tgt_sock, .what = "posix or uring" },
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
	if (!c->nsub) {
		fprintf(stderr, "pollen-nvmf-tgt: no namespace: --ns BDF or --ns PATH (see --help)\n");
		return OPTS_BAD;
	}
	for (unsigned i = 0; i < c->nsub; i++)
		if (!c->sub[i].nns) {
			fprintf(stderr, "pollen-nvmf-tgt: subsystem %s has no namespace: --ns after "
				"its --subsys (see --help)\n", c->sub[i].nqn);
			return OPTS_BAD;
		}
	return OPTS_OK;
}

#endif
