// SPDX-License-Identifier: GPL-2.0
/*
 * offcpu module: where threads block and who wakes them, summed in the kernel. The maps
 * and the hooks' bodies are in offcpu_sched.bpf.h (profile --wall loads them too); here,
 * the module's programs.
 *
 * Without stacks (the agent, --read tasks) the time blocked and the blocks are read from
 * the tasks instead where the kernel has task storage (5.11+; user space chooses): each
 * task's wall time less its run time and its waits for a CPU, and its voluntary switches
 * (bpf/task_counts.bpf.h), taken by an iterator each interval (offcpu__tasks) and by the
 * thread's exit hook, into the same rows; nothing runs at sched_switch.
 */
#include "offcpu_sched.bpf.h"
#include "task_counts.bpf.h"

OFFCPU_SCHED_PROGS(offcpu)

const volatile __u64 offcpu_cgroup_id = 0;	/* --cgroup's id, for tasks not current */

/* Task @t's time off the CPU and blocks since it was last read, into its row. */
static __always_inline void offcpu_take_task(struct task_struct *t, bool exiting)
{
	__u32 tgid = t->tgid, tid = t->pid;
	__u64 d[KS_TC_N], ns, n, cgroup;
	/* on the stack, not the per-CPU scratch of the switch hooks: an iterator can be
	 * preempted by a thread whose exit hook runs on the same CPU */
	struct offcpu_key key = {}, *k = &key;
	struct offcpu_val *v;

	if (!ks_want_task(t, tgid, tid, offcpu_cgroup_id) ||
	    !ks_tc_take_off(t, d, OFFCPU_T_BLOCK, exiting, offcpu_all, &ns))
		return;
	n = d[KS_TC_NVCSW] + (offcpu_all ? d[KS_TC_NIVCSW] : 0);
	if (!ns && !n)
		return;
	k->pid = tgid;
	k->tid = offcpu_per_thread ? tid : 0;
	k->exec_id = (__u32)t->self_exec_id;
	k->ustack = k->kstack = k->waker_ustack = k->waker_kstack = OFFCPU_NO_STACK;
	bpf_probe_read_kernel(k->comm, sizeof(k->comm), &t->comm);
	cgroup = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	k->cgroup = offcpu_per_cgroup ? cgroup : 0;
	v = bpf_map_lookup_elem(&offcpu_rows, k);
	if (!v) {
		struct offcpu_val nv = { .cgroup = cgroup };

		bpf_map_update_elem(&offcpu_rows, k, &nv, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&offcpu_rows, k);
		if (!v) {
			ks_lost(OFFCPU_T_BLOCK);
			return;
		}
	}
	__sync_fetch_and_add(&v->total_ns, ns);
	__sync_fetch_and_add(&v->count, n);
}

KS_TC_ITER(offcpu, offcpu_take_task)
KS_TC_EXIT_PROGS(offcpu, offcpu_take_task)

char LICENSE[] SEC("license") = "GPL";
