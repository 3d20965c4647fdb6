// SPDX-License-Identifier: GPL-2.0
/*
 * runq: `ksight runqlat` (run-queue latency) and `ksight cpudist` (on-CPU time per slice,
 * off-CPU with -O), log2 histograms aggregated in the kernel (bpf/runq.bpf.c), printed
 * with p50/p90/p99 each interval or at the end: one for everything, or per process (-P),
 * thread (-L) or cgroup (--per-cgroup); with --preemptor (runq_pre.c) each histogram
 * after the cgroups that held the CPU while it waited.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyze/hist.h"
#include "core/metrics.h"
#include "core/module.h"
#include "core/pidset.h"
#include "core/rows.h"
#include "runq.h"
#include "runq.skel.h"
#include "runq_int.h"

/* The kernel's buckets are log2 of microseconds: observed as such, exposed in seconds.
 * The agent keys by cgroup (agent_defaults), the registry by its service. */
static const struct ks_metric_desc runq_lat_desc = {
	.name = "ksight_runqlat_seconds",
	.help = "Run-queue latency, woken or preempted to running, per service",
	.type = KS_METRIC_HIST,
	.labels = { "service" },
	.unit = "seconds",
	.scale = 1e-6,
};

static const struct ks_opt runq_opts[] = {
	{ "per-process", 'P', KS_OPT_FLAG, offsetof(struct runq_state, per_process), NULL,
	  "a histogram per process" },
	{ "per-thread", 'L', KS_OPT_FLAG, offsetof(struct runq_state, per_thread), NULL,
	  "a histogram per thread" },
	{ "per-cgroup", 0, KS_OPT_FLAG, offsetof(struct runq_state, per_cgroup), NULL,
	  "a histogram per cgroup v2" },
	{ "offcpu", 'O', KS_OPT_FLAG, offsetof(struct runq_state, offcpu), NULL,
	  "cpudist: time off the CPU, switch-out to switch-in" },
	{ "preemptor", 0, KS_OPT_FLAG, offsetof(struct runq_state, preemptor), NULL,
	  "runqlat: split each wait by the cgroup that ran instead (per cgroup unless -P/-L)" },
	{ 0 },
};

static const struct ks_slot runq_slots[] = {
	{
		.name = "see switches",
		.alts = {
			{ KS_FAM_TP_BTF, { { "runq__switch_btf", "sched_switch" } } },
			{ KS_FAM_RAW_TP, { { "runq__switch_raw", "sched_switch" } } },
		},
	},
	{
		.name = "see wakeups (runqlat)",
		.alts = {
			{ KS_FAM_TP_BTF, { { "runq__wakeup_btf", "sched_wakeup" },
					   { "runq__wakeup_new_btf", "sched_wakeup_new" } } },
			{ KS_FAM_RAW_TP, { { "runq__wakeup_raw", "sched_wakeup" },
					   { "runq__wakeup_new_raw", "sched_wakeup_new" } } },
		},
	},
	{ 0 },
};

static const struct ks_evtype runq_types[] = {
	{ RUNQ_EV_START, "runq_start", true },
	{ RUNQ_EV_HIST, "runq", true },
	{ RUNQ_EV_PRE, "runq_preemptor", true },
	{ 0 },
};

static const struct ks_variant runq_variants[] = {
	{ "cpudist", "on-CPU time per slice histograms (off-CPU with -O), per process or cgroup",
	  "  ksight cpudist                 # one histogram of every slice, at Ctrl-C\n"
	  "  ksight cpudist -O -p 1234      # off-CPU time of process 1234\n"
	  "  ksight cpudist -L -p 1234 1 5  # per thread, every second, 5 times\n"
	  "  ksight cpudist --per-cgroup --json\n",
	  RUNQ_CMD_DIST },
	{ 0 },
};

static int runq_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct runq_state *st = state;

	if (st->offcpu && st->cmd != RUNQ_CMD_DIST) {
		snprintf(err, len, "-O: only cpudist measures off-CPU time");
		return -1;
	}
	if (st->preemptor && st->cmd != RUNQ_CMD_LAT) {
		snprintf(err, len, "--preemptor: only runqlat splits waits by preemptor");
		return -1;
	}
	if (st->per_process + st->per_thread > 1) {
		snprintf(err, len, "-P and -L: choose one");
		return -1;
	}
	/* the delay a cgroup suffered, unless asked per process or thread */
	if (st->preemptor && !st->per_process && !st->per_thread)
		st->per_cgroup = true;
	return 0;
}

static bool runq_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct runq_state *st = state;

	return slot != &runq_slots[1] || st->cmd == RUNQ_CMD_LAT;
}

static int runq_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct runq_state *st = state;
	struct runq_bpf *skel = vskel;
	const struct ks_common *c = ks_ctx_common(ctx);
	struct stat s;

	skel->rodata->runq_mode = st->cmd == RUNQ_CMD_LAT ? RUNQ_MODE_LAT :
				  st->offcpu ? RUNQ_MODE_OFF : RUNQ_MODE_ON;
	skel->rodata->runq_per_process = st->per_process;
	skel->rodata->runq_per_thread = st->per_thread;
	skel->rodata->runq_per_cgroup = st->per_cgroup;
	skel->rodata->runq_preemptor = st->preemptor;
	if (!st->preemptor) {
		bpf_map__set_max_entries(skel->maps.runq_pres, 1);
		bpf_map__set_max_entries(skel->maps.runq_cpus, 1);
	}
	/* a cgroup v2 directory's inode number is the cgroup's id (kernfs) */
	if (c->cgroup && !stat(c->cgroup, &s))
		skel->rodata->runq_cgroup_id = s.st_ino;
	return 0;
}

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct runq_key));
}

/* Most time first, then the key: stable across reports. */
static int by_sum(const void *a, const void *b)
{
	const struct runq_row *x = a, *y = b;

	if (x->v.sum != y->v.sum)
		return x->v.sum > y->v.sum ? -1 : 1;
	return by_key(a, b);
}

/* Turn a row into its change since @p (NULL: none before); true when it is not zero. */
static bool sub_row(void *r, const void *p)
{
	struct runq_row *d = r;
	const struct runq_row *o = p;

	if (o) {
		for (int i = 0; i < RUNQ_SLOTS; i++)
			d->v.slots[i] -= o->v.slots[i];
		d->v.count -= o->v.count;
		d->v.sum -= o->v.sum;
	}
	return d->v.count;
}

static const char *runq_what(const struct runq_state *st)
{
	if (st->cmd == RUNQ_CMD_LAT)
		return "runqlat";
	return st->offcpu ? "offcpu" : "cpudist";
}

static void emit_hist(struct ks_ctx *ctx, const struct runq_state *st, const struct runq_row *p)
{
	const struct ks_histv hv = {
		.slots = p->v.slots, .nslots = RUNQ_SLOTS, .unit = "usecs", .unit_ns = 1e3,
	};
	static char comm[TASK_COMM_LEN + 1];
	struct ks_rec r;

	ks_rec_init(&r, st->cmd == RUNQ_CMD_LAT ? "runqlat" : "cpudist", NULL);
	r.style = KS_REC_BLOCK;
	ks_rec_str(&r, "what", NULL, 0, runq_what(st), strlen(runq_what(st)));
	memcpy(comm, p->v.comm, TASK_COMM_LEN);
	comm[TASK_COMM_LEN] = 0;
	if (st->preemptor)
		runq_pre_emit(ctx, st, &p->k, comm);
	runq_victim_cols(ctx, st, &r, &p->k, comm);
	ks_rec_uint(&r, "count", NULL, 0, p->v.count);
	ks_rec_uint(&r, "sum_ns", NULL, 0, p->v.sum);
	ks_rec_add(&r, "hist", "hist", 0, KS_V_HIST)->h = &hv;
	ks_emit(ctx, &r);
}

/* The histograms that grew since the last call, each its own change (*@out, NULL when
 * there is none or out of memory; the caller frees it), most time first; the histograms
 * of processes that exited leave the kernel's table once seen here. Returns the count. */
static size_t runq_deltas(struct ks_ctx *ctx, struct runq_state *st, struct runq_bpf *skel,
			  struct runq_row **out)
{
	struct bpf_map *map = skel->maps.runq_hists;
	uint64_t total = st->gone_count;
	struct runq_row *cur, *d;
	size_t n, m, kept = 0;

	*out = NULL;
	n = KS_MAP_ROWS(map, struct runq_row, by_key, &cur);
	if (!cur)
		return 0;
	/* the kernel keeps the buckets only (one atomic add less per interval): the count
	 * is their sum */
	for (size_t i = 0; i < n; i++) {
		cur[i].v.count = 0;
		for (int j = 0; j < RUNQ_SLOTS; j++)
			cur[i].v.count += cur[i].v.slots[j];
	}
	m = ks_rows_deltas(cur, n, st->prev, st->nprev, sizeof(*cur), by_key, sub_row,
			   (void **)&d);
	for (size_t i = 0; i < n; i++) {
		total += cur[i].v.count;
		if (cur[i].k.pid && ks_pidset_has(&st->gone, cur[i].k.pid)) {
			bpf_map__delete_elem(map, &cur[i].k, sizeof(cur[i].k), 0);
			st->gone_count += cur[i].v.count;
			continue;
		}
		cur[kept++] = cur[i];
	}
	ks_ctx_aggregated(ctx, RUNQ_EV_HIST, total);
	ks_pidset_clear(&st->gone);
	free(st->prev);
	st->prev = cur;
	st->nprev = kept;
	if (!d)
		return 0;
	qsort(d, m, sizeof(*d), by_sum);
	*out = d;
	return m;
}

/* Tools: each histogram that grew since the last report, its own interval only. */
static void runq_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct runq_state *st = state;
	struct runq_row *d;
	size_t m;

	/* the preemptors first: a wait ending between the reads is in its histogram then,
	 * not yet in their split (the next report has it) */
	if (st->preemptor)
		runq_pre_read(ctx, st, vskel);
	m = runq_deltas(ctx, st, vskel, &d);
	for (size_t i = 0; i < m; i++)
		emit_hist(ctx, st, &d[i]);
	free(d);
	runq_pre_done(st);
}

static int runq_init(struct ks_ctx *ctx, void *state)
{
	struct runq_state *st = state;

	runq_pre_init(st);
	st->m_lat = ks_ctx_metric(ctx, &runq_lat_desc);
	return st->m_lat ? 0 : -errno;
}

/* The agent runs runqlat with a histogram per cgroup: each service's in the registry. */
static void runq_agent_defaults(void *state)
{
	struct runq_state *st = state;

	st->per_cgroup = true;
}

/* Agent: the kernel's histograms since the last interval into the registry, by service. */
static void runq_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct runq_state *st = state;
	struct runq_row *d;
	size_t m = runq_deltas(ctx, st, vskel, &d);

	for (size_t i = 0; i < m; i++) {
		const char *svc = ks_ctx_service(ctx, 0, d[i].k.cgroup);

		/* sums in ns, observed in the buckets' unit (us) */
		ks_hist_add(ks_metric_get(st->m_lat, svc), d[i].v.slots, RUNQ_SLOTS,
			    d[i].v.count, d[i].v.sum / 1e3);
	}
	free(d);
}

/* The agent's line: waits per second and the interval's percentiles, every service
 * together; in JSON also the exact count. */
static void runq_summary(struct ks_ctx *ctx, void *state, double secs)
{
	static const char *const keys[] = { "p50_ns", "p90_ns", "p99_ns" };
	static const char *const cols[] = { "p50", "p90", "p99" };
	static const double ps[] = { 50, 90, 99 };
	struct runq_state *st = state;
	struct ks_hist_vals d;
	struct ks_rec r;

	ks_metric_hist_delta(st->m_lat, &d);
	ks_rec_summary(&r, "runqlat");
	ks_rec_rate(&r, "waits_per_s", "waits", d.count, secs);
	ks_rec_uint(&r, "waits", NULL, 0, d.count);	/* JSON: the interval's exact count */
	for (int i = 0; i < 3 && d.count; i++)
		ks_rec_add(&r, keys[i], cols[i], 0, KS_V_NS)->u =
			ks_hist_percentile(d.slots, KS_HIST_SLOTS, ps[i]) * 1e3;
	ks_emit(ctx, &r);
}

/* A process that exited: its histograms go after the next report has shown them. */
static void runq_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct runq_state *st = state;

	if (h->type == KS_EV_PROC_EXIT) {
		ks_pidset_add(&st->gone, h->pid);
		if (st->preemptor)
			ks_task_rows_gone(&st->pre, h->pid);
	}
}

static void runq_started(struct ks_ctx *ctx, void *state)
{
	struct runq_state *st = state;

	if (st->preemptor)
		runq_pre_started(ctx);
}

static void runq_fini(void *state)
{
	struct runq_state *st = state;

	free(st->prev);
	st->prev = NULL;
	st->nprev = 0;
	ks_pidset_free(&st->gone);
	ks_task_rows_free(&st->pre);
	runq_pre_done(st);
}

KS_BPF_OBJECT(runq);

const struct ks_module runq_module = {
	.name = "runqlat",
	.id = KS_MOD_runq,
	.bpf = &runq_bpf_obj,
	.agent_optin = true,	/* every switch and wakeup of the machine, as sched */
	.brief = "run-queue latency histograms (woken or preempted to running), per process "
		 "or cgroup",
	.usage = "  ksight runqlat                 # one histogram of every wait, at Ctrl-C\n"
		 "  ksight runqlat 1 10            # every second, 10 times\n"
		 "  ksight runqlat -P -p 1234      # process 1234 only\n"
		 "  ksight runqlat -L -p 1234 5    # per thread of 1234, every 5 s\n"
		 "  ksight runqlat --per-cgroup --json\n"
		 "  ksight runqlat --cgroup /sys/fs/cgroup/system.slice\n"
		 "  ksight runqlat --preemptor     # per cgroup: whose slices it waited behind\n"
		 "  ksight runqlat --preemptor -P -p 1234\n",
	.opts = runq_opts,
	.state_size = sizeof(struct runq_state),
	.positional = true,
	.slots = runq_slots,
	.types = runq_types,
	.variants = runq_variants,
	.mode_off = offsetof(struct runq_state, cmd),
	.configure = runq_configure,
	.want_slot = runq_want_slot,
	.agent_defaults = runq_agent_defaults,
	.init = runq_init,
	.setup = runq_setup,
	.started = runq_started,
	.proc = runq_proc,
	.report = runq_report,
	.collect = runq_collect,
	.summary = runq_summary,
	.fini = runq_fini,
};
