// SPDX-License-Identifier: GPL-2.0
/*
 * mem module: page faults, minor and major, per process (or thread, -L), counted in the
 * kernel (mem_rows) from the software perf events the kernel raises exactly where it adds
 * to a task's min_flt and maj_flt (mm_account_fault), one event per CPU sampled on every
 * fault; no kprobe, no exception tracepoint (which cannot tell major from minor). OOM
 * kills are streamed from oom:mark_victim. A process's rows are shared by its threads on
 * every CPU: adds are atomic.
 */
#include "common.bpf.h"
#include "mem.h"

const volatile bool mem_per_thread = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEM_ROWS);
	__type(key, struct mem_key);
	__type(value, struct mem_val);
} mem_rows SEC(".maps");

static __always_inline void count_fault(bool major)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct mem_key k = { .pid = pid_tgid >> 32, .tid = mem_per_thread ? (__u32)pid_tgid : 0 };
	struct mem_val *v;

	if (!(__u32)pid_tgid || !ks_want(pid_tgid))
		return;
	v = bpf_map_lookup_elem(&mem_rows, &k);
	if (!v) {
		struct mem_val zero = {};

		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		zero.cgroup = bpf_get_current_cgroup_id();
		/* another CPU may have made it meanwhile: EEXIST is fine */
		bpf_map_update_elem(&mem_rows, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&mem_rows, &k);
		if (!v) {
			ks_lost(MEM_EV_FAULT);
			return;
		}
	}
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

char LICENSE[] SEC("license") = "GPL";
