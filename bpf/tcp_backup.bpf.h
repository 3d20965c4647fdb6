/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcp module: a backup program for each hook whose runs the kernel may skip.
 *
 * For tp_btf and raw_tp programs (and fentry), the kernel's recursion guard is per
 * program and per CPU: __bpf_trace_run() (the trampoline's __bpf_prog_enter_recur() for
 * fentry) increments the program's prog->active on this CPU and, if it was already
 * nonzero, skips the run and counts it only in the program's recursion_misses. A TCP
 * state change in softirq (a veth's receive, run at irq exit) that interrupts the state
 * program running for a state change in process context is such a run: the program is
 * skipped, the state change is in no table.
 *
 * A second program on the same hook, its backup, has its own prog->active, so the kernel
 * runs it there. The main program raises a per-CPU flag as its first instruction and
 * lowers it as its last; the backup does the main program's work only when it finds the
 * flag up, and returns at once otherwise. The flag up means the main program is in the
 * middle of a run on this CPU, interrupted (or, for fentry, preempted: it runs with
 * migration disabled, not preemption): the kernel skipped the main program for this
 * event, so the work is done once, by the backup. Not nested, the backup finds the flag
 * down whatever the order the kernel runs the two in (a tracepoint calls its programs in
 * the order they were attached, a trampoline newest first): the main program has either
 * finished or not started. Each run the backup makes counts in ks_stats.backup_runs.
 *
 * Left: an event nested between the kernel's increment of prog->active and the main
 * program's first instruction, or between its last one and the decrement, finds the main
 * program skipped and the flag down; it is lost as before, and still counted in the
 * main program's recursion_misses. A run of the backup itself the kernel skips is never
 * a loss on its own: the backup was running, so the main program was not skipped unless
 * it was running too (counted in its own misses). So the state changes lost are the main
 * program's misses minus backup_runs.
 *
 * The classic tracepoint and kprobes are guarded for the whole machine's programs at once
 * (bpf_prog_active): a backup would be skipped with the main program. They get none.
 */
#ifndef KSIGHT_TCP_BACKUP_BPF_H
#define KSIGHT_TCP_BACKUP_BPF_H

#define TCP_HOOK_STATE 0	/* sock:inet_sock_set_state */
#define TCP_HOOKS 1

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCP_HOOKS);
	__type(key, __u32);
	__type(value, __u32);	/* 1: the hook's main program is running on this CPU */
} tcp_busy SEC(".maps");

/* The main program's first step; NULL only if the map cannot be read (never). */
static __always_inline __u32 *tcp_main_enter(__u32 hook)
{
	__u32 *busy = bpf_map_lookup_elem(&tcp_busy, &hook);

	if (busy)
		*(volatile __u32 *)busy = 1;
	/* the work below must not be moved before the flag is raised */
	asm volatile("" ::: "memory");
	return busy;
}

/* The main program's last step, @busy from tcp_main_enter(). */
static __always_inline void tcp_main_leave(__u32 *busy)
{
	asm volatile("" ::: "memory");
	if (busy)
		*(volatile __u32 *)busy = 0;
}

/* The backup's test: whether the kernel skipped the main program for this event (the
 * backup then counts its run). */
static __always_inline bool tcp_backup_wanted(__u32 hook)
{
	__u32 *busy = bpf_map_lookup_elem(&tcp_busy, &hook);

	if (!busy || !*(volatile __u32 *)busy)
		return false;
	ks_backup_ran();
	return true;
}

#endif
