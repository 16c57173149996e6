/*
 * Receiving through io_uring (pl_nvmf_conf.sock = PL_NVMF_SOCK_URING): one ring per
 * poller, one multishot receive per connection, drawing on a ring of buffers the poller
 * registered with the kernel. The kernel fills a buffer as a host's bytes arrive and
 * posts a completion; the poller reads its completions without a system call and hands
 * the bytes to the connection's PDU reader (conn.c), which copies them where they go.
 * With plain sockets the poller asks each connection's socket, a recv() each, every
 * pass. Sends go out by sendmsg() either way (reply.c).
 */
#define _GNU_SOURCE	/* syscall */
#include "nvmf_priv.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pollen/log.h>

#define URING_ENTRIES	256
#define URING_BUFS	256		/* a power of two, as the buffer ring wants */
#define URING_BUF_SIZE	16384		/* 4 MiB of buffers a poller */
#define URING_BGID	0
#define URING_CANCEL	UINT64_MAX	/* a cancel's own completion */

struct nvmf_uring {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	size_t br_size;
	uint8_t *bufs;
	struct nvmf_conn **slots;	/* a connection's receive, by slot */
	unsigned nslots;
	uint32_t gen;			/* a slot's reuse: a late completion is told apart */
	bool deferred;			/* DEFER_TASKRUN: completions come when asked for */
};

int nvmf_uring_new(struct nvmf_poller *p)
{
	struct nvmf_uring *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	/*
	 * The kernel's part of a receive (copying into a buffer, posting the completion)
	 * runs when the poller asks (io_uring_get_events), not by interrupting it: one
	 * system call a pass for every connection. The poller's thread enables the ring,
	 * as only the thread that does may use it. Before Linux 6.1: run as it comes.
	 */
	ret = io_uring_queue_init(URING_ENTRIES, &u->ring, IORING_SETUP_SINGLE_ISSUER |
				  IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED);
	u->deferred = !ret;
	if (ret == -EINVAL)
		ret = io_uring_queue_init(URING_ENTRIES, &u->ring, 0);
	if (ret) {
		pl_err("nvmf: io_uring for the sockets: %s", strerror(-ret));
		free(u);
		return ret;
	}
	u->br_size = URING_BUFS * sizeof(struct io_uring_buf);
	u->br = mmap(NULL, u->br_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u->bufs = malloc((size_t)URING_BUFS * URING_BUF_SIZE);
	if (u->br == MAP_FAILED || !u->bufs) {
		ret = -ENOMEM;
		goto fail;
	}
	struct io_uring_buf_reg reg = { .ring_addr = (uintptr_t)u->br,
					.ring_entries = URING_BUFS, .bgid = URING_BGID };
	if ((ret = io_uring_register_buf_ring(&u->ring, &reg, 0))) {
		/* Linux 5.19 brought buffer rings; multishot receive came with them (6.0). */
		pl_err("nvmf: io_uring buffer ring: %s (multishot receive wants Linux 6.0)",
		       strerror(-ret));
		goto fail;
	}
	io_uring_buf_ring_init(u->br);
	for (unsigned i = 0; i < URING_BUFS; i++)
		io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * URING_BUF_SIZE, URING_BUF_SIZE,
				      (unsigned short)i, io_uring_buf_ring_mask(URING_BUFS), (int)i);
	io_uring_buf_ring_advance(u->br, URING_BUFS);
	p->u = u;
	return 0;
fail:
	if (u->br != MAP_FAILED)
		munmap(u->br, u->br_size);
	free(u->bufs);
	io_uring_queue_exit(&u->ring);
	free(u);
	return ret;
}

void nvmf_uring_free(struct nvmf_poller *p)
{
	struct nvmf_uring *u = p->u;

	if (!u)
		return;
	io_uring_queue_exit(&u->ring);	/* cancels what is still armed */
	munmap(u->br, u->br_size);
	free(u->bufs);
	free(u->slots);
	free(u);
	p->u = NULL;
}

int nvmf_uring_start(struct nvmf_poller *p)
{
	/* Debian's liburing 2.3 declares io_uring_enable_rings() but does not export it. */
	int ret = !p->u->deferred ? 0 :
		  syscall(__NR_io_uring_register, p->u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
			  NULL, 0) ? -errno : 0;

	if (ret)
		pl_err("nvmf: enabling the poller's io_uring: %s", strerror(-ret));
	return ret;
}

int nvmf_uring_fd(struct nvmf_poller *p)
{
	return p->u->ring.ring_fd;
}

static uint64_t tag(const struct nvmf_conn *c)
{
	return (uint64_t)c->gen << 32 | c->slot;
}

static int arm(struct nvmf_uring *u, struct nvmf_conn *c)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = URING_BGID;
	io_uring_sqe_set_data64(sqe, tag(c));
	int ret = io_uring_submit(&u->ring);
	return ret < 0 ? ret : 0;
}

/* Off the poller's I/O path: at a connection's arrival. 0 or a negative errno. */
int nvmf_uring_add(struct nvmf_poller *p, struct nvmf_conn *c)
{
	struct nvmf_uring *u = p->u;
	unsigned s;

	for (s = 0; s < u->nslots && u->slots[s]; s++)
		;
	if (s == u->nslots) {
		unsigned n = u->nslots ? 2 * u->nslots : 16;
		struct nvmf_conn **sl = realloc(u->slots, n * sizeof(*sl));

		if (!sl)
			return -ENOMEM;
		memset(sl + u->nslots, 0, (n - u->nslots) * sizeof(*sl));
		u->slots = sl;
		u->nslots = n;
	}
	c->slot = s;
	c->gen = ++u->gen;
	c->ring = true;
	u->slots[s] = c;
	int ret = arm(u, c);
	if (ret) {
		u->slots[s] = NULL;
		c->ring = false;
	}
	return ret;
}

/* Before @c is freed: its receive cancelled, its late completions dropped. */
void nvmf_uring_remove(struct nvmf_poller *p, struct nvmf_conn *c)
{
	struct nvmf_uring *u = p->u;
	struct io_uring_sqe *sqe;

	if (!c->ring)
		return;
	u->slots[c->slot] = NULL;
	c->ring = false;
	if ((sqe = io_uring_get_sqe(&u->ring))) {
		io_uring_prep_cancel64(sqe, tag(c), 0);
		io_uring_sqe_set_data64(sqe, URING_CANCEL);
		io_uring_submit(&u->ring);
	}
}

static struct nvmf_conn *conn_of(struct nvmf_uring *u, uint64_t t)
{
	uint32_t s = (uint32_t)t, g = (uint32_t)(t >> 32);
	struct nvmf_conn *c = s < u->nslots ? u->slots[s] : NULL;

	return c && c->gen == g ? c : NULL;
}

/* What the kernel received since the last pass, each to its connection: whether any. */
bool nvmf_uring_reap(struct nvmf_poller *p)
{
	struct nvmf_uring *u = p->u;
	struct io_uring_cqe *cqe;
	unsigned head, n = 0, returned = 0, rearm = 0;
	bool moved = false;

	if (u->deferred)
		io_uring_get_events(&u->ring);
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		struct nvmf_conn *c = cqe->user_data == URING_CANCEL ? NULL :
				      conn_of(u, cqe->user_data);
		n++;
		if (cqe->flags & IORING_CQE_F_BUFFER) {
			unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

			if (c && cqe->res > 0 && !c->sock_dead) {
				moved = true;
				if (nvmf_conn_feed(c, u->bufs + (size_t)bid * URING_BUF_SIZE,
						   (size_t)cqe->res) < 0)
					c->sock_dead = c->closing = true;
			}
			io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * URING_BUF_SIZE,
					      URING_BUF_SIZE, (unsigned short)bid,
					      io_uring_buf_ring_mask(URING_BUFS), (int)returned++);
		}
		if (!c || (cqe->flags & IORING_CQE_F_MORE))
			continue;
		/*
		 * The receive ended: the host closed (0), an error, or no buffer was free
		 * (-ENOBUFS: the ones this pass returns serve it again).
		 */
		if (cqe->res == 0 || (cqe->res < 0 && cqe->res != -ENOBUFS)) {
			c->sock_dead = c->closing = true;
			moved = true;
		} else if (!c->sock_dead) {
			c->rearm = true;
			rearm++;
		}
	}
	io_uring_buf_ring_advance(u->br, returned);
	io_uring_cq_advance(&u->ring, n);
	/* After the buffers went back: a receive that ran dry starts again (rare: the scan
	 * of the slots is only made then, never on a pass that only brought data). */
	for (unsigned s = 0; rearm && s < u->nslots; s++) {
		struct nvmf_conn *c = u->slots[s];

		if (c && c->rearm) {
			c->rearm = false;
			if (arm(u, c) < 0)
				c->sock_dead = c->closing = true;
		}
	}
	return moved;
}
