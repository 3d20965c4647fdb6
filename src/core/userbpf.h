/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksight run --bpf OBJ[:MANIFEST]: a user's compiled CO-RE BPF objects run beside the
 * modules. Each is loaded as it is, its programs auto-attached by their section names
 * (libbpf), and its maps exported into the agent's metrics registry each interval, keys
 * and values decoded from the object's BTF (docs/userbpf.md). Each program's runs and
 * run time join ksight_bpf_prog_runs_total / ksight_bpf_prog_run_seconds_total under
 * module="bpf:<object>". Nothing is pinned: the links and objects close with the agent.
 */
#ifndef KSIGHT_USERBPF_H
#define KSIGHT_USERBPF_H

#include <stddef.h>

struct ks_ctx;
struct ks_userbpf;

/*
 * Open (not load) each of @specs[0..n) (OBJ or OBJ:MANIFEST): the file must be a BPF ELF
 * object with BTF, the manifest must parse. Returns the set, or NULL with one line in
 * @err (the command exits 2).
 */
struct ks_userbpf *ks_userbpf__open(const char *const *specs, int n, char *err, size_t len);

/* Hand the set to the session (ks_ctx__set_extra): loaded and attached at start,
 * collected each interval, closed when the session unloads. */
void ks_userbpf__attach_to(struct ks_userbpf *u, struct ks_ctx *ctx);

/* After ks_ctx__free: what the registry pointed to. NULL is fine. */
void ks_userbpf__free(struct ks_userbpf *u);

#endif
