/*
 * zn_uss.h - the USS list a BIA carries: the <uss> elements of the user's
 * GUSS (TS 29.109 Annex A) that concern the asking NAF, copied into a
 * <ussList xmlns="uri:3gpp-gba"> document.
 *
 * A <uss> concerns the NAF when its nafGroup attribute names the NAF's
 * FQDN or a zn.naf_groups group listing it, or (no nafGroup) when its
 * type attribute equals the BIR's GAA-Service-Identifier.  Its <uids>
 * (the oneM2M CSE-ID / AE-ID, docs/zn.md) and <flags> travel unchanged.
 */
#ifndef GBA_BSF_ZN_USS_H
#define GBA_BSF_ZN_USS_H

#include <stddef.h>

#include <gba/error.h>

#include "zn_policy.h"

/*
 * Select into out (NUL-terminated; *out_len 0 and out "" when none
 * matched); *matched counts the USSs copied.  GBA_ERR_PARSE for a GUSS
 * that is not well-formed XML (or has a DOCTYPE), GBA_ERR_TOO_LARGE when
 * the list does not fit.  guss_len 0: no GUSS, nothing matches.
 */
gba_err zn_uss_select(const char *guss, size_t guss_len, const struct zn_policy *p,
		      const char *fqdn, size_t fqdn_len, const char *service,
		      char *out, size_t out_size, size_t *out_len, unsigned *matched);

#endif /* GBA_BSF_ZN_USS_H */
