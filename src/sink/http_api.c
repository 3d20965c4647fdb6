// SPDX-License-Identifier: GPL-2.0
/* The HTTP API beside /metrics (http_api.h): /api/status, the token, the dispatch. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/metrics.h"
#include "sink/escape.h"
#include "sink/http_api.h"
#include "sink/http_events.h"

struct ks_api_conf ks_api_conf;

static pthread_mutex_t session_mu = PTHREAD_MUTEX_INITIALIZER;
static char *session_json;	/* guarded by session_mu */
static size_t session_len;

struct ks_api {
	struct ks_events *ev;
	struct ks_clock *clock;
	pthread_mutex_t mu;
	struct ks_buf figures;	/* served; guarded by mu */
	struct ks_buf next;	/* rendered by the reader's thread */
	uint64_t intervals;	/* guarded by mu */
	int64_t last_real_ns;	/* guarded by mu */
	uint64_t t0;		/* monotonic ns at start */
};

int ks_api_token_file(const char *path, char *err, size_t len)
{
	char buf[4097];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(err, len, "--token-file %.200s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		snprintf(err, len, "--token-file %.200s: %s", path, strerror(errno));
		return -1;
	}
	if (n == (ssize_t)sizeof(buf)) {
		snprintf(err, len, "--token-file %.200s: longer than 4096 bytes", path);
		return -1;
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
		     buf[n - 1] == '\t'))
		n--;
	buf[n] = 0;
	if (!n) {
		snprintf(err, len, "--token-file %.200s: empty", path);
		return -1;
	}
	for (ssize_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] <= ' ' || buf[i] == 0x7f) {
			snprintf(err, len, "--token-file %.200s: the token has a space or a control "
				 "character (one line, the token alone)", path);
			return -1;
		}
	free(ks_api_conf.token);
	ks_api_conf.token = strdup(buf);
	if (!ks_api_conf.token) {
		snprintf(err, len, "--token-file: out of memory");
		return -1;
	}
	return 0;
}

void ks_api_publish_session(const char *json, size_t len)
{
	char *p = malloc(len + 1);

	if (!p)
		return;
	memcpy(p, json, len);
	p[len] = 0;
	pthread_mutex_lock(&session_mu);
	free(session_json);
	session_json = p;
	session_len = len;
	pthread_mutex_unlock(&session_mu);
}

enum MHD_Result ks_http_reply(struct MHD_Connection *c, unsigned int status, const char *type,
			      const void *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The event streams need a descriptor each: take what the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max || rl.rlim_cur >= 65536)
		return;
	rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
	setrlimit(RLIMIT_NOFILE, &rl);
}

struct ks_api *ks_api__new(struct ks_clock *clock)
{
	struct ks_api *a = calloc(1, sizeof(*a));
	int err = ENOMEM;

	if (!a)
		goto fail;
	if (ks_buf_init(&a->figures, -1, 4096) || ks_buf_init(&a->next, -1, 4096))
		goto fail;
	a->ev = ks_events__new(clock);
	if (!a->ev) {
		err = errno;
		goto fail;
	}
	a->clock = clock;
	a->t0 = ks_clock_mono_now();
	pthread_mutex_init(&a->mu, NULL);
	raise_fd_limit();
	return a;
fail:
	if (a) {
		ks_buf_free(&a->figures);
		ks_buf_free(&a->next);
		free(a);
	}
	errno = err;
	return NULL;
}

void ks_api__stop(struct ks_api *a)
{
	if (a)
		ks_events__stop(a->ev);
}

void ks_api__free(struct ks_api *a)
{
	uint64_t clients, sent, lost;

	if (!a)
		return;
	ks_events__totals(a->ev, &clients, &sent, &lost);
	if (lost)
		fprintf(stderr, "ksight: /api/events: %llu events of %llu not delivered: their "
			"clients read slower than the stream (ksight_api_events_lost_total)\n",
			(unsigned long long)lost, (unsigned long long)(sent + lost));
	ks_events__free(a->ev);
	pthread_mutex_destroy(&a->mu);
	ks_buf_free(&a->figures);
	ks_buf_free(&a->next);
	free(a);
}

void ks_api__emit(struct ks_api *a, const struct ks_rec *r)
{
	ks_events__emit(a->ev, r);
}

bool ks_api__flush(struct ks_api *a)
{
	return ks_events__flush(a->ev);
}

/* ---- /api/status's figures, from the registry ----------------------------------- */

static const char *label(const struct ks_series *s, int i)
{
	return s->overflow ? "(other)" : s->label[i] ? s->label[i] : "";
}

static void jstr(struct ks_buf *o, const char *s)
{
	ks_json_str(o, s, strlen(s));
}

static const struct ks_series *find2(const struct ks_metric *m, const char *a, const char *b)
{
	for (const struct ks_series *s = m ? ks_series_first(m) : NULL; s; s = ks_series_next(s))
		if (!s->overflow && !strcmp(label(s, 0), a) && (!b || !strcmp(label(s, 1), b)))
			return s;
	return NULL;
}

static double gauge(const struct ks_metrics *m, const char *name)
{
	const struct ks_metric *g = ks_metrics__find(m, name);
	const struct ks_series *s = g ? ks_series_first(g) : NULL;

	return s ? s->v.d : 0;
}

/* "losses": {"TYPE": {"events": N, "lost": N}} for every type the session counts. */
static void losses(struct ks_buf *o, const struct ks_metrics *m)
{
	const struct ks_metric *ev = ks_metrics__find(m, "ksight_events_total");
	const struct ks_metric *lost = ks_metrics__find(m, "ksight_events_lost_total");
	bool first = true;

	ks_buf_str(o, ",\"losses\":{");
	for (const struct ks_series *s = lost ? ks_series_first(lost) : NULL; s;
	     s = ks_series_next(s)) {
		const struct ks_series *e = find2(ev, label(s, 0), NULL);

		ks_buf_str(o, first ? "" : ",");
		first = false;
		jstr(o, label(s, 0));
		ks_buf_printf(o, ":{\"events\":%llu,\"lost\":%llu}",
			      (unsigned long long)(e ? e->v.u : 0), (unsigned long long)s->v.u);
	}
	ks_buf_ch(o, '}');
}

static void programs(struct ks_buf *o, const struct ks_metrics *m)
{
	const struct ks_metric *runs = ks_metrics__find(m, "ksight_bpf_prog_runs_total");
	const struct ks_metric *time = ks_metrics__find(m, "ksight_bpf_prog_run_seconds_total");
	bool first = true;

	ks_buf_printf(o, ",\"bpf_stats_enabled\":%s,\"programs\":[",
		      gauge(m, "ksight_bpf_stats_enabled") > 0 ? "true" : "false");
	for (const struct ks_series *s = runs ? ks_series_first(runs) : NULL; s;
	     s = ks_series_next(s)) {
		const struct ks_series *t = find2(time, label(s, 0), label(s, 1));

		ks_buf_str(o, first ? "{\"module\":" : ",{\"module\":");
		first = false;
		jstr(o, label(s, 0));
		ks_buf_str(o, ",\"program\":");
		jstr(o, label(s, 1));
		ks_buf_printf(o, ",\"runs\":%llu,\"run_ns\":%llu}", (unsigned long long)s->v.u,
			      (unsigned long long)(t ? t->v.u : 0));
	}
	ks_buf_ch(o, ']');
}

static void maps(struct ks_buf *o, const struct ks_metrics *m)
{
	const struct ks_metric *ent = ks_metrics__find(m, "ksight_bpf_map_entries");
	const struct ks_metric *max = ks_metrics__find(m, "ksight_bpf_map_max_entries");
	bool first = true;

	ks_buf_str(o, ",\"maps\":[");
	for (const struct ks_series *s = ent ? ks_series_first(ent) : NULL; s;
	     s = ks_series_next(s)) {
		const struct ks_series *x = find2(max, label(s, 0), label(s, 1));

		ks_buf_str(o, first ? "{\"module\":" : ",{\"module\":");
		first = false;
		jstr(o, label(s, 0));
		ks_buf_str(o, ",\"map\":");
		jstr(o, label(s, 1));
		ks_buf_printf(o, ",\"entries\":%.0f,\"max_entries\":%.0f}", s->v.d,
			      x ? x->v.d : 0);
	}
	ks_buf_ch(o, ']');
}

static void sinks(struct ks_buf *o, const struct ks_metrics *m)
{
	const struct ks_metric *recs = ks_metrics__find(m, "ksight_sink_records_total");
	const struct ks_metric *drops = ks_metrics__find(m, "ksight_sink_dropped_records_total");
	bool first = true;

	ks_buf_str(o, ",\"sinks\":{");
	for (const struct ks_series *s = recs ? ks_series_first(recs) : NULL; s;
	     s = ks_series_next(s)) {
		const struct ks_series *d = find2(drops, label(s, 0), NULL);

		ks_buf_str(o, first ? "" : ",");
		first = false;
		jstr(o, label(s, 0));
		ks_buf_printf(o, ":{\"records\":%llu,\"dropped\":%llu}", (unsigned long long)s->v.u,
			      (unsigned long long)(d ? d->v.u : 0));
	}
	ks_buf_ch(o, '}');
}

void ks_api__metrics(struct ks_api *a, const struct ks_metrics *m, int64_t real_ns)
{
	struct ks_buf *o = &a->next, t;
	double size = gauge(m, "ksight_ring_buffer_size_bytes");
	double peak = gauge(m, "ksight_ring_buffer_peak_used_bytes");

	ks_buf_reset(o);
	losses(o, m);
	programs(o, m);
	ks_buf_printf(o, ",\"ring\":{\"size_bytes\":%.0f,\"peak_used_bytes\":%.0f,"
		      "\"peak_fill\":%.6g}", size, peak, size > 0 ? peak / size : 0);
	maps(o, m);
	sinks(o, m);
	pthread_mutex_lock(&a->mu);
	t = a->figures;
	a->figures = a->next;
	a->next = t;
	a->intervals++;
	a->last_real_ns = real_ns;
	pthread_mutex_unlock(&a->mu);
}

static const struct ks_metric_desc clients_desc = {
	.name = "ksight_api_event_clients",
	.help = "Clients streaming /api/events now",
	.type = KS_METRIC_GAUGE,
};

static const struct ks_metric_desc sent_desc = {
	.name = "ksight_api_events_sent_total",
	.help = "Events queued to /api/events clients",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_metric_desc lost_desc = {
	.name = "ksight_api_events_lost_total",
	.help = "Events a /api/events client matched but did not get: its queue was full (it "
		"reads slower than the stream)",
	.type = KS_METRIC_COUNTER,
};

void ks_api__collect(struct ks_api *a, struct ks_metrics *m)
{
	struct ks_metric *cm = ks_metrics__register(m, &clients_desc);
	struct ks_metric *sm = ks_metrics__register(m, &sent_desc);
	struct ks_metric *lm = ks_metrics__register(m, &lost_desc);
	uint64_t clients, sent, lost;

	if (!cm || !sm || !lm)
		return;
	ks_events__totals(a->ev, &clients, &sent, &lost);
	ks_gauge_set(ks_metric_get(cm, NULL), clients);
	ks_counter_set(ks_metric_get(sm, NULL), sent);
	ks_counter_set(ks_metric_get(lm, NULL), lost);
}

/* ---- the HTTP thread -------------------------------------------------------------- */

static enum MHD_Result status(struct ks_api *a, struct MHD_Connection *c)
{
	struct ks_buf o;
	enum MHD_Result ret;
	double up = (ks_clock_mono_now() - a->t0) / 1e9;

	if (ks_buf_init(&o, -1, 8192))
		return ks_http_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, KS_HTTP_TEXT,
				     "out of memory\n", 14);
	ks_buf_printf(&o, "{\"pid\":%d,\"uptime_s\":%.3f", (int)getpid(), up);
	pthread_mutex_lock(&session_mu);
	if (session_len) {
		ks_buf_ch(&o, ',');
		ks_buf_put(&o, session_json, session_len);
	}
	pthread_mutex_unlock(&session_mu);
	pthread_mutex_lock(&a->mu);
	ks_buf_printf(&o, ",\"intervals\":%llu,\"as_of\":", (unsigned long long)a->intervals);
	if (a->intervals) {
		ks_buf_ch(&o, '"');
		ks_clock_rfc3339(a->clock, &o, a->last_real_ns);
		ks_buf_ch(&o, '"');
	} else {
		ks_buf_str(&o, "null");
	}
	/* the figures of the last interval; none before the first ends */
	ks_buf_put(&o, a->figures.p, a->figures.len);
	pthread_mutex_unlock(&a->mu);
	ks_buf_str(&o, ",\"api\":{");
	ks_events__status_json(a->ev, &o);
	ks_buf_printf(&o, ",\"token\":%s}}\n", ks_api_conf.token ? "true" : "false");
	ret = ks_http_reply(c, MHD_HTTP_OK, KS_HTTP_JSON, o.p, o.len);
	ks_buf_free(&o);
	return ret;
}

bool ks_api__allowed(struct ks_api *a, struct MHD_Connection *c, const char *url,
		     enum MHD_Result *ret)
{
	static const char msg[] = "401 unauthorized: Authorization: Bearer TOKEN\n";
	const char *tok = ks_api_conf.token, *h;
	struct MHD_Response *r;
	size_t n, want;
	unsigned char diff = 0;

	/* the data: /metrics and /api/...; /healthz and the UI's files stay open */
	if (!tok || (strcmp(url, "/metrics") && strncmp(url, "/api/", 5)))
		return true;
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h && !strncasecmp(h, "Bearer ", 7)) {
		h += 7;
		while (*h == ' ')
			h++;
		n = strlen(h);
		want = strlen(tok);
		/* as long whatever the guess: no timing says how much of it was right */
		for (size_t i = 0; i < want; i++)
			diff |= (unsigned char)tok[i] ^ (unsigned char)(i < n ? h[i] : 0);
		if (!diff && n == want)
			return true;
	}
	r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		*ret = MHD_NO;
		return false;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, KS_HTTP_TEXT);
	MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"ksight\"");
	*ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return false;
}

bool ks_api__serve(struct ks_api *a, struct MHD_Connection *c, const char *url, bool head,
		   enum MHD_Result *ret)
{
	if (!a)
		return false;
	if (!strcmp(url, "/api/events")) {
		*ret = ks_events__serve(a->ev, c, head);
		return true;
	}
	if (!strcmp(url, "/api/status")) {
		*ret = status(a, c);
		return true;
	}
	return false;
}
