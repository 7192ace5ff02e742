/*
 * subscriber_admin.c - changing a subscriber in place (gba_subdb_set_sqn,
 * gba_subdb_update): what a lab does to a SIM it re-provisions or whose SQN
 * it resets.  Admin operations, rare: each prepares its own statement.
 */
#define _POSIX_C_SOURCE 200809L   /* strnlen */

#include <string.h>

#include <gba/util.h>

#include "auc_cache.h"
#include "sqlite_util.h"
#include "subscriber_internal.h"
#include "subscriber_keys.h"

static int impi_ok(const char *impi)
{
	return impi && subscriber_impi_ok(impi, strnlen(impi, GBA_IMPI_MAX + 1));
}

/* Run one UPDATE ... WHERE impi = ?1 whose other values bind() sets. */
static gba_err update_row(struct gba_subdb *db, const char *sql, const char *impi,
			  void (*bind)(sqlite3_stmt *st, const void *arg), const void *arg)
{
	sqlite3_stmt *st = NULL;
	gba_err err;
	int rc = sqlite3_prepare_v2(db->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return store_sqlite_err(rc);
	sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
	bind(st, arg);
	err = store_sqlite_run(st);   /* unbinds what bind() put there */
	if (!err && sqlite3_changes(db->db) == 0)
		err = GBA_ERR_NOT_FOUND;
	sqlite3_finalize(st);
	return err;
}

static void bind_sqn(sqlite3_stmt *st, const void *arg)
{
	sqlite3_bind_int64(st, 2, (sqlite3_int64)*(const uint64_t *)arg);
}

gba_err gba_subdb_set_sqn(struct gba_subdb *db, const char *impi, uint64_t sqn)
{
	gba_err err;

	if (!db || sqn > GBA_SQN_MAX)
		return GBA_ERR_INVALID_ARG;
	if (!impi_ok(impi))
		return GBA_ERR_NOT_FOUND;
	pthread_mutex_lock(&db->lock);
	err = update_row(db, "UPDATE subscriber SET sqn = ?2 WHERE impi = ?1", impi, bind_sqn,
			 &sqn);
	auc_cache_drop(db->cache, impi);
	pthread_mutex_unlock(&db->lock);
	return err;
}

/* The key columns: sealed under the KEK when the file has one. */
struct key_bind {
	const struct gba_aka_key *key;
	const struct subkey_sealed *sealed;
};

static void bind_key(sqlite3_stmt *st, const void *arg)
{
	const struct key_bind *b = arg;

	sqlite3_bind_int(st, 2, (int)b->key->algo);
	subkeys_bind(st, 3, 4, b->key, b->sealed);
	sqlite3_bind_int(st, 5, (int)(b->key->algo == GBA_AKA_TUAK ? b->key->tuak_iterations : 0));
	sqlite3_bind_int(st, 6, (int)b->key->res_len);
	sqlite3_bind_int(st, 7, b->sealed->on);
}

static void bind_amf(sqlite3_stmt *st, const void *arg)
{
	sqlite3_bind_blob(st, 2, arg, 2, SQLITE_STATIC);
}

static void bind_guss(sqlite3_stmt *st, const void *arg)
{
	const struct gba_subscriber_update *u = arg;

	if (u->guss_len)
		sqlite3_bind_blob(st, 2, u->guss, (int)u->guss_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
}

/* The new values pass gba_subdb_check() as a subscriber would. */
static gba_err check_update(const char *impi, const struct gba_subscriber_update *u,
			    const char **field)
{
	static const struct gba_subscriber none;
	static const uint8_t zero[16];
	struct gba_subscriber s = none;
	gba_err err;

	/* A record that passes but for what the update brings. */
	memcpy(s.impi, impi, strlen(impi) + 1);
	s.ind_bits = 5;
	gba_aka_key_milenage(&s.key, zero, zero, 0);
	if (u->what & GBA_SUBDB_UPDATE_KEY)
		s.key = u->key;
	if (u->what & GBA_SUBDB_UPDATE_GUSS) {
		s.guss = u->guss;
		s.guss_len = u->guss_len;
	}
	err = gba_subdb_check(&s, field);
	gba_wipe(&s, sizeof(s));
	return err;
}

static gba_err apply_update(struct gba_subdb *db, const char *impi,
			    const struct gba_subscriber_update *u)
{
	struct subkey_sealed w = { 0 };
	struct key_bind kb = { &u->key, &w };
	gba_err err = GBA_OK;

	if (u->what & GBA_SUBDB_UPDATE_KEY) {
		if (db->kek)
			err = subkeys_seal(db->kek, &u->key, &w);
		if (!err)
			err = update_row(db, "UPDATE subscriber SET algo = ?2, k = ?3, opc = ?4,"
					 " tuak_iterations = ?5, res_len = ?6, wrapped = ?7"
					 " WHERE impi = ?1", impi, bind_key, &kb);
		gba_wipe(&w, sizeof(w));
	}
	if (!err && (u->what & GBA_SUBDB_UPDATE_AMF))
		err = update_row(db, "UPDATE subscriber SET amf = ?2 WHERE impi = ?1", impi,
				 bind_amf, u->amf);
	if (!err && (u->what & GBA_SUBDB_UPDATE_GUSS))
		err = update_row(db, "UPDATE subscriber SET guss = ?2 WHERE impi = ?1", impi,
				 bind_guss, u);
	return err;
}

gba_err gba_subdb_update(struct gba_subdb *db, const char *impi,
			 const struct gba_subscriber_update *u, const char **field)
{
	gba_err err;

	if (field)
		*field = NULL;
	if (!db || !u || !u->what ||
	    (u->what & ~(unsigned)(GBA_SUBDB_UPDATE_KEY | GBA_SUBDB_UPDATE_AMF |
				   GBA_SUBDB_UPDATE_GUSS)))
		return GBA_ERR_INVALID_ARG;
	if (!impi_ok(impi))
		return GBA_ERR_NOT_FOUND;
	err = check_update(impi, u, field);
	if (err)
		return err;
	pthread_mutex_lock(&db->lock);
	err = subdb_begin(db);
	if (!err) {
		err = apply_update(db, impi, u);
		if (!err)
			err = subdb_commit(db);
		if (err)
			subdb_rollback(db);
	}
	auc_cache_drop(db->cache, impi);
	pthread_mutex_unlock(&db->lock);
	return err;
}

/* ---- import --upsert: a whole row, in the importer's transaction ------- */

struct row_bind {
	const struct gba_subscriber *sub;
	const struct subkey_sealed *sealed;
	int set_sqn;
};

static void bind_row(sqlite3_stmt *st, const void *arg)
{
	const struct row_bind *b = arg;
	const struct gba_aka_key *key = &b->sub->key;

	sqlite3_bind_text(st, 2, b->sub->imsi, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, b->sub->impus, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)key->algo);
	subkeys_bind(st, 5, 6, key, b->sealed);
	sqlite3_bind_int(st, 7, (int)(key->algo == GBA_AKA_TUAK ? key->tuak_iterations : 0));
	sqlite3_bind_int(st, 8, (int)key->res_len);
	sqlite3_bind_blob(st, 9, b->sub->amf, 2, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, b->sealed->on);
	sqlite3_bind_int(st, 11, b->set_sqn);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)b->sub->sqn);
}

gba_err subdb_overwrite(struct gba_subdb *db, const struct gba_subscriber *sub, int set_sqn)
{
	struct subkey_sealed w = { 0 };
	struct row_bind b = { sub, &w, set_sqn };
	gba_err err = db->kek ? subkeys_seal(db->kek, &sub->key, &w) : GBA_OK;

	if (!err)
		err = update_row(db, "UPDATE subscriber SET imsi = ?2, impus = ?3, algo = ?4,"
				 " k = ?5, opc = ?6, tuak_iterations = ?7, res_len = ?8, amf = ?9,"
				 " wrapped = ?10, sqn = CASE WHEN ?11 THEN ?12 ELSE sqn END"
				 " WHERE impi = ?1", sub->impi, bind_row, &b);
	gba_wipe(&w, sizeof(w));
	return err;
}
