/*
 * session_backend.h - what a session store back end implements.  The
 * public functions (session_store.c) check their arguments, split the
 * B-TID into RAND and domain, and then call these.  Internal.
 */
#ifndef GBA_STORE_SESSION_BACKEND_H
#define GBA_STORE_SESSION_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <gba/session_store.h>

#include "guss_out.h"

/* A B-TID split as the back ends key it: RAND and the BSF domain. */
struct btid_key {
	const uint8_t *rand;      /* 16 octets */
	const char *domain;       /* not NUL-terminated */
	size_t domain_len;
};

/* Times are stored in at most 40 bits (Redis value encoding). */
#define SESSION_TIME_MAX ((INT64_C(1) << 40) - 1)

struct session_backend_ops {
	/* s is checked: B-TID = base64(s->rand)@domain, times in range. */
	gba_err (*put)(struct gba_session_store *st, const struct gba_session *s,
		       const struct btid_key *key, const char *guss, size_t guss_len);
	/* Fill out except out->btid; GBA_ERR_NOT_FOUND when absent or expired. */
	gba_err (*get)(struct gba_session_store *st, const struct btid_key *key, int64_t now,
		       struct gba_session *out, const struct guss_out *guss);
	gba_err (*del)(struct gba_session_store *st, const struct btid_key *key);
	gba_err (*purge)(struct gba_session_store *st, int64_t now, uint64_t *purged);
	gba_err (*stats)(struct gba_session_store *st, int64_t now, uint64_t *live,
			 uint64_t *bytes);
	void (*close)(struct gba_session_store *st);
	/* Optional: NULL reports a store that is always writable. */
	void (*health)(struct gba_session_store *st, struct gba_session_store_health *out);
};

/* Every back end's handle starts with this. */
struct gba_session_store {
	const struct session_backend_ops *ops;
};

/* Open a back end; spec is the URI without its scheme. */
gba_err session_sqlite_open(struct gba_session_store **out, const char *spec);
gba_err session_redis_open(struct gba_session_store **out, const char *spec, int sentinel);


/*
 * Parse the "name=value&name=value" options of a URI (the part after '?'):
 * fn(arg, name, value) is called for each, both NUL-terminated; it returns
 * non-zero to reject one.  GBA_ERR_INVALID_ARG on a malformed or rejected
 * option.
 */
gba_err session_uri_options(const char *query,
			    int (*fn)(void *arg, const char *name, const char *value),
			    void *arg);

/* Parse a decimal unsigned value in [min, max]; 0 on success. */
int session_parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out);

#endif
