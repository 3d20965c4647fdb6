/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The filter of one /api/events client (http_filter.c): ?type=, comm=, pid=, service=, each
 * a comma list; keys must all match, a type also matches types it begins (tcp takes
 * tcplife and tcpstates).
 */
#ifndef KSIGHT_HTTP_FILTER_H
#define KSIGHT_HTTP_FILTER_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_EVF_MAX 16		/* values per filter key */

struct ks_rec;

struct ks_evfilter {
	unsigned int ntypes, ncomms, npids, nsvcs;
	const char *types[KS_EVF_MAX], *comms[KS_EVF_MAX], *svcs[KS_EVF_MAX];
	uint32_t pids[KS_EVF_MAX];
	size_t type_len[KS_EVF_MAX], comm_len[KS_EVF_MAX];
	char text[512];		/* the values, NUL-separated */
	size_t used;
};

/* @f (zeroed) from @conn's query string. Returns 0, or -1 with one line in @err. */
int ks_evfilter_parse(struct MHD_Connection *conn, struct ks_evfilter *f, char *err, size_t len);

/* Whether record @r passes @f. */
bool ks_evfilter_match(const struct ks_evfilter *f, const struct ks_rec *r);

#endif
