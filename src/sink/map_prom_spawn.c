// SPDX-License-Identifier: GPL-2.0
/*
 * The fleet's spawn edges (`ksight map --prometheus`): each agent counts the execs that
 * took a task from one service into another (modules/exec.c,
 * ksight_exec_spawns_total{service, child}); summed by host and the two, each is a spawn
 * edge parent -> child of that many execs, both nodes on that host ("SERVICE@HOST" with
 * --by-host), as one machine's map has them from the store's exec records.
 */
#include <stdio.h>

#include "sink/map_prom.h"

int ks_map_prom_spawns(const struct ks_http_url *u, sqlite3 *db, uint64_t since_s, bool by_host,
		       int64_t at_ns, struct ks_svcmap *m, char *err, size_t len)
{
	/* ?2: unused (the query's second parameter) */
	static const char ins[] =
		"INSERT INTO sp SELECT ?2, " MAP_PROM_HOST ", "
		"json_extract(value, '$.metric.service'), json_extract(value, '$.metric.child'), "
		"CAST(json_extract(value, '$.value[1]') AS REAL) "
		"FROM json_each(?1, '$.data.result')";
	/* increase() extrapolates: rounded; an overflow series (no labels) makes no edge */
	static const char rows_sql[] =
		"SELECT host, service, child, CAST(round(max(sum(v), 0)) AS INTEGER) FROM sp "
		"WHERE service IS NOT NULL AND child IS NOT NULL GROUP BY host, service, child";
	sqlite3_stmt *q = NULL;
	int rc = -1, step;

	if (sqlite3_exec(db, "CREATE TABLE sp (w, host, service, child, v)", NULL, NULL, NULL)) {
		snprintf(err, len, "SQLite: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (ks_map_prom_query(u, db, "host, instance, service, child", "ksight_exec_spawns_total",
			      since_s, ins, 0, err, len))
		return -1;
	if (sqlite3_prepare_v2(db, rows_sql, -1, &q, NULL))
		goto out;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *host = (const char *)sqlite3_column_text(q, 0);
		const char *svc = (const char *)sqlite3_column_text(q, 1);
		const char *child = (const char *)sqlite3_column_text(q, 2);
		char from[KS_SVCMAP_NAME], to[KS_SVCMAP_NAME];
		struct ks_svcmap_exec x = { .ts_ns = at_ns, .from = from, .to = to };

		x.count = sqlite3_column_int64(q, 3);
		if (!x.count)
			continue;	/* none in the window */
		ks_map_prom_node(from, sizeof(from), svc, host, by_host);
		ks_map_prom_node(to, sizeof(to), child, host, by_host);
		if (ks_svcmap__add_exec(m, &x))
			goto out;
	}
	rc = step == SQLITE_DONE ? 0 : -1;
out:
	if (rc)
		snprintf(err, len, "the spawn edges: %s", sqlite3_errmsg(db));
	sqlite3_finalize(q);
	return rc;
}
