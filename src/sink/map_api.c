// SPDX-License-Identifier: GPL-2.0
/* /api/map and /api/services/NAME on the agent's HTTP endpoint (map_api.h). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sink/escape.h"
#include "sink/map.h"
#include "sink/http_api.h"
#include "sink/map_api.h"
#include "sink/store.h"
#include "sink/timeline.h"

struct ks_map_api_conf ks_map_api_conf = { .idle_s = KS_MAP_IDLE_DEFAULT };

#define SVC_PREFIX "/api/services/"
#define JSON_TYPE "application/json"

bool ks_map_api_handles(const char *url)
{
	return !strcmp(url, "/api/map") || !strncmp(url, SVC_PREFIX, strlen(SVC_PREFIX));
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned int status,
			      const struct ks_buf *b)
{
	return ks_http_reply(c, status, JSON_TYPE, b->p, b->len);
}

static enum MHD_Result error(struct MHD_Connection *c, unsigned int status, const char *msg)
{
	struct ks_buf b;
	enum MHD_Result ret;

	if (ks_buf_init(&b, -1, 256))
		return MHD_NO;
	ks_buf_str(&b, "{\"error\":");
	ks_json_str(&b, msg, strlen(msg));
	ks_buf_str(&b, "}\n");
	ret = answer(c, status, &b);
	ks_buf_free(&b);
	return ret;
}

/* The query string's arguments: only those @allowed (a space-separated list), once. */
struct args {
	const char *allowed;
	const char *since, *diff, *at, *until;
	char bad[96];
};

static enum MHD_Result arg(void *cls, enum MHD_ValueKind kind, const char *key,
			   const char *value)
{
	struct args *a = cls;
	const char **slot = !strcmp(key, "since") ? &a->since : !strcmp(key, "diff") ? &a->diff :
			    !strcmp(key, "at") ? &a->at : !strcmp(key, "until") ? &a->until : NULL;
	char word[24];

	snprintf(word, sizeof(word), "%s", key);
	if (!slot || !strstr(a->allowed, word) || strlen(key) > 8) {
		snprintf(a->bad, sizeof(a->bad), "unknown argument '%.40s' (%s)", key, a->allowed);
		return MHD_NO;
	}
	if (*slot) {
		snprintf(a->bad, sizeof(a->bad), "'%s' given twice", key);
		return MHD_NO;
	}
	*slot = value ? value : "";
	return MHD_YES;
}

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The window the arguments name: [to - since, to). Returns 0, or -1 with @a->bad set. */
static int window(struct args *a, struct ks_map_win *w, uint64_t *diff_s)
{
	uint64_t since_s = ks_map_api_conf.idle_s ? ks_map_api_conf.idle_s : KS_MAP_IDLE_DEFAULT;
	char *end;

	if (a->since && ks_store_parse_duration(a->since, &since_s)) {
		snprintf(a->bad, sizeof(a->bad), "since=%.40s: not a duration (30s, 10m, 1h, 7d)",
			 a->since);
		return -1;
	}
	w->to_ns = now_ns();
	if (a->at) {
		long long at = strtoll(a->at, &end, 10);

		if (!*a->at || *end || at <= 0 || at > w->to_ns / 1000000000LL) {
			snprintf(a->bad, sizeof(a->bad), "at=%.40s: not a time in the past (UNIX "
				 "seconds)", a->at);
			return -1;
		}
		w->to_ns = at * 1000000000LL;
	}
	w->from_ns = w->to_ns - (int64_t)since_s * 1000000000LL;
	*diff_s = 0;
	if (a->diff && (ks_store_parse_duration(a->diff, diff_s) || *diff_s >= since_s)) {
		snprintf(a->bad, sizeof(a->bad), "diff=%.40s: not a duration shorter than since "
			 "(%llus)", a->diff, (unsigned long long)since_s);
		return -1;
	}
	return 0;
}

static sqlite3 *open_store(char *err, size_t len)
{
	if (!ks_map_api_conf.store) {
		snprintf(err, len, "the agent keeps no store (--no-store): the map is read from "
			 "it");
		return NULL;
	}
	return ks_store_db_open_ro(ks_map_api_conf.store, err, len);
}

/* 0, -E2BIG (the window is too large to build here), or -1. */
static int load(sqlite3 *db, const struct ks_map_win *w, struct ks_svcmap *m, char *err,
		size_t len)
{
	int rc;

	ks_svcmap__init(m);
	rc = ks_map_load(db, w, m, KS_MAP_API_MAX_ENDS, err, len);
	if (rc)
		ks_svcmap__free(m);
	return rc;
}

static int map_body(sqlite3 *db, const struct ks_map_win *w, uint64_t diff_s,
		    struct ks_buf *b, char *err, size_t len)
{
	struct ks_map_win wa = { w->from_ns, w->to_ns - (int64_t)diff_s * 1000000000LL };
	struct ks_map_win wb = { wa.to_ns, w->to_ns };
	struct ks_svcmap ma, mb;
	struct ks_svcmap_diff *d;
	long n;
	int rc;

	if (!diff_s) {
		if ((rc = load(db, w, &ma, err, len)))
			return rc;
		ks_map_render(b, &ma, w, KS_MAP_JSON);
		ks_svcmap__free(&ma);
		return 0;
	}
	if ((rc = load(db, &wa, &ma, err, len)))
		return rc;
	if ((rc = load(db, &wb, &mb, err, len))) {
		ks_svcmap__free(&ma);
		return rc;
	}
	n = ks_svcmap_diff(&ma, ks_map_secs(&wa), &mb, ks_map_secs(&wb), &d);
	if (n >= 0)
		ks_map_render_diff(b, d, n, &wa, &wb, true);
	else
		snprintf(err, len, "out of memory");
	free(d);
	ks_svcmap__free(&ma);
	ks_svcmap__free(&mb);
	return n < 0 ? -1 : 0;
}

/* @name as a Prometheus label value is written (\\, \", \n escaped), as service="...". */
static void label_of(struct ks_buf *o, const char *name)
{
	ks_buf_str(o, "service=\"");
	for (; *name; name++) {
		if (*name == '\\' || *name == '"')
			ks_buf_ch(o, '\\');
		if (*name == '\n')
			ks_buf_str(o, "\\n");
		else
			ks_buf_ch(o, *name);
	}
	ks_buf_ch(o, '"');
}

/* The page's samples labelled service="@name": "metrics":{"SERIES":VALUE,...}. Returns
 * how many. */
static size_t series_of(struct ks_buf *o, const char *name, const struct ks_buf *page,
			pthread_mutex_t *lock)
{
	struct ks_buf lab;
	size_t n = 0;

	if (ks_buf_init(&lab, -1, 128))
		return 0;
	label_of(&lab, name);
	ks_buf_ch(&lab, 0);
	ks_buf_str(o, ",\"metrics\":{");
	pthread_mutex_lock(lock);
	for (size_t i = 0; i < page->len;) {
		const char *l = page->p + i, *nl = memchr(l, '\n', page->len - i);
		size_t ll = nl ? (size_t)(nl - l) : page->len - i;
		const char *sp = memrchr(l, ' ', ll), *hit;
		size_t vl;

		i += ll + 1;
		if (l[0] == '#' || !sp || !(hit = memmem(l, sp - l, lab.p, lab.len - 1)))
			continue;
		/* the label whole: after '{' or ',', before ',' or '}' */
		if ((hit[-1] != '{' && hit[-1] != ',') || (hit[lab.len - 1] != ',' &&
							   hit[lab.len - 1] != '}'))
			continue;
		if (n++)
			ks_buf_ch(o, ',');
		ks_json_str(o, l, sp - l);
		ks_buf_ch(o, ':');
		vl = l + ll - sp - 1;	/* the value's length */
		if (vl && strspn(sp + 1, "0123456789.eE+-") >= vl)
			ks_buf_put(o, sp + 1, vl);
		else
			ks_buf_str(o, "null");	/* NaN, +Inf */
	}
	pthread_mutex_unlock(lock);
	ks_buf_ch(o, '}');
	ks_buf_free(&lab);
	return n;
}

#define TL_SUFFIX "/timeline"

/* /api/services/NAME/timeline?since=DUR&until=DUR: [now - since, now - until). */
static enum MHD_Result timeline(struct MHD_Connection *c, const char *name, size_t n,
				const struct args *a)
{
	uint64_t since_s = 3600, until_s = 0;
	struct ks_timeline t;
	enum MHD_Result ret;
	char svc[KS_SVCMAP_NAME], err[300];
	struct ks_buf b;
	int64_t to;
	sqlite3 *db;
	int rc;

	if ((a->since && ks_store_parse_duration(a->since, &since_s)) ||
	    (a->until && ks_store_parse_duration(a->until, &until_s)) || until_s >= since_s)
		return error(c, MHD_HTTP_BAD_REQUEST, "since, until: durations (30s, 10m, 1h, 7d), "
			     "until shorter than since");
	if (!n || n >= sizeof(svc))
		return error(c, MHD_HTTP_NOT_FOUND, "no service named (/api/services/NAME/timeline)");
	memcpy(svc, name, n);
	svc[n] = 0;
	db = open_store(err, sizeof(err));
	if (!db)
		return error(c, MHD_HTTP_NOT_FOUND, err);
	to = now_ns() - (int64_t)until_s * 1000000000LL;
	rc = ks_timeline_load(db, svc, to - (int64_t)(since_s - until_s) * 1000000000LL, to, &t,
			      err, sizeof(err));
	sqlite3_close(db);
	if (rc)
		return error(c, rc == -ENOENT ? MHD_HTTP_NOT_FOUND : rc == -E2BIG ?
			     MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	if (ks_buf_init(&b, -1, 4096 + t.n * 400)) {
		ks_timeline_free(&t);
		return MHD_NO;
	}
	ks_timeline_json(&b, svc, &t);
	ret = answer(c, MHD_HTTP_OK, &b);
	ks_buf_free(&b);
	ks_timeline_free(&t);
	return ret;
}

/* A window too large to build here is the request's (413), another failure ours. */
static unsigned int status_of(int rc)
{
	return rc == -E2BIG ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

enum MHD_Result ks_map_api_serve(struct MHD_Connection *c, const char *url,
				 const struct ks_buf *page, pthread_mutex_t *lock)
{
	bool svc = !strncmp(url, SVC_PREFIX, strlen(SVC_PREFIX));
	const char *name = svc ? url + strlen(SVC_PREFIX) : NULL;
	size_t nl = svc ? strlen(name) : 0, sl = strlen(TL_SUFFIX);
	bool tl = svc && nl >= sl && !strcmp(name + nl - sl, TL_SUFFIX);
	struct args a = { .allowed = tl ? "since until" : svc ? "since at" : "since diff at" };
	const struct ks_svcmap_node *node;
	enum MHD_Result ret;
	struct ks_map_win w;
	struct ks_svcmap m;
	struct ks_buf b;
	uint64_t diff_s;
	char err[300];
	size_t nseries;
	sqlite3 *db;
	int rc;

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, arg, &a);
	if (tl && !a.bad[0])
		return timeline(c, name, nl - sl, &a);
	if (a.bad[0] || window(&a, &w, &diff_s))
		return error(c, MHD_HTTP_BAD_REQUEST, a.bad);
	if (svc && (!*name || strlen(name) >= KS_SVCMAP_NAME))
		return error(c, MHD_HTTP_NOT_FOUND, "no service named (/api/services/NAME)");
	db = open_store(err, sizeof(err));
	if (!db)	/* not available in this agent (the web UI says so) */
		return error(c, MHD_HTTP_NOT_FOUND, err);
	if (ks_buf_init(&b, -1, 1 << 14)) {
		sqlite3_close(db);
		return MHD_NO;
	}
	if (!svc) {
		rc = map_body(db, &w, diff_s, &b, err, sizeof(err));
		ret = rc ? error(c, status_of(rc), err) : answer(c, MHD_HTTP_OK, &b);
		goto out;
	}
	if ((rc = load(db, &w, &m, err, sizeof(err)))) {
		ret = error(c, status_of(rc), err);
		goto out;
	}
	node = ks_svcmap__node(&m, name);
	if (node && node->kind == KS_NODE_SERVICE) {
		ks_map_service_json(&b, &m, node, &w);
	} else {
		ks_buf_ch(&b, '{');
		ks_buf_str(&b, "\"node\":null");
		node = NULL;
	}
	nseries = series_of(&b, name, page, lock);
	ks_buf_str(&b, "}\n");
	ks_svcmap__free(&m);
	if (!node && !nseries) {
		snprintf(err, sizeof(err), "no service '%.200s' in the map of the window or the "
			 "metrics", name);
		ret = error(c, MHD_HTTP_NOT_FOUND, err);
	} else {
		ret = answer(c, MHD_HTTP_OK, &b);
	}
out:
	ks_buf_free(&b);
	sqlite3_close(db);
	return ret;
}
