/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A module's counts read from the tasks (bpf/task_counts.bpf.h): the choice between that
 * and counting every event (--read tasks|switches), and the iterator run each interval.
 */
#ifndef KSIGHT_CORE_TASK_COUNTS_H
#define KSIGHT_CORE_TASK_COUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct bpf_link;
struct bpf_map;
struct bpf_program;

struct ks_tc_reader {
	const char *cmd;	/* the command, for the one line a failure says */
	struct bpf_link *iter;	/* the iterator over the tasks, once attached */
	bool said;		/* a failed reading was said */
};

/* --read @read (NULL: not given): 0, or -1 with one line in @err when it is neither
 * "tasks" nor "switches". */
int ks_tc_check(const char *read, char *err, size_t len);

/*
 * Whether to read from the tasks: where @fits (every count asked for is one the kernel
 * keeps per task), --read @read allows it and the kernel has task storage (5.11). Returns
 * 0 with the choice in @tasks, or -1 with the missing feature in @err (--read tasks on an
 * older kernel).
 */
int ks_tc_choose(const char *cmd, const char *read, bool fits, bool *tasks, char *err,
		 size_t len);

/* Before load: the module's iterator @iter and its tasks' slots @seen (tc_seen) only when
 * reading from the tasks (5.10 has no task storage); the session's start into @t0 (the
 * object's ks_tc_t0). */
void ks_tc_setup(bool tasks, struct bpf_program *iter, struct bpf_map *seen,
		 __u64 *t0);

/* Whether this kernel has what reading from the tasks needs: task storage (5.11). */
bool ks_tc_possible(void);

/* Attach @prog (the module's iter/task program, loaded). Returns 0 or -errno. */
int ks_tc_attach(struct ks_tc_reader *r, struct bpf_program *prog);

/* Take every task's change into the module's rows (nothing when not attached); a failure
 * is said once. */
void ks_tc_read(struct ks_tc_reader *r);

void ks_tc_free(struct ks_tc_reader *r);

#endif
