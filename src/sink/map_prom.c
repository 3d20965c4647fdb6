// SPDX-License-Identifier: GPL-2.0
/*
 * `ksight map --prometheus URL`: the fleet's map from a Prometheus server that scrapes the
 * agents of many hosts (each `ksight run --host-label NAME`). Each agent counts its closed
 * TCP sessions per edge (modules/tcp_edges.c): a client end as (service, its address, the
 * server's ADDR:PORT), a server end as (service, its ADDR:PORT, the client's address).
 * Queried per family (connections, bytes sent, bytes received; client and server ends),
 * summed by host and those labels, each row becomes one weighted session end of the
 * ordinary map (core/svcmap.h), so that a client end on one host and the server end on
 * another name the same endpoints crosswise and pair into one edge, seen "both", as two
 * ends on one machine do. The answer's JSON is read with SQLite's JSON functions (the
 * store's library): no parser of our own.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/http_conn.h"
#include "sink/map.h"

#define PROM_TIMEOUT_MS 10000

enum { SIDE_CLIENT, SIDE_SERVER };
enum { W_CONNS, W_SENT, W_RECV };

static const char *const families[2][3] = {
	{ "ksight_tcp_client_connections_total", "ksight_tcp_client_sent_bytes_total",
	  "ksight_tcp_client_received_bytes_total" },
	{ "ksight_tcp_server_connections_total", "ksight_tcp_server_sent_bytes_total",
	  "ksight_tcp_server_received_bytes_total" },
};

/* One edge end of one host, its three sums. */
struct prow {
	int side;
	char *host, *service, *local, *peer;
	uint64_t v[3];
};

struct prows {
	struct prow *r;
	size_t n, cap;
	uint64_t overflow;	/* series past an agent's budget: no labels to place them */
};

static void prows_free(struct prows *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->r[i].host);
		free(p->r[i].service);
		free(p->r[i].local);
		free(p->r[i].peer);
	}
	free(p->r);
}

static struct prow *prow_get(struct prows *p, int side, const char *host, const char *svc,
			     const char *local, const char *peer)
{
	struct prow *r;

	/* a few hundred rows per host: a scan is enough */
	for (size_t i = 0; i < p->n; i++) {
		r = &p->r[i];
		if (r->side == side && !strcmp(r->host, host) && !strcmp(r->service, svc) &&
		    !strcmp(r->local, local) && !strcmp(r->peer, peer))
			return r;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct prow *nr = realloc(p->r, cap * sizeof(*nr));

		if (!nr)
			return NULL;
		p->r = nr;
		p->cap = cap;
	}
	r = &p->r[p->n];
	memset(r, 0, sizeof(*r));
	r->side = side;
	r->host = strdup(host);
	r->service = strdup(svc);
	r->local = strdup(local);
	r->peer = strdup(peer);
	if (!r->host || !r->service || !r->local || !r->peer) {
		free(r->host);
		free(r->service);
		free(r->local);
		free(r->peer);
		return NULL;
	}
	p->n++;
	return r;
}

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

/* A sample's value as a count: increase() extrapolates, NaN and negatives are 0 */
static uint64_t rounded(double v)
{
	return v > 0 && v < 1.8e19 ? (uint64_t)(v + 0.5) : 0;
}

/* The rows of one answer of /api/v1/query into @p's column @w of @side. */
static int read_answer(sqlite3 *db, const char *body, int side, int w, struct prows *p,
		       char *err, size_t len)
{
	static const char status_sql[] =
		"SELECT json_valid(?1), json_extract(?1, '$.status'), json_extract(?1, '$.error')";
	static const char rows_sql[] =
		"SELECT coalesce(json_extract(value, '$.metric.host'), "
		"json_extract(value, '$.metric.instance'), ''), "
		"json_extract(value, '$.metric.service'), json_extract(value, '$.metric.local'), "
		"json_extract(value, '$.metric.peer'), "
		"CAST(json_extract(value, '$.value[1]') AS REAL) "
		"FROM json_each(?1, '$.data.result')";
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
	if (sqlite3_prepare_v2(db, rows_sql, -1, &q, NULL) ||
	    sqlite3_bind_text(q, 1, body, -1, SQLITE_STATIC)) {
		snprintf(err, len, "reading the answer: %s", sqlite3_errmsg(db));
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *c[4];
		double v = sqlite3_column_double(q, 4);
		struct prow *r;

		for (int i = 0; i < 4; i++)
			c[i] = (const char *)sqlite3_column_text(q, i);
		if (!c[1] || !c[2] || !c[3]) {
			if (w == W_CONNS)	/* the overflow series: ksight_overflow="true" */
				p->overflow += rounded(v);
			continue;
		}
		r = prow_get(p, side, c[0], c[1], c[2], c[3]);
		if (!r) {
			snprintf(err, len, "out of memory");
			rc = -1;
			goto out;
		}
		r->v[w] += rounded(v);
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, len, "reading the answer: %s", sqlite3_errmsg(db));
		rc = -1;
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

/* One family's sums by host and edge: the counters now (@since_s 0), or their increase
 * over the last @since_s seconds. */
static int query(const struct ks_http_url *u, sqlite3 *db, int side, int w, uint64_t since_s,
		 struct prows *p, char *err, size_t len)
{
	char promql[256], enc[768], target[2048], e2[256];
	const char *base = u->path;
	size_t bl = strlen(base);
	char *body = NULL;
	size_t blen;
	int code, rc;

	if (since_s)
		snprintf(promql, sizeof(promql), "sum by (host, instance, service, local, peer) "
			 "(increase(%s[%llus]))", families[side][w], (unsigned long long)since_s);
	else
		snprintf(promql, sizeof(promql), "sum by (host, instance, service, local, peer) "
			 "(%s)", families[side][w]);
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
	rc = read_answer(db, body, side, w, p, e2, sizeof(e2));
	if (rc)
		snprintf(err, len, "--prometheus %s: %s", u->hostport, e2);
	free(body);
	return rc;
}

/* "ADDR:PORT" or "[V6]:PORT" into @addr and *@port; "ADDR" (v4 or bare v6): port 0. */
static void split_endpoint(const char *s, char *addr, size_t len, uint16_t *port)
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

/* The rows as weighted session ends of @m (node names "SERVICE@HOST" with @by_host). */
static int feed(struct ks_svcmap *m, const struct prows *p, bool by_host, int64_t at_ns)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct prow *r = &p->r[i];
		char la[KS_SVCMAP_ADDR], ra[KS_SVCMAP_ADDR], name[KS_SVCMAP_NAME];
		struct ks_svcmap_conn c = { .end_ns = at_ns, .service = name };
		int err;

		if (!r->v[W_CONNS])
			continue;	/* bytes of sessions counted before the window */
		if (by_host && r->host[0])
			snprintf(name, sizeof(name), "%s@%s", r->service, r->host);
		else
			snprintf(name, sizeof(name), "%s", r->service);
		split_endpoint(r->local, la, sizeof(la), &c.lport);
		split_endpoint(r->peer, ra, sizeof(ra), &c.rport);
		c.laddr = la;
		c.raddr = ra;
		c.side = r->side == SIDE_CLIENT ? KS_SIDE_CLIENT : KS_SIDE_SERVER;
		c.count = r->v[W_CONNS];
		c.tx = r->v[W_SENT];
		c.rx = r->v[W_RECV];
		if ((err = ks_svcmap__add(m, &c)))
			return err;
	}
	m->unplaced += p->overflow;
	return ks_svcmap__build(m);
}

int ks_map_prom_load(const char *url, uint64_t since_s, bool by_host, int64_t at_ns,
		     struct ks_svcmap *m, char *err, size_t len)
{
	struct prows p = { 0 };
	struct ks_http_url u;
	sqlite3 *db = NULL;
	int rc = -1;

	if (ks_http_url_parse("--prometheus", "/", url, &u, err, len))
		return -1;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY,
			    NULL)) {
		snprintf(err, len, "SQLite: %s", db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	for (int side = 0; side < 2; side++)
		for (int w = 0; w < 3; w++)
			if (query(&u, db, side, w, since_s, &p, err, len))
				goto out;
	if (feed(m, &p, by_host, at_ns)) {
		snprintf(err, len, "out of memory");
		goto out;
	}
	rc = 0;
out:
	prows_free(&p);
	sqlite3_close(db);
	return rc;
}
