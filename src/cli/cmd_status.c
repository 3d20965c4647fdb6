// SPDX-License-Identifier: GPL-2.0
/*
 * `ksight status`: the kernel, its BTF, which hook each module's programs would use here
 * and why the others were refused, and every attach family: usable, or what is missing.
 * `--live` shows every loaded ksight program's run count and ns per run, from the kernel's
 * BPF statistics (switched on only while it runs), and where it is attached.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/common_opts.h"
#include "cli/registry.h"
#include "cli/status_links.h"
#include "cli/status_names.h"
#include "core/families.h"
#include "core/log.h"
#include "core/procfs.h"
#include "core/session.h"
#include "sink/pipe.h"

struct status_opts {
	bool live;
	bool no_verify;
};

static const struct ks_opt status_opts[] = {
	{ "live", 'l', KS_OPT_FLAG, offsetof(struct status_opts, live), NULL,
	  "run counts and ns per run of loaded ksight programs, each INTERVAL (1 s)" },
	{ "no-verify", 0, KS_OPT_FLAG, offsetof(struct status_opts, no_verify), NULL,
	  "only probe: do not load the modules' programs to have them verified" },
	{ 0 },
};

static const char usage[] =
	"  ksight status               # hooks each module would use on this kernel, and why\n"
	"  ksight status --hooks=tp    # what forcing classic tracepoints would give\n"
	"  ksight status --live        # cost of the ksight programs running now\n";

#define MAX_PROGS 4096	/* every program of the machine, before keeping ksight's */

struct prog_sample {
	__u32 id;
	int owner;		/* a process holding it (bpf-prog or bpf_link fd), 0: none found */
	bool ks;		/* uses ksight's shared maps */
	char name[64];
	char serves[160];	/* what it runs for ("metrics:NAME"), "" when not said */
	char type[16];
	char where[128];	/* its first link's hook, "+N" more links; "" without one */
	__u64 cnt, ns;
};

/* Whether program @fd uses one of the maps every ksight object shares (common.bpf.h,
 * syscalls.bpf.h): the dispatcher reaches only its routes, most others the counters. */
static bool is_ksight(int fd, struct bpf_prog_info *info)
{
	__u32 ids[64], n = info->nr_map_ids < 64 ? info->nr_map_ids : 64, len = sizeof(*info);
	struct bpf_prog_info again = { .nr_map_ids = n, .map_ids = (__u64)(unsigned long)ids };

	if (!n || bpf_obj_get_info_by_fd(fd, &again, &len))
		return false;
	for (__u32 i = 0; i < n; i++) {
		struct bpf_map_info mi = {};
		__u32 ml = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(ids[i]);
		bool hit;

		if (mfd < 0)
			continue;
		hit = !bpf_obj_get_info_by_fd(mfd, &mi, &ml) &&
		      (!strcmp(mi.name, "ks_stats") || !strcmp(mi.name, "ks_sys_route") ||
		       !strcmp(mi.name, "ks_rb"));
		close(mfd);
		if (hit)
			return true;
	}
	return false;
}

/* Find, through /proc/PID/fdinfo, a process holding a program or a link to it. */
static void find_owners(struct prog_sample *ps, int n)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		char path[300], link[64], buf[512];
		DIR *fds;
		struct dirent *fe;
		int pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			ssize_t l;
			unsigned int id;
			const char *p;

			snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, fe->d_name);
			l = readlink(path, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = 0;
			if (strcmp(link, "anon_inode:bpf-prog") && strcmp(link, "anon_inode:bpf_link"))
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fe->d_name);
			if (ks_read_file(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "prog_id:")) ||
			    sscanf(p + 8, "%u", &id) != 1)
				continue;
			for (int i = 0; i < n; i++)
				if (ps[i].id == id && !ps[i].owner)
					ps[i].owner = pid;
		}
		closedir(fds);
	}
	closedir(proc);
}

/* Whether process @pid runs ksight (its programs: a user's object, ksight run --bpf). */
static bool ksight_process(int pid)
{
	char path[64], exe[4096];
	const char *base;
	ssize_t l;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	l = readlink(path, exe, sizeof(exe) - 1);
	if (l <= 0)
		return false;
	exe[l] = 0;
	base = strrchr(exe, '/');
	return !strcmp(base ? base + 1 : exe, "ksight");
}

/* Each program's hook, from the machine's links (funccount's kprobes: one program, a
 * link per function, said as the first and how many more). */
static void attach_points(struct prog_sample *ps, int n)
{
	struct ks_link_target *lt = calloc(MAX_PROGS, sizeof(*lt));
	size_t nl = lt ? ks_link_targets(lt, MAX_PROGS) : 0;

	for (int i = 0; i < n; i++) {
		unsigned int more = 0;

		ps[i].where[0] = 0;
		for (size_t j = 0; j < nl; j++) {
			if (lt[j].prog_id != ps[i].id)
				continue;
			if (!ps[i].where[0])
				snprintf(ps[i].where, sizeof(ps[i].where), "%s", lt[j].where);
			else
				more++;
		}
		if (more) {
			size_t l = strlen(ps[i].where);

			snprintf(ps[i].where + l, sizeof(ps[i].where) - l, " +%u", more);
		}
	}
	free(lt);
}

/* The programs of the machine into @out, ksight's kept. The names of a program in @known
 * (the last sample) are taken from there: an id's never change, and reading them loads
 * BTF. */
static int sample(struct prog_sample *out, int max, const struct prog_sample *known,
		  int nknown)
{
	__u32 id = 0;
	int n = 0, kept = 0;

	while (n < max && !bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {};
		const struct prog_sample *was = NULL;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			out[n].id = id;
			out[n].ks = is_ksight(fd, &info);
			for (int j = 0; j < nknown && !was; j++)
				if (known[j].id == id)
					was = &known[j];
			if (was) {
				memcpy(out[n].name, was->name, sizeof(out[n].name));
				memcpy(out[n].serves, was->serves, sizeof(out[n].serves));
			} else {
				ks_prog_full_name(fd, &info, out[n].name, sizeof(out[n].name));
				if (!out[n].ks || ks_prog_serves(fd, &info, out[n].serves,
								 sizeof(out[n].serves)))
					out[n].serves[0] = 0;
			}
			snprintf(out[n].type, sizeof(out[n].type), "%s",
				 libbpf_bpf_prog_type_str(info.type) ?: "?");
			out[n].cnt = info.run_cnt;
			out[n].ns = info.run_time_ns;
			out[n].owner = 0;
			n++;
		}
		close(fd);
	}
	find_owners(out, n);
	attach_points(out, n);
	/* ksight's own, and those a ksight process loaded for a user (run --bpf) */
	for (int i = 0; i < n; i++)
		if (out[i].ks || (out[i].owner && ksight_process(out[i].owner)))
			out[kept++] = out[i];
	return kept;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* One row per program: what it cost during the last @interval seconds. */
static void emit_row(struct ks_pipe *pipe, struct ks_clock *clock, const struct prog_sample *p,
		     __u64 runs, __u64 ns, uint64_t interval)
{
	struct ks_rec r;

	ks_rec_init(&r, "prog_stats", NULL);
	r.real_ns = ks_clock_real(clock, ks_clock_mono_now());
	ks_rec_uint(&r, "id", "ID", -7, p->id);
	ks_rec_int(&r, "pid", "PID", -8, p->owner);
	/* a YAML metric's program is named in the table by the metric it serves (every
	 * metric's is trace__tp...); JSON has both */
	ks_rec_str(&r, "prog", NULL, 0, p->name, strlen(p->name));
	if (p->serves[0])
		ks_rec_str(&r, "serves", NULL, 0, p->serves, strlen(p->serves));
	ks_rec_str(&r, NULL, "PROGRAM", -36, p->serves[0] ? p->serves : p->name,
		   strlen(p->serves[0] ? p->serves : p->name));
	ks_rec_str(&r, "prog_type", "TYPE", -10, p->type, strlen(p->type));
	ks_rec_add(&r, "runs_per_s", "RUNS/s", 12, KS_V_DOUBLE)->d = (double)runs / interval;
	ks_rec_add(&r, "ns_per_run", "NS/RUN", 10, KS_V_DOUBLE)->d = runs ? (double)ns / runs : 0;
	ks_rec_uint(&r, "runs", "RUNS", 14, p->cnt);
	/* in JSON only when known; a table's column says "-" */
	if (p->where[0])
		ks_rec_str(&r, "attached", NULL, 0, p->where, strlen(p->where));
	ks_rec_str(&r, NULL, "ATTACHED", -1, p->where[0] ? p->where : "-",
		   p->where[0] ? strlen(p->where) : 1);
	ks_pipe__emit(pipe, &r);
}

static int live(const struct ks_common *o)
{
	uint64_t interval = o->interval ? o->interval : 1, count = o->count;
	struct prog_sample *prev = calloc(MAX_PROGS, sizeof(*prev));
	struct prog_sample *cur = calloc(MAX_PROGS, sizeof(*cur));
	struct sigaction sa = { .sa_handler = on_signal };
	struct ks_pipe pipe = { 0 };
	struct ks_clock clock;
	int stats_fd = -1, np, nc, rc = 1;

	ks_clock_init(&clock);
	if (!prev || !cur)
		goto cleanup;
	if (ks_pipe__open(&pipe, o->outputs.v, o->outputs.n, o->json, false, false, &clock,
			  "status"))
		goto cleanup;
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "ksight status: cannot enable BPF run-time statistics: %s\n",
			strerror(errno));
		goto cleanup;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	np = sample(prev, MAX_PROGS, NULL, 0);
	fprintf(stderr, "ksight status: %d ksight programs loaded; statistics on until Ctrl-C\n",
		np);
	/* the kernel counts a tail call's time in the program that made it */
	fprintf(stderr, "ksight status: module handlers (<module>__sys_*) run as tail calls of "
		"core__sys_exit_*: their runs and time are in its row\n");
	for (uint64_t round = 0; !stop && (!count || round < count); round++) {
		struct timespec ts = { .tv_sec = interval };

		while (nanosleep(&ts, &ts) && !stop)
			;
		nc = sample(cur, MAX_PROGS, prev, np);
		ks_pipe__mark(&pipe, ks_clock_real(&clock, ks_clock_mono_now()));
		for (int i = 0; i < nc; i++) {
			__u64 dc = cur[i].cnt, dn = cur[i].ns;

			for (int j = 0; j < np; j++)
				if (prev[j].id == cur[i].id) {
					dc -= prev[j].cnt;
					dn -= prev[j].ns;
				}
			emit_row(&pipe, &clock, &cur[i], dc, dn, interval);
		}
		if (ks_pipe__flush(&pipe, "status", stderr) == -EPIPE)
			break;
		memcpy(prev, cur, nc * sizeof(*cur));
		np = nc;
	}
	rc = ks_pipe__close(&pipe, "status", stderr) ? 1 : 0;
cleanup:
	if (stats_fd >= 0)
		close(stats_fd);
	ks_pipe__free(&pipe);
	free(prev);
	free(cur);
	return rc;
}

int cmd_status(int argc, char **argv)
{
	const struct ks_module *mods[KS_MOD_MAX];
	void *states[KS_MOD_MAX];
	struct status_opts so = {};
	struct ks_common common;
	const struct ks_opt_table tables[] = { { status_opts, &so }, { ks_common_opts, &common } };
	const char *pos[KS_OPTS_MAX_POS];
	char err[KS_ERR_LEN];
	struct ks_ctx *ctx;
	int n = 0, npos, rc;

	ks_common_defaults(&common);
	rc = ks_opts_parse(tables, 2, argc, argv, pos, KS_OPTS_MAX_POS, &npos, err, sizeof(err));
	if (rc == 1) {
		ks_print_help("ksight status [--live] [OPTIONS] [INTERVAL [COUNT]]",
			      "Show what this kernel allows and which hooks ksight uses", usage,
			      tables, 2);
		return 0;
	}
	if (!rc && !so.live && common.outputs.n) {
		/* the hooks report is text for a person; only --live makes records (said before
		 * the checks, which would create the files) */
		fprintf(stderr, "ksight status: -o applies to --live only\n");
		return 2;
	}
	if (rc < 0 || ks_common_check(&common, pos, npos, so.live, err, sizeof(err))) {
		fprintf(stderr, "ksight status: %s\n", err);
		return 2;
	}
	if (ks_require_kernel("status"))
		return 1;
	ks_log_init(common.verbose);
	if (so.live)
		return live(&common);
	for (int i = 0; ks_modules[i]; i++) {
		const struct ks_module *m = ks_modules[i];

		states[n] = calloc(1, m->state_size ? m->state_size : 1);
		if (!states[n])
			break;
		if (m->defaults)
			memcpy(states[n], m->defaults, m->state_size);
		mods[n++] = m;
	}
	ctx = ks_ctx__new(KS_MODE_STATUS, &common, mods, states, n, "status");
	rc = ctx ? ks_ctx__select(ctx) : -ENOMEM;
	/* load each module's object as the agent would, attaching nothing: what the kernel's
	 * verifier refuses is named here, not only what the probes foresee */
	if (ctx && !rc && !so.no_verify)
		ks_ctx__verify(ctx);
	if (ctx)
		ks_ctx__print_hooks(ctx, stdout);
	ks_ctx__free(ctx);
	ks_families_print(NULL, stdout);
	for (int i = 0; i < n; i++)
		free(states[i]);
	return rc == -ENOMEM ? 1 : 0;
}
