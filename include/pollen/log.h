/* Pollen's logging: one line per failure, where it happens, saying what to do. */
#ifndef POLLEN_LOG_H
#define POLLEN_LOG_H

#include <stdarg.h>

#include <pollen/compiler.h>

PL_BEGIN_DECLS

enum pl_log_level {
	PL_LOG_ERR = 0,
	PL_LOG_WARN = 1,
	PL_LOG_INFO = 2,
	PL_LOG_DEBUG = 3,
};

/**
 * pl_log_set_level() - set the most verbose level printed.
 * @level: the level; the default is PL_LOG_WARN, or POLLEN_LOG (err, warn, info,
 *         debug) from the environment when it is set.
 */
PL_API void pl_log_set_level(enum pl_log_level level);
PL_API enum pl_log_level pl_log_get_level(void);

/**
 * pl_log_set_handler() - send log lines somewhere other than stderr.
 * @fn: called with the level and the formatted line (no newline); NULL restores stderr.
 */
PL_API void pl_log_set_handler(void (*fn)(enum pl_log_level level, const char *line));

__attribute__((format(printf, 2, 3)))
PL_API void pl_log(enum pl_log_level level, const char *fmt, ...);

#define pl_err(...) pl_log(PL_LOG_ERR, __VA_ARGS__)
#define pl_warn(...) pl_log(PL_LOG_WARN, __VA_ARGS__)
#define pl_info(...) pl_log(PL_LOG_INFO, __VA_ARGS__)
#define pl_debug(...) pl_log(PL_LOG_DEBUG, __VA_ARGS__)

PL_END_DECLS

#endif
