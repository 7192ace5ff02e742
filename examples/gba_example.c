/*
 * gba_example.c - one GBA bootstrap and one NAF key, worked through with
 * libgba alone, in one process: the network side (AuC, BSF) and the node
 * side (USIM, UE) exchange the very headers and documents they would send
 * over Ub, and both ends derive the same Ks_NAF.
 *
 * The subscriber is TS 35.208 test set 1, whose K and OP are published, so
 * this program prints key values; real tools print check values only.
 *
 * Usage: gba-example [--naf FQDN] [--bsf DOMAIN] | --help | --version
 * (the command-line convention of every gba program: lib/cli).
 */
#define _DEFAULT_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <gba/gba.h>

#include "gba_cli.h"

#define CHECK(expr)                                                            \
	do {                                                                   \
		gba_err err_ = (expr);                                         \
		if (err_ != GBA_OK) {                                          \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, \
				gba_strerror(err_));                           \
			exit(1);                                               \
		}                                                              \
	} while (0)

static const char impi[] = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";

static void show(const char *label, const uint8_t *p, size_t n)
{
	char hex[2 * 64 + 1];
	CHECK(gba_hex_encode(hex, sizeof(hex), p, n));
	printf("  %-12s %s\n", label, hex);
}

static struct gba_str str(const char *s)
{
	return (struct gba_str){ s, s ? strlen(s) : 0 };
}

/* The subscriber both sides share: K and OP of TS 35.208 set 1. */
static void subscriber(struct gba_aka_key *key)
{
	uint8_t k[16], op[16];
	size_t n;
	CHECK(gba_hex_decode(k, 16, &n, "465b5ce8b199b49faa5f0a2ee238a6bc", 32));
	CHECK(gba_hex_decode(op, 16, &n, "cdc202d5123e20f62b6d676ac72cb318", 32));
	gba_aka_key_milenage(key, k, op, 1);
	gba_wipe(k, sizeof(k));
}

/* Network: a vector for the next SQN, RAND from the kernel. */
static void network_vector(const struct gba_aka_key *key, uint64_t *last_sqn, struct gba_av *av)
{
	static const uint8_t amf[2] = { 0x00, 0x00 };  /* separation bit 0: not EPS */
	uint8_t rand[16];
	uint64_t sqn;
	if (getrandom(rand, sizeof(rand), 0) != sizeof(rand)) {
		perror("getrandom");
		exit(1);
	}
	CHECK(gba_sqn_next(*last_sqn, 5, 0, &sqn));
	CHECK(gba_aka_gen_av(key, amf, sqn, rand, av));
	*last_sqn = sqn;
}

/* BSF: the 401 challenge, nonce = base64(RAND || AUTN). */
static void bsf_challenge(const struct gba_av *av, const char *realm, char *hdr, size_t size,
			  char *nonce, size_t nonce_size)
{
	uint8_t raw[32];
	memcpy(raw, av->rand, 16);
	memcpy(raw + 16, av->autn, 16);
	CHECK(gba_base64_encode(nonce, nonce_size, NULL, raw, sizeof(raw)));
	struct gba_digest_challenge c = {
		.realm = str(realm),
		.nonce = str(nonce),
		.opaque = str("5ccc069c403ebaf9f0171e9517f40e41"),
		.algorithm = GBA_DIGEST_ALG_AKAV1_MD5,
		.qop_mask = GBA_QOP_BIT_AUTH_INT,
	};
	CHECK(gba_digest_build_challenge(hdr, size, NULL, &c));
}

static const char usage_text[] =
	"Usage: gba-example [--naf FQDN] [--bsf DOMAIN]\n"
	"One GBA bootstrap (TS 33.220) and one Ks_NAF worked through with libgba in\n"
	"one process, with TS 35.208 test set 1's published keys.\n"
	"  --naf FQDN      the NAF whose Ks_NAF is derived [naf.example.org]\n"
	"  --bsf DOMAIN    the BSF's realm [bsf.mnc001.mcc001.pub.3gppnetwork.org]\n"
	"  -h, --help      this text\n"
	"  -V, --version   the version\n"
	"Exit codes: 0 both ends derived the same Ks_NAF, 1 a step failed,\n"
	"2 bad usage.\n";

/* 0 run, 1 --help or --version answered, -1 usage error (reported). */
static int parse_options(int argc, char **argv, const char **naf, const char **bsf)
{
	static const struct option opts[] = {
		{ "naf", required_argument, NULL, 'n' },
		{ "bsf", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
		switch (c) {
		case 'n': *naf = optarg; break;
		case 'b': *bsf = optarg; break;
		case 'h': fputs(usage_text, stdout); return 1;
		case 'V': gba_cli_version("gba-example"); return 1;
		case ':':
			fprintf(stderr, "gba-example: %s needs a value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "gba-example: unknown option '%s'\n", argv[optind - 1]);
			gba_cli_unknown("gba-example", opts, "hV");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gba-example: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *naf = "naf.example.org", *bsf = "bsf.mnc001.mcc001.pub.3gppnetwork.org";
	int rc = parse_options(argc, argv, &naf, &bsf);

	if (rc)
		return rc > 0 ? 0 : GBA_CLI_EXIT_USAGE;

	struct gba_aka_key key;
	struct gba_usim_sqn usim;
	struct gba_av av;
	uint64_t hss_sqn = 0;
	subscriber(&key);
	gba_usim_sqn_init(&usim, 5, UINT64_C(1) << 28);

	printf("Subscriber  IMPI %s (TS 35.208 set 1 K/OP, Milenage)\n\n", impi);

	/* 1. The network's vector */
	network_vector(&key, &hss_sqn, &av);
	printf("1. Authentication vector (SQN %llu)\n", (unsigned long long)av.sqn);
	show("RAND", av.rand, 16);
	show("AUTN", av.autn, 16);
	show("XRES", av.xres, av.xres_len);
	show("CK", av.ck, 16);
	show("IK", av.ik, 16);

	/* 2. Ub round 1: GET / with an empty nonce, answered by a 401 */
	char hdr[1024], nonce[64], ue_scratch[1200], bsf_scratch[1200];
	bsf_challenge(&av, bsf, hdr, sizeof(hdr), nonce, sizeof(nonce));
	printf("\n2. Ub: UE -> BSF  GET /  Authorization: Digest username=\"%s\", realm=\"%s\", "
	       "nonce=\"\", uri=\"/\", response=\"\"\n", impi, bsf);
	printf("   BSF -> UE  401  WWW-Authenticate: %s\n", hdr);

	/* 3. The UE hands RAND and AUTN to its USIM */
	struct gba_digest_challenge ch;
	uint8_t raw[48];
	size_t raw_len;
	CHECK(gba_digest_parse_challenge(hdr, strlen(hdr), ue_scratch, sizeof(ue_scratch), &ch));
	CHECK(gba_base64_decode(raw, sizeof(raw), &raw_len, ch.nonce.ptr, ch.nonce.len));
	struct gba_usim_answer ans;
	CHECK(gba_usim_authenticate(&key, &usim, raw, raw + 16, &ans));
	printf("\n3. USIM: AUTN verified, SQN fresh\n");
	show("RES", ans.res, ans.res_len);

	/* 4. Ub round 2: the response, password = RES (AKAv1), qop auth-int */
	struct gba_digest_input in = {
		.username = str(impi), .realm = ch.realm, .method = str("GET"), .uri = str("/"),
		.nonce = ch.nonce, .nc = str("00000001"), .cnonce = str("0a4f113b"),
		.password = ans.res, .password_len = ans.res_len,
		.qop = GBA_QOP_AUTH_INT, .body = (const uint8_t *)"", .body_len = 0,
	};
	char response[33], authz[1024];
	CHECK(gba_digest_response(response, &in));
	struct gba_digest_credentials cred = {
		.username = in.username, .realm = in.realm, .nonce = in.nonce, .uri = in.uri,
		.response = str(response), .cnonce = in.cnonce, .nc = in.nc,
		.opaque = ch.opaque, .algorithm = GBA_DIGEST_ALG_AKAV1_MD5, .qop = GBA_QOP_AUTH_INT,
	};
	CHECK(gba_digest_build_credentials(authz, sizeof(authz), NULL, &cred));
	printf("\n4. Ub: UE -> BSF  GET /  Authorization: %s\n", authz);

	/*
	 * 5. The BSF checks the response against XRES and answers 200.  It
	 * computes from what it received, with XRES as the password.
	 */
	struct gba_digest_credentials got;
	char expect[33], rspauth[33], info[512];
	CHECK(gba_digest_parse_credentials(authz, strlen(authz), bsf_scratch, sizeof(bsf_scratch),
					   &got));
	struct gba_digest_input bsf_in = {
		.username = got.username, .realm = got.realm, .method = str("GET"),
		.uri = got.uri, .nonce = got.nonce, .nc = got.nc, .cnonce = got.cnonce,
		.password = av.xres, .password_len = av.xres_len,
		.qop = got.qop, .body = (const uint8_t *)"", .body_len = 0,
	};
	CHECK(gba_digest_response(expect, &bsf_in));
	CHECK(gba_digest_verify(expect, got.response.ptr, got.response.len));
	CHECK(gba_digest_rspauth(rspauth, &bsf_in));
	struct gba_digest_auth_info ai = {
		.qop = GBA_QOP_AUTH_INT, .rspauth = str(rspauth), .cnonce = got.cnonce, .nc = got.nc,
	};
	CHECK(gba_digest_build_auth_info(info, sizeof(info), NULL, &ai));

	char btid[GBA_BTID_MAX + 1], xml[1024];
	time_t lifetime = time(NULL) + 24 * 3600;
	CHECK(gba_btid(btid, sizeof(btid), av.rand, bsf, strlen(bsf)));
	CHECK(gba_ubxml_build(xml, sizeof(xml), NULL, btid, strlen(btid), lifetime));
	printf("\n5. BSF: response verified against XRES\n");
	printf("   BSF -> UE  200  Authentication-Info: %s\n", info);
	printf("              Content-Type: %s\n%s", GBA_UBXML_MEDIA, xml);

	/* 6. The UE checks rspauth (mutual authentication) and reads the B-TID */
	struct gba_digest_auth_info got_ai;
	struct gba_bootstrapping_info bi;
	char my_rspauth[33], ai_scratch[600];
	CHECK(gba_digest_parse_auth_info(info, strlen(info), ai_scratch, sizeof(ai_scratch), &got_ai));
	CHECK(gba_digest_rspauth(my_rspauth, &in));
	CHECK(gba_digest_verify(my_rspauth, got_ai.rspauth.ptr, got_ai.rspauth.len));
	CHECK(gba_ubxml_parse(xml, strlen(xml), &bi));
	printf("\n6. UE: rspauth verified; B-TID %s\n", bi.btid);

	/* 7. Both ends: Ks = CK || IK, Ks_NAF for the NAF over Ua (TS 24.109 digest) */
	uint8_t ks_ue[32], ks_bsf[32], naf_id[300], ksnaf_ue[32], ksnaf_bsf[32];
	size_t naf_id_len;
	memcpy(ks_ue, ans.ck, 16);
	memcpy(ks_ue + 16, ans.ik, 16);
	memcpy(ks_bsf, av.ck, 16);
	memcpy(ks_bsf + 16, av.ik, 16);
	CHECK(gba_naf_id(naf_id, sizeof(naf_id), &naf_id_len, naf, strlen(naf), GBA_UA_HTTP_DIGEST));
	CHECK(gba_ks_naf(ks_ue, raw, impi, strlen(impi), naf_id, naf_id_len, ksnaf_ue));
	CHECK(gba_ks_naf(ks_bsf, av.rand, impi, strlen(impi), naf_id, naf_id_len, ksnaf_bsf));
	printf("\n7. Ks_NAF for NAF_Id = \"%s\" || 01 00 00 00 02\n", naf);
	show("Ks", ks_ue, 32);
	show("Ks_NAF (UE)", ksnaf_ue, 32);
	show("Ks_NAF (BSF)", ksnaf_bsf, 32);
	int same = gba_ct_equal(ksnaf_ue, ksnaf_bsf, 32);
	printf("   %s\n", same ? "UE and BSF agree on Ks_NAF" : "MISMATCH");

	/* 8. A replayed challenge: the USIM answers AUTS and the AuC resyncs */
	uint64_t sqn_ms;
	gba_err err = gba_usim_authenticate(&key, &usim, av.rand, av.autn, &ans);
	printf("\n8. Replay of the same AUTN: USIM says \"%s\"\n", gba_strerror(err));
	if (err != GBA_ERR_SYNC_FAILURE)
		return 1;
	show("AUTS", ans.auts, GBA_AUTS_LEN);
	CHECK(gba_aka_resync(&key, av.rand, ans.auts, &sqn_ms));
	hss_sqn = sqn_ms;
	network_vector(&key, &hss_sqn, &av);
	CHECK(gba_usim_authenticate(&key, &usim, av.rand, av.autn, &ans));
	printf("   AuC recovered SQN_MS %llu, next vector (SQN %llu) accepted by the USIM\n",
	       (unsigned long long)sqn_ms, (unsigned long long)av.sqn);

	gba_wipe(&key, sizeof(key));
	gba_wipe(&ans, sizeof(ans));
	gba_wipe(&av, sizeof(av));
	gba_wipe(ks_ue, sizeof(ks_ue));
	gba_wipe(ks_bsf, sizeof(ks_bsf));
	gba_wipe(ksnaf_ue, sizeof(ksnaf_ue));
	gba_wipe(ksnaf_bsf, sizeof(ksnaf_bsf));
	return same ? 0 : 1;
}
