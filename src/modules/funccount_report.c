// SPDX-License-Identifier: GPL-2.0
/*
 * funccount's report: what each tracepoint counter and each row of the kernel's
 * funccount_calls table gained since the previous report, busiest first. The kernel's
 * table is never cleared (a delete could fall between an update and the read that should
 * have seen it): each report subtracts the totals it saw last.
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/rows.h"
#include "modules/funccount_int.h"

struct fc_out {
	const char *probe;
	const char *kind;	/* "tracepoint", "uprobe", "kprobe", "fentry" */
	uint64_t count;
	const struct fc_row *row;	/* uprobe rows: the process, with -P */
};

static int by_key(const void *a, const void *b)
{
	return memcmp(&((const struct fc_row *)a)->k, &((const struct fc_row *)b)->k,
		      sizeof(struct funccount_key));
}

static int by_count(const void *a, const void *b)
{
	const struct fc_out *x = a, *y = b;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if ((c = strcmp(x->probe, y->probe)))
		return c;
	return x->row && y->row ? by_key(x->row, y->row) : 0;
}

/* A header for a per-process row: its process as the kernel saw it making the row. */
static void row_hdr(struct ks_hdr *h, const struct fc_row *r)
{
	memset(h, 0, sizeof(*h));
	h->pid = h->tid = r->k.pid;
	h->flags = KS_HDR_F_OWNER;
	h->ts = ks_clock_mono_now();	/* the report's time */
	memcpy(h->comm, r->v.comm, sizeof(h->comm));
}

static void emit(struct ks_ctx *ctx, const struct fc_state *st, const struct fc_out *o)
{
	static char pid[16];
	struct ks_hdr h;
	struct ks_rec r;

	if (o->row && st->per_proc) {
		row_hdr(&h, o->row);
		ks_rec_init(&r, "funccount", &h);
		r.kind = KS_K_REPORT;
	} else {
		ks_rec_init(&r, "funccount", NULL);
	}
	if (st->per_proc) {
		/* JSON has the header's pid and comm; a tracepoint counts every process */
		if (o->row)
			snprintf(pid, sizeof(pid), "%u", o->row->k.pid);
		else
			snprintf(pid, sizeof(pid), "-");
		ks_rec_str(&r, NULL, "PID", -7, pid, strlen(pid));
		if (o->row)
			ks_rec_kstr(&r, NULL, "COMM", -16, h.comm, sizeof(h.comm), false);
		else
			ks_rec_str(&r, NULL, "COMM", -16, "-", 1);
	}
	ks_rec_uint(&r, "count", "COUNT", 12, o->count);
	ks_rec_str(&r, "kind", NULL, 0, o->kind, strlen(o->kind));
	ks_rec_str(&r, "probe", "FUNC", 0, o->probe, strlen(o->probe));
	ks_emit(ctx, &r);
}

/* The user- and kernel-function rows that gained calls since the last report into @out (from @n);
 * the new totals become the reference. Returns the new count of @out. */
static int user_deltas(struct ks_ctx *ctx, struct fc_state *st, struct bpf_map *calls,
		       struct fc_row **cur, size_t *ncur, struct fc_out *out, int n, int max)
{
	size_t nc = *ncur = KS_MAP_ROWS(calls, struct fc_row, by_key, cur);
	uint64_t total = 0;

	for (size_t i = 0; *cur && i < nc; i++) {
		const struct fc_row *p = ks_rows_find(&(*cur)[i], st->prev, st->nprev,
						      sizeof(**cur), by_key);
		uint64_t d = (*cur)[i].v.calls - (p ? p->v.calls : 0), func = (*cur)[i].k.func;
		const char *name;

		total += (*cur)[i].v.calls;
		if (!d || n >= max)
			continue;
		if (func < FUNCCOUNT_FUNCS) {
			if (func >= (uint64_t)st->nufn)
				continue;
			out[n++] = (struct fc_out){ st->ufns[func].name, "uprobe", d, &(*cur)[i] };
			continue;
		}
		/* a kernel address: the function holding it */
		name = ks_symtab_find(&st->ksyms, func, NULL);
		out[n++] = (struct fc_out){ name ? name : "[unknown]",
					    st->khook == FC_KH_FENTRY ? "fentry" : "kprobe", d,
					    &(*cur)[i] };
	}
	ks_ctx_aggregated(ctx, FUNCCOUNT_EV_CALL, total);
	return n;
}

void fc_report(struct ks_ctx *ctx, struct fc_state *st, struct bpf_map *calls)
{
	int max = st->ntp + (calls ? (int)bpf_map__max_entries(calls) : 0), n = 0;
	struct fc_out *out = calloc(max ? max : 1, sizeof(*out));
	struct fc_row *cur = NULL;
	size_t ncur = 0;

	if (!out)
		return;
	for (int t = 0; t < st->ntp; t++) {
		uint64_t total = fc_tp_read(&st->tps[t]), d = total - st->tps[t].prev;

		st->tps[t].prev = total;
		if (d)
			out[n++] = (struct fc_out){ st->tps[t].name, "tracepoint", d, NULL };
	}
	if (calls)
		n = user_deltas(ctx, st, calls, &cur, &ncur, out, n, max);
	qsort(out, n, sizeof(*out), by_count);
	for (int i = 0; i < n; i++)
		emit(ctx, st, &out[i]);
	if (cur) {
		free(st->prev);
		st->prev = cur;
		st->nprev = ncur;
	}
	free(out);
}
