/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module interface. A module is one row of files (bpf/<m>.bpf.c, bpf/<m>.h,
 * src/modules/<m>.c, tests, docs) and exports one `const struct ks_module <m>_module`,
 * listed once in bpf/modules.h. The core loads its programs, feeds it its records and
 * calls it each interval; the module decodes and reports through ks_emit() and never
 * prints or touches another module.
 *
 * Counting: a module registers its metrics in init() (ks_ctx_metric) and keeps series
 * handles; event() updates them (ks_counter_add), collect() brings in what the kernel
 * aggregated, and the agent's summary() shows their per-interval deltas. Nothing is
 * counted in module statics that reset.
 *
 * Hooks: each job of a module is a slot with alternatives in preference order. At start-up
 * the core picks, per slot, the first alternative the running kernel accepts (probed, never
 * guessed from the version) and switches the others off before load.
 *
 * BPF: each module's programs are one object of their own (bpf/<m>.bpf.c, skeleton
 * build/<m>.skel.h, struct <m>_bpf), loaded and verified on its own after the core's, whose
 * shared maps (ring buffer, counters, filters) it reuses. The callbacks below that take
 * @skel get that module's skeleton, a struct <m>_bpf *.
 */
#ifndef KSIGHT_MODULE_H
#define KSIGHT_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/opts.h"
#include "sink/record.h"

struct bpf_object;
struct bpf_object_open_opts;
struct ks_ctx;
struct ks_fdtab;
struct ks_ident;

/*
 * Hook families. The tracing ones first, cheapest first; KS_FAM_SYSCALL means "through the
 * syscall dispatcher", which itself runs on tp_btf, raw_tp or tp. The core attaches these
 * and KS_FAM_LSM (a program's section names its target) itself.
 * The families from KS_FAM_PERF on have targets known only at run time (a CPU, a binary, an
 * interface, a cgroup): a slot of such a family gets its programs loaded and probed like
 * any other, and the module attaches them from its attach callback with the functions of
 * core/attachments.h. Their ks_prog_ref.target names what the probe checks: "software" or
 * "hardware" (perf), "uprobe" or "uretprobe", "skb", "sock", "sock_addr" or "sockops"
 * (cgroup); empty for the others.
 */
enum ks_family {
	KS_FAM_FENTRY,
	KS_FAM_KPROBE,
	KS_FAM_TP_BTF,
	KS_FAM_RAW_TP,
	KS_FAM_TP,
	KS_FAM_SYSCALL,
	KS_FAM_LSM,		/* BPF LSM: target is the hook ("file_open") */
	KS_FAM_PERF,		/* perf_event sampling or counters, per CPU */
	KS_FAM_UPROBE,		/* uprobe/uretprobe on a user function */
	KS_FAM_USDT,		/* a USDT probe of a binary or library */
	KS_FAM_TC,		/* TC clsact: tcx link, else a legacy filter */
	KS_FAM_XDP,		/* XDP link on an interface */
	KS_FAM_CGROUP,		/* cgroup v2 program link (skb, sock, sock_addr, sockops) */
	KS_FAM_N,
};

/* Whether programs of family @f are attached by the module's attach callback. */
static inline bool ks_family_dynamic(enum ks_family f)
{
	return f >= KS_FAM_PERF && f < KS_FAM_N;
}

#define KS_ALT_PROGS 24
#define KS_SYS_ALL (-2)
#define KS_SLOT_ALTS 5

struct ks_prog_ref {
	const char *prog;	/* program name in the module's object */
	const char *target;	/* function (fentry, kprobe), tracepoint (tp_btf, raw_tp) or
				 * "category/name" (tp) the kernel must have */
};

struct ks_alt {
	enum ks_family family;
	struct ks_prog_ref p[KS_ALT_PROGS];	/* ends at the first NULL prog */
	const int *syscalls;	/* KS_FAM_SYSCALL: numbers routed to the module, -1 ends;
				 * KS_SYS_ALL routes every syscall */
};

struct ks_slot {
	const char *name;	/* what the slot does, for `ksight status` */
	struct ks_alt alts[KS_SLOT_ALTS];	/* preference order; ends at the first empty one */
	/* Optional slots: NULL, the module cannot run without the slot; else the slot is
	 * optional and this is the one line said when the kernel has none of its hooks
	 * ("io_uring tracepoints absent: rw does not see io_uring I/O"): the module runs
	 * without it (no alternative chosen, `ksight status` shows it absent-optional). */
	const char *absent;
};

/* Event types a module decodes (or counts in the kernel), named for the stats. */
struct ks_evtype {
	uint16_t type;
	const char *name;
	bool agg;		/* counted in kernel maps, not streamed (its losses are refused
				 * map updates, and the module reports its running total) */
};

/*
 * How the core opens, loads and frees one BPF object through its skeleton. Defined for
 * object <stem> by KS_BPF_OBJECT(stem) in the one file that opens it.
 */
struct ks_bpf_obj {
	const char *name;
	/* Returns the skeleton (struct <stem>_bpf *) opened with @opts, with its
	 * bpf_object in @obj, or NULL with errno set. */
	void *(*open)(const struct bpf_object_open_opts *opts, struct bpf_object **obj);
	/* Load (verify) every program left to autoload. Returns 0 or -errno. */
	int (*load)(void *skel);
	void (*destroy)(void *skel);
	/* The embedded ELF image (to release its pages once loaded). */
	const void *(*elf)(size_t *size);
};

#define KS_BPF_OBJECT(stem)                                                          \
	static void *stem##_obj_open(const struct bpf_object_open_opts *opts,        \
				     struct bpf_object **obj)                        \
	{                                                                            \
		struct stem##_bpf *s = stem##_bpf__open_opts(opts);                  \
                                                                                     \
		*obj = s ? s->obj : NULL;                                            \
		return s;                                                            \
	}                                                                            \
	static int stem##_obj_load(void *s)                                          \
	{                                                                            \
		return stem##_bpf__load(s);                                          \
	}                                                                            \
	static void stem##_obj_destroy(void *s)                                      \
	{                                                                            \
		stem##_bpf__destroy(s);                                              \
	}                                                                            \
	static const void *stem##_obj_elf(size_t *size)                              \
	{                                                                            \
		return stem##_bpf__elf_bytes(size);                                  \
	}                                                                            \
	const struct ks_bpf_obj stem##_bpf_obj = { #stem, stem##_obj_open, stem##_obj_load, \
						   stem##_obj_destroy, stem##_obj_elf }

/*
 * Another command served by a module: the same object, options and connection state, another
 * job (module tcp is tcplife, and tcpconnect and tcpaccept). Its mode is written to the int
 * at the module's mode_off in the state before the options are parsed; the agent runs the
 * module in mode 0.
 */
/* ks_module.sys_inline */
#define KS_SYS_INLINE_COUNT 1
#define KS_SYS_INLINE_READ 2
#define KS_SYS_INLINE_WRITE 3
#define KS_SYS_INLINE_WRITE_ARG1 4	/* a write whose fd is the second argument (tee) */
#define KS_SYS_INLINE_WRITE_ARG2 5	/* ... the third (splice, copy_file_range) */
/* or'd into READ/WRITE[_ARGn]: key the row by the fd's kind too (KS_SYS_IO_KINDS), told by
 * the call itself for sockets-only and files-only calls, else looked up at its return */
#define KS_SYS_INLINE_KINDS 0x100
#define KS_SYS_INLINE_ON_SOCK 0x200
#define KS_SYS_INLINE_ON_FILE 0x400
#define KS_SYS_INLINE_OP 0xff	/* the bits above are flags */

struct ks_variant {
	const char *name;	/* the command; NULL ends a list */
	const char *brief;	/* one line for `ksight --help` */
	const char *usage;	/* examples for `ksight <name> --help` */
	int mode;
};

struct ks_module {
	const char *name;		/* the subcommand (the object's stem, bpf->name, names
				 * its programs: tcp's command is tcplife) */
	enum ks_module_id id;
	const struct ks_bpf_obj *bpf;	/* its BPF object */
	bool thread_exits;		/* wants the core's KS_EV_PROC_TEXIT records too */
	const char *brief;		/* one line for `ksight --help` */
	const char *usage;		/* examples for `ksight <name> --help` */
	const struct ks_opt *opts;	/* values live at offsets in the module's state */
	size_t state_size;
	const void *defaults;		/* state_size bytes copied before parsing, or NULL */
	bool positional;		/* takes [interval [count]] */
	const char *args_usage;		/* with args: the positionals in --help (" PATTERN...") */
	bool tool_only;			/* a question asked on demand (funccount): never in
					 * the agent */
	bool agent_optin;		/* in the agent only when --modules names it: it costs
					 * every context switch or fault of the machine */
	const struct ks_slot *slots;	/* ends at a slot with a NULL name */
	const struct ks_evtype *types;	/* ends at name NULL */
	const struct ks_variant *variants;	/* other commands (ends at name NULL), or NULL */
	size_t mode_off;		/* with variants: the state's int that holds the mode */

	/* After parsing: check and derive options. Returns 0, or -1 with one line in @err
	 * (the command then exits 2). */
	int (*configure)(void *state, const struct ks_common *common, char *err, size_t len);
	/* Optional, tools: the command's positional arguments are the module's (ksight
	 * funccount PATTERN...), not [interval [count]]; it may set @common's interval and
	 * duration from options of its own. Called before configure. Returns 0, or -1 with
	 * one line in @err (the command then exits 2). */
	int (*args)(void *state, struct ks_common *common, const char **pos, int npos,
		    char *err, size_t len);
	/* Optional, tools: once root and BTF are known to be there, before anything is
	 * loaded, whether this kernel has what the options need. Returns 0; 1 with a note
	 * in @err (printed, the rest runs); -1 with the missing feature in @err (printed,
	 * the command exits 1). */
	int (*kernel_check)(void *state, char *err, size_t len);
	/* Optional: whether @slot is needed with these options (default: all are). */
	bool (*want_slot)(const void *state, const struct ks_slot *slot);
	/* Optional, agent: change the default state for running beside every other module
	 * (the agent parses no module options), before hooks are chosen. */
	void (*agent_defaults)(void *state);
	/* Optional, agent: options `ksight run` takes for the module (named for it:
	 * --guard-rules), at offsets in its state, and the check that derives the state from
	 * them when the module runs (0, or -1 with one line in @err: the agent exits 2). */
	const struct ks_opt *agent_opts;
	int (*agent_configure)(void *state, const struct ks_common *common, char *err,
			       size_t len);
	/* Optional: whether the dispatcher must record sys_enter times for this module. */
	bool (*want_enter)(const void *state);
	/* Optional: what of syscall @nr, routed to the module, the dispatcher can do itself
	 * with these options: KS_SYS_INLINE_COUNT (calls, failures, and with want_enter
	 * the total time, in the shared ks_sys_counts), KS_SYS_INLINE_READ or _WRITE[_ARGn] (the
	 * call's bytes on its (process, fd) row of the shared ks_fd_io), or 0: the module's
	 * handler runs, by tail call. A module whose every routed syscall is done inline has
	 * its handler neither loaded nor called. */
	unsigned int (*sys_inline)(const void *state, int nr);
	/* Optional: when the session is made, before anything is loaded (unit tests call it
	 * too): register metrics, allocate state. Returns 0 or -errno. */
	int (*init)(struct ks_ctx *ctx, void *state);
	/* Before load: rodata, map sizes. Returns 0 or -errno. */
	int (*setup)(struct ks_ctx *ctx, void *state, void *skel);
	/* Optional: after the core attached the chosen static programs, attach the programs of
	 * dynamic families (ks_family_dynamic) to their run-time targets with the functions of
	 * core/attachments.h; the core owns every attachment made and removes them with the
	 * module. Returns 0, or -errno (the reason is then in what those functions reported;
	 * the agent drops the module, a tool stops). */
	int (*attach)(struct ks_ctx *ctx, void *state, void *skel);
	/* Optional: once the programs are attached, before "ready": seed state from /proc
	 * that the records will keep fresh from then on. */
	void (*started)(struct ks_ctx *ctx, void *state);
	/* Optional: every process exec and exit record the session sees, whichever module
	 * prints them (for per-process state: a pid may be reused after its exit). */
	void (*proc)(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size);
	/* One streamed record of one of @types (size checked >= header). */
	void (*event)(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size);
	/* Tools: each interval and once at the end, output what the kernel aggregated. */
	void (*report)(struct ks_ctx *ctx, void *state, void *skel);
	/* Optional, agent: bring what the kernel aggregated since the last call into the
	 * metrics registry; each interval before the summaries, and once at the end. */
	void (*collect)(struct ks_ctx *ctx, void *state, void *skel);
	/* Agent: one compact summary of the last @secs seconds, from the registry's deltas
	 * (ks_rec_summary; rates as KS_V_RATE, sizes as KS_V_BYTES...). */
	void (*summary)(struct ks_ctx *ctx, void *state, double secs);
	/* Optional, `ksight status`: one line on what this kernel gives the module that its
	 * slots do not show (drops: whether the kernel names its drop reasons), into @buf;
	 * nothing written: no line. */
	void (*status)(struct ks_ctx *ctx, char *buf, size_t len);
	void (*fini)(void *state);
};

/* --- what the core offers modules (implemented in session.c) --- */

/* Send @r to every sink that takes its kind; fills the wall time and (for sinks that want
 * it) the service from r->hdr. Values @r could not hold are counted here. */
void ks_emit(struct ks_ctx *ctx, struct ks_rec *r);
/* Whether some sink takes event records (tools, agent --json): else a module only counts. */
bool ks_ctx_streaming(const struct ks_ctx *ctx);
/* The session's metrics registry (metrics.h). */
struct ks_metrics *ks_ctx_metrics(struct ks_ctx *ctx);
/* Register @d in the session's registry; NULL with errno set (see ks_metrics__register). */
struct ks_metric *ks_ctx_metric(struct ks_ctx *ctx, const struct ks_metric_desc *d);

#define KS_TOP_MAX 8

/*
 * A summary's top list: the @k (<= KS_TOP_MAX) series of counter @m that grew most since
 * the last interval, as the nested object @o in @vals[k] ("label": count, or count / @secs
 * as a rate when @secs > 0; the overflow series is "(other)"), added to @r as @key/@col.
 * @o and @vals must live until @r is emitted.
 */
void ks_rec_top(struct ks_rec *r, const char *key, const char *col, struct ks_obj *o,
		struct ks_val *vals, size_t k, const struct ks_metric *m, double secs);
const struct ks_common *ks_ctx_common(const struct ks_ctx *ctx);
/* Wall time of a monotonic kernel timestamp. */
int64_t ks_ctx_real(const struct ks_ctx *ctx, uint64_t mono_ns);
/* The kernel has counted @total events of aggregation type @type so far. */
void ks_ctx_aggregated(struct ks_ctx *ctx, uint16_t type, uint64_t total);
/* Service name of a task (systemd unit, container, executable), never NULL; valid until
 * the next call into the session. Records: ks_ident__service() on ks_ctx_ident(). */
const char *ks_ctx_service(struct ks_ctx *ctx, uint32_t pid, uint64_t cgroup);
/* While a KS_EV_PROC_EXEC record is handled: the service its task belonged to before the
 * exec (its own image's, else its parent's when the process was not known: a fork's
 * child) and that service's cgroup id, for spawn edges (docs/map.md). NULL when not known
 * or when no output takes services. */
const char *ks_ctx_exec_from(const struct ks_ctx *ctx, uint64_t *cgroup);
/* The session's identity cache (core/ident.h): owned by the session, never NULL. */
struct ks_ident *ks_ctx_ident(struct ks_ctx *ctx);
/* The session's fd table (core/fdtab.h), shared by the modules that name fds: made on
 * the first call (setup), owned by the session; the core forgets a process's fds at its
 * exit and exec. NULL when out of memory. */
struct ks_fdtab *ks_ctx_fdtab(struct ks_ctx *ctx);
/* The family each alternative of the module's @slot resolved to, or -1 if not loaded. */
int ks_ctx_slot_family(const struct ks_ctx *ctx, const struct ks_module *m, const char *slot);
/* Read BPF ring buffer @map_fd (a map of the module's object) beside the shared ring,
 * in the same poll, @fn(@arg, record, size) per record; drained at the end with it. For
 * records that must not share the shared ring's fate (guard's reserve). From `started`
 * on. Returns 0 or -errno. */
int ks_ctx_add_ring(struct ks_ctx *ctx, int map_fd, int (*fn)(void *arg, void *data,
							      size_t size), void *arg);
/* Make the session end with a non-zero status (the module lost something it must not). */
void ks_ctx_fail_at_end(struct ks_ctx *ctx);
/* The running kernel's BTF (vmlinux), loaded once; NULL if the kernel has none. */
struct btf *ks_ctx_btf(struct ks_ctx *ctx);

#endif
