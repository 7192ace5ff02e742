/*
 * zn.h - the BSF's Zn server: answers Bootstrapping-Info-Requests from NAFs
 * (TS 29.109 clause 5, application 16777220) from the session store, on
 * the process's Diameter node.  See docs/zn.md.
 *
 * For a BIR from peer P for B-TID T and NAF_Id = FQDN || Ua id:
 *   P may not ask for FQDN (zn.nafs)                -> 5402
 *   T unknown or expired                            -> 5403
 *   no USS of the user's GUSS for this NAF, under
 *   zn.policy = guss                                -> 5402
 *   else User-Name, Ks_NAF (GBA_ME) or Ks_ext_NAF (GBA_U) as ME-Key-Material,
 *   Ks_int_NAF as UICC-Key-Material when the session is GBA_U and the NAF
 *   said GBA_U-Awareness-Indicator YES, Key-ExpiryTime, BootstrapInfo-
 *   CreationTime, GBA-Type 3G, and the NAF's USSs.
 */
#ifndef GBA_BSF_ZN_H
#define GBA_BSF_ZN_H

#include <gba/diameter.h>
#include <gba/diameter_zn.h>
#include <gba/session_store.h>

#include "gba_log.h"
#include "../metrics.h"

enum zn_policy_kind {
	ZN_POLICY_GUSS = 0,    /* the user's GUSS must have a USS for the NAF */
	ZN_POLICY_ALLOW = 1,   /* an authorised peer gets keys, USS or not */
};

struct zn_server_config {
	const char *nafs;          /* zn.nafs (zn_policy.h); may be "" */
	const char *naf_groups;    /* zn.naf_groups; may be "" */
	enum zn_policy_kind policy;
};

struct zn_server;

/*
 * Register the BIR handler on dia (opened with GBA_DIA_ZN, not started;
 * NULL: no Diameter, for the HTTP front end alone).
 * The store, metrics and log must outlive the server.  -1 with a message
 * in err for a bad list or a node that refuses.
 */
int zn_server_open(struct zn_server **out, struct gba_dia *dia, const struct zn_server_config *cfg,
		   struct gba_session_store *store, struct bsf_metrics *metrics,
		   const struct gba_log *log, char *err, size_t err_size);

/*
 * One BIR, whatever carried it (Diameter, or the HTTP front end of
 * zn_http.h): the checks and the answer described above.  bir->peer is
 * the authenticated requester.  Thread-safe.
 */
gba_err zn_server_answer(struct zn_server *z, const struct gba_zn_bir *bir,
			 struct gba_zn_bia *bia);

/* After the node is closed (freeDiameter calls the handler until then). */
void zn_server_free(struct zn_server *z);

#endif /* GBA_BSF_ZN_H */
