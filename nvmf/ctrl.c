/*
 * The controllers hosts make (the dynamic model: one per admin queue's Connect, joined by
 * its I/O queues' Connects) and the subsystems they are found in; the clock for keep
 * alive. Connect runs on any poller: t->lock guards the table.
 */
#include "nvmf_priv.h"

#include <string.h>
#include <time.h>

uint64_t nvmf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct nvmf_subsys *nvmf_subsys_find(struct pl_nvmf_tgt *t, const char *nqn)
{
	for (unsigned i = 0; i <= t->nsubsys; i++)
		if (!strncmp(t->subsys[i].nqn, nqn, NVMF_NQN_LEN))
			return &t->subsys[i];
	return NULL;
}

/* ---- controllers ---- */

struct nvmf_ctrl *nvmf_ctrl_new(struct pl_nvmf_tgt *t, struct nvmf_subsys *s,
				const struct nvmf_connect_data *d, uint32_t kato_ms)
{
	struct nvmf_ctrl *c = NULL;

	if (d->cntlid != 0xffff)	/* the dynamic model: the target picks */
		return NULL;
	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < NVMF_MAX_CTRLS && !c; i++)
		if (!t->ctrls[i].used)
			c = &t->ctrls[i];
	if (c) {
		*c = (struct nvmf_ctrl){ .used = true, .cntlid = (uint16_t)(c - t->ctrls + 1),
					 .subsys = s, .kato_ms = kato_ms, .io_queues = 1, .conns = 1 };
		memcpy(c->hostnqn, d->hostnqn, NVMF_NQN_LEN);
		memcpy(c->hostid, d->hostid, sizeof(c->hostid));
		if (kato_ms)
			c->ka_deadline_ns = nvmf_now_ns() +
					    (uint64_t)(kato_ms + NVMF_KATO_GRACE_MS) * 1000000;
	}
	pthread_mutex_unlock(&t->lock);
	return c;
}

struct nvmf_ctrl *nvmf_ctrl_join(struct pl_nvmf_tgt *t, struct nvmf_subsys *s,
				 const struct nvmf_connect_data *d)
{
	struct nvmf_ctrl *c = NULL;

	pthread_mutex_lock(&t->lock);
	if (d->cntlid >= 1 && d->cntlid <= NVMF_MAX_CTRLS) {
		c = &t->ctrls[d->cntlid - 1];
		/* The same host, the same subsystem, and the association still on. */
		if (!c->used || __atomic_load_n(&c->dead, __ATOMIC_RELAXED) || c->subsys != s ||
		    strncmp(c->hostnqn, d->hostnqn, NVMF_NQN_LEN) ||
		    memcmp(c->hostid, d->hostid, sizeof(c->hostid)))
			c = NULL;
		else
			c->conns++;
	}
	pthread_mutex_unlock(&t->lock);
	return c;
}

void nvmf_ctrl_leave(struct pl_nvmf_tgt *t, struct nvmf_ctrl *c)
{
	pthread_mutex_lock(&t->lock);
	if (!--c->conns)
		c->used = false;
	pthread_mutex_unlock(&t->lock);
}
