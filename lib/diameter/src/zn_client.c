/*
 * zn_client.c - the NAF side of Zn: build a Bootstrapping-Info-Request,
 * send it, and read the key material out of the Bootstrapping-Info-Answer.
 */
#define _GNU_SOURCE
#include <string.h>

#include <gba/diameter_zn.h>
#include <gba/util.h>

#include "internal.h"

#define GAA(d, code) ((d)->gaa[(code) - GAA_AVP_FIRST])

/* NTP's era 0 began 1900-01-01; RFC 6733 4.3.1 keeps Time in 32 bits and
 * lets it wrap in 2036 (values with the top bit clear are then era 1). */
#define NTP_UNIX_OFFSET 2208988800LL

void gba_zn_time_encode(int64_t unix_s, uint8_t out[4])
{
	uint32_t ntp = (uint32_t)((uint64_t)(unix_s + NTP_UNIX_OFFSET) & 0xffffffffu);

	out[0] = (uint8_t)(ntp >> 24);
	out[1] = (uint8_t)(ntp >> 16);
	out[2] = (uint8_t)(ntp >> 8);
	out[3] = (uint8_t)ntp;
}

int64_t gba_zn_time_decode(const uint8_t in[4])
{
	uint32_t ntp = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	int64_t t = (int64_t)ntp - NTP_UNIX_OFFSET;

	if (!(ntp & 0x80000000u))
		t += 1LL << 32;   /* era 1: from 2036-02-07 */
	return t;
}

int dia_zn_build_bir(struct gba_dia *dia, const struct gba_zn_request *req, struct msg **out)
{
	const struct dia_dict *d = &dia->dict;
	struct msg *bir = NULL;
	struct msg_hdr *hdr = NULL;
	int ret = fd_msg_new(d->cmd_bir, MSGFL_ALLOC_ETEID, &bir);

	if (ret)
		return ret;
	ret = fd_msg_hdr(bir, &hdr);
	if (!ret) {
		hdr->msg_appl = GBA_DIA_APP_ZN;
		ret = fd_msg_new_session(bir, (os0_t)"zn", 2);
	}
	if (!ret)
		ret = avp_add_vsai(dia, bir, GBA_DIA_APP_ZN);
	if (!ret)
		ret = avp_add_u32(bir, d->auth_session_state, 1);   /* NO_STATE_MAINTAINED */
	if (!ret)
		ret = fd_msg_add_origin(bir, 0);
	if (!ret)
		ret = avp_add_str(bir, d->dest_realm, req->dest_realm);
	if (!ret && req->dest_host)
		ret = avp_add_str(bir, d->dest_host, req->dest_host);
	if (!ret)
		ret = avp_add_str(bir, GAA(d, GBA_AVP_TRANSACTION_IDENTIFIER), req->btid);
	if (!ret)
		ret = avp_add_os(bir, GAA(d, GBA_AVP_NAF_ID), req->naf_id, req->naf_id_len);
	if (!ret && req->gba_u_aware)
		ret = avp_add_u32(bir, GAA(d, GBA_AVP_GBA_U_AWARENESS_INDICATOR), 1);   /* YES */
	if (!ret && req->gaa_service_id)
		ret = avp_add_str(bir, GAA(d, GBA_AVP_GAA_SERVICE_IDENTIFIER), req->gaa_service_id);
	if (ret) {
		fd_msg_free(bir);
		return ret;
	}
	*out = bir;
	return 0;
}

/* A vendor-3GPP octet string of the BIA with its length in [min, max]. */
static const struct avp_hdr *os_avp(struct msg *bia, uint32_t code, size_t min, size_t max,
				    int *bad)
{
	struct avp_hdr *h = avp_find(bia, code, GBA_DIA_VENDOR_3GPP, NULL, NULL);

	if (!h)
		return NULL;
	if (!h->avp_value || h->avp_value->os.len < min || h->avp_value->os.len > max) {
		*bad = 1;
		return NULL;
	}
	return h;
}

static gba_err read_keys(struct msg *bia, struct gba_zn_answer *ans)
{
	int bad = 0;
	const struct avp_hdr *me = os_avp(bia, GBA_AVP_ME_KEY_MATERIAL, 32, 32, &bad);
	const struct avp_hdr *uicc = os_avp(bia, GBA_AVP_UICC_KEY_MATERIAL, 32, 32, &bad);

	if (!me || bad)
		return GBA_ERR_PARSE;
	memcpy(ans->me_key, me->avp_value->os.data, 32);
	if (uicc) {
		memcpy(ans->uicc_key, uicc->avp_value->os.data, 32);
		ans->has_uicc_key = 1;
	}
	return GBA_OK;
}

static gba_err read_info(struct msg *bia, struct gba_zn_answer *ans)
{
	int bad = 0;
	struct avp_hdr *user = avp_find(bia, 1, 0, NULL, NULL);   /* User-Name */
	const struct avp_hdr *exp = os_avp(bia, GBA_AVP_KEY_EXPIRYTIME, 4, 4, &bad);
	const struct avp_hdr *made = os_avp(bia, GBA_AVP_BOOTSTRAPINFOCREATIONTIME, 4, 4, &bad);
	struct avp_hdr *type = avp_find(bia, GBA_AVP_GBA_TYPE, GBA_DIA_VENDOR_3GPP, NULL, NULL);
	size_t n;

	if (!user || !user->avp_value || !exp || bad)
		return GBA_ERR_PARSE;
	n = user->avp_value->os.len;
	if (n == 0 || n > GBA_ZN_IMPI_MAX || memchr(user->avp_value->os.data, 0, n))
		return GBA_ERR_PARSE;
	memcpy(ans->impi, user->avp_value->os.data, n);
	ans->impi[n] = '\0';
	ans->expiry = gba_zn_time_decode(exp->avp_value->os.data);
	ans->created = made ? gba_zn_time_decode(made->avp_value->os.data) : 0;
	ans->gba_type = type && type->avp_value ? type->avp_value->i32 : -1;
	return GBA_OK;
}

static gba_err read_uss(struct msg *bia, char *uss, size_t uss_size, size_t *uss_len)
{
	struct avp_hdr *h = avp_find(bia, GBA_AVP_GBA_USERSECSETTINGS, GBA_DIA_VENDOR_3GPP,
				     NULL, NULL);
	size_t n;

	*uss_len = 0;
	if (uss && uss_size)
		uss[0] = '\0';   /* the header promises a string, also when no USS came */
	if (!h || !h->avp_value || !uss)
		return GBA_OK;
	n = h->avp_value->os.len;
	if (n >= uss_size)
		return GBA_ERR_TOO_LARGE;
	memcpy(uss, h->avp_value->os.data, n);
	uss[n] = '\0';
	*uss_len = n;
	return GBA_OK;
}

gba_err dia_zn_read_bia(struct msg *bia, struct gba_zn_answer *ans, char *uss, size_t uss_size)
{
	gba_err err;

	dia_result_read(bia, &ans->result);
	err = gba_dia_result_err(&ans->result);
	if (!err)
		err = read_keys(bia, ans);
	if (!err)
		err = read_info(bia, ans);
	if (!err)
		err = read_uss(bia, uss, uss_size, &ans->uss_len);
	if (err) {
		gba_wipe(ans->me_key, sizeof(ans->me_key));
		gba_wipe(ans->uicc_key, sizeof(ans->uicc_key));
		ans->has_uicc_key = 0;
	}
	return err;
}

static int valid_request(const struct gba_zn_request *req)
{
	size_t n;

	if (!req || !req->btid || !req->naf_id || !req->dest_realm || !*req->dest_realm)
		return 0;
	n = strlen(req->btid);
	return n > 0 && n <= GBA_ZN_BTID_MAX && req->naf_id_len >= GBA_ZN_NAF_ID_MIN &&
	       req->naf_id_len <= GBA_ZN_NAF_ID_MAX;
}

gba_err gba_zn_bir_call(struct gba_dia *dia, const struct gba_zn_request *req,
			unsigned timeout_ms, struct gba_zn_answer *ans,
			char *uss, size_t uss_size)
{
	struct msg *bir = NULL, *bia = NULL;
	gba_err err;

	if (!dia || !ans || !valid_request(req) || (uss && !uss_size))
		return GBA_ERR_INVALID_ARG;
	memset(ans, 0, sizeof(*ans));
	ans->gba_type = -1;
	if (uss)
		uss[0] = '\0';
	/* Fail fast while the BSF is down rather than queue until the timeout. */
	if (req->dest_host && !gba_dia_peer_is_open(dia, req->dest_host))
		return GBA_ERR_UNAVAILABLE;
	if (dia_zn_build_bir(dia, req, &bir))
		return GBA_ERR_NO_MEMORY;
	err = dia_call(dia, &bir, timeout_ms, &bia);
	if (err)
		return err;
	err = dia_zn_read_bia(bia, ans, uss, uss_size);
	avp_wipe_secrets(bia);
	fd_msg_free(bia);
	return err;
}
