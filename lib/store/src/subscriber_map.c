/*
 * subscriber_map.c - the IMPI -> IMSI table of a subscriber database, for
 * an AuC elsewhere that knows subscribers by IMSI only (osmo-hlr over
 * GSUP), and the GUSS of a user whose keys live there.  See
 * gba/subscriber_db.h.
 *
 * The table is created on first use, so a database that never maps an
 * IMPI keeps the schema it had (and stays readable by older releases).
 */
#include <string.h>

#include "sqlite_util.h"
#include "subscriber_internal.h"

static const char map_schema[] =
	"CREATE TABLE IF NOT EXISTS impi_map("
	" impi TEXT PRIMARY KEY NOT NULL,"
	" imsi TEXT NOT NULL);";

/* Prepare sql; a missing impi_map table reads as an empty one. */
static gba_err prepare(struct gba_subdb *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db->db, sql, -1, st, NULL);

	if (rc == SQLITE_OK)
		return GBA_OK;
	*st = NULL;
	if (rc == SQLITE_ERROR && strstr(sqlite3_errmsg(db->db), "no such table"))
		return GBA_ERR_NOT_FOUND;
	return store_sqlite_err(rc);
}

gba_err gba_subdb_map(struct gba_subdb *db, const char *impi, const char *imsi)
{
	sqlite3_stmt *st = NULL;
	gba_err err;

	if (!db || !impi || !imsi || !subscriber_impi_ok(impi, strlen(impi)) ||
	    !*imsi || !subscriber_imsi_ok(imsi, strlen(imsi)))
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	err = store_sqlite_exec(db->db, map_schema);
	if (!err)
		err = prepare(db, "INSERT OR REPLACE INTO impi_map(impi, imsi) VALUES(?1, ?2)",
			      &st);
	if (!err) {
		sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, imsi, -1, SQLITE_STATIC);
		err = store_sqlite_run(st);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return err;
}

gba_err gba_subdb_unmap(struct gba_subdb *db, const char *impi)
{
	sqlite3_stmt *st = NULL;
	gba_err err;

	if (!db || !impi)
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	err = prepare(db, "DELETE FROM impi_map WHERE impi = ?1", &st);
	if (!err) {
		sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
		err = store_sqlite_run(st);
		if (!err && sqlite3_changes(db->db) == 0)
			err = GBA_ERR_NOT_FOUND;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return err;
}

/* Copy column col of st's current row into out (size GBA_IMSI_MAX + 1 or more). */
static void copy_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	size_t n = s ? strlen((const char *)s) : 0;

	if (n >= size)
		n = size - 1;
	memcpy(out, s ? (const char *)s : "", n);
	out[n] = '\0';
}

gba_err gba_subdb_imsi_of(struct gba_subdb *db, const char *impi, char imsi[GBA_IMSI_MAX + 1])
{
	sqlite3_stmt *st = NULL;
	gba_err err;

	if (!db || !impi || !imsi)
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	err = prepare(db, "SELECT imsi FROM impi_map WHERE impi = ?1", &st);
	if (!err) {
		int rc;

		sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			copy_text(st, 0, imsi, GBA_IMSI_MAX + 1);
		else
			err = rc == SQLITE_DONE ? GBA_ERR_NOT_FOUND : store_sqlite_err(rc);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return err;
}

gba_err gba_subdb_map_list(struct gba_subdb *db,
			   int (*fn)(const char *impi, const char *imsi, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	gba_err err;
	int rc = SQLITE_DONE;

	if (!db || !fn)
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	err = prepare(db, "SELECT impi, imsi FROM impi_map ORDER BY impi", &st);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char impi[GBA_IMPI_MAX + 1], imsi[GBA_IMSI_MAX + 1];

		copy_text(st, 0, impi, sizeof(impi));
		copy_text(st, 1, imsi, sizeof(imsi));
		if (fn(impi, imsi, arg))
			break;
	}
	if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = store_sqlite_err(rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return err == GBA_ERR_NOT_FOUND ? GBA_OK : err;
}

gba_err gba_subdb_guss(struct gba_subdb *db, const char *impi, const char *imsi,
		       char *guss, size_t size, size_t *len)
{
	sqlite3_stmt *st = NULL;
	gba_err err;
	int rc;

	if (!db || !impi || !guss || !len)
		return GBA_ERR_INVALID_ARG;
	*len = 0;
	pthread_mutex_lock(&db->lock);
	/* The IMPI's own row first, then any row of the IMSI. */
	err = prepare(db, "SELECT guss FROM subscriber WHERE guss IS NOT NULL AND"
			  " (impi = ?1 OR (?2 <> '' AND imsi = ?2))"
			  " ORDER BY impi = ?1 DESC LIMIT 1", &st);
	if (!err) {
		sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, imsi ? imsi : "", -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			size_t n = (size_t)sqlite3_column_bytes(st, 0);

			if (n + 1 > size) {
				err = GBA_ERR_BUFFER_TOO_SMALL;
			} else {
				memcpy(guss, sqlite3_column_blob(st, 0), n);
				guss[n] = '\0';
				*len = n;
			}
		} else {
			err = rc == SQLITE_DONE ? GBA_ERR_NOT_FOUND : store_sqlite_err(rc);
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return err;
}
