/*
 * zh_craft.h - Multimedia-Auth-Requests as a peer could send them,
 * well-formed or not, for the tests (test_zh_msg, zh-probe).
 */
#ifndef GBA_TESTS_ZH_CRAFT_H
#define GBA_TESTS_ZH_CRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "../../lib/diameter/src/internal.h"

struct mar_parts {
	const char *user_name;          /* NULL: no User-Name */
	size_t user_name_len;           /* 0: strlen(user_name) */
	int two_user_names;
	int no_vsai;                    /* leave out Vendor-Specific-Application-Id */
	uint32_t app_id;                /* header application; 0: Zh */
	const char *dest_host;          /* NULL: no Destination-Host */
	const char *scheme;             /* NULL: none in the item */
	const uint8_t *authorization;   /* SIP-Authorization in the item; NULL: none */
	size_t authorization_len;
	int no_item;                    /* no SIP-Auth-Data-Item */
	int two_items;
};

/* The MAR described, or NULL when freeDiameter refuses to build it. */
struct msg *zh_craft_mar(struct gba_dia *dia, const struct mar_parts *p);

#endif
