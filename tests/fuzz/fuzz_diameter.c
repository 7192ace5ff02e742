/*
 * fuzz_diameter.c - libFuzzer target for the Zh and Zn messages as
 * libgba-diameter reads them: a message on the wire, parsed by
 * freeDiameter against the dictionary (fd_msg_parse_buffer,
 * fd_msg_parse_dict, as its routing does before dispatching), then given
 * to our code.  The first octet picks the reader (bits 0-1, modulo 3) and, in
 * bits 2-3, what the test's handler answers; the rest is the message,
 * whose header is made to name the command (code, R flag, application),
 * so that every input reaches our code:
 *
 *   0  a MAR, answered by the HSS side (dia_zh_answer_mar, zh_server.c)
 *   1  an MAA, read by the BSF side (dia_zh_read_maa, zh_client.c); bit 4
 *      says whether our MAR was a resynchronisation, bit 5 gives a GUSS
 *      buffer of 16 octets instead of GBA_ZH_GUSS_MAX + 1
 *   2  a BIR, answered by the BSF side (dia_zn_answer_bir, zn_server.c)
 *
 * Bit 6 puts a MAR or MAA on Cx (application 16777216) instead of Zh: the
 * HSS side then checks Public-Identity and Server-Name and answers up to
 * the SIP-Number-Auth-Items asked for; the BSF side asks for 5 vectors and
 * reads every SIP-Auth-Data-Item.
 *
 * (The BIA, read by the NAF, is in fuzz_naf_request.)  One freeDiameter
 * node with Zh and Zn, opened once and never started: no network.
 *
 * The seeds in tests/fuzz/corpus/diameter/ are messages this library
 * builds: FUZZ_DIAMETER_SEEDS=DIR fuzz_diameter -runs=0 writes them to
 * DIR (a MAR, a resync MAR, their MAAs with and without GUSS, a BIR with
 * and without the optional AVPs).
 *
 * Properties checked (abort() on violation), besides "no crash, no leak":
 *  - a request that freeDiameter would dispatch (its rules pass, its
 *    Session-Id is usable and not empty) is always answered, and the answer, encoded
 *    and parsed again, passes the dictionary's rules and carries a
 *    Result-Code or Experimental-Result;
 *  - the handlers only see checked values: a MAR's IMPI 1..255 printable
 *    octets, a known scheme, RAND and AUTS together; a BIR's B-TID
 *    1..280 printable octets, NAF-Id 6..260 octets;
 *  - an MAA read gives a vector with 32 octets of RAND || AUTN and an
 *    XRES of 4..16 octets (each spare too, at most 4 of them) and a GUSS
 *    NUL-terminated inside the buffer, or, on error, all-zero vectors.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/diameter/src/internal.h"

#include "fuzz_check.h"

static struct gba_dia *dia;
static unsigned outcome;   /* what the handlers answer: bits 2-3 of the selector */

static void quiet(void *arg, enum gba_dia_log_level level, const char *line)
{
	(void)arg, (void)level, (void)line;
}

static int printable(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* ---- The handlers: check what they are given, answer by `outcome` ---------- */

static gba_err on_mar(void *arg, const struct gba_zh_mar *mar, struct gba_av *av, char *guss,
		      size_t guss_size, size_t *guss_len)
{
	(void)arg;
	check(mar->impi_len >= 1 && mar->impi_len <= GBA_ZH_IMPI_MAX);
	check(printable(mar->impi, mar->impi_len));
	check(!strcmp(mar->scheme, GBA_ZH_SCHEME_AKAV1) || !strcmp(mar->scheme, GBA_ZH_SCHEME_AKAV2));
	check(!mar->resync_rand == !mar->auts);
	check(mar->app == GBA_DIA_APP_ZH || mar->app == GBA_DIA_APP_CX);
	check(!mar->index || (mar->app == GBA_DIA_APP_CX && mar->index < GBA_ZH_VECTORS_MAX &&
			      !mar->auts));
	switch (outcome) {
	case 0:
		memset(av, 0x11, sizeof(*av));
		av->xres_len = 8;
		*guss_len = 0;
		return GBA_OK;
	case 1:
		memset(av, 0x22, sizeof(*av));
		av->xres_len = 16;
		check(guss_size > 20);
		memcpy(guss, "<guss>x</guss>", 14);
		*guss_len = 14;
		return GBA_OK;
	case 2:
		return mar->auts ? GBA_ERR_AUTS_INVALID : GBA_ERR_NOT_FOUND;
	default:
		return GBA_ERR_STORE;
	}
}

static gba_err on_bir(void *arg, const struct gba_zn_bir *bir, struct gba_zn_bia *bia)
{
	(void)arg;
	check(bir->btid_len >= 1 && bir->btid_len <= GBA_ZN_BTID_MAX);
	check(printable(bir->btid, bir->btid_len));
	check(bir->naf_id_len >= GBA_ZN_NAF_ID_MIN && bir->naf_id_len <= GBA_ZN_NAF_ID_MAX);
	check(bir->origin_host && bir->peer);
	check(!bir->gaa_service_id || printable(bir->gaa_service_id, strlen(bir->gaa_service_id)));
	switch (outcome) {
	case 0:
	case 1:
		strcpy(bia->impi, "alice@ims.test");
		memset(bia->me_key, 0x33, sizeof(bia->me_key));
		bia->has_uicc_key = bir->gba_u_aware && outcome == 1;
		memset(bia->uicc_key, 0x44, sizeof(bia->uicc_key));
		bia->created = 1700000000;
		bia->expiry = bia->created + 3600;
		bia->uss_len = outcome == 1 ? 9 : 0;
		memcpy(bia->uss, "<ussList/>", outcome == 1 ? 10 : 0);
		return GBA_OK;
	case 2:
		return GBA_ERR_NOT_FOUND;
	default:
		return GBA_ERR_NOT_AUTHORIZED;
	}
}

/* ---- Messages ------------------------------------------------------------------ */

/*
 * The input as a received message: its header names code (as a request
 * or not) of app, its length field says the input's length; NULL when
 * freeDiameter refuses it (it would answer or drop it itself).
 */
static struct msg *receive(const uint8_t *data, size_t size, uint32_t code, int request,
			   uint32_t app)
{
	uint8_t *buf;
	struct msg *m = NULL;

	if (size < 20 || size > (1u << 24) - 1)
		return NULL;
	buf = malloc(size);
	check(buf != NULL);
	memcpy(buf, data, size);
	buf[0] = 1;                                    /* version */
	buf[1] = (uint8_t)(size >> 16);
	buf[2] = (uint8_t)(size >> 8);
	buf[3] = (uint8_t)size;
	/* A request has R and never E (RFC 6733 3); freeDiameter skips the
	 * rules of a message with E set. */
	buf[4] = request ? ((buf[4] | 0x80) & ~0x20) : (buf[4] & 0x7f);
	buf[5] = (uint8_t)(code >> 16);
	buf[6] = (uint8_t)(code >> 8);
	buf[7] = (uint8_t)code;
	buf[8] = (uint8_t)(app >> 24);
	buf[9] = (uint8_t)(app >> 16);
	buf[10] = (uint8_t)(app >> 8);
	buf[11] = (uint8_t)app;
	if (fd_msg_parse_buffer(&buf, size, &m)) {
		free(buf);                  /* not taken on failure */
		return NULL;
	}
	if (fd_msg_parse_dict(m, fd_g_config->cnf_dict, NULL)) {
		fd_msg_free(m);
		return NULL;
	}
	return m;
}

static int rules_pass(struct msg *m)
{
	struct fd_pei pei;

	memset(&pei, 0, sizeof(pei));
	if (!fd_msg_parse_rules(m, fd_g_config->cnf_dict, &pei))
		return 1;
	if (getenv("FUZZ_DIAMETER_VERBOSE"))
		fprintf(stderr, "rules: %s %s\n", pei.pei_errcode ? pei.pei_errcode : "?",
			pei.pei_message ? pei.pei_message : "");
	if (pei.pei_avp_free)
		fd_msg_free(pei.pei_avp);
	return 0;
}

/* Our answer as its peer receives it: encodes, parses, passes the rules. */
static void check_answer(struct msg *ans)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct msg *r = NULL;
	struct msg_hdr *hdr = NULL;
	struct gba_dia_result res;

	check(fd_msg_hdr(ans, &hdr) == 0 && !(hdr->msg_flags & CMD_FLAG_REQUEST));
	dia_result_read(ans, &res);
	check(gba_dia_result_value(&res) != 0);
	check(fd_msg_bufferize(ans, &buf, &len) == 0);
	check(fd_msg_parse_buffer(&buf, len, &r) == 0);
	check(fd_msg_parse_dict(r, fd_g_config->cnf_dict, NULL) == 0);
	if (!rules_pass(r) && getenv("FUZZ_DIAMETER_VERBOSE")) {
		char *dump = NULL;
		size_t dlen = 0;
		fd_msg_dump_treeview(&dump, &dlen, NULL, r, fd_g_config->cnf_dict, 0, 1);
		fprintf(stderr, "answer:\n%s\n", dump);
		free(dump);
	}
	check(rules_pass(r));
	fd_msg_free(r);
}

/*
 * A request as freeDiameter dispatches it: only after its rules pass (it
 * answers 5005, 5009 ... itself otherwise) and its session is found.
 */
static void fuzz_request(const uint8_t *data, size_t size, uint32_t code, uint32_t app,
			 int (*answer)(struct gba_dia *, struct msg **))
{
	struct msg *m = receive(data, size, code, 1, app);
	struct session *sess = NULL;

	if (!m)
		return;
	/*
	 * An empty Session-Id passes the rules but gives no session, and
	 * freeDiameter's fd_msg_new_answer_from_req then leaves Session-Id
	 * out of the answer: its behaviour, not ours, so not fed.
	 */
	if (!rules_pass(m) || fd_msg_sess_get(fd_g_config->cnf_dict, m, &sess, NULL) || !sess) {
		fd_msg_free(m);
		return;
	}
	check(answer(dia, &m) == 0);
	check_answer(m);
	avp_wipe_secrets(m);
	fd_msg_free(m);
}

static void fuzz_maa(const uint8_t *data, size_t size, int resync, int small, int cx)
{
	static const uint8_t rand[16] = { 1 }, auts[14] = { 2 };
	struct gba_zh_request req = {
		.impi = "alice@ims.test",
		.dest_realm = "hss.test",
		.resync_rand = resync ? rand : NULL,
		.auts = resync ? auts : NULL,
		.app = cx ? GBA_DIA_APP_CX : 0,
		.server_name = "sip:bsf.test",
		.vectors = cx ? GBA_ZH_VECTORS_MAX : 0,
	};
	size_t guss_size = small ? 16 : GBA_ZH_GUSS_MAX + 1;
	struct msg *m = receive(data, size, GBA_DIA_CMD_MULTIMEDIA_AUTH, 0,
				cx ? GBA_DIA_APP_CX : GBA_DIA_APP_ZH);
	struct gba_zh_answer ans;
	char *guss;
	gba_err err;

	if (!m)
		return;
	guss = malloc(guss_size);
	check(guss != NULL);
	memset(&ans, 0x5A, sizeof(ans));
	memset(guss, 'x', guss_size);
	err = dia_zh_read_maa(m, &req, &ans, guss, guss_size);
	if (err == GBA_OK) {
		check(ans.av.xres_len >= 4 && ans.av.xres_len <= GBA_RES_MAX);
		check(ans.guss_len < guss_size);
		check(ans.guss_len == 0 || guss[ans.guss_len] == '\0');
		check(gba_dia_result_err(&ans.result) == GBA_OK);
		check(ans.n_spare <= GBA_ZH_VECTORS_MAX - 1);
		for (size_t i = 0; i < ans.n_spare; i++)
			check(ans.spare[i].xres_len >= 4 && ans.spare[i].xres_len <= GBA_RES_MAX);
	} else {
		check(all_zero(&ans.av, sizeof(ans.av)));
		check(all_zero(ans.spare, sizeof(ans.spare)) && ans.n_spare == 0);
	}
	free(guss);
	avp_wipe_secrets(m);
	fd_msg_free(m);
}

/* ---- Seeds: messages of this library, with their selector octet ---------------- */

static void write_seed(const char *dir, const char *name, uint8_t selector, struct msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char path[512];
	FILE *f;

	check(fd_msg_bufferize(m, &buf, &len) == 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	check(f != NULL);
	check(fputc(selector, f) == selector && fwrite(buf, 1, len, f) == len);
	check(fclose(f) == 0);
	free(buf);
}

/* Through the wire format, as the peer receives it. */
static struct msg *wire(struct msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct msg *r = NULL;

	check(fd_msg_bufferize(m, &buf, &len) == 0);
	fd_msg_free(m);
	check(fd_msg_parse_buffer(&buf, len, &r) == 0);
	check(fd_msg_parse_dict(r, fd_g_config->cnf_dict, NULL) == 0);
	return r;
}

static void seeds_zh(const char *dir, int resync, unsigned how, int cx)
{
	static const uint8_t rand[16] = { 0x23, 0x55 }, auts[14] = { 0xaa, 0xbb };
	struct gba_zh_request req = {
		.impi = "001010123456789@ims.mnc001.mcc001.3gppnetwork.org",
		.dest_realm = "hss.test",
		.dest_host = "hss.node.test",
		.resync_rand = resync ? rand : NULL,
		.auts = resync ? auts : NULL,
		.app = cx ? GBA_DIA_APP_CX : 0,
		.server_name = "sip:bsf.test",
		.vectors = cx ? 3 : 0,
	};
	uint8_t cx_bit = cx ? 64 : 0;
	struct msg *m = NULL;
	char name[64];

	check(dia_zh_build_mar(dia, &req, &m) == 0);
	m = wire(m);
	snprintf(name, sizeof(name), "mar%s%s-%u", cx ? "-cx" : "", resync ? "-resync" : "", how);
	write_seed(dir, name, (uint8_t)(0 | how << 2 | cx_bit), m);
	outcome = how;
	check(dia_zh_answer_mar(dia, &m) == 0);
	snprintf(name, sizeof(name), "maa%s%s-%u", cx ? "-cx" : "", resync ? "-resync" : "", how);
	write_seed(dir, name, (uint8_t)(1 | (resync ? 16 : 0) | cx_bit), m);
	fd_msg_free(m);
}

static void seeds_zn(const char *dir, int full, unsigned how)
{
	static const uint8_t naf_id[] = "naf.example.org\x01\x00\x00\x01\x2f";
	struct gba_zn_request req = {
		.btid = "AAECAwQFBgcICQoLDA0ODw==@bsf.example.org",
		.naf_id = naf_id,
		.naf_id_len = sizeof(naf_id) - 1,
		.dest_realm = "bsf.test",
		.dest_host = "bsf.node.test",
		.gba_u_aware = full,
		.gaa_service_id = full ? "oneM2M" : NULL,
	};
	struct msg *m = NULL;
	char name[64];

	check(dia_zn_build_bir(dia, &req, &m) == 0);
	m = wire(m);
	snprintf(name, sizeof(name), "bir%s-%u", full ? "-aware" : "", how);
	write_seed(dir, name, (uint8_t)(2 | how << 2), m);
	fd_msg_free(m);
}

static void write_seeds(const char *dir)
{
	for (unsigned how = 0; how < 4; how++) {
		seeds_zh(dir, 0, how, 0);
		seeds_zh(dir, 1, how, 0);
		seeds_zh(dir, 0, how, 1);
		seeds_zh(dir, 1, how, 1);
		seeds_zn(dir, 0, how);
		seeds_zn(dir, 1, how);
	}
}

/*
 * freeDiameter 1.2.1 leaks once at start-up (tests/zh/lsan.supp); the fuzz
 * targets do not run under meson's test environment, so say it here.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:gnutls_x509_crt_list_import2\n";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct gba_dia_config cfg = {
		.identity = "bsf.node.test",
		.realm = "test",
		.apps = GBA_DIA_ZH | GBA_DIA_ZN | GBA_DIA_CX,
		.transport = GBA_DIA_TCP, /* no peer ever connects: messages come as bytes */
		.log = quiet,
		.log_level = GBA_DIA_LOG_ERROR,
	};

	(void)argc, (void)argv;
	check(gba_dia_open(&dia, &cfg) == GBA_OK);
	check(gba_zh_server_register(dia, on_mar, NULL) == GBA_OK);
	check(gba_zn_server_register(dia, on_bir, NULL) == GBA_OK);
	if (getenv("FUZZ_DIAMETER_SEEDS")) {
		write_seeds(getenv("FUZZ_DIAMETER_SEEDS"));
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	outcome = (data[0] >> 2) & 3;
	switch ((data[0] & 3) % 3) {
	case 0:
		fuzz_request(data + 1, size - 1, GBA_DIA_CMD_MULTIMEDIA_AUTH,
			     data[0] & 64 ? GBA_DIA_APP_CX : GBA_DIA_APP_ZH, dia_zh_answer_mar);
		break;
	case 1:
		fuzz_maa(data + 1, size - 1, data[0] & 16, data[0] & 32, data[0] & 64);
		break;
	default:
		fuzz_request(data + 1, size - 1, GBA_DIA_CMD_BOOTSTRAPPING_INFO, GBA_DIA_APP_ZN,
			     dia_zn_answer_bir);
		break;
	}
	return 0;
}
