// SPDX-License-Identifier: GPL-2.0
#include "core/opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

int ks_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int ks_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 0:
		break;
	case 'k': case 'K':
		mul = 1ULL << 10;
		end++;
		break;
	case 'm': case 'M':
		mul = 1ULL << 20;
		end++;
		break;
	case 'g': case 'G':
		mul = 1ULL << 30;
		end++;
		break;
	default:
		return -1;
	}
	if (*end == 'i' && mul > 1)	/* accept KiB/MiB spelled out */
		end++;
	if ((*end == 'B' || *end == 'b') && end[1] == 0)
		end++;
	if (*end || v > max / mul || v * mul < min || v * mul > max)
		return -1;
	*out = v * mul;
	return 0;
}

static const struct ks_opt *find_long(const struct ks_opt_table *t, int nt, const char *name,
				      size_t len, void **base)
{
	for (int i = 0; i < nt; i++)
		for (const struct ks_opt *o = t[i].opts; o && o->lng; o++)
			if (strlen(o->lng) == len && !strncmp(o->lng, name, len)) {
				*base = t[i].base;
				return o;
			}
	return NULL;
}

static const struct ks_opt *find_short(const struct ks_opt_table *t, int nt, char c, void **base)
{
	for (int i = 0; i < nt; i++)
		for (const struct ks_opt *o = t[i].opts; o && o->lng; o++)
			if (o->shrt && o->shrt == c) {
				*base = t[i].base;
				return o;
			}
	return NULL;
}

static void opt_name(const struct ks_opt *o, char *buf, size_t len)
{
	if (o->shrt)
		snprintf(buf, len, "-%c/--%s", o->shrt, o->lng);
	else
		snprintf(buf, len, "--%s", o->lng);
}

static int store(const struct ks_opt *o, void *base, const char *val, char *err, size_t len)
{
	char *p = (char *)base + o->off;
	char name[64];
	uint64_t v;

	opt_name(o, name, sizeof(name));
	switch (o->type) {
	case KS_OPT_FLAG:
		*(bool *)p = true;
		return 0;
	case KS_OPT_COUNT:
		(*(int *)p)++;
		return 0;
	case KS_OPT_UINT:
		if (ks_parse_u64(val, o->min, o->max, &v))
			return fail(err, len, "%s: '%s' is not a whole number in %llu..%llu", name,
				    val, (unsigned long long)o->min, (unsigned long long)o->max);
		*(uint64_t *)p = v;
		return 0;
	case KS_OPT_SIZE:
		if (ks_parse_size(val, o->min, o->max, &v))
			return fail(err, len, "%s: '%s' is not a size in %llu..%llu bytes (K/M/G allowed)",
				    name, val, (unsigned long long)o->min,
				    (unsigned long long)o->max);
		*(uint64_t *)p = v;
		return 0;
	case KS_OPT_STR:
		if (!val[0])
			return fail(err, len, "%s: empty argument", name);
		if (o->max && strlen(val) >= o->max)
			return fail(err, len, "%s: '%.40s' is longer than %llu bytes", name, val,
				    (unsigned long long)o->max - 1);
		*(const char **)p = val;
		return 0;
	case KS_OPT_STRS: {
		struct ks_strs *l = (struct ks_strs *)p;

		if (!val[0])
			return fail(err, len, "%s: empty argument", name);
		if (l->n >= KS_STRS_MAX)
			return fail(err, len, "%s: given more than %d times", name, KS_STRS_MAX);
		l->v[l->n++] = val;
		return 0;
	}
	case KS_OPT_CHOICE:
		for (int i = 0; o->choices[i]; i++)
			if (!strcmp(o->choices[i], val)) {
				*(int *)p = i;
				return 0;
			}
		{
			char list[128] = "";

			for (int i = 0; o->choices[i]; i++) {
				strncat(list, i ? "|" : "", sizeof(list) - strlen(list) - 1);
				strncat(list, o->choices[i], sizeof(list) - strlen(list) - 1);
			}
			return fail(err, len, "%s: '%s' is not one of %s", name, val, list);
		}
	}
	return fail(err, len, "%s: unsupported option type", name);
}

static bool takes_arg(const struct ks_opt *o)
{
	return o->type != KS_OPT_FLAG && o->type != KS_OPT_COUNT;
}

int ks_opts_parse(const struct ks_opt_table *t, int nt, int argc, char **argv, const char **pos,
		  int max_pos, int *npos, char *err, size_t errlen)
{
	bool only_pos = false;

	*npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct ks_opt *o;
		void *base;

		/* help where an option may stand: not as an option's value, not after "--" */
		if (!only_pos && (!strcmp(a, "-h") || !strcmp(a, "--help")))
			return 1;
		if (only_pos || a[0] != '-' || !a[1]) {
			if (*npos >= max_pos)
				return fail(err, errlen, "unexpected argument '%.60s'", a);
			pos[(*npos)++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const char *val = eq ? eq + 1 : NULL;

			o = find_long(t, nt, name, len, &base);
			if (!o)
				return fail(err, errlen, "unknown option '--%.*s'", (int)(len > 60 ? 60 : len),
					    name);
			if (!takes_arg(o) && val)
				return fail(err, errlen, "option '--%s' takes no argument", o->lng);
			if (takes_arg(o) && !val) {
				if (i + 1 >= argc)
					return fail(err, errlen, "option '--%s' needs an argument (%s)",
						    o->lng, o->arg ? o->arg : "value");
				val = argv[++i];
			}
			if (store(o, base, val, err, errlen))
				return -1;
			continue;
		}
		/* a cluster of short options: -xT, -p123, -p 123 */
		for (const char *c = a + 1; *c; c++) {
			o = find_short(t, nt, *c, &base);
			if (!o && *c == 'h')
				return 1;
			if (!o) {
				if (isprint((unsigned char)*c))
					return fail(err, errlen, "unknown option '-%c'", *c);
				return fail(err, errlen, "unknown option '-\\x%02x'", (unsigned char)*c);
			}
			if (!takes_arg(o)) {
				if (store(o, base, NULL, err, errlen))
					return -1;
				continue;
			}
			if (c[1]) {
				if (store(o, base, c + 1, err, errlen))
					return -1;
			} else {
				if (i + 1 >= argc)
					return fail(err, errlen, "option '-%c' needs an argument (%s)", *c,
						    o->arg ? o->arg : "value");
				if (store(o, base, argv[++i], err, errlen))
					return -1;
			}
			break;
		}
	}
	return 0;
}

void ks_opts_help(const struct ks_opt_table *t, int nt, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < nt; i++) {
		for (const struct ks_opt *o = t[i].opts; o && o->lng; o++) {
			char left[48];

			if (o->shrt)
				snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shrt, o->lng,
					 takes_arg(o) ? " " : "", takes_arg(o) ? o->arg : "");
			else
				snprintf(left, sizeof(left), "    --%s%s%s", o->lng,
					 takes_arg(o) ? " " : "", takes_arg(o) ? o->arg : "");
			if (n < len)
				n += snprintf(buf + n, len - n, "  %-26s %s\n", left, o->help);
		}
	}
}
