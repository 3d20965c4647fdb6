/* SPDX-License-Identifier: GPL-2.0 */
/* Options every command shares: filters, output, hooks, ring buffer. */
#ifndef KSIGHT_CONFIG_H
#define KSIGHT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/opts.h"

#define KS_UNSET UINT64_MAX

enum ks_hooks_choice {
	KS_HOOKS_AUTO,
	KS_HOOKS_FENTRY,
	KS_HOOKS_KPROBE,
	KS_HOOKS_TP_BTF,
	KS_HOOKS_RAW_TP,
	KS_HOOKS_TP,
};

/* The reader maps the buffer twice (wrap-around) and every page counts in its RSS. */
#define KS_RINGBUF_DEFAULT (4ULL << 20)
/* The agent aggregates in the kernel and streams only lifecycle, opens and file changes:
 * half the ring the tools that stream every event need. */
#define KS_RINGBUF_AGENT (2ULL << 20)

/* --bpf and --metrics: the kernel's BPF statistics on for one interval in this many */
#define KS_BPF_STATS_EVERY 10

struct ks_common {
	uint64_t pid;		/* -p, 0: any */
	uint64_t tid;		/* -t, 0: any */
	uint64_t uid;		/* -u, KS_UNSET: any */
	const char *comm;	/* -n, exact process name */
	const char *cgroup;	/* --cgroup, a cgroup v2 directory */
	bool json;		/* --json: JSON lines on stdout (the same as -o json) */
	struct ks_strs outputs;	/* -o SPEC... (sink/sink.h); none: the table, or --json */
	bool timestamps;	/* -T */
	int hooks;		/* enum ks_hooks_choice */
	uint64_t ringbuf_size;	/* bytes, power of two */
	int verbose;		/* -v: libbpf and verifier logs */
	uint64_t duration;	/* --duration seconds, 0: until Ctrl-C */
	uint64_t interval;	/* positional, seconds, 0: none */
	uint64_t count;		/* positional, reports, 0: unlimited */
	bool agent;		/* set by ksight run: modules summarise among others, their
				 * options at their defaults */
	const char *listen;	/* ksight run --listen: serve /metrics here; NULL: not */
	bool listen_default;	/* ... the default address: a busy port is a warning */
	/* ksight run: the kernel's BPF run-time statistics on for one interval in this many
	 * (1: always, --bpf-stats; 0: never; --bpf and --metrics sample, --bpf-stats-every) */
	uint32_t bpf_stats_every;
};

#endif
