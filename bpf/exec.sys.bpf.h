/* SPDX-License-Identifier: GPL-2.0 */
/* exec: failed execve/execveat, handed over by the syscall dispatcher or an fexit program. */
#ifndef KSIGHT_EXEC_SYS_BPF_H
#define KSIGHT_EXEC_SYS_BPF_H

#include "syscalls.bpf.h"
#include "exec.h"

static __always_inline void exec_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					  __u64 pid_tgid)
{
	const char *const *argv;
	const char *filename;
	struct exec_fail *e;
	__u32 i;

	if (ret >= 0)
		return;
	if (c->id == __NR_execve) {
		filename = (const char *)c->args[0];
		argv = (const char *const *)c->args[1];
	} else if (c->id == __NR_execveat) {
		filename = (const char *)c->args[1];
		argv = (const char *const *)c->args[2];
	} else {
		return;
	}
	e = ks_reserve(EXEC_EV_FAIL, sizeof(*e), pid_tgid);
	if (!e)
		return;
	e->err = ret;
	e->ppid = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->args_cut = 0;
	e->__pad = 0;
	if (bpf_probe_read_user_str(e->filename, sizeof(e->filename), filename) <= 0)
		e->filename[0] = 0;
	__builtin_memset(e->arg_len, 0, sizeof(e->arg_len));
	for (i = 0; i < EXEC_MAX_ARGS; i++) {
		const char *arg = NULL;
		long n;

		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			break;
		n = bpf_probe_read_user_str(e->args[i], EXEC_ARG_SLOT, arg);
		if (n <= 0)
			break;
		e->arg_len[i] = n;
		if (n == EXEC_ARG_SLOT)
			e->args_cut = 1;
	}
	e->nargs = i;
	if (e->nargs == EXEC_MAX_ARGS) {
		const char *more = NULL;

		bpf_probe_read_user(&more, sizeof(more), &argv[EXEC_MAX_ARGS]);
		if (more)
			e->args_cut = 1;
	}
	ks_submit(e);
}

#endif
