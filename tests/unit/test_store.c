// SPDX-License-Identifier: GPL-2.0
/* sink/store.c, store_db.c: durations, the sink end to end on a real SQLite file (events
 * exactly as --json writes them, rollups of the deltas, 0600), retention by age and size. */
#include "testutil.h"

#include <sqlite3.h>

#include "core/clock.h"
#include "core/metrics.h"
#include "sink/sink.h"
#include "sink/store.h"

static void test_durations(void **state)
{
	static const struct { const char *s; uint64_t v; } good[] = {
		{ "1", 1 }, { "30s", 30 }, { "10m", 600 }, { "36h", 129600 }, { "7d", 604800 },
		{ "2w", 1209600 },
	};
	static const char *const bad[] = { "", "0", "0d", "m", "10x", "1h2", "-1", " 1",
					   "10mm", "99999999999999", "40000d" };
	uint64_t v;

	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		assert_int_equal(ks_store_parse_duration(good[i].s, &v), 0);
		assert_int_equal(v, good[i].v);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (!ks_store_parse_duration(bad[i], &v))
			fail_msg("'%s' parsed as %llu", bad[i], (unsigned long long)v);
}

static int64_t count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

static const struct ks_metric_desc execs_desc = {
	.name = "ksight_test_execs_total",
	.help = "test",
	.type = KS_METRIC_COUNTER,
	.labels = { "comm" },
};

static void test_sink_writes_events_and_rollups(void **state)
{
	char *dir = tu_mkdtemp("ksight-store"), path[256], spec[300], err[256];
	struct ks_hdr h = { .pid = 42, .tid = 42, .comm = "ab\xff" "c" };
	struct ks_sink_spec sp;
	struct ks_metrics *reg = ks_metrics__new();
	struct ks_metric *m = ks_metrics__register(reg, &execs_desc);
	struct ks_clock c;
	struct ks_sink *s;
	struct ks_rec r;
	struct stat st;
	sqlite3 *db;

	ks_clock_init(&c);
	snprintf(path, sizeof(path), "%s/k.db", dir);
	snprintf(spec, sizeof(spec), "store:%s", path);
	assert_int_equal(ks_sink_spec_parse(spec, &sp, err, sizeof(err)), 0);
	s = ks_sink__open(&sp, spec, true, false, &c);
	assert_non_null(s);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* kept: an exec; not kept: an open */
	ks_rec_init(&r, "exec", &h);
	r.real_ns = 1000000000LL * 1700000000;
	r.service = "svc";
	ks_rec_kstr(&r, "filename", NULL, 0, "/bin/x", 6, false);
	ks_sink__emit(s, &r);
	ks_rec_init(&r, "open", &h);
	r.real_ns = 1000000000LL * 1700000000;
	ks_sink__emit(s, &r);
	assert_int_equal(s->records, 1);
	ks_counter_add(ks_metric_get(m, "cat"), 5);
	ks_counter_add(ks_metric_get(m, "dd"), 0);
	s->ops->metrics(s, reg, 1000000000LL * 1700000001);
	ks_metrics__mark(reg);
	ks_counter_add(ks_metric_get(m, "cat"), 2);
	s->ops->metrics(s, reg, 1000000000LL * 1700000002);
	assert_int_equal(ks_sink__close(s), 0);
	assert_int_equal(s->dropped, 0);
	ks_sink__free(s);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(count(db, "SELECT count(*) FROM events"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM events WHERE type = 'exec' AND pid = 42 "
			       "AND comm = CAST(x'6162ff63' AS TEXT) AND service = 'svc' AND json = "
			       "'{\"type\":\"exec\",\"ts\":\"2023-11-14T22:13:20.000000000Z\","
			       "\"pid\":42,\"tid\":42,\"comm\":\"ab\\udcffc\",\"service\":\"svc\","
			       "\"cgroup\":0,\"filename\":\"/bin/x\"}'"), 1);
	/* a counter's row per interval it moved in; "dd" never moved */
	assert_int_equal(count(db, "SELECT count(*) FROM rollups WHERE metric = "
			       "'ksight_test_execs_total'"), 2);
	assert_int_equal(count(db, "SELECT sum(value) FROM rollups WHERE metric = "
			       "'ksight_test_execs_total' AND labels = '{\"comm\":\"cat\"}'"), 7);
	assert_int_equal(count(db, "SELECT value FROM rollups WHERE metric = "
			       "'ksight_test_execs_total' AND ts = 1700000002000000000"), 2);
	{
		sqlite3_stmt *q;

		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	ks_metrics__free(reg);
	tu_rmtree(dir);
}

static void fill(sqlite3 *db, int n, int64_t t0, int64_t step)
{
	char sql[200];

	for (int i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO events(ts, type, pid, json) VALUES(%lld, "
			 "'exec', %d, printf('%%.500c', 'x'))", (long long)(t0 + i * step), i);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		snprintf(sql, sizeof(sql), "INSERT INTO rollups VALUES(%lld, 1, 'm', '{}', %d, NULL)",
			 (long long)(t0 + i * step), i);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
}

static void test_retention(void **state)
{
	char *dir = tu_mkdtemp("ksight-store"), path[256], err[256];
	const int64_t s = 1000000000LL, now = 2000000000 * s;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/k.db", dir);
	db = ks_store_db_open(path, err, sizeof(err));
	assert_non_null(db);
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	/* one row a second, ending now: 100 s of history */
	fill(db, 100, now - 99 * s, s);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	/* by age: the rows older than 30 s go (ts < now - 30 s), the one at exactly 30 stays */
	assert_int_equal(ks_store_db_retain(db, now, 30, 0), 2 * 69);
	assert_int_equal(count(db, "SELECT count(*) FROM events"), 31);
	assert_int_equal(count(db, "SELECT min(pid) FROM events"), 69);
	assert_int_equal(count(db, "SELECT min(value) FROM rollups"), 69);
	/* nothing older: nothing to do */
	assert_int_equal(ks_store_db_retain(db, now, 30, 0), 0);
	/* by size: many rows, a limit; the newest stay, and the pages in use fit */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	fill(db, 4000, now + s, 1000);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	assert_true(ks_store_db_used(db) > 1 << 20);
	assert_true(ks_store_db_retain(db, now, 0, 512 << 10) > 0);
	assert_true(ks_store_db_used(db) <= 512 << 10);
	assert_int_equal(count(db, "SELECT max(pid) FROM events"), 3999);
	/* a suffix: every pid from the smallest kept to the last is there */
	assert_int_equal(count(db, "SELECT count(*) FROM events WHERE ts > 2000000000000000000"),
			 count(db, "SELECT 4000 - min(pid) FROM events WHERE ts > "
				   "2000000000000000000"));
	/* the old rows were the oldest: they went first */
	assert_int_equal(count(db, "SELECT count(*) FROM events WHERE ts <= 2000000000000000000"),
			 0);
	sqlite3_close(db);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sink_writes_events_and_rollups),
		cmocka_unit_test(test_retention),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
