/*
 * keystore_sqlite.c - gba-naf's key store on SQLite (store URI sqlite:PATH,
 * the default), with the statement cache and
 * file handling of libgba-store's sqlite_util (a 0600 file, WAL,
 * secure_delete so that deleted Kc values are overwritten).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include <gba/util.h>

#include "keystore.h"
#include "keystore_backend.h"
#include "sqlite_util.h"

enum {
	ST_PUT_NODE, ST_GET_NODE, ST_PUT_KEY, ST_GET_KEY, ST_DEL_KEY,
	ST_FIND_NODES, ST_DEL_NODES, ST_DEL_KEYS_OF, ST_ADD_REVOKED, ST_DEL_REVOKED,
	ST_IS_REVOKED, ST_PURGE_NODES, ST_PURGE_KEYS, ST_COUNTS, ST__N
};

static const char *const SCHEMA =
	"CREATE TABLE IF NOT EXISTS nodes (kmid TEXT PRIMARY KEY, impi TEXT NOT NULL,"
	" node_id TEXT NOT NULL, km_kcv TEXT NOT NULL, expires INTEGER NOT NULL,"
	" enrolled INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS nodes_impi ON nodes(impi);"
	"CREATE INDEX IF NOT EXISTS nodes_node ON nodes(node_id);"
	"CREATE TABLE IF NOT EXISTS keys (key_id TEXT PRIMARY KEY, kmid TEXT NOT NULL,"
	" node_id TEXT NOT NULL, suid TEXT NOT NULL, target TEXT NOT NULL,"
	" kc BLOB NOT NULL, expires INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS keys_node ON keys(node_id);"
	"CREATE TABLE IF NOT EXISTS revoked (who TEXT PRIMARY KEY, at INTEGER NOT NULL);";

static const char *const SQL[ST__N] = {
	[ST_PUT_NODE] = "INSERT OR REPLACE INTO nodes VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_GET_NODE] = "SELECT kmid, impi, node_id, km_kcv, expires, enrolled FROM nodes"
			" WHERE kmid = ?1",
	[ST_PUT_KEY] = "INSERT INTO keys VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_GET_KEY] = "SELECT key_id, kmid, node_id, suid, target, kc, expires FROM keys"
		       " WHERE key_id = ?1",
	[ST_DEL_KEY] = "DELETE FROM keys WHERE key_id = ?1",
	[ST_FIND_NODES] = "SELECT kmid, impi, node_id FROM nodes"
			  " WHERE kmid = ?1 OR impi = ?1 OR node_id = ?1",
	[ST_DEL_NODES] = "DELETE FROM nodes WHERE impi = ?1 OR node_id = ?2",
	[ST_DEL_KEYS_OF] = "DELETE FROM keys WHERE node_id = ?1",
	[ST_ADD_REVOKED] = "INSERT OR IGNORE INTO revoked VALUES (?1, ?2)",
	[ST_DEL_REVOKED] = "DELETE FROM revoked WHERE who = ?1",
	[ST_IS_REVOKED] = "SELECT 1 FROM revoked WHERE who = ?1 OR who = ?2",
	[ST_PURGE_NODES] = "DELETE FROM nodes WHERE expires <= ?1",
	[ST_PURGE_KEYS] = "DELETE FROM keys WHERE expires <= ?1",
	[ST_COUNTS] = "SELECT (SELECT count(*) FROM nodes), (SELECT count(*) FROM keys),"
		      " (SELECT count(*) FROM revoked)",
};

struct sqlite_ks {
	struct keystore base;
	sqlite3 *db;
	pthread_mutex_t lock;
	sqlite3_stmt *st[ST__N];
};

static const struct ks_ops sqlite_ops;

gba_err ks_sqlite_open(struct keystore **out, const char *path)
{
	struct sqlite_ks *ks = calloc(1, sizeof(*ks));
	if (!ks)
		return GBA_ERR_NO_MEMORY;
	ks->base.ops = &sqlite_ops;
	gba_err err = store_sqlite_open(&ks->db, path, "ON", 0);
	if (!err)
		err = store_sqlite_exec(ks->db, SCHEMA);
	if (!err)
		err = store_sqlite_prepare(ks->db, SQL, ks->st, ST__N);
	if (!err && store_mutex_init(&ks->lock))
		err = GBA_ERR_NO_MEMORY;
	if (err) {
		sqlite3_close(ks->db);
		free(ks);
		return err;
	}
	*out = &ks->base;
	return GBA_OK;
}

static void sq_close(struct keystore *base)
{
	struct sqlite_ks *ks = (struct sqlite_ks *)base;
	store_sqlite_finalize(ks->st, ST__N);
	sqlite3_close(ks->db);
	pthread_mutex_destroy(&ks->lock);
	free(ks);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static void column_text(sqlite3_stmt *st, int i, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, size, "%s", t ? (const char *)t : "");
}

static gba_err sq_put_node(struct keystore *base, const struct ks_node *n)
{
	struct sqlite_ks *ks = (struct sqlite_ks *)base;
	pthread_mutex_lock(&ks->lock);
	sqlite3_stmt *st = ks->st[ST_PUT_NODE];
	bind_text(st, 1, n->kmid);
	bind_text(st, 2, n->impi);
	bind_text(st, 3, n->node_id);
	bind_text(st, 4, n->km_kcv);
	sqlite3_bind_int64(st, 5, n->expires);
	sqlite3_bind_int64(st, 6, n->enrolled);
	gba_err err = store_sqlite_run(st);
	pthread_mutex_unlock(&ks->lock);
	return err;
}

static gba_err sq_get_node(struct keystore *base, const char *kmid, struct ks_node *out)
{
	struct sqlite_ks *ks = (struct sqlite_ks *)base;
	pthread_mutex_lock(&ks->lock);
	sqlite3_stmt *st = ks->st[ST_GET_NODE];
	bind_text(st, 1, kmid);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		column_text(st, 0, out->kmid, sizeof(out->kmid));
		column_text(st, 1, out->impi, sizeof(out->impi));
		column_text(st, 2, out->node_id, sizeof(out->node_id));
		column_text(st, 3, out->km_kcv, sizeof(out->km_kcv));
		out->expires = sqlite3_column_int64(st, 4);
		out->enrolled = sqlite3_column_int64(st, 5);
	}
	store_sqlite_done(st);
	pthread_mutex_unlock(&ks->lock);
	if (rc == SQLITE_ROW)
		return GBA_OK;
	return rc == SQLITE_DONE ? GBA_ERR_NOT_FOUND : store_sqlite_err(rc);
}

static gba_err sq_put_key(struct keystore *base, const struct ks_key *k)
{
	struct sqlite_ks *ks = (struct sqlite_ks *)base;
	pthread_mutex_lock(&ks->lock);
	sqlite3_stmt *st = ks->st[ST_PUT_KEY];
	bind_text(st, 1, k->key_id);
	bind_text(st, 2, k->kmid);
	bind_text(st, 3, k->node_id);
	bind_text(st, 4, k->suid);
	bind_text(st, 5, k->target);
	const uint8_t *kc;
	size_t kc_len;
	ks_kc_stored(k, &kc, &kc_len);
	sqlite3_bind_blob(st, 6, kc, (int)kc_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, k->expires);
	gba_err err = store_sqlite_run(st);
	pthread_mutex_unlock(&ks->lock);
	return err;
}

static int read_key_row(sqlite3_stmt *st, struct ks_key *out)
{
	column_text(st, 0, out->key_id, sizeof(out->key_id));
	column_text(st, 1, out->kmid, sizeof(out->kmid));
	column_text(st, 2, out->node_id, sizeof(out->node_id));
	column_text(st, 3, out->suid, sizeof(out->suid));
	column_text(st, 4, out->target, sizeof(out->target));
	out->expires = sqlite3_column_int64(st, 6);
	return ks_kc_load(out, sqlite3_column_blob(st, 5), (size_t)sqlite3_column_bytes(st, 5));
}

static gba_err sq_get_key(struct keystore *base, const char *key_id, int64_t now,
			  struct ks_key *out)
{
	struct sqlite_ks *ks = (struct sqlite_ks *)base;
	gba_err err = GBA_OK;
	pthread_mutex_lock(&ks->lock);
	sqlite3_stmt *st = ks->st[ST_GET_KEY];
	bind_text(st, 1, key_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && read_key_row(st, out))
		err = GBA_ERR_STORE;
	else if (rc == SQLITE_DONE)
		err = GBA_ERR_NOT_FOUND;
	else if (rc != SQLITE_ROW)
		err = store_sqlite_err(rc);
	store_sqlite_done(st);
	if (!err && out->expires <= now) {
		/* An expired key is gone for good: nobody may fetch it again. */
		bind_text(ks->st[ST_DEL_KEY], 1, key_id);
		store_sqlite_run(ks->st[ST_DEL_KEY]);
		gba_wipe(out->kc, sizeof(out->kc));
		err = GBA_ERR_NOT_FOUND;
	}
	pthread_mutex_unlock(&ks->lock);
	return err;
}

/* Record the IMPI and node id of each node matching who; then delete. */
static gba_err revoke_locked(struct sqlite_ks *ks, const char *who,
			     char (*kmids)[KS_ID_MAX + 1], unsigned max, unsigned *n)
{
	char impi[KS_ID_MAX + 1] = "", node[KS_ID_MAX + 1] = "";
	sqlite3_stmt *st = ks->st[ST_FIND_NODES];
	int rc;
	*n = 0;
	bind_text(st, 1, who);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n < max)
			column_text(st, 0, kmids[*n], sizeof(kmids[0]));
		(*n)++;
		column_text(st, 1, impi, sizeof(impi));
		column_text(st, 2, node, sizeof(node));
	}
	store_sqlite_done(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(rc);
	if (*n > max)
		*n = max;
	/* Nothing enrolled: who is still revoked (an IMPI or node id to come). */
	if (!impi[0])
		snprintf(node, sizeof(node), "%s", who);
	gba_err err = GBA_OK;
	const char *names[2] = { impi, node };
	for (int i = 0; i < 2 && !err; i++) {
		if (!names[i][0])
			continue;
		bind_text(ks->st[ST_ADD_REVOKED], 1, names[i]);
		sqlite3_bind_int64(ks->st[ST_ADD_REVOKED], 2, (int64_t)time(NULL));
		err = store_sqlite_run(ks->st[ST_ADD_REVOKED]);
	}
	if (!err) {
		bind_text(ks->st[ST_DEL_KEYS_OF], 1, node);
		err = store_sqlite_run(ks->st[ST_DEL_KEYS_OF]);
	}
	if (!err) {
		bind_text(ks->st[ST_DEL_NODES], 1, impi);
		bind_text(ks->st[ST_DEL_NODES], 2, node);
		err = store_sqlite_run(ks->st[ST_DEL_NODES]);
	}
	return err;
}

static gba_err sq_revoke(struct keystore *base, const char *who, char (*kmids)[KS_ID_MAX + 1],
		  unsigned max_kmids, unsigned *n_kmids)
{
	struct sqlite_ks *ks = (struct sqlite_ks *)base;
	pthread_mutex_lock(&ks->lock);
	gba_err err = store_sqlite_exec(ks->db, "BEGIN IMMEDIATE;");
	if (!err) {
		err = revoke_locked(ks, who, kmids, max_kmids, n_kmids);
		/* The COMMIT is what a full disk refuses: a revocation is only
		 * reported once it is stored. */
		if (!err)
			err = store_sqlite_exec(ks->db, "COMMIT;");
		if (err && !sqlite3_get_autocommit(ks->db))
			(void)store_sqlite_exec(ks->db, "ROLLBACK;");
	}
	pthread_mutex_unlock(&ks->lock);
	return err;
}

static gba_err sq_reinstate(struct keystore *base, const char *who)
{
	struct sqlite_ks *ks = (struct sqlite_ks *)base;
	pthread_mutex_lock(&ks->lock);
	bind_text(ks->st[ST_DEL_REVOKED], 1, who);
	gba_err err = store_sqlite_run(ks->st[ST_DEL_REVOKED]);
	int changed = sqlite3_changes(ks->db);
	pthread_mutex_unlock(&ks->lock);
	return err ? err : changed ? GBA_OK : GBA_ERR_NOT_FOUND;
}

static int sq_is_revoked(struct keystore *base, const char *impi, const char *node_id)
{
	struct sqlite_ks *ks = (struct sqlite_ks *)base;
	pthread_mutex_lock(&ks->lock);
	sqlite3_stmt *st = ks->st[ST_IS_REVOKED];
	bind_text(st, 1, impi ? impi : "");
	bind_text(st, 2, node_id ? node_id : "");
	int rc = sqlite3_step(st);
	store_sqlite_done(st);
	pthread_mutex_unlock(&ks->lock);
	/* A failing store counts as revoked: refuse rather than issue. */
	return rc != SQLITE_DONE;
}

static gba_err sq_purge(struct keystore *base, int64_t now, unsigned *n)
{
	struct sqlite_ks *ks = (struct sqlite_ks *)base;
	unsigned gone = 0;
	gba_err err = GBA_OK;
	pthread_mutex_lock(&ks->lock);
	for (int i = ST_PURGE_NODES; i <= ST_PURGE_KEYS && !err; i++) {
		sqlite3_bind_int64(ks->st[i], 1, now);
		err = store_sqlite_run(ks->st[i]);
		gone += (unsigned)sqlite3_changes(ks->db);
	}
	pthread_mutex_unlock(&ks->lock);
	if (n)
		*n = gone;
	return err;
}

static gba_err sq_counts(struct keystore *base, unsigned *nodes, unsigned *keys,
			 unsigned *revoked)
{
	struct sqlite_ks *ks = (struct sqlite_ks *)base;
	pthread_mutex_lock(&ks->lock);
	sqlite3_stmt *st = ks->st[ST_COUNTS];
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*nodes = (unsigned)sqlite3_column_int(st, 0);
		*keys = (unsigned)sqlite3_column_int(st, 1);
		*revoked = (unsigned)sqlite3_column_int(st, 2);
	}
	store_sqlite_done(st);
	pthread_mutex_unlock(&ks->lock);
	return rc == SQLITE_ROW ? GBA_OK : store_sqlite_err(rc);
}

static const struct ks_ops sqlite_ops = {
	.put_node = sq_put_node,
	.get_node = sq_get_node,
	.put_key = sq_put_key,
	.get_key = sq_get_key,
	.revoke = sq_revoke,
	.reinstate = sq_reinstate,
	.is_revoked = sq_is_revoked,
	.purge = sq_purge,
	.counts = sq_counts,
	.close = sq_close,
};
