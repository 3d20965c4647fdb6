/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sinks turn records into output. One small interface, swappable backends (redis-style):
 * a backend is a `const struct ks_sink_ops` in one file of src/sink, listed once in
 * ks_sink_backends (backends.c); `-o FORMAT[,KIND...][:PATH]` then selects it. A session
 * feeds any number of sinks at once through a pipeline (pipe.h); each takes only the kinds
 * of record it asked for. A sink never knows which module made a record.
 *
 * Output is formatted into s->out on the reader's thread. A sink on stdout writes it
 * synchronously at each flush (a consumer that goes away stops ksight: EPIPE). A sink on a
 * file hands it to a writer thread (writer.h): a slow or failing file never stalls the
 * reader; what it cannot take is dropped, counted per sink, reported on stderr and in the
 * final stats record, and the command exits 1.
 */
#ifndef KSIGHT_SINK_H
#define KSIGHT_SINK_H

#include <stdbool.h>

#include "core/clock.h"
#include "sink/outbuf.h"
#include "sink/record.h"

struct ks_sink;
struct ks_metrics;
struct ks_writer;

#define KS_KIND(k) (1u << (k))
#define KS_KINDS_ALL (KS_KIND(KS_K_N) - 1)

struct ks_sink_ops {
	const char *name;	/* the FORMAT of -o specs: "table", "json" */
	const char *help;	/* one line for --help */
	/* Kinds taken when the spec names none: [0] in tools, [1] in the agent. */
	unsigned int kinds[2];
	bool needs_service;	/* wants r->service: the core looks services up only then */
	bool stdout_only;	/* refuses -o FORMAT:PATH (a terminal table) */
	bool serves;		/* PATH is the backend's own (required): an address it serves on,
				 * a database it opens; not a file the core appends to */
	/* Optional, with serves: is the spec's PATH an address it can serve on? 0, or -1
	 * with one line in @err. */
	int (*check)(const char *target, char *err, size_t len);
	/* Optional: set up s->priv once the common fields are set. Returns 0 or -errno. */
	int (*open)(struct ks_sink *s);
	/* One record of a kind the sink takes: format it into s->out (or keep it). */
	void (*emit)(struct ks_sink *s, const struct ks_rec *r);
	/* Optional: a tool's interval report begins at wall time @real_ns. */
	void (*mark)(struct ks_sink *s, int64_t real_ns);
	/* Optional: each interval and at the end, after the summaries, the cumulative
	 * registry (metrics.h); its deltas (ks_counter_delta) are still the interval's, for
	 * rollups. Runs on the reader's thread: a sink serving another thread (HTTP) copies
	 * what it needs here, under its own lock. */
	void (*metrics)(struct ks_sink *s, const struct ks_metrics *m, int64_t real_ns);
	/* Optional: before the outputs get the registry (each interval and at the end),
	 * bring the sink's own counts into it (an exporter's failures). Reader's thread. */
	void (*collect)(struct ks_sink *s, struct ks_metrics *m);
	/* Optional: before the final stats, hand on what the sink holds and wait up to
	 * @timeout_ms for it to be written (a store's batches), so its drops are counted. */
	void (*drain)(struct ks_sink *s, int timeout_ms);
	/* Optional: free s->priv. */
	void (*close)(struct ks_sink *s);
};

/* NULL-terminated: every backend -o can name. */
extern const struct ks_sink_ops *const ks_sink_backends[];
extern const struct ks_sink_ops ks_table_ops;
extern const struct ks_sink_ops ks_json_ops;
extern const struct ks_sink_ops ks_prom_ops;
extern const struct ks_sink_ops ks_store_ops;
extern const struct ks_sink_ops ks_otlp_ops;
extern const struct ks_sink_ops ks_otlp_pb_ops;

struct ks_sink {
	const struct ks_sink_ops *ops;
	void *priv;		/* the backend's own state */
	char *name;		/* "json:/var/log/k.jsonl", "table" (stdout): for messages */
	const char *target;	/* ops->serves: the address (the spec's PATH), during open */
	unsigned int kinds;	/* KS_KIND() bits of the records it takes */
	struct ks_buf out;	/* formatted, not yet written */
	struct ks_buf tmp;	/* scratch for one formatted value */
	struct ks_clock *clock;
	bool timestamps;	/* -T: a TIME column in tables */
	const char *last_header;	/* table: type whose column header was printed last */
	struct ks_writer *w;	/* a file's writer thread; NULL: out.fd written here */
	/* accounting, shown in the final stats and on stderr */
	uint64_t records;	/* records emitted */
	uint64_t pending;	/* of which in s->out, not handed on yet */
	uint64_t dropped;	/* records that never reached the output (a writer counts its
				 * own until ks_sink__close: see ks_sink_dropped) */
	int err;		/* first error (positive errno), 0: none */
	bool said;		/* the trouble was said on stderr already */
};

/* A parsed -o SPEC. */
struct ks_sink_spec {
	const struct ks_sink_ops *ops;
	unsigned int kinds;	/* 0: the backend's default for the mode */
	const char *path;	/* NULL: stdout; else points into the spec string */
};

/*
 * Parse "FORMAT[,KIND...][:PATH]": FORMAT a backend name, KIND one of event, report,
 * summary, stats, meta; PATH everything after the first colon, taken as it is. Returns 0,
 * or -1 with one line in @err naming what is wrong.
 */
int ks_sink_spec_parse(const char *spec, struct ks_sink_spec *out, char *err, size_t len);

/* The name of record kind @k ("event"), or NULL. */
const char *ks_rec_kind_name(unsigned int k);

/*
 * A sink of backend @ops writing to @fd (stdout, or a test's memfd): written at each
 * flush, by the caller's thread. @kinds 0: the backend's default (@agent picks which).
 * The clock is borrowed and must outlive the sink. Returns NULL with errno set.
 */
struct ks_sink *ks_sink__new(const struct ks_sink_ops *ops, int fd, unsigned int kinds,
			     bool agent, bool timestamps, struct ks_clock *clock);

/*
 * A sink for @spec: on stdout, or appending to spec->path (created 0600: records hold
 * argv and paths) through a writer thread. Returns NULL with errno set (the file could not
 * be opened, or no memory).
 */
struct ks_sink *ks_sink__open(const struct ks_sink_spec *spec, const char *text, bool agent,
			      bool timestamps, struct ks_clock *clock);

/*
 * Flush; stop a file's writer, waiting up to 2 s for what it holds; close the backend.
 * Returns 0, or -errno when records were dropped (then counted in s->dropped). The sink
 * takes no more records; free it with ks_sink__free.
 */
int ks_sink__close(struct ks_sink *s);
/* Close (if not yet) and free. Accepts NULL. */
void ks_sink__free(struct ks_sink *s);

/* Records dropped so far (a failed or slow output), and the first error (errno), 0: none. */
uint64_t ks_sink_dropped(struct ks_sink *s);
int ks_sink_error(struct ks_sink *s);

static inline void ks_sink__emit(struct ks_sink *s, const struct ks_rec *r)
{
	s->ops->emit(s, r);
	s->records++;
	s->pending++;
}

static inline void ks_sink__mark(struct ks_sink *s, int64_t real_ns)
{
	if (s->ops->mark)
		s->ops->mark(s, real_ns);
}

/*
 * Hand buffered output on: written to the fd, or to the writer thread. Returns 0; -EPIPE
 * when stdout's reader went away; or another -errno (the records are counted in
 * s->dropped and s->err keeps the first error).
 */
int ks_sink__flush(struct ks_sink *s);

/* Name of a positive errno ("ENOENT"), or its number as text when unknown. */
const char *ks_errno_name(int err, char *tmp, unsigned int len);

#endif
