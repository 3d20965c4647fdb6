/* SPDX-License-Identifier: GPL-2.0 */
/* guard: the user side of the fd patterns (listeners, peers) and of the libpam probes. */
#ifndef KSIGHT_GUARD_NET_H
#define KSIGHT_GUARD_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "guard.h"

struct bpf_program;
struct guard_event;
struct ks_ctx;

/* Put the processes that hold a listening TCP socket now (this network namespace's
 * /proc/net/tcp and tcp6) into listener map @map_fd. Returns how many, or -errno. */
int guard_seed_listeners(int map_fd);

/* @e's socket peer as "ADDR:PORT", "[ADDR6]:PORT", "unix", or "" for none. */
void guard_peer_text(const struct guard_event *e, char *out, size_t len);

/* The programs of bpf/guard_pam.bpf.h. */
struct guard_pam_progs {
	struct bpf_program *auth_ret, *session_ret;	/* the results */
	struct bpf_program *call;	/* pam_authenticate, pam_open_session entries */
	struct bpf_program *start, *start_cd, *start_ret;	/* pam_start(_confdir) */
	struct bpf_program *set_item, *end;
};

/* Attach @p to libpam.so.0 (pam_authenticate, pam_open_session, pam_start,
 * pam_start_confdir where it has one, pam_set_item, pam_end) for every process. No libpam:
 * a note on stderr, 0. Returns 0 or -errno. */
int guard_pam_attach(struct ks_ctx *ctx, const struct guard_pam_progs *p);

/* A login's names as the alerts show them; a NULL pointer: unknown. */
struct guard_pam_text {
	const char *user, *rhost, *service, *ruser;
	bool user_cut, rhost_cut, ruser_cut;
	char ubuf[GUARD_PAM_USER_MAX], rbuf[GUARD_PAM_RHOST_MAX], sbuf[GUARD_PAM_SERVICE_MAX];
	char rubuf[GUARD_PAM_USER_MAX];
};

/* The names of auth/session record @e into @t (all unknown for other kinds). The service
 * as libpam uses it: after the last '/', in lower case. */
void guard_pam_text(const struct guard_event *e, struct guard_pam_text *t);

#endif
