/*
 * avp.c - building and reading AVPs with freeDiameter's message API, and
 * wiping the values that carry keys before freeDiameter frees them.
 */
#define _GNU_SOURCE
#include <string.h>

#include <gba/util.h>

#include "internal.h"

static int add(msg_or_avp *parent, struct dict_object *model, union avp_value *v)
{
	struct avp *avp = NULL;
	int ret = fd_msg_avp_new(model, 0, &avp);

	if (ret)
		return ret;
	/* fd_msg_avp_setvalue copies the value (octet strings included). */
	ret = fd_msg_avp_setvalue(avp, v);
	if (!ret)
		ret = fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, avp);
	if (ret)
		fd_msg_free(avp);
	return ret;
}

int avp_add_os(msg_or_avp *parent, struct dict_object *model, const uint8_t *data, size_t len)
{
	union avp_value v;

	memset(&v, 0, sizeof(v));
	v.os.data = (uint8_t *)data;
	v.os.len = len;
	return add(parent, model, &v);
}

int avp_add_str(msg_or_avp *parent, struct dict_object *model, const char *s)
{
	return avp_add_os(parent, model, (const uint8_t *)s, strlen(s));
}

int avp_add_u32(msg_or_avp *parent, struct dict_object *model, uint32_t u32)
{
	union avp_value v;

	memset(&v, 0, sizeof(v));
	v.u32 = u32;
	return add(parent, model, &v);
}

int avp_add_group(msg_or_avp *parent, struct dict_object *model, struct avp **group)
{
	struct avp *avp = NULL;
	int ret = fd_msg_avp_new(model, 0, &avp);

	if (ret)
		return ret;
	ret = fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, avp);
	if (ret) {
		fd_msg_free(avp);
		return ret;
	}
	*group = avp;
	return 0;
}

/* Vendor-Specific-Application-Id { Vendor-Id 10415, Auth-Application-Id } */
int avp_add_vsai(struct gba_dia *dia, msg_or_avp *parent, uint32_t app_id)
{
	struct avp *g = NULL;
	int ret = avp_add_group(parent, dia->dict.vsai, &g);

	if (!ret)
		ret = avp_add_u32(g, dia->dict.vendor_id, GBA_DIA_VENDOR_3GPP);
	if (!ret)
		ret = avp_add_u32(g, dia->dict.auth_app_id, app_id);
	return ret;
}

static int matches(const struct avp_hdr *h, uint32_t code, uint32_t vendor)
{
	if (h->avp_code != code)
		return 0;
	if (vendor)
		return (h->avp_flags & AVP_FLAG_VENDOR) && h->avp_vendor == vendor;
	return !(h->avp_flags & AVP_FLAG_VENDOR);
}

struct avp_hdr *avp_find(msg_or_avp *parent, uint32_t code, uint32_t vendor, struct avp **found,
			 unsigned *count)
{
	struct avp_hdr *first = NULL;
	struct avp *child = NULL;
	unsigned n = 0;

	if (found)
		*found = NULL;
	if (fd_msg_browse(parent, MSG_BRW_FIRST_CHILD, &child, NULL))
		child = NULL;
	while (child) {
		struct avp_hdr *h = NULL;

		if (!fd_msg_avp_hdr(child, &h) && h && matches(h, code, vendor)) {
			if (!n++) {
				first = h;
				if (found)
					*found = child;
			}
		}
		if (fd_msg_browse(child, MSG_BRW_NEXT, &child, NULL))
			break;
	}
	if (count)
		*count = n;
	return first;
}

static int is_secret(const struct avp_hdr *h)
{
	if (!(h->avp_flags & AVP_FLAG_VENDOR) || h->avp_vendor != GBA_DIA_VENDOR_3GPP)
		return 0;
	switch (h->avp_code) {
	case GBA_AVP_SIP_AUTHENTICATE:      /* RAND || AUTN: kept with the keys */
	case GBA_AVP_SIP_AUTHORIZATION:     /* XRES in an MAA */
	case GBA_AVP_CONFIDENTIALITY_KEY:
	case GBA_AVP_INTEGRITY_KEY:
	case GBA_AVP_ME_KEY_MATERIAL:       /* Ks_NAF */
	case GBA_AVP_UICC_KEY_MATERIAL:     /* Ks_int_NAF */
		return 1;
	default:
		return 0;
	}
}

/*
 * For a received message the values point into freeDiameter's receive
 * buffer, so this wipes that buffer too; for one built here they are the
 * copies fd_msg_avp_setvalue made.
 */
void avp_wipe_secrets(struct msg *msg)
{
	msg_or_avp *cur = msg;

	while (!fd_msg_browse(cur, MSG_BRW_WALK, &cur, NULL) && cur) {
		struct avp_hdr *h = NULL;

		if (fd_msg_avp_hdr((struct avp *)cur, &h) || !h || !h->avp_value)
			continue;
		if (is_secret(h) && h->avp_value->os.data)
			gba_wipe(h->avp_value->os.data, h->avp_value->os.len);
	}
}
