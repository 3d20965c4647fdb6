// SPDX-License-Identifier: GPL-2.0
/*
 * profile's reports: the kernel's rows since the last report, their stacks symbolized,
 * as a top-functions table (or folded stacks), the symbolization tally, and the SVG.
 * With --wall, offcpu's rows too (blocked and run-queue time under the stack the thread
 * left the CPU with), and the table is the wall time of each process (or cgroup) by kind.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/ident.h"
#include "modules/profile_int.h"
#include "profile.skel.h"

#define FRAME_LEN 256
#define LINE_MAX_LEN (2 * PROFILE_DEPTH * 64 + 64)

/* --wall: one process's (or cgroup's) time by kind. */
struct wall_sum {
	uint64_t id;		/* pid, or cgroup id with --per-cgroup */
	char comm[TASK_COMM_LEN];
	uint64_t cgroup;
	uint64_t ns[3];		/* on-CPU, run queue, off-CPU */
};

struct walk {
	struct ks_ctx *ctx;
	struct profile_state *st;
	int wstacks_fd;		/* --wall: offcpu_stacks */
	struct wall_sum *sums;
	size_t nsums, capsums;
	uint64_t wall_ns[3];	/* the report's time by kind */
	uint64_t wall_lost;	/* --wall: ns under a lost stack */
	int stacks_fd;
	struct profile_tally t;
	struct profile_fset folded, self, total;
	char line[LINE_MAX_LEN];
	size_t len;
	/* the keys of this sample's frames, to count each function once in its total */
	char seen[2 * PROFILE_DEPTH][FRAME_LEN];
	int nseen;
	uint64_t ns;		/* spent symbolizing this report */
};

static void line_add(struct walk *w, const char *frame)
{
	int n = snprintf(w->line + w->len, sizeof(w->line) - w->len, "%s%s", w->len ? ";" : "",
			 frame);

	if (n > 0)
		w->len = w->len + n < sizeof(w->line) ? w->len + n : sizeof(w->line) - 1;
}

/* "file:line" of a definition DWARF gave, the file's base name only; "" without one. */
static void src_text(const struct ks_srcfn *fn, char *buf, size_t len)
{
	const char *slash = fn && fn->file ? strrchr(fn->file, '/') : NULL;

	if (!fn || !fn->file)
		buf[0] = 0;
	else
		snprintf(buf, len, "%.100s:%u", slash ? slash + 1 : fn->file, fn->line);
}

/* Function key "name\tmodule\tsrc" of a frame, for the top table: @name when given (an
 * inlined function's), else the frame's own; @fn its definition (--src). */
static void func_key(const struct ks_frame *f, bool kernel, const char *name,
		     const struct ks_srcfn *fn, char *buf, size_t len)
{
	char own[FRAME_LEN - 200], src[128];

	if (!name) {
		profile_frame_text(f, kernel, false, own, sizeof(own));
		name = own;
	}
	src_text(fn, src, sizeof(src));
	snprintf(buf, len, "%.*s\t%.60s\t%s", FRAME_LEN - 200, name,
		 kernel ? "[kernel]" : f->module ? f->module : "", src);
}

static void total_once(struct walk *w, const char *key, uint64_t count)
{
	for (int i = 0; i < w->nseen; i++)
		if (!strcmp(w->seen[i], key))
			return;
	if (w->nseen < 2 * PROFILE_DEPTH)
		snprintf(w->seen[w->nseen++], FRAME_LEN, "%s", key);
	profile_fset_add(&w->total, key, count);
}

/* --src: the functions inlined at frame @f, each a frame of its own under it; the
 * innermost's key into @key (the frame's own when none). */
static void add_inlined(struct walk *w, const struct ks_frame *f, uint64_t count, char *key,
			size_t klen)
{
	const struct ks_src *s = f->src;
	char text[FRAME_LEN];

	for (unsigned int j = 0; s && j < s->ninl; j++) {
		snprintf(text, sizeof(text), "%.200s [inlined]", s->inl[j].name ? s->inl[j].name : "?");
		line_add(w, text);
		func_key(f, false, text, &s->inl[j], key, klen);
		total_once(w, key, count);
	}
}

/* The frames of stack @id, root first, into the line; the leaf's frame into *@leaf.
 * Returns the frames' count, or -1 when the stack is gone from the map. */
static int walk_stack(struct walk *w, const struct profile_row *r, int32_t id, bool kernel,
		      struct ks_frame *leaf, char *leaf_key, size_t klen)
{
	uint64_t ips[PROFILE_DEPTH] = {};
	int n = 0;

	if (bpf_map_lookup_elem(w->stacks_fd, &id, ips))
		return -1;
	while (n < PROFILE_DEPTH && ips[n])
		n++;
	for (int i = n - 1; i >= 0; i--) {
		/* above the leaf, return addresses: the call is the byte before (a call
		 * that ends its function returns past it) */
		uint64_t ip = i ? ips[i] - 1 : ips[i];
		struct ks_frame f;
		char text[FRAME_LEN], key[FRAME_LEN];

		if (kernel)
			ks_symbolizer__kernel(w->st->maps.sym, ip, &f);
		else
			ks_symbolizer__user(w->st->maps.sym, r->k.pid, r->k.exec_id, ip,
					    w->st->round, &f);
		w->t.frames += r->v.count;
		w->t.frame_by[f.res] += r->v.count;
		profile_frame_text(&f, kernel, true, text, sizeof(text));
		line_add(w, text);
		func_key(&f, kernel, NULL, f.src ? &f.src->fn : NULL, key, sizeof(key));
		total_once(w, key, r->v.count);
		add_inlined(w, &f, r->v.count, key, sizeof(key));
		if (i == 0) {
			*leaf = f;
			snprintf(leaf_key, klen, "%s", key);
		}
	}
	return n;
}

/* The root of a row's stacks: its cgroup's path with --per-cgroup, else its thread name;
 * then, with --wall, the kind. */
static void line_root(struct walk *w, const char *comm, uint64_t cgroup, const char *kind)
{
	char buf[KS_CG_PATH_MAX];

	w->len = 0;
	if (w->st->per_cgroup)
		line_add(w, offcpu_cgroup_text(w->ctx, cgroup, true, buf, sizeof(buf)));
	else {
		offcpu_comm_text(comm, buf, sizeof(buf));
		line_add(w, buf);
	}
	if (w->st->wall)
		line_add(w, kind);
}

/* --wall: @ns of @kind (0 on-CPU, 1 run queue, 2 off-CPU) to the row's process or cgroup */
static void wall_add(struct walk *w, uint32_t pid, uint64_t cgroup, const char *comm, int kind,
		     uint64_t ns)
{
	uint64_t id = w->st->per_cgroup ? cgroup : pid;
	struct wall_sum *s = NULL;

	w->wall_ns[kind] += ns;
	for (size_t i = w->nsums; i-- > 0;)
		if (w->sums[i].id == id) {
			s = &w->sums[i];
			break;
		}
	if (!s) {
		if (w->nsums == w->capsums) {
			size_t cap = w->capsums ? 2 * w->capsums : 64;
			struct wall_sum *n = realloc(w->sums, cap * sizeof(*n));

			if (!n)
				return;
			w->sums = n;
			w->capsums = cap;
		}
		s = &w->sums[w->nsums++];
		memset(s, 0, sizeof(*s));
		s->id = id;
		s->cgroup = cgroup;
		memcpy(s->comm, comm, TASK_COMM_LEN);
	}
	s->ns[kind] += ns;
}

static void walk_row(struct walk *w, const struct profile_row *r)
{
	struct ks_frame leaf = { .res = KS_SYM_N };
	char leaf_key[FRAME_LEN] = "";
	bool lost = r->k.ustack == PROFILE_LOST_STACK || r->k.kstack == PROFILE_LOST_STACK;
	/* --wall weighs a sample by the time between two: the sampling period */
	uint64_t weight = w->st->wall ? r->v.count * w->st->period_ns : r->v.count;
	int nu = 0, nk = 0;

	w->t.samples += r->v.count;
	w->nseen = 0;
	line_root(w, r->v.comm, r->v.cgroup, PROFILE_KIND_ON);
	if (w->st->wall)
		wall_add(w, r->k.pid, r->v.cgroup, r->v.comm, 0, weight);
	if (r->k.ustack >= 0 && (nu = walk_stack(w, r, r->k.ustack, false, &leaf, leaf_key,
						 sizeof(leaf_key))) < 0)
		lost = true;
	/* the flame graph shows where a lost user stack was, under its kernel frames */
	if ((r->k.ustack == PROFILE_LOST_STACK || nu < 0) && r->k.kstack >= 0)
		line_add(w, "[lost user stack]");
	if (r->k.kstack >= 0 && (nk = walk_stack(w, r, r->k.kstack, true, &leaf, leaf_key,
						 sizeof(leaf_key))) < 0)
		lost = true;
	if (nu <= 0 && nk <= 0)
		line_add(w, lost ? "[lost stack]" : "[no stack]");
	/* the sample is the leaf's: symbolized or not, and why */
	if (leaf.res < KS_SYM_N)
		w->t.by[leaf.res] += r->v.count;
	else if (lost)
		w->t.lost += r->v.count;
	else
		w->t.nostack += r->v.count;
	if (leaf_key[0])
		profile_fset_add(&w->self, leaf_key, r->v.count);
	profile_fset_add(&w->folded, w->line, weight);
}

/* --wall: the frames of offcpu stack @id, root first, without the tracer's own at the
 * kernel stack's leaf. Returns their count, or -1 when the stack was lost. */
static int wall_stack(struct walk *w, const struct offcpu_row *r, int32_t id, bool kernel)
{
	struct ks_frame f[OFFCPU_DEPTH];
	int n, first;

	n = offcpu_stack_frames(w->st->maps.sym, w->st->round, w->wstacks_fd, r->k.pid,
				r->k.exec_id, id, kernel, NULL, f, &first);
	if (n < 0)
		line_add(w, "[lost stack]");
	if (n <= 0)
		return n;
	for (int i = first + n - 1; i >= first; i--) {
		char text[FRAME_LEN];

		profile_frame_text(&f[i], kernel, true, text, sizeof(text));
		line_add(w, text);
		/* --src: the functions inlined there, as on-CPU stacks show them */
		for (unsigned int j = 0; f[i].src && j < f[i].src->ninl; j++) {
			snprintf(text, sizeof(text), "%.200s [inlined]",
				 f[i].src->inl[j].name ? f[i].src->inl[j].name : "?");
			line_add(w, text);
		}
	}
	return n;
}

/* --wall: an offcpu row's time, the run-queue part and the blocked part, each under the
 * stack the thread left the CPU with. */
static void walk_wall_row(struct walk *w, const struct offcpu_row *r)
{
	static const char *const kinds[] = { NULL, PROFILE_KIND_RQ, PROFILE_KIND_OFF };
	uint64_t cgroup = w->st->per_cgroup ? r->k.cgroup : r->v.cgroup;
	uint64_t ns[3] = { 0, r->v.rq_ns, r->v.total_ns - r->v.rq_ns };

	for (int kind = 1; kind <= 2; kind++) {
		int nu, nk;

		if (!ns[kind])
			continue;
		wall_add(w, r->k.pid, cgroup, r->k.comm, kind, ns[kind]);
		line_root(w, r->k.comm, cgroup, kinds[kind]);
		nu = wall_stack(w, r, r->k.ustack, false);
		nk = wall_stack(w, r, r->k.kstack, true);
		if (nu < 0 || nk < 0)
			w->wall_lost += ns[kind];
		if (!nu && !nk)
			line_add(w, "[no stack]");
		profile_fset_add(&w->folded, w->line, ns[kind]);
	}
}

static int by_wall(const void *a, const void *b)
{
	const struct wall_sum *x = a, *y = b;
	uint64_t tx = x->ns[0] + x->ns[1] + x->ns[2], ty = y->ns[0] + y->ns[1] + y->ns[2];

	if (tx != ty)
		return tx > ty ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static double pct(uint64_t n, uint64_t of);

/* --wall's table: each process's (or cgroup's) time by kind, most first. */
static void emit_wall(struct ks_ctx *ctx, struct walk *w)
{
	if (w->nsums)
		qsort(w->sums, w->nsums, sizeof(*w->sums), by_wall);
	for (size_t i = 0; i < w->nsums && (!w->st->top || i < w->st->top); i++) {
		const struct wall_sum *s = &w->sums[i];
		uint64_t all = s->ns[0] + s->ns[1] + s->ns[2];
		struct ks_hdr h;
		struct ks_rec r;

		if (w->st->per_cgroup) {
			char cg[KS_CG_PATH_MAX];
			const char *p = offcpu_cgroup_text(ctx, s->id, false, cg, sizeof(cg));

			ks_rec_init(&r, "profile_wall", NULL);
			ks_rec_uint(&r, "cgroup_id", NULL, 0, s->id);
			ks_rec_str(&r, "cgroup_path", "CGROUP", -24, p, strlen(p));
		} else {
			/* the process's name, not the name of the thread that made the first row */
			const struct ks_proc *p = ks_ident__find(ks_ctx_ident(ctx), s->id);

			ks_row_hdr(&h, s->id, 0, s->cgroup, p && p->comm[0] ? p->comm : s->comm);
			ks_rec_init(&r, "profile_wall", &h);
			ks_rec_uint(&r, NULL, "PID", -7, s->id);
			ks_rec_kstr(&r, NULL, "COMM", -16, h.comm, sizeof(h.comm), false);
		}
		r.kind = KS_K_REPORT;
		ks_rec_add(&r, "on_cpu_ns", "ON-CPU", 9, KS_V_NS)->u = s->ns[0];
		ks_rec_add(&r, "runqueue_ns", "RUNQUEUE", 9, KS_V_NS)->u = s->ns[1];
		ks_rec_add(&r, "off_cpu_ns", "OFF-CPU", 9, KS_V_NS)->u = s->ns[2];
		ks_rec_add(&r, "on_cpu_pct", "ON%", 6, KS_V_DOUBLE)->d = pct(s->ns[0], all);
		ks_rec_add(&r, "runqueue_pct", "RQ%", 6, KS_V_DOUBLE)->d = pct(s->ns[1], all);
		ks_rec_add(&r, "off_cpu_pct", "OFF%", 6, KS_V_DOUBLE)->d = pct(s->ns[2], all);
		ks_emit(ctx, &r);
	}
}

struct func_row {
	const char *key;
	uint64_t self, total;
};

static int by_self(const void *a, const void *b)
{
	const struct func_row *x = a, *y = b;

	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->key, y->key);
}

static double pct(uint64_t n, uint64_t of)
{
	return of ? 100.0 * n / of : 0;
}

static void emit_funcs(struct ks_ctx *ctx, struct walk *w)
{
	struct func_row *f = calloc(w->total.n ? w->total.n : 1, sizeof(*f));
	size_t j = 0;

	if (!f)
		return;
	for (size_t i = 0; i < w->total.n; i++) {
		f[i].key = w->total.e[i].stack;
		f[i].total = w->total.e[i].count;
		while (j < w->self.n && strcmp(w->self.e[j].stack, f[i].key) < 0)
			j++;
		if (j < w->self.n && !strcmp(w->self.e[j].stack, f[i].key))
			f[i].self = w->self.e[j].count;
	}
	qsort(f, w->total.n, sizeof(*f), by_self);
	for (size_t i = 0; i < w->total.n && (!w->st->top || i < w->st->top); i++) {
		const char *tab = strchr(f[i].key, '\t');
		const char *tab2 = strchr(tab + 1, '\t');
		struct ks_rec r;

		ks_rec_init(&r, "profile_func", NULL);
		r.kind = KS_K_REPORT;
		ks_rec_add(&r, "self", "SELF", 8, KS_V_COUNT)->u = f[i].self;
		ks_rec_add(&r, "self_pct", "SELF%", 6, KS_V_DOUBLE)->d = pct(f[i].self, w->t.samples);
		ks_rec_add(&r, "total", "TOTAL", 8, KS_V_COUNT)->u = f[i].total;
		ks_rec_add(&r, "total_pct", "TOTAL%", 7, KS_V_DOUBLE)->d =
			pct(f[i].total, w->t.samples);
		ks_rec_str(&r, "module", "MODULE", -18, tab + 1, tab2 - tab - 1);
		if (w->st->src)
			ks_rec_str(&r, "src", "SRC", -24, tab2 + 1, strlen(tab2 + 1));
		ks_rec_str(&r, "function", "FUNCTION", 0, f[i].key, tab - f[i].key);
		ks_emit(ctx, &r);
	}
	free(f);
}

/* The kernel's counters since the last report. */
static void stats_delta(uint64_t *last, uint32_t n, struct bpf_map *map, uint64_t *d)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v = ncpu > 0 ? calloc(ncpu, sizeof(*v)) : NULL;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t sum = 0;

		if (v && !bpf_map_lookup_elem(bpf_map__fd(map), &i, v))
			for (int c = 0; c < ncpu; c++)
				sum += v[c];
		d[i] = sum - last[i];
		last[i] = sum;
	}
	free(v);
}

static void emit_tally(struct ks_ctx *ctx, struct walk *w, const uint64_t *k, const uint64_t *wk)
{
	const struct profile_tally *t = &w->t;
	struct ks_symbolizer_stats ss;
	struct ks_rec r;

	if (w->st->wall && (w->st->folded || w->st->svg))
		fprintf(stderr, "profile --wall: on-cpu %.1f ms, run queue %.1f ms, off-cpu %.1f ms "
			"(%.1f ms under a lost stack); sleepers' stack collisions user %llu "
			"kernel %llu, errors %llu\n", w->wall_ns[0] / 1e6, w->wall_ns[1] / 1e6,
			w->wall_ns[2] / 1e6, w->wall_lost / 1e6,
			(unsigned long long)wk[OFFCPU_ST_ULOST],
			(unsigned long long)wk[OFFCPU_ST_KLOST],
			(unsigned long long)(wk[OFFCPU_ST_UERR] + wk[OFFCPU_ST_KERR]));
	if (w->st->folded || w->st->svg) {
		/* stdout holds the folded stacks: the tally goes to stderr */
		fprintf(stderr, "profile: %llu samples, %llu symbolized (%.1f%%); not: %llu no "
			"mapping, %llu no symbols, %llu kernel without kallsyms, %llu lost stack, %llu no stack; "
			"frames %llu of %llu named; stack collisions user %llu kernel %llu; "
			"symbolized in %.1f ms\n",
			(unsigned long long)t->samples, (unsigned long long)t->by[KS_SYM_OK],
			pct(t->by[KS_SYM_OK], t->samples), (unsigned long long)t->by[KS_SYM_NO_MAP],
			(unsigned long long)t->by[KS_SYM_NO_SYMS],
			(unsigned long long)t->by[KS_SYM_NO_KSYMS], (unsigned long long)t->lost,
			(unsigned long long)t->nostack,
			(unsigned long long)t->frame_by[KS_SYM_OK], (unsigned long long)t->frames,
			(unsigned long long)k[PROFILE_ST_ULOST],
			(unsigned long long)k[PROFILE_ST_KLOST], w->ns / 1e6);
		if (w->st->folded)
			return;
	}
	ks_rec_init(&r, "profile_summary", NULL);
	r.kind = KS_K_REPORT;
	r.style = KS_REC_LINE;
	ks_rec_uint(&r, "samples", "samples", 0, t->samples);
	ks_rec_uint(&r, "symbolized", "symbolized", 0, t->by[KS_SYM_OK]);
	ks_rec_add(&r, "symbolized_pct", "%", 0, KS_V_DOUBLE)->d = pct(t->by[KS_SYM_OK], t->samples);
	ks_rec_uint(&r, "no_mapping", "no-mapping", 0, t->by[KS_SYM_NO_MAP]);
	ks_rec_uint(&r, "no_symbols", "no-symbols", 0, t->by[KS_SYM_NO_SYMS]);
	ks_rec_uint(&r, "no_kallsyms", "no-kallsyms", 0, t->by[KS_SYM_NO_KSYMS]);
	ks_rec_uint(&r, "lost_stack", "lost-stack", 0, t->lost);
	ks_rec_uint(&r, "no_stack", "no-stack", 0, t->nostack);
	ks_rec_uint(&r, "frames", "frames", 0, t->frames);
	ks_rec_uint(&r, "frames_named", "named", 0, t->frame_by[KS_SYM_OK]);
	ks_rec_uint(&r, "user_stack_collisions", "ucoll", 0, k[PROFILE_ST_ULOST]);
	ks_rec_uint(&r, "kernel_stack_collisions", "kcoll", 0, k[PROFILE_ST_KLOST]);
	ks_rec_uint(&r, "stack_errors", "stack-err", 0, k[PROFILE_ST_UERR] + k[PROFILE_ST_KERR]);
	ks_rec_uint(&r, "idle", "idle", 0, k[PROFILE_ST_IDLE]);
	ks_rec_uint(&r, "maps_unread", "maps-unread", 0, w->st->maps.failed + k[PROFILE_ST_SEEN_FULL]);
	ks_symbolizer__stats(w->st->maps.sym, &ss);
	ks_rec_uint(&r, "binaries", "binaries", 0, ss.binaries);
	ks_rec_uint(&r, "debug_files", "debug-files", 0, ss.debug_files);
	if (w->st->src)
		ks_rec_uint(&r, "dwarf_files", "dwarf-files", 0, ss.dwarf_files);
	ks_rec_add(&r, "symbolize_ns", "symbolize", 0, KS_V_NS)->u = w->ns;
	if (w->st->wall) {
		ks_rec_add(&r, "on_cpu_ns", "on-cpu", 0, KS_V_NS)->u = w->wall_ns[0];
		ks_rec_add(&r, "runqueue_ns", "runqueue", 0, KS_V_NS)->u = w->wall_ns[1];
		ks_rec_add(&r, "off_cpu_ns", "off-cpu", 0, KS_V_NS)->u = w->wall_ns[2];
		ks_rec_add(&r, "lost_stack_ns", "lost-stack", 0, KS_V_NS)->u = w->wall_lost;
		ks_rec_uint(&r, "wall_stack_collisions", "wcoll", 0,
			    wk[OFFCPU_ST_ULOST] + wk[OFFCPU_ST_KLOST]);
		ks_rec_uint(&r, "wall_stack_errors", "wstack-err", 0,
			    wk[OFFCPU_ST_UERR] + wk[OFFCPU_ST_KERR]);
	}
	ks_emit(ctx, &r);
}

static void write_svg(struct profile_state *st, const struct profile_fset *cur)
{
	char tmp[4200];
	FILE *f;

	for (size_t i = 0; i < cur->n; i++)
		profile_fset_add(&st->all, cur->e[i].stack, cur->e[i].count);
	profile_fset_merge(&st->all);
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", st->svg, (int)getpid());
	if (!(f = fopen(tmp, "w")) ||
	    profile_svg_write(f, &st->all, st->wall ? "ksight profile --wall" : "ksight profile") ||
	    fclose(f) ||
	    rename(tmp, st->svg)) {
		fprintf(stderr, "profile: cannot write %s: %s\n", st->svg, strerror(errno));
		unlink(tmp);
	}
}

void profile_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct profile_state *st = state;
	struct profile_bpf *skel = vskel;
	struct walk *w = calloc(1, sizeof(*w));
	uint64_t total, k[PROFILE_ST_N], wk[OFFCPU_ST_N] = {};
	struct offcpu_row *wd = NULL;
	struct timespec t0, t1;
	struct profile_row *d;
	size_t m, wm = 0;

	m = ks_task_rows_read(&st->rows, skel->maps.profile_rows, &total, (void **)&d);
	ks_ctx_aggregated(ctx, PROFILE_EV_SAMPLE, total);
	stats_delta(st->stats, PROFILE_ST_N, skel->maps.profile_stats, k);
	if (st->wall) {
		wm = ks_task_rows_read(&st->wrows, skel->maps.offcpu_rows, &total, (void **)&wd);
		ks_ctx_aggregated(ctx, PROFILE_EV_WALL, total);
		stats_delta(st->wstats, OFFCPU_ST_N, skel->maps.offcpu_stats, wk);
	}
	if (!w) {
		free(d);
		free(wd);
		return;
	}
	ks_symmaps_sync(&st->maps);
	w->ctx = ctx;
	w->st = st;
	w->stacks_fd = bpf_map__fd(skel->maps.profile_stacks);
	w->wstacks_fd = bpf_map__fd(skel->maps.offcpu_stacks);
	st->round++;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; d && i < m; i++)
		walk_row(w, &d[i]);
	for (size_t i = 0; wd && i < wm; i++)
		walk_wall_row(w, &wd[i]);
	free(d);
	free(wd);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	w->ns = (t1.tv_sec - t0.tv_sec) * 1000000000ULL + t1.tv_nsec - t0.tv_nsec;
	profile_fset_merge(&w->folded);
	profile_fset_merge(&w->self);
	profile_fset_merge(&w->total);
	if (st->folded) {
		for (size_t i = 0; i < w->folded.n; i++)
			printf("%s %llu\n", w->folded.e[i].stack,
			       (unsigned long long)w->folded.e[i].count);
		fflush(stdout);
	} else if (st->wall) {
		emit_wall(ctx, w);
	} else {
		emit_funcs(ctx, w);
	}
	emit_tally(ctx, w, k, wk);
	if (st->svg)
		write_svg(st, &w->folded);
	profile_fset_free(&w->folded);
	profile_fset_free(&w->self);
	profile_fset_free(&w->total);
	free(w->sums);
	free(w);
	/* what the report built and freed goes back to the system, not kept as heap */
	malloc_trim(0);
}
