/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A test context for decoders: a real session (ks_ctx__new) with nothing loaded, a JSON
 * sink and a table sink on memfds, a clock at the epoch (a record's ts is its header's)
 * and an identity cache over an empty /proc (a task's service is its comm). A test builds
 * a record as the kernel would, hands it to the module's event(), and compares the exact
 * text each sink wrote.
 */
#ifndef KSIGHT_TESTCTX_H
#define KSIGHT_TESTCTX_H

#include "testutil.h"

#include <time.h>

#include "cli/common_opts.h"
#include "core/session_int.h"
#include "sink/sink.h"

struct tc {
	const struct ks_module *m;
	void *state;
	struct ks_ctx *ctx;
	int json_fd, table_fd;
	char *procdir;
};

/* A session of module @m as a tool, its options @argv[0..argc) parsed as on the command
 * line (common ones too: -T, -e, ...). */
static inline void tc_open(struct tc *t, const struct ks_module *m, int argc, char **argv)
{
	static struct ks_common common;
	const struct ks_opt_table tables[2] = { { m->opts, NULL }, { ks_common_opts, &common } };
	struct ks_opt_table tt[2];
	const char *pos[KS_OPTS_MAX_POS];
	char err[KS_ERR_LEN];
	int npos;

	memset(t, 0, sizeof(*t));
	setenv("TZ", "UTC", 1);
	tzset();
	t->m = m;
	t->state = calloc(1, m->state_size ? m->state_size : 1);
	assert_non_null(t->state);
	if (m->defaults)
		memcpy(t->state, m->defaults, m->state_size);
	ks_common_defaults(&common);
	memcpy(tt, tables, sizeof(tt));
	tt[0].base = t->state;
	if (ks_opts_parse(tt, 2, argc, argv, pos, KS_OPTS_MAX_POS, &npos, err, sizeof(err)))
		fail_msg("options: %s", err);
	if (m->configure && m->configure(t->state, &common, err, sizeof(err)))
		fail_msg("configure: %s", err);
	t->ctx = ks_ctx__new(KS_MODE_TOOL, &common, &t->m, &t->state, 1, m->name);
	assert_non_null(t->ctx);
	/* what varies from machine to machine: wall time, /proc, the cgroup tree */
	t->ctx->clock.mono_to_real = 0;
	t->procdir = tu_mkdtemp("ksight-tc");
	ks_ident__free(t->ctx->ident);
	t->ctx->ident = ks_ident__new(64, t->procdir, t->ctx->worker);
	assert_non_null(t->ctx->ident);
	t->json_fd = tu_memfd();
	t->table_fd = tu_memfd();
	assert_int_equal(ks_ctx__add_sink(t->ctx, ks_sink__new(&ks_json_ops, t->json_fd, 0, false,
							       false, &t->ctx->clock)), 0);
	assert_int_equal(ks_ctx__add_sink(t->ctx, ks_sink__new(&ks_table_ops, t->table_fd, 0,
							       false, common.timestamps,
							       &t->ctx->clock)), 0);
}

static inline void tc_close(struct tc *t)
{
	ks_ctx__free(t->ctx);
	free(t->state);
	close(t->json_fd);
	close(t->table_fd);
	tu_rmtree(t->procdir);
}

/* One record as the ring buffer would hand it over. */
static inline void tc_feed(struct tc *t, const void *rec, size_t size)
{
	t->m->event(t->ctx, t->state, rec, size);
}

/* What the JSON / table sink wrote since the last call (malloc'd, emptied). */
static inline char *tc_json(struct tc *t)
{
	assert_int_equal(ks_pipe__flush(&t->ctx->pipe, "test", NULL), 0);
	char *s = tu_take(t->json_fd);

	tu_json_lines(s);	/* every line one valid JSON object */
	return s;
}

static inline char *tc_table(struct tc *t)
{
	assert_int_equal(ks_pipe__flush(&t->ctx->pipe, "test", NULL), 0);
	return tu_take(t->table_fd);
}

/* @json's lines with each "ts" value taken out (records not about a task are stamped with
 * the time they are made). Changes @json in place; returns it. */
static inline char *tc_no_ts(char *json)
{
	char *p;

	while ((p = strstr(json, "\"ts\":\"")) != NULL) {
		char *end = strchr(p + 6, '"');

		assert_non_null(end);
		memmove(p, end + 2, strlen(end + 2) + 1);	/* the value and its comma */
	}
	return json;
}

#define tc_expect(got_expr, want)                                                          \
	do {                                                                               \
		char *got_ = (got_expr);                                                   \
		assert_string_equal(got_, want);                                           \
		free(got_);                                                                \
	} while (0)

/* A header as the kernel fills it (designated fields: the layout may grow). */
static inline void tc_hdr(struct ks_hdr *h, uint16_t type, size_t size, uint64_t ts,
			  uint32_t pid, uint32_t tid, uint64_t cgroup, const char *comm)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->size = size;
	h->ts = ts;
	h->pid = pid;
	h->tid = tid;
	h->cgroup = cgroup;
	strncpy(h->comm, comm, sizeof(h->comm));
}

/* The value of counter @name's series @label (NULL: unlabelled), or -1 if there is none. */
static inline int64_t tc_counter(struct tc *t, const char *name, const char *label)
{
	struct ks_metric *m = ks_metrics__find(t->ctx->metrics, name);

	if (!m)
		return -1;
	for (const struct ks_series *s = ks_series_first(m); s; s = ks_series_next(s))
		if (!label ? !m->nlabels : s->label[0] && !strcmp(s->label[0], label))
			return s->v.u;
	return -1;
}

#endif
