/*
 * store_bench - figures for libgba-store: session puts and gets per second
 * and CPU per operation on both back ends, bytes per live B-TID, and the
 * subscriber database's vectors per second.  It prints, it judges nothing.
 *
 *   store_bench [--seconds S] [--sessions N] [--dir DIR] [--redis URI]
 *               [--only sqlite|redis|bytes|subdb]
 *
 * Without --redis it starts its own redis-server (no persistence) on a free
 * 127.0.0.1 port and stops it at the end; without redis-server on the PATH
 * the Redis figures are left out.  CPU is getrusage(RUSAGE_SELF) of this
 * process (all its threads), plus for Redis the server's own CPU from
 * INFO cpu: the cost a BSF box pays for each operation.
 */
#define _GNU_SOURCE /* mkdtemp */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include <gba/session_store.h>
#include <gba/subscriber_db.h>
#include <gba/util.h>

#include "bench_util.h"
#include "gba_cli.h"

#define DOMAIN "bsf.mnc001.mcc001.pub.3gppnetwork.org"
#define USERS 10000
#define MAX_THREADS 4
#define LIFETIME 86400

/* A GUSS of a typical size (one USS, one NAF group). */
static const char guss_doc[] =
	"<guss id=\"1\"><bsfInfo><uiccType>UICC</uiccType><lifeTime>86400</lifeTime>"
	"</bsfInfo><ussList><uss id=\"1\" type=\"1\"><uids><uid>sip:user@example.org</uid>"
	"</uids><flags><flag>1</flag></flags></uss></ussList></guss>";

struct options {
	double seconds;
	unsigned sessions;
	const char *dir;
	const char *redis;
	const char *only;       /* sqlite, redis, bytes, subdb: one part only */
};

/* ---- clocks ------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- sessions ---------------------------------------------------------- */

static void make_session(struct gba_session *s, unsigned thread, uint64_t i, int64_t now)
{
	uint64_t x = (i + 1) * UINT64_C(0x9e3779b97f4a7c15) ^ ((uint64_t)thread << 56);

	for (int b = 0; b < 16; b++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		s->rand[b] = (uint8_t)x;
	}
	gba_btid(s->btid, sizeof(s->btid), s->rand, DOMAIN, sizeof(DOMAIN) - 1);
	snprintf(s->impi, sizeof(s->impi), "0010100%08u@ims.mnc001.mcc001.3gppnetwork.org",
		 (unsigned)((i * MAX_THREADS + thread) % USERS));
	memset(s->ks, (int)(i & 0xff), sizeof(s->ks));
	s->created = now;
	s->expiry = now + LIFETIME;
	s->type = GBA_TYPE_ME;
}

struct worker {
	struct gba_session_store *st;
	unsigned thread;
	int get;                /* 0: put, 1: get */
	uint64_t have;          /* for get: sessions thread 0 stored */
	double until;
	uint64_t ops, errors;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct gba_session s, out;
	int64_t now = (int64_t)time(NULL);
	uint64_t i = 0, r = w->thread + 1;

	while ((i & 255) || now_s() < w->until) {
		gba_err err;
		if (w->get) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			make_session(&s, 0, (r >> 20) % w->have, now);
			err = gba_session_store_get(w->st, s.btid, strlen(s.btid), now, &out, NULL,
						    0, NULL);
		} else {
			make_session(&s, w->thread, w->ops, now);
			err = gba_session_store_put(w->st, &s, guss_doc, sizeof(guss_doc) - 1);
		}
		w->errors += err != GBA_OK;
		w->ops++;
		i++;
	}
	return NULL;
}

/* Server CPU seconds of a Redis (used_cpu_sys + used_cpu_user), or 0. */
static double redis_cpu(const char *uri)
{
	char host[64];
	int port;
	double sys = 0, user = 0;
	redisContext *c;
	redisReply *r;

	if (!uri || sscanf(uri, "redis://%63[^:]:%d", host, &port) != 2)
		return 0;
	c = redisConnect(host, port);
	if (!c || c->err) {
		redisFree(c);
		return 0;
	}
	r = redisCommand(c, "INFO cpu");
	if (r && r->type == REDIS_REPLY_STRING) {
		const char *p = strstr(r->str, "used_cpu_sys:"), *q = strstr(r->str, "used_cpu_user:");
		if (p)
			sys = atof(p + 13);
		if (q)
			user = atof(q + 14);
	}
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return sys + user;
}

/*
 * Run threads workers against the stores (one per thread, or all on
 * st[0]) for the given seconds; print ops/s and CPU per op.
 */
static uint64_t run_workers(const char *label, struct gba_session_store **st, int per_thread,
			    unsigned threads, int get, uint64_t have, double seconds,
			    const char *redis_uri)
{
	struct worker w[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	double t0 = now_s(), c0 = cpu_s(), r0 = redis_cpu(redis_uri), dt, dc, dr;
	uint64_t ops = 0, errors = 0;

	for (unsigned i = 0; i < threads; i++) {
		w[i] = (struct worker){ .st = st[per_thread ? i : 0], .thread = i, .get = get,
					.have = have, .until = t0 + seconds };
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		ops += w[i].ops;
		errors += w[i].errors;
	}
	dt = now_s() - t0;
	dc = cpu_s() - c0;
	dr = redis_uri ? redis_cpu(redis_uri) - r0 : 0;
	printf("  %-44s %2u thr %9.0f op/s %7.1f us CPU/op", label, threads, (double)ops / dt,
	       1e6 * dc / (double)ops);
	if (redis_uri)
		printf(" (+%.1f us in redis-server)", 1e6 * dr / (double)ops);
	if (errors)
		printf("  %llu ERRORS", (unsigned long long)errors);
	printf("\n");
	fflush(stdout);
	return ops;
}

/* Bytes per live B-TID: n fresh sessions into an empty store. */
static void bytes_per_btid(const char *label, const char *uri, unsigned n, int with_guss,
			   unsigned users)
{
	struct gba_session_store *st;
	struct gba_session s;
	uint64_t live0 = 0, bytes0 = 0, live = 0, bytes = 0;
	int64_t now = (int64_t)time(NULL);
	gba_err err = gba_session_store_open(&st, uri);

	if (err) {
		printf("  %s: cannot open %s: %s\n", label, uri, gba_strerror(err));
		return;
	}
	gba_session_store_stats(st, now, &live0, &bytes0);
	for (unsigned i = 0; i < n; i++) {
		make_session(&s, 0, i, now);
		snprintf(s.impi, sizeof(s.impi), "0010100%08u@ims.mnc001.mcc001.3gppnetwork.org",
			 i % users);
		err = gba_session_store_put(st, &s, with_guss ? guss_doc : NULL,
					    with_guss ? sizeof(guss_doc) - 1 : 0);
		if (err) {
			printf("  %s: put: %s\n", label, gba_strerror(err));
			break;
		}
	}
	gba_session_store_stats(st, now, &live, &bytes);
	printf("  %-60s %6.0f bytes per live B-TID (%llu live)\n", label,
	       (double)(bytes - bytes0) / (double)(live - live0), (unsigned long long)live);
	gba_session_store_close(st);
}

/* ---- a redis-server of our own ----------------------------------------- */

static pid_t start_redis(const char *dir, char *uri, size_t uri_size)
{
	uint16_t free = bench_free_port();
	int port = free ? free : -1;
	char port_s[16];
	pid_t pid;

	if (port < 0)
		return -1;
	snprintf(port_s, sizeof(port_s), "%d", port);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execlp("redis-server", "redis-server", "--port", port_s, "--bind", "127.0.0.1",
		       "--save", "", "--appendonly", "no", "--dir", dir, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	snprintf(uri, uri_size, "redis://127.0.0.1:%d/0", port);
	/* Wait (at most 5 s) until it answers. */
	for (int i = 0; i < 100; i++) {
		redisContext *c = redisConnect("127.0.0.1", port);
		int up = c && !c->err;
		redisFree(c);
		if (up)
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void stop_redis(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void flush_redis(const char *uri)
{
	char host[64];
	int port;
	unsigned db = 0;

	if (sscanf(uri, "redis://%63[^:]:%d/%u", host, &port, &db) < 2)
		return;
	redisContext *c = redisConnect(host, port);
	if (c && !c->err) {
		redisReply *r = redisCommand(c, "SELECT %u", db);
		if (r)
			freeReplyObject(r);
		r = redisCommand(c, "FLUSHDB");
		if (r)
			freeReplyObject(r);
	}
	redisFree(c);
}

/* ---- the benches ------------------------------------------------------- */

static void bench_sessions(const char *name, const char *uri, const struct options *o,
			   const char *redis_uri)
{
	struct gba_session_store *st[MAX_THREADS] = { 0 };
	char label[128];
	uint64_t have;

	printf("%s\n", name);
	if (gba_session_store_open(&st[0], uri)) {
		printf("  cannot open %s\n", uri);
		return;
	}
	snprintf(label, sizeof(label), "put (shared handle)");
	have = run_workers(label, st, 0, 1, 0, 0, o->seconds, redis_uri);
	run_workers(label, st, 0, 2, 0, 0, o->seconds, redis_uri);
	run_workers("get (shared handle)", st, 0, 1, 1, have, o->seconds, redis_uri);
	run_workers("get (shared handle)", st, 0, 2, 1, have, o->seconds, redis_uri);
	if (!redis_uri) {
		/* A connection per thread: two handles on the same file. */
		if (!gba_session_store_open(&st[1], uri)) {
			run_workers("put (handle per thread)", st, 1, 2, 0, 0, o->seconds, NULL);
			run_workers("get (handle per thread)", st, 1, 2, 1, have, o->seconds, NULL);
			gba_session_store_close(st[1]);
		}
	}
	gba_session_store_close(st[0]);
}

static void bench_bytes(const char *dir, const char *redis_uri, unsigned n)
{
	char uri[600], label[128];
	static const struct { unsigned users; int guss; const char *what; } cases[] = {
		{ 0, 0, "one IMPI per B-TID, no GUSS" },
		{ 0, 1, "one IMPI per B-TID, each with a GUSS" },
		{ 4, 1, "4 B-TIDs per IMPI, GUSS shared" },
	};

	printf("bytes per live B-TID (%u sessions, IMPI %zu chars, GUSS %zu octets)\n", n,
	       strlen("0010100000000000@ims.mnc001.mcc001.3gppnetwork.org"),
	       sizeof(guss_doc) - 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned users = cases[i].users ? n / cases[i].users : n;
		snprintf(uri, sizeof(uri), "sqlite:%s/bytes%zu.db", dir, i);
		snprintf(label, sizeof(label), "sqlite: %s", cases[i].what);
		bytes_per_btid(label, uri, n, cases[i].guss, users);
		if (redis_uri) {
			flush_redis(redis_uri);
			snprintf(label, sizeof(label), "redis:  %s", cases[i].what);
			bytes_per_btid(label, redis_uri, n, cases[i].guss, users);
		}
	}
}

struct av_worker {
	struct gba_subdb *db;
	unsigned thread;
	double until;
	uint64_t ops, errors;
};

static void *av_worker_run(void *arg)
{
	struct av_worker *w = arg;
	char impi[GBA_IMPI_MAX + 1], guss[GBA_GUSS_MAX + 1];
	uint64_t r = w->thread + 7;
	size_t guss_len;

	while ((w->ops & 255) || now_s() < w->until) {
		uint8_t rand[16] = { (uint8_t)w->ops, (uint8_t)w->thread };
		struct gba_av av;
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		snprintf(impi, sizeof(impi), "0010100%08u@ims.mnc001.mcc001.3gppnetwork.org",
			 (unsigned)((r >> 20) % USERS));
		w->errors += gba_subdb_next_av(w->db, impi, 1, rand, &av, guss, sizeof(guss),
					       &guss_len) != GBA_OK;
		gba_wipe(&av, sizeof(av));
		w->ops++;
	}
	return NULL;
}

static void run_av(struct gba_subdb *db, unsigned block, unsigned threads, double seconds)
{
	struct av_worker w[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	double t0 = now_s(), c0 = cpu_s(), dt, dc;
	uint64_t ops = 0, errors = 0;
	char label[64];

	gba_subdb_set_sqn_block(db, block);
	for (unsigned i = 0; i < threads; i++) {
		w[i] = (struct av_worker){ .db = db, .thread = i, .until = t0 + seconds };
		pthread_create(&t[i], NULL, av_worker_run, &w[i]);
	}
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		ops += w[i].ops;
		errors += w[i].errors;
	}
	dt = now_s() - t0;
	dc = cpu_s() - c0;
	snprintf(label, sizeof(label), "next_av, SQN block %u", block);
	printf("  %-44s %2u thr %9.0f op/s %7.1f us CPU/op%s\n", label, threads,
	       (double)ops / dt, 1e6 * dc / (double)ops, errors ? "  ERRORS" : "");
	fflush(stdout);
}

static void bench_subdb(const char *dir, const struct options *o)
{
	static const uint8_t k[16] = { 0x46, 0x5b, 0x5c, 0xe8 }, opc[16] = { 0xcd, 0x63 };
	struct gba_subdb *db;
	struct gba_subscriber sub;
	char path[600];

	snprintf(path, sizeof(path), "%s/subscribers.db", dir);
	if (gba_subdb_open(&db, path)) {
		printf("  cannot open %s\n", path);
		return;
	}
	memset(&sub, 0, sizeof(sub));
	gba_aka_key_milenage(&sub.key, k, opc, 0);
	sub.ind_bits = 5;
	sub.guss = guss_doc;
	sub.guss_len = sizeof(guss_doc) - 1;
	for (unsigned i = 0; i < USERS; i++) {
		snprintf(sub.impi, sizeof(sub.impi),
			 "0010100%08u@ims.mnc001.mcc001.3gppnetwork.org", i);
		gba_subdb_add(db, &sub);
	}
	gba_wipe(&sub.key, sizeof(sub.key));
	printf("subscriber database (%u subscribers picked at random, Milenage, GUSS %zu octets)\n",
	       USERS, sizeof(guss_doc) - 1);
	run_av(db, 1, 1, o->seconds);
	run_av(db, 1, 2, o->seconds);
	run_av(db, 32, 1, o->seconds);
	run_av(db, 32, 2, o->seconds);
	gba_subdb_close(db);
}

static const char store_usage[] =
	"usage: store_bench [--seconds S] [--sessions N] [--dir DIR] "
	"[--redis redis://127.0.0.1:PORT/DB]\n"
	"                   [--only sqlite|redis|bytes|subdb]\n"
	"Prints figures; exit 0, 1 on failure, 2 on bad usage.  -h|--help, -V|--version.\n";

/* 0 run, 1 --help or --version answered, -1 usage error (reported). */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'd' },
		{ "redis", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*o = (struct options){ .seconds = 2, .sessions = 100000, .dir = NULL };
	while ((opt = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (opt) {
		case 's': o->seconds = atof(optarg); break;
		case 'n': o->sessions = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': o->dir = optarg; break;
		case 'r': o->redis = optarg; break;
		case 'o': o->only = optarg; break;
		case 'h': fputs(store_usage, stdout); return 1;
		case 'V': gba_cli_version("store_bench"); return 1;
		default:
			gba_cli_unknown("store_bench", opts, "hV");
			return -1;
		}
	}
	if (o->seconds <= 0 || o->seconds > 600 || o->sessions < 100 || o->sessions > 10000000) {
		fprintf(stderr, "store_bench: 0 < seconds <= 600, 100 <= sessions <= 10000000\n");
		return -1;
	}
	return 0;
}

static int want(const struct options *o, const char *part)
{
	return !o->only || !strcmp(o->only, part);
}

int main(int argc, char **argv)
{
	struct options o;
	char tmpl[] = "/tmp/store-bench-XXXXXX", uri[700], redis_uri[64], cmd[700];
	const char *dir, *redis = NULL;
	pid_t redis_pid = -1;

	int rc = parse_options(argc, argv, &o);

	if (rc)
		return rc > 0 ? 0 : 2;
	dir = o.dir ? o.dir : mkdtemp(tmpl);
	if (!dir) {
		perror("mkdtemp");
		return 1;
	}
	if (o.redis) {
		redis = o.redis;
	} else {
		redis_pid = start_redis(dir, redis_uri, sizeof(redis_uri));
		redis = redis_pid > 0 ? redis_uri : NULL;
		if (!redis)
			printf("(no redis-server: Redis figures left out)\n");
	}
	printf("store_bench: %.1f s per figure, files in %s, %ld CPUs online\n", o.seconds, dir,
	       sysconf(_SC_NPROCESSORS_ONLN));

	if (want(&o, "sqlite")) {
		snprintf(uri, sizeof(uri), "sqlite:%s/sessions-c0.db?commit_ms=0", dir);
		bench_sessions("sqlite, every put committed (commit_ms=0)", uri, &o, NULL);
		snprintf(uri, sizeof(uri), "sqlite:%s/sessions-c10.db?commit_ms=10", dir);
		bench_sessions("sqlite, group commit (commit_ms=10)", uri, &o, NULL);
		snprintf(uri, sizeof(uri), "sqlite:%s/sessions-c20.db", dir);
		bench_sessions("sqlite, defaults (commit_ms=20)", uri, &o, NULL);
		snprintf(uri, sizeof(uri), "sqlite:%s/sessions-x20.db?exclusive=1", dir);
		bench_sessions("sqlite, exclusive=1 (commit_ms=20)", uri, &o, NULL);
	}
	if (redis && want(&o, "redis")) {
		flush_redis(redis);
		bench_sessions("redis (pool of 4 connections)", redis, &o, redis);
	}
	if (want(&o, "bytes"))
		bench_bytes(dir, want(&o, "redis") || o.only ? redis : NULL, o.sessions);
	if (want(&o, "subdb"))
		bench_subdb(dir, &o);

	if (redis)
		flush_redis(redis);
	stop_redis(redis_pid);
	if (!o.dir) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "store_bench: could not remove %s\n", dir);
	}
	return 0;
}
