// SPDX-License-Identifier: GPL-2.0
/*
 * ksight trace's PROBE and the fields it offers: a tracepoint's from its format file
 * (core/tracepoints.h parses it), a uprobe's arguments from the registers, a uretprobe's
 * return value, and the current task's comm, pid and tid everywhere (also as cur_comm,
 * cur_pid and cur_tid, for the records that have fields of those names themselves).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tracepoints.h"
#include "modules/trace_int.h"

static void add(struct trace_probe *p, const char *name, enum trace_fkind kind, uint32_t off,
		uint32_t size, bool sgn)
{
	struct trace_fdef *d;

	if (p->ndefs >= TRACE_FDEFS)
		return;
	for (int i = 0; i < p->ndefs; i++)
		if (!strcmp(p->defs[i].name, name))
			return;	/* the record's own field wins */
	d = &p->defs[p->ndefs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->f.kind = kind;
	d->f.off = off;
	d->f.size = size;
	d->f.is_signed = sgn;
}

static void add_task(struct trace_probe *p)
{
	add(p, "comm", TRACE_F_COMM, 0, TASK_COMM_LEN, false);
	add(p, "pid", TRACE_F_PID, 0, 8, false);
	add(p, "tid", TRACE_F_TID, 0, 8, false);
	add(p, "cur_comm", TRACE_F_COMM, 0, TASK_COMM_LEN, false);
	add(p, "cur_pid", TRACE_F_PID, 0, 8, false);
	add(p, "cur_tid", TRACE_F_TID, 0, 8, false);
}

int trace_probe_parse(const char *s, struct trace_probe *p, char *err, size_t len)
{
	const char *a = s, *colon;

	memset(p, 0, sizeof(*p));
	if (!strncmp(s, "usdt:", 5)) {
		const char *name, *prov;

		p->kind = TRACE_P_USDT;
		a = s + 5;
		name = strrchr(a, ':');
		prov = name && name > a ? memrchr(a, ':', name - a) : NULL;
		if (!prov || prov == a || prov + 1 == name || !name[1]) {
			snprintf(err, len, "%s: expected usdt:PATH:PROVIDER:NAME", s);
			return -1;
		}
		if ((size_t)(prov - a) >= sizeof(p->bin) ||
		    (size_t)(name - prov - 1) >= sizeof(p->provider) ||
		    strlen(name + 1) >= sizeof(p->func)) {
			snprintf(err, len, "%s: name too long", s);
			return -1;
		}
		memcpy(p->bin, a, prov - a);
		memcpy(p->provider, prov + 1, name - prov - 1);
		snprintf(p->func, sizeof(p->func), "%s", name + 1);
		return 0;
	}
	if (!strncmp(s, "kfunc:", 6) || !strncmp(s, "kprobe:", 7)) {
		p->kind = TRACE_P_KFUNC;
		p->kprobe_only = s[1] == 'p';
		a = strchr(s, ':') + 1;
		if (!*a || strlen(a) >= sizeof(p->func) || strspn(a, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") != strlen(a)) {
			snprintf(err, len, "%s: expected %s:FUNCTION (a kernel function's name)", s,
				 p->kprobe_only ? "kprobe" : "kfunc");
			return -1;
		}
		snprintf(p->func, sizeof(p->func), "%s", a);
		return 0;
	}
	if (!strncmp(s, "u:", 2) || !strncmp(s, "r:", 2)) {
		p->kind = s[0] == 'u' ? TRACE_P_UPROBE : TRACE_P_URETPROBE;
		a = s + 2;
		colon = strrchr(a, ':');
		if (!colon || colon == a || !colon[1]) {
			snprintf(err, len, "%s: expected %c:PATH:FUNCTION", s, s[0]);
			return -1;
		}
		if ((size_t)(colon - a) >= sizeof(p->bin) || strlen(colon + 1) >= sizeof(p->func)) {
			snprintf(err, len, "%s: name too long", s);
			return -1;
		}
		memcpy(p->bin, a, colon - a);
		snprintf(p->func, sizeof(p->func), "%s", colon + 1);
		return 0;
	}
	p->kind = TRACE_P_TP;
	if (!strncmp(s, "t:", 2))
		a = s + 2;
	if (!strncmp(s, "raw:", 4)) {
		p->kind = TRACE_P_RAW;
		a = s + 4;
	}
	colon = strchr(a, ':');
	if (!colon || colon == a || !colon[1] || strchr(colon + 1, ':') || strchr(a, '/') ||
	    strpbrk(a, "*?[")) {
		snprintf(err, len, "%s: expected CATEGORY:NAME, t:CATEGORY:NAME, "
			 "raw:CATEGORY:NAME, u:PATH:FUNCTION, r:PATH:FUNCTION, usdt:PATH:PROVIDER:NAME or "
			 "kfunc:FUNCTION", s);
		return -1;
	}
	if ((size_t)(colon - a) >= sizeof(p->cat) || strlen(colon + 1) >= sizeof(p->name)) {
		snprintf(err, len, "%s: name too long", s);
		return -1;
	}
	memcpy(p->cat, a, colon - a);
	snprintf(p->name, sizeof(p->name), "%s", colon + 1);
	return 0;
}

int trace_probe_tp_fields(struct trace_probe *p, const char *fmt, char *err, size_t len)
{
	struct ks_tp_field *f = calloc(TRACE_FDEFS, sizeof(*f));
	int n = f ? ks_tp_format_parse(fmt, f, TRACE_FDEFS, true) : -ENOMEM;

	if (n < 0) {
		snprintf(err, len, "%s:%s: cannot read its format: %s", p->cat, p->name,
			 strerror(-n));
		free(f);
		return -1;
	}
	p->ndefs = 0;
	for (int i = 0; i < n && i < TRACE_FDEFS; i++) {
		const char *d = f[i].decl;

		if (!strncmp(d, "__data_loc", 10)) {
			if (strstr(d, "char"))
				add(p, f[i].name, TRACE_F_DLOC, f[i].offset, TRACE_STR, false);
		} else if (strchr(d, '[')) {
			if (strstr(d, "char"))
				add(p, f[i].name, TRACE_F_STR, f[i].offset,
				    f[i].size < TRACE_STR ? f[i].size : TRACE_STR, false);
		} else if (f[i].size == 1 || f[i].size == 2 || f[i].size == 4 || f[i].size == 8) {
			add(p, f[i].name, TRACE_F_INT, f[i].offset, f[i].size, f[i].is_signed);
		}
	}
	free(f);
	add_task(p);
	return 0;
}

void trace_probe_u_fields(struct trace_probe *p)
{
	char name[16];

	p->ndefs = 0;
	if (p->kind == TRACE_P_URETPROBE) {
		add(p, "retval", TRACE_F_RET, 0, 8, true);
		add(p, "retval_str", TRACE_F_USTR, 6, TRACE_STR, false);
	} else {
		for (int i = 0; i < 6; i++) {
			snprintf(name, sizeof(name), "arg%d", i);
			add(p, name, TRACE_F_ARG, i, 8, true);
		}
		for (int i = 0; i < 6; i++) {
			snprintf(name, sizeof(name), "arg%d_str", i);
			add(p, name, TRACE_F_USTR, i, TRACE_STR, false);
		}
	}
	add_task(p);
}

void trace_probe_k_fields(struct trace_probe *p, int nargs, const char *const *names)
{
	char name[16];

	p->ndefs = 0;
	for (int i = 0; i < nargs && i < 6; i++) {
		snprintf(name, sizeof(name), "arg%d", i);
		add(p, name, TRACE_F_ARG, i, 8, true);
	}
	for (int i = 0; names && i < nargs && i < 6; i++)
		if (names[i] && names[i][0])
			add(p, names[i], TRACE_F_ARG, i, 8, true);
	add_task(p);
}

void trace_probe_usdt_fields(struct trace_probe *p, const char *args)
{
	char name[16];
	int n = 0;

	p->ndefs = 0;
	for (const char *a = args; *a && n < 12;) {
		a += strspn(a, " ");
		if (!*a)
			break;
		snprintf(name, sizeof(name), "arg%d", n);
		add(p, name, TRACE_F_UARG, n, 8, *a == '-');
		snprintf(name, sizeof(name), "arg%d_str", n);
		add(p, name, TRACE_F_USDTSTR, n, TRACE_STR, false);
		n++;
		a += strcspn(a, " ");
	}
	add_task(p);
}

int trace_conf_field_why(struct trace_conf *c, const struct trace_probe *p, const char *name,
			 size_t n, size_t *col, char *why, size_t len)
{
	const struct trace_fdef *d = NULL;
	struct trace_fdef path;
	size_t at = 0;

	for (int i = 0; i < p->ndefs && !d; i++)
		if (strlen(p->defs[i].name) == n && !strncmp(p->defs[i].name, name, n))
			d = &p->defs[i];
	if (!d && p->kind == TRACE_P_RAW) {
		/* a member path: its first name must be an argument's */
		while (at < n && !trace_path_sep(name + at))
			at++;
		if (at == n)
			return -1;
		memset(&path, 0, sizeof(path));
		if (trace_raw_path(p, name, n, &path.f, &path.path, col, why, len))
			return -3;
		d = &path;
	}
	if (!d)
		return -1;
	for (unsigned int i = 0; i < c->nfields; i++)
		if (!memcmp(&c->f[i], &d->f, sizeof(d->f)) &&
		    !memcmp(&c->path[i], &d->path, sizeof(d->path)))
			return i;
	if (c->nfields >= TRACE_FIELDS)
		return -2;
	c->f[c->nfields] = d->f;
	c->path[c->nfields] = d->path;
	return c->nfields++;
}

int trace_conf_field(struct trace_conf *c, const struct trace_probe *p, const char *name,
		     size_t n)
{
	char why[160];
	size_t col;
	int i = trace_conf_field_why(c, p, name, n, &col, why, sizeof(why));

	return i == -3 ? -1 : i;
}
