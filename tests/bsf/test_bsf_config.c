/*
 * test_bsf_config.c - the BSF's configuration parser: good files, every
 * kind of bad line (with its line number in the message), overrides and
 * the whole-config checks.
 */
#define _POSIX_C_SOURCE 200809L /* fmemopen */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "config.h"

/* Parse text as a file named "t.conf"; returns the parser's result. */
static int parse(struct bsf_config *cfg, const char *text, char *err, size_t err_size)
{
	struct config_seen seen = { { 0 } };
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(f);
	config_defaults(cfg);
	err[0] = '\0';
	rc = config_parse_file(cfg, &seen, f, "t.conf", err, err_size);
	fclose(f);
	return rc;
}

/* The text must fail with a message starting with want (e.g. "t.conf:3:"). */
static void expect_error(const char *text, size_t text_len, const char *want)
{
	struct config_seen seen = { { 0 } };
	struct bsf_config cfg;
	char err[CFG_ERR_MAX];
	FILE *f = fmemopen((void *)text, text_len, "r");

	assert_non_null(f);
	config_defaults(&cfg);
	err[0] = '\0';
	assert_int_equal(config_parse_file(&cfg, &seen, f, "t.conf", err, sizeof(err)), -1);
	fclose(f);
	if (strncmp(err, want, strlen(want))) {
		print_error("got \"%s\", want it to start with \"%s\"\n", err, want);
		fail();
	}
}

#define EXPECT_ERROR(text, want) expect_error((text), sizeof(text) - 1, (want))

static void test_defaults(void **state)
{
	struct bsf_config cfg;
	char err[CFG_ERR_MAX];
	(void)state;

	config_defaults(&cfg);
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.domain, "bsf.example.org");
	assert_string_equal(cfg.realm, "bsf.example.org");
	assert_int_equal(cfg.nonce_lifetime, 30);
	assert_int_equal(cfg.key_lifetime, 86400);
	assert_int_equal(cfg.algorithm, GBA_DIGEST_ALG_AKAV1_MD5);
	assert_int_equal(cfg.av_source, AV_SOURCE_EMBEDDED);
	assert_string_equal(cfg.store_uri, "sqlite:/var/lib/gba-bsf/sessions.db");
	assert_string_equal(cfg.embedded_db, "/var/lib/gba-bsf/subscribers.db");
	assert_string_equal(cfg.admin_listen, "127.0.0.1:8081");
}

static void test_good_file(void **state)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"[bsf]\r\n"
		"  domain   =   bsf.mnc001.mcc001.pub.3gppnetwork.org  \n"
		"realm=bsf.local\n"
		"algorithm = AKAv2-MD5\n"
		"nonce_lifetime = 2m\n"
		"key_lifetime = 1d\n"
		"\t# indented comment\n"
		"[ ub ]\n"
		"listen = [::1]:8443\n"
		"max_body_size = 0\n"
		"rspauth_body = response\n"
		"[store]\n"
		"uri = redis://127.0.0.1:6379/2\n"
		"[log]\n"
		"impi = hash\n"
		"level = debug";                    /* no final newline */
	struct bsf_config cfg;
	char err[CFG_ERR_MAX];
	(void)state;

	assert_int_equal(parse(&cfg, text, err, sizeof(err)), 0);
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.domain, "bsf.mnc001.mcc001.pub.3gppnetwork.org");
	assert_string_equal(cfg.realm, "bsf.local");
	assert_int_equal(cfg.algorithm, GBA_DIGEST_ALG_AKAV2_MD5);
	assert_int_equal(cfg.nonce_lifetime, 120);
	assert_int_equal(cfg.key_lifetime, 86400);
	assert_string_equal(cfg.ub_listen, "[::1]:8443");
	assert_int_equal(cfg.max_body_size, 0);
	assert_int_equal(cfg.rspauth_body, RSPAUTH_BODY_RESPONSE);
	assert_string_equal(cfg.store_uri, "redis://127.0.0.1:6379/2");
	assert_int_equal(cfg.log_impi, GBA_LOG_IMPI_HASH);
	assert_int_equal(cfg.log_level, GBA_LOG_DEBUG);
}

static void test_bad_lines(void **state)
{
	(void)state;
	EXPECT_ERROR("[bsf]\ndomain = a\n[nope]\n", "t.conf:3: unknown section [nope]; known: bsf, ub, admin, store, av, embedded");
	EXPECT_ERROR("[bsf]\nfoo = 1\n", "t.conf:2: key 'bsf.foo': unknown key; known in [bsf]: state_dir, domain,");
	EXPECT_ERROR("domain = x\n", "t.conf:1: key outside any [section]");
	EXPECT_ERROR("[bsf]\n\ndomain\n", "t.conf:3: expected 'key = value'");
	EXPECT_ERROR("[bsf]\ndomain = a\ndomain = b\n", "t.conf:3: key 'bsf.domain': given twice");
	EXPECT_ERROR("[bsf]\nnonce_lifetime = 0\n", "t.conf:2: key 'bsf.nonce_lifetime': 0 is outside 1..3600");
	EXPECT_ERROR("[bsf]\nmax_pending = 12x\n", "t.conf:2: key 'bsf.max_pending': '12x' is not a decimal number");
	EXPECT_ERROR("[bsf]\nmax_pending = -5\n", "t.conf:2: key 'bsf.max_pending': '-5' is not a");
	EXPECT_ERROR("[bsf]\nmax_pending = 99999999999999999999999\n", "t.conf:2:");
	EXPECT_ERROR("[bsf]\nmax_pending =\n", "t.conf:2: key 'bsf.max_pending': '' is not a");
	EXPECT_ERROR("[bsf]\nnonce_lifetime = 5w\n", "t.conf:2: key 'bsf.nonce_lifetime': '5w' is not a duration");
	EXPECT_ERROR("[bsf]\nnonce_lifetime = s\n", "t.conf:2: key 'bsf.nonce_lifetime': 's' is not a");
	EXPECT_ERROR("[bsf]\nalgorithm = MD5\n",
		     "t.conf:2: key 'bsf.algorithm': 'MD5' is not one of AKAv1-MD5, AKAv2-MD5");
	EXPECT_ERROR("[bsf\n", "t.conf:1: section header without ']'");
	EXPECT_ERROR("[b sf]\n", "t.conf:1: bad section name 'b sf'");
	EXPECT_ERROR("[]\n", "t.conf:1: bad section name ''");
	EXPECT_ERROR("[bsf]\nDomain = x\n", "t.conf:2: key 'bsf.Domain': unknown key; known in [bsf]");
	EXPECT_ERROR("[bsf]\n= x\n", "t.conf:2: key missing before '='");
	EXPECT_ERROR("[bsf]\ndomain = a\0b\n", "t.conf:2: NUL octet");
	EXPECT_ERROR("[bsf]\ndomain = a\x01z\n", "t.conf:2: control character 0x01");
	EXPECT_ERROR("[bsf]\ndomain = a\rb\n", "t.conf:2: control character 0x0d");
}

static void test_long_values(void **state)
{
	char text[6000];
	(void)state;

	/* A value longer than its field. */
	memset(text, 0, sizeof(text));
	strcpy(text, "[bsf]\ndomain = ");
	memset(text + strlen(text), 'a', 300);
	strcat(text, "\n");
	expect_error(text, strlen(text), "t.conf:2: key 'bsf.domain': value longer than 255");
	/* A line longer than any line may be. */
	memset(text, 0, sizeof(text));
	strcpy(text, "[bsf]\n# ");
	memset(text + strlen(text), 'c', 5000);
	strcat(text, "\n");
	expect_error(text, strlen(text), "t.conf:2: line longer than 4096");
}

static void test_set_arg(void **state)
{
	struct bsf_config cfg;
	char err[CFG_ERR_MAX];
	(void)state;

	config_defaults(&cfg);
	assert_int_equal(config_set_arg(&cfg, "ub.max_connections=17", err, sizeof(err)), 0);
	assert_int_equal(cfg.max_connections, 17);
	assert_int_equal(config_set_arg(&cfg, "zh.hss_realm=a=b", err, sizeof(err)), 0);
	assert_string_equal(cfg.zh_hss_realm, "a=b");
	assert_int_equal(config_set_arg(&cfg, "ub.nope=1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--set: key 'ub.nope': unknown key; known in [ub]: listen, "
				     "tls_cert, "));
	assert_int_equal(config_set_arg(&cfg, "nope.key=1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--set: unknown section [nope]; known: bsf, ub,"));
	assert_int_equal(config_set_arg(&cfg, "novalue", err, sizeof(err)), -1);
	assert_int_equal(config_set_arg(&cfg, "a=b.c", err, sizeof(err)), -1);
	assert_int_equal(config_set_arg(&cfg, "ub.max_connections=0", err, sizeof(err)), -1);
}

static void test_finish_checks(void **state)
{
	struct bsf_config cfg;
	char err[CFG_ERR_MAX];
	(void)state;

	config_defaults(&cfg);
	strcpy(cfg.domain, "bad domain");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "bsf.domain: 'bad domain' is not a DNS name");

	config_defaults(&cfg);
	strcpy(cfg.domain, "a..b");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);

	config_defaults(&cfg);
	strcpy(cfg.tls_cert, "/x.crt");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "ub.tls_cert and ub.tls_key go together");

	config_defaults(&cfg);
	strcpy(cfg.ub_listen, "localhost:80");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);

	config_defaults(&cfg);
	strcpy(cfg.admin_listen, "off");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);

	config_defaults(&cfg);
	cfg.av_source = AV_SOURCE_ZH;
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
	strcpy(cfg.zh_origin_host, "bsf.test");
	strcpy(cfg.zh_origin_realm, "test");
	strcpy(cfg.zh_hss_realm, "test");
	/* Zh is TLS unless zh.transport = tcp: its files are required. */
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "zh.tls_cert"));
	strcpy(cfg.zh_tls_cert, "/c.pem");
	strcpy(cfg.zh_tls_key, "/k.pem");
	strcpy(cfg.zh_tls_ca, "/ca.pem");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
	cfg.zh_transport = 1;
	cfg.zh_tls_ca[0] = '\0';
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);

	/* Zn too; with Zn on, Zh shares its node: one transport, one certificate. */
	config_defaults(&cfg);
	cfg.zn_enabled = 1;
	strcpy(cfg.zn_identity, "bsf.test");
	strcpy(cfg.zn_realm, "test");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "zn.tls_cert"));
	strcpy(cfg.zn_tls_cert, "/c.pem");
	strcpy(cfg.zn_tls_key, "/k.pem");
	strcpy(cfg.zn_tls_ca, "/ca.pem");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
	cfg.av_source = AV_SOURCE_ZH;
	strcpy(cfg.zh_origin_host, "bsf.test");
	strcpy(cfg.zh_origin_realm, "test");
	strcpy(cfg.zh_hss_realm, "test");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.zh_tls_cert, "/c.pem");
	strcpy(cfg.zh_tls_cert, "/other.pem");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "shares Zn's Diameter node"));
	strcpy(cfg.zh_tls_cert, "/c.pem");
	cfg.zh_transport = 1;
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);

	/* Derived defaults follow state_dir; explicit ones stay. */
	config_defaults(&cfg);
	strcpy(cfg.state_dir, "/srv/bsf");
	strcpy(cfg.store_uri, "redis://10.0.0.1:6379");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.embedded_db, "/srv/bsf/subscribers.db");
	assert_string_equal(cfg.store_uri, "redis://10.0.0.1:6379");
}

/* av.source = cx: the [zh] connection, a Server-Name that is a SIP URI
 * (derived from zh.origin_host unless given). */
static void test_cx_checks(void **state)
{
	struct bsf_config cfg;
	char err[CFG_ERR_MAX];
	(void)state;

	config_defaults(&cfg);
	cfg.av_source = AV_SOURCE_CX;
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "av.source = cx needs zh.origin_host"));
	strcpy(cfg.zh_origin_host, "bsf.test");
	strcpy(cfg.zh_origin_realm, "test");
	strcpy(cfg.zh_hss_realm, "test");
	cfg.zh_transport = 1;
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.cx_server_name, "sip:bsf.test");
	assert_int_equal(cfg.cx_vectors, 5);
	assert_int_equal(cfg.cx_spare_ttl, 5);
	strcpy(cfg.cx_server_name, "scscf.test");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cx.server_name"));
	strcpy(cfg.cx_server_name, "sip:a b");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
	strcpy(cfg.cx_server_name, "sips:scscf.test:5061");
	assert_int_equal(config_finish(&cfg, err, sizeof(err)), 0);
	EXPECT_ERROR("[cx]\nvectors = 6\n", "t.conf:2:");
}

/* av.spare_users: the spare-vector cache's size, shared by gsup and cx. */
static void test_spare_users(void **state)
{
	struct bsf_config cfg;
	char err[CFG_ERR_MAX];
	(void)state;

	config_defaults(&cfg);
	assert_int_equal(cfg.av_spare_users, 100000);
	assert_int_equal(parse(&cfg, "[av]\nsource = cx\nspare_users = 2500000\n", err,
			       sizeof(err)), 0);
	assert_int_equal(cfg.av_spare_users, 2500000);
	assert_int_equal(parse(&cfg, "[av]\nspare_users = 1\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.av_spare_users, 1);
	assert_int_equal(parse(&cfg, "[av]\nspare_users = 16777216\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.av_spare_users, 16777216);
	EXPECT_ERROR("[av]\nspare_users = 0\n",
		     "t.conf:2: key 'av.spare_users': 0 is outside 1..16777216");
	EXPECT_ERROR("[av]\nspare_users = 16777217\n",
		     "t.conf:2: key 'av.spare_users': 16777217 is outside 1..16777216");
	EXPECT_ERROR("[av]\nspare_users = 100k\n",
		     "t.conf:2: key 'av.spare_users': '100k' is not a decimal number");
	EXPECT_ERROR("[av]\nspare_users = -1\n", "t.conf:2: key 'av.spare_users': '-1' is not a");
	EXPECT_ERROR("[gsup]\nspare_users = 10\n", "t.conf:2: key 'gsup.spare_users': unknown key");
	config_defaults(&cfg);
	assert_int_equal(config_set_arg(&cfg, "av.spare_users=300000", err, sizeof(err)), 0);
	assert_int_equal(cfg.av_spare_users, 300000);
	assert_int_equal(config_set_arg(&cfg, "av.spare_users=0", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "av.spare_users"));
}

/* Ub's workers: one per CPU, 16 per CPU with GSUP (a worker blocks for its
 * SendAuthInfo; a MAR of zh or cx holds only the request), bsf.threads
 * when given. */
static void test_ub_threads(void **state)
{
	struct bsf_config cfg;
	unsigned cpus = config_threads(0);
	(void)state;

	config_defaults(&cfg);
	assert_int_equal(config_ub_threads(&cfg), cpus);
	cfg.av_source = AV_SOURCE_ZH;
	assert_int_equal(config_ub_threads(&cfg), cpus);
	cfg.av_source = AV_SOURCE_CX;
	assert_int_equal(config_ub_threads(&cfg), cpus);
	cfg.av_source = AV_SOURCE_GSUP;
	assert_int_equal(config_ub_threads(&cfg), cpus * UB_REMOTE_THREADS_PER_CPU);
	cfg.threads = 3;
	assert_int_equal(config_ub_threads(&cfg), 3);
}

static void test_addresses(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[CFG_ERR_MAX];
	(void)state;

	assert_int_equal(gba_conf_listen_addr("127.0.0.1:8080", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8080);
	assert_int_equal(gba_conf_listen_addr("*:80", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(gba_conf_listen_addr("[::]:443", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(gba_conf_listen_addr("127.0.0.1", &ss, &len, err, sizeof(err)), -1);
	assert_int_equal(gba_conf_listen_addr("127.0.0.1:0", &ss, &len, err, sizeof(err)), -1);
	assert_int_equal(gba_conf_listen_addr("127.0.0.1:65536", &ss, &len, err, sizeof(err)), -1);
	assert_int_equal(gba_conf_listen_addr("1.2.3:80", &ss, &len, err, sizeof(err)), -1);
	assert_int_equal(gba_conf_listen_addr("[::1:80", &ss, &len, err, sizeof(err)), -1);
	assert_int_equal(gba_conf_listen_addr("[zz]:80", &ss, &len, err, sizeof(err)), -1);
	assert_int_equal(gba_conf_listen_addr(":80", &ss, &len, err, sizeof(err)), -1);
}

/* --check prints a file that parses back to the same configuration. */
static void test_print_round_trip(void **state)
{
	struct bsf_config a, b;
	char err[CFG_ERR_MAX], *text = NULL;
	size_t text_len = 0;
	FILE *f;
	(void)state;

	config_defaults(&a);
	assert_int_equal(config_set_arg(&a, "bsf.domain=bsf.test", err, sizeof(err)), 0);
	assert_int_equal(config_set_arg(&a, "ub.rspauth_body=response", err, sizeof(err)), 0);
	assert_int_equal(config_finish(&a, err, sizeof(err)), 0);
	f = open_memstream(&text, &text_len);
	assert_non_null(f);
	config_print(&a, f);
	fclose(f);
	assert_int_equal(parse(&b, text, err, sizeof(err)), 0);
	assert_int_equal(config_finish(&b, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_set_arg),
		cmocka_unit_test(test_finish_checks),
		cmocka_unit_test(test_cx_checks),
		cmocka_unit_test(test_spare_users),
		cmocka_unit_test(test_ub_threads),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_print_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
