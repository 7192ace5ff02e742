/* redis_pool.c - see redis_pool.h. */
#define _DEFAULT_SOURCE /* explicit_bzero */

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "redis_pool.h"

#define DEFAULT_POOL 4
#define POOL_MAX 64
#define DEFAULT_TIMEOUT_MS 1000
#define TIMEOUT_MS_MAX 60000
#define REDIS_VERSION_MIN 7          /* EXPIREAT NX/GT */
#define PASSWORD_MAX 512             /* octets of an auth_file's password */

struct redis_conn {
	pthread_mutex_t lock;
	redisContext *c;               /* NULL: not connected */
};

struct redis_pool {
	char host[256];
	int port;
	unsigned db;
	char user[128];                /* ACL user for AUTH; "": the default user */
	char password[PASSWORD_MAX + 1]; /* from auth_file; "": no AUTH */
	size_t password_len;
	unsigned timeout_ms;
	unsigned n_conns;
	atomic_uint next;              /* where the next caller starts looking */
	struct redis_conn *conns;
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

/*
 * AUTH [user] password on a fresh connection.  The password goes out as a
 * binary-safe argument and is never logged; hiredis's copy of the command
 * is freed but not wiped (hiredis 0.14 has no allocator hooks).
 */
static gba_err authenticate(const struct redis_pool *p, redisContext *c)
{
	const char *argv[3] = { "AUTH" };
	size_t len[3] = { 4 };
	int argc = 1;
	redisReply *rep;
	gba_err err;

	if (p->user[0]) {
		argv[argc] = p->user;
		len[argc++] = strlen(p->user);
	}
	argv[argc] = p->password;
	len[argc++] = p->password_len;
	rep = redisCommandArgv(c, argc, argv, len);
	if (!rep)
		return GBA_ERR_UNAVAILABLE;
	err = rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "OK") ? GBA_OK
									 : GBA_ERR_NOT_AUTHORIZED;
	freeReplyObject(rep);
	return err;
}

static gba_err connect_one(const struct redis_pool *p, redisContext **out)
{
	redisContext *c = redisConnectWithTimeout(p->host, p->port, timeout_tv(p));
	redisReply *rep;

	if (!c)
		return GBA_ERR_NO_MEMORY;
	if (c->err || redisSetTimeout(c, timeout_tv(p)) != REDIS_OK) {
		redisFree(c);
		return GBA_ERR_UNAVAILABLE;
	}
	if (p->password_len) {
		gba_err err = authenticate(p, c);
		if (err) {
			redisFree(c);
			return err;
		}
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

gba_err redis_pool_run(struct redis_pool *p, const struct redis_cmd *cmds, size_t n,
		       redisReply **rep)
{
	struct redis_conn *rc = acquire(p);
	gba_err err = GBA_ERR_UNAVAILABLE;

	/* A dropped connection (Redis restarted, idle timeout, CLIENT KILL) is
	 * replaced and the pipeline sent once more. */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!rc->c && (err = connect_one(p, &rc->c)))
			break;
		if (!pipeline_once(rc->c, cmds, n, rep)) {
			err = GBA_OK;
			if (any_transient(rep, n)) {
				redis_free_replies(rep, n);
				err = GBA_ERR_UNAVAILABLE;
			}
			break;
		}
		err = GBA_ERR_UNAVAILABLE;
		redisFree(rc->c);
		rc->c = NULL;
	}
	pthread_mutex_unlock(&rc->lock);
	return err;
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
static gba_err read_password(struct redis_pool *p, const char *path)
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
	memcpy(p->password, buf, n);
	p->password[n] = '\0';
	p->password_len = n;
	explicit_bzero(buf, sizeof(buf));
	return GBA_OK;
}

/* name=value&name=value: pool, timeout_ms, user, auth_file. */
static gba_err parse_options(struct redis_pool *p, const char *q)
{
	if (!*q)
		return GBA_ERR_INVALID_ARG;
	while (*q) {
		size_t len = strcspn(q, "&"), nlen, vlen;
		const char *eq = memchr(q, '=', len);
		unsigned long v;

		if (!eq)
			return GBA_ERR_INVALID_ARG;
		nlen = (size_t)(eq - q);
		vlen = len - nlen - 1;
		if (nlen == 4 && !memcmp(q, "pool", 4) && !parse_uint(eq + 1, vlen, 1, POOL_MAX, &v))
			p->n_conns = (unsigned)v;
		else if (nlen == 10 && !memcmp(q, "timeout_ms", 10) &&
			 !parse_uint(eq + 1, vlen, 1, TIMEOUT_MS_MAX, &v))
			p->timeout_ms = (unsigned)v;
		else if (nlen == 4 && !memcmp(q, "user", 4) && vlen > 0 && vlen < sizeof(p->user)) {
			memcpy(p->user, eq + 1, vlen);
			p->user[vlen] = '\0';
		} else if (nlen == 9 && !memcmp(q, "auth_file", 9) && vlen > 0 && vlen < PATH_MAX) {
			char path[PATH_MAX];
			gba_err err;

			memcpy(path, eq + 1, vlen);
			path[vlen] = '\0';
			err = read_password(p, path);
			if (err)
				return err;
		} else
			return GBA_ERR_INVALID_ARG;
		q += len;
		if (*q == '&' && !*++q)
			return GBA_ERR_INVALID_ARG;   /* a trailing '&' */
	}
	return GBA_OK;
}

/* HOST:PORT[/DB][?options]; HOST may be [IPv6]. */
static gba_err parse_spec(struct redis_pool *p, const char *spec)
{
	const char *end = spec + strcspn(spec, "/?"), *colon, *host = spec, *host_end;
	unsigned long v;

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
	if (!colon || host_end == host || (size_t)(host_end - host) >= sizeof(p->host))
		return GBA_ERR_INVALID_ARG;
	memcpy(p->host, host, (size_t)(host_end - host));
	p->host[host_end - host] = '\0';
	if (parse_uint(colon + 1, (size_t)(end - colon - 1), 1, 65535, &v))
		return GBA_ERR_INVALID_ARG;
	p->port = (int)v;
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
	explicit_bzero(p->password, sizeof(p->password));
	free(p);
}

gba_err redis_pool_open(struct redis_pool **out, const char *spec)
{
	struct redis_pool *p = calloc(1, sizeof(*p));
	gba_err err;

	if (!p)
		return GBA_ERR_NO_MEMORY;
	p->n_conns = DEFAULT_POOL;
	p->timeout_ms = DEFAULT_TIMEOUT_MS;
	err = parse_spec(p, spec);
	if (err) {
		explicit_bzero(p->password, sizeof(p->password));
		free(p);
		return err;
	}
	p->conns = calloc(p->n_conns, sizeof(*p->conns));
	if (!p->conns) {
		free(p);
		return GBA_ERR_NO_MEMORY;
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
