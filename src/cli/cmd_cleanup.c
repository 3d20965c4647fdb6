// SPDX-License-Identifier: GPL-2.0
/*
 * `ksight cleanup`: remove what killed ksight processes left in the kernel (legacy TC
 * filters, a clsact qdisc made for them, tracefs probe events), as their journals record
 * it (core/legacy.h). Every session start does the same quietly.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/common_opts.h"
#include "core/legacy.h"
#include "core/opts.h"

struct cleanup_opts {
	bool dry_run;
};

static const struct ks_opt cleanup_opts[] = {
	{ "dry-run", 'n', KS_OPT_FLAG, offsetof(struct cleanup_opts, dry_run), NULL,
	  "say what would be removed, change nothing" },
	{ 0 },
};

static const char usage[] =
	"  ksight cleanup --dry-run     # what killed ksight processes left behind\n"
	"  ksight cleanup               # remove it\n"
	"\n"
	"Everything ksight attaches goes when it exits, even by SIGKILL, except legacy TC\n"
	"filters (kernels without tcx links), a clsact qdisc ksight made for them, and tracefs\n"
	"probe events (kernels without the uprobe or kprobe PMU). Each of those is recorded in\n"
	KS_LEGACY_DIR "/owner-PID, tagged with that pid, before it is made. This removes what\n"
	"the records of ksight processes that are no longer running list, if it is still there\n"
	"as recorded, and nothing else: not other tools' filters, not a qdisc that existed\n"
	"before, not what a running ksight owns. Every ksight command does this when it starts.\n";

int cmd_cleanup(int argc, char **argv)
{
	struct cleanup_opts co = {};
	const struct ks_opt_table tables[] = { { cleanup_opts, &co } };
	const char *pos[KS_OPTS_MAX_POS];
	char err[KS_ERR_LEN];
	struct ks_sweep r;
	int npos, rc;

	rc = ks_opts_parse(tables, 1, argc, argv, pos, KS_OPTS_MAX_POS, &npos, err, sizeof(err));
	if (rc == 1) {
		ks_print_help("ksight cleanup [--dry-run]",
			      "Remove what a killed ksight left attached in the kernel", usage, tables,
			      1);
		return 0;
	}
	if (rc < 0 || npos) {
		fprintf(stderr, "ksight cleanup: %s\n",
			rc < 0 ? err : "takes no arguments (ksight cleanup --help)");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "ksight cleanup: needs root (it removes TC filters and tracefs "
				"events)\n");
		return 1;
	}
	if ((rc = ks_legacy_sweep(co.dry_run, stdout, &r))) {
		fprintf(stderr, "ksight cleanup: cannot read " KS_LEGACY_DIR ": %s\n",
			strerror(-rc));
		return 1;
	}
	printf("%d %s, %d already gone, %d failed; %d running ksight%s left alone\n", r.removed,
	       co.dry_run ? "to remove" : "removed", r.gone, r.failed, r.live,
	       r.live == 1 ? "" : "s");
	return r.failed ? 1 : 0;
}
