// SPDX-License-Identifier: GPL-2.0
/*
 * mem --leaks -p PID: uprobes on the allocator the process uses (libc unless --leaks-lib)
 * and, each report, its outstanding blocks grouped by the user stack that allocated them,
 * most bytes first (bpf/mem_leaks.bpf.h). Frames are named by the core symbolizer
 * (core/symbolize.h) from the process's maps as last read: "FILE`function+0xOFF", else
 * "FILE+0xOFFSET" (the offset in the mapped file, what addr2line and gdb take).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attachments.h"
#include "core/clock.h"
#include "core/symbolize.h"
#include "mem.skel.h"
#include "modules/mem_int.h"

/* The allocator's entry points, and whether a library may lack them. */
static const struct {
	const char *func;
	size_t prog;		/* offsetof(struct mem_bpf, progs.X) */
	bool optional;
} leak_funcs[] = {
	{ "malloc", offsetof(struct mem_bpf, progs.mem__malloc), false },
	{ "calloc", offsetof(struct mem_bpf, progs.mem__calloc), false },
	{ "realloc", offsetof(struct mem_bpf, progs.mem__realloc), false },
	{ "free", offsetof(struct mem_bpf, progs.mem__free), false },
	{ "posix_memalign", offsetof(struct mem_bpf, progs.mem__posix_memalign), true },
	{ "aligned_alloc", offsetof(struct mem_bpf, progs.mem__memalign), true },
	{ "memalign", offsetof(struct mem_bpf, progs.mem__memalign), true },
	{ "valloc", offsetof(struct mem_bpf, progs.mem__malloc), true },
};

int mem_leaks_configure(struct mem_state *st, const struct ks_common *common, char *err,
			size_t len)
{
	if (!st->leaks) {
		if (st->leaks_lib || st->src) {
			snprintf(err, len, "%s needs --leaks", st->src ? "--src" : "--leaks-lib");
			return -1;
		}
		return 0;
	}
	if (!common->pid) {
		snprintf(err, len, "--leaks needs -p PID (one process's allocator is probed)");
		return -1;
	}
	if (st->per_thread) {
		snprintf(err, len, "--leaks and -L: blocks belong to the process, not a thread");
		return -1;
	}
	st->pid = common->pid;
	return 0;
}

/* Without --leaks the tables shrink to one entry (they are preallocated). */
void mem_leaks_setup(struct mem_state *st, struct mem_bpf *skel)
{
	if (st->leaks)
		return;
	bpf_map__set_max_entries(skel->maps.mem_leak_pending, 1);
	bpf_map__set_max_entries(skel->maps.mem_leak_allocs, 1);
	bpf_map__set_max_entries(skel->maps.mem_leak_stacks, 1);
	bpf_map__set_max_entries(skel->maps.mem_leak_tops, 1);
}

int mem_leaks_attach(struct ks_ctx *ctx, struct mem_state *st, struct mem_bpf *skel)
{
	for (size_t i = 0; i < sizeof(leak_funcs) / sizeof(leak_funcs[0]); i++) {
		struct bpf_program *p = *(struct bpf_program **)((char *)skel + leak_funcs[i].prog);
		struct ks_uprobe_spec s = {
			.binary = st->leaks_lib ? st->leaks_lib : "libc",
			.func = leak_funcs[i].func,
			.pid = (int)st->pid,
		};
		int rc = ks_attach_uprobe(ctx, p, &s);

		if (rc == -ENOENT && leak_funcs[i].optional)
			continue;
		if (rc)
			return rc;
		if (p == skel->progs.mem__free)
			continue;
		s.retprobe = true;
		if ((rc = ks_attach_uprobe(ctx, skel->progs.mem__alloc_ret, &s)))
			return rc;
	}
	return 0;
}

struct leak_block {
	uint64_t addr;
	struct mem_block b;
};

struct leak_group {
	int32_t stack;
	uint64_t blocks, bytes, oldest;	/* oldest: the earliest allocation time, ns */
};

static int by_stack(const void *a, const void *b)
{
	const struct leak_block *x = a, *y = b;

	return x->b.stack < y->b.stack ? -1 : x->b.stack > y->b.stack;
}

static int by_bytes(const void *a, const void *b)
{
	const struct leak_group *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* Every outstanding block in the kernel's table, in a new array; the count, or -errno. */
static long read_blocks(int fd, struct leak_block **out)
{
	size_t n = 0, cap = 1024;
	struct leak_block *v = malloc(cap * sizeof(*v));
	uint64_t key, next;
	int rc;

	if (!v)
		return -ENOMEM;
	for (rc = bpf_map_get_next_key(fd, NULL, &next); !rc;
	     rc = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (n == cap) {
			struct leak_block *w = realloc(v, 2 * cap * sizeof(*v));

			if (!w) {
				free(v);
				return -ENOMEM;
			}
			v = w;
			cap *= 2;
		}
		v[n].addr = key;
		if (!bpf_map_lookup_elem(fd, &key, &v[n].b))
			n++;	/* freed meanwhile: skipped */
	}
	*out = v;
	return n;
}

/* Give the symbolizer the process's maps; the last good read stays once it has exited. */
static void refresh_maps(struct mem_state *st)
{
	char *text;

	if (!st->leak_sym && (st->leak_sym = ks_symbolizer__new("/proc", "/usr/lib/debug")) &&
	    st->src)
		ks_symbolizer__want_src(st->leak_sym);
	if (!st->leak_sym)
		return;
	if (!(text = ks_maps_read("/proc", st->pid)))
		return;
	ks_symbolizer__set_maps(st->leak_sym, st->pid, 0, text);
	free(text);
}

/* " (file.c:12)": where DWARF says @fn is defined, base name only; "" without it. */
static const char *src_of(const struct ks_srcfn *fn, char *buf, size_t len)
{
	const char *slash = fn->file ? strrchr(fn->file, '/') : NULL;

	if (!fn->file)
		return "";
	snprintf(buf, len, " (%.100s:%u)", slash ? slash + 1 : fn->file, fn->line);
	return buf;
}

/* --src: the functions inlined at return address @ip (the call is the byte before it),
 * innermost first, each a frame of its own, NUL-separated into @out; their length. */
static size_t inlined_frames(struct mem_state *st, uint64_t ip, char *out, size_t len)
{
	struct ks_frame f = {};
	char src[128];
	size_t n = 0;

	ks_symbolizer__user(st->leak_sym, st->pid, 0, ip - 1, st->leak_round, &f);
	for (int j = f.src ? (int)f.src->ninl - 1 : -1; j >= 0 && n + 1 < len; j--) {
		const struct ks_srcfn *fn = &f.src->inl[j];

		n += snprintf(out + n, len - n, "%s [inlined]%s", fn->name ? fn->name : "?",
			      src_of(fn, src, sizeof(src))) + 1;
		if (n >= len)
			return len - 1;
	}
	return n;
}

/* One frame's text into @out: see the top of the file; with --src the functions inlined
 * there come first, each ending in a NUL. */
static int frame_name(struct mem_state *st, uint64_t ip, char *out, size_t len)
{
	struct ks_frame f = {};
	char src[128] = "";
	size_t pre = 0;

	if (st->leak_sym)
		ks_symbolizer__user(st->leak_sym, st->pid, 0, ip, st->leak_round, &f);
	if (f.name && st->src) {
		struct ks_frame call = {};

		pre = inlined_frames(st, ip, out, len);
		ks_symbolizer__user(st->leak_sym, st->pid, 0, ip - 1, st->leak_round, &call);
		if (call.src)
			src_of(&call.src->fn, src, sizeof(src));
	}
	if (f.name)
		return pre + snprintf(out + pre, len - pre, "%s`%s+0x%llx%s",
				      f.module ? f.module : "?", f.name,
				      (unsigned long long)f.off, src);
	if (f.module)
		return snprintf(out, len, "%s+0x%llx", f.module, (unsigned long long)f.off);
	return snprintf(out, len, "0x%llx", (unsigned long long)ip);
}

/* One group's frames as NUL-separated names in @buf (KS_V_ARGV); its length. */
static size_t frames(struct mem_state *st, const struct mem_bpf *skel, int32_t stack,
		     char *buf, size_t cap)
{
	uint64_t ips[MEM_LEAK_DEPTH] = {};
	uint32_t id = stack & ~MEM_STACK_TOP;
	size_t n = 0;
	int fd = bpf_map__fd(stack & MEM_STACK_TOP ? skel->maps.mem_leak_tops
						   : skel->maps.mem_leak_stacks);

	if (stack < 0 || bpf_map_lookup_elem(fd, &id, ips))
		return snprintf(buf, cap, "[stack lost]");
	for (int i = 0; i < MEM_LEAK_DEPTH && ips[i] && n + 1 < cap; i++) {
		if (n)
			buf[n++] = 0;
		n += frame_name(st, ips[i], buf + n, cap - n);
		if (n >= cap)
			n = cap - 1;
	}
	if (stack & MEM_STACK_TOP && n + 1 < cap) {
		buf[n++] = 0;
		n += snprintf(buf + n, cap - n, "[cut]");
		if (n >= cap)
			n = cap - 1;
	}
	return n;
}

void mem_leaks_report(struct ks_ctx *ctx, struct mem_state *st, struct mem_bpf *skel)
{
	struct leak_block *v = NULL;
	struct leak_group *g;
	long n = read_blocks(bpf_map__fd(skel->maps.mem_leak_allocs), &v);
	uint64_t now = ks_clock_mono_now(), total = 0;
	size_t ng = 0;
	char buf[MEM_LEAK_DEPTH * 96];

	refresh_maps(st);
	st->leak_round++;
	if (n < 0 || !(g = calloc(n ? n : 1, sizeof(*g)))) {
		free(v);
		return;
	}
	qsort(v, n, sizeof(*v), by_stack);
	for (long i = 0; i < n; i++) {
		if (!ng || g[ng - 1].stack != v[i].b.stack)
			g[ng++] = (struct leak_group){ .stack = v[i].b.stack, .oldest = v[i].b.ts };
		g[ng - 1].blocks++;
		g[ng - 1].bytes += v[i].b.size;
		if (v[i].b.ts < g[ng - 1].oldest)
			g[ng - 1].oldest = v[i].b.ts;
		total += v[i].b.size;
	}
	qsort(g, ng, sizeof(*g), by_bytes);
	for (size_t i = 0; i < ng && (!st->top || i < st->top); i++) {
		struct ks_hdr h;
		struct ks_rec r;
		struct ks_val *fv;

		ks_row_hdr(&h, st->pid, 0, 0, "");
		ks_rec_init(&r, "mem_leak", &h);
		r.kind = KS_K_REPORT;
		ks_rec_uint(&r, NULL, "PID", -7, st->pid);
		ks_rec_add(&r, "bytes", "BYTES", 11, KS_V_BYTES)->u = g[i].bytes;
		ks_rec_add(&r, "blocks", "BLOCKS", 8, KS_V_COUNT)->u = g[i].blocks;
		ks_rec_add(&r, "oldest_ns", "OLDEST", 8, KS_V_NS)->u =
			now > g[i].oldest ? now - g[i].oldest : 0;
		ks_rec_int(&r, "stack_id", NULL, 0, g[i].stack);
		fv = ks_rec_add(&r, "frames", "STACK (allocating function first)", 0, KS_V_ARGV);
		fv->s.p = buf;
		fv->s.n = frames(st, skel, g[i].stack, buf, sizeof(buf));
		ks_emit(ctx, &r);
	}
	free(g);
	free(v);
}
