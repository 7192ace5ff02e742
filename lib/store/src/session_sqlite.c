/*
 * session_sqlite.c - the SQLite session store (URI sqlite:PATH[?options]).
 *
 * Layout, chosen to keep a live B-TID small (docs/session-store.md has the
 * measured figures):
 *   session  one row per B-TID in a rowid table, appended in time order so
 *            its pages stay full; RAND as a 16-octet blob, the domain as a
 *            small integer (domain table), the IMPI as text, Ks as a blob,
 *            times as integers.  A unique index on (rand, domain) finds a
 *            B-TID, an index on expiry makes purging cost what it removes.
 *   guss     one row per IMPI: the GUSS, kept until the last of that
 *            user's sessions expires.
 *   domain   the BSF domains seen, never deleted (so their ids are stable
 *            for every process sharing the file).
 *
 * One connection per handle, serialised by a mutex: SQLite has a single
 * writer anyway, and with group commit only this connection sees the
 * writes not yet committed (docs/session-store.md has the measurements).
 * Group commit (commit_ms > 0) keeps a write transaction open for up to
 * commit_ms milliseconds or batch writes, so that many puts share one WAL
 * append; gets in that time join the open transaction, which saves them
 * SQLite's per-transaction file locking.  A crash loses at most the
 * window; close() commits.
 *
 * The background thread (the flusher) commits when a window ends, and
 * checkpoints the WAL into the database through a second connection of
 * its own, PASSIVE, without the handle's mutex: writers do not stall on
 * the checkpoint's I/O and fsync.  With exclusive=1 the file is locked to
 * this connection (no shared memory, no per-transaction locks, no second
 * connection), and SQLite checkpoints inline as usual.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/util.h>

#include "session_backend.h"
#include "sqlite_util.h"

#define SCHEMA_VERSION 1
#define DEFAULT_COMMIT_MS 20
#define DEFAULT_BATCH 4096
#define CKPT_FRAMES 2000        /* WAL pages that wake the checkpointer */
#define CKPT_FRAMES_INLINE 32000 /* the checkpointer lags: the writer does one */
#define COMMIT_MS_MAX 1000
#define BATCH_MAX 100000
#define PURGE_CHUNK 2048        /* sessions deleted per write transaction */
#define GUSS_SWEEP_SLICE 4096   /* GUSS rows looked at per purge */
#define DOMAIN_CACHE 4
#define GUSS_EXPIRY_STEP 3600   /* seconds; see guss_write() */

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS domain("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE IF NOT EXISTS session("
	" id INTEGER PRIMARY KEY,"
	" rand BLOB NOT NULL,"
	" domain INTEGER NOT NULL,"
	" impi TEXT NOT NULL,"
	" ks BLOB NOT NULL,"
	" created INTEGER NOT NULL,"
	" expiry INTEGER NOT NULL,"
	" type INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX IF NOT EXISTS session_btid ON session(rand, domain);"
	"CREATE INDEX IF NOT EXISTS session_expiry ON session(expiry);"
	"CREATE TABLE IF NOT EXISTS guss("
	" impi TEXT PRIMARY KEY,"
	" expiry INTEGER NOT NULL,"
	" doc BLOB NOT NULL) WITHOUT ROWID;";

enum stmt_id {
	S_BEGIN,
	S_BEGIN_READ,
	S_COMMIT,
	S_ROLLBACK,
	S_DOMAIN_GET,
	S_DOMAIN_ADD,
	S_PUT,
	S_GUSS_SET,
	S_GUSS_TOUCH,
	S_GET,
	S_GUSS_GET,
	S_DEL,
	S_PURGE,
	S_GUSS_CURSOR,
	S_GUSS_SWEEP,
	S_COUNT,
	S__COUNT
};

static const char *const stmt_sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_BEGIN_READ] = "BEGIN",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_DOMAIN_GET] = "SELECT id FROM domain WHERE name = ?1",
	[S_DOMAIN_ADD] = "INSERT INTO domain(name) VALUES (?1) ON CONFLICT DO NOTHING",
	[S_PUT] = "INSERT INTO session(rand, domain, impi, ks, created, expiry, type)"
		  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		  " ON CONFLICT(rand, domain) DO UPDATE SET impi = excluded.impi,"
		  " ks = excluded.ks, created = excluded.created,"
		  " expiry = excluded.expiry, type = excluded.type",
	[S_GUSS_SET] = "INSERT INTO guss(impi, expiry, doc) VALUES (?1, ?2, ?3)"
		       " ON CONFLICT(impi) DO UPDATE SET doc = excluded.doc,"
		       " expiry = max(expiry, excluded.expiry)"
		       " WHERE doc IS NOT excluded.doc OR expiry < excluded.expiry",
	[S_GUSS_TOUCH] = "UPDATE guss SET expiry = ?2 WHERE impi = ?1 AND expiry < ?2",
	[S_GET] = "SELECT impi, ks, created, expiry, type FROM session"
		  " WHERE rand = ?1 AND domain = ?2",
	[S_GUSS_GET] = "SELECT doc FROM guss WHERE impi = ?1",
	[S_DEL] = "DELETE FROM session WHERE rand = ?1 AND domain = ?2",
	[S_PURGE] = "DELETE FROM session WHERE id IN"
		    " (SELECT id FROM session WHERE expiry <= ?1 LIMIT ?2)",
	[S_GUSS_CURSOR] = "SELECT max(impi), count(*) FROM"
			  " (SELECT impi FROM guss WHERE impi > ?1 ORDER BY impi LIMIT ?2)",
	[S_GUSS_SWEEP] = "DELETE FROM guss WHERE impi > ?1 AND impi <= ?2 AND expiry <= ?3",
	[S_COUNT] = "SELECT count(*) FROM session WHERE expiry > ?1",
};

enum { TXN_NONE, TXN_READ, TXN_WRITE };

struct domain_entry {
	char name[GBA_BTID_MAX];
	size_t len;
	int64_t id;
};

struct sqlite_store {
	struct gba_session_store base;
	pthread_mutex_t lock;           /* guards everything below */
	pthread_cond_t wake;            /* the flusher's: a batch began, or stop */
	pthread_t flusher;
	int has_flusher;
	int stop;
	sqlite3 *db;
	sqlite3_stmt *st[S__COUNT];
	unsigned commit_ms;             /* 0: every write commits at once */
	unsigned batch_max;             /* writes that force a commit */
	int exclusive;                  /* locking_mode=EXCLUSIVE: this process only */
	sqlite3 *ckpt_db;               /* the flusher's own, for checkpoints */
	int ckpt_wanted;                /* the WAL has grown: checkpoint it */
	int in_txn;                     /* TXN_NONE, TXN_READ or TXN_WRITE */
	unsigned pending;               /* writes in the open transaction */
	struct timespec deadline;       /* CLOCK_MONOTONIC: commit by then */
	gba_err flush_err;              /* a background commit failed */
	struct domain_entry domains[DOMAIN_CACHE];
	unsigned n_domains;
	char guss_cursor[GBA_IMPI_MAX + 1];
};

static struct sqlite_store *from_base(struct gba_session_store *st)
{
	return (struct sqlite_store *)st;
}

/* ---- transactions and group commit ------------------------------------- */

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int deadline_passed(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/*
 * The open batch was rolled back.  Forget it, and the domain ids cached
 * while it was open: they may name rows that are gone now.  Lock held.
 */
static void batch_lost(struct sqlite_store *q)
{
	q->in_txn = TXN_NONE;
	q->pending = 0;
	q->n_domains = 0;
}

/* Commit the open batch, if any.  Lock held. */
static gba_err flush(struct sqlite_store *q)
{
	gba_err err;

	if (!q->in_txn)
		return GBA_OK;
	err = store_sqlite_run(q->st[S_COMMIT]);
	if (err) {
		if (!sqlite3_get_autocommit(q->db))
			(void)store_sqlite_run(q->st[S_ROLLBACK]);
		batch_lost(q);
		return err;
	}
	q->in_txn = TXN_NONE;
	q->pending = 0;
	return GBA_OK;
}

/* Open a transaction (of either kind) for commit_ms.  Lock held. */
static gba_err txn_begin(struct sqlite_store *q, int kind)
{
	gba_err err = store_sqlite_run(q->st[kind == TXN_WRITE ? S_BEGIN : S_BEGIN_READ]);

	if (err)
		return err;
	q->in_txn = kind;
	q->pending = 0;
	if (q->commit_ms) {
		deadline_in(&q->deadline, q->commit_ms);
		pthread_cond_signal(&q->wake);
	}
	return GBA_OK;
}

/*
 * Reads join whatever transaction is open.  With group commit, when none
 * is, they open a read transaction that the next reads share for up to
 * commit_ms: SQLite's per-transaction file locking (several fcntl calls)
 * is then paid once per window, not once per get.  Other processes'
 * writes show after at most commit_ms (the SQLite store is not meant to
 * be shared: that is Redis's job).  Lock held.
 */
static gba_err read_begin(struct sqlite_store *q)
{
	if (q->in_txn || !q->commit_ms)
		return GBA_OK;
	return txn_begin(q, TXN_READ);
}

/* After a read: end the transaction if the window has passed.  Lock held. */
static void read_end(struct sqlite_store *q)
{
	if (q->in_txn && deadline_passed(&q->deadline))
		(void)flush(q);
}

/* Make sure a write transaction is open.  Lock held. */
static gba_err write_begin(struct sqlite_store *q)
{
	gba_err err;

	if (q->flush_err) {
		/* Report a lost background commit to the next writer, once. */
		err = q->flush_err;
		q->flush_err = GBA_OK;
		return err;
	}
	if (q->in_txn == TXN_WRITE)
		return GBA_OK;
	if (q->in_txn == TXN_READ) {
		/* A read snapshot cannot become a write: end it first. */
		err = flush(q);
		if (err)
			return err;
	}
	return txn_begin(q, TXN_WRITE);
}

/*
 * One write is done: commit now unless group commit lets it wait.  If the
 * write failed and SQLite rolled the whole transaction back (I/O error,
 * disk full), the batch is gone: forget it.  Lock held.
 */
static gba_err write_end(struct sqlite_store *q, gba_err err)
{
	if (err) {
		if (q->in_txn && sqlite3_get_autocommit(q->db))
			batch_lost(q);
		else if (!q->commit_ms)
			(void)flush(q);
		return err;
	}
	q->pending++;
	if (!q->commit_ms || q->pending >= q->batch_max || deadline_passed(&q->deadline))
		return flush(q);
	return GBA_OK;
}

/*
 * SQLite calls this after each commit on the writer connection (so with
 * the mutex held), with the WAL's size in pages.  It replaces SQLite's
 * own auto-checkpoint: the flusher checkpoints instead, off the hot path.
 * Only if the flusher falls far behind does the writer checkpoint itself.
 */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sqlite_store *q = arg;

	if (frames >= CKPT_FRAMES_INLINE)
		(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	else if (frames >= CKPT_FRAMES && !q->ckpt_wanted) {
		q->ckpt_wanted = 1;
		pthread_cond_signal(&q->wake);
	}
	return SQLITE_OK;
}

/* Checkpoint on the flusher's connection, without the mutex.  Lock held. */
static void checkpoint(struct sqlite_store *q)
{
	q->ckpt_wanted = 0;
	pthread_mutex_unlock(&q->lock);
	/* Errors (busy) are harmless: the next commit asks again. */
	(void)sqlite3_wal_checkpoint_v2(q->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	pthread_mutex_lock(&q->lock);
}

static void *flusher_run(void *arg)
{
	struct sqlite_store *q = arg;

	pthread_mutex_lock(&q->lock);
	while (!q->stop) {
		if (q->ckpt_wanted && q->ckpt_db) {
			checkpoint(q);
			continue;
		}
		if (!q->in_txn) {
			pthread_cond_wait(&q->wake, &q->lock);
			continue;
		}
		int rc = pthread_cond_timedwait(&q->wake, &q->lock, &q->deadline);
		if (rc == ETIMEDOUT && q->in_txn && deadline_passed(&q->deadline)) {
			gba_err err = flush(q);
			if (err)
				q->flush_err = err;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* ---- domains ----------------------------------------------------------- */

/*
 * The id of a domain, from the cache or the table; with add, the domain is
 * inserted when absent.  GBA_ERR_NOT_FOUND for an unknown domain without
 * add.  Lock held.
 */
static gba_err domain_id(struct sqlite_store *q, const struct btid_key *key, int add,
			 int64_t *id)
{
	sqlite3_stmt *get = q->st[S_DOMAIN_GET];
	gba_err err;
	int rc;

	for (unsigned i = 0; i < q->n_domains; i++) {
		const struct domain_entry *d = &q->domains[i];
		if (d->len == key->domain_len && !memcmp(d->name, key->domain, d->len)) {
			*id = d->id;
			return GBA_OK;
		}
	}
	if (add) {
		sqlite3_bind_text(q->st[S_DOMAIN_ADD], 1, key->domain, (int)key->domain_len,
				  SQLITE_STATIC);
		err = store_sqlite_run(q->st[S_DOMAIN_ADD]);
		if (err)
			return err;
	}
	sqlite3_bind_text(get, 1, key->domain, (int)key->domain_len, SQLITE_STATIC);
	rc = sqlite3_step(get);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(get, 0);
	store_sqlite_done(get);
	if (rc == SQLITE_DONE)
		return GBA_ERR_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return store_sqlite_err(rc);
	/* Domains are never deleted, so a cached id stays right. */
	struct domain_entry *d = &q->domains[q->n_domains < DOMAIN_CACHE ? q->n_domains++ : 0];
	memcpy(d->name, key->domain, key->domain_len);
	d->len = key->domain_len;
	d->id = *id;
	return GBA_OK;
}

/* ---- the operations ---------------------------------------------------- */

/*
 * The user's GUSS: replace it, or keep it alive as long as this session.
 * Its expiry is rounded up to GUSS_EXPIRY_STEP so that a user's next
 * sessions, with the same GUSS, mostly leave the row alone: one page
 * write fewer per put.  A GUSS outlives its last session by less than a
 * step, which only delays its purge.
 */
static gba_err guss_write(struct sqlite_store *q, const struct gba_session *s,
			  const char *guss, size_t guss_len)
{
	sqlite3_stmt *st = q->st[guss ? S_GUSS_SET : S_GUSS_TOUCH];
	int64_t expiry = s->expiry + (GUSS_EXPIRY_STEP - s->expiry % GUSS_EXPIRY_STEP);

	sqlite3_bind_text(st, 1, s->impi, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, expiry);
	if (guss)
		sqlite3_bind_blob(st, 3, guss, (int)guss_len, SQLITE_STATIC);
	return store_sqlite_run(st);
}

static gba_err session_write(struct sqlite_store *q, const struct gba_session *s,
			     int64_t domain)
{
	sqlite3_stmt *st = q->st[S_PUT];

	sqlite3_bind_blob(st, 1, s->rand, 16, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, domain);
	sqlite3_bind_text(st, 3, s->impi, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, s->ks, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, s->created);
	sqlite3_bind_int64(st, 6, s->expiry);
	sqlite3_bind_int(st, 7, (int)s->type);
	return store_sqlite_run(st);   /* unbinds Ks */
}

static gba_err sqlite_put(struct gba_session_store *base, const struct gba_session *s,
			  const struct btid_key *key, const char *guss, size_t guss_len)
{
	struct sqlite_store *q = from_base(base);
	int64_t domain;
	gba_err err;

	pthread_mutex_lock(&q->lock);
	err = write_begin(q);
	if (!err)
		err = domain_id(q, key, 1, &domain);
	/*
	 * GUSS first: if the session row then fails, a GUSS row without a
	 * session is harmless (the sweep removes it); the reverse would leave
	 * a session without its user's settings.
	 */
	if (!err)
		err = guss_write(q, s, guss, guss_len);
	if (!err)
		err = session_write(q, s, domain);
	err = write_end(q, err);
	pthread_mutex_unlock(&q->lock);
	return err;
}

static gba_err read_guss(struct sqlite_store *q, const char *impi, const struct guss_out *g)
{
	sqlite3_stmt *st = q->st[S_GUSS_GET];
	gba_err err = GBA_OK;
	int rc;

	sqlite3_bind_text(st, 1, impi, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = guss_out_copy(g, sqlite3_column_blob(st, 0),
					(size_t)sqlite3_column_bytes(st, 0));
	else if (rc == SQLITE_DONE)
		err = guss_out_copy(g, NULL, 0);
	else
		err = store_sqlite_err(rc);
	store_sqlite_done(st);
	return err;
}

/* Copy a session row (impi, ks, created, expiry, type); GBA_ERR_STORE if malformed. */
static gba_err row_to_session(sqlite3_stmt *st, struct gba_session *out)
{
	const unsigned char *impi = sqlite3_column_text(st, 0);
	size_t impi_len = (size_t)sqlite3_column_bytes(st, 0);
	const void *ks = sqlite3_column_blob(st, 1);
	int type = sqlite3_column_int(st, 4);

	if (!impi || impi_len == 0 || impi_len > GBA_IMPI_MAX || !ks ||
	    sqlite3_column_bytes(st, 1) != 32 || (type != GBA_TYPE_ME && type != GBA_TYPE_U))
		return GBA_ERR_STORE;
	memcpy(out->impi, impi, impi_len);
	out->impi[impi_len] = '\0';
	memcpy(out->ks, ks, 32);
	out->created = sqlite3_column_int64(st, 2);
	out->expiry = sqlite3_column_int64(st, 3);
	out->type = (enum gba_type)type;
	return GBA_OK;
}

static gba_err sqlite_get(struct gba_session_store *base, const struct btid_key *key,
			  int64_t now, struct gba_session *out, const struct guss_out *g)
{
	struct sqlite_store *q = from_base(base);
	sqlite3_stmt *st = q->st[S_GET];
	int64_t domain;
	gba_err err;
	int rc;

	pthread_mutex_lock(&q->lock);
	err = read_begin(q);
	if (!err)
		err = domain_id(q, key, 0, &domain);
	if (err)
		goto out;
	sqlite3_bind_blob(st, 1, key->rand, 16, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, domain);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = row_to_session(st, out);
	else
		err = rc == SQLITE_DONE ? GBA_ERR_NOT_FOUND : store_sqlite_err(rc);
	store_sqlite_done(st);
	if (!err && out->expiry <= now)
		err = GBA_ERR_NOT_FOUND;   /* expired, not yet purged */
	if (!err) {
		memcpy(out->rand, key->rand, 16);
		err = read_guss(q, out->impi, g);
	}
out:
	read_end(q);
	pthread_mutex_unlock(&q->lock);
	return err;
}

static gba_err sqlite_del(struct gba_session_store *base, const struct btid_key *key)
{
	struct sqlite_store *q = from_base(base);
	sqlite3_stmt *st = q->st[S_DEL];
	int64_t domain;
	gba_err err;

	pthread_mutex_lock(&q->lock);
	err = domain_id(q, key, 0, &domain);
	if (err)
		goto out;
	err = write_begin(q);
	if (!err) {
		sqlite3_bind_blob(st, 1, key->rand, 16, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, domain);
		int found;
		err = store_sqlite_run(st);
		found = !err && sqlite3_changes(q->db) > 0;
		err = write_end(q, err);
		if (!err && !found)
			err = GBA_ERR_NOT_FOUND;
	}
out:
	pthread_mutex_unlock(&q->lock);
	return err;
}

/*
 * Look at the next slice of the GUSS table (in IMPI order, from where the
 * last purge stopped) and delete the expired rows in it: bounded work per
 * purge, and in time every row is looked at.  Lock held.
 */
static gba_err guss_sweep(struct sqlite_store *q, int64_t now)
{
	sqlite3_stmt *cur = q->st[S_GUSS_CURSOR], *del = q->st[S_GUSS_SWEEP];
	char last[GBA_IMPI_MAX + 1];
	int64_t n = 0;
	gba_err err;
	int rc;

	sqlite3_bind_text(cur, 1, q->guss_cursor, -1, SQLITE_STATIC);
	sqlite3_bind_int(cur, 2, GUSS_SWEEP_SLICE);
	rc = sqlite3_step(cur);
	last[0] = '\0';
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(cur, 0);
		size_t len = (size_t)sqlite3_column_bytes(cur, 0);
		n = sqlite3_column_int64(cur, 1);
		if (t && len <= GBA_IMPI_MAX) {
			memcpy(last, t, len);
			last[len] = '\0';
		}
	}
	store_sqlite_done(cur);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(rc);
	if (n == 0 || !last[0]) {
		q->guss_cursor[0] = '\0';   /* at the end: start over next time */
		return GBA_OK;
	}
	sqlite3_bind_text(del, 1, q->guss_cursor, -1, SQLITE_STATIC);
	sqlite3_bind_text(del, 2, last, -1, SQLITE_STATIC);
	sqlite3_bind_int64(del, 3, now);
	err = store_sqlite_run(del);
	if (err)
		return err;
	if (n < GUSS_SWEEP_SLICE)
		q->guss_cursor[0] = '\0';
	else
		memcpy(q->guss_cursor, last, strlen(last) + 1);
	return GBA_OK;
}

/*
 * Expired sessions go in chunks, each its own transaction, with the lock
 * dropped in between: a purge of many rows never stalls puts for long.
 */
static gba_err sqlite_purge(struct gba_session_store *base, int64_t now, uint64_t *purged)
{
	struct sqlite_store *q = from_base(base);
	sqlite3_stmt *st = q->st[S_PURGE];
	gba_err err;
	int n;

	do {
		pthread_mutex_lock(&q->lock);
		err = flush(q);
		if (!err) {
			sqlite3_bind_int64(st, 1, now);
			sqlite3_bind_int(st, 2, PURGE_CHUNK);
			err = store_sqlite_run(st);
		}
		n = err ? 0 : sqlite3_changes(q->db);
		*purged += (uint64_t)n;
		pthread_mutex_unlock(&q->lock);
	} while (!err && n == PURGE_CHUNK);
	if (err)
		return err;
	pthread_mutex_lock(&q->lock);
	err = guss_sweep(q, now);
	pthread_mutex_unlock(&q->lock);
	return err;
}

static gba_err sqlite_stats(struct gba_session_store *base, int64_t now, uint64_t *live,
			    uint64_t *bytes)
{
	struct sqlite_store *q = from_base(base);
	sqlite3_stmt *st = q->st[S_COUNT];
	gba_err err;
	int rc;

	pthread_mutex_lock(&q->lock);
	sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*live = (uint64_t)sqlite3_column_int64(st, 0);
	store_sqlite_done(st);
	err = rc == SQLITE_ROW ? store_sqlite_bytes(q->db, bytes) : store_sqlite_err(rc);
	pthread_mutex_unlock(&q->lock);
	return err;
}

static void sqlite_close(struct gba_session_store *base)
{
	struct sqlite_store *q = from_base(base);

	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	if (q->has_flusher)
		pthread_join(q->flusher, NULL);
	(void)flush(q);
	store_sqlite_finalize(q->st, S__COUNT);
	sqlite3_close(q->db);
	sqlite3_close(q->ckpt_db);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	gba_wipe(q, sizeof(*q));
	free(q);
}

static const struct session_backend_ops sqlite_ops = {
	.put = sqlite_put,
	.get = sqlite_get,
	.del = sqlite_del,
	.purge = sqlite_purge,
	.stats = sqlite_stats,
	.close = sqlite_close,
};

/* ---- opening ----------------------------------------------------------- */

static int parse_option(void *arg, const char *name, const char *value)
{
	struct sqlite_store *q = arg;
	unsigned long v;

	if (!strcmp(name, "commit_ms")) {
		if (session_parse_uint(value, 0, COMMIT_MS_MAX, &v))
			return -1;
		q->commit_ms = (unsigned)v;
		return 0;
	}
	if (!strcmp(name, "exclusive")) {
		if (session_parse_uint(value, 0, 1, &v))
			return -1;
		q->exclusive = (int)v;
		return 0;
	}
	if (!strcmp(name, "batch")) {
		if (session_parse_uint(value, 1, BATCH_MAX, &v))
			return -1;
		q->batch_max = (unsigned)v;
		return 0;
	}
	return -1;
}

static gba_err open_db(struct sqlite_store *q, const char *path)
{
	gba_err err = store_sqlite_open(&q->db, path, "FAST", q->exclusive);

	if (!err)
		err = store_sqlite_schema(q->db, schema_sql, SCHEMA_VERSION);
	if (!err)
		err = store_sqlite_prepare(q->db, stmt_sql, q->st, S__COUNT);
	if (!err && !q->exclusive) {
		sqlite3_wal_hook(q->db, wal_hook, q);   /* turns auto-checkpoint off */
		err = store_sqlite_open(&q->ckpt_db, path, "FAST", 0);
	}
	return err;
}

/* The mutex, and the flusher's condition variable on the monotonic clock. */
static gba_err init_sync(struct sqlite_store *q)
{
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);

	if (!rc)
		rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(&q->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (rc)
		return GBA_ERR_NO_MEMORY;
	if (store_mutex_init(&q->lock)) {
		pthread_cond_destroy(&q->wake);
		return GBA_ERR_NO_MEMORY;
	}
	return GBA_OK;
}

gba_err session_sqlite_open(struct gba_session_store **out, const char *spec)
{
	char path[4096];
	const char *qm = strchr(spec, '?');
	size_t path_len = qm ? (size_t)(qm - spec) : strlen(spec);
	struct sqlite_store *q;
	gba_err err;

	if (path_len == 0 || path_len >= sizeof(path))
		return GBA_ERR_INVALID_ARG;
	q = calloc(1, sizeof(*q));
	if (!q)
		return GBA_ERR_NO_MEMORY;
	q->base.ops = &sqlite_ops;
	q->commit_ms = DEFAULT_COMMIT_MS;
	q->batch_max = DEFAULT_BATCH;
	if ((qm && session_uri_options(qm + 1, parse_option, q)) || init_sync(q)) {
		free(q);
		return qm ? GBA_ERR_INVALID_ARG : GBA_ERR_NO_MEMORY;
	}
	memcpy(path, spec, path_len);
	path[path_len] = '\0';
	err = open_db(q, path);
	if (!err) {
		if (pthread_create(&q->flusher, NULL, flusher_run, q))
			err = GBA_ERR_NO_MEMORY;
		else
			q->has_flusher = 1;
	}
	if (err) {
		sqlite_close(&q->base);
		return err;
	}
	*out = &q->base;
	return GBA_OK;
}
