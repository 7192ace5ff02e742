/*
 * keystore.h - gba-naf's key store: the enrolled nodes (KmID = B-TID, IMPI,
 * node id, expiry: never Km itself, which libgba-naf fetches over Zn when
 * needed), the session keys Kc registered by nodes (which the target must
 * fetch later, so they are stored), and the revoked nodes.
 *
 * Two back ends behind one interface (keystore_backend.h), chosen by the
 * [store] uri:
 *   sqlite:PATH                        one process, a 0600 file (default);
 *   redis://HOST:PORT[/DB][?options]   shared by several gba-naf processes
 *                                      (keystore_redis.c: layout, options).
 * Every call is thread-safe (a mutex for SQLite, a connection pool for
 * Redis).
 */
#ifndef GBA_NAF_KEYSTORE_H
#define GBA_NAF_KEYSTORE_H

#include <stdint.h>

#include <gba/error.h>
#include <gba/kek.h>

#define KS_ID_MAX 256        /* B-TIDs, IMPIs, CSE-IDs, key ids, SUIDs */
#define KS_KC_LEN 32
#define KS_KC_WRAPPED_LEN (KS_KC_LEN + 8)   /* RFC 5649 of Kc */

struct keystore;

struct ks_node {
	char kmid[KS_ID_MAX + 1];      /* the B-TID */
	char impi[KS_ID_MAX + 1];
	char node_id[KS_ID_MAX + 1];   /* CSE-ID or AE-ID */
	char km_kcv[8];                /* check value of Km, for the operator */
	int64_t expires;               /* Unix seconds: Km's Key-ExpiryTime */
	int64_t enrolled;
};

struct ks_key {
	char key_id[KS_ID_MAX + 1];    /* relative-id "@" NAF FQDN */
	char kmid[KS_ID_MAX + 1];
	char node_id[KS_ID_MAX + 1];
	char suid[KS_ID_MAX + 1];
	char target[KS_ID_MAX + 1];
	uint8_t kc[KS_KC_LEN];         /* secret */
	int64_t expires;
	/* Between the front and a back end only: Kc as stored under keys.kek. */
	int kc_is_wrapped;
	uint8_t kc_wrapped[KS_KC_WRAPPED_LEN];
};

/*
 * Open the store named by uri: sqlite:PATH, redis://..., or a bare path
 * (SQLite).  GBA_ERR_UNSUPPORTED for another scheme, GBA_ERR_UNAVAILABLE
 * when Redis does not answer.
 */
gba_err ks_open(struct keystore **out, const char *path);
void ks_close(struct keystore *ks);

/*
 * Keep each Kc wrapped (RFC 5649) under kek from now on (keys.kek): put_key
 * stores the wrapped form, get_key unwraps it for the one answer that
 * hands it out.  A wrapped Kc read without a kek, or under another key,
 * gives GBA_ERR_NOT_AUTHORIZED.  kek must outlive the store.
 */
void ks_set_kek(struct keystore *ks, struct gba_kek *kek);

/* For the back ends: Kc in the form to store, and back from a stored form. */
void ks_kc_stored(const struct ks_key *k, const uint8_t **p, size_t *len);
int ks_kc_load(struct ks_key *out, const void *p, size_t len);   /* -1: bad length */

/* Insert or refresh a node (a re-enrolment with the same KmID refreshes). */
gba_err ks_put_node(struct keystore *ks, const struct ks_node *n);
/* GBA_ERR_NOT_FOUND when unknown. */
gba_err ks_get_node(struct keystore *ks, const char *kmid, struct ks_node *out);

/* GBA_ERR_EXISTS if key_id is taken. */
gba_err ks_put_key(struct keystore *ks, const struct ks_key *k);
/* GBA_ERR_NOT_FOUND when unknown or expired at now (expired ones are deleted). */
gba_err ks_get_key(struct keystore *ks, const char *key_id, int64_t now, struct ks_key *out);

/*
 * Revoke a node, named by KmID, IMPI or node id: its enrolments and every
 * key it registered are deleted and its IMPI and node id are listed as
 * revoked.  *kmids receives up to max_kmids KmIDs that were enrolled (for
 * gba_naf_forget), *n_kmids their number.  GBA_ERR_NOT_FOUND when nothing
 * matched.
 */
gba_err ks_revoke(struct keystore *ks, const char *who, char (*kmids)[KS_ID_MAX + 1],
		  unsigned max_kmids, unsigned *n_kmids);
/* Lift a revocation (IMPI or node id).  GBA_ERR_NOT_FOUND when not revoked. */
gba_err ks_reinstate(struct keystore *ks, const char *who);
/* 1 when the IMPI or the node id is revoked. */
int ks_is_revoked(struct keystore *ks, const char *impi, const char *node_id);

/* Delete expired nodes and keys; *n (may be NULL) receives how many went. */
gba_err ks_purge(struct keystore *ks, int64_t now, unsigned *n);

/* Counts for the admin port. */
gba_err ks_counts(struct keystore *ks, unsigned *nodes, unsigned *keys, unsigned *revoked);

#endif /* GBA_NAF_KEYSTORE_H */
