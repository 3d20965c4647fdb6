/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard's enforcement (--enforce): BPF LSM programs that deny (-EPERM) the acts deny rules
 * name, each denial also a record (GUARD_F_DENIED) user space turns into a "blocked"
 * alert. Loaded and attached only with --enforce; the links belong to ksight's fds, so
 * the kernel removes them when ksight exits or is killed.
 */
#ifndef KSIGHT_GUARD_LSM_BPF_H
#define KSIGHT_GUARD_LSM_BPF_H

#include "guard.sys.bpf.h"
#include "guard_lsm.h"

#define GUARD_EPERM 1
#define GUARD_FMODE_WRITE 0x2

/*
 * Whether the path at byte @off of this CPU's buffer is denied for act @dk: its whole is
 * an exact key, one of its directories an "under" key or its last component a "leaf" key
 * (guard_lsm.h). Unlike guard_match_at(), a path longer than GUARD_MATCH_LEN is judged by
 * its first GUARD_MATCH_LEN bytes (its directories there): never denied by default.
 * Global: verified once.
 */
__noinline int guard_deny_at(__u32 off, __u32 dk)
{
	struct files_rec_buf *rb = files_rec_get();
	__u64 h = GUARD_FNV_PATH, leaf = GUARD_FNV_LEAF;
	__u32 i, under = GUARD_D(GUARD_DF_UNDER, dk & 7);

	if (!rb)
		return 0;
	for (i = 0; i < GUARD_MATCH_LEN; i++) {
		__u8 ch = rb->buf[(off + i) & (sizeof(rb->buf) - 1)];
		__u64 next = (leaf ^ ch) * GUARD_FNV_PRIME;
		__u64 sep = (((__u64)(ch ^ '/')) - 1) >> 63;

		if (ch == '/' && i > 0 && guard_key(h, under))
			return 1;
		if (ch == 0)
			return guard_key(h, GUARD_D(GUARD_DF_EXACT, dk & 7)) ||
			       guard_key(leaf, GUARD_D(GUARD_DF_LEAF, dk & 7));
		leaf = next ^ ((next ^ GUARD_FNV_LEAF) & -sep);
		h = (h ^ ch) * GUARD_FNV_PRIME;
	}
	return 0;
}

/* A pointer as a plain number: a hook's own argument (a typed kernel pointer to the
 * verifier) cannot be passed to a global function as a number ("Caller passes invalid
 * args"); one read through the stack makes it one. */
static __always_inline __u64 guard_ptr_val(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

const volatile __u32 guard_deny_kinds = 0;	/* 1 << enum guard_dk some deny rule names */

/*
 * Act @dk (event @kind) by hook @hook on (@d, @mnt), and for a rename the new name (@d2,
 * @mnt2): -EPERM and a record when a deny rule names it, else 0.
 */
static __always_inline int guard_deny(__u32 dk, __u32 kind, __u32 hook, struct dentry *d,
				      struct vfsmount *mnt, struct dentry *d2,
				      struct vfsmount *mnt2, __u64 arg0)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct guard_event *e;
	__u32 n, deny;

	if (!(guard_deny_kinds & (1U << dk)) || !ks_want(pid_tgid))
		return 0;
	e = guard_begin(kind, hook, -GUARD_EPERM);
	if (!e)
		return 0;
	n = guard_copy_walk(guard_off(e->data), GUARD_PATH_MAX, guard_ptr_val(d),
			    guard_ptr_val(mnt));
	if (n & KS_PATH_CUT)
		e->flags |= GUARD_F_CUT;
	e->len = n & (GUARD_PATH_MAX * 2 - 1);
	deny = e->len && guard_deny_at(guard_off(e->data), dk);
	if (d2) {
		n = guard_copy_walk(guard_off(e->data + GUARD_PATH_MAX), GUARD_PATH_MAX,
				    guard_ptr_val(d2), guard_ptr_val(mnt2));
		e->len2 = n & (GUARD_PATH_MAX * 2 - 1);
		if (e->len2 && !deny)
			deny = guard_deny_at(guard_off(e->data + GUARD_PATH_MAX), dk);
	}
	if (!deny)
		return 0;
	e->flags |= GUARD_F_DENIED;
	e->arg[0] = arg0;
	guard_send(e, pid_tgid);
	return -GUARD_EPERM;
}

SEC("lsm/file_open")
int BPF_PROG(guard__lsm_open, struct file *file)
{
	if (!(BPF_CORE_READ(file, f_mode) & GUARD_FMODE_WRITE))
		return 0;
	return guard_deny(GUARD_DK_WRITE, GUARD_K_WRITE, GUARD_H_FILE_OPEN,
			  BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt),
			  NULL, NULL, BPF_CORE_READ(file, f_flags));
}

/* a file created by open(O_CREAT) (may_o_create), mknod */
SEC("lsm/path_mknod")
int BPF_PROG(guard__lsm_mknod, const struct path *dir, struct dentry *dentry, umode_t mode)
{
	return guard_deny(GUARD_DK_WRITE, GUARD_K_WRITE, GUARD_H_PATH_MKNOD, dentry,
			  BPF_CORE_READ(dir, mnt), NULL, NULL, mode);
}

SEC("lsm/path_truncate")
int BPF_PROG(guard__lsm_truncate, const struct path *path)
{
	return guard_deny(GUARD_DK_TRUNCATE, GUARD_K_TRUNCATE, GUARD_H_PATH_TRUNCATE,
			  BPF_CORE_READ(path, dentry), BPF_CORE_READ(path, mnt), NULL, NULL, 0);
}

SEC("lsm/path_unlink")
int BPF_PROG(guard__lsm_unlink, const struct path *dir, struct dentry *dentry)
{
	return guard_deny(GUARD_DK_UNLINK, GUARD_K_UNLINK, GUARD_H_PATH_UNLINK, dentry,
			  BPF_CORE_READ(dir, mnt), NULL, NULL, 0);
}

SEC("lsm/path_rmdir")
int BPF_PROG(guard__lsm_rmdir, const struct path *dir, struct dentry *dentry)
{
	return guard_deny(GUARD_DK_UNLINK, GUARD_K_UNLINK, GUARD_H_PATH_RMDIR, dentry,
			  BPF_CORE_READ(dir, mnt), NULL, NULL, 0);
}

SEC("lsm/path_rename")
int BPF_PROG(guard__lsm_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry)
{
	return guard_deny(GUARD_DK_RENAME, GUARD_K_RENAME, GUARD_H_PATH_RENAME, old_dentry,
			  BPF_CORE_READ(old_dir, mnt), new_dentry, BPF_CORE_READ(new_dir, mnt),
			  0);
}

SEC("lsm/path_chmod")
int BPF_PROG(guard__lsm_chmod, const struct path *path, umode_t mode)
{
	return guard_deny(GUARD_DK_CHMOD, GUARD_K_CHMOD, GUARD_H_PATH_CHMOD,
			  BPF_CORE_READ(path, dentry), BPF_CORE_READ(path, mnt), NULL, NULL, mode);
}

SEC("lsm/path_chown")
int BPF_PROG(guard__lsm_chown, const struct path *path)
{
	return guard_deny(GUARD_DK_CHOWN, GUARD_K_CHOWN, GUARD_H_PATH_CHOWN,
			  BPF_CORE_READ(path, dentry), BPF_CORE_READ(path, mnt), NULL, NULL, 0);
}

/* once per execve, the file as named (a script, not its interpreter) */
SEC("lsm/bprm_creds_for_exec")
int BPF_PROG(guard__lsm_exec, struct linux_binprm *bprm)
{
	struct file *f = BPF_CORE_READ(bprm, file);

	return guard_deny(GUARD_DK_EXEC, GUARD_K_EXEC, GUARD_H_BPRM_CREDS,
			  BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt), NULL,
			  NULL, 0);
}

#endif
