/*
 * subscriber_keys.c - the subscriber database's K and OPc under a KEK:
 * wrapping, unwrapping for one computation, the file's KEK mark, and
 * moving a file from one KEK to another.  See subscriber_keys.h.
 */
#include <stdio.h>
#include <string.h>

#include <gba/util.h>

#include "auc_cache.h"
#include "sqlite_util.h"
#include "subscriber_internal.h"
#include "subscriber_keys.h"

/* ---- one subscriber's keys ---------------------------------------------- */

gba_err subkeys_seal(struct gba_kek *kek, const struct gba_aka_key *key,
		     struct subkey_sealed *out)
{
	size_t opc_len = key->algo == GBA_AKA_TUAK ? 32 : 16;
	gba_err err;

	memset(out, 0, sizeof(*out));
	err = gba_kek_wrap(kek, out->k, sizeof(out->k), &out->k_len, key->k, key->k_len);
	if (!err)
		err = gba_kek_wrap(kek, out->opc, sizeof(out->opc), &out->opc_len, key->opc,
				   opc_len);
	out->on = !err;
	return err;
}

gba_err subkeys_open(struct gba_kek *kek, const struct gba_aka_key *params,
		     const struct subkey_sealed *s, struct gba_aka_key *out)
{
	size_t want_opc = params->algo == GBA_AKA_TUAK ? 32 : 16, k_len = 0, opc_len = 0;
	gba_err err;

	*out = *params;
	if (!s->on)
		return GBA_OK;
	if (!kek)
		return GBA_ERR_NOT_AUTHORIZED;
	err = gba_kek_unwrap(kek, out->k, sizeof(out->k), &k_len, s->k, s->k_len);
	if (!err)
		err = gba_kek_unwrap(kek, out->opc, sizeof(out->opc), &opc_len, s->opc,
				     s->opc_len);
	if (!err && ((k_len != 16 && k_len != 32) || opc_len != want_opc))
		err = GBA_ERR_STORE;
	out->k_len = k_len;
	if (err)
		gba_wipe(out, sizeof(*out));
	return err;
}

int subkeys_take(struct subkey_sealed *s, const void *k, size_t k_len, const void *opc,
		 size_t opc_len, int tuak)
{
	if ((k_len != 24 && k_len != 40) || opc_len != (tuak ? 40u : 24u))
		return -1;
	memcpy(s->k, k, k_len);
	s->k_len = k_len;
	memcpy(s->opc, opc, opc_len);
	s->opc_len = opc_len;
	s->on = 1;
	return 0;
}

/* ---- the file's mark ----------------------------------------------------- */

/* The kek row: 1 with uri and check value, 0 when none, or -err. */
static int mark_read(sqlite3 *db, char *uri, size_t size, uint8_t cv[GBA_KEK_CHECK_LEN])
{
	sqlite3_stmt *st;
	int rc, found = 0;

	if (sqlite3_prepare_v2(db, "SELECT uri, check_value FROM kek WHERE id = 1", -1, &st,
			       NULL) != SQLITE_OK)
		return -(int)GBA_ERR_STORE;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *u = (const char *)sqlite3_column_text(st, 0);
		const void *c = sqlite3_column_blob(st, 1);
		found = u && c && sqlite3_column_bytes(st, 1) == GBA_KEK_CHECK_LEN ? 1
										 : -(int)GBA_ERR_STORE;
		if (found == 1) {
			snprintf(uri, size, "%s", u);
			memcpy(cv, c, GBA_KEK_CHECK_LEN);
		}
	} else if (rc != SQLITE_DONE) {
		found = -(int)store_sqlite_err(rc);
	}
	sqlite3_finalize(st);
	return found;
}

/* Replace the mark with kek's (none when kek is NULL). */
static gba_err mark_write(sqlite3 *db, struct gba_kek *kek)
{
	uint8_t cv[GBA_KEK_CHECK_LEN];
	sqlite3_stmt *st;
	gba_err err = store_sqlite_exec(db, "DELETE FROM kek");

	if (err || !kek)
		return err;
	err = gba_kek_check_value(kek, cv);
	if (err)
		return err;
	if (sqlite3_prepare_v2(db, "INSERT INTO kek(id, uri, check_value) VALUES (1, ?1, ?2)",
			       -1, &st, NULL) != SQLITE_OK)
		return GBA_ERR_STORE;
	sqlite3_bind_text(st, 1, gba_kek_uri(kek), -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, cv, sizeof(cv), SQLITE_STATIC);
	err = store_sqlite_run(st);
	sqlite3_finalize(st);
	return err;
}

static gba_err has_subscribers(sqlite3 *db, int *any)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM subscriber LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return GBA_ERR_STORE;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	*any = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? GBA_OK : store_sqlite_err(rc);
}

gba_err subkeys_uri_of(sqlite3 *db, char *uri, size_t size)
{
	uint8_t cv[GBA_KEK_CHECK_LEN];
	int found = mark_read(db, uri, size, cv);

	if (found < 0)
		return (gba_err)-found;
	if (!found && size)
		uri[0] = '\0';
	return GBA_OK;
}

/* An empty plain file opened with a kek takes its mark. */
static gba_err attach_plain(sqlite3 *db, struct gba_kek *kek)
{
	int any = 0;
	gba_err err = has_subscribers(db, &any);

	if (err)
		return err;
	if (any)
		return GBA_ERR_UNSUPPORTED;   /* plain keys: gba-subscriber rewrap */
	err = store_sqlite_exec(db, "BEGIN IMMEDIATE");
	if (!err)
		err = mark_write(db, kek);
	if (!err)
		err = store_sqlite_exec(db, "COMMIT");
	if (err)
		(void)store_sqlite_exec(db, "ROLLBACK");
	return err;
}

gba_err subkeys_attach(sqlite3 *db, struct gba_kek *kek)
{
	char uri[GBA_KEK_URI_MAX + 1];
	uint8_t cv[GBA_KEK_CHECK_LEN], mine[GBA_KEK_CHECK_LEN];
	int found = mark_read(db, uri, sizeof(uri), cv);
	gba_err err;

	if (found < 0)
		return (gba_err)-found;
	if (!found)
		return kek ? attach_plain(db, kek) : GBA_OK;
	if (!kek)
		return GBA_ERR_NOT_AUTHORIZED;   /* wrapped: its token is needed */
	err = gba_kek_check_value(kek, mine);
	if (err)
		return err;
	return gba_ct_equal(cv, mine, sizeof(cv)) ? GBA_OK : GBA_ERR_NOT_AUTHORIZED;
}

/* ---- rewrapping ---------------------------------------------------------- */

/* The row after *id: 1 with its key in plain, 0 at the end, or -err. */
static int next_row(sqlite3_stmt *sel, struct gba_kek *old, int64_t *id,
		    struct gba_aka_key *key)
{
	struct subkey_sealed s;
	struct gba_aka_key params;
	int rc, ret;

	sqlite3_bind_int64(sel, 1, *id);
	rc = sqlite3_step(sel);
	if (rc != SQLITE_ROW) {
		store_sqlite_done(sel);
		return rc == SQLITE_DONE ? 0 : -(int)store_sqlite_err(rc);
	}
	memset(&s, 0, sizeof(s));
	memset(&params, 0, sizeof(params));
	*id = sqlite3_column_int64(sel, 0);
	params.algo = (enum gba_aka_algo)sqlite3_column_int(sel, 1);
	s.on = sqlite3_column_int(sel, 4);
	s.k_len = (size_t)sqlite3_column_bytes(sel, 2);
	s.opc_len = (size_t)sqlite3_column_bytes(sel, 3);
	ret = -(int)GBA_ERR_STORE;
	if (s.k_len <= sizeof(s.k) && s.opc_len <= sizeof(s.opc) && (s.on || s.k_len <= 32)) {
		memcpy(s.on ? s.k : params.k, sqlite3_column_blob(sel, 2), s.k_len);
		memcpy(s.on ? s.opc : params.opc, sqlite3_column_blob(sel, 3), s.opc_len);
		params.k_len = s.k_len;
		ret = -(int)subkeys_open(old, &params, &s, key);
		if (!ret)
			ret = 1;
	}
	store_sqlite_done(sel);
	gba_wipe(&s, sizeof(s));
	gba_wipe(&params, sizeof(params));
	return ret;
}

/* Store one row's key as new_kek (NULL: plain) wants it. */
static gba_err put_row(sqlite3_stmt *upd, struct gba_kek *new_kek, int64_t id,
		       const struct gba_aka_key *key)
{
	size_t opc_len = key->algo == GBA_AKA_TUAK ? 32 : 16;
	struct subkey_sealed s;
	gba_err err = GBA_OK;

	memset(&s, 0, sizeof(s));
	if (new_kek)
		err = subkeys_seal(new_kek, key, &s);
	if (!err) {
		sqlite3_bind_int64(upd, 1, id);
		sqlite3_bind_blob(upd, 2, s.on ? s.k : key->k, (int)(s.on ? s.k_len : key->k_len),
				  SQLITE_STATIC);
		sqlite3_bind_blob(upd, 3, s.on ? s.opc : key->opc, (int)(s.on ? s.opc_len : opc_len),
				  SQLITE_STATIC);
		sqlite3_bind_int(upd, 4, s.on);
		err = store_sqlite_run(upd);
	}
	gba_wipe(&s, sizeof(s));
	return err;
}

gba_err subkeys_rewrap(sqlite3 *db, struct gba_kek *old, struct gba_kek *new_kek,
		       size_t *count)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	struct gba_aka_key key;
	int64_t id = -1;
	gba_err err = GBA_OK;
	int rc = 0;

	*count = 0;
	if (sqlite3_prepare_v2(db, "SELECT id, algo, k, opc, wrapped FROM subscriber"
				   " WHERE id > ?1 ORDER BY id LIMIT 1", -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE subscriber SET k = ?2, opc = ?3, wrapped = ?4"
				   " WHERE id = ?1", -1, &upd, NULL) != SQLITE_OK)
		err = GBA_ERR_STORE;
	while (!err && (rc = next_row(sel, old, &id, &key)) == 1) {
		err = put_row(upd, new_kek, id, &key);
		gba_wipe(&key, sizeof(key));
		*count += !err;
	}
	if (!err && rc < 0)
		err = (gba_err)-rc;
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	if (!err)
		err = mark_write(db, new_kek);
	return err;
}

/* ---- the public side ----------------------------------------------------- */

gba_err gba_subdb_rewrap(struct gba_subdb *db, struct gba_kek *new_kek, size_t *count)
{
	struct auc_cache *fresh;
	size_t n = 0;
	gba_err err;

	if (!db)
		return GBA_ERR_INVALID_ARG;
	fresh = auc_cache_new();
	if (!fresh)
		return GBA_ERR_NO_MEMORY;
	pthread_mutex_lock(&db->lock);
	err = subdb_begin(db);
	if (!err)
		err = subkeys_rewrap(db->db, db->kek, new_kek, &n);
	if (!err)
		err = subdb_commit(db);
	else
		subdb_rollback(db);
	if (!err) {
		/* The cached blocks hold keys wrapped under the old KEK. */
		auc_cache_free(db->cache);
		db->cache = fresh;
		fresh = NULL;
		db->kek = new_kek;
		/* The old forms stay in the WAL until a checkpoint rewrites the pages. */
		(void)store_sqlite_exec(db->db, "PRAGMA wal_checkpoint(TRUNCATE)");
	}
	pthread_mutex_unlock(&db->lock);
	auc_cache_free(fresh);
	if (count)
		*count = err ? 0 : n;
	return err;
}

gba_err gba_subdb_kek_uri(const char *path, char *uri, size_t size)
{
	sqlite3 *db = NULL;
	gba_err err;

	if (!path || !uri || !size)
		return GBA_ERR_INVALID_ARG;
	uri[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return GBA_ERR_STORE;
	}
	err = subkeys_uri_of(db, uri, size);
	sqlite3_close(db);
	return err == GBA_ERR_STORE ? GBA_OK : err;   /* no kek table: version 1, plain */
}

void gba_subdb_kek_explain(const char *path, const struct gba_kek *kek, gba_err err,
			   char *why, size_t size)
{
	char uri[GBA_KEK_URI_MAX + 1] = "";

	if (!why || !size || !path)
		return;
	if (err == GBA_ERR_UNSUPPORTED && kek) {
		snprintf(why, size, "%s holds plain keys: move them under %s with gba-subscriber"
			 " rewrap", path, gba_kek_uri(kek));
		return;
	}
	if (err != GBA_ERR_NOT_AUTHORIZED) {
		snprintf(why, size, "%s: %s", path, gba_strerror(err));
		return;
	}
	(void)gba_subdb_kek_uri(path, uri, sizeof(uri));
	if (!kek)
		snprintf(why, size, "%s: its keys are wrapped under %s, which is not open "
			 "(give the KEK and its PIN file)", path, *uri ? uri : "a KEK");
	else
		snprintf(why, size, "%s: its keys are wrapped under %s, not under the key of %s "
			 "(check values differ)", path, *uri ? uri : "another KEK", gba_kek_uri(kek));
}
