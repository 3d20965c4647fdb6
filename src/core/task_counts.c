// SPDX-License-Identifier: GPL-2.0
/* Counts read from the tasks (core/task_counts.h). */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/iter.h"
#include "core/task_counts.h"

int ks_tc_check(const char *read, char *err, size_t len)
{
	if (!read || !strcmp(read, "tasks") || !strcmp(read, "switches"))
		return 0;
	snprintf(err, len, "--read: '%.16s' is neither tasks nor switches", read);
	return -1;
}

bool ks_tc_possible(void)
{
	/* task storage comes with 5.11, the task iterator (5.8) and the current task's BTF
	 * pointer (5.11) with it */
	return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
}

int ks_tc_choose(const char *cmd, const char *read, bool fits, bool *tasks, char *err,
		 size_t len)
{
	bool asked = read && !strcmp(read, "tasks");

	*tasks = fits && (!read || asked) && ks_tc_possible();
	if (asked && !*tasks) {
		snprintf(err, len, "%s --read tasks needs BPF task storage "
			 "(BPF_MAP_TYPE_TASK_STORAGE, Linux 5.11), which this kernel lacks", cmd);
		return -1;
	}
	return 0;
}

void ks_tc_setup(bool tasks, struct bpf_program *iter, struct bpf_map *seen,
		 __u64 *t0)
{
	*t0 = ks_clock_mono_now();
	bpf_program__set_autoload(iter, tasks);
	bpf_map__set_autocreate(seen, tasks);
}

int ks_tc_attach(struct ks_tc_reader *r, struct bpf_program *prog)
{
	r->iter = bpf_program__attach_iter(prog, NULL);
	return r->iter ? 0 : -errno;
}

void ks_tc_read(struct ks_tc_reader *r)
{
	int err;

	if (!r->iter || !(err = ks_iter_read(r->iter)) || r->said)
		return;
	r->said = true;
	fprintf(stderr, "ksight %s: reading the tasks' counts failed (%s): they stop where "
		"they are\n", r->cmd, strerror(-err));
}

void ks_tc_free(struct ks_tc_reader *r)
{
	bpf_link__destroy(r->iter);
	r->iter = NULL;
}
