/*
 * The target: subsystems and their namespaces, the controllers hosts make, a thread
 * accepting connections and handing each to a poller, and the pollers, each owning its
 * connections and its own pl_blk queues (SPDK's model: no lock on the I/O path).
 */
#define _GNU_SOURCE	/* accept4, pipe2 */
#include "nvmf_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pollen/log.h>

/* ---- subsystems ---- */

static bool nqn_ok(const char *nqn)
{
	size_t l = nqn ? strlen(nqn) : 0;

	return l > 4 && l <= 223 && !strncmp(nqn, "nqn.", 4);
}

struct pl_nvmf_tgt *pl_nvmf_create(const struct pl_nvmf_conf *conf)
{
	struct pl_nvmf_tgt *t = calloc(1, sizeof(*t));

	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	if (conf)
		t->conf = *conf;
	if (!t->conf.port)
		t->conf.port = NVMF_TCP_PORT;
	if (!t->conf.pollers)
		t->conf.pollers = 1;
	/*
	 * Measured on the bed (compare-nvmf): sleeping at once halved QD1 reads against the
	 * kernel's target, never sleeping took the initiator's CPU at QD32; 1000 passes
	 * beat the kernel's target at both.
	 */
	if (!t->conf.idle_spins)
		t->conf.idle_spins = 1000;
	if (t->conf.pollers > NVMF_MAX_POLLERS) {
		pl_err("nvmf: %u pollers asked for; at most %d", t->conf.pollers, NVMF_MAX_POLLERS);
		free(t);
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	snprintf(t->subsys[0].nqn, NVMF_NQN_LEN, "%s", PL_NVMF_DISCOVERY_NQN);
	t->subsys[0].discovery = true;
	snprintf(t->subsys[0].serial, sizeof(t->subsys[0].serial), "pollen-discovery");
	t->lfd[0] = t->lfd[1] = -1;
	t->stop_pipe[0] = t->stop_pipe[1] = -1;
	return t;
}

int pl_nvmf_add_subsystem(struct pl_nvmf_tgt *t, const char *nqn)
{
	if (!nqn_ok(nqn)) {
		pl_err("nvmf: '%s' is not an NQN: want 'nqn.' and at most 223 bytes, e.g. "
		       "nqn.2026-12.io.pollen:disk1", nqn ? nqn : "(null)");
		return -EINVAL;
	}
	if (nvmf_subsys_find(t, nqn)) {
		pl_err("nvmf: subsystem %s is there already", nqn);
		return -EEXIST;
	}
	if (t->started || t->nsubsys >= NVMF_MAX_SUBSYS) {
		pl_err("nvmf: no subsystem can be added %s", t->started ? "once started" :
		       "past the limit of 8");
		return t->started ? -EBUSY : -ENOSPC;
	}
	struct nvmf_subsys *s = &t->subsys[++t->nsubsys];
	snprintf(s->nqn, NVMF_NQN_LEN, "%s", nqn);
	snprintf(s->serial, sizeof(s->serial), "pollen%08x", nvmf_crc32c(nqn, strlen(nqn)));
	return 0;
}

static struct nvmf_subsys *subsys_arg(struct pl_nvmf_tgt *t, const char *nqn)
{
	struct nvmf_subsys *s = nqn ? nvmf_subsys_find(t, nqn) : NULL;

	if (!s || s->discovery)
		pl_err("nvmf: no subsystem %s: pl_nvmf_add_subsystem() first", nqn ? nqn : "(null)");
	return s && !s->discovery ? s : NULL;
}

int pl_nvmf_allow_host(struct pl_nvmf_tgt *t, const char *subnqn, const char *hostnqn)
{
	struct nvmf_subsys *s = subsys_arg(t, subnqn);

	if (!s)
		return -ENOENT;
	if (!nqn_ok(hostnqn) || s->nhosts >= NVMF_MAX_HOSTS) {
		pl_err("nvmf: host '%s' cannot be allowed (not an NQN, or %d hosts already)",
		       hostnqn ? hostnqn : "(null)", NVMF_MAX_HOSTS);
		return -EINVAL;
	}
	snprintf(s->hosts[s->nhosts++], NVMF_NQN_LEN, "%s", hostnqn);
	return 0;
}

int pl_nvmf_add_ns(struct pl_nvmf_tgt *t, const char *subnqn, struct pl_blk *blk)
{
	struct nvmf_subsys *s = subsys_arg(t, subnqn);

	if (!s)
		return -ENOENT;
	if (!blk || t->started || s->nns >= NVMF_MAX_NS) {
		pl_err("nvmf: no namespace added to %s (%s)", s->nqn, !blk ? "no device" :
		       t->started ? "started already" : "32 namespaces already");
		return -EINVAL;
	}
	s->ns[s->nns++] = blk;
	return (int)s->nns;
}

/* ---- pollers ---- */

static void conn_close(struct nvmf_poller *p, struct nvmf_conn **link)
{
	struct nvmf_conn *c = *link;

	*link = c->next;
	if (c->ctrl) {
		/* The admin queue gone: the association ends, its I/O queues with it. */
		if (!c->qid && !__atomic_load_n(&c->ctrl->dead, __ATOMIC_RELAXED)) {
			__atomic_store_n(&c->ctrl->dead, true, __ATOMIC_RELAXED);
			pl_info("nvmf: controller %u of %s: the association ended",
				c->ctrl->cntlid, c->subsys->nqn);
		}
		nvmf_ctrl_leave(p->t, c->ctrl);
	}
	if (p->u)
		nvmf_uring_remove(p, c);
	nvmf_conn_free(c);
	p->nconns--;
}

/* Whether @c may close now: none of its I/Os is with a block queue, or waiting for one. */
static bool quiet(const struct nvmf_conn *c)
{
	if (c->retry_head)
		return false;
	if (!c->qid)
		return true;	/* admin commands end at once; AERs are only held */
	for (unsigned i = 0; i < c->qsize; i++)
		if (c->reqs[i].state == NVMF_REQ_EXEC)
			return false;
	return true;
}

/* One pass over a connection; whether anything moved. *@gone: it can be freed. */
static bool serve(struct nvmf_conn *c, uint64_t now, bool *gone)
{
	bool moved = false;
	int r = c->sock_dead ? 0 : nvmf_conn_rx(c);

	if (r < 0)
		c->sock_dead = c->closing = true;
	moved |= r > 0;
	moved |= nvmf_conn_retry(c);	/* I/Os a full queue refused, again */
	if (c->ctrl && !c->qid && c->ctrl->kato_ms && now > c->ctrl->ka_deadline_ns &&
	    !__atomic_load_n(&c->ctrl->dead, __ATOMIC_RELAXED)) {
		pl_warn("nvmf: controller %u of %s: no command within its keep alive timeout "
			"(%u ms): the association ends", c->ctrl->cntlid, c->subsys->nqn,
			c->ctrl->kato_ms);
		__atomic_store_n(&c->ctrl->dead, true, __ATOMIC_RELAXED);
	}
	if (c->ctrl && __atomic_load_n(&c->ctrl->dead, __ATOMIC_RELAXED))
		c->closing = true;
	int w = c->sock_dead ? 0 : nvmf_conn_tx(c);
	moved |= w > 0;
	if (w < 0)
		c->sock_dead = c->closing = true;
	if (c->sock_dead)
		nvmf_conn_drop_sends(c);	/* nobody to send them to */
	/* Closing: once the last bytes are out (a C2HTermReq, responses) and no I/O is out. */
	*gone = c->closing && (c->sock_dead || (!c->send_head && c->raw_done >= c->raw_len)) &&
		quiet(c);
	return moved;
}

static int make_queues(struct nvmf_poller *p)
{
	struct pl_nvmf_tgt *t = p->t;

	for (unsigned s = 1; s <= t->nsubsys; s++)
		for (unsigned n = 0; n < t->subsys[s].nns; n++)
			if (!(p->q[s][n] = pl_blk_queue_create(t->subsys[s].ns[n], 512)))
				return -errno;
	return 0;
}

static void free_queues(struct nvmf_poller *p)
{
	for (unsigned s = 0; s < sizeof(p->q) / sizeof(p->q[0]); s++)
		for (unsigned n = 0; n < NVMF_MAX_NS; n++)
			if (p->q[s][n]) {
				while (pl_blk_outstanding(p->q[s][n]))
					pl_blk_poll(p->q[s][n], 0);
				pl_blk_queue_destroy(p->q[s][n]);
				p->q[s][n] = NULL;
			}
}

static void take_incoming(struct nvmf_poller *p)
{
	pthread_mutex_lock(&p->lock);
	struct nvmf_conn *in = p->incoming;
	p->incoming = NULL;
	pthread_mutex_unlock(&p->lock);
	while (in) {
		struct nvmf_conn *c = in;

		in = c->next;
		c->next = p->conns;
		p->conns = c;
		p->nconns++;
		if (p->u && nvmf_uring_add(p, c)) {
			pl_err("nvmf: no io_uring receive for a new connection: it is closed");
			c->sock_dead = c->closing = true;
		}
	}
}

/* Sleeps until a socket or the wake pipe has something, or @ms pass. */
static void idle_wait(struct nvmf_poller *p, int ms)
{
	size_t want = (size_t)p->nconns + 2;
	nfds_t n = 0;

	/* Only when idle: the array grows with the connections, never on the I/O path. */
	if (want > p->nfds) {
		struct pollfd *f = realloc(p->fds, want * sizeof(*f));

		if (!f) {
			usleep(1000);	/* no memory: a short nap instead */
			return;
		}
		p->fds = f;
		p->nfds = want;
	}
	p->fds[n++] = (struct pollfd){ .fd = p->wake[0], .events = POLLIN };
	/* With a ring, what comes in is its completions; a socket is waited on to send. */
	if (p->u)
		p->fds[n++] = (struct pollfd){ .fd = nvmf_uring_fd(p), .events = POLLIN };
	for (struct nvmf_conn *c = p->conns; c && n < p->nfds; c = c->next) {
		short out = c->send_head || c->raw_done < c->raw_len ? POLLOUT : 0;

		if (!p->u || out)
			p->fds[n++] = (struct pollfd){ .fd = c->fd,
						       .events = (short)((p->u ? 0 : POLLIN) | out) };
	}
	if (poll(p->fds, n, ms) > 0 && (p->fds[0].revents & POLLIN)) {
		char b[64];

		while (read(p->wake[0], b, sizeof(b)) > 0)
			;
	}
}

static void *poller_main(void *arg)
{
	struct nvmf_poller *p = arg;
	unsigned idle = 0;

	if (p->u && nvmf_uring_start(p))
		nvmf_uring_free(p);	/* then plain sockets: logged */

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE) || p->conns) {
		bool moved = false;
		uint64_t now = nvmf_now_ns();

		if (__atomic_load_n(&p->incoming, __ATOMIC_RELAXED))
			take_incoming(p);
		if (p->u)
			moved |= nvmf_uring_reap(p);
		for (struct nvmf_conn **link = &p->conns; *link;) {
			bool gone;

			if (__atomic_load_n(&p->stop, __ATOMIC_RELAXED))
				(*link)->closing = true;
			moved |= serve(*link, now, &gone);
			if (gone)
				conn_close(p, link);
			else
				link = &(*link)->next;
		}
		unsigned out = 0;
		for (unsigned s = 1; s <= p->t->nsubsys; s++)
			for (unsigned n = 0; n < p->t->subsys[s].nns; n++) {
				pl_blk_kick(p->q[s][n]);
				moved |= pl_blk_poll(p->q[s][n], 0) > 0;
				out += pl_blk_outstanding(p->q[s][n]);
			}
		/*
		 * Polling while a device has I/O of ours; with none, and nothing moving, the
		 * next thing can only come from a socket: sleep on them, so the core goes to
		 * whoever runs beside us (on one machine, the initiator itself). The device's
		 * completions are never slept on.
		 */
		idle = moved ? 0 : idle + 1;
		if (!out && idle > p->t->conf.idle_spins)
			idle_wait(p, 100);
	}
	free_queues(p);
	nvmf_uring_free(p);
	return NULL;
}

/* A byte down a wake pipe; a full one wakes its reader as well. */
static void wake(int fd)
{
	ssize_t n = write(fd, "w", 1);

	(void)n;
}

/* ---- listening ---- */

static int listen_on(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1;

	if (inet_pton(AF_INET, addr ? addr : "0.0.0.0", &sa.sin_addr) != 1) {
		pl_err("nvmf: '%s' is not an IPv4 address", addr);
		return -EINVAL;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64)) {
		int ret = -errno;
		pl_err("nvmf: listening on %s:%u: %s", addr ? addr : "0.0.0.0", port, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

static void *acceptor_main(void *arg)
{
	struct pl_nvmf_tgt *t = arg;

	for (;;) {
		struct pollfd fds[3] = { { .fd = t->stop_pipe[0], .events = POLLIN },
					 { .fd = t->lfd[0], .events = POLLIN },
					 { .fd = t->lfd[1], .events = POLLIN } };

		if (poll(fds, 3, -1) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		for (int i = 1; i < 3; i++) {
			if (!(fds[i].revents & POLLIN))
				continue;
			int fd = accept4(fds[i].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
			if (fd < 0)
				continue;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			struct nvmf_poller *p = &t->pollers[t->next_poller++ % t->npollers];
			struct nvmf_conn *c = nvmf_conn_new(fd, p);
			if (!c) {
				pl_err("nvmf: no memory for a connection");
				close(fd);
				continue;
			}
			pthread_mutex_lock(&p->lock);
			c->next = p->incoming;
			p->incoming = c;
			pthread_mutex_unlock(&p->lock);
			wake(p->wake[1]);
		}
	}
	return NULL;
}

/* What a poller keeps past its thread: its wake pipe, its lock, its poll array. */
static void poller_fini(struct nvmf_poller *p)
{
	for (int i = 0; i < 2; i++)
		if (p->wake[i] >= 0)
			close(p->wake[i]);
	free(p->fds);
	pthread_mutex_destroy(&p->lock);
}

int pl_nvmf_start(struct pl_nvmf_tgt *t)
{
	int ret;

	if (t->started)
		return -EBUSY;
	if ((t->lfd[0] = listen_on(t->conf.addr, t->conf.port)) < 0)
		return t->lfd[0];
	if (t->conf.discovery_port && t->conf.port != NVMF_TCP_DISC_PORT &&
	    (t->lfd[1] = listen_on(t->conf.addr, NVMF_TCP_DISC_PORT)) < 0) {
		ret = t->lfd[1];
		goto fail;
	}
	if (pipe2(t->stop_pipe, O_CLOEXEC)) {
		ret = -errno;
		goto fail;
	}
	for (unsigned i = 0; i < t->conf.pollers; i++) {
		struct nvmf_poller *p = &t->pollers[i];

		p->t = t;
		p->wake[0] = p->wake[1] = -1;
		pthread_mutex_init(&p->lock, NULL);
		if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) || (ret = make_queues(p)) ||
		    (t->conf.sock == PL_NVMF_SOCK_URING && (ret = nvmf_uring_new(p)))) {
			ret = ret ? ret : -errno;
			pl_err("nvmf: poller %u: %s", i, strerror(-ret));
			goto fail_pollers;
		}
		if ((ret = -pthread_create(&p->thread, NULL, poller_main, p)))
			goto fail_pollers;
		t->npollers++;
	}
	if ((ret = -pthread_create(&t->acceptor, NULL, acceptor_main, t)))
		goto fail_pollers;
	t->started = true;
	pl_info("nvmf: listening on %s:%u%s, %u subsystem(s), %u poller(s)",
		t->conf.addr ? t->conf.addr : "0.0.0.0", t->conf.port,
		t->lfd[1] >= 0 ? " and 8009" : "", t->nsubsys, t->npollers);
	return 0;
fail_pollers:
	for (unsigned i = 0; i < t->npollers; i++) {
		__atomic_store_n(&t->pollers[i].stop, true, __ATOMIC_RELEASE);
		pthread_join(t->pollers[i].thread, NULL);
	}
	/* And the one that was being made: what it got before it failed. */
	if (t->npollers < t->conf.pollers) {
		free_queues(&t->pollers[t->npollers]);
		nvmf_uring_free(&t->pollers[t->npollers]);
	}
	for (unsigned i = 0; i <= t->npollers && i < t->conf.pollers; i++)
		poller_fini(&t->pollers[i]);
	t->npollers = 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (t->lfd[i] >= 0)
			close(t->lfd[i]);
		if (t->stop_pipe[i] >= 0)
			close(t->stop_pipe[i]);
		t->lfd[i] = t->stop_pipe[i] = -1;
	}
	return ret;
}

void pl_nvmf_stats(struct pl_nvmf_tgt *t, struct pl_nvmf_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < t->npollers; i++) {
		const struct nvmf_poller *p = &t->pollers[i];

		out->connections += __atomic_load_n(&p->nconns, __ATOMIC_RELAXED);
		out->reads += __atomic_load_n(&p->reads, __ATOMIC_RELAXED);
		out->writes += __atomic_load_n(&p->writes, __ATOMIC_RELAXED);
		out->other += __atomic_load_n(&p->other, __ATOMIC_RELAXED);
		out->read_bytes += __atomic_load_n(&p->read_bytes, __ATOMIC_RELAXED);
		out->written_bytes += __atomic_load_n(&p->written_bytes, __ATOMIC_RELAXED);
		out->errors += __atomic_load_n(&p->errors, __ATOMIC_RELAXED);
		out->refused += __atomic_load_n(&p->refused, __ATOMIC_RELAXED);
		out->hdgst_conns += __atomic_load_n(&p->hdgst_conns, __ATOMIC_RELAXED);
		out->ddgst_conns += __atomic_load_n(&p->ddgst_conns, __ATOMIC_RELAXED);
	}
}

void pl_nvmf_destroy(struct pl_nvmf_tgt *t)
{
	if (!t)
		return;
	if (t->started) {
		wake(t->stop_pipe[1]);
		pthread_join(t->acceptor, NULL);
		for (unsigned i = 0; i < t->npollers; i++) {
			__atomic_store_n(&t->pollers[i].stop, true, __ATOMIC_RELEASE);
			wake(t->pollers[i].wake[1]);
			pthread_join(t->pollers[i].thread, NULL);
			take_incoming(&t->pollers[i]);
			while (t->pollers[i].conns)
				conn_close(&t->pollers[i], &t->pollers[i].conns);
		}
	}
	for (unsigned i = 0; i < t->npollers; i++)
		poller_fini(&t->pollers[i]);
	for (int i = 0; i < 2; i++) {
		if (t->lfd[i] >= 0)
			close(t->lfd[i]);
		if (t->stop_pipe[i] >= 0)
			close(t->stop_pipe[i]);
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}
