/*
 * session_redis.c - the Redis session store (hiredis), URI
 *   redis://HOST:PORT[/DB][?pool=N&timeout_ms=N]
 *   redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTER[?db=N&wait=N&...]
 *
 * Several BSF processes pointed at one Redis share their sessions.  Each
 * session is one string key whose TTL ends with the session (SET ... EXAT),
 * so Redis itself forgets expired sessions and purge() has nothing to do:
 *   key   "s:" RAND (16 raw octets) domain-id (LEB128)
 *   value 1 format | 1 type | 5 created | 5 expiry | 32 Ks | IMPI
 *         (big-endian seconds; 44 octets plus the IMPI)
 * The BSF domain is interned: hash "d" maps each domain to a small id
 * (from the counter "d:seq"), which keeps a key at 19 octets instead of
 * 18 plus the domain; with jemalloc's size classes that saves 32 octets
 * per session.  Ids are never reused, so every process agrees on them.
 * A user's GUSS is one key "g:" IMPI, written with its session in one
 * MULTI/EXEC and kept alive as long as the longest of that user's sessions
 * (EXPIREAT ... NX, then EXPIREAT ... GT).
 *
 * The URI, the connection pool and the retry of a dropped connection are
 * redis_pool.h's (shared with gba-naf's key store): every pipeline here may
 * safely run twice (EXPIREAT of the same values; a session's SET NX that
 * finds its own earlier write, byte for byte, takes it for done; INCR of
 * d:seq only wastes an id; HSETNX that finds its own earlier write reads
 * the id back).  SET NX is what keeps a B-TID to one live session.  With redis-sentinel:// the same holds across a failover, and a
 * write is acknowledged only once WAIT says enough replicas have it.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include <gba/util.h>

#include "redis_pool.h"
#include "session_backend.h"

#define FORMAT_V1 1
#define VALUE_FIXED 44               /* the value without the IMPI */
#define KEY_MAX (2 + 16 + DOMAIN_ID_MAX)
#define GUSS_KEY_MAX (2 + GBA_IMPI_MAX)
#define SCAN_COUNT "1000"
#define EXACT_KEYS_MAX 100000        /* stats counts up to this many keys one by one */
#define SAMPLE_ROUNDS 4              /* above it: RANDOMKEY this many times */
#define SAMPLE_BATCH 256             /* SAMPLE_BATCH at a time */
#define DOMAIN_CACHE 4
#define DOMAIN_ID_MAX 10             /* LEB128 octets of a 64-bit id */

struct domain_id {
	char name[GBA_BTID_MAX];
	size_t len;
	uint64_t id;
};

struct redis_store {
	struct gba_session_store base;
	struct redis_pool *pool;
	pthread_mutex_t domain_lock;   /* guards the domain cache */
	struct domain_id domains[DOMAIN_CACHE];
	unsigned n_domains;
};

static struct redis_store *from_base(struct gba_session_store *st)
{
	return (struct redis_store *)st;
}

/* ---- encoding ---------------------------------------------------------- */

static void put_be40(uint8_t *p, int64_t v)
{
	for (int i = 4; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static int64_t get_be40(const uint8_t *p)
{
	int64_t v = 0;

	for (int i = 0; i < 5; i++)
		v = (v << 8) | p[i];
	return v;
}

static size_t session_key(char *out, const uint8_t rand[16], uint64_t domain)
{
	size_t n = 18;

	out[0] = 's';
	out[1] = ':';
	memcpy(out + 2, rand, 16);
	do {
		out[n++] = (char)((domain & 0x7f) | (domain > 0x7f ? 0x80 : 0));
		domain >>= 7;
	} while (domain);
	return n;
}

static size_t guss_key(char *out, const char *impi, size_t impi_len)
{
	out[0] = 'g';
	out[1] = ':';
	memcpy(out + 2, impi, impi_len);
	return 2 + impi_len;
}

static size_t encode_value(uint8_t *out, const struct gba_session *s, size_t impi_len)
{
	out[0] = FORMAT_V1;
	out[1] = (uint8_t)s->type;
	put_be40(out + 2, s->created);
	put_be40(out + 7, s->expiry);
	memcpy(out + 12, s->ks, 32);
	memcpy(out + VALUE_FIXED, s->impi, impi_len);
	return VALUE_FIXED + impi_len;
}

static gba_err decode_value(const uint8_t *v, size_t len, struct gba_session *out)
{
	size_t impi_len = len - VALUE_FIXED;

	if (len <= VALUE_FIXED || impi_len > GBA_IMPI_MAX || v[0] != FORMAT_V1 ||
	    (v[1] != GBA_TYPE_ME && v[1] != GBA_TYPE_U) ||
	    memchr(v + VALUE_FIXED, '\0', impi_len))
		return GBA_ERR_STORE;
	out->type = (enum gba_type)v[1];
	out->created = get_be40(v + 2);
	out->expiry = get_be40(v + 7);
	memcpy(out->ks, v + 12, 32);
	memcpy(out->impi, v + VALUE_FIXED, impi_len);
	out->impi[impi_len] = '\0';
	return GBA_OK;
}

/* ---- domains ----------------------------------------------------------- */

static int domain_cached(struct redis_store *r, const struct btid_key *key, uint64_t *id)
{
	int found = 0;

	pthread_mutex_lock(&r->domain_lock);
	for (unsigned i = 0; i < r->n_domains && !found; i++) {
		const struct domain_id *d = &r->domains[i];
		if (d->len == key->domain_len && !memcmp(d->name, key->domain, d->len)) {
			*id = d->id;
			found = 1;
		}
	}
	pthread_mutex_unlock(&r->domain_lock);
	return found;
}

static void domain_remember(struct redis_store *r, const struct btid_key *key, uint64_t id)
{
	pthread_mutex_lock(&r->domain_lock);
	struct domain_id *d = &r->domains[r->n_domains < DOMAIN_CACHE ? r->n_domains++ : 0];
	memcpy(d->name, key->domain, key->domain_len);
	d->len = key->domain_len;
	d->id = id;
	pthread_mutex_unlock(&r->domain_lock);
}

/* An integer reply, or a decimal string reply, as an id; -1 if neither. */
static int reply_id(const redisReply *rep, uint64_t *id)
{
	char *end;

	if (rep->type == REDIS_REPLY_INTEGER && rep->integer > 0) {
		*id = (uint64_t)rep->integer;
		return 0;
	}
	if (rep->type != REDIS_REPLY_STRING || rep->len == 0 || rep->len > 20)
		return -1;
	*id = strtoull(rep->str, &end, 10);
	return end == rep->str + rep->len && *id > 0 ? 0 : -1;
}

/* HGET d domain: GBA_ERR_NOT_FOUND when the domain has no id yet. */
static gba_err domain_get(struct redis_store *r, const struct btid_key *key, uint64_t *id)
{
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;
	gba_err err;

	redis_cmd_str(&cmd, "HGET");
	redis_cmd_str(&cmd, "d");
	redis_cmd_arg(&cmd, key->domain, key->domain_len);
	err = redis_pool_run(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type == REDIS_REPLY_NIL)
		err = GBA_ERR_NOT_FOUND;
	else if (reply_id(rep, id))
		err = GBA_ERR_STORE;
	freeReplyObject(rep);
	return err;
}

/* A new id from d:seq, claimed with HSETNX; another process may win. */
static gba_err domain_add(struct redis_store *r, const struct btid_key *key, uint64_t *id)
{
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;
	char num[24];
	uint64_t fresh;
	gba_err err;

	redis_cmd_str(&cmd, "INCR");
	redis_cmd_str(&cmd, "d:seq");
	err = redis_pool_write(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	err = reply_id(rep, &fresh) ? GBA_ERR_STORE : GBA_OK;
	freeReplyObject(rep);
	if (err)
		return err;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)fresh);
	memset(&cmd, 0, sizeof(cmd));
	redis_cmd_str(&cmd, "HSETNX");
	redis_cmd_str(&cmd, "d");
	redis_cmd_arg(&cmd, key->domain, key->domain_len);
	redis_cmd_str(&cmd, num);
	err = redis_pool_write(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type != REDIS_REPLY_INTEGER)
		err = GBA_ERR_STORE;
	else if (rep->integer == 1)
		*id = fresh;
	else
		err = domain_get(r, key, id);   /* someone else was first */
	freeReplyObject(rep);
	return err;
}

/* The domain's id; with add, one is made when there is none. */
static gba_err domain_lookup(struct redis_store *r, const struct btid_key *key, int add,
			     uint64_t *id)
{
	gba_err err;

	if (domain_cached(r, key, id))
		return GBA_OK;
	err = domain_get(r, key, id);
	if (err == GBA_ERR_NOT_FOUND && add)
		err = domain_add(r, key, id);
	if (!err)
		domain_remember(r, key, *id);
	return err;
}

/* ---- the operations ---------------------------------------------------- */

static gba_err session_command(struct redis_store *r, const struct btid_key *key,
			       const char *verb, redisReply **rep);

/*
 * SET NX found the key taken.  The pipeline may have run twice (a dropped
 * connection is retried): when the stored value is this very session, the
 * first run wrote it.  Otherwise another live session holds the B-TID
 * (TS 33.220 4.5.2: it names one session): GBA_ERR_EXISTS.
 */
static gba_err nx_refused(struct redis_store *r, const struct btid_key *key,
			  const struct gba_session *s)
{
	struct gba_session had;
	redisReply *rep = NULL;
	gba_err err = session_command(r, key, "GET", &rep);

	if (err)
		return err;
	err = GBA_ERR_EXISTS;
	if (rep->type == REDIS_REPLY_STRING) {
		if (!decode_value((const uint8_t *)rep->str, rep->len, &had) &&
		    had.created == s->created && had.expiry == s->expiry &&
		    had.type == s->type && !strcmp(had.impi, s->impi) &&
		    gba_ct_equal(had.ks, s->ks, sizeof(had.ks)))
			err = GBA_OK;
		gba_wipe(rep->str, rep->len);
		gba_wipe(&had, sizeof(had));
	}
	freeReplyObject(rep);
	return err;
}

static gba_err redis_put(struct gba_session_store *base, const struct gba_session *s,
			 const struct btid_key *key, const char *guss, size_t guss_len)
{
	struct redis_store *r = from_base(base);
	size_t impi_len = strlen(s->impi);
	char skey[KEY_MAX], gkey[GUSS_KEY_MAX], exat[24];
	uint8_t value[VALUE_FIXED + GBA_IMPI_MAX];
	struct redis_cmd cmd[6] = { 0 };
	redisReply *rep[6] = { 0 };
	size_t n = 0, skey_len, gkey_len = guss_key(gkey, s->impi, impi_len), value_len;
	uint64_t domain;
	gba_err err = domain_lookup(r, key, 1, &domain);

	if (err)
		return err;
	skey_len = session_key(skey, key->rand, domain);
	value_len = encode_value(value, s, impi_len);

	/* EXAT must be positive; 1 (1970) makes an expired session vanish at once. */
	snprintf(exat, sizeof(exat), "%lld", (long long)(s->expiry > 0 ? s->expiry : 1));
	redis_cmd_str(&cmd[n++], "MULTI");
	redis_cmd_str(&cmd[n], "SET");
	redis_cmd_arg(&cmd[n], skey, skey_len);
	redis_cmd_arg(&cmd[n], value, value_len);
	redis_cmd_str(&cmd[n], "EXAT");
	redis_cmd_str(&cmd[n], exat);
	redis_cmd_str(&cmd[n++], "NX");   /* never over a live session: the B-TID is its */
	if (guss) {
		redis_cmd_str(&cmd[n], "SET");
		redis_cmd_arg(&cmd[n], gkey, gkey_len);
		redis_cmd_arg(&cmd[n], guss, guss_len);
		redis_cmd_str(&cmd[n++], "KEEPTTL");
		/* A new GUSS key has no TTL yet: NX gives it this session's. */
		redis_cmd_str(&cmd[n], "EXPIREAT");
		redis_cmd_arg(&cmd[n], gkey, gkey_len);
		redis_cmd_str(&cmd[n], exat);
		redis_cmd_str(&cmd[n++], "NX");
	}
	/* Keep the GUSS as long as the longest of the user's sessions. */
	redis_cmd_str(&cmd[n], "EXPIREAT");
	redis_cmd_arg(&cmd[n], gkey, gkey_len);
	redis_cmd_str(&cmd[n], exat);
	redis_cmd_str(&cmd[n++], "GT");
	redis_cmd_str(&cmd[n++], "EXEC");
	err = redis_pool_write(r->pool, cmd, n, rep);
	gba_wipe(value, sizeof(value));
	if (err)
		return err;
	err = redis_exec_result(rep[n - 1]);
	if (!err && rep[n - 1]->elements && rep[n - 1]->element[0]->type == REDIS_REPLY_NIL)
		err = nx_refused(r, key, s);
	redis_free_replies(rep, n);
	return err;
}

static gba_err get_guss(struct redis_store *r, const char *impi, const struct guss_out *g)
{
	char gkey[GUSS_KEY_MAX];
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;
	gba_err err;

	redis_cmd_str(&cmd, "GET");
	redis_cmd_arg(&cmd, gkey, guss_key(gkey, impi, strlen(impi)));
	err = redis_pool_run(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type == REDIS_REPLY_NIL)
		err = guss_out_copy(g, NULL, 0);
	else if (rep->type == REDIS_REPLY_STRING && rep->len <= GBA_GUSS_MAX)
		err = guss_out_copy(g, rep->str, rep->len);
	else
		err = GBA_ERR_STORE;
	freeReplyObject(rep);
	return err;
}

/* Run VERB on a session's key (GET or DEL): one round trip. */
static gba_err session_command(struct redis_store *r, const struct btid_key *key,
			       const char *verb, redisReply **rep)
{
	char skey[KEY_MAX];
	struct redis_cmd cmd = { 0 };
	uint64_t domain;
	gba_err err = domain_lookup(r, key, 0, &domain);

	if (err)
		return err;
	redis_cmd_str(&cmd, verb);
	redis_cmd_arg(&cmd, skey, session_key(skey, key->rand, domain));
	if (!strcmp(verb, "DEL"))
		return redis_pool_write(r->pool, &cmd, 1, rep);
	return redis_pool_run(r->pool, &cmd, 1, rep);
}

static gba_err get_once(struct redis_store *r, const struct btid_key *key, int64_t now,
		       struct gba_session *out, const struct guss_out *g)
{
	redisReply *rep = NULL;
	gba_err err = session_command(r, key, "GET", &rep);

	if (err)
		return err;
	if (rep->type == REDIS_REPLY_NIL)
		err = GBA_ERR_NOT_FOUND;
	else if (rep->type == REDIS_REPLY_STRING)
		err = decode_value((const uint8_t *)rep->str, rep->len, out);
	else
		err = GBA_ERR_STORE;
	if (rep->type == REDIS_REPLY_STRING)
		gba_wipe(rep->str, rep->len);   /* it held Ks */
	freeReplyObject(rep);
	if (!err && out->expiry <= now)
		err = GBA_ERR_NOT_FOUND;        /* the caller's clock is ahead of Redis's */
	if (err)
		return err;
	memcpy(out->rand, key->rand, 16);
	/* The GUSS key is named by the IMPI in the value: a second round trip. */
	if (g->buf || g->len)
		err = get_guss(r, out->impi, g);
	return err;
}

/*
 * A miss just after a failover may come from a node that was the primary
 * when we connected: when the sentinels name another one now, read again.
 */
static gba_err redis_get(struct gba_session_store *base, const struct btid_key *key,
			 int64_t now, struct gba_session *out, const struct guss_out *g)
{
	struct redis_store *r = from_base(base);
	gba_err err = get_once(r, key, now, out, g);

	if (err == GBA_ERR_NOT_FOUND && redis_pool_moved(r->pool))
		err = get_once(r, key, now, out, g);
	return err;
}

static gba_err redis_del(struct gba_session_store *base, const struct btid_key *key)
{
	redisReply *rep = NULL;
	gba_err err = session_command(from_base(base), key, "DEL", &rep);

	if (err)
		return err;
	if (rep->type != REDIS_REPLY_INTEGER)
		err = GBA_ERR_STORE;
	else if (rep->integer == 0)
		err = GBA_ERR_NOT_FOUND;
	freeReplyObject(rep);
	return err;
}

static gba_err redis_purge(struct gba_session_store *base, int64_t now, uint64_t *purged)
{
	/* Redis drops each key when its TTL ends. */
	(void)base;
	(void)now;
	*purged = 0;
	return GBA_OK;
}

/* One SCAN step: count the session keys it returns, move the cursor on. */
static gba_err scan_step(struct redis_store *r, char *cursor, size_t cursor_size,
			 uint64_t *live)
{
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;
	gba_err err;

	redis_cmd_str(&cmd, "SCAN");
	redis_cmd_str(&cmd, cursor);
	redis_cmd_str(&cmd, "MATCH");
	redis_cmd_str(&cmd, "s:*");
	redis_cmd_str(&cmd, "COUNT");
	redis_cmd_str(&cmd, SCAN_COUNT);
	err = redis_pool_run(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING || rep->element[0]->len >= cursor_size ||
	    rep->element[1]->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(rep);
		return GBA_ERR_STORE;
	}
	memcpy(cursor, rep->element[0]->str, rep->element[0]->len + 1);
	*live += rep->element[1]->elements;
	freeReplyObject(rep);
	return GBA_OK;
}

/* A "name:value" line of INFO, as a number. */
static int info_field(const char *info, const char *name, unsigned long long *v)
{
	size_t n = strlen(name);

	for (const char *p = info; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ':')
			return sscanf(p + n + 1, "%llu", v) == 1 ? 0 : -1;
	return -1;
}

/*
 * Live sessions: a SCAN of the keyspace, O(keys) work for Redis, so call it
 * seldom.  Bytes: the server's memory above its empty start
 * (used_memory - used_memory_startup), which counts whatever else that
 * Redis holds too.
 */
/* DBSIZE: every key of the database, sessions or not. */
static gba_err db_keys(struct redis_store *r, uint64_t *keys)
{
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;
	gba_err err;

	redis_cmd_str(&cmd, "DBSIZE");
	err = redis_pool_run(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type == REDIS_REPLY_INTEGER && rep->integer >= 0)
		*keys = (uint64_t)rep->integer;
	else
		err = GBA_ERR_STORE;
	freeReplyObject(rep);
	return err;
}

/*
 * The session keys among keys, estimated from SAMPLE_ROUNDS *
 * SAMPLE_BATCH random keys (RANDOMKEY, pipelined): the share of "s:" keys
 * in the sample, times keys.  The standard error is under 1.6 % of keys.
 */
static gba_err sample_sessions(struct redis_store *r, uint64_t keys, uint64_t *live)
{
	struct redis_cmd *cmd = calloc(SAMPLE_BATCH, sizeof(*cmd));
	redisReply *rep[SAMPLE_BATCH];
	uint64_t hits = 0, seen = 0;
	gba_err err = cmd ? GBA_OK : GBA_ERR_NO_MEMORY;

	for (unsigned i = 0; i < SAMPLE_BATCH && cmd; i++)
		redis_cmd_str(&cmd[i], "RANDOMKEY");
	for (unsigned round = 0; round < SAMPLE_ROUNDS && !err; round++) {
		err = redis_pool_run(r->pool, cmd, SAMPLE_BATCH, rep);
		if (err)
			break;
		for (unsigned i = 0; i < SAMPLE_BATCH; i++) {
			if (rep[i]->type == REDIS_REPLY_STRING) {
				seen++;
				hits += rep[i]->len > 2 && !memcmp(rep[i]->str, "s:", 2);
			} else if (rep[i]->type != REDIS_REPLY_NIL) {
				err = GBA_ERR_STORE;
			}
		}
		redis_free_replies(rep, SAMPLE_BATCH);
	}
	free(cmd);
	if (!err)
		*live = seen ? (uint64_t)((double)keys * (double)hits / (double)seen + 0.5) : 0;
	return err;
}

/*
 * Live sessions: the "s:" keys, counted one by one (SCAN) in a database of
 * up to EXACT_KEYS_MAX keys, estimated from a sample above that.  SCAN
 * sends every key name here: 1 - 2 s with a million sessions, 10 - 20 s
 * with 10 million, a pool connection held all along at each /metrics
 * scrape (docs/session-store.md, "Scale").
 */
static gba_err count_sessions(struct redis_store *r, uint64_t *live)
{
	char cursor[32] = "0";
	uint64_t keys = 0;
	gba_err err = db_keys(r, &keys);

	if (err)
		return err;
	if (keys > EXACT_KEYS_MAX)
		return sample_sessions(r, keys, live);
	*live = 0;
	do {
		err = scan_step(r, cursor, sizeof(cursor), live);
	} while (!err && strcmp(cursor, "0"));
	return err;
}

static gba_err redis_stats(struct gba_session_store *base, int64_t now, uint64_t *live,
			   uint64_t *bytes)
{
	struct redis_store *r = from_base(base);
	unsigned long long used = 0, startup = 0;
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;
	gba_err err;

	(void)now;   /* Redis hides expired keys itself */
	err = count_sessions(r, live);
	if (err)
		return err;
	redis_cmd_str(&cmd, "INFO");
	redis_cmd_str(&cmd, "memory");
	err = redis_pool_run(r->pool, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type != REDIS_REPLY_STRING || info_field(rep->str, "used_memory", &used) ||
	    info_field(rep->str, "used_memory_startup", &startup))
		err = GBA_ERR_STORE;
	else
		*bytes = used > startup ? used - startup : 0;
	freeReplyObject(rep);
	return err;
}

static void redis_close(struct gba_session_store *base)
{
	struct redis_store *r = from_base(base);

	redis_pool_close(r->pool);
	pthread_mutex_destroy(&r->domain_lock);
	free(r);
}

static const struct session_backend_ops redis_ops = {
	.put = redis_put,
	.get = redis_get,
	.del = redis_del,
	.purge = redis_purge,
	.stats = redis_stats,
	.close = redis_close,
};

/* ---- opening ----------------------------------------------------------- */

gba_err session_redis_open(struct gba_session_store **out, const char *spec, int sentinel)
{
	struct redis_store *r = calloc(1, sizeof(*r));
	gba_err err;

	if (!r)
		return GBA_ERR_NO_MEMORY;
	err = sentinel ? redis_pool_open_sentinel(&r->pool, spec) : redis_pool_open(&r->pool, spec);
	if (err) {
		free(r);
		return err;
	}
	r->base.ops = &redis_ops;
	pthread_mutex_init(&r->domain_lock, NULL);
	*out = &r->base;
	return GBA_OK;
}
