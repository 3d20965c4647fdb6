// SPDX-License-Identifier: GPL-2.0
/* sink/timeline.c, timeline_json.c: a service's intervals from a store the test fills: the
 * modules that ran, its series summed per interval, the req rows put in the interval they
 * were made after and told apart (served: to its server ends; made: by it), the p99, the
 * reads and writes by kind of fd, biotop's rows' disk p99, the unknown service and the
 * bound on intervals. */
#include "testutil.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sqlite3.h>

#include "sink/store.h"
#include "sink/timeline.h"

#define S 1000000000LL
#define T0 (1800000000LL * S)

static void sql(sqlite3 *db, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sqlite3_exec(db, buf, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", buf, sqlite3_errmsg(db));
}

static void rollup(sqlite3 *db, int64_t ts, const char *metric, const char *labels, double v,
		   const char *count)
{
	sql(db, "INSERT INTO rollups VALUES(%lld, 1, '%s', '%s', %.9g, %s)", (long long)ts, metric,
	    labels, v, count);
}

static void req_row(sqlite3 *db, int64_t ts, const char *svc, int port, int n, int errs,
		    const char *buckets)
{
	sql(db, "INSERT INTO events(ts, type, service, json) VALUES(%lld, 'req_row', '%s', "
	    "'{\"raddr\":\"127.0.0.1\",\"rport\":%d,\"requests\":%d,\"errors\":%d,\"hist\":"
	    "{\"buckets\":[%s]}}')", (long long)ts, svc, port, n, errs, buckets);
}

/* Four intervals ending at T0 + k s; req, tcplife, rw, biotop in the first three, only
 * tcplife in the last (an agent restarted with fewer modules); runqlat in none. */
static sqlite3 *fill(char **dir)
{
	static const char *const mods[] = { "core", "req", "tcplife", "rw", "biotop" };
	char path[256], err[256];
	sqlite3 *db;

	*dir = tu_mkdtemp("ksight-tl");
	snprintf(path, sizeof(path), "%s/k.db", *dir);
	db = ks_store_db_open(path, err, sizeof(err));
	assert_non_null(db);
	sql(db, "BEGIN");
	for (int k = 0; k < 4; k++) {
		int64_t ts = T0 + k * S;

		rollup(db, ts, "ksight_agent_uptime_seconds", "{}", k, "NULL");
		for (int m = k == 3 ? 2 : 0; m < (k == 3 ? 3 : 5); m++)
			sql(db, "INSERT INTO rollups VALUES(%lld, 1, 'ksight_bpf_map_max_entries', "
			    "'{\"module\":\"%s\",\"map\":\"x\"}', 1, NULL)", (long long)ts, mods[m]);
	}
	/* web's series: two label sets of one metric add up; other's are not web's */
	/* biotop's series are per service and disk: the timeline sums the service's disks */
	rollup(db, T0 + S, "ksight_bio_requests_total", "{\"service\":\"web\",\"disk\":\"loop3\"}",
	       5, "NULL");
	rollup(db, T0 + S, "ksight_bio_requests_total", "{\"service\":\"web\",\"disk\":\"sda\"}", 2,
	       "NULL");
	rollup(db, T0 + S, "ksight_bio_read_bytes_total",
	       "{\"service\":\"web\",\"disk\":\"loop3\"}", 5 * 4096, "NULL");
	rollup(db, T0 + S, "ksight_bio_read_bytes_total", "{\"service\":\"web\",\"disk\":\"sda\"}",
	       2 * 4096, "NULL");
	rollup(db, T0 + S, "ksight_bio_requests_total", "{\"service\":\"other\",\"disk\":\"sda\"}",
	       100, "NULL");
	rollup(db, T0 + S, "ksight_tcp_sessions_closed_total", "{\"service\":\"web\"}", 10, "NULL");
	rollup(db, T0 + 2 * S, "ksight_rw_service_read_bytes_total", "{\"service\":\"web\"}", 5,
	       "NULL");
	rollup(db, T0 + 2 * S, "ksight_rw_service_read_bytes_total",
	       "{\"service\":\"web\",\"x\":\"1\"}", 6, "NULL");
	rollup(db, T0 + 2 * S, "ksight_runqlat_seconds", "{\"service\":\"web\"}", 0.25, "4");
	/* web served on 127.0.0.1:8080 (a closed server end) */
	sql(db, "INSERT INTO events(ts, type, service, json) VALUES(%lld, 'tcplife', 'web', "
	    "'{\"side\":\"server\",\"laddr\":\"127.0.0.1\",\"lport\":8080}')", (long long)T0);
	/* client rows made just after T0 + 1 s: interval 1; one to another server */
	req_row(db, T0 + S + 1000000, "cli", 8080, 10, 1,
		"{\"hi\":1023,\"count\":9},{\"hi\":65535,\"count\":1}");
	req_row(db, T0 + S + 2000000, "cli", 9999, 50, 0, "{\"hi\":1,\"count\":50}");
	/* made by web itself in interval 2; one before the first interval: none's */
	req_row(db, T0 + 2 * S + 1000000, "web", 9999, 3, 0, "{\"hi\":7,\"count\":3}");
	req_row(db, T0 - 1000000, "cli", 8080, 1000, 0, "{\"hi\":1,\"count\":1000}");
	sql(db, "COMMIT");
	return db;
}

static void test_rows(void **state)
{
	char *dir, err[256];
	sqlite3 *db = fill(&dir);
	struct ks_timeline t;
	struct ks_buf b;

	assert_int_equal(ks_timeline_load(db, "web", T0 - S / 2, T0 + 3 * S + S / 2, &t, err,
					  sizeof(err)), 0);
	assert_int_equal(t.n, 4);
	for (int k = 0; k < 3; k++)
		assert_int_equal(t.rows[k].on, 0xf);	/* all but runqlat */
	assert_int_equal(t.rows[3].on, 1u << KS_TL_TCP);
	assert_int_equal(t.rows[1].disk_ops, 7);
	assert_int_equal(t.rows[1].disk_rbytes, 7 * 4096);
	assert_int_equal(t.rows[1].tcp_conns, 10);
	assert_int_equal(t.rows[2].io_rbytes, 11);
	assert_int_equal(t.rows[2].runq_count, 4);
	assert_int_equal(t.rows[1].in_reqs, 10);
	assert_int_equal(t.rows[1].in_errs, 1);
	assert_int_equal(t.rows[1].out_reqs, 0);
	assert_int_equal(t.rows[2].out_reqs, 3);
	assert_int_equal(t.rows[0].in_reqs + t.rows[2].in_reqs + t.rows[3].in_reqs, 0);
	/* nearest rank: the 10th of 10 is in the bucket below 2^16 us */
	assert_int_equal(ks_tl_pct_ns(t.rows[1].in_hist, 99), 65536000ULL);
	assert_int_equal(ks_tl_pct_ns(t.rows[1].in_hist, 50), 1024000ULL);
	assert_int_equal(ks_tl_pct_ns(t.rows[0].in_hist, 99), 0);
	assert_int_equal(ks_buf_init(&b, -1, 4096), 0);
	ks_tl_row_json(&b, &t.rows[3]);
	ks_buf_ch(&b, 0);
	assert_string_equal(b.p, "{\"ts_ns\":1800000003000000000,\"secs\":1.000000,\"requests\":"
			    "null,\"tcp\":{\"connections\":0,\"sent_bytes\":0,\"received_bytes\":0},"
			    "\"io\":null,\"disk\":null,\"runq\":null,\"off\":[\"req\",\"rw\","
			    "\"biotop\",\"runqlat\"]}");
	ks_buf_reset(&b);
	ks_tl_row_json(&b, &t.rows[2]);
	ks_buf_ch(&b, 0);
	assert_non_null(strstr(b.p, "\"made\":3,\"made_errors\":0,\"made_p99_ns\":8000}"));
	ks_buf_free(&b);
	ks_timeline_free(&t);
	/* a window of the last two intervals: interval 1's rows are not in it */
	assert_int_equal(ks_timeline_load(db, "web", T0 + 2 * S - S / 2, T0 + 4 * S, &t, err,
					  sizeof(err)), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.rows[0].in_reqs + t.rows[1].in_reqs, 0);
	assert_int_equal(t.rows[0].out_reqs, 3);
	ks_timeline_free(&t);
	/* nothing of it in the window: ENOENT, said */
	assert_int_equal(ks_timeline_load(db, "nobody", T0 - S, T0 + 4 * S, &t, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "nobody"));
	sqlite3_close(db);
	tu_rmtree(dir);
}

static void bio_row(sqlite3 *db, int64_t ts, const char *svc, const char *buckets)
{
	sql(db, "INSERT INTO events(ts, type, service, json) VALUES(%lld, 'bio_row', '%s', "
	    "'{\"ops\":1,\"hist\":{\"unit\":\"usecs\",\"buckets\":[%s]}}')", (long long)ts,
	    svc, buckets);
}

static void kind(sqlite3 *db, int64_t ts, const char *what, const char *k, double v,
		 const char *extra)
{
	char metric[96], labels[128];

	snprintf(metric, sizeof(metric), "ksight_rw_service_kind_%s_total", what);
	snprintf(labels, sizeof(labels), "{\"service\":\"web\",\"kind\":\"%s\"%s}", k, extra);
	rollup(db, ts, metric, labels, v, "NULL");
}

static void assert_has(struct ks_buf *b, const struct ks_tl_row *r, const char *part)
{
	ks_buf_reset(b);
	ks_tl_row_json(b, r);
	ks_buf_ch(b, 0);
	if (!strstr(b->p, part))
		fail_msg("%s not in %s", part, b->p);
}

/* Interval 1: web's reads and writes by kind (two label sets of one kind add up), and two
 * biotop rows of web (7 requests, the slowest below 2^10 us) made after its end; another
 * service's row and one before the window are not web's. Interval 2: bytes read but no
 * split (an older agent): the kinds are null, not zeros. */
static void test_kinds_disk(void **state)
{
	char *dir, err[256];
	sqlite3 *db = fill(&dir);
	struct ks_timeline t;
	struct ks_buf b;

	sql(db, "BEGIN");
	rollup(db, T0 + S, "ksight_rw_service_calls_total", "{\"service\":\"web\"}", 8, "NULL");
	kind(db, T0 + S, "calls", "file", 3, "");
	kind(db, T0 + S, "read_bytes", "file", 12288, "");
	kind(db, T0 + S, "calls", "socket", 2, "");
	kind(db, T0 + S, "calls", "socket", 2, ",\"x\":\"1\"");
	kind(db, T0 + S, "read_bytes", "socket", 100, "");
	kind(db, T0 + S, "written_bytes", "socket", 200, "");
	kind(db, T0 + S, "calls", "other", 1, "");
	kind(db, T0 + S, "written_bytes", "other", 8, "");
	bio_row(db, T0 + S + 1000000, "web", "{\"hi\":63,\"count\":5}");
	bio_row(db, T0 + S + 2000000, "web", "{\"hi\":63,\"count\":1},{\"hi\":1023,\"count\":1}");
	bio_row(db, T0 + S + 3000000, "other", "{\"hi\":1048575,\"count\":9}");
	bio_row(db, T0 - 1000000, "web", "{\"hi\":1048575,\"count\":9}");
	sql(db, "COMMIT");
	assert_int_equal(ks_timeline_load(db, "web", T0 - S / 2, T0 + 3 * S + S / 2, &t, err,
					  sizeof(err)), 0);
	assert_int_equal(t.n, 4);
	assert_true(t.rows[1].io_split && ks_tl_io_split(&t.rows[1]));
	assert_int_equal(t.rows[1].io_kind[KS_TL_FILE][0], 3);
	assert_int_equal(t.rows[1].io_kind[KS_TL_FILE][1], 12288);
	assert_int_equal(t.rows[1].io_kind[KS_TL_SOCKET][0], 4);
	assert_int_equal(t.rows[1].io_kind[KS_TL_SOCKET][2], 200);
	assert_int_equal(t.rows[1].io_kind[KS_TL_OTHER][2], 8);
	assert_int_equal(t.rows[1].io_calls, 8);
	assert_false(ks_tl_io_split(&t.rows[2]));	/* 11 bytes read, no split */
	assert_true(ks_tl_io_split(&t.rows[0]));	/* nothing to split */
	/* nearest rank: the 7th of 7 is below 2^10 us; the median below 2^6 */
	assert_int_equal(ks_tl_pct_ns(t.rows[1].disk_hist, 99), 1024000ULL);
	assert_int_equal(ks_tl_pct_ns(t.rows[1].disk_hist, 50), 64000ULL);
	assert_int_equal(ks_tl_pct_ns(t.rows[0].disk_hist, 99), 0);
	assert_int_equal(ks_buf_init(&b, -1, 4096), 0);
	assert_has(&b, &t.rows[1], "\"io\":{\"calls\":8,\"read_bytes\":0,\"written_bytes\":0,"
		   "\"file\":{\"calls\":3,\"read_bytes\":12288,\"written_bytes\":0},\"socket\":"
		   "{\"calls\":4,\"read_bytes\":100,\"written_bytes\":200},\"other\":{\"calls\":1,"
		   "\"read_bytes\":0,\"written_bytes\":8}}");
	assert_has(&b, &t.rows[1], "\"write_bytes\":0,\"p99_ns\":1024000}");
	assert_has(&b, &t.rows[2], "\"file\":null,\"socket\":null,\"other\":null}");
	assert_has(&b, &t.rows[0], "\"p99_ns\":null}");
	assert_has(&b, &t.rows[0], "\"file\":{\"calls\":0,\"read_bytes\":0,\"written_bytes\":0}");
	ks_buf_free(&b);
	ks_timeline_free(&t);
	sqlite3_close(db);
	tu_rmtree(dir);
}

static void test_too_many_intervals(void **state)
{
	char *dir, err[256];
	sqlite3 *db = fill(&dir);
	struct ks_timeline t;

	sql(db, "BEGIN");
	for (int k = 0; k < KS_TL_MAX_ROWS; k++)
		rollup(db, T0 - (k + 1) * S, "ksight_agent_uptime_seconds", "{}", 0, "NULL");
	sql(db, "COMMIT");
	assert_int_equal(ks_timeline_load(db, "web", 0, T0 + 4 * S, &t, err, sizeof(err)),
			 -E2BIG);
	assert_null(t.rows);
	/* the bound itself is fine */
	assert_int_equal(ks_timeline_load(db, "web", T0 - (KS_TL_MAX_ROWS - 4) * S - S / 2,
					  T0 + 4 * S, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, KS_TL_MAX_ROWS);
	ks_timeline_free(&t);
	sqlite3_close(db);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_kinds_disk),
		cmocka_unit_test(test_too_many_intervals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
