/*
 * zh_server.c - the HSS side of Zh (and of Cx, for tests of a BSF that
 * talks to an IMS HSS): check a received Multimedia-Auth-Request, ask the
 * handler for the vectors, and answer on the request's application.
 *
 * freeDiameter has already checked the MAR against the command's rules
 * (dict.c) and answered 5005 or 5009 for a missing or repeated AVP; this
 * file checks that the Vendor-Specific-Application-Id is there (5005) and
 * the values: a printable User-Name of at most 255 octets, a
 * known authentication scheme, and a SIP-Authorization of RAND || AUTS
 * (30 octets).  A bad value is answered 5004 with the value in Failed-AVP.
 * On Cx Public-Identity and Server-Name are required too (5005).
 */
#define _GNU_SOURCE
#include <string.h>

#include <gba/diameter_zh.h>
#include <gba/util.h>

#include "internal.h"

/* DIAMETER_OUT_OF_SPACE (RFC 6733 7.1.4): a transient failure to store. */
#define DIA_OUT_OF_SPACE 4002

/* A MAR's values, checked; the pointers point into the request. */
struct mar_view {
	struct gba_zh_mar mar;
	char impi[GBA_ZH_IMPI_MAX + 1];
	char origin[256];
	const char *scheme;
	struct avp_hdr *authorization;   /* SIP-Authorization, when resynchronising */
	unsigned vectors;                /* how many to answer */
	struct dict_object *missing;     /* a required Cx AVP that is not there */
	struct dia_reject rej;           /* why it is refused, if it is */
};

static int check_user_name(struct gba_dia *dia, struct msg *req, struct mar_view *m)
{
	struct avp_hdr *h = avp_find(req, 1, 0, NULL, NULL);   /* User-Name */

	if (!h || !h->avp_value)
		return dia_reject(&m->rej, h, dia->dict.user_name, "no User-Name");
	if (h->avp_value->os.len == 0 || h->avp_value->os.len > GBA_ZH_IMPI_MAX ||
	    !dia_printable(h->avp_value->os.data, h->avp_value->os.len))
		return dia_reject(&m->rej, h, dia->dict.user_name, "User-Name is not a valid IMPI");
	dia_copy_text(m->impi, sizeof(m->impi), h->avp_value->os.data, h->avp_value->os.len);
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
			return dia_reject(&m->rej, h, d->sip_auth_scheme,
				      "SIP-Authentication-Scheme not supported");
	}
	h = avp_find(item, GBA_AVP_SIP_AUTHORIZATION, GBA_DIA_VENDOR_3GPP, NULL, NULL);
	if (h && h->avp_value) {
		if (h->avp_value->os.len != GBA_ZH_RESYNC_LEN)
			return dia_reject(&m->rej, h, d->sip_authorization,
				      "SIP-Authorization is not RAND || AUTS (30 octets)");
		m->authorization = h;
		m->mar.resync_rand = h->avp_value->os.data;
		m->mar.auts = h->avp_value->os.data + 16;
	}
	return 0;
}

/* Cx: Public-Identity and Server-Name are required (TS 29.229 6.1.7), and
 * SIP-Number-Auth-Items says how many vectors to answer (at most our max). */
static int check_cx(struct gba_dia *dia, struct msg *req, struct mar_view *m)
{
	struct avp_hdr *n = avp_find(req, GBA_AVP_SIP_NUMBER_AUTH_ITEMS, GBA_DIA_VENDOR_3GPP,
				     NULL, NULL);

	if (!avp_find(req, GBA_AVP_PUBLIC_IDENTITY, GBA_DIA_VENDOR_3GPP, NULL, NULL))
		m->missing = dia->dict.public_identity;
	else if (!avp_find(req, GBA_AVP_SERVER_NAME, GBA_DIA_VENDOR_3GPP, NULL, NULL))
		m->missing = dia->dict.server_name;
	if (m->missing)
		return dia_reject(&m->rej, NULL, NULL, m->missing == dia->dict.server_name
					? "no Server-Name (Cx)" : "no Public-Identity (Cx)");
	if (n && n->avp_value && n->avp_value->u32 > 1)
		m->vectors = n->avp_value->u32 < GBA_ZH_VECTORS_MAX ? n->avp_value->u32
								    : GBA_ZH_VECTORS_MAX;
	return 0;
}

static int check_mar(struct gba_dia *dia, struct msg *req, struct mar_view *m)
{
	struct avp_hdr *h = avp_find(req, 264, 0, NULL, NULL);   /* Origin-Host */
	struct msg_hdr *hdr = NULL;

	memset(m, 0, sizeof(*m));
	m->vectors = 1;
	m->mar.app = !fd_msg_hdr(req, &hdr) && hdr->msg_appl == GBA_DIA_APP_CX ? GBA_DIA_APP_CX
									      : GBA_DIA_APP_ZH;
	if (h && h->avp_value)
		dia_copy_text(m->origin, sizeof(m->origin), h->avp_value->os.data,
			      h->avp_value->os.len);
	m->mar.origin_host = m->origin;
	if (!avp_find(req, 260, 0, NULL, NULL)) {   /* Vendor-Specific-Application-Id */
		m->rej.missing_vsai = 1;
		return dia_reject(&m->rej, NULL, NULL, "no Vendor-Specific-Application-Id");
	}
	if (check_user_name(dia, req, m) || check_auth_data_item(dia, req, m))
		return -1;
	if (m->mar.app == GBA_DIA_APP_CX && check_cx(dia, req, m))
		return -1;
	m->mar.scheme = m->scheme;
	return 0;
}

/* ---- The answer ------------------------------------------------------------------ */

/* 5004 with the offending value in Failed-AVP (RFC 6733 7.5). */
static int answer_bad_value(struct gba_dia *dia, struct msg *ans, uint32_t app,
			    const struct dia_reject *r)
{
	struct avp *failed = NULL, *parent;
	int ret = dia_answer_bad_value(dia, ans, app, r, &failed);

	if (ret || !failed)
		return ret;
	/* SIP-Authorization and SIP-Authentication-Scheme belong to the
	 * SIP-Auth-Data-Item: Failed-AVP shows them inside it. */
	parent = failed;
	if (r->bad_model != dia->dict.user_name)
		ret = avp_add_group(failed, dia->dict.sip_auth_data_item, &parent);
	if (!ret)
		ret = avp_add_os(parent, r->bad_model, r->bad->avp_value->os.data,
				 r->bad->avp_value->os.len);
	return ret;
}

/* 5005 for a required AVP of Cx that is missing: an empty one in Failed-AVP
 * (RFC 6733 7.5: "an example of the missing AVP"). */
static int answer_missing(struct gba_dia *dia, struct msg *ans, const struct mar_view *m)
{
	struct avp *failed = NULL;
	int ret = dia_answer_result(dia, ans, m->mar.app, GBA_DIA_MISSING_AVP);

	if (!ret)
		ret = avp_add_str(ans, dia->dict.error_message, m->rej.why);
	if (!ret)
		ret = avp_add_group(ans, dia->dict.failed_avp, &failed);
	if (!ret)
		ret = avp_add_str(failed, m->missing, "");
	return ret;
}

/* SIP-Auth-Data-Item number `number` with one vector. */
static int add_item(struct gba_dia *dia, struct msg *ans, const struct mar_view *m,
		    const struct gba_av *av, unsigned number)
{
	const struct dia_dict *d = &dia->dict;
	uint8_t rand_autn[32];
	struct avp *item = NULL;
	int ret = avp_add_group(ans, d->sip_auth_data_item, &item);

	memcpy(rand_autn, av->rand, 16);
	memcpy(rand_autn + 16, av->autn, 16);
	if (!ret)
		ret = avp_add_u32(item, d->sip_item_number, number);
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
	gba_wipe(rand_autn, sizeof(rand_autn));
	return ret;
}

static int answer_vectors(struct gba_dia *dia, struct msg *ans, const struct mar_view *m,
			  const struct gba_av *av, unsigned n, const char *guss, size_t guss_len)
{
	const struct dia_dict *d = &dia->dict;
	int ret = dia_answer_result(dia, ans, m->mar.app, GBA_DIA_SUCCESS);

	if (!ret)
		ret = avp_add_str(ans, d->user_name, m->impi);
	if (!ret)
		ret = avp_add_u32(ans, d->sip_number_auth_items, n);
	for (unsigned i = 0; !ret && i < n; i++)
		ret = add_item(dia, ans, m, &av[i], i + 1);
	if (!ret && guss_len)
		ret = avp_add_os(ans, d->gaa[GBA_AVP_GBA_USERSECSETTINGS - GAA_AVP_FIRST],
				 (const uint8_t *)guss, guss_len);
	return ret;
}

/*
 * The handler's vectors: the first (with the resynchronisation, if any)
 * decides the outcome; further ones (Cx asking for several) stop at the
 * first failure.  Returns the first call's error; *n vectors in av.
 */
static gba_err ask_handler(struct gba_dia *dia, const struct mar_view *m, struct gba_av *av,
			   unsigned *n, char *guss, size_t guss_size, size_t *guss_len)
{
	gba_zh_mar_handler *fn = dia->zh_server.fn;
	struct gba_zh_mar more = m->mar;
	gba_err err = fn(dia->zh_server.arg, &m->mar, &av[0], guss, guss_size, guss_len);

	if (!err && (av[0].xres_len < 4 || av[0].xres_len > GBA_RES_MAX ||
		     *guss_len > GBA_ZH_GUSS_MAX))
		err = GBA_ERR_INVALID_ARG;
	*n = err ? 0 : 1;
	more.resync_rand = more.auts = NULL;
	while (!err && *n < m->vectors) {
		/* The GUSS goes once: a further call's copy is dropped. */
		char scratch[GBA_ZH_GUSS_MAX + 1];
		size_t ignored = 0;

		more.index = *n;
		if (fn(dia->zh_server.arg, &more, &av[*n], scratch, sizeof(scratch), &ignored) ||
		    av[*n].xres_len < 4 || av[*n].xres_len > GBA_RES_MAX)
			break;
		(*n)++;
	}
	return err;
}

/* Ask the handler; answer what it says. */
static int serve(struct gba_dia *dia, struct msg *ans, const struct mar_view *m)
{
	char guss[GBA_ZH_GUSS_MAX + 1];
	size_t guss_len = 0;
	struct gba_av av[GBA_ZH_VECTORS_MAX];
	unsigned n = 0;
	uint32_t app = m->mar.app;
	gba_err err;
	int ret;

	memset(av, 0, sizeof(av));
	err = ask_handler(dia, m, av, &n, guss, sizeof(guss), &guss_len);
	switch (err) {
	case GBA_OK:
		ret = answer_vectors(dia, ans, m, av, n, guss, guss_len);
		break;
	case GBA_ERR_NOT_FOUND:
		/* Cx's DIAMETER_ERROR_USER_UNKNOWN; Zh's IDENTITY_UNKNOWN. */
		ret = dia_answer_experimental(dia, ans, app, app == GBA_DIA_APP_CX
					      ? GBA_DIA_CX_ERROR_USER_UNKNOWN
					      : GBA_DIA_ERROR_IDENTITY_UNKNOWN);
		break;
	case GBA_ERR_STORE_UNWRITABLE:
		/* The SQN could not be stored (disk full): no vector.  Transient,
		 * so the BSF answers its UE 503 (RFC 6733 7.1.4, 4002). */
		ret = dia_answer_result(dia, ans, app, DIA_OUT_OF_SPACE);
		break;
	case GBA_ERR_AUTS_INVALID: {
		struct dia_reject bad = { 0, m->authorization, dia->dict.sip_authorization,
					  "AUTS does not verify (MAC-S)" };
		ret = answer_bad_value(dia, ans, app, &bad);
		break;
	}
	default:
		ret = dia_answer_result(dia, ans, app, GBA_DIA_UNABLE_TO_COMPLY);
		break;
	}
	gba_wipe(av, sizeof(av));
	gba_dia_log(dia, GBA_DIA_LOG_INFO, "%sMAR from %s for %s%s: %s",
		    app == GBA_DIA_APP_CX ? "Cx " : "", m->origin, m->impi,
		    m->mar.auts ? " (resync)" : "", err ? gba_strerror(err)
			: n > 1 ? "vectors sent" : "vector sent");
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
		gba_dia_log(dia, GBA_DIA_LOG_WARN, "malformed MAR from %s: %s", m.origin, m.rej.why);
		if (m.rej.missing_vsai)
			return dia_answer_missing_vsai(dia, *msg, m.mar.app, &m.rej);
		if (m.missing)
			return answer_missing(dia, *msg, &m);
		return answer_bad_value(dia, *msg, m.mar.app, &m.rej);
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

static int register_app(struct gba_dia *dia, struct dict_object *app, struct disp_hdl **hdl)
{
	struct disp_when when;

	memset(&when, 0, sizeof(when));
	when.app = app;
	when.command = dia->dict.cmd_mar;
	return fd_disp_register(on_mar, DISP_HOW_CC, &when, dia, hdl);
}

gba_err gba_zh_server_register(struct gba_dia *dia, gba_zh_mar_handler *fn, void *arg)
{
	if (!dia || !fn || dia->zh_server.fn || dia->started ||
	    !(dia->apps & (GBA_DIA_ZH | GBA_DIA_CX)))
		return GBA_ERR_INVALID_ARG;
	dia->zh_server.fn = fn;
	dia->zh_server.arg = arg;
	if (((dia->apps & GBA_DIA_ZH) &&
	     register_app(dia, dia->dict.app_zh, &dia->zh_server.hdl)) ||
	    ((dia->apps & GBA_DIA_CX) &&
	     register_app(dia, dia->dict.app_cx, &dia->zh_server.hdl_cx))) {
		dia->zh_server.fn = NULL;
		return GBA_ERR_UNAVAILABLE;
	}
	return GBA_OK;
}
