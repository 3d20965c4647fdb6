/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The name `ksight status --live` gives a program's row (status_names.c): the program's
 * full name, and what it runs for when its object says so: the YAML metrics of ksight run
 * --metrics each load trace's object once, so that every metric on a tracepoint has a
 * program named trace__tp; the instance carries "metrics:NAME" in its .rodata
 * (trace_serves, bpf/trace.bpf.c), which names the row instead.
 */
#ifndef KSIGHT_STATUS_NAMES_H
#define KSIGHT_STATUS_NAMES_H

#include <bpf/bpf.h>
#include <stddef.h>

/* Program @fd's name from its BTF into @buf (the kernel keeps 15 characters of it in
 * @info->name, used without BTF). */
void ks_prog_full_name(int fd, const struct bpf_prog_info *info, char *buf, size_t len);

/* What program @fd runs for (its object's read-only trace_serves) into @buf. Returns 0,
 * or -1 when its object has none or it is empty (@buf ""). */
int ks_prog_serves(int fd, const struct bpf_prog_info *info, char *buf, size_t len);

#endif
