/*
 * gba/subscriber_db.h - the embedded subscriber database (SQLite): what an
 * HSS knows of a subscriber, and the AuC on top of it.
 *
 * Used by the BSF in embedded mode and by the HSS simulator.  One row per
 * subscriber: IMPI, IMSI, IMPUs, K, OP/OPc, AMF, algorithm, SQN state and
 * the GUSS.  Vector generation increments the SQN atomically, so two
 * threads or two processes never hand out the same SQN.
 *
 * No function returns K or OPc to the caller: gba_subdb_get() fills a
 * public view.  A handle is safe to use from several threads at once.
 */
#ifndef GBA_SUBSCRIBER_DB_H
#define GBA_SUBSCRIBER_DB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gba/aka.h>
#include <gba/error.h>
#include <gba/kek.h>
#include <gba/session_store.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_IMSI_MAX 15
#define GBA_IMPU_LIST_MAX 1024   /* IMPUs, comma-separated */

/* A subscriber as given to gba_subdb_add(): secrets included. */
struct gba_subscriber {
	char impi[GBA_IMPI_MAX + 1];
	char imsi[GBA_IMSI_MAX + 1];          /* may be empty */
	char impus[GBA_IMPU_LIST_MAX + 1];    /* may be empty */
	struct gba_aka_key key;               /* algorithm, K, OPc/TOPc, TUAK params */
	uint8_t amf[2];
	uint64_t sqn;                         /* last SQN issued (0: none yet) */
	unsigned ind_bits;                    /* IND length, 5 usual */
	const char *guss;                     /* GUSS XML, may be NULL */
	size_t guss_len;
};

/* What may be shown of a subscriber: no K, no OPc. */
struct gba_subscriber_info {
	char impi[GBA_IMPI_MAX + 1];
	char imsi[GBA_IMSI_MAX + 1];
	char impus[GBA_IMPU_LIST_MAX + 1];
	enum gba_aka_algo algo;
	uint8_t amf[2];
	uint64_t sqn;
	unsigned ind_bits;
	size_t guss_len;
};

struct gba_subdb;

/*
 * Open (creating the schema if needed) the database file at path.  A file
 * whose keys are wrapped under a KEK is refused (GBA_ERR_NOT_AUTHORIZED):
 * open it with gba_subdb_open_kek().  A version-1 file is upgraded.
 * GBA_ERR_UNSUPPORTED when path is on a network file system (NFS, SMB,
 * CIFS), where SQLite's locks cannot keep BSFs from issuing one SQN twice
 * (docs/deployment.md).
 */
gba_err gba_subdb_open(struct gba_subdb **out, const char *path);

/*
 * Open with K and OPc wrapped under kek (gba/kek.h; NULL: plain, as
 * gba_subdb_open): subscribers added or imported are stored wrapped, and
 * the AuC unwraps a subscriber's keys for each vector and wipes them after
 * it (the SQN-block cache keeps them wrapped).  The file is marked with
 * the KEK's URI and check value.  kek must outlive the handle.  Errors:
 * GBA_ERR_NOT_AUTHORIZED when the file is wrapped under another key (or kek
 * is NULL); gba_subdb_kek_uri() names the one it needs.
 * GBA_ERR_UNSUPPORTED when kek is given and the file holds plain keys
 * (gba_subdb_rewrap moves them).
 */
gba_err gba_subdb_open_kek(struct gba_subdb **out, const char *path, struct gba_kek *kek);

/*
 * The URI of the KEK the file at path is wrapped under, "" when its keys
 * are plain (or it has none yet).  Reads the file only: for error messages.
 */
gba_err gba_subdb_kek_uri(const char *path, char *uri, size_t size);

/*
 * A sentence for a refused gba_subdb_open_kek(path, kek) that failed with
 * err: the KEK the file needs (by URI) and why kek is not it.
 */
void gba_subdb_kek_explain(const char *path, const struct gba_kek *kek, gba_err err,
			   char *why, size_t size);

/*
 * Move every subscriber's K and OPc from the handle's KEK (or plain) to
 * new_kek (NULL: plain), in one transaction, and mark the file; from then
 * on the handle uses new_kek, which must outlive it.  *count (may be NULL)
 * is the subscribers moved.
 */
gba_err gba_subdb_rewrap(struct gba_subdb *db, struct gba_kek *new_kek, size_t *count);
void gba_subdb_close(struct gba_subdb *db);

/*
 * Check a subscriber record as gba_subdb_add() does, without a database:
 * GBA_OK, or the error add() would return with *field (may be NULL) set
 * to the field at fault: "impi", "imsi", "impus", "key", "sqn",
 * "ind_bits" or "guss".  IMPI: 1..GBA_IMPI_MAX printable ASCII characters,
 * no space or ','; IMSI: empty or 6..15 digits; IMPUs: printable ASCII,
 * ','-separated, none empty; key: see struct gba_aka_key; ind_bits 0..10.
 */
gba_err gba_subdb_check(const struct gba_subscriber *sub, const char **field);

/* GBA_ERR_EXISTS when the IMPI is there already. */
gba_err gba_subdb_add(struct gba_subdb *db, const struct gba_subscriber *sub);
gba_err gba_subdb_remove(struct gba_subdb *db, const char *impi);
gba_err gba_subdb_get(struct gba_subdb *db, const char *impi, struct gba_subscriber_info *out);

/*
 * Set the last SQN issued (SEQ || IND, at most GBA_SQN_MAX); 0 is a reset,
 * as for a new card.  GBA_ERR_NOT_FOUND for an unknown IMPI.  Another
 * process with SQN blocks (gba_subdb_set_sqn_block) may go on from its
 * reserved block for up to 5 s.
 */
gba_err gba_subdb_set_sqn(struct gba_subdb *db, const char *impi, uint64_t sqn);

/* What gba_subdb_update() changes (flags of .what). */
#define GBA_SUBDB_UPDATE_KEY  1u   /* algorithm, K, OPc/TOPc, TUAK parameters */
#define GBA_SUBDB_UPDATE_AMF  2u
#define GBA_SUBDB_UPDATE_GUSS 4u   /* guss_len 0: none */

struct gba_subscriber_update {
	unsigned what;
	struct gba_aka_key key;   /* secret: wipe after use */
	uint8_t amf[2];
	const char *guss;
	size_t guss_len;
};

/*
 * Change the fields u->what names, in one transaction; keys are wrapped
 * under the handle's KEK when the file has one, as gba_subdb_add() does.
 * The values are checked as gba_subdb_check() checks a subscriber (*field,
 * may be NULL, names the bad one).  GBA_ERR_NOT_FOUND for an unknown IMPI.
 */
gba_err gba_subdb_update(struct gba_subdb *db, const char *impi,
			 const struct gba_subscriber_update *u, const char **field);

/*
 * A subscriber's K and OPc/TOPc in clear, with its algorithm parameters
 * (unwrapped with the handle's KEK when the file has one), for an export
 * that asked for keys (gba-subscriber export --with-keys) and nothing
 * else: the BSF never calls it.  Wipe *out after use.
 */
gba_err gba_subdb_get_keys(struct gba_subdb *db, const char *impi, struct gba_aka_key *out);

/* Call fn for each subscriber in IMPI order; a non-zero return stops. */
gba_err gba_subdb_list(struct gba_subdb *db,
		       int (*fn)(const struct gba_subscriber_info *info, void *arg), void *arg);

/*
 * IMPI -> IMSI, for an AuC that knows users by IMSI only (av.source =
 * gsup): map (replacing an earlier mapping), unmap (GBA_ERR_NOT_FOUND when
 * none; the Public-Identity below goes too), look up (GBA_ERR_NOT_FOUND
 * when none) and list in IMPI order (a non-zero return of fn stops).
 * Stored in the database's impi_map table, created by the first map.
 */
gba_err gba_subdb_map(struct gba_subdb *db, const char *impi, const char *imsi);
gba_err gba_subdb_unmap(struct gba_subdb *db, const char *impi);
gba_err gba_subdb_imsi_of(struct gba_subdb *db, const char *impi, char imsi[GBA_IMSI_MAX + 1]);
gba_err gba_subdb_map_list(struct gba_subdb *db,
			   int (*fn)(const char *impi, const char *imsi, void *arg), void *arg);

/*
 * IMPI -> Public-Identity, for an IMS HSS over Cx (av.source = cx) that
 * knows the user by a public identity other than "sip:" IMPI: map
 * (replacing an earlier one; GBA_ERR_INVALID_ARG unless uri passes
 * gba_subdb_public_identity_ok), look up (uri of at least
 * GBA_PUBLIC_IDENTITY_MAX + 1 octets; GBA_ERR_NOT_FOUND when none) and
 * list in IMPI order.  gba_subdb_unmap removes it with the IMSI.  Stored
 * in the table impi_public_identity, created by the first map.
 */
#define GBA_PUBLIC_IDENTITY_MAX 255
/* 1 for a sip:, sips: or tel: URI of printable ASCII without spaces, at
 * most GBA_PUBLIC_IDENTITY_MAX octets. */
int gba_subdb_public_identity_ok(const char *uri);
gba_err gba_subdb_map_public_identity(struct gba_subdb *db, const char *impi, const char *uri);
gba_err gba_subdb_public_identity_of(struct gba_subdb *db, const char *impi, char *uri,
				     size_t size);
gba_err gba_subdb_public_identity_list(struct gba_subdb *db,
				       int (*fn)(const char *impi, const char *uri, void *arg),
				       void *arg);

/*
 * The GUSS stored for impi, or else for a subscriber row with this imsi
 * (NULL or "": none), NUL-terminated in guss (size octets).
 * GBA_ERR_NOT_FOUND when neither has one.
 */
gba_err gba_subdb_guss(struct gba_subdb *db, const char *impi, const char *imsi,
		       char *guss, size_t size, size_t *len);

/*
 * IND slot leases (docs/deployment.md, layout B).  BSFs sharing one
 * database must issue from distinct IND slots, or their SQNs reach a card
 * out of order; a lease makes that explicit: a BSF leases its slot under
 * a holder name (stable across its restarts) until now + ttl seconds
 * (wall clock: the processes share only the file), renews it well before
 * then, and releases it when it stops.  A crashed BSF's lease stays until
 * it expires, so no other holder takes the slot while the crashed one's
 * SQN blocks might still be in flight; the same holder, restarted, takes
 * it back at once.
 */
#define GBA_SUBDB_HOLDER_MAX 127

struct gba_subdb_lease {
	unsigned ind;
	char holder[GBA_SUBDB_HOLDER_MAX + 1];
	int64_t expires;   /* Unix seconds */
};

/*
 * Take or renew holder's lease of slot ind until now + ttl, in one write
 * transaction.  GBA_ERR_EXISTS (and *other, may be NULL, filled) when
 * another holder's lease has not expired at now; GBA_ERR_INVALID_ARG for
 * an empty or too long holder, ind >= GBA_IND_SLOTS_MAX or ttl 0.
 */
gba_err gba_subdb_lease_ind(struct gba_subdb *db, const char *holder, unsigned ind,
			    int64_t now, unsigned ttl, struct gba_subdb_lease *other);

/* Drop holder's lease of slot ind (GBA_ERR_NOT_FOUND when it has none). */
gba_err gba_subdb_release_ind(struct gba_subdb *db, const char *holder, unsigned ind);

/* Call fn for each lease, live or expired, in slot order. */
gba_err gba_subdb_leases(struct gba_subdb *db,
			 int (*fn)(const struct gba_subdb_lease *lease, void *arg), void *arg);

/*
 * Import subscribers from CSV, one per line, all in one transaction:
 *   impi,imsi,impus,algo,k,op_or_opc,opc_is_op,amf,sqn[,tuak_iterations,res_len]
 * impus separated by ';' inside the field; algo milenage|tuak; hex keys.
 * A '#' line is a comment.  On error nothing is imported and *bad_line
 * (may be NULL) names the line.
 */
gba_err gba_subdb_import_csv(struct gba_subdb *db, FILE *csv, size_t *imported,
			     size_t *bad_line);

/* What an import does with an IMPI the database has already. */
enum gba_subdb_import_mode {
	GBA_SUBDB_IMPORT_ADD,            /* refuse the file (GBA_ERR_EXISTS) */
	GBA_SUBDB_IMPORT_UPSERT,         /* take the line's IMSI, IMPUs, keys, AMF, and
					    its SQN when the line has one */
	GBA_SUBDB_IMPORT_SKIP_EXISTING,  /* leave the subscriber as it is */
};

struct gba_subdb_import_opts {
	enum gba_subdb_import_mode mode;
	unsigned mnc_len;   /* 2 or 3: derive IMPIs from IMSIs (a header without an
			       IMPI or MNC column); 0: such a file is refused */
};

struct gba_subdb_import_result {
	size_t added, updated, skipped;
	size_t bad_line;    /* on error: the line of the bad record (0: none) */
};

/*
 * gba_subdb_import_csv with RFC 4180 quoting, and a header row when the
 * first record names its columns: impi, imsi, impus, algo(rithm), k or Ki,
 * opc or op, amf, sqn, tuak_iterations, res_len, mnc (any case; other
 * columns such as ICCID, PIN1 or ADM1 are ignored); without an impi column
 * the IMPI is IMSI@ims.mnc<MNC>.mcc<MCC>.3gppnetwork.org (TS 23.003 13.3),
 * the MNC's length from an mnc column or opts->mnc_len.  All or nothing:
 * on error nothing is stored and res (may be NULL) counts nothing.
 */
gba_err gba_subdb_import_csv_opts(struct gba_subdb *db, FILE *csv,
				  const struct gba_subdb_import_opts *opts,
				  struct gba_subdb_import_result *res);

/*
 * The AuC: issue the next vector for impi in IND slot ind with the given
 * RAND, atomically moving the subscriber's SQN on.  GBA_ERR_NOT_FOUND for
 * an unknown IMPI.  guss may be NULL; otherwise as gba_session_store_get.
 */
gba_err gba_subdb_next_av(struct gba_subdb *db, const char *impi, unsigned ind,
			  const uint8_t rand[16], struct gba_av *av,
			  char *guss, size_t guss_size, size_t *guss_len);

/*
 * SQNs reserved per write transaction (1..1024; 1, the default, writes
 * every SQN before its vector goes out, so the database always holds the
 * last SQN issued).  With n > 1 one transaction reserves the next n SQNs
 * of a subscriber in the IND slot asked for, commits the last of them, and
 * the others are handed out from memory, with the keys and GUSS read in
 * that transaction, for at most 5 seconds; unused ones are skipped (the
 * USIM accepts such jumps, TS 33.102 Annex C).  Costs: a removed or
 * changed subscriber may be served from memory for up to 5 s by another
 * process; processes sharing the file must use distinct IND slots (vectors
 * of one slot would otherwise reach the card out of order); the database
 * shows the highest SQN reserved.  docs/subscribers.md has the figures.
 */
gba_err gba_subdb_set_sqn_block(struct gba_subdb *db, unsigned n);

/*
 * Group commit of SQN reservations (docs/subscribers.md, "Group commit").
 * gba_subdb_group_commit() starts a thread of the handle's own, the
 * committer.  gba_subdb_reserve_start() then queues a request for impi's
 * next SQN in slot ind and returns at once; the committer takes every
 * request queued, reserves each one's SQN (or block) in one write
 * transaction, commits, and only then calls each request's done(arg) on
 * its thread.  The caller computes the vector with gba_subdb_reserve_finish()
 * (on its own thread: Milenage, or the KEK's unwrap), which also frees the
 * request.  So a batch of subscribers pays one transaction's lock calls
 * and one WAL append, and still no vector leaves before its SQN is in the
 * file: a crash (kill -9) can lose reserved SQNs, never reissue one.
 * max_batch (1..65536) bounds a transaction.  With SQN blocks (n > 1) a
 * request served from a cached block completes at once (done is called
 * before gba_subdb_reserve_start returns).  Resyncs and gba_subdb_next_av
 * keep their own transactions.  gba_subdb_close() lets the queue finish.
 */
struct gba_subdb_reservation;

gba_err gba_subdb_group_commit(struct gba_subdb *db, unsigned max_batch);

/*
 * Queue a reservation; *out is its handle until gba_subdb_reserve_finish.
 * done(arg) is called exactly once, also for a failed request.  On an
 * error returned here (GBA_ERR_INVALID_ARG, GBA_ERR_NO_MEMORY: no group
 * commit running, or no memory) nothing is queued and done is not called.
 */
gba_err gba_subdb_reserve_start(struct gba_subdb *db, const char *impi, unsigned ind,
				void (*done)(void *arg), void *arg,
				struct gba_subdb_reservation **out);

/*
 * After done: the outcome (the errors of gba_subdb_next_av) and, on
 * GBA_OK, the vector with rand and the GUSS as gba_subdb_next_av gives
 * them.  Frees r (its secrets wiped) whatever the outcome.
 */
gba_err gba_subdb_reserve_finish(struct gba_subdb *db, struct gba_subdb_reservation *r,
				 const uint8_t rand[16], struct gba_av *av,
				 char *guss, size_t guss_size, size_t *guss_len);

/*
 * Resynchronise from the RAND of the failed challenge and the AUTS, then
 * issue the next vector with new_rand.  GBA_ERR_AUTS_INVALID when MAC-S
 * does not verify (the SQN is left alone).
 */
gba_err gba_subdb_resync(struct gba_subdb *db, const char *impi, unsigned ind,
			 const uint8_t rand[16], const uint8_t auts[14],
			 const uint8_t new_rand[16], struct gba_av *av,
			 char *guss, size_t guss_size, size_t *guss_len);

#ifdef __cplusplus
}
#endif
#endif /* GBA_SUBSCRIBER_DB_H */
