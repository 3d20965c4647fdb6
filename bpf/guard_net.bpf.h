/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard: the exploit patterns seen through file descriptors. A process's fds 0-2 on a
 * socket (reverse shells: at exec, and at a dup2/dup3 of a socket onto them), an ancestor
 * listening on TCP (a shell spawned by a network service: listen() is remembered per
 * process), another process's /proc/PID/mem. Each test is a global function: verified
 * once, not inlined into the handler that already carries the path walks.
 */
#ifndef KSIGHT_GUARD_NET_BPF_H
#define KSIGHT_GUARD_NET_BPF_H

#include "guard_path.bpf.h"

const volatile __u32 guard_xflags = 0;	/* GUARD_F_SOCKIO/UNIXIO/NETPARENT some rule asks */

#define GUARD_S_IFMT 0170000
#define GUARD_S_IFSOCK 0140000
#define GUARD_AF_UNIX 1
#define GUARD_AF_INET 2
#define GUARD_AF_INET6 10
#define GUARD_PROC_MAGIC 0x9fa0
#define GUARD_LISTEN_DEPTH 2	/* the parent and the grandparent */

/* Processes (tgid) that called listen() on an inet socket since the start (or that user
 * space found listening then). Forgotten only when full: a reused pid may inherit it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u32);
} guard_listeners SEC(".maps");

/* The family of @f's socket (0: not a socket), its peer into the record being built (the
 * first one only: @fill). */
static __always_inline __u16 guard_sock(struct file *f, bool fill)
{
	struct files_rec_buf *rb = files_rec_get();
	struct guard_event *e;
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (!f || !rb || (BPF_CORE_READ(f, f_inode, i_mode) & GUARD_S_IFMT) != GUARD_S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e = (struct guard_event *)rb->buf;
	if (!fill || e->pfamily)
		return family;
	e->pfamily = family;
	e->pport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == GUARD_AF_INET)
		bpf_core_read(e->paddr, 4, &sk->__sk_common.skc_daddr);
	else if (family == GUARD_AF_INET6)
		bpf_core_read(e->paddr, 16, &sk->__sk_common.skc_v6_daddr);
	return family;
}

static __always_inline __u32 guard_family_flag(__u16 family)
{
	if (family == GUARD_AF_INET || family == GUARD_AF_INET6)
		return GUARD_F_SOCKIO;
	return family == GUARD_AF_UNIX ? GUARD_F_UNIXIO : 0;
}

/* The current task's fds 0-2 that are sockets, in the record's sockfds, and the first
 * one's peer; GUARD_F_SOCKIO/UNIXIO when stdin is one: a shell reading its commands from a
 * socket (a service's stdout and stderr on journald's stream socket are not that). */
__noinline int guard_stdio_socks(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct files_rec_buf *rb = files_rec_get();
	__u32 flags = 0;
	int fd;

	if (!rb)
		return 0;
	for (fd = 0; fd < 3; fd++) {
		__u32 fl = guard_family_flag(guard_sock(ks_fd_file(task, fd), true));

		if (fl) {
			if (fd == 0)
				flags |= fl;
			((struct guard_event *)rb->buf)->sockfds |= 1U << fd;
		}
	}
	return flags;
}

/* GUARD_F_NETPARENT when the parent or grandparent listens (the listener in the record). */
__noinline int guard_listener_up(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct files_rec_buf *rb = files_rec_get();
	int i;

	if (!rb)
		return 0;
	for (i = 1; i <= GUARD_LISTEN_DEPTH; i++) {
		__u32 tgid;

		t = BPF_CORE_READ(t, real_parent);
		if (!t)
			return 0;
		tgid = BPF_CORE_READ(t, tgid);
		if (tgid <= 1)	/* init's sockets (socket activation) are everyone's */
			return 0;
		if (bpf_map_lookup_elem(&guard_listeners, &tgid)) {
			struct guard_event *e = (struct guard_event *)rb->buf;

			e->listener = tgid;
			e->sockfds |= (__u32)i << 8;
			return GUARD_F_NETPARENT;
		}
	}
	return 0;
}

/* A successful listen(fd) on an inet socket: the process is a network service. */
static __always_inline void guard_listen(int fd, long ret, __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = pid_tgid >> 32, one = 1;
	__u16 family;

	if (ret != 0 || !(guard_xflags & GUARD_F_NETPARENT))
		return;
	family = guard_sock(ks_fd_file(task, fd), false);
	if (family == GUARD_AF_INET || family == GUARD_AF_INET6)
		bpf_map_update_elem(&guard_listeners, &tgid, &one, BPF_ANY);
}

/*
 * The target's pid (as the kernel numbers it) when @file is /proc/PID/mem (or
 * /proc/PID/task/TID/mem) of a process with another address space than the current
 * task's; 0 otherwise. Its private_data is the mm it was opened on.
 */
__noinline int guard_proc_mem_other(__u64 file)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *f = (struct file *)file;
	struct inode *ino;
	struct pid *pid = NULL;
	char name[4] = {};

	if (!f)
		return 0;
	ino = BPF_CORE_READ(f, f_inode);
	if (!ino || BPF_CORE_READ(ino, i_sb, s_magic) != GUARD_PROC_MAGIC)
		return 0;
	bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name));
	if (name[0] != 'm' || name[1] != 'e' || name[2] != 'm' || name[3] != 0)
		return 0;
	if (BPF_CORE_READ(f, private_data) == (void *)BPF_CORE_READ(task, mm))
		return 0;
	/* struct proc_inode holds the pid and, last, the inode */
	bpf_probe_read_kernel(&pid, sizeof(pid), (char *)ino -
			      bpf_core_field_offset(struct proc_inode, vfs_inode) +
			      bpf_core_field_offset(struct proc_inode, pid));
	return pid ? BPF_CORE_READ(pid, numbers[0].nr) : -1;
}

#endif
