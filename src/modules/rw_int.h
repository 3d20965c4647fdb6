/* SPDX-License-Identifier: GPL-2.0 */
/* The rw module's state, shared by rw.c (options, records) and rw_report.c (--summary). */
#ifndef KSIGHT_RW_INT_H
#define KSIGHT_RW_INT_H

#include "core/module.h"
#include "core/pidset.h"
#include "modules/rw_sum.h"

#define RW_SLOT_TIME "time reads and writes"
#define RW_SLOT_URING "see io_uring I/O"
#define RW_SLOT_URING_SQE "see io_uring (sqe tp)"	/* 6.1 and before */
#define RW_SLOT_URING_NEW 5	/* their index in rw_slots */
#define RW_SLOT_URING_OLD 6
#define RW_URING_ABSENT "io_uring tracepoints absent: rw does not see io_uring I/O"

/* Which submission tracepoint the kernel has (rw_state.uring). */
enum rw_uring_shape {
	RW_URING_NEW,		/* io_uring_submit_req (6.2+), or none at all */
	RW_URING_OLD,		/* io_uring_submit_sqe (5.x, 6.1) */
};

struct rw_state {
	bool summary;		/* --summary */
	bool no_latency;	/* --no-latency: no entry hook, calls untimed */
	bool agent;		/* in the agent: no fd-change hooks (rw_agent_defaults) */
	bool want_kinds;	/* agent: --rw-kinds, count by kind of fd too (costs a look-up) */
	uint64_t fd;		/* --fd, KS_UNSET: any */
	uint64_t top;		/* --top */
	int sort;		/* --sort: enum rw_sort */
	/* run time */
	bool agg;		/* counting in the kernel (--summary, or the agent's table) */
	bool fd_io;		/* ... in the dispatcher's ks_fd_io, not rw_sums */
	bool kinds;		/* ... its rows keyed by the fd's kind too (the agent) */
	unsigned int ncpu;
	int uring;		/* enum rw_uring_shape, from the kernel's BTF */
	bool uring_cqe_arg;	/* io_uring_complete(ctx, req, cqe) (6.3+) */
	bool uring_noreq;	/* io_uring_complete(ctx, user_data, res, cflags) (5.10) */
	bool uring_on;		/* an io_uring slot was chosen */
	uint64_t uring_prev[RW_URING_OPS];	/* --summary: completions per opcode so far */
	struct ks_fdtab *fds;	/* the session's: names the fds */
	struct rw_sum_row *prev;	/* the kernel's totals at the previous report */
	size_t nprev;
	struct ks_pidset gone;	/* processes that exited since: their rows go after the report */
	uint64_t gone_calls;	/* calls counted in rows dropped from the kernel's table */
	uint64_t reported;	/* time of the last report: fds of processes gone before go */
	/* metrics */
	struct ks_metric *m_calls;	/* per process name */
	struct ks_comm_cache c_calls;
	struct ks_series *s_rbytes, *s_wbytes;
	struct ks_metric *m_svc[3];	/* per service: calls, read and written bytes */
	struct ks_metric *m_kind[3];	/* ... and fd kind, with st->kinds */
};

extern const struct ks_module rw_module;

/* Untimed sums per (process, fd) for every fd: where the dispatcher sees the calls, it
 * keeps these itself, in the core's ks_fd_io (rw's handler then runs for the fd-change
 * calls only, if any; st->fd_io once set up). */
static inline bool rw_fd_io_wanted(const struct rw_state *st)
{
	return (st->summary || st->agent) && st->no_latency && st->fd == KS_UNSET;
}

/* A process exited: drop its rows once the next report has counted them. */
/* --summary: the table of what changed since the previous report. */
void rw_report(struct ks_ctx *ctx, void *state, void *skel);
/* Agent: bring the kernel's per-fd counts (the agent counts in the kernel) into the
 * registry. */
void rw_collect(struct ks_ctx *ctx, void *state, void *skel);

/* rw.c: the JSON-only values naming what an fd is (kind, path, protocol, addresses), for
 * every record about an fd: calls, io_uring requests, --summary rows. */
struct ks_fdinfo;
void rw_fd_json(struct ks_rec *r, const struct ks_fdinfo *i);
/* Agent: one line, the busiest processes. */
void rw_summary(struct ks_ctx *ctx, void *state, double secs);
/* The kind label ("file", "socket", "other") of a ks_fd_io row keyed with KS_SYS_IO_KINDS,
 * from its key's pid. Static strings. */
const char *rw_kind_label(uint32_t key_pid);
/* Register the module's metrics. */
int rw_init(struct ks_ctx *ctx, void *state);

#endif
