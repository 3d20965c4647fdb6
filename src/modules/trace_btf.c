// SPDX-License-Identifier: GPL-2.0
/*
 * ksight trace's raw tracepoints (raw:CATEGORY:NAME) and the kernel's BTF: the
 * arguments a tracepoint passes (the prototype of typedef btf_trace_NAME, whose first
 * parameter is the context the kernel adds), and member paths through them
 * ("prev->comm", "sk->__sk_common.skc_num") turned into the offsets bpf/trace.h's
 * struct trace_path follows: each "->" past the first is a pointer read, "." adds a
 * member's offset, anonymous structs and unions are looked through.
 */
#include <bpf/btf.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/trace_int.h"

/* @id past typedefs and qualifiers */
static const struct btf_type *bare(const struct btf *btf, int id, int *out)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_typedef(t) || btf_is_mod(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (out)
		*out = id;
	return t;
}

/* The ids of the BTF's tracepoint typedefs (btf_trace_NAME) and event class functions
 * (__bpf_trace_CLASS), each sorted by name, found in one pass per BTF: a lookup by name
 * in libbpf walks every type, and tplist -v asks for every tracepoint. */
static struct {
	const struct btf *btf;
	int *tdef, ntdef, *cls, ncls;
} ix;

static const char *name_of(int id)
{
	return btf__name_by_offset(ix.btf, btf__type_by_id(ix.btf, id)->name_off);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(name_of(*(const int *)a), name_of(*(const int *)b));
}

static int push(int **v, int *n, int id)
{
	int *c = realloc(*v, (*n + 1) * sizeof(**v));

	if (!c)
		return -1;
	*v = c;
	c[(*n)++] = id;
	return 0;
}

static void index_btf(const struct btf *btf)
{
	int n = btf__type_cnt(btf);

	if (ix.btf == btf)
		return;
	free(ix.tdef);
	free(ix.cls);
	memset(&ix, 0, sizeof(ix));
	ix.btf = btf;
	for (int id = 1; id < n; id++) {
		const struct btf_type *k = btf__type_by_id(btf, id);
		const char *kn = btf__name_by_offset(btf, k->name_off);

		if (btf_is_typedef(k) && kn && !strncmp(kn, "btf_trace_", 10))
			push(&ix.tdef, &ix.ntdef, id);
		else if (btf_is_func(k) && kn && !strncmp(kn, "__bpf_trace_", 12))
			push(&ix.cls, &ix.ncls, id);
	}
	qsort(ix.tdef, ix.ntdef, sizeof(int), by_name);
	qsort(ix.cls, ix.ncls, sizeof(int), by_name);
}

/* The id named @name among @ids (sorted), or 0. */
static int find(const int *ids, int n, const char *name)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		int c = strcmp(name_of(ids[mid]), name);

		if (!c)
			return ids[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static const struct btf_type *proto_of(const struct btf *btf, const char *name)
{
	char tn[160];
	const struct btf_type *t;
	int id;

	index_btf(btf);
	snprintf(tn, sizeof(tn), "btf_trace_%s", name);
	id = find(ix.tdef, ix.ntdef, tn);
	if (id <= 0)
		return NULL;
	t = bare(btf, id, NULL);
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = bare(btf, t->type, NULL);
	return t && btf_is_func_proto(t) && btf_vlen(t) >= 1 ? t : NULL;
}

static bool is_signed(const struct btf *btf, int id)
{
	const struct btf_type *t = bare(btf, id, NULL);

	if (!t)
		return false;
	if (btf_is_int(t))
		return btf_int_encoding(t) & BTF_INT_SIGNED;
	return btf_is_any_enum(t) && btf_kflag(t);
}

/* Whether func proto @f (its parameters named) has the parameters of @t. */
static bool same_params(const struct btf *btf, const struct btf_type *t,
			const struct btf_type *f)
{
	const struct btf_param *a = btf_params(t), *b = btf_params(f);

	if (btf_vlen(t) != btf_vlen(f))
		return false;
	for (int i = 1; i < btf_vlen(t); i++) {
		int x, y;

		bare(btf, a[i].type, &x);
		bare(btf, b[i].type, &y);
		if (a[i].type != b[i].type && x != y)
			return false;
	}
	return true;
}

static size_t common_prefix(const char *a, const char *b)
{
	size_t n = 0;

	while (a[n] && a[n] == b[n])
		n++;
	return n;
}

/*
 * The prototype whose parameters carry the names of tracepoint @name's arguments (the
 * typedef's have none): that of the kernel's __bpf_trace_CLASS(void *__data, proto), the
 * function of the tracepoint's event class. CLASS is the tracepoint's own name when it has
 * a class of its own; else the class is one whose parameters have the same types, the
 * one whose name shares the longest prefix with @name (sched_wakeup_template for
 * sched_wakeup). NULL if none.
 */
static const struct btf_type *named_proto(const struct btf *btf, const struct btf_type *t,
					  const char *name)
{
	const struct btf_type *best = NULL;
	size_t best_len = 0;
	char fn[160];
	int id;

	index_btf(btf);
	snprintf(fn, sizeof(fn), "__bpf_trace_%s", name);
	id = find(ix.cls, ix.ncls, fn);
	if (id > 0) {
		const struct btf_type *f = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);

		if (f && btf_is_func_proto(f) && same_params(btf, t, f))
			return f;
	}
	for (int i = 0; i < ix.ncls; i++) {
		const struct btf_type *k = btf__type_by_id(btf, ix.cls[i]), *f;
		const char *kn = btf__name_by_offset(btf, k->name_off);
		size_t l;

		f = btf__type_by_id(btf, k->type);
		if (!f || !btf_is_func_proto(f) || !same_params(btf, t, f))
			continue;
		l = common_prefix(kn + 12, name);
		if (!best || l > best_len) {
			best = f;
			best_len = l;
		}
	}
	return best;
}

int trace_raw_args(struct trace_probe *p, const struct btf *btf, char *err, size_t len)
{
	const char *names[TRACE_RAW_ARGS] = { 0 };
	const struct btf_type *t, *named;
	const struct btf_param *pa;
	int n;

	p->btf = btf;
	if (!btf) {	/* no BTF: the arguments unchecked and unnamed, as kfunc:'s */
		p->nargs = TRACE_RAW_ARGS;
		trace_probe_k_fields(p, TRACE_RAW_ARGS, NULL);
		return 0;
	}
	t = proto_of(btf, p->name);
	if (!t) {
		snprintf(err, len, "raw:%s:%s: the kernel's BTF has no raw tracepoint %s (no "
			 "btf_trace_%s)", p->cat, p->name, p->name, p->name);
		return -1;
	}
	named = named_proto(btf, t, p->name);
	n = btf_vlen(t) - 1;	/* the context first */
	if (n > TRACE_RAW_ARGS)
		n = TRACE_RAW_ARGS;
	pa = btf_params(t) + 1;
	for (int i = 0; i < n; i++) {
		p->argtype[i] = pa[i].type;
		if (named)
			names[i] = btf__name_by_offset(btf, btf_params(named)[i + 1].name_off);
	}
	p->nargs = n;
	trace_probe_k_fields(p, n, names);
	for (int i = 0; i < p->ndefs; i++)
		if (p->defs[i].f.kind == TRACE_F_ARG)
			p->defs[i].f.is_signed = is_signed(btf, p->argtype[p->defs[i].f.off]);
	return 0;
}

__attribute__((format(printf, 5, 6))) static int bad(size_t *col, size_t at, char *why,
						     size_t len, const char *fmt, ...)
{
	va_list ap;

	*col = at;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Member @name (@n bytes) of struct or union @t, looked for through anonymous members:
 * its type id, bit offset and bit field size. Returns 0, or -1 if it has none. */
static int member(const struct btf *btf, const struct btf_type *t, const char *name,
		  size_t n, int *type, uint32_t *bits, uint32_t *bitsize)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		const struct btf_type *mt;

		if (mn && *mn) {
			if (strlen(mn) != n || strncmp(mn, name, n))
				continue;
			*type = m->type;
			*bits = btf_member_bit_offset(t, i);
			*bitsize = btf_member_bitfield_size(t, i);
			return 0;
		}
		mt = bare(btf, m->type, NULL);
		if (mt && btf_is_composite(mt) &&
		    !member(btf, mt, name, n, type, bits, bitsize)) {
			*bits += btf_member_bit_offset(t, i);
			return 0;
		}
	}
	return -1;
}

static const char *tname(const struct btf *btf, const struct btf_type *t, char *buf,
			 size_t len)
{
	const char *n = btf__name_by_offset(btf, t->name_off);

	snprintf(buf, len, "%s %s", btf_is_union(t) ? "union" : "struct",
		 n && *n ? n : "(anonymous)");
	return buf;
}

int trace_raw_path(const struct trace_probe *p, const char *name, size_t n,
		   struct trace_field *f, struct trace_path *path, size_t *col, char *why,
		   size_t len)
{
	const struct btf *btf = p->btf;
	const struct btf_type *t, *e;
	const struct trace_fdef *arg = NULL;
	size_t at = 0, tok;
	bool addr = false;	/* whether the value so far is in memory at x + acc (else it
				 * is the argument itself) */
	uint32_t acc = 0, steps = 0;
	int cur, idx;
	char sn[160];

	while (at < n && !trace_path_sep(name + at))
		at++;
	for (int i = 0; i < p->ndefs && !arg; i++)
		if (p->defs[i].f.kind == TRACE_F_ARG && strlen(p->defs[i].name) == at &&
		    !strncmp(p->defs[i].name, name, at))
			arg = &p->defs[i];
	if (!arg)
		return bad(col, 0, why, len, "'%.*s' is not an argument of %s", (int)at, name,
			   p->name);
	if (!btf)
		return bad(col, 0, why, len, "member paths need the kernel's BTF "
			   "(CONFIG_DEBUG_INFO_BTF)");
	idx = arg->f.off;
	cur = p->argtype[idx];
	tok = 0;
	while (at < n) {
		size_t sep = at, sl = trace_path_sep(name + at), start;
		uint32_t bits, bitsize;
		int mtype;

		at += sl;
		start = at;
		while (at < n && (isalnum((unsigned char)name[at]) || name[at] == '_'))
			at++;
		if (at == start || (at < n && !trace_path_sep(name + at)))
			return bad(col, at, why, len, "expected a member name");
		t = bare(btf, cur, NULL);
		if (!t)
			return bad(col, sep, why, len, "'%.*s' has no type in BTF", (int)sep, name);
		if (sl == 2) {
			if (!btf_is_ptr(t))
				return bad(col, sep, why, len, "'%.*s' is not a pointer%s",
					   (int)sep, name,
					   btf_is_composite(t) ? ": use '.'" : "");
			if (addr) {
				if (steps >= TRACE_STEPS - 1)
					return bad(col, sep, why, len, "too deep: %d memory "
						   "reads at most", TRACE_STEPS);
				path->off[steps++] = acc;
			}
			addr = true;
			acc = 0;
			t = bare(btf, t->type, NULL);
			if (!t || !btf_is_composite(t))
				return bad(col, sep, why, len, "'%.*s' does not point to a struct",
					   (int)sep, name);
		} else if (!addr || !btf_is_composite(t)) {
			return bad(col, sep, why, len, "'%.*s' is not a struct%s", (int)sep, name,
				   btf_is_ptr(t) ? ": use '->'" : "");
		}
		if (member(btf, t, name + start, at - start, &mtype, &bits, &bitsize))
			return bad(col, start, why, len, "%s has no member '%.*s'",
				   tname(btf, t, sn, sizeof(sn)), (int)(at - start), name + start);
		if (bitsize || bits % 8)
			return bad(col, start, why, len, "'%.*s' is a bit field: not supported",
				   (int)(at - start), name + start);
		acc += bits / 8;
		cur = mtype;
		tok = start;
	}
	t = bare(btf, cur, NULL);
	f->off = idx;
	f->is_signed = 0;
	if (t && (btf_is_int(t) || btf_is_any_enum(t)) &&
	    (t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8)) {
		f->kind = TRACE_F_KPATH;
		f->size = t->size;
		f->is_signed = is_signed(btf, cur);
	} else if (t && btf_is_ptr(t)) {
		e = bare(btf, t->type, NULL);
		f->kind = TRACE_F_KPATH;
		f->size = 8;
		if (e && btf_is_int(e) && e->size == 1) {	/* char *: the string */
			if (steps >= TRACE_STEPS - 1)
				return bad(col, tok, why, len, "too deep: %d memory reads at most",
					   TRACE_STEPS);
			path->off[steps++] = acc;
			acc = 0;
			f->kind = TRACE_F_KSTR;
			f->size = TRACE_STR;
		}
	} else if (t && btf_is_array(t)) {
		const struct btf_array *a = btf_array(t);

		e = bare(btf, a->type, NULL);
		if (!e || !btf_is_int(e) || e->size != 1)
			return bad(col, tok, why, len, "'%.*s' is an array of numbers: not "
				   "supported", (int)(n - tok), name + tok);
		f->kind = TRACE_F_KSTR;
		f->size = a->nelems && a->nelems < TRACE_STR ? a->nelems : TRACE_STR;
	} else if (t && btf_is_composite(t)) {
		return bad(col, tok, why, len, "'%.*s' is a %s: name a member with '.'",
			   (int)(n - tok), name + tok, btf_is_union(t) ? "union" : "struct");
	} else {
		return bad(col, tok, why, len, "'%.*s' is not a number or a string",
			   (int)(n - tok), name + tok);
	}
	path->off[steps++] = acc;
	path->n = steps;
	return 0;
}

struct pbuf {
	char *buf;
	size_t len, at;
};

static void pbuf_printf(void *ctx, const char *fmt, va_list ap)
{
	struct pbuf *b = ctx;
	int k;

	if (b->at >= b->len)
		return;
	k = vsnprintf(b->buf + b->at, b->len - b->at, fmt, ap);
	if (k > 0)
		b->at += k;
}

int trace_raw_proto(const struct btf *btf, const char *name, char *buf, size_t len)
{
	const struct btf_type *t = btf ? proto_of(btf, name) : NULL, *named;
	/* one dumper per BTF: making one sizes tables by the BTF's type count (tplist -v
	 * asks for every tracepoint) */
	static const struct btf *seen;
	static struct btf_dump *d;
	static struct pbuf b;
	const struct btf_param *pa;

	if (!len)
		return -1;
	buf[0] = 0;
	if (!t)
		return -1;
	named = named_proto(btf, t, name);
	if (seen != btf) {
		btf_dump__free(d);
		d = btf_dump__new(btf, pbuf_printf, &b, NULL);
		seen = d ? btf : NULL;
	}
	if (!d)
		return -1;
	b = (struct pbuf){ buf, len, 0 };
	pa = btf_params(t);
	for (int i = 1; i < btf_vlen(t); i++) {
		char an[16];
		LIBBPF_OPTS(btf_dump_emit_type_decl_opts, o, .field_name = an);

		snprintf(an, sizeof(an), "arg%d", i - 1);
		if (named && *btf__name_by_offset(btf, btf_params(named)[i].name_off))
			o.field_name = btf__name_by_offset(btf, btf_params(named)[i].name_off);

		if (i > 1 && b.at < len)
			b.at += snprintf(buf + b.at, len - b.at, ", ");
		btf_dump__emit_type_decl(d, pa[i].type, &o);
	}
	if (b.at >= len)
		buf[len - 1] = 0;
	return 0;
}
