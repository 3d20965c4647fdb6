/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The store: the agent's history in SQLite (WAL mode), for `ksight query`.
 *
 * The sink (store.c, `-o store:PATH`, `ksight run --store PATH`) keeps the events worth
 * keeping (records of the types in KS_STORE_TYPES, each as the JSON line `--json` would
 * print) and, each interval, the registry's deltas (rollups). The reader's thread only
 * copies into a batch; a worker thread (core/worker.h) writes each batch in one
 * transaction and applies the retention (age, then size). The database (store_db.c) is
 * created 0600, its directory 0700 when the store makes it.
 *
 * Tables (docs/store.md): events(id, ts, type, pid, comm, service, json) and
 * rollups(ts, secs, metric, labels, value, count); ts in ns since the epoch.
 */
#ifndef KSIGHT_STORE_H
#define KSIGHT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sqlite3;

#define KS_STORE_DIR "/var/lib/ksight"
#define KS_STORE_DEFAULT KS_STORE_DIR "/ksight.db"
#define KS_STORE_ENV "KSIGHT_STORE"	/* the default path for run and query; "none": off */
#define KS_STORE_RETENTION_DEFAULT (7 * 86400ULL)	/* seconds */
#define KS_STORE_MAX_MB_DEFAULT 256
#define KS_STORE_SCHEMA 1

/* Record types kept as events (NULL-ended). */
extern const char *const ks_store_types[];

/* Settings of the store sink, set by `ksight run` before the session opens its outputs. */
struct ks_store_conf {
	uint64_t retention_s;	/* rows older than this go; 0: kept by age forever */
	uint64_t max_bytes;	/* the database's size limit; 0: none */
};

extern struct ks_store_conf ks_store_conf;

/* The store's path when none is given: $KSIGHT_STORE, else KS_STORE_DEFAULT. */
const char *ks_store_default_path(void);

/*
 * A duration: a number with a unit s, m, h, d or w ("10m", "7d"; a bare number is
 * seconds). Returns 0 with *secs set, or -1 (not a duration, zero, or over 100 years).
 */
int ks_store_parse_duration(const char *text, uint64_t *secs);

/*
 * Open (creating it 0600 if missing, and KS_STORE_DIR 0700 for the default path) the
 * database at @path for writing, in WAL mode, with the schema. Returns the handle, or
 * NULL with one line in @err and errno set: the file's error, or EIO for SQLite's.
 */
struct sqlite3 *ks_store_db_open(const char *path, char *err, size_t len);

/* Open for reading (ksight query). NULL with one line in @err (no such store, ...). */
struct sqlite3 *ks_store_db_open_ro(const char *path, char *err, size_t len);

/*
 * Apply the retention as of @now_ns: delete rows older than @retention_s, then, while the
 * database holds more than @max_bytes of pages, the oldest eighth of what is left, and
 * give the freed pages back to the file system. Returns the rows deleted, or -1.
 */
int64_t ks_store_db_retain(struct sqlite3 *db, int64_t now_ns, uint64_t retention_s,
			   uint64_t max_bytes);

/* Bytes of the database's pages in use (page_count - freelist_count), or -1. */
int64_t ks_store_db_used(struct sqlite3 *db);

#endif
