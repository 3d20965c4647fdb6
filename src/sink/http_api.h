/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's HTTP API beside /metrics (prom.c dispatches to it): /api/events
 * (http_events.h), /api/status, the bearer token every /api/... and /metrics request needs
 * when --token-file is set, and the limits that keep a bad client from disturbing the agent.
 * Read-only. What the HTTP thread serves was made by the reader's thread and copied under a
 * lock; the reader never waits for the HTTP thread.
 */
#ifndef KSIGHT_HTTP_API_H
#define KSIGHT_HTTP_API_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "sink/outbuf.h"
#include "sink/record.h"

#define KS_HTTP_TEXT "text/plain; charset=utf-8"
#define KS_HTTP_JSON "application/json"
/* Connections at once: the event streams and room for scrapes beside them. */
#define KS_HTTP_CONNECTIONS (1024u + 64u)
/* What a request may take of memory (headers included): a bigger one gets 431. */
#define KS_HTTP_CONN_MEMORY (16u << 10)

struct ks_api;
struct ks_clock;
struct ks_metrics;

/* Process-wide settings, set before the session starts (ksight run --token-file). */
struct ks_api_conf {
	char *token;		/* NULL: no token asked */
};
extern struct ks_api_conf ks_api_conf;

/* Read the token from @path: one line, no spaces. Returns 0, or -1 with one line in @err. */
int ks_api_token_file(const char *path, char *err, size_t len);

/* What the session chose (modules, hooks: core/status_json.c) as JSON members, without
 * braces; the same for every endpoint of the process. Copied. */
void ks_api_publish_session(const char *json, size_t len);

/* Returns NULL with errno set. */
struct ks_api *ks_api__new(struct ks_clock *clock);
/* Before the daemon stops: end the streams, resume suspended connections. */
void ks_api__stop(struct ks_api *a);
/* After the daemon stopped. Accepts NULL. Says on stderr what slow clients lost. */
void ks_api__free(struct ks_api *a);

/* The reader's thread. */
void ks_api__emit(struct ks_api *a, const struct ks_rec *r);
/* Returns whether records of kind event are wanted now (a client streams). */
bool ks_api__flush(struct ks_api *a);
/* Each interval: /api/status's figures from the registry. */
void ks_api__metrics(struct ks_api *a, const struct ks_metrics *m, int64_t real_ns);
/* The API's own metrics (clients, events sent and lost) into the registry @m, so that
 * every output of it (/metrics, OTLP, the store) has them. */
void ks_api__collect(struct ks_api *a, struct ks_metrics *m);

/* The HTTP thread. Whether @url may be served: false when a token is set, @url is /metrics
 * or under /api/, and the request does not carry it (then a 401 was queued in *ret).
 * /healthz and the web UI's files are always open. */
bool ks_api__allowed(struct ks_api *a, struct MHD_Connection *c, const char *url,
		     enum MHD_Result *ret);
/* Whether @url is the API's (/api/events, /api/status); then *ret is the reply queued. */
bool ks_api__serve(struct ks_api *a, struct MHD_Connection *c, const char *url, bool head,
		   enum MHD_Result *ret);

/* A reply from a buffer (copied). */
enum MHD_Result ks_http_reply(struct MHD_Connection *c, unsigned int status, const char *type,
			      const void *body, size_t len);

#endif
