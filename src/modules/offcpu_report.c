// SPDX-License-Identifier: GPL-2.0
/*
 * offcpu's reports: the kernel's rows since the last report, most time blocked first,
 * their stacks symbolized (core/symbolize.h): one record per row (time, count, sleeper
 * and its stack, waker and its stack), or folded lines; then what share was symbolized.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cgroup.h"
#include "core/ident.h"
#include "modules/offcpu_int.h"
#include "offcpu.skel.h"

/* What a report symbolized. */
struct tally {
	uint64_t intervals, named;	/* by the sleeper's leaf frame */
	uint64_t frames, frames_named;	/* sleepers' and wakers' frames, once per row */
	uint64_t no_waker;		/* intervals with no waker seen */
	uint64_t all;			/* intervals of every row, shown or not */
	uint64_t ns;			/* spent symbolizing */
};

struct walk {
	struct offcpu_state *st;
	int fd;
	struct tally t;
};

/*
 * The frames of stack @id (of image @exec_id of @pid for a user stack) into @out, root
 * first or, with @leaf_first, leaf first; a kernel stack without the tracer's own frames
 * (offcpu_frames_keep). Returns the frames' count, or -1 when the stack was lost (in the
 * kernel, or gone from the map: "[lost stack]" stands for it); *@leaf_named
 * says whether the leaf got a name. With @irq (a waker's kernel stack), the stack ends at
 * an interrupt's entry and *@irq says so.
 */
static int stack_text(struct walk *w, uint32_t pid, uint32_t exec_id, int32_t id, bool kernel,
		      bool leaf_first, bool mark, struct offcpu_text *out, bool *leaf_named,
		      bool *irq)
{
	struct ks_frame f[OFFCPU_DEPTH];
	int n, first;

	n = offcpu_stack_frames(w->st->maps.sym, w->st->round, w->fd, pid, exec_id, id, kernel, irq,
				f, &first);
	if (n < 0)
		offcpu_text_add(out, "[lost stack]");
	if (n <= 0)
		return n;
	for (int i = first; i < first + n; i++) {
		w->t.frames++;
		if (f[i].res == KS_SYM_OK)
			w->t.frames_named++;
	}
	if (n && leaf_named)
		*leaf_named = f[first].res == KS_SYM_OK;
	offcpu_frames_text(f + first, n, leaf_first, kernel && mark, out);
	return n;
}

/* A row's sleeper stack (user then kernel, root first) and waker stack: root first for
 * records, leaf first (kernel then user) in folded text, as offwaketime draws it. */
static void row_stacks(struct walk *w, const struct offcpu_row *r, bool folded,
		       struct offcpu_text *sleeper, struct offcpu_text *waker)
{
	const struct offcpu_key *k = &r->k;
	bool named = false, knamed = false, irq = false;
	int nu, nk;

	nu = stack_text(w, k->pid, k->exec_id, k->ustack, false, false, folded, sleeper, &named,
			NULL);
	nk = stack_text(w, k->pid, k->exec_id, k->kstack, true, false, folded, sleeper, &knamed,
			NULL);
	if (nk > 0)
		named = knamed;
	if (!nu && !nk)
		offcpu_text_add(sleeper, "[no stack]");
	w->t.intervals += r->v.count;
	if (named)
		w->t.named += r->v.count;
	if (!k->waker_comm[0]) {
		w->t.no_waker += r->v.count;
		return;
	}
	if (folded) {
		stack_text(w, k->waker_pid, k->waker_exec_id, k->waker_kstack, true, true, true,
			   waker, NULL, &irq);
		if (!irq)
			stack_text(w, k->waker_pid, k->waker_exec_id, k->waker_ustack, false,
				   true, true, waker, NULL, NULL);
	} else {
		struct offcpu_text *kt = calloc(1, sizeof(*kt));

		if (!kt)
			return;
		stack_text(w, k->waker_pid, k->waker_exec_id, k->waker_kstack, true, false,
			   false, kt, NULL, &irq);
		if (!irq)
			stack_text(w, k->waker_pid, k->waker_exec_id, k->waker_ustack, false,
				   false, false, waker, NULL, NULL);
		else
			offcpu_text_add(waker, "[interrupt]");
		offcpu_text_add(waker, kt->s);
		free(kt);
	}
}

const char *offcpu_cgroup_text(struct ks_ctx *ctx, uint64_t id, bool folded, char *buf,
			       size_t len)
{
	const char *p = ks_ident__cgroup_path(ks_ctx_ident(ctx), id);
	struct ks_cgfs fs;

	if (p) {
		snprintf(buf, len, "%s", p);
	} else {
		/* not resolved yet (the worker has it queued): here, once, by its handle */
		int err = ks_cgfs__open(&fs, "/proc") ?: ks_cgfs__path(&fs, id, buf, len);

		ks_cgfs__close(&fs);
		if (err)
			snprintf(buf, len, "cgroup:%llu", (unsigned long long)id);
	}
	for (char *c = buf; folded && *c; c++)
		if (*c == ';' || *c == ' ' || *c == '\n')
			*c = '_';
	return buf;
}

static void emit_row(struct ks_ctx *ctx, struct walk *w, const struct offcpu_row *r)
{
	struct offcpu_text *sl = calloc(2, sizeof(*sl)), *wk = sl + 1;
	struct ks_hdr h;
	struct ks_rec rec;

	if (!sl)
		return;
	row_stacks(w, r, false, sl, wk);
	ks_row_hdr(&h, r->k.pid, r->k.tid, r->v.cgroup, r->k.comm);
	ks_rec_init(&rec, "offcpu", &h);
	rec.kind = KS_K_REPORT;
	ks_rec_add(&rec, "blocked_ns", "BLOCKED", 8, KS_V_NS)->u = r->v.total_ns;
	ks_rec_add(&rec, "count", "COUNT", 7, KS_V_COUNT)->u = r->v.count;
	ks_rec_uint(&rec, NULL, "PID", -7, r->k.pid);
	if (w->st->per_thread)
		ks_rec_uint(&rec, NULL, "TID", -7, r->k.tid);
	ks_rec_kstr(&rec, NULL, "COMM", -16, h.comm, sizeof(h.comm), false);
	if (w->st->per_cgroup) {
		char cg[KS_CG_PATH_MAX];
		const char *p = offcpu_cgroup_text(ctx, r->k.cgroup, false, cg, sizeof(cg));

		ks_rec_uint(&rec, "cgroup_id", NULL, 0, r->k.cgroup);
		ks_rec_str(&rec, "cgroup_path", "CGROUP", -24, p, strlen(p));
	}
	ks_rec_str(&rec, "stack", "STACK", 0, sl->s, sl->len);
	if (!w->st->no_waker) {
		ks_rec_uint(&rec, "waker_pid", "WOKEN BY", 0, r->k.waker_pid);
		if (w->st->per_thread)
			ks_rec_uint(&rec, "waker_tid", "WTID", 0, r->k.waker_tid);
		ks_rec_kstr(&rec, "waker_comm", "WAKER", 0, r->k.waker_comm,
			    sizeof(r->k.waker_comm), false);
		ks_rec_str(&rec, "waker_stack", "WAKER STACK", 0, wk->s, wk->len);
	}
	ks_emit(ctx, &rec);
	free(sl);
}

static void print_folded(struct ks_ctx *ctx, struct walk *w, const struct offcpu_row *r)
{
	struct offcpu_text *sl = calloc(2, sizeof(*sl)), *wk = sl + 1;
	char comm[TASK_COMM_LEN + 1], wcomm[TASK_COMM_LEN + 1];

	if (!sl)
		return;
	if (w->st->per_cgroup) {
		char cg[KS_CG_PATH_MAX];

		offcpu_text_add(sl, offcpu_cgroup_text(ctx, r->k.cgroup, true, cg, sizeof(cg)));
	}
	offcpu_comm_text(r->k.comm, comm, sizeof(comm));
	offcpu_text_add(sl, comm);
	row_stacks(w, r, true, sl, wk);
	if (r->k.waker_comm[0]) {
		offcpu_comm_text(r->k.waker_comm, wcomm, sizeof(wcomm));
		printf("%s;--;%s%s%s %llu\n", sl->s, wk->s, wk->len ? ";" : "", wcomm,
		       (unsigned long long)(r->v.total_ns / 1000));
	} else {
		printf("%s %llu\n", sl->s, (unsigned long long)(r->v.total_ns / 1000));
	}
	free(sl);
}

static int by_time(const void *a, const void *b)
{
	const struct offcpu_row *x = a, *y = b;

	if (x->v.total_ns != y->v.total_ns)
		return x->v.total_ns > y->v.total_ns ? -1 : 1;
	return memcmp(&x->k, &y->k, sizeof(x->k));
}

/* The kernel's counters since the last report. */
static void stats_delta(struct offcpu_state *st, struct bpf_map *map, uint64_t *d)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v = ncpu > 0 ? calloc(ncpu, sizeof(*v)) : NULL;

	for (uint32_t i = 0; i < OFFCPU_ST_N; i++) {
		uint64_t sum = 0;

		if (v && !bpf_map_lookup_elem(bpf_map__fd(map), &i, v))
			for (int c = 0; c < ncpu; c++)
				sum += v[c];
		d[i] = sum - st->stats[i];
		st->stats[i] = sum;
	}
	free(v);
}

static double pct(uint64_t n, uint64_t of)
{
	return of ? 100.0 * n / of : 0;
}

static void emit_tally(struct ks_ctx *ctx, struct walk *w, const uint64_t *k, uint64_t blocked)
{
	const struct tally *t = &w->t;
	struct ks_rec r;

	if (w->st->folded) {
		/* stdout holds the folded stacks: the tally goes to stderr */
		fprintf(stderr, "offcpu: %llu intervals, %llu symbolized (%.1f%%); frames %llu of "
			"%llu named; no waker %llu; stack collisions user %llu kernel %llu; "
			"preempted %llu, out of range %llu not counted; symbolized in %.1f ms\n",
			(unsigned long long)t->intervals, (unsigned long long)t->named,
			pct(t->named, t->intervals), (unsigned long long)t->frames_named,
			(unsigned long long)t->frames, (unsigned long long)t->no_waker,
			(unsigned long long)k[OFFCPU_ST_ULOST],
			(unsigned long long)k[OFFCPU_ST_KLOST],
			(unsigned long long)k[OFFCPU_ST_PREEMPTED],
			(unsigned long long)k[OFFCPU_ST_RANGE], t->ns / 1e6);
		return;
	}
	ks_rec_init(&r, "offcpu_summary", NULL);
	r.kind = KS_K_REPORT;
	r.style = KS_REC_LINE;
	ks_rec_uint(&r, "intervals", "intervals", 0, t->all);
	ks_rec_add(&r, "blocked_ns", "blocked", 0, KS_V_NS)->u = blocked;
	ks_rec_uint(&r, "shown", "shown", 0, t->intervals);
	ks_rec_uint(&r, "symbolized", "symbolized", 0, t->named);
	ks_rec_add(&r, "symbolized_pct", "%", 0, KS_V_DOUBLE)->d = pct(t->named, t->intervals);
	ks_rec_uint(&r, "frames", "frames", 0, t->frames);
	ks_rec_uint(&r, "frames_named", "named", 0, t->frames_named);
	ks_rec_uint(&r, "no_waker", "no-waker", 0, t->no_waker);
	ks_rec_uint(&r, "user_stack_collisions", "ucoll", 0, k[OFFCPU_ST_ULOST]);
	ks_rec_uint(&r, "kernel_stack_collisions", "kcoll", 0, k[OFFCPU_ST_KLOST]);
	ks_rec_uint(&r, "stack_errors", "stack-err", 0, k[OFFCPU_ST_UERR] + k[OFFCPU_ST_KERR]);
	ks_rec_uint(&r, "preempted", "preempted", 0, k[OFFCPU_ST_PREEMPTED]);
	ks_rec_uint(&r, "out_of_range", "out-of-range", 0, k[OFFCPU_ST_RANGE]);
	ks_rec_uint(&r, "maps_unread", "maps-unread", 0,
		    w->st->maps.failed + k[OFFCPU_ST_SEEN_FULL]);
	ks_rec_add(&r, "symbolize_ns", "symbolize", 0, KS_V_NS)->u = t->ns;
	ks_emit(ctx, &r);
}

void offcpu_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct offcpu_state *st = state;
	struct offcpu_bpf *skel = vskel;
	struct walk w = { .st = st, .fd = bpf_map__fd(skel->maps.offcpu_stacks) };
	uint64_t total, blocked = 0, k[OFFCPU_ST_N];
	struct timespec t0, t1;
	struct offcpu_row *d;
	size_t m;

	ks_tc_read(&st->reader);	/* from the tasks: their change into the rows */
	m = ks_task_rows_read(&st->rows, skel->maps.offcpu_rows, &total, (void **)&d);
	ks_ctx_aggregated(ctx, OFFCPU_EV_BLOCK, total);
	stats_delta(st, skel->maps.offcpu_stats, k);
	ks_symmaps_sync(&st->maps);
	st->round++;
	if (d)
		qsort(d, m, sizeof(*d), by_time);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; d && i < m; i++) {
		blocked += d[i].v.total_ns;
		w.t.all += d[i].v.count;
		if (st->folded)
			print_folded(ctx, &w, &d[i]);
		else if (!st->top || i < st->top)
			emit_row(ctx, &w, &d[i]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	w.t.ns = (t1.tv_sec - t0.tv_sec) * 1000000000ULL + t1.tv_nsec - t0.tv_nsec;
	if (st->folded)
		fflush(stdout);
	free(d);
	emit_tally(ctx, &w, k, blocked);
}
