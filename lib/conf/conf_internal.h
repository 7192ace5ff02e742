/*
 * conf_internal.h - what the reader (gba_conf_read.c) and the typed values
 * (gba_conf_value.c) share.
 */
#ifndef GBA_CONF_INTERNAL_H
#define GBA_CONF_INTERNAL_H

#include "gba_conf.h"

/* value into k's field of obj; -1 with the reason (no key name) in why. */
int conf_set_value(const struct gba_conf_key *k, void *obj, const char *value, char *why,
		   size_t why_size);

/* Longer key names are cut in messages (with "..."). */
#define CONF_NAME_SHOWN 64

/* "section.key", or "key" without a section. */
void conf_key_name(char *out, size_t size, const char *section, const char *key);

#endif /* GBA_CONF_INTERNAL_H */
