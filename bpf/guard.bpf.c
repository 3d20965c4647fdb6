// SPDX-License-Identifier: GPL-2.0
/*
 * guard module: security-relevant syscalls (guard.sys.bpf.h), from the shared dispatcher
 * or, where BPF trampolines work, from these fexit programs on the syscall functions;
 * logins from uprobes on libpam (guard_pam.bpf.h).
 */
#include "guard.sys.bpf.h"
#include "guard_uring.bpf.h"
#include "guard_pam.bpf.h"
#include "guard_lsm.bpf.h"

KS_SYS_MODULE(guard)

/* file changes and watched reads */
KS_SYS_FEXIT(guard, open)
KS_SYS_FEXIT(guard, openat)
KS_SYS_FEXIT(guard, openat2)
KS_SYS_FEXIT(guard, creat)
KS_SYS_FEXIT(guard, unlink)
KS_SYS_FEXIT(guard, unlinkat)
KS_SYS_FEXIT(guard, rmdir)
KS_SYS_FEXIT(guard, rename)
KS_SYS_FEXIT(guard, renameat)
KS_SYS_FEXIT(guard, renameat2)
/* new names: links, symlinks, directories; extended attributes */
KS_SYS_FEXIT(guard, link)
KS_SYS_FEXIT(guard, linkat)
KS_SYS_FEXIT(guard, symlink)
KS_SYS_FEXIT(guard, symlinkat)
KS_SYS_FEXIT(guard, mkdir)
KS_SYS_FEXIT(guard, mkdirat)
KS_SYS_FEXIT(guard, setxattr)
KS_SYS_FEXIT(guard, lsetxattr)
KS_SYS_FEXIT(guard, fsetxattr)
KS_SYS_FEXIT(guard, removexattr)
KS_SYS_FEXIT(guard, lremovexattr)
KS_SYS_FEXIT(guard, fremovexattr)
/* attributes */
KS_SYS_FEXIT(guard, chmod)
KS_SYS_FEXIT(guard, fchmod)
KS_SYS_FEXIT(guard, fchmodat)
KS_SYS_FEXIT(guard, chown)
KS_SYS_FEXIT(guard, fchown)
KS_SYS_FEXIT(guard, lchown)
KS_SYS_FEXIT(guard, fchownat)
KS_SYS_FEXIT(guard, truncate)
KS_SYS_FEXIT(guard, ftruncate)
/* processes and privileges */
KS_SYS_FEXIT(guard, execve)
KS_SYS_FEXIT(guard, execveat)
KS_SYS_FEXIT(guard, setuid)
KS_SYS_FEXIT(guard, setgid)
KS_SYS_FEXIT(guard, setreuid)
KS_SYS_FEXIT(guard, setregid)
KS_SYS_FEXIT(guard, setresuid)
KS_SYS_FEXIT(guard, setresgid)
KS_SYS_FEXIT(guard, capset)
/* the kernel and namespaces */
KS_SYS_FEXIT(guard, ptrace)
KS_SYS_FEXIT(guard, init_module)
KS_SYS_FEXIT(guard, finit_module)
KS_SYS_FEXIT(guard, bpf)
KS_SYS_FEXIT(guard, perf_event_open)
KS_SYS_FEXIT(guard, mount)
KS_SYS_FEXIT(guard, unshare)
KS_SYS_FEXIT(guard, setns)
/* fds and other processes' memory (guard_net.bpf.h) */
KS_SYS_FEXIT(guard, dup2)
KS_SYS_FEXIT(guard, dup3)
KS_SYS_FEXIT(guard, listen)
KS_SYS_FEXIT(guard, pwrite64)
KS_SYS_FEXIT(guard, pwritev)
KS_SYS_FEXIT(guard, pwritev2)
KS_SYS_FEXIT(guard, process_vm_writev)

char LICENSE[] SEC("license") = "GPL";
