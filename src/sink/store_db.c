// SPDX-License-Identifier: GPL-2.0
/* The store's database: creation (0600), schema, retention (see store.h). */
#include "sink/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const ks_store_types[] = { "exec", "tcplife", "tcpconnect", "tcpaccept", "udp_flow",
					 "req_row", "bio_row", "alert", NULL };

struct ks_store_conf ks_store_conf = {
	.retention_s = KS_STORE_RETENTION_DEFAULT,
	.max_bytes = (uint64_t)KS_STORE_MAX_MB_DEFAULT << 20,
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
	"CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
	" type TEXT NOT NULL, pid INTEGER, comm TEXT, service TEXT, json TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS events_ts ON events(ts);"
	"CREATE INDEX IF NOT EXISTS events_type_ts ON events(type, ts);"
	"CREATE TABLE IF NOT EXISTS rollups(ts INTEGER NOT NULL, secs REAL NOT NULL,"
	" metric TEXT NOT NULL, labels TEXT NOT NULL, value NOT NULL, count INTEGER);"
	"CREATE INDEX IF NOT EXISTS rollups_metric_ts ON rollups(metric, ts);"
	"CREATE INDEX IF NOT EXISTS rollups_ts ON rollups(ts);";

const char *ks_store_default_path(void)
{
	const char *e = getenv(KS_STORE_ENV);

	return e && *e ? e : KS_STORE_DEFAULT;
}

int ks_store_parse_duration(const char *text, uint64_t *secs)
{
	static const struct { char c; uint64_t mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 },
	};
	uint64_t n = 0, mul = 1;
	const char *p = text;

	if (!text || *text < '0' || *text > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > 100ULL * 366 * 86400)
			return -1;
	}
	if (*p) {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (*p == units[i].c)
				break;
		if (i == sizeof(units) / sizeof(units[0]) || p[1])
			return -1;
		mul = units[i].mul;
	}
	if (!n || n * mul > 100ULL * 366 * 86400)
		return -1;
	*secs = n * mul;
	return 0;
}

/* Create the file 0600 if it is not there (SQLite gives its -wal and -shm files the
 * database's mode); an existing one must be a regular file. */
static int create_file(const char *path, char *err, size_t len)
{
	struct stat st;
	int fd, e;

	if (!strcmp(path, KS_STORE_DEFAULT) && mkdir(KS_STORE_DIR, 0700) && errno != EEXIST) {
		e = errno;
		snprintf(err, len, "cannot create %s: %s", KS_STORE_DIR, strerror(e));
		return -e;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0) {
		e = errno;
		snprintf(err, len, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, len, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	close(fd);
	return 0;
}

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t len)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, len, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

struct sqlite3 *ks_store_db_open(const char *path, char *err, size_t len)
{
	sqlite3 *db = NULL;
	char msg[200];
	int64_t ver;
	int e = create_file(path, err, len);

	if (e) {
		errno = -e;
		return NULL;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		snprintf(err, len, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db, 5000);
	/* auto_vacuum takes effect only before the first table: a new file gets it */
	if (exec_sql(db, "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;"
		     "PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=67108864;",
		     msg, sizeof(msg)) ||
	    exec_sql(db, schema, msg, sizeof(msg))) {
		snprintf(err, len, "%s: %s", path, msg);
		goto fail;
	}
	ver = one_int(db, "SELECT value FROM meta WHERE key='schema'");
	if (ver > KS_STORE_SCHEMA) {
		snprintf(err, len, "%s: schema %lld, written by a newer ksight (this one knows %d)",
			 path, (long long)ver, KS_STORE_SCHEMA);
		goto fail;
	}
	if (ver < 0 && exec_sql(db, "INSERT OR IGNORE INTO meta VALUES('schema', 1)", msg,
				sizeof(msg))) {
		snprintf(err, len, "%s: %s", path, msg);
		goto fail;
	}
	return db;
fail:
	sqlite3_close(db);
	errno = EIO;	/* SQLite's reason is in @err */
	return NULL;
}

struct sqlite3 *ks_store_db_open_ro(const char *path, char *err, size_t len)
{
	sqlite3 *db = NULL;
	struct stat st;

	if (stat(path, &st)) {
		snprintf(err, len, "no store at %s (%s): the agent writes it, ksight run --store "
			 "PATH", path, strerror(errno));
		return NULL;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    one_int(db, "SELECT count(*) FROM sqlite_master WHERE name='events'") != 1) {
		snprintf(err, len, "%s: not a ksight store%s%s", path, db ? ": " : "",
			 db ? sqlite3_errmsg(db) : "");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

int64_t ks_store_db_used(struct sqlite3 *db)
{
	int64_t pages = one_int(db, "PRAGMA page_count"), free = one_int(db, "PRAGMA freelist_count");
	int64_t size = one_int(db, "PRAGMA page_size");

	if (pages < 0 || free < 0 || size < 0)
		return -1;
	return (pages - free) * size;
}

/* DELETE ... WHERE ts < @cut, or of the oldest @limit rows when @limit > 0. */
static int64_t delete_rows(sqlite3 *db, const char *table, int64_t cut, int64_t limit)
{
	char sql[160];
	sqlite3_stmt *st;
	int rc;

	if (limit > 0)
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE rowid IN (SELECT rowid FROM %s "
			 "ORDER BY ts LIMIT ?)", table, table);
	else
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE ts < ?", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, limit > 0 ? limit : cut);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_changes(db) : -1;
}

int64_t ks_store_db_retain(struct sqlite3 *db, int64_t now_ns, uint64_t retention_s,
			   uint64_t max_bytes)
{
	static const char *const tables[] = { "events", "rollups" };
	char msg[200];
	int64_t gone = 0, n;

	if (exec_sql(db, "BEGIN IMMEDIATE", msg, sizeof(msg)))
		return -1;
	for (int t = 0; t < 2 && retention_s; t++) {
		n = delete_rows(db, tables[t], now_ns - (int64_t)retention_s * 1000000000LL, 0);
		if (n < 0)
			goto fail;
		gone += n;
	}
	for (int round = 0; max_bytes && round < 64; round++) {
		int64_t used = ks_store_db_used(db), rows = 0;

		if (used < 0)
			goto fail;
		if ((uint64_t)used <= max_bytes)
			break;
		for (int t = 0; t < 2; t++) {
			char sql[64];

			snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[t]);
			n = one_int(db, sql);
			if (n <= 0)
				continue;
			rows += n;
			n = delete_rows(db, tables[t], 0, n / 8 ? n / 8 : n);
			if (n < 0)
				goto fail;
			gone += n;
		}
		if (!rows)
			break;	/* empty tables: the rest is the schema */
	}
	if (exec_sql(db, "COMMIT", msg, sizeof(msg)))
		goto fail;
	if (gone) {
		/* the freed pages (on the freelist) go back to the file system */
		exec_sql(db, "PRAGMA incremental_vacuum", msg, sizeof(msg));
		/* the file shrinks only when the WAL goes back into it */
		exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)", msg, sizeof(msg));
	}
	return gone;
fail:
	exec_sql(db, "ROLLBACK", msg, sizeof(msg));
	return -1;
}
