/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The task filters (ks_want) for a task that is not the current one: the woken, the
 * migrated, the task switched in. Scheduler hooks see them by pointer, so each filter is
 * read from the task itself, and --cgroup by walking its cgroup v2 directory up to
 * @cgroup_id (the module sets it from --cgroup's inode number: kernfs ids are inodes).
 */
#ifndef KSIGHT_TASK_WANT_BPF_H
#define KSIGHT_TASK_WANT_BPF_H

#include "common.bpf.h"

/* Kernels before 5.14 name the task's state `state`; before 6.15 kernfs's parent is
 * `parent`. */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline long ks_task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___old *)t, state);
}

/* ks_task_state() by direct loads, for tp_btf programs (whose task pointers the verifier
 * lets them read: a load, where a probe read is a helper call). */
static __always_inline long ks_task_state_btf(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return ((struct task_struct___old *)t)->state;
}

static __always_inline struct kernfs_node *ks_kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* Whether task @t's cgroup v2 is @cgroup_id or below it (16 levels looked at). */
static __always_inline bool ks_task_in_cgroup(struct task_struct *t, __u64 cgroup_id)
{
	struct kernfs_node *kn = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn);

	for (int i = 0; i < 16 && kn; i++) {
		if (BPF_CORE_READ(kn, id) == cgroup_id)
			return true;
		kn = ks_kn_parent(kn);
	}
	return false;
}

/* ks_want for task @t (thread group @tgid, thread @tid), current or not. */
static __always_inline bool ks_want_task(struct task_struct *t, __u32 tgid, __u32 tid,
					 __u64 cgroup_id)
{
	if (tgid == ks_cfg.self_tgid)
		return false;
	if (ks_cfg.targ_tgid && tgid != ks_cfg.targ_tgid)
		return false;
	if (ks_cfg.targ_tid && tid != ks_cfg.targ_tid)
		return false;
	if (ks_cfg.filter_uid && BPF_CORE_READ(t, cred, uid.val) != ks_cfg.targ_uid)
		return false;
	if (ks_cfg.filter_comm) {
		__u64 comm[2] = {};

		bpf_probe_read_kernel(comm, sizeof(comm), &t->comm);
		if (comm[0] != ks_cfg.targ_comm[0] || comm[1] != ks_cfg.targ_comm[1])
			return false;
	}
	if (ks_cfg.filter_cgroup && !ks_task_in_cgroup(t, cgroup_id))
		return false;
	return true;
}

#endif
