/*
 * zh_server.c - the HSS side of Zh: check a received Multimedia-Auth-
 * Request, ask the handler for a vector, and answer.
 *
 * freeDiameter has already checked the MAR against the command's rules
 * (dict.c) and answered 5005 or 5009 for a missing or repeated AVP; this
 * file checks that the Vendor-Specific-Application-Id is there (5005) and
 * the values: a printable User-Name of at most 255 octets, a
 * known authentication scheme, and a SIP-Authorization of RAND || AUTS
 * (30 octets).  A bad value is answered 5004 with the value in Failed-AVP.
 */
#define _GNU_SOURCE
#include <string.h>

#include <gba/diameter_zh.h>
#include <gba/util.h>

#include "internal.h"

/* A MAR's values, checked; the pointers point into the request. */
struct mar_view {
	struct gba_zh_mar mar;
	char impi[GBA_ZH_IMPI_MAX + 1];
	char origin[256];
	const char *scheme;
	struct avp_hdr *authorization;   /* SIP-Authorization, when resynchronising */
	/* When a value is bad: the AVP to return in Failed-AVP and why. */
	int missing_vsai;   /* 5005 instead of 5004 */
	struct avp_hdr *bad;
	struct dict_object *bad_model;
	const char *why;
};

static int printable(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static void copy_text(char *dst, size_t size, const union avp_value *v)
{
	size_t n = v->os.len < size - 1 ? v->os.len : size - 1;

	memcpy(dst, v->os.data, n);
	dst[n] = '\0';
}

static int reject(struct mar_view *m, struct avp_hdr *h, struct dict_object *model,
		  const char *why)
{
	m->bad = h;
	m->bad_model = model;
	m->why = why;
	return -1;
}

static int check_user_name(struct gba_dia *dia, struct msg *req, struct mar_view *m)
{
	struct avp_hdr *h = avp_find(req, 1, 0, NULL, NULL);   /* User-Name */

	if (!h || !h->avp_value)
		return reject(m, h, dia->dict.user_name, "no User-Name");
	if (h->avp_value->os.len == 0 || h->avp_value->os.len > GBA_ZH_IMPI_MAX ||
	    !printable(h->avp_value->os.data, h->avp_value->os.len))
		return reject(m, h, dia->dict.user_name, "User-Name is not a valid IMPI");
	copy_text(m->impi, sizeof(m->impi), h->avp_value);
	m->mar.impi = m->impi;
	m->mar.impi_len = h->avp_value->os.len;
	return 0;
}

static int check_auth_data_item(struct gba_dia *dia, struct msg *req, struct mar_view *m)
{
	const struct dia_dict *d = &dia->dict;
	struct avp *item = NULL;
	struct avp_hdr *h;

	m->scheme = GBA_ZH_SCHEME_AKAV1;
	if (!avp_find(req, GBA_AVP_SIP_AUTH_DATA_ITEM, GBA_DIA_VENDOR_3GPP, &item, NULL) || !item)
		return 0;
	h = avp_find(item, GBA_AVP_SIP_AUTHENTICATION_SCHEME, GBA_DIA_VENDOR_3GPP, NULL, NULL);
	if (h && h->avp_value) {
		const union avp_value *v = h->avp_value;
		if (v->os.len == strlen(GBA_ZH_SCHEME_AKAV1) &&
		    !memcmp(v->os.data, GBA_ZH_SCHEME_AKAV1, v->os.len))
			m->scheme = GBA_ZH_SCHEME_AKAV1;
		else if (v->os.len == strlen(GBA_ZH_SCHEME_AKAV2) &&
			 !memcmp(v->os.data, GBA_ZH_SCHEME_AKAV2, v->os.len))
			m->scheme = GBA_ZH_SCHEME_AKAV2;
		else
			return reject(m, h, d->sip_auth_scheme,
				      "SIP-Authentication-Scheme not supported");
	}
	h = avp_find(item, GBA_AVP_SIP_AUTHORIZATION, GBA_DIA_VENDOR_3GPP, NULL, NULL);
	if (h && h->avp_value) {
		if (h->avp_value->os.len != GBA_ZH_RESYNC_LEN)
			return reject(m, h, d->sip_authorization,
				      "SIP-Authorization is not RAND || AUTS (30 octets)");
		m->authorization = h;
		m->mar.resync_rand = h->avp_value->os.data;
		m->mar.auts = h->avp_value->os.data + 16;
	}
	return 0;
}

static int check_mar(struct gba_dia *dia, struct msg *req, struct mar_view *m)
{
	struct avp_hdr *h = avp_find(req, 264, 0, NULL, NULL);   /* Origin-Host */

	memset(m, 0, sizeof(*m));
	if (h && h->avp_value)
		copy_text(m->origin, sizeof(m->origin), h->avp_value);
	m->mar.origin_host = m->origin;
	if (!avp_find(req, 260, 0, NULL, NULL)) {   /* Vendor-Specific-Application-Id */
		m->missing_vsai = 1;
		return reject(m, NULL, NULL, "no Vendor-Specific-Application-Id");
	}
	if (check_user_name(dia, req, m) || check_auth_data_item(dia, req, m))
		return -1;
	m->mar.scheme = m->scheme;
	return 0;
}

/* ---- The answer ------------------------------------------------------------------ */

static int answer_head(struct gba_dia *dia, struct msg *ans)
{
	return avp_add_vsai(dia, ans, GBA_DIA_APP_ZH);
}

static int answer_tail(struct gba_dia *dia, struct msg *ans)
{
	int ret = avp_add_u32(ans, dia->dict.auth_session_state, 1);   /* NO_STATE_MAINTAINED */

	if (!ret)
		ret = fd_msg_add_origin(ans, 0);
	return ret;
}

static int answer_result(struct gba_dia *dia, struct msg *ans, uint32_t code)
{
	int ret = answer_head(dia, ans);

	if (!ret)
		ret = avp_add_u32(ans, dia->dict.result_code, code);
	if (!ret)
		ret = answer_tail(dia, ans);
	return ret;
}

static int answer_unknown_user(struct gba_dia *dia, struct msg *ans)
{
	struct avp *er = NULL;
	int ret = answer_head(dia, ans);

	if (!ret)
		ret = avp_add_group(ans, dia->dict.exp_result, &er);
	if (!ret)
		ret = avp_add_u32(er, dia->dict.vendor_id, GBA_DIA_VENDOR_3GPP);
	if (!ret)
		ret = avp_add_u32(er, dia->dict.exp_result_code, GBA_DIA_ERROR_IDENTITY_UNKNOWN);
	if (!ret)
		ret = answer_tail(dia, ans);
	return ret;
}

/* 5004 with the offending value in Failed-AVP (RFC 6733 7.5). */
static int answer_bad_value(struct gba_dia *dia, struct msg *ans, const struct mar_view *m)
{
	struct avp *failed = NULL, *inner = NULL;
	int ret = answer_result(dia, ans, GBA_DIA_INVALID_AVP_VALUE);

	if (!ret)
		ret = avp_add_str(ans, dia->dict.error_message, m->why);
	if (!ret && m->bad && m->bad->avp_value) {
		/* SIP-Authorization and SIP-Authentication-Scheme belong to the
		 * SIP-Auth-Data-Item: Failed-AVP shows them inside it. */
		struct avp *parent;
		ret = avp_add_group(ans, dia->dict.failed_avp, &failed);
		parent = failed;
		if (!ret && m->bad_model != dia->dict.user_name) {
			ret = avp_add_group(failed, dia->dict.sip_auth_data_item, &inner);
			parent = inner;
		}
		if (!ret)
			ret = avp_add_os(parent, m->bad_model, m->bad->avp_value->os.data,
					 m->bad->avp_value->os.len);
	}
	return ret;
}

static int answer_vector(struct gba_dia *dia, struct msg *ans, const struct mar_view *m,
			 const struct gba_av *av, const char *guss, size_t guss_len)
{
	const struct dia_dict *d = &dia->dict;
	uint8_t rand_autn[32];
	struct avp *item = NULL;
	int ret = answer_head(dia, ans);

	memcpy(rand_autn, av->rand, 16);
	memcpy(rand_autn + 16, av->autn, 16);
	if (!ret)
		ret = avp_add_u32(ans, d->result_code, GBA_DIA_SUCCESS);
	if (!ret)
		ret = answer_tail(dia, ans);
	if (!ret)
		ret = avp_add_str(ans, d->user_name, m->impi);
	if (!ret)
		ret = avp_add_u32(ans, d->sip_number_auth_items, 1);
	if (!ret)
		ret = avp_add_group(ans, d->sip_auth_data_item, &item);
	if (!ret)
		ret = avp_add_u32(item, d->sip_item_number, 1);
	if (!ret)
		ret = avp_add_str(item, d->sip_auth_scheme, m->scheme);
	if (!ret)
		ret = avp_add_os(item, d->sip_authenticate, rand_autn, sizeof(rand_autn));
	if (!ret)
		ret = avp_add_os(item, d->sip_authorization, av->xres, av->xres_len);
	if (!ret)
		ret = avp_add_os(item, d->conf_key, av->ck, sizeof(av->ck));
	if (!ret)
		ret = avp_add_os(item, d->integ_key, av->ik, sizeof(av->ik));
	if (!ret && guss_len)
		ret = avp_add_os(ans, d->gaa[GBA_AVP_GBA_USERSECSETTINGS - GAA_AVP_FIRST],
				 (const uint8_t *)guss, guss_len);
	gba_wipe(rand_autn, sizeof(rand_autn));
	return ret;
}

/* 5005, with Failed-AVP showing the AVP that should have been there
 * (RFC 6733 7.5). */
static int answer_missing_vsai(struct gba_dia *dia, struct msg *ans, const struct mar_view *m)
{
	struct avp *failed = NULL;
	int ret = answer_result(dia, ans, GBA_DIA_MISSING_AVP);

	if (!ret)
		ret = avp_add_str(ans, dia->dict.error_message, m->why);
	if (!ret)
		ret = avp_add_group(ans, dia->dict.failed_avp, &failed);
	if (!ret)
		ret = avp_add_vsai(dia, failed, GBA_DIA_APP_ZH);
	return ret;
}

/* Ask the handler; answer what it says. */
static int serve(struct gba_dia *dia, struct msg *ans, const struct mar_view *m)
{
	gba_zh_mar_handler *fn = dia->zh_server.fn;
	char guss[GBA_ZH_GUSS_MAX + 1];
	size_t guss_len = 0;
	struct gba_av av;
	gba_err err;
	int ret;

	memset(&av, 0, sizeof(av));
	err = fn(dia->zh_server.arg, &m->mar, &av, guss, sizeof(guss), &guss_len);
	if (!err && (av.xres_len < 4 || av.xres_len > GBA_RES_MAX || guss_len > GBA_ZH_GUSS_MAX))
		err = GBA_ERR_INVALID_ARG;
	switch (err) {
	case GBA_OK:
		ret = answer_vector(dia, ans, m, &av, guss, guss_len);
		break;
	case GBA_ERR_NOT_FOUND:
		ret = answer_unknown_user(dia, ans);
		break;
	case GBA_ERR_AUTS_INVALID: {
		struct mar_view bad = *m;
		bad.bad = m->authorization;
		bad.bad_model = dia->dict.sip_authorization;
		bad.why = "AUTS does not verify (MAC-S)";
		ret = answer_bad_value(dia, ans, &bad);
		break;
	}
	default:
		ret = answer_result(dia, ans, GBA_DIA_UNABLE_TO_COMPLY);
		break;
	}
	gba_wipe(&av, sizeof(av));
	gba_dia_log(dia, GBA_DIA_LOG_INFO, "MAR from %s for %s%s: %s", m->origin, m->impi,
		    m->mar.auts ? " (resync)" : "",
		    err ? gba_strerror(err) : "vector sent");
	return ret;
}

int dia_zh_answer_mar(struct gba_dia *dia, struct msg **msg)
{
	struct mar_view m;
	int bad = check_mar(dia, *msg, &m);
	int ret;

	/* The answer takes over the request: m's pointers into it stay valid
	 * until the answer is freed. */
	ret = fd_msg_new_answer_from_req(fd_g_config->cnf_dict, msg, 0);
	if (ret)
		return ret;
	if (bad) {
		gba_dia_log(dia, GBA_DIA_LOG_WARN, "malformed MAR from %s: %s", m.origin, m.why);
		if (m.missing_vsai)
			return answer_missing_vsai(dia, *msg, &m);
		return answer_bad_value(dia, *msg, &m);
	}
	return serve(dia, *msg, &m);
}

static int on_mar(struct msg **msg, struct avp *avp, struct session *sess, void *opaque,
		  enum disp_action *act)
{
	int ret;

	(void)avp;
	(void)sess;
	ret = dia_zh_answer_mar(opaque, msg);
	if (ret)
		return ret;
	*act = DISP_ACT_SEND;
	return 0;
}

gba_err gba_zh_server_register(struct gba_dia *dia, gba_zh_mar_handler *fn, void *arg)
{
	struct disp_when when;

	if (!dia || !fn || dia->zh_server.fn || dia->started || !(dia->apps & GBA_DIA_ZH))
		return GBA_ERR_INVALID_ARG;
	memset(&when, 0, sizeof(when));
	when.app = dia->dict.app_zh;
	when.command = dia->dict.cmd_mar;
	dia->zh_server.fn = fn;
	dia->zh_server.arg = arg;
	if (fd_disp_register(on_mar, DISP_HOW_CC, &when, dia, &dia->zh_server.hdl)) {
		dia->zh_server.fn = NULL;
		return GBA_ERR_UNAVAILABLE;
	}
	return GBA_OK;
}
