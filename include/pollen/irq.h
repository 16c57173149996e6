/* Interrupts: device vectors routed to eventfds, and a waiter that sleeps on many of them. */
#ifndef POLLEN_IRQ_H
#define POLLEN_IRQ_H

#include <pollen/compiler.h>
#include <pollen/vfio.h>

PL_BEGIN_DECLS

/* The values are vfio-pci's IRQ indexes. */
enum pl_irq_type {
	PL_IRQ_INTX = 0,
	PL_IRQ_MSI = 1,
	PL_IRQ_MSIX = 2,
};

PL_API const char *pl_irq_type_name(enum pl_irq_type type);

/* How many vectors of @type the device offers (0 when none), or a negative errno. */
PL_API int pl_irq_count(struct pl_vfio_dev *dev, enum pl_irq_type type);

/**
 * pl_irq_enable() - route vectors 0..@count-1 of @type to new eventfds
 * (VFIO_DEVICE_SET_IRQS, DATA_EVENTFD | ACTION_TRIGGER). One type at a time: enabling
 * another first disables the current one. MSI and MSI-X need bus mastering on
 * (pl_vfio_enable_dma) for the device's messages to arrive.
 */
PL_API int pl_irq_enable(struct pl_vfio_dev *dev, enum pl_irq_type type, unsigned count);

/* Tears the routing down and closes the eventfds. */
PL_API int pl_irq_disable(struct pl_vfio_dev *dev);

/* The eventfd of @vector, or -1 when interrupts are not enabled that far. */
PL_API int pl_irq_fd(struct pl_vfio_dev *dev, unsigned vector);

/**
 * pl_irq_unmask() - INTx stays masked after each interrupt until this is called (the
 * host masks the shared line for us); call it once the device's cause is cleared.
 * pl_irq_mask() masks it by hand. vfio-pci masks INTx only: MSI/MSI-X get -EINVAL.
 */
PL_API int pl_irq_mask(struct pl_vfio_dev *dev);
PL_API int pl_irq_unmask(struct pl_vfio_dev *dev);

/* Fires @vector from software (DATA_NONE | ACTION_TRIGGER): a self-test of the path. */
PL_API int pl_irq_trigger(struct pl_vfio_dev *dev, unsigned vector);

/* Sleeping on many eventfds: epoll underneath. */
struct pl_irq_waiter;

PL_API struct pl_irq_waiter *pl_irq_waiter_new(void);
PL_API void pl_irq_waiter_free(struct pl_irq_waiter *w);
/* Adds @fd (an eventfd from pl_irq_fd()); @tag comes back from pl_irq_wait(). */
PL_API int pl_irq_waiter_add(struct pl_irq_waiter *w, int fd, void *tag);
PL_API int pl_irq_waiter_del(struct pl_irq_waiter *w, int fd);

/**
 * pl_irq_wait() - sleep until an eventfd fires or @timeout_ms passes (-1: forever).
 * Reads (clears) each fired eventfd and stores its tag in @tags.
 * Return: how many fired (0 on timeout), or a negative errno.
 */
PL_API int pl_irq_wait(struct pl_irq_waiter *w, int timeout_ms, void **tags, int max);

PL_END_DECLS

#endif
