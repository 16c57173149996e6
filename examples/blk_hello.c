/*
 * One block written and read back through the block interface: the same program runs
 * on an NVMe controller with Pollen's driver and on a file or disk through io_uring.
 *
 *   blk_hello 0000:01:00.0 | /dev/nvme0n1 | FILE    (a file: at least one 4 KiB block)
 *
 * Exit status: 0 the block read back as written, 1 an error (printed), 2 bad arguments.
 */
#include <stdio.h>
#include <string.h>

#include <pollen/blk.h>

static void done(void *arg, const struct pl_blk_cpl *cpl)
{
	*(int *)arg = cpl->err ? cpl->err : 1;	/* 1: success; < 0: -errno */
}

/* One I/O, polled until it ends: 0 or a negative errno. */
static int one(struct pl_blk_queue *q, int write, void *buf, size_t len)
{
	int st = 0;
	int ret = write ? pl_blk_write(q, buf, 0, len, done, &st) :
			  pl_blk_read(q, buf, 0, len, done, &st);

	while (!ret && !st)
		pl_blk_poll(q, 0);
	return ret ? ret : st < 0 ? st : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PCI-ADDRESS|PATH\n", argv[0]);
		return 2;
	}
	struct pl_blk *b = pl_blk_open(argv[1], NULL);	/* the back end follows the name */
	if (!b)
		return 1;	/* the library has said why */
	size_t bs = pl_blk_block_size(b);
	/* Buffers first (DMA memory, or memory io_uring registers), then the queue. */
	char *out = pl_blk_buf_alloc(b, 2 * bs), *in = out ? out + bs : NULL;
	struct pl_blk_queue *q = out ? pl_blk_queue_create(b, 8) : NULL;
	int ret = 1;

	if (q) {
		for (size_t i = 0; i < bs; i++)
			out[i] = (char)(i * 13 + 1);
		int err = one(q, 1, out, bs);
		if (!err)
			err = one(q, 0, in, bs);
		if (err)
			fprintf(stderr, "%s: I/O failed: %s\n", argv[1], strerror(-err));
		else if (memcmp(out, in, bs))
			fprintf(stderr, "%s: block 0 read back differently\n", argv[1]);
		else {
			printf("%s (%s): block 0 (%zu bytes) written and read back\n", argv[1],
			       pl_blk_backend_name(pl_blk_backend(b)), bs);
			ret = 0;
		}
	}
	pl_blk_queue_destroy(q);
	if (out)
		pl_blk_buf_free(b, out);
	pl_blk_close(b);
	return ret;
}
