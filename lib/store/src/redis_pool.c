/* redis_pool.c - see redis_pool.h. */
#define _DEFAULT_SOURCE /* explicit_bzero, nanosleep */

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "redis_pool.h"
#include "redis_sentinel.h"

#define DEFAULT_POOL 4
#define POOL_MAX 64
#define DEFAULT_TIMEOUT_MS 1000
#define TIMEOUT_MS_MAX 60000
#define REDIS_VERSION_MIN 7          /* EXPIREAT NX/GT */
#define PASSWORD_MAX REDIS_PASSWORD_MAX
#define DEFAULT_FAILOVER_MS 10000    /* how long a call waits for a new primary */
#define FAILOVER_MS_MAX 120000
#define WAIT_MAX 16                  /* replicas WAIT may ask for */
#define DEFAULT_WAIT_MS 1000
#define RETRY_PAUSE_MS 100           /* between asks while no primary answers */
#define MOVED_CHECK_MS 100           /* at most one "has it moved?" per this, per pool */

struct redis_conn {
	pthread_mutex_t lock;
	redisContext *c;               /* NULL: not connected */
	unsigned gen;                  /* the primary address it was made for */
};

struct redis_pool {
	char host[REDIS_HOST_MAX];     /* the primary; with sentinels, under addr_lock */
	int port;
	unsigned db;
	struct redis_auth auth;        /* user, auth_file: for the data nodes */
	unsigned timeout_ms;
	unsigned n_conns;
	atomic_uint next;              /* where the next caller starts looking */
	struct redis_conn *conns;
	/* Sentinel mode (redis-sentinel://): the primary is asked for. */
	struct redis_sentinels *sentinels;   /* NULL: a plain redis:// pool */
	pthread_mutex_t addr_lock;
	unsigned gen;                  /* bumped when the primary moves */
	int stale;                     /* ask the sentinels before the next connect */
	unsigned failover_ms;          /* how long a call retries for a primary */
	unsigned wait_n, wait_ms;      /* WAIT after each write; 0: none */
	atomic_llong moved_checked;    /* monotonic ms of the last redis_pool_moved ask */
};

void redis_cmd_arg(struct redis_cmd *c, const void *p, size_t len)
{
	c->argv[c->argc] = p;
	c->len[c->argc] = len;
	c->argc++;
}

void redis_cmd_str(struct redis_cmd *c, const char *s)
{
	redis_cmd_arg(c, s, strlen(s));
}

void redis_free_replies(redisReply **rep, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (rep[i])
			freeReplyObject(rep[i]);
		rep[i] = NULL;
	}
}

gba_err redis_exec_result(const redisReply *exec)
{
	if (exec->type != REDIS_REPLY_ARRAY)
		return GBA_ERR_STORE;
	for (size_t i = 0; i < exec->elements; i++)
		if (exec->element[i]->type == REDIS_REPLY_ERROR)
			return GBA_ERR_STORE;
	return GBA_OK;
}

/* ---- connections ------------------------------------------------------- */

static struct timeval timeout_tv(const struct redis_pool *p)
{
	struct timeval tv = { (time_t)(p->timeout_ms / 1000),
			      (suseconds_t)(p->timeout_ms % 1000) * 1000 };
	return tv;
}

/* Where the primary is now; with sentinels, asked for when stale. */
static gba_err primary_addr(struct redis_pool *p, char host[REDIS_HOST_MAX], int *port,
			    unsigned *gen)
{
	gba_err err = GBA_OK;

	if (!p->sentinels) {
		memcpy(host, p->host, sizeof(p->host));
		*port = p->port;
		*gen = 0;
		return GBA_OK;
	}
	/* One thread asks at a time; the others find the answer when it is done. */
	pthread_mutex_lock(&p->addr_lock);
	if (p->stale || !p->host[0]) {
		char h[REDIS_HOST_MAX];
		int pt = 0;

		err = redis_sentinel_master(p->sentinels, timeout_tv(p), h, &pt);
		if (!err) {
			if (strcmp(h, p->host) || pt != p->port) {
				memcpy(p->host, h, sizeof(h));
				p->port = pt;
				p->gen++;
			}
			p->stale = 0;
		}
	}
	memcpy(host, p->host, sizeof(p->host));
	*port = p->port;
	*gen = p->gen;
	pthread_mutex_unlock(&p->addr_lock);
	return err;
}

/* The primary we were told of failed us: ask the sentinels again. */
static void mark_stale(struct redis_pool *p, unsigned gen)
{
	if (!p->sentinels)
		return;
	pthread_mutex_lock(&p->addr_lock);
	if (p->gen == gen)
		p->stale = 1;
	pthread_mutex_unlock(&p->addr_lock);
}

static unsigned current_gen(struct redis_pool *p)
{
	unsigned gen;

	if (!p->sentinels)
		return 0;
	pthread_mutex_lock(&p->addr_lock);
	gen = p->gen;
	pthread_mutex_unlock(&p->addr_lock);
	return gen;
}

static gba_err connect_one(struct redis_pool *p, redisContext **out, unsigned *gen)
{
	char host[REDIS_HOST_MAX];
	int port;
	gba_err err = primary_addr(p, host, &port, gen);
	redisContext *c;
	redisReply *rep;

	if (err)
		return err;
	c = redisConnectWithTimeout(host, port, timeout_tv(p));
	if (!c)
		return GBA_ERR_NO_MEMORY;
	if (c->err || redisSetTimeout(c, timeout_tv(p)) != REDIS_OK) {
		redisFree(c);
		mark_stale(p, *gen);
		return GBA_ERR_UNAVAILABLE;
	}
	err = redis_authenticate(c, &p->auth);
	if (err) {
		redisFree(c);
		return err;
	}
	/* A sentinel's answer may be a moment old: write only to a primary. */
	if (p->sentinels && !redis_is_primary(c)) {
		redisFree(c);
		mark_stale(p, *gen);
		return GBA_ERR_UNAVAILABLE;
	}
	if (p->db) {
		rep = redisCommand(c, "SELECT %u", p->db);
		int ok = rep && rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "OK");
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
static struct redis_conn *acquire(struct redis_pool *p)
{
	unsigned start = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed) % p->n_conns;

	for (unsigned i = 0; i < p->n_conns; i++) {
		struct redis_conn *rc = &p->conns[(start + i) % p->n_conns];
		if (pthread_mutex_trylock(&rc->lock) == 0)
			return rc;
	}
	pthread_mutex_lock(&p->conns[start].lock);
	return &p->conns[start];
}

/* Send n commands in one write, read their n replies. */
static int pipeline_once(redisContext *c, const struct redis_cmd *cmds, size_t n,
			 redisReply **rep)
{
	for (size_t i = 0; i < n; i++)
		/* hiredis takes const char **: it reads the arguments only. */
		if (redisAppendCommandArgv(c, cmds[i].argc, (const char **)cmds[i].argv,
					   cmds[i].len) != REDIS_OK)
			return -1;
	for (size_t i = 0; i < n; i++) {
		void *r = NULL;
		if (redisGetReply(c, &r) != REDIS_OK || !r) {
			redis_free_replies(rep, i);
			return -1;
		}
		rep[i] = r;
	}
	return 0;
}

/*
 * An error that says this node is no (longer the) primary: a demoted
 * primary answers READONLY, one that lost its replicas MASTERDOWN, one
 * still loading LOADING; queued in MULTI they come back before EXECABORT.
 */
static int not_primary(const redisReply *r)
{
	static const char *const words[] = { "READONLY", "MASTERDOWN", "LOADING" };

	if (r->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < r->elements; i++)
			if (r->element[i] && r->element[i]->type == REDIS_REPLY_ERROR &&
			    not_primary(r->element[i]))
				return 1;
		return 0;
	}
	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(r->str, words[i]))
			return 1;
	return 0;
}

static int any_not_primary(redisReply **rep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (not_primary(rep[i]))
			return 1;
	return 0;
}

/*
 * An error reply that says "not now" rather than "no": a server loading
 * its data after a restart (LOADING), busy with a script (BUSY), a
 * replica without its master (MASTERDOWN), a cluster slot moving
 * (TRYAGAIN).  The caller answers 503 for these, as for a server that is
 * down, instead of taking them for a bad store (500).
 */
static int transient(const redisReply *r)
{
	static const char *const words[] = { "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN" };

	if (r->type != REDIS_REPLY_ERROR || !r->str)
		return 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i]);
		if (!strncmp(r->str, words[i], n) && (r->str[n] == ' ' || r->str[n] == '\0'))
			return 1;
	}
	return 0;
}

static int any_transient(redisReply **rep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (transient(rep[i]))
			return 1;
	return 0;
}

/*
 * WAIT wait_n wait_ms on the connection that wrote: GBA_OK when that many
 * replicas have the write, GBA_ERR_STORE_UNWRITABLE when fewer do in time
 * (the primary has it, but a failover now could lose it: the caller must
 * not acknowledge it), GBA_ERR_UNAVAILABLE when the connection broke.
 */
static gba_err wait_replicas(struct redis_pool *p, redisContext *c)
{
	redisReply *rep = redisCommand(c, "WAIT %u %u", p->wait_n, p->wait_ms);
	gba_err err;

	if (!rep)
		return GBA_ERR_UNAVAILABLE;
	if (rep->type != REDIS_REPLY_INTEGER)
		err = GBA_ERR_STORE;
	else
		err = rep->integer >= (long long)p->wait_n ? GBA_OK : GBA_ERR_STORE_UNWRITABLE;
	freeReplyObject(rep);
	return err;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* One try on rc: GBA_OK with the replies, or why not (rc dropped). */
static gba_err try_once(struct redis_pool *p, struct redis_conn *rc,
			const struct redis_cmd *cmds, size_t n, redisReply **rep, int write)
{
	gba_err err;

	if (rc->c && p->sentinels && rc->gen != current_gen(p)) {
		redisFree(rc->c);   /* made for a primary that has moved */
		rc->c = NULL;
	}
	if (!rc->c && (err = connect_one(p, &rc->c, &rc->gen)))
		return err;
	if (pipeline_once(rc->c, cmds, n, rep)) {
		err = GBA_ERR_UNAVAILABLE;
	} else if (p->sentinels && any_not_primary(rep, n)) {
		/* Refused before it ran: safe to send again to the new primary. */
		redis_free_replies(rep, n);
		err = GBA_ERR_UNAVAILABLE;
	} else if (any_transient(rep, n)) {
		/* "Not now" (a restarted Redis still loading): 503, not 500; the
		 * connection is sound, so it is kept. */
		redis_free_replies(rep, n);
		return GBA_ERR_UNAVAILABLE;
	} else {
		if (!write || !p->wait_n)
			return GBA_OK;
		err = wait_replicas(p, rc->c);
		if (err != GBA_ERR_UNAVAILABLE) {
			if (err)
				redis_free_replies(rep, n);
			return err;
		}
		redis_free_replies(rep, n);
	}
	redisFree(rc->c);
	rc->c = NULL;
	mark_stale(p, rc->gen);
	return err;
}

/*
 * A dropped connection (Redis restarted, idle timeout, CLIENT KILL) is
 * replaced and the pipeline sent once more.  With sentinels, a call keeps
 * asking them for the primary and trying it for up to failover_ms, so a
 * failover delays callers instead of failing them.
 */
static gba_err run(struct redis_pool *p, const struct redis_cmd *cmds, size_t n,
		   redisReply **rep, int write)
{
	struct redis_conn *rc = acquire(p);
	int64_t deadline = now_ms() + (p->sentinels ? p->failover_ms : 0);
	gba_err err;

	for (int attempt = 1;; attempt++) {
		err = try_once(p, rc, cmds, n, rep, write);
		if (err != GBA_ERR_UNAVAILABLE)
			break;
		if (!p->sentinels ? attempt >= 2 : now_ms() >= deadline)
			break;
		if (attempt >= 2)
			pause_ms(RETRY_PAUSE_MS);
	}
	pthread_mutex_unlock(&rc->lock);
	return err;
}

gba_err redis_pool_run(struct redis_pool *p, const struct redis_cmd *cmds, size_t n,
		       redisReply **rep)
{
	return run(p, cmds, n, rep, 0);
}

gba_err redis_pool_write(struct redis_pool *p, const struct redis_cmd *cmds, size_t n,
			 redisReply **rep)
{
	return run(p, cmds, n, rep, 1);
}

int redis_pool_moved(struct redis_pool *p)
{
	char host[REDIS_HOST_MAX];
	int port;
	unsigned before, after;

	if (!p->sentinels)
		return 0;
	/* Unknown B-TIDs are common (expired sessions) and may come in floods:
	 * ask the sentinels at most once per MOVED_CHECK_MS. */
	long long now = now_ms(), last = atomic_load(&p->moved_checked);
	if (now - last < MOVED_CHECK_MS ||
	    !atomic_compare_exchange_strong(&p->moved_checked, &last, now))
		return 0;
	before = current_gen(p);
	mark_stale(p, before);
	if (primary_addr(p, host, &port, &after))
		return 0;
	return after != before;
}

/* ---- opening ----------------------------------------------------------- */

/* A decimal number of len octets (1..15) in [min, max]. */
static int parse_uint(const char *s, size_t len, unsigned long min, unsigned long max,
		      unsigned long *v)
{
	char num[16], *end;
	unsigned long x;

	if (len == 0 || len >= sizeof(num) || s[0] < '0' || s[0] > '9')
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	x = strtoul(num, &end, 10);
	if (*end || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

/*
 * The password: the first line of path (a file the operator keeps 0600),
 * without its line end.  GBA_ERR_INVALID_ARG when it cannot be read, is
 * empty or is longer than PASSWORD_MAX.
 */
static gba_err read_password(struct redis_auth *a, const char *path)
{
	char buf[PASSWORD_MAX + 2];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return GBA_ERR_INVALID_ARG;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	if (n == 0 || n > PASSWORD_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return GBA_ERR_INVALID_ARG;
	}
	memcpy(a->password, buf, n);
	a->password[n] = '\0';
	a->password_len = n;
	explicit_bzero(buf, sizeof(buf));
	return GBA_OK;
}

/* The value of an option, as a C string (path or name). */
static int option_text(const char *v, size_t vlen, char *out, size_t size)
{
	if (vlen == 0 || vlen >= size || memchr(v, '\0', vlen))
		return -1;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return 0;
}

static int is_option(const char *q, size_t nlen, const char *name)
{
	return nlen == strlen(name) && !memcmp(q, name, nlen);
}

/* An option only a redis-sentinel:// URI takes; -1 when it is not one. */
static int sentinel_option(struct redis_pool *p, const char *q, size_t nlen, const char *v,
			   size_t vlen, gba_err *err)
{
	unsigned long x;
	char path[PATH_MAX];

	*err = GBA_OK;
	if (is_option(q, nlen, "db") && !parse_uint(v, vlen, 0, INT_MAX, &x))
		p->db = (unsigned)x;
	else if (is_option(q, nlen, "wait") && !parse_uint(v, vlen, 0, WAIT_MAX, &x))
		p->wait_n = (unsigned)x;
	else if (is_option(q, nlen, "wait_ms") && !parse_uint(v, vlen, 1, TIMEOUT_MS_MAX, &x))
		p->wait_ms = (unsigned)x;
	else if (is_option(q, nlen, "failover_ms") &&
		 !parse_uint(v, vlen, 0, FAILOVER_MS_MAX, &x))
		p->failover_ms = (unsigned)x;
	else if (is_option(q, nlen, "sentinel_user") &&
		 !option_text(v, vlen, p->sentinels->auth.user, sizeof(p->sentinels->auth.user)))
		;
	else if (is_option(q, nlen, "sentinel_auth_file") &&
		 !option_text(v, vlen, path, sizeof(path)))
		*err = read_password(&p->sentinels->auth, path);
	else
		return -1;
	return 0;
}

/*
 * name=value&name=value: pool, timeout_ms, user, auth_file; with sentinels
 * also db, wait, wait_ms, failover_ms, sentinel_user, sentinel_auth_file.
 */
static gba_err parse_options(struct redis_pool *p, const char *q)
{
	if (!*q)
		return GBA_ERR_INVALID_ARG;
	while (*q) {
		size_t len = strcspn(q, "&"), nlen, vlen;
		const char *eq = memchr(q, '=', len), *v;
		unsigned long x;
		char path[PATH_MAX];
		gba_err err = GBA_OK;

		if (!eq)
			return GBA_ERR_INVALID_ARG;
		nlen = (size_t)(eq - q);
		v = eq + 1;
		vlen = len - nlen - 1;
		if (is_option(q, nlen, "pool") && !parse_uint(v, vlen, 1, POOL_MAX, &x))
			p->n_conns = (unsigned)x;
		else if (is_option(q, nlen, "timeout_ms") &&
			 !parse_uint(v, vlen, 1, TIMEOUT_MS_MAX, &x))
			p->timeout_ms = (unsigned)x;
		else if (is_option(q, nlen, "user") &&
			 !option_text(v, vlen, p->auth.user, sizeof(p->auth.user)))
			;
		else if (is_option(q, nlen, "auth_file") && !option_text(v, vlen, path, sizeof(path)))
			err = read_password(&p->auth, path);
		else if (!p->sentinels || sentinel_option(p, q, nlen, v, vlen, &err))
			return GBA_ERR_INVALID_ARG;
		if (err)
			return err;
		q += len;
		if (*q == '&' && !*++q)
			return GBA_ERR_INVALID_ARG;   /* a trailing '&' */
	}
	return GBA_OK;
}

/* HOST:PORT[/DB][?options]; HOST may be [IPv6]. */
static gba_err parse_spec(struct redis_pool *p, const char *spec)
{
	const char *end = spec + strcspn(spec, "/?");
	unsigned long v;

	if (redis_parse_hostport(spec, (size_t)(end - spec), p->host, &p->port))
		return GBA_ERR_INVALID_ARG;
	if (*end == '/') {
		const char *db = end + 1, *db_end = db + strcspn(db, "?");
		p->db = 0;
		if (db_end > db) {
			if (parse_uint(db, (size_t)(db_end - db), 0, INT_MAX, &v))
				return GBA_ERR_INVALID_ARG;
			p->db = (unsigned)v;
		}
		end = db_end;
	}
	if (*end == '?')
		return parse_options(p, end + 1);
	return *end ? GBA_ERR_INVALID_ARG : GBA_OK;
}

/* HOST:PORT[,HOST:PORT...]/MASTERNAME[?options] */
static gba_err parse_sentinel_spec(struct redis_pool *p, const char *spec)
{
	const char *slash = strchr(spec, '/'), *name, *name_end;
	gba_err err;

	if (!slash)
		return GBA_ERR_INVALID_ARG;
	name = slash + 1;
	name_end = name + strcspn(name, "?");
	err = redis_sentinels_parse(p->sentinels, spec, (size_t)(slash - spec), name,
				    (size_t)(name_end - name));
	if (err)
		return err;
	if (*name_end == '?')
		err = parse_options(p, name_end + 1);
	/* WAIT blocks up to wait_ms: the socket must wait longer. */
	if (!err && p->wait_n && p->timeout_ms <= p->wait_ms)
		p->timeout_ms = p->wait_ms + DEFAULT_TIMEOUT_MS;
	return err;
}

/* The server answers, and is new enough for EXPIREAT NX/GT. */
static gba_err check_server(struct redis_pool *p)
{
	struct redis_cmd cmd = { 0 };
	redisReply *rep = NULL;
	unsigned long long major = 0;
	const char *ver;
	gba_err err;

	redis_cmd_str(&cmd, "INFO");
	redis_cmd_str(&cmd, "server");
	err = redis_pool_run(p, &cmd, 1, &rep);
	if (err)
		return err;
	if (rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "NOAUTH", 6)) {
		freeReplyObject(rep);
		return GBA_ERR_NOT_AUTHORIZED;   /* the server wants a password */
	}
	ver = rep->type == REDIS_REPLY_STRING ? strstr(rep->str, "redis_version:") : NULL;
	if (!ver || sscanf(ver + 14, "%llu", &major) != 1)
		err = GBA_ERR_STORE;
	else if (major < REDIS_VERSION_MIN)
		err = GBA_ERR_UNSUPPORTED;
	freeReplyObject(rep);
	return err;
}

void redis_pool_close(struct redis_pool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; p->conns && i < p->n_conns; i++) {
		if (p->conns[i].c)
			redisFree(p->conns[i].c);
		pthread_mutex_destroy(&p->conns[i].lock);
	}
	free(p->conns);
	if (p->sentinels) {
		explicit_bzero(p->sentinels, sizeof(*p->sentinels));
		free(p->sentinels);
	}
	pthread_mutex_destroy(&p->addr_lock);
	explicit_bzero(&p->auth, sizeof(p->auth));
	free(p);
}

static gba_err open_pool(struct redis_pool **out, const char *spec, int sentinel)
{
	struct redis_pool *p = calloc(1, sizeof(*p));
	gba_err err;

	if (!p)
		return GBA_ERR_NO_MEMORY;
	pthread_mutex_init(&p->addr_lock, NULL);
	p->n_conns = DEFAULT_POOL;
	p->timeout_ms = DEFAULT_TIMEOUT_MS;
	p->failover_ms = DEFAULT_FAILOVER_MS;
	p->wait_ms = DEFAULT_WAIT_MS;
	if (sentinel && !(p->sentinels = calloc(1, sizeof(*p->sentinels)))) {
		redis_pool_close(p);
		return GBA_ERR_NO_MEMORY;
	}
	err = sentinel ? parse_sentinel_spec(p, spec) : parse_spec(p, spec);
	if (!err && !(p->conns = calloc(p->n_conns, sizeof(*p->conns))))
		err = GBA_ERR_NO_MEMORY;
	if (err) {
		redis_pool_close(p);
		return err;
	}
	for (unsigned i = 0; i < p->n_conns; i++)
		pthread_mutex_init(&p->conns[i].lock, NULL);
	err = check_server(p);
	if (err) {
		redis_pool_close(p);
		return err;
	}
	*out = p;
	return GBA_OK;
}

gba_err redis_pool_open(struct redis_pool **out, const char *spec)
{
	return open_pool(out, spec, 0);
}

gba_err redis_pool_open_sentinel(struct redis_pool **out, const char *spec)
{
	return open_pool(out, spec, 1);
}
