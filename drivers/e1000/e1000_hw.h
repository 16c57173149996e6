/* Intel 82540EM (e1000) and 82574L (e1000e) hardware: PCI IDs, registers, bits, descriptors. */
#ifndef PL_E1000_HW_H
#define PL_E1000_HW_H

/*
 * Written from Intel's "PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's
 * Manual" (here "SDM": the 82540EM and the 8254x parts that program like it) and the "82574 GbE
 * Controller Family Datasheet" ("DS"), checked against Linux e1000/e1000e and QEMU's models.
 *
 * Offsets are bytes into BAR0, 128 KiB of memory-mapped registers on both parts. Every register
 * is 32 bits wide and is accessed as one aligned 32-bit load or store. A name with no note holds
 * for both parts; "82540" or "82574" in a name or comment marks what only one of them has
 * ("82540" standing for the 8254x parts listed below). Access: RW, RO, WO, RC (a read clears it).
 *
 * Registers and descriptors are little-endian, as is every host Pollen runs on: the structs
 * below are plain fields, no byte swapping.
 */
#include <stddef.h>
#include <stdint.h>

#ifndef PL_STATIC_ASSERT
#ifdef __cplusplus
#define PL_STATIC_ASSERT static_assert
#else
#define PL_STATIC_ASSERT _Static_assert
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PCI identity ---- */

#define E1000_VENDOR_INTEL		0x8086

/* 8254x parts with the 82540EM's registers, Microwire EEPROM and EERD layout. */
#define E1000_DEV_82540EM		0x100E	/* desktop; QEMU "-device e1000" */
#define E1000_DEV_82540EM_LOM		0x1015
#define E1000_DEV_82540EP_LOM		0x1016
#define E1000_DEV_82540EP		0x1017
#define E1000_DEV_82540EP_LP		0x101E
#define E1000_DEV_82545EM_COPPER	0x100F	/* QEMU "-device e1000-82545em" */
#define E1000_DEV_82545EM_FIBER		0x1011
#define E1000_DEV_82545GM_COPPER	0x1026
#define E1000_DEV_82545GM_FIBER		0x1027
#define E1000_DEV_82545GM_SERDES	0x1028
#define E1000_DEV_82546EB_COPPER	0x1010	/* dual port: see the EEPROM note at the bottom */
#define E1000_DEV_82546EB_FIBER		0x1012
#define E1000_DEV_82546EB_QUAD_COPPER	0x101D
#define E1000_DEV_82546GB_COPPER	0x1079
#define E1000_DEV_82546GB_FIBER		0x107A
#define E1000_DEV_82546GB_SERDES	0x107B
#define E1000_DEV_82546GB_PCIE		0x108A
#define E1000_DEV_82546GB_QUAD_COPPER	0x1099
#define E1000_DEV_82546GB_QUAD_KSP3	0x10B5

/* The 82574 family (DS). Linux e1000e and OpenBSD em drive the 82583V as an 82574. */
#define E1000_DEV_82574L		0x10D3	/* QEMU "-device e1000e" */
#define E1000_DEV_82574LA		0x10F6
#define E1000_DEV_82583V		0x150C	/* untested here; QEMU has no model of it */

#define E1000_BAR_MMIO			0	/* the registers below, 128 KiB */
#define E1000_MMIO_SIZE			0x20000
/*
 * 82574: the MSI-X table and pending-bit array live in BAR3, five vectors (RXQ0, RXQ1, TXQ0,
 * TXQ1, Other: see IVAR). Program them through VFIO's MSI-X interface, not by hand.
 */
#define E1000_BAR_MSIX_82574		3
#define E1000_MSIX_VECTORS_82574	5

/*
 * The I/O-port window (SDM §13.2.2: BAR1 on the 82540EM, which QEMU leaves inert; BAR2 on
 * the 82574L): write a register's offset to IOADDR, then read or write it at IODATA.
 */
#define E1000_BAR_IO_82540		1
#define E1000_BAR_IO_82574		2
#define E1000_IOADDR			0x00	/* RW */
#define E1000_IODATA			0x04	/* RW: the register IOADDR names */

/* ---- General registers (SDM §13.4; the DS's register chapter) ---- */

#define E1000_CTRL		0x0000	/* RW  device control */
#define E1000_STATUS		0x0008	/* RO  device status */
#define E1000_EECD		0x0010	/* RW  EEPROM/NVM control */
#define E1000_EERD		0x0014	/* RW  EEPROM read: the two parts lay it out apart */
#define E1000_CTRL_EXT		0x0018	/* RW  extended device control */
#define E1000_MDIC		0x0020	/* RW  MDI control: PHY register access */
#define E1000_FCAL		0x0028	/* RW  flow control address, low 32 bits */
#define E1000_FCAH		0x002C	/* RW  flow control address, high 16 bits */
#define E1000_FCT		0x0030	/* RW  flow control ethertype */
#define E1000_VET		0x0038	/* RW  VLAN ethertype */
#define E1000_FCTTV		0x0170	/* RW  flow control transmit timer value */
#define E1000_TXCW		0x0178	/* RW  TX config word (TBI/SerDes only) */
#define E1000_RXCW		0x0180	/* RO  RX config word (TBI/SerDes only) */
#define E1000_LEDCTL		0x0E00	/* RW  LED control */
#define E1000_PBA		0x1000	/* RW  packet buffer allocation */
#define E1000_EEWR		0x102C	/* RW  82574 only: NVM write, EERD_82574 layout */

/* ---- Interrupt registers ---- */

#define E1000_ICR		0x00C0	/* RC  interrupt causes (82574: see the ICR bits) */
#define E1000_ITR		0x00C4	/* RW  throttling: min gap, 15:0 in 256 ns units */
#define E1000_ICS		0x00C8	/* WO  set causes, as if the device raised them */
#define E1000_IMS		0x00D0	/* RW  write 1s to unmask; reads the mask */
#define E1000_IMC		0x00D8	/* WO  write 1s to mask */
#define E1000_EIAC		0x00DC	/* RW  82574 only: causes auto-cleared in MSI-X mode */
#define E1000_IAM		0x00E0	/* RW  82574 only: causes auto-masked (CTRL_EXT.IAME) */
#define E1000_IVAR		0x00E4	/* RW  82574 only: cause to MSI-X vector map */
#define E1000_EITR_82574(v)	(0x00E8 + 4 * (v))	/* RW  per-vector ITR, v < 5 */

/* ---- Receive registers ---- */

#define E1000_RCTL		0x0100	/* RW  receive control */
#define E1000_FCRTL		0x2160	/* RW  flow control RX threshold low */
#define E1000_FCRTH		0x2168	/* RW  flow control RX threshold high */
#define E1000_RDBAL		0x2800	/* RW  RX ring base, low 32 bits (low 4 ignored) */
#define E1000_RDBAH		0x2804	/* RW  RX ring base, high 32 bits */
#define E1000_RDLEN		0x2808	/* RW  RX ring bytes, a multiple of 128 */
#define E1000_RDH		0x2810	/* RW  RX head: next descriptor the device fills */
#define E1000_RDT		0x2818	/* RW  RX tail: one past the last one software gave */
#define E1000_RDTR		0x2820	/* RW  RX packet timer, 1.024 us units; FPD below */
#define E1000_RXDCTL		0x2828	/* RW  RX descriptor thresholds */
#define E1000_RADV		0x282C	/* RW  RX absolute delay, 1.024 us units */
#define E1000_RSRPD		0x2C00	/* RW  RX small packet detect: size in 11:0 */
#define E1000_RXCSUM		0x5000	/* RW  RX checksum offload control */
#define E1000_RFCTL		0x5008	/* RW  82574 only: receive filter control */
#define E1000_MTA(i)		(0x5200 + 4 * (i))	/* RW  multicast hash table, i < 128 */
#define E1000_RAL(i)		(0x5400 + 8 * (i))	/* RW  receive address low, i < 16 */
#define E1000_RAH(i)		(0x5404 + 8 * (i))	/* RW  receive address high */
#define E1000_VFTA(i)		(0x5600 + 4 * (i))	/* RW  VLAN filter table, i < 128 */
#define E1000_MRQC		0x5818	/* RW  82574 only: multiple RX queues (RSS) */
#define E1000_RETA(i)		(0x5C00 + 4 * (i))	/* RW  82574 only: RSS redirection table */
#define E1000_RSSRK(i)		(0x5C80 + 4 * (i))	/* RW  82574 only: RSS key, i < 10 */

#define E1000_MTA_NUM		128
#define E1000_RAR_NUM		16	/* RAL/RAH pairs; pair 0 holds the EEPROM's MAC */
#define E1000_VFTA_NUM		128
#define E1000_RETA_NUM		32	/* 128 one-byte entries, four per register */
#define E1000_RSSRK_NUM		10	/* a 40-byte key */

/* ---- Transmit registers ---- */

#define E1000_TCTL		0x0400	/* RW  transmit control */
#define E1000_TIPG		0x0410	/* RW  transmit inter-packet gap */
#define E1000_TDBAL		0x3800	/* RW  TX ring base, low 32 bits (low 4 ignored) */
#define E1000_TDBAH		0x3804	/* RW  TX ring base, high 32 bits */
#define E1000_TDLEN		0x3808	/* RW  TX ring bytes, a multiple of 128 */
#define E1000_TDH		0x3810	/* RW  TX head: next descriptor the device reads */
#define E1000_TDT		0x3818	/* RW  TX tail: one past the last one software gave */
#define E1000_TIDV		0x3820	/* RW  TX delay for IDE descriptors, 1.024 us units */
#define E1000_TXDCTL		0x3828	/* RW  TX descriptor thresholds */
#define E1000_TADV		0x382C	/* RW  TX absolute delay, 1.024 us units */
#define E1000_TARC		0x3840	/* RW  82574 only: TX arbitration; bit 10 runs the queue */

/*
 * Per-queue registers. The 82540 has queue 0 only; the 82574 has queues 0 and 1, queue 1 at
 * +0x100. RDTR, RADV, TIDV and TADV are not per queue.
 */
#define E1000_QUEUE_STRIDE	0x100
#define E1000_RDBAL_Q(n)	(E1000_RDBAL + E1000_QUEUE_STRIDE * (n))
#define E1000_RDBAH_Q(n)	(E1000_RDBAH + E1000_QUEUE_STRIDE * (n))
#define E1000_RDLEN_Q(n)	(E1000_RDLEN + E1000_QUEUE_STRIDE * (n))
#define E1000_RDH_Q(n)		(E1000_RDH + E1000_QUEUE_STRIDE * (n))
#define E1000_RDT_Q(n)		(E1000_RDT + E1000_QUEUE_STRIDE * (n))
#define E1000_RXDCTL_Q(n)	(E1000_RXDCTL + E1000_QUEUE_STRIDE * (n))
#define E1000_TDBAL_Q(n)	(E1000_TDBAL + E1000_QUEUE_STRIDE * (n))
#define E1000_TDBAH_Q(n)	(E1000_TDBAH + E1000_QUEUE_STRIDE * (n))
#define E1000_TDLEN_Q(n)	(E1000_TDLEN + E1000_QUEUE_STRIDE * (n))
#define E1000_TDH_Q(n)		(E1000_TDH + E1000_QUEUE_STRIDE * (n))
#define E1000_TDT_Q(n)		(E1000_TDT + E1000_QUEUE_STRIDE * (n))
#define E1000_TXDCTL_Q(n)	(E1000_TXDCTL + E1000_QUEUE_STRIDE * (n))
#define E1000_TARC_Q(n)		(E1000_TARC + E1000_QUEUE_STRIDE * (n))

/*
 * ---- Statistics (SDM §13.7) ----
 * All RC: each read returns the count since the last read, and a counter sticks at its
 * maximum instead of wrapping. The 64-bit octet counters are two registers: read the low half
 * first, because reading the high half clears both. Some count only on fiber/TBI links
 * (SYMERRS, SEC, CEXTERR, RXERRC) or with manageability firmware (MGTP*). QEMU keeps only a
 * subset of them, and some of those it does not clear on read.
 */
#define E1000_STATS_FIRST	0x4000
#define E1000_STATS_LAST	0x40FC
#define E1000_CRCERRS		0x4000	/* RC  CRC errors */
#define E1000_ALGNERRC		0x4004	/* RC  alignment errors */
#define E1000_SYMERRS		0x4008	/* RC  symbol errors */
#define E1000_RXERRC		0x400C	/* RC  RX errors (PHY-reported) */
#define E1000_MPC		0x4010	/* RC  missed packets: no room in the packet buffer */
#define E1000_SCC		0x4014	/* RC  single collisions */
#define E1000_ECOL		0x4018	/* RC  excessive collisions */
#define E1000_MCC		0x401C	/* RC  multiple collisions */
#define E1000_LATECOL		0x4020	/* RC  late collisions */
#define E1000_COLC		0x4028	/* RC  collisions */
#define E1000_DC		0x4030	/* RC  defers */
#define E1000_TNCRS		0x4034	/* RC  TX with no carrier sense */
#define E1000_SEC		0x4038	/* RC  sequence errors */
#define E1000_CEXTERR		0x403C	/* RC  carrier extension errors */
#define E1000_RLEC		0x4040	/* RC  RX length errors */
#define E1000_XONRXC		0x4048	/* RC  XON received */
#define E1000_XONTXC		0x404C	/* RC  XON sent */
#define E1000_XOFFRXC		0x4050	/* RC  XOFF received */
#define E1000_XOFFTXC		0x4054	/* RC  XOFF sent */
#define E1000_FCRUC		0x4058	/* RC  unsupported flow control frames received */
#define E1000_PRC64		0x405C	/* RC  RX packets of 64 bytes */
#define E1000_PRC127		0x4060	/* RC  RX packets of 65-127 bytes */
#define E1000_PRC255		0x4064	/* RC  RX packets of 128-255 bytes */
#define E1000_PRC511		0x4068	/* RC  RX packets of 256-511 bytes */
#define E1000_PRC1023		0x406C	/* RC  RX packets of 512-1023 bytes */
#define E1000_PRC1522		0x4070	/* RC  RX packets of 1024-1522 bytes */
#define E1000_GPRC		0x4074	/* RC  good packets received */
#define E1000_BPRC		0x4078	/* RC  broadcast packets received */
#define E1000_MPRC		0x407C	/* RC  multicast packets received */
#define E1000_GPTC		0x4080	/* RC  good packets sent */
#define E1000_GORCL		0x4088	/* RC  good octets received, low: read first */
#define E1000_GORCH		0x408C	/* RC  good octets received, high: clears both */
#define E1000_GOTCL		0x4090	/* RC  good octets sent, low: read first */
#define E1000_GOTCH		0x4094	/* RC  good octets sent, high: clears both */
#define E1000_RNBC		0x40A0	/* RC  RX with no buffers (RDH == RDT) */
#define E1000_RUC		0x40A4	/* RC  RX undersize */
#define E1000_RFC		0x40A8	/* RC  RX fragments */
#define E1000_ROC		0x40AC	/* RC  RX oversize */
#define E1000_RJC		0x40B0	/* RC  RX jabbers */
#define E1000_MGTPRC		0x40B4	/* RC  management packets received */
#define E1000_MGTPDC		0x40B8	/* RC  management packets dropped */
#define E1000_MGTPTC		0x40BC	/* RC  management packets sent */
#define E1000_TORL		0x40C0	/* RC  total octets received, low: read first */
#define E1000_TORH		0x40C4	/* RC  total octets received, high: clears both */
#define E1000_TOTL		0x40C8	/* RC  total octets sent, low: read first */
#define E1000_TOTH		0x40CC	/* RC  total octets sent, high: clears both */
#define E1000_TPR		0x40D0	/* RC  total packets received */
#define E1000_TPT		0x40D4	/* RC  total packets sent */
#define E1000_PTC64		0x40D8	/* RC  TX packets of 64 bytes */
#define E1000_PTC127		0x40DC	/* RC  TX packets of 65-127 bytes */
#define E1000_PTC255		0x40E0	/* RC  TX packets of 128-255 bytes */
#define E1000_PTC511		0x40E4	/* RC  TX packets of 256-511 bytes */
#define E1000_PTC1023		0x40E8	/* RC  TX packets of 512-1023 bytes */
#define E1000_PTC1522		0x40EC	/* RC  TX packets of 1024-1522 bytes */
#define E1000_MPTC		0x40F0	/* RC  multicast packets sent */
#define E1000_BPTC		0x40F4	/* RC  broadcast packets sent */
#define E1000_TSCTC		0x40F8	/* RC  TCP segmentation contexts sent */
#define E1000_TSCTFC		0x40FC	/* RC  TCP segmentation contexts failed */

/* ---- CTRL ---- */

#define E1000_CTRL_FD			(1u << 0)	/* full duplex (when forced) */
#define E1000_CTRL_GIO_MASTER_DIS	(1u << 2)	/* 82574 only: stop new DMA before reset */
#define E1000_CTRL_LRST			(1u << 3)	/* link reset */
#define E1000_CTRL_ASDE			(1u << 5)	/* auto-speed detection */
#define E1000_CTRL_SLU			(1u << 6)	/* set link up: set it on copper */
#define E1000_CTRL_ILOS			(1u << 7)	/* invert loss-of-signal */
#define E1000_CTRL_SPEED_MASK		(3u << 8)	/* speed when forced (FRCSPD) */
#define E1000_CTRL_SPEED_10		(0u << 8)
#define E1000_CTRL_SPEED_100		(1u << 8)
#define E1000_CTRL_SPEED_1000		(2u << 8)
#define E1000_CTRL_FRCSPD		(1u << 11)	/* force speed */
#define E1000_CTRL_FRCDPX		(1u << 12)	/* force duplex */
#define E1000_CTRL_RST			(1u << 26)	/* device reset; self-clearing */
#define E1000_CTRL_RFCE			(1u << 27)	/* honour received pause frames */
#define E1000_CTRL_TFCE			(1u << 28)	/* send pause frames */
#define E1000_CTRL_VME			(1u << 30)	/* VLAN tag strip/insert */
#define E1000_CTRL_PHY_RST		(1u << 31)	/* PHY reset; software clears it */

/* ---- STATUS ---- */

#define E1000_STATUS_FD			(1u << 0)	/* full duplex */
#define E1000_STATUS_LU			(1u << 1)	/* link up */
#define E1000_STATUS_FUNC_MASK		(3u << 2)	/* port on a dual-port part */
#define E1000_STATUS_FUNC_SHIFT		2
#define E1000_STATUS_TXOFF		(1u << 4)	/* TX paused by flow control */
#define E1000_STATUS_TBIMODE		(1u << 5)	/* 82540: TBI (fiber parts) mode */
#define E1000_STATUS_SPEED_MASK		(3u << 6)	/* link speed */
#define E1000_STATUS_SPEED_10		(0u << 6)
#define E1000_STATUS_SPEED_100		(1u << 6)
#define E1000_STATUS_SPEED_1000		(2u << 6)	/* 3 << 6 also means 1000 */
#define E1000_STATUS_ASDV_MASK		(3u << 8)	/* speed auto-detection found */
#define E1000_STATUS_PHYRA		(1u << 10)	/* 82574 only: PHY reset asserted */
#define E1000_STATUS_PCI66		(1u << 11)	/* 82540: 66 MHz bus */
#define E1000_STATUS_BUS64		(1u << 12)	/* 82540: 64-bit bus */
#define E1000_STATUS_GIO_MASTER_EN	(1u << 19)	/* 82574 only: clears once DMA stopped */

/* ---- EECD ---- */

#define E1000_EECD_SK			(1u << 0)	/* bit-banged clock */
#define E1000_EECD_CS			(1u << 1)	/* bit-banged chip select */
#define E1000_EECD_DI			(1u << 2)	/* bit-banged data in (to the EEPROM) */
#define E1000_EECD_DO			(1u << 3)	/* bit-banged data out */
#define E1000_EECD_FWE_MASK		(3u << 4)	/* flash write enable */
#define E1000_EECD_REQ			(1u << 6)	/* request bit-bang access */
#define E1000_EECD_GNT			(1u << 7)	/* bit-bang access granted */
#define E1000_EECD_PRES			(1u << 8)	/* EEPROM present */
#define E1000_EECD_SIZE_82540		(1u << 9)	/* 0: 64 words, 1: 256 words */
#define E1000_EECD_AUTO_RD_82574	(1u << 9)	/* NVM auto-load done after reset */

/*
 * ---- EERD: one EEPROM word without bit-banging ----
 * Write START | address, poll DONE, take DATA. The two parts place DONE and the address apart:
 * the 82540 has DONE at bit 4 and the address in 15:8, the 82574 DONE at bit 1 and the address
 * in 15:2 (QEMU models both).
 */
#define E1000_EERD_START		(1u << 0)
#define E1000_EERD_DATA_SHIFT		16
#define E1000_EERD_DATA_MASK		(0xFFFFu << 16)
#define E1000_EERD_DONE_82540		(1u << 4)
#define E1000_EERD_ADDR_SHIFT_82540	8
#define E1000_EERD_ADDR_MASK_82540	(0xFFu << 8)
#define E1000_EERD_DONE_82574		(1u << 1)
#define E1000_EERD_ADDR_SHIFT_82574	2
#define E1000_EERD_ADDR_MASK_82574	(0x3FFFu << 2)
#define E1000_EERD_READ_82540(w)	\
	(E1000_EERD_START | ((uint32_t)(w) << E1000_EERD_ADDR_SHIFT_82540))
#define E1000_EERD_READ_82574(w)	\
	(E1000_EERD_START | ((uint32_t)(w) << E1000_EERD_ADDR_SHIFT_82574))

/* ---- CTRL_EXT ---- */

#define E1000_CTRL_EXT_ASDCHK		(1u << 12)	/* 82540: run speed auto-detection */
#define E1000_CTRL_EXT_EE_RST		(1u << 13)	/* reload settings from the EEPROM */
#define E1000_CTRL_EXT_SPD_BYPS		(1u << 15)	/* skip detection: CTRL.SPEED at once */
#define E1000_CTRL_EXT_RO_DIS		(1u << 17)	/* no relaxed ordering on the bus */
#define E1000_CTRL_EXT_LINK_MODE_MASK	(3u << 22)	/* 00: internal copper PHY */
#define E1000_CTRL_EXT_EIAME		(1u << 24)	/* 82574 only: IAM on EIAC auto-clear */
#define E1000_CTRL_EXT_IAME		(1u << 27)	/* 82574 only: IAM on ICR read */
#define E1000_CTRL_EXT_DRV_LOAD		(1u << 28)	/* 82574 only: a driver owns the device */
#define E1000_CTRL_EXT_INT_TIMERS_CLR	(1u << 29)	/* 82574 only: IMC also clears timers */
#define E1000_CTRL_EXT_PBA_CLR		(1u << 31)	/* 82574 only: MSI-X pending follows ICR */

/*
 * ---- MDIC: PHY registers ----
 * Write the op, register and PHY address, poll READY, check ERROR. The internal PHY answers at
 * address 1 on both parts (QEMU reports ERROR for any other).
 */
#define E1000_MDIC_DATA_MASK		0xFFFFu
#define E1000_MDIC_REGADD_SHIFT		16
#define E1000_MDIC_REGADD_MASK		(0x1Fu << 16)
#define E1000_MDIC_PHYADD_SHIFT		21
#define E1000_MDIC_PHYADD_MASK		(0x1Fu << 21)
#define E1000_MDIC_OP_WRITE		(1u << 26)
#define E1000_MDIC_OP_READ		(2u << 26)
#define E1000_MDIC_READY		(1u << 28)
#define E1000_MDIC_INT_EN		(1u << 29)	/* raise ICR.MDAC when done */
#define E1000_MDIC_ERROR		(1u << 30)
#define E1000_MDIC_PHY_ADDR		1

/* The two standard (IEEE 802.3 clause 22) PHY registers a driver needs, through MDIC. */
#define E1000_PHY_PCTRL			0x00	/* PHY control */
#define E1000_PHY_PCTRL_RESTART_AN	(1u << 9)
#define E1000_PHY_PCTRL_AN_EN		(1u << 12)
#define E1000_PHY_PCTRL_LOOPBACK	(1u << 14)	/* QEMU e1000: TX comes back as RX */
#define E1000_PHY_PCTRL_RESET		(1u << 15)
#define E1000_PHY_PSTATUS		0x01	/* PHY status */
#define E1000_PHY_PSTATUS_LINK		(1u << 2)	/* latched low: read twice */
#define E1000_PHY_PSTATUS_AN_DONE	(1u << 5)

/*
 * ---- Interrupt causes: ICR, ICS, IMS, IMC and IAM all use these bits ----
 * The 82540 clears ICR on every read. The 82574 (as QEMU models it) clears it on a read when
 * IMS is 0 or outside MSI-X mode; in MSI-X mode the causes in EIAC clear themselves when their
 * vector fires.
 */
#define E1000_ICR_TXDW			(1u << 0)	/* TX descriptor written back */
#define E1000_ICR_TXQE			(1u << 1)	/* TX queue empty */
#define E1000_ICR_LSC			(1u << 2)	/* link status change */
#define E1000_ICR_RXSEQ			(1u << 3)	/* RX sequence error */
#define E1000_ICR_RXDMT0		(1u << 4)	/* RX free descriptors below RCTL.RDMTS */
#define E1000_ICR_RXO			(1u << 6)	/* RX overrun */
#define E1000_ICR_RXT0			(1u << 7)	/* RX timer (RDTR/RADV) */
#define E1000_ICR_MDAC			(1u << 9)	/* MDIC access done */
#define E1000_ICR_RXCFG			(1u << 10)	/* /C/ ordered sets (TBI) */
#define E1000_ICR_PHYINT		(1u << 12)	/* 82540: PHY interrupt */
#define E1000_ICR_GPI_SDP6		(1u << 13)	/* 82540: general purpose pin 6 */
#define E1000_ICR_GPI_SDP7		(1u << 14)	/* 82540: general purpose pin 7 */
#define E1000_ICR_TXD_LOW		(1u << 15)	/* TX free descriptors below LWTHRESH */
#define E1000_ICR_SRPD			(1u << 16)	/* small packet received (RSRPD) */
#define E1000_ICR_ACK			(1u << 17)	/* 82574 only: TCP ACK received */
#define E1000_ICR_MNG			(1u << 18)	/* 82574 only: manageability event */
#define E1000_ICR_RXQ0			(1u << 20)	/* 82574 only: RX queue 0 */
#define E1000_ICR_RXQ1			(1u << 21)	/* 82574 only: RX queue 1 */
#define E1000_ICR_TXQ0			(1u << 22)	/* 82574 only: TX queue 0 */
#define E1000_ICR_TXQ1			(1u << 23)	/* 82574 only: TX queue 1 */
#define E1000_ICR_OTHER			(1u << 24)	/* 82574 only: any non-queue cause */
#define E1000_ICR_INT_ASSERTED		(1u << 31)	/* 82574 only: this device interrupted */
#define E1000_EIAC_MASK_82574		(0x1Fu << 20)	/* RXQ0..OTHER */

/*
 * ---- IVAR (82574 only): which MSI-X vector each of the five causes raises ----
 * Five 4-bit entries, each a vector number in 2:0 and VALID in bit 3.
 */
#define E1000_IVAR_RXQ0_SHIFT		0
#define E1000_IVAR_RXQ1_SHIFT		4
#define E1000_IVAR_TXQ0_SHIFT		8
#define E1000_IVAR_TXQ1_SHIFT		12
#define E1000_IVAR_OTHER_SHIFT		16
#define E1000_IVAR_VECTOR_MASK		0x7u
#define E1000_IVAR_VALID		0x8u
#define E1000_IVAR_ENTRY(shift, vec)	\
	((((uint32_t)(vec) & E1000_IVAR_VECTOR_MASK) | E1000_IVAR_VALID) << (shift))
#define E1000_IVAR_TX_INT_EVERY_WB	(1u << 31)	/* TX cause on every write-back */

/*
 * ---- RCTL (SDM §13.4.22) ----
 * Write it once: after each write QEMU's e1000 holds receive back for about 1 s.
 */

#define E1000_RCTL_EN			(1u << 1)	/* receiver enable */
#define E1000_RCTL_SBP			(1u << 2)	/* store bad packets */
#define E1000_RCTL_UPE			(1u << 3)	/* unicast promiscuous */
#define E1000_RCTL_MPE			(1u << 4)	/* multicast promiscuous */
#define E1000_RCTL_LPE			(1u << 5)	/* long packets (over 1522 bytes) */
#define E1000_RCTL_LBM_MASK		(3u << 6)	/* loopback mode */
#define E1000_RCTL_LBM_NONE		(0u << 6)
#define E1000_RCTL_LBM_PHY		(3u << 6)	/* PHY (transceiver) loopback */
#define E1000_RCTL_RDMTS_HALF		(0u << 8)	/* RXDMT0 at 1/2 of the ring free */
#define E1000_RCTL_RDMTS_QUARTER	(1u << 8)	/* ... at 1/4 */
#define E1000_RCTL_RDMTS_EIGHTH		(2u << 8)	/* ... at 1/8 */
#define E1000_RCTL_DTYP_MASK		(3u << 10)	/* 82574 only: RX descriptor type */
#define E1000_RCTL_DTYP_PS		(1u << 10)	/* 82574 only: packet split */
#define E1000_RCTL_MO_SHIFT		12		/* multicast offset: which DA bits hash */
#define E1000_RCTL_MO_MASK		(3u << 12)
#define E1000_RCTL_BAM			(1u << 15)	/* accept broadcast */
#define E1000_RCTL_BSIZE_MASK		(3u << 16)	/* buffer size, scaled by BSEX */
#define E1000_RCTL_VFE			(1u << 18)	/* VLAN filter (VFTA) */
#define E1000_RCTL_CFIEN		(1u << 19)	/* canonical form indicator check */
#define E1000_RCTL_CFI			(1u << 20)	/* ... its expected value */
#define E1000_RCTL_DPF			(1u << 22)	/* discard pause frames */
#define E1000_RCTL_PMCF			(1u << 23)	/* pass MAC control frames */
#define E1000_RCTL_BSEX			(1u << 25)	/* buffer size times 16 */
#define E1000_RCTL_SECRC		(1u << 26)	/* strip the Ethernet CRC */
/* Buffer sizes, each a complete BSIZE/BSEX setting. */
#define E1000_RCTL_BSIZE_2048		(0u << 16)
#define E1000_RCTL_BSIZE_1024		(1u << 16)
#define E1000_RCTL_BSIZE_512		(2u << 16)
#define E1000_RCTL_BSIZE_256		(3u << 16)
#define E1000_RCTL_BSIZE_16384		(E1000_RCTL_BSEX | (1u << 16))
#define E1000_RCTL_BSIZE_8192		(E1000_RCTL_BSEX | (2u << 16))
#define E1000_RCTL_BSIZE_4096		(E1000_RCTL_BSEX | (3u << 16))

/* ---- TCTL (SDM table 13-76) ---- */

#define E1000_TCTL_EN			(1u << 1)	/* transmitter enable */
#define E1000_TCTL_PSP			(1u << 3)	/* pad short packets to 64 bytes */
#define E1000_TCTL_CT_SHIFT		4		/* collision threshold (retries) */
#define E1000_TCTL_CT_MASK		(0xFFu << 4)
#define E1000_TCTL_CT_DEFAULT		0x0F		/* the SDM's recommended value */
#define E1000_TCTL_COLD_SHIFT		12		/* collision distance, byte times */
#define E1000_TCTL_COLD_MASK		(0x3FFu << 12)
#define E1000_TCTL_COLD_FD		0x40		/* recommended, full duplex */
#define E1000_TCTL_COLD_HD		0x200		/* recommended, half duplex */
#define E1000_TCTL_SWXOFF		(1u << 22)	/* send one XOFF now; self-clearing */
#define E1000_TCTL_RTLC			(1u << 24)	/* retransmit on late collision */
#define E1000_TCTL_MULR			(1u << 28)	/* 82574: several reads in flight; set it */

/*
 * ---- TIPG (SDM table 13-77) ----
 * IPGT 10, IPGR1 8, IPGR2 6 give the IEEE 96-bit-time gap on 10/100/1000BASE-T for the 82540
 * (the MAC adds 4 to IPGT). The 82574's reset value, as QEMU models it, has IPGT 8.
 */
#define E1000_TIPG_IPGT_SHIFT		0
#define E1000_TIPG_IPGR1_SHIFT		10
#define E1000_TIPG_IPGR2_SHIFT		20
#define E1000_TIPG_COPPER_82540		((10u << 0) | (8u << 10) | (6u << 20))
#define E1000_TIPG_COPPER_82574		((8u << 0) | (8u << 10) | (6u << 20))

/*
 * ---- RXDCTL / TXDCTL ----
 * Prefetch, host and write-back thresholds, in descriptors when GRAN is set (else cache lines).
 * The 82574 has no queue enable bit here: RX queue 1 is fed only through RSS (MRQC), and TX
 * queue n runs while TARC(n).ENABLE is set (its reset value). Its RXDCTL is one setting for
 * both queues (QEMU mirrors a write to queue 0's into queue 1's).
 */
#define E1000_XDCTL_PTHRESH_SHIFT	0
#define E1000_XDCTL_HTHRESH_SHIFT	8
#define E1000_XDCTL_WTHRESH_SHIFT	16
#define E1000_XDCTL_THRESH_MASK		0x3Fu		/* each threshold is 6 bits */
#define E1000_RXDCTL_PTHRESH_SHIFT	E1000_XDCTL_PTHRESH_SHIFT
#define E1000_RXDCTL_HTHRESH_SHIFT	E1000_XDCTL_HTHRESH_SHIFT
#define E1000_RXDCTL_WTHRESH_SHIFT	E1000_XDCTL_WTHRESH_SHIFT
#define E1000_RXDCTL_GRAN		(1u << 24)
#define E1000_TXDCTL_PTHRESH_SHIFT	E1000_XDCTL_PTHRESH_SHIFT
#define E1000_TXDCTL_HTHRESH_SHIFT	E1000_XDCTL_HTHRESH_SHIFT
#define E1000_TXDCTL_WTHRESH_SHIFT	E1000_XDCTL_WTHRESH_SHIFT
#define E1000_TXDCTL_COUNT_DESC_82574	(1u << 22)	/* reserved, must be written as 1 */
#define E1000_TXDCTL_GRAN		(1u << 24)
#define E1000_TXDCTL_LWTHRESH_SHIFT	25		/* ICR.TXD_LOW level, 7 bits */
#define E1000_TARC_ENABLE		(1u << 10)	/* 82574 only: queue runs (set at reset) */

/* ---- RDTR ---- */

#define E1000_RDTR_FPD			(1u << 31)	/* flush the partial write-back block */

/* ---- RXCSUM ---- */

#define E1000_RXCSUM_PCSS_MASK		0xFFu		/* packet checksum start offset */
#define E1000_RXCSUM_IPOFL		(1u << 8)	/* check IPv4 header checksums */
#define E1000_RXCSUM_TUOFL		(1u << 9)	/* check TCP/UDP checksums */
#define E1000_RXCSUM_PCSD		(1u << 13)	/* 82574 only: RSS hash, not IP ID/csum */

/* ---- RFCTL (82574 only) ---- */

#define E1000_RFCTL_ACK_DIS		(1u << 12)	/* no ICR.ACK: Linux sets it for MSI-X */
#define E1000_RFCTL_EXTEN		(1u << 15)	/* extended RX descriptors */

/* ---- MRQC (82574 only): RSS over the two RX queues; needs extended descriptors ---- */

#define E1000_MRQC_MRQE_MASK		0x3u
#define E1000_MRQC_MRQE_RSS		0x1u		/* RSS on */
#define E1000_MRQC_TCPIPV4		(1u << 16)	/* hash fields: TCP/IPv4 ports+addresses */
#define E1000_MRQC_IPV4			(1u << 17)
#define E1000_MRQC_TCPIPV6EX		(1u << 18)
#define E1000_MRQC_IPV6EX		(1u << 19)
#define E1000_MRQC_IPV6			(1u << 20)
#define E1000_RETA_QUEUE		(1u << 7)	/* in each byte of RETA: the queue */

/* ---- RAL/RAH: RAL holds MAC bytes 0-3, RAH bytes 4-5 in 15:0 ---- */

#define E1000_RAH_AS_MASK		(3u << 16)	/* 00: match the destination address */
#define E1000_RAH_AV			(1u << 31)	/* entry valid */

/*
 * ---- Rings ----
 * Descriptors are 16 bytes. RDLEN/TDLEN count bytes in 19:7, so a ring holds a multiple of 8
 * descriptors (128 bytes), 8 to 65528 of them; QEMU masks the low 7 bits away. The base needs
 * 16-byte alignment (the low 4 bits are ignored). RDH == RDT means the device has no buffers.
 */
#define E1000_DESC_SIZE			16
#define E1000_RING_LEN_ALIGN		128
#define E1000_RING_MIN_DESC		8
#define E1000_RING_MAX_DESC		65528
#define E1000_RING_BASE_ALIGN		16

/* ---- Legacy RX descriptor (SDM §3.2.3; both parts, the 82574 unless RFCTL.EXTEN) ---- */

struct e1000_rx_desc {
	uint64_t addr;		/* buffer IOVA, RCTL.BSIZE bytes */
	uint16_t length;	/* bytes written to this buffer (CRC included unless SECRC) */
	uint16_t csum;		/* raw 16-bit ones' complement sum from RXCSUM.PCSS on */
	uint8_t status;		/* E1000_RXD_STAT_*; DD set last, when all else is valid */
	uint8_t errors;		/* E1000_RXD_ERR_*, valid when EOP is set */
	uint16_t special;	/* VLAN tag when STAT_VP */
};

#define E1000_RXD_STAT_DD		(1u << 0)	/* descriptor done */
#define E1000_RXD_STAT_EOP		(1u << 1)	/* last buffer of the packet */
#define E1000_RXD_STAT_IXSM		(1u << 2)	/* no checksum info (QEMU e1000: always) */
#define E1000_RXD_STAT_VP		(1u << 3)	/* 802.1Q packet, tag stripped to special */
#define E1000_RXD_STAT_UDPCS		(1u << 4)	/* 82574 only: UDP checksum checked */
#define E1000_RXD_STAT_TCPCS		(1u << 5)	/* TCP/UDP checksum checked */
#define E1000_RXD_STAT_IPCS		(1u << 6)	/* IPv4 checksum checked */
#define E1000_RXD_STAT_PIF		(1u << 7)	/* matched only the hash: check the DA */
#define E1000_RXD_ERR_CE		(1u << 0)	/* CRC or alignment error */
#define E1000_RXD_ERR_SE		(1u << 1)	/* symbol error (TBI) */
#define E1000_RXD_ERR_SEQ		(1u << 2)	/* sequence error (TBI) */
#define E1000_RXD_ERR_CXE		(1u << 4)	/* carrier extension error (TBI) */
#define E1000_RXD_ERR_TCPE		(1u << 5)	/* TCP/UDP checksum bad */
#define E1000_RXD_ERR_IPE		(1u << 6)	/* IPv4 checksum bad */
#define E1000_RXD_ERR_RXE		(1u << 7)	/* data error reported by the PHY */
#define E1000_RXD_ERR_FRAME		(E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | \
					 E1000_RXD_ERR_SEQ | E1000_RXD_ERR_CXE | E1000_RXD_ERR_RXE)

/*
 * ---- Extended RX descriptor (82574 only, RFCTL.EXTEN; DS ch. 7) ----
 * Software posts the read format; the device overwrites all 16 bytes with the write-back
 * format. Post it with rsvd zeroed: that word becomes status_error, and DD must read 0.
 */
union e1000_rx_desc_ext {
	struct {
		uint64_t addr;		/* buffer IOVA */
		uint64_t rsvd;		/* write 0 */
	} read;
	struct {
		uint32_t mrq;		/* RSS type 3:0, RX queue in 8 */
		union {
			uint32_t rss_hash;	/* when RXCSUM.PCSD is set */
			struct {
				uint16_t ip_id;	/* when PCSD is clear and STAT_IPIDV */
				uint16_t csum;	/* packet checksum, as legacy csum */
			} id_csum;
		} hi;
		uint32_t status_error;	/* E1000_RXDEXT_STAT_* in 19:0, _ERR_* in 31:20 */
		uint16_t length;	/* bytes written to this buffer */
		uint16_t vlan;		/* VLAN tag when STAT_VP */
	} wb;
};

#define E1000_RXDEXT_STAT_DD		(1u << 0)
#define E1000_RXDEXT_STAT_EOP		(1u << 1)
#define E1000_RXDEXT_STAT_VP		(1u << 3)
#define E1000_RXDEXT_STAT_UDPCS		(1u << 4)
#define E1000_RXDEXT_STAT_TCPCS		(1u << 5)
#define E1000_RXDEXT_STAT_IPCS		(1u << 6)
#define E1000_RXDEXT_STAT_IPIDV		(1u << 9)	/* hi.id_csum.ip_id is valid */
#define E1000_RXDEXT_STAT_UDPV		(1u << 10)	/* UDP checksum field was not 0 */
#define E1000_RXDEXT_STAT_ACK		(1u << 15)	/* TCP ACK */
#define E1000_RXDEXT_PKTTYPE_SHIFT	16		/* packet type, 19:16 */
#define E1000_RXDEXT_PKTTYPE_MASK	(0xFu << 16)
#define E1000_RXDEXT_ERR_CE		(1u << 24)
#define E1000_RXDEXT_ERR_SE		(1u << 25)
#define E1000_RXDEXT_ERR_SEQ		(1u << 26)
#define E1000_RXDEXT_ERR_CXE		(1u << 28)
#define E1000_RXDEXT_ERR_TCPE		(1u << 29)
#define E1000_RXDEXT_ERR_IPE		(1u << 30)
#define E1000_RXDEXT_ERR_RXE		(1u << 31)
#define E1000_RXDEXT_ERR_FRAME		(E1000_RXDEXT_ERR_CE | E1000_RXDEXT_ERR_SE | \
					 E1000_RXDEXT_ERR_SEQ | E1000_RXDEXT_ERR_CXE | \
					 E1000_RXDEXT_ERR_RXE)
#define E1000_RXDEXT_MRQ_TYPE_MASK	0xFu		/* 0: no hash computed */
#define E1000_RXDEXT_MRQ_QUEUE_SHIFT	8

/*
 * ---- Legacy TX descriptor (SDM §3.3.3) ----
 * One buffer per descriptor (SDM: up to 16288 bytes); EOP on the packet's last. The device
 * writes status back (DD) only for descriptors with RS: set it on the last of a batch and
 * reclaim the whole batch when that one shows DD.
 */
struct e1000_tx_desc {
	uint64_t addr;		/* buffer IOVA */
	uint16_t length;	/* bytes in this buffer */
	uint8_t cso;		/* where to store the checksum (CMD.IC) */
	uint8_t cmd;		/* E1000_TXD_CMD_* */
	uint8_t status;		/* E1000_TXD_STAT_*, written back when CMD.RS */
	uint8_t css;		/* where checksumming starts */
	uint16_t special;	/* VLAN tag for CMD.VLE */
};

#define E1000_TXD_CMD_EOP		(1u << 0)	/* last descriptor of the packet */
#define E1000_TXD_CMD_IFCS		(1u << 1)	/* append the Ethernet CRC */
#define E1000_TXD_CMD_IC		(1u << 2)	/* insert a checksum at CSO */
#define E1000_TXD_CMD_RS		(1u << 3)	/* report status: write DD back */
#define E1000_TXD_CMD_RPS		(1u << 4)	/* SDM: 82544 only; keep 0 on ours */
#define E1000_TXD_CMD_DEXT		(1u << 5)	/* 0 here; 1 in context/data descriptors */
#define E1000_TXD_CMD_VLE		(1u << 6)	/* insert special as VLAN tag (CTRL.VME) */
#define E1000_TXD_CMD_IDE		(1u << 7)	/* delay the interrupt by TIDV */
#define E1000_TXD_STAT_DD		(1u << 0)	/* descriptor done */
#define E1000_TXD_STAT_EC		(1u << 1)	/* excess collisions: not sent */
#define E1000_TXD_STAT_LC		(1u << 2)	/* late collision */
#define E1000_TXD_STAT_TU		(1u << 3)	/* underrun; SDM: 82544 only, expect 0 */

/*
 * ---- TCP/IP context descriptor (SDM §3.3.6) ----
 * Sets the checksum and segmentation offsets for the data descriptors that follow. Offsets
 * count bytes from the start of the frame.
 */
struct e1000_tx_context_desc {
	uint8_t ipcss;		/* IP checksum start */
	uint8_t ipcso;		/* IP checksum offset */
	uint16_t ipcse;		/* IP checksum end, inclusive; 0: to the packet's end */
	uint8_t tucss;		/* TCP/UDP checksum start */
	uint8_t tucso;		/* TCP/UDP checksum offset */
	uint16_t tucse;		/* TCP/UDP checksum end; 0: to the packet's end */
	uint32_t cmd_and_length; /* PAYLEN 19:0 | DTYP 23:20 | TUCMD 31:24 */
	uint8_t status;		/* E1000_TXD_STAT_DD, written back when TUCMD.RS */
	uint8_t hdr_len;	/* TSO: header bytes to repeat in each segment */
	uint16_t mss;		/* TSO: payload bytes per segment */
};

/*
 * ---- TCP/IP data descriptor (SDM §3.3.7) ----
 * A legacy-like buffer descriptor that uses the last context; POPTS on the packet's first.
 */
struct e1000_tx_data_desc {
	uint64_t addr;		/* buffer IOVA */
	uint32_t cmd_and_length; /* DTALEN 19:0 | DTYP 23:20 | DCMD 31:24 */
	uint8_t status;		/* E1000_TXD_STAT_*, written back when DCMD.RS */
	uint8_t popts;		/* E1000_TXD_POPTS_* */
	uint16_t special;	/* VLAN tag for DCMD.VLE */
};

/* Fields of cmd_and_length, for both descriptors above. */
#define E1000_TXD_LEN_MASK		0xFFFFFu	/* PAYLEN (context) or DTALEN (data) */
#define E1000_TXD_DTYP_CONTEXT		(0u << 20)
#define E1000_TXD_DTYP_DATA		(1u << 20)
#define E1000_TXD_TUCMD_TCP		(1u << 24)	/* context: 1 TCP, 0 UDP */
#define E1000_TXD_TUCMD_IP		(1u << 25)	/* context: 1 IPv4, 0 IPv6 */
#define E1000_TXD_TUCMD_TSE		(1u << 26)	/* context: TCP segmentation */
#define E1000_TXD_TUCMD_RS		(1u << 27)	/* context: write DD back */
#define E1000_TXD_TUCMD_DEXT		(1u << 29)	/* context: must be 1 */
#define E1000_TXD_TUCMD_IDE		(1u << 31)	/* context: delay the interrupt */
#define E1000_TXD_DCMD_EOP		(1u << 24)	/* data: last descriptor of the packet */
#define E1000_TXD_DCMD_IFCS		(1u << 25)	/* data: append the Ethernet CRC */
#define E1000_TXD_DCMD_TSE		(1u << 26)	/* data: segment with the context */
#define E1000_TXD_DCMD_RS		(1u << 27)	/* data: write DD back */
#define E1000_TXD_DCMD_DEXT		(1u << 29)	/* data: must be 1 */
#define E1000_TXD_DCMD_VLE		(1u << 30)	/* data: insert special as a VLAN tag */
#define E1000_TXD_DCMD_IDE		(1u << 31)	/* data: delay the interrupt */
#define E1000_TXD_POPTS_IXSM		(1u << 0)	/* insert the IP checksum */
#define E1000_TXD_POPTS_TXSM		(1u << 1)	/* insert the TCP/UDP checksum */

PL_STATIC_ASSERT(sizeof(struct e1000_rx_desc) == E1000_DESC_SIZE, "e1000_rx_desc");
PL_STATIC_ASSERT(offsetof(struct e1000_rx_desc, status) == 12, "e1000_rx_desc.status");
PL_STATIC_ASSERT(sizeof(union e1000_rx_desc_ext) == E1000_DESC_SIZE, "e1000_rx_desc_ext");
PL_STATIC_ASSERT(offsetof(union e1000_rx_desc_ext, wb.status_error) == 8,
		 "e1000_rx_desc_ext.wb.status_error");
PL_STATIC_ASSERT(sizeof(struct e1000_tx_desc) == E1000_DESC_SIZE, "e1000_tx_desc");
PL_STATIC_ASSERT(offsetof(struct e1000_tx_desc, status) == 12, "e1000_tx_desc.status");
PL_STATIC_ASSERT(sizeof(struct e1000_tx_context_desc) == E1000_DESC_SIZE,
		 "e1000_tx_context_desc");
PL_STATIC_ASSERT(offsetof(struct e1000_tx_context_desc, cmd_and_length) == 8,
		 "e1000_tx_context_desc.cmd_and_length");
PL_STATIC_ASSERT(sizeof(struct e1000_tx_data_desc) == E1000_DESC_SIZE, "e1000_tx_data_desc");
PL_STATIC_ASSERT(offsetof(struct e1000_tx_data_desc, status) == 12,
		 "e1000_tx_data_desc.status");

/*
 * ---- EEPROM words (SDM ch. 5; DS NVM map) ----
 * Words 0-2 hold the MAC address, first byte in the low half of word 0. The device loads it
 * into RAL(0)/RAH(0) at reset, so reading those is the short way. Words 0x00-0x3F sum to
 * 0xBABA; word 0x3F is chosen to make it so. On the dual-port 82546 the second port
 * (STATUS.FUNC 1) uses the address with the last byte's low bit flipped.
 */
#define E1000_EEPROM_MAC_ADDR		0x00	/* 3 words */
#define E1000_EEPROM_CHECKSUM		0x3F
#define E1000_EEPROM_CSUM_WORDS		0x40	/* words 0x00-0x3F are summed */
#define E1000_EEPROM_CSUM_SUM		0xBABA

#ifdef __cplusplus
}
#endif

#endif /* PL_E1000_HW_H */
