// SPDX-License-Identifier: GPL-2.0
/*
 * guard's hooks: the syscalls each slot routes through the dispatcher (or the fexit
 * programs on kernels with fentry), libpam's probes and io_uring's tracepoints. Which
 * slots a session takes is guard_want_slot()'s decision (guard.c), from its rules.
 */
#include <sys/syscall.h>

#include "modules/guard_slots.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static const int file_syscalls[] = { SYS_open, SYS_openat, SYS_openat2, SYS_creat,
	SYS_unlink, SYS_unlinkat, SYS_rmdir, SYS_rename, SYS_renameat, SYS_renameat2, SYS_chmod,
	SYS_fchmod, SYS_fchmodat, SYS_fchmodat2, SYS_chown, SYS_fchown, SYS_lchown,
	SYS_fchownat, SYS_truncate, SYS_ftruncate, -1 };
static const int proc_syscalls[] = { SYS_execve, SYS_execveat, SYS_setuid, SYS_setgid,
	SYS_setreuid, SYS_setregid, SYS_setresuid, SYS_setresgid, SYS_capset, SYS_ptrace,
	SYS_init_module, SYS_finit_module, SYS_bpf, SYS_perf_event_open, SYS_mount,
	SYS_unshare, SYS_setns, -1 };
static const int link_syscalls[] = { SYS_link, SYS_linkat, SYS_symlink, SYS_symlinkat,
	SYS_mkdir, SYS_mkdirat, SYS_setxattr, SYS_lsetxattr, SYS_fsetxattr, SYS_removexattr,
	SYS_lremovexattr, SYS_fremovexattr, -1 };
static const int fd_syscalls[] = { SYS_dup2, SYS_dup3, SYS_listen, SYS_pwrite64, SYS_pwritev,
	SYS_pwritev2, SYS_process_vm_writev, -1 };

#define FX(s) { "guard__" #s "_fexit", "__x64_sys_" #s }

#define URING_ABSENT "io_uring tracepoints absent: guard does not see io_uring requests"

/* fchmodat2 (6.6) has no fexit program here: on that path it is not seen (docs/guard.md) */
const struct ks_slot guard_slots[] = {
	{
		.name = "see file changes",
		.alts = {
			{ KS_FAM_FENTRY, { FX(open), FX(openat), FX(openat2), FX(creat), FX(unlink),
					   FX(unlinkat), FX(rmdir), FX(rename), FX(renameat),
					   FX(renameat2), FX(chmod), FX(fchmod), FX(fchmodat),
					   FX(chown), FX(fchown), FX(lchown) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, file_syscalls },
		},
	},
	{
		.name = "see owners and sizes",
		.alts = {
			{ KS_FAM_FENTRY, { FX(fchownat), FX(truncate), FX(ftruncate) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, file_syscalls },
		},
	},
	{
		.name = "see execs and privs",
		.alts = {
			{ KS_FAM_FENTRY, { FX(execve), FX(execveat), FX(setuid), FX(setgid),
					   FX(setreuid), FX(setregid), FX(setresuid), FX(setresgid),
					   FX(capset), FX(ptrace), FX(init_module),
					   FX(finit_module), FX(bpf), FX(perf_event_open),
					   FX(mount), FX(unshare) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, proc_syscalls },
		},
	},
	{
		.name = "see namespace joins",
		.alts = {
			{ KS_FAM_FENTRY, { FX(setns) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, proc_syscalls },
		},
	},
	[SL_FDS] = {
		.name = "see fds and mem writes",
		.alts = {
			{ KS_FAM_FENTRY, { FX(dup2), FX(dup3), FX(listen), FX(pwrite64), FX(pwritev),
					   FX(pwritev2), FX(process_vm_writev) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, fd_syscalls },
		},
	},
	[SL_PAM] = {
		.name = "see logins (libpam)",
		.alts = {
			{ KS_FAM_UPROBE, { { "guard__pam_auth_ret", "uretprobe" },
					   { "guard__pam_session_ret", "uretprobe" },
					   { "guard__pam_call", "uprobe" },
					   { "guard__pam_start", "uprobe" },
					   { "guard__pam_start_cd", "uprobe" },
					   { "guard__pam_start_ret", "uretprobe" },
					   { "guard__pam_set_item", "uprobe" },
					   { "guard__pam_end", "uprobe" } } },
		},
	},
	/* io_uring: optional; 6.2+ named the submission tracepoint io_uring_submit_req,
	 * guard_init picks the slot of the one this kernel has */
	[SL_URING_NEW] = {
		.name = "see io_uring",
		.alts = {
			{ KS_FAM_TP_BTF, { { "guard__uring_req_btf", "io_uring_submit_req" },
					   { "guard__uring_done_btf", "io_uring_complete" } } },
			{ KS_FAM_RAW_TP, { { "guard__uring_req_raw", "io_uring_submit_req" },
					   { "guard__uring_done_raw", "io_uring_complete" } } },
		},
		.absent = URING_ABSENT,
	},
	[SL_URING_OLD] = {
		.name = "see io_uring (sqe tp)",
		.alts = {
			{ KS_FAM_TP_BTF, { { "guard__uring_sqe_btf", "io_uring_submit_sqe" },
					   { "guard__uring_done_btf", "io_uring_complete" } } },
			{ KS_FAM_RAW_TP, { { "guard__uring_sqe_raw", "io_uring_submit_sqe" },
					   { "guard__uring_done_raw", "io_uring_complete" } } },
		},
		.absent = URING_ABSENT,
	},
	[SL_LINKS] = {
		.name = "see links and xattrs",
		.alts = {
			{ KS_FAM_FENTRY, { FX(link), FX(linkat), FX(symlink), FX(symlinkat),
					   FX(mkdir), FX(mkdirat), FX(setxattr), FX(lsetxattr),
					   FX(fsetxattr), FX(removexattr), FX(lremovexattr),
					   FX(fremovexattr) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, link_syscalls },
		},
	},
	/* --enforce only (guard_deny.c): kernel_check refuses --enforce without it */
	[SL_LSM] = {
		.name = "deny (--enforce)",
		.alts = {
			{ KS_FAM_LSM, { { "guard__lsm_open", "file_open" },
					{ "guard__lsm_mknod", "path_mknod" },
					{ "guard__lsm_truncate", "path_truncate" },
					{ "guard__lsm_unlink", "path_unlink" },
					{ "guard__lsm_rmdir", "path_rmdir" },
					{ "guard__lsm_rename", "path_rename" },
					{ "guard__lsm_chmod", "path_chmod" },
					{ "guard__lsm_chown", "path_chown" },
					{ "guard__lsm_exec", "bprm_creds_for_exec" } } },
		},
		.absent = "BPF LSM unavailable: guard cannot deny (--enforce)",
	},
	{ 0 },
};
