/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A session runs a set of modules in one process: it chooses their hooks, loads the one
 * linked BPF object with only the chosen programs, attaches them, reads the shared ring
 * buffer, calls the modules each interval and, at the end, detaches everything and
 * reconciles the loss counters. The CLI commands are thin wiring around it.
 *
 * struct ks_ctx is the session; modules see it through the functions of module.h.
 */
#ifndef KSIGHT_SESSION_H
#define KSIGHT_SESSION_H

#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"
#include "core/hooks.h"
#include "core/module.h"

struct ks_ctx;

enum ks_mode {
	KS_MODE_TOOL,	/* one module, records streamed, report() each interval and at the end */
	KS_MODE_AGENT,	/* every module, summary() each interval, records streamed with --json */
	KS_MODE_STATUS,	/* hook selection only, nothing loaded */
};

/*
 * A session for @mods[0..n) with their parsed option states (owned by the caller until
 * ks_ctx__free). @common is copied. Returns NULL with errno set.
 */
struct ks_ctx *ks_ctx__new(enum ks_mode mode, const struct ks_common *common,
			   const struct ks_module *const *mods, void *const *states, int n,
			   const char *label);
void ks_ctx__free(struct ks_ctx *c);

/*
 * Choose hooks, load and attach. Returns 0; or -errno with the reason printed on stderr as
 * one line naming the module and the kernel feature (the command exits 1). In agent mode a
 * module that cannot run is reported and skipped; this fails only if none can run.
 */
int ks_ctx__start(struct ks_ctx *c);

/*
 * Add an output before start: the session then opens none of those its options name (a
 * unit test feeding a module by hand captures what it emits this way). The session owns
 * @s from now on. Returns 0 or -E2BIG.
 */
struct ks_sink;
int ks_ctx__add_sink(struct ks_ctx *c, struct ks_sink *s);

/*
 * Something the agent runs beside its modules without being one (ksight run --bpf: a
 * user's BPF objects, core/userbpf.h). start: after the modules are attached, before
 * "ready"; returns the programs it attached (counted in the ready line), or -errno with
 * the reason said (the command exits 1). collect: each interval before the registry is
 * shown, and at the end. stop: when the session unloads; nothing of it may stay.
 */
struct ks_extra {
	int (*start)(struct ks_ctx *c, void *arg);
	void (*collect)(struct ks_ctx *c, void *arg);
	void (*stop)(void *arg);
	void *arg;
};

#define KS_EXTRAS 4

/* Add an extra before start (up to KS_EXTRAS; run in the order added). */
void ks_ctx__set_extra(struct ks_ctx *c, const struct ks_extra *e);

/* Only choose hooks (status). Returns 0 or -errno. */
int ks_ctx__select(struct ks_ctx *c);

/*
 * After ks_ctx__select: load (verify) the core's and every module's object, attaching
 * nothing, then unload them. Modules the kernel refuses are marked, with the reason, for
 * ks_ctx__print_hooks. Returns 0, or -errno when the core itself cannot load.
 */
int ks_ctx__verify(struct ks_ctx *c);

/* Print what was chosen per module and slot, and why other alternatives were refused. */
void ks_ctx__print_hooks(struct ks_ctx *c, FILE *f);

/*
 * Read records until a signal, --duration, or the count of intervals is reached, then
 * detach, drain, report and print the loss line. Returns 0, or -errno on a runtime failure.
 */
int ks_ctx__run(struct ks_ctx *c);

/* Ask a running session to stop (async-signal-safe). */
void ks_ctx__request_stop(void);

#endif
