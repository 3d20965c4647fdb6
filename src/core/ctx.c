// SPDX-License-Identifier: GPL-2.0
/*
 * The session object and what modules call (module.h). Nothing here touches the BPF side,
 * so a unit test can make a session, add sinks, and feed a module's event() by hand.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/session_int.h"

static void name_types(struct ks_ctx *c, struct ks_inst *in)
{
	for (const struct ks_evtype *t = in->m->types; t && t->name; t++) {
		unsigned int i = t->type & (KS_EV_MAX - 1);
		int k = 0;

		/* core lifecycle types go to every module that prints them (exec, proc) */
		while (k < KS_TYPE_MODS && c->by_type[i][k])
			k++;
		if (k < KS_TYPE_MODS)
			c->by_type[i][k] = in;
		if (!c->type_name[i])
			c->type_name[i] = t->name;
	}
}

struct ks_ctx *ks_ctx__new(enum ks_mode mode, const struct ks_common *common,
			   const struct ks_module *const *mods, void *const *states, int n,
			   const char *label)
{
	struct ks_ctx *c = calloc(1, sizeof(*c));
	int ncpu = libbpf_num_possible_cpus(), err = ENOMEM;

	if (!c)
		goto fail;
	c->mode = mode;
	c->common = *common;
	c->label = label;
	c->cgroup_fd = -1;
	c->ncpu = ncpu > 0 ? ncpu : 1;
	c->t_start = ks_clock_mono_now();
	ks_clock_init(&c->clock);
	for (int i = 0; i < n && i < KS_MOD_MAX; i++) {
		c->inst[i].m = mods[i];
		c->inst[i].state = states[i];
		c->ninst++;
		name_types(c, &c->inst[i]);
		if (mode == KS_MODE_AGENT && mods[i]->agent_defaults)
			mods[i]->agent_defaults(states[i]);
	}
	/* the first module's name for a type wins; these are for types no module prints */
	if (!c->type_name[KS_EV_PROC_EXEC])
		c->type_name[KS_EV_PROC_EXEC] = "proc_exec";
	if (!c->type_name[KS_EV_PROC_EXIT])
		c->type_name[KS_EV_PROC_EXIT] = "proc_exit";
	if (!c->type_name[KS_EV_PROC_TEXIT])
		c->type_name[KS_EV_PROC_TEXIT] = "proc_thread_exit";
	c->type_name[KS_EV_SYS_INFLIGHT] = "sys_inflight";
	c->type_name[KS_EV_FD_IO] = "fd_io";
	c->probe = ks_probe__new();
	if (!c->probe || ks_loss_init(&c->loss, c->ncpu))
		goto fail;
	for (int i = 0; i < c->ninst; i++)
		for (const struct ks_evtype *t = c->inst[i].m->types; t && t->name; t++)
			c->loss.agg_type[t->type & (KS_EV_MAX - 1)] = t->agg;
	c->loss.agg_type[KS_EV_FD_IO] = true;	/* the dispatcher's per-fd sums (rw) */
	c->metrics = ks_metrics__new();
	if (ks_ctx_tables_new(c) || !c->metrics || ks_ctx_stats_init(c))
		goto fail;
	for (int i = 0; i < c->ninst; i++) {
		const struct ks_module *m = c->inst[i].m;

		if (m->init && (err = -m->init(c, c->inst[i].state)) != 0)
			goto fail;
	}
	return c;
fail:
	ks_ctx__free(c);
	errno = err > 0 ? err : ENOMEM;
	return NULL;
}

void ks_ctx__free(struct ks_ctx *c)
{
	if (!c)
		return;
	if (c->unload)
		c->unload(c);
	for (int i = 0; i < c->ninst; i++)
		if (c->inst[i].m->fini)
			c->inst[i].m->fini(c->inst[i].state);
	if (c->cgroup_fd >= 0)
		close(c->cgroup_fd);
	ks_pipe__free(&c->pipe);
	ks_metrics__free(c->metrics);
	ks_ctx_tables_free(c);
	ks_loss_free(&c->loss);
	ks_probe__free(c->probe);
	free(c);
}

int ks_ctx__add_sink(struct ks_ctx *c, struct ks_sink *s)
{
	return ks_pipe__add(&c->pipe, s);
}

int ks_ctx_open_outputs(struct ks_ctx *c)
{
	const struct ks_common *o = &c->common;

	struct ks_sink_spec spec = { .ops = &ks_prom_ops, .path = o->listen };
	struct ks_sink *s;
	int err;

	if (c->pipe.n)
		return 0;	/* a test (or an embedder) chose the sinks */
	err = ks_pipe__open(&c->pipe, o->outputs.v, o->outputs.n, o->json,
			    c->mode == KS_MODE_AGENT, o->timestamps, &c->clock, c->label);
	if (err || !o->listen)
		return err;
	s = ks_sink__open(&spec, "prometheus", c->mode == KS_MODE_AGENT, false, &c->clock);
	if (!s) {
		err = -errno;
		if (o->listen_default && err == -EADDRINUSE) {
			fprintf(stderr, "ksight %s: %s is in use: no /metrics endpoint (--listen "
				"ADDR:PORT to choose one)\n", c->label, o->listen);
			return 0;
		}
		fprintf(stderr, "ksight %s: --listen %s: %s\n", c->label, o->listen,
			strerror(-err));
		return err;
	}
	if (ks_pipe__add(&c->pipe, s)) {
		fprintf(stderr, "ksight %s: more than %d outputs\n", c->label, KS_PIPE_MAX);
		return -E2BIG;
	}
	return 0;
}

/* Said once, counted always: a record that had more values than it holds. */
static void values_dropped(struct ks_ctx *c, const struct ks_rec *r)
{
	ks_counter_add(ks_metric_get(c->m_values_dropped, NULL), r->dropped);
	if (c->said_values_dropped)
		return;
	c->said_values_dropped = true;
	fprintf(stderr, "ksight %s: a %s record had %u values more than the %d it holds: shown "
		"as values_dropped, counted in ksight_record_values_dropped_total\n", c->label,
		r->type, r->dropped, KS_REC_MAX);
}

void ks_emit(struct ks_ctx *c, struct ks_rec *r)
{
	if (r->hdr) {
		if (!r->real_ns)
			r->real_ns = ks_clock_real(&c->clock, r->hdr->ts);
		if (c->pipe.needs_service && !r->service && !(r->hdr->flags & KS_HDR_F_NOTASK))
			r->service = ks_ident__service(c->ident, r->hdr);
	}
	if (!r->real_ns)
		r->real_ns = ks_clock_real(&c->clock, ks_clock_mono_now());
	if (r->dropped)
		values_dropped(c, r);
	ks_pipe__emit(&c->pipe, r);
}

const char *ks_ctx_exec_from(const struct ks_ctx *ctx, uint64_t *cgroup)
{
	*cgroup = ctx->exec_from_cg;
	return ctx->exec_from[0] ? ctx->exec_from : NULL;
}

bool ks_ctx_streaming(const struct ks_ctx *c)
{
	return ks_pipe__wants(&c->pipe, KS_K_EVENT);
}

struct ks_metrics *ks_ctx_metrics(struct ks_ctx *c)
{
	return c->metrics;
}

struct ks_metric *ks_ctx_metric(struct ks_ctx *c, const struct ks_metric_desc *d)
{
	return ks_metrics__register(c->metrics, d);
}

void ks_rec_top(struct ks_rec *r, const char *key, const char *col, struct ks_obj *o,
		struct ks_val *vals, size_t k, const struct ks_metric *m, double secs)
{
	struct ks_metric_top top[KS_TOP_MAX];
	size_t n;

	if (k > KS_TOP_MAX)
		k = KS_TOP_MAX;
	n = ks_metric_top(m, k, top);
	ks_obj_init(o, vals, k);
	for (size_t i = 0; i < n; i++) {
		const struct ks_series *s = top[i].s;
		struct ks_val *v = ks_obj_add(o, s->overflow ? "(other)" : s->label[0], NULL, 0,
					      secs > 0 ? KS_V_RATE : KS_V_COUNT);

		v->kkey = !s->overflow;	/* a comm or a path: kernel bytes */
		if (secs > 0)
			v->d = top[i].delta / secs;
		else
			v->u = top[i].delta;
	}
	ks_rec_obj(r, key, n ? col : NULL, o);	/* an empty list: JSON's {} only */
}

const struct ks_common *ks_ctx_common(const struct ks_ctx *c)
{
	return &c->common;
}

int64_t ks_ctx_real(const struct ks_ctx *c, uint64_t mono_ns)
{
	return ks_clock_real(&c->clock, mono_ns);
}

void ks_ctx_aggregated(struct ks_ctx *c, uint16_t type, uint64_t total)
{
	c->loss.aggregated[type & (KS_EV_MAX - 1)] = total;
}

int ks_ctx_slot_family(const struct ks_ctx *c, const struct ks_module *m, const char *slot)
{
	for (int i = 0; i < c->ninst; i++) {
		const struct ks_inst *in = &c->inst[i];

		if (in->m != m)
			continue;
		for (int s = 0; s < KS_MAX_SLOTS && m->slots[s].name; s++)
			if (!strcmp(m->slots[s].name, slot))
				return in->wanted[s] && in->choice[s].alt >= 0 ? (int)in->choice[s].family
									       : -1;
	}
	return -1;
}

struct btf *ks_ctx_btf(struct ks_ctx *c)
{
	return ks_probe__btf(c->probe);
}
