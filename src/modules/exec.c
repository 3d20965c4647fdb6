// SPDX-License-Identifier: GPL-2.0
/*
 * exec: every exec with its arguments, every failed exec with its errno, every process
 * exit with its status and lifetime (execsnoop + exitsnoop). Successful execs and exits are
 * the core's lifecycle records; failed execs come from this module's syscall handler.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/ident.h"
#include "core/module.h"
#include "exec.h"
#include "core/argv.h"
#include "sink/sink.h"
#include "exec.skel.h"

struct exec_state {
	bool failed_only;	/* -x */
	bool no_exits;		/* --no-exits */
	uint64_t max_args;
	/* metrics */
	struct ks_metric *m_execs;	/* per process name (the new image's) */
	struct ks_metric *m_spawns;	/* per service and the child's (the agent's) */
	struct ks_comm_cache c_execs;
	struct ks_series *s_fails, *s_exits;
};

static const struct ks_metric_desc exec_execs_desc = {
	.name = "ksight_exec_execs_total",
	.help = "Successful execs, per process name after the exec",
	.type = KS_METRIC_COUNTER,
	.labels = { "comm" },
	.budget = 512,
	.idle = 60,	/* intervals: names gone quiet make room for new ones */
};

/* The map's spawn edges (docs/map.md, "Spawn edges") for Prometheus, so that the fleet's
 * map has them too: each exec whose task came from another service (the agent names the
 * one it came from, core/reader.c) counts once under that service and its new one. */
static const struct ks_metric_desc exec_spawns_desc = {
	.name = "ksight_exec_spawns_total",
	.help = "Successful execs that took a task from one service (service) into another "
		"(child): the service map's spawn edges",
	.type = KS_METRIC_COUNTER,
	.labels = { "service", "child" },
	.budget = 512,
	.idle = 60,
};

static const struct ks_metric_desc exec_fails_desc = {
	.name = "ksight_exec_failures_total",
	.help = "Execs that failed (each attempt: a PATH search tries several)",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_metric_desc exec_exits_desc = {
	.name = "ksight_exec_exits_total",
	.help = "Processes that ended (their last thread)",
	.type = KS_METRIC_COUNTER,
};

static const struct exec_state defaults = { .max_args = EXEC_MAX_ARGS };

static const struct ks_opt exec_opts[] = {
	{ "failed", 'x', KS_OPT_FLAG, offsetof(struct exec_state, failed_only), NULL,
	  "only failed execs" },
	{ "no-exits", 0, KS_OPT_FLAG, offsetof(struct exec_state, no_exits), NULL,
	  "do not show process exits" },
	{ "max-args", 0, KS_OPT_UINT, offsetof(struct exec_state, max_args), "N",
	  "arguments shown per exec (1-20, default 20)", 1, EXEC_MAX_ARGS },
	{ 0 },
};

static const int exec_syscalls[] = { SYS_execve, SYS_execveat, -1 };

static const struct ks_slot exec_slots[] = {
	{
		.name = "see failed execs",
		.alts = {
			{ KS_FAM_FENTRY, { { "exec__execve_fexit", "__x64_sys_execve" },
					   { "exec__execveat_fexit", "__x64_sys_execveat" } } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, exec_syscalls },
		},
	},
	{ 0 },
};

static const struct ks_evtype exec_types[] = {
	{ KS_EV_PROC_EXEC, "exec" },
	{ KS_EV_PROC_EXIT, "exit" },
	{ EXEC_EV_FAIL, "exec_failed" },
	{ 0 },
};

static void common_cols(struct ks_rec *r, const struct ks_hdr *h, const char *event,
			uint32_t ppid, uint32_t uid)
{
	r->group = "exec";
	ks_rec_str(r, "event", "EVENT", -5, event, strlen(event));
	ks_rec_uint(r, NULL, "PID", -7, h->pid);	/* JSON has the header's */
	ks_rec_uint(r, "ppid", "PPID", -7, ppid);
	ks_rec_uint(r, "uid", "UID", -5, uid);
	ks_rec_kstr(r, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
}

/* argv, limited to --max-args; in the ARGS column unless @table is false. Returns the
 * bytes kept, and updates *cut. */
static size_t add_args(struct ks_rec *r, const struct exec_state *st, const char *args,
		       size_t len, bool *cut, bool table)
{
	size_t n = ks_argv_limit(args, len, st->max_args, cut);
	struct ks_val *v = ks_rec_add(r, "args", table ? "ARGS" : NULL, 0, KS_V_ARGV);

	v->s.p = args;
	v->s.n = n;
	v->cut = *cut;
	ks_rec_add(r, "args_truncated", NULL, 0, KS_V_BOOL)->u = *cut;
	return n;
}

/* Exec @h of a task that was service @from: a spawn edge's exec when it is another now. */
static void count_spawn(struct ks_ctx *ctx, struct exec_state *st, const struct ks_hdr *h,
			const char *from)
{
	const char *to = ks_ident__service(ks_ctx_ident(ctx), h);
	const char *v[2] = { from, to };
	size_t len[2];

	if (!to || !strcmp(from, to))
		return;	/* a process moving on within its service: no edge (as the map's) */
	len[0] = strlen(from);
	len[1] = strlen(to);
	ks_counter_add(ks_metric_getn(st->m_spawns, v, len), 1);
}

static void on_proc_exec(struct ks_ctx *ctx, struct exec_state *st, const struct ks_hdr *h, size_t size)
{
	const struct ks_proc_exec *e = (const void *)h;
	const char *data = (const char *)e->data;
	const char *from;
	uint64_t from_cg;
	struct ks_rec r;
	bool cut;

	if (size < sizeof(*e) || sizeof(*e) + e->filename_len + e->args_len > size)
		return;
	ks_counter_add(ks_metric_comm(st->m_execs, &st->c_execs, h->pid, h->comm), 1);
	from = ks_ctx_exec_from(ctx, &from_cg);
	if (from)
		count_spawn(ctx, st, h, from);
	if (st->failed_only || !ks_ctx_streaming(ctx))
		return;
	ks_rec_init(&r, "exec", h);
	common_cols(&r, h, "exec", e->ppid, e->uid);
	ks_rec_int(&r, "ret", "RET", -6, 0);
	ks_rec_kstr(&r, "filename", NULL, 0, data, e->filename_len, false);
	cut = e->args_total > e->args_len;
	add_args(&r, st, data + e->filename_len, e->args_len, &cut, true);
	/* the service it came from: the map's spawn edges (docs/map.md) */
	if (from) {
		ks_rec_str(&r, "from_service", NULL, 0, from, strlen(from));
		ks_rec_uint(&r, "from_cgroup", NULL, 0, from_cg);
	}
	ks_emit(ctx, &r);
}

static void on_exec_fail(struct ks_ctx *ctx, struct exec_state *st, const struct ks_hdr *h,
			 size_t size)
{
	const struct exec_fail *e = (const void *)h;
	char args[EXEC_MAX_ARGS * EXEC_ARG_SLOT];
	char shown[KS_FILENAME_MAX + EXEC_MAX_ARGS * EXEC_ARG_SLOT];
	size_t n = 0, flen, skip;
	struct ks_val *v;
	struct ks_rec r;
	bool cut;

	if (size < sizeof(*e))
		return;
	ks_counter_add(st->s_fails, 1);
	if (!ks_ctx_streaming(ctx))
		return;
	/* the slots packed into the NUL-separated form the sinks take */
	for (uint32_t i = 0; i < e->nargs && i < EXEC_MAX_ARGS; i++) {
		size_t l = strnlen(e->args[i], e->arg_len[i] ? e->arg_len[i] : 1);

		memcpy(args + n, e->args[i], l);
		n += l;
		args[n++] = 0;
	}
	ks_rec_init(&r, "exec", h);
	common_cols(&r, h, "fail", e->ppid, e->uid);
	ks_rec_add(&r, "err", "RET", -6, KS_V_ERRNO)->i = -e->err;
	ks_rec_int(&r, "ret", NULL, 0, e->err);
	ks_rec_kstr(&r, "filename", NULL, 0, e->filename, sizeof(e->filename), false);
	cut = e->args_cut;
	n = add_args(&r, st, args, n, &cut, false);
	/* the table shows the path that failed (a PATH search tries several), then argv[1..] */
	flen = strnlen(e->filename, sizeof(e->filename));
	memcpy(shown, e->filename, flen);
	skip = strnlen(args, n);
	if (skip < n) {
		memcpy(shown + flen, args + skip, n - skip);
		flen += n - skip;
	}
	v = ks_rec_add(&r, NULL, "ARGS", 0, KS_V_ARGV);
	v->s.p = shown;
	v->s.n = flen;
	v->cut = cut;
	ks_emit(ctx, &r);
}

static void on_proc_exit(struct ks_ctx *ctx, struct exec_state *st, const struct ks_hdr *h, size_t size)
{
	const struct ks_proc_exit *e = (const void *)h;
	uint32_t sig = e->exit_code & 0x7f, code = (e->exit_code >> 8) & 0xff;
	uint64_t life = h->ts > e->start_ns ? h->ts - e->start_ns : 0;
	char detail[96];
	struct ks_rec r;
	int n;

	if (size < sizeof(*e))
		return;
	ks_counter_add(st->s_exits, 1);
	if (st->failed_only || st->no_exits || !ks_ctx_streaming(ctx))
		return;
	ks_rec_init(&r, "exit", h);
	common_cols(&r, h, "exit", e->ppid, e->uid);
	ks_rec_int(&r, "ret", "RET", -6, sig ? 128 + sig : code);
	ks_rec_uint(&r, "exit_code", NULL, 0, code);
	ks_rec_uint(&r, "signal", NULL, 0, sig);
	ks_rec_add(&r, "core_dumped", NULL, 0, KS_V_BOOL)->u = !!(e->exit_code & 0x80);
	ks_rec_uint(&r, "lifetime_ns", NULL, 0, life);
	ks_rec_uint(&r, "cpu_ns", NULL, 0, e->cpu_ns);
	if (sig)
		n = snprintf(detail, sizeof(detail), "killed by %s%s, lifetime %.3fs",
			     sigabbrev_np(sig) ?: "?", e->exit_code & 0x80 ? " (core dumped)" : "",
			     life / 1e9);
	else
		n = snprintf(detail, sizeof(detail), "exit code %u, lifetime %.3fs", code, life / 1e9);
	ks_rec_str(&r, "detail", "ARGS", 0, detail, n);
	ks_emit(ctx, &r);
}

static void exec_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	switch (h->type) {
	case KS_EV_PROC_EXEC:
		on_proc_exec(ctx, state, h, size);
		break;
	case KS_EV_PROC_EXIT:
		on_proc_exit(ctx, state, h, size);
		break;
	case EXEC_EV_FAIL:
		on_exec_fail(ctx, state, h, size);
		break;
	}
}

static int exec_init(struct ks_ctx *ctx, void *state)
{
	struct exec_state *st = state;
	struct ks_metric *fails = ks_ctx_metric(ctx, &exec_fails_desc);
	struct ks_metric *exits = ks_ctx_metric(ctx, &exec_exits_desc);

	st->m_execs = ks_ctx_metric(ctx, &exec_execs_desc);
	st->m_spawns = ks_ctx_metric(ctx, &exec_spawns_desc);
	if (!st->m_execs || !st->m_spawns || !fails || !exits)
		return -errno;
	st->s_fails = ks_metric_get(fails, NULL);
	st->s_exits = ks_metric_get(exits, NULL);
	return 0;
}

static void exec_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct exec_state *st = state;
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "exec");
	ks_rec_rate(&r, "execs_per_s", "execs", ks_metric_delta(st->m_execs), secs);
	ks_rec_add(&r, "failed", "failed", 0, KS_V_COUNT)->u = ks_counter_delta(st->s_fails);
	ks_rec_rate(&r, "exits_per_s", "exits", ks_counter_delta(st->s_exits), secs);
	ks_rec_top(&r, "top", "top:", &o, top, 5, st->m_execs, 0);
	ks_emit(ctx, &r);
}

KS_BPF_OBJECT(exec);

const struct ks_module exec_module = {
	.name = "exec",
	.id = KS_MOD_exec,
	.bpf = &exec_bpf_obj,
	.brief = "trace every exec (with arguments), failed exec and process exit",
	.usage = "  ksight exec                 # every exec and exit, system-wide\n"
		 "  ksight exec -x              # only execs that failed, with the errno\n"
		 "  ksight exec -u 1000 -T      # execs of uid 1000, with times\n"
		 "  ksight exec --json          # one JSON object per event\n",
	.opts = exec_opts,
	.state_size = sizeof(struct exec_state),
	.defaults = &defaults,
	.slots = exec_slots,
	.types = exec_types,
	.init = exec_init,
	.event = exec_event,
	.summary = exec_summary,
};
