// SPDX-License-Identifier: GPL-2.0
/*
 * `ksight query timeline SERVICE`: the service's intervals from the store (sink/timeline.h),
 * a table or --json lines, one interval each. "off" where the module that measures a
 * column did not run.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "sink/outbuf.h"
#include "sink/units.h"
#include "sink/store.h"
#include "sink/timeline.h"

/* A cell: a count, "-" for none that can be given (no p99 without observations, no split
 * the store does not have), "off" when its module did not run. */
enum cell { C_U64, C_P99, C_SPLIT, C_MS };

static const struct { const char *name; int width; enum ks_tl_group g; enum cell c; } cols[] = {
	{ "REQ_IN", 7, KS_TL_REQ }, { "ERR", 5, KS_TL_REQ }, { "P99_US", 8, KS_TL_REQ, C_P99 },
	{ "REQ_OUT", 8, KS_TL_REQ }, { "CONNS", 6, KS_TL_TCP }, { "TCP_TX", 10, KS_TL_TCP },
	{ "TCP_RX", 10, KS_TL_TCP }, { "IO_CALLS", 9, KS_TL_IO }, { "IO_READ", 11, KS_TL_IO },
	{ "IO_WRITE", 11, KS_TL_IO }, { "FILE_RD", 10, KS_TL_IO, C_SPLIT },
	{ "FILE_WR", 10, KS_TL_IO, C_SPLIT }, { "SOCK_RD", 10, KS_TL_IO, C_SPLIT },
	{ "SOCK_WR", 10, KS_TL_IO, C_SPLIT }, { "DISK_OPS", 9, KS_TL_DISK },
	{ "DISK_READ", 11, KS_TL_DISK }, { "DISK_WRITE", 11, KS_TL_DISK },
	{ "DISK_P99_US", 12, KS_TL_DISK, C_P99 }, { "RUNQ_N", 8, KS_TL_RUNQ },
	{ "RUNQ_MS", 9, KS_TL_RUNQ, C_MS },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

static void cells(struct ks_buf *o, const struct ks_tl_row *r)
{
	const uint64_t v[NCOLS] = {
		r->in_reqs, r->in_errs, ks_tl_pct_ns(r->in_hist, 99) / 1000, r->out_reqs,
		r->tcp_conns, r->tcp_tx, r->tcp_rx, r->io_calls, r->io_rbytes, r->io_wbytes,
		r->io_kind[KS_TL_FILE][1], r->io_kind[KS_TL_FILE][2], r->io_kind[KS_TL_SOCKET][1],
		r->io_kind[KS_TL_SOCKET][2], r->disk_ops, r->disk_rbytes, r->disk_wbytes,
		ks_tl_pct_ns(r->disk_hist, 99) / 1000, r->runq_count,
	};
	const bool split = ks_tl_io_split(r);

	for (size_t i = 0; i < NCOLS; i++) {
		if (!(r->on & (1u << cols[i].g)))
			ks_buf_printf(o, " %*s", cols[i].width, "off");
		else if ((cols[i].c == C_P99 && !v[i]) || (cols[i].c == C_SPLIT && !split))
			ks_buf_printf(o, " %*s", cols[i].width, "-");
		else if (cols[i].c == C_MS)
			ks_buf_printf(o, " %*.3f", cols[i].width, r->runq_sum_s * 1e3);
		else
			ks_buf_printf(o, " %*llu", cols[i].width, (unsigned long long)v[i]);
	}
}

/* The service and window asked for; 0, or 2 with one line said. */
static int check(const char **args, int nargs, const char *since, const char *until,
		 bool other, uint64_t *since_s, uint64_t *until_s)
{
	*since_s = 3600;
	*until_s = 0;
	if (nargs != 1) {
		if (nargs < 1)
			fprintf(stderr, "ksight query: timeline needs a SERVICE (ksight map lists "
				"them)\n");
		else
			fprintf(stderr, "ksight query: unexpected argument '%.40s'\n", args[1]);
		return 2;
	}
	if (!*args[0] || strlen(args[0]) > 255) {
		fprintf(stderr, "ksight query: timeline: not a service name\n");
		return 2;
	}
	if ((since && ks_store_parse_duration(since, since_s)) ||
	    (until && ks_store_parse_duration(until, until_s)) || *until_s >= *since_s) {
		fprintf(stderr, "ksight query: --since %.40s --until %.40s: not durations with "
			"until shorter than since (30s, 10m, 1h, 7d)\n", since ? since : "1h",
			until ? until : "0");
		return 2;
	}
	if (other) {
		fprintf(stderr, "ksight query: timeline takes --since, --until, --json, --store\n");
		return 2;
	}
	return 0;
}

int query_timeline(const char *store, const char **args, int nargs, const char *since,
		   const char *until, bool json, bool other)
{
	uint64_t since_s, until_s;
	const char *service;
	char err[400];
	struct ks_timeline t;
	struct timespec now;
	struct ks_buf out;
	int64_t to;
	sqlite3 *db;
	int rc;

	if (check(args, nargs, since, until, other, &since_s, &until_s))
		return 2;
	service = args[0];
	db = ks_store_db_open_ro(store, err, sizeof(err));
	if (!db) {
		fprintf(stderr, "ksight query: %s\n", err);
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	to = now.tv_sec * 1000000000LL + now.tv_nsec - (int64_t)until_s * 1000000000LL;
	rc = ks_timeline_load(db, service, to - (int64_t)(since_s - until_s) * 1000000000LL, to,
			      &t, err, sizeof(err));
	sqlite3_close(db);
	if (rc) {
		fprintf(stderr, "ksight query: timeline: %s\n", err);
		return rc == -ENOENT || rc == -E2BIG ? 2 : 1;
	}
	if (ks_buf_init(&out, 1, 1 << 16)) {
		ks_timeline_free(&t);
		fprintf(stderr, "ksight query: out of memory\n");
		return 1;
	}
	if (!json) {
		ks_buf_printf(&out, "%-19s %6s", "TIME", "SECS");
		for (size_t i = 0; i < NCOLS; i++)
			ks_buf_printf(&out, " %*s", cols[i].width, cols[i].name);
		ks_buf_ch(&out, '\n');
	}
	for (size_t i = 0; i < t.n; i++) {
		if (json) {
			ks_tl_row_json(&out, &t.rows[i]);
		} else {
			ks_fmt_time(&out, t.rows[i].ts_ns, false);
			ks_buf_printf(&out, " %6.2f", t.rows[i].secs);
			cells(&out, &t.rows[i]);
		}
		ks_buf_ch(&out, '\n');
		if (out.len > (1 << 15))
			ks_buf_flush(&out);
	}
	rc = ks_buf_flush(&out) ? 1 : 0;
	ks_buf_free(&out);
	ks_timeline_free(&t);
	return rc;
}
