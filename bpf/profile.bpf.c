// SPDX-License-Identifier: GPL-2.0
/*
 * profile module: on every cpu-clock sample (one software perf event per CPU), the
 * current task's user and kernel stacks go into profile_stacks (bpf_get_stackid) and the
 * sample is counted in profile_rows under (process, image, user stack, kernel stack).
 * Nothing is streamed per sample: only the first sample of each process image
 * (pid, self_exec_id, start time) is sent, so that user space reads that image's mappings
 * while the process lives. The idle task is counted apart, never in rows.
 *
 * --wall loads offcpu's kernel side as well (offcpu_sched.bpf.h, its maps and hook bodies
 * wrapped in programs of this object, run-queue split on): the time off the CPU, blocked
 * and waiting in the run queue, by stack, next to the samples. Its announcements and
 * losses are this module's types.
 */
#include "common.bpf.h"
#include "profile.h"

#define PF_KTHREAD 0x00200000	/* include/linux/sched.h, stable since 2.6 */
#define EFAULT 14
#define EEXIST 17

#define OFFCPU_T_FIRST PROFILE_EV_FIRST
#define OFFCPU_T_BLOCK PROFILE_EV_WALL
#define OFFCPU_T_START PROFILE_EV_WALL_START
#include "offcpu_sched.bpf.h"

const volatile bool profile_user = true;	/* take user stacks (not -K) */
const volatile bool profile_kernel = true;	/* take kernel stacks (not -U) */

/* its size is set before load (--stack-storage) */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PROFILE_DEPTH * sizeof(__u64));
} profile_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROFILE_ROWS);
	__type(key, struct profile_key);
	__type(value, struct profile_val);
} profile_rows SEC(".maps");

/* pid -> the image last announced: a new exec_id (exec) or start time (the pid reused by
 * another process) is announced again; the least recently sampled pids make room */
struct profile_image {
	__u64 start;		/* the group leader's start_time */
	__u32 exec_id;
	__u32 __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PROFILE_SEEN);
	__type(key, __u32);
	__type(value, struct profile_image);
} profile_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROFILE_ST_N);
	__type(key, __u32);
	__type(value, __u64);
} profile_stats SEC(".maps");

static __always_inline void stat_add(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&profile_stats, &i);

	if (v)
		(*v)++;
}

/* A stack's id; or PROFILE_NO_STACK with the reason counted at @none (EFAULT when
 * @fault_is_none: no such stack); or PROFILE_LOST_STACK, counted at @none+1 (lost to a
 * collision) or @none+2 (any other error). */
static __always_inline __s32 stack_id(void *ctx, __u64 flags, __u32 none, bool fault_is_none)
{
	long id = bpf_get_stackid(ctx, &profile_stacks, flags);

	if (id >= 0)
		return id;
	if (id == -EFAULT && fault_is_none) {
		stat_add(none);
		return PROFILE_NO_STACK;
	}
	stat_add(id == -EEXIST ? none + 1 : none + 2);
	return PROFILE_LOST_STACK;
}

static __always_inline void first_sample(struct task_struct *t, __u64 pid_tgid, __u32 exec_id)
{
	struct profile_image img = { .exec_id = exec_id }, *seen;
	__u32 pid = pid_tgid >> 32;
	struct profile_first *e;

	img.start = BPF_CORE_READ(t, group_leader, start_time);
	seen = bpf_map_lookup_elem(&profile_seen, &pid);
	if (seen && seen->exec_id == exec_id && seen->start == img.start)
		return;
	/* two CPUs may both get here for one image: the maps are then read twice */
	if (bpf_map_update_elem(&profile_seen, &pid, &img, BPF_ANY)) {
		stat_add(PROFILE_ST_SEEN_FULL);
		return;
	}
	e = ks_reserve(PROFILE_EV_FIRST, sizeof(*e), pid_tgid);
	if (!e)
		return;
	e->exec_id = exec_id;
	e->__pad = 0;
	ks_submit(e);
}

SEC("perf_event")
int profile__sample(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *t = (void *)bpf_get_current_task();
	struct profile_key k = {};
	struct profile_val *v;
	bool kthread;

	if (!(__u32)pid_tgid) {
		stat_add(PROFILE_ST_IDLE);
		return 0;
	}
	if (!ks_want(pid_tgid))
		return 0;
	stat_add(PROFILE_ST_SAMPLES);
	kthread = (BPF_CORE_READ(t, flags) & PF_KTHREAD) || !BPF_CORE_READ(t, mm);
	k.pid = pid_tgid >> 32;
	k.exec_id = (__u32)BPF_CORE_READ(t, self_exec_id);
	k.ustack = k.kstack = PROFILE_NO_STACK;
	if (profile_user && !kthread)
		k.ustack = stack_id(ctx, BPF_F_USER_STACK, PROFILE_ST_UNONE, false);
	else
		stat_add(PROFILE_ST_UNONE);
	/* a sample taken in user mode has no kernel stack: EFAULT says so */
	if (profile_kernel)
		k.kstack = stack_id(ctx, 0, PROFILE_ST_KNONE, true);
	else
		stat_add(PROFILE_ST_KNONE);
	if (!kthread)
		first_sample(t, pid_tgid, k.exec_id);

	v = bpf_map_lookup_elem(&profile_rows, &k);
	if (!v) {
		struct profile_val zero = {};

		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		zero.cgroup = bpf_get_current_cgroup_id();
		/* another CPU may have made it meanwhile: EEXIST is fine */
		bpf_map_update_elem(&profile_rows, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&profile_rows, &k);
		if (!v) {
			ks_lost(PROFILE_EV_SAMPLE);
			return 0;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	return 0;
}

/* --wall: offcpu's hooks (offcpu_sched.bpf.h) */
OFFCPU_SCHED_PROGS(profile)

char LICENSE[] SEC("license") = "GPL";
