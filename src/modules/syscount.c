// SPDX-License-Identifier: GPL-2.0
/*
 * syscount: every system call counted in the kernel by name (the running kernel's names),
 * per process (-P), failures only (-x), per errno (-e), with total and mean latency (-L)
 * and log2 histograms with percentiles (--hist); the top N each interval or at the end.
 * Nothing is streamed: the dispatcher's handler counts into per-CPU maps and the reports
 * read them (syscount_read.c).
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/module.h"
#include "core/session.h"
#include "core/sysnames.h"
#include "syscount.skel.h"
#include "modules/syscount_int.h"

static const struct syscount_state defaults = { .top = 10, .max_keys = SYSCOUNT_KEYS };

#define OFF(f) offsetof(struct syscount_state, f)

static const struct ks_opt syscount_opts[] = {
	{ "process", 'P', KS_OPT_FLAG, OFF(per_pid), NULL, "count per process and syscall" },
	{ "failures", 'x', KS_OPT_FLAG, OFF(failed_only), NULL, "only calls that failed" },
	{ "errno", 'e', KS_OPT_FLAG, OFF(errnos), NULL, "a row per errno (ENOENT, EAGAIN, ...)" },
	{ "latency", 'L', KS_OPT_FLAG, OFF(latency), NULL,
	  "total and mean time in the syscall; sort by total time" },
	{ "hist", 0, KS_OPT_FLAG, OFF(hist), NULL,
	  "a latency histogram per row with p50/p90/p99" },
	{ "milliseconds", 'm', KS_OPT_FLAG, OFF(ms), NULL,
	  "TIME in ms (histograms in us) instead of us (ns)" },
	{ "top", 0, KS_OPT_UINT, OFF(top), "N", "rows printed (default 10)", 1, 100000 },
	{ "syscall", 's', KS_OPT_STR, OFF(filter), "LIST",
	  "only these syscalls, by name, comma-separated (see --list)", 0, 4096 },
	{ "max-keys", 0, KS_OPT_UINT, OFF(max_keys), "N",
	  "room for N rows of -P/-e in the kernel (default 16384)", 1, 1 << 22 },
	{ "list", 'l', KS_OPT_FLAG, OFF(list), NULL, "print the syscall names and exit" },
	{ 0 },
};

/* What the dispatcher routes to syscount: every syscall, or the -s ones (set by configure;
 * a tool runs one syscount). */
static int syscount_routes[KS_SYS_MAX + 1] = { KS_SYS_ALL, -1 };

static const struct ks_slot syscount_slots[] = {
	{
		.name = "see syscalls",
		.alts = {
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, syscount_routes },
		},
	},
	{ 0 },
};

static const struct ks_evtype syscount_types[] = {
	{ SYSCOUNT_EV_CALL, "syscount", true },
	{ 0 },
};

/* -s a,b,c: the numbers into syscount_routes. Returns 0 or -1 with one line in @err. */
static int parse_filter(const char *list, char *err, size_t len)
{
	const struct ks_sysnames *t = ks_sysnames();
	bool seen[KS_SYS_MAX] = {};
	const char *p = list;
	int n = 0;

	while (*p) {
		size_t l = strcspn(p, ",");
		char name[64];
		int nr;

		if (!l || l >= sizeof(name)) {
			snprintf(err, len, "-s: '%.60s' is not a list of syscall names", list);
			return -1;
		}
		memcpy(name, p, l);
		name[l] = 0;
		nr = ks_sysnames_nr(t, name);
		if (nr < 0) {
			snprintf(err, len, "-s: unknown syscall '%s' (ksight syscount --list shows "
				 "the names)", name);
			return -1;
		}
		if (!seen[nr]) {
			seen[nr] = true;
			syscount_routes[n++] = nr;
		}
		p += l;
		if (*p == ',' && !*++p) {
			snprintf(err, len, "-s: '%.60s' ends with a comma", list);
			return -1;
		}
	}
	syscount_routes[n] = -1;
	return 0;
}

static int syscount_configure(void *state, const struct ks_common *common, char *err,
			      size_t len)
{
	struct syscount_state *st = state;

	if (st->ms && !st->latency && !st->hist) {
		snprintf(err, len, "-m only makes sense with -L or --hist");
		return -1;
	}
	if (st->list && (common->interval || st->filter)) {
		snprintf(err, len, "--list takes no interval and no -s");
		return -1;
	}
	/* the names may come from a BPF program: libbpf speaks only with -v */
	ks_log_init(common->verbose);
	if (st->filter && parse_filter(st->filter, err, len))
		return -1;
	return 0;
}

static bool syscount_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct syscount_state *st = state;

	return !st->list;
}

static bool syscount_want_enter(const void *state)
{
	const struct syscount_state *st = state;

	return st->latency || st->hist;
}

static unsigned int syscount_sys_inline(const void *state, int nr)
{
	return syscount_plain(state) ? KS_SYS_INLINE_COUNT : 0;
}

static int syscount_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct syscount_bpf *skel = vskel;
	struct syscount_state *st = state;
	bool keyed = st->per_pid || st->errnos;
	int err = 0;

	skel->rodata->syscount_keyed = keyed;
	skel->rodata->syscount_per_pid = st->per_pid;
	skel->rodata->syscount_errnos = st->errnos;
	skel->rodata->syscount_failed_only = st->failed_only;
	skel->rodata->syscount_timed = st->latency || st->hist;
	skel->rodata->syscount_hist = st->hist;
	skel->rodata->syscount_hist_us = st->ms;
	/* only the tables these options use get their full size */
	if (keyed || st->list || syscount_plain(st))
		err = err ?: bpf_map__set_max_entries(skel->maps.syscount_nr_counts, 1);
	if (keyed || !st->hist || st->list)
		err = err ?: bpf_map__set_max_entries(skel->maps.syscount_nr_hists, 1);
	err = err ?: bpf_map__set_max_entries(skel->maps.syscount_key_counts,
					      keyed && !st->list ? st->max_keys : 1);
	err = err ?: bpf_map__set_max_entries(skel->maps.syscount_key_hists,
					      keyed && st->hist && !st->list ? st->max_keys : 1);
	if (err)
		return err;
	st->ncpu = libbpf_num_possible_cpus();
	if (st->ncpu <= 0)
		return st->ncpu ? st->ncpu : -EINVAL;
	st->last_ns = ks_clock_mono_now();
	/* --list attaches nothing: the session stops at once and the report prints */
	if (st->list)
		ks_ctx__request_stop();
	return 0;
}

static void emit_list(struct ks_ctx *ctx, const struct ks_sysnames *t)
{
	for (unsigned int nr = 0; nr < KS_SYS_MAX; nr++) {
		const char *src = ks_sysnames_src_name(t->src[nr]);
		struct ks_rec r;

		if (t->src[nr] == KS_SYSNAME_NONE)
			continue;
		ks_rec_init(&r, "syscall", NULL);
		ks_rec_uint(&r, "nr", "NR", 4, nr);
		ks_rec_str(&r, "name", "NAME", -24, t->name[nr], strlen(t->name[nr]));
		ks_rec_str(&r, "source", "SOURCE", 0, src, strlen(src));
		ks_emit(ctx, &r);
	}
}

/* The running kernel's syscall names, read when first needed: reading them runs an
 * iterator program, which need not delay the start. */
static const struct ks_sysnames *names(struct syscount_state *st)
{
	if (!st->names)
		st->names = ks_sysnames();
	return st->names;
}

static void syscount_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct syscount_bpf *skel = vskel;
	struct syscount_state *st = state;
	struct syscount_row *rows = NULL;
	uint64_t now = ks_clock_mono_now(), total = 0;
	ssize_t n;

	if (st->list) {
		emit_list(ctx, names(st));
		return;
	}
	names(st);	/* the rows' names (syscount_report.c reads st->names) */
	n = syscount_read(st, skel, &rows);
	if (n < 0)
		return;
	for (ssize_t i = 0; i < n; i++)
		total += rows[i].count;
	ks_ctx_aggregated(ctx, SYSCOUNT_EV_CALL, total);
	if (syscount_delta(&st->prev, rows, n) == 0) {
		n = syscount_order(rows, n, st->latency);
		syscount_emit(ctx, st, rows, n, (now - st->last_ns) / 1e9);
	}
	st->last_ns = now;
	free(rows);
}

static const struct ks_metric_desc syscount_calls_desc = {
	.name = "ksight_syscount_calls_total",
	.help = "System calls, per syscall name (the running kernel's)",
	.type = KS_METRIC_COUNTER,
	.labels = { "syscall" },
	.budget = KS_SYS_MAX,
};

static const struct ks_metric_desc syscount_errors_desc = {
	.name = "ksight_syscount_errors_total",
	.help = "System calls that returned an error, per syscall name",
	.type = KS_METRIC_COUNTER,
	.labels = { "syscall" },
	.budget = KS_SYS_MAX,
};

static int syscount_init(struct ks_ctx *ctx, void *state)
{
	struct syscount_state *st = state;

	st->m_calls = ks_ctx_metric(ctx, &syscount_calls_desc);
	st->m_errors = ks_ctx_metric(ctx, &syscount_errors_desc);
	return st->m_calls && st->m_errors ? 0 : -errno;
}

/* Agent: the kernel's counts since the last interval into the registry, by syscall. */
static void syscount_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct syscount_bpf *skel = vskel;
	struct syscount_state *st = state;
	struct syscount_row *rows = NULL;
	char name[KS_SYSNAME_LEN];
	uint64_t total = 0;
	ssize_t n;

	n = syscount_read(st, skel, &rows);
	if (n < 0)
		return;
	for (ssize_t i = 0; i < n; i++)
		total += rows[i].count;
	ks_ctx_aggregated(ctx, SYSCOUNT_EV_CALL, total);
	if (syscount_delta(&st->prev, rows, n)) {
		free(rows);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		unsigned int nr = rows[i].k.nr & (KS_SYS_MAX - 1);

		if (!rows[i].count && !rows[i].errors)
			continue;
		if (!st->s_calls[nr]) {
			/* the name once per syscall; the handles stay (no idle retirement) */
			const char *sys = ks_sysnames_name(names(st), nr, name, sizeof(name));

			st->s_calls[nr] = ks_metric_get(st->m_calls, sys);
			st->s_errors[nr] = ks_metric_get(st->m_errors, sys);
		}
		ks_counter_add(st->s_calls[nr], rows[i].count);
		ks_counter_add(st->s_errors[nr], rows[i].errors);
	}
	free(rows);
}

/* Agent: "syscount  calls 1.23k/s  errors 2.0/s  top: read 400/s, write 300/s, ..." */
static void syscount_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct syscount_state *st = state;
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "syscount");
	ks_rec_rate(&r, "calls_per_s", "calls", ks_metric_delta(st->m_calls), secs);
	ks_rec_rate(&r, "errors_per_s", "errors", ks_metric_delta(st->m_errors), secs);
	ks_rec_top(&r, "top", "top:", &o, top, 5, st->m_calls, secs);
	ks_emit(ctx, &r);
}

static void syscount_fini(void *state)
{
	struct syscount_state *st = state;

	syscount_prev_free(&st->prev);
}

KS_BPF_OBJECT(syscount);

const struct ks_module syscount_module = {
	.name = "syscount",
	.id = KS_MOD_syscount,
	.bpf = &syscount_bpf_obj,
	.brief = "count system calls in the kernel, by name, process, errno and latency",
	.usage = "  ksight syscount             # top 10 syscalls of the machine, at Ctrl-C\n"
		 "  ksight syscount -p 1234 1   # one process, every second\n"
		 "  ksight syscount -P --top 20 # per process and syscall\n"
		 "  ksight syscount -x -e       # failures, a row per errno\n"
		 "  ksight syscount -L          # total and mean latency, by total time\n"
		 "  ksight syscount --hist -s read,write  # histograms of two syscalls\n"
		 "  ksight syscount -l          # the running kernel's syscall names\n",
	.opts = syscount_opts,
	.state_size = sizeof(struct syscount_state),
	.defaults = &defaults,
	.positional = true,
	.slots = syscount_slots,
	.types = syscount_types,
	.configure = syscount_configure,
	.want_slot = syscount_want_slot,
	.want_enter = syscount_want_enter,
	.sys_inline = syscount_sys_inline,
	.init = syscount_init,
	.setup = syscount_setup,
	.report = syscount_report,
	.collect = syscount_collect,
	.summary = syscount_summary,
	.fini = syscount_fini,
};
