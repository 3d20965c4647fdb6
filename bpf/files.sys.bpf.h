/* SPDX-License-Identifier: GPL-2.0 */
/*
 * files: the syscalls that change files, at their return, from the shared dispatcher or
 * from fexit programs on the syscall functions. A record keeps the paths as the process
 * passed them and, for relative ones, the directory they are relative to (the cwd or the
 * directory fd, walked in the kernel at the call's return); user space joins them.
 *
 * Creation: open/openat/openat2/creat with O_CREAT report "create" only when the kernel
 * marked the new file FMODE_CREATED (set by the VFS when this open made the file, since
 * 4.19), read from the struct file on the returned fd. An O_TRUNC open of an existing
 * regular file reports "truncate".
 */
#ifndef KSIGHT_FILES_SYS_BPF_H
#define KSIGHT_FILES_SYS_BPF_H

#include "syscalls.bpf.h"
#include "files_wr.bpf.h"

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452	/* 6.6; the build host's headers may predate it */
#endif

extern const volatile bool files_failed __weak;		/* -x: failed calls too */
extern const volatile bool files_summary __weak;	/* --summary: count I/O only */

#define FILES_O_CREAT 0100
#define FILES_O_TRUNC 01000
#define FILES_FMODE_CREATED 0x100000	/* include/linux/fs.h */
#define FILES_AT_REMOVEDIR 0x200
#define FILES_AT_SYMLINK_NOFOLLOW 0x100

/* What an open with O_CREAT or O_TRUNC did. Returns false when it changed nothing. */
static __always_inline bool files_open_op(struct files_req *r, long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *f;
	__u32 imode;

	if (!(r->flags & (FILES_O_CREAT | FILES_O_TRUNC)))
		return false;
	if (ret < 0) {
		r->op = (r->flags & FILES_O_CREAT) ? FILES_OP_CREATE : FILES_OP_TRUNCATE;
		return true;
	}
	f = ks_fd_file(task, ret);
	if (!f)
		return false;
	imode = files_inode_mode(f);
	if (BPF_CORE_READ(f, f_mode) & FILES_FMODE_CREATED) {
		r->op = FILES_OP_CREATE;
		r->mode = imode;	/* the mode it got: the umask applied */
		return true;
	}
	if ((r->flags & FILES_O_TRUNC) && (imode & FILES_S_IFMT) == FILES_S_IFREG) {
		r->op = FILES_OP_TRUNCATE;
		return true;
	}
	return false;
}

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
	ks_output(&e->hdr, sizeof(*e) + ks_mask(off, 8191), pid_tgid);
}

/* Decode the calls that change a name or attributes into @r. Returns false for others. */
static __always_inline bool files_decode(const struct ks_sys_call *c, long ret,
					 struct files_req *r)
{
	const __u64 *a = c->args;

	switch (c->id) {
	case __NR_creat:
		r->arg = a[0];
		r->flags = 01101;	/* O_CREAT | O_WRONLY | O_TRUNC */
		return files_open_op(r, ret);
	case __NR_open:
		r->arg = a[0];
		r->flags = a[1];
		return files_open_op(r, ret);
	case __NR_openat:
		r->fd = a[0];
		r->arg = a[1];
		r->flags = a[2];
		return files_open_op(r, ret);
	case __NR_openat2: {
		struct open_how how = {};

		r->fd = a[0];
		r->arg = a[1];
		bpf_probe_read_user(&how, sizeof(how), (const void *)a[2]);
		r->flags = how.flags;
		return files_open_op(r, ret);
	}
	case __NR_mknod:
		r->op = FILES_OP_CREATE;
		r->arg = a[0];
		r->mode = a[1];
		return true;
	case __NR_mknodat:
		r->op = FILES_OP_CREATE;
		r->fd = a[0];
		r->arg = a[1];
		r->mode = a[2];
		return true;
	case __NR_unlink:
		r->op = FILES_OP_UNLINK;
		r->arg = a[0];
		return true;
	case __NR_unlinkat:
		r->fd = a[0];
		r->arg = a[1];
		r->flags = a[2];
		r->op = (r->flags & FILES_AT_REMOVEDIR) ? FILES_OP_RMDIR : FILES_OP_UNLINK;
		return true;
	case __NR_rmdir:
		r->op = FILES_OP_RMDIR;
		r->arg = a[0];
		return true;
	case __NR_mkdir:
		r->op = FILES_OP_MKDIR;
		r->arg = a[0];
		r->mode = a[1];
		return true;
	case __NR_mkdirat:
		r->op = FILES_OP_MKDIR;
		r->fd = a[0];
		r->arg = a[1];
		r->mode = a[2];
		return true;
	case __NR_rename:
	case __NR_link:
		r->op = c->id == __NR_rename ? FILES_OP_RENAME : FILES_OP_LINK;
		r->arg = a[0];
		r->arg2 = a[1];
		return true;
	case __NR_renameat:
	case __NR_renameat2:
	case __NR_linkat:
		r->op = c->id == __NR_linkat ? FILES_OP_LINK : FILES_OP_RENAME;
		r->fd = a[0];
		r->arg = a[1];
		r->fd2 = a[2];
		r->arg2 = a[3];
		r->flags = c->id == __NR_renameat ? 0 : a[4];
		return true;
	case __NR_symlink:
		r->op = FILES_OP_SYMLINK;
		r->target = 1;
		r->arg = a[0];
		r->arg2 = a[1];
		return true;
	case __NR_symlinkat:
		r->op = FILES_OP_SYMLINK;
		r->target = 1;
		r->arg = a[0];
		r->fd2 = a[1];
		r->arg2 = a[2];
		return true;
	case __NR_chmod:
		r->op = FILES_OP_CHMOD;
		r->arg = a[0];
		r->mode = a[1];
		return true;
	case __NR_fchmod:
		r->op = FILES_OP_CHMOD;
		r->fd_based = 1;
		r->fd = a[0];
		r->mode = a[1];
		return true;
	case __NR_fchmodat:
	case __NR_fchmodat2:
		r->op = FILES_OP_CHMOD;
		r->fd = a[0];
		r->arg = a[1];
		r->mode = a[2];
		r->flags = c->id == __NR_fchmodat2 ? a[3] : 0;
		return true;
	case __NR_chown:
	case __NR_lchown:
		r->op = FILES_OP_CHOWN;
		r->arg = a[0];
		r->uid = a[1];
		r->gid = a[2];
		r->flags = c->id == __NR_lchown ? FILES_AT_SYMLINK_NOFOLLOW : 0;
		return true;
	case __NR_fchown:
		r->op = FILES_OP_CHOWN;
		r->fd_based = 1;
		r->fd = a[0];
		r->uid = a[1];
		r->gid = a[2];
		return true;
	case __NR_fchownat:
		r->op = FILES_OP_CHOWN;
		r->fd = a[0];
		r->arg = a[1];
		r->uid = a[2];
		r->gid = a[3];
		r->flags = a[4];
		return true;
	case __NR_truncate:
		r->op = FILES_OP_TRUNCATE;
		r->arg = a[0];
		r->size = a[1];
		return true;
	case __NR_ftruncate:
		r->op = FILES_OP_TRUNCATE;
		r->fd_based = 1;
		r->fd = a[0];
		r->size = a[1];
		return true;
	}
	return false;
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
