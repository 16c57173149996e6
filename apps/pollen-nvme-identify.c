/* pollen-nvme-identify: an NVMe controller and its namespaces, as Identify describes them. */
#include <pollen/iommu.h>
#include <pollen/log.h>
#include <pollen/nvme.h>
#include <pollen/pci.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Queue pairs asked for: the answer says how many the controller grants, up to this. */
#define ASK_QUEUES 256

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pollen-nvme-identify [BDF] [-n NSID] [--json]\n"
		"Prints what the NVMe controller at BDF (bound to vfio-pci; default: the first\n"
		"such) says of itself and of its active namespaces, in the layout of nvme id-ctrl\n"
		"and nvme id-ns.\n"
		"  -n, --namespace NSID   only that namespace\n"
		"  -j, --json             the same as JSON\n");
}

/* A space-padded identify field, trailing blanks cut. */
static const char *field(const char *s, size_t len, char *out)
{
	memcpy(out, s, len);
	out[len] = 0;
	for (size_t n = len; n && out[n - 1] == ' '; n--)
		out[n - 1] = 0;
	return out;
}

static const char *yes_no(unsigned bit)
{
	return bit ? "yes" : "no";
}

/* 128-bit little-endian counts as a double: capacity fields, in bytes. */
static double u128(const uint8_t b[16])
{
	double v = 0;

	for (int i = 15; i >= 0; i--)
		v = v * 256 + b[i];
	return v;
}

static const char *human(double bytes, char *out, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	int u = 0;

	while (bytes >= 1024 && u < 5) {
		bytes /= 1024;
		u++;
	}
	snprintf(out, len, "%.1f %s", bytes, unit[u]);
	return out;
}

struct bit_name {
	unsigned bit;
	const char *name;
};

static const struct bit_name oacs[] = {
	{ NVME_CTRL_OACS_SECURITY, "Security Send/Receive" },
	{ NVME_CTRL_OACS_FORMAT, "Format NVM" },
	{ NVME_CTRL_OACS_FW, "Firmware Download/Commit" },
	{ NVME_CTRL_OACS_NS_MGMT, "Namespace Management" },
	{ NVME_CTRL_OACS_SELF_TEST, "Device Self-test" },
	{ NVME_CTRL_OACS_DIRECTIVES, "Directives" },
	{ NVME_CTRL_OACS_NVME_MI, "NVMe-MI Send/Receive" },
	{ NVME_CTRL_OACS_VIRT_MGMT, "Virtualization Management" },
	{ NVME_CTRL_OACS_DBBUF_CONFIG, "Doorbell Buffer Config" },
	{ NVME_CTRL_OACS_GET_LBA_STATUS, "Get LBA Status" },
	{ 0, NULL },
};

static const struct bit_name oncs[] = {
	{ NVME_CTRL_ONCS_COMPARE, "Compare" },
	{ NVME_CTRL_ONCS_WRITE_UNCORRECTABLE, "Write Uncorrectable" },
	{ NVME_CTRL_ONCS_DSM, "Dataset Management" },
	{ NVME_CTRL_ONCS_WRITE_ZEROES, "Write Zeroes" },
	{ NVME_CTRL_ONCS_SAVE_FEATURES, "Save/Select in Features" },
	{ NVME_CTRL_ONCS_RESERVATIONS, "Reservations" },
	{ NVME_CTRL_ONCS_TIMESTAMP, "Timestamp" },
	{ NVME_CTRL_ONCS_VERIFY, "Verify" },
	{ 0, NULL },
};

static void print_bits(const char *title, unsigned value, const struct bit_name *b)
{
	printf("  %-28s 0x%04x\n", title, value);
	for (; b->name; b++)
		printf("    %-26s %s\n", b->name, yes_no(value & b->bit));
}

static void print_ctrl(struct pl_nvme_ctrl *c)
{
	const struct nvme_id_ctrl *id = pl_nvme_id_ctrl(c);
	uint64_t cap = pl_nvme_cap(c);
	char s[64], h[32];
	uint32_t vs = pl_nvme_vs(c);

	printf("NVMe controller at %s\n", pl_nvme_addr(c));
	printf("  %-28s 0x%04x (subsystem 0x%04x)\n", "Vendor ID", id->vid, id->ssvid);
	printf("  %-28s %s\n", "Serial number", field(id->sn, sizeof(id->sn), s));
	printf("  %-28s %s\n", "Model number", field(id->mn, sizeof(id->mn), s));
	printf("  %-28s %s\n", "Firmware revision", field(id->fr, sizeof(id->fr), s));
	printf("  %-28s %u.%u.%u\n", "NVMe version", NVME_VS_MAJOR(vs), NVME_VS_MINOR(vs),
	       NVME_VS_TER(vs));
	printf("  %-28s %u\n", "Controller ID", id->cntlid);
	printf("  %-28s %02x-%02x-%02x\n", "IEEE OUI", id->ieee[2], id->ieee[1], id->ieee[0]);
	printf("  %-28s %s (MDTS %u)\n", "Max data transfer",
	       id->mdts ? human((double)(4096ul << NVME_CAP_MPSMIN(cap) << id->mdts), h, sizeof(h)) :
			  "unlimited", id->mdts);
	printf("  %-28s %u entries (CAP.MQES %u)%s\n", "Max queue depth", NVME_CAP_MQES(cap) + 1,
	       NVME_CAP_MQES(cap), NVME_CAP_CQR(cap) ? ", physically contiguous" : "");
	printf("  %-28s %u granted (of %u asked)\n", "I/O queue pairs", pl_nvme_io_queues(c),
	       ASK_QUEUES);
	printf("  %-28s %.1f s (CAP.TO %u)\n", "Ready timeout", NVME_CAP_TO(cap) * 0.5,
	       NVME_CAP_TO(cap));
	printf("  %-28s %u bytes\n", "Doorbell stride", 4u << NVME_CAP_DSTRD(cap));
	printf("  %-28s %lu KiB to %lu KiB\n", "Memory page sizes",
	       4ul << NVME_CAP_MPSMIN(cap), 4ul << NVME_CAP_MPSMAX(cap));
	printf("  %-28s SQ %u (max %u), CQ %u (max %u) bytes\n", "Queue entry sizes",
	       1u << (id->sqes & 0xf), 1u << (id->sqes >> 4), 1u << (id->cqes & 0xf),
	       1u << (id->cqes >> 4));
	printf("  %-28s %u of NN %u\n", "Active namespaces", pl_nvme_ns_count(c), id->nn);
	printf("  %-28s %s\n", "Total NVM capacity", human(u128(id->tnvmcap), h, sizeof(h)));
	printf("  %-28s %s\n", "Unallocated NVM capacity", human(u128(id->unvmcap), h, sizeof(h)));
	printf("  %-28s %u\n", "Abort command limit", id->acl + 1u);
	printf("  %-28s %u\n", "Async event request limit", id->aerl + 1u);
	printf("  %-28s %u slot(s)%s%s\n", "Firmware slots", NVME_CTRL_FRMW_NR_SLOTS(id->frmw),
	       id->frmw & NVME_CTRL_FRMW_SLOT1_RO ? ", slot 1 read-only" : "",
	       id->frmw & NVME_CTRL_FRMW_NO_RESET ? ", activation without reset" : "");
	printf("  %-28s %u\n", "Error log entries", id->elpe + 1u);
	printf("  %-28s %u K warning, %u K critical\n", "Temperature thresholds", id->wctemp,
	       id->cctemp);
	printf("  %-28s %s\n", "Volatile write cache", id->vwc & NVME_CTRL_VWC_PRESENT ?
	       "present" : "none");
	printf("  %-28s %s\n", "SGLs",
	       (id->sgls & NVME_CTRL_SGLS_MASK) == NVME_CTRL_SGLS_NONE ? "no" :
	       (id->sgls & NVME_CTRL_SGLS_MASK) == NVME_CTRL_SGLS_BYTE_ALIGNED ? "yes, any alignment" :
	       "yes, dword aligned");
	printf("  %-28s %s\n", "Shadow doorbells in use", yes_no(pl_nvme_shadow_doorbells(c)));
	print_bits("Optional admin (OACS)", id->oacs, oacs);
	print_bits("Optional NVM (ONCS)", id->oncs, oncs);
	printf("  %-28s %u\n", "Power states", id->npss + 1u);
	for (unsigned i = 0; i <= id->npss && i < 32; i++)
		printf("    ps %-2u %7.4f W%s\n", i, id->psd[i].mp *
		       (id->psd[i].flags & 1 ? 0.0001 : 0.01), id->psd[i].flags & 2 ? " non-operational" : "");
}

static void print_ns(const struct pl_nvme_ns *ns)
{
	const struct nvme_id_ns *id = ns->id;
	char h[32];

	printf("\nNamespace %u\n", ns->nsid);
	printf("  %-28s %llu blocks of %u bytes (%s)\n", "Size", (unsigned long long)ns->blocks,
	       ns->block_size, human((double)ns->blocks * ns->block_size, h, sizeof(h)));
	printf("  %-28s %llu blocks\n", "Capacity", (unsigned long long)ns->capacity);
	printf("  %-28s %llu blocks (%.1f%%)\n", "Utilization", (unsigned long long)ns->used,
	       ns->blocks ? 100.0 * (double)ns->used / (double)ns->blocks : 0.0);
	printf("  %-28s %s\n", "Thin provisioning", yes_no(id->nsfeat & 1));
	printf("  %-28s %s\n", "Deallocated blocks read",
	       (id->dlfeat & 7) == 1 ? "as zeroes" : (id->dlfeat & 7) == 2 ? "as ones" : "unreported");
	printf("  %-28s %s%s\n", "Usable by Pollen", yes_no(ns->usable),
	       ns->usable ? "" : " (formatted with metadata)");
	printf("  %-28s %u\n", "LBA formats", id->nlbaf + 1u);
	for (unsigned f = 0; f <= id->nlbaf && f < 16; f++)
		printf("    #%-2u %5u bytes + %2u metadata, relative performance %u%s\n", f,
		       id->lbaf[f].lbads ? 1u << id->lbaf[f].lbads : 0, id->lbaf[f].ms,
		       id->lbaf[f].rp & 3, f == ns->lbaf ? "  (in use)" : "");
	printf("  %-28s ", "EUI64");
	for (int i = 0; i < 8; i++)
		printf("%02x", id->eui64[i]);
	printf("\n  %-28s ", "NGUID");
	for (int i = 0; i < 16; i++)
		printf("%02x", id->nguid[i]);
	printf("\n");
}

static void json_ctrl(struct json *j, struct pl_nvme_ctrl *c)
{
	const struct nvme_id_ctrl *id = pl_nvme_id_ctrl(c);
	uint64_t cap = pl_nvme_cap(c);
	char s[64];

	json_object(j, "controller");
	json_str(j, "address", pl_nvme_addr(c), 64);
	json_u64(j, "vid", id->vid);
	json_u64(j, "ssvid", id->ssvid);
	json_str(j, "serial", field(id->sn, sizeof(id->sn), s), sizeof(s));
	json_str(j, "model", field(id->mn, sizeof(id->mn), s), sizeof(s));
	json_str(j, "firmware", field(id->fr, sizeof(id->fr), s), sizeof(s));
	snprintf(s, sizeof(s), "%u.%u.%u", NVME_VS_MAJOR(pl_nvme_vs(c)),
		 NVME_VS_MINOR(pl_nvme_vs(c)), NVME_VS_TER(pl_nvme_vs(c)));
	json_str(j, "version", s, sizeof(s));
	json_u64(j, "cntlid", id->cntlid);
	json_u64(j, "mdts", id->mdts);
	json_u64(j, "max_transfer_bytes", pl_nvme_max_transfer(c));
	json_u64(j, "max_queue_depth", NVME_CAP_MQES(cap) + 1);
	json_u64(j, "io_queue_pairs_granted", pl_nvme_io_queues(c));
	json_u64(j, "ready_timeout_ms", NVME_CAP_TO(cap) * 500u);
	json_u64(j, "nn", id->nn);
	json_num(j, "tnvmcap", u128(id->tnvmcap));
	json_num(j, "unvmcap", u128(id->unvmcap));
	json_u64(j, "oacs", id->oacs);
	json_u64(j, "oncs", id->oncs);
	json_u64(j, "sgls", id->sgls);
	json_bool(j, "volatile_write_cache", id->vwc & NVME_CTRL_VWC_PRESENT);
	json_bool(j, "shadow_doorbells", pl_nvme_shadow_doorbells(c));
	json_u64(j, "wctemp", id->wctemp);
	json_u64(j, "cctemp", id->cctemp);
	json_end_object(j);
}

static void json_ns(struct json *j, const struct pl_nvme_ns *ns)
{
	json_object(j, NULL);
	json_u64(j, "nsid", ns->nsid);
	json_u64(j, "blocks", ns->blocks);
	json_u64(j, "capacity", ns->capacity);
	json_u64(j, "used", ns->used);
	json_u64(j, "block_size", ns->block_size);
	json_u64(j, "metadata_size", ns->metadata_size);
	json_u64(j, "lbaf", ns->lbaf);
	json_bool(j, "usable", ns->usable);
	json_array(j, "lba_formats");
	for (unsigned f = 0; f <= ns->id->nlbaf && f < 16; f++) {
		json_object(j, NULL);
		json_u64(j, "data_size", ns->id->lbaf[f].lbads ? 1u << ns->id->lbaf[f].lbads : 0);
		json_u64(j, "metadata_size", ns->id->lbaf[f].ms);
		json_u64(j, "relative_performance", ns->id->lbaf[f].rp & 3);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

/* The first NVMe controller bound to vfio-pci. */
static int first_nvme(const struct pl_pci_info *info, void *arg)
{
	if (!pl_pci_is_nvme(info) || strcmp(info->driver, "vfio-pci"))
		return 0;
	snprintf(arg, PL_PCI_ADDR_LEN, "%s", info->addr);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char addr[PL_PCI_ADDR_LEN] = "";
	unsigned long nsid = 0;
	bool as_json = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "n:jh", longs, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'n':
			nsid = strtoul(optarg, &end, 0);
			if (*end || !nsid || nsid > 0xfffffffeul) {
				fprintf(stderr, "pollen-nvme-identify: -n wants a namespace ID, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc && strlen(argv[optind]) >= sizeof(addr)) {
		fprintf(stderr, "pollen-nvme-identify: '%s' is not a PCI address (DDDD:BB:DD.F)\n",
			argv[optind]);
		return 2;
	}
	if (optind < argc)
		snprintf(addr, sizeof(addr), "%s", argv[optind]);	/* checked when opened */
	else if (pl_pci_scan(first_nvme, addr) != 1) {
		fprintf(stderr, "pollen-nvme-identify: no NVMe controller is bound to vfio-pci "
			"(pollen-devbind --status; pollen-devbind --bind vfio-pci BDF)\n");
		return 1;
	}

	struct pl_iommu *ctx = pl_iommu_open(PL_IOMMU_AUTO);
	if (!ctx)
		return 1;
	/* Many queue pairs asked for, so the answer says how many the controller grants. */
	struct pl_nvme_ctrl *c = pl_nvme_open(ctx, addr,
					      &(struct pl_nvme_opts){ .io_queues = ASK_QUEUES });
	if (!c) {
		pl_iommu_close(ctx);
		return 1;
	}
	int ret = 0;
	if (nsid && !pl_nvme_ns(c, (uint32_t)nsid)) {
		fprintf(stderr, "pollen-nvme-identify: namespace %lu is not active on %s\n", nsid,
			pl_nvme_addr(c));
		ret = 1;
	} else if (as_json) {
		struct json j = { .f = stdout };

		json_object(&j, NULL);
		json_ctrl(&j, c);
		json_array(&j, "namespaces");
		for (unsigned i = 0; i < pl_nvme_ns_count(c); i++)
			if (!nsid || pl_nvme_ns_at(c, i)->nsid == nsid)
				json_ns(&j, pl_nvme_ns_at(c, i));
		json_end_array(&j);
		json_end_object(&j);
	} else {
		print_ctrl(c);
		for (unsigned i = 0; i < pl_nvme_ns_count(c); i++)
			if (!nsid || pl_nvme_ns_at(c, i)->nsid == nsid)
				print_ns(pl_nvme_ns_at(c, i));
	}
	pl_nvme_close(c);
	pl_iommu_close(ctx);
	return ret;
}
