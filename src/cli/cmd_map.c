// SPDX-License-Identifier: GPL-2.0
/*
 * `ksight map`: the service dependency map from the agent's store (sink/map.h), read-only:
 * services and remote endpoints, edges client -> server from the TCP sessions that closed
 * and the UDP flows counted in the window, spawn edges from execs; --diff compares the
 * window's two parts; --prometheus: the fleet's, from Prometheus (sink/map_prom.c).
 * docs/map.md.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/common_opts.h"
#include "core/opts.h"
#include "sink/http_conn.h"
#include "sink/map.h"
#include "sink/store.h"

struct map_opts {
	const char *db;
	const char *since;
	const char *diff;
	const char *prometheus;
	bool json, dot, mermaid, by_host, totals;
};

#define OFF(f) offsetof(struct map_opts, f)
static const struct ks_opt map_opts[] = {
	{ "db", 0, KS_OPT_STR, OFF(db), "PATH", "the store to read (default: $" KS_STORE_ENV
	  ", else " KS_STORE_DEFAULT ")", 0, 4000 },
	{ "store", 0, KS_OPT_STR, OFF(db), "PATH", "the same as --db (as ksight query)", 0, 4000 },
	{ "since", 's', KS_OPT_STR, OFF(since), "DUR", "the sessions that closed in the last DUR: "
	  "30s, 10m, 1h, 7d (default 1h)" },
	{ "diff", 0, KS_OPT_STR, OFF(diff), "DUR", "compare [now-since, now-DUR) with the last "
	  "DUR: edges that appeared, disappeared, or whose rate or p99 changed 3x" },
	{ "prometheus", 0, KS_OPT_STR, OFF(prometheus), "URL", "the fleet's map from this "
	  "Prometheus server, which scrapes the agents (http://HOST:9090), instead of a store",
	  0, 1024 },
	{ "by-host", 0, KS_OPT_FLAG, OFF(by_host), NULL, "--prometheus: a node per service and "
	  "host, SERVICE@HOST (host: the agent's --host-label, else Prometheus' instance)" },
	{ "totals", 0, KS_OPT_FLAG, OFF(totals), NULL, "--prometheus: the counters as they are "
	  "(every session since each agent started, exact) instead of their increase over "
	  "--since (extrapolated by Prometheus, rounded)" },
	{ "json", 0, KS_OPT_FLAG, OFF(json), NULL, "one JSON object" },
	{ "dot", 0, KS_OPT_FLAG, OFF(dot), NULL, "Graphviz DOT (ksight map --dot | dot -Tsvg)" },
	{ "mermaid", 0, KS_OPT_FLAG, OFF(mermaid), NULL, "a Mermaid flowchart" },
	{ 0 },
};

static const char usage[] =
	"  ksight map                         # services and edges of the last hour\n"
	"  ksight map --since 10m --json      # the last 10 minutes, as JSON\n"
	"  ksight map --dot | dot -Tsvg > map.svg\n"
	"  ksight map --mermaid               # paste into a Markdown file\n"
	"  ksight map --since 1h --diff 10m   # what appeared, disappeared or changed in the\n"
	"                                     # last 10 minutes against the 50 before\n"
	"  ksight map --db /srv/k.db          # another agent's store\n"
	"  ksight map --prometheus http://prom:9090 --by-host\n"
	"                                     # the fleet: every agent Prometheus scrapes\n"
	"                                     # (each ksight run --host-label NAME)\n"
	"\n"
	"Edges are client service -> server service (or ADDR:PORT outside the machine) from\n"
	"the TCP sessions the agent saw close and the UDP flows it counted (ksight run keeps\n"
	"them in its store): both ends on this machine count once, seen \"both\"; execs give\n"
	"spawn edges parent => child. docs/map.md.\n";

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int load(sqlite3 *db, const struct ks_map_win *w, struct ks_svcmap *m)
{
	char err[256];

	ks_svcmap__init(m);
	if (ks_map_load(db, w, m, 0, err, sizeof(err))) {
		fprintf(stderr, "ksight map: %s\n", err);
		ks_svcmap__free(m);
		return -1;
	}
	return 0;
}

static int diff(sqlite3 *db, const struct ks_map_win *a, const struct ks_map_win *b, bool json,
		struct ks_buf *o)
{
	struct ks_svcmap ma, mb;
	struct ks_svcmap_diff *d;
	long n;
	int rc = 1;

	if (load(db, a, &ma))
		return 1;
	if (load(db, b, &mb)) {
		ks_svcmap__free(&ma);
		return 1;
	}
	n = ks_svcmap_diff(&ma, ks_map_secs(a), &mb, ks_map_secs(b), &d);
	if (n < 0) {
		fprintf(stderr, "ksight map: out of memory\n");
	} else {
		ks_map_render_diff(o, d, n, a, b, json);
		rc = 0;
	}
	free(d);
	ks_svcmap__free(&ma);
	ks_svcmap__free(&mb);
	return rc;
}

/* --prometheus: the fleet's map (sink/map_prom.c). */
static int fleet(const struct map_opts *o, uint64_t since_s, enum ks_map_form form)
{
	struct ks_map_win w = { .to_ns = now_ns() };
	char err[KS_ERR_LEN + 256];
	struct ks_svcmap m;
	struct ks_buf out;
	int rc;

	w.from_ns = o->totals ? w.to_ns : w.to_ns - (int64_t)since_s * 1000000000LL;
	if (ks_svcmap__init(&m) || ks_buf_init(&out, 1, 1 << 16)) {
		fprintf(stderr, "ksight map: out of memory\n");
		ks_svcmap__free(&m);
		return 1;
	}
	rc = ks_map_prom_load(o->prometheus, o->totals ? 0 : since_s, o->by_host, w.to_ns, &m,
			      err, sizeof(err));
	if (rc) {
		fprintf(stderr, "ksight map: %s\n", err);
		rc = 1;
	} else {
		ks_map_render(&out, &m, &w, form);
	}
	if (ks_buf_flush(&out) && !rc)
		rc = 1;
	ks_buf_free(&out);
	ks_svcmap__free(&m);
	return rc;
}

int cmd_map(int argc, char **argv)
{
	struct map_opts o = { 0 };
	const struct ks_opt_table tables[] = { { map_opts, &o } };
	const char *pos[KS_OPTS_MAX_POS];
	uint64_t since_s = 3600, diff_s = 0;
	char err[KS_ERR_LEN + 128];
	enum ks_map_form form = KS_MAP_TABLE;
	struct ks_map_win w;
	struct ks_svcmap m;
	struct ks_buf out;
	int npos, rc;
	sqlite3 *db;

	rc = ks_opts_parse(tables, 1, argc, argv, pos, KS_OPTS_MAX_POS, &npos, err, sizeof(err));
	if (rc == 1) {
		ks_print_help("ksight map [OPTIONS]", "The service dependency map from the agent's "
			      "store: services, remote endpoints, edges", usage, tables, 1);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "ksight map: %s\n", err);
		return 2;
	}
	if (npos) {
		fprintf(stderr, "ksight map: unexpected argument '%.40s'\n", pos[0]);
		return 2;
	}
	if (o.json + o.dot + o.mermaid > 1) {
		fprintf(stderr, "ksight map: --json, --dot and --mermaid exclude each other\n");
		return 2;
	}
	if (o.since && ks_store_parse_duration(o.since, &since_s)) {
		fprintf(stderr, "ksight map: --since %.40s: not a duration (30s, 10m, 1h, 7d)\n",
			o.since);
		return 2;
	}
	if (o.diff && ks_store_parse_duration(o.diff, &diff_s)) {
		fprintf(stderr, "ksight map: --diff %.40s: not a duration (30s, 10m, 1h, 7d)\n",
			o.diff);
		return 2;
	}
	if (o.diff && diff_s >= since_s) {
		fprintf(stderr, "ksight map: --diff %.40s must be shorter than --since (%llus): it "
			"splits that window\n", o.diff, (unsigned long long)since_s);
		return 2;
	}
	if (o.prometheus) {	/* bad input before anything is asked */
		struct ks_http_url u;

		if (ks_http_url_parse("--prometheus", "/", o.prometheus, &u, err, sizeof(err))) {
			fprintf(stderr, "ksight map: %s\n", err);
			return 2;
		}
	}
	if (o.prometheus && (o.diff || o.db)) {
		fprintf(stderr, "ksight map: --%s reads a store, not --prometheus\n",
			o.diff ? "diff" : "db");
		return 2;
	}
	if ((o.by_host || o.totals) && !o.prometheus) {
		fprintf(stderr, "ksight map: --%s goes with --prometheus\n",
			o.by_host ? "by-host" : "totals");
		return 2;
	}
	if (o.totals && o.since) {
		fprintf(stderr, "ksight map: --totals and --since exclude each other\n");
		return 2;
	}
	if (o.diff && (o.dot || o.mermaid)) {
		fprintf(stderr, "ksight map: --diff prints a table or --json, not a graph\n");
		return 2;
	}
	form = o.json ? KS_MAP_JSON : o.dot ? KS_MAP_DOT : o.mermaid ? KS_MAP_MERMAID :
	       KS_MAP_TABLE;
	if (o.prometheus)
		return fleet(&o, since_s, form);
	db = ks_store_db_open_ro(o.db ? o.db : ks_store_default_path(), err, sizeof(err));
	if (!db) {
		fprintf(stderr, "ksight map: %s\n", err);
		return 1;
	}
	if (ks_buf_init(&out, 1, 1 << 16)) {
		fprintf(stderr, "ksight map: out of memory\n");
		sqlite3_close(db);
		return 1;
	}
	w.to_ns = now_ns();
	w.from_ns = w.to_ns - (int64_t)since_s * 1000000000LL;
	if (o.diff) {
		struct ks_map_win a = { w.from_ns, w.to_ns - (int64_t)diff_s * 1000000000LL };
		struct ks_map_win b = { a.to_ns, w.to_ns };

		rc = diff(db, &a, &b, o.json, &out);
	} else if (!(rc = load(db, &w, &m) ? 1 : 0)) {
		ks_map_render(&out, &m, &w, form);
		ks_svcmap__free(&m);
	}
	if (ks_buf_flush(&out) && !rc)
		rc = 1;
	ks_buf_free(&out);
	sqlite3_close(db);
	return rc;
}
