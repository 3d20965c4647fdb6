/* SPDX-License-Identifier: GPL-2.0 */
/* What the probes of probe.c and probe_attach.c share. */
#ifndef KSIGHT_PROBE_INT_H
#define KSIGHT_PROBE_INT_H

#include <bpf/bpf.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/probe.h"

/* Load "[r2 = ctx[0];] r0 = 0; exit" as @type. Returns the fd (the caller closes it) or
 * -errno. */
int ks_probe_prog(enum bpf_prog_type type, enum bpf_attach_type attach, __u32 btf_id,
		  bool read_arg0);

/* Write "<@fmt with @arg> (ERRNAME)" to @buf and return @err. */
int ks_probe_why(char *buf, size_t len, int err, const char *fmt, const char *arg);

/* probe_attach.c: the families of module.h from KS_FAM_LSM on (ks_probe's answer). */
int ks_probe_dynamic(struct ks_probe *p, enum ks_family family, const char *target, char *why,
		     size_t len);

/* The perf PMU type of uprobes (/sys/bus/event_source/devices/uprobe), or -errno when the
 * kernel has none (uprobes then go through tracefs, where the kernel has uprobe_events). */
int ks_uprobe_pmu_type(void);

/* The config bit that makes a uprobe PMU event a uretprobe, or -errno. */
int ks_uprobe_pmu_retbit(void);

#endif
