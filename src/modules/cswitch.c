// SPDX-License-Identifier: GPL-2.0
/*
 * cswitch: `ksight sched`, context switches per process (or thread, -L), voluntary and
 * involuntary, migrations, wakeups, threads created and exited, counted in the kernel
 * (bpf/cswitch.bpf.c) and printed each interval (or once at the end) busiest first.
 * Switches and migrations are read from the tasks where the kernel can (--read; task
 * storage, 5.11+): the kernel's own per-task counts, taken each interval by an iterator
 * and at each thread's exit, with no program at sched_switch.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/ident.h"
#include "core/pidset.h"
#include "core/rows_collect.h"
#include "core/task_counts.h"
#include "modules/cswitch_int.h"
#include "cswitch.skel.h"

static const struct ks_opt cswitch_opts[] = {
	{ "per-thread", 'L', KS_OPT_FLAG, offsetof(struct cswitch_state, per_thread), NULL,
	  "one row per thread instead of per process" },
	{ "read", 0, KS_OPT_STR, offsetof(struct cswitch_state, read), "HOW",
	  "tasks: take switches and migrations from the kernel's per-task counts each interval "
	  "(nothing runs at switches; the default where the kernel has task storage, 5.11); "
	  "switches: count each switch and migration as it happens", 0, 16 },
	{ "top", 0, KS_OPT_UINT, offsetof(struct cswitch_state, top), "N",
	  "rows per report, most switches first (default 20, 0: all)", 0, 1000000 },
	{ 0 },
};

static const struct ks_slot cswitch_slots[] = {
	{
		.name = "see switches",
		.alts = {
			{ KS_FAM_TP_BTF, { { "cswitch__switch_btf", "sched_switch" } } },
			{ KS_FAM_RAW_TP, { { "cswitch__switch_raw", "sched_switch" } } },
			{ KS_FAM_TP, { { "cswitch__switch_tp", "sched/sched_switch" } } },
		},
	},
	{
		.name = "see wakeups",
		.alts = {
			{ KS_FAM_TP_BTF, { { "cswitch__wakeup_btf", "sched_wakeup" },
					   { "cswitch__wakeup_new_btf", "sched_wakeup_new" } } },
			{ KS_FAM_RAW_TP, { { "cswitch__wakeup_raw", "sched_wakeup" },
					   { "cswitch__wakeup_new_raw", "sched_wakeup_new" } } },
		},
	},
	{
		.name = "see moves",
		.alts = {
			{ KS_FAM_TP_BTF, { { "cswitch__migrate_btf", "sched_migrate_task" } } },
			{ KS_FAM_RAW_TP, { { "cswitch__migrate_raw", "sched_migrate_task" } } },
		},
	},
	{
		.name = "see thread starts",
		.alts = {
			{ KS_FAM_TP_BTF, { { "cswitch__fork_btf", "sched_process_fork" },
					   { "cswitch__exit_btf", "sched_process_exit" } } },
			{ KS_FAM_RAW_TP, { { "cswitch__fork_raw", "sched_process_fork" },
					   { "cswitch__exit_raw", "sched_process_exit" } } },
		},
	},
	{ 0 },
};

static const struct ks_evtype cswitch_types[] = {
	{ CSWITCH_EV_SWITCH, "switches", true },
	{ 0 },
};

static int cswitch_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	return ks_tc_check(((struct cswitch_state *)state)->read, err, len);
}

static int cswitch_kernel_check(void *state, char *err, size_t len)
{
	struct cswitch_state *st = state;

	return ks_tc_choose("sched", st->read, true, &st->tasks, err, len);
}

/* The agent reads from the tasks where the kernel can. */
static void cswitch_agent_defaults(void *state)
{
	struct cswitch_state *st = state;
	char err[160];

	ks_tc_choose("sched", NULL, true, &st->tasks, err, sizeof(err));
}

/* Read from the tasks: neither the switch nor the migration hook. */
static bool cswitch_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct cswitch_state *st = state;

	return !st->tasks || (slot != &cswitch_slots[0] && slot != &cswitch_slots[2]);
}

/* `ksight status`: whether switches and moves are read from the tasks here. */
static void cswitch_status(struct ks_ctx *ctx, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ks_tc_possible() ?
		 "switches and migrations are read from the tasks (task storage): their hooks "
		 "are --read switches'" :
		 "no task storage (Linux 5.11): switches and migrations are counted at their "
		 "hooks");
}

static int cswitch_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct cswitch_state *st = state;
	struct cswitch_bpf *skel = vskel;
	const struct ks_common *c = ks_ctx_common(ctx);
	struct stat s;

	skel->rodata->cswitch_per_thread = st->per_thread;
	skel->rodata->cswitch_tasks = st->tasks;
	ks_tc_setup(st->tasks, skel->progs.cswitch__tasks, skel->maps.tc_seen,
		    &skel->rodata->ks_tc_t0);
	/* a cgroup v2 directory's inode number is the cgroup's id (kernfs) */
	if (c->cgroup && !stat(c->cgroup, &s))
		skel->rodata->cswitch_cgroup_id = s.st_ino;
	return 0;
}

static int cswitch_attach(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct cswitch_state *st = state;
	struct cswitch_bpf *skel = vskel;

	return st->tasks ? ks_tc_attach(&st->reader, skel->progs.cswitch__tasks) : 0;
}

/* The first reading of the tasks, at the start: where each one's counts stand. */
static void cswitch_started(struct ks_ctx *ctx, void *state)
{
	ks_tc_read(&((struct cswitch_state *)state)->reader);
}

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct cswitch_key));
}

static uint64_t switches(const void *row)
{
	const struct cswitch_row *r = row;

	return r->v.voluntary + r->v.involuntary;
}

static int by_switches(const void *a, const void *b)
{
	const struct cswitch_row *x = a, *y = b;

	if (switches(x) != switches(y))
		return switches(x) > switches(y) ? -1 : 1;
	if (x->v.wakeups != y->v.wakeups)
		return x->v.wakeups > y->v.wakeups ? -1 : 1;
	return by_key(a, b);
}

/* Turn a row into its change since @p (NULL: none before); true when it is not zero. */
static bool sub_row(void *r, const void *p)
{
	struct cswitch_row *d = r;
	const struct cswitch_row *o = p;

	if (o) {
		d->v.voluntary -= o->v.voluntary;
		d->v.involuntary -= o->v.involuntary;
		d->v.migrations -= o->v.migrations;
		d->v.wakeups -= o->v.wakeups;
		d->v.threads_created -= o->v.threads_created;
		d->v.threads_exited -= o->v.threads_exited;
	}
	return d->v.voluntary || d->v.involuntary || d->v.migrations || d->v.wakeups ||
	       d->v.threads_created || d->v.threads_exited;
}

static const struct cswitch_state cswitch_defaults = {
	.top = 20,
	.reader = { .cmd = "sched" },
	.rows = KS_TASK_ROWS(struct cswitch_row, by_key, sub_row, switches),
};

static void emit_row(struct ks_ctx *ctx, const struct cswitch_state *st, const struct cswitch_row *p)
{
	const char *svc;
	struct ks_hdr h;
	struct ks_rec r;

	ks_row_hdr(&h, p->k.pid, p->k.tid, p->v.cgroup, p->v.comm);
	svc = ks_ident__service(ks_ctx_ident(ctx), &h);
	ks_rec_init(&r, "sched", &h);
	r.kind = KS_K_REPORT;
	ks_rec_uint(&r, NULL, "PID", -7, p->k.pid);	/* JSON: the header's */
	if (st->per_thread)
		ks_rec_uint(&r, NULL, "TID", -7, p->k.tid);
	ks_rec_kstr(&r, NULL, "COMM", -16, h.comm, sizeof(h.comm), false);
	ks_rec_str(&r, NULL, "SERVICE", -20, svc, strlen(svc));
	ks_rec_add(&r, "switches", "CSW", 8, KS_V_COUNT)->u = switches(p);
	ks_rec_add(&r, "voluntary", "VOL", 8, KS_V_COUNT)->u = p->v.voluntary;
	ks_rec_add(&r, "involuntary", "INVOL", 8, KS_V_COUNT)->u = p->v.involuntary;
	ks_rec_add(&r, "migrations", "MIGR", 7, KS_V_COUNT)->u = p->v.migrations;
	ks_rec_add(&r, "wakeups", "WAKEUPS", 8, KS_V_COUNT)->u = p->v.wakeups;
	ks_rec_add(&r, "threads_created", "THR+", 6, KS_V_COUNT)->u = p->v.threads_created;
	ks_rec_add(&r, "threads_exited", "THR-", 6, KS_V_COUNT)->u = p->v.threads_exited;
	ks_emit(ctx, &r);
}

/* The rows that changed since the last report, busiest first, --top of them; the rows of
 * processes that exited leave the kernel's table once reported. */
static void cswitch_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct cswitch_state *st = state;
	struct cswitch_bpf *skel = vskel;
	struct bpf_map *map = skel->maps.cswitch_rows;
	struct cswitch_row *d;
	uint64_t total;
	size_t m;

	ks_tc_read(&st->reader);
	m = ks_task_rows_read(&st->rows, map, &total, (void **)&d);
	ks_ctx_aggregated(ctx, CSWITCH_EV_SWITCH, total);
	if (!d)
		return;
	qsort(d, m, sizeof(*d), by_switches);
	for (size_t i = 0; i < m && (!st->top || i < st->top); i++)
		emit_row(ctx, st, &d[i]);
	free(d);
}

#define CSWITCH_METRIC(var, what, text)                                                   \
	static const struct ks_metric_desc var = {                                        \
		.name = "ksight_sched_" what "_total",                                    \
		.help = text ", by service",                                              \
		.type = KS_METRIC_COUNTER,                                                \
		.labels = { "service" },                                                  \
		.idle = 60,                                                               \
	}

CSWITCH_METRIC(vol_desc, "voluntary_switches", "Context switches while blocking");
CSWITCH_METRIC(invol_desc, "involuntary_switches", "Context switches while runnable (preempted)");
CSWITCH_METRIC(migr_desc, "migrations", "Tasks moved to another CPU");
CSWITCH_METRIC(wake_desc, "wakeups", "Tasks woken");

static int cswitch_init(struct ks_ctx *ctx, void *state)
{
	struct cswitch_state *st = state;

	st->m_vol = ks_ctx_metric(ctx, &vol_desc);
	st->m_invol = ks_ctx_metric(ctx, &invol_desc);
	st->m_migr = ks_ctx_metric(ctx, &migr_desc);
	st->m_wake = ks_ctx_metric(ctx, &wake_desc);
	return st->m_vol && st->m_invol && st->m_migr && st->m_wake ? 0 : -errno;
}

static void cswitch_add(void *state, const void *row, const char *svc)
{
	const struct cswitch_row *r = row;
	struct cswitch_state *st = state;

	ks_counter_add(ks_metric_get(st->m_vol, svc), r->v.voluntary);
	ks_counter_add(ks_metric_get(st->m_invol, svc), r->v.involuntary);
	ks_counter_add(ks_metric_get(st->m_migr, svc), r->v.migrations);
	ks_counter_add(ks_metric_get(st->m_wake, svc), r->v.wakeups);
}

/* Agent: the rows that changed since the last interval into the registry, per service. */
static void cswitch_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	static const struct ks_row_who who = KS_ROW_WHO(struct cswitch_row);
	struct cswitch_state *st = state;
	struct cswitch_bpf *skel = vskel;

	ks_tc_read(&st->reader);
	ks_task_rows_collect(ctx, &st->rows, skel->maps.cswitch_rows, CSWITCH_EV_SWITCH, &who,
			     cswitch_add, st);
}

/* The agent's line: switches per second, voluntary or not, and the services that switch
 * most. */
static void cswitch_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct cswitch_state *st = state;
	uint64_t vol = ks_metric_delta(st->m_vol), invol = ks_metric_delta(st->m_invol);
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "sched");
	ks_rec_rate(&r, "voluntary_per_s", "vol", vol, secs);
	ks_rec_rate(&r, "involuntary_per_s", "invol", invol, secs);
	ks_rec_rate(&r, "migrations_per_s", "migr", ks_metric_delta(st->m_migr), secs);
	ks_rec_rate(&r, "wakeups_per_s", "wakeups", ks_metric_delta(st->m_wake), secs);
	ks_rec_uint(&r, "voluntary", NULL, 0, vol);
	ks_rec_uint(&r, "involuntary", NULL, 0, invol);
	ks_rec_top(&r, "top_voluntary", "top:", &o, top, 5, st->m_vol, secs);
	ks_emit(ctx, &r);
}

/* A process that exited: its rows go after the next report has shown them. */
static void cswitch_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct cswitch_state *st = state;

	if (h->type == KS_EV_PROC_EXIT)
		ks_task_rows_gone(&st->rows, h->pid);
}

static void cswitch_fini(void *state)
{
	struct cswitch_state *st = state;

	ks_tc_free(&st->reader);
	ks_task_rows_free(&st->rows);
}

KS_BPF_OBJECT(cswitch);

const struct ks_module cswitch_module = {
	.name = "sched",
	.id = KS_MOD_cswitch,
	.bpf = &cswitch_bpf_obj,
	.agent_optin = true,
	.brief = "context switches per process or thread: voluntary, involuntary, migrations, "
		 "wakeups, threads created and exited",
	.usage = "  ksight sched                # per process, one table at the end (Ctrl-C)\n"
		 "  ksight sched 1              # every second, the 20 busiest\n"
		 "  ksight sched -L -p 1234 1 5 # the threads of 1234, every second, 5 times\n"
		 "  ksight sched --top 0 --json # every process, JSON at the end\n",
	.opts = cswitch_opts,
	.state_size = sizeof(struct cswitch_state),
	.defaults = &cswitch_defaults,
	.positional = true,
	.slots = cswitch_slots,
	.types = cswitch_types,
	.configure = cswitch_configure,
	.kernel_check = cswitch_kernel_check,
	.want_slot = cswitch_want_slot,
	.status = cswitch_status,
	.agent_defaults = cswitch_agent_defaults,
	.init = cswitch_init,
	.setup = cswitch_setup,
	.attach = cswitch_attach,
	.started = cswitch_started,
	.collect = cswitch_collect,
	.summary = cswitch_summary,
	.proc = cswitch_proc,
	.report = cswitch_report,
	.fini = cswitch_fini,
};
