/*
 * session_redis.c - the Redis session store (hiredis), URI
 *   redis://HOST:PORT[/DB][?pool=N&timeout_ms=N]
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
 * A hiredis context serves one thread at a time, so the handle keeps a
 * small pool of connections, each behind its own mutex.  A connection that
 * fails is dropped and the command retried once on a fresh one; if that
 * fails too, the caller gets GBA_ERR_UNAVAILABLE.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include <gba/util.h>

#include "session_backend.h"

#define FORMAT_V1 1
#define VALUE_FIXED 44               /* the value without the IMPI */
#define KEY_MAX (2 + 16 + DOMAIN_ID_MAX)
#define GUSS_KEY_MAX (2 + GBA_IMPI_MAX)
#define DEFAULT_POOL 4
#define POOL_MAX 64
#define DEFAULT_TIMEOUT_MS 1000
#define TIMEOUT_MS_MAX 60000
#define SCAN_COUNT "1000"
#define CMD_ARGS_MAX 8
#define REDIS_VERSION_MIN 7          /* EXPIREAT NX/GT */
#define DOMAIN_CACHE 4
#define DOMAIN_ID_MAX 10             /* LEB128 octets of a 64-bit id */

struct domain_id {
	char name[GBA_BTID_MAX];
	size_t len;
	uint64_t id;
};

struct redis_conn {
	pthread_mutex_t lock;
	redisContext *c;               /* NULL: not connected */
};

struct redis_store {
	struct gba_session_store base;
	char host[256];
	int port;
	unsigned db;
	unsigned timeout_ms;
	unsigned n_conns;
	atomic_uint next;              /* where the next caller starts looking */
	struct redis_conn *conns;
	pthread_mutex_t domain_lock;   /* guards the domain cache */
	struct domain_id domains[DOMAIN_CACHE];
	unsigned n_domains;
};

/* One command of a pipeline. */
struct rcmd {
	int argc;
	const char *argv[CMD_ARGS_MAX];
	size_t len[CMD_ARGS_MAX];
};

static struct redis_store *from_base(struct gba_session_store *st)
{
	return (struct redis_store *)st;
}

static void cmd_arg(struct rcmd *c, const void *p, size_t len)
{
	c->argv[c->argc] = p;
	c->len[c->argc] = len;
	c->argc++;
}

static void cmd_str(struct rcmd *c, const char *s)
{
	cmd_arg(c, s, strlen(s));
}

/* ---- connections ------------------------------------------------------- */

static struct timeval timeout_tv(const struct redis_store *r)
{
	struct timeval tv = { (time_t)(r->timeout_ms / 1000),
			      (suseconds_t)(r->timeout_ms % 1000) * 1000 };
	return tv;
}

static int reply_ok(const redisReply *rep)
{
	return rep && rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "OK");
}

static gba_err connect_one(const struct redis_store *r, redisContext **out)
{
	redisContext *c = redisConnectWithTimeout(r->host, r->port, timeout_tv(r));
	redisReply *rep;

	if (!c)
		return GBA_ERR_NO_MEMORY;
	if (c->err || redisSetTimeout(c, timeout_tv(r)) != REDIS_OK) {
		redisFree(c);
		return GBA_ERR_UNAVAILABLE;
	}
	if (r->db) {
		rep = redisCommand(c, "SELECT %u", r->db);
		int ok = reply_ok(rep);
		if (rep)
			freeReplyObject(rep);
		if (!ok) {
			redisFree(c);
			return rep ? GBA_ERR_INVALID_ARG : GBA_ERR_UNAVAILABLE;
		}
	}
	*out = c;
	return GBA_OK;
}

/* A pool connection for this thread: a free one if any, else wait. */
static struct redis_conn *acquire(struct redis_store *r)
{
	unsigned start = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed) % r->n_conns;

	for (unsigned i = 0; i < r->n_conns; i++) {
		struct redis_conn *rc = &r->conns[(start + i) % r->n_conns];
		if (pthread_mutex_trylock(&rc->lock) == 0)
			return rc;
	}
	pthread_mutex_lock(&r->conns[start].lock);
	return &r->conns[start];
}

static void release(struct redis_conn *rc)
{
	pthread_mutex_unlock(&rc->lock);
}

static void free_replies(redisReply **rep, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (rep[i])
			freeReplyObject(rep[i]);
		rep[i] = NULL;
	}
}

/* Send n commands in one write, read their n replies. */
static int pipeline_once(redisContext *c, const struct rcmd *cmds, size_t n, redisReply **rep)
{
	for (size_t i = 0; i < n; i++)
		/* hiredis takes const char **: it reads the arguments only. */
		if (redisAppendCommandArgv(c, cmds[i].argc, (const char **)cmds[i].argv,
					   cmds[i].len) != REDIS_OK)
			return -1;
	for (size_t i = 0; i < n; i++) {
		void *r = NULL;
		if (redisGetReply(c, &r) != REDIS_OK || !r) {
			free_replies(rep, i);
			return -1;
		}
		rep[i] = r;
	}
	return 0;
}

/*
 * Run a pipeline on a pool connection.  A dropped connection (Redis
 * restarted, idle timeout, CLIENT KILL) is replaced and the pipeline sent
 * once more: every pipeline here may safely run twice.
 */
static gba_err pipeline(struct redis_store *r, struct redis_conn *rc, const struct rcmd *cmds,
			size_t n, redisReply **rep)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!rc->c) {
			gba_err err = connect_one(r, &rc->c);
			if (err)
				return err;
		}
		if (!pipeline_once(rc->c, cmds, n, rep))
			return GBA_OK;
		redisFree(rc->c);
		rc->c = NULL;
	}
	return GBA_ERR_UNAVAILABLE;
}

static gba_err run(struct redis_store *r, const struct rcmd *cmds, size_t n, redisReply **rep)
{
	struct redis_conn *rc = acquire(r);
	gba_err err = pipeline(r, rc, cmds, n, rep);

	release(rc);
	return err;
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
	struct rcmd cmd = { 0 };
	redisReply *rep = NULL;
	gba_err err;

	cmd_str(&cmd, "HGET");
	cmd_str(&cmd, "d");
	cmd_arg(&cmd, key->domain, key->domain_len);
	err = run(r, &cmd, 1, &rep);
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
	struct rcmd cmd = { 0 };
	redisReply *rep = NULL;
	char num[24];
	uint64_t fresh;
	gba_err err;

	cmd_str(&cmd, "INCR");
	cmd_str(&cmd, "d:seq");
	err = run(r, &cmd, 1, &rep);
	if (err)
		return err;
	err = reply_id(rep, &fresh) ? GBA_ERR_STORE : GBA_OK;
	freeReplyObject(rep);
	if (err)
		return err;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)fresh);
	memset(&cmd, 0, sizeof(cmd));
	cmd_str(&cmd, "HSETNX");
	cmd_str(&cmd, "d");
	cmd_arg(&cmd, key->domain, key->domain_len);
	cmd_str(&cmd, num);
	err = run(r, &cmd, 1, &rep);
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

/* EXEC's answer: an array with no error in it. */
static gba_err exec_result(const redisReply *exec)
{
	if (exec->type != REDIS_REPLY_ARRAY)
		return GBA_ERR_STORE;
	for (size_t i = 0; i < exec->elements; i++)
		if (exec->element[i]->type == REDIS_REPLY_ERROR)
			return GBA_ERR_STORE;
	return GBA_OK;
}

static gba_err redis_put(struct gba_session_store *base, const struct gba_session *s,
			 const struct btid_key *key, const char *guss, size_t guss_len)
{
	struct redis_store *r = from_base(base);
	size_t impi_len = strlen(s->impi);
	char skey[KEY_MAX], gkey[GUSS_KEY_MAX], exat[24];
	uint8_t value[VALUE_FIXED + GBA_IMPI_MAX];
	struct rcmd cmd[6] = { 0 };
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
	cmd_str(&cmd[n++], "MULTI");
	cmd_str(&cmd[n], "SET");
	cmd_arg(&cmd[n], skey, skey_len);
	cmd_arg(&cmd[n], value, value_len);
	cmd_str(&cmd[n], "EXAT");
	cmd_str(&cmd[n++], exat);
	if (guss) {
		cmd_str(&cmd[n], "SET");
		cmd_arg(&cmd[n], gkey, gkey_len);
		cmd_arg(&cmd[n], guss, guss_len);
		cmd_str(&cmd[n++], "KEEPTTL");
		/* A new GUSS key has no TTL yet: NX gives it this session's. */
		cmd_str(&cmd[n], "EXPIREAT");
		cmd_arg(&cmd[n], gkey, gkey_len);
		cmd_str(&cmd[n], exat);
		cmd_str(&cmd[n++], "NX");
	}
	/* Keep the GUSS as long as the longest of the user's sessions. */
	cmd_str(&cmd[n], "EXPIREAT");
	cmd_arg(&cmd[n], gkey, gkey_len);
	cmd_str(&cmd[n], exat);
	cmd_str(&cmd[n++], "GT");
	cmd_str(&cmd[n++], "EXEC");
	err = run(r, cmd, n, rep);
	gba_wipe(value, sizeof(value));
	if (err)
		return err;
	err = exec_result(rep[n - 1]);
	free_replies(rep, n);
	return err;
}

static gba_err get_guss(struct redis_store *r, const char *impi, const struct guss_out *g)
{
	char gkey[GUSS_KEY_MAX];
	struct rcmd cmd = { 0 };
	redisReply *rep = NULL;
	gba_err err;

	cmd_str(&cmd, "GET");
	cmd_arg(&cmd, gkey, guss_key(gkey, impi, strlen(impi)));
	err = run(r, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type == REDIS_REPLY_NIL)
		err = session_guss_copy(g, NULL, 0);
	else if (rep->type == REDIS_REPLY_STRING && rep->len <= GBA_GUSS_MAX)
		err = session_guss_copy(g, rep->str, rep->len);
	else
		err = GBA_ERR_STORE;
	freeReplyObject(rep);
	return err;
}

static gba_err redis_get(struct gba_session_store *base, const struct btid_key *key,
			 int64_t now, struct gba_session *out, const struct guss_out *g)
{
	struct redis_store *r = from_base(base);
	char skey[KEY_MAX];
	struct rcmd cmd = { 0 };
	redisReply *rep = NULL;
	gba_err err;

	uint64_t domain;

	err = domain_lookup(r, key, 0, &domain);
	if (err)
		return err;
	cmd_str(&cmd, "GET");
	cmd_arg(&cmd, skey, session_key(skey, key->rand, domain));
	err = run(r, &cmd, 1, &rep);
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

static gba_err redis_del(struct gba_session_store *base, const struct btid_key *key)
{
	struct redis_store *r = from_base(base);
	char skey[KEY_MAX];
	struct rcmd cmd = { 0 };
	redisReply *rep = NULL;
	gba_err err;

	uint64_t domain;

	err = domain_lookup(r, key, 0, &domain);
	if (err)
		return err;
	cmd_str(&cmd, "DEL");
	cmd_arg(&cmd, skey, session_key(skey, key->rand, domain));
	err = run(r, &cmd, 1, &rep);
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
	struct rcmd cmd = { 0 };
	redisReply *rep = NULL;
	gba_err err;

	cmd_str(&cmd, "SCAN");
	cmd_str(&cmd, cursor);
	cmd_str(&cmd, "MATCH");
	cmd_str(&cmd, "s:*");
	cmd_str(&cmd, "COUNT");
	cmd_str(&cmd, SCAN_COUNT);
	err = run(r, &cmd, 1, &rep);
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
static gba_err redis_stats(struct gba_session_store *base, int64_t now, uint64_t *live,
			   uint64_t *bytes)
{
	struct redis_store *r = from_base(base);
	char cursor[32] = "0";
	unsigned long long used = 0, startup = 0;
	struct rcmd cmd = { 0 };
	redisReply *rep = NULL;
	gba_err err;

	(void)now;   /* Redis hides expired keys itself */
	*live = 0;
	do {
		err = scan_step(r, cursor, sizeof(cursor), live);
	} while (!err && strcmp(cursor, "0"));
	if (err)
		return err;
	cmd_str(&cmd, "INFO");
	cmd_str(&cmd, "memory");
	err = run(r, &cmd, 1, &rep);
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

	for (unsigned i = 0; i < r->n_conns; i++) {
		if (r->conns[i].c)
			redisFree(r->conns[i].c);
		pthread_mutex_destroy(&r->conns[i].lock);
	}
	free(r->conns);
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

static int parse_option(void *arg, const char *name, const char *value)
{
	struct redis_store *r = arg;
	unsigned long v;

	if (!strcmp(name, "pool")) {
		if (session_parse_uint(value, 1, POOL_MAX, &v))
			return -1;
		r->n_conns = (unsigned)v;
		return 0;
	}
	if (!strcmp(name, "timeout_ms")) {
		if (session_parse_uint(value, 1, TIMEOUT_MS_MAX, &v))
			return -1;
		r->timeout_ms = (unsigned)v;
		return 0;
	}
	return -1;
}

/* HOST:PORT[/DB][?options]; HOST may be [IPv6]. */
static gba_err parse_spec(struct redis_store *r, const char *spec)
{
	const char *end = spec + strcspn(spec, "/?"), *colon, *host = spec, *host_end;
	unsigned long v;
	char num[16];

	if (*spec == '[') {
		host = spec + 1;
		host_end = memchr(host, ']', (size_t)(end - host));
		if (!host_end || host_end[1] != ':')
			return GBA_ERR_INVALID_ARG;
		colon = host_end + 1;
	} else {
		colon = memchr(spec, ':', (size_t)(end - spec));
		host_end = colon;
	}
	if (!colon || host_end == host || (size_t)(host_end - host) >= sizeof(r->host) ||
	    (size_t)(end - colon - 1) >= sizeof(num))
		return GBA_ERR_INVALID_ARG;
	memcpy(r->host, host, (size_t)(host_end - host));
	r->host[host_end - host] = '\0';
	memcpy(num, colon + 1, (size_t)(end - colon - 1));
	num[end - colon - 1] = '\0';
	if (session_parse_uint(num, 1, 65535, &v))
		return GBA_ERR_INVALID_ARG;
	r->port = (int)v;
	if (*end == '/') {
		const char *db = end + 1, *db_end = db + strcspn(db, "?");
		if ((size_t)(db_end - db) >= sizeof(num))
			return GBA_ERR_INVALID_ARG;
		memcpy(num, db, (size_t)(db_end - db));
		num[db_end - db] = '\0';
		if (db_end > db && session_parse_uint(num, 0, INT_MAX, &v))
			return GBA_ERR_INVALID_ARG;
		r->db = db_end > db ? (unsigned)v : 0;
		end = db_end;
	}
	if (*end == '?')
		return session_uri_options(end + 1, parse_option, r) ? GBA_ERR_INVALID_ARG : GBA_OK;
	return *end ? GBA_ERR_INVALID_ARG : GBA_OK;
}

/* The server answers, and is new enough for EXPIREAT NX/GT. */
static gba_err check_server(struct redis_store *r)
{
	struct rcmd cmd = { 0 };
	redisReply *rep = NULL;
	unsigned long long major = 0;
	const char *ver;
	gba_err err;

	cmd_str(&cmd, "INFO");
	cmd_str(&cmd, "server");
	err = run(r, &cmd, 1, &rep);
	if (err)
		return err;
	ver = rep->type == REDIS_REPLY_STRING ? strstr(rep->str, "redis_version:") : NULL;
	if (!ver || sscanf(ver + 14, "%llu", &major) != 1)
		err = GBA_ERR_STORE;
	else if (major < REDIS_VERSION_MIN)
		err = GBA_ERR_UNSUPPORTED;
	freeReplyObject(rep);
	return err;
}

gba_err session_redis_open(struct gba_session_store **out, const char *spec)
{
	struct redis_store *r = calloc(1, sizeof(*r));
	gba_err err;

	if (!r)
		return GBA_ERR_NO_MEMORY;
	r->base.ops = &redis_ops;
	r->n_conns = DEFAULT_POOL;
	r->timeout_ms = DEFAULT_TIMEOUT_MS;
	err = parse_spec(r, spec);
	if (err) {
		free(r);
		return err;
	}
	r->conns = calloc(r->n_conns, sizeof(*r->conns));
	if (!r->conns) {
		free(r);
		return GBA_ERR_NO_MEMORY;
	}
	for (unsigned i = 0; i < r->n_conns; i++)
		pthread_mutex_init(&r->conns[i].lock, NULL);
	pthread_mutex_init(&r->domain_lock, NULL);
	err = check_server(r);
	if (err) {
		redis_close(&r->base);
		return err;
	}
	*out = &r->base;
	return GBA_OK;
}
