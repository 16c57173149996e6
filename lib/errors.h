/* What a failed system call means to a person: shared by the back ends and the context. */
#ifndef PL_LIB_ERRORS_H
#define PL_LIB_ERRORS_H

#include <stddef.h>

/* Explains a mapping failure (memlock, IOVA space) in terms a person can act on. */
void pl_log_map_error(const char *call, size_t len, int err);

/* Explains an open() failure on a device node in terms a person can act on. */
void pl_log_open_error(const char *what, const char *path, int err);

#endif
