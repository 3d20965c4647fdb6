/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pipeline: every record a session emits goes, in order, to each stage that takes its
 * kind. Stages are sinks (sink.h); an analyzer (src/analyze: the coming service map) is a
 * stage that writes nothing and feeds the metrics registry, added before the outputs so
 * that they see its metrics at the interval. Everything runs on the reader's thread.
 */
#ifndef KSIGHT_PIPE_H
#define KSIGHT_PIPE_H

#include <stdbool.h>
#include <stdio.h>

#include "sink/sink.h"

#define KS_PIPE_MAX 8

struct ks_pipe {
	struct ks_sink *s[KS_PIPE_MAX];
	int n;
	unsigned int kinds;	/* union of the stages' kinds */
	bool needs_service;	/* some stage takes records about tasks with their service */
	bool stopped;		/* stdout's reader went away (EPIPE): the session ends */
};

/* Add @s as the last stage; the pipe owns it from now on (also on failure). Returns 0 or
 * -E2BIG (KS_PIPE_MAX stages already). */
int ks_pipe__add(struct ks_pipe *p, struct ks_sink *s);

/*
 * Open the outputs a command names: @specs[0..n) (-o), then JSON on stdout if @json, or
 * the table when there is neither. Says what failed on stderr as one line ("ksight LABEL:
 * -o SPEC: ..."). Returns 0 or -errno (the stages opened so far stay in @p).
 */
int ks_pipe__open(struct ks_pipe *p, const char *const *specs, int n, bool json, bool agent,
		  bool timestamps, struct ks_clock *clock, const char *label);

/* Whether any stage takes records of kind @k: modules build only what someone reads. */
static inline bool ks_pipe__wants(const struct ks_pipe *p, unsigned int k)
{
	return p->kinds & KS_KIND(k);
}

/* Hand @r to every stage that takes its kind. */
static inline void ks_pipe__emit(struct ks_pipe *p, const struct ks_rec *r)
{
	if (!(p->kinds & KS_KIND(r->kind)))
		return;
	for (int i = 0; i < p->n; i++)
		if (p->s[i]->kinds & KS_KIND(r->kind))
			ks_sink__emit(p->s[i], r);
}

void ks_pipe__mark(struct ks_pipe *p, int64_t real_ns);
void ks_pipe__metrics(struct ks_pipe *p, const struct ks_metrics *m, int64_t real_ns);

/*
 * Flush every stage. A stage's first trouble (a write error, records dropped by a slow
 * file) is said once on @err as "ksight LABEL: NAME: ...". Returns -EPIPE once stdout's
 * reader is gone (p->stopped), else 0.
 */
int ks_pipe__flush(struct ks_pipe *p, const char *label, FILE *err);

/* Flush every stage and wait up to @timeout_ms for the files' writers (and the stages'
 * own drain, a store's batches) to catch up. */
void ks_pipe__drain(struct ks_pipe *p, int timeout_ms);

/*
 * Close every stage (a file's writer gets up to 2 s to finish) and say on @err, per stage
 * that dropped records, how many of how many. Returns 0, or -EIO when a stage dropped
 * records. Stages stay in the pipe until ks_pipe__free, for their counts.
 */
int ks_pipe__close(struct ks_pipe *p, const char *label, FILE *err);

/* Close what is not yet and free every stage. */
void ks_pipe__free(struct ks_pipe *p);

#endif
