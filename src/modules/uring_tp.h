/* SPDX-License-Identifier: GPL-2.0 */
/* io_uring, user side, for the modules that read its tracepoints (rw, guard):
 * opcode names and which tracepoint shapes this kernel has (bpf/uring_tp.bpf.h). */
#ifndef KSIGHT_URING_TP_H
#define KSIGHT_URING_TP_H

#include <stdbool.h>

struct btf;

struct ks_uring_shape {
	bool old;	/* io_uring_submit_sqe (5.x, 6.1), not io_uring_submit_req (6.2+) */
	bool cqe_arg;	/* io_uring_complete(ctx, req, cqe): 6.3+ */
	bool noreq;	/* io_uring_complete(ctx, user_data, res, cflags): 5.10, no request */
	bool any;	/* the kernel has io_uring tracepoints at all */
};

/* "read", "nop", ...: the opcode's name, or NULL for one newer than ksight. */
const char *ks_uring_op_short(unsigned int op);
/* Which tracepoints the kernel of @btf has (all false without BTF). */
struct ks_uring_shape ks_uring_detect(struct btf *btf);

#endif
