/* Completion statuses by name (NVMe 1.4, 4.6.1.2), and a failed command in one line. */
#include "nvme_priv.h"

#include <stdio.h>

struct status_name {
	uint16_t status;	/* SCT << 8 | SC */
	const char *name;
};

#define G(sc, n) { NVME_SCT_SC(NVME_SCT_GENERIC, sc), n }
#define C(sc, n) { NVME_SCT_SC(NVME_SCT_CMD_SPECIFIC, sc), n }
#define M(sc, n) { NVME_SCT_SC(NVME_SCT_MEDIA, sc), n }
#define P(sc, n) { NVME_SCT_SC(NVME_SCT_PATH, sc), n }

static const struct status_name names[] = {
	G(NVME_SC_SUCCESS, "Successful Completion"),
	G(NVME_SC_INVALID_OPCODE, "Invalid Command Opcode"),
	G(NVME_SC_INVALID_FIELD, "Invalid Field in Command"),
	G(NVME_SC_CMDID_CONFLICT, "Command ID Conflict"),
	G(NVME_SC_DATA_XFER_ERROR, "Data Transfer Error"),
	G(NVME_SC_POWER_LOSS, "Commands Aborted due to Power Loss Notification"),
	G(NVME_SC_INTERNAL, "Internal Error"),
	G(NVME_SC_ABORT_REQ, "Command Abort Requested"),
	G(NVME_SC_ABORT_SQ_DEL, "Command Aborted due to SQ Deletion"),
	G(NVME_SC_ABORT_FUSE_FAIL, "Command Aborted due to Failed Fused Command"),
	G(NVME_SC_ABORT_FUSE_MISSING, "Command Aborted due to Missing Fused Command"),
	G(NVME_SC_INVALID_NS, "Invalid Namespace or Format"),
	G(NVME_SC_CMD_SEQ_ERROR, "Command Sequence Error"),
	G(NVME_SC_SGL_INVALID_LAST, "Invalid SGL Segment Descriptor"),
	G(NVME_SC_SGL_INVALID_COUNT, "Invalid Number of SGL Descriptors"),
	G(NVME_SC_SGL_INVALID_DATA_LEN, "Data SGL Length Invalid"),
	G(NVME_SC_SGL_INVALID_META_LEN, "Metadata SGL Length Invalid"),
	G(NVME_SC_SGL_INVALID_TYPE, "SGL Descriptor Type Invalid"),
	G(NVME_SC_CMB_INVALID_USE, "Invalid Use of Controller Memory Buffer"),
	G(NVME_SC_PRP_INVALID_OFFSET, "PRP Offset Invalid"),
	G(NVME_SC_ATOMIC_WU_EXCEEDED, "Atomic Write Unit Exceeded"),
	G(NVME_SC_OP_DENIED, "Operation Denied"),
	G(NVME_SC_SGL_INVALID_OFFSET, "SGL Offset Invalid"),
	G(NVME_SC_HOST_ID_INCONSISTENT, "Host Identifier Inconsistent Format"),
	G(NVME_SC_KA_EXPIRED, "Keep Alive Timer Expired"),
	G(NVME_SC_KA_INVALID, "Keep Alive Timeout Invalid"),
	G(NVME_SC_ABORT_PREEMPT, "Command Aborted due to Preempt and Abort"),
	G(NVME_SC_SANITIZE_FAILED, "Sanitize Failed"),
	G(NVME_SC_SANITIZE_IN_PROGRESS, "Sanitize In Progress"),
	G(NVME_SC_SGL_INVALID_GRANULARITY, "SGL Data Block Granularity Invalid"),
	G(NVME_SC_CMD_NOT_SUP_CMB_QUEUE, "Command Not Supported for Queue in CMB"),
	G(NVME_SC_NS_WRITE_PROTECTED, "Namespace is Write Protected"),
	G(NVME_SC_CMD_INTERRUPTED, "Command Interrupted"),
	G(NVME_SC_TRANSIENT_TRANSPORT, "Transient Transport Error"),
	G(NVME_SC_LBA_RANGE, "LBA Out of Range"),
	G(NVME_SC_CAP_EXCEEDED, "Capacity Exceeded"),
	G(NVME_SC_NS_NOT_READY, "Namespace Not Ready"),
	G(NVME_SC_RESERVATION_CONFLICT, "Reservation Conflict"),
	G(NVME_SC_FORMAT_IN_PROGRESS, "Format In Progress"),

	C(NVME_SC_CQ_INVALID, "Completion Queue Invalid"),
	C(NVME_SC_QID_INVALID, "Invalid Queue Identifier"),
	C(NVME_SC_QUEUE_SIZE, "Invalid Queue Size"),
	C(NVME_SC_ABORT_LIMIT, "Abort Command Limit Exceeded"),
	C(NVME_SC_AER_LIMIT, "Asynchronous Event Request Limit Exceeded"),
	C(NVME_SC_FW_SLOT_INVALID, "Invalid Firmware Slot"),
	C(NVME_SC_FW_IMAGE_INVALID, "Invalid Firmware Image"),
	C(NVME_SC_INVALID_VECTOR, "Invalid Interrupt Vector"),
	C(NVME_SC_INVALID_LOG_PAGE, "Invalid Log Page"),
	C(NVME_SC_INVALID_FORMAT, "Invalid Format"),
	C(NVME_SC_FW_NEEDS_CONV_RESET, "Firmware Activation Requires Conventional Reset"),
	C(NVME_SC_INVALID_QUEUE_DELETION, "Invalid Queue Deletion"),
	C(NVME_SC_FEAT_NOT_SAVEABLE, "Feature Identifier Not Saveable"),
	C(NVME_SC_FEAT_NOT_CHANGEABLE, "Feature Not Changeable"),
	C(NVME_SC_FEAT_NOT_PER_NS, "Feature Not Namespace Specific"),
	C(NVME_SC_FW_NEEDS_SUBSYS_RESET, "Firmware Activation Requires NVM Subsystem Reset"),
	C(NVME_SC_FW_NEEDS_RESET, "Firmware Activation Requires Controller Level Reset"),
	C(NVME_SC_FW_NEEDS_MAX_TIME, "Firmware Activation Requires Maximum Time Violation"),
	C(NVME_SC_FW_ACTIVATION_PROHIBITED, "Firmware Activation Prohibited"),
	C(NVME_SC_OVERLAPPING_RANGE, "Overlapping Range"),
	C(NVME_SC_NS_INSUFFICIENT_CAP, "Namespace Insufficient Capacity"),
	C(NVME_SC_NSID_UNAVAILABLE, "Namespace Identifier Unavailable"),
	C(NVME_SC_NS_ALREADY_ATTACHED, "Namespace Already Attached"),
	C(NVME_SC_NS_IS_PRIVATE, "Namespace Is Private"),
	C(NVME_SC_NS_NOT_ATTACHED, "Namespace Not Attached"),
	C(NVME_SC_THIN_PROV_NOT_SUP, "Thin Provisioning Not Supported"),
	C(NVME_SC_CTRL_LIST_INVALID, "Controller List Invalid"),
	C(NVME_SC_SELF_TEST_IN_PROGRESS, "Device Self-test In Progress"),
	C(NVME_SC_BP_WRITE_PROHIBITED, "Boot Partition Write Prohibited"),
	C(NVME_SC_CTRL_ID_INVALID, "Invalid Controller Identifier"),
	C(NVME_SC_SEC_CTRL_STATE_INVALID, "Invalid Secondary Controller State"),
	C(NVME_SC_CTRL_RES_NUM_INVALID, "Invalid Number of Controller Resources"),
	C(NVME_SC_RES_ID_INVALID, "Invalid Resource Identifier"),
	C(NVME_SC_SANITIZE_PROHIBITED_PMR, "Sanitize Prohibited While Persistent Memory Region is Enabled"),
	C(NVME_SC_ANA_GROUP_ID_INVALID, "ANA Group Identifier Invalid"),
	C(NVME_SC_ANA_ATTACH_FAILED, "ANA Attach Failed"),
	C(NVME_SC_CONFLICTING_ATTRS, "Conflicting Attributes"),
	C(NVME_SC_INVALID_PI, "Invalid Protection Information"),
	C(NVME_SC_WRITE_TO_RO, "Attempted Write to Read Only Range"),

	M(NVME_SC_WRITE_FAULT, "Write Fault"),
	M(NVME_SC_UNRECOVERED_READ, "Unrecovered Read Error"),
	M(NVME_SC_GUARD_CHECK, "End-to-end Guard Check Error"),
	M(NVME_SC_APPTAG_CHECK, "End-to-end Application Tag Check Error"),
	M(NVME_SC_REFTAG_CHECK, "End-to-end Reference Tag Check Error"),
	M(NVME_SC_COMPARE_FAILED, "Compare Failure"),
	M(NVME_SC_ACCESS_DENIED, "Access Denied"),
	M(NVME_SC_DEALLOC_OR_UNWRITTEN, "Deallocated or Unwritten Logical Block"),

	P(NVME_SC_INTERNAL_PATH_ERROR, "Internal Path Error"),
	P(NVME_SC_ANA_PERSISTENT_LOSS, "Asymmetric Access Persistent Loss"),
	P(NVME_SC_ANA_INACCESSIBLE, "Asymmetric Access Inaccessible"),
	P(NVME_SC_ANA_TRANSITION, "Asymmetric Access Transition"),
	P(NVME_SC_CTRL_PATH_ERROR, "Controller Pathing Error"),
	P(NVME_SC_HOST_PATH_ERROR, "Host Pathing Error"),
	P(NVME_SC_HOST_ABORTED_CMD, "Command Aborted By Host"),

	{ PL_NVME_SC_TIMEOUT, "Command Timed Out" },
	{ PL_NVME_SC_RESET, "Aborted by Controller Reset" },
	{ PL_NVME_SC_FAILED, "Controller Failed" },
};

const char *pl_nvme_status_name(uint16_t status)
{
	/* Not the data path: a scan of a hundred entries is fine. */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].status == status)
			return names[i].name;
	if (status >> 8 == NVME_SCT_VENDOR || (status & 0xff) >= 0xc0)
		return "Vendor Specific";
	return "Reserved Status";
}

const char *pl_nvme_opcode_name(uint8_t opcode)
{
	switch (opcode) {
	case NVME_NVM_FLUSH: return "Flush";
	case NVME_NVM_WRITE: return "Write";
	case NVME_NVM_READ: return "Read";
	case NVME_NVM_WRITE_ZEROES: return "Write Zeroes";
	case NVME_NVM_DSM: return "Dataset Management";
	default: return NULL;
	}
}

int pl_nvme_cpl_describe(const struct pl_nvme_cpl *cpl, char *buf, size_t len)
{
	const char *op = pl_nvme_opcode_name(cpl->opcode);
	char opbuf[24], where[96] = "";

	if (!op) {
		snprintf(opbuf, sizeof(opbuf), "opcode 0x%02x", cpl->opcode);
		op = opbuf;
	}
	if (cpl->blocks)
		snprintf(where, sizeof(where), " of %u block%s at LBA %llu", cpl->blocks,
			 cpl->blocks == 1 ? "" : "s", (unsigned long long)cpl->lba);
	if (cpl->status > 0x7ff)
		return snprintf(buf, len, "%s%s on namespace %u: %s", op, where, cpl->nsid,
				pl_nvme_status_name(cpl->status));
	return snprintf(buf, len, "%s%s on namespace %u: %s (SCT %xh SC %02xh%s)", op, where,
			cpl->nsid, pl_nvme_status_name(cpl->status), cpl->status >> 8,
			cpl->status & 0xff, cpl->dnr ? ", do not retry" : "");
}
