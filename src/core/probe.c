// SPDX-License-Identifier: GPL-2.0
#include "core/probe.h"
#include "core/btfcache.h"
#include "core/probe_int.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define PROBE_CACHE 64

struct probe_ans {
	enum ks_family family;
	char target[64];
	int err;
	char why[96];
};

struct ks_probe {
	struct probe_ans cache[PROBE_CACHE];
	int ncache;
};

struct ks_probe *ks_probe__new(void)
{
	return calloc(1, sizeof(struct ks_probe));
}

void ks_probe__free(struct ks_probe *p)
{
	free(p);
}

struct btf *ks_probe__btf(struct ks_probe *p)
{
	/* libbpf's lookups take a non-const btf; none of ksight's modify it */
	return (struct btf *)ks_vmlinux_btf();
}

void ks_probe__release_btf(struct ks_probe *p)
{
	ks_vmlinux_btf_release();
}

const char *ks_tracefs(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

	for (int i = 0; i < 2; i++) {
		char path[64];

		snprintf(path, sizeof(path), "%s/events", dirs[i]);
		if (!access(path, F_OK))
			return dirs[i];
	}
	/* classic tracepoints need tracefs; mounting it changes nothing else */
	if (!mount("nodev", dirs[0], "tracefs", 0, NULL))
		return dirs[0];
	return NULL;
}

/* Load "[r2 = ctx[0];] r0 = 0; exit" as @type; returns the fd or -errno. */
static int tiny_prog(enum bpf_prog_type type, enum bpf_attach_type attach, __u32 btf_id,
		     bool read_arg0)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_1 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach,
		    .attach_btf_id = btf_id);
	int fd = bpf_prog_load(type, "ksight_probe", "GPL", insns + !read_arg0, 3 - !read_arg0,
			       &opts);

	return fd < 0 ? -errno : fd;
}

static int why(char *buf, size_t len, int err, const char *fmt, const char *arg)
{
	char msg[160];

	snprintf(msg, sizeof(msg), fmt, arg);
	snprintf(buf, len, "%s (%s)", msg, strerrorname_np(-err) ?: "error");
	return err;
}

int ks_probe_prog(enum bpf_prog_type type, enum bpf_attach_type attach, __u32 btf_id,
		  bool read_arg0)
{
	return tiny_prog(type, attach, btf_id, read_arg0);
}

int ks_probe_why(char *buf, size_t len, int err, const char *fmt, const char *arg)
{
	return why(buf, len, err, fmt, arg);
}

static int probe_btf_id(struct ks_probe *p, const char *name, __u32 kind, char *w, size_t len)
{
	struct btf *btf = ks_probe__btf(p);
	int id;

	if (!btf)
		return why(w, len, -ENOENT, "kernel has no BTF (%s)", "CONFIG_DEBUG_INFO_BTF");
	id = btf__find_by_name_kind(btf, name, kind);
	if (id < 0)
		return why(w, len, -ENOENT, "%s is not in the kernel's BTF", name);
	return id;
}

static int func_nargs(struct btf *btf, int id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	t = t ? btf__type_by_id(btf, t->type) : NULL;
	return t && btf_is_func_proto(t) ? btf_vlen(t) : 0;
}

static int probe_fentry(struct ks_probe *p, const char *fn, char *w, size_t len)
{
	int id = probe_btf_id(p, fn, BTF_KIND_FUNC, w, len), fd;

	if (id < 0)
		return id;
	fd = tiny_prog(BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, id, false);
	if (fd < 0)
		return why(w, len, fd, "fentry/fexit on %s refused: BPF trampolines not allowed", fn);
	close(fd);
	/* the programs read the first argument: some kernels' BTF describes it only as a
	 * forward declaration (pt_regs of the 5.10 syscall wrappers), which they refuse.
	 * The syscall wrappers' programs (KS_SYS_FEXIT) copy it with a probe read instead,
	 * so they do not need it readable. */
	if (!strncmp(fn, "__x64_sys_", 10) || func_nargs(ks_probe__btf(p), id) < 1)
		return 0;
	fd = tiny_prog(BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, id, true);
	if (fd < 0)
		return why(w, len, fd, "the arguments of %s are not readable (incomplete BTF)", fn);
	close(fd);
	return 0;
}

static int probe_tp_btf(struct ks_probe *p, const char *tp, char *w, size_t len)
{
	char name[96];
	int id, fd;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = probe_btf_id(p, name, BTF_KIND_TYPEDEF, w, len);
	if (id < 0)
		return why(w, len, id, "no BTF tracepoint %s", tp);
	fd = tiny_prog(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, id, false);
	if (fd < 0)
		return why(w, len, fd, "tp_btf program on %s refused", tp);
	close(fd);
	return 0;
}

static int probe_raw_tp(const char *tp, char *w, size_t len)
{
	int fd = tiny_prog(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, false), link;

	if (fd < 0)
		return why(w, len, fd, "raw tracepoint programs refused%s", "");
	link = bpf_raw_tracepoint_open(tp, fd);
	if (link < 0) {
		int err = -errno;

		close(fd);
		return why(w, len, err, "no raw tracepoint %s", tp);
	}
	close(link);
	close(fd);
	return 0;
}

static int probe_tp(const char *tp, char *w, size_t len)
{
	const char *tracefs = ks_tracefs();
	char path[160];
	int fd;

	if (!tracefs)
		return why(w, len, -ENOENT, "tracefs is not mounted and cannot be%s", "");
	snprintf(path, sizeof(path), "%s/events/%s/id", tracefs, tp);
	if (access(path, R_OK))
		return why(w, len, -errno, "no tracepoint %s in tracefs", tp);
	fd = tiny_prog(BPF_PROG_TYPE_TRACEPOINT, 0, 0, false);
	if (fd < 0)
		return why(w, len, fd, "tracepoint programs refused%s", "");
	close(fd);
	return 0;
}

static bool in_kallsyms(const char *fn)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[256], name[200], type;
	unsigned long long addr;
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %199s", &addr, &type, name) == 3 &&
		    (type == 't' || type == 'T') && !strcmp(name, fn))
			found = true;
	fclose(f);
	return found;
}

static int probe_kprobe(const char *fn, char *w, size_t len)
{
	const char *tracefs;
	char path[96];

	if (access("/sys/bus/event_source/devices/kprobe/type", R_OK)) {
		tracefs = ks_tracefs();
		snprintf(path, sizeof(path), "%s/kprobe_events", tracefs ? tracefs : "/nonexistent");
		if (access(path, W_OK))
			return why(w, len, -EOPNOTSUPP,
				   "kprobe on %s: kernel built without kprobes (CONFIG_KPROBES)", fn);
	}
	if (!in_kallsyms(fn))
		return why(w, len, -ENOENT, "no kernel function %s", fn);
	return 0;
}

/* Test-only: KSIGHT_TEST_ABSENT=TARGET[,TARGET] makes those hooks absent in every family,
 * as on a kernel without them (optional slots are tested with it). */
static bool test_absent(const char *target)
{
	const char *list = getenv("KSIGHT_TEST_ABSENT");
	size_t n = strlen(target);

	for (const char *s = list; s && *s; s += strcspn(s, ",") + (s[strcspn(s, ",")] != 0))
		if (strcspn(s, ",") == n && !strncmp(s, target, n))
			return true;
	return false;
}

int ks_probe(void *vp, enum ks_family family, const char *target, char *w, size_t len)
{
	struct ks_probe *p = vp;
	struct probe_ans *a;
	int err;

	if (test_absent(target)) {
		snprintf(w, len, "%s is absent (KSIGHT_TEST_ABSENT)", target);
		return -ENOENT;
	}

	for (int i = 0; i < p->ncache; i++) {
		a = &p->cache[i];
		if (a->family == family && !strcmp(a->target, target)) {
			snprintf(w, len, "%s", a->why);
			return a->err;
		}
	}
	w[0] = 0;
	switch (family) {
	case KS_FAM_FENTRY:
		err = probe_fentry(p, target, w, len);
		break;
	case KS_FAM_KPROBE:
		err = probe_kprobe(target, w, len);
		break;
	case KS_FAM_TP_BTF:
		err = probe_tp_btf(p, target, w, len);
		break;
	case KS_FAM_RAW_TP:
		err = probe_raw_tp(target, w, len);
		break;
	case KS_FAM_TP:
		err = probe_tp(target, w, len);
		break;
	default:
		err = ks_probe_dynamic(p, family, target, w, len);
	}
	if (err > 0)
		err = 0;
	if (p->ncache < PROBE_CACHE) {
		a = &p->cache[p->ncache++];
		a->family = family;
		snprintf(a->target, sizeof(a->target), "%s", target);
		a->err = err;
		snprintf(a->why, sizeof(a->why), "%s", w);
	}
	return err;
}
