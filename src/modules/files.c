// SPDX-License-Identifier: GPL-2.0
/*
 * files: file lifecycle and content changes with process and path: create, unlink, rename,
 * link, symlink, mkdir, rmdir, chmod, chown, truncate, the first write through each open
 * file and its byte count at close. With --summary, bytes and calls read and written per
 * process and file, counted in the kernel (filetop), nothing streamed.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/module.h"
#include "files.skel.h"
#include "modules/files_fmt.h"
#include "modules/files_int.h"
#include "modules/files_tab.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static const struct files_state defaults = { .sort = -1 };

static const char *const sort_choices[] = { "all", "reads", "writes", "rbytes", "wbytes", NULL };

static const struct ks_opt files_opts[] = {
	{ "failed", 'x', KS_OPT_FLAG, offsetof(struct files_state, failed), NULL,
	  "also show calls that failed, with their errno" },
	{ "no-writes", 0, KS_OPT_FLAG, offsetof(struct files_state, no_writes), NULL,
	  "leave writes and closes out (their syscalls are then not traced)" },
	{ "summary", 's', KS_OPT_FLAG, offsetof(struct files_state, summary), NULL,
	  "count reads and writes per process and file in the kernel; print the top" },
	{ "top", 0, KS_OPT_UINT, offsetof(struct files_state, top), "N",
	  "rows per report with --summary (default 20)", 1, 100000 },
	{ "sort", 0, KS_OPT_CHOICE, offsetof(struct files_state, sort), "KEY",
	  "--summary order: all (bytes), reads, writes, rbytes, wbytes", 0, 0, sort_choices },
	{ "all-files", 'a', KS_OPT_FLAG, offsetof(struct files_state, all_files), NULL,
	  "--summary: sockets, pipes and devices too, not only regular files" },
	{ 0 },
};

static const int sys_names_[] = { SYS_creat,  SYS_open,	 SYS_openat, SYS_openat2,
				  SYS_mknod,  SYS_mknodat, SYS_unlink, SYS_unlinkat,
				  SYS_rmdir,  SYS_mkdir,	 SYS_mkdirat, -1 };
static const int sys_moves[] = { SYS_rename,  SYS_renameat, SYS_renameat2, SYS_link,
				 SYS_linkat,  SYS_symlink,  SYS_symlinkat, -1 };
static const int sys_attrs[] = { SYS_chmod,  SYS_fchmod,  SYS_fchmodat, SYS_chown,
				 SYS_fchown, SYS_lchown,  SYS_fchownat, SYS_truncate,
				 SYS_ftruncate, -1 };
static const int sys_writes[] = { SYS_write,  SYS_pwrite64,    SYS_writev, SYS_pwritev,
				  SYS_pwritev2, SYS_close, SYS_close_range, SYS_dup2,
				  SYS_dup3,	-1 };
static const int sys_fchmodat2[] = { SYS_fchmodat2, -1 };
static const int sys_reads[] = { SYS_read, SYS_pread64, SYS_readv, SYS_preadv, SYS_preadv2, -1 };

#define FX(sys) { "files__" #sys "_fexit", "__x64_sys_" #sys }

enum { SLOT_NAMES, SLOT_MOVES, SLOT_ATTRS, SLOT_FCHMODAT2, SLOT_WRITES, SLOT_READS, SLOT_LIFE };

static const struct ks_slot files_slots[] = {
	[SLOT_NAMES] = { .name = "see creates, removals", .alts = {
		{ KS_FAM_FENTRY, { FX(creat), FX(open), FX(openat), FX(openat2), FX(mknod),
				   FX(mknodat), FX(unlink), FX(unlinkat), FX(rmdir), FX(mkdir),
				   FX(mkdirat) } },
		{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, sys_names_ } } },
	[SLOT_MOVES] = { .name = "see renames, links", .alts = {
		{ KS_FAM_FENTRY, { FX(rename), FX(renameat), FX(renameat2), FX(link), FX(linkat),
				   FX(symlink), FX(symlinkat) } },
		{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, sys_moves } } },
	[SLOT_ATTRS] = { .name = "see mode, owner, size", .alts = {
		{ KS_FAM_FENTRY, { FX(chmod), FX(fchmod), FX(fchmodat), FX(chown), FX(fchown),
				   FX(lchown), FX(fchownat), FX(truncate), FX(ftruncate) } },
		{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, sys_attrs } } },
	/* a slot of its own: wanted only where the syscall exists (6.6), so that older
	 * kernels do not attach the dispatcher for a call they do not have */
	[SLOT_FCHMODAT2] = { .name = "see fchmodat2", .alts = {
		{ KS_FAM_FENTRY, { FX(fchmodat2) } },
		{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, sys_fchmodat2 } } },
	[SLOT_WRITES] = { .name = "see writes, closes", .alts = {
		{ KS_FAM_FENTRY, { FX(write), FX(pwrite64), FX(writev), FX(pwritev),
				   FX(pwritev2), FX(close), FX(close_range), FX(dup2), FX(dup3) } },
		{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, sys_writes } } },
	[SLOT_READS] = { .name = "see reads (--summary)", .alts = {
		{ KS_FAM_FENTRY, { FX(read), FX(pread64), FX(readv), FX(preadv), FX(preadv2) } },
		{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, sys_reads } } },
	[SLOT_LIFE] = { .name = "see exec, exit", .alts = {
		{ KS_FAM_TP_BTF, { { "files__exec_btf", "sched_process_exec" },
				   { "files__exit_btf", "sched_process_exit" } } },
		{ KS_FAM_RAW_TP, { { "files__exec_raw", "sched_process_exec" },
				   { "files__exit_raw", "sched_process_exit" } } },
		{ KS_FAM_TP, { { "files__exec_tp", "sched/sched_process_exec" },
			       { "files__exit_tp", "sched/sched_process_exit" } } } } },
	{ 0 },
};

static const struct ks_evtype files_types[] = {
	{ FILES_EV_CHANGE, "files" },
	{ FILES_EV_CLOSE, "files_close" },
	{ FILES_EV_TRACK, "files_track", true },
	{ FILES_EV_TOP, "files_top", true },
	{ 0 },
};

static int files_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	const struct files_state *st = state;

	if (st->summary && (st->failed || st->no_writes)) {
		snprintf(err, len, "%s does not apply with --summary",
			 st->failed ? "-x" : "--no-writes");
		return -1;
	}
	if (!st->summary && (st->top || st->sort >= 0 || st->all_files)) {
		snprintf(err, len, "%s only applies with --summary",
			 st->top ? "--top" : st->sort >= 0 ? "--sort" : "-a");
		return -1;
	}
	if (common->interval && !st->summary) {
		snprintf(err, len, "an interval only makes sense with --summary (use --duration)");
		return -1;
	}
	return 0;
}

static bool files_want_slot(const void *state, const struct ks_slot *slot)
{
	const struct files_state *st = state;
	long s = slot - files_slots;

	if (st->summary)
		return s == SLOT_WRITES || s == SLOT_READS;
	if (s == SLOT_FCHMODAT2)
		return syscall(SYS_fchmodat2, -1, "", 0, 0) == 0 || errno != ENOSYS;
	if (st->no_writes && (s == SLOT_WRITES || s == SLOT_LIFE))
		return false;
	/* the exec/exit sweeps loop with bpf_loop() (5.17): without it, no such closes */
	if (s == SLOT_LIFE)
		return libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, NULL) > 0;
	return s != SLOT_READS;
}

static int files_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct files_bpf *skel = vskel;
	struct files_state *st = state;

	skel->rodata->files_failed = st->failed;
	skel->rodata->files_summary = st->summary;
	skel->rodata->files_all = st->all_files;
	/* --summary deletes idle entries: an add racing with a delete must land in the dead
	 * element (freed after RCU), never in one reused at once for another key */
	if (st->summary)
		bpf_map__set_map_flags(skel->maps.files_top, BPF_F_NO_PREALLOC);
	else
		bpf_map__set_max_entries(skel->maps.files_top, 1);
	if (st->summary || st->no_writes) {
		bpf_map__set_max_entries(skel->maps.files_wr, 1);
		bpf_map__set_max_entries(skel->maps.files_procs, 1);
	}
	if (!(st->fds = ks_ctx_fdtab(ctx)))
		return -ENOMEM;
	if (!st->topd && !(st->topd = files_topd__new()))
		return -ENOMEM;
	return 0;
}

static const struct ks_metric_desc files_ops_desc = {
	.name = "ksight_files_changes_total",
	.help = "File changes seen, per operation (create, rename, chmod, ..., close)",
	.type = KS_METRIC_COUNTER,
	.labels = { "op" },
};

static const struct ks_metric_desc files_paths_desc = {
	.name = "ksight_files_path_changes_total",
	.help = "File changes per path (a long path: its last 44 bytes after \"...\")",
	.type = KS_METRIC_COUNTER,
	.labels = { "path" },
	.budget = 512,
	.idle = 60,	/* intervals: paths gone quiet make room for new ones */
};

static int files_init(struct ks_ctx *ctx, void *state)
{
	struct files_state *st = state;

	st->m_ops = ks_ctx_metric(ctx, &files_ops_desc);
	st->m_paths = ks_ctx_metric(ctx, &files_paths_desc);
	if (!st->m_ops || !st->m_paths)
		return -errno;
	for (int i = 0; i <= FILES_OP_N; i++)
		st->s_ops[i] = ks_metric_get(st->m_ops,
					     i < FILES_OP_N ? files_op_name(i) : "close");
	return 0;
}

static void files_event(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	files_on_event(ctx, state, h, size);
}

static void files_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct files_bpf *skel = vskel;
	struct files_state *st = state;

	if (st->summary)
		files_top_report(ctx, st, skel);
}

static void files_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct files_state *st = state;
	struct ks_val top[5];
	struct ks_obj o;
	struct ks_rec r;

	ks_rec_summary(&r, "files");
	ks_rec_rate(&r, "changes_per_s", "changes", ks_metric_delta(st->m_ops), secs);
	for (int i = 0; i <= FILES_OP_N; i++) {
		uint64_t d = ks_counter_delta(st->s_ops[i]);
		const char *name = st->s_ops[i]->overflow ? NULL : st->s_ops[i]->label[0];

		if (d && name)
			ks_rec_add(&r, name, name, 0, KS_V_COUNT)->u = d;
	}
	ks_rec_top(&r, "top", "top:", &o, top, 5, st->m_paths, 0);
	ks_emit(ctx, &r);
}

static void files_fini(void *state)
{
	struct files_state *st = state;

	files_topd__free(st->topd);
	st->fds = NULL;	/* the session's */
	st->topd = NULL;
}

KS_BPF_OBJECT(files);

const struct ks_module files_module = {
	.name = "files",
	.id = KS_MOD_files,
	.bpf = &files_bpf_obj,
	.brief = "file changes: create, unlink, rename, link, mkdir, chmod, chown, truncate, writes",
	.usage = "  ksight files                # every file change, system-wide\n"
		 "  ksight files -p 1234 -x     # changes by process 1234, failed calls too\n"
		 "  ksight files --no-writes    # names and attributes only (cheaper)\n"
		 "  ksight files -s 5           # top files by bytes read+written, every 5 s\n"
		 "  ksight files -s --sort wbytes --top 10 -a   # writers, sockets too\n",
	.opts = files_opts,
	.state_size = sizeof(struct files_state),
	.defaults = &defaults,
	.positional = true,
	.slots = files_slots,
	.types = files_types,
	.configure = files_configure,
	.want_slot = files_want_slot,
	.init = files_init,
	.setup = files_setup,
	.event = files_event,
	.report = files_report,
	.summary = files_summary,
	.fini = files_fini,
};
