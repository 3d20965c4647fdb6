// SPDX-License-Identifier: GPL-2.0
/*
 * The requests on the fleet's TCP edges (`ksight map --prometheus`): each agent counts its
 * req module's rows per edge (modules/req_edges.c), a client end's as (service, the
 * server's ADDR:PORT, protocol), a server end's whose client its host did not count as
 * (service, its port, the client's address, protocol): requests, errors and latency
 * buckets. Summed by host and those labels (over the protocols: an edge has one set of
 * request figures), each end becomes one request row of the map, which core/svcmap_req.c
 * joins as it joins the store's req_row records: a client row onto the edge its client
 * end's sessions made (to the server's node where Prometheus has the server's host, else
 * to the remote ADDR:PORT), a server row onto the edge from its remote client's address
 * only. A request seen by the agents of both hosts is so counted once, at the client.
 * An agent's overflow series (no service or peer) are rows on no edge, counted as such.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/map_prom.h"

static const char *const sides[2] = { "client", "server" };
static const char *const whats[2] = { "requests", "errors" };

/* The ends' rows summed into @m, with their latency buckets. */
static int feed(sqlite3 *db, struct ks_svcmap *m, bool by_host, int64_t at_ns)
{
#define SUM_OF(w) "CAST(round(max(coalesce(sum(v) FILTER (WHERE w = " #w "), 0), 0)) AS INTEGER)"
	static const char ends_sql[] =
		"SELECT side, host, service, port, peer, " SUM_OF(0) ", " SUM_OF(1) " FROM rq "
		"GROUP BY side, host, service, port, peer";
#undef SUM_OF
	static const char hist_sql[] =
		"SELECT le, v FROM rqh WHERE side = ?1 AND host = ?2 AND service = ?3 AND "
		"port = ?4 AND peer = ?5 ORDER BY le = '+Inf', CAST(le AS REAL)";
	struct ks_svcmap_bucket b[MAP_PROM_MAX_BUCKETS];
	sqlite3_stmt *q = NULL, *h = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(db, ends_sql, -1, &q, NULL) ||
	    sqlite3_prepare_v2(db, hist_sql, -1, &h, NULL))
		goto out;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *host = (const char *)sqlite3_column_text(q, 1);
		const char *svc = (const char *)sqlite3_column_text(q, 2);
		const char *port = (const char *)sqlite3_column_text(q, 3);
		const char *peer = (const char *)sqlite3_column_text(q, 4);
		char name[KS_SVCMAP_NAME], addr[KS_SVCMAP_ADDR];
		struct ks_svcmap_req r = { .ts_ns = at_ns, .raddr = addr };
		long n = 0;

		r.requests = sqlite3_column_int64(q, 5);
		r.errors = sqlite3_column_int64(q, 6);
		if (!r.requests)
			continue;	/* none in the window */
		r.server = sqlite3_column_int(q, 0) == 1;
		addr[0] = 0;
		if (svc && peer && host) {
			r.service = ks_map_prom_node(name, sizeof(name), svc, host, by_host);
			if (r.server) {
				snprintf(addr, sizeof(addr), "%s", peer);
				r.lport = port ? atoi(port) : 0;
			} else {
				ks_map_prom_split(peer, addr, sizeof(addr), &r.rport);
			}
			sqlite3_reset(h);
			if (sqlite3_bind_int(h, 1, r.server) ||
			    sqlite3_bind_text(h, 2, host, -1, SQLITE_TRANSIENT) ||
			    sqlite3_bind_text(h, 3, svc, -1, SQLITE_TRANSIENT) ||
			    sqlite3_bind_text(h, 4, port ? port : "", -1, SQLITE_TRANSIENT) ||
			    sqlite3_bind_text(h, 5, peer, -1, SQLITE_TRANSIENT) ||
			    (n = ks_map_prom_buckets(h, b)) < 0)
				goto out;
		}
		r.hist = b;
		r.nhist = n;
		if (ks_svcmap__add_req(m, &r))
			goto out;
	}
	rc = step == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(h);
	sqlite3_finalize(q);
	return rc;
}

int ks_map_prom_req(const struct ks_http_url *u, sqlite3 *db, uint64_t since_s, bool by_host,
		    int64_t at_ns, struct ks_svcmap *m, char *err, size_t len)
{
	/* ?2: side * 2 + which counter; a client end has no port ('') */
	static const char ins[] =
		"INSERT INTO rq SELECT ?2 / 2, ?2 % 2, " MAP_PROM_HOST ", "
		"json_extract(value, '$.metric.service'), "
		"coalesce(json_extract(value, '$.metric.port'), ''), "
		"json_extract(value, '$.metric.peer'), "
		"CAST(json_extract(value, '$.value[1]') AS REAL) "
		"FROM json_each(?1, '$.data.result')";
	/* ?2: the side */
	static const char hist_ins[] =
		"INSERT INTO rqh SELECT ?2, " MAP_PROM_HOST ", "
		"json_extract(value, '$.metric.service'), "
		"coalesce(json_extract(value, '$.metric.port'), ''), "
		"json_extract(value, '$.metric.peer'), json_extract(value, '$.metric.le'), "
		"CAST(json_extract(value, '$.value[1]') AS REAL) "
		"FROM json_each(?1, '$.data.result')";
	char fam[64], by[64];

	if (sqlite3_exec(db, "CREATE TABLE rq (side, w, host, service, port, peer, v); "
			 "CREATE TABLE rqh (side, host, service, port, peer, le, v)", NULL, NULL,
			 NULL)) {
		snprintf(err, len, "SQLite: %s", sqlite3_errmsg(db));
		return -1;
	}
	for (int s = 0; s < 2; s++) {
		const char *labels = s ? "host, instance, service, port, peer" :
					 "host, instance, service, peer";

		for (int w = 0; w < 2; w++) {
			snprintf(fam, sizeof(fam), "ksight_req_%s_%s_total", sides[s], whats[w]);
			if (ks_map_prom_query(u, db, labels, fam, since_s, ins, s * 2 + w, err, len))
				return -1;
		}
		snprintf(fam, sizeof(fam), "ksight_req_%s_latency_seconds_bucket", sides[s]);
		snprintf(by, sizeof(by), "%s, le", labels);
		if (ks_map_prom_query(u, db, by, fam, since_s, hist_ins, s, err, len))
			return -1;
	}
	if (feed(db, m, by_host, at_ns)) {
		snprintf(err, len, "the requests on the edges: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}
