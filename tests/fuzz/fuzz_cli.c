/*
 * Every tool's command line, as the input spells it (words split at NUL bytes, the first
 * byte choosing the tool): its parser must accept it or say no, never crash, never read
 * past an argument, and what it accepts must lie inside the bounds its --help states.
 */
#include "devbind_args.h"
#include "echo_args.h"
#include "fuzz.h"
#include "fwd_args.h"
#include "identify_args.h"
#include "info_args.h"
#include "nvmf_tgt_args.h"
#include "perf_args.h"
#include "pktgen_args.h"

#define MAX_WORDS 24

static FILE *findings;	/* stderr as it was: the tools' complaints go to /dev/null */

#define CHECK(cond, ...)                                                               \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(findings, "%s:%d: %s: ", __FILE__, __LINE__, #cond);  \
			fprintf(findings, __VA_ARGS__);                                \
			fputc('\n', findings);                                         \
			abort();                                                       \
		}                                                                      \
	} while (0)

static bool canonical(const char *addr)
{
	struct pl_pci_addr a;
	char again[PL_PCI_ADDR_LEN];

	if (strlen(addr) != 12 || pl_pci_addr_parse(addr, &a))
		return false;
	pl_pci_addr_format(&a, again);
	return !strcmp(again, addr);
}

static void perf(int argc, char **argv)
{
	struct perf_cfg c;

	perf_defaults(&c);
	if (perf_parse(&c, argc, argv) != OPTS_OK)
		return;
	CHECK(c.depth >= 1 && c.depth <= 4096, "depth %u", c.depth);
	CHECK(c.io_size >= 512 && c.io_size <= PL_BLK_MAX_IO && !(c.io_size % 512), "size %llu",
	      (unsigned long long)c.io_size);
	CHECK(c.w <= W_RANDRW && c.read_pct <= 100, "workload %u mix %u", c.w, c.read_pct);
	CHECK(c.seconds >= 1 && c.seconds <= PERF_MAX_SECONDS, "%u s", c.seconds);
	CHECK(c.workers >= 1 && c.workers <= PERF_MAX_WORKERS, "%u workers", c.workers);
	CHECK(c.target && c.blk.queues == c.workers, "target");
	struct pl_pci_addr a;
	CHECK(!perf_pci_target(&c) || !pl_pci_addr_parse(c.target, &a),
	      "a PCI target '%s' taken", c.target);
}

static void identify(int argc, char **argv)
{
	struct identify_cfg c = { 0 };

	if (identify_parse(&c, argc, argv) != OPTS_OK)
		return;
	CHECK(!c.addr[0] || canonical(c.addr), "address '%s'", c.addr);
	CHECK(c.nsid <= 0xfffffffe, "nsid %u", c.nsid);
}

static void info(int argc, char **argv)
{
	static struct info_cfg c;

	memset(&c, 0, sizeof(c));
	if (info_parse(&c, argc, argv) != OPTS_OK)
		return;
	CHECK(c.n <= INFO_MAX_DEVS, "%u devices", c.n);
	for (unsigned i = 0; i < c.n; i++)
		CHECK(canonical(c.addr[i]), "address '%s'", c.addr[i]);
}

static void devbind(int argc, char **argv)
{
	static struct devbind_cfg c;

	memset(&c, 0, sizeof(c));
	if (devbind_parse(&c, argc, argv) != OPTS_OK)
		return;
	CHECK(strchr("sburH", c.mode), "mode %c", c.mode);
	CHECK(c.mode != 'b' || c.driver, "--bind without a driver");
	CHECK((c.n > 0) == (c.mode == 'b' || c.mode == 'u' || c.mode == 'r'), "%u addresses", c.n);
	CHECK(c.page_size == 2u << 20 || c.page_size == 1u << 30, "page size %llu",
	      (unsigned long long)c.page_size);
	for (unsigned i = 0; i < c.n; i++)
		CHECK(canonical(c.addr[i]), "address '%s'", c.addr[i]);
}

static void fwd(int argc, char **argv)
{
	static struct fwd_cfg c;

	fwd_defaults(&c);
	if (fwd_parse(&c, argc, argv) != OPTS_OK)
		return;
	CHECK(c.nports >= 1 && c.nports <= MAX_PORTS, "%u ports", c.nports);
	CHECK(!c.ndst || c.ndst == c.nports, "%u MACs", c.ndst);
	for (unsigned i = 0; i < c.nports; i++)
		CHECK(canonical(c.addr[i]), "address '%s'", c.addr[i]);
	CHECK(c.burst >= 1 && c.burst <= PL_ETH_MAX_BURST, "burst %u", c.burst);
	CHECK(c.rx_desc >= 8 && c.rx_desc <= 4096 && !(c.rx_desc & (c.rx_desc - 1)), "rx %u",
	      c.rx_desc);
	CHECK(c.tx_desc >= 8 && c.tx_desc <= 4096 && !(c.tx_desc & (c.tx_desc - 1)), "tx %u",
	      c.tx_desc);
	CHECK(c.queues >= 1 && c.queues <= PL_ETH_MAX_QUEUES, "queues %u", c.queues);
}

static void pktgen(int argc, char **argv)
{
	static struct pktgen_cfg c;

	pktgen_defaults(&c);
	if (pktgen_parse(&c, argc, argv) != OPTS_OK)
		return;
	CHECK(c.tx || c.rx, "neither sends nor receives");
	CHECK(!c.tx || canonical(c.tx_addr), "address '%s'", c.tx_addr);
	CHECK(!c.rx || canonical(c.rx_addr), "address '%s'", c.rx_addr);
	CHECK(c.size >= PG_SIZE_MIN && c.size <= PG_SIZE_MAX, "size %u", c.size);
	CHECK(c.rate == 0 || (c.rate >= 1 && c.rate <= 1e9), "rate %g", c.rate);
	CHECK(c.burst >= 1 && c.burst <= PL_ETH_MAX_BURST, "burst %u", c.burst);
	CHECK(c.flows >= 1 && c.flows <= 65536, "flows %u", c.flows);
	CHECK(c.sport <= 65535 && c.dport <= 65535, "ports %u %u", c.sport, c.dport);
}

static void echo(int argc, char **argv)
{
	struct echo_cfg c = { 0 };

	if (echo_parse(&c, argc, argv) != OPTS_OK)
		return;
	CHECK(canonical(c.addr), "address '%s'", c.addr);
	CHECK(c.prefix >= 1 && c.prefix <= 32, "prefix %u", c.prefix);
}

static void nvmf_tgt(int argc, char **argv)
{
	static struct tgt_cfg c;

	memset(&c, 0, sizeof(c));
	if (tgt_parse(&c, argc, argv) != OPTS_OK)
		return;
	CHECK(c.nsub >= 1 && c.nsub <= TGT_MAX_SUBSYS, "%u subsystems", c.nsub);
	for (unsigned s = 0; s < c.nsub; s++) {
		CHECK(!strncmp(c.sub[s].nqn, "nqn.", 4), "subsystem '%s'", c.sub[s].nqn);
		CHECK(c.sub[s].nns >= 1 && c.sub[s].nns <= TGT_MAX_NS, "%u namespaces", c.sub[s].nns);
		CHECK(c.sub[s].nhosts <= TGT_MAX_HOSTS, "%u hosts", c.sub[s].nhosts);
		for (unsigned i = 0; i < c.sub[s].nns; i++)
			CHECK(c.sub[s].ns[i] && *c.sub[s].ns[i], "namespace %u empty", i);
		for (unsigned k = 0; k < s; k++)
			CHECK(strcmp(c.sub[k].nqn, c.sub[s].nqn), "%s twice", c.sub[s].nqn);
	}
	CHECK(c.port <= 65535 && c.pollers <= 8, "port %u pollers %u", c.port, c.pollers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const tools[])(int, char **) = { perf, identify, info, devbind, fwd, pktgen,
						       echo, nvmf_tgt };
	static const char *const names[] = { "pollen-nvme-perf", "pollen-nvme-identify",
					     "pollen-info", "pollen-devbind", "pollen-fwd",
					     "pollen-pktgen", "pollen-echo", "pollen-nvmf-tgt" };
	char *argv[MAX_WORDS + 2];
	int argc = 1;

	if (!findings) {
		/* The FILEs only: libFuzzer and the sanitizers write to fd 2 themselves. */
		findings = stderr;
		stderr = stdout = fopen("/dev/null", "w");
	}
	if (!size)
		return 0;
	unsigned t = data[0] % (sizeof(tools) / sizeof(tools[0]));
	/* Each word its own allocation, exactly its length: a read past one is ASan's. */
	argv[0] = strdup(names[t]);
	for (size_t i = 1; i < size && argc <= MAX_WORDS; argc++) {
		size_t n = 0;

		while (i + n < size && data[i + n])
			n++;
		argv[argc] = malloc(n + 1);
		memcpy(argv[argc], data + i, n);
		argv[argc][n] = 0;
		i += n + 1;
	}
	argv[argc] = NULL;
	tools[t](argc, argv);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
