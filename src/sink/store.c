// SPDX-License-Identifier: GPL-2.0
/*
 * The store sink (store.h): `-o store:PATH`, and `ksight run --store PATH`.
 *
 * On the reader's thread a kept record costs its JSON line (the json backend's own
 * formatting) copied into the current batch; each interval adds the registry's deltas.
 * A batch goes to the worker thread when it holds KS_BATCH_ROWS events, a second has
 * passed since it began, or the interval ends; the worker writes it in one transaction.
 * At most KS_BATCH_JOBS batches wait: a batch refused (the disk is slower than the
 * records) or that fails to commit is dropped, its events counted in the sink's drops and
 * said on stderr.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/metrics.h"
#include "core/worker.h"
#include "sink/escape.h"
#include "sink/sink.h"
#include "sink/store.h"

#define KS_BATCH_ROWS 4096
#define KS_BATCH_BYTES (2u << 20)
#define KS_BATCH_NS 1000000000LL
#define KS_BATCH_JOBS 16
#define KS_RETAIN_EVERY_NS (60 * 1000000000LL)

struct ev {
	int64_t ts;
	uint32_t pid;
	uint32_t type, comm, svc, json;	/* offsets into the arena */
	uint32_t type_len, comm_len, svc_len, json_len;
	bool has_task, has_svc;
};

struct roll {
	int64_t ts;
	double secs, value;
	uint64_t ivalue, count;
	uint32_t metric, labels, metric_len, labels_len;
	uint8_t type;	/* enum ks_metric_type */
};

struct store;

struct batch {
	struct ks_job job;
	struct store *st;
	struct ks_buf arena;
	struct ev *ev;
	struct roll *ro;
	size_t nev, nro, cap_ev, cap_ro;
	int64_t started;	/* real ns of the first event */
	int64_t now;		/* real ns at submission: the retention's clock */
	bool failed;		/* the transaction did not commit */
	char msg[160];
};

struct store {
	struct ks_sink *s;
	sqlite3 *db;		/* the worker's once it runs */
	sqlite3_stmt *ins_ev, *ins_ro;
	struct ks_worker *w;
	struct batch *cur;
	int64_t last_metrics;	/* real ns of the previous rollup (or the open) */
	int64_t last_retain;	/* worker: when the retention last ran */
	bool niced;		/* worker: its nice raised */
	uint64_t rollups_dropped;
	bool said;
};

static struct batch *batch_new(struct store *st)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->st = st;
	if (ks_buf_init(&b->arena, -1, 1 << 16)) {
		free(b);
		return NULL;
	}
	return b;
}

static void batch_free(struct batch *b)
{
	ks_buf_free(&b->arena);
	free(b->ev);
	free(b->ro);
	free(b);
}

static uint32_t put(struct batch *b, const char *p, size_t n)
{
	uint32_t off = b->arena.len;

	ks_buf_put(&b->arena, p, n);
	return off;
}

static const char *at(const struct batch *b, uint32_t off)
{
	return b->arena.p + off;
}

static int bind_text(sqlite3_stmt *q, int i, const struct batch *b, uint32_t off, uint32_t n)
{
	return sqlite3_bind_text(q, i, at(b, off), n, SQLITE_STATIC);
}

/* Worker: the batch in one transaction, then the retention once a minute. */
static void batch_run(struct ks_job *j, struct ks_worker *w)
{
	struct batch *b = (struct batch *)j;
	struct store *st = b->st;
	sqlite3 *db = st->db;
	int rc = SQLITE_OK;

	if (!st->niced) {
		st->niced = true;	/* the writer yields to everything else */
		setpriority(PRIO_PROCESS, gettid(), 10);
		prctl(PR_SET_NAME, "ksight-store");
	}
	if (b->arena.err) {
		b->failed = true;
		snprintf(b->msg, sizeof(b->msg), "out of memory");
		return;
	}
	rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (size_t i = 0; i < b->nev && rc == SQLITE_OK; i++) {
		const struct ev *e = &b->ev[i];
		sqlite3_stmt *q = st->ins_ev;

		sqlite3_bind_int64(q, 1, e->ts);
		bind_text(q, 2, b, e->type, e->type_len);
		if (e->has_task) {
			sqlite3_bind_int64(q, 3, e->pid);
			bind_text(q, 4, b, e->comm, e->comm_len);
		} else {
			sqlite3_bind_null(q, 3);
			sqlite3_bind_null(q, 4);
		}
		if (e->has_svc)
			bind_text(q, 5, b, e->svc, e->svc_len);
		else
			sqlite3_bind_null(q, 5);
		bind_text(q, 6, b, e->json, e->json_len);
		rc = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_reset(q);
	}
	for (size_t i = 0; i < b->nro && rc == SQLITE_OK; i++) {
		const struct roll *r = &b->ro[i];
		sqlite3_stmt *q = st->ins_ro;

		sqlite3_bind_int64(q, 1, r->ts);
		sqlite3_bind_double(q, 2, r->secs);
		bind_text(q, 3, b, r->metric, r->metric_len);
		bind_text(q, 4, b, r->labels, r->labels_len);
		if (r->type == KS_METRIC_COUNTER)
			sqlite3_bind_int64(q, 5, (int64_t)r->ivalue);
		else
			sqlite3_bind_double(q, 5, r->value);
		if (r->type == KS_METRIC_HIST)
			sqlite3_bind_int64(q, 6, (int64_t)r->count);
		else
			sqlite3_bind_null(q, 6);
		rc = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_reset(q);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		b->failed = true;
		snprintf(b->msg, sizeof(b->msg), "%s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	if (b->now - st->last_retain >= KS_RETAIN_EVERY_NS) {
		st->last_retain = b->now;
		ks_store_db_retain(db, b->now, ks_store_conf.retention_s, ks_store_conf.max_bytes);
	}
}

/* Reader: count what a failed or refused batch loses, say it once. */
static void batch_lost(struct store *st, struct batch *b, const char *why)
{
	struct ks_sink *s = st->s;

	s->dropped += b->nev;
	st->rollups_dropped += b->nro;
	if (!s->err)
		s->err = EIO;
	if (!st->said) {
		st->said = true;
		s->said = true;	/* this line says it: the pipe's would be vaguer */
		fprintf(stderr, "ksight: %s: %s; its records are dropped and counted\n", s->name,
			why);
	}
}

static void batch_finish(struct ks_job *j, bool ran)
{
	struct batch *b = (struct batch *)j;

	if (!ran)
		batch_lost(b->st, b, "stopped before writing everything");
	else if (b->failed)
		batch_lost(b->st, b, b->msg);
	batch_free(b);
}

/* Hand the current batch to the worker (if it holds anything). */
static void submit(struct store *st, int64_t now)
{
	struct batch *b = st->cur;

	ks_worker__drain(st->w);
	if (!b || (!b->nev && !b->nro))
		return;
	st->cur = NULL;
	b->now = now;
	b->job.run = batch_run;
	b->job.finish = batch_finish;
	if (ks_worker__submit(st->w, &b->job)) {
		batch_lost(st, b, "the disk is slower than the records");
		batch_free(b);
	}
}

static struct batch *current(struct store *st)
{
	if (!st->cur)
		st->cur = batch_new(st);
	return st->cur;
}

static bool grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *q;

	if (n < *cap)
		return true;
	q = realloc(*p, (*cap ? *cap * 2 : 256) * size);
	if (!q)
		return false;
	*p = q;
	*cap = *cap ? *cap * 2 : 256;
	return true;
}

static bool kept(const char *type)
{
	for (int i = 0; ks_store_types[i]; i++)
		if (!strcmp(type, ks_store_types[i]))
			return true;
	return false;
}

static void store_emit(struct ks_sink *s, const struct ks_rec *r)
{
	struct store *st = s->priv;
	struct batch *b;
	struct ev *e;

	if (!kept(r->type)) {
		/* not history: not counted as this output's record either */
		s->records--;
		s->pending--;
		return;
	}
	b = current(st);
	if (!b || !grow((void **)&b->ev, &b->cap_ev, b->nev, sizeof(*b->ev))) {
		s->dropped++;
		return;
	}
	e = &b->ev[b->nev++];
	memset(e, 0, sizeof(*e));
	if (b->nev == 1)
		b->started = r->real_ns;
	e->ts = r->real_ns;
	e->type_len = strlen(r->type);
	e->type = put(b, r->type, e->type_len);
	if (r->hdr && !(r->hdr->flags & KS_HDR_F_NOTASK)) {
		e->has_task = true;
		e->pid = r->hdr->pid;
		e->comm_len = strnlen(r->hdr->comm, sizeof(r->hdr->comm));
		e->comm = put(b, r->hdr->comm, e->comm_len);
	}
	if (r->service) {
		e->has_svc = true;
		e->svc_len = strlen(r->service);
		e->svc = put(b, r->service, e->svc_len);
	}
	/* the line `--json` prints, without its newline */
	ks_buf_reset(&s->out);
	ks_json_ops.emit(s, r);
	if (s->out.len && s->out.p[s->out.len - 1] == '\n')
		s->out.len--;
	e->json_len = s->out.len;
	e->json = put(b, s->out.p, s->out.len);
	ks_buf_reset(&s->out);
	if (b->nev >= KS_BATCH_ROWS || b->arena.len >= KS_BATCH_BYTES ||
	    r->real_ns - b->started >= KS_BATCH_NS)
		submit(st, r->real_ns);
}

/* The labels of @sr as a JSON object: {"comm":"cat"}; the overflow series' is
 * {"ksight_overflow":"true"}. */
static void labels_json(struct ks_buf *o, const struct ks_metric *m, const struct ks_series *sr)
{
	ks_buf_ch(o, '{');
	if (sr->overflow && m->nlabels) {
		ks_buf_str(o, "\"ksight_overflow\":\"true\"");
	} else {
		for (unsigned int i = 0; i < m->nlabels; i++) {
			if (i)
				ks_buf_ch(o, ',');
			ks_json_str(o, m->d->labels[i], strlen(m->d->labels[i]));
			ks_buf_ch(o, ':');
			ks_json_str(o, sr->label[i] ? sr->label[i] : "", sr->label[i] ?
				    strlen(sr->label[i]) : 0);
		}
	}
	ks_buf_ch(o, '}');
}

static void add_roll(struct store *st, struct batch *b, const struct ks_metric *m,
		     const struct ks_series *sr, int64_t now, double secs)
{
	struct ks_hist_vals hv;
	struct roll *r;

	if (!grow((void **)&b->ro, &b->cap_ro, b->nro, sizeof(*b->ro))) {
		st->rollups_dropped++;
		return;
	}
	r = &b->ro[b->nro];
	memset(r, 0, sizeof(*r));
	r->type = m->d->type;
	switch (m->d->type) {
	case KS_METRIC_COUNTER:
		r->ivalue = ks_counter_delta(sr);
		if (!r->ivalue)
			return;
		break;
	case KS_METRIC_GAUGE:
		r->value = sr->v.d;
		break;
	case KS_METRIC_HIST:
		ks_hist_delta(sr, &hv);
		if (!hv.count)
			return;
		r->count = hv.count;
		r->value = ks_hist_sum(sr, &hv);
		break;
	}
	b->nro++;
	r->ts = now;
	r->secs = secs;
	r->metric_len = strlen(m->d->name);
	r->metric = put(b, m->d->name, r->metric_len);
	r->labels = b->arena.len;
	labels_json(&b->arena, m, sr);
	r->labels_len = b->arena.len - r->labels;
}

/* Each interval: the deltas of every counter and histogram that moved, every gauge. */
static void store_metrics(struct ks_sink *s, const struct ks_metrics *reg, int64_t now)
{
	struct store *st = s->priv;
	double secs = (now - st->last_metrics) / 1e9;
	struct batch *b = current(st);

	st->last_metrics = now;
	if (!b) {
		st->rollups_dropped++;
		return;
	}
	for (const struct ks_metric *m = ks_metrics_first(reg); m; m = ks_metric_next(m))
		for (const struct ks_series *sr = ks_series_first(m); sr; sr = ks_series_next(sr))
			add_roll(st, b, m, sr, now, secs);
	submit(st, now);
}

static int prepare(struct store *st, char *err, size_t len)
{
	if (sqlite3_prepare_v3(st->db, "INSERT INTO events(ts, type, pid, comm, service, json) "
			       "VALUES(?, ?, ?, ?, ?, ?)", -1, SQLITE_PREPARE_PERSISTENT,
			       &st->ins_ev, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(st->db, "INSERT INTO rollups(ts, secs, metric, labels, value, "
			       "count) VALUES(?, ?, ?, ?, ?, ?)", -1, SQLITE_PREPARE_PERSISTENT,
			       &st->ins_ro, NULL) != SQLITE_OK) {
		snprintf(err, len, "%s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static void store_free(struct store *st)
{
	sqlite3_finalize(st->ins_ev);
	sqlite3_finalize(st->ins_ro);
	sqlite3_close(st->db);
	if (st->cur)
		batch_free(st->cur);
	free(st);
}

static int store_open(struct ks_sink *s)
{
	struct store *st = calloc(1, sizeof(*st));
	char err[300];
	int64_t now;
	int e;

	if (!st)
		return -ENOMEM;
	st->s = s;
	now = ks_clock_real(s->clock, ks_clock_mono_now());
	st->last_metrics = now;
	err[0] = 0;
	st->db = ks_store_db_open(s->target, err, sizeof(err));
	e = st->db ? EIO : errno;
	if (!st->db || prepare(st, err, sizeof(err)) ||
	    ks_store_db_retain(st->db, now, ks_store_conf.retention_s,
			       ks_store_conf.max_bytes) < 0) {
		if (st->db && !err[0])
			snprintf(err, sizeof(err), "%s", sqlite3_errmsg(st->db));
		/* the file's own errno (EACCES, ENOENT), else an I/O error of SQLite's */
		if (e == EIO)	/* SQLite's reason: the caller's line would only say EIO */
			fprintf(stderr, "ksight: store: %s\n", err);
		store_free(st);
		return -e;
	}
	st->last_retain = now;
	st->w = ks_worker__new(KS_BATCH_JOBS, 0, true);
	if (!st->w) {
		int e = errno;

		store_free(st);
		return -e;
	}
	s->priv = st;
	return 0;
}

static void store_drain(struct ks_sink *s, int timeout_ms)
{
	struct store *st = s->priv;

	submit(st, ks_clock_real(s->clock, ks_clock_mono_now()));
	ks_worker__wait_idle(st->w, timeout_ms);
}

static void store_close(struct ks_sink *s)
{
	struct store *st = s->priv;

	if (!st)
		return;
	submit(st, ks_clock_real(s->clock, ks_clock_mono_now()));
	ks_worker__wait_idle(st->w, 10000);
	ks_worker__free(st->w);	/* what it could not write is counted as dropped */
	if (st->rollups_dropped)
		fprintf(stderr, "ksight: %s: %llu interval rollups dropped\n", s->name,
			(unsigned long long)st->rollups_dropped);
	store_free(st);
	s->priv = NULL;
}

static int store_check(const char *target, char *err, size_t len)
{
	if (!target[0]) {
		snprintf(err, len, "store: no database path");
		return -1;
	}
	return 0;
}

const struct ks_sink_ops ks_store_ops = {
	.name = "store",
	.help = "history in SQLite for ksight query: execs, connections, interval rollups",
	.kinds = { KS_KIND(KS_K_EVENT), KS_KIND(KS_K_EVENT) },
	.needs_service = true,
	/* PATH is the database the backend opens itself, not a file the core appends to */
	.serves = true,
	.check = store_check,
	.open = store_open,
	.emit = store_emit,
	.metrics = store_metrics,
	.drain = store_drain,
	.close = store_close,
};
