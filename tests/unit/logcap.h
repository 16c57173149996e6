/* What a person would read: unit tests capture the library's last log line here. */
#ifndef PL_TEST_LOGCAP_H
#define PL_TEST_LOGCAP_H

#include <stdio.h>

#include <pollen/log.h>

static char last[1024];

/* Install with pl_log_set_handler(capture); restore with pl_log_set_handler(NULL). */
static void capture(enum pl_log_level l, const char *line)
{
	(void)l;
	snprintf(last, sizeof(last), "%s", line);
}

#endif
