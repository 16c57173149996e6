/* The data checks every block back end must pass (see blk_checks.h). */
#include "blk_checks.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "pattern.h"

#define MiB (1ul << 20)

struct tally {
	int done, err;
};

static void count(void *arg, const struct pl_blk_cpl *cpl)
{
	struct tally *t = arg;

	t->done++;
	if (cpl->err && !t->err)
		t->err = cpl->err;
}

static void drain(struct pl_blk_queue *q, struct tally *t, int want)
{
	for (long i = 0; t->done < want; i++) {
		cr_assert_geq(pl_blk_poll(q, 0), 0);
		cr_assert_lt(i, 200000000L, "I/O did not complete");
	}
	cr_assert_eq(t->err, 0, "an I/O failed: %s", strerror(-t->err));
}

void blk_checks(struct pl_blk *b, uint32_t seed, bool reads_writes_only)
{
	uint32_t bs = pl_blk_block_size(b);
	uint64_t size = pl_blk_blocks(b) * bs;
	/* The buffer first: an io_uring queue registers the buffers made before it. */
	char *buf = pl_blk_buf_alloc(b, 8 * MiB);
	struct pl_blk_queue *q = pl_blk_queue_create(b, 32);
	struct tally t = { 0 };

	cr_assert_not_null(q);
	cr_assert_not_null(buf);
	cr_expect_geq(pl_blk_dma_bytes(b), 8 * MiB, "the buffer's memory is not counted");
	cr_log_info("%s (%s): %u-byte blocks, %llu MiB", pl_blk_name(b),
		    pl_blk_backend_name(pl_blk_backend(b)), bs, (unsigned long long)(size >> 20));

	/* Sizes from one block to 2 MiB, each in its own part of the buffer and the device. */
	static const uint32_t blocks[] = { 1, 2, 3, 8, 33, 128, 257, 512 };
	size_t lens[8];
	uint64_t offs[8];
	size_t at = 0;
	for (int i = 0; i < 8; i++) {
		lens[i] = (size_t)blocks[i] * (bs < 4096 ? 4096 / bs * bs : bs);
		offs[i] = (size / 2 + (uint64_t)i * 4 * MiB) / bs * bs;
		pattern_fill(buf + at, 1, offs[i] / bs, lens[i] / bs, bs, seed);
		cr_assert_eq(pl_blk_write(q, buf + at, offs[i], lens[i], count, &t), 0, "write %d", i);
		at += lens[i];
	}
	drain(q, &t, 8);
	if (reads_writes_only) {
		cr_expect_eq(pl_blk_flush(q, count, &t), -EOPNOTSUPP);
		cr_expect_eq(pl_blk_trim(q, 0, bs, count, &t), -EOPNOTSUPP);
		t.done++;	/* the counts below assume the flush */
	} else {
		cr_assert_eq(pl_blk_flush(q, count, &t), 0);
	}
	drain(q, &t, 9);
	memset(buf, 0, at);
	at = 0;
	for (int i = 0; i < 8; i++) {
		cr_assert_eq(pl_blk_read(q, buf + at, offs[i], lens[i], count, &t), 0, "read %d", i);
		at += lens[i];
	}
	drain(q, &t, 17);
	at = 0;
	for (int i = 0; i < 8; i++) {
		long bad = pattern_check(buf + at, 1, offs[i] / bs, lens[i] / bs, bs, seed);
		cr_expect_eq(bad, -1, "%zu bytes at %llu: block %ld reads back different", lens[i],
			     (unsigned long long)offs[i], bad);
		at += lens[i];
	}

	/* A trimmed range reads back as zeroes (QEMU's namespaces say they do: DLFEAT). */
	if (reads_writes_only) {
		t.done += 2;
	} else {
		cr_assert_eq(pl_blk_trim(q, offs[6], lens[6], count, &t), 0);
		drain(q, &t, 18);
		memset(buf, 0xee, lens[6]);
		cr_assert_eq(pl_blk_read(q, buf, offs[6], lens[6], count, &t), 0);
		drain(q, &t, 19);
		for (size_t i = 0; i < lens[6]; i++)
			if (buf[i]) {
				cr_expect_fail("byte %zu of a trimmed range reads 0x%02x", i,
					       (unsigned char)buf[i]);
				break;
			}
	}

	/* Refusals: nothing queued for any of them. */
	cr_expect_eq(pl_blk_read(q, buf, 0, bs + 1, count, &t), -EINVAL, "a part block");
	cr_expect_eq(pl_blk_read(q, buf, bs / 2, bs, count, &t), -EINVAL, "a part-block offset");
	cr_expect_eq(pl_blk_read(q, buf, size - bs, 2 * bs, count, &t), -EINVAL, "past the end");
	cr_expect_eq(pl_blk_read(q, buf, size, bs, count, &t), -EINVAL, "at the end");
	cr_expect_eq(pl_blk_outstanding(q), 0);

	/* Full: the depth at once, then -EAGAIN. */
	for (int i = 0; i < 32; i++)
		cr_assert_eq(pl_blk_read(q, buf + (size_t)i * 4096, (uint64_t)i * 4096, 4096, count, &t),
			     0);
	cr_expect_eq(pl_blk_read(q, buf, 0, 4096, count, &t), -EAGAIN);
	drain(q, &t, 19 + 32);

	pl_blk_queue_destroy(q);
	pl_blk_buf_free(b, buf);
	cr_expect_eq(pl_blk_dma_bytes(b), 0, "memory still counted after it was given back");
}
