/* NVMe hardware definitions (NVMe 1.4 base specification): registers, queue entries, data. */
#ifndef POLLEN_NVME_HW_H
#define POLLEN_NVME_HW_H

/*
 * Layouts only: no functions, no state. Section numbers are those of NVM Express Base
 * Specification 1.4. Every field is little-endian on the wire; the structs use plain
 * integers because Pollen runs on little-endian hosts only (checked below). Reserved
 * fields are spelt out so that natural alignment gives the specification's offsets: no
 * struct here is packed, and each one's size is asserted at its definition.
 */
#include <stddef.h>
#include <stdint.h>

#include <pollen/compiler.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nvme_hw.h: NVMe structures are little-endian and are used here without byte swaps"
#endif

PL_BEGIN_DECLS

/* ---- Controller registers (3.1): offsets into BAR0 ---- */

enum nvme_reg {
	NVME_REG_CAP	= 0x0000,	/* Controller Capabilities, 64 bits */
	NVME_REG_VS	= 0x0008,	/* Version */
	NVME_REG_INTMS	= 0x000c,	/* Interrupt Mask Set (not with MSI-X) */
	NVME_REG_INTMC	= 0x0010,	/* Interrupt Mask Clear (not with MSI-X) */
	NVME_REG_CC	= 0x0014,	/* Controller Configuration */
	NVME_REG_CSTS	= 0x001c,	/* Controller Status */
	NVME_REG_NSSR	= 0x0020,	/* NVM Subsystem Reset (optional, CAP.NSSRS) */
	NVME_REG_AQA	= 0x0024,	/* Admin Queue Attributes */
	NVME_REG_ASQ	= 0x0028,	/* Admin SQ Base Address, 64 bits */
	NVME_REG_ACQ	= 0x0030,	/* Admin CQ Base Address, 64 bits */
	NVME_REG_CMBLOC	= 0x0038,	/* Controller Memory Buffer Location */
	NVME_REG_CMBSZ	= 0x003c,	/* Controller Memory Buffer Size */
	NVME_REG_BPINFO	= 0x0040,	/* Boot Partition Information */
	NVME_REG_BPRSEL	= 0x0044,	/* Boot Partition Read Select */
	NVME_REG_BPMBL	= 0x0048,	/* Boot Partition Memory Buffer Location, 64 bits */
	NVME_REG_CMBMSC	= 0x0050,	/* CMB Memory Space Control, 64 bits */
	NVME_REG_CMBSTS	= 0x0058,	/* CMB Status */
	NVME_REG_PMRCAP	= 0x0e00,	/* Persistent Memory Region Capabilities */
	NVME_REG_PMRCTL	= 0x0e04,	/* PMR Control */
	NVME_REG_PMRSTS	= 0x0e08,	/* PMR Status */
	NVME_REG_PMREBS	= 0x0e0c,	/* PMR Elasticity Buffer Size */
	NVME_REG_PMRSWTP = 0x0e10,	/* PMR Sustained Write Throughput */
	NVME_REG_PMRMSC	= 0x0e14,	/* PMR Controller Memory Space Control, 64 bits */
	NVME_REG_DBS	= 0x1000,	/* the doorbells start here: SQ 0 tail */
};

/*
 * Doorbells (3.1.24, 3.1.25): an SQ tail and a CQ head per queue pair, 4 << CAP.DSTRD
 * bytes apart. @qid 0 is the admin pair.
 */
#define NVME_SQ_TDBL(qid, dstrd)	(NVME_REG_DBS + (2u * (qid)) * (4u << (dstrd)))
#define NVME_CQ_HDBL(qid, dstrd)	(NVME_REG_DBS + (2u * (qid) + 1u) * (4u << (dstrd)))

/* CAP (3.1.1), read as one 64-bit value. */
#define NVME_CAP_MQES(cap)	((uint32_t)((cap) & 0xffff))		/* 0's based */
#define NVME_CAP_CQR(cap)	((uint32_t)((cap) >> 16) & 0x1)	/* queues must be contiguous */
#define NVME_CAP_AMS(cap)	((uint32_t)((cap) >> 17) & 0x3)
#define NVME_CAP_TO(cap)	((uint32_t)((cap) >> 24) & 0xff)	/* 500 ms units */
#define NVME_CAP_DSTRD(cap)	((uint32_t)((cap) >> 32) & 0xf)	/* stride 4 << DSTRD */
#define NVME_CAP_NSSRS(cap)	((uint32_t)((cap) >> 36) & 0x1)
#define NVME_CAP_CSS(cap)	((uint32_t)((cap) >> 37) & 0xff)
#define NVME_CAP_BPS(cap)	((uint32_t)((cap) >> 45) & 0x1)
#define NVME_CAP_MPSMIN(cap)	((uint32_t)((cap) >> 48) & 0xf)	/* page 2^(12 + MPSMIN) */
#define NVME_CAP_MPSMAX(cap)	((uint32_t)((cap) >> 52) & 0xf)
#define NVME_CAP_PMRS(cap)	((uint32_t)((cap) >> 56) & 0x1)
#define NVME_CAP_CMBS(cap)	((uint32_t)((cap) >> 57) & 0x1)

/* Bits of NVME_CAP_AMS(): arbitration beyond round robin, which every controller has. */
#define NVME_CAP_AMS_WRRU	(1u << 0)	/* weighted round robin with urgent class */
#define NVME_CAP_AMS_VS		(1u << 1)	/* vendor specific */

/* Bits of NVME_CAP_CSS(). */
#define NVME_CAP_CSS_NVM	(1u << 0)	/* the NVM command set */
#define NVME_CAP_CSS_NOIO	(1u << 7)	/* no I/O command set: admin only */

/* VS (3.1.2): 1.4.0 reads 0x00010400. */
#define NVME_VS(major, minor, ter) \
	((uint32_t)(major) << 16 | (uint32_t)(minor) << 8 | (uint32_t)(ter))
#define NVME_VS_MAJOR(vs)	(((uint32_t)(vs) >> 16) & 0xffff)
#define NVME_VS_MINOR(vs)	(((uint32_t)(vs) >> 8) & 0xff)
#define NVME_VS_TER(vs)		((uint32_t)(vs) & 0xff)

/* INTMS, INTMC (3.1.3, 3.1.4): one bit per vector, write 1 to mask or unmask. */
#define NVME_INTMS_IVMS(vector)	(1u << (vector))
#define NVME_INTMC_IVMC(vector)	(1u << (vector))

/* CC (3.1.5). CSS, MPS and AMS may change only while EN is 0. */
#define NVME_CC_EN		(1u << 0)
#define NVME_CC_CSS(x)		((uint32_t)(x) << 4)
#define NVME_CC_CSS_MASK	NVME_CC_CSS(0x7)
#define NVME_CC_CSS_NVM		NVME_CC_CSS(0x0)
#define NVME_CC_CSS_ADMIN	NVME_CC_CSS(0x7)	/* with CAP.CSS bit 7: admin only */
#define NVME_CC_MPS(x)		((uint32_t)(x) << 7)	/* x = log2(page size) - 12 */
#define NVME_CC_MPS_MASK	NVME_CC_MPS(0xf)
#define NVME_CC_AMS_RR		(0u << 11)
#define NVME_CC_AMS_WRRU	(1u << 11)
#define NVME_CC_AMS_VS		(7u << 11)
#define NVME_CC_AMS_MASK	(7u << 11)
#define NVME_CC_SHN_NONE	(0u << 14)
#define NVME_CC_SHN_NORMAL	(1u << 14)
#define NVME_CC_SHN_ABRUPT	(2u << 14)
#define NVME_CC_SHN_MASK	(3u << 14)
#define NVME_CC_IOSQES(x)	((uint32_t)(x) << 16)	/* x = log2(SQ entry size) */
#define NVME_CC_IOSQES_MASK	NVME_CC_IOSQES(0xf)
#define NVME_CC_IOCQES(x)	((uint32_t)(x) << 20)	/* x = log2(CQ entry size) */
#define NVME_CC_IOCQES_MASK	NVME_CC_IOCQES(0xf)

/* The NVM command set's entry sizes, as CC.IOSQES and CC.IOCQES take them. */
#define NVME_SQES_LOG2		6
#define NVME_CQES_LOG2		4

/* CSTS (3.1.6). */
#define NVME_CSTS_RDY		(1u << 0)
#define NVME_CSTS_CFS		(1u << 1)	/* fatal: only a reset gets out of it */
#define NVME_CSTS_SHST_MASK	(3u << 2)
#define NVME_CSTS_SHST_NORMAL	(0u << 2)
#define NVME_CSTS_SHST_OCCURRING (1u << 2)
#define NVME_CSTS_SHST_COMPLETE	(2u << 2)
#define NVME_CSTS_NSSRO		(1u << 4)	/* a subsystem reset happened; write 1 to clear */
#define NVME_CSTS_PP		(1u << 5)	/* processing paused */

/* NSSR (3.1.7): writing "NVMe" resets the whole NVM subsystem. */
#define NVME_NSSR_NSSRC		0x4e564d65u

/* AQA (3.1.8) from 0's based entry counts (each at most 4095). */
#define NVME_AQA(asqs, acqs) \
	(((uint32_t)(acqs) & 0xfff) << 16 | ((uint32_t)(asqs) & 0xfff))
#define NVME_AQA_MAX_ENTRIES	4096

/* CMBLOC, CMBSZ (3.1.11, 3.1.12): where the controller memory buffer is and what it takes. */
#define NVME_CMBLOC_BIR(loc)	((uint32_t)(loc) & 0x7)
#define NVME_CMBLOC_OFST(loc)	(((uint32_t)(loc) >> 12) & 0xfffff)	/* in CMBSZ.SZU units */
#define NVME_CMBSZ_SQS		(1u << 0)
#define NVME_CMBSZ_CQS		(1u << 1)
#define NVME_CMBSZ_LISTS	(1u << 2)
#define NVME_CMBSZ_RDS		(1u << 3)
#define NVME_CMBSZ_WDS		(1u << 4)
#define NVME_CMBSZ_SZU(sz)	(((uint32_t)(sz) >> 8) & 0xf)	/* unit 4 KiB << (4 * SZU) */
#define NVME_CMBSZ_SZ(sz)	(((uint32_t)(sz) >> 12) & 0xfffff)
#define NVME_CMBMSC_CRE		(1u << 0)	/* capabilities registers enabled */
#define NVME_CMBMSC_CMSE	(1u << 1)	/* controller memory space enabled */
#define NVME_CMBSTS_CBAI	(1u << 0)	/* CMBMSC.CBA was invalid */

/* ---- Submission queue entry (4.2) ---- */

/* One SGL descriptor (4.4): the type byte holds the type in 7:4 and the sub type in 3:0. */
struct nvme_sgl_desc {
	uint64_t addr;
	uint32_t length;
	uint8_t rsvd12[3];
	uint8_t type;
};
PL_STATIC_ASSERT(sizeof(struct nvme_sgl_desc) == 16, "SGL descriptor");

enum nvme_sgl_type {
	NVME_SGL_TYPE_DATA_BLOCK	= 0x0 << 4,
	NVME_SGL_TYPE_BIT_BUCKET	= 0x1 << 4,
	NVME_SGL_TYPE_SEGMENT		= 0x2 << 4,
	NVME_SGL_TYPE_LAST_SEGMENT	= 0x3 << 4,
	NVME_SGL_TYPE_KEYED_DATA_BLOCK	= 0x4 << 4,	/* fabrics */
	NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK = 0x5 << 4,	/* fabrics */
	NVME_SGL_TYPE_MASK		= 0xf << 4,
};

enum nvme_sgl_subtype {
	NVME_SGL_SUBTYPE_ADDRESS	= 0x0,	/* addr is a memory address (on PCIe, always) */
	NVME_SGL_SUBTYPE_OFFSET		= 0x1,	/* addr is an offset into in-capsule data */
	NVME_SGL_SUBTYPE_MASK		= 0xf,
};

struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;		/* FUSE in 1:0, PSDT in 7:6 */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;		/* metadata pointer */
	union {			/* DPTR: PRP entries or one SGL descriptor, by PSDT */
		struct {
			uint64_t prp1;
			uint64_t prp2;
		};
		struct nvme_sgl_desc sgl;
	};
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
PL_STATIC_ASSERT(sizeof(struct nvme_sqe) == 64, "submission queue entry");
PL_STATIC_ASSERT(offsetof(struct nvme_sqe, mptr) == 16, "MPTR at byte 16");
PL_STATIC_ASSERT(offsetof(struct nvme_sqe, prp1) == 24, "DPTR at byte 24");
PL_STATIC_ASSERT(offsetof(struct nvme_sqe, sgl) == 24, "DPTR at byte 24");
PL_STATIC_ASSERT(offsetof(struct nvme_sqe, cdw10) == 40, "CDW10 at byte 40");

/* nvme_sqe.flags */
#define NVME_FUSE_MASK		(3u << 0)
#define NVME_FUSE_NONE		(0u << 0)
#define NVME_FUSE_FIRST		(1u << 0)
#define NVME_FUSE_SECOND	(2u << 0)
#define NVME_PSDT_MASK		(3u << 6)
#define NVME_PSDT_PRP		(0u << 6)
#define NVME_PSDT_SGL_MPTR_CONTIG (1u << 6)	/* SGLs; MPTR is one contiguous buffer */
#define NVME_PSDT_SGL_MPTR_SGL	(2u << 6)	/* SGLs; MPTR is one SGL segment */

/* ---- Completion queue entry (4.6) ---- */

struct nvme_cqe {
	uint32_t dw0;		/* command specific result */
	uint32_t dw1;
	uint16_t sqhd;		/* how far the controller has consumed that SQ */
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;	/* phase tag in bit 0, the status field (4.6.1) above it */
};
PL_STATIC_ASSERT(sizeof(struct nvme_cqe) == 16, "completion queue entry");

/* Pieces of nvme_cqe.status, phase tag included. */
#define NVME_CQE_PHASE(st)	((uint32_t)(st) & 0x1)
#define NVME_CQE_SC(st)		(((uint32_t)(st) >> 1) & 0xff)
#define NVME_CQE_SCT(st)	(((uint32_t)(st) >> 9) & 0x7)
#define NVME_CQE_CRD(st)	(((uint32_t)(st) >> 12) & 0x3)	/* 0 none, else CRDT1-3 */
#define NVME_CQE_MORE(st)	(((uint32_t)(st) >> 14) & 0x1)	/* the error log has more */
#define NVME_CQE_DNR(st)	(((uint32_t)(st) >> 15) & 0x1)	/* do not retry */
#define NVME_CQE_STATUS(st)	((uint32_t)(st) >> 1)		/* 15 bits; 0 is success */

/*
 * SCT and SC together, as NVME_CQE_SCT_SC() reads them from a completion: compare against
 * NVME_SCT_SC(NVME_SCT_CMD_SPECIFIC, NVME_SC_INVALID_QID) and the like.
 */
#define NVME_SCT_SC(sct, sc)	((uint32_t)(sct) << 8 | (uint32_t)(sc))
#define NVME_CQE_SCT_SC(st)	(((uint32_t)(st) >> 1) & 0x7ff)

/* ---- Opcodes ---- */

/* Admin command set (5). 0xc0 to 0xff are vendor specific. */
enum nvme_admin_opcode {
	NVME_ADMIN_DELETE_SQ		= 0x00,
	NVME_ADMIN_CREATE_SQ		= 0x01,
	NVME_ADMIN_GET_LOG_PAGE		= 0x02,
	NVME_ADMIN_DELETE_CQ		= 0x04,
	NVME_ADMIN_CREATE_CQ		= 0x05,
	NVME_ADMIN_IDENTIFY		= 0x06,
	NVME_ADMIN_ABORT		= 0x08,
	NVME_ADMIN_SET_FEATURES		= 0x09,
	NVME_ADMIN_GET_FEATURES		= 0x0a,
	NVME_ADMIN_ASYNC_EVENT_REQ	= 0x0c,
	NVME_ADMIN_NS_MGMT		= 0x0d,
	NVME_ADMIN_FW_COMMIT		= 0x10,
	NVME_ADMIN_FW_IMAGE_DOWNLOAD	= 0x11,
	NVME_ADMIN_DEVICE_SELF_TEST	= 0x14,
	NVME_ADMIN_NS_ATTACH		= 0x15,
	NVME_ADMIN_KEEP_ALIVE		= 0x18,
	NVME_ADMIN_DIRECTIVE_SEND	= 0x19,
	NVME_ADMIN_DIRECTIVE_RECV	= 0x1a,
	NVME_ADMIN_VIRT_MGMT		= 0x1c,
	NVME_ADMIN_NVME_MI_SEND		= 0x1d,
	NVME_ADMIN_NVME_MI_RECV		= 0x1e,
	/*
	 * Doorbell Buffer Config takes only two PRPs: PRP1 the shadow doorbell page, PRP2
	 * the EventIdx page, one memory page each. Emulated controllers use it to skip
	 * MMIO exits.
	 */
	NVME_ADMIN_DBBUF_CONFIG		= 0x7c,
	NVME_ADMIN_FORMAT_NVM		= 0x80,
	NVME_ADMIN_SECURITY_SEND	= 0x81,
	NVME_ADMIN_SECURITY_RECV	= 0x82,
	NVME_ADMIN_SANITIZE		= 0x84,
	NVME_ADMIN_GET_LBA_STATUS	= 0x86,
	NVME_ADMIN_VENDOR_FIRST		= 0xc0,
};

/* NVM command set (6). Bit 0 set: host to controller; bit 1 set: controller to host. */
enum nvme_nvm_opcode {
	NVME_NVM_FLUSH			= 0x00,
	NVME_NVM_WRITE			= 0x01,
	NVME_NVM_READ			= 0x02,
	NVME_NVM_WRITE_UNCOR		= 0x04,
	NVME_NVM_COMPARE		= 0x05,
	NVME_NVM_WRITE_ZEROES		= 0x08,
	NVME_NVM_DSM			= 0x09,
	NVME_NVM_VERIFY			= 0x0c,
	NVME_NVM_RESV_REGISTER		= 0x0d,
	NVME_NVM_RESV_REPORT		= 0x0e,
	NVME_NVM_RESV_ACQUIRE		= 0x11,
	NVME_NVM_RESV_RELEASE		= 0x15,
	NVME_NVM_VENDOR_FIRST		= 0x80,
};

/* Every namespace at once, where a command allows it. */
#define NVME_NSID_ALL		0xffffffffu

/*
 * Read, Write, Compare, Write Zeroes, Verify: CDW10-11 hold the SLBA, CDW12 the 0's based
 * NLB in 15:0 and these flags.
 */
#define NVME_RW_NLB(nlb0)	((uint32_t)(nlb0) & 0xffff)
#define NVME_RW_DEAC		(1u << 25)	/* Write Zeroes: deallocate too */
#define NVME_RW_PRINFO(x)	((uint32_t)(x) << 26)
#define NVME_RW_FUA		(1u << 30)	/* force unit access */
#define NVME_RW_LR		(1u << 31)	/* limited retry */

/* ---- Identify ---- */

/* CDW10: CNS in 7:0, CNTID in 31:16. The data is always 4 KiB. */
#define NVME_IDENTIFY_CDW10(cns, cntid)	((uint32_t)(cntid) << 16 | ((uint32_t)(cns) & 0xff))
#define NVME_IDENTIFY_DATA_SIZE	4096

enum nvme_identify_cns {
	NVME_CNS_NS			= 0x00,	/* struct nvme_id_ns for CDW1.NSID */
	NVME_CNS_CTRL			= 0x01,	/* struct nvme_id_ctrl */
	NVME_CNS_NS_ACTIVE_LIST		= 0x02,	/* 1024 active NSIDs above CDW1.NSID */
	NVME_CNS_NS_DESC_LIST		= 0x03,	/* namespace identification descriptors */
	NVME_CNS_NVMSET_LIST		= 0x04,
	NVME_CNS_NS_ALLOC_LIST		= 0x10,	/* allocated, attached or not */
	NVME_CNS_NS_ALLOC		= 0x11,
	NVME_CNS_NS_CTRL_LIST		= 0x12,	/* controllers attached to CDW1.NSID */
	NVME_CNS_CTRL_LIST		= 0x13,	/* controllers in the NVM subsystem */
	NVME_CNS_PRIMARY_CTRL_CAP	= 0x14,
	NVME_CNS_SECONDARY_CTRL_LIST	= 0x15,
	NVME_CNS_NS_GRANULARITY		= 0x16,
	NVME_CNS_UUID_LIST		= 0x17,
};

/* Namespace identification descriptor types (CNS 0x03): a 4-byte header, then NIDL bytes. */
enum nvme_nidt {
	NVME_NIDT_EUI64			= 0x01,	/* 8 bytes */
	NVME_NIDT_NGUID			= 0x02,	/* 16 bytes */
	NVME_NIDT_UUID			= 0x03,	/* 16 bytes */
};

/* ---- Queue management ---- */

/* Create and Delete I/O CQ/SQ CDW10: QID in 15:0, 0's based QSIZE in 31:16. */
#define NVME_QUEUE_CDW10(qid, qsize0) \
	((uint32_t)(qsize0) << 16 | ((uint32_t)(qid) & 0xffff))

/* Abort (5.1): CDW10 names the command, SQID in 15:0 and CID in 31:16. Completion dword 0
 * bit 0 is set when the command was not aborted. */
#define NVME_ABORT_CDW10(sqid, cid)	(((uint32_t)(sqid) & 0xffff) | (uint32_t)(cid) << 16)
#define NVME_ABORT_NOT_ABORTED(dw0)	((uint32_t)(dw0) & 0x1)

/* Create I/O CQ CDW11. */
#define NVME_CQ_PC		(1u << 0)	/* physically contiguous */
#define NVME_CQ_IEN		(1u << 1)	/* interrupts enabled */
#define NVME_CQ_IV(vector)	((uint32_t)(vector) << 16)

/* Create I/O SQ CDW11; the priority counts only under weighted round robin. */
#define NVME_SQ_PC		(1u << 0)
#define NVME_SQ_QPRIO_URGENT	(0u << 1)
#define NVME_SQ_QPRIO_HIGH	(1u << 1)
#define NVME_SQ_QPRIO_MEDIUM	(2u << 1)
#define NVME_SQ_QPRIO_LOW	(3u << 1)
#define NVME_SQ_CQID(cqid)	((uint32_t)(cqid) << 16)

/* ---- Features (Set Features, Get Features) ---- */

enum nvme_feature_id {
	NVME_FEAT_ARBITRATION		= 0x01,
	NVME_FEAT_POWER_MGMT		= 0x02,
	NVME_FEAT_LBA_RANGE_TYPE	= 0x03,
	NVME_FEAT_TEMP_THRESHOLD	= 0x04,
	NVME_FEAT_ERROR_RECOVERY	= 0x05,
	NVME_FEAT_VOLATILE_WC		= 0x06,
	NVME_FEAT_NUM_QUEUES		= 0x07,
	NVME_FEAT_IRQ_COALESCING	= 0x08,
	NVME_FEAT_IRQ_VECTOR_CONFIG	= 0x09,
	NVME_FEAT_WRITE_ATOMICITY	= 0x0a,
	NVME_FEAT_ASYNC_EVENT_CONFIG	= 0x0b,
	NVME_FEAT_APST			= 0x0c,	/* autonomous power state transition */
	NVME_FEAT_HOST_MEM_BUF		= 0x0d,
	NVME_FEAT_TIMESTAMP		= 0x0e,
	NVME_FEAT_KEEP_ALIVE_TIMER	= 0x0f,
	NVME_FEAT_HCTM			= 0x10,	/* host controlled thermal management */
	NVME_FEAT_NOPSC			= 0x11,	/* non-operational power state config */
	NVME_FEAT_READ_RECOVERY_LEVEL	= 0x12,
	NVME_FEAT_PLM_CONFIG		= 0x13,	/* predictable latency mode */
	NVME_FEAT_PLM_WINDOW		= 0x14,
	NVME_FEAT_LBA_STATUS_INTERVAL	= 0x15,
	NVME_FEAT_HOST_BEHAVIOR		= 0x16,
	NVME_FEAT_SANITIZE_CONFIG	= 0x17,
	NVME_FEAT_ENDURANCE_EVENT_CONFIG = 0x18,
	NVME_FEAT_SW_PROGRESS_MARKER	= 0x80,
	NVME_FEAT_HOST_ID		= 0x81,
	NVME_FEAT_RESV_NOTIFY_MASK	= 0x82,
	NVME_FEAT_RESV_PERSISTENCE	= 0x83,
	NVME_FEAT_NS_WRITE_PROTECT	= 0x84,
	NVME_FEAT_VENDOR_FIRST		= 0xc0,
};

/* CDW10: FID in 7:0; Set Features saves with SV, Get Features picks a value with SEL. */
#define NVME_FEAT_CDW10(fid)	((uint32_t)(fid) & 0xff)
#define NVME_FEAT_SV		(1u << 31)
#define NVME_FEAT_SEL_CURRENT	(0u << 8)
#define NVME_FEAT_SEL_DEFAULT	(1u << 8)
#define NVME_FEAT_SEL_SAVED	(2u << 8)
#define NVME_FEAT_SEL_SUPPORTED	(3u << 8)	/* the capabilities, in DW0 */

/*
 * Number of Queues: CDW11 asks for NSQR submission and NCQR completion queues, DW0
 * answers with NSQA and NCQA allocated. All four are 0's based (n queues is n - 1), the
 * admin pair not counted, and 0xffff may not be asked for.
 */
#define NVME_FEAT_NQ_CDW11(nsqr, ncqr) \
	(((uint32_t)(ncqr) & 0xffff) << 16 | ((uint32_t)(nsqr) & 0xffff))
#define NVME_FEAT_NQ_NSQA(dw0)	((uint32_t)(dw0) & 0xffff)
#define NVME_FEAT_NQ_NCQA(dw0)	(((uint32_t)(dw0) >> 16) & 0xffff)

/* Volatile Write Cache CDW11 (and DW0 of Get Features). */
#define NVME_FEAT_VWC_WCE	(1u << 0)

/* Asynchronous Event Configuration CDW11: SMART critical warnings in 7:0, then notices. */
#define NVME_AEC_SMART(warn)	((uint32_t)(warn) & 0xff)
#define NVME_AEC_NS_ATTR	(1u << 8)
#define NVME_AEC_FW_ACTIVATION	(1u << 9)
#define NVME_AEC_TELEMETRY	(1u << 10)
#define NVME_AEC_ANA_CHANGE	(1u << 11)

/* ---- Get Log Page ---- */

/*
 * CDW10: LID in 7:0, LSP in 11:8, RAE in 15, NUMDL in 31:16; CDW11: NUMDU in 15:0. NUMD
 * is the 0's based length in dwords, split across the two.
 */
#define NVME_LOG_CDW10(lid, numd0) \
	(((uint32_t)(numd0) & 0xffff) << 16 | ((uint32_t)(lid) & 0xff))
#define NVME_LOG_CDW11(numd0)	(((uint32_t)(numd0) >> 16) & 0xffff)
#define NVME_LOG_RAE		(1u << 15)	/* retain the asynchronous event */

enum nvme_log_id {
	NVME_LOG_ERROR			= 0x01,	/* struct nvme_error_log_entry[] */
	NVME_LOG_SMART			= 0x02,	/* struct nvme_smart_log */
	NVME_LOG_FW_SLOT		= 0x03,	/* struct nvme_fw_slot_log */
	NVME_LOG_CHANGED_NS		= 0x04,	/* up to 1024 NSIDs */
	NVME_LOG_CMD_EFFECTS		= 0x05,
	NVME_LOG_DEVICE_SELF_TEST	= 0x06,
	NVME_LOG_TELEMETRY_HOST		= 0x07,
	NVME_LOG_TELEMETRY_CTRL		= 0x08,
	NVME_LOG_ENDURANCE_GROUP	= 0x09,
	NVME_LOG_PLM_PER_NVMSET		= 0x0a,
	NVME_LOG_PLM_EVENT_AGG		= 0x0b,
	NVME_LOG_ANA			= 0x0c,
	NVME_LOG_PERSISTENT_EVENT	= 0x0d,
	NVME_LOG_LBA_STATUS		= 0x0e,
	NVME_LOG_ENDURANCE_EVENT_AGG	= 0x0f,
	NVME_LOG_DISCOVERY		= 0x70,	/* fabrics */
	NVME_LOG_RESV_NOTIFICATION	= 0x80,
	NVME_LOG_SANITIZE_STATUS	= 0x81,
	NVME_LOG_VENDOR_FIRST		= 0xc0,
};

#define NVME_CHANGED_NS_MAX	1024

/* ---- Dataset Management ---- */

/* CDW10: 0's based number of ranges in 7:0; CDW11: the attributes. */
#define NVME_DSM_NR(nr0)	((uint32_t)(nr0) & 0xff)
#define NVME_DSM_IDR		(1u << 0)	/* integral dataset for read */
#define NVME_DSM_IDW		(1u << 1)	/* integral dataset for write */
#define NVME_DSM_AD		(1u << 2)	/* deallocate: trim */
#define NVME_DSM_MAX_RANGES	256

struct nvme_dsm_range {
	uint32_t cattr;		/* context attributes */
	uint32_t nlb;		/* not 0's based */
	uint64_t slba;
};
PL_STATIC_ASSERT(sizeof(struct nvme_dsm_range) == 16, "DSM range");

/* ---- Asynchronous Event Request: DW0 of its completion ---- */

#define NVME_AER_TYPE(dw0)	((uint32_t)(dw0) & 0x7)
#define NVME_AER_INFO(dw0)	(((uint32_t)(dw0) >> 8) & 0xff)
#define NVME_AER_LID(dw0)	(((uint32_t)(dw0) >> 16) & 0xff)	/* read it to re-arm */

enum nvme_aer_type {
	NVME_AER_ERROR			= 0x0,
	NVME_AER_SMART			= 0x1,
	NVME_AER_NOTICE			= 0x2,
	NVME_AER_IO_CMD_SET		= 0x6,
	NVME_AER_VENDOR			= 0x7,
};

enum nvme_aer_error_info {
	NVME_AER_ERROR_INVALID_DB	= 0x00,	/* a write to a doorbell that does not exist */
	NVME_AER_ERROR_INVALID_DB_VALUE	= 0x01,
	NVME_AER_ERROR_DIAG_FAILURE	= 0x02,
	NVME_AER_ERROR_PERSISTENT	= 0x03,
	NVME_AER_ERROR_TRANSIENT	= 0x04,
	NVME_AER_ERROR_FW_IMAGE_LOAD	= 0x05,
};

enum nvme_aer_smart_info {
	NVME_AER_SMART_RELIABILITY	= 0x00,
	NVME_AER_SMART_TEMP_THRESHOLD	= 0x01,
	NVME_AER_SMART_SPARE_THRESHOLD	= 0x02,
};

enum nvme_aer_notice_info {
	NVME_AER_NOTICE_NS_ATTR		= 0x00,
	NVME_AER_NOTICE_FW_ACTIVATION	= 0x01,
	NVME_AER_NOTICE_TELEMETRY	= 0x02,
	NVME_AER_NOTICE_ANA_CHANGE	= 0x03,
	NVME_AER_NOTICE_PLM_EVENT	= 0x04,
	NVME_AER_NOTICE_LBA_STATUS	= 0x05,
	NVME_AER_NOTICE_ENDURANCE_EVENT	= 0x06,
};

enum nvme_aer_io_info {
	NVME_AER_IO_RESV_LOG		= 0x00,
	NVME_AER_IO_SANITIZE_DONE	= 0x01,
	NVME_AER_IO_SANITIZE_DEALLOC	= 0x02,	/* done, with unexpected deallocation */
};

/* ---- Status codes (4.6.1): numbers only, each within its SCT ---- */

enum nvme_sct {
	NVME_SCT_GENERIC		= 0x0,
	NVME_SCT_CMD_SPECIFIC		= 0x1,
	NVME_SCT_MEDIA			= 0x2,	/* media and data integrity errors */
	NVME_SCT_PATH			= 0x3,
	NVME_SCT_VENDOR			= 0x7,
};

enum nvme_sc_generic {
	NVME_SC_SUCCESS			= 0x00,
	NVME_SC_INVALID_OPCODE		= 0x01,
	NVME_SC_INVALID_FIELD		= 0x02,
	NVME_SC_CMDID_CONFLICT		= 0x03,
	NVME_SC_DATA_XFER_ERROR		= 0x04,	/* what an IOMMU fault on our buffer looks like */
	NVME_SC_POWER_LOSS		= 0x05,
	NVME_SC_INTERNAL		= 0x06,
	NVME_SC_ABORT_REQ		= 0x07,
	NVME_SC_ABORT_SQ_DEL		= 0x08,
	NVME_SC_ABORT_FUSE_FAIL		= 0x09,
	NVME_SC_ABORT_FUSE_MISSING	= 0x0a,
	NVME_SC_INVALID_NS		= 0x0b,
	NVME_SC_CMD_SEQ_ERROR		= 0x0c,
	NVME_SC_SGL_INVALID_LAST	= 0x0d,
	NVME_SC_SGL_INVALID_COUNT	= 0x0e,
	NVME_SC_SGL_INVALID_DATA_LEN	= 0x0f,
	NVME_SC_SGL_INVALID_META_LEN	= 0x10,
	NVME_SC_SGL_INVALID_TYPE	= 0x11,
	NVME_SC_CMB_INVALID_USE		= 0x12,
	NVME_SC_PRP_INVALID_OFFSET	= 0x13,
	NVME_SC_ATOMIC_WU_EXCEEDED	= 0x14,
	NVME_SC_OP_DENIED		= 0x15,
	NVME_SC_SGL_INVALID_OFFSET	= 0x16,
	NVME_SC_HOST_ID_INCONSISTENT	= 0x18,
	NVME_SC_KA_EXPIRED		= 0x19,
	NVME_SC_KA_INVALID		= 0x1a,
	NVME_SC_ABORT_PREEMPT		= 0x1b,
	NVME_SC_SANITIZE_FAILED		= 0x1c,
	NVME_SC_SANITIZE_IN_PROGRESS	= 0x1d,
	NVME_SC_SGL_INVALID_GRANULARITY	= 0x1e,
	NVME_SC_CMD_NOT_SUP_CMB_QUEUE	= 0x1f,
	NVME_SC_NS_WRITE_PROTECTED	= 0x20,
	NVME_SC_CMD_INTERRUPTED		= 0x21,
	NVME_SC_TRANSIENT_TRANSPORT	= 0x22,
	/* Generic, NVM command set. */
	NVME_SC_LBA_RANGE		= 0x80,
	NVME_SC_CAP_EXCEEDED		= 0x81,
	NVME_SC_NS_NOT_READY		= 0x82,
	NVME_SC_RESERVATION_CONFLICT	= 0x83,
	NVME_SC_FORMAT_IN_PROGRESS	= 0x84,
};

enum nvme_sc_cmd_specific {
	NVME_SC_CQ_INVALID		= 0x00,
	NVME_SC_QID_INVALID		= 0x01,
	NVME_SC_QUEUE_SIZE		= 0x02,
	NVME_SC_ABORT_LIMIT		= 0x03,
	NVME_SC_AER_LIMIT		= 0x05,
	NVME_SC_FW_SLOT_INVALID		= 0x06,
	NVME_SC_FW_IMAGE_INVALID	= 0x07,
	NVME_SC_INVALID_VECTOR		= 0x08,
	NVME_SC_INVALID_LOG_PAGE	= 0x09,
	NVME_SC_INVALID_FORMAT		= 0x0a,
	NVME_SC_FW_NEEDS_CONV_RESET	= 0x0b,
	NVME_SC_INVALID_QUEUE_DELETION	= 0x0c,	/* an SQ still points at that CQ */
	NVME_SC_FEAT_NOT_SAVEABLE	= 0x0d,
	NVME_SC_FEAT_NOT_CHANGEABLE	= 0x0e,
	NVME_SC_FEAT_NOT_PER_NS		= 0x0f,
	NVME_SC_FW_NEEDS_SUBSYS_RESET	= 0x10,
	NVME_SC_FW_NEEDS_RESET		= 0x11,
	NVME_SC_FW_NEEDS_MAX_TIME	= 0x12,
	NVME_SC_FW_ACTIVATION_PROHIBITED = 0x13,
	NVME_SC_OVERLAPPING_RANGE	= 0x14,
	NVME_SC_NS_INSUFFICIENT_CAP	= 0x15,
	NVME_SC_NSID_UNAVAILABLE	= 0x16,
	NVME_SC_NS_ALREADY_ATTACHED	= 0x18,
	NVME_SC_NS_IS_PRIVATE		= 0x19,
	NVME_SC_NS_NOT_ATTACHED		= 0x1a,
	NVME_SC_THIN_PROV_NOT_SUP	= 0x1b,
	NVME_SC_CTRL_LIST_INVALID	= 0x1c,
	NVME_SC_SELF_TEST_IN_PROGRESS	= 0x1d,
	NVME_SC_BP_WRITE_PROHIBITED	= 0x1e,
	NVME_SC_CTRL_ID_INVALID		= 0x1f,
	NVME_SC_SEC_CTRL_STATE_INVALID	= 0x20,
	NVME_SC_CTRL_RES_NUM_INVALID	= 0x21,
	NVME_SC_RES_ID_INVALID		= 0x22,
	NVME_SC_SANITIZE_PROHIBITED_PMR	= 0x23,
	NVME_SC_ANA_GROUP_ID_INVALID	= 0x24,
	NVME_SC_ANA_ATTACH_FAILED	= 0x25,
	/* Command specific, NVM command set. */
	NVME_SC_CONFLICTING_ATTRS	= 0x80,
	NVME_SC_INVALID_PI		= 0x81,
	NVME_SC_WRITE_TO_RO		= 0x82,
};

enum nvme_sc_media {
	NVME_SC_WRITE_FAULT		= 0x80,
	NVME_SC_UNRECOVERED_READ	= 0x81,
	NVME_SC_GUARD_CHECK		= 0x82,	/* end-to-end guard check */
	NVME_SC_APPTAG_CHECK		= 0x83,	/* end-to-end application tag check */
	NVME_SC_REFTAG_CHECK		= 0x84,	/* end-to-end reference tag check */
	NVME_SC_COMPARE_FAILED		= 0x85,
	NVME_SC_ACCESS_DENIED		= 0x86,
	NVME_SC_DEALLOC_OR_UNWRITTEN	= 0x87,
};

enum nvme_sc_path {
	NVME_SC_INTERNAL_PATH_ERROR	= 0x00,
	NVME_SC_ANA_PERSISTENT_LOSS	= 0x01,
	NVME_SC_ANA_INACCESSIBLE	= 0x02,
	NVME_SC_ANA_TRANSITION		= 0x03,
	NVME_SC_CTRL_PATH_ERROR		= 0x60,
	NVME_SC_HOST_PATH_ERROR		= 0x70,
	NVME_SC_HOST_ABORTED_CMD	= 0x71,
};

/* ---- Identify Controller (CNS 0x01) ---- */

struct nvme_id_power_state {
	uint16_t mp;		/* maximum power, centiwatts (or 0.0001 W with MXPS) */
	uint8_t rsvd2;
	uint8_t flags;		/* MXPS in bit 0, NOPS in bit 1 */
	uint32_t enlat;		/* entry latency, microseconds */
	uint32_t exlat;		/* exit latency, microseconds */
	uint8_t rrt;		/* relative read throughput */
	uint8_t rrl;		/* relative read latency */
	uint8_t rwt;		/* relative write throughput */
	uint8_t rwl;		/* relative write latency */
	uint16_t idlp;		/* idle power */
	uint8_t ips;		/* idle power scale in 7:6 */
	uint8_t rsvd19;
	uint16_t actp;		/* active power */
	uint8_t apw_aps;	/* active power workload in 2:0, scale in 7:6 */
	uint8_t rsvd23[9];
};
PL_STATIC_ASSERT(sizeof(struct nvme_id_power_state) == 32, "power state descriptor");

#define NVME_PS_FLAGS_MXPS	(1u << 0)
#define NVME_PS_FLAGS_NOPS	(1u << 1)	/* non-operational: no I/O in this state */

struct nvme_id_ctrl {
	/* Controller capabilities and features */
	uint16_t vid;
	uint16_t ssvid;
	char sn[20];		/* ASCII, space padded, not terminated */
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts;		/* max transfer: 2^MDTS pages of CAP.MPSMIN; 0: none */
	uint16_t cntlid;
	uint32_t ver;		/* same encoding as VS */
	uint32_t rtd3r;
	uint32_t rtd3e;
	uint32_t oaes;
	uint32_t ctratt;
	uint16_t rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype;
	uint8_t fguid[16];
	uint16_t crdt1;		/* command retry delay times, 100 ms units */
	uint16_t crdt2;
	uint16_t crdt3;
	uint8_t rsvd134[119];
	uint8_t nvmsr;		/* 240-255 belong to NVMe-MI */
	uint8_t vwci;
	uint8_t mec;
	/* Admin command set attributes and optional controller capabilities */
	uint16_t oacs;
	uint8_t acl;		/* 0's based */
	uint8_t aerl;		/* 0's based */
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe;		/* 0's based */
	uint8_t npss;		/* 0's based */
	uint8_t avscc;
	uint8_t apsta;
	uint16_t wctemp;	/* kelvin */
	uint16_t cctemp;
	uint16_t mtfa;
	uint32_t hmpre;
	uint32_t hmmin;
	uint8_t tnvmcap[16];
	uint8_t unvmcap[16];
	uint32_t rpmbs;
	uint16_t edstt;
	uint8_t dsto;
	uint8_t fwug;
	uint16_t kas;
	uint16_t hctma;
	uint16_t mntmt;
	uint16_t mxtmt;
	uint32_t sanicap;
	uint32_t hmminds;
	uint16_t hmmaxd;
	uint16_t nsetidmax;
	uint16_t endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	uint32_t anagrpmax;
	uint32_t nanagrpid;
	uint32_t pels;
	uint8_t rsvd356[156];
	/* NVM command set attributes */
	uint8_t sqes;		/* required log2 size in 3:0, maximum in 7:4 */
	uint8_t cqes;
	uint16_t maxcmd;
	uint32_t nn;		/* highest NSID */
	uint16_t oncs;
	uint16_t fuses;
	uint8_t fna;
	uint8_t vwc;
	uint16_t awun;		/* 0's based, in logical blocks */
	uint16_t awupf;
	uint8_t nvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint8_t rsvd534[2];
	uint32_t sgls;
	uint32_t mnan;
	uint8_t rsvd544[224];
	char subnqn[256];	/* NUL terminated */
	uint8_t rsvd1024[768];
	/* NVMe over Fabrics (1792-2047): zero on PCIe */
	uint32_t ioccsz;
	uint32_t iorcsz;
	uint16_t icdoff;
	uint8_t fcatt;
	uint8_t msdbd;
	uint16_t ofcs;
	uint8_t rsvd1806[242];
	/* Power state descriptors, then vendor specific */
	struct nvme_id_power_state psd[32];
	uint8_t vs[1024];
};
PL_STATIC_ASSERT(sizeof(struct nvme_id_ctrl) == 4096, "Identify Controller");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, mdts) == 77, "MDTS at byte 77");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, ver) == 80, "VER at byte 80");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, cntrltype) == 111, "CNTRLTYPE at byte 111");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, crdt1) == 128, "CRDT1 at byte 128");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, mec) == 255, "MEC at byte 255");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, oacs) == 256, "OACS at byte 256");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, tnvmcap) == 280, "TNVMCAP at byte 280");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, pels) == 352, "PELS at byte 352");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, sqes) == 512, "SQES at byte 512");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, nn) == 516, "NN at byte 516");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, sgls) == 536, "SGLS at byte 536");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, subnqn) == 768, "SUBNQN at byte 768");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, ioccsz) == 1792, "fabrics fields at 1792");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, psd) == 2048, "PSD0 at byte 2048");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, vs) == 3072, "vendor specific at 3072");

/* CMIC */
#define NVME_CTRL_CMIC_MULTI_PORT	(1u << 0)
#define NVME_CTRL_CMIC_MULTI_CTRL	(1u << 1)
#define NVME_CTRL_CMIC_SRIOV		(1u << 2)	/* this is a virtual function */
#define NVME_CTRL_CMIC_ANA		(1u << 3)

/* OACS: the optional admin commands. */
#define NVME_CTRL_OACS_SECURITY		(1u << 0)
#define NVME_CTRL_OACS_FORMAT		(1u << 1)
#define NVME_CTRL_OACS_FW		(1u << 2)	/* Firmware Commit and Image Download */
#define NVME_CTRL_OACS_NS_MGMT		(1u << 3)
#define NVME_CTRL_OACS_SELF_TEST	(1u << 4)
#define NVME_CTRL_OACS_DIRECTIVES	(1u << 5)
#define NVME_CTRL_OACS_NVME_MI		(1u << 6)
#define NVME_CTRL_OACS_VIRT_MGMT	(1u << 7)
#define NVME_CTRL_OACS_DBBUF_CONFIG	(1u << 8)
#define NVME_CTRL_OACS_GET_LBA_STATUS	(1u << 9)

/* FRMW */
#define NVME_CTRL_FRMW_SLOT1_RO		(1u << 0)
#define NVME_CTRL_FRMW_NR_SLOTS(frmw)	(((uint32_t)(frmw) >> 1) & 0x7)
#define NVME_CTRL_FRMW_NO_RESET		(1u << 4)	/* activation without a reset */

/* LPA: the optional parts of Get Log Page. */
#define NVME_CTRL_LPA_SMART_PER_NS	(1u << 0)
#define NVME_CTRL_LPA_CMD_EFFECTS	(1u << 1)
#define NVME_CTRL_LPA_EXTENDED		(1u << 2)	/* NUMDU, LPOL/LPOU, 64-bit offsets */
#define NVME_CTRL_LPA_TELEMETRY		(1u << 3)
#define NVME_CTRL_LPA_PERSISTENT_EVENT	(1u << 4)

/* ONCS: the optional NVM commands and features. */
#define NVME_CTRL_ONCS_COMPARE		(1u << 0)
#define NVME_CTRL_ONCS_WRITE_UNCORRECTABLE (1u << 1)
#define NVME_CTRL_ONCS_DSM		(1u << 2)
#define NVME_CTRL_ONCS_WRITE_ZEROES	(1u << 3)
#define NVME_CTRL_ONCS_SAVE_FEATURES	(1u << 4)
#define NVME_CTRL_ONCS_RESERVATIONS	(1u << 5)
#define NVME_CTRL_ONCS_TIMESTAMP	(1u << 6)
#define NVME_CTRL_ONCS_VERIFY		(1u << 7)

/* FUSES */
#define NVME_CTRL_FUSES_COMPARE_WRITE	(1u << 0)

/* VWC: without a volatile write cache, Flush has nothing to do. FLUSH_BCAST 3: NSID_ALL works. */
#define NVME_CTRL_VWC_PRESENT		(1u << 0)
#define NVME_CTRL_VWC_FLUSH_BCAST(vwc)	(((uint32_t)(vwc) >> 1) & 0x3)

/* SGLS: bits 1:0 say whether SGLs work for the NVM command set at all. */
#define NVME_CTRL_SGLS_MASK		(3u << 0)
#define NVME_CTRL_SGLS_NONE		(0u << 0)
#define NVME_CTRL_SGLS_BYTE_ALIGNED	(1u << 0)	/* any alignment */
#define NVME_CTRL_SGLS_DWORD_ALIGNED	(2u << 0)	/* data addresses and lengths in dwords */
#define NVME_CTRL_SGLS_KEYED		(1u << 2)
#define NVME_CTRL_SGLS_BIT_BUCKET	(1u << 16)
#define NVME_CTRL_SGLS_MPTR_CONTIG	(1u << 17)	/* byte aligned contiguous metadata */
#define NVME_CTRL_SGLS_OVERSIZE		(1u << 18)	/* SGL longer than the transfer */
#define NVME_CTRL_SGLS_MPTR_SGL		(1u << 19)	/* MPTR may hold an SGL descriptor */
#define NVME_CTRL_SGLS_OFFSET		(1u << 20)	/* address as offset */
#define NVME_CTRL_SGLS_TRANSPORT	(1u << 21)

/* ---- Identify Namespace (CNS 0x00) ---- */

struct nvme_lbaf {
	uint16_t ms;		/* metadata bytes per block */
	uint8_t lbads;		/* log2 of the data size; 0 means the format is unused */
	uint8_t rp;		/* relative performance in 1:0, 0 best */
};
PL_STATIC_ASSERT(sizeof(struct nvme_lbaf) == 4, "LBA format");

struct nvme_id_ns {
	uint64_t nsze;		/* in logical blocks */
	uint64_t ncap;
	uint64_t nuse;
	uint8_t nsfeat;
	uint8_t nlbaf;		/* 0's based: lbaf[0..nlbaf] are valid */
	uint8_t flbas;
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	uint16_t nawun;
	uint16_t nawupf;
	uint16_t nacwu;
	uint16_t nabsn;
	uint16_t nabo;
	uint16_t nabspf;
	uint16_t noiob;
	uint8_t nvmcap[16];
	uint16_t npwg;
	uint16_t npwa;
	uint16_t npdg;
	uint16_t npda;
	uint16_t nows;
	uint8_t rsvd74[18];
	uint32_t anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct nvme_lbaf lbaf[16];
	uint8_t rsvd192[192];
	uint8_t vs[3712];
};
PL_STATIC_ASSERT(sizeof(struct nvme_id_ns) == 4096, "Identify Namespace");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ns, nsfeat) == 24, "NSFEAT at byte 24");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ns, flbas) == 26, "FLBAS at byte 26");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ns, nvmcap) == 48, "NVMCAP at byte 48");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ns, anagrpid) == 92, "ANAGRPID at byte 92");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ns, nsattr) == 99, "NSATTR at byte 99");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ns, nguid) == 104, "NGUID at byte 104");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ns, eui64) == 120, "EUI64 at byte 120");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ns, lbaf) == 128, "LBAF0 at byte 128");
PL_STATIC_ASSERT(offsetof(struct nvme_id_ns, vs) == 384, "vendor specific at 384");

/* NSFEAT */
#define NVME_NS_NSFEAT_THINP		(1u << 0)
#define NVME_NS_NSFEAT_NSABP		(1u << 1)	/* NAWUN, NAWUPF, NACWU are valid */
#define NVME_NS_NSFEAT_DAE		(1u << 2)	/* deallocated-block error supported */
#define NVME_NS_NSFEAT_UIDREUSE		(1u << 3)
#define NVME_NS_NSFEAT_OPTPERF		(1u << 4)	/* NPWG..NOWS are valid */

/* FLBAS: the format in use, an index into lbaf[]. */
#define NVME_NS_FLBAS_LBA_MASK		0xfu
#define NVME_NS_FLBAS_META_EXT		(1u << 4)	/* metadata inline after each block */

/* DLFEAT: what a read of a deallocated block returns. */
#define NVME_NS_DLFEAT_READ_MASK	(7u << 0)
#define NVME_NS_DLFEAT_READ_ZEROES	(1u << 0)
#define NVME_NS_DLFEAT_READ_ONES	(2u << 0)	/* all bytes 0xff */
#define NVME_NS_DLFEAT_WZ_DEAC		(1u << 3)	/* Write Zeroes takes DEAC */

/* NMIC, NSATTR */
#define NVME_NS_NMIC_SHARED		(1u << 0)
#define NVME_NS_NSATTR_WRITE_PROTECTED	(1u << 0)

/* ---- Log pages ---- */

/* Error Information (log 0x01): one entry; the log holds ELPE + 1 of them, newest first. */
struct nvme_error_log_entry {
	uint64_t error_count;	/* 0: the entry is empty */
	uint16_t sqid;
	uint16_t cmdid;
	uint16_t status_field;	/* as nvme_cqe.status, phase tag included */
	uint16_t param_error_location;
	uint64_t lba;
	uint32_t nsid;
	uint8_t vs;
	uint8_t trtype;
	uint8_t rsvd30[2];
	uint64_t cs;		/* command specific information */
	uint16_t trtype_spec_info;
	uint8_t rsvd42[22];
};
PL_STATIC_ASSERT(sizeof(struct nvme_error_log_entry) == 64, "error information entry");
PL_STATIC_ASSERT(offsetof(struct nvme_error_log_entry, lba) == 16, "LBA at byte 16");
PL_STATIC_ASSERT(offsetof(struct nvme_error_log_entry, cs) == 32, "CS at byte 32");

/* SMART / Health Information (log 0x02). The 128-bit counters are little-endian bytes. */
struct nvme_smart_log {
	uint8_t critical_warning;
	uint8_t temperature[2];	/* composite, kelvin; unaligned, so bytes */
	uint8_t avail_spare;	/* percent */
	uint8_t spare_thresh;
	uint8_t percent_used;
	uint8_t endu_grp_crit_warn_sumry;
	uint8_t rsvd7[25];
	uint8_t data_units_read[16];	/* thousands of 512-byte units */
	uint8_t data_units_written[16];
	uint8_t host_reads[16];		/* commands */
	uint8_t host_writes[16];
	uint8_t ctrl_busy_time[16];	/* minutes */
	uint8_t power_cycles[16];
	uint8_t power_on_hours[16];
	uint8_t unsafe_shutdowns[16];
	uint8_t media_errors[16];
	uint8_t num_err_log_entries[16];
	uint32_t warning_temp_time;	/* minutes */
	uint32_t critical_comp_time;
	uint16_t temp_sensor[8];	/* kelvin, 0 if absent */
	uint32_t thm_temp1_trans_count;
	uint32_t thm_temp2_trans_count;
	uint32_t thm_temp1_total_time;	/* seconds */
	uint32_t thm_temp2_total_time;
	uint8_t rsvd232[280];
};
PL_STATIC_ASSERT(sizeof(struct nvme_smart_log) == 512, "SMART / Health Information");
PL_STATIC_ASSERT(offsetof(struct nvme_smart_log, data_units_read) == 32, "DUR at byte 32");
PL_STATIC_ASSERT(offsetof(struct nvme_smart_log, media_errors) == 160, "MEDIA at byte 160");
PL_STATIC_ASSERT(offsetof(struct nvme_smart_log, warning_temp_time) == 192, "WCTT at 192");
PL_STATIC_ASSERT(offsetof(struct nvme_smart_log, temp_sensor) == 200, "TS1 at byte 200");

/* critical_warning */
#define NVME_SMART_CRIT_SPARE		(1u << 0)	/* spare below threshold */
#define NVME_SMART_CRIT_TEMPERATURE	(1u << 1)
#define NVME_SMART_CRIT_RELIABILITY	(1u << 2)
#define NVME_SMART_CRIT_READ_ONLY	(1u << 3)
#define NVME_SMART_CRIT_VOLATILE_BACKUP	(1u << 4)	/* volatile memory backup failed */
#define NVME_SMART_CRIT_PMR_READ_ONLY	(1u << 5)

/* Firmware Slot Information (log 0x03). */
struct nvme_fw_slot_log {
	uint8_t afi;		/* active slot in 2:0, slot for the next reset in 6:4 */
	uint8_t rsvd1[7];
	char frs[7][8];		/* revision per slot 1-7, ASCII; all zero when empty */
	uint8_t rsvd64[448];
};
PL_STATIC_ASSERT(sizeof(struct nvme_fw_slot_log) == 512, "Firmware Slot Information");
PL_STATIC_ASSERT(offsetof(struct nvme_fw_slot_log, frs) == 8, "FRS1 at byte 8");

#define NVME_FW_AFI_ACTIVE(afi)		((uint32_t)(afi) & 0x7)
#define NVME_FW_AFI_NEXT(afi)		(((uint32_t)(afi) >> 4) & 0x7)

PL_END_DECLS

#endif
