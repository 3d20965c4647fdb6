// SPDX-License-Identifier: GPL-2.0
/*
 * `ksight query`: answers from the agent's store (sink/store.h), read-only, while the
 * agent writes it or not. Each question is one SQL statement; a table prints its columns
 * (kernel strings in display form), --json one object per line (an event's is the line
 * `ksight run --json` printed, exact bytes kept).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sink/units.h"

#include "cli/commands.h"
#include "cli/common_opts.h"
#include "core/opts.h"
#include "sink/escape.h"
#include "sink/store.h"

struct query_opts {
	const char *store;
	const char *since;
	const char *until;
	const char *comm;
	uint64_t limit;
	bool by_interval;
	bool json;
};

#define OFF(f) offsetof(struct query_opts, f)
static const struct ks_opt query_opts[] = {
	{ "store", 0, KS_OPT_STR, OFF(store), "PATH", "the store to read (default: $"
	  KS_STORE_ENV ", else " KS_STORE_DEFAULT ")", 0, 4000 },
	{ "since", 's', KS_OPT_STR, OFF(since), "DUR", "only the last DUR: 30s, 10m, 1h, 7d "
	  "(default 1h)" },
	{ "until", 0, KS_OPT_STR, OFF(until), "DUR", "timeline: up to DUR ago (default: now)" },
	{ "comm", 'n', KS_OPT_STR, OFF(comm), "NAME", "execs, connections, alerts, edges: only "
	  "this process name", 0, 15 },
	{ "limit", 0, KS_OPT_UINT, OFF(limit), "N", "at most N rows, the latest (events) or the "
	  "largest (default 1000)", 1, 100000000 },
	{ "by-interval", 0, KS_OPT_FLAG, OFF(by_interval), NULL, "metric: each interval's row, "
	  "not the totals" },
	{ "json", 0, KS_OPT_FLAG, OFF(json), NULL, "one JSON object per line" },
	{ 0 },
};

static const char usage[] =
	"  ksight query execs --since 10m         # processes started in the last 10 minutes\n"
	"  ksight query execs -n curl --json      # curl's execs, as ksight run --json had them\n"
	"  ksight query connections --since 1h    # TCP sessions that closed in the last hour\n"
	"  ksight query alerts --since 1d         # guard's alerts (ksight run --modules ...,guard)\n"
	"  ksight query edges --since 1d          # service -> peer:port, connections, bytes\n"
	"  ksight query metrics                   # the metrics the store has rollups of\n"
	"  ksight query metric ksight_exec_execs_total --since 1h  # totals per label set\n"
	"  ksight query metric ksight_biolat_seconds --by-interval --json\n"
	"  ksight query files --since 1d          # paths changed most (creates, writes, ...)\n"
	"  ksight query timeline web.service --since 30m  # requests, TCP, I/O, disk, run queue\n"
	"\n"
	"WHAT is execs, connections, alerts, edges, metrics, metric NAME, files or timeline\n"
	"SERVICE. The agent\n"
	"writes its store (ksight run --store, docs/store.md); events within about a second (at the\n"
	"latest at the interval's end), rollups at the end of each interval.\n";

/* A column: 'T' a time in ns, 'n' a number, 's' a string shown in display form. */
struct col {
	const char *name;
	char kind;
	int width;
};

struct question {
	const char *name;
	const char *table_sql;	/* columns as @cols */
	const char *json_sql;	/* one column: a JSON object */
	struct col cols[12];
};

#define EXEC_ROWS                                                                          \
	"WITH e AS (SELECT * FROM events WHERE type = 'exec' AND ts >= :since AND "        \
	"(:comm IS NULL OR comm = :comm) ORDER BY ts DESC, id DESC LIMIT :limit) "
#define CONN_ROWS                                                                          \
	"WITH e AS (SELECT * FROM events WHERE type = 'tcplife' AND ts >= :since AND "     \
	"(:comm IS NULL OR comm = :comm) ORDER BY ts DESC, id DESC LIMIT :limit) "
#define ALERT_ROWS                                                                         \
	"WITH e AS (SELECT * FROM events WHERE type = 'alert' AND ts >= :since AND "       \
	"(:comm IS NULL OR comm = :comm) ORDER BY ts DESC, id DESC LIMIT :limit) "
#define EDGES                                                                              \
	"WITH e AS (SELECT coalesce(service, comm, '(unknown)') AS svc, "                  \
	"json_extract(json, '$.side') AS side, json_extract(json, '$.raddr') AS peer, "    \
	"CASE json_extract(json, '$.side') WHEN 'server' THEN json_extract(json, '$.lport') " \
	"ELSE json_extract(json, '$.rport') END AS port, "                                 \
	"json_extract(json, '$.tx_bytes') AS tx, json_extract(json, '$.rx_bytes') AS rx, ts " \
	"FROM events WHERE type = 'tcplife' AND ts >= :since AND "                          \
	"(:comm IS NULL OR comm = :comm)) "
#define EDGE_GROUP " FROM e GROUP BY svc, side, peer, port ORDER BY count(*) DESC, svc, peer, " \
	"port LIMIT :limit"

static const struct question questions[] = {
	{ "execs",
	  EXEC_ROWS "SELECT ts, pid, json_extract(json, '$.ppid'), json_extract(json, '$.uid'), "
	  "comm, json_extract(json, '$.ret'), service, (SELECT group_concat(value, ' ') FROM "
	  "json_each(e.json, '$.args')) FROM e ORDER BY ts, id",
	  EXEC_ROWS "SELECT json FROM e ORDER BY ts, id",
	  { { "TIME", 'T', -23 }, { "PID", 'n', -7 }, { "PPID", 'n', -7 }, { "UID", 'n', -5 },
	    { "COMM", 's', -16 }, { "RET", 'n', -4 }, { "SERVICE", 's', -24 },
	    { "ARGS", 's', 0 } } },
	{ "connections",
	  CONN_ROWS "SELECT ts, pid, comm, service, json_extract(json, '$.side'), "
	  "json_extract(json, '$.laddr') || ':' || json_extract(json, '$.lport'), "
	  "json_extract(json, '$.raddr') || ':' || json_extract(json, '$.rport'), "
	  "json_extract(json, '$.tx_bytes'), json_extract(json, '$.rx_bytes'), "
	  "round(json_extract(json, '$.duration_ns') / 1e6, 3) FROM e ORDER BY ts, id",
	  CONN_ROWS "SELECT json FROM e ORDER BY ts, id",
	  { { "TIME", 'T', -23 }, { "PID", 'n', -7 }, { "COMM", 's', -16 },
	    { "SERVICE", 's', -20 }, { "SIDE", 's', -6 }, { "LOCAL", 's', -22 },
	    { "REMOTE", 's', -22 }, { "TX", 'n', 10 }, { "RX", 'n', 10 },
	    { "MS", 'n', 0 } } },
	{ "alerts",
	  ALERT_ROWS "SELECT ts, json_extract(json, '$.severity'), json_extract(json, '$.rule'), "
	  "pid, comm, service, json_extract(json, '$.message') FROM e ORDER BY ts, id",
	  ALERT_ROWS "SELECT json FROM e ORDER BY ts, id",
	  { { "TIME", 'T', -23 }, { "SEVERITY", 's', -8 }, { "RULE", 's', -22 },
	    { "PID", 'n', -7 }, { "COMM", 's', -16 }, { "SERVICE", 's', -20 },
	    { "MESSAGE", 's', 0 } } },
	{ "edges",
	  EDGES "SELECT svc, side, peer, port, count(*), sum(tx), sum(rx), max(ts)" EDGE_GROUP,
	  EDGES "SELECT json_object('service', svc, 'side', side, 'peer', peer, 'port', port, "
	  "'connections', count(*), 'tx_bytes', sum(tx), 'rx_bytes', sum(rx), 'last_seen_ns', "
	  "max(ts))" EDGE_GROUP,
	  { { "SERVICE", 's', -24 }, { "SIDE", 's', -6 }, { "PEER", 's', -20 },
	    { "PORT", 'n', -6 }, { "CONNS", 'n', 7 }, { "TX", 'n', 12 }, { "RX", 'n', 12 },
	    { "LAST", 'T', 0 } } },
	{ "metrics",
	  "SELECT metric, count(*), count(DISTINCT labels), min(ts), max(ts) FROM rollups "
	  "WHERE ts >= :since GROUP BY metric ORDER BY metric LIMIT :limit",
	  "SELECT json_object('metric', metric, 'rows', count(*), 'series', count(DISTINCT "
	  "labels), 'first_ns', min(ts), 'last_ns', max(ts)) FROM rollups WHERE ts >= :since "
	  "GROUP BY metric ORDER BY metric LIMIT :limit",
	  { { "METRIC", 's', -48 }, { "ROWS", 'n', 8 }, { "SERIES", 'n', 7 },
	    { "FIRST", 'T', -24 }, { "LAST", 'T', 0 } } },
	{ 0 },
};

/* metric NAME, by its type (counter, gauge, histogram), totals or --by-interval */
#define M_WHERE " FROM rollups r WHERE metric = :metric AND ts >= :since "
static const struct question metric_q[4] = {
	{ "counter",
	  "SELECT labels, sum(value), count(*), max(ts)" M_WHERE
	  "GROUP BY labels ORDER BY sum(value) DESC, labels LIMIT :limit",
	  "SELECT json_object('metric', :metric, 'labels', json(labels), 'total', sum(value), "
	  "'intervals', count(*), 'last_ns', max(ts))" M_WHERE
	  "GROUP BY labels ORDER BY sum(value) DESC, labels LIMIT :limit",
	  { { "LABELS", 's', -40 }, { "TOTAL", 'n', 14 }, { "INTERVALS", 'n', 10 },
	    { "LAST", 'T', 0 } } },
	{ "gauge",
	  "SELECT labels, (SELECT value FROM rollups l WHERE l.metric = r.metric AND l.labels = "
	  "r.labels AND l.ts >= :since ORDER BY ts DESC LIMIT 1), min(value), max(value), "
	  "max(ts)" M_WHERE "GROUP BY labels ORDER BY labels LIMIT :limit",
	  "SELECT json_object('metric', :metric, 'labels', json(labels), 'last', (SELECT value "
	  "FROM rollups l WHERE l.metric = r.metric AND l.labels = r.labels AND l.ts >= :since "
	  "ORDER BY ts DESC LIMIT 1), 'min', min(value), 'max', max(value), 'last_ns', "
	  "max(ts))" M_WHERE "GROUP BY labels ORDER BY labels LIMIT :limit",
	  { { "LABELS", 's', -40 }, { "LAST", 'n', 14 }, { "MIN", 'n', 14 },
	    { "MAX", 'n', 14 }, { "AT", 'T', 0 } } },
	{ "histogram",
	  "SELECT labels, sum(count), sum(value), sum(value) / sum(count), max(ts)" M_WHERE
	  "GROUP BY labels ORDER BY sum(count) DESC, labels LIMIT :limit",
	  "SELECT json_object('metric', :metric, 'labels', json(labels), 'count', sum(count), "
	  "'sum', sum(value), 'mean', sum(value) / sum(count), 'last_ns', max(ts))" M_WHERE
	  "GROUP BY labels ORDER BY sum(count) DESC, labels LIMIT :limit",
	  { { "LABELS", 's', -40 }, { "COUNT", 'n', 12 }, { "SUM", 'n', 14 },
	    { "MEAN", 'n', 14 }, { "LAST", 'T', 0 } } },
	{ "interval",
	  "SELECT ts, secs, labels, value, count" M_WHERE "ORDER BY ts, labels LIMIT :limit",
	  "SELECT json_object('ts_ns', ts, 'secs', secs, 'metric', metric, 'labels', "
	  "json(labels), 'value', value, 'count', count)" M_WHERE
	  "ORDER BY ts, labels LIMIT :limit",
	  { { "TIME", 'T', -23 }, { "SECS", 'n', 7 }, { "LABELS", 's', -40 },
	    { "VALUE", 'n', 14 }, { "COUNT", 'n', 0 } } },
};

static void put_cell(struct ks_buf *o, struct ks_buf *tmp, sqlite3_stmt *q, int i,
		     const struct col *c)
{
	size_t start = o->len;
	int type = sqlite3_column_type(q, i);

	if (type == SQLITE_NULL) {
		ks_buf_ch(o, '-');
	} else if (c->kind == 'T') {
		ks_fmt_time(o, sqlite3_column_int64(q, i), true);
	} else if (c->kind == 'n' && type == SQLITE_FLOAT) {
		ks_buf_printf(o, "%.6g", sqlite3_column_double(q, i));
	} else {
		const char *s = (const char *)sqlite3_column_text(q, i);

		ks_buf_reset(tmp);
		ks_escape(tmp, s ? s : "", sqlite3_column_bytes(q, i));
		ks_buf_put(o, tmp->p, tmp->len);
	}
	if (c->width) {
		size_t w = c->width < 0 ? -c->width : c->width, n = o->len - start;

		if (n < w && c->width > 0) {
			/* right-aligned: move the cell over */
			ks_buf_reserve(o, w - n);
			memmove(o->p + start + (w - n), o->p + start, n);
			memset(o->p + start, ' ', w - n);
			o->len += w - n;
		} else {
			for (; n < w; n++)
				ks_buf_ch(o, ' ');
		}
		ks_buf_ch(o, ' ');
	}
}

static int run(sqlite3 *db, const struct question *qn, const struct query_opts *o,
	       const char *metric, int64_t since, long *rows)
{
	struct ks_buf out, tmp;
	sqlite3_stmt *q;
	int ncols = 0, rc, idx;

	if (sqlite3_prepare_v2(db, o->json ? qn->json_sql : qn->table_sql, -1, &q, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "ksight query: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	if ((idx = sqlite3_bind_parameter_index(q, ":since")))
		sqlite3_bind_int64(q, idx, since);
	if ((idx = sqlite3_bind_parameter_index(q, ":limit")))
		sqlite3_bind_int64(q, idx, o->limit ? (int64_t)o->limit : 1000);
	if ((idx = sqlite3_bind_parameter_index(q, ":comm")) && o->comm)
		sqlite3_bind_text(q, idx, o->comm, -1, SQLITE_STATIC);
	if ((idx = sqlite3_bind_parameter_index(q, ":metric")))
		sqlite3_bind_text(q, idx, metric, -1, SQLITE_STATIC);
	if (ks_buf_init(&out, 1, 1 << 16) || ks_buf_init(&tmp, -1, 256)) {
		fprintf(stderr, "ksight query: out of memory\n");
		sqlite3_finalize(q);
		return 1;
	}
	while (qn->cols[ncols].name)
		ncols++;
	if (!o->json) {
		for (int i = 0; i < ncols; i++) {
			const struct col *c = &qn->cols[i];

			if (c->width)
				ks_buf_printf(&out, "%*s ", c->width, c->name);
			else
				ks_buf_str(&out, c->name);
		}
		ks_buf_ch(&out, '\n');
	}
	*rows = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (o->json) {
			ks_buf_put(&out, sqlite3_column_text(q, 0), sqlite3_column_bytes(q, 0));
		} else {
			for (int i = 0; i < ncols && i < sqlite3_column_count(q); i++)
				put_cell(&out, &tmp, q, i, &qn->cols[i]);
			while (out.len && out.p[out.len - 1] == ' ')
				out.len--;
		}
		ks_buf_ch(&out, '\n');
		(*rows)++;
		if (out.len > (1 << 15))
			ks_buf_flush(&out);
	}
	ks_buf_flush(&out);
	ks_buf_free(&out);
	ks_buf_free(&tmp);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "ksight query: %s\n", sqlite3_errmsg(db));
		sqlite3_finalize(q);
		return 1;
	}
	sqlite3_finalize(q);
	return 0;
}

/* The kind of the metric @name in the store: 0 counter, 1 gauge, 2 histogram; -1 none. */
static int metric_kind(sqlite3 *db, const char *name)
{
	sqlite3_stmt *q;
	int kind = -1;
	size_t n = strlen(name);

	if (sqlite3_prepare_v2(db, "SELECT count IS NOT NULL FROM rollups WHERE metric = ? "
			       "LIMIT 1", -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		kind = sqlite3_column_int(q, 0) ? 2 : n > 6 && !strcmp(name + n - 6, "_total") ?
			0 : 1;
	sqlite3_finalize(q);
	return kind;
}

int cmd_query(int argc, char **argv)
{
	struct query_opts o = { 0 };
	const struct ks_opt_table tables[] = { { query_opts, &o } };
	const struct question *qn = NULL;
	const char *pos[KS_OPTS_MAX_POS], *what, *metric = NULL;
	uint64_t since_s = 3600;
	char err[KS_ERR_LEN + 128];
	struct timespec now;
	int npos, rc, kind;
	sqlite3 *db;
	long rows;

	rc = ks_opts_parse(tables, 1, argc, argv, pos, KS_OPTS_MAX_POS, &npos, err, sizeof(err));
	if (rc == 1) {
		ks_print_help("ksight query [OPTIONS] WHAT [NAME]",
			      "Answer from the agent's store: execs, connections, metric rollups",
			      usage, tables, 1);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "ksight query: %s\n", err);
		return 2;
	}
	if (!npos) {
		fprintf(stderr, "ksight query: what? execs, connections, alerts, edges, metrics, "
			"metric NAME or files (ksight query --help)\n");
		return 2;
	}
	what = pos[0];
	if (!strcmp(what, "timeline"))
		return query_timeline(o.store ? o.store : ks_store_default_path(), pos + 1, npos - 1,
				      o.since, o.until, o.json, o.by_interval || o.comm || o.limit);
	if (o.until) {
		fprintf(stderr, "ksight query: --until is for timeline SERVICE\n");
		return 2;
	}
	if (!strcmp(what, "metric") || !strcmp(what, "files")) {
		if (!strcmp(what, "files")) {
			metric = "ksight_files_path_changes_total";
		} else if (npos < 2) {
			fprintf(stderr, "ksight query: metric needs a NAME (ksight query metrics "
				"lists them)\n");
			return 2;
		} else {
			metric = pos[1];
		}
	} else {
		for (qn = questions; qn->name && strcmp(qn->name, what); qn++)
			;
		if (!qn->name) {
			fprintf(stderr, "ksight query: unknown question '%.40s' (execs, connections, "
				"alerts, edges, metrics, metric NAME, files)\n", what);
			return 2;
		}
	}
	if (npos > (!strcmp(what, "metric") ? 2 : 1)) {
		fprintf(stderr, "ksight query: unexpected argument '%.40s'\n",
			pos[!strcmp(what, "metric") ? 2 : 1]);
		return 2;
	}
	if (o.since && ks_store_parse_duration(o.since, &since_s)) {
		fprintf(stderr, "ksight query: --since %.40s: not a duration (30s, 10m, 1h, 7d)\n",
			o.since);
		return 2;
	}
	if (o.by_interval && !metric) {
		fprintf(stderr, "ksight query: --by-interval is for metric NAME and files\n");
		return 2;
	}
	db = ks_store_db_open_ro(o.store ? o.store : ks_store_default_path(), err, sizeof(err));
	if (!db) {
		fprintf(stderr, "ksight query: %s\n", err);
		return 1;
	}
	if (metric) {
		kind = metric_kind(db, metric);
		if (kind < 0) {
			fprintf(stderr, "ksight query: no metric '%.80s' in the store (ksight query "
				"metrics lists them)\n", metric);
			sqlite3_close(db);
			return 2;
		}
		qn = &metric_q[o.by_interval ? 3 : kind];
	}
	clock_gettime(CLOCK_REALTIME, &now);
	rc = run(db, qn, &o, metric,
		 now.tv_sec * 1000000000LL + now.tv_nsec - (int64_t)since_s * 1000000000LL, &rows);
	sqlite3_close(db);
	return rc;
}
