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

static size_t opc_len_of(enum gba_aka_algo algo)
{
	return algo == GBA_AKA_TUAK ? 32 : 16;
}

gba_err subkeys_seal(struct gba_kek *kek, const struct gba_aka_key *key,
		     struct subkey_sealed *out)
{
	uint8_t both[64];
	size_t opc_len = opc_len_of(key->algo);
	gba_err err;

	memset(out, 0, sizeof(*out));
	if (key->k_len > 32)
		return GBA_ERR_INVALID_ARG;
	memcpy(both, key->k, key->k_len);
	memcpy(both + key->k_len, key->opc, opc_len);
	err = gba_kek_wrap(kek, out->kw, sizeof(out->kw), &out->len, both, key->k_len + opc_len);
	gba_wipe(both, sizeof(both));
	out->on = !err;
	return err;
}

void subkeys_bind(sqlite3_stmt *st, int col_k, int col_opc, const struct gba_aka_key *key,
		  const struct subkey_sealed *w)
{
	if (w->on) {
		sqlite3_bind_blob(st, col_k, w->kw, (int)w->len, SQLITE_STATIC);
		sqlite3_bind_zeroblob(st, col_opc, 0);
	} else {
		sqlite3_bind_blob(st, col_k, key->k, (int)key->k_len, SQLITE_STATIC);
		sqlite3_bind_blob(st, col_opc, key->opc, (int)opc_len_of(key->algo), SQLITE_STATIC);
	}
}

gba_err subkeys_open(struct gba_kek *kek, const struct gba_aka_key *params,
		     const struct subkey_sealed *s, struct gba_aka_key *out)
{
	size_t opc_len = opc_len_of(params->algo), len = 0;
	uint8_t both[64];
	gba_err err;

	*out = *params;
	if (!s->on)
		return GBA_OK;
	if (!kek)
		return GBA_ERR_NOT_AUTHORIZED;
	err = gba_kek_unwrap(kek, both, sizeof(both), &len, s->kw, s->len);
	if (!err && len != 16 + opc_len && len != 32 + opc_len)
		err = GBA_ERR_STORE;
	if (!err) {
		out->k_len = len - opc_len;
		memcpy(out->k, both, out->k_len);
		memcpy(out->opc, both + out->k_len, opc_len);
	}
	gba_wipe(both, sizeof(both));
	if (err)
		gba_wipe(out, sizeof(*out));
	return err;
}

int subkeys_take(struct subkey_sealed *s, const void *k, size_t k_len, size_t opc_len,
		 int tuak)
{
	/* RFC 5649 adds 8 octets to K || OPc: 16 + 16, or TUAK's 16 or 32 + 32. */
	int ok = tuak ? k_len == 56 || k_len == 72 : k_len == 40;

	if (!k || !ok || opc_len != 0)
		return -1;
	memcpy(s->kw, k, k_len);
	s->len = k_len;
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
	size_t k_len, opc_len;
	const void *k, *opc;

	memset(&s, 0, sizeof(s));
	memset(&params, 0, sizeof(params));
	*id = sqlite3_column_int64(sel, 0);
	params.algo = (enum gba_aka_algo)sqlite3_column_int(sel, 1);
	k = sqlite3_column_blob(sel, 2);
	k_len = (size_t)sqlite3_column_bytes(sel, 2);
	opc = sqlite3_column_blob(sel, 3);
	opc_len = (size_t)sqlite3_column_bytes(sel, 3);
	ret = -(int)GBA_ERR_STORE;
	if (sqlite3_column_int(sel, 4) ?
	    !subkeys_take(&s, k, k_len, opc_len, params.algo == GBA_AKA_TUAK) :
	    (k && opc && k_len <= 32 && opc_len == opc_len_of(params.algo))) {
		if (!s.on) {
			memcpy(params.k, k, k_len);
			memcpy(params.opc, opc, opc_len);
			params.k_len = k_len;
		}
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
	struct subkey_sealed s;
	gba_err err = GBA_OK;

	memset(&s, 0, sizeof(s));
	if (new_kek)
		err = subkeys_seal(new_kek, key, &s);
	if (!err) {
		sqlite3_bind_int64(upd, 1, id);
		subkeys_bind(upd, 2, 3, key, &s);
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
