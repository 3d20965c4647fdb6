// SPDX-License-Identifier: GPL-2.0
/* What an fd refers to: built from fd changes or /proc links, with its display text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "core/fdtab_int.h"
#include "core/path.h"
#include "sink/escape.h"

static const char *const kind_names[KS_FD_KINDS] = {
	[KS_FD_UNKNOWN] = "unknown", [KS_FD_FILE] = "file", [KS_FD_SOCKET] = "socket",
	[KS_FD_PIPE] = "pipe",	     [KS_FD_ANON] = "anon",
};

static bool is_inet(int family)
{
	return family == AF_INET || family == AF_INET6;
}

static void disp_ino(struct ks_buf *b, const char *prefix, uint64_t ino)
{
	ks_buf_str(b, prefix);
	ks_buf_str(b, ":[");
	ks_buf_u64(b, ino);
	ks_buf_ch(b, ']');
}

/* The table form: "file:/x", "pipe:[12]", "anon:[eventfd]", "tcp:a:1->b:2", "unix:/s". */
static void display(struct ks_buf *b, uint8_t kind, const struct ks_fdspec *s, const char *proto,
		    const char *laddr, const char *raddr)
{
	switch (kind) {
	case KS_FD_FILE:
	case KS_FD_PIPE:
	case KS_FD_ANON:
		if (!s->path) {
			disp_ino(b, kind_names[kind], s->ino);
			return;
		}
		ks_buf_str(b, kind_names[kind]);
		ks_buf_ch(b, ':');
		ks_escape(b, s->path, strlen(s->path));
		return;
	case KS_FD_SOCKET:
		if (!laddr && !raddr) {
			disp_ino(b, proto, s->ino);
			return;
		}
		ks_buf_str(b, proto);
		ks_buf_ch(b, ':');
		if (laddr)
			ks_escape(b, laddr, strlen(laddr));
		if (raddr) {
			ks_buf_str(b, "->");
			ks_escape(b, raddr, strlen(raddr));
		}
		return;
	default:
		ks_buf_str(b, "unknown");
	}
}

static const char *pack(struct ks_fdinfo *i, size_t *off, const char *s, uint32_t *len)
{
	char *dst = i->data + *off;

	if (!s)
		return NULL;
	*len = strlen(s);
	memcpy(dst, s, *len + 1);
	*off += *len + 1;
	return dst;
}

struct ks_fdinfo *ks_fdinfo_new(const struct ks_fdspec *s)
{
	uint8_t kind = s->kind < KS_FD_KINDS ? s->kind : KS_FD_UNKNOWN;
	const char *proto = kind == KS_FD_SOCKET ? ks_proto_name(s->family, s->sotype) : NULL;
	char lbuf[KS_UNIX_PATH + 8], rbuf[KS_UNIX_PATH + 8];
	const char *laddr = NULL, *raddr = NULL;
	size_t need, off = 0;
	struct ks_fdinfo *i;
	struct ks_buf b;

	if (kind == KS_FD_SOCKET && is_inet(s->family)) {
		/* the local end always (0.0.0.0:0 is unbound), the remote one when set */
		ks_fmt_endpoint(lbuf, sizeof(lbuf), s->family, &s->local);
		laddr = lbuf;
		if (!ks_endpoint_unset(&s->remote)) {
			ks_fmt_endpoint(rbuf, sizeof(rbuf), s->family, &s->remote);
			raddr = rbuf;
		}
	} else if (kind == KS_FD_SOCKET) {
		laddr = s->lname && s->lname[0] ? s->lname : NULL;
		raddr = s->rname && s->rname[0] ? s->rname : NULL;
	}
	if (ks_buf_init(&b, -1, 128))
		return NULL;
	display(&b, kind, s, proto, laddr, raddr);
	ks_buf_ch(&b, 0);
	need = b.len + (s->path ? strlen(s->path) + 1 : 0) + (laddr ? strlen(laddr) + 1 : 0) +
	       (raddr ? strlen(raddr) + 1 : 0);
	i = calloc(1, sizeof(*i) + need);
	if (!i) {
		ks_buf_free(&b);
		return NULL;
	}
	i->refs = 1;
	i->kind = kind;
	i->family = s->family;
	i->sotype = s->sotype;
	i->ino = s->ino;
	i->netns = s->netns;
	i->file = s->file;
	i->path_cut = s->path_cut;
	i->local = s->local;
	i->remote = s->remote;
	i->kind_name = kind_names[kind];
	i->proto = proto;
	i->path = pack(i, &off, s->path, &i->path_len);
	i->laddr = pack(i, &off, laddr, &i->laddr_len);
	i->raddr = pack(i, &off, raddr, &i->raddr_len);
	i->disp = pack(i, &off, b.p, &i->disp_len);
	ks_buf_free(&b);
	return i;
}

void ks_fdinfo_put(struct ks_fdinfo *i)
{
	if (i && !--i->refs)
		free(i);
}

/* The spec @i was made from (pointing into @i). */
static void spec_of(const struct ks_fdinfo *i, struct ks_fdspec *s)
{
	*s = (struct ks_fdspec){ .kind = i->kind, .family = i->family, .sotype = i->sotype,
				 .ino = i->ino, .netns = i->netns, .file = i->file,
				 .local = i->local, .remote = i->remote, .path = i->path,
				 .path_cut = i->path_cut };
	if (i->kind == KS_FD_SOCKET && !is_inet(i->family)) {
		s->lname = i->laddr;
		s->rname = i->raddr;
	}
}

struct ks_fdinfo *ks_fdinfo_with_file(const struct ks_fdinfo *i, uint64_t file)
{
	struct ks_fdspec s;

	spec_of(i, &s);
	s.file = file;
	return ks_fdinfo_new(&s);
}

bool ks_fdinfo_same(const struct ks_fdinfo *i, const struct ks_fdspec *s)
{
	bool file_ok = !i->file || !s->file || i->file == s->file;

	if (i->kind != s->kind)
		return false;
	/* a struct file's address is reused as soon as it is freed: the path decides */
	if (i->path && s->path)
		return file_ok && !strcmp(i->path, s->path);
	if (i->file && s->file)
		return i->file == s->file;
	return i->ino && i->ino == s->ino;
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

struct ks_fdinfo *ks_fdinfo_from_link(const char *link, uint32_t mode,
				      const struct ks_socktab *net, uint64_t netns)
{
	struct ks_fdspec s = { .kind = KS_FD_FILE, .path = link };
	const struct ks_sock *k;
	char *clean = NULL;
	struct ks_fdinfo *i;

	if (!parse_ino(link, "socket:", &s.ino)) {
		s.kind = KS_FD_SOCKET;
		s.path = NULL;
		s.netns = netns;
		k = net ? ks_socktab_find(net, s.ino) : NULL;
		if (k) {
			s.family = k->family;
			s.sotype = k->sotype;
			s.local = k->local;
			s.remote = k->remote;
			s.lname = k->path;
		}
	} else if (!parse_ino(link, "pipe:", &s.ino)) {
		s.kind = KS_FD_PIPE;
		s.path = NULL;
	} else if (!strncmp(link, "anon_inode:", 11)) {
		s.kind = KS_FD_ANON;
		s.path = link + 11;
	} else if (S_ISSOCK(mode)) {
		s.kind = KS_FD_SOCKET;	/* a bound unix socket opened by path (O_PATH) */
		s.path = NULL;
		s.lname = link;
	} else {
		if (S_ISFIFO(mode))
			s.kind = KS_FD_PIPE;
		if (link[0] == '/') {	/* the kernel's d_path is clean already: be sure */
			s.path = clean = ks_path_join_dup(NULL, link);
			if (!clean)
				return NULL;
		}
	}
	i = ks_fdinfo_new(&s);
	free(clean);
	return i;
}
