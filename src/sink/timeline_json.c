// SPDX-License-Identifier: GPL-2.0
/* A service's timeline as JSON (timeline.h): the query's lines and the API's document. */
#include <stdbool.h>
#include <string.h>

#include "sink/escape.h"
#include "sink/timeline.h"

uint64_t ks_tl_pct_ns(const uint64_t *hist, unsigned int pct)
{
	uint64_t total = 0, run = 0, rank;

	for (int k = 0; k < KS_TL_SLOTS; k++)
		total += hist[k];
	if (!total)
		return 0;
	rank = (total * pct + 99) / 100;
	for (int k = 0; k < KS_TL_SLOTS; k++) {
		run += hist[k];
		if (run >= rank)
			return (1ULL << k) * 1000;	/* below 2^k us */
	}
	return 0;
}

static void key_u64(struct ks_buf *o, const char *key, uint64_t v, bool comma)
{
	ks_buf_printf(o, "%s\"%s\":", comma ? "," : "", key);
	ks_buf_u64(o, v);
}

/* A percentile in ns, null without requests. */
static void key_pct(struct ks_buf *o, const char *key, const uint64_t *hist, uint64_t n)
{
	ks_buf_printf(o, ",\"%s\":", key);
	if (n && ks_tl_pct_ns(hist, 99))
		ks_buf_u64(o, ks_tl_pct_ns(hist, 99));
	else
		ks_buf_str(o, "null");
}

/* "KEY": the group's object, or null when its module did not run. */
static bool group(struct ks_buf *o, const struct ks_tl_row *r, enum ks_tl_group g,
		  const char *key)
{
	ks_buf_printf(o, ",\"%s\":", key);
	if (r->on & (1u << g)) {
		ks_buf_ch(o, '{');
		return true;
	}
	ks_buf_str(o, "null");
	return false;
}

/* The reads and writes by kind of fd: objects where the store has the split, or where there
 * was nothing to split; else null (never zeros that were not counted). */
bool ks_tl_io_split(const struct ks_tl_row *r)
{
	return r->io_split || !(r->io_calls | r->io_rbytes | r->io_wbytes);
}

static void io_kinds(struct ks_buf *o, const struct ks_tl_row *r)
{
	bool known = ks_tl_io_split(r);

	for (int k = 0; k < KS_TL_KINDS; k++) {
		ks_buf_printf(o, ",\"%s\":", ks_tl_kind_name(k));
		if (!known) {
			ks_buf_str(o, "null");
			continue;
		}
		ks_buf_ch(o, '{');
		key_u64(o, "calls", r->io_kind[k][0], false);
		key_u64(o, "read_bytes", r->io_kind[k][1], true);
		key_u64(o, "written_bytes", r->io_kind[k][2], true);
		ks_buf_ch(o, '}');
	}
}

void ks_tl_row_json(struct ks_buf *o, const struct ks_tl_row *r)
{
	bool first = true;

	ks_buf_str(o, "{\"ts_ns\":");
	ks_buf_i64(o, r->ts_ns);
	ks_buf_printf(o, ",\"secs\":%.6f", r->secs);
	if (group(o, r, KS_TL_REQ, "requests")) {
		key_u64(o, "served", r->in_reqs, false);
		key_u64(o, "served_errors", r->in_errs, true);
		key_pct(o, "served_p99_ns", r->in_hist, r->in_reqs);
		key_u64(o, "made", r->out_reqs, true);
		key_u64(o, "made_errors", r->out_errs, true);
		key_pct(o, "made_p99_ns", r->out_hist, r->out_reqs);
		ks_buf_ch(o, '}');
	}
	if (group(o, r, KS_TL_TCP, "tcp")) {
		key_u64(o, "connections", r->tcp_conns, false);
		key_u64(o, "sent_bytes", r->tcp_tx, true);
		key_u64(o, "received_bytes", r->tcp_rx, true);
		ks_buf_ch(o, '}');
	}
	if (group(o, r, KS_TL_IO, "io")) {
		key_u64(o, "calls", r->io_calls, false);
		key_u64(o, "read_bytes", r->io_rbytes, true);
		key_u64(o, "written_bytes", r->io_wbytes, true);
		io_kinds(o, r);
		ks_buf_ch(o, '}');
	}
	if (group(o, r, KS_TL_DISK, "disk")) {
		key_u64(o, "requests", r->disk_ops, false);
		key_u64(o, "read_bytes", r->disk_rbytes, true);
		key_u64(o, "write_bytes", r->disk_wbytes, true);
		key_pct(o, "p99_ns", r->disk_hist, 1);
		ks_buf_ch(o, '}');
	}
	if (group(o, r, KS_TL_RUNQ, "runq")) {
		key_u64(o, "delays", r->runq_count, false);
		key_u64(o, "delay_total_ns", (uint64_t)(r->runq_sum_s * 1e9 + 0.5), true);
		ks_buf_ch(o, '}');
	}
	ks_buf_str(o, ",\"off\":[");
	for (int g = 0; g < KS_TL_GROUPS; g++) {
		if (r->on & (1u << g))
			continue;
		ks_buf_printf(o, "%s\"%s\"", first ? "" : ",", ks_tl_module(g));
		first = false;
	}
	ks_buf_str(o, "]}");
}

void ks_timeline_json(struct ks_buf *o, const char *service, const struct ks_timeline *t)
{
	ks_buf_str(o, "{\"service\":");
	ks_json_str(o, service, strlen(service));
	ks_buf_str(o, ",\"from_ns\":");
	ks_buf_i64(o, t->from_ns);
	ks_buf_str(o, ",\"to_ns\":");
	ks_buf_i64(o, t->to_ns);
	ks_buf_str(o, ",\"intervals\":[");
	for (size_t i = 0; i < t->n; i++) {
		if (i)
			ks_buf_ch(o, ',');
		ks_tl_row_json(o, &t->rows[i]);
	}
	ks_buf_str(o, "]}\n");
}
