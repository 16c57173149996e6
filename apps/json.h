/* A small JSON writer for the tools' --json output: nested objects, arrays, escaped strings. */
#ifndef PL_APPS_JSON_H
#define PL_APPS_JSON_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

struct json {
	FILE *f;
	int depth;
	bool need_comma[32];
};

static inline void json_sep(struct json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
	fprintf(j->f, "\n%*s", 2 * j->depth, "");
	if (key)
		fprintf(j->f, "\"%s\": ", key);
}

/* A string with JSON's escapes; @len bytes at most, stopping at a NUL. */
static inline void json_quote(struct json *j, const char *s, size_t len)
{
	fputc('"', j->f);
	for (size_t i = 0; i < len && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(j->f, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			fprintf(j->f, "\\u%04x", c);
		else
			fputc(c, j->f);
	}
	fputc('"', j->f);
}

static inline void json_open(struct json *j, const char *key, char brace)
{
	if (j->depth || key)
		json_sep(j, key);
	fputc(brace, j->f);
	j->need_comma[++j->depth] = false;
}

static inline void json_close(struct json *j, char brace)
{
	j->depth--;
	fprintf(j->f, "\n%*s%c", 2 * j->depth, "", brace);
	if (!j->depth)
		fputc('\n', j->f);
}

#define json_object(j, key) json_open(j, key, '{')
#define json_end_object(j) json_close(j, '}')
#define json_array(j, key) json_open(j, key, '[')
#define json_end_array(j) json_close(j, ']')

static inline void json_str(struct json *j, const char *key, const char *s, size_t len)
{
	json_sep(j, key);
	json_quote(j, s, len);
}

static inline void json_u64(struct json *j, const char *key, uint64_t v)
{
	json_sep(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

static inline void json_num(struct json *j, const char *key, double v)
{
	json_sep(j, key);
	fprintf(j->f, "%.3f", v);
}

static inline void json_bool(struct json *j, const char *key, bool v)
{
	json_sep(j, key);
	fputs(v ? "true" : "false", j->f);
}

#endif
