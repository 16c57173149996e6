/*
 * VFIO regions: BAR mmap (sparse where the kernel says so), pread/pwrite of BARs and
 * config space, COMMAND, reset. Below vfio.c, which opens the device: nothing here calls it.
 */
#include "vfio_dev.h"

#include <pollen/log.h>

#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Region info with its capability chain; the caller frees. */
static struct vfio_region_info *get_region(struct pl_vfio_dev *dev, unsigned index)
{
	size_t sz = sizeof(struct vfio_region_info);
	struct vfio_region_info *r;

	if (index >= dev->dinfo.num_regions) {
		errno = EINVAL;
		return NULL;
	}
	for (;;) {
		if (!(r = calloc(1, sz)))
			return NULL;
		r->argsz = sz;
		r->index = index;
		if (pl_vfio_ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, r)) {
			int err = errno;
			pl_err("VFIO_DEVICE_GET_REGION_INFO(%u) on %s: %s", index, dev->info.addr,
			       strerror(err));
			free(r);
			errno = err;
			return NULL;
		}
		if (r->argsz <= sz)
			return r;
		sz = r->argsz;	/* capabilities follow: ask again with room for them */
		free(r);
	}
}

static struct vfio_region_info_cap_sparse_mmap *sparse_cap(struct vfio_region_info *r)
{
	if (!(r->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return NULL;
	for (uint32_t off = r->cap_offset; off && off + 8 <= r->argsz;) {
		struct vfio_info_cap_header *h = (void *)((char *)r + off);

		if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP)
			return (void *)h;
		off = h->next;
	}
	return NULL;
}

int pl_vfio_region_info(struct pl_vfio_dev *dev, unsigned index, struct pl_vfio_region *out)
{
	struct vfio_region_info *r = get_region(dev, index);

	if (!r)
		return -errno;
	*out = (struct pl_vfio_region){
		.index = index,
		.size = r->size,
		.offset = r->offset,
		.readable = r->flags & VFIO_REGION_INFO_FLAG_READ,
		.writable = r->flags & VFIO_REGION_INFO_FLAG_WRITE,
		.mappable = r->flags & VFIO_REGION_INFO_FLAG_MMAP,
		.sparse = sparse_cap(r) != NULL,
	};
	free(r);
	return 0;
}

static void *bar_map(struct pl_vfio_dev *dev, unsigned bar, size_t *len)
{
	struct vfio_region_info *r;
	void *va;

	if (dev->bars[bar].va) {
		*len = dev->bars[bar].len;
		return dev->bars[bar].va;
	}
	if (!(r = get_region(dev, bar)))
		return NULL;
	if (!r->size) {
		pl_err("%s: BAR%u is not implemented", dev->info.addr, bar);
		free(r);
		errno = ENODEV;
		return NULL;
	}
	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		pl_debug("%s: BAR%u cannot be mmapped (an I/O port BAR?): use pread/pwrite",
			 dev->info.addr, bar);
		free(r);
		errno = ENOTSUP;
		return NULL;
	}

	struct vfio_region_info_cap_sparse_mmap *sp = sparse_cap(r);
	if (!sp) {
		va = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd, r->offset);
	} else {
		/* Reserve the whole BAR, then map the allowed areas over it in place. */
		va = mmap(NULL, r->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (uint32_t i = 0; va != MAP_FAILED && i < sp->nr_areas; i++) {
			struct vfio_region_sparse_mmap_area *a = &sp->areas[i];

			if (!a->size)
				continue;
			if (mmap((char *)va + a->offset, a->size, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, dev->fd, r->offset + a->offset) == MAP_FAILED) {
				int err = errno;
				munmap(va, r->size);
				errno = err;
				va = MAP_FAILED;
			}
		}
	}
	if (va == MAP_FAILED) {
		int err = errno;
		pl_err("%s: mmap of BAR%u (%llu bytes): %s", dev->info.addr, bar,
		       (unsigned long long)r->size, strerror(err));
		free(r);
		errno = err;
		return NULL;
	}
	dev->bars[bar] = (struct pl_vfio_bar){ .va = va, .len = r->size };
	*len = r->size;
	free(r);
	return va;
}

void *pl_vfio_bar_map(struct pl_vfio_dev *dev, unsigned bar, size_t *len)
{
	void *va;

	if (bar >= PL_VFIO_BARS) {
		errno = EINVAL;
		return NULL;
	}
	/* Check and map as one step: two threads must not each map the BAR. */
	pthread_mutex_lock(&dev->lock);
	va = bar_map(dev, bar, len);
	int err = errno;
	pthread_mutex_unlock(&dev->lock);
	errno = err;
	return va;
}

void pl_vfio_bars_release(struct pl_vfio_dev *dev)
{
	for (int i = 0; i < PL_VFIO_BARS; i++)
		if (dev->bars[i].va) {
			munmap(dev->bars[i].va, dev->bars[i].len);
			dev->bars[i].va = NULL;
		}
}

int pl_vfio_region_rw(struct pl_vfio_dev *dev, unsigned index, void *buf, size_t len,
		      off_t off, bool write)
{
	const struct pl_vfio_region *reg = &dev->regions[index];
	char name[8] = "config";
	ssize_t n;
	int ret;

	if (index < PL_VFIO_ROM)
		snprintf(name, sizeof(name), "BAR%u", index);
	else if (index == PL_VFIO_ROM)
		snprintf(name, sizeof(name), "ROM");
	if (off < 0 || (uint64_t)off + len > reg->size) {
		pl_err("%s: %s access of %zu bytes at 0x%llx is outside its %llu bytes",
		       dev->info.addr, name, len, (long long)off, (unsigned long long)reg->size);
		return -EINVAL;
	}
	n = write ? pwrite(dev->fd, buf, len, reg->offset + off) :
		    pread(dev->fd, buf, len, reg->offset + off);
	if (n == (ssize_t)len)
		return 0;
	ret = n < 0 ? -errno : -EIO;
	pl_err("%s: %s %s of %zu bytes at 0x%llx: %s", dev->info.addr, name,
	       write ? "write" : "read", len, (long long)off, strerror(-ret));
	return ret;
}

int pl_vfio_bar_read(struct pl_vfio_dev *dev, unsigned bar, void *buf, size_t len, off_t off)
{
	return bar < PL_VFIO_BARS ? pl_vfio_region_rw(dev, bar, buf, len, off, false) : -EINVAL;
}

int pl_vfio_bar_write(struct pl_vfio_dev *dev, unsigned bar, const void *buf, size_t len,
		      off_t off)
{
	return bar < PL_VFIO_BARS ? pl_vfio_region_rw(dev, bar, (void *)buf, len, off, true) :
				    -EINVAL;
}

/* COMMAND read, @set bits set and @clear bits cleared, written back. */
static int update_command(struct pl_vfio_dev *dev, uint16_t set, uint16_t clear)
{
	uint16_t cmd;
	int ret;

	if ((ret = pl_vfio_cfg_read(dev, &cmd, sizeof(cmd), PCI_COMMAND)))
		return ret;
	cmd = (uint16_t)((cmd | set) & ~clear);
	return pl_vfio_cfg_write(dev, &cmd, sizeof(cmd), PCI_COMMAND);
}

int pl_vfio_enable_dma(struct pl_vfio_dev *dev)
{
	return update_command(dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 0);
}

int pl_vfio_disable_dma(struct pl_vfio_dev *dev)
{
	return update_command(dev, 0, PCI_COMMAND_MASTER);
}

int pl_vfio_reset(struct pl_vfio_dev *dev)
{
	if (!(dev->dinfo.flags & VFIO_DEVICE_FLAGS_RESET)) {
		pl_err("%s: the device offers no reset VFIO can use (no FLR, PM or bus reset)",
		       dev->info.addr);
		return -ENOTTY;
	}
	if (pl_vfio_ioctl(dev, VFIO_DEVICE_RESET, NULL)) {
		int ret = -errno;
		pl_err("VFIO_DEVICE_RESET on %s: %s", dev->info.addr, strerror(-ret));
		return ret;
	}
	return 0;
}

int pl_vfio_cfg_read(struct pl_vfio_dev *dev, void *buf, size_t len, off_t off)
{
	return pl_vfio_region_rw(dev, PL_VFIO_CONFIG, buf, len, off, false);
}

int pl_vfio_cfg_write(struct pl_vfio_dev *dev, const void *buf, size_t len, off_t off)
{
	return pl_vfio_region_rw(dev, PL_VFIO_CONFIG, (void *)buf, len, off, true);
}
