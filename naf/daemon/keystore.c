/*
 * keystore.c - gba-naf's key store front: picks the back end from the store
 * URI and forwards each call to it (keystore_backend.h).
 */
#include <string.h>

#include "keystore.h"
#include "keystore_backend.h"

gba_err ks_open(struct keystore **out, const char *uri)
{
	if (!out || !uri || !*uri)
		return GBA_ERR_INVALID_ARG;
	if (!strncmp(uri, "redis://", 8))
		return ks_redis_open(out, uri + 8, 0);
	if (!strncmp(uri, "redis-sentinel://", 17))
		return ks_redis_open(out, uri + 17, 1);
	if (!strncmp(uri, "sqlite:", 7))
		return ks_sqlite_open(out, uri + 7);
	if (strstr(uri, "://"))
		return GBA_ERR_UNSUPPORTED;     /* some other scheme */
	return ks_sqlite_open(out, uri);        /* a bare path */
}

void ks_close(struct keystore *ks)
{
	if (ks)
		ks->ops->close(ks);
}

gba_err ks_put_node(struct keystore *ks, const struct ks_node *n)
{
	return ks->ops->put_node(ks, n);
}

gba_err ks_get_node(struct keystore *ks, const char *kmid, struct ks_node *out)
{
	return ks->ops->get_node(ks, kmid, out);
}

gba_err ks_put_key(struct keystore *ks, const struct ks_key *k)
{
	return ks->ops->put_key(ks, k);
}

gba_err ks_get_key(struct keystore *ks, const char *key_id, int64_t now, struct ks_key *out)
{
	return ks->ops->get_key(ks, key_id, now, out);
}

gba_err ks_revoke(struct keystore *ks, const char *who, char (*kmids)[KS_ID_MAX + 1],
		  unsigned max_kmids, unsigned *n_kmids)
{
	return ks->ops->revoke(ks, who, kmids, max_kmids, n_kmids);
}

gba_err ks_reinstate(struct keystore *ks, const char *who)
{
	return ks->ops->reinstate(ks, who);
}

int ks_is_revoked(struct keystore *ks, const char *impi, const char *node_id)
{
	return ks->ops->is_revoked(ks, impi, node_id);
}

gba_err ks_purge(struct keystore *ks, int64_t now, unsigned *n)
{
	return ks->ops->purge(ks, now, n);
}

gba_err ks_counts(struct keystore *ks, unsigned *nodes, unsigned *keys, unsigned *revoked)
{
	return ks->ops->counts(ks, nodes, keys, revoked);
}
