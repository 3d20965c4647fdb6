/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A service's timeline from the agent's store (docs/store.md, "A service's timeline"): one
 * row per interval of the agent, with what each module measured of the service in it side
 * by side, so that a slow response can be followed from its requests to its sockets, its
 * reads and writes, its disk and its wait for a CPU. Shared by `ksight query timeline`
 * (cli/cmd_query_timeline.c) and /api/services/NAME/timeline (map_api.c).
 *
 * The intervals are the agent's rollups (ksight_agent_uptime_seconds, written every
 * interval). A module that did not run in an interval (its maps are not in that
 * interval's ksight_bpf_map_max_entries) leaves its group unset and named in the row's
 * "off", never a zero.
 */
#ifndef KSIGHT_TIMELINE_H
#define KSIGHT_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "sink/outbuf.h"

struct sqlite3;

#define KS_TL_MAX_ROWS 10000	/* intervals one timeline holds (a day at 10 s); more: E2BIG */
#define KS_TL_SLOTS 40		/* log2 buckets of request latency, in microseconds */

/* The groups of columns, each measured by one module (ks_tl_module). */
enum ks_tl_group { KS_TL_REQ, KS_TL_TCP, KS_TL_IO, KS_TL_DISK, KS_TL_RUNQ, KS_TL_GROUPS };

/* The module that measures @g ("req", "tcplife", "rw", "biotop", "runqlat"). */
const char *ks_tl_module(enum ks_tl_group g);

/* The kinds of fd the rw group splits its reads and writes by (ksight_rw_service_kind_*). */
enum ks_tl_kind { KS_TL_FILE, KS_TL_SOCKET, KS_TL_OTHER, KS_TL_KINDS };

/* "file", "socket", "other" (pipes, anonymous inodes, an fd closed by the return). */
const char *ks_tl_kind_name(enum ks_tl_kind k);

struct ks_tl_row {
	int64_t ts_ns;		/* the interval's end, ns since the epoch */
	double secs;		/* its length */
	unsigned int on;	/* 1 << group for each group whose module ran */
	/* req: requests to the service's server ends (in) and those it made (out) */
	uint64_t in_reqs, in_errs, out_reqs, out_errs;
	uint64_t in_hist[KS_TL_SLOTS], out_hist[KS_TL_SLOTS];	/* slot k: latency < 2^k us */
	/* tcplife: sessions that closed, their application bytes */
	uint64_t tcp_conns, tcp_tx, tcp_rx;
	/* rw: read/write/send/recv calls of its processes and their bytes (files, sockets) */
	uint64_t io_calls, io_rbytes, io_wbytes;
	/* ... by the kind of fd: [kind][0: calls, 1: read bytes, 2: written bytes]; io_split
	 * says the store has the split (an agent before it, or one whose rw counted without
	 * the dispatcher, has not: the JSON's kinds are null then) */
	bool io_split;
	uint64_t io_kind[KS_TL_KINDS][3];
	/* biotop: block requests it queued that completed, their bytes */
	uint64_t disk_ops, disk_rbytes, disk_wbytes;
	/* ... their latency (queue + service), from its bio_row events; slot k: < 2^k us */
	uint64_t disk_hist[KS_TL_SLOTS];
	/* runqlat: run-queue delays of its tasks, their total */
	uint64_t runq_count;
	double runq_sum_s;
};

struct ks_timeline {
	int64_t from_ns, to_ns;	/* the window asked for: [from, to) */
	struct ks_tl_row *rows;	/* oldest first */
	size_t n;
};

/*
 * The timeline of @service over [@from_ns, @to_ns) into @t (freed with
 * ks_timeline_free). Returns 0; -ENOENT when the store knows nothing of @service in the
 * window (no series nor event of it); -E2BIG past KS_TL_MAX_ROWS intervals; -1 on a
 * database error or out of memory. A failure says why in @err.
 */
int ks_timeline_load(struct sqlite3 *db, const char *service, int64_t from_ns, int64_t to_ns,
		     struct ks_timeline *t, char *err, size_t len);

/* Accepts a timeline never loaded (zeroed) or failed. */
void ks_timeline_free(struct ks_timeline *t);

/* Nearest-rank percentile @pct of a log2 histogram (ks_tl_row.in_hist): the bound of the
 * bucket it falls in, in ns; 0 when empty. */
uint64_t ks_tl_pct_ns(const uint64_t *hist, unsigned int pct);

/* Whether @r's reads and writes by kind can be given: the store had the split, or there was
 * nothing to split. */
bool ks_tl_io_split(const struct ks_tl_row *r);

/* One row as a JSON object (no newline): {"ts_ns":..,"secs":..,"requests":{..}|null,
 * "tcp":..,"io":{..,"file":{..}|null,"socket":..,"other":..},"disk":{..,"p99_ns":N|null},
 * "runq":..,"off":["MODULE",...]}. */
void ks_tl_row_json(struct ks_buf *o, const struct ks_tl_row *r);

/* The whole timeline as one JSON document (the API's): {"service":..,"from_ns":..,
 * "to_ns":..,"intervals":[rows]}, newline-ended. */
void ks_timeline_json(struct ks_buf *o, const char *service, const struct ks_timeline *t);

#endif
