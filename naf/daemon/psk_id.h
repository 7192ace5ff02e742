/*
 * psk_id.h - who a TLS-PSK psk_identity names.
 *
 *   <B-TID>                          a node, KmID = B-TID (oneM2M TS-0003 8.3.2.3)
 *   3GPP-bootstrapping.<B-TID>       a node: PSK = Ks_NAF or Ks_ext_NAF (TS 33.222;
 *                                    '.' as TS 36.508 Table 4.7H-5; ',' or no
 *                                    separator are accepted as well)
 *   3GPP-bootstrapping-uicc.<B-TID>  a node: PSK = Ks_int_NAF (same separators)
 *   oneM2M-target,<CSE-ID>           a target CSE with a PSK configured in gba-naf
 *
 * "3GPP-bootstrapping-digest" (GBA_Digest) and anything else is refused
 * (the handshake then ends with the unknown_psk_identity alert).  A B-TID
 * must parse as base64(RAND) "@" domain.
 */
#ifndef GBA_NAF_PSK_ID_H
#define GBA_NAF_PSK_ID_H

#include <stddef.h>

enum psk_who {
	PSK_BAD = 0,
	PSK_NODE,          /* Km = Ks_(ext)_NAF */
	PSK_NODE_UICC,     /* Km = Ks_int_NAF */
	PSK_TARGET,
};

struct psk_id {
	enum psk_who who;
	const char *name;  /* the B-TID or CSE-ID: a pointer into the identity */
	size_t name_len;
	const char *why;   /* for PSK_BAD: a short reason for the log */
};

struct psk_id psk_id_parse(const char *identity);

/* A CSE-ID/AE-ID, SUID or similar: 1..max printable ASCII, no space, '"' or '\'. */
int psk_id_valid_name(const char *s, size_t len, size_t max);

#endif /* GBA_NAF_PSK_ID_H */
