/* SPDX-License-Identifier: GPL-2.0 */
/* An in-memory store with the tables sink/map_store.c reads (sink/store_db.c's schema), for
 * the unit tests that build a map through ks_map_load (test_svcmap_nat.c,
 * test_map_store.c): rows put in as the agent writes them. */
#ifndef KSIGHT_TEST_STORE_FIXTURE_H
#define KSIGHT_TEST_STORE_FIXTURE_H

#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>

static sqlite3 *db;

static inline void store_open(void)
{
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE events(id INTEGER PRIMARY KEY, ts "
				      "INTEGER NOT NULL, type TEXT NOT NULL, pid INTEGER, comm "
				      "TEXT, service TEXT, json TEXT NOT NULL); CREATE TABLE "
				      "rollups(ts INTEGER NOT NULL, secs REAL NOT NULL, metric "
				      "TEXT NOT NULL, labels TEXT NOT NULL, value NOT NULL, count "
				      "INTEGER);", NULL, NULL, NULL), SQLITE_OK);
}

static inline void store_close(void)
{
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	db = NULL;
}

/* One event of @type by @svc at @ts, its JSON's fields after the type @json. */
static inline void store_event(const char *type, const char *svc, int64_t ts, const char *json)
{
	char sql[1024];

	snprintf(sql, sizeof(sql), "INSERT INTO events(ts, type, service, json) VALUES(%lld, "
		 "'%s', '%s', '{\"type\":\"%s\",%s}')", (long long)ts, type, svc, type, json);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* One interval's rollup of @metric{@labels} (a JSON object) at @ts, @secs long. */
static inline void store_rollup(int64_t ts, double secs, const char *metric, const char *labels,
				long long value)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO rollups VALUES(%lld, %g, '%s', '%s', %lld, "
		 "NULL)", (long long)ts, secs, metric, labels, value);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

#endif
