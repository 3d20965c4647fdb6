/* SPDX-License-Identifier: GPL-2.0 */
/* guard: the user side of the fd patterns (listeners, peers) and of the libpam probes. */
#ifndef KSIGHT_GUARD_NET_H
#define KSIGHT_GUARD_NET_H

#include <stddef.h>

struct bpf_program;
struct guard_event;
struct ks_ctx;

/* Put the processes that hold a listening TCP socket now (this network namespace's
 * /proc/net/tcp and tcp6) into listener map @map_fd. Returns how many, or -errno. */
int guard_seed_listeners(int map_fd);

/* @e's socket peer as "ADDR:PORT", "[ADDR6]:PORT", "unix", or "" for none. */
void guard_peer_text(const struct guard_event *e, char *out, size_t len);

/* Attach the uretprobes on libpam.so.0's pam_authenticate (@auth) and pam_open_session
 * (@session) for every process. No libpam: a note on stderr, 0. Returns 0 or -errno. */
int guard_pam_attach(struct ks_ctx *ctx, struct bpf_program *auth,
		     struct bpf_program *session);

#endif
