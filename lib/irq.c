/* Interrupts through VFIO_DEVICE_SET_IRQS into eventfds, and an epoll waiter over them. */
#include "vfio_dev.h"

#include <pollen/irq.h>
#include <pollen/log.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

const char *pl_irq_type_name(enum pl_irq_type type)
{
	switch (type) {
	case PL_IRQ_INTX:
		return "INTx";
	case PL_IRQ_MSI:
		return "MSI";
	case PL_IRQ_MSIX:
		return "MSI-X";
	}
	return "?";
}

int pl_irq_count(struct pl_vfio_dev *dev, enum pl_irq_type type)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = type };

	if ((unsigned)type >= dev->dinfo.num_irqs)
		return 0;
	if (pl_vfio_ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &info)) {
		int ret = -errno;
		pl_err("VFIO_DEVICE_GET_IRQ_INFO(%s) on %s: %s", pl_irq_type_name(type),
		       dev->info.addr, strerror(-ret));
		return ret;
	}
	return info.count;
}

/* One SET_IRQS call; @fds (count of them) only for DATA_EVENTFD. */
static int set_irqs(struct pl_vfio_dev *dev, unsigned index, uint32_t flags, unsigned start,
		    unsigned count, const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + (fds ? count * sizeof(int) : 0);
	struct vfio_irq_set *s = calloc(1, sz);
	int ret = 0;

	if (!s)
		return -ENOMEM;
	*s = (struct vfio_irq_set){
		.argsz = sz, .flags = flags, .index = index, .start = start, .count = count,
	};
	if (fds)
		memcpy(s->data, fds, count * sizeof(int));
	if (pl_vfio_ioctl(dev, VFIO_DEVICE_SET_IRQS, s))
		ret = -errno;
	free(s);
	return ret;
}

static void close_fds(struct pl_vfio_dev *dev)
{
	for (unsigned i = 0; i < dev->irq.count; i++)
		close(dev->irq.fds[i]);
	free(dev->irq.fds);
	dev->irq = (struct pl_vfio_irq_state){ .type = -1 };
}

int pl_irq_disable(struct pl_vfio_dev *dev)
{
	int ret = 0;

	if (dev->irq.count) {
		/* DATA_NONE with count 0 tears the whole index down. */
		ret = set_irqs(dev, dev->irq.type, VFIO_IRQ_SET_DATA_NONE |
			       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
		if (ret)
			pl_err("%s: disabling %s: %s", dev->info.addr,
			       pl_irq_type_name(dev->irq.type), strerror(-ret));
	}
	close_fds(dev);
	return ret;
}

void pl_vfio_irq_release(struct pl_vfio_dev *dev)
{
	if (dev->irq.count)
		pl_irq_disable(dev);
}

int pl_irq_enable(struct pl_vfio_dev *dev, enum pl_irq_type type, unsigned count)
{
	int have = pl_irq_count(dev, type), ret;

	if (have < 0)
		return have;
	if (!count || (unsigned)have < count) {
		pl_err("%s: %u %s vector(s) asked for, the device has %d", dev->info.addr, count,
		       pl_irq_type_name(type), have);
		return -EINVAL;
	}
	if (dev->irq.count && (ret = pl_irq_disable(dev)))
		return ret;

	int *fds = calloc(count, sizeof(int));
	if (!fds)
		return -ENOMEM;
	for (unsigned i = 0; i < count; i++) {
		if ((fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
			ret = -errno;
			while (i--)
				close(fds[i]);
			free(fds);
			pl_err("%s: eventfd: %s", dev->info.addr, strerror(-ret));
			return ret;
		}
	}
	dev->irq = (struct pl_vfio_irq_state){ .type = type, .count = count, .fds = fds };
	ret = set_irqs(dev, type, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0,
		       count, fds);
	if (ret) {
		pl_err("VFIO_DEVICE_SET_IRQS(%s, %u eventfds) on %s: %s", pl_irq_type_name(type),
		       count, dev->info.addr, strerror(-ret));
		close_fds(dev);
	}
	return ret;
}

int pl_irq_fd(struct pl_vfio_dev *dev, unsigned vector)
{
	return vector < dev->irq.count ? dev->irq.fds[vector] : -1;
}

static int mask_action(struct pl_vfio_dev *dev, uint32_t action, const char *what)
{
	if (!dev->irq.count)
		return -EINVAL;
	int ret = set_irqs(dev, dev->irq.type, VFIO_IRQ_SET_DATA_NONE | action, 0, 1, NULL);
	if (ret)
		pl_err("%s: %s of %s: %s", dev->info.addr, what, pl_irq_type_name(dev->irq.type),
		       strerror(-ret));
	return ret;
}

int pl_irq_mask(struct pl_vfio_dev *dev)
{
	return mask_action(dev, VFIO_IRQ_SET_ACTION_MASK, "mask");
}

int pl_irq_unmask(struct pl_vfio_dev *dev)
{
	return mask_action(dev, VFIO_IRQ_SET_ACTION_UNMASK, "unmask");
}

int pl_irq_trigger(struct pl_vfio_dev *dev, unsigned vector)
{
	if (vector >= dev->irq.count)
		return -EINVAL;
	int ret = set_irqs(dev, dev->irq.type, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			   vector, 1, NULL);
	if (ret)
		pl_err("%s: software trigger of %s vector %u: %s", dev->info.addr,
		       pl_irq_type_name(dev->irq.type), vector, strerror(-ret));
	return ret;
}

/* ---- the waiter ---- */

struct waited {
	struct waited *next;
	int fd;
	void *tag;
};

struct pl_irq_waiter {
	int epfd;
	struct waited *list;
};

struct pl_irq_waiter *pl_irq_waiter_new(void)
{
	struct pl_irq_waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		int err = errno;
		free(w);
		errno = err;
		return NULL;
	}
	return w;
}

void pl_irq_waiter_free(struct pl_irq_waiter *w)
{
	if (!w)
		return;
	while (w->list) {
		struct waited *e = w->list;
		w->list = e->next;
		free(e);
	}
	close(w->epfd);
	free(w);
}

int pl_irq_waiter_add(struct pl_irq_waiter *w, int fd, void *tag)
{
	struct waited *e = malloc(sizeof(*e));

	if (!e)
		return -ENOMEM;
	*e = (struct waited){ .next = w->list, .fd = fd, .tag = tag };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = e };
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int ret = -errno;
		free(e);
		return ret;
	}
	w->list = e;
	return 0;
}

int pl_irq_waiter_del(struct pl_irq_waiter *w, int fd)
{
	for (struct waited **p = &w->list; *p; p = &(*p)->next)
		if ((*p)->fd == fd) {
			struct waited *e = *p;
			/* Out of epoll first: it must not hand back an entry we freed. */
			if (epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL))
				return -errno;
			*p = e->next;
			free(e);
			return 0;
		}
	return -ENOENT;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int pl_irq_wait(struct pl_irq_waiter *w, int timeout_ms, void **tags, int max)
{
	struct epoll_event ev[64];
	int n;

	if (max > 64)
		max = 64;
	if (max < 1)
		return -EINVAL;
	/* A signal interrupts the wait; what is left of the timeout is waited, not all of it. */
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	while ((n = epoll_wait(w->epfd, ev, max, timeout_ms)) < 0 && errno == EINTR)
		if (timeout_ms >= 0 && (timeout_ms = deadline - now_ms()) < 0)
			timeout_ms = 0;
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct waited *e = ev[i].data.ptr;
		uint64_t cnt;

		/* Reading resets the eventfd, so the next wait sleeps until a new interrupt. */
		if (read(e->fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			return -errno;
		if (tags)
			tags[i] = e->tag;
	}
	return n;
}
