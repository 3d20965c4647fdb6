/* SPDX-License-Identifier: GPL-2.0 */
/*
 * files: which syscall changed what, from its arguments and result (files.sys.bpf.h).
 *
 * Creation: open/openat/openat2/creat with O_CREAT report "create" only when the kernel
 * marked the new file FMODE_CREATED (set by the VFS when this open made the file, since
 * 4.19), read from the struct file on the returned fd. An O_TRUNC open of an existing
 * regular file reports "truncate".
 */
#ifndef KSIGHT_FILES_DECODE_BPF_H
#define KSIGHT_FILES_DECODE_BPF_H

#include "syscalls.bpf.h"
#include "files_wr.bpf.h"

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452	/* 6.6; the build host's headers may predate it */
#endif

#define FILES_O_CREAT 0100
#define FILES_O_EXCL 0200
#define FILES_O_TRUNC 01000
#define FILES_O_NOFOLLOW 0400000
#define FILES_FMODE_CREATED 0x100000	/* include/linux/fs.h */
#define FILES_AT_REMOVEDIR 0x200
#define FILES_AT_SYMLINK_NOFOLLOW 0x100
#define FILES_AT_SYMLINK_FOLLOW 0x400

/* Whether an open with @flags follows a symlink in its last component (O_CREAT|O_EXCL
 * never does: an existing name fails with EEXIST). */
static __always_inline __u32 files_open_follows(__u32 flags)
{
	if (flags & FILES_O_NOFOLLOW)
		return 0;
	return (flags & (FILES_O_CREAT | FILES_O_EXCL)) != (FILES_O_CREAT | FILES_O_EXCL);
}

/* What an open with O_CREAT or O_TRUNC did. Returns false when it changed nothing. */
static __always_inline bool files_open_op(struct files_req *r, long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *f;
	__u32 imode;

	if (!(r->flags & (FILES_O_CREAT | FILES_O_TRUNC)))
		return false;
	r->follow = files_open_follows(r->flags);
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
		r->follow = c->id == __NR_linkat && (r->flags & FILES_AT_SYMLINK_FOLLOW);
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
		r->follow = 1;
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
		r->follow = !(r->flags & FILES_AT_SYMLINK_NOFOLLOW);
		return true;
	case __NR_chown:
	case __NR_lchown:
		r->op = FILES_OP_CHOWN;
		r->arg = a[0];
		r->uid = a[1];
		r->gid = a[2];
		r->flags = c->id == __NR_lchown ? FILES_AT_SYMLINK_NOFOLLOW : 0;
		r->follow = c->id == __NR_chown;
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
		r->follow = !(r->flags & FILES_AT_SYMLINK_NOFOLLOW);
		return true;
	case __NR_truncate:
		r->op = FILES_OP_TRUNCATE;
		r->arg = a[0];
		r->size = a[1];
		r->follow = 1;
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

#endif
