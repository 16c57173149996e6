/*
 * One strict option layer for the tools: an option table says what each option takes,
 * and opts_parse() takes nothing else. Numbers are decimal or 0x hex, whole, in range,
 * with no sign, space or trailing text; sizes take k, M and G (powers of 1024, with or
 * without "iB"); a value that does not fit is named with its option and what would:
 *
 *	pollen-nvme-perf: -q 0: a queue depth, 1 to 4096 (see --help)
 *
 * The tools exit with status 2 then. Header-only, as the tools are one file each; the
 * command-line fuzzer (tests/fuzz) runs the same tables.
 */
#ifndef PL_APPS_OPTS_H
#define PL_APPS_OPTS_H

#include <pollen/iommu.h>
#include <pollen/pci.h>

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum opt_kind {
	OPT_FLAG,	/* bool, set */
	OPT_CLEAR,	/* bool, cleared (a --no-... option) */
	OPT_UINT,	/* unsigned, from min to max */
	OPT_U64,	/* uint64_t, from min to max */
	OPT_POW2,	/* unsigned, a power of two from min to max */
	OPT_SIZE,	/* uint64_t bytes, a multiple of step (when not 0), from min to max */
	OPT_CHOICE,	/* unsigned: the index of the value in choices */
	OPT_STRING,	/* const char *, any text */
	OPT_FN,		/* parse(arg, dest): 0, or -1 for a bad value */
};

struct opt {
	const char *name;		/* the long option, without its dashes */
	int letter;			/* its short form, or 0 */
	enum opt_kind kind;
	void *dest;
	uint64_t min, max, step;
	const char *what;		/* what the value is: "a queue depth" */
	const char *const *choices;	/* OPT_CHOICE: NULL-terminated */
	int (*parse)(const char *arg, void *dest);	/* OPT_FN (what NULL: it says why) */
	bool *given;			/* if not NULL: set when the option comes */
};

enum { OPTS_OK = 0, OPTS_HELP = 1, OPTS_BAD = 2, OPTS_VERSION = 3 };

/* The project's version, from meson (apps/meson.build). */
#ifndef POLLEN_VERSION
#define POLLEN_VERSION "unknown"
#endif

#define OPTS_MAX 40

/* A whole number, decimal or 0x hex, nothing before or after it; -1 when it is not. */
static inline int opts_number(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2]) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d = *s >= '0' && *s <= '9' ? (unsigned)(*s - '0') :
			     *s >= 'a' && *s <= 'f' ? (unsigned)(*s - 'a' + 10) :
			     *s >= 'A' && *s <= 'F' ? (unsigned)(*s - 'A' + 10) : 99;
		if (d >= base || v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* Bytes: a number with an optional k, M or G (times 1024, 1024^2, 1024^3), "iB" or "B". */
static inline int opts_bytes(const char *s, uint64_t *out)
{
	char num[32];
	size_t n = 0;
	unsigned shift = 0;

	while (s[n] >= '0' && s[n] <= '9' && n < sizeof(num) - 1) {
		num[n] = s[n];
		n++;
	}
	num[n] = 0;
	const char *unit = s + n;
	if (*unit == 'k' || *unit == 'K')
		shift = 10;
	else if (*unit == 'm' || *unit == 'M')
		shift = 20;
	else if (*unit == 'g' || *unit == 'G')
		shift = 30;
	if (shift)
		unit++;
	if (!strcmp(unit, "iB") && shift)
		unit += 2;
	else if (!strcmp(unit, "B"))
		unit++;
	uint64_t v;
	if (*unit || !n || opts_number(num, &v) || v > UINT64_MAX >> shift)
		return -1;
	*out = v << shift;
	return 0;
}

/* "512 B", "8 MiB": a size as a person reads it, exact. */
static inline const char *opts_size_str(uint64_t v, char buf[32])
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB" };
	unsigned u = 0;

	while (u < 3 && v && !(v & 1023)) {
		v >>= 10;
		u++;
	}
	snprintf(buf, 32, "%llu %s", (unsigned long long)v, unit[u]);
	return buf;
}

/* What a bad value of @o is told: what it is and what it takes. */
static inline void opts_bad(const char *prog, const struct opt *o, const char *opt_text,
			    const char *arg)
{
	char a[32], b[32];

	fprintf(stderr, "%s: %s %s: %s", prog, opt_text, arg, o->what ? o->what : "a value");
	switch (o->kind) {
	case OPT_UINT:
	case OPT_U64:
		fprintf(stderr, ", %llu to %llu", (unsigned long long)o->min,
			(unsigned long long)o->max);
		break;
	case OPT_POW2:
		fprintf(stderr, ", a power of two from %llu to %llu", (unsigned long long)o->min,
			(unsigned long long)o->max);
		break;
	case OPT_SIZE:
		fprintf(stderr, ", %s to %s", opts_size_str(o->min, a), opts_size_str(o->max, b));
		if (o->step > 1)
			fprintf(stderr, " in multiples of %s", opts_size_str(o->step, a));
		break;
	case OPT_CHOICE:
		for (unsigned i = 0; o->choices[i]; i++)
			fprintf(stderr, "%s%s", i ? ", " : ": ", o->choices[i]);
		break;
	default:
		break;
	}
	fprintf(stderr, " (see --help)\n");
}

/* One option's value into its destination; -1 when it is not one. */
static inline int opts_take(const struct opt *o, const char *arg)
{
	uint64_t v;

	switch (o->kind) {
	case OPT_FLAG:
	case OPT_CLEAR:
		*(bool *)o->dest = o->kind == OPT_FLAG;
		return 0;
	case OPT_UINT:
	case OPT_U64:
	case OPT_POW2:
		if (opts_number(arg, &v) || v < o->min || v > o->max ||
		    (o->kind == OPT_POW2 && (v & (v - 1))))
			return -1;
		if (o->kind == OPT_U64)
			*(uint64_t *)o->dest = v;
		else
			*(unsigned *)o->dest = (unsigned)v;
		return 0;
	case OPT_SIZE:
		if (opts_bytes(arg, &v) || v < o->min || v > o->max || (o->step && v % o->step))
			return -1;
		*(uint64_t *)o->dest = v;
		return 0;
	case OPT_CHOICE:
		for (unsigned i = 0; o->choices[i]; i++)
			if (!strcmp(arg, o->choices[i])) {
				*(unsigned *)o->dest = i;
				return 0;
			}
		return -1;
	case OPT_STRING:
		*(const char **)o->dest = arg;
		return 0;
	case OPT_FN:
		return o->parse(arg, o->dest);
	}
	return -1;
}

/* ---- values every tool takes ---- */

/* A PCI address, in its canonical form; the library says what is wrong with another. */
static inline int opts_pci_addr(const char *s, void *out)
{
	struct pl_pci_addr a;

	if (pl_pci_addr_parse(s, &a))
		return -1;
	pl_pci_addr_format(&a, out);
	return 0;
}

/* --iommu auto|iommufd|vfio (legacy: vfio), into an enum pl_iommu_backend. */
static inline int opts_iommu(const char *s, void *out)
{
	enum pl_iommu_backend *b = out;

	if (!strcmp(s, "iommufd"))
		*b = PL_IOMMU_IOMMUFD;
	else if (!strcmp(s, "vfio") || !strcmp(s, "legacy"))
		*b = PL_IOMMU_VFIO;
	else if (!strcmp(s, "auto"))
		*b = PL_IOMMU_AUTO;
	else
		return -1;
	return 0;
}

#define OPT_IOMMU(dest)                                                                 \
	{ "iommu", 0, OPT_FN, (dest), .what = "an IOMMU back end: auto, iommufd or vfio", \
	  .parse = opts_iommu }

/*
 * Parses @argv's options as @opts (ended by one with no name) say; -h, --help and
 * --version are everyone's. On OPTS_OK *@next is the first argument that is not an
 * option (the caller checks those). On OPTS_BAD the reason is on stderr; OPTS_HELP: the
 * caller prints its usage; OPTS_VERSION: the version is printed, the caller exits 0.
 * Each call starts afresh (getopt's state is reset).
 */
static inline int opts_parse(const char *prog, int argc, char **argv, const struct opt *opts,
			     int *next)
{
	struct option longs[OPTS_MAX + 3];
	char shorts[2 * OPTS_MAX + 4] = ":h";
	size_t ns = 2, n = 0;

	for (; opts[n].name && n < OPTS_MAX; n++) {
		bool has_arg = opts[n].kind != OPT_FLAG && opts[n].kind != OPT_CLEAR;

		longs[n] = (struct option){ opts[n].name, has_arg ? required_argument : no_argument,
					    NULL, 256 + (int)n };
		if (opts[n].letter) {
			shorts[ns++] = (char)opts[n].letter;
			if (has_arg)
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = 0;
	longs[n] = (struct option){ "help", no_argument, NULL, 'h' };
	longs[n + 1] = (struct option){ "version", no_argument, NULL, 'V' };
	longs[n + 2] = (struct option){ 0 };

	optind = 0;	/* GNU: start again, for this argv */
	opterr = 0;
	for (;;) {
		int li = -1, c = getopt_long(argc, argv, shorts, longs, &li);
		const struct opt *o = NULL;
		char text[64];

		if (c == -1)
			break;
		if (c == 'h')
			return OPTS_HELP;
		if (c == 'V') {
			printf("%s (Pollen) %s\n", prog, POLLEN_VERSION);
			return OPTS_VERSION;
		}
		if (c == '?' || c == ':') {
			/* optopt: the short letter, a long option's value, or 0 for none known */
			if (optopt >= 256 && optopt < 256 + (int)n)
				fprintf(stderr, c == ':' ? "%s: --%s needs a value (see --help)\n" :
					"%s: --%s takes no value (see --help)\n", prog,
					opts[optopt - 256].name);
			else if (optopt > 0 && optopt < 256)
				fprintf(stderr, c == ':' ? "%s: -%c needs a value (see --help)\n" :
					"%s: no option -%c (see --help)\n", prog, optopt);
			else
				fprintf(stderr, "%s: no option %s (see --help)\n", prog,
					argv[optind - 1]);
			return OPTS_BAD;
		}
		if (c >= 256) {
			o = &opts[c - 256];
			snprintf(text, sizeof(text), "--%s", o->name);
		} else {
			for (size_t i = 0; i < n && !o; i++)
				if (opts[i].letter == c)
					o = &opts[i];
			snprintf(text, sizeof(text), "-%c", c);
		}
		if (!o)
			return OPTS_BAD;
		if (opts_take(o, optarg)) {
			/* An OPT_FN without a description has said what is wrong itself. */
			if (o->kind != OPT_FN || o->what)
				opts_bad(prog, o, text, optarg ? optarg : "");
			return OPTS_BAD;
		}
		if (o->given)
			*o->given = true;
	}
	*next = optind;
	return OPTS_OK;
}

#endif
