/*
 * zn_craft.c - Bootstrapping-Info-Requests built part by part, so that a
 * test can leave out, repeat or spoil any of them.
 */
#define _GNU_SOURCE
#include <string.h>

#include "zn_craft.h"

#define GAA(d, code) ((d)->gaa[(code) - GAA_AVP_FIRST])

static int add_parts(struct gba_dia *dia, struct msg *m, const struct bir_parts *p)
{
	const struct dia_dict *d = &dia->dict;
	int ret = fd_msg_new_session(m, (os0_t)"craft", 5);

	if (!ret && !p->no_vsai)
		ret = avp_add_vsai(dia, m, GBA_DIA_APP_ZN);
	if (!ret)
		ret = avp_add_u32(m, d->auth_session_state, 1);
	if (!ret)
		ret = fd_msg_add_origin(m, 0);
	if (!ret)
		ret = avp_add_str(m, d->dest_realm, p->dest_realm);
	if (!ret && p->dest_host)
		ret = avp_add_str(m, d->dest_host, p->dest_host);
	for (int i = 0; !ret && p->btid && i < (p->two_btids ? 2 : 1); i++)
		ret = avp_add_os(m, GAA(d, GBA_AVP_TRANSACTION_IDENTIFIER),
				 (const uint8_t *)p->btid, p->btid_len ? p->btid_len : strlen(p->btid));
	if (!ret && p->naf_id)
		ret = avp_add_os(m, GAA(d, GBA_AVP_NAF_ID), p->naf_id, p->naf_id_len);
	if (!ret && p->aware >= 0)
		ret = avp_add_u32(m, GAA(d, GBA_AVP_GBA_U_AWARENESS_INDICATOR), (uint32_t)p->aware);
	return ret;
}

struct msg *zn_craft_bir(struct gba_dia *dia, const struct bir_parts *p)
{
	struct msg *m = NULL;
	struct msg_hdr *hdr = NULL;

	if (fd_msg_new(dia->dict.cmd_bir, MSGFL_ALLOC_ETEID, &m))
		return NULL;
	if (fd_msg_hdr(m, &hdr)) {
		fd_msg_free(m);
		return NULL;
	}
	hdr->msg_appl = GBA_DIA_APP_ZN;
	if (add_parts(dia, m, p)) {
		fd_msg_free(m);
		return NULL;
	}
	return m;
}
