/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard: security-relevant syscalls at their return, from the shared dispatcher or from
 * fexit programs on the syscall functions. The file calls are decoded by the files
 * module's decoder (files_decode.bpf.h) and paths walked with path.bpf.h; a call goes to
 * user space only when its path hashes to a watched key (guard_keys), so an unwatched
 * open costs a flag test, one walk and a few hash lookups, and a read-only open a look at
 * its last component only.
 */
#ifndef KSIGHT_GUARD_SYS_BPF_H
#define KSIGHT_GUARD_SYS_BPF_H

#include "syscalls.bpf.h"
#include "guard_net.bpf.h"

const volatile __u32 guard_kinds = 0;	/* 1 << enum guard_kind that some rule wants */

#define GUARD_O_ACCMODE 03
#define GUARD_O_WRITE (03 | 01000 | 0100)	/* O_WRONLY|O_RDWR, O_TRUNC, O_CREAT */
#define GUARD_PTRACE_ATTACH 16
#define GUARD_PTRACE_SEIZE 0x4206
#define GUARD_BPF_PROG_LOAD 5

static __always_inline bool guard_wants(__u32 kind)
{
	return guard_kinds & (1U << kind);
}

/* Fill the record's fixed part in this CPU's buffer. Returns it, or NULL. */
static __always_inline struct guard_event *guard_begin(__u32 kind, __u32 sys, long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct files_rec_buf *rb = files_rec_get();
	struct guard_event *e;

	if (!rb)
		return NULL;
	e = (struct guard_event *)rb->buf;
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.type = GUARD_EV_EVENT;
	e->kind = kind;
	e->sys = sys;
	e->ret = ret;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	BPF_CORE_READ_STR_INTO(&e->pcomm, task, real_parent, comm);
	e->euid = BPF_CORE_READ(task, cred, euid.val);
	e->gid = BPF_CORE_READ(task, cred, gid.val);
	e->egid = BPF_CORE_READ(task, cred, egid.val);
	return e;
}

/*
 * guard's reserve: a ring of its own for the records the shared ring could not take (full
 * with other events, or no nesting level free), so a flood cannot hide them. What even
 * the reserve could not take is counted in guard_rb_lost: user space raises an alert and
 * ends with a non-zero status.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);	/* user space sizes it (--reserve-size) */
} guard_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} guard_rb_lost SEC(".maps");

/* guard_send() of a record about owner @o (NULL: the current task, @pid_tgid). */
static __always_inline void guard_send_as(struct guard_event *e, __u64 pid_tgid,
					  const struct ks_owner *o)
{
	__u32 size = sizeof(*e) + (e->len2 ? GUARD_PATH_MAX + e->len2 : e->len), zero = 0;
	struct ks_level lv;
	__u64 *lost;

	size = ((size & 8191) + 7) & ~7U;
	if (!ks_level_enter(&lv, e->hdr.type) &&
	    !(o ? ks_output_as(&lv, &e->hdr, size, o) : ks_output(&lv, &e->hdr, size, pid_tgid)))
		return;
	/* the header as ks_output() fills it; seq 0: outside the shared ring's streams */
	e->hdr.type = GUARD_EV_EVENT;
	e->hdr.size = size;
	e->hdr.version = KS_HDR_VERSION;
	e->hdr.level = 0;
	e->hdr.seq = 0;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts = bpf_ktime_get_ns();
	if (o)
		ks_hdr_owner(&e->hdr, o);
	else
		ks_hdr_task(&e->hdr, pid_tgid);
	if (size > 8191 || !bpf_ringbuf_output(&guard_rb, e, size & 8191, 0))
		return;
	lost = bpf_map_lookup_elem(&guard_rb_lost, &zero);
	if (lost)
		__sync_fetch_and_add(lost, 1);
}

/* Send record @e about the current task (@pid_tgid): the shared ring, else guard's. */
static __always_inline void guard_send(struct guard_event *e, __u64 pid_tgid)
{
	guard_send_as(e, pid_tgid, NULL);
}

/* Another process's memory written through @fd (/proc/PID/mem): a record. */
static __always_inline void guard_memwrite_fd(__u32 sys, int fd, __u32 how, long ret,
					      __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *f = ks_fd_file(task, fd);
	struct guard_event *e;
	int target;

	if (!f || !(target = guard_proc_mem_other((__u64)f)))
		return;
	e = guard_begin(GUARD_K_MEMWRITE, sys, ret);
	if (!e)
		return;
	e->arg[0] = (__u32)target;
	e->arg[1] = how;
	e->arg[2] = how == GUARD_MW_OPEN ? 0 : ret;
	e->len = guard_file_path(e->data, f, &e->flags);
	guard_send(e, pid_tgid);
}

/* dup2/dup3 of a socket onto fd 0 (stdin: where a shell reads its commands; one record
 * per reverse shell, not one per fd; a shell restoring a saved stdout is not one): its
 * family and peer. */
static __always_inline void guard_dup(__u32 sys, int oldfd, int newfd, long ret,
				      __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct guard_event *e;
	__u32 fl;

	if (ret < 0 || newfd != 0 || !guard_wants(GUARD_K_DUP))
		return;
	e = guard_begin(GUARD_K_DUP, sys, ret);
	if (!e)
		return;
	fl = guard_family_flag(guard_sock(ks_fd_file(task, newfd), true));
	if (!fl)
		return;
	e->flags |= fl;
	e->sockfds = 1U << newfd;
	e->arg[0] = oldfd;
	e->arg[1] = newfd;
	guard_send(e, pid_tgid);
}

/* open, openat, openat2, creat */
static __always_inline void guard_open(__u32 sys, int dfd, __u64 arg, __u64 flags, long ret,
				       __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	bool write = flags & GUARD_O_WRITE;
	__u32 kind = write ? GUARD_K_WRITE : GUARD_K_READ;
	__u32 class = write ? GUARD_C_CHANGE : GUARD_C_READ;
	struct guard_event *e;
	struct file *f = NULL;

	if (write && ret >= 0 && guard_wants(GUARD_K_MEMWRITE))
		guard_memwrite_fd(sys, ret, GUARD_MW_OPEN, ret, pid_tgid);
	if (!guard_wants(kind))
		return;
	if (ret >= 0) {
		f = ks_fd_file(task, ret);
		if (!f)
			return;
		if (!write && !guard_leaf_watched(f, class))
			return;
	} else if (!write) {
		return;	/* no file to name: failed reads are not reported */
	}
	e = guard_begin(kind, sys, ret);
	if (!e)
		return;
	e->arg[0] = flags;
	if (f)
		e->len = guard_file_path(e->data, f, &e->flags);
	else
		e->len = guard_user_path(e->data, arg, dfd, &e->flags, GUARD_F_RELATIVE);
	if (!e->len || !guard_match(e->data, class))
		return;
	guard_send(e, pid_tgid);
}

/* unlink, rename, chmod, chown, truncate, link, symlink, mkdir (files_decode's view of the
 * call): either name watched (a hard link or a symlink of a watched file, or one made at a
 * watched name) */
static __always_inline void guard_change(const struct ks_sys_call *c, long ret, __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct files_rec_buf *rb = files_rec_get();
	struct guard_event *e;
	struct files_req r;
	__u32 kind, hit;

	if (!rb)
		return;
	__builtin_memset(&rb->req, 0, sizeof(rb->req));
	rb->req.fd = GUARD_AT_FDCWD;
	rb->req.fd2 = GUARD_AT_FDCWD;
	if (!files_decode(c, ret, &rb->req))
		return;
	r = rb->req;
	switch (r.op) {
	case FILES_OP_UNLINK:
	case FILES_OP_RMDIR:
		kind = GUARD_K_UNLINK;
		break;
	case FILES_OP_RENAME:
		kind = GUARD_K_RENAME;
		break;
	case FILES_OP_CHMOD:
		kind = GUARD_K_CHMOD;
		break;
	case FILES_OP_CHOWN:
		kind = GUARD_K_CHOWN;
		break;
	case FILES_OP_TRUNCATE:
		kind = GUARD_K_TRUNCATE;
		break;
	case FILES_OP_LINK:
		kind = GUARD_K_LINK;
		break;
	case FILES_OP_SYMLINK:
		kind = GUARD_K_SYMLINK;
		break;
	case FILES_OP_MKDIR:
		kind = GUARD_K_MKDIR;
		break;
	default:
		return;
	}
	if (!guard_wants(kind))
		return;
	e = guard_begin(kind, c->id, ret);
	if (!e)
		return;
	e->arg[0] = kind == GUARD_K_CHOWN ? r.uid : kind == GUARD_K_TRUNCATE ? r.size :
		    kind == GUARD_K_LINK ? r.flags : r.mode;
	e->arg[1] = r.gid;
	if (r.fd_based) {
		struct file *f = ks_fd_file(task, r.fd);

		if (!f)
			return;
		e->len = guard_file_path(e->data, f, &e->flags);
	} else if (kind == GUARD_K_SYMLINK) {
		/* the target as written: a relative one is relative to the link's directory,
		 * which user space joins (the kernel matches it only by a last-component key) */
		long m = bpf_probe_read_user_str(e->data, GUARD_PATH_MAX, (const void *)r.arg);

		e->len = m > 0 ? m : 0;
	} else {
		e->len = guard_user_path(e->data, r.arg, r.fd, &e->flags, GUARD_F_RELATIVE);
	}
	if (!e->len)
		return;
	hit = guard_match(e->data, GUARD_C_CHANGE);
	if (kind == GUARD_K_RENAME || kind == GUARD_K_LINK || kind == GUARD_K_SYMLINK) {
		e->len2 = guard_user_path(e->data + GUARD_PATH_MAX, r.arg2, r.fd2, &e->flags,
					  GUARD_F_RELATIVE2);
		if (e->len2 && !hit)
			hit = guard_match(e->data + GUARD_PATH_MAX, GUARD_C_CHANGE);
	}
	if (hit)
		guard_send(e, pid_tgid);
}

/* set/removexattr and their l and f forms on a watched path; the attribute's name rides in
 * the second name's place (user space shows it as `xattr`, never matches it as a path). */
static __always_inline void guard_xattr(const struct ks_sys_call *c, long ret, __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const __u64 *a = c->args;
	bool set = c->id == __NR_setxattr || c->id == __NR_lsetxattr || c->id == __NR_fsetxattr;
	struct guard_event *e;
	long m;

	if (!guard_wants(GUARD_K_XATTR))
		return;
	e = guard_begin(GUARD_K_XATTR, c->id, ret);
	if (!e)
		return;
	e->arg[0] = !set;
	e->arg[1] = set ? a[3] : 0;	/* the value's size */
	e->arg[2] = set ? a[4] : 0;	/* XATTR_CREATE, XATTR_REPLACE */
	if (c->id == __NR_fsetxattr || c->id == __NR_fremovexattr) {
		struct file *f = ks_fd_file(task, a[0]);

		if (!f)
			return;
		e->len = guard_file_path(e->data, f, &e->flags);
	} else {
		e->len = guard_user_path(e->data, a[0], GUARD_AT_FDCWD, &e->flags,
					 GUARD_F_RELATIVE);
	}
	if (!e->len || !guard_match(e->data, GUARD_C_CHANGE))
		return;
	m = bpf_probe_read_user_str(e->data + GUARD_PATH_MAX, 256, (const void *)a[1]);
	e->len2 = m > 0 ? m : 0;
	guard_send(e, pid_tgid);
}

/* A successful execve/execveat, in the new image: its executable, by the file mapped. */
static __always_inline void guard_exec(__u32 sys, long ret, __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct guard_event *e;
	struct file *f;
	__u32 uid;

	if (ret != 0 || !guard_wants(GUARD_K_EXEC))
		return;
	f = BPF_CORE_READ(task, mm, exe_file);
	if (!f)
		return;
	e = guard_begin(GUARD_K_EXEC, sys, ret);
	if (!e)
		return;
	uid = BPF_CORE_READ(task, cred, uid.val);
	if (e->euid != uid)
		e->flags |= GUARD_F_SETUID;
	if (e->egid != e->gid)
		e->flags |= GUARD_F_SETGID;
	if (!BPF_CORE_READ(f, f_inode, i_nlink))
		e->flags |= GUARD_F_NOLINK;
	if (guard_xflags & (GUARD_F_SOCKIO | GUARD_F_UNIXIO))
		e->flags |= guard_stdio_socks() & guard_xflags;
	if (guard_xflags & GUARD_F_NETPARENT)
		e->flags |= guard_listener_up();
	e->len = guard_file_path(e->data, f, &e->flags);
	if (e->flags & GUARD_F_NOLINK) {
		const unsigned char *name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
		char head[8] = {};

		bpf_probe_read_kernel(head, 6, name);
		/* a memfd's dentry is the root of the kernel's internal shmem mount: the walk
		 * finds no name, /proc shows "/memfd:NAME (deleted)" */
		if (head[0] == 'm' && head[1] == 'e' && head[2] == 'm' && head[3] == 'f' &&
		    head[4] == 'd' && head[5] == ':') {
			long m = bpf_probe_read_kernel_str(e->data, 256, name);

			e->flags |= GUARD_F_MEMFD;
			e->len = m > 0 ? m : 0;
		}
	}
	if (!(e->flags & GUARD_F_EXEC_UP) &&
	    !guard_match(e->data, GUARD_C_EXEC))
		return;
	guard_send(e, pid_tgid);
}

/* Calls recorded whenever a rule wants them: rare by nature (ptrace attach, module loads,
 * set*id to 0, capset by non-root, bpf program loads, perf_event_open, mount, unshare,
 * setns). */
static __always_inline void guard_other(const struct ks_sys_call *c, long ret,
					__u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const __u64 *a = c->args;
	__u64 x[3] = {}, caps = 0;
	struct guard_event *e;
	__u32 kind, id = c->id;

	switch (id) {
	case __NR_ptrace:
		if (a[0] != GUARD_PTRACE_ATTACH && a[0] != GUARD_PTRACE_SEIZE)
			return;
		kind = GUARD_K_PTRACE;
		x[0] = a[0];
		x[1] = a[1];
		break;
	case __NR_init_module:
	case __NR_finit_module:
		kind = GUARD_K_MODULE;
		x[0] = id == __NR_finit_module ? a[0] : (__u64)-1;
		break;
	case __NR_setuid:
	case __NR_setgid:
		x[0] = (__u32)a[0];
		x[1] = x[2] = (__u32)-1;
		kind = GUARD_K_SETID;
		break;
	case __NR_setreuid:
	case __NR_setregid:
		x[0] = (__u32)a[0];
		x[1] = (__u32)a[1];
		x[2] = (__u32)-1;
		kind = GUARD_K_SETID;
		break;
	case __NR_setresuid:
	case __NR_setresgid:
		x[0] = (__u32)a[0];
		x[1] = (__u32)a[1];
		x[2] = (__u32)a[2];
		kind = GUARD_K_SETID;
		break;
	case __NR_capset:
		if (ret != 0 || !BPF_CORE_READ(task, cred, uid.val))
			return;
		{
			const struct cred *cred = BPF_CORE_READ(task, cred);

			/* kernel_cap_t: two u32 before 6.3, one u64 since: the same 8 bytes */
			bpf_core_read(&caps, sizeof(caps), &cred->cap_effective);
		}
		if (!caps)
			return;
		kind = GUARD_K_CAPSET;
		x[0] = caps;
		break;
	case __NR_bpf:
		if (a[0] != GUARD_BPF_PROG_LOAD)
			return;
		kind = GUARD_K_BPF;
		bpf_probe_read_user(&x[0], sizeof(__u32), (const void *)a[1]);
		break;
	case __NR_perf_event_open:
		kind = GUARD_K_PERF;
		bpf_probe_read_user(&x[0], sizeof(__u32), (const void *)a[0]);
		x[1] = (__s32)a[1];
		x[2] = (__s32)a[2];
		break;
	case __NR_mount:
		kind = GUARD_K_MOUNT;
		x[0] = a[3];
		break;
	case __NR_unshare:
		kind = GUARD_K_UNSHARE;
		x[0] = a[0];
		break;
	case __NR_setns:
		kind = GUARD_K_SETNS;
		x[0] = a[0];
		x[1] = a[1];
		break;
	case __NR_process_vm_writev:
		if ((__u32)a[0] == pid_tgid >> 32)
			return;
		kind = GUARD_K_MEMWRITE;
		x[0] = (__u32)a[0];
		x[1] = GUARD_MW_VM;
		x[2] = ret > 0 ? ret : 0;
		break;
	default:
		return;
	}
	/* only a request for root; the ids before the call are not known here (a root
	 * process asking again, as make does twice per job, is left to the rules) */
	if (kind == GUARD_K_SETID && x[0] != 0 && x[1] != 0 && x[2] != 0)
		return;
	if (!guard_wants(kind))
		return;
	e = guard_begin(kind, id, ret);
	if (!e)
		return;
	e->arg[0] = x[0];
	e->arg[1] = x[1];
	e->arg[2] = x[2];
	if (kind == GUARD_K_MODULE && id == __NR_finit_module) {
		struct file *f = ks_fd_file(task, a[0]);

		if (f)
			e->len = guard_file_path(e->data, f, &e->flags);
	} else if (kind == GUARD_K_MOUNT) {
		long m = bpf_probe_read_user_str(e->data, 1024, (const void *)a[1]);

		e->len = m > 0 ? m : 0;
	}
	guard_send(e, pid_tgid);
}

static __always_inline void guard_sys_exit(void *ctx, const struct ks_sys_call *c, long ret,
					   __u64 pid_tgid)
{
	const __u64 *a = c->args;

	switch (c->id) {
	case __NR_open:
		guard_open(c->id, GUARD_AT_FDCWD, a[0], a[1], ret, pid_tgid);
		return;
	case __NR_creat:
		guard_open(c->id, GUARD_AT_FDCWD, a[0], 01101, ret, pid_tgid);
		return;
	case __NR_openat:
		guard_open(c->id, a[0], a[1], a[2], ret, pid_tgid);
		return;
	case __NR_openat2: {
		__u64 flags = 0;

		bpf_probe_read_user(&flags, sizeof(flags), (const void *)a[2]);
		guard_open(c->id, a[0], a[1], flags, ret, pid_tgid);
		return;
	}
	case __NR_execve:
	case __NR_execveat:
		guard_exec(c->id, ret, pid_tgid);
		return;
	case __NR_dup2:
	case __NR_dup3:
		guard_dup(c->id, a[0], a[1], ret, pid_tgid);
		return;
	case __NR_listen:
		guard_listen(a[0], ret, pid_tgid);
		return;
	case __NR_pwrite64:
	case __NR_pwritev:
	case __NR_pwritev2:
		if (ret >= 0 && guard_wants(GUARD_K_MEMWRITE))
			guard_memwrite_fd(c->id, a[0], GUARD_MW_PWRITE, ret, pid_tgid);
		return;
	case __NR_unlink:
	case __NR_unlinkat:
	case __NR_rmdir:
	case __NR_rename:
	case __NR_renameat:
	case __NR_renameat2:
	case __NR_chmod:
	case __NR_fchmod:
	case __NR_fchmodat:
	case __NR_fchmodat2:
	case __NR_chown:
	case __NR_fchown:
	case __NR_lchown:
	case __NR_fchownat:
	case __NR_truncate:
	case __NR_ftruncate:
	case __NR_link:
	case __NR_linkat:
	case __NR_symlink:
	case __NR_symlinkat:
	case __NR_mkdir:
	case __NR_mkdirat:
		guard_change(c, ret, pid_tgid);
		return;
	case __NR_setxattr:
	case __NR_lsetxattr:
	case __NR_fsetxattr:
	case __NR_removexattr:
	case __NR_lremovexattr:
	case __NR_fremovexattr:
		guard_xattr(c, ret, pid_tgid);
		return;
	}
	guard_other(c, ret, pid_tgid);
}

#endif
