/* A self-describing data pattern: every 8 bytes name their namespace, block and a seed. */
#ifndef PL_TEST_PATTERN_H
#define PL_TEST_PATTERN_H

#include <stdint.h>

static inline uint64_t pattern_word(uint32_t nsid, uint64_t lba, uint32_t seed, uint32_t i)
{
	return (uint64_t)nsid << 56 ^ lba << 16 ^ seed ^ i;
}

static inline void pattern_fill(void *buf, uint32_t nsid, uint64_t lba, uint32_t blocks,
				uint32_t bs, uint32_t seed)
{
	uint64_t *w = buf;

	for (uint64_t b = 0; b < blocks; b++)
		for (uint32_t i = 0; i < bs / 8; i++)
			w[b * (bs / 8) + i] = pattern_word(nsid, lba + b, seed, i);
}

/* The first block that does not hold its pattern, or -1. */
static inline long pattern_check(const void *buf, uint32_t nsid, uint64_t lba, uint32_t blocks,
				 uint32_t bs, uint32_t seed)
{
	const uint64_t *w = buf;

	for (uint64_t b = 0; b < blocks; b++)
		for (uint32_t i = 0; i < bs / 8; i++)
			if (w[b * (bs / 8) + i] != pattern_word(nsid, lba + b, seed, i))
				return (long)b;
	return -1;
}

#endif
