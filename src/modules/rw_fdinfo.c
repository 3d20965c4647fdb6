// SPDX-License-Identifier: GPL-2.0
/* What an fd refers to: built from fd records or /proc links, with its display text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "modules/rw_fdcache.h"
#include "sink/escape.h"

static const char *const kind_names[] = {
	[RW_KIND_UNKNOWN] = "unknown", [RW_KIND_FILE] = "file",	  [RW_KIND_SOCKET] = "socket",
	[RW_KIND_PIPE] = "pipe",	  [RW_KIND_ANON] = "anon",
};

static void disp_ino(struct ks_buf *b, const char *prefix, uint64_t ino)
{
	ks_buf_str(b, prefix);
	ks_buf_str(b, ":[");
	ks_buf_u64(b, ino);
	ks_buf_ch(b, ']');
}

/* The table form: "file:/x", "pipe:[12]", "anon:[eventfd]", "tcp:a:1->b:2", "unix:/s". */
static void display(struct ks_buf *b, const struct rw_fdspec *s, const char *proto)
{
	switch (s->kind) {
	case RW_KIND_FILE:
	case RW_KIND_PIPE:
	case RW_KIND_ANON:
		if (!s->path) {
			disp_ino(b, kind_names[s->kind], s->ino);
			return;
		}
		ks_buf_str(b, kind_names[s->kind]);
		ks_buf_ch(b, ':');
		ks_escape(b, s->path, strlen(s->path));
		return;
	case RW_KIND_SOCKET:
		if (!s->laddr && !s->raddr) {
			disp_ino(b, proto, s->ino);
			return;
		}
		ks_buf_str(b, proto);
		ks_buf_ch(b, ':');
		if (s->laddr)
			ks_escape(b, s->laddr, strlen(s->laddr));
		if (s->raddr) {
			ks_buf_str(b, "->");
			ks_escape(b, s->raddr, strlen(s->raddr));
		}
		return;
	default:
		ks_buf_str(b, "unknown");
	}
}

static const char *pack(struct rw_fdinfo *i, size_t *off, const char *s, uint32_t *len)
{
	char *dst = i->data + *off;

	if (!s)
		return NULL;
	*len = strlen(s);
	memcpy(dst, s, *len + 1);
	*off += *len + 1;
	return dst;
}

struct rw_fdinfo *rw_fdinfo_new(const struct rw_fdspec *s)
{
	const char *proto = s->kind == RW_KIND_SOCKET ? rw_proto_name(s->family, s->sotype) : NULL;
	size_t need = 0, off = 0;
	struct rw_fdinfo *i;
	struct ks_buf b;

	if (ks_buf_init(&b, -1, 128))
		return NULL;
	display(&b, s, proto);
	ks_buf_ch(&b, 0);
	need = b.len + (s->path ? strlen(s->path) + 1 : 0) + (s->laddr ? strlen(s->laddr) + 1 : 0) +
	       (s->raddr ? strlen(s->raddr) + 1 : 0);
	i = calloc(1, sizeof(*i) + need);
	if (!i) {
		ks_buf_free(&b);
		return NULL;
	}
	i->refs = 1;
	i->kind = s->kind < sizeof(kind_names) / sizeof(kind_names[0]) ? s->kind : RW_KIND_UNKNOWN;
	i->family = s->family;
	i->sotype = s->sotype;
	i->lport = s->lport;
	i->ino = s->ino;
	i->kind_name = kind_names[i->kind];
	i->proto = proto;
	i->path = pack(i, &off, s->path, &i->path_len);
	i->laddr = pack(i, &off, s->laddr, &i->laddr_len);
	i->raddr = pack(i, &off, s->raddr, &i->raddr_len);
	i->disp = pack(i, &off, b.p, &i->disp_len);
	ks_buf_free(&b);
	return i;
}

void rw_fdinfo_put(struct rw_fdinfo *i)
{
	if (i && !--i->refs)
		free(i);
}

/* Endpoints of an inet socket as text; the remote one only when it is set. */
static void inet_text(struct rw_fdspec *s, int family, const uint8_t *la, uint16_t lp,
		      const uint8_t *ra, uint16_t rp, char *laddr, char *raddr, size_t len)
{
	rw_fmt_endpoint(laddr, len, family, la, lp);
	s->laddr = laddr;
	if (!rw_endpoint_unset(ra, rp)) {
		rw_fmt_endpoint(raddr, len, family, ra, rp);
		s->raddr = raddr;
	}
	s->lport = lp;
}

static bool is_inet(int family)
{
	return family == AF_INET || family == AF_INET6;
}

void rw_fdspec_from_event(struct rw_fdspec *s, const struct rw_fd_event *e, size_t size,
			  char *laddr, char *raddr, size_t len)
{
	size_t name_len = e->name_len;

	memset(s, 0, sizeof(*s));
	s->kind = e->kind;
	s->family = e->family;
	s->sotype = e->sotype;
	s->ino = e->ino;
	if (sizeof(*e) + name_len > size)
		name_len = 0;
	if (e->kind == RW_KIND_SOCKET && is_inet(e->family)) {
		inet_text(s, e->family, e->laddr.addr, e->laddr.port, e->raddr.addr, e->raddr.port,
			  laddr, raddr, len);
	} else if (e->kind == RW_KIND_SOCKET && e->family == AF_UNIX &&
		   name_len == 2 * RW_UNIX_HALF) {
		snprintf(laddr, len, "%.*s", RW_UNIX_HALF - 1, e->name);
		snprintf(raddr, len, "%.*s", RW_UNIX_HALF - 1, e->name + RW_UNIX_HALF);
		s->laddr = laddr[0] ? laddr : NULL;
		s->raddr = raddr[0] ? raddr : NULL;
	} else if (name_len && e->name[name_len - 1] == 0 && e->name[0]) {
		s->path = e->name;
	}
}

static int parse_ino(const char *link, const char *prefix, uint64_t *ino)
{
	size_t n = strlen(prefix);
	unsigned long long v;
	char *end;

	if (strncmp(link, prefix, n) || link[n] != '[')
		return -1;
	v = strtoull(link + n + 1, &end, 10);
	if (end == link + n + 1 || *end != ']')
		return -1;
	*ino = v;
	return 0;
}

struct rw_fdinfo *rw_fdinfo_from_link(const char *link, uint32_t mode,
				      const struct rw_socktab *net)
{
	struct rw_fdspec s = { .kind = RW_KIND_FILE, .path = link };
	char laddr[RW_UNIX_PATH + 8], raddr[64];
	const struct rw_sock *k;

	if (!parse_ino(link, "socket:", &s.ino)) {
		s.kind = RW_KIND_SOCKET;
		s.path = NULL;
		k = net ? rw_socktab_find(net, s.ino) : NULL;
		if (k) {
			s.family = k->family;
			s.sotype = k->sotype;
			if (is_inet(k->family))
				inet_text(&s, k->family, k->laddr, k->lport, k->raddr, k->rport,
					  laddr, raddr, sizeof(raddr));
			else if (k->path[0])
				s.laddr = k->path;
		}
	} else if (!parse_ino(link, "pipe:", &s.ino)) {
		s.kind = RW_KIND_PIPE;
		s.path = NULL;
	} else if (!strncmp(link, "anon_inode:", 11)) {
		s.kind = RW_KIND_ANON;
		s.path = link + 11;
	} else if (S_ISFIFO(mode)) {
		s.kind = RW_KIND_PIPE;
	} else if (S_ISSOCK(mode)) {
		s.kind = RW_KIND_SOCKET;
		s.path = NULL;
		s.laddr = link;
	}
	return rw_fdinfo_new(&s);
}
