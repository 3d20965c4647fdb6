// SPDX-License-Identifier: GPL-2.0
/*
 * pmc: `ksight pmc`, perf counters per process (thread with -L, cgroup with --per-cgroup):
 * hardware (cycles, instructions, IPC, cache, branch, LLC and dTLB misses) where the
 * machine has a PMU, software (faults, context switches, migrations, cpu-clock,
 * task-clock) everywhere. Each counter is opened once per CPU and read by the kernel at
 * every context switch (bpf/pmc.bpf.c): what a CPU counted between a task's switch-in and
 * its switch-out is that task's. Context switches and the two clocks need no perf event:
 * the hook counts the switches and times the stretches. Software counters alone are
 * read from the tasks instead where the kernel can (--read; task storage, 5.11+): they are
 * counts the kernel keeps per task, taken each interval by an iterator and at each
 * thread's exit, with no program at sched_switch. Printed busiest first each interval or
 * once at the end.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/attachments.h"
#include "core/ident.h"
#include "core/task_counts.h"
#include "modules/pmc_int.h"
#include "pmc.skel.h"

#define OFF(f) offsetof(struct pmc_state, f)

static const struct ks_opt pmc_opts[] = {
	{ "events", 'e', KS_OPT_STR, OFF(events), "LIST",
	  "counters, comma separated (default: all below but the *-loads and minor/major "
	  "faults): cycles, instructions, cache-references, cache-misses, branches, "
	  "branch-misses, LLC-loads, LLC-load-misses, dTLB-loads, dTLB-load-misses, page-faults, "
	  "minor-faults, major-faults, cs, migrations, cpu-clock, task-clock", 0, 1024 },
	{ "read", 0, KS_OPT_STR, OFF(read), "HOW",
	  "tasks: take the software counters from the kernel's per-task counts each interval "
	  "(nothing runs at switches; the default where every counter is one and the kernel "
	  "has task storage, 5.11); switches: read every counter at every context switch", 0,
	  16 },
	{ "per-process", 'P', KS_OPT_FLAG, OFF(per_process), NULL,
	  "one row per process (the default)" },
	{ "per-thread", 'L', KS_OPT_FLAG, OFF(per_thread), NULL, "one row per thread" },
	{ "per-cgroup", 0, KS_OPT_FLAG, OFF(per_cgroup), NULL, "one row per cgroup v2" },
	{ "top", 0, KS_OPT_UINT, OFF(top), "N",
	  "rows per report, by the first counter (default 20, 0: all)", 0, 1000000 },
	{ 0 },
};

static const struct ks_slot pmc_slots[] = {
	{
		.name = "read at switches",
		.alts = {
			{ KS_FAM_TP_BTF, { { "pmc__switch_btf", "sched_switch" } } },
			{ KS_FAM_RAW_TP, { { "pmc__switch_raw", "sched_switch" } } },
			{ KS_FAM_TP, { { "pmc__switch_tp", "sched/sched_switch" } } },
		},
	},
	{
		/* --read tasks: the iterator (not a hook) reads the live tasks */
		.name = "tasks' exits",
		.alts = {
			{ KS_FAM_TP_BTF, { { "pmc__exit_btf", "sched_process_exit" } } },
			{ KS_FAM_RAW_TP, { { "pmc__exit_raw", "sched_process_exit" } } },
			{ KS_FAM_TP, { { "pmc__exit_tp", "sched/sched_process_exit" } } },
		},
	},
	{ 0 },
};

static const struct ks_evtype pmc_types[] = {
	{ PMC_EV_ROWS, "switches", true },
	{ 0 },
};

static void index_ipc(struct pmc_state *st)
{
	st->cycles = st->instructions = -1;
	for (int i = 0; i < st->n; i++) {
		if (st->ev[i]->type == PERF_TYPE_HARDWARE &&
		    st->ev[i]->config == PERF_COUNT_HW_CPU_CYCLES)
			st->cycles = i;
		if (st->ev[i]->type == PERF_TYPE_HARDWARE &&
		    st->ev[i]->config == PERF_COUNT_HW_INSTRUCTIONS)
			st->instructions = i;
	}
}

static int pmc_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct pmc_state *st = state;

	if (st->per_process + st->per_thread + st->per_cgroup > 1) {
		snprintf(err, len, "-P, -L and --per-cgroup: choose one");
		return -1;
	}
	st->n = pmc_events_parse(st->events ? st->events : PMC_DEFAULT_EVENTS, st->ev, err, len);
	if (st->n < 0)
		return -1;
	if (ks_tc_check(st->read, err, len))
		return -1;
	for (int i = 0; st->read && !strcmp(st->read, "tasks") && i < st->n; i++)
		if (!pmc_event_task_src(st->ev[i])) {
			snprintf(err, len, "--read tasks: %s is not counted per task by the kernel "
				 "(hardware counters are read at switches)", st->ev[i]->name);
			return -1;
		}
	index_ipc(st);
	return 0;
}

/* Read from the tasks where every counter is one the kernel keeps per task (after pmc_pick
 * dropped those this machine lacks) and the kernel can: 0, or -1 with the missing feature
 * in @err (--read tasks). */
static int pmc_choose(struct pmc_state *st, char *err, size_t len)
{
	bool fits = st->n > 0;

	for (int i = 0; i < st->n; i++)
		fits &= pmc_event_task_src(st->ev[i]) != 0;
	return ks_tc_choose("pmc", st->read, fits, &st->tasks, err, len);
}

/* Open counter @e on this CPU and close it again: 0, or the errno. */
static int pmc_try(const struct pmc_event *e)
{
	struct perf_event_attr a = { .size = sizeof(a), .type = e->type, .config = e->config };
	int fd, cpu = sched_getcpu();

	fd = syscall(__NR_perf_event_open, &a, -1, cpu < 0 ? 0 : cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* The kernel's ways of saying it has no such event source or event. */
static bool absent(int err)
{
	return err == ENOENT || err == EOPNOTSUPP || err == ENODEV;
}

/*
 * Which hardware counters of the list this machine has. Without a PMU (cycles cannot be
 * opened: ENOENT; EOPNOTSUPP or ENODEV from some hypervisors' stubs) every hardware
 * counter is dropped; with one, those it does not count (LLC events on some CPUs) are.
 * Either way with a note in @note. Returns 0 (nothing to say), 1 (a note) or -1 (nothing
 * left to count).
 */
static int pmc_pick(struct pmc_state *st, char *note, size_t len)
{
	uint32_t hw = 0, drop = 0;
	char names[256];
	int err, first = 0;

	for (int i = 0; i < st->n; i++)
		if (pmc_event_hw(st->ev[i]))
			hw |= 1u << i;
	if (!hw)
		return 0;
	if (absent(err = pmc_try(&pmc_events[0]))) {	/* cycles */
		st->n = pmc_events_drop(st->ev, st->n, hw, names, sizeof(names));
		snprintf(note, len, "no hardware PMU on this machine (perf_event_open of cycles: %s):"
			 " %s not counted%s", strerror(err), names,
			 st->n ? ", software counters only" : "; nothing left to count");
	} else {
		for (int i = 0; i < st->n; i++)
			if ((hw & 1u << i) && absent(err = pmc_try(st->ev[i]))) {
				drop |= 1u << i;
				first = first ? first : err;
			}
		if (!drop)
			return 0;	/* another failure: attach names it */
		st->n = pmc_events_drop(st->ev, st->n, drop, names, sizeof(names));
		snprintf(note, len, "this machine's PMU does not count %s (perf_event_open: %s): "
			 "left out%s", names, strerror(first), st->n ? "" : "; nothing left to count");
	}
	index_ipc(st);
	return st->n ? 1 : -1;
}

/* `ksight status`: whether this machine counts hardware events. */
static void pmc_status(struct ks_ctx *ctx, char *buf, size_t len)
{
	int err = pmc_try(&pmc_events[0]);	/* cycles */
	const char *soft = ks_tc_possible() ?
		"; software counters alone are read from the tasks (task storage): the switch "
		"hook is --read switches'" :
		"; no task storage (Linux 5.11): every counter is read at switches";

	if (!err)
		snprintf(buf, len, "hardware counters: yes (a PMU counts cycles)%s", soft);
	else
		snprintf(buf, len, "hardware counters: %s (perf_event_open of cycles: %s): "
			 "software counters only%s", absent(err) ? "none, no PMU" : "refused",
			 strerror(err), soft);
}

static int pmc_kernel_check(void *state, char *err, size_t len)
{
	int picked = pmc_pick(state, err, len);

	if (picked < 0 || pmc_choose(state, err, len) < 0)
		return -1;
	return picked;
}

static bool pmc_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct pmc_state *st = state;

	return st->tasks == (slot == &pmc_slots[1]);
}

/* The agent parses no options: the default counters, those this machine has. */
static void pmc_agent_defaults(void *state)
{
	struct pmc_state *st = state;
	char note[KS_ERR_LEN * 2];

	st->n = pmc_events_parse(PMC_DEFAULT_EVENTS, st->ev, note, sizeof(note));
	index_ipc(st);
	if (pmc_pick(st, note, sizeof(note)) > 0)
		fprintf(stderr, "ksight run: pmc: %s\n", note);
	pmc_choose(st, note, sizeof(note));	/* the cheaper way: cannot fail */
}

static int pmc_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct pmc_state *st = state;
	struct pmc_bpf *skel = vskel;
	const struct ks_common *c = ks_ctx_common(ctx);
	uint32_t hw = 0, open = 0, clock = 0;
	struct stat cg;

	for (int i = 0; i < st->n; i++) {
		skel->rodata->pmc_task_src[i] = pmc_event_task_src(st->ev[i]);
		if (pmc_event_hw(st->ev[i]))
			hw |= 1u << i;
		if (pmc_event_opened(st->ev[i]))
			open |= 1u << i;
		if (pmc_event_clock(st->ev[i]))
			clock |= 1u << i;
	}
	skel->rodata->pmc_open = open;
	skel->rodata->pmc_clock = clock;
	skel->rodata->pmc_n = st->n;
	skel->rodata->pmc_hw = hw;
	skel->rodata->pmc_per_thread = st->per_thread;
	skel->rodata->pmc_per_cgroup = st->per_cgroup;
	/* a cgroup v2 directory's inode number is the cgroup's id (kernfs) */
	if (c->cgroup && !stat(c->cgroup, &cg))
		skel->rodata->pmc_cgroup_id = cg.st_ino;
	ks_tc_setup(st->tasks, skel->progs.pmc__tasks, skel->maps.tc_seen, &skel->rodata->ks_tc_t0);
	return 0;
}

static struct bpf_map *pmc_array(struct pmc_bpf *skel, int i)
{
	struct bpf_map *const maps[PMC_MAX] = {
		skel->maps.pmc_c0, skel->maps.pmc_c1, skel->maps.pmc_c2, skel->maps.pmc_c3,
		skel->maps.pmc_c4, skel->maps.pmc_c5, skel->maps.pmc_c6, skel->maps.pmc_c7,
		skel->maps.pmc_c8, skel->maps.pmc_c9, skel->maps.pmc_c10, skel->maps.pmc_c11,
	};

	return maps[i];
}

/* Each counter on every online CPU, into its array, where the switch hook reads it; or the
 * iterator over the tasks. */
static int pmc_attach(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct pmc_state *st = state;
	struct pmc_bpf *skel = vskel;
	int err;

	if (st->tasks)
		return ks_tc_attach(&st->reader, skel->progs.pmc__tasks);
	for (int i = 0; i < st->n; i++) {
		struct ks_perf_spec s = { .type = st->ev[i]->type, .config = st->ev[i]->config };

		if (!pmc_event_opened(st->ev[i]))
			continue;	/* switches and clocks: the switch hook's own */
		if ((err = ks_perf_counters(ctx, pmc_array(vskel, i), &s)))
			return err;
	}
	return 0;
}

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pmc_key));
}

static uint64_t switch_outs(const void *row)
{
	return ((const struct pmc_row *)row)->v.switch_outs;
}

/* Most of the first counter first, then the key: stable across reports. */
static int by_first(const void *a, const void *b, void *state)
{
	uint64_t vx = pmc_value(state, a, 0), vy = pmc_value(state, b, 0);

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return by_key(a, b);
}

/* Turn a row into its change since @p (NULL: none before); true when it is not zero. */
static bool sub_row(void *r, const void *p)
{
	struct pmc_row *d = r;
	const struct pmc_row *o = p;

	if (o) {
		for (int i = 0; i < PMC_MAX; i++) {
			d->v.c[i].count -= o->v.c[i].count;
			d->v.c[i].enabled -= o->v.c[i].enabled;
			d->v.c[i].running -= o->v.c[i].running;
		}
		d->v.stretches -= o->v.stretches;
		d->v.switch_outs -= o->v.switch_outs;
		d->v.unseen -= o->v.unseen;
	}
	/* a task that ran all along without switching still counted its time */
	for (int i = 0; i < PMC_MAX; i++)
		if (d->v.c[i].count)
			return true;
	return d->v.switch_outs;
}

static const struct pmc_state pmc_defaults = {
	.top = 20,
	.reader = { .cmd = "pmc" },
	.cycles = -1,
	.instructions = -1,
	.rows = KS_TASK_ROWS(struct pmc_row, by_key, sub_row, switch_outs),
};

/* The share of its enabled time hardware counter @r really counted, in percent (100 when
 * it was never multiplexed). */
static double counted_pct(const struct pmc_read *r)
{
	return r->enabled && r->running < r->enabled ? 100.0 * r->running / r->enabled : 100;
}

static void emit_row(struct ks_ctx *ctx, const struct pmc_state *st, const struct pmc_row *p)
{
	double pct = 100;
	const char *svc;
	struct ks_hdr h;
	struct ks_rec r;

	ks_row_hdr(&h, p->k.pid, p->k.tid, p->v.cgroup, p->v.comm);
	ks_rec_init(&r, "pmc", st->per_cgroup ? NULL : &h);
	r.kind = KS_K_REPORT;
	if (st->per_cgroup) {
		svc = ks_ctx_service(ctx, 0, p->k.cgroup);
		ks_rec_uint(&r, "cgroup_id", "CGROUP", -10, p->k.cgroup);
	} else {
		svc = ks_ident__service(ks_ctx_ident(ctx), &h);
		ks_rec_uint(&r, NULL, "PID", -7, p->k.pid);	/* JSON: the header's */
		if (st->per_thread)
			ks_rec_uint(&r, NULL, "TID", -7, p->k.tid);
		ks_rec_kstr(&r, NULL, "COMM", -16, h.comm, sizeof(h.comm), false);
	}
	ks_rec_str(&r, st->per_cgroup ? "service" : NULL, "SERVICE", -20, svc, strlen(svc));
	for (int i = 0; i < st->n; i++) {
		const struct pmc_event *e = st->ev[i];
		ks_rec_add(&r, e->key, e->col, e->width, pmc_event_clock(e) ? KS_V_NS : KS_V_COUNT)->u =
			pmc_value(st, p, i);
		if (pmc_event_hw(e) && counted_pct(&p->v.c[i]) < pct)
			pct = counted_pct(&p->v.c[i]);
	}
	if (st->cycles >= 0 && st->instructions >= 0) {
		uint64_t cyc = pmc_scaled(&p->v.c[st->cycles]);

		ks_rec_add(&r, "ipc", "IPC", 5, KS_V_DOUBLE)->d =
			cyc ? (double)pmc_scaled(&p->v.c[st->instructions]) / cyc : 0;
	}
	if (pct < 100)	/* hardware counters shared their registers: scaled up */
		ks_rec_add(&r, "counted_pct", "CNT%", 5, KS_V_DOUBLE)->d = pct;
	ks_rec_uint(&r, "stretches", NULL, 0, p->v.stretches);
	/* switches whose stretch was not read: shown, as any count left out */
	ks_rec_add(&r, "unseen_stretches", st->tasks ? NULL : "UNSEEN", 6, KS_V_COUNT)->u =
		p->v.unseen;
	ks_emit(ctx, &r);
}

/* The first reading of the tasks, at the start: where each one's counts stand. */
static void pmc_started(struct ks_ctx *ctx, void *state)
{
	ks_tc_read(&((struct pmc_state *)state)->reader);
}

/* The rows that changed since the last report, busiest first, --top of them; the rows of
 * processes that exited leave the kernel's table once reported. */
static void pmc_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct pmc_state *st = state;
	struct pmc_bpf *skel = vskel;
	struct pmc_row *d;
	uint64_t total;
	size_t m;

	ks_tc_read(&st->reader);
	m = ks_task_rows_read(&st->rows, skel->maps.pmc_rows, &total, (void **)&d);
	ks_ctx_aggregated(ctx, PMC_EV_ROWS, total);
	if (!d)
		return;
	qsort_r(d, m, sizeof(*d), by_first, st);
	for (size_t i = 0; i < m && (!st->top || i < st->top); i++)
		emit_row(ctx, st, &d[i]);
	free(d);
}

static void pmc_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct pmc_bpf *skel = vskel;

	ks_tc_read(&((struct pmc_state *)state)->reader);
	pmc_agent_collect(ctx, state, skel->maps.pmc_rows);
}

/* A process that exited: its rows go after the next report has shown them. */
static void pmc_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct pmc_state *st = state;

	if (h->type == KS_EV_PROC_EXIT)
		ks_task_rows_gone(&st->rows, h->pid);
}

static void pmc_fini(void *state)
{
	struct pmc_state *st = state;

	ks_tc_free(&st->reader);
	ks_task_rows_free(&st->rows);
}

KS_BPF_OBJECT(pmc);

const struct ks_module pmc_module = {
	.name = "pmc",
	.id = KS_MOD_pmc,
	.bpf = &pmc_bpf_obj,
	.agent_optin = true,
	.brief = "perf counters per process, thread or cgroup: cycles, instructions, IPC, "
		 "cache/branch/LLC/dTLB misses read at every context switch; faults, switches, "
		 "migrations, cpu-clock from the tasks' own counts",
	.usage = "  ksight pmc                     # per process at the end (Ctrl-C)\n"
		 "  ksight pmc 1                   # every second, the 20 busiest\n"
		 "  ksight pmc -e cycles,instructions -L -p 1234 1 5\n"
		 "  ksight pmc -e page-faults,cs,task-clock --per-cgroup --json\n"
		 "  Without a hardware PMU (most VMs) the hardware counters are left out, said once.\n",
	.opts = pmc_opts,
	.state_size = sizeof(struct pmc_state),
	.defaults = &pmc_defaults,
	.positional = true,
	.slots = pmc_slots,
	.types = pmc_types,
	.configure = pmc_configure,
	.kernel_check = pmc_kernel_check,
	.want_slot = pmc_want_slot,
	.status = pmc_status,
	.agent_defaults = pmc_agent_defaults,
	.init = pmc_agent_init,
	.setup = pmc_setup,
	.attach = pmc_attach,
	.started = pmc_started,
	.proc = pmc_proc,
	.report = pmc_report,
	.collect = pmc_collect,
	.summary = pmc_agent_summary,
	.fini = pmc_fini,
};
