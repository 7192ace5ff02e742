/*
 * keystore_backend.h - the table of operations behind keystore.h: one
 * implementation per store URI scheme (keystore_sqlite.c for sqlite:PATH,
 * keystore_redis.c for redis://HOST:PORT[/DB][?options]).  keystore.c
 * picks one from the URI and forwards every ks_* call to it, so the daemon
 * does not know which store it runs on.  Each back end serialises or pools
 * its own connections: the calls may come from any thread.
 */
#ifndef GBA_NAF_KEYSTORE_BACKEND_H
#define GBA_NAF_KEYSTORE_BACKEND_H

#include "keystore.h"

struct ks_ops {
	gba_err (*put_node)(struct keystore *ks, const struct ks_node *n);
	gba_err (*get_node)(struct keystore *ks, const char *kmid, struct ks_node *out);
	gba_err (*put_key)(struct keystore *ks, const struct ks_key *k);
	gba_err (*get_key)(struct keystore *ks, const char *key_id, int64_t now,
			   struct ks_key *out);
	gba_err (*revoke)(struct keystore *ks, const char *who, char (*kmids)[KS_ID_MAX + 1],
			  unsigned max_kmids, unsigned *n_kmids);
	gba_err (*reinstate)(struct keystore *ks, const char *who);
	int (*is_revoked)(struct keystore *ks, const char *impi, const char *node_id);
	gba_err (*purge)(struct keystore *ks, int64_t now, unsigned *n);
	gba_err (*counts)(struct keystore *ks, unsigned *nodes, unsigned *keys,
			  unsigned *revoked);
	void (*close)(struct keystore *ks);
};

/* Every back end's handle starts with this. */
struct keystore {
	const struct ks_ops *ops;
	struct gba_kek *kek;   /* ks_set_kek; set by the front, NULL: plain Kc */
};

/* path: a file name (sqlite:PATH without the scheme). */
gba_err ks_sqlite_open(struct keystore **out, const char *path);
/* spec: what follows redis:// or redis-sentinel:// (sentinel 1). */
gba_err ks_redis_open(struct keystore **out, const char *spec, int sentinel);

#endif /* GBA_NAF_KEYSTORE_BACKEND_H */
