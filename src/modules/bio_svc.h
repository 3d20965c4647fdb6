/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's biotop rows of one interval merged per service, for the store's bio_row events
 * (one per service and interval instead of one per process, disk and op: the timeline's
 * disk p99, docs/store.md). Pure.
 */
#ifndef KSIGHT_BIO_SVC_H
#define KSIGHT_BIO_SVC_H

#include <stddef.h>

#include "bio.h"

#define BIO_SVC_MAX 1024	/* services merged per interval; past it, rows go out alone */

struct bio_svc {
	char *name;
	struct bio_val v;	/* ops, bytes, svc_ns, queue_ns and slots summed; the rest 0 */
};

struct bio_svcs {
	struct bio_svc *s;
	size_t n, cap;
};

/* Add the change @v to @svc's sum in @t. Returns 0, or -ENOMEM (also past BIO_SVC_MAX
 * services): the caller keeps the row apart. */
int bio_svcs_add(struct bio_svcs *t, const char *svc, const struct bio_val *v);

/* Empty @t for the next interval (its memory kept). */
void bio_svcs_reset(struct bio_svcs *t);

/* Free everything; accepts a zeroed @t. */
void bio_svcs_free(struct bio_svcs *t);

#endif
