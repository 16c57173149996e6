/* Logging: level from POLLEN_LOG, lines to stderr or to the application's handler. */
#include <pollen/log.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int level = -1;
static void (*handler)(enum pl_log_level, const char *);

static void init_level(void)
{
	const char *e = getenv("POLLEN_LOG");
	static const char *const names[] = { "err", "warn", "info", "debug" };

	level = PL_LOG_WARN;
	if (!e)
		return;
	for (int i = 0; i < 4; i++)
		if (!strcmp(e, names[i]))
			level = i;
}

void pl_log_set_level(enum pl_log_level l)
{
	level = l;
}

enum pl_log_level pl_log_get_level(void)
{
	if (level < 0)
		init_level();
	return level;
}

void pl_log_set_handler(void (*fn)(enum pl_log_level, const char *))
{
	handler = fn;
}

void pl_log(enum pl_log_level l, const char *fmt, ...)
{
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	char line[512];
	va_list ap;

	if ((int)l > (int)pl_log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (handler)
		handler(l, line);
	else
		fprintf(stderr, "pollen: %s: %s\n", tag[l], line);
}
