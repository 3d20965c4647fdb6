/* SPDX-License-Identifier: GPL-2.0 */
/* What the offcpu module's files share. */
#ifndef KSIGHT_OFFCPU_INT_H
#define KSIGHT_OFFCPU_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/module.h"
#include "core/rows.h"
#include "core/symmaps.h"
#include "core/task_counts.h"
#include "offcpu.h"


struct offcpu_row {
	struct offcpu_key k;
	struct offcpu_val v;
};

struct offcpu_state {
	bool user_only;		/* -U */
	bool kernel_only;	/* -K */
	bool no_waker;		/* --no-waker */
	bool all;		/* --all: preempted switch-outs too */
	bool per_process;	/* -P (the default) */
	bool per_thread;	/* -L */
	bool per_cgroup;	/* --per-cgroup */
	bool folded;		/* --folded */
	uint64_t min_us, max_us;	/* --min-us, --max-us (0: no bound) */
	uint64_t top;		/* --top */
	uint64_t stack_storage;	/* --stack-storage */
	struct ks_task_rows rows;
	struct ks_symmaps maps;	/* the symbolizer and its maps reader (core/symmaps.h) */
	unsigned int round;
	uint64_t stats[OFFCPU_ST_N];	/* the kernel's counters at the last report */
	bool no_stacks;		/* the agent's and --read tasks': time per process only, no
				 * stack taken */
	const char *read;	/* --read: tasks or switches (NULL: not given) */
	bool tasks;		/* read from the tasks (bpf/offcpu.bpf.c), not at switches */
	struct ks_tc_reader reader;	/* its iterator (core/task_counts.h) */
	struct ks_metric *m_blocked, *m_intervals;	/* the agent's, per service */
};

void offcpu_report(struct ks_ctx *ctx, void *state, void *vskel);

/* offcpu_stacks.c: what profile --wall shares. The rows' order, count and difference
 * (core/rows.h), and the table of them: */
int offcpu_row_cmp(const void *a, const void *b);
uint64_t offcpu_row_count(const void *row);
bool offcpu_row_sub(void *r, const void *p);
#define OFFCPU_TASK_ROWS \
	KS_TASK_ROWS(struct offcpu_row, offcpu_row_cmp, offcpu_row_sub, offcpu_row_count)
/*
 * Stack @id of stack map @fd symbolized by @sym into @f (leaf first), a user stack of
 * @pid's image @exec_id (maps as of report @round) or a kernel one, without the tracer's
 * own frames (offcpu_frames_keep, @irq as there). Returns how many frames to show from *@first on; 0 for no stack, -1 when it was
 * lost (in the kernel, or gone from the map since).
 */
int offcpu_stack_frames(struct ks_symbolizer *sym, unsigned int round, int fd, uint32_t pid,
			uint32_t exec_id, int32_t id, bool kernel, bool *irq,
			struct ks_frame f[OFFCPU_DEPTH], int *first);
/* Cgroup @id's path below the cgroup2 mount, "cgroup:ID" while unknown (its resolution is
 * then queued); for folded text (@folded) with ';', ' ' and newlines as '_'. Into @buf. */
const char *offcpu_cgroup_text(struct ks_ctx *ctx, uint64_t id, bool folded, char *buf,
			       size_t len);

/* offcpu_text.c: stacks as text, frames separated by ';' (nothing here reads a map). */
#define OFFCPU_FRAME_LEN 256
#define OFFCPU_STACK_LEN (2 * OFFCPU_DEPTH * 80)

struct offcpu_text {
	char s[OFFCPU_STACK_LEN];
	size_t len;
};

/* Append @frame to @t (after a ';' unless @t is empty); truncated when full. */
void offcpu_text_add(struct offcpu_text *t, const char *frame);
/* The frame's name, else "[module]", else "[unknown]", "_[k]" added with @mark_kernel;
 * ';', ' ' and newlines become ':' (they separate frames and stacks in folded text). */
void offcpu_frame_text(const struct ks_frame *f, bool mark_kernel, char *buf, size_t len);
/* A thread name for folded text: ';', ' ' and newlines as '_'; "?" when empty. */
void offcpu_comm_text(const char *comm, char *buf, size_t len);
/*
 * Of the @n symbolized frames @f (leaf first), the ones to show: returns their count and
 * sets *@first. A @kernel stack loses the tracer's own frames at its leaf (bpf_prog_*,
 * bpf_trace_run*, __traceiter_*, __bpf_trace_*, bpf_trampoline*); with @irq (a waker's
 * kernel stack) it ends at a hardware interrupt's entry (asm_sysvec_*,
 * asm_common_interrupt), included, and *@irq is set: rootward of it is the interrupted
 * task's stack, not the waker's.
 */
int offcpu_frames_keep(const struct ks_frame *f, int n, bool kernel, bool *irq, int *first);
/* @n frames @f (leaf first) into @out, root first unless @leaf_first. */
void offcpu_frames_text(const struct ks_frame *f, int n, bool leaf_first, bool mark_kernel,
			struct offcpu_text *out);

#endif
