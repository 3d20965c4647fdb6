/* SPDX-License-Identifier: GPL-2.0 */
/* The session's insides, shared by the files of src/core that implement it. */
#ifndef KSIGHT_SESSION_INT_H
#define KSIGHT_SESSION_INT_H

#include <bpf/libbpf.h>

#include "core/clock.h"
#include "core/hooks.h"
#include "core/ident.h"
#include "core/loss.h"
#include "core/probe.h"
#include "core/worker.h"
#include "core/session.h"
#include "sink/sink.h"

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
	struct ks_worker *worker;	/* /proc reads off the reader's path */
	struct ks_ident *ident;
	struct ks_fdtab *fdtab;		/* made when a module asks for it */
	struct ks_clock clock;
	struct ks_sink *sink;
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
/* tables.c: the identity cache and the fd table, their worker */
int ks_ctx_tables_new(struct ks_ctx *c);
void ks_ctx_tables_start(struct ks_ctx *c);
void ks_ctx_tables_free(struct ks_ctx *c);
void ks_ctx_tables_proc(struct ks_ctx *c, const struct ks_hdr *h);
/* reader.c */
int ks_ctx_on_record(void *ctx, void *data, size_t size);
void ks_ctx_read_kernel_counters(struct ks_ctx *c);
void ks_ctx_print_stats(struct ks_ctx *c, bool final);

extern const struct ks_slot ks_core_slots[];

#endif
