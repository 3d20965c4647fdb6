// SPDX-License-Identifier: GPL-2.0
/*
 * rw --summary: read the kernel's per-CPU (pid, fd) table, print what changed since the
 * previous report (filetop-like), and the agent's one-line summary. The table is never
 * cleared from user space, so no update can fall between a read and a delete.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/hist.h"
#include "core/clock.h"
#include "rw.skel.h"
#include "core/fdtab.h"
#include "core/ident.h"
#include "core/rows.h"
#include "modules/rw_int.h"
#include "modules/rw_uring.h"

/* The kernel's table of sums: rw's own, or the dispatcher's (st->fd_io). */
static struct bpf_map *sums_map(const struct rw_state *st, struct rw_bpf *skel)
{
	return st->fd_io ? skel->maps.ks_fd_io : skel->maps.rw_sums;
}

/* One key's per-CPU values as rw_sum_val (@pc, ncpu of them); @raw holds the dispatcher's.
 * Returns 0 or -1 (not reached: nothing else deletes). */
static int lookup_row(const struct rw_state *st, int fd, const struct rw_sum_key *k,
		      struct rw_sum_val *pc, struct ks_fd_io *raw)
{
	if (!st->fd_io)
		return bpf_map_lookup_elem(fd, k, pc) ? -1 : 0;
	if (bpf_map_lookup_elem(fd, k, raw))
		return -1;
	for (unsigned int c = 0; c < st->ncpu; c++) {
		memset(&pc[c], 0, sizeof(pc[c]));
		pc[c].reads = raw[c].reads;
		pc[c].writes = raw[c].writes;
		pc[c].rbytes = raw[c].rbytes;
		pc[c].wbytes = raw[c].wbytes;
		pc[c].errors = raw[c].errors;
		pc[c].cgroup = raw[c].cgroup;
		memcpy(pc[c].comm, raw[c].comm, sizeof(pc[c].comm));
	}
	return 0;
}

/* The kernel's totals, sorted by key, in a new array (*out). Returns the row count. */
static size_t read_totals(struct rw_state *st, struct bpf_map *map, struct rw_sum_row **out)
{
	size_t cap = bpf_map__max_entries(map), n = 0;
	struct rw_sum_val *pc = calloc(st->ncpu, sizeof(*pc));
	struct ks_fd_io *raw = calloc(st->ncpu, sizeof(*raw));
	struct rw_sum_row *rows = calloc(cap, sizeof(*rows));
	int fd = bpf_map__fd(map);
	struct rw_sum_key k, next;
	bool first = true;

	*out = NULL;
	if (!pc || !raw || !rows) {
		free(pc);
		free(raw);
		free(rows);
		return 0;
	}
	while (n < cap && !bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (lookup_row(st, fd, &k, pc, raw))
			continue;
		rows[n].k = k;
		rw_sum_merge(&rows[n].v, pc, st->ncpu);
		n++;
	}
	free(pc);
	free(raw);
	rw_sum_sort_keys(rows, n);
	*out = rows;
	return n;
}

/*
 * Rows of exited processes, now counted, leave the kernel's table (else it fills up in a
 * long run) and the reference; their calls stay in the running total. No update can
 * follow a process's exit record, but a new process given the same pid in the meantime
 * would lose its first updates.
 */
static size_t drop_gone(struct rw_state *st, struct bpf_map *map, struct rw_sum_row *cur,
			size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (ks_pidset_has(&st->gone, cur[i].k.pid & KS_FD_KEY_PID_MASK)) {
			bpf_map_delete_elem(bpf_map__fd(map), &cur[i].k);
			st->gone_calls += cur[i].v.reads + cur[i].v.writes;
			continue;
		}
		cur[m++] = cur[i];
	}
	ks_pidset_clear(&st->gone);
	return m;
}

/*
 * The rows that changed since the previous call, sorted by key, in a new array (*out);
 * the totals become the new reference. Returns the row count.
 */
static size_t read_deltas(struct ks_ctx *ctx, struct rw_state *st, struct rw_bpf *skel,
			  struct rw_sum_row **out)
{
	struct rw_sum_row *cur, *d;
	uint64_t total;
	size_t n, m;

	*out = NULL;
	n = read_totals(st, sums_map(st, skel), &cur);
	if (!cur)
		return 0;
	total = st->gone_calls;
	for (size_t i = 0; i < n; i++)
		total += cur[i].v.reads + cur[i].v.writes;
	ks_ctx_aggregated(ctx, RW_EV_SUM, total);
	d = calloc(n ? n : 1, sizeof(*d));
	if (!d) {
		free(cur);
		return 0;
	}
	m = rw_sum_delta(st->prev, st->nprev, cur, n, d);
	free(st->prev);
	st->prev = cur;
	st->nprev = drop_gone(st, sums_map(st, skel), cur, n);
	*out = d;
	return m;
}

static void emit_row(struct ks_ctx *ctx, struct rw_state *st, const struct rw_sum_row *row,
		     uint64_t now)
{
	const struct rw_sum_val *v = &row->v;
	static const struct ks_fdinfo fixed = { .kind_name = "io_uring_fixed",
						.disp = "io_uring:fixed-files", .disp_len = 20 };
	const uint32_t pid = row->k.pid & KS_FD_KEY_PID_MASK;
	const struct ks_fdinfo *fi = row->k.fd == RW_URING_FIXED_FD ? &fixed :
				     ks_fdtab__name(st->fds, pid, row->k.fd, now);
	const struct ks_histv hv = { v->slots, RW_SLOTS, "nsecs", 1 };
	uint64_t timed = ks_hist_total(v->slots, RW_SLOTS);
	double p99 = ks_hist_percentile(v->slots, RW_SLOTS, 99);
	struct ks_rec r;

	ks_rec_init(&r, "rw_summary", NULL);
	ks_rec_uint(&r, "pid", "PID", 7, pid);
	ks_rec_kstr(&r, "comm", "COMM", -16, v->comm, sizeof(v->comm), false);
	ks_rec_int(&r, "fd", "FD", 4, row->k.fd);
	ks_rec_uint(&r, "reads", "READS", 8, v->reads);
	ks_rec_uint(&r, "writes", "WRITES", 8, v->writes);
	ks_rec_uint(&r, "rbytes", "R_BYTES", 10, v->rbytes);
	ks_rec_uint(&r, "wbytes", "W_BYTES", 10, v->wbytes);
	ks_rec_uint(&r, "errors", "ERRS", 5, v->errors);
	if (!st->no_latency) {
		ks_rec_add(&r, NULL, "AVG", 7, KS_V_NS)->u = timed ? v->lat_sum / timed : 0;
		ks_rec_add(&r, NULL, "P99", 7, KS_V_NS)->u = p99 > 0 ? (uint64_t)p99 : 0;
	}
	ks_rec_str(&r, NULL, "FD-KIND/NAME", 0, fi->disp, fi->disp_len);
	if (!st->no_latency) {
		ks_rec_uint(&r, "lat_sum_ns", NULL, 0, v->lat_sum);
		ks_rec_add(&r, "lat_hist", NULL, 0, KS_V_HIST)->h = &hv;
	}
	rw_fd_json(&r, fi);
	ks_emit(ctx, &r);
}

void rw_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct rw_bpf *skel = vskel;
	struct rw_state *st = state;
	uint64_t calls = 0, rb = 0, wb = 0, now = ks_clock_mono_now();
	struct rw_sum_row *d;
	struct ks_rec r;
	size_t n;

	if (!st->agg)
		return;
	n = read_deltas(ctx, st, skel, &d);
	if (!d)
		return;
	for (size_t i = 0; i < n; i++) {
		calls += d[i].v.reads + d[i].v.writes;
		rb += d[i].v.rbytes;
		wb += d[i].v.wbytes;
	}
	ks_rec_init(&r, "rw_interval", NULL);
	r.style = KS_REC_LINE;
	ks_rec_str(&r, NULL, "", -8, "rw", 2);
	ks_rec_uint(&r, "calls", "calls", 0, calls);
	ks_rec_uint(&r, "rbytes", "read", 0, rb);
	ks_rec_uint(&r, "wbytes", "written", 0, wb);
	ks_rec_uint(&r, "fds", "fds", 0, n);
	ks_emit(ctx, &r);
	if (st->uring_on)
		rw_uring_report(ctx, st, bpf_map__fd(skel->maps.rw_uring_ops));
	rw_sum_sort(d, n, st->sort);
	for (size_t i = 0; i < n && i < st->top; i++)
		emit_row(ctx, st, &d[i], now);
	free(d);
	/* rows of processes gone before the previous report were named in this one */
	ks_fdtab__reap(st->fds, st->reported);
	st->reported = now;
}

static const struct ks_metric_desc rw_calls_desc = {
	.name = "ksight_rw_calls_total",
	.help = "read, write, send and recv calls (every variant), per process name",
	.type = KS_METRIC_COUNTER,
	.labels = { "comm" },
	.budget = 512,
	.idle = 60,	/* intervals: names gone quiet make room for new ones */
};

static const struct ks_metric_desc rw_rbytes_desc = {
	.name = "ksight_rw_read_bytes_total",
	.help = "Bytes returned by reads and receives",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_metric_desc rw_wbytes_desc = {
	.name = "ksight_rw_written_bytes_total",
	.help = "Bytes accepted by writes and sends",
	.type = KS_METRIC_COUNTER,
};

/* Per service, for its timeline (docs/store.md): the rows are per (process, fd) already,
 * so the process's service costs one cache look-up per row that moved, by the row's
 * cgroup (a short-lived process, a client run or a cron job, has exited by the interval's
 * end). Files and sockets together here; the kind families below split them (the agent
 * follows no fd changes: the kind comes from the kernel's key, read at each call). */
#define RW_SVC_DESC(what, text)                                                          \
	{ .name = "ksight_rw_service_" what "_total", .help = text ", by service",        \
	  .type = KS_METRIC_COUNTER, .labels = { "service" }, .idle = 60 }

static const struct ks_metric_desc rw_svc_descs[3] = {
	RW_SVC_DESC("calls", "read, write, send and recv calls (every variant)"),
	RW_SVC_DESC("read_bytes", "Bytes returned by reads and receives"),
	RW_SVC_DESC("written_bytes", "Bytes accepted by writes and sends"),
};

/* The same per service and kind of fd at the call: files, sockets, other (pipes, anonymous
 * inodes, an fd closed by the return). Families of their own: the ones above keep their
 * series. */
#define RW_KIND_DESC(what, text)                                                         \
	{ .name = "ksight_rw_service_kind_" what "_total",                                \
	  .help = text ", by service and kind of fd (file, socket, other)",               \
	  .type = KS_METRIC_COUNTER, .labels = { "service", "kind" }, .budget = 256,      \
	  .idle = 60 }

static const struct ks_metric_desc rw_kind_descs[3] = {
	RW_KIND_DESC("calls", "read, write, send and recv calls (every variant)"),
	RW_KIND_DESC("read_bytes", "Bytes returned by reads and receives"),
	RW_KIND_DESC("written_bytes", "Bytes accepted by writes and sends"),
};

const char *rw_kind_label(uint32_t key_pid)
{
	switch (key_pid >> KS_FD_KEY_KIND_SHIFT) {
	case KS_FD_K_FILE:
		return "file";
	case KS_FD_K_SOCKET:
		return "socket";
	default:
		return "other";
	}
}

int rw_init(struct ks_ctx *ctx, void *state)
{
	struct rw_state *st = state;
	struct ks_metric *rb = ks_ctx_metric(ctx, &rw_rbytes_desc);
	struct ks_metric *wb = ks_ctx_metric(ctx, &rw_wbytes_desc);

	st->m_calls = ks_ctx_metric(ctx, &rw_calls_desc);
	if (!st->m_calls || !rb || !wb)
		return -errno;
	for (int i = 0; i < 3; i++)
		if (!(st->m_svc[i] = ks_ctx_metric(ctx, &rw_svc_descs[i])) ||
		    !(st->m_kind[i] = ks_ctx_metric(ctx, &rw_kind_descs[i])))
			return -errno;
	st->s_rbytes = ks_metric_get(rb, NULL);
	st->s_wbytes = ks_metric_get(wb, NULL);
	return 0;
}

void rw_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct rw_bpf *skel = vskel;
	struct rw_state *st = state;
	struct rw_sum_row *d = NULL;
	size_t n = 0;

	if (st->agg)
		n = read_deltas(ctx, st, skel, &d);
	for (size_t i = 0; i < n; i++) {
		const struct rw_sum_val *v = &d[i].v;
		const uint32_t pid = d[i].k.pid & KS_FD_KEY_PID_MASK;
		const char *comm = v->comm, *svc, *lab[2];
		const size_t len = sizeof(v->comm);
		size_t slen, llen[2];
		struct ks_hdr h;

		/* the row's cgroup names the service of a process gone by now */
		ks_row_hdr(&h, pid, 0, v->cgroup, v->comm);
		svc = ks_ident__service(ks_ctx_ident(ctx), &h);
		slen = strlen(svc);
		lab[0] = svc;
		lab[1] = rw_kind_label(d[i].k.pid);
		llen[0] = slen;
		llen[1] = strlen(lab[1]);

		ks_counter_add(ks_metric_getn(st->m_calls, &comm, &len), v->reads + v->writes);
		ks_counter_add(st->s_rbytes, v->rbytes);
		ks_counter_add(st->s_wbytes, v->wbytes);
		ks_counter_add(ks_metric_getn(st->m_svc[0], &svc, &slen), v->reads + v->writes);
		ks_counter_add(ks_metric_getn(st->m_svc[1], &svc, &slen), v->rbytes);
		ks_counter_add(ks_metric_getn(st->m_svc[2], &svc, &slen), v->wbytes);
		if (!st->kinds)
			continue;	/* not keyed by kind: the split is absent, not "other" */
		ks_counter_add(ks_metric_getn(st->m_kind[0], lab, llen), v->reads + v->writes);
		ks_counter_add(ks_metric_getn(st->m_kind[1], lab, llen), v->rbytes);
		ks_counter_add(ks_metric_getn(st->m_kind[2], lab, llen), v->wbytes);
	}
	free(d);
	ks_fdtab__reap(st->fds, st->reported);
	st->reported = ks_clock_mono_now();
}

void rw_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct rw_state *st = state;
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "rw");
	ks_rec_rate(&r, "calls_per_s", "calls", ks_metric_delta(st->m_calls), secs);
	ks_rec_add(&r, "read_bytes_per_s", "read", 0, KS_V_BYTE_RATE)->d =
		ks_counter_delta(st->s_rbytes) / secs;
	ks_rec_add(&r, "write_bytes_per_s", "write", 0, KS_V_BYTE_RATE)->d =
		ks_counter_delta(st->s_wbytes) / secs;
	ks_rec_top(&r, "top", "top:", &o, top, 5, st->m_calls, 0);
	/* JSON: the interval's exact counts */
	ks_rec_uint(&r, "calls", NULL, 0, ks_metric_delta(st->m_calls));
	ks_rec_uint(&r, "read_bytes", NULL, 0, ks_counter_delta(st->s_rbytes));
	ks_rec_uint(&r, "write_bytes", NULL, 0, ks_counter_delta(st->s_wbytes));
	ks_emit(ctx, &r);
}
