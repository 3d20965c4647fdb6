/* SPDX-License-Identifier: GPL-2.0 */
/*
 * OTLP/HTTP metrics export (`ksight run --otlp URL`, `-o otlp:URL`): at each interval the
 * registry (core/metrics.h) as an OTLP ExportMetricsServiceRequest in its JSON encoding
 * (or protobuf's: `--otlp-encoding protobuf`, `-o otlp-protobuf:URL`),
 * POSTed to URL by a sender thread of its own (otlp.c). The reader's thread renders
 * (otlp_json.c, pure) and queues; it never waits for the network.
 *
 * Mapping (opentelemetry-proto, metrics/v1):
 * - one resourceMetrics with resource attributes service.name="ksight" and host.name (the
 *   machine's name), one scopeMetrics (scope "ksight");
 * - a counter is a Sum, isMonotonic, aggregationTemporality CUMULATIVE (2): asInt (a
 *   counter kept in a smaller unit, ns, is asDouble in its base unit, seconds; one past
 *   2^63-1, which asInt (sfixed64) cannot hold, asDouble);
 * - a gauge is a Gauge, asDouble;
 * - a histogram is a Histogram, CUMULATIVE: explicitBounds are the log2 buckets' upper
 *   bounds in base units ((2^(i+1) - 1) x scale, as Prometheus' le), up to the series' highest
 *   non-empty slot; bucketCounts has one more entry (the last: above the last bound);
 *   count and sum (base units);
 * - a metric with a unit (histograms, counters kept in ns) has it in UCUM: "s", "By";
 * - labels are attributes (stringValue); a metric's overflow series carries only
 *   ksight_overflow="true";
 * - startTimeUnixNano is when the sink opened (the agent's start), timeUnixNano the
 *   interval's end. 64-bit integers are decimal strings (the protobuf JSON mapping).
 * Label values are UTF-8 as they are; a byte that is not becomes U+FFFD (JSON's strings
 * are Unicode; the JSON lines outputs keep the exact bytes).
 */
#ifndef KSIGHT_OTLP_H
#define KSIGHT_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/metrics.h"
#include "sink/http_conn.h"
#include "sink/outbuf.h"

/* The registry unit @unit ("seconds", "bytes") in UCUM ("s", "By"), or NULL. */
const char *ks_otlp_unit(const char *unit);

/* Parse http://HOST[:PORT][/PATH] (http only: no TLS here). Returns 0, or -1 with one line
 * in @err naming what is wrong. */
int ks_otlp_url_parse(const char *text, struct ks_http_url *u, char *err, size_t len);

/* ks_otlp_post's results; the failures are small numbers (they index counters) */
enum { KS_OTLP_CONNECT, KS_OTLP_SEND, KS_OTLP_STATUS, KS_OTLP_OK = 16 };

/*
 * POST @body (@len bytes, JSON or @protobuf) to @u within @timeout_ms, giving up at once
 * when @stopfd becomes readable. Returns KS_OTLP_OK (a 2xx answer), KS_OTLP_CONNECT (no
 * connection; errno says why), KS_OTLP_SEND (an error, a time-out or the connection
 * closed before a status line; errno) or KS_OTLP_STATUS (another status, in *@code).
 */
int ks_otlp_post(const struct ks_http_url *u, int stopfd, bool protobuf, const void *body,
		 size_t len, int timeout_ms, int *code);

struct ks_otlp_resource {
	const char *host_name;	/* resource attribute host.name */
	uint64_t start_ns;	/* startTimeUnixNano of every point */
	uint64_t time_ns;	/* timeUnixNano of every point */
};

/* Append @r as an ExportMetricsServiceRequest in OTLP JSON to @out. */
void ks_otlp_json(struct ks_buf *out, const struct ks_metrics *r,
		  const struct ks_otlp_resource *res);

/* The same in protobuf's binary encoding (otlp_pb.c; Content-Type application/x-protobuf). */
void ks_otlp_protobuf(struct ks_buf *out, const struct ks_metrics *r,
		      const struct ks_otlp_resource *res);

#endif
