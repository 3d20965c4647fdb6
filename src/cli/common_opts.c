// SPDX-License-Identifier: GPL-2.0
#include "cli/common_opts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "sink/sink.h"

#define CGROUP2_SUPER_MAGIC 0x63677270

static const char *const hooks_choices[] = { "auto", "fentry", "kprobe", "tp_btf", "raw_tp", "tp",
					     NULL };

#define OFF(f) offsetof(struct ks_common, f)

const struct ks_opt ks_common_opts[] = {
	{ "pid", 'p', KS_OPT_UINT, OFF(pid), "PID", "only this process", 1, 4194304 },
	{ "tid", 't', KS_OPT_UINT, OFF(tid), "TID", "only this thread", 1, 4194304 },
	{ "comm", 'n', KS_OPT_STR, OFF(comm), "NAME", "only processes named NAME (first 15 bytes)" },
	{ "uid", 'u', KS_OPT_UINT, OFF(uid), "UID", "only this user id", 0, 4294967294U },
	{ "cgroup", 0, KS_OPT_STR, OFF(cgroup), "PATH", "only tasks in this cgroup v2 directory" },
	{ "timestamp", 'T', KS_OPT_FLAG, OFF(timestamps), NULL, "add a TIME column" },
	{ "json", 0, KS_OPT_FLAG, OFF(json), NULL,
	  "one JSON object per line (the same as -o json)" },
	{ "output", 'o', KS_OPT_STRS, OFF(outputs), "SPEC",
	  "write records to SPEC, repeatable (below): table, json, json:FILE" },
	{ "hooks", 0, KS_OPT_CHOICE, OFF(hooks), "FAMILY",
	  "force a hook family: fentry, kprobe, tp_btf, raw_tp, tp", 0, 0, hooks_choices },
	{ "ringbuf-size", 0, KS_OPT_SIZE, OFF(ringbuf_size), "BYTES",
	  "shared ring buffer, a power of two (default 4M, 2M for ksight run)", 4096, 1ULL << 30 },
	{ "duration", 0, KS_OPT_UINT, OFF(duration), "SECS", "stop after SECS seconds", 1,
	  315360000 },
	{ "verbose", 'v', KS_OPT_COUNT, OFF(verbose), NULL, "libbpf's log and the verifier's" },
	{ 0 },
};

void ks_common_defaults(struct ks_common *c)
{
	memset(c, 0, sizeof(*c));
	c->uid = KS_UNSET;
	c->ringbuf_size = KS_RINGBUF_DEFAULT;
}

static int fail(char *err, size_t len, const char *msg, const char *arg)
{
	snprintf(err, len, msg, arg);
	return -1;
}

/*
 * Each -o SPEC parses, at most one output takes stdout, no file is named twice, and each
 * file can be opened for appending (created 0600 if missing, as the sink will).
 */
static int check_outputs(const struct ks_common *c, char *err, size_t len)
{
	struct ks_sink_spec spec[KS_STRS_MAX];
	int on_stdout = c->json;

	for (int i = 0; i < c->outputs.n; i++) {
		const char *text = c->outputs.v[i];
		int fd;

		if (ks_sink_spec_parse(text, &spec[i], err, len))
			return -1;
		if (spec[i].ops->serves)
			continue;	/* an address or a database: the backend's own check */
		if (!spec[i].path) {
			if (on_stdout++)
				return fail(err, len, "-o %.80s: stdout is taken by another output "
					    "(give one a file: FORMAT:FILE)", text);
			continue;
		}
		for (int k = 0; k < i; k++)
			if (spec[k].path && !strcmp(spec[k].path, spec[i].path))
				return fail(err, len, "-o %.80s: that file is named twice", text);
		fd = open(spec[i].path,
			  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
		if (fd < 0) {
			snprintf(err, len, "-o %.80s: %s", text, strerror(errno));
			return -1;
		}
		close(fd);
	}
	return 0;
}

int ks_common_check(struct ks_common *c, const char **pos, int npos, bool positional, char *err,
		    size_t len)
{
	char path[64];

	if (c->pid) {
		snprintf(path, sizeof(path), "/proc/%llu", (unsigned long long)c->pid);
		if (access(path, F_OK))
			return fail(err, len, "-p %s: no such process", path + 6);
	}
	if (c->tid) {
		snprintf(path, sizeof(path), "/proc/%llu", (unsigned long long)c->tid);
		if (access(path, F_OK))
			return fail(err, len, "-t %s: no such thread", path + 6);
	}
	if (c->cgroup) {
		struct statfs fs;

		if (statfs(c->cgroup, &fs) || fs.f_type != CGROUP2_SUPER_MAGIC)
			return fail(err, len, "--cgroup %.200s: not a cgroup v2 directory", c->cgroup);
	}
	if (check_outputs(c, err, len))
		return -1;
	if (c->ringbuf_size & (c->ringbuf_size - 1)) {
		snprintf(err, len, "--ringbuf-size: %llu is not a power of two",
			 (unsigned long long)c->ringbuf_size);
		return -1;
	}
	if (npos && !positional)
		return fail(err, len, "unexpected argument '%.60s'", pos[0]);
	if (npos >= 1 && ks_parse_u64(pos[0], 1, 86400, &c->interval))
		return fail(err, len, "interval '%.40s' is not a number of seconds in 1..86400",
			    pos[0]);
	if (npos >= 2 && ks_parse_u64(pos[1], 1, 1000000000, &c->count))
		return fail(err, len, "count '%.40s' is not a whole number above 0", pos[1]);
	if (npos > 2)
		return fail(err, len, "unexpected argument '%.60s'", pos[2]);
	return 0;
}

int ks_require_kernel(const char *label)
{
	if (geteuid() != 0) {
		fprintf(stderr, "ksight %s: needs root (loading BPF programs takes CAP_BPF, "
				"CAP_PERFMON and CAP_SYS_ADMIN)\n", label);
		return -1;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "ksight %s: the kernel has no BTF (/sys/kernel/btf/vmlinux): "
				"ksight needs CONFIG_DEBUG_INFO_BTF\n", label);
		return -1;
	}
	return 0;
}

static const char outputs_help[] =
	"Outputs: -o FORMAT[,KIND...][:FILE], repeatable. Without -o: the table on the terminal\n"
	"(JSON lines with --json). FILE is appended to (created 0600); a file slower than the\n"
	"records or a failing one loses records, counted and reported, and ksight exits 1.\n"
	"KIND limits an output to some records: event, report, summary, stats, meta.\n"
	"  -o json:/var/log/ksight.jsonl        JSON lines to a file, nothing on the terminal\n"
	"  -o table -o json:/tmp/k.jsonl        the table, and JSON lines to a file\n"
	"  -o json -o json,event:/tmp/ev.jsonl  everything as JSON on stdout, events to a file\n";

void ks_print_help(const char *synopsis, const char *summary, const char *usage,
		   const struct ks_opt_table *tables, int n)
{
	char buf[8192];

	printf("Usage: %s\n%s.\n\n", synopsis, summary);
	if (usage)
		printf("Examples:\n%s\n", usage);
	ks_opts_help(tables, n, buf, sizeof(buf));
	printf("Options:\n%s  -h, --help                 this help\n", buf);
	for (int i = 0; i < n; i++)
		if (tables[i].opts == ks_common_opts)
			printf("\n%s", outputs_help);
}
