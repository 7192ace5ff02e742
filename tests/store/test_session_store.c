/*
 * test_session_store.c - the session store, through its public interface.
 *
 *   test_session_store                  the SQLite back end (temp files)
 *   test_session_store --redis URI      the Redis back end, against a real
 *                                       redis-server (run_redis.py starts it)
 *
 * The common cases run on both back ends; each back end then has its own:
 * restart, group commit and file mode for SQLite; TTLs, value size, two
 * handles, reconnection and a server that went away for Redis.
 */
#define _GNU_SOURCE /* memmem, mkdtemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <sqlite3.h>

#include <gba/session_store.h>
#include <gba/util.h>

#include "full_disk.h"

#define DOMAIN "bsf.example.org"
#define IMPI "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
#define GUSS "<guss><bsfInfo/><ussList><uss id=\"1\"/></ussList></guss>"
#define LIFETIME 86400

/* What a test opens: a fresh, empty store of the back end under test. */
static const char *redis_uri;     /* NULL: SQLite */
static const char *redis_auth_host; /* HOST:PORT of a server that wants a password */
static const char *redis_auth_dir;  /* its password files (run_redis.py) */
static int64_t NOW;               /* real time: Redis expires keys by it */
static char tmp_dir[256];
static unsigned db_counter;
static char last_sqlite_path[512];

/* ---- helpers ----------------------------------------------------------- */

static redisContext *redis_raw(void)
{
	char host[64];
	int port = 0;
	unsigned db = 0;
	redisContext *c;

	assert_true(sscanf(redis_uri, "redis://%63[^:]:%d/%u", host, &port, &db) >= 2);
	c = redisConnect(host, port);
	assert_non_null(c);
	assert_int_equal(c->err, 0);
	if (db) {
		redisReply *r = redisCommand(c, "SELECT %u", db);
		assert_non_null(r);
		freeReplyObject(r);
	}
	return c;
}

static long long redis_int(redisContext *c, const char *fmt, const void *key, size_t len)
{
	redisReply *r = redisCommand(c, fmt, key, len);
	long long v;

	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

static struct gba_session_store *open_fresh(void)
{
	struct gba_session_store *st = NULL;
	char uri[600];

	if (redis_uri) {
		redisContext *c = redis_raw();
		redisReply *r = redisCommand(c, "FLUSHDB");
		assert_non_null(r);
		freeReplyObject(r);
		redisFree(c);
		assert_int_equal(gba_session_store_open(&st, redis_uri), GBA_OK);
		return st;
	}
	snprintf(last_sqlite_path, sizeof(last_sqlite_path), "%s/s%u.db", tmp_dir, db_counter++);
	snprintf(uri, sizeof(uri), "sqlite:%s", last_sqlite_path);
	assert_int_equal(gba_session_store_open(&st, uri), GBA_OK);
	return st;
}

/* A session numbered n: RAND, B-TID, Ks all derived from n. */
static void make_session(struct gba_session *s, unsigned n, const char *impi, int64_t created)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 16; i++)
		s->rand[i] = (uint8_t)(n >> (8 * (i % 4)) ^ (i * 37));
	assert_int_equal(gba_btid(s->btid, sizeof(s->btid), s->rand, DOMAIN, strlen(DOMAIN)),
			 GBA_OK);
	snprintf(s->impi, sizeof(s->impi), "%s", impi);
	for (int i = 0; i < 32; i++)
		s->ks[i] = (uint8_t)(n + i);
	s->created = created;
	s->expiry = created + LIFETIME;
	s->type = n % 2 ? GBA_TYPE_U : GBA_TYPE_ME;
}

static gba_err get_s(struct gba_session_store *st, const struct gba_session *s, int64_t now,
		     struct gba_session *out)
{
	return gba_session_store_get(st, s->btid, strlen(s->btid), now, out, NULL, 0, NULL);
}

static void assert_same(const struct gba_session *a, const struct gba_session *b)
{
	assert_string_equal(a->btid, b->btid);
	assert_string_equal(a->impi, b->impi);
	assert_memory_equal(a->rand, b->rand, 16);
	assert_memory_equal(a->ks, b->ks, 32);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->expiry, b->expiry);
	assert_int_equal(a->type, b->type);
}

/* ---- common cases ------------------------------------------------------ */

/*
 * Sessions n and n+1 of IMPI (the first with GUSS, the second with none:
 * the user's stays) and n+2 of another user without a GUSS, all put.
 */
static void put_three(struct gba_session_store *st, unsigned n, struct gba_session *a,
		      struct gba_session *b, struct gba_session *c)
{
	make_session(a, n, IMPI, NOW);
	make_session(b, n + 1, IMPI, NOW + 10);
	make_session(c, n + 2, "someone-else@ims.example.org", NOW);
	assert_int_equal(gba_session_store_put(st, a, GUSS, strlen(GUSS)), GBA_OK);
	assert_int_equal(gba_session_store_put(st, b, NULL, 0), GBA_OK);
	assert_int_equal(gba_session_store_put(st, c, NULL, 0), GBA_OK);
}


static void test_put_get(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s, out;
	char guss[256];
	size_t guss_len = 99;

	(void)state;
	make_session(&s, 1, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s, GUSS, strlen(GUSS)), GBA_OK);
	assert_int_equal(gba_session_store_get(st, s.btid, strlen(s.btid), NOW + 1, &out, guss,
					       sizeof(guss), &guss_len), GBA_OK);
	assert_same(&s, &out);
	assert_int_equal(guss_len, strlen(GUSS));
	assert_string_equal(guss, GUSS);
	/* Without the GUSS buffer, and without a length. */
	assert_int_equal(get_s(st, &s, NOW + 1, &out), GBA_OK);
	assert_same(&s, &out);
	gba_session_store_close(st);
}

/*
 * TS 33.220 4.5.2: a B-TID names one session.  A put under the B-TID of a
 * live session (a stored-vector HSS gave the same RAND again) is refused
 * and the first session stays as it was; an expired one is replaced.
 */
static void test_collision(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s, s2, e, e2, out;
	uint64_t live = 0;

	(void)state;
	make_session(&s, 2, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s, NULL, 0), GBA_OK);
	s2 = s;
	snprintf(s2.impi, sizeof(s2.impi), "other@ims.example.org");
	memset(s2.ks, 0x5a, 32);
	s2.created++;
	s2.expiry += 100;
	s2.type = GBA_TYPE_U;
	assert_int_equal(gba_session_store_put(st, &s2, NULL, 0), GBA_ERR_EXISTS);
	assert_int_equal(get_s(st, &s, NOW, &out), GBA_OK);
	assert_same(&s, &out);
	assert_int_equal(gba_session_store_stats(st, NOW, &live, NULL), GBA_OK);
	assert_int_equal(live, 1);

	make_session(&e, 7, IMPI, NOW - 2 * LIFETIME);
	assert_int_equal(gba_session_store_put(st, &e, NULL, 0), GBA_OK);
	e2 = e;
	snprintf(e2.impi, sizeof(e2.impi), "other@ims.example.org");
	e2.created = NOW;
	e2.expiry = NOW + LIFETIME;
	assert_int_equal(gba_session_store_put(st, &e2, NULL, 0), GBA_OK);
	assert_int_equal(get_s(st, &e2, NOW, &out), GBA_OK);
	assert_same(&e2, &out);
	gba_session_store_close(st);
}

static void test_delete(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s, out;

	(void)state;
	make_session(&s, 3, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s, NULL, 0), GBA_OK);
	assert_int_equal(gba_session_store_delete(st, s.btid, strlen(s.btid)), GBA_OK);
	assert_int_equal(get_s(st, &s, NOW, &out), GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_session_store_delete(st, s.btid, strlen(s.btid)), GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_session_store_delete(st, "junk", 4), GBA_ERR_NOT_FOUND);
	gba_session_store_close(st);
}

static void test_expired_is_not_found(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s, out;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	make_session(&s, 4, IMPI, now);
	assert_int_equal(gba_session_store_put(st, &s, GUSS, strlen(GUSS)), GBA_OK);
	assert_int_equal(get_s(st, &s, s.expiry - 1, &out), GBA_OK);
	assert_int_equal(get_s(st, &s, s.expiry, &out), GBA_ERR_NOT_FOUND);
	assert_int_equal(get_s(st, &s, s.expiry + 1000, &out), GBA_ERR_NOT_FOUND);
	/* Already expired when stored: never found. */
	make_session(&s, 5, IMPI, now - 2 * LIFETIME);
	assert_int_equal(gba_session_store_put(st, &s, NULL, 0), GBA_OK);
	assert_int_equal(get_s(st, &s, now, &out), GBA_ERR_NOT_FOUND);
	gba_session_store_close(st);
}

static void test_unknown_and_malformed_btid(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s, out;
	char big[GBA_BTID_MAX + 10];
	static const char *const bad[] = {
		"", "@", "no-at-sign", "@" DOMAIN, "AAAAAAAAAAAAAAAAAAAAAA==@",
		"!!!!@" DOMAIN, "AAAA@" DOMAIN, "AAAAAAAAAAAAAAAAAAAAAA=@" DOMAIN,
		"AAAAAAAAAAAAAAAAAAAAAA==@" DOMAIN,   /* well-formed, unknown */
		"AAAAAAAAAAAAAAAAAAAAAA==@unknown.example.org",
	};

	(void)state;
	make_session(&s, 6, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s, NULL, 0), GBA_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gba_session_store_get(st, bad[i], strlen(bad[i]), NOW, &out,
						       NULL, 0, NULL), GBA_ERR_NOT_FOUND);
	memset(big, 'A', sizeof(big));
	assert_int_equal(gba_session_store_get(st, big, sizeof(big), NOW, &out, NULL, 0, NULL),
			 GBA_ERR_NOT_FOUND);
	/* The right B-TID with a NUL inside, or cut short. */
	char nul[GBA_BTID_MAX + 1];
	memcpy(nul, s.btid, strlen(s.btid) + 1);
	nul[5] = '\0';
	assert_int_equal(gba_session_store_get(st, nul, strlen(s.btid), NOW, &out, NULL, 0, NULL),
			 GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_session_store_get(st, s.btid, strlen(s.btid) - 1, NOW, &out, NULL, 0,
					       NULL), GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_session_store_get(NULL, s.btid, strlen(s.btid), NOW, &out, NULL, 0,
					       NULL), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_session_store_get(st, NULL, 0, NOW, &out, NULL, 0, NULL),
			 GBA_ERR_INVALID_ARG);
	gba_session_store_close(st);
}

static void test_bad_put(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s, bad;
	char *guss = malloc(GBA_GUSS_MAX + 1);

	(void)state;
	assert_non_null(guss);
	make_session(&s, 7, IMPI, NOW);
	bad = s;
	bad.rand[0] ^= 1;   /* the B-TID no longer names this RAND */
	assert_int_equal(gba_session_store_put(st, &bad, NULL, 0), GBA_ERR_INVALID_ARG);
	bad = s;
	snprintf(bad.btid, sizeof(bad.btid), "not a b-tid");
	assert_int_equal(gba_session_store_put(st, &bad, NULL, 0), GBA_ERR_INVALID_ARG);
	bad = s;
	memset(bad.btid, 'A', sizeof(bad.btid));   /* no NUL at all */
	assert_int_equal(gba_session_store_put(st, &bad, NULL, 0), GBA_ERR_INVALID_ARG);
	bad = s;
	bad.impi[0] = '\0';
	assert_int_equal(gba_session_store_put(st, &bad, NULL, 0), GBA_ERR_INVALID_ARG);
	bad = s;
	memset(bad.impi, 'x', sizeof(bad.impi));
	assert_int_equal(gba_session_store_put(st, &bad, NULL, 0), GBA_ERR_INVALID_ARG);
	bad = s;
	bad.type = (enum gba_type)7;
	assert_int_equal(gba_session_store_put(st, &bad, NULL, 0), GBA_ERR_INVALID_ARG);
	bad = s;
	bad.expiry = bad.created - 1;
	assert_int_equal(gba_session_store_put(st, &bad, NULL, 0), GBA_ERR_INVALID_ARG);
	bad = s;
	bad.created = -5;
	assert_int_equal(gba_session_store_put(st, &bad, NULL, 0), GBA_ERR_INVALID_ARG);
	bad = s;
	bad.expiry = INT64_MAX;
	assert_int_equal(gba_session_store_put(st, &bad, NULL, 0), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_session_store_put(st, &s, NULL, 5), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_session_store_put(NULL, &s, NULL, 0), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_session_store_put(st, NULL, NULL, 0), GBA_ERR_INVALID_ARG);
	/* Oversize GUSS: refused, nothing stored. */
	memset(guss, 'g', GBA_GUSS_MAX + 1);
	assert_int_equal(gba_session_store_put(st, &s, guss, GBA_GUSS_MAX + 1), GBA_ERR_TOO_LARGE);
	struct gba_session out;
	assert_int_equal(get_s(st, &s, NOW, &out), GBA_ERR_NOT_FOUND);
	/* The largest GUSS allowed goes through and comes back whole. */
	assert_int_equal(gba_session_store_put(st, &s, guss, GBA_GUSS_MAX), GBA_OK);
	char *back = malloc(GBA_GUSS_MAX);
	size_t len = 0;
	assert_non_null(back);
	assert_int_equal(gba_session_store_get(st, s.btid, strlen(s.btid), NOW, &out, back,
					       GBA_GUSS_MAX, &len), GBA_OK);
	assert_int_equal(len, GBA_GUSS_MAX);
	assert_memory_equal(back, guss, GBA_GUSS_MAX);
	free(back);
	free(guss);
	gba_session_store_close(st);
}

static void test_guss_shared_per_impi(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session a, b, c, d, out;
	static const char guss2[] = "<guss><v2/></guss>";
	char buf[256];
	size_t len;

	(void)state;
	put_three(st, 10, &a, &b, &c);
	assert_int_equal(gba_session_store_get(st, b.btid, strlen(b.btid), NOW, &out, buf,
					       sizeof(buf), &len), GBA_OK);
	assert_string_equal(buf, GUSS);
	/* Another user has none. */
	assert_int_equal(gba_session_store_get(st, c.btid, strlen(c.btid), NOW, &out, buf,
					       sizeof(buf), &len), GBA_OK);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	/* A new session's GUSS replaces it for every session of the user. */
	make_session(&d, 13, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &d, guss2, strlen(guss2)), GBA_OK);
	assert_int_equal(gba_session_store_get(st, a.btid, strlen(a.btid), NOW, &out, buf,
					       sizeof(buf), &len), GBA_OK);
	assert_string_equal(buf, guss2);
	gba_session_store_close(st);
}

/* The same RAND under two BSF domains: two B-TIDs, two sessions. */
static void test_two_domains(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session a, b, out;
	static const char other[] = "bsf.other.example.net";

	(void)state;
	make_session(&a, 20, IMPI, NOW);
	b = a;
	assert_int_equal(gba_btid(b.btid, sizeof(b.btid), b.rand, other, strlen(other)), GBA_OK);
	snprintf(b.impi, sizeof(b.impi), "b@example.net");
	assert_int_equal(get_s(st, &b, NOW, &out), GBA_ERR_NOT_FOUND);   /* domain unknown */
	assert_int_equal(gba_session_store_put(st, &a, NULL, 0), GBA_OK);
	assert_int_equal(get_s(st, &b, NOW, &out), GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_session_store_put(st, &b, NULL, 0), GBA_OK);
	assert_int_equal(get_s(st, &a, NOW, &out), GBA_OK);
	assert_string_equal(out.impi, IMPI);
	assert_int_equal(get_s(st, &b, NOW, &out), GBA_OK);
	assert_string_equal(out.impi, "b@example.net");
	assert_int_equal(gba_session_store_delete(st, b.btid, strlen(b.btid)), GBA_OK);
	assert_int_equal(get_s(st, &a, NOW, &out), GBA_OK);
	gba_session_store_close(st);
}

static void test_guss_buffer(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s, out;
	char buf[sizeof(GUSS)];
	size_t len = 0;

	(void)state;
	make_session(&s, 13, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s, GUSS, strlen(GUSS)), GBA_OK);
	/* One octet short: an error, and the length needed. */
	assert_int_equal(gba_session_store_get(st, s.btid, strlen(s.btid), NOW, &out, buf,
					       strlen(GUSS) - 1, &len), GBA_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(len, strlen(GUSS));
	/* Exactly the length: copied, no room for the NUL. */
	memset(buf, '#', sizeof(buf));
	assert_int_equal(gba_session_store_get(st, s.btid, strlen(s.btid), NOW, &out, buf,
					       strlen(GUSS), &len), GBA_OK);
	assert_memory_equal(buf, GUSS, strlen(GUSS));
	assert_int_equal(buf[strlen(GUSS)], '#');
	/* Only the length. */
	len = 0;
	assert_int_equal(gba_session_store_get(st, s.btid, strlen(s.btid), NOW, &out, NULL, 0,
					       &len), GBA_OK);
	assert_int_equal(len, strlen(GUSS));
	gba_session_store_close(st);
}

static void test_stats(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s;
	uint64_t live = 99, bytes = 0;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	assert_int_equal(gba_session_store_stats(st, now, &live, &bytes), GBA_OK);
	assert_int_equal(live, 0);
	for (unsigned i = 0; i < 50; i++) {
		make_session(&s, 100 + i, IMPI, now - (i < 10 ? 2 * LIFETIME : 0));
		assert_int_equal(gba_session_store_put(st, &s, GUSS, strlen(GUSS)), GBA_OK);
	}
	assert_int_equal(gba_session_store_stats(st, now, &live, &bytes), GBA_OK);
	assert_int_equal(live, 40);
	assert_true(bytes > 0);
	assert_int_equal(gba_session_store_stats(st, now, NULL, NULL), GBA_OK);
	gba_session_store_close(st);
}

/* ---- concurrency ------------------------------------------------------- */

#define THREADS 8
#define PER_THREAD 300

struct worker {
	struct gba_session_store *st;
	unsigned id;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct gba_session s, out;
	char impi[64];

	snprintf(impi, sizeof(impi), "user%u@ims.example.org", w->id);
	for (unsigned i = 0; i < PER_THREAD; i++) {
		make_session(&s, w->id * 100000 + i, impi, NOW);
		if (gba_session_store_put(w->st, &s, GUSS, strlen(GUSS)) != GBA_OK)
			w->failures++;
		if (get_s(w->st, &s, NOW, &out) != GBA_OK || memcmp(out.ks, s.ks, 32) ||
		    strcmp(out.impi, impi))
			w->failures++;
		if (i % 10 == 0 && gba_session_store_delete(w->st, s.btid, strlen(s.btid)))
			w->failures++;
	}
	return NULL;
}

/* THREADS workers at once on st; then every kept session is there. */
static void run_workers(struct gba_session_store *st)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];

	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ st, i + 1, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
}

static void assert_workers_kept(struct gba_session_store *st)
{
	uint64_t live = 0;

	assert_int_equal(gba_session_store_stats(st, NOW, &live, NULL), GBA_OK);
	assert_int_equal(live, THREADS * (PER_THREAD - PER_THREAD / 10));
}

static void test_concurrency(void **state)
{
	struct gba_session_store *st = open_fresh();

	(void)state;
	run_workers(st);
	assert_workers_kept(st);
	gba_session_store_close(st);
}

static void test_bad_uris(void **state)
{
	struct gba_session_store *st = (void *)1;
	static const char *const bad[] = {
		"", "sqlite", "sqlite:", "mysql://x", "SQLITE:/tmp/x", "redis://", "redis://host",
		"redis://:6379", "redis://127.0.0.1:0", "redis://127.0.0.1:65536",
		"redis://127.0.0.1:6379x", "redis://127.0.0.1:6379/x", "redis://127.0.0.1:6379?pool=0",
		"redis://127.0.0.1:6379?pool=1000", "redis://127.0.0.1:6379?nope=1",
		"redis://[::1:6379", "sqlite:/tmp/x.db?commit_ms=x", "sqlite:/tmp/x.db?commit_ms=5000",
		"sqlite:/tmp/x.db?bogus=1", "sqlite:/tmp/x.db?batch=0", "sqlite:?commit_ms=1",
		"sqlite:/tmp/x.db?exclusive=2", "sqlite:/tmp/x.db?ckpt_pages=99", "sqlite:/tmp/x.db?commit_ms=", "sqlite:/tmp/x.db?=1",
		"sqlite:/tmp/x.db?mmap_mb=65537", "sqlite:/tmp/x.db?mmap_mb=-1",
		"sqlite:/tmp/x.db?commit_ms=1&", "sqlite:/tmp/x.db?commit_ms=1&&batch=2",
		"redis://127.0.0.1:6379?timeout_ms=0", "redis://127.0.0.1:6379/0?pool=2&",
		/* Sentinel: a master name and at most 8 sentinels; its options only there. */
		"redis-sentinel://", "redis-sentinel://127.0.0.1:26379",
		"redis-sentinel://127.0.0.1:26379/", "redis-sentinel://127.0.0.1:26379/?db=1",
		"redis-sentinel://127.0.0.1:26379,/m", "redis-sentinel://,127.0.0.1:26379/m",
		"redis-sentinel://127.0.0.1/m", "redis-sentinel://127.0.0.1:0/m",
		"redis-sentinel://a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1/m",
		"redis-sentinel://127.0.0.1:26379/m?wait=x", "redis-sentinel://127.0.0.1:26379/m?wait=17",
		"redis-sentinel://127.0.0.1:26379/m?wait_ms=0", "redis-sentinel://127.0.0.1:26379/m?db=x",
		"redis-sentinel://127.0.0.1:26379/m?failover_ms=999999",
		"redis-sentinel://127.0.0.1:26379/m?sentinel_auth_file=/nonexistent/pass",
		"redis-sentinel://127.0.0.1:26379/m?nope=1", "redis://127.0.0.1:6379?wait=1",
		"redis://127.0.0.1:6379?sentinel_user=x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gba_err err = gba_session_store_open(&st, bad[i]);
		if (err != GBA_ERR_INVALID_ARG)
			fail_msg("URI '%s': %s", bad[i], gba_err_name(err));
		assert_null(st);
	}
	assert_int_equal(gba_session_store_open(NULL, "sqlite:/tmp/x"), GBA_ERR_INVALID_ARG);
	assert_int_equal(gba_session_store_open(&st, NULL), GBA_ERR_INVALID_ARG);
	/* Well-formed, but nothing there. */
	assert_int_equal(gba_session_store_open(&st, "sqlite:/nonexistent-dir/x/s.db"),
			 GBA_ERR_STORE);
	assert_int_equal(gba_session_store_open(&st, "redis://127.0.0.1:1/0?timeout_ms=500"),
			 GBA_ERR_UNAVAILABLE);
	/* No sentinel answers (failover_ms=0: no waiting for one). */
	assert_int_equal(gba_session_store_open(&st, "redis-sentinel://127.0.0.1:1,127.0.0.1:2/m"
						     "?failover_ms=0&timeout_ms=200"),
			 GBA_ERR_UNAVAILABLE);
	gba_session_store_close(NULL);
}

/* ---- SQLite ------------------------------------------------------------ */

static struct gba_session_store *reopen(const char *options)
{
	struct gba_session_store *st = NULL;
	char uri[600];

	snprintf(uri, sizeof(uri), "sqlite:%s%s", last_sqlite_path, options);
	assert_int_equal(gba_session_store_open(&st, uri), GBA_OK);
	return st;
}

static void test_sqlite_restart(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s[3], out;
	char buf[256];
	size_t len;

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		make_session(&s[i], 200 + i, IMPI, NOW);
		assert_int_equal(gba_session_store_put(st, &s[i], GUSS, strlen(GUSS)), GBA_OK);
	}
	gba_session_store_close(st);
	st = reopen("");
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(gba_session_store_get(st, s[i].btid, strlen(s[i].btid), NOW, &out,
						       buf, sizeof(buf), &len), GBA_OK);
		assert_same(&s[i], &out);
		assert_string_equal(buf, GUSS);
	}
	gba_session_store_close(st);
	/* With group commit, close() commits what is still pending. */
	st = reopen("?commit_ms=1000&batch=100000");
	make_session(&s[0], 210, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s[0], NULL, 0), GBA_OK);
	gba_session_store_close(st);
	st = reopen("");
	assert_int_equal(get_s(st, &s[0], NOW, &out), GBA_OK);
	gba_session_store_close(st);
}

/*
 * A collision is refused when put() is called, whichever holds the live
 * session: the stage (group commit), the file (written before), or, with
 * commit_ms=0, the unique index itself; the store stays writable.
 */
static void test_sqlite_collision(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session_store_health h;
	struct gba_session a, b, twin, out;

	(void)state;
	make_session(&a, 400, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &a, NULL, 0), GBA_OK);
	gba_session_store_close(st);
	st = reopen("?commit_ms=1000&batch=100000");
	twin = a;
	snprintf(twin.impi, sizeof(twin.impi), "twin@ims.example.org");
	twin.created++;
	assert_int_equal(gba_session_store_put(st, &twin, NULL, 0), GBA_ERR_EXISTS);   /* file */
	make_session(&b, 401, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &b, NULL, 0), GBA_OK);
	twin = b;
	snprintf(twin.impi, sizeof(twin.impi), "twin@ims.example.org");
	assert_int_equal(gba_session_store_put(st, &twin, NULL, 0), GBA_ERR_EXISTS);   /* stage */
	gba_session_store_close(st);
	st = reopen("?commit_ms=0");
	assert_int_equal(gba_session_store_put(st, &twin, NULL, 0), GBA_ERR_EXISTS);   /* index */
	gba_session_store_health(st, &h);
	assert_int_equal(h.writable, 1);
	assert_int_equal(get_s(st, &a, NOW, &out), GBA_OK);
	assert_same(&a, &out);
	assert_int_equal(get_s(st, &b, NOW, &out), GBA_OK);
	assert_same(&b, &out);
	gba_session_store_close(st);
}

/* Group commit: another connection sees a put once its window has passed. */
static void test_sqlite_group_commit(void **state)
{
	struct gba_session_store *w, *r;
	struct gba_session s, out;
	int seen = 0;

	(void)state;
	w = open_fresh();
	gba_session_store_close(w);
	w = reopen("?commit_ms=50");
	r = reopen("");
	make_session(&s, 300, IMPI, NOW);
	assert_int_equal(gba_session_store_put(w, &s, GUSS, strlen(GUSS)), GBA_OK);
	/* The writer sees its own batch at once. */
	assert_int_equal(get_s(w, &s, NOW, &out), GBA_OK);
	/* The flusher commits it within the window; wait at most 5 s. */
	for (int i = 0; i < 500 && !seen; i++) {
		seen = get_s(r, &s, NOW, &out) == GBA_OK;
		if (!seen)
			usleep(10000);
	}
	assert_true(seen);
	gba_session_store_close(r);
	gba_session_store_close(w);
}

/*
 * Group commit stages puts in memory until the flusher writes them
 * (commit_ms=1000 here: nothing is written before stats() asks): gets,
 * GUSS look-ups and deletes see the stage first, and what was deleted
 * while staged never reaches the file.
 */
static void test_sqlite_staged(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session a, b, c, d, out;
	static const char guss2[] = "<guss><v2/></guss>";
	uint64_t live = 0;
	char buf[256];
	size_t len;

	(void)state;
	gba_session_store_close(st);
	st = reopen("?commit_ms=1000");
	put_three(st, 400, &a, &b, &c);
	/* b has no GUSS of its own: the user's staged one. */
	assert_int_equal(gba_session_store_get(st, b.btid, strlen(b.btid), NOW, &out, buf,
					       sizeof(buf), &len), GBA_OK);
	assert_same(&out, &b);
	assert_string_equal(buf, GUSS);
	assert_int_equal(get_s(st, &b, b.expiry, &out), GBA_ERR_NOT_FOUND);
	/* Deleted while staged: gone, and a second delete finds nothing. */
	assert_int_equal(gba_session_store_delete(st, a.btid, strlen(a.btid)), GBA_OK);
	assert_int_equal(get_s(st, &a, NOW, &out), GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_session_store_delete(st, a.btid, strlen(a.btid)), GBA_ERR_NOT_FOUND);
	/* stats() writes the stage first: b and c are in the file now. */
	assert_int_equal(gba_session_store_stats(st, NOW, &live, NULL), GBA_OK);
	assert_int_equal(live, 2);
	/* a was deleted while staged, but its GUSS is the user's, in the file too. */
	assert_int_equal(gba_session_store_get(st, b.btid, strlen(b.btid), NOW, &out, buf,
					       sizeof(buf), &len), GBA_OK);
	assert_string_equal(buf, GUSS);
	/* A put under a stored live session's B-TID is refused; the user's
	 * next session brings a new GUSS, staged with it. */
	d = b;
	d.ks[0] ^= 0xFF;
	assert_int_equal(gba_session_store_put(st, &d, guss2, strlen(guss2)), GBA_ERR_EXISTS);
	make_session(&d, 404, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &d, guss2, strlen(guss2)), GBA_OK);
	assert_int_equal(gba_session_store_get(st, d.btid, strlen(d.btid), NOW, &out, buf,
					       sizeof(buf), &len), GBA_OK);
	assert_same(&out, &d);
	assert_string_equal(buf, guss2);
	/* A stored session, read from the file. */
	assert_int_equal(gba_session_store_get(st, c.btid, strlen(c.btid), NOW, &out, buf,
					       sizeof(buf), &len), GBA_OK);
	assert_same(&out, &c);
	assert_int_equal(len, 0);
	assert_int_equal(gba_session_store_delete(st, c.btid, strlen(c.btid)), GBA_OK);
	/* close() writes the stage. */
	gba_session_store_close(st);
	st = reopen("");
	assert_int_equal(get_s(st, &a, NOW, &out), GBA_ERR_NOT_FOUND);
	assert_int_equal(get_s(st, &c, NOW, &out), GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_session_store_get(st, b.btid, strlen(b.btid), NOW, &out, buf,
					       sizeof(buf), &len), GBA_OK);
	assert_same(&out, &b);
	assert_string_equal(buf, guss2);
	gba_session_store_close(st);
}

/*
 * batch=4: the stage is written every 4 puts, and puts wait when 8 are
 * staged; 8 threads putting, getting and deleting at once lose nothing.
 */
static void test_sqlite_small_batches(void **state)
{
	struct gba_session_store *st = open_fresh();

	(void)state;
	gba_session_store_close(st);
	st = reopen("?batch=4&commit_ms=1000");
	run_workers(st);
	gba_session_store_close(st);
	st = reopen("");
	assert_workers_kept(st);
	gba_session_store_close(st);
}

/* commit_ms=0: every put is committed before it returns. */
static void test_sqlite_no_group_commit(void **state)
{
	struct gba_session_store *w, *r;
	struct gba_session s, out;

	(void)state;
	w = open_fresh();
	gba_session_store_close(w);
	w = reopen("?commit_ms=0");
	r = reopen("?commit_ms=0");
	make_session(&s, 310, IMPI, NOW);
	assert_int_equal(gba_session_store_put(w, &s, GUSS, strlen(GUSS)), GBA_OK);
	assert_int_equal(get_s(r, &s, NOW, &out), GBA_OK);
	assert_int_equal(gba_session_store_delete(w, s.btid, strlen(s.btid)), GBA_OK);
	assert_int_equal(get_s(r, &s, NOW, &out), GBA_ERR_NOT_FOUND);
	gba_session_store_close(r);
	gba_session_store_close(w);
}

/*
 * Another process reads each session right after its put, and closes its
 * handle every time.  A process that opens and closes the database file
 * while a connection of its own has it open loses that connection's POSIX
 * locks; the reader's close could then reset the WAL index under the
 * writer, which hid every later put from other processes.
 */
/* The child's part (run as `test_session_store --count PATH`): exit 0 when
 * the database at PATH holds expected sessions.  A fresh program, not just
 * a fork, so that it shares none of the writer's SQLite state. */
static int count_sessions(const char *path, const char *expected)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	/* A plain SQLite connection, as the sqlite3 shell would open. */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM session", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n == atoi(expected) ? 0 : 1;
}

static void test_sqlite_other_process_sees_puts(void **state)
{
	struct gba_session_store *w;
	struct gba_session s;

	(void)state;
	w = open_fresh();
	gba_session_store_close(w);
	w = reopen("?commit_ms=0");
	for (unsigned i = 0; i < 4; i++) {
		pid_t pid;
		int status = 0;

		make_session(&s, 320 + i, IMPI, NOW);
		assert_int_equal(gba_session_store_put(w, &s, NULL, 0), GBA_OK);
		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			char n[16];

			snprintf(n, sizeof(n), "%u", i + 1);
			execl("/proc/self/exe", "test_session_store", "--count", last_sqlite_path, n,
			      (char *)NULL);
			_exit(127);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("session %u: not visible to another process", i);
	}
	gba_session_store_close(w);
}

/* exclusive=1: the same operations, and the file survives a reopen. */
static void test_sqlite_exclusive(void **state)
{
	struct gba_session_store *st;
	struct gba_session s, out;
	uint64_t purged = 0, live = 0;

	(void)state;
	st = open_fresh();
	gba_session_store_close(st);
	st = reopen("?exclusive=1");
	make_session(&s, 320, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s, GUSS, strlen(GUSS)), GBA_OK);
	assert_int_equal(get_s(st, &s, NOW, &out), GBA_OK);
	/* Without the checkpointer's connection, stats counts on the handle's. */
	assert_int_equal(gba_session_store_stats(st, NOW, &live, NULL), GBA_OK);
	assert_int_equal(live, 1);
	assert_int_equal(gba_session_store_purge(st, s.expiry, &purged), GBA_OK);
	assert_int_equal(purged, 1);
	assert_int_equal(gba_session_store_put(st, &s, NULL, 0), GBA_OK);
	gba_session_store_close(st);
	/* Read through a map of the file (mmap_mb), as before 5 Dec 2026. */
	st = reopen("?mmap_mb=256");
	assert_int_equal(get_s(st, &s, NOW, &out), GBA_OK);
	gba_session_store_close(st);
}

/*
 * The checkpointer thread copies a growing WAL into the database file by itself
 * (ckpt_pages=1000: the default waits for 16000 pages, more than these
 * puts make).
 */
static void test_sqlite_checkpoint(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s, out;
	struct stat sb = { 0 };
	int done = 0;

	(void)state;
	gba_session_store_close(st);
	st = reopen("?ckpt_pages=1000");
	for (unsigned i = 0; i < 40000; i++) {
		make_session(&s, 100000 + i, i % 3 ? IMPI : "x@ims.example.org", NOW);
		assert_int_equal(gba_session_store_put(st, &s, GUSS, strlen(GUSS)), GBA_OK);
	}
	/* Wait (at most 10 s) until the database file itself holds the data. */
	for (int i = 0; i < 200 && !done; i++) {
		done = stat(last_sqlite_path, &sb) == 0 && sb.st_size > 4 * 1024 * 1024;
		if (!done)
			usleep(50000);
	}
	assert_true(done);
	assert_int_equal(get_s(st, &s, NOW, &out), GBA_OK);
	gba_session_store_close(st);
}

static void test_sqlite_purge(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s, out;
	uint64_t purged = 0, live = 0;
	char buf[256];
	size_t len;

	(void)state;
	/* More than one purge chunk of expired sessions, some live ones. */
	for (unsigned i = 0; i < 5000; i++) {
		make_session(&s, 1000 + i, i % 2 ? "odd@ims.example.org" : IMPI, NOW);
		s.expiry = NOW + 10;
		assert_int_equal(gba_session_store_put(st, &s, GUSS, strlen(GUSS)), GBA_OK);
	}
	struct gba_session keep;
	make_session(&keep, 9999, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &keep, NULL, 0), GBA_OK);
	assert_int_equal(gba_session_store_purge(st, NOW + 10, &purged), GBA_OK);
	assert_int_equal(purged, 5000);
	assert_int_equal(gba_session_store_stats(st, NOW, &live, NULL), GBA_OK);
	assert_int_equal(live, 1);
	/* IMPI's GUSS lives as long as its last session; odd's went. */
	assert_int_equal(gba_session_store_get(st, keep.btid, strlen(keep.btid), NOW, &out, buf,
					       sizeof(buf), &len), GBA_OK);
	assert_string_equal(buf, GUSS);
	assert_int_equal(gba_session_store_purge(st, NOW + 10, &purged), GBA_OK);
	assert_int_equal(purged, 0);
	assert_int_equal(gba_session_store_purge(st, NOW, NULL), GBA_OK);
	gba_session_store_close(st);
}

static void test_sqlite_file_mode(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct stat sb;

	(void)state;
	assert_int_equal(stat(last_sqlite_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	gba_session_store_close(st);
}

static void test_sqlite_not_a_database(void **state)
{
	char path[600], uri[700];
	struct gba_session_store *st = NULL;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/garbage.db", tmp_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database, just text. ", f);
	fclose(f);
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	assert_int_equal(gba_session_store_open(&st, uri), GBA_ERR_STORE);
	assert_null(st);
}

/* ---- Redis ------------------------------------------------------------- */

/* "s:" RAND domain-id: after FLUSHDB, DOMAIN is the first domain, id 1. */
static void session_key(char *key, size_t *len, const struct gba_session *s)
{
	memcpy(key, "s:", 2);
	memcpy(key + 2, s->rand, 16);
	key[18] = 1;
	*len = 19;
}

/* ---- a full disk ------------------------------------------------------- */

static struct gba_session_store_health health(struct gba_session_store *st)
{
	struct gba_session_store_health h;

	assert_int_equal(gba_session_store_health(st, &h), GBA_OK);
	return h;
}

/* Wait (5 s at most) until the flusher has written everything it holds. */
static void wait_written(struct gba_session_store *st)
{
	struct gba_session_store_health h = health(st);

	for (int i = 0; i < 500 && (!h.writable || h.unwritten); i++) {
		usleep(10000);
		h = health(st);
	}
	assert_true(h.writable);
	assert_int_equal(h.unwritten, 0);
}

#define FULL_TAKEN 4     /* puts made before the first failed commit */
#define FULL_PUTS 12

/* Wait (5 s at most) until the store has seen a write fail. */
static void wait_unwritable(struct gba_session_store *st)
{
	for (int i = 0; i < 500 && health(st).writable; i++)
		usleep(10000);
	assert_false(health(st).writable);
}

/*
 * Group commit on a full disk (issue 15: 27,964 bootstraps answered, 1,322
 * stored).  A batch that fails to commit is kept and retried; from then on
 * puts are refused with GBA_ERR_STORE_UNWRITABLE; every put that returned
 * GBA_OK is readable during the outage and in the file once the disk has
 * room again, without anyone asking.
 */
static void test_sqlite_full_disk_group_commit(void **state)
{
	struct gba_session s[FULL_PUTS];
	struct gba_session_store *st = open_fresh();
	struct gba_session_store_health h;
	struct gba_session out;
	uint64_t live = 0;

	(void)state;
	gba_session_store_close(st);
	st = reopen("?commit_ms=200");   /* the taken puts share a window */
	for (unsigned i = 0; i < FULL_PUTS; i++)
		make_session(&s[i], 500 + i, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s[0], GUSS, strlen(GUSS)), GBA_OK);
	wait_written(st);
	disk_fill();
	/* Taken (acknowledged) before the flusher meets the full disk. */
	for (unsigned i = 1; i < FULL_TAKEN; i++)
		assert_int_equal(gba_session_store_put(st, &s[i], i % 2 ? GUSS : NULL,
						       i % 2 ? strlen(GUSS) : 0), GBA_OK);
	wait_unwritable(st);
	for (unsigned i = FULL_TAKEN; i < FULL_PUTS; i++)
		assert_int_equal(gba_session_store_put(st, &s[i], NULL, 0),
				 GBA_ERR_STORE_UNWRITABLE);
	h = health(st);
	assert_true(h.write_failures >= 1);
	assert_int_equal(h.unwritten, FULL_TAKEN - 1);
	/* The kept sessions are served meanwhile; stats does not wait for the disk. */
	for (unsigned i = 0; i < FULL_PUTS; i++)
		assert_int_equal(get_s(st, &s[i], NOW, &out),
				 i < FULL_TAKEN ? GBA_OK : GBA_ERR_NOT_FOUND);
	(void)gba_session_store_stats(st, NOW, &live, NULL);
	disk_free();
	wait_written(st);   /* the flusher's own retry, nobody asked */
	assert_int_equal(gba_session_store_put(st, &s[FULL_PUTS - 1], NULL, 0), GBA_OK);
	gba_session_store_close(st);
	st = reopen("");
	for (unsigned i = 0; i < FULL_PUTS; i++)
		assert_int_equal(get_s(st, &s[i], NOW, &out),
				 i < FULL_TAKEN || i == FULL_PUTS - 1 ? GBA_OK : GBA_ERR_NOT_FOUND);
	gba_session_store_close(st);
}

/* commit_ms=0: a put on a full disk fails at once, distinctly, and the next one works again. */
static void test_sqlite_full_disk_no_group_commit(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session a, b, c, out;

	(void)state;
	gba_session_store_close(st);
	st = reopen("?commit_ms=0");
	make_session(&a, 700, IMPI, NOW);
	make_session(&b, 701, IMPI, NOW);
	make_session(&c, 702, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &a, GUSS, strlen(GUSS)), GBA_OK);
	disk_fill();
	assert_int_equal(gba_session_store_put(st, &b, NULL, 0), GBA_ERR_STORE_UNWRITABLE);
	disk_free();
	assert_false(health(st).writable);
	assert_int_equal(health(st).write_failures, 1);
	assert_int_equal(get_s(st, &b, NOW, &out), GBA_ERR_NOT_FOUND);
	assert_int_equal(gba_session_store_put(st, &c, NULL, 0), GBA_OK);
	assert_true(health(st).writable);
	gba_session_store_close(st);
	st = reopen("");
	assert_int_equal(get_s(st, &a, NOW, &out), GBA_OK);
	assert_int_equal(get_s(st, &b, NOW, &out), GBA_ERR_NOT_FOUND);
	assert_int_equal(get_s(st, &c, NOW, &out), GBA_OK);
	gba_session_store_close(st);
}

/* close() while the disk stays full gives up after a bounded time instead of hanging. */
static void test_sqlite_full_disk_close(void **state)
{
	struct gba_session_store *st = open_fresh();
	struct gba_session s, out;

	(void)state;
	gba_session_store_close(st);
	st = reopen("?commit_ms=1000");
	disk_fill();
	make_session(&s, 800, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s, NULL, 0), GBA_OK);
	assert_int_equal(get_s(st, &s, NOW, &out), GBA_OK);
	gba_session_store_close(st);
	disk_free();
}

static void test_redis_layout(void **state)
{
	struct gba_session_store *st = open_fresh();
	redisContext *c = redis_raw();
	struct gba_session a, b;
	char key[64], gkey[300];
	size_t key_len;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	make_session(&a, 400, IMPI, now);
	a.expiry = now + 1000;
	make_session(&b, 401, IMPI, now);
	b.expiry = now + 500;
	assert_int_equal(gba_session_store_put(st, &a, GUSS, strlen(GUSS)), GBA_OK);
	assert_int_equal(gba_session_store_put(st, &b, GUSS, strlen(GUSS)), GBA_OK);
	session_key(key, &key_len, &a);
	/* The key dies with the session; the value is 44 octets plus the IMPI. */
	assert_int_equal(redis_int(c, "EXPIRETIME %b", key, key_len), a.expiry);
	assert_int_equal(redis_int(c, "STRLEN %b", key, key_len), 44 + strlen(IMPI));
	/* The GUSS keeps the longest lifetime of the user's sessions. */
	snprintf(gkey, sizeof(gkey), "g:%s", IMPI);
	assert_int_equal(redis_int(c, "EXPIRETIME %b", gkey, strlen(gkey)), a.expiry);
	/* No secret in clear text in the value? Ks is binary: check it is there once. */
	redisReply *r = redisCommand(c, "GET %b", key, key_len);
	assert_non_null(r);
	assert_non_null(memmem(r->str, r->len, a.ks, 32));
	freeReplyObject(r);
	redisFree(c);
	gba_session_store_close(st);
}

/* auth_file= (and user=): AUTH on every connection, or a clear refusal. */
static gba_err open_auth(struct gba_session_store **st, const char *query)
{
	char uri[1024];

	snprintf(uri, sizeof(uri), "redis://%s/0%s", redis_auth_host, query);
	*st = NULL;
	return gba_session_store_open(st, uri);
}

/*
 * Above 100,000 keys stats estimates the sessions from random keys instead
 * of sending every key name over (SCAN): half of 120,000 keys here are
 * session keys; the estimate's standard error is about 1.6 % of the keys,
 * so 8 % is five of them.
 */
static void test_redis_stats_sampled(void **state)
{
	struct gba_session_store *st = open_fresh();
	redisContext *c = redis_raw();
	redisReply *r;
	uint64_t live = 0;

	(void)state;
	r = redisCommand(c, "EVAL %s 0", "for i = 1, 60000 do redis.call('SET', 's:' .. i, 'x');"
				      " redis.call('SET', 'x:' .. i, 'x') end return 1");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	freeReplyObject(r);
	r = redisCommand(c, "CONFIG RESETSTAT");
	assert_non_null(r);
	freeReplyObject(r);
	assert_int_equal(gba_session_store_stats(st, NOW, &live, NULL), GBA_OK);
	assert_in_range(live, 60000 - 4800, 60000 + 4800);
	/* Not one SCAN (the count before 5 Dec 2026 took 120 here). */
	r = redisCommand(c, "INFO commandstats");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_null(strstr(r->str, "cmdstat_scan:"));
	assert_non_null(strstr(r->str, "cmdstat_randomkey:"));
	freeReplyObject(r);
	r = redisCommand(c, "FLUSHDB");
	assert_non_null(r);
	freeReplyObject(r);
	redisFree(c);
	gba_session_store_close(st);
}

static void test_redis_auth(void **state)
{
	static const char *const good[] = { "?auth_file=", "?user=app&auth_file=" };
	static const char *const file[] = { "default.pass", "app.pass" };
	struct gba_session_store *st;
	struct gba_session s, out;
	char q[600];

	(void)state;
	assert_int_equal(open_auth(&st, ""), GBA_ERR_NOT_AUTHORIZED);
	snprintf(q, sizeof(q), "?auth_file=%s/wrong.pass", redis_auth_dir);
	assert_int_equal(open_auth(&st, q), GBA_ERR_NOT_AUTHORIZED);
	snprintf(q, sizeof(q), "?user=app&auth_file=%s/default.pass", redis_auth_dir);
	assert_int_equal(open_auth(&st, q), GBA_ERR_NOT_AUTHORIZED);
	snprintf(q, sizeof(q), "?auth_file=%s/missing.pass", redis_auth_dir);
	assert_int_equal(open_auth(&st, q), GBA_ERR_INVALID_ARG);
	assert_int_equal(open_auth(&st, "?auth_file="), GBA_ERR_INVALID_ARG);
	for (unsigned i = 0; i < 2; i++) {
		snprintf(q, sizeof(q), "%s%s/%s", good[i], redis_auth_dir, file[i]);
		assert_int_equal(open_auth(&st, q), GBA_OK);
		make_session(&s, 600 + i, IMPI, NOW);
		assert_int_equal(gba_session_store_put(st, &s, GUSS, strlen(GUSS)), GBA_OK);
		assert_int_equal(get_s(st, &s, NOW, &out), GBA_OK);
		assert_same(&s, &out);
		gba_session_store_close(st);
	}
}

static void test_redis_two_handles(void **state)
{
	struct gba_session_store *a = open_fresh(), *b = NULL;
	struct gba_session s, out;
	char buf[256];
	size_t len;

	(void)state;
	assert_int_equal(gba_session_store_open(&b, redis_uri), GBA_OK);
	make_session(&s, 500, IMPI, NOW);
	assert_int_equal(gba_session_store_put(a, &s, GUSS, strlen(GUSS)), GBA_OK);
	assert_int_equal(gba_session_store_get(b, s.btid, strlen(s.btid), NOW, &out, buf,
					       sizeof(buf), &len), GBA_OK);
	assert_same(&s, &out);
	assert_string_equal(buf, GUSS);
	assert_int_equal(gba_session_store_delete(b, s.btid, strlen(s.btid)), GBA_OK);
	assert_int_equal(get_s(a, &s, NOW, &out), GBA_ERR_NOT_FOUND);
	gba_session_store_close(b);
	gba_session_store_close(a);
}

static void test_redis_reconnect(void **state)
{
	struct gba_session_store *st = open_fresh();
	redisContext *c = redis_raw();
	struct gba_session s, out;
	redisReply *r;

	(void)state;
	make_session(&s, 600, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s, NULL, 0), GBA_OK);
	/* Drop every connection but this one: the store reconnects once. */
	r = redisCommand(c, "CLIENT KILL TYPE normal SKIPME yes");
	assert_non_null(r);
	assert_true(r->type == REDIS_REPLY_INTEGER && r->integer >= 1);
	freeReplyObject(r);
	assert_int_equal(get_s(st, &s, NOW, &out), GBA_OK);
	assert_same(&s, &out);
	redisFree(c);
	gba_session_store_close(st);
}

/* Corrupt values under our key names are errors, not crashes. */
static void test_redis_corrupt_value(void **state)
{
	struct gba_session_store *st = open_fresh();
	redisContext *c = redis_raw();
	struct gba_session s, out;
	char key[64];
	size_t key_len;
	redisReply *r;
	static const char *const junk[] = { "", "x", "\x01\x00short",
		"\x02\x00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" };

	(void)state;
	make_session(&s, 700, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s, NULL, 0), GBA_OK);   /* domain id 1 */
	session_key(key, &key_len, &s);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		r = redisCommand(c, "SET %b %b", key, key_len, junk[i], strlen(junk[i]));
		freeReplyObject(r);
		assert_int_equal(get_s(st, &s, NOW, &out), GBA_ERR_STORE);
	}
	r = redisCommand(c, "DEL %b", key, key_len);
	freeReplyObject(r);
	r = redisCommand(c, "LPUSH %b x", key, key_len);
	freeReplyObject(r);
	assert_int_equal(get_s(st, &s, NOW, &out), GBA_ERR_STORE);
	redisFree(c);
	gba_session_store_close(st);
}

/* Last: the server goes away for good; the store says UNAVAILABLE. */
static void test_redis_server_gone(void **state)
{
	struct gba_session_store *st = open_fresh();
	redisContext *c = redis_raw();
	struct gba_session s, out;
	redisReply *r;

	(void)state;
	make_session(&s, 800, IMPI, NOW);
	assert_int_equal(gba_session_store_put(st, &s, NULL, 0), GBA_OK);
	r = redisCommand(c, "SHUTDOWN NOSAVE");
	if (r)
		freeReplyObject(r);
	redisFree(c);
	/* Wait (at most 5 s) until the server has gone. */
	for (int i = 0; i < 100; i++) {
		if (get_s(st, &s, NOW, &out) == GBA_ERR_UNAVAILABLE)
			break;
		usleep(50000);
	}
	assert_int_equal(get_s(st, &s, NOW, &out), GBA_ERR_UNAVAILABLE);
	assert_int_equal(gba_session_store_put(st, &s, NULL, 0), GBA_ERR_UNAVAILABLE);
	assert_int_equal(gba_session_store_delete(st, s.btid, strlen(s.btid)),
			 GBA_ERR_UNAVAILABLE);
	assert_int_equal(gba_session_store_stats(st, NOW, NULL, NULL), GBA_ERR_UNAVAILABLE);
	gba_session_store_close(st);
	assert_int_equal(gba_session_store_open(&st, redis_uri), GBA_ERR_UNAVAILABLE);
}

/* ---- main -------------------------------------------------------------- */

#define COMMON_TESTS \
	cmocka_unit_test(test_put_get), \
	cmocka_unit_test(test_collision), \
	cmocka_unit_test(test_delete), \
	cmocka_unit_test(test_expired_is_not_found), \
	cmocka_unit_test(test_unknown_and_malformed_btid), \
	cmocka_unit_test(test_bad_put), \
	cmocka_unit_test(test_guss_shared_per_impi), \
	cmocka_unit_test(test_two_domains), \
	cmocka_unit_test(test_guss_buffer), \
	cmocka_unit_test(test_stats), \
	cmocka_unit_test(test_concurrency)

static int run_sqlite(void)
{
	const struct CMUnitTest tests[] = {
		COMMON_TESTS,
		cmocka_unit_test(test_bad_uris),
		cmocka_unit_test(test_sqlite_restart),
		cmocka_unit_test(test_sqlite_collision),
		cmocka_unit_test(test_sqlite_group_commit),
		cmocka_unit_test(test_sqlite_no_group_commit),
		cmocka_unit_test(test_sqlite_staged),
		cmocka_unit_test(test_sqlite_small_batches),
		cmocka_unit_test(test_sqlite_other_process_sees_puts),
		cmocka_unit_test(test_sqlite_exclusive),
		cmocka_unit_test(test_sqlite_checkpoint),
		cmocka_unit_test(test_sqlite_purge),
		cmocka_unit_test(test_sqlite_file_mode),
		cmocka_unit_test(test_sqlite_not_a_database),
		cmocka_unit_test(test_sqlite_full_disk_group_commit),
		cmocka_unit_test(test_sqlite_full_disk_no_group_commit),
		cmocka_unit_test(test_sqlite_full_disk_close),
	};
	char cmd[300];
	int rc;

	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/gba-store-test-XXXXXX");
	if (!mkdtemp(tmp_dir)) {
		perror("mkdtemp");
		return 1;
	}
	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	rc = cmocka_run_group_tests_name("session store: sqlite", tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp_dir);
	return rc;
}

/* --moved: a sentinel URI, that sentinel's HOST:PORT, the other server B. */
static const char *moved_uri, *moved_sentinel, *moved_b_uri;

/* Point the sentinel at moved_sentinel to B as gbamaster's primary. */
static void sentinel_move_to(const char *bhost, int bport)
{
	char host[64];
	int sport = 0;
	redisReply *r;

	assert_int_equal(sscanf(moved_sentinel, "%63[^:]:%d", host, &sport), 2);
	redisContext *c = redisConnect(host, sport);
	assert_true(c && !c->err);
	r = redisCommand(c, "SENTINEL REMOVE gbamaster");
	assert_true(r && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	r = redisCommand(c, "SENTINEL MONITOR gbamaster %s %d 1", bhost, bport);
	assert_true(r && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	redisFree(c);
}

/*
 * A get that misses is asked again of the primary the sentinels name now.
 * Handle x has talked to A, the primary its sentinel named; the sentinel
 * is then pointed at B (REMOVE + MONITOR: a primary that moved without
 * x's connections being dropped), where another handle stored a session.
 * x finds it: its miss on A makes it ask the sentinel, which names B.
 * Before the move, the same miss is a plain "not found".
 */
static void test_sentinel_moved_read(void **state)
{
	struct gba_session_store *x, *y;
	struct gba_session a, b, out;
	char bhost[64];
	int bport = 0;
	(void)state;

	make_session(&a, 1, IMPI, NOW);
	make_session(&b, 2, IMPI, NOW);
	assert_int_equal(gba_session_store_open(&x, moved_uri), GBA_OK);
	for (int i = 0; i < 8; i++)   /* every pooled connection made, to A */
		assert_int_equal(gba_session_store_put(x, &a, NULL, 0), GBA_OK);
	assert_int_equal(gba_session_store_open(&y, moved_b_uri), GBA_OK);
	assert_int_equal(gba_session_store_put(y, &b, NULL, 0), GBA_OK);
	assert_int_equal(get_s(x, &b, NOW, &out), GBA_ERR_NOT_FOUND);

	assert_int_equal(sscanf(moved_b_uri, "redis://%63[^:]:%d", bhost, &bport), 2);
	sentinel_move_to(bhost, bport);
	/* The store asks the sentinels at most once per 100 ms after misses. */
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	assert_int_equal(get_s(x, &b, NOW, &out), GBA_OK);
	assert_same(&b, &out);
	gba_session_store_close(y);
	gba_session_store_close(x);
}

static int run_redis(void)
{
	const struct CMUnitTest tests[] = {
		COMMON_TESTS,
		cmocka_unit_test(test_redis_layout),
		cmocka_unit_test(test_redis_two_handles),
		cmocka_unit_test(test_redis_stats_sampled),
		cmocka_unit_test(test_redis_auth),
		cmocka_unit_test(test_redis_reconnect),
		cmocka_unit_test(test_redis_corrupt_value),
		cmocka_unit_test(test_redis_server_gone),   /* last: stops the server */
	};

	return cmocka_run_group_tests_name("session store: redis", tests, NULL, NULL);
}

int main(int argc, char **argv)
{
	NOW = (int64_t)time(NULL);
	if (argc == 4 && !strcmp(argv[1], "--count"))
		return count_sessions(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "--moved")) {
		const struct CMUnitTest moved[] = { cmocka_unit_test(test_sentinel_moved_read) };
		moved_uri = argv[2];
		moved_sentinel = argv[3];
		moved_b_uri = argv[4];
		return cmocka_run_group_tests_name("session store: sentinel", moved, NULL, NULL);
	}
	if (argc == 6 && !strcmp(argv[1], "--redis") && !strcmp(argv[3], "--redis-auth")) {
		redis_uri = argv[2];
		redis_auth_host = argv[4];
		redis_auth_dir = argv[5];
		return run_redis();
	}
	if (argc != 1) {
		fprintf(stderr, "usage: test_session_store [--redis redis://127.0.0.1:PORT/DB "
				"--redis-auth 127.0.0.1:PORT DIR]\n");
		return 2;
	}
	return run_sqlite();
}
