/* Interrupts: vectors into eventfds, raised by software and by the devices themselves. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <pollen/iommu.h>
#include <pollen/irq.h>
#include <pollen/mmio.h>
#include <pollen/vfio.h>

#include "e1000_hw.h"
#include "testbed.h"

TESTBED_TEST_ON(PL_IOMMU_IOMMUFD, irq, vector_counts_match_the_device_models, TESTBED_CONTEXT)
{
	/* 82540EM: conventional PCI, INTx only. */
	testbed_reopen("e1000");
	cr_expect_eq(pl_irq_count(tb.dev, PL_IRQ_INTX), 1);
	cr_expect_eq(pl_irq_count(tb.dev, PL_IRQ_MSI), 0);
	cr_expect_eq(pl_irq_count(tb.dev, PL_IRQ_MSIX), 0);
	pl_vfio_close(tb.dev);
	tb.dev = NULL;
	/* 82574L: MSI and five MSI-X vectors. */
	testbed_reopen("e1000e");
	cr_expect_eq(pl_irq_count(tb.dev, PL_IRQ_INTX), 1);
	cr_expect_eq(pl_irq_count(tb.dev, PL_IRQ_MSI), 1);
	cr_expect_eq(pl_irq_count(tb.dev, PL_IRQ_MSIX), 5);
	pl_vfio_close(tb.dev);
	tb.dev = NULL;
	/* QEMU's NVMe: msix_qsize 65 by default. */
	testbed_reopen("nvme");
	cr_expect_eq(pl_irq_count(tb.dev, PL_IRQ_MSIX), 65);
}

struct trig_case {
	enum pl_iommu_backend backend;
	char family[8];
	enum pl_irq_type type;
	unsigned vectors;
};

ParameterizedTestParameters(irq, software_trigger_reaches_only_its_eventfd)
{
	static const struct trig_case kinds[] = {
		{ 0, "e1000", PL_IRQ_INTX, 1 },
		{ 0, "e1000e", PL_IRQ_INTX, 1 },
		{ 0, "e1000e", PL_IRQ_MSI, 1 },
		{ 0, "e1000e", PL_IRQ_MSIX, 5 },
		{ 0, "nvme", PL_IRQ_MSIX, 8 },
	};
	enum { N = sizeof(kinds) / sizeof(kinds[0]) };
	static struct trig_case cases[2 * N];

	/* Every kind under every back end. */
	for (int b = 0; b < 2; b++)
		for (int k = 0; k < N; k++) {
			cases[b * N + k] = kinds[k];
			cases[b * N + k].backend = testbed_backends[b];
		}
	return cr_make_param_array(struct trig_case, cases, 2 * N);
}

ParameterizedTest(struct trig_case *c, irq, software_trigger_reaches_only_its_eventfd,
		  .fini = testbed_teardown)
{
	testbed_setup(c->backend, c->family);
	struct pl_vfio_dev *dev = tb.dev;
	struct pl_irq_waiter *w = pl_irq_waiter_new();
	void *tags[8];

	cr_assert_not_null(w);
	cr_assert_eq(pl_irq_enable(dev, c->type, c->vectors), 0);
	for (unsigned v = 0; v < c->vectors; v++)
		cr_assert_eq(pl_irq_waiter_add(w, pl_irq_fd(dev, v), (void *)(uintptr_t)(v + 1)), 0);
	cr_expect_eq(pl_irq_wait(w, 0, tags, 8), 0, "a vector fired before any trigger");

	unsigned v = c->vectors - 1;
	cr_assert_eq(pl_irq_trigger(dev, v), 0);
	cr_assert_eq(pl_irq_wait(w, 1000, tags, 8), 1, "%s %s vector %u did not fire", c->family,
		     pl_irq_type_name(c->type), v);
	cr_expect_eq((uintptr_t)tags[0], v + 1);
	/* The wait consumed the event: nothing more is pending. */
	cr_expect_eq(pl_irq_wait(w, 0, tags, 8), 0);

	cr_assert_eq(pl_irq_disable(dev), 0);
	cr_expect_eq(pl_irq_fd(dev, 0), -1);
	pl_irq_waiter_free(w);
}

/*
 * Turns bus mastering on for the NIC (an MSI is a memory write by the device), masks and
 * clears every cause, and routes vector 0 of @type to an eventfd that @w watches.
 */
static void nic_irq_setup(enum pl_irq_type type, struct pl_irq_waiter *w)
{
	cr_assert_not_null(w);
	cr_assert_eq(pl_vfio_enable_dma(tb.dev), 0);
	pl_mmio_write32(tb.bar0, E1000_IMC, ~0u);
	(void)pl_mmio_read32(tb.bar0, E1000_ICR);
	cr_assert_eq(pl_irq_enable(tb.dev, type, 1), 0);
	cr_assert_eq(pl_irq_waiter_add(w, pl_irq_fd(tb.dev, 0), NULL), 0);
}

/* The device raises a link-status cause of its own when software sets it in ICS. */
static void raise_lsc(void)
{
	pl_mmio_write32(tb.bar0, E1000_IMS, E1000_ICR_LSC);
	pl_mmio_write32(tb.bar0, E1000_ICS, E1000_ICR_LSC);
}

/* Reads (clears) the causes and masks them all again. */
static void nic_irq_quiet(void)
{
	(void)pl_mmio_read32(tb.bar0, E1000_ICR);
	pl_mmio_write32(tb.bar0, E1000_IMC, ~0u);
}

TESTBED_TEST(irq, e1000_raises_intx_which_stays_masked_until_unmask, "e1000")
{
	struct pl_irq_waiter *w = pl_irq_waiter_new();

	nic_irq_setup(PL_IRQ_INTX, w);
	raise_lsc();
	cr_assert_eq(pl_irq_wait(w, 2000, NULL, 1), 1, "no INTx from the e1000");
	cr_expect(pl_mmio_read32(tb.bar0, E1000_ICR) & E1000_ICR_LSC, "ICR lacks the cause we set");

	/* Without an unmask the line stays masked: a new cause does not get through... */
	pl_mmio_write32(tb.bar0, E1000_ICS, E1000_ICR_LSC);
	cr_expect_eq(pl_irq_wait(w, 300, NULL, 1), 0, "INTx got through while masked");
	/* ...and unmasking delivers the one that is pending. */
	cr_assert_eq(pl_irq_unmask(tb.dev), 0);
	cr_expect_eq(pl_irq_wait(w, 2000, NULL, 1), 1, "pending INTx not delivered on unmask");
	nic_irq_quiet();
	pl_irq_waiter_free(w);
}

TESTBED_TEST(irq, e1000e_raises_msi, "e1000e")
{
	struct pl_irq_waiter *w = pl_irq_waiter_new();

	nic_irq_setup(PL_IRQ_MSI, w);
	raise_lsc();
	cr_expect_eq(pl_irq_wait(w, 2000, NULL, 1), 1, "no MSI from the e1000e");
	nic_irq_quiet();
	pl_irq_waiter_free(w);
}

TESTBED_TEST_ON(PL_IOMMU_IOMMUFD, irq, bad_requests_and_timeouts, "e1000")
{
	struct pl_vfio_dev *dev = tb.dev;
	struct pl_irq_waiter *w = pl_irq_waiter_new();
	struct timespec a, b;

	cr_expect_eq(pl_irq_enable(dev, PL_IRQ_MSIX, 1), -EINVAL, "MSI-X on an INTx-only device");
	cr_expect_eq(pl_irq_enable(dev, PL_IRQ_INTX, 2), -EINVAL);
	cr_expect_eq(pl_irq_trigger(dev, 0), -EINVAL, "trigger with nothing enabled");
	cr_assert_eq(pl_irq_enable(dev, PL_IRQ_INTX, 1), 0);
	cr_assert_eq(pl_irq_waiter_add(w, pl_irq_fd(dev, 0), NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_expect_eq(pl_irq_wait(w, 200, NULL, 1), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	cr_expect_geq(ms, 150, "returned after %ld ms of a 200 ms timeout", ms);
	pl_irq_waiter_free(w);
	/* Closing (in the tear-down) with interrupts on tears them down. */
}
