/*
 * request.h - gba-naf's parsers of what it did not write itself: the JSON
 * body of a MAF Key Registration and the USS list of a BIA.  Apart from
 * service.c (no Zn, no key store) so that tests and fuzz targets reach them.
 */
#ifndef GBA_NAF_REQUEST_H
#define GBA_NAF_REQUEST_H

#include <stddef.h>

#include <jansson.h>

#include "keystore.h"

/* Why a request failed: the HTTP status and a short code for the JSON body. */
struct svc_error {
	int status;            /* 400, 401, 403, 404, 503, 500 */
	const char *code;      /* "btid_unknown", "not_authorized", ... */
	const char *detail;    /* one sentence for a human; never a key */
};

/*
 * A key registration body: {"suid": s, "targets": [s], "lifetime": n}
 * (and an ignored "admin_fqdn").  0: suid and target point into *root
 * (json_decref it when done), both valid names, lifetime >= 0 (0 when
 * absent).  -1: e says why; *root may still need json_decref.
 */
int svc_parse_registration(const char *body, size_t len, const char **suid,
			   const char **target, json_int_t *lifetime, json_t **root,
			   struct svc_error *e);

/* The node id in a USS list (first <uid> of a <uids>), "" when none. */
void svc_uss_node_id(const char *uss, size_t uss_len, char out[KS_ID_MAX + 1]);

#endif /* GBA_NAF_REQUEST_H */
