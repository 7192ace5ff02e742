/*
 * av_embedded.c - the embedded AV source: the SQLite subscriber database
 * (gba/subscriber_db.h) as the BSF's own AuC, no HSS needed.
 *
 * The database moves each subscriber's SQN on atomically, so several
 * worker threads (and several BSF processes, each in its own IND slot)
 * never issue the same SQN.  RAND comes from the kernel's CSPRNG.
 *
 * With group commit (embedded.group_commit) a first challenge's SQN is
 * reserved by the database's committer thread together with other
 * subscribers' (gba_subdb_reserve_start); the Ub side holds the request
 * meanwhile and makes the vector when the batch has committed.
 *
 * The IND slot is leased in the database (gba_subdb_lease_ind) when a
 * lease ttl is set: taken at open (refused while another BSF's lease
 * runs), renewed by a thread every ttl/3, released at close.  A BSF whose
 * lease lapsed (renewals failed for a whole ttl: another BSF may hold the
 * slot now) issues no vector until it has it again.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gba/subscriber_db.h>
#include <gba/util.h>

#include "av_source.h"

struct av_embedded {
	struct av_source base;      /* first: the ops see a struct av_source * */
	struct gba_subdb *db;
	unsigned ind;
	/* The IND slot's lease; ttl 0: none. */
	char holder[GBA_SUBDB_HOLDER_MAX + 1];
	unsigned ttl;
	_Atomic int64_t lease_until;   /* Unix seconds our lease is known to run to */
	pthread_t renewer;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping, renewing;
};

static int lease_lapsed(struct av_embedded *e)
{
	return e->ttl && (int64_t)time(NULL) >= atomic_load(&e->lease_until);
}

static gba_err lease_take(struct av_embedded *e, struct gba_subdb_lease *other)
{
	int64_t now = (int64_t)time(NULL);
	gba_err err = gba_subdb_lease_ind(e->db, e->holder, e->ind, now, e->ttl, other);

	if (!err)
		atomic_store(&e->lease_until, now + (int64_t)e->ttl);
	return err;
}

/* Renew every ttl/3 (at least each second) until close. */
static void *renew_loop(void *arg)
{
	struct av_embedded *e = arg;
	unsigned period = e->ttl / 3 ? e->ttl / 3 : 1;

	pthread_mutex_lock(&e->lock);
	while (!e->stopping) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += period;
		while (!e->stopping &&
		       pthread_cond_timedwait(&e->wake, &e->lock, &until) == 0)
			;
		if (e->stopping)
			break;
		pthread_mutex_unlock(&e->lock);
		(void)lease_take(e, NULL);   /* a failure shows as lease_lapsed() */
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static gba_err embedded_fetch(struct av_source *src, const char *impi,
			      const uint8_t *resync_rand, const uint8_t *auts,
			      struct av_answer *out)
{
	struct av_embedded *e = (struct av_embedded *)src;
	uint8_t rand[16];
	gba_err err;

	if (!impi || !out || (!resync_rand != !auts))
		return GBA_ERR_INVALID_ARG;
	if (lease_lapsed(e))
		return GBA_ERR_UNAVAILABLE;   /* the slot may be another BSF's now */
	err = gba_random_rand(rand);
	if (err)
		return err;
	out->guss_len = 0;
	if (auts)
		return gba_subdb_resync(e->db, impi, e->ind, resync_rand, auts, rand, &out->av,
					out->guss, sizeof(out->guss), &out->guss_len);
	return gba_subdb_next_av(e->db, impi, e->ind, rand, &out->av, out->guss,
				 sizeof(out->guss), &out->guss_len);
}

/* Group commit: the reservation is queued; the vector is made in finish. */
static gba_err embedded_fetch_start(struct av_source *src, const char *impi,
				    void (*done)(void *arg), void *arg, void **job)
{
	struct av_embedded *e = (struct av_embedded *)src;
	struct gba_subdb_reservation *r = NULL;
	gba_err err;

	if (!impi || !done || !job)
		return GBA_ERR_INVALID_ARG;
	if (lease_lapsed(e))
		return GBA_ERR_UNAVAILABLE;
	err = gba_subdb_reserve_start(e->db, impi, e->ind, done, arg, &r);
	*job = r;
	return err;
}

static gba_err embedded_fetch_finish(struct av_source *src, void *job, struct av_answer *out)
{
	struct av_embedded *e = (struct av_embedded *)src;
	uint8_t rand[16];
	gba_err err = gba_random_rand(rand);

	out->guss_len = 0;
	return gba_subdb_reserve_finish(e->db, job, err ? NULL : rand, &out->av, out->guss,
					sizeof(out->guss), &out->guss_len);
}

static void lease_stop(struct av_embedded *e)
{
	if (!e->ttl)
		return;   /* no lease */
	if (e->renewing) {
		pthread_mutex_lock(&e->lock);
		e->stopping = 1;
		pthread_cond_signal(&e->wake);
		pthread_mutex_unlock(&e->lock);
		pthread_join(e->renewer, NULL);
		e->renewing = 0;
	}
	(void)gba_subdb_release_ind(e->db, e->holder, e->ind);
	pthread_cond_destroy(&e->wake);
	pthread_mutex_destroy(&e->lock);
}

static void embedded_close(struct av_source *src)
{
	struct av_embedded *e = (struct av_embedded *)src;

	lease_stop(e);
	gba_subdb_close(e->db);
	free(e);
}

static const struct av_source_ops embedded_ops = {
	.name = "embedded",
	.fetch = embedded_fetch,
	.close = embedded_close,
};

static const struct av_source_ops embedded_batched_ops = {
	.name = "embedded",
	.fetch = embedded_fetch,
	.close = embedded_close,
	.fetch_start = embedded_fetch_start,
	.fetch_finish = embedded_fetch_finish,
};

gba_err av_source_embedded_group_commit(struct av_source *src, unsigned max_batch)
{
	struct av_embedded *e = (struct av_embedded *)src;
	gba_err err;

	if (!e || e->base.ops != &embedded_ops)
		return GBA_ERR_INVALID_ARG;
	err = gba_subdb_group_commit(e->db, max_batch);
	if (!err)
		e->base.ops = &embedded_batched_ops;
	return err;
}

gba_err av_source_embedded_lease(struct av_source *src, const struct av_lease *lease,
				 struct gba_subdb_lease *other)
{
	struct av_embedded *e = (struct av_embedded *)src;
	gba_err err;

	if (!e || !lease || e->ttl)
		return GBA_ERR_INVALID_ARG;
	if (!lease->ttl)
		return GBA_OK;
	if (!lease->holder || !*lease->holder ||
	    strlen(lease->holder) > GBA_SUBDB_HOLDER_MAX)
		return GBA_ERR_INVALID_ARG;
	strcpy(e->holder, lease->holder);
	err = gba_subdb_lease_ind(e->db, e->holder, e->ind, (int64_t)time(NULL), lease->ttl,
				  other);
	if (err)
		return err;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->wake, NULL);
	e->ttl = lease->ttl;
	atomic_store(&e->lease_until, (int64_t)time(NULL) + (int64_t)e->ttl);
	if (pthread_create(&e->renewer, NULL, renew_loop, e))
		return GBA_ERR_NO_MEMORY;   /* closing releases the lease */
	e->renewing = 1;
	return GBA_OK;
}

gba_err av_source_embedded_open(struct av_source **out, const char *db_path, unsigned ind,
				unsigned sqn_block, struct gba_kek *kek)
{
	struct av_embedded *e;
	gba_err err;

	if (!out || !db_path || ind >= GBA_IND_SLOTS_MAX)
		return GBA_ERR_INVALID_ARG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return GBA_ERR_NO_MEMORY;
	err = gba_subdb_open_kek(&e->db, db_path, kek);
	if (!err && sqn_block > 1)
		err = gba_subdb_set_sqn_block(e->db, sqn_block);
	if (err) {
		gba_subdb_close(e->db);
		free(e);
		return err;
	}
	e->base.ops = &embedded_ops;
	e->ind = ind;
	*out = &e->base;
	return GBA_OK;
}
