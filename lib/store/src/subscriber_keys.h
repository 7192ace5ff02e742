/*
 * subscriber_keys.h - K and OPc at rest under a KEK (gba/kek.h): what the
 * subscriber database stores and reads in place of the plain keys, and the
 * file's mark of the KEK its keys are wrapped under.  Internal.
 *
 * A database is either plain or wrapped as a whole: its kek table names
 * the KEK's URI and the token's check value for it (never the key), and
 * each row's wrapped flag must agree.  A wrapped row keeps K || OPc as one
 * RFC 5649 form in its k column (one unwrap per vector, not two; the
 * token call is what costs) and an empty opc.  The AuC carries the wrapped form
 * (struct subkey_sealed) through its SQN-block cache and unwraps it into a
 * stack key for one vector, which is wiped right after.
 */
#ifndef GBA_STORE_SUBSCRIBER_KEYS_H
#define GBA_STORE_SUBSCRIBER_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include <gba/aka.h>
#include <gba/kek.h>

#define SUBKEY_WRAPPED_MAX 72   /* RFC 5649 of a 32-octet K || 32-octet TOPc */

/* The wrapped K || OPc of one subscriber (on: 0 for a plain database). */
struct subkey_sealed {
	int on;
	uint8_t kw[SUBKEY_WRAPPED_MAX];
	size_t len;
};

/* Wrap key's K and OPc/TOPc under kek. */
gba_err subkeys_seal(struct gba_kek *kek, const struct gba_aka_key *key,
		     struct subkey_sealed *out);

/*
 * Copy a wrapped row's k and opc columns into s; -1 when their lengths are
 * not those of a wrapped K || OPc (tuak: TOPc) and an empty opc.
 */
int subkeys_take(struct subkey_sealed *s, const void *k, size_t k_len, size_t opc_len,
		 int tuak);

/*
 * Bind key to the k and opc parameters of st: plain, or as w when w->on.
 * SQLITE_STATIC: key and w must outlive the step.
 */
void subkeys_bind(sqlite3_stmt *st, int col_k, int col_opc, const struct gba_aka_key *key,
		  const struct subkey_sealed *w);

/*
 * The key to compute with: params (algorithm, lengths, TUAK parameters)
 * with K and OPc unwrapped from s under kek, or params itself when s is
 * not on.  The caller wipes *out after its one use.
 */
gba_err subkeys_open(struct gba_kek *kek, const struct gba_aka_key *params,
		     const struct subkey_sealed *s, struct gba_aka_key *out);

/*
 * Check the file's mark against kek at open (lock not needed: the handle
 * is not yet shared): GBA_ERR_NOT_AUTHORIZED when the file is wrapped and
 * kek is NULL or another key (its check value differs), GBA_ERR_UNSUPPORTED
 * when kek is given for a file that holds plain keys.  An empty plain file
 * opened with a kek is marked with it.
 */
gba_err subkeys_attach(sqlite3 *db, struct gba_kek *kek);

/*
 * Rewrap every row from old (NULL: plain) to new (NULL: plain) and mark the
 * file, in the caller's transaction; *count is the rows moved.
 */
gba_err subkeys_rewrap(sqlite3 *db, struct gba_kek *old, struct gba_kek *new_kek,
		       size_t *count);

/* The URI of the KEK db's file is wrapped under ("" when plain). */
gba_err subkeys_uri_of(sqlite3 *db, char *uri, size_t size);

#endif
