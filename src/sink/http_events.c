// SPDX-License-Identifier: GPL-2.0
/* /api/events (http_events.h): the clients, their filters and queues, and their streams. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "sink/escape.h"
#include "sink/http_api.h"
#include "sink/http_events.h"
#include "sink/http_filter.h"
#include "sink/sink.h"

#define PRE_BITS 1024		/* the prefilter's bits per key */

struct client {
	struct client *next, *prev;
	struct ks_events *e;
	struct MHD_Connection *conn;
	int fd;			/* the connection's socket: is the peer gone? */
	uint64_t id;
	bool active;		/* the reader started it: it receives events */
	bool suspended;		/* suspended by its callback, to be resumed by one party */
	struct ks_buf q;	/* SSE frames to send, from q.p + off */
	size_t off;
	uint64_t sent, lost, lost_unsaid;
	uint64_t last_write, last_check;	/* monotonic ns */
	struct ks_evfilter f;
	char query[256];
};

struct ks_events {
	pthread_mutex_t mu;
	struct client *head;
	unsigned int nclients;	/* guarded by mu */
	unsigned int nactive;	/* the reader's own copy, set at each flush */
	uint64_t next_id;
	size_t queued;		/* bytes in every queue */
	uint64_t sent, lost;	/* events, guarded by mu */
	bool need_wake;		/* the reader queued for a suspended client */
	bool stopping;
	/* The reader's own prefilter, remade at a flush after the clients changed: when every
	 * stream filters on comm (pid), a record whose comm (pid) hashes to no bit set here
	 * matches none, and is left before the lock and the per-client loop. */
	uint64_t gen, pre_gen;	/* gen: bumped under mu when a client comes or goes */
	bool pre_any_comm, pre_any_pid;	/* some stream takes every comm (pid) */
	uint64_t pre_comm[PRE_BITS / 64], pre_pid[PRE_BITS / 64];
	struct ks_sink fmt;	/* the JSON backend's formatting, into fmt.out */
	int wake;		/* eventfd: the notifier's */
	pthread_t notifier;
	bool notifier_on;
	struct MHD_Connection **resume;	/* the notifier's scratch, one per client */
};

static uint64_t now_ns(void)
{
	return ks_clock_mono_now();
}

/* ---- the reader's side ------------------------------------------------------------ */

static void queue_put(struct ks_events *e, struct client *c, const char *p, size_t n)
{
	size_t before = c->q.len;

	ks_buf_put(&c->q, p, n);
	e->queued += c->q.len - before;
}

static uint32_t comm_hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h % PRE_BITS;
}

static void bit_set(uint64_t *b, uint32_t i)
{
	b[i / 64] |= 1ULL << (i % 64);
}

static bool bit_test(const uint64_t *b, uint32_t i)
{
	return b[i / 64] & (1ULL << (i % 64));
}

/* Under mu, on the reader's thread. */
static void prefilter(struct ks_events *e)
{
	e->pre_any_comm = e->pre_any_pid = false;
	memset(e->pre_comm, 0, sizeof(e->pre_comm));
	memset(e->pre_pid, 0, sizeof(e->pre_pid));
	for (struct client *c = e->head; c; c = c->next) {
		if (!c->active)
			continue;
		e->pre_any_comm |= !c->f.ncomms;
		e->pre_any_pid |= !c->f.npids;
		for (unsigned int i = 0; i < c->f.ncomms; i++)
			bit_set(e->pre_comm, comm_hash(c->f.comms[i], c->f.comm_len[i]));
		for (unsigned int i = 0; i < c->f.npids; i++)
			bit_set(e->pre_pid, c->f.pids[i] % PRE_BITS);
	}
	e->pre_gen = e->gen;
}

/* Whether some stream may take @r (false: surely none). */
static bool may_match(const struct ks_events *e, const struct ks_rec *r)
{
	const struct ks_hdr *h;

	if (e->pre_any_comm && e->pre_any_pid)
		return true;
	h = r->hdr && !(r->hdr->flags & KS_HDR_F_NOTASK) ? r->hdr : NULL;
	if (!h)
		return false;
	if (!e->pre_any_pid && !bit_test(e->pre_pid, h->pid % PRE_BITS))
		return false;
	return e->pre_any_comm ||
	       bit_test(e->pre_comm, comm_hash(h->comm, strnlen(h->comm, sizeof(h->comm))));
}

void ks_events__emit(struct ks_events *e, const struct ks_rec *r)
{
	bool formatted = false;
	const char *json = NULL;
	size_t len = 0;

	if (!e || !e->nactive || !may_match(e, r))
		return;
	pthread_mutex_lock(&e->mu);
	for (struct client *c = e->head; c; c = c->next) {
		size_t need;

		if (!c->active || !ks_evfilter_match(&c->f, r))
			continue;
		if (!formatted) {
			ks_buf_reset(&e->fmt.out);
			ks_json_ops.emit(&e->fmt, r);
			formatted = true;
			json = e->fmt.out.p;
			len = e->fmt.out.len;
			if (len && json[len - 1] == '\n')
				len--;
		}
		need = len + 8 + (c->lost_unsaid ? 64 : 0);
		if (c->q.len - c->off + need > KS_EVENTS_QUEUE_MAX ||
		    e->queued + need > KS_EVENTS_QUEUED_MAX || ks_buf_reserve(&c->q, need)) {
			c->lost++;
			c->lost_unsaid++;
			e->lost++;
			continue;
		}
		if (c->lost_unsaid) {
			char note[64];
			int n = snprintf(note, sizeof(note),
					 "event: lost\ndata: {\"lost\":%llu}\n\n",
					 (unsigned long long)c->lost_unsaid);

			queue_put(e, c, note, n);
			c->lost_unsaid = 0;
		}
		queue_put(e, c, "data: ", 6);
		queue_put(e, c, json, len);
		queue_put(e, c, "\n\n", 2);
		c->sent++;
		e->sent++;
		if (c->suspended)
			e->need_wake = true;
	}
	pthread_mutex_unlock(&e->mu);
}

static void wake(struct ks_events *e)
{
	uint64_t one = 1;

	if (write(e->wake, &one, sizeof(one)) < 0) {
		/* full (never in practice): the notifier is awake anyway */
	}
}

bool ks_events__flush(struct ks_events *e)
{
	static const char hello[] = ": ksight /api/events\n\n";
	unsigned int active = 0;
	bool need;

	if (!e)
		return false;
	pthread_mutex_lock(&e->mu);
	for (struct client *c = e->head; c; c = c->next) {
		if (!c->active) {
			/* from here on the reader hands it records: say so, the client may
			 * start what it wants to see */
			queue_put(e, c, hello, sizeof(hello) - 1);
			c->active = true;
			e->gen++;
			if (c->suspended)
				e->need_wake = true;
		}
		active++;
	}
	e->nactive = active;
	if (e->pre_gen != e->gen)
		prefilter(e);
	need = e->need_wake;
	e->need_wake = false;
	pthread_mutex_unlock(&e->mu);
	if (need)
		wake(e);
	return active > 0;
}

/* ---- the HTTP side ---------------------------------------------------------------- */

/* Whether the peer closed its side (an SSE client sends nothing after its request). */
static bool peer_gone(int fd)
{
	char b;
	ssize_t n;

	if (fd < 0)
		return false;
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static ssize_t stream(void *cls, uint64_t pos, char *buf, size_t max)
{
	static const char ping[] = ":\n\n";
	struct client *c = cls;
	struct ks_events *e = c->e;
	uint64_t now = now_ns();
	size_t n;
	bool resume, check;

	pthread_mutex_lock(&e->mu);
	if (e->stopping) {
		pthread_mutex_unlock(&e->mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = c->q.len - c->off;
	if (n) {
		if (n > max)
			n = max;
		memcpy(buf, c->q.p + c->off, n);
		c->off += n;
		e->queued -= n;
		if (c->off == c->q.len) {
			c->off = c->q.len = 0;
			if (c->q.cap > (64u << 10)) {
				/* a burst is over: give its memory back */
				ks_buf_free(&c->q);
				ks_buf_init(&c->q, -1, 512);
			}
		} else if (c->off > (64u << 10) && c->off > c->q.len / 2) {
			memmove(c->q.p, c->q.p + c->off, c->q.len - c->off);
			c->q.len -= c->off;
			c->off = 0;
		}
		c->last_write = now;
		pthread_mutex_unlock(&e->mu);
		return n;
	}
	if (now - c->last_write >= KS_EVENTS_KEEPALIVE_S * 1000000000ULL &&
	    max >= sizeof(ping) - 1) {
		c->last_write = now;
		pthread_mutex_unlock(&e->mu);
		memcpy(buf, ping, sizeof(ping) - 1);
		return sizeof(ping) - 1;
	}
	/* is the peer gone? asked after a quiet check period, not each time a burst ends */
	check = now - c->last_check >= KS_EVENTS_CHECK_S * 1000000000ULL;
	if (check)
		c->last_check = now;
	pthread_mutex_unlock(&e->mu);
	if (check && peer_gone(c->fd))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	/* nothing to send: out of the event loop until the notifier resumes it */
	MHD_suspend_connection(c->conn);
	pthread_mutex_lock(&e->mu);
	resume = c->q.len > c->off || e->stopping;
	c->suspended = !resume;
	pthread_mutex_unlock(&e->mu);
	if (resume)
		MHD_resume_connection(c->conn);
	return 0;
}

static void client_free(void *cls)
{
	struct client *c = cls;
	struct ks_events *e = c->e;

	pthread_mutex_lock(&e->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		e->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	e->queued -= c->q.len - c->off;
	e->nclients--;
	e->gen++;
	pthread_mutex_unlock(&e->mu);
	ks_buf_free(&c->q);
	free(c);
}

/* The filter as given (decoded), for /api/status. */
static enum MHD_Result one_text(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	struct client *c = cls;
	size_t o = strlen(c->query);

	if (o < sizeof(c->query) - 1)
		snprintf(c->query + o, sizeof(c->query) - o, "%s%s=%s", o ? "&" : "", key,
			 value ? value : "");
	return MHD_YES;
}

enum MHD_Result ks_events__serve(struct ks_events *e, struct MHD_Connection *conn, bool head)
{
	static const char type[] = "text/event-stream";
	const union MHD_ConnectionInfo *ci;
	char err[200];
	struct MHD_Response *r;
	struct client *c;
	enum MHD_Result ret;
	bool full;

	c = calloc(1, sizeof(*c));
	if (!c || ks_buf_init(&c->q, -1, 512)) {
		free(c);
		return ks_http_reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, KS_HTTP_TEXT,
				     "out of memory\n", 14);
	}
	if (ks_evfilter_parse(conn, &c->f, err, sizeof(err))) {
		char msg[220];
		int n = snprintf(msg, sizeof(msg), "%s\n", err);

		ks_buf_free(&c->q);
		free(c);
		return ks_http_reply(conn, MHD_HTTP_BAD_REQUEST, KS_HTTP_TEXT, msg, n);
	}
	if (head) {
		ks_buf_free(&c->q);
		free(c);
		return ks_http_reply(conn, MHD_HTTP_OK, type, "", 0);
	}
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, one_text, c);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	c->fd = ci ? ci->connect_fd : -1;
	if (c->fd >= 0) {
		/* the kernel's buffer of a stream stays small (autotuning would let a slow
		 * client hold megabytes of it): what waits longer waits in the queue, bounded
		 * and counted */
		int sndbuf = KS_EVENTS_SNDBUF;

		setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	c->e = e;
	c->conn = conn;
	c->last_write = c->last_check = now_ns();
	pthread_mutex_lock(&e->mu);
	full = e->nclients >= KS_EVENTS_CLIENTS_MAX || e->stopping;
	if (!full) {
		c->id = ++e->next_id;
		c->next = e->head;
		if (e->head)
			e->head->prev = c;
		e->head = c;
		e->nclients++;
	}
	pthread_mutex_unlock(&e->mu);
	if (full) {
		static const char msg[] = "too many /api/events clients\n";

		ks_buf_free(&c->q);
		free(c);
		return ks_http_reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, KS_HTTP_TEXT, msg,
				     sizeof(msg) - 1);
	}
	/* from here on the client is freed with the response (client_free) */
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 8192, stream, c, client_free);
	if (!r) {
		client_free(c);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- the notifier ----------------------------------------------------------------- */

static void *notifier(void *arg)
{
	struct ks_events *e = arg;

	for (;;) {
		struct pollfd pfd = { e->wake, POLLIN, 0 };
		uint64_t v, now;
		unsigned int n = 0;
		bool stop;

		if (poll(&pfd, 1, 1000) > 0 && read(e->wake, &v, sizeof(v)) < 0) {
			/* EAGAIN: another read took it */
		}
		now = now_ns();
		pthread_mutex_lock(&e->mu);
		stop = e->stopping;
		for (struct client *c = e->head; c && !stop; c = c->next) {
			if (!c->suspended)
				continue;
			if (c->q.len > c->off ||
			    now - c->last_check >= KS_EVENTS_CHECK_S * 1000000000ULL) {
				c->suspended = false;
				e->resume[n++] = c->conn;
			}
		}
		pthread_mutex_unlock(&e->mu);
		if (stop)
			break;
		/* a suspended connection is ours until resumed: MHD frees none of them */
		for (unsigned int i = 0; i < n; i++)
			MHD_resume_connection(e->resume[i]);
	}
	return NULL;
}

struct ks_events *ks_events__new(struct ks_clock *clock)
{
	struct ks_events *e = calloc(1, sizeof(*e));
	int err = ENOMEM;

	if (!e)
		goto fail;
	e->wake = -1;
	e->resume = calloc(KS_EVENTS_CLIENTS_MAX, sizeof(*e->resume));
	if (!e->resume || ks_buf_init(&e->fmt.out, -1, 4096) || ks_buf_init(&e->fmt.tmp, -1, 256))
		goto fail;
	e->fmt.ops = &ks_json_ops;
	e->fmt.clock = clock;
	e->fmt.name = "api";
	e->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->wake < 0) {
		err = errno;
		goto fail;
	}
	pthread_mutex_init(&e->mu, NULL);
	err = pthread_create(&e->notifier, NULL, notifier, e);
	if (err) {
		pthread_mutex_destroy(&e->mu);
		goto fail;
	}
	e->notifier_on = true;
	return e;
fail:
	if (e) {
		if (e->wake >= 0)
			close(e->wake);
		ks_buf_free(&e->fmt.out);
		ks_buf_free(&e->fmt.tmp);
		free(e->resume);
		free(e);
	}
	errno = err;
	return NULL;
}

void ks_events__stop(struct ks_events *e)
{
	unsigned int n = 0;

	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->stopping = true;
	pthread_mutex_unlock(&e->mu);
	if (e->notifier_on) {
		wake(e);
		pthread_join(e->notifier, NULL);
		e->notifier_on = false;
	}
	pthread_mutex_lock(&e->mu);
	for (struct client *c = e->head; c; c = c->next)
		if (c->suspended) {
			c->suspended = false;
			e->resume[n++] = c->conn;
		}
	pthread_mutex_unlock(&e->mu);
	for (unsigned int i = 0; i < n; i++)
		MHD_resume_connection(e->resume[i]);
}

void ks_events__free(struct ks_events *e)
{
	if (!e)
		return;
	ks_events__stop(e);
	/* the daemon has stopped: every client went with its response */
	pthread_mutex_destroy(&e->mu);
	close(e->wake);
	ks_buf_free(&e->fmt.out);
	ks_buf_free(&e->fmt.tmp);
	free(e->resume);
	free(e);
}

void ks_events__totals(struct ks_events *e, uint64_t *clients, uint64_t *sent, uint64_t *lost)
{
	*clients = *sent = *lost = 0;
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	*clients = e->nclients;
	*sent = e->sent;
	*lost = e->lost;
	pthread_mutex_unlock(&e->mu);
}

void ks_events__status_json(struct ks_events *e, struct ks_buf *o)
{
	unsigned int shown = 0;

	pthread_mutex_lock(&e->mu);
	ks_buf_printf(o, "\"clients\":%u,\"events_sent\":%llu,\"events_lost\":%llu,"
		      "\"streams\":[", e->nclients, (unsigned long long)e->sent,
		      (unsigned long long)e->lost);
	/* the first 64: enough to find a slow one */
	for (struct client *c = e->head; c && shown < 64; c = c->next, shown++) {
		ks_buf_printf(o, "%s{\"id\":%llu,\"filter\":", shown ? "," : "",
			      (unsigned long long)c->id);
		ks_json_str(o, c->query, strlen(c->query));
		ks_buf_printf(o, ",\"sent\":%llu,\"lost\":%llu,\"queued_bytes\":%zu}",
			      (unsigned long long)c->sent, (unsigned long long)c->lost,
			      c->q.len - c->off);
	}
	ks_buf_ch(o, ']');
	pthread_mutex_unlock(&e->mu);
}
