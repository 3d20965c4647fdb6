// SPDX-License-Identifier: GPL-2.0
/*
 * funccount: `ksight funccount PATTERN...`, how often tracepoints fire and user functions
 * are called, per interval, like bcc's funccount. Tracepoints are counted by perf
 * counters with no BPF program (funccount_tp.c); user functions by one uprobe program
 * attached to each matching function, its index as the attachment's cookie
 * (bpf/funccount.bpf.c). Kernel functions (k:) by one kprobe.multi link, else a copy of
 * the fentry program per function (funccount_fentry.c), else a kprobe each, its rows keyed
 * by address; where this kernel has none of them, the command says so and counts the rest.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/attachments.h"
#include "core/btfcache.h"
#include "core/elflist.h"
#include "core/elfsym.h"
#include "core/kfuncs.h"
#include "core/probe.h"
#include "core/socktab.h"
#include "core/tracepoints.h"
#include "modules/funccount_int.h"
#include "funccount.skel.h"

_Static_assert(sizeof(struct funccount_key) == 16, "funccount_key layout");
_Static_assert(sizeof(struct funccount_val) == 24, "funccount_val layout");

static const struct ks_opt fc_opts[] = {
	{ "per-process", 'P', KS_OPT_FLAG, offsetof(struct fc_state, per_proc), NULL,
	  "user and kernel functions: a row per process (a tracepoint counter counts all: "
	  "-p PID)" },
	{ "interval", 'i', KS_OPT_UINT, offsetof(struct fc_state, interval), "SECS",
	  "print what was counted every SECS seconds", 1, 86400 },
	{ "duration", 'd', KS_OPT_UINT, offsetof(struct fc_state, duration), "SECS",
	  "stop after SECS seconds", 1, 315360000 },
	{ 0 },
};

static const struct ks_slot fc_slots[] = {
	{
		.name = "count user functions",
		.alts = { { KS_FAM_UPROBE, { { "funccount__uprobe", "uprobe" } } } },
	},
	{ 0 },
};

static const struct ks_evtype fc_types[] = {
	{ FUNCCOUNT_EV_CALL, "funccount", true },
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

/*
 * Tracepoints whose perf hook adds a value instead of one: the scheduler's statistics pass
 * their time through __perf_count() (include/trace/events/sched.h), so a counter sums
 * nanoseconds, charged to the task the event is about (__perf_task), not the running one.
 * Their hits would need a BPF program: they are left out, and a note says so.
 */
static const char *const fc_weighted[] = {
	"sched:sched_stat_runtime", "sched:sched_stat_wait",	"sched:sched_stat_sleep",
	"sched:sched_stat_iowait",  "sched:sched_stat_blocked", NULL,
};

static bool weighted(const char *tp)
{
	for (int i = 0; fc_weighted[i]; i++)
		if (!strcmp(fc_weighted[i], tp))
			return true;
	return false;
}

/* The tracepoints of pattern @p, each once across patterns. */
static int add_tracepoints(struct fc_state *st, const struct fc_pat *p, const char *tracefs,
			   char *err, size_t len)
{
	char **names;
	int n = ks_tp_names(tracefs, p->glob, &names), added = 0;

	if (n < 0)
		return fail(err, len, "%s: cannot read tracefs: %s", p->text, strerror(-n));
	for (int i = 0; i < n; i++) {
		struct fc_tp *tp;
		bool seen = false;

		if (weighted(names[i])) {
			for (int k = 0; fc_weighted[k]; k++)
				if (!strcmp(fc_weighted[k], names[i]) && !(st->weighted_seen & 1u << k)) {
					st->weighted_seen |= 1u << k;
					if (!st->nweighted++)
						st->weighted = fc_weighted[k];
				}
			continue;
		}
		for (int k = 0; k < st->ntp && !seen; k++)
			seen = !strcmp(st->tps[k].name, names[i]);
		added++;
		if (seen)
			continue;
		if (st->ntp >= FC_TPS) {
			ks_tp_names_free(names, n);
			snprintf(err, len, "more than %d tracepoints: narrow the patterns", FC_TPS);
			return -1;
		}
		tp = &st->tps[st->ntp];
		memset(tp, 0, sizeof(*tp));
		if (ks_tp_id(tracefs, names[i], &tp->id))
			continue;	/* gone meanwhile (a module unloaded) */
		tp->name = names[i];
		names[i] = NULL;
		st->ntp++;
	}
	ks_tp_names_free(names, n);
	if (!added && !n)
		return fail(err, len, "%s: no tracepoint matches (ksight tplist '%s' lists them)",
			    p->text, p->glob);
	return 0;
}

/* The functions of pattern @p's binary a uprobe can take (IFUNCs and names shared by
 * different local functions cannot be). */
static int add_functions(struct fc_state *st, const struct fc_pat *p, char *err, size_t len)
{
	char path[PATH_MAX], why[256], **names;
	int n, added = 0;

	if (ks_elf_resolve(p->bin, st->pid ? (int)st->pid : -1, path, sizeof(path), why,
			   sizeof(why)))
		return fail(err, len, "%s: %s", p->text, why);
	n = ks_elf_funcs(path, p->glob, &names);
	if (n < 0)
		return fail(err, len, "%s: %s", p->text,
			    n == -ENOEXEC ? "not an ELF file" : strerror(-n));
	for (int i = 0; i < n; i++) {
		struct fc_ufn *u;
		uint64_t off;

		if (ks_elf_func_offset(path, names[i], &off, why, sizeof(why)))
			continue;
		if (st->nufn >= FUNCCOUNT_FUNCS) {
			ks_elf_names_free(names, n);
			snprintf(err, len, "more than %d user functions: narrow the patterns",
				 FUNCCOUNT_FUNCS);
			return -1;
		}
		u = &st->ufns[st->nufn];
		u->pat = p;
		u->off = off;
		if (asprintf(&u->name, "%s:%s", p->bin, names[i]) < 0) {
			ks_elf_names_free(names, n);
			return fail(err, len, "%s: out of memory", p->text);
		}
		st->nufn++;
		added++;
	}
	ks_elf_names_free(names, n);
	if (!added)
		return fail(err, len, "%s: no function of %s matches (ksight tplist -b lists them)",
			    p->text, path);
	return 0;
}

/* The kernel functions of pattern @p that ftrace lists as hookable (and the kernel's BTF
 * has), each once across patterns; at most FUNCCOUNT_KFUNCS in all, like bcc's. */
static int add_kernel(struct fc_state *st, const struct fc_pat *p, const char *tracefs,
		      char *err, size_t len)
{
	const struct btf *btf = ks_vmlinux_btf();
	bool traceable = false;
	char **names = NULL;
	int n;

	if (!btf)
		return fail(err, len, "%s: the kernel has no BTF to list its functions", p->text);
	n = ks_kfuncs(btf, tracefs, p->glob, &names, &traceable);
	if (n < 0)
		return fail(err, len, "%s: cannot list kernel functions: %s", p->text,
			    strerror(-n));
	if (!n)
		return fail(err, len, "%s: no kernel function %s%s (ksight tplist -K lists them)",
			    p->text, p->glob, traceable ? " that kprobes can hook" : "");
	for (int i = 0; i < n; i++) {
		bool seen = false;

		for (int k = 0; k < st->nkfn && !seen; k++)
			seen = !strcmp(st->kfns[k], names[i]);
		if (seen)
			continue;
		if (st->nkfn >= FUNCCOUNT_KFUNCS) {
			ks_elf_names_free(names, n);
			return fail(err, len, "%s: more than %d kernel functions match: narrow "
				    "the patterns", p->text, FUNCCOUNT_KFUNCS);
		}
		st->kfns[st->nkfn++] = names[i];
		names[i] = NULL;
	}
	ks_elf_names_free(names, n);
	return 0;
}

static int fc_args(void *state, struct ks_common *common, const char **pos, int npos, char *err,
		   size_t len)
{
	struct fc_state *st = state;
	const char *tracefs = NULL;
	bool mounted = false;
	int rc = 0;

	if (!npos)
		return fail(err, len, "give at least one PATTERN (ksight funccount --help)");
	for (int i = 0; i < npos; i++) {
		if (fc_pat_parse(pos[i], &st->pat[i], err, len))
			return -1;
		st->npat++;
	}
	common->interval = st->interval;
	if (st->duration)
		common->duration = st->duration;
	st->pid = common->pid;
	st->tid = common->tid;
	/* --hooks fentry or kprobe chooses how k: patterns are counted (fc_kernel_check),
	 * not a slot's alternative: the core need not look for such programs */
	st->hooks = common->hooks;
	if (st->hooks == KS_HOOKS_FENTRY || st->hooks == KS_HOOKS_KPROBE)
		common->hooks = KS_HOOKS_AUTO;
	/* without root the command stops at the root check, after this */
	if (geteuid() != 0)
		return 0;
	st->tps = calloc(FC_TPS, sizeof(*st->tps));
	st->ufns = calloc(FUNCCOUNT_FUNCS, sizeof(*st->ufns));
	st->kfns = calloc(FUNCCOUNT_KFUNCS, sizeof(*st->kfns));
	if (!st->tps || !st->ufns || !st->kfns)
		return fail(err, len, "out of memory");
	for (int i = 0; !rc && i < st->npat; i++) {
		const struct fc_pat *p = &st->pat[i];

		if (p->kind == FC_TP && !tracefs && !(tracefs = ks_tracefs_get(&mounted)))
			rc = fail(err, len, "%s: tracefs is not mounted and cannot be: %s",
				  p->text, strerror(errno));
		else if (p->kind == FC_TP)
			rc = add_tracepoints(st, p, tracefs, err, len);
		else if (p->kind == FC_USER)
			rc = add_functions(st, p, err, len);
		else {
			/* without tracefs, the BTF's functions (some may refuse a kprobe) */
			if (!tracefs)
				tracefs = ks_tracefs_get(&mounted);
			if (!st->kernel)
				st->kernel = p->text;
			rc = add_kernel(st, p, tracefs, err, len);
		}
	}
	/* the counters need only the ids, kernel functions only the names */
	ks_tracefs_done(mounted);
	if (!rc && st->nweighted && !st->ntp && !st->nufn && !st->kernel)
		rc = fail(err, len, "%s: its perf counter adds nanoseconds, not hits "
			  "(sched_stat_*): not counted yet", st->weighted);
	return rc;
}

static int fc_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	const struct fc_state *st = state;

	if (st->ntp && (common->comm || common->uid != KS_UNSET || common->cgroup))
		return fail(err, len, "-n, -u and --cgroup filter user functions only: a "
				      "tracepoint counter counts one process (-p) or all");
	return 0;
}

/* Whether this kernel takes a kprobe.multi link (5.18+ with CONFIG_FPROBE) on @fn: a
 * program that returns 0, loaded and linked for a moment. */
static bool kprobe_multi_works(const char *fn)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = BPF_TRACE_KPROBE_MULTI);
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	const char *syms[1] = { fn };
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "ks_kmulti", "GPL", insns, 2, &po);
	if (prog < 0)
		return false;
	lo.kprobe_multi.syms = syms;
	lo.kprobe_multi.cnt = 1;
	link = bpf_link_create(prog, 0, BPF_TRACE_KPROBE_MULTI, &lo);
	close(prog);
	if (link < 0)
		return false;
	close(link);
	return true;
}

/*
 * How to count @st->kfns, best first within what --hooks allows: one kprobe.multi link;
 * else a kprobe each; else an fentry copy per function. fentry copies start faster than a
 * kprobe each (docs/funccount.md), but a trampoline refuses some functions a kprobe takes
 * (16 of 357 tcp_* on Debian's 6.1): counting every function comes first, so fentry is
 * chosen by default only where kprobes are missing. Returns the hook, or FC_KH_NONE with
 * each refusal in @wf and @wk.
 */
static enum fc_khook choose_khook(const struct fc_state *st, struct ks_probe *p, const char *fn,
				  char *wf, char *wk, size_t len)
{
	bool fentry = st->hooks != KS_HOOKS_KPROBE, kprobe = st->hooks != KS_HOOKS_FENTRY;

	if (kprobe && !ks_probe(p, KS_FAM_KPROBE, fn, wk, len))
		return kprobe_multi_works(fn) ? FC_KH_MULTI : FC_KH_KPROBE;
	if (!kprobe)
		snprintf(wk, len, "not tried (--hooks=fentry)");
	if (fentry && !ks_probe(p, KS_FAM_FENTRY, fn, wf, len))
		return FC_KH_FENTRY;
	if (!fentry)
		snprintf(wf, len, "not tried (--hooks=kprobe)");
	return FC_KH_NONE;
}

/* k: patterns: counted by kprobes or fentry; say what this kernel lacks when neither. */
static int fc_kernel_check(void *state, char *err, size_t len)
{
	struct fc_state *st = state;
	struct ks_probe *p;
	char wf[200] = "", wk[200] = "";
	const char *fn;
	size_t at = 0;

	err[0] = 0;
	if (st->nweighted)
		at = snprintf(err, len, "%s%s: its perf counter adds nanoseconds, not hits: left "
			      "out; ", st->weighted, st->nweighted > 1 ?
			      " (and the other sched_stat_*)" : "");
	if (at >= len)
		at = len - 1;
	if (!st->kernel) {
		err[at >= 2 ? at - 2 : at] = 0;	/* no "; " after the last note */
		return at ? 1 : 0;
	}
	err += at;
	len -= at;
	fn = st->nkfn ? st->kfns[0] : "vfs_read";
	p = ks_probe__new();
	if (p && (st->khook = choose_khook(st, p, fn, wf, wk, sizeof(wf))) != FC_KH_NONE) {
		ks_probe__free(p);
		if (!at)
			return 0;
		err[-2] = 0;	/* only the note before */
		return 1;
	}
	if (p)
		snprintf(err, len, "%s: kernel functions cannot be counted on this kernel: "
			 "fentry: %s; kprobes: %s", st->kernel, wf, wk);
	else
		snprintf(err, len, "%s: cannot probe the kernel: %s", st->kernel,
			 strerror(errno));
	ks_probe__free(p);
	if (!st->ntp && !st->nufn)
		return -1;
	/* the note, then the rest runs */
	snprintf(err + strlen(err), len - strlen(err), "%s", "; counting the other patterns");
	return 1;
}

static bool fc_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct fc_state *st = state;

	/* `ksight status` asks with no patterns given: it shows what the slot would use */
	return !st->npat || st->nufn > 0;
}

static int fc_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct funccount_bpf *skel = vskel;
	struct fc_state *st = state;

	skel->rodata->funccount_per_proc = st->per_proc;
	if (st->khook == FC_KH_MULTI)
		bpf_program__set_autoload(skel->progs.funccount__kmulti, true);
	else if (st->khook == FC_KH_KPROBE)
		bpf_program__set_autoload(skel->progs.funccount__kprobe, true);
	else if (st->khook == FC_KH_FENTRY) {
		/* loaded once by libbpf, for its instructions: funccount_fentry.c */
		bpf_program__set_autoload(skel->progs.funccount__fentry, true);
		bpf_program__set_attach_target(skel->progs.funccount__fentry, 0, st->kfns[0]);
	}
	if (!st->nufn && st->khook == FC_KH_NONE)
		bpf_map__set_max_entries(skel->maps.funccount_calls, 1);
	return 0;
}

static int fc_attach(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct funccount_bpf *skel = vskel;
	struct fc_state *st = state;
	char err[256];
	int rc;

	if (st->ntp && (rc = fc_tp_open(st, err, sizeof(err)))) {
		fprintf(stderr, "ksight funccount: %s\n", err);
		return rc;
	}
	for (int i = 0; i < st->nufn; i++) {
		struct ks_uprobe_spec s = {
			.binary = st->ufns[i].pat->bin,
			.offset = st->ufns[i].off,
			.pid = st->pid ? (int)st->pid : -1,
			.cookie = i,
		};

		if ((rc = ks_attach_uprobe(ctx, skel->progs.funccount__uprobe, &s)))
			return rc;
	}
	if (st->khook != FC_KH_NONE) {
		char *text = ks_read_all("/proc/kallsyms", NULL);
		int n = text ? ks_kallsyms_parse(text, &st->ksyms) : -errno;

		free(text);
		if (n <= 0) {
			fprintf(stderr, "ksight funccount: %s: cannot name kernel addresses: "
				"/proc/kallsyms: %s\n", st->kernel,
				n == -EPERM ? "addresses hidden (kernel.kptr_restrict)" :
				strerror(n ? -n : ENOENT));
			return n ? n : -ENOENT;
		}
	}
	if (st->khook == FC_KH_MULTI)
		return ks_attach_kprobe_multi(ctx, skel->progs.funccount__kmulti,
					      (const char **)st->kfns, st->nkfn);
	if (st->khook == FC_KH_FENTRY)
		return fc_fentry_attach(ctx, st, skel->progs.funccount__fentry);
	for (int i = 0; st->khook == FC_KH_KPROBE && i < st->nkfn; i++)
		if ((rc = ks_attach_kfunc(ctx, skel->progs.funccount__kprobe, st->kfns[i],
					  false)))
			return rc;
	return 0;
}

static void fc_report_cb(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct funccount_bpf *skel = vskel;
	struct fc_state *st = state;

	fc_report(ctx, st, st->nufn || st->khook != FC_KH_NONE ? skel->maps.funccount_calls : NULL);
}

static void fc_fini(void *state)
{
	struct fc_state *st = state;

	fc_tp_close(st);
	for (int i = 0; st->tps && i < st->ntp; i++)
		free(st->tps[i].name);
	for (int i = 0; st->ufns && i < st->nufn; i++)
		free(st->ufns[i].name);
	for (int i = 0; st->kfns && i < st->nkfn; i++)
		free(st->kfns[i]);
	for (int i = 0; i < st->npat; i++)
		fc_pat_free(&st->pat[i]);
	ks_symtab_free(&st->ksyms);
	free(st->kfns);
	free(st->tps);
	free(st->ufns);
	free(st->prev);
	memset(st, 0, sizeof(*st));
}

KS_BPF_OBJECT(funccount);

const struct ks_module funccount_module = {
	.name = "funccount",
	.id = KS_MOD_funccount,
	.bpf = &funccount_bpf_obj,
	.brief = "count tracepoint hits and user and kernel function calls matching patterns",
	.usage = "  ksight funccount 't:sched:*'                  # the scheduler's tracepoints\n"
		 "  ksight funccount -i 1 sched:sched_switch      # every second\n"
		 "  ksight funccount -p 1234 't:syscalls:sys_enter_*'  # one process's calls\n"
		 "  ksight funccount 'u:libc.so.6:malloc*' -P -d 10  # libc's malloc*, per process\n"
		 "  ksight funccount 'u:/usr/bin/python3:PyObject_Call*' --json\n"
		 "  ksight funccount -i 1 'k:tcp_send*'          # kernel functions\n"
		 "  ksight funccount --hooks fentry 'k:vfs_*'     # ... by fentry, not kprobes\n"
		 "\n"
		 "PATTERN: t:CATEGORY:NAME (or CATEGORY:NAME), a tracepoint, counted by perf\n"
		 "counters with no BPF program; u:BINARY:FUNCTION, a function of an executable\n"
		 "or library (a path, libc.so.6, or with -p libc), by uprobes; k:FUNCTION, a\n"
		 "kernel function (at most 1000), by one kprobe.multi link, else a kprobe each,\n"
		 "else fentry (--hooks fentry or kprobe forces a family). Each\n"
		 "name part is a shell glob; `ksight tplist` lists what there is. -P makes a row\n"
		 "per process for user and kernel functions; tracepoint counters count every\n"
		 "process, or the threads of -p PID (or -t TID) alive at the start. Counts of\n"
		 "ksight's own process are left out of user and kernel functions.\n",
	.opts = fc_opts,
	.state_size = sizeof(struct fc_state),
	.tool_only = true,
	.slots = fc_slots,
	.types = fc_types,
	.args = fc_args,
	.kernel_check = fc_kernel_check,
	.configure = fc_configure,
	.want_slot = fc_want_slot,
	.setup = fc_setup,
	.attach = fc_attach,
	.report = fc_report_cb,
	.fini = fc_fini,
};
