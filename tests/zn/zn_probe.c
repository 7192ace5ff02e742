/*
 * zn-probe - a NAF in a process of its own: libgba-naf's Zn client toward
 * a real gba-bsf, driven line by line by tests/zn/test_zn.py.
 *
 *   zn-probe run --bsf ADDR:PORT --bsf-id ID --id OUR_ID --realm R
 *                [--timeout MS] [--gba-u-aware] [--cache N] [--service S]
 *                [--store URI] [--secrets FILE]
 *   zn-probe run --http https://HOST:PORT --tls-cert F --tls-key F --tls-ca F
 *                [the same options]                   (Zn over HTTPS/JSON)
 *       then commands on stdin, one answer line each on stdout:
 *         fetch BTID FQDN      -> fetch <error> <ms> impi=.. ks_naf=<kcv> ks_int_naf=<kcv|->
 *                                 gba_u=0|1 cached=0|1 lifetime=<s> uss=<len> uid=<first|->
 *         expect K OPC BTID IMPI FQDN
 *                              -> expect ks_naf=<kcv> ks_int_naf=<kcv>: computed here
 *                                 from K, OPc and the B-TID's RAND (Milenage, Annex B)
 *         plant BTID IMPI me|u SECONDS GUSSFILE|-
 *                              -> plant <error>: a session with random Ks in the BSF's
 *                                 store (--store), expiring SECONDS from now (< 0: past)
 *         raw KIND BTID FQDN   -> raw KIND <Result-Code or Experimental-Result-Code>
 *         forget BTID          -> forget ok
 *         stats                -> stats fetches= hits= birs= errors= cached=
 *         wait-peer MS         -> wait-peer <error>
 *         quit
 * NAF_Id = FQDN || 01 00 00 00 02 (HTTP Digest, as gba-test-ue's --naf).
 * Keys are printed only as check values (gba_kcv); --secrets appends every
 * key fetched in hex to FILE, so that the test can look for them in the logs.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <gba/gba.h>
#include <gba/kcv.h>
#include <gba/milenage.h>
#include <gba/naf.h>
#include <gba/session_store.h>

#include "zn_craft.h"
#include "gba_cli.h"

struct probe {
	struct gba_naf *naf;
	FILE *secrets;                  /* --secrets: the keys in hex, for the log check */
	struct gba_session_store *store;
	const char *bsf_id;
	unsigned timeout_ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int naf_id_of(const char *fqdn, uint8_t *out, size_t size, size_t *len)
{
	return gba_naf_id(out, size, len, fqdn, strlen(fqdn), GBA_UA_HTTP_DIGEST) ? -1 : 0;
}

static void kcv_or_dash(char out[GBA_KCV_HEX_LEN + 1], const uint8_t *k, int have)
{
	if (!have || gba_kcv(out, k, 32))
		strcpy(out, "-");
}

/* The first <uid> of the USS list, for the test to compare. */
static void first_uid(const char *uss, char *out, size_t size)
{
	const char *a = strstr(uss, "<uid>"), *b;

	snprintf(out, size, "-");
	if (!a)
		return;
	a += 5;
	b = strstr(a, "</uid>");
	if (b && (size_t)(b - a) < size)
		snprintf(out, size, "%.*s", (int)(b - a), a);
}

static void note_secret(struct probe *p, const uint8_t key[32])
{
	char hex[65];

	if (p->secrets && !gba_hex_encode(hex, sizeof(hex), key, 32)) {
		fprintf(p->secrets, "%s\n", hex);
		fflush(p->secrets);
	}
	gba_wipe(hex, sizeof(hex));
}

static void cmd_fetch(struct probe *p, const char *btid, const char *fqdn)
{
	static struct gba_naf_key k;
	uint8_t naf_id[GBA_NAF_ID_MAX];
	char me[8], in[8], uid[256];
	size_t len = 0;
	double t0;
	gba_err err;

	if (naf_id_of(fqdn, naf_id, sizeof(naf_id), &len)) {
		printf("fetch bad-fqdn\n");
		return;
	}
	t0 = now_ms();
	err = gba_naf_fetch_key(p->naf, btid, naf_id, len, &k);
	if (!err)
		note_secret(p, k.ks_naf);
	if (!err && k.has_int_naf)
		note_secret(p, k.ks_int_naf);
	kcv_or_dash(me, k.ks_naf, !err);
	kcv_or_dash(in, k.ks_int_naf, !err && k.has_int_naf);
	first_uid(k.uss, uid, sizeof(uid));
	printf("fetch %s %.1f impi=%s ks_naf=%s ks_int_naf=%s gba_u=%d cached=%d lifetime=%lld "
	       "uss=%zu uid=%s\n",
	       gba_err_name(err), now_ms() - t0, err ? "-" : k.impi, me, in, k.gba_u, k.from_cache,
	       (long long)(k.expiry - k.created), k.uss_len, uid);
	gba_naf_key_wipe(&k);
}

static int unhex(uint8_t *out, size_t len, const char *hex)
{
	size_t n = 0;

	return gba_hex_decode(out, len, &n, hex, strlen(hex)) || n != len ? -1 : 0;
}

/* Ks = CK || IK from the card's keys and the B-TID's RAND; then Annex B. */
static void cmd_expect(const char *k_hex, const char *opc_hex, const char *btid,
		       const char *impi, const char *fqdn)
{
	struct gba_milenage_ctx ctx;
	uint8_t k[16], opc[16], rand[16], ks[32], me[32], in[32], naf_id[GBA_NAF_ID_MAX];
	const char *dom;
	size_t dom_len, len;
	char a[8], b[8];

	if (unhex(k, 16, k_hex) || unhex(opc, 16, opc_hex) ||
	    gba_btid_parse(btid, strlen(btid), rand, &dom, &dom_len) ||
	    naf_id_of(fqdn, naf_id, sizeof(naf_id), &len)) {
		printf("expect bad-input\n");
		return;
	}
	gba_milenage_init(&ctx, k, opc);
	gba_milenage_f2345(&ctx, rand, NULL, ks, ks + 16, NULL, NULL);
	gba_milenage_clear(&ctx);
	if (gba_ks_naf(ks, rand, impi, strlen(impi), naf_id, len, me) ||
	    gba_ks_int_naf(ks, rand, impi, strlen(impi), naf_id, len, in)) {
		printf("expect kdf-failed\n");
		return;
	}
	kcv_or_dash(a, me, 1);
	kcv_or_dash(b, in, 1);
	printf("expect ks_naf=%s ks_int_naf=%s\n", a, b);
	gba_wipe(k, sizeof(k));
	gba_wipe(ks, sizeof(ks));
	gba_wipe(me, sizeof(me));
	gba_wipe(in, sizeof(in));
}

static char *read_file(const char *path, size_t *len)
{
	static char buf[GBA_GUSS_MAX + 1];
	FILE *f = fopen(path, "rb");

	*len = 0;
	if (!f)
		return NULL;
	*len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void cmd_plant(struct probe *p, const char *btid, const char *impi, const char *type,
		      const char *secs, const char *guss_path)
{
	struct gba_session s;
	const char *dom;
	size_t dom_len, guss_len = 0;
	char *guss = NULL;
	int64_t now = time(NULL), off = atoll(secs);
	gba_err err;

	memset(&s, 0, sizeof(s));
	if (!p->store || gba_btid_parse(btid, strlen(btid), s.rand, &dom, &dom_len) ||
	    strlen(btid) > GBA_BTID_MAX || strlen(impi) > GBA_IMPI_MAX) {
		printf("plant bad-input\n");
		return;
	}
	if (strcmp(guss_path, "-") && !(guss = read_file(guss_path, &guss_len))) {
		printf("plant no-guss-file\n");
		return;
	}
	strcpy(s.btid, btid);
	strcpy(s.impi, impi);
	if (getrandom(s.ks, sizeof(s.ks), 0) != (ssize_t)sizeof(s.ks)) {
		printf("plant no-random\n");
		return;
	}
	s.type = !strcmp(type, "u") ? GBA_TYPE_U : GBA_TYPE_ME;
	/* An expired session: created and expiry both in the past. */
	s.created = off < 0 ? now + off - 60 : now;
	s.expiry = now + off;
	/* Planting replaces: the store refuses a put over a live session's B-TID. */
	(void)gba_session_store_delete(p->store, s.btid, strlen(s.btid));
	err = gba_session_store_put(p->store, &s, guss, guss_len);
	gba_wipe(&s, sizeof(s));
	printf("plant %s\n", gba_err_name(err));
}

static int raw_parts(struct bir_parts *b, const char *kind, const char *btid,
		     const uint8_t *naf_id, size_t len)
{
	static const uint8_t short_id[3] = { 'a', 'b', 'c' };
	static char bad_btid[64];

	if (!strcmp(kind, "good")) {
	} else if (!strcmp(kind, "no_vsai")) {
		b->no_vsai = 1;
	} else if (!strcmp(kind, "no_btid")) {
		b->btid = NULL;
	} else if (!strcmp(kind, "two_btids")) {
		b->two_btids = 1;
	} else if (!strcmp(kind, "no_naf_id")) {
		b->naf_id = NULL;
	} else if (!strcmp(kind, "short_naf_id")) {
		b->naf_id = short_id;
		b->naf_id_len = sizeof(short_id);
	} else if (!strcmp(kind, "bad_btid")) {
		snprintf(bad_btid, sizeof(bad_btid), "abc\x01\x02@x");
		b->btid = bad_btid;
	} else if (!strcmp(kind, "bad_aware")) {
		b->aware = 7;
	} else {
		return -1;
	}
	(void)btid;
	(void)naf_id;
	(void)len;
	return 0;
}

static void cmd_raw(struct probe *p, const char *kind, const char *btid, const char *fqdn)
{
	uint8_t naf_id[GBA_NAF_ID_MAX];
	size_t len = 0;
	struct gba_dia *dia = gba_naf_dia(p->naf);
	struct bir_parts b;
	struct gba_dia_result r;
	struct msg *m, *ans = NULL;
	const char *dom = NULL;
	size_t dom_len = 0;
	uint8_t rand[16];
	char realm[256];
	gba_err err;

	if (naf_id_of(fqdn, naf_id, sizeof(naf_id), &len) ||
	    gba_btid_parse(btid, strlen(btid), rand, &dom, &dom_len) || dom_len >= sizeof(realm)) {
		printf("raw %s bad-input\n", kind);
		return;
	}
	snprintf(realm, sizeof(realm), "%.*s", (int)dom_len, dom);
	memset(&b, 0, sizeof(b));
	b.btid = btid;
	b.naf_id = naf_id;
	b.naf_id_len = len;
	b.aware = -1;
	b.dest_realm = realm;
	b.dest_host = p->bsf_id;
	if (raw_parts(&b, kind, btid, naf_id, len)) {
		printf("raw %s unknown-kind\n", kind);
		return;
	}
	m = zn_craft_bir(dia, &b);
	if (!m) {
		printf("raw %s cannot-build\n", kind);
		return;
	}
	err = dia_call(dia, &m, p->timeout_ms, &ans);
	if (err) {
		printf("raw %s %s\n", kind, gba_err_name(err));
		return;
	}
	dia_result_read(ans, &r);
	avp_wipe_secrets(ans);
	fd_msg_free(ans);
	printf("raw %s %u\n", kind, gba_dia_result_value(&r));
}

static void cmd_stats(struct probe *p)
{
	struct gba_naf_stats s;

	gba_naf_get_stats(p->naf, &s);
	printf("stats fetches=%llu hits=%llu birs=%llu errors=%llu cached=%llu\n",
	       (unsigned long long)s.fetches, (unsigned long long)s.cache_hits,
	       (unsigned long long)s.birs, (unsigned long long)s.errors,
	       (unsigned long long)s.cached);
}

static int serve_line(struct probe *p, char *line)
{
	char *argv[8];
	int argc = 0;

	for (char *t = strtok(line, " \t\r\n"); t && argc < 8; t = strtok(NULL, " \t\r\n"))
		argv[argc++] = t;
	if (!argc)
		return 0;
	if (!strcmp(argv[0], "quit"))
		return 1;
	if (!gba_naf_dia(p->naf) && (!strcmp(argv[0], "raw") || !strcmp(argv[0], "wait-peer")))
		printf("%s not-diameter\n", argv[0]);
	else if (!strcmp(argv[0], "fetch") && argc == 3)
		cmd_fetch(p, argv[1], argv[2]);
	else if (!strcmp(argv[0], "expect") && argc == 6)
		cmd_expect(argv[1], argv[2], argv[3], argv[4], argv[5]);
	else if (!strcmp(argv[0], "plant") && argc == 6)
		cmd_plant(p, argv[1], argv[2], argv[3], argv[4], argv[5]);
	else if (!strcmp(argv[0], "raw") && argc == 4)
		cmd_raw(p, argv[1], argv[2], argv[3]);
	else if (!strcmp(argv[0], "forget") && argc == 2) {
		gba_naf_forget(p->naf, argv[1]);
		printf("forget ok\n");
	} else if (!strcmp(argv[0], "stats"))
		cmd_stats(p);
	else if (!strcmp(argv[0], "wait-peer") && argc == 2)
		printf("wait-peer %s\n", gba_err_name(gba_dia_wait_peer(gba_naf_dia(p->naf), p->bsf_id,
								     (unsigned)atoi(argv[1]))));
	else
		printf("error unknown command\n");
	fflush(stdout);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: zn-probe run --bsf ADDR:PORT --bsf-id ID --id ID --realm R "
			"[--timeout MS] [--gba-u-aware] [--cache N] [--service S] [--store URI] "
			"[--secrets FILE] [--transport tls|tcp] [--tls-cert F --tls-key F --tls-ca F]\n"
			"       zn-probe run --http https://HOST:PORT --tls-cert F --tls-key F "
			"--tls-ca F [...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bsf", required_argument, NULL, 'b' }, { "bsf-id", required_argument, NULL, 'B' },
		{ "id", required_argument, NULL, 'i' }, { "realm", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' }, { "gba-u-aware", no_argument, NULL, 'u' },
		{ "cache", required_argument, NULL, 'c' }, { "service", required_argument, NULL, 's' },
		{ "store", required_argument, NULL, 'S' },
		{ "secrets", required_argument, NULL, 'K' },
		{ "http", required_argument, NULL, 'H' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'Y' },
		{ "tls-ca", required_argument, NULL, 'A' },
		{ "transport", required_argument, NULL, 'T' }, { NULL, 0, NULL, 0 },
	};
	struct gba_naf_config cfg = { .log_level = GBA_DIA_LOG_INFO };
	struct probe p = { 0 };
	char addr[256] = "", *colon, line[1024];
	const char *store = NULL;
	gba_err err;
	int opt;

	if (argc >= 2 && strcmp(argv[1], "run")) {
		int rc = gba_cli_simple("zn-probe", argc, argv, NULL,
					"usage: zn-probe run --bsf ADDR:PORT ... (zn-probe with no "
					"argument lists them)\n");
		if (rc >= 0)
			return rc;
	}
	if (argc < 2 || strcmp(argv[1], "run"))
		return usage();
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': snprintf(addr, sizeof(addr), "%s", optarg); break;
		case 'B': cfg.bsf_identity = optarg; break;
		case 'i': cfg.identity = optarg; break;
		case 'r': cfg.realm = optarg; break;
		case 't': cfg.timeout_ms = (unsigned)atoi(optarg); break;
		case 'u': cfg.gba_u_aware = 1; break;
		case 'c': cfg.cache_entries = !strcmp(optarg, "off") ? SIZE_MAX
								     : (size_t)atol(optarg); break;
		case 's': cfg.gaa_service_id = optarg; break;
		case 'S': store = optarg; break;
		case 'H': cfg.bsf_url = optarg; break;
		case 'C': cfg.tls_cert = optarg; break;
		case 'Y': cfg.tls_key = optarg; break;
		case 'A': cfg.tls_ca = optarg; break;
		case 'T':
			if (gba_dia_transport_parse(optarg, &cfg.transport))
				return usage();
			break;
		case 'K':
			p.secrets = fopen(optarg, "a");
			if (!p.secrets)
				return usage();
			break;
		default: return usage();
		}
	}
	colon = strrchr(addr, ':');
	if (!cfg.bsf_url && (!colon || !cfg.bsf_identity || !cfg.identity || !cfg.realm))
		return usage();
	if (colon) {
		*colon = '\0';
		cfg.bsf_address = addr;
		cfg.bsf_port = (uint16_t)atoi(colon + 1);
	}
	p.bsf_id = cfg.bsf_identity;
	p.timeout_ms = cfg.timeout_ms ? cfg.timeout_ms : GBA_NAF_DEFAULT_TIMEOUT_MS;
	if (store && (err = gba_session_store_open(&p.store, store))) {
		fprintf(stderr, "zn-probe: store %s: %s\n", store, gba_strerror(err));
		return 1;
	}
	err = gba_naf_open(&cfg, &p.naf);
	if (err) {
		fprintf(stderr, "zn-probe: gba_naf_open: %s\n", gba_strerror(err));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		if (serve_line(&p, line))
			break;
	gba_naf_close(p.naf);
	if (p.store)
		gba_session_store_close(p.store);
	if (p.secrets)
		fclose(p.secrets);
	return 0;
}
