/*
 * gba/session_store.h - where a BSF keeps its bootstrapping sessions
 * (B-TID -> IMPI, RAND, Ks, times, GBA type, GUSS), and where Zn reads them.
 *
 * One interface, two back ends chosen by a URI:
 *   sqlite:PATH               the default; survives restarts; expired rows purged
 *   redis://HOST:PORT[/DB]    shared by several BSF processes; each key's TTL is
 *                             the session's remaining lifetime
 * Options follow a '?', '&'-separated: sqlite: commit_ms (group commit
 * window, default 20; 0 commits every put), batch, exclusive; redis: pool,
 * timeout_ms.  docs/session-store.md has them all, with the durability
 * each gives.
 *
 * A handle is safe to use from several threads at once.  Ks is a secret:
 * it is never logged, and struct gba_session must be wiped after use.
 */
#ifndef GBA_SESSION_STORE_H
#define GBA_SESSION_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <gba/error.h>
#include <gba/kdf.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_IMPI_MAX 255
#define GBA_GUSS_MAX 16384   /* largest GUSS document kept */

enum gba_type {
	GBA_TYPE_ME = 0,   /* GBA_ME: Ks in the ME (User-Agent 3gpp-gba) */
	GBA_TYPE_U = 1,    /* GBA_U: Ks in the UICC (User-Agent 3gpp-gba-uicc) */
};

struct gba_session {
	char btid[GBA_BTID_MAX + 1];
	char impi[GBA_IMPI_MAX + 1];
	uint8_t rand[16];
	uint8_t ks[32];          /* CK || IK */
	int64_t created;         /* Unix seconds, UTC */
	int64_t expiry;          /* Unix seconds, UTC */
	enum gba_type type;
};

struct gba_session_store;

/*
 * Open a store from its URI.  GBA_ERR_INVALID_ARG for an unknown scheme,
 * GBA_ERR_STORE when the database cannot be opened or created,
 * GBA_ERR_UNAVAILABLE when Redis does not answer.
 */
gba_err gba_session_store_open(struct gba_session_store **out, const char *uri);
void gba_session_store_close(struct gba_session_store *st);

/*
 * Store a session and the user's GUSS (may be NULL/0).  A B-TID names one
 * session (TS 33.220 4.5.2): GBA_ERR_EXISTS, nothing stored, when a
 * session under s->btid is still live at s->created (SQLite: the unique
 * index, checked against the group-commit stage too; Redis: SET NX); an
 * expired one is replaced.  The GUSS is kept once per IMPI, not once per session:
 * a put with a GUSS replaces the user's, a put without one keeps it.
 * GBA_ERR_INVALID_ARG unless s->btid is base64(s->rand) "@" domain (as
 * gba_btid() builds it), s->impi is 1..GBA_IMPI_MAX octets, s->type is
 * known and 0 <= created <= expiry < 2^40; GBA_ERR_TOO_LARGE for a GUSS
 * over GBA_GUSS_MAX.  GBA_ERR_STORE_UNWRITABLE when the store cannot
 * write now (disk full, write error; see gba_session_store_health): the
 * session is not stored, retry later.
 */
gba_err gba_session_store_put(struct gba_session_store *st, const struct gba_session *s,
			      const char *guss, size_t guss_len);

/*
 * Fetch a session that has not expired at time now.  GBA_ERR_NOT_FOUND for
 * an unknown or expired B-TID.  guss may be NULL; otherwise up to guss_size
 * octets of the GUSS are copied (GBA_ERR_BUFFER_TOO_SMALL if it is larger)
 * and NUL-terminated when room allows; *guss_len gets its length (0 when
 * none).
 */
gba_err gba_session_store_get(struct gba_session_store *st, const char *btid, size_t btid_len,
			      int64_t now, struct gba_session *out,
			      char *guss, size_t guss_size, size_t *guss_len);

/* Remove a session.  GBA_ERR_NOT_FOUND when there was none. */
gba_err gba_session_store_delete(struct gba_session_store *st, const char *btid, size_t btid_len);

/* Remove every session expired at time now; *purged (may be NULL) counts them. */
gba_err gba_session_store_purge(struct gba_session_store *st, int64_t now, uint64_t *purged);

/*
 * Live sessions, and the bytes the back end spends on them (SQLite: pages
 * in use; Redis: MEMORY USAGE summed or used_memory delta).
 */
gba_err gba_session_store_stats(struct gba_session_store *st, int64_t now,
				uint64_t *live, uint64_t *bytes);

/*
 * Whether the store can write.  A put answered GBA_OK is in the store, or
 * (SQLite with commit_ms > 0) held in memory and written as soon as the
 * disk lets it: a batch that fails to commit is kept and retried, never
 * dropped.  While a write is failing (disk full, write error), puts are
 * refused with GBA_ERR_STORE_UNWRITABLE: nothing is acknowledged that
 * might not be written.  Cheap (no I/O): for a metrics scrape.
 */
struct gba_session_store_health {
	int writable;              /* 0: the last write failed; puts are refused */
	uint64_t write_failures;   /* write transactions that failed, since open */
	uint64_t unwritten;        /* puts acknowledged but not yet in the file */
};

/* Fill out; back ends without such state (Redis) report writable, 0, 0. */
gba_err gba_session_store_health(struct gba_session_store *st,
				 struct gba_session_store_health *out);

#ifdef __cplusplus
}
#endif
#endif /* GBA_SESSION_STORE_H */
