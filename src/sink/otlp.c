// SPDX-License-Identifier: GPL-2.0
/*
 * The OTLP/HTTP exporter: `-o otlp:URL` (`ksight run --otlp URL`), `-o otlp-protobuf:URL`
 * (`--otlp-encoding protobuf`). At each interval the reader's thread renders the registry
 * (otlp_json.c, otlp_pb.c) and queues the payload; a sender
 * thread POSTs it with a small HTTP/1.1 client of its own (otlp_http.c: http:// only). The
 * queue holds KS_OTLP_QUEUE payloads: when the receiver is slower than the intervals the
 * oldest is dropped (the newer one carries the same cumulative counts, and more). Every
 * failure (no connection, an error while sending, a status that is not 2xx, a dropped
 * payload) is counted in ksight_otlp_export_failures_total{reason} and said on stderr at
 * most once a minute; none stops the agent.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sink/otlp.h"
#include "sink/prom_text.h"
#include "sink/sink.h"

#define KS_OTLP_QUEUE 4
#define KS_OTLP_TIMEOUT_MS 10000	/* one export: connect, send, answer */
#define KS_OTLP_SAY_EVERY_S 60

/* failure reasons: ks_otlp_post's, then the queue's */
enum { R_CONNECT = KS_OTLP_CONNECT, R_SEND = KS_OTLP_SEND, R_STATUS = KS_OTLP_STATUS,
       R_DROPPED, R_N };
static const char *const reason_name[R_N] = { "connect", "send", "status", "dropped" };

static const struct ks_metric_desc failures_desc = {
	.name = "ksight_otlp_export_failures_total",
	.help = "OTLP exports that failed, per reason: connect (no connection), send (an "
		"error or timeout while sending or waiting), status (an answer not 2xx), "
		"dropped (the queue full: the receiver slower than the intervals)",
	.type = KS_METRIC_COUNTER,
	.labels = { "reason" },
	.budget = R_N,
};

static const struct ks_metric_desc exports_desc = {
	.name = "ksight_otlp_exports_total",
	.help = "OTLP exports the receiver accepted (2xx)",
	.type = KS_METRIC_COUNTER,
};

struct otlp {
	bool protobuf;			/* otlp-protobuf: the binary encoding */
	struct ks_http_url url;
	char text[1400];		/* the URL as given, for messages */
	char host_name[256];
	uint64_t start_ns;
	pthread_t thread;
	bool started;
	int stopfd;			/* an eventfd: close() wakes the sender at once */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* guarded by lock */
	struct ks_buf q[KS_OTLP_QUEUE];	/* payloads waiting, from q[head] */
	int head, n;
	bool busy;			/* the sender holds one */
	bool stop;
	uint64_t fails[R_N], ok;
	/* the sender's own */
	struct ks_buf sending;
	time_t said_at;			/* the last failure said */
	bool told;			/* a failure said since exports last worked */
	/* the reader's own */
	struct ks_buf next;
};


static int otlp_check(const char *target, char *err, size_t len)
{
	struct ks_http_url u;

	return ks_otlp_url_parse(target, &u, err, len);
}


/* One line on stderr for the first failure, then at most one a minute. */
static void say(struct otlp *o, int r, int code, int err)
{
	time_t now = time(NULL);
	uint64_t total = 0;
	char why[96];

	pthread_mutex_lock(&o->lock);
	for (int i = 0; i < R_N; i++)
		total += o->fails[i];
	pthread_mutex_unlock(&o->lock);
	if (o->said_at && now - o->said_at < KS_OTLP_SAY_EVERY_S)
		return;
	if (r == R_STATUS)
		snprintf(why, sizeof(why), "the receiver answered %d", code);
	else if (r == R_CONNECT)
		snprintf(why, sizeof(why), "cannot connect (%s)", err ? strerror(err) : "no address");
	else
		snprintf(why, sizeof(why), "no answer (%s)", err ? strerror(err) : "closed or timed out");
	fprintf(stderr, "ksight: otlp %s: %s; %llu failed exports so far "
		"(ksight_otlp_export_failures_total; said at most once a minute)\n",
		o->text, why, (unsigned long long)total);
	o->said_at = now;
	o->told = true;
}

static void *sender(void *arg)
{
	struct otlp *o = arg;

	pthread_mutex_lock(&o->lock);
	for (;;) {
		struct ks_buf t;
		int r;
		int code, err;

		while (!o->n && !o->stop)
			pthread_cond_wait(&o->cond, &o->lock);
		if (!o->n)
			break;
		t = o->q[o->head];
		o->q[o->head] = o->sending;
		o->sending = t;
		o->head = (o->head + 1) % KS_OTLP_QUEUE;
		o->n--;
		o->busy = true;
		pthread_mutex_unlock(&o->lock);
		errno = 0;
		r = ks_otlp_post(&o->url, o->stopfd, o->protobuf, o->sending.p, o->sending.len,
				 KS_OTLP_TIMEOUT_MS, &code);
		err = errno;
		if (r == KS_OTLP_OK && o->told) {
			/* back after failures that were said (once per one said) */
			fprintf(stderr, "ksight: otlp %s: exports resume\n", o->text);
			o->told = false;
		}
		pthread_mutex_lock(&o->lock);
		o->busy = false;
		if (r == KS_OTLP_OK)
			o->ok++;
		else
			o->fails[r]++;
		pthread_cond_broadcast(&o->cond);
		if (r != KS_OTLP_OK) {
			pthread_mutex_unlock(&o->lock);
			say(o, r, code, err);
			pthread_mutex_lock(&o->lock);
		}
		if (o->stop && r != KS_OTLP_OK)
			break;	/* stopping: no more waiting on a receiver that fails */
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

static void otlp_free(struct otlp *o)
{
	for (int i = 0; i < KS_OTLP_QUEUE; i++)
		ks_buf_free(&o->q[i]);
	ks_buf_free(&o->sending);
	ks_buf_free(&o->next);
	if (o->stopfd >= 0)
		close(o->stopfd);
	free(o);
}

static int otlp_open(struct ks_sink *s)
{
	struct otlp *o = calloc(1, sizeof(*o));
	struct timespec t;
	char err[160];
	int ret = -ENOMEM;

	if (!o)
		return -ENOMEM;
	o->stopfd = -1;
	o->protobuf = s->ops == &ks_otlp_pb_ops;
	if (ks_otlp_url_parse(s->target, &o->url, err, sizeof(err))) {
		ret = -EINVAL;
		goto fail;
	}
	snprintf(o->text, sizeof(o->text), "%s", s->target);
	for (int i = 0; i < KS_OTLP_QUEUE; i++)
		if (ks_buf_init(&o->q[i], -1, 1 << 12))
			goto fail;
	if (ks_buf_init(&o->sending, -1, 1 << 12) || ks_buf_init(&o->next, -1, 1 << 14))
		goto fail;
	o->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (o->stopfd < 0) {
		ret = -errno;
		goto fail;
	}
	if (ks_host_label)
		snprintf(o->host_name, sizeof(o->host_name), "%s", ks_host_label);
	else if (gethostname(o->host_name, sizeof(o->host_name) - 1))
		strcpy(o->host_name, "unknown");
	clock_gettime(CLOCK_REALTIME, &t);
	o->start_ns = t.tv_sec * 1000000000ULL + t.tv_nsec;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
	ret = -pthread_create(&o->thread, NULL, sender, o);
	if (ret) {
		pthread_cond_destroy(&o->cond);
		pthread_mutex_destroy(&o->lock);
		goto fail;
	}
	o->started = true;
	s->priv = o;
	return 0;
fail:
	otlp_free(o);
	return ret;
}

static void otlp_emit(struct ks_sink *s, const struct ks_rec *r)
{
}

/* The registry's own counts of this exporter, before the outputs render it. */
static void otlp_collect(struct ks_sink *s, struct ks_metrics *m)
{
	struct otlp *o = s->priv;
	struct ks_metric *f = ks_metrics__register(m, &failures_desc);
	struct ks_metric *e = ks_metrics__register(m, &exports_desc);
	uint64_t fails[R_N], ok;

	if (!o || !f || !e)
		return;
	pthread_mutex_lock(&o->lock);
	memcpy(fails, o->fails, sizeof(fails));
	ok = o->ok;
	pthread_mutex_unlock(&o->lock);
	for (int i = 0; i < R_N; i++)
		ks_counter_set(ks_metric_get(f, reason_name[i]), fails[i]);
	ks_counter_set(ks_metric_get(e, NULL), ok);
}

/* Render on the reader's thread, queue for the sender: never waits on the network. */
static void otlp_metrics(struct ks_sink *s, const struct ks_metrics *m, int64_t real_ns)
{
	struct otlp *o = s->priv;
	struct ks_otlp_resource res = { .host_name = o->host_name, .start_ns = o->start_ns,
					.time_ns = real_ns > 0 ? (uint64_t)real_ns : 0 };
	struct ks_buf t;
	int tail;

	ks_buf_reset(&o->next);
	if (o->protobuf)
		ks_otlp_protobuf(&o->next, m, &res);
	else
		ks_otlp_json(&o->next, m, &res);
	pthread_mutex_lock(&o->lock);
	if (o->n == KS_OTLP_QUEUE) {
		/* the oldest goes: the newest carries the same cumulative counts and more */
		o->head = (o->head + 1) % KS_OTLP_QUEUE;
		o->n--;
		o->fails[R_DROPPED]++;
	}
	tail = (o->head + o->n) % KS_OTLP_QUEUE;
	t = o->q[tail];
	o->q[tail] = o->next;
	o->next = t;
	o->n++;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

/* Give the sender up to @timeout_ms to send what is queued (the final export). */
static void wait_sent(struct otlp *o, int timeout_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&o->lock);
	while ((o->n || o->busy) &&
	       pthread_cond_timedwait(&o->cond, &o->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&o->lock);
}

static void otlp_close(struct ks_sink *s)
{
	struct otlp *o = s->priv;
	uint64_t one = 1;

	if (!o)
		return;
	if (o->started) {
		wait_sent(o, 2000);
		pthread_mutex_lock(&o->lock);
		o->stop = true;
		o->n = 0;	/* what is still queued after 2 s is not waited for */
		pthread_cond_signal(&o->cond);
		pthread_mutex_unlock(&o->lock);
		/* wakes a sender waiting on the network (an eventfd takes one write) */
		if (write(o->stopfd, &one, sizeof(one)) < 0)
			one = 0;
		pthread_join(o->thread, NULL);
		pthread_cond_destroy(&o->cond);
		pthread_mutex_destroy(&o->lock);
	}
	otlp_free(o);
	s->priv = NULL;
}

const struct ks_sink_ops ks_otlp_ops = {
	.name = "otlp",
	.help = "the metrics registry POSTed to an OTLP/HTTP receiver (JSON) each interval: "
		"otlp:http://HOST:PORT/v1/metrics",
	.kinds = { 0, 0 },
	.serves = true,
	.check = otlp_check,
	.open = otlp_open,
	.emit = otlp_emit,
	.collect = otlp_collect,
	.metrics = otlp_metrics,
	.close = otlp_close,
};

const struct ks_sink_ops ks_otlp_pb_ops = {
	.name = "otlp-protobuf",
	.help = "the same in protobuf's binary encoding",
	.kinds = { 0, 0 },
	.serves = true,
	.check = otlp_check,
	.open = otlp_open,
	.emit = otlp_emit,
	.collect = otlp_collect,
	.metrics = otlp_metrics,
	.close = otlp_close,
};
