/*
 * subscriber_map.c - the IMPI -> IMSI table of a subscriber database, for
 * an AuC elsewhere that knows subscribers by IMSI only (osmo-hlr over
 * GSUP), the IMPI -> Public-Identity table for an IMS HSS over Cx, and the
 * GUSS of a user whose keys live there.  See gba/subscriber_db.h.
 *
 * The tables are created on first use, so a database that never maps an
 * IMPI keeps the schema it had (and stays readable by older releases).
 */
#include <string.h>

#include "sqlite_util.h"
#include "subscriber_internal.h"

static const char map_schema[] =
	"CREATE TABLE IF NOT EXISTS impi_map("
	" impi TEXT PRIMARY KEY NOT NULL,"
	" imsi TEXT NOT NULL);";

static const char pubid_schema[] =
	"CREATE TABLE IF NOT EXISTS impi_public_identity("
	" impi TEXT PRIMARY KEY NOT NULL,"
	" public_identity TEXT NOT NULL);";

/* Prepare sql; a missing table reads as an empty one. */
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

/* INSERT OR REPLACE (impi, value) with the table made first. */
static gba_err put_pair(struct gba_subdb *db, const char *schema, const char *sql,
			const char *impi, const char *value)
{
	sqlite3_stmt *st = NULL;
	gba_err err;

	pthread_mutex_lock(&db->lock);
	err = store_sqlite_exec(db->db, schema);
	if (!err)
		err = prepare(db, sql, &st);
	if (!err) {
		sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
		err = store_sqlite_run(st);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return err;
}

gba_err gba_subdb_map(struct gba_subdb *db, const char *impi, const char *imsi)
{
	if (!db || !impi || !imsi || !subscriber_impi_ok(impi, strlen(impi)) ||
	    !*imsi || !subscriber_imsi_ok(imsi, strlen(imsi)))
		return GBA_ERR_INVALID_ARG;
	return put_pair(db, map_schema,
			"INSERT OR REPLACE INTO impi_map(impi, imsi) VALUES(?1, ?2)", impi, imsi);
}

int gba_subdb_public_identity_ok(const char *uri)
{
	size_t n = uri ? strlen(uri) : 0;

	if (n < 5 || n > GBA_PUBLIC_IDENTITY_MAX ||
	    (strncmp(uri, "sip:", 4) && strncmp(uri, "sips:", 5) && strncmp(uri, "tel:", 4)))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)uri[i] <= 0x20 || (unsigned char)uri[i] >= 0x7f)
			return 0;
	return 1;
}

gba_err gba_subdb_map_public_identity(struct gba_subdb *db, const char *impi, const char *uri)
{
	if (!db || !impi || !subscriber_impi_ok(impi, strlen(impi)) ||
	    !gba_subdb_public_identity_ok(uri))
		return GBA_ERR_INVALID_ARG;
	return put_pair(db, pubid_schema, "INSERT OR REPLACE INTO"
			" impi_public_identity(impi, public_identity) VALUES(?1, ?2)", impi, uri);
}

/* Delete impi's row of one table: 1 when there was one, 0 when not, -1 on error. */
static int delete_pair(struct gba_subdb *db, const char *sql, const char *impi, gba_err *err)
{
	sqlite3_stmt *st = NULL;
	gba_err e = prepare(db, sql, &st);
	int deleted = 0;

	if (!e) {
		sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
		e = store_sqlite_run(st);
		deleted = !e && sqlite3_changes(db->db) > 0;
	}
	sqlite3_finalize(st);
	if (e && e != GBA_ERR_NOT_FOUND) {
		*err = e;
		return -1;
	}
	return deleted;
}

/* Both mappings of impi go: its IMSI and its Public-Identity. */
gba_err gba_subdb_unmap(struct gba_subdb *db, const char *impi)
{
	gba_err err = GBA_OK;
	int a, b;

	if (!db || !impi)
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	a = delete_pair(db, "DELETE FROM impi_map WHERE impi = ?1", impi, &err);
	b = a < 0 ? 0 : delete_pair(db, "DELETE FROM impi_public_identity WHERE impi = ?1",
				    impi, &err);
	pthread_mutex_unlock(&db->lock);
	if (a < 0 || b < 0)
		return err;
	return a || b ? GBA_OK : GBA_ERR_NOT_FOUND;
}

/* Copy column col of st's current row into out (size octets, cut to fit). */
static void copy_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	size_t n = s ? strlen((const char *)s) : 0;

	if (n >= size)
		n = size - 1;
	memcpy(out, s ? (const char *)s : "", n);
	out[n] = '\0';
}

/* The value column of impi's row (sql selects it) into out. */
static gba_err get_value(struct gba_subdb *db, const char *sql, const char *impi, char *out,
			 size_t size)
{
	sqlite3_stmt *st = NULL;
	gba_err err;

	pthread_mutex_lock(&db->lock);
	err = prepare(db, sql, &st);
	if (!err) {
		int rc;

		sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			copy_text(st, 0, out, size);
		else
			err = rc == SQLITE_DONE ? GBA_ERR_NOT_FOUND : store_sqlite_err(rc);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return err;
}

gba_err gba_subdb_imsi_of(struct gba_subdb *db, const char *impi, char imsi[GBA_IMSI_MAX + 1])
{
	if (!db || !impi || !imsi)
		return GBA_ERR_INVALID_ARG;
	return get_value(db, "SELECT imsi FROM impi_map WHERE impi = ?1", impi, imsi,
			 GBA_IMSI_MAX + 1);
}

gba_err gba_subdb_public_identity_of(struct gba_subdb *db, const char *impi, char *uri,
				     size_t size)
{
	if (!db || !impi || !uri || size < GBA_PUBLIC_IDENTITY_MAX + 1)
		return GBA_ERR_INVALID_ARG;
	return get_value(db, "SELECT public_identity FROM impi_public_identity WHERE impi = ?1",
			 impi, uri, size);
}

static gba_err list_pairs(struct gba_subdb *db, const char *sql,
			  int (*fn)(const char *impi, const char *value, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	gba_err err;
	int rc = SQLITE_DONE;

	if (!db || !fn)
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	err = prepare(db, sql, &st);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char impi[GBA_IMPI_MAX + 1], value[GBA_PUBLIC_IDENTITY_MAX + 1];

		copy_text(st, 0, impi, sizeof(impi));
		copy_text(st, 1, value, sizeof(value));
		if (fn(impi, value, arg))
			break;
	}
	if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = store_sqlite_err(rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return err == GBA_ERR_NOT_FOUND ? GBA_OK : err;
}

gba_err gba_subdb_map_list(struct gba_subdb *db,
			   int (*fn)(const char *impi, const char *imsi, void *arg), void *arg)
{
	return list_pairs(db, "SELECT impi, imsi FROM impi_map ORDER BY impi", fn, arg);
}

gba_err gba_subdb_public_identity_list(struct gba_subdb *db,
				       int (*fn)(const char *impi, const char *uri, void *arg),
				       void *arg)
{
	return list_pairs(db, "SELECT impi, public_identity FROM impi_public_identity"
			      " ORDER BY impi", fn, arg);
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
