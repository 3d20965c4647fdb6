// SPDX-License-Identifier: GPL-2.0
/*
 * offcpu: `ksight offcpu`, time blocked by the sleeper's stack and process, with the
 * stack and process of the task that woke it, summed in the kernel (bpf/offcpu.bpf.c)
 * and symbolized at each report (core/symbolize.h): top stacks, or folded stacks
 * (sleeper;--;waker, in microseconds) for flame graph tools.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cgroup.h"
#include "core/ident.h"
#include "modules/offcpu_int.h"
#include "offcpu.skel.h"

static const struct ks_opt offcpu_opts[] = {
	{ "min-us", 0, KS_OPT_UINT, offsetof(struct offcpu_state, min_us), "US",
	  "count only intervals blocked at least US microseconds", 0, 1ULL << 40 },
	{ "max-us", 0, KS_OPT_UINT, offsetof(struct offcpu_state, max_us), "US",
	  "count only intervals blocked at most US microseconds (0: no bound)", 0, 1ULL << 40 },
	{ "user-only", 'U', KS_OPT_FLAG, offsetof(struct offcpu_state, user_only), NULL,
	  "user stacks only" },
	{ "kernel-only", 'K', KS_OPT_FLAG, offsetof(struct offcpu_state, kernel_only), NULL,
	  "kernel stacks only" },
	{ "no-waker", 0, KS_OPT_FLAG, offsetof(struct offcpu_state, no_waker), NULL,
	  "do not record who woke the sleeper (cheaper)" },
	{ "all", 0, KS_OPT_FLAG, offsetof(struct offcpu_state, all), NULL,
	  "also time off-CPU while runnable (preempted), not only blocked" },
	{ "per-process", 'P', KS_OPT_FLAG, offsetof(struct offcpu_state, per_process), NULL,
	  "one row per process (the default)" },
	{ "per-thread", 'L', KS_OPT_FLAG, offsetof(struct offcpu_state, per_thread), NULL,
	  "one row per thread (sleeper and waker) instead of per process" },
	{ "per-cgroup", 0, KS_OPT_FLAG, offsetof(struct offcpu_state, per_cgroup), NULL,
	  "rows split by the sleeper's cgroup v2, its path shown (folded: the path first)" },
	{ "folded", 0, KS_OPT_FLAG, offsetof(struct offcpu_state, folded), NULL,
	  "folded stacks on stdout (comm;sleeper;--;waker;waker-comm MICROSECONDS)" },
	{ "top", 0, KS_OPT_UINT, offsetof(struct offcpu_state, top), "N",
	  "stacks per report, most time blocked first (default 10, 0: all)", 0, 1000000 },
	{ "stack-storage", 0, KS_OPT_UINT, offsetof(struct offcpu_state, stack_storage), "N",
	  "distinct stacks the kernel keeps (default 16384)", 256, 1048576 },
	{ "read", 0, KS_OPT_STR, offsetof(struct offcpu_state, read), "HOW",
	  "switches: time each block at the switches, with stacks (the default); tasks: no "
	  "stacks, time blocked and blocks per process from the kernel's per-task counts each "
	  "interval, nothing run at switches (the agent's way; task storage, 5.11)", 0, 16 },
	{ 0 },
};

static const struct ks_slot offcpu_slots[] = {
	{
		.name = "see switches",
		.alts = {
			{ KS_FAM_TP_BTF, { { "offcpu__switch_btf", "sched_switch" } } },
			{ KS_FAM_RAW_TP, { { "offcpu__switch_raw", "sched_switch" } } },
		},
	},
	{
		.name = "see wakers",
		.alts = {
			{ KS_FAM_TP_BTF, { { "offcpu__waking_btf", "sched_waking" } } },
			{ KS_FAM_RAW_TP, { { "offcpu__waking_raw", "sched_waking" } } },
		},
	},
	{
		/* read from the tasks: the iterator (not a hook) reads the live tasks */
		.name = "tasks' exits",
		.alts = {
			{ KS_FAM_TP_BTF, { { "offcpu__exit_btf", "sched_process_exit" } } },
			{ KS_FAM_RAW_TP, { { "offcpu__exit_raw", "sched_process_exit" } } },
			{ KS_FAM_TP, { { "offcpu__exit_tp", "sched/sched_process_exit" } } },
		},
	},
	{ 0 },
};

/* From the tasks: only the exit hook. At switches, --no-waker (the agent's way too): a
 * wakeup has nothing to record, so no program runs at each one of the machine. */
static bool offcpu_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct offcpu_state *st = state;

	if (st->tasks)
		return slot == &offcpu_slots[2];
	return slot == &offcpu_slots[0] || (slot == &offcpu_slots[1] && !st->no_waker);
}

static const struct ks_evtype offcpu_types[] = {
	{ OFFCPU_EV_BLOCK, "blocked", true },
	{ OFFCPU_EV_START, "sleepers" },
	{ OFFCPU_EV_FIRST, "first_stacks" },
	{ 0 },
};

static int offcpu_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct offcpu_state *st = state;

	if (st->user_only && st->kernel_only) {
		snprintf(err, len, "-U and -K exclude each other");
		return -1;
	}
	if (st->per_process + st->per_thread + st->per_cgroup > 1) {
		snprintf(err, len, "-P, -L and --per-cgroup exclude each other");
		return -1;
	}
	if (st->max_us && st->min_us > st->max_us) {
		snprintf(err, len, "--min-us %llu is above --max-us %llu",
			 (unsigned long long)st->min_us, (unsigned long long)st->max_us);
		return -1;
	}
	if (st->folded && (common->json || common->outputs.n)) {
		snprintf(err, len, "--folded writes stdout: not with --json or -o");
		return -1;
	}
	if (ks_tc_check(st->read, err, len))
		return -1;
	if (st->read && !strcmp(st->read, "tasks")) {
		if (st->user_only || st->kernel_only || st->folded || st->min_us || st->max_us) {
			snprintf(err, len, "--read tasks keeps no stacks and no intervals: not with "
				 "-U, -K, --folded, --min-us or --max-us");
			return -1;
		}
		st->no_stacks = st->no_waker = true;
	}
	return 0;
}

/* From the tasks where no stack is asked for (the agent, --read tasks) and the kernel can:
 * 0, or -1 with the missing feature in @err (--read tasks on a kernel without task
 * storage). */
static int offcpu_kernel_check(void *state, char *err, size_t len)
{
	struct offcpu_state *st = state;

	return ks_tc_choose("offcpu", st->read, st->no_stacks, &st->tasks, err, len);
}

/* `ksight status`: how the agent's offcpu reads on this kernel. */
static void offcpu_status(struct ks_ctx *ctx, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ks_tc_possible() ?
		 "without stacks (the agent, --read tasks) blocked time is read from the tasks "
		 "(task storage): no switch hook" :
		 "no task storage (Linux 5.11): blocked time is timed at every switch");
}

static const struct ks_metric_desc blocked_desc = {
	.name = "ksight_offcpu_blocked_seconds_total",
	.help = "Time threads spent blocked off the CPU, by service (from the tasks: neither "
		"running nor waiting for a CPU; at switches, 5.10: switch-out asleep to switch-in)",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
	.unit = "seconds",
	.scale = 1e-9,
};

static const struct ks_metric_desc intervals_desc = {
	.name = "ksight_offcpu_blocks_total",
	.help = "Times threads blocked off the CPU (and came back), by service",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
};

/* The agent takes no stacks (a stack walk at every switch of the machine): blocked time
 * and count per process, into the registry per service, read from the tasks where the
 * kernel can. */
static void offcpu_agent_defaults(void *state)
{
	struct offcpu_state *st = state;
	char err[KS_ERR_LEN];

	st->no_stacks = true;
	st->no_waker = true;
	st->stack_storage = 1;
	ks_tc_choose("offcpu", NULL, true, &st->tasks, err, sizeof(err));	/* cannot fail */
}

static int offcpu_agent_init(struct ks_ctx *ctx, struct offcpu_state *st)
{
	st->m_blocked = ks_ctx_metric(ctx, &blocked_desc);
	st->m_intervals = ks_ctx_metric(ctx, &intervals_desc);
	return st->m_blocked && st->m_intervals ? 0 : -errno;
}

static void offcpu_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct offcpu_state *st = state;
	struct offcpu_bpf *skel = vskel;
	struct offcpu_row *d;
	uint64_t total;
	size_t m;

	ks_tc_read(&st->reader);
	m = ks_task_rows_read(&st->rows, skel->maps.offcpu_rows, &total, (void **)&d);
	ks_ctx_aggregated(ctx, OFFCPU_EV_BLOCK, total);
	for (size_t i = 0; d && i < m; i++) {
		struct ks_hdr h;
		const char *svc;

		ks_row_hdr(&h, d[i].k.pid, d[i].k.tid, d[i].v.cgroup, d[i].k.comm);
		svc = ks_ident__service(ks_ctx_ident(ctx), &h);
		ks_counter_add(ks_metric_get(st->m_blocked, svc), d[i].v.total_ns);
		ks_counter_add(ks_metric_get(st->m_intervals, svc), d[i].v.count);
	}
	free(d);
}

/* The agent's line: blocked intervals per second, the interval's blocked time, and the
 * services that waited most. */
static void offcpu_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct offcpu_state *st = state;
	uint64_t n = ks_metric_delta(st->m_intervals), ns = ks_metric_delta(st->m_blocked);
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "offcpu");
	ks_rec_rate(&r, "blocks_per_s", "blocks", n, secs);
	ks_rec_uint(&r, "blocks", NULL, 0, n);
	ks_rec_add(&r, "blocked_ns", "blocked", 0, KS_V_NS)->u = ns;
	ks_rec_top(&r, "top_blocked", "top:", &o, top, 5, st->m_blocked, secs);
	ks_emit(ctx, &r);
}

static int offcpu_init(struct ks_ctx *ctx, void *state)
{
	struct offcpu_state *st = state;

	if (ks_ctx_common(ctx)->agent)
		return offcpu_agent_init(ctx, st);
	return ks_symmaps_start(&st->maps);
}

/* The first user stack of a process image: its maps now, while it lives. */
static void offcpu_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	const struct offcpu_first *e = (const void *)h;
	struct offcpu_state *st = state;

	if (h->type != OFFCPU_EV_FIRST || size < sizeof(*e))
		return;
	ks_symmaps_want(&st->maps, h->pid, e->exec_id);
}

static int offcpu_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct offcpu_state *st = state;
	struct offcpu_bpf *skel = vskel;
	const struct ks_common *c = ks_ctx_common(ctx);
	struct stat cg;

	skel->rodata->offcpu_user = !st->kernel_only && !st->no_stacks;
	skel->rodata->offcpu_kernel = !st->user_only && !st->no_stacks;
	skel->rodata->offcpu_waker = !st->no_waker && !st->no_stacks;
	skel->rodata->offcpu_all = st->all;
	skel->rodata->offcpu_per_thread = st->per_thread;
	skel->rodata->offcpu_per_cgroup = st->per_cgroup;
	skel->rodata->offcpu_min_ns = st->min_us * 1000;
	skel->rodata->offcpu_max_ns = st->max_us ? st->max_us * 1000 : ~0ULL;
	/* a cgroup v2 directory's inode number is the cgroup's id (kernfs) */
	if (c->cgroup && !stat(c->cgroup, &cg))
		skel->rodata->offcpu_cgroup_id = cg.st_ino;
	ks_tc_setup(st->tasks, skel->progs.offcpu__tasks, skel->maps.tc_seen,
		    &skel->rodata->ks_tc_t0);
	return bpf_map__set_max_entries(skel->maps.offcpu_stacks, st->stack_storage);
}

static int offcpu_attach(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct offcpu_state *st = state;
	struct offcpu_bpf *skel = vskel;

	return st->tasks ? ks_tc_attach(&st->reader, skel->progs.offcpu__tasks) : 0;
}

static void queue_cgroup(void *arg, uint64_t id, const char *path)
{
	(void)path;
	ks_ident__cgroup_path(arg, id);
}

/* --per-cgroup: the paths of the cgroups there now are resolved on the worker before the
 * first report needs them (one made later is, from its first report on). */
static void offcpu_started(struct ks_ctx *ctx, void *state)
{
	struct offcpu_state *st = state;
	struct ks_cgfs fs;

	ks_tc_read(&st->reader);	/* from the tasks: where each one stands */
	if (!st->per_cgroup || ks_cgfs__open(&fs, "/proc"))
		return;
	ks_cgfs__walk(&fs, 4096, queue_cgroup, ks_ctx_ident(ctx));
	ks_cgfs__close(&fs);
}

static void offcpu_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct offcpu_state *st = state;

	if (h->type == KS_EV_PROC_EXIT)
		ks_task_rows_gone(&st->rows, h->pid);
}

static void offcpu_fini(void *state)
{
	struct offcpu_state *st = state;

	ks_tc_free(&st->reader);
	ks_symmaps_stop(&st->maps);
	ks_task_rows_free(&st->rows);
}

static const struct offcpu_state offcpu_defaults = {
	.top = 10,
	.stack_storage = 16384,
	.rows = OFFCPU_TASK_ROWS,
	.reader = { .cmd = "offcpu" },
};

KS_BPF_OBJECT(offcpu);

const struct ks_module offcpu_module = {
	.name = "offcpu",
	.id = KS_MOD_offcpu,
	.bpf = &offcpu_bpf_obj,
	.agent_optin = true,
	.brief = "time blocked off-CPU by stack and process, with the waker's stack",
	.usage = "  ksight offcpu --duration 10             # top blocking stacks and their wakers\n"
		 "  ksight offcpu -p 1234 --min-us 1000 5 3  # one process, sleeps >= 1 ms, every 5 s\n"
		 "  ksight offcpu -L -t 1235 --json --duration 5  # one thread, wakers by thread\n"
		 "  ksight offcpu --folded --duration 30 > out.folded  # sleeper;--;waker, in us\n"
		 "  ksight offcpu -K --no-waker --duration 10  # kernel stacks only, no waker\n"
		 "  ksight offcpu --per-cgroup --folded --duration 10  # by cgroup: path;comm;...\n"
		 "  ksight offcpu --read tasks 10         # blocked time per process, no stacks, "
		 "nothing run at switches\n",
	.opts = offcpu_opts,
	.state_size = sizeof(struct offcpu_state),
	.defaults = &offcpu_defaults,
	.positional = true,
	.slots = offcpu_slots,
	.types = offcpu_types,
	.configure = offcpu_configure,
	.want_slot = offcpu_want_slot,
	.kernel_check = offcpu_kernel_check,
	.status = offcpu_status,
	.init = offcpu_init,
	.setup = offcpu_setup,
	.attach = offcpu_attach,
	.started = offcpu_started,
	.event = offcpu_event,
	.proc = offcpu_proc,
	.report = offcpu_report,
	.agent_defaults = offcpu_agent_defaults,
	.collect = offcpu_collect,
	.summary = offcpu_summary,
	.fini = offcpu_fini,
};
