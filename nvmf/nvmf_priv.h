/* The NVMe/TCP target's insides: subsystems, controllers, connections and their commands. */
#ifndef PL_NVMF_PRIV_H
#define PL_NVMF_PRIV_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <pollen/blk.h>
#include <pollen/nvmf.h>

#include "nvmf_tcp.h"

/*
 * The layers inside nvmf/, each calling only downwards:
 *
 *   tgt.c (the target: subsystems, listeners, pollers)
 *     -> uring.c (receiving through io_uring, when asked)
 *     -> conn.c (a connection: PDUs in from its socket, each command dispatched)
 *       -> admin.c (Fabrics and admin commands), io.c (I/O commands to pl_blk)
 *         -> reply.c (answers out: responses, data, R2Ts; the request slots)
 *         -> ctrl.c (controllers and the subsystems they are found in)
 *           -> pdu.c, crc32c.c (what a host sends, checked; digests)
 */

#define NVMF_MAX_NS		32
#define NVMF_MAX_HOSTS		16
#define NVMF_MAX_SUBSYS		8
#define NVMF_MAX_CTRLS		64
#define NVMF_MAX_POLLERS	8
#define NVMF_MDTS		5	/* 2^5 4 KiB pages: 128 KiB a command */
#define NVMF_MAX_XFER		(4096u << NVMF_MDTS)
#define NVMF_MAX_QSIZE		128	/* entries per queue (CAP.MQES + 1) */
#define NVMF_ADMIN_QSIZE	32
#define NVMF_INCAPSULE		8192	/* in-capsule data the target takes (IOCCSZ) */
#define NVMF_ADMIN_BUF		8192	/* an admin command's data, at most */
#define NVMF_MAX_IO_QUEUES	64	/* per controller */
#define NVMF_KATO_GRACE_MS	1000	/* past KATO before the association ends */

struct nvmf_subsys {
	char nqn[NVMF_NQN_LEN];
	bool discovery;
	struct pl_blk *ns[NVMF_MAX_NS];	/* NSID i + 1 */
	unsigned nns;
	char hosts[NVMF_MAX_HOSTS][NVMF_NQN_LEN];
	unsigned nhosts;		/* 0: any host */
	char serial[21];
};

/* A controller: made by an admin queue's Connect, joined by its I/O queues' Connects. */
struct nvmf_ctrl {
	bool used;
	uint16_t cntlid;
	struct nvmf_subsys *subsys;
	char hostnqn[NVMF_NQN_LEN];
	uint8_t hostid[16];
	uint32_t cc, csts;
	uint32_t kato_ms;	/* 0: keep alive off */
	uint64_t ka_deadline_ns; /* the admin queue ends the association past it */
	unsigned io_queues;	/* granted by Set Features Number of Queues */
	unsigned conns;		/* connections on it, admin included */
	bool dead;		/* the association ended: its I/O queues close too */
};

enum nvmf_req_state {
	NVMF_REQ_FREE,
	NVMF_REQ_DATA_IN,	/* waiting for the host's data (in capsule, or after R2T) */
	NVMF_REQ_EXEC,		/* with the namespace, or held (an AER) */
	NVMF_REQ_SEND,		/* on the send list */
};

/* What goes out for a request, in order: each part is 0 bytes when not sent. */
struct nvmf_out {
	uint8_t hdr[128 + NVMF_TCP_DIGEST_LEN];	/* R2T or C2HData, padded to the host's HPDA */
	uint32_t hdr_len;
	uint32_t data_len;	/* from req->buf */
	uint32_t ddgst;
	uint32_t ddgst_len;
	uint8_t resp[sizeof(struct nvmf_tcp_resp) + NVMF_TCP_DIGEST_LEN];
	uint32_t resp_len;
	uint64_t done;		/* bytes of all that written so far */
};

struct nvmf_conn;

struct nvmf_req {
	struct nvmf_conn *c;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	uint8_t *buf;
	uint32_t len;		/* the command's data: what the host sends or reads */
	uint32_t got;		/* bytes of it received */
	enum nvmf_req_state state;
	bool last;		/* the send ends the command: the slot frees after it */
	struct nvmf_out out;
	struct nvmf_req *next;	/* free list, send list */
};

enum nvmf_rx_state {
	NVMF_RX_HDR,		/* a PDU's header (and its digest) */
	NVMF_RX_PAD,		/* bytes between the header digest and PDO */
	NVMF_RX_DATA,		/* data into a request's buffer */
	NVMF_RX_DDGST,		/* the data's digest */
	NVMF_RX_TERM,		/* what follows an H2CTermReq: read and dropped */
};

struct nvmf_poller;

struct nvmf_conn {
	int fd;
	struct nvmf_poller *p;
	struct nvmf_ctrl *ctrl;		/* after Connect */
	struct nvmf_subsys *subsys;
	uint16_t qid;
	unsigned qsize;			/* entries, after Connect */
	uint16_t sqhd;
	struct nvmf_tcp_params params;
	uint8_t hpda;
	bool closing;			/* no more commands; closes when the sends end */
	bool sock_dead;			/* the host went (or the socket failed) */
	bool sqflow_off;		/* Connect's CATTR: no SQHD, so C2HData may say SUCCESS */
	/* ICResp or C2HTermReq: sent before anything else */
	uint8_t raw[sizeof(struct nvmf_tcp_term) + NVMF_TCP_TERM_MAX_DATA];
	uint32_t raw_len, raw_done;
	uint8_t *first_buf;		/* the Connect's data, before the queue is sized */
	struct nvmf_req *retry_head;	/* I/Os a full block queue refused: sent again */

	/* receiving */
	enum nvmf_rx_state rx;
	uint8_t hdr[sizeof(struct nvmf_tcp_icreq) + NVMF_TCP_DIGEST_LEN];
	uint32_t hdr_got, hdr_need;
	uint32_t skip;			/* pad or TermReq bytes left */
	struct nvmf_req *rx_req;	/* whose data is coming */
	uint32_t rx_off, rx_left;	/* where in its buffer, and how much more */
	uint32_t rx_crc;		/* the data digest so far */
	uint8_t ddgst[NVMF_TCP_DIGEST_LEN];
	uint32_t ddgst_got;

	/* requests: a slot each, CID looked up among the busy ones */
	struct nvmf_req *reqs;
	unsigned nreqs;
	struct nvmf_req *free;
	uint8_t *bufs;			/* nreqs buffers of buf_size */
	uint32_t buf_size;
	struct pl_blk *buf_blk;		/* whose pl_blk_buf_alloc they came from; NULL: malloc */
	struct nvmf_req *send_head, *send_tail;
	unsigned held;			/* AERs held, answered only at the end */

	/* receiving through the poller's io_uring (uring.c) instead of recv() */
	bool ring;
	bool rearm;			/* its multishot receive ended: start it again */
	uint32_t slot, gen;		/* its receive's tag */
	const uint8_t *in;		/* bytes a completion brought, not yet read */
	size_t in_len;

	struct nvmf_conn *next;
};

struct nvmf_poller {
	struct pl_nvmf_tgt *t;
	pthread_t thread;
	int wake[2];			/* a pipe: new connections, or stop */
	struct nvmf_conn *conns;
	pthread_mutex_t lock;		/* handed-over connections only */
	struct nvmf_conn *incoming;
	struct pl_blk_queue *q[NVMF_MAX_SUBSYS + 1][NVMF_MAX_NS];	/* this thread's, by subsystem */
	struct nvmf_uring *u;		/* PL_NVMF_SOCK_URING: the ring receiving for it */
	struct pollfd *fds;		/* for sleeping on every socket when idle */
	size_t nfds;
	bool stop;
	/* counters, written by this poller alone */
	uint64_t reads, writes, other, read_bytes, written_bytes, errors, refused;
	uint64_t hdgst_conns, ddgst_conns;
	unsigned nconns;
};

struct pl_nvmf_tgt {
	struct pl_nvmf_conf conf;
	struct nvmf_subsys subsys[NVMF_MAX_SUBSYS + 1];	/* [0]: discovery */
	unsigned nsubsys;
	pthread_mutex_t lock;		/* controllers: made and found at Connect */
	struct nvmf_ctrl ctrls[NVMF_MAX_CTRLS];
	int lfd[2];			/* listeners: the port, the discovery port */
	pthread_t acceptor;
	int stop_pipe[2];
	struct nvmf_poller pollers[NVMF_MAX_POLLERS];
	unsigned npollers, next_poller;
	bool started;
};

/* uring.c: a poller's ring; a connection's receive armed, cancelled; completions read. */
int nvmf_uring_new(struct nvmf_poller *p);
int nvmf_uring_start(struct nvmf_poller *p);	/* on the poller's thread */
void nvmf_uring_free(struct nvmf_poller *p);
int nvmf_uring_fd(struct nvmf_poller *p);
int nvmf_uring_add(struct nvmf_poller *p, struct nvmf_conn *c);
void nvmf_uring_remove(struct nvmf_poller *p, struct nvmf_conn *c);
bool nvmf_uring_reap(struct nvmf_poller *p);

/* ctrl.c: controllers, for admin.c's Connect (t->lock held inside), and the clock. */
struct nvmf_ctrl *nvmf_ctrl_new(struct pl_nvmf_tgt *t, struct nvmf_subsys *s,
				const struct nvmf_connect_data *d, uint32_t kato_ms);
struct nvmf_ctrl *nvmf_ctrl_join(struct pl_nvmf_tgt *t, struct nvmf_subsys *s,
				 const struct nvmf_connect_data *d);
void nvmf_ctrl_leave(struct pl_nvmf_tgt *t, struct nvmf_ctrl *c);
struct nvmf_subsys *nvmf_subsys_find(struct pl_nvmf_tgt *t, const char *nqn);
uint64_t nvmf_now_ns(void);

/* conn.c: a connection on @fd, what its socket brought (1 progress, 0 none, -1 over), its end. */
struct nvmf_conn *nvmf_conn_new(int fd, struct nvmf_poller *p);
int nvmf_conn_rx(struct nvmf_conn *c);
/* conn.c: @len bytes the ring received for @c, read as its socket's would be: 0, -1 over. */
int nvmf_conn_feed(struct nvmf_conn *c, const void *buf, size_t len);
/* I/Os a full block queue refused, handed to it again: whether any went. */
bool nvmf_conn_retry(struct nvmf_conn *c);
void nvmf_conn_free(struct nvmf_conn *c);

/* reply.c: a command's end (its CQE in req->cqe), or its data then its end; an R2T. */
void nvmf_complete(struct nvmf_req *r, uint16_t status);
void nvmf_send_data(struct nvmf_req *r, uint32_t len);
void nvmf_send_r2t(struct nvmf_req *r);
/* reply.c: what is ready, written (1 progress, 0 none, -1 over); dropped unsent. */
int nvmf_conn_tx(struct nvmf_conn *c);
void nvmf_conn_drop_sends(struct nvmf_conn *c);
/* reply.c: the slots: one freed; sized for @qsize entries (Connect): 0 or -errno. */
void nvmf_req_free(struct nvmf_req *r);
int nvmf_conn_size(struct nvmf_conn *c, unsigned qsize);

/* admin.c */
void nvmf_admin_cmd(struct nvmf_req *r);
void nvmf_connect(struct nvmf_req *r);
/* io.c */
void nvmf_io_cmd(struct nvmf_req *r);
/* The data an I/O command moves (0 for none), checked; -1: refused (completed). */
long nvmf_io_len(struct nvmf_req *r);
/* Hands an I/O to its queue again: 0, or -EAGAIN while the queue is still full. */
int nvmf_io_submit(struct nvmf_req *r);

/* Status words as a CQE carries them (without the phase bit). */
#define NVMF_STATUS(sct, sc)	((uint16_t)((sct) << 8 | (sc)))
#define NVMF_DNR		(1u << 14)

#endif
