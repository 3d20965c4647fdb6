// SPDX-License-Identifier: GPL-2.0
/*
 * Execs per process name, with a log2 histogram of each exec's argument bytes, and one of
 * the executed paths' lengths: an example for `ksight run --bpf` (examples/README.md).
 *
 *   clang -target bpf -D__TARGET_ARCH_x86 -g -O2 -I build -c examples/exec_comm.bpf.c \
 *         -o exec_comm.bpf.o
 *   ksight run --bpf exec_comm.bpf.o
 *
 * On /metrics (names from the maps' and members' names, labels from the key's members):
 *   ksight_exec_by_comm_execs_total{comm="bash"} 12
 *   ksight_exec_by_comm_args_bytes_bucket{comm="bash",le="64"} 9   (bytes: the name says)
 *   ksight_exec_by_comm_args_bytes_sum{comm="bash"} 410           (the member args_bytes_sum)
 *   ksight_exec_path_len_bucket{le="32"} 30                        (an array map: slot = index)
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define SLOTS 32

struct comm_key {
	char comm[16];
};

struct exec_stats {
	__u64 execs;
	__u64 args_bytes_log2[SLOTS];	/* *_log2: a log2 histogram (slot = floor(log2 v)) */
	__u64 args_bytes_sum;		/* <stem>_sum: that histogram's _sum */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct comm_key);
	__type(value, struct exec_stats);
} exec_by_comm SEC(".maps");

/* An array map named *_log2 is itself a histogram: index i counts the values of slot i. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} exec_path_len_log2 SEC(".maps");

/* floor(log2(v)), 0 for 0 and 1: halve the range where the highest set bit is. */
static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1)
		r += 1;
	return r < SLOTS ? r : SLOTS - 1;
}

SEC("tracepoint/sched/sched_process_exec")
int exec_comm(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct exec_stats zero = {}, *s;
	struct comm_key key = {};
	__u64 args, *n;
	__u32 len;

	/* the new program's name and argument strings (their NULs included) */
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	args = BPF_CORE_READ(task, mm, arg_end) - BPF_CORE_READ(task, mm, arg_start);
	s = bpf_map_lookup_elem(&exec_by_comm, &key);
	if (!s) {
		bpf_map_update_elem(&exec_by_comm, &key, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&exec_by_comm, &key);
		if (!s)
			return 0;
	}
	__sync_fetch_and_add(&s->execs, 1);
	__sync_fetch_and_add(&s->args_bytes_log2[log2_slot(args)], 1);
	__sync_fetch_and_add(&s->args_bytes_sum, args);

	/* the path given to execve: __data_loc is its length (high 16 bits) and offset */
	len = (ctx->__data_loc_filename >> 16) - 1;
	__u32 slot = log2_slot(len);
	n = bpf_map_lookup_elem(&exec_path_len_log2, &slot);
	if (n)
		*n += 1;	/* per CPU: no other writer */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
