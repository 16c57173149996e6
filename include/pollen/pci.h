/* PCI devices as sysfs shows them: addresses, IDs, drivers, IOMMU groups, VFIO cdevs. */
#ifndef POLLEN_PCI_H
#define POLLEN_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollen/compiler.h>

PL_BEGIN_DECLS

/* "DDDD:BB:DD.F" and its NUL. */
#define PL_PCI_ADDR_LEN 13
/* Any name sysfs can hold (a driver, a cdev): NAME_MAX and its NUL. */
#define PL_PCI_NAME_LEN 256

struct pl_pci_addr {
	uint16_t domain;
	uint8_t bus;
	uint8_t dev;
	uint8_t fn;
};

/** struct pl_pci_info - what sysfs says of one PCI function. */
struct pl_pci_info {
	char addr[PL_PCI_ADDR_LEN];	/* canonical DDDD:BB:DD.F */
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint32_t class_code;		/* base class, subclass, prog-if: 0x010802 is NVMe */
	char driver[PL_PCI_NAME_LEN];	/* bound driver, "" when none */
	int iommu_group;		/* -1 when the device has no IOMMU group */
	char vfio_cdev[PL_PCI_NAME_LEN];	/* "vfio0" when bound to vfio-pci with cdev support */
};

/**
 * pl_pci_addr_parse() - parse "DDDD:BB:DD.F" or "BB:DD.F" (domain 0).
 * Return: 0, or -EINVAL (logged) when @s is not a PCI address.
 */
PL_API int pl_pci_addr_parse(const char *s, struct pl_pci_addr *out);
PL_API void pl_pci_addr_format(const struct pl_pci_addr *a, char buf[PL_PCI_ADDR_LEN]);

/**
 * pl_pci_info() - read one device's IDs, driver, IOMMU group and VFIO cdev.
 * Return: 0; -EINVAL for a malformed address; -ENODEV when no such device exists; -EIO
 *         when sysfs says something that is not what the kernel writes there (logged).
 */
PL_API int pl_pci_info(const char *addr, struct pl_pci_info *out);

/**
 * pl_pci_scan() - call @fn for every PCI function, in address order.
 * Stops early and returns @fn's value when it is non-zero.
 */
PL_API int pl_pci_scan(int (*fn)(const struct pl_pci_info *info, void *arg), void *arg);

/* Devices Pollen has a driver for. */
PL_API bool pl_pci_is_nvme(const struct pl_pci_info *info);
PL_API bool pl_pci_is_e1000(const struct pl_pci_info *info);
/* A short name for the device family ("nvme", "e1000", "e1000e"), or NULL. */
PL_API const char *pl_pci_family(const struct pl_pci_info *info);

/**
 * pl_pci_bind() - hand @addr to @driver (e.g. "vfio-pci"): unbind it from its current
 * driver, set driver_override so no other driver grabs it, and bind.
 * Return: 0; -ENODEV for no such device; -ENOENT when @driver is not loaded (modprobe
 *         it); -EACCES without permission on sysfs; -EIO when the driver refused it.
 *         After a failure past the unbind, the device is given back to the driver it had
 *         (driver_override cleared), not left without one.
 */
PL_API int pl_pci_bind(const char *addr, const char *driver);

/* Unbinds @addr from its driver and clears driver_override; the device stays unbound. */
PL_API int pl_pci_unbind(const char *addr);

/**
 * pl_pci_in_use() - whether taking @addr from its driver would take it from someone: an
 * NVMe namespace (or a partition) mounted, used as swap or held by another block device;
 * a network interface up or with an address. dpdk-devbind and SPDK's setup.sh refuse
 * such devices; so does pollen-devbind unless --force.
 * Return: 1 with @why (@len bytes) saying what uses it, 0, or a negative errno.
 */
PL_API int pl_pci_in_use(const char *addr, char *why, size_t len);

/**
 * pl_pci_restore() - give @addr back to the kernel: unbind, clear driver_override and let
 * the kernel probe the driver that matches it (its own: nvme, e1000, e1000e).
 * @driver: if not NULL, set to the driver that took it ("" when none did).
 */
PL_API int pl_pci_restore(const char *addr, char driver[PL_PCI_NAME_LEN]);

/*
 * Where sysfs and the device nodes are: "/sys" and "/dev", or POLLEN_SYSFS and
 * POLLEN_DEVFS from the environment (tests point them at temporary trees).
 */
PL_API const char *pl_sysfs_root(void);
PL_API const char *pl_devfs_root(void);

PL_END_DECLS

#endif
