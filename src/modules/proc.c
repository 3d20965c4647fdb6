// SPDX-License-Identifier: GPL-2.0
/*
 * proc: the process and thread lifecycle. Forks and thread creations (with the clone flags
 * the child shows) come from this module's programs; execs, process exits and thread exits
 * from the core's lifecycle records. With --tree, the live process tree with what each
 * process did while traced, instead of the events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/module.h"
#include "proc.skel.h"
#include "modules/proc_fmt.h"
#include "modules/proc_int.h"
#include "modules/proc_tree.h"
#include "proc.h"

static const struct ks_opt proc_opts[] = {
	{ "tree", 0, KS_OPT_FLAG, offsetof(struct proc_state, tree), NULL,
	  "print the live process tree (each INTERVAL and at the end) instead of events" },
	{ "no-threads", 0, KS_OPT_FLAG, offsetof(struct proc_state, no_threads), NULL,
	  "do not show thread creations and thread exits" },
	{ 0 },
};

static const struct ks_slot proc_slots[] = {
	{
		.name = "see forks",
		.alts = {
			{ KS_FAM_FENTRY, { { "proc__fork_fentry", "wake_up_new_task" } } },
			{ KS_FAM_KPROBE, { { "proc__fork_kprobe", "wake_up_new_task" } } },
			{ KS_FAM_TP_BTF, { { "proc__fork_btf", "sched_process_fork" } } },
			{ KS_FAM_RAW_TP, { { "proc__fork_raw", "sched_process_fork" } } },
			{ KS_FAM_TP, { { "proc__fork_tp", "sched/sched_process_fork" } } },
		},
	},
	{ 0 },
};

static const struct ks_evtype proc_types[] = {
	{ PROC_EV_FORK, "fork" },
	{ PROC_EV_THREAD, "thread" },
	{ PROC_EV_CLONE, "clone" },
	{ KS_EV_PROC_EXEC, "exec" },
	{ KS_EV_PROC_EXIT, "exit" },
	{ KS_EV_PROC_TEXIT, "thread_exit" },
	{ 0 },
};


static int proc_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	const struct proc_state *st = state;

	if (common->interval && !st->tree) {
		snprintf(err, len, "an interval only makes sense with --tree (use --duration)");
		return -1;
	}
	return 0;
}

static int proc_setup(struct ks_ctx *ctx, void *state, void *skel)
{
	struct proc_state *st = state;
	const struct ks_common *c = ks_ctx_common(ctx);

	if (st->tree && !st->t && !(st->t = proc_tree__new(PROC_TREE_MAX, "/proc")))
		return -ENOMEM;
	st->root = c->pid;
	/* filtered records do not keep the whole tree fresh: /proc is read again to print */
	st->resync = c->pid || c->tid || c->uid != KS_UNSET || c->comm || c->cgroup;
	return 0;
}

/*
 * The first read of /proc waits for the first record or report, so it happens after the
 * programs are attached: nothing falls between the read and the records.
 */
static struct proc_tree *tree(struct proc_state *st)
{
	if (!st->t)
		return NULL;
	if (!st->synced) {
		proc_tree__sync(st->t);
		st->synced = true;
	}
	return st->t;
}

static void cols(struct ks_rec *r, const struct ks_hdr *h, const char *event, uint32_t ppid,
		 uint32_t uid)
{
	ks_rec_init(r, "proc", h);
	ks_rec_str(r, "event", "EVENT", -11, event, strlen(event));
	ks_rec_uint(r, NULL, "PID", -7, h->pid);	/* JSON has the header's */
	ks_rec_uint(r, NULL, "TID", -7, h->tid);
	ks_rec_uint(r, "ppid", "PPID", -7, ppid);
	ks_rec_kstr(r, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
	ks_rec_uint(r, "uid", NULL, 0, uid);
}

static void on_fork(struct ks_ctx *ctx, struct proc_state *st, const struct ks_hdr *h,
		    size_t size)
{
	const struct proc_fork *e = (const void *)h;
	bool thread = h->type == PROC_EV_THREAD, known = h->type != PROC_EV_CLONE;
	char names[256], fl[160], detail[256];
	struct proc_tree *t = tree(st);
	struct ks_val *v;
	struct ks_rec r;
	int n;

	if (size < sizeof(*e))
		return;
	if (thread) {
		ks_counter_add(st->s_threads, 1);
		if (t)
			proc_tree__thread(t, h->ts, h->pid);
	} else if (known) {
		ks_counter_add(ks_metric_comm(st->m_forks, &st->c_forks, h->pid, h->comm), 1);
		if (t)
			proc_tree__fork(t, h->ts, h->pid, e->child_pid, e->child_ppid, h->comm);
	}
	if (st->tree || (thread && st->no_threads) || !ks_ctx_streaming(ctx))
		return;
	proc_flags_short(e->flags, fl, sizeof(fl));
	if (!known)
		n = snprintf(detail, sizeof(detail), "tid %u (child not found)", e->child_tid);
	else if (thread)
		n = snprintf(detail, sizeof(detail), "tid %u flags %s", e->child_tid, fl);
	else
		n = snprintf(detail, sizeof(detail), "child %u flags %s%s%s", e->child_pid, fl,
			     e->kind & PROC_K_KTHREAD ? " kthread" : "",
			     e->kind & PROC_K_IO_WORKER ? " io-worker" : "");
	cols(&r, h, known ? thread ? "thread" : "fork" : "clone", e->ppid, e->uid);
	ks_rec_uint(&r, "child_pid", NULL, 0, e->child_pid);
	ks_rec_uint(&r, "child_tid", NULL, 0, e->child_tid);
	ks_rec_uint(&r, "child_ppid", NULL, 0, e->child_ppid);
	v = ks_rec_add(&r, "clone_flags", NULL, 0, KS_V_ARGV);
	v->s.p = names;
	v->s.n = proc_flags_names(e->flags, names, sizeof(names));
	ks_rec_add(&r, "clone_flags_value", NULL, 0, KS_V_HEX)->u = e->flags;
	ks_rec_add(&r, "vfork_known", NULL, 0, KS_V_BOOL)->u = !!(e->kind & PROC_K_VFORK_SEEN);
	ks_rec_add(&r, "kernel_thread", NULL, 0, KS_V_BOOL)->u = !!(e->kind & PROC_K_KTHREAD);
	ks_rec_add(&r, "io_worker", NULL, 0, KS_V_BOOL)->u = !!(e->kind & PROC_K_IO_WORKER);
	ks_rec_str(&r, NULL, "DETAIL", 0, detail, n > 0 ? n : 0);
	ks_emit(ctx, &r);
}

static void on_exec(struct ks_ctx *ctx, struct proc_state *st, const struct ks_hdr *h,
		    size_t size)
{
	const struct ks_proc_exec *e = (const void *)h;
	const char *data = (const char *)e->data;
	struct proc_tree *t = tree(st);
	struct ks_val *v;
	struct ks_rec r;
	size_t alen;

	if (size < sizeof(*e) || sizeof(*e) + e->filename_len + e->args_len > size)
		return;
	if (t)
		proc_tree__exec(t, h->ts, h->pid, e->ppid, h->comm);
	if (st->tree || !ks_ctx_streaming(ctx))
		return;
	alen = e->args_len;
	while (alen && !data[e->filename_len + alen - 1])	/* the ARGV form: no final NUL */
		alen--;
	cols(&r, h, "exec", e->ppid, e->uid);
	ks_rec_kstr(&r, "filename", NULL, 0, data, e->filename_len, false);
	ks_rec_uint(&r, "old_tid", NULL, 0, e->old_tid);
	v = ks_rec_add(&r, "args", "DETAIL", 0, KS_V_ARGV);
	v->s.p = data + e->filename_len;
	v->s.n = alen;
	v->cut = e->args_total > e->args_len;
	ks_emit(ctx, &r);
}

static void on_task_exit(struct ks_ctx *ctx, struct proc_state *st, const struct ks_hdr *h,
		    size_t size)
{
	const struct ks_proc_exit *e = (const void *)h;
	bool thread = h->type == KS_EV_PROC_TEXIT;
	uint64_t life = h->ts > e->start_ns ? h->ts - e->start_ns : 0;
	char detail[160], life_s[24], cpu_s[24];
	struct proc_tree *t = tree(st);
	struct ks_rec r;
	size_t n;

	if (size < sizeof(*e))
		return;
	ks_counter_add(thread ? st->s_texits : st->s_exits, 1);
	if (t && thread)
		proc_tree__thread_exit(t, h->ts, h->pid);
	else if (t)
		proc_tree__exit(t, h->ts, h->pid, e->ppid);
	if (st->tree || (thread && st->no_threads) || !ks_ctx_streaming(ctx))
		return;
	n = proc_status_text(e->exit_code, detail, sizeof(detail));
	proc_fmt_ns(life, life_s, sizeof(life_s));
	proc_fmt_ns(e->cpu_ns, cpu_s, sizeof(cpu_s));
	n += snprintf(detail + n, sizeof(detail) - n, ", lifetime %s, cpu %s", life_s, cpu_s);
	cols(&r, h, thread ? "thread-exit" : "exit", e->ppid, e->uid);
	ks_rec_uint(&r, "exit_code", NULL, 0, (e->exit_code >> 8) & 0xff);
	ks_rec_uint(&r, "signal", NULL, 0, e->exit_code & 0x7f);
	ks_rec_add(&r, "core_dumped", NULL, 0, KS_V_BOOL)->u = !!(e->exit_code & 0x80);
	ks_rec_add(&r, "lifetime_ns", NULL, 0, KS_V_NS)->u = life;
	ks_rec_add(&r, "cpu_ns", NULL, 0, KS_V_NS)->u = e->cpu_ns;
	ks_rec_str(&r, NULL, "DETAIL", 0, detail, n < sizeof(detail) ? n : sizeof(detail) - 1);
	ks_emit(ctx, &r);
}

static void proc_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	switch (h->type) {
	case PROC_EV_FORK:
	case PROC_EV_THREAD:
	case PROC_EV_CLONE:
		on_fork(ctx, state, h, size);
		break;
	case KS_EV_PROC_EXEC:
		on_exec(ctx, state, h, size);
		break;
	case KS_EV_PROC_EXIT:
	case KS_EV_PROC_TEXIT:
		on_task_exit(ctx, state, h, size);
		break;
	}
}

#define PROC_DRAW_DEPTH 32	/* levels drawn; deeper ones share the last indentation */

struct draw {
	struct ks_ctx *ctx;
	struct proc_state *st;
	bool last[PROC_DRAW_DEPTH];
};

static void draw_node(const struct proc_node *n, unsigned int depth, unsigned int children,
		      bool last, void *arg)
{
	struct draw *d = arg;
	char tree[PROC_DRAW_DEPTH * 3 + 24];
	unsigned int shown = depth < PROC_DRAW_DEPTH ? depth : PROC_DRAW_DEPTH - 1;
	size_t len = 0, cl = strnlen(n->comm, sizeof(n->comm));
	struct ks_rec r;

	d->last[shown] = last;
	for (unsigned int i = 1; i < shown; i++)
		len += snprintf(tree + len, sizeof(tree) - len, "%s", d->last[i] ? "   " : "|  ");
	if (shown)
		len += snprintf(tree + len, sizeof(tree) - len, "%s", last ? "`- " : "|- ");
	memcpy(tree + len, n->comm, cl);
	len += cl;

	ks_rec_init(&r, "proc_tree", NULL);
	ks_rec_uint(&r, "pid", "PID", -7, n->pid);
	ks_rec_uint(&r, "ppid", "PPID", -7, n->ppid);
	ks_rec_uint(&r, "threads", "THR", 5, n->threads);
	ks_rec_uint(&r, "children", "KIDS", 5, children);
	ks_rec_uint(&r, "forks", "FORKS", 6, n->forks);
	ks_rec_uint(&r, "threads_created", "THR+", 6, n->threads_created);
	ks_rec_uint(&r, "threads_exited", "THR-", 6, n->threads_exited);
	ks_rec_uint(&r, "children_exited", "EXITED", 7, n->children_exited);
	ks_rec_uint(&r, "execs", "EXECS", 6, n->execs);
	ks_rec_kstr(&r, "comm", NULL, 0, n->comm, sizeof(n->comm), false);
	ks_rec_uint(&r, "depth", NULL, 0, depth);
	ks_rec_add(&r, "started_before", NULL, 0, KS_V_BOOL)->u = n->started_before;
	ks_rec_uint(&r, "snapshot", NULL, 0, d->st->snapshot);
	ks_rec_kstr(&r, NULL, " TREE", 0, tree, len, false);
	ks_emit(d->ctx, &r);
}

/* --tree: the whole tree, or the subtree of -p, each interval and at the end. */
static void proc_report(struct ks_ctx *ctx, void *state, void *skel)
{
	struct proc_state *st = state;
	struct proc_tree *t = tree(st);
	struct draw d = { .ctx = ctx, .st = st };
	struct ks_rec r;
	int n;

	if (!t)
		return;
	if (st->resync)
		proc_tree__sync(t);
	st->snapshot++;
	ks_rec_init(&r, "proc_tree_snapshot", NULL);
	r.style = KS_REC_LINE;
	ks_rec_str(&r, NULL, "", 0, "process tree", 12);
	ks_rec_uint(&r, "snapshot", "snapshot", 0, st->snapshot);
	ks_rec_uint(&r, "processes", "processes", 0, proc_tree__count(t));
	ks_rec_uint(&r, "dropped", "dropped", 0, proc_tree__dropped(t));
	ks_rec_uint(&r, "root", st->root ? "root" : NULL, 0, st->root);
	ks_emit(ctx, &r);
	n = proc_tree__walk(t, st->root, draw_node, &d);
	if (n == -ESRCH) {
		ks_rec_init(&r, "proc_tree_gone", NULL);
		r.style = KS_REC_LINE;
		ks_rec_str(&r, NULL, "", 0, "process tree", 12);
		ks_rec_uint(&r, "pid", "pid", 0, st->root);
		ks_rec_str(&r, "state", "", 0, "is gone", 7);
		ks_emit(ctx, &r);
	}
}

static void proc_fini(void *state)
{
	struct proc_state *st = state;

	proc_tree__free(st->t);
	st->t = NULL;
}

KS_BPF_OBJECT(proc);

const struct ks_module proc_module = {
	.name = "proc",
	.id = KS_MOD_proc,
	.bpf = &proc_bpf_obj,
	/* thread exits are the core's records, streamed only on request */
	.thread_exits = true,
	.brief = "process and thread lifecycle: fork vs thread (clone flags), exec, exit with "
		 "status, lifetime and CPU time; --tree",
	.usage = "  ksight proc                 # every fork, thread, exec and exit, system-wide\n"
		 "  ksight proc -p 1234         # what 1234 does: its forks, threads, exits\n"
		 "  ksight proc --no-threads    # processes only\n"
		 "  ksight proc --tree          # the process tree with counts, at the end\n"
		 "  ksight proc --tree -p 1 5   # the subtree of pid 1, every 5 s\n"
		 "  ksight proc --json          # one JSON object per event\n",
	.opts = proc_opts,
	.state_size = sizeof(struct proc_state),
	.positional = true,
	.slots = proc_slots,
	.types = proc_types,
	.configure = proc_configure,
	.init = proc_init,
	.setup = proc_setup,
	.event = proc_event,
	.report = proc_report,
	.summary = proc_summary,
	.fini = proc_fini,
};
