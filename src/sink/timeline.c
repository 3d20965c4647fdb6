// SPDX-License-Identifier: GPL-2.0
/* A service's timeline from the store: its intervals, modules and series (timeline.h). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/timeline.h"

static const char *const modules[KS_TL_GROUPS] = { "req", "tcplife", "rw", "biotop", "runqlat" };

const char *ks_tl_module(enum ks_tl_group g)
{
	return g < KS_TL_GROUPS ? modules[g] : "?";
}

static const char *const kinds[KS_TL_KINDS] = { "file", "socket", "other" };

const char *ks_tl_kind_name(enum ks_tl_kind k)
{
	return k < KS_TL_KINDS ? kinds[k] : "?";
}

/* The agent's intervals: the uptime gauge is written at the end of every one. */
static const char intervals_sql[] =
	"SELECT ts, max(secs) FROM rollups WHERE metric = 'ksight_agent_uptime_seconds' AND "
	"ts >= ?1 AND ts < ?2 GROUP BY ts ORDER BY ts LIMIT ?4";

/* The first interval after the window: req rows are made just after their interval's end */
static const char next_sql[] =
	"SELECT min(ts) FROM rollups WHERE metric = 'ksight_agent_uptime_seconds' AND ts >= ?2";

/* Which of the timeline's modules had maps loaded at each interval's end. */
static const char modules_sql[] =
	"SELECT ts, json_extract(labels, '$.module') AS m FROM rollups WHERE "
	"metric = 'ksight_bpf_map_max_entries' AND ts >= ?1 AND ts < ?2 AND "
	"m IN ('req', 'tcplife', 'rw', 'biotop', 'runqlat') GROUP BY ts, m";

/* The per-service series (value: a counter's delta or a histogram's sum; count: its
 * observations). */
static const char series_sql[] =
	"SELECT ts, metric, sum(value), sum(count), json_extract(labels, '$.kind') AS k FROM "
	"rollups WHERE metric IN ("
	"'ksight_tcp_sessions_closed_total', 'ksight_tcp_sent_bytes_total', "
	"'ksight_tcp_received_bytes_total', 'ksight_rw_service_calls_total', "
	"'ksight_rw_service_read_bytes_total', 'ksight_rw_service_written_bytes_total', "
	"'ksight_rw_service_kind_calls_total', 'ksight_rw_service_kind_read_bytes_total', "
	"'ksight_rw_service_kind_written_bytes_total', "
	"'ksight_bio_requests_total', 'ksight_bio_read_bytes_total', "
	"'ksight_bio_write_bytes_total', 'ksight_runqlat_seconds') AND ts >= ?1 AND ts < ?2 AND "
	"json_extract(labels, '$.service') = ?3 GROUP BY ts, metric, k";

/* biotop's rows of the service, each interval's made just after its end (as req's): their
 * latency buckets as "HI:COUNT,...". */
static const char bio_sql[] =
	"SELECT ts, (SELECT group_concat(json_extract(b.value, '$.hi') || ':' || "
	"json_extract(b.value, '$.count')) FROM json_each(events.json, '$.hist.buckets') b) "
	"FROM events WHERE type = 'bio_row' AND ts >= ?1 AND ts < ?4 AND service = ?3";

/* The req module's client rows (not a server's rows for its remote clients: role
 * "server"), each interval's made just after its end: those the
 * service made (out), and those made to an address and port where the service's server
 * ends were (in): its TCP sessions that closed within a day of the window (a keep-alive
 * connection closes after the requests it carried). Buckets as "HI:COUNT,..." (HI: the
 * bucket's highest microsecond). */
#define TL_ENDS_SLACK "86400000000000"
static const char reqs_sql[] =
	"WITH ep AS (SELECT DISTINCT json_extract(json, '$.laddr') AS a, "
	"json_extract(json, '$.lport') AS p FROM events WHERE type = 'tcplife' AND "
	"ts >= ?1 - " TL_ENDS_SLACK " AND ts < ?2 + " TL_ENDS_SLACK " AND service = ?3 AND "
	"json_extract(json, '$.side') = 'server') "
	"SELECT ts, service = ?3, json_extract(json, '$.requests'), json_extract(json, "
	"'$.errors'), (SELECT group_concat(json_extract(b.value, '$.hi') || ':' || "
	"json_extract(b.value, '$.count')) FROM json_each(events.json, '$.hist.buckets') b), "
	"EXISTS (SELECT 1 FROM ep WHERE ep.a = json_extract(events.json, '$.raddr') AND "
	"ep.p = json_extract(events.json, '$.rport')) FROM events WHERE type = 'req_row' AND "
	"ts >= ?1 AND ts < ?4 AND coalesce(json_extract(json, '$.role'), 'client') = 'client'";

/* Anything of the service in the window: an event, or a rollup labelled with it. */
static const char known_sql[] =
	"SELECT EXISTS (SELECT 1 FROM events WHERE ts >= ?1 AND ts < ?2 AND service = ?3) OR "
	"EXISTS (SELECT 1 FROM rollups WHERE ts >= ?1 AND ts < ?2 AND "
	"json_extract(labels, '$.service') = ?3)";

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q, int64_t from, int64_t to,
		   const char *svc, int64_t x)
{
	if (sqlite3_prepare_v2(db, sql, -1, q, NULL) != SQLITE_OK)
		return -1;
	for (int i = 1; i <= sqlite3_bind_parameter_count(*q); i++) {
		if (i == 1)
			sqlite3_bind_int64(*q, i, from);
		else if (i == 2)
			sqlite3_bind_int64(*q, i, to);
		else if (i == 3)
			sqlite3_bind_text(*q, i, svc, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(*q, i, x);
	}
	return 0;
}

/* The row of the interval ending at @ts exactly, or NULL. */
static struct ks_tl_row *row_at(struct ks_timeline *t, int64_t ts)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->rows[mid].ts_ns < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && t->rows[lo].ts_ns == ts ? &t->rows[lo] : NULL;
}

/* The row of the last interval that ended at or before @ts, or NULL. */
static struct ks_tl_row *row_before(struct ks_timeline *t, int64_t ts)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->rows[mid].ts_ns <= ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}

static int load_intervals(sqlite3 *db, struct ks_timeline *t)
{
	size_t cap = 0;
	sqlite3_stmt *q;
	int rc;

	if (prepare(db, intervals_sql, &q, t->from_ns, t->to_ns, NULL, KS_TL_MAX_ROWS + 1))
		return -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (t->n == cap) {
			struct ks_tl_row *r = realloc(t->rows, (cap ? cap * 2 : 64) * sizeof(*r));

			if (!r) {
				rc = SQLITE_NOMEM;
				break;
			}
			cap = cap ? cap * 2 : 64;
			t->rows = r;
		}
		memset(&t->rows[t->n], 0, sizeof(*t->rows));
		t->rows[t->n].ts_ns = sqlite3_column_int64(q, 0);
		t->rows[t->n++].secs = sqlite3_column_double(q, 1);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return -1;
	return t->n > KS_TL_MAX_ROWS ? -E2BIG : 0;
}

static int load_modules(sqlite3 *db, struct ks_timeline *t)
{
	sqlite3_stmt *q;
	int rc;

	if (prepare(db, modules_sql, &q, t->from_ns, t->to_ns, NULL, 0))
		return -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_tl_row *r = row_at(t, sqlite3_column_int64(q, 0));
		const char *m = (const char *)sqlite3_column_text(q, 1);

		for (int g = 0; r && m && g < KS_TL_GROUPS; g++)
			if (!strcmp(m, modules[g]))
				r->on |= 1u << g;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void add_series(struct ks_tl_row *r, const char *m, sqlite3_stmt *q)
{
	uint64_t v = sqlite3_column_int64(q, 2);
	static const struct { const char *name; size_t off; } map[] = {
#define F(n, f) { n, offsetof(struct ks_tl_row, f) }
		F("ksight_tcp_sessions_closed_total", tcp_conns),
		F("ksight_tcp_sent_bytes_total", tcp_tx),
		F("ksight_tcp_received_bytes_total", tcp_rx),
		F("ksight_rw_service_calls_total", io_calls),
		F("ksight_rw_service_read_bytes_total", io_rbytes),
		F("ksight_rw_service_written_bytes_total", io_wbytes),
		F("ksight_bio_requests_total", disk_ops),
		F("ksight_bio_read_bytes_total", disk_rbytes),
		F("ksight_bio_write_bytes_total", disk_wbytes),
#undef F
	};

	if (!strncmp(m, "ksight_rw_service_kind_", 23)) {
		const char *k = (const char *)sqlite3_column_text(q, 4);
		int kind = k && !strcmp(k, "file") ? KS_TL_FILE :
			   k && !strcmp(k, "socket") ? KS_TL_SOCKET : KS_TL_OTHER;
		int what = !strcmp(m + 23, "calls_total") ? 0 :
			   !strcmp(m + 23, "read_bytes_total") ? 1 : 2;

		r->io_split = true;
		r->io_kind[kind][what] += v;
		return;
	}
	if (!strcmp(m, "ksight_runqlat_seconds")) {
		r->runq_count += sqlite3_column_int64(q, 3);
		r->runq_sum_s += sqlite3_column_double(q, 2);
		return;
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(m, map[i].name))
			*(uint64_t *)((char *)r + map[i].off) += v;
}

/* Returns how many rows it added to, or -1. */
static long load_series(sqlite3 *db, struct ks_timeline *t, const char *svc)
{
	sqlite3_stmt *q;
	long n = 0;
	int rc;

	if (prepare(db, series_sql, &q, t->from_ns, t->to_ns, svc, 0))
		return -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_tl_row *r = row_at(t, sqlite3_column_int64(q, 0));
		const char *m = (const char *)sqlite3_column_text(q, 1);

		if (r && m) {
			add_series(r, m, q);
			n++;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? n : -1;
}

/* "HI:COUNT,..." into @hist's log2 slots (HI = 2^k - 1 is slot k). */
static void add_buckets(uint64_t *hist, const char *s)
{
	while (s && *s) {
		char *end;
		uint64_t hi = strtoull(s, &end, 10), c;
		unsigned int k = 0;

		if (*end != ':')
			return;
		c = strtoull(end + 1, &end, 10);
		while (k < KS_TL_SLOTS - 1 && (hi >> k))
			k++;
		hist[k] += c;
		s = *end == ',' ? end + 1 : NULL;
	}
}

/* biotop's latency buckets into the rows, with the window's req bounds (@next). */
static int load_bio(sqlite3 *db, struct ks_timeline *t, const char *svc, int64_t next)
{
	sqlite3_stmt *q;
	int rc;

	if (prepare(db, bio_sql, &q, t->rows[0].ts_ns, t->to_ns, svc, next))
		return -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_tl_row *r = row_before(t, sqlite3_column_int64(q, 0));

		if (r)
			add_buckets(r->disk_hist, (const char *)sqlite3_column_text(q, 1));
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int load_reqs(sqlite3 *db, struct ks_timeline *t, const char *svc)
{
	int64_t next = INT64_MAX;
	sqlite3_stmt *q;
	int rc;

	if (!t->n)
		return 0;
	if (prepare(db, next_sql, &q, t->from_ns, t->to_ns, NULL, 0))
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		next = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (load_bio(db, t, svc, next) ||
	    prepare(db, reqs_sql, &q, t->rows[0].ts_ns, t->to_ns, svc, next))
		return -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_tl_row *r = row_before(t, sqlite3_column_int64(q, 0));
		const char *b = (const char *)sqlite3_column_text(q, 4);

		if (!r)
			continue;
		if (sqlite3_column_int(q, 1)) {
			r->out_reqs += sqlite3_column_int64(q, 2);
			r->out_errs += sqlite3_column_int64(q, 3);
			add_buckets(r->out_hist, b);
		}
		if (sqlite3_column_int(q, 5)) {
			r->in_reqs += sqlite3_column_int64(q, 2);
			r->in_errs += sqlite3_column_int64(q, 3);
			add_buckets(r->in_hist, b);
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int known(sqlite3 *db, const struct ks_timeline *t, const char *svc)
{
	sqlite3_stmt *q;
	int k = -1;

	if (prepare(db, known_sql, &q, t->from_ns, t->to_ns, svc, 0))
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		k = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return k;
}

int ks_timeline_load(struct sqlite3 *db, const char *service, int64_t from_ns, int64_t to_ns,
		     struct ks_timeline *t, char *err, size_t len)
{
	int rc;
	long got;

	memset(t, 0, sizeof(*t));
	t->from_ns = from_ns;
	t->to_ns = to_ns;
	rc = load_intervals(db, t);
	if (rc == -E2BIG) {
		snprintf(err, len, "more than %d intervals in the window: ask for a shorter one",
			 KS_TL_MAX_ROWS);
		goto fail;
	}
	if (rc || load_modules(db, t) || (got = load_series(db, t, service)) < 0 ||
	    load_reqs(db, t, service))
		goto db_fail;
	if (!got && (rc = known(db, t, service)) <= 0) {
		if (rc < 0)
			goto db_fail;
		snprintf(err, len, "no service '%.200s' in the store in the window", service);
		rc = -ENOENT;
		goto fail;
	}
	return 0;
db_fail:
	snprintf(err, len, "%s", sqlite3_errcode(db) != SQLITE_OK ? sqlite3_errmsg(db) :
		 "out of memory");
	rc = -1;
fail:
	ks_timeline_free(t);
	return rc;
}

void ks_timeline_free(struct ks_timeline *t)
{
	if (!t)
		return;
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}
