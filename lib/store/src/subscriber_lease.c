/*
 * subscriber_lease.c - IND slot leases in the subscriber database (see
 * gba/subscriber_db.h): table ind_lease(ind, holder, expires), made on
 * first use so that databases from before it need no migration.  Each
 * take/renew is one BEGIN IMMEDIATE transaction, so two BSFs starting at
 * once cannot both win one slot.  Statements are prepared per call: leases
 * are taken at start and renewed every few seconds, never per vector.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <string.h>

#include "sqlite_util.h"
#include "subscriber_internal.h"

static const char LEASE_TABLE[] =
	"CREATE TABLE IF NOT EXISTS ind_lease("
	" ind INTEGER PRIMARY KEY,"
	" holder TEXT NOT NULL,"
	" expires INTEGER NOT NULL)";

static int holder_ok(const char *holder)
{
	size_t n = holder ? strnlen(holder, GBA_SUBDB_HOLDER_MAX + 1) : 0;

	return n > 0 && n <= GBA_SUBDB_HOLDER_MAX;
}

/* A statement for one call (finalized by the caller). */
static gba_err prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? GBA_OK : GBA_ERR_STORE;
}

static void row_lease(sqlite3_stmt *st, struct gba_subdb_lease *l)
{
	const unsigned char *h = sqlite3_column_text(st, 1);

	memset(l, 0, sizeof(*l));
	l->ind = (unsigned)sqlite3_column_int(st, 0);
	if (h)
		strncpy(l->holder, (const char *)h, GBA_SUBDB_HOLDER_MAX);
	l->expires = sqlite3_column_int64(st, 2);
}

/* Inside the transaction: the slot's current lease, if any (1 found). */
static int current(struct gba_subdb *db, unsigned ind, struct gba_subdb_lease *l, gba_err *err)
{
	sqlite3_stmt *st;
	int found = 0, rc;

	*err = prepare(db->db, "SELECT ind, holder, expires FROM ind_lease WHERE ind = ?", &st);
	if (*err)
		return 0;
	sqlite3_bind_int(st, 1, (int)ind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_lease(st, l);
		found = 1;
	} else if (rc != SQLITE_DONE)
		*err = store_sqlite_err(rc);
	sqlite3_finalize(st);
	return found;
}

static gba_err write_lease(struct gba_subdb *db, unsigned ind, const char *holder,
			   int64_t expires)
{
	sqlite3_stmt *st;
	gba_err err = prepare(db->db, "INSERT INTO ind_lease(ind, holder, expires) VALUES(?, ?, ?)"
				      " ON CONFLICT(ind) DO UPDATE SET holder = excluded.holder,"
				      " expires = excluded.expires", &st);
	int rc;

	if (err)
		return err;
	sqlite3_bind_int(st, 1, (int)ind);
	sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)expires);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? GBA_OK : store_sqlite_err(rc);
}

gba_err gba_subdb_lease_ind(struct gba_subdb *db, const char *holder, unsigned ind,
			    int64_t now, unsigned ttl, struct gba_subdb_lease *other)
{
	struct gba_subdb_lease cur;
	gba_err err;

	if (!db || !holder_ok(holder) || ind >= GBA_IND_SLOTS_MAX || ttl == 0)
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	err = store_sqlite_exec(db->db, LEASE_TABLE);
	if (!err)
		err = subdb_begin(db);
	if (!err && current(db, ind, &cur, &err) && strcmp(cur.holder, holder) &&
	    cur.expires > now) {
		if (other)
			*other = cur;
		err = GBA_ERR_EXISTS;   /* another BSF's lease runs */
	}
	if (!err)
		err = write_lease(db, ind, holder, now + (int64_t)ttl);
	if (!err)
		err = subdb_commit(db);
	else
		subdb_rollback(db);
	pthread_mutex_unlock(&db->lock);
	return err;
}

gba_err gba_subdb_release_ind(struct gba_subdb *db, const char *holder, unsigned ind)
{
	sqlite3_stmt *st;
	gba_err err;

	if (!db || !holder_ok(holder) || ind >= GBA_IND_SLOTS_MAX)
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	err = store_sqlite_exec(db->db, LEASE_TABLE);
	if (!err)
		err = prepare(db->db, "DELETE FROM ind_lease WHERE ind = ? AND holder = ?", &st);
	if (!err) {
		sqlite3_bind_int(st, 1, (int)ind);
		sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		err = rc != SQLITE_DONE ? store_sqlite_err(rc)
					: sqlite3_changes(db->db) ? GBA_OK : GBA_ERR_NOT_FOUND;
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	return err;
}

gba_err gba_subdb_leases(struct gba_subdb *db,
			 int (*fn)(const struct gba_subdb_lease *lease, void *arg), void *arg)
{
	struct gba_subdb_lease l;
	sqlite3_stmt *st;
	gba_err err;
	int rc = SQLITE_DONE;

	if (!db || !fn)
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	err = store_sqlite_exec(db->db, LEASE_TABLE);
	if (!err)
		err = prepare(db->db, "SELECT ind, holder, expires FROM ind_lease ORDER BY ind", &st);
	if (!err) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			row_lease(st, &l);
			if (fn(&l, arg))
				break;
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			err = store_sqlite_err(rc);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	return err;
}
