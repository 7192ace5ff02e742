/*
 * subscriber_commit.c - the AuC's group commit: SQN reservations of many
 * subscribers in one write transaction (see gba/subscriber_db.h and
 * docs/subscribers.md, "Group commit").
 *
 * Why: a reservation of its own costs a whole SQLite write transaction
 * (BEGIN IMMEDIATE's and COMMIT's file-lock calls, a WAL append: about
 * 25 us of CPU, mostly system calls), and a subscriber that bootstraps
 * once a day pays it on every bootstrap.  Here the callers queue their
 * requests and return; one thread (the committer) takes the whole queue,
 * reserves each request's SQN inside one BEGIN IMMEDIATE .. COMMIT, and
 * only after the COMMIT tells each caller.  No batching window: a batch is
 * whatever queued while the previous one was being written, so a lone
 * request waits for one transaction and a busy BSF's batches grow with
 * its load.
 *
 * The promise does not change: an SQN is handed out (its vector computed)
 * only after the transaction that reserved it has committed, so a crash
 * can lose reservations that were never used, never issue one twice.
 * (synchronous=NORMAL, as everywhere: a COMMIT is in the kernel's hands,
 * safe from a process crash, not fsync'ed.  FULL, an fsync per batch, was
 * measured: half the throughput, p99 from 15 to 115 ms, on this box's
 * disk; docs/subscribers.md.)  A failed COMMIT (disk full) fails every
 * request of its batch, and nothing of it is cached.
 *
 * Checkpoints: each reservation changes a page of its own (a subscriber's
 * row lies on a random page of a large file), so the WAL grows fast, and
 * SQLite's auto-checkpoint would copy it into the file, with its fsyncs,
 * on the committer's thread while every first request waits.  With group
 * commit a thread of its own checkpoints (PASSIVE, on a connection of its
 * own) when the WAL passes CKPT_PAGES; the committer does it inline only
 * if that thread falls far behind.  With 1,000,000 subscribers the inline
 * checkpoints held first requests for up to 2.7 s.
 */
#include <stdlib.h>
#include <string.h>

#include <gba/util.h>

#include "auc_cache.h"
#include "guss_out.h"
#include "sqlite_util.h"
#include "subscriber_internal.h"

#define MAX_BATCH_LIMIT 65536u
#define CKPT_PAGES 16000u          /* WAL pages (4 KiB) that ask for a checkpoint */
#define CKPT_INLINE_FACTOR 4       /* the checkpointer lags: the committer does one */

struct gba_subdb_reservation {
	struct gba_subdb_reservation *next;
	char impi[GBA_IMPI_MAX + 1];
	unsigned ind;
	void (*done)(void *arg);
	void *arg;
	/* The committer's result, read by the caller after done. */
	gba_err err;
	struct auc_row row;       /* secret: K and OPc (or their wrapped form) */
	uint64_t sqn, last;       /* the first and last SQN reserved */
	char *guss;               /* a copy of the GUSS, or NULL */
	size_t guss_len;
};

struct subdb_committer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct gba_subdb_reservation *head, *tail;
	unsigned max_batch;
	int stopping;
	/* The checkpointer (under lock too). */
	pthread_t ckpt_thread;
	pthread_cond_t ckpt_wake;
	sqlite3 *ckpt_db;
	int ckpt_wanted, ckpt_running, ckpt_stopping;
};

static void free_guss(struct gba_subdb_reservation *r)
{
	if (r->guss) {
		gba_wipe(r->guss, r->guss_len);
		free(r->guss);
	}
	r->guss = NULL;
	r->guss_len = 0;
}

static void reservation_free(struct gba_subdb_reservation *r)
{
	free_guss(r);
	gba_wipe(r, sizeof(*r));
	free(r);
}

/* The cache keeps a GUSS of its own: a copy of the request's (NULL: none). */
static char *guss_dup(const char *guss, size_t len)
{
	char *c = len ? malloc(len) : NULL;

	if (c)
		memcpy(c, guss, len);
	return c;
}

/*
 * One request inside the batch's transaction.  Returns the error that
 * must roll the whole transaction back (a failed write), else GBA_OK with
 * the request's own outcome in r->err.  Lock held.
 */
static gba_err reserve_one(struct gba_subdb *db, struct gba_subdb_reservation *r)
{
	const struct guss_out none = { NULL, 0, NULL };
	int write_failed = 0;

	r->err = auc_reserve_txn(db, r->impi, r->ind, NULL, NULL, &none, &r->row, &r->sqn, &r->last,
				 1, &r->guss, &r->guss_len, &write_failed);
	return write_failed ? r->err : GBA_OK;
}

/*
 * Reserve every request of the batch in one transaction and commit.  On
 * a failed write or COMMIT every request fails with that error.  Each
 * request's block goes to the cache once committed (SQN blocks).
 */
static void commit_batch(struct gba_subdb *db, struct gba_subdb_reservation *batch)
{
	struct gba_subdb_reservation *r;
	gba_err err;

	pthread_mutex_lock(&db->lock);
	err = subdb_begin(db);
	for (r = batch; r; r = r->next)
		r->err = err;
	for (r = batch; r && !err; r = r->next)
		err = reserve_one(db, r);
	if (!err)
		err = subdb_commit(db);
	else
		subdb_rollback(db);
	for (r = batch; r; r = r->next) {
		if (err && !r->err)
			r->err = err;
		else if (!err && !r->err && db->sqn_block > 1)
			auc_cache_block(db, r->impi, r->ind, &r->row, r->sqn, r->last,
					guss_dup(r->guss, r->guss_len), r->guss_len);
	}
	pthread_mutex_unlock(&db->lock);
	for (r = batch; r;) {
		struct gba_subdb_reservation *next = r->next;

		r->done(r->arg);   /* r belongs to the caller from here on */
		r = next;
	}
}

/* Take up to max_batch queued requests (lock held). */
static struct gba_subdb_reservation *take_batch(struct subdb_committer *c)
{
	struct gba_subdb_reservation *batch = c->head, *r = batch;

	for (unsigned n = 1; r && r->next && n < c->max_batch; n++)
		r = r->next;
	c->head = r ? r->next : NULL;
	if (!c->head)
		c->tail = NULL;
	if (r)
		r->next = NULL;
	return batch;
}

static void *commit_loop(void *arg)
{
	struct gba_subdb *db = arg;
	struct subdb_committer *c = db->committer;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct gba_subdb_reservation *batch;

		while (!c->head && !c->stopping)
			pthread_cond_wait(&c->wake, &c->lock);
		if (!c->head)
			break;   /* stopping, and the queue is done */
		batch = take_batch(c);
		pthread_mutex_unlock(&c->lock);
		commit_batch(db, batch);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/*
 * After each commit on the handle's connection (db->lock held), with the
 * WAL's size: replaces SQLite's auto-checkpoint, see the top.
 */
static int wal_hook(void *arg, sqlite3 *conn, const char *name, int frames)
{
	struct subdb_committer *c = arg;

	if ((unsigned)frames >= CKPT_PAGES * CKPT_INLINE_FACTOR) {
		(void)sqlite3_wal_checkpoint_v2(conn, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if ((unsigned)frames >= CKPT_PAGES) {
		pthread_mutex_lock(&c->lock);
		c->ckpt_wanted = 1;
		pthread_cond_signal(&c->ckpt_wake);
		pthread_mutex_unlock(&c->lock);
	}
	return SQLITE_OK;
}

/* Checkpoint on a connection of its own, without db->lock: nobody waits. */
static void *ckpt_loop(void *arg)
{
	struct subdb_committer *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->ckpt_wanted && !c->ckpt_stopping)
			pthread_cond_wait(&c->ckpt_wake, &c->lock);
		if (c->ckpt_stopping)
			break;
		c->ckpt_wanted = 0;
		pthread_mutex_unlock(&c->lock);
		(void)sqlite3_wal_checkpoint_v2(c->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
						NULL);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* The checkpointer: a second connection and its thread; on error nothing started. */
static gba_err ckpt_start(struct gba_subdb *db, struct subdb_committer *c)
{
	const char *path = sqlite3_db_filename(db->db, "main");
	gba_err err = path && *path ? store_sqlite_open(&c->ckpt_db, path, "ON", 0)
				    : GBA_ERR_STORE;

	if (err)
		return err;
	pthread_cond_init(&c->ckpt_wake, NULL);
	if (pthread_create(&c->ckpt_thread, NULL, ckpt_loop, c)) {
		pthread_cond_destroy(&c->ckpt_wake);
		sqlite3_close(c->ckpt_db);
		return GBA_ERR_NO_MEMORY;
	}
	c->ckpt_running = 1;
	pthread_mutex_lock(&db->lock);
	sqlite3_wal_hook(db->db, wal_hook, c);   /* turns auto-checkpoint off */
	pthread_mutex_unlock(&db->lock);
	return GBA_OK;
}

static void ckpt_stop(struct gba_subdb *db, struct subdb_committer *c)
{
	if (!c->ckpt_running)
		return;
	pthread_mutex_lock(&db->lock);
	sqlite3_wal_autocheckpoint(db->db, 1000);   /* SQLite's own again (drops the hook) */
	pthread_mutex_unlock(&db->lock);
	pthread_mutex_lock(&c->lock);
	c->ckpt_stopping = 1;
	pthread_cond_signal(&c->ckpt_wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->ckpt_thread, NULL);
	pthread_cond_destroy(&c->ckpt_wake);
	sqlite3_close(c->ckpt_db);
	c->ckpt_running = 0;
}

gba_err gba_subdb_group_commit(struct gba_subdb *db, unsigned max_batch)
{
	struct subdb_committer *c;

	if (!db || max_batch < 1 || max_batch > MAX_BATCH_LIMIT || db->committer)
		return GBA_ERR_INVALID_ARG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return GBA_ERR_NO_MEMORY;

	c->max_batch = max_batch;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (ckpt_start(db, c)) {
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return GBA_ERR_STORE;
	}
	db->committer = c;
	if (pthread_create(&c->thread, NULL, commit_loop, db)) {
		db->committer = NULL;
		ckpt_stop(db, c);
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return GBA_ERR_NO_MEMORY;
	}
	return GBA_OK;
}

void subdb_committer_stop(struct gba_subdb *db)
{
	struct subdb_committer *c = db->committer;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	ckpt_stop(db, c);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
	db->committer = NULL;
}

/*
 * With SQN blocks, a request whose subscriber has SQNs left in a cached
 * block needs no transaction: 1 when r was served from it.  Lock held.
 */
static int from_cached_block(struct gba_subdb *db, struct gba_subdb_reservation *r)
{
	const struct guss_out none = { NULL, 0, NULL };
	struct auc_entry *e;

	if (db->sqn_block < 2 || !(e = auc_cache_find(db->cache, r->impi, r->ind)))
		return 0;
	r->err = auc_from_block(e, &none, &r->row, &r->sqn);
	if (!r->err && e->guss_len) {
		r->guss = guss_dup(e->guss, e->guss_len);
		r->guss_len = e->guss_len;
		if (!r->guss)
			r->err = GBA_ERR_NO_MEMORY;
	}
	return 1;
}

gba_err gba_subdb_reserve_start(struct gba_subdb *db, const char *impi, unsigned ind,
				void (*done)(void *arg), void *arg,
				struct gba_subdb_reservation **out)
{
	struct subdb_committer *c = db ? db->committer : NULL;
	struct gba_subdb_reservation *r;
	int served;

	if (!c || !impi || !done || !out || ind >= (1u << SUBDB_IND_BITS_MAX))
		return GBA_ERR_INVALID_ARG;
	r = calloc(1, sizeof(*r));
	if (!r)
		return GBA_ERR_NO_MEMORY;
	*out = r;
	r->ind = ind;
	r->done = done;
	r->arg = arg;
	if (!subdb_impi_arg_ok(impi)) {
		r->err = GBA_ERR_NOT_FOUND;
		done(arg);
		return GBA_OK;
	}
	memcpy(r->impi, impi, strlen(impi) + 1);
	pthread_mutex_lock(&db->lock);
	served = from_cached_block(db, r);
	pthread_mutex_unlock(&db->lock);
	if (served) {
		done(arg);
		return GBA_OK;
	}
	pthread_mutex_lock(&c->lock);
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	return GBA_OK;
}

gba_err gba_subdb_reserve_finish(struct gba_subdb *db, struct gba_subdb_reservation *r,
				 const uint8_t rand[16], struct gba_av *av,
				 char *guss, size_t guss_size, size_t *guss_len)
{
	const struct guss_out g = { guss, guss_size, guss_len };
	gba_err err;

	if (!r)
		return GBA_ERR_INVALID_ARG;
	if (guss_len)
		*guss_len = 0;
	err = !db || !rand || !av ? GBA_ERR_INVALID_ARG : r->err;
	if (!err)
		err = guss_out_copy(&g, r->guss, r->guss_len);
	if (!err)
		err = auc_vector(db, &r->row, r->sqn, rand, av);
	if (err && guss_len && err != GBA_ERR_BUFFER_TOO_SMALL)
		*guss_len = 0;
	reservation_free(r);
	return err;
}
