// SPDX-License-Identifier: GPL-2.0
/*
 * rw: io_uring requests (bpf/rw_uring.bpf.h), one line each like the calls: the opcode as
 * "io_uring:read", the fd named from the session's fd table (a fixed file by the fd of the
 * process that refers to the same inode), the result and the time from submission to
 * completion.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fdtab.h"
#include "modules/rw_uring.h"
#include "modules/uring_tp.h"

const char *rw_uring_op_short(unsigned int op)
{
	return ks_uring_op_short(op);
}

const char *rw_uring_op_name(unsigned int op, char *buf, size_t len)
{
	if (ks_uring_op_short(op))
		snprintf(buf, len, "io_uring:%s", ks_uring_op_short(op));
	else
		snprintf(buf, len, "io_uring:op%u", op);
	return buf;
}

int rw_uring_dir(unsigned int op)
{
	switch (op) {
	case 1: case 4: case 10: case 22: case 27: case 49: case 60:
		return 1;
	case 2: case 5: case 9: case 23: case 26: case 30: case 33: case 47: case 48: case 61:
		return 2;
	}
	return 0;
}

/* Opcodes whose request has no fd (the kernel leaves the field as it was). */
static bool no_fd(unsigned int op)
{
	switch (op) {
	case 0: case 7: case 11: case 12: case 14: case 15: case 20: case 31: case 32: case 45:
	case 50: case 51: case 52: case 53:
		/* nop, poll_remove, timeout, timeout_remove, async_cancel, link_timeout,
		 * files_update, provide/remove_buffers, socket, waitid, futex_* */
		return true;
	}
	return false;
}

void rw_uring_detect(struct ks_ctx *ctx, struct rw_state *st)
{
	struct ks_uring_shape sh = ks_uring_detect(ks_ctx_btf(ctx));

	st->uring = sh.old ? RW_URING_OLD : RW_URING_NEW;
	st->uring_cqe_arg = sh.cqe_arg;
	st->uring_noreq = sh.noreq;
}

static const struct ks_fdinfo unknown = { .kind_name = "unknown", .disp = "-", .disp_len = 1 };

/* What the request's file is: its fd's, or for a fixed file the fd of the process that
 * refers to the same inode (*@fd, -1 if none). */
static const struct ks_fdinfo *name_of(struct rw_state *st, const struct ks_hdr *h,
				       const struct rw_uring_event *e, int32_t *fd)
{
	const struct ks_fdinfo *fi;

	*fd = e->fd;
	if (no_fd(e->opcode)) {
		*fd = -1;
		return &unknown;
	}
	if (!(e->flags & (RW_UF_FIXED | RW_UF_NOFD)))
		return ks_fdtab__lookup(st->fds, h->pid, e->fd, h->ts - e->lat_ns, h->ts);
	*fd = -1;
	fi = ks_fdtab__by_ino(st->fds, h->pid, e->ino, h->ts, fd);
	return fi ? fi : &unknown;
}

void rw_uring_event(struct ks_ctx *ctx, struct rw_state *st, const struct ks_hdr *h,
		    size_t size)
{
	const struct rw_uring_event *e = (const void *)h;
	int dir = size >= sizeof(*e) ? rw_uring_dir(e->opcode) : -1;
	const struct ks_fdinfo *fi;
	char call[40];
	struct ks_rec r;
	int32_t fd;

	if (dir < 0)
		return;
	if (dir && e->res > 0)
		ks_counter_add(dir == 2 ? st->s_wbytes : st->s_rbytes, e->res);
	ks_counter_add(ks_metric_comm(st->m_calls, &st->c_calls, h->pid, h->comm), 1);
	if (!ks_ctx_streaming(ctx))
		return;
	rw_uring_op_name(e->opcode, call, sizeof(call));
	fi = name_of(st, h, e, &fd);
	ks_rec_init(&r, "rw", h);
	ks_rec_uint(&r, NULL, "PID", 7, h->pid);
	ks_rec_uint(&r, NULL, "TID", 7, h->tid);
	ks_rec_kstr(&r, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
	ks_rec_str(&r, "call", "CALL", -8, call, strlen(call));
	ks_rec_int(&r, "fd", "FD", 4, fd);
	ks_rec_str(&r, NULL, "REQ", 8, "-", 1);
	ks_rec_int(&r, "ret", e->res < 0 ? NULL : "RET", 8, e->res);
	if (e->res < 0) {
		ks_rec_add(&r, "err", "RET", 8, KS_V_ERRNO)->i = -e->res;
		ks_rec_int(&r, "errno", NULL, 0, -e->res);
	}
	if (!st->no_latency)
		ks_rec_add(&r, "lat_ns", "LAT", 7, KS_V_NS)->u = e->lat_ns;
	ks_rec_str(&r, NULL, "FD-KIND/NAME", 0, fi->disp, fi->disp_len);
	rw_fd_json(&r, fi);
	ks_rec_add(&r, "io_uring", NULL, 0, KS_V_BOOL)->u = 1;
	ks_rec_uint(&r, "opcode", NULL, 0, e->opcode);
	ks_rec_uint(&r, "user_data", NULL, 0, e->user_data);
	if (e->flags & RW_UF_FIXED) {
		ks_rec_add(&r, "fixed", NULL, 0, KS_V_BOOL)->u = 1;
		if (!(e->flags & RW_UF_NOFD))
			ks_rec_int(&r, "fixed_index", NULL, 0, e->fd);
	}
	if (e->flags & RW_UF_MORE)
		ks_rec_add(&r, "more", NULL, 0, KS_V_BOOL)->u = 1;
	ks_emit(ctx, &r);
}

void rw_uring_report(struct ks_ctx *ctx, struct rw_state *st, int fd)
{
	uint64_t *pc = calloc(st->ncpu, sizeof(*pc));
	char other[RW_URING_OPS - 1][16];
	struct ks_rec r;
	bool any = false;

	if (!pc)
		return;
	ks_rec_init(&r, "rw_uring_ops", NULL);
	r.style = KS_REC_LINE;
	ks_rec_str(&r, NULL, "", -8, "io_uring", 8);
	for (uint32_t op = 0; op < RW_URING_OPS; op++) {
		uint64_t total = 0, d;
		const char *name = rw_uring_op_short(op);

		if (bpf_map_lookup_elem(fd, &op, pc))
			continue;
		for (unsigned int c = 0; c < st->ncpu; c++)
			total += pc[c];
		d = total - st->uring_prev[op];
		st->uring_prev[op] = total;
		if (!d)
			continue;
		if (!name && op < RW_URING_OPS - 1) {
			snprintf(other[op], sizeof(other[op]), "op%u", op);
			name = other[op];
		}
		ks_rec_uint(&r, name ? name : "other", name ? name : "other", 0, d);
		any = true;
	}
	free(pc);
	if (any)
		ks_emit(ctx, &r);
}
