/* SPDX-License-Identifier: GPL-2.0 */
/* What map_prom.c (the fleet's TCP edges), map_prom_udp.c (its UDP edges),
 * map_prom_req.c (the requests on its TCP edges) and map_prom_spawn.c (its spawn edges)
 * share. */
#ifndef KSIGHT_MAP_PROM_H
#define KSIGHT_MAP_PROM_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/svcmap.h"
#include "sink/http_conn.h"

/* A series' host: the agent's --host-label, else Prometheus' instance (SQL, on json_each). */
#define MAP_PROM_HOST "coalesce(json_extract(value, '$.metric.host'), " \
	"json_extract(value, '$.metric.instance'), '')"

/*
 * Family @fam of the Prometheus server @u summed by the labels @by (now with @since_s 0,
 * else its increase() over the last @since_s seconds), the answer's rows inserted into
 * @db by the statement @ins: ?1 the answer's JSON (rows: json_each(?1, '$.data.result')),
 * ?2 @w. Returns 0, or -1 with one line in @err.
 */
int ks_map_prom_query(const struct ks_http_url *u, sqlite3 *db, const char *by,
		      const char *fam, uint64_t since_s, const char *ins, int w, char *err,
		      size_t len);

/* The node of service @svc of host @host into @out (@len): "SERVICE@HOST" with @by_host
 * and a host (NULL or "": none), else "SERVICE". Returns @out. */
const char *ks_map_prom_node(char *out, size_t len, const char *svc, const char *host,
			     bool by_host);

/* "ADDR:PORT" or "[V6]:PORT" into @addr and *@port; "ADDR" (v4 or bare v6): port 0. */
void ks_map_prom_split(const char *s, char *addr, size_t len, uint16_t *port);

#define MAP_PROM_MAX_BUCKETS 72	/* a log2 histogram's 64 and then some */

/*
 * The rows of the prepared statement @h, (le, cumulative count) in order of le with
 * "+Inf" last, into @b (MAP_PROM_MAX_BUCKETS) as counts per bucket: how many. A +Inf
 * bucket's count stands for the highest finite bound (at least that); increase()
 * extrapolates each bucket alone: rounded, never below the one before. -1 on SQLite's
 * failure.
 */
long ks_map_prom_buckets(sqlite3_stmt *h, struct ks_svcmap_bucket *b);

/*
 * The requests on the fleet's TCP edges (map_prom_req.c): the agents' per-edge request
 * counters and latency buckets from @u into @db's own tables, each end's as one request
 * row of @m (not built) under the node name of map_prom.c's ends ("SERVICE@HOST" with
 * @by_host). Returns 0, or -1 with one line in @err.
 */
int ks_map_prom_req(const struct ks_http_url *u, sqlite3 *db, uint64_t since_s, bool by_host,
		    int64_t at_ns, struct ks_svcmap *m, char *err, size_t len);

/*
 * The fleet's spawn edges (map_prom_spawn.c): the agents' ksight_exec_spawns_total from
 * @u into @db's own table, each (host, service, child) one weighted exec of @m (not
 * built). Returns 0, or -1 with one line in @err.
 */
int ks_map_prom_spawns(const struct ks_http_url *u, sqlite3 *db, uint64_t since_s, bool by_host,
		       int64_t at_ns, struct ks_svcmap *m, char *err, size_t len);

/*
 * The fleet's UDP edges (map_prom_udp.c): the agents' per-edge UDP counters from @u into
 * @db's own table, a client end and the server end that name each other crosswise paired,
 * each end or pair one flow of @m (not built), nodes "SERVICE@HOST" with @by_host.
 * Returns 0, or -1 with one line in @err.
 */
int ks_map_prom_udp(const struct ks_http_url *u, sqlite3 *db, uint64_t since_s, bool by_host,
		    int64_t at_ns, struct ks_svcmap *m, char *err, size_t len);

#endif
