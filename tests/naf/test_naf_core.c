/*
 * test_naf_core.c - gba-naf's parts without Zn or HTTP: psk_identity forms,
 * single-use nonces, the key store (nodes, keys, expiry, revocation) and
 * the configuration parser.
 *
 *     test_naf_core [--redis redis://127.0.0.1:PORT/DB
 *                    [--sentinel redis-sentinel://... HOST:PORT]]
 *
 * The key store tests run on SQLite, and with --redis (run_redis.py starts
 * a redis-server and passes it) on Redis too, which they empty first; the
 * Redis run adds two handles sharing one server, as two gba-naf do.  With
 * --sentinel (run_redis.py --sentinel starts a primary, two replicas and
 * three sentinels; HOST:PORT is the primary) the key store follows a
 * SENTINEL FAILOVER without reopening.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "config.h"
#include "full_disk.h"
#include "keystore.h"
#include "nonces.h"
#include "psk_binder.h"
#include "psk_id.h"
#include "request.h"

#define BTID "AAECAwQFBgcICQoLDA0ODw==@bsf.mnc001.mcc001.pub.3gppnetwork.org"

static void test_psk_id_forms(void **state)
{
	(void)state;
	struct psk_id id = psk_id_parse(BTID);
	assert_int_equal(id.who, PSK_NODE);
	assert_string_equal(id.name, BTID);
	id = psk_id_parse("3GPP-bootstrapping," BTID);
	assert_int_equal(id.who, PSK_NODE);
	assert_string_equal(id.name, BTID);
	id = psk_id_parse("3GPP-bootstrapping-uicc," BTID);
	assert_int_equal(id.who, PSK_NODE_UICC);
	id = psk_id_parse("oneM2M-target,/in-cse-1");
	assert_int_equal(id.who, PSK_TARGET);
	assert_string_equal(id.name, "/in-cse-1");
}

static void test_psk_id_bad(void **state)
{
	(void)state;
	const char *bad[] = {
		"", "not-a-btid", "3GPP-bootstrapping,", "3GPP-bootstrapping,junk@x",
		"3GPP-bootstrapping-digest," BTID, "oneM2M-target,", "oneM2M-target,a b",
		"AAECAwQFBgcICQoLDA0O@bsf" /* 15 octets of RAND */, "@bsf",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct psk_id id = psk_id_parse(bad[i]);
		if (id.who != PSK_BAD)
			fail_msg("accepted bad identity \"%s\"", bad[i]);
		assert_non_null(id.why);
	}
	assert_int_equal(psk_id_parse(NULL).who, PSK_BAD);
}

static void test_nonces_single_use(void **state)
{
	(void)state;
	struct nonces *t;
	char a[NONCE_HEX_LEN + 1], b[NONCE_HEX_LEN + 1];
	assert_int_equal(nonces_new(&t, 4, 30), GBA_OK);
	assert_int_equal(nonces_issue(t, a), GBA_OK);
	assert_int_equal(nonces_issue(t, b), GBA_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(nonces_take(t, a, strlen(a)), GBA_OK);
	assert_int_equal(nonces_take(t, a, strlen(a)), GBA_ERR_NOT_FOUND);   /* replay */
	/* A forged nonce for b's slot neither works nor spoils b. */
	char forged[NONCE_HEX_LEN + 1];
	strcpy(forged, b);
	forged[NONCE_HEX_LEN - 1] = forged[NONCE_HEX_LEN - 1] == '0' ? '1' : '0';
	assert_int_equal(nonces_take(t, forged, strlen(forged)), GBA_ERR_NOT_FOUND);
	assert_int_equal(nonces_take(t, b, strlen(b)), GBA_OK);
	assert_int_equal(nonces_take(t, "zz", 2), GBA_ERR_NOT_FOUND);
	assert_int_equal(nonces_take(t, "ffffffff000000000000000000000000", 32), GBA_ERR_NOT_FOUND);
	nonces_free(t);
}

static void test_nonces_evict(void **state)
{
	(void)state;
	struct nonces *t;
	char first[NONCE_HEX_LEN + 1], other[NONCE_HEX_LEN + 1];
	assert_int_equal(nonces_new(&t, 2, 30), GBA_OK);
	nonces_issue(t, first);
	nonces_issue(t, other);
	nonces_issue(t, other);   /* takes first's slot */
	assert_int_equal(nonces_take(t, first, strlen(first)), GBA_ERR_NOT_FOUND);
	nonces_free(t);
}

static char db_path[64];
static const char *redis_uri;   /* --redis */
static int on_redis;            /* the store tests now run on Redis */

/* Empty the test's Redis database (the URI's host, port and DB). */
static int flush_redis(void)
{
	char host[64];
	int port = 0;
	unsigned db = 0;
	if (sscanf(redis_uri, "redis://%63[^:]:%d/%u", host, &port, &db) < 2)
		return -1;
	redisContext *c = redisConnect(host, port);
	if (!c || c->err) {
		if (c)
			redisFree(c);
		return -1;
	}
	redisReply *r1 = redisCommand(c, "SELECT %u", db);
	redisReply *r2 = redisCommand(c, "FLUSHDB");
	int ok = r1 && r2 && r2->type == REDIS_REPLY_STATUS;
	if (r1)
		freeReplyObject(r1);
	if (r2)
		freeReplyObject(r2);
	redisFree(c);
	return ok ? 0 : -1;
}

static const char *sentinel_uri;     /* --sentinel: the key store on Redis Sentinel */
static const char *sentinel_primary; /* its first primary, HOST:PORT */

/* A raw hiredis connection to "HOST:PORT...", or NULL. */
static redisContext *raw_connect(const char *addr)
{
	char host[64];
	int port = 0;
	if (sscanf(addr, "%63[^:]:%d", host, &port) != 2)
		return NULL;
	redisContext *c = redisConnect(host, port);
	if (c && c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* The first reply string of a command on c ("" when none), into out. */
static void raw_first(redisContext *c, const char *cmd, char *out, size_t size)
{
	redisReply *r = redisCommand(c, cmd);
	const redisReply *e = r && r->type == REDIS_REPLY_ARRAY && r->elements ? r->element[0] : r;
	snprintf(out, size, "%s", e && (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
					  ? e->str : "");
	if (r)
		freeReplyObject(r);
}

static int make_store(void **state)
{
	struct keystore *ks;
	if (on_redis) {
		if (flush_redis() || ks_open(&ks, redis_uri))
			return -1;
		*state = ks;
		return 0;
	}
	snprintf(db_path, sizeof(db_path), "/tmp/test_naf_ks_%d.db", (int)getpid());
	unlink(db_path);
	if (ks_open(&ks, db_path))
		return -1;
	*state = ks;
	return 0;
}

static int drop_store(void **state)
{
	char p[80];
	ks_close(*state);
	if (on_redis)
		return 0;
	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
	return 0;
}

static struct ks_node a_node(const char *kmid, const char *impi, const char *node_id)
{
	struct ks_node n = { .expires = 4000000000LL, .enrolled = 1 };
	snprintf(n.kmid, sizeof(n.kmid), "%s", kmid);
	snprintf(n.impi, sizeof(n.impi), "%s", impi);
	snprintf(n.node_id, sizeof(n.node_id), "%s", node_id);
	strcpy(n.km_kcv, "abcdef");
	return n;
}

static struct ks_key a_key(const char *key_id, const char *node_id, const char *target,
			   int64_t expires)
{
	struct ks_key k = { .expires = expires };
	snprintf(k.key_id, sizeof(k.key_id), "%s", key_id);
	snprintf(k.kmid, sizeof(k.kmid), "%s", BTID);
	snprintf(k.node_id, sizeof(k.node_id), "%s", node_id);
	snprintf(k.target, sizeof(k.target), "%s", target);
	strcpy(k.suid, "22");
	memset(k.kc, 0x5a, sizeof(k.kc));
	return k;
}

static void test_store_file_private(void **state)
{
	(void)state;
	struct stat st;
	assert_int_equal(stat(db_path, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
}

static void test_store_nodes_keys(void **state)
{
	struct keystore *ks = *state;
	struct ks_node n = a_node(BTID, "impi@x", "CAE1"), got;
	struct ks_key k = a_key("k1@naf", "CAE1", "/cse-t", 4000000000LL), gk;
	assert_int_equal(ks_get_node(ks, BTID, &got), GBA_ERR_NOT_FOUND);
	assert_int_equal(ks_put_node(ks, &n), GBA_OK);
	assert_int_equal(ks_get_node(ks, BTID, &got), GBA_OK);
	assert_string_equal(got.node_id, "CAE1");
	assert_string_equal(got.impi, "impi@x");
	assert_int_equal(ks_put_key(ks, &k), GBA_OK);
	assert_int_equal(ks_put_key(ks, &k), GBA_ERR_EXISTS);
	assert_int_equal(ks_get_key(ks, "k1@naf", 1000, &gk), GBA_OK);
	assert_memory_equal(gk.kc, k.kc, 32);
	assert_string_equal(gk.target, "/cse-t");
	/* Expired at the time asked: not found, and gone afterwards. */
	assert_int_equal(ks_get_key(ks, "k1@naf", 4000000000LL, &gk), GBA_ERR_NOT_FOUND);
	assert_int_equal(ks_get_key(ks, "k1@naf", 1000, &gk), GBA_ERR_NOT_FOUND);
}

/*
 * On a full disk nothing is stored and the write says so distinctly
 * (GBA_ERR_STORE_UNWRITABLE: gba-naf answers 503 with Retry-After, so no
 * enrolment or key is acknowledged that is not stored); writes work again
 * once there is room.  SQLite only: a disk under Redis is Redis's.
 */
static void test_store_full_disk(void **state)
{
	struct keystore *ks = *state;
	struct ks_node n = a_node(BTID, "impi@x", "CAE1"), got;
	struct ks_key k = a_key("k2@naf", "CAE1", "/cse-t", 4000000000LL), gk;
	char kmids[4][KS_ID_MAX + 1];
	unsigned n_kmids = 0;

	if (on_redis)
		skip();
	assert_int_equal(ks_put_node(ks, &n), GBA_OK);   /* the file has its pages */
	n = a_node("AAECAwQFBgcICQoLDA0OEA==@bsf.example.org", "impi@y", "CAE2");
	disk_fill();
	assert_int_equal(ks_put_node(ks, &n), GBA_ERR_STORE_UNWRITABLE);
	assert_int_equal(ks_put_key(ks, &k), GBA_ERR_STORE_UNWRITABLE);
	/* A revocation is reported only once it is stored (its COMMIT fails here). */
	assert_int_equal(ks_revoke(ks, "CAE9", kmids, 4, &n_kmids), GBA_ERR_STORE_UNWRITABLE);
	disk_free();
	assert_false(ks_is_revoked(ks, NULL, "CAE9"));
	assert_int_equal(ks_get_node(ks, n.kmid, &got), GBA_ERR_NOT_FOUND);
	assert_int_equal(ks_get_key(ks, "k2@naf", 1000, &gk), GBA_ERR_NOT_FOUND);
	assert_int_equal(ks_put_node(ks, &n), GBA_OK);
	assert_int_equal(ks_put_key(ks, &k), GBA_OK);
	assert_int_equal(ks_get_node(ks, n.kmid, &got), GBA_OK);
}

static void test_store_revoke(void **state)
{
	struct keystore *ks = *state;
	struct ks_node n = a_node(BTID, "impi@x", "CAE1"), got;
	struct ks_key k = a_key("k2@naf", "CAE1", "/cse-t", 4000000000LL), gk;
	char kmids[4][KS_ID_MAX + 1];
	unsigned nk = 0;
	ks_put_node(ks, &n);
	ks_put_key(ks, &k);
	assert_false(ks_is_revoked(ks, "impi@x", "CAE1"));
	assert_int_equal(ks_revoke(ks, "CAE1", kmids, 4, &nk), GBA_OK);
	assert_int_equal(nk, 1);
	assert_string_equal(kmids[0], BTID);
	assert_true(ks_is_revoked(ks, "impi@x", ""));
	assert_true(ks_is_revoked(ks, "", "CAE1"));
	assert_int_equal(ks_get_node(ks, BTID, &got), GBA_ERR_NOT_FOUND);
	assert_int_equal(ks_get_key(ks, "k2@naf", 1000, &gk), GBA_ERR_NOT_FOUND);
	assert_int_equal(ks_reinstate(ks, "impi@x"), GBA_OK);
	assert_int_equal(ks_reinstate(ks, "CAE1"), GBA_OK);
	assert_false(ks_is_revoked(ks, "impi@x", "CAE1"));
	assert_int_equal(ks_reinstate(ks, "CAE1"), GBA_ERR_NOT_FOUND);
	/* A name with no enrolment is still listed (a node yet to come). */
	assert_int_equal(ks_revoke(ks, "CAE9", kmids, 4, &nk), GBA_OK);
	assert_int_equal(nk, 0);
	assert_true(ks_is_revoked(ks, "", "CAE9"));
}

static void test_store_purge(void **state)
{
	struct keystore *ks = *state;
	struct ks_node n = a_node("x@y", "i", "CAE2");
	n.expires = 100;
	struct ks_key k = a_key("k3@naf", "CAE2", "/t", 100);
	unsigned gone = 0, nodes, keys, revoked;
	ks_put_node(ks, &n);
	ks_put_key(ks, &k);
	assert_int_equal(ks_purge(ks, 200, &gone), GBA_OK);
	/* Redis drops expired records itself (EXAT): purge finds nothing left. */
	assert_int_equal(gone, on_redis ? 0 : 2);
	assert_int_equal(ks_counts(ks, &nodes, &keys, &revoked), GBA_OK);
	assert_int_equal(nodes + keys, 0);
}

/* Store URIs: the schemes, and a Redis URI that is malformed or dead. */
static void test_store_uris(void **state)
{
	(void)state;
	struct keystore *ks;
	assert_int_equal(ks_open(&ks, "mysql://127.0.0.1:3306/x"), GBA_ERR_UNSUPPORTED);
	assert_int_equal(ks_open(&ks, "redis://127.0.0.1"), GBA_ERR_INVALID_ARG);
	assert_int_equal(ks_open(&ks, "redis://127.0.0.1:0"), GBA_ERR_INVALID_ARG);
	assert_int_equal(ks_open(&ks, "redis://127.0.0.1:6379/x"), GBA_ERR_INVALID_ARG);
	assert_int_equal(ks_open(&ks, "redis://127.0.0.1:6379?pool=0"), GBA_ERR_INVALID_ARG);
	assert_int_equal(ks_open(&ks, "redis://127.0.0.1:6379?bogus=1"), GBA_ERR_INVALID_ARG);
	/* Port 1 on loopback: refused at once. */
	assert_int_equal(ks_open(&ks, "redis://127.0.0.1:1?timeout_ms=200"), GBA_ERR_UNAVAILABLE);
	snprintf(db_path, sizeof(db_path), "/tmp/test_naf_ks_uri_%d.db", (int)getpid());
	char uri[80];
	snprintf(uri, sizeof(uri), "sqlite:%s", db_path);
	assert_int_equal(ks_open(&ks, uri), GBA_OK);
	ks_close(ks);
	unlink(db_path);
}

/*
 * Two handles on one Redis, as two gba-naf processes: what one records the
 * other sees, and a revocation through one holds for both, also against a
 * key registered after it (the register script refuses a revoked node).
 */
static void test_store_redis_shared(void **state)
{
	struct keystore *a = *state, *b;
	assert_int_equal(ks_open(&b, redis_uri), GBA_OK);
	struct ks_node n = a_node(BTID, "impi@x", "CAE1"), got;
	struct ks_key k = a_key("k5@naf", "CAE1", "/cse-t", 4000000000LL), gk;
	char kmids[4][KS_ID_MAX + 1];
	unsigned nk = 0, nodes, keys, revoked;
	assert_int_equal(ks_put_node(a, &n), GBA_OK);
	assert_int_equal(ks_put_key(a, &k), GBA_OK);
	assert_int_equal(ks_get_node(b, BTID, &got), GBA_OK);
	assert_string_equal(got.km_kcv, "abcdef");
	assert_int_equal(got.expires, 4000000000LL);
	assert_int_equal(ks_put_key(b, &k), GBA_ERR_EXISTS);
	assert_int_equal(ks_get_key(b, "k5@naf", 1000, &gk), GBA_OK);
	assert_memory_equal(gk.kc, k.kc, 32);
	assert_string_equal(gk.suid, "22");
	assert_string_equal(gk.kmid, BTID);
	assert_int_equal(ks_counts(b, &nodes, &keys, &revoked), GBA_OK);
	assert_int_equal(nodes, 1);
	assert_int_equal(keys, 1);
	assert_int_equal(revoked, 0);
	/* Revoked through b by IMPI: the node's keys are gone for a. */
	assert_int_equal(ks_revoke(b, "impi@x", kmids, 4, &nk), GBA_OK);
	assert_int_equal(nk, 1);
	assert_string_equal(kmids[0], BTID);
	assert_true(ks_is_revoked(a, "impi@x", "CAE1"));
	assert_true(ks_is_revoked(a, "", "CAE1"));
	assert_int_equal(ks_get_key(a, "k5@naf", 1000, &gk), GBA_ERR_NOT_FOUND);
	assert_int_equal(ks_get_node(a, BTID, &got), GBA_ERR_NOT_FOUND);
	/* a checked before the revocation and writes after it: refused. */
	struct ks_key late = a_key("k6@naf", "CAE1", "/cse-t", 4000000000LL);
	assert_int_equal(ks_put_key(a, &late), GBA_ERR_NOT_AUTHORIZED);
	assert_int_equal(ks_get_key(b, "k6@naf", 1000, &gk), GBA_ERR_NOT_FOUND);
	assert_int_equal(ks_counts(a, &nodes, &keys, &revoked), GBA_OK);
	assert_int_equal(nodes + keys, 0);
	assert_int_equal(revoked, 2);
	/* Reinstated through a: b lets the node register again. */
	assert_int_equal(ks_reinstate(a, "impi@x"), GBA_OK);
	assert_int_equal(ks_reinstate(a, "CAE1"), GBA_OK);
	assert_false(ks_is_revoked(b, "impi@x", "CAE1"));
	assert_int_equal(ks_put_node(b, &n), GBA_OK);
	assert_int_equal(ks_put_key(b, &late), GBA_OK);
	assert_int_equal(ks_get_key(a, "k6@naf", 1000, &gk), GBA_OK);
	/* A second enrolment of the node (a new B-TID) goes with the first. */
	struct ks_node n2 = a_node("BBECAwQFBgcICQoLDA0ODw==@bsf", "impi@x", "CAE1");
	assert_int_equal(ks_put_node(a, &n2), GBA_OK);
	assert_int_equal(ks_revoke(a, "CAE1", kmids, 4, &nk), GBA_OK);
	assert_int_equal(nk, 2);
	assert_int_equal(ks_get_node(b, n2.kmid, &got), GBA_ERR_NOT_FOUND);
	assert_int_equal(ks_get_key(b, "k6@naf", 1000, &gk), GBA_ERR_NOT_FOUND);
	ks_close(b);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_config(void **state)
{
	(void)state;
	char path[64], err[512];
	struct naf_config *c = calloc(1, sizeof(*c));
	snprintf(path, sizeof(path), "/tmp/test_naf_cfg_%d.conf", (int)getpid());
	write_file(path, "[naf]\nfqdn = naf.example.org\n[ua]\nua_id = 01 00 01 00 ae\n"
			 "[policy]\nkey_lifetime = 2h\n[zn]\nidentity = naf.example.org\n"
			 "realm = example.org\nbsf_identity = bsf.example.org\n"
			 "bsf_address = 127.0.0.1\ntls_cert = /etc/n.pem\ntls_key = /etc/n.key\n"
			 "tls_ca = /etc/ca.pem\n[groups]\nCAE1 = meters\n"
			 "[lifetimes]\ngroup:meters = 10m\nCAE2 = 30s\n"
			 "[targets]\n/in-cse = 000102030405060708090a0b0c0d0e0f\n");
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), 0);
	assert_int_equal(ncfg_finish(c, err, sizeof(err)), 0);
	assert_int_equal(c->key_lifetime, 7200);
	assert_int_equal(c->ua_id[4], 0xae);
	assert_int_equal(ncfg_lifetime_for(c, "CAE1"), 600);
	assert_int_equal(ncfg_lifetime_for(c, "CAE2"), 30);
	assert_int_equal(ncfg_lifetime_for(c, "CAE3"), 7200);
	assert_non_null(ncfg_map_get(&c->targets, "/in-cse"));
	assert_int_equal(ncfg_set_arg(c, "policy.key_lifetime=5m", err, sizeof(err)), 0);
	assert_int_equal(c->key_lifetime, 300);
	assert_int_equal(ncfg_set_arg(c, "policy.nope=1", err, sizeof(err)), -1);
	/* Zn is TLS unless zn.transport = tcp: without its files, refused. */
	assert_int_equal(c->zn_transport, 0);
	assert_int_equal(ncfg_set_arg(c, "zn.tls_ca=", err, sizeof(err)), 0);
	assert_int_equal(ncfg_finish(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tls_ca"));
	assert_int_equal(ncfg_set_arg(c, "zn.transport=tcp", err, sizeof(err)), 0);
	assert_int_equal(ncfg_finish(c, err, sizeof(err)), 0);
	assert_int_equal(ncfg_set_arg(c, "zn.transport=udp", err, sizeof(err)), -1);
	/* Errors name the line. */
	write_file(path, "[naf]\nfqdn = a\nbogus = 1\n");
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: key 'naf.bogus': unknown key; known in [naf]: fqdn, "
				    "state_dir"));
	/* A PSK of [targets] never appears in a message. */
	write_file(path, "[targets]\n/in-cse = 00112233445566778899aabbccddeeff\n"
			 "/in-cse = 00112233445566778899aabbccddeeff\n");
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: key 'targets./in-cse': given twice"));
	assert_null(strstr(err, "0011"));
	/* A port is a number, not a duration (bsf_port = 1m was 60). */
	write_file(path, "[zn]\nbsf_port = 1m\n");
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: key 'zn.bsf_port': '1m' is not a decimal number"));
	/* A key given twice is refused (the last one used to win). */
	write_file(path, "[naf]\nfqdn = a\nfqdn = b\n");
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: key 'naf.fqdn': given twice"));
	write_file(path, "[ua]\nua_id = 0102\n");
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), -1);
	/* A short target PSK is refused. */
	write_file(path, "[naf]\nfqdn = a\n[zn]\nidentity = a\nrealm = b\nbsf_identity = c\n"
			 "bsf_address = 127.0.0.1\ntransport = tcp\n[targets]\nx = 0011\n");
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), 0);
	assert_int_equal(ncfg_finish(c, err, sizeof(err)), -1);
	unlink(path);
	free(c);
}

/*
 * A line is read whole or refused (found by fuzz_config): lines used to be
 * read into a 2048-octet buffer, so that a longer one was taken as two
 * lines, and a NUL octet silently ended its line.
 */
static void test_config_line_bytes(void **state)
{
	(void)state;
	static const char nul[] = "[naf]\nfqdn = evil.example.org\0.good\n";
	static char text[5100];
	char path[64], err[512];
	struct naf_config *c = calloc(1, sizeof(*c));
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test_naf_cfg_%d.conf", (int)getpid());
	/* A line of 2071 octets, whose octets from 2047 on read like a line. */
	memset(text, ' ', 5000);
	memcpy(text, "[naf]\nstate_dir = /x", 20);
	memcpy(text + 6 + 2047, "fqdn = evil.example.org\n", 25);
	write_file(path, text);
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: "));
	assert_string_equal(c->fqdn, "");
	/* Over 4096 octets: refused, even a comment. */
	memset(text, '#', 5000);
	text[5000] = '\0';
	write_file(path, text);
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: line longer than 4096 octets"));
	/* 4096 octets are still a line. */
	text[4096] = '\n';
	text[4097] = '\0';
	write_file(path, text);
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), 0);
	/* A NUL ends nothing: the line is refused. */
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, f), sizeof(nul) - 1);
	fclose(f);
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: NUL octet"));
	unlink(path);
	free(c);
}

/* ---- request.c: the USS list and registration bodies ------------------ */

static void uss_id(const char *uss, char out[KS_ID_MAX + 1])
{
	svc_uss_node_id(uss, strlen(uss), out);
}

static void test_uss_node_id(void **state)
{
	char id[KS_ID_MAX + 1];

	(void)state;
	uss_id("<ussList xmlns=\"uri:3gpp-gba\"><uss id=\"1\" type=\"1\">"
	       "<uids><uid>/CSE-node-1</uid><uid>/CSE-other</uid></uids></uss></ussList>", id);
	assert_string_equal(id, "/CSE-node-1");
	uss_id("<ussList xmlns=\"uri:3gpp-gba\"><uss id=\"1\"/></ussList>", id);
	assert_string_equal(id, "");
	uss_id("not xml at all <", id);
	assert_string_equal(id, "");
	/* A DTD is refused: an entity outside a <uid> once made the walk loop
	 * for ever (found by fuzz_naf_request), and entities can blow up. */
	uss_id("<!DOCTYPE ussList [<!ENTITY e \"x\">]><ussList>&e;</ussList>", id);
	assert_string_equal(id, "");
	uss_id("<!DOCTYPE ussList [<!ENTITY e \"/CSE-evil\">]><ussList><uss><uids>"
	       "<uid>&e;</uid></uids></uss></ussList>", id);
	assert_string_equal(id, "");
}

static void test_registration_bodies(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "{\"suid\": 1, \"targets\": [\"/CSE-t\"]}",
		"{\"suid\": \"22\"}", "{\"suid\": \"22\", \"targets\": []}",
		"{\"suid\": \"22\", \"targets\": [\"/a\", \"/b\"]}",
		"{\"suid\": \"22\", \"targets\": [\"/CSE-t\"], \"lifetime\": -5}",
		"{\"suid\": \"2\\u00002\", \"targets\": [\"/CSE-t\"]}",
	};
	const char *ok = "{\"suid\": \"22\", \"targets\": [\"/CSE-t\"], \"lifetime\": 600}";
	const char *suid = NULL, *target = NULL;
	json_int_t lifetime = -1;
	json_t *root = NULL;
	struct svc_error e;

	(void)state;
	assert_int_equal(svc_parse_registration(ok, strlen(ok), &suid, &target, &lifetime,
						&root, &e), 0);
	assert_string_equal(suid, "22");
	assert_string_equal(target, "/CSE-t");
	assert_int_equal(lifetime, 600);
	json_decref(root);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		root = NULL;
		memset(&e, 0, sizeof(e));
		if (svc_parse_registration(bad[i], strlen(bad[i]), &suid, &target, &lifetime,
					   &root, &e) == 0)
			fail_msg("accepted bad body %zu: %s", i, bad[i]);
		assert_int_equal(e.status, 400);
		json_decref(root);
	}
}

/*
 * gba-naf's key store on Redis Sentinel, wait=1.  Handle x has talked to
 * the first primary when a SENTINEL FAILOVER hands over to a replica and
 * the old primary turns replica (the sentinels drop its clients): x
 * follows without reopening, its reads still find every key and its
 * writes go to the new primary, and what another handle y writes there
 * is found through x.  A WAIT no replica set can satisfy is
 * GBA_ERR_STORE_UNWRITABLE.
 */
static void test_store_sentinel_failover(void **state)
{
	struct keystore *x, *y;
	struct ks_key k, gk;
	char id[32], role[16] = "", admin[80];
	(void)state;
	if (!sentinel_uri)
		skip();
	redisContext *old = raw_connect(sentinel_primary);
	assert_non_null(old);
	redisReply *r = redisCommand(old, "FLUSHALL");
	assert_non_null(r);
	freeReplyObject(r);
	assert_int_equal(ks_open(&x, sentinel_uri), GBA_OK);
	for (int i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "before%d@naf", i);
		k = a_key(id, "CAE1", "/cse-t", 4000000000LL);
		assert_int_equal(ks_put_key(x, &k), GBA_OK);
	}
	/* SENTINEL FAILOVER through the first sentinel of the URI. */
	assert_int_equal(sscanf(sentinel_uri, "redis-sentinel://%79[^,/]", admin), 1);
	redisContext *sen = raw_connect(admin);
	assert_non_null(sen);
	r = redisCommand(sen, "SENTINEL FAILOVER gbamaster");
	assert_true(r && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	redisFree(sen);
	redisFree(old);
	/* The sentinels kill the old primary's clients when they demote it. */
	for (int i = 0; i < 200 && strcmp(role, "slave"); i++) {
		struct timespec pause = { 0, 100 * 1000 * 1000 };
		nanosleep(&pause, NULL);
		if ((old = raw_connect(sentinel_primary))) {
			raw_first(old, "ROLE", role, sizeof(role));
			redisFree(old);
		}
	}
	assert_string_equal(role, "slave");

	assert_int_equal(ks_open(&y, sentinel_uri), GBA_OK);
	k = a_key("by-y@naf", "CAE1", "/cse-t", 4000000000LL);
	assert_int_equal(ks_put_key(y, &k), GBA_OK);
	assert_int_equal(ks_get_key(x, "by-y@naf", 1000, &gk), GBA_OK);
	for (int i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "after%d@naf", i);
		k = a_key(id, "CAE1", "/cse-t", 4000000000LL);
		assert_int_equal(ks_put_key(x, &k), GBA_OK);
		assert_int_equal(ks_get_key(y, id, 1000, &gk), GBA_OK);
		snprintf(id, sizeof(id), "before%d@naf", i);
		assert_int_equal(ks_get_key(x, id, 1000, &gk), GBA_OK);
		assert_memory_equal(gk.kc, k.kc, 32);
	}
	assert_int_equal(ks_get_key(x, "never@naf", 1000, &gk), GBA_ERR_NOT_FOUND);
	ks_close(y);
	ks_close(x);

	/* WAIT for more replicas than there are: the key is not acknowledged
	 * (gba-naf answers 503 store_unwritable and hands out no Km). */
	char uri[600];
	struct keystore *z;
	snprintf(uri, sizeof(uri), "%s&wait=3&wait_ms=200", sentinel_uri);
	assert_int_equal(ks_open(&z, uri), GBA_OK);
	k = a_key("unacked@naf", "CAE1", "/cse-t", 4000000000LL);
	assert_int_equal(ks_put_key(z, &k), GBA_ERR_STORE_UNWRITABLE);
	ks_close(z);
}

/*
 * A TLS 1.3 ClientHello body with one PSK identity "abcd" and a 32-octet
 * binder of 0x5a; more: an extension after pre_shared_key; blen: the binder's length.
 */
static size_t client_hello(uint8_t *out, int more, uint8_t blen)
{
	uint8_t *p = out, *exts;
	memset(p, 0, 2 + 32 + 1), p[0] = 3, p[1] = 3, p += 2 + 32 + 1;
	*p++ = 0, *p++ = 2, *p++ = 0x13, *p++ = 0x01;   /* cipher_suites */
	*p++ = 1, *p++ = 0;                             /* compression */
	exts = p, p += 2;
	*p++ = 0, *p++ = 43, *p++ = 0, *p++ = 3, *p++ = 2, *p++ = 3, *p++ = 4;
	if (more)
		*p++ = 0, *p++ = 43, *p++ = 0, *p++ = 0;
	*p++ = 0, *p++ = 41, *p++ = 0, *p++ = (uint8_t)(2 + 10 + 2 + 1 + blen);
	*p++ = 0, *p++ = 10, *p++ = 0, *p++ = 4;
	memcpy(p, "abcd", 4), p += 4;
	memset(p, 0, 4), p += 4;                        /* obfuscated_ticket_age */
	*p++ = 0, *p++ = (uint8_t)(1 + blen), *p++ = blen;
	memset(p, 0x5a, blen), p += blen;
	if (more)   /* move the empty extension after pre_shared_key */
		memmove(exts + 2 + 7, exts + 2 + 11, (size_t)(p - exts - 2 - 11)),
		memcpy(p - 4, "\0\x2b\0\0", 4);
	exts[0] = (uint8_t)((p - exts - 2) >> 8), exts[1] = (uint8_t)(p - exts - 2);
	return (size_t)(p - out);
}

/* ClientHello parsing for the TLS 1.3 binder (gba-naf's decrypt_error): every
 * truncation and a pre_shared_key that is not last are refused, not read past. */
static void test_psk_binder_parse(void **state)
{
	uint8_t ch[256], hash[32], binder[32], again[32], psk[32] = { 1 }, want[32];
	size_t len = client_hello(ch, 0, 32);
	(void)state;
	memset(want, 0x5a, sizeof(want));
	assert_int_equal(psk_binder_from_hello(ch, len, hash, binder), 0);
	assert_memory_equal(binder, want, 32);
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, ch, n);
		assert_int_equal(psk_binder_from_hello(cut, n, again, binder), -1);
		free(cut);
	}
	len = client_hello(ch, 1, 32);
	assert_int_equal(psk_binder_from_hello(ch, len, again, binder), -1);
	len = client_hello(ch, 0, 48);   /* SHA-384's: not ours to check */
	assert_int_equal(psk_binder_from_hello(ch, len, again, binder), -1);
	/* A binder made up is not one of psk over hash. */
	assert_int_equal(psk_binder_verify(psk, sizeof(psk), hash, want), 0);
}

int main(int argc, char **argv)
{
	if ((argc == 3 || argc == 6) && !strcmp(argv[1], "--redis")) {
		redis_uri = argv[2];
		if (argc == 6 && strcmp(argv[3], "--sentinel"))
			return 2;
		if (argc == 6) {
			sentinel_uri = argv[4];
			sentinel_primary = argv[5];
		}
	} else if (argc != 1) {
		fprintf(stderr, "usage: test_naf_core [--redis redis://HOST:PORT/DB]\n");
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psk_id_forms),
		cmocka_unit_test(test_psk_id_bad),
		cmocka_unit_test(test_psk_binder_parse),
		cmocka_unit_test(test_nonces_single_use),
		cmocka_unit_test(test_nonces_evict),
		cmocka_unit_test_setup_teardown(test_store_file_private, make_store, drop_store),
		cmocka_unit_test_setup_teardown(test_store_nodes_keys, make_store, drop_store),
		cmocka_unit_test_setup_teardown(test_store_full_disk, make_store, drop_store),
		cmocka_unit_test_setup_teardown(test_store_revoke, make_store, drop_store),
		cmocka_unit_test_setup_teardown(test_store_purge, make_store, drop_store),
		cmocka_unit_test(test_store_uris),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_config_line_bytes),
		cmocka_unit_test(test_uss_node_id),
		cmocka_unit_test(test_registration_bodies),
	};
	const struct CMUnitTest redis_tests[] = {
		cmocka_unit_test_setup_teardown(test_store_nodes_keys, make_store, drop_store),
		cmocka_unit_test_setup_teardown(test_store_revoke, make_store, drop_store),
		cmocka_unit_test_setup_teardown(test_store_purge, make_store, drop_store),
		cmocka_unit_test_setup_teardown(test_store_redis_shared, make_store, drop_store),
		cmocka_unit_test(test_store_sentinel_failover),
	};
	int failed = cmocka_run_group_tests_name("naf_core", tests, NULL, NULL);
	if (redis_uri) {
		on_redis = 1;
		failed += cmocka_run_group_tests_name("naf_core_redis", redis_tests, NULL, NULL);
	}
	return failed;
}
