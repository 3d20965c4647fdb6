// SPDX-License-Identifier: GPL-2.0
/*
 * files: the streamed records to ksight records. A change's paths are joined here from
 * what the process passed and the directory walked in the kernel; a close is named by
 * the path of the first write through the same (process, fd, struct file), which the
 * session's fd table keeps (core/fdtab.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fdtab.h"
#include "core/metrics.h"
#include "core/path.h"
#include "core/module.h"
#include "modules/files_fmt.h"
#include "modules/files_int.h"

#define FILES_OUT_PATH 8192

/* The strings of @e: pointers into data[] and their lengths. Returns false if malformed. */
static bool split(const struct files_event *e, size_t size, const char *s[FILES_S_N],
		  size_t n[FILES_S_N])
{
	size_t off = 0;

	for (int i = 0; i < FILES_S_N; i++) {
		s[i] = e->data + off;
		n[i] = e->len[i];
		off += n[i];
	}
	return sizeof(*e) + off <= size;
}

struct resolved {
	char path[FILES_OUT_PATH], other[FILES_OUT_PATH];
	size_t plen, olen;
	bool pcut, ocut;
};

static size_t join(const char *base, size_t blen, bool bcut, const char *arg, size_t alen,
		   char *out, bool *cut)
{
	size_t n;

	if (!blen && !alen) {
		*cut = false;
		return snprintf(out, FILES_OUT_PATH, "?");
	}
	n = ks_path_join(base, blen, bcut, arg, alen, out, FILES_OUT_PATH, cut);
	return n < FILES_OUT_PATH ? n : FILES_OUT_PATH - 1;
}

/*
 * Path argument @i (0: FILES_S_ARG, 1: FILES_S_ARG2) as it is joined to its base: after an
 * fd link the kernel resolved (/proc/self/fd/N) only what follows it. A link whose fd was
 * gone by the call's return has no base and stays as passed.
 */
static const char *arg_of(const struct files_event *e, const char *s[], const size_t n[],
			  int i, size_t base_len, size_t *len)
{
	int a = i ? FILES_S_ARG2 : FILES_S_ARG;

	if (!e->via[i] || !base_len) {
		*len = n[a];
		return s[a];
	}
	return files_after_link(s[a], n[a], e->via[i], len);
}

/* path: the object; other: the new name (rename, link) or, for symlink, its target. */
static void resolve(const struct files_event *e, const char *s[], const size_t n[],
		    struct resolved *r)
{
	bool same = e->cut & FILES_BASE2_SAME, c;
	const char *b2 = same ? s[FILES_S_BASE] : s[FILES_S_BASE2];
	size_t n2 = same ? n[FILES_S_BASE] : n[FILES_S_BASE2];
	bool c2 = e->cut & FILES_CUT(same ? FILES_S_BASE : FILES_S_BASE2);
	const char *a1, *a2;
	size_t l1, l2;

	a1 = arg_of(e, s, n, 0, n[FILES_S_BASE], &l1);
	a2 = arg_of(e, s, n, 1, n2, &l2);
	r->olen = 0;
	r->ocut = false;
	if (e->op == FILES_OP_SYMLINK) {
		r->plen = join(b2, n2, c2, a2, l2, r->path, &r->pcut);
		r->pcut |= e->cut & FILES_CUT(FILES_S_ARG2);
		r->olen = strnlen(s[FILES_S_ARG], n[FILES_S_ARG]);
		memcpy(r->other, s[FILES_S_ARG], r->olen);
		r->ocut = e->cut & FILES_CUT(FILES_S_ARG);
		return;
	}
	r->plen = join(s[FILES_S_BASE], n[FILES_S_BASE], e->cut & FILES_CUT(FILES_S_BASE),
		       a1, l1, r->path, &r->pcut);
	r->pcut |= e->cut & (FILES_CUT(FILES_S_ARG) | FILES_CUT(FILES_S_BASE));
	if (e->op == FILES_OP_RENAME || e->op == FILES_OP_LINK) {
		r->olen = join(b2, n2, c2, a2, l2, r->other, &c);
		r->ocut = c || (e->cut & FILES_CUT(FILES_S_ARG2)) || c2;
	}
}

/* The table's last column: what else there is to say about the change. */
static size_t detail(const struct files_event *e, const struct resolved *r, char *buf,
		     size_t len)
{
	const char *ft = files_ftype_name(e->mode);
	size_t n = 0;

	switch (e->op) {
	case FILES_OP_CREATE:
		if (ft && strcmp(ft, "file"))
			n = snprintf(buf, len, "%s ", ft);
		/* fall through */
	case FILES_OP_MKDIR:
	case FILES_OP_CHMOD:
		n += snprintf(buf + n, len - n, "mode %04o", e->mode & 07777);
		break;
	case FILES_OP_CHOWN:
		n = files_owner_str(e->uid, e->gid, buf, len);
		break;
	case FILES_OP_TRUNCATE:
		n = snprintf(buf, len, "size %llu", (unsigned long long)e->size);
		break;
	case FILES_OP_WRITE:
		n = snprintf(buf, len, "fd %d", e->fd);
		break;
	case FILES_OP_RENAME:
	case FILES_OP_LINK:
	case FILES_OP_SYMLINK:
		n = snprintf(buf, len, "-> ");
		memcpy(buf + n, r->other, r->olen < len - n - 1 ? r->olen : len - n - 1);
		n += r->olen < len - n - 1 ? r->olen : len - n - 1;
		if (e->op == FILES_OP_RENAME && e->flags) {
			n += snprintf(buf + n, len - n, " (");
			n += files_rename_flags(e->flags, buf + n, len - n);
			n += snprintf(buf + n, len - n, ")");
		}
		break;
	}
	return n < len ? n : len - 1;
}

static void common_cols(struct ks_rec *r, const struct files_state *st, const struct ks_hdr *h,
			const char *event, long ret)
{
	ks_rec_init(r, "files", h);
	ks_rec_uint(r, NULL, "PID", -7, h->pid);	/* JSON has the header's */
	ks_rec_kstr(r, NULL, "COMM", -16, h->comm, sizeof(h->comm), false);
	ks_rec_str(r, "event", "EVENT", -8, event, strlen(event));
	if (ret < 0) {
		ks_rec_add(r, "err", st->failed ? "ERR" : NULL, -7, KS_V_ERRNO)->i = -ret;
		ks_rec_int(r, "errno", NULL, 0, -ret);
	} else if (st->failed) {
		ks_rec_str(r, NULL, "ERR", -7, "-", 1);
	}
}

static void count(struct files_state *st, unsigned int op, const char *path, size_t n)
{
	/* the end of a path tells files apart: a long one keeps its tail behind "..." */
	const size_t tail = FILES_PATH_LABEL - 3;
	char key[FILES_PATH_LABEL];
	const char *label = path;
	size_t len = n;

	ks_counter_add(st->s_ops[op < FILES_OP_N ? op : FILES_OP_N], 1);
	if (op == FILES_OP_N)
		return;
	if (n > FILES_PATH_LABEL) {
		memcpy(key, "...", 3);
		memcpy(key + 3, path + n - tail, tail);
		label = key;
		len = FILES_PATH_LABEL;
	}
	ks_counter_add(ks_metric_getn(st->m_paths, &label, &len), 1);
}

static void event_change(struct ks_ctx *ctx, struct files_state *st, const struct ks_hdr *h,
			 size_t size)
{
	const struct files_event *e = (const void *)h;
	static struct resolved r;
	const char *s[FILES_S_N], *sys;
	static char det[FILES_OUT_PATH + 64];
	size_t n[FILES_S_N], dn;
	struct ks_rec rec;
	bool target = e->op == FILES_OP_SYMLINK;

	if (size < sizeof(*e) || !split(e, size, s, n))
		return;
	resolve(e, s, n, &r);
	if (e->op == FILES_OP_WRITE && e->ret > 0) {
		struct ks_fdspec fs = { .kind = KS_FD_FILE, .file = e->file, .path = r.path,
					.path_cut = r.pcut };

		ks_fdtab__note(st->fds, h->pid, e->fd, &fs, h->ts);
	}
	count(st, e->op, r.path, r.plen);
	if (!ks_ctx_streaming(ctx))
		return;
	common_cols(&rec, st, h, files_op_name(e->op), e->ret);
	ks_rec_kstr(&rec, "path", "PATH", 0, r.path, r.plen, false);
	dn = detail(e, &r, det, sizeof(det));
	ks_rec_kstr(&rec, NULL, "DETAIL", 0, det, dn, false);
	ks_rec_add(&rec, "path_truncated", NULL, 0, KS_V_BOOL)->u = r.pcut;
	sys = files_sys_name(e->sys);
	if (e->op != FILES_OP_WRITE)
		ks_rec_str(&rec, "syscall", NULL, 0, sys, strlen(sys));
	if (n[target ? FILES_S_ARG2 : FILES_S_ARG])
		ks_rec_kstr(&rec, "path_arg", NULL, 0, s[target ? FILES_S_ARG2 : FILES_S_ARG],
			    n[target ? FILES_S_ARG2 : FILES_S_ARG], false);
	if (e->op == FILES_OP_RENAME || e->op == FILES_OP_LINK) {
		ks_rec_kstr(&rec, "new_path", NULL, 0, r.other, r.olen, false);
		ks_rec_kstr(&rec, "new_path_arg", NULL, 0, s[FILES_S_ARG2], n[FILES_S_ARG2],
			    false);
		ks_rec_add(&rec, "new_path_truncated", NULL, 0, KS_V_BOOL)->u = r.ocut;
	} else if (target) {
		ks_rec_kstr(&rec, "target", NULL, 0, r.other, r.olen, false);
	}
	if (e->op == FILES_OP_WRITE || files_sys_fd_based(e->sys))
		ks_rec_int(&rec, "fd", NULL, 0, e->fd);
	else if (e->fd != FILES_AT_FDCWD)
		ks_rec_int(&rec, "dirfd", NULL, 0, e->fd);
	switch (e->op) {
	case FILES_OP_CREATE:
		if (files_ftype_name(e->mode))
			ks_rec_str(&rec, "ftype", NULL, 0, files_ftype_name(e->mode),
				   strlen(files_ftype_name(e->mode)));
		/* fall through */
	case FILES_OP_MKDIR:
	case FILES_OP_CHMOD:
		ks_rec_add(&rec, "mode", NULL, 0, KS_V_OCT)->u = e->mode & 07777;
		break;
	case FILES_OP_CHOWN:
		ks_rec_int(&rec, "uid", NULL, 0, e->uid == UINT32_MAX ? -1 : (int64_t)e->uid);
		ks_rec_int(&rec, "gid", NULL, 0, e->gid == UINT32_MAX ? -1 : (int64_t)e->gid);
		break;
	case FILES_OP_TRUNCATE:
		ks_rec_uint(&rec, "size", NULL, 0, e->size);
		break;
	case FILES_OP_WRITE:
		ks_rec_uint(&rec, "bytes", NULL, 0, e->size);
		break;
	}
	if (e->flags && e->op != FILES_OP_CREATE && e->op != FILES_OP_TRUNCATE)
		ks_rec_add(&rec, "flags", NULL, 0, KS_V_HEX)->u = e->flags;
	ks_emit(ctx, &rec);
}

static void event_close(struct ks_ctx *ctx, struct files_state *st, const struct ks_hdr *h,
			size_t size)
{
	const struct files_close *e = (const void *)h;
	const struct ks_fdinfo *fi;
	const char *why;
	struct ks_rec rec;
	char det[96];
	size_t dn;

	if (size < sizeof(*e))
		return;
	fi = ks_fdtab__file(st->fds, h->pid, e->fd, e->file);
	if (fi && !fi->path)
		fi = NULL;
	count(st, FILES_OP_N, NULL, 0);
	if (ks_ctx_streaming(ctx)) {
		why = files_why_name(e->why);
		common_cols(&rec, st, h, "close", 0);
		ks_rec_kstr(&rec, "path", "PATH", 0, fi ? fi->path : "?", fi ? fi->path_len : 1,
			    false);
		dn = snprintf(det, sizeof(det), "%llu bytes in %llu writes",
			      (unsigned long long)e->bytes, (unsigned long long)e->writes);
		if (e->why != FILES_CLOSED_CLOSE)
			dn += snprintf(det + dn, sizeof(det) - dn, " (%s)", why);
		ks_rec_str(&rec, NULL, "DETAIL", 0, det, dn);
		ks_rec_add(&rec, "path_truncated", NULL, 0, KS_V_BOOL)->u = fi && fi->path_cut;
		ks_rec_int(&rec, "fd", NULL, 0, e->fd);
		ks_rec_uint(&rec, "bytes", NULL, 0, e->bytes);
		ks_rec_uint(&rec, "writes", NULL, 0, e->writes);
		ks_rec_str(&rec, "why", NULL, 0, why, strlen(why));
		ks_rec_add(&rec, "written_for_ns", NULL, 0, KS_V_NS)->u =
			h->ts > e->first_ts ? h->ts - e->first_ts : 0;
		ks_emit(ctx, &rec);
	}
}

void files_on_event(struct ks_ctx *ctx, struct files_state *st, const struct ks_hdr *h,
		    size_t size)
{
	if (h->type == FILES_EV_CLOSE)
		event_close(ctx, st, h, size);
	else if (h->type == FILES_EV_CHANGE)
		event_change(ctx, st, h, size);
}
