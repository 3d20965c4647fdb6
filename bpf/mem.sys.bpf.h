/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mem: the calls that grow and shrink a process's address space, at their return, run by
 * the syscall dispatcher or by mem's fexit programs (mem.bpf.c). The task filters were
 * applied before. mmap and munmap count the length they were given in whole pages (what
 * the kernel maps or unmaps; a munmap of a range that held nothing still counts, as the
 * call succeeded); brk sets the heap gauge to the new break minus the heap's start.
 */
#ifndef KSIGHT_MEM_SYS_BPF_H
#define KSIGHT_MEM_SYS_BPF_H

#include "syscalls.bpf.h"
#include "mem.h"

#define MEM_PAGE 4096ULL

const volatile bool mem_per_thread = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEM_ROWS);
	__type(key, struct mem_key);
	__type(value, struct mem_val);
} mem_rows SEC(".maps");

/* The row of @pid_tgid's process (thread with -L), made if it is new; NULL (counted as a
 * loss) when the table is full. */
static __always_inline struct mem_val *mem_row(__u64 pid_tgid)
{
	struct mem_key k = { .pid = pid_tgid >> 32, .tid = mem_per_thread ? (__u32)pid_tgid : 0 };
	struct mem_val *v = bpf_map_lookup_elem(&mem_rows, &k);

	if (!v) {
		struct mem_val zero = {};

		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		zero.cgroup = bpf_get_current_cgroup_id();
		/* another CPU may have made it meanwhile: EEXIST is fine */
		bpf_map_update_elem(&mem_rows, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&mem_rows, &k);
		if (!v)
			ks_lost(MEM_EV_FAULT);
	}
	return v;
}

static __always_inline void mem_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					 __u64 pid_tgid)
{
	struct mem_val *v;
	__u64 len;

	if (c->id == __NR_brk) {
		struct task_struct *t = (struct task_struct *)bpf_get_current_task();
		__u64 start = BPF_CORE_READ(t, mm, start_brk);

		/* brk returns the break, new or (refused) unchanged; never below its start */
		if ((__u64)ret < start || !(v = mem_row(pid_tgid)))
			return;
		v->heap = (__u64)ret - start;
		v->seen |= MEM_SEEN_HEAP;
		return;
	}
	if (c->id != __NR_mmap && c->id != __NR_munmap)
		return;
	if (c->id == __NR_mmap ? (ret < 0 && ret > -4096) : ret != 0)
		return;
	len = (c->args[1] + MEM_PAGE - 1) & ~(MEM_PAGE - 1);
	if (!(v = mem_row(pid_tgid)))
		return;
	if (c->id == __NR_mmap)
		__sync_fetch_and_add(&v->mmap_bytes, len);
	else
		__sync_fetch_and_add(&v->munmap_bytes, len);
}

#endif
