// SPDX-License-Identifier: GPL-2.0
/* `ksight run`: the agent, the chosen modules (every one by default) in one process on one
 * ring buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common_opts.h"
#include "cli/registry.h"
#include "cli/run_config.h"
#include "cli/run_pick.h"
#include "core/log.h"
#include "core/session.h"
#include "core/status_json.h"
#include "core/userbpf.h"
#include "sink/http_api.h"
#include "sink/otlp.h"
#include "sink/map_api.h"
#include "modules/metrics.h"
#include "sink/prom.h"
#include "sink/prom_text.h"
#include "sink/store.h"

static const char usage[] =
	"  ksight run                        # every module but the opt-in ones, every 10 s\n"
	"  ksight run 2                      # a summary every 2 s\n"
	"  ksight run --modules exec,biolat  # only these modules\n"
	"  ksight run --no-rw --no-files     # every module but rw and files\n"
	"  ksight run --modules exec,sched,mem,runqlat  # exec and three opt-in modules\n"
	"  ksight run --json                 # every record as JSON lines, summaries included\n"
	"  ksight run -p 1234                # everything one process does\n"
	"  ksight run -o table -o json,event:/var/log/ksight.jsonl\n"
	"                                    # summaries on screen, every event to a file\n"
	"  ksight run --listen 0.0.0.0:9464  # serve /metrics to other machines too\n"
	"  ksight run --listen none          # no /metrics endpoint\n"
	"  curl -N 'http://127.0.0.1:9464/api/events?type=exec,alert'\n"
	"                                    # execs and alerts as they happen (docs/api.md)\n"
	"  ksight run --token-file /etc/ksight/token  # /metrics and /api/* need the token\n"
	"  ksight run --bpf-stats            # also what each BPF program costs, on /metrics\n"
	"  ksight run --bpf tcp_retrans_port.bpf.o   # also your own BPF object, its maps\n"
	"                                    # on /metrics (docs/userbpf.md, examples/)\n"
	"  ksight run --bpf prog.bpf.o:prog.manifest # ... renamed by a manifest\n"
	"  ksight run --metrics my.yaml      # counters and histograms declared in YAML\n"
	"                                    # (tracepoints, raw:, kfunc:, uprobes, USDT)\n"
	"  ksight run --store /srv/k.db --retention 2d --store-max-mb 100\n"
	"                                    # history elsewhere, 2 days, at most 100 MB\n"
	"  ksight run --no-store             # no history (ksight query has nothing new)\n"
	"  ksight run --config /etc/ksight/run.yaml   # options from a file (docs/run.md)\n"
	"  ksight run --print-config > run.yaml      # every option and its value, as YAML\n"
	"  ksight run --otlp http://127.0.0.1:4318/v1/metrics\n"
	"                                    # also push the metrics to an OTLP receiver\n"
	"  ksight run --idle 2m              # /api/map: edges idle for 2 minutes drop out\n"
	"  ksight run --host-label web-3     # host=\"web-3\" on every series: one Prometheus,\n"
	"                                    # many hosts (ksight map --prometheus URL)\n"
	"Here rw counts reads and writes in the kernel (as rw --summary); ksight rw streams "
	"them.\nPrometheus: http://" KS_PROM_LISTEN_DEFAULT "/metrics by default, updated at "
	"the end of each interval.\nStore: " KS_STORE_DEFAULT " (or $" KS_STORE_ENV "), 0600, "
	"7 days and 256 MB by default; read it with ksight query.\n";

struct run_opts {
	const char *modules;	/* --modules LIST, NULL: all */
	const char *listen;	/* --listen ADDR|none, NULL: the default */
	const char *token_file;	/* --token-file FILE */
	bool bpf_stats;		/* --bpf-stats */
	uint64_t stats_every;	/* --bpf-stats-every N, 0: not given */
	struct ks_strs bpf;	/* --bpf OBJ[:MANIFEST], repeatable */
	const char *metrics;	/* --metrics FILE */
	const char *store;	/* --store PATH|none, NULL: the default */
	bool no_store;		/* --no-store */
	const char *retention;	/* --retention DUR */
	uint64_t store_max_mb;	/* --store-max-mb */
	const char *otlp;	/* --otlp URL */
	int otlp_encoding;	/* --otlp-encoding: 0 json, 1 protobuf */
	const char *config;	/* --config FILE (read by run_config.c) */
	bool print_config;	/* --print-config */
	const char *idle;	/* --idle DUR: the live map's window */
	const char *host_label;	/* --host-label NAME */
	bool no[KS_MOD_MAX];	/* --no-MODULE, by registry index */
};

/* --modules, --listen, --bpf-stats, --bpf, then one --no-MODULE per module of the registry. */
static const struct ks_opt *run_table(void)
{
	/* the 17 options below, a --no-MODULE per module, the end */
	static struct ks_opt t[KS_MOD_MAX + 18];
	static const char *const encodings[] = { "json", "protobuf", NULL };
	static char names[KS_MOD_MAX][32], helps[KS_MOD_MAX][48], modules_help[512];
	int k = 0, n;

	/* the opt-in modules by name, from the registry (a list written here went stale) */
	n = snprintf(modules_help, sizeof(modules_help), "only these modules, comma-separated "
		     "(default: all but the opt-in ones, which run only when named:");
	for (int i = 0; ks_modules[i] && i < KS_MOD_MAX; i++)
		if (ks_modules[i]->agent_optin && !ks_modules[i]->tool_only &&
		    n < (int)sizeof(modules_help))
			n += snprintf(modules_help + n, sizeof(modules_help) - n, " %s",
				      ks_modules[i]->name);
	if (n < (int)sizeof(modules_help))
		snprintf(modules_help + n, sizeof(modules_help) - n, ")");
	t[k++] = (struct ks_opt){ "modules", 0, KS_OPT_STR, offsetof(struct run_opts, modules),
				  "LIST", modules_help };
	t[k++] = (struct ks_opt){ "listen", 0, KS_OPT_STR, offsetof(struct run_opts, listen),
				  "ADDR", "serve Prometheus /metrics on HOST:PORT, or none "
				  "(default: " KS_PROM_LISTEN_DEFAULT ")" };
	t[k++] = (struct ks_opt){ "token-file", 0, KS_OPT_STR,
				  offsetof(struct run_opts, token_file), "FILE",
				  "/metrics and /api/* answer only requests with the header "
				  "Authorization: Bearer TOKEN, TOKEN read from FILE (/healthz stays "
				  "open)" };
	t[k++] = (struct ks_opt){ "bpf-stats", 0, KS_OPT_FLAG, offsetof(struct run_opts, bpf_stats),
				  NULL, "each BPF program's runs and run time on /metrics (the "
				  "kernel's statistics on all the time: about two clock reads per "
				  "run of every BPF program of the machine)" };
	t[k++] = (struct ks_opt){ "bpf-stats-every", 0, KS_OPT_UINT,
				  offsetof(struct run_opts, stats_every), "N",
				  "the kernel's statistics on for one interval in N only, the first "
				  "included (default 10 with --bpf or --metrics; 1: always)", 1, 1000000 };
	t[k++] = (struct ks_opt){ "bpf", 0, KS_OPT_STRS, offsetof(struct run_opts, bpf),
				  "OBJ[:MANIFEST]", "also load this compiled CO-RE BPF object, attach "
				  "its programs by section and export its maps on /metrics "
				  "(repeatable; what its programs cost is sampled: --bpf-stats-every; "
				  "docs/userbpf.md)" };
	t[k++] = (struct ks_opt){ "metrics", 0, KS_OPT_STR, offsetof(struct run_opts, metrics),
				  "FILE", "also these metrics, declared in YAML: counters and histograms "
				  "of tracepoints (raw: too), kernel functions, uprobes and USDT probes "
				  "(docs/metrics.md)" };
	t[k++] = (struct ks_opt){ "store", 0, KS_OPT_STR, offsetof(struct run_opts, store),
				  "PATH", "keep history in this SQLite file, or none (default: $"
				  KS_STORE_ENV ", else " KS_STORE_DEFAULT ")", 0, 4000 };
	t[k++] = (struct ks_opt){ "no-store", 0, KS_OPT_FLAG, offsetof(struct run_opts, no_store),
				  NULL, "keep no history (as --store none)" };
	t[k++] = (struct ks_opt){ "retention", 0, KS_OPT_STR, offsetof(struct run_opts, retention),
				  "DUR", "delete history older than DUR: 90m, 36h, 7d, 2w (default 7d)" };
	t[k++] = (struct ks_opt){ "store-max-mb", 0, KS_OPT_UINT,
				  offsetof(struct run_opts, store_max_mb), "MB",
				  "keep the store under MB megabytes, oldest rows first (default 256)",
				  1, 1 << 20 };
	t[k++] = (struct ks_opt){ "otlp", 0, KS_OPT_STR, offsetof(struct run_opts, otlp), "URL",
				  "also POST the metrics each interval to this OTLP/HTTP receiver "
				  "(http://HOST:PORT/v1/metrics; docs/otlp.md)", 0, 1024 };
	t[k++] = (struct ks_opt){ "otlp-encoding", 0, KS_OPT_CHOICE,
				  offsetof(struct run_opts, otlp_encoding), "ENC",
				  "--otlp's encoding: json or protobuf (default json)", 0, 0,
				  encodings };
	t[k++] = (struct ks_opt){ "config", 0, KS_OPT_STR, offsetof(struct run_opts, config),
				  "FILE", "read options from this YAML file (keys: the long options "
				  "here; the command line wins)", 0, 4096 };
	t[k++] = (struct ks_opt){ "print-config", 0, KS_OPT_FLAG,
				  offsetof(struct run_opts, print_config), NULL,
				  "print the effective configuration as YAML and exit" };
	t[k++] = (struct ks_opt){ "idle", 0, KS_OPT_STR, offsetof(struct run_opts, idle), "DUR",
				  "/api/map: edges with no session closed for DUR drop out "
				  "(default 10m; docs/map.md)" };
	t[k++] = (struct ks_opt){ "host-label", 0, KS_OPT_STR,
				  offsetof(struct run_opts, host_label), "NAME",
				  "a host=\"NAME\" label on every series of /metrics (and NAME as "
				  "OTLP's host.name): one Prometheus for many agents (docs/map.md, "
				  "fleet)", 0, 128 };
	for (int i = 0; ks_modules[i] && i < KS_MOD_MAX; i++) {
		if (ks_modules[i]->tool_only)
			continue;
		snprintf(names[i], sizeof(names[i]), "no-%s", ks_modules[i]->name);
		snprintf(helps[i], sizeof(helps[i]), ks_modules[i]->agent_optin ?
			 "leave %s out (opt-in: out unless named)" : "leave %s out",
			 ks_modules[i]->name);
		t[k++] = (struct ks_opt){ names[i], 0, KS_OPT_FLAG,
					  offsetof(struct run_opts, no) + i * sizeof(bool), NULL,
					  helps[i] };
	}
	t[k] = (struct ks_opt){ 0 };
	return t;
}

/* --listen: an address checked now (exit 2 before anything loads), none, or the default. */
static int listen_choice(const struct run_opts *ro, struct ks_common *c, char *err, size_t len)
{
	struct ks_prom_addr a;

	if (!ro->listen) {
		c->listen = KS_PROM_LISTEN_DEFAULT;
		c->listen_default = true;
		return 0;
	}
	if (!strcmp(ro->listen, "none"))
		return 0;
	c->listen = ro->listen;
	return ks_prom_addr_parse(ro->listen, &a, err, len);
}

/* --host-label NAME: printable, at most 128 bytes (the option checks the length) */
static int host_choice(const struct run_opts *ro, char *err, size_t len)
{
	if (!ro->host_label)
		return 0;
	for (const unsigned char *c = (const unsigned char *)ro->host_label; *c; c++)
		if (*c < ' ' || *c == 0x7f) {
			snprintf(err, len, "--host-label: a control character in the name");
			return -1;
		}
	if (!ro->host_label[0]) {
		snprintf(err, len, "--host-label: an empty name");
		return -1;
	}
	ks_host_label = ro->host_label;
	return 0;
}

/* --otlp URL: one more output, its URL checked now (exit 2). */
static int otlp_choice(const struct run_opts *ro, struct ks_common *c, char *err, size_t len)
{
	static char spec[1024 + 16];
	struct ks_http_url u;

	if (!ro->otlp)
		return 0;
	if (ks_otlp_url_parse(ro->otlp, &u, err, len))
		return -1;
	if (c->outputs.n + 1 > KS_STRS_MAX) {
		snprintf(err, len, "more than %d outputs with --otlp", KS_STRS_MAX);
		return -1;
	}
	if (!c->outputs.n && !c->json)
		c->outputs.v[c->outputs.n++] = "table";
	snprintf(spec, sizeof(spec), "%s:%s", ro->otlp_encoding ? "otlp-protobuf" : "otlp",
		 ro->otlp);
	c->outputs.v[c->outputs.n++] = spec;
	return 0;
}

/* --store, --no-store, --retention, --store-max-mb: the store as one more output. */
static int store_choice(const struct run_opts *ro, struct ks_common *c, char *err, size_t len)
{
	static char spec[4096 + 8];
	const char *path = ro->store ? ro->store : ks_store_default_path();

	if (ro->retention && ks_store_parse_duration(ro->retention, &ks_store_conf.retention_s)) {
		snprintf(err, len, "--retention %.40s: not a duration (90m, 36h, 7d, 2w)",
			 ro->retention);
		return -1;
	}
	if (ro->store_max_mb)
		ks_store_conf.max_bytes = ro->store_max_mb << 20;
	if (ro->idle && ks_store_parse_duration(ro->idle, &ks_map_api_conf.idle_s)) {
		snprintf(err, len, "--idle %.40s: not a duration (30s, 10m, 1h)", ro->idle);
		return -1;
	}
	if (ro->no_store || !strcmp(path, "none"))
		return 0;
	ks_map_api_conf.store = path;	/* the map on the HTTP endpoint reads it */
	if (c->outputs.n + 2 > KS_STRS_MAX) {
		snprintf(err, len, "more than %d outputs with the store (--no-store?)",
			 KS_STRS_MAX);
		return -1;
	}
	/* the store is one more output: the table (or --json) stays as it would be */
	if (!c->outputs.n && !c->json)
		c->outputs.v[c->outputs.n++] = "table";
	snprintf(spec, sizeof(spec), "store:%s", path);
	c->outputs.v[c->outputs.n++] = spec;
	return 0;
}

static void *new_state(const struct ks_module *m)
{
	void *st = calloc(1, m->state_size ? m->state_size : 1);

	if (st && m->defaults)
		memcpy(st, m->defaults, m->state_size);
	return st;
}

/* The states of the modules with agent options, made before parsing: their options'
 * tables after ksight run's own. Returns 0 or -1 (out of memory). */
static int run_early_states(void **early, struct ks_opt_table *tables, int *ntables)
{
	for (int i = 0; i < KS_MOD_MAX && ks_modules[i]; i++) {
		const struct ks_module *m = ks_modules[i];

		if (!m->agent_opts || m->tool_only)
			continue;
		early[i] = new_state(m);
		if (!early[i])
			return -1;
		tables[(*ntables)++] = (struct ks_opt_table){ m->agent_opts, early[i] };
	}
	return 0;
}

/* A module's agent options given while it does not run: refused (never silently unused);
 * the kept ones configured. The state of a module left out stays allocated (at its
 * defaults, checked here): --print-config prints its options from it. Returns 0, or -1
 * with one line in @err. */
static int run_agent_configure(void **early, const bool *keep, const struct ks_common *common,
			       char *err, size_t len)
{
	struct ks_common c = *common;

	c.agent = true;	/* as the modules will see it */
	for (int i = 0; i < KS_MOD_MAX && ks_modules[i]; i++) {
		const struct ks_module *m = ks_modules[i];
		void *def;
		bool same;

		if (!early[i])
			continue;
		if (keep[i]) {
			if (m->agent_configure && m->agent_configure(early[i], &c, err, len))
				return -1;
			continue;
		}
		def = new_state(m);
		same = def && !memcmp(def, early[i], m->state_size);
		free(def);
		if (!same) {
			snprintf(err, len, "--%s: %s does not run (--modules ...,%s)",
				 m->agent_opts[0].lng, m->name, m->name);
			return -1;
		}
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	const struct ks_module *mods[KS_MOD_MAX];
	const char *names[KS_MOD_MAX];
	bool optin[KS_MOD_MAX] = { false };
	void *states[KS_MOD_MAX];
	bool keep[KS_MOD_MAX];
	struct ks_common common;
	struct run_opts ro = { 0 };
	/* a module's agent options (--guard-rules) parse into its state, made before */
	struct ks_opt_table tables[2 + KS_MOD_MAX] = { { run_table(), &ro },
						       { ks_common_opts, &common } };
	void *early[KS_MOD_MAX] = { NULL };
	int ntables = 2;
	const char *pos[KS_OPTS_MAX_POS];
	char err[KS_ERR_LEN];
	struct ks_userbpf *ub = NULL;
	struct ks_ymetrics *ym = NULL;
	struct ks_ctx *ctx;
	int n = 0, nmods = 0, npos, rc;

	ks_common_defaults(&common);
	if (run_early_states(early, tables, &ntables))
		goto oom;
	common.ringbuf_size = 0;	/* unless given (never 0): the agent's own default */
	rc = ks_run_config_parse(tables, ntables, argc, argv, pos, KS_OPTS_MAX_POS, &npos, err,
				 sizeof(err));
	if (!common.ringbuf_size)
		common.ringbuf_size = KS_RINGBUF_AGENT;
	if (rc == 1) {
		ks_print_help("ksight run [OPTIONS] [INTERVAL [COUNT]]",
			      "Run the modules at once and print a summary each interval", usage,
			      tables, ntables);
		return 0;
	}
	while (ks_modules[nmods] && nmods < KS_MOD_MAX) {
		names[nmods] = ks_modules[nmods]->name;
		/* a tool-only module is left out, and not offered to --modules */
		if (ks_modules[nmods]->tool_only) {
			names[nmods] = "";
			ro.no[nmods] = true;
		}
		optin[nmods] = ks_modules[nmods]->agent_optin;
		nmods++;
	}
	if (rc < 0 || ks_common_check(&common, pos, npos, true, err, sizeof(err)) ||
	    ks_run_pick(names, nmods, ro.modules, ro.no, optin, keep, err, sizeof(err)) < 0) {
		fprintf(stderr, "ksight run: %s\n", err);
		return 2;
	}
	if (run_agent_configure(early, keep, &common, err, sizeof(err))) {
		fprintf(stderr, "ksight run: %s\n", err);
		return 2;
	}
	if (ro.print_config) {
		ks_run_config_print(stdout, tables, ntables, common.interval, common.count);
		return 0;
	}
	if ((ro.token_file && ks_api_token_file(ro.token_file, err, sizeof(err))) ||
	    listen_choice(&ro, &common, err, sizeof(err)) || host_choice(&ro, err, sizeof(err)) ||
	    otlp_choice(&ro, &common, err, sizeof(err)) ||
	    store_choice(&ro, &common, err, sizeof(err))) {
		fprintf(stderr, "ksight run: %s\n", err);
		return 2;
	}
	if (!common.interval)
		common.interval = 10;
	common.agent = true;
	/* a user's programs come to be measured: their cost is on /metrics, sampled one
	 * interval in ten unless asked otherwise (the statistics cost every BPF program of
	 * the machine two clock reads per run: ~140 ns here, more than a counter's program) */
	common.bpf_stats_every = ro.bpf_stats ? 1 : ro.stats_every ? (uint32_t)ro.stats_every :
				 (ro.bpf.n || ro.metrics) ? KS_BPF_STATS_EVERY : 0;
	if (ro.bpf.n) {
		ks_log_init(common.verbose);
		ub = ks_userbpf__open(ro.bpf.v, ro.bpf.n, err, sizeof(err));
		if (!ub) {
			fprintf(stderr, "ksight run: %s\n", err);
			return 2;
		}
	}
	if (ro.metrics && !(ym = ks_ymetrics__open(ro.metrics, err, sizeof(err)))) {
		fprintf(stderr, "ksight run: %s\n", err);
		ks_userbpf__free(ub);
		return 2;
	}
	if (ks_require_kernel("run")) {
		ks_userbpf__free(ub);
		ks_ymetrics__free(ym);
		return 1;
	}
	for (int i = 0; i < nmods; i++) {
		const struct ks_module *m = ks_modules[i];

		if (!keep[i])
			continue;
		states[n] = early[i] ?: new_state(m);
		if (!states[n])
			goto oom;
		mods[n++] = m;
	}
	ks_log_init(common.verbose);
	ctx = ks_ctx__new(KS_MODE_AGENT, &common, mods, states, n, "run");
	if (!ctx) {
		fprintf(stderr, "ksight run: cannot set up: %s\n", strerror(errno));
		rc = 1;
		goto done;
	}
	if (ub)
		ks_userbpf__attach_to(ub, ctx);
	if (ym)
		ks_ymetrics__attach_to(ym, ctx);
	rc = ks_ctx__start(ctx) ? 1 : 0;
	if (!rc)
		ks_ctx__publish_status(ctx);	/* for /api/status */
	if (!rc && ks_ctx__run(ctx))
		rc = 1;
	ks_ctx__free(ctx);
done:
	ks_userbpf__free(ub);
	ks_ymetrics__free(ym);
	for (int i = 0; i < n; i++)
		free(states[i]);
	return rc;
oom:
	fprintf(stderr, "ksight run: out of memory\n");
	ks_userbpf__free(ub);
	ks_ymetrics__free(ym);
	for (int i = 0; i < n; i++)
		free(states[i]);
	return 1;
}
