/*
 * fuzz_zn_json.c - libFuzzer target for Zn as Nbsp_GBA (TS 29.309,
 * bsf/zn/zn_http.h), both ends, without sockets or TLS.  The first octet
 * chooses; the rest is the body:
 *
 *   bit 0 = 0  the BSF: a BootstrappingInfoRequest from a NAF whose certificate named
 *              peer (bits 1-2: naf.example.org, naf.node.test,
 *              all.node.test, other.node.test), answered by
 *              zn_http_answer() with the real zn_server_answer() on a
 *              SQLite session store in a mkdtemp directory on /dev/shm,
 *              under zn.policy guss or allow (bit 3)
 *   bit 0 = 1  the NAF: a BootstrappingInfoResponse (a BSF's 200), read by libgba-naf's
 *              naf_http_read_answer (naf/lib/http.c)
 *
 * The store holds two sessions: alice's (GBA_ME, a GUSS with a USS for
 * naf.example.org and one for the group m2m) and bob's (GBA_U, no GUSS).
 *
 * Properties checked (abort() on violation), besides "no crash, no leak":
 *  - the BSF answers 200, 400, 403 or 404 (never 500), always with a JSON
 *    object; every error a ProblemDetails with its "status" and a "cause";
 *    keys as 64 hex digits;
 *  - a 200 is for a stored B-TID, to a peer allowed the FQDN it asked
 *    for; its keys are those of TS 33.220 Annex B computed here from the
 *    stored Ks, RAND, IMPI and the NAF_Id asked for (Ks_int_NAF only for
 *    a GBA_U session and a GBA_U-aware NAF); and the NAF's reader takes it
 *    back with the same IMPI and keys;
 *  - whatever the NAF's reader accepts has an IMPI of 1..255 octets and a
 *    USS list NUL-terminated at uss_len.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <gba/gba.h>
#include <gba/naf.h>
#include <gba/session_store.h>

#include "http.h"
#include "zn.h"
#include "zn_http.h"

#include "fuzz_check.h"

#define DOMAIN "bsf.fuzz.test"
#define NAFS "naf.node.test = naf.example.org | naf2.example.org; all.node.test = *"

static const char *const peers[4] = {
	"naf.example.org", "naf.node.test", "all.node.test", "other.node.test",
};

static const char GUSS[] =
	"<?xml version=\"1.0\"?>"
	"<guss xmlns=\"uri:3gpp-gba\" id=\"a\"><bsfInfo><uiccType>GBA</uiccType></bsfInfo>"
	"<ussList>"
	"<uss id=\"1\" type=\"1\" nafGroup=\"naf.example.org\"><uids><uid>/CSE-1</uid></uids>"
	"<flags><flag>1</flag></flags></uss>"
	"<uss id=\"2\" type=\"7\" nafGroup=\"m2m\"><uids><uid>/AE-2</uid></uids></uss>"
	"</ussList></guss>";

static char dir[64];
static struct gba_session_store *store;
/* Set directly, a level above error: the fuzzer's output stays quiet. */
static struct gba_log blog = {
	.level = GBA_LOG_OFF,
	.impi_mode = GBA_LOG_IMPI_HIDE,
	.fd = 2,
};
static struct bsf_metrics metrics;
static struct zn_server *servers[2];   /* by enum zn_policy_kind */

/* ---- Set-up -------------------------------------------------------------------- */

static void put_session(uint8_t rand_first, const char *impi, enum gba_type type,
			const char *guss)
{
	struct gba_session s;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 16; i++)
		s.rand[i] = (uint8_t)(rand_first + i);
	for (int i = 0; i < 32; i++)
		s.ks[i] = (uint8_t)(0xA0 + i + rand_first);
	snprintf(s.impi, sizeof(s.impi), "%s", impi);
	s.type = type;
	s.created = time(NULL);
	s.expiry = s.created + 10 * 365 * 86400;
	check(gba_btid(s.btid, sizeof(s.btid), s.rand, DOMAIN, strlen(DOMAIN)) == GBA_OK);
	check(gba_session_store_put(store, &s, guss, guss ? strlen(guss) : 0) == GBA_OK);
}

static void tear_down(void)
{
	char cmd[128];

	zn_server_free(servers[0]);
	zn_server_free(servers[1]);
	gba_session_store_close(store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_zn_json: could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char uri[160], err[256];

	(void)argc, (void)argv;
	snprintf(dir, sizeof(dir), "/dev/shm/fuzz_zn_json.XXXXXX");
	check(mkdtemp(dir) != NULL);
	snprintf(uri, sizeof(uri), "sqlite:%s/sessions.db?commit_ms=0", dir);
	check(gba_session_store_open(&store, uri) == GBA_OK);
	put_session(0x00, "alice@ims.fuzz.test", GBA_TYPE_ME, GUSS);
	put_session(0x10, "bob@ims.fuzz.test", GBA_TYPE_U, NULL);
	metrics_init(&metrics);
	for (int policy = 0; policy < 2; policy++) {
		struct zn_server_config zc = { NAFS, "m2m = naf.example.org", policy };
		check(zn_server_open(&servers[policy], NULL, &zc, store, &metrics, &blog, err,
				     sizeof(err)) == 0);
	}
	atexit(tear_down);
	return 0;
}

/* ---- The BSF ------------------------------------------------------------------- */

static void check_key(json_t *v, const uint8_t want[32])
{
	const char *s = json_string_value(v);
	uint8_t got[32];
	size_t n = 0;

	check(s && strlen(s) == 64 && gba_hex_decode(got, sizeof(got), &n, s, 64) == GBA_OK &&
	      n == 32);
	check(!memcmp(got, want, 32));
}

/* The request's NAF_Id: nafFqdn || uaSecProtId (10 hex digits). */
static size_t request_naf_id(json_t *req, uint8_t *naf_id, size_t size)
{
	const char *fqdn = NULL, *ua = NULL;
	size_t n = 0, len;

	check(!json_unpack(req, "{s:{s:s, s:s}}", "nafId", "nafFqdn", &fqdn, "uaSecProtId", &ua));
	len = strlen(fqdn);
	check(len + 5 <= size);
	memcpy(naf_id, fqdn, len);
	check(gba_hex_decode(naf_id + len, 5, &n, ua, strlen(ua)) == GBA_OK && n == 5);
	return len + 5;
}

/* A 200: for a stored session, with the keys of Annex B; readable by the NAF. */
static void check_keys(const uint8_t *body, size_t len, const char *peer, json_t *answer,
		       const char *reply, size_t reply_len)
{
	json_t *req = json_loadb((const char *)body, len, 0, NULL);
	const char *btid = NULL;
	int aware = 0, gba_u;
	uint8_t naf_id[300], ks_naf[32], ks_int[32];
	size_t naf_id_len;
	struct gba_session s;
	struct gba_naf_key k;

	check(req && !json_unpack(req, "{s:s, s?b}", "btId", &btid, "gbaUAware", &aware));
	naf_id_len = request_naf_id(req, naf_id, sizeof(naf_id));
	check(gba_session_store_get(store, btid, strlen(btid), time(NULL), &s, NULL, 0, NULL) ==
	      GBA_OK);
	/* The peer's own FQDN, or one zn.nafs gives it. */
	check(strcmp(peer, "other.node.test"));
	check(!strcmp(json_string_value(json_object_get(answer, "impi")), s.impi));
	check(gba_ks_naf(s.ks, s.rand, s.impi, strlen(s.impi), naf_id, naf_id_len, ks_naf) == GBA_OK);
	check_key(json_object_get(answer, "meKeyMaterial"), ks_naf);
	gba_u = s.type == GBA_TYPE_U && aware;
	check(!json_object_get(answer, "uiccKeyMaterial") == !gba_u);
	if (gba_u) {
		check(gba_ks_int_naf(s.ks, s.rand, s.impi, strlen(s.impi), naf_id, naf_id_len,
				     ks_int) == GBA_OK);
		check_key(json_object_get(answer, "uiccKeyMaterial"), ks_int);
	}
	memset(&k, 0, sizeof(k));
	check(naf_http_read_answer(reply, reply_len, &k) == GBA_OK);
	check(!strcmp(k.impi, s.impi) && !memcmp(k.ks_naf, ks_naf, 32));
	check(k.has_int_naf == gba_u && (!gba_u || !memcmp(k.ks_int_naf, ks_int, 32)));
	gba_naf_key_wipe(&k);
	gba_wipe(&s, sizeof(s));
	json_decref(req);
}

static void fuzz_bsf(const uint8_t *body, size_t len, const char *peer, int policy)
{
	char *reply = NULL;
	size_t reply_len = 0;
	unsigned status = zn_http_answer(servers[policy], peer, (const char *)body, len, &reply,
					 &reply_len);
	json_t *answer;

	check(status == 200 || status == 400 || status == 403 || status == 404);
	check(reply != NULL);
	answer = json_loadb(reply, reply_len, JSON_REJECT_DUPLICATES, NULL);
	check(json_is_object(answer));
	if (status == 200)
		check_keys(body, len, peer, answer, reply, reply_len);
	else
		check(json_is_string(json_object_get(answer, "cause")) &&
		      json_integer_value(json_object_get(answer, "status")) == (json_int_t)status);
	json_decref(answer);
	zn_http_reply_free(reply);
}

/* ---- The NAF ------------------------------------------------------------------- */

static void fuzz_naf(const uint8_t *body, size_t len)
{
	struct gba_naf_key *k = malloc(sizeof(*k));
	size_t n;

	check(k != NULL);
	memset(k, 0, sizeof(*k));
	if (naf_http_read_answer((const char *)body, len, k) == GBA_OK) {
		n = strnlen(k->impi, sizeof(k->impi));
		check(n >= 1 && n <= GBA_NAF_IMPI_MAX);
		check(k->uss_len <= GBA_NAF_USS_MAX && k->uss[k->uss_len] == '\0');
		check(strlen(k->uss) == k->uss_len);
		check(!k->has_int_naf || k->gba_u);
	}
	gba_naf_key_wipe(k);
	free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_naf(data + 1, size - 1);
	else
		fuzz_bsf(data + 1, size - 1, peers[(data[0] >> 1) & 3], (data[0] >> 3) & 1);
	return 0;
}
