// SPDX-License-Identifier: GPL-2.0
/*
 * offcpu module: where threads block and who wakes them, summed in the kernel. The maps
 * and the hooks' bodies are in offcpu_sched.bpf.h (profile --wall loads them too); here,
 * the module's programs.
 */
#include "offcpu_sched.bpf.h"

SEC("tp_btf/sched_switch")
int BPF_PROG(offcpu__switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	offcpu_on_switch(ctx, preempt, prev, next);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(offcpu__switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	offcpu_on_switch(ctx, preempt, prev, next);
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(offcpu__waking_btf, struct task_struct *p)
{
	offcpu_on_waking(ctx, p);
	return 0;
}

SEC("raw_tp/sched_waking")
int BPF_PROG(offcpu__waking_raw, struct task_struct *p)
{
	offcpu_on_waking(ctx, p);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
