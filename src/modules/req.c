// SPDX-License-Identifier: GPL-2.0
/*
 * req: `ksight req`, requests on TCP connections, HTTP/1.x, Redis (RESP) and PostgreSQL,
 * told apart by the first bytes each connection reads or writes: how many, how many
 * failed (HTTP status 5xx, Redis and PostgreSQL error replies) and how long they took, per
 * process, role and server endpoint, HTTP method and status class (never the URL), the
 * Redis command or the PostgreSQL message kind, counted in the kernel at the return of
 * the calls that move bytes (bpf/req.sys.bpf.h) and printed each interval (req_rows.c).
 * In the agent (opt-in: it looks at every read and write of the machine) the same counts
 * are metrics per protocol, method and status class.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/module.h"
#include "modules/req_int.h"
#include "req.skel.h"

static const struct ks_opt req_opts[] = {
	{ "per-process", 'P', KS_OPT_FLAG, offsetof(struct req_state, per_proc), NULL,
	  "one row per process, role, protocol, method and status, no endpoints" },
	{ "conn", 0, KS_OPT_FLAG, offsetof(struct req_state, per_conn), NULL,
	  "keep both ends of each connection (one row per connection)" },
	{ "port", 0, KS_OPT_UINT, offsetof(struct req_state, port), "PORT",
	  "only connections with this local or remote port (checked in the kernel)", 1, 65535 },
	{ "proto", 0, KS_OPT_STR, offsetof(struct req_state, proto), "LIST",
	  "protocols to follow, comma-separated: http, redis, postgres (default: all)", 0, 64 },
	{ 0 },
};

#define REQ_PROTOS_ALL ((1u << REQ_P_HTTP) | (1u << REQ_P_REDIS) | (1u << REQ_P_PG))

static const int req_sock_calls[] = { SYS_sendto, SYS_recvfrom, SYS_sendmsg, SYS_recvmsg,
				      -1 };
static const int req_rw_calls[] = { SYS_read, SYS_write, SYS_readv, SYS_writev, -1 };

#define X(sys) { "req__" #sys "_fexit", "__x64_sys_" #sys }

static const struct ks_slot req_slots[] = {
	{
		.name = "see sends and receives",
		.alts = {
			{ KS_FAM_FENTRY, { X(sendto), X(recvfrom), X(sendmsg), X(recvmsg) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, req_sock_calls },
		},
	},
	{
		.name = "see reads and writes",
		.alts = {
			{ KS_FAM_FENTRY, { X(read), X(write), X(readv), X(writev) } },
			{ KS_FAM_SYSCALL, { { "(dispatcher)" } }, req_rw_calls },
		},
	},
	{ 0 },
};

static const struct ks_evtype req_types[] = {
	{ REQ_EV_ROW, "req", true },
	{ 0 },
};

static const struct ks_metric_desc req_reqs_desc = {
	.name = "ksight_req_requests_total",
	.help = "Requests answered (HTTP/1.x, Redis, PostgreSQL), by protocol, method and status class",
	.type = KS_METRIC_COUNTER,
	.labels = { "proto", "method", "status_class" },
	.idle = 60,
};

/* The kernel's buckets are log2 of microseconds: observed as such, exposed in seconds. */
static const struct ks_metric_desc req_lat_desc = {
	.name = "ksight_req_latency_seconds",
	.help = "Request to response (HTTP/1.x, Redis, PostgreSQL), by protocol, method and status class",
	.type = KS_METRIC_HIST,
	.labels = { "proto", "method", "status_class" },
	.idle = 60,
	.unit = "seconds",
	.scale = 1e-6,
};

/* --proto's list into a mask; 0 when a name is not known. */
static uint32_t protos_parse(const char *s, char *err, size_t len)
{
	uint32_t mask = 0;
	char buf[65], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "http")) {
			mask |= 1u << REQ_P_HTTP;
		} else if (!strcmp(t, "redis")) {
			mask |= 1u << REQ_P_REDIS;
		} else if (!strcmp(t, "postgres")) {
			mask |= 1u << REQ_P_PG;
		} else {
			snprintf(err, len, "--proto: unknown protocol '%s' (http, redis, postgres)", t);
			return 0;
		}
	}
	if (!mask)
		snprintf(err, len, "--proto: no protocol named (http, redis, postgres)");
	return mask;
}

static int req_configure(void *state, const struct ks_common *common, char *err, size_t len)
{
	struct req_state *st = state;

	(void)common;
	st->protos = REQ_PROTOS_ALL;
	if (st->proto) {
		st->protos = protos_parse(st->proto, err, len);
		if (!st->protos)
			return -1;
	}
	if (st->per_proc && st->per_conn) {
		snprintf(err, len, "-P and --conn exclude each other (no endpoints, or both)");
		return -1;
	}
	return 0;
}

static void req_agent_defaults(void *state)
{
	struct req_state *st = state;

	st->agent = true;
	st->per_proc = false;	/* endpoints: the edges' metrics and records (req_setup) */
	st->protos = REQ_PROTOS_ALL;
}

static int req_setup(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct req_bpf *skel = vskel;
	struct req_state *st = state;

	(void)ctx;
	/* the agent keeps endpoints, for the map's edges: the edges' metrics (req_edges.c)
	 * and, with an output that keeps events (the store), req_row records; from clients,
	 * and from servers whose client is not here */
	if (st->agent) {
		skel->rodata->req_srv_peer = true;	/* server rows for remote clients */
	} else if (bpf_map__set_max_entries(skel->maps.req_peers, 1)) {
		return -errno;	/* unused: not the 7 MiB of a full table */
	}
	skel->rodata->req_port = st->port;
	skel->rodata->req_per_proc = st->per_proc;
	skel->rodata->req_per_conn = st->per_conn;
	skel->rodata->req_protos = st->protos;
	return 0;
}

static void req_report(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct req_bpf *skel = vskel;

	req_rows_report(ctx, state, skel->maps.req_rows);
}

static void req_collect(struct ks_ctx *ctx, void *state, void *vskel)
{
	struct req_bpf *skel = vskel;

	req_rows_collect(ctx, state, skel->maps.req_rows);
}

/* A process's rows leave the kernel's table once reported. */
static void req_proc(struct ks_ctx *ctx, void *state, const struct ks_hdr *h, size_t size)
{
	struct req_state *st = state;

	(void)ctx;
	(void)size;
	if (h->type == KS_EV_PROC_EXIT)
		ks_task_rows_gone(&st->rows, h->pid);	/* dropped after the next report */
}

static int req_init(struct ks_ctx *ctx, void *state)
{
	struct req_state *st = state;

	req_rows_init(st);
	st->m_reqs = ks_ctx_metric(ctx, &req_reqs_desc);
	st->m_lat = ks_ctx_metric(ctx, &req_lat_desc);
	if (!st->m_reqs || !st->m_lat)
		return -errno;
	return st->agent ? req_edges_init(ctx, st) : 0;
}

/* The agent's line: requests and errors per second, each protocol's; in JSON also the
 * interval's exact counts. */
static void req_summary(struct ks_ctx *ctx, void *state, double secs)
{
	struct req_state *st = state;
	uint64_t *n = st->iv_reqs, *e = st->iv_errs;
	struct ks_rec r;

	ks_rec_summary(&r, "req");
	ks_rec_rate(&r, "requests_per_s", "req", n[REQ_P_HTTP] + n[REQ_P_REDIS] + n[REQ_P_PG],
		    secs);
	ks_rec_rate(&r, "errors_per_s", "err", e[REQ_P_HTTP] + e[REQ_P_REDIS] + e[REQ_P_PG],
		    secs);
	ks_rec_rate(&r, "http_per_s", "http", n[REQ_P_HTTP], secs);
	ks_rec_rate(&r, "redis_per_s", "redis", n[REQ_P_REDIS], secs);
	ks_rec_rate(&r, "postgres_per_s", "pg", n[REQ_P_PG], secs);
	ks_rec_uint(&r, "http_requests", NULL, 0, n[REQ_P_HTTP]);
	ks_rec_uint(&r, "http_errors", NULL, 0, e[REQ_P_HTTP]);
	ks_rec_uint(&r, "redis_requests", NULL, 0, n[REQ_P_REDIS]);
	ks_rec_uint(&r, "redis_errors", NULL, 0, e[REQ_P_REDIS]);
	ks_rec_uint(&r, "postgres_requests", NULL, 0, n[REQ_P_PG]);
	ks_rec_uint(&r, "postgres_errors", NULL, 0, e[REQ_P_PG]);
	ks_emit(ctx, &r);
	memset(st->iv_reqs, 0, sizeof(st->iv_reqs));
	memset(st->iv_errs, 0, sizeof(st->iv_errs));
}

static void req_fini(void *state)
{
	req_rows_free(state);
}

KS_BPF_OBJECT(req);

const struct ks_module req_module = {
	.name = "req",
	.id = KS_MOD_req,
	.bpf = &req_bpf_obj,
	.brief = "HTTP/1.x, Redis, PostgreSQL requests: counts, errors, latency per process, server",
	.usage = "  ksight req                          # at Ctrl-C: per process, role, server\n"
		 "  ksight req 5 3                      # what changed, every 5 s, 3 times\n"
		 "  ksight req -P 10                    # one row per process and status, every 10 s\n"
		 "  ksight req --port 6379 --proto redis  # Redis on port 6379 only\n"
		 "  ksight req --conn -p 1234           # process 1234, one row per connection\n"
		 "  ksight req --proto postgres --port 5432  # PostgreSQL queries and errors\n"
		 "  ksight req --json 1 5               # JSON lines with the latency histograms\n",
	.opts = req_opts,
	.state_size = sizeof(struct req_state),
	.positional = true,
	.agent_optin = true,	/* looks at every read and write of the machine */
	.slots = req_slots,
	.types = req_types,
	.configure = req_configure,
	.agent_defaults = req_agent_defaults,
	.init = req_init,
	.setup = req_setup,
	.proc = req_proc,
	.report = req_report,
	.collect = req_collect,
	.summary = req_summary,
	.fini = req_fini,
};
