// SPDX-License-Identifier: GPL-2.0
/*
 * mem: `ksight mem`, page faults per process (or thread, -L), minor and major, and memory
 * growth (bytes mapped and unmapped, the heap's size, anonymous RSS and its peak), counted
 * in the kernel (bpf/mem.bpf.c) and printed each interval (or once at the end) busiest
 * first; and every OOM kill as it happens: the victim, its memory, who was allocating.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/attachments.h"
#include "core/ident.h"
#include "core/rows_collect.h"
#include "core/symbolize.h"
#include "mem.skel.h"
#include "modules/mem_int.h"

static const struct ks_opt mem_opts[] = {
	{ "per-thread", 'L', KS_OPT_FLAG, offsetof(struct mem_state, per_thread), NULL,
	  "one row per thread instead of per process" },
	{ "top", 0, KS_OPT_UINT, offsetof(struct mem_state, top), "N",
	  "rows per report, most faults first (default 20, 0: all)", 0, 1000000 },
	{ "oom-only", 0, KS_OPT_FLAG, offsetof(struct mem_state, no_faults), NULL,
	  "only OOM kills: no page-fault counting, no growth" },
	{ "leaks", 0, KS_OPT_FLAG, offsetof(struct mem_state, leaks), NULL,
	  "with -p: outstanding allocations by the user stack that made them (uprobes)" },
	{ "src", 0, KS_OPT_FLAG, offsetof(struct mem_state, src), NULL,
	  "--leaks: read DWARF (libdw): inlined allocating functions as frames of their own, "
	  "and each function's file:line" },
	{ "leaks-lib", 0, KS_OPT_STR, offsetof(struct mem_state, leaks_lib), "LIB",
	  "the allocator's library or binary for --leaks (default libc)" },
	{ "no-growth", 0, KS_OPT_FLAG, offsetof(struct mem_state, no_growth), NULL,
	  "faults and OOM kills only: no mmap/munmap/brk (no syscall hook), no RSS" },
	{ 0 },
};

enum { SL_FAULTS, SL_OOM, SL_GROWTH, SL_RSS, SL_LEAKS };

static const int mem_growth_calls[] = { SYS_mmap, SYS_munmap, SYS_brk, -1 };

#define X(sys) { "mem__" #sys "_fexit", "__x64_sys_" #sys }

static const struct ks_slot mem_slots[] = {
	[SL_FAULTS] = {
		.name = "count page faults",
		.alts = {
			{ KS_FAM_PERF, { { "mem__minor", "software" }, { "mem__major", "software" } } },
		},
	},
	[SL_OOM] = {
		.name = "see OOM kills",
		.alts = {
			{ KS_FAM_TP, { { "mem__oom_tp", "oom/mark_victim" } } },
		},
	},
	[SL_GROWTH] = {
		.name = "see mmap/munmap/brk",
		.alts = {
			{ KS_FAM_FENTRY, { X(mmap), X(munmap), X(brk) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, mem_growth_calls },
		},
	},
	[SL_RSS] = {
		.name = "follow anonymous RSS",
		.alts = {
			{ KS_FAM_TP, { { "mem__rss_tp", "kmem/rss_stat" } } },
		},
	},
	[SL_LEAKS] = {
		.name = "follow allocations (--leaks)",
		.alts = {
			{ KS_FAM_UPROBE, { { "mem__malloc", "uprobe" }, { "mem__calloc", "uprobe" },
					   { "mem__realloc", "uprobe" }, { "mem__memalign", "uprobe" },
					   { "mem__posix_memalign", "uprobe" }, { "mem__free", "uprobe" },
					   { "mem__alloc_ret", "uretprobe" } } },
		},
	},
	{ 0 },
};

static const struct ks_evtype mem_types[] = {
	{ MEM_EV_FAULT, "faults", true },
	{ MEM_EV_OOM, "oom" },
	{ MEM_EV_LEAK, "leak_blocks", true },
	{ MEM_EV_LEAK_STACK, "leak_stacks_cut", true },
	{ 0 },
};

static bool mem_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct mem_state *st = state;

	if (slot == &mem_slots[SL_OOM])
		return true;
	if (slot == &mem_slots[SL_LEAKS])
		return st->leaks;
	if (slot == &mem_slots[SL_FAULTS])
		return !st->no_faults;
	return !st->no_faults && !st->no_growth;
}

static int mem_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct mem_state *st = state;
	struct mem_bpf *skel = vskel;

	skel->rodata->mem_per_thread = st->per_thread;
	mem_leaks_setup(st, skel);
	return 0;
}

/* One software event per CPU for each kind, sampled on every fault. */
static int mem_attach(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct mem_state *st = state;
	struct mem_bpf *skel = vskel;
	struct ks_perf_spec minor = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN, 1 };
	struct ks_perf_spec major = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1 };
	int err;

	if (st->leaks && (err = mem_leaks_attach(ctx, st, skel)))
		return err;
	if (st->no_faults)
		return 0;
	if ((err = ks_attach_perf(ctx, skel->progs.mem__minor, &minor)))
		return err;
	return ks_attach_perf(ctx, skel->progs.mem__major, &major);
}

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct mem_key));
}

static uint64_t faults(const void *row)
{
	const struct mem_row *r = row;

	return r->v.minor + r->v.major;
}

static int by_faults(const void *a, const void *b)
{
	const struct mem_row *x = a, *y = b;

	if (x->v.major != y->v.major)
		return x->v.major > y->v.major ? -1 : 1;
	if (faults(x) != faults(y))
		return faults(x) > faults(y) ? -1 : 1;
	if (x->v.mmap_bytes != y->v.mmap_bytes)
		return x->v.mmap_bytes > y->v.mmap_bytes ? -1 : 1;
	return by_key(a, b);
}

/*
 * Turn a row into its change since @p (NULL: none before): counters become their change,
 * gauges stay as they are; true when a counter or a gauge changed.
 */
static bool sub_row(void *r, const void *p)
{
	struct mem_row *d = r;
	const struct mem_row *o = p;
	bool gauges = !o || d->v.seen != o->v.seen || d->v.heap != o->v.heap ||
		      d->v.rss_anon != o->v.rss_anon || d->v.anon_peak != o->v.anon_peak;

	if (o) {
		d->v.minor -= o->v.minor;
		d->v.major -= o->v.major;
		d->v.mmap_bytes -= o->v.mmap_bytes;
		d->v.munmap_bytes -= o->v.munmap_bytes;
	}
	return faults(d) || d->v.mmap_bytes || d->v.munmap_bytes || (gauges && d->v.seen);
}

static const struct mem_state mem_defaults = {
	.top = 20,
	.rows = KS_TASK_ROWS(struct mem_row, by_key, sub_row, faults),
};

/* A gauge's column: its value once seen; before, "-" in tables and no key in JSON. */
static void gauge(struct ks_rec *r, const char *key, const char *col, bool seen, uint64_t v)
{
	if (seen)
		ks_rec_add(r, key, col, 11, KS_V_BYTES)->u = v;
	else
		ks_rec_str(r, NULL, col, 11, "-", 1);
}

static void emit_row(struct ks_ctx *ctx, const struct mem_state *st, const struct mem_row *p)
{
	const char *svc;
	struct ks_hdr h;
	struct ks_rec r;

	ks_row_hdr(&h, p->k.pid, p->k.tid, p->v.cgroup, p->v.comm);
	svc = ks_ident__service(ks_ctx_ident(ctx), &h);
	ks_rec_init(&r, "mem_faults", &h);
	r.kind = KS_K_REPORT;
	ks_rec_uint(&r, NULL, "PID", -7, p->k.pid);	/* JSON: the header's */
	if (st->per_thread)
		ks_rec_uint(&r, NULL, "TID", -7, p->k.tid);
	ks_rec_kstr(&r, NULL, "COMM", -16, h.comm, sizeof(h.comm), false);
	ks_rec_str(&r, NULL, "SERVICE", -20, svc, strlen(svc));
	ks_rec_add(&r, "minor", "MINOR", 10, KS_V_COUNT)->u = p->v.minor;
	ks_rec_add(&r, "major", "MAJOR", 8, KS_V_COUNT)->u = p->v.major;
	if (!st->no_growth) {
		ks_rec_add(&r, "mmap_bytes", "MMAP", 11, KS_V_BYTES)->u = p->v.mmap_bytes;
		ks_rec_add(&r, "munmap_bytes", "MUNMAP", 11, KS_V_BYTES)->u = p->v.munmap_bytes;
		gauge(&r, "heap_bytes", "HEAP", p->v.seen & MEM_SEEN_HEAP, p->v.heap);
		gauge(&r, "rss_anon_bytes", "RSS_ANON", p->v.seen & MEM_SEEN_RSS, p->v.rss_anon);
		gauge(&r, "anon_peak_bytes", "ANON_PEAK", p->v.seen & MEM_SEEN_RSS,
		      p->v.anon_peak);
	}
	ks_emit(ctx, &r);
}

/* The rows that changed since the last report, busiest first, --top of them; the rows of
 * processes that exited leave the kernel's table once reported. */
static void mem_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct mem_state *st = state;
	struct mem_bpf *skel = vskel;
	struct bpf_map *map = skel->maps.mem_rows;
	struct mem_row *d;
	uint64_t total;
	size_t m;

	m = ks_task_rows_read(&st->rows, map, &total, (void **)&d);
	ks_ctx_aggregated(ctx, MEM_EV_FAULT, total);
	if (!d)
		return;
	qsort(d, m, sizeof(*d), by_faults);
	for (size_t i = 0; i < m && (!st->top || i < st->top); i++)
		emit_row(ctx, st, &d[i]);
	free(d);
	if (st->leaks)
		mem_leaks_report(ctx, st, skel);
}

static void on_oom(struct ks_ctx *ctx, const struct ks_hdr *h, size_t size)
{
	const struct mem_oom *e = (const void *)h;
	char detail[160];
	struct ks_rec r;
	int n;

	if (size < sizeof(*e))
		return;
	n = snprintf(detail, sizeof(detail), "killed %u %.*s, rss %llu KiB", e->victim,
		     (int)strnlen(e->comm, sizeof(e->comm)), e->comm,
		     (unsigned long long)(e->anon_rss_kb + e->file_rss_kb + e->shmem_rss_kb));
	ks_rec_init(&r, "oom", h);
	ks_rec_uint(&r, NULL, "PID", -7, h->pid);	/* JSON: the header's (the allocator) */
	ks_rec_kstr(&r, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
	ks_rec_uint(&r, "victim_pid", NULL, 0, e->victim);
	ks_rec_kstr(&r, "victim_comm", NULL, 0, e->comm, sizeof(e->comm), false);
	if (e->uid != ~0u)
		ks_rec_uint(&r, "victim_uid", NULL, 0, e->uid);
	ks_rec_add(&r, "total_vm_bytes", NULL, 0, KS_V_BYTES)->u = e->total_vm_kb << 10;
	ks_rec_add(&r, "anon_rss_bytes", NULL, 0, KS_V_BYTES)->u = e->anon_rss_kb << 10;
	ks_rec_add(&r, "file_rss_bytes", NULL, 0, KS_V_BYTES)->u = e->file_rss_kb << 10;
	ks_rec_add(&r, "shmem_rss_bytes", NULL, 0, KS_V_BYTES)->u = e->shmem_rss_kb << 10;
	ks_rec_int(&r, "oom_score_adj", NULL, 0, e->oom_score_adj);
	ks_rec_str(&r, NULL, "EVENT", 0, detail, n > 0 ? (size_t)n : 0);
	ks_emit(ctx, &r);
}

static void mem_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct mem_state *st = state;
	const struct mem_oom *e = (const void *)h;

	if (h->type != MEM_EV_OOM || size < sizeof(*e))
		return;
	if (st->m_oom) {
		const char *name = e->comm[0] ? e->comm : "?";
		size_t len = e->comm[0] ? strnlen(e->comm, sizeof(e->comm)) : 1;

		ks_counter_add(ks_metric_getn(st->m_oom, &name, &len), 1);
	}
	if (ks_ctx_streaming(ctx))
		on_oom(ctx, h, size);
}

static const struct ks_metric_desc minor_desc = {
	.name = "ksight_mem_minor_faults_total",
	.help = "Page faults served without I/O, by service",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
};

static const struct ks_metric_desc major_desc = {
	.name = "ksight_mem_major_faults_total",
	.help = "Page faults that waited for I/O, by service",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
};

static const struct ks_metric_desc mapped_desc = {
	.name = "ksight_mem_mapped_bytes_total",
	.help = "Bytes mapped by successful mmap() calls (whole pages), by service",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
};

static const struct ks_metric_desc unmapped_desc = {
	.name = "ksight_mem_unmapped_bytes_total",
	.help = "Bytes unmapped by successful munmap() calls (whole pages), by service",
	.type = KS_METRIC_COUNTER,
	.labels = { "service" },
	.idle = 60,
};

static const struct ks_metric_desc oom_desc = {
	.name = "ksight_mem_oom_kills_total",
	.help = "Processes the OOM killer chose, by the victim's name (6.x kernels name it)",
	.type = KS_METRIC_COUNTER,
	.labels = { "comm" },
	.budget = 64,
	.idle = 600,
};

static int mem_init(struct ks_ctx *ctx, void *state)
{
	struct mem_state *st = state;

	st->m_minor = ks_ctx_metric(ctx, &minor_desc);
	st->m_major = ks_ctx_metric(ctx, &major_desc);
	st->m_oom = ks_ctx_metric(ctx, &oom_desc);
	st->m_mapped = ks_ctx_metric(ctx, &mapped_desc);
	st->m_unmapped = ks_ctx_metric(ctx, &unmapped_desc);
	return st->m_minor && st->m_major && st->m_oom && st->m_mapped && st->m_unmapped
		       ? 0
		       : -errno;
}

static void mem_add(void *state, const void *row, const char *svc)
{
	const struct mem_row *r = row;
	struct mem_state *st = state;

	ks_counter_add(ks_metric_get(st->m_minor, svc), r->v.minor);
	ks_counter_add(ks_metric_get(st->m_major, svc), r->v.major);
	ks_counter_add(ks_metric_get(st->m_mapped, svc), r->v.mmap_bytes);
	ks_counter_add(ks_metric_get(st->m_unmapped, svc), r->v.munmap_bytes);
}

/* Agent: the rows that changed since the last interval into the registry, per service. */
static void mem_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	static const struct ks_row_who who = KS_ROW_WHO(struct mem_row);
	struct mem_state *st = state;
	struct mem_bpf *skel = vskel;

	ks_task_rows_collect(ctx, &st->rows, skel->maps.mem_rows, MEM_EV_FAULT, &who, mem_add, st);
}

/* The agent's line: faults per second, bytes mapped and unmapped, and the services that
 * fault most. */
static void mem_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct mem_state *st = state;
	uint64_t minor = ks_metric_delta(st->m_minor), major = ks_metric_delta(st->m_major);
	uint64_t mapped = ks_metric_delta(st->m_mapped), unmapped = ks_metric_delta(st->m_unmapped);
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "mem");
	ks_rec_rate(&r, "minor_faults_per_s", "minor", minor, secs);
	ks_rec_rate(&r, "major_faults_per_s", "major", major, secs);
	ks_rec_uint(&r, "minor_faults", NULL, 0, minor);
	ks_rec_uint(&r, "major_faults", NULL, 0, major);
	ks_rec_add(&r, "mapped_bytes", "mapped", 0, KS_V_BYTES)->u = mapped;
	ks_rec_add(&r, "unmapped_bytes", "unmapped", 0, KS_V_BYTES)->u = unmapped;
	ks_rec_uint(&r, "oom_kills", "oom-kills", 0, ks_metric_delta(st->m_oom));
	ks_rec_top(&r, "top_minor", "top:", &o, top, 5, st->m_minor, secs);
	ks_emit(ctx, &r);
}

/* A process that exited: its rows go after the next report has shown them. */
static void mem_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct mem_state *st = state;

	if (h->type == KS_EV_PROC_EXIT)
		ks_task_rows_gone(&st->rows, h->pid);
}

static void mem_fini(void *state)
{
	struct mem_state *st = state;

	ks_task_rows_free(&st->rows);
	ks_symbolizer__free(st->leak_sym);
}

static int mem_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	return mem_leaks_configure(state, common, err, len);
}

KS_BPF_OBJECT(mem);

const struct ks_module mem_module = {
	.name = "mem",
	.id = KS_MOD_mem,
	.bpf = &mem_bpf_obj,
	.agent_optin = true,
	.brief = "page faults, mmap/munmap bytes, heap and anonymous RSS per process; OOM kills",
	.usage = "  ksight mem                  # faults per process at the end (Ctrl-C); OOM kills\n"
		 "  ksight mem 1                # every second, the 20 busiest\n"
		 "  ksight mem -L -p 1234 1 5   # the threads of 1234, every second, 5 times\n"
		 "  ksight mem --oom-only --json  # only OOM kills, as JSON lines\n"
		 "  ksight mem --no-growth 5    # faults only (no syscall hook), every 5 s\n"
		 "  ksight mem --leaks -p 1234 10  # 1234's outstanding allocations by stack\n",
	.opts = mem_opts,
	.state_size = sizeof(struct mem_state),
	.defaults = &mem_defaults,
	.positional = true,
	.slots = mem_slots,
	.types = mem_types,
	.want_slot = mem_want_slot,
	.configure = mem_configure,
	.init = mem_init,
	.setup = mem_setup,
	.attach = mem_attach,
	.event = mem_event,
	.proc = mem_proc,
	.report = mem_report,
	.collect = mem_collect,
	.summary = mem_summary,
	.fini = mem_fini,
};
