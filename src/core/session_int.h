/* SPDX-License-Identifier: GPL-2.0 */
/* The session's insides, shared by the files of src/core that implement it. */
#ifndef KSIGHT_SESSION_INT_H
#define KSIGHT_SESSION_INT_H

#include <bpf/libbpf.h>

#include "core/attset.h"
#include "core/clock.h"
#include "core/hooks.h"
#include "core/ident.h"
#include "core/loss.h"
#include "core/metrics.h"
#include "core/probe.h"
#include "core/selfstats.h"
#include "core/worker.h"
#include "core/session.h"
#include "sink/pipe.h"

#define KS_MAX_SLOTS 16
/* modules one record type can go to (the core's lifecycle types: exec and proc) */
#define KS_TYPE_MODS 4

/* One loaded BPF object and what it attached. */
struct ks_bpfobj {
	const struct ks_bpf_obj *def;
	void *skel;			/* struct <name>_bpf * */
	struct bpf_object *obj;
	struct bpf_link **links;
	int nlinks, caplinks;
	int nprogs;			/* programs loaded */
	double load_ms;			/* open to loaded (verification included) */
	int core_btf;			/* the minimal BTF libbpf relocates against
					 * (btfmin.h), open until loaded */
	bool has_core_btf;
	unsigned int core_btf_types;	/* how many types it holds */
};

struct ks_inst {
	const struct ks_module *m;	/* NULL for the core's own slots */
	void *state;
	bool wanted[KS_MAX_SLOTS];
	struct ks_choice choice[KS_MAX_SLOTS];
	bool failed;		/* agent: could not run, skipped */
	bool dispatched;	/* has syscalls routed through the dispatcher */
	bool inlined;		/* ... all done by the dispatcher itself (no handler) */
	char err[256];
	struct ks_bpfobj o;
	struct ks_attset dyn;	/* what the module's attach callback attached */
};

struct ks_ctx {
	enum ks_mode mode;
	struct ks_common common;
	const char *label;		/* command name for messages */
	struct ks_inst inst[KS_MOD_MAX];
	int ninst;
	struct ks_inst core;		/* the core's lifecycle slots */
	/* The core's object opened a second time with every program off: loaded first, it
	 * only creates the shared maps, so the core's programs and every module's verify at
	 * once. Closed when they have loaded (they hold the maps). */
	struct ks_bpfobj maps;

	struct ks_probe *probe;
	bool need_dispatcher, need_enter;
	bool need_counts, need_fd_io;	/* the dispatcher's ks_sys_counts, ks_fd_io */
	int dispatcher;			/* family, or -errno */
	struct ks_alt_status disp_st[3];

	struct core_bpf *skel;		/* the core object (the inst core's o.skel) */
	bool verified;			/* status: objects were loaded to be verified */
	int nlinks;			/* attached, every object */
	struct ring_buffer *rb;
	int cgroup_fd;
	bool fail_at_end;		/* a module asked for a non-zero exit (ks_ctx_fail_at_end) */

	struct ks_loss loss;
	struct ks_worker *worker;	/* /proc reads off the reader's path */
	struct ks_ident *ident;
	struct ks_fdtab *fdtab;		/* made when a module asks for it */
	struct ks_clock clock;
	struct ks_pipe pipe;		/* the outputs: opened at start (a test adds its own) */
	struct ks_metrics *metrics;
	struct ks_metric *m_events, *m_lost, *m_sink_recs, *m_sink_drops, *m_values_dropped;
	bool said_values_dropped;
	struct ks_metric *m_malformed, *m_refused, *m_backup;
	struct ks_selfstats self;	/* agent: programs, maps, ring buffer */
	struct ks_extra extra[KS_EXTRAS];	/* ks_ctx__set_extra (run --bpf, --metrics) */
	int nextra;
	/* undo what start loaded (session.c): set once something is, so that ctx.c, which a
	 * unit test links, never needs the BPF side */
	void (*unload)(struct ks_ctx *c);
	struct ks_inst *by_type[KS_EV_MAX][KS_TYPE_MODS];	/* NULL-ended when short */
	const char *type_name[KS_EV_MAX];
	unsigned int ncpu;
	uint64_t malformed;		/* records too short to decode */
	uint64_t t_start;		/* monotonic ns at ks_ctx__new */
	/* the exec record being handled: its task's service before the exec (reader.c) */
	char exec_from[256];		/* "": not known */
	uint64_t exec_from_cg;
};

/* session.c: one line on stderr, "ksight LABEL: MSG[SUFFIX]"; a message that begins
 * with the label itself (a tool's own module name) does not repeat it. */
void ks_ctx_say(const struct ks_ctx *c, const char *msg, const char *suffix);

/* select.c */
int ks_ctx_select(struct ks_ctx *c);
/* The dispatcher's sys_exit (or sys_enter) program in @family. */
const char *ks_dispatcher_prog(int family, bool enter);
/* The alternative chosen for slot @s of @in, or NULL (slot not wanted or unusable). */
const struct ks_alt *ks_inst_alt(const struct ks_inst *in, int s);
/* Whether some chosen alternative of @in goes through the syscall dispatcher. */
bool ks_inst_dispatched(const struct ks_inst *in);
/* Whether the dispatcher does all of @in's syscalls itself (ks_module.sys_inline). */
bool ks_inst_all_inline(const struct ks_inst *in);
/* Add @in's syscalls to @route[KS_SYS_MAX]: its bit in exit_mask, and enter where it needs
 * entry times or the dispatcher's family has no registers at exit. */
void ks_inst_routes(const struct ks_ctx *c, const struct ks_inst *in, struct ks_sys_route *route);
/* loader.c */
/* On while a session selects and loads (see loader.c); off gives the memory back. */
void ks_loading_memory(bool on);
int ks_ctx_load(struct ks_ctx *c);
/* Fill the dispatcher's routes and tail-call slots for the modules still running.
 * Returns 0 or -errno. */
int ks_ctx_route(struct ks_ctx *c);
/* attach.c: every chosen program; a module that cannot attach is dropped (agent).
 * Returns 0, or -errno with the reason printed. */
int ks_ctx_attach(struct ks_ctx *c);
/* Detach everything (objects stay loaded, maps readable). */
void ks_ctx_detach(struct ks_ctx *c);
/* Detach and free every object. */
void ks_ctx_unload(struct ks_ctx *c);
/* The modules' BPF objects, loaded but never attached (`ksight status`): each inst's
 * failed/err says whether the kernel accepted it. Returns 0 or -errno (core refused). */
int ks_ctx_verify(struct ks_ctx *c);
/* tables.c: the identity cache and the fd table, their worker */
int ks_ctx_tables_new(struct ks_ctx *c);
void ks_ctx_tables_start(struct ks_ctx *c);
void ks_ctx_tables_free(struct ks_ctx *c);
void ks_ctx_tables_proc(struct ks_ctx *c, const struct ks_hdr *h);
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
