/*
 * zn_nbsp_uss.h - the USS list of a BIA (zn_uss.h's <ussList> document) as
 * Nbsp_GBA's ussList (TS 29.309; shared/spec/interop.md section 3):
 *
 *   <uss id="I" type="T" nafGroup="G">                 {"uss": {"gsId": "I", "gsType": "T",
 *     <uids><uid>U</uid>...</uids>                        "nafGroup": "G",
 *     <flags><flag>F</flag>...</flags>                    "ueIds": [{"ueId": "U"}, ...],
 *   </uss>                                                "flags": [{"flag": F}, ...]}}
 *
 * Attributes and children that are absent stay absent; a flag that is not
 * a decimal uint32 is left out.  libgba-naf turns it back into the XML.
 */
#ifndef GBA_BSF_ZN_NBSP_USS_H
#define GBA_BSF_ZN_NBSP_USS_H

#include <stddef.h>

#include <gba/error.h>
#include <jansson.h>

/*
 * The JSON array for the document xml (xml_len octets; 0: an empty array)
 * into *out (a new reference).  GBA_ERR_PARSE for XML that is not a
 * well-formed <ussList> (or has a DOCTYPE), GBA_ERR_NO_MEMORY.
 */
gba_err zn_nbsp_uss_list(const char *xml, size_t xml_len, json_t **out);

#endif /* GBA_BSF_ZN_NBSP_USS_H */
