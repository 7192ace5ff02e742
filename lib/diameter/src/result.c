/*
 * result.c - Result-Code and Experimental-Result of an answer, and what
 * they mean to the side that asked.
 */
#define _GNU_SOURCE
#include "internal.h"

#define AVP_RESULT_CODE 268
#define AVP_EXPERIMENTAL_RESULT 297
#define AVP_EXPERIMENTAL_RESULT_CODE 298
#define AVP_VENDOR_ID 266

static uint32_t u32_of(struct avp_hdr *h)
{
	return h && h->avp_value ? h->avp_value->u32 : 0;
}

void dia_result_read(struct msg *answer, struct gba_dia_result *r)
{
	struct avp *er = NULL;

	r->result_code = u32_of(avp_find(answer, AVP_RESULT_CODE, 0, NULL, NULL));
	r->exp_vendor = r->exp_code = 0;
	if (avp_find(answer, AVP_EXPERIMENTAL_RESULT, 0, &er, NULL) && er) {
		r->exp_vendor = u32_of(avp_find(er, AVP_VENDOR_ID, 0, NULL, NULL));
		r->exp_code = u32_of(avp_find(er, AVP_EXPERIMENTAL_RESULT_CODE, 0, NULL, NULL));
	}
}

gba_err gba_dia_result_err(const struct gba_dia_result *r)
{
	uint32_t code;

	if (!r)
		return GBA_ERR_INVALID_ARG;
	if (!r->result_code && r->exp_code && r->exp_vendor == GBA_DIA_VENDOR_3GPP) {
		switch (r->exp_code) {
		case GBA_DIA_ERROR_IDENTITY_UNKNOWN:
		case GBA_DIA_ERROR_TRANSACTION_IDENTIFIER_INVALID:
			return GBA_ERR_NOT_FOUND;
		case GBA_DIA_ERROR_NOT_AUTHORIZED:
			return GBA_ERR_NOT_AUTHORIZED;
		default:
			break;
		}
	}
	code = gba_dia_result_value(r);
	if (!code)
		return GBA_ERR_PARSE;
	if (code >= 2000 && code < 3000)
		return GBA_OK;
	/* Transient: worth another try later (RFC 6733 7.1.4), or the peer
	 * (or the route to it) is down or overloaded. */
	if ((code >= 4000 && code < 5000) || code == GBA_DIA_UNABLE_TO_DELIVER ||
	    code == GBA_DIA_TOO_BUSY)
		return GBA_ERR_UNAVAILABLE;
	return GBA_ERR_UNSUPPORTED;
}

const char *gba_dia_result_name(uint32_t code)
{
	switch (code) {
	case 2001: return "DIAMETER_SUCCESS";
	case 3001: return "DIAMETER_COMMAND_UNSUPPORTED";
	case 3002: return "DIAMETER_UNABLE_TO_DELIVER";
	case 3003: return "DIAMETER_REALM_NOT_SERVED";
	case 3004: return "DIAMETER_TOO_BUSY";
	case 3005: return "DIAMETER_LOOP_DETECTED";
	case 3007: return "DIAMETER_APPLICATION_UNSUPPORTED";
	case 3008: return "DIAMETER_INVALID_HDR_BITS";
	case 3009: return "DIAMETER_INVALID_AVP_BITS";
	case 3010: return "DIAMETER_UNKNOWN_PEER";
	case 4001: return "DIAMETER_AUTHENTICATION_REJECTED";
	case 5001: return "DIAMETER_AVP_UNSUPPORTED";
	case 5004: return "DIAMETER_INVALID_AVP_VALUE";
	case 5005: return "DIAMETER_MISSING_AVP";
	case 5008: return "DIAMETER_AVP_NOT_ALLOWED";
	case 5009: return "DIAMETER_AVP_OCCURS_TOO_MANY_TIMES";
	case 5012: return "DIAMETER_UNABLE_TO_COMPLY";
	case 5014: return "DIAMETER_INVALID_AVP_LENGTH";
	case 5401: return "DIAMETER_ERROR_IDENTITY_UNKNOWN";
	case 5402: return "DIAMETER_ERROR_NOT_AUTHORIZED";
	case 5403: return "DIAMETER_ERROR_TRANSACTION_IDENTIFIER_INVALID";
	default: return "?";
	}
}
