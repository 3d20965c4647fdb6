// SPDX-License-Identifier: GPL-2.0
/*
 * `ksight tplist`: what can be traced here, for `ksight funccount` and hand-written
 * probes: tracepoints (tracefs) with their fields, kernel functions (BTF, ftrace's list)
 * with whether this kernel lets fentry or kprobes hook them, a binary's functions for
 * uprobes (ELF symbols) and its USDT probes (.note.stapsdt). Loads no BPF program
 * (but the trial ones that ask the kernel what it accepts, for -K's note).
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common_opts.h"
#include "core/btfcache.h"
#include "core/elflist.h"
#include "core/elfsym.h"
#include "core/kfuncs.h"
#include "core/probe.h"
#include "core/tracepoints.h"
#include "modules/trace_int.h"
#include "sink/escape.h"

#define TPLIST_FIELDS 128	/* a tracepoint's fields shown at most (the largest has ~40) */

struct tplist_opts {
	int verbose;
	bool kernel;
	const char *binary;
	const char *usdt;
	bool json;
};

#define OFF(f) offsetof(struct tplist_opts, f)
static const struct ks_opt tplist_opts[] = {
	{ "verbose", 'v', KS_OPT_COUNT, OFF(verbose), NULL,
	  "tracepoints: their fields; USDT: every site with its arguments" },
	{ "kernel", 'K', KS_OPT_FLAG, OFF(kernel), NULL,
	  "kernel functions (BTF) that ftrace can hook, for fentry and kprobes" },
	{ "binary", 'b', KS_OPT_STR, OFF(binary), "PATH",
	  "the functions of a binary or library (\"libc.so.6\"), for uprobes", 0, PATH_MAX },
	{ "usdt", 'l', KS_OPT_STR, OFF(usdt), "PATH", "the USDT probes of a binary or library",
	  0, PATH_MAX },
	{ "json", 0, KS_OPT_FLAG, OFF(json), NULL, "one JSON object per line" },
	{ 0 },
};

static const char usage[] =
	"  ksight tplist                      # every tracepoint, category:name\n"
	"  ksight tplist 'sched:*' -v         # the scheduler's, with their fields\n"
	"  ksight tplist -K 'vfs_*'           # kernel functions, for fentry and kprobes\n"
	"  ksight tplist -b libc.so.6 'malloc*'  # libc's functions, for uprobes\n"
	"  ksight tplist -l /usr/bin/python3  # its USDT probes\n"
	"  ksight tplist --json 'net:*' -v    # JSON lines, fields with offsets and sizes\n"
	"\n"
	"GLOB (default *) is matched, shell-style, against category:name for tracepoints,\n"
	"the function's name for -K and -b, provider:name for -l. Names feed `ksight\n"
	"funccount` (t:CATEGORY:NAME, u:BINARY:FUNCTION, k:FUNCTION). Exits 1 when nothing\n"
	"matches.\n";

/* One JSON line: {"type":@type,"@k1":@v1...} for string pairs, then @tail raw. */
static void json_line(struct ks_buf *b, const char *type, const char *const *kv, int n,
		      const char *tail)
{
	ks_buf_str(b, "{\"type\":\"");
	ks_buf_str(b, type);
	ks_buf_ch(b, '"');
	for (int i = 0; i < n; i++) {
		ks_buf_printf(b, ",\"%s\":", kv[2 * i]);
		ks_json_str(b, kv[2 * i + 1], strlen(kv[2 * i + 1]));
	}
	if (tail)
		ks_buf_str(b, tail);
	ks_buf_str(b, "}\n");
	ks_buf_flush(b);
}

static void tp_fields(struct ks_buf *b, const struct tplist_opts *o, const char *tracefs,
		      const char *tp)
{
	static struct ks_tp_field f[TPLIST_FIELDS];
	char *fmt = ks_tp_format(tracefs, tp);
	int n = fmt ? ks_tp_format_parse(fmt, f, TPLIST_FIELDS, false) : -EIO;

	static char raw[1024];
	bool has_raw = !trace_raw_proto(ks_vmlinux_btf(), strchr(tp, ':') + 1, raw,
					sizeof(raw));

	free(fmt);
	if (n > TPLIST_FIELDS)
		n = TPLIST_FIELDS;
	if (!o->json) {
		for (int i = 0; i < n; i++)
			ks_buf_printf(b, "    %s;\n", f[i].decl);
		if (n < 0)
			ks_buf_str(b, "    (its format file cannot be read)\n");
		/* ksight trace raw:CATEGORY:NAME's arguments */
		if (has_raw)
			ks_buf_printf(b, "    raw: %s\n", raw);
		return;
	}
	if (has_raw) {
		ks_buf_str(b, ",\"raw_args\":");
		ks_json_str(b, raw, strlen(raw));
	}
	ks_buf_str(b, ",\"fields\":[");
	for (int i = 0; i < n; i++) {
		ks_buf_str(b, i ? ",{\"name\":" : "{\"name\":");
		ks_json_str(b, f[i].name, strlen(f[i].name));
		ks_buf_str(b, ",\"decl\":");
		ks_json_str(b, f[i].decl, strlen(f[i].decl));
		ks_buf_printf(b, ",\"offset\":%u,\"size\":%u,\"signed\":%s}", f[i].offset,
			      f[i].size, f[i].is_signed ? "true" : "false");
	}
	ks_buf_ch(b, ']');
}

static int list_tracepoints(struct ks_buf *b, const struct tplist_opts *o, const char *glob)
{
	bool mounted;
	const char *tracefs = ks_tracefs_get(&mounted);
	char **names;
	int n;

	if (!tracefs) {
		fprintf(stderr, "ksight tplist: tracefs is not mounted and cannot be: %s\n",
			strerror(errno));
		return -1;
	}
	n = ks_tp_names(tracefs, glob, &names);
	if (n < 0)
		fprintf(stderr, "ksight tplist: %s/events: %s\n", tracefs, strerror(-n));
	for (int i = 0; i < n; i++) {
		const char *colon = strchr(names[i], ':');
		char cat[256];

		snprintf(cat, sizeof(cat), "%.*s", (int)(colon - names[i]), names[i]);
		if (o->json) {
			const char *kv[] = { "name", names[i], "category", cat, "event",
					     colon + 1 };

			if (o->verbose) {
				/* the fields go in the tail: build the line by hand */
				ks_buf_str(b, "{\"type\":\"tracepoint\"");
				for (int k = 0; k < 3; k++) {
					ks_buf_printf(b, ",\"%s\":", kv[2 * k]);
					ks_json_str(b, kv[2 * k + 1], strlen(kv[2 * k + 1]));
				}
				tp_fields(b, o, tracefs, names[i]);
				ks_buf_str(b, "}\n");
			} else {
				json_line(b, "tracepoint", kv, 3, NULL);
			}
		} else {
			ks_buf_printf(b, "%s\n", names[i]);
			if (o->verbose)
				tp_fields(b, o, tracefs, names[i]);
		}
		ks_buf_flush(b);
	}
	ks_tp_names_free(names, n);
	ks_tracefs_done(mounted);
	return n;
}

/* Why fentry and kprobes cannot hook @fn here, as a note on stderr (nothing if one can). */
static void kernel_note(struct ks_probe *p, const char *fn)
{
	char wf[200], wk[200];

	if (!ks_probe(p, KS_FAM_FENTRY, fn, wf, sizeof(wf)) ||
	    !ks_probe(p, KS_FAM_KPROBE, fn, wk, sizeof(wk)))
		return;
	fprintf(stderr, "ksight tplist: note: these functions cannot be hooked on this kernel: "
			"fentry: %s; kprobes: %s\n", wf, wk);
}

static int list_kernel(struct ks_buf *b, const struct tplist_opts *o, const char *glob)
{
	struct ks_probe *p = ks_probe__new();
	struct btf *btf = p ? ks_probe__btf(p) : NULL;
	bool mounted, traceable;
	const char *tracefs = ks_tracefs_get(&mounted);
	char **names = NULL;
	int n;

	if (!btf) {
		fprintf(stderr, "ksight tplist: -K needs the kernel's BTF "
				"(/sys/kernel/btf/vmlinux)\n");
		ks_probe__free(p);
		ks_tracefs_done(mounted);
		return -1;
	}
	n = ks_kfuncs(btf, tracefs, glob, &names, &traceable);
	if (n < 0)
		fprintf(stderr, "ksight tplist: kernel functions: %s\n", strerror(-n));
	if (n >= 0 && !traceable)
		fprintf(stderr, "ksight tplist: note: ftrace's list of traceable functions "
				"cannot be read: every BTF function is listed\n");
	if (n > 0)
		kernel_note(p, names[0]);
	for (int i = 0; i < n; i++) {
		const char *kv[] = { "name", names[i] };

		if (o->json)
			json_line(b, "kernel_function", kv, 1, NULL);
		else
			ks_buf_printf(b, "%s\n", names[i]);
	}
	ks_elf_names_free(names, n);
	ks_probe__free(p);
	ks_tracefs_done(mounted);
	return n;
}

static int resolve(const char *binary, char *path, size_t len)
{
	char why[256];

	if (ks_elf_resolve(binary, -1, path, len, why, sizeof(why))) {
		fprintf(stderr, "ksight tplist: %s: %s\n", binary, why);
		return -1;
	}
	return 0;
}

static int list_functions(struct ks_buf *b, const struct tplist_opts *o, const char *glob)
{
	char path[PATH_MAX], **names;
	int n;

	if (resolve(o->binary, path, sizeof(path)))
		return -1;
	n = ks_elf_funcs(path, glob, &names);
	if (n < 0) {
		fprintf(stderr, "ksight tplist: %s: %s\n", path,
			n == -ENOEXEC ? "not an ELF file" : strerror(-n));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const char *kv[] = { "binary", path, "name", names[i] };

		if (o->json)
			json_line(b, "function", kv, 2, NULL);
		else
			ks_buf_printf(b, "%s:%s\n", path, names[i]);
	}
	ks_elf_names_free(names, n);
	return n;
}

static int by_probe(const void *a, const void *b)
{
	const struct ks_usdt *x = a, *y = b;
	int c = strcmp(x->provider, y->provider);

	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : x->pc < y->pc ? -1 : x->pc > y->pc;
}

static int list_usdt(struct ks_buf *b, const struct tplist_opts *o, const char *glob)
{
	char path[PATH_MAX], pn[160], tail[128], last[160] = "";
	struct ks_usdt *u;
	int n, shown = 0;

	if (resolve(o->usdt, path, sizeof(path)))
		return -1;
	n = ks_usdt_list(path, &u);
	if (n < 0) {
		fprintf(stderr, "ksight tplist: %s: %s\n", path,
			n == -ENOEXEC ? "not an ELF file" : strerror(-n));
		return -1;
	}
	if (n > 1)
		qsort(u, n, sizeof(*u), by_probe);
	for (int i = 0; i < n; i++) {
		const char *kv[] = { "binary", path, "provider", u[i].provider, "name", u[i].name,
				     "args", u[i].args };

		snprintf(pn, sizeof(pn), "%s:%s", u[i].provider, u[i].name);
		if (fnmatch(glob, pn, 0) || (!o->verbose && !strcmp(pn, last)))
			continue;
		/* sorted: a probe's sites are adjacent, each probe once */
		snprintf(last, sizeof(last), "%s", pn);
		shown++;
		snprintf(tail, sizeof(tail), ",\"pc\":%llu,\"semaphore\":%llu",
			 (unsigned long long)u[i].pc, (unsigned long long)u[i].sema);
		if (o->json)
			json_line(b, "usdt", kv, o->verbose ? 4 : 3, o->verbose ? tail : NULL);
		else if (o->verbose) {
			ks_buf_printf(b, "%s:%s\n    site 0x%llx", path, pn,
				      (unsigned long long)u[i].pc);
			if (u[i].sema)
				ks_buf_printf(b, ", semaphore 0x%llx", (unsigned long long)u[i].sema);
			ks_buf_printf(b, ", args: %s\n", u[i].args[0] ? u[i].args : "(none)");
		} else
			ks_buf_printf(b, "%s:%s\n", path, pn);
	}
	free(u);
	return shown;
}

int cmd_tplist(int argc, char **argv)
{
	struct tplist_opts o = { 0 };
	const struct ks_opt_table tables[] = { { tplist_opts, &o } };
	const char *pos[KS_OPTS_MAX_POS], *glob;
	char err[KS_ERR_LEN];
	struct ks_buf b;
	int npos, rc, n;

	rc = ks_opts_parse(tables, 1, argc, argv, pos, KS_OPTS_MAX_POS, &npos, err, sizeof(err));
	if (rc == 1) {
		ks_print_help("ksight tplist [OPTIONS] [GLOB]",
			      "List what can be traced: tracepoints and their fields, kernel "
			      "functions, a binary's functions and USDT probes", usage, tables, 1);
		return 0;
	}
	if (rc == 0 && npos > 1)
		snprintf(err, sizeof(err), "one GLOB at most ('%.60s' is a second)", pos[1]);
	else if (rc == 0 && o.kernel + !!o.binary + !!o.usdt > 1)
		snprintf(err, sizeof(err), "-K, -b and -l exclude each other");
	else if (rc == 0)
		err[0] = 0;
	if (rc < 0 || err[0]) {
		fprintf(stderr, "ksight tplist: %s\n", err);
		return 2;
	}
	glob = npos ? pos[0] : "*";
	if (ks_buf_init(&b, 1, 1 << 16)) {
		fprintf(stderr, "ksight tplist: out of memory\n");
		return 1;
	}
	n = o.kernel ? list_kernel(&b, &o, glob) :
	    o.binary ? list_functions(&b, &o, glob) :
	    o.usdt   ? list_usdt(&b, &o, glob) :
		       list_tracepoints(&b, &o, glob);
	ks_buf_flush(&b);
	ks_buf_free(&b);
	if (n == 0)
		fprintf(stderr, "ksight tplist: nothing matches '%s'\n", glob);
	return n > 0 ? 0 : 1;
}
