/*
 * keystore.c - gba-naf's key store front: picks the back end from the store
 * URI and forwards each call to it (keystore_backend.h).  With a KEK it
 * wraps Kc before a back end sees it and unwraps it after, so both back
 * ends store only the wrapped form.
 */
#include <string.h>

#include <gba/util.h>

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

void ks_set_kek(struct keystore *ks, struct gba_kek *kek)
{
	ks->kek = kek;
}

void ks_kc_stored(const struct ks_key *k, const uint8_t **p, size_t *len)
{
	*p = k->kc_is_wrapped ? k->kc_wrapped : k->kc;
	*len = k->kc_is_wrapped ? sizeof(k->kc_wrapped) : sizeof(k->kc);
}

int ks_kc_load(struct ks_key *out, const void *p, size_t len)
{
	out->kc_is_wrapped = len == sizeof(out->kc_wrapped);
	if (!p || (len != sizeof(out->kc) && !out->kc_is_wrapped))
		return -1;
	memcpy(out->kc_is_wrapped ? out->kc_wrapped : out->kc, p, len);
	return 0;
}

gba_err ks_put_key(struct keystore *ks, const struct ks_key *k)
{
	struct ks_key w;
	size_t len = 0;
	gba_err err;

	if (!ks->kek)
		return ks->ops->put_key(ks, k);
	w = *k;
	gba_wipe(w.kc, sizeof(w.kc));
	err = gba_kek_wrap(ks->kek, w.kc_wrapped, sizeof(w.kc_wrapped), &len, k->kc,
			   sizeof(k->kc));
	w.kc_is_wrapped = 1;
	if (!err && len != sizeof(w.kc_wrapped))
		err = GBA_ERR_STORE;
	if (!err)
		err = ks->ops->put_key(ks, &w);
	gba_wipe(&w, sizeof(w));
	return err;
}

/* Kc back from its wrapped form, for the answer that hands it out. */
static gba_err unwrap_kc(struct keystore *ks, struct ks_key *out)
{
	size_t len = 0;
	gba_err err = GBA_ERR_NOT_AUTHORIZED;

	if (ks->kek)
		err = gba_kek_unwrap(ks->kek, out->kc, sizeof(out->kc), &len, out->kc_wrapped,
				     sizeof(out->kc_wrapped));
	if (!err && len != sizeof(out->kc))
		err = GBA_ERR_STORE;
	if (err == GBA_ERR_STORE || err == GBA_ERR_AUTH_FAILED)
		err = GBA_ERR_NOT_AUTHORIZED;   /* wrapped under another key */
	gba_wipe(out->kc_wrapped, sizeof(out->kc_wrapped));
	out->kc_is_wrapped = 0;
	if (err)
		gba_wipe(out->kc, sizeof(out->kc));
	return err;
}

gba_err ks_get_key(struct keystore *ks, const char *key_id, int64_t now, struct ks_key *out)
{
	gba_err err = ks->ops->get_key(ks, key_id, now, out);

	if (!err && out->kc_is_wrapped)
		err = unwrap_kc(ks, out);
	return err;
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
