// SPDX-License-Identifier: GPL-2.0
/*
 * trace: `ksight trace PROBE`, any tracepoint or user function with no compiler at run
 * time. The PROBE's fields (trace_probe.c), the --filter (trace_filter.c), --count-by and
 * --hist become struct trace_conf, written into the object before load; one generic
 * program per probe kind (bpf/trace.bpf.c) reads it. The tracepoint program is in no
 * slot: its target is known only now, and it is attached here (ks_attach_tracepoint).
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/attachments.h"
#include <bpf/btf.h>

#include "core/btfcache.h"
#include "core/elflist.h"
#include "core/kfuncs.h"
#include "core/elfsym.h"
#include "core/tracepoints.h"
#include "modules/trace_int.h"
#include "trace.skel.h"

_Static_assert(sizeof(struct trace_field) == 8, "trace_field layout");
_Static_assert(sizeof(struct trace_op) == 16, "trace_op layout");
_Static_assert(sizeof(struct trace_rec) == 64 + 8 * 8 + 8 * 64, "trace_event layout");

static const struct ks_opt trace_opts[] = {
	{ "filter", 0, KS_OPT_STR, offsetof(struct trace_state, filter), "EXPR",
	  "only hits where EXPR holds, decided in the kernel ('bytes > 4096 && comm == \"sh\"')" },
	{ "count-by", 'C', KS_OPT_STR, offsetof(struct trace_state, count_by), "F1[,F2,F3]",
	  "count hits per value of these fields" },
	{ "hist", 'H', KS_OPT_STR, offsetof(struct trace_state, hist), "FIELD",
	  "histogram of a numeric field (log2 buckets) with percentiles" },
	{ "linear", 0, KS_OPT_UINT, offsetof(struct trace_state, linear), "STEP",
	  "--hist in linear buckets of STEP", 1, UINT64_MAX / 2 },
	{ "fields", 'f', KS_OPT_STR, offsetof(struct trace_state, fields), "F1,F2",
	  "print every hit with these fields (streamed: costs more)" },
	{ "interval", 'i', KS_OPT_UINT, offsetof(struct trace_state, interval), "SECS",
	  "report every SECS seconds", 1, 86400 },
	{ "count", 'c', KS_OPT_UINT, offsetof(struct trace_state, count), "COUNT",
	  "stop after COUNT reports", 1, 1000000 },
	{ 0 },
};

static const struct ks_slot trace_slots[] = {
	{
		.name = "trace user function entries",
		.alts = { { KS_FAM_UPROBE, { { "trace__uprobe", "uprobe" } } } },
	},
	{
		.name = "trace user function returns",
		.alts = { { KS_FAM_UPROBE, { { "trace__uprobe", "uretprobe" } } } },
	},
	{ 0 },
};

static const struct ks_evtype trace_types[] = {
	{ TRACE_EV_EVENT, "trace" },
	{ TRACE_EV_COUNT, "trace_count", true },
	{ 0 },
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t len, const char *fmt,
						...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* "unknown field 'x' (it has: a, b, c)" */
static int unknown(const struct trace_probe *p, const char *opt, const char *name, size_t n,
		   char *err, size_t len)
{
	size_t at = snprintf(err, len, "%s: unknown field '%.*s' (fields:", opt, (int)n, name);

	for (int i = 0; i < p->ndefs && at < len; i++)
		if (strncmp(p->defs[i].name, "cur_", 4))
			at += snprintf(err + at, len - at, " %s", p->defs[i].name);
	if (at < len)
		snprintf(err + at, len - at, ")");
	return -1;
}

/* Each name of comma list @list: its field index in @idx (up to @max). Returns the count
 * or -1 with one line in @err. */
static int field_list(struct trace_state *st, const char *opt, const char *list, int *idx,
		      char (*names)[64], int max, char *err, size_t len)
{
	int n = 0;

	for (const char *a = list; *a;) {
		size_t l = strcspn(a, ",");
		int i;

		if (!l)
			return fail(err, len, "%s: empty field name", opt);
		if (n >= max)
			return fail(err, len, "%s: %d fields at most", opt, max);
		size_t col = 0;
		char why[200];

		i = trace_conf_field_why(&st->conf, st->p, a, l, &col, why, sizeof(why));
		if (i == -1)
			return unknown(st->p, opt, a, l, err, len);
		if (i == -3)
			return fail(err, len, "%s: column %d: %.*s: %s", opt,
				    (int)(a - list + col) + 1, (int)l, a, why);
		if (i < 0)
			return fail(err, len, "%s: more than %d fields in all", opt, TRACE_FIELDS);
		if (names)
			snprintf(names[n], 64, "%.*s", (int)l, a);
		idx[n++] = i;
		a += l;
		if (*a)
			a++;
	}
	return n;
}

static int build_conf(struct trace_state *st, char *err, size_t len)
{
	struct trace_conf *c = &st->conf;
	int idx[TRACE_KEYS], n;

	if (st->filter && trace_filter_compile(st->filter, c, st->p, err, len))
		return -1;
	if (st->count_by) {
		n = field_list(st, "--count-by", st->count_by, idx, st->kname, TRACE_KEYS, err,
			       len);
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			const struct trace_field *f = &c->f[idx[i]];

			c->k[i].field = idx[i];
			c->k[i].off = st->keylen;
			c->k[i].len = trace_field_str(f) ? f->size : 8;
			st->keylen += c->k[i].len;
		}
		c->nkeys = n;
	}
	if (st->hist) {
		if ((n = field_list(st, "--hist", st->hist, idx, NULL, 1, err, len)) < 0)
			return -1;
		if (trace_field_str(&c->f[idx[0]]))
			return fail(err, len, "--hist: '%s' is a string, not a number", st->hist);
		c->hist = st->linear ? 2 : 1;
		c->hist_field = idx[0];
		c->hist_step = st->linear;
		c->hist_top = TRACE_HSLOTS;	/* lo 0: trace.h */
	} else if (st->linear) {
		return fail(err, len, "--linear needs --hist FIELD");
	}
	if (st->fields) {
		if ((n = field_list(st, "--fields", st->fields, st->outf, st->oname,
				    TRACE_FIELDS, err, len)) < 0)
			return -1;
		st->noutf = n;
		c->events = 1;
	}
	return 0;
}

/* A USDT probe: its note in the binary, whose argument specs give the fields (every
 * site of one probe has the same count). */
static int usdt_load(struct trace_probe *p, const char *text, char *err, size_t len)
{
	struct ks_usdt *u = NULL;
	int n = ks_usdt_list(p->path, &u), found = -1;

	if (n < 0)
		return fail(err, len, "%s: cannot read its USDT notes: %s", text, strerror(-n));
	for (int i = 0; i < n && found < 0; i++)
		if (!strcmp(u[i].provider, p->provider) && !strcmp(u[i].name, p->func))
			found = i;
	if (found < 0) {
		free(u);
		return fail(err, len, "%s: no USDT probe %s:%s in %s (ksight tplist -l %s lists "
			    "them)", text, p->provider, p->func, p->path, p->bin);
	}
	trace_probe_usdt_fields(p, u[found].args);
	free(u);
	return 0;
}

/* A kernel function: one the kernel's BTF has and ftrace can hook (tplist's list), its
 * arguments named by its BTF prototype. Without BTF: arg0..arg5, unchecked. */
static int kfunc_load(struct trace_probe *p, const char *text, char *err, size_t len)
{
	const struct btf *btf = ks_vmlinux_btf();
	const char *names[6] = { 0 };
	const struct btf_type *t;
	char **found = NULL;
	bool mounted = false, traceable = false;
	const char *tracefs;
	int n, id, nargs;

	if (!btf) {
		trace_probe_k_fields(p, 6, NULL);
		return 0;
	}
	tracefs = ks_tracefs_get(&mounted);
	n = ks_kfuncs(btf, tracefs, p->func, &found, &traceable);
	ks_tracefs_done(mounted);
	ks_elf_names_free(found, n);
	if (n <= 0)
		return fail(err, len, "%s: no kernel function %s%s (ksight tplist -K lists them)",
			    text, p->func, traceable ? " that fentry or kprobes can hook" : "");
	id = btf__find_by_name_kind(btf, p->func, BTF_KIND_FUNC);
	t = id > 0 ? btf__type_by_id(btf, btf__type_by_id(btf, id)->type) : NULL;
	nargs = t && btf_is_func_proto(t) ? btf_vlen(t) : 6;
	for (int i = 0; t && btf_is_func_proto(t) && i < nargs && i < 6; i++)
		names[i] = btf__name_by_offset(btf, btf_params(t)[i].name_off);
	trace_probe_k_fields(p, nargs > 6 ? 6 : nargs, names);
	return 0;
}

int trace_probe_load(struct trace_probe *p, const char *text, char *err, size_t len)
{
	char path[PATH_MAX], why[512];

	if (p->kind == TRACE_P_KFUNC)
		return kfunc_load(p, text, err, len);

	if (p->kind == TRACE_P_TP || p->kind == TRACE_P_RAW) {
		bool mounted = false;
		const char *tracefs = ks_tracefs_get(&mounted);
		char tp[300], *fmt;
		int rc;

		if (!tracefs)
			return fail(err, len, "tracefs is not mounted and cannot be: %s",
				    strerror(errno));
		snprintf(tp, sizeof(tp), "%s:%s", p->cat, p->name);
		fmt = ks_tp_format(tracefs, tp);
		ks_tracefs_done(mounted);
		if (!fmt)
			return fail(err, len, "%s: no such tracepoint (ksight tplist lists them)",
				    tp);
		rc = p->kind == TRACE_P_RAW ? trace_raw_args(p, ks_vmlinux_btf(), err, len) :
					      trace_probe_tp_fields(p, fmt, err, len);
		free(fmt);
		return rc;
	}
	if (ks_elf_resolve(p->bin, -1, path, sizeof(path), why, sizeof(why)))
		return fail(err, len, "%s: %s", text, why);
	snprintf(p->path, sizeof(p->path), "%s", path);
	if (p->kind == TRACE_P_USDT)
		return usdt_load(p, text, err, len);
	if (ks_elf_func_offset(path, p->func, &p->off, why, sizeof(why)))
		return fail(err, len, "%s: %s", text, why);
	trace_probe_u_fields(p);
	return 0;
}

static int trace_args(void *state, struct ks_common *common, const char **pos, int npos,
		      char *err, size_t len)
{
	struct trace_state *st = state;

	if (npos != 1)
		return fail(err, len, "give one PROBE (ksight trace --help)");
	st->text = pos[0];
	st->p = calloc(1, sizeof(*st->p));
	if (!st->p)
		return fail(err, len, "out of memory");
	if (trace_probe_parse(pos[0], st->p, err, len))
		return -1;
	common->interval = st->interval;
	common->count = st->count;
	/* a raw tracepoint's --hooks is its own family's (trace_raw_choose), not the
	 * core's, whose slot selection would find no program of that family */
	if (st->p->kind == TRACE_P_RAW) {
		st->p->hooks = common->hooks;
		if (common->hooks != KS_HOOKS_AUTO && common->hooks != KS_HOOKS_TP_BTF &&
		    common->hooks != KS_HOOKS_RAW_TP)
			return fail(err, len, "%s: --hooks: a raw tracepoint is tp_btf or raw_tp",
				    st->text);
		common->hooks = KS_HOOKS_AUTO;
	}
	if (st->count && !st->interval)
		return fail(err, len, "-c COUNT needs -i SECS");
	/* without root the command stops at the root check, after this */
	if (geteuid() != 0)
		return 0;
	if (trace_probe_load(st->p, st->text, err, len))
		return -1;
	return build_conf(st, err, len);
}

/* A kernel function or raw tracepoint: its family, or the missing features named (the
 * command exits 1). */
static int trace_kernel_check(void *state, char *err, size_t len)
{
	struct trace_state *st = state;

	if (st->p && st->p->kind == TRACE_P_RAW)
		return trace_raw_choose(st->p, st->text, err, len);
	if (!st->p || st->p->kind != TRACE_P_KFUNC)
		return 0;
	return trace_kfunc_choose(st->p, st->text, err, len);
}

static bool trace_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct trace_state *st = state;

	if (!st->p)	/* `ksight status`: what the slots would use */
		return true;
	if (st->p->kind == TRACE_P_TP || st->p->kind == TRACE_P_USDT ||
	    st->p->kind == TRACE_P_KFUNC || st->p->kind == TRACE_P_RAW)
		return false;
	return (st->p->kind == TRACE_P_URETPROBE) == !!strstr(slot->name, "returns");
}

static int trace_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct trace_bpf *skel = vskel;
	struct trace_state *st = state;
	int err;

	if (!st->p)
		return 0;
	skel->bss->trace_conf = st->conf;
	/* the uprobe program is a slot's (trace_want_slot) */
	if (st->p->kind != TRACE_P_UPROBE && st->p->kind != TRACE_P_URETPROBE &&
	    (err = trace_prog_ready(skel, st->p)))
		return err;
	bpf_map__set_key_size(skel->maps.trace_counts, st->keylen ? st->keylen : 1);
	if (!st->keylen)
		bpf_map__set_max_entries(skel->maps.trace_counts, 1);
	return 0;
}

static int trace_attach(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct trace_bpf *skel = vskel;
	struct trace_state *st = state;
	struct trace_probe *p = st->p;
	const struct ks_common *c = ks_ctx_common(ctx);
	struct bpf_program *prog = trace_prog(skel, p);

	if (p->kind == TRACE_P_TP)
		return ks_attach_tracepoint(ctx, prog, p->cat, p->name);
	if (p->kind == TRACE_P_RAW)
		return ks_attach_raw_tp(ctx, prog, p->name, p->fentry);
	if (p->kind == TRACE_P_KFUNC)
		return ks_attach_kfunc(ctx, prog, p->func, p->fentry);
	if (p->kind == TRACE_P_USDT)
		return ks_attach_usdt(ctx, prog, p->bin, p->provider, p->func,
				      c->pid ? (int)c->pid : -1);
	struct ks_uprobe_spec s = {
		.binary = p->bin,
		.offset = p->off,
		.pid = c->pid ? (int)c->pid : -1,
		.retprobe = p->kind == TRACE_P_URETPROBE,
	};
	return ks_attach_uprobe(ctx, prog, &s);
}

static void trace_report_cb(struct ks_ctx *ctx, void *state, void *vskel)
{
	trace_report(ctx, state, vskel);
}

static void trace_event_cb(struct ks_ctx *ctx, void *state, const struct ks_hdr *h,
			   size_t size)
{
	trace_event(ctx, state, h, size);
}

static void trace_fini(void *state)
{
	struct trace_state *st = state;

	free(st->p);
	free(st->prev_rows);
	memset(st, 0, sizeof(*st));
}

KS_BPF_OBJECT(trace);

const struct ks_module trace_module = {
	.name = "trace",
	.id = KS_MOD_trace,
	.bpf = &trace_bpf_obj,
	.brief = "count, filter and histogram any tracepoint or user function's fields",
	.usage = "  ksight trace sched:sched_process_fork --count-by parent_comm\n"
		 "  ksight trace block:block_rq_issue --hist bytes -i 1 -c 5\n"
		 "  ksight trace syscalls:sys_enter_openat -f comm,filename\n"
		 "  ksight trace net:netif_receive_skb --filter 'len > 1000 && comm != \"sshd\"'\n"
		 "  ksight trace u:libc.so.6:malloc --hist arg0 -p 1234\n"
		 "  ksight trace r:/usr/bin/bash:readline --count-by comm,retval_str\n"
		 "  ksight trace u:libc.so.6:access -f comm,arg0_str\n"
		 "  ksight trace usdt:./app:myapp:request -C arg0 --hist arg1\n"
		 "  ksight trace kfunc:vfs_read --hist count -p 1234   # fentry, else a kprobe\n"
		 "  ksight trace raw:sched:sched_switch -C 'prev->comm,next->comm' "
		 "--filter 'prev_state == 0'\n"
		 "\n"
		 "PROBE: CATEGORY:NAME or t:CATEGORY:NAME, a tracepoint (fields from its tracefs\n"
		 "format: ksight tplist -v NAME); u:BINARY:FUNCTION, a user function (fields\n"
		 "arg0..arg5, and arg0_str..arg5_str: the user strings they point to);\n"
		 "r:BINARY:FUNCTION, its return (retval, retval_str); usdt:BINARY:PROVIDER:NAME,\n"
		 "a USDT probe (arg0..argN as its note says, arg0_str...); kfunc:FUNCTION,\n"
		 "a kernel function by fentry where allowed, else a kprobe (kprobe:FUNCTION:\n"
		 "a kprobe only; arg0..arg5 and the names its BTF gives them). raw:CATEGORY:NAME,\n"
		 "a tracepoint's raw arguments by tp_btf, else raw_tp (--hooks raw_tp forces it):\n"
		 "arg0..arg5, their names (ksight tplist -v NAME) and member paths through them\n"
		 "('prev->comm', 'skb->dev->ifindex', 'sk->__sk_common.skc_num': quoted, as\n"
		 "> is the shell's). Every probe also has comm, pid and tid of the current task\n"
		 "(cur_comm, cur_pid, cur_tid where the record has fields of those names).\n"
		 "Filters, counts and histograms run in the kernel; with neither --count-by,\n"
		 "--hist nor -f, hits are counted.\n"
		 "--filter: FIELD OP VALUE joined by && || ! and parentheses; numbers with\n"
		 "== != < <= > >=, strings with == != against \"text\" or a prefix \"text*\".\n",
	.opts = trace_opts,
	.state_size = sizeof(struct trace_state),
	.tool_only = true,
	.slots = trace_slots,
	.types = trace_types,
	.args = trace_args,
	.args_usage = " PROBE",
	.want_slot = trace_want_slot,
	.kernel_check = trace_kernel_check,
	.setup = trace_setup,
	.attach = trace_attach,
	.event = trace_event_cb,
	.report = trace_report_cb,
	.fini = trace_fini,
};
