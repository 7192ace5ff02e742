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

#include "subscriber_keys.h"

#define SUBDB_IND_BITS_MAX 10   /* what gba_sqn_next() accepts */

/* The identity checks of gba_subdb_check(). */
int subscriber_impi_ok(const char *impi, size_t len);
int subscriber_imsi_ok(const char *imsi, size_t len);
int subscriber_impus_ok(const char *impus, size_t len);

struct auc_cache;
struct auc_entry;
struct guss_out;
struct subdb_committer;

struct gba_subdb {
	pthread_mutex_t lock;   /* one connection, one user at a time */
	sqlite3 *db;
	sqlite3_stmt **st;      /* prepared statements, see subscriber_db.c */
	unsigned sqn_block;     /* SQNs reserved per transaction (1: none ahead) */
	struct auc_cache *cache;   /* the reserved blocks (sqn_block > 1) */
	struct gba_kek *kek;       /* K and OPc are wrapped under it; NULL: plain */
	struct subdb_committer *committer;   /* group commit (subscriber_commit.c); NULL: none */
};

/*
 * What the AuC reads of a subscriber.  Holds K and OPc (in key, or wrapped
 * in sealed with only key's parameters set): wipe it.
 */
struct auc_row {
	struct gba_aka_key key;
	struct subkey_sealed sealed;
	uint8_t amf[2];
	uint64_t sqn;
	unsigned ind_bits;
	int64_t id;               /* the row's rowid */
};

/* An IMPI the database could hold (1..GBA_IMPI_MAX printable, no ' ' or ','). */
int subdb_impi_arg_ok(const char *impi);

/*
 * The AuC's steps (subscriber_db.c), for the group commit: the
 * reservation inside an open write transaction, the block's cache entry
 * once committed, a vector from a cached block, and the vector itself
 * (outside the lock).  See subscriber_db.c.
 */
gba_err auc_reserve_txn(struct gba_subdb *db, const char *impi, unsigned ind,
			const uint8_t *resync_rand, const uint8_t *auts,
			const struct guss_out *g, struct auc_row *row, uint64_t *sqn,
			uint64_t *last, int keep, char **kept, size_t *kept_len,
			int *write_failed);
void auc_cache_block(struct gba_subdb *db, const char *impi, unsigned ind,
		     const struct auc_row *row, uint64_t first, uint64_t last,
		     char *guss, size_t guss_len);
gba_err auc_from_block(struct auc_entry *e, const struct guss_out *g,
		       struct auc_row *row, uint64_t *sqn);
gba_err auc_vector(struct gba_subdb *db, const struct auc_row *row, uint64_t sqn,
		   const uint8_t rand[16], struct gba_av *av);

/* Stop the group commit's thread after its queue is done (close). */
void subdb_committer_stop(struct gba_subdb *db);

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
