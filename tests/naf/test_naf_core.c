/*
 * test_naf_core.c - gba-naf's parts without Zn or HTTP: psk_identity forms,
 * single-use nonces, the key store (nodes, keys, expiry, revocation) and
 * the configuration parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "keystore.h"
#include "nonces.h"
#include "psk_id.h"

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

static int make_store(void **state)
{
	snprintf(db_path, sizeof(db_path), "/tmp/test_naf_ks_%d.db", (int)getpid());
	unlink(db_path);
	struct keystore *ks;
	if (ks_open(&ks, db_path))
		return -1;
	*state = ks;
	return 0;
}

static int drop_store(void **state)
{
	char p[80];
	ks_close(*state);
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
	assert_int_equal(gone, 2);
	assert_int_equal(ks_counts(ks, &nodes, &keys, &revoked), GBA_OK);
	assert_int_equal(nodes + keys, 0);
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
			 "bsf_address = 127.0.0.1\n[groups]\nCAE1 = meters\n"
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
	/* Errors name the line. */
	write_file(path, "[naf]\nfqdn = a\nbogus = 1\n");
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: unknown key"));
	write_file(path, "[ua]\nua_id = 0102\n");
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), -1);
	/* A short target PSK is refused. */
	write_file(path, "[naf]\nfqdn = a\n[zn]\nidentity = a\nrealm = b\nbsf_identity = c\n"
			 "bsf_address = 127.0.0.1\n[targets]\nx = 0011\n");
	ncfg_defaults(c);
	assert_int_equal(ncfg_load(c, path, err, sizeof(err)), 0);
	assert_int_equal(ncfg_finish(c, err, sizeof(err)), -1);
	unlink(path);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psk_id_forms),
		cmocka_unit_test(test_psk_id_bad),
		cmocka_unit_test(test_nonces_single_use),
		cmocka_unit_test(test_nonces_evict),
		cmocka_unit_test_setup_teardown(test_store_file_private, make_store, drop_store),
		cmocka_unit_test_setup_teardown(test_store_nodes_keys, make_store, drop_store),
		cmocka_unit_test_setup_teardown(test_store_revoke, make_store, drop_store),
		cmocka_unit_test_setup_teardown(test_store_purge, make_store, drop_store),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
