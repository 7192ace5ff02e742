/*
 * dict.c - the Zh and Zn dictionary (TS 29.109 6.3, TS 29.229 6.3) in
 * freeDiameter: vendor 10415, applications 16777221 (Zh), 16777220 (Zn)
 * and 16777216 (Cx, for HSSs without Zh), commands 303 (MAR/MAA) and 310
 * (BIR/BIA), the Cx AVPs Zh reuses (and Cx's Server-Name) and the GAA
 * AVPs 400..420, with the command and grouped-AVP rules.  freeDiameter
 * keys commands by code alone, so Zh and Cx share the MAR/MAA objects and
 * their rules (the loose union of both).
 *
 * Objects that already exist (a stock extension such as dict_dcca_3gpp
 * loaded in the same process defines some of the Cx AVPs) are looked up
 * and reused rather than defined twice.
 */
#define _GNU_SOURCE
#include "internal.h"

#define VM (AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY)
#define V_ AVP_FLAG_VENDOR

static struct dictionary *dict(void)
{
	return fd_g_config->cnf_dict;
}

/* fd_dict_new, or the existing object when one with the same key exists. */
static int new_or_get(enum dict_object_type type, void *data, struct dict_object *parent,
		      int criteria, const void *what, struct dict_object **ref)
{
	struct dict_object *obj = NULL;
	int ret = fd_dict_new(dict(), type, data, parent, &obj);

	if (ret == EEXIST)
		ret = fd_dict_search(dict(), type, criteria, what, &obj, ENOENT);
	if (ret)
		return ret;
	if (ref)
		*ref = obj;
	return 0;
}

static int find(enum dict_object_type type, int criteria, const void *what,
		struct dict_object **ref)
{
	return fd_dict_search(dict(), type, criteria, what, ref, ENOENT);
}

static int find_base_avp(const char *name, struct dict_object **ref)
{
	return find(DICT_AVP, AVP_BY_NAME, name, ref);
}

static int vendor_avp(uint32_t code, const char *name, uint8_t flags,
		      enum dict_avp_basetype base, struct dict_object *type,
		      struct dict_object **ref)
{
	struct dict_avp_data data = {
		.avp_code = code,
		.avp_vendor = GBA_DIA_VENDOR_3GPP,
		.avp_name = (char *)name,
		.avp_flag_mask = VM,
		.avp_flag_val = flags,
		.avp_basetype = base,
	};
	struct dict_avp_request req = { .avp_vendor = GBA_DIA_VENDOR_3GPP, .avp_code = code };

	return new_or_get(DICT_AVP, &data, type, AVP_BY_CODE_AND_VENDOR, &req, ref);
}

/* An Enumerated type (Integer32 underneath) with its named values. */
struct enum_val {
	const char *name;
	int32_t value;
};

static int enum_type(const char *avp_name, const struct enum_val *vals, size_t n,
		     struct dict_object **ref)
{
	char name[96];
	struct dict_type_data data = { .type_base = AVP_TYPE_INTEGER32 };
	int ret;

	snprintf(name, sizeof(name), "Enumerated(3GPP/%s)", avp_name);
	data.type_name = name;
	ret = new_or_get(DICT_TYPE, &data, NULL, TYPE_BY_NAME, name, ref);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		struct dict_enumval_data ev = { .enum_name = (char *)vals[i].name };
		ev.enum_value.i32 = vals[i].value;
		ret = fd_dict_new(dict(), DICT_ENUMVAL, &ev, *ref, NULL);
		if (ret && ret != EEXIST)
			return ret;
	}
	return 0;
}

/* ---- Rules (the ABNF of commands and grouped AVPs) ---------------------- */

enum { R_HEAD, R_REQ, R_OPT };

struct rule {
	struct dict_object *const *avp;
	int kind;
	int max;   /* -1: no limit */
};

static int add_rules(struct dict_object *parent, const struct rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct dict_rule_data r = {
			.rule_avp = *rules[i].avp,
			.rule_order = 1,
			.rule_min = -1,
			.rule_max = rules[i].max,
		};
		int ret;

		switch (rules[i].kind) {
		case R_HEAD:
			r.rule_position = RULE_FIXED_HEAD;
			break;
		case R_REQ:
			r.rule_position = RULE_REQUIRED;
			break;
		default:
			r.rule_position = RULE_OPTIONAL;
			break;
		}
		ret = fd_dict_new(dict(), DICT_RULE, &r, parent, NULL);
		if (ret && ret != EEXIST)
			return ret;
	}
	return 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Base protocol objects ----------------------------------------------- */

static int load_base(struct dia_dict *d)
{
	static const struct {
		const char *name;
		size_t off;
	} base[] = {
		{ "Session-Id", offsetof(struct dia_dict, session_id) },
		{ "Origin-Host", offsetof(struct dia_dict, origin_host) },
		{ "Origin-Realm", offsetof(struct dia_dict, origin_realm) },
		{ "Destination-Host", offsetof(struct dia_dict, dest_host) },
		{ "Destination-Realm", offsetof(struct dia_dict, dest_realm) },
		{ "User-Name", offsetof(struct dia_dict, user_name) },
		{ "Auth-Session-State", offsetof(struct dia_dict, auth_session_state) },
		{ "Vendor-Specific-Application-Id", offsetof(struct dia_dict, vsai) },
		{ "Vendor-Id", offsetof(struct dia_dict, vendor_id) },
		{ "Auth-Application-Id", offsetof(struct dia_dict, auth_app_id) },
		{ "Result-Code", offsetof(struct dia_dict, result_code) },
		{ "Experimental-Result", offsetof(struct dia_dict, exp_result) },
		{ "Experimental-Result-Code", offsetof(struct dia_dict, exp_result_code) },
		{ "Failed-AVP", offsetof(struct dia_dict, failed_avp) },
		{ "Error-Message", offsetof(struct dia_dict, error_message) },
		{ "Proxy-Info", offsetof(struct dia_dict, proxy_info) },
		{ "Route-Record", offsetof(struct dia_dict, route_record) },
	};

	for (size_t i = 0; i < N(base); i++) {
		struct dict_object **slot = (struct dict_object **)((char *)d + base[i].off);
		int ret = find_base_avp(base[i].name, slot);
		if (ret)
			return ret;
	}
	return 0;
}

static int load_vendor_apps(struct dia_dict *d)
{
	struct dict_vendor_data v = { GBA_DIA_VENDOR_3GPP, (char *)"3GPP" };
	struct dict_application_data zh = { GBA_DIA_APP_ZH, (char *)"3GPP Zh" };
	struct dict_application_data zn = { GBA_DIA_APP_ZN, (char *)"3GPP Zn" };
	struct dict_application_data cx = { GBA_DIA_APP_CX, (char *)"3GPP Cx" };
	vendor_id_t vid = GBA_DIA_VENDOR_3GPP;
	application_id_t zh_id = GBA_DIA_APP_ZH, zn_id = GBA_DIA_APP_ZN, cx_id = GBA_DIA_APP_CX;
	int ret;

	ret = new_or_get(DICT_VENDOR, &v, NULL, VENDOR_BY_ID, &vid, &d->vendor_3gpp);
	if (!ret)
		ret = new_or_get(DICT_APPLICATION, &zh, d->vendor_3gpp, APPLICATION_BY_ID, &zh_id,
				 &d->app_zh);
	if (!ret)
		ret = new_or_get(DICT_APPLICATION, &zn, d->vendor_3gpp, APPLICATION_BY_ID, &zn_id,
				 &d->app_zn);
	if (!ret)
		ret = new_or_get(DICT_APPLICATION, &cx, d->vendor_3gpp, APPLICATION_BY_ID, &cx_id,
				 &d->app_cx);
	return ret;
}

/* ---- Zh: the Cx AVPs of TS 29.229 that Zh reuses --------------------------- */

/* Their codes, names and types; the model goes to the dia_dict field at off. */
struct cx_def {
	unsigned code;
	const char *name;
	enum dict_avp_basetype base;
	int utf8;                      /* derived type UTF8String */
	size_t off;
};

#define CX(code, name, base, utf8, field) { code, name, base, utf8, offsetof(struct dia_dict, field) }
static const struct cx_def cx_defs[] = {
	CX(GBA_AVP_PUBLIC_IDENTITY, "Public-Identity", AVP_TYPE_OCTETSTRING, 1, public_identity),
	CX(GBA_AVP_SERVER_NAME, "Server-Name", AVP_TYPE_OCTETSTRING, 1, server_name),
	CX(GBA_AVP_SIP_NUMBER_AUTH_ITEMS, "SIP-Number-Auth-Items", AVP_TYPE_UNSIGNED32, 0,
	   sip_number_auth_items),
	CX(GBA_AVP_SIP_AUTHENTICATION_SCHEME, "SIP-Authentication-Scheme", AVP_TYPE_OCTETSTRING,
	   1, sip_auth_scheme),
	CX(GBA_AVP_SIP_AUTHENTICATE, "SIP-Authenticate", AVP_TYPE_OCTETSTRING, 0,
	   sip_authenticate),
	CX(GBA_AVP_SIP_AUTHORIZATION, "SIP-Authorization", AVP_TYPE_OCTETSTRING, 0,
	   sip_authorization),
	CX(GBA_AVP_SIP_AUTHENTICATION_CONTEXT, "SIP-Authentication-Context", AVP_TYPE_OCTETSTRING,
	   0, sip_auth_context),
	CX(GBA_AVP_SIP_ITEM_NUMBER, "SIP-Item-Number", AVP_TYPE_UNSIGNED32, 0, sip_item_number),
	CX(GBA_AVP_CONFIDENTIALITY_KEY, "Confidentiality-Key", AVP_TYPE_OCTETSTRING, 0, conf_key),
	CX(GBA_AVP_INTEGRITY_KEY, "Integrity-Key", AVP_TYPE_OCTETSTRING, 0, integ_key),
	CX(GBA_AVP_SIP_AUTH_DATA_ITEM, "SIP-Auth-Data-Item", AVP_TYPE_GROUPED, 0,
	   sip_auth_data_item),
};
#undef CX

static int load_zh_avps(struct dia_dict *d)
{
	struct dict_object *utf8 = NULL;
	int ret = find(DICT_TYPE, TYPE_BY_NAME, "UTF8String", &utf8);

	for (size_t i = 0; !ret && i < N(cx_defs); i++) {
		const struct cx_def *c = &cx_defs[i];
		struct dict_object **slot = (struct dict_object **)((char *)d + c->off);
		ret = vendor_avp(c->code, c->name, VM, c->base, c->utf8 ? utf8 : NULL, slot);
	}
	if (ret)
		return ret;

	const struct rule item[] = {
		{ &d->sip_item_number, R_OPT, 1 },
		{ &d->sip_auth_scheme, R_OPT, 1 },
		{ &d->sip_authenticate, R_OPT, 1 },
		{ &d->sip_authorization, R_OPT, 1 },
		{ &d->sip_auth_context, R_OPT, 1 },
		{ &d->conf_key, R_OPT, 1 },
		{ &d->integ_key, R_OPT, 1 },
	};
	return add_rules(d->sip_auth_data_item, item, N(item));
}

/* ---- GAA AVPs 400..420 (TS 29.109 6.3) -------------------------------------- */

struct gaa_def {
	const char *name;
	uint8_t flags;
	enum { T_OS, T_TIME, T_ENUM } type;
	const struct enum_val *vals;
	size_t nvals;
};

static const struct enum_val yes_no[] = { { "NO", 0 }, { "YES", 1 } };
static const struct enum_val gba_type[] = { { "3G_GBA", 0 }, { "2G_GBA", 1 } };
static const struct enum_val ue_id_type[] = {
	{ "PRIVATE_USER_IDENTITY", 0 }, { "PUBLIC_USER_IDENTITY", 1 },
};
static const struct enum_val uicc_me[] = { { "GBA_ME", 0 }, { "GBA_U", 1 } };
static const struct enum_val priv_id_req[] = {
	{ "PRIVATE_IDENTITY_REQUESTED", 0 }, { "PRIVATE_IDENTITY_NOT_REQUESTED", 1 },
};

/* By code - 400.  M and V set on all but GUSS-Timestamp (V only). */
static const struct gaa_def gaa_defs[GAA_AVP_COUNT] = {
	{ "GBA-UserSecSettings", VM, T_OS, NULL, 0 },
	{ "Transaction-Identifier", VM, T_OS, NULL, 0 },
	{ "NAF-Id", VM, T_OS, NULL, 0 },
	{ "GAA-Service-Identifier", VM, T_OS, NULL, 0 },
	{ "Key-ExpiryTime", VM, T_TIME, NULL, 0 },
	{ "ME-Key-Material", VM, T_OS, NULL, 0 },
	{ "UICC-Key-Material", VM, T_OS, NULL, 0 },
	{ "GBA_U-Awareness-Indicator", VM, T_ENUM, yes_no, N(yes_no) },
	{ "BootstrapInfoCreationTime", VM, T_TIME, NULL, 0 },
	{ "GUSS-Timestamp", V_, T_TIME, NULL, 0 },
	{ "GBA-Type", VM, T_ENUM, gba_type, N(gba_type) },
	{ "UE-Id", VM, T_OS, NULL, 0 },
	{ "UE-Id-Type", VM, T_ENUM, ue_id_type, N(ue_id_type) },
	{ "UICC-App-Label", VM, T_OS, NULL, 0 },
	{ "UICC-ME", VM, T_ENUM, uicc_me, N(uicc_me) },
	{ "Requested-Key-Lifetime", VM, T_TIME, NULL, 0 },
	{ "Private-Identity-Request", VM, T_ENUM, priv_id_req, N(priv_id_req) },
	{ "GBA-Push-Info", VM, T_OS, NULL, 0 },
	{ "NAF-SA-Identifier", VM, T_OS, NULL, 0 },
	{ "Security-Feature-Request", VM, T_OS, NULL, 0 },
	{ "Security-Feature-Response", VM, T_OS, NULL, 0 },
};

static int load_gaa_avps(struct dia_dict *d)
{
	struct dict_object *time_type = NULL;
	int ret = find(DICT_TYPE, TYPE_BY_NAME, "Time", &time_type);

	for (unsigned i = 0; !ret && i < GAA_AVP_COUNT; i++) {
		const struct gaa_def *g = &gaa_defs[i];
		struct dict_object *type = NULL;
		enum dict_avp_basetype base = AVP_TYPE_OCTETSTRING;

		if (g->type == T_TIME) {
			type = time_type;
		} else if (g->type == T_ENUM) {
			base = AVP_TYPE_INTEGER32;
			ret = enum_type(g->name, g->vals, g->nvals, &type);
			if (ret)
				break;
		}
		ret = vendor_avp(GAA_AVP_FIRST + i, g->name, g->flags, base, type, &d->gaa[i]);
	}
	return ret;
}

/* ---- Commands ------------------------------------------------------------------ */

static int command(uint32_t code, const char *name, int request, struct dict_object *app,
		   struct dict_object **ref)
{
	struct dict_cmd_data data = {
		.cmd_code = code,
		.cmd_name = (char *)name,
		.cmd_flag_mask = CMD_FLAG_REQUEST | CMD_FLAG_PROXIABLE,
		.cmd_flag_val = (uint8_t)(CMD_FLAG_PROXIABLE | (request ? CMD_FLAG_REQUEST : 0)),
	};
	command_code_t c = code;

	if (request)
		data.cmd_flag_mask |= CMD_FLAG_ERROR;   /* a request never has E */
	return new_or_get(DICT_COMMAND, &data, app, request ? CMD_BY_CODE_R : CMD_BY_CODE_A, &c,
			  ref);
}

#define GAA(d, code) (&(d)->gaa[(code) - GAA_AVP_FIRST])

static int load_zh_commands(struct dia_dict *d)
{
	int ret = command(GBA_DIA_CMD_MULTIMEDIA_AUTH, "Multimedia-Auth-Request", 1, d->app_zh,
			  &d->cmd_mar);
	if (!ret)
		ret = command(GBA_DIA_CMD_MULTIMEDIA_AUTH, "Multimedia-Auth-Answer", 0, d->app_zh,
			      &d->cmd_maa);
	if (ret)
		return ret;

	/* TS 29.109 4.2.2.1: what an HSS needs; freeDiameter answers 5005 when
	 * a required AVP is missing, 5009 when one occurs too often.  Not the
	 * Vendor-Specific-Application-Id: for a missing grouped AVP freeDiameter
	 * puts an empty one in Failed-AVP, which breaks the base rules of that
	 * AVP (zh_server.c checks it instead).  Cx (TS 29.229 6.1.7) also
	 * requires Public-Identity and Server-Name: zh_server.c checks those
	 * on Cx only, since the command is shared. */
	const struct rule mar[] = {
		{ &d->session_id, R_HEAD, 1 },
		{ &d->vsai, R_OPT, 1 },
		{ &d->auth_session_state, R_REQ, 1 },
		{ &d->origin_host, R_REQ, 1 },
		{ &d->origin_realm, R_REQ, 1 },
		{ &d->dest_realm, R_REQ, 1 },
		{ &d->user_name, R_REQ, 1 },
		{ &d->dest_host, R_OPT, 1 },
		{ &d->public_identity, R_OPT, -1 },
		{ &d->server_name, R_OPT, 1 },
		{ &d->sip_auth_data_item, R_OPT, 1 },
		{ &d->sip_number_auth_items, R_OPT, 1 },
		{ GAA(d, GBA_AVP_GUSS_TIMESTAMP), R_OPT, 1 },
		{ &d->proxy_info, R_OPT, -1 },
		{ &d->route_record, R_OPT, -1 },
	};
	/* The answer's rules are loose on purpose: whatever an HSS omits, the
	 * BSF's parser reports it as a clear error instead of freeDiameter
	 * dropping the answer and the BSF waiting for its timeout. */
	const struct rule maa[] = {
		{ &d->session_id, R_HEAD, 1 },
		{ &d->origin_host, R_REQ, 1 },
		{ &d->origin_realm, R_REQ, 1 },
		{ &d->vsai, R_OPT, 1 },
		{ &d->result_code, R_OPT, 1 },
		{ &d->exp_result, R_OPT, 1 },
		{ &d->auth_session_state, R_OPT, 1 },
		{ &d->user_name, R_OPT, 1 },
		{ &d->public_identity, R_OPT, -1 },
		{ &d->sip_number_auth_items, R_OPT, 1 },
		{ &d->sip_auth_data_item, R_OPT, -1 },
		{ GAA(d, GBA_AVP_GBA_USERSECSETTINGS), R_OPT, 1 },
		{ &d->failed_avp, R_OPT, -1 },
		{ &d->error_message, R_OPT, 1 },
		{ &d->proxy_info, R_OPT, -1 },
		{ &d->route_record, R_OPT, -1 },
	};
	ret = add_rules(d->cmd_mar, mar, N(mar));
	if (!ret)
		ret = add_rules(d->cmd_maa, maa, N(maa));
	return ret;
}

static int load_zn_commands(struct dia_dict *d)
{
	int ret = command(GBA_DIA_CMD_BOOTSTRAPPING_INFO, "Bootstrapping-Info-Request", 1,
			  d->app_zn, &d->cmd_bir);
	if (!ret)
		ret = command(GBA_DIA_CMD_BOOTSTRAPPING_INFO, "Bootstrapping-Info-Answer", 0,
			      d->app_zn, &d->cmd_bia);
	if (ret)
		return ret;

	/* TS 29.109 5.2.2.  Vendor-Specific-Application-Id is optional here
	 * for the reason given for the MAR: zn_server.c answers 5005 itself. */
	const struct rule bir[] = {
		{ &d->session_id, R_HEAD, 1 },
		{ &d->vsai, R_OPT, 1 },
		{ &d->origin_host, R_REQ, 1 },
		{ &d->origin_realm, R_REQ, 1 },
		{ &d->dest_realm, R_REQ, 1 },
		{ GAA(d, GBA_AVP_TRANSACTION_IDENTIFIER), R_REQ, 1 },
		{ GAA(d, GBA_AVP_NAF_ID), R_REQ, 1 },
		{ &d->dest_host, R_OPT, 1 },
		{ &d->auth_session_state, R_OPT, 1 },
		{ GAA(d, GBA_AVP_GAA_SERVICE_IDENTIFIER), R_OPT, -1 },
		{ GAA(d, GBA_AVP_GBA_U_AWARENESS_INDICATOR), R_OPT, 1 },
		{ GAA(d, GBA_AVP_REQUESTED_KEY_LIFETIME), R_OPT, 1 },
		{ GAA(d, GBA_AVP_PRIVATE_IDENTITY_REQUEST), R_OPT, 1 },
		{ GAA(d, GBA_AVP_SECURITY_FEATURE_REQUEST), R_OPT, 1 },
		{ &d->proxy_info, R_OPT, -1 },
		{ &d->route_record, R_OPT, -1 },
	};
	const struct rule bia[] = {
		{ &d->session_id, R_HEAD, 1 },
		{ &d->origin_host, R_REQ, 1 },
		{ &d->origin_realm, R_REQ, 1 },
		{ &d->vsai, R_OPT, 1 },
		{ &d->result_code, R_OPT, 1 },
		{ &d->exp_result, R_OPT, 1 },
		{ &d->auth_session_state, R_OPT, 1 },
		{ &d->user_name, R_OPT, 1 },
		{ GAA(d, GBA_AVP_ME_KEY_MATERIAL), R_OPT, 1 },
		{ GAA(d, GBA_AVP_UICC_KEY_MATERIAL), R_OPT, 1 },
		{ GAA(d, GBA_AVP_KEY_EXPIRYTIME), R_OPT, 1 },
		{ GAA(d, GBA_AVP_BOOTSTRAPINFOCREATIONTIME), R_OPT, 1 },
		{ GAA(d, GBA_AVP_GBA_USERSECSETTINGS), R_OPT, 1 },
		{ GAA(d, GBA_AVP_GBA_TYPE), R_OPT, 1 },
		{ GAA(d, GBA_AVP_UICC_APP_LABEL), R_OPT, 1 },
		{ GAA(d, GBA_AVP_SECURITY_FEATURE_RESPONSE), R_OPT, 1 },
		{ &d->failed_avp, R_OPT, -1 },
		{ &d->error_message, R_OPT, 1 },
		{ &d->proxy_info, R_OPT, -1 },
		{ &d->route_record, R_OPT, -1 },
	};
	ret = add_rules(d->cmd_bir, bir, N(bir));
	if (!ret)
		ret = add_rules(d->cmd_bia, bia, N(bia));
	return ret;
}

int dia_dict_load(struct dia_dict *d)
{
	int ret = load_base(d);

	if (!ret)
		ret = load_vendor_apps(d);
	if (!ret)
		ret = load_zh_avps(d);
	if (!ret)
		ret = load_gaa_avps(d);
	if (!ret)
		ret = load_zh_commands(d);
	if (!ret)
		ret = load_zn_commands(d);
	return ret;
}
