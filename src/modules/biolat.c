// SPDX-License-Identifier: GPL-2.0
/*
 * biolat: block I/O latency histograms (biolatency), aggregated in the kernel, printed with
 * p50/p90/p99 each interval or at the end; per disk (-D) and per request flags (-F).
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "analyze/hist.h"
#include "biolat.h"
#include "core/maps.h"
#include "core/module.h"
#include "core/procfs.h"
#include "biolat.skel.h"
#include "modules/biolat_fmt.h"

struct biolat_state {
	bool queued;		/* -Q */
	bool per_disk;		/* -D */
	bool per_flags;		/* -F */
	bool ms;		/* -m */
	const char *disk;	/* -d */
	uint32_t dev;		/* -d resolved */
	bool filtered;		/* -p, -t, -u, -n or --cgroup: judge each request's maker */
	/* the previous report's totals, to print each interval's own histogram */
	struct biolat_key *prev_keys;
	struct biolat_hist *prev;
	size_t nprev;
	struct ks_series *s_lat;	/* the agent's: every disk's I/O latency */
};

/* The kernel's buckets are log2 of microseconds (milliseconds with -m): observed as such,
 * exposed in seconds. */
static const struct ks_metric_desc biolat_us_desc = {
	.name = "ksight_biolat_latency_seconds",
	.help = "Block I/O latency, issue (or insert with -Q) to completion, all disks",
	.type = KS_METRIC_HIST,
	.unit = "seconds",
	.scale = 1e-6,
};

static const struct ks_metric_desc biolat_ms_desc = {
	.name = "ksight_biolat_latency_seconds",
	.help = "Block I/O latency, issue (or insert with -Q) to completion, all disks",
	.type = KS_METRIC_HIST,
	.unit = "seconds",
	.scale = 1e-3,
};

static const struct ks_opt biolat_opts[] = {
	{ "queued", 'Q', KS_OPT_FLAG, offsetof(struct biolat_state, queued), NULL,
	  "include time queued in the kernel (from insert)" },
	{ "disk", 'D', KS_OPT_FLAG, offsetof(struct biolat_state, per_disk), NULL,
	  "a histogram per disk" },
	{ "flags", 'F', KS_OPT_FLAG, offsetof(struct biolat_state, per_flags), NULL,
	  "a histogram per request type (Read, Sync-Write, ...)" },
	{ "milliseconds", 'm', KS_OPT_FLAG, offsetof(struct biolat_state, ms), NULL,
	  "histograms in milliseconds" },
	{ "device", 'd', KS_OPT_STR, offsetof(struct biolat_state, disk), "DISK",
	  "only this disk (sda, nvme0n1, loop3)", 0, 64 },
	{ 0 },
};

static const struct ks_slot biolat_slots[] = {
	{
		.name = "see issues",
		.alts = {
			{ KS_FAM_TP_BTF, { { "biolat__issue_btf", "block_rq_issue" } } },
			{ KS_FAM_RAW_TP, { { "biolat__issue_raw", "block_rq_issue" } } },
			{ KS_FAM_TP, { { "biolat__issue_tp", "block/block_rq_issue" } } },
		},
	},
	{
		.name = "see completions",
		.alts = {
			{ KS_FAM_TP_BTF, { { "biolat__done_btf", "block_rq_complete" } } },
			{ KS_FAM_RAW_TP, { { "biolat__done_raw", "block_rq_complete" } } },
			{ KS_FAM_TP, { { "biolat__done_tp", "block/block_rq_complete" } } },
		},
	},
	{
		.name = "see inserts (-Q)",
		.alts = {
			{ KS_FAM_TP_BTF, { { "biolat__insert_btf", "block_rq_insert" } } },
			{ KS_FAM_RAW_TP, { { "biolat__insert_raw", "block_rq_insert" } } },
			{ KS_FAM_TP, { { "biolat__insert_tp", "block/block_rq_insert" } } },
		},
	},
	{
		.name = "mark makers (filters)",
		.alts = {
			{ KS_FAM_TP_BTF, { { "biolat__mark_btf", "block_io_start" } } },
			{ KS_FAM_RAW_TP, { { "biolat__mark_raw", "block_io_start" } } },
			{ KS_FAM_TP, { { "biolat__mark_tp", "block/block_io_start" } } },
		},
		.absent = "block_io_start absent (before 6.5): biolat's filters judge the task "
			  "that issues a request, a kworker's requests pass only unfiltered",
	},
	{ 0 },
};

#define BIOLAT_SLOT_MARK 3

static const struct ks_evtype biolat_types[] = {
	{ BIOLAT_EV_START, "biolat_start", true },
	{ BIOLAT_EV_HIST, "biolat", true },
	{ 0 },
};

extern const struct ks_module biolat_module;

static int biolat_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct biolat_state *st = state;
	char path[128], buf[64];
	unsigned int maj, min;

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

static bool biolat_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct biolat_state *st = state;

	if (slot == &biolat_slots[BIOLAT_SLOT_MARK])
		return st->filtered;	/* unfiltered, every request counts: no mark needed */
	return slot != &biolat_slots[2] || st->queued;
}

/* block_rq_issue/insert lost their request_queue argument in 5.11: count the arguments. */
static bool rq_is_second_arg(struct btf *btf)
{
	const struct btf_type *t;
	int id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_block_rq_issue", BTF_KIND_TYPEDEF);
	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	t = btf__type_by_id(btf, t->type);	/* pointer */
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(btf, t->type);	/* func proto: (void *__data, [q,] rq) */
	return t && btf_is_func_proto(t) && btf_vlen(t) == 3;
}

static int biolat_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct biolat_bpf *skel = vskel;
	struct biolat_state *st = state;

	skel->rodata->biolat_queued = st->queued;
	skel->rodata->biolat_per_disk = st->per_disk;
	skel->rodata->biolat_per_flags = st->per_flags;
	skel->rodata->biolat_ms = st->ms;
	skel->rodata->biolat_dev = st->dev;
	skel->rodata->biolat_rq_arg1 = rq_is_second_arg(ks_ctx_btf(ctx));
	skel->rodata->biolat_marked =
		ks_ctx_slot_family(ctx, &biolat_module, biolat_slots[BIOLAT_SLOT_MARK].name) >= 0;
	if (!skel->rodata->biolat_marked)
		bpf_map__set_max_entries(skel->maps.biolat_marks, 1);
	return 0;
}

static const char *disk_name(uint32_t dev, char *buf, size_t len)
{
	char path[96], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", dev >> 20, dev & 0xfffff);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(buf, len, "%u:%u", dev >> 20, dev & 0xfffff);
		return buf;
	}
	link[n] = 0;
	snprintf(buf, len, "%.63s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	return buf;
}

/* Subtract what the previous report already showed, then remember the new totals. */
static void take_delta(struct biolat_state *st, const struct biolat_key *keys,
		       struct biolat_hist *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < st->nprev; j++) {
			if (memcmp(&st->prev_keys[j], &keys[i], sizeof(keys[i])))
				continue;
			struct biolat_hist cur = h[i];

			for (int s = 0; s < BIOLAT_SLOTS; s++)
				h[i].slots[s] -= st->prev[j].slots[s];
			h[i].count -= st->prev[j].count;
			h[i].sum -= st->prev[j].sum;
			st->prev[j] = cur;
			goto next;
		}
		/* a new key: remember its totals */
		{
			struct biolat_key *nk = realloc(st->prev_keys, (st->nprev + 1) * sizeof(*nk));
			struct biolat_hist *nh;

			if (!nk)
				continue;
			st->prev_keys = nk;
			nh = realloc(st->prev, (st->nprev + 1) * sizeof(*nh));
			if (!nh)
				continue;
			st->prev = nh;
			st->prev_keys[st->nprev] = keys[i];
			st->prev[st->nprev++] = h[i];
		}
next:;
	}
}

static void emit_hist(struct ks_ctx *ctx, const struct biolat_state *st,
		      const struct biolat_key *k, const struct biolat_hist *h)
{
	static char disk[64], flags[64];
	const struct ks_histv hv = {
		.slots = h->slots, .nslots = BIOLAT_SLOTS, .unit = st->ms ? "msecs" : "usecs",
		.unit_ns = st->ms ? 1e6 : 1e3,
	};
	struct ks_rec r;

	ks_rec_init(&r, "biolat", NULL);
	r.style = KS_REC_BLOCK;
	if (st->per_disk) {
		disk_name(k->dev, disk, sizeof(disk));
		ks_rec_str(&r, "disk", "disk", 0, disk, strlen(disk));
	}
	if (st->per_flags) {
		biolat_flags_str(k->flags, flags, sizeof(flags));
		ks_rec_str(&r, "flags", "flags", 0, flags, strlen(flags));
	}
	ks_rec_uint(&r, "count", NULL, 0, h->count);
	ks_rec_uint(&r, "sum_ns", NULL, 0, h->sum);
	ks_rec_add(&r, "hist", "hist", 0, KS_V_HIST)->h = &hv;
	ks_emit(ctx, &r);
}

static void biolat_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct biolat_bpf *skel = vskel;
	struct biolat_state *st = state;
	struct biolat_key keys[BIOLAT_HISTS];
	struct biolat_hist *h = calloc(BIOLAT_HISTS, sizeof(*h));
	uint64_t total = 0;
	size_t n;

	if (!h)
		return;
	n = ks_map_dump(skel->maps.biolat_hists, keys, h, BIOLAT_HISTS);
	for (size_t i = 0; i < n; i++)
		total += h[i].count;
	ks_ctx_aggregated(ctx, BIOLAT_EV_HIST, total);
	take_delta(st, keys, h, n);
	biolat_sort(keys, h, n);
	for (size_t i = 0; i < n; i++)
		if (h[i].count)
			emit_hist(ctx, st, &keys[i], &h[i]);
	free(h);
}

static int biolat_init(struct ks_ctx *ctx, void *state)
{
	struct biolat_state *st = state;
	struct ks_metric *m = ks_ctx_metric(ctx, st->ms ? &biolat_ms_desc : &biolat_us_desc);
	const struct ks_common *c = ks_ctx_common(ctx);

	if (!m)
		return -errno;
	/* the tool's and the agent's filters alike (the agent calls no configure) */
	st->filtered = c->pid || c->tid || c->uid != KS_UNSET || c->comm || c->cgroup;
	st->s_lat = ks_metric_get(m, NULL);
	return 0;
}

/* Agent: the kernel's histograms since the last interval, all keys, into the registry. */
static void biolat_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct biolat_bpf *skel = vskel;
	struct biolat_state *st = state;
	struct biolat_key keys[BIOLAT_HISTS];
	struct biolat_hist *h = calloc(BIOLAT_HISTS, sizeof(*h));
	size_t n;

	if (!h)
		return;
	n = ks_map_dump(skel->maps.biolat_hists, keys, h, BIOLAT_HISTS);
	take_delta(st, keys, h, n);
	for (size_t i = 0; i < n; i++)	/* sums in ns, observed in the buckets' unit */
		ks_hist_add(st->s_lat, h[i].slots, BIOLAT_SLOTS, h[i].count,
			    h[i].sum / (st->ms ? 1e6 : 1e3));
	ks_ctx_aggregated(ctx, BIOLAT_EV_HIST, st->s_lat->h->count);
	free(h);
}

/* The agent's line: I/O per second and percentiles of the interval, all disks together;
 * in JSON also the interval's exact count. */
static void biolat_summary(struct ks_ctx *ctx, void *state, double secs)
{
	static const char *const keys[] = { "p50_ns", "p90_ns", "p99_ns" };
	static const char *const cols[] = { "p50", "p90", "p99" };
	static const double ps[] = { 50, 90, 99 };
	struct biolat_state *st = state;
	double unit = st->ms ? 1e6 : 1e3;
	struct ks_hist_vals d;
	struct ks_rec r;

	ks_hist_delta(st->s_lat, &d);
	ks_rec_summary(&r, "biolat");
	ks_rec_rate(&r, "io_per_s", "io", d.count, secs);
	ks_rec_uint(&r, "io", NULL, 0, d.count);	/* JSON: the interval's exact count */
	for (int i = 0; i < 3 && d.count; i++)
		ks_rec_add(&r, keys[i], cols[i], 0, KS_V_NS)->u =
			ks_hist_percentile(d.slots, KS_HIST_SLOTS, ps[i]) * unit;
	ks_emit(ctx, &r);
}

static void biolat_fini(void *state)
{
	struct biolat_state *st = state;

	free(st->prev_keys);
	free(st->prev);
	st->prev_keys = NULL;
	st->prev = NULL;
	st->nprev = 0;
}

KS_BPF_OBJECT(biolat);

const struct ks_module biolat_module = {
	.name = "biolat",
	.id = KS_MOD_biolat,
	.bpf = &biolat_bpf_obj,
	.brief = "block I/O latency histograms with percentiles, per disk and flags",
	.usage = "  ksight biolat               # one histogram of all disks, at Ctrl-C\n"
		 "  ksight biolat -D 1 10       # per disk, every second, 10 times\n"
		 "  ksight biolat -F -d sda     # per request type, disk sda only\n"
		 "  ksight biolat -Q -m         # include queue time, in milliseconds\n",
	.opts = biolat_opts,
	.state_size = sizeof(struct biolat_state),
	.positional = true,
	.slots = biolat_slots,
	.types = biolat_types,
	.configure = biolat_configure,
	.want_slot = biolat_want_slot,
	.init = biolat_init,
	.setup = biolat_setup,
	.report = biolat_report,
	.collect = biolat_collect,
	.summary = biolat_summary,
	.fini = biolat_fini,
};
