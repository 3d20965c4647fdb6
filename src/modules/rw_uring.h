/* SPDX-License-Identifier: GPL-2.0 */
/* rw: io_uring requests, user side (rw_uring.c). */
#ifndef KSIGHT_RW_URING_H
#define KSIGHT_RW_URING_H

#include <stddef.h>

#include "modules/rw_int.h"

/* "io_uring:read", ...; "io_uring:opN" for an opcode newer than ksight. Returns @buf. */
const char *rw_uring_op_name(unsigned int op, char *buf, size_t len);
/* 1: the opcode reads (its bytes are read bytes), 2: it writes, 0: neither. */
int rw_uring_dir(unsigned int op);
/* Which tracepoints this kernel has, into @st (uring, uring_cqe_arg), from its BTF. */
void rw_uring_detect(struct ks_ctx *ctx, struct rw_state *st);
/* "read", "nop", ...: the opcode's name, or NULL for one newer than ksight. */
const char *rw_uring_op_short(unsigned int op);
/* --summary: one line of the requests completed per opcode since the previous report
 * (nothing when none), from the kernel's rw_uring_ops (@fd, per CPU). */
void rw_uring_report(struct ks_ctx *ctx, struct rw_state *st, int fd);
/* One RW_EV_URING record. */
void rw_uring_event(struct ks_ctx *ctx, struct rw_state *st, const struct ks_hdr *h,
		    size_t size);

#endif
