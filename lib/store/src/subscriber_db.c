/*
 * subscriber_db.c - the embedded subscriber database and its AuC.
 *
 * SQN scheme (docs/subscribers.md): by default every vector is its own
 * write transaction.  BEGIN IMMEDIATE takes SQLite's write lock (other
 * processes on the file wait for it, busy timeout STORE_SQLITE_BUSY_MS),
 * the last SQN is read, moved on with gba_sqn_next() in the caller's IND
 * slot, written back and committed before the vector is computed and
 * handed out.  So no two threads or processes ever issue the same SQN, and
 * a crash can only lose an SQN that was never handed out (the USIM
 * accepts such jumps: TS 33.102 Annex C).  With gba_subdb_set_sqn_block(n)
 * the transaction reserves n SQNs at once, still committed before the
 * first is used, and the rest are handed out from memory (auc_cache.h).
 * The mutex serialises this process's threads on the one connection.
 *
 * K and OPc are read into a stack struct gba_aka_key, used, and wiped;
 * no function returns them.  Opened with a KEK (gba_subdb_open_kek), the
 * file holds them wrapped (subscriber_keys.h): the AuC reads and caches
 * the wrapped form and unwraps it for the one vector it computes.  secure_delete=ON has SQLite overwrite a
 * removed subscriber's keys in the file.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <stdlib.h>
#include <string.h>

#include <gba/util.h>

#include "auc_cache.h"
#include "guss_out.h"
#include "local_fs.h"
#include "sqlite_util.h"
#include "subscriber_internal.h"
#include "subscriber_keys.h"

#define SCHEMA_VERSION 2
#define SQN_BLOCK_MAX 1024

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS subscriber("
	" id INTEGER PRIMARY KEY,"
	" impi TEXT NOT NULL UNIQUE,"
	" imsi TEXT NOT NULL,"
	" impus TEXT NOT NULL,"
	" algo INTEGER NOT NULL,"          /* enum gba_aka_algo */
	" k BLOB NOT NULL,"                /* 16 or 32 octets */
	" opc BLOB NOT NULL,"              /* OPc (16) or TOPc (32): never OP */
	" tuak_iterations INTEGER NOT NULL,"
	" res_len INTEGER NOT NULL,"
	" amf BLOB NOT NULL,"
	" sqn INTEGER NOT NULL,"           /* last SQN issued (SEQ || IND) */
	" ind_bits INTEGER NOT NULL,"
	" guss BLOB,"
	" wrapped INTEGER NOT NULL DEFAULT 0);"   /* k and opc: RFC 5649 under the KEK */
	"CREATE TABLE IF NOT EXISTS kek("          /* the KEK of a wrapped file */
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" uri TEXT NOT NULL,"
	" check_value BLOB NOT NULL);";

/* Ordered upgrades: schema_steps[v - 1] takes a version-v file to v + 1. */
static const char *const schema_steps[SCHEMA_VERSION - 1] = {
	/* 1 -> 2: keys may be wrapped under a KEK in a PKCS#11 token */
	"ALTER TABLE subscriber ADD COLUMN wrapped INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE kek(id INTEGER PRIMARY KEY CHECK (id = 1), uri TEXT NOT NULL,"
	" check_value BLOB NOT NULL);",
};

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_ADD,
	S_REMOVE,
	S_INFO,
	S_LIST,
	S_AUC,
	S_SET_SQN,
	S__COUNT
};

#define INFO_COLUMNS "impi, imsi, impus, algo, amf, sqn, ind_bits, coalesce(length(guss), 0)"

static const char *const stmt_sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_ADD] = "INSERT INTO subscriber(impi, imsi, impus, algo, k, opc, tuak_iterations,"
		  " res_len, amf, sqn, ind_bits, guss, wrapped)"
		  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[S_REMOVE] = "DELETE FROM subscriber WHERE impi = ?1",
	[S_INFO] = "SELECT " INFO_COLUMNS " FROM subscriber WHERE impi = ?1",
	[S_LIST] = "SELECT " INFO_COLUMNS " FROM subscriber ORDER BY impi",
	[S_AUC] = "SELECT algo, k, opc, tuak_iterations, res_len, amf, sqn, ind_bits, guss, wrapped,"
		  " id FROM subscriber WHERE impi = ?1",
	/* By rowid: the row was just read, no second walk of the IMPI index. */
	[S_SET_SQN] = "UPDATE subscriber SET sqn = ?2 WHERE id = ?1",
};

/* ---- opening ----------------------------------------------------------- */

gba_err gba_subdb_open(struct gba_subdb **out, const char *path)
{
	return gba_subdb_open_kek(out, path, NULL);
}

gba_err gba_subdb_open_kek(struct gba_subdb **out, const char *path, struct gba_kek *kek)
{
	struct gba_subdb *db;
	gba_err err;

	if (!out || !path || !*path)
		return GBA_ERR_INVALID_ARG;
	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return GBA_ERR_NO_MEMORY;
	db->st = calloc(S__COUNT, sizeof(*db->st));
	db->cache = auc_cache_new();
	db->sqn_block = 1;
	if (!db->st || !db->cache || store_mutex_init(&db->lock)) {
		auc_cache_free(db->cache);
		free(db->st);
		free(db);
		return GBA_ERR_NO_MEMORY;
	}
	/* SQN safety across processes rests on SQLite's locks: local only. */
	err = store_check_local_fs(path);
	if (!err)
		err = store_sqlite_open(&db->db, path, "ON", 0);
	if (!err)
		err = store_sqlite_schema_steps(db->db, schema_sql, SCHEMA_VERSION, schema_steps);
	if (!err)
		err = subkeys_attach(db->db, kek);
	if (!err)
		err = store_sqlite_prepare(db->db, stmt_sql, db->st, S__COUNT);
	db->kek = kek;
	if (err) {
		gba_subdb_close(db);
		return err;
	}
	*out = db;
	return GBA_OK;
}

void gba_subdb_close(struct gba_subdb *db)
{
	if (!db)
		return;
	subdb_committer_stop(db);   /* first: its last batch still uses the file */
	store_sqlite_finalize(db->st, S__COUNT);
	sqlite3_close(db->db);
	pthread_mutex_destroy(&db->lock);
	auc_cache_free(db->cache);
	free(db->st);
	free(db);
}

gba_err gba_subdb_set_sqn_block(struct gba_subdb *db, unsigned n)
{
	if (!db || n < 1 || n > SQN_BLOCK_MAX)
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	db->sqn_block = n;
	pthread_mutex_unlock(&db->lock);
	return GBA_OK;
}

/* ---- transactions ------------------------------------------------------ */

gba_err subdb_begin(struct gba_subdb *db)
{
	return store_sqlite_run(db->st[S_BEGIN]);
}

gba_err subdb_commit(struct gba_subdb *db)
{
	gba_err err = store_sqlite_run(db->st[S_COMMIT]);

	if (err)
		subdb_rollback(db);
	return err;
}

void subdb_rollback(struct gba_subdb *db)
{
	if (!sqlite3_get_autocommit(db->db))
		(void)store_sqlite_run(db->st[S_ROLLBACK]);
}

/* ---- subscribers ------------------------------------------------------- */

gba_err subdb_insert(struct gba_subdb *db, const struct gba_subscriber *sub)
{
	sqlite3_stmt *st = db->st[S_ADD];
	const struct gba_aka_key *key = &sub->key;
	struct subkey_sealed w = { 0 };
	gba_err err = db->kek ? subkeys_seal(db->kek, key, &w) : GBA_OK;

	if (err)
		return err;

	sqlite3_bind_text(st, 1, sub->impi, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sub->imsi, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sub->impus, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)key->algo);
	subkeys_bind(st, 5, 6, key, &w);
	sqlite3_bind_int(st, 7, (int)(key->algo == GBA_AKA_TUAK ? key->tuak_iterations : 0));
	sqlite3_bind_int(st, 8, (int)key->res_len);
	sqlite3_bind_blob(st, 9, sub->amf, 2, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)sub->sqn);
	sqlite3_bind_int(st, 11, (int)sub->ind_bits);
	if (sub->guss_len)
		sqlite3_bind_blob(st, 12, sub->guss, (int)sub->guss_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 12);
	sqlite3_bind_int(st, 13, w.on);
	err = store_sqlite_run(st);   /* unbinds K and OPc; a known IMPI: EXISTS */
	gba_wipe(&w, sizeof(w));
	return err;
}

gba_err gba_subdb_add(struct gba_subdb *db, const struct gba_subscriber *sub)
{
	gba_err err;

	if (!db || !sub)
		return GBA_ERR_INVALID_ARG;
	err = gba_subdb_check(sub, NULL);
	if (err)
		return err;
	pthread_mutex_lock(&db->lock);
	err = subdb_insert(db, sub);
	if (!err)
		auc_cache_drop(db->cache, sub->impi);
	pthread_mutex_unlock(&db->lock);
	return err;
}

int subdb_impi_arg_ok(const char *impi)
{
	return impi && subscriber_impi_ok(impi, strnlen(impi, GBA_IMPI_MAX + 1));
}

gba_err gba_subdb_remove(struct gba_subdb *db, const char *impi)
{
	gba_err err;

	if (!db || !impi)
		return GBA_ERR_INVALID_ARG;
	if (!subdb_impi_arg_ok(impi))
		return GBA_ERR_NOT_FOUND;
	pthread_mutex_lock(&db->lock);
	sqlite3_bind_text(db->st[S_REMOVE], 1, impi, -1, SQLITE_STATIC);
	err = store_sqlite_run(db->st[S_REMOVE]);
	if (!err && sqlite3_changes(db->db) == 0)
		err = GBA_ERR_NOT_FOUND;
	auc_cache_drop(db->cache, impi);
	pthread_mutex_unlock(&db->lock);
	return err;
}

/* Copy a text column into a fixed buffer; -1 if it does not fit. */
static int column_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);

	if (!t || len >= size)
		return -1;
	memcpy(out, t, len);
	out[len] = '\0';
	return 0;
}

/* A row of INFO_COLUMNS. */
static gba_err row_to_info(sqlite3_stmt *st, struct gba_subscriber_info *out)
{
	const void *amf = sqlite3_column_blob(st, 4);
	int algo = sqlite3_column_int(st, 3);

	memset(out, 0, sizeof(*out));
	if (column_text(st, 0, out->impi, sizeof(out->impi)) ||
	    column_text(st, 1, out->imsi, sizeof(out->imsi)) ||
	    column_text(st, 2, out->impus, sizeof(out->impus)) ||
	    (algo != GBA_AKA_MILENAGE && algo != GBA_AKA_TUAK) ||
	    !amf || sqlite3_column_bytes(st, 4) != 2)
		return GBA_ERR_STORE;
	out->algo = (enum gba_aka_algo)algo;
	memcpy(out->amf, amf, 2);
	out->sqn = (uint64_t)sqlite3_column_int64(st, 5);
	out->ind_bits = (unsigned)sqlite3_column_int(st, 6);
	out->guss_len = (size_t)sqlite3_column_int64(st, 7);
	return GBA_OK;
}

gba_err gba_subdb_get(struct gba_subdb *db, const char *impi, struct gba_subscriber_info *out)
{
	sqlite3_stmt *st;
	gba_err err;
	int rc;

	if (!db || !impi || !out)
		return GBA_ERR_INVALID_ARG;
	if (!subdb_impi_arg_ok(impi))
		return GBA_ERR_NOT_FOUND;
	pthread_mutex_lock(&db->lock);
	st = db->st[S_INFO];
	sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = row_to_info(st, out);
	else
		err = rc == SQLITE_DONE ? GBA_ERR_NOT_FOUND : store_sqlite_err(rc);
	store_sqlite_done(st);
	pthread_mutex_unlock(&db->lock);
	return err;
}

/*
 * fn runs with the database locked, so it must not call back into db; the
 * read is one snapshot of the file.
 */
gba_err gba_subdb_list(struct gba_subdb *db,
		       int (*fn)(const struct gba_subscriber_info *info, void *arg), void *arg)
{
	struct gba_subscriber_info info;
	sqlite3_stmt *st;
	gba_err err = GBA_OK;
	int rc;

	if (!db || !fn)
		return GBA_ERR_INVALID_ARG;
	pthread_mutex_lock(&db->lock);
	st = db->st[S_LIST];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		err = row_to_info(st, &info);
		if (err || fn(&info, arg))
			break;
	}
	if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = store_sqlite_err(rc);
	store_sqlite_done(st);
	pthread_mutex_unlock(&db->lock);
	return err;
}

/* ---- the AuC ----------------------------------------------------------- */

/* Fill a key from S_AUC's columns; GBA_ERR_STORE when they are not sane. */
static gba_err row_to_key(sqlite3_stmt *st, struct auc_row *row, int wrapped)
{
	int algo = sqlite3_column_int(st, 0);
	size_t k_len = (size_t)sqlite3_column_bytes(st, 1);
	size_t opc_len = (size_t)sqlite3_column_bytes(st, 2);
	const void *k = sqlite3_column_blob(st, 1), *opc = sqlite3_column_blob(st, 2);
	const void *amf = sqlite3_column_blob(st, 5);
	int64_t sqn = sqlite3_column_int64(st, 6);
	int ind_bits = sqlite3_column_int(st, 7);

	if (sqlite3_column_int(st, 9) != wrapped)
		return GBA_ERR_STORE;   /* a row that does not match the file's KEK */
	if (!amf || sqlite3_column_bytes(st, 5) != 2 || sqn < 0 ||
	    (uint64_t)sqn > GBA_SQN_MAX || ind_bits < 0 || ind_bits > SUBDB_IND_BITS_MAX)
		return GBA_ERR_STORE;
	if (wrapped) {
		if (subkeys_take(&row->sealed, k, k_len, opc_len, algo == GBA_AKA_TUAK))
			return GBA_ERR_STORE;
	} else {
		if (!k || !opc || k_len > 32 || opc_len != (algo == GBA_AKA_TUAK ? 32u : 16u))
			return GBA_ERR_STORE;
		memcpy(row->key.k, k, k_len);
		row->key.k_len = k_len;
		memcpy(row->key.opc, opc, opc_len);
	}
	row->key.algo = (enum gba_aka_algo)algo;
	row->key.tuak_iterations = (unsigned)sqlite3_column_int(st, 3);
	row->key.res_len = (size_t)sqlite3_column_int(st, 4);
	memcpy(row->amf, amf, 2);
	row->sqn = (uint64_t)sqn;
	row->ind_bits = (unsigned)ind_bits;
	row->id = sqlite3_column_int64(st, 10);
	return GBA_OK;
}

/*
 * Read a subscriber's AuC row and GUSS in the open transaction.  The GUSS
 * goes to the caller before anything changes, so a too-small buffer fails
 * the whole operation and leaves the SQN alone; with keep, a copy of it
 * goes to *kept too (for the SQN block's cache entry).  Lock held.
 */
static gba_err auc_read(struct gba_subdb *db, const char *impi, struct auc_row *row,
			const struct guss_out *g, int keep, char **kept, size_t *kept_len)
{
	sqlite3_stmt *st = db->st[S_AUC];
	gba_err err;
	int rc;

	sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		store_sqlite_done(st);
		return rc == SQLITE_DONE ? GBA_ERR_NOT_FOUND : store_sqlite_err(rc);
	}
	err = row_to_key(st, row, db->kek != NULL);
	if (!err) {
		size_t len = (size_t)sqlite3_column_bytes(st, 8);
		const void *doc = sqlite3_column_blob(st, 8);
		err = guss_out_copy(g, doc, len);
		if (!err && keep && len) {
			*kept = malloc(len);
			if (!*kept)
				err = GBA_ERR_NO_MEMORY;
			else {
				memcpy(*kept, doc, len);
				*kept_len = len;
			}
		}
	}
	store_sqlite_done(st);
	return err;
}

/* One subscriber's K and OPc in clear, for an export that asked for them. */
gba_err gba_subdb_get_keys(struct gba_subdb *db, const char *impi, struct gba_aka_key *out)
{
	struct auc_row row;
	sqlite3_stmt *st;
	gba_err err;
	int rc;

	if (!db || !impi || !out)
		return GBA_ERR_INVALID_ARG;
	if (!subdb_impi_arg_ok(impi))
		return GBA_ERR_NOT_FOUND;
	memset(&row, 0, sizeof(row));
	pthread_mutex_lock(&db->lock);
	st = db->st[S_AUC];
	sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = row_to_key(st, &row, db->kek != NULL);
	else
		err = rc == SQLITE_DONE ? GBA_ERR_NOT_FOUND : store_sqlite_err(rc);
	store_sqlite_done(st);
	pthread_mutex_unlock(&db->lock);
	if (!err)
		err = subkeys_open(db->kek, &row.key, &row.sealed, out);
	gba_wipe(&row, sizeof(row));
	return err;
}

static gba_err auc_write_sqn(struct gba_subdb *db, int64_t id, uint64_t sqn)
{
	sqlite3_stmt *st = db->st[S_SET_SQN];

	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)sqn);
	return store_sqlite_run(st);
}

/*
 * The last SQN of a block of up to n SQNs in slot ind starting at first:
 * each the next SEQ after the one before (gba_sqn_next), cut short at the
 * top of the SQN range.
 */
static uint64_t block_end(uint64_t first, unsigned ind_bits, unsigned ind, unsigned n)
{
	uint64_t last = first, next;

	for (unsigned i = 1; i < n; i++) {
		if (gba_sqn_next(last, ind_bits, ind, &next))
			break;
		last = next;
	}
	return last;
}

/* The SQN after sqn in the block, or one past its end when used up. */
static uint64_t block_next(const struct auc_entry *e, uint64_t sqn)
{
	uint64_t next;

	if (sqn >= e->last_sqn || gba_sqn_next(sqn, e->ind_bits, e->ind, &next))
		return e->last_sqn + 1;
	return next;
}

/* Keep what the transaction read and reserved, for the next vectors. */
void auc_cache_block(struct gba_subdb *db, const char *impi, unsigned ind,
			const struct auc_row *row, uint64_t first, uint64_t last,
			char *guss, size_t guss_len)
{
	struct auc_entry *e = auc_cache_slot(db->cache, impi);

	if (!e) {
		free(guss);
		return;   /* no memory: the reserved SQNs are skipped */
	}
	memcpy(e->impi, impi, strlen(impi) + 1);
	e->key = row->key;
	e->sealed = row->sealed;
	memcpy(e->amf, row->amf, 2);
	e->ind_bits = row->ind_bits;
	e->ind = ind;
	e->last_sqn = last;
	e->next_sqn = block_next(e, first);
	e->expires = auc_now() + AUC_ENTRY_TTL;
	e->guss = guss;
	e->guss_len = guss_len;
}

/*
 * K and OPc for one computation: unwrapped (with a KEK) into a stack key
 * that is wiped as soon as the call returns; never kept in the cache.
 *
 * A verified AUTS moves the row's SQN forward to SQN_MS, never back
 * (gba_sqn_after_resync): an AUTS behind the database must not make the
 * next vector reuse an SQN that was issued already.
 */
static gba_err auc_resync_sqn(struct gba_subdb *db, struct auc_row *row,
			      const uint8_t *rand, const uint8_t *auts)
{
	struct gba_aka_key key;
	uint64_t sqn_ms;
	gba_err err = subkeys_open(db->kek, &row->key, &row->sealed, &key);

	if (!err)
		err = gba_aka_resync(&key, rand, auts, &sqn_ms);
	gba_wipe(&key, sizeof(key));
	if (!err)
		err = gba_sqn_after_resync(row->sqn, sqn_ms, row->ind_bits, &row->sqn);
	return err;
}

gba_err auc_vector(struct gba_subdb *db, const struct auc_row *row, uint64_t sqn,
			  const uint8_t rand[16], struct gba_av *av)
{
	struct gba_aka_key key;
	gba_err err = subkeys_open(db->kek, &row->key, &row->sealed, &key);

	if (!err)
		err = gba_aka_gen_av(&key, row->amf, sqn, rand, av);
	gba_wipe(&key, sizeof(key));
	return err;
}

/*
 * Inside the caller's write transaction: read the subscriber, let resync
 * (when auts is set) recover SQN_MS, reserve the next SQN (or block of
 * SQNs) in slot ind and write it.  *sqn is the first reserved SQN,
 * *last the block's last; with keep, *kept is a copy of the GUSS.  A
 * failed write is GBA_ERR_STORE or _UNWRITABLE with *write_failed set:
 * the transaction must then be rolled back.  Lock held.
 */
gba_err auc_reserve_txn(struct gba_subdb *db, const char *impi, unsigned ind,
			const uint8_t *resync_rand, const uint8_t *auts,
			const struct guss_out *g, struct auc_row *row, uint64_t *sqn,
			uint64_t *last, int keep, char **kept, size_t *kept_len,
			int *write_failed)
{
	gba_err err = auc_read(db, impi, row, g, keep, kept, kept_len);

	*write_failed = 0;
	if (!err && auts)
		err = auc_resync_sqn(db, row, resync_rand, auts);
	if (!err)
		err = gba_sqn_next(row->sqn, row->ind_bits, ind, sqn);
	if (!err) {
		*last = block_end(*sqn, row->ind_bits, ind, db->sqn_block);
		err = auc_write_sqn(db, row->id, *last);
		*write_failed = err != GBA_OK;
	}
	return err;
}

/*
 * One write transaction around auc_reserve_txn, committed before the
 * vector is computed.  Lock held.
 */
static gba_err auc_reserve(struct gba_subdb *db, const char *impi, unsigned ind,
			   const uint8_t *resync_rand, const uint8_t *auts,
			   const struct guss_out *g, struct auc_row *row, uint64_t *sqn)
{
	int keep = db->sqn_block > 1, write_failed;
	char *kept = NULL;
	size_t kept_len = 0;
	uint64_t last = 0;
	gba_err err = subdb_begin(db);

	if (!err)
		err = auc_reserve_txn(db, impi, ind, resync_rand, auts, g, row, sqn, &last, keep,
				      &kept, &kept_len, &write_failed);
	if (!err)
		err = subdb_commit(db);
	else
		subdb_rollback(db);
	if (!err && keep)
		auc_cache_block(db, impi, ind, row, *sqn, last, kept, kept_len);
	else if (kept) {
		gba_wipe(kept, kept_len);
		free(kept);
	}
	return err;
}

/* The next SQN of a reserved block, with what was read for it.  Lock held. */
gba_err auc_from_block(struct auc_entry *e, const struct guss_out *g,
			      struct auc_row *row, uint64_t *sqn)
{
	gba_err err = guss_out_copy(g, e->guss, e->guss_len);

	if (err)
		return err;   /* nothing used */
	row->key = e->key;
	row->sealed = e->sealed;
	memcpy(row->amf, e->amf, 2);
	row->ind_bits = e->ind_bits;
	*sqn = e->next_sqn;
	e->next_sqn = block_next(e, e->next_sqn);
	return GBA_OK;
}

/*
 * next_av and resync.  The vector is computed after the commit, outside
 * the lock: an SQN is only ever handed out once it is in the file.
 */
static gba_err auc_issue(struct gba_subdb *db, const char *impi, unsigned ind,
			 const uint8_t *resync_rand, const uint8_t *auts,
			 const uint8_t rand[16], struct gba_av *av,
			 char *guss, size_t guss_size, size_t *guss_len)
{
	const struct guss_out g = { guss, guss_size, guss_len };
	struct auc_entry *e;
	struct auc_row row;
	uint64_t sqn = 0;
	gba_err err;

	if (!db || !impi || !rand || !av || ind >= (1u << SUBDB_IND_BITS_MAX))
		return GBA_ERR_INVALID_ARG;
	if (guss_len)
		*guss_len = 0;
	if (!subdb_impi_arg_ok(impi))
		return GBA_ERR_NOT_FOUND;
	memset(&row, 0, sizeof(row));
	pthread_mutex_lock(&db->lock);
	e = !auts && db->sqn_block > 1 ? auc_cache_find(db->cache, impi, ind) : NULL;
	if (e)
		err = auc_from_block(e, &g, &row, &sqn);
	else {
		if (auts)
			auc_cache_drop(db->cache, impi);   /* its block is behind the card */
		err = auc_reserve(db, impi, ind, resync_rand, auts, &g, &row, &sqn);
	}
	pthread_mutex_unlock(&db->lock);
	if (!err)
		err = auc_vector(db, &row, sqn, rand, av);
	gba_wipe(&row, sizeof(row));
	if (err && guss_len && err != GBA_ERR_BUFFER_TOO_SMALL)
		*guss_len = 0;
	return err;
}

gba_err gba_subdb_next_av(struct gba_subdb *db, const char *impi, unsigned ind,
			  const uint8_t rand[16], struct gba_av *av,
			  char *guss, size_t guss_size, size_t *guss_len)
{
	return auc_issue(db, impi, ind, NULL, NULL, rand, av, guss, guss_size, guss_len);
}

gba_err gba_subdb_resync(struct gba_subdb *db, const char *impi, unsigned ind,
			 const uint8_t rand[16], const uint8_t auts[14],
			 const uint8_t new_rand[16], struct gba_av *av,
			 char *guss, size_t guss_size, size_t *guss_len)
{
	if (!rand || !auts)
		return GBA_ERR_INVALID_ARG;
	return auc_issue(db, impi, ind, rand, auts, new_rand, av, guss, guss_size, guss_len);
}
