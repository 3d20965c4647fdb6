// SPDX-License-Identifier: GPL-2.0
/* ksight: one binary, one subcommand per tool, plus the agent and status. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/registry.h"
#include "core/worker.h"

#define KSIGHT_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f, "Usage: ksight COMMAND [OPTIONS]\n"
		   "Observe a running Linux machine with eBPF: low overhead, every loss counted.\n\n"
		   "Tools:\n");
	for (int i = 0; ks_modules[i]; i++) {
		fprintf(f, "  %-10s %s\n", ks_modules[i]->name, ks_modules[i]->brief);
		for (const struct ks_variant *v = ks_modules[i]->variants; v && v->name; v++)
			fprintf(f, "  %-10s %s [%s]\n", v->name, v->brief, ks_modules[i]->name);
	}
	fprintf(f, "\nAgent and kernel:\n"
		   "  %-10s %s\n  %-10s %s\n  %-10s %s\n  %-10s %s\n  %-10s %s\n  %-10s %s\n\n"
		   "Every command takes --help. Examples:\n"
		   "  ksight open -p 1234 -x      # failed opens of one process\n"
		   "  ksight exec --json          # every exec as JSON lines\n"
		   "  ksight exec -o table -o json:/tmp/e.jsonl  # the table, and JSON to a file\n"
		   "  ksight biolat -D 1 5        # disk latency per disk, every second\n"
		   "  ksight run                  # everything, a summary every 10 s\n"
		   "  ksight query execs --since 10m  # what the agent saw start\n"
		   "  ksight map --since 1h --diff 10m  # new and changed service dependencies\n",
		"run", "the agent: every module at once, a summary each interval",
		"query", "the agent's history (its store): execs, connections, metric rollups",
		"map", "the service dependency map from the store: --json, --dot, --mermaid, --diff",
		"status", "kernel features, the hooks each module uses, live program costs",
		"cleanup", "remove what a killed ksight left attached (legacy TC filters, ...)",
		"tplist", "what can be traced: tracepoints, their fields, functions, USDT probes");
}

int main(int argc, char **argv)
{
	const struct ks_variant *v;
	const struct ks_module *m;
	const char *cmd = argc > 1 ? argv[1] : NULL;

	char err[128];

	if (!cmd) {
		usage(stderr);
		return 2;
	}
	if (ks_worker_test_delay(&(unsigned int){ 0 }, err, sizeof(err))) {
		fprintf(stderr, "ksight: %s\n", err);
		return 2;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("ksight %s\n", KSIGHT_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc - 2, argv + 2);
	if (!strcmp(cmd, "cleanup"))
		return cmd_cleanup(argc - 2, argv + 2);
	if (!strcmp(cmd, "tplist"))
		return cmd_tplist(argc - 2, argv + 2);
	if (!strcmp(cmd, "query"))
		return cmd_query(argc - 2, argv + 2);
	if (!strcmp(cmd, "map"))
		return cmd_map(argc - 2, argv + 2);
	m = ks_module_find(cmd, &v);
	if (m)
		return cmd_tool(m, v, argc - 2, argv + 2);
	fprintf(stderr, "ksight: unknown command '%.60s' (ksight --help lists them)\n", cmd);
	return 2;
}
