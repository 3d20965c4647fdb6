/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rw: io_uring requests, which no syscall shows (one io_uring_enter submits many, an
 * SQPOLL thread submits with none). A request is kept from its submission to its
 * completion in rw_uring_reqs, keyed by its kernel address: opcode, fd, submit time and
 * the submitting task, which owns the record (the completion runs in the submitter, an
 * io-wq worker or, on 5.10, an interrupt). The tracepoints'
 * shapes are uring_tp.bpf.h's; on 5.10 the submission has no fd: io_uring_file_get(ctx,
 * fd), which the same task fires just before for a plain fd, gives it; and the completion
 * has no request: requests are keyed there by ring and user_data (two requests in flight
 * on one ring with the same user_data collide: the first is counted lost).
 */
#ifndef KSIGHT_RW_URING_BPF_H
#define KSIGHT_RW_URING_BPF_H

#include "rw.sys.bpf.h"
#include "uring_tp.bpf.h"

const volatile bool rw_uring_cqe_arg = false;	/* io_uring_complete(ctx, req, cqe) */
const volatile bool rw_uring_noreq = false;	/* io_uring_complete(ctx, user_data, ...) */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RW_URING_INFLIGHT);
	__type(key, struct rw_uring_key);
	__type(value, struct rw_uring_req);
} rw_uring_reqs SEC(".maps");

/* --summary: completed requests per opcode, every opcode (the bytes go to the fd rows). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RW_URING_OPS);
	__type(key, __u32);
	__type(value, __u64);
} rw_uring_ops SEC(".maps");

/* 5.10: the last io_uring_file_get of this CPU, for the io_uring_submit_sqe after it. */
struct rw_uring_fget {
	__u64 ring;
	__u64 pid_tgid;
	__s32 fd;
	__u32 __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rw_uring_fget);
} rw_uring_fgets SEC(".maps");

/* 1 read, 2 write (bytes = res > 0, on the fd), 0 another opcode (counted by opcode). */
static __always_inline int rw_uring_dir(__u8 op)
{
	switch (op) {
	case 1: case 4: case 10: case 22: case 27: case 49: case 60:
		/* readv, read_fixed, recvmsg, read, recv, read_multishot, readv_fixed */
		return 1;
	case 2: case 5: case 9: case 23: case 26: case 30: case 33: case 47: case 48: case 61:
		/* writev, write_fixed, sendmsg, write, send, splice (the out fd), tee,
		 * send_zc, sendmsg_zc, writev_fixed */
		return 2;
	}
	return 0;
}

/* The inode of the file of request @req, or 0. */
static __always_inline __u64 rw_uring_ino(struct io_kiocb *req)
{
	struct file *file = ks_uring_file(req);

	return file ? BPF_CORE_READ(file, f_inode, i_ino) : 0;
}

static __always_inline void rw_uring_submit(const struct rw_uring_key *key, __u8 opcode,
					    __u32 flags, __s32 fd, bool nofd, __u64 user_data,
					    struct io_kiocb *req510)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct rw_uring_req r;

	if (!ks_want(pid_tgid) || (flags & KS_UREQ_F_CQE_SKIP))
		return;
	if (rw_targ_fd >= 0 && ((flags & KS_UREQ_F_FIXED_FILE) || fd != rw_targ_fd))
		return;
	__builtin_memset(&r, 0, sizeof(r));
	r.owner.pid = pid_tgid >> 32;
	r.owner.tid = (__u32)pid_tgid;
	r.owner.uid = (__u32)bpf_get_current_uid_gid();
	r.owner.cgroup = bpf_get_current_cgroup_id();
	task = (struct task_struct *)bpf_get_current_task();
	bpf_core_read(r.owner.comm, sizeof(r.owner.comm), &task->comm);
	r.submit_ts = bpf_ktime_get_ns();
	r.user_data = user_data;
	/* 5.10: the completion will not have the request; its file is set by now */
	if (req510 && (nofd || (flags & KS_UREQ_F_FIXED_FILE)) && rw_uring_dir(opcode))
		r.ino = rw_uring_ino(req510);
	r.fd = nofd ? -1 : fd;
	r.opcode = opcode;
	r.flags = (flags & KS_UREQ_F_FIXED_FILE ? RW_UF_FIXED : 0) | (nofd ? RW_UF_NOFD : 0);
	if (!bpf_map_update_elem(&rw_uring_reqs, key, &r, BPF_NOEXIST))
		return;
	/* the address is in use again: the earlier request's completion was never seen
	 * (or the table is full): one request lost either way */
	ks_lost(RW_EV_URING_SUB);
	bpf_map_update_elem(&rw_uring_reqs, key, &r, BPF_ANY);
}

/* 6.1+: everything is in the request. */
static __always_inline void rw_uring_submit_req(struct io_kiocb *req)
{
	struct rw_uring_key key = { .ptr = (__u64)req };
	struct ks_uring_sub s;

	ks_uring_sub_req(req, &s);
	rw_uring_submit(&key, s.opcode, s.flags, s.fd, false, s.user_data, NULL);
}

/* 5.10: the fd from the io_uring_file_get just before, if any. */
static __always_inline void rw_uring_submit_510(unsigned long long *ctx)
{
	struct rw_uring_key key = { .ptr = KS_URING510_RING(ctx), .tag = KS_URING510_UDATA(ctx) };
	struct rw_uring_fget *g;
	struct ks_uring_sub s;
	__u32 zero = 0;
	bool nofd = true;

	ks_uring_sub_510(ctx, &s);
	g = bpf_map_lookup_elem(&rw_uring_fgets, &zero);
	if (!(s.flags & KS_UREQ_F_FIXED_FILE) && g && g->ring == key.ptr &&
	    g->pid_tgid == bpf_get_current_pid_tgid()) {
		s.fd = g->fd;
		nofd = false;
	}
	if (g)
		g->ring = 0;	/* consumed */
	rw_uring_submit(&key, s.opcode, s.flags, s.fd, nofd, s.user_data, s.req);
}

static __always_inline void rw_uring_fd_io(const struct rw_uring_req *r, __s32 fd, long res,
					   bool write)
{
	struct ks_fd_key k = { .pid = r->owner.pid, .fd = fd };
	struct ks_fd_io *v = bpf_map_lookup_elem(&ks_fd_io, &k);

	if (!v) {
		struct ks_fd_io zero = {};

		__builtin_memcpy(zero.comm, r->owner.comm, sizeof(zero.comm));
		zero.cgroup = r->owner.cgroup;
		bpf_map_update_elem(&ks_fd_io, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&ks_fd_io, &k);
		if (!v) {
			ks_lost(KS_EV_FD_IO);
			return;
		}
	}
	if (write)
		__sync_fetch_and_add(&v->writes, 1);
	else
		__sync_fetch_and_add(&v->reads, 1);
	if (res < 0)
		__sync_fetch_and_add(&v->errors, 1);
	else if (write)
		__sync_fetch_and_add(&v->wbytes, res);
	else
		__sync_fetch_and_add(&v->rbytes, res);
}

/* @req: NULL on 5.10 (@key is then the ring and user_data). */
static __always_inline void rw_uring_complete(const struct rw_uring_key *key,
					      struct io_kiocb *req, __s32 res, __u32 cflags)
{
	struct rw_uring_req *p = bpf_map_lookup_elem(&rw_uring_reqs, key), r;
	struct rw_uring_event *e;
	__s32 fd;
	int dir;

	if (!p)
		return;	/* not traced, or submitted before ksight attached */
	r = *p;
	if (!(cflags & KS_UCQE_F_MORE))
		bpf_map_delete_elem(&rw_uring_reqs, key);
	dir = rw_uring_dir(r.opcode);
	fd = r.flags & RW_UF_FIXED ? RW_URING_FIXED_FD : r.fd;
	if (rw_summary) {
		__u32 op = r.opcode < RW_URING_OPS ? r.opcode : RW_URING_OPS - 1;
		__u64 *cnt = bpf_map_lookup_elem(&rw_uring_ops, &op);

		if (cnt)
			__sync_fetch_and_add(cnt, 1);
		if (!dir)
			return;
		if (rw_fd_io)
			rw_uring_fd_io(&r, fd, res, dir == 2);
		else
			rw_sum_add_as(r.owner.pid, r.owner.comm, r.owner.cgroup, fd, res, dir == 2, r.submit_ts);
		return;
	}
	e = ks_reserve_as(RW_EV_URING, sizeof(*e), &r.owner);
	if (!e)
		return;
	e->lat_ns = e->hdr.ts - r.submit_ts;
	e->user_data = r.user_data;
	/* the file (fixed files: what names them), only for the opcodes that have one; 6.0+
	 * assigns it at issue, after the submission tracepoint */
	e->ino = r.ino;
	if (req && dir && (r.flags & (RW_UF_FIXED | RW_UF_NOFD)))
		e->ino = rw_uring_ino(req);
	e->res = res;
	e->fd = r.fd;
	e->cflags = cflags;
	e->opcode = r.opcode;
	e->flags = r.flags | (cflags & KS_UCQE_F_MORE ? RW_UF_MORE : 0);
	e->__pad = 0;
	ks_submit(e);
}

static __always_inline void rw_uring_done(unsigned long long *ctx)
{
	struct rw_uring_key key = {};
	struct ks_uring_done d;

	ks_uring_done_args(ctx, rw_uring_noreq, rw_uring_cqe_arg, &d);
	if (d.req) {
		key.ptr = (__u64)d.req;
	} else {
		key.ptr = d.ring;
		key.tag = d.user_data;
	}
	rw_uring_complete(&key, d.req, d.res, d.cflags);
}

/* Both families, same bodies: the arguments are the tracepoint's, as u64s. */
#define RW_URING_PROGS(kind, sec)                                                 \
	SEC(sec "/io_uring_submit_req")                                           \
	int rw__uring_req_##kind(unsigned long long *ctx)                         \
	{                                                                         \
		rw_uring_submit_req((void *)ctx[0]);                              \
		return 0;                                                         \
	}                                                                         \
	SEC(sec "/io_uring_submit_sqe")                                           \
	int rw__uring_sqe_##kind(unsigned long long *ctx)                         \
	{                                                                         \
		if (ks_uring_has_cqe())                                           \
			rw_uring_submit_req((void *)ctx[0]);	/* 6.1 */            \
		else                                                              \
			rw_uring_submit_510(ctx);                                 \
		return 0;                                                         \
	}                                                                         \
	SEC(sec "/io_uring_file_get")                                             \
	int rw__uring_fget_##kind(unsigned long long *ctx)                        \
	{                                                                         \
		__u32 zero = 0;                                                   \
		struct rw_uring_fget *g;                                          \
                                                                                  \
		if (ks_uring_has_cqe())                                           \
			return 0;	/* 6.1: the request has its fd */            \
		g = bpf_map_lookup_elem(&rw_uring_fgets, &zero);                  \
		if (g) {                                                          \
			g->ring = ctx[0];                                         \
			g->pid_tgid = bpf_get_current_pid_tgid();                 \
			g->fd = ctx[1];                                           \
		}                                                                 \
		return 0;                                                         \
	}                                                                         \
	SEC(sec "/io_uring_complete")                                             \
	int rw__uring_done_##kind(unsigned long long *ctx)                        \
	{                                                                         \
		rw_uring_done(ctx);                                               \
		return 0;                                                         \
	}

RW_URING_PROGS(btf, "tp_btf")
RW_URING_PROGS(raw, "raw_tp")

#endif
