/*
 * gba/ubxml.h - the Ub response body: BootstrappingInfo (TS 24.109 Annex C,
 * namespace "uri:3gpp-gba", media type application/vnd.3gpp.bsf+xml).
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <BootstrappingInfo xmlns="uri:3gpp-gba">
 *     <btid>B-TID</btid>
 *     <lifetime>2026-11-24T10:15:00Z</lifetime>
 *   </BootstrappingInfo>
 *
 * The parser uses libxml2 with no network access, no DTD loading, no
 * entity expansion (documents with a DOCTYPE are refused) and a size limit.
 * Unknown elements and attributes are ignored; the namespace is checked.
 */
#ifndef GBA_UBXML_H
#define GBA_UBXML_H

#include <stddef.h>
#include <time.h>

#include <gba/error.h>
#include <gba/kdf.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GBA_UBXML_NS        "uri:3gpp-gba"
#define GBA_UBXML_MEDIA     "application/vnd.3gpp.bsf+xml"
#define GBA_UBXML_MAX       16384  /* largest document parsed */
#define GBA_XS_DATETIME_MAX 40     /* room for any xs:dateTime we print */

struct gba_bootstrapping_info {
	char btid[GBA_BTID_MAX + 1];
	time_t lifetime;         /* seconds since the epoch, UTC */
};

/* Build the document, NUL-terminated.  The B-TID is escaped for XML. */
gba_err gba_ubxml_build(char *out, size_t out_size, size_t *out_len,
			const char *btid, size_t btid_len, time_t lifetime);

/*
 * Parse a document.  GBA_ERR_TOO_LARGE over GBA_UBXML_MAX, GBA_ERR_PARSE
 * when not well-formed, not BootstrappingInfo in uri:3gpp-gba, or btid or
 * lifetime is missing/duplicated; GBA_ERR_BAD_TIME for a bad lifetime.
 */
gba_err gba_ubxml_parse(const char *xml, size_t len,
			struct gba_bootstrapping_info *out);

/* xs:dateTime in UTC with 'Z', e.g. 2026-11-24T10:15:00Z. */
gba_err gba_xs_datetime_format(char *out, size_t out_size, time_t t);

/*
 * Parse xs:dateTime: YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm).  A value
 * without a zone is refused (it would be ambiguous).  Fractions are
 * truncated.
 */
gba_err gba_xs_datetime_parse(const char *s, size_t len, time_t *t);

#ifdef __cplusplus
}
#endif
#endif /* GBA_UBXML_H */
