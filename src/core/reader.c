// SPDX-License-Identifier: GPL-2.0
/* The ring buffer's consumer: account, keep identities fresh, hand records to modules. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "core/fdtab.h"
#include "core/session_int.h"
#include "core.skel.h"

static void ident_exec(struct ks_ctx *c, const struct ks_hdr *h, size_t size)
{
	const struct ks_proc_exec *e = (const void *)h;
	size_t flen, alen;

	if (size < sizeof(*e))
		return;
	flen = e->filename_len;
	alen = e->args_len;
	if (sizeof(*e) + flen > size || sizeof(*e) + flen + alen > size || !flen)
		return;
	ks_ident__exec(c->ident, h, e->ppid, e->uid, e->start_ns, (const char *)e->data,
		       (const char *)e->data + flen, alen, e->args_total > e->args_len);
}

static void ident_exit(struct ks_ctx *c, const struct ks_hdr *h, size_t size)
{
	const struct ks_proc_exit *e = (const void *)h;

	if (size >= sizeof(*e))
		ks_ident__exit(c->ident, h, e->ppid, e->uid, e->start_ns);
}

int ks_ctx_on_record(void *ctx, void *data, size_t size)
{
	struct ks_ctx *c = ctx;
	const struct ks_hdr *h = data;
	struct ks_inst *in;
	unsigned int type;

	if (size < sizeof(*h) || h->size > size || h->size < sizeof(*h) ||
	    h->version != KS_HDR_VERSION) {
		c->malformed++;
		return 0;
	}
	type = h->type & (KS_EV_MAX - 1);
	ks_loss_record(&c->loss, h->cpu, h->level, h->seq, type);
	ks_worker__drain(c->worker);	/* publish what /proc said meanwhile: one atomic load */
	if (type == KS_EV_PROC_EXEC)
		ident_exec(c, h, h->size);
	for (int k = 0; k < KS_TYPE_MODS && (in = c->by_type[type][k]); k++)
		if (!in->failed && in->m->event)
			in->m->event(c, in->state, h, h->size);
	if (type == KS_EV_PROC_EXEC || type == KS_EV_PROC_EXIT) {
		for (int i = 0; i < c->ninst; i++)
			if (!c->inst[i].failed && c->inst[i].m->proc)
				c->inst[i].m->proc(c, c->inst[i].state, h, h->size);
		ks_ctx_tables_proc(c, h);
	}
	if (type == KS_EV_PROC_EXIT)
		ident_exit(c, h, h->size);
	return 0;
}

void ks_ctx_read_kernel_counters(struct ks_ctx *c)
{
	size_t n = c->ncpu;
	struct ks_cpu_stats *st = calloc(n, sizeof(*st));
	uint64_t *seq = calloc(n * KS_LEVELS, sizeof(*seq)), *unleveled = calloc(n, sizeof(*seq));
	uint64_t *lost = calloc(n * KS_EV_MAX, sizeof(*lost));
	__u32 key = 0;

	if (!st || !seq || !unleveled || !lost || !c->skel)
		goto cleanup;
	if (bpf_map__lookup_elem(c->skel->maps.ks_stats, &key, sizeof(key), st, n * sizeof(*st), 0))
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		memcpy(&seq[i * KS_LEVELS], st[i].seq, sizeof(st[i].seq));
		unleveled[i] = st[i].unleveled;
		memcpy(&lost[i * KS_EV_MAX], st[i].lost, sizeof(st[i].lost));
	}
	ks_loss_kernel(&c->loss, seq, unleveled, lost);
cleanup:
	free(st);
	free(seq);
	free(unleveled);
	free(lost);
}

static const char *type_name(struct ks_ctx *c, int t, char *buf, size_t len)
{
	if (c->type_name[t])
		return c->type_name[t];
	snprintf(buf, len, "type%d", t);
	return buf;
}

/*
 * JSON: what the identity cache asked of /proc and got, just before each stats record:
 * misses queued to the worker, loads it published, refused (its queue full) or found
 * gone; the same for cgroups; what the worker still holds; the fd table's scans and
 * probes. They show that records never waited for /proc (and are what the metrics will
 * export).
 */
static void emit_ident(struct ks_ctx *c)
{
	struct ks_worker_stats ws;
	struct ks_ident_stats is;
	struct ks_rec r;

	ks_ident__stats(c->ident, &is);
	ks_worker__stats(c->worker, &ws);
	ks_rec_init(&r, "ident", NULL);
	ks_rec_uint(&r, "lookups", NULL, 0, is.lookups);
	ks_rec_uint(&r, "misses", NULL, 0, is.misses);
	ks_rec_uint(&r, "queued", NULL, 0, is.queued);
	ks_rec_uint(&r, "dropped", NULL, 0, is.dropped);
	ks_rec_uint(&r, "loaded", NULL, 0, is.loaded);
	ks_rec_uint(&r, "gone", NULL, 0, is.gone);
	ks_rec_uint(&r, "stale", NULL, 0, is.stale);
	ks_rec_uint(&r, "evicted", NULL, 0, is.evicted);
	ks_rec_uint(&r, "procs", NULL, 0, is.procs);
	ks_rec_uint(&r, "cgroup_queued", NULL, 0, is.cg_queued);
	ks_rec_uint(&r, "cgroup_dropped", NULL, 0, is.cg_dropped);
	ks_rec_uint(&r, "cgroup_resolved", NULL, 0, is.cg_resolved);
	ks_rec_uint(&r, "cgroup_gone", NULL, 0, is.cg_gone);
	ks_rec_uint(&r, "cgroups", NULL, 0, is.cgroups);
	ks_rec_uint(&r, "worker_done", NULL, 0, ws.done);
	ks_rec_uint(&r, "worker_pending", NULL, 0, ws.pending);
	if (c->fdtab) {
		struct ks_fdtab_stats fs;

		ks_fdtab__stats(c->fdtab, &fs);
		ks_rec_uint(&r, "fd_scans_queued", NULL, 0, fs.scans_queued);
		ks_rec_uint(&r, "fd_scans_done", NULL, 0, fs.scans_done);
		ks_rec_uint(&r, "fd_probes_queued", NULL, 0, fs.probes_queued);
		ks_rec_uint(&r, "fd_refused", NULL, 0, fs.refused);
		ks_rec_uint(&r, "fds", NULL, 0, fs.fds);
	}
	ks_emit(c, &r);
}

/* The one loss line: stderr for tools at the end, a summary record in the agent. */
void ks_ctx_print_stats(struct ks_ctx *c, bool final)
{
	struct ks_loss_totals t;
	struct ks_rec r;
	char buf[24];

	ks_ctx_read_kernel_counters(c);
	ks_loss_totals(&c->loss, &t);

	if (c->common.json) {
		emit_ident(c);
		ks_rec_init(&r, "stats", NULL);
		ks_rec_uint(&r, "events", NULL, 0, t.events);
		ks_rec_uint(&r, "lost", NULL, 0, t.lost);
		ks_rec_add(&r, "final", NULL, 0, KS_V_BOOL)->u = final;
		ks_rec_add(&r, "consistent", NULL, 0, KS_V_BOOL)->u = t.consistent;
		/* the reader's own view: sequence numbers it never saw (a cross-check of lost) */
		ks_rec_uint(&r, "seq_gaps", NULL, 0, ks_loss_gaps(&c->loss));
		for (int i = 0; i < KS_EV_MAX; i++) {
			uint64_t d = c->loss.delivered[i] + c->loss.aggregated[i];

			if (!d && !c->loss.lost[i])
				continue;
			/* "<type>" delivered and "<type>_lost"; names are static */
			ks_rec_uint(&r, type_name(c, i, buf, sizeof(buf)), NULL, 0, d);
			if (c->type_name[i]) {
				static char lost_keys[KS_EV_MAX][40];

				snprintf(lost_keys[i], sizeof(lost_keys[i]), "%s_lost", c->type_name[i]);
				ks_rec_uint(&r, lost_keys[i], NULL, 0, c->loss.lost[i]);
			}
		}
		ks_emit(c, &r);
		ks_sink__flush(c->sink);
	}
	if (!final) {
		if (!c->common.json) {
			ks_rec_init(&r, "loss", NULL);
			r.style = KS_REC_LINE;
			ks_rec_str(&r, "module", "", -8, "loss", 4);
			ks_rec_uint(&r, "events", "events", 0, t.events);
			ks_rec_uint(&r, "lost", "lost", 0, t.lost);
			ks_emit(c, &r);
		}
		return;
	}
	ks_sink__flush(c->sink);
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
	fputc('\n', stderr);
}
