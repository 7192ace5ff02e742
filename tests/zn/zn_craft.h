/*
 * zn_craft.h - Bootstrapping-Info-Requests as a peer could send them,
 * well-formed or not, for zn-probe's raw command.
 */
#ifndef GBA_TESTS_ZN_CRAFT_H
#define GBA_TESTS_ZN_CRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "../../lib/diameter/src/internal.h"

struct bir_parts {
	const char *btid;               /* NULL: no Transaction-Identifier */
	size_t btid_len;                /* 0: strlen(btid) */
	int two_btids;
	const uint8_t *naf_id;          /* NULL: no NAF-Id */
	size_t naf_id_len;
	int no_vsai;
	int aware;                      /* -1: no GBA_U-Awareness-Indicator; else its value */
	const char *dest_realm;
	const char *dest_host;          /* NULL: none */
};

/* The BIR described, or NULL when freeDiameter refuses to build it. */
struct msg *zn_craft_bir(struct gba_dia *dia, const struct bir_parts *p);

#endif
