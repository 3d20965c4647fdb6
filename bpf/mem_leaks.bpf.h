/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mem --leaks: the allocations of one process still outstanding, by the user stack that
 * made them. Uprobes on its allocator's entry points note the size a thread asked for
 * (mem_leak_pending); one uretprobe, on each of them, records the block it got with the
 * stack it returned to (mem_leak_allocs); the free uprobe forgets a block. Taking the
 * stack at the return means the walk starts in the caller's own frame, so the function
 * that allocated is frame 0 even without frame pointers in the allocator. Allocations made
 * before ksight attached are not known and their frees are ignored.
 *
 * A stack whose bucket in mem_leak_stacks is taken keeps only its first frame (in
 * mem_leak_tops, flagged MEM_STACK_TOP), counted as a cut stack.
 *
 * Nested calls (glibc's realloc(NULL, n) calls malloc) overwrite the pending entry: the
 * inner call's return records the block and the outer return finds nothing pending, so a
 * block is recorded once. The programs are loaded only with --leaks (mem.c).
 */
#ifndef KSIGHT_MEM_LEAKS_BPF_H
#define KSIGHT_MEM_LEAKS_BPF_H

#include "mem.h"

struct mem_pending {
	__u64 size;		/* bytes asked for */
	__u64 memptr;		/* posix_memalign: where the block's address goes */
	__u64 old;		/* realloc: the block it replaces (0: none) */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);	/* thread id */
	__type(value, struct mem_pending);
} mem_leak_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEM_LEAK_BLOCKS);
	__type(key, __u64);	/* the block's address */
	__type(value, struct mem_block);
} mem_leak_allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, MEM_LEAK_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MEM_LEAK_DEPTH * sizeof(__u64));
} mem_leak_stacks SEC(".maps");

/* Only the allocating function, for a stack the full table has no bucket for. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, MEM_LEAK_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
} mem_leak_tops SEC(".maps");

static __always_inline int mem_pend(__u64 size, __u64 memptr, __u64 old)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mem_pending p = { .size = size, .memptr = memptr, .old = old };

	bpf_map_update_elem(&mem_leak_pending, &tid, &p, BPF_ANY);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(mem__malloc, __u64 size)
{
	return mem_pend(size, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(mem__calloc, __u64 n, __u64 size)
{
	return mem_pend(n * size, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(mem__realloc, __u64 old, __u64 size)
{
	return mem_pend(size, 0, old);
}

/* memalign(align, size) and aligned_alloc(align, size) */
SEC("uprobe")
int BPF_KPROBE(mem__memalign, __u64 align, __u64 size)
{
	return mem_pend(size, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(mem__posix_memalign, __u64 memptr, __u64 align, __u64 size)
{
	return mem_pend(size, memptr, 0);
}

SEC("uprobe")
int BPF_KPROBE(mem__free, __u64 addr)
{
	if (addr)
		bpf_map_delete_elem(&mem_leak_allocs, &addr);
	return 0;
}

/* The return of every allocator: the block, where it was asked for, and its stack. */
SEC("uretprobe")
int BPF_KRETPROBE(mem__alloc_ret, __u64 ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mem_pending *p = bpf_map_lookup_elem(&mem_leak_pending, &tid);
	struct mem_block b = {};
	__u64 addr = ret;

	if (!p)
		return 0;
	if (p->memptr) {
		/* posix_memalign returns 0 (an int: rax's upper half means nothing) and
		 * writes the address */
		addr = 0;
		if ((__u32)ret == 0)
			bpf_probe_read_user(&addr, sizeof(addr), (void *)p->memptr);
	}
	if (addr && p->old && p->old != addr)
		bpf_map_delete_elem(&mem_leak_allocs, &p->old);
	else if (!addr && p->old && !p->size)
		bpf_map_delete_elem(&mem_leak_allocs, &p->old);	/* realloc(p, 0) freed it */
	if (addr) {
		b.size = p->size;
		b.ts = bpf_ktime_get_ns();
		b.stack = bpf_get_stackid(ctx, &mem_leak_stacks, BPF_F_USER_STACK);
		if (b.stack < 0) {
			/* A bucket taken by another stack (code without frame pointers walks
			 * into garbage, so stacks vary): keep the allocating function. */
			b.stack = bpf_get_stackid(ctx, &mem_leak_tops, BPF_F_USER_STACK);
			if (b.stack >= 0)
				b.stack |= MEM_STACK_TOP;
			ks_lost(MEM_EV_LEAK_STACK);
		}
		if (bpf_map_update_elem(&mem_leak_allocs, &addr, &b, BPF_ANY))
			ks_lost(MEM_EV_LEAK);
	}
	bpf_map_delete_elem(&mem_leak_pending, &tid);
	return 0;
}

#endif
