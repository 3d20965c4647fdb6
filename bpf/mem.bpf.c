// SPDX-License-Identifier: GPL-2.0
/*
 * mem module: page faults, minor and major, per process (or thread, -L), counted in the
 * kernel (mem_rows) from the software perf events the kernel raises exactly where it adds
 * to a task's min_flt and maj_flt (mm_account_fault), one event per CPU sampled on every
 * fault; no kprobe, no exception tracepoint (which cannot tell major from minor). OOM
 * kills are streamed from oom:mark_victim. Growth: mmap/munmap/brk (mem.sys.bpf.h) and
 * anonymous RSS from kmem:rss_stat. A process's rows are shared by its threads on every
 * CPU: adds are atomic (gauges are stores: the last writer wins).
 */
#include "mem.sys.bpf.h"
#include "mem_leaks.bpf.h"

KS_SYS_MODULE(mem)

KS_SYS_FEXIT(mem, mmap)
KS_SYS_FEXIT(mem, munmap)
KS_SYS_FEXIT(mem, brk)

/* mm_id -> the process whose mm it is, learnt when it changed its own RSS: kmem:rss_stat
 * names only a hash of the mm when another task (reclaim, an exiting parent's vfork
 * child...) changes it. LRU: dead processes' entries leave by themselves. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MEM_ROWS);
	__type(key, __u32);
	__type(value, __u32);
} mem_mms SEC(".maps");

static __always_inline void count_fault(bool major)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct mem_val *v;

	if (!(__u32)pid_tgid || !ks_want(pid_tgid) || !(v = mem_row(pid_tgid)))
		return;
	if (major)
		__sync_fetch_and_add(&v->major, 1);
	else
		__sync_fetch_and_add(&v->minor, 1);
}

SEC("perf_event")
int mem__minor(struct bpf_perf_event_data *ctx)
{
	count_fault(false);
	return 0;
}

SEC("perf_event")
int mem__major(struct bpf_perf_event_data *ctx)
{
	count_fault(true);
	return 0;
}

/* 5.10's event has the pid only; 6.x adds the victim's name, memory and uid. */
SEC("tp/oom/mark_victim")
int mem__oom_tp(struct trace_event_raw_mark_victim *ctx)
{
	struct mem_oom *e = ks_reserve(MEM_EV_OOM, sizeof(*e), bpf_get_current_pid_tgid());

	if (!e)
		return 0;
	e->victim = ctx->pid;
	e->uid = ~0u;
	e->total_vm_kb = e->anon_rss_kb = e->file_rss_kb = e->shmem_rss_kb = 0;
	e->oom_score_adj = 0;
	e->comm[0] = 0;
	e->__pad = 0;
	if (bpf_core_field_exists(ctx->total_vm)) {
		e->total_vm_kb = BPF_CORE_READ(ctx, total_vm);
		e->anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
		e->file_rss_kb = BPF_CORE_READ(ctx, file_rss);
		e->shmem_rss_kb = BPF_CORE_READ(ctx, shmem_rss);
		e->oom_score_adj = BPF_CORE_READ(ctx, oom_score_adj);
	}
	if (bpf_core_field_exists(ctx->uid))
		e->uid = BPF_CORE_READ(ctx, uid);
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		__u32 loc = BPF_CORE_READ(ctx, __data_loc_comm);

		bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), (void *)ctx + (loc & 0xffff));
	}
	ks_submit(e);
	return 0;
}

/*
 * kmem:rss_stat: one of an mm's resident-page counters changed; size is its new value in
 * bytes. Only anonymous pages are followed (growth and leaks are there; file pages come
 * and go with the page cache). The classic tracepoint, as the kernel computes the value
 * (tp_btf would get the mm and have to sum a per-CPU counter itself). Per process only:
 * the counter is the process's, not a thread's.
 */
SEC("tp/kmem/rss_stat")
int mem__rss_tp(struct trace_event_raw_rss_stat *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 mm = ctx->mm_id, pid;
	struct mem_key k = {};
	struct mem_val *v;
	__u64 size;

	if (ctx->member != MEM_MM_ANONPAGES || mem_per_thread)
		return 0;
	if (ctx->curr) {
		if (!(__u32)pid_tgid || !ks_want(pid_tgid) || !(v = mem_row(pid_tgid)))
			return 0;
		pid = pid_tgid >> 32;
		bpf_map_update_elem(&mem_mms, &mm, &pid, BPF_ANY);
	} else {
		__u32 *owner = bpf_map_lookup_elem(&mem_mms, &mm);

		/* not a process seen changing its own: not one asked for, or not yet */
		if (!owner)
			return 0;
		k.pid = *owner;
		if (!(v = bpf_map_lookup_elem(&mem_rows, &k)))
			return 0;
	}
	size = ctx->size > 0 ? ctx->size : 0;
	v->rss_anon = size;
	if (size > v->anon_peak)
		v->anon_peak = size;
	v->seen |= MEM_SEEN_RSS;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
