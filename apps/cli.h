/*
 * What the network tools share: signals, and counters one thread writes while another
 * reads (their command lines go through opts.h).
 */
#ifndef PL_APPS_CLI_H
#define PL_APPS_CLI_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* A counter one thread alone writes: a relaxed store of the sum, for readers elsewhere. */
static inline void cli_count_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* Such a counter, read from another thread. */
static inline uint64_t cli_count_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* SIGINT and SIGTERM to @fn: the tools end their runs cleanly on either. */
static inline void cli_on_signals(void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

#endif
