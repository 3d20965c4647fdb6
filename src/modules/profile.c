// SPDX-License-Identifier: GPL-2.0
/*
 * profile: `ksight profile`, CPU samples (cpu-clock, -F per second on every CPU) counted
 * in the kernel by process image and (user stack, kernel stack), symbolized at each
 * report (core/symbolize.h): a top-functions table, folded stacks, or a flame graph SVG.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attachments.h"
#include "modules/profile_int.h"
#include "profile.skel.h"

void profile_report(struct ks_ctx *ctx, void *state, void *vskel);

static const struct ks_opt profile_opts[] = {
	{ "frequency", 'F', KS_OPT_UINT, offsetof(struct profile_state, freq), "HZ",
	  "samples per second on each CPU (default 99)", 1, 100000 },
	{ "user-only", 'U', KS_OPT_FLAG, offsetof(struct profile_state, user_only), NULL,
	  "user stacks only" },
	{ "kernel-only", 'K', KS_OPT_FLAG, offsetof(struct profile_state, kernel_only), NULL,
	  "kernel stacks only" },
	{ "folded", 0, KS_OPT_FLAG, offsetof(struct profile_state, folded), NULL,
	  "folded stacks on stdout (comm;frame;...;leaf COUNT), for flamegraph tools" },
	{ "src", 0, KS_OPT_FLAG, offsetof(struct profile_state, src), NULL,
	  "read DWARF (libdw): inlined functions as frames of their own, and where each "
	  "user function is defined (file:line)" },
	{ "svg", 0, KS_OPT_STR, offsetof(struct profile_state, svg), "FILE",
	  "write an interactive flame graph to FILE", 4095 },
	{ "top", 0, KS_OPT_UINT, offsetof(struct profile_state, top), "N",
	  "functions per report, most samples first (default 20, 0: all)", 0, 1000000 },
	{ "stack-storage", 0, KS_OPT_UINT, offsetof(struct profile_state, stack_storage), "N",
	  "distinct stacks the kernel keeps (default 16384)", 256, 1048576 },
	{ "wall", 0, KS_OPT_FLAG, offsetof(struct profile_state, wall), NULL,
	  "wall time: on-CPU samples, run-queue waits and time blocked, by stack, in ns" },
	{ "per-cgroup", 0, KS_OPT_FLAG, offsetof(struct profile_state, per_cgroup), NULL,
	  "stacks rooted at the cgroup v2 path, not the thread name (--wall: rows per cgroup)" },
	{ 0 },
};

static const struct ks_slot profile_slots[] = {
	{
		.name = "sample CPUs",
		.alts = {
			{ KS_FAM_PERF, { { "profile__sample", "software" } } },
		},
	},
	/* --wall: offcpu's hooks (bpf/offcpu_sched.bpf.h) */
	{
		.name = "see switches",
		.alts = {
			{ KS_FAM_TP_BTF, { { "profile__switch_btf", "sched_switch" } } },
			{ KS_FAM_RAW_TP, { { "profile__switch_raw", "sched_switch" } } },
		},
	},
	{
		.name = "see wakeups",
		.alts = {
			{ KS_FAM_TP_BTF, { { "profile__waking_btf", "sched_waking" } } },
			{ KS_FAM_RAW_TP, { { "profile__waking_raw", "sched_waking" } } },
		},
	},
	{ 0 },
};

static const struct ks_evtype profile_types[] = {
	{ PROFILE_EV_SAMPLE, "samples", true },
	{ PROFILE_EV_FIRST, "first_samples" },
	{ PROFILE_EV_WALL, "wall_intervals", true },
	{ PROFILE_EV_WALL_START, "wall_sleepers" },
	{ 0 },
};

static int profile_configure(void *state, const struct ks_common *common, char *err,
			     size_t len)
{
	struct profile_state *st = state;

	if (st->user_only && st->kernel_only) {
		snprintf(err, len, "-U and -K exclude each other");
		return -1;
	}
	if (st->folded && (common->json || common->outputs.n)) {
		snprintf(err, len, "--folded writes stdout: not with --json or -o");
		return -1;
	}
	st->period_ns = 1000000000ULL / st->freq;
	return 0;
}

static bool profile_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct profile_state *st = state;

	return slot == &profile_slots[0] || st->wall;
}

static int profile_init(struct ks_ctx *ctx, void *state)
{
	struct profile_state *st = state;
	int err = ks_symmaps_start(&st->maps);

	if (!err && st->src)
		ks_symbolizer__want_src(st->maps.sym);
	return err;
}

static int profile_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct profile_state *st = state;
	struct profile_bpf *skel = vskel;

	struct bpf_map *wall_maps[] = { skel->maps.offcpu_rows, skel->maps.offcpu_starts,
					skel->maps.offcpu_seen };
	int err;

	skel->rodata->profile_user = !st->kernel_only;
	skel->rodata->profile_kernel = !st->user_only;
	/* offcpu's side: no waker, preempted switch-outs too, the run queue apart */
	skel->rodata->offcpu_user = !st->kernel_only;
	skel->rodata->offcpu_kernel = !st->user_only;
	skel->rodata->offcpu_waker = false;
	skel->rodata->offcpu_rq_split = true;
	skel->rodata->offcpu_per_cgroup = st->per_cgroup;
	err = bpf_map__set_max_entries(skel->maps.profile_stacks, st->stack_storage);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.offcpu_stacks,
					       st->wall ? st->stack_storage : 1);
	/* without --wall its maps are loaded unused: as small as they go */
	for (size_t i = 0; !err && !st->wall && i < sizeof(wall_maps) / sizeof(wall_maps[0]); i++)
		err = bpf_map__set_max_entries(wall_maps[i], 1);
	return err;
}

static int profile_attach(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct profile_state *st = state;
	struct profile_bpf *skel = vskel;
	struct ks_perf_spec spec = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, 0, st->freq };

	return ks_attach_perf(ctx, skel->progs.profile__sample, &spec);
}

/* The first sample of a process image: its mappings now, while it lives (one read of
 * /proc/PID/maps per image, on the worker, so a process that exits before the report
 * keeps its names). */
static void profile_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct profile_state *st = state;
	const struct profile_first *e = (const void *)h;

	if (h->type != PROFILE_EV_FIRST || size < sizeof(*e))
		return;
	ks_symmaps_want(&st->maps, h->pid, e->exec_id);
}

static void profile_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct profile_state *st = state;

	if (h->type == KS_EV_PROC_EXIT) {
		ks_task_rows_gone(&st->rows, h->pid);
		ks_task_rows_gone(&st->wrows, h->pid);
	}
}

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct profile_key));
}

static uint64_t samples(const void *row)
{
	return ((const struct profile_row *)row)->v.count;
}

static bool sub_row(void *r, const void *p)
{
	struct profile_row *d = r;

	if (p)
		d->v.count -= ((const struct profile_row *)p)->v.count;
	return d->v.count;
}

static void profile_fini(void *state)
{
	struct profile_state *st = state;

	ks_symmaps_stop(&st->maps);
	ks_task_rows_free(&st->rows);
	ks_task_rows_free(&st->wrows);
	profile_fset_free(&st->all);
}

static const struct profile_state profile_defaults = {
	.freq = 99,
	.top = 20,
	.stack_storage = 16384,
	.rows = KS_TASK_ROWS(struct profile_row, by_key, sub_row, samples),
	.wrows = OFFCPU_TASK_ROWS,
};

KS_BPF_OBJECT(profile);

const struct ks_module profile_module = {
	.name = "profile",
	.id = KS_MOD_profile,
	.bpf = &profile_bpf_obj,
	.tool_only = true,
	.brief = "CPU profile: sampled user and kernel stacks, top functions, flame graphs",
	.usage = "  ksight profile --duration 10          # top functions of the machine, 10 s\n"
		 "  ksight profile -p 1234 -F 999 5 3     # one process, 999 Hz, every 5 s, 3 times\n"
		 "  ksight profile --folded --duration 30 > out.folded  # for flamegraph tools\n"
		 "  ksight profile --svg cpu.svg --duration 30  # an interactive flame graph\n"
		 "  ksight profile -K --json --duration 5  # kernel stacks only, JSON lines\n"
		 "  ksight profile -p 1234 --src --duration 10  # inlined functions, file:line\n"
		 "  ksight profile --wall -p 1234 --svg wall.svg --duration 30  # on-CPU, run\n"
		 "                                        # queue and blocked time, by colour\n"
		 "  ksight profile --wall --per-cgroup --folded --duration 10  # path;[kind];... NS\n",
	.opts = profile_opts,
	.state_size = sizeof(struct profile_state),
	.defaults = &profile_defaults,
	.positional = true,
	.slots = profile_slots,
	.types = profile_types,
	.configure = profile_configure,
	.want_slot = profile_want_slot,
	.init = profile_init,
	.setup = profile_setup,
	.attach = profile_attach,
	.event = profile_event,
	.proc = profile_proc,
	.report = profile_report,
	.fini = profile_fini,
};
