/*
 * fuzz_naf_request.c - libFuzzer target for gba-naf's parsers of input it
 * did not write.  The first octet picks the parser (modulo 4), the rest is
 * its input:
 *
 *   0  the TLS-PSK psk_identity (naf/daemon/psk_id.h), as a C string
 *   1  a MAF Key Registration body (svc_parse_registration, request.h)
 *   2  a USS list, for the node id (svc_uss_node_id, request.h)
 *   3  a Zn Bootstrapping-Info-Answer on the wire (bit 2 set: a 16-octet
 *      USS buffer, else GBA_ZN_USS_MAX + 1): parsed by freeDiameter
 *      against the dictionary, then read by libgba-diameter's
 *      dia_zn_read_bia (lib/diameter/src/zn_client.c), as gba_zn_bir_call
 *      does with what the BSF sent; its USS list then goes to
 *      svc_uss_node_id, as gba-naf does.  Only when libgba-diameter is
 *      built (FUZZ_ZN); one freeDiameter node, opened and never started.
 *
 * Properties checked (abort() on violation), besides "no crash, no leak":
 *  - psk_id_parse: a node's name is a B-TID that parses, a target's a
 *    valid name, both pointing into the identity with their length; a
 *    refusal says why;
 *  - svc_parse_registration: on success suid and target are valid names
 *    (suid <= 64, target <= KS_ID_MAX), lifetime >= 0; on failure an
 *    HTTP 400 with a code;
 *  - svc_uss_node_id: "" or a valid name of at most KS_ID_MAX;
 *  - dia_zn_read_bia: on success the IMPI is 1..GBA_ZN_IMPI_MAX octets
 *    without NUL, and a USS list that came is NUL-terminated at uss_len
 *    inside the buffer; on any error both keys are wiped.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gba/kdf.h>

#include "psk_id.h"
#include "request.h"

#ifdef FUZZ_ZN
#include "../../lib/diameter/src/internal.h"
#endif

#include "fuzz_check.h"

static char *cstring(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	check(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static void fuzz_psk_id(const uint8_t *data, size_t size)
{
	char *id = cstring(data, size);
	size_t len = strlen(id);
	struct psk_id r = psk_id_parse(id);
	uint8_t rand[16];
	const char *domain;
	size_t domain_len;

	switch (r.who) {
	case PSK_BAD:
		check(r.why != NULL && r.name == NULL);
		break;
	case PSK_NODE:
	case PSK_NODE_UICC:
		check(r.name >= id && r.name + r.name_len == id + len);
		check(r.name_len == strlen(r.name) && r.name_len <= GBA_BTID_MAX);
		check(gba_btid_parse(r.name, r.name_len, rand, &domain, &domain_len) == GBA_OK);
		break;
	case PSK_TARGET:
		check(r.name > id && r.name + r.name_len == id + len);
		check(psk_id_valid_name(r.name, r.name_len, 256));
		break;
	default:
		check(0);
	}
	free(id);
}

static void fuzz_registration(const uint8_t *data, size_t size)
{
	/* Exact size, not NUL-terminated: the body as libmicrohttpd gives it. */
	char *body = malloc(size ? size : 1);
	const char *suid = NULL, *target = NULL;
	json_int_t lifetime = -1;
	json_t *root = NULL;
	struct svc_error e = { 0, NULL, NULL };

	check(body != NULL);
	memcpy(body, data, size);
	if (svc_parse_registration(body, size, &suid, &target, &lifetime, &root, &e) == 0) {
		check(root != NULL && suid && target);
		check(psk_id_valid_name(suid, strlen(suid), 64));
		check(psk_id_valid_name(target, strlen(target), KS_ID_MAX));
		check(lifetime >= 0);
	} else {
		check(e.status == 400 && e.code && e.detail);
	}
	json_decref(root);
	free(body);
}

static void check_node_id(const char *out)
{
	size_t n = strnlen(out, KS_ID_MAX + 1);

	check(n <= KS_ID_MAX);
	check(n == 0 || psk_id_valid_name(out, n, KS_ID_MAX));
}

static void fuzz_uss(const uint8_t *data, size_t size)
{
	char *uss = malloc(size ? size : 1);
	char out[KS_ID_MAX + 1];

	check(uss != NULL);
	memcpy(uss, data, size);
	memset(out, 'x', sizeof(out));
	svc_uss_node_id(uss, size, out);
	check_node_id(out);
	free(uss);
}

#ifdef FUZZ_ZN
static struct gba_dia *dia;

static void quiet(void *arg, enum gba_dia_log_level level, const char *line)
{
	(void)arg, (void)level, (void)line;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void fuzz_bia(const uint8_t *data, size_t size, int small)
{
	uint8_t *buf;
	struct msg *m = NULL;
	struct gba_zn_answer ans;
	char *uss, node[KS_ID_MAX + 1];
	/* A small buffer (selector bit 2), for GBA_ERR_TOO_LARGE. */
	size_t uss_size = small ? 16 : GBA_ZN_USS_MAX + 1;
	gba_err err;

	if (size < 20)
		return;                     /* not even a Diameter header */
	buf = malloc(size);
	check(buf != NULL);
	memcpy(buf, data, size);
	if (fd_msg_parse_buffer(&buf, size, &m)) {
		free(buf);                  /* not taken on failure */
		return;
	}
	if (fd_msg_parse_dict(m, fd_g_config->cnf_dict, NULL)) {
		fd_msg_free(m);
		return;
	}
	uss = malloc(uss_size);
	check(uss != NULL);
	memset(&ans, 0x5A, sizeof(ans));
	ans.has_uicc_key = 0;
	err = dia_zn_read_bia(m, &ans, uss, uss_size);
	if (err == GBA_OK) {
		size_t n = strnlen(ans.impi, sizeof(ans.impi));
		check(n >= 1 && n <= GBA_ZN_IMPI_MAX);
		/*
		 * Without a GBA-UserSecSettings AVP uss is left as it was (not
		 * even uss[0] = 0), so only a USS that came is checked.
		 */
		check(ans.uss_len < uss_size);
		check(ans.uss_len == 0 || uss[ans.uss_len] == '\0');
		check(ans.has_uicc_key == 0 || ans.has_uicc_key == 1);
		svc_uss_node_id(uss, ans.uss_len, node);
		check_node_id(node);
	} else {
		check(all_zero(ans.me_key, sizeof(ans.me_key)));
		check(all_zero(ans.uicc_key, sizeof(ans.uicc_key)));
		check(ans.has_uicc_key == 0);
	}
	free(uss);
	fd_msg_free(m);
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
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
#ifdef FUZZ_ZN
	struct gba_dia_config cfg = {
		.identity = "naf.node.test",
		.realm = "test",
		.apps = GBA_DIA_ZN,
		.transport = GBA_DIA_TCP,   /* no connection: messages only */
		.log = quiet,
		.log_level = GBA_DIA_LOG_ERROR,
	};
	check(gba_dia_open(&dia, &cfg) == GBA_OK);
#endif
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0: fuzz_psk_id(data + 1, size - 1); break;
	case 1: fuzz_registration(data + 1, size - 1); break;
	case 2: fuzz_uss(data + 1, size - 1); break;
#ifdef FUZZ_ZN
	case 3: fuzz_bia(data + 1, size - 1, data[0] & 4); break;
#endif
	default: break;
	}
	return 0;
}
