// SPDX-License-Identifier: GPL-2.0
/*
 * The loss accounting as output: mirrored into the registry (ksight_events_total,
 * ksight_events_lost_total, per sink records and drops), a "stats" record each interval
 * of the agent and at the end, and the tools' last line on stderr.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/fdtab.h"
#include "core/session_int.h"

static const struct ks_metric_desc events_desc = {
	.name = "ksight_events_total",
	.help = "Events seen, per record type: decoded from the ring buffer, or counted in the "
		"kernel's maps for aggregating modules",
	.type = KS_METRIC_COUNTER,
	.labels = { "type" },
	.budget = KS_EV_MAX,
};

static const struct ks_metric_desc lost_desc = {
	.name = "ksight_events_lost_total",
	.help = "Events the kernel could not hand over (ring buffer full, map full), per type",
	.type = KS_METRIC_COUNTER,
	.labels = { "type" },
	.budget = KS_EV_MAX,
};

static const struct ks_metric_desc sink_recs_desc = {
	.name = "ksight_sink_records_total",
	.help = "Records given to each output",
	.type = KS_METRIC_COUNTER,
	.labels = { "sink" },
};

static const struct ks_metric_desc sink_drops_desc = {
	.name = "ksight_sink_dropped_records_total",
	.help = "Records an output could not write (a full disk, a file slower than the stream)",
	.type = KS_METRIC_COUNTER,
	.labels = { "sink" },
};

static const struct ks_metric_desc values_desc = {
	.name = "ksight_record_values_dropped_total",
	.help = "Values a record could not hold (shown as values_dropped in the record)",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_metric_desc malformed_desc = {
	.name = "ksight_malformed_records_total",
	.help = "Records from the ring buffer too short or of an unknown layout to decode",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_metric_desc backup_desc = {
	.name = "ksight_bpf_backup_runs_total",
	.help = "Runs of a backup program that did the work of a program run the kernel "
		"skipped (it was already running on that CPU): among "
		"ksight_bpf_prog_missed_runs_total, and not lost",
	.type = KS_METRIC_COUNTER,
};

static const struct ks_metric_desc refused_desc = {
	.name = "ksight_ident_loads_refused_total",
	.help = "Reads of /proc the identity worker refused, its queue full (the records kept "
		"what the kernel gave), per table: process, cgroup, fd",
	.type = KS_METRIC_COUNTER,
	.labels = { "table" },
};

int ks_ctx_stats_init(struct ks_ctx *c)
{
	c->m_events = ks_ctx_metric(c, &events_desc);
	c->m_lost = ks_ctx_metric(c, &lost_desc);
	c->m_sink_recs = ks_ctx_metric(c, &sink_recs_desc);
	c->m_sink_drops = ks_ctx_metric(c, &sink_drops_desc);
	c->m_values_dropped = ks_ctx_metric(c, &values_desc);
	c->m_malformed = ks_ctx_metric(c, &malformed_desc);
	c->m_refused = ks_ctx_metric(c, &refused_desc);
	c->m_backup = ks_ctx_metric(c, &backup_desc);
	if (!c->m_events || !c->m_lost || !c->m_sink_recs || !c->m_sink_drops ||
	    !c->m_values_dropped || !c->m_malformed || !c->m_refused || !c->m_backup)
		return -ENOMEM;
	/* every loss counter is on the page from the start: a 0 is an answer too */
	ks_metric_get(c->m_values_dropped, NULL);
	ks_metric_get(c->m_malformed, NULL);
	ks_metric_get(c->m_backup, NULL);
	ks_metric_get(c->m_refused, "process");
	ks_metric_get(c->m_refused, "cgroup");
	ks_metric_get(c->m_refused, "fd");
	for (int i = 0; i < KS_EV_MAX; i++) {
		if (!c->type_name[i])
			continue;
		ks_metric_get(c->m_events, c->type_name[i]);
		ks_metric_get(c->m_lost, c->type_name[i]);
	}
	return 0;
}

static const char *type_name(struct ks_ctx *c, int t, char *buf, size_t len)
{
	if (c->type_name[t])
		return c->type_name[t];
	snprintf(buf, len, "type%d", t);
	return buf;
}

/* Storage for the nested objects of one stats record: one per active type and sink. */
struct stats_buf {
	struct ks_val types[KS_EV_MAX];
	struct ks_obj type_obj[KS_EV_MAX];
	struct ks_val type_vals[KS_EV_MAX][2];
	char names[KS_EV_MAX][16];
	struct ks_val sinks[KS_PIPE_MAX];
	struct ks_obj sink_obj[KS_PIPE_MAX];
	struct ks_val sink_vals[KS_PIPE_MAX][3];
	struct ks_val ident[24];
};

static void add_types(struct ks_ctx *c, struct stats_buf *b, struct ks_obj *types)
{
	ks_obj_init(types, b->types, KS_EV_MAX);
	for (int i = 0; i < KS_EV_MAX; i++) {
		uint64_t d = c->loss.delivered[i] + c->loss.aggregated[i];
		const char *name;
		struct ks_obj *o;

		if (!d && !c->loss.lost[i])
			continue;
		name = type_name(c, i, b->names[i], sizeof(b->names[i]));
		ks_counter_set(ks_metric_get(c->m_events, name), d);
		ks_counter_set(ks_metric_get(c->m_lost, name), c->loss.lost[i]);
		o = &b->type_obj[i];
		ks_obj_init(o, b->type_vals[i], 2);
		ks_obj_add(o, "events", NULL, 0, KS_V_UINT)->u = d;
		ks_obj_add(o, "lost", NULL, 0, KS_V_UINT)->u = c->loss.lost[i];
		ks_obj_add(types, name, NULL, 0, KS_V_OBJ)->o = o;
	}
}

static void add_sinks(struct ks_ctx *c, struct stats_buf *b, struct ks_obj *sinks)
{
	ks_obj_init(sinks, b->sinks, KS_PIPE_MAX);
	for (int i = 0; i < c->pipe.n; i++) {
		struct ks_sink *s = c->pipe.s[i];
		struct ks_obj *o = &b->sink_obj[i];
		uint64_t dropped = ks_sink_dropped(s);
		int err = ks_sink_error(s);

		ks_counter_set(ks_metric_get(c->m_sink_recs, s->name), s->records);
		ks_counter_set(ks_metric_get(c->m_sink_drops, s->name), dropped);
		if (s->ops && s->ops->collect)
			s->ops->collect(s, c->metrics);
		ks_obj_init(o, b->sink_vals[i], 3);
		ks_obj_add(o, "records", NULL, 0, KS_V_UINT)->u = s->records;
		ks_obj_add(o, "dropped", NULL, 0, KS_V_UINT)->u = dropped;
		if (err)
			ks_obj_add(o, "error", NULL, 0, KS_V_ERRNO)->i = err;
		/* the name holds a path the user gave: kernel-like bytes, written exactly */
		ks_obj_add(sinks, s->name, NULL, 0, KS_V_OBJ)->o = o;
		sinks->v[sinks->n - 1].kkey = 1;
	}
}

/*
 * What the identity cache asked of /proc and got: misses queued to the worker, loads it
 * published, refused (its queue full) or found gone; the same for cgroups; what the
 * worker still holds; the fd table's scans and probes. They show that records never
 * waited for /proc. A nested object of the stats record (JSON only).
 */
static void add_ident(struct ks_ctx *c, struct ks_val *vals, size_t cap, struct ks_obj *o)
{
	struct ks_worker_stats ws;
	struct ks_ident_stats is;

	ks_ident__stats(c->ident, &is);
	ks_worker__stats(c->worker, &ws);
	ks_counter_set(ks_metric_get(c->m_refused, "process"), is.dropped);
	ks_counter_set(ks_metric_get(c->m_refused, "cgroup"), is.cg_dropped);
	ks_obj_init(o, vals, cap);
#define KS_IDENT_FIELD(k, x) ks_obj_add(o, k, NULL, 0, KS_V_UINT)->u = (x)
	KS_IDENT_FIELD("lookups", is.lookups);
	KS_IDENT_FIELD("misses", is.misses);
	KS_IDENT_FIELD("queued", is.queued);
	KS_IDENT_FIELD("dropped", is.dropped);
	KS_IDENT_FIELD("loaded", is.loaded);
	KS_IDENT_FIELD("gone", is.gone);
	KS_IDENT_FIELD("stale", is.stale);
	KS_IDENT_FIELD("evicted", is.evicted);
	KS_IDENT_FIELD("procs", is.procs);
	KS_IDENT_FIELD("cgroup_queued", is.cg_queued);
	KS_IDENT_FIELD("cgroup_dropped", is.cg_dropped);
	KS_IDENT_FIELD("cgroup_resolved", is.cg_resolved);
	KS_IDENT_FIELD("cgroup_gone", is.cg_gone);
	KS_IDENT_FIELD("cgroups", is.cgroups);
	KS_IDENT_FIELD("worker_done", ws.done);
	KS_IDENT_FIELD("worker_pending", ws.pending);
	if (c->fdtab) {
		struct ks_fdtab_stats fs;

		ks_fdtab__stats(c->fdtab, &fs);
		KS_IDENT_FIELD("fd_scans_queued", fs.scans_queued);
		KS_IDENT_FIELD("fd_scans_done", fs.scans_done);
		KS_IDENT_FIELD("fd_probes_queued", fs.probes_queued);
		KS_IDENT_FIELD("fd_refused", fs.refused);
		ks_counter_set(ks_metric_get(c->m_refused, "fd"), fs.refused);
		KS_IDENT_FIELD("fds", fs.fds);
	}
#undef KS_IDENT_FIELD
}

/*
 * One record for every output: the agent's table shows "loss  events N  lost M" each
 * interval (a summary); JSON has the totals, the per-type counts and the outputs' counts
 * as nested objects, so that no number of types can overflow the record.
 */
void ks_ctx_emit_stats(struct ks_ctx *c, bool final)
{
	struct stats_buf *b = calloc(1, sizeof(*b));
	struct ks_obj types, sinks, ident;
	struct ks_loss_totals t;
	struct ks_rec r;

	ks_ctx_read_kernel_counters(c);
	ks_loss_totals(&c->loss, &t);
	if (!b)
		return;
	ks_rec_init(&r, "stats", NULL);
	r.kind = final ? KS_K_STATS : KS_K_SUMMARY;
	r.style = KS_REC_LINE;
	ks_rec_str(&r, NULL, "", -8, "loss", 4);
	ks_rec_add(&r, "events", "events", 0, KS_V_COUNT)->u = t.events;
	ks_rec_uint(&r, "lost", "lost", 0, t.lost);	/* exact, always */
	ks_rec_add(&r, "final", NULL, 0, KS_V_BOOL)->u = final;
	ks_rec_add(&r, "consistent", NULL, 0, KS_V_BOOL)->u = t.consistent;
	/* the reader's own view: sequence numbers it never saw (a cross-check of lost) */
	ks_rec_uint(&r, "seq_gaps", NULL, 0, ks_loss_gaps(&c->loss));
	ks_rec_uint(&r, "malformed", NULL, 0, c->malformed);
	ks_counter_set(ks_metric_get(c->m_malformed, NULL), c->malformed);
	ks_rec_uint(&r, "missed_runs", NULL, 0, c->loss.missed_runs);
	ks_rec_uint(&r, "backup_runs", NULL, 0, c->loss.backup_runs);
	ks_counter_set(ks_metric_get(c->m_backup, NULL), c->loss.backup_runs);
	add_types(c, b, &types);
	ks_rec_obj(&r, "types", NULL, &types);
	add_sinks(c, b, &sinks);
	ks_rec_obj(&r, "sinks", NULL, &sinks);
	add_ident(c, b->ident, sizeof(b->ident) / sizeof(b->ident[0]), &ident);
	ks_rec_obj(&r, "ident", NULL, &ident);
	ks_emit(c, &r);
	ks_pipe__flush(&c->pipe, c->label, stderr);
	free(b);
}

void ks_ctx_print_loss_line(struct ks_ctx *c)
{
	struct ks_loss_totals t;
	char buf[24];

	ks_loss_totals(&c->loss, &t);
	fprintf(stderr, "%llu events, %llu lost", (unsigned long long)t.events,
		(unsigned long long)t.lost);
	if (t.lost) {
		const char *sep = " (";

		for (int i = 0; i < KS_EV_MAX; i++) {
			if (!c->loss.lost[i])
				continue;
			fprintf(stderr, "%s%s: %llu", sep, type_name(c, i, buf, sizeof(buf)),
				(unsigned long long)c->loss.lost[i]);
			sep = ", ";
		}
		fputc(')', stderr);
	}
	if (!t.consistent)
		fprintf(stderr, " [accounting mismatch: kernel produced %llu, %llu decoded + %llu lost]",
			(unsigned long long)c->loss.seq_total, (unsigned long long)t.streamed,
			(unsigned long long)t.streamed_lost);
	if (c->malformed)
		fprintf(stderr, " [%llu malformed records]", (unsigned long long)c->malformed);
	if (c->loss.missed_runs) {
		fprintf(stderr, " [%llu program runs skipped by the kernel: the program was "
			"already running on that CPU", (unsigned long long)c->loss.missed_runs);
		if (c->loss.backup_runs)
			fprintf(stderr, "; %llu of them made by a backup program instead",
				(unsigned long long)c->loss.backup_runs);
		fputc(']', stderr);
	}
	fputc('\n', stderr);
}
