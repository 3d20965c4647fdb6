// SPDX-License-Identifier: GPL-2.0
/*
 * The symbolizer's caches: process images (their mappings), mapped files (path, device,
 * inode) and the binaries behind them (by build-ID), and the kernel's symbols.
 */
#include "core/symbolize.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/symelf.h"
#include "core/symtab.h"

#define PROC_BUCKETS 1024
#define FILE_BUCKETS 256
#define MAPS_MAX (64u << 20)

struct bin_ent {
	struct bin_ent *next;
	struct ks_binary b;
	struct ks_dwarf *dw;	/* want_src: its DWARF, or NULL */
	int err;		/* the load's, when it failed */
};

struct file_ent {
	struct file_ent *next;
	char *path;
	uint32_t dev;
	uint64_t inode;
	struct bin_ent *bin;	/* NULL: could not be read */
};

struct proc_ent {
	struct proc_ent *next;
	uint32_t pid, exec_id;
	struct ks_mapping *m;
	int n;
	struct file_ent **files;	/* per mapping, resolved on first use */
	unsigned int reread_round;	/* the last round whose miss read the maps again */
	bool reread;
};

struct ks_symbolizer {
	char *proc_root, *debug_root;
	struct proc_ent *procs[PROC_BUCKETS];
	struct file_ent *files[FILE_BUCKETS];
	struct bin_ent *bins;
	struct ks_symtab ksyms;
	int kstate;		/* 0: not read yet, 1: read, -errno: unusable */
	bool want_src;
	struct ks_symbolizer_stats st;
};

const char *ks_sym_res_name(enum ks_sym_res r)
{
	static const char *const names[KS_SYM_N] = {
		[KS_SYM_OK] = "symbolized",
		[KS_SYM_NO_MAP] = "no mapping",
		[KS_SYM_NO_SYMS] = "no symbols",
		[KS_SYM_NO_KSYMS] = "kernel without kallsyms",
	};

	return r < KS_SYM_N ? names[r] : "?";
}

struct ks_symbolizer *ks_symbolizer__new(const char *proc_root, const char *debug_root)
{
	struct ks_symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->proc_root = strdup(proc_root);
	s->debug_root = strdup(debug_root);
	if (!s->proc_root || !s->debug_root) {
		ks_symbolizer__free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

static void proc_free(struct proc_ent *p)
{
	ks_mappings_free(p->m, p->n);
	free(p->files);
	free(p);
}

void ks_symbolizer__free(struct ks_symbolizer *s)
{
	if (!s)
		return;
	for (int i = 0; i < PROC_BUCKETS; i++)
		for (struct proc_ent *p = s->procs[i], *n; p; p = n) {
			n = p->next;
			proc_free(p);
		}
	for (int i = 0; i < FILE_BUCKETS; i++)
		for (struct file_ent *f = s->files[i], *n; f; f = n) {
			n = f->next;
			free(f->path);
			free(f);
		}
	for (struct bin_ent *b = s->bins, *n; b; b = n) {
		n = b->next;
		ks_binary_free(&b->b);
		ks_dwarf_free(b->dw);
		free(b);
	}
	ks_symtab_free(&s->ksyms);
	free(s->proc_root);
	free(s->debug_root);
	free(s);
}

static unsigned int proc_hash(uint32_t pid, uint32_t exec_id)
{
	return (pid * 2654435761u ^ exec_id) % PROC_BUCKETS;
}

static struct proc_ent *proc_find(const struct ks_symbolizer *s, uint32_t pid, uint32_t exec_id)
{
	for (struct proc_ent *p = s->procs[proc_hash(pid, exec_id)]; p; p = p->next)
		if (p->pid == pid && p->exec_id == exec_id)
			return p;
	return NULL;
}

bool ks_symbolizer__has_maps(const struct ks_symbolizer *s, uint32_t pid, uint32_t exec_id)
{
	return proc_find(s, pid, exec_id) != NULL;
}

int ks_symbolizer__set_maps(struct ks_symbolizer *s, uint32_t pid, uint32_t exec_id,
			    const char *text)
{
	struct proc_ent *p = proc_find(s, pid, exec_id);
	struct ks_mapping *m;
	struct file_ent **files;
	int n = ks_maps_parse(text, &m);

	if (n < 0)
		return n;
	if (!(files = calloc(n ? n : 1, sizeof(*files)))) {
		ks_mappings_free(m, n);
		return -ENOMEM;
	}
	if (!p) {
		unsigned int h = proc_hash(pid, exec_id);

		if (!(p = calloc(1, sizeof(*p)))) {
			ks_mappings_free(m, n);
			free(files);
			return -ENOMEM;
		}
		p->pid = pid;
		p->exec_id = exec_id;
		p->next = s->procs[h];
		s->procs[h] = p;
		s->st.procs++;
	} else {
		ks_mappings_free(p->m, p->n);
		free(p->files);
	}
	p->m = m;
	p->n = n;
	p->files = files;
	return 0;
}

/* The whole of file @path in a new string, or NULL with errno set. */
static char *slurp(const char *path)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0 || !buf) {
		int e = fd < 0 ? errno : ENOMEM;

		if (fd >= 0)
			close(fd);
		free(buf);
		errno = e;
		return NULL;
	}
	while ((r = read(fd, buf + len, cap - len - 1)) > 0) {
		len += r;
		if (len + 1 == cap) {
			char *b = cap < MAPS_MAX ? realloc(buf, cap * 2) : NULL;

			if (!b) {
				close(fd);
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			buf = b;
			cap *= 2;
		}
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

char *ks_maps_read(const char *proc_root, uint32_t pid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%u/maps", proc_root, pid);
	return slurp(path);
}

int ks_symbolizer__read_maps(struct ks_symbolizer *s, uint32_t pid, uint32_t exec_id)
{
	char *text;
	int err;

	if (!(text = ks_maps_read(s->proc_root, pid)))
		return -errno;
	err = ks_symbolizer__set_maps(s, pid, exec_id, text);
	free(text);
	return err;
}

static struct bin_ent *bin_by_id(struct ks_symbolizer *s, const uint8_t *id, size_t idlen)
{
	for (struct bin_ent *b = s->bins; b && idlen; b = b->next)
		if (b->b.idlen == idlen && !memcmp(b->b.build_id, id, idlen))
			return b;
	return NULL;
}

/* The binary of @path (seen by @pid), from the cache, or parsed now. NULL: unreadable. */
static struct bin_ent *bin_get(struct ks_symbolizer *s, const char *path)
{
	uint8_t id[KS_BUILD_ID_MAX];
	int idlen = ks_elf_build_id(path, id);
	struct bin_ent *b;

	if (idlen < 0)
		return NULL;
	if ((b = bin_by_id(s, id, idlen))) {
		s->st.shared++;
		return b;
	}
	if (!(b = calloc(1, sizeof(*b))))
		return NULL;
	b->err = ks_binary_load(path, s->debug_root, &b->b);
	b->next = s->bins;
	s->bins = b;
	s->st.binaries++;
	if (b->b.from_debug)
		s->st.debug_files++;
	/* now, while @path (a /proc/PID/map_files link) still leads to the file */
	if (s->want_src && b->b.dwarf_path && (b->dw = ks_dwarf_open(b->b.dwarf_path)))
		s->st.dwarf_files++;
	return b;
}

void ks_symbolizer__want_src(struct ks_symbolizer *s)
{
	s->want_src = true;
}

/* The file of mapping @m of process @pid: the mapped file itself while the process lives
 * (/proc/PID/map_files: right even when deleted or replaced since), else the path seen
 * through /proc/PID/root (a container's view), else the path itself; a path is taken only
 * while it still names the mapped inode, so a binary rebuilt since is never read for
 * names (its frames stay unnamed). */
static struct file_ent *file_get(struct ks_symbolizer *s, uint32_t pid,
				 const struct ks_mapping *m)
{
	unsigned int h = 0;
	struct file_ent *f;
	char path[PATH_MAX];
	struct stat st;
	bool found;

	for (const char *c = m->path; *c; c++)
		h = h * 31 + (unsigned char)*c;
	h = (h ^ (unsigned int)m->inode) % FILE_BUCKETS;
	for (f = s->files[h]; f; f = f->next)
		if (f->inode == m->inode && f->dev == m->dev && !strcmp(f->path, m->path))
			return f;
	if (!(f = calloc(1, sizeof(*f))) || !(f->path = strdup(m->path))) {
		free(f);
		return NULL;
	}
	f->dev = m->dev;
	f->inode = m->inode;
	snprintf(path, sizeof(path), "%s/%u/map_files/%llx-%llx", s->proc_root, pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	found = !stat(path, &st) && st.st_ino == m->inode;
	if (!found) {
		snprintf(path, sizeof(path), "%s/%u/root%s", s->proc_root, pid, m->path);
		found = !stat(path, &st) && st.st_ino == m->inode;
	}
	if (!found) {
		snprintf(path, sizeof(path), "%s", m->path);
		found = !stat(path, &st) && st.st_ino == m->inode;
	}
	f->bin = found ? bin_get(s, path) : NULL;
	f->next = s->files[h];
	s->files[h] = f;
	s->st.files++;
	return f;
}

static const char *base_name(const char *path)
{
	const char *sl = strrchr(path, '/');

	return sl ? sl + 1 : path;
}

enum ks_sym_res ks_symbolizer__user(struct ks_symbolizer *s, uint32_t pid, uint32_t exec_id,
				    uint64_t addr, unsigned int round, struct ks_frame *f)
{
	struct proc_ent *p = proc_find(s, pid, exec_id);
	const struct ks_mapping *m = p ? ks_mapping_find(p->m, p->n, addr) : NULL;
	struct file_ent *fe;
	uint64_t vaddr;

	memset(f, 0, sizeof(*f));
	f->off = addr;
	if (!m && (!p || !p->reread || p->reread_round != round)) {
		/* a library mapped after the first sample, or no first sample seen: the
		 * process's maps now, if it still lives */
		if (!ks_symbolizer__read_maps(s, pid, exec_id)) {
			s->st.maps_reread++;
			p = proc_find(s, pid, exec_id);
			m = ks_mapping_find(p->m, p->n, addr);
		}
		if ((p = proc_find(s, pid, exec_id))) {
			p->reread = true;
			p->reread_round = round;
		}
	}
	if (!m)
		return f->res = KS_SYM_NO_MAP;
	f->module = m->path[0] == '/' ? base_name(m->path) : m->path;
	f->off = addr - m->start + m->pgoff;
	if (m->path[0] != '/')
		return f->res = KS_SYM_NO_SYMS;
	fe = p->files[m - p->m];
	if (!fe && (fe = file_get(s, pid, m)))
		p->files[m - p->m] = fe;
	if (!fe || !fe->bin || ks_elf_offset_vaddr(fe->bin->b.segs, fe->bin->b.nsegs, f->off, &vaddr))
		return f->res = KS_SYM_NO_SYMS;
	f->name = ks_symtab_find(&fe->bin->b.syms, vaddr, &f->off);
	if (!f->name) {
		f->off = addr - m->start + m->pgoff;
		return f->res = KS_SYM_NO_SYMS;
	}
	if (fe->bin->dw)
		f->src = ks_dwarf_lookup(fe->bin->dw, vaddr);
	return f->res = KS_SYM_OK;
}

enum ks_sym_res ks_symbolizer__kernel(struct ks_symbolizer *s, uint64_t addr,
				      struct ks_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->off = addr;
	if (!s->kstate) {
		char path[PATH_MAX], *text;
		int n;

		snprintf(path, sizeof(path), "%s/kallsyms", s->proc_root);
		text = slurp(path);
		n = text ? ks_kallsyms_parse(text, &s->ksyms) : -errno;
		free(text);
		s->kstate = n > 0 ? 1 : n < 0 ? n : -ENOENT;
		if (n > 0)
			s->st.kernel_syms = n;
	}
	if (s->kstate < 0)
		return f->res = KS_SYM_NO_KSYMS;
	f->name = ks_symtab_find(&s->ksyms, addr, &f->off);
	if (!f->name) {
		f->off = addr;
		return f->res = KS_SYM_NO_SYMS;
	}
	return f->res = KS_SYM_OK;
}

void ks_symbolizer__stats(const struct ks_symbolizer *s, struct ks_symbolizer_stats *out)
{
	*out = s->st;
}
