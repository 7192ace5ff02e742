/*
 * gba_conf_names.c - choices that several programs' files share: the AKA
 * algorithm of a card (the simulator's profile, the client's soft card)
 * and TUAK's RES length (TS 35.231: 4, 8 or 16 octets); the daemons' log
 * level.
 */
#include "gba_conf.h"

const struct gba_conf_name gba_conf_algorithm_names[] = {
	{ "milenage", GBA_CONF_MILENAGE },
	{ "tuak", GBA_CONF_TUAK },
	{ NULL, 0 },
};

const struct gba_conf_name gba_conf_res_len_names[] = {
	{ "4", 4 },
	{ "8", 8 },
	{ "16", 16 },
	{ NULL, 0 },
};

/* The values of enum gba_log_level (lib/daemon/gba_log.h, which fixes them). */
const struct gba_conf_name gba_conf_log_level_names[] = {
	{ "debug", 0 },
	{ "info", 1 },
	{ "warn", 2 },
	{ "error", 3 },
	{ NULL, 0 },
};
