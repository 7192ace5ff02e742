/*
 * zh_craft.c - Multimedia-Auth-Requests built part by part, so that a test
 * can leave out, repeat or spoil any of them.
 */
#define _GNU_SOURCE
#include <string.h>

#include "zh_craft.h"

static int add_item(struct gba_dia *dia, struct msg *m, const struct mar_parts *p)
{
	struct avp *item = NULL;
	int ret = avp_add_group(m, dia->dict.sip_auth_data_item, &item);

	if (!ret && p->scheme)
		ret = avp_add_str(item, dia->dict.sip_auth_scheme, p->scheme);
	if (!ret && p->authorization)
		ret = avp_add_os(item, dia->dict.sip_authorization, p->authorization,
				 p->authorization_len);
	return ret;
}

static int add_parts(struct gba_dia *dia, struct msg *m, const struct mar_parts *p)
{
	const struct dia_dict *d = &dia->dict;
	int ret = fd_msg_new_session(m, (os0_t)"craft", 5);

	if (!ret && !p->no_vsai)
		ret = avp_add_vsai(dia, m, GBA_DIA_APP_ZH);
	if (!ret)
		ret = avp_add_u32(m, d->auth_session_state, 1);
	if (!ret)
		ret = fd_msg_add_origin(m, 0);
	if (!ret)
		ret = avp_add_str(m, d->dest_realm, "hss.test");
	if (!ret && p->dest_host)
		ret = avp_add_str(m, d->dest_host, p->dest_host);
	for (int i = 0; !ret && p->user_name && i < (p->two_user_names ? 2 : 1); i++)
		ret = avp_add_os(m, d->user_name, (const uint8_t *)p->user_name,
				 p->user_name_len ? p->user_name_len : strlen(p->user_name));
	for (int i = 0; !ret && !p->no_item && i < (p->two_items ? 2 : 1); i++)
		ret = add_item(dia, m, p);
	return ret;
}

struct msg *zh_craft_mar(struct gba_dia *dia, const struct mar_parts *p)
{
	struct msg *m = NULL;
	struct msg_hdr *hdr = NULL;

	if (fd_msg_new(dia->dict.cmd_mar, MSGFL_ALLOC_ETEID, &m))
		return NULL;
	if (fd_msg_hdr(m, &hdr)) {
		fd_msg_free(m);
		return NULL;
	}
	hdr->msg_appl = p->app_id ? p->app_id : GBA_DIA_APP_ZH;
	if (add_parts(dia, m, p)) {
		fd_msg_free(m);
		return NULL;
	}
	return m;
}
