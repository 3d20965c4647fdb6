/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The service map from the store (map_store.c) and its forms (map_out.c): a table, JSON,
 * Graphviz DOT, Mermaid; a diff; one service's page. Shared by `ksight map` and the
 * agent's /api/map and /api/services/NAME (map_api.c). docs/map.md.
 */
#ifndef KSIGHT_MAP_H
#define KSIGHT_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/svcmap.h"
#include "sink/outbuf.h"

struct sqlite3;

/* A window of time: [from_ns, to_ns), ns since the epoch. */
struct ks_map_win {
	int64_t from_ns, to_ns;
};

static inline double ks_map_secs(const struct ks_map_win *w)
{
	return (w->to_ns - w->from_ns) / 1e9;
}

/*
 * Fill @m (initialised, not built) with the TCP sessions the store holds that closed in
 * @w, and the intervals in it whose tcplife events (or the store's records) were lost;
 * then build it. @max_ends: at most that many session ends (0: no limit). Returns 0,
 * -E2BIG when the window holds more (nothing read), or -1; with one line in @err.
 */
int ks_map_load(struct sqlite3 *db, const struct ks_map_win *w, struct ks_svcmap *m,
		uint64_t max_ends, char *err, size_t len);

/*
 * Fill @m (initialised, not built) from the Prometheus server at @url (http://HOST:PORT,
 * with a path prefix if it has one) that scrapes agents: the counters of their edges (TCP
 * sessions' with their latency histograms, UDP flows': map_prom_udp.c) now
 * (@since_s 0: since each agent started, exact), or their increase() over the last
 * @since_s seconds (Prometheus extrapolates: rounded). Nodes are "SERVICE@HOST" with
 * @by_host (host: the agent's --host-label, else Prometheus' instance). @at_ns: the ends'
 * time. Then build it. Returns 0, or -1 with one line in @err (map_prom.c).
 */
int ks_map_prom_load(const char *url, uint64_t since_s, bool by_host, int64_t at_ns,
		     struct ks_svcmap *m, char *err, size_t len);

enum ks_map_form { KS_MAP_TABLE, KS_MAP_JSON, KS_MAP_DOT, KS_MAP_MERMAID };

/* The map @m of window @w in @form (JSON: one object and a newline). */
void ks_map_render(struct ks_buf *o, const struct ks_svcmap *m, const struct ks_map_win *w,
		   enum ks_map_form form);

/* The changes @d[0..n) from window @a to window @b, as a table or one JSON object. */
void ks_map_render_diff(struct ks_buf *o, const struct ks_svcmap_diff *d, long n,
			const struct ks_map_win *a, const struct ks_map_win *b, bool json);

/* One JSON object: node @n of @m, its edges in and out (no newline, no closing brace:
 * the caller may add members, then '}'). */
void ks_map_service_json(struct ks_buf *o, const struct ks_svcmap *m,
			 const struct ks_svcmap_node *n, const struct ks_map_win *w);

#endif
