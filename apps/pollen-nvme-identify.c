/* pollen-nvme-identify: an NVMe controller and its namespaces, as Identify describes them. */
#include <pollen/iommu.h>
#include <pollen/log.h>
#include <pollen/nvme.h>
#include <pollen/pci.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identify_args.h"
#include "json.h"

/* Queue pairs asked for: the answer says how many the controller grants, up to this. */
#define ASK_QUEUES 256

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
	/* What the driver takes: MDTS, a device's word, is bounded there (any value works). */
	printf("  %-28s %s per command (MDTS %u%s)\n", "Max data transfer",
	       human((double)pl_nvme_max_transfer(c), h, sizeof(h)), id->mdts,
	       id->mdts ? "" : ": no limit of its own");
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

/* An LBA format's block size; 0 for an unused one or an LBADS outside 9 to 16. */
static unsigned lbaf_bytes(const struct nvme_lbaf *f)
{
	return f->lbads >= 9 && f->lbads <= 16 ? 1u << f->lbads : 0;
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
	       ns->usable ? "" : ns->block_size ? " (formatted with metadata)" :
	       " (block size outside 512 bytes to 64 KiB)");
	printf("  %-28s %u\n", "LBA formats", id->nlbaf + 1u);
	for (unsigned f = 0; f <= id->nlbaf && f < 16; f++)
		printf("    #%-2u %5u bytes + %2u metadata, relative performance %u%s%s\n", f,
		       lbaf_bytes(&id->lbaf[f]), id->lbaf[f].ms, id->lbaf[f].rp & 3,
		       f == ns->lbaf ? "  (in use)" : "",
		       id->lbaf[f].lbads && !lbaf_bytes(&id->lbaf[f]) ? "  (LBADS out of range)" : "");
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
		json_u64(j, "data_size", lbaf_bytes(&ns->id->lbaf[f]));
		json_u64(j, "metadata_size", ns->id->lbaf[f].ms);
		json_u64(j, "relative_performance", ns->id->lbaf[f].rp & 3);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

/* The first NVMe controller bound to vfio-pci. */
/* ---- log pages ---- */

#define MAX_ERRORS 64	/* entries read at most: 4 KiB */

struct logs {
	struct nvme_smart_log smart;
	struct nvme_error_log_entry errors[MAX_ERRORS];
	unsigned nerrors;	/* entries read */
	struct nvme_fw_slot_log fw;
};

static int read_logs(struct pl_nvme_ctrl *c, unsigned which, struct logs *l)
{
	if ((which & LOG_SMART) &&
	    pl_nvme_get_log(c, NVME_LOG_SMART, NVME_NSID_ALL, &l->smart, sizeof(l->smart), false))
		return -1;
	if (which & LOG_ERROR) {
		l->nerrors = pl_nvme_id_ctrl(c)->elpe + 1u;
		if (l->nerrors > MAX_ERRORS)
			l->nerrors = MAX_ERRORS;
		if (pl_nvme_get_log(c, NVME_LOG_ERROR, NVME_NSID_ALL, l->errors,
				    l->nerrors * sizeof(l->errors[0]), false))
			return -1;
	}
	if ((which & LOG_FW) &&
	    pl_nvme_get_log(c, NVME_LOG_FW_SLOT, NVME_NSID_ALL, &l->fw, sizeof(l->fw), false))
		return -1;
	return 0;
}

static const struct bit_name crit_warn[] = {
	{ NVME_SMART_CRIT_SPARE, "spare below threshold" },
	{ NVME_SMART_CRIT_TEMPERATURE, "temperature" },
	{ NVME_SMART_CRIT_RELIABILITY, "reliability degraded" },
	{ NVME_SMART_CRIT_READ_ONLY, "read only" },
	{ NVME_SMART_CRIT_VOLATILE_BACKUP, "volatile memory backup failed" },
	{ NVME_SMART_CRIT_PMR_READ_ONLY, "PMR read only" },
	{ 0, NULL },
};

static unsigned temp_k(const struct nvme_smart_log *s)
{
	return s->temperature[0] | (unsigned)s->temperature[1] << 8;
}

static void print_smart(const struct nvme_smart_log *s)
{
	char h[32];

	printf("SMART / Health Information\n");
	printf("critical_warning        : 0x%02x", s->critical_warning);
	for (const struct bit_name *b = crit_warn; b->name; b++)
		if (s->critical_warning & b->bit)
			printf(" [%s]", b->name);
	printf("\n");
	printf("temperature             : %u K (%d C)\n", temp_k(s), (int)temp_k(s) - 273);
	printf("available_spare         : %u%%\n", s->avail_spare);
	printf("available_spare_threshold: %u%%\n", s->spare_thresh);
	printf("percentage_used         : %u%%\n", s->percent_used);
	printf("data_units_read         : %.0f (%s)\n", u128(s->data_units_read),
	       human(u128(s->data_units_read) * 512000, h, sizeof(h)));
	printf("data_units_written      : %.0f (%s)\n", u128(s->data_units_written),
	       human(u128(s->data_units_written) * 512000, h, sizeof(h)));
	printf("host_read_commands      : %.0f\n", u128(s->host_reads));
	printf("host_write_commands     : %.0f\n", u128(s->host_writes));
	printf("controller_busy_time    : %.0f min\n", u128(s->ctrl_busy_time));
	printf("power_cycles            : %.0f\n", u128(s->power_cycles));
	printf("power_on_hours          : %.0f\n", u128(s->power_on_hours));
	printf("unsafe_shutdowns        : %.0f\n", u128(s->unsafe_shutdowns));
	printf("media_errors            : %.0f\n", u128(s->media_errors));
	printf("num_err_log_entries     : %.0f\n", u128(s->num_err_log_entries));
}

static void print_errors(const struct logs *l)
{
	unsigned used = 0;

	printf("Error Information (%u entries)\n", l->nerrors);
	for (unsigned i = 0; i < l->nerrors; i++) {
		const struct nvme_error_log_entry *e = &l->errors[i];
		uint16_t st = NVME_CQE_SCT_SC(e->status_field);

		if (!e->error_count)
			continue;
		used++;
		printf("entry %-3u error_count %llu sqid %u cmdid %u status 0x%03x (%s) lba %llu "
		       "nsid %u\n", i, (unsigned long long)e->error_count, e->sqid, e->cmdid, st,
		       pl_nvme_status_name(st), (unsigned long long)e->lba, e->nsid);
	}
	if (!used)
		printf("no entries in use\n");
}

static void print_fw(const struct nvme_fw_slot_log *f)
{
	char rev[9];

	printf("Firmware Slot Information\n");
	printf("active slot             : %u\n", NVME_FW_AFI_ACTIVE(f->afi));
	if (NVME_FW_AFI_NEXT(f->afi))
		printf("slot at next reset      : %u\n", NVME_FW_AFI_NEXT(f->afi));
	for (int i = 0; i < 7; i++)
		if (f->frs[i][0])
			printf("slot %d                  : %s\n", i + 1,
			       field(f->frs[i], sizeof(f->frs[i]), rev));
}

static void json_logs(struct json *j, unsigned which, const struct logs *l)
{
	char rev[9];

	if (which & LOG_SMART) {
		const struct nvme_smart_log *s = &l->smart;

		json_object(j, "smart");
		json_u64(j, "critical_warning", s->critical_warning);
		json_u64(j, "temperature_kelvin", temp_k(s));
		json_u64(j, "available_spare", s->avail_spare);
		json_u64(j, "available_spare_threshold", s->spare_thresh);
		json_u64(j, "percentage_used", s->percent_used);
		json_num(j, "data_units_read", u128(s->data_units_read));
		json_num(j, "data_units_written", u128(s->data_units_written));
		json_num(j, "host_read_commands", u128(s->host_reads));
		json_num(j, "host_write_commands", u128(s->host_writes));
		json_num(j, "controller_busy_time", u128(s->ctrl_busy_time));
		json_num(j, "power_cycles", u128(s->power_cycles));
		json_num(j, "power_on_hours", u128(s->power_on_hours));
		json_num(j, "unsafe_shutdowns", u128(s->unsafe_shutdowns));
		json_num(j, "media_errors", u128(s->media_errors));
		json_num(j, "num_err_log_entries", u128(s->num_err_log_entries));
		json_end_object(j);
	}
	if (which & LOG_ERROR) {
		json_array(j, "error_log");
		for (unsigned i = 0; i < l->nerrors; i++) {
			const struct nvme_error_log_entry *e = &l->errors[i];
			uint16_t st = NVME_CQE_SCT_SC(e->status_field);

			if (!e->error_count)
				continue;
			json_object(j, NULL);
			json_u64(j, "error_count", e->error_count);
			json_u64(j, "sqid", e->sqid);
			json_u64(j, "cmdid", e->cmdid);
			json_u64(j, "status", st);
			json_str(j, "status_name", pl_nvme_status_name(st), 80);
			json_u64(j, "lba", e->lba);
			json_u64(j, "nsid", e->nsid);
			json_end_object(j);
		}
		json_end_array(j);
	}
	if (which & LOG_FW) {
		json_object(j, "firmware_slots");
		json_u64(j, "active", NVME_FW_AFI_ACTIVE(l->fw.afi));
		json_u64(j, "next", NVME_FW_AFI_NEXT(l->fw.afi));
		json_array(j, "revisions");
		for (int i = 0; i < 7; i++)
			if (l->fw.frs[i][0]) {
				json_object(j, NULL);
				json_u64(j, "slot", (uint64_t)i + 1);
				json_str(j, "revision", field(l->fw.frs[i], 8, rev), sizeof(rev));
				json_end_object(j);
			}
		json_end_array(j);
		json_end_object(j);
	}
}

static int first_nvme(const struct pl_pci_info *info, void *arg)
{
	if (!pl_pci_is_nvme(info) || strcmp(info->driver, "vfio-pci"))
		return 0;
	snprintf(arg, PL_PCI_ADDR_LEN, "%s", info->addr);
	return 1;
}

int main(int argc, char **argv)
{
	struct identify_cfg cfg = { 0 };

	switch (identify_parse(&cfg, argc, argv)) {
	case OPTS_HELP:
		identify_usage(stdout);
		return 0;
	case OPTS_BAD:
		return 2;
	case OPTS_VERSION:
		return 0;
	}
	char *addr = cfg.addr;
	unsigned long nsid = cfg.nsid;
	bool as_json = cfg.json;
	unsigned logs = identify_logs(&cfg);

	if (!addr[0] && pl_pci_scan(first_nvme, addr) != 1) {
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
	static struct logs l;
	if (logs && read_logs(c, logs, &l)) {
		ret = 1;	/* the failing page was named on stderr */
	} else if (logs && as_json) {
		struct json j = { .f = stdout };

		json_object(&j, NULL);
		json_str(&j, "address", pl_nvme_addr(c), 64);
		json_logs(&j, logs, &l);
		json_end_object(&j);
	} else if (logs) {
		if (logs & LOG_SMART)
			print_smart(&l.smart);
		if (logs & LOG_ERROR)
			print_errors(&l);
		if (logs & LOG_FW)
			print_fw(&l.fw);
	} else if (nsid && !pl_nvme_ns(c, (uint32_t)nsid)) {
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
