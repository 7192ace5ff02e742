/*
 * sqlite_util.c - SQLite helpers shared by the session store and the
 * subscriber database.
 */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqlite_util.h"

/*
 * Writes that failed for want of space or because the device refused them:
 * worth retrying once space returns.  SQLite reports ENOSPC on a write as
 * SQLITE_FULL, other failed writes (EDQUOT, EIO) and a shared-memory file
 * that cannot grow as these extended I/O errors.
 */
static int write_refused(int rc)
{
	switch (rc) {
	case SQLITE_FULL:
	case SQLITE_IOERR_WRITE:
	case SQLITE_IOERR_FSYNC:
	case SQLITE_IOERR_DIR_FSYNC:
	case SQLITE_IOERR_TRUNCATE:
	case SQLITE_IOERR_SHMSIZE:
		return 1;
	default:
		return 0;
	}
}

gba_err store_sqlite_err(int rc)
{
	if (write_refused(rc))
		return GBA_ERR_STORE_UNWRITABLE;
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return GBA_ERR_NO_MEMORY;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		/* Another process held the lock past the busy timeout. */
		return GBA_ERR_TIMEOUT;
	case SQLITE_CONSTRAINT:
		return GBA_ERR_EXISTS;
	case SQLITE_TOOBIG:
		return GBA_ERR_TOO_LARGE;
	default:
		return GBA_ERR_STORE;
	}
}

/*
 * SQLite creates a missing database with the process umask, which may
 * leave it readable by others; create it 0600 first.  Its -wal and -shm
 * files inherit the database file's mode.
 *
 * Only a missing file is opened here (O_EXCL).  Opening and closing an
 * existing one would be harmful: close() drops every POSIX lock this
 * process holds on the file, including those of a connection already
 * open on it (the session store's checkpointer is a second connection),
 * and another process could then reset the WAL index under it.
 */
static gba_err create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR);

	if (fd < 0) {
		if (errno == EEXIST)
			return GBA_OK;
		return errno == ENOMEM ? GBA_ERR_NO_MEMORY : GBA_ERR_STORE;
	}
	close(fd);
	return GBA_OK;
}

gba_err store_sqlite_exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? GBA_OK : store_sqlite_err(rc);
}

/* PRAGMA user_version, or -1 when unreadable (not a database of ours). */
static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int found = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		found = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return found;
}

/*
 * What brings a file at version found to version: the whole schema for a
 * new file (0) or when there are no steps, else each missing step in order.
 */
static gba_err schema_run(sqlite3 *db, const char *sql, int found, int version,
			  const char *const *steps)
{
	gba_err err = GBA_OK;

	if (found == 0 || !steps)
		return store_sqlite_exec(db, sql);
	for (int v = found; v < version && !err; v++)
		err = store_sqlite_exec(db, steps[v - 1]);
	return err;
}

gba_err store_sqlite_schema_steps(sqlite3 *db, const char *sql, int version,
				  const char *const *steps)
{
	int found = user_version(db);
	char set[48];
	gba_err err;

	if (found < 0 || found > version)
		return GBA_ERR_STORE;   /* not ours, or from a newer release */
	err = store_sqlite_exec(db, "BEGIN IMMEDIATE");
	if (err)
		return err;
	/* Read again under the write lock: another process may have upgraded it. */
	found = user_version(db);
	err = found < 0 || found > version ? GBA_ERR_STORE : GBA_OK;
	snprintf(set, sizeof(set), "PRAGMA user_version = %d", version);
	if (!err)
		err = schema_run(db, sql, found, version, steps);
	if (!err)
		err = store_sqlite_exec(db, set);
	if (!err)
		err = store_sqlite_exec(db, "COMMIT");
	if (err)
		(void)store_sqlite_exec(db, "ROLLBACK");
	return err == GBA_ERR_EXISTS ? GBA_ERR_STORE : err;
}

gba_err store_sqlite_schema(sqlite3 *db, const char *sql, int version)
{
	return store_sqlite_schema_steps(db, sql, version, NULL);
}

gba_err store_sqlite_open(sqlite3 **out, const char *path, const char *secure_delete,
			  int exclusive)
{
	sqlite3 *db = NULL;
	gba_err err;
	int rc;

	if (!out || !path || !*path || !secure_delete || strlen(secure_delete) > 8)
		return GBA_ERR_INVALID_ARG;
	*out = NULL;
	err = create_private(path);
	if (err)
		return err;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return GBA_ERR_STORE;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, STORE_SQLITE_BUSY_MS);
	/* Exclusive locking must come before the first access in WAL mode. */
	err = exclusive ? store_sqlite_exec(db, "PRAGMA locking_mode=EXCLUSIVE;") : GBA_OK;
	if (!err)
		err = store_sqlite_exec(db, "PRAGMA journal_mode=WAL;"
					    "PRAGMA synchronous=NORMAL;"
					    "PRAGMA foreign_keys=OFF;"
					    "PRAGMA cache_size=-16384;"
					    "PRAGMA mmap_size=268435456;"
					    "PRAGMA journal_size_limit=67108864;");
	if (!err) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA secure_delete=%s;", secure_delete);
		err = store_sqlite_exec(db, sql);
	}
	if (err) {
		sqlite3_close(db);
		return err == GBA_ERR_EXISTS ? GBA_ERR_STORE : err;
	}
	*out = db;
	return GBA_OK;
}

gba_err store_sqlite_prepare(sqlite3 *db, const char *const *sql, sqlite3_stmt **stmts,
			     size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i],
					    NULL);
		if (rc != SQLITE_OK) {
			store_sqlite_finalize(stmts, i);
			return store_sqlite_err(rc);
		}
	}
	return GBA_OK;
}

void store_sqlite_finalize(sqlite3_stmt **stmts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
}

void store_sqlite_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

gba_err store_sqlite_run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	store_sqlite_done(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return GBA_OK;
	return store_sqlite_err(rc);
}

static gba_err pragma_int(sqlite3 *db, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return GBA_ERR_STORE;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? GBA_OK : store_sqlite_err(rc);
}

gba_err store_sqlite_bytes(sqlite3 *db, uint64_t *bytes)
{
	int64_t pages = 0, free_pages = 0, page_size = 0;
	gba_err err = pragma_int(db, "PRAGMA page_count", &pages);

	if (!err)
		err = pragma_int(db, "PRAGMA freelist_count", &free_pages);
	if (!err)
		err = pragma_int(db, "PRAGMA page_size", &page_size);
	if (err)
		return err;
	*bytes = (uint64_t)(pages - free_pages) * (uint64_t)page_size;
	return GBA_OK;
}

int store_mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t attr;
	int rc = pthread_mutexattr_init(&attr);

	if (rc)
		return rc;
#ifdef PTHREAD_MUTEX_ADAPTIVE_NP
	(void)pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
	rc = pthread_mutex_init(m, &attr);
	pthread_mutexattr_destroy(&attr);
	return rc;
}
