// SPDX-License-Identifier: GPL-2.0
/*
 * funccount's fentry path. A trampoline program is verified for one kernel function, so
 * each function counted needs a program of its own. libbpf loads funccount__fentry once
 * (its maps made, its instructions relocated against them, its target the first
 * function); each function then gets a copy of those instructions loaded straight with
 * bpf_prog_load, the marker immediate (FUNCCOUNT_FENTRY_MARK) replaced by the function's
 * address, which keys its row and is named back through /proc/kallsyms, and a link of its
 * own. The copies are file descriptors of this process: each link holds its program, the
 * core closes the links when the module goes, and a kill leaves nothing in the kernel.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/attachments.h"
#include "core/btfcache.h"
#include "modules/funccount_int.h"

/* The index of the ld_imm64 that loads FUNCCOUNT_FENTRY_MARK in @insns, or -1 unless
 * there is exactly one. */
static int find_mark(const struct bpf_insn *insns, size_t n)
{
	const uint32_t lo = (uint32_t)FUNCCOUNT_FENTRY_MARK;
	const uint32_t hi = (uint32_t)(FUNCCOUNT_FENTRY_MARK >> 32);
	int at = -1;

	for (size_t i = 0; i + 1 < n; i++) {
		if (insns[i].code != (BPF_LD | BPF_DW | BPF_IMM))
			continue;
		if (!insns[i].src_reg && (uint32_t)insns[i].imm == lo &&
		    (uint32_t)insns[i + 1].imm == hi) {
			if (at >= 0)
				return -1;
			at = (int)i;
		}
		i++;	/* its second half */
	}
	return at;
}

struct named {
	const char *name;
	int i;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* The address of each of @st->kfns: the lowest symbol of that name in /proc/kallsyms (the
 * kernel's own before a module's), 0 for none. NULL when out of memory. */
static uint64_t *addresses(const struct fc_state *st)
{
	struct named *by = malloc(st->nkfn * sizeof(*by));
	uint64_t *addr = calloc(st->nkfn, sizeof(*addr));

	if (!by || !addr) {
		free(by);
		free(addr);
		return NULL;
	}
	for (int i = 0; i < st->nkfn; i++)
		by[i] = (struct named){ st->kfns[i], i };
	qsort(by, st->nkfn, sizeof(*by), cmp_named);
	for (size_t k = 0; k < st->ksyms.n; k++) {
		const struct ks_sym *s = &st->ksyms.syms[k];
		struct named key = { st->ksyms.pool + s->name, 0 }, *hit;

		hit = bsearch(&key, by, st->nkfn, sizeof(*by), cmp_named);
		if (hit && (!addr[hit->i] || s->addr < addr[hit->i]))
			addr[hit->i] = s->addr;
	}
	free(by);
	return addr;
}

static void refused(struct fc_state *st, const char *fn, const char *why)
{
	if (!st->krefused++)
		snprintf(st->krefused_why, sizeof(st->krefused_why), "%s: %s", fn, why);
}

/* The copy of @insns for BTF function @id, linked. Returns the link, or -errno. */
static int load_and_link(const struct bpf_insn *insns, size_t n, int id)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = id);
	int prog, link, err;

	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "fc_fentry", "GPL", insns, n, &o);
	if (prog < 0)
		return -errno;
	link = bpf_link_create(prog, 0, BPF_TRACE_FENTRY, NULL);
	if (link < 0)	/* older kernels: a link by the older call */
		link = bpf_raw_tracepoint_open(NULL, prog);
	err = -errno;
	close(prog);	/* the link holds it */
	return link < 0 ? err : link;
}

int fc_fentry_attach(struct ks_ctx *ctx, struct fc_state *st, struct bpf_program *prog)
{
	const struct bpf_insn *tmpl = bpf_program__insns(prog);
	size_t n = bpf_program__insn_cnt(prog);
	const struct btf *btf = ks_vmlinux_btf();
	int mark = tmpl ? find_mark(tmpl, n) : -1, attached = 0, err = 0;
	struct bpf_insn *insns = NULL;
	uint64_t *addr = NULL;
	struct rlimit r;

	if (mark < 0) {
		fprintf(stderr, "ksight funccount: %s: fentry: no marker in the loaded program's "
			"instructions to copy\n", st->kernel);
		return -ENOEXEC;
	}
	/* a link each, besides libbpf's and the counters' descriptors */
	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < (rlim_t)st->nkfn + 512) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
	insns = malloc(n * sizeof(*insns));
	addr = addresses(st);
	if (!insns || !addr) {
		free(insns);
		free(addr);
		return -ENOMEM;
	}
	memcpy(insns, tmpl, n * sizeof(*insns));
	for (int i = 0; i < st->nkfn; i++) {
		const char *fn = st->kfns[i];
		int id = btf ? btf__find_by_name_kind(btf, fn, BTF_KIND_FUNC) : -ENOENT, link;

		if (id < 0) {
			refused(st, fn, "no BTF");
			continue;
		}
		if (!addr[i]) {
			refused(st, fn, "not in /proc/kallsyms");
			continue;
		}
		insns[mark].imm = (int32_t)(uint32_t)addr[i];
		insns[mark + 1].imm = (int32_t)(uint32_t)(addr[i] >> 32);
		link = load_and_link(insns, n, id);
		if (link == -EMFILE || link == -ENFILE || link == -ENOMEM) {
			err = link;
			fprintf(stderr, "ksight funccount: %s: fentry on %s: %s\n", st->kernel, fn,
				strerror(-err));
			break;
		}
		if (link < 0) {
			/* the kernel's ENOTSUPP, which libc does not name: a trampoline that
			 * cannot take the function (its arguments, e.g. too many) */
			refused(st, fn, link == -524 ? "not supported by a trampoline (ENOTSUPP)" :
				strerror(-link));
			continue;
		}
		if ((err = ks_attach_keep_fd(ctx, prog, link)))
			break;
		attached++;
	}
	free(insns);
	free(addr);
	if (!err && !attached) {
		fprintf(stderr, "ksight funccount: %s: fentry refused every function (%s)\n",
			st->kernel, st->krefused_why);
		err = -EACCES;
	} else if (!err && st->krefused) {
		fprintf(stderr, "ksight funccount: %s: %d of %d kernel functions not attached: "
			"fentry refused them (%s%s)\n", st->kernel, st->krefused, st->nkfn,
			st->krefused_why, st->krefused > 1 ? ", ..." : "");
	}
	return err;
}
