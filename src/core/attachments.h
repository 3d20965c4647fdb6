/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Attaching programs whose targets are known only at run time: what a module calls from its
 * attach callback (module.h), or later (a process that maps a library after start).
 *
 * Every function here attaches @prog, a program of the calling module's object that a
 * chosen slot alternative of a dynamic family (module.h) loaded, and keeps the attachment
 * in that module's set: the core owns it and removes it when the module goes (exit, a
 * detach, the agent dropping the module). Every attachment is a BPF link or a file
 * descriptor of this process, so the kernel drops it if ksight dies; the only exceptions,
 * legacy TC filters and tracefs probe events, are tagged as ksight's with the owning pid
 * and recorded (core/legacy.h) so that a later ksight removes them (docs/attach.md).
 *
 * Each returns 0, or -errno with a one-line reason stored for the core to print, naming
 * the module and the target ("selftest: tc on veth9 ingress: no such interface").
 */
#ifndef KSIGHT_ATTACHMENTS_H
#define KSIGHT_ATTACHMENTS_H

#include <stdbool.h>
#include <stdint.h>

struct bpf_map;
struct bpf_program;
struct ks_ctx;
struct ks_module;

/* A perf event, opened on every online CPU (pid -1) or for one process. */
struct ks_perf_spec {
	uint32_t type;		/* PERF_TYPE_SOFTWARE, PERF_TYPE_HARDWARE, ... */
	uint64_t config;	/* PERF_COUNT_SW_CPU_CLOCK, PERF_COUNT_HW_CPU_CYCLES, ... */
	uint64_t period;	/* sample every @period events (ns for the clocks) ... */
	uint64_t freq;		/* ... or, when @period is 0, this many times a second per CPU */
	int pid;		/* 0 or -1: every task, one event per online CPU; > 0: that
				 * process only, one event following it across CPUs */
};

/*
 * Run perf_event program @prog on each sample of @spec: one event per online CPU (or for
 * spec->pid), each attached by a link (5.15+) or the event's ioctl. A hardware event on a
 * machine without a PMU fails with -ENOENT.
 */
int ks_attach_perf(struct ks_ctx *ctx, struct bpf_program *prog, const struct ks_perf_spec *spec);

/*
 * Open counting (non-sampling) event @spec on every online CPU and store each in
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY @array, a map of the calling module's object, at its CPU's
 * index, for bpf_perf_event_read_value(). The entries are deleted and the events closed
 * when the module goes.
 */
int ks_perf_counters(struct ks_ctx *ctx, struct bpf_map *array, const struct ks_perf_spec *spec);

/* A user-space function. */
struct ks_uprobe_spec {
	const char *binary;	/* a path, or a library name ("libc", "libssl.so.3"): with
				 * @pid, one the process has mapped; without, one in the usual
				 * library directories (core/elfsym.h) */
	const char *func;	/* its symbol (ELF .symtab, else .dynsym); NULL: @offset is a
				 * file offset */
	uint64_t offset;	/* added to the function's offset */
	int pid;		/* -1 or 0: every process; > 0: that process, its files seen
				 * through /proc/PID/root */
	bool retprobe;		/* at the function's return (uretprobe) */
	bool legacy;		/* through tracefs uprobe_events even where the kernel has the
				 * uprobe PMU (tests of the legacy path); automatic without it */
	uint64_t cookie;	/* what bpf_get_attach_cookie() returns in the program (5.15+:
				 * one program can tell many functions apart) */
};

/* Attach kprobe-type program @prog as a uprobe or uretprobe on @spec. */
int ks_attach_uprobe(struct ks_ctx *ctx, struct bpf_program *prog,
		     const struct ks_uprobe_spec *spec);

/*
 * Attach usdt program @prog (SEC("usdt"), bpf/usdt.bpf.h) to every site of USDT probe
 * @provider:@name in @binary (resolved as for uprobes), for process @pid (> 0) or all.
 */
int ks_attach_usdt(struct ks_ctx *ctx, struct bpf_program *prog, const char *binary,
		   const char *provider, const char *name, int pid);

/*
 * Attach program @prog to kernel function @func: as fentry (SEC("fentry"), its target set
 * before load) when @fentry, else as a kprobe (SEC("kprobe")).
 */
int ks_attach_kfunc(struct ks_ctx *ctx, struct bpf_program *prog, const char *func, bool fentry);

/*
 * Attach SEC("kprobe.multi") program @prog to the @n kernel functions @funcs by one
 * kprobe.multi link (5.18+, CONFIG_FPROBE; no tracefs, nothing left after a kill).
 */
int ks_attach_kprobe_multi(struct ks_ctx *ctx, struct bpf_program *prog, const char **funcs,
			   size_t n);

/*
 * Keep link @fd, which the module made itself (a program it loaded with bpf_prog_load, as
 * ksight funccount's per-function fentry copies), in the set of the module whose object
 * holds @owner: closed when the module goes, counted among its attachments. On failure
 * @fd is closed. Returns 0 or -errno.
 */
int ks_attach_keep_fd(struct ks_ctx *ctx, const struct bpf_program *owner, int fd);

/*
 * Attach tracepoint program @prog (SEC("tracepoint"): its context is the raw record) to
 * tracepoint @category:@name, chosen at run time.
 */
int ks_attach_tracepoint(struct ks_ctx *ctx, struct bpf_program *prog, const char *category,
			 const char *name);

/*
 * Attach a tracepoint's raw-arguments program @prog: SEC("tp_btf") (@btf, its target set
 * before load) or SEC("raw_tp") on tracepoint @name, chosen at run time.
 */
int ks_attach_raw_tp(struct ks_ctx *ctx, struct bpf_program *prog, const char *name,
		     bool btf);

enum ks_tc_dir { KS_TC_INGRESS, KS_TC_EGRESS };

enum ks_tc_mode {
	KS_TC_AUTO,	/* a tcx link where the kernel has them, else a legacy filter */
	KS_TC_TCX,	/* a tcx link or nothing */
	KS_TC_LEGACY,	/* a clsact filter even where tcx exists (tests of that path) */
};

/*
 * Attach SEC("tc") program @prog to interface @ifname (this network namespace) in
 * direction @dir. A legacy filter goes on the clsact qdisc, created if missing (and then
 * removed again with ksight's last filter on it); a qdisc that was there is left as it was.
 */
int ks_attach_tc(struct ks_ctx *ctx, struct bpf_program *prog, const char *ifname,
		 enum ks_tc_dir dir, enum ks_tc_mode mode);

/* Attach XDP program @prog to interface @ifname by a link (native mode where the driver
 * has it, else generic). */
int ks_attach_xdp(struct ks_ctx *ctx, struct bpf_program *prog, const char *ifname);

/*
 * Attach cgroup program @prog (its section gives the attach type: cgroup_skb/ingress,
 * cgroup/sock_create, cgroup/connect4, sockops, ...) to cgroup @cgroup by a link, in
 * multi mode so other programs there keep running. @cgroup is a directory of the cgroup
 * v2 file system, or a path relative to its mount (/sys/fs/cgroup or
 * /sys/fs/cgroup/unified: core/cgroup.h).
 */
int ks_attach_cgroup(struct ks_ctx *ctx, struct bpf_program *prog, const char *cgroup);

/* How many attachments module @m holds through these functions now. */
int ks_ctx_attachments(const struct ks_ctx *ctx, const struct ks_module *m);

#endif
