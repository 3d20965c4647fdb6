// SPDX-License-Identifier: GPL-2.0
/*
 * The fleet's UDP edges (`ksight map --prometheus`): each agent counts its flows' datagrams
 * and bytes per edge (modules/udp_edges.c) with the TCP edges' labels, a client end as
 * (service, its address, the server's ADDR:PORT), a server end as (service, its
 * ADDR:PORT, the client's address). Summed by host and those labels (an in-memory SQLite
 * table, as map_prom.c's), a client end and the server end that name each other crosswise
 * are one flow seen at both ends; an end that no other names is one seen at its side
 * alone, its other end a remote node. The pairing is done here, not by the map's own UDP
 * rule (mirrored ports, core/svcmap_udp.c): the fleet's client ends have no port. A
 * client end's server takes the DNS name its agent counted most datagrams under
 * (ksight_udp_client_dns_datagrams_total), as the TCP edges' take theirs.
 */
#include <stdio.h>
#include <string.h>

#include "sink/map_prom.h"

static const char *const sides[2] = { "client", "server" };
static const char *const whats[4] = {
	"sent_datagrams", "sent_bytes", "received_datagrams", "received_bytes",
};

/* An end of "ue" (by rowid @id) into @r, its node's name in @name, its endpoints split
 * into @a (the peer's address for a client end, the client's for a server end) and the
 * ports, a client end's peer's DNS name in @dns. 0, or -1 when SQLite fails. */
static int end_of(sqlite3_stmt *q, sqlite3_int64 id, bool by_host, int64_t at_ns,
		  struct ks_svcmap_udp *r, char *name, size_t nlen, char *a, size_t alen,
		  char dns[KS_SVCMAP_NAME])
{
	const char *d;

	const char *host, *svc;
	char scratch[KS_SVCMAP_ADDR];
	uint16_t port;
	int side;

	sqlite3_reset(q);
	if (sqlite3_bind_int64(q, 1, id) || sqlite3_step(q) != SQLITE_ROW)
		return -1;
	side = sqlite3_column_int(q, 0);
	host = (const char *)sqlite3_column_text(q, 1);
	svc = (const char *)sqlite3_column_text(q, 2);
	ks_map_prom_node(name, nlen, svc, host, by_host);
	*r = (struct ks_svcmap_udp){ .ts_ns = at_ns, .service = name, .raddr = a };
	if (side == 0) {
		ks_map_prom_split((const char *)sqlite3_column_text(q, 4), a, alen, &r->rport);
	} else {
		ks_map_prom_split((const char *)sqlite3_column_text(q, 3), scratch,
				  sizeof(scratch), &r->lport);
		ks_map_prom_split((const char *)sqlite3_column_text(q, 4), a, alen, &port);
	}
	r->tx_dgrams = sqlite3_column_int64(q, 5);
	r->tx_bytes = sqlite3_column_int64(q, 6);
	r->rx_dgrams = sqlite3_column_int64(q, 7);
	r->rx_bytes = sqlite3_column_int64(q, 8);
	d = (const char *)sqlite3_column_text(q, 9);
	if (d) {
		snprintf(dns, KS_SVCMAP_NAME, "%s", d);
		r->rdns = dns;
	}
	return 0;
}

/* Each client end with the server end that names it (the busiest if more than one), then
 * the server ends that none names, into @m. */
static int feed(sqlite3 *db, struct ks_svcmap *m, bool by_host, int64_t at_ns)
{
#define SUM_OF(w) "CAST(round(max(coalesce(sum(v) FILTER (WHERE w = " #w "), 0), 0)) AS INTEGER)"
	/* a client end's peer takes the name its host counted most datagrams to it under */
	static const char ends_sql[] =
		"CREATE TABLE ue AS SELECT side, host, service, local, peer, " SUM_OF(0) " AS txd, "
		SUM_OF(1) " AS txb, " SUM_OF(2) " AS rxd, " SUM_OF(3) " AS rxb, CASE WHEN side = 0 "
		"THEN (SELECT dns FROM ud WHERE ud.host = u.host AND ud.service = u.service AND "
		"ud.peer = u.peer AND dns IS NOT NULL AND dns != '' ORDER BY v DESC, dns LIMIT 1) "
		"END AS dns FROM u WHERE service IS NOT NULL AND local IS NOT NULL AND "
		"peer IS NOT NULL GROUP BY side, host, service, local, peer";
#undef SUM_OF
	/* an agent's overflow series has no service, local or peer: counted apart */
	static const char overflow_sql[] =
		"SELECT count(DISTINCT side || host) FROM u WHERE service IS NULL OR "
		"local IS NULL OR peer IS NULL";
	static const char pairs_sql[] =
		"SELECT c.rowid, (SELECT s.rowid FROM ue s WHERE s.side = 1 AND s.local = c.peer "
		"AND s.peer = c.local AND s.txd + s.rxd > 0 ORDER BY s.rxd DESC, s.rowid LIMIT 1) "
		"FROM ue c WHERE c.side = 0 AND c.txd + c.rxd > 0 UNION ALL "
		"SELECT NULL, s.rowid FROM ue s WHERE s.side = 1 AND s.txd + s.rxd > 0 AND "
		"NOT EXISTS (SELECT 1 FROM ue c WHERE c.side = 0 AND c.peer = s.local AND "
		"c.local = s.peer AND c.txd + c.rxd > 0)";
	static const char end_sql[] =
		"SELECT side, host, service, local, peer, txd, txb, rxd, rxb, dns FROM ue "
		"WHERE rowid = ?1";
	char cn[KS_SVCMAP_NAME], sn[KS_SVCMAP_NAME], ca[KS_SVCMAP_ADDR], sa[KS_SVCMAP_ADDR];
	char cd[KS_SVCMAP_NAME], sd[KS_SVCMAP_NAME];
	sqlite3_stmt *q = NULL, *e = NULL;
	int rc = -1, step;

	if (sqlite3_exec(db, ends_sql, NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db, overflow_sql, -1, &q, NULL) || sqlite3_step(q) != SQLITE_ROW)
		goto out;
	m->udp_in += sqlite3_column_int64(q, 0);
	m->udp_unplaced += sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db, pairs_sql, -1, &q, NULL) ||
	    sqlite3_prepare_v2(db, end_sql, -1, &e, NULL))
		goto out;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		bool hc = sqlite3_column_type(q, 0) != SQLITE_NULL;
		bool hs = sqlite3_column_type(q, 1) != SQLITE_NULL;
		struct ks_svcmap_udp c, s;

		if ((hc && end_of(e, sqlite3_column_int64(q, 0), by_host, at_ns, &c, cn,
				  sizeof(cn), ca, sizeof(ca), cd)) ||
		    (hs && end_of(e, sqlite3_column_int64(q, 1), by_host, at_ns, &s, sn,
				  sizeof(sn), sa, sizeof(sa), sd)) ||
		    ks_svcmap__add_udp_pair(m, hc ? &c : NULL, hs ? &s : NULL))
			goto out;
	}
	rc = step == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(e);
	sqlite3_finalize(q);
	return rc;
}

int ks_map_prom_udp(const struct ks_http_url *u, sqlite3 *db, uint64_t since_s, bool by_host,
		    int64_t at_ns, struct ks_svcmap *m, char *err, size_t len)
{
	static const char ins[] =
		"INSERT INTO u SELECT ?2 / 4, ?2 % 4, " MAP_PROM_HOST ", "
		"json_extract(value, '$.metric.service'), json_extract(value, '$.metric.local'), "
		"json_extract(value, '$.metric.peer'), "
		"CAST(json_extract(value, '$.value[1]') AS REAL) "
		"FROM json_each(?1, '$.data.result')";
	/* the client ends' names (w: unused, the query's second parameter) */
	static const char dns_ins[] =
		"INSERT INTO ud SELECT ?2, " MAP_PROM_HOST ", "
		"json_extract(value, '$.metric.service'), json_extract(value, '$.metric.peer'), "
		"json_extract(value, '$.metric.dns'), "
		"CAST(json_extract(value, '$.value[1]') AS REAL) "
		"FROM json_each(?1, '$.data.result')";
	char fam[64];

	if (sqlite3_exec(db, "CREATE TABLE u (side, w, host, service, local, peer, v); "
			 "CREATE TABLE ud (w, host, service, peer, dns, v)", NULL, NULL, NULL)) {
		snprintf(err, len, "SQLite: %s", sqlite3_errmsg(db));
		return -1;
	}
	for (int w = 0; w < 8; w++) {
		snprintf(fam, sizeof(fam), "ksight_udp_%s_%s_total", sides[w / 4], whats[w % 4]);
		if (ks_map_prom_query(u, db, "host, instance, service, local, peer", fam, since_s,
				      ins, w, err, len))
			return -1;
	}
	if (ks_map_prom_query(u, db, "host, instance, service, peer, dns",
			      "ksight_udp_client_dns_datagrams_total", since_s, dns_ins, 0, err, len))
		return -1;
	if (feed(db, m, by_host, at_ns)) {
		snprintf(err, len, "the UDP edges: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}
