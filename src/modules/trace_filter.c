// SPDX-License-Identifier: GPL-2.0
/*
 * --filter for ksight trace: 'bytes > 4096 && (comm == "nginx" || !(pid == 1))' compiled
 * by recursive descent into the postfix program the kernel runs (bpf/trace.h). Integers
 * compare with == != < <= > >= (signed as the field is), strings with == and != against a
 * quoted constant, which may end in * for a prefix. Every error names its column.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/trace_int.h"

struct fparse {
	const char *s, *at;
	struct trace_conf *c;
	const struct trace_probe *p;
	char *err;
	size_t len;
	int failed;
};

__attribute__((format(printf, 3, 4))) static int bad(struct fparse *f, const char *at,
						     const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (f->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(f->err, f->len, "--filter: column %d: %s", (int)(at - f->s) + 1, msg);
	f->failed = 1;
	return -1;
}

static void skip(struct fparse *f)
{
	while (isspace((unsigned char)*f->at))
		f->at++;
}

/* The truth table of each comparison (bpf/trace.h: struct trace_op) */
static const uint8_t truth[] = {
	[TRACE_EQ] = 2, [TRACE_NE] = 5, [TRACE_LT] = 1, [TRACE_LE] = 3, [TRACE_GT] = 4,
	[TRACE_GE] = 6,
};

static int emit(struct fparse *f, const char *at, const struct trace_op *op)
{
	if (f->c->nops >= TRACE_OPS)
		return bad(f, at, "the filter is too long (%d steps at most)", TRACE_OPS);
	f->c->ops[f->c->nops++] = *op;
	return 0;
}

static const struct {
	const char *text;
	enum trace_cmp cmp;
} cmps[] = {
	{ "==", TRACE_EQ }, { "!=", TRACE_NE }, { "<=", TRACE_LE },
	{ ">=", TRACE_GE }, { "<", TRACE_LT },	{ ">", TRACE_GT },
};

/* A quoted string at f->at into constant slot @op->str. */
static int string_const(struct fparse *f, struct trace_op *op)
{
	const char *q = f->at;
	char buf[TRACE_STR] = { 0 };
	size_t n = 0;
	bool prefix = false;
	struct trace_strc *c;

	for (f->at++; *f->at != '"'; f->at++) {
		char ch = *f->at;

		if (!ch)
			return bad(f, q, "the string has no closing quote");
		if (ch == '\\') {
			ch = *++f->at;
			if (ch != '"' && ch != '\\' && ch != '*')
				return bad(f, f->at - 1, "only \\\", \\\\ and \\* are escapes");
		} else if (ch == '*') {
			if (f->at[1] != '"')
				return bad(f, f->at, "* may only end a string (a prefix)");
			prefix = true;
			continue;
		}
		if (n >= TRACE_STR - 1)
			return bad(f, q, "the string is longer than %d bytes", TRACE_STR - 1);
		buf[n++] = ch;
	}
	f->at++;
	if (f->c->nops >= TRACE_OPS)
		return bad(f, q, "the filter is too long (%d steps at most)", TRACE_OPS);
	for (op->str = 0; op->str < TRACE_STRS; op->str++) {
		int used = 0;

		for (unsigned int i = 0; i < f->c->nops; i++)
			used |= f->c->ops[i].code == TRACE_OP_STR && f->c->ops[i].str == op->str;
		if (!used)
			break;
	}
	if (op->str >= TRACE_STRS)
		return bad(f, q, "more than %d strings in the filter", TRACE_STRS);
	c = &f->c->s[op->str];
	memset(c, 0, sizeof(*c));
	memcpy(c->w, buf, sizeof(buf));
	/* exact: every byte, the padding zeros included; prefix: the given bytes only */
	memset(c->mask, 0xff, prefix ? n : sizeof(c->mask));
	return 0;
}

static int integer_const(struct fparse *f, struct trace_op *op)
{
	const char *q = f->at;
	char *end;
	long long v;
	unsigned long long u;

	errno = 0;
	if (*q == '-') {
		v = strtoll(q, &end, 0);
		op->val = v;
	} else {
		u = strtoull(q, &end, 0);
		op->val = (int64_t)u;
	}
	if (end == q || errno || isalnum((unsigned char)*end) || *end == '_')
		return bad(f, q, "expected a number or a \"string\"");
	f->at = end;
	return 0;
}

/* FIELD OP VALUE */
static int comparison(struct fparse *f)
{
	const char *name = f->at, *opat;
	struct trace_op op = { 0 };
	char why[160];
	size_t n = 0, col = 0;
	int idx;
	bool str;

	/* a raw tracepoint's member path: "prev->comm", "sk->__sk_common.skc_num" */
	for (size_t sl;;) {
		if (isalnum((unsigned char)name[n]) || name[n] == '_')
			n++;
		else if (n && f->p->kind == TRACE_P_RAW && (sl = trace_path_sep(name + n)))
			n += sl;
		else
			break;
	}
	if (!n || isdigit((unsigned char)name[0]))
		return bad(f, name, *name ? "expected a field name" : "expected a comparison");
	idx = trace_conf_field_why(f->c, f->p, name, n, &col, why, sizeof(why));
	if (idx == -1)
		return bad(f, name, "unknown field '%.*s'", (int)n, name);
	if (idx == -3)
		return bad(f, name + col, "%.*s: %s", (int)n, name, why);
	if (idx < 0)
		return bad(f, name, "more than %d fields in all", TRACE_FIELDS);
	op.field = idx;
	str = trace_field_str(&f->c->f[idx]);
	f->at += n;
	skip(f);
	opat = f->at;
	for (size_t i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++)
		if (!strncmp(f->at, cmps[i].text, strlen(cmps[i].text))) {
			op.cmp = cmps[i].cmp;
			f->at += strlen(cmps[i].text);
			goto found;
		}
	return bad(f, opat, "expected == != < <= > or >=");
found:
	skip(f);
	if (str) {
		if (op.cmp != TRACE_EQ && op.cmp != TRACE_NE)
			return bad(f, opat, "'%.*s' is a string: only == and != compare it",
				   (int)n, name);
		if (*f->at != '"')
			return bad(f, f->at,
				   "'%.*s' is a string: compare it with a \"quoted\" value", (int)n,
				   name);
		op.code = TRACE_OP_STR;
		if (string_const(f, &op))
			return -1;
	} else {
		if (*f->at == '"')
			return bad(f, f->at, "'%.*s' is a number: compare it with a number", (int)n,
				   name);
		op.code = TRACE_OP_INT;
		if (integer_const(f, &op))
			return -1;
	}
	op.truth = truth[op.cmp];
	return emit(f, name, &op);
}

static int disjunction(struct fparse *f, int depth);

static int unary(struct fparse *f, int depth)
{
	const char *at;

	skip(f);
	at = f->at;
	if (depth > 16)
		return bad(f, at, "nested too deep");
	if (*at == '!' && at[1] != '=') {
		f->at++;
		if (unary(f, depth + 1))
			return -1;
		return emit(f, at, &(struct trace_op){ .code = TRACE_OP_NOT });
	}
	if (*at == '(') {
		f->at++;
		if (disjunction(f, depth + 1))
			return -1;
		skip(f);
		if (*f->at != ')')
			return bad(f, f->at, "expected )");
		f->at++;
		return 0;
	}
	return comparison(f);
}

static int conjunction(struct fparse *f, int depth)
{
	if (unary(f, depth))
		return -1;
	for (;;) {
		const char *at;

		skip(f);
		at = f->at;
		if (strncmp(at, "&&", 2))
			return 0;
		f->at += 2;
		if (unary(f, depth) || emit(f, at, &(struct trace_op){ .code = TRACE_OP_AND }))
			return -1;
	}
}

static int disjunction(struct fparse *f, int depth)
{
	if (conjunction(f, depth))
		return -1;
	for (;;) {
		const char *at;

		skip(f);
		at = f->at;
		if (strncmp(at, "||", 2))
			return 0;
		f->at += 2;
		if (conjunction(f, depth) || emit(f, at, &(struct trace_op){ .code = TRACE_OP_OR }))
			return -1;
	}
}

int trace_filter_compile(const char *expr, struct trace_conf *c, const struct trace_probe *p,
			 char *err, size_t len)
{
	struct fparse f = { expr, expr, c, p, err, len, 0 };

	c->nops = 0;
	if (disjunction(&f, 0))
		return -1;
	skip(&f);
	if (*f.at)
		return bad(&f, f.at, "expected && or || or the end");
	return 0;
}
