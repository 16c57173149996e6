/* The host-side device bed: an IOMMU back end, VFIO ioctls and a runner for device models. */
#define _GNU_SOURCE
#include "model.h"

#include "iommu_priv.h"
#include "uapi.h"

#include "tmptree.h"

#include <pollen/pkt.h>

#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/* Region i of a device fd starts at i << REGION_SHIFT, as vfio-pci spaces its own. */
#define REGION_SHIFT 24
#define CONFIG_LEN 4096
#define IOVA_BASE 0x40000000ull		/* never equal to a VA: a driver mixing them up faults */
#define IOVA_LAST ((1ull << 39) - 1)	/* a 39-bit IOMMU, as the test bed's */

struct mapping {
	uint64_t iova;
	size_t len;
	char *va;
};

static struct {
	struct pl_iommu *ctx;
	pthread_mutex_t lock;		/* the mappings and the device list */
	struct mapping *maps;
	unsigned nmaps, maps_cap;
	uint64_t next_iova;
	struct model_dev *devs;
	unsigned long faults;
	char last_fault[160];
	pthread_t runner;
	bool stop;
} bed = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void die(const char *what)
{
	fprintf(stderr, "model bed: %s: %s\n", what, strerror(errno));
	abort();
}

/* ---- the IOMMU ---- */

static int m_open(struct pl_iommu *ctx)
{
	(void)ctx;
	return 0;
}

static void m_close(struct pl_iommu *ctx)
{
	(void)ctx;
}

static bool m_is_open(const struct pl_iommu *ctx)
{
	return ctx == bed.ctx;
}

static bool m_mappable(const struct pl_iommu *ctx)
{
	(void)ctx;
	return true;
}

static int m_ranges(struct pl_iommu *ctx, struct pl_iova_range *out, int max)
{
	(void)ctx;
	if (max > 0)
		out[0] = (struct pl_iova_range){ IOVA_BASE, IOVA_LAST };
	return 1;
}

static bool overlaps(uint64_t iova, size_t len)
{
	for (unsigned i = 0; i < bed.nmaps; i++)
		if (iova < bed.maps[i].iova + bed.maps[i].len && bed.maps[i].iova < iova + len)
			return true;
	return false;
}

static int add_map(void *va, size_t len, uint64_t iova)
{
	int ret = 0;

	pthread_mutex_lock(&bed.lock);
	if (iova < IOVA_BASE || iova + len - 1 > IOVA_LAST || overlaps(iova, len)) {
		ret = -EEXIST;
	} else {
		if (bed.nmaps == bed.maps_cap) {
			bed.maps_cap = bed.maps_cap ? 2 * bed.maps_cap : 16;
			if (!(bed.maps = realloc(bed.maps, bed.maps_cap * sizeof(*bed.maps))))
				die("realloc");
		}
		bed.maps[bed.nmaps++] = (struct mapping){ iova, len, va };
	}
	pthread_mutex_unlock(&bed.lock);
	return ret;
}

static int m_map(struct pl_iommu *ctx, void *va, size_t len, size_t align, uint64_t *iova)
{
	(void)ctx;
	pthread_mutex_lock(&bed.lock);
	uint64_t at = (bed.next_iova + align - 1) & ~(uint64_t)(align - 1);
	bed.next_iova = at + len;
	pthread_mutex_unlock(&bed.lock);
	if (at + len - 1 > IOVA_LAST)
		return -ENOSPC;
	*iova = at;
	return add_map(va, len, at);
}

static int m_map_fixed(struct pl_iommu *ctx, void *va, size_t len, uint64_t iova)
{
	(void)ctx;
	return add_map(va, len, iova);
}

static int m_unmap(struct pl_iommu *ctx, uint64_t iova, size_t len)
{
	int ret = -ENOENT;

	(void)ctx;
	/*
	 * Memory a device may still reach (a queue it serves, see its reaches op) must not be
	 * unmapped: on hardware the device then faults, or, once the IOVA is mapped again,
	 * writes into someone else's buffer. Counted as a DMA fault.
	 */
	for (struct model_dev *d = bed.devs; d; d = d->next) {
		model_lock(d);
		bool live = d->fd >= 0 && d->conf.ops->reaches && d->conf.ops->reaches(d, iova, len);
		model_unlock(d);
		if (live) {
			pthread_mutex_lock(&bed.lock);
			bed.faults++;
			snprintf(bed.last_fault, sizeof(bed.last_fault),
				 "IOVA 0x%llx + %zu unmapped while %s may still DMA there",
				 (unsigned long long)iova, len, d->addr);
			pthread_mutex_unlock(&bed.lock);
		}
	}
	pthread_mutex_lock(&bed.lock);
	for (unsigned i = 0; i < bed.nmaps; i++)
		if (bed.maps[i].iova == iova && bed.maps[i].len == len) {
			bed.maps[i] = bed.maps[--bed.nmaps];
			ret = 0;
			break;
		}
	pthread_mutex_unlock(&bed.lock);
	return ret;
}

void *model_dma(uint64_t iova, size_t len)
{
	void *va = NULL;

	pthread_mutex_lock(&bed.lock);
	for (unsigned i = 0; i < bed.nmaps; i++) {
		struct mapping *m = &bed.maps[i];

		if (iova >= m->iova && iova - m->iova < m->len && len <= m->len - (iova - m->iova)) {
			va = m->va + (iova - m->iova);
			break;
		}
	}
	if (!va) {
		bed.faults++;
		snprintf(bed.last_fault, sizeof(bed.last_fault),
			 "DMA of %zu bytes at IOVA 0x%llx: not inside one mapping", len,
			 (unsigned long long)iova);
	}
	pthread_mutex_unlock(&bed.lock);
	return va;
}

unsigned long model_dma_faults(void)
{
	pthread_mutex_lock(&bed.lock);
	unsigned long n = bed.faults;
	pthread_mutex_unlock(&bed.lock);
	return n;
}

const char *model_last_fault(void)
{
	return bed.last_fault;
}

void model_clear_faults(void)
{
	pthread_mutex_lock(&bed.lock);
	bed.faults = 0;
	bed.last_fault[0] = 0;
	pthread_mutex_unlock(&bed.lock);
}

/* ---- devices: attach, and the VFIO device ioctls ---- */

static struct model_dev *by_fd(int fd)
{
	struct model_dev *d;

	pthread_mutex_lock(&bed.lock);
	for (d = bed.devs; d && d->fd != fd; d = d->next)
		;
	pthread_mutex_unlock(&bed.lock);
	return d;
}

static int m_attach(struct pl_iommu *ctx, const struct pl_pci_info *info, uint32_t *devid)
{
	struct model_dev *d;

	(void)ctx;
	pthread_mutex_lock(&bed.lock);
	for (d = bed.devs; d && strcmp(d->addr, info->addr); d = d->next)
		;
	pthread_mutex_unlock(&bed.lock);
	if (!d)
		return -ENODEV;
	if (d->fd >= 0)
		return -EBUSY;	/* as a second open of a VFIO device is */
	int fd = dup(d->memfd);
	if (fd < 0)
		return -errno;
	model_lock(d);
	d->fd = fd;
	d->irq_index = -1;
	d->intx_masked = false;
	d->conf.ops->reset(d);
	model_unlock(d);
	*devid = 1;
	return fd;
}

static void m_detach(struct pl_iommu *ctx, const struct pl_pci_info *info, int fd)
{
	struct model_dev *d = by_fd(fd);

	(void)ctx;
	(void)info;
	if (!d)
		return;
	model_lock(d);
	d->fd = -1;
	d->irq_index = -1;
	for (unsigned i = 0; i < MODEL_MAX_VECTORS; i++)
		d->irq_fd[i] = -1;	/* VFIO drops its references; the owner closes them */
	model_unlock(d);
	close(fd);
}

static unsigned irq_count(const struct model_dev *d, unsigned index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return d->conf.intx;
	case VFIO_PCI_MSI_IRQ_INDEX:
		return d->conf.msi;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return d->conf.msix;
	default:
		return 0;
	}
}

static int set_irqs(struct model_dev *d, struct vfio_irq_set *s)
{
	unsigned have = irq_count(d, s->index);
	uint32_t data = s->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	uint32_t action = s->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	if (s->start + s->count > have && !(data == VFIO_IRQ_SET_DATA_NONE && !s->count))
		return -EINVAL;
	if (action == VFIO_IRQ_SET_ACTION_MASK || action == VFIO_IRQ_SET_ACTION_UNMASK) {
		if (s->index != VFIO_PCI_INTX_IRQ_INDEX)
			return -EINVAL;	/* vfio-pci masks INTx only */
		d->intx_masked = action == VFIO_IRQ_SET_ACTION_MASK;
		return 0;
	}
	if (data == VFIO_IRQ_SET_DATA_NONE && !s->count) {
		d->irq_index = -1;	/* the whole index torn down */
		for (unsigned i = 0; i < MODEL_MAX_VECTORS; i++)
			d->irq_fd[i] = -1;
		return 0;
	}
	if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
		if (d->irq_index >= 0 && d->irq_index != (int)s->index)
			return -EINVAL;	/* one index at a time, as vfio-pci */
		d->irq_index = (int)s->index;
		d->intx_masked = false;
		for (unsigned i = 0; i < s->count && s->start + i < MODEL_MAX_VECTORS; i++)
			d->irq_fd[s->start + i] = ((int *)s->data)[i];
		return 0;
	}
	if (data == VFIO_IRQ_SET_DATA_NONE) {
		for (unsigned i = 0; i < s->count; i++)
			model_irq(d, s->start + i);
		return 0;
	}
	return -EINVAL;
}

static int region_info(struct model_dev *d, struct vfio_region_info *r)
{
	if (r->argsz < sizeof(*r) || r->index > VFIO_PCI_CONFIG_REGION_INDEX + 1)
		return -EINVAL;
	r->flags = 0;
	r->cap_offset = 0;
	r->size = 0;
	r->offset = (uint64_t)r->index << REGION_SHIFT;
	if (r->index < MODEL_BARS && d->conf.bar_len[r->index]) {
		r->size = d->conf.bar_len[r->index];
		r->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			   VFIO_REGION_INFO_FLAG_MMAP;
	} else if (r->index == VFIO_PCI_CONFIG_REGION_INDEX) {
		r->size = CONFIG_LEN;
		r->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	}
	return 0;
}

static int m_dev_ioctl(struct pl_iommu *ctx, int fd, unsigned long req, void *arg)
{
	struct model_dev *d = by_fd(fd);
	int ret = 0;

	(void)ctx;
	if (!d) {
		errno = EBADF;
		return -1;
	}
	model_lock(d);
	switch (req) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info *i = arg;

		i->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		i->num_regions = VFIO_PCI_CONFIG_REGION_INDEX + 2;
		i->num_irqs = VFIO_PCI_MSIX_IRQ_INDEX + 1;
		break;
	}
	case VFIO_DEVICE_GET_REGION_INFO:
		ret = region_info(d, arg);
		break;
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info *i = arg;

		i->count = irq_count(d, i->index);
		i->flags = VFIO_IRQ_INFO_EVENTFD |
			   (i->index == VFIO_PCI_INTX_IRQ_INDEX ? VFIO_IRQ_INFO_MASKABLE |
								  VFIO_IRQ_INFO_AUTOMASKED :
								  VFIO_IRQ_INFO_NORESIZE);
		break;
	}
	case VFIO_DEVICE_SET_IRQS:
		ret = set_irqs(d, arg);
		break;
	case VFIO_DEVICE_RESET:
		d->conf.ops->reset(d);
		break;
	default:
		ret = -ENOTTY;
	}
	model_unlock(d);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

static const struct pl_iommu_ops model_ops = {
	.backend = PL_IOMMU_IOMMUFD,
	.node = "model",
	.open = m_open,
	.close = m_close,
	.is_open = m_is_open,
	.attach = m_attach,
	.detach = m_detach,
	.mappable = m_mappable,
	.iova_ranges = m_ranges,
	.map = m_map,
	.map_fixed = m_map_fixed,
	.unmap = m_unmap,
	.dev_ioctl = m_dev_ioctl,
};

void model_irq(struct model_dev *d, unsigned vector)
{
	uint64_t one = 1;

	if (d->irq_index < 0 || vector >= MODEL_MAX_VECTORS || d->irq_fd[vector] < 0)
		return;
	if (d->irq_index == VFIO_PCI_INTX_IRQ_INDEX) {
		if (d->intx_masked)
			return;
		d->intx_masked = true;	/* automasked until VFIO_IRQ_SET_ACTION_UNMASK */
	}
	d->irqs_raised++;
	if (write(d->irq_fd[vector], &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
}

/* ---- the runner ---- */

void model_lock(struct model_dev *d)
{
	pthread_mutex_lock(&d->lock);
}

void model_unlock(struct model_dev *d)
{
	pthread_mutex_unlock(&d->lock);
}

bool model_bus_master(const struct model_dev *d)
{
	uint16_t cmd;

	memcpy(&cmd, d->config + PCI_COMMAND, sizeof(cmd));
	return cmd & PCI_COMMAND_MASTER;
}

void model_runner_off(struct model_dev *d, bool off)
{
	model_lock(d);
	d->runner_off = off;
	model_unlock(d);
}

/*
 * Devices answer within microseconds while busy; idle, the runner backs off to 100 us,
 * about what a driver's bounded waits sleep by then.
 */
/*
 * Under ThreadSanitizer a step's reads and writes are a device's DMA, not a thread's:
 * they are ordered by doorbells and phase bits, which TSan cannot see. tsan.supp names
 * the models' code, but a suppression needs the writer's stack, which TSan loses now and
 * then on a long run ("failed to restore the stack"): the driver's read was then
 * reported. The runner's steps are not recorded at all instead; what the drivers' own
 * threads race on still is.
 */
#if defined(__SANITIZE_THREAD__)
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
void AnnotateIgnoreWritesBegin(const char *file, int line);
void AnnotateIgnoreWritesEnd(const char *file, int line);
#define DEVICE_BEGIN() (AnnotateIgnoreReadsBegin(__FILE__, __LINE__), \
			AnnotateIgnoreWritesBegin(__FILE__, __LINE__))
#define DEVICE_END() (AnnotateIgnoreWritesEnd(__FILE__, __LINE__), \
		      AnnotateIgnoreReadsEnd(__FILE__, __LINE__))
#else
#define DEVICE_BEGIN() ((void)0)
#define DEVICE_END() ((void)0)
#endif

static void *runner(void *arg)
{
	long idle_ns = 2000;

	(void)arg;
	prctl(PR_SET_TIMERSLACK, 1000UL);
	while (!__atomic_load_n(&bed.stop, __ATOMIC_ACQUIRE)) {
		bool busy = false;

		pthread_mutex_lock(&bed.lock);
		struct model_dev *first = bed.devs;
		pthread_mutex_unlock(&bed.lock);
		for (struct model_dev *d = first; d; d = d->next) {
			model_lock(d);
			if (d->fd >= 0 && !d->runner_off) {
				DEVICE_BEGIN();
				busy |= d->conf.ops->step(d);
				DEVICE_END();
			}
			model_unlock(d);
		}
		idle_ns = busy ? 2000 : idle_ns < 100000 ? idle_ns * 2 : 100000;
		nanosleep(&(struct timespec){ .tv_nsec = idle_ns }, NULL);
	}
	return NULL;
}

struct pl_iommu *model_bed_open(void)
{
	tmptree_create();
	bed.next_iova = IOVA_BASE;
	bed.stop = false;
	if (!(bed.ctx = pl_iommu_open_ops(&model_ops)))
		die("pl_iommu_open_ops");
	if (pthread_create(&bed.runner, NULL, runner, NULL))
		die("pthread_create");
	return bed.ctx;
}

void model_bed_close(void)
{
	__atomic_store_n(&bed.stop, true, __ATOMIC_RELEASE);
	pthread_join(bed.runner, NULL);
	while (bed.devs) {
		struct model_dev *d = bed.devs;

		bed.devs = d->next;
		if (d->conf.ops->destroy)
			d->conf.ops->destroy(d);
		for (unsigned i = 0; i < MODEL_BARS; i++)
			if (d->bar[i])
				munmap((void *)d->bar[i], d->conf.bar_len[i]);
		munmap(d->config, CONFIG_LEN);
		close(d->memfd);
		pthread_mutex_destroy(&d->lock);
		free(d);
	}
	if (pl_iommu_close(bed.ctx))
		fprintf(stderr, "model bed: the context still holds devices or memory\n");
	bed.ctx = NULL;
	free(bed.maps);
	bed.maps = NULL;
	bed.nmaps = bed.maps_cap = 0;
	bed.faults = 0;
	tmptree_destroy();
}

static void *map_region(int memfd, unsigned index, size_t len)
{
	void *va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
			(off_t)index << REGION_SHIFT);

	if (va == MAP_FAILED)
		die("mmap of a region");
	return va;
}

struct model_dev *model_dev_add(const struct model_dev_conf *conf)
{
	struct model_dev *d = calloc(1, sizeof(*d));
	char text[32];

	if (!d)
		die("calloc");
	d->conf = *conf;
	d->priv = conf->priv;
	d->fd = -1;
	d->irq_index = -1;
	for (unsigned i = 0; i < MODEL_MAX_VECTORS; i++)
		d->irq_fd[i] = -1;
	snprintf(d->addr, sizeof(d->addr), "%s", conf->addr);
	pthread_mutex_init(&d->lock, NULL);
	if ((d->memfd = memfd_create("pollen-model", MFD_CLOEXEC)) < 0 ||
	    ftruncate(d->memfd, (off_t)(VFIO_PCI_CONFIG_REGION_INDEX + 1) << REGION_SHIFT))
		die("memfd");
	for (unsigned i = 0; i < MODEL_BARS; i++)
		if (conf->bar_len[i])
			d->bar[i] = map_region(d->memfd, i, conf->bar_len[i]);
	d->config = map_region(d->memfd, VFIO_PCI_CONFIG_REGION_INDEX, CONFIG_LEN);
	memcpy(d->config + 0x00, &conf->vendor, 2);
	memcpy(d->config + 0x02, &conf->device, 2);
	d->config[0x09] = (uint8_t)conf->class_code;
	d->config[0x0a] = (uint8_t)(conf->class_code >> 8);
	d->config[0x0b] = (uint8_t)(conf->class_code >> 16);
	memcpy(d->config + 0x2c, &conf->subsys_vendor, 2);
	memcpy(d->config + 0x2e, &conf->subsys_device, 2);

	static int group = 10;
	tmptree_add_pci(&(struct tmptree_dev){ conf->addr, conf->vendor, conf->device,
					       conf->class_code, "vfio-pci", group, group });
	group++;
	snprintf(text, sizeof(text), "0x%04x\n", conf->subsys_vendor);
	tmptree_set_attr(conf->addr, "subsystem_vendor", text);
	snprintf(text, sizeof(text), "0x%04x\n", conf->subsys_device);
	tmptree_set_attr(conf->addr, "subsystem_device", text);

	pthread_mutex_lock(&bed.lock);
	d->next = bed.devs;
	bed.devs = d;
	pthread_mutex_unlock(&bed.lock);
	return d;
}

struct pl_iommu *model_ctx_open(void)
{
	struct pl_iommu *ctx = pl_iommu_open_ops(&model_ops);

	if (!ctx)
		die("pl_iommu_open_ops");
	return ctx;
}

/* As pl_pkt_pool_create() makes each packet: its pool, its buffer and where it is. */
static void pkt_init(struct pl_mempool *mp, void *obj, unsigned idx, void *arg)
{
	struct pl_pkt *p = obj;

	(void)idx;
	(void)arg;
	memset(p, 0, sizeof(*p));
	p->pool = mp;
	p->buf_len = PL_PKT_HEADROOM + PL_PKT_DATA_ROOM;
	p->buf_iova = pl_mempool_iova(mp, p->buf);
	pl__pkt_reset(p);
}

struct pl_mempool *model_pkt_pool(struct pl_iommu *ctx, unsigned n)
{
	struct pl_mempool_params p = {
		.name = "model-pkts",
		.n = n,
		.obj_size = sizeof(struct pl_pkt) + PL_PKT_HEADROOM + PL_PKT_DATA_ROOM,
		.flags = PL_MEMPOOL_DEBUG,
		.obj_init = pkt_init,
	};
	struct pl_mempool *mp = pl_mempool_create(ctx, &p);

	if (!mp)
		die("pl_mempool_create");
	return mp;
}

unsigned model_pool_in_use(struct pl_mempool *mp)
{
	struct pl_mempool_stats st;

	pl_mempool_stats(mp, &st);
	return st.in_use;
}
