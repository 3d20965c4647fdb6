// SPDX-License-Identifier: GPL-2.0
/*
 * proc module: every new process and thread, with the clone flags read back from what the
 * child shares with its parent (the fork hooks do not see the clone arguments, and the
 * syscall tracepoints that do would put every thread on the slow syscall path).
 *
 * Five alternatives: fentry on wake_up_new_task (it sees CLONE_VFORK, set after the
 * tracepoint fires), a kprobe on the same function for kernels with kprobes but no BPF
 * trampolines (it sees CLONE_VFORK too: worth its cost on a path as rare as fork), tp_btf and raw_tp on sched_process_fork (parent and child
 * task), and the classic tracepoint, which names only the child's tid: the child is then
 * found at the tail of the list copy_process() just added it to.
 * Every hook runs in the parent, so the -p filter (on the current task) keeps the forks and
 * thread creations the traced process makes.
 */
#include "common.bpf.h"
#include "proc.h"

#define PF_IO_WORKER 0x00000010
#define PF_KTHREAD 0x00200000

/* Tasks examined from a list's tail to find the child (tp family); copy_process() adds it
 * last, so only a concurrent clone by the same parent or thread group pushes it back. */
#define PROC_LOOKBACK 4

/*
 * Read field @f of task (or other kernel object) @p: a plain load where the verifier knows
 * the pointer's BTF type (tp_btf, fentry: it turns the load into a fault-safe one), a probe
 * read elsewhere (raw_tp, tp). @direct is a constant in every caller, so each program keeps
 * one kind; the plain loads make the fork hook about twice as cheap.
 */
#define PROC_RD(direct, p, f) ((direct) ? (p)->f : BPF_CORE_READ(p, f))
#define PROC_RD2(direct, p, f, g) ((direct) ? (p)->f->g : BPF_CORE_READ(p, f, g))

/* The namespaces the child does not share with its parent. */
static __always_inline __u64 proc_ns_flags(struct task_struct *parent, struct task_struct *child,
					   bool direct)
{
	struct nsproxy *pn = PROC_RD(direct, parent, nsproxy);
	struct nsproxy *cn = PROC_RD(direct, child, nsproxy);
	__u64 f = 0;

	if (!pn || !cn || pn == cn)
		return 0;
	if (PROC_RD(direct, pn, mnt_ns) != PROC_RD(direct, cn, mnt_ns))
		f |= PROC_CLONE_NEWNS;
	if (PROC_RD(direct, pn, uts_ns) != PROC_RD(direct, cn, uts_ns))
		f |= PROC_CLONE_NEWUTS;
	if (PROC_RD(direct, pn, ipc_ns) != PROC_RD(direct, cn, ipc_ns))
		f |= PROC_CLONE_NEWIPC;
	if (PROC_RD(direct, pn, net_ns) != PROC_RD(direct, cn, net_ns))
		f |= PROC_CLONE_NEWNET;
	if (PROC_RD(direct, pn, pid_ns_for_children) != PROC_RD(direct, cn, pid_ns_for_children))
		f |= PROC_CLONE_NEWPID;
	if (bpf_core_field_exists(pn->cgroup_ns) &&
	    PROC_RD(direct, pn, cgroup_ns) != PROC_RD(direct, cn, cgroup_ns))
		f |= PROC_CLONE_NEWCGROUP;
	if (bpf_core_field_exists(pn->time_ns_for_children) &&
	    PROC_RD(direct, pn, time_ns_for_children) != PROC_RD(direct, cn, time_ns_for_children))
		f |= PROC_CLONE_NEWTIME;
	return f;
}

static __always_inline __u64 proc_clone_flags(struct task_struct *parent,
					      struct task_struct *child, bool thread,
					      bool direct, bool vfork_seen)
{
	struct mm_struct *mm = PROC_RD(direct, child, mm);
	__u64 f = 0;

	if (thread)
		f |= PROC_CLONE_THREAD;
	if (mm && mm == PROC_RD(direct, parent, mm))
		f |= PROC_CLONE_VM;
	if (PROC_RD(direct, child, fs) == PROC_RD(direct, parent, fs))
		f |= PROC_CLONE_FS;
	if (PROC_RD(direct, child, files) == PROC_RD(direct, parent, files))
		f |= PROC_CLONE_FILES;
	if (PROC_RD(direct, child, sighand) == PROC_RD(direct, parent, sighand))
		f |= PROC_CLONE_SIGHAND;
	if (vfork_seen && PROC_RD(direct, child, vfork_done))
		f |= PROC_CLONE_VFORK;
	if (thread)
		return f;
	/* a thread's parent is always its creator's parent; a process's only with CLONE_PARENT */
	if (PROC_RD(direct, child, real_parent) != parent)
		f |= PROC_CLONE_PARENT;
	if (PROC_RD2(direct, child, real_cred, user_ns) !=
	    PROC_RD2(direct, parent, real_cred, user_ns))
		f |= PROC_CLONE_NEWUSER;
	return f | proc_ns_flags(parent, child, direct);
}

/*
 * A clone by the current task @parent. @child is NULL when the tp family could not find it
 * (@child_tid is then the tracepoint's). @direct: plain loads (see PROC_RD).
 */
static __always_inline int proc_fork(struct task_struct *parent, struct task_struct *child,
				     __u32 child_tid, bool direct, bool vfork_seen)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct proc_fork *e;
	__u32 tgid = 0, type = PROC_EV_CLONE, pf;

	if (!ks_want(pid_tgid))
		return 0;
	if (child) {
		tgid = PROC_RD(direct, child, tgid);
		type = tgid == pid_tgid >> 32 ? PROC_EV_THREAD : PROC_EV_FORK;
	}
	e = ks_reserve(type, sizeof(*e), pid_tgid);
	if (!e)
		return 0;
	e->ppid = PROC_RD2(direct, parent, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->child_pid = tgid;
	e->child_tid = child_tid;
	e->kind = vfork_seen ? PROC_K_VFORK_SEEN : 0;
	e->start_ns = 0;
	e->flags = 0;
	e->child_ppid = 0;
	if (child) {
		e->child_tid = PROC_RD(direct, child, pid);
		e->start_ns = PROC_RD(direct, child, start_time);
		e->child_ppid = PROC_RD2(direct, child, real_parent, tgid);
		/* probe reads even where plain loads would do: the verifier takes ~35 ms
		 * (bench/verify_cost.sh) to check these dozen loads through the task's
		 * other structures, 3 ms as probe reads, for ~0.3 us more per fork */
		e->flags = proc_clone_flags(parent, child, type == PROC_EV_THREAD, false,
					    vfork_seen);
		pf = PROC_RD(direct, child, flags);
		if (pf & PF_KTHREAD)
			e->kind |= PROC_K_KTHREAD;
		if (pf & PF_IO_WORKER)
			e->kind |= PROC_K_IO_WORKER;
	}
	ks_submit(e);
	return 0;
}

SEC("fentry/wake_up_new_task")
int BPF_PROG(proc__fork_fentry, struct task_struct *child)
{
	/* the current task as a BTF pointer needs 5.11; 5.5-5.10 allow fentry without it */
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
		return proc_fork(bpf_get_current_task_btf(), child, 0, true, true);
	return proc_fork((struct task_struct *)bpf_get_current_task(), child, 0, false, true);
}

SEC("kprobe/wake_up_new_task")
int BPF_KPROBE(proc__fork_kprobe, struct task_struct *child)
{
	return proc_fork((struct task_struct *)bpf_get_current_task(), child, 0, false, true);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(proc__fork_btf, struct task_struct *parent, struct task_struct *child)
{
	return proc_fork(parent, child, 0, true, false);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(proc__fork_raw, struct task_struct *parent, struct task_struct *child)
{
	return proc_fork(parent, child, 0, false, false);
}

/* The task with tid @tid among the last PROC_LOOKBACK of list @head (linked at @off). */
static __always_inline struct task_struct *proc_list_find(struct list_head *head, __u64 off,
							   __u32 tid)
{
	struct list_head *pos = BPF_CORE_READ(head, prev);

	for (int i = 0; i < PROC_LOOKBACK; i++) {
		struct task_struct *t = (void *)pos - off;

		if (!pos || pos == head)
			return NULL;
		if (BPF_CORE_READ(t, pid) == tid)
			return t;
		pos = BPF_CORE_READ(pos, prev);
	}
	return NULL;
}

SEC("tp/sched/sched_process_fork")
int proc__fork_tp(struct trace_event_raw_sched_process_fork *ctx)
{
	struct task_struct *parent = (struct task_struct *)bpf_get_current_task(), *child;
	struct signal_struct *sig = BPF_CORE_READ(parent, signal);
	struct task_struct *grand = BPF_CORE_READ(parent, real_parent);
	__u32 tid = ctx->child_pid;

	if (!ks_want(bpf_get_current_pid_tgid()))
		return 0;
	/* a thread joins its group's list, a process its parent's children (CLONE_PARENT: the
	 * grandparent's) */
	child = proc_list_find(&sig->thread_head, bpf_core_field_offset(struct task_struct,
									 thread_node), tid);
	if (!child)
		child = proc_list_find(&parent->children,
				       bpf_core_field_offset(struct task_struct, sibling), tid);
	if (!child)
		child = proc_list_find(&grand->children,
				       bpf_core_field_offset(struct task_struct, sibling), tid);
	return proc_fork(parent, child, tid, false, false);
}

char LICENSE[] SEC("license") = "GPL";
