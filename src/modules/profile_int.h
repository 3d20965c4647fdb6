/* SPDX-License-Identifier: GPL-2.0 */
/* What the profile module's files share. */
#ifndef KSIGHT_PROFILE_INT_H
#define KSIGHT_PROFILE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/module.h"
#include "core/rows.h"
#include "core/symmaps.h"
#include "modules/offcpu_int.h"
#include "profile.h"


struct profile_row {
	struct profile_key k;
	struct profile_val v;
};

/* A stack as text (folded: "comm;root;...;leaf") and its samples. */
struct profile_folded {
	char *stack;
	uint64_t count;
};

/* A sorted, merged set of folded stacks. */
struct profile_fset {
	struct profile_folded *e;
	size_t n, cap;
};

/* A function of the top table. */
struct profile_func {
	char *name;		/* "func", or "[module]" / "[unknown]" */
	char *module;		/* file base name, "[kernel]" */
	uint64_t self;		/* samples whose leaf it is */
	uint64_t total;		/* samples with it anywhere on the stack */
};

/* Why samples were not symbolized: each sample by its leaf frame. */
struct profile_tally {
	uint64_t samples;
	uint64_t by[KS_SYM_N];	/* KS_SYM_OK: the leaf got a name */
	uint64_t lost;		/* no frame: a stack lost to a collision or an error */
	uint64_t nostack;	/* no frame, none lost: no stack asked for (-K in user
				 * mode, -U in a kernel thread) */
	uint64_t frames, frames_named;
	uint64_t frame_by[KS_SYM_N];
};

struct profile_state {
	uint64_t freq;		/* -F */
	bool user_only;		/* -U */
	bool kernel_only;	/* -K */
	bool folded;		/* --folded */
	bool src;		/* --src: DWARF's inlined frames and definitions */
	const char *svg;	/* --svg FILE */
	uint64_t top;		/* --top */
	uint64_t stack_storage;	/* --stack-storage: entries of the stack map */
	struct ks_task_rows rows;
	struct ks_symmaps maps;	/* the symbolizer and its maps reader (core/symmaps.h) */
	bool wall;		/* --wall: on-CPU, run queue and off-CPU time */
	bool per_cgroup;	/* --per-cgroup: stacks and rows under the cgroup */
	uint64_t period_ns;	/* a sample's weight in --wall: 1e9 / -F (cpu-clock's
				 * period, as the kernel turns the frequency into one) */
	struct ks_task_rows wrows;	/* --wall: offcpu's rows (struct offcpu_row) */
	uint64_t wstats[OFFCPU_ST_N];	/* --wall: offcpu's counters at the last report */
	struct profile_fset all;	/* every report's stacks so far (for the SVG) */
	unsigned int round;
	uint64_t stats[PROFILE_ST_N];	/* the kernel's counters at the last report */
};

/* Add @count samples of folded stack @stack (copied) to @s. Returns 0 or -ENOMEM. */
int profile_fset_add(struct profile_fset *s, const char *stack, uint64_t count);
/* Sort @s by stack and merge equal stacks. */
void profile_fset_merge(struct profile_fset *s);
void profile_fset_free(struct profile_fset *s);

/*
 * Write an interactive flame graph of the merged stacks @s (folded: frames separated by
 * ';', root first) to @f as SVG: one rectangle per frame, width by samples, a <title>
 * (name, samples, share) on each, click to zoom. @title heads it. A stack whose second
 * frame is a --wall kind (PROFILE_KIND_*) is coloured by that kind, and its weights are
 * then taken as nanoseconds (shown in ms). Returns 0 or -EIO.
 */
int profile_svg_write(FILE *f, const struct profile_fset *s, const char *title);

/* The --wall kinds: the frame under the process (or cgroup) that says where the time
 * went, and the unit of a --wall graph's weights. */
#define PROFILE_KIND_ON "[on-cpu]"
#define PROFILE_KIND_RQ "[runqueue]"
#define PROFILE_KIND_OFF "[off-cpu]"

/* The frame name as text: @f's name, else "[module]", else "[unknown]"; kernel frames
 * get "_[k]" when @mark_kernel. Writes into @buf (truncated to @len). */
void profile_frame_text(const struct ks_frame *f, bool kernel, bool mark_kernel, char *buf,
			size_t len);

#endif
