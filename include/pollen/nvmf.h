/* An NVMe over TCP target: pl_blk namespaces served to NVMe/TCP hosts (Linux's nvme-tcp). */
#ifndef POLLEN_NVMF_H
#define POLLEN_NVMF_H

/*
 * The target listens on an address and port (4420, and 8009 for discovery as well when
 * asked), answers the discovery controller's log page and serves subsystems, each with
 * namespaces backed by any pl_blk (Pollen's NVMe driver, or io_uring on a file or block
 * device). A poller thread owns its connections and its own pl_blk queues: nothing on
 * the I/O path takes a lock, and sockets are non-blocking and polled.
 *
 * Namespaces on Pollen's NVMe driver in one target share one IOMMU context
 * (pl_blk_opts.ctx): a connection's buffers are DMA memory that each of them can reach.
 */
#include <stdbool.h>
#include <stdint.h>

#include <pollen/compiler.h>

PL_BEGIN_DECLS

struct pl_blk;
struct pl_nvmf_tgt;

#define PL_NVMF_DISCOVERY_NQN "nqn.2014-08.org.nvmexpress.discovery"

struct pl_nvmf_conf {
	const char *addr;	/* IPv4 address to listen on; NULL: 0.0.0.0 */
	uint16_t port;		/* 0: 4420 */
	bool discovery_port;	/* listen on 8009 as well */
	unsigned pollers;	/* poller threads; 0: 1 */
	/*
	 * Empty passes a poller makes, with no I/O on a device, before it sleeps on its
	 * sockets until one has something: 0 the default (1000), 1 sleeps at once (the
	 * least CPU, a wake-up's latency on each command), UINT32_MAX never sleeps.
	 */
	unsigned idle_spins;
	/*
	 * How a poller takes in what hosts send: PL_NVMF_SOCK_DEFAULT (non-blocking
	 * sockets, a recv() a connection a pass), PL_NVMF_SOCK_URING (one io_uring a
	 * poller, a multishot receive a connection into buffers registered with the
	 * kernel: completions read with no system call; Linux 6.0 or later).
	 */
	enum pl_nvmf_sock { PL_NVMF_SOCK_DEFAULT, PL_NVMF_SOCK_POSIX, PL_NVMF_SOCK_URING } sock;
};

/* Makes a target (listening starts at pl_nvmf_start()); NULL with errno set, logged. */
PL_API struct pl_nvmf_tgt *pl_nvmf_create(const struct pl_nvmf_conf *conf);

/*
 * A subsystem named @nqn (at most 223 bytes, "nqn." first), and the hosts it admits:
 * with none added, any host. 0 or a negative errno (logged). Before pl_nvmf_start().
 */
PL_API int pl_nvmf_add_subsystem(struct pl_nvmf_tgt *t, const char *nqn);
PL_API int pl_nvmf_allow_host(struct pl_nvmf_tgt *t, const char *subnqn, const char *hostnqn);

/*
 * @blk as the next namespace of subsystem @subnqn (NSIDs from 1). The target uses it
 * until pl_nvmf_destroy(); the caller closes it after. The NSID, or a negative errno.
 */
PL_API int pl_nvmf_add_ns(struct pl_nvmf_tgt *t, const char *subnqn, struct pl_blk *blk);

/* Listens and starts the pollers. 0 or a negative errno (logged). */
PL_API int pl_nvmf_start(struct pl_nvmf_tgt *t);

struct pl_nvmf_stats {
	unsigned connections;	/* open now: admin and I/O queues */
	uint64_t reads, writes, other;	/* I/O commands completed */
	uint64_t read_bytes, written_bytes;
	uint64_t errors;	/* commands ended with an error status */
	uint64_t refused;	/* connections ended for a protocol error (C2HTermReq) */
	uint64_t hdgst_conns, ddgst_conns;	/* connections that agreed header, data digests */
};

/* Totals over every subsystem so far, read while the pollers run. */
PL_API void pl_nvmf_stats(struct pl_nvmf_tgt *t, struct pl_nvmf_stats *out);

/*
 * Stops: no new connection; each host is told (the connection closes after what is in
 * flight ends), each block queue drained, the pollers joined. Then frees the target.
 */
PL_API void pl_nvmf_destroy(struct pl_nvmf_tgt *t);

PL_END_DECLS

#endif
