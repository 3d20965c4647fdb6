// SPDX-License-Identifier: GPL-2.0
/* io_uring, user side: opcode names, the tracepoints' shapes (uring_tp.h). */
#include <bpf/btf.h>
#include <stddef.h>

#include "modules/uring_tp.h"

static const char *const op_names[] = {
	"nop", "readv", "writev", "fsync", "read_fixed", "write_fixed", "poll_add",
	"poll_remove", "sync_file_range", "sendmsg", "recvmsg", "timeout", "timeout_remove",
	"accept", "async_cancel", "link_timeout", "connect", "fallocate", "openat", "close",
	"files_update", "statx", "read", "write", "fadvise", "madvise", "send", "recv",
	"openat2", "epoll_ctl", "splice", "provide_buffers", "remove_buffers", "tee",
	"shutdown", "renameat", "unlinkat", "mkdirat", "symlinkat", "linkat", "msg_ring",
	"fsetxattr", "setxattr", "fgetxattr", "getxattr", "socket", "uring_cmd", "send_zc",
	"sendmsg_zc", "read_multishot", "waitid", "futex_wait", "futex_wake", "futex_waitv",
	"fixed_fd_install", "ftruncate", "bind", "listen", "recv_zc", "epoll_wait",
	"readv_fixed", "writev_fixed",
};

const char *ks_uring_op_short(unsigned int op)
{
	return op < sizeof(op_names) / sizeof(op_names[0]) ? op_names[op] : NULL;
}

/* The function prototype a tracepoint's btf_trace_<name> typedef points to, or NULL. */
static const struct btf_type *tp_proto(struct btf *btf, const char *name)
{
	const struct btf_type *t;
	int id = btf ? btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) : -1;

	if (id < 0)
		return NULL;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

struct ks_uring_shape ks_uring_detect(struct btf *btf)
{
	const struct btf_type *done = tp_proto(btf, "btf_trace_io_uring_complete");
	struct ks_uring_shape s = { 0 };

	s.old = !tp_proto(btf, "btf_trace_io_uring_submit_req") &&
		tp_proto(btf, "btf_trace_io_uring_submit_sqe");
	/* (void *__data, ctx, req, cqe) since 6.3; before, the cqe's fields one by one, and
	 * 5.10's without the request: (void *__data, ctx, user_data, res, cflags) */
	s.cqe_arg = done && btf_vlen(done) == 4;
	s.noreq = done && btf_vlen(done) == 5;
	s.any = done != NULL;
	return s;
}
