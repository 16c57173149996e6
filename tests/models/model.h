/*
 * The host-side device bed: devices modelled in this process, reached by the unmodified
 * drivers through an IOMMU context whose back end is the models' (the seam is
 * pl_iommu_ops.dev_ioctl in lib/iommu_priv.h). A device's fd is a memfd holding its
 * regions, so BAR mmap and config pread/pwrite take the path they take on hardware; the
 * VFIO ioctls are answered here, as the uAPI describes them. DMA goes through the
 * context's mappings: an access outside every mapping is refused and counted, as an
 * IOMMU fault would be.
 *
 * A runner thread steps every device now and then (registers written, doorbells rung);
 * tests and fuzzers also step devices by hand with the device's lock held
 * (model_lock/model_unlock), which is how misbehaviour is made to order.
 */
#ifndef PL_TEST_MODEL_H
#define PL_TEST_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pollen/iommu.h>
#include <pollen/mempool.h>

#define MODEL_BARS 6
#define MODEL_MAX_VECTORS 8

struct model_dev;

struct model_dev_ops {
	/* Looks at the registers and queues; true when it did something. Lock held. */
	bool (*step)(struct model_dev *d);
	/* VFIO_DEVICE_RESET, and a fresh attach: back to power-on state. Lock held. */
	void (*reset)(struct model_dev *d);
	void (*destroy)(struct model_dev *d);
	/*
	 * Whether the device may still DMA into [iova, +len): queues it serves, bus mastering
	 * on (model_bus_master). Lock held.
	 */
	bool (*reaches)(struct model_dev *d, uint64_t iova, uint64_t len);
};

struct model_dev_conf {
	const char *addr;		/* canonical DDDD:BB:DD.F */
	uint16_t vendor, device, subsys_vendor, subsys_device;
	uint32_t class_code;
	size_t bar_len[MODEL_BARS];	/* 0: not implemented */
	unsigned intx, msi, msix;	/* vectors of each kind */
	const struct model_dev_ops *ops;
	void *priv;
};

struct model_dev {
	struct model_dev *next;
	struct model_dev_conf conf;
	char addr[16];
	pthread_mutex_t lock;
	int memfd;
	volatile uint8_t *bar[MODEL_BARS];	/* the model's view of each BAR */
	uint8_t *config;
	int fd;				/* the fd the driver holds, -1 when not attached */
	bool runner_off;		/* stepped by hand only */
	/* interrupts as SET_IRQS left them */
	int irq_index;			/* VFIO_PCI_*_IRQ_INDEX, -1 when none */
	int irq_fd[MODEL_MAX_VECTORS];
	bool intx_masked;
	unsigned long irqs_raised;
	void *priv;
};

/*
 * Makes the bed: a temporary sysfs tree (POLLEN_SYSFS, POLLEN_DEVFS) and an IOMMU context
 * on the models' back end, with the runner started. One bed per process.
 */
struct pl_iommu *model_bed_open(void);
/* Stops the runner, destroys the devices and the context (which must be empty). */
void model_bed_close(void);
/* Another context on the same models' IOMMU (pl_iommu_close() it). */
struct pl_iommu *model_ctx_open(void);
/*
 * A packet pool of @n buffers of 2 KiB mapped on @ctx (NULL: none), with the mempool's
 * debug checks on: a buffer put back twice, or one not the pool's, is counted.
 */
struct pl_mempool *model_pkt_pool(struct pl_iommu *ctx, unsigned n);
/* Buffers of @mp handed out and not put back. */
unsigned model_pool_in_use(struct pl_mempool *mp);
/* A device at @conf->addr, shown in sysfs as bound to vfio-pci. */
struct model_dev *model_dev_add(const struct model_dev_conf *conf);

void model_lock(struct model_dev *d);
void model_unlock(struct model_dev *d);
/* Whether the driver left bus mastering on (PCI COMMAND): off, a device issues no DMA. */
bool model_bus_master(const struct model_dev *d);
/* The runner leaves @d alone while @off (steps only by hand, under the lock). */
void model_runner_off(struct model_dev *d, bool off);

/*
 * DMA: the bytes at @iova for @len, or NULL when they are not all inside one mapping of
 * the context (counted as a fault, and the last one described).
 */
void *model_dma(uint64_t iova, size_t len);
unsigned long model_dma_faults(void);
const char *model_last_fault(void);
void model_clear_faults(void);

/* Raises @vector as the device's interrupts are set up (MSI-X or MSI eventfd, or INTx). */
void model_irq(struct model_dev *d, unsigned vector);

/* 32-bit register access to a BAR from the model's side. */
static inline uint32_t model_reg(struct model_dev *d, unsigned bar, size_t off)
{
	return __atomic_load_n((volatile uint32_t *)(d->bar[bar] + off), __ATOMIC_ACQUIRE);
}

static inline void model_set_reg(struct model_dev *d, unsigned bar, size_t off, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)(d->bar[bar] + off), v, __ATOMIC_RELEASE);
}

#endif
