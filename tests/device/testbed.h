/* Helpers for tests that run in the QEMU test bed: where its devices are. */
#ifndef PL_TEST_TESTBED_H
#define PL_TEST_TESTBED_H

#include <stddef.h>
#include <stdint.h>

#include <pollen/iommu.h>
#include <pollen/vfio.h>
#include <pollen/pci.h>

/*
 * The address of the test bed's device of @family ("nvme", "e1000", "e1000e"), whatever
 * driver holds it; fails the test when the bed has none.
 */
const char *testbed_dev(const char *family);

/* The sysfs view of @addr; fails the test when it cannot be read. */
struct pl_pci_info testbed_info(const char *addr);

/*
 * Opens an IOMMU context of back end @be and the bed's @family device on it, failing
 * the test if either will not open; testbed_close() undoes both.
 */
struct pl_vfio_dev *testbed_open(enum pl_iommu_backend be, const char *family,
				 struct pl_iommu **ctx);
void testbed_close(struct pl_vfio_dev *dev, struct pl_iommu *ctx);

/* Fails the test unless [@iova, +@len) lies inside one of @ctx's IOVA ranges. */
void testbed_expect_in_ranges(struct pl_iommu *ctx, uint64_t iova, size_t len);

/* Captures the library's last error line, for checking what a user would read. */
void testbed_capture_log(void);
const char *testbed_last_log(void);

/* Criterion parameters: each case once per IOMMU back end. */
extern const enum pl_iommu_backend testbed_backends[2];

#endif
