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
 * Group commit (commit_ms > 0, the default): put() does not touch SQLite.
 * It copies the session into the stage, an array in memory, and returns;
 * gets look there first.  A background thread (the flusher) takes the
 * whole stage when commit_ms has passed since its first put, or when it
 * holds `batch` puts, and writes it in one transaction while new puts
 * fill a fresh stage: the BSF's worker threads never wait for SQLite's
 * I/O, and many puts share one WAL append.  A crash loses at most the
 * window; close() writes it.  With commit_ms=0 every put is committed
 * before it returns.
 *
 * A batch that cannot be written (disk full, write error, another
 * process's lock) is kept, never dropped: its puts were acknowledged.  The
 * flusher retries it with a growing interval (RETRY_MIN_MS..RETRY_MAX_MS),
 * gets still find its sessions, and until a write succeeds the store is
 * "unwritable": new puts are refused with GBA_ERR_STORE_UNWRITABLE, so
 * that nobody is told a session exists that might not be written.
 *
 * SQLite itself is used through one connection, serialised by `lock`.
 * Gets open a read transaction that the next gets share for commit_ms:
 * SQLite's per-transaction file locking (several fcntl calls) is then paid
 * once per window, not once per get.  The flusher ends such a window when
 * its time is up.  A third thread, the checkpointer, copies the WAL into
 * the database through a second connection of its own, PASSIVE, without
 * `lock`: nobody waits for the checkpoint's I/O and fsync, and batches are
 * written meanwhile.  With exclusive=1 the file is locked to
 * this connection (no shared memory, no per-transaction locks, no second
 * connection), and SQLite checkpoints inline as usual.
 *
 * Lock order: `lock` may be held while taking `stage_lock`, never the
 * other way round.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/util.h>

#include "session_backend.h"
#include "sqlite_util.h"

#define SCHEMA_VERSION 1
#define DEFAULT_COMMIT_MS 20
#define DEFAULT_BATCH 4096
#define STAGE_LIMIT_BATCHES 2  /* puts wait when the stage holds this many batches */
/*
 * WAL pages that wake the checkpointer (ckpt_pages=N).  A checkpoint reads
 * every page back from the WAL and writes it into the database, once per
 * page however often it changed: the larger the WAL may grow (64 MiB
 * here), the fewer pages per session are copied (docs/session-store.md).
 */
#define DEFAULT_CKPT_PAGES 16000
#define CKPT_PAGES_MIN 100
#define CKPT_PAGES_MAX 1000000
#define CKPT_INLINE_FACTOR 4    /* the checkpointer lags: the writer does one */
/*
 * MiB of the file read through a map (mmap_mb=N).  None by default: with
 * 10 million B-TIDs a map of 256 MiB (sqlite_util.c's) saved no measurable
 * CPU per bootstrap or per BIR, and its pages counted in the BSF's RSS,
 * which then grew with the store (docs/session-store.md, "Scale").
 */
#define MMAP_MB_DEFAULT 0
#define MMAP_MB_MAX 65536
#define COMMIT_MS_MAX 1000
#define BATCH_MAX 100000
#define PURGE_CHUNK 512         /* sessions deleted per write transaction */
#define GUSS_SWEEP_SLICE 4096   /* GUSS rows looked at per purge */
#define DOMAIN_CACHE 4
#define GUSS_EXPIRY_STEP 3600   /* seconds; see guss_write() */
#define RETRY_MIN_MS 10         /* a kept batch is written again after this, */
#define RETRY_MAX_MS 1000       /* doubling up to this */
#define CLOSE_RETRY_MS 2000     /* close() tries a kept batch this long, then drops it */

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
	S_LIVE,
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
		  " expiry = excluded.expiry, type = excluded.type"
		  " WHERE session.expiry <= excluded.created",
	[S_GUSS_SET] = "INSERT INTO guss(impi, expiry, doc) VALUES (?1, ?2, ?3)"
		       " ON CONFLICT(impi) DO UPDATE SET doc = excluded.doc,"
		       " expiry = max(expiry, excluded.expiry)"
		       " WHERE doc IS NOT excluded.doc OR expiry < excluded.expiry",
	[S_GUSS_TOUCH] = "UPDATE guss SET expiry = ?2 WHERE impi = ?1 AND expiry < ?2",
	[S_GET] = "SELECT impi, ks, created, expiry, type FROM session"
		  " WHERE rand = ?1 AND domain = ?2",
	[S_LIVE] = "SELECT 1 FROM session s JOIN domain d ON d.id = s.domain"
		   " WHERE s.rand = ?1 AND d.name = ?2 AND s.expiry > ?3",
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

/* A put in the stage: what the session row and the GUSS row need. */
struct staged_put {
	uint8_t rand[16];
	uint8_t ks[32];
	int64_t created;
	int64_t expiry;
	enum gba_type type;
	int deleted;                    /* delete() came first: not written */
	size_t domain_len;
	char domain[GBA_BTID_MAX];
	char impi[GBA_IMPI_MAX + 1];
	char *guss;                     /* a copy; NULL: keep the stored GUSS */
	size_t guss_len;
};

struct stage {
	struct staged_put *v;
	size_t n, cap;
};

struct sqlite_store {
	struct gba_session_store base;

	/* SQLite: the connection and its transaction state. */
	pthread_mutex_t lock;           /* guards this part */
	sqlite3 *db;
	sqlite3_stmt *st[S__COUNT];
	int in_txn;                     /* TXN_NONE, TXN_READ or TXN_WRITE */
	struct timespec read_deadline;  /* CLOCK_MONOTONIC: end the read window */
	struct domain_entry domains[DOMAIN_CACHE];
	unsigned n_domains;
	char guss_cursor[GBA_IMPI_MAX + 1];

	/* The stage and the flusher. */
	pthread_mutex_t stage_lock;     /* guards this part */
	pthread_cond_t wake;            /* the flusher's: work, or stop */
	pthread_cond_t written;         /* a batch is written */
	struct stage stage;             /* puts not yet taken */
	struct stage inflight;          /* the batch being written */
	int writing;                    /* inflight is being written */
	uint64_t batches_written;       /* batches committed: put_staged looks again */
	struct timespec stage_deadline; /* CLOCK_MONOTONIC: write the stage */
	int write_now;                  /* drain(): write the stage at once */
	int read_window;                /* a read window is open: end it in time */
	struct timespec window_deadline; /* read_deadline, as the flusher sees it */
	int ckpt_wanted;                /* the WAL has grown: checkpoint it */
	pthread_cond_t ckpt_wake;       /* the checkpointer's: ckpt_wanted, or stop */
	int stop;
	struct timespec give_up_at;     /* close(): drop a batch still unwritten then */
	/* Writes that failed.  inflight.n with writing == 0: a batch is kept. */
	int unwritable;                 /* the last write failed: puts are refused */
	unsigned backoff_ms;            /* the kept batch's retry interval */
	struct timespec retry_at;       /* CLOCK_MONOTONIC: write the kept batch again */
	uint64_t write_failures;        /* write transactions that failed, since open */
	pthread_t flusher;
	int has_flusher;
	pthread_t checkpointer;         /* with ckpt_db: checkpoints, nothing else */
	int has_checkpointer;

	/* Fixed at open. */
	unsigned commit_ms;             /* 0: every write commits at once */
	unsigned batch_max;             /* puts that end a window early */
	unsigned ckpt_pages;            /* WAL pages that ask for a checkpoint */
	unsigned mmap_mb;               /* MiB of the file read through a map */
	int exclusive;                  /* locking_mode=EXCLUSIVE: this process only */
	sqlite3 *ckpt_db;               /* the checkpointer's own connection, */
	sqlite3_stmt *ckpt_count;       /* where stats() counts too, */
	pthread_mutex_t ckpt_lock;      /* one thread at a time */
};

static struct sqlite_store *from_base(struct gba_session_store *st)
{
	return (struct sqlite_store *)st;
}

/* ---- transactions ------------------------------------------------------ */

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
 * End the open transaction, if any: COMMIT (a read window ends the same
 * way).  If that fails, SQLite has rolled back; the domain ids cached in
 * the transaction may name rows that are gone, so forget them.  Lock held.
 */
static gba_err txn_end(struct sqlite_store *q)
{
	gba_err err;

	if (!q->in_txn)
		return GBA_OK;
	err = store_sqlite_run(q->st[S_COMMIT]);
	if (err) {
		if (!sqlite3_get_autocommit(q->db))
			(void)store_sqlite_run(q->st[S_ROLLBACK]);
		q->n_domains = 0;
	}
	q->in_txn = TXN_NONE;
	return err;
}

/*
 * Reads join whatever transaction is open.  With group commit, when none
 * is, they open a read transaction that the next reads share for up to
 * commit_ms, and the flusher is told to end it then.  Other processes'
 * writes show after at most commit_ms.  Lock held.
 */
static gba_err read_begin(struct sqlite_store *q)
{
	gba_err err;

	if (q->in_txn || !q->commit_ms)
		return GBA_OK;
	err = store_sqlite_run(q->st[S_BEGIN_READ]);
	if (err)
		return err;
	q->in_txn = TXN_READ;
	deadline_in(&q->read_deadline, q->commit_ms);
	pthread_mutex_lock(&q->stage_lock);
	q->read_window = 1;
	q->window_deadline = q->read_deadline;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->stage_lock);
	return GBA_OK;
}

/* After a read: end the window if its time has passed.  Lock held. */
static void read_end(struct sqlite_store *q)
{
	if (q->in_txn == TXN_READ && deadline_passed(&q->read_deadline))
		(void)txn_end(q);
}

/* Open a write transaction; a read snapshot cannot become one.  Lock held. */
static gba_err write_begin(struct sqlite_store *q)
{
	gba_err err = txn_end(q);

	if (err)
		return err;
	err = store_sqlite_run(q->st[S_BEGIN]);
	if (!err)
		q->in_txn = TXN_WRITE;
	return err;
}

/* Commit the write transaction, or roll it back after a failed write.  Lock held. */
static gba_err write_end(struct sqlite_store *q, gba_err err)
{
	if (!err)
		return txn_end(q);
	if (!sqlite3_get_autocommit(q->db))
		(void)store_sqlite_run(q->st[S_ROLLBACK]);
	q->in_txn = TXN_NONE;
	q->n_domains = 0;
	return err;
}

/*
 * SQLite calls this after each commit on the writer connection (so with
 * `lock` held), with the WAL's size in pages.  It replaces SQLite's own
 * auto-checkpoint: the checkpointer thread does it, off the hot path.
 * Only if it falls far behind does the writer checkpoint itself.
 */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sqlite_store *q = arg;

	if ((unsigned)frames >= q->ckpt_pages * CKPT_INLINE_FACTOR) {
		(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if ((unsigned)frames >= q->ckpt_pages) {
		pthread_mutex_lock(&q->stage_lock);
		q->ckpt_wanted = 1;
		pthread_cond_signal(&q->ckpt_wake);
		pthread_mutex_unlock(&q->stage_lock);
	}
	return SQLITE_OK;
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

/* ---- writing a session ------------------------------------------------- */

/*
 * The user's GUSS: replace it, or keep it alive as long as this session.
 * Its expiry is rounded up to GUSS_EXPIRY_STEP so that a user's next
 * sessions, with the same GUSS, mostly leave the row alone: one page
 * write fewer per put.  A GUSS outlives its last session by less than a
 * step, which only delays its purge.  Lock held.
 */
static gba_err guss_write(struct sqlite_store *q, const struct staged_put *p)
{
	sqlite3_stmt *st = q->st[p->guss ? S_GUSS_SET : S_GUSS_TOUCH];
	int64_t expiry = p->expiry + (GUSS_EXPIRY_STEP - p->expiry % GUSS_EXPIRY_STEP);

	sqlite3_bind_text(st, 1, p->impi, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, expiry);
	if (p->guss)
		sqlite3_bind_blob(st, 3, p->guss, (int)p->guss_len, SQLITE_STATIC);
	return store_sqlite_run(st);
}

static gba_err session_write(struct sqlite_store *q, const struct staged_put *p,
			     int64_t domain)
{
	sqlite3_stmt *st = q->st[S_PUT];
	gba_err err;

	sqlite3_bind_blob(st, 1, p->rand, 16, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, domain);
	sqlite3_bind_text(st, 3, p->impi, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, p->ks, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, p->created);
	sqlite3_bind_int64(st, 6, p->expiry);
	sqlite3_bind_int(st, 7, (int)p->type);
	err = store_sqlite_run(st);   /* unbinds Ks */
	/* The unique index on (rand, domain) met a live session: left as it is. */
	if (!err && sqlite3_changes(q->db) == 0)
		err = GBA_ERR_EXISTS;
	return err;
}

/*
 * One put inside the open write transaction.  GUSS first: if the session
 * row then fails, a GUSS row without a session is harmless (the sweep
 * removes it); the reverse would leave a session without its user's
 * settings.  A put deleted while staged still leaves its GUSS, as a put
 * deleted after its commit does.  Lock held.
 */
static gba_err put_row(struct sqlite_store *q, const struct staged_put *p)
{
	struct btid_key key = { p->rand, p->domain, p->domain_len };
	int64_t domain = 0;
	gba_err err = guss_write(q, p);

	if (!err && !p->deleted)
		err = domain_id(q, &key, 1, &domain);
	if (!err && !p->deleted)
		err = session_write(q, p, domain);
	return err;
}

/* The put as a stage entry; guss is borrowed (not copied).  No lock. */
static void staged_fill(struct staged_put *p, const struct gba_session *s,
			const struct btid_key *key, const char *guss, size_t guss_len)
{
	memcpy(p->rand, s->rand, 16);
	memcpy(p->ks, s->ks, 32);
	p->created = s->created;
	p->expiry = s->expiry;
	p->type = s->type;
	p->deleted = 0;
	memcpy(p->domain, key->domain, key->domain_len);
	p->domain_len = key->domain_len;
	memcpy(p->impi, s->impi, strlen(s->impi) + 1);
	p->guss = (char *)guss;
	p->guss_len = guss_len;
}

/*
 * After a write: success makes the store writable again, a failure counts.
 * stage_lock held.
 */
static void note_write(struct sqlite_store *q, gba_err err)
{
	if (!err) {
		q->unwritable = 0;
		q->backoff_ms = 0;
		return;
	}
	q->write_failures++;
	q->unwritable = 1;
}

/*
 * commit_ms=0: write and commit before returning, so a put that returns
 * GBA_OK is in the file.  Each put tries, whatever the last one met: it
 * is its own probe of whether the disk has room again.
 */
static gba_err put_now(struct sqlite_store *q, const struct gba_session *s,
		       const struct btid_key *key, const char *guss, size_t guss_len)
{
	struct staged_put p;
	gba_err err;

	staged_fill(&p, s, key, guss, guss_len);
	pthread_mutex_lock(&q->lock);
	err = write_begin(q);
	if (!err)
		err = put_row(q, &p);
	err = write_end(q, err);
	pthread_mutex_unlock(&q->lock);
	gba_wipe(p.ks, sizeof(p.ks));
	pthread_mutex_lock(&q->stage_lock);
	note_write(q, err == GBA_ERR_EXISTS ? GBA_OK : err);
	pthread_mutex_unlock(&q->stage_lock);
	return err;
}

/* ---- the stage --------------------------------------------------------- */

static int staged_is(const struct staged_put *p, const struct btid_key *key)
{
	return !memcmp(p->rand, key->rand, 16) && p->domain_len == key->domain_len &&
	       !memcmp(p->domain, key->domain, key->domain_len);
}

/*
 * The newest live put of key: in the stage, else in the batch being
 * written; NULL if neither has one.  stage_lock held.
 */
static struct staged_put *stage_find(struct sqlite_store *q, const struct btid_key *key,
				     int *in_flight)
{
	const struct stage *b[2] = { &q->stage, &q->inflight };

	for (int k = 0; k < 2; k++)
		for (size_t i = b[k]->n; i-- > 0;)
			if (!b[k]->v[i].deleted && staged_is(&b[k]->v[i], key)) {
				*in_flight = k;
				return &b[k]->v[i];
			}
	return NULL;
}

/* The newest GUSS staged for impi (deleted puts' too: they still write
 * it), or NULL.  stage_lock held. */
static const struct staged_put *stage_guss(const struct sqlite_store *q, const char *impi)
{
	const struct stage *b[2] = { &q->stage, &q->inflight };

	for (int k = 0; k < 2; k++)
		for (size_t i = b[k]->n; i-- > 0;)
			if (b[k]->v[i].guss && !strcmp(b[k]->v[i].impi, impi))
				return &b[k]->v[i];
	return NULL;
}

/* Empty a batch, wiping the keys; its memory stays for the next one. */
static void stage_clear(struct stage *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->v[i].guss) {
			gba_wipe(b->v[i].guss, b->v[i].guss_len);
			free(b->v[i].guss);
		}
		gba_wipe(b->v[i].ks, sizeof(b->v[i].ks));
	}
	b->n = 0;
}

/* Room for one more put.  stage_lock held. */
static gba_err stage_grow(struct stage *b)
{
	size_t cap = b->cap ? b->cap * 2 : 64;
	struct staged_put *v;

	if (b->n < b->cap)
		return GBA_OK;
	v = realloc(b->v, cap * sizeof(*v));
	if (!v)
		return GBA_ERR_NO_MEMORY;
	b->v = v;
	b->cap = cap;
	return GBA_OK;
}

/* A live put of key (expiring after now) is staged.  stage_lock held. */
static int stage_live(struct sqlite_store *q, const struct btid_key *key, int64_t now)
{
	int in_flight;
	const struct staged_put *p = stage_find(q, key, &in_flight);

	return p && p->expiry > now;
}

/* GBA_ERR_EXISTS when the file has a live session under key.  No lock held. */
static gba_err file_live(struct sqlite_store *q, const struct btid_key *key, int64_t now)
{
	sqlite3_stmt *st = q->st[S_LIVE];
	gba_err err;
	int rc;

	pthread_mutex_lock(&q->lock);
	err = read_begin(q);
	if (!err) {
		sqlite3_bind_blob(st, 1, key->rand, 16, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, key->domain, (int)key->domain_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		rc = sqlite3_step(st);
		err = rc == SQLITE_ROW ? GBA_ERR_EXISTS
				       : rc == SQLITE_DONE ? GBA_OK : store_sqlite_err(rc);
		store_sqlite_done(st);
	}
	read_end(q);
	pthread_mutex_unlock(&q->lock);
	return err;
}

/*
 * Stage one put.  Stage and file are asked first whether a live session
 * holds the B-TID (GBA_ERR_EXISTS, nothing staged): the caller hears of a
 * collision now, not when the batch is written.  A batch written between
 * the file's answer and the append (batches_written moved) may hold it:
 * then look again.  stage_lock not held.
 */
static gba_err stage_append(struct sqlite_store *q, const struct gba_session *s,
			    const struct btid_key *key, char **copy, size_t guss_len)
{
	uint64_t gen;
	gba_err err;

	for (;;) {
		pthread_mutex_lock(&q->stage_lock);
		gen = q->batches_written;
		err = stage_live(q, key, s->created) ? GBA_ERR_EXISTS : GBA_OK;
		pthread_mutex_unlock(&q->stage_lock);
		if (!err)
			err = file_live(q, key, s->created);
		if (err)
			return err;
		pthread_mutex_lock(&q->stage_lock);
		/* The flusher is far behind: wait for it rather than grow without bound. */
		while (q->stage.n >= (size_t)q->batch_max * STAGE_LIMIT_BATCHES && !q->stop &&
		       !q->unwritable)
			pthread_cond_wait(&q->written, &q->stage_lock);
		if (gen == q->batches_written)
			break;
		pthread_mutex_unlock(&q->stage_lock);
	}
	/* A batch waits to be written again: take nothing more until it is. */
	err = q->unwritable ? GBA_ERR_STORE_UNWRITABLE : GBA_OK;
	if (!err && stage_live(q, key, s->created))
		err = GBA_ERR_EXISTS;
	if (!err)
		err = stage_grow(&q->stage);
	if (!err) {
		staged_fill(&q->stage.v[q->stage.n++], s, key, *copy, guss_len);
		*copy = NULL;
		if (q->stage.n == 1)
			deadline_in(&q->stage_deadline, q->commit_ms);
		if (q->stage.n == 1 || q->stage.n == q->batch_max)
			pthread_cond_signal(&q->wake);
	}
	pthread_mutex_unlock(&q->stage_lock);
	return err;
}

static gba_err put_staged(struct sqlite_store *q, const struct gba_session *s,
			  const struct btid_key *key, const char *guss, size_t guss_len)
{
	char *copy = NULL;
	gba_err err;

	if (guss) {
		copy = malloc(guss_len ? guss_len : 1);
		if (!copy)
			return GBA_ERR_NO_MEMORY;
		memcpy(copy, guss, guss_len);
	}
	err = stage_append(q, s, key, &copy, guss_len);
	if (copy) {
		gba_wipe(copy, guss_len);
		free(copy);
	}
	return err;
}

/*
 * Write every put staged so far and wait until that is done: purge and
 * stats then see the database as the puts left it.  While writes fail,
 * it does not wait: the flusher keeps retrying without a deadline.
 */
static void stage_drain(struct sqlite_store *q)
{
	pthread_mutex_lock(&q->stage_lock);
	while ((q->stage.n || q->writing) && q->has_flusher && !q->unwritable) {
		q->write_now = 1;
		pthread_cond_signal(&q->wake);
		pthread_cond_wait(&q->written, &q->stage_lock);
	}
	pthread_mutex_unlock(&q->stage_lock);
}

/* ---- the flusher ------------------------------------------------------- */

/* Write one batch in one transaction.  The flusher, no lock held. */
static gba_err write_batch(struct sqlite_store *q, const struct stage *b)
{
	gba_err err;

	pthread_mutex_lock(&q->lock);
	err = write_begin(q);
	for (size_t i = 0; i < b->n && !err; i++) {
		err = put_row(q, &b->v[i]);
		/* put_staged refused collisions; one that slipped past is dropped
		 * here, the live session kept (the unique index decides). */
		if (err == GBA_ERR_EXISTS)
			err = GBA_OK;
	}
	err = write_end(q, err);
	pthread_mutex_unlock(&q->lock);
	return err;
}

/*
 * The checkpointer thread: when the commits have grown the WAL past
 * ckpt_pages, copy it into the database on a connection of its own,
 * without either lock, so that nobody waits for its I/O.  It is not the
 * flusher: in a large store a checkpoint writes pages all over the file
 * and syncs it (hundreds of milliseconds with a million B-TIDs), and
 * while the flusher did that, no batch was written and puts waited for
 * room in the stage (docs/session-store.md, "Scale").  SQLite lets a
 * PASSIVE checkpoint run beside the writer.  Errors (busy) are harmless:
 * the next commit asks again.
 */
static void *checkpointer_run(void *arg)
{
	struct sqlite_store *q = arg;

	pthread_mutex_lock(&q->stage_lock);
	for (;;) {
		while (!q->ckpt_wanted && !q->stop)
			pthread_cond_wait(&q->ckpt_wake, &q->stage_lock);
		if (q->stop)
			break;   /* closing the last connection checkpoints anyway */
		q->ckpt_wanted = 0;
		pthread_mutex_unlock(&q->stage_lock);
		pthread_mutex_lock(&q->ckpt_lock);
		(void)sqlite3_wal_checkpoint_v2(q->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
						NULL);
		pthread_mutex_unlock(&q->ckpt_lock);
		pthread_mutex_lock(&q->stage_lock);
	}
	pthread_mutex_unlock(&q->stage_lock);
	return NULL;
}

/*
 * A write of inflight failed: keep the batch and try again later, the
 * interval doubling from RETRY_MIN_MS to RETRY_MAX_MS.  Only close() gives
 * up, CLOSE_RETRY_MS after it was called.  stage_lock held.
 */
static void keep_batch(struct sqlite_store *q)
{
	if (q->stop && deadline_passed(&q->give_up_at)) {
		stage_clear(&q->inflight);   /* lost: the process is going anyway */
		return;
	}
	q->backoff_ms = q->backoff_ms ? q->backoff_ms * 2 : RETRY_MIN_MS;
	if (q->backoff_ms > RETRY_MAX_MS)
		q->backoff_ms = RETRY_MAX_MS;
	deadline_in(&q->retry_at, q->backoff_ms);
}

/* Write inflight; emptied if that worked, kept if not.  stage_lock held, dropped meanwhile. */
static void write_inflight(struct sqlite_store *q)
{
	gba_err err;

	q->writing = 1;
	pthread_mutex_unlock(&q->stage_lock);
	err = write_batch(q, &q->inflight);
	pthread_mutex_lock(&q->stage_lock);
	q->writing = 0;
	note_write(q, err);
	if (err) {
		keep_batch(q);
	} else {
		q->batches_written++;
		stage_clear(&q->inflight);
	}
	pthread_cond_broadcast(&q->written);
}

/* Take the stage and write it; stage_lock held, dropped meanwhile. */
static void flush_stage(struct sqlite_store *q)
{
	struct stage t = q->inflight;

	q->inflight = q->stage;
	q->stage = t;
	q->write_now = 0;
	write_inflight(q);
}

/* The stage is to be written now (inflight is empty).  stage_lock held. */
static int stage_due(const struct sqlite_store *q)
{
	return q->stage.n && (q->stop || q->write_now || q->stage.n >= q->batch_max ||
			      deadline_passed(&q->stage_deadline));
}

/* The earliest of the deadlines the flusher has, or NULL for none.  stage_lock held. */
static const struct timespec *next_deadline(const struct sqlite_store *q)
{
	const struct timespec *t = NULL;

	if (q->inflight.n)
		t = &q->retry_at;
	else if (q->stage.n)
		t = &q->stage_deadline;
	if (q->read_window && (!t || q->window_deadline.tv_sec < t->tv_sec ||
			       (q->window_deadline.tv_sec == t->tv_sec &&
				q->window_deadline.tv_nsec < t->tv_nsec)))
		t = &q->window_deadline;
	return t;
}

/* End a read window whose time is up; stage_lock held, dropped meanwhile. */
static void end_read_window(struct sqlite_store *q)
{
	struct timespec next;
	int still_open = 0;

	q->read_window = 0;
	pthread_mutex_unlock(&q->stage_lock);
	pthread_mutex_lock(&q->lock);
	if (q->in_txn == TXN_READ) {
		/* A get may have ended the window and opened the next one. */
		if (deadline_passed(&q->read_deadline))
			(void)txn_end(q);
		else {
			still_open = 1;
			next = q->read_deadline;
		}
	}
	pthread_mutex_unlock(&q->lock);
	pthread_mutex_lock(&q->stage_lock);
	if (still_open && !q->read_window) {
		q->read_window = 1;
		q->window_deadline = next;
	}
}

static void *flusher_run(void *arg)
{
	struct sqlite_store *q = arg;
	const struct timespec *t;

	pthread_mutex_lock(&q->stage_lock);
	for (;;) {
		/* A kept batch goes first, in its time; the stage waits behind it. */
		if (q->inflight.n && deadline_passed(&q->retry_at)) {
			write_inflight(q);
			continue;
		}
		if (!q->inflight.n && stage_due(q)) {
			flush_stage(q);
			continue;
		}
		if (q->stop && !q->inflight.n && !q->stage.n)
			break;
		if (q->read_window && deadline_passed(&q->window_deadline)) {
			end_read_window(q);
			continue;
		}
		t = next_deadline(q);
		if (t)
			(void)pthread_cond_timedwait(&q->wake, &q->stage_lock, t);
		else
			pthread_cond_wait(&q->wake, &q->stage_lock);
	}
	pthread_mutex_unlock(&q->stage_lock);
	return NULL;
}

/* ---- the operations ---------------------------------------------------- */

static gba_err sqlite_put(struct gba_session_store *base, const struct gba_session *s,
			  const struct btid_key *key, const char *guss, size_t guss_len)
{
	struct sqlite_store *q = from_base(base);

	if (!q->commit_ms)
		return put_now(q, s, key, guss, guss_len);
	return put_staged(q, s, key, guss, guss_len);
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

/*
 * A staged session: copied out under stage_lock.  Its GUSS is the newest
 * one staged for the user, else the stored one (read after stage_lock is
 * dropped: the lock order).  0 when key is not staged.
 */
static int get_staged(struct sqlite_store *q, const struct btid_key *key,
		      struct gba_session *out, const struct guss_out *g, gba_err *err)
{
	const struct staged_put *p, *gp;
	int in_flight, need_db_guss = 0;

	pthread_mutex_lock(&q->stage_lock);
	p = stage_find(q, key, &in_flight);
	if (p) {
		memcpy(out->impi, p->impi, strlen(p->impi) + 1);
		memcpy(out->ks, p->ks, 32);
		out->created = p->created;
		out->expiry = p->expiry;
		out->type = p->type;
		gp = stage_guss(q, p->impi);
		if (gp)
			*err = guss_out_copy(g, gp->guss, gp->guss_len);
		else
			need_db_guss = 1;
	}
	pthread_mutex_unlock(&q->stage_lock);
	if (!p)
		return 0;
	if (need_db_guss) {
		pthread_mutex_lock(&q->lock);
		*err = read_begin(q);
		if (!*err)
			*err = read_guss(q, out->impi, g);
		read_end(q);
		pthread_mutex_unlock(&q->lock);
	}
	return 1;
}

static gba_err sqlite_get(struct gba_session_store *base, const struct btid_key *key,
			  int64_t now, struct gba_session *out, const struct guss_out *g)
{
	struct sqlite_store *q = from_base(base);
	sqlite3_stmt *st = q->st[S_GET];
	int64_t domain;
	gba_err err = GBA_OK;
	int rc;

	/*
	 * The stage first: a put leaves it only after its batch is committed,
	 * so what is not staged is in the database (or nowhere).
	 */
	if (get_staged(q, key, out, g, &err)) {
		if (!err && out->expiry <= now)
			err = GBA_ERR_NOT_FOUND;   /* staged already expired */
		if (!err)
			memcpy(out->rand, key->rand, 16);
		return err;
	}
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

/*
 * Mark key's staged puts deleted (the flusher writes their GUSS only); a put
 * being written is waited for, so that the delete below finds its row (a
 * kept batch, between retries, is marked like the stage).
 * 1 if a live put was staged.
 */
static int del_staged(struct sqlite_store *q, const struct btid_key *key)
{
	struct staged_put *p;
	int in_flight, found = 0;

	pthread_mutex_lock(&q->stage_lock);
	while ((p = stage_find(q, key, &in_flight)) != NULL) {
		if (in_flight && q->writing) {
			pthread_cond_wait(&q->written, &q->stage_lock);
			continue;
		}
		p->deleted = 1;
		gba_wipe(p->ks, sizeof(p->ks));
		found = 1;
	}
	pthread_mutex_unlock(&q->stage_lock);
	return found;
}

static gba_err sqlite_del(struct gba_session_store *base, const struct btid_key *key)
{
	struct sqlite_store *q = from_base(base);
	sqlite3_stmt *st = q->st[S_DEL];
	int found = del_staged(q, key);
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
		err = store_sqlite_run(st);
		found |= !err && sqlite3_changes(q->db) > 0;
		err = write_end(q, err);
	}
out:
	pthread_mutex_unlock(&q->lock);
	if (err == GBA_ERR_NOT_FOUND || (!err && !found))
		return found ? GBA_OK : GBA_ERR_NOT_FOUND;
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
 * dropped in between: a purge of many rows never stalls gets for long.
 * In a large store each deleted row dirties a page of the B-TID index of
 * its own (RANDs are random): 13 - 90 us a row with 10 million B-TIDs, so
 * a chunk of PURGE_CHUNK holds the lock for 7 - 45 ms (2048 held it for up
 * to 180 ms).  Staged puts are written first, so that purge sees them.
 */
static gba_err sqlite_purge(struct gba_session_store *base, int64_t now, uint64_t *purged)
{
	struct sqlite_store *q = from_base(base);
	sqlite3_stmt *st = q->st[S_PURGE];
	gba_err err;
	int n;

	stage_drain(q);
	do {
		pthread_mutex_lock(&q->lock);
		err = txn_end(q);
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

/* Live sessions (S_COUNT as st, prepared on db) and the bytes in use. */
static gba_err count_live(sqlite3 *db, sqlite3_stmt *st, int64_t now, uint64_t *live,
			  uint64_t *bytes)
{
	int rc;

	sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*live = (uint64_t)sqlite3_column_int64(st, 0);
	store_sqlite_done(st);
	return rc == SQLITE_ROW ? store_sqlite_bytes(db, bytes) : store_sqlite_err(rc);
}

/*
 * Counting the live sessions reads the whole expiry index: a quarter to
 * half a second with 10 million B-TIDs.  Under `lock`, every get and put
 * waited that long at each /metrics scrape; so the count runs on the
 * checkpointer's connection, in a read transaction of its own that the
 * writer does not wait for (WAL).  With exclusive=1 there is no such
 * connection, and it runs under `lock`.
 */
static gba_err sqlite_stats(struct gba_session_store *base, int64_t now, uint64_t *live,
			    uint64_t *bytes)
{
	struct sqlite_store *q = from_base(base);
	gba_err err;

	stage_drain(q);
	if (q->ckpt_db) {
		pthread_mutex_lock(&q->ckpt_lock);
		err = count_live(q->ckpt_db, q->ckpt_count, now, live, bytes);
		pthread_mutex_unlock(&q->ckpt_lock);
		return err;
	}
	pthread_mutex_lock(&q->lock);
	err = count_live(q->db, q->st[S_COUNT], now, live, bytes);
	pthread_mutex_unlock(&q->lock);
	return err;
}

static void sqlite_health(struct gba_session_store *base, struct gba_session_store_health *out)
{
	struct sqlite_store *q = from_base(base);

	pthread_mutex_lock(&q->stage_lock);
	out->writable = !q->unwritable;
	out->write_failures = q->write_failures;
	out->unwritten = q->stage.n + q->inflight.n;
	pthread_mutex_unlock(&q->stage_lock);
}

static void sqlite_close(struct gba_session_store *base)
{
	struct sqlite_store *q = from_base(base);

	/* The flusher writes what is staged before it stops (trying for
	 * CLOSE_RETRY_MS while writes fail). */
	pthread_mutex_lock(&q->stage_lock);
	q->stop = 1;
	deadline_in(&q->give_up_at, CLOSE_RETRY_MS);
	pthread_cond_signal(&q->wake);
	pthread_cond_signal(&q->ckpt_wake);
	pthread_mutex_unlock(&q->stage_lock);
	if (q->has_checkpointer)
		pthread_join(q->checkpointer, NULL);
	if (q->has_flusher)
		pthread_join(q->flusher, NULL);
	stage_clear(&q->stage);
	stage_clear(&q->inflight);
	free(q->stage.v);
	free(q->inflight.v);
	(void)txn_end(q);
	store_sqlite_finalize(q->st, S__COUNT);
	store_sqlite_finalize(&q->ckpt_count, 1);
	sqlite3_close(q->db);
	sqlite3_close(q->ckpt_db);
	pthread_cond_destroy(&q->ckpt_wake);
	pthread_cond_destroy(&q->written);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->ckpt_lock);
	pthread_mutex_destroy(&q->stage_lock);
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
	.health = sqlite_health,
};

/* ---- opening ----------------------------------------------------------- */

static int parse_option(void *arg, const char *name, const char *value)
{
	struct sqlite_store *q = arg;
	unsigned long v;

	if (!strcmp(name, "mmap_mb")) {
		if (session_parse_uint(value, 0, MMAP_MB_MAX, &v))
			return -1;
		q->mmap_mb = (unsigned)v;
		return 0;
	}
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
	if (!strcmp(name, "ckpt_pages")) {
		if (session_parse_uint(value, CKPT_PAGES_MIN, CKPT_PAGES_MAX, &v))
			return -1;
		q->ckpt_pages = (unsigned)v;
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

	if (!err) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA mmap_size=%llu;",
			 (unsigned long long)q->mmap_mb << 20);
		err = store_sqlite_exec(q->db, sql);
	}
	if (!err)
		err = store_sqlite_schema(q->db, schema_sql, SCHEMA_VERSION);
	if (!err)
		err = store_sqlite_prepare(q->db, stmt_sql, q->st, S__COUNT);
	if (!err && !q->exclusive) {
		sqlite3_wal_hook(q->db, wal_hook, q);   /* turns auto-checkpoint off */
		err = store_sqlite_open(&q->ckpt_db, path, "FAST", 0);
		/* A checkpoint needs no page cache and no map of the file, and
		 * stats' count reads the expiry index once through: a small
		 * cache and no mmap keep this connection's share of the RSS
		 * small (it mapped another 256 MiB of a large store). */
		if (!err)
			err = store_sqlite_exec(q->ckpt_db, "PRAGMA cache_size=-2048;"
							    "PRAGMA mmap_size=0;");
		if (!err)
			err = store_sqlite_prepare(q->ckpt_db, &stmt_sql[S_COUNT], &q->ckpt_count, 1);
	}
	return err;
}

/* The mutexes, and the condition variables (the flusher's on the monotonic clock). */
static gba_err init_sync(struct sqlite_store *q)
{
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);

	if (!rc)
		rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(&q->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (!rc && pthread_cond_init(&q->written, NULL)) {
		pthread_cond_destroy(&q->wake);
		rc = -1;
	}
	if (!rc && pthread_cond_init(&q->ckpt_wake, NULL)) {
		pthread_cond_destroy(&q->written);
		pthread_cond_destroy(&q->wake);
		rc = -1;
	}
	if (rc)
		return GBA_ERR_NO_MEMORY;
	if (store_mutex_init(&q->lock)) {
		rc = -1;
	} else if (store_mutex_init(&q->stage_lock)) {
		pthread_mutex_destroy(&q->lock);
		rc = -1;
	} else if (store_mutex_init(&q->ckpt_lock)) {
		pthread_mutex_destroy(&q->stage_lock);
		pthread_mutex_destroy(&q->lock);
		rc = -1;
	}
	if (rc) {
		pthread_cond_destroy(&q->ckpt_wake);
		pthread_cond_destroy(&q->written);
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
	q->ckpt_pages = DEFAULT_CKPT_PAGES;
	q->mmap_mb = MMAP_MB_DEFAULT;
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
	if (!err && q->ckpt_db) {
		if (pthread_create(&q->checkpointer, NULL, checkpointer_run, q))
			err = GBA_ERR_NO_MEMORY;
		else
			q->has_checkpointer = 1;
	}
	if (err) {
		sqlite_close(&q->base);
		return err;
	}
	*out = &q->base;
	return GBA_OK;
}
