/*
 * subscriber_internal.h - what subscriber_db.c and subscriber_csv.c share:
 * the checks a subscriber record passes before it is stored, and the
 * insert that runs inside the caller's transaction.  Internal.
 */
#ifndef GBA_STORE_SUBSCRIBER_INTERNAL_H
#define GBA_STORE_SUBSCRIBER_INTERNAL_H

#include <pthread.h>

#include <sqlite3.h>

#include <gba/kek.h>
#include <gba/subscriber_db.h>

#define SUBDB_IND_BITS_MAX 10   /* what gba_sqn_next() accepts */

/* The identity checks of gba_subdb_check(). */
int subscriber_impi_ok(const char *impi, size_t len);
int subscriber_imsi_ok(const char *imsi, size_t len);
int subscriber_impus_ok(const char *impus, size_t len);

struct auc_cache;

struct gba_subdb {
	pthread_mutex_t lock;   /* one connection, one user at a time */
	sqlite3 *db;
	sqlite3_stmt **st;      /* prepared statements, see subscriber_db.c */
	unsigned sqn_block;     /* SQNs reserved per transaction (1: none ahead) */
	struct auc_cache *cache;   /* the reserved blocks (sqn_block > 1) */
	struct gba_kek *kek;       /* K and OPc are wrapped under it; NULL: plain */
};

/* Run BEGIN IMMEDIATE / COMMIT / ROLLBACK.  Lock held. */
gba_err subdb_begin(struct gba_subdb *db);
gba_err subdb_commit(struct gba_subdb *db);
void subdb_rollback(struct gba_subdb *db);

/* Insert a checked subscriber.  GBA_ERR_EXISTS for a known IMPI.  Lock held. */
gba_err subdb_insert(struct gba_subdb *db, const struct gba_subscriber *sub);
/* An existing row takes sub's IMSI, IMPUs, keys and AMF (its SQN only with
 * set_sqn); the GUSS stays.  In the caller's transaction, db locked. */
gba_err subdb_overwrite(struct gba_subdb *db, const struct gba_subscriber *sub, int set_sqn);

#endif
