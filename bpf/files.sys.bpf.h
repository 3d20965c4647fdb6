/* SPDX-License-Identifier: GPL-2.0 */
/*
 * files: the syscalls that change files, at their return, from the shared dispatcher or
 * from fexit programs on the syscall functions. A record keeps the paths as the process
 * passed them and, for relative ones, the directory they are relative to (the cwd or the
 * directory fd, walked in the kernel at the call's return); user space joins them.
 */
#ifndef KSIGHT_FILES_SYS_BPF_H
#define KSIGHT_FILES_SYS_BPF_H

#include "syscalls.bpf.h"
#include "fdlink.bpf.h"
#include "files_decode.bpf.h"
#include "files_top.bpf.h"
#include "files_wr.bpf.h"

const volatile bool files_failed = false;		/* -x: failed calls too */
const volatile bool files_summary = false;	/* --summary: count I/O only */

/* The directory a relative path of fd @fd is resolved against, or the file on @fd. */
static __always_inline __u32 files_base(char *dst, int fd, bool cwd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *f;

	if (cwd)
		return files_copy_walk(dst, FILES_BASE_MAX, BPF_CORE_READ(task, fs, pwd.dentry),
				       BPF_CORE_READ(task, fs, pwd.mnt));
	f = ks_fd_file(task, fd);
	if (!f)
		return 0;
	return files_copy_path(dst, FILES_BASE_MAX, f);
}

static __always_inline bool files_relative(const char *s, __u32 len)
{
	return len == 1 || (len > 1 && s[0] != '/');	/* "" with AT_EMPTY_PATH: the fd */
}

/*
 * @v, forgotten by the verifier: stored in the map and read back. Each step of
 * files_emit() leaves its offset and decisions there, so that the many ways through a
 * step (string read or not, cwd or fd, ...) meet again in one state before the next step
 * instead of each being verified through all the following walks.
 */
static __always_inline __u32 files_launder(__u32 *slot, __u32 v)
{
	*slot = v;
	return *(volatile __u32 *)slot;
}

/* Build and stream the record of the call decoded in @rb->req. */
static __always_inline void files_emit(struct files_rec_buf *rb, __u32 sys, long ret,
				       __u64 pid_tgid)
{
	struct files_event *e = (struct files_event *)rb->buf;
	struct files_req *r = &rb->req;
	__u32 off = 0, n, need = r->fd_based, need2 = 0;
	long m;

	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.type = FILES_EV_CHANGE;
	e->ret = ret;
	e->size = r->size;
	e->op = r->op;
	e->sys = sys;
	e->mode = r->mode;
	e->uid = r->uid;
	e->gid = r->gid;
	e->flags = r->flags;
	e->fd = r->fd;
	e->fd2 = r->fd2;
	if (r->arg) {
		m = bpf_probe_read_user_str(e->data, FILES_ARG_MAX, (const void *)r->arg);
		if (m > 0) {
			e->len[FILES_S_ARG] = m;
			e->cut |= m >= FILES_ARG_MAX ? FILES_CUT(FILES_S_ARG) : 0;
			off = m;
			need = !r->target && files_relative(e->data, m);
			/* /proc/self/fd/N...: relative to fd N's file, which is walked */
			if (!r->target && !need) {
				e->via[0] = ks_fdlink(e->data, r->follow, &r->fd);
				need = *(volatile __u16 *)&e->via[0] != 0;
			}
		}
	}
	off = files_launder(&r->off, off);
	need = files_launder(&r->need, need);
	if (r->arg2) {
		m = bpf_probe_read_user_str(e->data + ks_mask(off, 2047), FILES_ARG_MAX,
					    (const void *)r->arg2);
		if (m > 0) {
			e->len[FILES_S_ARG2] = m;
			e->cut |= m >= FILES_ARG_MAX ? FILES_CUT(FILES_S_ARG2) : 0;
			need2 = files_relative(e->data + ks_mask(off, 2047), m);
			if (!need2) {
				e->via[1] = ks_fdlink(e->data + ks_mask(off, 2047), false,
						      &r->fd2);
				need2 = *(volatile __u16 *)&e->via[1] != 0;
			}
			off += m;
		}
	}
	off = files_launder(&r->off, off);
	need2 = files_launder(&r->need2, need2);
	if (need) {
		n = files_base(e->data + ks_mask(off, 4095), r->fd,
			       !r->fd_based && r->fd == FILES_AT_FDCWD);
		e->len[FILES_S_BASE] = n & ~KS_PATH_CUT;
		e->cut |= n & KS_PATH_CUT ? FILES_CUT(FILES_S_BASE) : 0;
		off += n & (FILES_BASE_MAX * 2 - 1);
	}
	off = files_launder(&r->off, off);
	if (need2 && need && r->fd2 == r->fd && e->len[FILES_S_BASE]) {
		e->cut |= FILES_BASE2_SAME;
	} else if (need2) {
		n = files_base(e->data + ks_mask(off, 8191), r->fd2, r->fd2 == FILES_AT_FDCWD);
		e->len[FILES_S_BASE2] = n & ~KS_PATH_CUT;
		e->cut |= n & KS_PATH_CUT ? FILES_CUT(FILES_S_BASE2) : 0;
		off += n & (FILES_BASE_MAX * 2 - 1);
	}
	off = files_launder(&r->off, off);
	ks_output_from(&e->hdr, sizeof(*e) + ks_mask(off, 8191), pid_tgid);
}

static __always_inline void files_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					   __u64 pid_tgid)
{
	struct files_rec_buf *rb;
	__u32 id = c->id;

	switch (id) {
	case __NR_write:
	case __NR_pwrite64:
	case __NR_writev:
	case __NR_pwritev:
	case __NR_pwritev2:
		if (files_summary)
			files_top_io(c->args[0], ret, true, pid_tgid);
		else
			files_write(c->args[0], ret, pid_tgid);
		return;
	case __NR_read:
	case __NR_pread64:
	case __NR_readv:
	case __NR_preadv:
	case __NR_preadv2:
		if (files_summary)
			files_top_io(c->args[0], ret, false, pid_tgid);
		return;
	case __NR_close:
		if (ret != -FILES_EBADF)
			files_fd_closed(c->args[0], FILES_CLOSED_CLOSE, pid_tgid);
		return;
	case __NR_dup2:
	case __NR_dup3:
		if (ret >= 0 && c->args[0] != c->args[1])
			files_fd_closed(c->args[1], FILES_CLOSED_DUP, pid_tgid);
		return;
	case __NR_close_range:
		if (ret == 0 && !(c->args[2] & FILES_CLOSE_RANGE_CLOEXEC))
			files_closed_range(c->args[0], c->args[1], pid_tgid);
		return;
	}
	if (files_summary || (ret < 0 && !files_failed))
		return;
	rb = files_rec_get();
	if (!rb)
		return;
	__builtin_memset(&rb->req, 0, sizeof(rb->req));
	rb->req.fd = FILES_AT_FDCWD;
	rb->req.fd2 = FILES_AT_FDCWD;
	rb->req.uid = -1;
	rb->req.gid = -1;
	if (files_decode(c, ret, &rb->req))
		files_emit(rb, id, ret, pid_tgid);
}

#endif
