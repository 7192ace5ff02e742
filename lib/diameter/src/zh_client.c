/*
 * zh_client.c - the BSF side of Zh (or Cx): build a Multimedia-Auth-
 * Request, send it, and read the vectors out of the Multimedia-Auth-Answer.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include <gba/diameter_zh.h>
#include <gba/util.h>

#include "internal.h"

static int add_auth_data_item(struct gba_dia *dia, struct msg *mar,
			      const struct gba_zh_request *req)
{
	const struct dia_dict *d = &dia->dict;
	struct avp *item = NULL;
	int ret = avp_add_group(mar, d->sip_auth_data_item, &item);

	if (!ret)
		ret = avp_add_str(item, d->sip_auth_scheme,
				  req->scheme ? req->scheme : GBA_ZH_SCHEME_AKAV1);
	if (!ret && req->auts) {
		/* TS 29.109 4.2.2.1: resynchronisation data is RAND || AUTS. */
		uint8_t resync[GBA_ZH_RESYNC_LEN];
		memcpy(resync, req->resync_rand, 16);
		memcpy(resync + 16, req->auts, GBA_AUTS_LEN);
		ret = avp_add_os(item, d->sip_authorization, resync, sizeof(resync));
	}
	return ret;
}

static int is_cx(const struct gba_zh_request *req)
{
	return req->app == GBA_DIA_APP_CX;
}

/*
 * Cx (TS 29.229 6.1.7): { Public-Identity } { SIP-Auth-Data-Item }
 * { SIP-Number-Auth-Items } { Server-Name }.  Public-Identity is the
 * configured one, or "sip:" IMPI (the form of TS 23.003 13.4B's temporary
 * public identity, which an IMS HSS knows its users by).
 */
static int add_cx_avps(struct gba_dia *dia, struct msg *mar, const struct gba_zh_request *req)
{
	const struct dia_dict *d = &dia->dict;
	char pub[GBA_ZH_IMPI_MAX + 5];
	int ret;

	if (req->public_identity)
		snprintf(pub, sizeof(pub), "%s", req->public_identity);
	else
		snprintf(pub, sizeof(pub), "sip:%s", req->impi);
	ret = avp_add_str(mar, d->public_identity, pub);
	if (!ret)
		ret = add_auth_data_item(dia, mar, req);
	if (!ret)
		ret = avp_add_u32(mar, d->sip_number_auth_items, req->vectors ? req->vectors : 1);
	if (!ret)
		ret = avp_add_str(mar, d->server_name, req->server_name);
	return ret;
}

/* The AVPs after the header, in TS 29.109 4.2.2.1 (or TS 29.229) order. */
static int add_mar_avps(struct gba_dia *dia, struct msg *mar, const struct gba_zh_request *req,
			uint32_t app)
{
	const struct dia_dict *d = &dia->dict;
	int ret = avp_add_vsai(dia, mar, app);

	if (!ret)
		ret = avp_add_u32(mar, d->auth_session_state, 1);   /* NO_STATE_MAINTAINED */
	if (!ret)
		ret = fd_msg_add_origin(mar, 0);
	if (!ret)
		ret = avp_add_str(mar, d->dest_realm, req->dest_realm);
	if (!ret && req->dest_host)
		ret = avp_add_str(mar, d->dest_host, req->dest_host);
	if (!ret)
		ret = avp_add_str(mar, d->user_name, req->impi);
	if (ret || is_cx(req))
		return ret ? ret : add_cx_avps(dia, mar, req);
	ret = avp_add_u32(mar, d->sip_number_auth_items, 1);
	if (!ret)
		ret = add_auth_data_item(dia, mar, req);
	return ret;
}

int dia_zh_build_mar(struct gba_dia *dia, const struct gba_zh_request *req, struct msg **out)
{
	uint32_t app = is_cx(req) ? GBA_DIA_APP_CX : GBA_DIA_APP_ZH;
	struct msg *mar = NULL;
	struct msg_hdr *hdr = NULL;
	int ret = fd_msg_new(dia->dict.cmd_mar, MSGFL_ALLOC_ETEID, &mar);

	if (ret)
		return ret;
	ret = fd_msg_hdr(mar, &hdr);
	if (!ret) {
		hdr->msg_appl = app;
		ret = is_cx(req) ? fd_msg_new_session(mar, (os0_t)"cx", 2)
				 : fd_msg_new_session(mar, (os0_t)"zh", 2);
	}
	if (!ret)
		ret = add_mar_avps(dia, mar, req, app);
	if (ret) {
		fd_msg_free(mar);
		return ret;
	}
	*out = mar;
	return 0;
}

/* An octet-string child of the SIP-Auth-Data-Item, with its length checked. */
static const union avp_value *item_os(struct avp *item, uint32_t code, size_t min, size_t max)
{
	struct avp_hdr *h = avp_find(item, code, GBA_DIA_VENDOR_3GPP, NULL, NULL);

	if (!h || !h->avp_value || h->avp_value->os.len < min || h->avp_value->os.len > max)
		return NULL;
	return h->avp_value;
}

static gba_err read_item(struct avp *item, struct gba_av *av)
{
	const union avp_value *authenticate, *xres, *ck, *ik;

	authenticate = item_os(item, GBA_AVP_SIP_AUTHENTICATE, 32, 32);   /* RAND || AUTN */
	xres = item_os(item, GBA_AVP_SIP_AUTHORIZATION, 4, GBA_RES_MAX);
	ck = item_os(item, GBA_AVP_CONFIDENTIALITY_KEY, 16, 16);
	ik = item_os(item, GBA_AVP_INTEGRITY_KEY, 16, 16);
	if (!authenticate || !xres || !ck || !ik)
		return GBA_ERR_PARSE;
	memcpy(av->rand, authenticate->os.data, 16);
	memcpy(av->autn, authenticate->os.data + 16, 16);
	memcpy(av->xres, xres->os.data, xres->os.len);
	av->xres_len = xres->os.len;
	memcpy(av->ck, ck->os.data, 16);
	memcpy(av->ik, ik->os.data, 16);
	av->sqn = 0;
	return GBA_OK;
}

/* The first max SIP-Auth-Data-Items of the MAA, and their SIP-Item-Numbers
 * (an item without one is numbered by its place). */
static size_t list_items(struct msg *maa, struct avp **items, uint32_t *nums, size_t max)
{
	struct avp *child = NULL;
	size_t n = 0;

	if (fd_msg_browse(maa, MSG_BRW_FIRST_CHILD, &child, NULL))
		child = NULL;
	while (child && n < max) {
		struct avp_hdr *h = NULL;

		if (!fd_msg_avp_hdr(child, &h) && h && h->avp_code == GBA_AVP_SIP_AUTH_DATA_ITEM &&
		    (h->avp_flags & AVP_FLAG_VENDOR) && h->avp_vendor == GBA_DIA_VENDOR_3GPP) {
			struct avp_hdr *num = avp_find(child, GBA_AVP_SIP_ITEM_NUMBER,
						       GBA_DIA_VENDOR_3GPP, NULL, NULL);
			items[n] = child;
			nums[n] = num && num->avp_value ? num->avp_value->u32 : (uint32_t)n + 1;
			n++;
		}
		if (fd_msg_browse(child, MSG_BRW_NEXT, &child, NULL))
			break;
	}
	return n;
}

/*
 * Cx: the vectors in SIP-Item-Number order (TS 29.229 6.3.14: the order in
 * which they are to be used, i.e. their SQNs'); every item must hold a
 * whole vector.  Zh: the first item (a Zh HSS sends one; of an HSS that
 * sends more, the first is used, as before Cx).
 */
static gba_err read_vectors(struct msg *maa, const struct gba_zh_request *req,
			    struct gba_zh_answer *ans)
{
	struct avp *items[GBA_ZH_VECTORS_MAX];
	uint32_t nums[GBA_ZH_VECTORS_MAX];
	size_t n = list_items(maa, items, nums, is_cx(req) ? GBA_ZH_VECTORS_MAX : 1);
	gba_err err = n ? GBA_OK : GBA_ERR_PARSE;

	for (size_t i = 1; i < n; i++)   /* insertion sort: stable, n <= 5 */
		for (size_t j = i; j > 0 && nums[j] < nums[j - 1]; j--) {
			struct avp *a = items[j];
			uint32_t u = nums[j];
			items[j] = items[j - 1];
			nums[j] = nums[j - 1];
			items[j - 1] = a;
			nums[j - 1] = u;
		}
	for (size_t i = 0; !err && i < n; i++)
		err = read_item(items[i], i ? &ans->spare[i - 1] : &ans->av);
	ans->n_spare = err ? 0 : n - 1;
	return err;
}

static gba_err read_guss(struct msg *maa, char *guss, size_t guss_size, size_t *guss_len)
{
	struct avp_hdr *h = avp_find(maa, GBA_AVP_GBA_USERSECSETTINGS, GBA_DIA_VENDOR_3GPP,
				     NULL, NULL);
	size_t n;

	*guss_len = 0;
	if (!h || !h->avp_value)
		return GBA_OK;
	n = h->avp_value->os.len;
	if (!guss)
		return GBA_OK;
	if (n >= guss_size)
		return GBA_ERR_TOO_LARGE;
	memcpy(guss, h->avp_value->os.data, n);
	guss[n] = '\0';
	*guss_len = n;
	return GBA_OK;
}

gba_err dia_zh_read_maa(struct msg *maa, const struct gba_zh_request *req,
			struct gba_zh_answer *ans, char *guss, size_t guss_size)
{
	gba_err err;

	dia_result_read(maa, &ans->result);
	err = gba_dia_result_err(&ans->result);
	/* Cx's unknown user (TS 29.229 6.2.2.1, 6.2.2.2). */
	if (is_cx(req) && !ans->result.result_code &&
	    ans->result.exp_vendor == GBA_DIA_VENDOR_3GPP &&
	    (ans->result.exp_code == GBA_DIA_CX_ERROR_USER_UNKNOWN ||
	     ans->result.exp_code == GBA_DIA_CX_ERROR_IDENTITIES_DONT_MATCH))
		err = GBA_ERR_NOT_FOUND;
	/* The HSS refuses an AUTS whose MAC-S does not verify with 5004 and
	 * the SIP-Authorization as Failed-AVP. */
	if (err == GBA_ERR_UNSUPPORTED && req->auts &&
	    ans->result.result_code == GBA_DIA_INVALID_AVP_VALUE)
		err = GBA_ERR_AUTS_INVALID;
	if (!err)
		err = read_vectors(maa, req, ans);
	if (!err)
		err = read_guss(maa, guss, guss_size, &ans->guss_len);
	if (err) {
		gba_wipe(&ans->av, sizeof(ans->av));
		gba_wipe(ans->spare, sizeof(ans->spare));
		ans->n_spare = 0;
	}
	return err;
}

static int valid_request(const struct gba_zh_request *req)
{
	size_t n;

	if (!req || !req->impi || !req->dest_realm || (!req->resync_rand != !req->auts))
		return 0;
	if (req->app && req->app != GBA_DIA_APP_ZH && req->app != GBA_DIA_APP_CX)
		return 0;
	if (req->vectors > (is_cx(req) ? GBA_ZH_VECTORS_MAX : 1))
		return 0;
	if (is_cx(req) && (!req->server_name || !*req->server_name ||
			   strlen(req->server_name) > GBA_ZH_CX_NAME_MAX ||
			   (req->public_identity && (!*req->public_identity ||
			    strlen(req->public_identity) > GBA_ZH_CX_NAME_MAX))))
		return 0;
	n = strlen(req->impi);
	return n > 0 && n <= GBA_ZH_IMPI_MAX && *req->dest_realm;
}

/* The MAR for req, unless the HSS is known to be down (req checked by the caller). */
static gba_err build_for_open_peer(struct gba_dia *dia, const struct gba_zh_request *req,
				   struct msg **mar)
{
	/* Fail fast while the HSS is down: freeDiameter would only queue the
	 * request until its timeout, or answer 3002 itself. */
	if (req->dest_host && !gba_dia_peer_is_open(dia, req->dest_host))
		return GBA_ERR_UNAVAILABLE;
	return dia_zh_build_mar(dia, req, mar) ? GBA_ERR_NO_MEMORY : GBA_OK;
}

gba_err gba_zh_mar_call(struct gba_dia *dia, const struct gba_zh_request *req,
			unsigned timeout_ms, struct gba_zh_answer *ans,
			char *guss, size_t guss_size)
{
	struct msg *mar = NULL, *maa = NULL;
	gba_err err;

	if (!dia || !ans || !valid_request(req) || (guss && !guss_size))
		return GBA_ERR_INVALID_ARG;
	memset(ans, 0, sizeof(*ans));
	if (guss)
		guss[0] = '\0';
	err = build_for_open_peer(dia, req, &mar);
	if (!err)
		err = dia_call(dia, &mar, timeout_ms, &maa);
	if (err)
		return err;
	err = gba_zh_maa_read((struct gba_zh_maa *)maa, req, ans, guss, guss_size);
	gba_zh_maa_free((struct gba_zh_maa *)maa);
	return err;
}

/* ---- Without a waiting thread ------------------------------------------------- */

static void on_maa(void *data, struct msg **msg)
{
	struct gba_zh_async *call = data;
	struct msg *maa = *msg;

	*msg = NULL;
	call->done(call, (struct gba_zh_maa *)maa);
}

static void on_mar_expired(void *data, DiamId_t sentto, size_t sentto_len, struct msg **request)
{
	struct gba_zh_async *call = data;

	(void)sentto;
	(void)sentto_len;
	fd_msg_free(*request);   /* ours: freeDiameter would log it as dropped */
	*request = NULL;
	call->done(call, NULL);
}

gba_err gba_zh_mar_send(struct gba_dia *dia, const struct gba_zh_request *req,
			unsigned timeout_ms, struct gba_zh_async *call)
{
	struct msg *mar = NULL;
	gba_err err;

	if (!dia || !call || !call->done || !valid_request(req))
		return GBA_ERR_INVALID_ARG;
	err = build_for_open_peer(dia, req, &mar);
	if (!err)
		err = dia_send(dia, &mar, timeout_ms, on_maa, on_mar_expired, call);
	return err;
}

gba_err gba_zh_maa_read(struct gba_zh_maa *maa, const struct gba_zh_request *req,
			struct gba_zh_answer *ans, char *guss, size_t guss_size)
{
	if (!ans || !req || (guss && !guss_size))
		return GBA_ERR_INVALID_ARG;
	memset(ans, 0, sizeof(*ans));
	if (guss)
		guss[0] = '\0';
	if (!maa)
		return GBA_ERR_TIMEOUT;
	return dia_zh_read_maa((struct msg *)maa, req, ans, guss, guss_size);
}

void gba_zh_maa_free(struct gba_zh_maa *maa)
{
	if (!maa)
		return;
	avp_wipe_secrets((struct msg *)maa);
	fd_msg_free((struct msg *)maa);
}
