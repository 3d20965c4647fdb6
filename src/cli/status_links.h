/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where each BPF program of the machine is attached, from the kernel's links
 * (status_links.c): `ksight status --live` shows it beside the program, so two programs
 * of one name (a YAML metric's trace__tp per metric, a --bpf object's) are told apart.
 */
#ifndef KSIGHT_STATUS_LINKS_H
#define KSIGHT_STATUS_LINKS_H

#include <linux/types.h>
#include <stddef.h>

struct ks_link_target {
	__u32 prog_id;
	char where[128];	/* "tp:sched:sched_switch", "fentry:vfs_read", "xdp:eth0" ... */
};

/* Up to @max links of the machine into @out, in link-id order; returns how many. */
size_t ks_link_targets(struct ks_link_target *out, size_t max);

#endif
