/*
 * Polling while I/O flows, sleeping on the queue's interrupt when it does not: reads one
 * block at a time, each polled for a while, then slept for on the queue's eventfd (an
 * NVMe controller's MSI-X vector through VFIO, or io_uring's eventfd).
 *
 *   irq_sleep 0000:01:00.0 | /dev/nvme0n1 [READS]    (default 100)
 *
 * Exit status: 0, 1 an error (printed), 2 bad arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollen/blk.h>
#include <pollen/irq.h>

#define SPINS 1000	/* empty polls before sleeping: a few microseconds */

static void done(void *arg, const struct pl_blk_cpl *cpl)
{
	*(int *)arg = cpl->err ? cpl->err : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PCI-ADDRESS|PATH [READS]\n", argv[0]);
		return 2;
	}
	int reads = argc == 3 ? atoi(argv[2]) : 100, slept = 0, ret = 1;
	struct pl_blk *b = pl_blk_open(argv[1], &(struct pl_blk_opts){ .interrupts = 1 });
	void *buf = b ? pl_blk_buf_alloc(b, pl_blk_block_size(b)) : NULL;
	struct pl_blk_queue *q = buf ? pl_blk_queue_create(b, 1) : NULL;
	struct pl_irq_waiter *w = q ? pl_irq_waiter_new() : NULL;

	if (!w || pl_irq_waiter_add(w, pl_blk_queue_fd(q), NULL))
		goto out;	/* the library has said why */
	for (int i = 0; i < reads; i++) {
		int st = 0, err = pl_blk_read(q, buf, (uint64_t)i * pl_blk_block_size(b),
					      pl_blk_block_size(b), done, &st);
		if (err) {
			fprintf(stderr, "read %d: %s\n", i, strerror(-err));
			goto out;
		}
		pl_blk_kick(q);
		int spins = 0;
		while (!st) {	/* the completion's callback sets st */
			pl_blk_poll(q, 0);
			if (!st && ++spins >= SPINS) {
				/* Asleep until the device says something completed (or 1 s). */
				pl_irq_wait(w, 1000, NULL, 1);
				slept++;
				spins = 0;
			}
		}
		if (st < 0) {
			fprintf(stderr, "read %d: %s\n", i, strerror(-st));
			goto out;
		}
	}
	printf("%d reads, %d sleeps on the queue's interrupt\n", reads, slept);
	ret = 0;
out:
	pl_irq_waiter_free(w);
	pl_blk_queue_destroy(q);
	if (buf)
		pl_blk_buf_free(b, buf);
	pl_blk_close(b);
	return ret;
}
