// SPDX-License-Identifier: GPL-2.0
/*
 * bio: `ksight biotop`, disk I/O per process (or thread, or cgroup), disk and op, summed in
 * the kernel and printed each interval busiest first; and `ksight biosnoop`, every request
 * as it completes, with the task that queued it, its disk, op, sector, size, queue and
 * service times (bpf/bio.bpf.c).
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bio.h"
#include "biolat.h"
#include "core/ident.h"
#include "core/module.h"
#include "core/probe.h"
#include "core/procfs.h"
#include "bio.skel.h"
#include "modules/biolat_fmt.h"
#include "modules/bio_fmt.h"
#include "modules/bio_int.h"

static const struct ks_opt bio_opts[] = {
	{ "per-process", 'P', KS_OPT_FLAG, offsetof(struct bio_state, per_process), NULL,
	  "biotop: a row per process, disk and op (the default)" },
	{ "per-thread", 'L', KS_OPT_FLAG, offsetof(struct bio_state, per_thread), NULL,
	  "biotop: a row per thread, disk and op" },
	{ "per-cgroup", 0, KS_OPT_FLAG, offsetof(struct bio_state, per_cgroup), NULL,
	  "biotop: a row per cgroup v2, disk and op" },
	{ "device", 'd', KS_OPT_STR, offsetof(struct bio_state, disk), "DISK",
	  "only this disk (sda, nvme0n1, loop3)", 0, 64 },
	{ "sort", 's', KS_OPT_CHOICE, offsetof(struct bio_state, sort), "KEY",
	  "biotop: order rows by bytes (default), ops, time (total) or avg", 0, 0,
	  bio_sort_names },
	{ "top", 0, KS_OPT_UINT, offsetof(struct bio_state, top), "N",
	  "biotop: rows per report (default 20, 0: all)", 0, 1000000 },
	{ 0 },
};

/* Who made a request: block_io_start where the kernel has it (6.5+), else block_bio_queue;
 * one of the two slots is wanted (bio_init looks). */
#define BIO_SLOT_MADE 0
#define BIO_SLOT_QUEUED 1

static const struct ks_slot bio_slots[] = {
	{
		.name = "see who made requests",
		.alts = {
			{ KS_FAM_TP_BTF, { { "bio__made_btf", "block_io_start" } } },
			{ KS_FAM_RAW_TP, { { "bio__made_raw", "block_io_start" } } },
			{ KS_FAM_TP, { { "bio__made_tp", "block/block_io_start" } } },
		},
	},
	{
		.name = "see who queued bios",
		.alts = {
			{ KS_FAM_TP_BTF, { { "bio__queue_btf", "block_bio_queue" } } },
			{ KS_FAM_RAW_TP, { { "bio__queue_raw", "block_bio_queue" } } },
			{ KS_FAM_TP, { { "bio__queue_tp", "block/block_bio_queue" } } },
		},
	},
	{
		.name = "see inserts, issues",
		.alts = {
			{ KS_FAM_TP_BTF, { { "bio__insert_btf", "block_rq_insert" },
					   { "bio__issue_btf", "block_rq_issue" } } },
			{ KS_FAM_RAW_TP, { { "bio__insert_raw", "block_rq_insert" },
					   { "bio__issue_raw", "block_rq_issue" } } },
			{ KS_FAM_TP, { { "bio__insert_tp", "block/block_rq_insert" },
				       { "bio__issue_tp", "block/block_rq_issue" } } },
		},
	},
	{
		.name = "see completions",
		.alts = {
			{ KS_FAM_TP_BTF, { { "bio__done_btf", "block_rq_complete" } } },
			{ KS_FAM_RAW_TP, { { "bio__done_raw", "block_rq_complete" } } },
			{ KS_FAM_TP, { { "bio__done_tp", "block/block_rq_complete" } } },
		},
	},
	{ 0 },
};

static const struct ks_evtype bio_types[] = {
	{ BIO_EV_REQ, "biosnoop", false },
	{ BIO_EV_ROWS, "biotop", true },
	{ BIO_EV_START, "bio_start", true },
	{ 0 },
};

static const struct ks_variant bio_variants[] = {
	{ "biosnoop", "every block request: the task that queued it, disk, op, sector, size, "
		      "queue and service time",
	  "  ksight biosnoop               # every request, as it completes\n"
	  "  ksight biosnoop -d sda        # disk sda only\n"
	  "  ksight biosnoop -p 1234       # requests process 1234 queued\n"
	  "  ksight biosnoop --json        # JSON lines\n",
	  BIO_CMD_SNOOP },
	{ 0 },
};

extern const struct ks_module bio_module;

static int bio_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct bio_state *st = state;
	char path[128], buf[64];
	unsigned int maj, min;

	if (st->per_process + st->per_thread + st->per_cgroup > 1) {
		snprintf(err, len, "-P, -L and --per-cgroup: choose one");
		return -1;
	}
	if (st->cmd == BIO_CMD_SNOOP && (st->per_thread || st->per_cgroup || st->per_process)) {
		snprintf(err, len, "-P, -L, --per-cgroup: only biotop sums rows");
		return -1;
	}
	if (st->cmd == BIO_CMD_SNOOP && common->interval) {
		snprintf(err, len, "biosnoop prints each request: it takes no interval");
		return -1;
	}
	if (!st->disk)
		return 0;
	if (strchr(st->disk, '/') || st->disk[0] == '.') {
		snprintf(err, len, "-d: '%s' is not a disk name (like sda or loop3)", st->disk);
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/class/block/%s/dev", st->disk);
	if (ks_read_file(path, buf, sizeof(buf)) <= 0 || sscanf(buf, "%u:%u", &maj, &min) != 2) {
		snprintf(err, len, "-d: no disk named '%s'", st->disk);
		return -1;
	}
	st->dev = maj << 20 | min;	/* the kernel's dev_t layout */
	return 0;
}

/* block_rq_* and block_bio_queue lost their request_queue argument in 5.11: whether the
 * kernel's @tp still has (q, x), counting its BTF prototype's arguments. */
static bool second_arg(struct btf *btf, const char *tp)
{
	const struct btf_type *t;
	int id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, tp, BTF_KIND_TYPEDEF);
	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	t = btf__type_by_id(btf, t->type);	/* pointer */
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(btf, t->type);	/* func proto: (void *__data, [q,] x) */
	return t && btf_is_func_proto(t) && btf_vlen(t) == 3;
}

static bool bio_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct bio_state *st = state;

	if (slot == &bio_slots[BIO_SLOT_MADE])
		return st->io_start;
	if (slot == &bio_slots[BIO_SLOT_QUEUED])
		return !st->io_start;
	return true;
}

/* Whether the kernel has the block_io_start tracepoint (6.5+): in its BTF, or without BTF
 * (classic tracepoints only) in tracefs. */
static bool has_io_start(struct btf *btf)
{
	const char *tracefs;
	char path[256];

	if (btf)
		return btf__find_by_name_kind(btf, "btf_trace_block_io_start", BTF_KIND_TYPEDEF) >= 0;
	tracefs = ks_tracefs();
	if (!tracefs)
		return false;
	snprintf(path, sizeof(path), "%s/events/block/block_io_start", tracefs);
	return access(path, F_OK) == 0;
}

static int bio_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct bio_bpf *skel = vskel;
	struct bio_state *st = state;
	struct btf *btf = ks_ctx_btf(ctx);

	skel->rodata->bio_snoop = st->cmd == BIO_CMD_SNOOP;
	skel->rodata->bio_per_thread = st->per_thread;
	skel->rodata->bio_per_cgroup = st->per_cgroup;
	skel->rodata->bio_dev = st->dev;
	skel->rodata->bio_rq_arg1 = second_arg(btf, "btf_trace_block_rq_issue");
	skel->rodata->bio_bio_arg1 = second_arg(btf, "btf_trace_block_bio_queue");
	skel->rodata->bio_mark_rq =
		ks_ctx_slot_family(ctx, &bio_module, bio_slots[BIO_SLOT_MADE].name) >= 0;
	return 0;
}

const char *bio_disk_name(struct bio_state *st, uint32_t dev)
{
	char path[96], link[256], *name;
	size_t i;
	ssize_t n;

	for (i = 0; i < st->nnames; i++)
		if (st->names[i].dev == dev)
			return st->names[i].name;
	i = st->nnames < BIO_NAMES ? st->nnames++ : dev % BIO_NAMES;
	st->names[i].dev = dev;
	name = st->names[i].name;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", dev >> 20, dev & 0xfffff);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(name, sizeof(st->names[i].name), "%u:%u", dev >> 20, dev & 0xfffff);
		return name;
	}
	link[n] = 0;
	snprintf(name, sizeof(st->names[i].name), "%.31s",
		 strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	return name;
}

/* biosnoop: one request, about the task that queued it. */
static void bio_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	const struct bio_req *e = (const void *)h;
	struct bio_state *st = state;
	static char flags[64], dev[24];
	const char *disk, *how;
	struct ks_rec r;

	if (h->type != BIO_EV_REQ || size < sizeof(*e))
		return;
	disk = bio_disk_name(st, e->dev);
	biolat_flags_str(e->flags, flags, sizeof(flags));
	snprintf(dev, sizeof(dev), "%u:%u", e->dev >> 20, e->dev & 0xfffff);
	how = bio_how_word(e->how);
	ks_rec_init(&r, "biosnoop", h);
	ks_rec_uint(&r, NULL, "PID", -7, h->pid);	/* JSON has the header's */
	ks_rec_kstr(&r, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
	ks_rec_str(&r, "disk", "DISK", -8, disk, strlen(disk));
	ks_rec_str(&r, "dev", NULL, 0, dev, strlen(dev));
	ks_rec_str(&r, "op", "T", -2, bio_op_letter(e->flags & BIOLAT_OP_MASK), 1);
	ks_rec_str(&r, "flags", "FLAGS", -18, flags, strlen(flags));
	if (e->sector == UINT64_MAX)	/* a request without data: a flush */
		ks_rec_str(&r, NULL, "SECTOR", 12, "-", 1);
	else
		ks_rec_uint(&r, "sector", "SECTOR", 12, e->sector);
	ks_rec_add(&r, "bytes", "BYTES", 10, KS_V_BYTES)->u = e->bytes;
	ks_rec_add(&r, "queue_ns", "QUEUE", 9, KS_V_NS)->u = e->queue_ns;
	ks_rec_add(&r, "svc_ns", "SERVICE", 9, KS_V_NS)->u = e->svc_ns;
	ks_rec_add(&r, "lat_ns", "LAT", 9, KS_V_NS)->u = e->queue_ns + e->svc_ns;
	ks_rec_int(&r, "error", NULL, 0, e->error);
	ks_rec_str(&r, "owner", "BY", 0, how, strlen(how));
	ks_emit(ctx, &r);
}

static uint64_t row_ops(const void *row)
{
	return ((const struct bio_row *)row)->v.ops;
}

static const struct bio_state bio_defaults = {
	.top = 20,
	.rows = KS_TASK_ROWS(struct bio_row, bio_row_by_key, bio_row_sub, row_ops),
};

static void emit_row(struct ks_ctx *ctx, struct bio_state *st, const struct bio_row *p)
{
	const struct ks_histv hv = { p->v.slots, BIO_SLOTS, "usecs", 1e3 };
	const char *disk = bio_disk_name(st, p->k.dev), *svc;
	struct ks_hdr h;
	struct ks_rec r;

	if (st->per_cgroup) {
		svc = ks_ctx_service(ctx, 0, p->k.cgroup);
		ks_rec_init(&r, "biotop", NULL);
		ks_rec_uint(&r, "cgroup_id", "CGROUP", -8, p->k.cgroup);
		ks_rec_str(&r, "service", "SERVICE", -24, svc, strlen(svc));
	} else {
		ks_row_hdr(&h, p->k.pid, p->k.tid, p->v.cgroup, p->v.comm);
		svc = ks_ident__service(ks_ctx_ident(ctx), &h);
		ks_rec_init(&r, "biotop", &h);
		ks_rec_uint(&r, NULL, "PID", -7, p->k.pid);	/* JSON: the header's */
		if (st->per_thread)
			ks_rec_uint(&r, NULL, "TID", -7, p->k.tid);
		ks_rec_kstr(&r, NULL, "COMM", -16, h.comm, sizeof(h.comm), false);
		ks_rec_str(&r, NULL, "SERVICE", -20, svc, strlen(svc));
	}
	r.kind = KS_K_REPORT;
	ks_rec_str(&r, "disk", "DISK", -8, disk, strlen(disk));
	ks_rec_uint(&r, "major", NULL, 0, p->k.dev >> 20);
	ks_rec_uint(&r, "minor", NULL, 0, p->k.dev & 0xfffff);
	ks_rec_str(&r, "op", NULL, 0, bio_op_word(p->k.op), strlen(bio_op_word(p->k.op)));
	ks_rec_str(&r, NULL, "D", -2, bio_op_letter(p->k.op), 1);	/* the table's letter */
	ks_rec_add(&r, "ops", "OPS", 8, KS_V_COUNT)->u = p->v.ops;
	ks_rec_add(&r, "bytes", "BYTES", 11, KS_V_BYTES)->u = p->v.bytes;
	ks_rec_add(&r, "avg_svc_ns", "AVG_SVC", 9, KS_V_NS)->u = bio_avg(p->v.svc_ns, p->v.ops);
	ks_rec_add(&r, "avg_queue_ns", "AVG_QUEUE", 10, KS_V_NS)->u =
		bio_avg(p->v.queue_ns, p->v.ops);
	ks_rec_uint(&r, "svc_ns", NULL, 0, p->v.svc_ns);
	ks_rec_uint(&r, "queue_ns", NULL, 0, p->v.queue_ns);
	ks_rec_add(&r, "hist", NULL, 0, KS_V_HIST)->h = &hv;
	ks_emit(ctx, &r);
}

/* The rows that changed since the last report, sorted, --top of them; the rows of
 * processes that exited leave the kernel's table once reported. */
static void bio_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct bio_state *st = state;
	struct bio_bpf *skel = vskel;
	struct bio_row *d;
	uint64_t total;
	size_t m;

	if (st->cmd == BIO_CMD_SNOOP)
		return;
	m = ks_task_rows_read(&st->rows, skel->maps.bio_rows, &total, (void **)&d);
	ks_ctx_aggregated(ctx, BIO_EV_ROWS, total);
	if (!d)
		return;
	bio_rows_sort(d, m, st->sort);
	for (size_t i = 0; i < m && (!st->top || i < st->top); i++)
		emit_row(ctx, st, &d[i]);
	free(d);
}

static int bio_init(struct ks_ctx *ctx, void *state)
{
	struct bio_state *st = state;

	st->io_start = has_io_start(ks_ctx_btf(ctx));
	return bio_agent_init(ctx, st);
}

/* A process that exited: its rows go after the next report has shown them. */
static void bio_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct bio_state *st = state;

	if (h->type == KS_EV_PROC_EXIT && st->cmd == BIO_CMD_TOP)
		ks_task_rows_gone(&st->rows, h->pid);
}

static void bio_fini(void *state)
{
	struct bio_state *st = state;

	ks_task_rows_free(&st->rows);
	bio_svcs_free(&st->svcs);
}

KS_BPF_OBJECT(bio);

const struct ks_module bio_module = {
	.name = "biotop",
	.id = KS_MOD_bio,
	.bpf = &bio_bpf_obj,
	.agent_optin = true,	/* every block request of the machine, three or four hooks */
	.brief = "disk I/O per process and disk: ops, bytes, service and queue time, by the "
		 "task that queued it",
	.usage = "  ksight biotop                # per process and disk, a table at Ctrl-C\n"
		 "  ksight biotop 1 10           # every second, 10 times, most bytes first\n"
		 "  ksight biotop -d sda -s ops 5  # disk sda, most requests first\n"
		 "  ksight biotop -L -p 1234 1   # the threads of 1234\n"
		 "  ksight biotop --per-cgroup --json\n",
	.opts = bio_opts,
	.state_size = sizeof(struct bio_state),
	.defaults = &bio_defaults,
	.positional = true,
	.slots = bio_slots,
	.types = bio_types,
	.variants = bio_variants,
	.mode_off = offsetof(struct bio_state, cmd),
	.configure = bio_configure,
	.want_slot = bio_want_slot,
	.init = bio_init,
	.setup = bio_setup,
	.proc = bio_proc,
	.event = bio_event,
	.report = bio_report,
	.collect = bio_collect,
	.summary = bio_summary,
	.fini = bio_fini,
};
