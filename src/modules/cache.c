// SPDX-License-Identifier: GPL-2.0
/*
 * cache: `ksight cache`, page-cache hits, misses and dirtied pages per process (thread,
 * cgroup) and per file, counted in the kernel (bpf/cache.bpf.c) by one of two methods
 * chosen at start-up and named in the output; with --file, how much of each file the page
 * cache holds (cache_res.c).
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache.skel.h"
#include "core/ident.h"
#include "modules/cache_int.h"

#define OFF(f) offsetof(struct cache_state, f)

static const struct ks_opt cache_opts[] = {
	{ "per-process", 'P', KS_OPT_FLAG, OFF(per_process), NULL,
	  "one row per process (the default)" },
	{ "per-thread", 'L', KS_OPT_FLAG, OFF(per_thread), NULL,
	  "one row per thread instead of per process" },
	{ "per-cgroup", 0, KS_OPT_FLAG, OFF(per_cgroup), NULL, "one row per cgroup v2" },
	{ "files", 0, KS_OPT_FLAG, OFF(files), NULL, "a table per file too (device and inode)" },
	{ "file", 0, KS_OPT_STRS, OFF(paths), "PATH",
	  "pages of PATH resident in the page cache (cachestat, else mincore), and its hits "
	  "and misses; repeatable", 0, 4096 },
	{ "top", 0, KS_OPT_UINT, OFF(top), "N",
	  "rows per report, busiest first (default 20, 0: all)", 0, 1000000 },
	{ 0 },
};

/* Each slot: the classic method's function where the kernel lets fentry or a kprobe hook
 * it (the folio name first, 5.16+; kprobes only for folio kernels: before 5.16, Debian's
 * 5.10 allows fentry), else the tracepoint, tp_btf first (no trace record is built). The
 * pages added keep the classic tracepoint: its record has the folio's order. */
enum { SL_ACCESS, SL_ADD, SL_DIRTY };

static const struct ks_slot cache_slots[] = {
	[SL_ACCESS] = {
		.name = "see accesses",
		.alts = {
			{ KS_FAM_FENTRY, { { "cache__acc_ffolio", "folio_mark_accessed" } } },
			{ KS_FAM_FENTRY, { { "cache__acc_fpage", "mark_page_accessed" } } },
			{ KS_FAM_KPROBE, { { "cache__acc_kfolio", "folio_mark_accessed" } } },
			{ KS_FAM_TP_BTF, { { "cache__get_pages_btf", "mm_filemap_get_pages" },
					   { "cache__fault_btf", "mm_filemap_fault" } } },
			{ KS_FAM_TP, { { "cache__get_pages_tp", "filemap/mm_filemap_get_pages" },
				       { "cache__fault_tp", "filemap/mm_filemap_fault" } } },
		},
	},
	[SL_ADD] = {
		.name = "see pages added",
		.alts = {
			{ KS_FAM_FENTRY, { { "cache__add_ffolio", "filemap_add_folio" } } },
			{ KS_FAM_FENTRY, { { "cache__add_fpage", "add_to_page_cache_lru" } } },
			{ KS_FAM_KPROBE, { { "cache__add_kfolio", "filemap_add_folio" } } },
			{ KS_FAM_TP_BTF, { { "cache__add_btf", "mm_filemap_add_to_page_cache" } } },
			{ KS_FAM_TP, { { "cache__add_tp", "filemap/mm_filemap_add_to_page_cache" } } },
		},
	},
	[SL_DIRTY] = {
		.name = "see pages dirtied",
		.alts = {
			{ KS_FAM_FENTRY, { { "cache__dirty_ffolio", "__folio_mark_dirty" } } },
			{ KS_FAM_FENTRY, { { "cache__dirty_fpage", "account_page_dirtied" } } },
			{ KS_FAM_KPROBE, { { "cache__dirty_kfolio", "__folio_mark_dirty" } } },
			{ KS_FAM_TP_BTF, { { "cache__dirty_btf", "writeback_dirty_folio" } } },
			{ KS_FAM_TP, { { "cache__dirty_tp", "writeback/writeback_dirty_folio" } } },
		},
	},
	{ 0 },
};

static const struct ks_evtype cache_types[] = {
	{ CACHE_EV_ROW, "pages", true },
	{ CACHE_EV_FILE, "file_pages", true },
	{ 0 },
};

static int cache_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct cache_state *st = state;
	int n = 0;

	if (st->per_thread + st->per_cgroup + st->per_process > 1) {
		snprintf(err, len, "-P, -L and --per-cgroup are exclusive");
		return -1;
	}
	if (!st->paths.n)
		return 0;
	st->fp = calloc(st->paths.n, sizeof(*st->fp));
	if (!st->fp) {
		snprintf(err, len, "--file: out of memory");
		return -1;
	}
	for (int i = 0; i < st->paths.n; i++) {
		struct stat s;
		const char *why = stat(st->paths.v[i], &s) ? strerror(errno) :
				  !S_ISREG(s.st_mode) ? "not a regular file" : NULL;

		if (why) {
			snprintf(err, len, "--file %s: %s", st->paths.v[i], why);
			free(st->fp);
			st->fp = NULL;
			return -1;
		}
		st->fp[n].path = st->paths.v[i];
		st->fp[n].kdev = cache_kdev(s.st_dev);
		st->fp[n++].ino = s.st_ino;
	}
	st->nfp = n;
	return 0;
}

/* The method, by what counts accesses; and what the chosen programs hook, by section. */
static void name_method(struct cache_state *st, struct cache_bpf *skel)
{
	struct bpf_program *p;
	size_t at = 0;

	if (bpf_program__autoload(skel->progs.cache__acc_ffolio) ||
	    bpf_program__autoload(skel->progs.cache__acc_fpage))
		st->method = "classic (fentry)";
	else if (bpf_program__autoload(skel->progs.cache__acc_kfolio))
		st->method = "classic (kprobe)";
	else if (bpf_program__autoload(skel->progs.cache__get_pages_btf) ||
		 bpf_program__autoload(skel->progs.cache__get_pages_tp))
		st->method = "tracepoint";
	else
		st->method = "none";
	st->hooks[0] = 0;
	bpf_object__for_each_program(p, skel->obj) {
		if (bpf_program__autoload(p) && at < sizeof(st->hooks))
			at += snprintf(st->hooks + at, sizeof(st->hooks) - at, "%s%s",
				       at ? " " : "", bpf_program__section_name(p));
	}
}

static int cache_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct cache_state *st = state;
	struct cache_bpf *skel = vskel;

	skel->rodata->cache_per_thread = st->per_thread;
	skel->rodata->cache_per_cgroup = st->per_cgroup;
	skel->rodata->cache_per_file = st->files || st->nfp;
	name_method(st, skel);
	return 0;
}

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct cache_key));
}

static uint64_t pages(const void *row)
{
	const struct cache_row *r = row;

	return r->v.accessed + r->v.added + r->v.dirtied;
}

static int by_busy(const void *a, const void *b)
{
	if (pages(a) != pages(b))
		return pages(a) > pages(b) ? -1 : 1;
	return by_key(a, b);
}

/* Turn a row into its change since @p (NULL: none before); true when it is not zero. */
static bool sub_row(void *r, const void *p)
{
	struct cache_row *d = r;
	const struct cache_row *o = p;

	if (o) {
		d->v.accessed -= o->v.accessed;
		d->v.added -= o->v.added;
		d->v.dirtied -= o->v.dirtied;
	}
	return pages(d);
}

static const struct cache_state cache_defaults = {
	.top = 20,
	.rows = KS_TASK_ROWS(struct cache_row, by_key, sub_row, pages),
};

static void add_counts(struct ks_rec *r, uint64_t accessed, uint64_t added, uint64_t dirtied)
{
	uint64_t hits, misses;
	double ratio;

	cache_hits_misses(accessed, added, dirtied, &hits, &misses);
	ratio = cache_ratio(hits, misses);
	ks_rec_add(r, "hits", "HITS", 10, KS_V_COUNT)->u = hits;
	ks_rec_add(r, "misses", "MISSES", 10, KS_V_COUNT)->u = misses;
	ks_rec_add(r, "dirties", "DIRTIES", 10, KS_V_COUNT)->u = dirtied;
	if (ratio >= 0)
		ks_rec_add(r, "hit_pct", "HIT%", 7, KS_V_DOUBLE)->d = ratio;
	else
		ks_rec_str(r, NULL, "HIT%", 7, "-", 1);
	ks_rec_uint(r, "accessed", NULL, 0, accessed);
	ks_rec_uint(r, "added", NULL, 0, added);
}

static void emit_row(struct ks_ctx *ctx, const struct cache_state *st, const struct cache_row *p)
{
	const char *svc;
	struct ks_hdr h;
	struct ks_rec r;

	if (st->per_cgroup) {
		svc = ks_ctx_service(ctx, 0, p->k.cgroup);
		ks_rec_init(&r, "cache_cgroup", NULL);
		ks_rec_uint(&r, "cgroup_id", "CGROUP", -10, p->k.cgroup);
		ks_rec_str(&r, "service", "SERVICE", -20, svc, strlen(svc));
		add_counts(&r, p->v.accessed, p->v.added, p->v.dirtied);
		ks_emit(ctx, &r);
		return;
	}
	ks_row_hdr(&h, p->k.pid, p->k.tid, p->v.cgroup, p->v.comm);
	svc = ks_ident__service(ks_ctx_ident(ctx), &h);
	ks_rec_init(&r, "cache", &h);
	r.kind = KS_K_REPORT;
	ks_rec_uint(&r, NULL, "PID", -7, p->k.pid);	/* JSON: the header's */
	if (st->per_thread)
		ks_rec_uint(&r, NULL, "TID", -7, p->k.tid);
	ks_rec_kstr(&r, NULL, "COMM", -16, h.comm, sizeof(h.comm), false);
	ks_rec_str(&r, NULL, "SERVICE", -20, svc, strlen(svc));
	add_counts(&r, p->v.accessed, p->v.added, p->v.dirtied);
	ks_emit(ctx, &r);
}

/* The interval's line: the method and its totals; then the rows that changed, busiest
 * first, --top of them; then the files. */
static void cache_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct cache_state *st = state;
	struct cache_bpf *skel = vskel;
	uint64_t total, acc = 0, add = 0, dirty = 0;
	struct cache_row *d;
	struct ks_rec r;
	size_t m;

	m = ks_task_rows_read(&st->rows, skel->maps.cache_rows, &total, (void **)&d);
	ks_ctx_aggregated(ctx, CACHE_EV_ROW, total);
	for (size_t i = 0; d && i < m; i++) {
		acc += d[i].v.accessed;
		add += d[i].v.added;
		dirty += d[i].v.dirtied;
	}
	ks_rec_init(&r, "cache_interval", NULL);
	r.style = KS_REC_LINE;
	ks_rec_str(&r, NULL, "", 0, "cache", 5);
	ks_rec_str(&r, "method", "method", 0, st->method, strlen(st->method));
	ks_rec_str(&r, "hooks", "hooks", 0, st->hooks, strlen(st->hooks));
	add_counts(&r, acc, add, dirty);
	ks_emit(ctx, &r);
	if (d) {
		qsort(d, m, sizeof(*d), by_busy);
		for (size_t i = 0; i < m && (!st->top || i < st->top); i++)
			emit_row(ctx, st, &d[i]);
		free(d);
	}
	if (st->files || st->nfp)
		cache_report_files(ctx, st, skel->maps.cache_files);
	cache_report_residency(ctx, st);
}

/* `ksight status`: how --file reads residency here. */
static void cache_status(struct ks_ctx *ctx, char *buf, size_t len)
{
	snprintf(buf, len, "--file residency: %s", cache_has_cachestat() ?
		 "cachestat syscall" : "mincore (no cachestat syscall: Linux < 6.5)");
}

/* A process that exited: its rows go after the next report has shown them. */
static void cache_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct cache_state *st = state;

	if (h->type == KS_EV_PROC_EXIT && !st->per_cgroup)
		ks_task_rows_gone(&st->rows, h->pid);
}

static void cache_fini(void *state)
{
	struct cache_state *st = state;

	ks_task_rows_free(&st->rows);
	free(st->fprev);
	free(st->fp);
}

KS_BPF_OBJECT(cache);

const struct ks_module cache_module = {
	.name = "cache",
	.id = KS_MOD_cache,
	.bpf = &cache_bpf_obj,
	.agent_optin = true,
	.brief = "page-cache hits, misses and dirtied pages per process and file; residency",
	.usage = "  ksight cache                    # per process at the end (Ctrl-C)\n"
		 "  ksight cache 1 5                # every second, 5 times, the 20 busiest\n"
		 "  ksight cache -p 1234 --files 2  # process 1234, per file too, every 2 s\n"
		 "  ksight cache --per-cgroup --json\n"
		 "  ksight cache --file /var/lib/db/data --duration 1  # its resident pages\n",
	.opts = cache_opts,
	.state_size = sizeof(struct cache_state),
	.defaults = &cache_defaults,
	.positional = true,
	.slots = cache_slots,
	.types = cache_types,
	.configure = cache_configure,
	.init = cache_agent_init,
	.setup = cache_setup,
	.proc = cache_proc,
	.report = cache_report,
	.collect = cache_agent_collect,
	.summary = cache_agent_summary,
	.status = cache_status,
	.fini = cache_fini,
};
