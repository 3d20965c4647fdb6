// SPDX-License-Identifier: GPL-2.0
/* `ksight run`: the agent, every module in one process on one ring buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common_opts.h"
#include "cli/registry.h"
#include "core/log.h"
#include "core/session.h"

static const char usage[] =
	"  ksight run                  # every module, a summary every 10 s\n"
	"  ksight run 2                # a summary every 2 s\n"
	"  ksight run --json           # stream every record as JSON, summaries included\n"
	"  ksight run -p 1234          # everything one process does\n"
	"  ksight run -o table -o json,event:/var/log/ksight.jsonl\n"
	"                              # summaries on screen, every event to a file\n";

int cmd_run(int argc, char **argv)
{
	const struct ks_module *mods[KS_MOD_MAX];
	void *states[KS_MOD_MAX];
	struct ks_common common;
	const struct ks_opt_table tables[] = { { ks_common_opts, &common } };
	const char *pos[KS_OPTS_MAX_POS];
	char err[KS_ERR_LEN];
	struct ks_ctx *ctx;
	int n = 0, npos, rc;

	ks_common_defaults(&common);
	rc = ks_opts_parse(tables, 1, argc, argv, pos, KS_OPTS_MAX_POS, &npos, err, sizeof(err));
	if (rc == 1) {
		ks_print_help("ksight run [OPTIONS] [INTERVAL [COUNT]]",
			      "Run every module at once and print a summary each interval", usage,
			      tables, 1);
		return 0;
	}
	if (rc < 0 || ks_common_check(&common, pos, npos, true, err, sizeof(err))) {
		fprintf(stderr, "ksight run: %s\n", err);
		return 2;
	}
	if (!common.interval)
		common.interval = 10;
	if (ks_require_kernel("run"))
		return 1;
	for (int i = 0; ks_modules[i]; i++) {
		const struct ks_module *m = ks_modules[i];

		states[n] = calloc(1, m->state_size ? m->state_size : 1);
		if (!states[n])
			goto oom;
		if (m->defaults)
			memcpy(states[n], m->defaults, m->state_size);
		mods[n++] = m;
	}
	ks_log_init(common.verbose);
	ctx = ks_ctx__new(KS_MODE_AGENT, &common, mods, states, n, "run");
	if (!ctx) {
		fprintf(stderr, "ksight run: cannot set up: %s\n", strerror(errno));
		rc = 1;
		goto done;
	}
	rc = ks_ctx__start(ctx) ? 1 : 0;
	if (!rc && ks_ctx__run(ctx))
		rc = 1;
	ks_ctx__free(ctx);
done:
	for (int i = 0; i < n; i++)
		free(states[i]);
	return rc;
oom:
	fprintf(stderr, "ksight run: out of memory\n");
	for (int i = 0; i < n; i++)
		free(states[i]);
	return 1;
}
