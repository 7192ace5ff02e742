/*
 * sqlite_util.h - what the SQLite session store and the subscriber
 * database share: opening a file the way both need it, running schema
 * scripts, caching prepared statements, mapping SQLite's result codes to
 * gba_err.  Internal: not installed.
 */
#ifndef GBA_STORE_SQLITE_UTIL_H
#define GBA_STORE_SQLITE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include <sqlite3.h>

#include <gba/error.h>

/* How long a writer waits for another process's write lock. */
#define STORE_SQLITE_BUSY_MS 5000

/*
 * Open (creating it 0600 if absent: it holds secrets) the database file at
 * path, in WAL mode with synchronous=NORMAL and a busy timeout.  The
 * connection does no locking of its own: each user serialises access to it
 * with its own mutex.  secure_delete is the value of SQLite's
 * secure_delete pragma ("ON", "FAST"): how hard SQLite works to overwrite
 * deleted content, which held keys.
 */
gba_err store_sqlite_open(sqlite3 **out, const char *path, const char *secure_delete,
			  int exclusive);

/*
 * The gba_err for a call that failed with rc (never GBA_OK: a result code
 * that is not an error where one was expected counts as a store failure).
 * A write refused for want of space or by the device (SQLITE_FULL, failed
 * writes, fsyncs, a shared-memory file that cannot grow) is
 * GBA_ERR_STORE_UNWRITABLE: nothing was written, and a retry may succeed.
 */
gba_err store_sqlite_err(int rc);

/* Run SQL without results (schema, BEGIN/COMMIT). */
gba_err store_sqlite_exec(sqlite3 *db, const char *sql);

/*
 * Create or check the schema: refuse a file whose PRAGMA user_version is
 * above version (from a newer release) or unreadable (not ours); else run
 * sql (CREATE ... IF NOT EXISTS) and set user_version, in one transaction.
 */
gba_err store_sqlite_schema(sqlite3 *db, const char *sql, int version);

/*
 * The same with ordered upgrades: a new file gets sql (the current schema);
 * a file at version v < version runs steps[v - 1], steps[v], ... (step i
 * takes version i + 1 to i + 2), all in the one transaction.
 */
gba_err store_sqlite_schema_steps(sqlite3 *db, const char *sql, int version,
				  const char *const *steps);

/* Prepare n statements once, for the life of the connection. */
gba_err store_sqlite_prepare(sqlite3 *db, const char *const *sql, sqlite3_stmt **stmts,
			     size_t n);
void store_sqlite_finalize(sqlite3_stmt **stmts, size_t n);

/*
 * Step a statement that returns no row (or whose row is not wanted), then
 * reset it and clear its bindings, so that no key material stays bound.
 */
gba_err store_sqlite_run(sqlite3_stmt *st);

/* Reset and unbind a statement after its rows were read. */
void store_sqlite_done(sqlite3_stmt *st);

/*
 * A mutex for a connection's short critical sections (a few µs): glibc's
 * adaptive kind spins briefly before it sleeps, which avoids a futex
 * round trip per contended operation.  0 on success.
 */
int store_mutex_init(pthread_mutex_t *m);

/* Bytes the database file uses: page_count * page_size, freelist excluded. */
gba_err store_sqlite_bytes(sqlite3 *db, uint64_t *bytes);

#endif
