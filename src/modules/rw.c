// SPDX-License-Identifier: GPL-2.0
/*
 * rw: every read/write/send/recv call of the traced tasks, one line each, with the fd
 * named from a user-space fd cache (the records carry no names); or with --summary the
 * calls aggregated in the kernel per process and fd and printed as a table each interval.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/clock.h"
#include "core/fdtab.h"
#include "core/module.h"
#include "rw.skel.h"
#include "modules/rw_fdev.h"
#include "modules/rw_fmt.h"
#include "modules/rw_int.h"
#include "modules/rw_uring.h"


static const struct rw_state defaults = { .fd = KS_UNSET, .top = 20 };

static const char *const sort_choices[] = { "ops", "bytes", "time", NULL };

static const struct ks_opt rw_opts[] = {
	{ "summary", 's', KS_OPT_FLAG, offsetof(struct rw_state, summary), NULL,
	  "count in the kernel per process and fd; print a table each interval" },
	{ "no-latency", 0, KS_OPT_FLAG, offsetof(struct rw_state, no_latency), NULL,
	  "time no call: one syscall hook instead of two, the cheapest stream" },
	{ "fd", 0, KS_OPT_UINT, offsetof(struct rw_state, fd), "FD",
	  "only calls on this fd (checked in the kernel)", 0, 0x7fffffff },
	{ "top", 0, KS_OPT_UINT, offsetof(struct rw_state, top), "N",
	  "rows printed with --summary (default 20)", 1, 100000 },
	{ "sort", 0, KS_OPT_CHOICE, offsetof(struct rw_state, sort), "KEY",
	  "--summary order: ops, bytes or time (default ops)", 0, 0, sort_choices },
	{ 0 },
};

#define RW_CALLS                                                                          \
	SYS_read, SYS_write, SYS_pread64, SYS_pwrite64, SYS_readv, SYS_writev, SYS_preadv,  \
		SYS_pwritev, SYS_preadv2, SYS_pwritev2, SYS_sendfile, SYS_recvfrom, SYS_sendto, \
		SYS_recvmsg, SYS_sendmsg, SYS_splice, SYS_tee, SYS_copy_file_range
/* their bytes are in user memory: rw's handler reads them, the dispatcher cannot */
#define RW_MMSG_CALLS SYS_sendmmsg, SYS_recvmmsg
#define RW_FD_CALLS_A                                                                     \
	SYS_open, SYS_openat, SYS_openat2, SYS_creat, SYS_socket, SYS_socketpair, SYS_accept, \
		SYS_accept4, SYS_connect, SYS_bind, SYS_close, SYS_dup, SYS_dup2, SYS_dup3,   \
		SYS_fcntl, SYS_pipe2
#define RW_FD_CALLS_B                                                                  \
	SYS_pipe, SYS_close_range, SYS_eventfd, SYS_eventfd2, SYS_epoll_create,           \
		SYS_epoll_create1, SYS_timerfd_create, SYS_signalfd, SYS_signalfd4,        \
		SYS_memfd_create, SYS_inotify_init, SYS_inotify_init1, SYS_pidfd_open,     \
		SYS_chdir, SYS_fchdir

static const int rw_calls[] = { RW_CALLS, -1 };
static const int rw_timed_calls[] = { RW_CALLS, RW_MMSG_CALLS, -1 };
static const int rw_mmsg_calls[] = { RW_MMSG_CALLS, -1 };
static const int rw_fd_calls_a[] = { RW_FD_CALLS_A, -1 };
static const int rw_fd_calls_b[] = { RW_FD_CALLS_B, -1 };

#define T(name, fn) { "rw__" #name "_fentry", "__x64_sys_" #fn }
#define X(name, fn) { "rw__" #name "_fexit", "__x64_sys_" #fn }
#define RW_PROGS(M)                                                                         \
	M(read, read), M(write, write), M(pread64, pread64), M(pwrite64, pwrite64),         \
	M(readv, readv), M(writev, writev), M(preadv, preadv), M(pwritev, pwritev),         \
	M(preadv2, preadv2), M(pwritev2, pwritev2), M(sendfile, sendfile64),                \
	M(recvfrom, recvfrom), M(sendto, sendto), M(recvmsg, recvmsg), M(sendmsg, sendmsg), \
	M(splice, splice), M(tee, tee), M(copy_file_range, copy_file_range)
#define RW_MMSG_PROGS(M) M(sendmmsg, sendmmsg), M(recvmmsg, recvmmsg)

const struct ks_slot rw_slots[] = {
	{
		.name = RW_SLOT_TIME,
		.alts = {
			{ KS_FAM_FENTRY, { RW_PROGS(T), RW_MMSG_PROGS(T) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, rw_timed_calls },
		},
	},
	{
		.name = "see reads and writes",
		.alts = {
			{ KS_FAM_FENTRY, { RW_PROGS(X) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, rw_calls },
		},
	},
	{
		.name = "see mmsg calls",
		.alts = {
			{ KS_FAM_FENTRY, { RW_MMSG_PROGS(X) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, rw_mmsg_calls },
		},
	},
	{
		.name = "see fd changes",
		.alts = {
			{ KS_FAM_FENTRY, { X(open, open), X(openat, openat), X(openat2, openat2),
					   X(creat, creat), X(socket, socket),
					   X(socketpair, socketpair), X(accept, accept),
					   X(accept4, accept4), X(connect, connect), X(bind, bind),
					   X(close, close), X(dup, dup), X(dup2, dup2),
					   X(dup3, dup3), X(fcntl, fcntl), X(pipe2, pipe2) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, rw_fd_calls_a },
		},
	},
	{
		.name = "see more fd changes",
		.alts = {
			{ KS_FAM_FENTRY, { X(pipe, pipe), X(close_range, close_range),
					   X(eventfd, eventfd), X(eventfd2, eventfd2),
					   X(epoll_create, epoll_create),
					   X(epoll_create1, epoll_create1),
					   X(timerfd_create, timerfd_create), X(signalfd, signalfd),
					   X(signalfd4, signalfd4), X(memfd_create, memfd_create),
					   X(inotify_init, inotify_init),
					   X(inotify_init1, inotify_init1),
					   X(pidfd_open, pidfd_open), X(chdir, chdir),
					   X(fchdir, fchdir) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, rw_fd_calls_b },
		},
	},
	/* io_uring: optional, the rest of rw runs on a kernel without it; 6.2+ named the
	 * submission tracepoint io_uring_submit_req, rw_init picks the one this kernel has */
	{
		.name = RW_SLOT_URING,
		.alts = {
			{ KS_FAM_TP_BTF, { { "rw__uring_req_btf", "io_uring_submit_req" },
					   { "rw__uring_done_btf", "io_uring_complete" } } },
			{ KS_FAM_RAW_TP, { { "rw__uring_req_raw", "io_uring_submit_req" },
					   { "rw__uring_done_raw", "io_uring_complete" } } },
		},
		.absent = RW_URING_ABSENT,
	},
	{
		.name = RW_SLOT_URING_SQE,
		.alts = {
			{ KS_FAM_TP_BTF, { { "rw__uring_sqe_btf", "io_uring_submit_sqe" },
					   { "rw__uring_fget_btf", "io_uring_file_get" },
					   { "rw__uring_done_btf", "io_uring_complete" } } },
			{ KS_FAM_RAW_TP, { { "rw__uring_sqe_raw", "io_uring_submit_sqe" },
					   { "rw__uring_fget_raw", "io_uring_file_get" },
					   { "rw__uring_done_raw", "io_uring_complete" } } },
		},
		.absent = RW_URING_ABSENT,
	},
	{ 0 },
};

static const struct ks_evtype rw_types[] = {
	{ RW_EV_CALL, "rw" },
	{ RW_EV_FD, "rw_fd" },
	{ RW_EV_SUM, "rw_summary", true },
	{ RW_EV_URING, "rw_uring" },
	{ RW_EV_URING_SUB, "rw_uring_request" },
	{ 0 },
};

static int rw_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	const struct rw_state *st = state;

	if (common->interval && !st->summary) {
		snprintf(err, len, "an interval only makes sense with --summary (use --duration)");
		return -1;
	}
	if (st->no_latency && st->sort == RW_SORT_LAT) {
		snprintf(err, len, "--sort time needs the latency that --no-latency drops");
		return -1;
	}
	return 0;
}

/*
 * The agent's line is calls, bytes and the busiest processes: no latency, so no entry hook
 * (sys_enter would cost every syscall of the machine), and no fd names, so none of the
 * fd-changing calls either. ksight rw gives both.
 */
static void rw_agent_defaults(void *state)
{
	struct rw_state *st = state;

	st->agent = true;
	st->no_latency = true;
}

/* The agent with --rw-kinds keys its rows by the fd's kind too (its timeline splits files
 * from sockets): send and recv take sockets only, positioned I/O and copy_file_range
 * seekable files only, the rest is looked up at the return (docs/rw.md: its cost). */
static unsigned int rw_sys_inline(const void *state, int nr)
{
	const struct rw_state *st = state;
	unsigned int k = st->agent && st->want_kinds ? KS_SYS_INLINE_KINDS : 0;

	if (!rw_fd_io_wanted(state))
		return 0;
	switch (nr) {
	case SYS_recvfrom: case SYS_recvmsg:
		return KS_SYS_INLINE_READ | (k ? k | KS_SYS_INLINE_ON_SOCK : 0);
	case SYS_pread64: case SYS_preadv: case SYS_preadv2:
		return KS_SYS_INLINE_READ | (k ? k | KS_SYS_INLINE_ON_FILE : 0);
	case SYS_read: case SYS_readv:
		return KS_SYS_INLINE_READ | k;
	case SYS_sendto: case SYS_sendmsg:
		return KS_SYS_INLINE_WRITE | (k ? k | KS_SYS_INLINE_ON_SOCK : 0);
	case SYS_pwrite64: case SYS_pwritev: case SYS_pwritev2:
		return KS_SYS_INLINE_WRITE | (k ? k | KS_SYS_INLINE_ON_FILE : 0);
	case SYS_write: case SYS_writev: case SYS_sendfile:
		return KS_SYS_INLINE_WRITE | k;
	case SYS_tee:
		return KS_SYS_INLINE_WRITE_ARG1 | k;
	case SYS_copy_file_range:
		return KS_SYS_INLINE_WRITE_ARG2 | (k ? k | KS_SYS_INLINE_ON_FILE : 0);
	case SYS_splice:
		return KS_SYS_INLINE_WRITE_ARG2 | k;
	}
	return 0;
}

/* Latency is what needs the entry: the dispatcher's sys_enter or rw's fentry programs. */
static bool rw_want_enter(const void *state)
{
	const struct rw_state *st = state;

	return !st->no_latency;
}

static bool rw_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct rw_state *st = state;

	/* the agent's sums are the dispatcher's: no handler of rw's runs there (mmsg, fd
	 * changes), which would cost its verification at every start (docs/rw.md) */
	if (slot == &rw_slots[RW_SLOT_URING_NEW])
		return st->uring == RW_URING_NEW;
	if (slot == &rw_slots[RW_SLOT_URING_OLD])
		return st->uring == RW_URING_OLD;
	if (st->agent && slot >= &rw_slots[2])
		return false;
	return !(st->no_latency && slot == &rw_slots[0]);	/* RW_SLOT_TIME */
}

static int rw_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct rw_bpf *skel = vskel;
	struct rw_state *st = state;
	/* the fexit programs name the entry maps even untimed (--no-latency, no fentry) */
	bool fentry = ks_ctx_slot_family(ctx, &rw_module, rw_slots[1].name) == KS_FAM_FENTRY;
	bool task = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
	int ncpu = libbpf_num_possible_cpus();

	/* the agent summarises, in its table as in JSON: count in the kernel, never stream
	 * every read and write of the machine (ksight rw does that, when asked) */
	st->agg = st->summary || ks_ctx_common(ctx)->agent;
	st->ncpu = ncpu > 0 ? ncpu : 1;
	skel->rodata->rw_summary = st->agg;
	skel->rodata->rw_targ_fd = st->fd == KS_UNSET ? -1 : (int32_t)st->fd;
	skel->rodata->rw_entry_task = task;
	skel->rodata->rw_timed = !st->no_latency;
	/* only the entry slot the fentry programs use is created (5.10 has no task storage) */
	bpf_map__set_autocreate(skel->maps.rw_task_entry, fentry && task);
	bpf_map__set_autocreate(skel->maps.rw_tid_entry, fentry && !task);
	/* fexit programs sum into rw_sums themselves */
	st->fd_io = st->agg && rw_fd_io_wanted(st) && !fentry;
	skel->rodata->rw_fd_io = st->fd_io;	/* for the calls the dispatcher cannot sum */
	st->kinds = st->fd_io && st->agent && st->want_kinds;
	skel->rodata->rw_fd_kinds = st->kinds;
	if (!st->agg || st->fd_io)
		bpf_map__set_max_entries(skel->maps.rw_sums, 1);
	st->fds = ks_ctx_fdtab(ctx);
	if (!st->fds)
		return -ENOMEM;
	st->uring_on = ks_ctx_slot_family(ctx, &rw_module, RW_SLOT_URING) >= 0 ||
		       ks_ctx_slot_family(ctx, &rw_module, RW_SLOT_URING_SQE) >= 0;
	skel->rodata->rw_uring_cqe_arg = st->uring_cqe_arg;
	skel->rodata->rw_uring_noreq = st->uring_noreq;
	if (!st->uring_on)
		bpf_map__set_max_entries(skel->maps.rw_uring_reqs, 1);
	return 0;
}

static int rw_init_all(struct ks_ctx *ctx, void *state)
{
	int err = rw_init(ctx, state);

	if (!err)
		rw_uring_detect(ctx, state);
	return err;
}

void rw_fd_json(struct ks_rec *r, const struct ks_fdinfo *i)
{
	ks_rec_str(r, "fd_kind", NULL, 0, i->kind_name, strlen(i->kind_name));
	if (i->path)
		ks_rec_kstr(r, "path", NULL, 0, i->path, i->path_len, false);
	if (i->proto)
		ks_rec_str(r, "proto", NULL, 0, i->proto, strlen(i->proto));
	if (i->laddr)
		ks_rec_kstr(r, "laddr", NULL, 0, i->laddr, i->laddr_len, false);
	if (i->raddr)
		ks_rec_kstr(r, "raddr", NULL, 0, i->raddr, i->raddr_len, false);
}

static void call_event(struct ks_ctx *ctx, struct rw_state *st, const struct ks_hdr *h)
{
	const struct rw_event *e = (const void *)h;
	const char *call = rw_call_name(e->sys);
	const struct ks_fdinfo *fi;
	struct ks_rec r;

	if (e->ret > 0)
		ks_counter_add(rw_call_writes(e->sys) ? st->s_wbytes : st->s_rbytes, e->ret);
	fi = ks_fdtab__lookup(st->fds, h->pid, e->fd, e->lat_ns ? h->ts - e->lat_ns : 0, h->ts);
	ks_rec_init(&r, "rw", h);
	ks_rec_uint(&r, NULL, "PID", 7, h->pid);	/* JSON has the header's */
	ks_rec_uint(&r, NULL, "TID", 7, h->tid);
	ks_rec_kstr(&r, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
	ks_rec_str(&r, "call", "CALL", -8, call, strlen(call));
	ks_rec_int(&r, "fd", "FD", 4, e->fd);
	ks_rec_uint(&r, "req", "REQ", 8, e->req);
	ks_rec_int(&r, "ret", e->ret < 0 ? NULL : "RET", 8, e->ret);
	if (e->ret < 0) {
		ks_rec_add(&r, "err", "RET", 8, KS_V_ERRNO)->i = -e->ret;
		ks_rec_int(&r, "errno", NULL, 0, -e->ret);
	}
	if (!st->no_latency)
		ks_rec_add(&r, "lat_ns", "LAT", 7, KS_V_NS)->u = e->lat_ns;
	ks_rec_str(&r, NULL, "FD-KIND/NAME", 0, fi->disp, fi->disp_len);
	rw_fd_json(&r, fi);
	if (rw_call_two_fds(e->sys))
		ks_rec_int(&r, "in_fd", NULL, 0, e->fd2);
	else if (e->sys == SYS_sendmmsg || e->sys == SYS_recvmmsg)
		ks_rec_int(&r, "msgs", NULL, 0, e->fd2);
	if (e->flags & (RW_F_REQ_PART | RW_F_REQ_SAT))
		ks_rec_add(&r, "req_partial", NULL, 0, KS_V_BOOL)->u = 1;
	if (e->flags & RW_F_RET_PART)
		ks_rec_add(&r, "ret_partial", NULL, 0, KS_V_BOOL)->u = 1;
	ks_emit(ctx, &r);
}

static void rw_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct rw_state *st = state;

	if (h->type == RW_EV_FD) {
		char lname[RW_UNIX_NAME], rname[RW_UNIX_NAME];
		struct ks_fdchange c;

		if (rw_fdchange_from_event(&c, (const struct rw_fd_event *)h, size, lname, rname))
			ks_fdtab__apply(st->fds, &c);
		return;
	}
	if (h->type == RW_EV_URING) {
		rw_uring_event(ctx, st, h, size);
		return;
	}
	if (h->type != RW_EV_CALL || size < sizeof(struct rw_event))
		return;
	ks_counter_add(ks_metric_comm(st->m_calls, &st->c_calls, h->pid, h->comm), 1);
	if (ks_ctx_streaming(ctx))
		call_event(ctx, st, h);
}

/* -p: what the process's fds are now, before "ready" (its first records are named right);
 * its records keep the table right from here on. */
static void rw_started(struct ks_ctx *ctx, void *state)
{
	struct rw_state *st = state;
	const struct ks_common *o = ks_ctx_common(ctx);

	if (o->pid)
		ks_fdtab__scan(st->fds, o->pid, ks_clock_mono_now(), 5000);
}

/* A process's rows leave the kernel's table once reported (the core forgets its fds). */
static void rw_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct rw_state *st = state;

	if (st->agg && h->type == KS_EV_PROC_EXIT)
		ks_pidset_add(&st->gone, h->pid);
}

static void rw_fini(void *state)
{
	struct rw_state *st = state;

	st->fds = NULL;	/* the session's */
	free(st->prev);
	st->prev = NULL;
	st->nprev = 0;
	ks_pidset_free(&st->gone);
}

KS_BPF_OBJECT(rw);

static const struct ks_opt rw_agent_opts[] = {
	{ "rw-kinds", 0, KS_OPT_FLAG, offsetof(struct rw_state, want_kinds), NULL,
	  "rw: count reads and writes by kind of fd too (file, socket, other; a service's "
	  "timeline splits them): a look-up of the fd's file on read, write, readv, writev, "
	  "sendfile, splice and tee (docs/rw.md, Cost)" },
	{ 0 },
};

const struct ks_module rw_module = {
	.name = "rw",
	.id = KS_MOD_rw,
	.bpf = &rw_bpf_obj,
	.brief = "stream every read/write/send/recv (io_uring too) of a process: fd kind, latency",
	.usage = "  ksight rw -p 1234              # every read/write call of process 1234\n"
		 "  ksight rw -p 1234 --fd 5       # only the calls on fd 5\n"
		 "  ksight rw -p 1234 --no-latency # the cheapest stream: calls not timed\n"
		 "  ksight rw -p 1234 --json       # JSON lines with path or addresses\n"
		 "                                 # (io_uring requests: \"call\":\"io_uring:read\")\n"
		 "  ksight rw --summary -p 1234 1  # per fd table every second (in the kernel)\n"
		 "  ksight rw --summary --sort bytes --top 10 5\n",
	.opts = rw_opts,
	.state_size = sizeof(struct rw_state),
	.defaults = &defaults,
	.positional = true,
	.slots = rw_slots,
	.types = rw_types,
	.configure = rw_configure,
	.want_enter = rw_want_enter,
	.agent_defaults = rw_agent_defaults,
	.agent_opts = rw_agent_opts,
	.sys_inline = rw_sys_inline,
	.want_slot = rw_want_slot,
	.init = rw_init_all,
	.setup = rw_setup,
	.started = rw_started,
	.proc = rw_proc,
	.event = rw_event,
	.report = rw_report,
	.collect = rw_collect,
	.summary = rw_summary,
	.fini = rw_fini,
};
