// SPDX-License-Identifier: GPL-2.0
/* `ksight <module>`: one module as an ad-hoc tool (or one of its variants' commands). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common_opts.h"
#include "core/log.h"
#include "core/session.h"

int cmd_tool(const struct ks_module *m, const struct ks_variant *v, int argc, char **argv)
{
	const char *name = v ? v->name : m->name;
	struct ks_common common;
	void *state = calloc(1, m->state_size ? m->state_size : 1);
	const struct ks_opt_table tables[] = { { m->opts, state }, { ks_common_opts, &common } };
	const char *pos[KS_OPTS_MAX_POS];
	char err[KS_ERR_LEN], synopsis[96], note[768];	/* a note names features, reasons */
	struct ks_ctx *ctx = NULL;
	int npos, rc;

	if (!state) {
		fprintf(stderr, "ksight %s: out of memory\n", name);
		return 1;
	}
	if (m->defaults)
		memcpy(state, m->defaults, m->state_size);
	if (v)
		*(int *)((char *)state + m->mode_off) = v->mode;
	ks_common_defaults(&common);
	rc = ks_opts_parse(tables, 2, argc, argv, pos, KS_OPTS_MAX_POS, &npos, err, sizeof(err));
	if (rc == 1) {
		snprintf(synopsis, sizeof(synopsis), "ksight %s [OPTIONS]%s", name,
			 m->args ? (m->args_usage ? m->args_usage : " PATTERN...") : m->positional ? " [INTERVAL [COUNT]]" : "");
		ks_print_help(synopsis, v ? v->brief : m->brief, v ? v->usage : m->usage, tables, 2);
		free(state);
		return 0;
	}
	if (rc < 0 || ks_common_check(&common, pos, m->args ? 0 : npos, m->positional, err,
				      sizeof(err)) ||
	    (m->args && m->args(state, &common, pos, npos, err, sizeof(err))) ||
	    (m->configure && m->configure(state, &common, err, sizeof(err)))) {
		fprintf(stderr, "ksight %s: %s\n", name, err);
		/* what a module's args took (its patterns' expansions) goes with it */
		if (m->args && m->fini)
			m->fini(state);
		free(state);
		return 2;
	}
	if (ks_require_kernel(name)) {
		free(state);
		return 1;
	}
	if (m->kernel_check && (rc = m->kernel_check(state, note, sizeof(note)))) {
		fprintf(stderr, "ksight %s: %s\n", name, note);
		if (rc < 0) {
			if (m->fini)
				m->fini(state);
			free(state);
			return 1;
		}
	}
	ks_log_init(common.verbose);
	ctx = ks_ctx__new(KS_MODE_TOOL, &common, &m, &state, 1, name);
	if (!ctx) {
		fprintf(stderr, "ksight %s: cannot set up: %s\n", name, strerror(errno));
		free(state);
		return 1;
	}
	rc = ks_ctx__start(ctx) ? 1 : 0;
	if (!rc && ks_ctx__run(ctx))
		rc = 1;
	ks_ctx__free(ctx);
	free(state);
	return rc;
}
