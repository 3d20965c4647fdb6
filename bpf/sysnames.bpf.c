// SPDX-License-Identifier: GPL-2.0
/*
 * Read the syscall metadata behind the tracefs "enable" files the current process opened
 * (see sysnames_meta.h) into sysnames_out, keyed by file descriptor. Never attached to a
 * hook: user space runs it once as an iterator. Sessions leave it unloaded (and its map at
 * one entry).
 */
#include "common.bpf.h"
#include "sysnames_meta.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);	/* SYSNAMES_FDS when the program is run */
	__type(key, __u32);
	__type(value, struct sysnames_ent);
} sysnames_out SEC(".maps");

SEC("iter/task_file")
int sysnames__iter(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct trace_event_file *tf;
	struct trace_event_call *call;
	struct syscall_metadata *m;
	struct sysnames_ent *e;
	__u32 fd = ctx->fd;

	/* the iterator runs in the reading process: only its own descriptors matter */
	if (!task || !file || task->tgid != bpf_get_current_pid_tgid() >> 32)
		return 0;
	e = bpf_map_lookup_elem(&sysnames_out, &fd);
	if (!e)
		return 0;
	e->seen = 1;
	e->nr = -1;
	e->name[0] = 0;
	/* an "enable" file's inode keeps its trace_event_file; probe reads: any other
	 * file's i_private is not one, and user space only trusts the files it opened */
	tf = BPF_CORE_READ(file, f_inode, i_private);
	call = BPF_CORE_READ(tf, event_call);
	m = BPF_CORE_READ(call, data);
	if (!m || bpf_probe_read_kernel_str(e->name, sizeof(e->name), BPF_CORE_READ(m, name)) <= 0)
		return 0;
	e->nr = BPF_CORE_READ(m, syscall_nr);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
