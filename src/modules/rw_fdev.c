// SPDX-License-Identifier: GPL-2.0
#include "modules/rw_fdev.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* The record's numbers are the core's: rw was the first user of the fd table. */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(RW_KIND_UNKNOWN, KS_FD_UNKNOWN) && SAME(RW_KIND_FILE, KS_FD_FILE) &&
		       SAME(RW_KIND_SOCKET, KS_FD_SOCKET) && SAME(RW_KIND_PIPE, KS_FD_PIPE) &&
		       SAME(RW_KIND_ANON, KS_FD_ANON), "fd kinds");
_Static_assert(SAME(RW_FD_NEW, KS_FD_NEW) && SAME(RW_FD_UPDATE, KS_FD_UPDATE) &&
		       SAME(RW_FD_DUP, KS_FD_DUP) && SAME(RW_FD_CLOSE, KS_FD_CLOSE) &&
		       SAME(RW_FD_CLOSE_RANGE, KS_FD_CLOSE_RANGE) && SAME(RW_FD_CWD, KS_FD_CWD),
	       "fd ops");
_Static_assert(sizeof(((struct rw_inaddr *)0)->addr) == sizeof(((struct ks_endpoint *)0)->addr),
	       "endpoint bytes");

static void endpoint(struct ks_endpoint *out, const struct rw_inaddr *in)
{
	memcpy(out->addr, in->addr, sizeof(out->addr));
	out->port = in->port;
}

bool rw_fdchange_from_event(struct ks_fdchange *c, const struct rw_fd_event *e, size_t size,
			    char *lname, char *rname)
{
	size_t name_len;

	memset(c, 0, sizeof(*c));
	if (size < sizeof(*e))
		return false;
	name_len = sizeof(*e) + e->name_len > size ? 0 : e->name_len;
	c->op = e->op;
	c->pid = e->hdr.pid;
	c->fd = e->fd;
	c->fd2 = e->fd2;
	c->dfd = e->dfd;
	c->ts = e->hdr.ts;
	c->enter_ts = e->enter_ts;
	c->spec.kind = e->kind;
	c->spec.family = e->family;
	c->spec.sotype = e->sotype;
	c->spec.ino = e->ino;
	if (e->flags & RW_FDF_REUSED)
		c->flags |= KS_FDC_REUSED;
	if (e->kind == RW_KIND_SOCKET && (e->family == AF_INET || e->family == AF_INET6)) {
		endpoint(&c->spec.local, &e->laddr);
		endpoint(&c->spec.remote, &e->raddr);
	} else if (e->kind == RW_KIND_SOCKET && e->family == AF_UNIX &&
		   name_len == 2 * RW_UNIX_HALF) {
		snprintf(lname, RW_UNIX_NAME, "%.*s", RW_UNIX_HALF - 1, e->name);
		snprintf(rname, RW_UNIX_NAME, "%.*s", RW_UNIX_HALF - 1, e->name + RW_UNIX_HALF);
		c->spec.lname = lname;
		c->spec.rname = rname;
	} else if (name_len && e->name[name_len - 1] == 0 && e->name[0]) {
		c->spec.path = e->name;
		c->spec.path_cut = e->flags & RW_FDF_NAME_CUT;
		if (e->flags & RW_FDF_PATH)
			c->flags |= KS_FDC_PATH;
		else if (e->op == RW_FD_DUP && e->kind == RW_KIND_FILE)
			c->flags |= KS_FDC_BASENAME;	/* the kernel's dentry name */
	}
	return true;
}
