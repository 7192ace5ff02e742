/*
 * answer.c - what the answers of this library's Diameter servers (Zh's MAA
 * in zh_server.c, Zn's BIA in zn_server.c) have in common: the checks of
 * a received value, the fixed AVPs around the result, and the error
 * answers of RFC 6733 7.5 (Error-Message, Failed-AVP).
 */
#define _GNU_SOURCE
#include <string.h>

#include <gba/diameter.h>

#include "internal.h"

int dia_printable(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

void dia_copy_text(char *dst, size_t size, const uint8_t *s, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;

	memcpy(dst, s, n);
	dst[n] = '\0';
}

int dia_reject(struct dia_reject *r, struct avp_hdr *h, struct dict_object *model,
	       const char *why)
{
	r->bad = h;
	r->bad_model = model;
	r->why = why;
	return -1;
}

/* Vendor-Specific-Application-Id first, as the ABNF of both answers has it. */
static int answer_head(struct gba_dia *dia, struct msg *ans, uint32_t app)
{
	return avp_add_vsai(dia, ans, app);
}

static int answer_tail(struct gba_dia *dia, struct msg *ans)
{
	int ret = avp_add_u32(ans, dia->dict.auth_session_state, 1);   /* NO_STATE_MAINTAINED */

	if (!ret)
		ret = fd_msg_add_origin(ans, 0);
	return ret;
}

int dia_answer_result(struct gba_dia *dia, struct msg *ans, uint32_t app, uint32_t code)
{
	int ret = answer_head(dia, ans, app);

	if (!ret)
		ret = avp_add_u32(ans, dia->dict.result_code, code);
	if (!ret)
		ret = answer_tail(dia, ans);
	return ret;
}

int dia_answer_experimental(struct gba_dia *dia, struct msg *ans, uint32_t app, uint32_t code)
{
	struct avp *er = NULL;
	int ret = answer_head(dia, ans, app);

	if (!ret)
		ret = avp_add_group(ans, dia->dict.exp_result, &er);
	if (!ret)
		ret = avp_add_u32(er, dia->dict.vendor_id, GBA_DIA_VENDOR_3GPP);
	if (!ret)
		ret = avp_add_u32(er, dia->dict.exp_result_code, code);
	if (!ret)
		ret = answer_tail(dia, ans);
	return ret;
}

int dia_answer_bad_value(struct gba_dia *dia, struct msg *ans, uint32_t app,
			 const struct dia_reject *r, struct avp **failed)
{
	int ret = dia_answer_result(dia, ans, app, GBA_DIA_INVALID_AVP_VALUE);

	*failed = NULL;
	if (!ret)
		ret = avp_add_str(ans, dia->dict.error_message, r->why);
	if (!ret && r->bad && r->bad->avp_value)
		ret = avp_add_group(ans, dia->dict.failed_avp, failed);
	return ret;
}

int dia_answer_missing_vsai(struct gba_dia *dia, struct msg *ans, uint32_t app,
			    const struct dia_reject *r)
{
	struct avp *failed = NULL;
	int ret = dia_answer_result(dia, ans, app, GBA_DIA_MISSING_AVP);

	if (!ret)
		ret = avp_add_str(ans, dia->dict.error_message, r->why);
	if (!ret)
		ret = avp_add_group(ans, dia->dict.failed_avp, &failed);
	if (!ret)
		ret = avp_add_vsai(dia, failed, app);
	return ret;
}
