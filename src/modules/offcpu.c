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
	{ "folded", 0, KS_OPT_FLAG, offsetof(struct offcpu_state, folded), NULL,
	  "folded stacks on stdout (comm;sleeper;--;waker;waker-comm MICROSECONDS)" },
	{ "top", 0, KS_OPT_UINT, offsetof(struct offcpu_state, top), "N",
	  "stacks per report, most time blocked first (default 10, 0: all)", 0, 1000000 },
	{ "stack-storage", 0, KS_OPT_UINT, offsetof(struct offcpu_state, stack_storage), "N",
	  "distinct stacks the kernel keeps (default 16384)", 256, 1048576 },
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
	{ 0 },
};

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
	if (st->per_process && st->per_thread) {
		snprintf(err, len, "-P and -L exclude each other");
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
	return 0;
}

static int offcpu_init(struct ks_ctx *ctx, void *state)
{
	struct offcpu_state *st = state;

	st->sym = ks_symbolizer__new("/proc", "/usr/lib/debug");
	if (!st->sym)
		return -errno;
	return offcpu_maps_start(st);
}

/* The first user stack of a process image: its maps now, while it lives. */
static void offcpu_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	const struct offcpu_first *e = (const void *)h;

	if (h->type != OFFCPU_EV_FIRST || size < sizeof(*e))
		return;
	offcpu_maps_want(state, h->pid, e->exec_id);
}

static int offcpu_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct offcpu_state *st = state;
	struct offcpu_bpf *skel = vskel;

	skel->rodata->offcpu_user = !st->kernel_only;
	skel->rodata->offcpu_kernel = !st->user_only;
	skel->rodata->offcpu_waker = !st->no_waker;
	skel->rodata->offcpu_all = st->all;
	skel->rodata->offcpu_per_thread = st->per_thread;
	skel->rodata->offcpu_min_ns = st->min_us * 1000;
	skel->rodata->offcpu_max_ns = st->max_us ? st->max_us * 1000 : ~0ULL;
	return bpf_map__set_max_entries(skel->maps.offcpu_stacks, st->stack_storage);
}

static void offcpu_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct offcpu_state *st = state;

	if (h->type == KS_EV_PROC_EXIT)
		ks_task_rows_gone(&st->rows, h->pid);
}

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct offcpu_key));
}

static uint64_t intervals(const void *row)
{
	return ((const struct offcpu_row *)row)->v.count;
}

static bool sub_row(void *r, const void *p)
{
	struct offcpu_row *d = r;
	const struct offcpu_row *o = p;

	if (o) {
		d->v.count -= o->v.count;
		d->v.total_ns -= o->v.total_ns;
	}
	return d->v.count;
}

static void offcpu_fini(void *state)
{
	struct offcpu_state *st = state;

	offcpu_maps_stop(st);
	ks_task_rows_free(&st->rows);
	ks_symbolizer__free(st->sym);
}

static const struct offcpu_state offcpu_defaults = {
	.top = 10,
	.stack_storage = 16384,
	.rows = KS_TASK_ROWS(struct offcpu_row, by_key, sub_row, intervals),
};

KS_BPF_OBJECT(offcpu);

const struct ks_module offcpu_module = {
	.name = "offcpu",
	.id = KS_MOD_offcpu,
	.bpf = &offcpu_bpf_obj,
	.tool_only = true,
	.brief = "time blocked off-CPU by stack and process, with the waker's stack",
	.usage = "  ksight offcpu --duration 10             # top blocking stacks and their wakers\n"
		 "  ksight offcpu -p 1234 --min-us 1000 5 3  # one process, sleeps >= 1 ms, every 5 s\n"
		 "  ksight offcpu -L -t 1235 --json --duration 5  # one thread, wakers by thread\n"
		 "  ksight offcpu --folded --duration 30 > out.folded  # sleeper;--;waker, in us\n"
		 "  ksight offcpu -K --no-waker --duration 10  # kernel stacks only, no waker\n",
	.opts = offcpu_opts,
	.state_size = sizeof(struct offcpu_state),
	.defaults = &offcpu_defaults,
	.positional = true,
	.slots = offcpu_slots,
	.types = offcpu_types,
	.configure = offcpu_configure,
	.init = offcpu_init,
	.setup = offcpu_setup,
	.event = offcpu_event,
	.proc = offcpu_proc,
	.report = offcpu_report,
	.fini = offcpu_fini,
};
