/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rw: the fd-change records that feed user space's fd cache. Rare calls (open, socket,
 * accept, connect, dup, pipe, close, ...), so here the kernel does the work: it reads the
 * struct file the fd refers to at the call's return and reports its kind, inode and, for
 * sockets, both endpoints, which no later /proc lookup could get right for short-lived
 * connections.
 */
#ifndef KSIGHT_RW_FD_BPF_H
#define KSIGHT_RW_FD_BPF_H

#include "common.bpf.h"
#include <bpf/bpf_endian.h>
#include "sysnr.h"
#include "rw.h"
#include "task_fd.bpf.h"

#define RW_S_IFMT 0170000
#define RW_S_IFSOCK 0140000
#define RW_S_IFIFO 0010000
#define RW_ANON_INODE_FS_MAGIC 0x09041934
#define RW_AF_UNIX 1
#define RW_AF_INET 2
#define RW_AF_INET6 10
#define RW_EBADF 9
#define RW_EINPROGRESS 115
#define RW_F_DUPFD 0
#define RW_F_DUPFD_CLOEXEC 1030
#define RW_CLOSE_RANGE_CLOEXEC 4

/* The file @fd of the current task refers to now, or NULL. */
static __always_inline struct file *rw_fd_file(__s32 fd)
{
	return ks_fd_file((struct task_struct *)bpf_get_current_task(), fd);
}

/* An AF_UNIX socket's bound path into @dst (RW_UNIX_HALF bytes); "" when unbound. */
static __always_inline void rw_unix_path(char *dst, struct sock *sk)
{
	struct unix_address *ua = BPF_CORE_READ((struct unix_sock *)sk, addr);
	int len;

	dst[0] = 0;
	if (!ua)
		return;
	len = BPF_CORE_READ(ua, len) - (int)sizeof(__u16);	/* minus sun_family */
	if (len <= 0)
		return;
	if (len > RW_UNIX_HALF - 1)
		len = RW_UNIX_HALF - 1;
	bpf_probe_read_kernel(dst, ks_mask(len, 127), ua->name[0].sun_path);
	dst[ks_mask(len, 127)] = 0;
	if (!dst[0])
		dst[0] = '@';	/* abstract namespace */
}

static __always_inline void rw_describe_sock(struct rw_fd_event *e, struct socket *sock)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 family;

	e->sotype = BPF_CORE_READ(sock, type);
	if (!sk)
		return;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->family = family;
	if (family == RW_AF_INET || family == RW_AF_INET6) {
		e->laddr.port = BPF_CORE_READ(sk, __sk_common.skc_num);
		e->raddr.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	}
	/* whole arrays: BPF_CORE_READ_INTO would copy sizeof(addr[0]) */
	if (family == RW_AF_INET) {
		bpf_core_read(e->laddr.addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->raddr.addr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == RW_AF_INET6) {
		bpf_core_read(e->laddr.addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->raddr.addr, 16, &sk->__sk_common.skc_v6_daddr);
	} else if (family == RW_AF_UNIX) {
		struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);

		rw_unix_path(e->name, sk);
		e->name[RW_UNIX_HALF] = 0;
		if (peer)
			rw_unix_path(e->name + RW_UNIX_HALF, peer);
		e->name_len = 2 * RW_UNIX_HALF;
	}
}

/*
 * Kind, inode and endpoints of what @fd refers to now. @name_set: name[] already holds
 * the path the call was given; else the file's last path component goes there.
 */
static __always_inline void rw_describe(struct rw_fd_event *e, __s32 fd, bool name_set)
{
	struct file *f = rw_fd_file(fd);
	struct inode *inode;
	__u32 mode;
	long n;

	if (!f)
		return;
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	e->ino = BPF_CORE_READ(inode, i_ino);
	if ((mode & RW_S_IFMT) == RW_S_IFSOCK) {
		e->kind = RW_KIND_SOCKET;
		rw_describe_sock(e, BPF_CORE_READ(f, private_data));
		return;
	}
	if ((mode & RW_S_IFMT) == RW_S_IFIFO)
		e->kind = RW_KIND_PIPE;
	else if (BPF_CORE_READ(inode, i_sb, s_magic) == RW_ANON_INODE_FS_MAGIC)
		e->kind = RW_KIND_ANON;
	else
		e->kind = RW_KIND_FILE;
	if (name_set)
		return;
	n = bpf_probe_read_kernel_str(e->name, RW_NAME_MAX,
				      BPF_CORE_READ(f, f_path.dentry, d_name.name));
	e->name_len = n > 0 ? n : 0;
}

/* The fd-changing calls: one record each, for user space's fd cache. */
static __always_inline void rw_fd_change(const struct ks_sys_call *c, long ret, __u64 pid_tgid)
{
	const __u64 *a = c->args;
	const char *path = NULL;
	struct rw_fd_event *e;
	struct ks_level lv;
	__s32 fd = ret, fd2 = -1, dfd = -100, pair[2];
	__u8 op = RW_FD_NEW;
	long n;

	switch (c->id) {
	case __NR_open:
	case __NR_creat:
		path = (const char *)a[0];
		break;
	case __NR_openat:
	case __NR_openat2:
		dfd = a[0];
		path = (const char *)a[1];
		break;
	case __NR_socket:
	case __NR_accept:
	case __NR_accept4:
	case __NR_eventfd:
	case __NR_eventfd2:
	case __NR_epoll_create:
	case __NR_epoll_create1:
	case __NR_timerfd_create:
	case __NR_signalfd:
	case __NR_signalfd4:
	case __NR_memfd_create:
	case __NR_inotify_init:
	case __NR_inotify_init1:
	case __NR_pidfd_open:
		break;
	case __NR_pipe:
	case __NR_pipe2:
	case __NR_socketpair:
		if (ret < 0 || bpf_probe_read_user(pair, sizeof(pair),
						   (void *)a[c->id == __NR_socketpair ? 3 : 0]))
			return;
		fd = pair[0];
		fd2 = pair[1];
		break;
	case __NR_connect:
	case __NR_bind:
		if (ret && ret != -RW_EINPROGRESS)
			return;
		fd = a[0];
		op = RW_FD_UPDATE;
		break;
	case __NR_fcntl:
		if (a[1] != RW_F_DUPFD && a[1] != RW_F_DUPFD_CLOEXEC)
			return;
		/* fall through */
	case __NR_dup:
	case __NR_dup2:
	case __NR_dup3:
		fd2 = a[0];
		op = RW_FD_DUP;
		break;
	case __NR_chdir:
		path = (const char *)a[0];
		fd = -1;
		op = RW_FD_CWD;
		break;
	case __NR_fchdir:
		fd = a[0];
		op = RW_FD_CWD;
		break;
	case __NR_close:
		if (ret == -RW_EBADF)
			return;	/* nothing was closed; any other error still closed it */
		fd = a[0];
		op = RW_FD_CLOSE;
		break;
	case __NR_close_range:
		if (ret < 0 || (a[2] & RW_CLOSE_RANGE_CLOEXEC))
			return;
		fd = a[0];
		fd2 = a[1] > 0x7fffffff ? 0x7fffffff : a[1];
		op = RW_FD_CLOSE_RANGE;
		break;
	default:
		return;
	}
	if (ret < 0 && op != RW_FD_CLOSE && op != RW_FD_UPDATE)
		return;
	e = ks_scratch_begin(&lv, RW_EV_FD);
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.type = RW_EV_FD;
	e->enter_ts = c->enter_ts;
	e->ret = ret;
	e->fd = fd;
	e->fd2 = fd2;
	e->dfd = dfd;
	e->sys = c->id;
	e->op = op;
	if (path) {
		n = bpf_probe_read_user_str(e->name, RW_NAME_MAX, path);
		e->name_len = n > 0 ? n : 0;
		e->flags |= RW_FDF_PATH;
		if (n >= RW_NAME_MAX)
			e->flags |= RW_FDF_NAME_CUT;
	}
	if (op == RW_FD_CLOSE) {
		/* another thread may have been given the number between release and here */
		if (rw_fd_file(fd))
			e->flags |= RW_FDF_REUSED;
	} else if (op != RW_FD_CLOSE_RANGE && op != RW_FD_CWD) {
		rw_describe(e, fd, path != NULL);
	}
	ks_output(&lv, &e->hdr, sizeof(*e) + ks_mask(e->name_len, RW_NAME_MASK), pid_tgid);
}

#endif
