/*
 * Log pages and Asynchronous Events (NVMe 1.4, 5.2 and 5.14). AERs stay outstanding on
 * the admin queue (admin.c sends them and puts their completions aside, whatever admin
 * command is being waited for); here the page each event names is read (which unmasks
 * that kind of event) and the AERs sent again, for pl_nvme_poll_admin() (ctrl.c) to
 * tell the app.
 */
#include "nvme_priv.h"

#include <pollen/irq.h>
#include <pollen/log.h>
#include <pollen/mmio.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int get_log_locked(struct pl_nvme_ctrl *c, uint8_t lid, uint32_t nsid, void *buf,
			  size_t len, bool rae, struct nvme_cqe *cpl)
{
	uint32_t numd0 = (uint32_t)(len / 4 - 1);
	struct nvme_sqe cmd = {
		.opcode = NVME_ADMIN_GET_LOG_PAGE,
		.nsid = nsid,
		.cdw10 = NVME_LOG_CDW10(lid, numd0) | (rae ? NVME_LOG_RAE : 0),
		.cdw11 = NVME_LOG_CDW11(numd0),
	};

	return pl_nvme_admin_data_locked(c, &cmd, buf, len, cpl);
}

int pl_nvme_get_log(struct pl_nvme_ctrl *c, uint8_t lid, uint32_t nsid, void *buf, size_t len,
		    bool rae)
{
	struct nvme_cqe cpl = { 0 };
	int ret;

	if (!len || len % 4 || len > 4096) {
		pl_err("%s: log page 0x%02x of %zu bytes: want a multiple of 4 up to 4096",
		       c->addr, lid, len);
		return -EINVAL;
	}
	pthread_mutex_lock(&c->admin_lock);
	ret = get_log_locked(c, lid, nsid, buf, len, rae, &cpl);
	pthread_mutex_unlock(&c->admin_lock);
	if (ret == -EIO && !pl_nvme_dead(c))
		pl_err("%s: Get Log Page 0x%02x: %s", c->addr, lid,
		       pl_nvme_status_name(NVME_CQE_SCT_SC(cpl.status)));
	return ret;
}

void pl_nvme_events_start_locked(struct pl_nvme_ctrl *c)
{
	if (c->opts.no_events)
		return;
	/* Every SMART critical warning the spec defines (bits 0-4), and the notices
	 * the controller says it sends (OAES bits 8 and 9 match the feature's). */
	uint32_t aec = NVME_AEC_SMART(0x1f) |
		       (c->id->oaes & (NVME_AEC_NS_ATTR | NVME_AEC_FW_ACTIVATION));
	struct nvme_sqe cmd = {
		.opcode = NVME_ADMIN_SET_FEATURES,
		.cdw10 = NVME_FEAT_CDW10(NVME_FEAT_ASYNC_EVENT_CONFIG),
		.cdw11 = aec,
	};
	struct nvme_cqe cpl = { 0 };

	if (pl_nvme_admin_locked(c, &cmd, &cpl))
		pl_info("%s: Asynchronous Event Configuration 0x%x refused (%s): error events only",
			c->addr, aec, pl_nvme_status_name(NVME_CQE_SCT_SC(cpl.status)));
	/*
	 * As many as the controller takes (AERL), and the admin queue: its CQ must hold every
	 * AER's completion and one command's, and one entry of a ring stays empty.
	 */
	c->aer_max = c->id->aerl + 1u < PL_NVME_MAX_AERS ? c->id->aerl + 1u : PL_NVME_MAX_AERS;
	if (c->aer_max > c->opts.admin_depth - 2)
		c->aer_max = c->opts.admin_depth - 2;
	if (!c->aer_max)
		pl_info("%s: an admin queue of %u entries leaves no room for Asynchronous Event "
			"Requests: no events", c->addr, c->opts.admin_depth);
	c->aer_busy = 0;
	pl_nvme_aers_send_locked(c);
}

/* How much of the log page an event names is read to clear it. */
static size_t log_len(const struct pl_nvme_ctrl *c, uint8_t lid)
{
	switch (lid) {
	case NVME_LOG_ERROR: {
		size_t n = ((size_t)c->id->elpe + 1) * sizeof(struct nvme_error_log_entry);
		return n > 4096 ? 4096 : n;
	}
	case NVME_LOG_CHANGED_NS:
		return 4096;
	default:
		return 512;
	}
}

static const char *type_name(uint8_t type)
{
	switch (type) {
	case NVME_AER_ERROR: return "error";
	case NVME_AER_SMART: return "SMART / health";
	case NVME_AER_NOTICE: return "notice";
	case NVME_AER_IO_CMD_SET: return "I/O command set";
	case NVME_AER_VENDOR: return "vendor specific";
	default: return "reserved type";
	}
}

/*
 * The events reaped since the last call, each with the log page it names read (which
 * lets the controller report that kind again), and the AERs sent again; admin_lock held.
 * Each event's log is malloc'd: the caller frees it.
 */
unsigned pl_nvme_events_collect_locked(struct pl_nvme_ctrl *c, struct pl_nvme_event *evs)
{
	unsigned n = 0;

	pl_nvme_admin_reap_locked(c);
	for (unsigned i = 0; i < c->nevents; i++) {
		uint32_t dw0 = c->events[i];
		struct pl_nvme_event *ev = &evs[n++];
		struct nvme_cqe cpl;
		void *log;

		*ev = (struct pl_nvme_event){
			.type = (uint8_t)NVME_AER_TYPE(dw0), .info = (uint8_t)NVME_AER_INFO(dw0),
			.lid = (uint8_t)NVME_AER_LID(dw0), .dw0 = dw0,
		};
		ev->log_len = log_len(c, ev->lid);
		/* Read without RAE: that is what lets the controller report this kind again. */
		if ((log = malloc(ev->log_len)) &&
		    get_log_locked(c, ev->lid, NVME_NSID_ALL, log, ev->log_len, false, &cpl)) {
			free(log);
			log = NULL;
		}
		ev->log = log;
		if (!log)
			ev->log_len = 0;
	}
	c->nevents = 0;
	pl_nvme_aers_send_locked(c);
	return n;
}

/* The warning every event gets, whether or not the app has a callback. */
void pl_nvme_event_say(const struct pl_nvme_ctrl *c, const struct pl_nvme_event *ev)
{
	if (ev->type == NVME_AER_SMART && ev->log)
		pl_warn("%s: asynchronous event: %s (info 0x%02x), critical warning now 0x%02x",
			c->addr, type_name(ev->type), ev->info,
			((const struct nvme_smart_log *)ev->log)->critical_warning);
	else
		pl_warn("%s: asynchronous event: %s (info 0x%02x, log page 0x%02x)",
			c->addr, type_name(ev->type), ev->info, ev->lid);
}

void pl_nvme_set_event_cb(struct pl_nvme_ctrl *c, pl_nvme_event_cb cb, void *arg)
{
	pthread_mutex_lock(&c->admin_lock);
	c->event_cb = cb;
	c->event_arg = arg;
	pthread_mutex_unlock(&c->admin_lock);
}

int pl_nvme_admin_irq_fd(const struct pl_nvme_ctrl *c)
{
	return c->irq_vectors ? pl_irq_fd(c->dev, 0) : -1;
}
