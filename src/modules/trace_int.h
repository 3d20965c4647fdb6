/* SPDX-License-Identifier: GPL-2.0 */
/* What the trace module's files share (trace.c: options, probe, hooks; trace_hooks.c: the
 * program and family a probe runs on, --metrics' too; trace_probe.c: the
 * PROBE syntax and its fields; trace_filter.c: --filter compiled to the kernel's postfix
 * program; trace_report.c: counts, histogram and events as records). The parsers are
 * pure, tested with cmocka (tests/unit/test_trace.c). */
#ifndef KSIGHT_TRACE_INT_H
#define KSIGHT_TRACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/module.h"
#include "trace.h"

enum trace_pkind {
	TRACE_P_TP, TRACE_P_UPROBE, TRACE_P_URETPROBE, TRACE_P_USDT, TRACE_P_KFUNC,
	TRACE_P_RAW,	/* raw:CATEGORY:NAME, a tracepoint's raw arguments */
};

/* A field the probe offers, by name. */
struct trace_fdef {
	char name[64];
	struct trace_field f;
	struct trace_path path;	/* TRACE_F_KPATH, TRACE_F_KSTR */
};

#define TRACE_RAW_ARGS 6	/* a raw tracepoint's arguments offered (as kfunc:'s) */

#define TRACE_FDEFS 128

struct trace_probe {
	enum trace_pkind kind;
	char cat[128], name[128];	/* tracepoint: category and name */
	char bin[4096];			/* uprobe: the binary as given */
	char func[256];			/* uprobe: the function; USDT: the probe's name */
	char provider[128];		/* USDT: the provider */
	char path[4096];		/* uprobe, USDT: the binary found (trace_probe_load) */
	bool kprobe_only;		/* kernel function: "kprobe:" (else "kfunc:": fentry
					 * first) */
	bool fentry;			/* kernel function: fentry chosen (kernel_check); raw
					 * tracepoint: tp_btf chosen (else raw_tp) */
	int hooks;			/* raw tracepoint: --hooks (enum ks_hooks_choice) */
	int argtype[TRACE_RAW_ARGS];	/* raw tracepoint: the arguments' BTF type ids */
	int nargs;			/* raw tracepoint: arguments offered */
	const struct btf *btf;		/* raw tracepoint: the kernel's, for member paths */
	uint64_t off;			/* uprobe: the function's file offset */
	struct trace_fdef defs[TRACE_FDEFS];
	int ndefs;
};

struct trace_state {
	const char *filter;	/* --filter */
	const char *count_by;	/* --count-by */
	const char *hist;	/* --hist */
	uint64_t linear;	/* --linear STEP */
	const char *fields;	/* -f */
	uint64_t interval;	/* -i */
	uint64_t count;		/* -c */
	const char *text;	/* PROBE as given */
	struct trace_probe *p;
	struct trace_conf conf;
	/* what was reported last, for the next interval's changes */
	uint64_t prev_hits, prev_match;
	uint64_t prev_hist[TRACE_HSLOTS];
	void *prev_rows;
	size_t nprev;
	size_t keylen;		/* bytes of a --count-by key */
	int outf[TRACE_FIELDS];	/* -f: conf.f indexes, in order */
	int noutf;
	char kname[TRACE_KEYS][64];	/* --count-by names as given */
	char oname[TRACE_FIELDS][64];	/* -f names as given */
};

/*
 * Parse PROBE @s into @p: "cat:name" or "t:cat:name" (tracepoint), "u:PATH:func" (uprobe),
 * "r:PATH:func" (uretprobe), "usdt:PATH:provider:name" (USDT), "kfunc:func" or
 * "kprobe:func" (a kernel function: fentry or kprobe, kprobe only), "raw:cat:name" (a
 * tracepoint's raw arguments); only the syntax (the names are checked by
 * trace_probe_load).
 * Returns 0, or -1 with one line in @err.
 */
int trace_probe_parse(const char *s, struct trace_probe *p, char *err, size_t len);

/* trace.c: check @p's names against the system (the tracepoint's format file, the
 * binary's function or USDT probe) and fill its fields. @text: PROBE as given, for
 * messages. Returns 0, or -1 with one line in @err. */
int trace_probe_load(struct trace_probe *p, const char *text, char *err, size_t len);

/* trace_hooks.c: a kernel function's family: fentry where the kernel allows it (unless
 * kprobe:), else a kprobe (@p->fentry says). Returns 0, or -1 with both missing features
 * named in @err. */
int trace_kfunc_choose(struct trace_probe *p, const char *text, char *err, size_t len);

/* trace_hooks.c: a raw tracepoint's family: tp_btf where the kernel allows it, else raw_tp
 * (@p->fentry says tp_btf), within what @p->hooks allows. Returns 0, or -1 with both
 * missing features named in @err. */
int trace_raw_choose(struct trace_probe *p, const char *text, char *err, size_t len);

/* The fields of tracepoint format file text @fmt into @p (with comm, pid, tid). Returns 0,
 * or -1 with one line in @err. */
int trace_probe_tp_fields(struct trace_probe *p, const char *fmt, char *err, size_t len);
/* The fields of a uprobe (arg0..arg5) or uretprobe (retval), with comm, pid, tid. */
void trace_probe_u_fields(struct trace_probe *p);
/* The fields of a kernel function of @nargs arguments (0-6), named @names (NULL, or
 * entries NULL or "": only argN): argN, their names, comm, pid, tid. */
void trace_probe_k_fields(struct trace_probe *p, int nargs, const char *const *names);
/* The fields of a USDT probe whose note's argument specs are @args ("-4@%esi 8@%rax"):
 * arg0..argN-1 (signed as the spec says) and arg0_str..., with comm, pid, tid. */
void trace_probe_usdt_fields(struct trace_probe *p, const char *args);

/*
 * The index in @c->f of @p's field named by the @n bytes at @name, added if new.
 * Returns it, -1 if @p has no such field, -2 if @c holds TRACE_FIELDS already.
 */
int trace_conf_field(struct trace_conf *c, const struct trace_probe *p, const char *name,
		     size_t n);
/* The same, and -3 for a member path of a raw tracepoint that does not resolve: the
 * reason in @why, the byte of @name it is about in @col (from 0). */
int trace_conf_field_why(struct trace_conf *c, const struct trace_probe *p, const char *name,
			 size_t n, size_t *col, char *why, size_t len);

/* Whether byte @s starts a member path's separator ("->" or "."), and its length. */
static inline size_t trace_path_sep(const char *s)
{
	return s[0] == '.' ? 1 : s[0] == '-' && s[1] == '>' ? 2 : 0;
}

struct btf;
/* trace_btf.c: a raw tracepoint's arguments from the kernel's BTF typedef
 * btf_trace_@name (its first parameter, the context, skipped): argument types into @p,
 * fields arg0..argN-1, their names, comm, pid, tid. Returns 0, or -1 with one line in
 * @err. */
int trace_raw_args(struct trace_probe *p, const struct btf *btf, char *err, size_t len);
/* trace_btf.c: member path @name (@n bytes: ARG then ->MEMBER or .MEMBER, up to
 * TRACE_STEPS reads) of @p into @f and @path. Returns 0, or -1 with the reason in @why
 * and the byte of @name it is about in @col. */
int trace_raw_path(const struct trace_probe *p, const char *name, size_t n,
		   struct trace_field *f, struct trace_path *path, size_t *col, char *why,
		   size_t len);
/* trace_btf.c: "bool preempt, struct task_struct *prev, ..." for tracepoint @name, or
 * -1 when the kernel's BTF has no btf_trace_@name. */
int trace_raw_proto(const struct btf *btf, const char *name, char *buf, size_t len);

/* Whether field @f holds a string. */
static inline bool trace_field_str(const struct trace_field *f)
{
	return !trace_num(f->kind);
}

/*
 * Compile --filter @expr into @c's ops and string constants, adding the fields it names.
 * Returns 0, or -1 with one line in @err naming the column ("column 9: ...").
 */
int trace_filter_compile(const char *expr, struct trace_conf *c, const struct trace_probe *p,
			 char *err, size_t len);

struct trace_bpf;
struct bpf_program;
/* trace_hooks.c: the program of @s that runs probe @p (its kind and the family chosen: fentry
 * or kprobe, tp_btf or raw_tp); never NULL. Shared by ksight trace and --metrics' own
 * instances (metrics_run.c). */
struct bpf_program *trace_prog(struct trace_bpf *s, const struct trace_probe *p);
/* trace_hooks.c: before load, that program's target (fentry's function, tp_btf's tracepoint)
 * set and the program marked for loading. Returns 0 or a negative errno. */
int trace_prog_ready(struct trace_bpf *s, const struct trace_probe *p);

/* Tools: the counts, the histogram and the --count-by rows of the last interval. */
void trace_report(struct ks_ctx *ctx, struct trace_state *st, struct trace_bpf *skel);
/* One -f record. */
void trace_event(struct ks_ctx *ctx, struct trace_state *st, const struct ks_hdr *h,
		 size_t size);

#endif
