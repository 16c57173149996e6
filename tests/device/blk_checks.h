/* The data checks every block back end must pass, on whatever device it opened. */
#ifndef PL_TEST_BLK_CHECKS_H
#define PL_TEST_BLK_CHECKS_H

#include <pollen/blk.h>

/*
 * Writes a self-describing pattern at offsets and sizes from one block to several
 * megabytes (many at once, as a batch), reads it back, trims and flushes (unless
 * @reads_writes_only, when both must be refused), and checks the interface's refusals;
 * fails the case on the first difference.
 */
void blk_checks(struct pl_blk *b, uint32_t seed, bool reads_writes_only);

#endif
