/*
 * session_store.c - the session store's public functions: choose the back
 * end from the URI, check every argument once, split the B-TID into the
 * RAND and domain the back ends key by, and copy GUSS documents out.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <stdlib.h>
#include <string.h>

#include <gba/kdf.h>
#include <gba/util.h>

#include "session_backend.h"

#define URI_OPTIONS_MAX 256

gba_err gba_session_store_open(struct gba_session_store **out, const char *uri)
{
	if (!out || !uri)
		return GBA_ERR_INVALID_ARG;
	*out = NULL;
	if (!strncmp(uri, "sqlite:", 7))
		return session_sqlite_open(out, uri + 7);
	if (!strncmp(uri, "redis://", 8))
		return session_redis_open(out, uri + 8, 0);
	if (!strncmp(uri, "redis-sentinel://", 17))
		return session_redis_open(out, uri + 17, 1);
	return GBA_ERR_INVALID_ARG;
}

void gba_session_store_close(struct gba_session_store *st)
{
	if (st)
		st->ops->close(st);
}

/*
 * A B-TID as the store keys it.  Anything that is not base64(16 octets)
 * "@" domain cannot have been stored, so callers answer NOT_FOUND for it.
 */
static gba_err split_btid(const char *btid, size_t btid_len, uint8_t rand[16],
			  struct btid_key *key)
{
	if (btid_len == 0 || btid_len > GBA_BTID_MAX || memchr(btid, '\0', btid_len))
		return GBA_ERR_PARSE;
	if (gba_btid_parse(btid, btid_len, rand, &key->domain, &key->domain_len) ||
	    key->domain_len == 0)
		return GBA_ERR_PARSE;
	key->rand = rand;
	return GBA_OK;
}

static int impi_ok(const char *impi)
{
	size_t n = strnlen(impi, GBA_IMPI_MAX + 1);

	return n > 0 && n <= GBA_IMPI_MAX;
}

/* What put() accepts: see gba/session_store.h. */
static gba_err check_session(const struct gba_session *s, uint8_t rand[16],
			     struct btid_key *key)
{
	size_t btid_len = strnlen(s->btid, sizeof(s->btid));

	if (btid_len == sizeof(s->btid) || split_btid(s->btid, btid_len, rand, key))
		return GBA_ERR_INVALID_ARG;
	/* TS 33.220 4.5.2: the B-TID is made of the session's own RAND. */
	if (memcmp(rand, s->rand, 16))
		return GBA_ERR_INVALID_ARG;
	if (!impi_ok(s->impi) || (s->type != GBA_TYPE_ME && s->type != GBA_TYPE_U))
		return GBA_ERR_INVALID_ARG;
	if (s->created < 0 || s->expiry < s->created || s->expiry > SESSION_TIME_MAX)
		return GBA_ERR_INVALID_ARG;
	return GBA_OK;
}

gba_err gba_session_store_put(struct gba_session_store *st, const struct gba_session *s,
			      const char *guss, size_t guss_len)
{
	struct btid_key key;
	uint8_t rand[16];
	gba_err err;

	if (!st || !s || (!guss && guss_len))
		return GBA_ERR_INVALID_ARG;
	if (guss_len > GBA_GUSS_MAX)
		return GBA_ERR_TOO_LARGE;
	err = check_session(s, rand, &key);
	if (err)
		return err;
	return st->ops->put(st, s, &key, guss_len ? guss : NULL, guss_len);
}

gba_err gba_session_store_get(struct gba_session_store *st, const char *btid, size_t btid_len,
			      int64_t now, struct gba_session *out,
			      char *guss, size_t guss_size, size_t *guss_len)
{
	const struct guss_out g = { guss, guss_size, guss_len };
	struct btid_key key;
	uint8_t rand[16];
	gba_err err;

	if (!st || !btid || !out)
		return GBA_ERR_INVALID_ARG;
	if (guss_len)
		*guss_len = 0;
	if (split_btid(btid, btid_len, rand, &key))
		return GBA_ERR_NOT_FOUND;
	memset(out, 0, sizeof(*out));
	err = st->ops->get(st, &key, now, out, &g);
	if (err && err != GBA_ERR_BUFFER_TOO_SMALL) {
		gba_wipe(out, sizeof(*out));
		return err;
	}
	memcpy(out->btid, btid, btid_len);
	out->btid[btid_len] = '\0';
	return err;
}

gba_err gba_session_store_delete(struct gba_session_store *st, const char *btid, size_t btid_len)
{
	struct btid_key key;
	uint8_t rand[16];

	if (!st || !btid)
		return GBA_ERR_INVALID_ARG;
	if (split_btid(btid, btid_len, rand, &key))
		return GBA_ERR_NOT_FOUND;
	return st->ops->del(st, &key);
}

gba_err gba_session_store_purge(struct gba_session_store *st, int64_t now, uint64_t *purged)
{
	uint64_t n = 0;
	gba_err err;

	if (!st)
		return GBA_ERR_INVALID_ARG;
	err = st->ops->purge(st, now, &n);
	if (purged)
		*purged = n;
	return err;
}

gba_err gba_session_store_stats(struct gba_session_store *st, int64_t now,
				uint64_t *live, uint64_t *bytes)
{
	uint64_t l = 0, b = 0;
	gba_err err;

	if (!st)
		return GBA_ERR_INVALID_ARG;
	err = st->ops->stats(st, now, &l, &b);
	if (live)
		*live = l;
	if (bytes)
		*bytes = b;
	return err;
}

gba_err gba_session_store_health(struct gba_session_store *st,
				 struct gba_session_store_health *out)
{
	if (!st || !out)
		return GBA_ERR_INVALID_ARG;
	memset(out, 0, sizeof(*out));
	out->writable = 1;
	if (st->ops->health)
		st->ops->health(st, out);
	return GBA_OK;
}

/* guss_out.h: shared with the subscriber database. */
gba_err guss_out_copy(const struct guss_out *g, const void *guss, size_t len)
{
	if (g->len)
		*g->len = len;
	if (!g->buf)
		return GBA_OK;
	if (len > g->size)
		return GBA_ERR_BUFFER_TOO_SMALL;
	if (len)
		memcpy(g->buf, guss, len);
	if (len < g->size)
		g->buf[len] = '\0';
	return GBA_OK;
}

gba_err session_uri_options(const char *query,
			    int (*fn)(void *arg, const char *name, const char *value),
			    void *arg)
{
	char buf[URI_OPTIONS_MAX + 1];
	size_t n = strlen(query);

	if (n > URI_OPTIONS_MAX)
		return GBA_ERR_INVALID_ARG;
	memcpy(buf, query, n + 1);
	/* Strict: no empty option, so "a=1&" and "a=1&&b=2" are refused. */
	for (char *opt = buf, *amp;; opt = amp + 1) {
		char *eq;
		amp = strchr(opt, '&');
		if (amp)
			*amp = '\0';
		eq = strchr(opt, '=');
		if (!eq || eq == opt)
			return GBA_ERR_INVALID_ARG;
		*eq = '\0';
		if (fn(arg, opt, eq + 1))
			return GBA_ERR_INVALID_ARG;
		if (!amp)
			return GBA_OK;
	}
}

int session_parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9' || strlen(s) > 9)
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
