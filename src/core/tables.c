// SPDX-License-Identifier: GPL-2.0
/*
 * The session's tables: the identity cache (and, for the modules that ask, the fd table)
 * with the worker thread that reads /proc for them. Records keep them fresh (reader.c);
 * the worker's results are published when the reader drains it.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/fdtab.h"
#include "core/session_int.h"

#define KS_WORKER_JOBS 4096	/* loads queued at most: a fork storm's excess is counted */
#define KS_FDTAB_MAX 65536	/* fds known at most */

int ks_ctx_tables_new(struct ks_ctx *c)
{
	unsigned int delay = 0;

	ks_worker_test_delay(&delay, NULL, 0);	/* checked by main: exits 2 when bad */
	c->worker = ks_worker__new(KS_WORKER_JOBS, delay, true);
	if (!c->worker)
		return -errno;
	c->ident = ks_ident__new(c->mode == KS_MODE_AGENT ? 8192 : 4096, NULL, c->worker);
	return c->ident ? 0 : -ENOMEM;
}

void ks_ctx_tables_start(struct ks_ctx *c)
{
	/* off the critical path: the worker reads /proc while the reader starts */
	if (c->mode == KS_MODE_AGENT)
		ks_ident__seed(c->ident);
	else if (c->common.pid)
		ks_ident__load(c->ident, c->common.pid);
}

void ks_ctx_tables_free(struct ks_ctx *c)
{
	/* first: a finished load must not be published into a freed table */
	ks_worker__free(c->worker);
	c->worker = NULL;
	ks_fdtab__free(c->fdtab);
	c->fdtab = NULL;
	ks_ident__free(c->ident);
	c->ident = NULL;
}

struct ks_ident *ks_ctx_ident(struct ks_ctx *c)
{
	return c->ident;
}

struct ks_fdtab *ks_ctx_fdtab(struct ks_ctx *c)
{
	if (!c->fdtab)
		c->fdtab = ks_fdtab__new("/proc", KS_FDTAB_MAX, c->worker);
	return c->fdtab;
}

/* An exit ends a process's fds (the pid may be reused); an exec closed its close-on-exec
 * ones: it is scanned again. After the modules saw the record. */
void ks_ctx_tables_proc(struct ks_ctx *c, const struct ks_hdr *h)
{
	if (c->fdtab)
		ks_fdtab__forget(c->fdtab, h->pid, h->ts);
}

const char *ks_ctx_service(struct ks_ctx *c, uint32_t pid, uint64_t cgroup)
{
	struct ks_hdr h = { .pid = pid, .tid = pid, .cgroup = cgroup, .ts = ks_clock_mono_now(),
			    .comm = "?" };

	return ks_ident__service(c->ident, &h);
}
