/* SPDX-License-Identifier: GPL-2.0 */
/* What the funccount module's files share (funccount.c: options, patterns, hooks;
 * funccount_pat.c: pattern syntax; funccount_tp.c: tracepoint counters; funccount_fentry.c:
 * fentry copies per kernel function; funccount_report.c: the counts as records). */
#ifndef KSIGHT_FUNCCOUNT_INT_H
#define KSIGHT_FUNCCOUNT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "core/symtab.h"
#include "funccount.h"

#define FC_PATS KS_OPTS_MAX_POS
#define FC_TPS 4096		/* tracepoints one run counts at most */

enum fc_kind { FC_TP, FC_USER, FC_KERNEL };

/* How kernel functions are counted (funccount.c: fc_kernel_check chooses). */
enum fc_khook {
	FC_KH_NONE,	/* not at all (no k: pattern, or no hook on this kernel) */
	FC_KH_MULTI,	/* one kprobe.multi link (5.18+ with CONFIG_FPROBE) */
	FC_KH_FENTRY,	/* a copy of the fentry program per function, each its own link */
	FC_KH_KPROBE,	/* a kprobe each */
};

/* One PATTERN as given: t:CATEGORY:NAME (or CATEGORY:NAME), u:BINARY:FUNCTION, k:FUNCTION
 * (or FUNCTION); each part but BINARY a shell glob. */
struct fc_pat {
	enum fc_kind kind;
	const char *text;	/* the argument */
	char *bin;		/* FC_USER: the binary (path or library name) */
	char *glob;		/* FC_TP: "category:name"; else the function glob */
};

/* A tracepoint counted by perf counters: one per CPU, or per thread of -p/-t. */
struct fc_tp {
	char *name;		/* "category:name" */
	uint64_t id;
	int *fds;
	int nfds;
	uint64_t prev;		/* the total at the previous report */
};

/* A user function, counted by the uprobe program; its index is its cookie. */
struct fc_ufn {
	const struct fc_pat *pat;
	char *name;
	uint64_t off;		/* file offset in the resolved binary */
};

/* A row of the kernel's table as user space keeps it. */
struct fc_row {
	struct funccount_key k;
	struct funccount_val v;
};

struct fc_state {
	bool per_proc;		/* -P */
	uint64_t interval;	/* -i */
	uint64_t duration;	/* -d */
	struct fc_pat pat[FC_PATS];
	int npat;
	uint64_t pid, tid;	/* the common -p and -t, for the counters */
	struct fc_tp *tps;
	int ntp;
	struct fc_ufn *ufns;
	int nufn;
	const char *kernel;	/* the first k: pattern */
	char **kfns;		/* the kernel functions the k: patterns match, each once */
	int nkfn;
	int hooks;		/* --hooks (enum ks_hooks_choice): fentry or kprobe forced */
	enum fc_khook khook;	/* how they are counted */
	int krefused;		/* FC_KH_FENTRY: functions whose copy the kernel refused ... */
	char krefused_why[160];	/* ... the first one's name and reason */
	struct ks_symtab ksyms;	/* /proc/kallsyms, to name the addresses counted */
	const char *weighted;	/* the first tracepoint left out (funccount.c: fc_weighted) */
	int nweighted;
	unsigned int weighted_seen;	/* bit k: fc_weighted[k] met */
	/* the kernel's rows at the previous report, sorted by key */
	struct fc_row *prev;
	size_t nprev;
};

/* Parse @s into @p (allocating its strings; fc_pat_free frees them). Returns 0, or -1 with
 * one line in @err naming the problem. */
int fc_pat_parse(const char *s, struct fc_pat *p, char *err, size_t len);
void fc_pat_free(struct fc_pat *p);

/* Open @st's tracepoint counters: per online CPU, or per thread of @st->pid or @st->tid.
 * Returns 0, or -errno with one line in @err. */
int fc_tp_open(struct fc_state *st, char *err, size_t len);
/* @tp's count so far (every counter summed). */
uint64_t fc_tp_read(const struct fc_tp *tp);
void fc_tp_close(struct fc_state *st);

/* Count @st->kfns by copies of fentry program @prog (loaded by libbpf, its target the
 * first function), one per function, each kept as a link of the module (ks_attach_keep_fd).
 * Functions the kernel refuses are counted in @st->krefused. Returns 0, or -errno with
 * the reason printed when none could be attached. @st->ksyms must be read. */
struct bpf_program;
int fc_fentry_attach(struct ks_ctx *ctx, struct fc_state *st, struct bpf_program *prog);

/* Tools: what was counted since the previous report, busiest first; @calls is the
 * module's funccount_calls map, NULL when no user or kernel function is counted. */
struct bpf_map;
void fc_report(struct ks_ctx *ctx, struct fc_state *st, struct bpf_map *calls);

#endif
