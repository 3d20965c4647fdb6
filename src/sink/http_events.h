/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /api/events: the session's events and alerts as Server-Sent Events, each the JSON object
 * `--json` prints for it, filtered by the query string (?type=exec,tcp&comm=NAME&pid=N&
 * service=NAME). The reader's thread formats a record once and appends it to the queue of
 * every client whose filter it matches; a queue that is full loses the record, counted for
 * that client and in total, and the client is told (an SSE "lost" event) when there is room
 * again. The reader never waits for a client: it holds the clients' lock only to append.
 *
 * libmicrohttpd serves each client from a content callback: with nothing queued the
 * connection is suspended; a notifier thread resumes it when the reader queued something
 * (woken through an eventfd), and every KS_EVENTS_CHECK_S seconds so that a client gone
 * away is noticed (and a keep-alive comment is sent every KS_EVENTS_KEEPALIVE_S).
 */
#ifndef KSIGHT_HTTP_EVENTS_H
#define KSIGHT_HTTP_EVENTS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "sink/outbuf.h"
#include "sink/record.h"

#define KS_EVENTS_CLIENTS_MAX 1024u		/* streams at once; 503 beyond */
#define KS_EVENTS_QUEUE_MAX (1u << 20)	/* bytes waiting per client */
#define KS_EVENTS_QUEUED_MAX (64u << 20)	/* ... and for every client together */
#define KS_EVENTS_SNDBUF (256 << 10)		/* a stream's socket send buffer */
#define KS_EVENTS_CHECK_S 2
#define KS_EVENTS_KEEPALIVE_S 15

struct ks_events;
struct ks_clock;

/* Returns NULL with errno set. */
struct ks_events *ks_events__new(struct ks_clock *clock);
/* After ks_events__stop and the daemon's stop. Accepts NULL. */
void ks_events__free(struct ks_events *e);

/* The reader's thread: one record (kind event). */
void ks_events__emit(struct ks_events *e, const struct ks_rec *r);
/* The reader's thread, after each wake-up's records: start the new clients, wake those with
 * something queued. Returns whether some client takes events. */
bool ks_events__flush(struct ks_events *e);

/* The HTTP thread: GET /api/events. */
enum MHD_Result ks_events__serve(struct ks_events *e, struct MHD_Connection *c, bool head);

/* End every stream and resume every suspended connection (libmicrohttpd must not be
 * stopped with one suspended). */
void ks_events__stop(struct ks_events *e);

/* Totals: clients now, events sent, events lost by slow clients (since the start). */
void ks_events__totals(struct ks_events *e, uint64_t *clients, uint64_t *sent, uint64_t *lost);
/* "clients":N,"events_sent":N,"events_lost":N,"streams":[{...}] for /api/status. */
void ks_events__status_json(struct ks_events *e, struct ks_buf *o);

#endif
