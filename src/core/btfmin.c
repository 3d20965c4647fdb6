// SPDX-License-Identifier: GPL-2.0
/*
 * The minimal BTF of one object (btfmin.h). Its CO-RE relocations are read from the
 * object's .BTF.ext; each names a local type (the root), by the root's essential name
 * libbpf takes every kernel type of that name as a candidate, and field relocations walk
 * an access path ("0:3:1": the root's element, then member 3, then its member 1) matched
 * by member name, through anonymous structs and unions. The copy keeps every candidate
 * of every root, and of each kernel struct or union only the members some path walked
 * through, each with its kernel offset and bitfield size; the types those members, the
 * arrays and pointers reach are copied the same way (a struct nothing walks into keeps
 * its name and size, no members: libbpf takes any struct as compatible with any struct).
 * What libbpf computes against the copy is then what it computes against the kernel's
 * BTF, or the copy is not made (-EOPNOTSUPP, and libbpf searches as before).
 */
#include "core/btfmin_int.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/btfcache.h"
#include "core/log.h"

#define MAX_CANDS 16	/* kernel types sharing one name (a handful at most) */

/* .BTF.ext's header; no uapi header has it (libbpf's is internal) */
struct ext_header {
	__u16 magic;
	__u8 version;
	__u8 flags;
	__u32 hdr_len;
	__u32 func_info_off, func_info_len;
	__u32 line_info_off, line_info_len;
	__u32 core_relo_off, core_relo_len;	/* absent in headers of objects without CO-RE */
};

struct mark {		/* the members of one kernel struct or union a path walks through */
	__u32 id;
	__u64 *bits;
};

struct gen {
	const struct btf *vm;		/* the kernel's */
	const struct btf *local;	/* the object's */
	struct mark *marks;
	int nmarks;
	__u32 *roots;			/* every candidate of every relocation */
	int nroots;
	__u32 *newid;			/* kernel id -> id in the copy (0: not kept) */
	__u32 *order;			/* the copy's id - 1 -> kernel id */
	__u32 n;
	struct ks_btfmin_info *info;	/* the refusal said there */
};

static const struct btf_type *resolve(const struct btf *b, __u32 *id)
{
	const struct btf_type *t = btf__type_by_id(b, *id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		*id = t->type;
		t = btf__type_by_id(b, *id);
	}
	return t;
}

/* Room for element @n of a growing array (8, then doubled when full). */
static int grow(void *arrp, size_t n, size_t elem)
{
	void **arr = arrp, *p;

	if (n && (n < 8 || (n & (n - 1))))
		return 0;
	if (!(p = realloc(*arr, (n ? 2 * n : 8) * elem)))
		return -ENOMEM;
	*arr = p;
	return 0;
}

static struct mark *find_mark(const struct gen *g, __u32 id)
{
	for (int i = 0; i < g->nmarks; i++)
		if (g->marks[i].id == id)
			return &g->marks[i];
	return NULL;
}

static int mark(struct gen *g, __u32 id, __u32 member)
{
	struct mark *m = find_mark(g, id);

	if (!m) {
		__u32 words = (btf_vlen(btf__type_by_id(g->vm, id)) + 63) / 64;

		if (grow(&g->marks, g->nmarks, sizeof(*g->marks)))
			return -ENOMEM;
		m = &g->marks[g->nmarks];
		m->id = id;
		if (!(m->bits = calloc(words ?: 1, sizeof(*m->bits))))
			return -ENOMEM;
		g->nmarks++;
	}
	m->bits[member / 64] |= 1ULL << (member % 64);
	return 0;
}

static bool marked(const struct mark *m, __u32 member)
{
	return m && (m->bits[member / 64] >> (member % 64) & 1);
}

/*
 * Member @name of kernel struct/union @id, first by order, looked for inside anonymous
 * members as libbpf does; each member on the way is marked. Its type id in @out. Returns
 * 1, 0 (none), or -errno.
 */
static int find_member(struct gen *g, __u32 id, const char *name, __u32 *out)
{
	const struct btf_type *t = resolve(g->vm, &id);
	const struct btf_member *m;
	int found = 0;

	if (!t || !btf_is_composite(t))
		return 0;
	m = btf_members(t);
	for (__u32 i = 0; i < btf_vlen(t) && !found; i++, m++) {
		const char *mname = btf__name_by_offset(g->vm, m->name_off);

		if (mname && *mname)
			found = !strcmp(mname, name) ? (*out = m->type, 1) : 0;
		else
			found = find_member(g, m->type, name, out);
		if (found > 0)
			found = mark(g, id, i) ?: 1;
	}
	return found;
}

/* Walk field relocation access path @acc from local type @lid and kernel type @tid. */
static int walk(struct gen *g, __u32 lid, const char *acc, __u32 tid)
{
	const struct btf_type *lt = resolve(g->local, &lid), *tt = resolve(g->vm, &tid);
	char *end;

	if (!acc)
		return -EINVAL;
	strtoul(acc, &end, 10);		/* an index into the root: no member */
	for (acc = end; *acc == ':' && lt && tt; acc = end) {
		unsigned long idx = strtoul(acc + 1, &end, 10);

		if (btf_is_composite(lt)) {
			const struct btf_member *m;
			const char *name;
			int err;

			if (idx >= btf_vlen(lt))
				return -EINVAL;
			m = btf_members(lt) + idx;
			name = btf__name_by_offset(g->local, m->name_off);
			lid = m->type;
			lt = resolve(g->local, &lid);
			if (!name || !*name)
				continue;	/* anonymous here: the kernel's may nest otherwise */
			if ((err = find_member(g, tid, name, &tid)) <= 0)
				return err;
			tt = resolve(g->vm, &tid);
		} else if (btf_is_array(lt) && btf_is_array(tt)) {
			lid = btf_array(lt)->type;
			lt = resolve(g->local, &lid);
			tid = btf_array(tt)->type;
			tt = resolve(g->vm, &tid);
		} else {
			return 0;	/* no match in this candidate: libbpf drops it too */
		}
	}
	return 0;
}

static int refuse(struct gen *g, const char *fmt, ...)
{
	va_list ap;

	if (g->info) {
		va_start(ap, fmt);
		vsnprintf(g->info->why, sizeof(g->info->why), fmt, ap);
		va_end(ap);
	}
	return -EOPNOTSUPP;
}

static int relo(struct gen *g, const struct bpf_core_relo *r)
{
	const struct btf_type *lt = btf__type_by_id(g->local, r->type_id);
	const char *name = lt ? btf__name_by_offset(g->local, lt->name_off) : NULL;
	__u32 ids[MAX_CANDS];
	size_t len;
	int n;

	if (r->kind == BPF_CORE_TYPE_ID_LOCAL)
		return 0;
	/* the kernel's own type ids, and type matches, which compare whole types */
	if (r->kind == BPF_CORE_TYPE_ID_TARGET || r->kind == BPF_CORE_TYPE_MATCHES)
		return refuse(g, "relocation kind %u of %s", r->kind, name ?: "?");
	if (!name || !*name)
		return refuse(g, "a relocation of an anonymous type");
	len = ks_btfmin_essential_len(name);
	n = ks_btfmin_names_find(name, len, ids, MAX_CANDS);
	if (n == 0) {
		/* libbpf looks in the modules' BTF next, which the copy cannot stand for; a
		 * type no BTF has (a flavor of another kernel's) is left out, and libbpf
		 * finds none in the copy either */
		const char *module;
		int in = ks_btfmin_in_module(name, len, &module);

		if (in > 0)
			return refuse(g, "%s is in module %s's BTF", name, module);
		if (in < 0)
			return refuse(g, "the modules' BTF: %s", strerror(-in));
		return 0;
	}
	for (int i = 0; i < n; i++) {
		int err = grow(&g->roots, g->nroots, sizeof(*g->roots));

		if (err)
			return err;
		g->roots[g->nroots++] = ids[i];
		if (r->kind <= BPF_CORE_FIELD_RSHIFT_U64 &&
		    (err = walk(g, r->type_id, btf__str_by_offset(g->local, r->access_str_off),
				ids[i])) < 0)
			return err;
	}
	return n < 0 ? n : 0;
}

static int for_each_relo(struct gen *g, const void *ext, size_t size)
{
	const struct ext_header *h = ext;
	const char *p, *end;
	__u32 rec;

	if (size < offsetof(struct ext_header, core_relo_off) || h->magic != BTF_MAGIC ||
	    h->hdr_len > size)
		return -EINVAL;
	if (h->hdr_len < sizeof(*h) || h->core_relo_len < sizeof(rec))
		return -ENOENT;
	p = (const char *)ext + h->hdr_len + h->core_relo_off;
	end = p + h->core_relo_len;
	if (end > (const char *)ext + size)
		return -EINVAL;
	memcpy(&rec, p, sizeof(rec));
	if (rec < sizeof(struct bpf_core_relo))
		return -EINVAL;
	for (p += sizeof(rec); end - p >= 8;) {	/* per section: its name, its count */
		__u32 n;

		memcpy(&n, p + 4, sizeof(n));
		p += 8;
		if ((size_t)(end - p) / rec < n)
			return -EINVAL;
		for (; n; n--, p += rec) {
			struct bpf_core_relo r;
			int err;

			memcpy(&r, p, sizeof(r));
			if ((err = relo(g, &r)))
				return err;
		}
	}
	return 0;
}

/* Give kernel type @id an id in the copy, then what it refers to. */
static int need(struct gen *g, __u32 id)
{
	const struct btf_type *t;
	const struct mark *m;
	int err = 0;

	if (!id || g->newid[id])
		return 0;
	if (grow(&g->order, g->n, sizeof(*g->order)))
		return -ENOMEM;
	g->order[g->n++] = id;
	g->newid[id] = g->n;
	t = btf__type_by_id(g->vm, id);
	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return need(g, t->type);
	case BTF_KIND_ARRAY:
		return need(g, btf_array(t)->type) ?: need(g, btf_array(t)->index_type);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		m = find_mark(g, id);
		for (__u32 i = 0; i < btf_vlen(t) && !err; i++)
			if (marked(m, i))
				err = need(g, btf_members(t)[i].type);
		return err;
	case BTF_KIND_FUNC_PROTO:
		err = need(g, t->type);
		for (__u32 i = 0; i < btf_vlen(t) && !err; i++)
			err = need(g, btf_params(t)[i].type);
		return err;
	case BTF_KIND_INT:
	case BTF_KIND_FLOAT:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_FWD:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int emit_members(const struct gen *g, struct btf *out, const struct btf_type *t,
			__u32 id)
{
	const struct mark *m = find_mark(g, id);
	int err = 0;

	for (__u32 i = 0; i < btf_vlen(t) && err >= 0; i++)
		if (marked(m, i))
			err = btf__add_field(out, btf__name_by_offset(g->vm, btf_members(t)[i].name_off),
					     g->newid[btf_members(t)[i].type],
					     btf_member_bit_offset(t, i),
					     btf_member_bitfield_size(t, i));
	return err;
}

static int emit_enum(const struct gen *g, struct btf *out, const struct btf_type *t,
		     const char *name)
{
	int id = btf__add_enum(out, name, t->size), err = id;

	for (__u32 i = 0; i < btf_vlen(t) && err >= 0; i++) {
		const struct btf_enum *v = btf_enum(t) + i;

		err = btf__add_enum_value(out, btf__name_by_offset(g->vm, v->name_off),
					  btf_kflag(t) ? (__s64)v->val : (__s64)(__u32)v->val);
	}
	/* signedness: libbpf sets it only for negative values; the kernel's may say so with
	 * none (and FIELD_SIGNED reads it) */
	if (err >= 0)
		((struct btf_type *)btf__type_by_id(out, id))->info = t->info;
	return err < 0 ? err : id;
}

static int emit_enum64(const struct gen *g, struct btf *out, const struct btf_type *t,
		       const char *name)
{
	int id = btf__add_enum64(out, name, t->size, btf_kflag(t)), err = id;

	for (__u32 i = 0; i < btf_vlen(t) && err >= 0; i++)
		err = btf__add_enum64_value(out, btf__name_by_offset(g->vm, btf_enum64(t)[i].name_off),
					    btf_enum64_value(btf_enum64(t) + i));
	return err < 0 ? err : id;
}

static int emit_one(const struct gen *g, struct btf *out, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(g->vm, id);
	const char *name = btf__name_by_offset(g->vm, t->name_off);
	__u32 ref = g->newid[t->type];	/* for the kinds whose t->type is a type */
	int nid, err;

	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		return btf__add_int(out, name, t->size, btf_int_encoding(t));
	case BTF_KIND_FLOAT:
		return btf__add_float(out, name, t->size);
	case BTF_KIND_PTR:
		return btf__add_ptr(out, ref);
	case BTF_KIND_TYPEDEF:
		return btf__add_typedef(out, name, ref);
	case BTF_KIND_VOLATILE:
		return btf__add_volatile(out, ref);
	case BTF_KIND_CONST:
		return btf__add_const(out, ref);
	case BTF_KIND_RESTRICT:
		return btf__add_restrict(out, ref);
	case BTF_KIND_TYPE_TAG:
		return btf__add_type_tag(out, name, ref);
	case BTF_KIND_FWD:
		return btf__add_fwd(out, name, btf_kflag(t) ? BTF_FWD_UNION : BTF_FWD_STRUCT);
	case BTF_KIND_ARRAY:
		return btf__add_array(out, g->newid[btf_array(t)->index_type],
				      g->newid[btf_array(t)->type], btf_array(t)->nelems);
	case BTF_KIND_ENUM:
		return emit_enum(g, out, t, name);
	case BTF_KIND_ENUM64:
		return emit_enum64(g, out, t, name);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		nid = btf_is_struct(t) ? btf__add_struct(out, name, t->size) :
					 btf__add_union(out, name, t->size);
		err = nid < 0 ? nid : emit_members(g, out, t, id);
		return err < 0 ? err : nid;
	case BTF_KIND_FUNC_PROTO:
		err = nid = btf__add_func_proto(out, ref);
		for (__u32 i = 0; i < btf_vlen(t) && err >= 0; i++)
			err = btf__add_func_param(out, btf__name_by_offset(g->vm, btf_params(t)[i].name_off),
						  g->newid[btf_params(t)[i].type]);
		return err < 0 ? err : nid;
	default:
		return -EOPNOTSUPP;
	}
}

static int to_memfd(const struct btf *b)
{
	__u32 size;
	const char *raw = btf__raw_data(b, &size);
	int fd = memfd_create("ksight-core-btf", MFD_CLOEXEC);

	if (!raw || fd < 0) {
		int err = raw ? -errno : -ENOMEM;

		if (fd >= 0)
			close(fd);
		return err;
	}
	for (__u32 done = 0; done < size;) {
		ssize_t w = write(fd, raw + done, size - done);

		if (w <= 0) {
			close(fd);
			return w < 0 ? -errno : -EIO;
		}
		done += w;
	}
	return fd;
}

static int section(Elf *e, const char *want, const void **data, size_t *size)
{
	Elf_Scn *scn = NULL;
	size_t names;

	if (elf_getshdrstrndx(e, &names))
		return -EINVAL;
	while ((scn = elf_nextscn(e, scn))) {
		const char *name;
		Elf_Data *d;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e, names, sh.sh_name)) ||
		    strcmp(name, want))
			continue;
		if (!(d = elf_getdata(scn, NULL)))
			return -EINVAL;
		*data = d->d_buf;
		*size = d->d_size;
		return 0;
	}
	return -ENOENT;
}

/* The copy of what @g's relocations reach, as a memfd. */
static int make(struct gen *g, const void *ext, size_t ext_size)
{
	struct btf *out = NULL;
	int err;

	g->newid = calloc(btf__type_cnt(g->vm), sizeof(*g->newid));
	err = g->newid ? for_each_relo(g, ext, ext_size) : -ENOMEM;
	for (int i = 0; i < g->nroots && !err; i++)
		err = need(g, g->roots[i]);
	if (!err && !(out = btf__new_empty()))
		err = -errno;
	for (__u32 i = 0; i < g->n && !err; i++) {
		int id = emit_one(g, out, g->order[i]);

		err = id < 0 ? id : (__u32)id != i + 1 ? -EPROTO : 0;
	}
	if (!err) {
		err = to_memfd(out);
		if (g->info)
			g->info->ntypes = g->n;
	}
	btf__free(out);
	return err;
}

int ks_btfmin_memfd(const void *elf, size_t size, struct ks_btfmin_info *info)
{
	const char *env = getenv("KSIGHT_BTF_MIN");
	const void *btf_data = NULL, *ext = NULL;
	size_t btf_size = 0, ext_size = 0;
	struct gen g = { .info = info };
	struct btf *local;
	Elf *e;
	int err;

	if (info)
		memset(info, 0, sizeof(*info));
	if (env && !strcmp(env, "0"))
		return -ECANCELED;
	if (!(g.vm = ks_vmlinux_btf()))
		return -(errno ?: ENOENT);
	if ((err = ks_btfmin_names_build(g.vm)))
		return err;
	if (elf_version(EV_CURRENT) == EV_NONE || !(e = elf_memory((char *)elf, size)))
		return -EINVAL;
	err = section(e, ".BTF", &btf_data, &btf_size) ?: section(e, ".BTF.ext", &ext, &ext_size);
	local = err ? NULL : btf__new(btf_data, btf_size);
	if (!err && !local)
		err = -errno;
	if (!err) {
		g.local = local;
		err = make(&g, ext, ext_size);
	}
	for (int i = 0; i < g.nmarks; i++)
		free(g.marks[i].bits);
	free(g.marks);
	free(g.roots);
	free(g.newid);
	free(g.order);
	btf__free(local);
	elf_end(e);
	return err;
}

int ks_btfmin_use(const char *name, const void *(*elf)(size_t *size),
		  struct bpf_object_open_opts *opts, char *path, size_t len,
		  unsigned int *ntypes)
{
	struct ks_btfmin_info info;
	size_t size;
	const void *image = elf(&size);
	int fd = ks_btfmin_memfd(image, size, &info);

	if (fd < 0) {
		if (ks_log_verbose() && fd != -ENOENT)
			fprintf(stderr, "ksight: %s: CO-RE against all of the kernel's BTF (%s)\n",
				name, info.why[0] ? info.why : strerror(-fd));
		return -1;
	}
	if (ntypes)
		*ntypes = info.ntypes;
	snprintf(path, len, "/proc/self/fd/%d", fd);
	opts->btf_custom_path = path;
	return fd;
}
