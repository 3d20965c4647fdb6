// SPDX-License-Identifier: GPL-2.0
/* The service map's input from the store (sink/map.h): tcplife, exec, udp_flow and req_row
 * rows, loss intervals. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/map.h"

/* The columns of one closed session, from its stored JSON line. */
static const char sessions_sql[] =
	"SELECT ts, service, json_extract(json, '$.side'), json_extract(json, '$.laddr'), "
	"json_extract(json, '$.lport'), json_extract(json, '$.raddr'), "
	"json_extract(json, '$.rport'), json_extract(json, '$.tx_bytes'), "
	"json_extract(json, '$.rx_bytes'), json_extract(json, '$.duration_ns'), "
	"json_extract(json, '$.srtt_ns'), json_extract(json, '$.retrans'), "
	"json_extract(json, '$.reason'), json_extract(json, '$.connect_ns'), "
	"json_extract(json, '$.cgroup'), json_extract(json, '$.orig_daddr'), "
	"json_extract(json, '$.orig_dport'), json_extract(json, '$.real_daddr'), "
	"json_extract(json, '$.real_dport'), json_extract(json, '$.rdns'), "
	"json_extract(json, '$.orig_saddr'), json_extract(json, '$.orig_sport'), "
	"json_extract(json, '$.real_saddr'), json_extract(json, '$.real_sport') FROM events "
	"WHERE type = 'tcplife' AND ts >= ?1 AND ts < ?2";

/* The successful execs that say the service they came from (spawn edges): the agent's
 * exec records since it names it; older rows have no from_service and give none. */
static const char execs_sql[] =
	"SELECT ts, service, json_extract(json, '$.cgroup'), "
	"json_extract(json, '$.from_service'), json_extract(json, '$.from_cgroup') FROM events "
	"WHERE type = 'exec' AND ts >= ?1 AND ts < ?2 AND "
	"json_extract(json, '$.from_service') IS NOT NULL";

/* The udp module's flow rows (UDP edges): one per flow and interval it moved in. */
static const char udp_sql[] =
	"SELECT ts, service, json_extract(json, '$.cgroup'), json_extract(json, '$.raddr'), "
	"json_extract(json, '$.lport'), json_extract(json, '$.rport'), "
	"json_extract(json, '$.bound'), json_extract(json, '$.first'), "
	"json_extract(json, '$.tx_datagrams'), json_extract(json, '$.tx_bytes'), "
	"json_extract(json, '$.rx_datagrams'), json_extract(json, '$.rx_bytes'), "
	"json_extract(json, '$.rdns') FROM events "
	"WHERE type = 'udp_flow' AND ts >= ?1 AND ts < ?2";

/* The req module's rows (requests on TCP edges): one per process, other endpoint (a
 * client row's server, a server row's port and remote client), method and status and
 * interval they changed in (rows stored before server rows were kept have no role: a
 * client's); their histogram's buckets as "HI:COUNT,..." (HI: the bucket's highest
 * microsecond; events.json, as json_each has a column named json of its own). */
static const char req_sql[] =
	"SELECT ts, service, json_extract(json, '$.raddr'), json_extract(json, '$.rport'), "
	"json_extract(json, '$.requests'), json_extract(json, '$.errors'), "
	"json_extract(json, '$.cgroup'), "
	"(SELECT group_concat(json_extract(b.value, '$.hi') || ':' || "
	"json_extract(b.value, '$.count')) FROM json_each(events.json, '$.hist.buckets') b), "
	"json_extract(json, '$.role') = 'server', json_extract(json, '$.lport') "
	"FROM events "
	"WHERE type = 'req_row' AND ts >= ?1 AND ts < ?2";

/* Intervals that lost tcplife records (or the connection table's entries; what: 1), exec
 * records (2), datagrams' counts (4), req's rows (8: requests uncounted), or in which the
 * store dropped records (15: all). A
 * loss is counted when the reader gets to it: its interval began at the previous rollup
 * (the agent may have been stopped for longer than the interval says), but no more than a
 * minute before it (not across the agent's restarts). Also the next rollup's time (NULL:
 * none): udp_flow rows are made by the interval's collect, just after its rollups' time,
 * so the rows of an interval that lost datagrams' counts are from its rollups' time to
 * the next's. */
static const char loss_sql[] =
	"WITH l AS (SELECT ts, max(coalesce((SELECT max(p.ts) FROM rollups p WHERE p.ts < r.ts),"
	" 0), ts - CAST(max(secs, 60) * 1e9 AS INTEGER)) AS start, CASE WHEN metric = "
	"'ksight_sink_dropped_records_total' THEN 15 WHEN json_extract(labels, '$.type') IN "
	"('exec', 'proc_exec') THEN 2 WHEN json_extract(labels, '$.type') = 'udp' THEN 4 "
	"WHEN json_extract(labels, '$.type') = 'req' THEN 8 ELSE 1 END AS what FROM rollups r "
	"WHERE ts >= ?1 AND value > 0 AND ((metric = 'ksight_events_lost_total' AND "
	"json_extract(labels, '$.type') IN ('tcplife', 'tcp_conn_table', 'exec', 'proc_exec', "
	"'udp', 'req')) "
	"OR (metric = 'ksight_sink_dropped_records_total' AND json_extract(labels, '$.sink') "
	"LIKE 'store%'))) SELECT start, ts, what, (SELECT min(p.ts) FROM rollups p WHERE "
	"p.ts > l.ts) FROM l WHERE start < ?2";

static enum ks_svcmap_end end_of(const char *reason)
{
	if (!reason || !strcmp(reason, "fin") || !strcmp(reason, "close"))
		return KS_END_OK;
	if (!strcmp(reason, "rst_sent") || !strcmp(reason, "rst_received"))
		return KS_END_RESET;
	return KS_END_ERROR;	/* refused, timeout, aborted, abandoned, error */
}

static const char *text(sqlite3_stmt *q, int i)
{
	return (const char *)sqlite3_column_text(q, i);
}

static int sessions(sqlite3 *db, const struct ks_map_win *w, struct ks_svcmap *m)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(db, sessions_sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, w->from_ns);
	sqlite3_bind_int64(q, 2, w->to_ns);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *side = text(q, 2);
		struct ks_svcmap_conn c = {
			.end_ns = sqlite3_column_int64(q, 0),
			.service = text(q, 1),
			.side = !side ? KS_SIDE_UNKNOWN : !strcmp(side, "client") ? KS_SIDE_CLIENT :
				!strcmp(side, "server") ? KS_SIDE_SERVER : KS_SIDE_UNKNOWN,
			.laddr = text(q, 3),
			.lport = sqlite3_column_int(q, 4),
			.raddr = text(q, 5),
			.rport = sqlite3_column_int(q, 6),
			.tx = sqlite3_column_int64(q, 7),
			.rx = sqlite3_column_int64(q, 8),
			.srtt_ns = sqlite3_column_int64(q, 10),
			.retrans = sqlite3_column_int(q, 11),
			.end = end_of(text(q, 12)),
			.rdns = text(q, 19),
		};

		/* no duration: opened before ksight started */
		if (sqlite3_column_type(q, 9) != SQLITE_NULL)
			c.start_ns = c.end_ns - sqlite3_column_int64(q, 9);
		c.cgroup = sqlite3_column_int64(q, 14);
		if (sqlite3_column_type(q, 13) != SQLITE_NULL) {
			c.has_connect = true;
			c.connect_ns = sqlite3_column_int64(q, 13);
		}
		/* DNAT'd (conntrack): a client end goes to the real server, and says what it
		 * asked for (an end of unknown side whose own end is the real one is a
		 * server's) */
		if (text(q, 15) && text(q, 17)) {
			c.dnat_addr = text(q, 15);
			c.dnat_port = sqlite3_column_int(q, 16);
			if (c.side != KS_SIDE_SERVER && (strcmp(text(q, 17), c.laddr ? c.laddr : "") ||
							 sqlite3_column_int(q, 18) != c.lport)) {
				c.raddr = text(q, 17);
				c.rport = sqlite3_column_int(q, 18);
			}
		}
		/* SNAT'd in the end's namespace (conntrack): a server end's peer is the source
		 * SNAT gave its client, it names the real client instead; a client end says
		 * the source it was given (an end of unknown side whose own end is the
		 * original source is the client's) */
		if (text(q, 20) && text(q, 22)) {
			bool own = !strcmp(text(q, 20), c.laddr ? c.laddr : "") &&
				   sqlite3_column_int(q, 21) == c.lport;

			if (c.side == KS_SIDE_CLIENT || (c.side == KS_SIDE_UNKNOWN && own)) {
				c.snat_addr = text(q, 22);
				c.snat_port = sqlite3_column_int(q, 23);
			} else if (!own) {
				c.snat_addr = text(q, 22);
				c.snat_port = c.rport;
				c.raddr = text(q, 20);
				c.rport = sqlite3_column_int(q, 21);
			}
		}
		if (ks_svcmap__add(m, &c)) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int execs(sqlite3 *db, const struct ks_map_win *w, struct ks_svcmap *m)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(db, execs_sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, w->from_ns);
	sqlite3_bind_int64(q, 2, w->to_ns);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_svcmap_exec x = {
			.ts_ns = sqlite3_column_int64(q, 0),
			.to = text(q, 1),
			.to_cg = sqlite3_column_int64(q, 2),
			.from = text(q, 3),
			.from_cg = sqlite3_column_int64(q, 4),
		};

		if (ks_svcmap__add_exec(m, &x)) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int udp_flows(sqlite3 *db, const struct ks_map_win *w, struct ks_svcmap *m)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(db, udp_sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, w->from_ns);
	sqlite3_bind_int64(q, 2, w->to_ns);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *first = text(q, 7);
		struct ks_svcmap_udp u = {
			.ts_ns = sqlite3_column_int64(q, 0),
			.service = text(q, 1),
			.cgroup = sqlite3_column_int64(q, 2),
			.raddr = text(q, 3),
			.lport = sqlite3_column_int(q, 4),
			.rport = sqlite3_column_int(q, 5),
			.bound = sqlite3_column_int(q, 6) != 0,
			.rx_first = first && !strcmp(first, "recv"),
			.tx_dgrams = sqlite3_column_int64(q, 8),
			.tx_bytes = sqlite3_column_int64(q, 9),
			.rx_dgrams = sqlite3_column_int64(q, 10),
			.rx_bytes = sqlite3_column_int64(q, 11),
			.rdns = text(q, 12),
		};

		if (ks_svcmap__add_udp(m, &u)) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* "HI:COUNT,..." (microseconds) into @h (at most @max buckets, bounds in ns: a latency
 * in the bucket is below HI + 1 us); how many. */
static size_t req_buckets(const char *s, struct ks_svcmap_bucket *h, size_t max)
{
	size_t n = 0;

	while (s && *s && n < max) {
		char *end;
		uint64_t hi = strtoull(s, &end, 10), c;

		if (*end != ':')
			break;
		c = strtoull(end + 1, &end, 10);
		h[n++] = (struct ks_svcmap_bucket){ (hi + 1) * 1000, c };
		s = *end == ',' ? end + 1 : NULL;
	}
	return n;
}

static int reqs(sqlite3 *db, const struct ks_map_win *w, struct ks_svcmap *m)
{
	struct ks_svcmap_bucket h[64];
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(db, req_sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, w->from_ns);
	sqlite3_bind_int64(q, 2, w->to_ns);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct ks_svcmap_req r = {
			.ts_ns = sqlite3_column_int64(q, 0),
			.service = text(q, 1),
			.raddr = text(q, 2),
			.rport = sqlite3_column_int(q, 3),
			.requests = sqlite3_column_int64(q, 4),
			.errors = sqlite3_column_int64(q, 5),
			.cgroup = sqlite3_column_int64(q, 6),
			.hist = h,
			.server = sqlite3_column_int(q, 8) == 1,
			.lport = sqlite3_column_int(q, 9),
		};

		r.nhist = req_buckets(text(q, 7), h, sizeof(h) / sizeof(h[0]));
		if (ks_svcmap__add_req(m, &r)) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int losses(sqlite3 *db, const struct ks_map_win *w, struct ks_svcmap *m)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(db, loss_sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, w->from_ns);
	sqlite3_bind_int64(q, 2, w->to_ns);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t start = sqlite3_column_int64(q, 0), end = sqlite3_column_int64(q, 1);
		int what = sqlite3_column_int(q, 2);
		/* udp: the rows the collect made after this rollup (store drops: before too) */
		int64_t ustart = what == 15 ? start : end;
		int64_t uend = sqlite3_column_type(q, 3) == SQLITE_NULL ? end + 1000000000LL :
			       sqlite3_column_int64(q, 3) - 1;

		if (((what & 1) && ks_svcmap__add_loss(m, KS_LOSS_TCP, start, end)) ||
		    ((what & 2) && ks_svcmap__add_loss(m, KS_LOSS_EXEC, start, end)) ||
		    ((what & 4) && ks_svcmap__add_loss(m, KS_LOSS_UDP, ustart, uend)) ||
		    ((what & 8) && ks_svcmap__add_loss(m, KS_LOSS_REQ, start, end))) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The session ends, execs and rows in @w (what a build reads), or -1. */
static int64_t count(sqlite3 *db, const struct ks_map_win *w)
{
	sqlite3_stmt *q;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events WHERE type IN ('tcplife', "
			       "'exec', 'udp_flow', 'req_row') AND ts >= ?1 AND ts < ?2", -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, w->from_ns);
	sqlite3_bind_int64(q, 2, w->to_ns);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

int ks_map_load(struct sqlite3 *db, const struct ks_map_win *w, struct ks_svcmap *m,
		uint64_t max_ends, char *err, size_t len)
{
	int64_t n = max_ends ? count(db, w) : 0;

	if (n > (int64_t)max_ends) {
		snprintf(err, len, "the window holds %lld TCP session ends, execs, UDP flow and "
			 "request rows, more than "
			 "%llu: a shorter one, or ksight map", (long long)n, (unsigned long long)max_ends);
		return -E2BIG;
	}
	if (n < 0 || sessions(db, w, m) || execs(db, w, m) || udp_flows(db, w, m) ||
	    reqs(db, w, m) || losses(db, w, m)) {
		snprintf(err, len, "reading the store: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (ks_svcmap__build(m)) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	return 0;
}
