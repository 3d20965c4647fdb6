// SPDX-License-Identifier: GPL-2.0
/*
 * `ksight map --prometheus URL`: the fleet's map from a Prometheus server that scrapes the
 * agents of many hosts (each `ksight run --host-label NAME`). Each agent counts its closed
 * TCP sessions per edge (modules/tcp_edges.c): a client end as (service, its address, the
 * server's ADDR:PORT), a server end as (service, its ADDR:PORT, the client's address).
 * Queried per family (connections, bytes sent and received, errors, resets, retransmitted
 * segments; client and server ends), summed by host and those labels (in SQLite: an
 * in-memory table grouped, a fleet of many hosts is thousands of rows), each row becomes
 * one weighted session end of the ordinary map (core/svcmap.h), so that a client end on
 * one host and the server end on another name the same endpoints crosswise and pair into
 * one edge, seen "both", as two ends on one machine do. A client end's peer takes the DNS
 * name its agent counted in ksight_tcp_client_dns_connections_total (the one with most
 * sessions), and its connect latencies the buckets of ksight_tcp_client_connect_seconds,
 * each end its RTTs and durations those of ksight_tcp_{client,server}_{rtt,duration}_seconds
 * (p50 and p99: the bounds of the buckets that hold them). The answer's JSON is read with
 * SQLite's JSON functions (the store's library): no parser of our own. The UDP edges come
 * through the same queries (map_prom_udp.c), the requests on the TCP edges
 * (map_prom_req.c) and the spawn edges (map_prom_spawn.c), before the map is built.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/http_conn.h"
#include "sink/map.h"
#include "sink/map_prom.h"

#define PROM_TIMEOUT_MS 10000

/* SIDE_DNS: the client ends' names; SIDE_HIST: the ends' latency buckets */
enum { SIDE_CLIENT, SIDE_SERVER, SIDE_DNS, SIDE_HIST };
/* SIDE_HIST's families: w = side * H_N + which (no server connect latency) */
enum { H_CONNECT, H_RTT, H_DUR, H_N };
static const char *const hists[H_N] = { "connect", "rtt", "duration" };
/* a family's column: e.w (feed() sums them) */
enum { W_CONNS, W_SENT, W_RECV, W_ERRORS, W_RESETS, W_RETRANS, W_N };

static const char *const sides[2] = { "client", "server" };
static const char *const suffixes[W_N] = {
	"connections_total", "sent_bytes_total", "received_bytes_total", "errors_total",
	"resets_total", "retrans_segs_total",
};

/* @s percent-encoded for a query string, into @o (@len): -1 when it does not fit. */
static int url_encode(const char *s, char *o, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;

	for (; *s; s++) {
		unsigned char c = *s;

		if (k + 4 > len)
			return -1;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			o[k++] = c;
		} else {
			o[k++] = '%';
			o[k++] = hex[c >> 4];
			o[k++] = hex[c & 15];
		}
	}
	o[k] = 0;
	return 0;
}

/* The rows of one answer of /api/v1/query inserted: with -1 as @side, by @ins (?1 the
 * answer, ?2 @w); with SIDE_* @side, into the table "e" as column @w of @side, with SIDE_DNS into "d" (the
 * names of client ends' peers), with SIDE_HIST into "h" (the ends' latency buckets,
 * cumulative: family @w). */
static int read_answer(sqlite3 *db, const char *body, const char *ins, int side, int w,
		       char *err, size_t len)
{
#define HOST MAP_PROM_HOST
	static const char dns_sql[] =
		"INSERT INTO d SELECT " HOST ", json_extract(value, '$.metric.service'), "
		"json_extract(value, '$.metric.peer'), json_extract(value, '$.metric.dns'), "
		"CAST(json_extract(value, '$.value[1]') AS REAL) "
		"FROM json_each(?1, '$.data.result')";
	static const char hist_sql[] =
		"INSERT INTO h SELECT ?2, ?3, " HOST ", json_extract(value, '$.metric.service'), "
		"json_extract(value, '$.metric.local'), json_extract(value, '$.metric.peer'), "
		"json_extract(value, '$.metric.le'), "
		"CAST(json_extract(value, '$.value[1]') AS REAL) "
		"FROM json_each(?1, '$.data.result')";
	static const char status_sql[] =
		"SELECT json_valid(?1), json_extract(?1, '$.status'), json_extract(?1, '$.error')";
	/* an agent's overflow series has no service, local or peer: kept, counted apart */
	static const char rows_sql[] =
		"INSERT INTO e SELECT ?2, ?3, " HOST ", "
		"json_extract(value, '$.metric.service'), json_extract(value, '$.metric.local'), "
		"json_extract(value, '$.metric.peer'), "
		"CAST(json_extract(value, '$.value[1]') AS REAL) "
		"FROM json_each(?1, '$.data.result')";
#undef HOST
	sqlite3_stmt *q = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, status_sql, -1, &q, NULL) ||
	    sqlite3_bind_text(q, 1, body, -1, SQLITE_STATIC) || sqlite3_step(q) != SQLITE_ROW) {
		snprintf(err, len, "reading the answer: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (!sqlite3_column_int(q, 0)) {
		snprintf(err, len, "the answer is not JSON: not Prometheus' query API?");
		goto out;
	}
	if (!sqlite3_column_text(q, 1) || strcmp((const char *)sqlite3_column_text(q, 1),
						 "success")) {
		snprintf(err, len, "Prometheus said: %.200s", sqlite3_column_text(q, 2) ?
			 (const char *)sqlite3_column_text(q, 2) : "(no error given)");
		goto out;
	}
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(db, side < 0 ? ins : side == SIDE_DNS ? dns_sql :
				   side == SIDE_HIST ? hist_sql : rows_sql, -1, &q, NULL) ||
	    sqlite3_bind_text(q, 1, body, -1, SQLITE_STATIC) ||
	    (side < 0 && sqlite3_bind_int(q, 2, w)) ||
	    (side >= 0 && side < SIDE_DNS &&
	     (sqlite3_bind_int(q, 2, side) || sqlite3_bind_int(q, 3, w))) ||
	    (side == SIDE_HIST &&
	     (sqlite3_bind_int(q, 2, w / H_N) || sqlite3_bind_int(q, 3, w % H_N))) ||
	    sqlite3_step(q) != SQLITE_DONE) {
		snprintf(err, len, "reading the answer: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

/* Family @fam summed by @by into "e", "d", "h" (@side, @w: read_answer) or by @ins. */
static int get(const struct ks_http_url *u, sqlite3 *db, const char *by, const char *fam,
	       uint64_t since_s, const char *ins, int side, int w, char *err, size_t len)
{
	char promql[256], enc[768], target[2048], e2[256];
	const char *base = u->path;
	size_t bl = strlen(base);
	char *body = NULL;
	size_t blen;
	int code, rc;

	if (since_s)
		snprintf(promql, sizeof(promql), "sum by (%s) (increase(%s[%llus]))", by, fam,
			 (unsigned long long)since_s);
	else
		snprintf(promql, sizeof(promql), "sum by (%s) (%s)", by, fam);
	if (url_encode(promql, enc, sizeof(enc)) ||
	    snprintf(target, sizeof(target), "%.*s/api/v1/query?query=%s",
		     (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base, enc) >=
		    (int)sizeof(target)) {
		snprintf(err, len, "--prometheus: the URL's path is too long");
		return -1;
	}
	if (ks_http_get(u, target, PROM_TIMEOUT_MS, &code, &body, &blen, e2, sizeof(e2))) {
		snprintf(err, len, "--prometheus: %s", e2);
		return -1;
	}
	if (code != 200 && code != 400 && code != 422) {	/* the API's own errors are JSON */
		snprintf(err, len, "--prometheus: %s answered %d to %s", u->hostport, code,
			 target);
		free(body);
		return -1;
	}
	rc = read_answer(db, body, ins, side, w, e2, sizeof(e2));
	if (rc)
		snprintf(err, len, "--prometheus %s: %s", u->hostport, e2);
	free(body);
	return rc;
}

int ks_map_prom_query(const struct ks_http_url *u, sqlite3 *db, const char *by,
		      const char *fam, uint64_t since_s, const char *ins, int w, char *err,
		      size_t len)
{
	return get(u, db, by, fam, since_s, ins, -1, w, err, len);
}

/* One family's sums by host and edge: the counters now (@since_s 0), or their increase
 * over the last @since_s seconds. SIDE_DNS: the client ends' names, by host, service, peer
 * and name; SIDE_HIST: the buckets of latency family @w, by host, edge and bound. */
static int query(const struct ks_http_url *u, sqlite3 *db, int side, int w, uint64_t since_s,
		 char *err, size_t len)
{
	const char *by = side == SIDE_DNS  ? "host, instance, service, peer, dns" :
			 side == SIDE_HIST ? "host, instance, service, local, peer, le" :
					     "host, instance, service, local, peer";
	char fam[64];

	if (side == SIDE_DNS)
		snprintf(fam, sizeof(fam), "ksight_tcp_client_dns_connections_total");
	else if (side == SIDE_HIST)
		snprintf(fam, sizeof(fam), "ksight_tcp_%s_%s_seconds_bucket", sides[w / H_N],
			 hists[w % H_N]);
	else
		snprintf(fam, sizeof(fam), "ksight_tcp_%s_%s", sides[side], suffixes[w]);
	return get(u, db, by, fam, since_s, NULL, side, w, err, len);
}

const char *ks_map_prom_node(char *out, size_t len, const char *svc, const char *host,
			     bool by_host)
{
	if (by_host && host && host[0])
		snprintf(out, len, "%s@%s", svc, host);
	else
		snprintf(out, len, "%s", svc);
	return out;
}

void ks_map_prom_split(const char *s, char *addr, size_t len, uint16_t *port)
{
	const char *colon = strchr(s, ':'), *rb = strchr(s, ']');

	*port = 0;
	if (s[0] == '[' && rb && rb[1] == ':') {
		snprintf(addr, len, "%.*s", (int)(rb - s - 1), s + 1);
		*port = atoi(rb + 2);
	} else if (colon && !strchr(colon + 1, ':')) {
		snprintf(addr, len, "%.*s", (int)(colon - s), s);
		*port = atoi(colon + 1);
	} else {
		snprintf(addr, len, "%s", s);
	}
}

#define MAX_BUCKETS MAP_PROM_MAX_BUCKETS

long ks_map_prom_buckets(sqlite3_stmt *h, struct ks_svcmap_bucket *b)
{
	double prev = 0, v;
	long n = 0;
	int step;

	while ((step = sqlite3_step(h)) == SQLITE_ROW && n < MAX_BUCKETS) {
		const char *le = (const char *)sqlite3_column_text(h, 0);
		uint64_t le_ns;

		v = sqlite3_column_double(h, 1);
		if (!le || !strcmp(le, "+Inf"))
			le_ns = n ? b[n - 1].le_ns : 0;
		else
			le_ns = (uint64_t)(strtod(le, NULL) * 1e9 + 0.5);
		/* increase() extrapolates each bucket alone: rounded, never below the last */
		b[n].n = v > prev ? (uint64_t)(v - prev + 0.5) : 0;
		b[n++].le_ns = le_ns;
		if (v > prev)
			prev = v;
	}
	return step == SQLITE_ROW || step == SQLITE_DONE ? n : -1;
}

/* The buckets of latency @which of the end (@side; @k: host, service, local, peer) from
 * "h" into @b (ks_map_prom_buckets). */
static long end_buckets(sqlite3_stmt *h, const unsigned char *k[4], int side, int which,
			struct ks_svcmap_bucket *b)
{
	sqlite3_reset(h);
	for (int i = 0; i < 4; i++)
		if (sqlite3_bind_text(h, i + 1, (const char *)k[i], -1, SQLITE_TRANSIENT))
			return -1;
	if (sqlite3_bind_int(h, 5, side) || sqlite3_bind_int(h, 6, which))
		return -1;
	return ks_map_prom_buckets(h, b);
}

/* The latency buckets of the end @q's row names into @c (in @b): its connect latencies
 * (a client end's), RTTs and durations. -1 on SQLite's failure. */
static int end_hists(sqlite3_stmt *h, sqlite3_stmt *q, struct ks_svcmap_conn *c,
		     struct ks_svcmap_bucket b[H_N][MAX_BUCKETS])
{
	const unsigned char *k[4] = { sqlite3_column_text(q, 1), sqlite3_column_text(q, 2),
				      sqlite3_column_text(q, 3), sqlite3_column_text(q, 4) };
	int side = sqlite3_column_int(q, 0);
	long n[H_N] = { 0 };

	for (int i = 0; i < H_N; i++)
		if ((side == SIDE_CLIENT || i != H_CONNECT) &&
		    (n[i] = end_buckets(h, k, side, i, b[i])) < 0)
			return -1;
	c->connect_hist = b[H_CONNECT];
	c->nconnect_hist = n[H_CONNECT];
	c->rtt_hist = b[H_RTT];
	c->nrtt_hist = n[H_RTT];
	c->dur_hist = b[H_DUR];
	c->ndur_hist = n[H_DUR];
	return 0;
}

/* The table's rows summed per end (host, service, endpoints) as weighted session ends of
 * @m, node names "SERVICE@HOST" with @by_host; the overflow series' sessions unplaced.
 * Counts are rounded: increase() extrapolates; NaN and negatives are 0. */
static int feed(sqlite3 *db, struct ks_svcmap *m, bool by_host, int64_t at_ns)
{
#define SUM_OF(w) "CAST(round(max(coalesce(sum(v) FILTER (WHERE w = " #w "), 0), 0)) AS INTEGER)"
	/* a client end's peer takes the name its host counted most sessions to it under */
	static const char ends_sql[] =
		"SELECT side, host, service, local, peer, " SUM_OF(0) ", " SUM_OF(1) ", " SUM_OF(2)
		", " SUM_OF(3) ", " SUM_OF(4) ", " SUM_OF(5) ", CASE WHEN side = 0 THEN "
		"(SELECT dns FROM d WHERE d.host = e.host AND d.service = e.service AND "
		"d.peer = e.peer AND dns IS NOT NULL AND dns != '' ORDER BY v DESC, dns LIMIT 1) "
		"END FROM e WHERE service IS NOT NULL AND local IS NOT NULL AND peer IS NOT NULL "
		"GROUP BY side, host, service, local, peer";
	static const char overflow_sql[] =
		"SELECT " SUM_OF(0) " FROM e WHERE service IS NULL OR local IS NULL OR peer IS NULL";
#undef SUM_OF
	static const char hist_sql[] =
		"SELECT le, v FROM h WHERE host = ?1 AND service = ?2 AND local = ?3 AND "
		"peer = ?4 AND side = ?5 AND w = ?6 ORDER BY le = '+Inf', CAST(le AS REAL)";
	struct ks_svcmap_bucket b[H_N][MAX_BUCKETS];
	sqlite3_stmt *q = NULL, *h = NULL;
	int rc = -ENOMEM, step;

	if (sqlite3_prepare_v2(db, ends_sql, -1, &q, NULL) ||
	    sqlite3_prepare_v2(db, hist_sql, -1, &h, NULL))
		goto out;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *host = (const char *)sqlite3_column_text(q, 1);
		const char *svc = (const char *)sqlite3_column_text(q, 2);
		char la[KS_SVCMAP_ADDR], ra[KS_SVCMAP_ADDR], name[KS_SVCMAP_NAME];
		struct ks_svcmap_conn c = { .end_ns = at_ns, .service = name };

		c.count = sqlite3_column_int64(q, 5);
		if (!c.count)
			continue;	/* bytes of sessions counted before the window */
		ks_map_prom_node(name, sizeof(name), svc, host, by_host);
		ks_map_prom_split((const char *)sqlite3_column_text(q, 3), la, sizeof(la), &c.lport);
		ks_map_prom_split((const char *)sqlite3_column_text(q, 4), ra, sizeof(ra), &c.rport);
		c.laddr = la;
		c.raddr = ra;
		c.side = sqlite3_column_int(q, 0) == SIDE_CLIENT ? KS_SIDE_CLIENT : KS_SIDE_SERVER;
		c.tx = sqlite3_column_int64(q, 6);
		c.rx = sqlite3_column_int64(q, 7);
		c.errors = sqlite3_column_int64(q, 8);
		c.resets = sqlite3_column_int64(q, 9);
		c.retrans = sqlite3_column_int64(q, 10);
		c.rdns = (const char *)sqlite3_column_text(q, 11);
		if (end_hists(h, q, &c, b))
			goto out;
		if (ks_svcmap__add(m, &c))
			goto out;
	}
	if (step != SQLITE_DONE)
		goto out;
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(db, overflow_sql, -1, &q, NULL) || sqlite3_step(q) != SQLITE_ROW)
		goto out;
	m->unplaced += sqlite3_column_int64(q, 0);
	rc = ks_svcmap__build(m);
out:
	sqlite3_finalize(h);
	sqlite3_finalize(q);
	return rc;
}

int ks_map_prom_load(const char *url, uint64_t since_s, bool by_host, int64_t at_ns,
		     struct ks_svcmap *m, char *err, size_t len)
{
	struct ks_http_url u;
	sqlite3 *db = NULL;
	int rc = -1;

	if (ks_http_url_parse("--prometheus", "/", url, &u, err, len))
		return -1;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY,
			    NULL) ||
	    sqlite3_exec(db, "CREATE TABLE e (side, w, host, service, local, peer, v); "
			 "CREATE TABLE d (host, service, peer, dns, v); "
			 "CREATE TABLE h (side, w, host, service, local, peer, le, v)", NULL, NULL, NULL)) {
		snprintf(err, len, "SQLite: %s", db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	for (int side = 0; side < 2; side++)
		for (int w = 0; w < W_N; w++)
			if (query(&u, db, side, w, since_s, err, len))
				goto out;
	if (query(&u, db, SIDE_DNS, 0, since_s, err, len) ||
	    ks_map_prom_udp(&u, db, since_s, by_host, at_ns, m, err, len) ||
	    ks_map_prom_req(&u, db, since_s, by_host, at_ns, m, err, len) ||
	    ks_map_prom_spawns(&u, db, since_s, by_host, at_ns, m, err, len))
		goto out;
	for (int w = 0; w < 2 * H_N; w++)
		if (w != SIDE_SERVER * H_N + H_CONNECT &&
		    query(&u, db, SIDE_HIST, w, since_s, err, len))
			goto out;
	if (feed(db, m, by_host, at_ns)) {
		snprintf(err, len, "building the map: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(db);
	return rc;
}
