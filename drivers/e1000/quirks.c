/*
 * Devices that depart from the datasheet, by PCI IDs, in one table (SPDK's nvme_quirks.c
 * is the model). Each entry names the model and the version it was seen on, and what it
 * does; the driver asks for a quirk by name, never by an ID of its own.
 */
#include "e1000_port.h"

#include <stddef.h>

/* QEMU marks the real parts it emulates with this subsystem (docs/specs/pci-ids.rst). */
#define PCI_SUBVENDOR_QEMU	0x1af4	/* Red Hat (formerly Qumranet) */
#define PCI_SUBDEVICE_QEMU	0x1100

static const struct {
	uint16_t vendor, device, subsys_vendor, subsys_device;
	unsigned quirks;
} table[] = {
	/*
	 * QEMU's e1000 (hw/net/e1000.c; -device e1000 and e1000-82545em), seen
	 * on QEMU 7.2: an RCTL write starts a 1000 ms flush timer during which it takes no
	 * frame, and what arrives meanwhile is queued only to a limit, then lost; and MPC,
	 * RNBC and the error counters are plain registers, not cleared on read.
	 */
	{ E1000_VENDOR_INTEL, E1000_DEV_82540EM, PCI_SUBVENDOR_QEMU, PCI_SUBDEVICE_QEMU,
	  E1000_QUIRK_RCTL_PAUSE | E1000_QUIRK_STICKY_STATS },
	{ E1000_VENDOR_INTEL, E1000_DEV_82545EM_COPPER, PCI_SUBVENDOR_QEMU, PCI_SUBDEVICE_QEMU,
	  E1000_QUIRK_RCTL_PAUSE | E1000_QUIRK_STICKY_STATS },
};

unsigned e1000_quirks(const struct pl_pci_info *info)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].vendor == info->vendor && table[i].device == info->device &&
		    table[i].subsys_vendor == info->subsys_vendor &&
		    table[i].subsys_device == info->subsys_device)
			return table[i].quirks;
	return 0;
}
