// SPDX-License-Identifier: GPL-2.0
/*
 * open: every open/openat/openat2/creat with process, fd or errno, flags and path
 * (opensnoop), or with --count the calls counted in the kernel per process and path,
 * nothing streamed.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/maps.h"
#include "core/module.h"
#include "open.skel.h"
#include "modules/open_fmt.h"
#include "open.h"

struct open_state {
	bool failed_only;	/* -x */
	bool extended;		/* -e */
	const char *name;	/* --name */
	bool count;		/* --count */
	uint64_t top;		/* --top */
	/* metrics: calls per process name, failures */
	struct ks_metric *m_calls;
	struct ks_comm_cache c_calls;
	struct ks_series *s_errors;
};

static const struct ks_metric_desc open_calls_desc = {
	.name = "ksight_open_calls_total",
	.help = "open, openat, openat2 and creat calls seen, per process name",
	.type = KS_METRIC_COUNTER,
	.labels = { "comm" },
	.budget = 512,
	.idle = 60,	/* intervals: names gone quiet make room for new ones */
};

static const struct ks_metric_desc open_errors_desc = {
	.name = "ksight_open_errors_total",
	.help = "Open calls that failed",
	.type = KS_METRIC_COUNTER,
};

static const struct open_state defaults = { .top = 20 };

static const struct ks_opt open_opts[] = {
	{ "failed", 'x', KS_OPT_FLAG, offsetof(struct open_state, failed_only), NULL,
	  "only opens that failed" },
	{ "extended", 'e', KS_OPT_FLAG, offsetof(struct open_state, extended), NULL,
	  "show the open flags" },
	{ "name", 0, KS_OPT_STR, offsetof(struct open_state, name), "TEXT",
	  "only processes whose name contains TEXT", 0, TASK_COMM_LEN },
	{ "count", 'c', KS_OPT_FLAG, offsetof(struct open_state, count), NULL,
	  "count in the kernel per process and path; print the top" },
	{ "top", 0, KS_OPT_UINT, offsetof(struct open_state, top), "N",
	  "rows printed with --count (default 20)", 1, 100000 },
	{ 0 },
};

static const int open_syscalls[] = { SYS_open, SYS_openat, SYS_openat2, SYS_creat, -1 };

static const struct ks_slot open_slots[] = {
	{
		.name = "see opens",
		.alts = {
			{ KS_FAM_FENTRY, { { "open__open_fexit", "__x64_sys_open" },
					   { "open__openat_fexit", "__x64_sys_openat" },
					   { "open__openat2_fexit", "__x64_sys_openat2" },
					   { "open__creat_fexit", "__x64_sys_creat" } } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, open_syscalls },
		},
	},
	{ 0 },
};

static const struct ks_evtype open_types[] = {
	{ OPEN_EV_OPEN, "open" },
	{ OPEN_EV_COUNT, "open_count", true },
	{ 0 },
};

static int open_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	const struct open_state *st = state;

	if (common->interval && !st->count) {
		snprintf(err, len, "an interval only makes sense with --count (use --duration)");
		return -1;
	}
	return 0;
}

static int open_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct open_bpf *skel = vskel;
	struct open_state *st = state;

	skel->rodata->open_failed_only = st->failed_only;
	skel->rodata->open_count = st->count;
	if (st->name) {
		size_t n = strlen(st->name);

		skel->rodata->open_name_len = n;
		memcpy((void *)skel->rodata->open_name, st->name, n);
	}
	if (!st->count)
		bpf_map__set_max_entries(skel->maps.open_counts, 1);
	return 0;
}

static int open_init(struct ks_ctx *ctx, void *state)
{
	struct open_state *st = state;
	struct ks_metric *errors = ks_ctx_metric(ctx, &open_errors_desc);

	st->m_calls = ks_ctx_metric(ctx, &open_calls_desc);
	if (!st->m_calls || !errors)
		return -errno;
	st->s_errors = ks_metric_get(errors, NULL);
	return 0;
}

static void open_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	const struct open_event *e = (const void *)h;
	struct open_state *st = state;
	char flags[160];
	struct ks_rec r;
	size_t n;

	if (size < sizeof(*e) || sizeof(*e) + e->path_len > size)
		return;
	ks_counter_add(ks_metric_comm(st->m_calls, &st->c_calls, h->pid, h->comm), 1);
	if (e->ret < 0)
		ks_counter_add(st->s_errors, 1);
	if (!ks_ctx_streaming(ctx))
		return;
	ks_rec_init(&r, "open", h);
	ks_rec_uint(&r, NULL, "PID", -7, h->pid);	/* JSON has the header's */
	ks_rec_kstr(&r, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
	ks_rec_int(&r, "fd", "FD", 3, e->ret < 0 ? -1 : e->ret);
	if (e->ret < 0)
		ks_rec_add(&r, "err", "ERR", -7, KS_V_ERRNO)->i = -e->ret;
	else
		ks_rec_str(&r, NULL, "ERR", -7, "0", 1);
	ks_rec_int(&r, "errno", NULL, 0, e->ret < 0 ? -e->ret : 0);
	n = open_flags_str(e->flags, flags, sizeof(flags));
	ks_rec_str(&r, "flags", st->extended ? "FLAGS" : NULL, -24, flags, n);
	/* the mode register means something only when a file may be created */
	ks_rec_add(&r, "mode", NULL, 0, KS_V_OCT)->u =
		e->flags & (O_CREAT | __O_TMPFILE) ? e->mode : 0;
	ks_rec_str(&r, "syscall", NULL, 0, open_sys_name(e->sys), strlen(open_sys_name(e->sys)));
	ks_rec_kstr(&r, "path", "PATH", 0, e->path, e->path_len, e->path_len >= OPEN_PATH_MAX);
	ks_rec_add(&r, "path_truncated", NULL, 0, KS_V_BOOL)->u = e->path_len >= OPEN_PATH_MAX;
	ks_emit(ctx, &r);
}

struct count_row {
	struct open_count_key k;
	struct open_count_val v;
};

static int by_opens(const void *a, const void *b)
{
	const struct count_row *x = a, *y = b;

	if (x->v.opens != y->v.opens)
		return x->v.opens < y->v.opens ? 1 : -1;
	return strcmp(x->k.path, y->k.path);
}

/* --count: the top rows of the kernel's table, cumulative since start. */
static void open_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct open_bpf *skel = vskel;
	struct open_state *st = state;
	struct bpf_map *map = skel->maps.open_counts;
	size_t n, cap = bpf_map__max_entries(map);
	struct open_count_key *keys;
	struct open_count_val *vals;
	struct count_row *rows;
	uint64_t total = 0;

	if (!st->count)
		return;
	keys = calloc(cap, sizeof(*keys));
	vals = calloc(cap, sizeof(*vals));
	rows = calloc(cap, sizeof(*rows));
	if (!keys || !vals || !rows)
		goto cleanup;
	n = ks_map_dump(map, keys, vals, cap);
	for (size_t i = 0; i < n; i++) {
		rows[i].k = keys[i];
		rows[i].v = vals[i];
		total += vals[i].opens;
	}
	ks_ctx_aggregated(ctx, OPEN_EV_COUNT, total);
	qsort(rows, n, sizeof(*rows), by_opens);
	for (size_t i = 0; i < n && i < st->top; i++) {
		const struct count_row *c = &rows[i];
		struct ks_rec r;
		bool cut;

		ks_rec_init(&r, "open_count", NULL);
		ks_rec_uint(&r, "pid", "PID", -7, c->k.pid);
		ks_rec_kstr(&r, "comm", "COMM", -16, c->v.comm, sizeof(c->v.comm), false);
		ks_rec_uint(&r, "opens", "OPENS", 9, c->v.opens);
		ks_rec_uint(&r, "errors", "ERRORS", 9, c->v.errors);
		if (c->v.errors)
			ks_rec_add(&r, "last_err", "LAST_ERR", -8, KS_V_ERRNO)->i = -c->v.last_err;
		else
			ks_rec_str(&r, NULL, "LAST_ERR", -8, "-", 1);
		cut = strnlen(c->k.path, sizeof(c->k.path)) >= OPEN_KEY_PATH - 1;
		ks_rec_kstr(&r, "path", "PATH", 0, c->k.path, sizeof(c->k.path), cut);
		ks_rec_add(&r, "path_truncated", NULL, 0, KS_V_BOOL)->u = cut;
		ks_emit(ctx, &r);
	}
cleanup:
	free(keys);
	free(vals);
	free(rows);
}

static void open_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct open_state *st = state;
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "open");
	ks_rec_rate(&r, "opens_per_s", "opens", ks_metric_delta(st->m_calls), secs);
	ks_rec_add(&r, "failed", "failed", 0, KS_V_COUNT)->u = ks_counter_delta(st->s_errors);
	ks_rec_top(&r, "top", "top:", &o, top, 5, st->m_calls, 0);
	ks_emit(ctx, &r);
}

KS_BPF_OBJECT(open);

const struct ks_module open_module = {
	.name = "open",
	.id = KS_MOD_open,
	.bpf = &open_bpf_obj,
	.brief = "trace open/openat/openat2/creat with fd or errno, flags and path",
	.usage = "  ksight open                 # every open, system-wide\n"
		 "  ksight open -p 1234 -x      # failed opens of process 1234\n"
		 "  ksight open -n nginx -e     # opens by processes named nginx, with flags\n"
		 "  ksight open --count -p 1234 # count opens per path in the kernel, top 20\n"
		 "  ksight open --count 5 3     # the table every 5 s, 3 times\n",
	.opts = open_opts,
	.state_size = sizeof(struct open_state),
	.defaults = &defaults,
	.positional = true,
	.slots = open_slots,
	.types = open_types,
	.configure = open_configure,
	.init = open_init,
	.setup = open_setup,
	.event = open_event,
	.report = open_report,
	.summary = open_summary,
};
