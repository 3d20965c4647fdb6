// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus endpoint: `-o prometheus:ADDR` (and `ksight run --listen ADDR`) serves
 * the registry as text (prom_text.h) on http://ADDR/metrics. libmicrohttpd answers on its
 * own thread; the reader's thread renders the page at each interval (ops->metrics) and
 * swaps it in under a mutex, so a scrape never touches the registry and never waits for
 * more than a copy. A scrape therefore sees the registry as of the last interval's end.
 *
 * /healthz says whether an interval has ended (and when the last one did): for a liveness
 * or readiness probe.
 *
 * The socket is bound here, not by libmicrohttpd, so that a busy port is told as such
 * (EADDRINUSE) and the agent can say so in one line.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sink/http_api.h"
#include "sink/http_ui.h"
#include "sink/map_api.h"
#include "sink/prom.h"
#include "sink/prom_text.h"
#include "sink/sink.h"

struct prom {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	struct ks_buf page;	/* served; guarded by lock */
	struct ks_buf next;	/* rendered by the reader's thread */
	uint64_t scrapes;	/* guarded by lock */
	struct timespec last;	/* when the last interval ended; guarded by lock */
	uint64_t intervals;	/* ended so far; guarded by lock */
	struct ks_api *api;	/* /api/... (http_api.h) */
};

static const char not_yet[] = "# ksight: no interval has ended yet\n";

int ks_prom_addr_parse(const char *text, struct ks_prom_addr *a, char *err, size_t len)
{
	const char *colon = strrchr(text, ':'), *host = text;
	size_t hl;

	if (!colon || !colon[1]) {
		snprintf(err, len, "--listen %s: not HOST:PORT (e.g. 127.0.0.1:9464)", text);
		return -1;
	}
	hl = colon - text;
	if (hl && text[0] == '[') {
		if (text[hl - 1] != ']' || hl < 3) {
			snprintf(err, len, "--listen %s: an IPv6 address goes in brackets: [::1]:9464",
				 text);
			return -1;
		}
		host++;
		hl -= 2;
	}
	if (!hl || hl >= sizeof(a->host)) {
		snprintf(err, len, "--listen %s: no host (0.0.0.0:PORT for every address)", text);
		return -1;
	}
	memcpy(a->host, host, hl);
	a->host[hl] = 0;
	for (const char *p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9' || p - colon > 5) {
			snprintf(err, len, "--listen %s: bad port '%s'", text, colon + 1);
			return -1;
		}
	}
	a->port = atoi(colon + 1);
	if (a->port < 1 || a->port > 65535) {
		snprintf(err, len, "--listen %s: port %s is not 1-65535", text, colon + 1);
		return -1;
	}
	return 0;
}

static int prom_check(const char *target, char *err, size_t len)
{
	struct ks_prom_addr a;

	return ks_prom_addr_parse(target, &a, err, len);
}

/* A listening socket on @text (HOST:PORT). Returns it, or -errno (EAI errors as EINVAL). */
static int listen_on(const char *text)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	struct ks_prom_addr a;
	char err[128], port[8];
	int fd, one = 1, ret;

	if (ks_prom_addr_parse(text, &a, err, sizeof(err)))
		return -EINVAL;
	snprintf(port, sizeof(port), "%d", a.port);
	if (getaddrinfo(a.host, port, &hints, &res))
		return -EADDRNOTAVAIL;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 64)) {
		ret = -errno;
		close(fd);
		goto out;
	}
	ret = fd;
out:
	freeaddrinfo(res);
	return ret;
}

/* /healthz: 200 once an interval has ended, with how long ago; 503 before (a probe
 * that restarts a starting agent would never let it start: give it an initial delay). */
static enum MHD_Result health(struct MHD_Connection *c, struct prom *p, const char *type)
{
	struct timespec now;
	char body[128];
	double ago;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&p->lock);
	ago = (now.tv_sec - p->last.tv_sec) + (now.tv_nsec - p->last.tv_nsec) / 1e9;
	n = p->intervals ? snprintf(body, sizeof(body), "ok: %llu intervals, the last ended %.1f s ago\n",
				    (unsigned long long)p->intervals, ago)
			 : snprintf(body, sizeof(body), "starting: no interval has ended yet\n");
	pthread_mutex_unlock(&p->lock);
	return ks_http_reply(c, p->intervals ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, type,
			     body, n);
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_size, void **con_cls)
{
	static const char text[] = "text/plain; charset=utf-8";
	struct prom *p = cls;
	enum MHD_Result ret;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return ks_http_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, "GET only\n", 9);
	if (!ks_api__allowed(p->api, c, url, &ret))
		return ret;
	if (!strcmp(url, "/healthz"))
		return health(c, p, text);
	if (ks_map_api_handles(url))
		return ks_map_api_serve(c, url, &p->page, &p->lock);
	if (ks_api__serve(p->api, c, url, !strcmp(method, MHD_HTTP_METHOD_HEAD), &ret))
		return ret;
	if (ks_ui_url(url))
		return ks_ui_serve(c, url);	/* the web UI, http_ui.c */
	if (strcmp(url, "/metrics")) {
		static const char nf[] = "ksight serves /metrics, /healthz, /api/map, "
					 "/api/services/NAME, /api/events, /api/status and its "
					 "web UI at /\n";

		return ks_http_reply(c, MHD_HTTP_NOT_FOUND, text, nf, sizeof(nf) - 1);
	}
	pthread_mutex_lock(&p->lock);
	p->scrapes++;
	if (p->page.len)
		ret = ks_http_reply(c, MHD_HTTP_OK, KS_PROM_CONTENT_TYPE, p->page.p, p->page.len);
	else
		ret = ks_http_reply(c, MHD_HTTP_OK, KS_PROM_CONTENT_TYPE, not_yet,
				    sizeof(not_yet) - 1);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static int prom_open(struct ks_sink *s)
{
	struct prom *p = calloc(1, sizeof(*p));
	int fd, err;

	if (!p)
		return -ENOMEM;
	if (ks_buf_init(&p->page, -1, 1 << 14) || ks_buf_init(&p->next, -1, 1 << 14)) {
		err = -ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->api = ks_api__new(s->clock);
	if (!p->api) {
		err = -errno;
		goto fail;
	}
	fd = listen_on(s->target);
	if (fd < 0) {
		err = fd;
		goto fail;
	}
	/* one polling thread is plenty for a scrape every few seconds and the event streams
	 * (suspended while they wait); a stuck client is dropped after 10 s; a request
	 * bigger than its memory gets 431 */
	p->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
				MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, serve, p,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, KS_HTTP_CONNECTIONS,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)KS_HTTP_CONN_MEMORY,
				MHD_OPTION_CONNECTION_TIMEOUT, 10U, MHD_OPTION_END);
	if (!p->d) {
		close(fd);
		err = -EIO;
		goto fail;
	}
	s->priv = p;
	return 0;
fail:
	ks_api__free(p->api);
	ks_buf_free(&p->page);
	ks_buf_free(&p->next);
	free(p);
	return err;
}

/* The page is the registry; events go to /api/events while a client streams. */
static void prom_emit(struct ks_sink *s, const struct ks_rec *r)
{
	ks_api__emit(((struct prom *)s->priv)->api, r);
}

static void prom_flush(struct ks_sink *s)
{
	struct prom *p = s->priv;

	s->kinds = ks_api__flush(p->api) ? KS_KIND(KS_K_EVENT) : 0;
}

static void prom_collect(struct ks_sink *s, struct ks_metrics *m)
{
	ks_api__collect(((struct prom *)s->priv)->api, m);
}

static void prom_metrics(struct ks_sink *s, const struct ks_metrics *m, int64_t real_ns)
{
	struct prom *p = s->priv;
	struct timespec now;
	struct ks_buf t;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ks_buf_reset(&p->next);
	ks_prom_text(&p->next, m);
	ks_api__metrics(p->api, m, real_ns);
	pthread_mutex_lock(&p->lock);
	p->last = now;
	p->intervals++;
	if (p->next.len) {
		t = p->page;
		p->page = p->next;
		p->next = t;
	}
	pthread_mutex_unlock(&p->lock);
}

static void prom_close(struct ks_sink *s)
{
	struct prom *p = s->priv;

	if (!p)
		return;
	ks_api__stop(p->api);	/* no connection may stay suspended */
	MHD_stop_daemon(p->d);	/* joins its thread and closes the socket */
	ks_api__free(p->api);
	pthread_mutex_destroy(&p->lock);
	ks_buf_free(&p->page);
	ks_buf_free(&p->next);
	free(p);
	s->priv = NULL;
}

const struct ks_sink_ops ks_prom_ops = {
	.name = "prometheus",
	.help = "the metrics registry on http://ADDR/metrics (Prometheus text)",
	.kinds = { 0, 0 },
	.serves = true,
	.needs_service = true,	/* /api/events: the records as --json has them */
	.check = prom_check,
	.open = prom_open,
	.emit = prom_emit,
	.flush = prom_flush,
	.collect = prom_collect,
	.metrics = prom_metrics,
	.close = prom_close,
};
