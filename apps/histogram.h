/* A latency histogram for the tools: log-linear buckets, 32 per power of two (3% wide). */
#ifndef PL_APPS_HISTOGRAM_H
#define PL_APPS_HISTOGRAM_H

#include <stdint.h>
#include <string.h>

#define HIST_SUB 32				/* buckets per power of two */
#define HIST_EXACT 64				/* values below this have a bucket each */
#define HIST_BUCKETS (HIST_EXACT + 58 * HIST_SUB)

struct histogram {
	uint64_t count[HIST_BUCKETS];
	uint64_t n, sum, min, max;
};

static inline void hist_init(struct histogram *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static inline unsigned hist_bucket(uint64_t v)
{
	if (v < HIST_EXACT)
		return (unsigned)v;
	unsigned e = 63 - (unsigned)__builtin_clzll(v);	/* 6 and up */
	return HIST_EXACT + (e - 6) * HIST_SUB + (unsigned)((v >> (e - 5)) & (HIST_SUB - 1));
}

/* The smallest value bucket @b holds. */
static inline uint64_t hist_floor(unsigned b)
{
	if (b < HIST_EXACT)
		return b;
	unsigned e = (b - HIST_EXACT) / HIST_SUB + 6, sub = (b - HIST_EXACT) % HIST_SUB;
	return (1ull << e) | (uint64_t)sub << (e - 5);
}

static inline void hist_add(struct histogram *h, uint64_t v)
{
	h->count[hist_bucket(v)]++;
	h->n++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

static inline void hist_merge(struct histogram *to, const struct histogram *from)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		to->count[i] += from->count[i];
	to->n += from->n;
	to->sum += from->sum;
	if (from->min < to->min)
		to->min = from->min;
	if (from->max > to->max)
		to->max = from->max;
}

/* The value below which @pct percent of the samples lie (a bucket's middle). */
static inline uint64_t hist_percentile(const struct histogram *h, double pct)
{
	uint64_t want = (uint64_t)(pct / 100.0 * (double)h->n + 0.5), seen = 0;

	if (!h->n)
		return 0;
	if (!want)
		want = 1;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += h->count[b];
		if (seen >= want) {
			uint64_t lo = hist_floor(b), hi = b + 1 < HIST_BUCKETS ? hist_floor(b + 1) : lo;
			uint64_t mid = lo + (hi - lo) / 2;
			return mid > h->max ? h->max : mid < h->min ? h->min : mid;
		}
	}
	return h->max;
}

#endif
