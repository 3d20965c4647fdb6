/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard: io_uring, which no syscall rule sees (one io_uring_enter submits many requests,
 * an SQPOLL thread submits with none). From the io_uring tracepoints (uring_tp.bpf.h):
 *  - the first request of each process image (tgid and mm: an exec starts a new one) is a
 *    GUARD_K_URING record, exactly once (one insert into guard_uring_procs);
 *  - WRITE, WRITEV, WRITE_FIXED, WRITEV_FIXED of a watched file are GUARD_K_WRITE records,
 *    OPENAT/OPENAT2 GUARD_K_WRITE or GUARD_K_READ by their open flags, as the syscalls'
 *    opens are, flagged GUARD_F_URING with the opcode in `sys`. 6.1+: at the completion,
 *    where the request has its file and result (the open's fd); 5.10's completion has no
 *    request: writes are taken at the submission (the file is set by then, the result is
 *    not known: GUARD_F_NORES), opens are not seen (the completion has no request to
 *    name their fd by).
 *  - RENAMEAT, UNLINKAT, MKDIRAT, SYMLINKAT, LINKAT are GUARD_K_RENAME, _UNLINK, _MKDIR,
 *    _SYMLINK, _LINK records (the last three 5.15+: not in 5.10's), taken at the
 *    submission, where the request is prepared (every kernel, 5.10's 5.15 io_uring too):
 *    its names are the kernel's copies (struct filename), joined with the dfd's or cwd's
 *    walked path as the syscalls' are; the result is not known (GUARD_F_NORES): the
 *    names are freed by the completion. FTRUNCATE (6.9+) is a GUARD_K_TRUNCATE record at
 *    the completion, by the request's file, as writes are; with IOSQE_CQE_SKIP_SUCCESS,
 *    whose success traces no completion, at the submission, by its fd (not a fixed one).
 *  - SETXATTR and FSETXATTR (5.19+) are GUARD_K_XATTR records as the syscalls' are, taken
 *    at the submission, prepared: the attribute's name is the kernel's copy (freed before
 *    the completion), SETXATTR's path its struct filename (relative: to the cwd, as the
 *    kernel looks it up), FSETXATTR's file its fd's (not a fixed one: no file yet); the
 *    result is not known (GUARD_F_NORES).
 * A successful IORING_OP_LISTEN (6.11+) marks a network service as listen(2) does (the
 * shell-from-service rule). A completion in an io-wq worker is named by the process's comm
 * (the worker's is "iou-wrk-PID"; the tid stays the worker's).
 */
#ifndef KSIGHT_GUARD_URING_BPF_H
#define KSIGHT_GUARD_URING_BPF_H

#include "guard.sys.bpf.h"
#include "uring_tp.bpf.h"

const volatile bool guard_uring_cqe_arg = false;	/* io_uring_complete(ctx, req, cqe) */
const volatile bool guard_uring_noreq = false;	/* io_uring_complete(ctx, user_data, ...) */

/* The process images (tgid, mm) that have used io_uring: inserted once (BPF_NOEXIST, which
 * one thread alone wins: 5.10 has no atomic compare-and-swap); user space deletes a
 * process's keys at its exit and an image's at the next image's record (arg[1]: mm). */
struct guard_uring_key {
	__u32 tgid;
	__u32 __pad;
	__u64 mm;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct guard_uring_key);
	__type(value, __u8);
} guard_uring_procs SEC(".maps");

/* Files whose writes were found unwatched: (file, dentry), so that a file written many
 * times is walked once, not at every request. The same file at the same address names the
 * same dentry: the same path, unless renamed since (a rename the rename rules see; the
 * syscalls' writes are judged at the open alone). */
struct guard_uring_fkey {
	__u64 file;
	__u64 dentry;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct guard_uring_fkey);
	__type(value, __u8);
} guard_uring_clean SEC(".maps");

#define GUARD_UOP_WRITEV 2
#define GUARD_UOP_WRITE_FIXED 5
#define GUARD_UOP_OPENAT 18
#define GUARD_UOP_WRITE 23
#define GUARD_UOP_OPENAT2 28
#define GUARD_UOP_RENAMEAT 35
#define GUARD_UOP_UNLINKAT 36
#define GUARD_UOP_MKDIRAT 37	/* 5.15+ (not in Debian 5.10's io_uring) */
#define GUARD_UOP_SYMLINKAT 38
#define GUARD_UOP_LINKAT 39
#define GUARD_UOP_FSETXATTR 41	/* 5.19+ */
#define GUARD_UOP_SETXATTR 42
#define GUARD_UOP_FTRUNCATE 55
#define GUARD_UOP_LISTEN 57
#define GUARD_UOP_WRITEV_FIXED 61

/* 6.0+'s per-opcode data of an open, at the start of the request (req->cmd) */
struct io_open___ks {
	struct file *file;
	int dfd;
	__u32 file_slot;
	struct filename *filename;
	struct open_how how;
} __attribute__((preserve_access_index));

#define GUARD_REQ_F_FAIL (1U << 8)	/* REQ_F_FAIL_BIT 8 on 5.10 (5.15's), 6.1, 6.12, 6.18 */

#define GUARD_PF_IO_WORKER 0x10	/* PF_IO_WORKER (5.12+): an io-wq worker or SQPOLL thread */

/* Send @e; from an io_uring worker thread ("iou-wrk-PID", "iou-sqp-PID": the process's
 * threads since 5.12), named by its process's comm, as the submitter would be. */
static __always_inline void guard_uring_send(struct guard_event *e, __u64 pid_tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct ks_owner o = {};

	if (!(BPF_CORE_READ(task, flags) & GUARD_PF_IO_WORKER)) {
		guard_send(e, pid_tgid);
		return;
	}
	o.pid = pid_tgid >> 32;
	o.tid = (__u32)pid_tgid;
	o.uid = (__u32)bpf_get_current_uid_gid();
	o.cgroup = bpf_get_current_cgroup_id();
	BPF_CORE_READ_STR_INTO(&o.comm, task, group_leader, comm);
	guard_send_as(e, pid_tgid, &o);
}

/* A request (@req, or on 5.10 its opcode @op510) from this process: a record if it is its
 * image's first. The opcode is read only then. */
static __always_inline void guard_uring_user(struct io_kiocb *req, __u8 op510)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct guard_uring_key k = { .tgid = pid_tgid >> 32 };
	struct guard_event *e;
	struct file *f;
	__u8 one = 1, opcode;

	if (!guard_wants(GUARD_K_URING) || !ks_want(pid_tgid))
		return;
	k.mm = (__u64)BPF_CORE_READ(task, mm);
	/* the common case, a lookup; then the insert only one thread wins */
	if (bpf_map_lookup_elem(&guard_uring_procs, &k) ||
	    bpf_map_update_elem(&guard_uring_procs, &k, &one, BPF_NOEXIST))
		return;
	opcode = req ? BPF_CORE_READ(req, opcode) : op510;
	e = guard_begin(GUARD_K_URING, opcode, 0);
	if (!e)
		return;
	e->flags |= GUARD_F_URING;
	e->arg[0] = opcode;
	e->arg[1] = k.mm;	/* the key, for user space to delete */
	f = BPF_CORE_READ(task, mm, exe_file);
	if (f)
		e->len = guard_file_path(e->data, f, &e->flags);
	guard_uring_send(e, pid_tgid);
}

static __always_inline bool guard_uring_writes(__u8 op)
{
	return op == GUARD_UOP_WRITE || op == GUARD_UOP_WRITEV || op == GUARD_UOP_WRITE_FIXED ||
	       op == GUARD_UOP_WRITEV_FIXED;
}

/* A write request (@kind GUARD_K_WRITE) or an FTRUNCATE (GUARD_K_TRUNCATE, @arg0 the
 * length) on file @f (@res: its result; @flags GUARD_F_NORES when unknown). */
static __always_inline void guard_uring_write(struct file *f, __u8 op, long res, __u32 flags,
					      __u32 kind, __u64 arg0)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct guard_uring_fkey k = { .file = (__u64)f };
	struct guard_event *e;
	__u8 one = 1;

	if (!f || !guard_wants(kind) || !ks_want(pid_tgid))
		return;
	k.dentry = (__u64)BPF_CORE_READ(f, f_path.dentry);
	if (bpf_map_lookup_elem(&guard_uring_clean, &k))
		return;
	e = guard_begin(kind, op, res);
	if (!e)
		return;
	e->flags |= GUARD_F_URING | flags;
	e->arg[0] = kind == GUARD_K_WRITE ? BPF_CORE_READ(f, f_flags) : arg0;
	e->len = guard_file_path(e->data, f, &e->flags);
	if (!e->len || !guard_match(e->data, GUARD_C_CHANGE)) {
		bpf_map_update_elem(&guard_uring_clean, &k, &one, BPF_ANY);
		return;
	}
	guard_uring_send(e, pid_tgid);
}

/* 6.0+: an open request that completed with @res (its fd, unless into a fixed slot). */
static __always_inline void guard_uring_open(struct io_kiocb *req, __u8 op, long res)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct io_open___ks *o = (void *)req;
	__u64 pid_tgid = bpf_get_current_pid_tgid(), flags;
	bool write;
	__u32 kind, class;
	struct guard_event *e;
	struct file *f;

	if (!bpf_core_type_exists(struct io_open___ks) || res < 0 || !ks_want(pid_tgid))
		return;
	if (BPF_CORE_READ(o, file_slot))
		return;	/* into the fixed-file table: no fd to name it by */
	flags = BPF_CORE_READ(o, how.flags);
	write = flags & GUARD_O_WRITE;
	kind = write ? GUARD_K_WRITE : GUARD_K_READ;
	class = write ? GUARD_C_CHANGE : GUARD_C_READ;
	if (!guard_wants(kind))
		return;
	f = ks_fd_file(task, res);
	if (!f || (!write && !guard_leaf_watched(f, class)))
		return;
	e = guard_begin(kind, op, res);
	if (!e)
		return;
	e->flags |= GUARD_F_URING;
	e->arg[0] = flags;
	e->len = guard_file_path(e->data, f, &e->flags);
	if (!e->len || !guard_match(e->data, class))
		return;
	guard_uring_send(e, pid_tgid);
}

/* 6.11+: a successful IORING_OP_LISTEN on an inet socket: the process is a network
 * service, as its listen(2) would have made it (guard_listen). */
static __always_inline void guard_uring_listen(struct io_kiocb *req)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, one = 1;
	__u16 family;

	if (!(guard_xflags & GUARD_F_NETPARENT))
		return;
	family = guard_sock(ks_uring_file(req), false);
	if (family == GUARD_AF_INET || family == GUARD_AF_INET6)
		bpf_map_update_elem(&guard_listeners, &tgid, &one, BPF_ANY);
}

/* 6.9+'s FTRUNCATE data, at the request's start */
struct io_ftrunc___ks {
	struct file *file;
	loff_t len;
} __attribute__((preserve_access_index));

/* The length an FTRUNCATE request @req asked for (0 where the kernel has none). */
static __always_inline __u64 guard_uring_trunc_len(struct io_kiocb *req)
{
	struct io_ftrunc___ks *t = (void *)req;

	return bpf_core_type_exists(struct io_ftrunc___ks) ? BPF_CORE_READ(t, len) : 0;
}

/* The kind of a request named by its path(s) (0: none of them). */
static __always_inline __u32 guard_uring_kind(__u8 op)
{
	switch (op) {
	case GUARD_UOP_RENAMEAT:
		return GUARD_K_RENAME;
	case GUARD_UOP_UNLINKAT:
		return GUARD_K_UNLINK;
	case GUARD_UOP_MKDIRAT:
		return GUARD_K_MKDIR;
	case GUARD_UOP_SYMLINKAT:
		return GUARD_K_SYMLINK;
	case GUARD_UOP_LINKAT:
		return GUARD_K_LINK;
	}
	return 0;
}

/*
 * A RENAMEAT, UNLINKAT, MKDIRAT, SYMLINKAT or LINKAT request @req at its submission,
 * prepared (@rflags: the low bits of req->flags): its names, the kernel's copies, joined
 * with the dfd's or the cwd's path as the syscalls' relative names are (a symlink's target
 * as written), either name watched; the result is not known yet. arg0: the request's
 * flags (RENAME_*, AT_REMOVEDIR, AT_SYMLINK_FOLLOW) or the mode (MKDIRAT).
 */
static __always_inline void guard_uring_names(struct io_kiocb *req, __u8 op, __u32 rflags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), name = 0, name2 = 0;
	__u32 kind = guard_uring_kind(op);
	struct io_rename *r = (void *)req;
	struct io_unlink *u = (void *)req;
	struct io_link *l = (void *)req;
	struct io_mkdir *md = (void *)req;
	struct guard_event *e;
	int dfd = 0, dfd2 = 0;
	__u32 hit;

	/* a request whose preparation failed (5.10 still traces it) holds no names */
	if (!kind || !bpf_core_type_exists(struct io_rename) || (rflags & GUARD_REQ_F_FAIL) ||
	    !guard_wants(kind) || !ks_want(pid_tgid))
		return;
	e = guard_begin(kind, op, 0);
	if (!e)
		return;
	e->flags |= GUARD_F_URING | GUARD_F_NORES;
	if (kind == GUARD_K_RENAME) {
		name = (__u64)BPF_CORE_READ(r, oldpath, name);
		dfd = BPF_CORE_READ(r, old_dfd);
		name2 = (__u64)BPF_CORE_READ(r, newpath, name);
		dfd2 = BPF_CORE_READ(r, new_dfd);
		e->arg[0] = BPF_CORE_READ(r, flags);
	} else if (kind == GUARD_K_UNLINK) {
		name = (__u64)BPF_CORE_READ(u, filename, name);
		dfd = BPF_CORE_READ(u, dfd);
		e->arg[0] = BPF_CORE_READ(u, flags);
	} else if (kind == GUARD_K_MKDIR) {
		if (!bpf_core_type_exists(struct io_mkdir))
			return;
		name = (__u64)BPF_CORE_READ(md, filename, name);
		dfd = BPF_CORE_READ(md, dfd);
		e->arg[0] = BPF_CORE_READ(md, mode);
	} else {	/* LINKAT, SYMLINKAT: one struct */
		if (!bpf_core_type_exists(struct io_link))
			return;
		name = (__u64)BPF_CORE_READ(l, oldpath, name);
		dfd = BPF_CORE_READ(l, old_dfd);
		name2 = (__u64)BPF_CORE_READ(l, newpath, name);
		dfd2 = BPF_CORE_READ(l, new_dfd);
		e->arg[0] = kind == GUARD_K_LINK ? BPF_CORE_READ(l, flags) : 0;
	}
	if (kind == GUARD_K_SYMLINK) {
		/* the target as written (a relative one: user space joins it) */
		long m = bpf_probe_read_kernel_str(e->data, GUARD_PATH_MAX, (const void *)name);

		e->len = m > 0 ? m : 0;
	} else {
		e->len = guard_any_path(e->data, name, dfd, &e->flags, GUARD_F_RELATIVE, 1);
	}
	if (!e->len)
		return;
	hit = guard_match(e->data, GUARD_C_CHANGE);
	if (name2) {
		e->len2 = guard_any_path(e->data + GUARD_PATH_MAX, name2, dfd2, &e->flags,
					 GUARD_F_RELATIVE2, 1);
		if (e->len2 && !hit)
			hit = guard_match(e->data + GUARD_PATH_MAX, GUARD_C_CHANGE);
	}
	if (hit)
		guard_uring_send(e, pid_tgid);
}

/* 5.19+'s SETXATTR/FSETXATTR data at the request's start (the context is struct xattr_ctx
 * until 6.12, kernel_xattr_ctx since 6.13: the same fields) */
struct guard_xattr_ctx___ks {
	void *kvalue;
	size_t size;
	void *kname;		/* struct xattr_name: the name at its start */
	unsigned int flags;
} __attribute__((preserve_access_index));

struct io_xattr___ks {
	struct file *file;
	struct guard_xattr_ctx___ks ctx;
	struct filename *filename;
} __attribute__((preserve_access_index));

/*
 * A SETXATTR or FSETXATTR request @req at its submission, prepared (@rflags: the low bits
 * of req->flags): the file (SETXATTR: its name joined with the cwd; FSETXATTR: its fd's,
 * none for a fixed file) watched. arg: 0 (set), the value's size, XATTR_CREATE/REPLACE;
 * the attribute's name in path2's place, as the syscalls'.
 */
static __always_inline void guard_uring_xattr(struct io_kiocb *req, __u8 op, __u32 rflags)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct io_xattr___ks *x = (void *)req;
	struct guard_event *e;
	struct file *f;
	long m;

	if (!bpf_core_type_exists(struct io_xattr___ks) || (rflags & GUARD_REQ_F_FAIL) ||
	    !guard_wants(GUARD_K_XATTR) || !ks_want(pid_tgid))
		return;
	if (op == GUARD_UOP_FSETXATTR && (rflags & KS_UREQ_F_FIXED_FILE))
		return;	/* its file is the ring's, looked up at issue */
	e = guard_begin(GUARD_K_XATTR, op, 0);
	if (!e)
		return;
	e->flags |= GUARD_F_URING | GUARD_F_NORES;
	e->arg[1] = BPF_CORE_READ(x, ctx.size);
	e->arg[2] = BPF_CORE_READ(x, ctx.flags);
	if (op == GUARD_UOP_FSETXATTR) {
		f = ks_fd_file(task, BPF_CORE_READ(req, cqe.fd));
		if (!f)
			return;
		e->len = guard_file_path(e->data, f, &e->flags);
	} else {
		e->len = guard_any_path(e->data, (__u64)BPF_CORE_READ(x, filename, name),
					GUARD_AT_FDCWD, &e->flags, GUARD_F_RELATIVE, 1);
	}
	if (!e->len || !guard_match(e->data, GUARD_C_CHANGE))
		return;
	m = bpf_probe_read_kernel_str(e->data + GUARD_PATH_MAX, 256, BPF_CORE_READ(x, ctx.kname));
	e->len2 = m > 0 ? m : 0;
	guard_uring_send(e, pid_tgid);
}

static __always_inline bool guard_uring_named(__u8 op)
{
	return op >= GUARD_UOP_RENAMEAT && op <= GUARD_UOP_LINKAT;
}

/* 6.1+: a request, at its submission; @btf: a tp_btf program, whose @req is a pointer the
 * verifier knows (read directly: no helper call on every request), else a raw_tp one. */
static __always_inline void guard_uring_sub_req(struct io_kiocb *req, bool btf)
{
	__u32 rflags = 0;
	__u8 op;

	guard_uring_user(req, 0);
	op = btf ? req->opcode : BPF_CORE_READ(req, opcode);
	if (!guard_uring_named(op) && op != GUARD_UOP_FTRUNCATE && op != GUARD_UOP_SETXATTR &&
	    op != GUARD_UOP_FSETXATTR)
		return;
	/* the low 32 bits (64 wide since 6.4; x86 is little-endian) */
	bpf_core_read(&rflags, sizeof(rflags), &req->flags);
	if (op == GUARD_UOP_SETXATTR || op == GUARD_UOP_FSETXATTR)
		guard_uring_xattr(req, op, rflags);
	else if (op != GUARD_UOP_FTRUNCATE)
		guard_uring_names(req, op, rflags);
	else if ((rflags & (KS_UREQ_F_CQE_SKIP | KS_UREQ_F_FIXED_FILE)) == KS_UREQ_F_CQE_SKIP)
		/* no completion will be traced if it succeeds: its fd's file now, its result
		 * unknown (the file is the request's only at issue, after this tracepoint) */
		guard_uring_write(ks_fd_file((struct task_struct *)bpf_get_current_task(),
					     BPF_CORE_READ(req, cqe.fd)),
				  op, 0, GUARD_F_NORES, GUARD_K_TRUNCATE, guard_uring_trunc_len(req));
}

/* 5.10: a request, at its submission; a write's file is known by now. */
static __always_inline void guard_uring_sub_510(unsigned long long *ctx)
{
	struct ks_uring_sub s;

	ks_uring_sub_510(ctx, &s);
	guard_uring_user(NULL, s.opcode);
	if (guard_uring_writes(s.opcode))
		guard_uring_write(ks_uring_file(s.req), s.opcode, 0, GUARD_F_NORES, GUARD_K_WRITE,
				  0);
	else if (guard_uring_named(s.opcode))
		guard_uring_names(s.req, s.opcode, s.flags);
}

/* Whether request @req was taken at its submission for IOSQE_CQE_SKIP_SUCCESS (a failure
 * still completes: not twice). */
static __always_inline bool guard_uring_skipped(struct io_kiocb *req)
{
	__u32 rflags = 0;

	bpf_core_read(&rflags, sizeof(rflags), &req->flags);
	return (rflags & (KS_UREQ_F_CQE_SKIP | KS_UREQ_F_FIXED_FILE)) == KS_UREQ_F_CQE_SKIP;
}

/* 6.1+: a completion, with its request. */
static __always_inline void guard_uring_done(unsigned long long *ctx)
{
	struct io_kiocb *req = ks_uring_done_req(ctx, guard_uring_noreq);
	__u8 op;
	long res;

	if (!req)
		return;	/* 5.10: taken at the submission */
	/* the opcode first: most requests stop here, the result is read only for the rest */
	op = BPF_CORE_READ(req, opcode);
	if (!guard_uring_writes(op) && op != GUARD_UOP_OPENAT && op != GUARD_UOP_OPENAT2 &&
	    op != GUARD_UOP_LISTEN && op != GUARD_UOP_FTRUNCATE)
		return;
	res = ks_uring_done_res(ctx, guard_uring_noreq, guard_uring_cqe_arg);
	if (guard_uring_writes(op))
		guard_uring_write(ks_uring_file(req), op, res, 0, GUARD_K_WRITE, 0);
	else if (op == GUARD_UOP_FTRUNCATE && !guard_uring_skipped(req))
		guard_uring_write(ks_uring_file(req), op, res, 0, GUARD_K_TRUNCATE,
				  guard_uring_trunc_len(req));
	else if (op != GUARD_UOP_LISTEN)
		guard_uring_open(req, op, res);
	else if (!res)
		guard_uring_listen(req);
}

/* Both families, same bodies: the arguments are the tracepoint's, as u64s. */
#define GUARD_URING_PROGS(kind, sec, btf)                                         \
	SEC(sec "/io_uring_submit_req")                                           \
	int guard__uring_req_##kind(unsigned long long *ctx)                      \
	{                                                                         \
		guard_uring_sub_req((void *)ctx[0], btf);                         \
		return 0;                                                         \
	}                                                                         \
	SEC(sec "/io_uring_submit_sqe")                                           \
	int guard__uring_sqe_##kind(unsigned long long *ctx)                      \
	{                                                                         \
		if (ks_uring_has_cqe())                                           \
			guard_uring_sub_req((void *)ctx[0], btf);	/* 6.1 */       \
		else                                                              \
			guard_uring_sub_510(ctx);                                 \
		return 0;                                                         \
	}                                                                         \
	SEC(sec "/io_uring_complete")                                             \
	int guard__uring_done_##kind(unsigned long long *ctx)                     \
	{                                                                         \
		guard_uring_done(ctx);                                            \
		return 0;                                                         \
	}

GUARD_URING_PROGS(btf, "tp_btf", true)
GUARD_URING_PROGS(raw, "raw_tp", false)

#endif
