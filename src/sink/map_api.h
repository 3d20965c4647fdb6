/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The map on the agent's HTTP endpoint (map_api.c, served by prom.c's daemon), read-only:
 *   /api/map[?since=DUR][&diff=DUR][&at=UNIX_SECONDS]   the map as `ksight map --json`
 *     (--diff's object with diff=): the sessions that closed in the last DUR (default:
 *     the agent's --idle, so that idle edges drop out), or before @at
 *   /api/services/NAME[?since=DUR][&at=...]   the service's node, its edges out and in,
 *     and the registry's series labelled service="NAME" as of the last interval
 *   /api/services/NAME/timeline[?since=DUR][&until=DUR]   the service's intervals side by
 *     side (sink/timeline.h), as `ksight query timeline --json`
 * All read the agent's store; 404 for an unknown service or without a store, 400 for a
 * bad query string, 413 for a window too large. docs/map.md.
 */
#ifndef KSIGHT_MAP_API_H
#define KSIGHT_MAP_API_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sink/outbuf.h"

#define KS_MAP_IDLE_DEFAULT 600	/* seconds: ksight run --idle */
/* Session ends one request builds a map of at most: about 20 MB and half a second of the
 * endpoint's thread, which /metrics shares (more: 413, ksight map has no limit). */
#define KS_MAP_API_MAX_ENDS 100000

struct ks_map_api_conf {
	const char *store;	/* the agent's store; NULL: none */
	uint64_t idle_s;	/* the live map's window */
};

extern struct ks_map_api_conf ks_map_api_conf;

/* Whether @url is one of the map's. */
bool ks_map_api_handles(const char *url);

/* Answer @url; @page (the registry's text, guarded by @lock) gives a service's series. */
enum MHD_Result ks_map_api_serve(struct MHD_Connection *c, const char *url,
				 const struct ks_buf *page, pthread_mutex_t *lock);

#endif
