/* SPDX-License-Identifier: GPL-2.0 */
/* The session's insides, shared by the files of src/core that implement it. */
#ifndef KSIGHT_SESSION_INT_H
#define KSIGHT_SESSION_INT_H

#include <bpf/libbpf.h>

#include "core/clock.h"
#include "core/hooks.h"
#include "core/ident.h"
#include "core/loss.h"
#include "core/metrics.h"
#include "core/probe.h"
#include "core/session.h"
#include "sink/pipe.h"

#define KS_MAX_SLOTS 8
/* modules one record type can go to (the core's lifecycle types: exec and proc) */
#define KS_TYPE_MODS 4

struct ks_inst {
	const struct ks_module *m;
	void *state;
	bool wanted[KS_MAX_SLOTS];
	struct ks_choice choice[KS_MAX_SLOTS];
	bool failed;		/* agent: could not run, skipped */
	char err[200];
};

struct ks_ctx {
	enum ks_mode mode;
	struct ks_common common;
	const char *label;		/* command name for messages */
	struct ks_inst inst[KS_MOD_MAX];
	int ninst;
	struct ks_inst core;		/* the core's lifecycle slots */

	struct ks_probe *probe;
	bool need_dispatcher, need_enter;
	int dispatcher;			/* family, or -errno */
	struct ks_alt_status disp_st[3];

	struct ksight_bpf *skel;
	struct bpf_link **links;
	int nlinks;
	struct ring_buffer *rb;
	int cgroup_fd;

	struct ks_loss loss;
	struct ks_ident *ident;
	struct ks_clock clock;
	struct ks_pipe pipe;		/* the outputs: opened at start (a test adds its own) */
	struct ks_metrics *metrics;
	struct ks_metric *m_events, *m_lost, *m_sink_recs, *m_sink_drops, *m_values_dropped;
	bool said_values_dropped;
	/* undo what start loaded (session.c): set once something is, so that ctx.c, which a
	 * unit test links, never needs the BPF side */
	void (*unload)(struct ks_ctx *c);
	struct ks_inst *by_type[KS_EV_MAX][KS_TYPE_MODS];	/* NULL-ended when short */
	const char *type_name[KS_EV_MAX];
	unsigned int ncpu;
	uint64_t malformed;		/* records too short to decode */
	uint64_t t_start;		/* monotonic ns at ks_ctx__new */
};

/* select.c */
int ks_ctx_select(struct ks_ctx *c);
/* loader.c */
int ks_ctx_load(struct ks_ctx *c);
void ks_ctx_detach(struct ks_ctx *c);
/* reader.c */
int ks_ctx_on_record(void *ctx, void *data, size_t size);
void ks_ctx_read_kernel_counters(struct ks_ctx *c);
/* stats.c: the loss accounting into the registry and a "stats" record (each interval in
 * the agent, and at the end); the final line on stderr. */
int ks_ctx_stats_init(struct ks_ctx *c);
void ks_ctx_emit_stats(struct ks_ctx *c, bool final);
void ks_ctx_print_loss_line(struct ks_ctx *c);
/* ctx.c: open the outputs common names (when no sink was added). Returns 0 or -errno with
 * one line said on stderr. */
int ks_ctx_open_outputs(struct ks_ctx *c);

extern const struct ks_slot ks_core_slots[];

#endif
