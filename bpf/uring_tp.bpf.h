/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The io_uring tracepoints as each kernel shapes them, for every module that reads them
 * (rw: requests and their latency; guard: who uses io_uring, the files it writes and
 * opens). Arguments come as the tracepoint's u64s (tp_btf and raw_tp alike):
 *  - 6.2+: io_uring_submit_req(req); 6.1: io_uring_submit_sqe(req, force_nonblock); the
 *    request has its opcode, flags, fd (req->cqe.fd) and user_data; its file is assigned
 *    at issue, after the tracepoint: the completion has it;
 *  - 5.10 (Debian's): io_uring_submit_sqe(ctx, req, opcode, user_data, flags,
 *    force_nonblock, sq_thread), the request's file set and the request prepared (its
 *    io_uring is 5.15's: a rename's names read there are exact);
 *  - io_uring_complete(ctx, req, user_data, res, cflags[, extra1, extra2]); since 6.3
 *    (ctx, req, cqe); 5.10's (ctx, user_data, res, cflags) has no request. User space
 *    tells these apart from the kernel's BTF (ks_uring_detect()).
 */
#ifndef KSIGHT_URING_TP_BPF_H
#define KSIGHT_URING_TP_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

#define KS_UREQ_F_FIXED_FILE 0x1	/* = IOSQE_FIXED_FILE, bit 0 of req->flags */
#define KS_UREQ_F_CQE_SKIP 0x40		/* = IOSQE_CQE_SKIP_SUCCESS: no completion traced */
#define KS_UCQE_F_MORE 0x2		/* IORING_CQE_F_MORE: the request goes on */

/* 5.10's io_uring_submit_sqe arguments */
#define KS_URING510_RING(ctx) ((ctx)[0])
#define KS_URING510_REQ(ctx) ((struct io_kiocb *)(ctx)[1])
#define KS_URING510_OP(ctx) ((__u8)(ctx)[2])
#define KS_URING510_UDATA(ctx) ((ctx)[3])
#define KS_URING510_FLAGS(ctx) ((__u32)(ctx)[4])

/* A submitted request as the submission tracepoint shows it. */
struct ks_uring_sub {
	struct io_kiocb *req;
	__u64 user_data;
	__u32 flags;		/* the low 32 bits of req->flags (IOSQE_* among them) */
	__s32 fd;		/* 6.1+ only (5.10: io_uring_file_get before, or req->file) */
	__u8 opcode;
};

/* A completion. */
struct ks_uring_done {
	struct io_kiocb *req;	/* NULL on 5.10 */
	__u64 ring;		/* 5.10: the ring (with user_data: its key there) */
	__u64 user_data;	/* 5.10 only */
	__s32 res;
	__u32 cflags;
};

/* Whether the request carries its cqe (fd, user_data): 6.0+. */
static __always_inline bool ks_uring_has_cqe(void)
{
	struct io_kiocb *req = NULL;

	return bpf_core_field_exists(req->cqe);
}

/* 6.1+: everything is in the request. */
static __always_inline void ks_uring_sub_req(struct io_kiocb *req, struct ks_uring_sub *s)
{
	s->req = req;
	s->flags = 0;
	/* the low 32 bits: req->flags is 64 bits wide since 6.4 (x86 is little-endian) */
	bpf_core_read(&s->flags, sizeof(s->flags), &req->flags);
	s->opcode = BPF_CORE_READ(req, opcode);
	s->fd = BPF_CORE_READ(req, cqe.fd);
	s->user_data = BPF_CORE_READ(req, cqe.user_data);
}

/* 5.10: (ctx, req, opcode, user_data, flags, ...); no fd (s->fd -1). */
static __always_inline void ks_uring_sub_510(unsigned long long *ctx, struct ks_uring_sub *s)
{
	s->req = KS_URING510_REQ(ctx);
	s->opcode = KS_URING510_OP(ctx);
	s->user_data = KS_URING510_UDATA(ctx);
	s->flags = KS_URING510_FLAGS(ctx);
	s->fd = -1;
}

/* io_uring_complete's arguments; @noreq and @cqe_arg: the shapes above (constants the
 * verifier prunes: each kernel's branch only). */
static __always_inline void ks_uring_done_args(unsigned long long *ctx, bool noreq,
					       bool cqe_arg, struct ks_uring_done *d)
{
	if (noreq) {
		d->req = NULL;
		d->ring = ctx[0];
		d->user_data = ctx[1];
		d->res = ctx[2];
		d->cflags = ctx[3];
		return;
	}
	d->req = (struct io_kiocb *)ctx[1];
	d->ring = ctx[0];
	d->user_data = 0;
	if (cqe_arg) {
		struct io_uring_cqe *cqe = (void *)ctx[2];

		d->res = BPF_CORE_READ(cqe, res);
		d->cflags = BPF_CORE_READ(cqe, flags);
		return;
	}
	d->res = ctx[3];
	d->cflags = ctx[4];
}

/* The completion's request alone (NULL on 5.10), for who needs its result only later. */
static __always_inline struct io_kiocb *ks_uring_done_req(unsigned long long *ctx, bool noreq)
{
	return noreq ? NULL : (struct io_kiocb *)ctx[1];
}

/* The completion's result (ks_uring_done_args()'s res). */
static __always_inline __s32 ks_uring_done_res(unsigned long long *ctx, bool noreq,
					       bool cqe_arg)
{
	if (noreq)
		return ctx[2];
	if (cqe_arg) {
		struct io_uring_cqe *cqe = (void *)ctx[2];

		return BPF_CORE_READ(cqe, res);
	}
	return ctx[3];
}

/* The file of request @req (set at submission on 5.10, at issue since 6.0), or NULL. */
static __always_inline struct file *ks_uring_file(struct io_kiocb *req)
{
	return BPF_CORE_READ(req, file);
}

#endif
