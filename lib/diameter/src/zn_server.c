/*
 * zn_server.c - the BSF side of Zn: check a received Bootstrapping-Info-
 * Request, ask the handler for the key material, and answer.
 *
 * freeDiameter has already checked the BIR against the command's rules
 * (dict.c): a missing Transaction-Identifier, NAF-Id, Origin-* or
 * Destination-Realm is answered 5005, a repeated one 5009.  This file
 * checks that the Vendor-Specific-Application-Id is there (5005; see dict.c
 * for why freeDiameter does not) and the values: a printable B-TID of at
 * most 280 octets, a NAF-Id of 6..260 octets, a GBA_U-Awareness-Indicator
 * of NO or YES.  A bad value is answered 5004 with the value in Failed-AVP.
 */
#define _GNU_SOURCE
#include <string.h>

#include <gba/diameter_zn.h>
#include <gba/util.h>

#include "internal.h"

#define GAA(d, code) ((d)->gaa[(code) - GAA_AVP_FIRST])

/* A BIR's values, checked; the pointers point into the request. */
struct bir_view {
	struct gba_zn_bir bir;
	char btid[GBA_ZN_BTID_MAX + 1];
	char origin[256];
	char peer[256];
	char service[256];
	struct dia_reject rej;        /* why it is refused, if it is */
};

static int check_btid(struct gba_dia *dia, struct msg *req, struct bir_view *v)
{
	struct dict_object *model = GAA(&dia->dict, GBA_AVP_TRANSACTION_IDENTIFIER);
	struct avp_hdr *h = avp_find(req, GBA_AVP_TRANSACTION_IDENTIFIER, GBA_DIA_VENDOR_3GPP,
				     NULL, NULL);

	if (!h || !h->avp_value)
		return dia_reject(&v->rej, h, model, "no Transaction-Identifier");
	if (h->avp_value->os.len == 0 || h->avp_value->os.len > GBA_ZN_BTID_MAX ||
	    !dia_printable(h->avp_value->os.data, h->avp_value->os.len))
		return dia_reject(&v->rej, h, model, "Transaction-Identifier is not a B-TID");
	dia_copy_text(v->btid, sizeof(v->btid), h->avp_value->os.data, h->avp_value->os.len);
	v->bir.btid = v->btid;
	v->bir.btid_len = h->avp_value->os.len;
	return 0;
}

static int check_naf_id(struct gba_dia *dia, struct msg *req, struct bir_view *v)
{
	struct dict_object *model = GAA(&dia->dict, GBA_AVP_NAF_ID);
	struct avp_hdr *h = avp_find(req, GBA_AVP_NAF_ID, GBA_DIA_VENDOR_3GPP, NULL, NULL);

	if (!h || !h->avp_value)
		return dia_reject(&v->rej, h, model, "no NAF-Id");
	if (h->avp_value->os.len < GBA_ZN_NAF_ID_MIN || h->avp_value->os.len > GBA_ZN_NAF_ID_MAX)
		return dia_reject(&v->rej, h, model, "NAF-Id is not FQDN || Ua security protocol id");
	v->bir.naf_id = h->avp_value->os.data;
	v->bir.naf_id_len = h->avp_value->os.len;
	return 0;
}

static int check_options(struct gba_dia *dia, struct msg *req, struct bir_view *v)
{
	struct avp_hdr *h = avp_find(req, GBA_AVP_GBA_U_AWARENESS_INDICATOR, GBA_DIA_VENDOR_3GPP,
				     NULL, NULL);

	if (h && h->avp_value) {
		if (h->avp_value->i32 != 0 && h->avp_value->i32 != 1)
			return dia_reject(&v->rej, h, GAA(&dia->dict, GBA_AVP_GBA_U_AWARENESS_INDICATOR),
				      "GBA_U-Awareness-Indicator is neither NO nor YES");
		v->bir.gba_u_aware = h->avp_value->i32 == 1;
	}
	h = avp_find(req, GBA_AVP_GAA_SERVICE_IDENTIFIER, GBA_DIA_VENDOR_3GPP, NULL, NULL);
	if (h && h->avp_value) {
		if (!dia_printable(h->avp_value->os.data, h->avp_value->os.len) ||
		    h->avp_value->os.len >= sizeof(v->service))
			return dia_reject(&v->rej, h, GAA(&dia->dict, GBA_AVP_GAA_SERVICE_IDENTIFIER),
				      "GAA-Service-Identifier is not printable text");
		dia_copy_text(v->service, sizeof(v->service), h->avp_value->os.data,
			  h->avp_value->os.len);
		v->bir.gaa_service_id = v->service;
	}
	return 0;
}

static int check_bir(struct gba_dia *dia, struct msg *req, struct bir_view *v)
{
	struct avp_hdr *h = avp_find(req, 264, 0, NULL, NULL);   /* Origin-Host */
	DiamId_t src = NULL;
	size_t src_len = 0;

	memset(v, 0, sizeof(*v));
	if (h && h->avp_value)
		dia_copy_text(v->origin, sizeof(v->origin), h->avp_value->os.data,
			  h->avp_value->os.len);
	if (!fd_msg_source_get(req, &src, &src_len) && src)
		dia_copy_text(v->peer, sizeof(v->peer), (const uint8_t *)src, src_len);
	v->bir.origin_host = v->origin;
	v->bir.peer = v->peer;
	if (!avp_find(req, 260, 0, NULL, NULL)) {   /* Vendor-Specific-Application-Id */
		v->rej.missing_vsai = 1;
		return dia_reject(&v->rej, NULL, NULL, "no Vendor-Specific-Application-Id");
	}
	if (check_btid(dia, req, v) || check_naf_id(dia, req, v) || check_options(dia, req, v))
		return -1;
	return 0;
}

/* ---- The answer ------------------------------------------------------------------ */

/* 5004 with the offending value in Failed-AVP (RFC 6733 7.5). */
static int answer_bad_value(struct gba_dia *dia, struct msg *ans, const struct bir_view *v)
{
	const struct dia_reject *r = &v->rej;
	struct avp *failed = NULL;
	int ret = dia_answer_bad_value(dia, ans, GBA_DIA_APP_ZN, r, &failed);

	if (ret || !failed)
		return ret;
	if (r->bad_model == GAA(&dia->dict, GBA_AVP_GBA_U_AWARENESS_INDICATOR))
		return avp_add_u32(failed, r->bad_model, (uint32_t)r->bad->avp_value->i32);
	return avp_add_os(failed, r->bad_model, r->bad->avp_value->os.data,
			  r->bad->avp_value->os.len);
}

static int add_time(struct msg *ans, struct dict_object *model, int64_t t)
{
	uint8_t b[4];

	gba_zn_time_encode(t, b);
	return avp_add_os(ans, model, b, sizeof(b));
}

static int answer_keys(struct gba_dia *dia, struct msg *ans, const struct gba_zn_bia *bia)
{
	const struct dia_dict *d = &dia->dict;
	int ret = dia_answer_result(dia, ans, GBA_DIA_APP_ZN, GBA_DIA_SUCCESS);

	if (!ret)
		ret = avp_add_str(ans, d->user_name, bia->impi);
	if (!ret)
		ret = avp_add_os(ans, GAA(d, GBA_AVP_ME_KEY_MATERIAL), bia->me_key, GBA_ZN_KEY_LEN);
	if (!ret && bia->has_uicc_key)
		ret = avp_add_os(ans, GAA(d, GBA_AVP_UICC_KEY_MATERIAL), bia->uicc_key,
				 GBA_ZN_KEY_LEN);
	if (!ret)
		ret = add_time(ans, GAA(d, GBA_AVP_KEY_EXPIRYTIME), bia->expiry);
	if (!ret)
		ret = add_time(ans, GAA(d, GBA_AVP_BOOTSTRAPINFOCREATIONTIME), bia->created);
	if (!ret && bia->uss_len)
		ret = avp_add_os(ans, GAA(d, GBA_AVP_GBA_USERSECSETTINGS),
				 (const uint8_t *)bia->uss, bia->uss_len);
	if (!ret)
		ret = avp_add_u32(ans, GAA(d, GBA_AVP_GBA_TYPE), (uint32_t)bia->gba_type);
	return ret;
}

static int valid_bia(const struct gba_zn_bia *bia)
{
	size_t n = strnlen(bia->impi, sizeof(bia->impi));

	return n > 0 && n <= GBA_ZN_IMPI_MAX && bia->uss_len < bia->uss_size &&
	       bia->expiry >= bia->created && (bia->gba_type == 0 || bia->gba_type == 1);
}

static const char *outcome(gba_err err, const struct gba_zn_bia *bia)
{
	if (err == GBA_OK)
		return bia->has_uicc_key ? "Ks_ext_NAF and Ks_int_NAF sent" : "Ks_NAF sent";
	if (err == GBA_ERR_NOT_FOUND)
		return "5403 (unknown or expired B-TID)";
	if (err == GBA_ERR_NOT_AUTHORIZED)
		return "5402 (NAF not authorised)";
	return gba_strerror(err);
}

/* Ask the handler; answer what it says. */
static int serve(struct gba_dia *dia, struct msg *ans, const struct bir_view *v)
{
	static __thread char uss[GBA_ZN_USS_MAX + 1];
	struct gba_zn_bia bia;
	gba_err err;
	int ret;

	memset(&bia, 0, sizeof(bia));
	bia.uss = uss;
	bia.uss_size = sizeof(uss);
	/* A client that took the identity of one of our configured peers (the
	 * HSS) without a certificate naming it: the handler is not asked. */
	if (!dia_peer_trusted(dia, v->peer, strlen(v->peer)))
		err = GBA_ERR_NOT_AUTHORIZED;
	else
		err = dia->zn_server.fn(dia->zn_server.arg, &v->bir, &bia);
	if (!err && !valid_bia(&bia))
		err = GBA_ERR_INVALID_ARG;
	switch (err) {
	case GBA_OK:
		ret = answer_keys(dia, ans, &bia);
		break;
	case GBA_ERR_NOT_FOUND:
		ret = dia_answer_experimental(dia, ans, GBA_DIA_APP_ZN, GBA_DIA_ERROR_TRANSACTION_IDENTIFIER_INVALID);
		break;
	case GBA_ERR_NOT_AUTHORIZED:
		ret = dia_answer_experimental(dia, ans, GBA_DIA_APP_ZN, GBA_DIA_ERROR_NOT_AUTHORIZED);
		break;
	default:
		ret = dia_answer_result(dia, ans, GBA_DIA_APP_ZN, GBA_DIA_UNABLE_TO_COMPLY);
		break;
	}
	/* B-TIDs are pseudonyms; the IMPI is left to the BSF's own log policy. */
	gba_dia_log(dia, GBA_DIA_LOG_INFO, "BIR from %s for %s: %s", v->peer, v->btid,
		    outcome(err, &bia));
	gba_wipe(&bia, sizeof(bia));
	return ret;
}

int dia_zn_answer_bir(struct gba_dia *dia, struct msg **msg)
{
	struct bir_view v;
	int bad = check_bir(dia, *msg, &v);
	int ret;

	/* The answer takes over the request: v's pointers into it stay valid
	 * until the answer is freed. */
	ret = fd_msg_new_answer_from_req(fd_g_config->cnf_dict, msg, 0);
	if (ret)
		return ret;
	if (bad) {
		gba_dia_log(dia, GBA_DIA_LOG_WARN, "malformed BIR from %s: %s", v.peer, v.rej.why);
		if (v.rej.missing_vsai)
			return dia_answer_missing_vsai(dia, *msg, GBA_DIA_APP_ZN, &v.rej);
		return answer_bad_value(dia, *msg, &v);
	}
	return serve(dia, *msg, &v);
}

static int on_bir(struct msg **msg, struct avp *avp, struct session *sess, void *opaque,
		  enum disp_action *act)
{
	int ret;

	(void)avp;
	(void)sess;
	ret = dia_zn_answer_bir(opaque, msg);
	if (ret)
		return ret;
	*act = DISP_ACT_SEND;
	return 0;
}

gba_err gba_zn_server_register(struct gba_dia *dia, gba_zn_bir_handler *fn, void *arg)
{
	struct disp_when when;

	if (!dia || !fn || dia->zn_server.fn || dia->started || !(dia->apps & GBA_DIA_ZN))
		return GBA_ERR_INVALID_ARG;
	memset(&when, 0, sizeof(when));
	when.app = dia->dict.app_zn;
	when.command = dia->dict.cmd_bir;
	dia->zn_server.fn = fn;
	dia->zn_server.arg = arg;
	if (fd_disp_register(on_bir, DISP_HOW_CC, &when, dia, &dia->zn_server.hdl)) {
		dia->zn_server.fn = NULL;
		return GBA_ERR_UNAVAILABLE;
	}
	return GBA_OK;
}
